//! Unicast VRRP over IPv4 between picket and Debian's keepalived 2.2.7, in
//! network namespaces on one bridge (the harness of `vrrp_interop`): each
//! router lists the other as its only `unicast_peer`, priority 150 on `r1`,
//! 100 on `r2`, advert_int 1, VIP 10.99.0.100/24.
//!
//! Judged on a capture of the bridge: adverts go to the peer's address (not
//! 224.0.0.18) with TTL 255 and a checksum good for that destination (tshark
//! agrees); the higher priority holds the VIP; a killed master is replaced
//! within Master_Down_Interval ± 20 ms of its last advert. A third router,
//! the "stranger" (keepalived, priority 200, listing picket as its peer but
//! not listed by picket), is ignored and counted although picket's config
//! has no `check_unicast_src` (picket always checks): picket stays master and
//! its SIGUSR2 dump shows `not_a_peer=N`.
//!
//! Needs root, iproute2, tcpdump, tshark, ping and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_unicast -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::Ipv4Addr;
use std::time::Duration;

use lab::{Capture, Daemon, Failover, Lab, Router, VIP, has_address, tshark_check, wait_until};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const VRID: u8 = 51;
const HIGH: u8 = 150;
const LOW: u8 = 100;
const STRANGER: u8 = 200;
/// advert_int 1 s, in centiseconds.
const ADVERT_CENTIS: u16 = 100;
/// Slack allowed around a protocol interval measured on the capture.
const SLACK_US: u64 = 20_000;

/// keepalived.conf of a unicast router at `src` listing `peers`.
fn conf(version: u8, priority: u8, src: Ipv4Addr, peers: &[Ipv4Addr], extra: &str) -> String {
    let peers: String = peers.iter().map(|p| format!("        {p}\n")).collect();
    format!(
        "global_defs {{
    router_id lab-u{priority}
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority {priority}
    advert_int 1
    version {version}
    unicast_src_ip {src}
    unicast_peer {{
{peers}    }}
{extra}
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
    )
}

/// Master_Down_Interval of a backup of `priority`, µs (RFC 3768 §6.1 /
/// RFC 5798 §6.1).
fn master_down_us(version: u8, priority: u8) -> u64 {
    let numerator = 256 - u64::from(priority);
    let skew = if version == 2 {
        numerator * 1_000_000 / 256
    } else {
        numerator * u64::from(ADVERT_CENTIS) * 10_000 / 256
    };
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
    let mut tools = vec!["ping"];
    if daemons.contains(&Daemon::Keepalived) {
        tools.push(lab::daemon::KEEPALIVED);
    }
    lab::ready(&tools)
}

/// Every advert on the capture is unicast to the sender's peer, TTL 255,
/// checksum right for that destination; tshark agrees. Returns the count.
fn check_wire(cap: &Capture, version: u8, peer_of: impl Fn(Ipv4Addr) -> Ipv4Addr) -> usize {
    let ads = cap.adverts();
    assert!(!ads.is_empty(), "no adverts captured");
    for a in &ads {
        assert_eq!(
            (a.version, a.kind, a.vrid, a.ttl, a.adver_int_centis),
            (version, 1, VRID, 255, ADVERT_CENTIS),
            "{a:?}"
        );
        assert_eq!(a.dst, peer_of(a.src), "sent to the wrong address: {a:?}");
        assert!(a.checksum_ok, "bad checksum: {a:?}");
        assert_eq!(a.addresses, vec![VIP], "{a:?}");
    }
    let decoded = tshark_check(&cap.path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        decoded,
        ads.len(),
        "tshark and the harness count differently"
    );
    decoded
}

