//! VRRPv3 over IPv6 between picket and Debian's keepalived 2.2.7, in
//! network namespaces on one bridge (the harness of `vrrp_interop`): VRID
//! 61, priority 150 on `r1`, 100 on `r2`, advert_int 1, VIP
//! fd00:99::100/64 on eth0, each router's link-local address as the source
//! of multicast adverts to ff02::12.
//!
//! Judged on a capture of the bridge, with tshark as the independent judge:
//! - multicast, either side high: the higher priority ends master holding
//!   the VIP, the other holds none, the client pings the VIP and its
//!   neighbour entry points at the master's MAC; the master is SIGKILLed and
//!   the other takes over within Master_Down_Interval ± 20 ms of its last
//!   advert, announcing the VIP with an unsolicited neighbour advertisement
//!   (to ff02::1, hop limit 255, Override) that moves the client's
//!   neighbour entry to its MAC;
//! - unicast (`unicast_src_ip` and `unicast_peer` over IPv6), either side
//!   high: adverts go to the peer only, checksum good for that destination,
//!   and the same election and takeover;
//! - a clean stop (SIGTERM of picket, master): its priority-0 advert, then
//!   keepalived's first advert Skew_Time ± 20 ms later, its NA moving the
//!   client's neighbour entry;
//! - a stranger (keepalived, priority 200, naming picket as its peer but
//!   not named by picket, which has `check_unicast_src`) is ignored and
//!   counted (`not_a_peer` in picket's SIGUSR2 dump);
//! - every VRRP packet and neighbour advertisement captured decodes in
//!   tshark with a good checksum and nothing malformed.
//!
//! Needs root, iproute2, tcpdump, tshark, ping and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_ipv6 -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use lab::capture6::{adverts6, nas};
use lab::{
    Capture, Daemon, Failover6, Lab, Router, VIP6, has_address6, link_local_of, mac_of,
    neighbour_mac, tshark_check, tshark_check_na, wait_until,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const VRID: u8 = 61;
const HIGH: u8 = 150;
const LOW: u8 = 100;
const STRANGER: u8 = 200;
/// advert_int 1 s, in centiseconds.
const ADVERT_CENTIS: u16 = 100;
/// Slack allowed around a protocol interval measured on the capture.
const SLACK_US: u64 = 20_000;
/// The IPv6 VRRP group.
const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The kernel's default unicast hop limit: IPv6 unicast adverts without
/// `unicast_ttl` carry it (keepalived's behaviour, matched by picket).
const DEFAULT_HOP_LIMIT: u8 = 64;
/// What the capture keeps: IPv6 VRRP and ICMPv6.
const FILTER: &str = "ip6 proto 112 or icmp6";

/// keepalived.conf of an IPv6 router; `unicast` = (source, peers).
fn conf(priority: u8, unicast: Option<(Ipv6Addr, &[Ipv6Addr])>, extra: &str) -> String {
    let unicast = unicast.map_or_else(String::new, |(src, peers)| {
        let peers: String = peers.iter().map(|p| format!("        {p}\n")).collect();
        format!("    unicast_src_ip {src}\n    unicast_peer {{\n{peers}    }}\n")
    });
    format!(
        "global_defs {{
    router_id lab-v6-{priority}
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority {priority}
    advert_int 1
{unicast}{extra}
    virtual_ipaddress {{
        {VIP6}/64 dev eth0
    }}
}}
"
    )
}

/// Master_Down_Interval of a v3 backup of `priority`, µs (RFC 5798 §6.1).
fn master_down_us(priority: u8) -> u64 {
    let skew = (256 - u64::from(priority)) * u64::from(ADVERT_CENTIS) * 10_000 / 256;
    3 * u64::from(ADVERT_CENTIS) * 10_000 + skew
}

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

/// Wall-clock time in µs since the epoch: the clock of capture timestamps.
fn now_us() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(t.as_micros()).unwrap()
}

fn ready(daemons: &[Daemon]) -> bool {
    let mut tools = vec!["ping", "sysctl"];
    if daemons.contains(&Daemon::Keepalived) {
        tools.push(lab::daemon::KEEPALIVED);
    }
    lab::ready(&tools)
}

