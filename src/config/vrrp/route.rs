//! `virtual_routes { }` of an instance (reference §b.2 "Routes"): routes
//! added when the instance becomes MASTER and removed when it leaves it.
//!
//! One route per line, `ip route` words without abbreviations, in any order:
//!
//! ```text
//! [blackhole|unreachable|prohibit|throw|unicast] [to] DEST[/LEN]|default
//!     [src ADDR] [via|gw ADDR] [dev|oif IF] [metric|priority N]
//!     [table N|main|local|default] [scope host|link|global|site|nowhere|N]
//!     [protocol|proto N|boot|static|kernel|keepalived] [onlink] [no_track]
//! ```
//!
//! The forms keepalived also accepts but picket does not run (multipath
//! `nexthop`/`or`, `tos`, `realms`, route metrics such as `mtu`, `encap`,
//! `vrf`, `append`, other route types) are configuration errors naming the
//! word. `no_track` is accepted (picket does not watch routes it did not
//! add).

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::String;

use super::super::parser::Parser;
use super::super::value;
use super::super::{Loc, Statement};
use crate::limits::IFNAME_BYTES;

/// What the kernel does with packets matching a route (`rtm_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteType {
    /// Forwarded (`RTN_UNICAST`, the default).
    #[default]
    Unicast,
    /// Silently dropped (`RTN_BLACKHOLE`).
    Blackhole,
    /// Dropped, ICMP unreachable (`RTN_UNREACHABLE`).
    Unreachable,
    /// Dropped, ICMP prohibited (`RTN_PROHIBIT`).
    Prohibit,
    /// Lookup continues in the next rule (`RTN_THROW`).
    Throw,
}

impl RouteType {
    const ALL: [(&'static str, RouteType); 5] = [
        ("unicast", RouteType::Unicast),
        ("blackhole", RouteType::Blackhole),
        ("unreachable", RouteType::Unreachable),
        ("prohibit", RouteType::Prohibit),
        ("throw", RouteType::Throw),
    ];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("unicast", |(n, _)| n)
    }

    /// The rtnetlink value (`RTN_*`).
    pub const fn rtn(self) -> u8 {
        match self {
            RouteType::Unicast => 1,
            RouteType::Blackhole => 6,
            RouteType::Unreachable => 7,
            RouteType::Prohibit => 8,
            RouteType::Throw => 9,
        }
    }
}

/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;
/// keepalived's routing protocol number (`RTPROT_KEEPALIVED`).
pub const RTPROT_KEEPALIVED: u8 = 18;

/// One route of `virtual_routes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualRoute {
    /// What matches.
    pub kind: RouteType,
    /// Destination.
    pub dst: IpAddr,
    /// Its prefix length.
    pub dst_len: u8,
    /// `src`: the preferred source address.
    pub src: Option<IpAddr>,
    /// `via`/`gw`: the gateway.
    pub via: Option<IpAddr>,
    /// `dev`/`oif`; empty = none.
    pub dev: String<IFNAME_BYTES>,
    /// `metric`/`priority`.
    pub metric: Option<u32>,
    /// `table` (the main table unless given).
    pub table: u32,
    /// `scope` (`RT_SCOPE_*`); `None`: as `ip route` chooses.
    pub scope: Option<u8>,
    /// `protocol` (keepalived's 18 unless given).
    pub protocol: u8,
    /// `onlink`: the gateway is on the link even if no prefix says so.
    pub onlink: bool,
    /// `no_track`.
    pub no_track: bool,
    /// Where the line is.
    pub loc: Loc,
}

impl VirtualRoute {
    /// A unicast route to `dst/dst_len` in the main table.
    pub fn new(dst: IpAddr, dst_len: u8, loc: Loc) -> Self {
        VirtualRoute {
            kind: RouteType::Unicast,
            dst,
            dst_len,
            src: None,
            via: None,
            dev: String::new(),
            metric: None,
            table: RT_TABLE_MAIN,
            scope: None,
            protocol: RTPROT_KEEPALIVED,
            onlink: false,
            no_track: false,
            loc,
        }
    }

    /// The scope to add the route with: the given one, else `ip route`'s
    /// choice — link for a unicast route with no gateway, universe (0)
    /// otherwise.
    pub fn effective_scope(&self) -> u8 {
        match (self.scope, self.kind, self.via) {
            (Some(s), _, _) => s,
            (None, RouteType::Unicast, None) => 253,
            _ => 0,
        }
    }
}

