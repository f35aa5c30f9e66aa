//! rtnetlink addresses (`linux/rtnetlink.h`, `linux/if_addr.h`): the
//! `RTM_NEWADDR` / `RTM_DELADDR` requests that add and remove virtual IPs,
//! and the same messages as the kernel sends them to a monitor socket
//! subscribed to `RTNLGRP_IPV4_IFADDR` / `RTNLGRP_IPV6_IFADDR`.
//!
//! - [`AddressRequest`] builds one complete request — netlink header,
//!   `ifaddrmsg`, attributes — into a caller's `&mut [u8]` (at most
//!   [`MAX_REQUEST_LEN`] bytes), with no allocation. It follows keepalived's
//!   `netlink_ipaddress()` (`vrrp_ipaddress.c`): flags
//!   `NLM_F_REQUEST | NLM_F_ACK` only (no `CREATE`/`EXCL`), and the attributes
//!   in keepalived's order:
//!
//!   | | IPv4 add | IPv4 delete | IPv6 add | IPv6 delete |
//!   |---|---|---|---|---|
//!   | `IFA_CACHEINFO` (preferred lifetime, valid ∞) | – | – | if set | – |
//!   | `IFA_LOCAL` | yes | yes | yes | yes |
//!   | `IFA_BROADCAST` | if set | – | – | – |
//!   | `IFA_ADDRESS` | peer, if set | peer, else the address | peer, if set | – |
//!   | `IFA_LABEL` | if set | – | – | – |
//!   | `IFA_FLAGS` | if ≠ 0 | – | `NODAD` unless `keep_dad`, + extra | – |
//!
//!   The `ifaddrmsg` carries family, prefix length, scope, interface index,
//!   and the low 8 bits of the flags (for kernels before `IFA_FLAGS`, 3.14).
//! - [`Packet`] is a zero-copy view of an `ifaddrmsg` payload; [`AddressRepr`]
//!   the parsed notification, with the label borrowed from the message.
//! - [`Failure`] puts a kernel errno together with the address and the
//!   interface it concerned, for the log line (issue 3: netlink errors are
//!   reported with address and interface, never ignored).
//!
//! Multi-byte fields are in host byte order except the addresses, which are
//! in network order, as the kernel has them.
//!
//! **Indexing.** Accessors of the 8-byte `ifaddrmsg` index the buffer
//! directly: that is safe once [`Packet::new_checked`] has succeeded, and is
//! the caller's promise with [`Packet::new_unchecked`]. The attributes are
//! walked with [`netlink::Attributes`], which never indexes without a check.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::netlink::{self, Attributes, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, attribute_len};

/// Message type: an address was added (notification) / add one (request).
pub const RTM_NEWADDR: u16 = 20;
/// Message type: an address was removed (notification) / remove one (request).
pub const RTM_DELADDR: u16 = 21;
/// Message type: dump the addresses.
pub const RTM_GETADDR: u16 = 22;
/// The multicast group of IPv4 address notifications (`RTMGRP_IPV4_IFADDR`).
pub const RTMGRP_IPV4_IFADDR: u32 = 0x10;
/// The multicast group of IPv6 address notifications (`RTMGRP_IPV6_IFADDR`).
pub const RTMGRP_IPV6_IFADDR: u32 = 0x100;

/// Attribute: the prefix address (the peer on point-to-point links).
pub const IFA_ADDRESS: u16 = 1;
/// Attribute: the local address.
pub const IFA_LOCAL: u16 = 2;
/// Attribute: the label (IPv4), NUL-terminated.
pub const IFA_LABEL: u16 = 3;
/// Attribute: the broadcast address (IPv4).
pub const IFA_BROADCAST: u16 = 4;
/// Attribute: the anycast address.
pub const IFA_ANYCAST: u16 = 5;
/// Attribute: `struct ifa_cacheinfo` (lifetimes).
pub const IFA_CACHEINFO: u16 = 6;
/// Attribute: the multicast address.
pub const IFA_MULTICAST: u16 = 7;
/// Attribute: the 32-bit flags (supersede the `ifaddrmsg` byte).
pub const IFA_FLAGS: u16 = 8;

