//! Packets on the wire: tcpdump captures, a classic-pcap reader, decoders
//! for the frames VRRP tests need (Ethernet → IPv4 → VRRP, Ethernet → ARP,
//! and in `capture6.rs` Ethernet → IPv6 → VRRP or neighbour advertisement),
//! failover analysis over a capture, and tshark as the independent judge of
//! the wire format.
//!
//! The decoders are written here from the RFCs, not taken from picket's
//! `wire` module, so that a bug there cannot hide itself in the tests.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Lab, Proc, find_tool, wait_until};

/// pcap link type of Ethernet frames.
const LINKTYPE_ETHERNET: u32 = 1;
/// IP protocol number of VRRP.
const PROTO_VRRP: u8 = 112;

/// A running tcpdump writing a pcap file.
pub struct Capture {
    proc: Option<Proc>,
    /// The pcap file.
    pub path: PathBuf,
    stderr: PathBuf,
}

impl Capture {
    /// Starts `tcpdump -U --immediate-mode -w FILE -i iface filter` in `ns`
    /// and returns once it is listening. `-Z root` keeps it able to write
    /// the lab's directory.
    pub fn start(lab: &Lab, ns: &str, iface: &str, filter: &str) -> Capture {
        let path = lab.path(&format!("capture-{iface}"), "pcap");
        let stderr = path.with_extension("stderr");
        let tcpdump = find_tool("tcpdump").expect("tcpdump (checked by lab::ready)");
        let tcpdump = tcpdump.to_str().expect("UTF-8 path");
        let file = path.to_str().expect("UTF-8 path");
        let proc = super::spawn_in_logged(
            ns,
            tcpdump,
            &[
                "-Z",
                "root",
                "-U",
                "--immediate-mode",
                "-n",
                "-w",
                file,
                "-i",
                iface,
                filter,
            ],
            &stderr,
        );
        let mut cap = Capture {
            proc: Some(proc),
            path,
            stderr,
        };
        let listening = wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&cap.stderr).is_ok_and(|s| s.contains("listening on"))
        });
        if !listening {
            let err = std::fs::read_to_string(&cap.stderr).unwrap_or_default();
            cap.stop();
            panic!("tcpdump did not start: {err}");
        }
        cap
    }

    /// The frames written so far (a partly written last record is left out).
    pub fn frames(&self) -> Vec<Frame> {
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        if bytes.len() < 24 {
            return Vec::new();
        }
        read_pcap(&bytes).unwrap_or_else(|e| panic!("{}: {e}", self.path.display()))
    }

    /// The VRRP adverts captured so far, decoded.
    pub fn adverts(&self) -> Vec<Advert> {
        adverts(&self.frames())
    }

    /// Stops tcpdump (SIGTERM: it flushes and exits) and returns every
    /// frame of the file.
    pub fn stop(&mut self) -> Vec<Frame> {
        if let Some(mut p) = self.proc.take() {
            p.signal(Signal::SIGTERM);
            if p.wait_timeout(Duration::from_secs(5)).is_none() {
                p.kill_group();
            }
        }
        self.frames()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// pcap
// ---------------------------------------------------------------------------

/// One captured frame: its timestamp in µs since the epoch and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Capture time, µs since the Unix epoch.
    pub ts_us: u64,
    /// The link-layer frame as captured (up to the snap length).
    pub data: Vec<u8>,
}

/// Reads a classic pcap file (either byte order, µs or ns timestamps) of
/// Ethernet frames. A truncated last record — a file still being written —
/// is left out; anything else malformed is an error.
pub fn read_pcap(bytes: &[u8]) -> Result<Vec<Frame>, String> {
    let magic: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or("shorter than a pcap magic number")?;
    let (big_endian, nanos) = match u32::from_le_bytes(magic) {
        0xa1b2_c3d4 => (false, false),
        0xa1b2_3c4d => (false, true),
        0xd4c3_b2a1 => (true, false),
        0x4d3c_b2a1 => (true, true),
        m => return Err(format!("not a classic pcap file (magic {m:#010x})")),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let linktype = u32_at(20).ok_or("truncated pcap global header")?;
    if linktype != LINKTYPE_ETHERNET {
        return Err(format!("link type {linktype}, expected Ethernet (1)"));
    }
    let snaplen = u32_at(16).ok_or("truncated pcap global header")?;
    let mut frames = Vec::new();
    let mut at = 24;
    while let (Some(sec), Some(frac), Some(incl)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8)) {
        if incl > snaplen.max(65_535) {
            return Err(format!("record at byte {at}: length {incl} > snap length"));
        }
        let start = at + 16;
        let Some(data) = bytes.get(start..start + incl as usize) else {
            break; // being written
        };
        let sub_us = if nanos { frac / 1000 } else { frac };
        frames.push(Frame {
            ts_us: u64::from(sec) * 1_000_000 + u64::from(sub_us),
            data: data.to_vec(),
        });
        at = start + incl as usize;
    }
    Ok(frames)
}

