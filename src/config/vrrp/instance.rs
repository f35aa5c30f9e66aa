//! `vrrp_instance NAME { }` (§b.6).

use core::net::IpAddr;

use heapless::{String, Vec};

use super::super::global::{ScriptCmd, ifname_arg, parse_script, set_flag};
use super::super::parser::Parser;
use super::super::{Config, Loc, Statement};
use super::address::{AddrKind, VipSpec, parse_address};
use super::block_name;
use super::route::{VirtualRoute, parse_route};
use super::script::{
    TrackFileRef, TrackInterface, TrackScript, parse_track_files, parse_track_interfaces,
    parse_track_scripts,
};
use crate::limits::{
    EXCLUDED_VIPS_PER_INSTANCE, IFNAME_BYTES, NAME_BYTES, ROUTES_PER_INSTANCE, TRACKS_PER_INSTANCE,
    UNICAST_PEERS, VIPS_PER_INSTANCE,
};
use crate::time::Duration;

/// Bytes of a VRRPv2 simple password (longer ones are truncated, as in
/// keepalived).
pub const AUTH_PASS_BYTES: usize = 8;

/// Initial state of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// `state MASTER`.
    Master,
    /// `state BACKUP`.
    Backup,
}

/// A `unicast_peer` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnicastPeer {
    /// The peer's address.
    pub addr: IpAddr,
    /// `min_ttl` (0).
    pub min_ttl: u8,
    /// `max_ttl` (255).
    pub max_ttl: u8,
    /// Where the entry is.
    pub loc: Loc,
}

/// `use_vmac [NAME] [MAC]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vmac {
    /// Interface name; empty = `<vmac_prefix>.<VRID>`.
    pub name: String<IFNAME_BYTES>,
    /// Explicit MAC; `finish` completes a 5-octet one with the VRID.
    pub mac: Option<[u8; 6]>,
    /// How many octets were written (5 or 6; 6 after `finish`).
    pub mac_octets: u8,
}

/// Where some keywords of an instance were written (`None` = not written);
/// errors found by `finish` point there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstanceLocs {
    /// `state`.
    pub state: Option<Loc>,
    /// `priority`.
    pub priority: Option<Loc>,
    /// `virtual_router_id`.
    pub vrid: Option<Loc>,
    /// `version`.
    pub version: Option<Loc>,
    /// `advert_int`.
    pub advert_int: Option<Loc>,
    /// `authentication`.
    pub auth: Option<Loc>,
    /// `nopreempt`.
    pub nopreempt: Option<Loc>,
    /// `preempt_delay`.
    pub preempt_delay: Option<Loc>,
    /// `down_timer_adverts`.
    pub down_timer_adverts: Option<Loc>,
    /// `mcast_src_ip` / `unicast_src_ip`.
    pub src_ip: Option<Loc>,
    /// `unicast_peer`.
    pub unicast_peer: Option<Loc>,
    /// `accept` / `no_accept`.
    pub accept: Option<Loc>,
    /// `use_vmac`.
    pub use_vmac: Option<Loc>,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: Option<Loc>,
    /// `virtual_ipaddress`.
    pub vips: Option<Loc>,
}

