//! A deterministic simulator of picket's VRRP core (issue 9, part 2).
//!
//! N routers, each running picket's sans-IO engine
//! (`picket::vrrp::engine::Engine`) built from a configuration, on one simulated Ethernet segment with a virtual clock:
//! no sleeping, no sockets, time jumps to the next event. A seeded network
//! drops, delays, duplicates and reorders adverts, partitions and heals;
//! routers boot, stop (priority 0), crash, lose and regain their link and
//! have their priority moved by trackers. Each scenario is drawn from a seed
//! ([`scenario::generate`]): 2–5 routers, 1–3 VRIDs (routers in several),
//! VRRPv2 and v3, IPv4 and IPv6, multicast and unicast, priorities with
//! ties and 255 owners, `nopreempt`, `preempt_delay`, `down_timer_adverts`,
//! then rounds of a fault phase followed by a stable phase. Every advert
//! is built by the sender's engine and parsed by the receiver's, as on a
//! wire.
//!
//! The invariants ([`check`]): after the network has been stable for the
//! bound of [`check::settle`], exactly one master per VRID and it has the
//! highest priority (as RFC 5798 §6.4 defines it, with ties and
//! `nopreempt`); after every input, VIPs held exactly by masters; every
//! state change traced to an input the RFC's state table allows, at the
//! time it allows.
//!
//! Run: `cargo test --test simulator -- --nocapture` (10,000 scenarios,
//! seeds 1 to 10,000; `SIM_SCENARIOS=<n>` for another count,
//! `SIM_FIRST=<seed>` to start elsewhere). A failing scenario prints its
//! seed, the end of its trace and the command that replays it:
//! `SIM_SEED=<seed> cargo test --test simulator -- --nocapture` prints the
//! whole step-by-step trace of that seed.
//!
//! Not simulated (yet): sync groups, reloads (`Engine::adopt`), VMACs,
//! addresses deleted by others, interfaces deleted and recreated, the
//! watchdog's safe mode, strangers in unicast mode; and only timers, not
//! inputs, are delayed by a busy loop.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "simulator/check.rs"]
mod check;
#[path = "simulator/rng.rs"]
mod rng;
#[path = "simulator/scenario.rs"]
mod scenario;
#[path = "simulator/world.rs"]
mod world;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant as WallClock;

use picket::vrrp::State;
use scenario::{
    Action, Fam, MemberSpec, NetFault, Round, RouterSpec, Scenario, Us, VrSpec, generate,
};
use world::{ArmedBy, Change, Counters, Input, Pool, View, World};

/// Scenarios of the default run (the acceptance: at least 10,000).
const DEFAULT_SCENARIOS: u64 = 10_000;

/// Stack of the simulation threads: configurations are built in place, but
/// a debug build still moves large tables through the stack.
const STACK: usize = 64 << 20;

/// Runs scenario `scn`; the counters, or what failed.
fn run(scn: &Scenario, pool: &mut Pool, trace: bool) -> (Result<(), String>, Counters, String) {
    let mut w = World::new(scn, pool, trace);
    let result = w.run();
    let text = if trace { w.trace_text() } else { String::new() };
    (result, w.counters, text)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
    })
}

/// CPU time of the calling thread so far: what the scenarios cost,
/// whatever else the machine runs.
fn thread_cpu() -> std::time::Duration {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).unwrap();
    std::time::Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32)
}

/// The replay command of `seed`.
fn replay(seed: u64) -> String {
    format!("SIM_SEED={seed} cargo test --test simulator -- --nocapture")
}

