//! What a simulated run is made of: routers, virtual routers and their
//! members, and rounds of a fault phase followed by a stable phase. A
//! [`Scenario`] is plain data: [`generate`] draws one from a seed, the named
//! tests write theirs by hand.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::rng::Rng;

/// Microseconds of virtual time.
pub type Us = i64;

/// One simulated router (one picket process on one segment, `eth0`).
#[derive(Clone, Debug)]
pub struct RouterSpec {
    /// Primary IPv4 address of eth0 (source of IPv4 adverts).
    pub addr4: Ipv4Addr,
    /// Link-local IPv6 address of eth0 (source of IPv6 multicast adverts).
    pub ll6: Ipv6Addr,
    /// Global IPv6 address (source of IPv6 unicast adverts: `unicast_src_ip`).
    pub g6: Ipv6Addr,
}

/// Address family of a virtual router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fam {
    /// IPv4 VIPs.
    V4,
    /// IPv6 VIPs (always VRRPv3).
    V6,
}

/// One virtual router: a VRID of one family on the segment.
#[derive(Clone, Debug)]
pub struct VrSpec {
    /// `virtual_router_id`.
    pub vrid: u8,
    /// Family of its VIPs and adverts.
    pub fam: Fam,
    /// 2 or 3.
    pub version: u8,
    /// The members' shortest `advert_int`, centiseconds (v2: whole seconds,
    /// the same for every member).
    pub interval_cs: u16,
    /// `down_timer_adverts`.
    pub down_adverts: u8,
    /// `unicast_peer` lists every other member (else multicast).
    pub unicast: bool,
    /// VIPs of the instance (each member configures the same list).
    pub vips: u8,
    /// Who runs an instance of it.
    pub members: Vec<MemberSpec>,
}

/// One router's instance of a virtual router.
#[derive(Clone, Copy, Debug)]
pub struct MemberSpec {
    /// Index in [`Scenario::routers`].
    pub router: usize,
    /// Configured priority; 255 is the address owner (`state MASTER`).
    pub priority: u8,
    /// `nopreempt` when false.
    pub preempt: bool,
    /// `preempt_delay`, µs (0: none).
    pub preempt_delay: Us,
    /// `advert_int`, centiseconds. VRRPv3 members may differ: a backup
    /// learns the master's (RFC 5798 §6.4.2, Master_Adver_Interval).
    pub interval_cs: u16,
    /// keepalived `lower_prio_no_advert`: as master, no extra advert on
    /// hearing a lower priority.
    pub lower_prio_no_advert: bool,
    /// keepalived `higher_prio_send_advert`: as master, one last advert
    /// before yielding to a higher priority.
    pub higher_prio_send_advert: bool,
}

impl MemberSpec {
    /// Its Advertisement_Interval, µs.
    pub fn interval_us(&self) -> Us {
        Us::from(self.interval_cs) * 10_000
    }
}

/// What the network does to adverts during a fault phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetFault {
    /// Each copy of an advert is lost with this probability (‰).
    pub loss: u32,
    /// Each delivered copy is delivered twice with this probability (‰).
    pub dup: u32,
    /// Extra delay, uniform in `0..=jitter` µs on top of the stable
    /// latency: adverts overtake each other when it exceeds their spacing.
    pub jitter: Us,
}

/// An input of a fault phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start picket on a router that does not run (fresh process: the
    /// configuration loaded, every instance started).
    Boot(usize),
    /// Stop picket (SIGTERM): masters send priority 0 and drop the VIPs.
    Stop(usize),
    /// The router dies (power cut): nothing is sent, its addresses vanish.
    Crash(usize),
    /// eth0 goes down: the instances go to FAULT (the instance interface is
    /// tracked), nothing is sent or received.
    LinkDown(usize),
    /// eth0 comes back up.
    LinkUp(usize),
    /// A tracker moves a router's effective priority in one virtual router.
    Priority {
        /// The router.
        router: usize,
        /// Index in [`Scenario::vrs`].
        vr: usize,
        /// The new effective priority (the engine clamps to 1..=254).
        priority: u8,
    },
    /// The segment splits: routers hear only those with the same number.
    Partition(Vec<u8>),
    /// The segment is whole again.
    Heal,
    /// The network's behaviour from now on.
    Net(NetFault),
}

