//! A JSON writer without allocation: values go straight into any
//! [`fmt::Write`] (a fixed buffer, a file sink), strings escaped as RFC 8259
//! §7 asks, commas placed by a small state kept beside the output so a
//! document can be written in pieces ([`JsonState`] is `Copy`: a piece that
//! does not fit is rolled back by restoring the state and the buffer's
//! length).
//!
//! Nesting is bounded by [`MAX_DEPTH`]; deeper nesting is an error
//! ([`fmt::Error`]), never a panic.

use core::fmt::{self, Write};
use core::net::IpAddr;

/// Deepest nesting of objects and arrays.
pub const MAX_DEPTH: u8 = 31;

/// Where the writer is: the depth and, per level, whether a value was
/// already written there (so the next one needs a comma).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonState {
    /// Bit `d`: level `d` holds at least one value.
    used: u32,
    depth: u8,
    /// A key was written; its value follows without a comma.
    after_key: bool,
}

impl JsonState {
    /// The top level, nothing written.
    pub const fn new() -> Self {
        JsonState {
            used: 0,
            depth: 0,
            after_key: false,
        }
    }

    /// The nesting depth (0 at the top level).
    pub fn depth(&self) -> u8 {
        self.depth
    }
}

/// Writes JSON into `out`, keeping its [`JsonState`] in `state`.
pub struct Json<'o, 's> {
    out: &'o mut dyn Write,
    state: &'s mut JsonState,
}

impl<'o, 's> Json<'o, 's> {
    /// A writer continuing from `state`.
    pub fn new(out: &'o mut dyn Write, state: &'s mut JsonState) -> Self {
        Json { out, state }
    }

    /// The comma before a value, unless it follows a key or opens a level.
    fn value_prefix(&mut self) -> fmt::Result {
        if self.state.after_key {
            self.state.after_key = false;
            return Ok(());
        }
        let bit = 1u32 << self.state.depth;
        if self.state.used & bit != 0 {
            self.out.write_char(',')?;
        }
        self.state.used |= bit;
        Ok(())
    }

    fn open(&mut self, c: char) -> fmt::Result {
        if self.state.depth >= MAX_DEPTH {
            return Err(fmt::Error);
        }
        self.value_prefix()?;
        self.out.write_char(c)?;
        self.state.depth += 1;
        self.state.used &= !(1u32 << self.state.depth);
        Ok(())
    }

    fn close(&mut self, c: char) -> fmt::Result {
        if self.state.depth == 0 || self.state.after_key {
            return Err(fmt::Error);
        }
        self.out.write_char(c)?;
        self.state.depth -= 1;
        Ok(())
    }

    /// `{`.
    pub fn begin_object(&mut self) -> fmt::Result {
        self.open('{')
    }

    /// `}`.
    pub fn end_object(&mut self) -> fmt::Result {
        self.close('}')
    }

    /// `[`.
    pub fn begin_array(&mut self) -> fmt::Result {
        self.open('[')
    }

    /// `]`.
    pub fn end_array(&mut self) -> fmt::Result {
        self.close(']')
    }

    /// `"key":` inside an object; the value comes next.
    pub fn key(&mut self, key: &str) -> fmt::Result {
        self.value_prefix()?;
        escaped(self.out, key)?;
        self.out.write_char(':')?;
        self.state.after_key = true;
        Ok(())
    }

    /// A string value.
    pub fn str(&mut self, v: &str) -> fmt::Result {
        self.value_prefix()?;
        escaped(self.out, v)
    }

    /// A string value written by `Display` (an address, a state name),
    /// escaped as it goes.
    pub fn display(&mut self, v: &dyn fmt::Display) -> fmt::Result {
        self.value_prefix()?;
        self.out.write_char('"')?;
        write!(Escaper(self.out), "{v}")?;
        self.out.write_char('"')
    }

    /// An unsigned number.
    pub fn u64(&mut self, v: u64) -> fmt::Result {
        self.value_prefix()?;
        write!(self.out, "{v}")
    }

    /// A signed number.
    pub fn i64(&mut self, v: i64) -> fmt::Result {
        self.value_prefix()?;
        write!(self.out, "{v}")
    }

    /// A number written by `Display` (the caller makes sure it prints a
    /// JSON number, e.g. `2.5`).
    pub fn number(&mut self, v: &dyn fmt::Display) -> fmt::Result {
        self.value_prefix()?;
        write!(self.out, "{v}")
    }

