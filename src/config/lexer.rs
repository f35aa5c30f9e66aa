//! Splitting logical lines into statements (keepalived's `lib/parser.c`
//! word splitting), as a [`StatementSource`].
//!
//! [`super::source`] gives logical lines (includes, conditionals, comments and
//! parameters done). Here:
//!
//! - words are split on whitespace; `{` and `}` outside quotes are tokens of
//!   their own even when they touch a word (`vrrp_instance X{`);
//! - `"…"` and `'…'` quotes are removed, keeping what is inside as it is
//!   (`abcd" efg h jkl "mnop` is one word, `"{"` is a word, not a brace); an
//!   unterminated quote is an error and the word runs to the end of the line;
//! - escapes, in and out of quotes: `\a \b \E \f \n \r \t \v`, `\nnn`
//!   (1 to 3 octal digits), `\xXX` (1 or 2 hex digits), `\cC` (control-C) and
//!   `\C` = `C`. A word whose escapes give bytes that are not UTF-8 is an
//!   error (the bad bytes become `?`);
//! - the words up to a `{`, a `}` or the end of the line are one
//!   [`Statement`]; with `block` set when a `{` follows on the same line or
//!   starts the next non-empty logical line (that `{` is consumed);
//! - a `}` is an [`Event::Close`]; what follows it on the line goes on;
//! - a `{` with no words before it is an error ("unexpected '{'"); it is
//!   returned as a [`Statement`] with **no words** and `block` set, located at
//!   the `{`, so braces still balance: the parser skips that block without
//!   another message;
//! - after the last line, [`Event::End`], on every call.

use super::diag::Loc;
use super::source::{SourceScratch, is_space, over_limit};
use super::statement::StatementFull;
use super::{ConfigFs, Diagnostics, Event, LoadOptions, Severity, Statement, StatementSource};
use crate::limits::{LINE_BYTES, WORDS_PER_LINE};

/// Reads statements from configuration files (see the module doc).
pub struct Lexer<'a> {
    fs: &'a mut dyn ConfigFs,
    src: &'a mut SourceScratch,
    /// Offset of the next byte to look at in the current logical line.
    pos: usize,
    /// Whether the source holds a current line.
    have_line: bool,
}

impl<'a> Lexer<'a> {
    /// Opens the main file `path` (a fatal diagnostic in `diags` if it cannot
    /// be read; the lexer then gives only [`Event::End`]).
    pub fn new(
        fs: &'a mut dyn ConfigFs,
        path: &str,
        opts: &LoadOptions<'_>,
        scratch: &'a mut SourceScratch,
        diags: &mut Diagnostics,
    ) -> Self {
        scratch.start(fs, path, opts, diags);
        Lexer {
            fs,
            src: scratch,
            pos: 0,
            have_line: false,
        }
    }

    /// Makes sure there is a current line with something left at `pos`;
    /// `false` at the end of every file.
    fn fill(&mut self, diags: &mut Diagnostics) -> bool {
        loop {
            if self.have_line {
                let line = self.src.line();
                while line.get(self.pos).is_some_and(|&c| is_space(c)) {
                    self.pos += 1;
                }
                if self.pos < line.len() {
                    return true;
                }
                self.have_line = false;
            }
            if !self.src.next_line(self.fs, diags) {
                return false;
            }
            self.have_line = true;
            self.pos = 0;
        }
    }

    /// The next byte of the current line, if any.
    fn peek(&self) -> Option<u8> {
        if self.have_line {
            self.src.line().get(self.pos).copied()
        } else {
            None
        }
    }

    /// Location of byte `pos` of the current line.
    fn loc(&self, pos: usize) -> Loc {
        self.src.origin().at(pos)
    }

