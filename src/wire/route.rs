//! rtnetlink routes (`linux/rtnetlink.h`): the `RTM_NEWROUTE` /
//! `RTM_DELROUTE` requests that add and remove `virtual_routes`, IPv4 and
//! IPv6, and the same messages as the kernel sends them (dumps,
//! notifications).
//!
//! ```text
//! struct rtmsg (12 bytes)
//! +--------+---------+---------+-----+-------+----------+-------+------+
//! | family | dst_len | src_len | tos | table | protocol | scope | type |
//! +--------+---------+---------+-----+-------+----------+-------+------+
//! | flags: u32                                                         |
//! +--------------------------------------------------------------------+
//! then attributes: RTA_DST, RTA_PREFSRC, RTA_GATEWAY, RTA_OIF,
//! RTA_PRIORITY, RTA_TABLE (a table above 255)
//! ```
//!
//! [`RouteRepr::emit`] follows keepalived's `netlink_route()`: adds carry
//! `NLM_F_CREATE` (no `EXCL`, no `REPLACE`) and protocol `RTPROT_KEEPALIVED`
//! unless configured; deletes carry scope `RT_SCOPE_NOWHERE` (the kernel
//! then matches any scope). Every request asks for an ack. [`RouteRepr`]
//! parses a route message back (tests and dumps). Errors are
//! [`rtnetlink::Error`](super::rtnetlink::Error)'s (an unknown family parses
//! as `AttributeValue(0)`).
//!
//! **Indexing.** The 12-byte `rtmsg` is indexed directly once
//! [`Packet::new_checked`] has succeeded; attributes are walked with
//! [`netlink::Attributes`].

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::netlink::{self, Attributes, NLM_F_ACK, NLM_F_REQUEST, attribute_len};
use super::rtnetlink::{AF_INET, AF_INET6, Error, Operation};

/// Message type: a route was added / add one.
pub const RTM_NEWROUTE: u16 = 24;
/// Message type: a route was removed / remove one.
pub const RTM_DELROUTE: u16 = 25;
/// Flag: create the route if it does not exist.
pub const NLM_F_CREATE: u16 = 0x400;
/// Attribute: destination prefix.
pub const RTA_DST: u16 = 1;
/// Attribute: output interface index.
pub const RTA_OIF: u16 = 4;
/// Attribute: gateway.
pub const RTA_GATEWAY: u16 = 5;
/// Attribute: metric.
pub const RTA_PRIORITY: u16 = 6;
/// Attribute: preferred source address.
pub const RTA_PREFSRC: u16 = 7;
/// Attribute: table id (32 bits).
pub const RTA_TABLE: u16 = 15;
/// `rtm_flags`: the gateway is on the link (`RTNH_F_ONLINK`).
pub const RTNH_F_ONLINK: u32 = 4;
/// `rtm_scope` of a delete: matches any scope.
pub const RT_SCOPE_NOWHERE: u8 = 255;
/// Bytes of `struct rtmsg`.
pub const RTMSG_LEN: usize = 12;
/// Largest request [`RouteRepr::emit`] writes: header, `rtmsg`, three
/// IPv6 addresses, OIF, priority and table.
pub const MAX_REQUEST_LEN: usize =
    netlink::HEADER_LEN + RTMSG_LEN + 3 * attribute_len(16) + 3 * attribute_len(4);

/// Byte offsets of `struct rtmsg`.
mod field {
    pub const FAMILY: usize = 0;
    pub const DST_LEN: usize = 1;
    pub const TABLE: usize = 4;
    pub const PROTOCOL: usize = 5;
    pub const SCOPE: usize = 6;
    pub const TYPE: usize = 7;
    pub const FLAGS: core::ops::Range<usize> = 8..12;
}

/// The message type of a route operation.
pub const fn message_type(op: Operation) -> u16 {
    match op {
        Operation::Add => RTM_NEWROUTE,
        Operation::Delete => RTM_DELROUTE,
    }
}

