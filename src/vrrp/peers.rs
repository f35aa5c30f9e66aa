//! What one instance has heard from each source, for split-brain care and
//! the status dump (issue 4): per source address the time of its last
//! datagram, the priority of its last accepted advert, and how many of its
//! datagrams ended each way (accepted, or each drop reason of
//! [`RxStats`]).
//!
//! Configured unicast peers are known from the start. One never heard from
//! within [`Peers::silence`] of the start is reported once
//! ([`PeerEvent::NeverHeard`]) — normal for a peer that is backup, the sign
//! of a cut path when both sides end up master — and again when it is
//! finally heard ([`PeerEvent::HeardAgain`]).
//!
//! The table is fixed ([`PEERS_PER_INSTANCE`]: every configured peer and two
//! more). A source that finds it full takes the place of the stranger heard
//! least recently (configured peers stay); each eviction is counted.

use core::net::IpAddr;

use heapless::Vec;

use super::engine::RxStats;
use crate::limits::UNICAST_PEERS;
use crate::time::{Duration, Instant};

/// Sources one instance keeps: its configured peers and two others.
pub const PEERS_PER_INSTANCE: usize = UNICAST_PEERS + 2;
/// Counters of [`RxStats`], in the order of [`RxStats::iter`].
pub const REASONS: usize = 18;

/// One source heard (or configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerState {
    /// Its address.
    pub addr: IpAddr,
    /// A configured unicast peer.
    pub configured: bool,
    /// When its last datagram arrived (any outcome).
    pub last_heard: Option<Instant>,
    /// The priority of its last accepted advert.
    pub last_priority: Option<u8>,
    /// Its datagrams by outcome, in the order of [`RxStats::iter`].
    pub counts: [u32; REASONS],
    /// Reported as never heard, not heard since.
    warned: bool,
}

impl PeerState {
    fn new(addr: IpAddr, configured: bool) -> Self {
        PeerState {
            addr,
            configured,
            last_heard: None,
            last_priority: None,
            counts: [0; REASONS],
            warned: false,
        }
    }

    /// Its non-zero counters as `(name, count)`.
    pub fn nonzero(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        let mut names = [""; REASONS];
        for (n, (name, _)) in names.iter_mut().zip(RxStats::default().iter()) {
            *n = name;
        }
        names
            .into_iter()
            .zip(self.counts.iter().copied())
            .filter(|&(_, c)| c != 0)
    }
}

/// [`PeerState::summary`]: `10.0.0.2 (peer): last heard 0.104 s ago,
/// priority 150; accepted=12 bad_ttl=1`.
pub struct Summary<'a> {
    peer: &'a PeerState,
    now: Instant,
}

impl core::fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let p = self.peer;
        write!(f, "{}", p.addr)?;
        if p.configured {
            f.write_str(" (peer)")?;
        }
        match p.last_heard {
            Some(t) => {
                let ago = self.now - t;
                write!(
                    f,
                    ": last heard {}.{:03} s ago",
                    ago.secs(),
                    ago.millis() % 1000
                )?;
            }
            None => f.write_str(": never heard")?,
        }
        if let Some(prio) = p.last_priority {
            write!(f, ", priority {prio}")?;
        }
        let mut sep = "; ";
        for (name, c) in p.nonzero() {
            write!(f, "{sep}{name}={c}")?;
            sep = " ";
        }
        Ok(())
    }
}

impl PeerState {
    /// One line for the status dump at `now`.
    pub fn summary(&self, now: Instant) -> Summary<'_> {
        Summary { peer: self, now }
    }
}

/// What the table reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerEvent {
    /// A configured peer was not heard within the silence window of the
    /// start.
    NeverHeard {
        /// The peer.
        addr: IpAddr,
        /// How long it has been silent.
        silent_for: Duration,
    },
    /// A peer reported [`PeerEvent::NeverHeard`] was heard.
    HeardAgain {
        /// The peer.
        addr: IpAddr,
    },
}

/// The sources of one instance. See the module doc.
#[derive(Clone, Debug)]
pub struct Peers {
    entries: Vec<PeerState, PEERS_PER_INSTANCE>,
    silence: Duration,
    started: Option<Instant>,
    /// The never-heard check is done.
    checked: bool,
    evicted: u32,
}

