//! The watchdog side of the binary: opens the hardware watchdog
//! (`sys::watchdog`) and the service manager's socket (`sys::notify`),
//! reads and writes the reset state file (`sys::statefile`), and turns the
//! sans-IO decisions of `picket::watchdog` into kicks, damping and log
//! lines. The loop calls it at fixed points of a turn (see `main.rs`):
//! [`Supervisor::begin_turn`] before the timeouts, [`Supervisor::end_turn`]
//! after every action (step 5: the kick), [`Supervisor::poll_at`] for the
//! sleep.
//!
//! Kick sinks: the device (period: a quarter of the granted timeout) and
//! `WATCHDOG=1` when `WATCHDOG_USEC` is set (a quarter of it); both go
//! through the one health gate. With neither, picket runs without a
//! watchdog, said once at start, and keeps no state file.
//!
//! Fault injection (the `fault-injection` cargo feature only, which no
//! release build enables; `tools/board-build` builds it into the qemu
//! board's test binary): `PICKET_FAULT=vrrp-stall:SECONDS` stops running
//! the VRRP instances' timers that long after start, so the health gate
//! sees a VRRP timer made late while the loop itself turns on.

use picket::config::Config;
use picket::core::{ChildRole, Core};
use picket::time::{Duration, Instant, earliest};
use picket::vrrp::engine::Engine;
use picket::vrrp::fsm::OWNER_PRIORITY;
use picket::watchdog::health::{
    CHECKER_DEADLINE_BUDGET, CHILD_DEADLINE_BUDGET, Health, IPVS_ANSWER_BUDGET, Lag, Note, Part,
    Secs,
};
use picket::watchdog::notify::{self as sd, NotifyAddr};
use picket::watchdog::recovery::{
    BootFacts, Policy, Recovery, RecoveryEvent, ResetCause, STATE_BYTES, StateRecord, assess,
};

use std::fmt::Write as _;

use crate::sys::notify::Notifier;
use crate::sys::statefile;
use crate::sys::watchdog::{Facts, WDIOF_MAGICCLOSE, Watchdog};

/// What the process environment says (read once at start-up).
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `NOTIFY_SOCKET`.
    pub notify_socket: Option<String>,
    /// `WATCHDOG_USEC`.
    pub watchdog_usec: Option<String>,
    /// `WATCHDOG_PID`.
    pub watchdog_pid: Option<String>,
    /// `PICKET_FAULT` (used by test builds only).
    pub fault: Option<String>,
}

impl Env {
    /// This process's environment.
    pub fn from_process() -> Self {
        let var = |k| std::env::var(k).ok();
        Env {
            notify_socket: var("NOTIFY_SOCKET"),
            watchdog_usec: var("WATCHDOG_USEC"),
            watchdog_pid: var("WATCHDOG_PID"),
            fault: var("PICKET_FAULT"),
        }
    }
}

/// A log line's part, formatted without allocating.
type Line = heapless::String<192>;

/// The open hardware watchdog.
struct Device {
    dog: Watchdog,
    path: String,
    facts: Facts,
}

/// The state file and what was last written to it.
struct StateFile {
    path: String,
    record: StateRecord,
}

/// Everything watchdog-related the daemon owns. See the module doc.
pub struct Supervisor {
    device: Option<Device>,
    notifier: Option<Notifier>,
    /// `WATCHDOG=1` goes to the notifier with the kicks.
    sd_watchdog: bool,
    nowayout: bool,
    health: Option<Health>,
    recovery: Recovery,
    state: Option<StateFile>,
    kick_errors: u64,
    notify_errors: u64,
    stopping_sent: bool,
    /// When the VRRP timers stop being run (test builds only).
    stall_vrrp_at: Option<Instant>,
    stall_announced: bool,
}

/// A role's name in a log line.
fn role_name(role: ChildRole) -> &'static str {
    match role {
        ChildRole::StartupScript => "startup_script",
        ChildRole::ShutdownScript => "shutdown_script",
        ChildRole::VrrpScript(_) => "vrrp_script",
        ChildRole::Notify => "notify script",
        ChildRole::MiscCheck(_) => "MISC_CHECK script",
        ChildRole::LvsNotify => "notify_up/down or quorum_up/down script",
    }
}

