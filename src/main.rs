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
//! 6. **Sleep in `ppoll(2)`** until an fd is ready or the earliest deadline
//!    of the core and the VRRP engine: a timerfd armed at that absolute
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

mod cli;
mod ipvs_sync;
mod logger;
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
use crate::ipvs_sync::{IpvsSync, SyncError};
use crate::sys::check::CheckSockets;
use crate::sys::child::{SpawnError, Spawner, kill_child, reap};
use crate::sys::clock;
use crate::sys::inotify::{Reading, TrackedFiles};
use crate::sys::net::{self, ArpSocket, NetlinkSocket, Vrrp6Socket, VrrpSocket};
use crate::sys::pidfile::PidFile;
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
/// The link monitor's token (rtnetlink `RTMGRP_LINK`).
const TOKEN_LINKS: Token = Token(3);
/// The inotify fd watching `vrrp_track_file`s.
const TOKEN_TRACK_FILES: Token = Token(4);
/// The IPVS generic netlink socket's token.
const TOKEN_IPVS: Token = Token(5);
/// VRRP sockets: this plus the engine's interface index.
const TOKEN_VRRP_BASE: u32 = 16;
/// IPv6 VRRP sockets: this plus the engine's interface index (up to
/// 0x2000, where status connections start).
const TOKEN_VRRP6_BASE: u32 = 0x1000;
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

/// Logs each unicast instance whose source address is not on its interface.
/// keepalived binds with `IP_FREEBIND` and runs on; so does picket: adverts
/// go out from that address anyway, and peers' adverts to it arrive once it
/// is there.
fn warn_missing_unicast_sources(cfg: &Config, engine: &Engine) {
    for slot in 0..u16::try_from(engine.len()).unwrap_or(u16::MAX) {
        let (Some((true, src)), Some(inst)) = (
            engine.source(slot),
            engine
                .config_index(slot)
                .and_then(|i| cfg.vrrp.instances.get(i)),
        ) else {
            continue;
        };
        let ifname = inst.interface.as_str();
        match net::has_address(ifname, src) {
            Ok(true) => {}
            Ok(false) => log::warn!(
                "({}) unicast_src_ip {src} is not (yet) on {ifname}: running anyway, \
                 sending adverts from it; peers' adverts reach this instance once the address is added",
                inst.name
            ),
            Err(e) => log::warn!(
                "({}) cannot check that unicast_src_ip {src} is on {ifname}: {e}",
                inst.name
            ),
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
    /// else the default script user).
    misc_users: Vec<RunAs>,
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
        let misc_users = cfg
            .lvs
            .checkers
            .iter()
            .map(|c| match &c.kind {
                CheckKind::Misc(m) => users.find(cfg.strings.get(m.user), cfg.strings.get(m.group)),
                _ => RunAs::DEFAULT,
            })
            .collect();
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
        }))
    }
}

