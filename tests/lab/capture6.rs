//! IPv6 frames of a capture: VRRP adverts over IPv6 (RFC 5798 §5.1.2) and
//! unsolicited neighbour advertisements (RFC 4861 §4.4), decoded from the
//! RFCs (not from picket's `wire` module), failover analysis over them, and
//! tshark's verdict on the neighbour advertisements.

use std::net::Ipv6Addr;
use std::path::Path;

use super::capture::{Decoded, Frame, decode, first_change, ones_sum, tshark_fields};

/// IPv6 next header of VRRP.
const NEXT_VRRP: u8 = 112;
/// IPv6 next header of ICMPv6.
const NEXT_ICMPV6: u8 = 58;

/// A VRRP advertisement carried in IPv6 in an Ethernet frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert6 {
    /// Capture time, µs since the epoch.
    pub ts_us: u64,
    /// Ethernet source: the sender's MAC.
    pub src_mac: [u8; 6],
    /// IPv6 source: the sender's link-local (or configured) address.
    pub src: Ipv6Addr,
    /// IPv6 destination (ff02::12 for multicast adverts).
    pub dst: Ipv6Addr,
    /// Hop limit (255 on multicast).
    pub hop_limit: u8,
    /// Traffic class (keepalived sends 0xc0).
    pub traffic_class: u8,
    /// VRRP version (3).
    pub version: u8,
    /// VRRP type (1: advertisement).
    pub kind: u8,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority (0: the master is stopping).
    pub priority: u8,
    /// Max advertisement interval, centiseconds.
    pub adver_int_centis: u16,
    /// The virtual addresses listed.
    pub addresses: Vec<Ipv6Addr>,
    /// Checksum verified with the IPv6 pseudo-header (RFC 5798 §5.2.8).
    pub checksum_ok: bool,
}

/// An ICMPv6 neighbour advertisement in an Ethernet frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Na {
    /// Capture time, µs since the epoch.
    pub ts_us: u64,
    /// Ethernet source.
    pub src_mac: [u8; 6],
    /// Ethernet destination.
    pub dst_mac: [u8; 6],
    /// IPv6 source.
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// Hop limit (must be 255).
    pub hop_limit: u8,
    /// Router flag.
    pub router: bool,
    /// Solicited flag.
    pub solicited: bool,
    /// Override flag.
    pub override_: bool,
    /// Target address.
    pub target: Ipv6Addr,
    /// Target link-layer address option, if present.
    pub target_mac: Option<[u8; 6]>,
    /// ICMPv6 checksum verified with the pseudo-header.
    pub checksum_ok: bool,
}

impl Na {
    /// Unsolicited (to all nodes, Solicited clear, Override set), as a new
    /// master sends for its VIPs.
    pub fn is_unsolicited(&self) -> bool {
        self.dst == Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1) && !self.solicited && self.override_
    }
}

fn ipv6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

/// The one's complement sum of the IPv6 pseudo-header of `p` (an IPv6
/// packet) for `next` and the upper-layer `payload`, plus the payload.
fn pseudo_sum(p: &[u8], next: u8, payload: &[u8]) -> u16 {
    let len = u32::try_from(payload.len()).unwrap_or(0).to_be_bytes();
    ones_sum(&[&p[8..40], &len, &[0, 0, 0, next], payload])
}

