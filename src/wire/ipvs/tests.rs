//! Requests byte by byte, round trips through the parsers, replies as the
//! kernel builds them (`ip_vs_genl_fill_service` / `_dest`: statistics
//! nests, attributes picket does not know), and hostile replies.

use super::*;
use crate::wire::netlink::{Packet, emit_attribute};
use proptest::prelude::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

const FAMILY: u16 = 0x1d;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn web() -> ServiceRepr {
    ServiceRepr {
        key: ServiceKey::Addr {
            protocol: IPPROTO_TCP,
            addr: v4(192, 168, 200, 10),
            port: 80,
        },
        scheduler: Name::new(b"wlc").unwrap(),
        pe_name: Name::EMPTY,
        flags: SVC_F_PERSISTENT,
        timeout: 300,
        netmask: 0xffff_ff00,
    }
}

/// The attributes of `request`'s nest `kind`.
fn nest_of(msg: &[u8], kind: u16) -> Vec<u8> {
    let p = Packet::new_checked(msg).unwrap();
    let (_, attrs) = Header::split(p.payload()).unwrap();
    Attributes::new(attrs)
        .map(Result::unwrap)
        .find(|a| a.kind() == kind)
        .map(|a| a.value.to_vec())
        .unwrap()
}

fn emit(r: &Request<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_REQUEST_LEN];
    let n = r.emit(FAMILY, 77, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn new_service_bytes() {
    let s = web();
    let m = emit(&Request::NewService(&s));
    let p = Packet::new_checked(&m[..]).unwrap();
    assert_eq!(p.message_type(), FAMILY);
    assert_eq!(p.flags(), NLM_F_REQUEST | NLM_F_ACK);
    assert_eq!(p.sequence(), 77);
    let mut want: Vec<u8> = vec![CMD_NEW_SERVICE, 1, 0, 0];
    let nest_len: u16 = 4 + 8 + 8 + 20 + 8 + 8 + 12 + 8 + 8;
    want.extend_from_slice(&nest_len.to_ne_bytes());
    want.extend_from_slice(&CMD_ATTR_SERVICE.to_ne_bytes());
    let mut a = [0u8; 32];
    for (kind, value) in [
        (SVC_ATTR_AF, &AF_INET.to_ne_bytes()[..]),
        (SVC_ATTR_PROTOCOL, &IPPROTO_TCP.to_ne_bytes()[..]),
        (
            SVC_ATTR_ADDR,
            &[192, 168, 200, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
        ),
        (SVC_ATTR_PORT, &[0, 80][..]),
        (SVC_ATTR_SCHED_NAME, &b"wlc\0"[..]),
        (
            SVC_ATTR_FLAGS,
            &[1u32.to_ne_bytes(), u32::MAX.to_ne_bytes()].concat()[..],
        ),
        (SVC_ATTR_TIMEOUT, &300u32.to_ne_bytes()[..]),
        (SVC_ATTR_NETMASK, &[255, 255, 255, 0][..]),
    ] {
        let n = emit_attribute(&mut a, kind, value).unwrap();
        want.extend_from_slice(&a[..n]);
    }
    assert_eq!(p.payload(), &want[..]);
    assert_eq!(ServiceRepr::parse(&nest_of(&m, CMD_ATTR_SERVICE)), Ok(s));
}

#[test]
fn services_round_trip() {
    let mut fwm6 = web();
    fwm6.key = ServiceKey::Fwmark {
        family: AF_INET6,
        mark: 7,
    };
    fwm6.netmask = 64;
    fwm6.scheduler = Name::new(b"mh").unwrap();
    fwm6.flags = SVC_F_PERSISTENT | SVC_F_SCHED1 | SVC_F_SCHED2;
    let mut v6 = web();
    v6.key = ServiceKey::Addr {
        protocol: IPPROTO_SCTP,
        addr: "2001:db8::10".parse().unwrap(),
        port: 443,
    };
    v6.netmask = 128;
    v6.timeout = 0;
    v6.flags = 0;
    let mut sip = web();
    sip.key = ServiceKey::Addr {
        protocol: IPPROTO_UDP,
        addr: v4(10, 0, 0, 1),
        port: 5060,
    };
    sip.pe_name = Name::new(b"sip").unwrap();
    sip.flags = SVC_F_PERSISTENT | SVC_F_ONEPACKET;
    for s in [web(), fwm6, v6, sip] {
        for r in [Request::NewService(&s), Request::SetService(&s)] {
            let m = emit(&r);
            assert_eq!(ServiceRepr::parse(&nest_of(&m, CMD_ATTR_SERVICE)), Ok(s));
            // A dump reply carries the same nest under NEW_SERVICE.
            let p = Packet::new_checked(&m[..]).unwrap();
            let mut payload = p.payload().to_vec();
            payload[0] = CMD_NEW_SERVICE;
            assert_eq!(Reply::parse(&payload, 0), Ok(Reply::Service(s)));
        }
        let k = emit(&Request::DelService(s.key));
        let nest = nest_of(&k, CMD_ATTR_SERVICE);
        // A key alone lacks the scheduler.
        assert_eq!(
            ServiceRepr::parse(&nest),
            Err(Error::MissingAttribute(
                CMD_ATTR_SERVICE,
                SVC_ATTR_SCHED_NAME
            ))
        );
    }
}

#[test]
fn dests_round_trip() {
    let s = web();
    let nat = DestRepr {
        upper_threshold: 100,
        lower_threshold: 10,
        ..DestRepr::new(v4(192, 168, 201, 100), 8080, CONN_F_MASQ, 3)
    };
    let tun6 = DestRepr {
        tunnel_type: TUNNEL_TYPE_GUE,
        tunnel_port: 6080,
        tunnel_flags: TUNNEL_ENCAP_FLAG_REMCSUM,
        ..DestRepr::new("2001:db8::5".parse().unwrap(), 80, CONN_F_TUNNEL, 0)
    };
    let dr = DestRepr::new(v4(10, 1, 1, 1), 80, CONN_F_DROUTE, i32::MAX);
    for d in [nat, tun6, dr] {
        for r in [Request::NewDest(s.key, &d), Request::SetDest(s.key, &d)] {
            let m = emit(&r);
            assert_eq!(DestRepr::parse(&nest_of(&m, CMD_ATTR_DEST), AF_INET), Ok(d));
            assert!(
                ServiceRepr::parse(&nest_of(&m, CMD_ATTR_SERVICE)).is_err(),
                "key only"
            );
        }
        let del = emit(&Request::DelDest(s.key, &d));
        assert_eq!(
            DestRepr::parse(&nest_of(&del, CMD_ATTR_DEST), AF_INET),
            Err(Error::MissingAttribute(CMD_ATTR_DEST, DEST_ATTR_FWD_METHOD))
        );
    }
    assert!(nat.same_settings(&DestRepr {
        active_conns: 9,
        ..nat
    }));
    assert!(!nat.same_settings(&DestRepr { weight: 4, ..nat }));
    // Tunnel fields matter only with TUN.
    assert!(dr.same_settings(&DestRepr {
        tunnel_port: 1,
        ..dr
    }));
    assert!(!tun6.same_settings(&DestRepr {
        tunnel_port: 1,
        ..tun6
    }));
}

#[test]
fn requests_flags_and_sizes() {
    let s = web();
    let d = DestRepr::new("2001:db8::5".parse().unwrap(), 80, CONN_F_TUNNEL, 1);
    let all = [
        Request::NewService(&s),
        Request::SetService(&s),
        Request::DelService(s.key),
        Request::NewDest(s.key, &d),
        Request::SetDest(s.key, &d),
        Request::DelDest(s.key, &d),
        Request::GetServices,
        Request::GetDests(s.key),
        Request::GetInfo,
        Request::Flush,
        Request::SetTimeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        },
        Request::GetTimeouts,
    ];
    for r in all {
        let m = emit(&r);
        assert!(m.len() <= MAX_REQUEST_LEN);
        let p = Packet::new_checked(&m[..]).unwrap();
        assert_eq!(p.len() as usize, m.len());
        assert_eq!(p.payload()[0], r.command());
        let want_flags = match r {
            Request::GetServices | Request::GetDests(_) => NLM_F_REQUEST | NLM_F_DUMP,
            Request::GetInfo | Request::GetTimeouts => NLM_F_REQUEST,
            _ => NLM_F_REQUEST | NLM_F_ACK,
        };
        assert_eq!(p.flags(), want_flags);
        // Too small a buffer: an error, at every size.
        for n in 0..m.len() {
            let mut small = vec![0u8; n];
            assert!(r.emit(FAMILY, 1, &mut small).is_err(), "{r:?} in {n}");
        }
    }
}

/// A dump reply as the kernel builds it: the service nest with a stats
/// nest, a stats64 nest and an attribute picket does not know.
fn kernel_service_reply() -> Vec<u8> {
    let mut nest = Vec::new();
    let mut a = [0u8; 64];
    let mut put = |nest: &mut Vec<u8>, kind: u16, value: &[u8]| {
        let n = emit_attribute(&mut a, kind, value).unwrap();
        nest.extend_from_slice(&a[..n]);
    };
    put(&mut nest, SVC_ATTR_AF, &AF_INET.to_ne_bytes());
    put(&mut nest, SVC_ATTR_PROTOCOL, &IPPROTO_UDP.to_ne_bytes());
    put(
        &mut nest,
        SVC_ATTR_ADDR,
        &[10, 0, 0, 53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    put(&mut nest, SVC_ATTR_PORT, &[0, 53]);
    put(&mut nest, SVC_ATTR_SCHED_NAME, b"rr\0");
    put(
        &mut nest,
        SVC_ATTR_FLAGS,
        &[(SVC_F_HASHED).to_ne_bytes(), u32::MAX.to_ne_bytes()].concat(),
    );
    put(&mut nest, SVC_ATTR_TIMEOUT, &0u32.to_ne_bytes());
    put(&mut nest, SVC_ATTR_NETMASK, &[255, 255, 255, 255]);
    put(&mut nest, 10, &[8, 0, 1, 0, 5, 0, 0, 0]); // stats: conns 5
    put(&mut nest, 12, &[12, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0]); // stats64
    put(&mut nest, 99, &[1, 2, 3]); // unknown
    let mut payload = vec![CMD_NEW_SERVICE, 1, 0, 0];
    let n = emit_attribute(&mut [0u8; 256], CMD_ATTR_SERVICE, &nest).unwrap();
    let mut b = [0u8; 256];
    emit_attribute(&mut b, CMD_ATTR_SERVICE, &nest).unwrap();
    payload.extend_from_slice(&b[..n]);
    payload
}

#[test]
fn kernel_service_reply_parses_skipping_stats_and_unknowns() {
    let r = Reply::parse(&kernel_service_reply(), 0).unwrap();
    let Reply::Service(s) = r else {
        panic!("a service")
    };
    assert_eq!(s.key.to_string(), "UDP 10.0.0.53:53");
    assert_eq!(s.scheduler.as_str(), "rr");
    assert_eq!(s.flags, SVC_F_HASHED);
    assert_eq!(s.netmask, u32::MAX);
    let mine = ServiceRepr { flags: 0, ..s };
    assert!(mine.same_settings(&s), "HASHED is the kernel's");
}

#[test]
fn info_reply_and_other_commands() {
    let mut p = vec![CMD_SET_INFO, 1, 0, 0];
    let mut a = [0u8; 8];
    emit_attribute(&mut a, INFO_ATTR_VERSION, &0x010201u32.to_ne_bytes()).unwrap();
    p.extend_from_slice(&a);
    emit_attribute(&mut a, INFO_ATTR_CONN_TAB_SIZE, &4096u32.to_ne_bytes()).unwrap();
    p.extend_from_slice(&a);
    assert_eq!(
        Reply::parse(&p, 0),
        Ok(Reply::Info {
            version: 0x010201,
            conn_tab_size: 4096
        })
    );
    assert_eq!(
        Reply::parse(&[CMD_FLUSH, 1, 0, 0], 0),
        Ok(Reply::Other(CMD_FLUSH))
    );
    // The GET_CONFIG answer: the timeouts, in any order, a missing one 0.
    let mut p = vec![CMD_SET_CONFIG, 1, 0, 0];
    emit_attribute(&mut a, CMD_ATTR_TIMEOUT_UDP, &300u32.to_ne_bytes()).unwrap();
    p.extend_from_slice(&a);
    emit_attribute(&mut a, CMD_ATTR_TIMEOUT_TCP, &900u32.to_ne_bytes()).unwrap();
    p.extend_from_slice(&a);
    assert_eq!(
        Reply::parse(&p, 0),
        Ok(Reply::Timeouts {
            tcp: 900,
            tcp_fin: 0,
            udp: 300
        })
    );
    // A timeout of the wrong length: an error naming it.
    let mut p = vec![CMD_SET_CONFIG, 1, 0, 0];
    let n = emit_attribute(&mut a, CMD_ATTR_TIMEOUT_TCP_FIN, &[1, 2]).unwrap();
    p.extend_from_slice(&a[..n]);
    assert_eq!(
        Reply::parse(&p, 0),
        Err(Error::AttributeValue(0, CMD_ATTR_TIMEOUT_TCP_FIN))
    );
    assert_eq!(
        Reply::parse(&[CMD_SET_INFO, 1, 0, 0], 0),
        Err(Error::MissingAttribute(0, INFO_ATTR_VERSION))
    );
    assert_eq!(
        Reply::parse(&[CMD_NEW_SERVICE, 1, 0, 0], 0),
        Err(Error::MissingAttribute(0, CMD_ATTR_SERVICE))
    );
}

/// Rewrites the value of attribute `kind` in a service nest to `value`.
fn with_value(nest: &[u8], kind: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut a = [0u8; 64];
    for x in Attributes::new(nest).map(Result::unwrap) {
        let v = if x.kind() == kind { value } else { x.value };
        let n = emit_attribute(&mut a, x.raw_kind, v).unwrap();
        out.extend_from_slice(&a[..n]);
    }
    out
}

#[test]
fn hostile_replies_are_errors_naming_the_attribute() {
    let m = emit(&Request::NewService(&web()));
    let nest = nest_of(&m, CMD_ATTR_SERVICE);
    for (kind, bad) in [
        (SVC_ATTR_AF, &[2u8][..]),
        (SVC_ATTR_AF, &7u16.to_ne_bytes()[..]),
        (SVC_ATTR_PROTOCOL, &[6, 0, 0][..]),
        (SVC_ATTR_ADDR, &[1, 2, 3][..]),
        (SVC_ATTR_PORT, &[0, 80, 0][..]),
        (SVC_ATTR_SCHED_NAME, &b"a-scheduler-name-too-long\0"[..]),
        (SVC_ATTR_FLAGS, &[1, 0][..]),
        (SVC_ATTR_TIMEOUT, &[1][..]),
        (SVC_ATTR_NETMASK, &[255, 255][..]),
    ] {
        let n = with_value(&nest, kind, bad);
        assert_eq!(
            ServiceRepr::parse(&n),
            Err(Error::AttributeValue(CMD_ATTR_SERVICE, kind)),
            "kind {kind}"
        );
    }
    let d = DestRepr::new(v4(1, 2, 3, 4), 80, CONN_F_DROUTE, 1);
    let m = emit(&Request::NewDest(web().key, &d));
    let nest = nest_of(&m, CMD_ATTR_DEST);
    for (kind, bad) in [
        (DEST_ATTR_ADDR, &[1u8, 2][..]),
        (DEST_ATTR_PORT, &[1u8][..]),
        (DEST_ATTR_FWD_METHOD, &[1u8, 0][..]),
        (DEST_ATTR_WEIGHT, &[1u8, 0, 0, 0, 0][..]),
        (DEST_ATTR_U_THRESH, &[][..]),
        (DEST_ATTR_L_THRESH, &[1u8][..]),
        (DEST_ATTR_ADDR_FAMILY, &[2u8, 0, 0, 0][..]),
    ] {
        let n = with_value(&nest, kind, bad);
        assert_eq!(
            DestRepr::parse(&n, AF_INET),
            Err(Error::AttributeValue(CMD_ATTR_DEST, kind)),
            "kind {kind}"
        );
    }
    // A family that says IPv6 with a 4-byte address.
    let n = with_value(&nest, DEST_ATTR_ADDR_FAMILY, &AF_INET6.to_ne_bytes());
    let n = with_value(&n, DEST_ATTR_ADDR, &[1, 2, 3, 4]);
    assert_eq!(
        DestRepr::parse(&n, AF_INET),
        Err(Error::AttributeValue(CMD_ATTR_DEST, DEST_ATTR_ADDR))
    );
    // Truncated at every length: an error or a shorter parse, never a panic.
    let full = kernel_service_reply();
    for n in 0..full.len() {
        let _ = Reply::parse(&full[..n], AF_INET);
    }
    // A nest whose length lies.
    let mut lying = full.clone();
    lying[4..6].copy_from_slice(&4000u16.to_ne_bytes());
    assert!(Reply::parse(&lying, AF_INET).is_err());
    // An attribute length below its header inside the nest.
    let mut short = full;
    short[8..10].copy_from_slice(&1u16.to_ne_bytes());
    assert_eq!(
        Reply::parse(&short, AF_INET),
        Err(Error::Genl(genetlink::Error::Netlink(
            netlink::Error::AttributeLength(1)
        )))
    );
}

#[test]
fn names_and_keys_display() {
    assert_eq!(
        Name::new(b"fifteen-bytes!!").unwrap().as_str(),
        "fifteen-bytes!!"
    );
    assert!(Name::new(b"sixteen-bytes!!!").is_none());
    assert!(Name::new(b"a\0b").is_none());
    let k = ServiceKey::Addr {
        protocol: IPPROTO_UDP,
        addr: "2001:db8::1".parse().unwrap(),
        port: 53,
    };
    assert_eq!(k.to_string(), "UDP [2001:db8::1]:53");
    assert_eq!(
        ServiceKey::Fwmark {
            family: AF_INET6,
            mark: 9
        }
        .to_string(),
        "FWM 9 IPv6"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, .. ProptestConfig::default() })]

    #[test]
    fn replies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), af in prop_oneof![Just(AF_INET), Just(AF_INET6), any::<u16>()]) {
        let _ = Reply::parse(&bytes, af);
        let _ = ServiceRepr::parse(&bytes);
        let _ = DestRepr::parse(&bytes, af);
    }

    #[test]
    fn mutated_replies_never_panic(at in 0usize..200, byte in any::<u8>(), cut in 0usize..220) {
        let mut r = kernel_service_reply();
        if let Some(b) = r.get_mut(at) { *b = byte; }
        r.truncate(cut.min(r.len()));
        let _ = Reply::parse(&r, AF_INET);
    }
}