#[test]
fn seeded_scenarios_keep_every_invariant() {
    let mut pool = Pool::new();
    if let Some(seed) = env_u64("SIM_SEED") {
        let scn = generate(seed);
        let (result, c, trace) = run(&scn, &mut pool, true);
        print!("{trace}");
        println!("seed {seed}: {c:?}");
        if let Err(e) = result {
            panic!("seed {seed}: {e}");
        }
        return;
    }
    let count = env_u64("SIM_SCENARIOS").unwrap_or(DEFAULT_SCENARIOS);
    // A soak beyond the default seeds: SIM_FIRST=<seed>.
    let first = env_u64("SIM_FIRST").unwrap_or(1);
    // Seeds are shared out between a few threads (each scenario is
    // deterministic alone; the threads share nothing).
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4) as u64;
    let start = WallClock::now();
    let mut total = Counters::default();
    let mut failed: Vec<(u64, String)> = Vec::new();
    let mut cpu = std::time::Duration::ZERO;
    std::thread::scope(|scope| {
        let shards: Vec<_> = (0..threads)
            .map(|k| {
                std::thread::Builder::new()
                    .name(format!("sim-{k}"))
                    .stack_size(STACK)
                    .spawn_scoped(scope, move || {
                        let mut pool = Pool::new();
                        let mut total = Counters::default();
                        let mut failed = Vec::new();
                        let seeds = first + k..first + count;
                        for seed in seeds.step_by(threads as usize) {
                            let (result, c, _) = run(&generate(seed), &mut pool, false);
                            total.add(&c);
                            if let Err(e) = result {
                                failed.push((seed, e));
                            }
                        }
                        (total, failed, thread_cpu())
                    })
                    .unwrap()
            })
            .collect();
        for shard in shards {
            let (c, f, t) = shard.join().unwrap();
            total.add(&c);
            failed.extend(f);
            cpu += t;
        }
    });
    failed.sort_by_key(|(seed, _)| *seed);
    let wall = start.elapsed();
    println!(
        "simulator: {count} scenarios in {:.2} s on {threads} threads, {:.2} s of CPU ({:.0} us each): {} inputs, {} adverts sent ({} lost), {} state changes ({} split brains, {} tie-breaks by address, {} takeovers after priority 0), {} election checks",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / count as f64,
        total.inputs,
        total.sent,
        total.lost,
        total.changes,
        total.split_brains,
        total.ties,
        total.zero_takeovers,
        total.checks
    );
    if let Some((seed, e)) = failed.first() {
        let (_, _, trace) = run(&generate(*seed), &mut pool, true);
        let lines: Vec<&str> = trace.lines().collect();
        for l in &lines[lines.len().saturating_sub(60)..] {
            println!("{l}");
        }
        println!("FAILED seed {seed}: {e}");
        println!("replay: {}", replay(*seed));
        let seeds: Vec<u64> = failed.iter().map(|(s, _)| *s).collect();
        panic!(
            "{} of {count} scenarios failed (seeds {seeds:?}); first: seed {seed}: {e}\nreplay: {}",
            failed.len(),
            replay(*seed)
        );
    }
}

/// Seeds whose traces are compared run against run.
const DETERMINISM_SEEDS: [u64; 3] = [7, 42, 4711];

#[test]
fn the_same_seed_gives_the_same_trace() {
    let mut pool = Pool::new();
    for seed in DETERMINISM_SEEDS {
        let scn = generate(seed);
        let (r1, c1, t1) = run(&scn, &mut pool, true);
        let (r2, c2, t2) = run(&generate(seed), &mut pool, true);
        assert_eq!(r1, r2, "seed {seed}");
        assert!(r1.is_ok(), "seed {seed}: {r1:?}");
        assert!(
            t1.lines().count() > 20,
            "seed {seed}: a trace of {} lines",
            t1.lines().count()
        );
        assert_eq!(t1, t2, "seed {seed}: two runs, two traces");
        assert_eq!(format!("{c1:?}"), format!("{c2:?}"));
    }
    // Different seeds, different worlds.
    assert_ne!(
        run(&generate(1), &mut pool, true).2,
        run(&generate(2), &mut pool, true).2
    );
}

// --- Hand-written scenarios --------------------------------------------------

/// Router `i` (1-based host part) with addresses ending in `i`.
fn router(i: u8) -> RouterSpec {
    RouterSpec {
        addr4: Ipv4Addr::new(10, 0, 0, i),
        ll6: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(i)),
        g6: Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, u16::from(i)),
    }
}

