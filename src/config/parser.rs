//! Block-structured parsing over a stream of statements.
//!
//! A section parser receives its head statement (`vrrp_instance VI_1 {`),
//! calls [`Parser::open`], then loops over [`Parser::next_in_block`] matching
//! keywords. The value helpers (`int_arg`, `timer_arg`, ...) check a value,
//! report a located error when it is wrong and return `None`, so a section
//! parser reads as a table of keywords:
//!
//! ```ignore
//! if !p.open(head) { return; }
//! let mut st = Statement::new();
//! while p.next_in_block(&mut st) {
//!     match st.keyword() {
//!         "priority" => if let Some(v) = p.int_arg(&st, 0, 1, 255) { inst.priority = v as u8 },
//!         "router_id" => p.ignored(&st, "picket has no SNMP or email"),
//!         "auth_type" => p.unsupported(&st, "use auth_type PASS"),
//!         _ => p.unknown(&st, "vrrp_instance", KEYWORDS),
//!     }
//! }
//! ```
//!
//! Policy (issue 2): an unknown keyword is an error (keepalived reports it
//! and goes on, picket refuses to run a config it does not understand); a
//! keyword picket does not implement that would change behaviour is an error
//! ([`Parser::unsupported`]); a harmless one is a warning
//! ([`Parser::ignored`]). Every helper skips a block that follows a
//! statement that does not take one, so one mistake never derails the rest.

use core::fmt;
use core::net::IpAddr;

use heapless::{String, Vec};

use super::diag::{Diagnostics, Loc};
use super::statement::{Event, Statement, StatementSource};
use super::strings::{StringPool, Text};
use super::value::{self, ValueError};
use super::{Config, global, lvs, vrrp};
use crate::limits;
use crate::time::Duration;

/// Deepest nesting of blocks accepted (keepalived's deepest is 4:
/// `virtual_server` › `real_server` › `HTTP_GET` › `url`).
pub const MAX_DEPTH: usize = 16;

/// Walks the statements of a configuration, block by block, and reports
/// problems to the diagnostics.
pub struct Parser<'a> {
    src: &'a mut dyn StatementSource,
    diags: &'a mut Diagnostics,
    /// Where each open block started.
    open: Vec<Loc, MAX_DEPTH>,
    /// The source has said [`Event::End`].
    ended: bool,
}

impl<'a> Parser<'a> {
    /// A parser over `src`.
    pub fn new(src: &'a mut dyn StatementSource, diags: &'a mut Diagnostics) -> Self {
        Parser {
            src,
            diags,
            open: Vec::new(),
            ended: false,
        }
    }

    /// The diagnostics, for sections that report on their own.
    pub fn diags(&mut self) -> &mut Diagnostics {
        self.diags
    }

    fn event(&mut self, st: &mut Statement) -> Event {
        if self.ended {
            return Event::End;
        }
        loop {
            let e = self.src.next_event(st, self.diags);
            if e == Event::End {
                self.ended = true;
            }
            // A `{` with no statement before it was reported by the reader and
            // comes as a statement without words: skip its block silently.
            if e == Event::Statement && st.is_empty() {
                if st.block {
                    self.skip_open_block();
                }
                continue;
            }
            return e;
        }
    }

    /// Next statement at the top level; `false` at the end of the text.
    /// A stray `}` here is reported and skipped.
    pub fn next_top(&mut self, st: &mut Statement) -> bool {
        loop {
            match self.event(st) {
                Event::Statement => return true,
                Event::Close(loc) => self.diags.error_hint(
                    loc,
                    format_args!("extra '}}'"),
                    format_args!("remove it, or look for a missing '{{' above"),
                ),
                Event::End => return false,
            }
        }
    }

