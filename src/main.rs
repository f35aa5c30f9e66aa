//! The picket binary: command line, start-up, and the loop that drives the
//! sans-IO [`Core`] with real fds, signals, children and clocks.
//!
//! Start-up (allocation allowed): parse the command line, install the
//! logger, load the configuration into boxed tables (built once), block the
//! signals and open the signalfd, write the pid file, build the one
//! [`Daemon`]. After that nothing allocates.
//!
//! # The order of one turn
//!
//! 1. **Read `now`** once from `CLOCK_MONOTONIC`; every input of this turn is
//!    handled at that instant.
//! 2. **Drain every fd** the last poll found ready, each until WouldBlock:
//!    the signalfd (later: VRRP sockets, netlink). An fd whose token the
//!    loop does not know is counted (`unknown_token`), not a panic.
//! 3. **`core.handle_timeout(now)`**: every machine whose deadline is due.
//! 4. **Run every queued action** (`core.poll_action()` until `None`):
//!    spawn, kill, reap, shutdown. Reports of their results go back to the
//!    core at the same `now` and may queue more actions, which run too.
//! 5. (Kick the watchdog: a later issue.)
//! 6. **Sleep in `poll(2)`** until an fd is ready or the core's earliest
//!    deadline (`core.poll_at()`), rounded up to the next millisecond
//!    ([`picket::time::poll_timeout_ms`]), so the loop never wakes early.
//!    EINTR is counted and the turn ends.
//!
//! One [`Daemon`] owns everything; the loop lends it by `&mut`. There is no
//! `static mut`, `RefCell`, `Rc` or `Arc`.
//!
//! Exit codes are keepalived's (reference §a.3): 0 ok, 1 fatal or usage
//! error, 2 configuration errors, 6 configuration missing or unreadable; with
//! `-t`: 0 ok, 4 fatal, 5 configuration errors.

mod cli;
mod logger;
mod sys;

use std::fmt::Write as _;
use std::os::fd::AsFd;
use std::process::ExitCode;

use nix::errno::Errno;
use nix::sys::signal::Signal as NixSignal;
use picket::action::Action;
use picket::config::{Config, Diagnostics, LoadOptions, LoadScratch};
use picket::core::{Core, CoreError, CoreSettings, Signal};
use picket::time::poll_timeout_ms;

use crate::cli::{Mode, Options};
use crate::sys::child::{SpawnError, Spawner, kill_child, reap};
use crate::sys::clock;
use crate::sys::pidfile::PidFile;
use crate::sys::poll::{PollError, PollSet, Token};
use crate::sys::signal::Signals;

/// The signalfd's token.
const TOKEN_SIGNAL: Token = Token(0);

/// Exit codes (keepalived's).
mod exit {
    /// Fatal error (and usage errors, as keepalived's getopt handling).
    pub const FATAL: u8 = 1;
    /// Configuration errors.
    pub const CONFIG: u8 = 2;
    /// The configuration is missing or unreadable.
    pub const NO_CONFIG: u8 = 6;
}