/// Every IPv6 advert on the capture is well formed (our decoder and
/// tshark agree), and goes where `dst_of(src)` says with hop limit `hops`.
/// Returns the count.
fn check_adverts(cap: &Capture, dst_of: impl Fn(Ipv6Addr) -> Ipv6Addr, hops: u8) -> usize {
    let ads = adverts6(&cap.frames());
    assert!(!ads.is_empty(), "no adverts captured");
    for a in &ads {
        assert_eq!(
            (a.version, a.kind, a.vrid, a.adver_int_centis),
            (3, 1, VRID, ADVERT_CENTIS),
            "{a:?}"
        );
        assert_eq!(a.dst, dst_of(a.src), "sent to the wrong address: {a:?}");
        assert_eq!(a.hop_limit, hops, "{a:?}");
        assert_eq!(a.traffic_class, 0xc0, "{a:?}");
        assert!(a.checksum_ok, "bad checksum: {a:?}");
        assert_eq!(a.addresses, vec![VIP6], "{a:?}");
    }
    let decoded = tshark_check(&cap.path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        decoded,
        ads.len(),
        "tshark and the harness count differently"
    );
    decoded
}

/// Asserts that picket added the VIP in `ns` without duplicate address
/// detection (`IFA_F_NODAD`, keepalived's default): `ip` shows `nodad`.
fn assert_vip_nodad(ns: &str) {
    let out = lab::run("ip", &["-n", ns, "-6", "-o", "addr", "show", "dev", "eth0"]).unwrap();
    let line = out
        .lines()
        .find(|l| l.contains(&format!("{VIP6}/64")))
        .unwrap_or_else(|| panic!("no VIP in {out}"));
    assert!(line.contains("nodad"), "VIP added with DAD: {line}");
}

/// The roles of one test: which daemon is high and low, multicast or
/// unicast.
struct Pair {
    high: Daemon,
    low: Daemon,
    unicast: bool,
}

