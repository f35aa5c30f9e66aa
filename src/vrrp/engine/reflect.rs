//! The netlink reflector's side of the engine (keepalived's
//! `keepalived_netlink.c`): what link and address notifications mean for the
//! instances. Sans-IO like the engine: the binary reads the monitor socket
//! (`RTMGRP_LINK`, `RTMGRP_IPV4_IFADDR`, `RTMGRP_IPV6_IFADDR`), hands each
//! message to [`Engine::handle_link`] or [`Engine::handle_address`], runs an
//! address scan (an `RTM_GETADDR` dump fed to [`Engine::scan_address`]) when
//! [`Engine::address_scan_due`] says so, and carries out the actions.
//!
//! # A VIP deleted by someone else while MASTER
//!
//! keepalived leaves MASTER (BACKUP with a short down timer) unless the
//! address has `no_track`. picket restores it instead:
//! [`EngineAction::RestoreVip`] adds it again at once and announces it
//! (gratuitous ARP or unsolicited NA), counted in
//! [`LinkStats::vips_restored`]. Why: nothing about this router's fitness
//! changed; going BACKUP drops every address of the instance (and of its sync
//! group) and makes clients relearn the MAC twice, all for an address an
//! operator, a DHCP client or a network manager removed by mistake. An
//! address with `no_track` keeps keepalived's meaning — its deletion is no
//! reason to act — and is left deleted. An address deleted while its
//! interface is down (the kernel drops IPv6 addresses on down) is restored
//! when the link comes up, if the instance is still MASTER. Deletions picket
//! asked for itself never get here: the binary drops notifications caused by
//! its own netlink socket.
//!
//! # Source address
//!
//! An instance without `mcast_src_ip`/`unicast_src_ip` sends from its
//! interface's primary IPv4 address or its IPv6 link-local address (those of
//! its VMAC's parent when it runs on a VMAC) and follows it: when it is
//! deleted the next one is used (an address scan finds it), and while there
//! is none the instance is held in FAULT ([`HOLD_NO_SOURCE`]) until one is
//! added — at start too (keepalived 2.2.7 does the same: "entering FAULT
//! state (no IPv4 address for interface)"). An IPv6 link-local address
//! counts once duplicate address detection is over (neither `tentative` nor
//! `dadfailed`): a router booting with DAD on starts held and runs once the
//! address is valid. One that goes back to tentative (the link flapped)
//! stays the source. A configured source is watched too: its presence on
//! the interface is reported when it changes (and at start when missing);
//! with `track_src_ip` its absence holds the instance in FAULT.
//!
//! # Interfaces deleted and recreated
//!
//! When an instance's interface, one of its VIPs' interfaces or its VMAC's
//! parent is deleted (`RTM_DELLINK`, or renamed away) the instance is held in
//! FAULT ([`HOLD_NO_INTERFACE`]) and the binary closes that interface's
//! sockets ([`EngineAction::InterfaceGone`]). When a link of that name
//! appears (`RTM_NEWLINK`, whatever its index) the engine takes its index and
//! MAC (its addresses follow as notifications), and the binary opens its sockets there
//! again ([`EngineAction::InterfaceBack`]); the instance leaves FAULT once it
//! has a source address (and its trackers agree), as BACKUP, and elects as
//! usual. This is always on: keepalived does it with `dynamic_interfaces`
//! (2.2.7 without it too), and a router whose USB modem, PPP link or VLAN is
//! recreated must not need a restart. `dynamic_interfaces` additionally lets
//! an interface be missing at start.
//!
//! # Address scans
//!
//! Notifications can be lost (the monitor socket overran: `ENOBUFS`), and a
//! deleted primary address does not say which address is next. Then the
//! binary dumps the addresses into [`Engine::scan_address`] between
//! [`Engine::begin_address_scan`] and [`Engine::end_address_scan`]: primary
//! and link-local addresses are chosen again (the current one is kept while
//! it exists), configured sources checked and, in a full scan
//! ([`Engine::request_full_scan`], after an overrun), every address of a
//! master that is missing is restored.
//!
//! Nothing here allocates; every table has the engine's capacities.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::{Deque, Vec};

