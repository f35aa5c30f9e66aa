//! The LVS sections: `virtual_server_group`, `virtual_server`, its
//! `real_server`s and their checkers (keepalived.conf(5) "LVS
//! CONFIGURATION"; reference §b.7–§b.9).
//!
//! # Model
//!
//! Flat, fixed tables whose rows refer to their parent by index, so memory is
//! bounded by the board's limits whatever the nesting:
//!
//! | table | limit | parent |
//! |---|---|---|
//! | [`LvsConfig::groups`] | `virtual_server_groups` | – |
//! | [`LvsConfig::group_entries`] | `virtual_server_group_entries` | [`VsgEntry::group`] |
//! | [`LvsConfig::virtual_servers`] | `virtual_servers` | – ([`VsAddress::Group`] names a group) |
//! | [`LvsConfig::real_servers`] | `real_servers` | [`RealServer::vs`] |
//! | [`LvsConfig::checkers`] | `checkers` | [`Checker::rs`] |
//! | [`LvsConfig::urls`] | `http_urls` | [`HttpUrl::checker`] |
//!
//! Rows of one parent are contiguous and in file order. After [`finish`]
//! every inherited value is resolved (VS → RS → checker) and the `Option`s
//! documented as "resolved" are `Some`.
//!
//! # Keyword policy
//!
//! **Implemented** (typed, keepalived's ranges and defaults):
//! - `virtual_server_group`: `IP [PORT]`, `A.B.C.D-E [PORT]` (or a full end
//!   address differing in the last octet/hextet), `CIDR [PORT]`,
//!   `fwmark N [inet|inet6]`.
//! - `virtual_server`: `lvs_sched`/`lb_algo`, `flag-1..3`, `sh-port`,
//!   `sh-fallback`, `mh-port`, `mh-fallback`, `ops`, `lvs_method`/`lb_kind`
//!   (with tunnel options), `persistence_timeout`, `persistence_granularity`,
//!   `persistence_engine`, `protocol`, `ip_family`, `ha_suspend`, `alpha`,
//!   `omega`, `quorum`, `hysteresis`, `quorum_up`, `quorum_down`,
//!   `sorry_server`, `sorry_server_inhibit`, `sorry_server_lvs_method`,
//!   `virtualhost`, `weight`, `connect_timeout`, `retry`,
//!   `delay_before_retry`, `warmup`, `delay_loop`, `inhibit_on_failure`.
//! - `real_server`: `weight`, `lvs_method`/`lb_kind`, `notify_up`,
//!   `notify_down`, `uthreshold`, `lthreshold`, `inhibit_on_failure`, `alpha`,
//!   `retry`, `delay_before_retry`, `warmup`, `delay_loop`, `connect_timeout`,
//!   `virtualhost`.
//! - checkers `TCP_CHECK`, `HTTP_GET` (`url { path digest status_code
//!   virtualhost }`, `http_protocol`, `virtualhost`, `fast_recovery`,
//!   `nb_get_retry`), `SMTP_CHECK` (`helo_name`), `DNS_CHECK` (`type`,
//!   `name`), `MISC_CHECK` (`misc_path`, `misc_timeout`, `misc_dynamic`,
//!   `user`), `UDP_CHECK` (`payload`, `require_reply`, `min_reply_length`,
//!   `max_reply_length`), `PING_CHECK`; common keywords `connect_ip`,
//!   `connect_port`, `bindto`, `bind_if`, `bind_port`, `connect_timeout`,
//!   `fwmark`, `retry`, `delay_before_retry`, `warmup`, `delay_loop`, `alpha`,
//!   `log_all_failures` (MISC_CHECK: only the last six).
//!
//! **Unsupported** (error): `SSL_GET`, `FILE_CHECK`, `BFD_CHECK`, `url`
//! `regex`, `regex_no_match`, `regex_options`, `regex_stack`,
//! `regex_min_offset`, `regex_max_offset`, `SMTP_CHECK` `host { }`,
//! `enable_sni`, `sni_name`, `tls_compliant` (see [`UNSUPPORTED`]).
//!
//! **Ignored** (warning): `smtp_alert`, `snmp_name` (VS and RS), `hashed`
//! (see [`IGNORED`]).

mod check;
mod resolve;
#[cfg(test)]
mod tests;

use core::fmt;
use core::net::IpAddr;

use heapless::{String, Vec};

pub use check::{
    CheckKind, Checker, DnsType, HttpCheck, HttpUrl, HttpVersion, MiscCheck, StatusCodes, UdpCheck,
    parse_udp_pattern,
};

use super::dump::{Dumper, Word};
use super::strings::{StringPool, Text};
use super::value;
use super::{Config, Diagnostics, Loc, Statement, parser::Parser};
use crate::limits::{
    CHECKERS, HTTP_URLS, NAME_BYTES, REAL_SERVERS, VIRTUAL_SERVER_GROUP_ENTRIES,
    VIRTUAL_SERVER_GROUPS, VIRTUAL_SERVERS,
};
use crate::time::Duration;

/// Largest IPVS weight (`IPVS_WEIGHT_MAX`, the kernel's `INT_MAX`).
pub const IPVS_WEIGHT_MAX: i64 = i32::MAX as i64;
/// `persistence_timeout` with no value (keepalived's
/// `IPVS_SVC_PERSISTENT_TIMEOUT`), seconds.
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;
/// Longest `persistence_timeout`: 31 days, seconds.
pub const MAX_PERSISTENCE_TIMEOUT: u32 = 31 * 24 * 3600;
/// Default `delay_loop` (keepalived's `KEEPALIVED_DEFAULT_DELAY`).
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// Default `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest time picket accepts for a checker timer: keepalived reads them
/// into an unsigned number of µs; picket caps them at 2^32 − 1 seconds.
pub const TIMER_MAX: Duration = Duration::from_secs(u32::MAX as u64);
/// Shortest non-zero timer (1 µs, keepalived's resolution).
pub const TIMER_MIN: Duration = Duration::from_micros(1);
/// No time (for timers where 0 is valid).
pub const ZERO: Duration = Duration::from_micros(0);

/// Keywords that picket does not implement and that would change behaviour,
/// with the hint given (an error).
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "SSL_GET",
        "TLS checks are not implemented; use HTTP_GET or MISC_CHECK",
    ),
    (
        "FILE_CHECK",
        "file checks are not implemented; use MISC_CHECK with misc_dynamic",
    ),
    (
        "BFD_CHECK",
        "BFD is not implemented; use TCP_CHECK or PING_CHECK",
    ),
    (
        "regex",
        "regex matching of the body is not implemented; use digest or status_code",
    ),
    (
        "regex_no_match",
        "regex matching of the body is not implemented; use digest or status_code",
    ),
    (
        "regex_options",
        "regex matching of the body is not implemented",
    ),
    (
        "regex_stack",
        "regex matching of the body is not implemented",
    ),
    (
        "regex_min_offset",
        "regex matching of the body is not implemented",
    ),
    (
        "regex_max_offset",
        "regex matching of the body is not implemented",
    ),
    (
        "host",
        "SMTP_CHECK host blocks are not implemented; write one SMTP_CHECK per address with connect_ip",
    ),
    ("enable_sni", "TLS checks are not implemented"),
    ("sni_name", "TLS checks are not implemented"),
    ("tls_compliant", "TLS checks are not implemented"),
];

