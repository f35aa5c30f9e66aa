//! IPVS over generic netlink (`linux/ip_vs.h`, family "IPVS", version 1):
//! the requests that program the kernel's virtual server table and the
//! replies of its dumps.
//!
//! A request is a generic netlink message to the IPVS family id (resolved
//! with [`super::genetlink::emit_get_family`]) whose attributes are a
//! nested **service** (`IPVS_CMD_ATTR_SERVICE`) and, for destinations, a
//! nested **destination** (`IPVS_CMD_ATTR_DEST`):
//!
//! | command | service nest | destination nest | flags |
//! |---|---|---|---|
//! | `NEW_SERVICE`, `SET_SERVICE` | full ([`ServiceRepr`]) | – | ack |
//! | `DEL_SERVICE` | key | – | ack |
//! | `NEW_DEST`, `SET_DEST` | key | full ([`DestRepr`]) | ack |
//! | `DEL_DEST` | key | address, port, family | ack |
//! | `GET_SERVICE` | – | – | dump |
//! | `GET_DEST` | key | – | dump |
//! | `GET_INFO` | – | – | – |
//! | `FLUSH` | – | – | ack |
//! | `SET_CONFIG` | timeouts at top level | – | ack |
//! | `GET_CONFIG` | – | – | – |
//!
//! A service's **key** is its family plus either (protocol, address, port)
//! or a firewall mark ([`ServiceKey`]). Field encodings follow the kernel
//! (`ip_vs_ctl.c`) and libipvs, which keepalived uses:
//!
//! - addresses are a 16-byte `union nf_inet_addr` (IPv4 in the first 4);
//! - ports are big-endian `u16`; protocol and family host-order `u16`;
//! - the persistence netmask is a big-endian IPv4 mask, or for IPv6 the
//!   prefix length as a host-order `u32`;
//! - flags are `struct ip_vs_flags { flags, mask }`, host order;
//! - names (scheduler, persistence engine) are NUL-terminated, ≤ 15 bytes.
//!
//! Replies ([`Reply::parse`]): dumps answer with one `NEW_SERVICE` /
//! `NEW_DEST` message per entry, then `NLMSG_DONE`; `GET_INFO` with
//! `SET_INFO`; `GET_CONFIG` with `SET_CONFIG` (the timeouts). Statistics nests and unknown attributes are skipped; a
//! malformed attribute is an error naming its kind, never a panic. A dest
//! dump does not say which service it lists: the caller matches replies to
//! requests by sequence number.
//!
//! Nothing here indexes without a check.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::genetlink::{self, Header, c_string};
use super::netlink::{self, Attributes, MessageWriter, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};

/// The family's name for `CTRL_CMD_GETFAMILY`.
pub const GENL_NAME: &str = "IPVS";
/// The interface version requests carry.
pub const GENL_VERSION: u8 = 1;

/// Command: add a service.
pub const CMD_NEW_SERVICE: u8 = 1;
/// Command: change a service.
pub const CMD_SET_SERVICE: u8 = 2;
/// Command: remove a service (and its destinations).
pub const CMD_DEL_SERVICE: u8 = 3;
/// Command: get (dump) services.
pub const CMD_GET_SERVICE: u8 = 4;
/// Command: add a destination.
pub const CMD_NEW_DEST: u8 = 5;
/// Command: change a destination.
pub const CMD_SET_DEST: u8 = 6;
/// Command: remove a destination.
pub const CMD_DEL_DEST: u8 = 7;
/// Command: get (dump) the destinations of a service.
pub const CMD_GET_DEST: u8 = 8;
/// Command: set connection timeouts (also the reply to [`CMD_GET_CONFIG`]).
pub const CMD_SET_CONFIG: u8 = 12;
/// Command: read the connection timeouts.
pub const CMD_GET_CONFIG: u8 = 13;
/// Command: the reply to [`CMD_GET_INFO`].
pub const CMD_SET_INFO: u8 = 14;
/// Command: version and connection table size.
pub const CMD_GET_INFO: u8 = 15;
/// Command: remove every service.
pub const CMD_FLUSH: u8 = 17;

