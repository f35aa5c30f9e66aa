//! The sockets of the VRRP engine's interfaces, by interface index: a raw
//! IPv4 VRRP socket where an IPv4 instance runs, a raw IPv6 one where an
//! IPv6 instance runs, and a packet socket for gratuitous ARPs and
//! neighbour advertisements on every interface that exists.
//!
//! The one place an interface's sockets are opened and closed: at start-up
//! and at a reload ([`IfSockets::prepare`]), and when the reflector sees an
//! interface go ([`IfSockets::close`]) or come back, maybe with another
//! kernel index ([`IfSockets::reopen`]). An interface that does not exist
//! (`dynamic_interfaces`, or deleted) has none until it comes back.
//!
//! A reload builds the next engine's set beside the running one in two
//! steps: [`IfSockets::prepare`] opens only the sockets no running one can
//! stand for (a failure there refuses the reload and closes what it
//! opened), then [`IfSockets::take_reused`] moves the running sockets that
//! serve unchanged interfaces (same name, index, families and groups) —
//! the instances on them never miss an advert. Sockets not taken close
//! with the old set.
//!
//! The lists are sized for `engine::INTERFACES` at start-up: nothing here
//! allocates afterwards.

use std::os::fd::AsFd;

use nix::errno::Errno;
use picket::vrrp::engine::{Engine, INTERFACES, Interface};

use crate::sys::net::{ArpSocket, Vrrp6Socket, VrrpSocket};
use crate::sys::poll::{PollSet, TableFull, Token};

/// IPv4 VRRP sockets: this plus the interface index.
pub const TOKEN_VRRP_BASE: u32 = 16;
/// IPv6 VRRP sockets: this plus the interface index (up to 0x2000, where
/// status connections start).
pub const TOKEN_VRRP6_BASE: u32 = 0x1000;

/// Which running socket (by interface index) each new one reuses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Reuse {
    v4: Option<u8>,
    v6: Option<u8>,
    arp: Option<u8>,
}

/// The sockets of one engine's interfaces.
pub struct IfSockets {
    /// IPv4 VRRP, one per interface (`None` where no IPv4 instance runs).
    pub v4: Vec<Option<VrrpSocket>>,
    /// IPv6 VRRP, one per interface (`None` where no IPv6 instance runs).
    pub v6: Vec<Option<Vrrp6Socket>>,
    /// ARP/NA, one per interface (`None` while it does not exist).
    pub arp: Vec<Option<ArpSocket>>,
    /// The kernel index each interface's sockets were last opened on (0:
    /// never): routes through the interface follow it to a new index.
    opened_on: heapless::Vec<u32, INTERFACES>,
    reuse: heapless::Vec<Reuse, INTERFACES>,
}

/// Token of interface `i`'s IPv4 VRRP socket.
fn token_v4(i: usize) -> Token {
    Token(TOKEN_VRRP_BASE + u32::try_from(i).unwrap_or(0))
}

/// Token of interface `i`'s IPv6 VRRP socket.
fn token_v6(i: usize) -> Token {
    Token(TOKEN_VRRP6_BASE + u32::try_from(i).unwrap_or(0))
}

/// What the running set (`engine`'s interfaces, `sockets`) can lend to
/// the next engine's `iface`: the sockets of a running interface of the
/// same name and index that exists, each kind where it serves the same
/// families and groups.
fn lendable(iface: &Interface, engine: &Engine, sockets: &IfSockets) -> Reuse {
    let found = engine.interfaces().iter().enumerate().find(|(_, o)| {
        iface.present && o.present && o.name == iface.name && o.facts.index == iface.facts.index
    });
    let Some((i, old)) = found.and_then(|(i, o)| Some((u8::try_from(i).ok()?, o))) else {
        return Reuse::default();
    };
    Reuse {
        v4: Some(i)
            .filter(|&i| sockets.has_v4(i) && old.vrrp && iface.vrrp && old.group == iface.group),
        v6: Some(i).filter(|&i| {
            sockets.has_v6(i) && old.vrrp6 && iface.vrrp6 && old.group6 == iface.group6
        }),
        arp: Some(i).filter(|&i| sockets.arp.get(usize::from(i)).is_some_and(Option::is_some)),
    }
}

/// Puts `socket` at `i` of `list` (which has room for it).
fn put<S>(list: &mut [Option<S>], i: usize, socket: S) {
    if let Some(slot) = list.get_mut(i) {
        *slot = Some(socket);
    }
}

impl IfSockets {
    /// An empty set with room for every interface (start-up).
    pub fn new() -> Self {
        IfSockets {
            v4: Vec::with_capacity(INTERFACES),
            v6: Vec::with_capacity(INTERFACES),
            arp: Vec::with_capacity(INTERFACES),
            opened_on: heapless::Vec::new(),
            reuse: heapless::Vec::new(),
        }
    }

    /// Closes every socket (the lists keep their room).
    pub fn clear(&mut self) {
        self.v4.clear();
        self.v6.clear();
        self.arp.clear();
        self.opened_on.clear();
        self.reuse.clear();
    }

    /// Opens what `engine` needs, except what `running` (the running
    /// engine and its sockets) can lend; see the module doc. Start-up
    /// passes no running set. On an error everything opened is closed.
    pub fn prepare(
        &mut self,
        engine: &Engine,
        running: Option<(&Engine, &IfSockets)>,
    ) -> Result<(), (&'static str, Errno)> {
        self.clear();
        let r = self.open_all(engine, running);
        if r.is_err() {
            self.clear();
        }
        r
    }

