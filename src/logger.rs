//! The `log` backend: each line is formatted into a fixed
//! `[u8; LOG_LINE_BYTES]` on the stack (cut when longer, never allocated) and
//! written with one `write(2)`/`send(2)`.
//!
//! - console (`-l`): stderr, `[ seconds.micros] LEVEL message`, the
//!   timestamp on the monotonic clock (as the loop's `now`);
//! - syslog (default): the `/dev/log` datagram socket, RFC 3164
//!   `<PRI>Mmm dd hh:mm:ss picket[pid]: message`, facility from `-S`
//!   (default daemon). If `/dev/log` cannot be reached at start-up the
//!   console is used instead; a line the socket refuses later goes to stderr.
//!
//! Nothing here waits for a reader. A line stderr cannot take at once (a
//! full pipe nobody reads, a tty stopped with ^S, a full journal socket)
//! is dropped and counted ([`dropped`]), as [`ErrSink`] says.
//!
//! The logger is a `static` with atomic state only (and stderr's sink, set
//! once): no lock, no allocation.

use std::fmt::{self, Write as _};
use std::io::stderr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, send};
use nix::sys::stat::{Mode, SFlag, fstat};
use picket::limits::LOG_LINE_BYTES;

use crate::sys::clock;

/// Syslog facility codes (RFC 3164 §4.1.1).
pub const FACILITY_USER: u8 = 1;
/// `daemon`, keepalived's default.
pub const FACILITY_DAEMON: u8 = 3;
/// `local0`; `local7` is 23.
pub const FACILITY_LOCAL0: u8 = 16;

/// The logger.
pub struct Logger {
    /// Syslog socket fd, or -1 for the console.
    syslog_fd: AtomicI32,
    facility: AtomicU8,
    pid: AtomicU32,
    truncated: AtomicU64,
    /// Lines stderr could not take at once.
    dropped: AtomicU64,
    installed: AtomicBool,
    /// stderr, written without blocking (set at [`init`]).
    stderr: OnceLock<ErrSink>,
}

/// The one logger.
pub static LOGGER: Logger = Logger::new();

/// How [`ErrSink`] writes without blocking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// `write(2)` on a descriptor that never waits: a regular file (no
    /// reader to wait for), or a FIFO or tty reopened with `O_NONBLOCK`.
    Write,
    /// `send(2)` with `MSG_DONTWAIT` (a socket, e.g. journald's).
    Send,
    /// `poll(2)` for room without waiting, then `write(2)` (a FIFO or tty
    /// that could not be reopened). A line of at most `PIPE_BUF` fits in a
    /// pipe with room, unless another writer fills it in between.
    Poll,
}

/// A descriptor of stderr that lines are written to without ever blocking.
///
/// Setting `O_NONBLOCK` on fd 2 itself would change the open file
/// description picket shares with whoever started it (a shell would then
/// read `EAGAIN`). So a FIFO or tty is reopened through
/// `/proc/self/fd/2`, which gives picket its own description, non-blocking;
/// a socket gets `MSG_DONTWAIT`; a regular file is written as it is (fd 2
/// duplicated); the rest is polled first.
#[derive(Debug)]
pub struct ErrSink {
    fd: OwnedFd,
    how: How,
}

