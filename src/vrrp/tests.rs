//! Scripted timelines on a fake clock, and a two-router simulation.

use std::vec::Vec;

use core::net::{IpAddr, Ipv4Addr};

use super::fsm::*;
use crate::time::{Duration, Instant};

use State::{Backup, Fault, Initialize, Master};
use VrrpAction::{AddVips, MasterRxLowerPri, RemoveVips, SendAdvert, SendGarp, Transition};

fn us(n: i64) -> Instant {
    Instant::from_micros(n)
}
fn ms(n: i64) -> Instant {
    Instant::from_millis(n)
}
fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}
const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
const LOW_PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

fn params(prio: u8, version: Version) -> InstanceParams {
    let mut p = InstanceParams::new(51, prio, ME);
    p.version = version;
    p
}
fn inst(p: InstanceParams) -> Instance {
    Instance::new(p).unwrap()
}
fn drain(i: &mut Instance) -> Vec<VrrpAction> {
    core::iter::from_fn(|| i.poll_action()).collect()
}
fn adv(src: IpAddr, priority: u8, adver_int: u16) -> AdvertInfo {
    AdvertInfo {
        src,
        priority,
        adver_int,
    }
}
const BECOME_MASTER_FROM_BACKUP: [VrrpAction; 4] = [
    Transition {
        from: Backup,
        to: Master,
    },
    SendAdvert { priority: 100 },
    AddVips,
    SendGarp { count: 5 },
];

/// A prio-100 instance started at 0 and made master by its down timer.
fn master_100(version: Version) -> (Instance, Instant) {
    let mut i = inst(params(100, version));
    i.start(ms(0));
    drain(&mut i);
    let at = i.poll_at().unwrap();
    i.handle_timeout(at);
    assert_eq!(i.state(), Master);
    drain(&mut i);
    (i, at)
}

// --- timer values ----------------------------------------------------------

#[test]
fn exact_timer_values() {
    let i = inst(params(100, Version::V3));
    assert_eq!(i.skew_time(), Duration::from_micros(609_375));
    assert_eq!(i.master_down_interval(), Duration::from_micros(3_609_375));
    let i = inst(params(100, Version::V2));
    assert_eq!(i.skew_time(), Duration::from_micros(609_375));
    assert_eq!(i.master_down_interval(), Duration::from_micros(3_609_375));
    // v2 skew does not scale with the interval; v3 does.
    let mut p = params(200, Version::V2);
    p.advert_int = 300;
    let i = inst(p);
    assert_eq!(i.skew_time(), Duration::from_micros(218_750));
    assert_eq!(i.master_down_interval(), Duration::from_micros(9_218_750));
    let mut p = params(200, Version::V3);
    p.advert_int = 50;
    let i = inst(p);
    assert_eq!(i.skew_time(), Duration::from_micros(109_375));
    assert_eq!(i.master_down_interval(), Duration::from_micros(1_609_375));
    // down_timer_adverts.
    let mut p = params(100, Version::V3);
    p.down_timer_adverts = 5;
    assert_eq!(
        inst(p).master_down_interval(),
        Duration::from_micros(5_609_375)
    );
    // Owner: tiny skew.
    assert_eq!(
        inst(params(255, Version::V2)).skew_time(),
        Duration::from_micros(3_906)
    );
}

#[test]
fn params_are_checked() {
    let mut p = params(100, Version::V2);
    p.advert_int = 150;
    assert_eq!(
        Instance::new(p).err(),
        Some(ParamsError::AdvertIntNotWholeSeconds)
    );
    p.version = Version::V3;
    assert!(Instance::new(p).is_ok());
    p.advert_int = 4096;
    assert_eq!(Instance::new(p).err(), Some(ParamsError::AdvertInt));
    p.advert_int = 0;
    assert_eq!(Instance::new(p).err(), Some(ParamsError::AdvertInt));
    let mut p = params(100, Version::V3);
    p.vrid = 0;
    assert_eq!(Instance::new(p).err(), Some(ParamsError::VridZero));
    let p = params(0, Version::V3);
    assert_eq!(Instance::new(p).err(), Some(ParamsError::PriorityZero));
    let mut p = params(100, Version::V3);
    p.down_timer_adverts = 0;
    assert_eq!(Instance::new(p).err(), Some(ParamsError::DownTimerAdverts));
    p.down_timer_adverts = 101;
    assert_eq!(Instance::new(p).err(), Some(ParamsError::DownTimerAdverts));
}

// --- RFC 5798 §6.4.1 Initialize ---------------------------------------------

#[test]
fn init_to_backup_arms_master_down() {
    let mut i = inst(params(100, Version::V3));
    assert_eq!(i.state(), Initialize);
    assert_eq!(i.poll_at(), None);
    i.start(ms(1000));
    assert_eq!(
        drain(&mut i),
        [Transition {
            from: Initialize,
            to: Backup
        }]
    );
    assert_eq!(i.state(), Backup);
    assert_eq!(i.poll_at(), Some(us(1_000_000 + 3_609_375)));
    // A second start changes nothing.
    i.start(ms(1500));
    assert!(drain(&mut i).is_empty());
    assert_eq!(i.stats().start_repeated, 1);
}

#[test]
fn owner_starts_as_master_at_once() {
    let mut i = inst(params(255, Version::V2));
    i.start(ms(0));
    assert_eq!(
        drain(&mut i),
        [
            Transition {
                from: Initialize,
                to: Master
            },
            SendAdvert { priority: 255 },
            AddVips,
            SendGarp { count: 5 },
        ]
    );
    assert_eq!(i.state(), Master);
    assert!(i.accepts_vip_traffic());
    assert_eq!(i.poll_at(), Some(ms(1000)));
}

