//! After parsing: cross references, keepalived's consistency rules
//! (`vs_end_handler`, `rs_end_handler`, the checkers' `*_end_handler`s) and
//! inherited defaults VS → RS → checker.

use core::net::IpAddr;

use super::{
    CheckKind, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, DEFAULT_PERSISTENCE_TIMEOUT, Family,
    Forwarding, Granularity, LvsConfig, Protocol, Scheduler, StatusCodes, VsAddress, VsgEntryKind,
};
use crate::config::Diagnostics;
use crate::config::strings::StringPool;
use crate::time::Duration;

/// Default `delay_before_retry` of HTTP checks.
const HTTP_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);
/// Default `delay_before_retry` of other checks (DNS: its `delay_loop`).
const DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);

/// Runs every check and resolves every default.
pub(super) fn finish(lvs: &mut LvsConfig, pool: &StringPool, diags: &mut Diagnostics) {
    check_groups(lvs, diags);
    for i in 0..lvs.virtual_servers.len() {
        resolve_vs(lvs, i, diags);
    }
    check_duplicate_vs(lvs, diags);
    check_duplicate_rs(lvs, diags);
    resolve_checkers(lvs, pool, diags);
    for i in 0..lvs.virtual_servers.len() {
        check_quorum(lvs, i, diags);
    }
}

/// The family of a group, from its entries (`None` when mixed or empty).
fn group_family(lvs: &LvsConfig, g: usize) -> Option<Family> {
    let mut fam = None;
    for e in lvs.entries_of(g) {
        let f = match e.kind {
            VsgEntryKind::Range { first, .. } => Some(Family::of(first)),
            VsgEntryKind::Prefix { addr, .. } => Some(Family::of(addr)),
            VsgEntryKind::Fwmark { family, .. } => family,
        };
        match (fam, f) {
            (None, f) => fam = f,
            (Some(a), Some(b)) if a != b => return None,
            _ => {}
        }
    }
    fam
}

fn check_groups(lvs: &LvsConfig, diags: &mut Diagnostics) {
    for (g, group) in lvs.groups.iter().enumerate() {
        let (mut v4, mut v6, mut bare_fwmark, mut any) = (false, false, false, false);
        for e in lvs.entries_of(g) {
            any = true;
            match e.kind {
                VsgEntryKind::Range { first: a, .. } | VsgEntryKind::Prefix { addr: a, .. } => {
                    if a.is_ipv4() {
                        v4 = true;
                    } else {
                        v6 = true;
                    }
                }
                VsgEntryKind::Fwmark { family: None, .. } => bare_fwmark = true,
                VsgEntryKind::Fwmark { .. } => {}
            }
        }
        if !any {
            diags.error_hint(
                group.loc,
                format_args!("virtual_server_group '{}' has no entries", group.name),
                format_args!("add 'IP [PORT]' or 'fwmark N' lines, or remove the group"),
            );
        } else if v4 && v6 && bare_fwmark {
            diags.error_hint(
                group.loc,
                format_args!(
                    "virtual_server_group '{}' mixes IPv4, IPv6 and fwmark entries without a family",
                    group.name
                ),
                format_args!("write 'fwmark N inet' or 'fwmark N inet6'"),
            );
        }
    }
}