impl fmt::Display for VirtualRoute {
    /// The route in the configuration's syntax (also `ip route` syntax).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != RouteType::Unicast {
            write!(f, "{} ", self.kind.as_str())?;
        }
        write!(f, "{}/{}", self.dst, self.dst_len)?;
        if let Some(s) = self.src {
            write!(f, " src {s}")?;
        }
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if !self.dev.is_empty() {
            write!(f, " dev {}", self.dev)?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if self.table != RT_TABLE_MAIN {
            write!(f, " table {}", self.table)?;
        }
        if let Some(s) = self.scope {
            write!(f, " scope {s}")?;
        }
        if self.protocol != RTPROT_KEEPALIVED {
            write!(f, " protocol {}", self.protocol)?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        if self.no_track {
            f.write_str(" no_track")?;
        }
        Ok(())
    }
}

/// Words of `ip route` that picket does not run, and why.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("nexthop", "multipath routes are not implemented"),
    ("or", "multipath routes are not implemented"),
    ("tos", "routes by TOS are not implemented"),
    ("dsfield", "routes by TOS are not implemented"),
    ("realms", "route realms are not implemented"),
    ("encap", "route encapsulation is not implemented"),
    ("vrf", "VRFs are not implemented"),
    ("append", "appended routes are not implemented"),
    (
        "inet6",
        "the family comes from the addresses; remove 'inet6'",
    ),
    ("local", "local routes are not implemented"),
    ("broadcast", "broadcast routes are not implemented"),
    ("multicast", "multicast routes are not implemented"),
    ("anycast", "anycast routes are not implemented"),
    ("nat", "NAT routes are not implemented"),
    ("mtu", "route metrics are not implemented"),
    ("advmss", "route metrics are not implemented"),
    ("rtt", "route metrics are not implemented"),
    ("rttvar", "route metrics are not implemented"),
    ("reordering", "route metrics are not implemented"),
    ("window", "route metrics are not implemented"),
    ("cwnd", "route metrics are not implemented"),
    ("ssthresh", "route metrics are not implemented"),
    ("rto_min", "route metrics are not implemented"),
    ("initcwnd", "route metrics are not implemented"),
    ("initrwnd", "route metrics are not implemented"),
    ("hoplimit", "route metrics are not implemented"),
    ("features", "route metrics are not implemented"),
    ("quickack", "route metrics are not implemented"),
    ("congctl", "route metrics are not implemented"),
    ("pref", "route preferences are not implemented"),
    ("expires", "expiring routes are not implemented"),
    ("fastopen_no_cookie", "route metrics are not implemented"),
    ("track_group", "track groups are not implemented"),
];

/// The words picket knows, for "did you mean".
const KNOWN: &[&str] = &[
    "to",
    "default",
    "src",
    "via",
    "gw",
    "dev",
    "oif",
    "metric",
    "priority",
    "table",
    "scope",
    "protocol",
    "proto",
    "onlink",
    "no_track",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "unicast",
];

/// `table` names of `/etc/iproute2/rt_tables` that are fixed.
fn table_number(s: &str) -> Option<u32> {
    match s {
        "main" => Some(RT_TABLE_MAIN),
        "local" => Some(255),
        "default" => Some(253),
        _ => value::parse_int(s, 1, i64::from(u32::MAX))
            .ok()
            .map(|v| v as u32),
    }
}

fn scope_number(s: &str) -> Option<u8> {
    match s {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => value::parse_int(s, 0, 255).ok().map(|v| v as u8),
    }
}

fn protocol_number(s: &str) -> Option<u8> {
    match s {
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "keepalived" => Some(RTPROT_KEEPALIVED),
        _ => value::parse_int(s, 0, 255).ok().map(|v| v as u8),
    }
}

/// The destination word: `ADDR[/LEN]`, or `default` (the family is fixed
/// later from the other addresses; IPv4 unless one is IPv6).
fn destination(w: &str) -> Option<(IpAddr, u8, bool)> {
    if w == "default" {
        return Some((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, true));
    }
    value::parse_prefix(w).ok().map(|(a, l)| (a, l, false))
}

