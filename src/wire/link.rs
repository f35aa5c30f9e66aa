//! rtnetlink link messages (`RTM_NEWLINK` / `RTM_DELLINK`), as a link
//! monitor receives them on the `RTMGRP_LINK` group: which interface (index
//! and name), whether it is up, whether it was deleted, and its hardware
//! address.
//!
//! ```text
//! nlmsghdr | ifinfomsg (16 bytes)                                  | rtattr...
//!          | family u8 | pad u8 | type u16 | index i32 | flags u32 | change u32
//! ```
//!
//! Up means keepalived's `IF_ISUP`: `IFF_UP` and `IFF_RUNNING` both set. A
//! deleted link is down. The hardware address (`IFLA_ADDRESS`) is kept only
//! when it is an Ethernet one (6 bytes); other link types (tunnels, PPP)
//! have none or another length, and carry no gratuitous ARP anyway.
//!
//! [`LinkEvent::parse`] borrows the name from the message and allocates
//! nothing; a malformed message is an error, never a panic (the attributes
//! are walked with [`netlink::Attributes`]).
//!
//! Requests (VMACs, keepalived's `vrrp_vmac.c`): [`MacvlanRequest`] creates
//! a macvlan over a parent (`RTM_NEWLINK`, `NLM_F_CREATE | NLM_F_EXCL`,
//! `IFLA_LINK`, `IFLA_IFNAME`, `IFLA_ADDRESS`, and `IFLA_LINKINFO` nesting
//! `IFLA_INFO_KIND "macvlan"` and `IFLA_INFO_DATA { IFLA_MACVLAN_MODE }`),
//! [`emit_set_flags`] brings a link up, [`emit_delete`] removes one.

use super::netlink::{
    self, Attributes, Error, NLA_F_NESTED, NLM_F_ACK, NLM_F_REQUEST, Packet, attribute_len,
};

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

/// Attribute: the hardware address.
pub const IFLA_ADDRESS: u16 = 1;
/// Attribute: the parent (lower) link's index.
pub const IFLA_LINK: u16 = 5;
/// Attribute: nested link kind and its data.
pub const IFLA_LINKINFO: u16 = 18;
/// `IFLA_LINKINFO` attribute: the kind (`"macvlan"`).
pub const IFLA_INFO_KIND: u16 = 1;
/// `IFLA_LINKINFO` attribute: nested kind-specific data.
pub const IFLA_INFO_DATA: u16 = 2;
/// macvlan data attribute: the mode (u32).
pub const IFLA_MACVLAN_MODE: u16 = 1;
/// macvlan mode: no traffic between macvlans of one parent (keepalived's).
pub const MACVLAN_MODE_PRIVATE: u32 = 1;
/// Flag: create the link.
pub const NLM_F_CREATE: u16 = 0x400;
/// Flag: fail if it exists.
pub const NLM_F_EXCL: u16 = 0x200;
/// Longest interface name, without its NUL.
pub const IFNAME_MAX: usize = 15;
/// Largest request [`MacvlanRequest::emit`] writes.
pub const MAX_REQUEST_LEN: usize = netlink::HEADER_LEN
    + IFINFOMSG_LEN
    + attribute_len(4)
    + attribute_len(IFNAME_MAX + 1)
    + attribute_len(6)
    + attribute_len(attribute_len(8) + attribute_len(attribute_len(4)));

/// A macvlan to create (a VMAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacvlanRequest<'a> {
    /// Its name (1..=15 bytes, no NUL).
    pub name: &'a str,
    /// The parent's index.
    pub parent: u32,
    /// Its hardware address.
    pub mac: [u8; 6],
    /// `MACVLAN_MODE_*`.
    pub mode: u32,
    /// Created up (`IFF_UP`); `false`: down, to be configured first (an
    /// IPv6 VMAC's address generation mode is set before it comes up).
    pub up: bool,
}

/// The `ifinfomsg` fields of a link request.
#[derive(Clone, Copy)]
struct Ifinfo {
    index: u32,
    flags: u32,
    change: u32,
}