use super::{ADDRESSES_PER_INSTANCE, Engine, EngineAction, INTERFACES, Interface};
use crate::config::Config;
use crate::config::vrrp::VrrpInstance;
use crate::limits::VRRP_INSTANCES;
use crate::time::Instant;
use crate::vrrp::State;
use crate::wire::link::LinkEvent;
use crate::wire::rtnetlink::{
    AddressRepr, IFA_F_DADFAILED, IFA_F_SECONDARY, IFA_F_TENTATIVE, Operation,
};
use crate::wire::vrrp::Family;

/// Hold: an interface of the instance (its own, a VIP's, its VMAC's parent)
/// does not exist.
pub const HOLD_NO_INTERFACE: u8 = 1;
/// Hold: the instance has no address to send from (its interface has none
/// yet, or `track_src_ip` and the configured one is gone).
pub const HOLD_NO_SOURCE: u8 = 2;

/// The name of each hold in `bits` ([`HOLD_NO_INTERFACE`]:
/// `no_interface`, [`HOLD_NO_SOURCE`]: `no_source`), as the status document
/// and the dumps say them.
pub fn hold_names(bits: u8) -> impl Iterator<Item = &'static str> {
    [
        (HOLD_NO_INTERFACE, "no_interface"),
        (HOLD_NO_SOURCE, "no_source"),
    ]
    .into_iter()
    .filter(move |(b, _)| bits & b != 0)
    .map(|(_, name)| name)
}

/// Pending for the binary: close the interface's sockets.
const PENDING_GONE: u8 = 1;
/// Pending for the binary: open the interface's sockets.
const PENDING_BACK: u8 = 2;
/// Pending: scan the interface's addresses.
const PENDING_SCAN: u8 = 4;

/// Source events kept per instance between two drains (the oldest is
/// dropped first).
const NOTES: usize = 4;

/// A set of an instance's addresses (VIPs then eVIPs), by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressBits([u32; ADDRESSES_PER_INSTANCE.div_ceil(32)]);

impl AddressBits {
    /// The empty set.
    pub const fn new() -> Self {
        AddressBits([0; ADDRESSES_PER_INSTANCE.div_ceil(32)])
    }

    /// Adds `k` (ignored beyond the capacity).
    pub fn set(&mut self, k: usize) {
        if let Some(w) = self.0.get_mut(k / 32) {
            *w |= 1 << (k % 32);
        }
    }

    /// Removes `k`.
    pub fn clear(&mut self, k: usize) {
        if let Some(w) = self.0.get_mut(k / 32) {
            *w &= !(1 << (k % 32));
        }
    }

    /// Whether `k` is in the set.
    pub fn contains(&self, k: usize) -> bool {
        self.0.get(k / 32).is_some_and(|w| w & (1 << (k % 32)) != 0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// Every number below `n`.
    pub fn fill(&mut self, n: usize) {
        for k in 0..n {
            self.set(k);
        }
    }

    /// Empties the set.
    pub fn clear_all(&mut self) {
        self.0 = [0; ADDRESSES_PER_INSTANCE.div_ceil(32)];
    }

    /// The members, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.0.len() * 32).filter(|&k| self.contains(k))
    }
}

impl Default for AddressBits {
    fn default() -> Self {
        Self::new()
    }
}

/// What happened to an instance's source address (logged by the binary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceEvent {
    /// The interface's address it follows changed: adverts now leave from
    /// `to`.
    Changed {
        /// The old source.
        from: IpAddr,
        /// The new one.
        to: IpAddr,
    },
    /// Engine interface `iface` has no usable address of `family`: held in
    /// FAULT until one is added.
    Missing {
        /// The interface (engine index).
        iface: u8,
        /// Which family is missing.
        family: Family,
    },
    /// An address appeared: the instance sends from it (no longer held for
    /// it).
    Found {
        /// The new source.
        addr: IpAddr,
    },
    /// The configured source is not on its interface (at start, or it was
    /// deleted); `held`: `track_src_ip` holds the instance in FAULT,
    /// otherwise adverts still leave from it.
    ConfiguredMissing {
        /// The configured address.
        addr: IpAddr,
        /// Whether the instance is held in FAULT for it.
        held: bool,
    },
    /// The configured source is on its interface now.
    ConfiguredFound {
        /// The configured address.
        addr: IpAddr,
    },
}

