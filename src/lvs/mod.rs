//! Real servers and virtual servers, sans-IO: which real servers are in a
//! virtual server's pool and with what weight, from the checkers' reports
//! (keepalived's `ipwrapper.c`).
//!
//! # Rules
//!
//! - A real server is **alive** while none of its checks is down (a server
//!   without checks always is). Checks start up, or down with `alpha`.
//! - Its **weight** is its `weight`, moved by `misc_dynamic` scripts (each
//!   adds `status − 2 − weight`), kept within 0..=`IPVS_WEIGHT_MAX`.
//! - **Quorum**: the live weight (sum over alive real servers) must reach
//!   `quorum + hysteresis` to gain quorum, and falls below
//!   `quorum − hysteresis` (or to 0) to lose it. Gaining runs `quorum_up`,
//!   losing runs `quorum_down`, once per transition.
//! - **Sorry server**: while quorum is lost the sorry server replaces every
//!   real server in the pool (`sorry_server_inhibit` keeps it at weight 0
//!   otherwise — the IPVS side reads that from the configuration).
//! - **inhibit_on_failure**: a dead real server stays in the pool at weight
//!   0 instead of leaving it.
//! - `notify_up`/`notify_down` run when a real server changes.
//! - `omega`: at stop, alive real servers run `notify_down` and a virtual
//!   server with quorum runs `quorum_down` ([`Lvs::shutdown`]).
//! - `ha_suspend` is parsed and not acted on yet: checks run whether or not
//!   the virtual address is on this host (it needs the VRRP side's address
//!   events; documented in the README).
//!
//! # Interface with IPVS
//!
//! [`Lvs::rs_weight`] and [`Lvs::sorry_active`] answer what the desired
//! kernel table holds (indexes are rows of `cfg.lvs.real_servers` and
//! `cfg.lvs.virtual_servers`); [`Lvs::take_changed`] says when to build it
//! again. Until the reconciler is wired, each transition is a log line in
//! keepalived's words.

pub mod reload;
#[cfg(test)]
mod tests;

use core::fmt;
use core::net::SocketAddr;

use heapless::{Deque, Vec};

use crate::check::{CheckId, CheckReport, Proto, Trio};
use crate::config::Config;
use crate::config::lvs::{IPVS_WEIGHT_MAX, Protocol, Script, VsAddress};
use crate::limits::{CHECKERS, REAL_SERVERS, VIRTUAL_SERVERS};

/// Scripts that may wait in the queue: one per real server and two per
/// virtual server per turn, plus room.
pub const LVS_ACTIONS: usize = REAL_SERVERS + 2 * VIRTUAL_SERVERS + 8;

/// A real server as keepalived logs it (`[10.0.0.2]:tcp:80`).
pub struct RsName<'a>(pub &'a Config, pub usize);

impl fmt::Display for RsName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lvs = &self.0.lvs;
        let Some(rs) = lvs.real_servers.get(self.1) else {
            return f.write_str("?");
        };
        let proto = lvs
            .virtual_servers
            .get(usize::from(rs.vs))
            .and_then(|v| v.protocol)
            .unwrap_or(Protocol::Tcp);
        write!(
            f,
            "{}",
            Trio(SocketAddr::new(rs.addr, rs.port), proto_of(proto))
        )
    }
}

fn proto_of(p: Protocol) -> Proto {
    match p {
        Protocol::Tcp => Proto::Tcp,
        Protocol::Udp => Proto::Udp,
        Protocol::Sctp => Proto::Sctp,
    }
}

/// A virtual server as keepalived logs it.
pub struct VsName<'a>(pub &'a Config, pub usize);

impl fmt::Display for VsName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(vs) = self.0.lvs.virtual_servers.get(self.1) else {
            return f.write_str("?");
        };
        let proto = proto_of(vs.protocol.unwrap_or(Protocol::Tcp));
        match &vs.address {
            VsAddress::Ip { addr, port } => {
                write!(f, "{}", Trio(SocketAddr::new(*addr, *port), proto))
            }
            VsAddress::Fwmark { mark } => write!(f, "FWM {mark}"),
            VsAddress::Group { name, .. } => write!(f, "[{name}]:0"),
        }
    }
}

