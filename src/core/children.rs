//! The child supervision table: every child process the core has asked for,
//! from its spawn request to its exit.
//!
//! Life of a child (one slot):
//!
//! ```text
//!  request ──(slot free)──▶ Requested ──started──▶ Running ──timeout──▶ Terminating ──grace──▶ Killed ──▶ (abandoned)
//!     │                        │  report deadline     │ SIGTERM sent       │ SIGKILL sent        │ after ABANDON_AFTER
//!     └─(table full)─▶ queue   └─spawn failed─▶ free  └──────── exit (any state) ─▶ free, recorded ┘
//! ```
//!
//! Each slot keeps one deadline; [`ChildTable::poll_at`] is the earliest.
//! When a slot frees, the oldest queued request takes it. When the queue is
//! full too the request is dropped and counted (`spawn_queue_full`).

use heapless::{Deque, Vec};

use super::{ArgvBuf, ChildEvent, ChildOutcome, ChildRecord, ChildRole, ChildStatus, Out, RunAs};
use crate::action::{Action, ChildId, KillSignal};
use crate::limits::CHILDREN;
use crate::time::{Duration, Instant, earliest};

/// How long a child may ignore `SIGTERM` before it gets `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long after `SIGKILL` the slot waits for the exit before giving the
/// slot up (a process stuck in the kernel); its exit is then an unknown pid.
pub const ABANDON_AFTER: Duration = Duration::from_secs(5);
/// How long the binary may take to report a spawn (it does so in the same
/// turn; this only guards against a lost report).
pub const SPAWN_REPORT_WITHIN: Duration = Duration::from_secs(5);
/// Requests that may wait for a free slot.
pub const QUEUED: usize = CHILDREN;
/// Starts and ends of requested runs not yet taken (two per run, for every
/// slot and every queued request).
pub const CHILD_EVENTS: usize = 2 * (CHILDREN + QUEUED);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// `Action::Spawn` issued; waiting for the binary's report.
    Requested,
    /// Running; `deadline` is its timeout.
    Running(i32),
    /// `SIGTERM` sent at the timeout; `deadline` is when `SIGKILL` goes.
    Terminating(i32),
    /// `SIGKILL` sent; `deadline` is when the slot is given up.
    Killed(i32),
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    id: ChildId,
    role: ChildRole,
    timeout: Duration,
    state: State,
    deadline: Instant,
    timed_out: bool,
}

impl Slot {
    fn pid(&self) -> Option<i32> {
        match self.state {
            State::Requested => None,
            State::Running(p) | State::Terminating(p) | State::Killed(p) => Some(p),
        }
    }
}

/// What one run is: everything but its arguments.
#[derive(Clone, Copy, Debug)]
struct Run {
    id: ChildId,
    role: ChildRole,
    timeout: Duration,
    user: RunAs,
}

#[derive(Clone, Debug)]
struct Queued {
    run: Run,
    argv: ArgvBuf,
}

/// The table of children (`limits::CHILDREN` slots) and the queue of
/// requests waiting for a slot.
#[derive(Debug)]
pub struct ChildTable {
    slots: Vec<Slot, CHILDREN>,
    queue: Deque<Queued, QUEUED>,
    next_id: u32,
    last: Option<ChildRecord>,
    events: Deque<ChildEvent, CHILD_EVENTS>,
    events_dropped: u32,
}

impl Default for ChildTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ChildTable {
    /// Rewrites the role of every child alive, queued or reported with
    /// `f` (a reload renumbers the scripts they run for).
    pub fn remap_roles(&mut self, f: &dyn Fn(ChildRole) -> ChildRole) {
        for s in self.slots.iter_mut() {
            s.role = f(s.role);
        }
        for q in self.queue.iter_mut() {
            q.run.role = f(q.run.role);
        }
        for e in self.events.iter_mut() {
            match e {
                ChildEvent::Started { role, .. } => *role = f(*role),
                ChildEvent::Ended(rec) => rec.role = f(rec.role),
            }
        }
    }

    /// No children.
    pub const fn new() -> Self {
        ChildTable {
            slots: Vec::new(),
            queue: Deque::new(),
            next_id: 1,
            last: None,
            events: Deque::new(),
            events_dropped: 0,
        }
    }

    /// Children with a slot (requested, running or being killed).
    pub fn active(&self) -> usize {
        self.slots.len()
    }

