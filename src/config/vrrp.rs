//! The VRRP sections: `static_ipaddress` (§b.2), `vrrp_script` (§b.3),
//! `vrrp_sync_group` (§b.5) and `vrrp_instance` (§b.6).
//!
//! Parsing fills [`VrrpConfig`]'s tables; [`finish`] then resolves the
//! defaults that come from `global_defs` or from other keywords (version,
//! state, priority, GARP settings, accept mode, interfaces of addresses) and
//! checks cross references (track_script → vrrp_script, sync group members →
//! instances) and consistency, with errors located at the statement at
//! fault. After a load without errors every `Option` documented as
//! "resolved by `finish`" is `Some`.
//!
//! # Keyword policy
//!
//! `static_ipaddress`: every address option of §b.2 is implemented
//! ([`VipSpec`]) except `track_group` (unsupported: track groups are not
//! implemented).
//!
//! `vrrp_script`: all implemented (`script`, `interval`, `timeout`,
//! `weight [reverse]`, `rise`, `fall`, `user`, `init_fail`).
//!
//! `vrrp_track_file` (also `track_file` at the top level): all implemented
//! (`file`, `weight [reverse]`, `init_file [VALUE] [overwrite]`), see
//! [`track_file`].
//!
//! `vrrp_sync_group`: implemented `group`, `track_interface`, `track_script`,
//! `track_file`, `notify_master|backup|fault|stop`, `notify`,
//! `notify_priority_changes`, `sync_group_tracking_weight`; unsupported
//! `track_process`, `track_bfd`; ignored `smtp_alert`, `global_tracking`. The old syntax
//! (instance names without `group { }`) is an error with a hint, as
//! keepalived errs on it.
//!
//! `vrrp_instance`: see [`instance::IMPLEMENTED`], [`instance::UNSUPPORTED`]
//! and [`instance::IGNORED`].
//!
//! `vrrp_strict` / `strict_mode`: **implemented** — the configuration checks
//! of §c.16 are made in [`finish`] (see `check`): no instance without VIPs,
//! no unicast peers, no IPv6 with version 2, first IPv6 VIP link-local,
//! `state MASTER` only at priority 255, no `authentication`, no
//! `preempt_delay`, `down_timer_adverts` 3, no `vmac_xmit_base` or explicit
//! VMAC MAC (errors); accept only for the owner by default and reset with v2,
//! no lower-priority GARP, `lower_prio_no_advert` on, `higher_prio_send_advert`
//! off, `owner_ignore_adverts` on (forced, a warning when that overrides an
//! explicit setting).

mod address;
mod check;
mod dump;
pub mod instance;
pub mod route;
mod script;
pub mod track_file;

pub use address::{Broadcast, Scope, VipSpec};
pub use instance::{InstanceLocs, State, UnicastPeer, Vmac, VrrpInstance};
pub use route::{RouteType, VirtualRoute};
pub use script::{SyncGroup, TrackFileRef, TrackInterface, TrackScript, VrrpScript};
pub use track_file::{InitFile, TrackFile};

use heapless::{String, Vec};

use super::parser::Parser;
use super::{Config, Diagnostics, Loc, Statement};
use crate::limits::{
    NAME_BYTES, STATIC_ADDRESSES, SYNC_GROUPS, TRACK_FILES, VRRP_INSTANCES, VRRP_SCRIPTS,
};

/// The VRRP tables of a configuration.
#[derive(Clone, Debug)]
pub struct VrrpConfig {
    /// `static_ipaddress` entries (their `dev` resolved to
    /// `default_interface` by `finish`).
    pub static_addresses: Vec<VipSpec, STATIC_ADDRESSES>,
    /// `vrrp_script` blocks.
    pub scripts: Vec<VrrpScript, VRRP_SCRIPTS>,
    /// `vrrp_track_file` blocks.
    pub track_files: Vec<TrackFile, TRACK_FILES>,
    /// `vrrp_sync_group` blocks.
    pub sync_groups: Vec<SyncGroup, SYNC_GROUPS>,
    /// `vrrp_instance` blocks.
    pub instances: Vec<VrrpInstance, VRRP_INSTANCES>,
}