/// A fault phase (with its inputs) followed by a stable phase in which the
/// election invariant is checked.
#[derive(Clone, Debug)]
pub struct Round {
    /// Length of the fault phase, µs.
    pub fault_len: Us,
    /// The inputs, at offsets from the start of the round (sorted).
    pub events: Vec<(Us, Action)>,
    /// How long the invariant is checked once it must hold, µs.
    pub check_len: Us,
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it came from (0 for hand-written ones).
    pub seed: u64,
    /// The routers.
    pub routers: Vec<RouterSpec>,
    /// The virtual routers.
    pub vrs: Vec<VrSpec>,
    /// One-way latency of the segment, µs.
    pub latency: Us,
    /// Jitter of the stable segment (uniform `0..=jitter` µs on top).
    pub stable_jitter: Us,
    /// Multicast adverts come back to their sender (`IP_MULTICAST_LOOP`).
    pub loopback: bool,
    /// How late a router's loop may wake for a deadline during fault
    /// phases (a busy CPU), µs.
    pub timer_late: Us,
    /// How late it may wake otherwise (timerfd slack), µs.
    pub timer_slack: Us,
    /// The rounds, in order; round 0 usually boots the routers.
    pub rounds: Vec<Round>,
}

impl VrSpec {
    /// The longest Advertisement_Interval of its members, µs.
    pub fn max_interval_us(&self) -> Us {
        self.members
            .iter()
            .map(MemberSpec::interval_us)
            .max()
            .unwrap_or(1_000_000)
    }

    /// The shortest, µs.
    pub fn min_interval_us(&self) -> Us {
        Us::from(self.interval_cs) * 10_000
    }

    /// The member entry of `router`, if it is one.
    pub fn member(&self, router: usize) -> Option<&MemberSpec> {
        self.members.iter().find(|m| m.router == router)
    }
}

impl Scenario {
    /// The longest advert interval of any virtual router, µs.
    pub fn max_interval(&self) -> Us {
        self.vrs
            .iter()
            .map(VrSpec::max_interval_us)
            .max()
            .unwrap_or(1_000_000)
    }

    /// The shortest one, µs.
    pub fn min_interval(&self) -> Us {
        self.vrs
            .iter()
            .map(VrSpec::min_interval_us)
            .min()
            .unwrap_or(1_000_000)
    }

    /// A one-line summary for the trace.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} routers, latency {} us + jitter {} us, timers late by up to {} us ({} us when stable){}",
            self.routers.len(),
            self.latency,
            self.stable_jitter,
            self.timer_late,
            self.timer_slack,
            if self.loopback { ", loopback" } else { "" }
        );
        for (r, spec) in self.routers.iter().enumerate() {
            s.push_str(&format!(
                "\n  r{r}: {} {} {}",
                spec.addr4, spec.ll6, spec.g6
            ));
        }
        for (v, vr) in self.vrs.iter().enumerate() {
            s.push_str(&format!(
                "\n  vr{v}: VRID {} {:?} v{} every {} cs, down after {} adverts, {}, {} VIPs:",
                vr.vrid,
                vr.fam,
                vr.version,
                vr.interval_cs,
                vr.down_adverts,
                if vr.unicast { "unicast" } else { "multicast" },
                vr.vips
            ));
            for m in &vr.members {
                s.push_str(&format!(
                    " r{}@{}{}{}{}{}",
                    m.router,
                    m.priority,
                    if m.interval_cs != vr.interval_cs {
                        format!(" every {} cs", m.interval_cs)
                    } else {
                        String::new()
                    },
                    if m.preempt { "" } else { " nopreempt" },
                    if m.preempt_delay > 0 {
                        format!(" preempt_delay {} us", m.preempt_delay)
                    } else {
                        String::new()
                    },
                    match (m.lower_prio_no_advert, m.higher_prio_send_advert) {
                        (false, false) => "",
                        (true, false) => " lower_prio_no_advert",
                        (false, true) => " higher_prio_send_advert",
                        (true, true) => " lower_prio_no_advert higher_prio_send_advert",
                    }
                ));
            }
        }
        s
    }
}