/// Flag: secondary address (`IFA_F_SECONDARY`).
pub const IFA_F_SECONDARY: u32 = 0x01;
/// Flag: no duplicate address detection (`IFA_F_NODAD`).
pub const IFA_F_NODAD: u32 = 0x02;
/// Flag: duplicate address detection failed (`IFA_F_DADFAILED`).
pub const IFA_F_DADFAILED: u32 = 0x08;
/// Flag: mobile IPv6 home address (`IFA_F_HOMEADDRESS`).
pub const IFA_F_HOMEADDRESS: u32 = 0x10;
/// Flag: deprecated (`IFA_F_DEPRECATED`).
pub const IFA_F_DEPRECATED: u32 = 0x20;
/// Flag: duplicate address detection not finished (`IFA_F_TENTATIVE`).
pub const IFA_F_TENTATIVE: u32 = 0x40;
/// Flag: permanent (configured, not autoconfigured) (`IFA_F_PERMANENT`).
pub const IFA_F_PERMANENT: u32 = 0x80;
/// Flag: manage temporary addresses (`IFA_F_MANAGETEMPADDR`).
pub const IFA_F_MANAGETEMPADDR: u32 = 0x100;
/// Flag: add no prefix route (`IFA_F_NOPREFIXROUTE`).
pub const IFA_F_NOPREFIXROUTE: u32 = 0x200;
/// Flag: join the multicast group (`IFA_F_MCAUTOJOIN`).
pub const IFA_F_MCAUTOJOIN: u32 = 0x400;

/// `AF_INET`.
pub const AF_INET: u8 = 2;
/// `AF_INET6`.
pub const AF_INET6: u8 = 10;
/// Bytes of `struct ifaddrmsg`.
pub const IFADDRMSG_LEN: usize = 8;
/// Bytes of `struct ifa_cacheinfo`.
pub const CACHEINFO_LEN: usize = 16;
/// An infinite lifetime in `ifa_cacheinfo`.
pub const INFINITY_LIFE_TIME: u32 = u32::MAX;
/// Longest label, in bytes, without its NUL (`IFNAMSIZ` - 1).
pub const LABEL_MAX: usize = 15;
/// Largest message [`AddressRequest::emit`] writes: header, `ifaddrmsg`,
/// cache info, local, peer, broadcast, a 15-byte label and flags.
pub const MAX_REQUEST_LEN: usize = netlink::HEADER_LEN
    + IFADDRMSG_LEN
    + attribute_len(CACHEINFO_LEN)
    + 2 * attribute_len(16)
    + attribute_len(4)
    + attribute_len(LABEL_MAX + 1)
    + attribute_len(4);
/// Bytes of an `RTM_GETADDR` dump request ([`emit_dump_request`]).
pub const DUMP_REQUEST_LEN: usize = netlink::HEADER_LEN + IFADDRMSG_LEN;

/// Byte offsets of `struct ifaddrmsg`.
mod field {
    /// `ifa_family`.
    pub const FAMILY: usize = 0;
    /// `ifa_prefixlen`.
    pub const PREFIX_LEN: usize = 1;
    /// `ifa_flags` (low 8 bits of the flags).
    pub const FLAGS: usize = 2;
    /// `ifa_scope`.
    pub const SCOPE: usize = 3;
    /// `ifa_index`.
    pub const INDEX: core::ops::Range<usize> = 4..8;
}

/// Errors of building a request or parsing a notification.
///
/// `Netlink` to `Label` on the parse side are malformed kernel messages (to
/// be counted); on the emit side `PrefixLen` to `Label` are configuration
/// that should have been refused at load, and `BufferTooSmall` a local bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The netlink framing or an attribute is malformed.
    Netlink(netlink::Error),
    /// Parse: the message is not `RTM_NEWADDR` / `RTM_DELADDR` (kept).
    MessageType(u16),
    /// Parse: the payload is shorter than `ifaddrmsg` (routes: `rtmsg`).
    Truncated,
    /// Parse: an address attribute whose length does not fit the family
    /// (the attribute kind is kept).
    AttributeValue(u16),
    /// Emit: the prefix length exceeds 32 (IPv4) or 128 (IPv6).
    PrefixLen(u8),
    /// Emit: a broadcast address on IPv6, or a peer of the other family.
    AddressFamily,
    /// Emit: a label that is empty, longer than [`LABEL_MAX`], holds a NUL,
    /// or is set on IPv6 (which has no labels). Parse: a label that is not
    /// UTF-8.
    Label,
    /// Emit: the output buffer is too small (the bytes needed are kept).
    BufferTooSmall(usize),
}

