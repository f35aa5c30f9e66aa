//! The status socket server: each client that connects gets one JSON
//! document of the whole state ([`picket::status`]) and the connection is
//! closed. The client sends nothing.
//!
//! Bounded and non-blocking: at most `limits::STATUS_CONNECTIONS` clients at
//! once (one more is accepted and closed at once, counted
//! `status_refused`), each with its own `limits::STATUS_BUFFER_BYTES`
//! buffer. The document is written unit by unit into that buffer and sent
//! as far as the socket takes it; a client whose socket is full waits in
//! the poll table for room (`POLLOUT`), and is dropped [`TIMEOUT`] after it
//! connected (`status_timeouts`). Most documents go out in the turn that
//! accepted the client: a local stream socket takes ~200 KiB at once.
//!
//! Tokens: the listener is [`TOKEN_LISTENER`] (6), client `i` is
//! [`TOKEN_CLIENT_BASE`] + `i` (0x2000..).

use std::os::fd::AsFd;

use nix::errno::Errno;
use picket::limits::{PATH_BYTES, STATUS_BUFFER_BYTES, STATUS_CONNECTIONS};
use picket::status::{Document, StatusView};
use picket::time::{Duration, Instant, earliest};

use crate::sys::poll::{Interest, PollSet, Token};
use crate::sys::unix::{Conn, ListenError, Listener};

/// The listener's token.
pub const TOKEN_LISTENER: Token = Token(6);
/// Client `i`'s token is this plus `i`.
pub const TOKEN_CLIENT_BASE: u32 = 0x2000;
/// How long a client may take to read its document.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What happened to clients during one call, for the daemon's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Clients sent a whole document.
    pub served: u64,
    /// Clients turned away (every slot busy).
    pub refused: u64,
    /// Clients dropped at their timeout.
    pub timeouts: u64,
    /// Clients dropped on an error.
    pub errors: u64,
    /// Documents abandoned by a reload.
    pub aborted: u64,
}

/// One client being served.
struct Client {
    conn: Conn,
    doc: Document,
    buf: [u8; STATUS_BUFFER_BYTES],
    /// Bytes of `buf` already sent.
    start: usize,
    /// Bytes of `buf` written.
    end: usize,
    deadline: Instant,
    /// Waiting in the poll table for room to write.
    in_poll: bool,
}

/// The status socket and its clients.
pub struct StatusServer {
    path: heapless::String<PATH_BYTES>,
    listener: Option<Listener>,
    clients: [Option<Client>; STATUS_CONNECTIONS],
}

/// Where one pump left its client.
enum Pumped {
    /// Waiting for room to write.
    Blocked,
    /// Done: the whole document went out.
    Served,
    /// Dropped on an error.
    Failed,
}

impl StatusServer {
    /// A server that serves nothing (`status_socket none`, or the socket
    /// could not be made).
    pub fn off() -> Self {
        StatusServer {
            path: heapless::String::new(),
            listener: None,
            clients: [const { None }; STATUS_CONNECTIONS],
        }
    }

    /// Listens at `path` with permissions `mode` (start-up).
    pub fn open(path: &str, mode: u32) -> Result<Self, ListenError> {
        let listener = Listener::bind(path, mode)?;
        let mut s = Self::off();
        // The configuration bounds the path below PATH_BYTES.
        let _ = s.path.push_str(path);
        s.listener = Some(listener);
        Ok(s)
    }

    /// Puts the listener in the poll table.
    pub fn register(&self, poll: &mut PollSet) -> Result<(), crate::sys::poll::TableFull> {
        match &self.listener {
            Some(l) => poll.add(&l.as_fd(), TOKEN_LISTENER),
            None => Ok(()),
        }
    }

    /// The earliest client deadline.
    pub fn poll_at(&self) -> Option<Instant> {
        self.clients
            .iter()
            .flatten()
            .fold(None, |acc, c| earliest(acc, Some(c.deadline)))
    }

    /// Accepts every waiting client and serves each as far as its socket
    /// takes.
    pub fn handle_listener(
        &mut self,
        now: Instant,
        view: &StatusView<'_>,
        poll: &mut PollSet,
    ) -> Tally {
        let mut tally = Tally::default();
        loop {
            let Some(listener) = &self.listener else {
                return tally;
            };
            let conn = match listener.accept() {
                Ok(Some(c)) => c,
                Ok(None) => return tally,
                Err(e) => {
                    tally.errors += 1;
                    log::warn!("status socket: accept: {e}");
                    return tally;
                }
            };
            let Some(i) = self.clients.iter().position(Option::is_none) else {
                // Dropping the connection closes it: the client reads EOF.
                tally.refused += 1;
                continue;
            };
            if let Some(slot) = self.clients.get_mut(i) {
                *slot = Some(Client {
                    conn,
                    doc: Document::new(),
                    buf: [0; STATUS_BUFFER_BYTES],
                    start: 0,
                    end: 0,
                    deadline: now + TIMEOUT,
                    in_poll: false,
                });
            }
            self.serve(i, view, poll, &mut tally);
        }
    }

