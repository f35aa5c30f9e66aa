//! A child's argument vector in one fixed buffer, and the splitting of a
//! script command line into it.
//!
//! Splitting follows keepalived's rules for script keywords
//! (keepalived.conf(5), "Quoted strings"; reference §a.4 "Script keywords"):
//!
//! - unquoted blanks (space, tab) separate arguments; runs of blanks count once;
//! - `'…'` and `"…"` protect blanks; the quotes are removed, and quoted text
//!   joins the unquoted text next to it (`a"b c"d` is the one argument `ab cd`);
//!   inside one kind of quote the other kind is an ordinary character;
//! - `''` or `""` alone is an empty argument;
//! - backslashes are not special here (the config reader has already decoded
//!   escapes); an unterminated quote is an error, not a guess.
//!
//! The buffer holds every argument followed by a NUL, so the binary can hand
//! pointers to `execve(2)` without copying.

use core::fmt;

use crate::limits::{CHILD_ARGS, COMMAND_BYTES};

/// Bytes of an [`ArgvBuf`]: a command line of `COMMAND_BYTES` plus the NUL
/// after its last argument (a blank or quote is dropped for every other NUL).
pub const ARGV_BYTES: usize = COMMAND_BYTES + 1;

/// Why a command line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgvError {
    /// Nothing but blanks: there is no program to run.
    Empty,
    /// More than `child_args` arguments (the program included).
    TooManyArgs,
    /// The arguments do not fit in `command_bytes`.
    TooLong,
    /// A `'` or `"` is not closed.
    UnterminatedQuote,
    /// An argument contains a NUL byte, which `execve(2)` cannot pass.
    Nul,
}

impl fmt::Display for ArgvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArgvError::Empty => "empty command",
            ArgvError::TooManyArgs => "too many arguments (limit `child_args`)",
            ArgvError::TooLong => "command too long (limit `command_bytes`)",
            ArgvError::UnterminatedQuote => "unterminated quote",
            ArgvError::Nul => "NUL byte in command",
        })
    }
}

/// An argument vector: up to `CHILD_ARGS` NUL-terminated arguments in one
/// fixed buffer. Argument 0 is the program (a path, or a name looked up in
/// `PATH` by the binary).
#[derive(Clone, PartialEq, Eq)]
pub struct ArgvBuf {
    bytes: [u8; ARGV_BYTES],
    /// Bytes used, NULs included.
    len: u16,
    /// Start of each argument in `bytes`.
    starts: [u16; CHILD_ARGS],
    argc: u8,
}

impl Default for ArgvBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ArgvBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.args()).finish()
    }
}

impl fmt::Display for ArgvBuf {
    /// The arguments separated by spaces (not re-quoted; for logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(a)?;
        }
        Ok(())
    }
}

impl ArgvBuf {
    /// No arguments.
    pub const fn new() -> Self {
        ArgvBuf {
            bytes: [0; ARGV_BYTES],
            len: 0,
            starts: [0; CHILD_ARGS],
            argc: 0,
        }
    }

    /// Removes every argument.
    pub fn clear(&mut self) {
        self.len = 0;
        self.argc = 0;
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        usize::from(self.argc)
    }

    /// Whether there is no argument (so nothing to run).
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Appends one argument.
    pub fn push(&mut self, arg: &str) -> Result<(), ArgvError> {
        self.start_arg()?;
        for &b in arg.as_bytes() {
            self.push_byte(b)?;
        }
        self.end_arg()
    }

    fn start_arg(&mut self) -> Result<(), ArgvError> {
        let i = usize::from(self.argc);
        if i >= CHILD_ARGS {
            return Err(ArgvError::TooManyArgs);
        }
        self.starts[i] = self.len;
        self.argc += 1;
        Ok(())
    }

    fn push_byte(&mut self, b: u8) -> Result<(), ArgvError> {
        if b == 0 {
            return Err(ArgvError::Nul);
        }
        // Room must remain for this argument's NUL.
        let at = usize::from(self.len);
        if at + 1 >= ARGV_BYTES {
            return Err(ArgvError::TooLong);
        }
        self.bytes[at] = b;
        self.len += 1;
        Ok(())
    }

    fn end_arg(&mut self) -> Result<(), ArgvError> {
        let at = usize::from(self.len);
        if at >= ARGV_BYTES {
            return Err(ArgvError::TooLong);
        }
        self.bytes[at] = 0;
        self.len += 1;
        Ok(())
    }

    /// Argument `i` with its terminating NUL (what `execve(2)` wants).
    pub fn arg_with_nul(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len() {
            return None;
        }
        let start = usize::from(self.starts[i]);
        let end = if i + 1 < self.len() {
            usize::from(self.starts[i + 1])
        } else {
            usize::from(self.len)
        };
        self.bytes.get(start..end)
    }