    /// Enters the block of `head`. If `head` has no block, reports
    /// "expected '{'" and returns `false` (the caller returns).
    pub fn open(&mut self, head: &Statement) -> bool {
        if !head.block {
            self.diags.error_hint(
                head.arg_loc(head.arg_count()),
                format_args!("'{}' needs a block", head.keyword()),
                format_args!("write '{} ... {{ ... }}'", head.keyword()),
            );
            return false;
        }
        if self.open.push(head.loc).is_err() {
            self.diags.error(
                head.loc,
                format_args!("blocks nested deeper than {MAX_DEPTH}"),
            );
            self.skip_open_block();
            return false;
        }
        true
    }

    /// Next statement in the innermost open block; `false` at its `}` (the
    /// block is then closed) or at the end of the text (reported as a
    /// missing `}`).
    pub fn next_in_block(&mut self, st: &mut Statement) -> bool {
        match self.event(st) {
            Event::Statement => true,
            Event::Close(_) => {
                self.open.pop();
                false
            }
            Event::End => {
                if let Some(start) = self.open.pop() {
                    self.diags.error_hint(
                        start,
                        format_args!("block is not closed"),
                        format_args!("add the missing '}}'"),
                    );
                }
                false
            }
        }
    }

    /// Skips the rest of a block whose `{` has been read (iteratively: a
    /// flood of nested braces cannot exhaust the stack).
    fn skip_open_block(&mut self) {
        let mut st = Statement::new();
        let mut depth = 1usize;
        while depth > 0 {
            if self.ended {
                return;
            }
            let e = self.src.next_event(&mut st, self.diags);
            if e == Event::End {
                self.ended = true;
            }
            match e {
                Event::Statement if st.block => depth += 1,
                Event::Statement => {}
                Event::Close(_) => depth -= 1,
                Event::End => return,
            }
        }
    }

    /// Skips the block of `st`, if it has one.
    pub fn skip_block(&mut self, st: &Statement) {
        if st.block {
            self.skip_open_block();
        }
    }

    /// For a statement that takes no block: if it has one, reports it and
    /// skips it. Returns whether the statement was block-free.
    pub fn no_block(&mut self, st: &Statement) -> bool {
        if st.block {
            self.diags.error(
                st.loc,
                format_args!("'{}' does not take a block", st.keyword()),
            );
            self.skip_open_block();
            return false;
        }
        true
    }

    /// Reports an error at `loc`.
    pub fn error(&mut self, loc: Loc, message: fmt::Arguments<'_>) {
        self.diags.error(loc, message);
    }

    /// Reports an error at `loc` with a hint.
    pub fn error_hint(&mut self, loc: Loc, message: fmt::Arguments<'_>, hint: fmt::Arguments<'_>) {
        self.diags.error_hint(loc, message, hint);
    }

    /// Reports a warning at `loc`.
    pub fn warning(&mut self, loc: Loc, message: fmt::Arguments<'_>) {
        self.diags.warning(loc, message);
    }

    /// An unknown keyword in `section`: error, with the closest known
    /// keyword as a hint; its block, if any, is skipped.
    pub fn unknown(&mut self, st: &Statement, section: &str, known: &[&str]) {
        match closest(st.keyword(), known) {
            Some(k) => self.diags.error_hint(
                st.loc,
                format_args!("unknown keyword '{}' in {section}", st.keyword()),
                format_args!("did you mean '{k}'?"),
            ),
            None => self.diags.error(
                st.loc,
                format_args!("unknown keyword '{}' in {section}", st.keyword()),
            ),
        }
        self.skip_block(st);
    }

    /// A keyword picket does not implement and that would change behaviour:
    /// an error (picket will not run a config it would run differently
    /// from keepalived). Its block, if any, is skipped.
    pub fn unsupported(&mut self, st: &Statement, hint: &str) {
        self.diags.error_hint(
            st.loc,
            format_args!("'{}' is not supported by picket", st.keyword()),
            format_args!("{hint}"),
        );
        self.skip_block(st);
    }

    /// A harmless keyword picket does not act on: a warning. Its block, if
    /// any, is skipped.
    pub fn ignored(&mut self, st: &Statement, why: &str) {
        self.diags.warning(
            st.loc,
            format_args!("'{}' is ignored by picket: {why}", st.keyword()),
        );
        self.skip_block(st);
    }

