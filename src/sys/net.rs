//! Network sockets of the VRRP path: a raw IPv4 and a raw IPv6 socket for
//! protocol 112 per interface, an `AF_PACKET` socket for gratuitous ARP and
//! unsolicited neighbour advertisements, a `NETLINK_ROUTE` socket for
//! addresses, and interface facts (index, MAC, primary IPv4 address,
//! IPv6 link-local address) read once at start-up.
//!
//! Every socket is non-blocking and close-on-exec; reads go into the
//! caller's buffer and return `WouldBlock` as [`nb::Error::WouldBlock`], so
//! the loop drains each until it says so. Nothing here allocates.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use picket::limits::IFNAME_BYTES;

/// Facts about one interface, read at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfInfo {
    /// Kernel interface index.
    pub index: u32,
    /// Hardware (MAC) address.
    pub mac: [u8; 6],
    /// The interface's primary IPv4 address, if it has one.
    pub ipv4: Option<Ipv4Addr>,
    /// The interface's IPv6 link-local address, if it has one.
    pub ipv6_link_local: Option<Ipv6Addr>,
}

/// An `ifreq` naming `name` (NUL-terminated; too long is `ENAMETOOLONG`).
fn ifreq(name: &str) -> Result<libc::ifreq, Errno> {
    if name.is_empty() || name.len() >= IFNAME_BYTES {
        return Err(Errno::ENAMETOOLONG);
    }
    // SAFETY: `ifreq` is a plain C struct (a name array and a union of plain
    // C types) for which all-zero bytes are a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> Result<OwnedFd, Errno> {
    // SAFETY: plain system call with integer arguments.
    let fd = unsafe {
        libc::socket(
            domain,
            ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            protocol,
        )
    };
    let fd = Errno::result(fd)?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn setsockopt<T>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> Result<(), Errno> {
    let len = libc::socklen_t::try_from(size_of::<T>()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `value` points to a live `T` of `len` bytes for the duration of
    // the call; the kernel only reads it.
    let r =
        unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (value as *const T).cast(), len) };
    Errno::result(r).map(drop)
}

/// Reads index, MAC, primary IPv4 address and IPv6 link-local address of
/// interface `name` (ioctls and `/proc/net/if_inet6`: no allocation, so a
/// reload may look up an interface it did not use before).
pub fn interface(name: &str) -> Result<IfInfo, Errno> {
    let sock = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    let mut req = ifreq(name)?;
    // SAFETY: SIOCGIFINDEX reads the name and writes `ifru_ifindex` of the
    // live `req`.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFINDEX, &mut req) })?;
    // SAFETY: the kernel just wrote the index member of the union.
    let index = u32::try_from(unsafe { req.ifr_ifru.ifru_ifindex }).map_err(|_| Errno::EINVAL)?;

    let mut req = ifreq(name)?;
    // SAFETY: SIOCGIFHWADDR writes `ifru_hwaddr` of the live `req`.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) })?;
    let mut mac = [0u8; 6];
    // SAFETY: the kernel just wrote the hwaddr member of the union.
    let hw = unsafe { req.ifr_ifru.ifru_hwaddr };
    for (m, b) in mac.iter_mut().zip(hw.sa_data.iter()) {
        *m = *b as u8;
    }

    let mut req = ifreq(name)?;
    // SAFETY: SIOCGIFADDR writes `ifru_addr` of the live `req`.
    let ipv4 = match Errno::result(unsafe {
        libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFADDR, &mut req)
    }) {
        Ok(_) => {
            // SAFETY: the kernel just wrote an AF_INET address into the union;
            // `sockaddr_in` fits in `sockaddr` and shares its prefix.
            let sin: libc::sockaddr_in = unsafe { *(&raw const req.ifr_ifru.ifru_addr).cast() };
            Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
        }
        Err(Errno::EADDRNOTAVAIL) => None,
        Err(e) => return Err(e),
    };
    let ipv6_link_local = link_local_of(name);
    Ok(IfInfo {
        index,
        mac,
        ipv4,
        ipv6_link_local,
    })
}

