//! The table of checks: scheduling (one deadline each, in a
//! [`TimerHeap`]), the socket pool, the attempts in flight and keepalived's
//! retry rule. See the [module primer](super).
//!
//! # The binary's side
//!
//! - Run [`Checkers::handle_timeout`] when [`Checkers::poll_at`] is due;
//!   drain [`Checkers::poll_action`]: `Open` a socket (then
//!   [`Checkers::handle_connected`] or [`Checkers::handle_io_error`]),
//!   `Send` what [`Checkers::write_request`] writes, `Close` the slot,
//!   `RunScript` through the core (its end in
//!   [`Checkers::handle_script_exit`]).
//! - On readiness of a slot's socket: if [`Checkers::is_connecting`], read
//!   `SO_ERROR` and report; then while [`Checkers::rx_space`] gives a buffer,
//!   receive into it and report [`Checkers::handle_received`] (or
//!   [`Checkers::handle_eof`], [`Checkers::handle_io_error`]) until
//!   WouldBlock.
//! - Drain [`Checkers::poll_report`] into the real-server logic.
//!
//! A slot freed during a turn is reused only by the next
//! [`Checkers::handle_timeout`], after the binary has closed its socket:
//! late readiness of the old socket can never reach a new attempt.

use core::net::{IpAddr, SocketAddr};

use heapless::{Deque, Vec};

use super::http::{self, Exchange, Expect};
use super::misc::{self, ScriptOutcome};
use super::ping::Echo;
use super::smtp::{DEFAULT_HELO, Dialogue};
use super::timers::TimerHeap;
use super::udp::{self, Probe};
use super::{
    CheckId, Failure, Proto, Rng, SlotId, SocketKind, SocketSpec, Step, Trio, Verdict, dns, tcp,
};
use crate::config::Config;
use crate::config::lvs::{CheckKind, Checker};
use crate::core::{ArgvBuf, ArgvError, split_command};
use crate::limits::{CHECK_RX_BYTES, CHECK_SOCKETS, CHECKERS};
use crate::lvs::reload::ServerMap;
use crate::time::{Duration, Instant};

/// Actions that fit in the queue: per slot an open, a send and a close, and
/// one script run per check.
pub const ACTIONS: usize = 3 * CHECK_SOCKETS + CHECKERS + 8;
/// Reports that fit in the queue (two per check: a weight and a state).
pub const REPORTS: usize = 2 * CHECKERS + 8;

/// How early a sleeping check may start, so that one wake-up of the loop
/// starts every check due within this window (a thousand checks a second
/// then cost about a hundred wake-ups, not a thousand); attempts still time
/// out when due.
pub const START_EARLY: Duration = Duration::from_millis(10);

/// What the binary must do for the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckAction {
    /// Open a socket for `slot` as `spec` says (non-blocking, close-on-exec)
    /// and connect it; report the result.
    Open {
        /// The slot.
        slot: SlotId,
        /// Its check (for `bind_if` and logs).
        check: CheckId,
        /// What to open.
        spec: SocketSpec,
    },
    /// Send what [`Checkers::write_request`] writes for `slot`.
    Send {
        /// The slot.
        slot: SlotId,
    },
    /// Close the socket of `slot` (if it is open).
    Close {
        /// The slot.
        slot: SlotId,
    },
    /// Run check `check`'s script ([`Checkers::script_argv`]) for at most
    /// `timeout`; report its end with [`Checkers::handle_script_exit`].
    RunScript {
        /// The `MISC_CHECK`.
        check: CheckId,
        /// `misc_timeout`.
        timeout: Duration,
    },
}

/// A change the real-server logic must hear of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckReport {
    /// A check's state was decided: `up` now, `was_up` before; `first` for
    /// its first decision (which may not change it).
    State {
        /// The check.
        check: CheckId,
        /// Its state now.
        up: bool,
        /// Its state before.
        was_up: bool,
        /// Whether this is its first decision.
        first: bool,
    },
    /// `misc_dynamic`: the weight a script asked for.
    Weight {
        /// The check.
        check: CheckId,
        /// The weight (exit status − 2).
        weight: u32,
    },
}

macro_rules! check_stats {
    ($( $(#[doc = $doc:literal])* $name:ident ),* $(,)?) => {
        /// Counters of the checkers (one per outcome and drop path).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct CheckStats { $( $(#[doc = $doc])* pub $name: u64, )* }

        impl CheckStats {
            /// Every counter as `(name, value)`.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
                [$( (stringify!($name), self.$name), )*].into_iter()
            }
        }
    };
}

check_stats! {
    /// Attempts started.
    attempts,
    /// Attempts that succeeded.
    successes,
    /// Attempts that failed (all reasons).
    failures,
    /// ... by timeout.
    timeouts,
    /// ... by a socket error, a refusal or an ICMP error.
    io_errors,
    /// ... because the peer closed early.
    closed_early,
    /// ... by a malformed reply (garbage).
    garbage,
    /// ... by a reply head larger than the receive buffer.
    too_long,
    /// ... by a status or reply code not accepted.
    bad_code,
    /// ... by a digest or reply mismatch.
    mismatch,
    /// ... by a script's exit status or signal.
    script_failed,
    /// ... because no socket or child could be had.
    no_resources,
    /// Checks that waited for a free socket.
    pool_waits,
    /// Checks that went up.
    ups,
    /// Checks that went down.
    downs,
    /// Readiness or data for a slot without an attempt (ignored).
    stale_events,
    /// Datagrams ignored (not the answer awaited).
    ignored_datagrams,
    /// Actions or reports dropped because their queue was full.
    queue_full,
}

impl core::fmt::Display for CheckStats {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut first = true;
        for (name, v) in self.iter().filter(|(_, v)| *v != 0) {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{name}={v}")?;
        }
        if first {
            f.write_str("(all zero)")?;
        }
        Ok(())
    }
}

