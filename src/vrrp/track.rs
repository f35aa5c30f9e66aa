//! Tracking, sans-IO: `vrrp_script` runs, tracked link states, and the
//! effective priority of an instance (reference §b.3, §b.6 "Tracking",
//! §c item 13).
//!
//! Three pieces, each usable alone:
//!
//! - [`ScriptTracker`]: one per `vrrp_script`. It asks for a run at start and
//!   then every `interval` ([`TrackAction::Run`]); at most one run is alive
//!   at a time (a run still going when the next is due is not doubled, the
//!   skipped run is counted). The caller reports each run's end with
//!   [`ScriptTracker::handle_exit`]. A run still alive `timeout` after it
//!   started counts as a failure at once (the caller's child table kills it;
//!   its late exit is then ignored). `rise` consecutive successes make a
//!   failed script OK, `fall` consecutive failures make an OK script failed;
//!   before its first result a script is [`ScriptState::Init`] (keepalived's
//!   `SCRIPT_INIT_STATE_INIT`: the first result decides at once), or
//!   [`ScriptState::Failed`] with `init_fail`. [`ScriptTable`] keeps one per
//!   configured script with its argv, and an action queue.
//! - [`LinkTable`]: tracked interfaces, up or down, as the caller learns them
//!   from rtnetlink. An interface never reported counts as down.
//! - [`FileTable`]: the value of each `vrrp_track_file`, as the caller reads
//!   it ([`parse_file_value`]) when inotify says the file changed.
//! - [`effective`]: base priority ± the weights of one instance's trackers,
//!   by keepalived's rules (`vrrp_track.c`), giving an [`Effective`];
//!   [`InstanceTracking`] resolves an instance's `track_script` /
//!   `track_interface` names once and computes it from the two tables.
//!
//! Weights (keepalived): a positive weight is added while the tracked object
//! is up/OK, a negative one is added while it is down/failed; `reverse`
//! negates the adjustment. Weight 0: the object being down/failed puts the
//! instance in FAULT (`reverse`: being up/OK does). The sum is clamped to
//! 1..=254; an owner (base 255) keeps 255 (but still goes to FAULT).
//!
//! Files (keepalived's `vrrp_track.c`): weight 0: a non-zero value means
//! FAULT. Otherwise value × weight (× -1 with `reverse`), clamped to
//! -254..253, is added; -254 means FAULT.

use heapless::{Deque, String, Vec};

use crate::config::strings::StringPool;
use crate::config::vrrp::{
    SyncGroup, TrackFile, TrackFileRef, TrackInterface, TrackScript, VrrpInstance, VrrpScript,
};
use crate::core::{ArgvBuf, ArgvError, ChildStatus, split_command};
use crate::limits::{
    IFNAME_BYTES, SYNC_GROUPS, TRACK_FILES, TRACKS_PER_INSTANCE, VRRP_INSTANCES, VRRP_SCRIPTS,
};
use crate::time::{Duration, Instant, earliest, is_due};

/// The address owner's priority: trackers cannot change it.
pub const OWNER_PRIORITY: u8 = 255;
/// The highest priority a tracked non-owner can reach.
pub const MAX_TRACKED_PRIORITY: u8 = 254;

/// Interfaces the [`LinkTable`] can hold: every instance's own interface and
/// every `track_interface` entry of every instance and sync group, all
/// distinct (the worst case a loaded configuration can reach).
pub const TRACKED_LINKS: usize =
    VRRP_INSTANCES * (TRACKS_PER_INSTANCE + 1) + SYNC_GROUPS * TRACKS_PER_INSTANCE;
/// Trackers of one instance: its own `track_interface`, `track_script` and
/// `track_file` entries, its sync group's, and its own interface.
pub const TRACKERS_PER_INSTANCE: usize = 6 * TRACKS_PER_INSTANCE + 1;
/// Actions [`ScriptTable`] can hold between two drains: each script emits at
/// most two per call.
pub const TRACK_ACTIONS: usize = 2 * VRRP_SCRIPTS;

/// A `vrrp_script`, by its index in the configuration's `vrrp.scripts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScriptId(pub u16);

/// What a script's results say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptState {
    /// No result yet: the script neither adds its weight nor puts anyone in
    /// FAULT — except weight 0, which holds the instance down until the
    /// first result (keepalived's `num_script_init`).
    Init,
    /// Passing.
    Ok,
    /// Failing.
    Failed,
}

/// How a run of a script ended, as the caller saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// It ended: exit status 0 is a success, anything else a failure.
    Exited(ChildStatus),
    /// It ran past its timeout (the child table killed it): a failure.
    TimedOut,
    /// It could not be run (spawn failed, or the slot was abandoned): a
    /// failure.
    NotRun,
}

impl RunOutcome {
    fn success(self) -> bool {
        matches!(self, RunOutcome::Exited(ChildStatus::Exited(0)))
    }
}

/// What a tracker asks of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackAction {
    /// Run the script now (argv: [`ScriptTable::argv`]), killing it after
    /// `timeout`; report the end with `handle_exit`.
    Run {
        /// Which script.
        script: ScriptId,
        /// How long it may run.
        timeout: Duration,
    },
    /// The script's state changed: recompute the effective priority of the
    /// instances that track it.
    Changed {
        /// Which script.
        script: ScriptId,
        /// Its state before.
        from: ScriptState,
        /// Its state now.
        to: ScriptState,
    },
}

/// Counters of one script, one per event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptStats {
    /// Runs asked for.
    pub runs: u32,
    /// Runs that succeeded.
    pub successes: u32,
    /// Runs that exited non-zero or were killed by a signal.
    pub failures: u32,
    /// Runs that ran past their timeout.
    pub timeouts: u32,
    /// Runs that could not be run.
    pub not_run: u32,
    /// Runs skipped because the previous one was still alive.
    pub overruns: u32,
    /// Changes to [`ScriptState::Ok`].
    pub became_ok: u32,
    /// Changes to [`ScriptState::Failed`].
    pub became_failed: u32,
    /// Exits reported after the timeout was already counted (ignored).
    pub late_exits: u32,
    /// Exits or starts reported while no run was alive (ignored).
    pub unexpected_reports: u32,
    /// Actions dropped because the caller did not drain the queue.
    pub actions_dropped: u32,
}