/// A VRRPv3 IPv4 multicast virtual router, VRID 7, every second, with
/// `(router, priority)` members that preempt.
fn vr(members: &[(usize, u8)]) -> VrSpec {
    VrSpec {
        vrid: 7,
        fam: Fam::V4,
        version: 3,
        interval_cs: 100,
        down_adverts: 3,
        unicast: false,
        vips: 2,
        members: members
            .iter()
            .map(|&(router, priority)| MemberSpec {
                router,
                priority,
                preempt: true,
                preempt_delay: 0,
                interval_cs: 100,
                lower_prio_no_advert: false,
                higher_prio_send_advert: false,
            })
            .collect(),
    }
}

/// One second, µs.
const SEC: Us = 1_000_000;
/// The hand-written scenarios' latency, µs.
const LATENCY: Us = 500;

/// A scenario of `n` routers (addresses .1 to .n) and `vrs`, whose first
/// round boots every router at once and lets them settle.
fn scenario(n: u8, vrs: Vec<VrSpec>) -> Scenario {
    Scenario {
        seed: 0,
        routers: (1..=n).map(router).collect(),
        vrs,
        latency: LATENCY,
        stable_jitter: 0,
        loopback: false,
        timer_late: 0,
        timer_slack: 0,
        rounds: vec![Round {
            fault_len: SEC,
            events: (0..usize::from(n)).map(|r| (0, Action::Boot(r))).collect(),
            check_len: 3 * SEC,
        }],
    }
}

/// Leaves router `r` out of the first round's boots, and boots it at the
/// start of a new last round checked for `check_len`.
fn boot_later(scn: &mut Scenario, r: usize, check_len: Us) {
    scn.rounds[0].events.retain(|(_, a)| *a != Action::Boot(r));
    scn.rounds.push(Round {
        fault_len: SEC,
        events: vec![(0, Action::Boot(r))],
        check_len,
    });
}

/// The state changes of `w` after `t`.
fn changes_after(w: &World<'_>, t: Us) -> Vec<Change> {
    w.changes.iter().filter(|c| c.at > t).copied().collect()
}

/// The one master of virtual router `v`, checked.
fn master_of(w: &World<'_>, v: usize) -> usize {
    check::election(w, v).unwrap();
    (0..w.nodes.len())
        .find(|&r| w.nodes[r].running && w.nodes[r].view[v].state == State::Master)
        .unwrap()
}

#[test]
fn a_healed_partition_hands_the_vip_back_to_the_higher_priority() {
    // r0 at 200 and r1 at 100. The partition makes r1 master too (split
    // brain); once it heals, r0's next advert makes r1 yield, and r0 never
    // left MASTER.
    let mut scn = scenario(2, vec![vr(&[(0, 200), (1, 100)])]);
    scn.rounds.push(Round {
        fault_len: 8 * SEC,
        events: vec![(0, Action::Partition(vec![0, 1]))],
        check_len: 3 * SEC,
    });
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, true);
    w.run_round(0).unwrap();
    assert_eq!(master_of(&w, 0), 0);
    let settled = w.now;
    w.run_round(1).unwrap();
    assert_eq!(master_of(&w, 0), 0);
    let (_, healed, _) = w.rounds[1];
    let changes = changes_after(&w, settled);
    assert!(
        changes.iter().all(|c| c.router == 1),
        "r0 kept MASTER: {changes:?}"
    );
    let [up, down] = changes[..] else {
        panic!("{changes:?}")
    };
    assert_eq!(
        (up.from, up.to, up.cause),
        (State::Backup, State::Master, Input::Timeout)
    );
    assert!(up.at < healed, "split brain during the partition");
    assert_eq!((down.from, down.to), (State::Master, State::Backup));
    assert!(
        matches!(
            down.cause,
            Input::Advert {
                from: 0,
                priority: 200,
                ..
            }
        ),
        "{down:?}"
    );
    // r0's next periodic advert after the heal does it.
    assert!(
        down.at > healed && down.at <= healed + SEC + LATENCY,
        "{down:?}"
    );
}

