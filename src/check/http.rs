//! `HTTP_GET`: the request keepalived sends, a zero-copy parser of the
//! response head, body framing (`Content-Length`, chunked, or until close)
//! and the MD5 digest of the body as keepalived's `genhash` prints it.
//!
//! ```text
//! GET <path> HTTP/1.<0|1>\r\n
//! User-Agent: KeepAliveClient\r\n
//! [Connection: close\r\n]            (http_protocol 1.0C and 1.1)
//! Host: <virtualhost | ip:port | [ipv6]:port>\r\n
//! \r\n
//! ```
//!
//! The head must fit in the socket's receive buffer (`CHECK_RX_BYTES`);
//! the body is hashed as it arrives and never stored. The digest covers the
//! body bytes exactly as received after the head — chunk-size lines
//! included, as `genhash` does — up to the end the framing gives (the
//! last chunk, `Content-Length` bytes) or the close. Without a `digest`
//! the exchange ends as soon as the head is read.
//!
//! Every parser here takes bytes from the network: it never panics, never
//! indexes out of bounds, and says `Incomplete` or an error for anything
//! that is not a well-formed HTTP/1.x response.

use core::fmt::Write as _;
use core::net::SocketAddr;

use md5::{Digest, Md5};

use super::{Failure, SliceWriter, Step, Verdict};
use crate::config::lvs::{HttpVersion, StatusCodes};

/// keepalived's `User-Agent`.
pub const USER_AGENT: &str = "KeepAliveClient";

/// Why bytes are not (yet) a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// The blank line ending the head has not arrived yet.
    Incomplete,
    /// The first line is not `HTTP/1.x NNN ...`.
    StatusLine,
    /// A header line has no `name:` (or a bad name).
    Header,
    /// `Content-Length` is not a number, or two disagree.
    ContentLength,
}

/// A parsed response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The `x` of `HTTP/1.x`.
    pub minor: u8,
    /// The status code, 100..=999.
    pub status: u16,
    /// `Content-Length`, if given.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked` (it then wins over `Content-Length`).
    pub chunked: bool,
    /// Bytes of the head, the blank line included.
    pub len: usize,
}

/// Where the head ends: the index after its blank line (`\r\n\r\n`, or a
/// bare `\n\n`).
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match buf.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') if buf.get(i + 2) == Some(&b'\n') => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    s.get(start..end.max(start)).unwrap_or(&[])
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

/// The status line: `HTTP/1.<digit> <3 digits>[ reason]`.
fn status_line(line: &[u8]) -> Option<(u8, u16)> {
    let line = trim(line);
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (&minor, rest) = rest.split_first()?;
    if !minor.is_ascii_digit() {
        return None;
    }
    let rest = rest.strip_prefix(b" ")?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|c| *c != b' ') {
        return None;
    }
    let status = code
        .iter()
        .fold(0u16, |acc, c| acc * 10 + u16::from(c - b'0'));
    (status >= 100).then_some((minor - b'0', status))
}

fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

impl ResponseHead {
    /// Parses the head at the start of `buf` (zero-copy).
    pub fn parse(buf: &[u8]) -> Result<ResponseHead, HeadError> {
        let Some(end) = head_end(buf) else {
            // A first line already wrong is wrong whatever follows.
            if let Some(nl) = buf.iter().position(|c| *c == b'\n')
                && status_line(buf.get(..nl).unwrap_or(&[])).is_none()
            {
                return Err(HeadError::StatusLine);
            }
            if buf.len() >= 8 && !buf.starts_with(b"HTTP/1.") {
                return Err(HeadError::StatusLine);
            }
            return Err(HeadError::Incomplete);
        };
        let head = buf.get(..end).unwrap_or(&[]);
        let mut lines = head.split(|c| *c == b'\n');
        let (minor, status) = lines
            .next()
            .and_then(status_line)
            .ok_or(HeadError::StatusLine)?;
        let mut content_length = None;
        let mut chunked = false;
        for line in lines {
            let line = trim(line);
            if line.is_empty() {
                continue;
            }
            let colon = line
                .iter()
                .position(|c| *c == b':')
                .ok_or(HeadError::Header)?;
            let (name, value) = line.split_at(colon);
            if name.is_empty() || !name.iter().all(|c| is_token(*c)) {
                return Err(HeadError::Header);
            }
            let value = trim(value.get(1..).unwrap_or(&[]));
            if name.eq_ignore_ascii_case(b"content-length") {
                let n = parse_u64(value).ok_or(HeadError::ContentLength)?;
                if content_length.is_some_and(|c| c != n) {
                    return Err(HeadError::ContentLength);
                }
                content_length = Some(n);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                let last = value.rsplit(|c| *c == b',').next().map(trim).unwrap_or(&[]);
                chunked = last.eq_ignore_ascii_case(b"chunked");
            }
        }
        Ok(ResponseHead {
            minor,
            status,
            content_length,
            chunked,
            len: end,
        })
    }
}

