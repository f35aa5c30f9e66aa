//! Checkers inside `real_server` (reference §b.9): `TCP_CHECK`, `HTTP_GET`
//! (+ `url` blocks), `SMTP_CHECK`, `DNS_CHECK`, `MISC_CHECK`, `UDP_CHECK`,
//! `PING_CHECK`.

use core::fmt;
use core::net::IpAddr;

use heapless::String;

use super::{
    LvsConfig, TIMER_MAX, TIMER_MIN, Timing, ignored_why, parse_timing, port_arg, u32_value,
    unsupported_hint,
};
use crate::config::dump::{Dumper, Word};
use crate::config::parser::Parser;
use crate::config::strings::{StringPool, Text};
use crate::config::value::ValueError;
use crate::config::{Loc, Statement};
use crate::limits::{IFNAME_BYTES, PAYLOAD_BYTES};
use crate::time::Duration;

/// Lowest HTTP status code accepted in `status_code`.
pub const STATUS_MIN: u16 = 100;
/// Highest HTTP status code accepted in `status_code`.
pub const STATUS_MAX: u16 = 599;
/// Largest `min_reply_length`/`max_reply_length` (largest UDP payload over
/// IPv4).
pub const MAX_REPLY_LENGTH: u16 = 65507;

/// HTTP version of `HTTP_GET` (`http_protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    /// `1.0` (the default).
    V10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    V10C,
    /// `1.1` (sends `Connection: close`).
    V11,
}

impl HttpVersion {
    /// keepalived's name.
    pub const fn name(self) -> &'static str {
        match self {
            HttpVersion::V10 => "1.0",
            HttpVersion::V10C => "1.0C",
            HttpVersion::V11 => "1.1",
        }
    }
}

/// `HTTP_GET` options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpCheck {
    /// `http_protocol`.
    pub protocol: HttpVersion,
    /// `virtualhost` (resolved from RS, then VS; empty = none).
    pub virtualhost: Text,
    /// `fast_recovery`.
    pub fast_recovery: bool,
}

/// DNS query type of `DNS_CHECK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Mx,
    Txt,
    Aaaa,
}

impl DnsType {
    /// Every record type `DNS_CHECK` knows, in keepalived's order.
    pub const ALL: [DnsType; 7] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
    ];
    const NAMES: [&'static str; 7] = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

    /// The record type's name.
    pub fn name(self) -> &'static str {
        let i = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        Self::NAMES.get(i).copied().unwrap_or("SOA")
    }
}

/// `MISC_CHECK` options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MiscCheck {
    /// `misc_path`: the command (required).
    pub path: Text,
    /// `misc_timeout` (resolved: the checker's `delay_loop`).
    pub timeout: Option<Duration>,
    /// `misc_dynamic`: exit status 2..255 sets the weight to status − 2.
    pub dynamic: bool,
    /// `user`: user to run as (empty = default script user).
    pub user: Text,
    /// Group to run as (empty = the user's).
    pub group: Text,
}

/// `UDP_CHECK` options. Payloads are kept as validated, normalised hex text
/// (lower-case, `X` for a wildcard nibble) in the string pool, so a table
/// row stays small; decode them with [`parse_udp_pattern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpCheck {
    /// `payload` (empty = an empty datagram).
    pub payload: Text,
    /// `require_reply`: `None` = any or no reply is fine; `Some(empty)` =
    /// a reply is required; else the pattern it must match.
    pub require_reply: Option<Text>,
    /// `min_reply_length`.
    pub min_reply_length: u16,
    /// `max_reply_length`.
    pub max_reply_length: u16,
}

/// What a checker does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// `TCP_CHECK`: a TCP connect.
    Tcp,
    /// `HTTP_GET`, with its urls in [`LvsConfig::urls`].
    Http(HttpCheck),
    /// `SMTP_CHECK`.
    Smtp {
        /// `helo_name` (empty = the global `smtp_helo_name`).
        helo_name: Text,
    },
    /// `DNS_CHECK`.
    Dns {
        /// `type` (default SOA).
        query: DnsType,
        /// `name` (default `.`).
        name: Text,
    },
    /// `MISC_CHECK`.
    Misc(MiscCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `PING_CHECK`.
    Ping,
}

