//! The health checkers and real servers in the status document and in
//! keepalived's checker dump, without allocation.
//!
//! The status document's `"virtual_servers"` section ([`LvsSection`]) has
//! one item per virtual server, then one per real server, then one per
//! check, then one with the checkers' and real servers' counters (every
//! item small: each is one unit of the document):
//!
//! ```text
//! {"kind":"virtual_server","index":0,"name":"[10.0.0.1]:tcp:80",
//!  "quorum":2,"hysteresis":0,"live_weight":3,"quorum_up":true,
//!  "sorry_server":"[10.0.0.9]:tcp:80","sorry_active":false}
//! {"kind":"real_server","index":0,"virtual_server":0,"name":"[10.0.1.1]:tcp:80",
//!  "alive":true,"weight":3,"configured_weight":3,"in_pool":"yes",
//!  "checks":1,"failed_checks":0}
//! {"kind":"check","index":0,"real_server":0,"type":"TCP_CHECK",
//!  "target":"[10.0.1.1]:tcp:80","up":true,"decided":true}
//! {"kind":"counters","checkers":{attempts, successes, ...},
//!  "servers":{rs_up, rs_down, quorum_gained, quorum_lost, ...},
//!  "sockets_in_use":0}
//! ```
//!
//! `in_pool` is `"yes"`, `"inhibited"` (in at weight 0) or `"no"`: what the
//! IPVS table is asked to hold (the `"ipvs"` section says what it holds).
//!
//! [`write_check_data`] writes keepalived's `keepalived_check.data`
//! (SIGUSR1) in keepalived 2.2.7's layout for what picket has: the `LVS
//! Topology` (` VS VIP = …, VPORT = …`, its real servers `RIP = …, RPORT =
//! …, WEIGHT = … EFF WEIGHT = …`, `alive = 1`, `num failed checkers`,
//! `quorum_state_up`) and the `Health checkers` (`Up = yes`, `Has run`,
//! `Keepalive method`), then picket's counters.

use core::fmt::{self, Write};
use core::net::SocketAddr;

use super::json::Json;
use super::{Section, Wall};
use crate::check::{CheckId, Checkers};
use crate::config::Config;
use crate::config::lvs::{Protocol, VsAddress};
use crate::lvs::{Lvs, RsName, VsName};

/// What the checkers' status is made of.
#[derive(Clone, Copy)]
pub struct LvsView<'a> {
    /// The running configuration.
    pub cfg: &'a Config,
    /// Real and virtual servers.
    pub lvs: &'a Lvs,
    /// The checks.
    pub checks: &'a Checkers,
}

/// The `"virtual_servers"` section (see the module doc).
pub struct LvsSection<'a>(pub LvsView<'a>);

fn in_pool(w: Option<u32>) -> &'static str {
    match w {
        None => "no",
        Some(0) => "inhibited",
        Some(_) => "yes",
    }
}

impl Section for LvsSection<'_> {
    fn name(&self) -> &'static str {
        "virtual_servers"
    }

    fn len(&self) -> usize {
        let l = &self.0.cfg.lvs;
        l.virtual_servers.len() + l.real_servers.len() + l.checkers.len() + 1
    }

    fn item(&self, k: usize, _wall: &Wall, j: &mut Json<'_, '_>) -> fmt::Result {
        let LvsView { cfg, lvs, checks } = self.0;
        let nvs = cfg.lvs.virtual_servers.len();
        if let Some(vs) = cfg.lvs.virtual_servers.get(k) {
            j.begin_object()?;
            j.field_str("kind", "virtual_server")?;
            j.field_u64("index", k as u64)?;
            j.field_display("name", &VsName(cfg, k))?;
            j.field_u64("quorum", u64::from(vs.quorum))?;
            j.field_u64("hysteresis", u64::from(vs.hysteresis))?;
            j.field_u64("live_weight", lvs.live_weight(cfg, k))?;
            j.field_bool("quorum_up", lvs.has_quorum(k))?;
            j.key("sorry_server")?;
            match vs.sorry {
                Some(s) => j.display(&crate::check::Trio(
                    SocketAddr::new(s.addr, s.port),
                    proto(vs.protocol),
                ))?,
                None => j.null()?,
            }
            j.field_bool("sorry_active", lvs.sorry_active(cfg, k))?;
            return j.end_object();
        }
        let r = k - nvs;
        let nrs = cfg.lvs.real_servers.len();
        if let Some(rs) = cfg.lvs.real_servers.get(r) {
            j.begin_object()?;
            j.field_str("kind", "real_server")?;
            j.field_u64("index", r as u64)?;
            j.field_u64("virtual_server", u64::from(rs.vs))?;
            j.field_display("name", &RsName(cfg, r))?;
            j.field_bool("alive", lvs.is_alive(r))?;
            j.field_u64("weight", u64::from(lvs.weight(cfg, r)))?;
            j.key("configured_weight")?;
            j.i64(i64::from(rs.weight.unwrap_or(1)))?;
            j.field_str("in_pool", in_pool(lvs.rs_weight(cfg, r)))?;
            j.field_u64("checks", cfg.lvs.checkers_of(r).count() as u64)?;
            j.field_u64("failed_checks", failed_checks(self.0, r) as u64)?;
            return j.end_object();
        }
        let c = r - nrs;
        if let Some(ck) = cfg.lvs.checkers.get(c) {
            let id = CheckId(c as u16);
            let (up, decided) = checks.state(id).unwrap_or((false, false));
            j.begin_object()?;
            j.field_str("kind", "check")?;
            j.field_u64("index", c as u64)?;
            j.field_u64("real_server", u64::from(ck.rs))?;
            j.field_str("type", ck.kind.keyword())?;
            j.key("target")?;
            match checks.target(id) {
                Some(t) => j.display(&t)?,
                None => j.null()?,
            }
            j.field_bool("up", up)?;
            j.field_bool("decided", decided)?;
            return j.end_object();
        }
        j.begin_object()?;
        j.field_str("kind", "counters")?;
        j.key("checkers")?;
        j.begin_object()?;
        j.counters(checks.stats().iter())?;
        j.end_object()?;
        j.key("servers")?;
        j.begin_object()?;
        j.counters(lvs.stats().iter())?;
        j.end_object()?;
        j.field_u64("sockets_in_use", checks.slots_in_use() as u64)?;
        j.end_object()
    }
}