/// Harmless keywords picket reads and does not act on, with the reason (a
/// warning).
pub const IGNORED: &[(&str, &str)] = &[
    ("smtp_alert", "picket sends no email"),
    ("snmp_name", "picket has no SNMP"),
    ("hashed", "the kernel sets this flag itself"),
];

fn unsupported_hint(kw: &str) -> Option<&'static str> {
    UNSUPPORTED.iter().find(|(k, _)| *k == kw).map(|(_, h)| *h)
}

fn ignored_why(kw: &str) -> Option<&'static str> {
    IGNORED.iter().find(|(k, _)| *k == kw).map(|(_, h)| *h)
}

/// An address family (`inet`/`inet6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }

    /// keepalived's name.
    pub const fn name(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        }
    }
}

/// The layer-4 protocol of a virtual server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP (the kernel's and keepalived's default).
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// keepalived's name.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// An IPVS scheduler (`lvs_sched`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Sh,
    Mh,
    Dh,
    Fo,
    Ovf,
    Lblcr,
    Sed,
    Nq,
    Twos,
}

impl Scheduler {
    /// Every scheduler, in the order of [`Scheduler::NAMES`].
    pub const ALL: [Scheduler; 14] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Sh,
        Scheduler::Mh,
        Scheduler::Dh,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Lblcr,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Twos,
    ];
    /// The kernel's names.
    pub const NAMES: [&'static str; 14] = [
        "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq",
        "twos",
    ];

    /// The kernel's name.
    pub fn name(self) -> &'static str {
        let i = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Self::NAMES.get(i).copied().unwrap_or("rr")
    }
}

/// The encapsulation of `TUN` forwarding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelType {
    /// IP in IP (the default).
    Ipip,
    /// Generic UDP encapsulation to `port`.
    Gue {
        /// Destination UDP port.
        port: u16,
    },
    /// GRE.
    Gre,
}

/// Checksum option of GUE/GRE tunnels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelCsum {
    /// No checksum (the default).
    NoCsum,
    /// Checksum.
    Csum,
    /// Remote checksum offload (GUE only).
    RemCsum,
}

/// IPVS forwarding method (`lvs_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarding {
    /// Masquerading.
    Nat,
    /// Direct routing.
    Dr,
    /// Tunnelling.
    Tun {
        /// Encapsulation.
        kind: TunnelType,
        /// Checksum option (always `NoCsum` for IPIP).
        csum: TunnelCsum,
    },
}

impl Forwarding {
    /// Whether it is `TUN` (address families of VS and RS may then differ).
    pub const fn is_tunnel(self) -> bool {
        matches!(self, Forwarding::Tun { .. })
    }
}

/// A command run on an event, with the user (and group) to run it as
/// (empty = the default script user).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// The command line, one word.
    pub command: Text,
    /// User name, or empty.
    pub user: Text,
    /// Group name, or empty.
    pub group: Text,
}

/// Values a virtual server or real server passes down to its checkers
/// (`None` / empty = inherit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckDefaults {
    /// `connect_timeout` (resolved at VS and RS).
    pub connect_timeout: Option<Duration>,
    /// `retry` (kept unresolved: the default depends on the checker).
    pub retry: Option<u32>,
    /// `delay_before_retry` (idem).
    pub delay_before_retry: Option<Duration>,
    /// `warmup` (idem; the checker's default is its `delay_loop`).
    pub warmup: Option<Duration>,
    /// `delay_loop` (resolved at VS and RS).
    pub delay_loop: Option<Duration>,
    /// `alpha` (resolved at VS and RS).
    pub alpha: Option<bool>,
    /// `inhibit_on_failure` (resolved at VS and RS).
    pub inhibit_on_failure: Option<bool>,
    /// `virtualhost` for HTTP checks (empty = none).
    pub virtualhost: Text,
}

/// `virtual_server_group NAME { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServerGroup {
    /// Its name.
    pub name: String<NAME_BYTES>,
    /// Where it is defined.
    pub loc: Loc,
}

/// One entry of a virtual server group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VsgEntryKind {
    /// `IP [PORT]` (`first == last`) or a range `A.B.C.D-E [PORT]`.
    Range {
        /// First address.
        first: IpAddr,
        /// Last address (same family; differs only in the last octet/hextet).
        last: IpAddr,
        /// Port, 0 = none.
        port: u16,
    },
    /// `ADDRESS/LEN [PORT]` (host bits zero).
    Prefix {
        /// Network address.
        addr: IpAddr,
        /// Prefix length.
        len: u8,
        /// Port, 0 = none.
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// Family, if given.
        family: Option<Family>,
    },
}

/// A row of [`LvsConfig::group_entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsgEntry {
    /// Index of its group in [`LvsConfig::groups`].
    pub group: u16,
    /// Where it is.
    pub loc: Loc,
    /// What it is.
    pub kind: VsgEntryKind,
}

/// What a virtual server balances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VsAddress {
    /// `virtual_server IP [PORT]` (port 0 = all ports, persistent only).
    Ip {
        /// Address.
        addr: IpAddr,
        /// Port.
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// The mark.
        mark: u32,
    },
    /// `virtual_server group NAME`.
    Group {
        /// The group's name.
        name: String<NAME_BYTES>,
        /// Its index in [`LvsConfig::groups`] (resolved by [`finish`]).
        index: u16,
    },
}

/// `persistence_granularity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// IPv4 netmask (solid).
    V4(core::net::Ipv4Addr),
    /// IPv6 prefix length 1..=128.
    V6(u8),
}

/// `sorry_server IP [PORT]` and its options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SorryServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (0 = the VS's).
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// `sorry_server_lvs_method` (resolved to the VS's).
    pub method: Option<Forwarding>,
    /// Where it is.
    pub loc: Loc,
}

/// Scheduler flags (`flag-1..3`; `sh-fallback`/`mh-fallback` are flag 1,
/// `sh-port`/`mh-port` flag 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedFlags {
    /// `flag-1`.
    pub flag1: bool,
    /// `flag-2`.
    pub flag2: bool,
    /// `flag-3`.
    pub flag3: bool,
    /// Where an `sh-*` keyword was (needs `lvs_sched sh`).
    pub sh_loc: Option<Loc>,
    /// Where an `mh-*` keyword was (needs `lvs_sched mh`).
    pub mh_loc: Option<Loc>,
}