#[test]
fn non_owner_wanting_master_still_waits() {
    // keepalived: `state MASTER` only matters for the owner.
    let mut p = params(100, Version::V2);
    p.initial = WantedState::Master;
    let mut i = inst(p);
    i.start(ms(0));
    assert_eq!(i.state(), Backup);
    assert_eq!(i.poll_at(), Some(us(3_609_375)));
}

#[test]
fn owner_wanting_backup_waits_one_interval_plus_skew() {
    let mut p = params(255, Version::V2);
    p.initial = WantedState::Backup;
    let mut i = inst(p);
    i.start(ms(0));
    assert_eq!(i.state(), Backup);
    assert_eq!(i.poll_at(), Some(us(1_003_906)));
}

// --- RFC 5798 §6.4.2 Backup -------------------------------------------------

#[test]
fn backup_to_master_on_down_timer() {
    let mut i = inst(params(100, Version::V3));
    i.start(ms(0));
    drain(&mut i);
    i.handle_timeout(us(3_609_374));
    assert_eq!(i.state(), Backup);
    assert!(drain(&mut i).is_empty());
    i.handle_timeout(us(3_609_375));
    assert_eq!(drain(&mut i), BECOME_MASTER_FROM_BACKUP);
    assert_eq!(i.stats().became_master, 1);
    // Adverts every Advertisement_Interval from then on.
    assert_eq!(i.poll_at(), Some(us(4_609_375)));
    i.handle_timeout(us(4_609_375));
    assert_eq!(drain(&mut i), [SendAdvert { priority: 100 }]);
    assert_eq!(i.poll_at(), Some(us(5_609_375)));
}

#[test]
fn backup_resets_down_timer_on_higher_or_equal_priority() {
    let mut i = inst(params(100, Version::V2));
    i.start(ms(0));
    drain(&mut i);
    for k in 1..10 {
        let now = ms(k * 1000);
        let prio = if k % 2 == 0 { 100 } else { 200 };
        i.handle_advert(now, &adv(PEER, prio, 100));
        assert_eq!(i.poll_at(), Some(now + Duration::from_micros(3_609_375)));
        i.handle_timeout(now);
    }
    assert_eq!(i.state(), Backup);
    assert_eq!(i.master(), Some((PEER, 200)));
    assert!(drain(&mut i).is_empty());
}

#[test]
fn backup_takes_over_after_skew_on_priority_zero() {
    let mut i = inst(params(100, Version::V3));
    i.start(ms(0));
    drain(&mut i);
    i.handle_advert(ms(500), &adv(PEER, 200, 100));
    i.handle_advert(ms(1000), &adv(PEER, 0, 100));
    assert_eq!(i.poll_at(), Some(us(1_609_375)));
    i.handle_timeout(us(1_609_374));
    assert_eq!(i.state(), Backup);
    i.handle_timeout(us(1_609_375));
    assert_eq!(i.state(), Master);
    assert_eq!(drain(&mut i), BECOME_MASTER_FROM_BACKUP);
    assert_eq!(i.stats().priority_zero_received, 1);
}

#[test]
fn preempt_on_lower_master_is_discarded_and_backup_takes_over() {
    let mut i = inst(params(150, Version::V2));
    i.start(ms(0));
    drain(&mut i);
    let down = i.poll_at().unwrap();
    // The lower master keeps advertising; the timer is not reset.
    for k in 1..=3 {
        i.handle_advert(ms(k * 1000), &adv(PEER, 100, 100));
        assert_eq!(i.poll_at(), Some(down));
    }
    assert_eq!(i.stats().lower_prio_discarded, 3);
    i.handle_timeout(down);
    assert_eq!(i.state(), Master);
}

#[test]
fn nopreempt_follows_a_lower_master() {
    let mut p = params(150, Version::V2);
    p.preempt = false;
    let mut i = inst(p);
    i.start(ms(0));
    drain(&mut i);
    for k in 1..=30 {
        let now = ms(k * 1000);
        i.handle_timeout(now);
        i.handle_advert(now, &adv(PEER, 100, 100));
    }
    assert_eq!(i.state(), Backup);
    assert_eq!(i.stats().lower_prio_discarded, 0);
    assert!(drain(&mut i).is_empty());
}

/// Runs `i` against a priority-100 master advertising every second for
/// 20 s; returns when `i` became master.
fn takeover_from_a_lower_master(i: &mut Instance) -> Option<Instant> {
    let mut became = None;
    for k in 1..=20 {
        let advert_at = ms(k * 1000);
        while let Some(now) = i.poll_at().filter(|d| *d <= advert_at) {
            i.handle_timeout(now);
            if i.state() == Master && became.is_none() {
                became = Some(now);
            }
        }
        if i.state() == Backup {
            i.handle_advert(advert_at, &adv(PEER, 100, 100));
        }
    }
    became
}