/// Draws the scenario of `seed`.
///
/// 2–5 routers with distinct, randomly ordered IPv4, link-local and global
/// addresses; 1–3 virtual routers, each IPv4 (v2 or v3) or IPv6 (v3),
/// multicast or unicast, with members among the routers (a router may be
/// in several), priorities from a small set often enough that ties are
/// common, sometimes a 255 owner, `nopreempt`, `preempt_delay`,
/// `down_timer_adverts` 2–4, keepalived's `lower_prio_no_advert` and
/// `higher_prio_send_advert`, and v3 members with intervals of their own.
/// Intervals are "fast" (v3, 5–24 cs) or "slow" (v2 1 s, v3 50–200 cs),
/// within a factor 4 of each other. The segment's latency (0–2 ms), jitter,
/// multicast loopback, and how late loop turns wake for timers. Then 1–3
/// rounds: a fault phase of 2–8 longest intervals with loss, duplication,
/// reordering, partitions, busy loops and membership changes (boot, stop,
/// crash, link down/up, priority changes), then a stable phase.
pub fn generate(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed);
    let n = rng.range(2, 5) as usize;
    let routers = addresses(&mut rng, n);
    // The shortest v3 interval; the others are at most twice it, so that
    // no virtual router sends many more adverts than another.
    let base = if rng.chance(400) {
        rng.range(5, 12) as u16
    } else {
        rng.range(50, 100) as u16
    };
    let nvr = rng.range(1, 3) as usize;
    let mut vrs: Vec<VrSpec> = Vec::new();
    for _ in 0..nvr {
        vrs.push(virtual_router(&mut rng, n, base, &vrs));
    }
    let mut s = Scenario {
        seed,
        routers,
        vrs,
        latency: rng.range(0, 2_000),
        stable_jitter: rng.pick(&[0, 0, 100, 1_000]),
        loopback: rng.chance(300),
        timer_late: rng.pick(&[0, 50, 2_000, 20_000]),
        timer_slack: rng.pick(&[0, 50]),
        rounds: Vec::new(),
    };
    let rounds = rng.range(1, 3) as usize;
    let mut plan = Plan::new(n);
    for k in 0..rounds {
        let round = round(&mut rng, &s, &mut plan, k == 0);
        s.rounds.push(round);
    }
    s
}

/// Distinct addresses for `n` routers, in unrelated orders per family so
/// that the address tie-break does not follow the router number.
fn addresses(rng: &mut Rng, n: usize) -> Vec<RouterSpec> {
    let mut used = [false; 256];
    let mut distinct = |rng: &mut Rng| loop {
        let x = rng.range(1, 254) as u8;
        if !used[usize::from(x)] {
            used[usize::from(x)] = true;
            return x;
        }
    };
    let mut out = Vec::new();
    let mut lows = Vec::new();
    for _ in 0..n {
        lows.push((
            distinct(rng),
            rng.range(1, 0xfffe) as u16,
            rng.range(1, 0xfffe) as u16,
        ));
    }
    for (i, &(a, b, c)) in lows.iter().enumerate() {
        out.push(RouterSpec {
            addr4: Ipv4Addr::new(10, 0, 0, a),
            ll6: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, b, i as u16 + 1),
            g6: Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, c, i as u16 + 1),
        });
    }
    out
}

fn virtual_router(rng: &mut Rng, n: usize, base: u16, earlier: &[VrSpec]) -> VrSpec {
    let fam = if rng.chance(330) { Fam::V6 } else { Fam::V4 };
    // VRRPv2 counts whole seconds: only beside slow v3 intervals.
    let version = if fam == Fam::V6 || base < 50 || rng.chance(500) {
        3
    } else {
        2
    };
    let interval_cs = match version {
        2 => 100,
        _ => rng.range(i64::from(base), 2 * i64::from(base)) as u16,
    };
    // VRRPv3 members with intervals of their own (not with
    // preempt_delay: keepalived's hold makes what a backup learnt depend on
    // the hold, which the simulator does not model).
    let own_intervals = version == 3 && rng.chance(300);
    // Distinct VRIDs per family; the same number in the other family is
    // allowed (and happens): the engine keeps them apart.
    let vrid = loop {
        let v = rng.range(1, 12) as u8;
        if !earlier.iter().any(|e| e.vrid == v && e.fam == fam) {
            break v;
        }
    };
    let mut members = Vec::new();
    for r in 0..n {
        if rng.chance(750) {
            members.push(r);
        }
    }
    while members.len() < 2 && n >= 2 && !rng.chance(50) {
        let r = rng.below(n as u64) as usize;
        if !members.contains(&r) {
            members.push(r);
            members.sort_unstable();
        }
    }
    if members.is_empty() {
        members.push(rng.below(n as u64) as usize);
    }
    let interval_us = Us::from(interval_cs) * 10_000;
    let owner = rng.chance(150).then(|| rng.pick(&members));
    let tie_set = [rng.range(1, 254) as u8, rng.range(1, 254) as u8];
    let members = members
        .into_iter()
        .map(|router| {
            let priority = if owner == Some(router) {
                255
            } else if rng.chance(400) {
                rng.pick(&tie_set)
            } else if rng.chance(300) {
                rng.pick(&[1, 100, 254])
            } else {
                rng.range(1, 254) as u8
            };
            let preempt = priority == 255 || !rng.chance(200);
            let preempt_delay = if preempt && priority != 255 && !own_intervals && rng.chance(150) {
                rng.range(1, 6) * interval_us / 2
            } else {
                0
            };
            MemberSpec {
                router,
                priority,
                preempt,
                preempt_delay,
                interval_cs: if own_intervals {
                    rng.range(i64::from(base), 2 * i64::from(base)) as u16
                } else {
                    interval_cs
                },
                lower_prio_no_advert: rng.chance(100),
                higher_prio_send_advert: rng.chance(100),
            }
        })
        .collect::<Vec<_>>();
    let interval_cs = members
        .iter()
        .map(|m| m.interval_cs)
        .min()
        .unwrap_or(interval_cs);
    VrSpec {
        vrid,
        fam,
        version,
        interval_cs,
        down_adverts: rng.pick(&[3, 3, 3, 2, 4]),
        unicast: rng.chance(250),
        vips: rng.range(1, 3) as u8,
        members,
    }
}