/// The pair elects the higher priority, which then is killed: the other
/// takes over within Master_Down_Interval ± 20 ms on the capture.
fn election_and_failover(version: u8, high_daemon: Daemon, low_daemon: Daemon) {
    if !ready(&[high_daemon, low_daemon]) {
        return;
    }
    let lab = Lab::new(&format!("uc{version}"));
    let (hi, lo) = (lab.router(1).clone(), lab.router(2).clone());
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let mut high: Router =
        high_daemon.start(&lab, &hi.ns, &conf(version, HIGH, hi.addr, &[lo.addr], ""));
    let low: Router = low_daemon.start(&lab, &lo.ns, &conf(version, LOW, lo.addr, &[hi.addr], ""));
    assert!(
        wait_until(
            us(master_down_us(version, HIGH)) + Duration::from_secs(5),
            || has_address(&hi.ns, "eth0", VIP) && !has_address(&lo.ns, "eth0", VIP)
        ),
        "the higher priority did not end master alone"
    );
    let settled = now_us();
    // The backup hears the master for longer than its Master_Down_Interval.
    std::thread::sleep(us(master_down_us(version, LOW)) + Duration::from_millis(500));
    assert!(has_address(&hi.ns, "eth0", VIP), "the master lost the VIP");
    assert!(
        !has_address(&lo.ns, "eth0", VIP),
        "the backup holds the VIP"
    );
    let recent: Vec<_> = cap
        .adverts()
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
            .all(|a| a.src == hi.addr && a.dst == lo.addr && a.priority == HIGH),
        "once settled only the high router advertises, to its peer: {recent:?}"
    );
    assert!(lab.client_pings(VIP), "the client cannot ping the VIP");

    high.kill();
    let mdi = master_down_us(version, LOW);
    assert!(
        wait_until(us(mdi) + Duration::from_secs(3), || {
            Failover::find(&cap.frames(), VRID).is_ok()
        }),
        "no takeover on the wire"
    );
    assert!(
        wait_until(Duration::from_secs(2), || has_address(&lo.ns, "eth0", VIP)),
        "the new master does not hold the VIP"
    );
    let frames = cap.stop();
    let f = Failover::find(&frames, VRID).unwrap();
    assert_eq!((f.old_master, f.new_master), (hi.addr, lo.addr), "{f:?}");
    assert_eq!(f.last_old_priority, HIGH, "a killed master sent priority 0");
    let gap = f.advert_gap_us();
    let n = check_wire(&cap, version, |src| {
        if src == hi.addr { lo.addr } else { hi.addr }
    });
    println!(
        "unicast v{version} ({} high, {} low): {n} adverts unicast and valid; takeover after kill: \
         advert gap {:.3} ms, Master_Down_Interval {:.3} ms",
        high_daemon.name(),
        low_daemon.name(),
        gap as f64 / 1e3,
        mdi as f64 / 1e3
    );
    assert!(
        gap + SLACK_US >= mdi && gap <= mdi + SLACK_US,
        "advert gap {gap} µs outside Master_Down_Interval {mdi} µs ± {SLACK_US} µs"
    );
    drop(low);
}

use Daemon::{Keepalived as K, Picket as P};

#[test]
fn unicast_v2_picket_high_keepalived_low() {
    election_and_failover(2, P, K);
}

#[test]
fn unicast_v3_picket_high_keepalived_low() {
    election_and_failover(3, P, K);
}

#[test]
fn unicast_v2_keepalived_high_picket_low() {
    election_and_failover(2, K, P);
}

#[test]
fn unicast_v3_keepalived_high_picket_low() {
    election_and_failover(3, K, P);
}

/// `not_a_peer=N` of the `(VI_1) state MASTER …` line the dump after
/// `marker` logged, if any.
fn dumped_not_a_peer(log: &str) -> Option<u64> {
    let line = log
        .lines()
        .find(|l| l.contains("(VI_1) state MASTER") && l.contains("rx:"))?;
    let n = line.split("not_a_peer=").nth(1)?;
    n.split_whitespace().next()?.parse().ok()
}