impl ErrSink {
    /// A sink for `fd` (start-up; `None` if `fd` is not open).
    pub fn of(fd: BorrowedFd<'_>) -> Option<Self> {
        let st = fstat(fd).ok()?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        let dup = |how| {
            let own = nix::unistd::dup(fd).ok()?;
            let _ = fcntl(&own, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
            Some(ErrSink { fd: own, how })
        };
        match kind {
            SFlag::S_IFREG => dup(How::Write),
            SFlag::S_IFSOCK => dup(How::Send),
            _ => {
                // The same file, the same append mode, a description of
                // our own that never blocks.
                let append = fcntl(fd, FcntlArg::F_GETFL)
                    .map(OFlag::from_bits_truncate)
                    .map_or(OFlag::empty(), |f| f & OFlag::O_APPEND);
                let mut path = heapless::String::<32>::new();
                let _ = write!(path, "/proc/self/fd/{}", fd.as_raw_fd());
                // O_NOCTTY: a tty never becomes picket's controlling one.
                let flags = OFlag::O_WRONLY
                    | OFlag::O_NONBLOCK
                    | OFlag::O_NOCTTY
                    | OFlag::O_CLOEXEC
                    | append;
                match open(path.as_str(), flags, Mode::empty()) {
                    Ok(own) => Some(ErrSink {
                        fd: own,
                        how: How::Write,
                    }),
                    Err(_) => dup(How::Poll),
                }
            }
        }
    }

    /// Writes `line` whole, or not at all if it cannot be taken at once
    /// (never blocks). No allocation.
    pub fn write(&self, line: &[u8]) -> Result<(), Errno> {
        loop {
            let r = match self.how {
                How::Send => send(
                    self.fd.as_raw_fd(),
                    line,
                    MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
                ),
                How::Write => nix::unistd::write(&self.fd, line),
                How::Poll => {
                    let mut p = [PollFd::new(self.fd.as_fd(), PollFlags::POLLOUT)];
                    match poll(&mut p, PollTimeout::ZERO) {
                        Ok(1..) => nix::unistd::write(&self.fd, line),
                        Ok(_) => Err(Errno::EAGAIN),
                        Err(e) => Err(e),
                    }
                }
            };
            return match r {
                Err(Errno::EINTR) => continue,
                Err(e) => Err(e),
                // A pipe takes a line of at most PIPE_BUF whole or not at
                // all; a short write elsewhere is a line cut.
                Ok(n) if n < line.len() => Err(Errno::EAGAIN),
                Ok(_) => Ok(()),
            };
        }
    }
}

/// Where lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// stderr.
    Console,
    /// `/dev/log`, with this facility.
    Syslog(u8),
}

/// Parses `-S`: `0`-`7` (local0-7), `local0`-`local7`, `user`, `daemon`.
pub fn parse_facility(s: &str) -> Option<u8> {
    let n = s.strip_prefix("local").unwrap_or(s);
    if let Ok(d) = n.parse::<u8>() {
        return (d <= 7).then_some(FACILITY_LOCAL0 + d);
    }
    match s {
        "user" => Some(FACILITY_USER),
        "daemon" => Some(FACILITY_DAEMON),
        _ => None,
    }
}

/// Installs the logger (start-up; allocation allowed). `detail` (`-D`) logs
/// debug lines too. Returns the target actually used.
pub fn init(target: Target, detail: bool) -> Target {
    let used = match target {
        Target::Console => Target::Console,
        Target::Syslog(facility) => {
            match std::os::unix::net::UnixDatagram::unbound()
                .and_then(|s| s.connect("/dev/log").map(|()| s))
            {
                Ok(sock) => {
                    let _ = nix::fcntl::fcntl(
                        &sock,
                        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
                    );
                    LOGGER.facility.store(facility, Ordering::Relaxed);
                    // The socket lives as long as the process.
                    LOGGER
                        .syslog_fd
                        .store(sock.into_raw_fd(), Ordering::Relaxed);
                    Target::Syslog(facility)
                }
                Err(_) => Target::Console,
            }
        }
    };
    if LOGGER.stderr.get().is_none()
        && let Some(sink) = ErrSink::of(stderr().as_fd())
    {
        let _ = LOGGER.stderr.set(sink);
    }
    LOGGER.pid.store(std::process::id(), Ordering::Relaxed);
    clock::init_timezone();
    if !LOGGER.installed.swap(true, Ordering::AcqRel) {
        let _ = log::set_logger(&LOGGER);
    }
    log::set_max_level(if detail {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    });
    used
}

/// A [`fmt::Write`] that logs each line written to it at `level` (a
/// rendered report, e.g. a reload's diagnostics, without allocation). A
/// line longer than the buffer is logged in parts.
pub struct LogLines {
    level: Level,
    line: heapless::String<LOG_LINE_BYTES>,
}

impl LogLines {
    /// Lines at `level`.
    pub fn new(level: Level) -> Self {
        LogLines {
            level,
            line: heapless::String::new(),
        }
    }