/// The configured name of VRRP instance `slot`.
fn instance_name<'c>(cfg: &'c Config, engine: &Engine, slot: u32) -> &'c str {
    u16::try_from(slot)
        .ok()
        .and_then(|s| engine.config_index(s))
        .and_then(|i| cfg.vrrp.instances.get(i))
        .map_or("?", |v| v.name.as_str())
}

impl Supervisor {
    /// No watchdog at all (tests, and builds of the daemon without one).
    pub fn none() -> Self {
        Supervisor {
            device: None,
            notifier: None,
            sd_watchdog: false,
            nowayout: false,
            health: None,
            recovery: Recovery::none(),
            state: None,
            kick_errors: 0,
            notify_errors: 0,
            stopping_sent: false,
            stall_vrrp_at: None,
            stall_announced: false,
        }
    }

    /// Start-up (may allocate): opens the watchdog and the notification
    /// socket named by `cfg` and `env`, and, when something will be kicked,
    /// reads the state file, says what the last end of picket was and
    /// decides the damping. Every problem is logged; none stops picket.
    pub fn open(cfg: &Config, env: &Env, now: Instant) -> Self {
        let mut s = Supervisor::none();
        let g = &cfg.global;
        s.nowayout = g.watchdog_nowayout;
        let mut period: Option<Duration> = None;
        match g.watchdog_device() {
            None => log::info!(
                "watchdog: no watchdog_device (board {} has none and the configuration names \
                 none): no hardware watchdog",
                picket::limits::BOARD
            ),
            Some(path) => {
                let asked = u32::try_from(g.watchdog_timeout().secs()).unwrap_or(u32::MAX);
                match Watchdog::open(path, asked) {
                    Ok((dog, facts)) => {
                        let granted = if facts.timeout_s == 0 {
                            asked
                        } else {
                            facts.timeout_s
                        };
                        log::info!(
                            "watchdog: {path} ({}) armed, timeout {granted} s{}, boot status {:#x}{}",
                            facts.identity(),
                            if granted == asked {
                                String::new()
                            } else {
                                format!(" (asked for {asked} s)")
                            },
                            facts.boot_status,
                            if facts.card_reset() {
                                " (WDIOF_CARDRESET: the watchdog reset the board)"
                            } else {
                                ""
                            }
                        );
                        if facts.options & WDIOF_MAGICCLOSE == 0 && !s.nowayout {
                            log::warn!(
                                "watchdog: {path} does not say it supports magic close: an \
                                 orderly stop may leave it running"
                            );
                        }
                        period = Some(Duration::from_secs(u64::from(granted)) / 4);
                        s.device = Some(Device {
                            dog,
                            path: path.to_owned(),
                            facts,
                        });
                    }
                    Err(e) => log::error!(
                        "watchdog: cannot use watchdog_device {path}: {e}; running without the \
                         hardware watchdog"
                    ),
                }
            }
        }
        if let Some(sock) = &env.notify_socket {
            let interval = sd::watchdog_interval(
                env.watchdog_usec.as_deref(),
                env.watchdog_pid.as_deref(),
                std::process::id(),
            );
            match sd::parse_socket(sock).map(|a| (a, Notifier::open(a))) {
                Ok((addr, Ok(n))) => {
                    s.notifier = Some(n);
                    let shown = match addr {
                        NotifyAddr::Path(p) => p.to_owned(),
                        NotifyAddr::Abstract(a) => format!("@{a}"),
                    };
                    match interval {
                        Ok(Some(every)) => {
                            s.sd_watchdog = true;
                            let quarter = every / 4;
                            period = Some(period.map_or(quarter, |p| p.min(quarter)));
                            log::info!(
                                "watchdog: service manager at {shown}, WATCHDOG=1 every {} at most",
                                Secs(quarter)
                            );
                        }
                        Ok(None) => {
                            log::info!("watchdog: service manager at {shown} (no watchdog)")
                        }
                        Err(e) => log::error!("watchdog: {e}; no WATCHDOG=1"),
                    }
                }
                Ok((_, Err(e))) => log::error!("watchdog: NOTIFY_SOCKET {sock}: {e}"),
                Err(e) => log::error!("watchdog: {e}"),
            }
        }
        let Some(period) = period else {
            return s;
        };
        log::info!(
            "watchdog: kicking at most every {} while every part is in budget",
            Secs(period)
        );
        s.health = Some(Health::new(now, period));
        s.recover(cfg, now);
        s.fault_injection(env, now);
        s
    }