/// What the reflector did for one instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Addresses deleted by someone else while MASTER, added again.
    pub vips_restored: u64,
    /// Changes of the source address (followed, lost, found).
    pub source_changes: u64,
    /// Times an interface of the instance was deleted.
    pub interface_losses: u64,
    /// Times the instance was held in FAULT by the reflector.
    pub holds: u64,
}

impl core::fmt::Display for LinkStats {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "vips_restored={} source_changes={} interface_losses={} holds={}",
            self.vips_restored, self.source_changes, self.interface_losses, self.holds
        )
    }
}

/// An address notification (or dump entry) as the engine needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressChange {
    /// `RTM_NEWADDR` (added, changed, or present in a dump); `false`:
    /// `RTM_DELADDR`.
    pub added: bool,
    /// The interface index.
    pub ifindex: u32,
    /// The address itself.
    pub addr: IpAddr,
    /// `IFA_F_*` flags.
    pub flags: u32,
}

impl AddressChange {
    /// The change a parsed notification reports; `None` for another family
    /// or a message without an address.
    pub fn from_repr(r: &AddressRepr<'_>) -> Option<AddressChange> {
        Some(AddressChange {
            added: r.operation == Operation::Add,
            ifindex: r.ifindex,
            addr: r.local_address()?,
            flags: r.flags,
        })
    }

    /// An IPv6 link-local address that may be used as a source: duplicate
    /// address detection is over and did not fail.
    fn usable_link_local(&self) -> Option<Ipv6Addr> {
        match self.addr {
            IpAddr::V6(a)
                if a.is_unicast_link_local()
                    && self.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0 =>
            {
                Some(a)
            }
            _ => None,
        }
    }
}

/// What a scan found on one interface.
#[derive(Clone, Copy, Debug, Default)]
struct ScanIface {
    /// This interface is scanned.
    scanning: bool,
    /// Its current primary IPv4 address is still there.
    ipv4_seen: bool,
    /// Its current link-local address is still there (not `dadfailed`).
    ll_seen: bool,
    /// The first primary IPv4 address that is not a VIP.
    ipv4: Option<Ipv4Addr>,
    /// The first usable link-local address that is not a VIP.
    ll: Option<Ipv6Addr>,
}

/// The state of an address scan.
pub(super) struct Scan {
    /// Between `begin_address_scan` and `end_address_scan`.
    active: bool,
    /// The next scan is a full one (after an overrun, at start).
    full_requested: bool,
    /// The running scan is a full one.
    full: bool,
    /// Per engine interface.
    ifaces: Vec<ScanIface, INTERFACES>,
    /// Per slot: its configured source was seen.
    src_seen: Vec<bool, VRRP_INSTANCES>,
}

impl Scan {
    /// No scan.
    pub(super) const fn new() -> Self {
        Scan {
            active: false,
            full_requested: false,
            full: false,
            ifaces: Vec::new(),
            src_seen: Vec::new(),
        }
    }

    /// Back to no scan (an engine loaded again).
    pub(super) fn reset(&mut self) {
        self.active = false;
        self.full_requested = false;
        self.full = false;
        self.ifaces.clear();
        self.src_seen.clear();
    }
}