/// The pair elects the higher priority; the client reaches the VIP through
/// it; it is SIGKILLed and the other takes over within
/// Master_Down_Interval ± 20 ms, announcing the VIP with an unsolicited NA
/// that moves the client's neighbour entry.
fn election_and_takeover(pair: &Pair) {
    if !ready(&[pair.high, pair.low]) {
        return;
    }
    let lab = Lab::new(if pair.unicast { "v6u" } else { "v6m" });
    let (hi, lo) = (lab.router(1).clone(), lab.router(2).clone());
    let (hi_ll, lo_ll) = (link_local_of(&hi.ns, "eth0"), link_local_of(&lo.ns, "eth0"));
    let (hi_mac, lo_mac) = (mac_of(&hi.ns, "eth0"), mac_of(&lo.ns, "eth0"));
    // Sources: the link-local addresses (multicast) or unicast_src_ip.
    let (hi_src, lo_src) = if pair.unicast {
        (hi.addr6, lo.addr6)
    } else {
        (hi_ll, lo_ll)
    };
    let mut cap = Capture::start(&lab, &lab.lan, "br0", FILTER);
    let uc = |me: Ipv6Addr, peer: Ipv6Addr| pair.unicast.then_some((me, vec![peer]));
    let conf_of = |priority, u: Option<(Ipv6Addr, Vec<Ipv6Addr>)>| {
        conf(priority, u.as_ref().map(|(s, p)| (*s, p.as_slice())), "")
    };
    let mut high: Router = pair
        .high
        .start(&lab, &hi.ns, &conf_of(HIGH, uc(hi.addr6, lo.addr6)));
    let low: Router = pair
        .low
        .start(&lab, &lo.ns, &conf_of(LOW, uc(lo.addr6, hi.addr6)));
    assert!(
        wait_until(us(master_down_us(HIGH)) + Duration::from_secs(5), || {
            has_address6(&hi.ns, "eth0", VIP6) && !has_address6(&lo.ns, "eth0", VIP6)
        }),
        "the higher priority did not end master alone"
    );
    let settled = now_us();
    // The backup hears the master for longer than its Master_Down_Interval.
    std::thread::sleep(us(master_down_us(LOW)) + Duration::from_millis(500));
    assert!(
        has_address6(&hi.ns, "eth0", VIP6),
        "the master lost the VIP"
    );
    assert!(
        !has_address6(&lo.ns, "eth0", VIP6),
        "the backup holds the VIP"
    );
    let recent: Vec<_> = adverts6(&cap.frames())
        .into_iter()
        .filter(|a| a.ts_us > settled)
        .collect();
    assert!(
        recent.len() >= 3,
        "too few adverts once settled: {recent:?}"
    );
    assert!(
        recent
            .iter()
            .all(|a| a.src == hi_src && a.priority == HIGH && a.src_mac == hi_mac),
        "once settled only the high router advertises: {recent:?}"
    );
    assert!(lab.client_pings6(VIP6), "the client cannot ping6 the VIP");
    assert_eq!(
        neighbour_mac(&lab.client.ns, IpAddr::V6(VIP6)),
        Some(hi_mac),
        "the client's neighbour entry for the VIP is not the master's MAC"
    );
    if pair.high == Daemon::Picket {
        assert_vip_nodad(&hi.ns);
    }

    high.kill();
    let mdi = master_down_us(LOW);
    assert!(
        wait_until(us(mdi) + Duration::from_secs(3), || {
            Failover6::find(&cap.frames(), VRID).is_ok_and(|f| f.first_na.is_some())
        }),
        "no takeover with advert and neighbour advertisement on the wire"
    );
    assert!(
        wait_until(Duration::from_secs(2), || has_address6(
            &lo.ns, "eth0", VIP6
        )),
        "the new master does not hold the VIP"
    );
    // The unsolicited NA moved the client's entry (no ping needed).
    assert!(
        wait_until(Duration::from_secs(2), || neighbour_mac(
            &lab.client.ns,
            IpAddr::V6(VIP6)
        ) == Some(lo_mac)),
        "the client's neighbour entry for the VIP did not move to the new master: {:?}",
        neighbour_mac(&lab.client.ns, IpAddr::V6(VIP6))
    );
    assert!(
        lab.client_pings6(VIP6),
        "the client cannot ping6 the VIP after takeover"
    );
    if pair.low == Daemon::Picket {
        assert_vip_nodad(&lo.ns);
    }
    let frames = cap.stop();
    let f = Failover6::find(&frames, VRID).unwrap();
    assert_eq!((f.old_master, f.new_master), (hi_src, lo_src), "{f:?}");
    assert_eq!(f.last_old_priority, HIGH, "a killed master sent priority 0");
    let na = f.first_na.clone().expect("an unsolicited NA");
    assert_eq!(
        (na.src, na.target, na.target_mac, na.hop_limit),
        (VIP6, VIP6, Some(lo_mac), 255),
        "{na:?}"
    );
    assert!(na.override_ && !na.solicited && na.checksum_ok, "{na:?}");
    assert_eq!(na.dst_mac, [0x33, 0x33, 0, 0, 0, 1], "{na:?}");
    let burst = nas(&frames)
        .iter()
        .filter(|n| n.src_mac == lo_mac && n.target == VIP6 && n.ts_us >= f.last_old_us)
        .count();
    let gap = f.advert_gap_us();
    let na_gap = f.na_gap_us().unwrap();
    let dst_of = |src: Ipv6Addr| {
        if !pair.unicast {
            GROUP
        } else if src == hi.addr6 {
            lo.addr6
        } else {
            hi.addr6
        }
    };
    let hops = if pair.unicast { DEFAULT_HOP_LIMIT } else { 255 };
    let n = check_adverts(&cap, dst_of, hops);
    let n_na = tshark_check_na(&cap.path).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "IPv6 {} ({} high, {} low): {n} adverts valid, {n_na} NAs valid in tshark; takeover after \
         kill: advert gap {:.3} ms, first NA {:.3} ms ({burst} NAs for the VIP), \
         Master_Down_Interval {:.3} ms",
        if pair.unicast { "unicast" } else { "multicast" },
        pair.high.name(),
        pair.low.name(),
        gap as f64 / 1e3,
        na_gap as f64 / 1e3,
        mdi as f64 / 1e3
    );
    assert!(
        gap + SLACK_US >= mdi && gap <= mdi + SLACK_US,
        "advert gap {gap} µs outside Master_Down_Interval {mdi} µs ± {SLACK_US} µs"
    );
    // picket's promise: the NA goes out with the first advert.
    if pair.low == Daemon::Picket {
        assert!(
            na_gap <= mdi + SLACK_US,
            "NA {na_gap} µs after the last advert, Master_Down_Interval {mdi} µs"
        );
        assert!(burst >= 5, "garp_master_repeat 5: only {burst} NAs");
    }
    drop(low);
}