/// Why the daemon could not start.
#[derive(Debug)]
enum InitError {
    /// The settings are wrong.
    Core(CoreError),
    /// A system call failed.
    Sys(&'static str, Errno),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Core(e) => write!(f, "{e}"),
            InitError::Sys(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

/// Everything the running daemon owns.
pub struct Daemon {
    core: Core,
    signals: Signals,
    poll: PollSet,
    spawner: Spawner,
    pid_file: Option<PidFile>,
    finished: bool,
}

impl Daemon {
    /// Builds the daemon (start-up: may allocate). Blocks the handled
    /// signals in the calling thread, which must be the one that runs the
    /// loop.
    fn init(settings: &CoreSettings<'_>) -> Result<Box<Self>, InitError> {
        let core = Core::new(settings).map_err(InitError::Core)?;
        let signals = Signals::open().map_err(|e| InitError::Sys("signalfd", e))?;
        let mut poll = PollSet::new();
        poll.add(&signals.as_fd(), TOKEN_SIGNAL)
            .map_err(|_| InitError::Sys("poll table", Errno::ENOSPC))?;
        Ok(Box::new(Daemon {
            core,
            signals,
            poll,
            spawner: Spawner::from_env(),
            pid_file: None,
            finished: false,
        }))
    }

    /// Starts the core (the startup script is requested here).
    fn start(&mut self) {
        self.core.start(clock::now());
    }

    /// Runs one turn (see the module doc). Returns `true` once the core has
    /// finished stopping.
    fn turn(&mut self) -> bool {
        // 1. now
        let now = clock::now();
        self.core.stats_mut().loop_turns += 1;
        // 2. drain ready fds
        let mut signal_ready = false;
        let mut unknown = 0;
        for token in self.poll.ready() {
            match token {
                TOKEN_SIGNAL => signal_ready = true,
                _ => unknown += 1,
            }
        }
        self.poll.clear_ready();
        self.core.stats_mut().unknown_token += unknown;
        if signal_ready {
            self.drain_signals(now);
        }
        // 3. timeouts
        self.core.handle_timeout(now);
        // 4. actions
        self.run_actions(now);
        // 5. watchdog: later issue.
        if self.finished {
            return true;
        }
        // 6. sleep
        let timeout = poll_timeout_ms(now, self.core.poll_at());
        match self.poll.poll(timeout) {
            Ok(_) => {}
            Err(PollError::Interrupted) => self.core.stats_mut().poll_eintr += 1,
            Err(PollError::Other(e)) => {
                self.core.stats_mut().poll_errors += 1;
                log::error!("poll: {e}");
            }
        }
        false
    }

    fn drain_signals(&mut self, now: picket::time::Instant) {
        loop {
            let signo = match self.signals.read() {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    self.core.stats_mut().signalfd_errors += 1;
                    log::error!("signalfd: {e}");
                    return;
                }
            };
            let signal = match NixSignal::try_from(signo) {
                Ok(NixSignal::SIGHUP) => Signal::Reload,
                Ok(NixSignal::SIGTERM | NixSignal::SIGINT) => Signal::Stop,
                Ok(NixSignal::SIGUSR1) => Signal::DumpData,
                Ok(NixSignal::SIGUSR2) => Signal::DumpStats,
                Ok(NixSignal::SIGCHLD) => Signal::Child,
                _ => {
                    self.core.stats_mut().unknown_signal += 1;
                    continue;
                }
            };
            log::debug!("signal {signo}");
            self.core.handle_signal(now, signal);
        }
    }

    fn run_actions(&mut self, now: picket::time::Instant) {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Spawn {
                    child,
                    argv,
                    timeout,
                } => match self.spawner.spawn(&argv) {
                    Ok(pid) => {
                        log::debug!(
                            "spawned pid {pid}: {argv} (timeout {} ms)",
                            timeout.total_millis()
                        );
                        self.core.handle_child_started(now, child, pid);
                    }
                    Err(SpawnError(e)) => {
                        log::warn!("cannot run {argv}: {e}");
                        self.core.handle_spawn_failed(now, child, e as i32);
                    }
                },
                Action::Kill { pid, signal } => {
                    if let Err(e) = kill_child(pid, signal) {
                        self.core.stats_mut().kill_failed += 1;
                        log::debug!("kill {pid}: {e}");
                    }
                }
                Action::Reap => {
                    let core = &mut self.core;
                    let errors = reap(|pid, status| core.handle_child_exit(now, pid, status));
                    core.stats_mut().waitpid_errors += errors;
                }
                Action::Shutdown => self.finished = true,
            }
        }
    }

    /// Runs the loop until the core has stopped; removes the pid file.
    fn run(&mut self) -> u8 {
        self.start();
        while !self.turn() {}
        if let Some(p) = self.pid_file.take() {
            let path = p.path().to_owned();
            if let Err(e) = p.remove() {
                log::warn!("cannot remove pid file {path}: {e}");
            }
        }
        log::info!(
            "exiting: {} (log lines cut: {})",
            self.core.stats(),
            logger::truncated()
        );
        0
    }
}

/// The host name without its domain (keepalived's default config-id).
fn default_config_id() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.split('.').next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

/// The boxed tables of one load (built once, at start-up).
struct Loaded {
    cfg: Box<Config>,
    diags: Box<Diagnostics>,
}

fn load(opts: &Options) -> Loaded {
    let mut scratch = Box::new(LoadScratch::new());
    let mut cfg = Box::new(Config::new());
    let mut diags = Box::new(Diagnostics::new());
    let config_id = opts.config_id.clone().unwrap_or_else(default_config_id);
    let load_opts = LoadOptions {
        config_id: &config_id,
        all_config: opts.all_config,
    };
    let mut fs = sys::fs::RealFs;
    picket::config::load(
        &mut fs,
        &opts.config_file,
        &load_opts,
        &mut scratch,
        &mut cfg,
        &mut diags,
    );
    Loaded { cfg, diags }
}