    fn open_all(
        &mut self,
        engine: &Engine,
        running: Option<(&Engine, &IfSockets)>,
    ) -> Result<(), (&'static str, Errno)> {
        for (i, iface) in engine.interfaces().iter().enumerate() {
            let lent = running.map_or(Reuse::default(), |(e, s)| lendable(iface, e, s));
            // Room for INTERFACES was made at start-up; the engine holds no
            // more.
            self.v4.push(None);
            self.v6.push(None);
            self.arp.push(None);
            // An interface gone keeps the index it had (0: never seen).
            let _ = self.opened_on.push(iface.facts.index);
            let _ = self.reuse.push(lent);
            self.open_at(i, iface, lent)?;
        }
        Ok(())
    }

    /// Opens at interface `i` every socket `iface` needs that `lent` does
    /// not stand for: an IPv4 VRRP socket where an IPv4 instance runs, an
    /// IPv6 one where an IPv6 instance runs, the ARP/NA socket; none while
    /// the interface does not exist. Every socket that can be opened is;
    /// the first failure is returned.
    fn open_at(
        &mut self,
        i: usize,
        iface: &Interface,
        lent: Reuse,
    ) -> Result<(), (&'static str, Errno)> {
        let mut first = Ok(());
        if !iface.present {
            return first;
        }
        let (index, name) = (iface.facts.index, iface.name.as_str());
        if iface.vrrp && lent.v4.is_none() {
            match VrrpSocket::open(name, index, iface.group) {
                Ok(s) => put(&mut self.v4, i, s),
                Err(e) => first = first.and(Err(("VRRP socket", e))),
            }
        }
        if iface.vrrp6 && lent.v6.is_none() {
            match Vrrp6Socket::open(name, index, iface.group6) {
                Ok(s) => put(&mut self.v6, i, s),
                Err(e) => first = first.and(Err(("IPv6 VRRP socket", e))),
            }
        }
        if lent.arp.is_none() {
            match ArpSocket::open(index) {
                Ok(s) => put(&mut self.arp, i, s),
                Err(e) => first = first.and(Err(("ARP socket", e))),
            }
        }
        first
    }

    /// Interface `i` is gone: its sockets leave the poll table and close.
    pub fn close(&mut self, i: usize, poll: &mut PollSet) {
        poll.remove(token_v4(i));
        poll.remove(token_v6(i));
        if let Some(s) = self.v4.get_mut(i) {
            *s = None;
        }
        if let Some(s) = self.v6.get_mut(i) {
            *s = None;
        }
        if let Some(s) = self.arp.get_mut(i) {
            *s = None;
        }
    }

    /// Interface `i` (`iface`) exists again, maybe with another kernel
    /// index: whatever it had is closed, its sockets are opened there as at
    /// start-up (joined to the groups) and watched. Returns the index they
    /// were on before (0: never opened), and the first socket that could
    /// not be opened or watched (the others are).
    pub fn reopen(
        &mut self,
        i: usize,
        iface: &Interface,
        poll: &mut PollSet,
    ) -> (u32, Result<(), (&'static str, Errno)>) {
        self.close(i, poll);
        let was = self
            .opened_on
            .get_mut(i)
            .map_or(0, |o| core::mem::replace(o, iface.facts.index));
        let opened = self.open_at(i, iface, Reuse::default());
        let watched = self
            .register_at(i, poll)
            .map_err(|_| ("poll table", Errno::ENOSPC));
        (was, opened.and(watched))
    }

    fn has_v4(&self, i: u8) -> bool {
        self.v4.get(usize::from(i)).is_some_and(Option::is_some)
    }

    fn has_v6(&self, i: u8) -> bool {
        self.v6.get(usize::from(i)).is_some_and(Option::is_some)
    }

    /// Moves the running sockets [`IfSockets::prepare`] chose to reuse from
    /// `running` into this set.
    pub fn take_reused(&mut self, running: &mut IfSockets) {
        for (i, r) in self.reuse.iter().enumerate() {
            let take = |from: Option<u8>| from.map(usize::from);
            if let (Some(o), Some(slot)) = (take(r.v4), self.v4.get_mut(i)) {
                *slot = running.v4.get_mut(o).and_then(Option::take);
            }
            if let (Some(o), Some(slot)) = (take(r.v6), self.v6.get_mut(i)) {
                *slot = running.v6.get_mut(o).and_then(Option::take);
            }
            if let (Some(o), Some(slot)) = (take(r.arp), self.arp.get_mut(i)) {
                *slot = running.arp.get_mut(o).and_then(Option::take);
            }
        }
        self.reuse.clear();
    }

    /// Puts every VRRP socket in the poll table under its token.
    pub fn register(&self, poll: &mut PollSet) -> Result<(), TableFull> {
        for i in 0..self.v4.len().max(self.v6.len()) {
            self.register_at(i, poll)?;
        }
        Ok(())
    }

    /// Puts interface `i`'s VRRP sockets in the poll table.
    fn register_at(&self, i: usize, poll: &mut PollSet) -> Result<(), TableFull> {
        if let Some(Some(s)) = self.v4.get(i) {
            poll.add(&s.as_fd(), token_v4(i))?;
        }
        if let Some(Some(s)) = self.v6.get(i) {
            poll.add(&s.as_fd(), token_v6(i))?;
        }
        Ok(())
    }

    /// Takes every VRRP socket of this set out of the poll table.
    pub fn unregister(&self, poll: &mut PollSet) {
        for i in 0..self.v4.len().max(self.v6.len()) {
            poll.remove(token_v4(i));
            poll.remove(token_v6(i));
        }
    }
}
