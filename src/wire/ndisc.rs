//! Unsolicited neighbour advertisements (RFC 4861 §4.4, §7.2.6): the IPv6
//! counterpart of the gratuitous ARP a new VRRP master sends for each of its
//! addresses (RFC 5798 §6.4.1), in the form keepalived sends them
//! (`vrrp_ndisc.c`): a whole Ethernet frame for an `AF_PACKET` socket.
//!
//! ```text
//! Ethernet  dst 33:33:00:00:00:01 (all nodes)   src = the announcing MAC   type 0x86dd
//! IPv6      src = the address announced   dst ff02::1   hop limit 255   next header 58
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type = 136   |   Code = 0    |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |R|S|O|                     Reserved                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Target Address (the address)               |
//! |                          (16 bytes)                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type = 2     |  Length = 1   |  Target link-layer address    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  (the announcing MAC, 6 bytes) |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Flags: Override set (the advert replaces cached entries), Solicited clear
//! (nobody asked), Router set when IPv6 forwarding is on for the interface
//! (keepalived's `get_ipv6_forwarding()`). The source address is the target
//! itself, as keepalived sends it.
//!
//! Ethernet, IPv6, ICMPv6 and the NDISC message and option are smoltcp's
//! wire types; this module fixes the form and checks it on parse.

use core::fmt;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Packet, Icmpv6Repr,
    IpProtocol, Ipv6Address, Ipv6Packet, Ipv6Repr, NdiscNeighborFlags, NdiscRepr,
    RawHardwareAddress,
};

/// All-nodes multicast group, the destination of unsolicited adverts
/// (RFC 4861 §7.2.6).
pub const ALL_NODES: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Ethernet address of [`ALL_NODES`] (RFC 2464 §7: 33:33 + low 32 bits).
pub const ALL_NODES_MAC: EthernetAddress = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
/// Hop limit of every neighbour discovery message; receivers drop others
/// (RFC 4861 §7.1.2).
pub const HOP_LIMIT: u8 = 255;
/// Bytes of the frame: Ethernet 14 + IPv6 40 + NA 24 + target link-layer
/// address option 8.
pub const NA_FRAME_LEN: usize = 14 + 40 + 24 + 8;

/// Why a frame is not an unsolicited neighbour advertisement of this form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than [`NA_FRAME_LEN`].
    Truncated,
    /// Not IPv6 in Ethernet to the all-nodes MAC.
    Ethernet,
    /// The IPv6 header is malformed, not ICMPv6, not to `ff02::1`, or its
    /// source is not the target.
    Ip,
    /// Hop limit other than 255.
    HopLimit,
    /// Not a neighbour advertisement, or its checksum or option is wrong.
    Icmp,
    /// Override clear or Solicited set.
    Flags,
    /// No target link-layer address option, or it differs from the
    /// Ethernet source.
    LinkLayerAddress,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "neighbour advertisement frame truncated",
            Error::Ethernet => "not IPv6 to the all-nodes Ethernet address",
            Error::Ip => "IPv6 header not that of an unsolicited neighbour advertisement",
            Error::HopLimit => "neighbour advertisement hop limit is not 255",
            Error::Icmp => "not a well-formed ICMPv6 neighbour advertisement",
            Error::Flags => "neighbour advertisement flags: Override clear or Solicited set",
            Error::LinkLayerAddress => {
                "target link-layer address missing or not the Ethernet source"
            }
        })
    }
}

/// One unsolicited neighbour advertisement: `target` is at `mac`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsolicitedNa {
    /// The announcing interface's MAC: Ethernet source and target
    /// link-layer address option (the VMAC once VMACs exist).
    pub mac: EthernetAddress,
    /// The address announced (a VIP): IPv6 source and target.
    pub target: Ipv6Address,
    /// The Router flag: IPv6 forwarding is on for the interface.
    pub router: bool,
}

