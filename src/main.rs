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
//! 2. **Drain every fd** the last poll found ready, each until WouldBlock
//!    (a VRRP socket: at most `limits::VRRP_READS_PER_TURN` datagrams, so a
//!    flood cannot hold the timers back):
//!    the signalfd, VRRP sockets, netlink (the reflector's monitor runs an
//!    address scan after its drain when the engine asks for one: see
//!    `reflector`). An fd whose token the loop does not know is counted
//!    (`unknown_token`), not a panic.
//! 3. **`core.handle_timeout(now)`**: every machine whose deadline is due.
//! 4. **Run every queued action** (`core.poll_action()` until `None`):
//!    spawn, kill, reap, shutdown. Reports of their results go back to the
//!    core at the same `now` and may queue more actions, which run too.
//! 5. **Kick the watchdog** (`supervisor`): every part reported how late
//!    it is at step 3 (VRRP timers, child deadlines; netlink answers as they
//!    come); the turn's own length is checked now; the kick is given only
//!    when every part is in budget, at most once per kick period
//!    (`picket::watchdog::health`). Otherwise no kick, and the part and its
//!    lag are logged.
//! 6. **Sleep in `ppoll(2)`** until an fd is ready or the earliest deadline
//!    of the core, the VRRP engine and the watchdog's next kick (so an idle
//!    loop still kicks): a timerfd armed at that absolute
//!    monotonic time is in the fd table (`sys::timer`), because poll's own
//!    timeout may run late by 0.1 % of its length — 3.6 ms on a 3.6 s
//!    Master_Down_Interval. A deadline already due polls without sleeping.
//!    The loop never wakes early. EINTR is counted and the turn ends.
//!
//! One [`Daemon`] owns everything; the loop lends it by `&mut`. There is no
//! `static mut`, `RefCell`, `Rc` or `Arc`.
//!
//! Exit codes are keepalived's (reference §a.3): 0 ok, 1 fatal or usage
//! error, 2 configuration errors, 6 configuration missing or unreadable; with
//! `-t`: 0 ok, 4 fatal, 5 configuration errors.

mod apply_reload;
mod cli;
mod dump_files;
mod if_sockets;
mod ipvs_sync;
mod logger;
mod reflector;
mod status_client;
mod status_socket;
mod supervisor;
mod sys;

use std::fmt::Write as _;
use std::os::fd::AsFd;
use std::process::ExitCode;

use nix::errno::Errno;
use nix::sys::signal::Signal as NixSignal;
use picket::action::Action;
use picket::check::misc::ScriptOutcome;
use picket::check::{CheckAction, CheckId, Checkers, SlotId, SocketKind};
use picket::config::lvs::CheckKind;
use picket::config::{Config, Diagnostics, LoadOptions, LoadScratch, Severity};
use picket::core::{
    ArgvBuf, ChildEvent, ChildOutcome, ChildRole, ChildStatus, Core, CoreError, CoreSettings,
    NOTIFY_TIMEOUT, RunAs, Signal, split_command,
};
use picket::lvs::{Lvs, LvsAction};
use picket::time::{earliest, poll_timeout};
use picket::vrrp::engine::{Announcement, Engine, EngineAction, IfFacts, Ipv6Meta};
use picket::vrrp::notify::{Line, NotifyRun, NotifyScripts, Subject};
use picket::vrrp::peers::PeerEvent;
use picket::vrrp::track::{
    FileId, FileTable, InstanceTracking, LinkTable, RunOutcome, ScriptId, ScriptTable, Target,
    TrackAction,
};
use picket::wire::netlink::{self as nl, Control};
use picket::wire::route::{RTNH_F_ONLINK, RouteRepr};
use picket::wire::rtnetlink::{Failure, Operation};
use picket::wire::vrrp::Family;

use crate::cli::{Mode, Options};
use crate::dump_files::{Dump, DumpPaths};
use crate::if_sockets::{IfSockets, TOKEN_VRRP_BASE, TOKEN_VRRP6_BASE};
use crate::ipvs_sync::{IpvsSync, SyncError};
use crate::status_socket::{StatusServer, TOKEN_CLIENT_BASE, TOKEN_LISTENER, Tally};
use crate::supervisor::Supervisor;
use crate::sys::check::CheckSockets;
use crate::sys::child::{SpawnError, Spawner, kill_child, reap};
use crate::sys::clock;
use crate::sys::inotify::{Reading, TrackedFiles};
use crate::sys::net::{self, NetlinkSocket};
use crate::sys::pidfile::{PidFile, PidFileError};
use crate::sys::poll::{PollError, PollSet, Token};
use crate::sys::signal::Signals;
use crate::sys::timer::DeadlineTimer;
use crate::sys::user::{self, ScriptUsers};
use crate::sys::vmac::Vmacs;

/// The signalfd's token.
const TOKEN_SIGNAL: Token = Token(0);
/// The rtnetlink command socket's token.
const TOKEN_NETLINK: Token = Token(1);
/// The deadline timerfd's token.
const TOKEN_TIMER: Token = Token(2);
/// The reflector's monitor socket's token (rtnetlink `RTMGRP_LINK`,
/// `RTMGRP_IPV4_IFADDR`, `RTMGRP_IPV6_IFADDR`).
const TOKEN_LINKS: Token = Token(3);
/// The inotify fd watching `vrrp_track_file`s.
const TOKEN_TRACK_FILES: Token = Token(4);
/// The IPVS generic netlink socket's token.
const TOKEN_IPVS: Token = Token(5);
/// The checkers' epoll fd (their sockets are slots inside it).
const TOKEN_CHECKS: Token = Token(0x10000);

/// Bytes of the receive buffer (a VRRP datagram is at most 20 + 8 + 255 × 16
/// + 8 bytes; netlink acks are small).
const RX_BUF: usize = 8192;

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
    /// A VRRP instance cannot run (already logged).
    Setup,
    /// A system call failed.
    Sys(&'static str, Errno),
    /// A `vrrp_script` or an instance's trackers cannot be set up.
    Tracking(String),
    /// IPVS cannot be used.
    Ipvs(SyncError),
    /// A script's user cannot be found, or a script is not safe to run
    /// (`enable_script_security`).
    Scripts(String),
    /// A `virtual_routes` entry names an interface that does not exist.
    Routes(String),
    /// A VMAC cannot be set up.
    Vmac(String),
    /// A checker cannot be set up.
    Checker(String),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Core(e) => write!(f, "{e}"),
            InitError::Setup => f.write_str("VRRP instances cannot run"),
            InitError::Sys(what, e) => write!(f, "{what}: {e}"),
            InitError::Tracking(why)
            | InitError::Scripts(why)
            | InitError::Routes(why)
            | InitError::Vmac(why)
            | InitError::Checker(why) => f.write_str(why),
            InitError::Ipvs(e) => write!(f, "{e}"),
        }
    }
}

/// The health checkers, the real-server logic and the checkers' sockets
/// (present when the configuration has virtual servers).
struct Health {
    checkers: Box<Checkers>,
    lvs: Box<Lvs>,
    sockets: CheckSockets,
    /// Requests are written here before they are sent.
    tx: [u8; picket::limits::CHECK_RX_BYTES],
    /// Scripts' arguments are split here.
    argv: ArgvBuf,
    /// Who each checker's script runs as, by check (`MISC_CHECK`'s `user`,
    /// else the default script user); room for every check a reload brings.
    misc_users: Vec<RunAs>,
    /// A reload's next real-server state (allocated once).
    spare_lvs: Box<Lvs>,
    /// A reload's map from the old configuration's servers and checks to
    /// the new one's.
    map: Box<picket::lvs::reload::ServerMap>,
}

impl Health {
    /// Builds the checkers of `cfg` and their socket pool, and puts the
    /// pool's epoll fd in the poll table (start-up).
    fn init(
        cfg: &Config,
        users: &ScriptUsers,
        poll: &mut PollSet,
    ) -> Result<Option<Health>, InitError> {
        if cfg.lvs.virtual_servers.is_empty() {
            return Ok(None);
        }
        if let Err(e) = sys::check::raise_open_files() {
            log::warn!(
                "cannot raise the open-file limit to {}: {e}",
                picket::limits::OPEN_FILES
            );
        }
        let mut misc_users = Vec::with_capacity(picket::limits::CHECKERS);
        fill_misc_users(cfg, users, &mut misc_users);
        let seed = clock::now().total_micros() as u64 ^ (u64::from(std::process::id()) << 32);
        let checkers = Checkers::new(cfg, seed).map_err(|e| {
            InitError::Checker(match e {
                picket::check::engine::SetupError::MiscPath(c, why) => {
                    format!("MISC_CHECK {}: misc_path: {why}", c.0)
                }
            })
        })?;
        let sockets = CheckSockets::open().map_err(|e| InitError::Sys("checker epoll", e))?;
        poll.add(&sockets.as_fd(), TOKEN_CHECKS)
            .map_err(|_| InitError::Sys("poll table", Errno::ENOSPC))?;
        Ok(Some(Health {
            checkers: Box::new(checkers),
            lvs: Box::new(Lvs::new(cfg)),
            sockets,
            tx: [0; picket::limits::CHECK_RX_BYTES],
            argv: ArgvBuf::new(),
            misc_users,
            spare_lvs: Box::new(Lvs::new(cfg)),
            map: Box::new(picket::lvs::reload::ServerMap::new()),
        }))
    }
}

/// Who each check of `cfg` runs its script as, into `out` (cleared; within
/// its capacity: no allocation when it has room for every check).
fn fill_misc_users(cfg: &Config, users: &ScriptUsers, out: &mut Vec<RunAs>) {
    out.clear();
    for c in &cfg.lvs.checkers {
        out.push(match &c.kind {
            CheckKind::Misc(m) => users.find(cfg.strings.get(m.user), cfg.strings.get(m.group)),
            _ => RunAs::DEFAULT,
        });
    }
}

/// Everything the running daemon owns.
///
/// The tables a configuration is run from come in pairs: the running one
/// and a spare of the same size, allocated at start-up, into which a reload
/// builds the next configuration (see `apply_reload`); a reload that is
/// applied swaps them. Their memory is part of the static budget
/// (`picket --limits`).
pub struct Daemon {
    cfg: Box<Config>,
    core: Core,
    engine: Box<Engine>,
    signals: Signals,
    timer: DeadlineTimer,
    poll: PollSet,
    spawner: Spawner,
    /// Who scripts run as (looked up at start-up).
    users: ScriptUsers,
    /// Who each `vrrp_script` runs as, by script id (room for every
    /// script).
    script_users: Vec<RunAs>,
    /// The sockets of the engine's interfaces.
    sockets: IfSockets,
    /// Every tracked `vrrp_script`: runs and results.
    scripts: Box<ScriptTable>,
    /// Tracked interfaces (`track_interface`, and each instance's own unless
    /// `dont_track_primary`), kept by the reflector's monitor.
    links: Box<LinkTable>,
    /// The reflector's monitor: link and address notifications (opened
    /// when an instance runs or a link is tracked).
    link_monitor: Option<NetlinkSocket>,
    /// Address dumps of the reflector's scans (opened when an instance
    /// runs).
    scan_socket: Option<NetlinkSocket>,
    /// Sequence number of the last address dump.
    scan_seq: u32,
    /// The port id of the command socket `netlink`: notifications caused
    /// by picket's own requests carry it.
    own_port: u32,
    /// The value of each `vrrp_track_file`.
    files: FileTable,
    /// The watch on tracked files (opened when a file is tracked).
    tracked_files: Option<TrackedFiles>,
    /// Each engine instance's trackers, by slot (room for every instance).
    tracking: Vec<InstanceTracking>,
    /// Address requests and their acks (opened when an instance runs).
    netlink: Option<NetlinkSocket>,
    /// Each engine instance's `virtual_routes`, as requests (room for
    /// every instance).
    routes: Routes,
    /// Low bits of the next netlink sequence number.
    netlink_counter: u32,
    buf: [u8; RX_BUF],
    /// The IPVS link and table (when virtual servers are configured).
    ipvs: Option<IpvsSync>,
    /// Allocations counted when the loop started (see `sys::allocations`).
    heap_at_start: u64,
    /// The main thread's stack, handed back after start-up and reloads
    /// (found when the loop starts).
    stack: Option<sys::stack::Stack>,
    /// The watchdog: kicks, reset damping (none until `run_daemon` opens it).
    supervisor: Supervisor,
    pid_file: Option<PidFile>,
    finished: bool,
    /// The VMACs (deleted when the daemon is dropped).
    vmacs: Vmacs,
    /// Health checkers and real servers (`None` without virtual servers).
    health: Option<Health>,
    /// The status socket and its clients.
    status: StatusServer,
    /// When the daemon was built.
    started: picket::time::Instant,
    /// The configuration file (for the status document and reloads).
    config_file: heapless::String<{ picket::limits::PATH_BYTES }>,
    /// `-i` (the `@id` of conditional lines) and `-e`, for reloads.
    config_id: heapless::String<{ picket::limits::PATH_BYTES }>,
    all_config: bool,
    /// Reloads so far.
    reloads: picket::status::ReloadLog,
    /// `$TMPDIR` (else `/tmp`), read at start-up.
    tmp_dir: heapless::String<{ picket::limits::PATH_BYTES }>,
    /// Where the dump files go.
    dump_paths: DumpPaths,
    /// The spare tables a reload fills.
    spare: Box<Spare>,
}

/// The tables a reload builds the next configuration into (see
/// [`Daemon`]).
struct Spare {
    cfg: Box<Config>,
    scratch: Box<LoadScratch>,
    diags: Box<Diagnostics>,
    engine: Box<Engine>,
    scripts: Box<ScriptTable>,
    links: Box<LinkTable>,
    tracking: Vec<InstanceTracking>,
    sockets: IfSockets,
    routes: Routes,
    script_users: Vec<RunAs>,
}

impl Spare {
    /// Empty spare tables (start-up).
    fn new(scratch: Box<LoadScratch>) -> Box<Self> {
        Box::new(Spare {
            cfg: Box::new(Config::new()),
            scratch,
            diags: Box::new(Diagnostics::new()),
            engine: Box::new(Engine::empty()),
            scripts: Box::new(ScriptTable::new()),
            links: Box::new(LinkTable::new()),
            tracking: Vec::with_capacity(picket::limits::VRRP_INSTANCES),
            sockets: IfSockets::new(),
            routes: Vec::with_capacity(picket::limits::VRRP_INSTANCES),
            script_users: Vec::with_capacity(picket::limits::VRRP_SCRIPTS),
        })
    }
}

/// The status document's view of a daemon: its fields borrowed one by one,
/// so the status server and the poll table stay free to borrow mutably.
macro_rules! status_view {
    ($d:expr, $wall:expr, $sections:expr) => {
        picket::status::StatusView {
            facts: picket::status::Facts {
                version: env!("CARGO_PKG_VERSION"),
                board: picket::limits::BOARD,
                pid: std::process::id(),
                config_file: &$d.config_file,
                started: $d.started,
                wall: $wall,
                reloads: &$d.reloads,
            },
            cfg: &$d.cfg,
            engine: &$d.engine,
            scripts: &$d.scripts,
            links: &$d.links,
            stats: $d.core.stats(),
            sections: $sections,
        }
    };
}

/// The extra sections of the status document: the watchdog, IPVS and the
/// health checkers when they run, into `$list` (a `let mut` declared by the
/// caller with `$ipvs` and `$lvs`, so the borrows live as long as the view).
macro_rules! status_sections {
    ($d:expr, $ipvs:ident, $lvs:ident, $list:ident) => {{
        $ipvs = $d
            .ipvs
            .as_ref()
            .map(|i| picket::status::ipvs::IpvsSection(i.reconciler()));
        $lvs = $d.health.as_ref().map(|h| {
            picket::status::lvs::LvsSection(picket::status::lvs::LvsView {
                cfg: &$d.cfg,
                lvs: &h.lvs,
                checks: &h.checkers,
            })
        });
        let watchdog: &dyn picket::status::Section = &$d.supervisor;
        $list = [watchdog; 3];
        let mut n = 1;
        if let Some(s) = &$ipvs {
            $list[n] = s;
            n += 1;
        }
        if let Some(s) = &$lvs {
            $list[n] = s;
            n += 1;
        }
        &$list[..n]
    }};
}