/// Top-level attribute: nested service.
pub const CMD_ATTR_SERVICE: u16 = 1;
/// Top-level attribute: nested destination.
pub const CMD_ATTR_DEST: u16 = 2;
/// Top-level attribute: TCP timeout, seconds.
pub const CMD_ATTR_TIMEOUT_TCP: u16 = 4;
/// Top-level attribute: TCP FIN timeout, seconds.
pub const CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
/// Top-level attribute: UDP timeout, seconds.
pub const CMD_ATTR_TIMEOUT_UDP: u16 = 6;

/// Service attribute: address family (`u16`).
pub const SVC_ATTR_AF: u16 = 1;
/// Service attribute: protocol (`u16`).
pub const SVC_ATTR_PROTOCOL: u16 = 2;
/// Service attribute: address (16 bytes).
pub const SVC_ATTR_ADDR: u16 = 3;
/// Service attribute: port (big-endian `u16`).
pub const SVC_ATTR_PORT: u16 = 4;
/// Service attribute: firewall mark (`u32`).
pub const SVC_ATTR_FWMARK: u16 = 5;
/// Service attribute: scheduler name.
pub const SVC_ATTR_SCHED_NAME: u16 = 6;
/// Service attribute: `struct ip_vs_flags`.
pub const SVC_ATTR_FLAGS: u16 = 7;
/// Service attribute: persistence timeout, seconds (`u32`).
pub const SVC_ATTR_TIMEOUT: u16 = 8;
/// Service attribute: persistence netmask (`u32`).
pub const SVC_ATTR_NETMASK: u16 = 9;
/// Service attribute: persistence engine name.
pub const SVC_ATTR_PE_NAME: u16 = 11;

/// Destination attribute: address (16 bytes).
pub const DEST_ATTR_ADDR: u16 = 1;
/// Destination attribute: port (big-endian `u16`).
pub const DEST_ATTR_PORT: u16 = 2;
/// Destination attribute: forwarding method (`u32`, `IP_VS_CONN_F_*`).
pub const DEST_ATTR_FWD_METHOD: u16 = 3;
/// Destination attribute: weight (`u32`, an `int`).
pub const DEST_ATTR_WEIGHT: u16 = 4;
/// Destination attribute: upper connection threshold.
pub const DEST_ATTR_U_THRESH: u16 = 5;
/// Destination attribute: lower connection threshold.
pub const DEST_ATTR_L_THRESH: u16 = 6;
/// Destination attribute: active connections (dumps).
pub const DEST_ATTR_ACTIVE_CONNS: u16 = 7;
/// Destination attribute: inactive connections (dumps).
pub const DEST_ATTR_INACT_CONNS: u16 = 8;
/// Destination attribute: persistent connections (dumps).
pub const DEST_ATTR_PERSIST_CONNS: u16 = 9;
/// Destination attribute: address family (`u16`).
pub const DEST_ATTR_ADDR_FAMILY: u16 = 11;
/// Destination attribute: tunnel type (`u8`).
pub const DEST_ATTR_TUN_TYPE: u16 = 13;
/// Destination attribute: tunnel port (big-endian `u16`).
pub const DEST_ATTR_TUN_PORT: u16 = 14;
/// Destination attribute: tunnel flags (`u16`).
pub const DEST_ATTR_TUN_FLAGS: u16 = 15;

/// Info attribute: IPVS version (`u32`).
pub const INFO_ATTR_VERSION: u16 = 1;
/// Info attribute: connection hash table size (`u32`).
pub const INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

/// Service flag: persistent.
pub const SVC_F_PERSISTENT: u32 = 0x0001;
/// Service flag: hashed (set by the kernel; not compared).
pub const SVC_F_HASHED: u32 = 0x0002;
/// Service flag: one-packet scheduling.
pub const SVC_F_ONEPACKET: u32 = 0x0004;
/// Service flag: scheduler flag 1 (`sh-fallback`, `mh-fallback`).
pub const SVC_F_SCHED1: u32 = 0x0008;
/// Service flag: scheduler flag 2 (`sh-port`, `mh-port`).
pub const SVC_F_SCHED2: u32 = 0x0010;
/// Service flag: scheduler flag 3.
pub const SVC_F_SCHED3: u32 = 0x0020;

/// Forwarding method: masquerading (NAT).
pub const CONN_F_MASQ: u32 = 0;
/// Forwarding method: local node.
pub const CONN_F_LOCALNODE: u32 = 1;
/// Forwarding method: tunnelling.
pub const CONN_F_TUNNEL: u32 = 2;
/// Forwarding method: direct routing.
pub const CONN_F_DROUTE: u32 = 3;
/// Mask of the forwarding method in the connection flags.
pub const CONN_F_FWD_MASK: u32 = 0x7;