/// The parameters of a script tracker (from `vrrp_script`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptParams {
    /// Period between runs (at least 1 ms is enforced).
    pub interval: Duration,
    /// How long a run may take.
    pub timeout: Duration,
    /// Consecutive successes that make a failed script OK (at least 1).
    pub rise: u32,
    /// Consecutive failures that make an OK script failed (at least 1).
    pub fall: u32,
    /// Start as failed.
    pub init_fail: bool,
}

impl ScriptParams {
    /// The parameters of a configured script (`timeout` defaults to
    /// `interval`, as in keepalived).
    pub fn from_config(s: &VrrpScript) -> Self {
        ScriptParams {
            interval: s.interval,
            timeout: s.timeout.unwrap_or(s.interval),
            rise: s.rise,
            fall: s.fall,
            init_fail: s.init_fail,
        }
    }
}

/// The run in progress, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// None alive.
    Idle,
    /// Alive; a failure if not ended by the deadline.
    Running { deadline: Instant },
    /// Ran past its timeout (failure counted); waiting for its exit before
    /// another run may start.
    Overdue,
}

/// Tracks one `vrrp_script`. See the module doc.
#[derive(Clone, Debug)]
pub struct ScriptTracker {
    id: ScriptId,
    params: ScriptParams,
    state: ScriptState,
    /// Consecutive results against the current state.
    streak: u32,
    run: Run,
    next_run: Option<Instant>,
    stats: ScriptStats,
}

impl ScriptTracker {
    /// A tracker, not started.
    pub fn new(id: ScriptId, params: ScriptParams) -> Self {
        let params = ScriptParams {
            interval: params.interval.max(Duration::from_millis(1)),
            rise: params.rise.max(1),
            fall: params.fall.max(1),
            ..params
        };
        ScriptTracker {
            id,
            params,
            state: if params.init_fail {
                ScriptState::Failed
            } else {
                ScriptState::Init
            },
            streak: 0,
            run: Run::Idle,
            next_run: None,
            stats: ScriptStats::default(),
        }
    }

    /// Which script.
    pub fn id(&self) -> ScriptId {
        self.id
    }

    /// Its state.
    pub fn state(&self) -> ScriptState {
        self.state
    }

    /// Its counters.
    pub fn stats(&self) -> &ScriptStats {
        &self.stats
    }

    /// Whether a run is alive (asked for and not reported ended).
    pub fn is_running(&self) -> bool {
        self.run != Run::Idle
    }

    /// Starts: the first run is due at `now`.
    pub fn start(&mut self, now: Instant) {
        if self.next_run.is_none() {
            self.next_run = Some(now);
        }
    }

    /// Stops scheduling runs (a run alive stays tracked until it ends).
    pub fn stop(&mut self) {
        self.next_run = None;
    }

    /// The earliest deadline: the next run, or the timeout of the run alive.
    pub fn poll_at(&self) -> Option<Instant> {
        let run = match self.run {
            Run::Running { deadline } => Some(deadline),
            Run::Idle | Run::Overdue => None,
        };
        earliest(self.next_run, run)
    }

    /// Handles the deadlines due at `now`, pushing actions to `out`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut dyn FnMut(TrackAction)) {
        if let Run::Running { deadline } = self.run
            && deadline <= now
        {
            // keepalived: a script past its timeout has failed.
            self.run = Run::Overdue;
            self.stats.timeouts += 1;
            self.result(false, out);
        }
        if !is_due(now, self.next_run) {
            return;
        }
        let due = self.next_run.unwrap_or(now);
        // Fixed period from the schedule; if the loop ran late by more than
        // a period, restart it from now rather than firing a burst.
        let next = due + self.params.interval;
        self.next_run = Some(if next > now {
            next
        } else {
            now + self.params.interval
        });
        if self.run != Run::Idle {
            // keepalived: "already running ... skipping run".
            self.stats.overruns += 1;
            return;
        }
        self.stats.runs += 1;
        self.run = Run::Running {
            deadline: now + self.params.timeout,
        };
        out(TrackAction::Run {
            script: self.id,
            timeout: self.params.timeout,
        });
    }

    /// The run really started at `now` (the child table may have queued it):
    /// its timeout counts from here.
    pub fn handle_started(&mut self, now: Instant) {
        match self.run {
            Run::Running { .. } => {
                self.run = Run::Running {
                    deadline: now + self.params.timeout,
                }
            }
            Run::Idle | Run::Overdue => self.stats.unexpected_reports += 1,
        }
    }

    /// The run alive ended with `outcome`.
    pub fn handle_exit(
        &mut self,
        _now: Instant,
        outcome: RunOutcome,
        out: &mut dyn FnMut(TrackAction),
    ) {
        match self.run {
            Run::Idle => {
                self.stats.unexpected_reports += 1;
                return;
            }
            Run::Overdue => {
                // The failure was counted at the timeout.
                self.run = Run::Idle;
                self.stats.late_exits += 1;
                return;
            }
            Run::Running { .. } => self.run = Run::Idle,
        }
        match outcome {
            RunOutcome::Exited(ChildStatus::Exited(0)) => self.stats.successes += 1,
            RunOutcome::Exited(_) => self.stats.failures += 1,
            RunOutcome::TimedOut => self.stats.timeouts += 1,
            RunOutcome::NotRun => self.stats.not_run += 1,
        }
        self.result(outcome.success(), out);
    }

    /// One result: the rise/fall counting (keepalived's `result` counter,
    /// kept here as a streak against the current state).
    fn result(&mut self, ok: bool, out: &mut dyn FnMut(TrackAction)) {
        let from = self.state;
        let to = match (self.state, ok) {
            // The first result decides at once.
            (ScriptState::Init, true) => ScriptState::Ok,
            (ScriptState::Init, false) => ScriptState::Failed,
            (ScriptState::Ok, true) | (ScriptState::Failed, false) => {
                self.streak = 0;
                return;
            }
            (ScriptState::Ok, false) => {
                self.streak += 1;
                if self.streak < self.params.fall {
                    return;
                }
                ScriptState::Failed
            }
            (ScriptState::Failed, true) => {
                self.streak += 1;
                if self.streak < self.params.rise {
                    return;
                }
                ScriptState::Ok
            }
        };
        self.streak = 0;
        self.state = to;
        match to {
            ScriptState::Ok => self.stats.became_ok += 1,
            ScriptState::Failed => self.stats.became_failed += 1,
            ScriptState::Init => {}
        }
        // The daemon logs the change with the script's name.
        out(TrackAction::Changed {
            script: self.id,
            from,
            to,
        });
    }
}

