//! The sockets of the VRRP engine's interfaces, by interface index: a raw
//! IPv4 VRRP socket where an IPv4 instance runs, a raw IPv6 one where an
//! IPv6 instance runs, and a packet socket for gratuitous ARPs and
//! neighbour advertisements on every interface.
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
    /// ARP/NA, one per interface.
    pub arp: Vec<Option<ArpSocket>>,
    reuse: heapless::Vec<Reuse, INTERFACES>,
}

/// Whether the running interface `old` can lend its IPv4 socket to `new`.
fn v4_same(old: &Interface, new: &Interface) -> bool {
    old.vrrp && new.vrrp && old.group == new.group
}

/// Whether the running interface `old` can lend its IPv6 socket to `new`.
fn v6_same(old: &Interface, new: &Interface) -> bool {
    old.vrrp6 && new.vrrp6 && old.group6 == new.group6
}

impl IfSockets {
    /// An empty set with room for every interface (start-up).
    pub fn new() -> Self {
        IfSockets {
            v4: Vec::with_capacity(INTERFACES),
            v6: Vec::with_capacity(INTERFACES),
            arp: Vec::with_capacity(INTERFACES),
            reuse: heapless::Vec::new(),
        }
    }

    /// Closes every socket (the lists keep their room).
    pub fn clear(&mut self) {
        self.v4.clear();
        self.v6.clear();
        self.arp.clear();
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
        for iface in engine.interfaces() {
            let old = running.and_then(|(e, s)| {
                let i = e
                    .interfaces()
                    .iter()
                    .position(|o| o.name == iface.name && o.facts.index == iface.facts.index)?;
                Some((e.interfaces().get(i)?, s, u8::try_from(i).ok()?))
            });
            let mut reuse = Reuse::default();
            let lend = |has: bool, same: bool| has && same;
            let v4 = match old {
                Some((o, s, i)) if lend(s.has_v4(i), v4_same(o, iface)) => {
                    reuse.v4 = Some(i);
                    None
                }
                _ if iface.vrrp => Some(
                    VrrpSocket::open(&iface.name, iface.facts.index, iface.group)
                        .map_err(|e| ("VRRP socket", e))?,
                ),
                _ => None,
            };
            let v6 = match old {
                Some((o, s, i)) if lend(s.has_v6(i), v6_same(o, iface)) => {
                    reuse.v6 = Some(i);
                    None
                }
                _ if iface.vrrp6 => Some(
                    Vrrp6Socket::open(&iface.name, iface.facts.index, iface.group6)
                        .map_err(|e| ("IPv6 VRRP socket", e))?,
                ),
                _ => None,
            };
            let arp = match old {
                Some((_, s, i)) if s.arp.get(usize::from(i)).is_some_and(Option::is_some) => {
                    reuse.arp = Some(i);
                    None
                }
                _ => Some(ArpSocket::open(iface.facts.index).map_err(|e| ("ARP socket", e))?),
            };
            // Room for INTERFACES was made at start-up; the engine holds no
            // more.
            self.v4.push(v4);
            self.v6.push(v6);
            self.arp.push(arp);
            let _ = self.reuse.push(reuse);
        }
        Ok(())
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
        for (i, s) in self.v4.iter().enumerate() {
            if let Some(s) = s {
                poll.add(
                    &s.as_fd(),
                    Token(TOKEN_VRRP_BASE + u32::try_from(i).unwrap_or(0)),
                )?;
            }
        }
        for (i, s) in self.v6.iter().enumerate() {
            if let Some(s) = s {
                poll.add(
                    &s.as_fd(),
                    Token(TOKEN_VRRP6_BASE + u32::try_from(i).unwrap_or(0)),
                )?;
            }
        }
        Ok(())
    }

    /// Takes every VRRP socket of this set out of the poll table.
    pub fn unregister(&self, poll: &mut PollSet) {
        for i in 0..self.v4.len().max(self.v6.len()) {
            let i = u32::try_from(i).unwrap_or(0);
            poll.remove(Token(TOKEN_VRRP_BASE + i));
            poll.remove(Token(TOKEN_VRRP6_BASE + i));
        }
    }
}
