//! One `poll(2)` over a fixed table of `limits::FDS` fds, each with a token
//! the loop dispatches on (mio's tokens, without the heap).

use std::os::fd::AsRawFd;

use nix::errno::Errno;
use picket::limits::FDS;

/// What the loop knows an fd by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token(pub u32);

/// What an fd is watched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Input (and hang-up, error).
    Read,
    /// Room to write (and hang-up, error).
    Write,
}

impl Interest {
    fn events(self) -> libc::c_short {
        match self {
            Interest::Read => libc::POLLIN,
            Interest::Write => libc::POLLOUT,
        }
    }
}

/// The fd table is full (`limits::FDS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableFull;

/// Why a poll returned without readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollError {
    /// A signal interrupted it (EINTR): carry on with the next turn.
    Interrupted,
    /// Anything else.
    Other(Errno),
}

/// The fd table: `pollfd`s and their tokens, side by side.
pub struct PollSet {
    fds: [libc::pollfd; FDS],
    tokens: [Token; FDS],
    len: usize,
}

impl Default for PollSet {
    fn default() -> Self {
        Self::new()
    }
}

impl PollSet {
    /// An empty table.
    pub const fn new() -> Self {
        PollSet {
            fds: [libc::pollfd {
                fd: -1,
                events: 0,
                revents: 0,
            }; FDS],
            tokens: [Token(u32::MAX); FDS],
            len: 0,
        }
    }

    /// Watches `fd` for input under `token`. The caller keeps `fd` open as
    /// long as it is in the table.
    pub fn add(&mut self, fd: &impl AsRawFd, token: Token) -> Result<(), TableFull> {
        self.add_for(fd, token, Interest::Read)
    }

    /// Watches `fd` under `token` for `interest`.
    pub fn add_for(
        &mut self,
        fd: &impl AsRawFd,
        token: Token,
        interest: Interest,
    ) -> Result<(), TableFull> {
        if self.len >= FDS {
            return Err(TableFull);
        }
        self.fds[self.len] = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: interest.events(),
            revents: 0,
        };
        self.tokens[self.len] = token;
        self.len += 1;
        Ok(())
    }

    /// Stops watching the fd of `token` (before the caller closes it);
    /// its readiness from the last poll is forgotten too. Whether it was
    /// there.
    pub fn remove(&mut self, token: Token) -> bool {
        let Some(i) = self.tokens[..self.len].iter().position(|t| *t == token) else {
            return false;
        };
        self.len -= 1;
        self.fds[i] = self.fds[self.len];
        self.tokens[i] = self.tokens[self.len];
        true
    }

    /// Sleeps until an fd is ready or `timeout` passes (`None`: no
    /// timeout), with `ppoll(2)` so the timeout has microsecond precision
    /// (a millisecond `poll` would wake up to 1 ms after a VRRP deadline).
    /// Returns the number of ready fds; see [`PollSet::ready`].
    pub fn poll(&mut self, timeout: Option<picket::time::Duration>) -> Result<usize, PollError> {
        for p in &mut self.fds[..self.len] {
            p.revents = 0;
        }
        let ts = timeout.map(|d| {
            let us = d.total_micros();
            libc::timespec {
                tv_sec: libc::time_t::try_from(us / 1_000_000).unwrap_or(libc::time_t::MAX),
                tv_nsec: ((us % 1_000_000) * 1_000) as libc::c_long,
            }
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        let nfds = libc::nfds_t::try_from(self.len).unwrap_or(0);
        // SAFETY: `fds` is a live array of `pollfd` with at least `nfds`
        // initialised entries (the kernel writes only their `revents`);
        // `ts_ptr` is null or points to `ts`, alive for the call; a null
        // signal mask leaves the mask unchanged.
        let n = unsafe { libc::ppoll(self.fds.as_mut_ptr(), nfds, ts_ptr, std::ptr::null()) };
        match Errno::result(n) {
            Ok(n) => Ok(usize::try_from(n).unwrap_or(0)),
            Err(Errno::EINTR) => Err(PollError::Interrupted),
            Err(e) => Err(PollError::Other(e)),
        }
    }

    /// The tokens of the fds the last [`PollSet::poll`] found ready (input,
    /// hang-up or error: reading tells which).
    pub fn ready(&self) -> impl Iterator<Item = Token> + '_ {
        self.fds[..self.len]
            .iter()
            .zip(&self.tokens[..self.len])
            .filter(|(p, _)| p.revents != 0)
            .map(|(_, t)| *t)
    }

    /// Forgets the readiness of the last poll.
    pub fn clear_ready(&mut self) {
        for p in &mut self.fds[..self.len] {
            p.revents = 0;
        }
    }
}
