//! The simulated world: one picket [`Engine`] per router on a shared
//! segment, a virtual clock that jumps to the next event, and a seeded
//! network between them.
//!
//! Time is virtual (µs, `i64`): the loop takes the earliest of the routers'
//! wake-ups and the queued events (deliveries, scenario inputs, check
//! points), advances the clock there and hands the input to the engine
//! concerned. A router wakes for its engine's deadline
//! ([`Engine::poll_at`]) a little late, as picket's loop does (timerfd
//! slack; a busy CPU during fault phases: [`Scenario::timer_late`]) — or
//! earlier, with an input: like picket's loop turn, every input is followed
//! by the timeouts due by then, at the same `now`. Ties: queued events
//! first, in the order they were queued, then wake-ups in router order.
//! Nothing reads
//! a real clock, sleeps or opens a socket, and every random choice comes
//! from one [`Rng`] seeded by the scenario: the same seed gives the same
//! trace.
//!
//! After every input the engine's actions are drained and checked
//! ([`World::input`]): adverts are built with the engine's own
//! `build_advert`/`build_advert6` and put on the segment, state changes are
//! matched to the input that caused them, VIP additions and removals are
//! followed. The simulator keeps its own view of every instance (state,
//! VIPs, effective priority, when and why its master-down timer was last
//! armed) from the actions, and compares it with [`Engine::state`].

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use picket::config::memfs::MemFs;
use picket::config::vrrp::{State as CfgState, VrrpInstance};
use picket::config::{Config, Diagnostics, LoadOptions, LoadScratch, load};
use picket::time::{Duration, Instant};
use picket::vrrp::State;
use picket::vrrp::engine::{Engine, EngineAction, IfFacts, Ipv6Meta};
use picket::wire::link::LinkEvent;
use picket::wire::netlink;
use picket::wire::rtnetlink::{AddressRepr, Operation};

use super::check;
use super::rng::Rng;
use super::scenario::{Action, Fam, MemberSpec, NetFault, Scenario, Us};

/// Most routers a scenario has.
pub const MAX_ROUTERS: usize = 5;

/// The IPv4 and IPv6 VRRP multicast groups.
const GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The hop limit a kernel puts on IPv6 unicast adverts without
/// `unicast_ttl` (its default).
const DEFAULT_HOP_LIMIT: u8 = 64;
/// eth0's kernel index on every router.
const IFINDEX: u32 = 2;

/// Instances parsed once from configuration text, one per kind the
/// scenarios use; a router's configuration is made of copies of them with
/// the scenario's values (parsing every router's text costs more than the
/// rest of a scenario in a debug build).
struct Templates {
    /// By (family, version, unicast): IPv4 v2, IPv4 v3, IPv6, then the
    /// same three with `unicast_peer`.
    kinds: Vec<VrrpInstance>,
}

/// The template instances, in the order of [`Templates::kinds`]: name,
/// version line, unicast lines, VIPs (the values are replaced).
const TEMPLATES: [(&str, &str, &str, &str); 6] = [
    ("M4V2", " version 2\n", "", "10.1.0"),
    ("M4V3", " version 3\n", "", "10.1.0"),
    ("M6", "", "", "fd00:1:"),
    (
        "U4V2",
        " version 2\n",
        " unicast_peer {\n  10.0.0.250\n }\n",
        "10.1.0",
    ),
    (
        "U4V3",
        " version 3\n",
        " unicast_peer {\n  10.0.0.250\n }\n",
        "10.1.0",
    ),
    (
        "U6",
        "",
        " unicast_src_ip fd00:99::fe\n unicast_peer {\n  fd00:99::fd\n }\n",
        "fd00:1:",
    ),
];

/// The configuration text of [`TEMPLATES`].
fn template_text() -> String {
    let mut text = String::new();
    for (vrid, (name, version, unicast, net)) in TEMPLATES.iter().enumerate() {
        let prefix = if net.contains(':') { 64 } else { 24 };
        let vips: String = (1..=3).map(|k| format!("  {net}.{k}/{prefix}\n")).collect();
        let vips = vips.replace(":.", "::");
        text.push_str(&format!(
            "vrrp_instance {name} {{\n interface eth0\n virtual_router_id {}\n{version} priority 100\n advert_int 1\n{unicast} virtual_ipaddress {{\n{vips} }}\n}}\n",
            vrid + 1
        ));
    }
    text
}

/// Configurations and engines, allocated once and reused by every
/// scenario a test runs (each is large: heapless tables).
pub struct Pool {
    templates: Templates,
    cfgs: Vec<Box<Config>>,
    engines: Vec<Box<Engine>>,
}

impl Pool {
    /// Parses the templates and allocates room for [`MAX_ROUTERS`].
    pub fn new() -> Self {
        let mut scratch = Box::new(LoadScratch::new());
        let mut diags = Box::new(Diagnostics::new());
        let mut cfgs = Vec::new();
        let text = template_text();
        for _ in 0..MAX_ROUTERS {
            let mut cfg = Box::new(Config::new());
            let files = [("/etc/keepalived/keepalived.conf", text.as_str())];
            let mut fs = MemFs::new(&files);
            let opts = LoadOptions {
                config_id: "sim",
                all_config: false,
            };
            load(
                &mut fs,
                "/etc/keepalived/keepalived.conf",
                &opts,
                &mut scratch,
                &mut cfg,
                &mut diags,
            );
            let mut out = String::new();
            diags.render(&mut out).unwrap();
            assert!(diags.is_ok(), "template configuration: {out}");
            cfgs.push(cfg);
        }
        let kinds = cfgs[0].vrrp.instances.iter().cloned().collect();
        Pool {
            templates: Templates { kinds },
            cfgs,
            engines: (0..MAX_ROUTERS)
                .map(|_| Box::new(Engine::empty()))
                .collect(),
        }
    }
}

