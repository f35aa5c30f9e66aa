//! `finish` for the VRRP tables: defaults from `global_defs`, cross
//! references and consistency checks (including `vrrp_strict`, §c.16).

use core::net::IpAddr;

use heapless::Vec;

use super::super::global::GlobalDefs;
use super::super::parser::closest;
use super::super::{Config, Diagnostics};
use super::address::VipSpec;
use super::instance::{State, VrrpInstance};
use super::script::{TrackScript, VrrpScript};
use super::track_file::TrackFile;
use crate::limits::{TRACKS_PER_INSTANCE, VRRP_INSTANCES};
use crate::time::Duration;

/// Largest VRRPv3 advert interval (12 bits of centiseconds).
const V3_ADVERT_MAX: Duration = Duration::from_millis(40_950);

/// Resolves defaults and checks the VRRP tables.
pub fn finish(cfg: &mut Config, diags: &mut Diagnostics) {
    let g = &cfg.global;
    let v = &mut cfg.vrrp;
    for a in v.static_addresses.iter_mut() {
        resolve_address(a, &g.default_interface);
    }
    for s in v.scripts.iter_mut() {
        if s.timeout.is_none() {
            s.timeout = Some(s.interval);
        }
    }
    for inst in v.instances.iter_mut() {
        resolve_instance(g, inst, diags);
    }
    check_vrids(&v.instances, diags);
    for inst in v.instances.iter_mut() {
        resolve_tracks(&mut v.scripts, &mut inst.track_scripts, diags);
        resolve_tracks(&mut v.track_files, &mut inst.track_files, diags);
    }
    for grp in v.sync_groups.iter_mut() {
        resolve_tracks(&mut v.scripts, &mut grp.track_scripts, diags);
        resolve_tracks(&mut v.track_files, &mut grp.track_files, diags);
    }
    check_sync_groups(cfg, diags);
    for s in cfg.vrrp.scripts.iter() {
        if !s.used {
            diags.warning(
                s.loc,
                format_args!("vrrp_script '{}' is not tracked by any instance or sync group; it will not run", s.name),
            );
        }
    }
    for f in cfg.vrrp.track_files.iter() {
        if !f.used {
            diags.warning(
                f.loc,
                format_args!("vrrp_track_file '{}' is not tracked by any instance or sync group; it will not be watched", f.name),
            );
        }
    }
}

/// What a `track_script` / `track_file` entry names: a `vrrp_script` or a
/// `vrrp_track_file`, with the default weight and `reverse` of its entries.
trait Trackable {
    /// `track_script` or `track_file`.
    const LIST: &'static str;
    /// `vrrp_script` or `vrrp_track_file`.
    const BLOCK: &'static str;
    /// How to define one, for the hint (`{}` = the name).
    const DEFINE: &'static str;
    fn name(&self) -> &str;
    fn weight(&self) -> i16;
    fn reverse(&self) -> bool;
    fn mark_used(&mut self);
}

impl Trackable for VrrpScript {
    const LIST: &'static str = "track_script";
    const BLOCK: &'static str = "vrrp_script";
    const DEFINE: &'static str = "script ...";
    fn name(&self) -> &str {
        &self.name
    }
    fn weight(&self) -> i16 {
        self.weight
    }
    fn reverse(&self) -> bool {
        self.reverse
    }
    fn mark_used(&mut self) {
        self.used = true;
    }
}

impl Trackable for TrackFile {
    const LIST: &'static str = "track_file";
    const BLOCK: &'static str = "vrrp_track_file";
    const DEFINE: &'static str = "file /path";
    fn name(&self) -> &str {
        &self.name
    }
    fn weight(&self) -> i16 {
        self.weight
    }
    fn reverse(&self) -> bool {
        self.reverse
    }
    fn mark_used(&mut self) {
        self.used = true;
    }
}

/// Default interface and lifetime of an address.
fn resolve_address(a: &mut VipSpec, dev: &str) {
    if a.dev.is_empty() {
        let _ = a.dev.push_str(dev);
    }
    if a.addr.is_ipv6() && a.preferred_lft.is_none() {
        a.preferred_lft = Some(if a.prefix_len == 128 {
            0
        } else {
            super::address::LFT_FOREVER
        });
    }
}

/// Whether an address is an IPv6 link-local unicast address.
fn link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(a) if a.is_unicast_link_local())
}

