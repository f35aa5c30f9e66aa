//! What picket tells an operator: one JSON document of the whole state
//! (the status socket), and keepalived's dump files ([`keepalived`]), all
//! written without allocation.
//!
//! # The status document
//!
//! ```text
//! {"picket":{version, board, pid, router_id, config_file, started, now,
//!            uptime_ms, reloads:{ok, failed, last}},
//!  "vrrp":{"instances":[{name, vrid, interface, family, version, mode,
//!            source, group, state, since, base_priority,
//!            effective_priority, fault, hold:[no_interface, no_source],
//!            advert_int_ms, master_adver_int_ms,
//!            master_down_interval_ms, preempt, preempt_delay_ms, accept,
//!            sync_group, master:{address, priority, self, last_advert},
//!            last_transition:{at, from, to}, transitions:{to_master, ...},
//!            addresses:[{address, prefix, dev, excluded, held}],
//!            peers:[{address, configured, min_ttl, max_ttl, last_heard,
//!            last_priority, counts:{accepted, <drop reason>...}}],
//!            stats:{...}, rx:{...}, reflector:{vips_restored,
//!            source_changes, interface_losses, holds}}],
//!          "sync_groups":[{name, state, members}],
//!          "scripts":[{name, state, running, runs, ...}],
//!          "links":[{name, up}], "rx_unmatched":{...}},
//!  "counters":{...},
//!  <one key per extra [`Section`]: an array of its items>}
//! ```
//!
//! Times are wall-clock seconds since the epoch with six decimals
//! (keepalived's form), converted from the loop's monotonic instants by a
//! [`Wall`] read once per document; `null` when there is none.
//!
//! # Written in pieces
//!
//! A [`Document`] is written **unit by unit** into a caller's fixed buffer
//! ([`Document::fill`]): a unit (the head, one instance's scalars, one
//! address, one group, ...) is written whole or not at all, so a document
//! larger than the buffer goes out in pieces as the socket drains, each
//! piece valid where it stands. Between pieces the state may move on (the
//! document is then a sequence of consistent units, not one instant); the
//! caller abandons a document across a reload (the tables change shape).
//! The largest unit of a configuration at the board's limits fits
//! [`crate::limits::STATUS_BUFFER_BYTES`] (tested).

pub mod ipvs;
pub mod json;
pub mod keepalived;
pub mod lvs;

use core::fmt;
use core::net::IpAddr;

use crate::config::Config;
use crate::stats::Stats;
use crate::time::{Duration, Instant};
use crate::vrrp::State;
use crate::vrrp::engine::Engine;
use crate::vrrp::track::{LinkId, LinkTable, ScriptId, ScriptState, ScriptTable};
use crate::wire::vrrp::Family;
use json::{FixedBuf, Json, JsonState};

/// Converts the loop's monotonic instants to wall-clock time: the two
/// clocks read once, together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wall {
    /// The monotonic time of the reading.
    pub now: Instant,
    /// `CLOCK_REALTIME` at that moment, microseconds since the epoch.
    pub epoch_micros: u64,
    /// Local time minus UTC then, in seconds (dates in the dump files are
    /// local, as keepalived's `ctime`).
    pub utc_offset_s: i32,
}

impl Wall {
    /// Microseconds since the epoch at monotonic instant `t`.
    pub fn at(&self, t: Instant) -> u64 {
        let back = (self.now - t).total_micros();
        if t > self.now {
            self.epoch_micros
                .saturating_add((t - self.now).total_micros())
        } else {
            self.epoch_micros.saturating_sub(back)
        }
    }
}

/// The outcome of the last reload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastReload {
    /// When it was asked for.
    pub at: Option<Instant>,
    /// Whether it was applied (`false`: the configuration had errors and
    /// the old one runs on).
    pub applied: bool,
    /// Errors found in the new configuration.
    pub errors: u16,
    /// Instances started.
    pub added: u16,
    /// Instances stopped.
    pub removed: u16,
    /// Instances kept with a changed configuration.
    pub changed: u16,
    /// Instances kept unchanged.
    pub kept: u16,
}

/// Reloads since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReloadLog {
    /// Reloads applied.
    pub applied: u64,
    /// Reloads refused (the configuration had errors).
    pub refused: u64,
    /// The last one.
    pub last: LastReload,
}