/// `virtual_server … { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServer {
    /// Where the head is.
    pub loc: Loc,
    /// What it balances.
    pub address: VsAddress,
    /// `lvs_sched` (resolved: wlc, with a warning).
    pub sched: Option<Scheduler>,
    /// Scheduler flags.
    pub flags: SchedFlags,
    /// `ops` (one-packet scheduling, UDP only).
    pub ops: bool,
    /// Where `ops` was.
    pub ops_loc: Loc,
    /// `lvs_method` (resolved: NAT, with a warning).
    pub method: Option<Forwarding>,
    /// `persistence_timeout`, seconds; 0 = not persistent.
    pub persistence_timeout: u32,
    /// `persistence_granularity`.
    pub persistence_granularity: Option<Granularity>,
    /// Where `persistence_granularity` was.
    pub granularity_loc: Loc,
    /// `persistence_engine sip`.
    pub persistence_engine_sip: bool,
    /// `protocol` (resolved: UDP with a warning; `None` for fwmark).
    pub protocol: Option<Protocol>,
    /// `ip_family` (for fwmark services).
    pub ip_family: Option<Family>,
    /// Where `ip_family` was.
    pub family_loc: Loc,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `omega`.
    pub omega: bool,
    /// `quorum`, 1.. (clamped to the total weight by [`finish`]).
    pub quorum: u32,
    /// `hysteresis`, < quorum.
    pub hysteresis: u32,
    /// Where `hysteresis` (or `quorum`) was.
    pub quorum_loc: Loc,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `sorry_server`.
    pub sorry: Option<SorryServer>,
    /// `weight`: default weight of its real servers, 1..
    pub weight: i32,
    /// Checker defaults.
    pub defaults: CheckDefaults,
}

/// `real_server IP [PORT] { … }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealServer {
    /// Index of its virtual server.
    pub vs: u16,
    /// Where the head is.
    pub loc: Loc,
    /// Address.
    pub addr: IpAddr,
    /// Port (0 = none; resolved to the VS's where keepalived does).
    pub port: u16,
    /// `weight` 0..=IPVS_WEIGHT_MAX (resolved: the VS's `weight`).
    pub weight: Option<i32>,
    /// `lvs_method` (resolved: the VS's).
    pub method: Option<Forwarding>,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
    /// `uthreshold` (0 = no limit).
    pub uthreshold: u32,
    /// `lthreshold` (0 = no limit).
    pub lthreshold: u32,
    /// Checker defaults (overriding the VS's).
    pub defaults: CheckDefaults,
}

/// Every LVS table.
#[derive(Clone, Debug, Default)]
pub struct LvsConfig {
    /// `virtual_server_group` blocks.
    pub groups: Vec<VirtualServerGroup, VIRTUAL_SERVER_GROUPS>,
    /// Entries of all groups.
    pub group_entries: Vec<VsgEntry, VIRTUAL_SERVER_GROUP_ENTRIES>,
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<VirtualServer, VIRTUAL_SERVERS>,
    /// `real_server` blocks of all virtual servers.
    pub real_servers: Vec<RealServer, REAL_SERVERS>,
    /// Checkers of all real servers.
    pub checkers: Vec<Checker, CHECKERS>,
    /// `url` blocks of all HTTP checkers.
    pub urls: Vec<HttpUrl, HTTP_URLS>,
}

impl LvsConfig {
    /// Empty tables.
    pub const fn new() -> Self {
        LvsConfig {
            groups: Vec::new(),
            group_entries: Vec::new(),
            virtual_servers: Vec::new(),
            real_servers: Vec::new(),
            checkers: Vec::new(),
            urls: Vec::new(),
        }
    }

    /// Empties every table.
    pub fn clear(&mut self) {
        self.groups.clear();
        self.group_entries.clear();
        self.virtual_servers.clear();
        self.real_servers.clear();
        self.checkers.clear();
        self.urls.clear();
    }

    /// The entries of group `g`.
    pub fn entries_of(&self, g: usize) -> impl Iterator<Item = &VsgEntry> {
        self.group_entries
            .iter()
            .filter(move |e| usize::from(e.group) == g)
    }

    /// The real servers of virtual server `vs`, with their indexes.
    pub fn real_servers_of(&self, vs: usize) -> impl Iterator<Item = (usize, &RealServer)> {
        self.real_servers
            .iter()
            .enumerate()
            .filter(move |(_, r)| usize::from(r.vs) == vs)
    }

    /// The checkers of real server `rs`, with their indexes.
    pub fn checkers_of(&self, rs: usize) -> impl Iterator<Item = (usize, &Checker)> {
        self.checkers
            .iter()
            .enumerate()
            .filter(move |(_, c)| usize::from(c.rs) == rs)
    }

    /// The urls of checker `c`.
    pub fn urls_of(&self, c: usize) -> impl Iterator<Item = &HttpUrl> {
        self.urls
            .iter()
            .filter(move |u| usize::from(u.checker) == c)
    }
}

/// Whether `kw` starts a section of this module.
pub fn is_top_keyword(kw: &str) -> bool {
    matches!(kw, "virtual_server_group" | "virtual_server")
}

/// Parses a top-level section of this module.
pub fn parse_top(p: &mut Parser<'_>, st: &Statement, cfg: &mut Config) {
    let Config { lvs, strings, .. } = cfg;
    match st.keyword() {
        "virtual_server_group" => parse_group(p, st, lvs),
        _ => parse_vs(p, st, lvs, strings),
    }
}

/// Resolves defaults and cross references after parsing.
pub fn finish(cfg: &mut Config, diags: &mut Diagnostics) {
    resolve::finish(&mut cfg.lvs, &cfg.strings, diags);
}

// ---------------------------------------------------------------- values

/// A port argument (0..=65535).
fn port_arg(p: &mut Parser<'_>, st: &Statement, i: usize) -> Option<u16> {
    p.int_arg(st, i, 0, i64::from(u16::MAX)).map(|v| v as u16)
}

/// A value 0..=u32::MAX.
fn u32_value(p: &mut Parser<'_>, st: &Statement, min: u32) -> Option<u32> {
    p.int_value(st, i64::from(min), i64::from(u32::MAX))
        .map(|v| v as u32)
}

/// A boolean flag statement whose bare form means true.
fn bool_flag(p: &mut Parser<'_>, st: &Statement) -> Option<bool> {
    p.flag(st)
}

/// `KEYWORD CMD [USER [GROUP]]` (`USER:GROUP` is accepted too).
fn script_value(p: &mut Parser<'_>, st: &Statement, pool: &mut StringPool) -> Option<Script> {
    if !p.arity(st, 1, 3) {
        return None;
    }
    let command = p.text_arg(st, 0, pool)?;
    if pool.get(command).trim().is_empty() {
        p.error(
            st.arg_loc(0),
            format_args!("'{}' needs a command", st.keyword()),
        );
        return None;
    }
    let (user, group) = match (st.arg(1), st.arg(2)) {
        (Some(u), None) => match u.split_once(':') {
            Some((u, g)) => (u, g),
            None => (u, ""),
        },
        (Some(u), Some(g)) => (u, g),
        _ => ("", ""),
    };
    let user = p.store(st, 1, user, pool)?;
    let group = p.store(st, 2, group, pool)?;
    Some(Script {
        command,
        user,
        group,
    })
}

/// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` from
/// argument `i` on.
fn method_args(p: &mut Parser<'_>, st: &Statement, i: usize) -> Option<Forwarding> {
    let k = p.choice_arg(st, i, &["NAT", "DR", "TUN"])?;
    let mut j = i + 1;
    let method = match k {
        0 => Forwarding::Nat,
        1 => Forwarding::Dr,
        _ => {
            let mut kind = TunnelType::Ipip;
            if st.arg(j) == Some("type") {
                let t = p.choice_arg(st, j + 1, &["ipip", "gue", "gre"])?;
                j += 2;
                kind = match t {
                    0 => TunnelType::Ipip,
                    1 => {
                        if st.arg(j) != Some("port") {
                            p.error(
                                st.arg_loc(j),
                                format_args!("'{}': tunnel type gue needs 'port N'", st.keyword()),
                            );
                            return None;
                        }
                        let port = p.int_arg(st, j + 1, 1, i64::from(u16::MAX))? as u16;
                        j += 2;
                        TunnelType::Gue { port }
                    }
                    _ => TunnelType::Gre,
                };
            }
            let mut csum = TunnelCsum::NoCsum;
            if let Some(w) = st.arg(j) {
                let c = p.choice_arg(st, j, &["nocsum", "csum", "remcsum"])?;
                csum = match c {
                    0 => TunnelCsum::NoCsum,
                    1 => TunnelCsum::Csum,
                    _ => TunnelCsum::RemCsum,
                };
                let ok = match kind {
                    TunnelType::Ipip => false,
                    TunnelType::Gre => csum != TunnelCsum::RemCsum,
                    TunnelType::Gue { .. } => true,
                };
                if !ok {
                    p.error(
                        st.arg_loc(j),
                        format_args!(
                            "'{}': '{w}' does not apply to this tunnel type",
                            st.keyword()
                        ),
                    );
                    return None;
                }
                j += 1;
            }
            Forwarding::Tun { kind, csum }
        }
    };
    if let Some(extra) = st.arg(j) {
        p.error_hint(
            st.arg_loc(j),
            format_args!("'{}': unexpected '{extra}'", st.keyword()),
            format_args!("remove it"),
        );
        return None;
    }
    Some(method)
}

fn method_value(p: &mut Parser<'_>, st: &Statement) -> Option<Forwarding> {
    if !p.no_block(st) {
        return None;
    }
    method_args(p, st, 0)
}

/// The timing settings a checker takes from its real server, which takes
/// them from its virtual server: borrowed fields of either level.
pub(super) struct Timing<'a> {
    /// `connect_timeout`.
    pub connect_timeout: &'a mut Option<Duration>,
    /// `retry`.
    pub retry: &'a mut Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: &'a mut Option<Duration>,
    /// `warmup`.
    pub warmup: &'a mut Option<Duration>,
    /// `delay_loop`.
    pub delay_loop: &'a mut Option<Duration>,
}

/// Parses one of the timing keywords shared by virtual servers, real
/// servers and checkers into `t` (`retry` at least `retry_min`). Returns
/// `false` if `st` is not one of them.
pub(super) fn parse_timing(
    p: &mut Parser<'_>,
    st: &Statement,
    t: Timing<'_>,
    retry_min: u32,
) -> bool {
    match st.keyword() {
        "connect_timeout" => {
            if let Some(v) = p.timer_value(st, TIMER_MIN, TIMER_MAX) {
                *t.connect_timeout = Some(v);
            }
        }
        "retry" => {
            if let Some(v) = u32_value(p, st, retry_min) {
                *t.retry = Some(v);
            }
        }
        "delay_before_retry" => {
            if let Some(v) = p.timer_value(st, ZERO, TIMER_MAX) {
                *t.delay_before_retry = Some(v);
            }
        }
        "warmup" => {
            if let Some(v) = p.timer_value(st, ZERO, TIMER_MAX) {
                *t.warmup = Some(v);
            }
        }
        "delay_loop" => {
            if let Some(v) = p.timer_value(st, TIMER_MIN, TIMER_MAX) {
                *t.delay_loop = Some(v);
            }
        }
        _ => return false,
    }
    true
}

/// Parses the keywords shared by `virtual_server` and `real_server` that
/// pass down to checkers. Returns `false` if `st` is not one of them.
fn parse_default(
    p: &mut Parser<'_>,
    st: &Statement,
    d: &mut CheckDefaults,
    pool: &mut StringPool,
    vs_level: bool,
) -> bool {
    let timing = Timing {
        connect_timeout: &mut d.connect_timeout,
        retry: &mut d.retry,
        delay_before_retry: &mut d.delay_before_retry,
        warmup: &mut d.warmup,
        delay_loop: &mut d.delay_loop,
    };
    // keepalived: a virtual or real server's `retry` is at least 1.
    if parse_timing(p, st, timing, 1) {
        return true;
    }
    match st.keyword() {
        "alpha" => {
            let v = if vs_level {
                p.arity(st, 0, 0).then_some(true)
            } else {
                bool_flag(p, st)
            };
            if let Some(v) = v {
                d.alpha = Some(v);
            }
        }
        "inhibit_on_failure" => {
            let v = if vs_level {
                p.arity(st, 0, 0).then_some(true)
            } else {
                bool_flag(p, st)
            };
            if let Some(v) = v {
                d.inhibit_on_failure = Some(v);
            }
        }
        "virtualhost" => {
            if p.arity(st, 1, 1)
                && let Some(t) = p.text_arg(st, 0, pool)
            {
                d.virtualhost = t;
            }
        }
        _ => return false,
    }
    true
}

// ---------------------------------------------------------------- groups