/// A chunked body that breaks the framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadChunk;

/// The chunked framing (RFC 9112 §7.1), followed byte by byte: where the
/// body ends. Chunk extensions and trailers are skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunked {
    /// Reading the hex size (`digits` read so far).
    Size {
        /// The size so far.
        size: u64,
        /// Hex digits read.
        digits: u8,
    },
    /// After the size: an extension, up to the line end.
    Extension {
        /// The chunk's size.
        size: u64,
    },
    /// Inside a chunk's data.
    Data {
        /// Bytes left.
        left: u64,
    },
    /// After a chunk's data: its CRLF.
    DataEnd {
        /// Whether the CR was seen.
        cr: bool,
    },
    /// After the last (zero) chunk: trailer lines until an empty one.
    Trailer {
        /// Bytes in the current trailer line (CR excluded).
        line: u32,
    },
    /// The body is complete.
    Done,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked::Size { size: 0, digits: 0 }
    }
}

impl Chunked {
    /// Reads `data`; returns how many bytes belong to the body (all, or up
    /// to the end of the last chunk), or `Err` on a framing error.
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, BadChunk> {
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            *self = match *self {
                Chunked::Done => return Ok(i),
                Chunked::Size { size, digits } => match c {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' if digits < 15 => {
                        let d = u64::from((c as char).to_digit(16).unwrap_or(0));
                        Chunked::Size {
                            size: size * 16 + d,
                            digits: digits + 1,
                        }
                    }
                    b';' | b' ' | b'\t' | b'\r' if digits > 0 => Chunked::Extension { size },
                    b'\n' if digits > 0 => Self::after_size(size),
                    _ => return Err(BadChunk),
                },
                Chunked::Extension { size } => {
                    if c == b'\n' {
                        Self::after_size(size)
                    } else {
                        Chunked::Extension { size }
                    }
                }
                Chunked::Data { left } => {
                    let n = (data.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                    i += n;
                    let left = left - n as u64;
                    *self = if left == 0 {
                        Chunked::DataEnd { cr: false }
                    } else {
                        Chunked::Data { left }
                    };
                    continue;
                }
                Chunked::DataEnd { cr } => match (cr, c) {
                    (false, b'\r') => Chunked::DataEnd { cr: true },
                    (_, b'\n') => Chunked::Size { size: 0, digits: 0 },
                    _ => return Err(BadChunk),
                },
                Chunked::Trailer { line } => match c {
                    b'\n' if line == 0 => Chunked::Done,
                    b'\n' => Chunked::Trailer { line: 0 },
                    b'\r' => Chunked::Trailer { line },
                    _ => Chunked::Trailer {
                        line: line.saturating_add(1),
                    },
                },
            };
            i += 1;
        }
        Ok(i)
    }

    fn after_size(size: u64) -> Chunked {
        if size == 0 {
            Chunked::Trailer { line: 0 }
        } else {
            Chunked::Data { left: size }
        }
    }

    /// Whether the last chunk and the trailer have been read.
    pub fn is_done(&self) -> bool {
        *self == Chunked::Done
    }
}

/// Where the body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// This many bytes are left.
    Length(u64),
    /// Chunked.
    Chunked(Chunked),
    /// At the close.
    UntilClose,
}

/// What an url expects.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// Accepted status codes.
    pub status: &'a StatusCodes,
    /// The MD5 digest of the body, if checked.
    pub digest: Option<[u8; 16]>,
}

/// One GET of one url, from the connection to the verdict.
#[derive(Clone, Debug)]
pub struct Exchange {
    head: Option<ResponseHead>,
    framing: Framing,
    md5: Md5,
    /// Body bytes hashed.
    pub body_bytes: u64,
}

impl Default for Exchange {
    fn default() -> Self {
        Self::new()
    }
}