/// Resolves one virtual server, its sorry server and its real servers.
fn resolve_vs(lvs: &mut LvsConfig, i: usize, diags: &mut Diagnostics) {
    let mut group_fam = None;
    // Group reference.
    let name = match lvs.virtual_servers.get(i).map(|v| &v.address) {
        Some(VsAddress::Group { name, .. }) => Some(name.clone()),
        _ => None,
    };
    if let Some(name) = name {
        match lvs.groups.iter().position(|g| g.name == name) {
            Some(g) => {
                group_fam = group_family(lvs, g);
                if let Some(VsAddress::Group { index, .. }) =
                    lvs.virtual_servers.get_mut(i).map(|v| &mut v.address)
                {
                    *index = g as u16;
                }
            }
            None => {
                if let Some(vs) = lvs.virtual_servers.get(i) {
                    diags.error_hint(
                        vs.loc,
                        format_args!("unknown virtual_server_group '{name}'"),
                        format_args!("define 'virtual_server_group {name} {{ … }}'"),
                    );
                }
            }
        }
    }
    let Some(vs) = lvs.virtual_servers.get_mut(i) else {
        return;
    };
    let loc = vs.loc;
    let is_fwmark = matches!(vs.address, VsAddress::Fwmark { .. });
    let vs_port = match vs.address {
        VsAddress::Ip { port, .. } => Some(port),
        _ => None,
    };
    // Scheduler, method, protocol.
    if vs.sched.is_none() {
        diags.warning(
            loc,
            format_args!("virtual server has no lvs_sched: using wlc"),
        );
        vs.sched = Some(Scheduler::Wlc);
    }
    if let Some(l) = vs.flags.sh_loc
        && vs.sched != Some(Scheduler::Sh)
    {
        diags.error_hint(
            l,
            format_args!("sh-port and sh-fallback apply only to the sh scheduler"),
            format_args!("use 'lvs_sched sh', or flag-1/flag-2"),
        );
    }
    if let Some(l) = vs.flags.mh_loc
        && vs.sched != Some(Scheduler::Mh)
    {
        diags.error_hint(
            l,
            format_args!("mh-port and mh-fallback apply only to the mh scheduler"),
            format_args!("use 'lvs_sched mh', or flag-1/flag-2"),
        );
    }
    if vs.method.is_none() {
        diags.warning(
            loc,
            format_args!("virtual server has no lvs_method: using NAT"),
        );
        vs.method = Some(Forwarding::Nat);
    }
    let vs_method = vs.method.unwrap_or(Forwarding::Nat);
    if is_fwmark {
        if vs.protocol.is_some() {
            diags.warning(
                loc,
                format_args!("protocol is ignored for a fwmark virtual server"),
            );
            vs.protocol = None;
        }
        if vs.ha_suspend {
            diags.warning(
                loc,
                format_args!("ha_suspend cannot be used with a fwmark virtual server: cleared"),
            );
            vs.ha_suspend = false;
        }
    } else if vs.protocol.is_none() {
        diags.warning(
            loc,
            format_args!(
                "virtual server has no protocol: using UDP (as keepalived and the kernel)"
            ),
        );
        vs.protocol = Some(Protocol::Udp);
    }
    if vs.ops && vs.protocol != Some(Protocol::Udp) && !is_fwmark {
        diags.error_hint(
            vs.ops_loc,
            format_args!("'ops' (one-packet scheduling) requires protocol UDP"),
            format_args!("remove 'ops' or use 'protocol UDP'"),
        );
    }
    // Persistence.
    if vs.persistence_granularity.is_some() && vs.persistence_timeout == 0 {
        vs.persistence_timeout = DEFAULT_PERSISTENCE_TIMEOUT;
    }
    if vs_port == Some(0) && vs.persistence_timeout == 0 {
        diags.warning(
            loc,
            format_args!(
                "a virtual server without a port must be persistent: using persistence_timeout {DEFAULT_PERSISTENCE_TIMEOUT}"
            ),
        );
        vs.persistence_timeout = DEFAULT_PERSISTENCE_TIMEOUT;
    }
    // Family of the service.
    let mut fam = match vs.address {
        VsAddress::Ip { addr, .. } => Some(Family::of(addr)),
        VsAddress::Group { .. } => group_fam,
        VsAddress::Fwmark { .. } => None,
    };
    if let Some(f) = vs.ip_family {
        match fam {
            Some(g) if g != f => diags.error(
                vs.family_loc,
                format_args!(
                    "ip_family {} conflicts with the virtual server's address family",
                    f.name()
                ),
            ),
            _ => fam = Some(f),
        }
    }
    // Defaults the VS resolves itself.
    let d = &mut vs.defaults;
    d.connect_timeout.get_or_insert(DEFAULT_CONNECT_TIMEOUT);
    d.delay_loop.get_or_insert(DEFAULT_DELAY_LOOP);
    d.alpha.get_or_insert(false);
    d.inhibit_on_failure.get_or_insert(false);
    let vs_defaults = vs.defaults;
    let vs_weight = vs.weight;
    // Sorry server.
    if let Some(s) = vs.sorry.as_mut() {
        let m = *s.method.get_or_insert(vs_method);
        if !m.is_tunnel() {
            let sf = Family::of(s.addr);
            match fam {
                Some(f) if f != sf => diags.error(
                    s.loc,
                    format_args!(
                        "sorry_server {} is not of the virtual server's address family",
                        s.addr
                    ),
                ),
                _ => fam = Some(sf),
            }
        }
        match vs_port {
            None if is_fwmark && s.port != 0 => {
                diags.warning(
                    s.loc,
                    format_args!("the port of a fwmark virtual server's sorry_server is ignored"),
                );
                s.port = 0;
            }
            Some(p) if p != 0 && s.port == 0 => s.port = p,
            Some(p) if p != 0 && s.port != p && !matches!(m, Forwarding::Nat) => {
                diags.warning(
                    s.loc,
                    format_args!(
                        "sorry_server port {} differs from the virtual server's with DR/TUN: using {p}",
                        s.port
                    ),
                );
                s.port = p;
            }
            _ => {}
        }
    }
    if let Some(Granularity::V4(_)) = vs.persistence_granularity
        && fam == Some(Family::Inet6)
    {
        diags.error(
            vs.granularity_loc,
            format_args!("persistence_granularity: an IPv4 netmask on an IPv6 virtual server"),
        );
    }
    if let Some(Granularity::V6(_)) = vs.persistence_granularity
        && fam == Some(Family::Inet)
    {
        diags.error(
            vs.granularity_loc,
            format_args!(
                "persistence_granularity: a prefix length on an IPv4 virtual server (use a netmask)"
            ),
        );
    }
    // Real servers.
    let mut any = false;
    for r in 0..lvs.real_servers.len() {
        let Some(rs) = lvs.real_servers.get_mut(r) else {
            continue;
        };
        if usize::from(rs.vs) != i {
            continue;
        }
        any = true;
        let m = *rs.method.get_or_insert(vs_method);
        rs.weight.get_or_insert(vs_weight);
        let d = &mut rs.defaults;
        d.connect_timeout = d.connect_timeout.or(vs_defaults.connect_timeout);
        d.retry = d.retry.or(vs_defaults.retry);
        d.delay_before_retry = d.delay_before_retry.or(vs_defaults.delay_before_retry);
        d.warmup = d.warmup.or(vs_defaults.warmup);
        d.delay_loop = d.delay_loop.or(vs_defaults.delay_loop);
        d.alpha = d.alpha.or(vs_defaults.alpha);
        d.inhibit_on_failure = d.inhibit_on_failure.or(vs_defaults.inhibit_on_failure);
        if d.virtualhost.is_empty() {
            d.virtualhost = vs_defaults.virtualhost;
        }
        if !m.is_tunnel() {
            let rf = Family::of(rs.addr);
            match fam {
                Some(f) if f != rf => diags.error_hint(
                    rs.loc,
                    format_args!(
                        "real_server {} is not of the virtual server's address family",
                        rs.addr
                    ),
                    format_args!("only TUN forwarding may mix IPv4 and IPv6"),
                ),
                _ => fam = Some(rf),
            }
        }
        match vs_port {
            Some(p) if p != 0 && rs.port == 0 => rs.port = p,
            Some(p) if p != 0 && rs.port != p && !matches!(m, Forwarding::Nat) => {
                diags.warning(
                    rs.loc,
                    format_args!(
                        "real_server port {} differs from the virtual server's with DR/TUN: using {p}",
                        rs.port
                    ),
                );
                rs.port = p;
            }
            _ => {}
        }
        if is_fwmark && rs.port != 0 {
            diags.warning(
                rs.loc,
                format_args!(
                    "the port of a fwmark virtual server's real_server is not given to IPVS (checkers still use it)"
                ),
            );
        }
    }
    if !any && let Some(vs) = lvs.virtual_servers.get(i) {
        diags.warning(vs.loc, format_args!("virtual server has no real servers"));
    }
}

