//! `DNS_CHECK`: one query over UDP (`type`, default SOA; `name`, default
//! `.`), with recursion desired; the answer must carry the query's id, be
//! a response (QR) to a standard query, echo the question, and have RCODE 0
//! (RFC 1035 §4.1).
//!
//! ```text
//!  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//! |                      ID                       |
//! |QR|  Opcode   |AA|TC|RD|RA|   Z    |   RCODE   |
//! |                    QDCOUNT                    |
//! |                    ANCOUNT                    |
//! |                    NSCOUNT                    |
//! |                    ARCOUNT                    |
//! ```

use crate::config::lvs::DnsType;

use super::{Failure, Step, Verdict};

/// Bytes of the DNS header.
pub const HEADER_LEN: usize = 12;
/// Class IN.
const CLASS_IN: u16 = 1;
/// Flags of the query: RD.
const FLAG_RD: u16 = 0x0100;

/// The wire value of a query type.
pub fn qtype(t: DnsType) -> u16 {
    match t {
        DnsType::A => 1,
        DnsType::Ns => 2,
        DnsType::Cname => 5,
        DnsType::Soa => 6,
        DnsType::Mx => 15,
        DnsType::Txt => 16,
        DnsType::Aaaa => 28,
    }
}

/// Writes `name` (dotted, `.` or empty for the root) as labels; their
/// length, or `None` when it does not fit or a label is empty or too long.
fn write_name(name: &str, out: &mut [u8]) -> Option<usize> {
    let mut at = 0;
    let name = name.strip_suffix('.').unwrap_or(name);
    if !name.is_empty() {
        for label in name.split('.') {
            let len = u8::try_from(label.len())
                .ok()
                .filter(|l| (1..=63).contains(l))?;
            *out.get_mut(at)? = len;
            out.get_mut(at + 1..at + 1 + label.len())?
                .copy_from_slice(label.as_bytes());
            at += 1 + label.len();
        }
    }
    *out.get_mut(at)? = 0;
    (at < 255).then_some(at + 1)
}

/// Writes a query for `name`/`kind` with `id` into `out`; its length.
pub fn write_query(out: &mut [u8], id: u16, name: &str, kind: DnsType) -> Option<usize> {
    let head = out.get_mut(..HEADER_LEN)?;
    head.fill(0);
    head[0..2].copy_from_slice(&id.to_be_bytes());
    head[2..4].copy_from_slice(&FLAG_RD.to_be_bytes());
    head[4..6].copy_from_slice(&1u16.to_be_bytes());
    let n = write_name(name, out.get_mut(HEADER_LEN..)?)?;
    let at = HEADER_LEN + n;
    let tail = out.get_mut(at..at + 4)?;
    tail[0..2].copy_from_slice(&qtype(kind).to_be_bytes());
    tail[2..4].copy_from_slice(&CLASS_IN.to_be_bytes());
    Some(at + 4)
}

/// Why a datagram is not the answer to the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// Shorter than a header and the question.
    Short,
    /// Another query's answer (or a stray datagram): ignored, not a failure.
    Id,
    /// Not a response to a standard query, or the question differs.
    Malformed,
    /// RCODE is not 0.
    Rcode(u8),
}

/// Checks `buf` as the answer to the query `query` (the bytes sent).
pub fn check_answer(buf: &[u8], query: &[u8]) -> Result<(), AnswerError> {
    if buf.len() < HEADER_LEN || query.len() < HEADER_LEN {
        return Err(AnswerError::Short);
    }
    if buf.get(0..2) != query.get(0..2) {
        return Err(AnswerError::Id);
    }
    let flags = u16::from_be_bytes([buf[2], buf[3]]);
    let qr = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    if !qr || opcode != 0 {
        return Err(AnswerError::Malformed);
    }
    // The question must come back as asked (names compared without case).
    let question = query.get(HEADER_LEN..).unwrap_or(&[]);
    if buf.get(4..6) != Some(&[0, 1]) {
        return Err(AnswerError::Malformed);
    }
    let echoed = buf
        .get(HEADER_LEN..HEADER_LEN + question.len())
        .ok_or(AnswerError::Short)?;
    if !echoed.eq_ignore_ascii_case(question) {
        return Err(AnswerError::Malformed);
    }
    let rcode = (flags & 0xf) as u8;
    if rcode != 0 {
        return Err(AnswerError::Rcode(rcode));
    }
    Ok(())
}

/// One query in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Its id.
    pub id: u16,
}

impl Query {
    /// "Connected": send the query.
    pub(crate) fn on_connected(&mut self) -> Step {
        Step::Send
    }

    /// A datagram; `query` is the query as [`write_query`] writes it.
    pub(crate) fn on_datagram(&mut self, buf: &[u8], query: &[u8]) -> Step {
        match check_answer(buf, query) {
            Ok(()) => Step::Done(Verdict::Success),
            // A late answer to an earlier query: keep waiting.
            Err(AnswerError::Id) => Step::Wait,
            Err(AnswerError::Rcode(r)) => Step::Done(Verdict::Failure(Failure::Rcode(r))),
            Err(_) => Step::Done(Verdict::Failure(Failure::Garbage)),
        }
    }
}
