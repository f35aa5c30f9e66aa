//! Netlink framing (`linux/netlink.h`): the 16-byte message header, the
//! control messages `NLMSG_ERROR` (error or acknowledgement) and
//! `NLMSG_DONE`, a walk over the several messages one `recv` returns, and
//! the route attributes (`struct rtattr` / `struct nlattr`) that follow a
//! family header.
//!
//! - [`Packet`] is a zero-copy view of one message; [`Repr`] its header.
//! - [`Messages`] walks a receive buffer message by message.
//! - [`ErrorRepr`] is the payload of an `NLMSG_ERROR` message (`error` 0 is
//!   the acknowledgement a request with [`NLM_F_ACK`] gets).
//! - [`Attributes`] walks a block of attributes, borrowing their values;
//!   [`emit_attribute`] writes one.
//!
//! Every multi-byte field is in **host byte order**, as netlink has it; picket
//! runs on little- and big-endian boards alike, so the accessors use
//! `from_ne_bytes` / `to_ne_bytes`.
//!
//! **Indexing.** Accessors of the fixed header index the buffer directly:
//! that is safe once [`Packet::new_checked`] has succeeded (the buffer holds
//! [`HEADER_LEN`] bytes and `nlmsg_len` bytes), and is the caller's promise
//! with [`Packet::new_unchecked`]. The payload and the attributes are reached
//! with `get`, so they never panic. Nothing else in this module indexes
//! without a check.
//!
//! Walkers ([`Messages`], [`Attributes`]) always advance, refuse lengths
//! that cannot be right (a message shorter than its header, an attribute
//! shorter than 4 bytes, either longer than what is left), yield that error
//! once and then stop. Unknown message and attribute kinds are yielded as
//! they are, for the caller to skip.

use core::fmt;

/// Bytes of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;
/// Bytes of an attribute header (`struct rtattr`: length u16, type u16).
pub const ATTRIBUTE_HEADER_LEN: usize = 4;
/// Alignment of messages and attributes (`NLMSG_ALIGNTO`, `RTA_ALIGNTO`).
pub const ALIGNTO: usize = 4;

/// Message type: nothing; to be skipped.
pub const NLMSG_NOOP: u16 = 1;
/// Message type: error or acknowledgement ([`ErrorRepr`]).
pub const NLMSG_ERROR: u16 = 2;
/// Message type: end of a multipart dump.
pub const NLMSG_DONE: u16 = 3;
/// Message type: data lost.
pub const NLMSG_OVERRUN: u16 = 4;

/// Flag: the message is a request.
pub const NLM_F_REQUEST: u16 = 0x01;
/// Flag: part of a multipart reply, ended by [`NLMSG_DONE`].
pub const NLM_F_MULTI: u16 = 0x02;
/// Flag: reply with an acknowledgement (an [`NLMSG_ERROR`] with error 0).
pub const NLM_F_ACK: u16 = 0x04;
/// Flag: dump request (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;

/// Attribute type bit: the value is itself a block of attributes.
pub const NLA_F_NESTED: u16 = 0x8000;
/// Attribute type bit: the value is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
/// Mask of the attribute kind without the two flag bits.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// `len` rounded up to the netlink alignment of 4 (`NLMSG_ALIGN`, `RTA_ALIGN`).
///
/// Saturates instead of overflowing, so a hostile length never wraps.
pub const fn align(len: usize) -> usize {
    match len.checked_add(ALIGNTO - 1) {
        Some(n) => n & !(ALIGNTO - 1),
        None => usize::MAX & !(ALIGNTO - 1),
    }
}

/// Byte offsets of `struct nlmsghdr`.
mod field {
    use core::ops::Range;
    /// `nlmsg_len`: bytes of the message including this header.
    pub const LEN: Range<usize> = 0..4;
    /// `nlmsg_type`.
    pub const TYPE: Range<usize> = 4..6;
    /// `nlmsg_flags`.
    pub const FLAGS: Range<usize> = 6..8;
    /// `nlmsg_seq`.
    pub const SEQ: Range<usize> = 8..12;
    /// `nlmsg_pid`: the sender's port id (0 for the kernel).
    pub const PID: Range<usize> = 12..16;
}