impl CheckKind {
    /// The block keyword.
    pub const fn keyword(&self) -> &'static str {
        match self {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Http(_) => "HTTP_GET",
            CheckKind::Smtp { .. } => "SMTP_CHECK",
            CheckKind::Dns { .. } => "DNS_CHECK",
            CheckKind::Misc(_) => "MISC_CHECK",
            CheckKind::Udp(_) => "UDP_CHECK",
            CheckKind::Ping => "PING_CHECK",
        }
    }

    /// Whether the connection keywords (`connect_ip` … `connect_timeout`)
    /// apply (all but `MISC_CHECK`).
    pub const fn connects(&self) -> bool {
        !matches!(self, CheckKind::Misc(_))
    }

    /// Whether it needs a destination port (`connect_port` or the real
    /// server's).
    pub const fn needs_port(&self) -> bool {
        !matches!(self, CheckKind::Misc(_) | CheckKind::Ping)
    }
}

/// A row of [`LvsConfig::checkers`]. The `Option`s marked "resolved" are
/// `Some` after [`super::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checker {
    /// Index of its real server.
    pub rs: u16,
    /// Where its block starts.
    pub loc: Loc,
    /// What it checks.
    pub kind: CheckKind,
    /// `connect_ip` (default: the real server's address).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (0 = the real server's port).
    pub connect_port: u16,
    /// `bindto`: source address.
    pub bindto: Option<IpAddr>,
    /// `bind_if` (for IPv6 link-local addresses; empty = none).
    pub bind_if: String<IFNAME_BYTES>,
    /// `bind_port` (0 = any).
    pub bind_port: u16,
    /// `fwmark` put on the checker's packets (SO_MARK, 0 = none).
    pub fwmark: u32,
    /// `connect_timeout` (resolved).
    pub connect_timeout: Option<Duration>,
    /// `retry` / `nb_get_retry` (resolved: RS, VS, else 1; MISC 0; DNS 3).
    pub retry: Option<u32>,
    /// `delay_before_retry` (resolved: RS, VS, else HTTP 3 s; DNS
    /// delay_loop; others 1 s).
    pub delay_before_retry: Option<Duration>,
    /// `warmup` (resolved: RS, VS, else its `delay_loop`).
    pub warmup: Option<Duration>,
    /// `delay_loop` (resolved: RS, VS, else 60 s).
    pub delay_loop: Option<Duration>,
    /// `alpha` (resolved: RS, VS, else false).
    pub alpha: Option<bool>,
    /// `log_all_failures` (`None` = the global `checker_log_all_failures`).
    pub log_all_failures: Option<bool>,
}

/// HTTP status codes accepted by a url, 100..=599, as a bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusCodes {
    bits: [u8; 63],
}

impl Default for StatusCodes {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusCodes {
    /// No code.
    pub const fn new() -> Self {
        StatusCodes { bits: [0; 63] }
    }

    /// Adds `lo..=hi` (codes outside 100..=599 are ignored).
    pub fn add(&mut self, lo: u16, hi: u16) {
        for c in lo.max(STATUS_MIN)..=hi.min(STATUS_MAX) {
            let i = usize::from(c - STATUS_MIN);
            if let Some(b) = self.bits.get_mut(i / 8) {
                *b |= 1 << (i % 8);
            }
        }
    }

    /// Whether `code` is accepted.
    pub fn contains(&self, code: u16) -> bool {
        if !(STATUS_MIN..=STATUS_MAX).contains(&code) {
            return false;
        }
        let i = usize::from(code - STATUS_MIN);
        self.bits
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// Whether no code is accepted.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|b| *b == 0)
    }

    /// The accepted codes as maximal ranges, in order.
    pub fn ranges(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        let mut c = STATUS_MIN;
        core::iter::from_fn(move || {
            while c <= STATUS_MAX && !self.contains(c) {
                c += 1;
            }
            if c > STATUS_MAX {
                return None;
            }
            let lo = c;
            while c <= STATUS_MAX && self.contains(c) {
                c += 1;
            }
            Some((lo, c - 1))
        })
    }
}

/// A row of [`LvsConfig::urls`]: one `url { }` of an `HTTP_GET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// Index of its checker.
    pub checker: u16,
    /// Where the block starts.
    pub loc: Loc,
    /// `path` (required).
    pub path: Text,
    /// `digest`: MD5 of the body.
    pub digest: Option<[u8; 16]>,
    /// `status_code`s (resolved: 200-299 when none is given).
    pub status: StatusCodes,
    /// `virtualhost` (empty = the checker's).
    pub virtualhost: Text,
}