    /// Argument `i` without its NUL.
    pub fn arg(&self, i: usize) -> Option<&str> {
        let b = self.arg_with_nul(i)?;
        core::str::from_utf8(b.get(..b.len().saturating_sub(1))?).ok()
    }

    /// The program (argument 0).
    pub fn program(&self) -> Option<&str> {
        self.arg(0)
    }

    /// The arguments, in order.
    pub fn args(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.arg(i))
    }
}

/// Splits a script command line into `out` (cleared first) by keepalived's
/// rules (see the module doc). On error `out` is left empty.
pub fn split_command(line: &str, out: &mut ArgvBuf) -> Result<(), ArgvError> {
    out.clear();
    let r = split_into(line, out);
    if r.is_err() {
        out.clear();
    }
    r
}

fn split_into(line: &str, out: &mut ArgvBuf) -> Result<(), ArgvError> {
    if line.len() > COMMAND_BYTES {
        return Err(ArgvError::TooLong);
    }
    let mut in_arg = false;
    let mut quote: Option<u8> = None;
    for &b in line.as_bytes() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => out.push_byte(b)?,
            None => match b {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    if in_arg {
                        out.end_arg()?;
                        in_arg = false;
                    }
                }
                b'\'' | b'"' => {
                    if !in_arg {
                        out.start_arg()?;
                        in_arg = true;
                    }
                    quote = Some(b);
                }
                _ => {
                    if !in_arg {
                        out.start_arg()?;
                        in_arg = true;
                    }
                    out.push_byte(b)?;
                }
            },
        }
    }
    if quote.is_some() {
        return Err(ArgvError::UnterminatedQuote);
    }
    if in_arg {
        out.end_arg()?;
    }
    if out.is_empty() {
        return Err(ArgvError::Empty);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn split(s: &str) -> Result<Vec<String>, ArgvError> {
        let mut a = ArgvBuf::new();
        split_command(s, &mut a)?;
        Ok(a.args().map(String::from).collect())
    }

    #[test]
    fn unquoted_blanks_split() {
        assert_eq!(
            split("/bin/echo  a\tb   c ").unwrap(),
            ["/bin/echo", "a", "b", "c"]
        );
    }

    #[test]
    fn quotes_protect_blanks_and_join() {
        assert_eq!(
            split("/bin/sh -c 'echo hi there'").unwrap(),
            ["/bin/sh", "-c", "echo hi there"]
        );
        assert_eq!(split(r#"x "a b" c"d e"f"#).unwrap(), ["x", "a b", "cd ef"]);
        assert_eq!(split(r#"x "it's" '"q"'"#).unwrap(), ["x", "it's", "\"q\""]);
        assert_eq!(split("x '' \"\"").unwrap(), ["x", "", ""]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("   "), Err(ArgvError::Empty));
        assert_eq!(split(""), Err(ArgvError::Empty));
        assert_eq!(split("x 'abc"), Err(ArgvError::UnterminatedQuote));
        assert_eq!(split("x \"abc"), Err(ArgvError::UnterminatedQuote));
        let many = "a ".repeat(CHILD_ARGS + 1);
        assert_eq!(split(&many), Err(ArgvError::TooManyArgs));
        assert_eq!(split(&"a ".repeat(CHILD_ARGS)).unwrap().len(), CHILD_ARGS);
        let long = "b".repeat(COMMAND_BYTES + 1);
        assert_eq!(split(&long), Err(ArgvError::TooLong));
        assert_eq!(split("a\0b"), Err(ArgvError::Nul));
    }

    #[test]
    fn longest_single_word_fits_with_its_nul() {
        let long = "b".repeat(COMMAND_BYTES);
        let mut a = ArgvBuf::new();
        split_command(&long, &mut a).unwrap();
        assert_eq!(a.arg(0).unwrap().len(), COMMAND_BYTES);
        assert_eq!(a.arg_with_nul(0).unwrap().last(), Some(&0));
    }

    #[test]
    fn nul_terminated_args_for_execve() {
        let mut a = ArgvBuf::new();
        split_command("/bin/true x", &mut a).unwrap();
        assert_eq!(a.arg_with_nul(0).unwrap(), b"/bin/true\0");
        assert_eq!(a.arg_with_nul(1).unwrap(), b"x\0");
        assert_eq!(a.arg_with_nul(2), None);
        assert_eq!(a.program(), Some("/bin/true"));
        assert_eq!(std::format!("{a}"), "/bin/true x");
    }
}