    /// Reads the state file, says what the last end was, writes this run
    /// as armed, and starts the damping.
    fn recover(&mut self, cfg: &Config, now: Instant) {
        let g = &cfg.global;
        let policy = Policy {
            hold: g.watchdog_reset_hold,
            safe_after: g.watchdog_safe_mode_resets,
            window: g.watchdog_reset_window,
        };
        let card_reset = self.device.as_ref().is_some_and(|d| d.facts.card_reset());
        let Some(path) = g.watchdog_state_file() else {
            log::info!(
                "watchdog: no state file (watchdog_state_file none): resets are not counted"
            );
            let event = card_reset.then_some(ResetCause::Watchdog);
            self.start_recovery(now, event, u16::from(card_reset), &policy);
            return;
        };
        if let Err(e) = statefile::create_dir_of(path) {
            log::warn!("watchdog: cannot create the directory of {path}: {e}");
        }
        let mut buf = [0u8; STATE_BYTES + 1];
        let prev = match statefile::read_state(path, &mut buf) {
            Ok(None) => None,
            Ok(Some(n)) => match StateRecord::parse(&buf[..n]) {
                Ok(r) => Some(r),
                Err(e) => {
                    log::warn!("watchdog: state file {path} not understood ({e}): starting afresh");
                    None
                }
            },
            Err(e) => {
                log::warn!("watchdog: cannot read {path}: {e}: starting afresh");
                None
            }
        };
        let boot = statefile::boot_id().unwrap_or_else(|e| {
            log::warn!("watchdog: cannot read the boot id: {e}");
            picket::watchdog::recovery::BootId::new()
        });
        let a = assess(
            prev.as_ref(),
            &BootFacts {
                boot: &boot,
                card_reset,
            },
        );
        let mut state = StateFile {
            path: path.to_owned(),
            record: a.next,
        };
        write_state(&mut state);
        let resets = state.record.resets;
        self.state = Some(state);
        self.start_recovery(now, a.event, resets, &policy);
    }

    fn start_recovery(
        &mut self,
        now: Instant,
        event: Option<ResetCause>,
        resets: u16,
        policy: &Policy,
    ) {
        self.recovery = Recovery::start(now, event, resets, policy);
        let Some(cause) = event else {
            return;
        };
        log::warn!("watchdog: picket is back after {cause}; resets in a row: {resets}");
        if let Some(until) = self.recovery.hold_until() {
            log::warn!(
                "watchdog: reset damping: instances start in BACKUP and do not preempt for {} \
                 (watchdog_reset_hold)",
                Secs(until - now)
            );
        }
        if self.recovery.is_safe_mode() {
            log::error!(
                "watchdog: SAFE MODE: {resets} resets in a row (watchdog_safe_mode_resets {}): \
                 every instance advertises priority 1 until picket has run {} without a reset \
                 (watchdog_reset_window), or `picket --clear-resets` and a restart",
                policy.safe_after,
                Secs(policy.window)
            );
        }
    }

    /// Reads `PICKET_FAULT` in test builds (see the module doc).
    #[cfg(feature = "fault-injection")]
    fn fault_injection(&mut self, env: &Env, now: Instant) {
        let Some(spec) = &env.fault else {
            return;
        };
        match spec
            .strip_prefix("vrrp-stall:")
            .and_then(|v| v.parse::<u64>().ok())
        {
            Some(secs) => {
                log::warn!("FAULT INJECTION (test build): VRRP timers stall {secs} s after start");
                self.stall_vrrp_at = Some(now + Duration::from_secs(secs));
            }
            None => log::error!("PICKET_FAULT={spec}: expected vrrp-stall:SECONDS"),
        }
    }

    #[cfg(not(feature = "fault-injection"))]
    fn fault_injection(&mut self, env: &Env, _now: Instant) {
        if env.fault.is_some() {
            log::warn!("PICKET_FAULT is set, but this build has no fault injection: ignored");
        }
    }

    /// Whether the VRRP timers must not run this turn (fault injection in
    /// test builds; always `false` otherwise).
    pub fn vrrp_stalled(&mut self, now: Instant) -> bool {
        let stalled = self.stall_vrrp_at.is_some_and(|t| now >= t);
        if stalled && !self.stall_announced {
            self.stall_announced = true;
            log::warn!("FAULT INJECTION (test build): VRRP timers stalled from now on");
        }
        stalled
    }

