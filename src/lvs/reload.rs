//! A reload's map between the virtual servers, real servers and checks of
//! the running configuration and those of the next one, so that what the
//! new configuration keeps keeps its state ([`crate::check::Checkers::reload`],
//! [`super::Lvs::adopt`]) and the IPVS table changes only where the
//! configuration did.
//!
//! Identities (keepalived's reload compares the same things):
//!
//! - a **virtual server** is its address (`IP PORT`, `fwmark N` or `group
//!   NAME`) and its protocol;
//! - a **real server** is its address and port within a kept virtual
//!   server (its weight, scripts and other settings may change: the entry
//!   is then updated, not replaced);
//! - a **check** is its kind, its target (`connect_ip`, `connect_port`) and
//!   its rank among the checks of that kind and target of a kept real
//!   server. Its timings, retries and urls may change: the check keeps its
//!   verdict and its schedule, and runs with the new settings from its next
//!   attempt. A changed target or kind is a new check, which starts as at
//!   start-up (up, or down with `alpha`).
//!
//! The map is fixed-size (no allocation) and is built from the two
//! configurations alone.

use heapless::Vec;

use crate::config::Config;
use crate::config::lvs::{Checker, VirtualServer, VsAddress};
use crate::limits::{CHECKERS, REAL_SERVERS, VIRTUAL_SERVERS};

/// For each row of one configuration, the matching row of the other.
pub type Rows<const N: usize> = Vec<Option<u16>, N>;

/// The map, both ways. See the module doc.
#[derive(Clone, Debug, Default)]
pub struct ServerMap {
    /// Virtual servers: new row → old row.
    pub vs_old: Rows<VIRTUAL_SERVERS>,
    /// Real servers: new row → old row.
    pub rs_old: Rows<REAL_SERVERS>,
    /// Real servers: old row → new row.
    pub rs_new: Rows<REAL_SERVERS>,
    /// Checks: new row → old row.
    pub check_old: Rows<CHECKERS>,
    /// Checks: old row → new row.
    pub check_new: Rows<CHECKERS>,
}

fn same_vs(a: &VirtualServer, b: &VirtualServer) -> bool {
    let address = match (&a.address, &b.address) {
        // A group is its name (its row may move).
        (VsAddress::Group { name: x, .. }, VsAddress::Group { name: y, .. }) => x == y,
        (x, y) => x == y,
    };
    address && a.protocol == b.protocol
}

fn same_target(a: &Checker, b: &Checker) -> bool {
    a.kind.keyword() == b.kind.keyword()
        && a.connect_ip == b.connect_ip
        && a.connect_port == b.connect_port
}

fn row(i: usize) -> Option<u16> {
    u16::try_from(i).ok()
}

/// Fills `rows` with `n` entries of `None` (within its capacity).
fn reset<const N: usize>(rows: &mut Rows<N>, n: usize) {
    rows.clear();
    for _ in 0..n.min(N) {
        let _ = rows.push(None);
    }
}

impl ServerMap {
    /// An empty map.
    pub const fn new() -> Self {
        ServerMap {
            vs_old: Vec::new(),
            rs_old: Vec::new(),
            rs_new: Vec::new(),
            check_old: Vec::new(),
            check_new: Vec::new(),
        }
    }

    /// Maps `new`'s rows to `old`'s (see the module doc).
    pub fn build(&mut self, old: &Config, new: &Config) {
        let (o, n) = (&old.lvs, &new.lvs);
        reset(&mut self.vs_old, n.virtual_servers.len());
        reset(&mut self.rs_old, n.real_servers.len());
        reset(&mut self.rs_new, o.real_servers.len());
        reset(&mut self.check_old, n.checkers.len());
        reset(&mut self.check_new, o.checkers.len());
        for (ni, nv) in n.virtual_servers.iter().enumerate() {
            let Some(oi) = o.virtual_servers.iter().position(|ov| same_vs(ov, nv)) else {
                continue;
            };
            if let Some(slot) = self.vs_old.get_mut(ni) {
                *slot = row(oi);
            }
            for (nr, rs) in n.real_servers_of(ni) {
                let Some((or, _)) = o
                    .real_servers_of(oi)
                    .find(|(_, x)| x.addr == rs.addr && x.port == rs.port)
                else {
                    continue;
                };
                // Two real servers of one address and port in one virtual
                // server cannot load; the first match stands.
                if self.rs_new.get(or).is_some_and(Option::is_some) {
                    continue;
                }
                if let Some(slot) = self.rs_old.get_mut(nr) {
                    *slot = row(or);
                }
                if let Some(slot) = self.rs_new.get_mut(or) {
                    *slot = row(nr);
                }
                self.map_checks(old, new, or, nr);
            }
        }
    }

    /// Pairs the checks of old real server `or` with those of new `nr`: the
    /// k-th check of a kind and target with the k-th of the same.
    fn map_checks(&mut self, old: &Config, new: &Config, or: usize, nr: usize) {
        for (nc, ck) in new.lvs.checkers_of(nr) {
            let rank = new
                .lvs
                .checkers_of(nr)
                .take_while(|(i, _)| *i < nc)
                .filter(|(_, c)| same_target(c, ck))
                .count();
            let Some((oc, _)) = old
                .lvs
                .checkers_of(or)
                .filter(|(_, c)| same_target(c, ck))
                .nth(rank)
            else {
                continue;
            };
            if let Some(slot) = self.check_old.get_mut(nc) {
                *slot = row(oc);
            }
            if let Some(slot) = self.check_new.get_mut(oc) {
                *slot = row(nc);
            }
        }
    }

    /// The old row of new virtual server `vs`.
    pub fn old_vs(&self, vs: usize) -> Option<usize> {
        self.vs_old.get(vs).copied().flatten().map(usize::from)
    }

    /// The old row of new real server `rs`.
    pub fn old_rs(&self, rs: usize) -> Option<usize> {
        self.rs_old.get(rs).copied().flatten().map(usize::from)
    }

    /// The new row of old real server `rs`.
    pub fn new_rs(&self, rs: usize) -> Option<usize> {
        self.rs_new.get(rs).copied().flatten().map(usize::from)
    }

    /// The old row of new check `c`.
    pub fn old_check(&self, c: usize) -> Option<usize> {
        self.check_old.get(c).copied().flatten().map(usize::from)
    }

    /// The new row of old check `c`.
    pub fn new_check(&self, c: usize) -> Option<usize> {
        self.check_new.get(c).copied().flatten().map(usize::from)
    }
}