/// The checker a keyword opens (`None` for other keywords).
pub(super) fn checker_kind(kw: &str) -> Option<CheckKind> {
    Some(match kw {
        "TCP_CHECK" => CheckKind::Tcp,
        "HTTP_GET" => CheckKind::Http(HttpCheck {
            protocol: HttpVersion::V10,
            virtualhost: Text::EMPTY,
            fast_recovery: false,
        }),
        "SMTP_CHECK" => CheckKind::Smtp {
            helo_name: Text::EMPTY,
        },
        "DNS_CHECK" => CheckKind::Dns {
            query: DnsType::Soa,
            name: Text::EMPTY,
        },
        "MISC_CHECK" => CheckKind::Misc(MiscCheck {
            path: Text::EMPTY,
            timeout: None,
            dynamic: false,
            user: Text::EMPTY,
            group: Text::EMPTY,
        }),
        "UDP_CHECK" => CheckKind::Udp(UdpCheck {
            payload: Text::EMPTY,
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        }),
        "PING_CHECK" => CheckKind::Ping,
        _ => return None,
    })
}

/// Keywords common to every checker (MISC: only the last six).
const COMMON: &[&str] = &[
    "connect_ip",
    "connect_port",
    "bindto",
    "bind_if",
    "bind_port",
    "connect_timeout",
    "fwmark",
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "log_all_failures",
];

const HTTP_KEYWORDS: &[&str] = &[
    "url",
    "http_protocol",
    "virtualhost",
    "fast_recovery",
    "nb_get_retry",
];
const SMTP_KEYWORDS: &[&str] = &["helo_name", "host"];
const DNS_KEYWORDS: &[&str] = &["type", "name"];
const MISC_KEYWORDS: &[&str] = &[
    "misc_path",
    "misc_timeout",
    "misc_dynamic",
    "user",
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "log_all_failures",
];
const UDP_KEYWORDS: &[&str] = &[
    "payload",
    "require_reply",
    "min_reply_length",
    "max_reply_length",
];
const URL_KEYWORDS: &[&str] = &["path", "digest", "status_code", "virtualhost", "regex"];

/// Decodes a UDP_CHECK hex pattern (an optional `0x`, then pairs of hex
/// digits; with `wildcards`, `X`/`x` stands for any nibble) into `bytes`
/// and `mask` (a 1 bit must match). Returns the byte count.
pub fn parse_udp_pattern(
    s: &str,
    wildcards: bool,
    bytes: &mut [u8],
    mask: &mut [u8],
) -> Result<usize, ValueError> {
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(2) {
        return Err(ValueError::NotHex);
    }
    let n = b.len() / 2;
    if n > bytes.len() || n > mask.len() {
        return Err(ValueError::TooLong {
            max: bytes.len().min(mask.len()) * 2,
        });
    }
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let mut v = 0u8;
        let mut m = 0u8;
        for c in pair {
            let (d, dm) = match (*c as char).to_digit(16) {
                Some(d) => (d as u8, 0xf),
                None if wildcards && (*c == b'X' || *c == b'x') => (0, 0),
                None => return Err(ValueError::NotHex),
            };
            v = (v << 4) | d;
            m = (m << 4) | dm;
        }
        if let (Some(bo), Some(mo)) = (bytes.get_mut(i), mask.get_mut(i)) {
            *bo = v;
            *mo = m;
        }
    }
    Ok(n)
}

/// Checks and normalises a hex pattern argument, storing it in the pool.
fn pattern_arg(
    p: &mut Parser<'_>,
    st: &Statement,
    wildcards: bool,
    pool: &mut StringPool,
) -> Option<Text> {
    let s = p.required(st, 0)?;
    let mut bytes = [0u8; PAYLOAD_BYTES];
    let mut mask = [0u8; PAYLOAD_BYTES];
    if let Err(e) = parse_udp_pattern(s, wildcards, &mut bytes, &mut mask) {
        p.value_error(st, 0, e);
        return None;
    }
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let mut norm: String<{ PAYLOAD_BYTES * 2 }> = String::new();
    for c in digits.chars() {
        let c = if c == 'x' || c == 'X' {
            'X'
        } else {
            c.to_ascii_lowercase()
        };
        let _ = norm.push(c);
    }
    p.store(st, 0, &norm, pool)
}