/// The times r0 (master since `since`) sends adverts: every second after
/// it became master.
fn advert_times(since: Us) -> impl Iterator<Item = Us> {
    (1..).map(move |k| since + k * SEC)
}

/// When router `r` last became master.
fn became_master(w: &World<'_>, r: usize) -> Us {
    w.changes
        .iter()
        .rev()
        .find(|c| c.router == r && c.to == State::Master)
        .unwrap()
        .at
}

/// r0 (200) master and r1 (100) backup; from the first advert after
/// `after`, `lost` consecutive adverts of r0 are lost. Returns the world's
/// changes after the burst began, and the burst's start.
fn lose_adverts(lost: i64) -> (Vec<Change>, Us, Us) {
    let scn = scenario(2, vec![vr(&[(0, 200), (1, 100)])]);
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.run_round(0).unwrap();
    let since = became_master(&w, 0);
    let first = advert_times(since).find(|&t| t > w.now + SEC).unwrap();
    // Half an interval either side: exactly `lost` adverts fall inside.
    let (from, to) = (first - SEC / 2, first + (lost - 1) * SEC + SEC / 2);
    w.run_until(from).unwrap();
    w.begin_fault_phase();
    w.schedule_action(
        from,
        Action::Net(NetFault {
            loss: 1000,
            dup: 0,
            jitter: 0,
        }),
    );
    w.schedule_action(to, Action::Net(NetFault::default()));
    w.run_until(to + 1).unwrap();
    let stable = w.end_fault_phase();
    w.checking[0] = false;
    // Stable again: the invariant from its bound on.
    w.run_until(stable + w.settle(0)).unwrap();
    w.checking[0] = true;
    w.run_until(stable + w.settle(0) + 5 * SEC).unwrap();
    assert_eq!(master_of(&w, 0), 0);
    (changes_after(&w, from), first, w.now)
}

#[test]
fn a_burst_of_lost_adverts_shorter_than_master_down_changes_nothing() {
    // Master_Down_Interval of r1: 3 s + (256 - 100)/256 s = 3.609 s. Two
    // adverts lost: r1 hears r0 3 s apart, nothing happens.
    let mdi = check::master_down(&vr(&[]), SEC, 100);
    assert_eq!(mdi, 3_609_375);
    let (changes, _, _) = lose_adverts(2);
    assert!(changes.is_empty(), "{changes:?}");
    // Three lost: 4 s of silence. r1 takes over exactly Master_Down_Interval
    // after the last advert it heard, and yields to r0's next one.
    let (changes, first, _) = lose_adverts(3);
    let heard = first - SEC + LATENCY;
    let [up, down] = changes[..] else {
        panic!("{changes:?}")
    };
    assert_eq!(
        (up.router, up.from, up.to, up.at),
        (1, State::Backup, State::Master, heard + mdi)
    );
    assert_eq!((down.router, down.to), (1, State::Backup));
    assert!(matches!(
        down.cause,
        Input::Advert {
            from: 0,
            priority: 200,
            ..
        }
    ));
}

#[test]
fn equal_priorities_meeting_as_masters_keep_the_higher_address() {
    // r0 (10.0.0.1) and r1 (10.0.0.2) at 150, split: both master. Healed:
    // r0 yields to r1's equal priority from the higher address (RFC 5798
    // §6.4.3). r2 (10.0.0.3, also 150) boots later and stays BACKUP: an
    // equal priority never preempts (§6.4.2), whatever the address.
    let mut scn = scenario(3, vec![vr(&[(0, 150), (1, 150), (2, 150)])]);
    scn.rounds.push(Round {
        fault_len: 6 * SEC,
        events: vec![(0, Action::Partition(vec![0, 1, 1]))],
        check_len: 3 * SEC,
    });
    boot_later(&mut scn, 2, 6 * SEC);
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.run().unwrap();
    assert_eq!(master_of(&w, 0), 1);
    let (_, healed, _) = w.rounds[1];
    let tie = w
        .changes
        .iter()
        .find(|c| c.from == State::Master && c.to == State::Backup && c.at > healed)
        .unwrap();
    assert_eq!(tie.router, 0);
    assert!(matches!(
        tie.cause,
        Input::Advert {
            from: 1,
            priority: 150,
            ..
        }
    ));
    let (booted, _, _) = w.rounds[2];
    assert!(
        changes_after(&w, booted)
            .iter()
            .all(|c| c.to != State::Master)
    );
}