    /// Before the instances start: the hold after a reset, safe mode.
    pub fn apply_damping(&self, now: Instant, engine: &mut Engine) {
        if let Some(until) = self.recovery.hold_until() {
            engine.hold_after_reset(until);
        }
        if self.recovery.is_safe_mode() {
            engine.set_priority_cap(now, 1);
        }
    }

    /// The daemon runs: `READY=1`.
    pub fn ready(&mut self) {
        self.notify(sd::READY);
    }

    /// The daemon stops: `STOPPING=1` (once).
    pub fn stopping(&mut self) {
        if !std::mem::replace(&mut self.stopping_sent, true) {
            self.notify(sd::STOPPING);
        }
    }

    fn notify(&mut self, message: &[u8]) {
        if let Some(n) = &self.notifier
            && let Err(e) = n.send(message)
        {
            self.notify_errors += 1;
            if self.notify_errors == 1 {
                log::warn!("watchdog: cannot notify the service manager: {e} (said once)");
            }
        }
    }

    /// A turn begins at `now` (before the timeouts run): the parts report
    /// how late their deadlines are.
    pub fn begin_turn(&mut self, now: Instant, engine: &Engine, core: &Core) {
        let Some(h) = &mut self.health else {
            return;
        };
        h.begin_turn(now);
        if let Some((slot, late)) = engine.late_timer(now) {
            h.report(Lag {
                part: Part::Vrrp,
                what: late.timer,
                subject: u32::from(slot),
                late_by: late.late_by,
                budget: late.budget,
            });
        }
        if let Some((role, pid, late)) = core.children().overdue(now) {
            h.report(Lag {
                part: Part::Children,
                what: role_name(role),
                subject: u32::try_from(pid).unwrap_or(0),
                late_by: late,
                budget: CHILD_DEADLINE_BUDGET,
            });
        }
    }

    /// The IPVS exchange outstanding at `now`, if any (`awaiting`: answers
    /// still awaited, and when it was sent or last answered in part): no
    /// answer for [`IPVS_ANSWER_BUDGET`] is a stall. Between
    /// [`Supervisor::begin_turn`] and [`Supervisor::end_turn`].
    pub fn report_ipvs(&mut self, now: Instant, awaiting: Option<(u16, Instant)>) {
        let (Some(h), Some((left, since))) = (&mut self.health, awaiting) else {
            return;
        };
        if now > since {
            h.report(Lag {
                part: Part::Ipvs,
                what: "answer",
                subject: u32::from(left),
                late_by: now - since,
                budget: IPVS_ANSWER_BUDGET,
            });
        }
    }

    /// The health checkers' most overdue deadline at `now` (`late`: the
    /// check and by how much), while they run. Between
    /// [`Supervisor::begin_turn`] and [`Supervisor::end_turn`].
    pub fn report_checkers(&mut self, late: Option<(u16, Duration)>) {
        let (Some(h), Some((check, late_by))) = (&mut self.health, late) else {
            return;
        };
        h.report(Lag {
            part: Part::Checkers,
            what: "check",
            subject: u32::from(check),
            late_by,
            budget: CHECKER_DEADLINE_BUDGET,
        });
    }

    /// A netlink request expecting an answer went out.
    pub fn netlink_sent(&mut self, now: Instant) {
        if let Some(h) = &mut self.health {
            h.netlink_sent(now);
        }
    }

    /// A netlink answer came in.
    pub fn netlink_answered(&mut self, now: Instant) {
        if let Some(h) = &mut self.health {
            h.netlink_answered(now);
        }
    }

    /// Netlink answers were lost (the socket overran).
    pub fn netlink_lost(&mut self) {
        if let Some(h) = &mut self.health {
            h.netlink_lost();
        }
    }