/// Parses a common checker keyword into `c`; `false` if `st` is not one
/// (or not one for this kind).
fn parse_common(p: &mut Parser<'_>, st: &Statement, c: &mut Checker) -> bool {
    let kw = st.keyword();
    let connection = matches!(
        kw,
        "connect_ip"
            | "connect_port"
            | "bindto"
            | "bind_if"
            | "bind_port"
            | "connect_timeout"
            | "fwmark"
    );
    if connection && !c.kind.connects() {
        return false;
    }
    let timing = Timing {
        connect_timeout: &mut c.connect_timeout,
        retry: &mut c.retry,
        delay_before_retry: &mut c.delay_before_retry,
        warmup: &mut c.warmup,
        delay_loop: &mut c.delay_loop,
    };
    // A checker may have `retry 0` (keepalived).
    if parse_timing(p, st, timing, 0) {
        return true;
    }
    match kw {
        "connect_ip" => {
            if p.arity(st, 1, 1)
                && let Some(ip) = p.ip_arg(st, 0)
            {
                c.connect_ip = Some(ip);
            }
        }
        "bindto" => {
            if p.arity(st, 1, 1)
                && let Some(ip) = p.ip_arg(st, 0)
            {
                c.bindto = Some(ip);
            }
        }
        "connect_port" => {
            if p.arity(st, 1, 1)
                && let Some(v) = port_arg(p, st, 0)
            {
                c.connect_port = v;
            }
        }
        "bind_port" => {
            if p.arity(st, 1, 1)
                && let Some(v) = port_arg(p, st, 0)
            {
                c.bind_port = v;
            }
        }
        "bind_if" => {
            if p.arity(st, 1, 1)
                && let Some(s) = p.fixed_arg::<IFNAME_BYTES>(st, 0)
            {
                c.bind_if = s;
            }
        }
        "fwmark" => {
            if let Some(v) = u32_value(p, st, 0) {
                c.fwmark = v;
            }
        }
        "alpha" => {
            if let Some(b) = p.flag(st) {
                c.alpha = Some(b);
            }
        }
        "log_all_failures" => {
            if let Some(b) = p.flag(st) {
                c.log_all_failures = Some(b);
            }
        }
        _ => return false,
    }
    true
}

/// One-argument text value into the pool.
fn text_value(p: &mut Parser<'_>, st: &Statement, pool: &mut StringPool) -> Option<Text> {
    if !p.arity(st, 1, 1) {
        return None;
    }
    p.text_arg(st, 0, pool)
}