/// Which script an [`LvsAction`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptEvent {
    /// `notify_up` of real server `.0`.
    RsUp(u16),
    /// `notify_down` of real server `.0`.
    RsDown(u16),
    /// `quorum_up` of virtual server `.0`.
    QuorumUp(u16),
    /// `quorum_down` of virtual server `.0`.
    QuorumDown(u16),
}

/// What the binary must do for the real-server logic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LvsAction {
    /// Run `script` (its command line and user).
    Run {
        /// Why.
        event: ScriptEvent,
        /// What.
        script: Script,
    },
}

/// Counters of the real-server logic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LvsStats {
    /// Real servers that came up.
    pub rs_up: u64,
    /// Real servers that went down.
    pub rs_down: u64,
    /// Quorums gained.
    pub quorum_gained: u64,
    /// Quorums lost.
    pub quorum_lost: u64,
    /// Weight changes (`misc_dynamic`).
    pub weight_changes: u64,
    /// Scripts not queued because the queue was full.
    pub queue_full: u64,
}

impl LvsStats {
    /// Every counter as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        [
            ("rs_up", self.rs_up),
            ("rs_down", self.rs_down),
            ("quorum_gained", self.quorum_gained),
            ("quorum_lost", self.quorum_lost),
            ("weight_changes", self.weight_changes),
            ("queue_full", self.queue_full),
        ]
        .into_iter()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct RsState {
    alive: bool,
    /// Checks of this server that are down.
    failed: u16,
    /// `misc_dynamic` adjustments, summed.
    delta: i64,
}

#[derive(Clone, Copy, Debug, Default)]
struct VsState {
    quorum_up: bool,
}

/// The state of every real and virtual server. See the module doc.
pub struct Lvs {
    rs: Vec<RsState, REAL_SERVERS>,
    vs: Vec<VsState, VIRTUAL_SERVERS>,
    /// The last weight each `misc_dynamic` check asked for, as a delta.
    check_delta: Vec<i64, CHECKERS>,
    actions: Deque<LvsAction, LVS_ACTIONS>,
    changed: bool,
    stats: LvsStats,
}

impl Lvs {
    /// The servers of `cfg`: every real server alive unless one of its
    /// checks has `alpha`; quorum as the live weight says (nothing runs
    /// yet: see [`Lvs::start`]).
    pub fn new(cfg: &Config) -> Self {
        let lvs = &cfg.lvs;
        let mut l = Lvs {
            rs: Vec::new(),
            vs: Vec::new(),
            check_delta: Vec::new(),
            actions: Deque::new(),
            changed: true,
            stats: LvsStats::default(),
        };
        for (i, _) in lvs.real_servers.iter().enumerate() {
            let failed = lvs
                .checkers_of(i)
                .filter(|(_, c)| c.alpha == Some(true))
                .count();
            let _ = l.rs.push(RsState {
                alive: failed == 0,
                failed: u16::try_from(failed).unwrap_or(u16::MAX),
                delta: 0,
            });
        }
        for _ in &lvs.checkers {
            let _ = l.check_delta.push(0);
        }
        for i in 0..lvs.virtual_servers.len() {
            let up = l.live_weight(cfg, i) >= l.gain_threshold(cfg, i);
            let _ = l.vs.push(VsState { quorum_up: up });
        }
        l
    }

    /// Logs the starting state and runs keepalived's start-up rule: a
    /// virtual server starting without quorum and with a sorry server logs
    /// it and runs `quorum_down`.
    pub fn start(&mut self, cfg: &Config) {
        for i in 0..self.vs.len() {
            self.start_vs(cfg, i);
        }
        self.changed = true;
    }

    fn start_vs(&mut self, cfg: &Config, i: usize) {
        let Some(vs) = cfg.lvs.virtual_servers.get(i) else {
            return;
        };
        for (r, _) in cfg.lvs.real_servers_of(i) {
            if self.rs.get(r).is_some_and(|s| s.alive) {
                log::info!("Adding service {} to VS {}", RsName(cfg, r), VsName(cfg, i));
            }
        }
        if !self.has_quorum(i) && vs.sorry.is_some() {
            let w = self.live_weight(cfg, i);
            log::info!(
                "Starting with quorum down {}-{}={} > {} for VS {}",
                vs.quorum,
                vs.hysteresis,
                self.gain_threshold(cfg, i),
                w,
                VsName(cfg, i)
            );
            self.log_sorry(cfg, i, true);
            if let Some(s) = vs.quorum_down {
                self.run(cfg, ScriptEvent::QuorumDown(i as u16), s);
            }
        }
    }