/// Why [`Checkers::new`] refused a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// A `misc_path` cannot be split into arguments.
    MiscPath(CheckId, ArgvError),
}

/// Where a check is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    /// Its deadline is its next run.
    Sleeping,
    /// Due, waiting for a free socket.
    Waiting,
    /// An attempt holds this slot; the deadline is its timeout.
    Running(u16),
    /// Its script runs (the child table keeps its timeout).
    Script,
}

/// One check's run-time state.
#[derive(Clone, Copy, Debug)]
struct CheckRun {
    target: SocketAddr,
    proto: Proto,
    connect_timeout: Duration,
    delay_loop: Duration,
    delay_before_retry: Duration,
    retry: u32,
    up: bool,
    has_run: bool,
    retry_it: u32,
    state: RunState,
    /// HTTP: the url being checked (index among the check's urls).
    url_it: u16,
    /// HTTP: the url that failed (while down).
    failed_url: Option<u16>,
    /// HTTP: first url row and count.
    urls: (u16, u16),
    seq: u16,
}

/// An attempt in flight.
#[derive(Clone, Debug)]
enum Attempt {
    Tcp,
    Http(Exchange),
    Smtp(Dialogue),
    Dns(dns::Query),
    Udp(Probe),
    Ping(Echo),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Free,
    /// TCP connect in progress.
    Connecting,
    /// Connected (or a datagram socket).
    Open,
}

/// One socket of the pool.
struct Slot {
    check: u16,
    state: SlotState,
    attempt: Attempt,
    rx: [u8; CHECK_RX_BYTES],
    rx_len: usize,
}

/// Every check of the configuration. See the module doc.
pub struct Checkers {
    checks: Vec<CheckRun, CHECKERS>,
    /// A reload's next table (empty otherwise).
    next: Vec<(CheckRun, Option<Instant>), CHECKERS>,
    slots: Vec<Slot, CHECK_SOCKETS>,
    free: Vec<u16, CHECK_SOCKETS>,
    waiting: Deque<u16, CHECKERS>,
    timers: TimerHeap<CHECKERS>,
    actions: Deque<CheckAction, ACTIONS>,
    reports: Deque<CheckReport, REPORTS>,
    argv: ArgvBuf,
    rng: Rng,
    stats: CheckStats,
}

fn proto_of(kind: &CheckKind) -> Proto {
    match kind {
        CheckKind::Dns { .. } | CheckKind::Udp(_) => Proto::Udp,
        CheckKind::Ping => Proto::Icmp,
        _ => Proto::Tcp,
    }
}

/// The run-time state of check `i` of `cfg` as at start-up (its
/// `misc_path` split into `argv` to find errors early).
fn run_of(
    cfg: &Config,
    i: usize,
    ck: &Checker,
    argv: &mut ArgvBuf,
) -> Result<CheckRun, SetupError> {
    let lvs = &cfg.lvs;
    let rs = lvs.real_servers.get(usize::from(ck.rs));
    let addr = ck
        .connect_ip
        .or(rs.map(|r| r.addr))
        .unwrap_or(IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED));
    let port = if ck.connect_port != 0 {
        ck.connect_port
    } else {
        rs.map_or(0, |r| r.port)
    };
    let port = if matches!(ck.kind, CheckKind::Ping) {
        0
    } else {
        port
    };
    if let CheckKind::Misc(m) = ck.kind {
        split_command(cfg.strings.get(m.path), argv)
            .map_err(|e| SetupError::MiscPath(CheckId(i as u16), e))?;
    }
    let first_url = lvs
        .urls
        .iter()
        .position(|u| usize::from(u.checker) == i)
        .unwrap_or(0);
    let n_urls = lvs.urls_of(i).count();
    Ok(CheckRun {
        target: SocketAddr::new(addr, port),
        proto: proto_of(&ck.kind),
        connect_timeout: ck.connect_timeout.unwrap_or(Duration::from_secs(5)),
        delay_loop: ck.delay_loop.unwrap_or(Duration::from_secs(60)),
        delay_before_retry: ck.delay_before_retry.unwrap_or(Duration::from_secs(1)),
        retry: ck.retry.unwrap_or(1),
        up: !ck.alpha.unwrap_or(false),
        has_run: false,
        retry_it: 0,
        state: RunState::Sleeping,
        url_it: 0,
        failed_url: None,
        urls: (first_url as u16, n_urls as u16),
        seq: 0,
    })
}