fn render(diags: &Diagnostics) -> String {
    let mut out = String::new();
    let _ = diags.render(&mut out);
    out
}

/// The core's settings from the configuration: `global_defs`'
/// `startup_script` and `shutdown_script` with their timeouts.
///
/// Scripts run as picket's own user for now; a `user` given with a script
/// is reported once here (running scripts as `script_user` comes with the
/// notify scripts).
fn core_settings(cfg: &Config) -> CoreSettings<'_> {
    let g = &cfg.global;
    let command = |s: &Option<picket::config::global::ScriptCmd>, what: &str| {
        s.as_ref().map(|s| {
            if !s.user.is_empty() {
                log::warn!(
                    "{what}: user '{}' not applied yet; running as picket's user",
                    s.user
                );
            }
            cfg.strings.get(s.command)
        })
    };
    CoreSettings {
        startup_script: command(&g.startup_script, "startup_script"),
        startup_timeout: g.startup_script_timeout,
        shutdown_script: command(&g.shutdown_script, "shutdown_script"),
        shutdown_timeout: g.shutdown_script_timeout,
    }
}

fn print_limits() {
    use picket::limits;
    println!("board: {} ({})", limits::BOARD, limits::BOARD_DESCRIPTION);
    println!();
    let w = limits::ALL.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for l in limits::ALL {
        println!("{:<w$}  {:>8}  {}", l.name, l.value, l.what);
    }
    println!();
    println!("static memory of the big tables (bytes):");
    let tables: [(&str, usize); 5] = [
        ("Config", size_of::<Config>()),
        ("LoadScratch", size_of::<LoadScratch>()),
        ("Diagnostics", size_of::<Diagnostics>()),
        ("Core", size_of::<Core>()),
        ("Daemon (includes Core)", size_of::<Daemon>()),
    ];
    let total: usize = tables
        .iter()
        .filter(|(n, _)| *n != "Core")
        .map(|(_, s)| s)
        .sum();
    for (name, size) in tables {
        println!("{name:<24}  {size:>10}");
    }
    println!("{:<24}  {total:>10}", "total");
}

fn run_daemon(opts: &Options) -> u8 {
    let target = if opts.log_console {
        logger::Target::Console
    } else {
        logger::Target::Syslog(opts.log_facility)
    };
    logger::init(target, opts.log_detail);
    log::info!(
        "picket {} starting (board {})",
        env!("CARGO_PKG_VERSION"),
        picket::limits::BOARD
    );
    let loaded = load(opts);
    let text = render(&loaded.diags);
    for line in text.lines() {
        if loaded.diags.is_ok() {
            log::warn!("{line}");
        } else {
            log::error!("{line}");
        }
    }
    if loaded.diags.fatal_count() > 0 {
        return exit::NO_CONFIG;
    }
    if !loaded.diags.is_ok() {
        return exit::CONFIG;
    }
    let mut daemon = match Daemon::init(&core_settings(&loaded.cfg)) {
        Ok(d) => d,
        Err(e) => {
            log::error!("cannot start: {e}");
            return match e {
                InitError::Core(_) => exit::CONFIG,
                InitError::Sys(..) => exit::FATAL,
            };
        }
    };
    let pid_path = opts.pid_file.as_deref().unwrap_or(cli::DEFAULT_PID_FILE);
    match PidFile::create(pid_path) {
        Ok(p) => daemon.pid_file = Some(p),
        Err(e) if opts.pid_file.is_none() => {
            log::warn!("cannot write pid file {pid_path}: {e} (going on without)");
        }
        Err(e) => {
            log::error!("cannot write pid file {pid_path}: {e}");
            return exit::FATAL;
        }
    }
    daemon.run()
}

fn config_test(opts: &Options, log_file: Option<&str>) -> u8 {
    let loaded = load(opts);
    let text = render(&loaded.diags);
    match log_file {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("picket: cannot write {path}: {e}");
                eprint!("{text}");
            }
        }
        None => eprint!("{text}"),
    }
    loaded.diags.exit_code()
}

fn dump_config(opts: &Options) -> u8 {
    let loaded = load(opts);
    eprint!("{}", render(&loaded.diags));
    if !loaded.diags.is_ok() {
        return loaded.diags.exit_code();
    }
    let mut out = String::new();
    if loaded.cfg.dump(&mut out).is_err() {
        eprintln!("picket: cannot write the configuration");
        return exit::FATAL;
    }
    print!("{out}");
    0
}

