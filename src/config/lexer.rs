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
                format_args!("unterminated {} quote", if q == b'"' { "double" } else { "single" }),
                format_args!("add the closing {}; the word runs to the end of the line", q as char),
            );
        }
        let loc = self.loc(start);
        if let Err(e) = core::str::from_utf8(&buf) {
            diags.error_hint(
                loc,
                format_args!("escapes give bytes that are not UTF-8 text (at byte {})", e.valid_up_to() + 1),
                format_args!("picket keeps configuration text UTF-8; the bad bytes were replaced by '?'"),
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
