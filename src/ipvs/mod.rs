//! The IPVS table picket keeps: what the configuration and the health
//! checkers want in the kernel, what the kernel has, and the requests that
//! take one to the other — sans-IO, without allocation.
//!
//! # Primer
//!
//! The configuration fixes a **universe** of slots when the daemon starts
//! ([`Reconciler::new`]):
//!
//! - one service slot per IPVS service: a `virtual_server IP PORT` or
//!   `fwmark N` is one; a `virtual_server group NAME` is one per address of
//!   each range or prefix of the group (per port given there) and one per
//!   `fwmark` entry (keepalived without `nftables_ipvs`);
//! - one destination slot per (service, real server) pair, plus one per
//!   (service, sorry server).
//!
//! Each slot holds two values: **desired** (what should be in the kernel)
//! and **kernel** (what picket believes the kernel has). Desired values come
//! from [`Reconciler::set_desired`], which takes the configuration and two
//! closures from the health checkers — `rs_weight(r)`: `None` = real server
//! `r` out of the table, `Some(0)` = inhibited, `Some(w)` = in at weight
//! `w`; and `sorry_active(v)`: virtual server `v` lost its quorum, so its
//! sorry server replaces its real servers (keepalived's
//! `update_quorum_state`). A sorry server with `sorry_server_inhibit` stays
//! in the table at weight 0 while inactive. It is cheap (one pass over the
//! slots) and may run whenever a checker changes a result.
//!
//! Kernel values come from dumps at start-up ([`Reconciler::handle_dumped_service`],
//! [`Reconciler::handle_dumped_dest`]) — a restarted picket **adopts** what
//! matches instead of flushing — and from then on from the requests picket
//! sent: [`Reconciler::poll_op`] yields the next difference as an [`Op`] and
//! records it as applied; the binary turns it into a request
//! ([`Reconciler::request`]) and reports a refusal with
//! [`Reconciler::handle_failed`], which puts the slot back as unknown so
//! the next pass retries it.
//!
//! Ops come in an order the kernel accepts: services added or changed,
//! destinations removed, changed, added; services removed last (only when
//! stopping). A destination whose service is removed is not removed on its
//! own (the kernel removes it with the service).
//!
//! Services in the kernel that the configuration does not name are left
//! alone (another program's); destinations in a configured service that the
//! configuration does not name are removed ([`DumpedDest::Stale`]).
//!
//! # Stopping
//!
//! [`Reconciler::stop`] makes every service undesired: the next ops remove
//! each configured service the kernel has (keepalived's behaviour at stop,
//! `clear_services`), unless the daemon was told to leave them
//! (`--dont-release-ipvs`, keepalived's `-I`), or `lvs_flush_on_stop`
//! asks for one `FLUSH` instead (the binary's choice).

mod build;
pub mod link;
#[cfg(test)]
mod tests;

use core::fmt;

use heapless::Vec;

pub use build::check_config;

use crate::config::Config;
use crate::limits::{IPVS_DESTINATIONS, IPVS_SERVICES};
use crate::wire::ipvs::{AddrPort, DestRepr, Request, ServiceKey, ServiceRepr};

/// Why the universe could not be built (the config check reports these at
/// load time with a location; here they are a last line of defence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// More services than `ipvs_services` (the virtual server's index).
    TooManyServices(u16),
    /// More destinations than `ipvs_destinations` (the virtual server's index).
    TooManyDestinations(u16),
    /// Two virtual servers give the same service (the second one's index).
    DuplicateService(u16),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::TooManyServices(v) => write!(
                f,
                "virtual server {v}: more IPVS services than ipvs_services = {IPVS_SERVICES}"
            ),
            BuildError::TooManyDestinations(v) => write!(
                f,
                "virtual server {v}: more IPVS destinations than ipvs_destinations = {IPVS_DESTINATIONS}"
            ),
            BuildError::DuplicateService(v) => {
                write!(f, "virtual server {v}: its service is already configured")
            }
        }
    }
}