impl Checkers {
    /// Checks that `cfg`'s checks can run (every `misc_path` splits into
    /// arguments), as [`Checkers::new`] and [`Checkers::reload`] need.
    pub fn check_config(cfg: &Config) -> Result<(), SetupError> {
        let mut argv = ArgvBuf::new();
        for (i, ck) in cfg.lvs.checkers.iter().enumerate() {
            run_of(cfg, i, ck, &mut argv)?;
        }
        Ok(())
    }

    /// The checks of `cfg` (every `misc_path` is split once here to find
    /// errors early). Nothing runs before [`Checkers::start`].
    pub fn new(cfg: &Config, seed: u64) -> Result<Self, SetupError> {
        let mut c = Checkers {
            checks: Vec::new(),
            next: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            waiting: Deque::new(),
            timers: TimerHeap::new(),
            actions: Deque::new(),
            reports: Deque::new(),
            argv: ArgvBuf::new(),
            rng: Rng::new(seed),
            stats: CheckStats::default(),
        };
        for _ in 0..CHECK_SOCKETS {
            let slot = Slot {
                check: 0,
                state: SlotState::Free,
                attempt: Attempt::Tcp,
                rx: [0; CHECK_RX_BYTES],
                rx_len: 0,
            };
            if c.slots.push(slot).is_err() {
                break;
            }
        }
        c.reset(cfg, seed)?;
        Ok(c)
    }

    /// Back to what [`Checkers::new`] returns for `cfg` and `seed`, in
    /// place: the socket slots and their receive buffers are kept (a
    /// slot's bytes past what it received are never read), so nothing of
    /// the few hundred KiB is copied — for a caller that reuses one block,
    /// such as the fuzz harnesses. On error the checkers are empty.
    pub fn reset(&mut self, cfg: &Config, seed: u64) -> Result<(), SetupError> {
        self.checks.clear();
        self.next.clear();
        self.free.clear();
        self.waiting.clear();
        self.timers = TimerHeap::new();
        self.actions.clear();
        self.reports.clear();
        self.argv = ArgvBuf::new();
        self.rng = Rng::new(seed);
        self.stats = CheckStats::default();
        for slot in self.slots.iter_mut() {
            slot.check = 0;
            slot.state = SlotState::Free;
            slot.attempt = Attempt::Tcp;
            slot.rx_len = 0;
        }
        for i in (0..self.slots.len()).rev() {
            let _ = self.free.push(i as u16);
        }
        for (i, ck) in cfg.lvs.checkers.iter().enumerate() {
            let run = match run_of(cfg, i, ck, &mut self.argv) {
                Ok(run) => run,
                Err(e) => {
                    self.checks.clear();
                    return Err(e);
                }
            };
            // Cannot fail: the configuration holds at most CHECKERS checks.
            let _ = self.checks.push(run);
        }
        Ok(())
    }

    /// Reload: the checks of the new configuration `cfg`, the kept ones
    /// (`map`: see [`crate::lvs::reload`]) with their verdict, retry count,
    /// schedule and attempt in flight — its socket stays, its result counts
    /// — and the settings of `cfg` from their next attempt; new checks are
    /// scheduled as at start-up (within their `warmup`). Attempts of checks
    /// the configuration drops are abandoned (their sockets closed: see
    /// [`Checkers::poll_action`]); their scripts' ends are ignored. Nothing
    /// is reported: the real-server logic recounts from
    /// [`Checkers::state`]. Checks that fail [`Checkers::check_config`] do
    /// not run (that check belongs before the reload).
    pub fn reload(&mut self, now: Instant, cfg: &Config, map: &ServerMap) {
        self.next.clear();
        for (i, ck) in cfg.lvs.checkers.iter().enumerate() {
            let Ok(mut run) = run_of(cfg, i, ck, &mut self.argv) else {
                continue;
            };
            let kept = map
                .old_check(i)
                .and_then(|o| self.checks.get(o).map(|r| (o, *r)));
            let at = if let Some((o, old)) = kept {
                run.up = old.up;
                run.has_run = old.has_run;
                run.retry_it = old.retry_it.min(run.retry);
                run.state = old.state;
                run.seq = old.seq;
                if old.urls.1 == run.urls.1 {
                    run.url_it = old.url_it;
                    run.failed_url = old.failed_url;
                }
                self.timers.get(o as u16)
            } else {
                let warmup = ck.warmup.unwrap_or(Duration::ZERO);
                Some(now + Duration::from_micros(self.rng.below(warmup.total_micros())))
            };
            // Cannot fail: both tables hold at most CHECKERS checks.
            let _ = self.next.push((run, at));
        }
        // Sockets: kept attempts follow their check, the others close.
        for (k, slot) in self.slots.iter_mut().enumerate() {
            if slot.state == SlotState::Free {
                continue;
            }
            match map.new_check(usize::from(slot.check)) {
                Some(n) => slot.check = n as u16,
                None => {
                    slot.state = SlotState::Free;
                    slot.rx_len = 0;
                    let _ = self.free.push(k as u16);
                    if self
                        .actions
                        .push_back(CheckAction::Close {
                            slot: SlotId(k as u16),
                        })
                        .is_err()
                    {
                        self.stats.queue_full += 1;
                    }
                }
            }
        }
        let waiting = self.waiting.len();
        for _ in 0..waiting {
            if let Some(o) = self.waiting.pop_front()
                && let Some(n) = map.new_check(usize::from(o))
            {
                let _ = self.waiting.push_back(n as u16);
            }
        }
        for id in 0..self.checks.len() {
            self.timers.set(id as u16, None);
        }
        self.checks.clear();
        for (i, (run, at)) in self.next.iter().enumerate() {
            let _ = self.checks.push(*run);
            self.timers.set(i as u16, *at);
        }
        self.next.clear();
    }

