//! From the configuration to IPVS: the services a virtual server expands
//! into, the kernel's settings of each service and destination, and the
//! load-time check that the expanded table fits the board.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::Vec;

use super::{BuildError, DestSlot, Origin, ServiceSlot};
use crate::config::lvs::{
    Family, Forwarding, Granularity, LvsConfig, Protocol, RealServer, Scheduler, TunnelCsum,
    TunnelType, VirtualServer, VsAddress, VsgEntryKind,
};
use crate::config::{Config, Diagnostics, Loc};
use crate::limits::{self, IPVS_DESTINATIONS, IPVS_SERVICES};
use crate::wire::ipvs::{
    AF_INET, AF_INET6, CONN_F_DROUTE, CONN_F_MASQ, CONN_F_TUNNEL, DestRepr, IPPROTO_SCTP,
    IPPROTO_TCP, IPPROTO_UDP, Name, SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2,
    SVC_F_SCHED3, ServiceKey, ServiceRepr, TUNNEL_ENCAP_FLAG_CSUM, TUNNEL_ENCAP_FLAG_REMCSUM,
    TUNNEL_TYPE_GRE, TUNNEL_TYPE_GUE, TUNNEL_TYPE_IPIP,
};

/// Calls `f` with each service key virtual server `v` expands into, in
/// order; stops early (returning `false`) when `f` does.
fn each_key(lvs: &LvsConfig, v: usize, mut f: impl FnMut(ServiceKey) -> bool) -> bool {
    let Some(vs) = lvs.virtual_servers.get(v) else {
        return true;
    };
    let protocol = protocol_number(vs.protocol.unwrap_or(Protocol::Udp));
    let family = vs_family(lvs, v);
    match &vs.address {
        VsAddress::Ip { addr, port } => f(ServiceKey::Addr {
            protocol,
            addr: *addr,
            port: *port,
        }),
        VsAddress::Fwmark { mark } => f(ServiceKey::Fwmark {
            family,
            mark: *mark,
        }),
        VsAddress::Group { index, .. } => {
            for e in lvs.entries_of(usize::from(*index)) {
                let go_on = match e.kind {
                    VsgEntryKind::Fwmark { mark, family: fam } => f(ServiceKey::Fwmark {
                        family: fam.map_or(family, af_of),
                        mark,
                    }),
                    VsgEntryKind::Range { first, last, port } => {
                        each_address(first, last, |addr| {
                            f(ServiceKey::Addr {
                                protocol,
                                addr,
                                port,
                            })
                        })
                    }
                    VsgEntryKind::Prefix { addr, len, port } => {
                        let last = last_of_prefix(addr, len);
                        each_address(addr, last, |addr| {
                            f(ServiceKey::Addr {
                                protocol,
                                addr,
                                port,
                            })
                        })
                    }
                };
                if !go_on {
                    return false;
                }
            }
            true
        }
    }
}

/// Every address from `first` to `last` (same family), until `f` says stop.
fn each_address(first: IpAddr, last: IpAddr, mut f: impl FnMut(IpAddr) -> bool) -> bool {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            for x in u32::from(a)..=u32::from(b) {
                if !f(IpAddr::V4(Ipv4Addr::from(x))) {
                    return false;
                }
            }
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mut x = u128::from(a);
            while x <= u128::from(b) {
                if !f(IpAddr::V6(Ipv6Addr::from(x))) {
                    return false;
                }
                match x.checked_add(1) {
                    Some(n) => x = n,
                    None => break,
                }
            }
        }
        _ => {}
    }
    true
}

fn last_of_prefix(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) | host))
        }
        IpAddr::V6(a) => {
            let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) | host))
        }
    }
}

const fn af_of(f: Family) -> u16 {
    match f {
        Family::Inet => AF_INET,
        Family::Inet6 => AF_INET6,
    }
}

const fn protocol_number(p: Protocol) -> u16 {
    match p {
        Protocol::Tcp => IPPROTO_TCP,
        Protocol::Udp => IPPROTO_UDP,
        Protocol::Sctp => IPPROTO_SCTP,
    }
}