/// The first IPv6 link-local address of interface `name`, from
/// `/proc/thread-self/net/if_inet6` (lines `ADDR32HEX IFINDEX PREFIX SCOPE FLAGS NAME`,
/// scope 0x20 = link), read through a fixed buffer.
fn link_local_of(name: &str) -> Option<Ipv6Addr> {
    use std::io::Read as _;
    // The calling thread's namespace (`/proc/net` is the process's).
    let mut file = std::fs::File::open("/proc/thread-self/net/if_inet6")
        .or_else(|_| std::fs::File::open("/proc/net/if_inet6"))
        .ok()?;
    let mut buf = [0u8; 4096];
    let mut kept = 0;
    loop {
        let n = file.read(&mut buf[kept..]).ok()?;
        let end = kept + n;
        let mut start = 0;
        while let Some(nl) = buf[start..end].iter().position(|&b| b == b'\n') {
            if let Some(a) = parse_if_inet6(&buf[start..start + nl], name) {
                return Some(a);
            }
            start += nl + 1;
        }
        if n == 0 {
            return if start < end {
                parse_if_inet6(&buf[start..end], name)
            } else {
                None
            };
        }
        // Keep the unfinished line for the next read.
        buf.copy_within(start..end, 0);
        kept = end - start;
        if kept == buf.len() {
            return None;
        }
    }
}

/// One line of `/proc/net/if_inet6`: the address if it is a link-local one
/// of `name`.
fn parse_if_inet6(line: &[u8], name: &str) -> Option<Ipv6Addr> {
    let line = core::str::from_utf8(line).ok()?;
    let mut w = line.split_whitespace();
    let hex = w.next()?;
    let (_index, _prefix, scope, _flags) = (w.next()?, w.next()?, w.next()?, w.next()?);
    if w.next()? != name || scope != "20" || hex.len() != 32 {
        return None;
    }
    let a = Ipv6Addr::from(u128::from_str_radix(hex, 16).ok()?);
    a.is_unicast_link_local().then_some(a)
}

/// Whether IPv6 forwarding is on for interface `name`
/// (`/proc/sys/net/ipv6/conf/NAME/forwarding`); `false` when it cannot be
/// read. No allocation: the path and the value live on the stack.
pub fn ipv6_forwarding(name: &str) -> bool {
    use std::fmt::Write as _;
    use std::io::Read as _;
    if name.contains('/') {
        return false;
    }
    let mut path: heapless::String<64> = heapless::String::new();
    if write!(path, "/proc/sys/net/ipv6/conf/{name}/forwarding").is_err() {
        return false;
    }
    let Ok(mut file) = std::fs::File::open(path.as_str()) else {
        return false;
    };
    let mut value = [0u8; 4];
    matches!(file.read(&mut value), Ok(n) if n > 0 && value[0] != b'0')
}

/// Whether interface `name` is up (`IFF_UP` and `IFF_RUNNING`, as
/// keepalived's `IF_ISUP`); `false` when there is no such interface. No
/// allocation: usable in the loop (a resync after a lost notification).
pub fn link_up(name: &str) -> bool {
    let Ok(sock) = socket(libc::AF_INET, libc::SOCK_DGRAM, 0) else {
        return false;
    };
    let Ok(mut req) = ifreq(name) else {
        return false;
    };
    // SAFETY: SIOCGIFFLAGS reads the name and writes `ifru_flags` of the
    // live `req`.
    if Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })
        .is_err()
    {
        return false;
    }
    // SAFETY: the kernel just wrote the flags member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    picket::wire::link::flags_up(u32::from(flags as u16))
}

/// Whether interface `name` carries the address `addr` (start-up only:
/// `getifaddrs` allocates). `Err` when the list cannot be read.
pub fn has_address(name: &str, addr: IpAddr) -> Result<bool, Errno> {
    let found = nix::ifaddrs::getifaddrs()?.any(|ifa| {
        let Some(a) = ifa.address.as_ref() else {
            return false;
        };
        let here = match addr {
            IpAddr::V4(v4) => a.as_sockaddr_in().is_some_and(|sin| sin.ip() == v4),
            IpAddr::V6(v6) => a.as_sockaddr_in6().is_some_and(|sin| sin.ip() == v6),
        };
        ifa.interface_name == name && here
    });
    Ok(found)
}

/// `SO_BINDTODEVICE` to interface `name`.
fn bind_to_device(fd: &OwnedFd, name: &str) -> Result<(), Errno> {
    let mut dev = [0u8; IFNAME_BYTES];
    for (d, s) in dev.iter_mut().zip(name.bytes()) {
        *d = s;
    }
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev)
}