    /// Schedules every check's first run at a random point within its
    /// `warmup` from `now`.
    pub fn start(&mut self, now: Instant, cfg: &Config) {
        for i in 0..self.checks.len() {
            let warmup = cfg
                .lvs
                .checkers
                .get(i)
                .and_then(|c| c.warmup)
                .unwrap_or(Duration::ZERO);
            let offset = Duration::from_micros(self.rng.below(warmup.total_micros()));
            self.timers.set(i as u16, Some(now + offset));
        }
    }

    /// Number of checks.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// Whether there is no check.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// The counters.
    pub fn stats(&self) -> &CheckStats {
        &self.stats
    }

    /// The most overdue deadline at `now` (a run or an attempt's timeout
    /// not handled yet): its check and how late it is. After
    /// [`Checkers::handle_timeout`] none is; one that stays due means the
    /// checkers are not being run (the watchdog's health gate asks).
    pub fn late(&self, now: Instant) -> Option<(CheckId, Duration)> {
        let (id, at) = self.timers.peek()?;
        (at <= now).then(|| (CheckId(id), now - at))
    }

    /// Whether check `id` is up (and whether it has decided yet).
    pub fn state(&self, id: CheckId) -> Option<(bool, bool)> {
        self.checks
            .get(usize::from(id.0))
            .map(|c| (c.up, c.has_run))
    }

    /// The address check `id` probes, as keepalived logs it.
    pub fn target(&self, id: CheckId) -> Option<Trio> {
        self.checks
            .get(usize::from(id.0))
            .map(|c| Trio(c.target, c.proto))
    }

    /// Sockets in use.
    pub fn slots_in_use(&self) -> usize {
        CHECK_SOCKETS - self.free.len()
    }

    /// The earliest deadline: a run or an attempt's timeout (now, when a
    /// check waits and a socket is free).
    pub fn poll_at(&self) -> Option<Instant> {
        if !self.waiting.is_empty() && !self.free.is_empty() {
            return Some(Instant::ZERO);
        }
        self.timers.peek().map(|(_, t)| t)
    }

    /// The next action for the binary.
    pub fn poll_action(&mut self) -> Option<CheckAction> {
        self.actions.pop_front()
    }

    /// The next report for the real-server logic.
    pub fn poll_report(&mut self) -> Option<CheckReport> {
        self.reports.pop_front()
    }

    fn push(&mut self, a: CheckAction) {
        if self.actions.push_back(a).is_err() {
            self.stats.queue_full += 1;
            log::error!("checker action queue full, action dropped");
        }
    }

    fn report(&mut self, r: CheckReport) {
        if self.reports.push_back(r).is_err() {
            self.stats.queue_full += 1;
            log::error!("checker report queue full, report dropped");
        }
    }

    /// Runs what is due at `now`: starts checks, times attempts out, gives
    /// free sockets to waiting checks.
    pub fn handle_timeout(&mut self, now: Instant, cfg: &Config) {
        while let Some((id, at)) = self.timers.peek() {
            let Some(run) = self.checks.get(usize::from(id)) else {
                self.timers.set(id, None);
                continue;
            };
            // A sleeping check due within START_EARLY starts now, with the
            // others of this wake-up; an attempt times out only when due.
            let due = match run.state {
                RunState::Sleeping => at <= now + START_EARLY,
                _ => at <= now,
            };
            if !due {
                break;
            }
            self.timers.set(id, None);
            match run.state {
                RunState::Sleeping => self.start_attempt(now, cfg, id),
                RunState::Running(slot) => {
                    let verdict = match self.slots.get(usize::from(slot)).map(|s| &s.attempt) {
                        Some(Attempt::Udp(p)) => p.on_timeout(),
                        _ => Verdict::Failure(Failure::Timeout),
                    };
                    self.finish(now, cfg, id, verdict);
                }
                RunState::Waiting | RunState::Script => {}
            }
        }
        while !self.free.is_empty() {
            let Some(id) = self.waiting.pop_front() else {
                break;
            };
            self.start_attempt(now, cfg, id);
        }
    }