    /// The end of a turn (step 5): kicks when the gate allows, logs a stall
    /// (naming the part) or a recovery.
    pub fn end_turn(&mut self, now: Instant, cfg: &Config, engine: &Engine) {
        let Some(h) = &mut self.health else {
            return;
        };
        let verdict = h.end_turn(now);
        let since_kick = h.last_kick().map(|k| now - k);
        match verdict.note {
            Some(Note::Stalled {
                lag,
                stalled_for,
                first,
            }) => {
                let mut what: Line = Line::new();
                let late = Secs(lag.late_by);
                let budget = Secs(lag.budget);
                let _ = match lag.part {
                    Part::LoopTurn => write!(what, "a turn took {late} (budget {budget})"),
                    Part::Vrrp => write!(
                        what,
                        "({}) {} late by {late} (budget {budget}: one interval)",
                        instance_name(cfg, engine, lag.subject),
                        lag.what
                    ),
                    Part::Netlink | Part::Ipvs => write!(
                        what,
                        "{} requests, no answer for {late} (budget {budget})",
                        lag.subject
                    ),
                    Part::Children => write!(
                        what,
                        "{} pid {} past its deadline by {late} (budget {budget})",
                        lag.what, lag.subject
                    ),
                    Part::Checkers => write!(
                        what,
                        "{} #{} late by {late} (budget {budget})",
                        lag.what, lag.subject
                    ),
                };
                let last = Secs(since_kick.unwrap_or(Duration::ZERO));
                if first {
                    log::error!(
                        "watchdog: NOT KICKING: {}: {what}; last kick {last} ago",
                        lag.part
                    );
                } else {
                    log::error!(
                        "watchdog: still not kicking: {}: {what}; withheld for {}, last kick {last} ago",
                        lag.part,
                        Secs(stalled_for)
                    );
                }
            }
            Some(Note::Recovered { after }) => log::warn!(
                "watchdog: every part back in budget after {}: kicking again",
                Secs(after)
            ),
            None => {}
        }
        if !verdict.kick {
            return;
        }
        if let Some(d) = &mut self.device
            && let Err(e) = d.dog.kick()
        {
            self.kick_errors += 1;
            if self.kick_errors == 1 {
                log::error!("watchdog: kick of {} failed: {e}", d.path);
            }
        }
        if self.sd_watchdog {
            self.notify(sd::WATCHDOG);
        }
        log::debug!("watchdog: kick");
    }

    /// The next deadline: a kick, a note, the end of the damping.
    pub fn poll_at(&self) -> Option<Instant> {
        earliest(
            self.health.as_ref().map(Health::poll_at),
            self.recovery.poll_at(),
        )
    }

    /// Runs the damping's deadlines: the hold ends; a stable run clears the
    /// count (written to the state file) and ends safe mode.
    pub fn handle_timeout(&mut self, now: Instant, engine: &mut Engine) {
        while let Some(event) = self.recovery.handle_timeout(now) {
            match event {
                RecoveryEvent::HoldOver => log::warn!(
                    "watchdog: the hold after the reset is over: instances preempt as configured"
                ),
                RecoveryEvent::Stable { was_safe } => {
                    if let Some(state) = &mut self.state {
                        state.record.resets = 0;
                        write_state(state);
                    }
                    if was_safe {
                        engine.set_priority_cap(now, OWNER_PRIORITY);
                        log::warn!(
                            "watchdog: no reset for watchdog_reset_window: safe mode is over, \
                             priorities restored"
                        );
                    } else {
                        log::info!("watchdog: no reset for watchdog_reset_window: count cleared");
                    }
                }
            }
        }
    }

    /// Logs the watchdog's state (SIGUSR1).
    pub fn log_status(&self, now: Instant) {
        let Some(h) = &self.health else {
            log::info!("watchdog: none");
            return;
        };
        let s = h.stats();
        let mut sink: Line = Line::new();
        let _ = match &self.device {
            Some(d) => write!(
                sink,
                "{} ({}, timeout {} s)",
                d.path,
                d.facts.identity(),
                d.facts.timeout_s
            ),
            None => write!(sink, "no device"),
        };
        log::info!(
            "watchdog: {sink}{}; period {}, kicks {} (last {} ago), stalls {}, recoveries {}, \
             kick errors {}, notify errors {}, netlink pending {}",
            if self.sd_watchdog {
                ", WATCHDOG=1 to the service manager"
            } else {
                ""
            },
            Secs(h.period()),
            s.kicks,
            Secs(h.last_kick().map_or(Duration::ZERO, |k| now - k)),
            s.stalls,
            s.recoveries,
            self.kick_errors,
            self.notify_errors,
            h.netlink_pending(),
        );
        let r = &self.recovery;
        let hold = r.hold_until().filter(|&t| t > now).map(|t| Secs(t - now));
        log::info!(
            "watchdog: last reset {}, resets in a row {}, hold {}{}, safe mode {}",
            self.state
                .as_ref()
                .and_then(|st| st.record.last.as_ref())
                .map_or("none recorded", |l| l.cause.word()),
            r.resets(),
            hold.map_or(Secs(Duration::ZERO), |h| h),
            if hold.is_some() { " left" } else { " (off)" },
            if r.is_safe_mode() {
                "ON (priority 1)"
            } else {
                "off"
            },
        );
    }

