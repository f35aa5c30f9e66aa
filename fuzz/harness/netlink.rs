//! `netlink`: what a netlink socket's `recv` returns, walked the way the
//! daemon walks it (`picket::wire::netlink` framing and attributes, the
//! rtnetlink address, link and route messages of the reflector and the
//! address/route requests).
//!
//! Input: the bytes of one receive buffer.
//!
//! Checked: the message walk always advances and yields messages inside the
//! buffer; every parser either fails or gives a value that holds together
//! (a netlink header and a route emit and parse back to themselves).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use picket::wire::link::LinkEvent;
use picket::wire::netlink::{
    Attributes, Control, HEADER_LEN, Messages, NLA_TYPE_MASK, Packet, Repr,
};
use picket::wire::route::{RT_SCOPE_NOWHERE, RouteRepr};
use picket::wire::rtnetlink::{AddressRepr, Operation};

/// A netlink receive buffer in picket (`NETLINK_BUF` in the binary) is
/// 64 KiB; larger inputs are cut.
const MAX_INPUT: usize = 65536;

/// Runs one input.
pub fn run(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let mut walked = 0;
    for msg in Messages::new(data) {
        let Ok(msg) = msg else {
            break;
        };
        let bytes: &[u8] = msg.into_inner();
        assert!(bytes.len() >= HEADER_LEN);
        assert!(
            walked + bytes.len() <= data.len(),
            "message beyond the buffer"
        );
        assert_eq!(
            bytes.as_ptr(),
            data[walked..].as_ptr(),
            "messages out of order"
        );
        walked += picket::wire::netlink::align(bytes.len()).min(data.len() - walked);
        let msg = Packet::new_unchecked(bytes);
        message(&msg);
    }
}

/// Every parser the daemon may apply to one message.
fn message(msg: &Packet<&[u8]>) {
    let repr = Repr::parse(msg).unwrap_or_else(|e| panic!("walked message fails: {e:?}"));
    assert_eq!(repr.buffer_len(), msg.len() as usize);
    header_round_trip(&repr);

    match Control::parse(msg) {
        Ok(Control::Error(e)) => {
            assert_eq!(e.is_ack(), e.errno().is_none());
        }
        Ok(Control::Data(r, payload)) => {
            assert_eq!(r, repr);
            assert_eq!(payload.len(), r.payload_len);
        }
        Ok(Control::Done | Control::Other(_)) | Err(_) => {}
    }

    // The reflector: addresses, then links.
    if let Ok(a) = AddressRepr::parse(msg) {
        assert!(Operation::from_message_type(msg.message_type()).is_some());
        if let Some(ip) = a.local_address() {
            let _ = ip.is_ipv4();
        }
        if let Some(label) = a.label {
            assert!(!label.contains('\0'));
        }
    }
    if let Some(Ok(ev)) = LinkEvent::parse(msg) {
        assert!(!ev.name.is_empty());
        assert!(!(ev.up && ev.deleted));
    }
    if let Ok((op, route)) = RouteRepr::parse(msg) {
        route_round_trip(op, &route);
    }

    // The attribute walk over the payload at any offset ends, never
    // yields more than is there, and keeps the kind bits.
    let payload = msg.payload();
    for skip in [0, 4, 8, 12, 16] {
        let Some(block) = payload.get(skip..) else {
            break;
        };
        let mut seen = 0;
        for a in Attributes::new(block) {
            let Ok(a) = a else {
                break;
            };
            assert_eq!(a.kind(), a.raw_kind & NLA_TYPE_MASK);
            seen += 4 + a.value.len();
            assert!(seen <= block.len());
        }
    }
}

/// A netlink header emits and parses back to itself.
fn header_round_trip(repr: &Repr) {
    let mut buf = [0u8; HEADER_LEN];
    let mut short = *repr;
    short.payload_len = 0;
    short
        .emit(&mut buf)
        .unwrap_or_else(|e| panic!("header emit: {e:?}"));
    let again = Repr::parse(&Packet::new_unchecked(&buf[..]))
        .unwrap_or_else(|e| panic!("header parse: {e:?}"));
    assert_eq!(again, short);
}

/// A parsed route emits a request that parses back to the same route
/// (what the request carries: no destination for a /0, scope "nowhere"
/// on a delete).
fn route_round_trip(op: Operation, route: &RouteRepr) {
    let mut buf = [0u8; 256];
    let Ok(n) = route.emit(op, 7, &mut buf) else {
        // Refused by `emit`'s own checks (prefix too long, mixed families):
        // those routes are never requested.
        return;
    };
    let msg = Packet::new_checked(&buf[..n]).unwrap_or_else(|e| panic!("{e:?}"));
    let (op2, again) = RouteRepr::parse(&msg).unwrap_or_else(|e| panic!("route reparse: {e:?}"));
    assert_eq!(op2, op);
    let mut want = *route;
    if want.dst_len == 0 {
        want.dst = match want.dst {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
    }
    // A delete matches any scope (module doc).
    if op == Operation::Delete {
        want.scope = RT_SCOPE_NOWHERE;
    }
    assert_eq!(again, want, "route round trip");
}
