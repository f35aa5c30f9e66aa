//! The daemon core: the machines one loop turn drives, sans-IO.
//!
//! [`Core`] takes inputs as values — [`Core::handle_timeout`],
//! [`Core::handle_signal`], [`Core::handle_child_started`],
//! [`Core::handle_spawn_failed`], [`Core::handle_child_exit`], each with the
//! `now` the loop read once for the turn — and answers with [`Action`]s that
//! the loop drains with [`Core::poll_action`]. It never reads a clock, so
//! tests drive it on a fake one.
//!
//! Timers are deadlines, not objects (quinn-proto's timer table, smoltcp's
//! `poll_at`): each machine keeps `Option<Instant>`s and exposes `poll_at()`;
//! [`Core::poll_at`] is the earliest, and the loop sleeps until then.
//!
//! Machines so far:
//!
//! - the **child table** ([`children`]): spawn, timeout (`SIGTERM`, then
//!   `SIGKILL` after [`children::KILL_GRACE`]), reap, queue when full;
//! - **housekeeping**: a periodic tick ([`HOUSEKEEPING_PERIOD`] by default)
//!   that asks for a reap while children live (a lost `SIGCHLD` costs at most
//!   one period); it wakes the loop only while children live;
//! - the **life cycle** ([`Phase`]): `startup_script` once at start;
//!   on stop, running children are terminated (notify scripts are left to
//!   end, within [`NOTIFY_TIMEOUT`]), then `shutdown_script` runs
//!   (keepalived runs it last), then [`Action::Shutdown`].
//!
//! Every input the core ignores bumps a counter in [`Stats`].

pub mod argv;
pub mod children;

use core::fmt;

pub use argv::{ARGV_BYTES, ArgvBuf, ArgvError, split_command};
pub use children::{CHILD_EVENTS, ChildTable};

use crate::action::{Action, ActionQueue, ChildId};
use crate::stats::Stats;
use crate::time::{Duration, Instant, earliest, is_due};

/// Default housekeeping period.
pub const HOUSEKEEPING_PERIOD: Duration = Duration::from_secs(1);
/// keepalived's default `startup_script_timeout` / `shutdown_script_timeout`.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a notify script may run before it is killed (a hung script must
/// not hold a child slot for ever).
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);
/// Slack added to the longest possible child life when bounding the stop.
const STOP_SLACK: Duration = Duration::from_secs(1);

/// A signal, as the core understands it (the binary maps numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `SIGHUP`: reload the configuration.
    Reload,
    /// `SIGTERM`, `SIGINT`: stop.
    Stop,
    /// `SIGUSR1`: dump state (keepalived's DATA).
    DumpData,
    /// `SIGUSR2`: dump counters (keepalived's STATS).
    DumpStats,
    /// `SIGRTMIN+2`: dump state as JSON (keepalived's JSON).
    DumpJson,
    /// `SIGRTMAX-1`: dump counters, then zero the VRRP ones (keepalived's
    /// STATS_CLEAR).
    DumpStatsClear,
    /// `SIGCHLD`: some child changed state.
    Child,
}

/// How a child process ended, from `waitpid(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildStatus {
    /// It called `exit` with this code.
    Exited(i32),
    /// A signal with this number killed it.
    Signaled(i32),
}

impl fmt::Display for ChildStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildStatus::Exited(c) => write!(f, "exited with status {c}"),
            ChildStatus::Signaled(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// What a child is for. The core's own scripts, and runs it makes on behalf
/// of another machine ([`Core::request_child`]), whose starts and ends come
/// back as [`ChildEvent`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildRole {
    /// `global_defs { startup_script }`.
    StartupScript,
    /// `global_defs { shutdown_script }`.
    ShutdownScript,
    /// A run of `vrrp_script` number `n` (index in `vrrp.scripts`).
    VrrpScript(u16),
    /// A notify script of a VRRP transition.
    Notify,
    /// A run of `MISC_CHECK` number `n` (index in `lvs.checkers`).
    MiscCheck(u16),
    /// A real server's `notify_up`/`notify_down` or a virtual server's
    /// `quorum_up`/`quorum_down`.
    LvsNotify,
}