/// Defaults and per-instance checks.
fn resolve_instance(g: &GlobalDefs, inst: &mut VrrpInstance, diags: &mut Diagnostics) {
    let name = inst.name.clone();
    if inst.vrid == 0 {
        diags.error_hint(
            inst.loc,
            format_args!("vrrp_instance '{name}' has no virtual_router_id"),
            format_args!(
                "add 'virtual_router_id N' (1 to 255, the same on every router of this VRRP group)"
            ),
        );
    }

    // Address family: the VIPs', else the source's, else the peers'.
    let ipv6 = match (inst.vips.first(), inst.src_ip, inst.unicast_peers.first()) {
        (Some(a), _, _) => a.addr.is_ipv6(),
        (None, Some(s), _) => s.is_ipv6(),
        (None, None, Some(p)) => p.addr.is_ipv6(),
        _ => false,
    };
    inst.ipv6 = ipv6;
    let fam = |v6: bool| if v6 { "IPv6" } else { "IPv4" };
    for a in inst.vips.iter().skip(1) {
        if a.addr.is_ipv6() != ipv6 {
            diags.error_hint(
                a.loc,
                format_args!(
                    "vrrp_instance '{name}': {} mixes {} and {} virtual addresses",
                    a.addr,
                    fam(ipv6),
                    fam(!ipv6)
                ),
                format_args!(
                    "put the other family in virtual_ipaddress_excluded, or in its own instance"
                ),
            );
        }
    }
    if let (Some(s), Some(loc)) = (inst.src_ip, inst.locs.src_ip)
        && s.is_ipv6() != ipv6
    {
        diags.error(
            loc,
            format_args!(
                "vrrp_instance '{name}': source address {s} is not {}",
                fam(ipv6)
            ),
        );
    }
    for p in inst.unicast_peers.iter() {
        if p.addr.is_ipv6() != ipv6 {
            diags.error(
                p.loc,
                format_args!(
                    "vrrp_instance '{name}': unicast peer {} is not {}",
                    p.addr,
                    fam(ipv6)
                ),
            );
        }
    }
    if inst.interface.is_empty() {
        let unicast_src = inst.src_ip.is_some() && !inst.unicast_peers.is_empty();
        if !unicast_src {
            diags.error_hint(
                inst.loc,
                format_args!("vrrp_instance '{name}' has no interface"),
                format_args!("add 'interface IF' (it may be left out only with unicast_src_ip and unicast_peer)"),
            );
        } else if inst.src_ip.is_some_and(link_local) {
            diags.error(
                inst.locs.src_ip.unwrap_or(inst.loc),
                format_args!(
                    "vrrp_instance '{name}': a link-local unicast_src_ip needs an interface"
                ),
            );
        }
    }

    let strict = inst.strict_mode.unwrap_or(g.vrrp_strict);
    inst.strict_mode = Some(strict);

    // Version and advert interval.
    let version = match (inst.version, ipv6) {
        (Some(2), true) => {
            diags.error_hint(
                inst.locs.version.unwrap_or(inst.loc),
                format_args!("vrrp_instance '{name}': VRRP version 2 has no IPv6"),
                format_args!("use 'version 3' (or leave it out)"),
            );
            3
        }
        (Some(v), _) => v,
        (None, true) => 3,
        (None, false) => g.vrrp_version,
    };
    inst.version = Some(version);
    let us = inst.advert_int.total_micros();
    let rounded = if version == 2 {
        // RFC 3768: whole seconds.
        Duration::from_secs(((us + 500_000) / 1_000_000).max(1))
    } else {
        // RFC 5798: centiseconds, 12 bits.
        Duration::from_micros((((us + 5_000) / 10_000).max(1)) * 10_000).min(V3_ADVERT_MAX)
    };
    if rounded != inst.advert_int {
        diags.warning(
            inst.locs.advert_int.unwrap_or(inst.loc),
            format_args!(
                "vrrp_instance '{name}': advert_int {} is not valid for VRRPv{version}; using {}",
                super::super::value::Timer(inst.advert_int),
                super::super::value::Timer(rounded)
            ),
        );
        inst.advert_int = rounded;
    }

    // Priority and state (keepalived: MASTER without a priority is the owner).
    let priority = match (inst.priority, inst.state) {
        (Some(p), _) => p,
        (None, Some(State::Master)) => 255,
        (None, _) => 100,
    };
    inst.priority = Some(priority);
    let state = inst.state.unwrap_or(if priority == 255 {
        State::Master
    } else {
        State::Backup
    });
    inst.state = Some(state);
    if inst.nopreempt && state == State::Master {
        diags.warning(
            inst.locs.nopreempt.unwrap_or(inst.loc),
            format_args!(
                "vrrp_instance '{name}': nopreempt does not work with state MASTER; it is cleared"
            ),
        );
        inst.nopreempt = false;
    }

    if inst.auth_pass.is_some() && version == 3 {
        diags.error_hint(
            inst.locs.auth.unwrap_or(inst.loc),
            format_args!("vrrp_instance '{name}': authentication is VRRPv2 only"),
            format_args!("remove the authentication block (RFC 5798 has none)"),
        );
    }

    // Values that default to the globals.
    inst.down_timer_adverts = Some(inst.down_timer_adverts.unwrap_or(g.vrrp_down_timer_adverts));
    inst.garp_master_delay = Some(inst.garp_master_delay.unwrap_or(g.vrrp_garp_master_delay));
    inst.garp_master_repeat = Some(inst.garp_master_repeat.unwrap_or(g.vrrp_garp_master_repeat));
    inst.garp_master_refresh = Some(
        inst.garp_master_refresh
            .unwrap_or(g.vrrp_garp_master_refresh),
    );
    inst.garp_master_refresh_repeat = Some(
        inst.garp_master_refresh_repeat
            .unwrap_or(g.vrrp_garp_master_refresh_repeat),
    );
    let zero = Duration::from_secs(0);
    let (gl_delay, gl_rep) = if strict {
        (zero, 0)
    } else {
        (
            g.vrrp_garp_lower_prio_delay
                .unwrap_or(g.vrrp_garp_master_delay),
            g.vrrp_garp_lower_prio_repeat
                .unwrap_or(g.vrrp_garp_master_repeat),
        )
    };
    inst.v3_checksum_as_v2 = Some(inst.v3_checksum_as_v2.unwrap_or(g.v3_checksum_as_v2));
    inst.skip_check_adv_addr = Some(
        inst.skip_check_adv_addr
            .unwrap_or(g.vrrp_skip_check_adv_addr),
    );
    inst.notify_priority_changes = Some(
        inst.notify_priority_changes
            .unwrap_or(g.vrrp_notify_priority_changes),
    );
    let ttl_limits = inst
        .unicast_peers
        .iter()
        .any(|p| p.min_ttl != 0 || p.max_ttl != 255);
    inst.check_unicast_src = Some(
        inst.check_unicast_src
            .unwrap_or(g.vrrp_check_unicast_src || ttl_limits),
    );
    if inst.unicast_ttl.is_none() && !ipv6 {
        inst.unicast_ttl = Some(255);
    }
    match inst.mcast_dst_ip {
        Some(ip) if ip.is_ipv6() != ipv6 => diags.error(
            inst.loc,
            format_args!(
                "vrrp_instance '{name}': mcast_dst_ip {ip} is not {}",
                fam(ipv6)
            ),
        ),
        Some(_) => {}
        None => {
            inst.mcast_dst_ip = Some(if ipv6 {
                IpAddr::V6(g.vrrp_mcast_group6)
            } else {
                IpAddr::V4(g.vrrp_mcast_group4)
            });
        }
    }

    // Addresses go on the instance's interface unless they say otherwise.
    let dev = if inst.interface.is_empty() {
        g.default_interface.clone()
    } else {
        inst.interface.clone()
    };
    for a in inst.vips.iter_mut() {
        resolve_address(a, &dev);
    }
    for a in inst.evips.iter_mut() {
        resolve_address(a, &dev);
    }
    if let Some(vm) = inst.use_vmac.as_mut()
        && let Some(mac) = vm.mac.as_mut()
        && vm.mac_octets == 5
    {
        mac[5] = inst.vrid;
        vm.mac_octets = 6;
    }
    if inst.vips.is_empty() && !inst.no_virtual_ipaddress && !strict {
        diags.warning(
            inst.loc,
            format_args!("vrrp_instance '{name}' has no virtual_ipaddress"),
        );
    }

    // Strict mode (§c.16): what keepalived refuses, and what it forces.
    let forced = |diags: &mut Diagnostics, explicit: Option<bool>, want: bool, kw: &str| {
        if explicit.is_some_and(|b| b != want) {
            diags.warning(
                inst.loc,
                format_args!("vrrp_instance '{name}': strict mode sets {kw} to {want}"),
            );
        }
        Some(want)
    };
    if strict {
        let mut err = |loc: Option<super::super::Loc>, what: core::fmt::Arguments<'_>| {
            diags.error_hint(
                loc.unwrap_or(inst.loc),
                format_args!("vrrp_instance '{name}': {what} is not allowed in strict mode"),
                format_args!("remove it, or turn off vrrp_strict / strict_mode"),
            );
        };
        if inst.vips.is_empty() {
            err(None, format_args!("an instance without virtual_ipaddress"));
        }
        if !inst.unicast_peers.is_empty() {
            err(inst.locs.unicast_peer, format_args!("unicast_peer"));
        }
        if ipv6
            && let Some(a) = inst.vips.first()
            && !link_local(a.addr)
        {
            err(
                Some(a.loc),
                format_args!(
                    "a first IPv6 virtual address that is not link-local ({})",
                    a.addr
                ),
            );
        }
        if inst.locs.state.is_some() && state == State::Master && priority != 255 {
            err(
                inst.locs.state,
                format_args!("state MASTER with priority {priority} (not 255)"),
            );
        }
        if inst.auth_pass.is_some() {
            err(inst.locs.auth, format_args!("authentication"));
        }
        if inst.preempt_delay.total_micros() != 0 {
            err(inst.locs.preempt_delay, format_args!("preempt_delay"));
        }
        if inst.down_timer_adverts != Some(3) {
            err(
                inst.locs.down_timer_adverts,
                format_args!("down_timer_adverts other than 3"),
            );
        }
        if inst.vmac_xmit_base {
            err(inst.locs.vmac_xmit_base, format_args!("vmac_xmit_base"));
        }
        if inst.use_vmac.as_ref().is_some_and(|v| v.mac.is_some()) {
            err(inst.locs.use_vmac, format_args!("an explicit VMAC address"));
        }
    }
    if strict {
        if inst.garp_lower_prio_delay.is_some_and(|d| d != zero) {
            diags.warning(
                inst.loc,
                format_args!("vrrp_instance '{name}': strict mode sets garp_lower_prio_delay to 0"),
            );
        }
        inst.garp_lower_prio_delay = Some(zero);
        if inst.garp_lower_prio_repeat.is_some_and(|r| r != 0) {
            diags.warning(
                inst.loc,
                format_args!(
                    "vrrp_instance '{name}': strict mode sets garp_lower_prio_repeat to 0"
                ),
            );
        }
        inst.garp_lower_prio_repeat = Some(0);
        inst.lower_prio_no_advert = forced(
            diags,
            inst.lower_prio_no_advert,
            true,
            "lower_prio_no_advert",
        );
        inst.higher_prio_send_advert = forced(
            diags,
            inst.higher_prio_send_advert,
            false,
            "higher_prio_send_advert",
        );
        inst.owner_ignore_adverts = forced(
            diags,
            inst.owner_ignore_adverts,
            true,
            "owner_ignore_adverts",
        );
        let accept = inst.accept.unwrap_or(priority == 255);
        if accept && version == 2 {
            if inst.locs.accept.is_some() {
                diags.warning(
                    inst.locs.accept.unwrap_or(inst.loc),
                    format_args!("vrrp_instance '{name}': strict mode has no accept mode with VRRPv2; using no_accept"),
                );
            }
            inst.accept = Some(false);
        } else {
            inst.accept = Some(accept);
        }
    } else {
        inst.garp_lower_prio_delay = Some(inst.garp_lower_prio_delay.unwrap_or(gl_delay));
        inst.garp_lower_prio_repeat = Some(inst.garp_lower_prio_repeat.unwrap_or(gl_rep));
        inst.lower_prio_no_advert = Some(
            inst.lower_prio_no_advert
                .unwrap_or(g.vrrp_lower_prio_no_advert),
        );
        inst.higher_prio_send_advert = Some(
            inst.higher_prio_send_advert
                .unwrap_or(g.vrrp_higher_prio_send_advert),
        );
        inst.owner_ignore_adverts = Some(
            inst.owner_ignore_adverts
                .unwrap_or(g.vrrp_owner_ignore_adverts),
        );
        inst.accept = Some(inst.accept.unwrap_or(true));
    }
}