#[test]
fn preempt_delay_holds_preemption_from_start() {
    let mut p = params(150, Version::V2);
    p.preempt_delay = Duration::from_secs(10);
    let mut i = inst(p);
    i.start(ms(0));
    drain(&mut i);
    // Hold ends at 10 s: poll_at includes it.
    assert_eq!(i.poll_at(), Some(us(3_414_062)));
    let became = takeover_from_a_lower_master(&mut i);
    // Adverts until 9 s are followed (held); the one at 10 s is discarded;
    // so the timer set at 9 s runs out: 9 s + 3.4140625 s.
    assert_eq!(became, Some(us(9_000_000 + 3_414_062)));
    assert_eq!(i.stats().preempt_held, 9);
    assert_eq!(i.stats().preempt_hold_ended, 1);
}

#[test]
fn preempt_delay_restarts_on_higher_master() {
    let mut p = params(150, Version::V2);
    p.preempt_delay = Duration::from_secs(5);
    let mut i = inst(p);
    i.start(ms(0));
    drain(&mut i);
    // Higher master at 1 s and 4 s: the hold restarts each time, until 9 s.
    i.handle_advert(ms(1000), &adv(PEER, 200, 100));
    i.handle_advert(ms(4000), &adv(PEER, 200, 100));
    // It drops to 100 (its tracking); until 9 s we follow it.
    for k in 5..=8 {
        i.handle_advert(ms(k * 1000), &adv(PEER, 100, 100));
    }
    assert_eq!(i.stats().preempt_held, 4);
    assert_eq!(i.poll_at(), Some(ms(9_000)));
    i.handle_timeout(ms(9_000));
    assert_eq!(i.stats().preempt_hold_ended, 1);
    assert_eq!(i.state(), Backup);
    assert_eq!(i.poll_at(), Some(us(8_000_000 + 3_414_062)));
    // From 9 s it is discarded, and the timer set at 8 s runs out.
    i.handle_advert(ms(9_000), &adv(PEER, 100, 100));
    i.handle_advert(ms(10_000), &adv(PEER, 100, 100));
    assert_eq!(i.stats().lower_prio_discarded, 2);
    i.handle_timeout(us(8_000_000 + 3_414_062));
    assert_eq!(i.state(), Master);
}

#[test]
fn v3_backup_learns_master_interval() {
    let mut i = inst(params(100, Version::V3));
    i.start(ms(0));
    drain(&mut i);
    i.handle_advert(ms(1000), &adv(PEER, 200, 50));
    // 3 × 0.5 s + 156 × 0.5 s / 256.
    assert_eq!(i.master_adver_interval(), Duration::from_millis(500));
    assert_eq!(i.master_down_interval(), Duration::from_micros(1_804_687));
    assert_eq!(i.poll_at(), Some(us(1_000_000 + 1_804_687)));
    // Own advert interval is unchanged once master.
    i.handle_timeout(us(2_804_687));
    assert_eq!(i.state(), Master);
    assert_eq!(i.poll_at(), Some(us(3_804_687)));
}

#[test]
fn v2_backup_keeps_its_own_interval() {
    let mut i = inst(params(100, Version::V2));
    i.start(ms(0));
    i.handle_advert(ms(1000), &adv(PEER, 200, 300));
    assert_eq!(i.master_down_interval(), Duration::from_micros(3_609_375));
}

#[test]
fn v3_zero_interval_is_ignored() {
    let mut i = inst(params(100, Version::V3));
    i.start(ms(0));
    i.handle_advert(ms(1000), &adv(PEER, 200, 0));
    assert_eq!(i.stats().advert_int_zero, 1);
    assert_eq!(i.poll_at(), Some(us(3_609_375)));
}

// --- RFC 5798 §6.4.3 Master -------------------------------------------------

#[test]
fn master_yields_to_higher_priority() {
    let (mut i, _) = master_100(Version::V3);
    i.handle_advert(ms(5000), &adv(PEER, 150, 200));
    assert_eq!(
        drain(&mut i),
        [
            RemoveVips,
            Transition {
                from: Master,
                to: Backup
            }
        ]
    );
    assert_eq!(i.state(), Backup);
    assert!(!i.accepts_vip_traffic());
    // v3: interval learnt from the advert: 3 × 2 s + 156 × 2 s / 256.
    assert_eq!(i.poll_at(), Some(us(5_000_000 + 6_000_000 + 1_218_750)));
}

#[test]
fn master_yields_with_a_last_advert_when_asked() {
    let mut p = params(100, Version::V2);
    p.higher_prio_send_advert = true;
    let mut i = inst(p);
    i.start(ms(0));
    i.handle_timeout(i.poll_at().unwrap());
    drain(&mut i);
    i.handle_advert(ms(5000), &adv(PEER, 150, 100));
    assert_eq!(
        drain(&mut i),
        [
            SendAdvert { priority: 100 },
            RemoveVips,
            Transition {
                from: Master,
                to: Backup
            }
        ]
    );
}

#[test]
fn tie_break_on_primary_address_both_ways() {
    // Higher address wins: we yield.
    let (mut i, _) = master_100(Version::V2);
    i.handle_advert(ms(5000), &adv(PEER, 100, 100));
    assert_eq!(i.state(), Backup);
    // Lower address: we stay and re-assert as for a lower priority
    // (keepalived), so the other master yields and caches heal.
    let (mut i, _) = master_100(Version::V2);
    i.handle_advert(ms(5000), &adv(LOW_PEER, 100, 100));
    assert_eq!(i.state(), Master);
    assert_eq!(
        drain(&mut i),
        [
            SendAdvert { priority: 100 },
            SendGarp { count: 5 },
            MasterRxLowerPri {
                src: LOW_PEER,
                priority: 100
            }
        ]
    );
    assert_eq!(i.stats().tie_won, 1);
    // Our own address: misconfiguration, counted.
    i.handle_advert(ms(5100), &adv(ME, 100, 100));
    assert_eq!(i.state(), Master);
    assert_eq!(i.stats().own_address_equal_priority, 1);
}