    fn start_attempt(&mut self, now: Instant, cfg: &Config, id: u16) {
        let Some(ck) = cfg.lvs.checkers.get(usize::from(id)) else {
            return;
        };
        let Some(run) = self.checks.get_mut(usize::from(id)) else {
            return;
        };
        run.seq = run.seq.wrapping_add(1);
        self.stats.attempts += 1;
        if let CheckKind::Misc(m) = ck.kind {
            run.state = RunState::Script;
            let timeout = m.timeout.unwrap_or(run.delay_loop);
            self.push(CheckAction::RunScript {
                check: CheckId(id),
                timeout,
            });
            return;
        }
        let Some(slot) = self.free.pop() else {
            run.state = RunState::Waiting;
            self.stats.pool_waits += 1;
            if self.waiting.push_back(id).is_err() {
                // Cannot happen (each check waits at most once); retry later.
                run.state = RunState::Sleeping;
                self.timers.set(id, Some(now + run.delay_before_retry));
            }
            return;
        };
        let (kind, attempt) = match ck.kind {
            CheckKind::Tcp => (SocketKind::Tcp, Attempt::Tcp),
            CheckKind::Http(_) => (SocketKind::Tcp, Attempt::Http(Exchange::new())),
            CheckKind::Smtp { .. } => (SocketKind::Tcp, Attempt::Smtp(Dialogue::new())),
            CheckKind::Dns { .. } => (
                SocketKind::Udp,
                Attempt::Dns(dns::Query {
                    id: self.rng.next_u64() as u16,
                }),
            ),
            CheckKind::Udp(u) => (
                SocketKind::Udp,
                Attempt::Udp(Probe {
                    require_reply: u.require_reply.is_some(),
                }),
            ),
            CheckKind::Ping => (
                SocketKind::Icmp,
                Attempt::Ping(Echo {
                    v6: run.target.is_ipv6(),
                    check: id,
                    seq: run.seq,
                }),
            ),
            CheckKind::Misc(_) => return,
        };
        let spec = SocketSpec {
            kind,
            dst: run.target,
            bind: ck
                .bindto
                .map(|ip| SocketAddr::new(ip, ck.bind_port))
                .or_else(|| {
                    (ck.bind_port != 0).then(|| {
                        let any = if run.target.is_ipv4() {
                            IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED)
                        } else {
                            IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED)
                        };
                        SocketAddr::new(any, ck.bind_port)
                    })
                }),
            fwmark: ck.fwmark,
        };
        run.state = RunState::Running(slot);
        let deadline = now + run.connect_timeout;
        if let Some(s) = self.slots.get_mut(usize::from(slot)) {
            s.check = id;
            s.state = if kind == SocketKind::Tcp {
                SlotState::Connecting
            } else {
                SlotState::Open
            };
            s.attempt = attempt;
            s.rx_len = 0;
        }
        self.timers.set(id, Some(deadline));
        self.push(CheckAction::Open {
            slot: SlotId(slot),
            check: CheckId(id),
            spec,
        });
    }

    /// The check holding `slot`, if an attempt does.
    fn holder(&self, slot: SlotId) -> Option<u16> {
        let s = self.slots.get(usize::from(slot.0))?;
        if s.state == SlotState::Free {
            return None;
        }
        let run = self.checks.get(usize::from(s.check))?;
        (run.state == RunState::Running(slot.0)).then_some(s.check)
    }

    /// Whether `slot` waits for its TCP connection to come up.
    pub fn is_connecting(&self, slot: SlotId) -> bool {
        self.slots
            .get(usize::from(slot.0))
            .is_some_and(|s| s.state == SlotState::Connecting)
            && self.holder(slot).is_some()
    }

    /// The socket of `slot` is connected (UDP and ICMP: opened).
    pub fn handle_connected(&mut self, now: Instant, cfg: &Config, slot: SlotId) {
        let Some(id) = self.holder(slot) else {
            self.stats.stale_events += 1;
            return;
        };
        let timeout = self
            .checks
            .get(usize::from(id))
            .map_or(Duration::ZERO, |r| r.connect_timeout);
        let Some(s) = self.slots.get_mut(usize::from(slot.0)) else {
            return;
        };
        s.state = SlotState::Open;
        let step = match &mut s.attempt {
            Attempt::Tcp => tcp::on_connected(),
            Attempt::Http(x) => x.on_connected(),
            Attempt::Smtp(d) => d.on_connected(),
            Attempt::Dns(q) => q.on_connected(),
            Attempt::Udp(p) => p.on_connected(),
            Attempt::Ping(e) => e.on_connected(),
        };
        // The exchange gets its own `connect_timeout`.
        self.timers.set(id, Some(now + timeout));
        self.step(now, cfg, id, slot, step);
    }

    fn step(&mut self, now: Instant, cfg: &Config, id: u16, slot: SlotId, step: Step) {
        match step {
            Step::Wait => {}
            Step::Send => self.push(CheckAction::Send { slot }),
            Step::Done(v) => self.finish(now, cfg, id, v),
        }
    }

    /// Writes what `slot` must send now into `out`; its length (`None`:
    /// it cannot be written — an error of the attempt).
    pub fn write_request(&self, cfg: &Config, slot: SlotId, out: &mut [u8]) -> Option<usize> {
        let id = self.holder(slot)?;
        let (Some(s), Some(run), Some(ck)) = (
            self.slots.get(usize::from(slot.0)),
            self.checks.get(usize::from(id)),
            cfg.lvs.checkers.get(usize::from(id)),
        ) else {
            return None;
        };
        match (&s.attempt, &ck.kind) {
            (Attempt::Http(_), CheckKind::Http(h)) => {
                let url = cfg.lvs.urls.get(usize::from(run.urls.0 + run.url_it))?;
                let vh = if url.virtualhost.is_empty() {
                    h.virtualhost
                } else {
                    url.virtualhost
                };
                http::write_request(
                    out,
                    cfg.strings.get(url.path),
                    cfg.strings.get(vh),
                    run.target,
                    h.protocol,
                )
            }
            (Attempt::Smtp(d), CheckKind::Smtp { helo_name }) => {
                let helo = cfg.strings.get(*helo_name);
                d.write_command(if helo.is_empty() { DEFAULT_HELO } else { helo }, out)
            }
            (Attempt::Dns(q), CheckKind::Dns { query, name }) => {
                dns::write_query(out, q.id, cfg.strings.get(*name), *query)
            }
            (Attempt::Udp(_), CheckKind::Udp(u)) => {
                let mut mask = [0u8; crate::limits::PAYLOAD_BYTES];
                let text = cfg.strings.get(u.payload);
                if text.is_empty() {
                    Some(0)
                } else {
                    crate::config::lvs::parse_udp_pattern(text, false, out, &mut mask).ok()
                }
            }
            (Attempt::Ping(e), CheckKind::Ping) => e.write_request(out),
            _ => None,
        }
    }

    /// Where the next bytes received on `slot` go (`None`: the slot wants
    /// no data now). Stream sockets append to what is buffered; datagram
    /// sockets get the whole buffer for each datagram.
    pub fn rx_space(&mut self, slot: SlotId) -> Option<&mut [u8]> {
        self.holder(slot)?;
        let s = self.slots.get_mut(usize::from(slot.0))?;
        if s.state != SlotState::Open {
            return None;
        }
        match s.attempt {
            Attempt::Http(_) | Attempt::Smtp(_) => s.rx.get_mut(s.rx_len..),
            Attempt::Dns(_) | Attempt::Udp(_) | Attempt::Ping(_) => Some(&mut s.rx[..]),
            Attempt::Tcp => None,
        }
    }

    /// `n` bytes were received into [`Checkers::rx_space`] (`full`: the
    /// datagram's whole length, which may be more).
    pub fn handle_received(
        &mut self,
        now: Instant,
        cfg: &Config,
        slot: SlotId,
        n: usize,
        full: usize,
    ) {
        let Some(id) = self.holder(slot) else {
            self.stats.stale_events += 1;
            return;
        };
        let (Some(run), Some(ck)) = (
            self.checks.get(usize::from(id)).copied(),
            cfg.lvs.checkers.get(usize::from(id)),
        ) else {
            return;
        };
        let mut query = [0u8; 300];
        let qlen = if matches!(ck.kind, CheckKind::Dns { .. }) {
            self.write_request(cfg, slot, &mut query).unwrap_or(0)
        } else {
            0
        };
        let Some(s) = self.slots.get_mut(usize::from(slot.0)) else {
            return;
        };
        let step = match &mut s.attempt {
            Attempt::Http(x) => {
                s.rx_len = (s.rx_len + n).min(CHECK_RX_BYTES);
                let Some(url) = cfg.lvs.urls.get(usize::from(run.urls.0 + run.url_it)) else {
                    return;
                };
                let expect = Expect {
                    status: &url.status,
                    digest: url.digest,
                };
                let (step, used) = x.on_data(&s.rx[..s.rx_len], &expect);
                consume(s, used);
                full_buffer(s, step)
            }
            Attempt::Smtp(d) => {
                s.rx_len = (s.rx_len + n).min(CHECK_RX_BYTES);
                let (step, used) = d.on_data(&s.rx[..s.rx_len]);
                consume(s, used);
                full_buffer(s, step)
            }
            Attempt::Dns(q) => {
                let step = q.on_datagram(
                    &s.rx[..n.min(CHECK_RX_BYTES)],
                    query.get(..qlen).unwrap_or(&[]),
                );
                if step == Step::Wait {
                    self.stats.ignored_datagrams += 1;
                }
                step
            }
            Attempt::Udp(p) => {
                let CheckKind::Udp(u) = ck.kind else { return };
                let pattern = u.require_reply.map_or("", |t| cfg.strings.get(t));
                let ok = udp::reply_matches(&u, pattern, &s.rx[..n.min(CHECK_RX_BYTES)], full);
                p.on_reply(ok)
            }
            Attempt::Ping(e) => {
                let step = e.on_datagram(&s.rx[..n.min(CHECK_RX_BYTES)]);
                if step == Step::Wait {
                    self.stats.ignored_datagrams += 1;
                }
                step
            }
            Attempt::Tcp => Step::Wait,
        };
        self.step(now, cfg, id, slot, step);
    }

    /// The peer closed the connection of `slot` (a read returned 0).
    pub fn handle_eof(&mut self, now: Instant, cfg: &Config, slot: SlotId) {
        let Some(id) = self.holder(slot) else {
            self.stats.stale_events += 1;
            return;
        };
        let run = self.checks.get(usize::from(id)).copied();
        let Some(s) = self.slots.get_mut(usize::from(slot.0)) else {
            return;
        };
        let step = match &mut s.attempt {
            Attempt::Http(x) => {
                let url = run.and_then(|r| cfg.lvs.urls.get(usize::from(r.urls.0 + r.url_it)));
                match url {
                    Some(url) => x.on_eof(&Expect {
                        status: &url.status,
                        digest: url.digest,
                    }),
                    None => Step::Done(Verdict::Failure(Failure::Closed)),
                }
            }
            Attempt::Smtp(d) => d.on_eof(),
            _ => Step::Done(Verdict::Failure(Failure::Closed)),
        };
        self.step(now, cfg, id, slot, step);
    }

    /// Opening, connecting, sending or receiving on `slot` failed (`errno`;
    /// `ECONNREFUSED` on a UDP socket is an ICMP port unreachable).
    pub fn handle_io_error(&mut self, now: Instant, cfg: &Config, slot: SlotId, errno: i32) {
        let Some(id) = self.holder(slot) else {
            self.stats.stale_events += 1;
            return;
        };
        self.finish(now, cfg, id, Verdict::Failure(Failure::Io(errno)));
    }

    /// The argv of `MISC_CHECK` `check` (split into a scratch buffer).
    pub fn script_argv(&mut self, cfg: &Config, check: CheckId) -> Option<&ArgvBuf> {
        let ck = cfg.lvs.checkers.get(usize::from(check.0))?;
        let CheckKind::Misc(m) = ck.kind else {
            return None;
        };
        split_command(cfg.strings.get(m.path), &mut self.argv).ok()?;
        Some(&self.argv)
    }

    /// The script of `check` ended (or never ran).
    pub fn handle_script_exit(
        &mut self,
        now: Instant,
        cfg: &Config,
        check: CheckId,
        outcome: ScriptOutcome,
    ) {
        let Some(run) = self.checks.get(usize::from(check.0)) else {
            return;
        };
        if run.state != RunState::Script {
            self.stats.stale_events += 1;
            return;
        }
        let dynamic = matches!(
            cfg.lvs.checkers.get(usize::from(check.0)).map(|c| c.kind),
            Some(CheckKind::Misc(m)) if m.dynamic
        );
        let (verdict, weight) = misc::judge(outcome, dynamic);
        if let Some(weight) = weight {
            self.report(CheckReport::Weight { check, weight });
        }
        self.finish(now, cfg, check.0, verdict);
    }

    /// Ends the attempt of check `id` with `verdict`: frees its socket,
    /// applies the retry rule, schedules the next run.
    fn finish(&mut self, now: Instant, cfg: &Config, id: u16, verdict: Verdict) {
        let Some(run) = self.checks.get_mut(usize::from(id)) else {
            return;
        };
        if let RunState::Running(slot) = run.state {
            if let Some(s) = self.slots.get_mut(usize::from(slot)) {
                s.state = SlotState::Free;
                s.rx_len = 0;
            }
            let _ = self.free.push(slot);
            if self
                .actions
                .push_back(CheckAction::Close { slot: SlotId(slot) })
                .is_err()
            {
                self.stats.queue_full += 1;
            }
        }
        run.state = RunState::Sleeping;
        let st = &mut self.stats;
        match verdict {
            Verdict::Success => st.successes += 1,
            Verdict::Failure(f) => {
                st.failures += 1;
                match f {
                    Failure::Timeout => st.timeouts += 1,
                    Failure::Io(_) => st.io_errors += 1,
                    Failure::Closed => st.closed_early += 1,
                    Failure::Garbage => st.garbage += 1,
                    Failure::TooLong => st.too_long += 1,
                    Failure::Status(_) | Failure::Smtp(_) | Failure::Rcode(_) => {
                        st.bad_code += 1;
                    }
                    Failure::Digest | Failure::Mismatch => st.mismatch += 1,
                    Failure::Exit(_) => st.script_failed += 1,
                    Failure::Resources => st.no_resources += 1,
                }
            }
        }
        let Some(ck) = cfg.lvs.checkers.get(usize::from(id)) else {
            return;
        };
        let was_up = run.up;
        let first = !run.has_run;
        let (delay, change) = match ck.kind {
            CheckKind::Http(h) => http_rule(run, verdict, h.fast_recovery),
            _ => generic_rule(run, verdict),
        };
        let retry = run.retry;
        let trio = Trio(run.target, run.proto);
        if let Some(up) = change {
            run.up = up;
        }
        if let Verdict::Failure(f) = verdict
            && (was_up || first)
        {
            log_failure(ck, trio, f);
        }
        self.timers.set(id, Some(now + delay));
        if let Some(up) = change {
            if up {
                self.stats.ups += u64::from(!was_up);
            } else {
                self.stats.downs += u64::from(was_up);
            }
            log_change(cfg, ck, trio, up, retry);
            self.report(CheckReport::State {
                check: CheckId(id),
                up,
                was_up,
                first,
            });
        }
    }
}