/// Two instances with the same VRID on the same interface and family that
/// would hear each other's adverts (same multicast group, or a common
/// unicast peer).
fn check_vrids(instances: &[VrrpInstance], diags: &mut Diagnostics) {
    for (j, b) in instances.iter().enumerate() {
        if b.vrid == 0 {
            continue;
        }
        let clash = instances.iter().take(j).find(|a| {
            a.vrid == b.vrid
                && a.interface == b.interface
                && a.ipv6 == b.ipv6
                && match (a.unicast_peers.is_empty(), b.unicast_peers.is_empty()) {
                    (true, true) => a.mcast_dst_ip == b.mcast_dst_ip,
                    (false, false) => a
                        .unicast_peers
                        .iter()
                        .any(|p| b.unicast_peers.iter().any(|q| q.addr == p.addr)),
                    _ => false,
                }
        });
        if let Some(a) = clash {
            diags.error_hint(
                b.locs.vrid.unwrap_or(b.loc),
                format_args!(
                    "vrrp_instance '{}': virtual_router_id {} is already used on '{}' ({}) by '{}' (line {})",
                    b.name,
                    b.vrid,
                    b.interface,
                    if b.ipv6 { "IPv6" } else { "IPv4" },
                    a.name,
                    a.loc.line
                ),
                format_args!("give each VRRP group on an interface its own virtual_router_id"),
            );
        }
    }
}