impl From<netlink::Error> for Error {
    fn from(e: netlink::Error) -> Self {
        match e {
            netlink::Error::BufferTooSmall(n) => Error::BufferTooSmall(n),
            other => Error::Netlink(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Netlink(e) => e.fmt(f),
            Error::MessageType(t) => write!(f, "netlink message type {t} is not an address"),
            Error::Truncated => f.write_str("ifaddrmsg or rtmsg truncated"),
            Error::AttributeValue(k) => write!(f, "address attribute {k} of the wrong length"),
            Error::PrefixLen(p) => write!(f, "prefix length {p} too long for the address"),
            Error::AddressFamily => f.write_str("broadcast or peer of the wrong address family"),
            Error::Label => f.write_str("address label empty, too long, with NUL, or on IPv6"),
            Error::BufferTooSmall(n) => write!(f, "netlink output buffer needs {n} bytes"),
        }
    }
}

/// Adding or removing an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `RTM_NEWADDR`.
    Add,
    /// `RTM_DELADDR`.
    Delete,
}

impl Operation {
    /// The netlink message type.
    pub const fn message_type(self) -> u16 {
        match self {
            Operation::Add => RTM_NEWADDR,
            Operation::Delete => RTM_DELADDR,
        }
    }

    /// The operation of an address message type, if it is one.
    pub const fn from_message_type(t: u16) -> Option<Operation> {
        match t {
            RTM_NEWADDR => Some(Operation::Add),
            RTM_DELADDR => Some(Operation::Delete),
            _ => None,
        }
    }
}

/// The address family of an `ifaddrmsg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// `AF_INET`.
    Ipv4,
    /// `AF_INET6`.
    Ipv6,
    /// Any other family (its addresses are not decoded).
    Unknown(u8),
}

impl From<u8> for Family {
    fn from(v: u8) -> Self {
        match v {
            AF_INET => Family::Ipv4,
            AF_INET6 => Family::Ipv6,
            other => Family::Unknown(other),
        }
    }
}

impl From<Family> for u8 {
    fn from(f: Family) -> Self {
        match f {
            Family::Ipv4 => AF_INET,
            Family::Ipv6 => AF_INET6,
            Family::Unknown(other) => other,
        }
    }
}

/// A view of an `ifaddrmsg` and the attributes after it (the payload of an
/// `RTM_*ADDR` netlink message).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  ifa_family   | ifa_prefixlen |   ifa_flags   |   ifa_scope   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          ifa_index                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    attributes (rtattr) ...                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking; accessors panic if it is shorter
    /// than [`IFADDRMSG_LEN`].
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after checking it holds an `ifaddrmsg`; no accessor
    /// can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        if buffer.as_ref().len() < IFADDRMSG_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    /// `ifa_family`.
    pub fn family(&self) -> Family {
        Family::from(self.buffer.as_ref()[field::FAMILY])
    }

    /// `ifa_prefixlen`.
    pub fn prefix_len(&self) -> u8 {
        self.buffer.as_ref()[field::PREFIX_LEN]
    }

    /// `ifa_flags`: the low 8 bits of the flags (see `IFA_FLAGS`).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// `ifa_scope` (`RT_SCOPE_*`: 0 universe, 253 link, 254 host).
    pub fn scope(&self) -> u8 {
        self.buffer.as_ref()[field::SCOPE]
    }

    /// `ifa_index`: the interface index.
    pub fn ifindex(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::INDEX];
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The attributes after the `ifaddrmsg`.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes::new(self.buffer.as_ref().get(IFADDRMSG_LEN..).unwrap_or(&[]))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the whole `ifaddrmsg`.
    pub fn set_header(&mut self, family: u8, prefix_len: u8, flags: u8, scope: u8, ifindex: u32) {
        let b = self.buffer.as_mut();
        b[field::FAMILY] = family;
        b[field::PREFIX_LEN] = prefix_len;
        b[field::FLAGS] = flags;
        b[field::SCOPE] = scope;
        b[field::INDEX].copy_from_slice(&ifindex.to_ne_bytes());
    }
}