fn main() -> ExitCode {
    let opts = match cli::parse(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(cli::UsageError(msg)) => {
            eprintln!("picket: {msg}");
            eprint!("{}", cli::USAGE);
            return ExitCode::from(exit::FATAL);
        }
    };
    let code = match &opts.mode {
        Mode::Help => {
            print!("{}", cli::USAGE);
            0
        }
        Mode::Version => {
            let mut s = String::new();
            let _ = write!(
                s,
                "picket {} (keepalived-compatible), board {}",
                env!("CARGO_PKG_VERSION"),
                picket::limits::BOARD
            );
            println!("{s}");
            0
        }
        Mode::Limits => {
            print_limits();
            0
        }
        Mode::ConfigTest(log_file) => config_test(&opts, log_file.as_deref()),
        Mode::DumpConfig => dump_config(&opts),
        Mode::Run => run_daemon(&opts),
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    // `raise` signals the calling thread (POSIX), the one that blocked the
    // signals and reads the signalfd.
    use nix::sys::signal::raise;
    use picket::time::Duration;

    use crate::sys::counting_alloc;

    /// The daemon reaps with `waitpid(-1)` (it is the only forker in its
    /// process), so two daemons in one test process would steal each other's
    /// children: their tests take turns.
    static ONE_DAEMON: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn init_logging() -> std::sync::MutexGuard<'static, ()> {
        logger::init(logger::Target::Console, false);
        ONE_DAEMON
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The real loop — real poll, signalfd, clock, fork/exec — allocates
    /// nothing after start-up.
    #[test]
    fn ten_thousand_turns_allocate_nothing() {
        let _one = init_logging();
        let settings = CoreSettings {
            startup_script: Some("/bin/true"),
            ..CoreSettings::default()
        };
        let mut d = Daemon::init(&settings).unwrap();
        d.core.set_housekeeping_period(clock::now(), Duration::ZERO);

        // The counter counts.
        counting_alloc::start();
        drop(std::hint::black_box(Box::new(7u64)));
        assert_eq!(counting_alloc::stop(), (1, 8));

        counting_alloc::start();
        d.start();
        let mut turns = 0u64;
        for i in 0..10_000 {
            if i == 5_000 {
                let _ = raise(NixSignal::SIGUSR1);
            }
            if d.turn() {
                break;
            }
            turns += 1;
        }
        // Make sure the child was reaped inside the counted window.
        let give_up = clock::now() + Duration::from_secs(5);
        while d.core.stats().children_exited == 0 && clock::now() < give_up {
            d.turn();
            turns += 1;
        }
        let (allocs, bytes) = counting_alloc::stop();

        let s = *d.core.stats();
        println!(
            "zero-alloc test: {turns} turns, {} housekeeping ticks, {} spawned, {} reaped, \
             {allocs} allocations ({bytes} bytes)",
            s.housekeeping_ticks, s.children_started, s.children_exited
        );
        println!("stats: {s}");
        assert!(turns >= 10_000);
        assert!(s.housekeeping_ticks >= 10_000);
        assert_eq!(s.children_started, 1);
        assert_eq!(s.children_exited, 1);
        assert_eq!(s.unknown_signal, 0);
        assert_eq!(
            d.core.children().last_exit().map(|r| r.outcome),
            Some(picket::core::ChildOutcome::Ended(
                picket::core::ChildStatus::Exited(0)
            ))
        );
        assert_eq!(s.dump_data, 1, "SIGUSR1 handled");
        assert_eq!(allocs, 0, "allocations in the loop");
    }

    /// SIGTERM runs the shutdown script (found through PATH) and stops.
    #[test]
    fn sigterm_runs_the_shutdown_script_and_stops() {
        let _one = init_logging();
        let settings = CoreSettings {
            shutdown_script: Some("true --from-picket"),
            ..CoreSettings::default()
        };
        let mut d = Daemon::init(&settings).unwrap();
        // SIGCHLD may go to another test thread; the tick reaps soon anyway.
        d.core
            .set_housekeeping_period(clock::now(), Duration::from_millis(10));
        d.start();
        d.turn();
        let _ = raise(NixSignal::SIGTERM);
        let give_up = clock::now() + Duration::from_secs(10);
        let mut done = false;
        while !done && clock::now() < give_up {
            done = d.turn();
        }
        assert!(done);
        assert!(d.core.is_finished());
        let rec = d.core.children().last_exit().unwrap();
        assert_eq!(rec.role, picket::core::ChildRole::ShutdownScript);
        assert_eq!(
            rec.outcome,
            picket::core::ChildOutcome::Ended(picket::core::ChildStatus::Exited(0))
        );
    }
}