    /// Reload: `self` is [`Lvs::new`] of the new configuration `cfg`; it
    /// takes over `old`'s state (of `old_cfg`) through `map` (see
    /// [`reload`]). A kept real server keeps its alive state — recounted
    /// from its checks in `checks` (already reloaded: kept checks keep
    /// their verdict), so one whose failing check the configuration drops
    /// comes up — and its `misc_dynamic` weights; a kept virtual server its
    /// quorum state, judged again against the new weights and thresholds
    /// (a change runs `quorum_up`/`quorum_down` as usual). New real and
    /// virtual servers start as at start-up (logged, and the start-up rule
    /// for a new virtual server without quorum); dropped real servers are
    /// logged as removed. Scripts run only for real transitions.
    pub fn adopt(
        &mut self,
        cfg: &Config,
        old: &Lvs,
        old_cfg: &Config,
        map: &reload::ServerMap,
        checks: &crate::check::Checkers,
    ) {
        self.stats = old.stats;
        for (c, d) in self.check_delta.iter_mut().enumerate() {
            *d = map
                .old_check(c)
                .and_then(|o| old.check_delta.get(o).copied())
                .unwrap_or(0);
        }
        for (r, _) in cfg.lvs.real_servers.iter().enumerate() {
            let mut failed: u16 = 0;
            let mut delta = 0;
            for (c, _) in cfg.lvs.checkers_of(r) {
                if checks.state(CheckId(c as u16)).is_some_and(|(up, _)| !up) {
                    failed = failed.saturating_add(1);
                }
                delta += self.check_delta.get(c).copied().unwrap_or(0);
            }
            let was = map.old_rs(r).and_then(|o| old.rs.get(o)).map(|s| s.alive);
            if let Some(s) = self.rs.get_mut(r) {
                s.failed = failed;
                s.delta = delta;
                s.alive = was.unwrap_or(failed == 0);
            }
        }
        for (o, _) in old_cfg.lvs.real_servers.iter().enumerate() {
            if map.new_rs(o).is_none() && old.is_alive(o) {
                let vs = old_cfg
                    .lvs
                    .real_servers
                    .get(o)
                    .map_or(0, |x| usize::from(x.vs));
                log::info!(
                    "Removing service {} from VS {} (reload)",
                    RsName(old_cfg, o),
                    VsName(old_cfg, vs)
                );
            }
        }
        for i in 0..self.vs.len() {
            let Some(o) = map.old_vs(i) else {
                let up = self.live_weight(cfg, i) >= self.gain_threshold(cfg, i);
                if let Some(v) = self.vs.get_mut(i) {
                    v.quorum_up = up;
                }
                self.start_vs(cfg, i);
                continue;
            };
            if let Some(v) = self.vs.get_mut(i) {
                v.quorum_up = old.has_quorum(o);
            }
            for (r, _) in cfg.lvs.real_servers_of(i) {
                match map.old_rs(r) {
                    None if self.is_alive(r) => log::info!(
                        "Adding service {} to VS {} (reload)",
                        RsName(cfg, r),
                        VsName(cfg, i)
                    ),
                    None => {}
                    Some(_) => {
                        let alive = self.rs.get(r).is_some_and(|s| s.failed == 0);
                        if alive != self.is_alive(r) {
                            self.set_alive(cfg, r, alive);
                        }
                    }
                }
            }
            self.update_quorum(cfg, i);
        }
        self.changed = true;
    }

    /// The counters.
    pub fn stats(&self) -> &LvsStats {
        &self.stats
    }

    /// The next script to run.
    pub fn poll_action(&mut self) -> Option<LvsAction> {
        self.actions.pop_front()
    }

    /// Whether the desired IPVS table changed since the last call (and
    /// resets it): the reconciler must run again.
    pub fn take_changed(&mut self) -> bool {
        core::mem::replace(&mut self.changed, false)
    }