/// Parses a checker block (its head `st`) of real server `rs`.
pub(super) fn parse_checker(
    p: &mut Parser<'_>,
    head: &Statement,
    lvs: &mut LvsConfig,
    pool: &mut StringPool,
    rs: u16,
    kind: CheckKind,
) {
    if head.arg_count() > 0 {
        p.error_hint(
            head.arg_loc(0),
            format_args!("'{}' takes no arguments", head.keyword()),
            format_args!("remove '{}'", head.arg(0).unwrap_or("")),
        );
        p.skip_block(head);
        return;
    }
    if lvs.checkers.is_full() {
        p.capacity(head.loc, "checkers");
        p.skip_block(head);
        return;
    }
    if !p.open(head) {
        return;
    }
    let index = lvs.checkers.len() as u16;
    let mut c = Checker {
        rs,
        loc: head.loc,
        kind,
        connect_ip: None,
        connect_port: 0,
        bindto: None,
        bind_if: String::new(),
        bind_port: 0,
        fwmark: 0,
        connect_timeout: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        delay_loop: None,
        alpha: None,
        log_all_failures: None,
    };
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if parse_common(p, &st, &mut c) {
            continue;
        }
        let kw = st.keyword();
        let handled = match &mut c.kind {
            CheckKind::Http(h) => match kw {
                "url" => {
                    parse_url(p, &st, lvs, pool, index);
                    true
                }
                "http_protocol" => {
                    if p.arity(&st, 1, 1) {
                        let s = st.arg(0).unwrap_or("");
                        let v = match s {
                            "1.0" => Some(HttpVersion::V10),
                            "1.0C" | "1.0c" => Some(HttpVersion::V10C),
                            "1.1" => Some(HttpVersion::V11),
                            _ => None,
                        };
                        match v {
                            Some(v) => h.protocol = v,
                            None => p.error(
                                st.arg_loc(0),
                                format_args!(
                                    "'http_protocol': invalid value '{s}': expected one of 1.0, 1.0C, 1.1"
                                ),
                            ),
                        }
                    }
                    true
                }
                "virtualhost" => {
                    if let Some(t) = text_value(p, &st, pool) {
                        h.virtualhost = t;
                    }
                    true
                }
                "fast_recovery" => {
                    if let Some(b) = p.flag(&st) {
                        h.fast_recovery = b;
                    }
                    true
                }
                "nb_get_retry" => {
                    if let Some(v) = u32_value(p, &st, 0) {
                        c.retry = Some(v);
                    }
                    true
                }
                _ => false,
            },
            CheckKind::Smtp { helo_name } => match kw {
                "helo_name" => {
                    if let Some(t) = text_value(p, &st, pool) {
                        *helo_name = t;
                    }
                    true
                }
                _ => false,
            },
            CheckKind::Dns { query, name } => match kw {
                "type" => {
                    if p.arity(&st, 1, 1) {
                        let s = st.arg(0).unwrap_or("");
                        match DnsType::NAMES.iter().position(|n| n.eq_ignore_ascii_case(s)) {
                            Some(i) => *query = DnsType::ALL.get(i).copied().unwrap_or(DnsType::Soa),
                            None => p.error(
                                st.arg_loc(0),
                                format_args!(
                                    "'type': invalid value '{s}': expected one of A, NS, CNAME, SOA, MX, TXT, AAAA"
                                ),
                            ),
                        }
                    }
                    true
                }
                "name" => {
                    if p.arity(&st, 1, 1) {
                        let s = st.arg(0).unwrap_or("");
                        if s != "." && s.trim_end_matches('.').split('.').any(str::is_empty) {
                            p.error(
                                st.arg_loc(0),
                                format_args!("'name': invalid value '{s}': empty label"),
                            );
                        } else if let Some(t) = p.store(&st, 0, s, pool) {
                            *name = t;
                        }
                    }
                    true
                }
                _ => false,
            },
            CheckKind::Misc(m) => match kw {
                "misc_path" => {
                    if let Some(t) = text_value(p, &st, pool) {
                        m.path = t;
                    }
                    true
                }
                "misc_timeout" => {
                    if let Some(t) = p.timer_value(&st, TIMER_MIN, TIMER_MAX) {
                        m.timeout = Some(t);
                    }
                    true
                }
                "misc_dynamic" => {
                    if let Some(b) = p.flag(&st) {
                        m.dynamic = b;
                    }
                    true
                }
                "user" => {
                    if p.arity(&st, 1, 2) {
                        let (u, g) = match (st.arg(0), st.arg(1)) {
                            (Some(u), Some(g)) => (u, g),
                            (Some(u), None) => u.split_once(':').unwrap_or((u, "")),
                            _ => ("", ""),
                        };
                        if let (Some(u), Some(g)) =
                            (p.store(&st, 0, u, pool), p.store(&st, 1, g, pool))
                        {
                            m.user = u;
                            m.group = g;
                        }
                    }
                    true
                }
                _ => false,
            },
            CheckKind::Udp(u) => match kw {
                "payload" => {
                    if p.arity(&st, 1, 1)
                        && let Some(t) = pattern_arg(p, &st, false, pool)
                    {
                        u.payload = t;
                    }
                    true
                }
                "require_reply" => {
                    if p.arity(&st, 0, 1) {
                        if st.arg(0).is_none() {
                            u.require_reply = Some(Text::EMPTY);
                        } else if let Some(t) = pattern_arg(p, &st, true, pool) {
                            u.require_reply = Some(t);
                        }
                    }
                    true
                }
                "min_reply_length" | "max_reply_length" => {
                    if let Some(v) = p.int_value(&st, 0, i64::from(MAX_REPLY_LENGTH)) {
                        if kw == "min_reply_length" {
                            u.min_reply_length = v as u16;
                        } else {
                            u.max_reply_length = v as u16;
                        }
                    }
                    true
                }
                _ => false,
            },
            CheckKind::Tcp | CheckKind::Ping => false,
        };
        if handled {
            continue;
        }
        if let Some(why) = ignored_why(kw) {
            p.ignored(&st, why);
        } else if let Some(hint) = unsupported_hint(kw) {
            p.unsupported(&st, hint);
        } else {
            let extra: &[&str] = match c.kind {
                CheckKind::Http(_) => HTTP_KEYWORDS,
                CheckKind::Smtp { .. } => SMTP_KEYWORDS,
                CheckKind::Dns { .. } => DNS_KEYWORDS,
                CheckKind::Misc(_) => MISC_KEYWORDS,
                CheckKind::Udp(_) => UDP_KEYWORDS,
                CheckKind::Tcp | CheckKind::Ping => &[],
            };
            let mut known: heapless::Vec<&str, 32> = heapless::Vec::new();
            if c.kind.connects() {
                let _ = known.extend_from_slice(COMMON);
            }
            let _ = known.extend_from_slice(extra);
            p.unknown(&st, head.keyword(), &known);
        }
    }
    if let CheckKind::Udp(u) = c.kind
        && u.min_reply_length > u.max_reply_length
    {
        p.warning(
            c.loc,
            format_args!(
                "UDP_CHECK min_reply_length {} > max_reply_length {}: the check will always fail",
                u.min_reply_length, u.max_reply_length
            ),
        );
    }
    let _ = lvs.checkers.push(c);
}