/// Why the simulator last saw an instance's master-down timer armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArmedBy {
    /// Started as BACKUP (RFC 5798 §6.4.1).
    Start,
    /// Left FAULT (keepalived: as at start).
    FaultCleared,
    /// Yielded as MASTER to a better advert (RFC 5798 §6.4.3).
    Yielded,
    /// An advert that resets the timer whatever else holds (priority at
    /// least its own, or `nopreempt`: RFC 5798 §6.4.2).
    Advert {
        /// The sender.
        from: usize,
        /// Its priority.
        priority: u8,
    },
    /// A priority-0 advert: Skew_Time (RFC 5798 §6.4.2).
    PriorityZero {
        /// The sender.
        from: usize,
    },
}

/// The master-down timer as the simulator last saw it armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// When.
    pub at: Us,
    /// Why.
    pub by: ArmedBy,
    /// The instance's effective priority then (its Skew_Time).
    pub priority: u8,
    /// Master_Adver_Interval then, µs (v3: learnt from the master).
    pub interval: Us,
}

/// The simulator's view of one instance, kept from the engine's actions.
#[derive(Clone, Copy, Debug)]
pub struct View {
    /// From the last `Transition`.
    pub state: State,
    /// `AddVips` seen and no `RemoveVips` since.
    pub vips: bool,
    /// Effective priority (the configured one, or what the tracker set,
    /// clamped as the engine does).
    pub priority: u8,
    /// Master_Adver_Interval, µs: its own Advertisement_Interval, or (v3,
    /// BACKUP) the interval of the last advert it followed.
    pub learned: Us,
    /// The last definite arming of the master-down timer (BACKUP only).
    pub armed: Option<Armed>,
    /// With `preempt_delay`, a lower-priority advert re-arms the timer
    /// while the hold runs (keepalived): the earliest such an arming since
    /// `armed` could make it run out, µs.
    pub maybe_due: Option<Us>,
}

/// One router.
pub struct Node {
    /// picket runs.
    pub running: bool,
    /// eth0 is up.
    pub link: bool,
    /// Engine slot of each virtual router it is a member of.
    pub slot: Vec<Option<u16>>,
    /// Its view of each virtual router (meaningful for members).
    pub view: Vec<View>,
    /// Its engine's [`Engine::poll_at`], µs, as of its last input (only an
    /// input moves it).
    deadline: Option<Us>,
    /// When its loop wakes for `deadline`: a little later.
    wake: Option<Us>,
    /// The VIPs on its eth0, as the address requests its engine asked for
    /// left them (what the kernel would hold).
    pub addresses: BTreeSet<IpAddr>,
}

/// An input handed to one engine: what a state change may be traced to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// picket started (`Engine::start`).
    Boot,
    /// picket stopped (`Engine::shutdown`).
    Stop,
    /// A deadline ran out (`Engine::handle_timeout`).
    Timeout,
    /// A datagram arrived (`handle_datagram`/`handle_datagram6`).
    Advert {
        /// The sender.
        from: usize,
        /// Its virtual router.
        vr: usize,
        /// Its priority field.
        priority: u8,
        /// Its source address.
        src: IpAddr,
    },
    /// eth0 went down (`handle_link`, `set_fault(true)`).
    LinkDown,
    /// eth0 came up (`handle_link`, `set_fault(false)`).
    LinkUp,
    /// A tracker changed the priority (`set_priority`).
    Priority {
        /// Its virtual router.
        vr: usize,
        /// The value set.
        priority: u8,
    },
}

/// A state change, with what caused it.
#[derive(Clone, Copy, Debug)]
pub struct Change {
    /// When.
    pub at: Us,
    /// Which router.
    pub router: usize,
    /// Which virtual router.
    pub vr: usize,
    /// From.
    pub from: State,
    /// To.
    pub to: State,
    /// The input it came with.
    pub cause: Input,
}

/// One advert on the wire.
struct Datagram {
    from: usize,
    vr: usize,
    priority: u8,
    src: IpAddr,
    bytes: Vec<u8>,
    /// IPv6: what the receiving kernel reports (raw IPv6 sockets hand over
    /// the VRRP message alone).
    meta6: Option<Ipv6Meta>,
}

enum Ev {
    Deliver {
        to: usize,
        d: Rc<Datagram>,
    },
    Act(Action),
    /// The election invariant of virtual router `v` must hold from now.
    Check(usize),
}

struct Scheduled {
    at: Us,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// The segment's behaviour now.
struct Net {
    /// Fault phase (loss, duplicates, extra delay); `None` when stable.
    fault: Option<NetFault>,
    /// Partition: group of each router; `None` when whole.
    groups: Option<Vec<u8>>,
    /// The last arrival of any copy sent during a fault phase.
    last_fault_arrival: Us,
}

/// Counters of a run, for the summary line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Inputs handed to engines.
    pub inputs: u64,
    /// Advert copies put on the wire.
    pub sent: u64,
    /// Copies lost to the network (loss, partition, a receiver down).
    pub lost: u64,
    /// State changes.
    pub changes: u64,
    /// Election checks that passed.
    pub checks: u64,
    /// Masters that yielded to an equal priority from a higher address.
    pub ties: u64,
    /// Backups that took over Skew_Time after a priority-0 advert.
    pub zero_takeovers: u64,
    /// Backups that became MASTER while another member was MASTER (split
    /// brain: a partition, or adverts lost).
    pub split_brains: u64,
}