    /// Whether real server `rs` is alive.
    pub fn is_alive(&self, rs: usize) -> bool {
        self.rs.get(rs).is_some_and(|s| s.alive)
    }

    /// Whether virtual server `vs` has quorum.
    pub fn has_quorum(&self, vs: usize) -> bool {
        self.vs.get(vs).is_some_and(|s| s.quorum_up)
    }

    /// The weight of real server `rs` now (configured, moved by
    /// `misc_dynamic`), 0..=`IPVS_WEIGHT_MAX`.
    pub fn weight(&self, cfg: &Config, rs: usize) -> u32 {
        let base = cfg
            .lvs
            .real_servers
            .get(rs)
            .and_then(|r| r.weight)
            .unwrap_or(1);
        let delta = self.rs.get(rs).map_or(0, |s| s.delta);
        u32::try_from((i64::from(base) + delta).clamp(0, IPVS_WEIGHT_MAX)).unwrap_or(0)
    }

    /// The desired IPVS state of real server `rs`: `None` = not in the
    /// table, `Some(0)` = inhibited (in at weight 0), `Some(w)` = in with
    /// weight `w`.
    pub fn rs_weight(&self, cfg: &Config, rs: usize) -> Option<u32> {
        let r = cfg.lvs.real_servers.get(rs)?;
        let inhibit = r.defaults.inhibit_on_failure == Some(true);
        let vs = usize::from(r.vs);
        if self.sorry_active(cfg, vs) || !self.is_alive(rs) {
            return inhibit.then_some(0);
        }
        Some(self.weight(cfg, rs))
    }

    /// Whether virtual server `vs`'s sorry server is in the pool (it has
    /// one and has lost quorum).
    pub fn sorry_active(&self, cfg: &Config, vs: usize) -> bool {
        cfg.lvs
            .virtual_servers
            .get(vs)
            .is_some_and(|v| v.sorry.is_some())
            && !self.has_quorum(vs)
    }

    /// The live weight of virtual server `vs`: the weights of its alive
    /// real servers, summed (what quorum is judged on).
    pub fn live_weight(&self, cfg: &Config, vs: usize) -> u64 {
        cfg.lvs
            .real_servers_of(vs)
            .filter(|(r, _)| self.is_alive(*r))
            .map(|(r, _)| u64::from(self.weight(cfg, r)))
            .sum()
    }

    fn gain_threshold(&self, cfg: &Config, vs: usize) -> u64 {
        cfg.lvs
            .virtual_servers
            .get(vs)
            .map_or(1, |v| u64::from(v.quorum) + u64::from(v.hysteresis))
    }

    fn run(&mut self, cfg: &Config, event: ScriptEvent, script: Script) {
        let cmd = cfg.strings.get(script.command);
        match event {
            ScriptEvent::RsUp(r) | ScriptEvent::RsDown(r) => {
                let r = usize::from(r);
                let vs = cfg.lvs.real_servers.get(r).map_or(0, |x| usize::from(x.vs));
                log::info!(
                    "Executing [{cmd}] for service {} in VS {}",
                    RsName(cfg, r),
                    VsName(cfg, vs)
                );
            }
            ScriptEvent::QuorumUp(v) | ScriptEvent::QuorumDown(v) => {
                log::info!("Executing [{cmd}] for VS {}", VsName(cfg, usize::from(v)));
            }
        }
        if self
            .actions
            .push_back(LvsAction::Run { event, script })
            .is_err()
        {
            self.stats.queue_full += 1;
            log::error!("script queue full, [{cmd}] not run");
        }
    }

    fn log_sorry(&self, cfg: &Config, vs: usize, add: bool) {
        let Some(s) = cfg.lvs.virtual_servers.get(vs).and_then(|v| v.sorry) else {
            return;
        };
        let name = Trio(SocketAddr::new(s.addr, s.port), Proto::Tcp);
        let name = Trio(
            name.0,
            cfg.lvs
                .virtual_servers
                .get(vs)
                .and_then(|v| v.protocol)
                .map_or(Proto::Tcp, proto_of),
        );
        match (add, s.inhibit) {
            (true, true) => log::info!("Enabling sorry server {name} to VS {}", VsName(cfg, vs)),
            (true, false) => log::info!("Adding sorry server {name} to VS {}", VsName(cfg, vs)),
            (false, true) => {
                log::info!("Disabling sorry server {name} from VS {}", VsName(cfg, vs));
            }
            (false, false) => {
                log::info!("Removing sorry server {name} from VS {}", VsName(cfg, vs));
            }
        }
    }

