//! Tests of the rtnetlink address messages. The expected messages are
//! written by hand from the uapi layout (`nlmsghdr`, `ifaddrmsg`, `rtattr`);
//! the header and attribute fields are host order, so the byte-exact ones
//! are written for little-endian hosts.

use super::*;
use crate::wire::netlink::{ErrorRepr, Messages, NLMSG_ERROR};
use proptest::prelude::*;
use std::string::ToString;
use std::vec::Vec;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));

fn vip_add() -> AddressRequest<'static> {
    AddressRequest {
        broadcast: Some(Ipv4Addr::new(10, 0, 0, 255)),
        label: Some("eth0:vip"),
        ..AddressRequest::new(Operation::Add, V4, 24, 2, 1)
    }
}

fn emit(req: &AddressRequest<'_>) -> Vec<u8> {
    let mut buf = [0xAAu8; MAX_REQUEST_LEN];
    let n = req.emit(&mut buf).unwrap();
    assert_eq!(n, req.buffer_len());
    assert!(n <= MAX_REQUEST_LEN);
    buf[..n].to_vec()
}

#[cfg(target_endian = "little")]
#[test]
fn add_ipv4_with_broadcast_and_label() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        // nlmsghdr: len 56, RTM_NEWADDR, REQUEST|ACK, seq 1, pid 0
        56, 0, 0, 0,  20, 0,  5, 0,  1, 0, 0, 0,  0, 0, 0, 0,
        // ifaddrmsg: AF_INET, /24, flags 0, scope 0, index 2
        2, 24, 0, 0,  2, 0, 0, 0,
        // IFA_LOCAL 10.0.0.1
        8, 0, 2, 0,  10, 0, 0, 1,
        // IFA_BROADCAST 10.0.0.255
        8, 0, 4, 0,  10, 0, 0, 255,
        // IFA_LABEL "eth0:vip\0" (len 13) + 3 bytes padding
        13, 0, 3, 0,  b'e', b't', b'h', b'0', b':', b'v', b'i', b'p', 0,  0, 0, 0,
    ];
    assert_eq!(emit(&vip_add()), expected);
}

#[cfg(target_endian = "little")]
#[test]
fn delete_ipv4() {
    let req = AddressRequest {
        operation: Operation::Delete,
        sequence: 2,
        ..vip_add()
    };
    #[rustfmt::skip]
    let expected: &[u8] = &[
        // nlmsghdr: len 40, RTM_DELADDR, REQUEST|ACK, seq 2, pid 0
        40, 0, 0, 0,  21, 0,  5, 0,  2, 0, 0, 0,  0, 0, 0, 0,
        2, 24, 0, 0,  2, 0, 0, 0,
        // IFA_LOCAL 10.0.0.1
        8, 0, 2, 0,  10, 0, 0, 1,
        // IFA_ADDRESS 10.0.0.1 (keepalived's v4 delete); no brd, label, flags
        8, 0, 1, 0,  10, 0, 0, 1,
    ];
    assert_eq!(emit(&req), expected);
}

#[cfg(target_endian = "little")]
#[test]
fn add_ipv6_nodad() {
    let req = AddressRequest {
        scope: 253,
        ..AddressRequest::new(Operation::Add, V6, 64, 2, 3)
    };
    #[rustfmt::skip]
    let expected: &[u8] = &[
        // nlmsghdr: len 52, RTM_NEWADDR, REQUEST|ACK, seq 3, pid 0
        52, 0, 0, 0,  20, 0,  5, 0,  3, 0, 0, 0,  0, 0, 0, 0,
        // ifaddrmsg: AF_INET6, /64, flags NODAD (low byte), scope link, index 2
        10, 64, 2, 253,  2, 0, 0, 0,
        // IFA_LOCAL fe80::1
        20, 0, 2, 0,  0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        // IFA_FLAGS NODAD
        8, 0, 8, 0,  2, 0, 0, 0,
    ];
    assert_eq!(emit(&req), expected);
}

#[cfg(target_endian = "little")]
#[test]
fn add_ipv6_preferred_lifetime_keep_dad_and_delete() {
    let req = AddressRequest {
        keep_dad: true,
        preferred_lifetime: Some(0),
        ..AddressRequest::new(Operation::Add, V6, 64, 2, 4)
    };
    let bytes = emit(&req);
    assert_eq!(bytes.len(), 16 + 8 + 20 + 20);
    // IFA_CACHEINFO first: preferred 0, valid ∞, stamps 0.
    assert_eq!(
        &bytes[24..44],
        &[
            20, 0, 6, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0
        ]
    );
    assert_eq!(&bytes[44..48], &[20, 0, 2, 0]);
    assert_eq!(bytes[18], 0, "no NODAD with keep_dad");

    let del = AddressRequest {
        operation: Operation::Delete,
        ..req
    };
    let bytes = emit(&del);
    assert_eq!(bytes.len(), 16 + 8 + 20, "v6 delete: IFA_LOCAL only");
}

