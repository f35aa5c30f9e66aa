//! The status socket: a listening `AF_UNIX` stream socket (created with
//! the mode the configuration asks, 0600 by default) and its accepted
//! connections, all non-blocking and close-on-exec. Sends never raise
//! SIGPIPE (`MSG_NOSIGNAL`). Nothing here allocates.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, Backlog, MsgFlags, SockFlag, SockType, UnixAddr, bind, connect, listen, send,
    socket,
};
use nix::sys::stat::{Mode, SFlag, lstat, umask};
use nix::unistd::unlink;

/// Pending connections the kernel queues before picket accepts them.
const BACKLOG: i32 = 8;

/// The listening socket and the file it made.
pub struct Listener {
    fd: OwnedFd,
    /// Device and inode of the socket file, to remove only our own at exit.
    file: (u64, u64),
}

/// Why the socket could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenError {
    /// Another process answers on the path (another picket, most likely):
    /// picket does not take it over.
    InUse,
    /// The path exists and is not a socket.
    NotASocket,
    /// A system call failed.
    Sys(&'static str, Errno),
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenError::InUse => f.write_str("another process is serving it"),
            ListenError::NotASocket => f.write_str("it exists and is not a socket"),
            ListenError::Sys(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

fn stream_socket(nonblock: bool) -> Result<OwnedFd, Errno> {
    let mut flags = SockFlag::SOCK_CLOEXEC;
    if nonblock {
        flags |= SockFlag::SOCK_NONBLOCK;
    }
    socket(AddressFamily::Unix, SockType::Stream, flags, None)
}

impl Listener {
    /// Binds and listens at `path` with permissions `mode` (start-up). A
    /// stale socket file (nobody answers on it) is replaced; a live one is
    /// [`ListenError::InUse`].
    pub fn bind(path: &str, mode: u32) -> Result<Self, ListenError> {
        let addr = UnixAddr::new(path).map_err(|e| ListenError::Sys("socket path", e))?;
        match lstat(path) {
            Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFSOCK => {
                return Err(ListenError::NotASocket);
            }
            Ok(_) => {
                let probe = stream_socket(false).map_err(|e| ListenError::Sys("socket", e))?;
                if connect(probe.as_raw_fd(), &addr).is_ok() {
                    return Err(ListenError::InUse);
                }
                unlink(path).map_err(|e| ListenError::Sys("unlink stale socket", e))?;
            }
            Err(_) => {}
        }
        let fd = stream_socket(true).map_err(|e| ListenError::Sys("socket", e))?;
        // The file gets 0777 & !umask: no moment with wider permissions.
        let old = umask(Mode::from_bits_truncate(!mode & 0o777));
        let bound = bind(fd.as_raw_fd(), &addr);
        umask(old);
        bound.map_err(|e| ListenError::Sys("bind", e))?;
        listen(&fd, Backlog::new(BACKLOG).unwrap_or(Backlog::MAXCONN))
            .map_err(|e| ListenError::Sys("listen", e))?;
        let st = lstat(path).map_err(|e| ListenError::Sys("stat", e))?;
        Ok(Listener {
            fd,
            file: (st.st_dev, st.st_ino),
        })
    }

    /// Accepts one connection, non-blocking; `Ok(None)` when none waits.
    pub fn accept(&self) -> Result<Option<Conn>, Errno> {
        loop {
            // SAFETY: plain system call on a live fd; null address pointers
            // ask for no peer address.
            let fd = unsafe {
                libc::accept4(
                    self.fd.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            match Errno::result(fd) {
                // SAFETY: accept4 just returned this fd; nobody else owns it.
                Ok(fd) => return Ok(Some(Conn(unsafe { OwnedFd::from_raw_fd(fd) }))),
                Err(Errno::EAGAIN) => return Ok(None),
                Err(Errno::EINTR | Errno::ECONNABORTED) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Removes the socket file if it is still the one this listener made.
    pub fn remove_file(&self, path: &str) {
        if let Ok(st) = lstat(path)
            && (st.st_dev, st.st_ino) == self.file
        {
            let _ = unlink(path);
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// One accepted connection.
pub struct Conn(OwnedFd);

impl Conn {
    /// Sends what the socket takes of `bytes` without waiting: the count,
    /// or WouldBlock.
    pub fn send(&self, bytes: &[u8]) -> nb::Result<usize, Errno> {
        loop {
            match send(
                self.0.as_raw_fd(),
                bytes,
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
            ) {
                Ok(n) => return Ok(n),
                Err(Errno::EAGAIN) => return Err(nb::Error::WouldBlock),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(nb::Error::Other(e)),
            }
        }
    }
}

impl AsFd for Conn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