/// Facts about the daemon itself.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// picket's version.
    pub version: &'a str,
    /// The board it was built for.
    pub board: &'a str,
    /// Its pid.
    pub pid: u32,
    /// The configuration file.
    pub config_file: &'a str,
    /// When the daemon started.
    pub started: Instant,
    /// The clocks, read for this document.
    pub wall: Wall,
    /// Reloads so far.
    pub reloads: &'a ReloadLog,
}

/// A part of the state kept outside the VRRP tables (health checkers,
/// IPVS, the watchdog): it appears in the document as `"name":[items]`.
pub trait Section {
    /// The key in the document.
    fn name(&self) -> &'static str;
    /// How many items it has now.
    fn len(&self) -> usize;
    /// Whether it has no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes item `k` (one JSON value) with `json`; times through `wall`.
    fn item(&self, k: usize, wall: &Wall, json: &mut Json<'_, '_>) -> fmt::Result;
}

/// Everything the document is made of, borrowed for one piece.
pub struct StatusView<'a> {
    /// The daemon.
    pub facts: Facts<'a>,
    /// The running configuration.
    pub cfg: &'a Config,
    /// The VRRP instances.
    pub engine: &'a Engine,
    /// The tracked scripts.
    pub scripts: &'a ScriptTable,
    /// The tracked links.
    pub links: &'a LinkTable,
    /// The daemon's counters.
    pub stats: &'a Stats,
    /// Extra sections, in order.
    pub sections: &'a [&'a dyn Section],
}

/// A unit of the document does not fit an empty buffer (not expected:
/// the board's buffer is sized for the largest unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitTooBig;

/// Where a document stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Head,
    /// Instance (slot), part: 0 its scalars, 1..=n its addresses, n+1 its
    /// peers, n+2 its counters.
    Instance(u16, u16),
    GroupsOpen,
    Group(u16),
    ScriptsOpen,
    Script(u16),
    LinksOpen,
    Link(u16),
    Counters,
    /// Extra section k: its key.
    SectionOpen(u8),
    /// Extra section k, item i.
    SectionItem(u8, u16),
    End,
    Done,
}

/// One document being written, piece by piece. See the module doc.
#[derive(Clone, Copy, Debug)]
pub struct Document {
    step: Step,
    json: JsonState,
}

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

impl Document {
    /// A document not started.
    pub const fn new() -> Self {
        Document {
            step: Step::Head,
            json: JsonState::new(),
        }
    }