    /// Requests waiting for a slot.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// No child in the table and none queued.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.queue.is_empty()
    }

    /// Whether a process may exist for which an exit is expected.
    pub fn has_processes(&self) -> bool {
        self.slots.iter().any(|s| s.pid().is_some())
    }

    /// Whether the child `id` still has a slot or waits in the queue.
    pub fn contains(&self, id: ChildId) -> bool {
        self.slots.iter().any(|s| s.id == id) || self.queue.iter().any(|q| q.run.id == id)
    }

    /// The pid of a running child `id`.
    pub fn pid_of(&self, id: ChildId) -> Option<i32> {
        self.slots.iter().find(|s| s.id == id).and_then(Slot::pid)
    }

    /// The last child that ended, how and when.
    pub fn last_exit(&self) -> Option<&ChildRecord> {
        self.last.as_ref()
    }

    /// The next start or end of a requested run ([`ChildRole::is_requested`]).
    pub fn pop_event(&mut self) -> Option<ChildEvent> {
        self.events.pop_front()
    }

    /// Events dropped because they were not taken.
    pub fn events_dropped(&self) -> u32 {
        self.events_dropped
    }

    fn event(&mut self, e: ChildEvent) {
        if self.events.push_back(e).is_err() {
            self.events_dropped += 1;
            log::error!("child event queue full, event dropped");
        }
    }

    /// The earliest deadline of any slot.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .fold(None, |acc, s| earliest(acc, Some(s.deadline)))
    }

    /// The slot deadline furthest past at `now` (a timeout, a `SIGKILL` or
    /// a give-up not acted on): its role, pid (0 before the spawn report)
    /// and how late it is. `None` when none is due. After
    /// [`ChildTable::handle_timeout`] none is; one that stays due means the
    /// table is not being run (the watchdog's health gate asks).
    pub fn overdue(&self, now: Instant) -> Option<(ChildRole, i32, Duration)> {
        self.slots
            .iter()
            .filter(|s| s.deadline <= now)
            .min_by_key(|s| s.deadline)
            .map(|s| (s.role, s.pid().unwrap_or(0), now - s.deadline))
    }

    /// Asks for `argv` to run for at most `timeout`. Returns its id, or
    /// `None` when the table and its queue are full (counted).
    pub fn request(
        &mut self,
        now: Instant,
        role: ChildRole,
        argv: &ArgvBuf,
        timeout: Duration,
        out: &mut Out<'_>,
    ) -> Option<ChildId> {
        self.request_as(now, role, argv, timeout, RunAs::DEFAULT, out)
    }

    /// [`ChildTable::request`], run as `user`.
    pub fn request_as(
        &mut self,
        now: Instant,
        role: ChildRole,
        argv: &ArgvBuf,
        timeout: Duration,
        user: RunAs,
        out: &mut Out<'_>,
    ) -> Option<ChildId> {
        out.stats.spawn_requests += 1;
        let id = ChildId(self.next_id);
        let run = Run {
            id,
            role,
            timeout,
            user,
        };
        if self.slots.is_full() {
            let q = Queued {
                run,
                argv: argv.clone(),
            };
            if self.queue.push_back(q).is_err() {
                out.stats.spawn_queue_full += 1;
                log::warn!(
                    "{role}: child table and its queue are full, not run (limit `children`)"
                );
                return None;
            }
            out.stats.spawn_queued += 1;
            log::debug!("{role}: child table full, queued");
        } else {
            self.issue(now, run, argv, out);
        }
        self.next_id = self.next_id.wrapping_add(1).max(1);
        Some(id)
    }

    fn issue(&mut self, now: Instant, run: Run, argv: &ArgvBuf, out: &mut Out<'_>) {
        let Run {
            id,
            role,
            timeout,
            user,
        } = run;
        let slot = Slot {
            id,
            role,
            timeout,
            state: State::Requested,
            deadline: now + SPAWN_REPORT_WITHIN,
            timed_out: false,
        };
        if self.slots.push(slot).is_err() {
            // Callers check for room first; count rather than panic.
            out.stats.spawn_queue_full += 1;
            return;
        }
        out.push(Action::Spawn {
            child: id,
            argv: argv.clone(),
            timeout,
            user,
        });
    }

    /// Moves queued requests into free slots, oldest first.
    fn refill(&mut self, now: Instant, out: &mut Out<'_>) {
        while !self.slots.is_full() {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            self.issue(now, q.run, &q.argv, out);
        }
    }

    fn finish(&mut self, i: usize, now: Instant, pid: i32, outcome: ChildOutcome) -> ChildRecord {
        let s = self.slots.swap_remove(i);
        let rec = ChildRecord {
            child: s.id,
            role: s.role,
            pid,
            outcome,
            timed_out: s.timed_out,
            at: now,
        };
        self.last = Some(rec);
        if rec.role.is_requested() {
            self.event(ChildEvent::Ended(rec));
        }
        rec
    }

    /// The binary started child `id` as `pid`. Returns its role, or `None`
    /// for an unknown id (counted).
    pub fn started(
        &mut self,
        now: Instant,
        id: ChildId,
        pid: i32,
        out: &mut Out<'_>,
    ) -> Option<ChildRole> {
        let Some(s) = self
            .slots
            .iter_mut()
            .find(|s| s.id == id && s.state == State::Requested)
        else {
            out.stats.unknown_child_id += 1;
            log::warn!("child {} (pid {pid}) started but not requested", id.0);
            return None;
        };
        out.stats.children_started += 1;
        s.state = State::Running(pid);
        s.deadline = now + s.timeout;
        let role = s.role;
        if role.is_routine() {
            log::debug!("{role}: started, pid {pid}");
        } else {
            log::info!("{role}: started, pid {pid}");
        }
        if role.is_requested() {
            self.event(ChildEvent::Started { child: id, role });
        }
        Some(role)
    }

    /// The binary could not start child `id` (`errno`). Frees its slot.
    pub fn spawn_failed(
        &mut self,
        now: Instant,
        id: ChildId,
        errno: i32,
        out: &mut Out<'_>,
    ) -> Option<ChildRecord> {
        let Some(i) = self
            .slots
            .iter()
            .position(|s| s.id == id && s.state == State::Requested)
        else {
            out.stats.unknown_child_id += 1;
            return None;
        };
        out.stats.spawn_failed += 1;
        let rec = self.finish(i, now, 0, ChildOutcome::SpawnFailed(errno));
        log::warn!("{}: cannot start (errno {errno})", rec.role);
        self.refill(now, out);
        Some(rec)
    }

    /// Child `pid` ended with `status`. Frees its slot; `None` for a pid the
    /// table does not know (counted).
    pub fn exited(
        &mut self,
        now: Instant,
        pid: i32,
        status: ChildStatus,
        out: &mut Out<'_>,
    ) -> Option<ChildRecord> {
        let Some(i) = self.slots.iter().position(|s| s.pid() == Some(pid)) else {
            out.stats.unknown_child_exit += 1;
            log::debug!("exit of unknown child pid {pid} ({status})");
            return None;
        };
        out.stats.children_exited += 1;
        if status == ChildStatus::Exited(127) {
            out.stats.exec_failed += 1;
        }
        let rec = self.finish(i, now, pid, ChildOutcome::Ended(status));
        if rec.role.is_routine() {
            log::debug!("{}: pid {pid} {status}", rec.role);
        } else if status == ChildStatus::Exited(0) {
            log::info!("{}: pid {pid} {status}", rec.role);
        } else {
            log::warn!("{}: pid {pid} {status}", rec.role);
        }
        self.refill(now, out);
        Some(rec)
    }

    /// Runs every slot's due deadline: timeout → `SIGTERM`, grace →
    /// `SIGKILL`, long after → slot given up (recorded as the last exit).
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Out<'_>) {
        let mut i = 0;
        while i < self.slots.len() {
            let s = &mut self.slots[i];
            if s.deadline > now {
                i += 1;
                continue;
            }
            match s.state {
                State::Requested => {
                    out.stats.spawn_failed += 1;
                    log::warn!("{}: spawn never reported, slot freed", s.role);
                    self.finish(i, now, 0, ChildOutcome::SpawnFailed(0));
                    continue;
                }
                State::Running(pid) => {
                    out.stats.child_timeouts += 1;
                    log::warn!(
                        "{}: pid {pid} timed out after {} ms, sending SIGTERM",
                        s.role,
                        s.timeout.total_millis()
                    );
                    s.state = State::Terminating(pid);
                    s.deadline = now + KILL_GRACE;
                    s.timed_out = true;
                    out.push(Action::Kill {
                        pid,
                        signal: KillSignal::Term,
                    });
                }
                State::Terminating(pid) => {
                    out.stats.child_kills += 1;
                    log::warn!("{}: pid {pid} ignored SIGTERM, sending SIGKILL", s.role);
                    s.state = State::Killed(pid);
                    s.deadline = now + ABANDON_AFTER;
                    out.push(Action::Kill {
                        pid,
                        signal: KillSignal::Kill,
                    });
                }
                State::Killed(pid) => {
                    out.stats.child_abandoned += 1;
                    log::error!("{}: pid {pid} not reaped after SIGKILL, giving up", s.role);
                    self.finish(i, now, pid, ChildOutcome::Abandoned);
                    continue;
                }
            }
            i += 1;
        }
        self.refill(now, out);
    }

    /// Stopping: drops queued requests and sends `SIGTERM` now to every
    /// running child (`SIGKILL` follows after [`KILL_GRACE`]). Notify
    /// scripts (queued or running) are left to run: they end within their
    /// own timeout.
    pub fn terminate_all(&mut self, now: Instant, out: &mut Out<'_>) {
        for _ in 0..self.queue.len() {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            if q.run.role.runs_to_end() {
                // Room: it was just taken out.
                let _ = self.queue.push_back(q);
            } else {
                log::info!("{}: stopping, queued run cancelled", q.run.role);
            }
        }
        for i in 0..self.slots.len() {
            if self.slots.get(i).is_some_and(|s| !s.role.runs_to_end()) {
                self.terminate(i, now, out);
            }
        }
    }

    /// Sends `SIGTERM` now to child `id` if it runs.
    pub fn terminate_id(&mut self, id: ChildId, now: Instant, out: &mut Out<'_>) {
        if let Some(i) = self.slots.iter().position(|s| s.id == id) {
            self.terminate(i, now, out);
        }
    }

    fn terminate(&mut self, i: usize, now: Instant, out: &mut Out<'_>) {
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        if let State::Running(pid) = s.state {
            log::info!("{}: stopping, sending SIGTERM to pid {pid}", s.role);
            s.state = State::Terminating(pid);
            s.deadline = now + KILL_GRACE;
            out.push(Action::Kill {
                pid,
                signal: KillSignal::Term,
            });
        }
    }
}