    /// A table is full: an error naming the limit and the board.
    pub fn capacity(&mut self, loc: Loc, limit: &str) {
        let value = limits::by_name(limit).map_or(0, |l| l.value);
        self.diags.error_hint(
            loc,
            format_args!(
                "too many entries: limit `{limit}` = {value} on board `{}`",
                limits::BOARD
            ),
            format_args!(
                "raise `{limit}` in board/{}/board.conf and rebuild, or use a larger board",
                limits::BOARD
            ),
        );
    }

    /// Checks the number of arguments (and that no block follows);
    /// reports and returns `false` when it is not in `min..=max`.
    pub fn arity(&mut self, st: &Statement, min: usize, max: usize) -> bool {
        if !self.no_block(st) {
            return false;
        }
        let n = st.arg_count();
        if n < min {
            let what = if min == 1 && max == 1 {
                "a value"
            } else {
                "more arguments"
            };
            self.diags.error(
                st.arg_loc(n),
                format_args!("'{}' needs {what}", st.keyword()),
            );
            return false;
        }
        if n > max {
            self.diags.error_hint(
                st.arg_loc(max),
                format_args!(
                    "'{}' takes at most {max} argument{}",
                    st.keyword(),
                    if max == 1 { "" } else { "s" }
                ),
                format_args!("remove '{}'", st.arg(max).unwrap_or("")),
            );
            return false;
        }
        true
    }

    /// Reports `err` about argument `i` of `st`.
    pub fn value_error(&mut self, st: &Statement, i: usize, err: ValueError) {
        self.diags.error(
            st.arg_loc(i),
            format_args!(
                "'{}': invalid value '{}': {err}",
                st.keyword(),
                st.arg(i).unwrap_or("")
            ),
        );
    }

    fn check<T>(&mut self, st: &Statement, i: usize, r: Result<T, ValueError>) -> Option<T> {
        r.map_err(|e| self.value_error(st, i, e)).ok()
    }

    /// Argument `i` as an integer in `min..=max`.
    pub fn int_arg(&mut self, st: &Statement, i: usize, min: i64, max: i64) -> Option<i64> {
        let s = self.required(st, i)?;
        self.check(st, i, value::parse_int(s, min, max))
    }

    /// The single argument of `st` as an integer in `min..=max`.
    pub fn int_value(&mut self, st: &Statement, min: i64, max: i64) -> Option<i64> {
        if !self.arity(st, 1, 1) {
            return None;
        }
        self.int_arg(st, 0, min, max)
    }

    /// Argument `i` as a time in seconds in `min..=max`.
    pub fn timer_arg(
        &mut self,
        st: &Statement,
        i: usize,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let s = self.required(st, i)?;
        self.check(st, i, value::parse_timer(s, min, max))
    }

    /// The single argument of `st` as a time in seconds in `min..=max`.
    pub fn timer_value(
        &mut self,
        st: &Statement,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        if !self.arity(st, 1, 1) {
            return None;
        }
        self.timer_arg(st, 0, min, max)
    }

    /// A flag: the bare keyword means `true`, else one boolean argument.
    pub fn flag(&mut self, st: &Statement) -> Option<bool> {
        if !self.arity(st, 0, 1) {
            return None;
        }
        match st.arg(0) {
            None => Some(true),
            Some(s) => self.check(st, 0, value::parse_bool(s)),
        }
    }

    /// Argument `i` as an IP address.
    pub fn ip_arg(&mut self, st: &Statement, i: usize) -> Option<IpAddr> {
        let s = self.required(st, i)?;
        self.check(st, i, value::parse_ip(s))
    }

    /// Argument `i` copied into a fixed string of `N` bytes.
    pub fn fixed_arg<const N: usize>(&mut self, st: &Statement, i: usize) -> Option<String<N>> {
        let s = self.required(st, i)?;
        self.check(st, i, value::parse_fixed::<N>(s))
    }