impl Counters {
    /// Adds `other` to these.
    pub fn add(&mut self, other: &Counters) {
        self.inputs += other.inputs;
        self.sent += other.sent;
        self.lost += other.lost;
        self.changes += other.changes;
        self.checks += other.checks;
        self.ties += other.ties;
        self.zero_takeovers += other.zero_takeovers;
        self.split_brains += other.split_brains;
    }
}

/// A step-by-step record, kept when asked for.
pub struct Trace {
    /// Whether lines are kept.
    pub on: bool,
    /// The lines.
    pub lines: Vec<String>,
}

impl Trace {
    fn line(&mut self, now: Us, f: impl FnOnce() -> String) {
        if self.on {
            self.lines.push(format!(
                "{:>4}.{:06} {}",
                now / 1_000_000,
                now % 1_000_000,
                f()
            ));
        }
    }
}

/// The world of one scenario.
pub struct World<'a> {
    /// The scenario.
    pub scn: &'a Scenario,
    pool: &'a mut Pool,
    /// Virtual time, µs.
    pub now: Us,
    /// The routers.
    pub nodes: Vec<Node>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    net: Net,
    rng: Rng,
    /// The trace.
    pub trace: Trace,
    /// Every state change, in order.
    pub changes: Vec<Change>,
    /// Counters.
    pub counters: Counters,
    /// Per virtual router: the election invariant is checked after every step.
    pub checking: Vec<bool>,
    /// Per virtual router: from when backups must follow the master (see
    /// [`check::election`]).
    pub follow_from: Vec<Us>,
    /// Per virtual router: the lowest effective priority any member had
    /// (the longest Skew_Time a timer may have been armed with).
    pub lowest_priority: Vec<u8>,
    /// Per virtual router: its VIPs.
    vips: Vec<Vec<IpAddr>>,
    /// Per round run so far: when its fault phase began, when the network
    /// became stable, and when its last fault-phase advert arrived.
    pub rounds: Vec<(Us, Us, Us)>,
}

/// The VIPs of virtual router `v` of `scn`, as every member configures them.
fn vips_of(scn: &Scenario, v: usize) -> Vec<IpAddr> {
    let vr = &scn.vrs[v];
    (0..vr.vips)
        .map(|k| match vr.fam {
            Fam::V4 => IpAddr::V4(Ipv4Addr::new(10, 1 + v as u8, vr.vrid, k + 1)),
            Fam::V6 => IpAddr::V6(Ipv6Addr::new(
                0xfd00,
                1 + v as u16,
                0,
                0,
                0,
                0,
                u16::from(vr.vrid),
                u16::from(k) + 1,
            )),
        })
        .collect()
}

/// `t` as picket's [`Instant`].
fn instant(t: Us) -> Instant {
    Instant::from_micros(t)
}