/// A `vrrp_instance` block. Fields documented "resolved" are `None` after
/// parsing when not written and `Some` after `finish`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpInstance {
    /// Its name.
    pub name: String<NAME_BYTES>,
    /// Where the block starts.
    pub loc: Loc,
    /// `state`; resolved (255 → MASTER, else BACKUP).
    pub state: Option<State>,
    /// `interface`; may be empty with `unicast_src_ip` and peers.
    pub interface: String<IFNAME_BYTES>,
    /// `virtual_router_id` 1..255 (0 = missing, an error).
    pub vrid: u8,
    /// `priority` 1..255; resolved (255 with `state MASTER`, else 100).
    pub priority: Option<u8>,
    /// `advert_int` (1 s); rounded by `finish` (v2: whole seconds, v3:
    /// centiseconds up to 40.95 s).
    pub advert_int: Duration,
    /// `version` 2|3; resolved (`vrrp_version`, 3 for IPv6).
    pub version: Option<u8>,
    /// Whether the instance is IPv6 (from its VIPs, else source or peers);
    /// set by `finish`.
    pub ipv6: bool,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay` 0..1000 s.
    pub preempt_delay: Duration,
    /// `down_timer_adverts` 1..100; resolved (`vrrp_down_timer_adverts`).
    pub down_timer_adverts: Option<u8>,
    /// `authentication { auth_type PASS; auth_pass P }` (v2 only).
    pub auth_pass: Option<String<AUTH_PASS_BYTES>>,
    /// `mcast_src_ip` / `unicast_src_ip`.
    pub src_ip: Option<IpAddr>,
    /// `unicast_peer { }`; empty = multicast.
    pub unicast_peers: Vec<UnicastPeer, UNICAST_PEERS>,
    /// `unicast_ttl`; resolved to 255 for IPv4, `None` = kernel default (IPv6).
    pub unicast_ttl: Option<u8>,
    /// `check_unicast_src`; resolved (global, or on with `min_ttl`/`max_ttl`).
    /// picket drops strangers' adverts whatever this says (always on).
    pub check_unicast_src: Option<bool>,
    /// `mcast_dst_ip`; resolved (the global group of the family).
    pub mcast_dst_ip: Option<IpAddr>,
    /// `virtual_ipaddress`.
    pub vips: Vec<VipSpec, VIPS_PER_INSTANCE>,
    /// `virtual_ipaddress_excluded`.
    pub evips: Vec<VipSpec, EXCLUDED_VIPS_PER_INSTANCE>,
    /// `no_virtual_ipaddress`: zero VIPs allowed.
    pub no_virtual_ipaddress: bool,
    /// `virtual_routes`: added on becoming MASTER, removed on leaving it.
    pub routes: Vec<VirtualRoute, ROUTES_PER_INSTANCE>,
    /// `track_interface`.
    pub track_interfaces: Vec<TrackInterface, TRACKS_PER_INSTANCE>,
    /// `track_script`.
    pub track_scripts: Vec<TrackScript, TRACKS_PER_INSTANCE>,
    /// `track_file`.
    pub track_files: Vec<TrackFileRef, TRACKS_PER_INSTANCE>,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `notify_master`.
    pub notify_master: Option<ScriptCmd>,
    /// `notify_backup`.
    pub notify_backup: Option<ScriptCmd>,
    /// `notify_fault`.
    pub notify_fault: Option<ScriptCmd>,
    /// `notify_stop`.
    pub notify_stop: Option<ScriptCmd>,
    /// `notify` (generic: gets `INSTANCE NAME STATE PRIORITY`).
    pub notify: Option<ScriptCmd>,
    /// `notify_master_rx_lower_pri`.
    pub notify_master_rx_lower_pri: Option<ScriptCmd>,
    /// `notify_priority_changes`; resolved (`vrrp_notify_priority_changes`).
    pub notify_priority_changes: Option<bool>,
    /// `accept` / `no_accept`; resolved (on; strict: only the owner).
    pub accept: Option<bool>,
    /// `garp_master_delay`; resolved (global).
    pub garp_master_delay: Option<Duration>,
    /// `garp_master_repeat`; resolved (global).
    pub garp_master_repeat: Option<u32>,
    /// `garp_master_refresh`; resolved (global).
    pub garp_master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`; resolved (global).
    pub garp_master_refresh_repeat: Option<u32>,
    /// `garp_lower_prio_delay`; resolved (global; 0 in strict mode).
    pub garp_lower_prio_delay: Option<Duration>,
    /// `garp_lower_prio_repeat`; resolved (global; 0 in strict mode).
    pub garp_lower_prio_repeat: Option<u32>,
    /// `lower_prio_no_advert`; resolved (global; on in strict mode).
    pub lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert`; resolved (global; off in strict mode).
    pub higher_prio_send_advert: Option<bool>,
    /// `owner_ignore_adverts`; resolved (global; on in strict mode).
    pub owner_ignore_adverts: Option<bool>,
    /// `v3_checksum_as_v2`; resolved (global).
    pub v3_checksum_as_v2: Option<bool>,
    /// `skip_check_adv_addr`; resolved (global).
    pub skip_check_adv_addr: Option<bool>,
    /// `strict_mode`; resolved (`vrrp_strict`).
    pub strict_mode: Option<bool>,
    /// `use_vmac` (the VMAC itself is set up by a later issue).
    pub use_vmac: Option<Vmac>,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `unicast_fault_no_peer`.
    pub unicast_fault_no_peer: bool,
    /// `track_src_ip`.
    pub track_src_ip: bool,
    /// Not a keyword: set when a VMAC is set up for the instance (which
    /// then runs on the VMAC), naming the parent interface whose addresses
    /// its adverts are sent from. Empty otherwise.
    pub vmac_parent: String<IFNAME_BYTES>,
    /// Where keywords were written.
    pub locs: InstanceLocs,
}

impl VrrpInstance {
    /// Its notify scripts by keyword, in keepalived's order (set or not).
    pub fn notifies(&self) -> [(&'static str, &Option<ScriptCmd>); 6] {
        [
            ("notify_master", &self.notify_master),
            ("notify_backup", &self.notify_backup),
            ("notify_fault", &self.notify_fault),
            ("notify_stop", &self.notify_stop),
            ("notify", &self.notify),
            (
                "notify_master_rx_lower_pri",
                &self.notify_master_rx_lower_pri,
            ),
        ]
    }

    /// An instance with nothing set.
    pub fn new(name: String<NAME_BYTES>, loc: Loc) -> Self {
        VrrpInstance {
            name,
            loc,
            state: None,
            interface: String::new(),
            vrid: 0,
            priority: None,
            advert_int: Duration::from_secs(1),
            version: None,
            ipv6: false,
            nopreempt: false,
            preempt_delay: Duration::from_secs(0),
            down_timer_adverts: None,
            auth_pass: None,
            src_ip: None,
            unicast_peers: Vec::new(),
            unicast_ttl: None,
            check_unicast_src: None,
            mcast_dst_ip: None,
            vips: Vec::new(),
            evips: Vec::new(),
            no_virtual_ipaddress: false,
            routes: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            dont_track_primary: false,
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify: None,
            notify_master_rx_lower_pri: None,
            notify_priority_changes: None,
            accept: None,
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            lower_prio_no_advert: None,
            higher_prio_send_advert: None,
            owner_ignore_adverts: None,
            v3_checksum_as_v2: None,
            skip_check_adv_addr: None,
            strict_mode: None,
            use_vmac: None,
            vmac_xmit_base: false,
            promote_secondaries: false,
            unicast_fault_no_peer: false,
            track_src_ip: false,
            vmac_parent: String::new(),
            locs: InstanceLocs::default(),
        }
    }
}

/// Keywords of `vrrp_instance` picket implements.
pub const IMPLEMENTED: &[&str] = &[
    "state",
    "interface",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "nopreempt",
    "preempt",
    "preempt_delay",
    "down_timer_adverts",
    "authentication",
    "mcast_src_ip",
    "unicast_src_ip",
    "unicast_peer",
    "unicast_ttl",
    "check_unicast_src",
    "mcast_dst_ip",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "no_virtual_ipaddress",
    "virtual_routes",
    "track_interface",
    "track_script",
    "track_file",
    "dont_track_primary",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "accept",
    "no_accept",
    "garp_master_delay",
    "garp_master_repeat",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "owner_ignore_adverts",
    "v3_checksum_as_v2",
    "skip_check_adv_addr",
    "strict_mode",
    "use_vmac",
    "vmac_xmit_base",
    "promote_secondaries",
    "unicast_fault_no_peer",
    "track_src_ip",
];

/// Keywords of `vrrp_instance` picket does not implement and that change
/// behaviour (errors), with a hint each.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "virtual_rules",
        "virtual rules are not implemented; add the rules from notify_master/notify_backup scripts",
    ),
    (
        "track_process",
        "process tracking is not implemented; use a vrrp_script that checks the process",
    ),
    (
        "track_bfd",
        "BFD is not implemented; use track_interface or a vrrp_script",
    ),
    (
        "auth_hmac",
        "HMAC authentication (keepalived 2.4) is not implemented",
    ),
    (
        "use_ipvlan",
        "ipvlan interfaces are not implemented; use use_vmac",
    ),
    (
        "use_vmac_addr",
        "VMACs on other VIP interfaces are not implemented; use use_vmac on the VIP",
    ),
    ("vrf", "VRFs are not implemented"),
    (
        "timer_expired_backup",
        "timer_expired_backup is not implemented",
    ),
    (
        "thread_timer_expired",
        "use timer_expired_backup (not implemented either)",
    ),
    (
        "old_unicast_checksum",
        "compatibility with keepalived <= 1.3.6 unicast checksums is not implemented",
    ),
    (
        "garp_extra_if",
        "periodic GARP on extra interfaces is not implemented; use garp_master_refresh",
    ),
    (
        "vmac_garp_intvl",
        "periodic GARP on extra interfaces is not implemented; use garp_master_refresh",
    ),
    (
        "linkbeat_use_polling",
        "link state comes from netlink; polling is not implemented",
    ),
    (
        "lvs_sync_daemon_interface",
        "the IPVS sync daemon is not implemented; start it with ipvsadm --start-daemon",
    ),
    (
        "notify_deleted",
        "notify_deleted is not implemented; notify scripts get STOP",
    ),
];

/// Harmless keywords of `vrrp_instance` picket ignores (warnings).
pub const IGNORED: &[(&str, &str)] = &[
    ("smtp_alert", "picket sends no e-mail"),
    ("debug", "not implemented in keepalived either"),
    (
        "native_ipv6",
        "deprecated: the VIPs decide the address family",
    ),
    (
        "kernel_rx_buf_size",
        "picket keeps the kernel's default VRRP receive buffer",
    ),
];

/// Largest GARP repeat count (as `vrrp_garp_master_repeat`).
const GARP_REPEAT_MAX: i64 = 255;
/// Largest GARP delay or refresh, in seconds.
const GARP_DELAY_MAX_S: i64 = 86400;

/// Parses a `vrrp_instance NAME { }` block.
pub fn parse_instance(p: &mut Parser<'_>, head: &Statement, cfg: &mut Config) {
    let name = block_name(p, head);
    if !p.open(head) {
        return;
    }
    let mut inst = VrrpInstance::new(name.clone().unwrap_or_default(), head.loc);
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        keyword(p, &st, &mut inst, cfg);
    }
    let Some(name) = name else { return };
    if cfg.vrrp.instance_index(&name).is_some() {
        p.error(
            head.loc,
            format_args!("vrrp_instance '{name}' is defined twice"),
        );
        return;
    }
    if cfg.vrrp.instances.push(inst).is_err() {
        p.capacity(head.loc, "vrrp_instances");
    }
}

/// One statement of a `vrrp_instance`.
fn keyword(p: &mut Parser<'_>, st: &Statement, inst: &mut VrrpInstance, cfg: &mut Config) {
    let kw = st.keyword();
    if let Some((_, hint)) = UNSUPPORTED.iter().find(|(k, _)| *k == kw) {
        p.unsupported(st, hint);
        return;
    }
    if let Some((_, why)) = IGNORED.iter().find(|(k, _)| *k == kw) {
        p.ignored(st, why);
        return;
    }
    let here = Some(st.loc);
    let secs = Duration::from_secs;
    match kw {
        "state" => {
            if p.arity(st, 1, 1)
                && let Some(k) = p.choice_arg(st, 0, &["MASTER", "BACKUP"])
            {
                inst.state = Some(if k == 0 { State::Master } else { State::Backup });
                inst.locs.state = here;
            }
        }
        "interface" => {
            if p.arity(st, 1, 1)
                && let Some(s) = ifname_arg(p, st, 0)
            {
                inst.interface = s;
            }
        }
        "virtual_router_id" => {
            if let Some(v) = p.int_value(st, 1, 255) {
                inst.vrid = v as u8;
                inst.locs.vrid = here;
            }
        }
        "priority" => {
            if let Some(v) = p.int_value(st, 1, 255) {
                inst.priority = Some(v as u8);
                inst.locs.priority = here;
            }
        }
        "advert_int" => {
            if let Some(d) = p.timer_value(st, Duration::from_millis(10), secs(255)) {
                inst.advert_int = d;
                inst.locs.advert_int = here;
            }
        }
        "version" => {
            if let Some(v) = p.int_value(st, 2, 3) {
                inst.version = Some(v as u8);
                inst.locs.version = here;
            }
        }
        "nopreempt" => {
            if p.arity(st, 0, 0) {
                inst.nopreempt = true;
                inst.locs.nopreempt = here;
            }
        }
        "preempt" => {
            if p.arity(st, 0, 0) {
                inst.nopreempt = false;
                inst.locs.nopreempt = None;
            }
        }
        "preempt_delay" => {
            if let Some(d) = p.timer_value(st, secs(0), secs(1000)) {
                inst.preempt_delay = d;
                inst.locs.preempt_delay = here;
            }
        }
        "down_timer_adverts" => {
            if let Some(v) = p.int_value(st, 1, 100) {
                inst.down_timer_adverts = Some(v as u8);
                inst.locs.down_timer_adverts = here;
            }
        }
        "authentication" => parse_auth(p, st, inst),
        "mcast_src_ip" | "unicast_src_ip" => {
            if p.arity(st, 1, 1)
                && let Some(ip) = p.ip_arg(st, 0)
            {
                inst.src_ip = Some(ip);
                inst.locs.src_ip = here;
            }
        }
        "unicast_peer" => parse_peers(p, st, inst),
        "unicast_ttl" => {
            if let Some(v) = p.int_value(st, 0, 255) {
                inst.unicast_ttl = Some(v as u8);
            }
        }
        "check_unicast_src" => opt_flag(p, st, &mut inst.check_unicast_src),
        "mcast_dst_ip" => {
            if p.arity(st, 1, 1)
                && let Some(ip) = p.ip_arg(st, 0)
            {
                let ok = match ip {
                    IpAddr::V4(a) => a.is_multicast(),
                    IpAddr::V6(a) => a.is_multicast(),
                };
                if ok {
                    inst.mcast_dst_ip = Some(ip);
                } else {
                    p.error(
                        st.arg_loc(0),
                        format_args!("'mcast_dst_ip' must be a multicast address"),
                    );
                }
            }
        }
        "virtual_ipaddress" => {
            inst.locs.vips = inst.locs.vips.or(here);
            parse_addresses(p, st, AddrKind::Vip, &mut inst.vips, "vips_per_instance");
        }
        "virtual_ipaddress_excluded" => parse_addresses(
            p,
            st,
            AddrKind::Evip,
            &mut inst.evips,
            "excluded_vips_per_instance",
        ),
        "no_virtual_ipaddress" => set_flag(p, st, &mut inst.no_virtual_ipaddress),
        "virtual_routes" => parse_routes(p, st, &mut inst.routes),
        "track_interface" => parse_track_interfaces(p, st, &mut inst.track_interfaces),
        "track_script" => parse_track_scripts(p, st, &mut inst.track_scripts),
        "track_file" => parse_track_files(p, st, &mut inst.track_files),
        "dont_track_primary" => set_flag(p, st, &mut inst.dont_track_primary),
        "notify_master"
        | "notify_backup"
        | "notify_fault"
        | "notify_stop"
        | "notify"
        | "notify_master_rx_lower_pri" => {
            if let Some(c) = parse_script(p, st, &mut cfg.strings) {
                let slot = match kw {
                    "notify_master" => &mut inst.notify_master,
                    "notify_backup" => &mut inst.notify_backup,
                    "notify_fault" => &mut inst.notify_fault,
                    "notify_stop" => &mut inst.notify_stop,
                    "notify" => &mut inst.notify,
                    _ => &mut inst.notify_master_rx_lower_pri,
                };
                *slot = Some(c);
            }
        }
        "notify_priority_changes" => opt_flag(p, st, &mut inst.notify_priority_changes),
        "accept" | "no_accept" => {
            if p.arity(st, 0, 0) {
                inst.accept = Some(kw == "accept");
                inst.locs.accept = here;
            }
        }
        "garp_master_delay" => opt_secs(p, st, &mut inst.garp_master_delay),
        "garp_master_refresh" => opt_secs(p, st, &mut inst.garp_master_refresh),
        "garp_lower_prio_delay" => opt_secs(p, st, &mut inst.garp_lower_prio_delay),
        "garp_master_repeat" => opt_count(p, st, 1, &mut inst.garp_master_repeat),
        "garp_master_refresh_repeat" => opt_count(p, st, 1, &mut inst.garp_master_refresh_repeat),
        "garp_lower_prio_repeat" => opt_count(p, st, 0, &mut inst.garp_lower_prio_repeat),
        "lower_prio_no_advert" => opt_flag(p, st, &mut inst.lower_prio_no_advert),
        "higher_prio_send_advert" => opt_flag(p, st, &mut inst.higher_prio_send_advert),
        "owner_ignore_adverts" => opt_flag(p, st, &mut inst.owner_ignore_adverts),
        "v3_checksum_as_v2" => opt_flag(p, st, &mut inst.v3_checksum_as_v2),
        "skip_check_adv_addr" => opt_flag(p, st, &mut inst.skip_check_adv_addr),
        "strict_mode" => opt_flag(p, st, &mut inst.strict_mode),
        "use_vmac" => parse_vmac(p, st, inst),
        "vmac_xmit_base" => {
            if p.arity(st, 0, 0) {
                inst.vmac_xmit_base = true;
                inst.locs.vmac_xmit_base = here;
            }
        }
        "promote_secondaries" => set_flag(p, st, &mut inst.promote_secondaries),
        "unicast_fault_no_peer" => set_flag(p, st, &mut inst.unicast_fault_no_peer),
        "track_src_ip" => set_flag(p, st, &mut inst.track_src_ip),
        _ => {
            let mut known: Vec<&str, 128> = Vec::new();
            for k in IMPLEMENTED
                .iter()
                .copied()
                .chain(UNSUPPORTED.iter().map(|(k, _)| *k))
                .chain(IGNORED.iter().map(|(k, _)| *k))
            {
                let _ = known.push(k);
            }
            p.unknown(st, "vrrp_instance", &known);
        }
    }
}

/// A flag into an `Option<bool>`.
fn opt_flag(p: &mut Parser<'_>, st: &Statement, field: &mut Option<bool>) {
    if let Some(b) = p.flag(st) {
        *field = Some(b);
    }
}

/// Whole seconds 0..86400 into an `Option<Duration>`.
fn opt_secs(p: &mut Parser<'_>, st: &Statement, field: &mut Option<Duration>) {
    if let Some(v) = p.int_value(st, 0, GARP_DELAY_MAX_S) {
        *field = Some(Duration::from_secs(v as u64));
    }
}

/// A count `min..=255` into an `Option<u32>`.
fn opt_count(p: &mut Parser<'_>, st: &Statement, min: i64, field: &mut Option<u32>) {
    if let Some(v) = p.int_value(st, min, GARP_REPEAT_MAX) {
        *field = Some(v as u32);
    }
}

/// `authentication { auth_type PASS|AH; auth_pass P }`.
fn parse_auth(p: &mut Parser<'_>, head: &Statement, inst: &mut VrrpInstance) {
    if !p.open(head) {
        return;
    }
    let mut kind: Option<bool> = None; // Some(true) = PASS
    let mut pass: Option<(String<AUTH_PASS_BYTES>, Loc)> = None;
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        match st.keyword() {
            "auth_type" => {
                if !p.arity(&st, 1, 1) {
                    continue;
                }
                match st.arg(0) {
                    Some("PASS") => kind = Some(true),
                    Some("AH") => {
                        p.error_hint(
                            st.arg_loc(0),
                            format_args!("'auth_type AH' (IPsec AH authentication) is not supported by picket"),
                            format_args!("use 'auth_type PASS', or no authentication (RFC 5798 removed it)"),
                        );
                        kind = Some(false);
                    }
                    _ => {
                        let _ = p.choice_arg(&st, 0, &["PASS", "AH"]);
                        kind = Some(false);
                    }
                }
            }
            "auth_pass" => {
                if !p.arity(&st, 1, 1) {
                    continue;
                }
                let s = st.arg(0).unwrap_or("");
                if s.is_empty() {
                    p.error(st.arg_loc(0), format_args!("'auth_pass' is empty"));
                    continue;
                }
                let mut out = String::new();
                for c in s.chars() {
                    if out.push(c).is_err() {
                        break;
                    }
                }
                if out.len() < s.len() {
                    p.warning(
                        st.arg_loc(0),
                        format_args!("'auth_pass' is longer than {AUTH_PASS_BYTES} characters; only '{out}' is used"),
                    );
                }
                pass = Some((out, st.loc));
            }
            _ => p.unknown(&st, "authentication", &["auth_type", "auth_pass"]),
        }
    }
    match (kind, pass) {
        (Some(true), Some((pw, _))) => {
            inst.auth_pass = Some(pw);
            inst.locs.auth = Some(head.loc);
        }
        (Some(true), None) => p.error_hint(
            head.loc,
            format_args!("'authentication' with 'auth_type PASS' needs 'auth_pass'"),
            format_args!("add 'auth_pass PASSWORD' (at most 8 characters)"),
        ),
        (None, _) => p.error_hint(
            head.loc,
            format_args!("'authentication' needs 'auth_type'"),
            format_args!("add 'auth_type PASS'"),
        ),
        (Some(false), _) => {}
    }
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] ... }`.
fn parse_peers(p: &mut Parser<'_>, head: &Statement, inst: &mut VrrpInstance) {
    if !p.open(head) {
        return;
    }
    inst.locs.unicast_peer = inst.locs.unicast_peer.or(Some(head.loc));
    let mut st = Statement::new();
    'lines: while p.next_in_block(&mut st) {
        if !p.no_block(&st) {
            continue;
        }
        let addr = match super::super::value::parse_ip(st.keyword()) {
            Ok(a) => a,
            Err(e) => {
                p.error(
                    st.loc,
                    format_args!("invalid peer address '{}': {e}", st.keyword()),
                );
                continue;
            }
        };
        let mut peer = UnicastPeer {
            addr,
            min_ttl: 0,
            max_ttl: 255,
            loc: st.loc,
        };
        let mut i = 0;
        while let Some(w) = st.arg(i) {
            let field = match w {
                "min_ttl" => &mut peer.min_ttl,
                "max_ttl" => &mut peer.max_ttl,
                _ => {
                    p.error_hint(
                        st.arg_loc(i),
                        format_args!("unexpected '{w}' in unicast_peer"),
                        format_args!("write 'IP [min_ttl N] [max_ttl N]'"),
                    );
                    continue 'lines;
                }
            };
            // Checked by hand: `int_arg` would report against the address word.
            let Some(v) = p.int_arg(&st, i + 1, 0, 255) else {
                continue 'lines;
            };
            *field = v as u8;
            i += 2;
        }
        if peer.min_ttl > peer.max_ttl {
            p.error(
                st.loc,
                format_args!(
                    "unicast_peer {addr}: min_ttl {} is above max_ttl {}",
                    peer.min_ttl, peer.max_ttl
                ),
            );
            continue;
        }
        if inst.unicast_peers.iter().any(|x| x.addr == addr) {
            p.warning(st.loc, format_args!("unicast_peer {addr} is listed twice"));
        } else if inst.unicast_peers.push(peer).is_err() {
            p.capacity(st.loc, "unicast_peers");
        }
    }
}