impl Daemon {
    /// Builds the daemon (start-up: may allocate): the core from the
    /// configuration (or from `settings` when given, for tests), the VRRP
    /// engine with its interfaces looked up, and their sockets. Blocks the
    /// handled signals in the calling thread, which must be the one that
    /// runs the loop.
    fn init(
        mut cfg: Box<Config>,
        settings: Option<&CoreSettings<'_>>,
    ) -> Result<Box<Self>, InitError> {
        // VRRP deadlines are met to within a few microseconds, not 50.
        clock::set_timer_slack(1_000);
        // Before the engine: the instances run on their VMACs.
        let vmacs = Vmacs::setup(&mut cfg).map_err(InitError::Vmac)?;
        let uses = user::scripts_of(&cfg);
        let users = user::script_users(&cfg, &uses).map_err(InitError::Scripts)?;
        // Each program named without a path is resolved once, here: the
        // file the security check judges is the file every spawn runs.
        let mut spawner = Spawner::from_env();
        spawner
            .resolve_programs(&cfg)
            .map_err(|e| InitError::Scripts(e.to_string()))?;
        user::check_scripts_with(&cfg, &users, &uses, spawner.programs())
            .map_err(InitError::Scripts)?;
        drop(uses);
        let mut script_users = Vec::with_capacity(picket::limits::VRRP_SCRIPTS);
        fill_script_users(&cfg, &users, &mut script_users);
        let core = match settings {
            Some(s) => Core::new(s),
            None => Core::new(&core_settings(&cfg, &users)),
        }
        .map_err(InitError::Core)?;
        let mut setup_failed = false;
        let engine = Box::new(Engine::new(
            &cfg,
            &mut interface_facts,
            &mut |i, name, e| {
                let inst = cfg.vrrp.instances.get(i).map_or("?", |v| v.name.as_str());
                log::error!("({inst}) cannot run on {name}: {e}");
                setup_failed = true;
            },
        ));
        if setup_failed {
            return Err(InitError::Setup);
        }
        let mut scripts = Box::new(ScriptTable::new());
        let mut links = Box::new(LinkTable::new());
        let mut tracking = Vec::with_capacity(picket::limits::VRRP_INSTANCES);
        fill_tracking(&cfg, &engine, &mut scripts, &mut links, &mut tracking)
            .map_err(|e| InitError::Tracking(e.to_string()))?;
        let mut routes = Vec::with_capacity(picket::limits::VRRP_INSTANCES);
        fill_routes(&cfg, &engine, &mut routes).map_err(|e| InitError::Routes(e.to_string()))?;
        let signals = Signals::open().map_err(|e| InitError::Sys("signalfd", e))?;
        let mut poll = PollSet::new();
        let full = |_| InitError::Sys("poll table", Errno::ENOSPC);
        poll.add(&signals.as_fd(), TOKEN_SIGNAL).map_err(full)?;
        let timer = DeadlineTimer::new().map_err(|e| InitError::Sys("timerfd", e))?;
        poll.add(&timer.as_fd(), TOKEN_TIMER).map_err(full)?;
        let mut sockets = IfSockets::new();
        sockets
            .prepare(&engine, None)
            .map_err(|(what, e)| InitError::Sys(what, e))?;
        sockets.register(&mut poll).map_err(full)?;
        let mut files = FileTable::new(cfg.vrrp.track_files.len());
        let tracked_files = if cfg.vrrp.track_files.iter().any(|f| f.used) {
            let t = TrackedFiles::open(&cfg.vrrp.track_files).map_err(InitError::Tracking)?;
            poll.add(&t.as_fd(), TOKEN_TRACK_FILES).map_err(full)?;
            for (id, path) in t.files() {
                let reading = sys::inotify::read_value(path);
                log_file_reading(&cfg, id, path, reading);
                files.set(id, reading.value());
            }
            Some(t)
        } else {
            None
        };
        let health = Health::init(&cfg, &users, &mut poll)?;
        let ipvs = if cfg.lvs.virtual_servers.is_empty() {
            None
        } else {
            let i = IpvsSync::open(&cfg, false).map_err(InitError::Ipvs)?;
            poll.add(&i.as_fd(), TOKEN_IPVS).map_err(full)?;
            Some(i)
        };
        let status = open_status_socket(&cfg);
        status.register(&mut poll).map_err(full)?;
        let tmp_dir = tmp_dir();
        let mut d = Box::new(Daemon {
            core,
            engine,
            signals,
            timer,
            poll,
            spawner,
            users,
            script_users,
            sockets,
            scripts,
            links,
            link_monitor: None,
            scan_socket: None,
            scan_seq: 0,
            own_port: 0,
            files,
            tracked_files,
            tracking,
            netlink: None,
            routes,
            netlink_counter: 0,
            buf: [0; RX_BUF],
            ipvs,
            heap_at_start: 0,
            stack: None,
            supervisor: Supervisor::none(),
            pid_file: None,
            finished: false,
            status,
            started: clock::now(),
            config_file: heapless::String::new(),
            config_id: heapless::String::new(),
            all_config: false,
            reloads: picket::status::ReloadLog::default(),
            dump_paths: DumpPaths::of(&cfg, &tmp_dir),
            tmp_dir,
            cfg,
            spare: Spare::new(Box::new(LoadScratch::new())),
            vmacs,
            health,
        });
        let mut failed = None;
        d.open_netlink_sockets(&mut |what, e| {
            failed.get_or_insert((what, e));
        });
        match failed {
            Some((what, e)) => Err(InitError::Sys(what, e)),
            None => Ok(d),
        }
    }

    /// Starts the core (the startup script is requested here) and the VRRP
    /// instances.
    fn start(&mut self) {
        let now = clock::now();
        self.supervisor.apply_damping(now, &mut self.engine);
        self.core.start(now);
        // A weight-0 script holds its instances in FAULT until its first
        // result (keepalived): the effective values apply before the start.
        for slot in 0..self.tracking.len() {
            self.apply_tracking(now, slot);
        }
        // Every address as the kernel has it now (sources, configured
        // sources present or not), before the instances start.
        self.settle_view(now);
        self.engine.start(now);
        self.scripts.start(now);
        if let Some(h) = self.health.as_mut() {
            h.lvs.start(&self.cfg);
            h.checkers.start(now, &self.cfg);
        }
        // The table as the checkers start (every real server in unless a
        // check has `alpha`), programmed before the first turn.
        self.sync_ipvs(now);
        if let Some(ipvs) = &mut self.ipvs {
            ipvs.start();
            log_ipvs(ipvs);
        }
        self.run_actions(now);
        self.supervisor.ready();
    }