impl UnsolicitedNa {
    /// Bytes [`UnsolicitedNa::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        NA_FRAME_LEN
    }

    /// Parses and checks a whole Ethernet frame (longer buffers, e.g.
    /// padded ones, are cut at the IPv6 payload length).
    pub fn parse(frame: &[u8]) -> Result<UnsolicitedNa, Error> {
        if frame.len() < NA_FRAME_LEN {
            return Err(Error::Truncated);
        }
        let eth = EthernetFrame::new_checked(frame).map_err(|_| Error::Truncated)?;
        if eth.ethertype() != EthernetProtocol::Ipv6 || eth.dst_addr() != ALL_NODES_MAC {
            return Err(Error::Ethernet);
        }
        let ip = Ipv6Packet::new_checked(eth.payload()).map_err(|_| Error::Ip)?;
        let ip_repr = Ipv6Repr::parse(&ip).map_err(|_| Error::Ip)?;
        if ip_repr.next_header != IpProtocol::Icmpv6 || ip_repr.dst_addr != ALL_NODES {
            return Err(Error::Ip);
        }
        if ip_repr.hop_limit != HOP_LIMIT {
            return Err(Error::HopLimit);
        }
        let icmp = Icmpv6Packet::new_checked(ip.payload()).map_err(|_| Error::Icmp)?;
        let repr = Icmpv6Repr::parse(
            &ip_repr.src_addr,
            &ip_repr.dst_addr,
            &icmp,
            &ChecksumCapabilities::default(),
        )
        .map_err(|_| Error::Icmp)?;
        let Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
            flags,
            target_addr,
            lladdr,
        }) = repr
        else {
            return Err(Error::Icmp);
        };
        if !flags.contains(NdiscNeighborFlags::OVERRIDE)
            || flags.contains(NdiscNeighborFlags::SOLICITED)
        {
            return Err(Error::Flags);
        }
        if target_addr != ip_repr.src_addr {
            return Err(Error::Ip);
        }
        let mac = eth.src_addr();
        if lladdr != Some(RawHardwareAddress::from(mac)) {
            return Err(Error::LinkLayerAddress);
        }
        Ok(UnsolicitedNa {
            mac,
            target: target_addr,
            router: flags.contains(NdiscNeighborFlags::ROUTER),
        })
    }

    /// Writes the whole frame into the first [`NA_FRAME_LEN`] bytes of
    /// `buffer`, ICMPv6 checksum filled; returns its length.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, Error> {
        let Some(bytes) = buffer.get_mut(..NA_FRAME_LEN) else {
            return Err(Error::Truncated);
        };
        let mut flags = NdiscNeighborFlags::OVERRIDE;
        if self.router {
            flags |= NdiscNeighborFlags::ROUTER;
        }
        let icmp = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
            flags,
            target_addr: self.target,
            lladdr: Some(RawHardwareAddress::from(self.mac)),
        });
        let ip = Ipv6Repr {
            src_addr: self.target,
            dst_addr: ALL_NODES,
            next_header: IpProtocol::Icmpv6,
            payload_len: icmp.buffer_len(),
            hop_limit: HOP_LIMIT,
        };
        let eth = EthernetRepr {
            src_addr: self.mac,
            dst_addr: ALL_NODES_MAC,
            ethertype: EthernetProtocol::Ipv6,
        };
        let mut frame = EthernetFrame::new_unchecked(bytes);
        eth.emit(&mut frame);
        let mut ip_packet = Ipv6Packet::new_unchecked(frame.payload_mut());
        ip.emit(&mut ip_packet);
        icmp.emit(
            &ip.src_addr,
            &ip.dst_addr,
            &mut Icmpv6Packet::new_unchecked(ip_packet.payload_mut()),
            &ChecksumCapabilities::default(),
        );
        Ok(NA_FRAME_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// keepalived 2.2.7's NA for fd00:201::100 (forwarding off).
    const NA: &[u8] = include_bytes!("../../tests/fixtures/vrrp/na_fd00_201__100.eth.bin");
    /// keepalived 2.2.7's NA for fd00:201::110 with forwarding on (Router set).
    const NA_ROUTER: &[u8] =
        include_bytes!("../../tests/fixtures/vrrp/na_router_fd00_201__110.eth.bin");

    fn addr(s: &str) -> Ipv6Address {
        s.parse().unwrap()
    }

    fn emit_vec(na: &UnsolicitedNa) -> Vec<u8> {
        let mut buf = [0u8; 128];
        let n = na.emit(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn keepalived_fixtures_parse_and_round_trip_byte_for_byte() {
        let na = UnsolicitedNa::parse(NA).unwrap();
        assert_eq!(
            na,
            UnsolicitedNa {
                mac: EthernetAddress([0xb6, 0x26, 0x4a, 0x05, 0x95, 0x0d]),
                target: addr("fd00:201::100"),
                router: false,
            }
        );
        assert_eq!(emit_vec(&na), NA);
        let r = UnsolicitedNa::parse(NA_ROUTER).unwrap();
        assert_eq!(r.target, addr("fd00:201::110"));
        assert!(r.router);
        assert_eq!(emit_vec(&r), NA_ROUTER);
        assert_eq!(na.buffer_len(), NA.len());
    }

    #[test]
    fn emit_needs_room() {
        let na = UnsolicitedNa::parse(NA).unwrap();
        let mut small = [0u8; NA_FRAME_LEN - 1];
        assert_eq!(na.emit(&mut small), Err(Error::Truncated));
    }

    #[test]
    fn every_deviation_is_refused() {
        let cases: [(usize, u8, Error); 7] = [
            (0, 0xff, Error::Ethernet),            // not to the all-nodes MAC
            (12, 0x08, Error::Ethernet),           // IPv4 ethertype
            (14 + 7, 64, Error::HopLimit),         // hop limit 64
            (14 + 6, 17, Error::Ip),               // UDP, not ICMPv6
            (14 + 40, 135, Error::Icmp),           // a solicitation (checksum too)
            (14 + 40 + 2, 0, Error::Icmp),         // checksum broken
            (14 + 40 + 24 + 2, 0xaa, Error::Icmp), // option's MAC: checksum broken
        ];
        for (at, value, want) in cases {
            let mut f = NA.to_vec();
            f[at] = value;
            assert_eq!(
                UnsolicitedNa::parse(&f),
                Err(want),
                "byte {at} = {value:#x}"
            );
        }
        assert_eq!(UnsolicitedNa::parse(&NA[..40]), Err(Error::Truncated));
    }

    #[test]
    fn flags_and_addresses_are_checked_with_a_good_checksum() {
        let good = UnsolicitedNa::parse(NA).unwrap();
        // Re-emit with a field changed after the fact, checksum recomputed.
        let refill = |f: &mut [u8]| {
            let mut ip = Ipv6Packet::new_unchecked(&mut f[14..]);
            let (src, dst) = (ip.src_addr(), ip.dst_addr());
            let mut icmp = Icmpv6Packet::new_unchecked(ip.payload_mut());
            icmp.fill_checksum(&src, &dst);
        };
        let mut solicited = emit_vec(&good);
        solicited[14 + 40 + 4] |= 0x40;
        refill(&mut solicited);
        assert_eq!(UnsolicitedNa::parse(&solicited), Err(Error::Flags));
        let mut no_override = emit_vec(&good);
        no_override[14 + 40 + 4] &= !0x20;
        refill(&mut no_override);
        assert_eq!(UnsolicitedNa::parse(&no_override), Err(Error::Flags));
        let mut other_mac = emit_vec(&good);
        other_mac[14 + 40 + 24 + 7] ^= 1;
        refill(&mut other_mac);
        assert_eq!(
            UnsolicitedNa::parse(&other_mac),
            Err(Error::LinkLayerAddress)
        );
        let mut other_target = emit_vec(&good);
        other_target[14 + 40 + 8 + 15] ^= 1;
        refill(&mut other_target);
        assert_eq!(UnsolicitedNa::parse(&other_target), Err(Error::Ip));
    }

    #[test]
    fn built_adverts_parse_back() {
        for router in [false, true] {
            let na = UnsolicitedNa {
                mac: EthernetAddress([2, 0, 0, 0, 0, 7]),
                target: addr("fd00:99::100"),
                router,
            };
            let bytes = emit_vec(&na);
            assert_eq!(bytes.len(), NA_FRAME_LEN);
            assert_eq!(UnsolicitedNa::parse(&bytes), Ok(na));
            // Ethernet padding after the frame is ignored.
            let mut padded = bytes.clone();
            padded.extend([0u8; 4]);
            assert_eq!(UnsolicitedNa::parse(&padded), Ok(na));
        }
    }

    proptest::proptest! {
        #[test]
        fn random_frames_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128)) {
            let _ = UnsolicitedNa::parse(&bytes);
        }

        #[test]
        fn emit_then_parse_is_identity(
            mac in proptest::prelude::any::<[u8; 6]>(),
            target in proptest::prelude::any::<[u8; 16]>(),
            router in proptest::prelude::any::<bool>(),
        ) {
            let na = UnsolicitedNa {
                mac: EthernetAddress(mac),
                target: Ipv6Address::from(target),
                router,
            };
            proptest::prop_assert_eq!(UnsolicitedNa::parse(&emit_vec(&na)), Ok(na));
        }
    }

    #[test]
    fn error_display() {
        assert_eq!(
            std::format!("{}", Error::HopLimit),
            "neighbour advertisement hop limit is not 255"
        );
    }
}