/// Errors of parsing or emitting netlink framing.
///
/// `Truncated`, `Length` and `AttributeLength` are malformed input from the
/// kernel (or a bug in the socket layer); `BufferTooSmall` is a local bug —
/// the caller's buffer is shorter than the message it asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than a header, or than the length it announces.
    Truncated,
    /// `nlmsg_len` is smaller than [`HEADER_LEN`] (the value is kept).
    Length(u32),
    /// An attribute length is smaller than [`ATTRIBUTE_HEADER_LEN`] (the
    /// value is kept).
    AttributeLength(u16),
    /// Emit: the output buffer is too small (the bytes needed are kept).
    BufferTooSmall(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("netlink message truncated"),
            Error::Length(n) => write!(f, "netlink message length {n} below the 16-byte header"),
            Error::AttributeLength(n) => {
                write!(f, "netlink attribute length {n} below the 4-byte header")
            }
            Error::BufferTooSmall(n) => write!(f, "netlink output buffer needs {n} bytes"),
        }
    }
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// A read/write view of one netlink message.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          nlmsg_len                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          nlmsg_type           |          nlmsg_flags          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          nlmsg_seq                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          nlmsg_pid                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  payload (nlmsg_len - 16 bytes)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The buffer may be longer than the message (the rest of a `recv`);
/// [`Packet::payload`] ends at `nlmsg_len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it; header accessors panic if it is
    /// shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`Packet::check_len`]; no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds a header, that `nlmsg_len` is at least
    /// [`HEADER_LEN`] and that the buffer holds `nlmsg_len` bytes.
    pub fn check_len(&self) -> Result<(), Error> {
        let bytes = self.buffer.as_ref();
        let len = read_u32(bytes, field::LEN.start).ok_or(Error::Truncated)?;
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if (len as usize) < HEADER_LEN {
            return Err(Error::Length(len));
        }
        if len as usize > bytes.len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// `nlmsg_len`: bytes of the message, header included.
    pub fn len(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::LEN];
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Whether `nlmsg_len` is 0 (never true after [`Packet::new_checked`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `nlmsg_type`.
    pub fn message_type(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::TYPE];
        u16::from_ne_bytes([b[0], b[1]])
    }

    /// `nlmsg_flags`.
    pub fn flags(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::FLAGS];
        u16::from_ne_bytes([b[0], b[1]])
    }

    /// `nlmsg_seq`.
    pub fn sequence(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SEQ];
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }

    /// `nlmsg_pid`: the sender's port id (0 for the kernel).
    pub fn port_id(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::PID];
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload: bytes `16..nlmsg_len`, borrowed from the buffer. Empty if
    /// `nlmsg_len` does not fit (impossible after [`Packet::new_checked`]).
    pub fn payload(&self) -> &'a [u8] {
        let bytes = self.buffer.as_ref();
        bytes.get(HEADER_LEN..self.len() as usize).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets `nlmsg_len`.
    pub fn set_len(&mut self, value: u32) {
        self.buffer.as_mut()[field::LEN].copy_from_slice(&value.to_ne_bytes());
    }

    /// Sets `nlmsg_type`.
    pub fn set_message_type(&mut self, value: u16) {
        self.buffer.as_mut()[field::TYPE].copy_from_slice(&value.to_ne_bytes());
    }

    /// Sets `nlmsg_flags`.
    pub fn set_flags(&mut self, value: u16) {
        self.buffer.as_mut()[field::FLAGS].copy_from_slice(&value.to_ne_bytes());
    }

    /// Sets `nlmsg_seq`.
    pub fn set_sequence(&mut self, value: u32) {
        self.buffer.as_mut()[field::SEQ].copy_from_slice(&value.to_ne_bytes());
    }

    /// Sets `nlmsg_pid`.
    pub fn set_port_id(&mut self, value: u32) {
        self.buffer.as_mut()[field::PID].copy_from_slice(&value.to_ne_bytes());
    }
}