impl Peers {
    /// A table knowing `configured` peers (extra ones beyond the capacity
    /// are left out; the config load bounds them), reporting those silent
    /// for `silence` after the start.
    pub fn new(configured: impl IntoIterator<Item = IpAddr>, silence: Duration) -> Self {
        let mut entries = Vec::new();
        for a in configured {
            // Capacity: UNICAST_PEERS configured at most.
            let _ = entries.push(PeerState::new(a, true));
        }
        Peers {
            entries,
            silence,
            started: None,
            checked: false,
            evicted: 0,
        }
    }

    /// The silence window.
    pub fn silence(&self) -> Duration {
        self.silence
    }

    /// Every source, configured ones first.
    pub fn iter(&self) -> impl Iterator<Item = &PeerState> {
        self.entries.iter()
    }

    /// Sources that lost their place to another.
    pub fn evicted(&self) -> u32 {
        self.evicted
    }

    /// Reload: this table (of the kept instance's new configuration)
    /// takes over what `old` heard: every source's record (configured or
    /// not as the new configuration says; strangers while there is room)
    /// and the eviction count. With the same configured peers the silence
    /// window carries on; with others a new one starts at `now`.
    pub fn adopt(&mut self, now: Instant, old: &Peers) {
        let same_peers = self
            .entries
            .iter()
            .filter(|p| p.configured)
            .map(|p| p.addr)
            .eq(old.entries.iter().filter(|p| p.configured).map(|p| p.addr));
        for o in &old.entries {
            let configured = match self.entries.iter_mut().find(|p| p.addr == o.addr) {
                Some(p) => {
                    let configured = p.configured;
                    *p = *o;
                    p.configured = configured;
                    continue;
                }
                None => false,
            };
            // Room: PEERS_PER_INSTANCE; a stranger that does not fit is
            // forgotten (it is placed again when heard).
            let _ = self.entries.push(PeerState { configured, ..*o });
        }
        self.evicted = old.evicted;
        if same_peers {
            self.started = old.started;
            self.checked = old.checked;
        } else {
            self.started = Some(now);
            self.checked = false;
        }
    }

    /// Starts the silence window.
    pub fn start(&mut self, now: Instant) {
        self.started = Some(now);
        self.checked = false;
    }

    /// When [`Peers::handle_timeout`] is due.
    pub fn poll_at(&self) -> Option<Instant> {
        let s = self.started?;
        (!self.checked && self.entries.iter().any(|p| p.configured)).then(|| s + self.silence)
    }

