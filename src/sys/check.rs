//! The checkers' socket pool: one non-blocking socket per slot (TCP
//! stream, connected UDP, ICMP echo), all watched by one epoll fd that sits
//! in the loop's poll table under one token. Readiness is edge-triggered
//! (`EPOLLIN | EPOLLOUT | EPOLLRDHUP`, registered once at open): a
//! connect's completion is one `EPOLLOUT` edge, data one `EPOLLIN` edge,
//! and the loop reads until WouldBlock.
//!
//! Each registration carries the slot and a generation counter, so a
//! readiness report of a socket closed (and its slot reopened) in the same
//! turn is recognised and dropped. Tables are allocated once at start-up.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use picket::check::{SocketKind, SocketSpec};
use picket::limits::{CHECK_SOCKETS, IFNAME_BYTES, OPEN_FILES};

/// How a slot's socket is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A stream: plain reads.
    Stream,
    /// Datagrams: `MSG_TRUNC` tells the full length.
    Datagram,
    /// A raw IPv4 ICMP socket: datagrams with the IP header in front.
    RawIpv4,
}

/// The pool. See the module doc.
pub struct CheckSockets {
    epoll: OwnedFd,
    fds: Vec<Option<OwnedFd>>,
    /// What each socket is: its reads differ.
    kinds: Vec<Kind>,
    gens: Vec<u32>,
    events: Vec<libc::epoll_event>,
    ready: usize,
    /// ICMP "ping" datagram sockets are allowed (else raw sockets).
    ping_dgram: bool,
}

fn cvt(r: libc::c_int) -> Result<libc::c_int, Errno> {
    Errno::result(r)
}