/// Tunnel type: IP in IP.
pub const TUNNEL_TYPE_IPIP: u8 = 0;
/// Tunnel type: GUE.
pub const TUNNEL_TYPE_GUE: u8 = 1;
/// Tunnel type: GRE.
pub const TUNNEL_TYPE_GRE: u8 = 2;
/// Tunnel flag: checksum.
pub const TUNNEL_ENCAP_FLAG_CSUM: u16 = 1;
/// Tunnel flag: remote checksum offload.
pub const TUNNEL_ENCAP_FLAG_REMCSUM: u16 = 2;

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;
/// IP protocol number of TCP.
pub const IPPROTO_TCP: u16 = 6;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u16 = 17;
/// IP protocol number of SCTP.
pub const IPPROTO_SCTP: u16 = 132;

/// Bytes of a scheduler or persistence engine name, NUL included
/// (`IP_VS_SCHEDNAME_MAXLEN`, `IP_VS_PENAME_MAXLEN`).
pub const NAME_BYTES: usize = 16;
/// Bytes of the longest request [`Request::emit`] writes.
pub const MAX_REQUEST_LEN: usize = 256;

/// Errors of IPVS messages: malformed replies (`Genl`, `MissingAttribute`,
/// `AttributeValue`) or a request that cannot be written (`Genl` with
/// `BufferTooSmall`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Framing or generic netlink error.
    Genl(genetlink::Error),
    /// A required attribute is missing: (nest, kind); nest 0 = top level.
    MissingAttribute(u16, u16),
    /// An attribute has the wrong length or value: (nest, kind).
    AttributeValue(u16, u16),
}

impl From<genetlink::Error> for Error {
    fn from(e: genetlink::Error) -> Self {
        Error::Genl(e)
    }
}

impl From<netlink::Error> for Error {
    fn from(e: netlink::Error) -> Self {
        Error::Genl(genetlink::Error::Netlink(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nest = |n: u16| match n {
            CMD_ATTR_SERVICE => "service",
            CMD_ATTR_DEST => "destination",
            _ => "top-level",
        };
        match self {
            Error::Genl(e) => write!(f, "{e}"),
            Error::MissingAttribute(n, k) => {
                write!(f, "IPVS reply: {} attribute {k} missing", nest(*n))
            }
            Error::AttributeValue(n, k) => {
                write!(f, "IPVS reply: {} attribute {k} malformed", nest(*n))
            }
        }
    }
}

/// A scheduler or persistence engine name (at most 15 bytes), inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Name {
    bytes: [u8; NAME_BYTES],
    len: u8,
}

impl Name {
    /// No name.
    pub const EMPTY: Name = Name {
        bytes: [0; NAME_BYTES],
        len: 0,
    };

    /// `s` as a name; `None` if longer than 15 bytes or holding a NUL.
    pub fn new(s: &[u8]) -> Option<Name> {
        if s.len() >= NAME_BYTES || s.contains(&0) {
            return None;
        }
        let mut n = Name::EMPTY;
        n.bytes.get_mut(..s.len())?.copy_from_slice(s);
        n.len = s.len() as u8;
        Some(n)
    }

    /// The bytes without NUL.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The name as text (`"?"` if not UTF-8).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("?")
    }