fn sockaddr_in(addr: Ipv4Addr) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn recv(fd: &OwnedFd, buf: &mut [u8]) -> nb::Result<usize, Errno> {
    // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_TRUNC,
        )
    };
    match Errno::result(n) {
        Ok(n) => Ok(usize::try_from(n).unwrap_or(0)),
        Err(Errno::EAGAIN) => Err(nb::Error::WouldBlock),
        Err(e) => Err(nb::Error::Other(e)),
    }
}

/// A raw IPv4 socket for VRRP (IP protocol 112) on one interface: bound to
/// the device, multicast loop off, joined to the multicast group there when
/// a multicast instance runs on it. It sends whole IPv4 datagrams
/// (`IP_HDRINCL`: picket writes TTL and TOS 0xC0 itself, as keepalived) to
/// the group or to each unicast peer, and receives whole datagrams (so the
/// TTL can be checked).
///
/// Unicast: the socket is not bound to an address. keepalived binds its
/// receive socket to `unicast_src_ip` with `IP_FREEBIND`; an unbound raw
/// socket on the device receives every VRRP datagram delivered locally there
/// whether or not the address is up yet, and the engine drops those not
/// sent to the instance's address (`bad_destination`). `IP_HDRINCL` lets
/// picket send from `unicast_src_ip` before the address is on the interface.
pub struct VrrpSocket {
    fd: OwnedFd,
}

impl VrrpSocket {
    /// Opens the socket on interface `name` (index `index`), joined to
    /// `group` if given (a multicast instance runs there), else with no
    /// multicast membership (unicast only).
    pub fn open(name: &str, index: u32, group: Option<Ipv4Addr>) -> Result<Self, Errno> {
        let fd = socket(libc::AF_INET, libc::SOCK_RAW, 112)?;
        let one: libc::c_int = 1;
        let zero: libc::c_int = 0;
        setsockopt(&fd, libc::IPPROTO_IP, libc::IP_HDRINCL, &one)?;
        bind_to_device(&fd, name)?;
        setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &zero)?;
        setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_ALL, &zero)?;
        let Some(group) = group else {
            return Ok(VrrpSocket { fd });
        };
        let ifindex = libc::c_int::try_from(index).map_err(|_| Errno::EINVAL)?;
        let mreq = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from(group).to_be(),
            },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: ifindex,
        };
        setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &mreq)?;
        setsockopt(&fd, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &mreq)?;
        Ok(VrrpSocket { fd })
    }

    /// Sends one whole IPv4 datagram to `dst`.
    pub fn send(&self, datagram: &[u8], dst: Ipv4Addr) -> Result<(), Errno> {
        let sa = sockaddr_in(dst);
        // SAFETY: `datagram` and `sa` are live for the call; the length given
        // is `sa`'s size.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                (&raw const sa).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        Errno::result(n).map(drop)
    }

    /// Receives one datagram (IPv4 header included) into `buf`; the length
    /// returned may exceed `buf` (the datagram was cut).
    pub fn recv(&self, buf: &mut [u8]) -> nb::Result<usize, Errno> {
        recv(&self.fd, buf)
    }
}

impl AsFd for VrrpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Traffic class of IPv6 adverts, as keepalived sets it (`IPV6_TCLASS`):
/// internetwork control, as the IPv4 TOS.
const IPV6_TCLASS_VRRP: libc::c_int = 0xc0;

/// Room for the ancillary data of one datagram: an `in6_pktinfo` and a hop
/// limit, each `CMSG_SPACE`-padded, with room to spare; aligned for
/// `cmsghdr`.
#[repr(C, align(8))]
struct CmsgBuf([u8; 96]);

/// A datagram received on a [`Vrrp6Socket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received6 {
    /// Its length as the kernel reported it; more than the buffer when cut.
    pub len: usize,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination (`IPV6_PKTINFO`), if reported.
    pub dst: Option<Ipv6Addr>,
    /// Hop limit (`IPV6_HOPLIMIT`), if reported.
    pub hop_limit: Option<u8>,
}