#[test]
fn peer_and_extra_flags() {
    let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let req = AddressRequest {
        peer: Some(peer),
        flags: IFA_F_NOPREFIXROUTE,
        ..AddressRequest::new(Operation::Add, V4, 32, 5, 9)
    };
    let bytes = emit(&req);
    let msg = netlink::Packet::new_checked(&bytes[..]).unwrap();
    let repr = AddressRepr::parse(&msg).unwrap();
    assert_eq!(repr.local, Some(V4));
    assert_eq!(repr.address, Some(peer));
    assert_eq!(repr.flags, IFA_F_NOPREFIXROUTE);
    let del = AddressRequest {
        operation: Operation::Delete,
        ..req
    };
    let bytes = emit(&del);
    let repr = AddressRepr::parse(&netlink::Packet::new_checked(&bytes[..]).unwrap()).unwrap();
    assert_eq!(repr.address, Some(peer), "delete names the peer");
    assert_eq!(repr.flags, 0);
}

#[test]
fn emitted_requests_parse_back() {
    let v6 = AddressRequest {
        scope: 253,
        ..AddressRequest::new(Operation::Add, V6, 64, 2, 3)
    };
    for req in [
        vip_add(),
        AddressRequest {
            operation: Operation::Delete,
            ..vip_add()
        },
        v6,
    ] {
        let bytes = emit(&req);
        let msg = netlink::Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(msg.flags(), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(msg.sequence(), req.sequence);
        let repr = AddressRepr::parse(&msg).unwrap();
        assert_eq!(repr.operation, req.operation);
        assert_eq!(repr.local, Some(req.address));
        assert_eq!(repr.prefix_len, req.prefix_len);
        assert_eq!(repr.ifindex, req.ifindex);
        assert_eq!(repr.scope, req.scope);
        assert_eq!(repr.flags, req.effective_flags());
        if req.operation == Operation::Add {
            assert_eq!(repr.label, req.label);
            assert_eq!(repr.broadcast, req.broadcast);
        }
    }
}

#[test]
fn emit_refuses_bad_requests() {
    let cases = [
        (
            AddressRequest {
                prefix_len: 33,
                ..vip_add()
            },
            Error::PrefixLen(33),
        ),
        (
            AddressRequest::new(Operation::Add, V6, 129, 1, 0),
            Error::PrefixLen(129),
        ),
        (
            AddressRequest {
                peer: Some(V6),
                ..vip_add()
            },
            Error::AddressFamily,
        ),
        (
            AddressRequest {
                broadcast: Some(Ipv4Addr::BROADCAST),
                ..AddressRequest::new(Operation::Add, V6, 64, 1, 0)
            },
            Error::AddressFamily,
        ),
        (
            AddressRequest {
                label: Some(""),
                ..vip_add()
            },
            Error::Label,
        ),
        (
            AddressRequest {
                label: Some("0123456789abcdef"),
                ..vip_add()
            },
            Error::Label,
        ),
        (
            AddressRequest {
                label: Some("eth\0x"),
                ..vip_add()
            },
            Error::Label,
        ),
        (
            AddressRequest {
                label: Some("eth0"),
                ..AddressRequest::new(Operation::Add, V6, 64, 1, 0)
            },
            Error::Label,
        ),
    ];
    for (req, err) in cases {
        assert_eq!(req.emit(&mut [0u8; MAX_REQUEST_LEN]), Err(err), "{req:?}");
    }
    // A 15-byte label is the longest.
    let long = AddressRequest {
        label: Some("0123456789abcde"),
        ..vip_add()
    };
    assert!(long.emit(&mut [0u8; MAX_REQUEST_LEN]).is_ok());
    // Every buffer shorter than the message is refused, never a panic.
    let need = vip_add().buffer_len();
    for n in 0..need {
        assert_eq!(
            vip_add().emit(&mut vec_of(n)),
            Err(Error::BufferTooSmall(need))
        );
    }
}

fn vec_of(n: usize) -> Vec<u8> {
    std::vec![0u8; n]
}

#[test]
fn dump_request() {
    let mut buf = [0u8; DUMP_REQUEST_LEN];
    assert_eq!(
        emit_dump_request(AF_INET6, 7, &mut buf),
        Ok(DUMP_REQUEST_LEN)
    );
    let msg = netlink::Packet::new_checked(&buf[..]).unwrap();
    assert_eq!(msg.message_type(), RTM_GETADDR);
    assert_eq!(msg.flags(), NLM_F_REQUEST | NLM_F_DUMP);
    assert_eq!(msg.payload()[0], AF_INET6);
    assert!(emit_dump_request(AF_INET, 7, &mut [0u8; 23]).is_err());
}

#[test]
fn failure_names_address_and_interface() {
    let f = vip_add().failure("eth0", 17);
    assert_eq!(
        f.to_string(),
        "cannot add 10.0.0.1/24 on eth0 (ifindex 2): address already exists (EEXIST)"
    );
    let del = AddressRequest {
        operation: Operation::Delete,
        ..vip_add()
    };
    assert_eq!(
        del.failure("eth0", 4242).to_string(),
        "cannot delete 10.0.0.1/24 on eth0 (ifindex 2): errno 4242"
    );
}

/// An RTM_NEWADDR notification as the kernel sends it for
/// `ip addr add 10.0.0.1/24 brd + dev eth0 label eth0:vip` (index 2):
/// ADDRESS, LOCAL, BROADCAST, LABEL, FLAGS, CACHEINFO, plus an unknown
/// attribute 11 (IFA_RT_PRIORITY-like) that must be skipped.
fn notification() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&[AF_INET, 24, 0x80, 0]);
    body.extend_from_slice(&2u32.to_ne_bytes());
    let mut attr = |kind: u16, value: &[u8]| {
        let mut b = [0u8; 64];
        let n = netlink::emit_attribute(&mut b, kind, value).unwrap();
        body.extend_from_slice(&b[..n]);
    };
    attr(IFA_ADDRESS, &[10, 0, 0, 1]);
    attr(IFA_LOCAL, &[10, 0, 0, 1]);
    attr(IFA_BROADCAST, &[10, 0, 0, 255]);
    attr(IFA_LABEL, b"eth0:vip\0");
    attr(IFA_FLAGS, &IFA_F_PERMANENT.to_ne_bytes());
    let mut ci = Vec::new();
    for w in [u32::MAX, u32::MAX, 100, 200] {
        ci.extend_from_slice(&w.to_ne_bytes());
    }
    attr(IFA_CACHEINFO, &ci);
    attr(11, &[1, 2, 3]);
    let mut msg = Vec::new();
    msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    msg.extend_from_slice(&RTM_NEWADDR.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&body);
    msg
}