/// Splits a group entry address: `IP`, `IP-END` or `IP/LEN`.
fn group_address(s: &str) -> Result<VsgEntryKind, &'static str> {
    if s.contains('/') {
        let (addr, len) = value::parse_prefix(s).map_err(|_| "expected ADDRESS/PREFIX-LENGTH")?;
        let host_bits_zero = match addr {
            IpAddr::V4(a) => {
                let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                u32::from(a) & !m == 0
            }
            IpAddr::V6(a) => {
                let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                u128::from(a) & !m == 0
            }
        };
        if !host_bits_zero {
            return Err("the address has bits set beyond the prefix length");
        }
        return Ok(VsgEntryKind::Prefix { addr, len, port: 0 });
    }
    let (first, end) = match s.split_once('-') {
        Some((a, e)) => (a, Some(e)),
        None => (s, None),
    };
    let first = value::parse_ip(first).map_err(|_| "expected an IPv4 or IPv6 address")?;
    let Some(end) = end else {
        return Ok(VsgEntryKind::Range {
            first,
            last: first,
            port: 0,
        });
    };
    let last = match (first, value::parse_ip(end)) {
        (IpAddr::V4(f), Ok(IpAddr::V4(l))) => {
            if f.octets()[..3] != l.octets()[..3] {
                return Err("a range may differ only in the last octet");
            }
            IpAddr::V4(l)
        }
        (IpAddr::V6(f), Ok(IpAddr::V6(l))) => {
            if f.segments()[..7] != l.segments()[..7] {
                return Err("a range may differ only in the last group");
            }
            IpAddr::V6(l)
        }
        (_, Ok(_)) => return Err("the range ends in another address family"),
        (IpAddr::V4(f), Err(_)) => {
            let e = value::parse_int(end, 0, 255).map_err(|_| "invalid range end")?;
            let mut o = f.octets();
            o[3] = e as u8;
            IpAddr::V4(o.into())
        }
        (IpAddr::V6(f), Err(_)) => {
            let e = u16::from_str_radix(end, 16).map_err(|_| "invalid range end")?;
            let mut g = f.segments();
            g[7] = e;
            IpAddr::V6(g.into())
        }
    };
    let greater = match (first, last) {
        (IpAddr::V4(f), IpAddr::V4(l)) => u32::from(l) > u32::from(f),
        (IpAddr::V6(f), IpAddr::V6(l)) => u128::from(l) > u128::from(f),
        _ => false,
    };
    if !greater {
        return Err("the range end is not greater than its start");
    }
    Ok(VsgEntryKind::Range {
        first,
        last,
        port: 0,
    })
}

fn family_arg(p: &mut Parser<'_>, st: &Statement, i: usize) -> Option<Family> {
    p.choice_arg(st, i, &["inet", "inet6"]).map(
        |k| {
            if k == 0 { Family::Inet } else { Family::Inet6 }
        },
    )
}

fn parse_group(p: &mut Parser<'_>, head: &Statement, lvs: &mut LvsConfig) {
    if head.arg_count() != 1 {
        p.error_hint(
            head.arg_loc(head.arg_count().min(1)),
            format_args!("'virtual_server_group' needs exactly one name"),
            format_args!("write 'virtual_server_group NAME {{ … }}'"),
        );
        p.skip_block(head);
        return;
    }
    if !p.open(head) {
        return;
    }
    let name: Option<String<NAME_BYTES>> = p.fixed_arg(head, 0);
    let mut index = None;
    if let Some(name) = name {
        if let Some(prev) = lvs.groups.iter().find(|g| g.name == name) {
            let line = prev.loc.line;
            p.error(
                head.arg_loc(0),
                format_args!("virtual_server_group '{name}' is already defined (line {line})"),
            );
        } else if lvs.groups.is_full() {
            p.capacity(head.loc, "virtual_server_groups");
        } else {
            index = Some(lvs.groups.len() as u16);
            let _ = lvs.groups.push(VirtualServerGroup {
                name,
                loc: head.loc,
            });
        }
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if !p.no_block(&st) {
            continue;
        }
        let kind = if st.keyword() == "fwmark" {
            if !p.arity(&st, 1, 2) {
                continue;
            }
            let Some(mark) = p.int_arg(&st, 0, 1, i64::from(u32::MAX)) else {
                continue;
            };
            let family = match st.arg(1) {
                Some(_) => match family_arg(p, &st, 1) {
                    Some(f) => Some(f),
                    None => continue,
                },
                None => None,
            };
            VsgEntryKind::Fwmark {
                mark: mark as u32,
                family,
            }
        } else {
            if st.arg_count() > 1 {
                p.error_hint(
                    st.arg_loc(1),
                    format_args!("a group entry is 'ADDRESS [PORT]'"),
                    format_args!("remove '{}'", st.arg(1).unwrap_or("")),
                );
                continue;
            }
            let mut kind = match group_address(st.keyword()) {
                Ok(k) => k,
                Err(why) => {
                    if st.arg_count() == 0 && value::parse_int(st.keyword(), 0, 65535).is_err() {
                        p.error_hint(
                            st.loc,
                            format_args!(
                                "invalid virtual_server_group entry '{}': {why}",
                                st.keyword()
                            ),
                            format_args!(
                                "write 'IP [PORT]', 'A.B.C.D-E [PORT]', 'CIDR [PORT]' or 'fwmark N'"
                            ),
                        );
                    } else {
                        p.error(
                            st.loc,
                            format_args!(
                                "invalid virtual_server_group entry '{}': {why}",
                                st.keyword()
                            ),
                        );
                    }
                    continue;
                }
            };
            if st.arg(0).is_some() {
                let Some(port) = port_arg(p, &st, 0) else {
                    continue;
                };
                match &mut kind {
                    VsgEntryKind::Range { port: p0, .. }
                    | VsgEntryKind::Prefix { port: p0, .. } => *p0 = port,
                    VsgEntryKind::Fwmark { .. } => {}
                }
            }
            kind
        };
        let Some(group) = index else { continue };
        if lvs
            .group_entries
            .push(VsgEntry {
                group,
                loc: st.loc,
                kind,
            })
            .is_err()
        {
            p.capacity(st.loc, "virtual_server_group_entries");
        }
    }
}

// ---------------------------------------------------------------- virtual servers

/// Keywords of `virtual_server`, for "did you mean".
const VS_KEYWORDS: &[&str] = &[
    "lvs_sched",
    "lb_algo",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
    "ops",
    "hashed",
    "lvs_method",
    "lb_kind",
    "persistence_timeout",
    "persistence_granularity",
    "persistence_engine",
    "protocol",
    "ip_family",
    "ha_suspend",
    "alpha",
    "omega",
    "quorum",
    "hysteresis",
    "quorum_up",
    "quorum_down",
    "sorry_server",
    "sorry_server_inhibit",
    "sorry_server_lvs_method",
    "virtualhost",
    "smtp_alert",
    "snmp_name",
    "weight",
    "connect_timeout",
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "inhibit_on_failure",
    "real_server",
];

/// Keywords of `real_server`, for "did you mean".
const RS_KEYWORDS: &[&str] = &[
    "weight",
    "lvs_method",
    "lb_kind",
    "notify_up",
    "notify_down",
    "uthreshold",
    "lthreshold",
    "inhibit_on_failure",
    "alpha",
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "connect_timeout",
    "virtualhost",
    "smtp_alert",
    "snmp_name",
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "SMTP_CHECK",
    "DNS_CHECK",
    "MISC_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "FILE_CHECK",
    "BFD_CHECK",
];