/// A raw IPv6 socket for VRRP (next header 112) on one interface, as
/// keepalived opens it: bound to the device, multicast loop off,
/// `IPV6_MULTICAST_ALL` off, multicast hop limit 255, traffic class 0xc0,
/// joined to the group there when a multicast instance runs on it, and
/// `IPV6_FREEBIND` so adverts can leave from a `unicast_src_ip` not (yet)
/// on the interface. The kernel builds the IPv6 header; picket writes the
/// VRRP message and its checksum (no `IPV6_CHECKSUM`), and gives the source
/// (`IPV6_PKTINFO`) and, when set, the hop limit (`IPV6_HOPLIMIT`) with
/// each datagram. Receiving reports source, destination and hop limit
/// (`IPV6_RECVPKTINFO`, `IPV6_RECVHOPLIMIT`) into fixed buffers.
pub struct Vrrp6Socket {
    fd: OwnedFd,
    index: u32,
}

impl Vrrp6Socket {
    /// Opens the socket on interface `name` (index `index`), joined to
    /// `group` if given.
    pub fn open(name: &str, index: u32, group: Option<Ipv6Addr>) -> Result<Self, Errno> {
        let fd = socket(libc::AF_INET6, libc::SOCK_RAW, 112)?;
        let one: libc::c_int = 1;
        let zero: libc::c_int = 0;
        let hops: libc::c_int = 255;
        let ifindex = libc::c_int::try_from(index).map_err(|_| Errno::EINVAL)?;
        bind_to_device(&fd, name)?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, &zero)?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_ALL, &zero)?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF, &ifindex)?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, &hops)?;
        setsockopt(
            &fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_TCLASS,
            &IPV6_TCLASS_VRRP,
        )?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &one)?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &one)?;
        setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_FREEBIND, &one)?;
        if let Some(group) = group {
            let mreq = libc::ipv6_mreq {
                ipv6mr_multiaddr: libc::in6_addr {
                    s6_addr: group.octets(),
                },
                ipv6mr_interface: index,
            };
            setsockopt(&fd, libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP, &mreq)?;
        }
        Ok(Vrrp6Socket { fd, index })
    }

    /// Sends one VRRP message from `src` to `dst` on the interface, with
    /// hop limit `hop_limit` (`None`: the socket's default).
    pub fn send(
        &self,
        message: &[u8],
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: Option<u8>,
    ) -> Result<(), Errno> {
        // SAFETY: `sockaddr_in6` is a plain C struct; all-zero is valid.
        let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_addr.s6_addr = dst.octets();
        // Needed for link-local and link-scope multicast destinations,
        // ignored by the kernel for the others.
        sa.sin6_scope_id = self.index;
        let mut iov = libc::iovec {
            iov_base: message.as_ptr().cast_mut().cast(),
            iov_len: message.len(),
        };
        let mut cmsgs = CmsgBuf([0; 96]);
        // SAFETY: `msghdr` is a plain C struct; all-zero is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&raw mut sa).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsgs.0.as_mut_ptr().cast();
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: self.index,
        };
        let hops = hop_limit.map(libc::c_int::from);
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe {
            libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32)
                + hops.map_or(0, |_| libc::CMSG_SPACE(size_of::<libc::c_int>() as u32))
        };
        msg.msg_controllen = space as usize;
        // SAFETY: `msg` points at `cmsgs`, 96 bytes, 8-aligned, zeroed, and
        // `msg_controllen` (at most 24 + 16 + 16 + 8 = 64 bytes) says how
        // much of it the headers may use: CMSG_FIRSTHDR/NXTHDR stay inside
        // it, and each CMSG_DATA has room for the value written.
        unsafe {
            let first = libc::CMSG_FIRSTHDR(&raw const msg);
            if first.is_null() {
                return Err(Errno::EINVAL);
            }
            (*first).cmsg_level = libc::IPPROTO_IPV6;
            (*first).cmsg_type = libc::IPV6_PKTINFO;
            (*first).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(first).cast(), info);
            if let Some(hops) = hops {
                let second = libc::CMSG_NXTHDR(&raw const msg, first);
                if second.is_null() {
                    return Err(Errno::EINVAL);
                }
                (*second).cmsg_level = libc::IPPROTO_IPV6;
                (*second).cmsg_type = libc::IPV6_HOPLIMIT;
                (*second).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as usize;
                std::ptr::write_unaligned(libc::CMSG_DATA(second).cast(), hops);
            }
        }
        // SAFETY: every pointer in `msg` refers to a live local (`sa`, `iov`
        // over `message`, `cmsgs`) for the duration of the call.
        let n = unsafe { libc::sendmsg(self.fd.as_raw_fd(), &raw const msg, 0) };
        Errno::result(n).map(drop)
    }

    /// Receives one datagram (the VRRP message: raw IPv6 sockets strip the
    /// header) into `buf`, with what the kernel reported about it.
    pub fn recv(&self, buf: &mut [u8]) -> nb::Result<Received6, Errno> {
        // SAFETY: `sockaddr_in6` is a plain C struct; all-zero is valid.
        let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut cmsgs = CmsgBuf([0; 96]);
        // SAFETY: `msghdr` is a plain C struct; all-zero is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&raw mut sa).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsgs.0.as_mut_ptr().cast();
        msg.msg_controllen = cmsgs.0.len();
        // SAFETY: every pointer in `msg` refers to a live, writable local
        // (`sa`, `iov` over `buf`, `cmsgs`) of the size given.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &raw mut msg, libc::MSG_TRUNC) };
        let len = match Errno::result(n) {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(Errno::EAGAIN) => return Err(nb::Error::WouldBlock),
            Err(e) => return Err(nb::Error::Other(e)),
        };
        let mut got = Received6 {
            len,
            src: Ipv6Addr::from(sa.sin6_addr.s6_addr),
            dst: None,
            hop_limit: None,
        };
        // SAFETY: the kernel filled `msg_controllen` bytes of `cmsgs` with
        // well-formed headers; CMSG_FIRSTHDR/NXTHDR walk only inside them and
        // each value is read unaligned after checking its header's length.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                let room = (*c).cmsg_len;
                match ((*c).cmsg_level, (*c).cmsg_type) {
                    (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO)
                        if room
                            >= libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as usize =>
                    {
                        let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                        got.dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                    }
                    (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT)
                        if room >= libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as usize =>
                    {
                        let hops: libc::c_int = std::ptr::read_unaligned(data.cast());
                        got.hop_limit = u8::try_from(hops).ok();
                    }
                    _ => {}
                }
                c = libc::CMSG_NXTHDR(&raw const msg, c);
            }
        }
        Ok(got)
    }
}