use Daemon::{Keepalived as K, Picket as P};

#[test]
fn multicast_picket_high_keepalived_low() {
    election_and_takeover(&Pair {
        high: P,
        low: K,
        unicast: false,
    });
}

#[test]
fn multicast_keepalived_high_picket_low() {
    election_and_takeover(&Pair {
        high: K,
        low: P,
        unicast: false,
    });
}

#[test]
fn unicast_picket_high_keepalived_low() {
    election_and_takeover(&Pair {
        high: P,
        low: K,
        unicast: true,
    });
}

#[test]
fn unicast_keepalived_high_picket_low() {
    election_and_takeover(&Pair {
        high: K,
        low: P,
        unicast: true,
    });
}

/// A stranger (priority 200, naming picket as its peer, not named by
/// picket) sends IPv6 adverts to picket; with `check_unicast_src` picket
/// drops and counts them and stays master.
#[test]
fn a_strangers_ipv6_adverts_are_ignored_and_counted() {
    if !ready(&[K, P]) {
        return;
    }
    let lab = Lab::with_routers("v6s", 3);
    let (pk, peer, stranger) = (
        lab.router(1).clone(),
        lab.router(2).clone(),
        lab.router(3).clone(),
    );
    let mut cap = Capture::start(&lab, &lab.lan, "br0", FILTER);
    let mut picket = P.start(
        &lab,
        &pk.ns,
        &conf(
            HIGH,
            Some((pk.addr6, &[peer.addr6])),
            "    check_unicast_src\n",
        ),
    );
    let _peer = K.start(
        &lab,
        &peer.ns,
        &conf(LOW, Some((peer.addr6, &[pk.addr6])), ""),
    );
    assert!(
        wait_until(us(master_down_us(HIGH)) + Duration::from_secs(5), || {
            has_address6(&pk.ns, "eth0", VIP6) && !has_address6(&peer.ns, "eth0", VIP6)
        }),
        "picket did not become master"
    );
    let _stranger = K.start(
        &lab,
        &stranger.ns,
        &conf(STRANGER, Some((stranger.addr6, &[pk.addr6])), ""),
    );
    let from_stranger = |cap: &Capture| {
        adverts6(&cap.frames())
            .iter()
            .filter(|a| a.src == stranger.addr6 && a.dst == pk.addr6 && a.priority == STRANGER)
            .count()
    };
    assert!(
        wait_until(
            us(master_down_us(STRANGER)) + Duration::from_secs(8),
            || { from_stranger(&cap) >= 3 }
        ),
        "the stranger sent no adverts to picket"
    );
    let seen = from_stranger(&cap);
    assert!(has_address6(&pk.ns, "eth0", VIP6), "picket gave up the VIP");
    assert!(
        !has_address6(&peer.ns, "eth0", VIP6),
        "picket's peer took the VIP"
    );
    let pid = i32::try_from(picket.pid().unwrap()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGUSR2).unwrap();
    let dumped = |r: &Router| r.logged_counter(&["(VI_1) state MASTER", "rx:"], "not_a_peer");
    assert!(
        wait_until(Duration::from_secs(3), || dumped(&picket).is_some()),
        "no not_a_peer count in picket's dump:\n{}",
        picket.log_text()
    );
    let counted = dumped(&picket).unwrap();
    assert!(
        counted >= u64::try_from(seen).unwrap(),
        "picket counted {counted} adverts from the stranger, the capture saw {seen}"
    );
    assert!(picket.is_running(), "picket exited:\n{}", picket.log_text());
    let mine: Vec<_> = adverts6(&cap.frames())
        .into_iter()
        .filter(|a| a.src == pk.addr6)
        .collect();
    assert!(!mine.is_empty(), "picket sent no adverts");
    assert!(
        mine.iter()
            .all(|a| a.dst == peer.addr6 && a.priority == HIGH && a.checksum_ok),
        "picket advertised to someone other than its peer: {mine:?}"
    );
    cap.stop();
    tshark_check(&cap.path).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "IPv6 stranger: {seen} adverts of priority {STRANGER} captured, picket counted \
         not_a_peer={counted} and stayed master"
    );
    let status = picket.stop();
    assert!(status.success(), "picket: {status}");
    assert!(
        !has_address6(&pk.ns, "eth0", VIP6),
        "picket left its IPv6 VIP behind at stop"
    );
}