// ---------------------------------------------------------------------------
// Decoders
// ---------------------------------------------------------------------------

/// A VRRP advertisement carried in IPv4 in an Ethernet frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    /// Capture time, µs since the epoch.
    pub ts_us: u64,
    /// Ethernet source: the sender's MAC (or the virtual MAC).
    pub src_mac: [u8; 6],
    /// IPv4 source: the sender's primary address.
    pub src: Ipv4Addr,
    /// IPv4 destination (224.0.0.18 for multicast adverts).
    pub dst: Ipv4Addr,
    /// IPv4 TTL (must be 255).
    pub ttl: u8,
    /// IPv4 TOS byte (keepalived sends 0xC0).
    pub tos: u8,
    /// VRRP version (2 or 3).
    pub version: u8,
    /// VRRP type (1: advertisement).
    pub kind: u8,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority (0: the master is stopping).
    pub priority: u8,
    /// Advertisement interval in centiseconds (v2's seconds × 100).
    pub adver_int_centis: u16,
    /// Authentication type (v2 only; 0 for v3).
    pub auth_type: u8,
    /// The virtual addresses listed.
    pub addresses: Vec<Ipv4Addr>,
    /// Checksum verified: v2 over the VRRP message, v3 with the IPv4
    /// pseudo-header (RFC 5798 §5.2.8) or, accepted too, without it.
    pub checksum_ok: bool,
}

/// An ARP packet in an Ethernet frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// Capture time, µs since the epoch.
    pub ts_us: u64,
    /// Ethernet source.
    pub src_mac: [u8; 6],
    /// Ethernet destination.
    pub dst_mac: [u8; 6],
    /// 1 request, 2 reply.
    pub op: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl Arp {
    /// Gratuitous: it announces the sender's own address (sender IP equals
    /// target IP), request or reply.
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }
}

/// What a frame is, as far as VRRP tests care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// An IPv4 VRRP packet.
    Advert(Advert),
    /// An Ethernet/IPv4 ARP packet.
    Arp(Arp),
    /// An IPv6 VRRP packet.
    Advert6(super::capture6::Advert6),
    /// An ICMPv6 neighbour advertisement.
    Na(super::capture6::Na),
    /// Anything else, or malformed, with the reason.
    Other(&'static str),
}

fn mac(b: &[u8]) -> [u8; 6] {
    let mut m = [0; 6];
    m.copy_from_slice(&b[..6]);
    m
}