/// [`HOLD_NO_INTERFACE`] if the instance's interface, one of its addresses'
/// interfaces or its source interface is missing, else 0.
pub(super) fn hold_of_interfaces(
    ifaces: &[Interface],
    iface: u8,
    addr_iface: &[u8],
    src_iface: u8,
) -> u8 {
    let missing = |i: u8| ifaces.get(usize::from(i)).is_none_or(|f| !f.present);
    if missing(iface) || missing(src_iface) || addr_iface.iter().any(|&i| missing(i)) {
        HOLD_NO_INTERFACE
    } else {
        0
    }
}

/// The addresses of `inst` (VIPs then eVIPs).
fn addresses(inst: &VrrpInstance) -> impl Iterator<Item = &crate::config::vrrp::VipSpec> {
    inst.vips.iter().chain(inst.evips.iter())
}

impl Engine {
    /// A link notification: an interface of the engine deleted, renamed,
    /// (re)created, or changed (up/down, MAC). See the module doc.
    pub fn handle_link(&mut self, now: Instant, ev: &LinkEvent<'_>) {
        let by_index = self
            .interfaces
            .iter()
            .position(|f| f.present && f.facts.index == ev.index);
        if let Some(i) = by_index {
            let renamed = self
                .interfaces
                .get(i)
                .is_some_and(|f| f.name.as_str() != ev.name);
            if !ev.deleted && !renamed {
                if let Some(f) = self.interfaces.get_mut(i) {
                    let came_up = ev.up && !f.facts.up;
                    f.facts.up = ev.up;
                    if let Some(mac) = ev.mac {
                        f.facts.mac = mac;
                    }
                    if came_up {
                        // Addresses deleted while it was down are due now.
                        self.reflected = true;
                    }
                }
                return;
            }
            self.interface_gone(now, i);
            if ev.deleted {
                return;
            }
        }
        if ev.deleted {
            return;
        }
        let Some(i) = self
            .interfaces
            .iter()
            .position(|f| f.name.as_str() == ev.name)
        else {
            return;
        };
        if self.interfaces.get(i).is_some_and(|f| f.present) {
            // Known under another index: its deletion was missed.
            self.interface_gone(now, i);
        }
        if let Some(f) = self.interfaces.get_mut(i) {
            f.present = true;
            f.facts.up = ev.up;
            f.facts.index = ev.index;
            f.facts.mac = ev.mac.unwrap_or([0; 6]);
            f.facts.ipv4 = None;
            f.facts.ipv6_link_local = None;
        }
        // Its addresses follow as notifications (after an overrun, the
        // full scan finds them).
        self.pend(i, PENDING_BACK);
        self.refresh_all(now);
    }

    /// Interface `i` is gone: no addresses, its instances held.
    fn interface_gone(&mut self, now: Instant, i: usize) {
        if let Some(f) = self.interfaces.get_mut(i) {
            f.present = false;
            f.facts.up = false;
            f.facts.ipv4 = None;
            f.facts.ipv6_link_local = None;
        }
        self.pend(i, PENDING_GONE);
        for s in self.slots.iter_mut() {
            let uses = usize::from(s.iface) == i
                || usize::from(s.src_iface) == i
                || s.addr_iface.iter().any(|&a| usize::from(a) == i);
            if uses {
                s.links.interface_losses += 1;
            }
        }
        self.refresh_all(now);
    }

    /// Marks `bits` pending for interface `i`.
    fn pend(&mut self, i: usize, bits: u8) {
        if let Some(p) = self.iface_pending.get_mut(i) {
            *p |= bits;
        }
        self.reflected = true;
    }

    /// The engine index of the present interface with kernel index
    /// `ifindex`.
    fn iface_by_index(&self, ifindex: u32) -> Option<usize> {
        self.interfaces
            .iter()
            .position(|f| f.present && f.facts.index == ifindex)
    }