    /// Whether there is no name.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes with their NUL, as sent.
    fn with_nul(&self) -> &[u8] {
        self.bytes.get(..=usize::from(self.len)).unwrap_or(&[0])
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// What identifies a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceKey {
    /// An address, port and protocol (the family is the address's).
    Addr {
        /// IP protocol number ([`IPPROTO_TCP`], ...).
        protocol: u16,
        /// The virtual address.
        addr: IpAddr,
        /// The port (0: all ports, persistent services).
        port: u16,
    },
    /// A firewall mark, in one family.
    Fwmark {
        /// [`AF_INET`] or [`AF_INET6`].
        family: u16,
        /// The mark.
        mark: u32,
    },
}

impl ServiceKey {
    /// The address family ([`AF_INET`] or [`AF_INET6`]).
    pub const fn family(&self) -> u16 {
        match self {
            ServiceKey::Addr { addr, .. } => family_of(*addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    fn emit(&self, w: &mut MessageWriter<'_>) -> Result<(), Error> {
        w.put_u16(SVC_ATTR_AF, self.family())?;
        match *self {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                w.put_u16(SVC_ATTR_PROTOCOL, protocol)?;
                w.put(SVC_ATTR_ADDR, &inet_addr(addr))?;
                w.put(SVC_ATTR_PORT, &port.to_be_bytes())?;
            }
            ServiceKey::Fwmark { mark, .. } => w.put_u32(SVC_ATTR_FWMARK, mark)?,
        }
        Ok(())
    }
}

/// Formats as ipvsadm does: `TCP 10.0.0.1:80`, `UDP [2001:db8::1]:53`,
/// `FWM 7`.
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                match *protocol {
                    IPPROTO_TCP => f.write_str("TCP ")?,
                    IPPROTO_UDP => f.write_str("UDP ")?,
                    IPPROTO_SCTP => f.write_str("SCTP ")?,
                    p => write!(f, "proto-{p} ")?,
                }
                write!(f, "{}", AddrPort(*addr, *port))
            }
            ServiceKey::Fwmark { family, mark } => {
                write!(f, "FWM {mark}")?;
                if *family == AF_INET6 {
                    f.write_str(" IPv6")?;
                }
                Ok(())
            }
        }
    }
}

/// `addr:port`, IPv6 in brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrPort(pub IpAddr, pub u16);

impl fmt::Display for AddrPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// A service: its key and its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceRepr {
    /// What identifies it.
    pub key: ServiceKey,
    /// The scheduler (`rr`, `wlc`, ...).
    pub scheduler: Name,
    /// The persistence engine (`sip`), or empty.
    pub pe_name: Name,
    /// `SVC_F_*` flags (the kernel adds [`SVC_F_HASHED`] in dumps).
    pub flags: u32,
    /// Persistence timeout, seconds (0: not persistent).
    pub timeout: u32,
    /// Persistence netmask: an IPv4 mask (e.g. `0xffff_ff00`) or an IPv6
    /// prefix length.
    pub netmask: u32,
}

impl ServiceRepr {
    /// The netmask of a service that does not set one: /32 or /128.
    pub const fn default_netmask(family: u16) -> u32 {
        if family == AF_INET6 { 128 } else { u32::MAX }
    }

    /// Whether two services have the same settings, ignoring the flags the
    /// kernel sets itself.
    pub fn same_settings(&self, other: &ServiceRepr) -> bool {
        self.key == other.key
            && self.scheduler == other.scheduler
            && self.pe_name == other.pe_name
            && (self.flags & !SVC_F_HASHED) == (other.flags & !SVC_F_HASHED)
            && self.timeout == other.timeout
            && self.netmask == other.netmask
    }

    fn emit(&self, w: &mut MessageWriter<'_>) -> Result<(), Error> {
        self.key.emit(w)?;
        w.put(SVC_ATTR_SCHED_NAME, self.scheduler.with_nul())?;
        if !self.pe_name.is_empty() {
            w.put(SVC_ATTR_PE_NAME, self.pe_name.with_nul())?;
        }
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&self.flags.to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.put(SVC_ATTR_FLAGS, &flags)?;
        w.put_u32(SVC_ATTR_TIMEOUT, self.timeout)?;
        w.put(
            SVC_ATTR_NETMASK,
            &netmask_bytes(self.key.family(), self.netmask),
        )?;
        Ok(())
    }