/// A `virtual_ipaddress` / `virtual_ipaddress_excluded` block.
fn parse_addresses<const N: usize>(
    p: &mut Parser<'_>,
    head: &Statement,
    kind: AddrKind,
    out: &mut Vec<VipSpec, N>,
    limit: &str,
) {
    if !p.open(head) {
        return;
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        let Some(a) = parse_address(p, &st, kind) else {
            continue;
        };
        if out
            .iter()
            .any(|x| x.addr == a.addr && x.prefix_len == a.prefix_len && x.dev == a.dev)
        {
            p.warning(
                st.loc,
                format_args!(
                    "address {}/{} is listed twice; the first entry is kept",
                    a.addr, a.prefix_len
                ),
            );
        } else if out.push(a).is_err() {
            p.capacity(st.loc, limit);
        }
    }
}

/// A `virtual_routes` block.
fn parse_routes(
    p: &mut Parser<'_>,
    head: &Statement,
    out: &mut Vec<VirtualRoute, ROUTES_PER_INSTANCE>,
) {
    if !p.open(head) {
        return;
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        let Some(r) = parse_route(p, &st) else {
            continue;
        };
        if out.iter().any(|x| {
            x.dst == r.dst && x.dst_len == r.dst_len && x.table == r.table && x.metric == r.metric
        }) {
            p.warning(
                st.loc,
                format_args!(
                    "route {}/{} is listed twice; the first entry is kept",
                    r.dst, r.dst_len
                ),
            );
        } else if out.push(r).is_err() {
            p.capacity(st.loc, "routes_per_instance");
        }
    }
}