    /// Whether `addr` on engine interface `i` is one of the instances'
    /// addresses (never a source).
    fn is_own_address(&self, cfg: &Config, i: usize, addr: IpAddr) -> bool {
        self.slots.iter().any(|s| {
            cfg.vrrp
                .instances
                .get(usize::from(s.cfg))
                .is_some_and(|inst| {
                    addresses(inst)
                        .zip(s.addr_iface.iter())
                        .any(|(v, &a)| usize::from(a) == i && v.addr == addr)
                })
        })
    }

    /// An address notification. See the module doc.
    pub fn handle_address(&mut self, now: Instant, cfg: &Config, change: &AddressChange) {
        let Some(i) = self.iface_by_index(change.ifindex) else {
            return;
        };
        let addr = change.addr;
        if change.added {
            if !self.is_own_address(cfg, i, addr)
                && let Some(f) = self.interfaces.get_mut(i)
            {
                match addr {
                    IpAddr::V4(a)
                        if f.facts.ipv4.is_none() && change.flags & IFA_F_SECONDARY == 0 =>
                    {
                        f.facts.ipv4 = Some(a);
                    }
                    IpAddr::V6(a)
                        if f.facts.ipv6_link_local == Some(a)
                            && change.flags & IFA_F_DADFAILED != 0 =>
                    {
                        f.facts.ipv6_link_local = None;
                        self.pend(i, PENDING_SCAN);
                    }
                    IpAddr::V6(_) if f.facts.ipv6_link_local.is_none() => {
                        f.facts.ipv6_link_local = change.usable_link_local();
                    }
                    _ => {}
                }
            }
        } else {
            self.vip_deleted(cfg, i, addr);
            let mut lost = false;
            if let Some(f) = self.interfaces.get_mut(i) {
                if f.facts.ipv4.map(IpAddr::V4) == Some(addr) {
                    f.facts.ipv4 = None;
                    lost = true;
                }
                if f.facts.ipv6_link_local.map(IpAddr::V6) == Some(addr) {
                    f.facts.ipv6_link_local = None;
                    lost = true;
                }
            }
            if lost {
                // Which address is next: the scan says.
                self.pend(i, PENDING_SCAN);
            }
        }
        for si in 0..self.slots.len() {
            let configured = self
                .slots
                .get(si)
                .is_some_and(|s| s.src_cfg == Some(addr) && usize::from(s.src_iface) == i);
            if configured {
                self.set_src_present(si, change.added);
            }
        }
        self.refresh_all(now);
    }

    /// Address `addr` of engine interface `i` was deleted: a master's
    /// address (unless `no_track`) is marked for restoring.
    fn vip_deleted(&mut self, cfg: &Config, i: usize, addr: IpAddr) {
        for s in self.slots.iter_mut() {
            if s.fsm.state() != State::Master {
                continue;
            }
            let Some(inst) = cfg.vrrp.instances.get(usize::from(s.cfg)) else {
                continue;
            };
            for (k, (v, &a)) in addresses(inst).zip(s.addr_iface.iter()).enumerate() {
                if usize::from(a) == i && v.addr == addr && !v.no_track {
                    s.restore.set(k);
                    self.reflected = true;
                }
            }
        }
    }

    /// Records whether slot `si`'s configured source is on its interface.
    fn set_src_present(&mut self, si: usize, present: bool) {
        let Some(s) = self.slots.get_mut(si) else {
            return;
        };
        let before = s.src_present;
        if before == Some(present) {
            return;
        }
        s.src_present = Some(present);
        let Some(addr) = s.src_cfg else {
            return;
        };
        let event = if !present {
            Some(SourceEvent::ConfiguredMissing {
                addr,
                held: s.track_src,
            })
        } else if before == Some(false) {
            Some(SourceEvent::ConfiguredFound { addr })
        } else {
            None
        };
        if let Some(e) = event {
            Self::note(s, e);
            self.reflected = true;
        }
    }