/// Everything the running daemon owns.
pub struct Daemon {
    cfg: Box<Config>,
    core: Core,
    engine: Engine,
    signals: Signals,
    timer: DeadlineTimer,
    poll: PollSet,
    spawner: Spawner,
    /// Who scripts run as (looked up at start-up).
    users: ScriptUsers,
    /// Who each `vrrp_script` runs as, by script id.
    script_users: Vec<RunAs>,
    /// One per engine interface that runs an instance (`None` elsewhere).
    vrrp_sockets: Vec<Option<VrrpSocket>>,
    /// One per engine interface that runs an IPv6 instance (`None`
    /// elsewhere).
    vrrp6_sockets: Vec<Option<Vrrp6Socket>>,
    /// One per engine interface.
    arp_sockets: Vec<ArpSocket>,
    /// Every tracked `vrrp_script`: runs and results.
    scripts: ScriptTable,
    /// Tracked interfaces (`track_interface`, and each instance's own unless
    /// `dont_track_primary`), kept by the link monitor.
    links: LinkTable,
    /// Link notifications (opened when a link is tracked).
    link_monitor: Option<NetlinkSocket>,
    /// The value of each `vrrp_track_file`.
    files: FileTable,
    /// The watch on tracked files (opened when a file is tracked).
    tracked_files: Option<TrackedFiles>,
    /// Each engine instance's trackers, by slot.
    tracking: Vec<InstanceTracking>,
    /// Address requests and their acks (opened when an instance runs).
    netlink: Option<NetlinkSocket>,
    /// Each engine instance's `virtual_routes`, as requests.
    routes: Vec<Vec<RouteRepr>>,
    /// Low bits of the next netlink sequence number.
    netlink_counter: u32,
    buf: [u8; RX_BUF],
    /// The IPVS link and table (when virtual servers are configured).
    ipvs: Option<IpvsSync>,
    /// Allocations counted when the loop started (see `sys::allocations`).
    heap_at_start: u64,
    pid_file: Option<PidFile>,
    finished: bool,
    /// The VMACs (deleted when the daemon is dropped).
    vmacs: Vmacs,
    /// Health checkers and real servers (`None` without virtual servers).
    health: Option<Health>,
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
        user::check_scripts(&cfg, &users, &uses).map_err(InitError::Scripts)?;
        drop(uses);
        let script_users = cfg
            .vrrp
            .scripts
            .iter()
            .map(|s| users.of(&s.script))
            .collect();
        let core = match settings {
            Some(s) => Core::new(s),
            None => Core::new(&core_settings(&cfg, &users)),
        }
        .map_err(InitError::Core)?;
        let mut setup_failed = false;
        let engine = Engine::new(
            &cfg,
            &mut |name| {
                net::interface(name).ok().map(|f| IfFacts {
                    index: f.index,
                    mac: f.mac,
                    ipv4: f.ipv4,
                    ipv6_link_local: f.ipv6_link_local,
                    ipv6_forwarding: net::ipv6_forwarding(name),
                })
            },
            &mut |i, name, e| {
                let inst = cfg.vrrp.instances.get(i).map_or("?", |v| v.name.as_str());
                log::error!("({inst}) cannot run on {name}: {e}");
                setup_failed = true;
            },
        );
        if setup_failed {
            return Err(InitError::Setup);
        }
        warn_missing_unicast_sources(&cfg, &engine);
        let (scripts, mut links, tracking) = tracking_of(&cfg, &engine)?;
        let routes = routes_of(&cfg, &engine)?;
        let signals = Signals::open().map_err(|e| InitError::Sys("signalfd", e))?;
        let mut poll = PollSet::new();
        let full = |_| InitError::Sys("poll table", Errno::ENOSPC);
        poll.add(&signals.as_fd(), TOKEN_SIGNAL).map_err(full)?;
        let timer = DeadlineTimer::new().map_err(|e| InitError::Sys("timerfd", e))?;
        poll.add(&timer.as_fd(), TOKEN_TIMER).map_err(full)?;
        let mut vrrp_sockets = Vec::with_capacity(engine.interfaces().len());
        let mut arp_sockets = Vec::with_capacity(engine.interfaces().len());
        let vrrp6_sockets = open_vrrp6_sockets(&engine, &mut poll)?;
        for (i, iface) in engine.interfaces().iter().enumerate() {
            let sock = if iface.vrrp {
                let s = VrrpSocket::open(&iface.name, iface.facts.index, iface.group)
                    .map_err(|e| InitError::Sys("VRRP socket", e))?;
                let token = Token(TOKEN_VRRP_BASE + u32::try_from(i).unwrap_or(0));
                poll.add(&s.as_fd(), token).map_err(full)?;
                Some(s)
            } else {
                None
            };
            vrrp_sockets.push(sock);
            arp_sockets.push(
                ArpSocket::open(iface.facts.index).map_err(|e| InitError::Sys("ARP socket", e))?,
            );
        }
        // Monitor first, then read the current states: a change in between
        // is not lost.
        let link_monitor = if links.name(picket::vrrp::track::LinkId(0)).is_some() {
            let m = NetlinkSocket::open_groups(picket::wire::link::RTMGRP_LINK)
                .map_err(|e| InitError::Sys("link monitor socket", e))?;
            poll.add(&m.as_fd(), TOKEN_LINKS).map_err(full)?;
            Some(m)
        } else {
            None
        };
        resync_links(&mut links);
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
        let netlink = if engine.is_empty() {
            None
        } else {
            let n = NetlinkSocket::open().map_err(|e| InitError::Sys("netlink socket", e))?;
            poll.add(&n.as_fd(), TOKEN_NETLINK).map_err(full)?;
            Some(n)
        };
        let ipvs = if cfg.lvs.virtual_servers.is_empty() {
            None
        } else {
            let i = IpvsSync::open(&cfg, false).map_err(InitError::Ipvs)?;
            poll.add(&i.as_fd(), TOKEN_IPVS).map_err(full)?;
            Some(i)
        };
        Ok(Box::new(Daemon {
            cfg,
            core,
            engine,
            signals,
            timer,
            poll,
            spawner: Spawner::from_env(),
            users,
            script_users,
            vrrp_sockets,
            vrrp6_sockets,
            arp_sockets,
            scripts,
            links,
            link_monitor,
            files,
            tracked_files,
            tracking,
            netlink,
            routes,
            netlink_counter: 0,
            buf: [0; RX_BUF],
            ipvs,
            heap_at_start: 0,
            pid_file: None,
            finished: false,
            vmacs,
            health,
        }))
    }

    /// Starts the core (the startup script is requested here) and the VRRP
    /// instances.
    fn start(&mut self) {
        let now = clock::now();
        self.core.start(now);
        // A weight-0 script holds its instances in FAULT until its first
        // result (keepalived): the effective values apply before the start.
        for slot in 0..self.tracking.len() {
            self.apply_tracking(now, slot);
        }
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
                TOKEN_NETLINK => self.drain_netlink(),
                TOKEN_LINKS => self.drain_links(now),
                TOKEN_IPVS => {
                    if let Some(i) = &mut self.ipvs {
                        i.drain(now);
                    }
                }
                TOKEN_TRACK_FILES => self.drain_track_files(now),
                TOKEN_TIMER => self.timer.clear(),
                TOKEN_CHECKS => self.drain_checks(now),
                Token(t) if (TOKEN_VRRP6_BASE..TOKEN_VRRP6_BASE + 0x1000).contains(&t) => {
                    self.drain_vrrp6(now, (t - TOKEN_VRRP6_BASE) as usize);
                }
                Token(t) if (TOKEN_VRRP_BASE..TOKEN_VRRP6_BASE).contains(&t) => {
                    self.drain_vrrp(now, (t - TOKEN_VRRP_BASE) as usize);
                }
                _ => self.core.stats_mut().unknown_token += 1,
            }
        }
        // 3. timeouts
        self.core.handle_timeout(now);
        if picket::time::is_due(now, self.engine.poll_at()) {
            self.engine.handle_timeout(now);
        }
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
        // 5. watchdog: later issue.
        if self.finished {
            return true;
        }
        // 6. sleep
        // A deadline already due: poll without sleeping. A later one: the
        // timerfd wakes the poll at it (precise to the timer slack).
        // Scripts and checkers run only while the core runs: their
        // deadlines must not wake a stopping loop.
        let running = self.core.phase() == picket::core::Phase::Running;
        let deadline = earliest(
            earliest(
                earliest(self.core.poll_at(), self.engine.poll_at()),
                self.ipvs.as_ref().and_then(IpvsSync::poll_at),
            ),
            earliest(
                self.scripts.poll_at().filter(|_| running),
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
            if signal == Signal::Stop {
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
        }
    }

    /// Reads every datagram waiting on the VRRP socket of interface `i`.
    fn drain_vrrp(&mut self, now: picket::time::Instant, i: usize) {
        loop {
            let Some(Some(sock)) = self.vrrp_sockets.get(i) else {
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
    }

    /// Reads every datagram waiting on the IPv6 VRRP socket of interface
    /// `i`.
    fn drain_vrrp6(&mut self, now: picket::time::Instant, i: usize) {
        loop {
            let Some(Some(sock)) = self.vrrp6_sockets.get(i) else {
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
    }

    /// Sends the adverts of IPv6 instance `slot`: one to the group, or one
    /// to each unicast peer.
    fn send_adverts6(&mut self, slot: u16, priority: u8) {
        let mut out = [0u8; 1500];
        for k in 0..self.engine.advert_destinations(slot) {
            match self.engine.build_advert6(slot, priority, k, &mut out) {
                Ok(a) => {
                    if let Some(Some(sock)) = self.vrrp6_sockets.get(a.iface)
                        && let Err(e) = sock.send(&out[..a.len], a.src, a.dst, a.hop_limit)
                    {
                        self.core.stats_mut().socket_errors += 1;
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
        let mut frame = [0u8; 128];
        for _ in 0..count {
            for k in 0..self.engine.announcement_count(slot) {
                let Some((iface, len, kind)) = self
                    .engine
                    .build_announcement(&self.cfg, slot, k, &mut frame)
                else {
                    continue;
                };
                if let Some(sock) = self.arp_sockets.get(iface)
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
        }
    }

    /// Reads the kernel's answers to address requests; an error is logged
    /// with the address and interface.
    fn drain_netlink(&mut self) {
        loop {
            let Some(sock) = &self.netlink else { return };
            let n = match sock.recv(&mut self.buf) {
                Ok(n) => n.min(self.buf.len()),
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => {
                    self.core.stats_mut().socket_errors += 1;
                    log::warn!("netlink socket: {e}");
                    return;
                }
            };
            for msg in nl::Messages::new(&self.buf[..n]) {
                let Ok(msg) = msg else {
                    self.core.stats_mut().netlink_malformed += 1;
                    break;
                };
                match Control::parse(&msg) {
                    Ok(Control::Error(e)) if !e.is_ack() => {
                        log_address_failure(
                            &self.cfg,
                            &self.engine,
                            e.request.sequence,
                            e.errno().unwrap_or(0),
                        );
                    }
                    Ok(_) => {}
                    Err(_) => self.core.stats_mut().netlink_malformed += 1,
                }
            }
        }
    }

    /// Reads link notifications: a tracked interface that went up or down
    /// updates the instances that track it. A lost notification (the
    /// socket overran) re-reads every tracked link.
    fn drain_links(&mut self, now: picket::time::Instant) {
        loop {
            let Some(sock) = &self.link_monitor else {
                return;
            };
            let n = match sock.recv(&mut self.buf) {
                Ok(n) => n.min(self.buf.len()),
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => {
                    self.core.stats_mut().socket_errors += 1;
                    log::warn!("link monitor: {e}; reading every tracked link again");
                    resync_links(&mut self.links);
                    self.apply_all_tracking(now);
                    continue;
                }
            };
            let mut changed: heapless::Vec<picket::vrrp::track::LinkId, 16> = heapless::Vec::new();
            let mut overflow = false;
            for msg in nl::Messages::new(&self.buf[..n]) {
                let Ok(msg) = msg else {
                    self.core.stats_mut().netlink_malformed += 1;
                    break;
                };
                let Some(ev) = picket::wire::link::LinkEvent::parse(&msg) else {
                    continue;
                };
                let Ok(ev) = ev else {
                    self.core.stats_mut().netlink_malformed += 1;
                    continue;
                };
                let Some(id) = self.links.find(ev.name) else {
                    continue;
                };
                if self.links.is_up(id) != ev.up {
                    log::info!(
                        "Netlink reports {} {}",
                        ev.name,
                        if ev.up { "up" } else { "down" }
                    );
                    self.links.handle_link(ev.name, ev.up);
                    if !changed.contains(&id) && changed.push(id).is_err() {
                        overflow = true;
                    }
                }
            }
            if overflow {
                self.apply_all_tracking(now);
                continue;
            }
            for id in changed {
                self.apply_tracking_of(now, Target::Link(id));
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

    /// Sends every route request of instance `slot` (each failure comes back
    /// as a netlink error, logged with the route).
    fn route_requests(&mut self, slot: u16, operation: Operation) {
        let Some(sock) = &self.netlink else { return };
        let Some(routes) = self.routes.get(usize::from(slot)) else {
            return;
        };
        for (k, r) in routes.iter().enumerate() {
            self.netlink_counter = self.netlink_counter.wrapping_add(1);
            let seq = encode_seq(self.netlink_counter, slot, k, operation) | SEQ_ROUTE;
            let mut msg = [0u8; picket::wire::route::MAX_REQUEST_LEN];
            match r.emit(operation, seq, &mut msg) {
                Ok(len) => {
                    if let Err(e) = sock.send(&msg[..len]) {
                        self.core.stats_mut().socket_errors += 1;
                        log_address_failure(&self.cfg, &self.engine, seq, e as i32);
                    }
                }
                Err(e) => log::error!("route request of instance {slot}: {e}"),
            }
        }
    }

    /// Sends every address request of instance `slot`.
    fn address_requests(&mut self, slot: u16, operation: Operation) {
        let Some(sock) = &self.netlink else { return };
        for k in 0..self.engine.address_count(slot) {
            self.netlink_counter = self.netlink_counter.wrapping_add(1);
            let seq = encode_seq(self.netlink_counter, slot, k, operation);
            let mut msg = [0u8; picket::wire::rtnetlink::MAX_REQUEST_LEN];
            match self
                .engine
                .address_request(&self.cfg, slot, k, operation, seq, &mut msg)
            {
                Some(Ok((len, _))) => {
                    if let Err(e) = sock.send(&msg[..len]) {
                        self.core.stats_mut().socket_errors += 1;
                        log_address_failure(&self.cfg, &self.engine, seq, e as i32);
                    }
                }
                Some(Err(e)) => log::error!("address request of instance {slot}: {e:?}"),
                None => {}
            }
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
                                if let Some(Some(sock)) = self.vrrp_sockets.get(iface)
                                    && let Err(e) = sock.send(&out[..len], dst)
                                {
                                    self.core.stats_mut().socket_errors += 1;
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
                    self.address_requests(slot, Operation::Add);
                    self.route_requests(slot, Operation::Add);
                }
                EngineAction::RemoveVips { slot } => {
                    self.route_requests(slot, Operation::Delete);
                    self.address_requests(slot, Operation::Delete);
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
        let released = sys::stack::release_unused();
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
        log::info!("heap allocations after start-up: {heap}");
        0
    }
}

/// Opens the IPv6 VRRP socket of every engine interface an IPv6 instance
/// runs on, in the poll table with token [`TOKEN_VRRP6_BASE`] + index
/// (start-up).
fn open_vrrp6_sockets(
    engine: &Engine,
    poll: &mut PollSet,
) -> Result<Vec<Option<Vrrp6Socket>>, InitError> {
    let mut sockets = Vec::with_capacity(engine.interfaces().len());
    for (i, iface) in engine.interfaces().iter().enumerate() {
        if !iface.vrrp6 {
            sockets.push(None);
            continue;
        }
        let s = Vrrp6Socket::open(&iface.name, iface.facts.index, iface.group6)
            .map_err(|e| InitError::Sys("IPv6 VRRP socket", e))?;
        let token = Token(TOKEN_VRRP6_BASE + u32::try_from(i).unwrap_or(0));
        poll.add(&s.as_fd(), token)
            .map_err(|_| InitError::Sys("poll table", Errno::ENOSPC))?;
        sockets.push(Some(s));
    }
    Ok(sockets)
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

/// The tracked scripts, links and each engine instance's trackers (start-up:
/// allocates the per-instance list).
fn tracking_of(
    cfg: &Config,
    engine: &Engine,
) -> Result<(ScriptTable, LinkTable, Vec<InstanceTracking>), InitError> {
    let scripts = ScriptTable::from_config(&cfg.vrrp.scripts, &cfg.strings).map_err(|e| {
        let name = cfg
            .vrrp
            .scripts
            .get(usize::from(e.script.0))
            .map_or("?", |s| s.name.as_str());
        InitError::Tracking(format!("vrrp_script {name}: {}", e.error))
    })?;
    let mut links = LinkTable::new();
    let mut tracking = Vec::with_capacity(engine.len());
    for slot in 0..u16::try_from(engine.len()).unwrap_or(u16::MAX) {
        let Some(inst) = engine
            .config_index(slot)
            .and_then(|i| cfg.vrrp.instances.get(i))
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
            &mut links,
        )
        .map_err(|e| InitError::Tracking(format!("({}) trackers: {e:?}", inst.name)))?;
        tracking.push(t);
    }
    Ok((scripts, links, tracking))
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

/// The routes of each engine instance as requests, their interfaces looked
/// up (start-up). A missing interface is an error naming the route.
fn routes_of(cfg: &Config, engine: &Engine) -> Result<Vec<Vec<RouteRepr>>, InitError> {
    let mut all = Vec::with_capacity(engine.len());
    for slot in 0..u16::try_from(engine.len()).unwrap_or(u16::MAX) {
        let Some(inst) = instance_cfg(cfg, engine, slot) else {
            continue;
        };
        let mut routes = Vec::with_capacity(inst.routes.len());
        for r in &inst.routes {
            let oif = if r.dev.is_empty() {
                None
            } else {
                Some(
                    net::interface(&r.dev)
                        .map_err(|e| {
                            InitError::Routes(format!(
                                "({}) virtual_routes '{r}': interface {}: {e}",
                                inst.name, r.dev
                            ))
                        })?
                        .index,
                )
            };
            routes.push(RouteRepr {
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
        all.push(routes);
    }
    Ok(all)
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
    let tables: [(&str, usize); 9] = [
        ("Config", size_of::<Config>()),
        ("LoadScratch", size_of::<LoadScratch>()),
        ("Diagnostics", size_of::<Diagnostics>()),
        ("Core", size_of::<Core>()),
        ("Daemon (includes Core)", size_of::<Daemon>()),
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
    // Features this build parses but does not run yet: refuse to start
    // rather than run the configuration differently from keepalived.
    let mut diags = loaded.diags;
    picket::vrrp::engine::check_config(&loaded.cfg, &mut diags, Severity::Error);
    picket::ipvs::check_config(&loaded.cfg, &mut diags);
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
        let mut d = Daemon::init(Box::new(Config::new()), Some(&settings)).unwrap();
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

    /// Runs `ip ARGS` (in this thread's network namespace); panics on failure.
    fn ip(args: &str) {
        let st = std::process::Command::new("ip")
            .args(args.split_whitespace())
            .status()
            .expect("run ip");
        assert!(st.success(), "ip {args}");
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
    /// through `recvmsg` with ancillary data.
    #[test]
    fn vrrp_turns_allocate_nothing() {
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
        let dir = std::env::temp_dir().join(format!("picket-zero-alloc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
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
                    advert_int 0.01\n virtual_ipaddress {\n  fd00:98::101/64\n }\n}\n";
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
        d.core.set_housekeeping_period(clock::now(), Duration::ZERO);

        // Another thread (its allocations are not counted) writes the
        // tracked file while the loop runs: inotify, read, apply.
        let writer = std::thread::spawn({
            let tracked = tracked.clone();
            move || {
                std::thread::sleep(std::time::Duration::from_millis(100));
                std::fs::write(&tracked, "2\n").unwrap();
            }
        });
        counting_alloc::start();
        d.start();
        let mut turns = 0u64;
        let give_up = clock::now() + Duration::from_secs(30);
        let received = |d: &Daemon, slot| {
            d.engine
                .instance(slot)
                .map_or(0, |i| i.stats().adverts_received)
        };
        while (turns < 10_000
            || received(&d, 1) < 20
            || received(&d, 4) < 20
            || d.files.value(FileId(0)) != 2)
            && clock::now() < give_up
        {
            if d.turn() {
                break;
            }
            turns += 1;
        }
        let (allocs, bytes) = counting_alloc::stop();
        writer.join().unwrap();
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
        assert_eq!(d.core.stats().socket_errors, 0);
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
            "VIP added"
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
        assert_eq!(allocs, 0, "allocations in the loop with VRRP");
    }

    /// The loop with health checkers allocates nothing after start-up:
    /// TCP_CHECK and HTTP_GET (status and MD5 digest) every 10 ms against a
    /// small HTTP server on this test's own loopback (a network namespace),
    /// with `alpha`, so quorum is gained and `quorum_up` runs on the way.
    #[test]
    fn checker_turns_allocate_nothing() {
        use std::io::{Read as _, Write as _};
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
        // The server thread starts in this thread's namespace.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
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

    /// SIGTERM runs the shutdown script (found through PATH) and stops.
    #[test]
    fn sigterm_runs_the_shutdown_script_and_stops() {
        let _one = init_logging();
        let settings = CoreSettings {
            shutdown_script: Some("true --from-picket"),
            ..CoreSettings::default()
        };
        let mut d = Daemon::init(Box::new(Config::new()), Some(&settings)).unwrap();
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