/// A netlink message header, parsed or to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// `nlmsg_type` (e.g. [`NLMSG_ERROR`], `RTM_NEWADDR`).
    pub message_type: u16,
    /// `nlmsg_flags` (`NLM_F_*`).
    pub flags: u16,
    /// `nlmsg_seq`: chosen by the requester, echoed in the reply.
    pub sequence: u32,
    /// `nlmsg_pid`: the sender's port id; 0 lets the kernel fill it in.
    pub port_id: u32,
    /// Bytes of payload after the header (unaligned).
    pub payload_len: usize,
}

impl Repr {
    /// Parses the header of a checked message.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, Error> {
        packet.check_len()?;
        Ok(Repr {
            message_type: packet.message_type(),
            flags: packet.flags(),
            sequence: packet.sequence(),
            port_id: packet.port_id(),
            payload_len: packet.len() as usize - HEADER_LEN,
        })
    }

    /// Bytes of the whole message (`nlmsg_len`): header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buffer`,
    /// with `nlmsg_len` = [`Repr::buffer_len`]. The payload is the caller's.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<(), Error> {
        let len = self.buffer_len();
        let len32 = u32::try_from(len).map_err(|_| Error::BufferTooSmall(len))?;
        let header = buffer
            .get_mut(..HEADER_LEN)
            .ok_or(Error::BufferTooSmall(HEADER_LEN))?;
        let mut packet = Packet::new_unchecked(header);
        packet.set_len(len32);
        packet.set_message_type(self.message_type);
        packet.set_flags(self.flags);
        packet.set_sequence(self.sequence);
        packet.set_port_id(self.port_id);
        Ok(())
    }
}

/// The payload of an [`NLMSG_ERROR`] message: a negative errno (0 for an
/// acknowledgement) and the header of the request it answers.
///
/// ```text
/// +-------------------+----------------------------------------------+
/// | error: i32        | original nlmsghdr (16 bytes) [+ payload/ext] |
/// +-------------------+----------------------------------------------+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorRepr {
    /// `error` as the kernel sends it: 0, or a negative errno.
    pub error: i32,
    /// The header of the request this answers (its `payload_len` is that of
    /// the request, which the reply need not carry in full).
    pub request: Repr,
}

impl ErrorRepr {
    /// Parses the payload of an [`NLMSG_ERROR`] message.
    ///
    /// The request header is read field by field: its `nlmsg_len` describes
    /// the request, not this reply (the kernel caps the echo), so it is not
    /// checked against the bytes present — only that it is at least 16.
    pub fn parse(payload: &[u8]) -> Result<ErrorRepr, Error> {
        let error = read_u32(payload, 0).ok_or(Error::Truncated)? as i32;
        let header = payload.get(4..4 + HEADER_LEN).ok_or(Error::Truncated)?;
        let packet = Packet::new_unchecked(header);
        let len = packet.len();
        if (len as usize) < HEADER_LEN {
            return Err(Error::Length(len));
        }
        Ok(ErrorRepr {
            error,
            request: Repr {
                message_type: packet.message_type(),
                flags: packet.flags(),
                sequence: packet.sequence(),
                port_id: packet.port_id(),
                payload_len: len as usize - HEADER_LEN,
            },
        })
    }

    /// Whether this is an acknowledgement (error 0).
    pub const fn is_ack(&self) -> bool {
        self.error == 0
    }

    /// The positive errno of a failure (`EEXIST` = 17 …), `None` for an ack.
    pub const fn errno(&self) -> Option<i32> {
        if self.error == 0 {
            None
        } else {
            Some(self.error.saturating_neg())
        }
    }
}