/// A MAC address of 5 or 6 octets `xx:xx:xx:xx:xx[:xx]`.
fn parse_mac(s: &str) -> Option<([u8; 6], u8)> {
    let mut mac = [0u8; 6];
    let mut n = 0usize;
    for part in s.split(':') {
        if n >= 6 || part.is_empty() || part.len() > 2 {
            return None;
        }
        mac[n] = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n >= 5).then_some((mac, n as u8))
}

/// `use_vmac [NAME] [MAC]`.
fn parse_vmac(p: &mut Parser<'_>, st: &Statement, inst: &mut VrrpInstance) {
    if !p.arity(st, 0, 2) {
        return;
    }
    let mut v = Vmac {
        name: String::new(),
        mac: None,
        mac_octets: 0,
    };
    for i in 0..st.arg_count() {
        let w = st.arg(i).unwrap_or("");
        if let Some((mac, n)) = parse_mac(w) {
            if v.mac.is_some() {
                p.error(
                    st.arg_loc(i),
                    format_args!("'use_vmac': the MAC is given twice"),
                );
                return;
            }
            if mac[0] & 1 == 1 {
                p.error(
                    st.arg_loc(i),
                    format_args!("'use_vmac': {w} is a multicast MAC address"),
                );
                return;
            }
            v.mac = Some(mac);
            v.mac_octets = n;
        } else if v.name.is_empty() && v.mac.is_none() {
            let Some(n) = ifname_arg(p, st, i) else {
                return;
            };
            v.name = n;
        } else {
            p.error_hint(
                st.arg_loc(i),
                format_args!("'use_vmac': unexpected '{w}'"),
                format_args!("write 'use_vmac [NAME] [MAC]'"),
            );
            return;
        }
    }
    inst.use_vmac = Some(v);
    inst.locs.use_vmac = Some(st.loc);
}