/// Checks `track_script` / `track_file` references and resolves their
/// weights (the entry's, else the named block's).
fn resolve_tracks<T: Trackable, const N: usize>(
    defs: &mut Vec<T, N>,
    tracks: &mut Vec<TrackScript, TRACKS_PER_INSTANCE>,
    diags: &mut Diagnostics,
) {
    for t in tracks.iter_mut() {
        match defs.iter_mut().find(|s| s.name() == t.name.as_str()) {
            Some(s) => {
                s.mark_used();
                if t.weight.is_none() {
                    t.weight = Some(s.weight());
                    t.reverse = Some(t.reverse.unwrap_or(s.reverse()));
                } else {
                    t.reverse = Some(t.reverse.unwrap_or(false));
                }
            }
            None => {
                let mut names: Vec<&str, N> = Vec::new();
                for s in defs.iter() {
                    let _ = names.push(s.name());
                }
                let (list, block) = (T::LIST, T::BLOCK);
                match closest(&t.name, &names) {
                    Some(k) => diags.error_hint(
                        t.loc,
                        format_args!("{list}: unknown {block} '{}'", t.name),
                        format_args!("did you mean '{k}'?"),
                    ),
                    None => diags.error_hint(
                        t.loc,
                        format_args!("{list}: unknown {block} '{}'", t.name),
                        format_args!("define it with '{block} {} {{ {} }}'", t.name, T::DEFINE),
                    ),
                }
            }
        }
    }
}