#[test]
fn tie_break_compares_unsigned() {
    // 200.0.0.1 > 10.0.0.2 as unsigned (a signed compare would say less).
    let (mut i, _) = master_100(Version::V2);
    i.handle_advert(ms(5000), &adv(ip(200, 0, 0, 1), 100, 100));
    assert_eq!(i.state(), Backup);
    let mut p = params(100, Version::V2);
    p.primary = ip(200, 0, 0, 1);
    let mut i = inst(p);
    i.start(ms(0));
    i.handle_timeout(i.poll_at().unwrap());
    i.handle_advert(ms(5000), &adv(ip(10, 0, 0, 2), 100, 100));
    assert_eq!(i.state(), Master);
}

/// A master at 100's answer to an advert of PEER at 50: an advert, a GARP
/// burst (keepalived's 5), the notification.
const ANSWER_TO_LOWER: [VrrpAction; 3] = [
    SendAdvert { priority: 100 },
    SendGarp { count: 5 },
    MasterRxLowerPri {
        src: PEER,
        priority: 50,
    },
];

#[test]
fn master_readvertises_on_lower_priority() {
    let (mut i, at) = master_100(Version::V2);
    let next = i.poll_at();
    i.handle_advert(at + Duration::from_millis(300), &adv(PEER, 50, 100));
    assert_eq!(drain(&mut i), ANSWER_TO_LOWER);
    assert_eq!(i.poll_at(), next, "the advert timer keeps its deadline");
    assert_eq!(i.state(), Master);
    assert_eq!(i.stats().master_rx_lower_prio, 1);
}

#[test]
fn a_backlog_of_lower_priority_adverts_is_answered_once() {
    // Stopped (SIGSTOP) 7.2 s while a lower-priority router took over: its
    // adverts queued up and are handed in at one instant on resume.
    let (mut i, at) = master_100(Version::V2);
    let resumed = at + Duration::from_millis(7_200);
    for _ in 0..4 {
        i.handle_advert(resumed, &adv(PEER, 50, 100));
    }
    assert_eq!(drain(&mut i), ANSWER_TO_LOWER, "one answer for the backlog");
    assert_eq!(i.stats().master_rx_lower_prio, 4);
    assert_eq!(i.stats().lower_prio_backlog, 3);
    // That advert was the overdue one: the timer restarts from now, and
    // the same turn's timeouts send nothing more.
    assert_eq!(i.poll_at(), Some(resumed + Duration::from_secs(1)));
    i.handle_timeout(resumed);
    assert_eq!(drain(&mut i), []);
    // A later advert is answered again; the timer keeps its deadline.
    i.handle_advert(resumed + Duration::from_millis(300), &adv(PEER, 50, 100));
    assert_eq!(drain(&mut i), ANSWER_TO_LOWER);
    assert_eq!(i.poll_at(), Some(resumed + Duration::from_secs(1)));
    // A turn 2 ms late with the timer due: the answer is the due advert,
    // and the next one stays on the schedule.
    let late = resumed + Duration::from_millis(1_002);
    i.handle_advert(late, &adv(PEER, 50, 100));
    assert_eq!(drain(&mut i)[0], SendAdvert { priority: 100 });
    i.handle_timeout(late);
    assert_eq!(drain(&mut i), []);
    assert_eq!(i.poll_at(), Some(resumed + Duration::from_secs(2)));
    assert_eq!(i.state(), Master);
}

#[test]
fn lower_prio_no_advert_only_garps() {
    let mut p = params(100, Version::V2);
    p.lower_prio_no_advert = true;
    p.garp.lower_prio_repeat = 2;
    p.garp.lower_prio_delay = Duration::from_secs(1);
    p.garp.master_delay = Duration::ZERO;
    let mut i = inst(p);
    i.start(ms(0));
    i.handle_timeout(us(3_609_375));
    drain(&mut i);
    i.handle_advert(ms(4000), &adv(PEER, 50, 100));
    assert_eq!(
        drain(&mut i),
        [
            SendGarp { count: 2 },
            MasterRxLowerPri {
                src: PEER,
                priority: 50
            }
        ]
    );
    // Second lower-priority burst after lower_prio_delay (advert at 4.609375 first).
    i.handle_timeout(us(4_609_375));
    assert_eq!(drain(&mut i), [SendAdvert { priority: 100 }]);
    assert_eq!(i.poll_at(), Some(ms(5000)));
    i.handle_timeout(ms(5000));
    assert_eq!(drain(&mut i), [SendGarp { count: 2 }]);
}

#[test]
fn master_answers_priority_zero_at_once() {
    let (mut i, _) = master_100(Version::V2);
    i.handle_advert(ms(4000), &adv(PEER, 0, 100));
    assert_eq!(drain(&mut i), [SendAdvert { priority: 100 }]);
    assert_eq!(i.poll_at(), Some(ms(5000)));
    assert_eq!(i.state(), Master);
}