    /// Parses a service nest (the value of `IPVS_CMD_ATTR_SERVICE`).
    pub fn parse(nest: &[u8]) -> Result<ServiceRepr, Error> {
        const N: u16 = CMD_ATTR_SERVICE;
        let (mut af, mut protocol, mut addr, mut port, mut fwmark) = (None, None, None, None, None);
        let (mut scheduler, mut pe_name, mut flags, mut timeout, mut netmask) =
            (None, Name::EMPTY, 0, 0, None);
        for a in Attributes::new(nest) {
            let a = a?;
            let kind = a.kind();
            let bad = Error::AttributeValue(N, kind);
            match kind {
                SVC_ATTR_AF => af = Some(u16_of(a.value).ok_or(bad)?),
                SVC_ATTR_PROTOCOL => protocol = Some(u16_of(a.value).ok_or(bad)?),
                SVC_ATTR_ADDR => addr = Some(a.value),
                SVC_ATTR_PORT => port = Some(be16_of(a.value).ok_or(bad)?),
                SVC_ATTR_FWMARK => fwmark = Some(a.as_u32().ok_or(bad)?),
                SVC_ATTR_SCHED_NAME => scheduler = Some(Name::new(c_string(a.value)).ok_or(bad)?),
                SVC_ATTR_PE_NAME => pe_name = Name::new(c_string(a.value)).ok_or(bad)?,
                SVC_ATTR_FLAGS => {
                    flags = a.value.get(..4).and_then(u32_of).ok_or(bad)?;
                }
                SVC_ATTR_TIMEOUT => timeout = a.as_u32().ok_or(bad)?,
                SVC_ATTR_NETMASK => netmask = Some(a.value),
                _ => {}
            }
        }
        let af = af.ok_or(Error::MissingAttribute(N, SVC_ATTR_AF))?;
        if af != AF_INET && af != AF_INET6 {
            return Err(Error::AttributeValue(N, SVC_ATTR_AF));
        }
        let key = match fwmark {
            Some(mark) if mark != 0 => ServiceKey::Fwmark { family: af, mark },
            _ => ServiceKey::Addr {
                protocol: protocol.ok_or(Error::MissingAttribute(N, SVC_ATTR_PROTOCOL))?,
                addr: ip_of(af, addr.ok_or(Error::MissingAttribute(N, SVC_ATTR_ADDR))?)
                    .ok_or(Error::AttributeValue(N, SVC_ATTR_ADDR))?,
                port: port.ok_or(Error::MissingAttribute(N, SVC_ATTR_PORT))?,
            },
        };
        let netmask = match netmask {
            Some(v) => netmask_of(af, v).ok_or(Error::AttributeValue(N, SVC_ATTR_NETMASK))?,
            None => ServiceRepr::default_netmask(af),
        };
        Ok(ServiceRepr {
            key,
            scheduler: scheduler.ok_or(Error::MissingAttribute(N, SVC_ATTR_SCHED_NAME))?,
            pe_name,
            flags,
            timeout,
            netmask,
        })
    }
}

/// A destination (real server) of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestRepr {
    /// Its address (may be of another family than the service's with TUN).
    pub addr: IpAddr,
    /// Its port.
    pub port: u16,
    /// Forwarding method ([`CONN_F_MASQ`], [`CONN_F_DROUTE`], [`CONN_F_TUNNEL`]).
    pub forward: u32,
    /// Weight (0: inhibited, gets no new connections).
    pub weight: i32,
    /// Upper connection threshold (0: none).
    pub upper_threshold: u32,
    /// Lower connection threshold (0: none).
    pub lower_threshold: u32,
    /// Tunnel type ([`TUNNEL_TYPE_IPIP`] ...), with [`CONN_F_TUNNEL`].
    pub tunnel_type: u8,
    /// Tunnel port (GUE).
    pub tunnel_port: u16,
    /// Tunnel flags (`TUNNEL_ENCAP_FLAG_*`).
    pub tunnel_flags: u16,
    /// Active connections (dumps only; not sent).
    pub active_conns: u32,
    /// Inactive connections (dumps only; not sent).
    pub inactive_conns: u32,
}

impl DestRepr {
    /// A destination with these settings and no tunnel or counters.
    pub const fn new(addr: IpAddr, port: u16, forward: u32, weight: i32) -> DestRepr {
        DestRepr {
            addr,
            port,
            forward,
            weight,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel_type: 0,
            tunnel_port: 0,
            tunnel_flags: 0,
            active_conns: 0,
            inactive_conns: 0,
        }
    }

    /// Whether two destinations have the same settings (counters ignored;
    /// tunnel fields only with TUN forwarding).
    pub fn same_settings(&self, other: &DestRepr) -> bool {
        let tunnel = self.forward & CONN_F_FWD_MASK == CONN_F_TUNNEL;
        self.addr == other.addr
            && self.port == other.port
            && (self.forward & CONN_F_FWD_MASK) == (other.forward & CONN_F_FWD_MASK)
            && self.weight == other.weight
            && self.upper_threshold == other.upper_threshold
            && self.lower_threshold == other.lower_threshold
            && (!tunnel
                || (self.tunnel_type == other.tunnel_type
                    && self.tunnel_port == other.tunnel_port
                    && self.tunnel_flags == other.tunnel_flags))
    }

