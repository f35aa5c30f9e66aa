//! VRRP advertisements: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5, now
//! RFC 9568 §5), their checksums, and the framing around them that picket
//! builds itself (the advert's IPv4 header, the gratuitous ARP frame).
//!
//! - [`Packet`] is a zero-copy view of one VRRP message (the IP payload).
//!   VRRPv3 does not say in its own bytes whether it carries IPv4 or IPv6
//!   addresses — the receiver infers it from the IP version (RFC 5798 §5.2.5)
//!   — so the view is built with a [`Family`].
//! - [`Repr`] is the parsed message. Its address list is [`Addresses`], which
//!   **borrows**: after [`Repr::parse`] it points at the address block inside
//!   the received packet, and for [`Repr::emit`] it points at the caller's
//!   `&[Ipv4Address]` / `&[Ipv6Address]`. A copied list would be 255 × 16 bytes
//!   (4 KiB) for IPv6; this way a `Repr` is a few dozen bytes.
//! - [`Envelope`] is the part of the IP header the checksum depends on (family,
//!   source, destination); [`ChecksumForm`] says whether the checksum covers
//!   the IPv4/IPv6 pseudo-header (VRRPv3 default) or the message alone (VRRPv2,
//!   and VRRPv3/IPv4 with keepalived's `v3_checksum_as_v2`).
//!
//! What is checked where:
//!
//! | check | [`Packet::new_checked`] | [`Repr::parse`] |
//! |---|---|---|
//! | buffer holds the fixed header, the addresses the count announces and (v2) the auth data | yes | yes |
//! | no bytes beyond that (keepalived: "vrrp packet too long") | – | yes |
//! | version 2 or 3, v2 only over IPv4, type 1 (advertisement) | – | yes |
//! | VRID ≠ 0, advertisement interval ≠ 0 | – | yes |
//! | checksum in a form allowed for the version and family | – | yes |
//!
//! Values a receiver must keep rather than refuse are kept: the v2
//! authentication type (unknown ones as [`AuthType::Unknown`]; type 2, IP
//! Authentication Header, is parsed and left to the daemon to refuse), the v2
//! authentication data, the v3 reserved bits, and an address count of 0
//! (keepalived accepts instances without addresses).
//!
//! **Indexing.** Accessors of the fixed 8-byte header index the buffer
//! directly: that is safe once [`Packet::new_checked`] (or
//! [`Packet::check_len`]) has succeeded, and is the caller's promise with
//! [`Packet::new_unchecked`]. The variable parts (addresses, auth data) are
//! reached with `get`, so they never panic, even after a setter changed the
//! count. Nothing else in this module indexes without a check.

use core::fmt;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpAddress, IpProtocol, Ipv4Address, Ipv4Packet, Ipv4Repr, Ipv6Address, checksum,
};

/// IP protocol number of VRRP (RFC 5798 §5.1.1.4, §5.1.2.3).
pub const PROTOCOL: IpProtocol = IpProtocol::Unknown(112);
/// IPv4 multicast group of VRRP, 224.0.0.18 (RFC 5798 §5.1.1.2).
pub const IPV4_MULTICAST: Ipv4Address = Ipv4Address::new(224, 0, 0, 18);
/// IPv6 multicast group of VRRP, ff02::12 (RFC 5798 §5.1.2.2).
pub const IPV6_MULTICAST: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit of every advert, and the only one a receiver accepts on
/// multicast (RFC 5798 §5.1.1.3, §7.1).
pub const TTL: u8 = 255;
/// TOS byte keepalived puts in the IPv4 header of its adverts
/// (internetwork control: DSCP 48, ECN 0).
pub const IPV4_TOS: u8 = 0xC0;
/// Bytes of the fixed VRRP header (both versions).
pub const HEADER_LEN: usize = 8;
/// Bytes of the VRRPv2 authentication data (RFC 3768 §5.3.10).
pub const AUTH_DATA_LEN: usize = 8;
/// Largest VRRPv3 Max Advertisement Interval, in centiseconds (12 bits).
pub const MAX_ADVER_INT_V3: u16 = 0x0FFF;
/// Bytes of the IPv4 header picket writes (no options).
pub const IPV4_HEADER_LEN: usize = 20;
/// Bytes of a gratuitous ARP frame (Ethernet header + ARP for IPv4), unpadded.
pub const GARP_FRAME_LEN: usize = 14 + 28;

/// Byte offsets of the fixed header.
mod field {
    /// Version (high nibble) and type (low nibble).
    pub const VER_TYPE: usize = 0;
    /// Virtual Router Identifier.
    pub const VRID: usize = 1;
    /// Priority.
    pub const PRIORITY: usize = 2;
    /// Count of addresses.
    pub const COUNT: usize = 3;
    /// v2: Auth Type.
    pub const AUTH_TYPE: usize = 4;
    /// v2: Adver Int (seconds).
    pub const ADVER_INT: usize = 5;
    /// v3: 4 reserved bits + 12-bit Max Adver Int (centiseconds).
    pub const RSVD_MAX_ADVER_INT: core::ops::Range<usize> = 4..6;
    /// Checksum.
    pub const CHECKSUM: core::ops::Range<usize> = 6..8;
}

/// Errors of parsing or emitting a VRRP message.
///
/// The receive-side ones (`Truncated` to `Checksum`) each name one drop
/// reason, to be counted; the emit-side ones are local bugs or
/// configuration that should have been refused when it was loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than the fixed header, than the addresses the
    /// count announces plus (v2) the authentication data, or (emit) than
    /// [`Repr::buffer_len`].
    Truncated,
    /// The message has bytes after its addresses (and v2 auth data).
    TooLong,
    /// Version is neither 2 nor 3 (the value is kept).
    Version(u8),
    /// VRRPv2 over IPv6, or a family that differs between the view, the
    /// [`Envelope`] and the addresses.
    AddressFamily,
    /// Type is not 1, advertisement (RFC 5798 §5.2.2; the value is kept).
    Type(u8),
    /// Virtual Router ID 0 (valid VRIDs are 1–255).
    Vrid,
    /// Advertisement interval 0, or (emit) above [`MAX_ADVER_INT_V3`].
    AdverInt,
    /// Emit: the v3 reserved field does not fit in 4 bits.
    Reserved,
    /// Emit: more than 255 addresses (the count is one byte).
    TooManyAddresses,
    /// The checksum matches no form allowed for this version and family.
    Checksum,
    /// Emit: the checksum form is not allowed for this version and family
    /// (see [`ChecksumForm`]).
    ChecksumForm,
    /// The IPv4 header around an advert is malformed, has a bad header
    /// checksum, or does not carry protocol 112.
    Ip,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("VRRP packet truncated"),
            Error::TooLong => f.write_str("VRRP packet longer than its address count"),
            Error::Version(v) => write!(f, "VRRP version {v} (expected 2 or 3)"),
            Error::AddressFamily => f.write_str("VRRP address family mismatch"),
            Error::Type(t) => write!(f, "VRRP packet type {t} (expected 1, advertisement)"),
            Error::Vrid => f.write_str("VRRP virtual router id 0"),
            Error::AdverInt => f.write_str("VRRP advertisement interval out of range"),
            Error::Reserved => f.write_str("VRRPv3 reserved field wider than 4 bits"),
            Error::TooManyAddresses => f.write_str("more than 255 addresses in one advert"),
            Error::Checksum => f.write_str("VRRP checksum mismatch"),
            Error::ChecksumForm => f.write_str("VRRP checksum form not allowed here"),
            Error::Ip => f.write_str("malformed IPv4 header around a VRRP packet"),
        }
    }
}

/// The IP version an advert travels in, which fixes the size of its addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: 4-byte addresses; VRRPv2 or VRRPv3.
    Ipv4,
    /// IPv6: 16-byte addresses; VRRPv3 only.
    Ipv6,
}

impl Family {
    /// Bytes of one address of this family.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

/// The IP header fields a VRRP checksum depends on: the family and the
/// source and destination addresses (RFC 5798 §5.2.8 pseudo-header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Envelope {
    /// Carried in IPv4.
    Ipv4 {
        /// Source address of the IPv4 header (the sender's primary address).
        src: Ipv4Address,
        /// Destination address (224.0.0.18 or a unicast peer).
        dst: Ipv4Address,
    },
    /// Carried in IPv6.
    Ipv6 {
        /// Source address (the sender's link-local address).
        src: Ipv6Address,
        /// Destination address (ff02::12 or a unicast peer).
        dst: Ipv6Address,
    },
}