    /// Runs one turn (see the module doc). Returns `true` once the core has
    /// finished stopping.
    fn turn(&mut self) -> bool {
        // 1. now
        let now = clock::now();
        self.core.stats_mut().loop_turns += 1;
        // 2. drain ready fds
        // The ready tokens are copied out first: draining needs `&mut self`.
        let mut ready = [Token(u32::MAX); picket::limits::FDS];
        let mut n = 0;
        for (slot, token) in ready.iter_mut().zip(self.poll.ready()) {
            *slot = token;
            n += 1;
        }
        self.poll.clear_ready();
        for &token in &ready[..n] {
            match token {
                TOKEN_SIGNAL => self.drain_signals(now),
                TOKEN_NETLINK => self.drain_netlink(now),
                TOKEN_LINKS => self.drain_monitor(now),
                TOKEN_IPVS => {
                    if let Some(i) = &mut self.ipvs {
                        i.drain(now);
                    }
                }
                TOKEN_TRACK_FILES => self.drain_track_files(now),
                TOKEN_TIMER => self.timer.clear(),
                TOKEN_CHECKS => self.drain_checks(now),
                TOKEN_LISTENER => self.status_accept(now),
                Token(t) if (TOKEN_CLIENT_BASE..TOKEN_CLIENT_BASE + 0x1000).contains(&t) => {
                    self.status_client(token);
                }
                Token(t) if (TOKEN_VRRP6_BASE..TOKEN_VRRP6_BASE + 0x1000).contains(&t) => {
                    self.drain_vrrp6(now, (t - TOKEN_VRRP6_BASE) as usize);
                }
                Token(t) if (TOKEN_VRRP_BASE..TOKEN_VRRP6_BASE).contains(&t) => {
                    self.drain_vrrp(now, (t - TOKEN_VRRP_BASE) as usize);
                }
                _ => self.core.stats_mut().unknown_token += 1,
            }
        }
        // 3. timeouts (the watchdog's parts say how late they are first)
        self.supervisor.begin_turn(now, &self.engine, &self.core);
        self.supervisor
            .report_ipvs(now, self.ipvs.as_ref().and_then(IpvsSync::awaiting));
        if self.core.phase() == picket::core::Phase::Running
            && let Some(h) = &self.health
        {
            self.supervisor
                .report_checkers(h.checkers.late(now).map(|(c, d)| (c.0, d)));
        }
        let vrrp_stalled = self.supervisor.vrrp_stalled(now);
        self.core.handle_timeout(now);
        if picket::time::is_due(now, self.status.poll_at()) {
            let tally = self.status.handle_timeout(now, &mut self.poll);
            self.count_status(tally);
        }
        if !vrrp_stalled && picket::time::is_due(now, self.engine.poll_at()) {
            self.engine.handle_timeout(now);
        }
        self.supervisor.handle_timeout(now, &mut self.engine);
        // Stopping: no more script runs (the core refuses them anyway).
        if self.core.phase() == picket::core::Phase::Running
            && picket::time::is_due(now, self.scripts.poll_at())
        {
            self.scripts.handle_timeout(now);
        }
        if self.core.phase() == picket::core::Phase::Running
            && let Some(h) = self.health.as_mut()
            && picket::time::is_due(now, h.checkers.poll_at())
        {
            h.checkers.handle_timeout(now, &self.cfg);
        }
        if let Some(i) = &mut self.ipvs
            && picket::time::is_due(now, i.poll_at())
        {
            i.pump(now);
        }
        // 4. actions
        self.run_actions(now);
        // 5. watchdog
        self.supervisor
            .end_turn(clock::now(), &self.cfg, &self.engine);
        if self.finished {
            return true;
        }
        // 6. sleep
        // A deadline already due: poll without sleeping. A later one: the
        // timerfd wakes the poll at it (precise to the timer slack).
        // Scripts and checkers run only while the core runs: their
        // deadlines must not wake a stopping loop.
        let running = self.core.phase() == picket::core::Phase::Running;
        let engine_at = if vrrp_stalled {
            None
        } else {
            self.engine.poll_at()
        };
        let deadline = earliest(
            earliest(
                earliest(self.core.poll_at(), engine_at),
                earliest(
                    self.ipvs.as_ref().and_then(IpvsSync::poll_at),
                    self.status.poll_at(),
                ),
            ),
            earliest(
                earliest(
                    self.scripts.poll_at().filter(|_| running),
                    self.supervisor.poll_at(),
                ),
                self.health
                    .as_ref()
                    .and_then(|h| h.checkers.poll_at())
                    .filter(|_| running),
            ),
        );
        let timeout = match poll_timeout(clock::now(), deadline) {
            Some(d) if d == picket::time::Duration::ZERO => Some(d),
            _ => {
                if let Err(e) = self.timer.arm(deadline) {
                    self.core.stats_mut().poll_errors += 1;
                    log::error!("timerfd: {e}");
                    poll_timeout(now, deadline)
                } else {
                    None
                }
            }
        };
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
                _ if signo == sys::signal::json_signal() => Signal::DumpJson,
                _ if signo == sys::signal::stats_clear_signal() => Signal::DumpStatsClear,
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
            if signal == Signal::Reload {
                self.core.handle_signal(now, signal);
                self.reload(now);
                continue;
            }
            if signal == Signal::Stop {
                self.supervisor.stopping();
                // Masters send priority 0 and drop their addresses first;
                // `notify_stop` is asked for while the core still runs.
                self.engine.shutdown(now);
                self.run_engine_actions(now);
                if let Some(ipvs) = &mut self.ipvs {
                    ipvs.stop(now);
                }
                if let Some(h) = self.health.as_mut() {
                    h.lvs.shutdown(&self.cfg);
                    self.run_check_actions(now);
                }
            }
            self.core.handle_signal(now, signal);
            if matches!(signal, Signal::DumpData | Signal::DumpStats) {
                self.log_vrrp_state(now);
                if let Some(ipvs) = &self.ipvs {
                    log_ipvs(ipvs);
                }
                if let Some(h) = &self.health {
                    if signal == Signal::DumpData {
                        h.lvs.log_state(&self.cfg);
                    }
                    log::info!(
                        "checkers: {} sockets in use; {}",
                        h.checkers.slots_in_use(),
                        h.checkers.stats()
                    );
                }
            }
            match signal {
                Signal::DumpData => {
                    self.supervisor.log_status(now);
                    self.dump(Dump::Data);
                    if self.health.is_some() {
                        self.dump(Dump::CheckData);
                    }
                }
                Signal::DumpStats => self.dump(Dump::Stats),
                Signal::DumpJson => self.dump(Dump::Json),
                Signal::DumpStatsClear => {
                    self.dump(Dump::Stats);
                    self.engine.clear_stats();
                }
                Signal::Reload | Signal::Stop | Signal::Child => {}
            }
        }
    }

    /// Writes one of keepalived's dump files; a failure is logged and
    /// counted, never fatal.
    fn dump(&mut self, which: Dump) {
        let (ipvs, lvs, mut list);
        let view = status_view!(self, clock::wall(), status_sections!(self, ipvs, lvs, list));
        let path = self.dump_paths.path(which);
        let written = dump_files::write(path, |out| match which {
            Dump::Data => picket::status::keepalived::write_data(&view, out),
            Dump::Stats => picket::status::keepalived::write_stats(&view, out),
            Dump::Json => picket::status::keepalived::write_json(&view, out),
            Dump::CheckData => match &lvs {
                Some(l) => picket::status::lvs::write_check_data(&l.0, out),
                None => Ok(()),
            },
        });
        match written {
            Ok(n) => log::info!("dump written: {path} ({n} bytes)"),
            Err(e) => {
                log::error!("cannot write dump {path}: {e}");
                self.core.stats_mut().dump_errors += 1;
            }
        }
    }

    /// Accepts status clients and sends each its document.
    fn status_accept(&mut self, now: picket::time::Instant) {
        let (ipvs, lvs, mut list);
        let view = status_view!(self, clock::wall(), status_sections!(self, ipvs, lvs, list));
        let tally = self.status.handle_listener(now, &view, &mut self.poll);
        self.count_status(tally);
    }

    /// A status client has room for more of its document.
    fn status_client(&mut self, token: Token) {
        let (ipvs, lvs, mut list);
        let view = status_view!(self, clock::wall(), status_sections!(self, ipvs, lvs, list));
        let tally = self.status.handle_client(token, &view, &mut self.poll);
        self.count_status(tally);
    }

    /// Adds what happened to status clients to the counters.
    fn count_status(&mut self, t: Tally) {
        let s = self.core.stats_mut();
        s.status_served += t.served;
        s.status_refused += t.refused;
        s.status_timeouts += t.timeouts;
        s.status_errors += t.errors;
        s.status_aborted += t.aborted;
    }

    /// Reads the datagrams waiting on the VRRP socket of interface `i`, at
    /// most `VRRP_READS_PER_TURN` (the rest next turn, after the timers).
    fn drain_vrrp(&mut self, now: picket::time::Instant, i: usize) {
        for _ in 0..picket::limits::VRRP_READS_PER_TURN {
            let Some(Some(sock)) = self.sockets.v4.get(i) else {
                return;
            };
            match sock.recv(&mut self.buf) {
                Ok(n) => {
                    let len = n.min(self.buf.len());
                    self.engine.handle_datagram(now, i, &self.buf[..len], n);
                }
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => {
                    self.core.stats_mut().socket_errors += 1;
                    log::debug!("VRRP socket: {e}");
                    return;
                }
            }
        }
        self.core.stats_mut().vrrp_reads_deferred += 1;
    }

    /// Reads the datagrams waiting on the IPv6 VRRP socket of interface
    /// `i`, at most `VRRP_READS_PER_TURN` (the rest next turn).
    fn drain_vrrp6(&mut self, now: picket::time::Instant, i: usize) {
        for _ in 0..picket::limits::VRRP_READS_PER_TURN {
            let Some(Some(sock)) = self.sockets.v6.get(i) else {
                return;
            };
            match sock.recv(&mut self.buf) {
                Ok(got) => {
                    let len = got.len.min(self.buf.len());
                    let meta = Ipv6Meta {
                        src: got.src,
                        dst: got.dst,
                        hop_limit: got.hop_limit,
                    };
                    self.engine
                        .handle_datagram6(now, i, &self.buf[..len], got.len, &meta);
                }
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => {
                    self.core.stats_mut().socket_errors += 1;
                    log::debug!("IPv6 VRRP socket: {e}");
                    return;
                }
            }
        }
        self.core.stats_mut().vrrp_reads_deferred += 1;
    }

    /// Counts an advert that could not be sent: its link gone or down before
    /// the notification saying so was read (the kernel's word comes after
    /// the deletion, so a due advert can race it) under `sends_link_gone`,
    /// anything else under `socket_errors`.
    fn count_send_error(&mut self, e: nix::errno::Errno) {
        use nix::errno::Errno;
        let stats = self.core.stats_mut();
        match e {
            Errno::ENETUNREACH | Errno::ENETDOWN | Errno::ENODEV | Errno::ENXIO => {
                stats.sends_link_gone += 1;
            }
            _ => stats.socket_errors += 1,
        }
    }

    /// Sends the adverts of IPv6 instance `slot`: one to the group, or one
    /// to each unicast peer.
    fn send_adverts6(&mut self, slot: u16, priority: u8) {
        let mut out = [0u8; 1500];
        for k in 0..self.engine.advert_destinations(slot) {
            match self.engine.build_advert6(slot, priority, k, &mut out) {
                Ok(a) => {
                    if let Some(Some(sock)) = self.sockets.v6.get(a.iface)
                        && let Err(e) = sock.send(&out[..a.len], a.src, a.dst, a.hop_limit)
                    {
                        self.count_send_error(e);
                        log::warn!("({}) cannot send advert to {}: {e}", self.name(slot), a.dst);
                    }
                }
                Err(e) => log::error!("({}) cannot build advert: {e}", self.name(slot)),
            }
        }
    }

    /// Announces every address of `slot` `count` times: gratuitous ARP for
    /// IPv4, unsolicited neighbour advertisement for IPv6.
    fn announce(&mut self, slot: u16, count: u16) {
        let cfg = &self.cfg;
        self.engine
            .update_ipv6_forwarding(cfg, slot, &mut net::ipv6_forwarding);
        for _ in 0..count {
            for k in 0..self.engine.announcement_count(slot) {
                self.announce_once(slot, k);
            }
        }
    }

    /// Announces address `k` of `slot` `count` times (a reload added it to
    /// a master).
    fn announce_address(&mut self, slot: u16, k: usize, count: u16) {
        let cfg = &self.cfg;
        self.engine
            .update_ipv6_forwarding(cfg, slot, &mut net::ipv6_forwarding);
        for _ in 0..count {
            self.announce_once(slot, k);
        }
    }

    /// Sends one announcement of address `k` of `slot`.
    fn announce_once(&mut self, slot: u16, k: usize) {
        let mut frame = [0u8; 128];
        let Some((iface, len, kind)) = self
            .engine
            .build_announcement(&self.cfg, slot, k, &mut frame)
        else {
            return;
        };
        if let Some(Some(sock)) = self.sockets.arp.get(iface)
            && let Err(e) = sock.send(&frame[..len])
        {
            self.core.stats_mut().socket_errors += 1;
            let what = match kind {
                Announcement::Arp => "gratuitous ARP",
                Announcement::NeighbourAdvert => "neighbour advertisement",
            };
            log::warn!("({}) cannot send {what}: {e}", self.name(slot));
        }
    }

    /// Reads the kernel's answers to address requests; an error is logged
    /// with the address and interface. Each answer is progress for the
    /// watchdog; answers lost to an overrun are forgotten.
    fn drain_netlink(&mut self, now: picket::time::Instant) {
        loop {
            let Some(sock) = &self.netlink else { return };
            let n = match sock.recv(&mut self.buf) {
                Ok(n) => n.min(self.buf.len()),
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => {
                    self.core.stats_mut().socket_errors += 1;
                    if e == Errno::ENOBUFS {
                        self.supervisor.netlink_lost();
                    }
                    log::warn!("netlink socket: {e}");
                    return;
                }
            };
            for msg in nl::Messages::new(&self.buf[..n]) {
                let Ok(msg) = msg else {
                    self.core.stats_mut().netlink_malformed += 1;
                    break;
                };
                let control = Control::parse(&msg);
                if let Ok(Control::Error(_)) = control {
                    self.supervisor.netlink_answered(now);
                }
                match control {
                    Ok(Control::Error(e)) if !e.is_ack() => {
                        let seq = e.request.sequence;
                        if let Some(k) = vmac_of_seq(seq) {
                            self.vmacs.request_failed(k, e.errno().unwrap_or(0));
                            continue;
                        }
                        log_address_failure(&self.cfg, &self.engine, seq, e.errno().unwrap_or(0));
                    }
                    Ok(_) => {}
                    Err(_) => self.core.stats_mut().netlink_malformed += 1,
                }
            }
        }
    }

    /// Reads the changes of tracked files: a changed value updates the
    /// instances that track the file.
    fn drain_track_files(&mut self, now: picket::time::Instant) {
        let Some(t) = self.tracked_files.as_mut() else {
            return;
        };
        let mut changed: heapless::Vec<FileId, 16> = heapless::Vec::new();
        let mut overflow = false;
        let (cfg, files) = (&self.cfg, &mut self.files);
        let r = t.drain(|id, path, reading| {
            let before = files.value(id);
            log_file_reading(cfg, id, path, reading);
            if files.set(id, reading.value()) {
                log::info!(
                    "VRRP_Track_File({}) value {before} -> {}",
                    file_name(cfg, id),
                    files.value(id)
                );
                if !changed.contains(&id) && changed.push(id).is_err() {
                    overflow = true;
                }
            }
        });
        if let Err(e) = r {
            self.core.stats_mut().socket_errors += 1;
            log::warn!("inotify: {e}");
        }
        if overflow {
            self.apply_all_tracking(now);
            return;
        }
        for id in changed {
            self.apply_tracking_of(now, Target::File(id));
        }
    }

    /// Recomputes the effective priority and fault of every instance that
    /// tracks `target`.
    fn apply_tracking_of(&mut self, now: picket::time::Instant, target: Target) {
        for slot in 0..self.tracking.len() {
            if self.tracking.get(slot).is_some_and(|t| t.tracks(target)) {
                self.apply_tracking(now, slot);
            }
        }
    }

    /// Recomputes every instance's effective priority and fault.
    fn apply_all_tracking(&mut self, now: picket::time::Instant) {
        for slot in 0..self.tracking.len() {
            self.apply_tracking(now, slot);
        }
    }

    /// The sequence number of the next request for item `k` of instance
    /// `slot`; `reload`: of a configuration being replaced (tagged
    /// [`apply_reload::RELOAD_SLOT`], its failure is not looked up in the
    /// new one).
    fn next_seq(&mut self, slot: u16, k: usize, operation: Operation, reload: bool) -> u32 {
        self.netlink_counter = self.netlink_counter.wrapping_add(1);
        let tag = if reload {
            apply_reload::RELOAD_SLOT
        } else {
            slot
        };
        encode_seq(self.netlink_counter, tag, k, operation)
    }

    /// Sends every route request of instance `slot` (each failure comes back
    /// as a netlink error, logged with the route).
    fn route_requests(&mut self, now: picket::time::Instant, slot: u16, operation: Operation) {
        let n = self.routes.get(usize::from(slot)).map_or(0, |r| r.len());
        for k in 0..n {
            self.send_route_request(now, slot, k, operation, false);
        }
    }

    /// Sends the request for route `k` of instance `slot` (answered: the
    /// watchdog counts it until then); `reload`: of a configuration being
    /// replaced (see [`Daemon::send_address_request`]).
    fn send_route_request(
        &mut self,
        now: picket::time::Instant,
        slot: u16,
        k: usize,
        operation: Operation,
        reload: bool,
    ) {
        let seq = self.next_seq(slot, k, operation, reload) | SEQ_ROUTE;
        let Some(r) = self.routes.get(usize::from(slot)).and_then(|r| r.get(k)) else {
            return;
        };
        let mut msg = [0u8; picket::wire::route::MAX_REQUEST_LEN];
        match r.emit(operation, seq, &mut msg) {
            Ok(len) => self.send_request(now, seq, &msg[..len]),
            Err(e) => log::error!("route request of instance {slot}: {e}"),
        }
    }

    /// Sends one address or route request `msg` (sequence `seq`): a send
    /// that fails is logged with what it was for; one that goes out is
    /// counted by the watchdog until its answer.
    fn send_request(&mut self, now: picket::time::Instant, seq: u32, msg: &[u8]) {
        let Some(sock) = &self.netlink else { return };
        if let Err(e) = sock.send(msg) {
            self.core.stats_mut().socket_errors += 1;
            log_address_failure(&self.cfg, &self.engine, seq, e as i32);
        } else {
            self.supervisor.netlink_sent(now);
        }
    }

    /// Sends every address request of instance `slot` (each is answered:
    /// the watchdog counts them until then).
    fn address_requests(&mut self, now: picket::time::Instant, slot: u16, operation: Operation) {
        for k in 0..self.engine.address_count(slot) {
            self.send_address_request(now, slot, k, operation, false);
        }
    }

    /// Sends the request that adds or deletes address `k` (VIPs then
    /// eVIPs) of instance `slot`. `reload`: the address is of a
    /// configuration being replaced (its failure is logged without looking
    /// it up).
    fn send_address_request(
        &mut self,
        now: picket::time::Instant,
        slot: u16,
        k: usize,
        operation: Operation,
        reload: bool,
    ) {
        let seq = self.next_seq(slot, k, operation, reload);
        let mut msg = [0u8; picket::wire::rtnetlink::MAX_REQUEST_LEN];
        match self
            .engine
            .address_request(&self.cfg, slot, k, operation, seq, &mut msg)
        {
            Some(Ok((len, _))) => self.send_request(now, seq, &msg[..len]),
            Some(Err(e)) => log::error!("address request of instance {slot}: {e:?}"),
            None => {}
        }
    }

    fn run_engine_actions(&mut self, now: picket::time::Instant) {
        // Transitions are logged after the packets of this turn are out: a
        // log write must not delay a new master's first advert.
        // (group?, slot or group index, state)
        let mut transitions: heapless::Vec<(bool, u16, picket::vrrp::State), 16> =
            heapless::Vec::new();
        while let Some(action) = self.engine.poll_action(now) {
            match action {
                EngineAction::SendAdvert { slot, priority }
                    if self.engine.family(slot) == Some(Family::Ipv6) =>
                {
                    self.send_adverts6(slot, priority);
                }
                EngineAction::SendAdvert { slot, priority } => {
                    let mut out = [0u8; 1500];
                    // One copy to the group, or one to each unicast peer.
                    for k in 0..self.engine.advert_destinations(slot) {
                        match self.engine.build_advert(slot, priority, k, &mut out) {
                            Ok((iface, dst, len)) => {
                                if let Some(Some(sock)) = self.sockets.v4.get(iface)
                                    && let Err(e) = sock.send(&out[..len], dst)
                                {
                                    self.count_send_error(e);
                                    log::warn!(
                                        "({}) cannot send advert to {dst}: {e}",
                                        self.name(slot)
                                    );
                                }
                            }
                            Err(e) => {
                                log::error!("({}) cannot build advert: {e}", self.name(slot));
                            }
                        }
                    }
                }
                // keepalived: routes after the addresses (a route's source may
                // be a VIP), removed before them.
                EngineAction::AddVips { slot } => {
                    self.address_requests(now, slot, Operation::Add);
                    self.route_requests(now, slot, Operation::Add);
                }
                EngineAction::RemoveVips { slot } => {
                    self.route_requests(now, slot, Operation::Delete);
                    self.address_requests(now, slot, Operation::Delete);
                }
                EngineAction::Garp { slot, count } => self.announce(slot, count),
                EngineAction::Transition { slot, from: _, to } => {
                    if let Err((_, slot, to)) = transitions.push((false, slot, to)) {
                        self.transition(now, slot, to);
                    }
                }
                EngineAction::MasterRxLowerPri {
                    slot,
                    src,
                    priority,
                } => self.master_rx_lower_pri(now, slot, src, priority),
                EngineAction::Peer { slot, event } => match event {
                    PeerEvent::NeverHeard { addr, silent_for } => log::warn!(
                        "({}) unicast peer {addr} not heard from in {} ms since start: normal if \
                         it is a backup; if it is master too, the path between them is cut \
                         (both masters: split brain)",
                        self.name(slot),
                        silent_for.total_millis()
                    ),
                    PeerEvent::HeardAgain { addr } => log::info!(
                        "({}) unicast peer {addr} heard (silent since start until now)",
                        self.name(slot)
                    ),
                },
                EngineAction::GroupTransition { group, to } => {
                    if let Err((_, group, to)) = transitions.push((true, group, to)) {
                        self.group_transition(now, group, to);
                    }
                }
                EngineAction::InterfaceGone { iface } => self.interface_gone(iface),
                EngineAction::InterfaceBack { iface } => self.interface_back(iface),
                EngineAction::RestoreVip { slot, k } => self.restore_vip(now, slot, k),
                EngineAction::Source { slot, event } => self.log_source(slot, event),
            }
        }
        for (group, index, to) in transitions {
            if group {
                self.group_transition(now, index, to);
            } else {
                self.transition(now, index, to);
            }
        }
    }

    /// Logs that sync group `group` entered `to` and asks the core to run
    /// its notify scripts (the state's own, then the generic `notify` with
    /// `GROUP name STATE 0`), after its members' scripts.
    fn group_transition(
        &mut self,
        now: picket::time::Instant,
        group: u16,
        to: picket::vrrp::State,
    ) {
        let Some(g) = self.cfg.vrrp.sync_groups.get(usize::from(group)) else {
            return;
        };
        log::info!("VRRP_Group({}) Syncing instances to {to} state", g.name);
        let scripts = NotifyScripts::from_group(g, &self.cfg.strings);
        match scripts.for_transition(Subject::Group, g.name.as_str(), to, 0) {
            Ok(runs) => request_notify(
                &mut self.core,
                &self.users,
                now,
                &runs,
                "VRRP_Group",
                &g.name,
            ),
            Err(e) => log::error!("VRRP_Group({}) notify script for {to}: {e}", g.name),
        }
    }

    /// Logs that instance `slot` entered `to` and asks the core to run its
    /// notify scripts for it (the state's own, then the generic `notify`
    /// with `INSTANCE name STATE priority`), in transition order. They run
    /// beside the loop, never waited for.
    fn transition(&mut self, now: picket::time::Instant, slot: u16, to: picket::vrrp::State) {
        log::info!("({}) Entering {to} STATE", self.name(slot));
        let Some(inst) = instance_cfg(&self.cfg, &self.engine, slot) else {
            return;
        };
        let priority = self.engine.instance(slot).map_or(0, |i| i.priority());
        let scripts = NotifyScripts::from_instance(inst, &self.cfg.strings);
        match scripts.for_transition(Subject::Instance, inst.name.as_str(), to, priority) {
            Ok(runs) => request_notify(&mut self.core, &self.users, now, &runs, "", &inst.name),
            Err(e) => log::error!("({}) notify script for {to}: {e}", inst.name),
        }
    }

    /// Master `slot` heard a lower priority: logs it (keepalived's words)
    /// and runs `notify_master_rx_lower_pri` as configured (no extra
    /// arguments, as keepalived).
    fn master_rx_lower_pri(
        &mut self,
        now: picket::time::Instant,
        slot: u16,
        src: core::net::IpAddr,
        priority: u8,
    ) {
        let Some(inst) = instance_cfg(&self.cfg, &self.engine, slot) else {
            return;
        };
        let ours = self.engine.instance(slot).map_or(0, |i| i.priority());
        log::info!(
            "({}) Received advert from {src} with lower priority {priority}, ours {ours}, \
             forcing new election",
            inst.name
        );
        let Some(cmd) = &inst.notify_master_rx_lower_pri else {
            return;
        };
        let line = Line::of(cmd, &self.cfg.strings);
        let mut argv = picket::core::ArgvBuf::new();
        match picket::core::split_command(line.command, &mut argv) {
            Ok(()) => {
                let run = NotifyRun {
                    argv,
                    user: line.user,
                    group: line.group,
                };
                request_notify(
                    &mut self.core,
                    &self.users,
                    now,
                    core::slice::from_ref(&run),
                    "",
                    &inst.name,
                );
            }
            Err(e) => log::error!("({}) notify_master_rx_lower_pri: {e}", inst.name),
        }
    }

    /// Logs each instance's state and receive counters (SIGUSR1, SIGUSR2).
    fn log_vrrp_state(&self, now: picket::time::Instant) {
        for slot in 0..u16::try_from(self.engine.len()).unwrap_or(u16::MAX) {
            let (Some(inst), Some(rx)) = (self.engine.instance(slot), self.engine.rx_stats(slot))
            else {
                continue;
            };
            log::info!(
                "({}) state {} priority {} master {:?}; rx: {rx}",
                self.name(slot),
                inst.state(),
                inst.priority(),
                inst.master(),
            );
            if let Some(l) = self.engine.link_stats(slot) {
                let mut held: heapless::String<32> = heapless::String::new();
                for name in picket::vrrp::engine::reflect::hold_names(self.engine.hold(slot)) {
                    let _ = write!(held, " {name}");
                }
                log::info!(
                    "({}) reflector: {l}; held:{}",
                    self.name(slot),
                    if held.is_empty() { " no" } else { &held }
                );
            }
            for p in self.engine.peers(slot).into_iter().flat_map(|p| p.iter()) {
                log::info!("({}) heard {}", self.name(slot), p.summary(now));
            }
        }
        log::info!(
            "VRRP rx not matched to an instance: {}",
            self.engine.global_rx_stats()
        );
    }

    /// The configured name of instance `slot`.
    fn name(&self, slot: u16) -> &str {
        instance_cfg(&self.cfg, &self.engine, slot).map_or("?", |v| v.name.as_str())
    }

    /// Recomputes the effective priority and fault of instance `slot` from
    /// its trackers and hands them to its state machine (a master advertises
    /// a new priority at once).
    fn apply_tracking(&mut self, now: picket::time::Instant, slot: usize) {
        let (Some(t), Some(inst)) = (
            self.tracking.get(slot),
            self.engine
                .instance(u16::try_from(slot).unwrap_or(u16::MAX)),
        ) else {
            return;
        };
        let base = inst.params().priority;
        let e = t.effective(base, &self.scripts, &self.links, &self.files);
        let slot = u16::try_from(slot).unwrap_or(u16::MAX);
        self.engine.set_priority(now, slot, e.priority);
        self.engine.set_fault(now, slot, e.fault);
    }

    /// Carries out the script tables' actions: runs asked for go to the
    /// core's child table; a changed result updates the instances that
    /// track the script. Returns whether there was any.
    fn run_track_actions(&mut self, now: picket::time::Instant) -> bool {
        let mut any = false;
        while let Some(a) = self.scripts.poll_action() {
            any = true;
            match a {
                TrackAction::Run { script, timeout } => {
                    let user = self
                        .script_users
                        .get(usize::from(script.0))
                        .copied()
                        .unwrap_or_default();
                    let requested = self.scripts.argv(script).and_then(|argv| {
                        self.core.request_child_as(
                            now,
                            ChildRole::VrrpScript(script.0),
                            argv,
                            timeout,
                            user,
                        )
                    });
                    if requested.is_none() {
                        self.scripts.handle_exit(now, script, RunOutcome::NotRun);
                    }
                }
                TrackAction::Changed { script, from, to } => {
                    let name = self
                        .cfg
                        .vrrp
                        .scripts
                        .get(usize::from(script.0))
                        .map_or("?", |s| s.name.as_str());
                    log::info!(
                        "VRRP_Script({name}) {} ({from:?} -> {to:?})",
                        if to == picket::vrrp::track::ScriptState::Ok {
                            "succeeded"
                        } else {
                            "failed"
                        }
                    );
                    self.apply_tracking_of(now, Target::Script(script));
                }
            }
        }
        any
    }

    /// Hands the starts and ends of children run for the VRRP side to their
    /// owners. Returns whether there was any.
    fn run_child_events(&mut self, now: picket::time::Instant) -> bool {
        let mut any = false;
        while let Some(e) = self.core.poll_child_event() {
            any = true;
            match e {
                ChildEvent::Started {
                    role: ChildRole::VrrpScript(n),
                    ..
                } => self.scripts.handle_started(now, ScriptId(n)),
                ChildEvent::Ended(rec) => {
                    if let ChildRole::MiscCheck(n) = rec.role
                        && let Some(h) = self.health.as_mut()
                    {
                        let outcome = match rec.outcome {
                            ChildOutcome::Ended(_) if rec.timed_out => ScriptOutcome::TimedOut,
                            ChildOutcome::Ended(ChildStatus::Exited(c)) => ScriptOutcome::Exited(c),
                            ChildOutcome::Ended(ChildStatus::Signaled(s)) => {
                                ScriptOutcome::Signaled(s)
                            }
                            ChildOutcome::SpawnFailed(_) | ChildOutcome::Abandoned => {
                                ScriptOutcome::NotRun
                            }
                        };
                        h.checkers
                            .handle_script_exit(now, &self.cfg, CheckId(n), outcome);
                        continue;
                    }
                    let ChildRole::VrrpScript(n) = rec.role else {
                        continue;
                    };
                    let outcome = match rec.outcome {
                        ChildOutcome::Ended(_) if rec.timed_out => RunOutcome::TimedOut,
                        ChildOutcome::Ended(status) => RunOutcome::Exited(status),
                        ChildOutcome::SpawnFailed(_) | ChildOutcome::Abandoned => {
                            RunOutcome::NotRun
                        }
                    };
                    self.scripts.handle_exit(now, ScriptId(n), outcome);
                }
                ChildEvent::Started { .. } => {}
            }
        }
        any
    }

    /// Runs every action of every machine until none is left: a script's
    /// exit may change a priority (an advert to send), a transition may ask
    /// for a script (a spawn). Bounded, in case of a loop.
    fn run_actions(&mut self, now: picket::time::Instant) {
        for _ in 0..16 {
            self.run_engine_actions(now);
            let tracked = self.run_track_actions(now);
            let checks = self.run_check_actions(now);
            let core = self.run_core_actions(now);
            let events = self.run_child_events(now);
            if !tracked && !core && !events && !checks {
                return;
            }
        }
    }

    /// Carries out the core's actions. Returns whether there was any.
    fn run_core_actions(&mut self, now: picket::time::Instant) -> bool {
        let mut any = false;
        while let Some(action) = self.core.poll_action() {
            any = true;
            match action {
                Action::Spawn {
                    child,
                    argv,
                    timeout,
                    user,
                } => match self.spawner.spawn(&argv, self.users.creds(user)) {
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
        any
    }

    /// Reads every checker socket that is ready: a finished connect
    /// (`SO_ERROR` when epoll flags an error), then data until WouldBlock.
    fn drain_checks(&mut self, now: picket::time::Instant) {
        let Some(h) = self.health.as_mut() else {
            return;
        };
        let n = match h.sockets.collect() {
            Ok(n) => n,
            Err(e) => {
                self.core.stats_mut().socket_errors += 1;
                log::warn!("checker epoll: {e}");
                return;
            }
        };
        let cfg = &self.cfg;
        for i in 0..n {
            let Some(slot) = h.sockets.ready(i) else {
                continue;
            };
            let sid = SlotId(slot as u16);
            if h.checkers.is_connecting(sid) {
                // Ready without an error flag: connected (no getsockopt).
                let error = if h.sockets.has_error(i) {
                    h.sockets.take_error(slot)
                } else {
                    Ok(0)
                };
                match error {
                    Ok(0) => h.checkers.handle_connected(now, cfg, sid),
                    Ok(e) => {
                        h.checkers.handle_io_error(now, cfg, sid, e);
                        continue;
                    }
                    Err(e) => {
                        h.checkers.handle_io_error(now, cfg, sid, e as i32);
                        continue;
                    }
                }
            }
            let stream = h.sockets.is_stream(slot);
            while let Some(buf) = h.checkers.rx_space(sid) {
                match h.sockets.recv(slot, buf) {
                    Ok((0, 0)) if stream => {
                        h.checkers.handle_eof(now, cfg, sid);
                        break;
                    }
                    Ok((got, full)) => h.checkers.handle_received(now, cfg, sid, got, full),
                    Err(nb::Error::WouldBlock) => break,
                    Err(nb::Error::Other(e)) => {
                        h.checkers.handle_io_error(now, cfg, sid, e as i32);
                        break;
                    }
                }
            }
        }
    }

    /// Carries out the checkers' actions (sockets, sends, script runs),
    /// hands their reports to the real-server logic and runs its scripts.
    /// Returns whether there was any.
    fn run_check_actions(&mut self, now: picket::time::Instant) -> bool {
        let Some(h) = self.health.as_mut() else {
            return false;
        };
        let cfg = &self.cfg;
        let mut any = false;
        while let Some(a) = h.checkers.poll_action() {
            any = true;
            match a {
                CheckAction::Open { slot, check, spec } => {
                    let bind_if = cfg
                        .lvs
                        .checkers
                        .get(usize::from(check.0))
                        .map_or("", |c| c.bind_if.as_str());
                    match h.sockets.open_socket(usize::from(slot.0), &spec, bind_if) {
                        Ok(()) if spec.kind != SocketKind::Tcp => {
                            h.checkers.handle_connected(now, cfg, slot);
                        }
                        Ok(()) => {}
                        Err(e) => h.checkers.handle_io_error(now, cfg, slot, e as i32),
                    }
                }
                CheckAction::Send { slot } => {
                    let n = h.checkers.write_request(cfg, slot, &mut h.tx);
                    let sent = match n {
                        Some(n) => h.sockets.send(usize::from(slot.0), &h.tx[..n]),
                        None => Err(Errno::EMSGSIZE),
                    };
                    if let Err(e) = sent {
                        h.checkers.handle_io_error(now, cfg, slot, e as i32);
                    }
                }
                CheckAction::Close { slot } => h.sockets.close(usize::from(slot.0)),
                CheckAction::RunScript { check, timeout } => {
                    let user = h
                        .misc_users
                        .get(usize::from(check.0))
                        .copied()
                        .unwrap_or(RunAs::DEFAULT);
                    let run = h.checkers.script_argv(cfg, check).and_then(|argv| {
                        self.core.request_child_as(
                            now,
                            ChildRole::MiscCheck(check.0),
                            argv,
                            timeout,
                            user,
                        )
                    });
                    if run.is_none() {
                        h.checkers
                            .handle_script_exit(now, cfg, check, ScriptOutcome::NotRun);
                    }
                }
            }
        }
        while let Some(r) = h.checkers.poll_report() {
            any = true;
            h.lvs.handle_report(cfg, r);
        }
        while let Some(LvsAction::Run { event, script }) = h.lvs.poll_action() {
            any = true;
            let line = cfg.strings.get(script.command);
            let user = self.users.of_lvs(cfg, &script);
            let run = split_command(line, &mut h.argv).ok().and_then(|()| {
                self.core
                    .request_child_as(now, ChildRole::LvsNotify, &h.argv, NOTIFY_TIMEOUT, user)
            });
            if run.is_none() {
                log::warn!("{event:?}: script [{line}] not run");
            }
        }
        self.sync_ipvs(now);
        any
    }

    /// Hands the checkers' view of the servers to the IPVS table when it
    /// changed (the link sends the differences).
    fn sync_ipvs(&mut self, now: picket::time::Instant) {
        let (Some(h), Some(ipvs)) = (self.health.as_mut(), self.ipvs.as_mut()) else {
            return;
        };
        if h.lvs.take_changed() {
            let cfg = &self.cfg;
            ipvs.update(
                cfg,
                |r| h.lvs.rs_weight(cfg, r),
                |v| h.lvs.sorry_active(cfg, v),
            );
            ipvs.pump(now);
        }
    }

    /// Runs the loop until the core has stopped; removes the pid file.
    fn run(&mut self) -> u8 {
        self.stack = sys::stack::Stack::find();
        let released = self.stack.map_or(0, |s| s.release_unused());
        log::debug!("start-up stack released: {} KiB", released / 1024);
        self.heap_at_start = sys::allocations();
        self.start();
        while !self.turn() {}
        // The VMACs go once the instances have stopped on them.
        drop(std::mem::take(&mut self.vmacs));
        if let Some(ipvs) = &mut self.ipvs {
            ipvs.finish();
            log_ipvs(ipvs);
        }
        // Counted before the exit's own work (the pid file's path is copied).
        let heap = sys::allocations().saturating_sub(self.heap_at_start);
        self.status.close(&mut self.poll);
        self.supervisor.close();
        if let Some(p) = self.pid_file.take() {
            let path = p.path().to_owned();
            if let Err(e) = p.remove() {
                log::warn!("cannot remove pid file {path}: {e}");
            }
        }
        log::info!(
            "exiting: {} (log lines cut: {}, dropped: {})",
            self.core.stats(),
            logger::truncated(),
            logger::dropped()
        );
        log::info!("heap allocations after start-up: {heap}");
        0
    }
}

/// Whether `cfg` makes picket run any script (startup/shutdown, tracking,
/// notify, quorum, real server notify, MISC_CHECK).
fn runs_scripts(cfg: &Config) -> bool {
    let g = &cfg.global;
    let v = &cfg.vrrp;
    g.startup_script.is_some()
        || g.shutdown_script.is_some()
        || v.scripts.iter().any(|s| s.used)
        || v.instances.iter().any(|i| {
            [
                &i.notify_master,
                &i.notify_backup,
                &i.notify_fault,
                &i.notify_stop,
                &i.notify,
                &i.notify_master_rx_lower_pri,
            ]
            .iter()
            .any(|n| n.is_some())
        })
        || v.sync_groups.iter().any(|s| {
            [
                &s.notify_master,
                &s.notify_backup,
                &s.notify_fault,
                &s.notify_stop,
                &s.notify,
            ]
            .iter()
            .any(|n| n.is_some())
        })
        || cfg
            .lvs
            .virtual_servers
            .iter()
            .any(|s| s.quorum_up.is_some() || s.quorum_down.is_some())
        || cfg
            .lvs
            .real_servers
            .iter()
            .any(|r| r.notify_up.is_some() || r.notify_down.is_some())
        || cfg
            .lvs
            .checkers
            .iter()
            .any(|c| matches!(c.kind, picket::config::lvs::CheckKind::Misc(_)))
}

/// Under `enable_script_security`, the configuration files must be as safe
/// as the scripts they name: each file read (includes too), and every
/// directory above it, owned by root and writable by root only
/// (keepalived's script check, `sys::user::check_path`). Reports each
/// unsafe file by name. No allocation (fixed buffers): a reload runs it.
fn unsafe_config_files(
    cfg: &Config,
    diags: &Diagnostics,
    report: &mut dyn FnMut(picket::config::FileId, &str, &sys::user::Unsafe),
) {
    if !cfg.global.enable_script_security {
        return;
    }
    for i in 0..diags.files.len() {
        let id = picket::config::FileId(u8::try_from(i).unwrap_or(u8::MAX));
        let name = diags.files.name(id);
        let mut at = sys::fs::FixedPath::new();
        let checked = match sys::fs::real_path(name) {
            Ok(path) => sys::user::check_path(&path, &mut at),
            Err(e) => {
                let _ = at.push_str(name);
                Err(sys::user::Flaw::CannotCheck(e))
            }
        };
        if let Err(why) = checked {
            report(id, name, &sys::user::Unsafe { path: at, why });
        }
    }
}

/// Keeps only [`sys::caps::KEPT`] (and cuts the bounding set to it plus
/// `script_capabilities`), then sets `no_new_privs` if asked (by default
/// when no script runs). Failures are logged: picket runs on with more
/// privilege rather than not at all.
fn drop_privileges(cfg: &Config) {
    use sys::caps::{self, KEPT, Names};
    let g = &cfg.global;
    let bounding = match g.script_capabilities {
        u64::MAX => None,
        extra => Some(KEPT | extra),
    };
    match caps::drop_to(KEPT, bounding) {
        Ok(after) => {
            log::info!(
                "capabilities: kept {}; bounding set {}",
                Names(after.permitted),
                Names(after.bounding)
            );
            if after.permitted != KEPT {
                log::warn!(
                    "capabilities not given to picket (some features may fail): {}",
                    Names(KEPT & !after.permitted)
                );
            }
            if let Some(b) = bounding
                && after.bounding & !b != 0
            {
                log::warn!(
                    "bounding set not cut (no cap_setpcap): root scripts keep {}",
                    Names(after.bounding & !b)
                );
            }
        }
        Err(e) => log::warn!("cannot drop capabilities: {e}; running with all of them"),
    }
    let scripts = runs_scripts(cfg);
    if g.no_new_privs.unwrap_or(!scripts) {
        match caps::set_no_new_privs() {
            Ok(()) => {
                log::info!("no_new_privs set: setuid programs and file capabilities are inert")
            }
            Err(e) => log::warn!("cannot set no_new_privs: {e}"),
        }
    } else if scripts {
        log::info!(
            "no_new_privs not set: scripts may run setuid programs (set no_new_privs to forbid)"
        );
    }
}

/// `$TMPDIR`, else `/tmp` (keepalived's directory of dump files;
/// start-up).
fn tmp_dir() -> heapless::String<{ picket::limits::PATH_BYTES }> {
    let mut dir = heapless::String::new();
    match std::env::var("TMPDIR") {
        Ok(d) if d.starts_with('/') && dir.push_str(&d).is_ok() => {}
        _ => {
            dir.clear();
            let _ = dir.push_str("/tmp");
        }
    }
    dir
}

/// The status socket of `status_socket` (start-up). A socket that cannot
/// be made is logged and picket runs without it: the status socket is not
/// worth refusing to run VRRP.
fn open_status_socket(cfg: &Config) -> StatusServer {
    let path = cfg.global.status_socket.as_str();
    if path.is_empty() || path == "none" {
        return StatusServer::off();
    }
    match StatusServer::open(path, cfg.global.status_socket_mode) {
        Ok(s) => {
            log::info!(
                "status socket {path} (mode {:04o})",
                cfg.global.status_socket_mode
            );
            s
        }
        Err(e) => {
            log::error!("status socket {path}: {e}; running without it");
            StatusServer::off()
        }
    }
}

/// Logs the IPVS link's and table's counters.
fn log_ipvs(ipvs: &IpvsSync) {
    let s = ipvs.stats();
    let r = ipvs.reconciler().stats();
    log::info!(
        "IPVS: {} requests in {} datagrams, {} refused, {} malformed and {} stray replies, \
         {} timeouts, {} send and {} receive errors, {} lookups without IPVS; \
         {} ops, {} services and {} destinations adopted, {} foreign services, {} stale destinations; \
         link {}",
        s.requests,
        s.datagrams,
        s.refused,
        s.malformed,
        s.stray,
        s.timeouts,
        s.send_failures,
        ipvs.recv_errors(),
        s.unavailable,
        r.ops,
        r.services_adopted,
        r.dests_adopted,
        r.services_foreign,
        r.dests_stale,
        ipvs.state()
    );
}

/// Why the trackers of a configuration cannot be set up.
#[derive(Debug)]
enum TrackingSetupError {
    /// A `vrrp_script`'s command line (the script's index).
    Script(usize, picket::core::ArgvError),
    /// An instance's trackers (the instance's index in the configuration).
    Instance(usize, picket::vrrp::track::TrackingError),
}

impl TrackingSetupError {
    /// Where in the configuration the problem is.
    fn loc(&self, cfg: &Config) -> Option<picket::config::Loc> {
        match self {
            TrackingSetupError::Script(i, _) => cfg.vrrp.scripts.get(*i).map(|s| s.loc),
            TrackingSetupError::Instance(i, _) => cfg.vrrp.instances.get(*i).map(|s| s.loc),
        }
    }

    /// The message, naming the script or instance.
    fn message<'c>(&self, cfg: &'c Config) -> (&'c str, &'static str) {
        match self {
            TrackingSetupError::Script(i, _) => (
                cfg.vrrp.scripts.get(*i).map_or("?", |s| s.name.as_str()),
                "vrrp_script",
            ),
            TrackingSetupError::Instance(i, _) => (
                cfg.vrrp.instances.get(*i).map_or("?", |s| s.name.as_str()),
                "vrrp_instance",
            ),
        }
    }
}

impl std::fmt::Display for TrackingSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrackingSetupError::Script(_, e) => write!(f, "command: {e}"),
            TrackingSetupError::Instance(_, e) => write!(f, "trackers: {e:?}"),
        }
    }
}