/// The family of a virtual server's services where the address does not
/// say: `ip_family`, else its first real (or sorry) server not reached by
/// a tunnel, else IPv4 (keepalived's default).
fn vs_family(lvs: &LvsConfig, v: usize) -> u16 {
    let Some(vs) = lvs.virtual_servers.get(v) else {
        return AF_INET;
    };
    if let Some(f) = vs.ip_family {
        return af_of(f);
    }
    if let VsAddress::Ip { addr, .. } = vs.address {
        return crate::wire::ipvs::family_of(addr);
    }
    let tunnel = |m: Option<Forwarding>| m.is_some_and(Forwarding::is_tunnel);
    lvs.real_servers_of(v)
        .find(|(_, r)| !tunnel(r.method))
        .map(|(_, r)| crate::wire::ipvs::family_of(r.addr))
        .or_else(|| {
            vs.sorry
                .filter(|s| !tunnel(s.method))
                .map(|s| crate::wire::ipvs::family_of(s.addr))
        })
        .unwrap_or(AF_INET)
}

/// The kernel's settings of a service of virtual server `vs` with `key`.
pub(super) fn service_repr(vs: &VirtualServer, key: ServiceKey) -> ServiceRepr {
    let family = key.family();
    let mut flags = 0;
    let (mut timeout, mut netmask) = (0, ServiceRepr::default_netmask(family));
    if vs.persistence_timeout != 0 {
        flags |= SVC_F_PERSISTENT;
        timeout = vs.persistence_timeout;
        netmask = match vs.persistence_granularity {
            Some(Granularity::V4(m)) => u32::from(m),
            Some(Granularity::V6(len)) => u32::from(len),
            None => netmask,
        };
    }
    if vs.ops {
        flags |= SVC_F_ONEPACKET;
    }
    if vs.flags.flag1 {
        flags |= SVC_F_SCHED1;
    }
    if vs.flags.flag2 {
        flags |= SVC_F_SCHED2;
    }
    if vs.flags.flag3 {
        flags |= SVC_F_SCHED3;
    }
    let sched = vs.sched.unwrap_or(Scheduler::Wlc).name();
    ServiceRepr {
        key,
        scheduler: Name::new(sched.as_bytes()).unwrap_or(Name::EMPTY),
        pe_name: if vs.persistence_engine_sip {
            Name::new(b"sip").unwrap_or(Name::EMPTY)
        } else {
            Name::EMPTY
        },
        flags,
        timeout,
        netmask,
    }
}

/// The kernel's settings of a destination `addr`/`port` with `method` in
/// the service `key` (keepalived: a fwmark service's destinations have
/// port 0; with DR and TUN the port is the service's).
pub(super) fn dest_repr(
    key: ServiceKey,
    addr: IpAddr,
    port: u16,
    method: Forwarding,
    weight: i32,
) -> DestRepr {
    let port = match key {
        ServiceKey::Fwmark { .. } => 0,
        ServiceKey::Addr { port: p, .. } if !matches!(method, Forwarding::Nat) || port == 0 => p,
        ServiceKey::Addr { .. } => port,
    };
    let mut d = DestRepr::new(addr, port, CONN_F_MASQ, weight);
    match method {
        Forwarding::Nat => {}
        Forwarding::Dr => d.forward = CONN_F_DROUTE,
        Forwarding::Tun { kind, csum } => {
            d.forward = CONN_F_TUNNEL;
            (d.tunnel_type, d.tunnel_port) = match kind {
                TunnelType::Ipip => (TUNNEL_TYPE_IPIP, 0),
                TunnelType::Gue { port } => (TUNNEL_TYPE_GUE, port),
                TunnelType::Gre => (TUNNEL_TYPE_GRE, 0),
            };
            d.tunnel_flags = match csum {
                TunnelCsum::NoCsum => 0,
                TunnelCsum::Csum => TUNNEL_ENCAP_FLAG_CSUM,
                TunnelCsum::RemCsum => TUNNEL_ENCAP_FLAG_REMCSUM,
            };
        }
    }
    d
}

fn rs_dest(key: ServiceKey, rs: &RealServer, vs: &VirtualServer) -> DestRepr {
    let method = rs.method.or(vs.method).unwrap_or(Forwarding::Nat);
    let mut d = dest_repr(key, rs.addr, rs.port, method, rs.weight.unwrap_or(1));
    d.upper_threshold = rs.uthreshold;
    d.lower_threshold = rs.lthreshold;
    d
}