/// Where a destination slot comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Real server `n` of `cfg.lvs.real_servers`.
    RealServer(u16),
    /// The sorry server of virtual server `n`.
    Sorry(u16),
}

/// A service slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSlot {
    /// The virtual server it comes from (index in `cfg.lvs.virtual_servers`).
    pub vs: u16,
    /// Its settings (from the configuration).
    pub repr: ServiceRepr,
    /// Whether it should be in the kernel (true until [`Reconciler::stop`]).
    pub desired: bool,
    /// What the kernel has (`None`: not there, or not known to be).
    pub kernel: Option<ServiceRepr>,
}

/// A destination slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestSlot {
    /// Its service (index of [`Reconciler::services`]).
    pub service: u16,
    /// The real or sorry server it comes from.
    pub origin: Origin,
    /// Its settings at the configured weight.
    pub base: DestRepr,
    /// What should be in the kernel.
    pub desired: Option<DestRepr>,
    /// What the kernel has.
    pub kernel: Option<DestRepr>,
}

/// One change to make in the kernel; slot indexes into the reconciler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Add service slot `n`.
    NewService(u16),
    /// Change service slot `n`'s settings.
    SetService(u16),
    /// Remove service slot `n` (its destinations go with it).
    DelService(u16),
    /// Add destination slot `n`.
    NewDest(u16),
    /// Change destination slot `n` (weight, thresholds, forwarding).
    SetDest(u16),
    /// Remove destination slot `n`.
    DelDest(u16),
    /// Remove a service a reload dropped (its key: it has no slot any
    /// more).
    DelRetired(ServiceKey),
    /// Remove a destination the configuration does not name from service
    /// slot `service` (found in a dump, or dropped by a reload; its address
    /// and port are kept).
    DelStale {
        /// The service slot.
        service: u16,
        /// The destination as dumped.
        dest: DestRepr,
    },
}

/// What a dumped service is to picket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpedService {
    /// Service slot `n`: adopted.
    Adopted(u16),
    /// Not in the configuration: left alone.
    Foreign,
}

/// What a dumped destination is to picket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpedDest {
    /// Destination slot `n`: adopted.
    Adopted(u16),
    /// In a configured service but not in the configuration: to remove
    /// (it comes back from [`Reconciler::poll_op`] as [`Op::DelStale`]).
    Stale,
    /// The service slot is unknown (a reply out of order): ignored.
    Ignored,
}

/// Counters of the reconciler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReconcileStats {
    /// Services found in dumps that picket took over.
    pub services_adopted: u64,
    /// Services found in dumps that are not picket's (left alone).
    pub services_foreign: u64,
    /// Destinations found in dumps that picket took over.
    pub dests_adopted: u64,
    /// Destinations found in dumps that the configuration does not name.
    pub dests_stale: u64,
    /// Stale destinations that did not fit the queue (removed at the next
    /// resync instead).
    pub stale_overflow: u64,
    /// Ops handed out.
    pub ops: u64,
    /// Ops the kernel refused.
    pub failed: u64,
}

/// How many stale destinations one dump (or reload) may queue.
const STALE: usize = 256;

/// Which ops a pass is handing out, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Services,
    Stale,
    DelDests,
    SetDests,
    NewDests,
    DelServices,
    Done,
}

/// The universe of slots, and the pass that walks their differences.
#[derive(Clone, Debug)]
pub struct Reconciler {
    services: Vec<ServiceSlot, IPVS_SERVICES>,
    dests: Vec<DestSlot, IPVS_DESTINATIONS>,
    stale: Vec<(u16, DestRepr), STALE>,
    /// Services a reload dropped, still in the kernel.
    retired: Vec<ServiceKey, IPVS_SERVICES>,
    phase: Phase,
    cursor: usize,
    stats: ReconcileStats,
}