fn vs_head(p: &mut Parser<'_>, head: &Statement) -> Option<VsAddress> {
    let n = head.arg_count();
    match head.arg(0) {
        Some("fwmark") => {
            if n != 2 {
                p.error(
                    head.arg_loc(n.min(2)),
                    format_args!("'virtual_server fwmark' needs exactly one mark"),
                );
                return None;
            }
            let mark = p.int_arg(head, 1, 1, i64::from(u32::MAX))? as u32;
            Some(VsAddress::Fwmark { mark })
        }
        Some("group") => {
            if n != 2 {
                p.error(
                    head.arg_loc(n.min(2)),
                    format_args!("'virtual_server group' needs exactly one group name"),
                );
                return None;
            }
            let name = p.fixed_arg::<NAME_BYTES>(head, 1)?;
            Some(VsAddress::Group { name, index: 0 })
        }
        Some(_) => {
            if n > 2 {
                p.error_hint(
                    head.arg_loc(2),
                    format_args!("'virtual_server' takes 'IP [PORT]', 'fwmark N' or 'group NAME'"),
                    format_args!("remove '{}'", head.arg(2).unwrap_or("")),
                );
                return None;
            }
            let addr = p.ip_arg(head, 0)?;
            let port = if n == 2 { port_arg(p, head, 1)? } else { 0 };
            Some(VsAddress::Ip { addr, port })
        }
        None => {
            p.error_hint(
                head.arg_loc(0),
                format_args!("'virtual_server' needs an address"),
                format_args!("write 'virtual_server IP [PORT]', 'fwmark N' or 'group NAME'"),
            );
            None
        }
    }
}

fn parse_vs(p: &mut Parser<'_>, head: &Statement, lvs: &mut LvsConfig, pool: &mut StringPool) {
    let Some(address) = vs_head(p, head) else {
        p.skip_block(head);
        return;
    };
    if lvs.virtual_servers.is_full() {
        p.capacity(head.loc, "virtual_servers");
        p.skip_block(head);
        return;
    }
    if !p.open(head) {
        return;
    }
    let index = lvs.virtual_servers.len() as u16;
    let mut vs = VirtualServer {
        loc: head.loc,
        address,
        sched: None,
        flags: SchedFlags::default(),
        ops: false,
        ops_loc: head.loc,
        method: None,
        persistence_timeout: 0,
        persistence_granularity: None,
        granularity_loc: head.loc,
        persistence_engine_sip: false,
        protocol: None,
        ip_family: None,
        family_loc: head.loc,
        ha_suspend: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_loc: head.loc,
        quorum_up: None,
        quorum_down: None,
        sorry: None,
        weight: 1,
        defaults: CheckDefaults::default(),
    };
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if parse_default(p, &st, &mut vs.defaults, pool, true) {
            continue;
        }
        let kw = st.keyword();
        match kw {
            "real_server" => parse_rs(p, &st, lvs, pool, index),
            "lvs_sched" | "lb_algo" => {
                if p.arity(&st, 1, 1)
                    && let Some(k) = p.choice_arg(&st, 0, &Scheduler::NAMES)
                {
                    vs.sched = Scheduler::ALL.get(k).copied();
                }
            }
            "flag-1" | "flag-2" | "flag-3" | "sh-port" | "sh-fallback" | "mh-port"
            | "mh-fallback" => {
                if p.arity(&st, 0, 0) {
                    let f = &mut vs.flags;
                    match kw {
                        "flag-1" => f.flag1 = true,
                        "flag-2" => f.flag2 = true,
                        "flag-3" => f.flag3 = true,
                        "sh-fallback" => (f.flag1, f.sh_loc) = (true, Some(st.loc)),
                        "sh-port" => (f.flag2, f.sh_loc) = (true, Some(st.loc)),
                        "mh-fallback" => (f.flag1, f.mh_loc) = (true, Some(st.loc)),
                        _ => (f.flag2, f.mh_loc) = (true, Some(st.loc)),
                    }
                }
            }
            "ops" => {
                if p.arity(&st, 0, 0) {
                    vs.ops = true;
                    vs.ops_loc = st.loc;
                }
            }
            "lvs_method" | "lb_kind" => {
                if let Some(m) = method_value(p, &st) {
                    vs.method = Some(m);
                }
            }
            "persistence_timeout" => {
                if p.arity(&st, 0, 1) {
                    if st.arg(0).is_none() {
                        vs.persistence_timeout = DEFAULT_PERSISTENCE_TIMEOUT;
                    } else if let Some(v) = p.int_arg(&st, 0, 0, i64::from(MAX_PERSISTENCE_TIMEOUT))
                    {
                        vs.persistence_timeout = v as u32;
                    }
                }
            }
            "persistence_granularity" => {
                if p.arity(&st, 1, 1) {
                    let s = st.arg(0).unwrap_or("");
                    let g = if s.contains('.') {
                        match value::parse_ipv4(s) {
                            Ok(m) if solid_mask(u32::from(m)) => Some(Granularity::V4(m)),
                            _ => None,
                        }
                    } else {
                        value::parse_int(s, 1, 128)
                            .ok()
                            .map(|v| Granularity::V6(v as u8))
                    };
                    match g {
                        Some(g) => {
                            vs.persistence_granularity = Some(g);
                            vs.granularity_loc = st.loc;
                        }
                        None => p.error(
                            st.arg_loc(0),
                            format_args!(
                                "'persistence_granularity': invalid value '{s}': expected a solid IPv4 netmask or an IPv6 prefix length 1..128"
                            ),
                        ),
                    }
                }
            }
            "persistence_engine" => {
                if p.arity(&st, 1, 1) && p.choice_arg(&st, 0, &["sip"]).is_some() {
                    vs.persistence_engine_sip = true;
                }
            }
            "protocol" => {
                if p.arity(&st, 1, 1) {
                    let s = st.arg(0).unwrap_or("");
                    let proto = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
                        .into_iter()
                        .find(|pr| pr.name().eq_ignore_ascii_case(s));
                    match proto {
                        Some(pr) => vs.protocol = Some(pr),
                        None => p.error(
                            st.arg_loc(0),
                            format_args!(
                                "'protocol': invalid value '{s}': expected one of TCP, UDP, SCTP"
                            ),
                        ),
                    }
                }
            }
            "ip_family" => {
                if p.arity(&st, 1, 1)
                    && let Some(f) = family_arg(p, &st, 0)
                {
                    vs.ip_family = Some(f);
                    vs.family_loc = st.loc;
                }
            }
            "ha_suspend" => {
                if p.arity(&st, 0, 0) {
                    vs.ha_suspend = true;
                }
            }
            "omega" => {
                if p.arity(&st, 0, 0) {
                    vs.omega = true;
                }
            }
            "quorum" => {
                if let Some(v) = u32_value(p, &st, 1) {
                    vs.quorum = v;
                    vs.quorum_loc = st.loc;
                }
            }
            "hysteresis" => {
                if let Some(v) = u32_value(p, &st, 0) {
                    vs.hysteresis = v;
                    vs.quorum_loc = st.loc;
                }
            }
            "quorum_up" | "quorum_down" => {
                let slot = if kw == "quorum_up" {
                    &mut vs.quorum_up
                } else {
                    &mut vs.quorum_down
                };
                if slot.is_some() {
                    p.error(st.loc, format_args!("'{kw}' is given twice"));
                    p.skip_block(&st);
                } else if let Some(s) = script_value(p, &st, pool) {
                    *slot = Some(s);
                }
            }
            "sorry_server" => {
                if p.arity(&st, 1, 2)
                    && let Some(addr) = p.ip_arg(&st, 0)
                {
                    let port = if st.arg(1).is_some() {
                        port_arg(p, &st, 1)
                    } else {
                        Some(0)
                    };
                    if let Some(port) = port {
                        let (inhibit, method) =
                            vs.sorry.map_or((false, None), |s| (s.inhibit, s.method));
                        vs.sorry = Some(SorryServer {
                            addr,
                            port,
                            inhibit,
                            method,
                            loc: st.loc,
                        });
                    }
                }
            }
            "sorry_server_inhibit" | "sorry_server_lvs_method" => {
                if vs.sorry.is_none() {
                    p.error_hint(
                        st.loc,
                        format_args!("'{kw}' without a sorry_server"),
                        format_args!("put 'sorry_server IP [PORT]' before it"),
                    );
                    p.skip_block(&st);
                } else if kw == "sorry_server_inhibit" {
                    if let Some(b) = bool_flag(p, &st)
                        && let Some(s) = vs.sorry.as_mut()
                    {
                        s.inhibit = b;
                    }
                } else if let Some(m) = method_value(p, &st)
                    && let Some(s) = vs.sorry.as_mut()
                {
                    s.method = Some(m);
                }
            }
            "weight" => {
                if let Some(v) = p.int_value(&st, 1, IPVS_WEIGHT_MAX) {
                    vs.weight = v as i32;
                }
            }
            _ => {
                if let Some(why) = ignored_why(kw) {
                    p.ignored(&st, why);
                } else if let Some(hint) = unsupported_hint(kw) {
                    p.unsupported(&st, hint);
                } else {
                    p.unknown(&st, "virtual_server", VS_KEYWORDS);
                }
            }
        }
    }
    // Cannot fail: fullness was checked at the head and nothing else adds
    // virtual servers while this block is read.
    let _ = lvs.virtual_servers.push(vs);
}

