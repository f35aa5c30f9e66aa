//! Network sockets of the VRRP path: a raw IPv4 socket for protocol 112 per
//! interface, an `AF_PACKET` socket for gratuitous ARP, a `NETLINK_ROUTE`
//! socket for addresses, and interface facts (index, MAC, primary IPv4
//! address) read once at start-up with ioctls.
//!
//! Every socket is non-blocking and close-on-exec; reads go into the
//! caller's buffer and return `WouldBlock` as [`nb::Error::WouldBlock`], so
//! the loop drains each until it says so. Nothing here allocates.

use std::net::Ipv4Addr;
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

/// Reads index, MAC and primary IPv4 address of interface `name`.
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
    Ok(IfInfo { index, mac, ipv4 })
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

/// Whether interface `name` carries the IPv4 address `addr` (start-up only:
/// `getifaddrs` allocates). `Err` when the list cannot be read.
pub fn has_ipv4(name: &str, addr: Ipv4Addr) -> Result<bool, Errno> {
    let found = nix::ifaddrs::getifaddrs()?.any(|ifa| {
        ifa.interface_name == name
            && ifa
                .address
                .as_ref()
                .and_then(|a| a.as_sockaddr_in())
                .is_some_and(|sin| sin.ip() == addr)
    });
    Ok(found)
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
        let mut dev = [0u8; IFNAME_BYTES];
        for (d, s) in dev.iter_mut().zip(name.bytes()) {
            *d = s;
        }
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev)?;
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

/// An `AF_PACKET` socket on one interface for sending gratuitous ARP frames.
pub struct ArpSocket {
    fd: OwnedFd,
    index: libc::c_int,
}

impl ArpSocket {
    /// Opens the socket on interface index `index`.
    pub fn open(index: u32) -> Result<Self, Errno> {
        let proto = (libc::ETH_P_ARP as u16).to_be();
        let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, libc::c_int::from(proto))?;
        let index = libc::c_int::try_from(index).map_err(|_| Errno::EINVAL)?;
        Ok(ArpSocket { fd, index })
    }

    /// Sends one whole Ethernet frame.
    pub fn send(&self, frame: &[u8]) -> Result<(), Errno> {
        // SAFETY: `sockaddr_ll` is a plain C struct; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ARP as u16).to_be();
        sll.sll_ifindex = self.index;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
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
        assert_eq!(has_ipv4("lo", Ipv4Addr::LOCALHOST), Ok(true));
        assert_eq!(has_ipv4("lo", Ipv4Addr::new(192, 0, 2, 1)), Ok(false));
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