/// Real servers listed twice in one virtual server (same address and port):
/// one pass over all pairs, whatever the number of virtual servers
/// (100 virtual servers of 10 real servers each: 500,000 comparisons, not
/// 100 times that).
fn check_duplicate_rs(lvs: &LvsConfig, diags: &mut Diagnostics) {
    for (a, x) in lvs.real_servers.iter().enumerate() {
        for y in lvs.real_servers.iter().skip(a + 1) {
            if x.vs == y.vs && x.addr == y.addr && x.port == y.port {
                diags.error(
                    y.loc,
                    format_args!(
                        "real_server {} port {} is already in this virtual server (line {})",
                        y.addr, y.port, x.loc.line
                    ),
                );
            }
        }
    }
}

/// A comparable identity of a virtual server.
fn same_service(lvs: &LvsConfig, a: usize, b: usize) -> bool {
    let (Some(x), Some(y)) = (lvs.virtual_servers.get(a), lvs.virtual_servers.get(b)) else {
        return false;
    };
    match (&x.address, &y.address) {
        (VsAddress::Ip { addr: a1, port: p1 }, VsAddress::Ip { addr: a2, port: p2 }) => {
            a1 == a2 && p1 == p2 && x.protocol == y.protocol
        }
        (VsAddress::Fwmark { mark: m1 }, VsAddress::Fwmark { mark: m2 }) => {
            m1 == m2 && x.ip_family == y.ip_family
        }
        (VsAddress::Group { name: n1, .. }, VsAddress::Group { name: n2, .. }) => {
            n1 == n2 && x.protocol == y.protocol
        }
        _ => false,
    }
}

fn check_duplicate_vs(lvs: &LvsConfig, diags: &mut Diagnostics) {
    let n = lvs.virtual_servers.len();
    for b in 0..n {
        if let Some(a) = (0..b).find(|&a| same_service(lvs, a, b))
            && let (Some(x), Some(y)) = (lvs.virtual_servers.get(a), lvs.virtual_servers.get(b))
        {
            diags.error(
                y.loc,
                format_args!(
                    "duplicate virtual_server: the same service is defined at line {}",
                    x.loc.line
                ),
            );
        }
    }
}