    /// A report of the checkers.
    pub fn handle_report(&mut self, cfg: &Config, report: CheckReport) {
        match report {
            CheckReport::State {
                check,
                up,
                was_up,
                first,
            } => self.handle_state(cfg, check, up, was_up, first),
            CheckReport::Weight { check, weight } => self.handle_weight(cfg, check, weight),
        }
    }

    fn handle_state(&mut self, cfg: &Config, check: CheckId, up: bool, was_up: bool, first: bool) {
        let Some(ck) = cfg.lvs.checkers.get(usize::from(check.0)) else {
            return;
        };
        let r = usize::from(ck.rs);
        let Some(state) = self.rs.get(r).copied() else {
            return;
        };
        if up == was_up {
            // First decision that confirms the start state: keepalived runs
            // the notify of a real server that starts down.
            if first && (ck.alpha == Some(true) || !up) {
                self.notify(cfg, r, state.alive);
            }
            return;
        }
        if up {
            if state.failed <= 1 {
                self.set_alive(cfg, r, true);
            }
        } else if state.failed == 0 {
            self.set_alive(cfg, r, false);
        }
        if let Some(s) = self.rs.get_mut(r) {
            s.failed = if up {
                s.failed.saturating_sub(1)
            } else {
                s.failed.saturating_add(1)
            };
        }
    }

    fn notify(&mut self, cfg: &Config, r: usize, alive: bool) {
        let Some(rs) = cfg.lvs.real_servers.get(r) else {
            return;
        };
        let (script, event) = if alive {
            (rs.notify_up, ScriptEvent::RsUp(r as u16))
        } else {
            (rs.notify_down, ScriptEvent::RsDown(r as u16))
        };
        if let Some(s) = script {
            self.run(cfg, event, s);
        }
    }

    fn set_alive(&mut self, cfg: &Config, r: usize, alive: bool) {
        let Some(rs) = cfg.lvs.real_servers.get(r) else {
            return;
        };
        let vs = usize::from(rs.vs);
        let inhibit = rs.defaults.inhibit_on_failure == Some(true);
        let verb = match (alive, inhibit) {
            (true, true) => "Enabling",
            (true, false) => "Adding",
            (false, true) => "Disabling",
            (false, false) => "Removing",
        };
        let prep = if inhibit {
            "of"
        } else if alive {
            "to"
        } else {
            "from"
        };
        log::info!(
            "{verb} service {} {prep} VS {}",
            RsName(cfg, r),
            VsName(cfg, vs)
        );
        if let Some(s) = self.rs.get_mut(r) {
            s.alive = alive;
        }
        if alive {
            self.stats.rs_up += 1;
        } else {
            self.stats.rs_down += 1;
        }
        self.changed = true;
        self.notify(cfg, r, alive);
        self.update_quorum(cfg, vs);
    }

    fn handle_weight(&mut self, cfg: &Config, check: CheckId, weight: u32) {
        let Some(ck) = cfg.lvs.checkers.get(usize::from(check.0)) else {
            return;
        };
        let r = usize::from(ck.rs);
        let base = i64::from(
            cfg.lvs
                .real_servers
                .get(r)
                .and_then(|x| x.weight)
                .unwrap_or(1),
        );
        let new_delta = i64::from(weight) - base;
        let Some(old_delta) = self.check_delta.get(usize::from(check.0)).copied() else {
            return;
        };
        if new_delta == old_delta {
            return;
        }
        let before = self.weight(cfg, r);
        if let Some(d) = self.check_delta.get_mut(usize::from(check.0)) {
            *d = new_delta;
        }
        if let Some(s) = self.rs.get_mut(r) {
            s.delta += new_delta - old_delta;
        }
        let after = self.weight(cfg, r);
        if before != after {
            self.stats.weight_changes += 1;
            let vs = cfg.lvs.real_servers.get(r).map_or(0, |x| usize::from(x.vs));
            log::info!(
                "Changing weight from {before} to {after} for {}active service {} of VS {}",
                if self.is_alive(r) { "" } else { "in" },
                RsName(cfg, r),
                VsName(cfg, vs)
            );
            self.changed = true;
            self.update_quorum(cfg, vs);
        }
    }

