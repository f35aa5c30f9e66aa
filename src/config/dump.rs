//! Writing a configuration back in keepalived syntax.
//!
//! The output is *normalised*: one statement a line, four spaces of indent
//! per block, words quoted only when they must be (so the reader gives the
//! same word back), times in seconds with the shortest exact fraction.

use core::fmt::{self, Write as _};

use super::strings::{StringPool, Text};
use super::value::Timer;
use crate::time::Duration;

/// Writes indented keepalived syntax to a `fmt::Write`.
pub struct Dumper<'a> {
    out: &'a mut dyn fmt::Write,
    strings: &'a StringPool,
    depth: usize,
}

/// A word as it must be written so the reader gives it back: bare when it
/// is safe, else in double quotes with `"` and `\` escaped.
#[derive(Clone, Copy, Debug)]
pub struct Word<'s>(pub &'s str);

impl fmt::Display for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let plain = !s.is_empty()
            && s.chars().all(|c| {
                !c.is_whitespace() && !matches!(c, '"' | '\'' | '\\' | '#' | '!' | '{' | '}')
            });
        if plain {
            return f.write_str(s);
        }
        f.write_char('"')?;
        for c in s.chars() {
            if matches!(c, '"' | '\\') {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
        }
        f.write_char('"')
    }
}

impl<'a> Dumper<'a> {
    /// A dumper writing to `out`, resolving [`Text`] handles in `strings`.
    pub fn new(out: &'a mut dyn fmt::Write, strings: &'a StringPool) -> Self {
        Dumper {
            out,
            strings,
            depth: 0,
        }
    }

    /// The string behind a handle.
    pub fn text(&self, t: Text) -> &'a str {
        self.strings.get(t)
    }

    fn indent(&mut self) -> fmt::Result {
        for _ in 0..self.depth {
            self.out.write_str("    ")?;
        }
        Ok(())
    }

    /// Writes `keyword args` on a line of its own. `args` is written as
    /// given: wrap free text in [`Word`].
    pub fn line(&mut self, keyword: &str, args: fmt::Arguments<'_>) -> fmt::Result {
        self.indent()?;
        self.out.write_str(keyword)?;
        let mut probe = NonEmpty(false);
        let _ = probe.write_fmt(args);
        if probe.0 {
            self.out.write_char(' ')?;
            self.out.write_fmt(args)?;
        }
        self.out.write_char('\n')
    }

    /// Writes a bare keyword (a flag) on a line of its own.
    pub fn flag(&mut self, keyword: &str) -> fmt::Result {
        self.line(keyword, format_args!(""))
    }

    /// Writes `keyword` followed by one free-text word, quoted if needed.
    pub fn word(&mut self, keyword: &str, value: &str) -> fmt::Result {
        self.line(keyword, format_args!("{}", Word(value)))
    }

    /// Writes `keyword` and a time in seconds.
    pub fn timer(&mut self, keyword: &str, d: Duration) -> fmt::Result {
        self.line(keyword, format_args!("{}", Timer(d)))
    }

    /// Writes `keyword` and a boolean as `true`/`false`.
    pub fn boolean(&mut self, keyword: &str, b: bool) -> fmt::Result {
        self.line(
            keyword,
            format_args!("{}", if b { "true" } else { "false" }),
        )
    }

    /// Opens a block: `keyword args {` and indents.
    pub fn open(&mut self, keyword: &str, args: fmt::Arguments<'_>) -> fmt::Result {
        self.indent()?;
        self.out.write_str(keyword)?;
        let mut probe = NonEmpty(false);
        let _ = probe.write_fmt(args);
        if probe.0 {
            self.out.write_char(' ')?;
            self.out.write_fmt(args)?;
        }
        self.out.write_str(" {\n")?;
        self.depth += 1;
        Ok(())
    }

    /// Closes the innermost block.
    pub fn close(&mut self) -> fmt::Result {
        self.depth = self.depth.saturating_sub(1);
        self.indent()?;
        self.out.write_str("}\n")
    }

    /// Writes a blank line between top-level sections.
    pub fn blank(&mut self) -> fmt::Result {
        self.out.write_char('\n')
    }
}

/// Finds out whether formatting some arguments writes anything.
struct NonEmpty(bool);

impl fmt::Write for NonEmpty {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !s.is_empty() {
            self.0 = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn writes_blocks_words_and_timers() {
        let mut pool = StringPool::new();
        let cmd = pool.add("/bin/echo 'a b'").unwrap();
        let mut out = String::new();
        {
            let mut d = Dumper::new(&mut out, &pool);
            d.open("vrrp_instance", format_args!("{}", Word("VI_1")))
                .unwrap();
            d.line("priority", format_args!("{}", 100)).unwrap();
            d.timer("advert_int", Duration::from_millis(250)).unwrap();
            d.word("notify_master", d.text(cmd)).unwrap();
            d.word("auth_pass", "").unwrap();
            d.flag("nopreempt").unwrap();
            d.open("virtual_ipaddress", format_args!("")).unwrap();
            d.line("10.0.0.1/24", format_args!("dev {}", "eth0"))
                .unwrap();
            d.close().unwrap();
            d.close().unwrap();
        }
        assert_eq!(
            out,
            "vrrp_instance VI_1 {\n    priority 100\n    advert_int 0.25\n    notify_master \"/bin/echo 'a b'\"\n    auth_pass \"\"\n    nopreempt\n    virtual_ipaddress {\n        10.0.0.1/24 dev eth0\n    }\n}\n"
        );
    }

    #[test]
    fn quotes_only_what_must_be() {
        assert_eq!(std::format!("{}", Word("eth0")), "eth0");
        assert_eq!(std::format!("{}", Word("a b")), "\"a b\"");
        assert_eq!(std::format!("{}", Word("x#y")), "\"x#y\"");
        assert_eq!(std::format!("{}", Word("q\"\\")), "\"q\\\"\\\\\"");
        assert_eq!(std::format!("{}", Word("{")), "\"{\"");
    }
}