#[test]
fn owner_ignore_adverts() {
    let mut p = params(255, Version::V2);
    p.owner_ignore_adverts = true;
    let mut i = inst(p);
    i.start(ms(0));
    drain(&mut i);
    i.handle_advert(ms(100), &adv(PEER, 255, 100));
    i.handle_advert(ms(200), &adv(PEER, 0, 100));
    assert_eq!(i.state(), Master);
    assert!(drain(&mut i).is_empty());
    assert_eq!(i.stats().owner_ignored, 2);
    // Without the flag, two owners tie-break like anyone else.
    let mut i = inst(params(255, Version::V2));
    i.start(ms(0));
    i.handle_advert(ms(100), &adv(PEER, 255, 100));
    assert_eq!(i.state(), Backup);
}

// --- GARP -------------------------------------------------------------------

#[test]
fn garp_second_burst_and_refresh() {
    let mut p = params(100, Version::V2);
    p.garp.master_delay = Duration::from_millis(2500);
    p.garp.master_repeat = 3;
    p.garp.master_refresh = Duration::from_secs(4);
    p.garp.master_refresh_repeat = 2;
    let mut i = inst(p);
    i.start(ms(0));
    drain(&mut i);
    i.handle_timeout(us(3_609_375));
    let a = drain(&mut i);
    assert_eq!(a[3], SendGarp { count: 3 });
    let mut garps = Vec::new();
    let mut now = us(3_609_375);
    while now < us(3_609_375 + 12_000_001) {
        now = i.poll_at().unwrap();
        i.handle_timeout(now);
        for a in drain(&mut i) {
            if let SendGarp { count } = a {
                garps.push(((now - us(3_609_375)).total_millis(), count));
            }
        }
    }
    assert_eq!(garps, [(2500, 3), (4000, 2), (8000, 2), (12000, 2)]);
}

#[test]
fn garp_master_delay_zero_means_one_burst() {
    let mut p = params(100, Version::V2);
    p.garp.master_delay = Duration::ZERO;
    let mut i = inst(p);
    i.start(ms(0));
    i.handle_timeout(us(3_609_375));
    drain(&mut i);
    for k in 1..=10 {
        i.handle_timeout(us(3_609_375 + k * 1_000_000));
        assert_eq!(drain(&mut i), [SendAdvert { priority: 100 }]);
    }
}

// --- shutdown, fault, priority ---------------------------------------------

#[test]
fn shutdown_as_master_sends_priority_zero() {
    let (mut i, _) = master_100(Version::V2);
    i.shutdown(ms(6000));
    assert_eq!(
        drain(&mut i),
        [
            SendAdvert { priority: 0 },
            RemoveVips,
            Transition {
                from: Master,
                to: Initialize
            }
        ]
    );
    assert_eq!(i.poll_at(), None);
    i.handle_advert(ms(6100), &adv(PEER, 50, 100));
    assert_eq!(i.stats().advert_not_running, 1);
    i.shutdown(ms(6200));
    assert_eq!(i.stats().shutdown_not_running, 1);
    assert!(drain(&mut i).is_empty());
    // It can start again.
    i.start(ms(7000));
    assert_eq!(i.state(), Backup);
}

#[test]
fn shutdown_as_backup_is_silent() {
    let mut i = inst(params(100, Version::V2));
    i.start(ms(0));
    drain(&mut i);
    i.shutdown(ms(10));
    assert_eq!(
        drain(&mut i),
        [Transition {
            from: Backup,
            to: Initialize
        }]
    );
    assert_eq!(i.poll_at(), None);
}

#[test]
fn fault_enter_and_leave() {
    let mut i = inst(params(100, Version::V2));
    i.start(ms(0));
    drain(&mut i);
    i.set_fault(ms(1000), true);
    assert_eq!(
        drain(&mut i),
        [Transition {
            from: Backup,
            to: Fault
        }]
    );
    assert_eq!(i.poll_at(), None);
    i.handle_advert(ms(1500), &adv(PEER, 50, 100));
    assert_eq!(i.stats().advert_in_fault, 1);
    i.set_fault(ms(1600), true);
    assert_eq!(i.stats().fault_unchanged, 1);
    i.set_fault(ms(2000), false);
    assert_eq!(
        drain(&mut i),
        [Transition {
            from: Fault,
            to: Backup
        }]
    );
    assert_eq!(i.poll_at(), Some(us(2_000_000 + 3_609_375)));

    // From master: priority 0, VIPs dropped.
    let (mut i, _) = master_100(Version::V2);
    i.set_fault(ms(6000), true);
    assert_eq!(
        drain(&mut i),
        [
            SendAdvert { priority: 0 },
            RemoveVips,
            Transition {
                from: Master,
                to: Fault
            }
        ]
    );
    assert_eq!(i.stats().priority_zero_sent, 1);
}

#[test]
fn fault_before_start_starts_in_fault() {
    let mut i = inst(params(255, Version::V2));
    i.set_fault(ms(0), true);
    i.start(ms(0));
    assert_eq!(
        drain(&mut i),
        [Transition {
            from: Initialize,
            to: Fault
        }]
    );
    // The owner leaves FAULT through BACKUP after interval + skew.
    i.set_fault(ms(1000), false);
    assert_eq!(i.state(), Backup);
    assert_eq!(i.poll_at(), Some(us(2_003_906)));
}

#[test]
fn priority_change_is_advertised_at_once() {
    let (mut i, _) = master_100(Version::V2);
    i.set_priority(ms(4000), 90);
    assert_eq!(drain(&mut i), [SendAdvert { priority: 90 }]);
    assert_eq!(i.poll_at(), Some(ms(5000)));
    i.set_priority(ms(4100), 90);
    assert!(drain(&mut i).is_empty());
    i.set_priority(ms(4200), 0);
    assert_eq!(i.priority(), 1);
    i.set_priority(ms(4300), 255);
    assert_eq!(i.priority(), 254);
    assert_eq!(i.stats().priority_clamped, 2);
    let mut o = inst(params(255, Version::V2));
    o.set_priority(ms(0), 100);
    assert_eq!(o.priority(), 255);
    assert_eq!(o.stats().owner_priority_fixed, 1);
}