/// Fills the tracked scripts, links and each engine instance's trackers of
/// `cfg` in place (start-up, and a reload's spare tables: nothing
/// allocates, `tracking` has room for every instance).
fn fill_tracking(
    cfg: &Config,
    engine: &Engine,
    scripts: &mut ScriptTable,
    links: &mut LinkTable,
    tracking: &mut Vec<InstanceTracking>,
) -> Result<(), TrackingSetupError> {
    scripts
        .load(&cfg.vrrp.scripts, &cfg.strings)
        .map_err(|e| TrackingSetupError::Script(usize::from(e.script.0), e.error))?;
    *links = LinkTable::new();
    tracking.clear();
    for slot in 0..u16::try_from(engine.len()).unwrap_or(u16::MAX) {
        let Some((i, inst)) = engine
            .config_index(slot)
            .and_then(|i| Some((i, cfg.vrrp.instances.get(i)?)))
        else {
            continue;
        };
        let group = cfg.vrrp.sync_groups.iter().find(|g| {
            g.members
                .iter()
                .any(|(m, _)| m.as_str() == inst.name.as_str())
        });
        let t = InstanceTracking::from_config(
            inst,
            group,
            &cfg.vrrp.scripts,
            &cfg.vrrp.track_files,
            links,
        )
        .map_err(|e| TrackingSetupError::Instance(i, e))?;
        if tracking.len() < tracking.capacity() {
            tracking.push(t);
        }
    }
    Ok(())
}