    fn emit(&mut self) {
        log::log!(self.level, "{}", self.line);
        self.line.clear();
    }
}

impl fmt::Write for LogLines {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if c == '\n' {
                self.emit();
            } else if self.line.push(c).is_err() {
                self.emit();
                let _ = self.line.push(c);
            }
        }
        Ok(())
    }
}

impl Drop for LogLines {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.emit();
        }
    }
}

/// Lines cut at `LOG_LINE_BYTES` so far.
pub fn truncated() -> u64 {
    LOGGER.truncated.load(Ordering::Relaxed)
}

/// Lines dropped so far because stderr could not take them at once (a
/// full pipe, a stopped tty; also after the syslog socket refused them).
pub fn dropped() -> u64 {
    LOGGER.dropped.load(Ordering::Relaxed)
}

/// A `fmt::Write` into a fixed buffer that cuts (at a char boundary) when full.
struct Line {
    buf: [u8; LOG_LINE_BYTES],
    len: usize,
    cut: bool,
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LOG_LINE_BYTES - 1 - self.len; // keep one byte for '\n'
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() {
            self.cut = true;
            return Err(fmt::Error);
        }
        Ok(())
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn severity(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// RFC 3164 §4.1: `<PRI>Mmm dd hh:mm:ss picket[pid]: msg` (day space-padded).
fn format_syslog(
    line: &mut Line,
    pri: u8,
    (mon, day, h, m, s): (u8, u8, u8, u8, u8),
    pid: u32,
    msg: fmt::Arguments<'_>,
) {
    let month = MONTHS.get(usize::from(mon)).unwrap_or(&"Jan");
    let _ = write!(
        line,
        "<{pri}>{month} {day:>2} {h:02}:{m:02}:{s:02} picket[{pid}]: {msg}"
    );
}

impl Logger {
    /// A logger to the console, with nothing counted yet.
    const fn new() -> Self {
        Logger {
            syslog_fd: AtomicI32::new(-1),
            facility: AtomicU8::new(FACILITY_DAEMON),
            pid: AtomicU32::new(0),
            truncated: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            installed: AtomicBool::new(false),
            stderr: OnceLock::new(),
        }
    }

    /// Writes `line` to stderr without blocking (straight to the fd: no
    /// lock, no buffer, no capture by the test harness); a line it cannot
    /// take is dropped and counted.
    fn to_stderr(&self, line: &[u8]) {
        let written = match self.stderr.get() {
            Some(sink) => sink.write(line).is_ok(),
            None => false,
        };
        if !written {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = Line {
            buf: [0; LOG_LINE_BYTES],
            len: 0,
            cut: false,
        };
        let fd = self.syslog_fd.load(Ordering::Relaxed);
        if fd >= 0 {
            let pri = self.facility.load(Ordering::Relaxed) * 8 + severity(record.level());
            let pid = self.pid.load(Ordering::Relaxed);
            format_syslog(&mut line, pri, clock::local_time(), pid, *record.args());
        } else {
            let now = clock::now().total_micros();
            let _ = write!(
                line,
                "[{:>6}.{:06}] {:<5} {}",
                now / 1_000_000,
                now % 1_000_000,
                record.level(),
                record.args()
            );
        }
        if line.cut {
            self.truncated.fetch_add(1, Ordering::Relaxed);
        }
        if fd >= 0 {
            // The syslog socket stays open for the life of the process.
            let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
            if send(fd, &line.buf[..line.len], flags).is_ok() {
                return;
            }
        }
        line.buf[line.len] = b'\n';
        self.to_stderr(&line.buf[..line.len + 1]);
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities() {
        assert_eq!(parse_facility("daemon"), Some(3));
        assert_eq!(parse_facility("user"), Some(1));
        assert_eq!(parse_facility("0"), Some(16));
        assert_eq!(parse_facility("7"), Some(23));
        assert_eq!(parse_facility("local5"), Some(21));
        assert_eq!(parse_facility("8"), None);
        assert_eq!(parse_facility("local8"), None);
        assert_eq!(parse_facility("kern"), None);
    }

    #[test]
    fn syslog_lines_are_rfc3164() {
        let mut l = Line {
            buf: [0; LOG_LINE_BYTES],
            len: 0,
            cut: false,
        };
        let pri = FACILITY_DAEMON * 8 + severity(Level::Warn);
        format_syslog(
            &mut l,
            pri,
            (0, 5, 7, 8, 9),
            42,
            format_args!("hello {}", 1),
        );
        assert_eq!(&l.buf[..l.len], b"<28>Jan  5 07:08:09 picket[42]: hello 1");
    }

    #[test]
    fn long_lines_are_cut_at_a_char_boundary() {
        let mut l = Line {
            buf: [0; LOG_LINE_BYTES],
            len: 0,
            cut: false,
        };
        let long = "é".repeat(LOG_LINE_BYTES);
        let _ = write!(l, "{long}");
        assert!(l.cut);
        assert!(l.len < LOG_LINE_BYTES);
        assert!(std::str::from_utf8(&l.buf[..l.len]).is_ok());
    }

    /// Logs 1000 lines of 512 bytes into `sink`, whose other end nobody
    /// reads, on a thread given 10 s: the lines dropped.
    fn flood(sink: ErrSink, unblock: impl FnOnce()) -> u64 {
        let logger = Logger::new();
        logger.stderr.set(sink).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = [b'x'; LOG_LINE_BYTES];
            line[LOG_LINE_BYTES - 1] = b'\n';
            for _ in 0..1000 {
                logger.to_stderr(&line);
            }
            let _ = tx.send(logger.dropped.load(Ordering::Relaxed));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(10));
        if got.is_err() {
            unblock();
        }
        got.expect("a log line blocked on a full stderr")
    }

    /// stderr a pipe (or a socket) nobody reads: once it is full, lines
    /// are dropped and counted, never waited for; the lines that went
    /// through are whole; fd 2's own description stays blocking.
    #[test]
    fn a_full_stderr_drops_lines_and_never_blocks() {
        use std::io::Read as _;
        let (r, w) = nix::unistd::pipe().unwrap();
        let sink = ErrSink::of(w.as_fd()).unwrap();
        assert_eq!(sink.how, How::Write, "a pipe is reopened non-blocking");
        let flags = OFlag::from_bits_truncate(fcntl(&w, FcntlArg::F_GETFL).unwrap());
        assert!(
            !flags.contains(OFlag::O_NONBLOCK),
            "the shared description changed"
        );
        let mut reader = std::fs::File::from(r);
        let unblock = || {
            let mut buf = vec![0u8; 1 << 20];
            let _ = reader.read(&mut buf);
        };
        let dropped = flood(sink, unblock);
        let mut buf = vec![0u8; 1 << 20];
        nix::fcntl::fcntl(&reader, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
        let mut got = 0;
        while let Ok(n @ 1..) = reader.read(&mut buf[got..]) {
            got += n;
        }
        println!(
            "pipe: {} lines through, {dropped} dropped",
            got / LOG_LINE_BYTES
        );
        assert!(dropped > 0 && dropped < 1000, "{dropped}");
        assert_eq!(got % LOG_LINE_BYTES, 0, "a line was cut");
        assert_eq!(got / LOG_LINE_BYTES + dropped as usize, 1000);

        // Polled, as when the reopen fails.
        let (_r, w) = nix::unistd::pipe().unwrap();
        let dropped = flood(
            ErrSink {
                fd: w,
                how: How::Poll,
            },
            || {},
        );
        assert!(dropped > 0 && dropped < 1000, "{dropped}");

        // A stream socket (journald's stdout).
        let (a, _b) = nix::sys::socket::socketpair(
            nix::sys::socket::AddressFamily::Unix,
            nix::sys::socket::SockType::Stream,
            None,
            nix::sys::socket::SockFlag::empty(),
        )
        .unwrap();
        let sink = ErrSink::of(a.as_fd()).unwrap();
        assert_eq!(sink.how, How::Send);
        let dropped = flood(sink, || {});
        assert!(dropped > 0 && dropped < 1000, "{dropped}");
    }
}