    /// A number of microseconds written as seconds with six decimals
    /// (`1796178621.069893`, keepalived's form of times).
    pub fn micros_as_secs(&mut self, micros: u64) -> fmt::Result {
        self.value_prefix()?;
        write!(self.out, "{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    }

    /// `true` or `false`.
    pub fn bool(&mut self, v: bool) -> fmt::Result {
        self.value_prefix()?;
        self.out.write_str(if v { "true" } else { "false" })
    }

    /// `null`.
    pub fn null(&mut self) -> fmt::Result {
        self.value_prefix()?;
        self.out.write_str("null")
    }

    /// An address as a string.
    pub fn ip(&mut self, v: IpAddr) -> fmt::Result {
        self.display(&v)
    }

    /// `"key":"value"`.
    pub fn field_str(&mut self, key: &str, v: &str) -> fmt::Result {
        self.key(key)?;
        self.str(v)
    }

    /// `"key":number`.
    pub fn field_u64(&mut self, key: &str, v: u64) -> fmt::Result {
        self.key(key)?;
        self.u64(v)
    }

    /// `"key":true|false`.
    pub fn field_bool(&mut self, key: &str, v: bool) -> fmt::Result {
        self.key(key)?;
        self.bool(v)
    }

    /// `"key":"Display of v"`.
    pub fn field_display(&mut self, key: &str, v: &dyn fmt::Display) -> fmt::Result {
        self.key(key)?;
        self.display(v)
    }

    /// `"key":` and a number of microseconds as seconds, or `null`.
    pub fn field_secs(&mut self, key: &str, micros: Option<u64>) -> fmt::Result {
        self.key(key)?;
        match micros {
            Some(m) => self.micros_as_secs(m),
            None => self.null(),
        }
    }

    /// Every `(name, value)` as fields of the current object.
    pub fn counters(&mut self, it: impl Iterator<Item = (&'static str, u64)>) -> fmt::Result {
        for (name, value) in it {
            self.field_u64(name, value)?;
        }
        Ok(())
    }
}

/// Writes `s` as a JSON string: quotes around, `"` `\` and control
/// characters escaped (RFC 8259 §7).
pub fn escaped(out: &mut dyn Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaper(out).write_str(s)?;
    out.write_char('"')
}

/// Escapes what passes through it (the inside of a JSON string).
struct Escaper<'o>(&'o mut dyn Write);

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            self.0.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or(' ');
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c => write!(self.0, "\\u{:04x}", u32::from(c))?,
            }
            rest = &rest[i + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// A [`fmt::Write`] into a fixed byte buffer: a write that does not fit is
/// an error (what fitted stays; the caller rolls back with
/// [`FixedBuf::truncate`]).
pub struct FixedBuf<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> FixedBuf<'b> {
    /// Writes after the first `len` bytes of `buf`.
    pub fn new(buf: &'b mut [u8], len: usize) -> Self {
        let len = len.min(buf.len());
        FixedBuf { buf, len }
    }

    /// Bytes written (including the first `len`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets everything after `len`.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The bytes written.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl Write for FixedBuf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn doc(f: impl FnOnce(&mut Json<'_, '_>) -> fmt::Result) -> String {
        let mut s = String::new();
        let mut st = JsonState::default();
        f(&mut Json::new(&mut s, &mut st)).unwrap();
        assert_eq!(st.depth(), 0);
        s
    }

    #[test]
    fn commas_keys_and_nesting() {
        let s = doc(|j| {
            j.begin_object()?;
            j.field_str("a", "x")?;
            j.key("b")?;
            j.begin_array()?;
            j.u64(1)?;
            j.begin_object()?;
            j.end_object()?;
            j.begin_array()?;
            j.end_array()?;
            j.null()?;
            j.end_array()?;
            j.field_bool("c", true)?;
            j.field_secs("t", Some(1_796_178_621_069_893))?;
            j.field_secs("u", None)?;
            j.key("ip")?;
            j.ip("fd00::1".parse().unwrap())?;
            j.end_object()
        });
        assert_eq!(
            s,
            r#"{"a":"x","b":[1,{},[],null],"c":true,"t":1796178621.069893,"u":null,"ip":"fd00::1"}"#
        );
    }

    #[test]
    fn strings_are_escaped() {
        let s = doc(|j| j.str("q\"b\\n\nt\tc\u{1}é/"));
        assert_eq!(s, "\"q\\\"b\\\\n\\nt\\tc\\u0001é/\"");
        let s = doc(|j| j.display(&format_args!("a\"{}", 1)));
        assert_eq!(s, "\"a\\\"1\"");
    }

    #[test]
    fn misuse_is_an_error_not_a_panic() {
        let mut s = String::new();
        let mut st = JsonState::default();
        let mut j = Json::new(&mut s, &mut st);
        assert!(j.end_object().is_err());
        for _ in 0..MAX_DEPTH {
            j.begin_array().unwrap();
        }
        assert!(j.begin_array().is_err());
    }

    #[test]
    fn fixed_buffer_refuses_what_does_not_fit() {
        let mut b = [0u8; 8];
        let mut f = FixedBuf::new(&mut b, 0);
        assert!(f.write_str("12345").is_ok());
        assert!(f.write_str("6789").is_err());
        assert_eq!(f.as_bytes(), b"12345");
        f.truncate(2);
        assert_eq!(f.as_bytes(), b"12");
    }
}
