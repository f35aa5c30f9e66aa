//! A VRRP flood for `tests/vrrp_flood.rs`: whole Ethernet frames of VRRP
//! adverts (IPv4, protocol 112), each spoiled in one chosen way, sent at a
//! fixed rate out of one interface through an `AF_PACKET` socket in batches
//! of `sendmmsg(2)`, so that one core holds 100,000 frames/s. Frames
//! bypass the sender's IP stack (no ARP, no routing, no qdisc), so what
//! leaves is exactly what was built.
//!
//! The adverts are built here from RFC 5798 (VRRPv3) and RFC 3768 (VRRPv2),
//! not with picket's `wire` module, so that a bug there cannot hide itself.
//!
//! Usage:
//! `vrrp_flood IFACE KIND RATE SECONDS SRC DST DST_MAC VRID PRIORITY [COUNT]`
//! - `KIND`: `valid` (a well-formed VRRPv3 advert), `bad-checksum`, `ttl1`
//!   (IPv4 TTL 1), `truncated` (the VRRP message cut to its first 6
//!   bytes, the IP lengths saying so), `v2` (a well-formed VRRPv2 advert,
//!   no authentication);
//! - `RATE`: frames per second, `0` for as fast as possible;
//! - `DST_MAC`: `01:00:5e:00:00:12` for the VRRP group, the target's MAC
//!   for unicast.
//!
//! Every advert lists `COUNT` addresses (default 1), 10.99.0.100 first and
//! then 10.99.1.1, 10.99.1.2, ..., and advertises every 100 centiseconds
//! (v2: 1 s). A `COUNT` near 255 makes each advert long and its checksum
//! costly to verify. IP identifications cycle through `RING` values, so the
//! frames are not all one. On exit (after `SECONDS`, or on SIGTERM/SIGINT)
//! it prints one line: `sent=N seconds=S rate=R errors=E` (errors: batches
//! the kernel refused, e.g. ENOBUFS).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Frames per `sendmmsg(2)` call.
const BATCH: usize = 64;
/// Distinct frames (IP identifications) cycled through.
const RING: usize = 256;
/// The address every advert lists.
const LISTED: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 100);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// How the advert is spoiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Valid,
    BadChecksum,
    Ttl1,
    Truncated,
    V2,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "valid" => Kind::Valid,
            "bad-checksum" => Kind::BadChecksum,
            "ttl1" => Kind::Ttl1,
            "truncated" => Kind::Truncated,
            "v2" => Kind::V2,
            _ => panic!("unknown kind {s}: valid, bad-checksum, ttl1, truncated, v2"),
        }
    }
}

/// The Internet checksum (RFC 1071) of `parts` taken as one byte string of
/// even-length pieces.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for w in part.chunks(2) {
            let hi = u32::from(w[0]) << 8;
            let lo = w.get(1).map_or(0, |&b| u32::from(b));
            sum += hi | lo;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Fields of the adverts sent.
struct Spec {
    kind: Kind,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    vrid: u8,
    priority: u8,
    count: u8,
}

/// One whole Ethernet frame of `spec`, IP identification `ident`.
fn frame(spec: &Spec, ident: u16) -> Vec<u8> {
    // The VRRP message, RFC 5798 §5.1 (v3) / RFC 3768 §5.1 (v2):
    // version|type, VRID, priority, count, then v3 rsvd|max adver int
    // (centiseconds, 12 bits) or v2 auth type, adver int (seconds); the
    // checksum; the addresses; v2 eight bytes of authentication data.
    let mut vrrp = Vec::new();
    let v2 = spec.kind == Kind::V2;
    vrrp.push(if v2 { 0x21 } else { 0x31 });
    vrrp.extend_from_slice(&[spec.vrid, spec.priority, spec.count]);
    if v2 {
        vrrp.extend_from_slice(&[0, 1]);
    } else {
        vrrp.extend_from_slice(&100u16.to_be_bytes());
    }
    vrrp.extend_from_slice(&[0, 0]);
    vrrp.extend_from_slice(&LISTED.octets());
    for i in 1..spec.count {
        vrrp.extend_from_slice(&[10, 99, 1, i]);
    }
    if v2 {
        vrrp.extend_from_slice(&[0; 8]);
    }
    // v2: over the message; v3: with the IPv4 pseudo-header.
    let ck = if v2 {
        checksum(&[&vrrp])
    } else {
        let len = u16::try_from(vrrp.len()).unwrap().to_be_bytes();
        let pseudo = [&spec.src.octets()[..], &spec.dst.octets(), &[0, 112], &len].concat();
        checksum(&[&pseudo, &vrrp])
    };
    vrrp[6..8].copy_from_slice(&ck.to_be_bytes());
    match spec.kind {
        Kind::BadChecksum => vrrp[6] ^= 0x5a,
        Kind::Truncated => vrrp.truncate(6),
        _ => {}
    }
    // The IPv4 header, RFC 791: no options, TOS 0xC0 as keepalived's.
    let ttl = if spec.kind == Kind::Ttl1 { 1 } else { 255 };
    let total = u16::try_from(20 + vrrp.len()).unwrap();
    let mut ip = vec![0x45, 0xc0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&ident.to_be_bytes());
    ip.extend_from_slice(&[0, 0, ttl, 112, 0, 0]);
    ip.extend_from_slice(&spec.src.octets());
    ip.extend_from_slice(&spec.dst.octets());
    let ck = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    let mut f = Vec::with_capacity(14 + ip.len() + vrrp.len());
    f.extend_from_slice(&spec.dst_mac);
    f.extend_from_slice(&spec.src_mac);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&vrrp);
    f
}