fn ipv4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// The Internet checksum's folded one's-complement sum of `chunks`.
pub(super) fn ones_sum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in chunks {
        for pair in chunk.chunks(2) {
            let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
            sum += u32::from(word);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Decodes one Ethernet frame.
pub fn decode(frame: &Frame) -> Decoded {
    let d = &frame.data;
    if d.len() < 14 {
        return Decoded::Other("short Ethernet frame");
    }
    let (dst_mac, src_mac, ethertype, payload) =
        (mac(&d[0..]), mac(&d[6..]), be16(&d[12..]), &d[14..]);
    match ethertype {
        0x0800 => decode_ipv4(frame.ts_us, src_mac, payload),
        0x0806 => {
            if payload.len() < 28 {
                return Decoded::Other("short ARP packet");
            }
            let p = payload;
            if be16(&p[0..]) != 1 || be16(&p[2..]) != 0x0800 || p[4] != 6 || p[5] != 4 {
                return Decoded::Other("ARP for other than Ethernet/IPv4");
            }
            Decoded::Arp(Arp {
                ts_us: frame.ts_us,
                src_mac,
                dst_mac,
                op: be16(&p[6..]),
                sender_mac: mac(&p[8..]),
                sender_ip: ipv4(&p[14..]),
                target_mac: mac(&p[18..]),
                target_ip: ipv4(&p[24..]),
            })
        }
        0x86dd => super::capture6::decode_ipv6(frame, src_mac, dst_mac, payload),
        _ => Decoded::Other("neither IPv4, IPv6 nor ARP"),
    }
}

fn decode_ipv4(ts_us: u64, src_mac: [u8; 6], p: &[u8]) -> Decoded {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return Decoded::Other("not IPv4");
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(be16(&p[2..]));
    if ihl < 20 || total < ihl || total > p.len() {
        return Decoded::Other("bad IPv4 lengths");
    }
    if p[9] != PROTO_VRRP {
        return Decoded::Other("IPv4 but not VRRP");
    }
    let (src, dst) = (ipv4(&p[12..]), ipv4(&p[16..]));
    let v = &p[ihl..total];
    if v.len() < 8 {
        return Decoded::Other("short VRRP packet");
    }
    let version = v[0] >> 4;
    let count = usize::from(v[3]);
    let addr_end = 8 + 4 * count;
    let Some(addr_bytes) = v.get(8..addr_end) else {
        return Decoded::Other("VRRP address list truncated");
    };
    let (adver_int_centis, auth_type) = if version == 3 {
        (u16::from_be_bytes([v[4] & 0x0f, v[5]]), 0)
    } else {
        (u16::from(v[5]) * 100, v[4])
    };
    // v2: the message is header + addresses + 8 bytes of authentication data.
    let message = if version == 2 {
        v.get(..addr_end + 8).unwrap_or(v)
    } else {
        v.get(..addr_end).unwrap_or(v)
    };
    let plain = ones_sum(&[message]) == 0xffff;
    let checksum_ok = if version == 3 {
        let len = u16::try_from(message.len()).unwrap_or(0).to_be_bytes();
        let pseudo = [&p[12..20], &[0, PROTO_VRRP], &len[..], message];
        ones_sum(&pseudo) == 0xffff || plain
    } else {
        plain
    };
    Decoded::Advert(Advert {
        ts_us,
        src_mac,
        src,
        dst,
        ttl: p[8],
        tos: p[1],
        version,
        kind: v[0] & 0x0f,
        vrid: v[1],
        priority: v[2],
        adver_int_centis,
        auth_type,
        addresses: addr_bytes.chunks(4).map(ipv4).collect(),
        checksum_ok,
    })
}

/// The VRRP adverts among `frames`.
pub fn adverts(frames: &[Frame]) -> Vec<Advert> {
    frames
        .iter()
        .filter_map(|f| match decode(f) {
            Decoded::Advert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The ARP packets among `frames`.
pub fn arps(frames: &[Frame]) -> Vec<Arp> {
    frames
        .iter()
        .filter_map(|f| match decode(f) {
            Decoded::Arp(a) => Some(a),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Failover
// ---------------------------------------------------------------------------

/// A change of master seen on a capture: the first time adverts of `vrid`
/// come from a new source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover {
    /// The virtual router.
    pub vrid: u8,
    /// Source address of the old master's adverts.
    pub old_master: Ipv4Addr,
    /// Source address of the new master's adverts.
    pub new_master: Ipv4Addr,
    /// The old master's last advert before the new one's first.
    pub last_old_us: u64,
    /// Its priority: 0 if the old master stopped cleanly.
    pub last_old_priority: u8,
    /// The new master's first advert.
    pub first_new_us: u64,
    /// The new master's first gratuitous ARP (by Ethernet source) after the
    /// old master's last advert, if captured.
    pub first_garp_us: Option<u64>,
}

impl Failover {
    /// Finds the first change of master of `vrid` in `frames`.
    pub fn find(frames: &[Frame], vrid: u8) -> Result<Failover, String> {
        let ads: Vec<Advert> = adverts(frames)
            .into_iter()
            .filter(|a| a.vrid == vrid)
            .collect();
        let i = first_change(&ads, vrid, |a| a.src)?;
        let (old, new) = (&ads[i - 1], &ads[i]);
        let first_garp_us = arps(frames)
            .iter()
            .find(|a| a.ts_us >= old.ts_us && a.src_mac == new.src_mac && a.is_gratuitous())
            .map(|a| a.ts_us);
        Ok(Failover {
            vrid,
            old_master: old.src,
            new_master: new.src,
            last_old_us: old.ts_us,
            last_old_priority: old.priority,
            first_new_us: new.ts_us,
            first_garp_us,
        })
    }

    /// Last advert of the old master → first advert of the new one, µs.
    pub fn advert_gap_us(&self) -> u64 {
        self.first_new_us - self.last_old_us
    }

    /// Last advert of the old master → first gratuitous ARP of the new one,
    /// µs, if one was captured.
    pub fn garp_gap_us(&self) -> Option<u64> {
        self.first_garp_us.map(|t| t - self.last_old_us)
    }
}

/// The index of the first advert of `ads` (all of `vrid`) whose source
/// differs from the first one's: the new master's first.
pub(super) fn first_change<A, S: PartialEq + std::fmt::Display>(
    ads: &[A],
    vrid: u8,
    src: impl Fn(&A) -> S,
) -> Result<usize, String> {
    let first = src(ads
        .first()
        .ok_or(format!("no advert of VRID {vrid} captured"))?);
    ads.iter().position(|a| src(a) != first).ok_or(format!(
        "no failover: all {} adverts of VRID {vrid} come from {first}",
        ads.len()
    ))
}

// ---------------------------------------------------------------------------
// tshark
// ---------------------------------------------------------------------------

/// Runs `tshark -r pcap -Y filter -T fields` with `fields` and returns one
/// row of values per packet shown.
pub(super) fn tshark_fields(
    pcap: &Path,
    filter: &str,
    fields: &[&str],
) -> Result<Vec<Vec<String>>, String> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"])
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().map_err(|e| format!("tshark: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tshark failed: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect())
}

/// Has tshark decode every VRRP packet of `pcap` (IPv4 or IPv6; not the
/// copies quoted in ICMP errors, e.g. a dead peer's "unrecognized next
/// header") and fails on any version other than 2 or 3, a checksum not
/// reported good (`vrrp.checksum.status` 1), or a malformed-packet marker.
/// Returns how many adverts it decoded.
pub fn tshark_check(pcap: &Path) -> Result<usize, String> {
    let rows = tshark_fields(
        pcap,
        "vrrp && !icmp && !icmpv6",
        &[
            "frame.number",
            "vrrp.version",
            "vrrp.prio",
            "vrrp.checksum.status",
            "_ws.malformed",
        ],
    )?;
    let count = rows.len();
    let mut bad = Vec::new();
    for f in &rows {
        let ok = f.len() == 5
            && matches!(f[1].as_str(), "2" | "3")
            && f[2].parse::<u8>().is_ok()
            && f[3] == "1"
            && f[4].is_empty();
        if !ok {
            let at = |i: usize| f.get(i).map_or("", String::as_str);
            bad.push(format!(
                "frame {}: version {:?} prio {:?} checksum status {:?} malformed {:?}",
                at(0),
                at(1),
                at(2),
                at(3),
                at(4)
            ));
        }
    }
    if bad.is_empty() {
        Ok(count)
    } else {
        Err(format!(
            "tshark: {} of {count} VRRP packets bad:\n{}",
            bad.len(),
            bad.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived's v3 advert for VRID 51, priority 150, 1 s, one VIP
    /// 10.99.0.100, from 10.99.0.12, as captured on the lab bridge.
    fn v3_frame() -> Vec<u8> {
        let mut f = vec![
            0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,
        ];
        let mut ip = vec![
            0x45, 0xc0, 0, 32, 0, 1, 0, 0, 255, 112, 0, 0, 10, 99, 0, 12, 224, 0, 0, 18,
        ];
        let ck = !ones_sum(&[&ip]);
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        let mut v = vec![0x31, 51, 150, 1, 0x00, 100, 0, 0, 10, 99, 0, 100];
        let pseudo: [&[u8]; 4] = [&ip[12..20], &[0, 112], &[0, 12], &v];
        let ck = !ones_sum(&pseudo);
        v[6..8].copy_from_slice(&ck.to_be_bytes());
        f.extend(ip);
        f.extend(v);
        f
    }

    fn pcap(frames: &[(u32, u32, &[u8])], big_endian: bool, nanos: bool) -> Vec<u8> {
        let w32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut out = Vec::new();
        out.extend(w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
        out.extend(w16(2));
        out.extend(w16(4));
        out.extend(w32(0));
        out.extend(w32(0));
        out.extend(w32(262_144));
        out.extend(w32(1));
        for (sec, frac, data) in frames {
            out.extend(w32(*sec));
            out.extend(w32(*frac));
            out.extend(w32(data.len() as u32));
            out.extend(w32(data.len() as u32));
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn pcap_reader_reads_both_byte_orders_and_precisions() {
        let a = v3_frame();
        for (big, nanos, frac, want_us) in [
            (false, false, 250_000, 7_000_250_000),
            (true, false, 250_000, 7_000_250_000),
            (false, true, 250_000_999, 7_000_250_000),
            (true, true, 1_999, 7_000_000_001),
        ] {
            let bytes = pcap(&[(7000, frac, &a), (7001, 0, &a[..20])], big, nanos);
            let frames = read_pcap(&bytes).unwrap();
            assert_eq!(frames.len(), 2, "big {big} nanos {nanos}");
            assert_eq!(frames[0].ts_us, want_us, "big {big} nanos {nanos}");
            assert_eq!(frames[0].data, a);
            assert_eq!(frames[1].data.len(), 20);
            // A record cut short (file still being written) is left out.
            let cut = read_pcap(&bytes[..bytes.len() - 3]).unwrap();
            assert_eq!(cut.len(), 1);
        }
        assert!(read_pcap(b"not a pcap file at all, no").is_err());
    }

    #[test]
    fn decodes_a_v3_advert_and_checks_its_checksum() {
        let frame = Frame {
            ts_us: 1,
            data: v3_frame(),
        };
        let Decoded::Advert(a) = decode(&frame) else {
            panic!("not decoded as an advert: {:?}", decode(&frame));
        };
        assert_eq!(
            (
                a.version,
                a.kind,
                a.vrid,
                a.priority,
                a.adver_int_centis,
                a.ttl,
                a.tos
            ),
            (3, 1, 51, 150, 100, 255, 0xc0)
        );
        assert_eq!(a.src, Ipv4Addr::new(10, 99, 0, 12));
        assert_eq!(a.addresses, vec![Ipv4Addr::new(10, 99, 0, 100)]);
        assert!(a.checksum_ok);
        let mut bad = frame.clone();
        let last = bad.data.len() - 1;
        bad.data[last] ^= 1;
        let Decoded::Advert(b) = decode(&bad) else {
            panic!("not an advert")
        };
        assert!(!b.checksum_ok);
    }

    #[test]
    fn failover_pairs_the_old_masters_last_advert_with_the_new_ones_first() {
        let old = v3_frame();
        let mut new = old.clone();
        new[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        new[14 + 15] = 11; // source 10.99.0.11 (checksums are not looked at)
        let mut garp = vec![0xff; 6];
        garp.extend([2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        garp.extend([
            2, 0, 0, 0, 0, 1, 10, 99, 0, 100, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]);
        garp.extend([10, 99, 0, 100]);
        let fr = |ts_us, data: &Vec<u8>| Frame {
            ts_us,
            data: data.clone(),
        };
        let frames = [
            fr(1_000_000, &old),
            fr(2_000_000, &old),
            fr(5_609_000, &garp),
            fr(5_609_500, &new),
            fr(6_609_500, &new),
        ];
        let f = Failover::find(&frames, 51).unwrap();
        assert_eq!(f.old_master, Ipv4Addr::new(10, 99, 0, 12));
        assert_eq!(f.new_master, Ipv4Addr::new(10, 99, 0, 11));
        assert_eq!(f.advert_gap_us(), 3_609_500);
        assert_eq!(f.garp_gap_us(), Some(3_609_000));
        assert_eq!(f.last_old_priority, 150);
        assert!(Failover::find(&frames[..2], 51).is_err());
        assert!(Failover::find(&frames, 52).is_err());
    }
}