#[test]
fn nopreempt_keeps_a_lower_master_and_preempt_takes_over() {
    for preempt in [false, true] {
        let mut spec = vr(&[(0, 100), (1, 200)]);
        spec.members[1].preempt = preempt;
        let mut scn = scenario(2, vec![spec]);
        boot_later(&mut scn, 1, 5 * SEC);
        let mut pool = Pool::new();
        let mut w = World::new(&scn, &mut pool, false);
        w.run().unwrap();
        assert_eq!(
            master_of(&w, 0),
            if preempt { 1 } else { 0 },
            "preempt {preempt}"
        );
    }
}

#[test]
fn a_stopping_master_hands_over_after_skew_time() {
    // r0 stops: its priority-0 advert cuts r1's wait to Skew_Time (RFC 5798
    // §6.4.2): (256 - 100) / 256 s after it arrives.
    let mut scn = scenario(2, vec![vr(&[(0, 200), (1, 100)])]);
    scn.rounds.push(Round {
        fault_len: SEC,
        events: vec![(SEC / 2, Action::Stop(0))],
        check_len: 3 * SEC,
    });
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.run().unwrap();
    let (start, _, _) = w.rounds[1];
    let stopped = start + SEC / 2;
    let up = changes_after(&w, stopped)
        .into_iter()
        .find(|c| c.router == 1)
        .unwrap();
    let skew = check::skew(&scn.vrs[0], SEC, 100);
    assert_eq!((up.to, up.at), (State::Master, stopped + LATENCY + skew));
}

#[test]
fn the_owner_takes_over_as_soon_as_it_boots() {
    // RFC 5798 §6.4.1: priority 255 goes MASTER at Startup; the master
    // at 254 yields on its first advert.
    let mut scn = scenario(2, vec![vr(&[(0, 255), (1, 254)])]);
    boot_later(&mut scn, 0, 3 * SEC);
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.run().unwrap();
    let (booted, _, _) = w.rounds[1];
    let changes = changes_after(&w, booted - 1);
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.router, c.from, c.to, c.at - booted))
            .collect::<Vec<_>>(),
        [
            (0, State::Initialize, State::Master, 0),
            (1, State::Master, State::Backup, LATENCY)
        ]
    );
}

#[test]
fn backups_follow_a_yielding_masters_last_advert_until_the_next_one() {
    // keepalived's higher_prio_send_advert: r0 (100) yields to r1 (200)
    // with one last advert, which r2 (50) hears after r1's first: r2
    // follows r0 until r1's next periodic advert (keepalived does the
    // same). Why the "follows" part of the election check starts one
    // interval after the rest (check::next_advert).
    let mut spec = vr(&[(0, 100), (1, 200), (2, 50)]);
    spec.members[0].higher_prio_send_advert = true;
    let mut scn = scenario(3, vec![spec]);
    scn.rounds[0].events.retain(|(_, a)| *a != Action::Boot(1));
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.run_round(0).unwrap();
    assert_eq!(master_of(&w, 0), 0);
    let booted = w.now;
    w.schedule_action(booted, Action::Boot(1));
    let r0 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let r1 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    let follows = |w: &World<'_>| w.engine(2).instance(0).unwrap().master();
    // r1 waits Master_Down_Interval, then takes over.
    let takeover = booted + check::master_down(&scn.vrs[0], SEC, 200);
    w.run_until(takeover + 2 * LATENCY + 1).unwrap();
    let states: Vec<State> = w.nodes.iter().map(|n| n.view[0].state).collect();
    assert_eq!(states, [State::Backup, State::Master, State::Backup]);
    assert_eq!(follows(&w), Some((r0, 100)), "r0's last word came last");
    let e = check::election(&w, 0).unwrap_err();
    assert!(e.contains("r2 follows Some((10.0.0.1, 100))"), "{e}");
    w.run_until(takeover + SEC + LATENCY + 1).unwrap();
    assert_eq!(follows(&w), Some((r1, 200)));
    assert_eq!(master_of(&w, 0), 1);
}