#[test]
fn backup_with_raised_priority_preempts() {
    let mut i = inst(params(100, Version::V2));
    i.start(ms(0));
    drain(&mut i);
    i.handle_advert(ms(1000), &adv(PEER, 150, 100));
    i.set_priority(ms(1500), 200);
    i.handle_advert(ms(2000), &adv(PEER, 150, 100));
    // Discarded: the timer set at 1 s (old skew) runs out.
    assert_eq!(i.poll_at(), Some(us(1_000_000 + 3_609_375)));
    i.handle_timeout(us(4_609_375));
    assert_eq!(i.state(), Master);
    assert_eq!(
        drain(&mut i)[1],
        SendAdvert { priority: 200 },
        "the effective priority is advertised"
    );
}

// --- after a watchdog reset -----------------------------------------------------

#[test]
fn reset_hold_follows_a_lower_master_then_preempts() {
    let mut i = inst(params(150, Version::V2));
    i.hold_after_reset(ms(10_000));
    i.start(ms(0));
    drain(&mut i);
    let became = takeover_from_a_lower_master(&mut i);
    // Followed until 9 s; the advert at 10 s is discarded (hold over), so
    // the timer set at 9 s runs out: preempted 9 s + 3.4140625 s.
    assert_eq!(became, Some(us(9_000_000 + 3_414_062)));
    assert_eq!(i.stats().reset_hold_followed, 9);
    assert_eq!(i.stats().preempt_held, 0);
}

#[test]
fn reset_hold_starts_the_owner_as_backup_and_keeps_nopreempt() {
    let mut o = inst(params(255, Version::V2));
    o.hold_after_reset(ms(60_000));
    o.start(ms(0));
    assert_eq!(o.state(), Backup);
    drain(&mut o);
    // Alone: it still becomes master, after one interval + skew.
    o.handle_timeout(us(1_003_906));
    assert_eq!(o.state(), Master);
    // nopreempt is not counted as held by the reset.
    let mut p = params(150, Version::V2);
    p.preempt = false;
    let mut n = inst(p);
    n.hold_after_reset(ms(60_000));
    n.start(ms(0));
    n.handle_advert(ms(1000), &adv(PEER, 100, 100));
    assert_eq!(n.stats().reset_hold_followed, 0);
    // Once the hold is over, the owner starts as master at once again.
    let mut o = inst(params(255, Version::V2));
    o.hold_after_reset(ms(60_000));
    o.start(ms(60_000));
    assert_eq!(o.state(), Master);
}

#[test]
fn safe_mode_caps_the_advertised_priority() {
    let (mut i, _) = master_100(Version::V2);
    i.set_priority_cap(ms(4000), 1);
    assert_eq!(drain(&mut i), [SendAdvert { priority: 1 }]);
    assert_eq!(i.priority(), 1);
    // Tracking still moves the wish; the cap holds.
    i.set_priority(ms(4100), 120);
    assert!(drain(&mut i).is_empty());
    assert_eq!(i.priority(), 1);
    // Lifted: the tracked value comes back, advertised at once.
    i.set_priority_cap(ms(4200), OWNER_PRIORITY);
    assert_eq!(drain(&mut i), [SendAdvert { priority: 120 }]);
    // The owner is capped too, and yields to any higher master.
    let mut o = inst(params(255, Version::V2));
    o.set_priority_cap(ms(0), 1);
    o.start(ms(0));
    assert_eq!((o.state(), o.priority()), (Master, 1));
    drain(&mut o);
    o.handle_advert(ms(500), &adv(LOW_PEER, 2, 100));
    assert_eq!(o.state(), Backup);
}

#[test]
fn late_timers_are_named_with_a_budget_of_one_interval() {
    let (i, at) = master_100(Version::V2);
    let due = i.poll_at().unwrap();
    assert_eq!(due, at + Duration::from_secs(1));
    assert_eq!(i.late_timer(due - Duration::from_micros(1)), None);
    let late = i.late_timer(due + Duration::from_millis(1500)).unwrap();
    assert_eq!(late.timer, "advert timer");
    assert_eq!(late.late_by, Duration::from_millis(1500));
    assert_eq!(late.budget, Duration::from_secs(1));
    let mut b = inst(params(100, Version::V3));
    b.start(ms(0));
    b.handle_advert(ms(10), &adv(PEER, 200, 50));
    let down = b.poll_at().unwrap();
    let late = b.late_timer(down + Duration::from_millis(600)).unwrap();
    assert_eq!(late.timer, "master-down timer");
    // Backup: the master's interval (v3, learnt: 0.5 s).
    assert_eq!(late.budget, Duration::from_millis(500));
}

// --- simulation ---------------------------------------------------------------

/// Two (or more) routers on a fake wire with a fixed delay.
struct Sim {
    nodes: Vec<Instance>,
    alive: Vec<bool>,
    wire: Vec<(Instant, usize, AdvertInfo)>,
    now: Instant,
    /// (time, node, new state)
    log: Vec<(Instant, usize, State)>,
    /// (time, node, priority) of every advert sent
    sent: Vec<(Instant, usize, u8)>,
}