/// A view of an `rtmsg` payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without a length check (the caller checked).
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view of a payload at least [`RTMSG_LEN`] long.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        if buffer.as_ref().len() < RTMSG_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    /// `rtm_family`.
    pub fn family(&self) -> u8 {
        self.buffer.as_ref()[field::FAMILY]
    }

    /// `rtm_dst_len`.
    pub fn dst_len(&self) -> u8 {
        self.buffer.as_ref()[field::DST_LEN]
    }

    /// `rtm_table` (0 when `RTA_TABLE` carries it).
    pub fn table(&self) -> u8 {
        self.buffer.as_ref()[field::TABLE]
    }

    /// `rtm_protocol`.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// `rtm_scope`.
    pub fn scope(&self) -> u8 {
        self.buffer.as_ref()[field::SCOPE]
    }

    /// `rtm_type`.
    pub fn route_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// `rtm_flags`.
    pub fn flags(&self) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.buffer.as_ref()[field::FLAGS]);
        u32::from_ne_bytes(b)
    }

    /// The attributes after the `rtmsg`.
    pub fn attributes(&self) -> Attributes<'_> {
        Attributes::new(self.buffer.as_ref().get(RTMSG_LEN..).unwrap_or(&[]))
    }
}

/// A route to add or delete, or one parsed from the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteRepr {
    /// Destination (its family is the route's).
    pub dst: IpAddr,
    /// Destination prefix length.
    pub dst_len: u8,
    /// Table id.
    pub table: u32,
    /// `rtm_protocol`.
    pub protocol: u8,
    /// `rtm_scope`.
    pub scope: u8,
    /// `rtm_type` (`RTN_*`).
    pub route_type: u8,
    /// `rtm_flags` (`RTNH_F_ONLINK`).
    pub flags: u32,
    /// `RTA_OIF`.
    pub oif: Option<u32>,
    /// `RTA_GATEWAY`.
    pub gateway: Option<IpAddr>,
    /// `RTA_PREFSRC`.
    pub prefsrc: Option<IpAddr>,
    /// `RTA_PRIORITY` (metric).
    pub priority: Option<u32>,
}

fn octets(a: &IpAddr) -> ([u8; 16], usize) {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v) => {
            b[..4].copy_from_slice(&v.octets());
            (b, 4)
        }
        IpAddr::V6(v) => (v.octets(), 16),
    }
}

