//! Preemption between picket and Debian's keepalived 2.2.7, in network
//! namespaces on one bridge watched by tcpdump:
//!
//! - preemption back: the high-priority router (150) is killed, the low one
//!   (100) takes over; the high one restarts and takes mastership back, the
//!   low one goes BACKUP, drops the VIP and falls silent — keepalived high
//!   with picket low, and picket high with keepalived low;
//! - `nopreempt`: picket (150, `state BACKUP`) started under a keepalived
//!   master (100) stays backup and silent for 3 × its Master_Down_Interval,
//!   and takes over only once keepalived stops;
//! - `preempt_delay 3`: picket (150) started under a keepalived master
//!   (100) sends its first advert no sooner than 3 s after it was spawned,
//!   on the capture's clock, and then takes over.
//!
//! Bounds are protocol properties measured on the capture (or the spawn
//! instant read from the capture's clock, CLOCK_REALTIME), never wall-clock
//! timings of the test.
//!
//! Needs root, iproute2, tcpdump, tshark and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_preempt -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::Ipv4Addr;
use std::time::Duration;

use lab::{Advert, Capture, Daemon, Failover, Lab, Router, VIP, has_address, run, wait_until};

const VRID: u8 = 51;
const HIGH: u8 = 150;
const LOW: u8 = 100;
/// Slack allowed around an instant measured on the capture.
const SLACK_US: u64 = 20_000;

/// One router's keepalived.conf: VRID 51, VIP 10.99.0.100/24 on eth0.
struct Conf {
    version: u8,
    priority: u8,
    /// advert_int, centiseconds.
    advert_centis: u16,
    /// `state` keyword.
    state: &'static str,
    /// Extra lines for the vrrp_instance block (`nopreempt`, …).
    extra: Vec<String>,
}

impl Conf {
    fn new(priority: u8) -> Conf {
        Conf {
            version: 2,
            priority,
            advert_centis: 100,
            state: "BACKUP",
            extra: Vec::new(),
        }
    }

    fn line(mut self, line: &str) -> Conf {
        self.extra.push(line.to_owned());
        self
    }

    fn v3_every(mut self, centis: u16) -> Conf {
        self.version = 3;
        self.advert_centis = centis;
        self
    }

    fn text(&self) -> String {
        let extra: String = self.extra.iter().map(|l| format!("    {l}\n")).collect();
        let secs = f64::from(self.advert_centis) / 100.0;
        format!(
            "global_defs {{
    router_id lab-p{prio}
}}

vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id {VRID}
    priority {prio}
    advert_int {secs}
    version {version}
{extra}    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
",
            prio = self.priority,
            state = self.state,
            version = self.version,
        )
    }

    /// Skew_Time, µs: RFC 3768 §6.1 (v2, seconds) or RFC 5798 §6.1 (v3,
    /// scaled by the interval, here the master's too).
    fn skew_us(&self) -> u64 {
        let numerator = 256 - u64::from(self.priority);
        if self.version == 2 {
            numerator * 1_000_000 / 256
        } else {
            numerator * u64::from(self.advert_centis) * 10_000 / 256
        }
    }

    /// Master_Down_Interval, µs.
    fn master_down_us(&self) -> u64 {
        3 * u64::from(self.advert_centis) * 10_000 + self.skew_us()
    }
}

/// Wall-clock time in µs since the epoch (CLOCK_REALTIME): the clock of
/// capture timestamps.
fn now_us() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(t.as_micros()).unwrap()
}

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

fn ready() -> bool {
    lab::ready(&[lab::daemon::KEEPALIVED])
}

/// Waits until `ns_master` alone holds the VIP (of the two `ns`).
fn wait_sole_master(ns_master: &str, ns_other: &str, timeout: Duration) -> bool {
    wait_until(timeout, || {
        has_address(ns_master, "eth0", VIP) && !has_address(ns_other, "eth0", VIP)
    })
}

