//! Reload as a transaction, the sans-IO half: given the running
//! configuration and engine and the next ones (built and validated in the
//! spare tables), [`plan`] says what to keep, change, stop and start.
//!
//! # Matching
//!
//! An instance of the new configuration **is** a running one when the
//! names are equal and the engines agree it is the same virtual router
//! ([`Engine::same_router`], keepalived's `vrrp_exist`: VRID, version,
//! family, interface, mode, source, multicast group). A matched instance
//! keeps its machine — state, timers, effective priority, the master heard
//! — with the new parameters; it is [`Match::changed`] when anything of
//! its configuration differs, and its addresses are compared one by one
//! ([`same_address`]) so a master adds and removes only the addresses that
//! changed. Everything else of the old configuration is stopped (priority
//! 0 and its addresses removed if master) and everything else of the new
//! one is started.
//!
//! `vrrp_script`s match by name, command and timing: a matched script keeps
//! its results and its run alive. Sync groups match by name and members.
//!
//! The binary applies the plan (see `src/reload.rs` of the binary): the
//! order keeps removals before additions, as keepalived users ask
//! (keepalived-user-pain §7).

use heapless::Vec;

use crate::config::Config;
use crate::config::global::ScriptCmd;
use crate::config::strings::StringPool;
use crate::config::vrrp::{VipSpec, VrrpInstance};
use crate::limits::{SYNC_GROUPS, VRRP_INSTANCES, VRRP_SCRIPTS};
use crate::vrrp::engine::Engine;
use crate::vrrp::track::ScriptId;

/// A running instance carried into the new configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// Its slot in the new engine.
    pub new: u16,
    /// Its slot in the running engine.
    pub old: u16,
    /// Some of its configuration differs.
    pub changed: bool,
    /// Its addresses (VIPs or eVIPs) differ.
    pub addresses_changed: bool,
}

/// What a reload does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Instances kept (changed or not).
    pub matched: Vec<Match, VRRP_INSTANCES>,
    /// Running instances to stop (old slots).
    pub removed: Vec<u16, VRRP_INSTANCES>,
    /// New instances to start (new slots).
    pub added: Vec<u16, VRRP_INSTANCES>,
    /// Scripts kept: (new id, old id).
    pub scripts: Vec<(ScriptId, ScriptId), VRRP_SCRIPTS>,
    /// Sync groups kept: (new index, old index).
    pub groups: Vec<(usize, usize), SYNC_GROUPS>,
}

impl Plan {
    /// Instances kept unchanged.
    pub fn kept(&self) -> usize {
        self.matched.iter().filter(|m| !m.changed).count()
    }

    /// Instances kept with a changed configuration.
    pub fn changed(&self) -> usize {
        self.matched.iter().filter(|m| m.changed).count()
    }

    /// The old slot of new slot `new`, if it is kept.
    pub fn old_of(&self, new: u16) -> Option<u16> {
        self.matched.iter().find(|m| m.new == new).map(|m| m.old)
    }

    /// The new id of old script `old`, if it is kept.
    pub fn new_script(&self, old: ScriptId) -> Option<ScriptId> {
        self.scripts
            .iter()
            .find(|(_, o)| *o == old)
            .map(|(n, _)| *n)
    }
}

/// Whether two addresses are the same entry: every attribute equal but
/// where it was written; `dev` resolved against each instance's interface.
pub fn same_address(a: &VipSpec, a_if: &str, b: &VipSpec, b_if: &str) -> bool {
    let dev = |v: &VipSpec, i: &str| {
        if v.dev.is_empty() {
            heapless::String::<16>::try_from(i).unwrap_or_default()
        } else {
            v.dev.clone()
        }
    };
    let bare = |v: &VipSpec| VipSpec {
        loc: crate::config::Loc::default(),
        dev: heapless::String::new(),
        ..v.clone()
    };
    dev(a, a_if) == dev(b, b_if) && bare(a) == bare(b)
}