/// Why a [`ScriptTable`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptTableError {
    /// The script (index in `vrrp.scripts`).
    pub script: ScriptId,
    /// What is wrong with its command line.
    pub error: ArgvError,
}

/// Every used `vrrp_script`: its tracker and its argv, plus the queue of
/// [`TrackAction`]s (drain with [`ScriptTable::poll_action`] after each
/// input).
pub struct ScriptTable {
    scripts: Vec<(ScriptTracker, ArgvBuf), VRRP_SCRIPTS>,
    actions: Deque<TrackAction, TRACK_ACTIONS>,
    actions_dropped: u32,
}

impl ScriptTable {
    /// An empty table.
    pub const fn new() -> Self {
        ScriptTable {
            scripts: Vec::new(),
            actions: Deque::new(),
            actions_dropped: 0,
        }
    }

    /// The table for a configuration: one tracker per used script (ids are
    /// indices in `scripts`; unused scripts are never run, as in keepalived).
    pub fn from_config(
        scripts: &[VrrpScript],
        strings: &StringPool,
    ) -> Result<Self, ScriptTableError> {
        let mut t = ScriptTable::new();
        t.load(scripts, strings)?;
        Ok(t)
    }

    /// Empties the table and fills it for a configuration in place, as
    /// [`ScriptTable::from_config`] (a reload's spare table).
    pub fn load(
        &mut self,
        scripts: &[VrrpScript],
        strings: &StringPool,
    ) -> Result<(), ScriptTableError> {
        self.scripts.clear();
        self.actions.clear();
        let t = self;
        for (i, s) in scripts.iter().enumerate() {
            let id = ScriptId(u16::try_from(i).unwrap_or(u16::MAX));
            let mut argv = ArgvBuf::new();
            if s.used {
                split_command(strings.get(s.script.command), &mut argv)
                    .map_err(|error| ScriptTableError { script: id, error })?;
            }
            // Capacity: `scripts` holds at most VRRP_SCRIPTS. An unused
            // script keeps an empty argv, so `start` leaves it idle.
            let _ = t.push(ScriptParams::from_config(s), argv);
        }
        Ok(())
    }

    /// Reload: script `to` of this table carries on the runs and results
    /// of `old`'s script `from` (the same script, unchanged): its state,
    /// streak, counters, the run alive and the next run's time.
    pub fn adopt(&mut self, to: ScriptId, old: &ScriptTable, from: ScriptId) {
        if let (Some((t, argv)), Some((o, old_argv))) = (
            self.scripts.get_mut(usize::from(to.0)),
            old.scripts.get(usize::from(from.0)),
        ) && argv == old_argv
        {
            let (id, params) = (t.id, t.params);
            *t = o.clone();
            t.id = id;
            t.params = params;
        }
    }

    /// Adds a script with its argv; its id is its position. `false` when
    /// the table is full.
    pub fn push(&mut self, params: ScriptParams, argv: ArgvBuf) -> bool {
        let id = ScriptId(u16::try_from(self.scripts.len()).unwrap_or(u16::MAX));
        self.scripts
            .push((ScriptTracker::new(id, params), argv))
            .is_ok()
    }

    /// The tracker of `id`.
    pub fn get(&self, id: ScriptId) -> Option<&ScriptTracker> {
        self.scripts.get(usize::from(id.0)).map(|(t, _)| t)
    }

    /// The state of `id` (`Init` for an unknown id).
    pub fn state(&self, id: ScriptId) -> ScriptState {
        self.get(id).map_or(ScriptState::Init, ScriptTracker::state)
    }

    /// The argv to run for `id`.
    pub fn argv(&self, id: ScriptId) -> Option<&ArgvBuf> {
        self.scripts.get(usize::from(id.0)).map(|(_, a)| a)
    }

    /// Number of scripts.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Actions dropped because the queue was not drained.
    pub fn actions_dropped(&self) -> u32 {
        self.actions_dropped
    }

    /// Starts every script whose argv is set (used scripts).
    pub fn start(&mut self, now: Instant) {
        for (t, a) in self.scripts.iter_mut() {
            if !a.is_empty() {
                t.start(now);
            }
        }
    }

    /// The earliest deadline of all scripts.
    pub fn poll_at(&self) -> Option<Instant> {
        self.scripts
            .iter()
            .fold(None, |acc, (t, _)| earliest(acc, t.poll_at()))
    }

    /// Handles every deadline due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let ScriptTable {
            scripts,
            actions,
            actions_dropped,
        } = self;
        for (t, _) in scripts.iter_mut() {
            t.handle_timeout(now, &mut |a| push(actions, actions_dropped, a));
        }
    }

    /// Run `id` really started at `now`.
    pub fn handle_started(&mut self, now: Instant, id: ScriptId) {
        if let Some((t, _)) = self.scripts.get_mut(usize::from(id.0)) {
            t.handle_started(now);
        }
    }

    /// Run `id` ended with `outcome`.
    pub fn handle_exit(&mut self, now: Instant, id: ScriptId, outcome: RunOutcome) {
        let ScriptTable {
            scripts,
            actions,
            actions_dropped,
        } = self;
        if let Some((t, _)) = scripts.get_mut(usize::from(id.0)) {
            t.handle_exit(now, outcome, &mut |a| push(actions, actions_dropped, a));
        }
    }

    /// The next action, oldest first.
    pub fn poll_action(&mut self) -> Option<TrackAction> {
        self.actions.pop_front()
    }
}

impl Default for ScriptTable {
    fn default() -> Self {
        Self::new()
    }
}

fn push(q: &mut Deque<TrackAction, TRACK_ACTIONS>, dropped: &mut u32, a: TrackAction) {
    if q.push_back(a).is_err() {
        *dropped += 1;
        log::error!("tracking action queue full, action dropped");
    }
}

/// A tracked interface, by its index in the [`LinkTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u16);

/// The [`LinkTable`] is full (sized by [`TRACKED_LINKS`], so a loaded
/// configuration cannot fill it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinksFull;