fn parse_mac(s: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    let mut parts = s.trim().split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next().unwrap_or(""), 16)
            .unwrap_or_else(|e| panic!("bad MAC {s}: {e}"));
    }
    mac
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (count, args) = match &args[..] {
        [rest @ .., count] if rest.len() == 9 => (count.parse().expect("COUNT: 1..255"), rest),
        rest => (1, rest),
    };
    let [
        iface,
        kind,
        rate,
        seconds,
        src,
        dst,
        dst_mac,
        vrid,
        priority,
    ] = args
    else {
        panic!("usage: vrrp_flood IFACE KIND RATE SECONDS SRC DST DST_MAC VRID PRIORITY [COUNT]");
    };
    let sys = format!("/sys/class/net/{iface}");
    let read = |f: &str| {
        std::fs::read_to_string(format!("{sys}/{f}")).unwrap_or_else(|e| panic!("{sys}/{f}: {e}"))
    };
    let ifindex: i32 = read("ifindex").trim().parse().unwrap();
    let spec = Spec {
        kind: Kind::parse(kind),
        src_mac: parse_mac(&read("address")),
        dst_mac: parse_mac(dst_mac),
        src: src.parse().expect("SRC: an IPv4 address"),
        dst: dst.parse().expect("DST: an IPv4 address"),
        vrid: vrid.parse().expect("VRID: 1..255"),
        priority: priority.parse().expect("PRIORITY: 0..255"),
        count,
    };
    let rate: u64 = rate.parse().expect("RATE: frames per second");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let frames: Vec<Vec<u8>> = (0..RING)
        .map(|i| frame(&spec, u16::try_from(i).unwrap()))
        .collect();

    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    // Protocol 0: the socket sends only, it receives nothing.
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    assert!(
        fd >= 0,
        "AF_PACKET socket: {}",
        std::io::Error::last_os_error()
    );
    let one: libc::c_int = 1;
    // SAFETY: an int option of the right size. Best effort: no qdisc.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            (&raw const one).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut to: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    to.sll_family = libc::AF_PACKET as u16;
    to.sll_protocol = (libc::ETH_P_IP as u16).to_be();
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    to.sll_addr[..6].copy_from_slice(&spec.dst_mac);

    // The iovecs and headers of every ring position, built once; a batch is
    // BATCH consecutive headers (the ring is walked a batch at a time).
    let mut iovs: Vec<libc::iovec> = frames
        .iter()
        .map(|f| libc::iovec {
            iov_base: f.as_ptr() as *mut libc::c_void,
            iov_len: f.len(),
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: msghdr is plain data; all-zero is a valid value.
            let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
            hdr.msg_name = (&raw mut to).cast();
            hdr.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            hdr.msg_iov = iov;
            hdr.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: hdr,
                msg_len: 0,
            }
        })
        .collect();
    const { assert!(RING.is_multiple_of(BATCH)) };

    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let (mut sent, mut errors, mut at) = (0u64, 0u64, 0usize);
    while !STOP.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if rate != 0 {
            let due = (now - start).as_secs_f64() * rate as f64;
            if (sent + BATCH as u64) as f64 > due {
                // Ahead of the rate: wait for the next batch's turn.
                let wait = ((sent + BATCH as u64) as f64 - due) / rate as f64;
                std::thread::sleep(Duration::from_secs_f64(wait.min(0.001)));
                continue;
            }
        }
        // SAFETY: `msgs[at..at + BATCH]` are valid headers pointing at live
        // iovecs, frames and `to`.
        let n = unsafe { libc::sendmmsg(fd, msgs[at..].as_mut_ptr(), BATCH as libc::c_uint, 0) };
        if n < 0 {
            errors += 1;
            std::thread::yield_now();
        } else {
            sent += n as u64;
        }
        at = (at + BATCH) % RING;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent={sent} seconds={secs:.3} rate={:.0} errors={errors}",
        sent as f64 / secs
    );
}