    /// Orderly exit: the state file says the run stopped cleanly (the
    /// operator's `--clear-resets` in between is kept), and the device is
    /// disarmed with the magic character — unless `watchdog_nowayout`.
    pub fn close(&mut self) {
        self.stopping();
        if let Some(state) = &mut self.state {
            let mut buf = [0u8; STATE_BYTES + 1];
            if let Ok(Some(n)) = statefile::read_state(&state.path, &mut buf)
                && let Ok(now_on_disk) = StateRecord::parse(&buf[..n])
                && now_on_disk.boot == state.record.boot
            {
                state.record = now_on_disk;
            }
            state.record.armed = false;
            write_state(state);
        }
        let Some(d) = self.device.take() else {
            return;
        };
        if self.nowayout {
            d.dog.leave_armed();
            log::warn!(
                "watchdog: {} left running (watchdog_nowayout): the board resets in {} s unless \
                 something kicks it",
                d.path,
                d.facts.timeout_s
            );
        } else {
            match d.dog.disarm() {
                Ok(()) => log::info!("watchdog: {} disarmed (magic close)", d.path),
                Err(e) => log::error!("watchdog: magic close of {} failed: {e}", d.path),
            }
        }
    }
}

/// Writes the record to its file; a failure is logged (picket runs on).
/// Allocates nothing.
fn write_state(state: &mut StateFile) {
    let mut buf = [0u8; STATE_BYTES];
    match state.record.emit(&mut buf) {
        Ok(n) => {
            if let Err(e) = statefile::write_state(&state.path, &buf[..n]) {
                log::error!("watchdog: cannot write {}: {e}", state.path);
            }
        }
        Err(e) => log::error!("watchdog: cannot write {}: {e}", state.path),
    }
}

/// `picket --clear-resets`: sets the count of the state file to zero.
/// Returns the exit code.
pub fn clear_resets(cfg: &Config) -> u8 {
    let Some(path) = cfg.global.watchdog_state_file() else {
        eprintln!("picket: no watchdog state file (watchdog_state_file none)");
        return 1;
    };
    let mut buf = [0u8; STATE_BYTES + 1];
    let mut record = match statefile::read_state(path, &mut buf) {
        Ok(None) => {
            println!("{path}: no state file, nothing to clear");
            return 0;
        }
        Ok(Some(n)) => match StateRecord::parse(&buf[..n]) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("picket: {path}: {e}; delete it to start afresh");
                return 1;
            }
        },
        Err(e) => {
            eprintln!("picket: cannot read {path}: {e}");
            return 1;
        }
    };
    println!(
        "{path}: resets in a row {} (last: {}); cleared to 0: the next start is not damped by \
         earlier resets and not in safe mode",
        record.resets,
        record.last.as_ref().map_or("none", |l| l.cause.word())
    );
    record.resets = 0;
    let mut state = StateFile {
        path: path.to_owned(),
        record,
    };
    write_state(&mut state);
    0
}