    /// Reads one word at `pos` (not a brace, not whitespace) into `st`.
    fn word(&mut self, st: &mut Statement, full: &mut bool, diags: &mut Diagnostics) {
        let line = self.src.line();
        let start = self.pos;
        let mut buf = heapless::Vec::<u8, LINE_BYTES>::new();
        let mut quote: Option<(u8, usize)> = None;
        let mut quoted = false;
        let mut i = self.pos;
        while let Some(&c) = line.get(i) {
            match quote {
                Some((q, _)) if c == q => {
                    quote = None;
                    i += 1;
                    continue;
                }
                Some(_) => {}
                None if is_space(c) || c == b'{' || c == b'}' => break,
                None if c == b'"' || c == b'\'' => {
                    quote = Some((c, i));
                    quoted = true;
                    i += 1;
                    continue;
                }
                None => {}
            }
            if c == b'\\' {
                i = unescape(line, i, &mut buf);
            } else {
                // Never full: decoding never makes text longer.
                let _ = buf.push(c);
                i += 1;
            }
        }
        self.pos = i;
        if let Some((q, at)) = quote {
            diags.error_hint(
                self.loc(at),
                format_args!(
                    "unterminated {} quote",
                    if q == b'"' { "double" } else { "single" }
                ),
                format_args!(
                    "add the closing {}; the word runs to the end of the line",
                    q as char
                ),
            );
        }
        let loc = self.loc(start);
        if let Err(e) = core::str::from_utf8(&buf) {
            diags.error_hint(
                loc,
                format_args!(
                    "escapes give bytes that are not UTF-8 text (at byte {})",
                    e.valid_up_to() + 1
                ),
                format_args!(
                    "picket keeps configuration text UTF-8; the bad bytes were replaced by '?'"
                ),
            );
            make_utf8(&mut buf);
        }
        if *full {
            return;
        }
        let text = core::str::from_utf8(&buf).unwrap_or("");
        match st.push_word(text, loc, quoted) {
            Ok(()) => {}
            Err(StatementFull::Words) => {
                *full = true;
                over_limit(
                    diags,
                    Severity::Error,
                    Some(loc),
                    format_args!("statement has more words than"),
                    "words_per_line",
                    WORDS_PER_LINE,
                );
            }
            Err(StatementFull::Bytes) => {
                *full = true;
                over_limit(
                    diags,
                    Severity::Error,
                    Some(loc),
                    format_args!("statement has more bytes than"),
                    "line_bytes",
                    LINE_BYTES,
                );
            }
        }
    }
}

impl StatementSource for Lexer<'_> {
    fn next_event(&mut self, st: &mut Statement, diags: &mut Diagnostics) -> Event {
        st.clear();
        if !self.fill(diags) {
            return Event::End;
        }
        match self.peek() {
            Some(b'}') => {
                let loc = self.loc(self.pos);
                self.pos += 1;
                return Event::Close(loc);
            }
            Some(b'{') => {
                let loc = self.loc(self.pos);
                self.pos += 1;
                diags.error_hint(
                    loc,
                    format_args!("unexpected '{{'"),
                    format_args!(
                        "a '{{' opens the block of the keyword before it, on the same line or the line above; this block is skipped"
                    ),
                );
                st.block = true;
                st.loc = loc;
                return Event::Statement;
            }
            _ => {}
        }
        let mut full = false;
        loop {
            match self.peek() {
                None => break,
                Some(b'{' | b'}') => break,
                Some(c) if is_space(c) => self.pos += 1,
                Some(_) => self.word(st, &mut full, diags),
            }
        }
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                st.block = true;
            }
            Some(_) => {}
            None => {
                // The block's `{` may start the next non-empty line.
                if self.fill(diags) && self.peek() == Some(b'{') {
                    self.pos += 1;
                    st.block = true;
                }
            }
        }
        Event::Statement
    }
}