    /// Queues a source event of a slot (the oldest goes if full).
    fn note(s: &mut super::Slot, e: SourceEvent) {
        if s.notes.is_full() {
            s.notes.pop_front();
        }
        // Room: made just above.
        let _ = s.notes.push_back(e);
    }

    /// Follows every slot's source address and recomputes its holds.
    fn refresh_all(&mut self, now: Instant) {
        for si in 0..self.slots.len() {
            self.refresh_source(si);
            self.refresh_hold(now, si);
        }
    }

    /// Slot `si` without a configured source takes its interface's current
    /// address of its family (or none).
    fn refresh_source(&mut self, si: usize) {
        let Some(s) = self.slots.get(si) else {
            return;
        };
        if s.src_cfg.is_some() {
            return;
        }
        let i = usize::from(s.src_iface);
        if self
            .iface_pending
            .get(i)
            .is_some_and(|p| p & PENDING_SCAN != 0)
        {
            // Which address is next is not known until the scan: the old
            // one stays (a master keeps running).
            return;
        }
        let Some(f) = self.interfaces.get(i) else {
            return;
        };
        let present = f.present;
        let new = match s.family {
            Family::Ipv4 => f.facts.ipv4.map(IpAddr::V4),
            Family::Ipv6 => f.facts.ipv6_link_local.map(IpAddr::V6),
        };
        let Some(s) = self.slots.get_mut(si) else {
            return;
        };
        let had = !s.src.is_unspecified();
        let event = match new {
            Some(a) if a == s.src => return,
            Some(to) if had => SourceEvent::Changed { from: s.src, to },
            Some(addr) => SourceEvent::Found { addr },
            None if !had => return,
            None => SourceEvent::Missing {
                iface: s.src_iface,
                family: s.family,
            },
        };
        s.src = new.unwrap_or(match s.family {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        });
        if let Some(a) = new {
            s.fsm.set_primary(a);
        }
        s.links.source_changes += 1;
        // While the interface is gone its loss says it all.
        if present {
            Self::note(s, event);
            self.reflected = true;
        }
    }

    /// Recomputes slot `si`'s holds and hands a change to its machine.
    fn refresh_hold(&mut self, now: Instant, si: usize) {
        let hold = self.hold_now(si);
        let Some(s) = self.slots.get_mut(si) else {
            return;
        };
        if hold == s.hold {
            return;
        }
        if s.hold == 0 {
            s.links.holds += 1;
        }
        s.hold = hold;
        self.apply_fault(now, si);
    }

    /// Why slot `si` should be held now: its interfaces, its source.
    pub(super) fn hold_now(&self, si: usize) -> u8 {
        let Some(s) = self.slots.get(si) else {
            return 0;
        };
        let mut hold = hold_of_interfaces(&self.interfaces, s.iface, &s.addr_iface, s.src_iface);
        let no_source = match s.src_cfg {
            None => s.src.is_unspecified(),
            Some(_) => s.track_src && s.src_present == Some(false),
        };
        if no_source {
            hold |= HOLD_NO_SOURCE;
        }
        hold
    }

    /// Why the engine holds instance `slot` in FAULT ([`HOLD_NO_INTERFACE`]
    /// | [`HOLD_NO_SOURCE`]; 0: it does not).
    pub fn hold(&self, slot: u16) -> u8 {
        self.slots.get(usize::from(slot)).map_or(0, |s| s.hold)
    }

    /// What the reflector did for instance `slot`.
    pub fn link_stats(&self, slot: u16) -> Option<&LinkStats> {
        self.slots.get(usize::from(slot)).map(|s| &s.links)
    }

    /// Whether an address scan is wanted (a primary or link-local address
    /// went, an interface came back, or a full scan was requested).
    pub fn address_scan_due(&self) -> bool {
        self.scan.full_requested || self.iface_pending.iter().any(|p| p & PENDING_SCAN != 0)
    }