/// The facts of interface `name` as the engine needs them (`None`: no
/// such interface). No allocation.
fn interface_facts(name: &str) -> Option<IfFacts> {
    net::interface(name).ok().map(|f| IfFacts {
        index: f.index,
        mac: f.mac,
        ipv4: f.ipv4,
        ipv6_link_local: f.ipv6_link_local,
        ipv6_forwarding: net::ipv6_forwarding(name),
        up: f.up,
    })
}

/// The configuration of engine instance `slot`.
fn instance_cfg<'c>(
    cfg: &'c Config,
    engine: &Engine,
    slot: u16,
) -> Option<&'c picket::config::vrrp::VrrpInstance> {
    engine
        .config_index(slot)
        .and_then(|i| cfg.vrrp.instances.get(i))
}

/// The name of tracked file `id`.
fn file_name(cfg: &Config, id: FileId) -> &str {
    cfg.vrrp
        .track_files
        .get(usize::from(id.0))
        .map_or("?", |f| f.name.as_str())
}

/// Logs a tracked file that holds no number or cannot be read (its value is
/// then 0, as keepalived).
fn log_file_reading(cfg: &Config, id: FileId, path: &str, reading: Reading) {
    let name = file_name(cfg, id);
    match reading {
        Reading::Value(_) => {}
        Reading::Garbage => {
            log::warn!("VRRP_Track_File({name}) {path} holds no number: value 0");
        }
        Reading::Unreadable(e) => {
            log::warn!("VRRP_Track_File({name}) cannot read {path}: {e}: value 0");
        }
        Reading::Gone => log::warn!("VRRP_Track_File({name}) {path} was removed: value 0"),
    }
}

/// Reads the state of every tracked link (start-up, and after a lost
/// notification).
fn resync_links(links: &mut LinkTable) {
    let mut i = 0u16;
    while let Some(name) = links.name(picket::vrrp::track::LinkId(i)) {
        let mut n: heapless::String<{ picket::limits::IFNAME_BYTES }> = heapless::String::new();
        let _ = n.push_str(name);
        links.handle_link(&n, net::link_up(&n));
        i = i.saturating_add(1);
        if i == u16::MAX {
            break;
        }
    }
}

/// A netlink sequence number that says which address a request was for:
/// the route bit (0), 9 bits of counter, the operation, 12 bits of
/// instance, 9 bits of address.
fn encode_seq(counter: u32, slot: u16, k: usize, operation: Operation) -> u32 {
    let op = u32::from(operation == Operation::Delete);
    let k = u32::try_from(k).unwrap_or(0) & 0x1ff;
    ((counter & 0x1ff) << 22) | (op << 21) | ((u32::from(slot) & 0xfff) << 9) | k
}

/// The top bit of a sequence number: the request was for route `k`.
const SEQ_ROUTE: u32 = 1 << 31;

/// The instance field of a sequence number that says "VMAC `k`" (no
/// instance has this number, nor a reload's
/// [`apply_reload::RELOAD_SLOT`]).
const SEQ_VMAC_SLOT: u16 = 0xffe;
static_assertions::const_assert!(picket::limits::VRRP_INSTANCES < SEQ_VMAC_SLOT as usize);
static_assertions::const_assert!(SEQ_VMAC_SLOT != apply_reload::RELOAD_SLOT);

/// A sequence number for a run-time request about VMAC `k`.
fn vmac_seq(counter: u32, k: usize) -> u32 {
    encode_seq(counter, SEQ_VMAC_SLOT, k, Operation::Add)
}

/// The VMAC a sequence number was for, if it was for one.
fn vmac_of_seq(seq: u32) -> Option<usize> {
    (seq & SEQ_ROUTE == 0 && (seq >> 9) & 0xfff == u32::from(SEQ_VMAC_SLOT))
        .then_some((seq & 0x1ff) as usize)
}

/// Logs the kernel's refusal of an address request, with the address and
/// interface (or of a route request, see [`log_route_failure`]). Adding an
/// address already there and deleting one already gone are not failures.
fn log_address_failure(cfg: &Config, engine: &Engine, seq: u32, errno: i32) {
    let operation = if seq & (1 << 21) != 0 {
        Operation::Delete
    } else {
        Operation::Add
    };
    if seq & SEQ_ROUTE != 0 {
        log_route_failure(cfg, engine, seq, operation, errno);
        return;
    }
    let slot = u16::try_from((seq >> 9) & 0xfff).unwrap_or(0);
    let k = (seq & 0x1ff) as usize;
    let quiet = matches!(
        (operation, Errno::from_raw(errno)),
        (Operation::Add, Errno::EEXIST) | (Operation::Delete, Errno::EADDRNOTAVAIL | Errno::ENODEV)
    );
    let Some(inst) = engine
        .config_index(slot)
        .and_then(|i| cfg.vrrp.instances.get(i))
    else {
        return;
    };
    let Some(v) = inst.vips.iter().chain(inst.evips.iter()).nth(k) else {
        return;
    };
    let dev = if v.dev.is_empty() {
        inst.interface.as_str()
    } else {
        v.dev.as_str()
    };
    let failure = Failure {
        operation,
        address: v.addr,
        prefix_len: v.prefix_len,
        interface: dev,
        ifindex: engine
            .interfaces()
            .iter()
            .find(|f| f.name.as_str() == dev)
            .map_or(0, |f| f.facts.index),
        errno,
    };
    if quiet {
        log::debug!("({}) {failure}", inst.name);
    } else {
        log::error!("({}) {failure}", inst.name);
    }
}

/// Logs the kernel's refusal of a route request with the route as
/// configured. Adding a route already there and deleting one already gone
/// are not failures.
fn log_route_failure(cfg: &Config, engine: &Engine, seq: u32, operation: Operation, errno: i32) {
    let slot = u16::try_from((seq >> 9) & 0xfff).unwrap_or(0);
    let Some(inst) = instance_cfg(cfg, engine, slot) else {
        return;
    };
    let Some(r) = inst.routes.get((seq & 0x1ff) as usize) else {
        return;
    };
    let e = Errno::from_raw(errno);
    let verb = if operation == Operation::Add {
        "add"
    } else {
        "delete"
    };
    if matches!(
        (operation, e),
        (Operation::Add, Errno::EEXIST) | (Operation::Delete, Errno::ESRCH)
    ) {
        log::debug!("({}) cannot {verb} route {r}: {e}", inst.name);
    } else {
        log::error!("({}) cannot {verb} route {r}: {e}", inst.name);
    }
}

/// Who each `vrrp_script` of `cfg` runs as, by script id, in place
/// (`out` has room for every script).
fn fill_script_users(cfg: &Config, users: &ScriptUsers, out: &mut Vec<RunAs>) {
    out.clear();
    for s in &cfg.vrrp.scripts {
        if out.len() < out.capacity() {
            out.push(users.of(&s.script));
        }
    }
}

/// Each engine instance's `virtual_routes` as requests, by slot.
type Routes = Vec<heapless::Vec<RouteRepr, { picket::limits::ROUTES_PER_INSTANCE }>>;

/// A `virtual_routes` entry names an interface that does not exist.
#[derive(Debug)]
struct RouteError<'c> {
    inst: &'c str,
    route: &'c picket::config::vrrp::VirtualRoute,
    errno: Errno,
}

impl std::fmt::Display for RouteError<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}) virtual_routes '{}': interface {}: {}",
            self.inst, self.route, self.route.dev, self.errno
        )
    }
}

/// Fills the routes of each engine instance as requests, their interfaces
/// looked up, in place (start-up and a reload's spare: `routes` has room
/// for every instance; no allocation). A missing interface is an error
/// naming the route.
fn fill_routes<'c>(
    cfg: &'c Config,
    engine: &Engine,
    all: &mut Routes,
) -> Result<(), RouteError<'c>> {
    all.clear();
    for slot in 0..u16::try_from(engine.len()).unwrap_or(u16::MAX) {
        let Some(inst) = instance_cfg(cfg, engine, slot) else {
            continue;
        };
        let mut routes = heapless::Vec::new();
        for r in &inst.routes {
            // An engine interface has the index the reflector follows (the
            // last one it had while it is gone: the route follows it when
            // it comes back); another one is looked up.
            let known = engine
                .interfaces()
                .iter()
                .find(|f| f.name.as_str() == r.dev.as_str() && f.facts.index != 0)
                .map(|f| f.facts.index);
            let oif = if r.dev.is_empty() {
                None
            } else {
                Some(match known {
                    Some(index) => index,
                    None => {
                        net::link_facts(&r.dev)
                            .map_err(|errno| RouteError {
                                inst: &inst.name,
                                route: r,
                                errno,
                            })?
                            .index
                    }
                })
            };
            // Capacity: the configuration holds at most as many.
            let _ = routes.push(RouteRepr {
                dst: r.dst,
                dst_len: r.dst_len,
                table: r.table,
                protocol: r.protocol,
                scope: r.effective_scope(),
                route_type: r.kind.rtn(),
                flags: if r.onlink { RTNH_F_ONLINK } else { 0 },
                oif,
                gateway: r.via,
                prefsrc: r.src,
                priority: r.metric,
            });
        }
        if all.len() < all.capacity() {
            all.push(routes);
        }
    }
    Ok(())
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
    /// Kept by the daemon for its reloads.
    scratch: Box<LoadScratch>,
    /// The config id used (`-i`, else the host name).
    config_id: String,
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
    Loaded {
        cfg,
        diags,
        scratch,
        config_id,
    }
}