impl ChildRole {
    /// Whether the core runs it on behalf of another machine (its start and
    /// end are reported as [`ChildEvent`]s).
    pub fn is_requested(self) -> bool {
        matches!(
            self,
            ChildRole::VrrpScript(_)
                | ChildRole::Notify
                | ChildRole::MiscCheck(_)
                | ChildRole::LvsNotify
        )
    }

    /// Whether it is a notification, left to finish when picket stops
    /// (within its own timeout) rather than terminated.
    pub fn runs_to_end(self) -> bool {
        matches!(self, ChildRole::Notify | ChildRole::LvsNotify)
    }

    /// Whether its routine starts and ends are logged at debug level only
    /// (a tracking script runs every `interval`).
    pub fn is_routine(self) -> bool {
        matches!(self, ChildRole::VrrpScript(_) | ChildRole::MiscCheck(_))
    }
}

/// Who a child runs as: an index into the binary's table of script users,
/// resolved at start-up (`script_user`, a script's own `user USER
/// [GROUP]`). [`RunAs::DEFAULT`] is the default script user. The core only
/// carries it to [`Action::Spawn`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RunAs(pub u8);

impl RunAs {
    /// The default script user (`script_user`, else `keepalived_script` if
    /// it exists, else picket's own user).
    pub const DEFAULT: RunAs = RunAs(0);
}

/// The start or end of a child run asked for with [`Core::request_child`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    /// It started (its timeout counts from now).
    Started {
        /// Which run.
        child: ChildId,
        /// What it is for.
        role: ChildRole,
    },
    /// It ended (or never ran).
    Ended(ChildRecord),
}

impl fmt::Display for ChildRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChildRole::StartupScript => "startup_script",
            ChildRole::ShutdownScript => "shutdown_script",
            ChildRole::VrrpScript(_) => "vrrp_script",
            ChildRole::Notify => "notify",
            ChildRole::MiscCheck(_) => "MISC_CHECK",
            ChildRole::LvsNotify => "notify (LVS)",
        })
    }
}

/// How a child's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildOutcome {
    /// It ran and ended.
    Ended(ChildStatus),
    /// It never ran (`errno`; 0 when the binary never reported).
    SpawnFailed(i32),
    /// It was sent `SIGKILL` and never reaped; its slot was given up.
    Abandoned,
}

/// The record of one child run that ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildRecord {
    /// Which run.
    pub child: ChildId,
    /// What it was for.
    pub role: ChildRole,
    /// Its pid (0 if it never ran).
    pub pid: i32,
    /// How it ended.
    pub outcome: ChildOutcome,
    /// Whether it ran past its timeout (and was signalled).
    pub timed_out: bool,
    /// When the end was seen.
    pub at: Instant,
}

/// Where the core is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Built, [`Core::start`] not called yet.
    Idle,
    /// Running.
    Running,
    /// A stop was asked for; children are being stopped, then the
    /// shutdown script runs.
    Stopping,
    /// Done: [`Action::Shutdown`] was issued.
    Finished,
}

/// The settings the core runs from (wired from `global_defs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreSettings<'a> {
    /// Command line run once at start.
    pub startup_script: Option<&'a str>,
    /// How long it may run.
    pub startup_timeout: Duration,
    /// Who it runs as.
    pub startup_user: RunAs,
    /// Command line run at stop, after every other child has ended.
    pub shutdown_script: Option<&'a str>,
    /// How long it may run.
    pub shutdown_timeout: Duration,
    /// Who it runs as.
    pub shutdown_user: RunAs,
}

impl Default for CoreSettings<'_> {
    fn default() -> Self {
        CoreSettings {
            startup_script: None,
            startup_timeout: DEFAULT_SCRIPT_TIMEOUT,
            startup_user: RunAs::DEFAULT,
            shutdown_script: None,
            shutdown_timeout: DEFAULT_SCRIPT_TIMEOUT,
            shutdown_user: RunAs::DEFAULT,
        }
    }
}