    /// Argument `i` stored in the string pool.
    pub fn text_arg(&mut self, st: &Statement, i: usize, pool: &mut StringPool) -> Option<Text> {
        let s = self.required(st, i)?;
        self.store(st, i, s, pool)
    }

    /// Stores `s` (from argument `i` of `st`) in the pool, reporting a full
    /// pool against `config_bytes`.
    pub fn store(
        &mut self,
        st: &Statement,
        i: usize,
        s: &str,
        pool: &mut StringPool,
    ) -> Option<Text> {
        match pool.add(s) {
            Ok(t) => Some(t),
            Err(_) => {
                self.capacity(st.arg_loc(i), "config_bytes");
                None
            }
        }
    }

    /// Argument `i`, or an error saying it is missing.
    pub fn required<'s>(&mut self, st: &'s Statement, i: usize) -> Option<&'s str> {
        let s = st.arg(i);
        if s.is_none() {
            self.diags.error(
                st.arg_loc(i),
                format_args!("'{}' needs a value here", st.keyword()),
            );
        }
        s
    }

    /// Argument `i` must be one of `choices` (exact match); returns its index.
    pub fn choice_arg(&mut self, st: &Statement, i: usize, choices: &[&str]) -> Option<usize> {
        let s = self.required(st, i)?;
        match choices.iter().position(|c| *c == s) {
            Some(k) => Some(k),
            None => {
                let mut list: String<256> = String::new();
                for (k, c) in choices.iter().enumerate() {
                    let _ = list.push_str(if k == 0 { "" } else { ", " });
                    let _ = list.push_str(c);
                }
                self.diags.error(
                    st.arg_loc(i),
                    format_args!(
                        "'{}': invalid value '{s}': expected one of {list}",
                        st.keyword()
                    ),
                );
                None
            }
        }
    }
}

/// The keyword of `known` closest to `word` (edit distance ≤ 2, or a
/// case-insensitive match), for "did you mean" hints.
///
/// Only distances up to 2 matter, so each is computed in the band of the
/// table within 2 of its diagonal ([`distance_within`]): a config full of
/// unknown words costs a few cells a letter per keyword, not a whole
/// word × keyword table.
pub fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let mut best: Option<(&str, usize)> = None;
    for k in known {
        if k.eq_ignore_ascii_case(word) {
            return Some(k);
        }
        if let Some(d) = distance_within::<2>(word.as_bytes(), k.as_bytes())
            && best.is_none_or(|(_, b)| d < b)
        {
            best = Some((k, d));
        }
    }
    best.map(|(k, _)| k)
}

/// The Levenshtein distance of `a` and `b` if it is at most `K`, else
/// `None` (also for words of 64 bytes or more). Ukkonen's band: only the
/// cells within `K` of the diagonal can lie on a path of cost ≤ `K`, the
/// others count as `K + 1`.
fn distance_within<const K: usize>(a: &[u8], b: &[u8]) -> Option<usize> {
    const N: usize = 64;
    let far = K + 1;
    if a.len() >= N || b.len() >= N || a.len().abs_diff(b.len()) > K {
        return None;
    }
    let mut prev = [far; N];
    let mut cur = [far; N];
    for (j, p) in prev.iter_mut().enumerate().take(b.len().min(K) + 1) {
        *p = j;
    }
    for i in 1..=a.len() {
        let lo = i.saturating_sub(K).max(1);
        let hi = (i + K).min(b.len());
        cur[lo - 1] = if lo == 1 && i <= K { i } else { far };
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            cur[j] = d.min(far);
            row_min = row_min.min(cur[j]);
        }
        if row_min > K {
            return None;
        }
        // The cell right of the band is out of it in the next row too.
        if hi < b.len() {
            cur[hi + 1] = far;
        }
        prev = cur;
    }
    Some(prev[b.len()]).filter(|d| *d <= K)
}