/// Decodes the IPv6 packet `p` of an Ethernet frame.
pub(super) fn decode_ipv6(frame: &Frame, src_mac: [u8; 6], dst_mac: [u8; 6], p: &[u8]) -> Decoded {
    if p.len() < 40 || p[0] >> 4 != 6 {
        return Decoded::Other("not IPv6");
    }
    let payload_len = usize::from(u16::from_be_bytes([p[4], p[5]]));
    let Some(payload) = p.get(40..40 + payload_len) else {
        return Decoded::Other("IPv6 payload truncated");
    };
    let traffic_class = (p[0] << 4) | (p[1] >> 4);
    let (src, dst, hop_limit) = (ipv6(&p[8..]), ipv6(&p[24..]), p[7]);
    match p[6] {
        NEXT_VRRP => {
            let v = payload;
            if v.len() < 8 {
                return Decoded::Other("short VRRP packet");
            }
            let count = usize::from(v[3]);
            let Some(addr_bytes) = v.get(8..8 + 16 * count) else {
                return Decoded::Other("VRRP address list truncated");
            };
            Decoded::Advert6(Advert6 {
                ts_us: frame.ts_us,
                src_mac,
                src,
                dst,
                hop_limit,
                traffic_class,
                version: v[0] >> 4,
                kind: v[0] & 0x0f,
                vrid: v[1],
                priority: v[2],
                adver_int_centis: u16::from_be_bytes([v[4] & 0x0f, v[5]]),
                addresses: addr_bytes.chunks(16).map(ipv6).collect(),
                checksum_ok: v.len() == 8 + 16 * count && pseudo_sum(p, NEXT_VRRP, v) == 0xffff,
            })
        }
        NEXT_ICMPV6 if payload.first() == Some(&136) => {
            let m = payload;
            if m.len() < 24 {
                return Decoded::Other("short neighbour advertisement");
            }
            // Options after the fixed part: type, length in 8-byte units.
            let mut target_mac = None;
            let mut at = 24;
            while let (Some(&kind), Some(&units)) = (m.get(at), m.get(at + 1)) {
                let len = usize::from(units) * 8;
                if len == 0 {
                    break;
                }
                if kind == 2
                    && let Some(o) = m.get(at + 2..at + 8)
                {
                    target_mac = Some([o[0], o[1], o[2], o[3], o[4], o[5]]);
                }
                at += len;
            }
            Decoded::Na(Na {
                ts_us: frame.ts_us,
                src_mac,
                dst_mac,
                src,
                dst,
                hop_limit,
                router: m[4] & 0x80 != 0,
                solicited: m[4] & 0x40 != 0,
                override_: m[4] & 0x20 != 0,
                target: ipv6(&m[8..]),
                target_mac,
                checksum_ok: pseudo_sum(p, NEXT_ICMPV6, m) == 0xffff,
            })
        }
        _ => Decoded::Other("IPv6 but neither VRRP nor a neighbour advertisement"),
    }
}

