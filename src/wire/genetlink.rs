//! Generic netlink (`linux/genetlink.h`): the 4-byte `genlmsghdr` after
//! the netlink header, and the controller family (`nlctrl`) that turns a
//! family name ("IPVS") into the message type its requests use.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      nlmsghdr (16 bytes, nlmsg_type = the family's id)        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      cmd      |    version    |           reserved            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  attributes (struct nlattr) ...               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! - [`Header`] reads and writes the `genlmsghdr`;
//!   [`Header::split`] separates it from the attributes.
//! - [`emit_get_family`] writes `CTRL_CMD_GETFAMILY` for a name;
//!   [`FamilyRepr::parse`] reads the `CTRL_CMD_NEWFAMILY` reply (id,
//!   name, version); other controller attributes (ops, multicast groups)
//!   are skipped.
//!
//! Nothing here indexes without a check: the header is read with `get`.

use core::fmt;

use super::netlink::{self, Attributes, MessageWriter, NLM_F_ACK, NLM_F_REQUEST};

/// Bytes of `struct genlmsghdr`.
pub const HEADER_LEN: usize = 4;
/// The controller family's fixed id (`GENL_ID_CTRL`).
pub const GENL_ID_CTRL: u16 = 0x10;
/// Controller command: a family's description (the reply to a query).
pub const CTRL_CMD_NEWFAMILY: u8 = 1;
/// Controller command: look a family up.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// Controller attribute: the family id (`u16`).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// Controller attribute: the family name (NUL-terminated).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// Controller attribute: the family's version (`u32`).
pub const CTRL_ATTR_VERSION: u16 = 3;
/// Longest family name with its NUL (`GENL_NAMSIZ`).
pub const NAME_BYTES: usize = 16;
/// Bytes of a `CTRL_CMD_GETFAMILY` request for a name of at most 15 bytes.
pub const GET_FAMILY_LEN: usize = netlink::HEADER_LEN + HEADER_LEN + 4 + NAME_BYTES;

/// Errors of generic netlink messages.
///
/// `Netlink`, `Truncated`, `MissingAttribute` and `AttributeValue` are
/// malformed input; `Name` is the caller's (a name longer than 15 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Framing error (an attribute length, a short buffer).
    Netlink(netlink::Error),
    /// The payload is shorter than the 4-byte `genlmsghdr`.
    Truncated,
    /// A required attribute is missing (its kind is kept).
    MissingAttribute(u16),
    /// An attribute has the wrong length or value (its kind is kept).
    AttributeValue(u16),
    /// A family name is empty or longer than 15 bytes.
    Name,
}

impl From<netlink::Error> for Error {
    fn from(e: netlink::Error) -> Self {
        Error::Netlink(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Netlink(e) => write!(f, "{e}"),
            Error::Truncated => f.write_str("generic netlink header truncated"),
            Error::MissingAttribute(k) => write!(f, "generic netlink attribute {k} missing"),
            Error::AttributeValue(k) => write!(f, "generic netlink attribute {k} malformed"),
            Error::Name => f.write_str("generic netlink family name empty or too long"),
        }
    }
}

/// A `genlmsghdr`: the command and the family's interface version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The family's command (e.g. `IPVS_CMD_NEW_SERVICE`).
    pub command: u8,
    /// The family's interface version.
    pub version: u8,
}

impl Header {
    /// Splits a netlink payload into its `genlmsghdr` and the attribute
    /// block after it.
    pub fn split(payload: &[u8]) -> Result<(Header, &[u8]), Error> {
        let (Some(&command), Some(&version), Some(attrs)) =
            (payload.first(), payload.get(1), payload.get(HEADER_LEN..))
        else {
            return Err(Error::Truncated);
        };
        Ok((Header { command, version }, attrs))
    }

    /// The 4 bytes of the header (reserved 0).
    pub const fn bytes(&self) -> [u8; HEADER_LEN] {
        [self.command, self.version, 0, 0]
    }