/// Why [`Core::new`] refused its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreError {
    /// `startup_script` cannot be split into arguments.
    StartupScript(ArgvError),
    /// `shutdown_script` cannot be split into arguments.
    ShutdownScript(ArgvError),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::StartupScript(e) => write!(f, "startup_script: {e}"),
            CoreError::ShutdownScript(e) => write!(f, "shutdown_script: {e}"),
        }
    }
}

/// Where actions go while an input is handled: the queue, and the counters
/// (for what had to be dropped).
pub struct Out<'a> {
    /// The action queue.
    pub actions: &'a mut ActionQueue,
    /// The counters.
    pub stats: &'a mut Stats,
}

impl Out<'_> {
    /// Queues an action; when the queue is full it is dropped and counted.
    pub fn push(&mut self, a: Action) {
        if self.actions.push_back(a).is_err() {
            self.stats.action_queue_full += 1;
            log::error!("action queue full, action dropped");
        }
    }
}

/// A periodic tick.
#[derive(Clone, Copy, Debug)]
struct Housekeeping {
    period: Duration,
    deadline: Option<Instant>,
    /// Wake the loop for every tick, children or not (set by
    /// [`Core::set_housekeeping_period`]); by default the tick wakes the loop
    /// only while children live, so an idle daemon sleeps between adverts.
    always: bool,
}

impl Housekeeping {
    /// Whether the tick is due at `now`; if so re-arms it one period later
    /// (from the deadline, or from `now` when late by more than a period).
    fn handle_timeout(&mut self, now: Instant) -> bool {
        let Some(d) = self.deadline else {
            return false;
        };
        if d > now {
            return false;
        }
        let next = d + self.period;
        self.deadline = Some(if next > now { next } else { now + self.period });
        true
    }
}

/// A script to run once, split at start-up.
#[derive(Clone, Debug)]
struct Script {
    argv: ArgvBuf,
    timeout: Duration,
    user: RunAs,
}

fn script(line: Option<&str>, timeout: Duration, user: RunAs) -> Result<Option<Script>, ArgvError> {
    let Some(line) = line else {
        return Ok(None);
    };
    let mut argv = ArgvBuf::new();
    split_command(line, &mut argv)?;
    Ok(Some(Script {
        argv,
        timeout,
        user,
    }))
}

/// The daemon core. See the module doc.
pub struct Core {
    phase: Phase,
    startup: Option<Script>,
    shutdown: Option<Script>,
    /// The shutdown script was requested (or there is none): once the table
    /// empties, the core is finished.
    shutdown_started: bool,
    stop_deadline: Option<Instant>,
    startup_child: Option<ChildId>,
    children: ChildTable,
    housekeeping: Housekeeping,
    actions: ActionQueue,
    stats: Stats,
}

impl Core {
    /// A core for `settings` (the script command lines are split and copied
    /// now). Call [`Core::start`] to run it.
    pub fn new(settings: &CoreSettings<'_>) -> Result<Self, CoreError> {
        let startup = script(
            settings.startup_script,
            settings.startup_timeout,
            settings.startup_user,
        )
        .map_err(CoreError::StartupScript)?;
        let shutdown = script(
            settings.shutdown_script,
            settings.shutdown_timeout,
            settings.shutdown_user,
        )
        .map_err(CoreError::ShutdownScript)?;
        Ok(Core {
            phase: Phase::Idle,
            startup,
            shutdown,
            shutdown_started: false,
            stop_deadline: None,
            startup_child: None,
            children: ChildTable::new(),
            housekeeping: Housekeeping {
                period: HOUSEKEEPING_PERIOD,
                deadline: None,
                always: false,
            },
            actions: ActionQueue::new(),
            stats: Stats::new(),
        })
    }

    /// Starts: arms housekeeping and requests the startup script.
    pub fn start(&mut self, now: Instant) {
        if self.phase != Phase::Idle {
            return;
        }
        self.phase = Phase::Running;
        self.housekeeping.deadline = Some(now + self.housekeeping.period);
        log::info!("picket core started");
        if let Some(s) = &self.startup {
            let mut out = Out {
                actions: &mut self.actions,
                stats: &mut self.stats,
            };
            self.startup_child = self.children.request_as(
                now,
                ChildRole::StartupScript,
                &s.argv,
                s.timeout,
                s.user,
                &mut out,
            );
        }
    }