#[test]
fn parse_notification() {
    let msg = notification();
    let packet = netlink::Packet::new_checked(&msg[..]).unwrap();
    let repr = AddressRepr::parse(&packet).unwrap();
    assert_eq!(
        repr,
        AddressRepr {
            operation: Operation::Add,
            family: Family::Ipv4,
            prefix_len: 24,
            flags: IFA_F_PERMANENT,
            scope: 0,
            ifindex: 2,
            local: Some(V4),
            address: Some(V4),
            broadcast: Some(Ipv4Addr::new(10, 0, 0, 255)),
            label: Some("eth0:vip"),
            cache_info: Some(CacheInfo {
                preferred: u32::MAX,
                valid: u32::MAX,
                created: 100,
                updated: 200
            }),
        }
    );
    assert_eq!(repr.local_address(), Some(V4));
}

#[test]
fn parse_refuses_malformed() {
    let good = notification();
    // Not an address message.
    let mut other = good.clone();
    other[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
    let p = netlink::Packet::new_checked(&other[..]).unwrap();
    assert_eq!(AddressRepr::parse(&p), Err(Error::MessageType(NLMSG_ERROR)));
    // Truncated at every length: the framing or the ifaddrmsg or an attribute.
    for n in 0..good.len() {
        let mut cut = good[..n].to_vec();
        if n >= 4 {
            cut[..4].copy_from_slice(&(n as u32).to_ne_bytes());
        }
        let r = netlink::Packet::new_checked(&cut[..])
            .map_err(Error::from)
            .and_then(|p| AddressRepr::parse(&p));
        // Before the first attribute, or inside an attribute's header or
        // value, it is an error; cut in padding or between attributes, the
        // shorter message is still well-formed.
        let inside = n < 24
            || [24..32, 32..40, 40..48, 48..61, 64..72, 72..92, 92..99]
                .iter()
                .any(|r| r.start < n && n < r.end);
        assert_eq!(r.is_err(), inside, "{n}: {r:?}");
    }
    // nlmsg_len larger than the buffer.
    let mut long = good.clone();
    long[..4].copy_from_slice(&(good.len() as u32 + 4).to_ne_bytes());
    assert_eq!(
        netlink::Packet::new_checked(&long[..]).unwrap_err(),
        netlink::Error::Truncated
    );
    // IFA_LOCAL of the wrong size.
    let mut bad = good.clone();
    bad[32..34].copy_from_slice(&6u16.to_ne_bytes()); // second attribute (LOCAL) at 32
    let p = netlink::Packet::new_checked(&bad[..]).unwrap();
    assert!(AddressRepr::parse(&p).is_err());
    // Attribute lengths 0, 2 and huge.
    for len in [0u16, 2, 0xffff] {
        let mut bad = good.clone();
        bad[24..26].copy_from_slice(&len.to_ne_bytes());
        let p = netlink::Packet::new_checked(&bad[..]).unwrap();
        let err = AddressRepr::parse(&p).unwrap_err();
        assert!(matches!(err, Error::Netlink(_)), "{len}: {err:?}");
    }
    // Label that is not UTF-8.
    assert_eq!(
        AddressRepr::parse_payload(
            Operation::Add,
            &[2, 24, 0, 0, 2, 0, 0, 0, 6, 0, 3, 0, 0xff, 0, 0, 0]
        ),
        Err(Error::Label)
    );
    for n in 0..IFADDRMSG_LEN {
        assert_eq!(
            AddressRepr::parse_payload(Operation::Add, &[0; 8][..n]),
            Err(Error::Truncated)
        );
    }
}

#[test]
fn ack_for_a_request() {
    let req = vip_add();
    let sent = emit(&req);
    // The kernel's ack: NLMSG_ERROR, error 0, the request header echoed.
    let mut ack = Vec::new();
    ack.extend_from_slice(&36u32.to_ne_bytes());
    ack.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
    ack.extend_from_slice(&0x100u16.to_ne_bytes());
    ack.extend_from_slice(&req.sequence.to_ne_bytes());
    ack.extend_from_slice(&0u32.to_ne_bytes());
    ack.extend_from_slice(&0i32.to_ne_bytes());
    ack.extend_from_slice(&sent[..16]);
    let msg = Messages::new(&ack).next().unwrap().unwrap();
    let e = ErrorRepr::parse(msg.payload()).unwrap();
    assert!(e.is_ack());
    assert_eq!(e.request.sequence, req.sequence);
    assert_eq!(e.request.message_type, RTM_NEWADDR);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, .. ProptestConfig::default() })]

    #[test]
    fn parse_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for m in Messages::new(&bytes).flatten() {
            let _ = AddressRepr::parse(&m);
        }
        let _ = AddressRepr::parse_payload(Operation::Delete, &bytes);
    }

    #[test]
    fn parse_mutated_notification_never_panics(
        edits in proptest::collection::vec((0usize..200, any::<u8>()), 1..8),
        cut in 0usize..200,
    ) {
        let mut msg = notification();
        for (at, v) in edits {
            if let Some(b) = msg.get_mut(at) { *b = v; }
        }
        msg.truncate(cut.max(1));
        for m in Messages::new(&msg).flatten() {
            let _ = AddressRepr::parse(&m);
        }
    }

    #[test]
    fn requests_round_trip(
        a in any::<[u8; 4]>(), p in 0u8..=32, idx in any::<u32>(), seq in any::<u32>(),
        scope in any::<u8>(), del in any::<bool>(), label in "[a-z0-9:]{1,15}",
    ) {
        let req = AddressRequest {
            label: Some(label.as_str()),
            scope,
            ..AddressRequest::new(
                if del { Operation::Delete } else { Operation::Add },
                IpAddr::V4(Ipv4Addr::from(a)), p, idx, seq)
        };
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let n = req.emit(&mut buf).unwrap();
        let m = netlink::Packet::new_checked(&buf[..n]).unwrap();
        let r = AddressRepr::parse(&m).unwrap();
        prop_assert_eq!(r.local, Some(req.address));
        prop_assert_eq!(r.ifindex, idx);
        prop_assert_eq!(m.sequence(), seq);
        prop_assert_eq!(r.label, if del { None } else { Some(label.as_str()) });
    }
}