/// Parses one line of `virtual_routes`. Reports and returns `None` on any
/// error.
pub fn parse_route(p: &mut Parser<'_>, st: &Statement) -> Option<VirtualRoute> {
    if !p.no_block(st) {
        return None;
    }
    let mut r = VirtualRoute::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, st.loc);
    let mut dst: Option<(IpAddr, u8, bool)> = None;
    let mut kind_seen = false;
    let mut i = 0;
    // Words of the line, keyword included (a line may start with any).
    while let Some(w) = st.word(i) {
        let here = st.loc_of(i);
        let value = |p: &mut Parser<'_>, what: &str| -> Option<&str> {
            let v = st.word(i + 1);
            if v.is_none() {
                p.error(here, format_args!("virtual_routes: '{w}' needs {what}"));
            }
            v
        };
        let bad = |p: &mut Parser<'_>, v: &str, what: &str| {
            p.error(
                st.loc_of(i + 1),
                format_args!("virtual_routes: '{w} {v}': expected {what}"),
            );
        };
        match w {
            "src" | "via" | "gw" => {
                let v = value(p, "an address")?;
                let Ok(a) = value::parse_ip(v) else {
                    bad(p, v, "an IP address");
                    return None;
                };
                if w == "src" {
                    r.src = Some(a);
                } else {
                    r.via = Some(a);
                }
                i += 2;
            }
            "dev" | "oif" => {
                let v = value(p, "an interface")?;
                if v.is_empty() || r.dev.push_str(v).is_err() || v.len() >= IFNAME_BYTES {
                    bad(p, v, "an interface name (at most 15 bytes)");
                    return None;
                }
                i += 2;
            }
            "metric" | "priority" => {
                let v = value(p, "a number")?;
                match value::parse_int(v, 0, i64::from(u32::MAX)) {
                    Ok(m) => r.metric = Some(m as u32),
                    Err(_) => {
                        bad(p, v, "a number");
                        return None;
                    }
                }
                i += 2;
            }
            "table" => {
                let v = value(p, "a table")?;
                let Some(t) = table_number(v) else {
                    bad(p, v, "a table number, or main, local, default");
                    return None;
                };
                r.table = t;
                i += 2;
            }
            "scope" => {
                let v = value(p, "a scope")?;
                let Some(s) = scope_number(v) else {
                    bad(p, v, "host, link, global, site, nowhere or a number");
                    return None;
                };
                r.scope = Some(s);
                i += 2;
            }
            "protocol" | "proto" => {
                let v = value(p, "a protocol")?;
                let Some(n) = protocol_number(v) else {
                    bad(
                        p,
                        v,
                        "a protocol number, or kernel, boot, static, keepalived",
                    );
                    return None;
                };
                r.protocol = n;
                i += 2;
            }
            "onlink" => {
                r.onlink = true;
                i += 1;
            }
            "no_track" => {
                r.no_track = true;
                i += 1;
            }
            "to" => {
                let v = value(p, "a destination")?;
                let Some(d) = destination(v) else {
                    bad(p, v, "a destination ADDR[/LEN] or default");
                    return None;
                };
                dst = Some(d);
                i += 2;
            }
            _ => {
                if let Some((_, t)) = RouteType::ALL.iter().find(|(n, _)| *n == w) {
                    if kind_seen {
                        p.error(
                            here,
                            format_args!("virtual_routes: a second route type '{w}'"),
                        );
                        return None;
                    }
                    kind_seen = true;
                    r.kind = *t;
                    i += 1;
                    continue;
                }
                if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| *n == w) {
                    p.error_hint(
                        here,
                        format_args!("virtual_routes: '{w}' is not supported by picket"),
                        format_args!("{why}; add such a route from a notify_master script"),
                    );
                    return None;
                }
                match (destination(w), dst) {
                    (Some(d), None) => dst = Some(d),
                    (Some(_), Some(_)) => {
                        p.error(
                            here,
                            format_args!("virtual_routes: a second destination '{w}'"),
                        );
                        return None;
                    }
                    (None, _) => {
                        match super::super::parser::closest(w, KNOWN) {
                            Some(k) => p.error_hint(
                                here,
                                format_args!("virtual_routes: unknown word '{w}'"),
                                format_args!("did you mean '{k}'?"),
                            ),
                            None => p.error_hint(
                                here,
                                format_args!("virtual_routes: unknown word '{w}'"),
                                format_args!(
                                    "write '[TYPE] DEST[/LEN] [src A] [via A] [dev IF] [metric N] [table N] [scope S]'"
                                ),
                            ),
                        }
                        return None;
                    }
                }
                i += 1;
            }
        }
    }
    let Some((addr, len, default)) = dst else {
        p.error_hint(
            st.loc,
            format_args!("virtual_routes: a route without a destination"),
            format_args!("give DEST[/LEN] or 'default'"),
        );
        return None;
    };
    let v6 = [r.src, r.via].iter().flatten().any(IpAddr::is_ipv6);
    (r.dst, r.dst_len) = if default && v6 {
        (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
    } else {
        (addr, len)
    };
    let family_ok = |a: Option<IpAddr>| a.is_none_or(|a| a.is_ipv6() == r.dst.is_ipv6());
    if !family_ok(r.src) || !family_ok(r.via) {
        p.error(
            st.loc,
            format_args!("virtual_routes: '{r}' mixes IPv4 and IPv6 addresses"),
        );
        return None;
    }
    if r.kind != RouteType::Unicast && (r.via.is_some() || !r.dev.is_empty()) {
        p.error(
            st.loc,
            format_args!(
                "virtual_routes: a {} route has no gateway or device",
                r.kind.as_str()
            ),
        );
        return None;
    }
    Some(r)
}