/// What the generator knows of each router while it writes events, so that
/// they make sense (no boot of a running router, no link up of an up link).
struct Plan {
    running: Vec<bool>,
    link: Vec<bool>,
}

impl Plan {
    fn new(n: usize) -> Self {
        Plan {
            running: vec![false; n],
            link: vec![true; n],
        }
    }
}

fn round(rng: &mut Rng, s: &Scenario, plan: &mut Plan, first: bool) -> Round {
    let imax = s.max_interval();
    let imin = s.min_interval();
    let fault_len = rng.range(2, 8) * imax;
    let mut events: Vec<(Us, Action)> = Vec::new();
    let n = s.routers.len();
    // When each router may see a membership change: after its boot.
    let mut from = vec![0; n];
    if first {
        // Staggered boots (some routers stay down until a later round).
        for (r, from) in from.iter_mut().enumerate() {
            if rng.chance(900) {
                let at = rng.range(0, 2 * imax).min(fault_len - 2);
                events.push((at, Action::Boot(r)));
                plan.running[r] = true;
                *from = at + 1;
            }
        }
    }
    // The network: a few changes of behaviour during the phase.
    for _ in 0..rng.range(0, 3) {
        let fault = NetFault {
            loss: rng.pick(&[0, 0, 50, 200, 500, 1000]),
            dup: rng.pick(&[0, 0, 100, 300]),
            jitter: rng.pick(&[0, 0, imin / 4, imin, 3 * imin]),
        };
        events.push((rng.range(0, fault_len - 1), Action::Net(fault)));
    }
    if n >= 2 && rng.chance(400) {
        let groups: Vec<u8> = (0..n).map(|_| rng.below(2) as u8).collect();
        let at = rng.range(0, fault_len - 1);
        events.push((at, Action::Partition(groups)));
        if rng.chance(500) {
            events.push((rng.range(at, fault_len - 1), Action::Heal));
        }
    }
    // Membership: each router may see one or two changes.
    let mut membership: Vec<(Us, usize)> = Vec::new();
    for (r, &from) in from.iter().enumerate() {
        for _ in 0..rng.range(0, 2) {
            if rng.chance(450) {
                membership.push((rng.range(from, fault_len - 1), r));
            }
        }
    }
    membership.sort_unstable();
    for (at, r) in membership {
        let action = if !plan.running[r] {
            plan.running[r] = true;
            plan.link[r] = true;
            Action::Boot(r)
        } else if !plan.link[r] {
            if rng.chance(800) {
                plan.link[r] = true;
                Action::LinkUp(r)
            } else {
                plan.running[r] = false;
                Action::Stop(r)
            }
        } else {
            match rng.below(5) {
                0 => {
                    plan.running[r] = false;
                    Action::Stop(r)
                }
                1 => {
                    plan.running[r] = false;
                    Action::Crash(r)
                }
                2 => {
                    plan.link[r] = false;
                    Action::LinkDown(r)
                }
                _ => {
                    let mine: Vec<usize> = (0..s.vrs.len())
                        .filter(|&v| s.vrs[v].member(r).is_some_and(|m| m.priority != 255))
                        .collect();
                    if mine.is_empty() {
                        plan.running[r] = false;
                        Action::Stop(r)
                    } else {
                        let vr = rng.pick(&mine);
                        let base = s.vrs[vr].member(r).map_or(100, |m| m.priority);
                        let priority = if rng.chance(300) {
                            base
                        } else {
                            rng.pick(&[1, 254, base.saturating_add(50), base.saturating_sub(50)])
                        };
                        Action::Priority {
                            router: r,
                            vr,
                            priority,
                        }
                    }
                }
            }
        };
        events.push((at, action));
    }
    events.sort_by_key(|(at, _)| *at);
    Round {
        fault_len,
        events,
        check_len: rng.range(2, 4) * imax,
    }
}