fn from(addr: Ipv4Addr) -> impl Fn(&&Advert) -> bool {
    move |a: &&Advert| a.src == addr
}

/// The high router is killed and comes back: it takes mastership back from
/// the low one, which goes BACKUP, drops the VIP and stops advertising.
fn preempt_back(high_daemon: Daemon, low_daemon: Daemon) {
    if !ready() {
        return;
    }
    let lab = Lab::new("pb");
    let (hi, lo) = (lab.router(1).clone(), lab.router(2).clone());
    let (hi_conf, lo_conf) = (Conf::new(HIGH), Conf::new(LOW));
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let mut high = high_daemon.start(&lab, &hi.ns, &hi_conf.text());
    let low = low_daemon.start(&lab, &lo.ns, &lo_conf.text());
    assert!(
        wait_sole_master(
            &hi.ns,
            &lo.ns,
            us(hi_conf.master_down_us()) + Duration::from_secs(5)
        ),
        "the high router never became master"
    );

    // Killed: no priority-0 advert; the VIP stays behind in its namespace,
    // as on a crashed box. It reboots without it.
    high.kill();
    if has_address(&hi.ns, "eth0", VIP) {
        run(
            "ip",
            &[
                "-n",
                &hi.ns,
                "addr",
                "del",
                &format!("{VIP}/24"),
                "dev",
                "eth0",
            ],
        )
        .unwrap();
    }
    assert!(
        wait_until(
            us(lo_conf.master_down_us()) + Duration::from_secs(3),
            || has_address(&lo.ns, "eth0", VIP)
        ),
        "the low router did not take over from the killed one"
    );
    assert!(
        low.wait_log("(VI_1) Entering MASTER STATE", Duration::from_secs(2)),
        "the low router's log shows no MASTER:\n{}",
        low.log_text()
    );

    let restarted_us = now_us();
    let high = high_daemon.start(&lab, &hi.ns, &hi_conf.text());
    assert!(
        wait_sole_master(
            &hi.ns,
            &lo.ns,
            us(hi_conf.master_down_us()) + Duration::from_secs(5)
        ),
        "the restarted high router did not take mastership back alone"
    );
    assert!(
        low.wait_log_after(
            "(VI_1) Entering MASTER STATE",
            "(VI_1) Entering BACKUP STATE",
            Duration::from_secs(2)
        ),
        "the low router's log shows no BACKUP after its MASTER:\n{}",
        low.log_text()
    );
    // Stay a while longer than the low router's Master_Down_Interval: it
    // hears the master and keeps quiet.
    std::thread::sleep(us(lo_conf.master_down_us()) + Duration::from_millis(500));
    assert!(has_address(&hi.ns, "eth0", VIP), "the master lost the VIP");
    assert!(!has_address(&lo.ns, "eth0", VIP), "the backup took the VIP");
    let frames = cap.stop();

    let ads: Vec<Advert> = lab::capture::adverts(&frames)
        .into_iter()
        .filter(|a| a.vrid == VRID && a.ts_us >= restarted_us)
        .collect();
    let back = ads
        .iter()
        .find(from(hi.addr))
        .unwrap_or_else(|| panic!("no advert of the restarted router: {ads:?}"));
    assert_eq!(back.priority, HIGH, "{back:?}");
    let low_before = ads
        .iter()
        .filter(from(lo.addr))
        .filter(|a| a.ts_us < back.ts_us)
        .count();
    assert!(
        low_before >= 1,
        "the low router was not advertising as master before: {ads:?}"
    );
    let low_after: Vec<&Advert> = ads
        .iter()
        .filter(from(lo.addr))
        .filter(|a| a.ts_us > back.ts_us + SLACK_US)
        .collect();
    assert!(
        low_after.is_empty(),
        "the low router advertised after the high one came back: {low_after:?}"
    );
    let high_after = ads.iter().filter(from(hi.addr)).count();
    let last_us = ads.last().unwrap().ts_us;
    assert!(
        high_after >= 3,
        "the high router does not keep advertising: {ads:?}"
    );
    println!(
        "preempt back ({} high, {} low): high's first advert {:.3} s after its restart, \
         low silent for the last {:.3} s, {high_after} adverts of the high router",
        high_daemon.name(),
        low_daemon.name(),
        (back.ts_us - restarted_us) as f64 / 1e6,
        (last_us - back.ts_us) as f64 / 1e6,
    );
    drop((high, low));
}