/// Whether an IPv4 netmask is contiguous ones then zeros.
fn solid_mask(m: u32) -> bool {
    m.leading_ones() + m.trailing_zeros() == 32
}

fn parse_rs(
    p: &mut Parser<'_>,
    head: &Statement,
    lvs: &mut LvsConfig,
    pool: &mut StringPool,
    vs: u16,
) {
    let n = head.arg_count();
    if n == 0 || n > 2 {
        p.error_hint(
            head.arg_loc(n.min(2)),
            format_args!("'real_server' takes 'IP [PORT]'"),
            format_args!("write 'real_server IP [PORT] {{ … }}'"),
        );
        p.skip_block(head);
        return;
    }
    let addr = p.ip_arg(head, 0);
    let port = if n == 2 {
        port_arg(p, head, 1)
    } else {
        Some(0)
    };
    let (Some(addr), Some(port)) = (addr, port) else {
        p.skip_block(head);
        return;
    };
    if lvs.real_servers.is_full() {
        p.capacity(head.loc, "real_servers");
        p.skip_block(head);
        return;
    }
    if !head.block {
        // keepalived accepts a real server without a block.
        let _ = lvs.real_servers.push(new_rs(vs, head.loc, addr, port));
        return;
    }
    if !p.open(head) {
        return;
    }
    let index = lvs.real_servers.len() as u16;
    let mut rs = new_rs(vs, head.loc, addr, port);
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if parse_default(p, &st, &mut rs.defaults, pool, false) {
            continue;
        }
        let kw = st.keyword();
        match kw {
            "weight" => {
                if let Some(v) = p.int_value(&st, 0, IPVS_WEIGHT_MAX) {
                    rs.weight = Some(v as i32);
                }
            }
            "lvs_method" | "lb_kind" => {
                if let Some(m) = method_value(p, &st) {
                    rs.method = Some(m);
                }
            }
            "notify_up" | "notify_down" => {
                let slot = if kw == "notify_up" {
                    &mut rs.notify_up
                } else {
                    &mut rs.notify_down
                };
                if slot.is_some() {
                    p.error(st.loc, format_args!("'{kw}' is given twice"));
                    p.skip_block(&st);
                } else if let Some(s) = script_value(p, &st, pool) {
                    *slot = Some(s);
                }
            }
            "uthreshold" => {
                if let Some(v) = u32_value(p, &st, 0) {
                    rs.uthreshold = v;
                }
            }
            "lthreshold" => {
                if let Some(v) = u32_value(p, &st, 0) {
                    rs.lthreshold = v;
                }
            }
            _ => {
                if let Some(kind) = check::checker_kind(kw) {
                    check::parse_checker(p, &st, lvs, pool, index, kind);
                } else if let Some(why) = ignored_why(kw) {
                    p.ignored(&st, why);
                } else if let Some(hint) = unsupported_hint(kw) {
                    p.unsupported(&st, hint);
                } else {
                    p.unknown(&st, "real_server", RS_KEYWORDS);
                }
            }
        }
    }
    let _ = lvs.real_servers.push(rs);
}

fn new_rs(vs: u16, loc: Loc, addr: IpAddr, port: u16) -> RealServer {
    RealServer {
        vs,
        loc,
        addr,
        port,
        weight: None,
        method: None,
        notify_up: None,
        notify_down: None,
        uthreshold: 0,
        lthreshold: 0,
        defaults: CheckDefaults::default(),
    }
}

// ---------------------------------------------------------------- dump

/// An address with an optional port (0 = none), as keepalived writes it.
struct AddrPort(IpAddr, u16);

impl fmt::Display for AddrPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 == 0 {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{} {}", self.0, self.1)
        }
    }
}

/// A forwarding method as keepalived reads it.
struct Method(Forwarding);

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Forwarding::Nat => f.write_str("NAT"),
            Forwarding::Dr => f.write_str("DR"),
            Forwarding::Tun { kind, csum } => {
                match kind {
                    TunnelType::Ipip => return f.write_str("TUN type ipip"),
                    TunnelType::Gue { port } => write!(f, "TUN type gue port {port}")?,
                    TunnelType::Gre => f.write_str("TUN type gre")?,
                }
                f.write_str(match csum {
                    TunnelCsum::NoCsum => " nocsum",
                    TunnelCsum::Csum => " csum",
                    TunnelCsum::RemCsum => " remcsum",
                })
            }
        }
    }
}

fn dump_script(d: &mut Dumper<'_>, kw: &str, s: Option<Script>) -> fmt::Result {
    let Some(s) = s else { return Ok(()) };
    let (cmd, user, group) = (d.text(s.command), d.text(s.user), d.text(s.group));
    match (user.is_empty(), group.is_empty()) {
        (true, _) => d.line(kw, format_args!("{}", Word(cmd))),
        (false, true) => d.line(kw, format_args!("{} {}", Word(cmd), Word(user))),
        (false, false) => d.line(
            kw,
            format_args!("{} {} {}", Word(cmd), Word(user), Word(group)),
        ),
    }
}