impl Default for VrrpConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl VrrpConfig {
    /// Empty tables.
    pub const fn new() -> Self {
        VrrpConfig {
            static_addresses: Vec::new(),
            scripts: Vec::new(),
            track_files: Vec::new(),
            sync_groups: Vec::new(),
            instances: Vec::new(),
        }
    }

    /// Empties every table.
    pub fn clear(&mut self) {
        self.static_addresses.clear();
        self.scripts.clear();
        self.track_files.clear();
        self.sync_groups.clear();
        self.instances.clear();
    }

    /// The index of the instance named `name`.
    pub fn instance_index(&self, name: &str) -> Option<usize> {
        self.instances.iter().position(|i| i.name == name)
    }

    /// The index of the `vrrp_track_file` named `name`.
    pub fn track_file_index(&self, name: &str) -> Option<usize> {
        self.track_files.iter().position(|f| f.name == name)
    }

    /// The index of the `vrrp_script` named `name`.
    pub fn script_index(&self, name: &str) -> Option<usize> {
        self.scripts.iter().position(|s| s.name == name)
    }
}

/// Top-level keywords of this module.
const TOP: &[&str] = &[
    "static_ipaddress",
    "vrrp_script",
    "vrrp_track_file",
    "track_file",
    "vrrp_sync_group",
    "vrrp_instance",
];

/// Whether `kw` starts a section of this module.
pub fn is_top_keyword(kw: &str) -> bool {
    TOP.contains(&kw)
}

/// Parses a top-level section of this module.
pub fn parse_top(p: &mut Parser<'_>, st: &Statement, cfg: &mut Config) {
    match st.keyword() {
        "static_ipaddress" => address::parse_static(p, st, cfg),
        "vrrp_script" => script::parse_script_block(p, st, cfg),
        "vrrp_track_file" | "track_file" => track_file::parse_track_file_block(p, st, cfg),
        "vrrp_sync_group" => script::parse_sync_group(p, st, cfg),
        "vrrp_instance" => instance::parse_instance(p, st, cfg),
        _ => p.skip_block(st),
    }
}

/// Resolves defaults and checks cross references after parsing.
pub fn finish(cfg: &mut Config, diags: &mut Diagnostics) {
    check::finish(cfg, diags);
}

/// Writes the tables back, normalised.
pub fn dump(v: &VrrpConfig, d: &mut super::dump::Dumper<'_>) -> core::fmt::Result {
    dump::dump(v, d)
}

/// The name of a block (`vrrp_instance NAME {`): exactly one word of at
/// most [`NAME_BYTES`] bytes. Reports and returns `None` otherwise.
fn block_name(p: &mut Parser<'_>, head: &Statement) -> Option<String<NAME_BYTES>> {
    if head.arg_count() != 1 {
        p.error_hint(
            head.arg_loc(head.arg_count().min(1)),
            format_args!("'{}' needs exactly one name", head.keyword()),
            format_args!("write '{} NAME {{ ... }}'", head.keyword()),
        );
        return None;
    }
    p.fixed_arg::<NAME_BYTES>(head, 0)
}

/// A name in a list block (`group { VI_1 }`, `track_script { chk }`).
fn list_name(p: &mut Parser<'_>, st: &Statement) -> Option<(String<NAME_BYTES>, Loc)> {
    let mut s = String::new();
    if s.push_str(st.keyword()).is_err() {
        p.error(
            st.loc,
            format_args!(
                "name '{}' is too long (at most {NAME_BYTES} bytes)",
                st.keyword()
            ),
        );
        return None;
    }
    Some((s, st.loc))
}

#[cfg(test)]
mod tests;

/// Test helpers shared with `global`'s tests.
#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) use super::tests::{dump_of, load};
}