/// The IPv6 VRRP adverts among `frames`.
pub fn adverts6(frames: &[Frame]) -> Vec<Advert6> {
    frames
        .iter()
        .filter_map(|f| match decode(f) {
            Decoded::Advert6(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The neighbour advertisements among `frames`.
pub fn nas(frames: &[Frame]) -> Vec<Na> {
    frames
        .iter()
        .filter_map(|f| match decode(f) {
            Decoded::Na(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// A change of master seen on a capture of IPv6 adverts (see
/// [`super::Failover`] for IPv4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover6 {
    /// Source of the old master's adverts.
    pub old_master: Ipv6Addr,
    /// Source of the new master's adverts.
    pub new_master: Ipv6Addr,
    /// The old master's last advert before the new one's first.
    pub last_old_us: u64,
    /// Its priority: 0 if the old master stopped cleanly.
    pub last_old_priority: u8,
    /// The new master's first advert.
    pub first_new_us: u64,
    /// The new master's first unsolicited NA (by Ethernet source) after the
    /// old master's last advert.
    pub first_na: Option<Na>,
}

impl Failover6 {
    /// Finds the first change of master of `vrid` in `frames`.
    pub fn find(frames: &[Frame], vrid: u8) -> Result<Failover6, String> {
        let ads: Vec<Advert6> = adverts6(frames)
            .into_iter()
            .filter(|a| a.vrid == vrid)
            .collect();
        let i = first_change(&ads, vrid, |a| a.src)?;
        let (old, new) = (&ads[i - 1], &ads[i]);
        let first_na = nas(frames)
            .into_iter()
            .find(|n| n.ts_us >= old.ts_us && n.src_mac == new.src_mac && n.is_unsolicited());
        Ok(Failover6 {
            old_master: old.src,
            new_master: new.src,
            last_old_us: old.ts_us,
            last_old_priority: old.priority,
            first_new_us: new.ts_us,
            first_na,
        })
    }

    /// Last advert of the old master → first advert of the new one, µs.
    pub fn advert_gap_us(&self) -> u64 {
        self.first_new_us - self.last_old_us
    }

    /// Last advert of the old master → first NA of the new one, µs.
    pub fn na_gap_us(&self) -> Option<u64> {
        self.first_na.as_ref().map(|n| n.ts_us - self.last_old_us)
    }
}

/// Has tshark decode every neighbour advertisement of `pcap` and fails on
/// a checksum not reported good, a hop limit other than 255, or a
/// malformed-packet marker. Returns how many it decoded.
pub fn tshark_check_na(pcap: &Path) -> Result<usize, String> {
    let rows = tshark_fields(
        pcap,
        "icmpv6.type == 136",
        &[
            "frame.number",
            "icmpv6.checksum.status",
            "ipv6.hlim",
            "_ws.malformed",
        ],
    )?;
    let bad: Vec<String> = rows
        .iter()
        .filter(|f| !(f.len() == 4 && f[1] == "1" && f[2] == "255" && f[3].is_empty()))
        .map(|f| f.join("|"))
        .collect();
    if bad.is_empty() {
        Ok(rows.len())
    } else {
        Err(format!(
            "tshark: {} of {} neighbour advertisements bad (frame|checksum status|hop limit|malformed):\n{}",
            bad.len(),
            rows.len(),
            bad.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived 2.2.7's unsolicited NA for fd00:201::100.
    const NA_FRAME: &[u8] = include_bytes!("../fixtures/vrrp/na_fd00_201__100.eth.bin");
    /// keepalived 2.2.7's IPv6 advert (VRID 54, priority 120), IP datagram.
    const ADVERT_IP: &[u8] = include_bytes!("../fixtures/vrrp/v3_ipv6_vrid54_prio120.ip.bin");

    fn advert_frame() -> Vec<u8> {
        let mut f = vec![0x33, 0x33, 0, 0, 0, 0x12, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
        f.extend_from_slice(ADVERT_IP);
        f
    }

    #[test]
    fn decodes_keepalived_ipv6_advert() {
        let Decoded::Advert6(a) = decode(&Frame {
            ts_us: 5,
            data: advert_frame(),
        }) else {
            panic!("not an IPv6 advert");
        };
        assert_eq!(
            (
                a.version,
                a.kind,
                a.vrid,
                a.priority,
                a.adver_int_centis,
                a.hop_limit
            ),
            (3, 1, 54, 120, 100, 255)
        );
        assert_eq!(a.dst, "ff02::12".parse::<Ipv6Addr>().unwrap());
        assert!(a.src.is_unicast_link_local());
        assert_eq!(
            a.addresses,
            ["fd00:201::100", "fd00:201::101"].map(|s| s.parse::<Ipv6Addr>().unwrap())
        );
        assert!(a.checksum_ok);
        let mut bad = advert_frame();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let Decoded::Advert6(b) = decode(&Frame {
            ts_us: 5,
            data: bad,
        }) else {
            panic!("not an IPv6 advert");
        };
        assert!(!b.checksum_ok);
    }

    #[test]
    fn decodes_keepalived_neighbour_advertisement() {
        let Decoded::Na(n) = decode(&Frame {
            ts_us: 7,
            data: NA_FRAME.to_vec(),
        }) else {
            panic!("not a neighbour advertisement");
        };
        let target: Ipv6Addr = "fd00:201::100".parse().unwrap();
        assert_eq!((n.src, n.target, n.hop_limit), (target, target, 255));
        assert!(n.is_unsolicited() && !n.router && n.checksum_ok);
        assert_eq!(n.target_mac, Some(n.src_mac));
        assert_eq!(n.dst_mac, [0x33, 0x33, 0, 0, 0, 1]);
        let mut bad = NA_FRAME.to_vec();
        bad[14 + 40 + 8 + 15] ^= 1;
        let Decoded::Na(b) = decode(&Frame {
            ts_us: 7,
            data: bad,
        }) else {
            panic!("not a neighbour advertisement");
        };
        assert!(!b.checksum_ok);
    }

    #[test]
    fn failover_pairs_the_old_masters_last_advert_with_the_new_ones_first_and_its_na() {
        let old = advert_frame();
        let mut new = old.clone();
        new[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        new[14 + 8 + 15] ^= 0x55; // another source (checksums are not looked at)
        let mut na = NA_FRAME.to_vec();
        na[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        let fr = |ts_us, data: &Vec<u8>| Frame {
            ts_us,
            data: data.clone(),
        };
        let frames = [
            fr(1_000_000, &old),
            fr(2_000_000, &old),
            fr(5_609_000, &na),
            fr(5_609_400, &new),
            fr(6_609_400, &new),
        ];
        let f = Failover6::find(&frames, 54).unwrap();
        assert_ne!(f.old_master, f.new_master);
        assert_eq!(f.advert_gap_us(), 3_609_400);
        assert_eq!(f.na_gap_us(), Some(3_609_000));
        assert_eq!(f.last_old_priority, 120);
        assert!(Failover6::find(&frames[..2], 54).is_err());
        assert!(Failover6::find(&frames, 55).is_err());
    }
}