/// Tracked interfaces and whether each is up, as rtnetlink reports them.
/// An interface not reported yet is down.
pub struct LinkTable {
    links: Vec<(String<IFNAME_BYTES>, bool), TRACKED_LINKS>,
    /// Reports about interfaces nobody tracks.
    untracked_reports: u32,
}

impl LinkTable {
    /// An empty table.
    pub const fn new() -> Self {
        LinkTable {
            links: Vec::new(),
            untracked_reports: 0,
        }
    }

    /// Tracks `name` (once; later calls return the same id).
    pub fn track(&mut self, name: &str) -> Result<LinkId, LinksFull> {
        if let Some(id) = self.find(name) {
            return Ok(id);
        }
        let mut n = String::new();
        n.push_str(name).map_err(|_| LinksFull)?;
        let id = LinkId(u16::try_from(self.links.len()).map_err(|_| LinksFull)?);
        self.links.push((n, false)).map_err(|_| LinksFull)?;
        Ok(id)
    }

    /// The id of a tracked interface.
    pub fn find(&self, name: &str) -> Option<LinkId> {
        self.links
            .iter()
            .position(|(n, _)| n.as_str() == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(LinkId)
    }

    /// The name of `id`.
    pub fn name(&self, id: LinkId) -> Option<&str> {
        self.links.get(usize::from(id.0)).map(|(n, _)| n.as_str())
    }

    /// Whether `id` is up.
    pub fn is_up(&self, id: LinkId) -> bool {
        self.links.get(usize::from(id.0)).is_some_and(|(_, up)| *up)
    }

    /// rtnetlink says `name` is up or down. Returns the link's id when its
    /// state changed (recompute the instances that track it), `None` when
    /// nothing changed or nobody tracks it (counted).
    pub fn handle_link(&mut self, name: &str, up: bool) -> Option<LinkId> {
        let Some(id) = self.find(name) else {
            self.untracked_reports += 1;
            return None;
        };
        let slot = self.links.get_mut(usize::from(id.0))?;
        if slot.1 == up {
            return None;
        }
        slot.1 = up;
        Some(id)
    }

    /// Reports about interfaces nobody tracks.
    pub fn untracked_reports(&self) -> u32 {
        self.untracked_reports
    }
}

impl Default for LinkTable {
    fn default() -> Self {
        Self::new()
    }
}

/// A `vrrp_track_file`, by its index in the configuration's
/// `vrrp.track_files`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u16);

/// Largest value of a tracked file, either sign (keepalived clamps to it).
pub const FILE_VALUE_MAX: i16 = 254;

/// The value of each `vrrp_track_file` (0 until set; ids are indices in the
/// configuration).
pub struct FileTable {
    values: Vec<i16, TRACK_FILES>,
}

impl FileTable {
    /// `count` files, all 0 (`count` is at most the configuration's table).
    pub fn new(count: usize) -> Self {
        let mut values = Vec::new();
        for _ in 0..count.min(TRACK_FILES) {
            // Capacity: bounded just above.
            let _ = values.push(0);
        }
        FileTable { values }
    }

    /// The value of `id` (0 for an unknown id).
    pub fn value(&self, id: FileId) -> i16 {
        self.values.get(usize::from(id.0)).copied().unwrap_or(0)
    }

    /// Sets the value of `id` (clamped to ±[`FILE_VALUE_MAX`]); whether it
    /// changed (recompute the instances that track it).
    pub fn set(&mut self, id: FileId, value: i64) -> bool {
        let v = value.clamp(-i64::from(FILE_VALUE_MAX), i64::from(FILE_VALUE_MAX)) as i16;
        match self.values.get_mut(usize::from(id.0)) {
            Some(slot) if *slot != v => {
                *slot = v;
                true
            }
            _ => false,
        }
    }
}

/// The integer at the start of a tracked file's contents, as keepalived's
/// `strtol(buf, NULL, 0)`: leading white space, a sign, then `0x`/`0X` hex,
/// a leading `0` octal, or decimal, up to the first other byte. `None` when
/// there is no number (keepalived then uses 0); a value too large saturates.
pub fn parse_file_value(bytes: &[u8]) -> Option<i64> {
    let mut i = 0;
    // C's isspace(): Rust's ASCII white space plus the vertical tab.
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_whitespace() || *b == 0x0b)
    {
        i += 1;
    }
    let negative = match bytes.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let (radix, start) = match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
        (Some(b'0'), Some(b'x' | b'X'), Some(c)) if c.is_ascii_hexdigit() => (16, i + 2),
        (Some(b'0'), _, _) => (8, i),
        _ => (10, i),
    };
    let mut value: i64 = 0;
    let mut digits = 0;
    for &b in bytes.get(start..).unwrap_or(&[]) {
        let Some(d) = char::from(b).to_digit(radix) else {
            break;
        };
        value = value
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
        digits += 1;
    }
    (digits > 0).then_some(if negative { -value } else { value })
}

/// The state of one tracked object, for [`effective`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracked {
    /// Up / OK.
    Up,
    /// Down / failed.
    Down,
    /// No result yet (a script before its first run ended).
    Init,
    /// A tracked file's value.
    Value(i16),
}

/// One tracker of an instance, for [`effective`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weighted {
    /// -253..=253; 0: down means FAULT.
    pub weight: i16,
    /// Negate the adjustment (weight 0: up means FAULT).
    pub reverse: bool,
    /// Its state.
    pub state: Tracked,
}

/// An instance's priority and fault after tracking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    /// For `Instance::set_priority`.
    pub priority: u8,
    /// For `Instance::set_fault`.
    pub fault: bool,
}