    /// Reports each configured peer not heard since the start, once.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut dyn FnMut(PeerEvent)) {
        let Some(s) = self.started else { return };
        if self.checked || now < s + self.silence {
            return;
        }
        self.checked = true;
        for p in self.entries.iter_mut().filter(|p| p.configured) {
            if p.last_heard.is_none() {
                p.warned = true;
                out(PeerEvent::NeverHeard {
                    addr: p.addr,
                    silent_for: now - s,
                });
            }
        }
    }

    /// A datagram from `src` ended as the difference between `before` and
    /// `after` (the instance's counters around its handling) says; an
    /// accepted advert carried `priority`. Returns
    /// [`PeerEvent::HeardAgain`] for a peer reported silent.
    pub fn record(
        &mut self,
        now: Instant,
        src: IpAddr,
        before: &RxStats,
        after: &RxStats,
        priority: u8,
    ) -> Option<PeerEvent> {
        let i = match self.entries.iter().position(|p| p.addr == src) {
            Some(i) => i,
            None => self.place(src)?,
        };
        let p = self.entries.get_mut(i)?;
        p.last_heard = Some(now);
        for ((slot, (name, a)), (_, b)) in p.counts.iter_mut().zip(after.iter()).zip(before.iter())
        {
            let d = a.saturating_sub(b);
            *slot = slot.saturating_add(u32::try_from(d).unwrap_or(u32::MAX));
            if name == "accepted" && d > 0 {
                p.last_priority = Some(priority);
            }
        }
        if core::mem::take(&mut p.warned) {
            return Some(PeerEvent::HeardAgain { addr: src });
        }
        None
    }

    /// A place for a new source: a free one, else the stranger heard least
    /// recently (`None`: only configured peers, which stay).
    fn place(&mut self, src: IpAddr) -> Option<usize> {
        if self.entries.push(PeerState::new(src, false)).is_ok() {
            return Some(self.entries.len() - 1);
        }
        let (i, _) = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.configured)
            .min_by_key(|(_, p)| p.last_heard)?;
        self.evicted += 1;
        let slot = self.entries.get_mut(i)?;
        *slot = PeerState::new(src, false);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn t(ms: i64) -> Instant {
        Instant::from_millis(ms)
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    #[test]
    fn reasons_cover_every_counter() {
        assert_eq!(RxStats::default().iter().count(), REASONS);
    }

    #[test]
    fn counts_outcomes_per_source() {
        let mut p = Peers::new([], Duration::from_secs(1));
        let zero = RxStats::default();
        let accepted = RxStats {
            accepted: 1,
            ..zero
        };
        let bad_ttl = RxStats { bad_ttl: 1, ..zero };
        assert_eq!(p.record(t(10), ip(2), &zero, &accepted, 150), None);
        p.record(t(20), ip(2), &zero, &bad_ttl, 200);
        p.record(t(30), ip(3), &zero, &bad_ttl, 99);
        let a = p.iter().find(|s| s.addr == ip(2)).unwrap();
        assert_eq!(a.last_heard, Some(t(20)));
        assert_eq!(a.last_priority, Some(150), "only accepted adverts set it");
        let counts: std::vec::Vec<_> = a.nonzero().collect();
        assert_eq!(counts, [("accepted", 1), ("bad_ttl", 1)]);
        let b = p.iter().find(|s| s.addr == ip(3)).unwrap();
        assert_eq!(b.last_priority, None);
    }

    #[test]
    fn a_silent_configured_peer_is_reported_once_and_when_heard() {
        let mut p = Peers::new([ip(2), ip(3)], Duration::from_millis(500));
        assert_eq!(p.poll_at(), None, "not started");
        p.start(t(1000));
        assert_eq!(p.poll_at(), Some(t(1500)));
        let zero = RxStats::default();
        let ok = RxStats {
            accepted: 1,
            ..zero
        };
        p.record(t(1200), ip(3), &zero, &ok, 100);
        let mut ev = std::vec::Vec::new();
        p.handle_timeout(t(1499), &mut |e| ev.push(e));
        assert!(ev.is_empty());
        p.handle_timeout(t(1500), &mut |e| ev.push(e));
        assert_eq!(
            ev,
            [PeerEvent::NeverHeard {
                addr: ip(2),
                silent_for: Duration::from_millis(500)
            }]
        );
        assert_eq!(p.poll_at(), None, "once");
        p.handle_timeout(t(9000), &mut |e| ev.push(e));
        assert_eq!(ev.len(), 1);
        assert_eq!(
            p.record(t(9100), ip(2), &zero, &ok, 100),
            Some(PeerEvent::HeardAgain { addr: ip(2) })
        );
        assert_eq!(p.record(t(9200), ip(2), &zero, &ok, 100), None);
    }

    #[test]
    fn a_full_table_evicts_the_oldest_stranger_and_keeps_peers() {
        let peers: std::vec::Vec<IpAddr> = (0..UNICAST_PEERS).map(|k| ip(100 + k as u8)).collect();
        let mut p = Peers::new(peers.iter().copied(), Duration::from_secs(1));
        let zero = RxStats::default();
        let d = RxStats {
            not_a_peer: 1,
            ..zero
        };
        p.record(t(1), ip(1), &zero, &d, 1);
        p.record(t(2), ip(2), &zero, &d, 1);
        p.record(t(3), ip(3), &zero, &d, 1);
        assert_eq!(p.evicted(), 1);
        assert!(p.iter().all(|s| s.addr != ip(1)), "the oldest went");
        assert_eq!(p.iter().filter(|s| s.configured).count(), UNICAST_PEERS);
        assert_eq!(p.iter().count(), PEERS_PER_INSTANCE);
    }
}