    /// Sets the housekeeping period (tests use zero or a microsecond to make
    /// it fire every turn) and re-arms it from `now`.
    pub fn set_housekeeping_period(&mut self, now: Instant, period: Duration) {
        self.housekeeping.period = period;
        self.housekeeping.always = true;
        if self.housekeeping.deadline.is_some() {
            self.housekeeping.deadline = Some(now + period);
        }
    }

    /// Where the core is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the core has stopped and issued [`Action::Shutdown`].
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Whether the startup script has ended (or there is none).
    pub fn startup_done(&self) -> bool {
        self.startup_child
            .is_none_or(|id| !self.children.contains(id))
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The counters, for the binary's own drop paths (poll, signalfd, ...).
    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// Reload: rewrites the roles of the children alive or queued (see
    /// [`ChildTable::remap_roles`]).
    pub fn remap_children(&mut self, f: &dyn Fn(ChildRole) -> ChildRole) {
        self.children.remap_roles(f);
    }

    /// Reload: the new `shutdown_script` and its timeout (the startup
    /// script has run already).
    pub fn set_shutdown_script(
        &mut self,
        line: Option<&str>,
        timeout: Duration,
        user: RunAs,
    ) -> Result<(), CoreError> {
        self.shutdown = script(line, timeout, user).map_err(CoreError::ShutdownScript)?;
        Ok(())
    }

    /// The child table (read only).
    pub fn children(&self) -> &ChildTable {
        &self.children
    }

    /// The earliest deadline of every machine: the loop must call
    /// [`Core::handle_timeout`] at (or after) it. `None`: no deadline.
    pub fn poll_at(&self) -> Option<Instant> {
        if self.phase == Phase::Finished {
            return None;
        }
        // The tick only matters while children live (it catches a lost
        // SIGCHLD): otherwise it does not wake the loop.
        let tick = if self.housekeeping.always || self.children.has_processes() {
            self.housekeeping.deadline
        } else {
            None
        };
        let t = earliest(tick, self.children.poll_at());
        earliest(t, self.stop_deadline)
    }

    /// The next action for the binary, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Asks for `argv` to run as `role` (one of [`ChildRole::is_requested`])
    /// for at most `timeout`, through the one child table (its limits, its
    /// queue, its kills). Its start and end come back from
    /// [`Core::poll_child_event`]. `None`: not run (the table and its queue
    /// are full, the core is not running, or `role` is the core's own);
    /// no event follows.
    pub fn request_child(
        &mut self,
        now: Instant,
        role: ChildRole,
        argv: &ArgvBuf,
        timeout: Duration,
    ) -> Option<ChildId> {
        self.request_child_as(now, role, argv, timeout, RunAs::DEFAULT)
    }

    /// [`Core::request_child`], run as `user`.
    pub fn request_child_as(
        &mut self,
        now: Instant,
        role: ChildRole,
        argv: &ArgvBuf,
        timeout: Duration,
        user: RunAs,
    ) -> Option<ChildId> {
        if self.phase != Phase::Running || !role.is_requested() {
            return None;
        }
        let mut out = Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        };
        self.children
            .request_as(now, role, argv, timeout, user, &mut out)
    }

    /// The next start or end of a run asked for with
    /// [`Core::request_child`], oldest first.
    pub fn poll_child_event(&mut self) -> Option<ChildEvent> {
        self.children.pop_event()
    }