/// A stranger (priority 200, naming picket as its peer, not named by
/// picket) sends adverts to picket; without `check_unicast_src` in its
/// config (keepalived would accept them) picket drops and counts them and
/// stays master.
#[test]
fn a_strangers_adverts_are_ignored_and_counted() {
    if !ready(&[K, P]) {
        return;
    }
    let version = 3;
    let lab = Lab::with_routers("ucs", 3);
    let (pk, peer, stranger) = (
        lab.router(1).clone(),
        lab.router(2).clone(),
        lab.router(3).clone(),
    );
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    let mut picket = P.start(
        &lab,
        &pk.ns,
        &conf(version, HIGH, pk.addr, &[peer.addr], ""),
    );
    let _peer = K.start(
        &lab,
        &peer.ns,
        &conf(version, LOW, peer.addr, &[pk.addr], ""),
    );
    assert!(
        wait_until(
            us(master_down_us(version, HIGH)) + Duration::from_secs(5),
            || has_address(&pk.ns, "eth0", VIP) && !has_address(&peer.ns, "eth0", VIP)
        ),
        "picket did not become master"
    );
    let _stranger = K.start(
        &lab,
        &stranger.ns,
        &conf(version, STRANGER, stranger.addr, &[pk.addr], ""),
    );
    let from_stranger = |cap: &Capture| {
        cap.adverts()
            .iter()
            .filter(|a| a.src == stranger.addr && a.dst == pk.addr && a.priority == STRANGER)
            .count()
    };
    assert!(
        wait_until(
            us(master_down_us(version, STRANGER)) + Duration::from_secs(8),
            || from_stranger(&cap) >= 3
        ),
        "the stranger sent no adverts to picket"
    );
    let seen = from_stranger(&cap);
    assert!(has_address(&pk.ns, "eth0", VIP), "picket gave up the VIP");
    assert!(
        !has_address(&peer.ns, "eth0", VIP),
        "picket's peer took the VIP"
    );
    let pid = i32::try_from(picket.pid().unwrap()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGUSR2).unwrap();
    assert!(
        wait_until(Duration::from_secs(3), || dumped_not_a_peer(
            &picket.log_text()
        )
        .is_some()),
        "no not_a_peer count in picket's dump:\n{}",
        picket.log_text()
    );
    let counted = dumped_not_a_peer(&picket.log_text()).unwrap();
    // Adverts captured before the dump all reached picket; a later one may
    // be counted too.
    assert!(
        counted >= u64::try_from(seen).unwrap(),
        "picket counted {counted} adverts from the stranger, the capture saw {seen}"
    );
    assert!(picket.is_running(), "picket exited:\n{}", picket.log_text());
    let mine = cap
        .adverts()
        .iter()
        .filter(|a| a.src == pk.addr)
        .all(|a| a.dst == peer.addr && a.priority == HIGH);
    assert!(mine, "picket advertised to someone other than its peer");
    cap.stop();
    println!(
        "stranger: {seen} adverts of priority {STRANGER} captured, picket counted not_a_peer={counted} \
         and stayed master"
    );
    let status = picket.stop();
    assert!(status.success(), "picket: {status}");
}

/// `unicast_src_ip` not on the interface: picket says so and runs, sending
/// from that address.
#[test]
fn a_missing_unicast_src_ip_is_logged_and_picket_runs() {
    if !ready(&[P]) {
        return;
    }
    let version = 3;
    let lab = Lab::new("ucf");
    let (pk, peer) = (lab.router(1).clone(), lab.router(2).clone());
    let absent = Ipv4Addr::new(10, 99, 0, 51);
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    let mut picket = P.start(&lab, &pk.ns, &conf(version, HIGH, absent, &[peer.addr], ""));
    assert!(
        picket.wait_log(
            "unicast_src_ip 10.99.0.51 is not (yet) on eth0",
            Duration::from_secs(3)
        ),
        "no warning:\n{}",
        picket.log_text()
    );
    assert!(
        wait_until(
            us(master_down_us(version, HIGH)) + Duration::from_secs(5),
            || cap
                .adverts()
                .iter()
                .any(|a| a.src == absent && a.dst == peer.addr)
        ),
        "no advert from {absent} to the peer:\n{}",
        picket.log_text()
    );
    assert!(picket.is_running(), "picket exited:\n{}", picket.log_text());
    cap.stop();
    let status = picket.stop();
    assert!(status.success(), "picket: {status}");
}