/// Top-level keywords that are whole sections picket does not implement and
/// that change behaviour, with a hint each.
const UNSUPPORTED_TOP: &[(&str, &str)] = &[
    (
        "static_routes",
        "static routes are not implemented yet; configure them outside picket",
    ),
    (
        "static_rules",
        "static rules are not implemented yet; configure them outside picket",
    ),
    ("track_group", "track groups are not implemented yet"),
    (
        "bfd_instance",
        "BFD is not implemented; use vrrp_script or track_interface",
    ),
    (
        "vrrp_track_process",
        "process tracking is not implemented; use a vrrp_script that checks the process",
    ),
    (
        "garp_group",
        "garp_group is not implemented yet; use garp_interval in the instance",
    ),
    (
        "linkbeat_interfaces",
        "link state comes from netlink; polling is not implemented",
    ),
    (
        "interface_up_down_delays",
        "interface debouncing is not implemented yet",
    ),
    ("SSL", "SSL_GET and its TLS context are not implemented"),
];

/// Top-level keywords of `keepalived.conf`, for "did you mean" hints.
const TOP_KEYWORDS: &[&str] = &[
    "global_defs",
    "static_ipaddress",
    "vrrp_script",
    "vrrp_sync_group",
    "vrrp_instance",
    "virtual_server_group",
    "virtual_server",
    "static_routes",
    "static_rules",
    "track_group",
    "bfd_instance",
    "track_file",
    "vrrp_track_file",
    "vrrp_track_process",
    "garp_group",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "SSL",
];

/// Parses the top level: dispatches each section to its parser.
pub fn parse_top(p: &mut Parser<'_>, cfg: &mut Config) {
    let mut st = Statement::new();
    while p.next_top(&mut st) {
        let kw = st.keyword();
        if kw == "global_defs" {
            global::parse_global_defs(p, &st, cfg);
        } else if global::is_top_keyword(kw) {
            global::parse_top_keyword(p, &st, cfg);
        } else if vrrp::is_top_keyword(kw) {
            vrrp::parse_top(p, &st, cfg);
        } else if lvs::is_top_keyword(kw) {
            lvs::parse_top(p, &st, cfg);
        } else if let Some((_, hint)) = UNSUPPORTED_TOP.iter().find(|(k, _)| *k == kw) {
            p.unsupported(&st, hint);
        } else {
            p.unknown(&st, "the top level", TOP_KEYWORDS);
        }
    }
}

#[cfg(test)]
pub(crate) mod test_source {
    //! A minimal statement source for parser tests that do not need the real
    //! reader: words split on whitespace, `"` quotes, `{`/`}` as tokens,
    //! `#`/`!` comments. File 0, real line/column numbers.

    use super::super::diag::FileId;
    use super::*;