/// Formats a state change for the trace.
fn state_word(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

impl<'a> World<'a> {
    /// The world of `scn` with every router powered off; `trace` keeps the
    /// step-by-step record.
    pub fn new(scn: &'a Scenario, pool: &'a mut Pool, trace: bool) -> Self {
        assert!(scn.routers.len() <= MAX_ROUTERS);
        let nvr = scn.vrs.len();
        let mut nodes = Vec::new();
        for r in 0..scn.routers.len() {
            let mut slot = vec![None; nvr];
            let mut view = Vec::new();
            let mut next = 0u16;
            for (v, vr) in scn.vrs.iter().enumerate() {
                let priority = vr.member(r).map_or(0, |m| m.priority);
                if vr.member(r).is_some() {
                    slot[v] = Some(next);
                    next += 1;
                }
                view.push(View {
                    state: State::Initialize,
                    vips: false,
                    priority,
                    learned: vr.member(r).map_or(0, MemberSpec::interval_us),
                    armed: None,
                    maybe_due: None,
                });
            }
            nodes.push(Node {
                running: false,
                link: true,
                slot,
                view,
                deadline: None,
                wake: None,
                addresses: BTreeSet::new(),
            });
        }
        let lowest_priority = scn
            .vrs
            .iter()
            .map(|vr| vr.members.iter().map(|m| m.priority).min().unwrap_or(255))
            .collect();
        let mut w = World {
            scn,
            pool,
            now: 0,
            nodes,
            queue: BinaryHeap::new(),
            seq: 0,
            net: Net {
                fault: Some(NetFault::default()),
                groups: None,
                last_fault_arrival: 0,
            },
            rng: Rng::new(scn.seed ^ 0x005E_ED0F_7E57_0001),
            trace: Trace {
                on: trace,
                lines: Vec::new(),
            },
            changes: Vec::new(),
            counters: Counters::default(),
            checking: vec![false; nvr],
            follow_from: vec![0; nvr],
            vips: (0..nvr).map(|v| vips_of(scn, v)).collect(),
            lowest_priority,
            rounds: Vec::new(),
        };
        for r in 0..scn.routers.len() {
            w.configure(r);
        }
        w.trace
            .line(0, || format!("scenario {}: {}", scn.seed, scn.describe()));
        w
    }

    /// Writes router `r`'s configuration: one instance per virtual router
    /// it is a member of, in the order of the virtual routers (so slot `k`
    /// is its `k`-th membership).
    fn configure(&mut self, r: usize) {
        let scn = self.scn;
        let me = &scn.routers[r];
        let cfg = &mut self.pool.cfgs[r];
        cfg.vrrp.instances.clear();
        for (v, vr) in scn.vrs.iter().enumerate() {
            let Some(m) = vr.member(r) else { continue };
            let kind = match (vr.fam, vr.version) {
                (Fam::V4, 2) => 0,
                (Fam::V4, _) => 1,
                (Fam::V6, _) => 2,
            } + if vr.unicast { 3 } else { 0 };
            let mut inst = self.pool.templates.kinds[kind].clone();
            inst.name.clear();
            inst.name.push_str(&format!("VR{v}")).unwrap();
            inst.vrid = vr.vrid;
            inst.priority = Some(m.priority);
            inst.state = Some(if m.priority == 255 {
                CfgState::Master
            } else {
                CfgState::Backup
            });
            inst.advert_int = Duration::from_millis(u64::from(m.interval_cs) * 10);
            inst.down_timer_adverts = Some(vr.down_adverts);
            inst.nopreempt = !m.preempt;
            inst.lower_prio_no_advert = Some(m.lower_prio_no_advert);
            inst.higher_prio_send_advert = Some(m.higher_prio_send_advert);
            inst.preempt_delay = Duration::from_micros(m.preempt_delay as u64);
            inst.vips.truncate(usize::from(vr.vips));
            for (vip, addr) in inst.vips.iter_mut().zip(vips_of(scn, v)) {
                vip.addr = addr;
            }
            if vr.unicast {
                let template = inst.unicast_peers[0];
                inst.unicast_peers.clear();
                for other in vr.members.iter().filter(|o| o.router != r) {
                    let mut p = template;
                    let spec = &scn.routers[other.router];
                    p.addr = match vr.fam {
                        Fam::V4 => IpAddr::V4(spec.addr4),
                        Fam::V6 => IpAddr::V6(spec.g6),
                    };
                    inst.unicast_peers.push(p).unwrap();
                }
                if vr.fam == Fam::V6 {
                    inst.src_ip = Some(IpAddr::V6(me.g6));
                }
            }
            cfg.vrrp.instances.push(inst).unwrap();
        }
    }

    /// Router `r`'s engine (as last booted).
    pub fn engine(&self, r: usize) -> &Engine {
        &self.pool.engines[r]
    }

    /// The address router `r` sends virtual router `v`'s adverts from (and
    /// compares in the equal-priority tie-break).
    pub fn source(&self, r: usize, v: usize) -> IpAddr {
        let spec = &self.scn.routers[r];
        match (self.scn.vrs[v].fam, self.scn.vrs[v].unicast) {
            (Fam::V4, _) => IpAddr::V4(spec.addr4),
            (Fam::V6, false) => IpAddr::V6(spec.ll6),
            (Fam::V6, true) => IpAddr::V6(spec.g6),
        }
    }

    fn schedule(&mut self, at: Us, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            ev,
        }));
    }

    /// Queues `action` at `at` (µs), for hand-written tests.
    pub fn schedule_action(&mut self, at: Us, action: Action) {
        self.schedule(at, Ev::Act(action));
    }

    /// The network takes [`Action::Net`] and [`Action::Partition`] from now
    /// (a fault phase outside the scenario's rounds, for hand-written
    /// tests); [`World::end_fault_phase`] ends it.
    pub fn begin_fault_phase(&mut self) {
        self.net.fault = Some(NetFault::default());
    }

    /// The network is stable again: returns when the last advert of the
    /// fault phase arrives.
    pub fn end_fault_phase(&mut self) -> Us {
        self.net.fault = None;
        self.net.groups = None;
        // The loops are no longer busy: wake-ups still pending come within
        // the timer slack of their deadline (or of now, if it has passed).
        for r in 0..self.nodes.len() {
            let late = self.timer_late();
            let late = if late > 0 { self.rng.range(0, late) } else { 0 };
            let now = self.now;
            let node = &mut self.nodes[r];
            let calm = node.deadline.map(|d| d.max(now) + late);
            node.wake = match (node.wake, calm) {
                (Some(busy), Some(calm)) => Some(busy.min(calm)),
                (wake, _) => wake,
            };
        }
        self.now.max(self.net.last_fault_arrival)
    }

    /// Router `r`'s configuration, to break it on purpose before it boots.
    pub fn config_mut(&mut self, r: usize) -> &mut Config {
        &mut self.pool.cfgs[r]
    }

    /// Runs every round of the scenario with all checks; `Err` says which
    /// invariant failed, when and where.
    pub fn run(&mut self) -> Result<(), String> {
        for k in 0..self.scn.rounds.len() {
            self.run_round(k)?;
        }
        Ok(())
    }

    /// Round `k`: its fault phase, then the stable phase in which the
    /// election invariant is checked from each virtual router's bound on.
    pub fn run_round(&mut self, k: usize) -> Result<(), String> {
        let scn = self.scn;
        let round = &scn.rounds[k];
        let t0 = self.now;
        self.trace.line(t0, || {
            format!("round {k}: fault phase of {} us", round.fault_len)
        });
        self.begin_fault_phase();
        self.net.groups = None;
        for (at, a) in &round.events {
            self.schedule(t0 + at, Ev::Act(a.clone()));
        }
        let stable = t0 + round.fault_len;
        self.run_until(stable)?;
        let from = self.end_fault_phase();
        self.rounds.push((t0, stable, from));
        self.trace.line(stable, || {
            format!("network stable; the last fault-phase advert arrives at {from}")
        });
        let mut end = from;
        for v in 0..scn.vrs.len() {
            let at = from + self.settle(v);
            self.schedule(at, Ev::Check(v));
            self.follow_from[v] = at + check::next_advert(scn, v);
            end = end.max(at);
        }
        self.run_until(end + round.check_len)?;
        for v in 0..scn.vrs.len() {
            check::election(self, v)?;
            self.checking[v] = false;
        }
        Ok(())
    }

    /// How long after the network became stable (and the last advert of
    /// the fault phase arrived) virtual router `v` must have its master:
    /// see [`check::settle`].
    pub fn settle(&self, v: usize) -> Us {
        check::settle(self.scn, v, self.lowest_priority[v])
    }

    /// Runs every input before `end`, then sets the clock to `end`.
    pub fn run_until(&mut self, end: Us) -> Result<(), String> {
        loop {
            let timer = self.next_deadline();
            let event = self.queue.peek().map(|Reverse(s)| s.at);
            let next = match (timer, event) {
                (Some(t), Some(e)) => t.min(e),
                (Some(t), None) => t,
                (None, Some(e)) => e,
                (None, None) => break,
            };
            if next >= end {
                break;
            }
            if next < self.now {
                return Err(format!(
                    "a deadline in the past: {next} us at {} us (the engine asked to be woken before the input that set it)",
                    self.now
                ));
            }
            self.now = next;
            if timer.is_some_and(|t| event.is_none_or(|e| t < e)) {
                for r in 0..self.nodes.len() {
                    if self.nodes[r].running && self.nodes[r].wake.is_some_and(|t| t <= self.now) {
                        self.input(r, Input::Timeout)?;
                    }
                }
            } else if let Some(Reverse(s)) = self.queue.pop() {
                self.event(s.ev)?;
            }
            for v in 0..self.checking.len() {
                if self.checking[v] {
                    check::election(self, v)?;
                    self.counters.checks += 1;
                }
            }
        }
        self.now = self.now.max(end);
        Ok(())
    }

    /// The earliest wake-up of a running router, µs.
    fn next_deadline(&self) -> Option<Us> {
        self.nodes
            .iter()
            .filter(|n| n.running)
            .filter_map(|n| n.wake)
            .min()
    }

    fn event(&mut self, ev: Ev) -> Result<(), String> {
        match ev {
            Ev::Deliver { to, d } => {
                let node = &self.nodes[to];
                if !node.running || !node.link {
                    self.counters.lost += 1;
                    self.trace.line(self.now, || {
                        format!(
                            "r{to}: advert of vr{} from r{} lost (router off or link down)",
                            d.vr, d.from
                        )
                    });
                    return Ok(());
                }
                self.counters.inputs += 1;
                self.trace.line(self.now, || {
                    format!(
                        "r{to}: advert of vr{} from r{} priority {}",
                        d.vr, d.from, d.priority
                    )
                });
                let engine = &mut self.pool.engines[to];
                let now = instant(self.now);
                match &d.meta6 {
                    None => engine.handle_datagram(now, 0, &d.bytes, d.bytes.len()),
                    Some(meta) => engine.handle_datagram6(now, 0, &d.bytes, d.bytes.len(), meta),
                }
                self.drain(
                    to,
                    Input::Advert {
                        from: d.from,
                        vr: d.vr,
                        priority: d.priority,
                        src: d.src,
                    },
                )
            }
            Ev::Act(a) => self.act(a),
            Ev::Check(v) => {
                self.trace.line(self.now, || {
                    format!("vr{v}: the election invariant holds from now")
                });
                self.checking[v] = true;
                Ok(())
            }
        }
    }

    /// A scenario input.
    fn act(&mut self, a: Action) -> Result<(), String> {
        let now = self.now;
        match a {
            Action::Boot(r) => {
                if self.nodes[r].running {
                    return Ok(());
                }
                self.trace.line(now, || format!("r{r}: boot"));
                self.boot(r);
                self.input(r, Input::Boot)
            }
            Action::Stop(r) => {
                if !self.nodes[r].running {
                    return Ok(());
                }
                self.trace.line(now, || format!("r{r}: stop"));
                self.input(r, Input::Stop)?;
                self.power_off(r);
                Ok(())
            }
            Action::Crash(r) => {
                if !self.nodes[r].running {
                    return Ok(());
                }
                self.trace
                    .line(now, || format!("r{r}: crash (its addresses vanish)"));
                self.power_off(r);
                Ok(())
            }
            Action::LinkDown(r) => {
                if !self.nodes[r].running || !self.nodes[r].link {
                    return Ok(());
                }
                self.trace.line(now, || format!("r{r}: link down"));
                self.nodes[r].link = false;
                self.input(r, Input::LinkDown)
            }
            Action::LinkUp(r) => {
                if !self.nodes[r].running || self.nodes[r].link {
                    return Ok(());
                }
                self.trace.line(now, || format!("r{r}: link up"));
                self.nodes[r].link = true;
                self.input(r, Input::LinkUp)
            }
            Action::Priority {
                router,
                vr,
                priority,
            } => {
                if !self.nodes[router].running || self.nodes[router].slot[vr].is_none() {
                    return Ok(());
                }
                self.trace.line(now, || {
                    format!("r{router}: vr{vr} tracker sets priority {priority}")
                });
                self.input(router, Input::Priority { vr, priority })
            }
            Action::Partition(groups) => {
                self.trace.line(now, || format!("partition {groups:?}"));
                self.net.groups = Some(groups);
                Ok(())
            }
            Action::Heal => {
                self.trace.line(now, || "partition healed".into());
                self.net.groups = None;
                Ok(())
            }
            Action::Net(f) => {
                self.trace.line(now, || format!("network: {f:?}"));
                if self.net.fault.is_some() {
                    self.net.fault = Some(f);
                }
                Ok(())
            }
        }
    }

    /// A fresh picket process on router `r`: the engine loaded from its
    /// configuration, the views reset.
    fn boot(&mut self, r: usize) {
        let spec = self.scn.routers[r].clone();
        let mut lookup = |name: &str| {
            (name == "eth0").then_some(IfFacts {
                index: IFINDEX,
                mac: [2, 0, 0, 0, r as u8, 1],
                ipv4: Some(spec.addr4),
                ipv6_link_local: Some(spec.ll6),
                ipv6_forwarding: false,
                up: true,
            })
        };
        let mut errors = Vec::new();
        self.pool.engines[r].load(&self.pool.cfgs[r], None, &mut lookup, &mut |i, n, e| {
            errors.push(format!("instance {i} ({n}): {e}"))
        });
        assert!(errors.is_empty(), "router {r}: {errors:?}");
        let node = &mut self.nodes[r];
        node.running = true;
        node.link = true;
        for (v, view) in node.view.iter_mut().enumerate() {
            let member = self.scn.vrs[v].member(r);
            *view = View {
                state: State::Initialize,
                vips: false,
                priority: member.map_or(0, |m| m.priority),
                learned: member.map_or(0, MemberSpec::interval_us),
                armed: None,
                maybe_due: None,
            };
        }
    }

    /// Router `r` is off (after a stop, or a crash): nothing runs, no
    /// address is held.
    fn power_off(&mut self, r: usize) {
        let node = &mut self.nodes[r];
        node.running = false;
        node.addresses.clear();
        for view in node.view.iter_mut() {
            view.state = State::Initialize;
            view.vips = false;
            view.armed = None;
            view.maybe_due = None;
        }
    }

    /// Hands `input` to router `r`'s engine (deliveries are handed over by
    /// [`World::event`], which has the datagram), then drains and checks its
    /// actions.
    fn input(&mut self, r: usize, input: Input) -> Result<(), String> {
        self.counters.inputs += 1;
        let now = instant(self.now);
        let engine = &mut self.pool.engines[r];
        match input {
            Input::Boot => engine.start(now),
            Input::Stop => engine.shutdown(now),
            Input::Timeout => engine.handle_timeout(now),
            Input::Advert { .. } => unreachable!("delivered by World::event"),
            Input::LinkDown | Input::LinkUp => {
                let up = input == Input::LinkUp;
                engine.handle_link(
                    now,
                    &LinkEvent {
                        index: IFINDEX,
                        name: "eth0",
                        up,
                        deleted: false,
                        mac: Some([2, 0, 0, 0, r as u8, 1]),
                    },
                );
                // The instance's own interface is tracked (keepalived's
                // default): down is FAULT.
                for slot in self.nodes[r].slot.iter().flatten() {
                    engine.set_fault(now, *slot, !up);
                }
            }
            Input::Priority { vr, priority } => {
                if let Some(slot) = self.nodes[r].slot[vr] {
                    engine.set_priority(now, slot, priority);
                }
            }
        }
        self.drain(r, input)
    }

    /// Drains router `r`'s actions after `input` and checks them: every
    /// state change has a cause, every advert comes from a master (or one
    /// leaving), VIPs are held exactly by masters, the views match the
    /// engine.
    fn drain(&mut self, r: usize, input: Input) -> Result<(), String> {
        let now = self.now;
        let before: Vec<View> = self.nodes[r].view.clone();
        if let Input::Priority { vr, priority } = input {
            let view = &mut self.nodes[r].view[vr];
            if view.priority != 255 {
                view.priority = priority.clamp(1, 254);
                self.lowest_priority[vr] = self.lowest_priority[vr].min(view.priority);
            }
        }
        let mut actions = Vec::new();
        while let Some(a) = self.pool.engines[r].poll_action(instant(now)) {
            actions.push(a);
        }
        let vr_of =
            |node: &Node, slot: u16| node.slot.iter().position(|s| *s == Some(slot)).unwrap();
        let mut left_master = Vec::new();
        let mut adverts = Vec::new();
        for a in &actions {
            match *a {
                EngineAction::Transition { slot, from, to } => {
                    let v = vr_of(&self.nodes[r], slot);
                    self.counters.changes += 1;
                    let change = Change {
                        at: now,
                        router: r,
                        vr: v,
                        from,
                        to,
                        cause: input,
                    };
                    self.trace.line(now, || {
                        format!(
                            "r{r}: vr{v} {} -> {} ({input:?})",
                            state_word(from),
                            state_word(to)
                        )
                    });
                    let view = self.nodes[r].view[v];
                    check::cause(self, &change, &view)?;
                    self.count(&change, &view);
                    self.changes.push(change);
                    let own = self.scn.vrs[v].member(r).unwrap().interval_us();
                    // RFC 5798 §6.4.3: a master yielding takes the
                    // interval of the advert it yields to (v3); starting,
                    // leaving FAULT or becoming master, its own.
                    let learned = match (from, to, input) {
                        (State::Master, State::Backup, Input::Advert { from: sender, .. })
                            if self.scn.vrs[v].version == 3 =>
                        {
                            self.scn.vrs[v].member(sender).unwrap().interval_us()
                        }
                        _ => own,
                    };
                    let node = &mut self.nodes[r];
                    node.view[v].state = to;
                    node.view[v].learned = learned;
                    node.view[v].armed = (to == State::Backup).then(|| Armed {
                        at: now,
                        by: match from {
                            State::Master => ArmedBy::Yielded,
                            State::Fault => ArmedBy::FaultCleared,
                            _ => ArmedBy::Start,
                        },
                        priority: node.view[v].priority,
                        interval: learned,
                    });
                    node.view[v].maybe_due = None;
                    if from == State::Master {
                        left_master.push(v);
                    }
                }
                EngineAction::AddVips { slot } => {
                    let v = vr_of(&self.nodes[r], slot);
                    self.trace
                        .line(now, || format!("r{r}: vr{v} adds its VIPs"));
                    self.nodes[r].view[v].vips = true;
                    self.apply_addresses(r, v, slot, Operation::Add)?;
                }
                EngineAction::RemoveVips { slot } => {
                    let v = vr_of(&self.nodes[r], slot);
                    self.trace
                        .line(now, || format!("r{r}: vr{v} removes its VIPs"));
                    self.nodes[r].view[v].vips = false;
                    self.apply_addresses(r, v, slot, Operation::Delete)?;
                }
                EngineAction::SendAdvert { slot, priority } => adverts.push((slot, priority)),
                EngineAction::MasterRxLowerPri {
                    slot,
                    src,
                    priority,
                } => {
                    let v = vr_of(&self.nodes[r], slot);
                    self.trace.line(now, || {
                        format!("r{r}: vr{v} master hears lower priority {priority} from {src}")
                    });
                }
                // Announcements, peer and source reports: not part of the
                // election.
                _ => {}
            }
        }
        // An advert received as BACKUP that did not change the state: the
        // master-down timer was re-armed if RFC 5798 §6.4.2 says it is
        // whatever else holds.
        if let Input::Advert {
            from, vr, priority, ..
        } = input
            && from != r
            && self.nodes[r].slot[vr].is_some()
            && before[vr].state == State::Backup
            && self.nodes[r].view[vr].state == State::Backup
        {
            let spec = &self.scn.vrs[vr];
            let member = spec.member(r).unwrap();
            // RFC 5798 §6.4.2: (v3) Master_Adver_Interval from the advert.
            let sent = spec.member(from).unwrap().interval_us();
            let view = &mut self.nodes[r].view[vr];
            if priority == 0 {
                // Skew_Time, with the interval learnt before (the engine
                // does not learn from a leaving master).
                view.armed = Some(Armed {
                    at: now,
                    by: ArmedBy::PriorityZero { from },
                    priority: view.priority,
                    interval: view.learned,
                });
                view.maybe_due = None;
            } else if priority >= view.priority || !member.preempt {
                if spec.version == 3 {
                    view.learned = sent;
                }
                view.armed = Some(Armed {
                    at: now,
                    by: ArmedBy::Advert { from, priority },
                    priority: view.priority,
                    interval: view.learned,
                });
                view.maybe_due = None;
            } else if member.preempt_delay > 0 {
                // Every member has the same interval here (the generator
                // gives preempt_delay only then).
                let due = now + check::master_down(spec, view.learned, view.priority);
                view.maybe_due = Some(view.maybe_due.map_or(due, |d| d.min(due)));
            }
        }
        // The views against the engine, and the VIPs against the states.
        for (v, slot) in self.nodes[r].slot.clone().into_iter().enumerate() {
            let Some(slot) = slot else { continue };
            let view = self.nodes[r].view[v];
            let engine_state = self.pool.engines[r].state(slot);
            if engine_state != Some(view.state) {
                return Err(format!(
                    "r{r} vr{v}: the engine is in {engine_state:?}, its transitions said {:?}",
                    view.state
                ));
            }
            check::vips(r, v, &view)?;
            // The addresses move only with an action of the engine (or a
            // crash, which leaves none): checked when there was one.
            if !actions.is_empty() {
                check::addresses(self, r, v)?;
            }
        }
        // Adverts: only from a master, with its priority; priority 0 only
        // from one that just left MASTER (or, with
        // higher_prio_send_advert, one last advert as it yields).
        for (slot, priority) in adverts {
            let v = vr_of(&self.nodes[r], slot);
            let view = self.nodes[r].view[v];
            let last_word = left_master.contains(&v)
                && view.state == State::Backup
                && priority == before[v].priority
                && self.scn.vrs[v]
                    .member(r)
                    .is_some_and(|m| m.higher_prio_send_advert);
            if priority == 0 {
                if !left_master.contains(&v) {
                    return Err(format!(
                        "r{r} vr{v}: a priority-0 advert without leaving MASTER ({input:?})"
                    ));
                }
            } else if !last_word && (view.state != State::Master || priority != view.priority) {
                return Err(format!(
                    "r{r} vr{v}: an advert with priority {priority} from a {:?} at priority {}",
                    view.state, view.priority
                ));
            }
            self.send(r, v, slot, priority)?;
        }
        let deadline = self.pool.engines[r].poll_at().map(|i| i.total_micros());
        if input != Input::Timeout && deadline.is_some_and(|d| d <= now) {
            // picket's loop turn: the inputs first, then every timeout due
            // by then, at the same `now`.
            self.nodes[r].deadline = deadline;
            return self.input(r, Input::Timeout);
        }
        if deadline != self.nodes[r].deadline {
            let late = self.timer_late();
            let late = if late > 0 { self.rng.range(0, late) } else { 0 };
            let node = &mut self.nodes[r];
            node.deadline = deadline;
            // Not before now: a deadline already due is handled in the
            // next loop turn.
            node.wake = deadline.map(|d| d.max(now) + late);
        }
        Ok(())
    }

    /// The VIPs of virtual router `v`, as every member configures them.
    pub fn vips_of(&self, v: usize) -> &[IpAddr] {
        &self.vips[v]
    }

    /// Carries out `AddVips` / `RemoveVips` of router `r`'s slot as the
    /// binary does: one rtnetlink request per address, built by the engine
    /// ([`Engine::address_request`]) and read back as the kernel would.
    fn apply_addresses(
        &mut self,
        r: usize,
        v: usize,
        slot: u16,
        op: Operation,
    ) -> Result<(), String> {
        let engine = &self.pool.engines[r];
        let cfg = &self.pool.cfgs[r];
        for k in 0..engine.address_count(slot) {
            let mut buf = [0u8; 512];
            let (len, _) = engine
                .address_request(cfg, slot, k, op, 1, &mut buf)
                .ok_or_else(|| format!("r{r} vr{v}: no address request {k}"))?
                .map_err(|e| format!("r{r} vr{v}: address request {k}: {e:?}"))?;
            let msg = netlink::Packet::new_checked(&buf[..len])
                .map_err(|e| format!("r{r} vr{v}: address request {k}: {e:?}"))?;
            let a = AddressRepr::parse(&msg)
                .map_err(|e| format!("r{r} vr{v}: address request {k}: {e:?}"))?;
            let (Some(addr), IFINDEX) = (a.local_address(), a.ifindex) else {
                return Err(format!(
                    "r{r} vr{v}: address request {k} for {:?} on ifindex {}",
                    a.local_address(),
                    a.ifindex
                ));
            };
            let addresses = &mut self.nodes[r].addresses;
            match op {
                Operation::Add => addresses.insert(addr),
                Operation::Delete => addresses.remove(&addr),
            };
        }
        Ok(())
    }

    /// Counts what `c` covers (for the summary line).
    fn count(&mut self, c: &Change, before: &View) {
        match (c.from, c.to, c.cause) {
            (State::Master, State::Backup, Input::Advert { priority, .. })
                if priority == before.priority =>
            {
                self.counters.ties += 1
            }
            (State::Backup, State::Master, _) => {
                if matches!(
                    before.armed,
                    Some(Armed {
                        by: ArmedBy::PriorityZero { .. },
                        ..
                    })
                ) {
                    self.counters.zero_takeovers += 1;
                }
                let others = self.scn.vrs[c.vr].members.iter().filter(|m| {
                    m.router != c.router && self.nodes[m.router].view[c.vr].state == State::Master
                });
                if others.count() > 0 {
                    self.counters.split_brains += 1;
                }
            }
            _ => {}
        }
    }

    /// Puts router `r`'s advert of virtual router `v` on the segment, one
    /// copy per destination the engine names.
    fn send(&mut self, r: usize, v: usize, slot: u16, priority: u8) -> Result<(), String> {
        let node = &self.nodes[r];
        if !node.running || !node.link {
            self.trace.line(self.now, || {
                format!("r{r}: vr{v} advert {priority} lost (link down)")
            });
            return Ok(());
        }
        let src = self.source(r, v);
        self.trace.line(self.now, || {
            format!("r{r}: vr{v} sends an advert, priority {priority}")
        });
        for k in 0..self.pool.engines[r].advert_destinations(slot) {
            let engine = &mut self.pool.engines[r];
            let mut buf = [0u8; 1500];
            let (dst, bytes, meta6): (IpAddr, Vec<u8>, Option<Ipv6Meta>) = match self.scn.vrs[v].fam
            {
                Fam::V4 => {
                    let (_, dst, len) = engine
                        .build_advert(slot, priority, k, &mut buf)
                        .map_err(|e| format!("r{r} vr{v}: build_advert: {e:?}"))?;
                    let from = Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]);
                    if IpAddr::V4(from) != src {
                        return Err(format!("r{r} vr{v}: advert from {from}, expected {src}"));
                    }
                    (IpAddr::V4(dst), buf[..len].to_vec(), None)
                }
                Fam::V6 => {
                    let out = engine
                        .build_advert6(slot, priority, k, &mut buf)
                        .map_err(|e| format!("r{r} vr{v}: build_advert6: {e:?}"))?;
                    if IpAddr::V6(out.src) != src {
                        return Err(format!(
                            "r{r} vr{v}: advert from {}, expected {src}",
                            out.src
                        ));
                    }
                    let meta = Ipv6Meta {
                        src: out.src,
                        dst: Some(out.dst),
                        hop_limit: Some(out.hop_limit.unwrap_or(DEFAULT_HOP_LIMIT)),
                    };
                    (IpAddr::V6(out.dst), buf[..out.len].to_vec(), Some(meta))
                }
            };
            let d = Rc::new(Datagram {
                from: r,
                vr: v,
                priority,
                src,
                bytes,
                meta6,
            });
            let multicast = dst == IpAddr::V4(GROUP4) || dst == IpAddr::V6(GROUP6);
            for to in 0..self.nodes.len() {
                let addressed = if multicast {
                    to != r || self.scn.loopback
                } else {
                    self.source(to, v) == dst
                };
                if addressed {
                    self.transmit(r, to, &d);
                }
            }
        }
        Ok(())
    }

    /// One copy from `from` to `to` through the network as it is now.
    fn transmit(&mut self, from: usize, to: usize, d: &Rc<Datagram>) {
        self.counters.sent += 1;
        if let Some(groups) = &self.net.groups
            && groups[from] != groups[to]
        {
            self.counters.lost += 1;
            return;
        }
        let fault = self.net.fault.unwrap_or_default();
        if fault.loss > 0 && self.rng.chance(fault.loss) {
            self.counters.lost += 1;
            return;
        }
        let copies = if fault.dup > 0 && self.rng.chance(fault.dup) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = self.scn.latency;
            if self.scn.stable_jitter > 0 {
                delay += self.rng.range(0, self.scn.stable_jitter);
            }
            if fault.jitter > 0 {
                delay += self.rng.range(0, fault.jitter);
            }
            let at = self.now + delay;
            if self.net.fault.is_some() {
                self.net.last_fault_arrival = self.net.last_fault_arrival.max(at);
            }
            self.schedule(
                at,
                Ev::Deliver {
                    to,
                    d: Rc::clone(d),
                },
            );
        }
    }

    /// How late a loop turn may wake for a deadline now, µs: the
    /// scenario's figure in fault phases, the timer slack otherwise.
    pub fn timer_late(&self) -> Us {
        if self.net.fault.is_some() {
            self.scn.timer_late
        } else {
            self.scn.timer_slack
        }
    }

    /// The trace so far, one line per step.
    pub fn trace_text(&self) -> String {
        let mut s = String::new();
        for l in &self.trace.lines {
            let _ = writeln!(s, "{l}");
        }
        s
    }
}