/// Skew_Time of a v3 backup at `priority` (RFC 5798 §6.1), µs.
fn skew_us(priority: u8) -> u64 {
    (256 - u64::from(priority)) * u64::from(ADVERT_CENTIS) * 10_000 / 256
}

/// A clean stop over IPv6: picket, master, gets SIGTERM: it sends priority
/// 0 and drops its VIP; keepalived takes over Skew_Time later (RFC 5798
/// §6.4.2: a backup hearing priority 0 sets its Master_Down_Timer to
/// Skew_Time), ± 20 ms on the capture, announcing the VIP with an
/// unsolicited NA, and the client's neighbour entry follows.
#[test]
fn ipv6_clean_stop_hands_over_within_skew_time() {
    if !ready(&[K, P]) {
        return;
    }
    let lab = Lab::new("v6c");
    let (hi, lo) = (lab.router(1).clone(), lab.router(2).clone());
    let (hi_ll, lo_ll) = (link_local_of(&hi.ns, "eth0"), link_local_of(&lo.ns, "eth0"));
    let lo_mac = mac_of(&lo.ns, "eth0");
    let mut cap = Capture::start(&lab, &lab.lan, "br0", FILTER);
    let mut picket = P.start(&lab, &hi.ns, &conf(HIGH, None, ""));
    let keepalived = K.start(&lab, &lo.ns, &conf(LOW, None, ""));
    assert!(
        wait_until(us(master_down_us(HIGH)) + Duration::from_secs(5), || {
            has_address6(&hi.ns, "eth0", VIP6) && !has_address6(&lo.ns, "eth0", VIP6)
        }),
        "picket did not end master alone"
    );
    assert!(lab.client_pings6(VIP6), "the client cannot ping6 the VIP");
    // keepalived has heard picket for a while (it knows its interval).
    std::thread::sleep(Duration::from_secs(2));
    let status = picket.stop();
    assert!(status.success(), "{status:?}\n{}", picket.log_text());
    assert!(!has_address6(&hi.ns, "eth0", VIP6), "picket kept its VIP");
    assert!(
        wait_until(Duration::from_secs(3), || {
            Failover6::find(&cap.frames(), VRID).is_ok_and(|f| f.first_na.is_some())
        }),
        "no takeover with advert and neighbour advertisement on the wire"
    );
    assert!(
        wait_until(Duration::from_secs(2), || neighbour_mac(
            &lab.client.ns,
            IpAddr::V6(VIP6)
        ) == Some(lo_mac)),
        "the client's neighbour entry did not move to keepalived"
    );
    let frames = cap.stop();
    let f = Failover6::find(&frames, VRID).unwrap();
    assert_eq!((f.old_master, f.new_master), (hi_ll, lo_ll), "{f:?}");
    assert_eq!(f.last_old_priority, 0, "picket's last advert is priority 0");
    let (gap, skew) = (f.advert_gap_us(), skew_us(LOW));
    println!(
        "IPv6 clean stop: picket's priority-0 advert -> keepalived's first {:.3} ms, NA {:.3} ms \
         (Skew_Time {:.3} ms)",
        gap as f64 / 1e3,
        f.na_gap_us().unwrap_or(0) as f64 / 1e3,
        skew as f64 / 1e3
    );
    assert!(
        gap + SLACK_US >= skew && gap <= skew + SLACK_US,
        "takeover {gap} µs after priority 0, Skew_Time {skew} µs ± {SLACK_US} µs"
    );
    drop(keepalived);
}