#[test]
fn preempt_back_keepalived_high_picket_low() {
    preempt_back(Daemon::Keepalived, Daemon::Picket);
}

#[test]
fn preempt_back_picket_high_keepalived_low() {
    preempt_back(Daemon::Picket, Daemon::Keepalived);
}

/// Starts keepalived (100) on r2 and waits until it is master alone.
fn keepalived_master(lab: &Lab, conf: &Conf) -> Router {
    let (r1, r2) = (lab.router(1), lab.router(2));
    let k = Daemon::Keepalived.start(lab, &r2.ns, &conf.text());
    assert!(
        wait_sole_master(
            &r2.ns,
            &r1.ns,
            us(conf.master_down_us()) + Duration::from_secs(5)
        ),
        "keepalived never became master:\n{}",
        k.log_text()
    );
    k
}

#[test]
fn nopreempt_picket_stays_backup_until_the_master_stops() {
    if !ready() {
        return;
    }
    let lab = Lab::new("np");
    let (r1, r2) = (lab.router(1).clone(), lab.router(2).clone());
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let mut keepalived = keepalived_master(&lab, &Conf::new(LOW));

    let p_conf = Conf::new(HIGH).line("nopreempt");
    let mdi = p_conf.master_down_us();
    let started_us = now_us();
    let picket = Daemon::Picket.start(&lab, &r1.ns, &p_conf.text());
    std::thread::sleep(us(3 * mdi) + Duration::from_millis(300));
    let window_end = started_us + 3 * mdi;
    let ads = cap.adverts();
    let in_window: Vec<&Advert> = ads
        .iter()
        .filter(|a| a.ts_us >= started_us && a.ts_us <= window_end)
        .collect();
    let picket_ads: Vec<&&Advert> = in_window.iter().filter(|a| a.src == r1.addr).collect();
    assert!(
        picket_ads.is_empty(),
        "nopreempt picket advertised within 3 × Master_Down_Interval: {picket_ads:?}"
    );
    let k_ads = in_window.iter().filter(|a| a.src == r2.addr).count();
    // One per second from keepalived, the window being 3 × MDI long.
    assert!(
        k_ads as u64 >= 3 * mdi / 1_000_000 - 1,
        "keepalived advertised only {k_ads} times in {:.3} s",
        (3 * mdi) as f64 / 1e6
    );
    assert!(has_address(&r2.ns, "eth0", VIP), "keepalived lost the VIP");
    assert!(
        !has_address(&r1.ns, "eth0", VIP),
        "nopreempt picket holds the VIP"
    );
    assert!(
        !picket.log_text().contains("Entering MASTER"),
        "nopreempt picket went MASTER:\n{}",
        picket.log_text()
    );

    // Stopped (priority-0 advert): picket takes over.
    let status = keepalived.stop();
    assert!(status.success(), "keepalived: {status}");
    assert!(
        wait_until(us(mdi) + Duration::from_secs(3), || has_address(
            &r1.ns, "eth0", VIP
        )),
        "picket did not take over from the stopped master"
    );
    assert!(
        picket.wait_log("(VI_1) Entering MASTER STATE", Duration::from_secs(2)),
        "picket's log shows no MASTER:\n{}",
        picket.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(3), || Failover::find(
            &cap.frames(),
            VRID
        )
        .is_ok()),
        "no takeover on the wire"
    );
    let frames = cap.stop();
    let f = Failover::find(&frames, VRID).unwrap();
    assert_eq!((f.old_master, f.new_master), (r2.addr, r1.addr), "{f:?}");
    assert_eq!(
        f.last_old_priority, 0,
        "keepalived stopped without priority 0"
    );
    // RFC 3768 §6.4.2: after a priority-0 advert, Skew_Time.
    let (gap, skew) = (f.advert_gap_us(), p_conf.skew_us());
    assert!(
        gap + SLACK_US >= skew && gap <= skew + SLACK_US,
        "takeover {gap} µs after the priority-0 advert, Skew_Time is {skew} µs ± {SLACK_US} µs"
    );
    println!(
        "nopreempt: picket silent for {:.3} s (3 × MDI) under keepalived's {k_ads} adverts; \
         took over {:.3} ms after keepalived's priority-0 advert (Skew_Time {:.3} ms)",
        (3 * mdi) as f64 / 1e6,
        gap as f64 / 1e3,
        skew as f64 / 1e3
    );
}