/// Fills the slots of `cfg` (see the module doc of [`super`]).
pub(super) fn universe(
    cfg: &Config,
    services: &mut Vec<ServiceSlot, IPVS_SERVICES>,
    dests: &mut Vec<DestSlot, IPVS_DESTINATIONS>,
) -> Result<(), BuildError> {
    let lvs = &cfg.lvs;
    for (v, vs) in lvs.virtual_servers.iter().enumerate() {
        let v16 = u16::try_from(v).unwrap_or(u16::MAX);
        let mut err = None;
        each_key(lvs, v, |key| {
            if services.iter().any(|s| s.repr.key == key) {
                err = Some(BuildError::DuplicateService(v16));
                return false;
            }
            let index = u16::try_from(services.len()).unwrap_or(u16::MAX);
            let slot = ServiceSlot {
                vs: v16,
                repr: service_repr(vs, key),
                desired: true,
                kernel: None,
            };
            if services.push(slot).is_err() {
                err = Some(BuildError::TooManyServices(v16));
                return false;
            }
            for (r, rs) in lvs.real_servers_of(v) {
                let slot = DestSlot {
                    service: index,
                    origin: Origin::RealServer(u16::try_from(r).unwrap_or(u16::MAX)),
                    base: rs_dest(key, rs, vs),
                    desired: None,
                    kernel: None,
                };
                if dests.push(slot).is_err() {
                    err = Some(BuildError::TooManyDestinations(v16));
                    return false;
                }
            }
            if let Some(s) = vs.sorry {
                let method = s.method.or(vs.method).unwrap_or(Forwarding::Nat);
                let slot = DestSlot {
                    service: index,
                    origin: Origin::Sorry(v16),
                    base: dest_repr(key, s.addr, s.port, method, 1),
                    desired: None,
                    kernel: None,
                };
                if dests.push(slot).is_err() {
                    err = Some(BuildError::TooManyDestinations(v16));
                    return false;
                }
            }
            true
        });
        if let Some(e) = err {
            return Err(e);
        }
    }
    Ok(())
}

/// Checks at load time that the configuration's IPVS table fits the board
/// (`ipvs_services`, `ipvs_destinations`) and that no two virtual servers
/// give the same service; errors point at the virtual server.
pub fn check_config(cfg: &Config, diags: &mut Diagnostics) {
    let lvs = &cfg.lvs;
    let mut keys: Vec<ServiceKey, IPVS_SERVICES> = Vec::new();
    let mut dests = 0usize;
    for (v, vs) in lvs.virtual_servers.iter().enumerate() {
        let per_service = lvs.real_servers_of(v).count() + usize::from(vs.sorry.is_some());
        let mut problem: Option<(&str, Option<ServiceKey>)> = None;
        each_key(lvs, v, |key| {
            if keys.contains(&key) {
                problem = Some(("duplicate", Some(key)));
                return false;
            }
            if keys.push(key).is_err() {
                problem = Some(("ipvs_services", None));
                return false;
            }
            dests += per_service;
            if dests > IPVS_DESTINATIONS {
                problem = Some(("ipvs_destinations", None));
                return false;
            }
            true
        });
        match problem {
            Some(("duplicate", Some(key))) => diags.error_hint(
                vs.loc,
                format_args!("IPVS service {key} is already given by another virtual server"),
                format_args!("remove one of them, or the address from the virtual_server_group"),
            ),
            Some((limit, _)) => capacity(diags, vs.loc, limit),
            None => {}
        }
        if problem.is_some() {
            return;
        }
    }
}

fn capacity(diags: &mut Diagnostics, loc: Loc, limit: &str) {
    let value = limits::by_name(limit).map_or(0, |l| l.value);
    diags.error_hint(
        loc,
        format_args!(
            "the IPVS table is too large: limit `{limit}` = {value} on board `{}`",
            limits::BOARD
        ),
        format_args!(
            "raise `{limit}` in board/{}/board.conf and rebuild, or use a larger board",
            limits::BOARD
        ),
    );
}
