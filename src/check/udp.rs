//! `UDP_CHECK`: send `payload` on a connected UDP socket. An ICMP port
//! unreachable comes back as `ECONNREFUSED` on the socket: down. With
//! `require_reply` a reply must come within `connect_timeout`, its length in
//! `min_reply_length..=max_reply_length` and its first bytes matching the
//! pattern (`X` nibbles match anything); without it, silence until the
//! timeout is a success, as keepalived.

use crate::config::lvs::{UdpCheck, parse_udp_pattern};
use crate::limits::PAYLOAD_BYTES;

use super::{Failure, Step, Verdict};

/// Whether a reply of `len` bytes (the datagram's full length), of which
/// `buf` was received, is what `u` requires (`pattern` is its decoded
/// `require_reply`).
pub fn reply_matches(u: &UdpCheck, pattern: &str, buf: &[u8], len: usize) -> bool {
    if len < usize::from(u.min_reply_length) || len > usize::from(u.max_reply_length) {
        return false;
    }
    if pattern.is_empty() {
        return true;
    }
    let mut bytes = [0u8; PAYLOAD_BYTES];
    let mut mask = [0u8; PAYLOAD_BYTES];
    let Ok(n) = parse_udp_pattern(pattern, true, &mut bytes, &mut mask) else {
        return false;
    };
    if buf.len() < n {
        return false;
    }
    bytes
        .iter()
        .zip(mask.iter())
        .zip(buf.iter())
        .take(n)
        .all(|((b, m), r)| r & m == b & m)
}

/// One probe in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Whether a reply is required.
    pub require_reply: bool,
}

impl Probe {
    /// "Connected": send the payload.
    pub(crate) fn on_connected(&mut self) -> Step {
        Step::Send
    }

    /// A reply, judged by the caller with [`reply_matches`].
    pub(crate) fn on_reply(&mut self, matches: bool) -> Step {
        if matches {
            Step::Done(Verdict::Success)
        } else {
            Step::Done(Verdict::Failure(Failure::Mismatch))
        }
    }

    /// The timeout: a success unless a reply was required.
    pub(crate) fn on_timeout(&self) -> Verdict {
        if self.require_reply {
            Verdict::Failure(Failure::Timeout)
        } else {
            Verdict::Success
        }
    }
}