    /// Client `token` has room to write (or hung up): goes on with its
    /// document.
    pub fn handle_client(
        &mut self,
        token: Token,
        view: &StatusView<'_>,
        poll: &mut PollSet,
    ) -> Tally {
        let mut tally = Tally::default();
        let i = token.0.wrapping_sub(TOKEN_CLIENT_BASE) as usize;
        if self.clients.get(i).is_some_and(Option::is_some) {
            self.serve(i, view, poll, &mut tally);
        }
        tally
    }

    /// Drops every client whose deadline has passed.
    pub fn handle_timeout(&mut self, now: Instant, poll: &mut PollSet) -> Tally {
        let mut tally = Tally::default();
        for i in 0..self.clients.len() {
            if self.clients[i].as_ref().is_some_and(|c| c.deadline <= now) {
                tally.timeouts += 1;
                self.drop_client(i, poll);
            }
        }
        tally
    }

    /// Drops every client: their documents were cut by a reload (the
    /// tables change shape). They read a truncated document and EOF.
    pub fn abort_all(&mut self, poll: &mut PollSet) -> Tally {
        let mut tally = Tally::default();
        for i in 0..self.clients.len() {
            if self.clients[i].is_some() {
                tally.aborted += 1;
                self.drop_client(i, poll);
            }
        }
        tally
    }

    /// Closes everything and removes the socket file (at exit).
    pub fn close(&mut self, poll: &mut PollSet) {
        let _ = self.abort_all(poll);
        if let Some(l) = self.listener.take() {
            poll.remove(TOKEN_LISTENER);
            l.remove_file(&self.path);
        }
    }

    fn token(i: usize) -> Token {
        Token(TOKEN_CLIENT_BASE + u32::try_from(i).unwrap_or(0))
    }

    fn drop_client(&mut self, i: usize, poll: &mut PollSet) {
        if let Some(slot) = self.clients.get_mut(i)
            && let Some(c) = slot.take()
            && c.in_poll
        {
            poll.remove(Self::token(i));
        }
    }

    /// Sends what the socket of client `i` takes, writing more units as
    /// the buffer empties; counts the outcome.
    fn serve(&mut self, i: usize, view: &StatusView<'_>, poll: &mut PollSet, tally: &mut Tally) {
        let Some(Some(c)) = self.clients.get_mut(i) else {
            return;
        };
        match pump(c, view) {
            Pumped::Blocked => {
                if !c.in_poll {
                    if poll
                        .add_for(&c.conn.as_fd(), Self::token(i), Interest::Write)
                        .is_ok()
                    {
                        c.in_poll = true;
                    } else {
                        // No room to wait: give up on this client.
                        tally.errors += 1;
                        self.drop_client(i, poll);
                    }
                }
            }
            Pumped::Served => {
                tally.served += 1;
                self.drop_client(i, poll);
            }
            Pumped::Failed => {
                tally.errors += 1;
                self.drop_client(i, poll);
            }
        }
    }
}

/// Writes and sends until the socket is full, the document done, or an
/// error.
fn pump(c: &mut Client, view: &StatusView<'_>) -> Pumped {
    loop {
        if c.start < c.end {
            match c.conn.send(&c.buf[c.start..c.end]) {
                Ok(n) => c.start += n,
                Err(nb::Error::WouldBlock) => return Pumped::Blocked,
                Err(nb::Error::Other(e)) => {
                    if e != Errno::EPIPE && e != Errno::ECONNRESET {
                        log::debug!("status socket: send: {e}");
                    }
                    return Pumped::Failed;
                }
            }
        } else if c.doc.is_done() {
            return Pumped::Served;
        } else {
            match c.doc.fill(view, &mut c.buf, 0) {
                Ok(n) => {
                    c.start = 0;
                    c.end = n;
                }
                Err(_) => {
                    log::error!("status socket: a unit of the document does not fit the buffer");
                    return Pumped::Failed;
                }
            }
        }
    }
}