fn address(family: u8, kind: u16, value: &[u8]) -> Result<IpAddr, Error> {
    match (family, value.len()) {
        (AF_INET, 4) => {
            let mut b = [0u8; 4];
            b.copy_from_slice(value);
            Ok(IpAddr::V4(Ipv4Addr::from(b)))
        }
        (AF_INET6, 16) => {
            let mut b = [0u8; 16];
            b.copy_from_slice(value);
            Ok(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => Err(Error::AttributeValue(kind)),
    }
}

impl RouteRepr {
    /// Parses an `RTM_NEWROUTE` / `RTM_DELROUTE` message; its operation and
    /// the route. A missing `RTA_DST` is the default route.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        msg: &netlink::Packet<&T>,
    ) -> Result<(Operation, RouteRepr), Error> {
        let op = match msg.message_type() {
            RTM_NEWROUTE => Operation::Add,
            RTM_DELROUTE => Operation::Delete,
            t => return Err(Error::MessageType(t)),
        };
        let p = Packet::new_checked(msg.payload())?;
        let family = p.family();
        let mut r = RouteRepr {
            dst: match family {
                AF_INET => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                AF_INET6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                _ => return Err(Error::AttributeValue(0)),
            },
            dst_len: p.dst_len(),
            table: u32::from(p.table()),
            protocol: p.protocol(),
            scope: p.scope(),
            route_type: p.route_type(),
            flags: p.flags(),
            oif: None,
            gateway: None,
            prefsrc: None,
            priority: None,
        };
        for a in p.attributes() {
            let a = a?;
            match a.kind() {
                RTA_DST => r.dst = address(family, RTA_DST, a.value)?,
                RTA_GATEWAY => r.gateway = Some(address(family, RTA_GATEWAY, a.value)?),
                RTA_PREFSRC => r.prefsrc = Some(address(family, RTA_PREFSRC, a.value)?),
                RTA_OIF => r.oif = Some(a.as_u32().ok_or(Error::AttributeValue(RTA_OIF))?),
                RTA_PRIORITY => {
                    r.priority = Some(a.as_u32().ok_or(Error::AttributeValue(RTA_PRIORITY))?);
                }
                RTA_TABLE => r.table = a.as_u32().ok_or(Error::AttributeValue(RTA_TABLE))?,
                // Others (cache info, metrics, ...) are not ours.
                _ => {}
            }
        }
        Ok((op, r))
    }

    fn check(&self) -> Result<(), Error> {
        let max = if self.dst.is_ipv4() { 32 } else { 128 };
        if self.dst_len > max {
            return Err(Error::PrefixLen(self.dst_len));
        }
        let same = |a: Option<IpAddr>| a.is_none_or(|a| a.is_ipv4() == self.dst.is_ipv4());
        if !same(self.gateway) || !same(self.prefsrc) {
            return Err(Error::AddressFamily);
        }
        Ok(())
    }

    fn addr_len(&self) -> usize {
        if self.dst.is_ipv4() { 4 } else { 16 }
    }

    /// Bytes of the request [`RouteRepr::emit`] writes (≤ [`MAX_REQUEST_LEN`]).
    pub fn buffer_len(&self) -> usize {
        let a = attribute_len(self.addr_len());
        let mut n = netlink::HEADER_LEN + RTMSG_LEN;
        if self.dst_len > 0 {
            n += a;
        }
        n += [self.gateway, self.prefsrc].iter().flatten().count() * a;
        n += [self.oif, self.priority].iter().flatten().count() * attribute_len(4);
        if self.table > 255 {
            n += attribute_len(4);
        }
        n
    }

    /// Writes the complete request to `op` this route at the start of
    /// `buffer` (module doc for the flags), returning its length.
    pub fn emit(&self, op: Operation, sequence: u32, buffer: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        let total = self.buffer_len();
        let out = buffer
            .get_mut(..total)
            .ok_or(Error::BufferTooSmall(total))?;
        out.fill(0);
        let flags = match op {
            Operation::Add => NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
            Operation::Delete => NLM_F_REQUEST | NLM_F_ACK,
        };
        netlink::Repr {
            message_type: message_type(op),
            flags,
            sequence,
            port_id: 0,
            payload_len: total - netlink::HEADER_LEN,
        }
        .emit(out)?;
        let rt = out
            .get_mut(netlink::HEADER_LEN..netlink::HEADER_LEN + RTMSG_LEN)
            .ok_or(Error::BufferTooSmall(total))?;
        rt[field::FAMILY] = if self.dst.is_ipv4() {
            AF_INET
        } else {
            AF_INET6
        };
        rt[field::DST_LEN] = self.dst_len;
        rt[field::TABLE] = u8::try_from(self.table).unwrap_or(0);
        rt[field::PROTOCOL] = self.protocol;
        rt[field::SCOPE] = match op {
            Operation::Add => self.scope,
            Operation::Delete => RT_SCOPE_NOWHERE,
        };
        rt[field::TYPE] = self.route_type;
        rt[field::FLAGS].copy_from_slice(&self.flags.to_ne_bytes());
        let mut at = netlink::HEADER_LEN + RTMSG_LEN;
        let mut put = |kind: u16, value: &[u8]| -> Result<(), Error> {
            let rest = out.get_mut(at..).ok_or(Error::BufferTooSmall(total))?;
            at += netlink::emit_attribute(rest, kind, value)?;
            Ok(())
        };
        let len = self.addr_len();
        if self.dst_len > 0 {
            put(RTA_DST, &octets(&self.dst).0[..len])?;
        }
        if let Some(s) = self.prefsrc {
            put(RTA_PREFSRC, &octets(&s).0[..len])?;
        }
        if let Some(g) = self.gateway {
            put(RTA_GATEWAY, &octets(&g).0[..len])?;
        }
        if let Some(i) = self.oif {
            put(RTA_OIF, &i.to_ne_bytes())?;
        }
        if let Some(m) = self.priority {
            put(RTA_PRIORITY, &m.to_ne_bytes())?;
        }
        if self.table > 255 {
            put(RTA_TABLE, &self.table.to_ne_bytes())?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::Messages;

    fn route() -> RouteRepr {
        RouteRepr {
            dst: IpAddr::V4(Ipv4Addr::new(192, 168, 7, 0)),
            dst_len: 24,
            table: 254,
            protocol: 18,
            scope: 0,
            route_type: 1,
            flags: 0,
            oif: Some(2),
            gateway: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 254))),
            prefsrc: None,
            priority: Some(5),
        }
    }

    #[test]
    fn add_request_bytes() {
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let n = route().emit(Operation::Add, 7, &mut buf).unwrap();
        #[rustfmt::skip]
        let want: &[u8] = &[
            // nlmsghdr: len 60, RTM_NEWROUTE, REQUEST|ACK|CREATE, seq 7, pid 0
            60, 0, 0, 0, 24, 0, 0x05, 0x04, 7, 0, 0, 0, 0, 0, 0, 0,
            // rtmsg: inet /24, table main, proto 18, scope universe, unicast
            2, 24, 0, 0, 254, 18, 0, 1, 0, 0, 0, 0,
            8, 0, 1, 0, 192, 168, 7, 0, // RTA_DST
            8, 0, 5, 0, 10, 0, 0, 254, // RTA_GATEWAY
            8, 0, 4, 0, 2, 0, 0, 0, // RTA_OIF
            8, 0, 6, 0, 5, 0, 0, 0, // RTA_PRIORITY
        ];
        assert_eq!(&buf[..n], want);
    }

    #[test]
    fn round_trips_both_families_and_deletes_at_any_scope() {
        let v6 = RouteRepr {
            dst: IpAddr::V6("2001:db8::".parse().unwrap()),
            dst_len: 32,
            table: 1000,
            scope: 253,
            route_type: 7,
            flags: RTNH_F_ONLINK,
            gateway: Some(IpAddr::V6("fe80::1".parse().unwrap())),
            prefsrc: Some(IpAddr::V6("2001:db8::1".parse().unwrap())),
            ..route()
        };
        let default = RouteRepr {
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst_len: 0,
            oif: None,
            priority: None,
            ..route()
        };
        for r in [route(), v6, default] {
            let mut buf = [0u8; MAX_REQUEST_LEN];
            let n = r.emit(Operation::Add, 1, &mut buf).unwrap();
            assert_eq!(n, r.buffer_len());
            let msg = Messages::new(&buf[..n]).next().unwrap().unwrap();
            assert_eq!(RouteRepr::parse(&msg).unwrap(), (Operation::Add, r));
            let n = r.emit(Operation::Delete, 2, &mut buf).unwrap();
            let msg = Messages::new(&buf[..n]).next().unwrap().unwrap();
            let (op, back) = RouteRepr::parse(&msg).unwrap();
            assert_eq!((op, back.scope), (Operation::Delete, RT_SCOPE_NOWHERE));
            assert_eq!(
                msg.flags(),
                NLM_F_REQUEST | NLM_F_ACK,
                "no CREATE on delete"
            );
        }
    }

    #[test]
    fn bad_routes_are_refused() {
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let r = RouteRepr {
            dst_len: 33,
            ..route()
        };
        assert_eq!(
            r.emit(Operation::Add, 1, &mut buf),
            Err(Error::PrefixLen(33))
        );
        let r = RouteRepr {
            gateway: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ..route()
        };
        assert_eq!(
            r.emit(Operation::Add, 1, &mut buf),
            Err(Error::AddressFamily)
        );
        assert!(matches!(
            route().emit(Operation::Add, 1, &mut buf[..20]),
            Err(Error::BufferTooSmall(60))
        ));
        // A truncated rtmsg and a wrong message type.
        let n = route().emit(Operation::Add, 1, &mut buf).unwrap();
        buf[4] = 20;
        let msg = Messages::new(&buf[..n]).next().unwrap().unwrap();
        assert_eq!(RouteRepr::parse(&msg), Err(Error::MessageType(20)));
        let short = [
            20u8, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 24, 0, 0,
        ];
        let msg = Messages::new(&short).next().unwrap().unwrap();
        assert_eq!(RouteRepr::parse(&msg), Err(Error::Truncated));
    }
}