/// Drops the first `used` bytes of the slot's buffer.
fn consume(s: &mut Slot, used: usize) {
    let used = used.min(s.rx_len);
    s.rx.copy_within(used..s.rx_len, 0);
    s.rx_len -= used;
}

/// A step that still waits with a full buffer can never finish.
fn full_buffer(s: &Slot, step: Step) -> Step {
    if step == Step::Wait && s.rx_len >= CHECK_RX_BYTES {
        Step::Done(Verdict::Failure(Failure::TooLong))
    } else {
        step
    }
}

/// keepalived's `tcp_epilog` (and the same rule of the SMTP, DNS, UDP,
/// ping and misc checkers): the delay to the next run, and the new state
/// when it is decided.
fn generic_rule(run: &mut CheckRun, verdict: Verdict) -> (Duration, Option<bool>) {
    let success = verdict == Verdict::Success;
    let mut change = None;
    let delay = if success || run.retry_it >= run.retry {
        run.retry_it = 0;
        if success && (!run.up || !run.has_run) {
            change = Some(true);
        } else if !success && (run.up || !run.has_run) {
            change = Some(false);
        }
        run.delay_loop
    } else {
        run.retry_it += 1;
        run.delay_before_retry
    };
    run.has_run = true;
    (delay, change)
}