/// One `RTM_NEWADDR` / `RTM_DELADDR` request for a virtual IP; see the
/// module documentation for the attributes it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressRequest<'a> {
    /// Add or delete.
    pub operation: Operation,
    /// The address (`IFA_LOCAL`); its family is the message's.
    pub address: IpAddr,
    /// The prefix length (≤ 32 or ≤ 128).
    pub prefix_len: u8,
    /// The interface index.
    pub ifindex: u32,
    /// `RT_SCOPE_*` (0 universe, 253 link, 254 host).
    pub scope: u8,
    /// `brd` (IPv4 add only).
    pub broadcast: Option<Ipv4Addr>,
    /// `peer` (`IFA_ADDRESS`), same family as `address`.
    pub peer: Option<IpAddr>,
    /// `label` (IPv4 add only; ≤ [`LABEL_MAX`] bytes, no NUL).
    pub label: Option<&'a str>,
    /// Extra `IFA_F_*` flags to add with (home, mngtmpaddr, noprefixroute,
    /// autojoin).
    pub flags: u32,
    /// IPv6: keep duplicate address detection (keepalived's `-nodad`);
    /// otherwise `IFA_F_NODAD` is set on every IPv6 add.
    pub keep_dad: bool,
    /// IPv6 add: the preferred lifetime in seconds (`preferred_lft`; 0 marks
    /// the address deprecated); the valid lifetime is infinite.
    pub preferred_lifetime: Option<u32>,
    /// `nlmsg_seq`, echoed in the kernel's acknowledgement.
    pub sequence: u32,
}