fn dump_defaults(d: &mut Dumper<'_>, x: &CheckDefaults, vs_level: bool) -> fmt::Result {
    let vh = d.text(x.virtualhost);
    if !vh.is_empty() {
        d.word("virtualhost", vh)?;
    }
    if let Some(t) = x.connect_timeout {
        d.timer("connect_timeout", t)?;
    }
    if let Some(r) = x.retry {
        d.line("retry", format_args!("{r}"))?;
    }
    if let Some(t) = x.delay_before_retry {
        d.timer("delay_before_retry", t)?;
    }
    if let Some(t) = x.warmup {
        d.timer("warmup", t)?;
    }
    if let Some(t) = x.delay_loop {
        d.timer("delay_loop", t)?;
    }
    if vs_level {
        if x.alpha == Some(true) {
            d.flag("alpha")?;
        }
        if x.inhibit_on_failure == Some(true) {
            d.flag("inhibit_on_failure")?;
        }
    } else {
        if let Some(b) = x.alpha {
            d.boolean("alpha", b)?;
        }
        if let Some(b) = x.inhibit_on_failure {
            d.boolean("inhibit_on_failure", b)?;
        }
    }
    Ok(())
}

fn dump_group(lvs: &LvsConfig, g: usize, d: &mut Dumper<'_>) -> fmt::Result {
    let Some(group) = lvs.groups.get(g) else {
        return Ok(());
    };
    d.open(
        "virtual_server_group",
        format_args!("{}", Word(&group.name)),
    )?;
    for e in lvs.entries_of(g) {
        match e.kind {
            VsgEntryKind::Fwmark { mark, family } => match family {
                Some(f) => d.line("fwmark", format_args!("{mark} {}", f.name()))?,
                None => d.line("fwmark", format_args!("{mark}"))?,
            },
            VsgEntryKind::Prefix { addr, len, port } => {
                let mut w: String<64> = String::new();
                let _ = fmt::write(&mut w, format_args!("{addr}/{len}"));
                dump_entry(d, &w, port)?;
            }
            VsgEntryKind::Range { first, last, port } => {
                let mut w: String<96> = String::new();
                let _ = match (first, last) {
                    (IpAddr::V4(_), IpAddr::V4(l)) if first != last => {
                        fmt::write(&mut w, format_args!("{first}-{}", l.octets()[3]))
                    }
                    (IpAddr::V6(_), IpAddr::V6(l)) if first != last => {
                        fmt::write(&mut w, format_args!("{first}-{:x}", l.segments()[7]))
                    }
                    _ => fmt::write(&mut w, format_args!("{first}")),
                };
                dump_entry(d, &w, port)?;
            }
        }
    }
    d.close()
}

fn dump_entry(d: &mut Dumper<'_>, w: &str, port: u16) -> fmt::Result {
    if port == 0 {
        d.flag(w)
    } else {
        d.line(w, format_args!("{port}"))
    }
}

fn dump_vs(lvs: &LvsConfig, i: usize, d: &mut Dumper<'_>) -> fmt::Result {
    let Some(vs) = lvs.virtual_servers.get(i) else {
        return Ok(());
    };
    match &vs.address {
        VsAddress::Ip { addr, port } => {
            d.open("virtual_server", format_args!("{}", AddrPort(*addr, *port)))?
        }
        VsAddress::Fwmark { mark } => d.open("virtual_server", format_args!("fwmark {mark}"))?,
        VsAddress::Group { name, .. } => {
            d.open("virtual_server", format_args!("group {}", Word(name)))?
        }
    }
    if let Some(s) = vs.sched {
        d.line("lvs_sched", format_args!("{}", s.name()))?;
    }
    let (f1, f2) = match vs.sched {
        Some(Scheduler::Sh) => ("sh-fallback", "sh-port"),
        Some(Scheduler::Mh) => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    if vs.flags.flag1 {
        d.flag(f1)?;
    }
    if vs.flags.flag2 {
        d.flag(f2)?;
    }
    if vs.flags.flag3 {
        d.flag("flag-3")?;
    }
    if vs.ops {
        d.flag("ops")?;
    }
    if let Some(m) = vs.method {
        d.line("lvs_method", format_args!("{}", Method(m)))?;
    }
    if let Some(pr) = vs.protocol {
        d.line("protocol", format_args!("{}", pr.name()))?;
    }
    if let Some(f) = vs.ip_family {
        d.line("ip_family", format_args!("{}", f.name()))?;
    }
    if vs.persistence_timeout != 0 {
        d.line(
            "persistence_timeout",
            format_args!("{}", vs.persistence_timeout),
        )?;
    }
    match vs.persistence_granularity {
        Some(Granularity::V4(m)) => d.line("persistence_granularity", format_args!("{m}"))?,
        Some(Granularity::V6(l)) => d.line("persistence_granularity", format_args!("{l}"))?,
        None => {}
    }
    if vs.persistence_engine_sip {
        d.line("persistence_engine", format_args!("sip"))?;
    }
    if vs.ha_suspend {
        d.flag("ha_suspend")?;
    }
    if vs.omega {
        d.flag("omega")?;
    }
    d.line("quorum", format_args!("{}", vs.quorum))?;
    d.line("hysteresis", format_args!("{}", vs.hysteresis))?;
    dump_script(d, "quorum_up", vs.quorum_up)?;
    dump_script(d, "quorum_down", vs.quorum_down)?;
    if let Some(s) = vs.sorry {
        d.line("sorry_server", format_args!("{}", AddrPort(s.addr, s.port)))?;
        if s.inhibit {
            d.flag("sorry_server_inhibit")?;
        }
        if let Some(m) = s.method {
            d.line("sorry_server_lvs_method", format_args!("{}", Method(m)))?;
        }
    }
    d.line("weight", format_args!("{}", vs.weight))?;
    dump_defaults(d, &vs.defaults, true)?;
    for (r, rs) in lvs.real_servers_of(i) {
        d.open(
            "real_server",
            format_args!("{}", AddrPort(rs.addr, rs.port)),
        )?;
        if let Some(w) = rs.weight {
            d.line("weight", format_args!("{w}"))?;
        }
        if let Some(m) = rs.method {
            d.line("lvs_method", format_args!("{}", Method(m)))?;
        }
        dump_script(d, "notify_up", rs.notify_up)?;
        dump_script(d, "notify_down", rs.notify_down)?;
        d.line("uthreshold", format_args!("{}", rs.uthreshold))?;
        d.line("lthreshold", format_args!("{}", rs.lthreshold))?;
        dump_defaults(d, &rs.defaults, false)?;
        for (c, _) in lvs.checkers_of(r) {
            check::dump_checker(lvs, c, d)?;
        }
        d.close()?;
    }
    d.close()
}

/// Writes the tables back.
pub fn dump(v: &LvsConfig, d: &mut Dumper<'_>) -> fmt::Result {
    for g in 0..v.groups.len() {
        d.blank()?;
        dump_group(v, g, d)?;
    }
    for i in 0..v.virtual_servers.len() {
        d.blank()?;
        dump_vs(v, i, d)?;
    }
    Ok(())
}