/// The effective priority of an instance with base priority `base` and
/// these trackers, by keepalived's rules (module doc).
pub fn effective(base: u8, trackers: impl IntoIterator<Item = Weighted>) -> Effective {
    let mut total = i32::from(base);
    let mut fault = false;
    for t in trackers {
        let w = i32::from(t.weight);
        let sign = if t.reverse { -1 } else { 1 };
        match t.state {
            // Weight 0 holds the instance down until the first result;
            // weighted ones do not count yet.
            Tracked::Init => fault |= w == 0,
            Tracked::Up if w == 0 => fault |= t.reverse,
            Tracked::Down if w == 0 => fault |= !t.reverse,
            Tracked::Up if w > 0 => total += w * sign,
            Tracked::Down if w < 0 => total += w * sign,
            Tracked::Up | Tracked::Down => {}
            Tracked::Value(v) if w == 0 => fault |= v != 0,
            Tracked::Value(v) => {
                let status = (i32::from(v) * w * sign).clamp(-254, 253);
                if status == -254 {
                    fault = true;
                } else {
                    total += status;
                }
            }
        }
    }
    let priority = if base == OWNER_PRIORITY {
        OWNER_PRIORITY
    } else {
        u8::try_from(total.clamp(1, i32::from(MAX_TRACKED_PRIORITY))).unwrap_or(1)
    };
    Effective { priority, fault }
}

/// What one entry tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A `vrrp_script`.
    Script(ScriptId),
    /// An interface.
    Link(LinkId),
    /// A `vrrp_track_file`.
    File(FileId),
}

/// One resolved tracker of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackEntry {
    /// What it tracks.
    pub target: Target,
    /// Its weight.
    pub weight: i16,
    /// `reverse`.
    pub reverse: bool,
}

/// Why [`InstanceTracking::from_config`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingError {
    /// A `track_script` names no `vrrp_script` (the config check prevents it).
    UnknownScript,
    /// A `track_file` names no `vrrp_track_file` (the config check prevents
    /// it).
    UnknownFile,
    /// The [`LinkTable`] is full.
    LinksFull,
    /// More than [`TRACKERS_PER_INSTANCE`] entries.
    TooManyTrackers,
}

/// The trackers of one instance, resolved to ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceTracking {
    entries: Vec<TrackEntry, TRACKERS_PER_INSTANCE>,
}

impl InstanceTracking {
    /// None.
    pub const fn new() -> Self {
        InstanceTracking {
            entries: Vec::new(),
        }
    }

    /// Adds an entry.
    pub fn push(&mut self, e: TrackEntry) -> Result<(), TrackingError> {
        self.entries
            .push(e)
            .map_err(|_| TrackingError::TooManyTrackers)
    }

    /// The entries.
    pub fn entries(&self) -> &[TrackEntry] {
        &self.entries
    }

    /// Whether an entry tracks `target` (so a change there concerns this
    /// instance).
    pub fn tracks(&self, target: Target) -> bool {
        self.entries.iter().any(|e| e.target == target)
    }

    /// Resolves `inst`'s trackers (and its sync `group`'s): its own
    /// interface as weight 0 unless `dont_track_primary`, its
    /// `track_interface` and `track_script` entries, then the group's.
    /// In a sync group without `sync_group_tracking_weight` the member's own
    /// weights are ignored (weight 0: a failure means FAULT), as in
    /// keepalived (§b.5). Links are registered in `links`.
    pub fn from_config(
        inst: &VrrpInstance,
        group: Option<&SyncGroup>,
        scripts: &[VrrpScript],
        files: &[TrackFile],
        links: &mut LinkTable,
    ) -> Result<Self, TrackingError> {
        let mut t = InstanceTracking::new();
        let keep_weights = group.is_none_or(|g| g.sync_group_tracking_weight);
        if !inst.dont_track_primary && !inst.interface.is_empty() {
            let id = links
                .track(&inst.interface)
                .map_err(|_| TrackingError::LinksFull)?;
            t.push(TrackEntry {
                target: Target::Link(id),
                weight: 0,
                reverse: false,
            })?;
        }
        t.add(
            &inst.track_interfaces,
            &inst.track_scripts,
            keep_weights,
            scripts,
            links,
        )?;
        t.add_files(&inst.track_files, keep_weights, files)?;
        if let Some(g) = group {
            t.add(&g.track_interfaces, &g.track_scripts, true, scripts, links)?;
            t.add_files(&g.track_files, true, files)?;
        }
        Ok(t)
    }

    fn add_files(
        &mut self,
        refs: &[TrackFileRef],
        keep_weights: bool,
        files: &[TrackFile],
    ) -> Result<(), TrackingError> {
        for r in refs {
            let idx = files
                .iter()
                .position(|f| f.name == r.name)
                .ok_or(TrackingError::UnknownFile)?;
            let f = files.get(idx).ok_or(TrackingError::UnknownFile)?;
            let id = FileId(u16::try_from(idx).map_err(|_| TrackingError::UnknownFile)?);
            self.push(TrackEntry {
                target: Target::File(id),
                weight: if keep_weights {
                    r.weight.unwrap_or(f.weight)
                } else {
                    0
                },
                reverse: r.reverse.unwrap_or(f.reverse),
            })?;
        }
        Ok(())
    }

    fn add(
        &mut self,
        ifs: &[TrackInterface],
        scs: &[TrackScript],
        keep_weights: bool,
        scripts: &[VrrpScript],
        links: &mut LinkTable,
    ) -> Result<(), TrackingError> {
        for i in ifs {
            let id = links.track(&i.name).map_err(|_| TrackingError::LinksFull)?;
            self.push(TrackEntry {
                target: Target::Link(id),
                weight: if keep_weights { i.weight } else { 0 },
                reverse: i.reverse,
            })?;
        }
        for s in scs {
            let idx = scripts
                .iter()
                .position(|x| x.name == s.name)
                .ok_or(TrackingError::UnknownScript)?;
            let cfg = scripts.get(idx).ok_or(TrackingError::UnknownScript)?;
            let id = ScriptId(u16::try_from(idx).map_err(|_| TrackingError::UnknownScript)?);
            let weight = s.weight.unwrap_or(cfg.weight);
            self.push(TrackEntry {
                target: Target::Script(id),
                weight: if keep_weights { weight } else { 0 },
                reverse: s.reverse.unwrap_or(cfg.reverse),
            })?;
        }
        Ok(())
    }