impl AsFd for Vrrp6Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// An `AF_PACKET` socket on one interface for sending whole Ethernet
/// frames: gratuitous ARPs and unsolicited neighbour advertisements. It is
/// opened for protocol 0, so it receives nothing.
pub struct ArpSocket {
    fd: OwnedFd,
    index: libc::c_int,
}

impl ArpSocket {
    /// Opens the socket on interface index `index`.
    pub fn open(index: u32) -> Result<Self, Errno> {
        let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        let index = libc::c_int::try_from(index).map_err(|_| Errno::EINVAL)?;
        Ok(ArpSocket { fd, index })
    }

    /// Sends one whole Ethernet frame (destination and ethertype are read
    /// from its header; shorter than a header is `EINVAL`).
    pub fn send(&self, frame: &[u8]) -> Result<(), Errno> {
        let (Some(dst), Some(ethertype)) = (frame.get(..6), frame.get(12..14)) else {
            return Err(Errno::EINVAL);
        };
        // SAFETY: `sockaddr_ll` is a plain C struct; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        // Network order, as on the wire.
        sll.sll_protocol = u16::from_ne_bytes([ethertype[0], ethertype[1]]);
        sll.sll_ifindex = self.index;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(dst);
        // SAFETY: `frame` and `sll` are live for the call; the length given is
        // `sll`'s size.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const sll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        Errno::result(n).map(drop)
    }
}

/// A netlink socket: `NETLINK_ROUTE` for address requests and link
/// notifications, `NETLINK_GENERIC` for IPVS.
pub struct NetlinkSocket {
    fd: OwnedFd,
}

impl NetlinkSocket {
    /// Opens and binds the socket (kernel-assigned port id, no groups).
    pub fn open() -> Result<Self, Errno> {
        Self::open_groups(0)
    }

    /// Opens and binds a socket that also receives the multicast `groups`
    /// (e.g. `RTMGRP_LINK`: link notifications).
    pub fn open_groups(groups: u32) -> Result<Self, Errno> {
        Self::open_protocol(libc::NETLINK_ROUTE, groups)
    }