    /// Runs every machine whose deadline is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Finished {
            return;
        }
        if self.housekeeping.handle_timeout(now) {
            self.stats.housekeeping_ticks += 1;
            // A lost SIGCHLD (or one taken by another thread) costs at most
            // one period.
            if self.children.has_processes() {
                self.push(Action::Reap);
            }
        }
        let mut out = Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        };
        self.children.handle_timeout(now, &mut out);
        if is_due(now, self.stop_deadline) {
            self.stats.stop_wait_expired += 1;
            log::error!(
                "stop: children still running after the wait, exiting anyway ({} left)",
                self.children.active()
            );
            self.finish();
            return;
        }
        self.advance_stop(now);
    }

    /// A signal arrived.
    pub fn handle_signal(&mut self, now: Instant, signal: Signal) {
        if self.phase == Phase::Finished {
            self.stats.signal_after_finish += 1;
            return;
        }
        match signal {
            // The binary reloads (the core keeps only the count): a reload
            // while stopping is not done.
            Signal::Reload => self.stats.reload_requests += 1,
            Signal::Stop => self.stop(now),
            Signal::DumpData => {
                self.stats.dump_data += 1;
                log::info!(
                    "SIGUSR1: state {:?}, children {} active, {} queued, startup {}",
                    self.phase,
                    self.children.active(),
                    self.children.queued(),
                    if self.startup_done() {
                        "done"
                    } else {
                        "running"
                    },
                );
            }
            Signal::DumpStats | Signal::DumpStatsClear => {
                self.stats.dump_stats += 1;
                log::info!("SIGUSR2: stats: {}", self.stats);
            }
            Signal::DumpJson => self.stats.dump_json += 1,
            Signal::Child => self.push(Action::Reap),
        }
    }

    /// The binary started child `id` as process `pid`.
    pub fn handle_child_started(&mut self, now: Instant, id: ChildId, pid: i32) {
        let mut out = Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        };
        let role = self.children.started(now, id, pid, &mut out);
        // A child started after the stop began (other than the shutdown
        // script and notify scripts, `notify_stop` among them) is stopped at
        // once.
        if self.phase == Phase::Stopping
            && role.is_some_and(|r| r != ChildRole::ShutdownScript && !r.runs_to_end())
        {
            self.children.terminate_id(id, now, &mut out);
        }
    }

    /// The binary could not start child `id`; `errno` says why.
    pub fn handle_spawn_failed(&mut self, now: Instant, id: ChildId, errno: i32) {
        let mut out = Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        };
        self.children.spawn_failed(now, id, errno, &mut out);
        self.advance_stop(now);
    }

    /// Child process `pid` ended with `status` (from `waitpid`).
    pub fn handle_child_exit(&mut self, now: Instant, pid: i32, status: ChildStatus) {
        let mut out = Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        };
        self.children.exited(now, pid, status, &mut out);
        self.advance_stop(now);
    }

    fn push(&mut self, a: Action) {
        Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        }
        .push(a);
    }

    fn stop(&mut self, now: Instant) {
        if self.phase == Phase::Stopping {
            self.stats.stop_repeated += 1;
            log::info!("already stopping");
            return;
        }
        log::info!("stopping");
        self.phase = Phase::Stopping;
        let shutdown = self.shutdown.as_ref().map_or(Duration::ZERO, |s| s.timeout);
        // Every child ends within timeout + grace + abandon; this is the
        // safety net above that.
        let longest = children::KILL_GRACE + children::ABANDON_AFTER + STOP_SLACK;
        self.stop_deadline = Some(now + longest + longest + NOTIFY_TIMEOUT + shutdown);
        let mut out = Out {
            actions: &mut self.actions,
            stats: &mut self.stats,
        };
        self.children.terminate_all(now, &mut out);
        self.advance_stop(now);
    }

    /// Stopping: once no other child is left, runs the shutdown script; once
    /// that has ended too, finishes.
    fn advance_stop(&mut self, now: Instant) {
        if self.phase != Phase::Stopping || !self.children.is_empty() {
            return;
        }
        if !self.shutdown_started {
            self.shutdown_started = true;
            if let Some(s) = &self.shutdown {
                let mut out = Out {
                    actions: &mut self.actions,
                    stats: &mut self.stats,
                };
                if self
                    .children
                    .request_as(
                        now,
                        ChildRole::ShutdownScript,
                        &s.argv,
                        s.timeout,
                        s.user,
                        &mut out,
                    )
                    .is_some()
                {
                    return;
                }
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.phase = Phase::Finished;
        self.stop_deadline = None;
        self.housekeeping.deadline = None;
        log::info!("stopped");
        self.push(Action::Shutdown);
    }
}

#[cfg(test)]
mod tests;
