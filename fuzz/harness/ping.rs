//! `ping`: ICMP and ICMPv6 echo replies to `PING_CHECK`
//! (`picket::check::ping::Echo::is_reply`).
//!
//! Input: a byte (`& 1`: IPv6), 2 bytes of check id, 2 bytes of sequence,
//! then the datagram as the ping socket returns it (from the ICMP header).
//!
//! Checked: a datagram taken as the reply is an echo reply (type 0 or 129)
//! carrying the request's sequence number; the request itself, turned into
//! a reply, is taken; the request is never taken as its own reply.

use picket::check::ping::Echo;

use super::Input;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let v6 = input.byte() & 1 == 1;
    let echo = Echo {
        v6,
        check: input.u16(),
        seq: input.u16(),
    };
    let datagram = input.rest();
    if echo.is_reply(datagram) {
        let reply_type = if v6 { 129 } else { 0 };
        assert_eq!(datagram[0], reply_type, "not an echo reply");
        assert_eq!(datagram[6..8], echo.seq.to_be_bytes(), "another sequence");
    }
    let mut request = [0u8; 64];
    let n = echo
        .write_request(&mut request)
        .unwrap_or_else(|| panic!("the echo request does not fit"));
    assert!(
        !echo.is_reply(&request[..n]),
        "a request taken as its reply"
    );
    // Turned into a reply: the type, and (IPv4) the checksum adjusted as
    // RFC 1624 allows (the type byte drops by 8).
    let mut reply = request;
    reply[0] = if v6 { 129 } else { 0 };
    if !v6 {
        let sum = u16::from_be_bytes([reply[2], reply[3]]);
        let (s, carry) = sum.overflowing_add(0x0800);
        let s = s + u16::from(carry);
        reply[2..4].copy_from_slice(&s.to_be_bytes());
    }
    assert!(
        echo.is_reply(&reply[..n]),
        "the echo's own reply is not taken"
    );
}