// --- The checker can fail -----------------------------------------------------

/// Three routers at 200, 150 and 100.
fn three() -> Scenario {
    scenario(3, vec![vr(&[(0, 200), (1, 150), (2, 100)])])
}

/// `scn` run to its end, settled on r0.
fn settled<'a>(scn: &'a Scenario, pool: &'a mut Pool) -> World<'a> {
    let mut w = World::new(scn, pool, false);
    w.run().unwrap();
    assert_eq!(master_of(&w, 0), 0);
    w
}

#[test]
fn the_checker_catches_a_forged_extra_master() {
    let scn = three();
    let mut pool = Pool::new();
    let mut w = settled(&scn, &mut pool);
    // r2 as a second master, VIPs and all.
    w.nodes[2].view[0].state = State::Master;
    w.nodes[2].view[0].vips = true;
    let e = check::election(&w, 0).unwrap_err();
    assert!(e.contains("2 masters"), "{e}");
    // The engine never went there: its next input says so.
    let e = w.run_until(w.now + 2 * SEC).unwrap_err();
    assert!(e.contains("r2 vr0: the engine is in Some(Backup)"), "{e}");
}

#[test]
fn the_checker_catches_vips_held_by_a_backup_or_missing_on_a_master() {
    let scn = three();
    let mut pool = Pool::new();
    let mut w = settled(&scn, &mut pool);
    check::vips(1, 0, &w.nodes[1].view[0]).unwrap();
    w.nodes[1].view[0].vips = true;
    let e = check::vips(1, 0, &w.nodes[1].view[0]).unwrap_err();
    assert!(e.contains("holds its VIPs in Backup"), "{e}");
    w.nodes[0].view[0].vips = false;
    let e = check::vips(0, 0, &w.nodes[0].view[0]).unwrap_err();
    assert!(e.contains("MASTER without its VIPs"), "{e}");
    // The addresses themselves: the master holds both VIPs, a backup none.
    let vips = w.vips_of(0).to_vec();
    assert_eq!(vips.len(), 2);
    check::addresses(&w, 0, 0).unwrap();
    check::addresses(&w, 1, 0).unwrap();
    w.nodes[1].addresses.insert(vips[1]);
    let e = check::addresses(&w, 1, 0).unwrap_err();
    assert!(e.contains("Backup holds 10.1.7.2"), "{e}");
    w.nodes[0].addresses.remove(&vips[0]);
    let e = check::addresses(&w, 0, 0).unwrap_err();
    assert!(e.contains("Master lacks 10.1.7.1"), "{e}");
}

#[test]
fn the_checker_catches_a_master_that_is_not_the_highest() {
    let mut scn = three();
    let mut pool = Pool::new();
    {
        let mut w = settled(&scn, &mut pool);
        // The model says r1's tracker raised it above r0; the engine never
        // heard of it, so r0 is still master.
        w.nodes[1].view[0].priority = 250;
        let e = check::election(&w, 0).unwrap_err();
        assert!(
            e.contains("r1 (priority 250, preempt) is BACKUP under r0 (priority 200)"),
            "{e}"
        );
        // And no master at all.
        w.nodes[0].view[0].state = State::Backup;
        let e = check::election(&w, 0).unwrap_err();
        assert!(e.contains("no master"), "{e}");
    }
    // With nopreempt, the same is allowed (RFC 5798 §6.4.2).
    scn.vrs[0].members[1].preempt = false;
    let mut w = settled(&scn, &mut pool);
    w.nodes[1].view[0].priority = 250;
    check::election(&w, 0).unwrap();
}

