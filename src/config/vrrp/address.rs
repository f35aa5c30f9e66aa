//! The address syntax shared by `static_ipaddress`, `virtual_ipaddress` and
//! `virtual_ipaddress_excluded` (§b.2):
//!
//! `IP[/LEN] [brd IP|+|-] [dev IF] [scope site|link|host|nowhere|global]
//! [label L] [peer IP] [home] [-nodad] [mngtmpaddr] [noprefixroute]
//! [autojoin] [use_vmac] [no_track] [preferred_lft N|forever]`
//!
//! `use_vmac` is accepted on VIPs only, `no_track` on VIPs and eVIPs,
//! `track_group` (static addresses) is unsupported.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr};

use heapless::String;

use super::super::dump::Word;
use super::super::parser::{Parser, closest};
use super::super::value;
use super::super::{Config, Loc, Statement};
use crate::limits::IFNAME_BYTES;

/// Which table an address line belongs to (decides the options allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrKind {
    /// `static_ipaddress`.
    Static,
    /// `virtual_ipaddress`.
    Vip,
    /// `virtual_ipaddress_excluded`.
    Evip,
}

impl AddrKind {
    /// The block name.
    pub const fn section(self) -> &'static str {
        match self {
            AddrKind::Static => "static_ipaddress",
            AddrKind::Vip => "virtual_ipaddress",
            AddrKind::Evip => "virtual_ipaddress_excluded",
        }
    }
}

/// `brd` of an IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// `brd IP`.
    Addr(Ipv4Addr),
    /// `brd +`: host bits set.
    Set,
    /// `brd -`: host bits clear.
    Clear,
}

/// `scope` of an address (rtnetlink `RT_SCOPE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// `global` (0, the default).
    #[default]
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
}

impl Scope {
    const NAMES: [&'static str; 5] = ["global", "site", "link", "host", "nowhere"];
    const ALL: [Scope; 5] = [
        Scope::Global,
        Scope::Site,
        Scope::Link,
        Scope::Host,
        Scope::Nowhere,
    ];

    /// The keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Site => "site",
            Scope::Link => "link",
            Scope::Host => "host",
            Scope::Nowhere => "nowhere",
        }
    }

    /// The rtnetlink value.
    pub const fn rt_scope(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
        }
    }
}

/// `preferred_lft forever`.
pub const LFT_FOREVER: u32 = u32::MAX;

/// Bytes of an address label (the kernel's `IFNAMSIZ` less the NUL).
pub const LABEL_BYTES: usize = IFNAME_BYTES;

/// One address: a static address, a VIP or an eVIP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VipSpec {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (default /32 or /128).
    pub prefix_len: u8,
    /// `brd` (IPv4 only).
    pub brd: Option<Broadcast>,
    /// `dev`: the interface; empty in the parse, resolved by `finish` (the
    /// instance's interface for VIPs, `default_interface` for static ones).
    pub dev: String<IFNAME_BYTES>,
    /// `scope`.
    pub scope: Scope,
    /// `label` (IPv4 only, at most 15 bytes); empty = none.
    pub label: String<LABEL_BYTES>,
    /// `peer` address (point-to-point).
    pub peer: Option<IpAddr>,
    /// `home` (IPv6 mobility home address).
    pub home: bool,
    /// `-nodad`: keep duplicate address detection (IPv6). keepalived adds
    /// every IPv6 VIP with `IFA_F_NODAD` unless this is given.
    pub nodad: bool,
    /// `mngtmpaddr` (IPv6 temporary addresses).
    pub mngtmpaddr: bool,
    /// `noprefixroute`: no prefix route for the address.
    pub noprefixroute: bool,
    /// `autojoin` (multicast addresses).
    pub autojoin: bool,
    /// `use_vmac`: put this VIP on a VMAC (VIPs only).
    pub use_vmac: bool,
    /// `no_track`: deleting it does not make the instance leave MASTER.
    pub no_track: bool,
    /// `preferred_lft` in seconds ([`LFT_FOREVER`] = forever); resolved by
    /// `finish` for IPv6 (0 for /128, forever otherwise), `None` = kernel
    /// default for IPv4.
    pub preferred_lft: Option<u32>,
    /// Where the line is.
    pub loc: Loc,
}