impl Reconciler {
    /// Builds the universe of `cfg` (start-up), every slot wanted at its
    /// configured weight and nothing known of the kernel yet.
    pub fn new(cfg: &Config) -> Result<Self, BuildError> {
        let mut r = Reconciler {
            services: Vec::new(),
            dests: Vec::new(),
            stale: Vec::new(),
            retired: Vec::new(),
            phase: Phase::Done,
            cursor: 0,
            stats: ReconcileStats::default(),
        };
        r.reset(cfg)?;
        Ok(r)
    }

    /// Back to what [`Reconciler::new`] returns for `cfg`, in place (the
    /// tables are a few hundred KiB: nothing is built on the stack and
    /// copied) — for a caller that reuses one block, such as the fuzz
    /// harnesses. On error the tables are as far as the build got.
    pub fn reset(&mut self, cfg: &Config) -> Result<(), BuildError> {
        self.services.clear();
        self.dests.clear();
        self.stale.clear();
        self.retired.clear();
        self.phase = Phase::Done;
        self.cursor = 0;
        self.stats = ReconcileStats::default();
        build::universe(cfg, &mut self.services, &mut self.dests)?;
        self.set_desired(cfg, |i| configured_weight(cfg, i), |_| false);
        Ok(())
    }

    /// The service slots.
    pub fn services(&self) -> &[ServiceSlot] {
        &self.services
    }

    /// The destination slots.
    pub fn dests(&self) -> &[DestSlot] {
        &self.dests
    }

    /// The counters.
    pub const fn stats(&self) -> &ReconcileStats {
        &self.stats
    }

    /// Sets what every destination slot wants from the checkers' view (see
    /// the module doc) and starts a new pass. `cfg` must be the one
    /// [`Reconciler::new`] was given.
    pub fn set_desired(
        &mut self,
        cfg: &Config,
        rs_weight: impl Fn(usize) -> Option<u32>,
        sorry_active: impl Fn(usize) -> bool,
    ) {
        for d in self.dests.iter_mut() {
            let Some(svc) = self.services.get(usize::from(d.service)) else {
                continue;
            };
            let vs = usize::from(svc.vs);
            let weight = if !svc.desired {
                None
            } else {
                match d.origin {
                    Origin::RealServer(r) if !sorry_active(vs) => rs_weight(usize::from(r)),
                    Origin::RealServer(_) => None,
                    Origin::Sorry(_) if sorry_active(vs) => Some(1),
                    Origin::Sorry(_) => {
                        let inhibit = cfg
                            .lvs
                            .virtual_servers
                            .get(vs)
                            .and_then(|v| v.sorry)
                            .is_some_and(|s| s.inhibit);
                        // A sorry server that is also a real server keeps
                        // that real server's entry (keepalived's
                        // `s_svr_duplicates_rs`).
                        let duplicate = cfg.lvs.real_servers_of(vs).any(|(_, rs)| {
                            rs.addr == d.base.addr && rs_port(rs.port, &d.base) == d.base.port
                        });
                        (inhibit && !duplicate).then_some(0)
                    }
                }
            };
            d.desired = weight.map(|w| DestRepr {
                weight: i32::try_from(w).unwrap_or(i32::MAX),
                ..d.base
            });
        }
        self.restart_pass();
    }

    /// Forgets what the kernel has (before dumping it again) and starts a
    /// new pass.
    pub fn forget_kernel(&mut self) {
        for s in self.services.iter_mut() {
            s.kernel = None;
        }
        for d in self.dests.iter_mut() {
            d.kernel = None;
        }
        self.stale.clear();
        self.restart_pass();
    }

    /// Starts a new pass over the slots: what was handed back as failed
    /// ([`Reconciler::handle_failed`]) comes out of [`Reconciler::poll_op`]
    /// again.
    pub fn retry(&mut self) {
        self.restart_pass();
    }

