//! `SMTP_CHECK`: the banner must be `220`, `HELO <helo_name>` must get
//! `250`, `QUIT` must get `221` (keepalived's `check_smtp.c` states).
//!
//! Replies are parsed zero-copy from the receive buffer (RFC 5321 §4.2):
//! lines `NNN-text` continue, `NNN text` (or `NNN`) ends a reply; every line
//! of one reply must carry the same code. A reply that does not fit in the
//! buffer, or anything else, fails the check.

use core::fmt::Write as _;

use super::{Failure, Step, Verdict};

/// keepalived's HELO name when none is configured.
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// Why bytes are not (yet) an SMTP reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// The last line has not arrived yet.
    Incomplete,
    /// Not `NNN[ -]...` lines with one code.
    Malformed,
}

/// A complete reply at the start of `buf`: its code and its length.
pub fn parse_reply(buf: &[u8]) -> Result<(u16, usize), ReplyError> {
    let mut at = 0;
    let mut code = None;
    loop {
        let rest = buf.get(at..).unwrap_or(&[]);
        let Some(nl) = rest.iter().position(|c| *c == b'\n') else {
            // Judge what there is of the line.
            let ok = rest.iter().take(3).all(u8::is_ascii_digit)
                && rest.get(3).is_none_or(|c| matches!(c, b' ' | b'-' | b'\r'));
            return Err(if ok {
                ReplyError::Incomplete
            } else {
                ReplyError::Malformed
            });
        };
        let line = rest.get(..nl).unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let digits = line.get(..3).ok_or(ReplyError::Malformed)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(ReplyError::Malformed);
        }
        let c = digits
            .iter()
            .fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
        if code.is_some_and(|k| k != c) {
            return Err(ReplyError::Malformed);
        }
        code = Some(c);
        at += nl + 1;
        match line.get(3) {
            None | Some(b' ') => return Ok((c, at)),
            Some(b'-') => continue,
            Some(_) => return Err(ReplyError::Malformed),
        }
    }
}

/// Where the dialogue is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for the 220 banner.
    Banner,
    /// HELO sent, waiting for 250.
    Helo,
    /// QUIT sent, waiting for 221.
    Quit,
}

/// One SMTP dialogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialogue {
    stage: Stage,
}

impl Default for Dialogue {
    fn default() -> Self {
        Self::new()
    }
}

impl Dialogue {
    /// Before the connection.
    pub fn new() -> Self {
        Dialogue {
            stage: Stage::Banner,
        }
    }

    /// Connected: wait for the banner.
    pub(crate) fn on_connected(&mut self) -> Step {
        Step::Wait
    }

    /// Received bytes: returns the step and the bytes consumed.
    pub(crate) fn on_data(&mut self, buf: &[u8]) -> (Step, usize) {
        let (code, used) = match parse_reply(buf) {
            Ok(r) => r,
            Err(ReplyError::Incomplete) => return (Step::Wait, 0),
            Err(ReplyError::Malformed) => {
                return (Step::Done(Verdict::Failure(Failure::Garbage)), buf.len());
            }
        };
        let (want, next) = match self.stage {
            Stage::Banner => (220, Some(Stage::Helo)),
            Stage::Helo => (250, Some(Stage::Quit)),
            Stage::Quit => (221, None),
        };
        if code != want {
            return (Step::Done(Verdict::Failure(Failure::Smtp(code))), used);
        }
        match next {
            Some(s) => {
                self.stage = s;
                (Step::Send, used)
            }
            None => (Step::Done(Verdict::Success), used),
        }
    }

    /// The peer closed.
    pub(crate) fn on_eof(&mut self) -> Step {
        Step::Done(Verdict::Failure(Failure::Closed))
    }

    /// The command to send now (`HELO` or `QUIT`) into `out`.
    pub fn write_command(&self, helo: &str, out: &mut [u8]) -> Option<usize> {
        let mut w = super::SliceWriter::new(out);
        let r = match self.stage {
            Stage::Banner => return None,
            Stage::Helo => write!(w, "HELO {helo}\r\n"),
            Stage::Quit => w.write_str("QUIT\r\n"),
        };
        r.ok().map(|()| w.len())
    }
}