fn render(diags: &Diagnostics) -> String {
    let mut out = String::new();
    let _ = diags.render(&mut out);
    out
}

/// The core's settings from the configuration: `global_defs`'
/// `startup_script` and `shutdown_script` with their timeouts and users.
fn core_settings<'c>(cfg: &'c Config, users: &ScriptUsers) -> CoreSettings<'c> {
    let g = &cfg.global;
    let command = |s: &'c Option<picket::config::global::ScriptCmd>| {
        s.as_ref().map(|s| cfg.strings.get(s.command))
    };
    let user = |s: &Option<picket::config::global::ScriptCmd>| {
        s.as_ref().map_or(RunAs::DEFAULT, |s| users.of(s))
    };
    CoreSettings {
        startup_script: command(&g.startup_script),
        startup_timeout: g.startup_script_timeout,
        startup_user: user(&g.startup_script),
        shutdown_script: command(&g.shutdown_script),
        shutdown_timeout: g.shutdown_script_timeout,
        shutdown_user: user(&g.shutdown_script),
    }
}

/// Asks the core to run notify scripts `runs` (as their users), in order;
/// one not run (the child table and its queue are full) is logged with
/// `kind(name)`.
fn request_notify(
    core: &mut Core,
    users: &ScriptUsers,
    now: picket::time::Instant,
    runs: &[NotifyRun<'_>],
    kind: &str,
    name: &str,
) {
    for r in runs {
        let user = users.find(r.user, r.group);
        if core
            .request_child_as(now, ChildRole::Notify, &r.argv, NOTIFY_TIMEOUT, user)
            .is_none()
        {
            log::warn!("{kind}({name}) notify script not run: {}", r.argv);
        }
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
    let vrrp = size_of::<Engine>()
        + size_of::<ScriptTable>()
        + size_of::<LinkTable>()
        + size_of::<InstanceTracking>() * limits::VRRP_INSTANCES;
    let spare = size_of::<Config>() + size_of::<Diagnostics>() + vrrp;
    let tables: [(&str, usize); 11] = [
        ("Config", size_of::<Config>()),
        ("LoadScratch", size_of::<LoadScratch>()),
        ("Diagnostics", size_of::<Diagnostics>()),
        ("Core", size_of::<Core>()),
        ("Daemon (includes Core)", size_of::<Daemon>()),
        ("VRRP engine and trackers", vrrp),
        ("reload spare tables", spare),
        ("Checkers", size_of::<Checkers>()),
        ("Lvs", size_of::<Lvs>()),
        ("ipvs::Reconciler", size_of::<picket::ipvs::Reconciler>()),
        ("ipvs::link::Link", size_of::<picket::ipvs::link::Link>()),
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
    println!(
        "(a reload builds the next configuration in the spare tables: a second Config, \
         Diagnostics, Engine, scripts, links and trackers; with IPVS, a second table of {} bytes)",
        size_of::<picket::ipvs::Reconciler>()
    );
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
    // Signals wait for the loop from here: whoever reads the pid file may
    // signal at once.
    if let Err(e) = sys::signal::block_handled() {
        log::error!("cannot block signals: {e}");
        return exit::FATAL;
    }
    // The pid file first: a second picket on the same pid file stops here,
    // before it touches anything.
    let pid_path = opts.pid_file.as_deref().unwrap_or(cli::DEFAULT_PID_FILE);
    let pid_file = match PidFile::create(pid_path) {
        Ok(p) => Some(p),
        Err(e @ PidFileError::Locked(_)) => {
            log::error!("cannot start: pid file {pid_path} is {e}");
            return exit::FATAL;
        }
        Err(e) if opts.pid_file.is_none() => {
            log::warn!("cannot write pid file {pid_path}: {e} (going on without)");
            None
        }
        Err(e) => {
            log::error!("cannot write pid file {pid_path}: {e}");
            return exit::FATAL;
        }
    };
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
    // Features this build parses but does not run yet: refuse to start
    // rather than run the configuration differently from keepalived.
    let mut diags = loaded.diags;
    picket::vrrp::engine::check_config(&loaded.cfg, &mut diags, Severity::Error);
    picket::ipvs::check_config(&loaded.cfg, &mut diags);
    let mut unsafe_files = false;
    unsafe_config_files(&loaded.cfg, &diags, &mut |_, name, e| {
        log::error!("SECURITY VIOLATION - configuration file {name}: {e}");
        unsafe_files = true;
    });
    if unsafe_files {
        return exit::CONFIG;
    }
    if !diags.is_ok() {
        for line in render(&diags).lines() {
            log::error!("{line}");
        }
        return exit::CONFIG;
    }
    let mut daemon = match Daemon::init(loaded.cfg, None) {
        Ok(mut d) => {
            if opts.dont_release_ipvs
                && let Some(i) = &mut d.ipvs
            {
                i.set_dont_release(true);
            }
            d
        }
        Err(e) => {
            log::error!("cannot start: {e}");
            return match e {
                InitError::Core(_)
                | InitError::Setup
                | InitError::Tracking(_)
                | InitError::Scripts(_)
                | InitError::Routes(_)
                | InitError::Checker(_) => exit::CONFIG,
                InitError::Sys(..) | InitError::Vmac(_) | InitError::Ipvs(_) => exit::FATAL,
            };
        }
    };
    if let Err(e) = clock::lock_memory() {
        log::warn!("cannot lock memory (mlockall: {e}); a takeover may wait for page faults");
    }
    // The watchdog and the service manager's socket: opened before the
    // capabilities go.
    daemon.supervisor =
        Supervisor::open(&daemon.cfg, &supervisor::Env::from_process(), clock::now());
    // Every socket and device is open: keep only what the loop and the
    // scripts need.
    drop_privileges(&daemon.cfg);
    daemon.pid_file = pid_file;
    let _ = daemon.config_file.push_str(&opts.config_file);
    let _ = daemon.config_id.push_str(&loaded.config_id);
    daemon.all_config = opts.all_config;
    // The start-up's reader scratch serves the reloads.
    daemon.spare.scratch = loaded.scratch;
    daemon.run()
}

fn config_test(opts: &Options, log_file: Option<&str>) -> u8 {
    let mut loaded = load(opts);
    // What this build does not run yet is said, as warnings.
    picket::vrrp::engine::check_config(&loaded.cfg, &mut loaded.diags, Severity::Warning);
    picket::ipvs::check_config(&loaded.cfg, &mut loaded.diags);
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
        Mode::Status(req) => status_client::run(req, &opts),
        Mode::Signum(name) => match sys::signal::signum(name) {
            Some(n) => {
                println!("{n}");
                0
            }
            None => {
                // keepalived's words and status.
                eprintln!("Unknown sigfunc {name}");
                exit::FATAL
            }
        },
        Mode::DumpConfig => dump_config(&opts),
        Mode::ClearResets => {
            let loaded = load(&opts);
            eprint!("{}", render(&loaded.diags));
            if loaded.diags.is_ok() {
                supervisor::clear_resets(&loaded.cfg)
            } else {
                loaded.diags.exit_code()
            }
        }
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

    pub(crate) fn init_logging() -> std::sync::MutexGuard<'static, ()> {
        logger::init(logger::Target::Console, false);
        ONE_DAEMON
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A private directory for a test's sockets and dump files.
    pub(crate) fn test_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("picket-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Points `cfg`'s status socket and dump files into `dir`.
    pub(crate) fn ops_paths(cfg: &mut Config, dir: &std::path::Path) {
        let g = &mut cfg.global;
        g.status_socket.clear();
        g.status_socket
            .push_str(dir.join("status.sock").to_str().unwrap())
            .unwrap();
        for f in [
            &mut g.state_dump_file,
            &mut g.stats_dump_file,
            &mut g.json_dump_file,
        ] {
            f.clear();
            f.push_str(&format!("{}/", dir.display())).unwrap();
        }
    }

    /// A status client in its own thread (its allocations are not
    /// counted), started before the counting: once `go` is set it connects
    /// as soon as the socket answers, and returns the document.
    fn status_client(
        sock: std::path::PathBuf,
        go: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            use std::io::Read as _;
            let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                if go.load(std::sync::atomic::Ordering::Acquire)
                    && let Ok(mut s) = std::os::unix::net::UnixStream::connect(&sock)
                {
                    let mut text = String::new();
                    s.read_to_string(&mut text).unwrap();
                    return text;
                }
                assert!(std::time::Instant::now() < give_up, "no status socket");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    }

    /// The real loop — real poll, signalfd, clock, fork/exec — allocates
    /// nothing after start-up, while it serves a status client and writes
    /// keepalived's three dump files.
    #[test]
    fn ten_thousand_turns_allocate_nothing() {
        let _one = init_logging();
        let settings = CoreSettings {
            startup_script: Some("/bin/true"),
            ..CoreSettings::default()
        };
        let dir = test_dir("zero-alloc");
        let mut cfg = Box::new(Config::new());
        ops_paths(&mut cfg, &dir);
        let mut d = Daemon::init(cfg, Some(&settings)).unwrap();
        d.core.set_housekeeping_period(clock::now(), Duration::ZERO);

        // The counter counts.
        counting_alloc::start();
        drop(std::hint::black_box(Box::new(7u64)));
        assert_eq!(counting_alloc::stop(), (1, 8));

        let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let client = status_client(dir.join("status.sock"), go);
        counting_alloc::start();
        d.start();
        let mut turns = 0u64;
        for i in 0..10_000 {
            if i == 5_000 {
                let _ = raise(NixSignal::SIGUSR1);
                let _ = raise(NixSignal::SIGUSR2);
                // SAFETY: raising a signal this thread has blocked (it
                // waits for the signalfd).
                unsafe { libc::raise(sys::signal::json_signal()) };
            }
            if d.turn() {
                break;
            }
            turns += 1;
        }
        // Make sure the child was reaped and the client served inside the
        // counted window.
        let give_up = clock::now() + Duration::from_secs(5);
        while (d.core.stats().children_exited == 0 || d.core.stats().status_served == 0)
            && clock::now() < give_up
        {
            d.turn();
            turns += 1;
        }
        let (allocs, bytes) = counting_alloc::stop();

        let s = *d.core.stats();
        println!(
            "zero-alloc test: {turns} turns, {} housekeeping ticks, {} spawned, {} reaped, \
             {} status clients, {allocs} allocations ({bytes} bytes)",
            s.housekeeping_ticks, s.children_started, s.children_exited, s.status_served
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
        let doc: serde_json::Value = serde_json::from_str(&client.join().unwrap()).unwrap();
        assert_eq!(doc["picket"]["pid"], std::process::id());
        assert_eq!(s.status_served, 1);
        assert_eq!((s.dump_stats, s.dump_json, s.dump_errors), (1, 1, 0));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("keepalived.json")).unwrap())
                .unwrap();
        assert_eq!(json, serde_json::json!([]));
        assert!(
            std::fs::read_to_string(dir.join("keepalived.data"))
                .unwrap()
                .contains("------< VRRP Topology >------")
        );
        assert!(dir.join("keepalived.stats").exists());
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(s.dump_data, 1, "SIGUSR1 handled");
        assert_eq!(allocs, 0, "allocations in the loop");
    }

    /// Runs `ip ARGS` (in this thread's network namespace); panics on failure.
    pub(crate) fn ip(args: &str) {
        let st = std::process::Command::new("ip")
            .args(args.split_whitespace())
            .status()
            .expect("run ip");
        assert!(st.success(), "ip {args}");
    }

    /// Moves this test thread into a new network namespace with a veth
    /// pair `va` (10.98.0.1) — `vb` (10.98.0.2), both up with link-local
    /// addresses. `false` (after `SKIPPED`) without root.
    pub(crate) fn veth_pair_netns() -> bool {
        if !nix::unistd::Uid::effective().is_root() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root"
            );
            println!("SKIPPED: needs root for a network namespace");
            return false;
        }
        net::enter_new_netns().expect("unshare(CLONE_NEWNET)");
        ip("link set lo up");
        // No duplicate address detection: the link-local addresses are usable
        // as soon as the links are up.
        for conf in ["all", "default"] {
            std::fs::write(format!("/proc/sys/net/ipv6/conf/{conf}/accept_dad"), "0").unwrap();
        }
        ip("link add va type veth peer name vb");
        ip("addr add 10.98.0.1/24 dev va");
        ip("addr add 10.98.0.2/24 dev vb");
        ip("link set va up");
        ip("link set vb up");
        // Both ends are local addresses of this namespace: let each side
        // accept packets from the other's (local) source address.
        for conf in ["all", "va", "vb"] {
            for (key, value) in [("accept_local", "1"), ("rp_filter", "0")] {
                std::fs::write(format!("/proc/sys/net/ipv4/conf/{conf}/{key}"), value).unwrap();
            }
        }
        let link_local = |dev: &str| {
            let out = std::process::Command::new("ip")
                .args(["-6", "-o", "addr", "show", "dev", dev, "scope", "link"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).contains("fe80::")
        };
        let give_up = clock::now() + Duration::from_secs(5);
        while !(link_local("va") && link_local("vb")) && clock::now() < give_up {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            link_local("va") && link_local("vb"),
            "no link-local addresses"
        );
        true
    }

    /// The loop with VRRP running allocates nothing after start-up either:
    /// two instances of one VRID on the two ends of a veth pair (in a
    /// network namespace of this test thread) elect a master, which adds its
    /// VIP over rtnetlink, sends gratuitous ARPs and advertises every 10 ms;
    /// the backup receives and checks every advert; the master's tracking
    /// script (`/bin/true` every 10 ms) runs through the child table and adds
    /// its weight; a tracked file written meanwhile (inotify) adds its
    /// value × weight; the transitions run notify scripts; the master adds
    /// a virtual route. Over IPv6, a second pair (D, E) does the same from
    /// the veths' link-local addresses: its master adds an IPv6 VIP and
    /// sends unsolicited neighbour advertisements, its backup receives
    /// through `recvmsg` with ancillary data. A status client asks once the
    /// elections are over. The reflector works too: A's VIP deleted by hand
    /// is restored; F's primary address deleted, the next one is found by
    /// an address dump; F's interface deleted and created again: F goes
    /// FAULT, its sockets are opened on the new index and it is MASTER
    /// again from the new interface's address.
    #[test]
    fn vrrp_turns_allocate_nothing() {
        let _one = init_logging();
        if !veth_pair_netns() {
            return;
        }
        // A third pair for the reflector: F's interface vc loses its
        // primary address, is deleted and created again.
        ip("link add vc type veth peer name vd");
        ip("addr add 10.97.1.1/24 dev vc");
        ip("addr add 10.97.2.1/24 dev vc");
        ip("link set vc up");
        ip("link set vd up");
        let dir = test_dir("zero-alloc-vrrp");
        let tracked = dir.join("value");
        let text = format!(
            "vrrp_track_file f {{\n file {}\n weight 5\n init_file 0 overwrite\n}}\n",
            tracked.display()
        ) + "vrrp_script chk {\n script \"/bin/true\"\n interval 0.01\n timeout 2\n}\n\
                    vrrp_instance A {\n interface va\n virtual_router_id 7\n priority 150\n \
                    version 3\n advert_int 0.01\n track_script {\n  chk weight 10\n }\n \
                    track_file {\n  f\n }\n \
                    notify \"/bin/true generic\"\n notify_master /bin/true\n \
                    virtual_routes {\n  10.97.0.0/24 via 10.98.0.2 dev va\n }\n \
                    virtual_ipaddress {\n  10.98.0.100/24\n }\n}\n\
                    vrrp_instance B {\n interface vb\n virtual_router_id 7\n priority 100\n \
                    version 3\n advert_int 0.01\n virtual_ipaddress {\n  10.98.0.101/24\n }\n}\n\
                    vrrp_instance C {\n interface va\n virtual_router_id 8\n priority 150\n \
                    version 3\n advert_int 0.01\n virtual_ipaddress {\n  10.98.0.102/24\n }\n}\n\
                    vrrp_sync_group G {\n group {\n  A\n  C\n }\n notify \"/bin/true group\"\n sync_group_tracking_weight\n}\n\
                    vrrp_instance D {\n interface va\n virtual_router_id 9\n priority 150\n \
                    advert_int 0.01\n virtual_ipaddress {\n  fd00:98::100/64\n }\n}\n\
                    vrrp_instance E {\n interface vb\n virtual_router_id 9\n priority 100\n \
                    advert_int 0.01\n virtual_ipaddress {\n  fd00:98::101/64\n }\n}\n\
                    vrrp_instance F {\n interface vc\n virtual_router_id 10\n priority 150\n \
                    version 3\n advert_int 0.01\n virtual_ipaddress {\n  10.97.1.100/24\n }\n}\n";
        let files = [("/t.conf", text.as_str())];
        let mut fs = picket::config::memfs::MemFs::new(&files);
        let mut cfg = Box::new(Config::new());
        let mut diags = Box::new(Diagnostics::new());
        let mut scratch = Box::new(LoadScratch::new());
        let opts = LoadOptions {
            config_id: "t",
            all_config: false,
        };
        picket::config::load(
            &mut fs,
            "/t.conf",
            &opts,
            &mut scratch,
            &mut cfg,
            &mut diags,
        );
        assert!(diags.is_ok(), "{}", render(&diags));
        ops_paths(&mut cfg, &dir);
        let mut d = Daemon::init(cfg, Some(&CoreSettings::default())).unwrap();
        d.core.set_housekeeping_period(clock::now(), Duration::ZERO);

        let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let client = status_client(dir.join("status.sock"), go.clone());
        // Another thread (its allocations are not counted) writes the
        // tracked file while the loop runs: inotify, read, apply.
        let writer = std::thread::spawn({
            let tracked = tracked.clone();
            move || {
                std::thread::sleep(std::time::Duration::from_millis(100));
                std::fs::write(&tracked, "2\n").unwrap();
            }
        });
        // A shell left running in the background (an orphan: the daemon's
        // reaper does not take its commands) works the reflector: A's VIP
        // deleted by hand (restored), F's primary address deleted (the next
        // one is found by a dump), F's interface deleted and created again
        // with an address (sockets closed and opened on the new index).
        let script = "(sleep 0.3; ip addr del 10.98.0.100/24 dev va; sleep 0.1; \
                      ip addr del 10.97.1.1/24 dev vc; sleep 0.1; ip link del vc; sleep 0.1; \
                      ip link add vc type veth peer name vd; ip addr add 10.97.3.1/24 dev vc; \
                      ip link set vc up; ip link set vd up) >/dev/null 2>&1 &";
        let st = std::process::Command::new("sh")
            .args(["-c", script])
            .status()
            .unwrap();
        assert!(st.success());
        counting_alloc::start();
        d.start();
        let mut turns = 0u64;
        let give_up = clock::now() + Duration::from_secs(30);
        let received = |d: &Daemon, slot| {
            d.engine
                .instance(slot)
                .map_or(0, |i| i.stats().adverts_received)
        };
        // A's VIP restored; F lost its interface and is MASTER again, from
        // the address of the new vc.
        let reflected = |d: &Daemon| {
            let stats = |slot| d.engine.link_stats(slot).copied().unwrap_or_default();
            stats(0).vips_restored >= 1
                && stats(5).interface_losses == 1
                && d.engine.state(5) == Some(picket::vrrp::State::Master)
                && d.engine.source(5).map(|(_, a)| a) == Some("10.97.3.1".parse().unwrap())
        };
        while (turns < 10_000
            || received(&d, 1) < 20
            || received(&d, 4) < 20
            || d.core.stats().status_served == 0
            || d.files.value(FileId(0)) != 2
            || !reflected(&d)
            // Settled: a loop turn stalled past B's 30 ms Master_Down_Interval
            // on a loaded machine makes it master until A's next advert.
            || d.engine.state(1) != Some(picket::vrrp::State::Backup))
            && clock::now() < give_up
        {
            if d.turn() {
                break;
            }
            turns += 1;
            // Once elected (and F back), a status client asks (its thread allocates,
            // not the loop's).
            if received(&d, 1) >= 20 && received(&d, 4) >= 20 && reflected(&d) {
                go.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        let (allocs, bytes) = counting_alloc::stop();
        writer.join().unwrap();
        let doc: serde_json::Value = serde_json::from_str(&client.join().unwrap()).unwrap();
        let states: Vec<_> = doc["vrrp"]["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap().to_owned(),
                    i["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: Vec<_> = [
            ("A", "MASTER"),
            ("B", "BACKUP"),
            ("C", "MASTER"),
            ("D", "MASTER"),
            ("E", "BACKUP"),
            ("F", "MASTER"),
        ]
        .iter()
        .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
        .collect();
        assert_eq!(states, want);
        assert_eq!(
            doc["vrrp"]["instances"][1]["master"]["address"],
            "10.98.0.1"
        );
        let _ = std::fs::remove_dir_all(&dir);

        let master = *d.engine.instance(0).unwrap().stats();
        let backup_rx = *d.engine.rx_stats(1).unwrap();
        println!(
            "zero-alloc VRRP test: {turns} turns, master sent {} adverts and {} GARP bursts, \
             backup accepted {} ({backup_rx}); {allocs} allocations ({bytes} bytes)",
            master.adverts_sent, master.garp_bursts, backup_rx.accepted
        );
        assert_eq!(d.engine.state(0), Some(picket::vrrp::State::Master));
        assert_eq!(d.engine.state(1), Some(picket::vrrp::State::Backup));
        // A and C went MASTER together as sync group G.
        assert_eq!(d.engine.state(2), Some(picket::vrrp::State::Master));
        assert_eq!(
            d.engine.sync_group(0).map(|g| g.state()),
            Some(picket::vrrp::State::Master)
        );
        assert!(master.adverts_sent >= 20);
        assert!(backup_rx.accepted >= 20);
        assert!(master.garp_bursts >= 1);
        // No send failed: F's goodbye advert as vc vanished is not sent on
        // it (vc is known gone before its addresses' deletion is taken as
        // "no address": the reflector checks before a scan).
        // A due advert may still race vc's deletion (sent before the
        // notification is read): that one is counted as `sends_link_gone`.
        assert_eq!(d.core.stats().socket_errors, 0, "{}", d.core.stats());
        assert!(d.core.stats().sends_link_gone <= 1, "{}", d.core.stats());
        // The tracking script ran (through the child table) and counted.
        let chk = *d
            .scripts
            .get(picket::vrrp::track::ScriptId(0))
            .unwrap()
            .stats();
        println!(
            "tracking script: {} runs, {} successes, {} children reaped",
            chk.runs,
            chk.successes,
            d.core.stats().children_exited
        );
        assert!(chk.successes >= 1, "{chk:?}");
        // 150 + 10 (script) + 2 × 5 (file, written during the loop).
        assert_eq!(d.files.value(FileId(0)), 2, "the file write was seen");
        assert_eq!(
            d.engine.instance(0).map(picket::vrrp::Instance::priority),
            Some(170)
        );
        let addrs = std::process::Command::new("ip")
            .args(["-o", "addr", "show", "dev", "va"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&addrs.stdout).contains("10.98.0.100/24"),
            "VIP added (and restored after its deletion)"
        );
        // The IPv6 pair.
        let master6 = *d.engine.instance(3).unwrap().stats();
        let backup6 = *d.engine.rx_stats(4).unwrap();
        println!(
            "IPv6: master sent {} adverts and {} NA bursts, backup accepted {} ({backup6})",
            master6.adverts_sent, master6.garp_bursts, backup6.accepted
        );
        assert_eq!(d.engine.state(3), Some(picket::vrrp::State::Master));
        assert_eq!(d.engine.state(4), Some(picket::vrrp::State::Backup));
        assert!(master6.adverts_sent >= 20);
        assert!(backup6.accepted >= 20, "{backup6}");
        assert!(master6.garp_bursts >= 1);
        let addrs6 = std::process::Command::new("ip")
            .args(["-6", "-o", "addr", "show", "dev", "va"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&addrs6.stdout).contains("fd00:98::100/64"),
            "IPv6 VIP added"
        );
        let routes = std::process::Command::new("ip")
            .args(["route", "show", "10.97.0.0/24"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&routes.stdout).contains("via 10.98.0.2 dev va"),
            "virtual route added: {}",
            String::from_utf8_lossy(&routes.stdout)
        );
        // The reflector.
        let (a, f) = (
            *d.engine.link_stats(0).unwrap(),
            *d.engine.link_stats(5).unwrap(),
        );
        println!(
            "reflector: A {a}; F {f}; {} address scans, F on vc index {}",
            d.core.stats().address_scans,
            d.engine.interfaces()[usize::from(vc_iface(&d))].facts.index
        );
        assert!(reflected(&d), "A {a}; F {f}");
        assert!(
            f.source_changes >= 2,
            "10.97.1.1 -> 10.97.2.1 -> (gone) -> 10.97.3.1: {f}"
        );
        assert!(
            d.core.stats().address_scans >= 2,
            "at start and for the lost primary"
        );
        assert_eq!(allocs, 0, "allocations in the loop with VRRP");
    }

    /// A flood on a VRRP socket cannot hold the loop: one drain reads at
    /// most `VRRP_READS_PER_TURN` datagrams (and counts the stop), the rest
    /// stay queued for the next turns (a turn runs the due timers after its
    /// drains). 2 × budget + 10 adverts of a VRID nobody runs are queued on
    /// `va`'s socket from `vb` before the first drain.
    #[test]
    fn a_vrrp_drain_stops_at_its_budget() {
        use picket::limits::VRRP_READS_PER_TURN as BUDGET;
        use picket::wire::vrrp::{Addresses, ChecksumForm, Repr, Version, emit_ipv4};
        let _one = init_logging();
        if !veth_pair_netns() {
            return;
        }
        let dir = test_dir("vrrp-budget");
        let conf = dir.join("t.conf");
        let text = format!(
            "global_defs {{\n status_socket {}/status.sock\n}}\n\
             vrrp_instance A {{\n interface va\n virtual_router_id 7\n priority 100\n \
             version 3\n advert_int 1\n virtual_ipaddress {{\n  10.98.0.100/24\n }}\n}}\n",
            dir.display()
        );
        std::fs::write(&conf, text).unwrap();
        let mut d = reloadable_daemon(&conf);
        let va = d
            .engine
            .interfaces()
            .iter()
            .position(|f| f.name.as_str() == "va")
            .unwrap();

        let vb = nix::net::if_::if_nametoindex("vb").unwrap();
        let sender = net::VrrpSocket::open("vb", vb, None).unwrap();
        let vips = ["10.98.0.100".parse().unwrap()];
        let repr = Repr {
            vrid: 99,
            priority: 200,
            version: Version::V3 {
                reserved: 0,
                max_adver_int: 100,
            },
            addresses: Addresses::ipv4(&vips),
            checksum: ChecksumForm::PseudoHeader,
        };
        let (src, group) = ("10.98.0.2".parse().unwrap(), "224.0.0.18".parse().unwrap());
        let total = 2 * BUDGET + 10;
        for ident in 0..total {
            let mut buf = [0u8; 64];
            let len = emit_ipv4(&repr, src, group, ident as u16, &mut buf).unwrap();
            sender.send(&buf[..len], group).unwrap();
        }
        // veth delivery is done within the send; a little slack anyway.
        std::thread::sleep(std::time::Duration::from_millis(50));

        let unknown = |d: &Daemon| d.engine.global_rx_stats().unknown_vrid;
        let mut seen = Vec::new();
        for _ in 0..3 {
            d.drain_vrrp(clock::now(), va);
            seen.push((unknown(&d), d.core.stats().vrrp_reads_deferred));
        }
        let _ = std::fs::remove_dir_all(&dir);
        let b = BUDGET as u64;
        assert_eq!(
            seen,
            [(b, 1), (2 * b, 2), (total as u64, 2)],
            "(read, drains stopped at the budget) after each drain"
        );
    }

    /// The engine index of interface `vc`.
    fn vc_iface(d: &Daemon) -> u8 {
        let i = d
            .engine
            .interfaces()
            .iter()
            .position(|f| f.name.as_str() == "vc")
            .unwrap();
        u8::try_from(i).unwrap()
    }

    /// `p` as the daemon keeps a configuration path.
    fn path_of(p: &std::path::Path) -> heapless::String<{ picket::limits::PATH_BYTES }> {
        let mut h = heapless::String::new();
        h.push_str(p.to_str().unwrap()).unwrap();
        h
    }

    /// A daemon of the configuration file `conf` that can reload it (or
    /// another file put in `config_file`): its spare tables get the
    /// loader's scratch. SIGCHLD may go to another test thread: the tick
    /// reaps every 5 ms.
    fn reloadable_daemon(conf: &std::path::Path) -> Box<Daemon> {
        let mut loaded = load(&Options {
            config_file: conf.to_str().unwrap().to_owned(),
            ..Options::default()
        });
        assert!(loaded.diags.is_ok(), "{}", render(&loaded.diags));
        let mut d = Daemon::init(loaded.cfg, Some(&CoreSettings::default())).unwrap();
        d.config_file = path_of(conf);
        d.spare.scratch = std::mem::replace(&mut loaded.scratch, Box::new(LoadScratch::new()));
        d.core
            .set_housekeeping_period(clock::now(), Duration::from_millis(5));
        d
    }

    /// Runs the loop for `ms` milliseconds.
    fn run_for(d: &mut Daemon, ms: u64) {
        let end = clock::now() + Duration::from_millis(ms);
        while clock::now() < end {
            d.turn();
        }
    }

    /// An HTTP server on this thread's loopback (any 127.x address, a port
    /// of its own) answering every request with `hello` (MD5
    /// 5d41402abc4b2a76b9719d911017c592); returns the port.
    fn hello_server() -> u16 {
        use std::io::{Read as _, Write as _};
        // The server thread starts in this thread's namespace.
        let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                let mut req = [0u8; 1024];
                let mut got = 0;
                while got < req.len() {
                    match c.read(&mut req[got..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                    if req[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                        let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                        break;
                    }
                }
            }
        });
        port
    }

    /// Reloads with health checkers allocate nothing and keep what is
    /// unchanged (no flapping): ten SIGHUPs alternate two configurations —
    /// one real server's weight 1 ↔ 5, one real server dropped ↔ another
    /// added — while TCP_CHECK and HTTP_GET run every 10 ms against this
    /// test's loopback and one real server's check keeps failing (a closed
    /// port). The failed server went down once and stays down, the others
    /// never go down, the kept checks keep counting, the dumps and a
    /// status query run in the counted window too.
    #[test]
    fn checker_reloads_allocate_nothing_and_keep_state() {
        let _one = init_logging();
        if !nix::unistd::Uid::effective().is_root() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root"
            );
            println!("SKIPPED: needs root for a network namespace");
            return;
        }
        net::enter_new_netns().expect("unshare(CLONE_NEWNET)");
        ip("link set lo up");
        let port = hello_server();
        // A port nobody listens on: connections are refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = test_dir("zero-alloc-checker-reload");
        let check = "TCP_CHECK {\n   delay_loop 0.01\n   warmup 0\n   retry 0\n  }";
        let conf = |weight: u32, b: bool| {
            let mut t = format!(
                "global_defs {{\n status_socket {0}/status.sock\n state_dump_file {0}/\n}}\n\
                 virtual_server 127.0.0.1 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n \
                 quorum 1\n \
                 real_server 127.0.0.1 {port} {{\n  weight {weight}\n  {check}\n  \
                 HTTP_GET {{\n   url {{\n    path /\n    digest 5d41402abc4b2a76b9719d911017c592\n   }}\n   \
                 delay_loop 0.01\n   warmup 0\n  }}\n }}\n \
                 real_server 127.0.0.3 {closed} {{\n  {check}\n }}\n",
                dir.display()
            );
            t += &if b {
                format!(" real_server 127.0.0.4 {port} {{\n  {check}\n }}\n}}\n")
            } else {
                format!(" real_server 127.0.0.2 {port} {{\n  {check}\n }}\n}}\n")
            };
            t
        };
        let a = dir.join("a.conf");
        let b = dir.join("b.conf");
        std::fs::write(&a, conf(1, false)).unwrap();
        std::fs::write(&b, conf(5, true)).unwrap();
        let (pa, pb) = (path_of(&a), path_of(&b));
        let mut d = reloadable_daemon(&a);
        d.start();
        run_for(&mut d, 300);
        let health = |d: &Daemon| {
            let h = d.health.as_ref().unwrap();
            (*h.checkers.stats(), *h.lvs.stats())
        };
        let (c0, l0) = health(&d);
        assert_eq!((c0.downs, l0.rs_down), (1, 1), "{c0} {l0:?}");
        assert!(!d.health.as_ref().unwrap().lvs.is_alive(1));

        let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let client = status_client(dir.join("status.sock"), go.clone());
        counting_alloc::start();
        for i in 0..10 {
            d.config_file = if i % 2 == 0 { pb.clone() } else { pa.clone() };
            let seen = d.reloads.applied + d.reloads.refused;
            let _ = raise(NixSignal::SIGHUP);
            let give_up = clock::now() + Duration::from_secs(5);
            while d.reloads.applied + d.reloads.refused == seen && clock::now() < give_up {
                d.turn();
            }
            run_for(&mut d, 50);
            if i == 4 {
                let _ = raise(NixSignal::SIGUSR1);
                go.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        while d.core.stats().status_served == 0 {
            d.turn();
        }
        let (allocs, bytes) = counting_alloc::stop();
        let doc: serde_json::Value = serde_json::from_str(&client.join().unwrap()).unwrap();
        let (c1, l1) = health(&d);
        println!(
            "checker reloads: {:?}; checkers {c1}; servers {l1:?}; {allocs} allocations ({bytes} bytes)",
            d.reloads
        );
        assert_eq!(d.reloads.applied, 10, "{:?}", d.reloads);
        // No flapping: the failed server went down once, nothing else did,
        // nothing came back up.
        assert_eq!((c1.downs, l1.rs_down, l1.rs_up), (1, 1, 0), "{c1} {l1:?}");
        assert!(c1.successes > c0.successes + 100, "the checks ran on");
        let h = d.health.as_ref().unwrap();
        assert!(h.lvs.is_alive(0) && !h.lvs.is_alive(1) && h.lvs.is_alive(2));
        assert_eq!(h.lvs.weight(&d.cfg, 0), 1, "the last reload was to a.conf");
        let vs = doc["virtual_servers"].as_array().unwrap();
        assert!(
            vs.iter()
                .any(|i| i["kind"] == "real_server" && i["alive"] == false),
            "{vs:?}"
        );
        let data = std::fs::read_to_string(dir.join("keepalived_check.data")).unwrap();
        assert!(data.contains("   num failed checkers = 1"), "{data}");
        assert_eq!(allocs, 0, "allocations in reloads with checkers");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The loop with health checkers allocates nothing after start-up:
    /// TCP_CHECK and HTTP_GET (status and MD5 digest) every 10 ms against a
    /// small HTTP server on this test's own loopback (a network namespace),
    /// with `alpha`, so quorum is gained and `quorum_up` runs on the way.
    #[test]
    fn checker_turns_allocate_nothing() {
        let _one = init_logging();
        if !nix::unistd::Uid::effective().is_root() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root"
            );
            println!("SKIPPED: needs root for a network namespace");
            return;
        }
        net::enter_new_netns().expect("unshare(CLONE_NEWNET)");
        ip("link set lo up");
        let port = hello_server();
        let text = format!(
            "virtual_server 127.0.0.1 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n \
             alpha\n quorum_up /bin/true\n \
             real_server 127.0.0.1 {port} {{\n  TCP_CHECK {{\n   delay_loop 0.01\n   warmup 0\n  }}\n  \
             HTTP_GET {{\n   url {{\n    path /\n    digest 5d41402abc4b2a76b9719d911017c592\n   }}\n   \
             delay_loop 0.01\n   warmup 0\n  }}\n }}\n}}\n"
        );
        let files = [("/t.conf", text.as_str())];
        let mut fs = picket::config::memfs::MemFs::new(&files);
        let mut cfg = Box::new(Config::new());
        let mut diags = Box::new(Diagnostics::new());
        let mut scratch = Box::new(LoadScratch::new());
        let opts = LoadOptions {
            config_id: "t",
            all_config: false,
        };
        picket::config::load(
            &mut fs,
            "/t.conf",
            &opts,
            &mut scratch,
            &mut cfg,
            &mut diags,
        );
        assert!(diags.is_ok(), "{}", render(&diags));
        let mut d = Daemon::init(cfg, Some(&CoreSettings::default())).unwrap();
        d.core
            .set_housekeeping_period(clock::now(), Duration::from_millis(5));

        counting_alloc::start();
        d.start();
        let give_up = clock::now() + Duration::from_secs(30);
        let mut turns = 0u64;
        while d
            .health
            .as_ref()
            .map_or(0, |h| h.checkers.stats().successes)
            < 400
            && clock::now() < give_up
        {
            d.turn();
            turns += 1;
        }
        let (allocs, bytes) = counting_alloc::stop();
        let h = d.health.as_ref().unwrap();
        let st = *h.checkers.stats();
        println!(
            "zero-alloc checker test: {turns} turns; checkers: {st}; {allocs} allocations ({bytes} bytes)"
        );
        assert!(st.successes >= 400, "{st}");
        assert_eq!(st.failures, 0, "{st}");
        assert_eq!(
            h.checkers.state(picket::check::CheckId(1)),
            Some((true, true))
        );
        assert!(h.lvs.is_alive(0));
        assert_eq!(h.lvs.rs_weight(&d.cfg, 0), Some(1));
        // alpha: the server started dead; quorum came with it, and
        // quorum_up ran through the child table.
        assert_eq!(h.lvs.stats().quorum_gained, 1);
        assert_eq!(d.core.stats().children_started, 1);
        assert_eq!(allocs, 0, "allocations in the loop with checkers");
    }

    /// Reloads allocate nothing and keep what is unchanged: in a veth
    /// namespace, X (va, 150) and Y (vb, 100; adverts every 50 ms, so a
    /// loaded test machine does not stall past Y's master-down interval)
    /// elect over VRID 10 and never
    /// change; Z (va, VRID 11) changes its priority and gains an address
    /// every other reload, W (va, VRID 12, with a notify script) comes and
    /// goes; one reload of a configuration with an error changes nothing.
    /// `enable_script_security` is on: every reload checks the
    /// configuration files, and the scripts (they change every time), and
    /// one reload whose W notify script is writable by everyone is refused.
    /// Twenty reloads and a status query in the counted window: zero
    /// allocations, X never leaves MASTER, Y never leaves BACKUP, X's
    /// address is never removed.
    #[test]
    fn reloads_allocate_nothing_and_keep_what_is_unchanged() {
        let _one = init_logging();
        if !veth_pair_netns() {
            return;
        }
        let dir = test_dir("zero-alloc-reload");
        let conf = |z_prio: u8, z_extra: &str, z_routes: &str, w: Option<&str>| {
            let mut t = format!(
                "global_defs {{\n status_socket {0}/status.sock\n state_dump_file {0}/\n \
                 enable_script_security\n script_user root\n}}\n\
                 vrrp_script chk {{\n script /bin/true\n interval 0.01\n timeout 2\n}}\n\
                 vrrp_instance X {{\n interface va\n virtual_router_id 10\n priority 150\n \
                 version 3\n advert_int 0.05\n track_script {{\n  chk weight 10\n }}\n \
                 virtual_ipaddress {{\n  10.98.0.100/24\n }}\n}}\n\
                 vrrp_instance Y {{\n interface vb\n virtual_router_id 10\n priority 100\n \
                 version 3\n advert_int 0.05\n virtual_ipaddress {{\n  10.98.0.100/24\n }}\n}}\n\
                 vrrp_instance Z {{\n interface va\n virtual_router_id 11\n priority {z_prio}\n \
                 version 3\n advert_int 0.01\n virtual_ipaddress {{\n  10.98.0.110/24\n{z_extra} }}\n{z_routes}}}\n",
                dir.display()
            );
            if let Some(notify) = w {
                t.push_str(&format!(
                    "vrrp_instance W {{\n interface va\n virtual_router_id 12\n priority 100\n \
                     version 3\n advert_int 0.01\n notify_master {notify}\n \
                     virtual_ipaddress {{\n  10.98.0.120/24\n }}\n}}\n",
                ));
            }
            t
        };
        let a = dir.join("a.conf");
        let b = dir.join("b.conf");
        let bad = dir.join("bad.conf");
        let unsafe_conf = dir.join("unsafe.conf");
        let unsafe_script = dir.join("anyone.sh");
        std::fs::write(&unsafe_script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            &unsafe_script,
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let route = " virtual_routes {\n  10.96.0.0/24 via 10.98.0.2 dev va\n }\n";
        let z = "  10.98.0.111/24\n";
        std::fs::write(&a, conf(100, "", "", None)).unwrap();
        std::fs::write(&b, conf(120, z, route, Some("/bin/true"))).unwrap();
        std::fs::write(
            &bad,
            conf(100, "", "", None).replace("priority 150", "prority 150"),
        )
        .unwrap();
        std::fs::write(
            &unsafe_conf,
            conf(120, z, route, Some(unsafe_script.to_str().unwrap())),
        )
        .unwrap();
        let (pa, pb, pbad, punsafe) = (
            path_of(&a),
            path_of(&b),
            path_of(&bad),
            path_of(&unsafe_conf),
        );
        let mut d = reloadable_daemon(&a);
        d.start();
        run_for(&mut d, 300);
        assert_eq!(d.engine.state(0), Some(picket::vrrp::State::Master));
        assert_eq!(d.engine.state(1), Some(picket::vrrp::State::Backup));
        let x_before = *d.engine.instance(0).unwrap().stats();
        let y_before = *d.engine.instance(1).unwrap().stats();
        let chk = |d: &Daemon| {
            *d.scripts
                .get(picket::vrrp::track::ScriptId(0))
                .unwrap()
                .stats()
        };
        let chk_before = chk(&d);
        assert_eq!(chk_before.became_ok, 1, "{chk_before:?}");

        let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let client = status_client(dir.join("status.sock"), go.clone());
        let mut unsafe_said = heapless::String::<4096>::new();
        counting_alloc::start();
        for i in 0..20 {
            d.config_file = if i == 7 {
                pbad.clone()
            } else if i == 12 {
                punsafe.clone()
            } else if i % 2 == 0 {
                pb.clone()
            } else {
                pa.clone()
            };
            // Each SIGHUP handled before the next (two pending ones merge).
            let seen = d.reloads.applied + d.reloads.refused;
            let _ = raise(NixSignal::SIGHUP);
            let give_up = clock::now() + Duration::from_secs(5);
            while d.reloads.applied + d.reloads.refused == seen && clock::now() < give_up {
                d.turn();
            }
            if i == 12 {
                // What the refused reload said, before the next one builds
                // (rendered into a fixed buffer: the window counts).
                let _ = d.spare.diags.render(&mut unsafe_said);
            }
            run_for(&mut d, 30);
            if i == 10 {
                go.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        while d.core.stats().status_served == 0 {
            d.turn();
        }
        let (allocs, bytes) = counting_alloc::stop();
        let doc: serde_json::Value = serde_json::from_str(&client.join().unwrap()).unwrap();
        println!(
            "reloads: {:?}; {allocs} allocations ({bytes} bytes)",
            d.reloads
        );
        assert_eq!(d.reloads.applied, 18, "{:?}", d.reloads);
        assert_eq!(d.reloads.refused, 2);
        // The unsafe script's reload said why.
        let want = format!(
            "notify_master of vrrp_instance W: script '{}' is writable by everyone \
             (mode 0777): not safe to run with root privileges (enable_script_security)",
            unsafe_script.display(),
        );
        assert!(unsafe_said.contains(&want), "{unsafe_said}");
        assert_eq!(
            doc["picket"]["reloads"]["applied"]
                .as_u64()
                .map(|n| n >= 10),
            Some(true)
        );
        // The last reload was of a.conf: X, Y, Z; W gone.
        assert_eq!(d.engine.len(), 3);
        assert_eq!(d.engine.state(0), Some(picket::vrrp::State::Master));
        assert_eq!(d.engine.state(1), Some(picket::vrrp::State::Backup));
        let x = *d.engine.instance(0).unwrap().stats();
        let y = *d.engine.instance(1).unwrap().stats();
        assert_eq!(
            (x.became_master, x.became_backup, x.stopped),
            (
                x_before.became_master,
                x_before.became_backup,
                x_before.stopped
            ),
            "X moved"
        );
        assert_eq!(
            (y.became_master, y.became_backup, y.stopped),
            (
                y_before.became_master,
                y_before.became_backup,
                y_before.stopped
            ),
            "Y moved"
        );
        assert_eq!(d.engine.instance(2).unwrap().params().priority, 100);
        // The script carried on: its counters grew, it never started over.
        let chk_after = chk(&d);
        assert!(chk_after.runs > chk_before.runs, "{chk_after:?}");
        assert!(chk_after.successes > chk_before.successes, "{chk_after:?}");
        assert_eq!(chk_after.became_ok, 1, "the script started over");
        assert_eq!(d.engine.instance(0).unwrap().priority(), 160);
        // Z's route follows: added by a reload to b, removed by one to a.
        let z_route = || {
            let out = std::process::Command::new("ip")
                .args(["route", "show", "10.96.0.0/24"])
                .output()
                .unwrap();
            !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        };
        assert!(!z_route(), "Z's dropped route stayed");
        for (path, want) in [(&pb, true), (&pa, false)] {
            d.config_file = path.clone();
            let seen = d.reloads.applied;
            let _ = raise(NixSignal::SIGHUP);
            let give_up = clock::now() + Duration::from_secs(5);
            while d.reloads.applied == seen && clock::now() < give_up {
                d.turn();
            }
            run_for(&mut d, 50);
            assert_eq!(z_route(), want, "Z's route after a reload to {path}");
        }
        let addrs = std::process::Command::new("ip")
            .args(["-o", "addr", "show", "dev", "va"])
            .output()
            .unwrap();
        let addrs = String::from_utf8_lossy(&addrs.stdout);
        assert!(addrs.contains("10.98.0.100/24"), "{addrs}");
        assert!(
            !addrs.contains("10.98.0.111/"),
            "dropped address still there: {addrs}"
        );
        assert!(
            !addrs.contains("10.98.0.120/"),
            "W's address still there: {addrs}"
        );
        assert_eq!(allocs, 0, "allocations in reloads");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// SIGTERM runs the shutdown script (a bare name, resolved through PATH
    /// when the configuration loads) and stops.
    #[test]
    fn sigterm_runs_the_shutdown_script_and_stops() {
        let _one = init_logging();
        let dir = test_dir("shutdown-script");
        let conf = dir.join("keepalived.conf");
        std::fs::write(
            &conf,
            "global_defs {\n    shutdown_script \"true --from-picket\"\n}\n",
        )
        .unwrap();
        let loaded = load(&Options {
            config_file: conf.to_str().unwrap().to_owned(),
            ..Options::default()
        });
        assert!(loaded.diags.is_ok(), "{}", render(&loaded.diags));
        let mut d = Daemon::init(loaded.cfg, None).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
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