/// A status code list: `N` or `A-B`, each 100..=599.
fn status_arg(p: &mut Parser<'_>, st: &Statement, i: usize, codes: &mut StatusCodes) -> bool {
    let s = st.arg(i).unwrap_or("");
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let min = i64::from(STATUS_MIN);
    let max = i64::from(STATUS_MAX);
    match (
        crate::config::value::parse_int(lo, min, max),
        crate::config::value::parse_int(hi, min, max),
    ) {
        (Ok(a), Ok(b)) if a <= b => {
            codes.add(a as u16, b as u16);
            true
        }
        _ => {
            p.error(
                st.arg_loc(i),
                format_args!(
                    "'status_code': invalid value '{s}': expected a code or a range A-B within {STATUS_MIN}-{STATUS_MAX}"
                ),
            );
            false
        }
    }
}

fn parse_url(
    p: &mut Parser<'_>,
    head: &Statement,
    lvs: &mut LvsConfig,
    pool: &mut StringPool,
    checker: u16,
) {
    if head.arg_count() > 0 {
        p.error(head.arg_loc(0), format_args!("'url' takes no arguments"));
        p.skip_block(head);
        return;
    }
    if lvs.urls.is_full() {
        p.capacity(head.loc, "http_urls");
        p.skip_block(head);
        return;
    }
    if !p.open(head) {
        return;
    }
    let mut url = HttpUrl {
        checker,
        loc: head.loc,
        path: Text::EMPTY,
        digest: None,
        status: StatusCodes::new(),
        virtualhost: Text::EMPTY,
    };
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        match st.keyword() {
            "path" => {
                if let Some(t) = text_value(p, &st, pool) {
                    url.path = t;
                }
            }
            "digest" => {
                if p.arity(&st, 1, 1) {
                    let s = st.arg(0).unwrap_or("");
                    let mut d = [0u8; 16];
                    if s.len() == 32
                        && !s.starts_with("0x")
                        && crate::config::value::parse_hex(s, &mut d) == Ok(16)
                    {
                        url.digest = Some(d);
                    } else {
                        p.error(
                            st.arg_loc(0),
                            format_args!(
                                "'digest': invalid value '{s}': expected an MD5 digest, 32 hex digits"
                            ),
                        );
                    }
                }
            }
            "status_code" => {
                if p.no_block(&st) {
                    if st.arg_count() == 0 {
                        let _ = p.required(&st, 0);
                    }
                    for i in 0..st.arg_count() {
                        if !status_arg(p, &st, i, &mut url.status) {
                            break;
                        }
                    }
                }
            }
            "virtualhost" => {
                if let Some(t) = text_value(p, &st, pool) {
                    url.virtualhost = t;
                }
            }
            kw => {
                if let Some(hint) = unsupported_hint(kw) {
                    p.unsupported(&st, hint);
                } else {
                    p.unknown(&st, "url", URL_KEYWORDS);
                }
            }
        }
    }
    if url.path.is_empty() {
        p.error_hint(
            head.loc,
            format_args!("url has no path"),
            format_args!("add 'path /...'"),
        );
    }
    let _ = lvs.urls.push(url);
}