    /// Whether the next address scan looks at engine interface `i` (every
    /// present one in a full scan). The binary first checks that it still
    /// exists: the kernel reports a deleted interface's addresses gone
    /// (`RTM_DELADDR`) before the interface itself (`RTM_DELLINK`, some
    /// milliseconds later), and a scan meanwhile would conclude "no
    /// address" and let a master say goodbye on a device that is no more.
    pub fn scan_wants(&self, i: usize) -> bool {
        self.interfaces.get(i).is_some_and(|f| f.present)
            && (self.scan.full_requested
                || self
                    .iface_pending
                    .get(i)
                    .is_some_and(|p| p & PENDING_SCAN != 0))
    }

    /// Asks for a full scan: every interface, and every master's addresses
    /// (after notifications were lost, and at start).
    pub fn request_full_scan(&mut self) {
        self.scan.full_requested = true;
    }

    /// Starts an address scan: feed every address the kernel has to
    /// [`Engine::scan_address`], then call [`Engine::end_address_scan`].
    pub fn begin_address_scan(&mut self) {
        let full = core::mem::take(&mut self.scan.full_requested);
        self.scan.full = full;
        self.scan.active = true;
        self.scan.ifaces.clear();
        for p in self.iface_pending.iter_mut() {
            let scanning = full || *p & PENDING_SCAN != 0;
            *p &= !PENDING_SCAN;
            // Capacity: one per interface.
            let _ = self.scan.ifaces.push(ScanIface {
                scanning,
                ..ScanIface::default()
            });
        }
        self.scan.src_seen.clear();
        for s in self.slots.iter_mut() {
            // Capacity: one per slot.
            let _ = self.scan.src_seen.push(false);
            s.unseen.clear_all();
            if full && s.fsm.state() == State::Master {
                s.unseen.fill(s.addr_iface.len());
            }
        }
    }

    /// One address the kernel has (a dump entry).
    pub fn scan_address(&mut self, cfg: &Config, change: &AddressChange) {
        if !self.scan.active {
            return;
        }
        let Some(i) = self.iface_by_index(change.ifindex) else {
            return;
        };
        let addr = change.addr;
        if self.scan.full {
            for s in self.slots.iter_mut() {
                if s.unseen.is_empty() {
                    continue;
                }
                let Some(inst) = cfg.vrrp.instances.get(usize::from(s.cfg)) else {
                    continue;
                };
                for (k, (v, &a)) in addresses(inst).zip(s.addr_iface.iter()).enumerate() {
                    if usize::from(a) == i && v.addr == addr {
                        s.unseen.clear(k);
                    }
                }
            }
        }
        let own = self.is_own_address(cfg, i, addr);
        let (Some(st), Some(f)) = (self.scan.ifaces.get_mut(i), self.interfaces.get(i)) else {
            return;
        };
        if !st.scanning {
            return;
        }
        match addr {
            IpAddr::V4(a) => {
                st.ipv4_seen |= f.facts.ipv4 == Some(a);
                if st.ipv4.is_none() && !own && change.flags & IFA_F_SECONDARY == 0 {
                    st.ipv4 = Some(a);
                }
            }
            IpAddr::V6(a) => {
                st.ll_seen |=
                    f.facts.ipv6_link_local == Some(a) && change.flags & IFA_F_DADFAILED == 0;
                if st.ll.is_none() && !own {
                    st.ll = change.usable_link_local();
                }
            }
        }
        for (s, seen) in self.slots.iter().zip(self.scan.src_seen.iter_mut()) {
            if s.src_cfg == Some(addr) && usize::from(s.src_iface) == i {
                *seen = true;
            }
        }
    }