/// Decodes the escape at `line[i]` (a `\`) into `out`; returns the offset
/// after it.
fn unescape<const N: usize>(line: &[u8], i: usize, out: &mut heapless::Vec<u8, N>) -> usize {
    let Some(&c) = line.get(i + 1) else {
        // A lone `\` at the end of the line stays.
        let _ = out.push(b'\\');
        return i + 1;
    };
    let simple = match c {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'E' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(b) = simple {
        let _ = out.push(b);
        return i + 2;
    }
    match c {
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut j = i + 1;
            while j < i + 4 {
                match line.get(j) {
                    Some(&d @ b'0'..=b'7') => v = v * 8 + u32::from(d - b'0'),
                    _ => break,
                }
                j += 1;
            }
            let _ = out.push((v & 0xff) as u8);
            j
        }
        b'x' => {
            let mut v: u32 = 0;
            let mut j = i + 2;
            while j < i + 4 {
                match line.get(j).and_then(|&d| (d as char).to_digit(16)) {
                    Some(d) => v = v * 16 + d,
                    None => break,
                }
                j += 1;
            }
            if j == i + 2 {
                // `\x` without digits: a literal `x`.
                let _ = out.push(b'x');
            } else {
                let _ = out.push((v & 0xff) as u8);
            }
            j
        }
        b'c' => match line.get(i + 2) {
            Some(&d) if d.is_ascii() => {
                let _ = out.push(d & 0x1f);
                i + 3
            }
            _ => {
                let _ = out.push(b'c');
                i + 2
            }
        },
        _ => {
            // `\C` is C; a multi-byte character is copied whole.
            let len = match c {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            };
            let end = (i + 1 + len).min(line.len());
            let _ = out.extend_from_slice(line.get(i + 1..end).unwrap_or(&[]));
            end
        }
    }
}