    /// The effective priority for base priority `base`, from the current
    /// states in `scripts`, `links` and `files`.
    pub fn effective(
        &self,
        base: u8,
        scripts: &ScriptTable,
        links: &LinkTable,
        files: &FileTable,
    ) -> Effective {
        effective(
            base,
            self.entries.iter().map(|e| Weighted {
                weight: e.weight,
                reverse: e.reverse,
                state: match e.target {
                    Target::Script(id) => match scripts.state(id) {
                        ScriptState::Init => Tracked::Init,
                        ScriptState::Ok => Tracked::Up,
                        ScriptState::Failed => Tracked::Down,
                    },
                    Target::Link(id) => {
                        if links.is_up(id) {
                            Tracked::Up
                        } else {
                            Tracked::Down
                        }
                    }
                    Target::File(id) => Tracked::Value(files.value(id)),
                },
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec as StdVec;

    const ID: ScriptId = ScriptId(0);

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms as i64)
    }

    fn params(rise: u32, fall: u32, init_fail: bool) -> ScriptParams {
        ScriptParams {
            interval: Duration::from_millis(1000),
            timeout: Duration::from_millis(500),
            rise,
            fall,
            init_fail,
        }
    }

    /// Runs one interval: the run is asked for at `at`, ends with `outcome`
    /// 10 ms later. Returns the actions.
    fn cycle(s: &mut ScriptTracker, at: u64, outcome: RunOutcome) -> StdVec<TrackAction> {
        let mut v = StdVec::new();
        s.handle_timeout(t(at), &mut |a| v.push(a));
        s.handle_exit(t(at + 10), outcome, &mut |a| v.push(a));
        v
    }

    const OK: RunOutcome = RunOutcome::Exited(ChildStatus::Exited(0));
    const FAIL: RunOutcome = RunOutcome::Exited(ChildStatus::Exited(1));

    fn changed(v: &[TrackAction]) -> Option<ScriptState> {
        v.iter().find_map(|a| match a {
            TrackAction::Changed { to, .. } => Some(*to),
            TrackAction::Run { .. } => None,
        })
    }

    #[test]
    fn first_run_at_start_then_every_interval() {
        let mut s = ScriptTracker::new(ID, params(1, 1, false));
        assert_eq!(s.poll_at(), None);
        s.start(t(100));
        assert_eq!(s.poll_at(), Some(t(100)));
        let v = cycle(&mut s, 100, OK);
        assert_eq!(
            v[0],
            TrackAction::Run {
                script: ID,
                timeout: Duration::from_millis(500)
            }
        );
        assert_eq!(s.poll_at(), Some(t(1100)));
        // Not due yet: nothing.
        let mut v = StdVec::new();
        s.handle_timeout(t(1099), &mut |a| v.push(a));
        assert!(v.is_empty());
        let v = cycle(&mut s, 1100, OK);
        assert!(matches!(v[0], TrackAction::Run { .. }));
        assert_eq!(s.stats().runs, 2);
    }

    #[test]
    fn init_state_first_result_decides_at_once() {
        let mut s = ScriptTracker::new(ID, params(3, 3, false));
        assert_eq!(s.state(), ScriptState::Init);
        s.start(t(0));
        assert_eq!(changed(&cycle(&mut s, 0, FAIL)), Some(ScriptState::Failed));
        let mut s = ScriptTracker::new(ID, params(3, 3, false));
        s.start(t(0));
        assert_eq!(changed(&cycle(&mut s, 0, OK)), Some(ScriptState::Ok));
    }

    #[test]
    fn rise_needs_consecutive_successes() {
        let mut s = ScriptTracker::new(ID, params(3, 2, true));
        assert_eq!(s.state(), ScriptState::Failed);
        s.start(t(0));
        assert_eq!(changed(&cycle(&mut s, 0, OK)), None);
        assert_eq!(changed(&cycle(&mut s, 1000, OK)), None);
        // A failure restarts the count.
        assert_eq!(changed(&cycle(&mut s, 2000, FAIL)), None);
        assert_eq!(changed(&cycle(&mut s, 3000, OK)), None);
        assert_eq!(changed(&cycle(&mut s, 4000, OK)), None);
        assert_eq!(changed(&cycle(&mut s, 5000, OK)), Some(ScriptState::Ok));
        assert_eq!(s.stats().became_ok, 1);
    }

    #[test]
    fn fall_needs_consecutive_failures() {
        let mut s = ScriptTracker::new(ID, params(1, 3, false));
        s.start(t(0));
        assert_eq!(changed(&cycle(&mut s, 0, OK)), Some(ScriptState::Ok));
        assert_eq!(changed(&cycle(&mut s, 1000, FAIL)), None);
        assert_eq!(changed(&cycle(&mut s, 2000, FAIL)), None);
        assert_eq!(changed(&cycle(&mut s, 3000, OK)), None);
        assert_eq!(changed(&cycle(&mut s, 4000, FAIL)), None);
        assert_eq!(changed(&cycle(&mut s, 5000, FAIL)), None);
        let killed = RunOutcome::Exited(ChildStatus::Signaled(9));
        assert_eq!(
            changed(&cycle(&mut s, 6000, killed)),
            Some(ScriptState::Failed)
        );
        assert_eq!(s.stats().failures, 5);
        assert_eq!(s.stats().became_failed, 1);
    }

    #[test]
    fn timeout_is_a_failure_counted_at_the_deadline() {
        let mut s = ScriptTracker::new(ID, params(1, 1, false));
        s.start(t(0));
        let mut v = StdVec::new();
        s.handle_timeout(t(0), &mut |a| v.push(a));
        assert_eq!(s.poll_at(), Some(t(500)), "the run's timeout");
        s.handle_timeout(t(500), &mut |a| v.push(a));
        assert_eq!(changed(&v), Some(ScriptState::Failed));
        assert_eq!(s.stats().timeouts, 1);
        // Still alive until reaped: the next interval is skipped, not doubled.
        let mut v = StdVec::new();
        s.handle_timeout(t(1000), &mut |a| v.push(a));
        assert!(v.is_empty());
        assert_eq!(s.stats().overruns, 1);
        // Its late exit is ignored (a success would not count).
        s.handle_exit(t(1200), OK, &mut |a| v.push(a));
        assert!(v.is_empty());
        assert_eq!(s.stats().late_exits, 1);
        assert_eq!(s.state(), ScriptState::Failed);
        // The next run goes.
        assert_eq!(changed(&cycle(&mut s, 2000, OK)), Some(ScriptState::Ok));
    }

    #[test]
    fn timed_out_report_and_not_run_are_failures() {
        let mut s = ScriptTracker::new(ID, params(1, 2, false));
        s.start(t(0));
        cycle(&mut s, 0, OK);
        assert_eq!(changed(&cycle(&mut s, 1000, RunOutcome::TimedOut)), None);
        assert_eq!(
            changed(&cycle(&mut s, 2000, RunOutcome::NotRun)),
            Some(ScriptState::Failed)
        );
        assert_eq!((s.stats().timeouts, s.stats().not_run), (1, 1));
    }

    #[test]
    fn no_overlapping_runs() {
        let mut s = ScriptTracker::new(
            ID,
            ScriptParams {
                timeout: Duration::from_millis(5000),
                ..params(1, 1, false)
            },
        );
        s.start(t(0));
        let mut runs = 0;
        for ms in (0..=3000).step_by(100) {
            s.handle_timeout(t(ms), &mut |a| {
                if matches!(a, TrackAction::Run { .. }) {
                    runs += 1
                }
            });
            assert!(s.is_running());
        }
        assert_eq!(runs, 1);
        assert_eq!(s.stats().overruns, 3);
        let mut v = StdVec::new();
        s.handle_exit(t(3050), OK, &mut |a| v.push(a));
        assert!(!s.is_running());
        s.handle_timeout(t(4000), &mut |a| v.push(a));
        assert!(v.iter().any(|a| matches!(a, TrackAction::Run { .. })));
    }

    #[test]
    fn a_late_loop_does_not_burst() {
        let mut s = ScriptTracker::new(ID, params(1, 1, false));
        s.start(t(0));
        cycle(&mut s, 0, OK);
        let mut n = 0;
        s.handle_timeout(t(10_000), &mut |_| n += 1);
        assert_eq!(n, 1);
        assert_eq!(
            s.poll_at(),
            Some(t(10_500)),
            "the run's timeout, before the next run"
        );
        s.handle_exit(t(10_010), OK, &mut |_| {});
        assert_eq!(s.poll_at(), Some(t(11_000)));
    }

    #[test]
    fn started_late_counts_timeout_from_start_and_stray_reports_count() {
        let mut s = ScriptTracker::new(ID, params(1, 1, false));
        s.handle_exit(t(0), OK, &mut |_| {});
        s.handle_started(t(0));
        assert_eq!(s.stats().unexpected_reports, 2);
        s.start(t(0));
        s.handle_timeout(t(0), &mut |_| {});
        s.handle_started(t(300));
        assert_eq!(s.poll_at(), Some(t(800)));
    }

    #[test]
    fn table_queues_actions_and_keeps_argv() {
        let mut tab = ScriptTable::new();
        let mut a = ArgvBuf::new();
        split_command("/bin/check arg", &mut a).unwrap();
        assert!(tab.push(params(1, 1, false), a));
        assert!(tab.push(params(1, 1, false), ArgvBuf::new()));
        tab.start(t(0));
        assert_eq!(tab.poll_at(), Some(t(0)));
        tab.handle_timeout(t(0));
        let run = tab.poll_action().unwrap();
        assert!(matches!(
            run,
            TrackAction::Run {
                script: ScriptId(0),
                ..
            }
        ));
        assert_eq!(tab.poll_action(), None, "unused script never runs");
        assert_eq!(tab.argv(ScriptId(0)).unwrap().program(), Some("/bin/check"));
        tab.handle_exit(t(5), ScriptId(0), FAIL);
        assert!(matches!(
            tab.poll_action(),
            Some(TrackAction::Changed {
                script: ScriptId(0),
                from: ScriptState::Init,
                to: ScriptState::Failed
            })
        ));
        assert_eq!(tab.state(ScriptId(0)), ScriptState::Failed);
        assert_eq!(tab.state(ScriptId(7)), ScriptState::Init);
    }

    #[test]
    fn link_table() {
        let mut l = LinkTable::new();
        let a = l.track("eth0").unwrap();
        assert_eq!(l.track("eth0"), Ok(a));
        let b = l.track("eth1").unwrap();
        assert_ne!(a, b);
        assert!(!l.is_up(a), "not reported yet: down");
        assert_eq!(l.handle_link("eth0", true), Some(a));
        assert_eq!(l.handle_link("eth0", true), None, "no change");
        assert!(l.is_up(a));
        assert_eq!(l.handle_link("wlan9", true), None);
        assert_eq!(l.untracked_reports(), 1);
        assert_eq!(l.name(b), Some("eth1"));
        assert_eq!(
            l.track("x".repeat(IFNAME_BYTES + 1).as_str()),
            Err(LinksFull)
        );
    }

    fn w(weight: i16, reverse: bool, state: Tracked) -> Weighted {
        Weighted {
            weight,
            reverse,
            state,
        }
    }

    fn eff(base: u8, ts: &[Weighted]) -> Effective {
        effective(base, ts.iter().copied())
    }

    #[test]
    fn weights() {
        use Tracked::*;
        let e = |p, f| Effective {
            priority: p,
            fault: f,
        };
        assert_eq!(eff(100, &[]), e(100, false));
        // Positive adds while up; negative subtracts while down.
        assert_eq!(eff(100, &[w(10, false, Up)]), e(110, false));
        assert_eq!(eff(100, &[w(10, false, Down)]), e(100, false));
        assert_eq!(eff(100, &[w(-50, false, Down)]), e(50, false));
        assert_eq!(eff(100, &[w(-50, false, Up)]), e(100, false));
        // Reverse negates the adjustment.
        assert_eq!(eff(100, &[w(10, true, Up)]), e(90, false));
        assert_eq!(eff(100, &[w(10, true, Down)]), e(100, false));
        assert_eq!(eff(100, &[w(-50, true, Down)]), e(150, false));
        assert_eq!(eff(100, &[w(-50, true, Up)]), e(100, false));
        // Weighted, no result yet: no effect.
        assert_eq!(
            eff(100, &[w(10, false, Init), w(-10, false, Init)]),
            e(100, false)
        );
        // Sum.
        assert_eq!(
            eff(
                100,
                &[w(10, false, Up), w(20, false, Up), w(-5, false, Down)]
            ),
            e(125, false)
        );
    }

    #[test]
    fn weight_zero_means_fault() {
        use Tracked::*;
        assert!(eff(100, &[w(0, false, Down)]).fault);
        assert!(!eff(100, &[w(0, false, Up)]).fault);
        assert!(eff(100, &[w(0, true, Up)]).fault);
        assert!(!eff(100, &[w(0, true, Down)]).fault);
        assert!(
            eff(100, &[w(0, false, Init)]).fault,
            "held until first result"
        );
        // Fault and priority are independent.
        assert_eq!(
            eff(100, &[w(0, false, Down), w(10, false, Up)]),
            Effective {
                priority: 110,
                fault: true
            }
        );
    }

    #[test]
    fn clamp_and_owner() {
        use Tracked::*;
        assert_eq!(eff(250, &[w(10, false, Up)]).priority, 254);
        assert_eq!(eff(10, &[w(-50, false, Down)]).priority, 1);
        assert_eq!(
            eff(200, &[w(253, false, Up), w(253, false, Up)]).priority,
            254
        );
        assert_eq!(eff(255, &[w(-50, false, Down)]).priority, 255);
        assert_eq!(eff(255, &[w(10, false, Up)]).priority, 255);
        // The owner still goes to FAULT.
        assert!(eff(255, &[w(0, false, Down)]).fault);
    }

    #[test]
    fn instance_tracking_from_config() {
        fn name<const N: usize>(s: &str) -> String<N> {
            let mut n = String::new();
            n.push_str(s).unwrap();
            n
        }
        let loc = crate::config::Loc::default();
        let mut sc = VrrpScript::new(name("chk"), loc);
        sc.weight = -50;
        let scripts = [sc];
        let mut inst = VrrpInstance::new(name("VI_1"), loc);
        inst.interface = name("eth0");
        inst.track_scripts
            .push(TrackScript {
                name: name("chk"),
                weight: None,
                reverse: None,
                loc,
            })
            .unwrap();
        inst.track_interfaces
            .push(TrackInterface {
                name: name("eth1"),
                weight: 10,
                reverse: false,
                loc,
            })
            .unwrap();
        let mut links = LinkTable::new();
        let tr = InstanceTracking::from_config(&inst, None, &scripts, &[], &mut links).unwrap();
        assert_eq!(tr.entries().len(), 3);
        let eth0 = links.find("eth0").unwrap();
        assert!(tr.tracks(Target::Link(eth0)));
        assert!(tr.tracks(Target::Script(ScriptId(0))));

        let mut tab = ScriptTable::new();
        tab.push(ScriptParams::from_config(&scripts[0]), ArgvBuf::new());
        // Own interface down, script not run yet: FAULT.
        let e = tr.effective(100, &tab, &links, &FileTable::new(0));
        assert!(e.fault);
        links.handle_link("eth0", true);
        links.handle_link("eth1", true);
        assert_eq!(
            tr.effective(100, &tab, &links, &FileTable::new(0)),
            Effective {
                priority: 110,
                fault: false
            }
        );
        // The script fails: -50 (the script's weight, inherited).
        tab.scripts[0].0.start(t(0));
        tab.handle_timeout(t(0));
        tab.handle_exit(t(1), ScriptId(0), FAIL);
        assert_eq!(
            tr.effective(100, &tab, &links, &FileTable::new(0)).priority,
            60
        );

        // In a sync group without sync_group_tracking_weight, the member's
        // weights are ignored: a failure means FAULT.
        let g = SyncGroup::new(name("G"), loc);
        let mut links2 = LinkTable::new();
        let tr =
            InstanceTracking::from_config(&inst, Some(&g), &scripts, &[], &mut links2).unwrap();
        assert!(tr.entries().iter().all(|e| e.weight == 0));
        assert!(tr.effective(100, &tab, &links2, &FileTable::new(0)).fault);

        inst.track_scripts[0].name = name("nope");
        assert_eq!(
            InstanceTracking::from_config(&inst, None, &scripts, &[], &mut links),
            Err(TrackingError::UnknownScript)
        );
    }

    #[test]
    fn file_values_read_as_strtol() {
        for (text, want) in [
            (&b"42\n"[..], Some(42)),
            (b"  -7 trailing", Some(-7)),
            (b"+3", Some(3)),
            (b"0x1F", Some(31)),
            (b"017", Some(15)),
            (b"08", Some(0)),
            (b"0", Some(0)),
            (b"12abc", Some(12)),
            (b"abc", None),
            (b"", None),
            (b"-", None),
            (b"0x", Some(0)),
            (b"99999999999999999999999", Some(i64::MAX)),
            // C's isspace() has the vertical tab and form feed (found by
            // the `track_file` fuzz target: "\v 8" read as no number).
            (b"\x0b8", Some(8)),
            (b"\t\n\x0b\x0c\r 8", Some(8)),
        ] {
            assert_eq!(
                parse_file_value(text),
                want,
                "{:?}",
                std::str::from_utf8(text)
            );
        }
        let mut t = FileTable::new(2);
        assert!(!t.set(FileId(0), 0), "no change");
        assert!(t.set(FileId(0), 1000));
        assert_eq!(t.value(FileId(0)), FILE_VALUE_MAX);
        assert!(t.set(FileId(1), -1000));
        assert_eq!(t.value(FileId(1)), -FILE_VALUE_MAX);
        assert!(!t.set(FileId(9), 1), "unknown id");
    }

    #[test]
    fn file_weights_multiply_and_fault_at_minus_254() {
        use Tracked::*;
        let e = |p, f| Effective {
            priority: p,
            fault: f,
        };
        // Weight 0: any non-zero value is a fault.
        assert_eq!(eff(100, &[w(0, false, Value(0))]), e(100, false));
        assert_eq!(eff(100, &[w(0, false, Value(-3))]), e(100, true));
        // value × weight.
        assert_eq!(eff(100, &[w(10, false, Value(3))]), e(130, false));
        assert_eq!(eff(100, &[w(-10, false, Value(3))]), e(70, false));
        assert_eq!(eff(100, &[w(10, true, Value(3))]), e(70, false));
        // Clamped to -254..253; -254 means FAULT.
        assert_eq!(eff(100, &[w(2, false, Value(200))]).priority, 254);
        assert!(eff(100, &[w(-2, false, Value(200))]).fault);
        assert!(eff(100, &[w(-254, false, Value(1))]).fault);
        assert!(!eff(100, &[w(-253, false, Value(1))]).fault);
        // The owner keeps 255.
        assert_eq!(eff(255, &[w(-10, false, Value(3))]), e(255, false));
    }
}