impl<'a> AddressRequest<'a> {
    /// A request with scope 0 (universe) and no optional attributes.
    pub const fn new(
        operation: Operation,
        address: IpAddr,
        prefix_len: u8,
        ifindex: u32,
        sequence: u32,
    ) -> AddressRequest<'a> {
        AddressRequest {
            operation,
            address,
            prefix_len,
            ifindex,
            scope: 0,
            broadcast: None,
            peer: None,
            label: None,
            flags: 0,
            keep_dad: false,
            preferred_lifetime: None,
            sequence,
        }
    }

    const fn is_add(&self) -> bool {
        matches!(self.operation, Operation::Add)
    }

    /// The `IFA_F_*` flags sent: none on delete; on add the extra flags,
    /// plus `IFA_F_NODAD` for IPv6 unless `keep_dad`.
    pub const fn effective_flags(&self) -> u32 {
        match (self.operation, self.address) {
            (Operation::Delete, _) => 0,
            (Operation::Add, IpAddr::V6(_)) if !self.keep_dad => self.flags | IFA_F_NODAD,
            (Operation::Add, _) => self.flags,
        }
    }

    /// The `IFA_ADDRESS` value sent, if any.
    fn address_attribute(&self) -> Option<IpAddr> {
        match (self.operation, self.address) {
            (Operation::Delete, IpAddr::V4(_)) => Some(self.peer.unwrap_or(self.address)),
            (Operation::Delete, IpAddr::V6(_)) => None,
            (Operation::Add, _) => self.peer,
        }
    }

    fn cacheinfo(&self) -> Option<[u8; CACHEINFO_LEN]> {
        match (self.operation, self.address, self.preferred_lifetime) {
            (Operation::Add, IpAddr::V6(_), Some(preferred)) => {
                let mut c = [0u8; CACHEINFO_LEN];
                c[0..4].copy_from_slice(&preferred.to_ne_bytes());
                c[4..8].copy_from_slice(&INFINITY_LIFE_TIME.to_ne_bytes());
                Some(c)
            }
            _ => None,
        }
    }

    fn broadcast_attribute(&self) -> Option<Ipv4Addr> {
        if self.is_add() { self.broadcast } else { None }
    }

    fn label_attribute(&self) -> Option<&'a str> {
        if self.is_add() { self.label } else { None }
    }

    /// Checks what the kernel would refuse or what makes no sense.
    pub fn check(&self) -> Result<(), Error> {
        let max = match self.address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if self.prefix_len > max {
            return Err(Error::PrefixLen(self.prefix_len));
        }
        if let Some(peer) = self.peer
            && peer.is_ipv4() != self.address.is_ipv4()
        {
            return Err(Error::AddressFamily);
        }
        if self.broadcast.is_some() && self.address.is_ipv6() {
            return Err(Error::AddressFamily);
        }
        if let Some(label) = self.label
            && (label.is_empty()
                || label.len() > LABEL_MAX
                || label.bytes().any(|b| b == 0)
                || self.address.is_ipv6())
        {
            return Err(Error::Label);
        }
        Ok(())
    }

    /// Bytes of the message [`AddressRequest::emit`] writes (≤ [`MAX_REQUEST_LEN`]).
    pub fn buffer_len(&self) -> usize {
        let addr = match self.address {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 16,
        };
        let mut n = netlink::HEADER_LEN + IFADDRMSG_LEN + attribute_len(addr);
        if self.cacheinfo().is_some() {
            n += attribute_len(CACHEINFO_LEN);
        }
        if self.broadcast_attribute().is_some() {
            n += attribute_len(4);
        }
        if let Some(label) = self.label_attribute() {
            n += attribute_len(label.len() + 1);
        }
        if self.address_attribute().is_some() {
            n += attribute_len(addr);
        }
        if self.effective_flags() != 0 {
            n += attribute_len(4);
        }
        n
    }

    /// Writes the complete message at the start of `buffer`, returning its
    /// length; `&buffer[..len]` is ready for `send`.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        let total = self.buffer_len();
        let out = buffer
            .get_mut(..total)
            .ok_or(Error::BufferTooSmall(total))?;
        out.fill(0);
        netlink::Repr {
            message_type: self.operation.message_type(),
            flags: NLM_F_REQUEST | NLM_F_ACK,
            sequence: self.sequence,
            port_id: 0,
            payload_len: total - netlink::HEADER_LEN,
        }
        .emit(out)?;
        let (family, local): (u8, &[u8]) = match &self.address {
            IpAddr::V4(a) => (AF_INET, &a.octets()[..]),
            IpAddr::V6(a) => (AF_INET6, &a.octets()[..]),
        };
        let flags = self.effective_flags();
        let ifa = out
            .get_mut(netlink::HEADER_LEN..netlink::HEADER_LEN + IFADDRMSG_LEN)
            .ok_or(Error::BufferTooSmall(total))?;
        Packet::new_unchecked(ifa).set_header(
            family,
            self.prefix_len,
            (flags & 0xff) as u8,
            self.scope,
            self.ifindex,
        );
        let mut at = netlink::HEADER_LEN + IFADDRMSG_LEN;
        let mut put = |kind: u16, value: &[u8]| -> Result<(), Error> {
            let rest = out.get_mut(at..).ok_or(Error::BufferTooSmall(total))?;
            at += netlink::emit_attribute(rest, kind, value)?;
            Ok(())
        };
        if let Some(c) = self.cacheinfo() {
            put(IFA_CACHEINFO, &c)?;
        }
        put(IFA_LOCAL, local)?;
        if let Some(b) = self.broadcast_attribute() {
            put(IFA_BROADCAST, &b.octets())?;
        }
        if let Some(label) = self.label_attribute() {
            let mut l = [0u8; LABEL_MAX + 1];
            let dst = l.get_mut(..label.len()).ok_or(Error::Label)?;
            dst.copy_from_slice(label.as_bytes());
            put(IFA_LABEL, l.get(..label.len() + 1).ok_or(Error::Label)?)?;
        }
        match self.address_attribute() {
            Some(IpAddr::V4(a)) => put(IFA_ADDRESS, &a.octets())?,
            Some(IpAddr::V6(a)) => put(IFA_ADDRESS, &a.octets())?,
            None => {}
        }
        if flags != 0 {
            put(IFA_FLAGS, &flags.to_ne_bytes())?;
        }
        Ok(total)
    }

    /// The failure of this request, for the log: the kernel's errno (positive,
    /// from [`netlink::ErrorRepr::errno`]) with the address and `interface`.
    pub const fn failure<'i>(&self, interface: &'i str, errno: i32) -> Failure<'i> {
        Failure {
            operation: self.operation,
            address: self.address,
            prefix_len: self.prefix_len,
            interface,
            ifindex: self.ifindex,
            errno,
        }
    }
}