fn resolve_checkers(lvs: &mut LvsConfig, pool: &StringPool, diags: &mut Diagnostics) {
    for c in 0..lvs.checkers.len() {
        let Some(ck) = lvs.checkers.get(c) else {
            continue;
        };
        let Some(rs) = lvs.real_servers.get(usize::from(ck.rs)).copied() else {
            continue;
        };
        let has_url = lvs.urls.iter().any(|u| usize::from(u.checker) == c);
        let Some(ck) = lvs.checkers.get_mut(c) else {
            continue;
        };
        let d = rs.defaults;
        let delay_loop = *ck
            .delay_loop
            .get_or_insert(d.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP));
        ck.warmup = ck.warmup.or(d.warmup).or(Some(delay_loop));
        ck.alpha = ck.alpha.or(d.alpha).or(Some(false));
        let (retry, dbr) = match ck.kind {
            CheckKind::Misc(_) => (0, DELAY_BEFORE_RETRY),
            CheckKind::Dns { .. } => (3, delay_loop),
            CheckKind::Http(_) => (1, HTTP_DELAY_BEFORE_RETRY),
            _ => (1, DELAY_BEFORE_RETRY),
        };
        ck.retry = ck.retry.or(d.retry).or(Some(retry));
        ck.delay_before_retry = ck.delay_before_retry.or(d.delay_before_retry).or(Some(dbr));
        let loc = ck.loc;
        let kw = ck.kind.keyword();
        if ck.kind.connects() {
            ck.connect_timeout = ck
                .connect_timeout
                .or(d.connect_timeout)
                .or(Some(DEFAULT_CONNECT_TIMEOUT));
        } else {
            ck.connect_timeout = None;
        }
        match &mut ck.kind {
            CheckKind::Http(h) => {
                if h.virtualhost.is_empty() {
                    h.virtualhost = d.virtualhost;
                }
                if !has_url {
                    diags.error_hint(
                        loc,
                        format_args!("HTTP_GET has no url"),
                        format_args!("add 'url {{ path /… }}'"),
                    );
                }
            }
            CheckKind::Misc(m) => {
                m.timeout = m.timeout.or(Some(delay_loop));
                if pool.get(m.path).trim().is_empty() {
                    diags.error_hint(
                        loc,
                        format_args!("MISC_CHECK has no misc_path"),
                        format_args!("add 'misc_path \"/path/to/script args\"'"),
                    );
                }
            }
            _ => {}
        }
        if ck.kind.needs_port() && ck.connect_port == 0 && rs.port == 0 {
            diags.error_hint(
                loc,
                format_args!("{kw} has no port to connect to"),
                format_args!("add 'connect_port N' (the real server has no port)"),
            );
        }
        let target = ck.connect_ip.unwrap_or(rs.addr);
        if let Some(b) = ck.bindto
            && target.is_ipv4() != b.is_ipv4()
        {
            diags.error(
                loc,
                format_args!("{kw}: bindto {b} and the target {target} are of different families"),
            );
        }
        if let IpAddr::V6(v6) = target
            && v6.is_unicast_link_local()
            && ck.bind_if.is_empty()
            && ck.kind.connects()
        {
            diags.error_hint(
                loc,
                format_args!("{kw}: link-local address {v6} needs bind_if"),
                format_args!("add 'bind_if IFNAME'"),
            );
        }
    }
    for u in lvs.urls.iter_mut() {
        if u.status.is_empty() {
            let mut s = StatusCodes::new();
            s.add(200, 299);
            u.status = s;
        }
    }
}

fn check_quorum(lvs: &mut LvsConfig, i: usize, diags: &mut Diagnostics) {
    let total: u64 = lvs
        .real_servers_of(i)
        .map(|(_, r)| u64::try_from(r.weight.unwrap_or(1)).unwrap_or(0))
        .sum();
    let Some(vs) = lvs.virtual_servers.get_mut(i) else {
        return;
    };
    if total > 0 && u64::from(vs.quorum) > total {
        let q = u32::try_from(total).unwrap_or(u32::MAX).max(1);
        diags.warning(
            vs.quorum_loc,
            format_args!(
                "quorum {} exceeds the total weight of the real servers: using {q}",
                vs.quorum
            ),
        );
        vs.quorum = q;
    }
    if vs.hysteresis >= vs.quorum {
        diags.error_hint(
            vs.quorum_loc,
            format_args!(
                "hysteresis {} must be less than quorum {}",
                vs.hysteresis, vs.quorum
            ),
            format_args!("use 'hysteresis {}' or less", vs.quorum.saturating_sub(1)),
        );
    }
}