    /// Statements from a string.
    pub struct TextSource<'t> {
        lines: core::iter::Enumerate<core::str::Lines<'t>>,
        pending: std::vec::Vec<(std::string::String, Loc, bool)>,
    }

    impl<'t> TextSource<'t> {
        /// Reads `text`.
        pub fn new(text: &'t str) -> Self {
            TextSource {
                lines: text.lines().enumerate(),
                pending: std::vec::Vec::new(),
            }
        }

        fn refill(&mut self) -> bool {
            while self.pending.is_empty() {
                let Some((n, line)) = self.lines.next() else {
                    return false;
                };
                let b = line.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    let c = b[i];
                    let loc = Loc::new(FileId(0), n as u32 + 1, i as u32 + 1);
                    if c == b'#' || c == b'!' {
                        break;
                    } else if c.is_ascii_whitespace() {
                        i += 1;
                    } else if c == b'{' || c == b'}' {
                        self.pending.push(((c as char).into(), loc, false));
                        i += 1;
                    } else if c == b'"' {
                        let end = line[i + 1..].find('"').map_or(b.len(), |e| i + 1 + e);
                        self.pending.push((line[i + 1..end].into(), loc, true));
                        i = end + 1;
                    } else {
                        let end = line[i..]
                            .find(|ch: char| ch.is_ascii_whitespace() || "{}#!".contains(ch))
                            .map_or(b.len(), |e| i + e);
                        self.pending.push((line[i..end].into(), loc, false));
                        i = end;
                    }
                }
                if !self.pending.is_empty() {
                    self.pending.push(("\n".into(), Loc::default(), false));
                }
            }
            true
        }
    }

    impl StatementSource for TextSource<'_> {
        fn next_event(&mut self, st: &mut Statement, _diags: &mut Diagnostics) -> Event {
            st.clear();
            loop {
                if !self.refill() {
                    return if st.is_empty() {
                        Event::End
                    } else {
                        Event::Statement
                    };
                }
                let (w, loc, quoted) = self.pending.remove(0);
                match (w.as_str(), quoted) {
                    ("}", false) if st.is_empty() => return Event::Close(loc),
                    ("}", false) => {
                        self.pending.insert(0, (w, loc, false));
                        return Event::Statement;
                    }
                    ("{", false) => {
                        st.block = true;
                        return Event::Statement;
                    }
                    ("\n", false) if st.is_empty() => {}
                    ("\n", false) => {
                        // A `{` alone on the next line belongs to this statement.
                        if self.refill() && self.pending[0].0 == "{" && !self.pending[0].2 {
                            self.pending.remove(0);
                            st.block = true;
                        }
                        return Event::Statement;
                    }
                    _ => {
                        let _ = st.push_word(&w, loc, quoted);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_source::TextSource;
    use super::*;
    use std::string::String as StdString;

    fn run(text: &str, f: impl FnOnce(&mut Parser<'_>)) -> StdString {
        let mut src = TextSource::new(text);
        let mut diags = Diagnostics::new();
        let _ = diags.files.push("t.conf");
        {
            let mut p = Parser::new(&mut src, &mut diags);
            f(&mut p);
        }
        let mut out = StdString::new();
        diags.render(&mut out).unwrap();
        out
    }

    #[test]
    fn walks_nested_blocks_and_values() {
        let text =
            "sec {\n  priority 100\n  inner\n  {\n    x 1\n  }\n  advert_int 0.5\n  flag\n}\n";
        let mut seen = std::vec::Vec::new();
        let out = run(text, |p| {
            let mut head = Statement::new();
            assert!(p.next_top(&mut head));
            assert!(p.open(&head));
            let mut st = Statement::new();
            while p.next_in_block(&mut st) {
                match st.keyword() {
                    "priority" => seen.push(p.int_value(&st, 1, 255).unwrap()),
                    "advert_int" => {
                        let d = p
                            .timer_value(&st, Duration::from_millis(10), Duration::from_secs(255))
                            .unwrap();
                        seen.push(d.total_millis() as i64);
                    }
                    "flag" => assert_eq!(p.flag(&st), Some(true)),
                    "inner" => p.skip_block(&st),
                    _ => panic!("unexpected {}", st.keyword()),
                }
            }
            assert!(!p.next_top(&mut head));
        });
        assert_eq!(out, "");
        assert_eq!(seen, [100, 500]);
    }

    #[test]
    fn reports_values_arity_and_structure() {
        let text =
            "sec {\n priority 300\n priority\n priority 1 2\n nopreempt { }\n priorit 5\n}\n}\n";
        let out = run(text, |p| {
            let mut head = Statement::new();
            assert!(p.next_top(&mut head));
            assert!(p.open(&head));
            let mut st = Statement::new();
            while p.next_in_block(&mut st) {
                match st.keyword() {
                    "priority" => {
                        let _ = p.int_value(&st, 1, 255);
                    }
                    "nopreempt" => {
                        let _ = p.flag(&st);
                    }
                    _ => p.unknown(&st, "sec", &["priority", "nopreempt"]),
                }
            }
            while p.next_top(&mut head) {}
        });
        assert_eq!(
            out,
            "t.conf:2:11: error: 'priority': invalid value '300': expected a number from 1 to 255\n\
             t.conf:3:11: error: 'priority' needs a value\n\
             t.conf:4:13: error: 'priority' takes at most 1 argument\n  hint: remove '2'\n\
             t.conf:5:2: error: 'nopreempt' does not take a block\n\
             t.conf:6:2: error: unknown keyword 'priorit' in sec\n  hint: did you mean 'priority'?\n\
             t.conf:8:1: error: extra '}'\n  hint: remove it, or look for a missing '{' above\n\
             0 fatal, 6 errors, 0 warnings\n"
        );
    }

    #[test]
    fn unclosed_block_and_missing_block() {
        let out = run("a\nb {\n x 1\n", |p| {
            let mut head = Statement::new();
            assert!(p.next_top(&mut head));
            assert!(!p.open(&head));
            assert!(p.next_top(&mut head));
            assert!(p.open(&head));
            let mut st = Statement::new();
            while p.next_in_block(&mut st) {}
        });
        assert!(
            out.contains("t.conf:1:3: error: 'a' needs a block"),
            "{out}"
        );
        assert!(
            out.contains("t.conf:2:1: error: block is not closed"),
            "{out}"
        );
    }

    #[test]
    fn capacity_names_limit_and_board() {
        let out = run("x\n", |p| p.capacity(Loc::default(), "vrrp_instances"));
        assert!(
            out.contains(&std::format!(
                "limit `vrrp_instances` = {} on board `{}`",
                limits::VRRP_INSTANCES,
                limits::BOARD
            )),
            "{out}"
        );
    }

    #[test]
    fn closest_keyword() {
        assert_eq!(
            closest("prority", &["priority", "preempt"]),
            Some("priority")
        );
        assert_eq!(closest("STATE", &["state"]), Some("state"));
        assert_eq!(closest("zzzzzz", &["state"]), None);
    }

    /// The whole Levenshtein table: the reference for the band.
    fn edit_distance(a: &[u8], b: &[u8]) -> usize {
        let mut prev: std::vec::Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut cur = std::vec![i; b.len() + 1];
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    proptest::proptest! {
        #[test]
        fn band_gives_the_distance_up_to_two(a in "[abc]{0,12}", b in "[abc]{0,12}") {
            let full = edit_distance(a.as_bytes(), b.as_bytes());
            let band = distance_within::<2>(a.as_bytes(), b.as_bytes());
            proptest::prop_assert_eq!(band, (full <= 2).then_some(full), "{} {}", a, b);
        }
    }

    #[test]
    fn closest_keyword_at_the_length_bounds() {
        // Two letters more or fewer is still a hint; three is not.
        assert_eq!(closest("priorityxx", &["priority"]), Some("priority"));
        assert_eq!(closest("prior_ty", &["priority"]), Some("priority"));
        assert_eq!(closest("prioty", &["priority"]), Some("priority"));
        assert_eq!(closest("priorityxxx", &["priority"]), None);
        assert_eq!(closest("prity", &["priority"]), None);
        // The skip keeps the nearest of several.
        assert_eq!(
            closest("advert_in", &["advert_int", "advert_interval_x", "adver"]),
            Some("advert_int")
        );
        // Reference: the skip never hides a keyword within distance 2.
        let known = [
            "state",
            "priority",
            "interface",
            "nopreempt",
            "vrrp_instance",
            "a",
            "ab",
        ];
        for w in [
            "",
            "s",
            "stat",
            "statee",
            "interfac",
            "intrface",
            "preempt",
            "vrrp_instanc",
            "abc",
        ] {
            let brute = known
                .iter()
                .map(|k| (edit_distance(w.as_bytes(), k.as_bytes()), *k))
                .filter(|(d, _)| *d <= 2)
                .min_by_key(|(d, _)| *d)
                .map(|(_, k)| k);
            let got = closest(w, &known);
            assert_eq!(
                got.map(|k| edit_distance(w.as_bytes(), k.as_bytes())),
                brute.map(|k| edit_distance(w.as_bytes(), k.as_bytes())),
                "{w}: {got:?} vs {brute:?}"
            );
        }
    }
}