/// Writes an `RTM_GETADDR` dump request for one family (`AF_INET`,
/// `AF_INET6`, or 0 for all) into `buffer`, returning its length
/// ([`DUMP_REQUEST_LEN`]). The replies are `RTM_NEWADDR` messages flagged
/// `NLM_F_MULTI`, ended by `NLMSG_DONE`.
pub fn emit_dump_request(family: u8, sequence: u32, buffer: &mut [u8]) -> Result<usize, Error> {
    let out = buffer
        .get_mut(..DUMP_REQUEST_LEN)
        .ok_or(Error::BufferTooSmall(DUMP_REQUEST_LEN))?;
    out.fill(0);
    netlink::Repr {
        message_type: RTM_GETADDR,
        flags: NLM_F_REQUEST | NLM_F_DUMP,
        sequence,
        port_id: 0,
        payload_len: IFADDRMSG_LEN,
    }
    .emit(out)?;
    if let Some(b) = out.get_mut(netlink::HEADER_LEN) {
        *b = family;
    }
    Ok(DUMP_REQUEST_LEN)
}

/// A request the kernel refused: what, where, and why — the context a log
/// line needs. `Display` reads e.g. `cannot add 10.0.0.1/24 on eth0
/// (ifindex 2): address already exists (EEXIST)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Failure<'i> {
    /// Add or delete.
    pub operation: Operation,
    /// The address.
    pub address: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The interface name.
    pub interface: &'i str,
    /// The interface index.
    pub ifindex: u32,
    /// The positive errno.
    pub errno: i32,
}

/// The name and meaning of the errnos an address request commonly gets.
const fn errno_text(errno: i32) -> Option<(&'static str, &'static str)> {
    Some(match errno {
        1 => ("EPERM", "operation not permitted"),
        12 => ("ENOMEM", "out of memory"),
        13 => ("EACCES", "permission denied"),
        17 => ("EEXIST", "address already exists"),
        19 => ("ENODEV", "no such device"),
        22 => ("EINVAL", "invalid argument"),
        95 => ("EOPNOTSUPP", "operation not supported"),
        97 => ("EAFNOSUPPORT", "address family not supported"),
        99 => ("EADDRNOTAVAIL", "address not assigned"),
        105 => ("ENOBUFS", "no buffer space"),
        _ => return None,
    })
}

impl fmt::Display for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.operation {
            Operation::Add => "add",
            Operation::Delete => "delete",
        };
        write!(
            f,
            "cannot {verb} {}/{} on {} (ifindex {}): ",
            self.address, self.prefix_len, self.interface, self.ifindex
        )?;
        match errno_text(self.errno) {
            Some((name, text)) => write!(f, "{text} ({name})"),
            None => write!(f, "errno {}", self.errno),
        }
    }
}

/// `struct ifa_cacheinfo`: lifetimes in seconds, timestamps in 1/100 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CacheInfo {
    /// `ifa_prefered`: preferred lifetime (∞ = [`INFINITY_LIFE_TIME`]).
    pub preferred: u32,
    /// `ifa_valid`: valid lifetime.
    pub valid: u32,
    /// `cstamp`: created.
    pub created: u32,
    /// `tstamp`: updated.
    pub updated: u32,
}