/// Whether `v` (of an instance on `v_if`) is among `list` (of an instance
/// on `list_if`).
pub fn contains_address(list: &[VipSpec], list_if: &str, v: &VipSpec, v_if: &str) -> bool {
    list.iter().any(|w| same_address(w, list_if, v, v_if))
}

/// The indices (VIPs, then eVIPs) of `from`'s addresses that `to` does not
/// have in the same list: what a kept master removes (old → new) or adds
/// (new → old).
pub fn missing_addresses(
    from: &VrrpInstance,
    to: &VrrpInstance,
) -> Vec<usize, { crate::vrrp::engine::ADDRESSES_PER_INSTANCE }> {
    let mut out = Vec::new();
    for (k, v) in from.vips.iter().chain(from.evips.iter()).enumerate() {
        let list = if k < from.vips.len() {
            &to.vips[..]
        } else {
            &to.evips[..]
        };
        if !contains_address(list, &to.interface, v, &from.interface) {
            // Capacity: one per address of `from`.
            let _ = out.push(k);
        }
    }
    out
}

fn same_addresses(a: &VrrpInstance, b: &VrrpInstance) -> bool {
    let same = |x: &[VipSpec], y: &[VipSpec]| {
        x.len() == y.len()
            && x.iter()
                .zip(y.iter())
                .all(|(p, q)| same_address(p, &a.interface, q, &b.interface))
    };
    same(&a.vips, &b.vips) && same(&a.evips, &b.evips)
}

fn same_script(
    a: &Option<ScriptCmd>,
    pa: &StringPool,
    b: &Option<ScriptCmd>,
    pb: &StringPool,
) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            pa.get(x.command) == pb.get(y.command) && x.user == y.user && x.group == y.group
        }
        _ => false,
    }
}

/// Whether two instances' configurations are the same, locations aside.
fn same_instance(a: &VrrpInstance, pa: &StringPool, b: &VrrpInstance, pb: &StringPool) -> bool {
    let peers = |i: &VrrpInstance| {
        let mut v: Vec<(core::net::IpAddr, u8, u8), { crate::limits::UNICAST_PEERS }> = Vec::new();
        for p in &i.unicast_peers {
            let _ = v.push((p.addr, p.min_ttl, p.max_ttl));
        }
        v
    };
    fn tracks(i: &VrrpInstance) -> impl Iterator<Item = (&str, Option<i16>, Option<bool>)> {
        i.track_scripts
            .iter()
            .map(|t| (t.name.as_str(), t.weight, t.reverse))
    }
    fn ifaces(i: &VrrpInstance) -> impl Iterator<Item = (&str, i16, bool)> {
        i.track_interfaces
            .iter()
            .map(|t| (t.name.as_str(), t.weight, t.reverse))
    }
    let notify = [
        (&a.notify_master, &b.notify_master),
        (&a.notify_backup, &b.notify_backup),
        (&a.notify_fault, &b.notify_fault),
        (&a.notify_stop, &b.notify_stop),
        (&a.notify, &b.notify),
        (&a.notify_master_rx_lower_pri, &b.notify_master_rx_lower_pri),
    ];
    a.state == b.state
        && a.priority == b.priority
        && a.advert_int == b.advert_int
        && a.nopreempt == b.nopreempt
        && a.preempt_delay == b.preempt_delay
        && a.down_timer_adverts == b.down_timer_adverts
        && a.auth_pass == b.auth_pass
        && a.unicast_ttl == b.unicast_ttl
        && a.check_unicast_src == b.check_unicast_src
        && a.accept == b.accept
        && a.dont_track_primary == b.dont_track_primary
        && a.garp_master_delay == b.garp_master_delay
        && a.garp_master_repeat == b.garp_master_repeat
        && a.garp_master_refresh == b.garp_master_refresh
        && a.garp_master_refresh_repeat == b.garp_master_refresh_repeat
        && a.garp_lower_prio_delay == b.garp_lower_prio_delay
        && a.garp_lower_prio_repeat == b.garp_lower_prio_repeat
        && a.lower_prio_no_advert == b.lower_prio_no_advert
        && a.higher_prio_send_advert == b.higher_prio_send_advert
        && a.owner_ignore_adverts == b.owner_ignore_adverts
        && a.v3_checksum_as_v2 == b.v3_checksum_as_v2
        && peers(a) == peers(b)
        && tracks(a).eq(tracks(b))
        && ifaces(a).eq(ifaces(b))
        && notify.iter().all(|(x, y)| same_script(x, pa, y, pb))
        && same_addresses(a, b)
}