impl Envelope {
    /// The family of the IP header.
    pub const fn family(&self) -> Family {
        match self {
            Envelope::Ipv4 { .. } => Family::Ipv4,
            Envelope::Ipv6 { .. } => Family::Ipv6,
        }
    }
}

/// What a VRRP checksum covers.
///
/// | version, family | allowed on receive | default on send |
/// |---|---|---|
/// | v2, IPv4 | `Message` | `Message` |
/// | v3, IPv4 | `PseudoHeader` or `Message` | `PseudoHeader` (`Message` with `v3_checksum_as_v2`) |
/// | v3, IPv6 | `PseudoHeader` | `PseudoHeader` |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecksumForm {
    /// The internet checksum of the VRRP message alone (RFC 3768 §5.3.8).
    Message,
    /// The VRRP message plus the IPv4 or IPv6 pseudo-header (RFC 5798 §5.2.8).
    PseudoHeader,
}

impl ChecksumForm {
    /// The forms a receiver accepts for `version` over `family`, the
    /// preferred (RFC) one first; empty for an unknown version or v2 over IPv6.
    pub const fn allowed(version: u8, family: Family) -> &'static [ChecksumForm] {
        match (version, family) {
            (2, Family::Ipv4) => &[ChecksumForm::Message],
            (3, Family::Ipv4) => &[ChecksumForm::PseudoHeader, ChecksumForm::Message],
            (3, Family::Ipv6) => &[ChecksumForm::PseudoHeader],
            _ => &[],
        }
    }
}

/// VRRPv2 authentication type (RFC 3768 §5.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// 0: no authentication; the auth data is zero on send, ignored on receive.
    None,
    /// 1: simple text password in the 8 bytes of auth data (`auth_type PASS`).
    SimplePassword,
    /// 2: IP Authentication Header (RFC 2402). Parsed as a type; picket
    /// refuses it (`auth_type AH` is a config error).
    IpAh,
    /// Any other value, kept for the daemon to count and drop.
    Unknown(u8),
}

impl From<u8> for AuthType {
    fn from(value: u8) -> Self {
        match value {
            0 => AuthType::None,
            1 => AuthType::SimplePassword,
            2 => AuthType::IpAh,
            other => AuthType::Unknown(other),
        }
    }
}

impl From<AuthType> for u8 {
    fn from(value: AuthType) -> Self {
        match value {
            AuthType::None => 0,
            AuthType::SimplePassword => 1,
            AuthType::IpAh => 2,
            AuthType::Unknown(other) => other,
        }
    }
}

/// A read/write view of one VRRP message (the IP payload), VRRPv2 or VRRPv3.
///
/// VRRPv2 (RFC 3768 §5.1), always over IPv4:
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Auth Type   |   Adver Int   |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         IP Address (1)                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            .                                  |
/// |                            .                                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         IP Address (n)                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Authentication Data (1)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Authentication Data (2)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// VRRPv3 (RFC 5798 §5.1), over IPv4 or IPv6 (4- or 16-byte addresses):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |(rsvd) |     Max Adver Int     |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                                                               +
/// |                       IPvX Address(es)                        |
/// +                                                               +
/// +                                                               +
/// +                                                               +
/// +                                                               +
/// |                                                               |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The layout after the fixed header depends on the version byte (v2 has
/// the auth data) and on the [`Family`] given at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking its length; accessors of the fixed
    /// header panic if it is shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T, family: Family) -> Packet<T> {
        Packet { buffer, family }
    }

    /// Wraps `buffer` after [`Packet::check_len`]; no accessor can panic.
    pub fn new_checked(buffer: T, family: Family) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer, family);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the fixed header and everything the
    /// header announces ([`Packet::message_len`]); longer buffers pass here
    /// (the extra bytes are refused by [`Repr::parse`]).
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.message_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The family given at construction.
    pub const fn family(&self) -> Family {
        self.family
    }

    /// Version field (2 or 3 when valid).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// Type field (1, advertisement, when valid).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0F
    }

    /// Virtual Router Identifier.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// Priority (255: address owner; 0: the master stops).
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// Count of addresses.
    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// v2: Auth Type byte (meaningless for v3, where it is part of the interval).
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_TYPE]
    }

    /// v2: Adver Int, in seconds.
    pub fn adver_int(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// v3: the 4 reserved bits (should be 0; kept on receive).
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::RSVD_MAX_ADVER_INT.start] >> 4
    }

    /// v3: Max Adver Int, in centiseconds (12 bits).
    pub fn max_adver_int(&self) -> u16 {
        let b = self.buffer.as_ref();
        let hi = u16::from(b[field::RSVD_MAX_ADVER_INT.start] & 0x0F);
        (hi << 8) | u16::from(b[field::RSVD_MAX_ADVER_INT.start + 1])
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::CHECKSUM.start], b[field::CHECKSUM.start + 1]])
    }

    /// Whether this message has the 8 bytes of auth data (version 2).
    pub fn has_auth_data(&self) -> bool {
        self.version() == 2
    }

    /// Bytes of the message the header announces: fixed header, addresses,
    /// and (v2) auth data.
    pub fn message_len(&self) -> usize {
        let Some(&count) = self.buffer.as_ref().get(field::COUNT) else {
            return HEADER_LEN;
        };
        let auth = if self.has_auth_data() {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + usize::from(count) * self.family.addr_len() + auth
    }

    /// The address block, `count × addr_len` bytes in network order (empty
    /// if the buffer is too short for it).
    pub fn addresses(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.addr_count()) * self.family.addr_len();
        self.buffer.as_ref().get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// v2: the 8 bytes of authentication data (the password for type 1);
    /// `None` for v3 or when the buffer is too short.
    pub fn auth_data(&self) -> Option<[u8; AUTH_DATA_LEN]> {
        if !self.has_auth_data() {
            return None;
        }
        let start = self.message_len() - AUTH_DATA_LEN;
        let bytes = self.buffer.as_ref().get(start..start + AUTH_DATA_LEN)?;
        bytes.try_into().ok()
    }

    /// The whole message ([`Packet::message_len`] bytes), without trailing
    /// bytes; empty if the buffer is too short.
    pub fn message(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(..self.message_len())
            .unwrap_or(&[])
    }

    /// Checks the checksum against every form allowed for this version and
    /// family (see [`ChecksumForm`]) and returns the first that matches,
    /// `None` if none does (or the envelope's family is not the view's).
    pub fn verify_checksum(&self, envelope: &Envelope) -> Option<ChecksumForm> {
        if envelope.family() != self.family || self.check_len().is_err() {
            return None;
        }
        let message = self.message();
        ChecksumForm::allowed(self.version(), self.family)
            .iter()
            .copied()
            .find(|&form| sum(message, envelope, form) == 0xFFFF)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and type.
    pub fn set_version_type(&mut self, version: u8, msg_type: u8) {
        self.buffer.as_mut()[field::VER_TYPE] = (version << 4) | (msg_type & 0x0F);
    }

    /// Sets the Virtual Router Identifier.
    pub fn set_vrid(&mut self, value: u8) {
        self.buffer.as_mut()[field::VRID] = value;
    }

    /// Sets the priority.
    pub fn set_priority(&mut self, value: u8) {
        self.buffer.as_mut()[field::PRIORITY] = value;
    }

    /// Sets the count of addresses (the layout after the header follows it).
    pub fn set_addr_count(&mut self, value: u8) {
        self.buffer.as_mut()[field::COUNT] = value;
    }

    /// v2: sets the Auth Type byte.
    pub fn set_auth_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::AUTH_TYPE] = value;
    }

    /// v2: sets Adver Int, in seconds.
    pub fn set_adver_int(&mut self, value: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = value;
    }

    /// v3: sets the reserved bits (low 4 bits of `reserved`) and the Max
    /// Adver Int in centiseconds (low 12 bits of `centis`).
    pub fn set_reserved_max_adver_int(&mut self, reserved: u8, centis: u16) {
        let value = (u16::from(reserved & 0x0F) << 12) | (centis & MAX_ADVER_INT_V3);
        let b = self.buffer.as_mut();
        b[field::RSVD_MAX_ADVER_INT.start..field::RSVD_MAX_ADVER_INT.end]
            .copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM.start..field::CHECKSUM.end]
            .copy_from_slice(&value.to_be_bytes());
    }

    /// The address block, writable (empty if the buffer is too short).
    pub fn addresses_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.addr_count()) * self.family.addr_len();
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..end)
            .unwrap_or(&mut [])
    }

    /// v2: writes the authentication data; does nothing for v3 or when the
    /// buffer is too short.
    pub fn set_auth_data(&mut self, data: &[u8; AUTH_DATA_LEN]) {
        if !self.has_auth_data() {
            return;
        }
        let start = self.message_len() - AUTH_DATA_LEN;
        if let Some(dst) = self.buffer.as_mut().get_mut(start..start + AUTH_DATA_LEN) {
            dst.copy_from_slice(data);
        }
    }

    /// Computes and writes the checksum in `form` over the message as the
    /// header describes it. Does not check that `form` is allowed; see
    /// [`Repr::emit`] for the checked path.
    pub fn fill_checksum(&mut self, envelope: &Envelope, form: ChecksumForm) {
        self.set_checksum(0);
        let value = !sum(self.message(), envelope, form);
        self.set_checksum(value);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The ones' complement sum (not yet complemented) of `message` in `form`:
/// 0xFFFF when a message with its checksum in place verifies.
fn sum(message: &[u8], envelope: &Envelope, form: ChecksumForm) -> u16 {
    let data = checksum::data(message);
    match form {
        ChecksumForm::Message => data,
        ChecksumForm::PseudoHeader => {
            // The message length is at most 8 + 255 × 16 + 8 bytes, far below u32::MAX.
            let len = message.len() as u32;
            let pseudo = match envelope {
                Envelope::Ipv4 { src, dst } => checksum::pseudo_header_v4(src, dst, PROTOCOL, len),
                Envelope::Ipv6 { src, dst } => checksum::pseudo_header_v6(src, dst, PROTOCOL, len),
            };
            checksum::combine(&[pseudo, data])
        }
    }
}

/// The addresses of an advert, borrowed: either the address block of a
/// received packet or the caller's list of typed addresses. Never copied,
/// so a [`Repr`] stays small whatever the family and count.
///
/// Two lists are equal when they have the same family and the same
/// addresses in the same order, whichever form they borrow.
#[derive(Clone, Copy, Debug)]
pub struct Addresses<'a>(Inner<'a>);