/// keepalived's HTTP epilog: one url per run, each must succeed in turn;
/// a failing url is retried `retry` times; while down only the failed url
/// is polled, and once it answers every url is checked again.
fn http_rule(
    run: &mut CheckRun,
    verdict: Verdict,
    fast_recovery: bool,
) -> (Duration, Option<bool>) {
    let mut change = None;
    let n = run.urls.1.max(1);
    let delay = if verdict == Verdict::Success {
        run.url_it += 1;
        run.retry_it = 0;
        if run.url_it >= n && run.failed_url.is_none() {
            if !run.up || !run.has_run {
                change = Some(true);
                run.has_run = true;
            }
            run.url_it = 0;
        } else if run.failed_url.is_some() {
            run.failed_url = None;
            run.url_it = 0;
        }
        if !run.has_run && change.is_none() {
            run.retry_it = run.retry;
        }
        run.delay_loop
    } else {
        if run.up || !run.has_run {
            run.has_run = true;
            run.retry_it += 1;
            if run.retry_it > run.retry {
                if run.up {
                    change = Some(false);
                }
                run.failed_url = Some(run.url_it);
            }
        }
        if run.failed_url.is_some() {
            run.delay_before_retry.max(run.delay_loop)
        } else {
            run.delay_before_retry
        }
    };
    let up_after = change.unwrap_or(run.up);
    if fast_recovery && (!run.has_run || (!up_after && run.failed_url.is_none())) {
        return (Duration::ZERO, change);
    }
    (delay, change)
}

