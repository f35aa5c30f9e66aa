//! Health checkers, sans-IO: which real servers answer, decided by
//! thousands of small state machines on one thread with fixed memory.
//!
//! # Primer
//!
//! Every `*_CHECK` block of the configuration is one **check** ([`CheckId`],
//! its index in `cfg.lvs.checkers`). A check sleeps until its next run, then
//! makes one **attempt**: it borrows a socket from the fixed pool
//! ([`SlotId`], `limits::CHECK_SOCKETS` of them), asks the binary to open it
//! ([`CheckAction::Open`]), is told when it connected, what it read, when
//! the peer closed or failed, and finally gives the socket back
//! ([`CheckAction::Close`]) with a [`Verdict`]. `MISC_CHECK` runs a script
//! through the core's child table instead ([`CheckAction::RunScript`]).
//!
//! The verdicts go through keepalived's retry rule (`tcp_epilog` and its
//! siblings in keepalived's `check_*.c`):
//!
//! - a success of a check that is down (or has never run) brings it up at
//!   once (one success is the "rise"; an `HTTP_GET` needs every `url` in a
//!   row, one per run);
//! - a failure of a check that is up (or has never run) is retried
//!   `retry` times, `delay_before_retry` apart; the last one brings it down;
//! - the next run is `delay_loop` after the end of the last attempt.
//!
//! The first run of each check is at a random point within its `warmup`
//! (default: its `delay_loop`), drawn from a seeded generator, so a
//! thousand checks with `delay_loop 1` spread over that second and stay
//! spread. Ups and downs come out of [`engine::Checkers::poll_report`] for
//! the real-server logic ([`crate::lvs`]).
//!
//! Attempt timeouts: `connect_timeout` for the connection, then
//! `connect_timeout` again for the whole exchange (request, response head
//! and body). A slow drip or an endless body is cut there; an endless
//! header is cut when it fills the socket's receive buffer
//! (`limits::CHECK_RX_BYTES`). Every such end is a failure, counted.
//!
//! Files: [`engine`] (the table of checks, the socket pool, the retry rule),
//! [`timers`] (the indexed deadline heap), one file per kind ([`tcp`],
//! [`http`], [`smtp`], [`dns`], [`udp`], [`ping`], [`misc`]).

pub mod dns;
pub mod engine;
pub mod http;
pub mod misc;
pub mod ping;
pub mod smtp;
pub mod tcp;
pub mod timers;
pub mod udp;

#[cfg(test)]
mod tests;

use core::fmt;
use core::net::SocketAddr;

pub use engine::{CheckAction, CheckReport, CheckStats, Checkers};

/// A check: its index in `cfg.lvs.checkers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckId(pub u16);

/// A socket of the pool (`0..limits::CHECK_SOCKETS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(pub u16);

/// The kind of socket an attempt needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    /// A TCP stream, connected without blocking; [`Checkers::handle_connected`]
    /// once the connection is up.
    Tcp,
    /// A connected UDP socket (an ICMP port unreachable then fails a
    /// receive with `ECONNREFUSED`); report it connected right after opening.
    Udp,
    /// An ICMP (or ICMPv6) echo socket; report it connected right after
    /// opening. Received data starts at the ICMP header.
    Icmp,
}

/// What the binary must open for an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketSpec {
    /// Socket kind.
    pub kind: SocketKind,
    /// Where to connect (port 0 for ICMP).
    pub dst: SocketAddr,
    /// Local address (`bindto`, `bind_port`), if any.
    pub bind: Option<SocketAddr>,
    /// `SO_MARK` (`fwmark`, 0 = none).
    pub fwmark: u32,
}

/// Why an attempt failed. Each is counted in [`CheckStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No connection, answer or exit within the time allowed.
    Timeout,
    /// The connection was refused or failed (`errno`), or an ICMP error
    /// came back (ECONNREFUSED for a port unreachable).
    Io(i32),
    /// The peer closed before the exchange was complete.
    Closed,
    /// The reply is not what the protocol says (not HTTP, not SMTP, not a
    /// DNS response, not an echo reply).
    Garbage,
    /// The reply head did not fit in the receive buffer.
    TooLong,
    /// An HTTP status code outside `status_code`.
    Status(u16),
    /// The MD5 digest of the body differs from `digest`.
    Digest,
    /// An SMTP reply code other than the one expected.
    Smtp(u16),
    /// A DNS response with a non-zero RCODE.
    Rcode(u8),
    /// A UDP reply that does not match `require_reply` or its lengths.
    Mismatch,
    /// The script exited with this status (or was killed, -signal).
    Exit(i32),
    /// No socket or child could be had (counted; retried as a failure).
    Resources,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timeout"),
            Failure::Io(e) => write!(f, "error (errno {e})"),
            Failure::Closed => f.write_str("connection closed early"),
            Failure::Garbage => f.write_str("malformed reply"),
            Failure::TooLong => f.write_str("reply head too long"),
            Failure::Status(c) => write!(f, "HTTP status code {c}"),
            Failure::Digest => f.write_str("MD5 digest mismatch"),
            Failure::Smtp(c) => write!(f, "SMTP status code {c}"),
            Failure::Rcode(c) => write!(f, "DNS RCODE {c}"),
            Failure::Mismatch => f.write_str("reply does not match"),
            Failure::Exit(s) if *s < 0 => write!(f, "killed by signal {}", -s),
            Failure::Exit(s) => write!(f, "exit status {s}"),
            Failure::Resources => f.write_str("no socket or child available"),
        }
    }
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The server answered as configured.
    Success,
    /// It did not.
    Failure(Failure),
}

/// What one input did to an attempt in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Wait for more.
    Wait,
    /// Send the next request ([`Checkers::write_request`]), then wait.
    Send,
    /// The attempt is over.
    Done(Verdict),
}

/// A small seeded generator (xorshift64*): the spread of first runs, DNS
/// ids. Not for secrets.
#[derive(Clone, Copy, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed odd constant).
    pub const fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// The protocol name keepalived writes after an address (`[ip]:tcp:80`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// `tcp`.
    Tcp,
    /// `udp`.
    Udp,
    /// `sctp`.
    Sctp,
    /// ICMP (written without a port).
    Icmp,
}

/// An address as keepalived logs it: `[10.0.0.2]:tcp:80`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trio(pub SocketAddr, pub Proto);

impl fmt::Display for Trio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.1 {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
            Proto::Icmp => return write!(f, "[{}]", self.0.ip()),
        };
        write!(f, "[{}]:{p}:{}", self.0.ip(), self.0.port())
    }
}

/// A `fmt::Write` into a byte slice that fails when full (requests are
/// built in the caller's buffer).
pub(crate) struct SliceWriter<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl<'a> SliceWriter<'a> {
    /// Writes from the start of `out`.
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        SliceWriter { out, len: 0 }
    }

    /// Bytes written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.out.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