#[derive(Clone, Copy, Debug)]
enum Inner<'a> {
    /// `bytes.len()` is a multiple of `family.addr_len()`.
    Wire {
        family: Family,
        bytes: &'a [u8],
    },
    V4(&'a [Ipv4Address]),
    V6(&'a [Ipv6Address]),
}

impl<'a> Addresses<'a> {
    /// A list of IPv4 addresses, to emit.
    pub const fn ipv4(list: &'a [Ipv4Address]) -> Addresses<'a> {
        Addresses(Inner::V4(list))
    }

    /// A list of IPv6 addresses, to emit.
    pub const fn ipv6(list: &'a [Ipv6Address]) -> Addresses<'a> {
        Addresses(Inner::V6(list))
    }

    /// An address block in network order, as found in a packet. Fails with
    /// [`Error::Truncated`] if its length is not a whole number of addresses.
    pub fn from_wire(family: Family, bytes: &'a [u8]) -> Result<Addresses<'a>, Error> {
        if !bytes.len().is_multiple_of(family.addr_len()) {
            return Err(Error::Truncated);
        }
        Ok(Addresses(Inner::Wire { family, bytes }))
    }

    /// The family of the addresses.
    pub const fn family(&self) -> Family {
        match self.0 {
            Inner::Wire { family, .. } => family,
            Inner::V4(_) => Family::Ipv4,
            Inner::V6(_) => Family::Ipv6,
        }
    }

    /// Number of addresses.
    pub const fn len(&self) -> usize {
        match self.0 {
            Inner::Wire { family, bytes } => bytes.len() / family.addr_len(),
            Inner::V4(list) => list.len(),
            Inner::V6(list) => list.len(),
        }
    }

    /// Whether the list is empty.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `index`th address.
    pub fn get(&self, index: usize) -> Option<IpAddress> {
        match self.0 {
            Inner::Wire {
                family: Family::Ipv4,
                bytes,
            } => {
                let octets: [u8; 4] = bytes.get(index * 4..index * 4 + 4)?.try_into().ok()?;
                Some(IpAddress::Ipv4(Ipv4Address::from(octets)))
            }
            Inner::Wire {
                family: Family::Ipv6,
                bytes,
            } => {
                let octets: [u8; 16] = bytes.get(index * 16..index * 16 + 16)?.try_into().ok()?;
                Some(IpAddress::Ipv6(Ipv6Address::from(octets)))
            }
            Inner::V4(list) => list.get(index).copied().map(IpAddress::Ipv4),
            Inner::V6(list) => list.get(index).copied().map(IpAddress::Ipv6),
        }
    }

    /// The addresses in order.
    pub fn iter(&self) -> AddressIter<'a> {
        AddressIter {
            list: *self,
            next: 0,
        }
    }

    /// Writes the addresses in network order into `out`, which must be
    /// exactly `len() × addr_len` bytes (extra bytes are left untouched).
    fn write(&self, out: &mut [u8]) {
        let step = self.family().addr_len();
        for (chunk, address) in out.chunks_exact_mut(step).zip(self.iter()) {
            match address {
                IpAddress::Ipv4(a) => chunk.copy_from_slice(&a.octets()),
                IpAddress::Ipv6(a) => chunk.copy_from_slice(&a.octets()),
            }
        }
    }
}

impl PartialEq for Addresses<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.family() == other.family() && self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Addresses<'_> {}

impl<'a> IntoIterator for Addresses<'a> {
    type Item = IpAddress;
    type IntoIter = AddressIter<'a>;
    fn into_iter(self) -> AddressIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Addresses`], yielding each as an [`IpAddress`].
#[derive(Clone, Debug)]
pub struct AddressIter<'a> {
    list: Addresses<'a>,
    next: usize,
}

impl Iterator for AddressIter<'_> {
    type Item = IpAddress;

    fn next(&mut self) -> Option<IpAddress> {
        let address = self.list.get(self.next)?;
        self.next += 1;
        Some(address)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.list.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for AddressIter<'_> {}

/// The fields that differ between the two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// VRRPv2 (RFC 3768), IPv4 only.
    V2 {
        /// Auth Type; [`AuthType::Unknown`] values are kept.
        auth_type: AuthType,
        /// Adver Int, in seconds (1–255).
        adver_int: u8,
        /// The 8 bytes of auth data: the password, NUL-padded, for
        /// [`AuthType::SimplePassword`]; zero for [`AuthType::None`] (as
        /// keepalived sends it), any value kept on receive.
        auth_data: [u8; AUTH_DATA_LEN],
    },
    /// VRRPv3 (RFC 5798 / RFC 9568), IPv4 or IPv6.
    V3 {
        /// The 4 reserved bits: 0 on send, kept on receive (RFC 5798 §5.2.6).
        reserved: u8,
        /// Max Adver Int, in centiseconds (1–4095).
        max_adver_int: u16,
    },
}

impl Version {
    /// The version number on the wire (2 or 3).
    pub const fn number(&self) -> u8 {
        match self {
            Version::V2 { .. } => 2,
            Version::V3 { .. } => 3,
        }
    }
}

/// A VRRP advertisement, parsed or to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Virtual Router Identifier (1–255).
    pub vrid: u8,
    /// Priority: 255 for the address owner, 0 when the master stops.
    pub priority: u8,
    /// The version and its own fields.
    pub version: Version,
    /// The virtual addresses, borrowed (see [`Addresses`]).
    pub addresses: Addresses<'a>,
    /// After [`Repr::parse`]: the form the checksum matched. For
    /// [`Repr::emit`]: the form to write.
    pub checksum: ChecksumForm,
}

impl<'a> Repr<'a> {
    /// Parses and checks a received advert (every check of the table in the
    /// module doc, in the order: length of the fixed header, version and
    /// family, length, type, VRID, interval, checksum).
    ///
    /// `envelope` comes from the received IP header; its family must be the
    /// view's.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        envelope: &Envelope,
    ) -> Result<Repr<'a>, Error> {
        let buffer: &'a [u8] = T::as_ref(packet.buffer);
        let family = packet.family();
        if buffer.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if envelope.family() != family {
            return Err(Error::AddressFamily);
        }
        match (packet.version(), family) {
            (2, Family::Ipv4) | (3, _) => {}
            (2, Family::Ipv6) => return Err(Error::AddressFamily),
            (other, _) => return Err(Error::Version(other)),
        }
        packet.check_len()?;
        if buffer.len() > packet.message_len() {
            return Err(Error::TooLong);
        }
        if packet.msg_type() != 1 {
            return Err(Error::Type(packet.msg_type()));
        }
        if packet.vrid() == 0 {
            return Err(Error::Vrid);
        }
        let version = if packet.version() == 2 {
            if packet.adver_int() == 0 {
                return Err(Error::AdverInt);
            }
            Version::V2 {
                auth_type: AuthType::from(packet.auth_type()),
                adver_int: packet.adver_int(),
                auth_data: packet.auth_data().ok_or(Error::Truncated)?,
            }
        } else {
            if packet.max_adver_int() == 0 {
                return Err(Error::AdverInt);
            }
            Version::V3 {
                reserved: packet.reserved(),
                max_adver_int: packet.max_adver_int(),
            }
        };
        let checksum = packet.verify_checksum(envelope).ok_or(Error::Checksum)?;
        let end = HEADER_LEN + usize::from(packet.addr_count()) * family.addr_len();
        let bytes = buffer.get(HEADER_LEN..end).ok_or(Error::Truncated)?;
        Ok(Repr {
            vrid: packet.vrid(),
            priority: packet.priority(),
            version,
            addresses: Addresses::from_wire(family, bytes)?,
            checksum,
        })
    }

    /// Bytes [`Repr::emit`] writes: 8 + addresses (+ 8 auth data for v2).
    pub fn buffer_len(&self) -> usize {
        let auth = match self.version {
            Version::V2 { .. } => AUTH_DATA_LEN,
            Version::V3 { .. } => 0,
        };
        HEADER_LEN + self.addresses.len() * self.addresses.family().addr_len() + auth
    }

    /// The advertisement interval in centiseconds, whatever the version
    /// (v2's seconds × 100).
    pub fn adver_int_centis(&self) -> u16 {
        match self.version {
            Version::V2 { adver_int, .. } => u16::from(adver_int) * 100,
            Version::V3 { max_adver_int, .. } => max_adver_int,
        }
    }

    /// The family of the addresses (and so of the IP header).
    pub const fn family(&self) -> Family {
        self.addresses.family()
    }

    /// Checks every field and writes the advert, with its checksum in
    /// `self.checksum` form over `envelope`, into the first
    /// [`Repr::buffer_len`] bytes of `packet`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        envelope: &Envelope,
    ) -> Result<(), Error> {
        let family = self.family();
        if packet.family() != family || envelope.family() != family {
            return Err(Error::AddressFamily);
        }
        let version = self.version.number();
        if version == 2 && family == Family::Ipv6 {
            return Err(Error::AddressFamily);
        }
        let count = u8::try_from(self.addresses.len()).map_err(|_| Error::TooManyAddresses)?;
        if self.vrid == 0 {
            return Err(Error::Vrid);
        }
        match self.version {
            Version::V2 { adver_int: 0, .. } => return Err(Error::AdverInt),
            Version::V3 { max_adver_int, .. }
                if max_adver_int == 0 || max_adver_int > MAX_ADVER_INT_V3 =>
            {
                return Err(Error::AdverInt);
            }
            Version::V3 { reserved, .. } if reserved > 0x0F => return Err(Error::Reserved),
            _ => {}
        }
        if !ChecksumForm::allowed(version, family).contains(&self.checksum) {
            return Err(Error::ChecksumForm);
        }
        if packet.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::Truncated);
        }

        packet.set_version_type(version, 1);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        packet.set_addr_count(count);
        match self.version {
            Version::V2 {
                auth_type,
                adver_int,
                auth_data,
            } => {
                packet.set_auth_type(auth_type.into());
                packet.set_adver_int(adver_int);
                packet.set_auth_data(&auth_data);
            }
            Version::V3 {
                reserved,
                max_adver_int,
            } => packet.set_reserved_max_adver_int(reserved, max_adver_int),
        }
        self.addresses.write(packet.addresses_mut());
        packet.fill_checksum(envelope, self.checksum);
        Ok(())
    }
}

/// The fields of a received IPv4 header that the VRRP receive path checks,
/// and the VRRP message it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Advert<'a> {
    /// Source and destination, for the checksum and the election tie-break.
    pub envelope: Envelope,
    /// TTL: must be [`TTL`] on multicast (RFC 5798 §7.1).
    pub ttl: u8,
    /// The IPv4 payload (total length minus header: Ethernet padding is cut off).
    pub payload: &'a [u8],
}

/// Parses the IPv4 datagram a raw socket returns (header included) with
/// smoltcp's `Ipv4Packet`/`Ipv4Repr`: header length, version, header
/// checksum and protocol 112 are checked, else [`Error::Ip`].
pub fn parse_ipv4(datagram: &[u8]) -> Result<Ipv4Advert<'_>, Error> {
    let packet = Ipv4Packet::new_checked(datagram).map_err(|_| Error::Ip)?;
    let repr = Ipv4Repr::parse(&packet, &ChecksumCapabilities::default()).map_err(|_| Error::Ip)?;
    if repr.next_header != PROTOCOL {
        return Err(Error::Ip);
    }
    Ok(Ipv4Advert {
        envelope: Envelope::Ipv4 {
            src: repr.src_addr,
            dst: repr.dst_addr,
        },
        ttl: repr.hop_limit,
        payload: packet.payload(),
    })
}

/// Writes a whole IPv4 advert — the header keepalived builds with
/// `IP_HDRINCL` (TOS 0xC0, TTL 255, no DF, identification `ident`, header
/// checksum filled) and `repr` after it — into `buffer`; returns its length.
///
/// The header comes from smoltcp's `Ipv4Repr`; the TOS, identification and
/// flags it does not take are then set on the `Ipv4Packet`.
pub fn emit_ipv4(
    repr: &Repr<'_>,
    src: Ipv4Address,
    dst: Ipv4Address,
    ident: u16,
    buffer: &mut [u8],
) -> Result<usize, Error> {
    emit_ipv4_ttl(repr, src, dst, ident, TTL, buffer)
}

/// [`emit_ipv4`] with another TTL: keepalived's `unicast_ttl` for adverts
/// sent to unicast peers.
pub fn emit_ipv4_ttl(
    repr: &Repr<'_>,
    src: Ipv4Address,
    dst: Ipv4Address,
    ident: u16,
    ttl: u8,
    buffer: &mut [u8],
) -> Result<usize, Error> {
    if repr.family() != Family::Ipv4 {
        return Err(Error::AddressFamily);
    }
    let total = IPV4_HEADER_LEN + repr.buffer_len();
    let Some(datagram) = buffer.get_mut(..total) else {
        return Err(Error::Truncated);
    };
    let (header, payload) = datagram.split_at_mut(IPV4_HEADER_LEN);
    let mut vrrp = Packet::new_unchecked(payload, Family::Ipv4);
    repr.emit(&mut vrrp, &Envelope::Ipv4 { src, dst })?;

    let ip_repr = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: PROTOCOL,
        payload_len: repr.buffer_len(),
        hop_limit: ttl,
    };
    let mut ip = Ipv4Packet::new_unchecked(header);
    ip_repr.emit(&mut ip, &ChecksumCapabilities::ignored());
    ip.set_dscp(IPV4_TOS >> 2);
    ip.set_ecn(IPV4_TOS & 0x03);
    ip.set_ident(ident);
    ip.set_dont_frag(false);
    ip.fill_checksum();
    Ok(total)
}

/// Writes a gratuitous ARP frame for `vip` in keepalived's form (RFC 5798
/// §6.4.1): Ethernet broadcast from `src_mac`, an ARP **request** whose
/// sender and target IP are both `vip`, target hardware address broadcast.
/// Returns [`GARP_FRAME_LEN`]; the NIC pads to 60 bytes.
pub fn emit_garp(
    src_mac: EthernetAddress,
    vip: Ipv4Address,
    buffer: &mut [u8],
) -> Result<usize, Error> {
    let Some(bytes) = buffer.get_mut(..GARP_FRAME_LEN) else {
        return Err(Error::Truncated);
    };
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: src_mac,
        source_protocol_addr: vip,
        target_hardware_addr: EthernetAddress::BROADCAST,
        target_protocol_addr: vip,
    };
    let eth = EthernetRepr {
        src_addr: src_mac,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EthernetProtocol::Arp,
    };
    let mut frame = EthernetFrame::new_unchecked(bytes);
    eth.emit(&mut frame);
    arp.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    Ok(GARP_FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use smoltcp::wire::Ipv6Packet;
    use std::vec::Vec;

    /// A captured keepalived 2.2.7 advert: the IP datagram and its VRRP payload.
    struct Fixture {
        name: &'static str,
        ip: &'static [u8],
        vrrp: &'static [u8],
    }

    macro_rules! fixture {
        ($name:literal) => {
            Fixture {
                name: $name,
                ip: include_bytes!(concat!("../../tests/fixtures/vrrp/", $name, ".ip.bin")),
                vrrp: include_bytes!(concat!("../../tests/fixtures/vrrp/", $name, ".bin")),
            }
        };
    }

    const FIXTURES: [Fixture; 9] = [
        fixture!("v2_pass_vrid51_prio150"),
        fixture!("v2_pass_vrid51_prio0"),
        fixture!("v2_none_vrid52_prio100"),
        fixture!("v3_ipv4_vrid53_prio200"),
        fixture!("v3_ipv4_vrid53_prio0"),
        fixture!("v3_ipv6_vrid54_prio120"),
        fixture!("v3_ipv6_vrid54_prio0"),
        fixture!("v3_ipv6_unicast_vrid55_prio130"),
        fixture!("v3_ipv6_unicast_vrid55_prio0"),
    ];

    const GARP: &[u8] = include_bytes!("../../tests/fixtures/vrrp/garp_10.201.0.110.eth.bin");
    const KEEPALIVED_MAC: EthernetAddress = EthernetAddress([0xb6, 0x26, 0x4a, 0x05, 0x95, 0x0d]);
    const SENDER: Ipv4Address = Ipv4Address::new(10, 201, 0, 1);

    fn fixture(name: &str) -> &'static Fixture {
        FIXTURES.iter().find(|f| f.name == name).unwrap()
    }

    /// Family, envelope and TTL/hop limit of a fixture's IP header; also
    /// checks that its payload is the `.bin` file.
    fn envelope_of(f: &Fixture) -> (Family, Envelope, u8) {
        if f.ip[0] >> 4 == 4 {
            let ip = parse_ipv4(f.ip).unwrap();
            assert_eq!(ip.payload, f.vrrp, "{}", f.name);
            (Family::Ipv4, ip.envelope, ip.ttl)
        } else {
            let ip = Ipv6Packet::new_checked(f.ip).unwrap();
            assert_eq!(ip.payload(), f.vrrp, "{}", f.name);
            let envelope = Envelope::Ipv6 {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
            };
            (Family::Ipv6, envelope, ip.hop_limit())
        }
    }

    fn parse_bytes(bytes: &[u8], family: Family, envelope: &Envelope) -> Result<(), Error> {
        Repr::parse(&Packet::new_unchecked(bytes, family), envelope).map(|_| ())
    }

    fn parse(f: &Fixture) -> Repr<'static> {
        let (family, envelope, _) = envelope_of(f);
        let packet = Packet::new_checked(f.vrrp, family).unwrap();
        Repr::parse(&packet, &envelope).unwrap()
    }

    fn v4(s: &str) -> IpAddress {
        IpAddress::Ipv4(s.parse().unwrap())
    }

    fn v6(s: &str) -> IpAddress {
        IpAddress::Ipv6(s.parse().unwrap())
    }

    fn emit_vec(repr: &Repr<'_>, envelope: &Envelope) -> Result<Vec<u8>, Error> {
        let mut buf = std::vec![0u8; repr.buffer_len()];
        repr.emit(
            &mut Packet::new_unchecked(&mut buf[..], repr.family()),
            envelope,
        )?;
        Ok(buf)
    }

    /// Applies `change` to a copy of `f`'s payload, refills the checksum in
    /// the form that matched originally if `refill`, and parses.
    fn corrupt(
        f: &Fixture,
        refill: bool,
        change: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Repr<'static>, Error> {
        let (family, envelope, _) = envelope_of(f);
        let form = parse(f).checksum;
        let mut bytes = f.vrrp.to_vec();
        change(&mut bytes);
        if refill && bytes.len() >= HEADER_LEN {
            Packet::new_unchecked(&mut bytes[..], family).fill_checksum(&envelope, form);
        }
        let bytes: &'static [u8] = std::boxed::Box::leak(bytes.into_boxed_slice());
        Repr::parse(&Packet::new_unchecked(bytes, family), &envelope)
    }

    #[test]
    fn fixture_ip_headers_are_keepalived_adverts() {
        for f in FIXTURES.iter().filter(|f| !f.name.contains("unicast")) {
            let (family, envelope, ttl) = envelope_of(f);
            assert_eq!(ttl, TTL, "{}", f.name);
            match envelope {
                Envelope::Ipv4 { src, dst } => {
                    assert_eq!((src, dst), (SENDER, IPV4_MULTICAST), "{}", f.name);
                    assert_eq!(f.ip[1], IPV4_TOS, "{}", f.name);
                }
                Envelope::Ipv6 { src, dst } => {
                    assert_eq!(dst, IPV6_MULTICAST, "{}", f.name);
                    assert!(src.is_unicast_link_local(), "{}", f.name);
                }
            }
            assert_eq!(family, envelope.family());
        }
    }

    /// keepalived's IPv6 unicast adverts: from `unicast_src_ip` to the peer,
    /// with the kernel's default hop limit (no `unicast_ttl`), traffic class
    /// 0xc0, and the checksum over that pair.
    #[test]
    fn v3_ipv6_unicast_fixture_fields() {
        for (name, priority) in [
            ("v3_ipv6_unicast_vrid55_prio130", 130),
            ("v3_ipv6_unicast_vrid55_prio0", 0),
        ] {
            let f = fixture(name);
            let (_, envelope, hop_limit) = envelope_of(f);
            assert_eq!(
                envelope,
                Envelope::Ipv6 {
                    src: "fd00:201::1".parse().unwrap(),
                    dst: "fd00:201::2".parse().unwrap(),
                }
            );
            assert_eq!(hop_limit, 64);
            assert_eq!(Ipv6Packet::new_checked(f.ip).unwrap().traffic_class(), 0xc0);
            let repr = parse(f);
            assert_eq!((repr.vrid, repr.priority), (55, priority));
            assert_eq!(repr.adver_int_centis(), 100);
            assert_eq!(repr.checksum, ChecksumForm::PseudoHeader);
            let addrs: Vec<_> = repr.addresses.iter().collect();
            assert_eq!(addrs, [v6("fd00:201::110")]);
            // The checksum covers the destination: another one breaks it.
            let other = Envelope::Ipv6 {
                src: "fd00:201::1".parse().unwrap(),
                dst: "fd00:201::3".parse().unwrap(),
            };
            assert_eq!(
                parse_bytes(f.vrrp, Family::Ipv6, &other),
                Err(Error::Checksum)
            );
        }
    }

    #[test]
    fn v2_pass_fixture_fields() {
        for (name, priority) in [("v2_pass_vrid51_prio150", 150), ("v2_pass_vrid51_prio0", 0)] {
            let repr = parse(fixture(name));
            assert_eq!(repr.vrid, 51);
            assert_eq!(repr.priority, priority);
            assert_eq!(
                repr.version,
                Version::V2 {
                    auth_type: AuthType::SimplePassword,
                    adver_int: 1,
                    auth_data: *b"secret12",
                }
            );
            assert_eq!(repr.adver_int_centis(), 100);
            assert_eq!(repr.checksum, ChecksumForm::Message);
            let addrs: Vec<_> = repr.addresses.iter().collect();
            assert_eq!(addrs, [v4("10.201.0.100"), v4("10.201.0.101")]);
        }
    }

    #[test]
    fn v2_none_fixture_fields() {
        let repr = parse(fixture("v2_none_vrid52_prio100"));
        assert_eq!((repr.vrid, repr.priority), (52, 100));
        assert_eq!(
            repr.version,
            Version::V2 {
                auth_type: AuthType::None,
                adver_int: 2,
                auth_data: [0; 8],
            }
        );
        assert_eq!(repr.checksum, ChecksumForm::Message);
        assert_eq!(
            repr.addresses.iter().collect::<Vec<_>>(),
            [v4("10.201.0.102")]
        );
    }

    #[test]
    fn v3_ipv4_fixture_fields() {
        for (name, priority) in [("v3_ipv4_vrid53_prio200", 200), ("v3_ipv4_vrid53_prio0", 0)] {
            let repr = parse(fixture(name));
            assert_eq!((repr.vrid, repr.priority), (53, priority));
            assert_eq!(
                repr.version,
                Version::V3 {
                    reserved: 0,
                    max_adver_int: 50,
                }
            );
            // keepalived's default: the IPv4 pseudo-header is included.
            assert_eq!(repr.checksum, ChecksumForm::PseudoHeader);
            let addrs: Vec<_> = repr.addresses.iter().collect();
            assert_eq!(
                addrs,
                [v4("10.201.0.110"), v4("10.201.0.111"), v4("10.201.0.112")]
            );
        }
    }

    #[test]
    fn v3_ipv6_fixture_fields() {
        for (name, priority) in [("v3_ipv6_vrid54_prio120", 120), ("v3_ipv6_vrid54_prio0", 0)] {
            let repr = parse(fixture(name));
            assert_eq!((repr.vrid, repr.priority), (54, priority));
            assert_eq!(
                repr.version,
                Version::V3 {
                    reserved: 0,
                    max_adver_int: 100,
                }
            );
            assert_eq!(repr.checksum, ChecksumForm::PseudoHeader);
            assert_eq!(repr.family(), Family::Ipv6);
            let addrs: Vec<_> = repr.addresses.iter().collect();
            assert_eq!(addrs, [v6("fd00:201::100"), v6("fd00:201::101")]);
        }
    }

    #[test]
    fn fixtures_round_trip_byte_exact() {
        for f in &FIXTURES {
            let (_, envelope, _) = envelope_of(f);
            let repr = parse(f);
            assert_eq!(repr.buffer_len(), f.vrrp.len(), "{}", f.name);
            assert_eq!(emit_vec(&repr, &envelope).unwrap(), f.vrrp, "{}", f.name);
        }
    }

    #[test]
    fn typed_address_lists_emit_the_same_bytes() {
        for f in &FIXTURES {
            let (_, envelope, _) = envelope_of(f);
            let parsed = parse(f);
            let mut list4 = Vec::new();
            let mut list6 = Vec::new();
            for a in parsed.addresses {
                match a {
                    IpAddress::Ipv4(a) => list4.push(a),
                    IpAddress::Ipv6(a) => list6.push(a),
                }
            }
            let addresses = match parsed.family() {
                Family::Ipv4 => Addresses::ipv4(&list4),
                Family::Ipv6 => Addresses::ipv6(&list6),
            };
            assert_eq!(addresses, parsed.addresses);
            let repr = Repr {
                addresses,
                ..parsed
            };
            assert_eq!(repr, parsed);
            assert_eq!(emit_vec(&repr, &envelope).unwrap(), f.vrrp, "{}", f.name);
        }
    }

    #[test]
    fn ipv4_header_matches_keepalived() {
        for f in FIXTURES.iter().filter(|f| f.ip[0] >> 4 == 4) {
            let repr = parse(f);
            let ident = Ipv4Packet::new_checked(f.ip).unwrap().ident();
            let mut buf = [0u8; 64];
            let n = emit_ipv4(&repr, SENDER, IPV4_MULTICAST, ident, &mut buf).unwrap();
            assert_eq!(&buf[..n], f.ip, "{}", f.name);
        }
    }

    #[test]
    fn emit_ipv4_errors() {
        let repr = parse(fixture("v3_ipv4_vrid53_prio200"));
        let need = IPV4_HEADER_LEN + repr.buffer_len();
        for len in 0..need {
            let mut buf = std::vec![0u8; len];
            assert_eq!(
                emit_ipv4(&repr, SENDER, IPV4_MULTICAST, 1, &mut buf),
                Err(Error::Truncated)
            );
        }
        let v6 = parse(fixture("v3_ipv6_vrid54_prio120"));
        assert_eq!(
            emit_ipv4(&v6, SENDER, IPV4_MULTICAST, 1, &mut [0u8; 128]),
            Err(Error::AddressFamily)
        );
    }

    #[test]
    fn parse_ipv4_checks_the_header() {
        let ip = fixture("v2_pass_vrid51_prio150").ip;
        // Ethernet padding after the datagram is cut off by the total length.
        let mut padded = ip.to_vec();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(
            parse_ipv4(&padded).unwrap().payload,
            fixture("v2_pass_vrid51_prio150").vrrp
        );
        for len in 0..IPV4_HEADER_LEN {
            assert_eq!(parse_ipv4(&ip[..len]), Err(Error::Ip));
        }
        // Bad header checksum.
        let mut bad = ip.to_vec();
        bad[10] ^= 1;
        assert_eq!(parse_ipv4(&bad), Err(Error::Ip));
        // Another protocol (AH), header checksum refilled.
        let mut ah = ip.to_vec();
        let mut packet = Ipv4Packet::new_unchecked(&mut ah[..]);
        packet.set_next_header(IpProtocol::IpSecAh);
        packet.fill_checksum();
        assert_eq!(parse_ipv4(&ah), Err(Error::Ip));
        // Total length beyond the buffer.
        assert_eq!(parse_ipv4(&ip[..ip.len() - 1]), Err(Error::Ip));
    }

    #[test]
    fn garp_matches_keepalived() {
        let mut buf = [0u8; 64];
        let n = emit_garp(KEEPALIVED_MAC, Ipv4Address::new(10, 201, 0, 110), &mut buf).unwrap();
        assert_eq!(&buf[..n], GARP);
        let frame = EthernetFrame::new_checked(&buf[..n]).unwrap();
        assert_eq!(frame.dst_addr(), EthernetAddress::BROADCAST);
        assert_eq!(frame.ethertype(), EthernetProtocol::Arp);
        let arp = ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).unwrap()).unwrap();
        assert_eq!(
            arp,
            ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Request,
                source_hardware_addr: KEEPALIVED_MAC,
                source_protocol_addr: Ipv4Address::new(10, 201, 0, 110),
                target_hardware_addr: EthernetAddress::BROADCAST,
                target_protocol_addr: Ipv4Address::new(10, 201, 0, 110),
            }
        );
        for len in 0..GARP_FRAME_LEN {
            let mut short = std::vec![0u8; len];
            assert_eq!(
                emit_garp(
                    KEEPALIVED_MAC,
                    Ipv4Address::new(10, 201, 0, 110),
                    &mut short
                ),
                Err(Error::Truncated)
            );
        }
    }

    #[test]
    fn truncated_at_every_length() {
        for f in &FIXTURES {
            let (family, envelope, _) = envelope_of(f);
            for len in 0..f.vrrp.len() {
                let bytes = &f.vrrp[..len];
                assert_eq!(
                    Packet::new_checked(bytes, family).err(),
                    Some(Error::Truncated),
                    "{} at {len}",
                    f.name
                );
                assert_eq!(parse_bytes(bytes, family, &envelope), Err(Error::Truncated));
                if len >= HEADER_LEN {
                    // The variable parts of an unchecked view never panic.
                    let packet = Packet::new_unchecked(bytes, family);
                    let _ = (packet.addresses(), packet.auth_data(), packet.message());
                    assert_eq!(packet.verify_checksum(&envelope), None);
                }
            }
        }
    }

    #[test]
    fn trailing_bytes_are_too_long() {
        for f in &FIXTURES {
            let (family, envelope, _) = envelope_of(f);
            let mut bytes = f.vrrp.to_vec();
            bytes.push(0);
            // The view accepts a longer buffer; the parser does not.
            let packet = Packet::new_checked(&bytes[..], family).unwrap();
            assert_eq!(packet.verify_checksum(&envelope), Some(parse(f).checksum));
            assert_eq!(
                parse_bytes(&bytes, family, &envelope),
                Err(Error::TooLong),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        for f in &FIXTURES {
            for i in 0..f.vrrp.len() {
                for bit in 0..8 {
                    let result = corrupt(f, false, |b| b[i] ^= 1 << bit);
                    assert!(result.is_err(), "{}: byte {i} bit {bit} accepted", f.name);
                }
            }
        }
    }

    #[test]
    fn bad_version() {
        let f = fixture("v3_ipv4_vrid53_prio200");
        for v in [0u8, 1, 4, 15] {
            let r = corrupt(f, true, |b| b[0] = (v << 4) | 1);
            assert_eq!(r, Err(Error::Version(v)));
        }
        // VRRPv2 does not exist over IPv6.
        let r = corrupt(fixture("v3_ipv6_vrid54_prio120"), true, |b| b[0] = 0x21);
        assert_eq!(r, Err(Error::AddressFamily));
        // A v3 message relabelled v2 is short of its auth data.
        assert_eq!(corrupt(f, true, |b| b[0] = 0x21), Err(Error::Truncated));
        // A v2 message relabelled v3 has 8 bytes too many.
        let r = corrupt(fixture("v2_none_vrid52_prio100"), true, |b| b[0] = 0x31);
        assert_eq!(r, Err(Error::TooLong));
    }

    #[test]
    fn bad_type() {
        for f in &FIXTURES {
            for t in [0u8, 2, 3, 15] {
                let r = corrupt(f, true, |b| b[0] = (b[0] & 0xF0) | t);
                assert_eq!(r, Err(Error::Type(t)), "{}", f.name);
            }
        }
    }

    #[test]
    fn bad_vrid_and_interval() {
        for f in &FIXTURES {
            assert_eq!(
                corrupt(f, true, |b| b[1] = 0),
                Err(Error::Vrid),
                "{}",
                f.name
            );
            let version = f.vrrp[0] >> 4;
            let r = corrupt(f, true, |b| {
                if version == 2 {
                    b[5] = 0;
                } else {
                    b[4] &= 0xF0;
                    b[5] = 0;
                }
            });
            assert_eq!(r, Err(Error::AdverInt), "{}", f.name);
        }
    }

    #[test]
    fn bad_count() {
        for f in &FIXTURES {
            assert_eq!(
                corrupt(f, true, |b| b[3] += 1),
                Err(Error::Truncated),
                "{}",
                f.name
            );
            assert_eq!(
                corrupt(f, true, |b| b[3] -= 1),
                Err(Error::TooLong),
                "{}",
                f.name
            );
            assert_eq!(
                corrupt(f, true, |b| b[3] = 255),
                Err(Error::Truncated),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn bad_checksum() {
        for f in &FIXTURES {
            assert_eq!(
                corrupt(f, false, |b| b[6] ^= 0x80),
                Err(Error::Checksum),
                "{}",
                f.name
            );
            assert_eq!(
                corrupt(f, false, |b| b[7] = b[7].wrapping_add(1)),
                Err(Error::Checksum)
            );
            // An address changed without the checksum following.
            assert_eq!(
                corrupt(f, false, |b| b[8] ^= 1),
                Err(Error::Checksum),
                "{}",
                f.name
            );
        }
        // The v2 checksum covers the auth data.
        let f = fixture("v2_pass_vrid51_prio150");
        assert_eq!(corrupt(f, false, |b| b[23] ^= 1), Err(Error::Checksum));
        // The v3 pseudo-header binds the checksum to the IP addresses.
        let f = fixture("v3_ipv4_vrid53_prio200");
        let other = Envelope::Ipv4 {
            src: Ipv4Address::new(10, 201, 0, 9),
            dst: IPV4_MULTICAST,
        };
        assert_eq!(
            parse_bytes(f.vrrp, Family::Ipv4, &other),
            Err(Error::Checksum)
        );
        let f = fixture("v3_ipv6_vrid54_prio120");
        let other = Envelope::Ipv6 {
            src: "fe80::1".parse().unwrap(),
            dst: IPV6_MULTICAST,
        };
        assert_eq!(
            parse_bytes(f.vrrp, Family::Ipv6, &other),
            Err(Error::Checksum)
        );
    }

    #[test]
    fn family_mismatch() {
        let f = fixture("v2_pass_vrid51_prio150");
        let (_, envelope, _) = envelope_of(f);
        let v6 = Envelope::Ipv6 {
            src: Ipv6Address::LOCALHOST,
            dst: IPV6_MULTICAST,
        };
        assert_eq!(
            parse_bytes(f.vrrp, Family::Ipv4, &v6),
            Err(Error::AddressFamily)
        );
        let packet = Packet::new_checked(f.vrrp, Family::Ipv4).unwrap();
        assert_eq!(packet.verify_checksum(&v6), None);
        let repr = parse(f);
        assert_eq!(emit_vec(&repr, &v6), Err(Error::AddressFamily));
        let mut buf = [0u8; 64];
        let mut wrong_view = Packet::new_unchecked(&mut buf[..], Family::Ipv6);
        assert_eq!(
            repr.emit(&mut wrong_view, &envelope),
            Err(Error::AddressFamily)
        );
    }

    #[test]
    fn kept_values_survive() {
        // Unknown auth types and AH are kept for the daemon to judge.
        let f = fixture("v2_pass_vrid51_prio150");
        for (raw, kind) in [
            (2u8, AuthType::IpAh),
            (3, AuthType::Unknown(3)),
            (255, AuthType::Unknown(255)),
        ] {
            let repr = corrupt(f, true, |b| b[4] = raw).unwrap();
            let Version::V2 { auth_type, .. } = repr.version else {
                panic!("not v2")
            };
            assert_eq!(auth_type, kind);
            assert_eq!(u8::from(auth_type), raw);
        }
        // v3 reserved bits are kept and emitted back as they came.
        let f = fixture("v3_ipv4_vrid53_prio200");
        let (_, envelope, _) = envelope_of(f);
        let mut bytes = f.vrrp.to_vec();
        bytes[4] |= 0xA0;
        Packet::new_unchecked(&mut bytes[..], Family::Ipv4)
            .fill_checksum(&envelope, ChecksumForm::PseudoHeader);
        let repr = Repr::parse(
            &Packet::new_checked(&bytes[..], Family::Ipv4).unwrap(),
            &envelope,
        )
        .unwrap();
        assert_eq!(
            repr.version,
            Version::V3 {
                reserved: 0xA,
                max_adver_int: 50,
            }
        );
        assert_eq!(emit_vec(&repr, &envelope).unwrap(), bytes);
        // A count of 0 is kept (keepalived allows instances without addresses).
        let repr = Repr {
            addresses: Addresses::ipv4(&[]),
            ..parse(f)
        };
        let bytes = emit_vec(&repr, &envelope).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(
            Repr::parse(
                &Packet::new_checked(&bytes[..], Family::Ipv4).unwrap(),
                &envelope
            ),
            Ok(repr)
        );
    }

    #[test]
    fn checksum_forms() {
        // v3 over IPv4 without the pseudo-header (v3_checksum_as_v2): accepted, reported.
        let f = fixture("v3_ipv4_vrid53_prio200");
        let (_, envelope, _) = envelope_of(f);
        let as_v2 = Repr {
            checksum: ChecksumForm::Message,
            ..parse(f)
        };
        let bytes = emit_vec(&as_v2, &envelope).unwrap();
        assert_ne!(bytes, f.vrrp);
        assert_eq!(bytes[..6], f.vrrp[..6]);
        let packet = Packet::new_checked(&bytes[..], Family::Ipv4).unwrap();
        assert_eq!(
            packet.verify_checksum(&envelope),
            Some(ChecksumForm::Message)
        );
        assert_eq!(Repr::parse(&packet, &envelope), Ok(as_v2));
        // The message-only form does not depend on the IP addresses.
        let other = Envelope::Ipv4 {
            src: Ipv4Address::new(192, 0, 2, 1),
            dst: Ipv4Address::new(192, 0, 2, 2),
        };
        assert_eq!(packet.verify_checksum(&other), Some(ChecksumForm::Message));

        // v3 over IPv6: only the pseudo-header form.
        let f = fixture("v3_ipv6_vrid54_prio120");
        let (_, envelope, _) = envelope_of(f);
        let repr = Repr {
            checksum: ChecksumForm::Message,
            ..parse(f)
        };
        assert_eq!(emit_vec(&repr, &envelope), Err(Error::ChecksumForm));
        let mut bytes = f.vrrp.to_vec();
        Packet::new_unchecked(&mut bytes[..], Family::Ipv6)
            .fill_checksum(&envelope, ChecksumForm::Message);
        assert_eq!(
            parse_bytes(&bytes, Family::Ipv6, &envelope),
            Err(Error::Checksum)
        );

        // v2: only the message form.
        let f = fixture("v2_pass_vrid51_prio150");
        let (_, envelope, _) = envelope_of(f);
        let repr = Repr {
            checksum: ChecksumForm::PseudoHeader,
            ..parse(f)
        };
        assert_eq!(emit_vec(&repr, &envelope), Err(Error::ChecksumForm));
        let mut bytes = f.vrrp.to_vec();
        Packet::new_unchecked(&mut bytes[..], Family::Ipv4)
            .fill_checksum(&envelope, ChecksumForm::PseudoHeader);
        assert_eq!(
            parse_bytes(&bytes, Family::Ipv4, &envelope),
            Err(Error::Checksum)
        );
    }

    #[test]
    fn emit_checks_every_field() {
        let f = fixture("v3_ipv4_vrid53_prio200");
        let (_, envelope, _) = envelope_of(f);
        let good = parse(f);
        let with = |version| Repr { version, ..good };
        assert_eq!(
            emit_vec(&Repr { vrid: 0, ..good }, &envelope),
            Err(Error::Vrid)
        );
        for max_adver_int in [0, MAX_ADVER_INT_V3 + 1, u16::MAX] {
            let r = with(Version::V3 {
                reserved: 0,
                max_adver_int,
            });
            assert_eq!(emit_vec(&r, &envelope), Err(Error::AdverInt));
        }
        let r = with(Version::V3 {
            reserved: 0x10,
            max_adver_int: 100,
        });
        assert_eq!(emit_vec(&r, &envelope), Err(Error::Reserved));
        let r = with(Version::V2 {
            auth_type: AuthType::None,
            adver_int: 0,
            auth_data: [0; 8],
        });
        assert_eq!(emit_vec(&r, &envelope), Err(Error::AdverInt));
        let many = [Ipv4Address::new(10, 0, 0, 1); 256];
        let r = Repr {
            addresses: Addresses::ipv4(&many),
            ..good
        };
        assert_eq!(emit_vec(&r, &envelope), Err(Error::TooManyAddresses));
        let r = Repr {
            addresses: Addresses::ipv4(&many[..255]),
            ..good
        };
        let bytes = emit_vec(&r, &envelope).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + 255 * 4);
        assert_eq!(parse_bytes(&bytes, Family::Ipv4, &envelope), Ok(()));
        // v2 with IPv6 addresses.
        let six = [IPV6_MULTICAST];
        let r = Repr {
            addresses: Addresses::ipv6(&six),
            version: Version::V2 {
                auth_type: AuthType::None,
                adver_int: 1,
                auth_data: [0; 8],
            },
            checksum: ChecksumForm::Message,
            ..good
        };
        let v6 = Envelope::Ipv6 {
            src: Ipv6Address::LOCALHOST,
            dst: IPV6_MULTICAST,
        };
        assert_eq!(emit_vec(&r, &v6), Err(Error::AddressFamily));
        // Every buffer shorter than buffer_len.
        for len in 0..good.buffer_len() {
            let mut buf = std::vec![0u8; len];
            let mut packet = Packet::new_unchecked(&mut buf[..], Family::Ipv4);
            assert_eq!(good.emit(&mut packet, &envelope), Err(Error::Truncated));
        }
    }

    #[test]
    fn repr_stays_small() {
        // Borrowed addresses: no 4 KiB array of IPv6 addresses inside.
        assert!(core::mem::size_of::<Repr<'_>>() <= 48);
    }

    #[test]
    fn addresses_from_wire() {
        assert_eq!(
            Addresses::from_wire(Family::Ipv4, &[0; 7]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Addresses::from_wire(Family::Ipv6, &[0; 20]).err(),
            Some(Error::Truncated)
        );
        let a = Addresses::from_wire(Family::Ipv4, &[10, 0, 0, 1, 10, 0, 0, 2]).unwrap();
        let typed = [Ipv4Address::new(10, 0, 0, 1), Ipv4Address::new(10, 0, 0, 2)];
        assert_eq!(a, Addresses::ipv4(&typed));
        assert_ne!(a, Addresses::ipv4(&typed[..1]));
        assert_eq!(a.iter().len(), 2);
        assert_eq!(a.get(2), None);
        let empty6 = Addresses::ipv6(&[]);
        assert!(empty6.is_empty());
        assert_ne!(empty6, Addresses::ipv4(&[]));
    }

    #[test]
    fn error_display() {
        use std::string::ToString;
        assert_eq!(
            Error::Version(4).to_string(),
            "VRRP version 4 (expected 2 or 3)"
        );
        assert_eq!(
            Error::Type(2).to_string(),
            "VRRP packet type 2 (expected 1, advertisement)"
        );
    }

    fn envelope_strategy() -> impl Strategy<Value = Envelope> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(s, d)| Envelope::Ipv4 {
                src: s.into(),
                dst: d.into(),
            }),
            (any::<[u8; 16]>(), any::<[u8; 16]>()).prop_map(|(s, d)| Envelope::Ipv6 {
                src: s.into(),
                dst: d.into(),
            }),
        ]
    }

    fn version_strategy() -> impl Strategy<Value = Version> {
        prop_oneof![
            (any::<u8>(), 1u8..=255, any::<[u8; 8]>()).prop_map(|(a, adver_int, auth_data)| {
                Version::V2 {
                    auth_type: AuthType::from(a),
                    adver_int,
                    auth_data,
                }
            }),
            (0u8..=15, 1u16..=MAX_ADVER_INT_V3).prop_map(|(reserved, max_adver_int)| Version::V3 {
                reserved,
                max_adver_int,
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            envelope in envelope_strategy(),
            ipv6_view in any::<bool>(),
        ) {
            let family = if ipv6_view { Family::Ipv6 } else { Family::Ipv4 };
            let _ = parse_bytes(&bytes, family, &envelope);
            if let Ok(packet) = Packet::new_checked(&bytes[..], family) {
                let _ = (packet.version(), packet.msg_type(), packet.vrid(), packet.priority());
                let _ = (packet.auth_type(), packet.adver_int(), packet.reserved());
                let _ = (packet.max_adver_int(), packet.checksum(), packet.addresses());
                let _ = (packet.auth_data(), packet.message(), packet.verify_checksum(&envelope));
            }
            let _ = parse_ipv4(&bytes);
        }

        #[test]
        fn header_bytes_with_valid_checksum_never_panic(
            head in any::<[u8; 8]>(),
            tail in proptest::collection::vec(any::<u8>(), 0..80),
            envelope in envelope_strategy(),
        ) {
            // Random headers with a correct checksum reach the deeper checks.
            let family = envelope.family();
            let mut bytes = head.to_vec();
            bytes.extend_from_slice(&tail);
            for form in [ChecksumForm::Message, ChecksumForm::PseudoHeader] {
                Packet::new_unchecked(&mut bytes[..], family).fill_checksum(&envelope, form);
                let _ = parse_bytes(&bytes, family, &envelope);
            }
        }

        #[test]
        fn emit_then_parse_is_identity(
            vrid in 1u8..=255,
            priority in any::<u8>(),
            version in version_strategy(),
            envelope in envelope_strategy(),
            raw4 in proptest::collection::vec(any::<[u8; 4]>(), 0..40),
            raw6 in proptest::collection::vec(any::<[u8; 16]>(), 0..20),
            prefer_message in any::<bool>(),
        ) {
            let family = envelope.family();
            prop_assume!(!(family == Family::Ipv6 && version.number() == 2));
            let list4: Vec<Ipv4Address> = raw4.into_iter().map(Ipv4Address::from).collect();
            let list6: Vec<Ipv6Address> = raw6.into_iter().map(Ipv6Address::from).collect();
            let addresses = match family {
                Family::Ipv4 => Addresses::ipv4(&list4),
                Family::Ipv6 => Addresses::ipv6(&list6),
            };
            let forms = ChecksumForm::allowed(version.number(), family);
            let checksum = if prefer_message && forms.contains(&ChecksumForm::Message) {
                ChecksumForm::Message
            } else {
                forms[0]
            };
            let repr = Repr { vrid, priority, version, addresses, checksum };
            let bytes = emit_vec(&repr, &envelope).unwrap();
            prop_assert_eq!(bytes.len(), repr.buffer_len());
            let packet = Packet::new_checked(&bytes[..], family).unwrap();
            let parsed = Repr::parse(&packet, &envelope).unwrap();
            // A checksum can match both forms by chance; the RFC form is reported first.
            let mut expected = repr;
            if parsed.checksum != repr.checksum {
                prop_assert_eq!(packet.verify_checksum(&envelope), Some(parsed.checksum));
                expected.checksum = parsed.checksum;
            }
            prop_assert_eq!(parsed, expected);
            // And emitting the parsed form gives the same bytes.
            if parsed.checksum == repr.checksum {
                prop_assert_eq!(emit_vec(&parsed, &envelope).unwrap(), bytes);
            }
        }
    }
}