/// The checks of real server `r` that are down.
fn failed_checks(v: LvsView<'_>, r: usize) -> usize {
    v.cfg
        .lvs
        .checkers_of(r)
        .filter(|(c, _)| {
            v.checks
                .state(CheckId(*c as u16))
                .is_some_and(|(up, _)| !up)
        })
        .count()
}

fn proto(p: Option<Protocol>) -> crate::check::Proto {
    match p {
        Some(Protocol::Udp) => crate::check::Proto::Udp,
        Some(Protocol::Sctp) => crate::check::Proto::Sctp,
        _ => crate::check::Proto::Tcp,
    }
}

fn on(b: bool) -> &'static str {
    if b { "ON" } else { "OFF" }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `SIGUSR1`: keepalived's checker dump (`keepalived_check.data`; see the
/// module doc).
pub fn write_check_data(view: &LvsView<'_>, out: &mut dyn Write) -> fmt::Result {
    let LvsView { cfg, lvs, checks } = *view;
    writeln!(out, "------< LVS Topology >------")?;
    for (i, vs) in cfg.lvs.virtual_servers.iter().enumerate() {
        writeln!(out, " ------< Virtual server >------")?;
        match &vs.address {
            VsAddress::Ip { addr, port } => writeln!(out, " VS VIP = {addr}, VPORT = {port}")?,
            VsAddress::Fwmark { mark } => writeln!(out, " VS FWMARK = {mark}")?,
            VsAddress::Group { name, .. } => writeln!(out, " VS GROUP = {name}")?,
        }
        if let Some(s) = vs.sched {
            writeln!(out, "   lvs_sched = {}", s.name())?;
        }
        if let Some(p) = vs.protocol {
            writeln!(out, "   protocol = {}", p.name())?;
        }
        writeln!(out, "   alpha is {}", on(vs.defaults.alpha == Some(true)))?;
        writeln!(out, "   omega is {}", on(vs.omega))?;
        writeln!(
            out,
            "   quorum = {}, hysteresis = {}",
            vs.quorum, vs.hysteresis
        )?;
        if let Some(s) = vs.sorry {
            writeln!(
                out,
                "   sorry server = {}",
                crate::check::Trio(SocketAddr::new(s.addr, s.port), proto(vs.protocol))
            )?;
            writeln!(
                out,
                "   sorry server active = {}",
                yes(lvs.sorry_active(cfg, i))
            )?;
        }
        writeln!(out, "   quorum_state_up = {}", u8::from(lvs.has_quorum(i)))?;
        writeln!(out, "   live weight = {}", lvs.live_weight(cfg, i))?;
        for (r, rs) in cfg.lvs.real_servers_of(i) {
            let base = rs.weight.unwrap_or(1);
            writeln!(out, "   ------< Real server >------")?;
            writeln!(
                out,
                "   RIP = {}, RPORT = {}, WEIGHT = {base} EFF WEIGHT = {}",
                rs.addr,
                rs.port,
                lvs.weight(cfg, r)
            )?;
            writeln!(
                out,
                "   Inhibit on failure is {}",
                on(rs.defaults.inhibit_on_failure == Some(true))
            )?;
            writeln!(out, "   alive = {}", u8::from(lvs.is_alive(r)))?;
            writeln!(out, "   num failed checkers = {}", failed_checks(*view, r))?;
            writeln!(out, "   in pool = {}", in_pool(lvs.rs_weight(cfg, r)))?;
        }
    }
    writeln!(out, "------< Health checkers >------")?;
    for (c, ck) in cfg.lvs.checkers.iter().enumerate() {
        let id = CheckId(c as u16);
        let r = usize::from(ck.rs);
        let vs = cfg.lvs.real_servers.get(r).map_or(0, |x| usize::from(x.vs));
        let (up, has_run) = checks.state(id).unwrap_or((false, false));
        writeln!(out, " {} -> {}", VsName(cfg, vs), RsName(cfg, r))?;
        writeln!(out, "   Up = {}", yes(up))?;
        writeln!(out, "   Has run = {}", yes(has_run))?;
        if let Some(t) = checks.target(id) {
            writeln!(out, "   Connection")?;
            writeln!(out, "     Dest = {t}")?;
        }
        writeln!(out, "   Keepalive method = {}", ck.kind.keyword())?;
    }
    writeln!(out, "------< Checker counters (picket) >------")?;
    for (name, v) in checks.stats().iter() {
        writeln!(out, " {name} = {v}")?;
    }
    for (name, v) in lvs.stats().iter() {
        writeln!(out, " {name} = {v}")?;
    }
    Ok(())
}