/// What a reload from `old` to `new` does (see the module doc). `old_e`
/// and `new_e` are the engines built from each.
pub fn plan(old_cfg: &Config, old_e: &Engine, new_cfg: &Config, new_e: &Engine) -> Plan {
    let mut p = Plan::default();
    let slots = |e: &Engine| 0..u16::try_from(e.len()).unwrap_or(u16::MAX);
    let mut taken = [false; VRRP_INSTANCES];
    for n in slots(new_e) {
        let Some(ni) = new_e
            .config_index(n)
            .and_then(|i| new_cfg.vrrp.instances.get(i))
        else {
            continue;
        };
        let found = slots(old_e).find(|&o| {
            !taken.get(usize::from(o)).copied().unwrap_or(true)
                && old_e
                    .config_index(o)
                    .and_then(|i| old_cfg.vrrp.instances.get(i))
                    .is_some_and(|oi| oi.name == ni.name)
                && new_e.same_router(n, old_e, o)
        });
        match found {
            Some(o) => {
                if let Some(t) = taken.get_mut(usize::from(o)) {
                    *t = true;
                }
                let oi = old_e
                    .config_index(o)
                    .and_then(|i| old_cfg.vrrp.instances.get(i));
                let (changed, addresses_changed) = match oi {
                    Some(oi) => (
                        !same_instance(oi, &old_cfg.strings, ni, &new_cfg.strings)
                            || old_e.instance(o).map(|f| *f.params())
                                != new_e.instance(n).map(|f| *f.params()),
                        !same_addresses(oi, ni),
                    ),
                    None => (true, true),
                };
                // Capacity: one entry per new slot.
                let _ = p.matched.push(Match {
                    new: n,
                    old: o,
                    changed,
                    addresses_changed,
                });
            }
            None => {
                let _ = p.added.push(n);
            }
        }
    }
    for o in slots(old_e) {
        if !taken.get(usize::from(o)).copied().unwrap_or(false) {
            let _ = p.removed.push(o);
        }
    }
    let (os, ns) = (&old_cfg.vrrp.scripts, &new_cfg.vrrp.scripts);
    for (ni, n) in ns.iter().enumerate() {
        let found = os.iter().position(|o| {
            o.name == n.name
                && o.used
                && n.used
                && old_cfg.strings.get(o.script.command) == new_cfg.strings.get(n.script.command)
                && o.script.user == n.script.user
                && o.script.group == n.script.group
                && o.interval == n.interval
                && o.timeout == n.timeout
                && o.rise == n.rise
                && o.fall == n.fall
        });
        if let (Some(oi), Ok(ni)) = (found, u16::try_from(ni)) {
            let _ = p.scripts.push((
                ScriptId(ni),
                ScriptId(u16::try_from(oi).unwrap_or(u16::MAX)),
            ));
        }
    }
    let (og, ng) = (&old_cfg.vrrp.sync_groups, &new_cfg.vrrp.sync_groups);
    for (ni, n) in ng.iter().enumerate() {
        fn members(g: &crate::config::vrrp::SyncGroup) -> impl Iterator<Item = &str> {
            g.members.iter().map(|(m, _)| m.as_str())
        }
        if let Some(oi) = og
            .iter()
            .position(|o| o.name == n.name && members(o).eq(members(n)))
        {
            let _ = p.groups.push((ni, oi));
        }
    }
    p
}

#[cfg(test)]
mod tests;