const WIRE_DELAY: Duration = Duration::from_micros(50);

impl Sim {
    fn new(nodes: Vec<InstanceParams>) -> Sim {
        let n = nodes.len();
        Sim {
            nodes: nodes.into_iter().map(inst).collect(),
            alive: std::vec![true; n],
            wire: Vec::new(),
            now: ms(0),
            log: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn drain(&mut self, k: usize) {
        while let Some(a) = self.nodes[k].poll_action() {
            match a {
                SendAdvert { priority } => {
                    self.sent.push((self.now, k, priority));
                    let p = *self.nodes[k].params();
                    for to in 0..self.nodes.len() {
                        if to != k {
                            self.wire.push((
                                self.now + WIRE_DELAY,
                                to,
                                adv(p.primary, priority, p.advert_int),
                            ));
                        }
                    }
                }
                Transition { to, .. } => self.log.push((self.now, k, to)),
                AddVips | RemoveVips | SendGarp { .. } | MasterRxLowerPri { .. } => {}
            }
        }
    }

    /// Runs every event up to and including `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let mut next: Option<Instant> = None;
            for (k, n) in self.nodes.iter().enumerate() {
                if self.alive[k] {
                    next = crate::time::earliest(next, n.poll_at());
                }
            }
            for (t, _, _) in &self.wire {
                next = crate::time::earliest(next, Some(*t));
            }
            let Some(t) = next.filter(|t| *t <= until) else {
                break;
            };
            assert!(t >= self.now);
            self.now = t;
            let (due, rest): (Vec<_>, Vec<_>) =
                self.wire.drain(..).partition(|(t, _, _)| *t <= self.now);
            self.wire = rest;
            for (_, to, a) in due {
                if self.alive[to] {
                    self.nodes[to].handle_advert(self.now, &a);
                    self.drain(to);
                }
            }
            for k in 0..self.nodes.len() {
                if self.alive[k] {
                    self.nodes[k].handle_timeout(self.now);
                    self.drain(k);
                }
            }
        }
        self.now = until;
    }

    fn start(&mut self, k: usize, at: Instant) {
        self.run_until(at);
        self.nodes[k].start(at);
        self.drain(k);
    }

    fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|k| self.alive[*k] && self.nodes[*k].state() == Master)
            .collect()
    }

    fn last_transition(&self) -> Instant {
        self.log.last().map(|l| l.0).unwrap()
    }
}

fn pair(version: Version, high: u8, low: u8) -> Vec<InstanceParams> {
    let mut a = params(high, version);
    a.primary = ip(10, 0, 0, 1);
    let mut b = params(low, version);
    b.primary = ip(10, 0, 0, 2);
    std::vec![a, b]
}

#[test]
fn simulation_converges_to_the_higher_priority_from_any_start_order() {
    for version in [Version::V2, Version::V3] {
        for (first, gap_ms) in [(0, 0), (0, 1700), (0, 8000), (1, 0), (1, 1700), (1, 8000)] {
            let mut sim = Sim::new(pair(version, 200, 100));
            sim.start(first, ms(0));
            sim.start(1 - first, ms(gap_ms));
            sim.run_until(ms(30_000));
            assert_eq!(sim.masters(), [0], "{version:?} first={first} gap={gap_ms}");
            assert_eq!(sim.nodes[1].state(), Backup);
            // Stable: nothing changed in the last 10 s.
            assert!(sim.last_transition() < ms(20_000), "{:?}", sim.log);
            // Exactly one master advertising in the last 10 s.
            assert!(
                sim.sent
                    .iter()
                    .filter(|s| s.0 > ms(20_000))
                    .all(|s| s.1 == 0)
            );
        }
    }
}

#[test]
fn simulation_equal_priority() {
    // Both masters at once: the tie-break picks the higher address.
    let mut sim = Sim::new(pair(Version::V3, 100, 100));
    sim.start(0, ms(0));
    sim.start(1, ms(0));
    sim.run_until(ms(20_000));
    assert_eq!(sim.masters(), [1]);
    assert_eq!(sim.nodes[0].stats().master_yielded, 1);
    // A running master is kept: an equal priority backup does not preempt
    // (RFC 5798 §6.4.2 "greater than or equal").
    for first in [0, 1] {
        let mut sim = Sim::new(pair(Version::V3, 100, 100));
        sim.start(first, ms(0));
        sim.start(1 - first, ms(4000));
        sim.run_until(ms(20_000));
        assert_eq!(sim.masters(), [first], "first={first}");
    }
}

#[test]
fn simulation_fails_over_when_the_master_dies() {
    for version in [Version::V2, Version::V3] {
        let mut sim = Sim::new(pair(version, 200, 100));
        sim.start(0, ms(0));
        sim.start(1, ms(500));
        sim.run_until(ms(10_000));
        assert_eq!(sim.masters(), [0]);
        // Killed: no priority 0.
        sim.alive[0] = false;
        let last = sim.sent.iter().rev().find(|s| s.1 == 0).unwrap().0;
        sim.run_until(ms(20_000));
        assert_eq!(sim.masters(), [1]);
        let took = sim.log.last().unwrap();
        assert_eq!(took.1, 1);
        // Exactly Master_Down_Interval after the last advert arrived.
        assert_eq!(
            took.0,
            last + WIRE_DELAY + Duration::from_micros(3_609_375),
            "{version:?}"
        );
    }
}

