//! Signals through a `signalfd(2)`: SIGHUP, SIGTERM, SIGINT, SIGUSR1,
//! SIGUSR2, SIGCHLD and keepalived's two real-time signals (JSON dump,
//! `SIGRTMIN+2`; STATS_CLEAR, `SIGRTMAX-1`) are blocked in the calling
//! thread and read as data in the loop. SIGPIPE is ignored (a closed peer is
//! an error return, not death).
//!
//! Blocking happens before any other thread exists (children inherit the
//! mask; `sys::child` resets it before `execve`).

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// The signals picket handles.
pub const HANDLED: [Signal; 6] = [
    Signal::SIGHUP,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCHLD,
];

/// The signalfd.
pub struct Signals {
    fd: SignalFd,
}

/// keepalived's JSON signal (`SIGJSON`, `SIGRTMIN+2`: 36 with glibc).
pub fn json_signal() -> i32 {
    libc::SIGRTMIN() + 2
}

/// keepalived's STATS_CLEAR signal (`SIGRTMAX-1`: 63 on Linux).
pub fn stats_clear_signal() -> i32 {
    libc::SIGRTMAX() - 1
}

/// The number of keepalived's signal function `name` (`keepalived
/// --signum=NAME`), as this build's C library numbers it.
pub fn signum(name: &str) -> Option<i32> {
    Some(match name {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "STATS_CLEAR" => stats_clear_signal(),
        "JSON" => json_signal(),
        _ => return None,
    })
}

/// The set of [`HANDLED`] signals and the two real-time ones.
pub fn handled_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in HANDLED {
        set.add(s);
    }
    let mut raw = *set.as_ref();
    for sig in [json_signal(), stats_clear_signal()] {
        // SAFETY: `raw` is an initialised sigset_t; sigaddset only sets a
        // bit (an invalid number is an error return, ignored).
        unsafe { libc::sigaddset(&mut raw, sig) };
    }
    // SAFETY: `raw` came from a valid SigSet and was changed by sigaddset
    // only.
    unsafe { SigSet::from_sigset_t_unchecked(raw) }
}

/// Blocks the handled signals in this thread: from now on they wait for the
/// signalfd instead of acting (the daemon blocks them before it writes its
/// pid file, so a signal sent as soon as the pid is known is not fatal).
pub fn block_handled() -> nix::Result<()> {
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&handled_set()), None)
}

impl Signals {
    /// Blocks the handled signals in this thread, ignores SIGPIPE and opens a
    /// non-blocking signalfd for them (signals already pending are read
    /// from it too).
    pub fn open() -> nix::Result<Self> {
        let set = handled_set();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        // SAFETY: installing SIG_IGN runs no code in signal context; no other
        // handler for SIGPIPE exists in picket.
        unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigIgn) }?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    /// Reads one pending signal number; `Ok(None)` when none is left
    /// (WouldBlock).
    pub fn read(&self) -> nix::Result<Option<i32>> {
        loop {
            match self.fd.read_signal() {
                Ok(Some(info)) => return Ok(Some(i32::try_from(info.ssi_signo).unwrap_or(0))),
                Ok(None) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