    /// Abandons the scan (the dump failed): nothing is concluded, and the
    /// same scan is due again.
    pub fn abort_address_scan(&mut self) {
        if !core::mem::take(&mut self.scan.active) {
            return;
        }
        self.scan.full_requested |= self.scan.full;
        for (p, st) in self.iface_pending.iter_mut().zip(self.scan.ifaces.iter()) {
            if st.scanning {
                *p |= PENDING_SCAN;
            }
        }
        for s in self.slots.iter_mut() {
            s.unseen.clear_all();
        }
    }

    /// Ends the scan: addresses chosen again, configured sources checked,
    /// missing addresses of masters restored (full scan), holds updated.
    pub fn end_address_scan(&mut self, now: Instant, cfg: &Config) {
        if !core::mem::take(&mut self.scan.active) {
            return;
        }
        for (f, st) in self.interfaces.iter_mut().zip(self.scan.ifaces.iter()) {
            if !st.scanning || !f.present {
                continue;
            }
            if !st.ipv4_seen {
                f.facts.ipv4 = st.ipv4;
            }
            if !st.ll_seen {
                f.facts.ipv6_link_local = st.ll;
            }
        }
        for si in 0..self.slots.len() {
            let scanned = self.slots.get(si).is_some_and(|s| {
                s.src_cfg.is_some()
                    && self
                        .scan
                        .ifaces
                        .get(usize::from(s.src_iface))
                        .is_some_and(|st| st.scanning)
                    && self
                        .interfaces
                        .get(usize::from(s.src_iface))
                        .is_some_and(|f| f.present)
            });
            if scanned {
                let seen = self.scan.src_seen.get(si).copied().unwrap_or(false);
                self.set_src_present(si, seen);
            }
        }
        if self.scan.full {
            for s in self.slots.iter_mut() {
                let Some(inst) = cfg.vrrp.instances.get(usize::from(s.cfg)) else {
                    continue;
                };
                for (k, v) in addresses(inst).enumerate() {
                    if s.unseen.contains(k) && !v.no_track {
                        s.restore.set(k);
                        self.reflected = true;
                    }
                }
                s.unseen.clear_all();
            }
        }
        self.refresh_all(now);
    }

    /// The next thing the reflector asks for: interfaces to close or open,
    /// source events, addresses to restore.
    pub(super) fn poll_reflected(&mut self) -> Option<EngineAction> {
        if !self.reflected {
            return None;
        }
        for (i, p) in self.iface_pending.iter_mut().enumerate() {
            let iface = u8::try_from(i).unwrap_or(u8::MAX);
            if *p & PENDING_GONE != 0 {
                *p &= !PENDING_GONE;
                return Some(EngineAction::InterfaceGone { iface });
            }
            if *p & PENDING_BACK != 0 {
                *p &= !PENDING_BACK;
                if self.interfaces.get(i).is_some_and(|f| f.present) {
                    return Some(EngineAction::InterfaceBack { iface });
                }
            }
        }
        for (si, s) in self.slots.iter_mut().enumerate() {
            let slot = u16::try_from(si).unwrap_or(u16::MAX);
            if let Some(event) = s.notes.pop_front() {
                return Some(EngineAction::Source { slot, event });
            }
            if s.restore.is_empty() {
                continue;
            }
            if s.fsm.state() != State::Master {
                // Left MASTER meanwhile: its addresses went with it.
                s.restore.clear_all();
                continue;
            }
            let ready = |k: usize| {
                s.addr_iface
                    .get(k)
                    .and_then(|&a| self.interfaces.get(usize::from(a)))
                    .is_some_and(|f| f.present && f.facts.up)
            };
            // An address whose interface is down waits for it to come up.
            let next = s.restore.iter().find(|&k| ready(k));
            if let Some(k) = next {
                s.restore.clear(k);
                s.links.vips_restored += 1;
                let k = u16::try_from(k).unwrap_or(u16::MAX);
                return Some(EngineAction::RestoreVip { slot, k });
            }
        }
        self.reflected = false;
        None
    }
}

/// Room for source events, per slot.
pub(super) type Notes = Deque<SourceEvent, NOTES>;