    /// keepalived's `update_quorum_state`.
    fn update_quorum(&mut self, cfg: &Config, i: usize) {
        let Some(vs) = cfg.lvs.virtual_servers.get(i) else {
            return;
        };
        let up = self.has_quorum(i);
        let sum = self.live_weight(cfg, i);
        let (q, h) = (u64::from(vs.quorum), u64::from(vs.hysteresis));
        if !up && sum >= q + h {
            if let Some(s) = self.vs.get_mut(i) {
                s.quorum_up = true;
            }
            self.stats.quorum_gained += 1;
            self.changed = true;
            log::info!(
                "Gained quorum {q}+{h}={} <= {sum} for VS {}",
                q + h,
                VsName(cfg, i)
            );
            if vs.sorry.is_some() {
                self.log_sorry(cfg, i, false);
                log::info!("Adding alive servers to the pool for VS {}", VsName(cfg, i));
            }
            if let Some(s) = vs.quorum_up {
                self.run(cfg, ScriptEvent::QuorumUp(i as u16), s);
            }
        } else if up && (sum == 0 || sum < q.saturating_sub(h)) {
            if let Some(s) = self.vs.get_mut(i) {
                s.quorum_up = false;
            }
            self.stats.quorum_lost += 1;
            self.changed = true;
            log::info!(
                "Lost quorum {q}-{h}={} > {sum} for VS {}",
                q.saturating_sub(h),
                VsName(cfg, i)
            );
            if vs.sorry.is_some() {
                self.log_sorry(cfg, i, true);
                log::info!(
                    "Removing alive servers from the pool for VS {}",
                    VsName(cfg, i)
                );
            }
            if let Some(s) = vs.quorum_down {
                self.run(cfg, ScriptEvent::QuorumDown(i as u16), s);
            }
        }
    }

    /// Stopping: `omega` virtual servers run `notify_down` of their alive
    /// real servers, and `quorum_down` if they had quorum.
    pub fn shutdown(&mut self, cfg: &Config) {
        for i in 0..self.vs.len() {
            let Some(vs) = cfg.lvs.virtual_servers.get(i) else {
                continue;
            };
            for (r, _) in cfg.lvs.real_servers_of(i) {
                if !self.is_alive(r) {
                    continue;
                }
                log::info!(
                    "Shutting down service {} from VS {}",
                    RsName(cfg, r),
                    VsName(cfg, i)
                );
                if vs.omega {
                    self.notify(cfg, r, false);
                }
            }
            if vs.omega
                && self.has_quorum(i)
                && let Some(s) = vs.quorum_down
            {
                self.run(cfg, ScriptEvent::QuorumDown(i as u16), s);
            }
        }
    }

    /// Logs the state of every virtual and real server (SIGUSR1).
    pub fn log_state(&self, cfg: &Config) {
        for i in 0..self.vs.len() {
            let Some(vs) = cfg.lvs.virtual_servers.get(i) else {
                continue;
            };
            log::info!(
                "VS {}: quorum {} ({}, live weight {}), sorry server {}",
                VsName(cfg, i),
                if self.has_quorum(i) { "up" } else { "down" },
                vs.quorum,
                self.live_weight(cfg, i),
                if vs.sorry.is_none() {
                    "none"
                } else if self.sorry_active(cfg, i) {
                    "active"
                } else {
                    "inactive"
                }
            );
            for (r, _) in cfg.lvs.real_servers_of(i) {
                let desired = self.rs_weight(cfg, r);
                log::info!(
                    "  RS {}: {}, weight {}, in pool: {}",
                    RsName(cfg, r),
                    if self.is_alive(r) { "alive" } else { "dead" },
                    self.weight(cfg, r),
                    match desired {
                        None => "no",
                        Some(0) => "inhibited (weight 0)",
                        Some(_) => "yes",
                    }
                );
            }
        }
    }
}