    /// Reload: this universe (of the new configuration) takes over what
    /// `old` knew of the kernel, so the next pass sends only the
    /// differences: a service of the same key keeps its kernel settings,
    /// a destination of the same service, address and port too (an
    /// unchanged virtual or real server sends nothing). `old`'s services
    /// the new configuration drops are removed ([`Op::DelRetired`]), and
    /// its destinations of a kept service that the new one drops become
    /// stale (removed). The counters carry on.
    pub fn adopt_kernel(&mut self, old: &Reconciler) {
        self.stats = old.stats;
        self.retired.clear();
        self.stale.clear();
        for o in old.services.iter().filter(|o| o.kernel.is_some()) {
            if let Some(n) = self.services.iter_mut().find(|n| n.repr.key == o.repr.key) {
                n.kernel = o.kernel;
            } else if self.retired.push(o.repr.key).is_err() {
                self.stats.stale_overflow += 1;
            }
        }
        for (oi, o) in old.services.iter().enumerate() {
            let Some(ni) = self.services.iter().position(|n| n.repr.key == o.repr.key) else {
                continue;
            };
            let ni = u16::try_from(ni).unwrap_or(u16::MAX);
            let oi = u16::try_from(oi).unwrap_or(u16::MAX);
            for od in old.dests.iter().filter(|d| d.service == oi) {
                let Some(k) = od.kernel else { continue };
                let same = |d: &&mut DestSlot| {
                    d.service == ni && d.base.addr == od.base.addr && d.base.port == od.base.port
                };
                match self.dests.iter_mut().find(same) {
                    Some(n) => n.kernel = Some(k),
                    None => {
                        if self.stale.push((ni, k)).is_err() {
                            self.stats.stale_overflow += 1;
                        }
                    }
                }
            }
        }
        self.restart_pass();
    }

    /// Makes every service undesired: the next ops remove them (stop).
    pub fn stop(&mut self) {
        for s in self.services.iter_mut() {
            s.desired = false;
        }
        for d in self.dests.iter_mut() {
            d.desired = None;
        }
        self.restart_pass();
    }

    /// Marks everything as gone from the kernel (after a `FLUSH`).
    pub fn handle_flushed(&mut self) {
        self.forget_kernel();
    }

    fn restart_pass(&mut self) {
        self.phase = Phase::Services;
        self.cursor = 0;
    }

    /// A service from a `GET_SERVICE` dump.
    pub fn handle_dumped_service(&mut self, s: &ServiceRepr) -> DumpedService {
        match self.services.iter().position(|x| x.repr.key == s.key) {
            Some(i) => {
                if let Some(slot) = self.services.get_mut(i) {
                    slot.kernel = Some(*s);
                }
                self.stats.services_adopted += 1;
                self.restart_pass();
                DumpedService::Adopted(u16::try_from(i).unwrap_or(u16::MAX))
            }
            None => {
                self.stats.services_foreign += 1;
                DumpedService::Foreign
            }
        }
    }

    /// A destination from the `GET_DEST` dump of service slot `service`.
    pub fn handle_dumped_dest(&mut self, service: u16, d: &DestRepr) -> DumpedDest {
        if self.services.get(usize::from(service)).is_none() {
            return DumpedDest::Ignored;
        }
        let mut found = None;
        for (i, slot) in self.dests.iter().enumerate() {
            if slot.service == service && slot.base.addr == d.addr && slot.base.port == d.port {
                // Prefer the slot that wants to be in (a sorry server that
                // is also a real server has two slots for one entry).
                if found.is_none() || slot.desired.is_some() {
                    found = Some(i);
                }
            }
        }
        self.restart_pass();
        match found {
            Some(i) => {
                if let Some(slot) = self.dests.get_mut(i) {
                    slot.kernel = Some(*d);
                }
                self.stats.dests_adopted += 1;
                DumpedDest::Adopted(u16::try_from(i).unwrap_or(u16::MAX))
            }
            None => {
                self.stats.dests_stale += 1;
                if self.stale.push((service, *d)).is_err() {
                    self.stats.stale_overflow += 1;
                }
                DumpedDest::Stale
            }
        }
    }