    /// Opens and binds a `NETLINK_GENERIC` socket (IPVS) whose receive
    /// buffer holds the acks of `rcvbuf` bytes of requests sent at once
    /// (raised as root with `SO_RCVBUFFORCE` above `rmem_max`).
    pub fn open_generic(rcvbuf: usize) -> Result<Self, Errno> {
        let s = Self::open_protocol(libc::NETLINK_GENERIC, 0)?;
        let size = libc::c_int::try_from(rcvbuf).unwrap_or(libc::c_int::MAX);
        if setsockopt(&s.fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
            setsockopt(&s.fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size)?;
        }
        Ok(s)
    }

    fn open_protocol(protocol: libc::c_int, groups: u32) -> Result<Self, Errno> {
        let fd = socket(libc::AF_NETLINK, libc::SOCK_RAW, protocol)?;
        // SAFETY: `sockaddr_nl` is a plain C struct; all-zero is valid.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        sa.nl_groups = groups;
        // SAFETY: `sa` is live for the call and the length given is its size.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const sa).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        Errno::result(r)?;
        let one: libc::c_int = 1;
        // Extended acks carry the kernel's message for an error; harmless if
        // the kernel lacks them.
        let _ = setsockopt(&fd, libc::SOL_NETLINK, libc::NETLINK_EXT_ACK, &one);
        Ok(NetlinkSocket { fd })
    }

    /// Sends one or more netlink messages to the kernel.
    pub fn send(&self, msg: &[u8]) -> Result<(), Errno> {
        // SAFETY: `sockaddr_nl` is a plain C struct; all-zero (port 0 = the
        // kernel) is valid.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `msg` and `sa` are live for the call; the length given is
        // `sa`'s size.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&raw const sa).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        Errno::result(n).map(drop)
    }

    /// Receives one datagram of netlink messages into `buf`.
    pub fn recv(&self, buf: &mut [u8]) -> nb::Result<usize, Errno> {
        recv(&self.fd, buf)
    }
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Moves the calling thread into a new, empty network namespace (tests:
/// the zero-allocation test runs the VRRP loop on veths of its own). Needs
/// CAP_SYS_ADMIN.
#[cfg(test)]
pub fn enter_new_netns() -> Result<(), Errno> {
    // SAFETY: plain system call; it changes only this thread's namespace.
    Errno::result(unsafe { libc::unshare(libc::CLONE_NEWNET) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address() {
        assert_eq!(has_address("lo", IpAddr::V4(Ipv4Addr::LOCALHOST)), Ok(true));
        assert_eq!(
            has_address("lo", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            Ok(false)
        );
    }

    #[test]
    fn ipv6_forwarding_reads_proc_or_says_no() {
        // `lo` exists wherever IPv6 is on; the value depends on the host,
        // but reading it must agree with the file.
        let file = std::fs::read_to_string("/proc/sys/net/ipv6/conf/lo/forwarding");
        assert_eq!(ipv6_forwarding("lo"), file.is_ok_and(|v| v.trim() != "0"));
        assert!(!ipv6_forwarding("no-such-if0"));
        assert!(!ipv6_forwarding("../../../../etc"));
    }

    #[test]
    fn if_inet6_lines() {
        let ll = parse_if_inet6(
            b"fe8000000000000000fc00fffe000001 04 40 20 80     eth0",
            "eth0",
        );
        assert_eq!(ll, Some("fe80::fc:ff:fe00:1".parse().unwrap()));
        assert_eq!(
            parse_if_inet6(
                b"fe8000000000000000fc00fffe000001 04 40 20 80     eth0",
                "eth1"
            ),
            None
        );
        assert_eq!(
            parse_if_inet6(
                b"fd000000000000000000000000000002 04 40 00 82     eth0",
                "eth0"
            ),
            None,
            "global scope"
        );
        assert_eq!(parse_if_inet6(b"garbage", "eth0"), None);
        // The real file parses (whatever this machine has).
        let _ = link_local_of("lo");
    }

    #[test]
    fn loopback_facts() {
        let lo = interface("lo").expect("lo exists");
        assert_eq!(lo.index, 1);
        assert_eq!(lo.mac, [0; 6]);
        assert_eq!(interface("no-such-if0").unwrap_err(), Errno::ENODEV);
        assert_eq!(
            interface("a-name-longer-than-fifteen").unwrap_err(),
            Errno::ENAMETOOLONG
        );
    }
}