#[test]
fn preempt_delay_holds_picket_back() {
    if !ready() {
        return;
    }
    // v3 every 0.5 s: Master_Down_Interval of 1.70 s, well under the
    // 3 s delay, so a picket that ignored preempt_delay would preempt
    // after ~1.7 s and fail the bound.
    const DELAY_US: u64 = 3_000_000;
    let lab = Lab::new("pd");
    let (r1, r2) = (lab.router(1).clone(), lab.router(2).clone());
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let keepalived = keepalived_master(&lab, &Conf::new(LOW).v3_every(50));

    let p_conf = Conf::new(HIGH).v3_every(50).line("preempt_delay 3");
    let mdi = p_conf.master_down_us();
    assert!(mdi < DELAY_US, "the delay must exceed the MDI to be seen");
    let spawned_us = now_us();
    let picket = Daemon::Picket.start(&lab, &r1.ns, &p_conf.text());
    assert!(
        wait_sole_master(
            &r1.ns,
            &r2.ns,
            us(DELAY_US + 2 * mdi) + Duration::from_secs(5)
        ),
        "picket did not take over after its preempt_delay"
    );
    // Settled: keepalived hears picket and stays backup.
    std::thread::sleep(Duration::from_secs(2));
    assert!(has_address(&r1.ns, "eth0", VIP), "picket lost the VIP");
    assert!(
        !has_address(&r2.ns, "eth0", VIP),
        "keepalived took the VIP back"
    );
    let frames = cap.stop();
    let ads = lab::capture::adverts(&frames);
    let first = ads
        .iter()
        .find(|a| a.src == r1.addr)
        .unwrap_or_else(|| panic!("no advert from picket: {ads:?}"));
    assert_eq!(first.priority, HIGH, "{first:?}");
    let after_us = first.ts_us as i64 - spawned_us as i64;
    assert!(
        first.ts_us + SLACK_US >= spawned_us + DELAY_US,
        "picket's first advert {:.3} s after it was spawned, preempt_delay is 3 s",
        after_us as f64 / 1e6
    );
    let k_after: Vec<&Advert> = ads
        .iter()
        .filter(|a| a.src == r2.addr && a.ts_us > first.ts_us + SLACK_US)
        .collect();
    assert!(
        k_after.is_empty(),
        "keepalived kept advertising after picket took over: {k_after:?}"
    );
    assert!(
        picket.log_text().contains("(VI_1) Entering MASTER STATE"),
        "picket's log shows no MASTER:\n{}",
        picket.log_text()
    );
    println!(
        "preempt_delay 3: picket's first advert {:.3} s after it was spawned \
         (MDI {:.3} s), then master alone",
        after_us as f64 / 1e6,
        mdi as f64 / 1e6
    );
    drop((picket, keepalived));
}