    /// The next difference between desired and kernel, recorded as applied;
    /// `None` when the kernel is as desired.
    pub fn poll_op(&mut self) -> Option<Op> {
        loop {
            let i = self.cursor;
            self.cursor += 1;
            let op = match self.phase {
                Phase::Services => match self.services.get_mut(i) {
                    Some(s) => service_op(s, i),
                    None => {
                        self.next_phase(Phase::Stale);
                        continue;
                    }
                },
                Phase::Stale => match self.stale.pop() {
                    Some((service, dest)) => Some(Op::DelStale { service, dest }),
                    None => {
                        self.next_phase(Phase::DelDests);
                        continue;
                    }
                },
                Phase::DelDests | Phase::SetDests | Phase::NewDests => {
                    let Some(d) = self.dests.get(i).copied() else {
                        let next = match self.phase {
                            Phase::DelDests => Phase::SetDests,
                            Phase::SetDests => Phase::NewDests,
                            _ => Phase::DelServices,
                        };
                        self.next_phase(next);
                        continue;
                    };
                    let service_going = self
                        .services
                        .get(usize::from(d.service))
                        .is_none_or(|s| !s.desired);
                    let op = dest_op(self.phase, &d, i, service_going);
                    if op.is_some()
                        && let Some(slot) = self.dests.get_mut(i)
                    {
                        slot.kernel = slot.desired;
                    }
                    op
                }
                Phase::DelServices => match self.services.get_mut(i) {
                    None if !self.retired.is_empty() => self.retired.pop().map(Op::DelRetired),
                    Some(s) if !s.desired && s.kernel.is_some() => {
                        s.kernel = None;
                        let i = u16::try_from(i).unwrap_or(u16::MAX);
                        for d in self.dests.iter_mut().filter(|d| d.service == i) {
                            d.kernel = None;
                        }
                        Some(Op::DelService(i))
                    }
                    Some(_) => None,
                    None => {
                        self.next_phase(Phase::Done);
                        continue;
                    }
                },
                Phase::Done => return None,
            };
            if let Some(op) = op {
                self.stats.ops += 1;
                return Some(op);
            }
        }
    }

    fn next_phase(&mut self, p: Phase) {
        self.phase = p;
        self.cursor = 0;
    }

    /// The kernel refused `op`: the slot is marked unknown, so the next
    /// pass (after [`Reconciler::set_desired`] or a resync) tries again.
    /// A refused add leaves the slot "not there"; a refused removal or
    /// change leaves it "there, settings unknown".
    pub fn handle_failed(&mut self, op: Op) {
        self.stats.failed += 1;
        match op {
            Op::NewService(i) => {
                if let Some(s) = self.services.get_mut(usize::from(i)) {
                    s.kernel = None;
                }
            }
            Op::SetService(i) | Op::DelService(i) => {
                if let Some(s) = self.services.get_mut(usize::from(i)) {
                    s.kernel = Some(unknown_service(&s.repr));
                }
            }
            Op::NewDest(i) => {
                if let Some(d) = self.dests.get_mut(usize::from(i)) {
                    d.kernel = None;
                }
            }
            Op::SetDest(i) | Op::DelDest(i) => {
                if let Some(d) = self.dests.get_mut(usize::from(i)) {
                    d.kernel = Some(DestRepr {
                        weight: -1,
                        ..d.base
                    });
                }
            }
            Op::DelStale { .. } | Op::DelRetired(_) => {}
        }
    }

    /// The request that carries out `op`.
    pub fn request<'a>(&'a self, op: &'a Op) -> Option<Request<'a>> {
        let svc = |i: u16| self.services.get(usize::from(i));
        let dest = |i: u16| self.dests.get(usize::from(i));
        Some(match op {
            Op::NewService(i) => Request::NewService(&svc(*i)?.repr),
            Op::SetService(i) => Request::SetService(&svc(*i)?.repr),
            Op::DelService(i) => Request::DelService(svc(*i)?.repr.key),
            Op::NewDest(i) => {
                let d = dest(*i)?;
                Request::NewDest(svc(d.service)?.repr.key, d.desired.as_ref()?)
            }
            Op::SetDest(i) => {
                let d = dest(*i)?;
                Request::SetDest(svc(d.service)?.repr.key, d.desired.as_ref()?)
            }
            Op::DelDest(i) => {
                let d = dest(*i)?;
                Request::DelDest(svc(d.service)?.repr.key, &d.base)
            }
            Op::DelStale { service, dest } => Request::DelDest(svc(*service)?.repr.key, dest),
            Op::DelRetired(key) => Request::DelService(*key),
        })
    }