/// Zeroes the first `total` bytes of `buffer` and writes the `nlmsghdr`
/// and `ifinfomsg` of a link request there; the message's bytes.
fn start(
    buffer: &mut [u8],
    total: usize,
    kind: u16,
    flags: u16,
    sequence: u32,
    ifi: Ifinfo,
) -> Result<&mut [u8], Error> {
    let out = buffer
        .get_mut(..total)
        .ok_or(Error::BufferTooSmall(total))?;
    out.fill(0);
    netlink::Repr {
        message_type: kind,
        flags,
        sequence,
        port_id: 0,
        payload_len: total - netlink::HEADER_LEN,
    }
    .emit(out)?;
    let m = out
        .get_mut(netlink::HEADER_LEN..netlink::HEADER_LEN + IFINFOMSG_LEN)
        .ok_or(Error::BufferTooSmall(total))?;
    m[4..8].copy_from_slice(&ifi.index.to_ne_bytes());
    m[8..12].copy_from_slice(&ifi.flags.to_ne_bytes());
    m[12..16].copy_from_slice(&ifi.change.to_ne_bytes());
    Ok(out)
}

impl MacvlanRequest<'_> {
    /// Bytes of the request.
    pub fn buffer_len(&self) -> usize {
        netlink::HEADER_LEN
            + IFINFOMSG_LEN
            + attribute_len(4)
            + attribute_len(self.name.len() + 1)
            + attribute_len(6)
            + attribute_len(attribute_len(8) + attribute_len(attribute_len(4)))
    }

    /// Writes the create request (up at once when [`MacvlanRequest::up`]:
    /// `ifi_flags` = `IFF_UP`) at the start of `buffer`; its length.
    pub fn emit(&self, sequence: u32, buffer: &mut [u8]) -> Result<usize, Error> {
        if self.name.is_empty() || self.name.len() > IFNAME_MAX || self.name.contains('\0') {
            return Err(Error::Truncated);
        }
        let total = self.buffer_len();
        let out = start(
            buffer,
            total,
            RTM_NEWLINK,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            sequence,
            Ifinfo {
                index: 0,
                flags: if self.up { IFF_UP } else { 0 },
                change: IFF_UP,
            },
        )?;
        let mut at = netlink::HEADER_LEN + IFINFOMSG_LEN;
        let mut put = |kind: u16, value: &[u8]| -> Result<(), Error> {
            let rest = out.get_mut(at..).ok_or(Error::BufferTooSmall(total))?;
            at += netlink::emit_attribute(rest, kind, value)?;
            Ok(())
        };
        put(IFLA_LINK, &self.parent.to_ne_bytes())?;
        let mut name = [0u8; IFNAME_MAX + 1];
        name[..self.name.len()].copy_from_slice(self.name.as_bytes());
        put(IFLA_IFNAME, &name[..=self.name.len()])?;
        put(IFLA_ADDRESS, &self.mac)?;
        // IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA { MODE } }
        let mut info = [0u8; attribute_len(8) + attribute_len(attribute_len(4))];
        let mut mode = [0u8; attribute_len(4)];
        netlink::emit_attribute(&mut mode, IFLA_MACVLAN_MODE, &self.mode.to_ne_bytes())?;
        let k = netlink::emit_attribute(&mut info, IFLA_INFO_KIND, b"macvlan\0")?;
        netlink::emit_attribute(&mut info[k..], IFLA_INFO_DATA | NLA_F_NESTED, &mode)?;
        put(IFLA_LINKINFO | NLA_F_NESTED, &info)?;
        Ok(total)
    }
}

/// Bytes of a request with no attributes.
pub const BARE_REQUEST_LEN: usize = netlink::HEADER_LEN + IFINFOMSG_LEN;

/// Writes a request setting `flags` (e.g. [`IFF_UP`]; 0 = down) on link
/// `index`; its length ([`BARE_REQUEST_LEN`]).
pub fn emit_set_flags(
    index: u32,
    flags: u32,
    sequence: u32,
    buffer: &mut [u8],
) -> Result<usize, Error> {
    let ifi = Ifinfo {
        index,
        flags,
        change: IFF_UP,
    };
    start(
        buffer,
        BARE_REQUEST_LEN,
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK,
        sequence,
        ifi,
    )?;
    Ok(BARE_REQUEST_LEN)
}

/// Writes a request deleting link `index`; its length
/// ([`BARE_REQUEST_LEN`]).
pub fn emit_delete(index: u32, sequence: u32, buffer: &mut [u8]) -> Result<usize, Error> {
    let ifi = Ifinfo {
        index,
        flags: 0,
        change: 0,
    };
    start(
        buffer,
        BARE_REQUEST_LEN,
        RTM_DELLINK,
        NLM_F_REQUEST | NLM_F_ACK,
        sequence,
        ifi,
    )?;
    Ok(BARE_REQUEST_LEN)
}