    /// Starts a request to `family` in `buffer`: the netlink header (type =
    /// the family id) and this header; attributes go after.
    pub fn begin<'b>(
        &self,
        buffer: &'b mut [u8],
        family: u16,
        flags: u16,
        sequence: u32,
    ) -> Result<MessageWriter<'b>, Error> {
        let mut w = MessageWriter::new(buffer, family, flags, sequence)?;
        w.bytes(&self.bytes())?;
        Ok(w)
    }
}

/// Writes a `CTRL_CMD_GETFAMILY` request for `name` (with an ack), returning
/// its length.
pub fn emit_get_family(name: &str, sequence: u32, buffer: &mut [u8]) -> Result<usize, Error> {
    if name.is_empty() || name.len() >= NAME_BYTES {
        return Err(Error::Name);
    }
    let mut z = [0u8; NAME_BYTES];
    let dst = z.get_mut(..name.len()).ok_or(Error::Name)?;
    dst.copy_from_slice(name.as_bytes());
    let value = z.get(..=name.len()).ok_or(Error::Name)?;
    let header = Header {
        command: CTRL_CMD_GETFAMILY,
        version: 1,
    };
    let mut w = header.begin(buffer, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, sequence)?;
    w.put(CTRL_ATTR_FAMILY_NAME, value)?;
    Ok(w.finish()?)
}

/// A string attribute without its NUL terminator(s).
pub fn c_string(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    value.get(..end).unwrap_or(&[])
}

/// The controller's description of a family (`CTRL_CMD_NEWFAMILY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FamilyRepr<'a> {
    /// The id requests to this family carry as `nlmsg_type`.
    pub id: u16,
    /// Its name (without NUL), borrowed from the message.
    pub name: &'a [u8],
    /// Its interface version (0 when absent).
    pub version: u32,
}