/// A `sockaddr_storage` for `addr` and its length.
fn sockaddr(addr: std::net::SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: `sockaddr_storage` is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: `sockaddr_in` fits in `sockaddr_storage` (which is
            // designed to hold any address) and both are plain data.
            unsafe { std::ptr::write((&raw mut ss).cast::<libc::sockaddr_in>(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for `sockaddr_in6`.
            unsafe { std::ptr::write((&raw mut ss).cast::<libc::sockaddr_in6>(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, v: &T) -> Result<(), Errno> {
    let len = libc::socklen_t::try_from(size_of::<T>()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `v` points to a live `T` of `len` bytes; the kernel only reads.
    cvt(unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (v as *const T).cast(), len) })
        .map(drop)
}

fn new_socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> Result<OwnedFd, Errno> {
    // SAFETY: plain system call with integer arguments.
    let fd =
        cvt(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, proto) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Raises the soft `RLIMIT_NOFILE` to `limits::OPEN_FILES` if it is lower
/// (start-up).
pub fn raise_open_files() -> Result<(), Errno> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live, writable rlimit.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) })?;
    let want = OPEN_FILES as libc::rlim_t;
    if lim.rlim_cur >= want {
        return Ok(());
    }
    lim.rlim_cur = want.min(lim.rlim_max.max(want));
    lim.rlim_max = lim.rlim_max.max(lim.rlim_cur);
    // SAFETY: `lim` is a live rlimit; the kernel only reads it.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }).map(drop)
}

impl CheckSockets {
    /// The epoll fd and the empty tables (start-up: allocates).
    pub fn open() -> Result<Self, Errno> {
        // SAFETY: plain system call.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by epoll_create1 and is ours.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        // Probe once whether ping sockets are allowed for us.
        let ping_dgram = new_socket(libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_ICMP).is_ok();
        Ok(CheckSockets {
            epoll,
            fds: (0..CHECK_SOCKETS).map(|_| None).collect(),
            kinds: vec![Kind::Stream; CHECK_SOCKETS],
            gens: vec![0; CHECK_SOCKETS],
            events: vec![libc::epoll_event { events: 0, u64: 0 }; CHECK_SOCKETS],
            ready: 0,
            ping_dgram,
        })
    }

    /// The epoll fd, for the poll table.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// Opens the socket of `slot` as `spec` says, bound to `bind_if` when
    /// not empty, and starts connecting (a TCP connect in progress is not
    /// an error).
    pub fn open_socket(
        &mut self,
        slot: usize,
        spec: &SocketSpec,
        bind_if: &str,
    ) -> Result<(), Errno> {
        self.close(slot);
        let v6 = spec.dst.is_ipv6();
        let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        let mut kind = Kind::Datagram;
        let fd = match spec.kind {
            SocketKind::Tcp => {
                kind = Kind::Stream;
                let fd = new_socket(domain, libc::SOCK_STREAM, libc::IPPROTO_TCP)?;
                // Our close resets the connection instead of leaving it in
                // TIME_WAIT: a thousand checks a second would otherwise use
                // up the ephemeral ports within half a minute.
                let linger = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                setsockopt(&fd, libc::SOL_SOCKET, libc::SO_LINGER, &linger)?;
                fd
            }
            SocketKind::Udp => new_socket(domain, libc::SOCK_DGRAM, libc::IPPROTO_UDP)?,
            SocketKind::Icmp => {
                let proto = if v6 {
                    libc::IPPROTO_ICMPV6
                } else {
                    libc::IPPROTO_ICMP
                };
                let dgram = if self.ping_dgram {
                    new_socket(domain, libc::SOCK_DGRAM, proto).ok()
                } else {
                    None
                };
                match dgram {
                    Some(fd) => fd,
                    None => {
                        if !v6 {
                            kind = Kind::RawIpv4;
                        }
                        new_socket(domain, libc::SOCK_RAW, proto)?
                    }
                }
            }
        };
        if spec.fwmark != 0 {
            setsockopt(&fd, libc::SOL_SOCKET, libc::SO_MARK, &spec.fwmark)?;
        }
        if !bind_if.is_empty() {
            let mut dev = [0u8; IFNAME_BYTES];
            for (d, s) in dev.iter_mut().zip(bind_if.bytes()) {
                *d = s;
            }
            setsockopt(&fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev)?;
        }
        if let Some(b) = spec.bind {
            let (ss, len) = sockaddr(b);
            // SAFETY: `ss` holds a valid address of `len` bytes.
            cvt(unsafe { libc::bind(fd.as_raw_fd(), (&raw const ss).cast(), len) })?;
        }
        let (ss, len) = sockaddr(spec.dst);
        // SAFETY: `ss` holds a valid address of `len` bytes.
        match cvt(unsafe { libc::connect(fd.as_raw_fd(), (&raw const ss).cast(), len) }) {
            Ok(_) | Err(Errno::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let gen_ = self.gens.get(slot).copied().unwrap_or(0).wrapping_add(1);
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: (slot as u64) | (u64::from(gen_) << 32),
        };
        // SAFETY: both fds are open; `ev` is a live epoll_event.
        cvt(unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut ev,
            )
        })?;
        if let (Some(f), Some(g), Some(r)) = (
            self.fds.get_mut(slot),
            self.gens.get_mut(slot),
            self.kinds.get_mut(slot),
        ) {
            *f = Some(fd);
            *g = gen_;
            *r = kind;
        }
        Ok(())
    }

    /// Closes the socket of `slot` (closing removes it from the epoll set).
    pub fn close(&mut self, slot: usize) {
        if let Some(f) = self.fds.get_mut(slot) {
            *f = None;
        }
    }

    /// Collects ready sockets without blocking; then [`CheckSockets::ready`]
    /// gives them.
    pub fn collect(&mut self) -> Result<usize, Errno> {
        let max = libc::c_int::try_from(self.events.len()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `events` is a live array of `max` epoll_events the kernel
        // writes into; timeout 0 does not block.
        let n = match cvt(unsafe {
            libc::epoll_wait(self.epoll.as_raw_fd(), self.events.as_mut_ptr(), max, 0)
        }) {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(e),
        };
        self.ready = n;
        Ok(n)
    }

    /// The slot of ready event `i` of the last [`CheckSockets::collect`],
    /// if its socket is still the one that was ready.
    pub fn ready(&self, i: usize) -> Option<usize> {
        if i >= self.ready {
            return None;
        }
        let data = self.events.get(i)?.u64;
        let slot = (data & 0xffff_ffff) as usize;
        let gen_ = (data >> 32) as u32;
        (self.gens.get(slot) == Some(&gen_) && self.fds.get(slot).is_some_and(Option::is_some))
            .then_some(slot)
    }

    /// Whether ready event `i` of the last [`CheckSockets::collect`] carries
    /// an error or a hang-up (`EPOLLERR | EPOLLHUP`). A connect whose
    /// readiness carries neither has succeeded: no `SO_ERROR` to read.
    pub fn has_error(&self, i: usize) -> bool {
        i < self.ready
            && self
                .events
                .get(i)
                .is_some_and(|e| e.events & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0)
    }

    /// Whether `slot`'s socket is a stream (a read of 0 bytes is its end).
    pub fn is_stream(&self, slot: usize) -> bool {
        self.kinds.get(slot) == Some(&Kind::Stream)
    }

    fn fd(&self, slot: usize) -> Result<&OwnedFd, Errno> {
        self.fds
            .get(slot)
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    /// The pending error of `slot`'s socket (`SO_ERROR`; 0 = none: a TCP
    /// connect finished).
    pub fn take_error(&self, slot: usize) -> Result<i32, Errno> {
        let fd = self.fd(slot)?;
        let mut err: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` and `len` are live and writable, `len` its size.
        cvt(unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut err).cast(),
                &mut len,
            )
        })?;
        Ok(err)
    }

    /// Sends `bytes` on `slot`'s connected socket; a short send is an error
    /// (requests are small and the socket's buffer empty).
    pub fn send(&self, slot: usize, bytes: &[u8]) -> Result<(), Errno> {
        let fd = self.fd(slot)?;
        // SAFETY: `bytes` is a live buffer of `bytes.len()` bytes.
        let n = unsafe {
            libc::send(
                fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        let n = Errno::result(n)?;
        if usize::try_from(n).ok() == Some(bytes.len()) {
            Ok(())
        } else {
            Err(Errno::EMSGSIZE)
        }
    }

    /// Receives into `buf`: `(bytes stored, full length)` (the full length
    /// of a datagram may be larger), `(0, 0)` at the end of a stream. An
    /// IPv4 header from a raw ICMP socket is removed.
    pub fn recv(&self, slot: usize, buf: &mut [u8]) -> nb::Result<(usize, usize), Errno> {
        let fd = self.fd(slot).map_err(nb::Error::Other)?;
        let kind = self.kinds.get(slot).copied().unwrap_or(Kind::Stream);
        // On a stream MSG_TRUNC would discard the data.
        let flags = if kind == Kind::Stream {
            0
        } else {
            libc::MSG_TRUNC
        };
        // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) };
        let full = match Errno::result(n) {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(Errno::EAGAIN) => return Err(nb::Error::WouldBlock),
            Err(e) => return Err(nb::Error::Other(e)),
        };
        let stored = full.min(buf.len());
        if kind == Kind::RawIpv4 && stored > 0 {
            let ihl = usize::from(buf[0] & 0x0f) * 4;
            if ihl < 20 || ihl > stored {
                return Ok((0, 1));
            }
            buf.copy_within(ihl..stored, 0);
            return Ok((stored - ihl, full - ihl));
        }
        Ok((stored, full))
    }
}