/// The check's keyword as keepalived names it in its failure lines.
fn label(ck: &Checker) -> &'static str {
    match ck.kind {
        CheckKind::Tcp => "TCP_CHECK",
        CheckKind::Http(_) => "HTTP_CHECK",
        CheckKind::Smtp { .. } => "SMTP_CHECK",
        CheckKind::Dns { .. } => "DNS_CHECK",
        CheckKind::Misc(_) => "MISC_CHECK",
        CheckKind::Udp(_) => "UDP_CHECK",
        CheckKind::Ping => "ICMP CHECK",
    }
}

fn log_failure(ck: &Checker, trio: Trio, f: Failure) {
    match (ck.kind, f) {
        (CheckKind::Tcp, Failure::Timeout) => log::info!("TCP connection to {trio} timeout."),
        (CheckKind::Tcp, _) => log::info!("TCP connection to {trio} failed."),
        (CheckKind::Http(_), Failure::Status(c)) => {
            log::info!("HTTP status code error to server {trio} (status {c}).");
        }
        (CheckKind::Http(_), Failure::Digest) => log::info!("MD5 digest error to server {trio}."),
        (CheckKind::Ping, Failure::Timeout) => {
            log::info!("ICMP connection to address {} timeout.", trio.0.ip());
        }
        _ => log::info!("{} on service {trio}: {f}.", label(ck)),
    }
}

fn log_change(cfg: &Config, ck: &Checker, trio: Trio, up: bool, retry: u32) {
    if up {
        match ck.kind {
            CheckKind::Tcp => log::info!("TCP connection to {trio} success."),
            CheckKind::Http(_) => log::info!("Remote Web server {trio} succeed on service."),
            CheckKind::Smtp { .. } => log::info!("Remote SMTP server {trio} succeed on service."),
            CheckKind::Dns { .. } => log::info!("DNS_CHECK ({trio}) succeed on service."),
            CheckKind::Udp(_) => log::info!("UDP_CHECK on service {trio} succeed."),
            CheckKind::Ping => log::info!("ICMP connection to {trio} success."),
            CheckKind::Misc(m) => log::info!(
                "Misc check for [{}] by [{}] succeeded.",
                crate::lvs::RsName(cfg, usize::from(ck.rs)),
                cfg.strings.get(m.path)
            ),
        }
    } else if let CheckKind::Misc(m) = ck.kind {
        log::info!(
            "Misc check for [{}] by [{}] failed.",
            crate::lvs::RsName(cfg, usize::from(ck.rs)),
            cfg.strings.get(m.path)
        );
    } else if retry > 0 {
        log::info!(
            "{} on service {trio} failed after {retry} retries.",
            label(ck)
        );
    } else {
        log::info!("{} on service {trio} failed.", label(ck));
    }
}