/// An address notification (or dump entry), parsed; the label borrows from
/// the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressRepr<'a> {
    /// `RTM_NEWADDR` (added / present) or `RTM_DELADDR` (removed).
    pub operation: Operation,
    /// The family.
    pub family: Family,
    /// The prefix length.
    pub prefix_len: u8,
    /// `IFA_FLAGS` if present, else the `ifaddrmsg` byte.
    pub flags: u32,
    /// The scope.
    pub scope: u8,
    /// The interface index.
    pub ifindex: u32,
    /// `IFA_LOCAL` (IPv4 always; IPv6 only with a peer).
    pub local: Option<IpAddr>,
    /// `IFA_ADDRESS` (the prefix address, or the peer).
    pub address: Option<IpAddr>,
    /// `IFA_BROADCAST`.
    pub broadcast: Option<Ipv4Addr>,
    /// `IFA_LABEL`, up to its NUL.
    pub label: Option<&'a str>,
    /// `IFA_CACHEINFO`.
    pub cache_info: Option<CacheInfo>,
}

fn ip_of(family: Family, kind: u16, value: &[u8]) -> Result<Option<IpAddr>, Error> {
    match family {
        Family::Ipv4 => <[u8; 4]>::try_from(value)
            .map(|o| Some(IpAddr::V4(Ipv4Addr::from(o))))
            .map_err(|_| Error::AttributeValue(kind)),
        Family::Ipv6 => <[u8; 16]>::try_from(value)
            .map(|o| Some(IpAddr::V6(Ipv6Addr::from(o))))
            .map_err(|_| Error::AttributeValue(kind)),
        Family::Unknown(_) => Ok(None),
    }
}

impl<'a> AddressRepr<'a> {
    /// Parses one `RTM_NEWADDR` / `RTM_DELADDR` message. Unknown attributes
    /// are skipped; a malformed one fails the whole message.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        message: &netlink::Packet<&'a T>,
    ) -> Result<AddressRepr<'a>, Error> {
        message.check_len()?;
        let t = message.message_type();
        let operation = Operation::from_message_type(t).ok_or(Error::MessageType(t))?;
        Self::parse_payload(operation, message.payload())
    }

    /// Parses the payload (`ifaddrmsg` + attributes) of an address message.
    pub fn parse_payload(
        operation: Operation,
        payload: &'a [u8],
    ) -> Result<AddressRepr<'a>, Error> {
        let packet = Packet::new_checked(payload)?;
        let family = packet.family();
        let mut repr = AddressRepr {
            operation,
            family,
            prefix_len: packet.prefix_len(),
            flags: u32::from(packet.flags()),
            scope: packet.scope(),
            ifindex: packet.ifindex(),
            local: None,
            address: None,
            broadcast: None,
            label: None,
            cache_info: None,
        };
        for attribute in packet.attributes() {
            let attribute = attribute?;
            let kind = attribute.kind();
            let value = attribute.value;
            match kind {
                IFA_LOCAL => repr.local = ip_of(family, kind, value)?,
                IFA_ADDRESS => repr.address = ip_of(family, kind, value)?,
                IFA_BROADCAST => {
                    let o = <[u8; 4]>::try_from(value).map_err(|_| Error::AttributeValue(kind))?;
                    repr.broadcast = Some(Ipv4Addr::from(o));
                }
                IFA_LABEL => {
                    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
                    let bytes = value.get(..end).unwrap_or(&[]);
                    repr.label = Some(core::str::from_utf8(bytes).map_err(|_| Error::Label)?);
                }
                IFA_FLAGS => {
                    repr.flags = attribute.as_u32().ok_or(Error::AttributeValue(kind))?;
                }
                IFA_CACHEINFO => {
                    let word = |i: usize| {
                        value
                            .get(i * 4..i * 4 + 4)
                            .and_then(|b| <[u8; 4]>::try_from(b).ok())
                            .map(u32::from_ne_bytes)
                            .ok_or(Error::AttributeValue(kind))
                    };
                    if value.len() != CACHEINFO_LEN {
                        return Err(Error::AttributeValue(kind));
                    }
                    repr.cache_info = Some(CacheInfo {
                        preferred: word(0)?,
                        valid: word(1)?,
                        created: word(2)?,
                        updated: word(3)?,
                    });
                }
                _ => {}
            }
        }
        Ok(repr)
    }

    /// The address itself: `IFA_LOCAL`, else `IFA_ADDRESS` (IPv6
    /// notifications without a peer carry only the latter).
    pub fn local_address(&self) -> Option<IpAddr> {
        self.local.or(self.address)
    }
}

#[cfg(test)]
mod tests;