/// An MD5 digest in hex.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The status codes as `A-B C …`.
struct Codes<'a>(&'a StatusCodes);

impl fmt::Display for Codes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, (lo, hi)) in self.0.ranges().enumerate() {
            if k > 0 {
                f.write_str(" ")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// Writes checker `i` (with its urls).
pub(super) fn dump_checker(lvs: &LvsConfig, i: usize, d: &mut Dumper<'_>) -> fmt::Result {
    let Some(c) = lvs.checkers.get(i) else {
        return Ok(());
    };
    d.open(c.kind.keyword(), format_args!(""))?;
    if c.kind.connects() {
        if let Some(ip) = c.connect_ip {
            d.line("connect_ip", format_args!("{ip}"))?;
        }
        if c.connect_port != 0 {
            d.line("connect_port", format_args!("{}", c.connect_port))?;
        }
        if let Some(ip) = c.bindto {
            d.line("bindto", format_args!("{ip}"))?;
        }
        if !c.bind_if.is_empty() {
            d.word("bind_if", &c.bind_if)?;
        }
        if c.bind_port != 0 {
            d.line("bind_port", format_args!("{}", c.bind_port))?;
        }
        if c.fwmark != 0 {
            d.line("fwmark", format_args!("{}", c.fwmark))?;
        }
        if let Some(t) = c.connect_timeout {
            d.timer("connect_timeout", t)?;
        }
    }
    if let Some(r) = c.retry {
        d.line("retry", format_args!("{r}"))?;
    }
    if let Some(t) = c.delay_before_retry {
        d.timer("delay_before_retry", t)?;
    }
    if let Some(t) = c.warmup {
        d.timer("warmup", t)?;
    }
    if let Some(t) = c.delay_loop {
        d.timer("delay_loop", t)?;
    }
    if let Some(b) = c.alpha {
        d.boolean("alpha", b)?;
    }
    if let Some(b) = c.log_all_failures {
        d.boolean("log_all_failures", b)?;
    }
    match c.kind {
        CheckKind::Tcp | CheckKind::Ping => {}
        CheckKind::Http(h) => {
            d.line("http_protocol", format_args!("{}", h.protocol.name()))?;
            let vh = d.text(h.virtualhost);
            if !vh.is_empty() {
                d.word("virtualhost", vh)?;
            }
            d.boolean("fast_recovery", h.fast_recovery)?;
            for u in lvs.urls_of(i) {
                d.open("url", format_args!(""))?;
                d.word("path", d.text(u.path))?;
                if let Some(dg) = u.digest {
                    d.line("digest", format_args!("{}", Hex(&dg)))?;
                }
                if !u.status.is_empty() {
                    d.line("status_code", format_args!("{}", Codes(&u.status)))?;
                }
                let vh = d.text(u.virtualhost);
                if !vh.is_empty() {
                    d.word("virtualhost", vh)?;
                }
                d.close()?;
            }
        }
        CheckKind::Smtp { helo_name } => {
            let h = d.text(helo_name);
            if !h.is_empty() {
                d.word("helo_name", h)?;
            }
        }
        CheckKind::Dns { query, name } => {
            d.line("type", format_args!("{}", query.name()))?;
            let n = d.text(name);
            d.word("name", if n.is_empty() { "." } else { n })?;
        }
        CheckKind::Misc(m) => {
            d.word("misc_path", d.text(m.path))?;
            if let Some(t) = m.timeout {
                d.timer("misc_timeout", t)?;
            }
            d.boolean("misc_dynamic", m.dynamic)?;
            let (u, g) = (d.text(m.user), d.text(m.group));
            match (u.is_empty(), g.is_empty()) {
                (true, _) => {}
                (false, true) => d.word("user", u)?,
                (false, false) => d.line("user", format_args!("{} {}", Word(u), Word(g)))?,
            }
        }
        CheckKind::Udp(u) => {
            let pl = d.text(u.payload);
            if !pl.is_empty() {
                d.word("payload", pl)?;
            }
            match u.require_reply {
                None => {}
                Some(t) if t.is_empty() => d.flag("require_reply")?,
                Some(t) => d.word("require_reply", d.text(t))?,
            }
            d.line("min_reply_length", format_args!("{}", u.min_reply_length))?;
            d.line("max_reply_length", format_args!("{}", u.max_reply_length))?;
        }
    }
    d.close()
}
