//! Signals through a `signalfd(2)`: SIGHUP, SIGTERM, SIGINT, SIGUSR1,
//! SIGUSR2 and SIGCHLD are blocked in the calling thread and read as data in
//! the loop. SIGPIPE is ignored (a closed peer is an error return, not death).
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

/// The set of [`HANDLED`] signals.
pub fn handled_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in HANDLED {
        set.add(s);
    }
    set
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