    fn emit_key(&self, w: &mut MessageWriter<'_>) -> Result<(), Error> {
        w.put(DEST_ATTR_ADDR, &inet_addr(self.addr))?;
        w.put(DEST_ATTR_PORT, &self.port.to_be_bytes())?;
        w.put_u16(DEST_ATTR_ADDR_FAMILY, family_of(self.addr))?;
        Ok(())
    }

    fn emit(&self, w: &mut MessageWriter<'_>) -> Result<(), Error> {
        self.emit_key(w)?;
        w.put_u32(DEST_ATTR_FWD_METHOD, self.forward & CONN_F_FWD_MASK)?;
        w.put(DEST_ATTR_WEIGHT, &self.weight.to_ne_bytes())?;
        w.put_u32(DEST_ATTR_U_THRESH, self.upper_threshold)?;
        w.put_u32(DEST_ATTR_L_THRESH, self.lower_threshold)?;
        if self.forward & CONN_F_FWD_MASK == CONN_F_TUNNEL {
            w.put_u8(DEST_ATTR_TUN_TYPE, self.tunnel_type)?;
            w.put(DEST_ATTR_TUN_PORT, &self.tunnel_port.to_be_bytes())?;
            w.put_u16(DEST_ATTR_TUN_FLAGS, self.tunnel_flags)?;
        }
        Ok(())
    }

    /// Parses a destination nest (the value of `IPVS_CMD_ATTR_DEST`);
    /// `service_family` is used when the nest has no address family.
    pub fn parse(nest: &[u8], service_family: u16) -> Result<DestRepr, Error> {
        const N: u16 = CMD_ATTR_DEST;
        let mut d = DestRepr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, 0, 0);
        let (mut addr, mut port, mut fwd, mut weight) = (None, None, None, None);
        let mut af = service_family;
        for a in Attributes::new(nest) {
            let a = a?;
            let kind = a.kind();
            let bad = Error::AttributeValue(N, kind);
            match kind {
                DEST_ATTR_ADDR => addr = Some(a.value),
                DEST_ATTR_PORT => port = Some(be16_of(a.value).ok_or(bad)?),
                DEST_ATTR_FWD_METHOD => fwd = Some(a.as_u32().ok_or(bad)?),
                DEST_ATTR_WEIGHT => weight = Some(a.as_u32().ok_or(bad)? as i32),
                DEST_ATTR_U_THRESH => d.upper_threshold = a.as_u32().ok_or(bad)?,
                DEST_ATTR_L_THRESH => d.lower_threshold = a.as_u32().ok_or(bad)?,
                DEST_ATTR_ACTIVE_CONNS => d.active_conns = a.as_u32().ok_or(bad)?,
                DEST_ATTR_INACT_CONNS => d.inactive_conns = a.as_u32().ok_or(bad)?,
                DEST_ATTR_ADDR_FAMILY => af = u16_of(a.value).ok_or(bad)?,
                DEST_ATTR_TUN_TYPE => match a.value {
                    [t] => d.tunnel_type = *t,
                    _ => return Err(bad),
                },
                DEST_ATTR_TUN_PORT => d.tunnel_port = be16_of(a.value).ok_or(bad)?,
                DEST_ATTR_TUN_FLAGS => d.tunnel_flags = u16_of(a.value).ok_or(bad)?,
                _ => {}
            }
        }
        d.addr = ip_of(af, addr.ok_or(Error::MissingAttribute(N, DEST_ATTR_ADDR))?)
            .ok_or(Error::AttributeValue(N, DEST_ATTR_ADDR))?;
        d.port = port.ok_or(Error::MissingAttribute(N, DEST_ATTR_PORT))?;
        d.forward = fwd.ok_or(Error::MissingAttribute(N, DEST_ATTR_FWD_METHOD))? & CONN_F_FWD_MASK;
        d.weight = weight.ok_or(Error::MissingAttribute(N, DEST_ATTR_WEIGHT))?;
        Ok(d)
    }
}