    /// What `op` does, for a log line: `add destination 10.0.0.2:80 to TCP
    /// 10.0.0.1:80`.
    pub fn describe(&self, op: Op) -> Describe<'_> {
        Describe { r: self, op }
    }
}

/// The display of an [`Op`] (see [`Reconciler::describe`]).
pub struct Describe<'a> {
    r: &'a Reconciler,
    op: Op,
}

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let svc = |i: u16| self.r.services.get(usize::from(i)).map(|s| s.repr.key);
        let dest = |i: u16| self.r.dests.get(usize::from(i)).copied();
        let (verb, d, s) = match self.op {
            Op::NewService(i) => ("add service", None, svc(i)),
            Op::SetService(i) => ("change service", None, svc(i)),
            Op::DelService(i) => ("remove service", None, svc(i)),
            Op::NewDest(i) => (
                "add destination",
                dest(i).map(|d| d.base),
                dest(i).and_then(|d| svc(d.service)),
            ),
            Op::SetDest(i) => (
                "change destination",
                dest(i).map(|d| d.base),
                dest(i).and_then(|d| svc(d.service)),
            ),
            Op::DelDest(i) => (
                "remove destination",
                dest(i).map(|d| d.base),
                dest(i).and_then(|d| svc(d.service)),
            ),
            Op::DelStale { service, dest } => {
                ("remove unconfigured destination", Some(dest), svc(service))
            }
            Op::DelRetired(key) => ("remove dropped service", None, Some(key)),
        };
        f.write_str(verb)?;
        if let Some(d) = d {
            write!(f, " {}", AddrPort(d.addr, d.port))?;
            f.write_str(if verb.starts_with("add") {
                " to"
            } else {
                " of"
            })?;
        }
        match s {
            Some(s) => write!(f, " {s}"),
            None => f.write_str(" ?"),
        }
    }
}

/// The configured weight of real server `r` (keepalived's start state
/// without `alpha`: every real server in).
pub fn configured_weight(cfg: &Config, r: usize) -> Option<u32> {
    cfg.lvs
        .real_servers
        .get(r)
        .map(|rs| u32::try_from(rs.weight.unwrap_or(1)).unwrap_or(0))
}

/// The port a real server's entry has in the kernel for a slot (the base
/// holds the resolved one; this compares a config port with it).
fn rs_port(config_port: u16, base: &DestRepr) -> u16 {
    if config_port == 0 {
        base.port
    } else {
        config_port
    }
}

/// A service whose settings are unknown: differs from any real one.
fn unknown_service(repr: &ServiceRepr) -> ServiceRepr {
    ServiceRepr {
        timeout: repr.timeout ^ 1,
        ..*repr
    }
}

fn service_op(s: &mut ServiceSlot, i: usize) -> Option<Op> {
    if !s.desired {
        return None;
    }
    let i = u16::try_from(i).unwrap_or(u16::MAX);
    let op = match &s.kernel {
        None => Op::NewService(i),
        Some(k) if !k.same_settings(&s.repr) => Op::SetService(i),
        Some(_) => return None,
    };
    s.kernel = Some(s.repr);
    Some(op)
}

fn dest_op(phase: Phase, d: &DestSlot, i: usize, service_going: bool) -> Option<Op> {
    let i = u16::try_from(i).unwrap_or(u16::MAX);
    match (phase, &d.desired, &d.kernel) {
        (Phase::DelDests, None, Some(_)) if !service_going => Some(Op::DelDest(i)),
        (Phase::SetDests, Some(w), Some(k)) if !w.same_settings(k) => Some(Op::SetDest(i)),
        (Phase::NewDests, Some(_), None) => Some(Op::NewDest(i)),
        _ => None,
    }
}