/// Options of the address syntax, for "did you mean".
const OPTIONS: &[&str] = &[
    "brd",
    "dev",
    "scope",
    "label",
    "peer",
    "home",
    "-nodad",
    "mngtmpaddr",
    "noprefixroute",
    "autojoin",
    "use_vmac",
    "no_track",
    "preferred_lft",
    "track_group",
];

/// The value after option word `i` (`dev eth0`), or an error.
fn value_after<'s>(p: &mut Parser<'_>, st: &'s Statement, i: usize) -> Option<&'s str> {
    let v = st.word(i + 1);
    if v.is_none() {
        p.error(
            st.arg_loc(i),
            format_args!("'{}' needs a value", st.word(i).unwrap_or("")),
        );
    }
    v
}

/// Parses one address line (all of `st`'s words). Reports every problem and
/// returns `None` if there was one.
pub fn parse_address(p: &mut Parser<'_>, st: &Statement, kind: AddrKind) -> Option<VipSpec> {
    if !p.no_block(st) {
        return None;
    }
    let first = st.keyword();
    let (addr, prefix_len) = match value::parse_prefix(first) {
        Ok(v) => v,
        Err(e) => {
            p.error(st.loc, format_args!("invalid address '{first}': {e}"));
            return None;
        }
    };
    let mut a = VipSpec {
        addr,
        prefix_len,
        brd: None,
        dev: String::new(),
        scope: Scope::Global,
        label: String::new(),
        peer: None,
        home: false,
        nodad: false,
        mngtmpaddr: false,
        noprefixroute: false,
        autojoin: false,
        use_vmac: false,
        no_track: false,
        preferred_lft: None,
        loc: st.loc,
    };
    let v6 = addr.is_ipv6();
    let mut ok = true;
    let mut i = 1;
    while let Some(w) = st.word(i) {
        let wloc = st.loc_of(i);
        let mut takes_value = true;
        match w {
            "brd" | "broadcast" => {
                let v = value_after(p, st, i)?;
                if v6 {
                    p.error(wloc, format_args!("'brd' is for IPv4 addresses only"));
                    ok = false;
                } else {
                    a.brd = match v {
                        "+" => Some(Broadcast::Set),
                        "-" => Some(Broadcast::Clear),
                        _ => match value::parse_ipv4(v) {
                            Ok(b) => Some(Broadcast::Addr(b)),
                            Err(_) => {
                                p.error(
                                    st.loc_of(i + 1),
                                    format_args!("'brd': invalid value '{v}': expected an IPv4 address, '+' or '-'"),
                                );
                                ok = false;
                                None
                            }
                        },
                    };
                }
            }
            "dev" => {
                let v = value_after(p, st, i)?;
                if v.is_empty() || v.len() >= IFNAME_BYTES || v.contains('/') {
                    p.error(
                        st.loc_of(i + 1),
                        format_args!(
                            "'dev': invalid interface name '{v}' (1 to {} bytes)",
                            IFNAME_BYTES - 1
                        ),
                    );
                    ok = false;
                } else {
                    a.dev.clear();
                    let _ = a.dev.push_str(v);
                }
            }
            "scope" => {
                let v = value_after(p, st, i)?;
                match Scope::NAMES.iter().position(|n| *n == v) {
                    Some(k) => a.scope = Scope::ALL[k],
                    None => {
                        p.error(
                            st.loc_of(i + 1),
                            format_args!("'scope': invalid value '{v}': expected one of global, site, link, host, nowhere"),
                        );
                        ok = false;
                    }
                }
            }
            "label" => {
                let v = value_after(p, st, i)?;
                if v6 {
                    p.error_hint(
                        wloc,
                        format_args!("a label is not allowed on an IPv6 address"),
                        format_args!("remove 'label {v}'"),
                    );
                    ok = false;
                } else if v.is_empty() || v.len() >= LABEL_BYTES {
                    p.error(
                        st.loc_of(i + 1),
                        format_args!(
                            "'label': '{v}' is too long (at most {} bytes)",
                            LABEL_BYTES - 1
                        ),
                    );
                    ok = false;
                } else {
                    a.label.clear();
                    let _ = a.label.push_str(v);
                }
            }
            "peer" => {
                let v = value_after(p, st, i)?;
                let addr_part = v.split_once('/').map_or(v, |(x, _)| x);
                match value::parse_ip(addr_part) {
                    Ok(ip) if ip.is_ipv6() == v6 => a.peer = Some(ip),
                    Ok(_) => {
                        p.error(
                            st.loc_of(i + 1),
                            format_args!("'peer': '{v}' is not of the address's family"),
                        );
                        ok = false;
                    }
                    Err(e) => {
                        p.error(
                            st.loc_of(i + 1),
                            format_args!("'peer': invalid value '{v}': {e}"),
                        );
                        ok = false;
                    }
                }
            }
            "preferred_lft" => {
                let v = value_after(p, st, i)?;
                if v == "forever" {
                    a.preferred_lft = Some(LFT_FOREVER);
                } else {
                    match value::parse_int(v, 0, i64::from(LFT_FOREVER - 1)) {
                        Ok(n) => a.preferred_lft = Some(n as u32),
                        Err(e) => {
                            p.error(
                                st.loc_of(i + 1),
                                format_args!(
                                    "'preferred_lft': invalid value '{v}': {e} or 'forever'"
                                ),
                            );
                            ok = false;
                        }
                    }
                }
            }
            "home" => {
                a.home = true;
                takes_value = false;
            }
            "-nodad" => {
                a.nodad = true;
                takes_value = false;
            }
            "mngtmpaddr" => {
                a.mngtmpaddr = true;
                takes_value = false;
            }
            "noprefixroute" => {
                a.noprefixroute = true;
                takes_value = false;
            }
            "autojoin" => {
                a.autojoin = true;
                takes_value = false;
            }
            "use_vmac" if kind == AddrKind::Vip => {
                a.use_vmac = true;
                takes_value = false;
            }
            "no_track" if kind != AddrKind::Static => {
                a.no_track = true;
                takes_value = false;
            }
            "track_group" if kind == AddrKind::Static => {
                p.error_hint(
                    wloc,
                    format_args!("'track_group' is not supported by picket"),
                    format_args!("track groups are not implemented yet"),
                );
                return None;
            }
            _ if OPTIONS.contains(&w) => {
                p.error(
                    wloc,
                    format_args!("'{w}' is not allowed in {}", kind.section()),
                );
                return None;
            }
            _ => {
                match closest(w, OPTIONS) {
                    Some(k) => p.error_hint(
                        wloc,
                        format_args!("unknown address option '{w}'"),
                        format_args!("did you mean '{k}'?"),
                    ),
                    None => p.error(wloc, format_args!("unknown address option '{w}'")),
                }
                return None;
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    ok.then_some(a)
}

/// Parses a `static_ipaddress { ... }` block.
pub fn parse_static(p: &mut Parser<'_>, head: &Statement, cfg: &mut Config) {
    if head.arg_count() > 0 {
        p.error(
            head.arg_loc(0),
            format_args!("'static_ipaddress' takes no name"),
        );
    }
    if !p.open(head) {
        return;
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if let Some(a) = parse_address(p, &st, AddrKind::Static)
            && cfg.vrrp.static_addresses.push(a).is_err()
        {
            p.capacity(st.loc, "static_addresses");
        }
    }
}

/// Writes one address line, normalised: `ADDR/LEN` and every option set.
pub fn write_address(f: &mut dyn fmt::Write, a: &VipSpec) -> fmt::Result {
    write!(f, "{}/{}", a.addr, a.prefix_len)?;
    match a.brd {
        Some(Broadcast::Addr(b)) => write!(f, " brd {b}")?,
        Some(Broadcast::Set) => f.write_str(" brd +")?,
        Some(Broadcast::Clear) => f.write_str(" brd -")?,
        None => {}
    }
    if !a.dev.is_empty() {
        write!(f, " dev {}", Word(&a.dev))?;
    }
    write!(f, " scope {}", a.scope.as_str())?;
    if !a.label.is_empty() {
        write!(f, " label {}", Word(&a.label))?;
    }
    if let Some(peer) = a.peer {
        write!(f, " peer {peer}")?;
    }
    for (on, w) in [
        (a.home, "home"),
        (a.nodad, "-nodad"),
        (a.mngtmpaddr, "mngtmpaddr"),
        (a.noprefixroute, "noprefixroute"),
        (a.autojoin, "autojoin"),
        (a.use_vmac, "use_vmac"),
        (a.no_track, "no_track"),
    ] {
        if on {
            write!(f, " {w}")?;
        }
    }
    match a.preferred_lft {
        Some(LFT_FOREVER) => f.write_str(" preferred_lft forever")?,
        Some(n) => write!(f, " preferred_lft {n}")?,
        None => {}
    }
    Ok(())
}