impl Exchange {
    /// Nothing received yet.
    pub fn new() -> Self {
        Exchange {
            head: None,
            framing: Framing::UntilClose,
            md5: Md5::new(),
            body_bytes: 0,
        }
    }

    /// Connected: send the request.
    pub(crate) fn on_connected(&mut self) -> Step {
        Step::Send
    }

    /// Bytes received (everything not yet consumed, in order). Returns the
    /// step and how many bytes were consumed.
    pub(crate) fn on_data(&mut self, buf: &[u8], expect: &Expect<'_>) -> (Step, usize) {
        let mut used = 0;
        if self.head.is_none() {
            match ResponseHead::parse(buf) {
                Err(HeadError::Incomplete) => return (Step::Wait, 0),
                Err(_) => return (Step::Done(Verdict::Failure(Failure::Garbage)), 0),
                Ok(h) => {
                    used = h.len;
                    self.head = Some(h);
                    self.framing = if h.chunked {
                        Framing::Chunked(Chunked::default())
                    } else if let Some(n) = h.content_length {
                        Framing::Length(n)
                    } else {
                        Framing::UntilClose
                    };
                    if !expect.status.contains(h.status) {
                        return (
                            Step::Done(Verdict::Failure(Failure::Status(h.status))),
                            used,
                        );
                    }
                    if expect.digest.is_none() {
                        return (Step::Done(Verdict::Success), used);
                    }
                }
            }
        }
        let body = buf.get(used..).unwrap_or(&[]);
        let (take, complete) = match &mut self.framing {
            Framing::Length(left) => {
                let n = body.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= n as u64;
                (n, *left == 0)
            }
            Framing::Chunked(c) => match c.feed(body) {
                Ok(n) => (n, c.is_done()),
                Err(BadChunk) => {
                    return (
                        Step::Done(Verdict::Failure(Failure::Garbage)),
                        used + body.len(),
                    );
                }
            },
            Framing::UntilClose => (body.len(), false),
        };
        let part = body.get(..take).unwrap_or(&[]);
        self.md5.update(part);
        self.body_bytes += take as u64;
        used += body.len();
        if complete {
            (self.verdict(expect), used)
        } else {
            (Step::Wait, used)
        }
    }

    /// The peer closed: the body ends here.
    pub(crate) fn on_eof(&mut self, expect: &Expect<'_>) -> Step {
        match self.head {
            None => Step::Done(Verdict::Failure(Failure::Closed)),
            Some(_) => self.verdict(expect),
        }
    }

    fn verdict(&mut self, expect: &Expect<'_>) -> Step {
        let digest: [u8; 16] = self.md5.finalize_reset().into();
        match expect.digest {
            Some(d) if d != digest => Step::Done(Verdict::Failure(Failure::Digest)),
            _ => Step::Done(Verdict::Success),
        }
    }
}

/// Writes keepalived's request for `path` to `dst` (`virtualhost` if not
/// empty, else the address and port) into `out`; its length, or `None` if
/// it does not fit.
pub fn write_request(
    out: &mut [u8],
    path: &str,
    virtualhost: &str,
    dst: SocketAddr,
    version: HttpVersion,
) -> Option<usize> {
    let mut w = SliceWriter::new(out);
    let minor = if version == HttpVersion::V11 { 1 } else { 0 };
    let close = if version == HttpVersion::V10 {
        ""
    } else {
        "Connection: close\r\n"
    };
    let r = if !virtualhost.is_empty() {
        write!(
            w,
            "GET {path} HTTP/1.{minor}\r\nUser-Agent: {USER_AGENT}\r\n{close}Host: {virtualhost}\r\n\r\n"
        )
    } else {
        match dst {
            SocketAddr::V4(a) => write!(
                w,
                "GET {path} HTTP/1.{minor}\r\nUser-Agent: {USER_AGENT}\r\n{close}Host: {}:{}\r\n\r\n",
                a.ip(),
                a.port()
            ),
            SocketAddr::V6(a) => write!(
                w,
                "GET {path} HTTP/1.{minor}\r\nUser-Agent: {USER_AGENT}\r\n{close}Host: [{}]:{}\r\n\r\n",
                a.ip(),
                a.port()
            ),
        }
    };
    r.ok().map(|()| w.len())
}

/// The MD5 digest of `bytes` (for tests and tools).
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}