#[test]
fn the_checker_catches_transitions_without_a_cause() {
    let scn = three();
    let mut pool = Pool::new();
    let w = settled(&scn, &mut pool);
    let backup = w.nodes[1].view[0];
    let armed = backup.armed.unwrap();
    assert!(
        matches!(
            armed.by,
            ArmedBy::Advert {
                from: 0,
                priority: 200
            }
        ),
        "{armed:?}"
    );
    let mdi = check::master_down(&scn.vrs[0], SEC, 150);
    let change = |at, router, from, to, cause| Change {
        at,
        router,
        vr: 0,
        from,
        to,
        cause,
    };
    let takeover = |at| change(at, 1, State::Backup, State::Master, Input::Timeout);
    // The timer runs out at the arming + Master_Down_Interval, not a
    // millisecond before or after.
    check::cause(&w, &takeover(armed.at + mdi), &backup).unwrap();
    for at in [armed.at + mdi - 1_000, armed.at + mdi + 1_000] {
        let e = check::cause(&w, &takeover(at), &backup).unwrap_err();
        assert!(e.contains("master-down timer"), "{e}");
    }
    // A master yields to a higher priority, or to an equal one from a
    // higher address — not to a lower one or a lower address.
    let master = w.nodes[0].view[0];
    let advert = |priority, last| Input::Advert {
        from: 1,
        vr: 0,
        priority,
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
    };
    let yields = |cause| change(w.now, 0, State::Master, State::Backup, cause);
    check::cause(&w, &yields(advert(201, 2)), &master).unwrap();
    check::cause(&w, &yields(advert(200, 2)), &master).unwrap();
    for cause in [advert(150, 2), advert(200, 0), advert(0, 2)] {
        let e = check::cause(&w, &yields(cause), &master).unwrap_err();
        assert!(
            e.contains("yielded to") || e.contains("without a cause"),
            "{e}"
        );
    }
    // Inputs that cause no such change.
    for (from, to, cause) in [
        (
            State::Backup,
            State::Master,
            Input::Priority {
                vr: 0,
                priority: 254,
            },
        ),
        (State::Backup, State::Master, Input::LinkUp),
        (State::Backup, State::Master, advert(250, 2)),
        (State::Master, State::Backup, Input::Timeout),
        (State::Initialize, State::Master, Input::Boot),
    ] {
        let view = if from == State::Master {
            master
        } else {
            backup
        };
        let router = if from == State::Master { 0 } else { 1 };
        let view = View {
            state: from,
            ..view
        };
        let e = check::cause(&w, &change(w.now, router, from, to, cause), &view).unwrap_err();
        assert!(e.contains("without a cause"), "{e}");
    }
}

#[test]
fn the_checker_catches_an_engine_configured_unlike_its_model() {
    // r2 is configured at 250 where the scenario says 100.
    let scn = three();
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.config_mut(2).vrrp.instances[0].priority = Some(250);
    let e = w.run().unwrap_err();
    assert!(e.contains("r2"), "{e}");
}

#[test]
fn the_settle_bound_is_tight() {
    // r0 (200) dies just after its advert reached r1 (100), as the network
    // turns stable: r1 takes over one Master_Down_Interval after that
    // advert, which is the bound less the latency. Until then there is no
    // master, so the invariant cannot be asked for any earlier.
    let scn = scenario(2, vec![vr(&[(0, 200), (1, 100)])]);
    let mut pool = Pool::new();
    let mut w = World::new(&scn, &mut pool, false);
    w.run_round(0).unwrap();
    let since = became_master(&w, 0);
    let heard = advert_times(since).find(|&t| t > w.now).unwrap() + LATENCY;
    w.begin_fault_phase();
    w.schedule_action(heard + 1, Action::Crash(0));
    w.run_until(heard + 2).unwrap();
    let stable = w.end_fault_phase();
    let bound = stable + w.settle(0);
    let takeover = heard + check::master_down(&scn.vrs[0], SEC, 100);
    assert_eq!(bound - takeover, LATENCY + 2);
    w.run_until(takeover).unwrap();
    let e = check::election(&w, 0).unwrap_err();
    assert!(e.contains("no master"), "{e}");
    w.run_until(takeover + 1).unwrap();
    assert_eq!(master_of(&w, 0), 1);
}