/// One request to the IPVS family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// Add a service.
    NewService(&'a ServiceRepr),
    /// Change a service's settings.
    SetService(&'a ServiceRepr),
    /// Remove a service and its destinations.
    DelService(ServiceKey),
    /// Add a destination to a service.
    NewDest(ServiceKey, &'a DestRepr),
    /// Change a destination.
    SetDest(ServiceKey, &'a DestRepr),
    /// Remove a destination (its address and port name it).
    DelDest(ServiceKey, &'a DestRepr),
    /// Dump every service.
    GetServices,
    /// Dump the destinations of a service.
    GetDests(ServiceKey),
    /// Version and connection table size.
    GetInfo,
    /// Remove every service.
    Flush,
    /// Set the connection timeouts, seconds (0: leave as is).
    SetTimeouts {
        /// TCP.
        tcp: u32,
        /// TCP after FIN.
        tcp_fin: u32,
        /// UDP.
        udp: u32,
    },
    /// Read the connection timeouts (answered by [`Reply::Timeouts`]).
    GetTimeouts,
}

impl Request<'_> {
    /// The IPVS command.
    pub const fn command(&self) -> u8 {
        match self {
            Request::NewService(_) => CMD_NEW_SERVICE,
            Request::SetService(_) => CMD_SET_SERVICE,
            Request::DelService(_) => CMD_DEL_SERVICE,
            Request::NewDest(..) => CMD_NEW_DEST,
            Request::SetDest(..) => CMD_SET_DEST,
            Request::DelDest(..) => CMD_DEL_DEST,
            Request::GetServices => CMD_GET_SERVICE,
            Request::GetDests(_) => CMD_GET_DEST,
            Request::GetInfo => CMD_GET_INFO,
            Request::Flush => CMD_FLUSH,
            Request::SetTimeouts { .. } => CMD_SET_CONFIG,
            Request::GetTimeouts => CMD_GET_CONFIG,
        }
    }

    /// The netlink flags: dumps are `NLM_F_DUMP`, `GET_INFO` and
    /// `GET_CONFIG` are answered by their reply, every other request asks
    /// for an ack.
    pub const fn flags(&self) -> u16 {
        match self {
            Request::GetServices | Request::GetDests(_) => NLM_F_REQUEST | NLM_F_DUMP,
            Request::GetInfo | Request::GetTimeouts => NLM_F_REQUEST,
            _ => NLM_F_REQUEST | NLM_F_ACK,
        }
    }

    /// Writes the request to family `family_id` at the start of `buffer`
    /// (at most [`MAX_REQUEST_LEN`] bytes), returning its length.
    pub fn emit(&self, family_id: u16, sequence: u32, buffer: &mut [u8]) -> Result<usize, Error> {
        let header = Header {
            command: self.command(),
            version: GENL_VERSION,
        };
        let mut w = header.begin(buffer, family_id, self.flags(), sequence)?;
        let service_key = match self {
            Request::DelService(k) | Request::GetDests(k) => Some(*k),
            Request::NewDest(k, _) | Request::SetDest(k, _) | Request::DelDest(k, _) => Some(*k),
            _ => None,
        };
        match self {
            Request::NewService(s) | Request::SetService(s) => {
                let at = w.begin_nest(CMD_ATTR_SERVICE)?;
                s.emit(&mut w)?;
                w.end_nest(at)?;
            }
            Request::SetTimeouts { tcp, tcp_fin, udp } => {
                w.put_u32(CMD_ATTR_TIMEOUT_TCP, *tcp)?;
                w.put_u32(CMD_ATTR_TIMEOUT_TCP_FIN, *tcp_fin)?;
                w.put_u32(CMD_ATTR_TIMEOUT_UDP, *udp)?;
            }
            _ => {}
        }
        if let Some(k) = service_key {
            let at = w.begin_nest(CMD_ATTR_SERVICE)?;
            k.emit(&mut w)?;
            w.end_nest(at)?;
        }
        match self {
            Request::NewDest(_, d) | Request::SetDest(_, d) => {
                let at = w.begin_nest(CMD_ATTR_DEST)?;
                d.emit(&mut w)?;
                w.end_nest(at)?;
            }
            Request::DelDest(_, d) => {
                let at = w.begin_nest(CMD_ATTR_DEST)?;
                d.emit_key(&mut w)?;
                w.end_nest(at)?;
            }
            _ => {}
        }
        Ok(w.finish()?)
    }
}

/// A message the IPVS family sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A service (a `GET_SERVICE` dump entry).
    Service(ServiceRepr),
    /// A destination (a `GET_DEST` dump entry).
    Dest(DestRepr),
    /// The `GET_INFO` answer.
    Info {
        /// IPVS version (`0x010201` = 1.2.1).
        version: u32,
        /// Size of the connection hash table.
        conn_tab_size: u32,
    },
    /// The `GET_CONFIG` answer: the connection timeouts, seconds (an
    /// attribute the kernel left out reads 0).
    Timeouts {
        /// TCP.
        tcp: u32,
        /// TCP after FIN.
        tcp_fin: u32,
        /// UDP.
        udp: u32,
    },
    /// Another command (kept, for the caller to count and skip).
    Other(u8),
}

impl Reply {
    /// Parses the payload (after the netlink header) of a message from the
    /// IPVS family. `service_family` is the family of the service whose
    /// destinations a dest dump lists (for kernels that omit it).
    pub fn parse(payload: &[u8], service_family: u16) -> Result<Reply, Error> {
        let (header, attrs) = Header::split(payload)?;
        let nest = |kind: u16| -> Result<&[u8], Error> {
            for a in Attributes::new(attrs) {
                let a = a?;
                if a.kind() == kind {
                    return Ok(a.value);
                }
            }
            Err(Error::MissingAttribute(0, kind))
        };
        match header.command {
            CMD_NEW_SERVICE => Ok(Reply::Service(ServiceRepr::parse(nest(CMD_ATTR_SERVICE)?)?)),
            CMD_NEW_DEST => Ok(Reply::Dest(DestRepr::parse(
                nest(CMD_ATTR_DEST)?,
                service_family,
            )?)),
            CMD_SET_INFO => {
                let (mut version, mut size) = (None, 0);
                for a in Attributes::new(attrs) {
                    let a = a?;
                    let bad = Error::AttributeValue(0, a.kind());
                    match a.kind() {
                        INFO_ATTR_VERSION => version = Some(a.as_u32().ok_or(bad)?),
                        INFO_ATTR_CONN_TAB_SIZE => size = a.as_u32().ok_or(bad)?,
                        _ => {}
                    }
                }
                Ok(Reply::Info {
                    version: version.ok_or(Error::MissingAttribute(0, INFO_ATTR_VERSION))?,
                    conn_tab_size: size,
                })
            }
            CMD_SET_CONFIG => {
                let (mut tcp, mut tcp_fin, mut udp) = (0, 0, 0);
                for a in Attributes::new(attrs) {
                    let a = a?;
                    let bad = Error::AttributeValue(0, a.kind());
                    match a.kind() {
                        CMD_ATTR_TIMEOUT_TCP => tcp = a.as_u32().ok_or(bad)?,
                        CMD_ATTR_TIMEOUT_TCP_FIN => tcp_fin = a.as_u32().ok_or(bad)?,
                        CMD_ATTR_TIMEOUT_UDP => udp = a.as_u32().ok_or(bad)?,
                        _ => {}
                    }
                }
                Ok(Reply::Timeouts { tcp, tcp_fin, udp })
            }
            c => Ok(Reply::Other(c)),
        }
    }
}

/// The address family of an address.
pub const fn family_of(addr: IpAddr) -> u16 {
    match addr {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// An address as a 16-byte `union nf_inet_addr`.
fn inet_addr(addr: IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match addr {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out = a.octets(),
    }
    out
}

/// Reads an address of family `af` (IPv4: at least 4 bytes, IPv6: 16).
fn ip_of(af: u16, value: &[u8]) -> Option<IpAddr> {
    match af {
        AF_INET => {
            let b: [u8; 4] = value.get(..4)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        AF_INET6 => {
            let b: [u8; 16] = value.get(..16)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

fn netmask_bytes(af: u16, netmask: u32) -> [u8; 4] {
    if af == AF_INET6 {
        netmask.to_ne_bytes()
    } else {
        netmask.to_be_bytes()
    }
}

fn netmask_of(af: u16, value: &[u8]) -> Option<u32> {
    let b: [u8; 4] = value.try_into().ok()?;
    Some(if af == AF_INET6 {
        u32::from_ne_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

fn u16_of(v: &[u8]) -> Option<u16> {
    match v {
        [a, b] => Some(u16::from_ne_bytes([*a, *b])),
        _ => None,
    }
}

fn be16_of(v: &[u8]) -> Option<u16> {
    match v {
        [a, b] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

fn u32_of(v: &[u8]) -> Option<u32> {
    match v {
        [a, b, c, d] => Some(u32::from_ne_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