/// Sync group members must exist and be in one group only.
fn check_sync_groups(cfg: &Config, diags: &mut Diagnostics) {
    let v = &cfg.vrrp;
    // Which group each instance is in, and where.
    let mut owner: Vec<Option<usize>, VRRP_INSTANCES> = Vec::new();
    for _ in v.instances.iter() {
        let _ = owner.push(None);
    }
    for (gi, grp) in v.sync_groups.iter().enumerate() {
        for (m, loc) in grp.members.iter() {
            match v.instance_index(m) {
                None => diags.error_hint(
                    *loc,
                    format_args!(
                        "vrrp_sync_group '{}': unknown vrrp_instance '{m}'",
                        grp.name
                    ),
                    format_args!("list the names of vrrp_instance blocks"),
                ),
                Some(ii) => match owner.get_mut(ii) {
                    Some(Some(other)) => {
                        let other_name = v.sync_groups.get(*other).map_or("", |x| x.name.as_str());
                        diags.error(
                            *loc,
                            format_args!(
                                "vrrp_instance '{m}' is in sync groups '{other_name}' and '{}'",
                                grp.name
                            ),
                        );
                    }
                    Some(slot) => *slot = Some(gi),
                    None => {}
                },
            }
        }
        if grp.members.len() == 1 {
            diags.warning(
                grp.loc,
                format_args!("vrrp_sync_group '{}' has only one member", grp.name),
            );
        }
    }
}