    /// Whether every unit is written.
    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// Writes units into `buf` after its first `len` bytes, as many whole
    /// units as fit; returns the new length. A unit that does not fit even
    /// an empty buffer is [`UnitTooBig`].
    pub fn fill(
        &mut self,
        view: &StatusView<'_>,
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, UnitTooBig> {
        let mut out = FixedBuf::new(buf, len);
        while !self.is_done() {
            let mark = out.len();
            let mut state = self.json;
            match unit(view, self.step, &mut Json::new(&mut out, &mut state)) {
                Ok(next) => {
                    self.step = next;
                    self.json = state;
                }
                Err(fmt::Error) => {
                    out.truncate(mark);
                    if mark == 0 {
                        return Err(UnitTooBig);
                    }
                    break;
                }
            }
        }
        Ok(out.len())
    }

    /// Writes the whole document into `out` (a sink without a size limit:
    /// a file, a test's string).
    pub fn write_all(&mut self, view: &StatusView<'_>, out: &mut dyn fmt::Write) -> fmt::Result {
        while !self.is_done() {
            self.step = unit(view, self.step, &mut Json::new(out, &mut self.json))?;
        }
        Ok(())
    }
}

fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Writes the unit at `step`; returns the next step.
fn unit(view: &StatusView<'_>, step: Step, j: &mut Json<'_, '_>) -> Result<Step, fmt::Error> {
    let e = view.engine;
    Ok(match step {
        Step::Head => {
            j.begin_object()?;
            j.key("picket")?;
            head(view, j)?;
            j.key("vrrp")?;
            j.begin_object()?;
            j.key("instances")?;
            j.begin_array()?;
            if e.is_empty() {
                j.end_array()?;
                Step::GroupsOpen
            } else {
                Step::Instance(0, 0)
            }
        }
        Step::Instance(slot, part) => {
            let addresses = count(e.address_count(slot));
            let peers = count(e.peers(slot).map_or(0, |p| p.iter().count()));
            match part {
                0 => instance_head(view, slot, j)?,
                p if p <= addresses => address(view, slot, usize::from(p - 1), j)?,
                p if p == addresses + 1 => {
                    j.end_array()?;
                    j.key("peers")?;
                    j.begin_array()?;
                }
                p if p <= addresses + 1 + peers => {
                    peer(view, slot, usize::from(p - addresses - 2), j)?;
                }
                _ => {
                    j.end_array()?;
                    instance_counters(view, slot, j)?;
                    j.end_object()?;
                    let next = slot.saturating_add(1);
                    return Ok(if usize::from(next) < e.len() {
                        Step::Instance(next, 0)
                    } else {
                        j.end_array()?;
                        Step::GroupsOpen
                    });
                }
            }
            Step::Instance(slot, part + 1)
        }
        Step::GroupsOpen => {
            j.key("sync_groups")?;
            j.begin_array()?;
            first_or_close(
                j,
                view.cfg.vrrp.sync_groups.len(),
                Step::Group(0),
                Step::ScriptsOpen,
            )?
        }
        Step::Group(g) => {
            group(view, usize::from(g), j)?;
            next_or_close(
                j,
                g,
                view.cfg.vrrp.sync_groups.len(),
                Step::Group,
                Step::ScriptsOpen,
            )?
        }
        Step::ScriptsOpen => {
            j.key("scripts")?;
            j.begin_array()?;
            first_or_close(j, view.scripts.len(), Step::Script(0), Step::LinksOpen)?
        }
        Step::Script(k) => {
            script(view, ScriptId(k), j)?;
            next_or_close(j, k, view.scripts.len(), Step::Script, Step::LinksOpen)?
        }
        Step::LinksOpen => {
            j.key("links")?;
            j.begin_array()?;
            first_or_close(j, link_count(view.links), Step::Link(0), Step::Counters)?
        }
        Step::Link(k) => {
            j.begin_object()?;
            j.field_str("name", view.links.name(LinkId(k)).unwrap_or(""))?;
            j.field_bool("up", view.links.is_up(LinkId(k)))?;
            j.end_object()?;
            next_or_close(j, k, link_count(view.links), Step::Link, Step::Counters)?
        }
        Step::Counters => {
            j.key("rx_unmatched")?;
            j.begin_object()?;
            j.counters(e.global_rx_stats().iter())?;
            j.end_object()?;
            j.end_object()?;
            j.key("counters")?;
            j.begin_object()?;
            j.counters(view.stats.iter())?;
            j.end_object()?;
            if view.sections.is_empty() {
                Step::End
            } else {
                Step::SectionOpen(0)
            }
        }
        Step::SectionOpen(k) => {
            let Some(s) = view.sections.get(usize::from(k)) else {
                return Ok(Step::End);
            };
            j.key(s.name())?;
            j.begin_array()?;
            if s.is_empty() {
                j.end_array()?;
                next_section(view, k)
            } else {
                Step::SectionItem(k, 0)
            }
        }
        Step::SectionItem(k, i) => {
            let Some(s) = view.sections.get(usize::from(k)) else {
                return Ok(Step::End);
            };
            s.item(usize::from(i), &view.facts.wall, j)?;
            let next = i.saturating_add(1);
            if usize::from(next) < s.len() {
                Step::SectionItem(k, next)
            } else {
                j.end_array()?;
                next_section(view, k)
            }
        }
        Step::End => {
            j.end_object()?;
            Step::Done
        }
        Step::Done => Step::Done,
    })
}

fn next_section(view: &StatusView<'_>, k: u8) -> Step {
    if usize::from(k) + 1 < view.sections.len() {
        Step::SectionOpen(k + 1)
    } else {
        Step::End
    }
}

/// After an array opened: its first item, or (empty) close it and go on.
fn first_or_close(
    j: &mut Json<'_, '_>,
    len: usize,
    first: Step,
    after: Step,
) -> Result<Step, fmt::Error> {
    if len == 0 {
        j.end_array()?;
        Ok(after)
    } else {
        Ok(first)
    }
}

/// After item `k` of `len`: the next, or close the array and go on.
fn next_or_close(
    j: &mut Json<'_, '_>,
    k: u16,
    len: usize,
    item: fn(u16) -> Step,
    after: Step,
) -> Result<Step, fmt::Error> {
    let next = k.saturating_add(1);
    if usize::from(next) < len {
        Ok(item(next))
    } else {
        j.end_array()?;
        Ok(after)
    }
}

fn link_count(links: &LinkTable) -> usize {
    let mut n = 0u16;
    while links.name(LinkId(n)).is_some() && n < u16::MAX {
        n += 1;
    }
    usize::from(n)
}

fn millis(d: Duration) -> u64 {
    d.total_millis()
}

fn head(view: &StatusView<'_>, j: &mut Json<'_, '_>) -> fmt::Result {
    let f = &view.facts;
    j.begin_object()?;
    j.field_str("version", f.version)?;
    j.field_str("board", f.board)?;
    j.field_u64("pid", u64::from(f.pid))?;
    j.field_str("router_id", view.cfg.strings.get(view.cfg.global.router_id))?;
    j.field_str("config_file", f.config_file)?;
    j.field_secs("started", Some(f.wall.at(f.started)))?;
    j.field_secs("now", Some(f.wall.epoch_micros))?;
    j.field_u64("uptime_ms", millis(f.wall.now - f.started))?;
    j.key("reloads")?;
    j.begin_object()?;
    j.field_u64("applied", f.reloads.applied)?;
    j.field_u64("refused", f.reloads.refused)?;
    j.key("last")?;
    let last = &f.reloads.last;
    match last.at {
        None => j.null()?,
        Some(at) => {
            j.begin_object()?;
            j.field_secs("at", Some(f.wall.at(at)))?;
            j.field_bool("applied", last.applied)?;
            j.field_u64("errors", u64::from(last.errors))?;
            j.field_u64("added", u64::from(last.added))?;
            j.field_u64("removed", u64::from(last.removed))?;
            j.field_u64("changed", u64::from(last.changed))?;
            j.field_u64("kept", u64::from(last.kept))?;
            j.end_object()?;
        }
    }
    j.end_object()?;
    j.end_object()
}

pub(crate) fn state_name(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

/// Part 0 of an instance: its scalars, up to the opening of `addresses`.
fn instance_head(view: &StatusView<'_>, slot: u16, j: &mut Json<'_, '_>) -> fmt::Result {
    let e = view.engine;
    let wall = &view.facts.wall;
    let inst = e
        .config_index(slot)
        .and_then(|i| view.cfg.vrrp.instances.get(i));
    let fsm = e.instance(slot);
    j.begin_object()?;
    j.field_str("name", inst.map_or("", |i| i.name.as_str()))?;
    let params = fsm.map(|f| *f.params());
    j.field_u64("vrid", params.map_or(0, |p| u64::from(p.vrid)))?;
    j.field_str(
        "interface",
        e.interface_of(slot).map_or("", |f| f.name.as_str()),
    )?;
    j.field_str(
        "family",
        match e.family(slot) {
            Some(Family::Ipv6) => "IPv6",
            _ => "IPv4",
        },
    )?;
    j.field_u64(
        "version",
        match params.map(|p| p.version) {
            Some(crate::vrrp::Version::V3) => 3,
            _ => 2,
        },
    )?;
    let (unicast, src) = e
        .source(slot)
        .unwrap_or((false, IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED)));
    j.field_str("mode", if unicast { "unicast" } else { "multicast" })?;
    j.key("source")?;
    j.ip(src)?;
    j.key("group")?;
    match e.group(slot) {
        Some(g) if !unicast => j.ip(g)?,
        _ => j.null()?,
    }
    let state = e.state(slot).unwrap_or(State::Initialize);
    j.field_str("state", state_name(state))?;
    let last = e.last_transition(slot);
    j.field_secs("since", last.map(|(at, _)| wall.at(at)))?;
    j.field_u64("base_priority", params.map_or(0, |p| u64::from(p.priority)))?;
    j.field_u64(
        "effective_priority",
        fsm.map_or(0, |f| u64::from(f.priority())),
    )?;
    j.field_bool("fault", fsm.is_some_and(|f| f.is_faulty()))?;
    // Why the reflector holds it in FAULT (empty: it does not).
    j.key("hold")?;
    j.begin_array()?;
    for name in crate::vrrp::engine::reflect::hold_names(e.hold(slot)) {
        j.str(name)?;
    }
    j.end_array()?;
    j.field_u64(
        "advert_int_ms",
        fsm.map_or(0, |f| millis(f.advertisement_interval())),
    )?;
    j.field_u64(
        "master_adver_int_ms",
        fsm.map_or(0, |f| millis(f.master_adver_interval())),
    )?;
    j.field_u64(
        "master_down_interval_ms",
        fsm.map_or(0, |f| millis(f.master_down_interval())),
    )?;
    j.field_bool("preempt", params.is_some_and(|p| p.preempt))?;
    j.field_u64(
        "preempt_delay_ms",
        params.map_or(0, |p| millis(p.preempt_delay)),
    )?;
    j.field_bool("accept", params.is_some_and(|p| p.accept))?;
    j.key("sync_group")?;
    let name = inst.map_or("", |i| i.name.as_str());
    match view
        .cfg
        .vrrp
        .sync_groups
        .iter()
        .find(|g| g.members.iter().any(|(m, _)| m.as_str() == name))
    {
        Some(g) => j.str(&g.name)?,
        None => j.null()?,
    }
    j.key("master")?;
    let heard = e.last_advert(slot).map(|t| wall.at(t));
    match (state, fsm.and_then(|f| f.master())) {
        (State::Master, _) => {
            j.begin_object()?;
            j.key("address")?;
            j.ip(src)?;
            j.field_u64("priority", fsm.map_or(0, |f| u64::from(f.priority())))?;
            j.field_bool("self", true)?;
            j.field_secs("last_advert", heard)?;
            j.end_object()?;
        }
        (State::Backup, Some((addr, prio))) => {
            j.begin_object()?;
            j.key("address")?;
            j.ip(addr)?;
            j.field_u64("priority", u64::from(prio))?;
            j.field_bool("self", false)?;
            j.field_secs("last_advert", heard)?;
            j.end_object()?;
        }
        _ => j.null()?,
    }
    j.key("last_transition")?;
    match last {
        Some((at, from)) => {
            j.begin_object()?;
            j.field_secs("at", Some(wall.at(at)))?;
            j.field_str("from", state_name(from))?;
            j.field_str("to", state_name(state))?;
            j.end_object()?;
        }
        None => j.null()?,
    }
    let s = fsm.map(|f| *f.stats()).unwrap_or_default();
    j.key("transitions")?;
    j.begin_object()?;
    j.field_u64("to_master", s.became_master)?;
    j.field_u64("to_backup", s.became_backup)?;
    j.field_u64("to_fault", s.became_fault)?;
    j.field_u64("stopped", s.stopped)?;
    j.end_object()?;
    j.key("addresses")?;
    j.begin_array()
}

/// Part k of an instance: address `k` (VIPs, then eVIPs).
fn address(view: &StatusView<'_>, slot: u16, k: usize, j: &mut Json<'_, '_>) -> fmt::Result {
    let e = view.engine;
    let Some(inst) = e
        .config_index(slot)
        .and_then(|i| view.cfg.vrrp.instances.get(i))
    else {
        return j.null();
    };
    let excluded = k >= inst.vips.len();
    let Some(v) = inst.vips.iter().chain(inst.evips.iter()).nth(k) else {
        return j.null();
    };
    j.begin_object()?;
    j.key("address")?;
    j.ip(v.addr)?;
    j.field_u64("prefix", u64::from(v.prefix_len))?;
    j.field_str(
        "dev",
        if v.dev.is_empty() {
            inst.interface.as_str()
        } else {
            v.dev.as_str()
        },
    )?;
    j.field_bool("excluded", excluded)?;
    j.field_bool("held", e.state(slot) == Some(State::Master))?;
    j.end_object()
}

/// The peers of an instance (closes nothing: the caller closed
/// `addresses`).
/// Source `k` an instance heard (its configured unicast peers first): when
/// it was last heard, the priority of its last accepted advert, its
/// datagrams by outcome (non-zero counts only).
fn peer(view: &StatusView<'_>, slot: u16, k: usize, j: &mut Json<'_, '_>) -> fmt::Result {
    let wall = &view.facts.wall;
    let Some(p) = view.engine.peers(slot).and_then(|t| t.iter().nth(k)) else {
        return j.null();
    };
    let cfg = view
        .engine
        .config_index(slot)
        .and_then(|i| view.cfg.vrrp.instances.get(i))
        .and_then(|i| i.unicast_peers.iter().find(|c| c.addr == p.addr));
    j.begin_object()?;
    j.key("address")?;
    j.ip(p.addr)?;
    j.field_bool("configured", p.configured)?;
    if let Some(c) = cfg {
        j.field_u64("min_ttl", u64::from(c.min_ttl))?;
        j.field_u64("max_ttl", u64::from(c.max_ttl))?;
    }
    j.field_secs("last_heard", p.last_heard.map(|t| wall.at(t)))?;
    j.key("last_priority")?;
    match p.last_priority {
        Some(prio) => j.u64(u64::from(prio))?,
        None => j.null()?,
    }
    j.key("counts")?;
    j.begin_object()?;
    for (name, n) in p.nonzero() {
        j.field_u64(name, u64::from(n))?;
    }
    j.end_object()?;
    j.end_object()
}

/// The counters of an instance (the caller closes its object).
fn instance_counters(view: &StatusView<'_>, slot: u16, j: &mut Json<'_, '_>) -> fmt::Result {
    let e = view.engine;
    let s = e.instance(slot).map(|f| *f.stats()).unwrap_or_default();
    j.key("stats")?;
    j.begin_object()?;
    for (name, value) in [
        ("adverts_sent", s.adverts_sent),
        ("adverts_received", s.adverts_received),
        ("priority_zero_sent", s.priority_zero_sent),
        ("priority_zero_received", s.priority_zero_received),
        ("garp_bursts", s.garp_bursts),
        ("lower_prio_discarded", s.lower_prio_discarded),
        ("preempt_held", s.preempt_held),
        ("master_rx_lower_prio", s.master_rx_lower_prio),
        ("lower_prio_backlog", s.lower_prio_backlog),
        ("master_yielded", s.master_yielded),
        ("priority_changes", s.priority_changes),
        ("master_wishes", s.master_wishes),
        ("forced", s.forced),
        ("action_queue_full", s.action_queue_full),
    ] {
        j.field_u64(name, value)?;
    }
    j.end_object()?;
    j.key("rx")?;
    j.begin_object()?;
    j.counters(e.rx_stats(slot).copied().unwrap_or_default().iter())?;
    j.end_object()?;
    let l = e.link_stats(slot).copied().unwrap_or_default();
    j.key("reflector")?;
    j.begin_object()?;
    j.field_u64("vips_restored", l.vips_restored)?;
    j.field_u64("source_changes", l.source_changes)?;
    j.field_u64("interface_losses", l.interface_losses)?;
    j.field_u64("holds", l.holds)?;
    j.end_object()
}

fn group(view: &StatusView<'_>, g: usize, j: &mut Json<'_, '_>) -> fmt::Result {
    let Some(cfg) = view.cfg.vrrp.sync_groups.get(g) else {
        return j.null();
    };
    j.begin_object()?;
    j.field_str("name", &cfg.name)?;
    j.key("state")?;
    match view.engine.sync_group(g) {
        Some(s) => j.str(state_name(s.state()))?,
        None => j.null()?,
    }
    j.key("members")?;
    j.begin_array()?;
    for (m, _) in &cfg.members {
        j.str(m)?;
    }
    j.end_array()?;
    j.end_object()
}

fn script(view: &StatusView<'_>, id: ScriptId, j: &mut Json<'_, '_>) -> fmt::Result {
    let name = view
        .cfg
        .vrrp
        .scripts
        .get(usize::from(id.0))
        .map_or("", |s| s.name.as_str());
    let Some(t) = view.scripts.get(id) else {
        return j.null();
    };
    let s = t.stats();
    j.begin_object()?;
    j.field_str("name", name)?;
    j.field_str(
        "state",
        match t.state() {
            ScriptState::Init => "init",
            ScriptState::Ok => "ok",
            ScriptState::Failed => "failed",
        },
    )?;
    j.field_bool("running", t.is_running())?;
    for (name, value) in [
        ("runs", s.runs),
        ("successes", s.successes),
        ("failures", s.failures),
        ("timeouts", s.timeouts),
        ("not_run", s.not_run),
        ("overruns", s.overruns),
    ] {
        j.field_u64(name, u64::from(value))?;
    }
    j.end_object()
}

#[cfg(test)]
mod tests;