/// What one message of a reply means to a requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control<'a> {
    /// [`NLMSG_ERROR`]: an acknowledgement or an error for a request.
    Error(ErrorRepr),
    /// [`NLMSG_DONE`]: the end of a dump.
    Done,
    /// [`NLMSG_NOOP`] or [`NLMSG_OVERRUN`] (the type is kept).
    Other(u16),
    /// Any other type: data (e.g. `RTM_NEWADDR`), with its header and payload.
    Data(Repr, &'a [u8]),
}

impl<'a> Control<'a> {
    /// Classifies a checked message.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Control<'a>, Error> {
        let repr = Repr::parse(packet)?;
        Ok(match repr.message_type {
            NLMSG_ERROR => Control::Error(ErrorRepr::parse(packet.payload())?),
            NLMSG_DONE => Control::Done,
            t @ (NLMSG_NOOP | NLMSG_OVERRUN) => Control::Other(t),
            _ => Control::Data(repr, packet.payload()),
        })
    }
}

/// Walks the messages of one receive buffer.
///
/// Each step yields a checked [`Packet`] and advances by `NLMSG_ALIGN(nlmsg_len)`
/// (at least 16 bytes, so it always advances); a malformed message is yielded
/// as an error once, then the walk ends.
#[derive(Clone, Debug)]
pub struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    /// Walks `buffer` (the bytes one `recv` returned).
    pub const fn new(buffer: &'a [u8]) -> Messages<'a> {
        Messages { rest: buffer }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Packet<&'a [u8]>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        match Packet::new_checked(rest) {
            Ok(packet) => {
                let len = packet.len() as usize;
                let step = align(len).min(rest.len());
                self.rest = rest.get(step..).unwrap_or(&[]);
                Some(Ok(Packet::new_unchecked(rest.get(..len).unwrap_or(&[]))))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// One attribute: its type and its value, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Attribute<'a> {
    /// `rta_type` as sent, flag bits included; see [`Attribute::kind`].
    pub raw_kind: u16,
    /// The value (`rta_len - 4` bytes, without padding).
    pub value: &'a [u8],
}

impl<'a> Attribute<'a> {
    /// The attribute kind without [`NLA_F_NESTED`] / [`NLA_F_NET_BYTEORDER`].
    pub const fn kind(&self) -> u16 {
        self.raw_kind & NLA_TYPE_MASK
    }

    /// The value as a host-order `u32`, if it is exactly 4 bytes.
    pub fn as_u32(&self) -> Option<u32> {
        match self.value {
            [a, b, c, d] => Some(u32::from_ne_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }
}

/// Walks a block of attributes (`struct rtattr`), borrowing the values.
///
/// ```text
/// +---------------+---------------+----------------------+---------+
/// | rta_len: u16  | rta_type: u16 | value (rta_len - 4)  | pad → 4 |
/// +---------------+---------------+----------------------+---------+
/// ```
///
/// Always advances (by `RTA_ALIGN(rta_len)`, at least 4); an attribute
/// shorter than its header or longer than what is left, or 1–3 stray bytes
/// at the end, are yielded as an error once and end the walk. Unknown kinds
/// are yielded as they are.
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Attributes<'a> {
    /// Walks `block` (the bytes after a family header).
    pub const fn new(block: &'a [u8]) -> Attributes<'a> {
        Attributes { rest: block }
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        // On any error the walk ends.
        self.rest = &[];
        let (Some(len), Some(raw_kind)) = (read_u16(rest, 0), read_u16(rest, 2)) else {
            return Some(Err(Error::Truncated));
        };
        let n = len as usize;
        if n < ATTRIBUTE_HEADER_LEN {
            return Some(Err(Error::AttributeLength(len)));
        }
        let Some(value) = rest.get(ATTRIBUTE_HEADER_LEN..n) else {
            return Some(Err(Error::Truncated));
        };
        // The last attribute may come without its padding.
        let step = align(n).min(rest.len());
        self.rest = rest.get(step..).unwrap_or(&[]);
        Some(Ok(Attribute { raw_kind, value }))
    }
}

/// Bytes an attribute with a `value_len`-byte value takes, padding included.
pub const fn attribute_len(value_len: usize) -> usize {
    align(ATTRIBUTE_HEADER_LEN + value_len)
}

/// Writes one attribute (header, value, zero padding) at the start of
/// `buffer`, returning the bytes written ([`attribute_len`]).
pub fn emit_attribute(buffer: &mut [u8], kind: u16, value: &[u8]) -> Result<usize, Error> {
    let total = attribute_len(value.len());
    let rta_len = u16::try_from(ATTRIBUTE_HEADER_LEN + value.len())
        .map_err(|_| Error::BufferTooSmall(total))?;
    let out = buffer
        .get_mut(..total)
        .ok_or(Error::BufferTooSmall(total))?;
    out.fill(0);
    let (header, body) = out.split_at_mut(ATTRIBUTE_HEADER_LEN);
    header[0..2].copy_from_slice(&rta_len.to_ne_bytes());
    header[2..4].copy_from_slice(&kind.to_ne_bytes());
    body.get_mut(..value.len())
        .ok_or(Error::BufferTooSmall(total))?
        .copy_from_slice(value);
    Ok(total)
}

/// Writes one netlink message into a caller's buffer: the header, a fixed
/// family header, then attributes, possibly nested. Lengths (`nlmsg_len`,
/// each nest's `rta_len`) are patched in when known; nothing allocates.
///
/// ```text
/// [nlmsghdr][family header][attr][nest: [attr][attr]][attr]…
/// ```
///
/// Every method checks the room left and returns
/// [`Error::BufferTooSmall`] instead of writing past the end.
#[derive(Debug)]
pub struct MessageWriter<'a> {
    buffer: &'a mut [u8],
    len: usize,
}

impl<'a> MessageWriter<'a> {
    /// Starts a message of `message_type` with `flags` and `sequence` at the
    /// start of `buffer` (port id 0: the kernel fills it in).
    pub fn new(
        buffer: &'a mut [u8],
        message_type: u16,
        flags: u16,
        sequence: u32,
    ) -> Result<Self, Error> {
        Repr {
            message_type,
            flags,
            sequence,
            port_id: 0,
            payload_len: 0,
        }
        .emit(buffer)?;
        Ok(MessageWriter {
            buffer,
            len: HEADER_LEN,
        })
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether only the header is written (never: the header is 16 bytes).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends raw bytes padded to 4 (a family header, e.g. `genlmsghdr`).
    pub fn bytes(&mut self, value: &[u8]) -> Result<(), Error> {
        let total = align(value.len());
        let end = self
            .len
            .checked_add(total)
            .ok_or(Error::BufferTooSmall(usize::MAX))?;
        let out = self
            .buffer
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall(end))?;
        out.fill(0);
        if let Some(dst) = out.get_mut(..value.len()) {
            dst.copy_from_slice(value);
        }
        self.len = end;
        Ok(())
    }

    /// Appends one attribute.
    pub fn put(&mut self, kind: u16, value: &[u8]) -> Result<(), Error> {
        let rest = self
            .buffer
            .get_mut(self.len..)
            .ok_or(Error::BufferTooSmall(self.len))?;
        self.len += emit_attribute(rest, kind, value)
            .map_err(|_| Error::BufferTooSmall(self.len + attribute_len(value.len())))?;
        Ok(())
    }

    /// Appends a `u8` attribute.
    pub fn put_u8(&mut self, kind: u16, value: u8) -> Result<(), Error> {
        self.put(kind, &[value])
    }

    /// Appends a host-order `u16` attribute.
    pub fn put_u16(&mut self, kind: u16, value: u16) -> Result<(), Error> {
        self.put(kind, &value.to_ne_bytes())
    }

    /// Appends a host-order `u32` attribute.
    pub fn put_u32(&mut self, kind: u16, value: u32) -> Result<(), Error> {
        self.put(kind, &value.to_ne_bytes())
    }

    /// Opens a nested attribute of `kind`; returns where it starts, for
    /// [`MessageWriter::end_nest`].
    pub fn begin_nest(&mut self, kind: u16) -> Result<usize, Error> {
        let at = self.len;
        self.put(kind, &[])?;
        Ok(at)
    }

    /// Closes the nest opened at `at`: its length covers what was appended
    /// since.
    pub fn end_nest(&mut self, at: usize) -> Result<(), Error> {
        let n = self.len.checked_sub(at).ok_or(Error::BufferTooSmall(at))?;
        let n16 = u16::try_from(n).map_err(|_| Error::BufferTooSmall(n))?;
        let header = self
            .buffer
            .get_mut(at..at + 2)
            .ok_or(Error::BufferTooSmall(at + 2))?;
        header.copy_from_slice(&n16.to_ne_bytes());
        Ok(())
    }

    /// Sets `nlmsg_len` and returns the message's length: `&buffer[..len]`
    /// is the message.
    pub fn finish(self) -> Result<usize, Error> {
        let len32 = u32::try_from(self.len).map_err(|_| Error::BufferTooSmall(self.len))?;
        let header = self
            .buffer
            .get_mut(..HEADER_LEN)
            .ok_or(Error::BufferTooSmall(HEADER_LEN))?;
        Packet::new_unchecked(header).set_len(len32);
        Ok(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn header(len: u32, kind: u16, flags: u16, seq: u32, pid: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&pid.to_ne_bytes());
        v
    }

    #[test]
    fn header_round_trip() {
        let repr = Repr {
            message_type: 20,
            flags: NLM_F_REQUEST | NLM_F_ACK,
            sequence: 7,
            port_id: 0,
            payload_len: 8,
        };
        let mut buf = [0u8; 24];
        repr.emit(&mut buf).unwrap();
        assert_eq!(&buf[..16], &header(24, 20, 5, 7, 0)[..]);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet).unwrap(), repr);
        assert_eq!(packet.payload().len(), 8);
        assert_eq!(repr.emit(&mut [0u8; 15]), Err(Error::BufferTooSmall(16)));
    }

    #[test]
    fn truncated_header_at_every_length() {
        let full = header(16, NLMSG_DONE, 0, 1, 0);
        for n in 0..HEADER_LEN {
            assert_eq!(
                Packet::new_checked(&full[..n]).unwrap_err(),
                Error::Truncated,
                "{n}"
            );
            assert_eq!(ErrorRepr::parse(&full[..n]), Err(Error::Truncated));
            let mut walk = Messages::new(&full[..n]);
            if n == 0 {
                assert!(walk.next().is_none());
            } else {
                assert_eq!(walk.next().unwrap().unwrap_err(), Error::Truncated);
                assert!(walk.next().is_none());
            }
        }
        assert!(Packet::new_checked(&full[..]).is_ok());
    }

    #[test]
    fn bad_nlmsg_len() {
        for len in [0u32, 1, 15] {
            let b = header(len, NLMSG_DONE, 0, 0, 0);
            assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Length(len));
        }
        for len in [17u32, 100, u32::MAX] {
            let b = header(len, NLMSG_DONE, 0, 0, 0);
            assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Truncated);
            let mut walk = Messages::new(&b);
            assert_eq!(walk.next().unwrap().unwrap_err(), Error::Truncated);
            assert!(walk.next().is_none());
        }
    }

    #[test]
    fn ack_and_error() {
        // An ack for seq 9 of an RTM_NEWADDR request (capped: header only).
        let mut msg = header(36, NLMSG_ERROR, 0x100, 9, 0);
        msg.extend_from_slice(&0i32.to_ne_bytes());
        msg.extend_from_slice(&header(60, 20, 5, 9, 0));
        let packet = Packet::new_checked(&msg[..]).unwrap();
        let Control::Error(e) = Control::parse(&packet).unwrap() else {
            panic!("not an error message")
        };
        assert!(e.is_ack());
        assert_eq!(e.errno(), None);
        assert_eq!(e.request.sequence, 9);
        assert_eq!(e.request.message_type, 20);
        assert_eq!(e.request.payload_len, 44);

        // EEXIST.
        msg[16..20].copy_from_slice(&(-17i32).to_ne_bytes());
        let packet = Packet::new_checked(&msg[..]).unwrap();
        let Control::Error(e) = Control::parse(&packet).unwrap() else {
            panic!("not an error message")
        };
        assert_eq!(e.errno(), Some(17));

        // Error payload shorter than error + header.
        let mut short = header(24, NLMSG_ERROR, 0, 9, 0);
        short.extend_from_slice(&[0; 8]);
        let packet = Packet::new_checked(&short[..]).unwrap();
        assert_eq!(Control::parse(&packet), Err(Error::Truncated));
        assert_eq!(ErrorRepr::parse(&[0u8; 20]), Err(Error::Length(0)));
    }

    #[test]
    fn done_and_multiple_messages() {
        let mut buf = header(20, NLMSG_DONE, NLM_F_MULTI, 3, 0);
        buf.extend_from_slice(&0i32.to_ne_bytes());
        // A data message with an unaligned length 18 → next at 20 + 20.
        buf.extend_from_slice(&header(18, 20, 0, 0, 0));
        buf.extend_from_slice(&[1, 2, 0, 0]);
        buf.extend_from_slice(&header(16, NLMSG_NOOP, 0, 0, 0));
        let kinds: Vec<_> = Messages::new(&buf)
            .map(|m| {
                let m = m.unwrap();
                match Control::parse(&m).unwrap() {
                    Control::Done => 0,
                    Control::Data(r, p) => {
                        assert_eq!(p, &[1, 2]);
                        r.message_type
                    }
                    Control::Other(t) => t,
                    Control::Error(_) => 99,
                }
            })
            .collect();
        assert_eq!(kinds, [0, 20, NLMSG_NOOP]);
    }

    #[test]
    fn attributes_walk() {
        let mut block = [0u8; 64];
        let mut at = emit_attribute(&mut block, 2, &[10, 0, 0, 1]).unwrap();
        at += emit_attribute(&mut block[at..], 3, b"eth0\0").unwrap();
        at += emit_attribute(&mut block[at..], 0x1ff0 | NLA_F_NESTED, &[]).unwrap();
        assert_eq!(at, 8 + 12 + 4);
        assert_eq!(
            &block[8..20],
            &[9, 0, 3, 0, b'e', b't', b'h', b'0', 0, 0, 0, 0]
        );
        let attrs: Vec<_> = Attributes::new(&block[..at]).map(Result::unwrap).collect();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[0].as_u32(), Some(u32::from_ne_bytes([10, 0, 0, 1])));
        assert_eq!(attrs[1].value, b"eth0\0");
        assert_eq!(attrs[2].kind(), 0x1ff0);
        assert_eq!(attrs[2].raw_kind, 0x9ff0);
        // Last attribute without its padding.
        assert_eq!(Attributes::new(&block[8..17]).count(), 1);
        assert_eq!(
            emit_attribute(&mut [0u8; 7], 1, &[1]),
            Err(Error::BufferTooSmall(8))
        );
    }

    #[test]
    fn message_writer_nests_and_patches_lengths() {
        let mut buf = [0u8; 64];
        let mut w = MessageWriter::new(&mut buf, 0x20, NLM_F_REQUEST | NLM_F_ACK, 5).unwrap();
        w.bytes(&[1, 1]).unwrap();
        let nest = w.begin_nest(1).unwrap();
        w.put_u16(2, 7).unwrap();
        w.put_u8(3, 9).unwrap();
        w.end_nest(nest).unwrap();
        w.put_u32(4, 0xdead_beef).unwrap();
        let n = w.finish().unwrap();
        assert_eq!(n, 16 + 4 + 4 + 8 + 8 + 8);
        let p = Packet::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.len() as usize, n);
        assert_eq!(&p.payload()[..4], &[1, 1, 0, 0]);
        let top: Vec<_> = Attributes::new(&p.payload()[4..])
            .map(Result::unwrap)
            .collect();
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].value.len(), 16);
        let inner: Vec<_> = Attributes::new(top[0].value).map(Result::unwrap).collect();
        assert_eq!(inner[0].value, &7u16.to_ne_bytes());
        assert_eq!(inner[1].value, &[9]);
        assert_eq!(top[1].as_u32(), Some(0xdead_beef));
        // Out of room: an error, never a write past the end.
        let mut small = [0u8; 20];
        let mut w = MessageWriter::new(&mut small, 1, 0, 0).unwrap();
        assert!(w.put_u32(1, 1).is_err());
        assert!(MessageWriter::new(&mut [0u8; 8], 1, 0, 0).is_err());
    }

    #[test]
    fn attribute_lengths_0_2_huge() {
        for len in [0u16, 2, 3] {
            let mut block = Vec::new();
            block.extend_from_slice(&len.to_ne_bytes());
            block.extend_from_slice(&1u16.to_ne_bytes());
            block.extend_from_slice(&[8, 0, 2, 0, 1, 2, 3, 4]); // a good one after
            let mut walk = Attributes::new(&block);
            assert_eq!(walk.next(), Some(Err(Error::AttributeLength(len))));
            assert_eq!(walk.next(), None, "stops after the first error");
        }
        for len in [9u16, 100, u16::MAX] {
            let mut block = Vec::new();
            block.extend_from_slice(&len.to_ne_bytes());
            block.extend_from_slice(&1u16.to_ne_bytes());
            block.extend_from_slice(&[0; 4]);
            let mut walk = Attributes::new(&block);
            assert_eq!(walk.next(), Some(Err(Error::Truncated)));
            assert_eq!(walk.next(), None);
        }
        for stray in 1..4 {
            let mut walk = Attributes::new(&[4, 0, 1, 0, 0, 0, 0][..4 + stray]);
            assert!(walk.next().unwrap().is_ok());
            assert_eq!(walk.next(), Some(Err(Error::Truncated)));
            assert_eq!(walk.next(), None);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, .. ProptestConfig::default() })]

        #[test]
        fn messages_never_panic_and_advance(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut seen = 0usize;
            let mut errors = 0usize;
            for m in Messages::new(&bytes) {
                seen += 1;
                match m {
                    Ok(p) => {
                        prop_assert!(p.len() as usize >= HEADER_LEN);
                        let _ = Control::parse(&p);
                        for a in Attributes::new(p.payload()) { let _ = a; }
                    }
                    Err(_) => errors += 1,
                }
            }
            prop_assert!(errors <= 1);
            prop_assert!(seen <= bytes.len() / HEADER_LEN + 1);
        }

        #[test]
        fn attributes_never_panic_and_advance(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut seen = 0usize;
            let mut errors = 0usize;
            let mut total = 0usize;
            for a in Attributes::new(&bytes) {
                seen += 1;
                match a {
                    Ok(a) => total += ATTRIBUTE_HEADER_LEN + a.value.len(),
                    Err(_) => errors += 1,
                }
            }
            prop_assert!(errors <= 1);
            prop_assert!(total <= bytes.len());
            prop_assert!(seen <= bytes.len() / ATTRIBUTE_HEADER_LEN + 1);
        }
    }
}