/// Replaces each byte of an invalid UTF-8 sequence by `?`.
fn make_utf8<const N: usize>(buf: &mut heapless::Vec<u8, N>) {
    let mut from = 0;
    while let Some(rest) = buf.get(from..) {
        match core::str::from_utf8(rest) {
            Ok(_) => return,
            Err(e) => {
                let bad = from + e.valid_up_to();
                let n = e.error_len().unwrap_or(buf.len() - bad).max(1);
                for b in buf.iter_mut().skip(bad).take(n) {
                    *b = b'?';
                }
                from = bad + n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::memfs::MemFs;
    use crate::config::{FileId, LoadOptions};
    use crate::limits::{
        BOARD, CONFIG_BYTES, CONFIG_FILES, DEFINITION_BYTES, DEFINITIONS, INCLUDE_DEPTH,
    };
    use std::boxed::Box;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// What a run gave: events as text, first-word locations, rendered diagnostics.
    struct Out {
        ev: Vec<String>,
        locs: Vec<(u8, u32, u32)>,
        diags: Diagnostics,
        text: String,
    }

    fn run_fs(fs: &mut dyn ConfigFs, path: &str, id: &str, all: bool) -> Out {
        let mut scratch = Box::new(SourceScratch::new());
        let mut diags = Diagnostics::new();
        let opts = LoadOptions {
            config_id: id,
            all_config: all,
        };
        let mut lx = Lexer::new(fs, path, &opts, &mut scratch, &mut diags);
        let mut st = Statement::new();
        let (mut ev, mut locs) = (Vec::new(), Vec::new());
        for _ in 0..10_000 {
            match lx.next_event(&mut st, &mut diags) {
                Event::End => break,
                Event::Close(l) => {
                    ev.push("}".to_string());
                    locs.push((l.file.0, l.line, l.col));
                }
                Event::Statement => {
                    let words: Vec<String> = (0..st.len())
                        .map(|i| {
                            let w = st.word(i).unwrap();
                            if st.is_quoted(i) {
                                format!("<{w}>")
                            } else {
                                w.to_string()
                            }
                        })
                        .collect();
                    ev.push(format!(
                        "{}{}",
                        words.join(" "),
                        if st.block { " {" } else { "" }
                    ));
                    locs.push((st.loc.file.0, st.loc.line, st.loc.col));
                }
            }
        }
        assert_eq!(lx.next_event(&mut st, &mut diags), Event::End);
        let mut text = String::new();
        diags.render(&mut text).unwrap();
        Out {
            ev,
            locs,
            diags,
            text,
        }
    }

    fn lex_opts(files: &[(&str, &str)], id: &str, all: bool) -> Out {
        run_fs(&mut MemFs::new(files), files[0].0, id, all)
    }

    fn lex(files: &[(&str, &str)]) -> Out {
        lex_opts(files, "r1", false)
    }

    fn one(text: &str) -> Out {
        lex(&[("/k.conf", text)])
    }

    #[test]
    fn comments() {
        let o = one("# full\n! bang\n  a b # c\nd !e\nf \"#g\" 'h!' \\#i j#k\n\n   \n");
        assert_eq!(o.ev, ["a b", "d", "f <#g> <h!> #i j"]);
        assert!(o.diags.is_ok(), "{}", o.text);
    }

    #[test]
    fn quotes_and_escapes() {
        let o = one("w abcd\" efg h jkl \"mnop 'a \"b' \"{\" \"\"\n");
        assert_eq!(o.ev, ["w <abcd efg h jkl mnop> <a \"b> <{> <>"]);
        let o = one(r#"e \t\x41\101\cA\q\E\n "\"x\\" \{ \xzz"#);
        assert_eq!(o.ev, ["e \t\u{41}\u{41}\u{1}q\u{1b}\n <\"x\\> { xzz"]);
        assert!(o.diags.is_ok(), "{}", o.text);
    }

    #[test]
    fn unterminated_quote_runs_to_end_of_line() {
        let o = one("a \"b c { }\nnext\n");
        assert_eq!(o.ev, ["a <b c { }>", "next"]);
        assert!(
            o.text
                .starts_with("/k.conf:1:3: error: unterminated double quote"),
            "{}",
            o.text
        );
        assert_eq!(o.diags.error_count(), 1);
    }

    #[test]
    fn escapes_giving_non_utf8_are_errors() {
        let o = one("a \\xff\\303\\251 b\n");
        assert_eq!(o.ev, ["a ?é b"]);
        assert_eq!(o.diags.error_count(), 1);
        assert!(
            o.text
                .contains("1:3: error: escapes give bytes that are not UTF-8"),
            "{}",
            o.text
        );
    }

    #[test]
    fn braces_same_line_next_line_and_one_line_blocks() {
        let o = one(
            "vrrp_instance X{\n state MASTER\n}\nvrrp_script Y\n\n# c\n  { a }} b {\nvrrp_instance Z { state BACKUP priority 100 } tail\n",
        );
        assert_eq!(
            o.ev,
            [
                "vrrp_instance X {",
                "state MASTER",
                "}",
                "vrrp_script Y {",
                "a",
                "}",
                "}",
                "b {",
                "vrrp_instance Z {",
                "state BACKUP priority 100",
                "}",
                "tail",
            ]
        );
        assert_eq!(o.locs[4], (0, 7, 5));
        assert_eq!(o.locs[5], (0, 7, 7));
        assert_eq!(o.locs[6], (0, 7, 8));
        assert!(o.diags.is_ok(), "{}", o.text);
        // A statement at the end of the text has no block.
        assert_eq!(one("a b").ev, ["a b"]);
        // A `{` is never taken from a quoted word.
        assert_eq!(one("a\n\"{\"\n").ev, ["a", "<{>"]);
    }

    #[test]
    fn stray_open_brace_is_an_empty_block_statement() {
        let o = one("{ x }\na { } {\n}\n");
        assert_eq!(o.ev, [" {", "x", "}", "a {", "}", " {", "}"]);
        assert_eq!(o.locs[0], (0, 1, 1));
        assert_eq!(o.locs[5], (0, 2, 7));
        assert_eq!(o.diags.error_count(), 2);
        assert!(
            o.text.contains("/k.conf:1:1: error: unexpected '{'"),
            "{}",
            o.text
        );
        assert!(
            o.text.contains("/k.conf:2:7: error: unexpected '{'"),
            "{}",
            o.text
        );
    }

    #[test]
    fn word_locations() {
        let o = one("\n\t a  bb\n   c { d }\n");
        assert_eq!(o.locs, [(0, 2, 3), (0, 3, 4), (0, 3, 8), (0, 3, 10)]);
        let fs_files = [("/k.conf", "x  yy \"z z\"\n")];
        let mut fs = MemFs::new(&fs_files);
        let mut scratch = Box::new(SourceScratch::new());
        let mut diags = Diagnostics::new();
        let opts = LoadOptions {
            config_id: "r1",
            all_config: false,
        };
        let mut lx = Lexer::new(&mut fs, "/k.conf", &opts, &mut scratch, &mut diags);
        let mut st = Statement::new();
        assert_eq!(lx.next_event(&mut st, &mut diags), Event::Statement);
        assert_eq!(st.loc_of(1), Loc::new(FileId(0), 1, 4));
        assert_eq!(st.loc_of(2), Loc::new(FileId(0), 1, 7));
        assert_eq!(st.arg(1), Some("z z"));
    }

    #[test]
    fn errors_in_included_files_name_them() {
        let o = lex(&[
            (
                "/etc/k/m.conf",
                "a
include sub/x.conf
b
",
            ),
            (
                "/etc/k/sub/x.conf",
                "
  q 'open
",
            ),
        ]);
        assert_eq!(o.ev, ["a", "q <open>", "b"]);
        assert_eq!(o.locs[1], (1, 2, 3));
        assert!(
            o.text
                .starts_with("/etc/k/sub/x.conf:2:5: error: unterminated single quote"),
            "{}",
            o.text
        );
        // `@ID` is not checked again on a line that substitution did not change.
        let o = lex(&[(
            "/k",
            "@r1 @r2 $U
",
        )]);
        assert_eq!(o.ev, ["@r2 $U"]);
    }

    #[test]
    fn main_file_missing_or_too_large_is_fatal() {
        let mut fs = MemFs::new(&[("/other", "a")]);
        let o2 = run_fs(&mut fs, "/etc/keepalived/keepalived.conf", "r1", false);
        assert!(o2.ev.is_empty());
        assert_eq!(o2.diags.fatal_count(), 1);
        assert!(
            o2.text.starts_with(
                "fatal: cannot read /etc/keepalived/keepalived.conf: no such file or directory"
            ),
            "{}",
            o2.text
        );
        assert_eq!(o2.diags.exit_code(), 4);
        let big = "a\n".repeat(CONFIG_BYTES / 2 + 1);
        let o = one(&big);
        assert!(o.ev.is_empty());
        assert_eq!(o.diags.fatal_count(), 1);
        assert!(
            o.text.contains(&format!(
                "fatal: configuration larger than limit `config_bytes` = {CONFIG_BYTES} on board `{BOARD}`"
            )),
            "{}",
            o.text
        );
    }

    #[test]
    fn long_lines_and_bad_utf8_are_skipped() {
        let ok = "x".repeat(LINE_BYTES);
        let long = "y".repeat(LINE_BYTES + 1);
        let o = one(&format!("{ok}\n{long}\nz\n"));
        assert_eq!(o.ev.len(), 2);
        assert_eq!(o.ev[1], "z");
        assert_eq!(o.diags.error_count(), 1);
        assert!(o.text.contains("/k.conf:2:"), "{}", o.text);
        assert!(o.text.contains("limit `line_bytes` = 1024"), "{}", o.text);

        let files: [(&str, &[u8]); 1] = [("/k.conf", b"a\nb \xff\xfe c\n\"d\n")];
        let o = run_fs(&mut MemFs::from_bytes(&files), "/k.conf", "r1", false);
        assert_eq!(o.ev, ["a", "<d>"]);
        assert!(
            o.text
                .contains("/k.conf:2:3: error: line is not UTF-8 text"),
            "{}",
            o.text
        );
    }

    #[test]
    fn too_many_words() {
        let words: Vec<String> = (0..WORDS_PER_LINE + 2).map(|i| format!("w{i}")).collect();
        let o = one(&format!("{}\nnext\n", words.join(" ")));
        assert_eq!(o.ev.len(), 2);
        assert_eq!(o.ev[0].split(' ').count(), WORDS_PER_LINE);
        assert_eq!(o.diags.error_count(), 1);
        assert!(o.text.contains("limit `words_per_line`"), "{}", o.text);
    }

    #[test]
    fn include_glob_sorted_relative_and_hidden() {
        let o = lex(&[
            ("/etc/k/main.conf", "top\ninclude conf.d/*.conf\nafter\n"),
            ("/etc/k/conf.d/b.conf", "b1\n"),
            ("/etc/k/conf.d/a.conf", "a1\ninclude ../x/[xy]?.cfg\na2\n"),
            ("/etc/k/conf.d/.hidden.conf", "hidden\n"),
            ("/etc/k/conf.d/c.txt", "txt\n"),
            ("/etc/k/conf.d/d.conf/inner", "dir\n"),
            ("/etc/k/x/y1.cfg", "y1\n"),
            ("/etc/k/x/x1.cfg", "x1 {\n"),
        ]);
        assert_eq!(o.ev, ["top", "a1", "x1 {", "y1", "a2", "b1", "after"]);
        assert!(o.diags.is_ok(), "{}", o.text);
        assert_eq!(o.diags.files.len(), 5);
        // Files are numbered as opened: a glob's matches all at once.
        assert_eq!(o.diags.files.name(FileId(2)), "/etc/k/conf.d/b.conf");
        assert_eq!(o.diags.files.name(FileId(3)), "/etc/k/conf.d/../x/x1.cfg");
        assert_eq!(o.locs[2], (3, 1, 1));
        assert_eq!(o.locs[6], (0, 3, 1));
    }

    #[test]
    fn include_braces_keep_their_order_and_wildcard_dirs() {
        let o = lex(&[
            ("/m", "include /d/{b,a*}.conf\ninclude \"/s/*/k.conf\"\n"),
            ("/d/a2.conf", "a2"),
            ("/d/a1.conf", "a1"),
            ("/d/b.conf", "b"),
            ("/s/2/k.conf", "s2"),
            ("/s/1/k.conf", "s1"),
            ("/s/3/j.conf", "s3"),
        ]);
        assert_eq!(o.ev, ["b", "a1", "a2", "s1", "s2"]);
        assert!(o.diags.is_ok(), "{}", o.text);
        // A `.` pattern matches hidden files.
        let o = lex(&[("/m", "include /d/.*\n"), ("/d/.h", "h"), ("/d/v", "v")]);
        assert_eq!(o.ev, ["h"]);
    }

    #[test]
    fn include_missing_per_variant() {
        let files =
            |line: &'static str| [("/m", line), ("/d/a.conf", "a"), ("/d/locked.conf", "l")];
        let count = |line: &'static str, all: bool| {
            let f = files(line);
            let mut fs = MemFs::new(&f).with_unreadable(&["/d/locked.conf"]);
            let o = run_fs(&mut fs, "/m", "r1", all);
            (o.diags.error_count(), o.text)
        };
        assert_eq!(count("include /d/none.conf", false).0, 0);
        assert_eq!(count("include /d/*.none", false).0, 0);
        assert_eq!(count("include /d/locked.conf", false).0, 0);
        let (n, t) = count("include /d/none.conf", true);
        assert_eq!(n, 1);
        assert!(
            t.contains("/m:1:1: error: no file matches include '/d/none.conf'"),
            "{t}"
        );
        assert_eq!(count("include /d/locked.conf", true).0, 1);
        let (n, t) = count("includer /d/*.conf", false);
        assert_eq!(n, 1);
        assert!(
            t.contains("cannot read /d/locked.conf: permission denied"),
            "{t}"
        );
        assert_eq!(count("includer /d/none.conf", false).0, 0);
        assert_eq!(count("includem /d/none.conf", false).0, 1);
        assert_eq!(count("includem /d/*.conf", false).0, 0);
        let (n, t) = count("includew /d/{a.conf,*.none}", false);
        assert_eq!(n, 1);
        assert!(t.contains("wildcard '/d/*.none' matches no file"), "{t}");
        assert_eq!(count("includew /d/none.conf", false).0, 0);
        let (n, t) = count("includeb /d/{a,zz}.conf", false);
        assert_eq!(n, 1);
        assert!(t.contains("brace term '/d/zz.conf' matches no file"), "{t}");
        assert_eq!(count("includeb /d/none.conf", false).0, 0);
        assert_eq!(count("includea /d/{locked,none}.conf", false).0, 2);
        assert_eq!(count("include", false).0, 1);
    }

    #[test]
    fn self_include_stops_at_depth_limit() {
        let o = lex(&[("/k/self.conf", "s\ninclude self.conf\n")]);
        assert_eq!(o.ev.len(), INCLUDE_DEPTH);
        assert_eq!(o.diags.error_count(), 1);
        assert!(
            o.text.contains(&format!(
                "/k/self.conf:2:1: error: include of '/k/self.conf' nested deeper than limit `include_depth` = {INCLUDE_DEPTH}"
            )),
            "{}",
            o.text
        );
        assert!(o.text.contains("a file includes itself"), "{}", o.text);
    }

    #[test]
    fn too_many_files() {
        let names: Vec<String> = (0..CONFIG_FILES + 3)
            .map(|i| format!("/d/{i:03}.conf"))
            .collect();
        let mut files: Vec<(&str, &str)> = Vec::new();
        files.push(("/m", "include /d/*.conf\n"));
        for n in &names {
            files.push((n.as_str(), "x"));
        }
        let o = lex(&files);
        assert_eq!(o.ev.len(), CONFIG_FILES - 1);
        assert_eq!(o.diags.error_count(), 1);
        assert!(o.text.contains("limit `config_files`"), "{}", o.text);
    }

    #[test]
    fn conditionals() {
        let o = lex_opts(
            &[("/k", "@r1 a 1\n@r2 b\n@^r2 c {\n@^r1 d\n@r1\n@r1x e\n}\n")],
            "r1",
            false,
        );
        assert_eq!(o.ev, ["a 1", "c {", "}"]);
        assert_eq!(o.locs[0], (0, 1, 5));
        // Include detection comes first: `@id include` is not an include.
        let o = lex(&[("/k", "@r1 include x\n"), ("/x", "no")]);
        assert_eq!(o.ev, ["include x"]);
    }

    #[test]
    fn definitions_and_substitution() {
        let o = lex_opts(
            &[(
                "/k/m.conf",
                "$A=hello world\n  $E=\n$B=$A\nx $A ${A}y $Ay \"${U}\" $U \"$A\" ${E}.\n$B\n$X=@r1\n$X kept\n$Y=@r2\n$Y dropped\np ${_PWD} ${_INSTANCE} ${_HASH}${_BANG}x\n$A=again\n$B\n",
            )],
            "r1",
            false,
        );
        assert_eq!(
            o.ev,
            [
                "x hello world hello worldy $Ay <${U}> $U <$A> .",
                "hello world",
                "kept",
                "p /k r1 #!x",
                "again",
            ]
        );
        assert!(o.diags.is_ok(), "{}", o.text);
    }

    #[test]
    fn multi_line_definitions() {
        let o = one(
            "$INST=\\\nvrrp_instance ${N} { \\\n  state MASTER \\\n}\n$N=VI_1\n$INST\n$N=VI_2\n$INST\n",
        );
        assert_eq!(
            o.ev,
            [
                "vrrp_instance VI_1 {",
                "state MASTER",
                "}",
                "vrrp_instance VI_2 {",
                "state MASTER",
                "}"
            ]
        );
        assert_eq!(o.locs[0], (0, 6, 1));
        assert!(o.diags.is_ok(), "{}", o.text);
    }

    #[test]
    fn definition_errors() {
        let o = one("$_X=1\n$A=x $A\nuse $A\n$S=${S}\n$S\nok\n");
        assert_eq!(o.ev, ["ok"]);
        assert_eq!(o.diags.error_count(), 3, "{}", o.text);
        assert!(
            o.text
                .contains("/k.conf:1:1: error: parameter names starting with '_' are reserved")
        );
        assert!(o.text.contains("/k.conf:3:1: error: "), "{}", o.text);
        assert!(
            o.text
                .contains("/k.conf:5:1: error: parameters nested more than 8 deep"),
            "{}",
            o.text
        );

        let o = one("a ${_ENV HOME} ${_RANDOM 1 5} b\n");
        assert_eq!(o.ev, ["a b"]);
        assert_eq!(o.diags.error_count(), 2);
        assert!(
            o.text
                .contains("1:3: error: ${_ENV} is not supported by picket"),
            "{}",
            o.text
        );
        assert!(
            o.text.contains("${_RANDOM} is not supported by picket"),
            "{}",
            o.text
        );

        let half = "v".repeat(DEFINITION_BYTES / 2);
        let mut text = format!("$V=\\\n{half} \\\n{half}\n");
        for i in 0..=DEFINITIONS {
            text.push_str(&format!("$D{i}=v\n"));
        }
        text.push_str("$D0 $V\n");
        let o = one(&text);
        assert_eq!(o.diags.error_count(), 2, "{}", o.text);
        assert!(o.text.contains("limit `definitions`"), "{}", o.text);
        assert!(o.text.contains("limit `definition_bytes`"), "{}", o.text);
        assert_eq!(o.ev, ["v $V"]);
    }

    #[test]
    fn seq_and_lst_are_refused() {
        let o = one("~SEQ(i,1,3) a $i\n~LST(x,a,b) b\n@r1 ~SEQx(i,1,3) c\nd\n");
        assert_eq!(o.ev, ["d"]);
        assert_eq!(o.diags.error_count(), 3);
        assert!(
            o.text
                .contains("/k.conf:1:1: error: ~SEQ/~LST are not supported by picket")
        );
        assert!(o.text.contains("hint: expand the lines by hand"));
        assert!(o.text.contains("/k.conf:3:5: error: ~SEQ"), "{}", o.text);
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const SOUP: &[&str] = &[
            "{",
            "}",
            "\"",
            "'",
            "\\",
            "\n",
            " ",
            "\t",
            "#",
            "!",
            "a",
            "word",
            "$A=",
            "$B=\\\n",
            "$A",
            "${A}",
            "${B}",
            "$_X=",
            "@r1 ",
            "@^r1 ",
            "include /f/*\n",
            "include /f/a\n",
            "includea /f/{a,b,zz}\n",
            "~SEQ(",
            "${_HASH}",
            "${_ENV X}",
            "\\x",
            "\\377",
            "\\c",
            "\u{e9}",
            "\r",
        ];

        fn drive(files: &[(&str, &[u8])]) {
            let mut fs = MemFs::from_bytes(files);
            let mut scratch = Box::new(SourceScratch::new());
            let mut diags = Diagnostics::new();
            let opts = LoadOptions {
                config_id: "r1",
                all_config: true,
            };
            let mut lx = Lexer::new(&mut fs, "/f/a", &opts, &mut scratch, &mut diags);
            let mut st = Statement::new();
            let mut ended = false;
            for _ in 0..200_000 {
                if lx.next_event(&mut st, &mut diags) == Event::End {
                    ended = true;
                    break;
                }
            }
            assert!(ended, "no End");
            assert_eq!(lx.next_event(&mut st, &mut diags), Event::End);
        }

        fn soup() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(proptest::sample::select(SOUP), 0..200)
                .prop_map(|v| v.concat().into_bytes())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn random_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..3000),
                                        b in proptest::collection::vec(any::<u8>(), 0..300)) {
                drive(&[("/f/a", &a), ("/f/b", &b)]);
            }

            #[test]
            fn token_soup_never_panics(a in soup(), b in soup()) {
                drive(&[("/f/a", &a), ("/f/b", &b)]);
            }
        }
    }
}