/// The status document's `"watchdog"` section: one item, what
/// `log_status` (SIGUSR1) logs — the device, kicks, stalls, the last
/// reset's cause, resets in a row, the hold and safe mode.
impl picket::status::Section for Supervisor {
    fn name(&self) -> &'static str {
        "watchdog"
    }

    fn len(&self) -> usize {
        1
    }

    fn item(
        &self,
        _k: usize,
        wall: &picket::status::Wall,
        j: &mut picket::status::json::Json<'_, '_>,
    ) -> std::fmt::Result {
        let now = wall.now;
        j.begin_object()?;
        j.key("device")?;
        match &self.device {
            Some(d) => {
                j.begin_object()?;
                j.field_str("path", &d.path)?;
                j.field_str("identity", d.facts.identity())?;
                j.field_u64("timeout_s", u64::from(d.facts.timeout_s))?;
                j.end_object()?;
            }
            None => j.null()?,
        }
        j.field_bool("service_manager_watchdog", self.sd_watchdog)?;
        j.field_bool("nowayout", self.nowayout)?;
        if let Some(h) = &self.health {
            let s = h.stats();
            j.field_u64("period_ms", h.period().total_millis())?;
            j.field_u64("kicks", s.kicks)?;
            j.field_secs("last_kick", h.last_kick().map(|t| wall.at(t)))?;
            j.field_u64("stalls", s.stalls)?;
            j.field_u64("recoveries", s.recoveries)?;
            j.field_u64("netlink_pending", u64::from(h.netlink_pending()))?;
        }
        j.field_u64("kick_errors", self.kick_errors)?;
        j.field_u64("notify_errors", self.notify_errors)?;
        let r = &self.recovery;
        j.key("last_reset")?;
        match self.state.as_ref().and_then(|st| st.record.last.as_ref()) {
            Some(l) => j.str(l.cause.word())?,
            None => j.null()?,
        }
        j.field_u64("resets_in_a_row", u64::from(r.resets()))?;
        j.field_secs(
            "hold_until",
            r.hold_until().filter(|&t| t > now).map(|t| wall.at(t)),
        )?;
        j.field_bool("safe_mode", r.is_safe_mode())?;
        j.end_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    use crate::Daemon;
    use crate::sys::{clock, counting_alloc};
    use picket::core::CoreSettings;

    /// The loop with a service-manager watchdog kicking every millisecond
    /// (and a state file) allocates nothing after start-up; the kicks
    /// arrive as `WATCHDOG=1` datagrams, after `READY=1`; the stop sends
    /// `STOPPING=1` and records the clean stop.
    #[test]
    fn kicks_through_the_gate_allocate_nothing() {
        // One daemon at a time: each reaps with waitpid(-1).
        let _one = crate::tests::init_logging();
        let dir = std::env::temp_dir().join(format!("picket-sup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock_path = dir.join("notify");
        let rx = UnixDatagram::bind(&sock_path).unwrap();
        rx.set_nonblocking(true).unwrap();
        let state_path = dir.join("lib/state");
        let mut cfg = Box::new(Config::new());
        cfg.global.watchdog_state_file =
            Some(heapless::String::try_from(state_path.to_str().unwrap()).unwrap());
        let env = Env {
            notify_socket: Some(sock_path.to_str().unwrap().to_owned()),
            watchdog_usec: Some("4000".to_owned()),
            watchdog_pid: Some(std::process::id().to_string()),
            fault: None,
        };
        let mut d = Daemon::init(cfg, Some(&CoreSettings::default())).unwrap();
        d.supervisor = Supervisor::open(&d.cfg, &env, clock::now());
        assert_eq!(
            d.supervisor.health.as_ref().map(Health::period),
            Some(Duration::from_millis(1))
        );
        let on_disk = std::fs::read_to_string(&state_path).unwrap();
        assert!(on_disk.contains("run armed\nresets 0\n"), "{on_disk}");

        let mut buf = [0u8; 64];
        let (mut ready, mut kicks_rx, mut other) = (0, 0, 0);
        let mut receive = |rx: &UnixDatagram| {
            while let Ok(n) = rx.recv(&mut buf) {
                match &buf[..n] {
                    b"READY=1" if kicks_rx == 0 => ready += 1,
                    b"WATCHDOG=1" if ready == 1 => kicks_rx += 1,
                    _ => other += 1,
                }
            }
        };
        counting_alloc::start();
        d.start();
        let give_up = clock::now() + Duration::from_secs(30);
        let mut turns = 0u64;
        while d.supervisor.health.as_ref().map_or(0, |h| h.stats().kicks) < 200
            && clock::now() < give_up
        {
            d.turn();
            receive(&rx);
            turns += 1;
        }
        d.supervisor.log_status(clock::now());
        let (allocs, bytes) = counting_alloc::stop();
        receive(&rx);

        let kicks = d.supervisor.health.as_ref().unwrap().stats().kicks;
        println!(
            "{turns} turns, {kicks} kicks; received READY=1 {ready}, WATCHDOG=1 {kicks_rx}, \
             other {other}; {allocs} allocations ({bytes} bytes)"
        );
        assert_eq!((ready, other), (1, 0));
        // Every kick after READY=1 arrived (the first turn runs after it).
        assert_eq!(kicks_rx, kicks);
        assert!(kicks >= 200);
        assert_eq!(d.supervisor.notify_errors, 0);
        assert_eq!(allocs, 0, "allocations in the loop with kicks");

        d.supervisor.close();
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
        let on_disk = std::fs::read_to_string(&state_path).unwrap();
        assert!(on_disk.contains("run stopped\n"), "{on_disk}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