/// The VRRP virtual MAC of `vrid` (RFC 5798 §7.3): 00-00-5E-00-01-{VRID}
/// for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
pub const fn vrrp_mac(vrid: u8, ipv6: bool) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, if ipv6 { 0x02 } else { 0x01 }, vrid]
}

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
    /// `RTM_DELLINK`: the link is gone.
    pub deleted: bool,
    /// Its Ethernet address (`IFLA_ADDRESS` of 6 bytes), if the message
    /// carries one.
    pub mac: Option<[u8; 6]>,
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
        let mut mac = None;
        for a in Attributes::new(attrs) {
            let a = a?;
            match a.kind() {
                IFLA_IFNAME => {
                    let bytes = a.value.split(|b| *b == 0).next().unwrap_or(&[]);
                    name = core::str::from_utf8(bytes).ok().filter(|n| !n.is_empty());
                }
                IFLA_ADDRESS => mac = <[u8; 6]>::try_from(a.value).ok(),
                _ => {}
            }
        }
        Ok(LinkEvent {
            index: word(index),
            name: name.ok_or(Error::Truncated)?,
            up: kind == RTM_NEWLINK && flags_up(word(flags)),
            deleted: kind == RTM_DELLINK,
            mac,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::Messages;
    use std::vec::Vec;

    /// A link message: header, ifinfomsg, IFLA_IFNAME, and IFLA_ADDRESS
    /// when `mac` is given.
    fn message_mac(kind: u16, index: u32, flags: u32, name: &str, mac: Option<&[u8]>) -> Vec<u8> {
        let mut attr = Vec::new();
        let mut put = |kind: u16, value: &[u8]| {
            let mut b = [0u8; 64];
            let n = crate::wire::netlink::emit_attribute(&mut b, kind, value).unwrap();
            attr.extend_from_slice(&b[..n]);
        };
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        put(IFLA_IFNAME, &n);
        if let Some(mac) = mac {
            put(IFLA_ADDRESS, mac);
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

    fn message(kind: u16, index: u32, flags: u32, name: &str) -> Vec<u8> {
        message_mac(kind, index, flags, name, None)
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
        let ev = |index, name, up, deleted| LinkEvent {
            index,
            name,
            up,
            deleted,
            mac: None,
        };
        assert_eq!(
            e,
            [
                ev(3, "eth1", true, false),
                ev(3, "eth1", false, false),
                ev(4, "dummy0", false, true),
            ]
        );
    }

    #[test]
    fn the_hardware_address_is_kept_when_ethernet() {
        let mac = [0x02, 0, 0x5e, 0, 1, 7];
        let buf = message_mac(RTM_NEWLINK, 5, IFF_UP, "vrrp.7", Some(&mac));
        assert_eq!(events(&buf)[0].mac, Some(mac));
        // A tunnel's 4-byte address, and none at all (PPP): no MAC.
        let buf = message_mac(RTM_NEWLINK, 6, IFF_UP, "gre1", Some(&[10, 0, 0, 1]));
        assert_eq!(events(&buf)[0].mac, None);
        let buf = message_mac(RTM_NEWLINK, 7, IFF_UP, "ppp0", Some(&[]));
        assert_eq!(events(&buf)[0].mac, None);
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

    /// Hostile input: every truncation, every attribute length, an empty
    /// or non-UTF-8 name: an error or a shorter well-formed message, never
    /// a panic nor a name out of bounds.
    #[test]
    fn hostile_link_messages_are_errors() {
        let good = message_mac(RTM_NEWLINK, 9, IFF_UP, "eth0", Some(&[2, 1, 2, 3, 4, 5]));
        for n in 0..good.len() {
            let mut cut = good[..n].to_vec();
            if n >= 4 {
                cut[..4].copy_from_slice(&u32::try_from(n).unwrap().to_ne_bytes());
            }
            let Ok(p) = Packet::new_checked(&cut[..]) else {
                continue;
            };
            // Cut before the name's end (no name), 1-3 stray bytes, or
            // inside the address: an error; cut in padding: well formed.
            let r = LinkEvent::parse(&p).unwrap();
            let bad = n < 41 || (45..54).contains(&n);
            assert_eq!(r.is_err(), bad, "{n}: {r:?}");
        }
        for len in [0u16, 1, 3, 4, 200, 0xffff] {
            let mut bad = good.clone();
            bad[32..34].copy_from_slice(&len.to_ne_bytes());
            let p = Packet::new_checked(&bad[..]).unwrap();
            assert!(
                LinkEvent::parse(&p).unwrap().is_err(),
                "attribute length {len}"
            );
        }
        let empty = message(RTM_NEWLINK, 1, 0, "");
        let p = Packet::new_checked(&empty[..]).unwrap();
        assert!(LinkEvent::parse(&p).unwrap().is_err(), "empty name");
        let mut latin = message(RTM_NEWLINK, 1, 0, "ab");
        latin[36] = 0xe9;
        let p = Packet::new_checked(&latin[..]).unwrap();
        assert!(LinkEvent::parse(&p).unwrap().is_err(), "non-UTF-8 name");
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128)) {
            for m in Messages::new(&bytes).flatten() {
                let _ = LinkEvent::parse(&m);
            }
            let _ = LinkEvent::parse_payload(RTM_NEWLINK, &bytes);
        }

        #[test]
        fn mutated_messages_never_panic(at in 0usize..52, value in proptest::prelude::any::<u8>()) {
            let mut m = message_mac(RTM_NEWLINK, 9, IFF_UP, "eth0", Some(&[2, 1, 2, 3, 4, 5]));
            if let Some(b) = m.get_mut(at) {
                *b = value;
            }
            for msg in Messages::new(&m).flatten() {
                if let Some(Ok(e)) = LinkEvent::parse(&msg) {
                    proptest::prop_assert!(!e.name.is_empty());
                }
            }
        }
    }

    #[test]
    fn macvlan_request_bytes() {
        let r = MacvlanRequest {
            name: "vrrp.51",
            parent: 2,
            mac: vrrp_mac(51, false),
            mode: MACVLAN_MODE_PRIVATE,
            up: true,
        };
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let n = r.emit(9, &mut buf).unwrap();
        assert_eq!(n, r.buffer_len());
        #[rustfmt::skip]
        let want: &[u8] = &[
            // nlmsghdr: 92 bytes, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 9
            92, 0, 0, 0, 16, 0, 0x05, 0x06, 9, 0, 0, 0, 0, 0, 0, 0,
            // ifinfomsg: AF_UNSPEC, index 0, flags/change IFF_UP
            0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
            8, 0, 5, 0, 2, 0, 0, 0, // IFLA_LINK 2
            12, 0, 3, 0, b'v', b'r', b'r', b'p', b'.', b'5', b'1', 0, // IFLA_IFNAME
            10, 0, 1, 0, 0, 0, 0x5e, 0, 1, 51, 0, 0, // IFLA_ADDRESS
            28, 0, 18, 0x80, // IFLA_LINKINFO (nested)
            12, 0, 1, 0, b'm', b'a', b'c', b'v', b'l', b'a', b'n', 0, // KIND
            12, 0, 2, 0x80, // INFO_DATA (nested)
            8, 0, 1, 0, 1, 0, 0, 0, // MACVLAN_MODE private
        ];
        assert_eq!(&buf[..n], want);
        assert_eq!(vrrp_mac(7, true), [0, 0, 0x5e, 0, 2, 7]);
        let long = MacvlanRequest {
            name: "a-name-of-16-byt",
            ..r
        };
        assert!(long.emit(1, &mut buf).is_err());
        // Created down: flags 0, change IFF_UP.
        let down = MacvlanRequest { up: false, ..r };
        assert_eq!(down.emit(9, &mut buf), Ok(n));
        assert_eq!(&buf[24..32], &[0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn set_up_and_delete_requests() {
        let mut buf = [0u8; BARE_REQUEST_LEN];
        assert_eq!(emit_set_flags(4, IFF_UP, 3, &mut buf), Ok(32));
        let m = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!((m.message_type(), m.flags()), (RTM_NEWLINK, 0x05));
        assert_eq!(&buf[20..32], &[4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(emit_delete(4, 3, &mut buf), Ok(32));
        let m = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(m.message_type(), RTM_DELLINK);
        assert_eq!(&buf[20..24], &[4, 0, 0, 0]);
    }
}
