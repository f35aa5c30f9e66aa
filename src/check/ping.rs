//! `PING_CHECK`: one ICMP (IPv4) or ICMPv6 echo request, built with
//! `smoltcp::wire`; the matching echo reply within `connect_timeout` is a
//! success. The reply must carry the request's sequence number and data
//! (the identifier is not compared: a ping socket rewrites it). Other ICMP
//! messages on the socket are ignored; an ICMP error is no success either,
//! so an unreachable host times out.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, Ipv6Address};

use super::{Step, Verdict};

/// Bytes of the echo data.
pub const DATA_LEN: usize = 16;

/// The echo data of one attempt: a marker, the check and the sequence.
fn data(check: u16, seq: u16) -> [u8; DATA_LEN] {
    let mut d = *b"picket-echo\0\0\0\0\0";
    d[12..14].copy_from_slice(&check.to_be_bytes());
    d[14..16].copy_from_slice(&seq.to_be_bytes());
    d
}

/// One echo in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Echo {
    /// IPv6 (ICMPv6) or IPv4.
    pub v6: bool,
    /// The check (in the data).
    pub check: u16,
    /// Sequence number.
    pub seq: u16,
}

impl Echo {
    /// "Connected": send the request.
    pub(crate) fn on_connected(&mut self) -> Step {
        Step::Send
    }

    /// Writes the echo request into `out` (the ICMPv6 checksum is left to
    /// the kernel, which always computes it; the ICMPv4 one is computed
    /// here).
    pub fn write_request(&self, out: &mut [u8]) -> Option<usize> {
        let d = data(self.check, self.seq);
        if self.v6 {
            let repr = Icmpv6Repr::EchoRequest {
                ident: self.check,
                seq_no: self.seq,
                data: &d,
            };
            let len = repr.buffer_len();
            let mut pkt = Icmpv6Packet::new_unchecked(out.get_mut(..len)?);
            repr.emit(
                &Ipv6Address::UNSPECIFIED,
                &Ipv6Address::UNSPECIFIED,
                &mut pkt,
                &ChecksumCapabilities::ignored(),
            );
            Some(len)
        } else {
            let repr = Icmpv4Repr::EchoRequest {
                ident: self.check,
                seq_no: self.seq,
                data: &d,
            };
            let len = repr.buffer_len();
            let mut pkt = Icmpv4Packet::new_unchecked(out.get_mut(..len)?);
            repr.emit(&mut pkt, &ChecksumCapabilities::default());
            Some(len)
        }
    }

    /// Whether `buf` (starting at the ICMP header) is our echo reply.
    pub fn is_reply(&self, buf: &[u8]) -> bool {
        let want = data(self.check, self.seq);
        if self.v6 {
            let Ok(pkt) = Icmpv6Packet::new_checked(buf) else {
                return false;
            };
            matches!(
                Icmpv6Repr::parse(
                    &Ipv6Address::UNSPECIFIED,
                    &Ipv6Address::UNSPECIFIED,
                    &pkt,
                    &ChecksumCapabilities::ignored(),
                ),
                Ok(Icmpv6Repr::EchoReply { seq_no, data, .. }) if seq_no == self.seq && data == want
            )
        } else {
            let Ok(pkt) = Icmpv4Packet::new_checked(buf) else {
                return false;
            };
            matches!(
                Icmpv4Repr::parse(&pkt, &ChecksumCapabilities::ignored()),
                Ok(Icmpv4Repr::EchoReply { seq_no, data, .. }) if seq_no == self.seq && data == want
            )
        }
    }

    /// A datagram: done on our reply, else keep waiting.
    pub(crate) fn on_datagram(&mut self, buf: &[u8]) -> Step {
        if self.is_reply(buf) {
            Step::Done(Verdict::Success)
        } else {
            Step::Wait
        }
    }
}