#[test]
fn simulation_clean_stop_hands_over_after_skew_time_and_preempts_back() {
    let mut sim = Sim::new(pair(Version::V3, 200, 100));
    sim.start(0, ms(0));
    sim.start(1, ms(500));
    sim.run_until(ms(10_000));
    sim.nodes[0].shutdown(ms(10_000));
    sim.drain(0);
    sim.run_until(ms(12_000));
    assert_eq!(sim.masters(), [1]);
    let took = sim.log.last().unwrap();
    assert_eq!(
        took.0,
        ms(10_000) + WIRE_DELAY + Duration::from_micros(609_375)
    );
    // The higher priority comes back and preempts.
    sim.start(0, ms(15_000));
    sim.run_until(ms(30_000));
    assert_eq!(sim.masters(), [0]);
    assert_eq!(sim.nodes[1].state(), Backup);
}

#[test]
fn simulation_nopreempt_keeps_the_running_master() {
    let mut p = pair(Version::V2, 200, 100);
    p[0].preempt = false;
    let mut sim = Sim::new(p);
    sim.start(1, ms(0));
    sim.run_until(ms(10_000));
    assert_eq!(sim.masters(), [1]);
    sim.start(0, ms(10_000));
    sim.run_until(ms(40_000));
    assert_eq!(sim.masters(), [1]);
}

// --- sync-group members -----------------------------------------------------

fn sync_member(prio: u8) -> Instance {
    let mut i = inst(params(prio, Version::V3));
    i.set_sync_member(true);
    i
}

#[test]
fn sync_member_timer_is_a_wish_not_a_move() {
    let mut i = sync_member(100);
    i.start(ms(0));
    drain(&mut i);
    let at = i.poll_at().unwrap();
    i.handle_timeout(at);
    assert_eq!(i.state(), Backup);
    assert!(drain(&mut i).is_empty());
    assert!(i.wants_master());
    assert!(i.take_master_wish());
    assert!(!i.take_master_wish(), "taken once");
    assert_eq!(i.poll_at(), None, "no timer while held");
    // A master heard withdraws the wish and restarts the timer.
    i.handle_advert(at, &adv(PEER, 200, 100));
    assert!(!i.wants_master());
    assert!(i.poll_at().is_some());
    // The group lets it go.
    i.force_master(at);
    assert_eq!(drain(&mut i), BECOME_MASTER_FROM_BACKUP);
    assert_eq!(i.stats().forced, 1);
}

#[test]
fn sync_member_owner_starts_as_backup() {
    let mut i = sync_member(255);
    i.start(ms(0));
    assert_eq!(i.state(), Backup);
}

#[test]
fn sync_member_leaves_fault_only_when_forced() {
    let mut i = sync_member(100);
    i.start(ms(0));
    i.set_fault(ms(10), true);
    assert_eq!(i.state(), Fault);
    drain(&mut i);
    i.set_fault(ms(20), false);
    assert_eq!(i.state(), Fault, "held for the group");
    assert!(drain(&mut i).is_empty());
    i.force_backup(ms(30));
    assert_eq!(i.state(), Backup);
    assert_eq!(
        drain(&mut i),
        [Transition {
            from: Fault,
            to: Backup
        }]
    );
}

#[test]
fn forced_fault_and_backup_from_master() {
    let (mut i, at) = master_100(Version::V3);
    i.set_sync_member(true);
    i.force_fault(at);
    assert_eq!(
        drain(&mut i),
        [
            SendAdvert { priority: 0 },
            RemoveVips,
            Transition {
                from: Master,
                to: Fault
            }
        ]
    );
    assert!(!i.is_faulty(), "the group's fault, not its own");
    i.force_backup(at);
    assert_eq!(i.state(), Backup);
    i.force_master(at);
    drain(&mut i);
    i.force_backup(at);
    assert_eq!(
        drain(&mut i),
        [
            RemoveVips,
            Transition {
                from: Master,
                to: Backup
            }
        ]
    );
    // Ignored where they do not apply.
    i.force_master(at);
    drain(&mut i);
    i.force_master(at);
    assert_eq!(i.stats().force_ignored, 1);
}

#[test]
fn own_fault_is_not_cleared_by_force_backup() {
    let mut i = sync_member(100);
    i.start(ms(0));
    i.set_fault(ms(10), true);
    i.force_backup(ms(20));
    assert_eq!(i.state(), Fault);
    assert_eq!(i.stats().force_ignored, 1);
}

#[test]
fn adverts_keep_their_period_when_the_loop_runs_late() {
    let mut p = params(100, Version::V3);
    p.garp.master_delay = Duration::ZERO;
    let mut i = inst(p);
    i.start(ms(0));
    let at = i.poll_at().unwrap();
    i.handle_timeout(at);
    drain(&mut i);
    let first = at + Duration::from_secs(1);
    assert_eq!(i.poll_at(), Some(first));
    // Handled 3 ms late: the next one is still a period after the first.
    i.handle_timeout(first + Duration::from_millis(3));
    assert_eq!(drain(&mut i), [SendAdvert { priority: 100 }]);
    assert_eq!(i.poll_at(), Some(first + Duration::from_secs(1)));
    // More than a whole period late: one advert, the period restarts from
    // then (no burst).
    let late = first + Duration::from_millis(3500);
    i.handle_timeout(late);
    assert_eq!(drain(&mut i), [SendAdvert { priority: 100 }]);
    assert_eq!(i.poll_at(), Some(late + Duration::from_secs(1)));
}
