//! rtnetlink link messages (`RTM_NEWLINK` / `RTM_DELLINK`), as a link
//! monitor receives them on the `RTMGRP_LINK` group: which interface, and
//! whether it is up.
//!
//! ```text
//! nlmsghdr | ifinfomsg (16 bytes)                                  | rtattr...
//!          | family u8 | pad u8 | type u16 | index i32 | flags u32 | change u32
//! ```
//!
//! Up means keepalived's `IF_ISUP`: `IFF_UP` and `IFF_RUNNING` both set. A
//! deleted link is down.

use super::netlink::{Attributes, Error, Packet};

/// Message type: a link was added or changed.
pub const RTM_NEWLINK: u16 = 16;
/// Message type: a link was removed.
pub const RTM_DELLINK: u16 = 17;
/// Bytes of `struct ifinfomsg`.
pub const IFINFOMSG_LEN: usize = 16;
/// Attribute: the interface name (NUL-terminated).
pub const IFLA_IFNAME: u16 = 3;
/// Interface flag: administratively up.
pub const IFF_UP: u32 = 0x1;
/// Interface flag: operationally up (carrier).
pub const IFF_RUNNING: u32 = 0x40;
/// The multicast group of link notifications (`RTMGRP_LINK`).
pub const RTMGRP_LINK: u32 = 1;

/// Whether interface flags say up (`IFF_UP` and `IFF_RUNNING`).
pub const fn flags_up(flags: u32) -> bool {
    flags & (IFF_UP | IFF_RUNNING) == (IFF_UP | IFF_RUNNING)
}

/// One link notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkEvent<'a> {
    /// Kernel interface index.
    pub index: u32,
    /// Interface name.
    pub name: &'a str,
    /// Up (see the module doc); `false` for a removed link.
    pub up: bool,
}

impl<'a> LinkEvent<'a> {
    /// The link event in `msg`: `None` for another message type, `Err` for
    /// a malformed link message (short header, bad attributes, no name).
    pub fn parse(msg: &Packet<&'a [u8]>) -> Option<Result<LinkEvent<'a>, Error>> {
        let kind = msg.message_type();
        if kind != RTM_NEWLINK && kind != RTM_DELLINK {
            return None;
        }
        Some(Self::parse_payload(kind, msg.payload()))
    }

    fn parse_payload(kind: u16, payload: &'a [u8]) -> Result<LinkEvent<'a>, Error> {
        let (Some(index), Some(flags), Some(attrs)) = (
            payload.get(4..8),
            payload.get(8..12),
            payload.get(IFINFOMSG_LEN..),
        ) else {
            return Err(Error::Truncated);
        };
        let word = |b: &[u8]| match b {
            [a, b, c, d] => u32::from_ne_bytes([*a, *b, *c, *d]),
            _ => 0,
        };
        let mut name = None;
        for a in Attributes::new(attrs) {
            let a = a?;
            if a.kind() == IFLA_IFNAME {
                let bytes = a.value.split(|b| *b == 0).next().unwrap_or(&[]);
                name = core::str::from_utf8(bytes).ok();
            }
        }
        Ok(LinkEvent {
            index: word(index),
            name: name.ok_or(Error::Truncated)?,
            up: kind == RTM_NEWLINK && flags_up(word(flags)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::Messages;
    use std::vec::Vec;

    /// A link message: header, ifinfomsg, IFLA_IFNAME.
    fn message(kind: u16, index: u32, flags: u32, name: &str) -> Vec<u8> {
        let mut attr = Vec::new();
        let alen = 4 + name.len() + 1;
        attr.extend_from_slice(&u16::try_from(alen).unwrap().to_ne_bytes());
        attr.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attr.extend_from_slice(name.as_bytes());
        attr.push(0);
        while attr.len() % 4 != 0 {
            attr.push(0);
        }
        let len = 16 + IFINFOMSG_LEN + attr.len();
        let mut m = Vec::new();
        m.extend_from_slice(&u32::try_from(len).unwrap().to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 2 + 4 + 4]);
        m.extend_from_slice(&[0, 0, 1, 0]);
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&[0; 4]);
        m.extend_from_slice(&attr);
        m
    }

    fn events(buf: &[u8]) -> Vec<LinkEvent<'_>> {
        Messages::new(buf)
            .filter_map(|m| LinkEvent::parse(&m.unwrap()))
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn up_needs_up_and_running_and_a_deleted_link_is_down() {
        let mut buf = message(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING | 0x1000, "eth1");
        buf.extend(message(RTM_NEWLINK, 3, IFF_UP, "eth1"));
        buf.extend(message(RTM_DELLINK, 4, IFF_UP | IFF_RUNNING, "dummy0"));
        let e = events(&buf);
        assert_eq!(
            e,
            [
                LinkEvent {
                    index: 3,
                    name: "eth1",
                    up: true
                },
                LinkEvent {
                    index: 3,
                    name: "eth1",
                    up: false
                },
                LinkEvent {
                    index: 4,
                    name: "dummy0",
                    up: false
                },
            ]
        );
    }

    #[test]
    fn other_messages_are_none_and_short_ones_errors() {
        let mut m = message(20, 1, 0, "x");
        assert!(LinkEvent::parse(&Packet::new_checked(&m[..]).unwrap()).is_none());
        m = message(RTM_NEWLINK, 1, 0, "x");
        // Cut inside the ifinfomsg.
        let short = [&24u32.to_ne_bytes()[..], &m[4..24]].concat();
        assert!(matches!(
            LinkEvent::parse(&Packet::new_checked(&short[..]).unwrap()),
            Some(Err(_))
        ));
    }
}