impl<'a> FamilyRepr<'a> {
    /// Parses the payload (after the netlink header) of a controller
    /// message; `Ok(None)` when it is not `CTRL_CMD_NEWFAMILY`.
    pub fn parse(payload: &'a [u8]) -> Result<Option<FamilyRepr<'a>>, Error> {
        let (header, attrs) = Header::split(payload)?;
        if header.command != CTRL_CMD_NEWFAMILY {
            return Ok(None);
        }
        let (mut id, mut name, mut version) = (None, None, 0);
        for a in Attributes::new(attrs) {
            let a = a?;
            match a.kind() {
                CTRL_ATTR_FAMILY_ID => match a.value {
                    [x, y] => id = Some(u16::from_ne_bytes([*x, *y])),
                    _ => return Err(Error::AttributeValue(CTRL_ATTR_FAMILY_ID)),
                },
                CTRL_ATTR_FAMILY_NAME => name = Some(c_string(a.value)),
                CTRL_ATTR_VERSION => {
                    version = a.as_u32().ok_or(Error::AttributeValue(CTRL_ATTR_VERSION))?;
                }
                _ => {}
            }
        }
        Ok(Some(FamilyRepr {
            id: id.ok_or(Error::MissingAttribute(CTRL_ATTR_FAMILY_ID))?,
            name: name.ok_or(Error::MissingAttribute(CTRL_ATTR_FAMILY_NAME))?,
            version,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::{Control, Messages, Packet, emit_attribute};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn get_family_request_bytes() {
        let mut buf = [0u8; 64];
        let n = emit_get_family("IPVS", 42, &mut buf).unwrap();
        assert_eq!(n, 16 + 4 + 12);
        let p = Packet::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.message_type(), GENL_ID_CTRL);
        assert_eq!(p.flags(), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(p.sequence(), 42);
        assert_eq!(
            p.payload(),
            &[3, 1, 0, 0, 9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0]
        );
        assert_eq!(emit_get_family("", 1, &mut buf), Err(Error::Name));
        assert_eq!(
            emit_get_family("a-name-of-16-byt", 1, &mut buf),
            Err(Error::Name)
        );
        assert!(emit_get_family("IPVS", 1, &mut [0u8; 20]).is_err());
    }

    /// A reply as the kernel sends it: id, name, version, hdrsize, maxattr,
    /// then ops and groups (nested; skipped).
    fn reply(id: &[u8], name: &[u8]) -> Vec<u8> {
        let mut v = vec![CTRL_CMD_NEWFAMILY, 2, 0, 0];
        let mut a = [0u8; 64];
        for (kind, value) in [
            (CTRL_ATTR_FAMILY_NAME, name),
            (CTRL_ATTR_FAMILY_ID, id),
            (CTRL_ATTR_VERSION, &1u32.to_ne_bytes()[..]),
            (4, &0u32.to_ne_bytes()[..]),
            (6 | netlink::NLA_F_NESTED, &[8, 0, 1, 0, 1, 0, 0, 0][..]),
        ] {
            let n = emit_attribute(&mut a, kind, value).unwrap();
            v.extend_from_slice(&a[..n]);
        }
        v
    }

    #[test]
    fn family_reply_parses() {
        let r = reply(&37u16.to_ne_bytes(), b"IPVS\0");
        let f = FamilyRepr::parse(&r).unwrap().unwrap();
        assert_eq!(f.id, 37);
        assert_eq!(f.name, b"IPVS");
        assert_eq!(f.version, 1);
        // Another command: not a family.
        let mut other = r.clone();
        other[0] = 2;
        assert_eq!(FamilyRepr::parse(&other), Ok(None));
    }

    #[test]
    fn hostile_family_replies_are_errors() {
        // Wrong-length id.
        let r = reply(&[1, 2, 3, 4], b"IPVS\0");
        assert_eq!(
            FamilyRepr::parse(&r),
            Err(Error::AttributeValue(CTRL_ATTR_FAMILY_ID))
        );
        // No id.
        let mut r = vec![CTRL_CMD_NEWFAMILY, 1, 0, 0];
        let mut a = [0u8; 16];
        let n = emit_attribute(&mut a, CTRL_ATTR_FAMILY_NAME, b"IPVS\0").unwrap();
        r.extend_from_slice(&a[..n]);
        assert_eq!(
            FamilyRepr::parse(&r),
            Err(Error::MissingAttribute(CTRL_ATTR_FAMILY_ID))
        );
        // Truncated at every length.
        let full = reply(&5u16.to_ne_bytes(), b"IPVS\0");
        for n in 0..full.len() {
            let _ = FamilyRepr::parse(&full[..n]);
        }
        assert_eq!(FamilyRepr::parse(&[1, 1]), Err(Error::Truncated));
        // Attribute length below its header.
        let bad = [CTRL_CMD_NEWFAMILY, 1, 0, 0, 2, 0, 1, 0];
        assert_eq!(
            FamilyRepr::parse(&bad),
            Err(Error::Netlink(netlink::Error::AttributeLength(2)))
        );
    }

    #[test]
    fn family_reply_in_a_netlink_message() {
        let body = reply(&40u16.to_ne_bytes(), b"IPVS\0");
        let mut buf = [0u8; 128];
        let mut w = MessageWriter::new(&mut buf, GENL_ID_CTRL, 0, 9).unwrap();
        w.bytes(&body).unwrap();
        let n = w.finish().unwrap();
        let msg = Messages::new(&buf[..n]).next().unwrap().unwrap();
        let Control::Data(repr, payload) = Control::parse(&msg).unwrap() else {
            panic!("data expected");
        };
        assert_eq!(repr.message_type, GENL_ID_CTRL);
        assert_eq!(FamilyRepr::parse(payload).unwrap().unwrap().id, 40);
    }

    proptest! {
        #[test]
        fn family_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = FamilyRepr::parse(&bytes);
            let _ = Header::split(&bytes);
        }
    }
}
