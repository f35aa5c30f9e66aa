//! Every VRRP instance of a configuration, with the packet handling around
//! each one's state machine ([`super::fsm`]): the configuration mapped to
//! [`InstanceParams`], received datagrams checked (each drop reason
//! counted), adverts, gratuitous ARPs, unsolicited neighbour advertisements
//! and address requests built into the caller's buffers, and their rounds
//! paced by `vrrp_garp_interval` / `vrrp_gna_interval`.
//!
//! Sans-IO like the rest of the core: the binary reads sockets and calls
//! [`Engine::handle_datagram`] (or [`Engine::handle_datagram6`]), calls [`Engine::handle_timeout`] when
//! [`Engine::poll_at`] is due, and carries out [`EngineAction`]s.
//!
//! What this build runs: VRRPv2 and VRRPv3 over IPv4 and VRRPv3 over IPv6,
//! multicast or unicast, on the instance's interface or its VMAC, with
//! `track_script`, `track_interface`, `track_file` and notify scripts (the
//! binary runs the scripts, watches the links and files, and sets priority
//! and fault with [`Engine::set_priority`] and [`Engine::set_fault`]).
//! [`check_runnable`] names every configured feature the daemon does not
//! run yet (per-VIP VMACs, `no_accept`) so the daemon can
//! refuse to start rather than run a configuration differently from
//! keepalived.
//!
//! # IPv6
//!
//! An instance's family is its VIPs' (the configuration refuses mixed VIPs
//! and VRRPv2 with IPv6; eVIPs may be of either family). An IPv6 instance
//! (RFC 5798 §5.1.2) sends VRRPv3 from the interface's link-local address
//! (or `mcast_src_ip`/`unicast_src_ip`) to ff02::12 (or `mcast_dst_ip`)
//! with hop limit 255, or to each unicast peer with `unicast_ttl` (the
//! kernel's default hop limit when unset, as keepalived), the checksum over
//! the IPv6 pseudo-header. Raw IPv6 sockets hand over the VRRP message
//! alone: the binary passes the source, destination and hop limit the
//! kernel reported ([`Ipv6Meta`]) to [`Engine::handle_datagram6`], which
//! runs every check of the IPv4 path. On becoming master, each address
//! (VIPs then eVIPs) is announced by its own family: gratuitous ARP for
//! IPv4, unsolicited neighbour advertisement for IPv6
//! ([`crate::wire::ndisc`]), paced by `vrrp_garp_interval` /
//! `vrrp_gna_interval`.
//!
//! # Unicast
//!
//! An instance with `unicast_peer` entries runs in unicast mode (keepalived's
//! `vrrp_send_adv()`): every advert is sent once to each peer, the IPv4
//! destination (and so the v3 pseudo-header checksum) rewritten per peer, with
//! TTL `unicast_ttl` (255 unless set). The source is `unicast_src_ip`, else
//! the interface's primary address. On receipt:
//! - the destination must be the instance's source address (a unicast
//!   instance ignores multicast adverts and a multicast one unicast adverts,
//!   as keepalived: the mode must match), else `bad_destination`;
//! - an advert from a configured peer has its TTL checked against that
//!   peer's `min_ttl`..`max_ttl` (0..255 unless given: no check, as
//!   keepalived), not against 255;
//! - an advert from an address that is not a configured peer is always
//!   dropped and counted (`not_a_peer`): `check_unicast_src` (and
//!   `vrrp_check_unicast_src`) is accepted but always on in picket.
//!   keepalived accepts strangers unless the check is on; a stranger that
//!   takes part in the election is how unicast set-ups split-brain, so picket
//!   does not (issue 4).
//!
//! A configuration whose `unicast_peer` block lists no peer is refused by
//! [`check_config`]: keepalived would silently fall back to multicast.
//!
//! Every datagram matched to an instance is also counted for its source
//! ([`Engine::peers`], [`super::peers`]): last time heard, last priority,
//! outcome by drop reason; configured unicast peers silent for
//! [`PEER_SILENCE_ADVERTS`] advert intervals after the start come out as
//! [`EngineAction::Peer`].
//!
//! # Sync groups
//!
//! The members of each `vrrp_sync_group` run as sync members of their
//! machine ([`Instance::set_sync_member`]); after every input the engine
//! tells the group ([`SyncGroupState`]) what a member did or wishes, and
//! applies its decision to every member with the machines' forced moves:
//! MASTER only when every member wants MASTER, any FAULT makes all FAULT,
//! a member leaving MASTER takes the others to BACKUP. A group's own state
//! changes come out as [`EngineAction::GroupTransition`] (group notify
//! scripts).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::{Deque, String, Vec};
use smoltcp::wire::{EthernetAddress, Ipv4Address, Ipv6Address};

use super::fsm::{
    AdvertInfo, GarpParams, Instance, InstanceParams, LateTimer, ParamsError, State, Version,
    VrrpAction, WantedState,
};
use super::peers::{PEERS_PER_INSTANCE, PeerEvent, Peers};
use super::sync::SyncGroupState;
use crate::config::vrrp::{Broadcast, VrrpInstance};
use crate::config::{Config, Diagnostics, Loc, Severity};
use crate::limits::{
    EXCLUDED_VIPS_PER_INSTANCE, IFNAME_BYTES, SYNC_GROUP_MEMBERS, SYNC_GROUPS, UNICAST_PEERS,
    VIPS_PER_INSTANCE, VRRP_INSTANCES,
};
use crate::time::{Duration, Instant, earliest, is_due};
use crate::wire::ndisc::UnsolicitedNa;
use crate::wire::rtnetlink::{AddressRequest, Operation};
use crate::wire::vrrp::{
    self as wire, Addresses, AuthType, ChecksumForm, Envelope, Family, Packet, Repr,
};

/// Facts about an interface the binary reads at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfFacts {
    /// Kernel interface index.
    pub index: u32,
    /// Hardware address (source of gratuitous ARPs).
    pub mac: [u8; 6],
    /// Primary IPv4 address (source of adverts unless `mcast_src_ip`).
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 link-local address (source of IPv6 adverts unless
    /// `mcast_src_ip`/`unicast_src_ip`).
    pub ipv6_link_local: Option<Ipv6Addr>,
    /// IPv6 forwarding is on: unsolicited neighbour advertisements carry
    /// the Router flag (keepalived). See [`Engine::update_ipv6_forwarding`].
    pub ipv6_forwarding: bool,
}

/// An interface the engine uses: the instance interfaces and the `dev` of
/// every VIP. The binary opens one VRRP socket and one ARP socket on each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name.
    pub name: String<IFNAME_BYTES>,
    /// What the kernel said about it.
    pub facts: IfFacts,
    /// Whether an IPv4 instance runs on it (so it needs an IPv4 VRRP
    /// socket), as opposed to only carrying VIPs.
    pub vrrp: bool,
    /// The IPv4 multicast group joined there; `None` when only unicast
    /// instances run on it (no membership).
    pub group: Option<Ipv4Addr>,
    /// Whether an IPv6 instance runs on it (an IPv6 VRRP socket).
    pub vrrp6: bool,
    /// The IPv6 multicast group joined there, as `group`.
    pub group6: Option<Ipv6Addr>,
}

/// Room for interfaces: each instance adds at most its own and one per VIP,
/// but boards have few; bounded by the instance table.
pub const INTERFACES: usize = VRRP_INSTANCES;

/// Addresses one instance adds: its VIPs and excluded VIPs.
pub const ADDRESSES_PER_INSTANCE: usize = VIPS_PER_INSTANCE + EXCLUDED_VIPS_PER_INSTANCE;

/// Why a received datagram was dropped: one counter each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxStats {
    /// Adverts accepted and handed to the state machine.
    pub accepted: u64,
    /// IPv4 header malformed, bad header checksum, or not protocol 112;
    /// IPv6: the kernel did not report the hop limit or destination.
    pub bad_ip: u64,
    /// The datagram was longer than the receive buffer.
    pub oversized: u64,
    /// No instance with this VRID on this interface.
    pub unknown_vrid: u64,
    /// TTL / hop limit is not 255 (RFC 5798 §7.1), or (unicast) outside
    /// the peer's `min_ttl`..`max_ttl`.
    pub bad_ttl: u64,
    /// Our own advert came back.
    pub own_advert: u64,
    /// Shorter than its header, or than its address count says.
    pub truncated: u64,
    /// Longer than its address count says.
    pub too_long: u64,
    /// Version is not the instance's.
    pub bad_version: u64,
    /// Type is not 1 (advertisement).
    pub bad_type: u64,
    /// Advertisement interval 0, or (v2) not the instance's.
    pub bad_interval: u64,
    /// The checksum matches no accepted form.
    pub bad_checksum: u64,
    /// v2 authentication type differs from the instance's.
    pub bad_auth_type: u64,
    /// v2 simple password differs.
    pub bad_password: u64,
    /// Any other malformation (family, VRID 0).
    pub malformed: u64,
    /// Accepted although its address list differs from ours (keepalived ≥
    /// 2.3.3 logs and accepts; counted here).
    pub address_mismatch: u64,
    /// The destination does not match the mode: a multicast instance got a
    /// unicast advert, or a unicast instance one not sent to its address.
    pub bad_destination: u64,
    /// Unicast: the source is not a configured peer (`check_unicast_src` is
    /// always on in picket).
    pub not_a_peer: u64,
}

impl RxStats {
    /// Every counter as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("accepted", self.accepted),
            ("bad_ip", self.bad_ip),
            ("oversized", self.oversized),
            ("unknown_vrid", self.unknown_vrid),
            ("bad_ttl", self.bad_ttl),
            ("own_advert", self.own_advert),
            ("truncated", self.truncated),
            ("too_long", self.too_long),
            ("bad_version", self.bad_version),
            ("bad_type", self.bad_type),
            ("bad_interval", self.bad_interval),
            ("bad_checksum", self.bad_checksum),
            ("bad_auth_type", self.bad_auth_type),
            ("bad_password", self.bad_password),
            ("malformed", self.malformed),
            ("address_mismatch", self.address_mismatch),
            ("bad_destination", self.bad_destination),
            ("not_a_peer", self.not_a_peer),
        ]
        .into_iter()
    }
}

impl core::fmt::Display for RxStats {
    /// The non-zero counters as `name=value`, space separated.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut first = true;
        for (name, value) in self.iter().filter(|&(_, v)| v != 0) {
            f.write_str(if first { "" } else { " " })?;
            first = false;
            write!(f, "{name}={value}")?;
        }
        if first {
            f.write_str("(none)")?;
        }
        Ok(())
    }
}

/// What the engine asks the binary to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineAction {
    /// Send an advert of instance `slot` with `priority`: build it with
    /// [`Engine::build_advert`] for each destination
    /// `0..Engine::advert_destinations(slot)` (the group, or each unicast
    /// peer).
    SendAdvert {
        /// The instance.
        slot: u16,
        /// Priority field (0 when leaving master).
        priority: u8,
    },
    /// Add every address of `slot`: [`Engine::address_request`] for
    /// `0..Engine::address_count(slot)`.
    AddVips {
        /// The instance.
        slot: u16,
    },
    /// Remove every address of `slot`.
    RemoveVips {
        /// The instance.
        slot: u16,
    },
    /// Announce every address of `slot` `count` times: a gratuitous ARP
    /// for each IPv4 and an unsolicited neighbour advertisement for each
    /// IPv6 address ([`Engine::build_announcement`] for
    /// `0..Engine::announcement_count(slot)`).
    Garp {
        /// The instance.
        slot: u16,
        /// Packets per VIP.
        count: u16,
    },
    /// `slot` changed state: log `(NAME) Entering {to} STATE`.
    Transition {
        /// The instance.
        slot: u16,
        /// Previous state.
        from: State,
        /// New state.
        to: State,
    },
    /// Master `slot` heard an advert with a lower priority: log it and run
    /// its `notify_master_rx_lower_pri`.
    MasterRxLowerPri {
        /// The instance.
        slot: u16,
        /// The advert's source.
        src: IpAddr,
        /// Its priority.
        priority: u8,
    },
    /// What instance `slot` heard from a peer changed: a configured peer
    /// silent since the start, or heard after that (log it).
    Peer {
        /// The instance.
        slot: u16,
        /// What happened.
        event: PeerEvent,
    },
    /// Sync group `group` (index in `cfg.vrrp.sync_groups`) entered `to`:
    /// run its notify scripts. Comes after its members' transitions.
    GroupTransition {
        /// The group's index in the configuration.
        group: u16,
        /// New state.
        to: State,
    },
}

/// Room for pending group transitions: a few per group between drains.
const GROUP_EVENTS: usize = SYNC_GROUPS * 4;

/// One sync group of running instances.
struct Group {
    /// Index in `cfg.vrrp.sync_groups`.
    cfg: u16,
    /// Engine slot of each member, by member number.
    slots: Vec<u16, SYNC_GROUP_MEMBERS>,
    state: SyncGroupState,
}

/// Why an instance cannot run; reported at start-up with its place in the
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// The interface does not exist.
    NoInterface,
    /// The interface has no IPv4 address and no `mcast_src_ip` is given.
    NoAddress,
    /// An IPv6 instance's interface has no link-local address and no
    /// `mcast_src_ip`/`unicast_src_ip` is given.
    NoLinkLocal,
    /// The interface table is full.
    TooManyInterfaces,
    /// The state machine refused the parameters.
    Params(ParamsError),
}

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SetupError::NoInterface => f.write_str("interface does not exist"),
            SetupError::NoAddress => {
                f.write_str("interface has no IPv4 address (give one, or set mcast_src_ip)")
            }
            SetupError::NoLinkLocal => f.write_str(
                "interface has no IPv6 link-local address (bring it up with IPv6 on, \
                 or set mcast_src_ip)",
            ),
            SetupError::TooManyInterfaces => f.write_str("too many interfaces"),
            SetupError::Params(e) => write!(f, "{e}"),
        }
    }
}

/// A configured unicast peer (of the instance's family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Peer {
    addr: IpAddr,
    min_ttl: u8,
    max_ttl: u8,
}

/// One running instance.
struct Slot {
    /// Index in `cfg.vrrp.instances`.
    cfg: u16,
    /// Index in the engine's interfaces.
    iface: u8,
    fsm: Instance,
    /// The family of the adverts (the VIPs').
    family: Family,
    /// Source of adverts: `mcast_src_ip`/`unicast_src_ip`, else the
    /// interface's primary IPv4 or link-local IPv6 address.
    src: IpAddr,
    /// Multicast destination (of `family`).
    group: IpAddr,
    /// Unicast peers; empty = multicast to `group`.
    peers: Vec<Peer, UNICAST_PEERS>,
    /// TTL / hop limit of unicast adverts (`unicast_ttl`); `None`: the
    /// kernel's default (IPv6 only; IPv4 is resolved to 255).
    unicast_ttl: Option<u8>,
    version: Version,
    adver_int_cs: u16,
    /// v2 `auth_type PASS` data.
    password: Option<[u8; wire::AUTH_DATA_LEN]>,
    checksum: ChecksumForm,
    /// VIPs, as carried in adverts.
    vips: Vips,
    /// Interface index (in the engine's table) of each VIP then each eVIP.
    addr_iface: Vec<u8, ADDRESSES_PER_INSTANCE>,
    garp_interval: Duration,
    garp_pending: u16,
    garp_next: Option<Instant>,
    rx: RxStats,
    /// Sync group (index in the engine's groups) and member number.
    sync: Option<(u8, u8)>,
    /// When the last transition was polled, and the state it left.
    last_transition: Option<(Instant, State)>,
    /// When the last advert was accepted.
    last_advert: Option<Instant>,
}

/// An instance's VIPs, of its one family (the configuration refuses mixed
/// lists): the typed list adverts carry.
// One list per instance either way, and no heap to box the larger into: the
// IPv6 size is the price of holding either family in place.
#[allow(clippy::large_enum_variant)]
enum Vips {
    V4(Vec<Ipv4Address, VIPS_PER_INSTANCE>),
    V6(Vec<Ipv6Address, VIPS_PER_INSTANCE>),
}

impl Vips {
    /// The list as adverts carry it.
    fn addresses(&self) -> Addresses<'_> {
        match self {
            Vips::V4(list) => Addresses::ipv4(list),
            Vips::V6(list) => Addresses::ipv6(list),
        }
    }
}

/// What the kernel reported about a datagram received on a raw IPv6 socket,
/// which hands over the VRRP message without the IPv6 header
/// (`IPV6_RECVPKTINFO`, `IPV6_RECVHOPLIMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Meta {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address; `None` if the kernel did not say.
    pub dst: Option<Ipv6Addr>,
    /// Hop limit; `None` if the kernel did not say.
    pub hop_limit: Option<u8>,
}

/// An IPv6 advert built by [`Engine::build_advert6`]: the VRRP message is
/// in the caller's buffer; the kernel writes the IPv6 header from these
/// (traffic class 0xc0 is the socket's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Advert {
    /// The engine interface to send it on.
    pub iface: usize,
    /// Source address (`IPV6_PKTINFO`).
    pub src: Ipv6Addr,
    /// Destination: the group or one unicast peer.
    pub dst: Ipv6Addr,
    /// Hop limit (`IPV6_HOPLIMIT`); `None`: the kernel's default (unicast
    /// without `unicast_ttl`, as keepalived).
    pub hop_limit: Option<u8>,
    /// Bytes of the VRRP message.
    pub len: usize,
}

/// Which link-layer announcement [`Engine::build_announcement`] built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announcement {
    /// A gratuitous ARP (IPv4 address).
    Arp,
    /// An unsolicited neighbour advertisement (IPv6 address).
    NeighbourAdvert,
}

/// The IP header facts of a received advert the checks need, either family.
struct Received<'a> {
    family: Family,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    envelope: Envelope,
    /// The VRRP message.
    payload: &'a [u8],
}

/// All instances.
pub struct Engine {
    slots: Vec<Slot, VRRP_INSTANCES>,
    interfaces: Vec<Interface, INTERFACES>,
    /// Round-robin position of [`Engine::poll_action`].
    next_slot: usize,
    /// Gratuitous ARP rounds due, produced by the pacing timers.
    garps: Deque<EngineAction, VRRP_INSTANCES>,
    /// Drops not attributable to one instance.
    rx: RxStats,
    ident: u16,
    /// Sync groups of running instances.
    groups: Vec<Group, SYNC_GROUPS>,
    /// Group transitions not yet polled.
    group_events: Deque<EngineAction, GROUP_EVENTS>,
    /// Group transitions lost to a full queue.
    group_events_lost: u32,
    /// What each instance heard from each source, by slot.
    peers: Vec<Peers, VRRP_INSTANCES>,
    /// Peer events not yet polled.
    peer_events: Deque<EngineAction, PEER_EVENTS>,
}

/// Room for pending peer events: one per configured peer, twice.
const PEER_EVENTS: usize = 2 * PEERS_PER_INSTANCE;

/// How long a configured unicast peer may stay unheard after the start
/// before it is reported: this many advert intervals.
pub const PEER_SILENCE_ADVERTS: u32 = 10;

/// Names every feature `inst` uses that this build does not run, with where
/// it is written. An instance is runnable when this reports nothing.
pub fn check_runnable(inst: &VrrpInstance, mut report: impl FnMut(Loc, &str)) {
    if inst.vips.iter().any(|v| v.use_vmac) {
        report(
            inst.loc,
            "use_vmac on a virtual_ipaddress entry (a VMAC per VIP)",
        );
    }
    if inst.accept == Some(false) {
        report(inst.loc, "no_accept (it needs firewall rules)");
    }
}

/// Reports to `diags`, with `severity`, every instance of `cfg` that uses
/// a feature this build does not run (see [`check_runnable`]): errors when
/// the daemon starts, warnings for `picket -t`.
pub fn check_config(cfg: &Config, diags: &mut Diagnostics, severity: Severity) {
    for inst in &cfg.vrrp.instances {
        check_runnable(inst, |loc, what| {
            diags.push(
                severity,
                Some(loc),
                format_args!(
                    "vrrp_instance {}: {what} is not run by this picket yet",
                    inst.name
                ),
                format_args!(
                    "remove it, or run keepalived for this instance until picket supports it"
                ),
            );
        });
        if let Some(loc) = no_unicast_peer(inst) {
            diags.push(
                severity,
                Some(loc),
                format_args!(
                    "vrrp_instance {}: unicast is configured but no unicast_peer is listed; \
                     picket does not fall back to multicast",
                    inst.name
                ),
                format_args!(
                    "list the peers in 'unicast_peer {{ }}', or remove the unicast keywords to run multicast"
                ),
            );
        }
    }
}

/// Where `inst` asks for unicast (an empty `unicast_peer` block, or
/// `unicast_fault_no_peer`) without naming a peer. keepalived falls back to
/// multicast there (or to FAULT with `unicast_fault_no_peer`); picket refuses
/// to start. (`unicast_src_ip` alone is keepalived's `mcast_src_ip`: it does
/// not ask for unicast.)
pub fn no_unicast_peer(inst: &VrrpInstance) -> Option<Loc> {
    if !inst.unicast_peers.is_empty() {
        return None;
    }
    match inst.locs.unicast_peer {
        Some(loc) => Some(loc),
        None if inst.unicast_fault_no_peer => Some(inst.loc),
        None => None,
    }
}

fn version_of(inst: &VrrpInstance) -> Version {
    if inst.version == Some(3) {
        Version::V3
    } else {
        Version::V2
    }
}

fn u16_sat(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// Maps a configured instance to the state machine's parameters.
pub fn params_of(inst: &VrrpInstance, primary: IpAddr) -> InstanceParams {
    let priority = inst.priority.unwrap_or(100);
    let mut p = InstanceParams::new(inst.vrid, priority, primary);
    p.version = version_of(inst);
    let cs = inst.advert_int.total_millis() / 10;
    p.advert_int = u16::try_from(cs).unwrap_or(u16::MAX);
    p.preempt = !inst.nopreempt;
    p.preempt_delay = inst.preempt_delay;
    p.accept = inst.accept.unwrap_or(true);
    p.down_timer_adverts = inst.down_timer_adverts.unwrap_or(3);
    p.lower_prio_no_advert = inst.lower_prio_no_advert.unwrap_or(false);
    p.higher_prio_send_advert = inst.higher_prio_send_advert.unwrap_or(false);
    p.owner_ignore_adverts = inst.owner_ignore_adverts.unwrap_or(false);
    let d = GarpParams::default();
    p.garp = GarpParams {
        master_delay: inst.garp_master_delay.unwrap_or(d.master_delay),
        master_repeat: inst.garp_master_repeat.map_or(d.master_repeat, u16_sat),
        master_refresh: inst.garp_master_refresh.unwrap_or(d.master_refresh),
        master_refresh_repeat: inst
            .garp_master_refresh_repeat
            .map_or(d.master_refresh_repeat, u16_sat),
        lower_prio_delay: inst.garp_lower_prio_delay.unwrap_or(d.lower_prio_delay),
        lower_prio_repeat: inst
            .garp_lower_prio_repeat
            .map_or(d.lower_prio_repeat, u16_sat),
    };
    p.initial = match inst.state {
        Some(crate::config::vrrp::State::Master) => WantedState::Master,
        _ => WantedState::Backup,
    };
    p
}

impl Engine {
    /// Builds the engine for every instance of `cfg`. `lookup` gives the
    /// facts of an interface by name (`None`: no such interface). Instances
    /// that cannot run are reported to `error` with their index and left
    /// out; the caller decides whether to go on.
    pub fn new(
        cfg: &Config,
        lookup: &mut dyn FnMut(&str) -> Option<IfFacts>,
        error: &mut dyn FnMut(usize, &str, SetupError),
    ) -> Self {
        let mut engine = Engine::empty();
        engine.load(cfg, lookup, error);
        engine
    }

    /// An engine without instances (the spare of a reload is built in
    /// place with [`Engine::load`]).
    pub fn empty() -> Self {
        Engine {
            slots: Vec::new(),
            interfaces: Vec::new(),
            next_slot: 0,
            garps: Deque::new(),
            rx: RxStats::default(),
            ident: 0,
            groups: Vec::new(),
            group_events: Deque::new(),
            group_events_lost: 0,
            peers: Vec::new(),
            peer_events: Deque::new(),
        }
    }

    /// Empties this engine and builds every instance of `cfg` in place, as
    /// [`Engine::new`] does (a reload builds the next configuration's
    /// engine this way, without a second one on the stack).
    pub fn load(
        &mut self,
        cfg: &Config,
        lookup: &mut dyn FnMut(&str) -> Option<IfFacts>,
        error: &mut dyn FnMut(usize, &str, SetupError),
    ) {
        self.slots.clear();
        self.interfaces.clear();
        self.next_slot = 0;
        self.garps.clear();
        self.rx = RxStats::default();
        self.groups.clear();
        self.group_events.clear();
        self.peers.clear();
        self.peer_events.clear();
        for (i, inst) in cfg.vrrp.instances.iter().enumerate() {
            if let Err((name, e)) = self.add(cfg, i, inst, lookup) {
                error(i, name, e);
            }
        }
        self.add_groups(cfg);
        for s in &self.slots {
            let silence = s.fsm.advertisement_interval() * PEER_SILENCE_ADVERTS;
            let configured = s.peers.iter().map(|p| p.addr);
            // Capacity: one per slot.
            let _ = self.peers.push(Peers::new(configured, silence));
        }
    }

    /// Whether instance `slot` of this engine and `other_slot` of `other`
    /// are the same virtual router for a reload (keepalived's
    /// `vrrp_exist`): same VRID, version and family on the same interface,
    /// the same mode, source and (multicast) group. The caller also
    /// compares the names.
    pub fn same_router(&self, slot: u16, other: &Engine, other_slot: u16) -> bool {
        let (Some(a), Some(b)) = (
            self.slots.get(usize::from(slot)),
            other.slots.get(usize::from(other_slot)),
        ) else {
            return false;
        };
        let (pa, pb) = (a.fsm.params(), b.fsm.params());
        let ifname = |e: &Engine, s: &Slot| {
            e.interfaces
                .get(usize::from(s.iface))
                .map(|f| (f.name.clone(), f.facts.index))
        };
        pa.vrid == pb.vrid
            && pa.version == pb.version
            && a.family == b.family
            && a.peers.is_empty() == b.peers.is_empty()
            && a.src == b.src
            && (!a.peers.is_empty() || a.group == b.group)
            && ifname(self, a) == ifname(other, b)
    }

    /// Reload: instance `slot` of this (new) engine carries on the running
    /// machine of `old`'s `old_slot` — state, timers, effective priority,
    /// master, counters, pending gratuitous ARPs — with this slot's
    /// parameters ([`Instance::reconfigure`]). No transition, no advert
    /// beyond what a changed priority asks for.
    pub fn adopt(&mut self, now: Instant, slot: u16, old: &mut Engine, old_slot: u16) {
        let (Some(n), Some(o)) = (
            self.slots.get_mut(usize::from(slot)),
            old.slots.get_mut(usize::from(old_slot)),
        ) else {
            return;
        };
        let params = *n.fsm.params();
        core::mem::swap(&mut n.fsm, &mut o.fsm);
        n.fsm.reconfigure(now, params);
        n.fsm.set_sync_member(n.sync.is_some());
        n.rx = o.rx;
        n.last_transition = o.last_transition;
        n.last_advert = o.last_advert;
        n.garp_pending = o.garp_pending;
        n.garp_next = o.garp_next;
        // The old slot is gone with the old engine: nothing of it runs.
        o.garp_pending = 0;
        o.garp_next = None;
        if let (Some(np), Some(op)) = (
            self.peers.get_mut(usize::from(slot)),
            old.peers.get(usize::from(old_slot)),
        ) {
            np.adopt(now, op);
        }
    }

    /// Reload: sync group `group` (index in the configuration) of this
    /// engine carries on `old`'s group `old_group`, whose members are the
    /// same instances.
    pub fn adopt_group(&mut self, group: usize, old: &Engine, old_group: usize) {
        let Some(state) = old
            .groups
            .iter()
            .find(|g| usize::from(g.cfg) == old_group)
            .map(|g| g.state.clone())
        else {
            return;
        };
        if let Some(g) = self.groups.iter_mut().find(|g| usize::from(g.cfg) == group) {
            g.state = state;
        }
    }

    /// Reload: sync group `group` (index in the configuration) is new or
    /// changed; its view of its members is taken from their machines
    /// (carried over by [`Engine::adopt`]), and nobody is moved.
    pub fn seed_group(&mut self, group: usize) {
        let Some(g) = self.groups.iter_mut().find(|g| usize::from(g.cfg) == group) else {
            return;
        };
        for (m, &slot) in g.slots.iter().enumerate() {
            if let Some(s) = self.slots.get(usize::from(slot)) {
                g.state.seed(m, s.fsm.state(), s.fsm.is_faulty());
            }
        }
        g.state.settle();
    }

    /// Stops instance `slot` alone (a reload removed it): a master sends
    /// priority 0 and drops its addresses, as at shutdown.
    pub fn shutdown_slot(&mut self, now: Instant, slot: u16) {
        let i = usize::from(slot);
        let before = self.before(i);
        if let Some(s) = self.slots.get_mut(i) {
            s.fsm.shutdown(now);
            s.garp_pending = 0;
            s.garp_next = None;
        }
        self.sync_after(now, i, before);
    }

    /// Starts instance `slot` alone (a reload added it).
    pub fn start_slot(&mut self, now: Instant, slot: u16) {
        let i = usize::from(slot);
        if let Some(p) = self.peers.get_mut(i) {
            p.start(now);
        }
        let before = self.before(i);
        if let Some(s) = self.slots.get_mut(i) {
            s.fsm.start(now);
        }
        self.sync_after(now, i, before);
    }

    /// What instance `slot` heard from each source.
    pub fn peers(&self, slot: u16) -> Option<&Peers> {
        self.peers.get(usize::from(slot))
    }

    /// Builds the sync groups from the instances that run; members that
    /// could not be set up are left out.
    fn add_groups(&mut self, cfg: &Config) {
        for (gi, g) in cfg.vrrp.sync_groups.iter().enumerate() {
            let mut slots: Vec<u16, SYNC_GROUP_MEMBERS> = Vec::new();
            for (name, _) in &g.members {
                let found = self.slots.iter().position(|s| {
                    cfg.vrrp
                        .instances
                        .get(usize::from(s.cfg))
                        .is_some_and(|i| i.name.as_str() == name.as_str())
                });
                if let Some(k) = found.and_then(|k| u16::try_from(k).ok()) {
                    // Capacity: the group holds at most this many names.
                    let _ = slots.push(k);
                }
            }
            let (Ok(cfg_index), Ok(group_index)) =
                (u16::try_from(gi), u8::try_from(self.groups.len()))
            else {
                continue;
            };
            if slots.is_empty() {
                continue;
            }
            for (m, &k) in slots.iter().enumerate() {
                if let Some(s) = self.slots.get_mut(usize::from(k)) {
                    s.sync = Some((group_index, u8::try_from(m).unwrap_or(u8::MAX)));
                    s.fsm.set_sync_member(true);
                }
            }
            let state = SyncGroupState::new(slots.len());
            // Capacity: at most SYNC_GROUPS blocks are parsed.
            let _ = self.groups.push(Group {
                cfg: cfg_index,
                slots,
                state,
            });
        }
    }

    /// The group state of sync group `group` (index in
    /// `cfg.vrrp.sync_groups`), if it runs.
    pub fn sync_group(&self, group: usize) -> Option<&SyncGroupState> {
        self.groups
            .iter()
            .find(|g| usize::from(g.cfg) == group)
            .map(|g| &g.state)
    }

    /// Group transitions lost to a full queue (not expected).
    pub fn group_events_lost(&self) -> u32 {
        self.group_events_lost
    }

    /// The state and fault flag of slot `i` before an input, for
    /// [`Engine::sync_after`].
    fn before(&self, i: usize) -> (State, bool) {
        self.slots.get(i).map_or((State::Initialize, false), |s| {
            (s.fsm.state(), s.fsm.is_faulty())
        })
    }

    /// After an input to slot `i`: if it is a sync member, tells its group
    /// what the machine did or wishes and applies the group's decision to
    /// every member.
    fn sync_after(&mut self, now: Instant, i: usize, before: (State, bool)) {
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        let Some((g, m)) = s.sync else {
            return;
        };
        let (g, m) = (usize::from(g), usize::from(m));
        let after = s.fsm.state();
        let faulty = s.fsm.is_faulty();
        let wish = s.fsm.take_master_wish();
        let withdrawn = after == State::Backup && !s.fsm.wants_master();
        let want = if after != before.0 {
            Some(after)
        } else if faulty != before.1 {
            Some(if faulty { State::Fault } else { State::Backup })
        } else if wish {
            Some(State::Master)
        } else {
            None
        };
        let Some(group) = self.groups.get_mut(g) else {
            return;
        };
        if withdrawn {
            group.state.withdraw_master(m);
        }
        let Some(want) = want else {
            return;
        };
        let d = group.state.handle_want(m, want);
        let mut moves: Vec<(u16, State), SYNC_GROUP_MEMBERS> = Vec::new();
        for (k, &slot) in group.slots.iter().enumerate() {
            if let Some(st) = group.state.member_state(k) {
                // Capacity: one per member.
                let _ = moves.push((slot, st));
            }
        }
        if let Some(to) = d.group {
            let ev = EngineAction::GroupTransition {
                group: group.cfg,
                to,
            };
            if self.group_events.push_back(ev).is_err() {
                self.group_events_lost += 1;
            }
        }
        // Every member to where the group sees it (the asker first).
        moves.sort_unstable_by_key(|&(slot, _)| usize::from(slot) != i);
        for (slot, to) in moves {
            let Some(s) = self.slots.get_mut(usize::from(slot)) else {
                continue;
            };
            if s.fsm.state() == to {
                continue;
            }
            match to {
                State::Master => s.fsm.force_master(now),
                State::Backup => s.fsm.force_backup(now),
                State::Fault => s.fsm.force_fault(now),
                // Stopping is per member (shutdown).
                State::Initialize => {}
            }
        }
    }

    /// The index of interface `name`, added if new. `vrrp`: an instance of
    /// family `family` runs on it (joined to `group` if multicast).
    fn interface_index(
        &mut self,
        name: &str,
        vrrp: Option<Family>,
        group: Option<IpAddr>,
        lookup: &mut dyn FnMut(&str) -> Option<IfFacts>,
    ) -> Result<u8, SetupError> {
        let i = self.find_or_add_interface(name, lookup)?;
        if let Some(f) = self.interfaces.get_mut(usize::from(i)) {
            match vrrp {
                Some(Family::Ipv4) => f.vrrp = true,
                Some(Family::Ipv6) => f.vrrp6 = true,
                None => {}
            }
            match group {
                Some(IpAddr::V4(g)) => f.group = f.group.or(Some(g)),
                Some(IpAddr::V6(g)) => f.group6 = f.group6.or(Some(g)),
                None => {}
            }
        }
        Ok(i)
    }

    fn find_or_add_interface(
        &mut self,
        name: &str,
        lookup: &mut dyn FnMut(&str) -> Option<IfFacts>,
    ) -> Result<u8, SetupError> {
        if let Some(i) = self.interfaces.iter().position(|f| f.name.as_str() == name) {
            return u8::try_from(i).map_err(|_| SetupError::TooManyInterfaces);
        }
        let facts = lookup(name).ok_or(SetupError::NoInterface)?;
        let mut n = String::new();
        n.push_str(name).map_err(|_| SetupError::NoInterface)?;
        let i = u8::try_from(self.interfaces.len()).map_err(|_| SetupError::TooManyInterfaces)?;
        self.interfaces
            .push(Interface {
                name: n,
                facts,
                vrrp: false,
                group: None,
                vrrp6: false,
                group6: None,
            })
            .map_err(|_| SetupError::TooManyInterfaces)?;
        Ok(i)
    }

    fn add<'c>(
        &mut self,
        cfg: &Config,
        index: usize,
        inst: &'c VrrpInstance,
        lookup: &mut dyn FnMut(&str) -> Option<IfFacts>,
    ) -> Result<(), (&'c str, SetupError)> {
        let name = inst.interface.as_str();
        let family = if inst.ipv6 {
            Family::Ipv6
        } else {
            Family::Ipv4
        };
        let group = match (family, inst.mcast_dst_ip) {
            (Family::Ipv4, Some(g @ IpAddr::V4(_))) | (Family::Ipv6, Some(g @ IpAddr::V6(_))) => g,
            (Family::Ipv4, _) => IpAddr::V4(match cfg.global.vrrp_mcast_group4 {
                g if g.is_multicast() => g,
                _ => Ipv4Addr::new(224, 0, 0, 18),
            }),
            (Family::Ipv6, _) => IpAddr::V6(match cfg.global.vrrp_mcast_group6 {
                g if g.is_multicast() => g,
                _ => wire::IPV6_MULTICAST,
            }),
        };
        let mut peers = Vec::new();
        for p in &inst.unicast_peers {
            // Another family is a configuration error.
            if p.addr.is_ipv6() == inst.ipv6 {
                let _ = peers.push(Peer {
                    addr: p.addr,
                    min_ttl: p.min_ttl,
                    max_ttl: p.max_ttl,
                });
            }
        }
        let joined = peers.is_empty().then_some(group);
        let iface = self
            .interface_index(name, Some(family), joined, lookup)
            .map_err(|e| (name, e))?;
        let facts = self.interfaces.get(usize::from(iface)).map(|f| f.facts);
        let src = match (family, inst.src_ip) {
            (Family::Ipv4, Some(a @ IpAddr::V4(_))) | (Family::Ipv6, Some(a @ IpAddr::V6(_))) => a,
            (Family::Ipv4, _) => IpAddr::V4(
                facts
                    .and_then(|f| f.ipv4)
                    .ok_or((name, SetupError::NoAddress))?,
            ),
            (Family::Ipv6, _) => IpAddr::V6(
                facts
                    .and_then(|f| f.ipv6_link_local)
                    .ok_or((name, SetupError::NoLinkLocal))?,
            ),
        };
        let fsm = Instance::new(params_of(inst, src)).map_err(|e| (name, SetupError::Params(e)))?;
        let mut addr_iface = Vec::new();
        for v in inst.vips.iter().chain(inst.evips.iter()) {
            let dev = if v.dev.is_empty() {
                name
            } else {
                v.dev.as_str()
            };
            let i = self
                .interface_index(dev, None, None, lookup)
                .map_err(|e| (dev, e))?;
            let _ = addr_iface.push(i);
        }
        // Capacity: the configuration holds at most VIPS_PER_INSTANCE.
        let mut vips = match family {
            Family::Ipv4 => Vips::V4(Vec::new()),
            Family::Ipv6 => Vips::V6(Vec::new()),
        };
        for v in &inst.vips {
            match (&mut vips, v.addr) {
                (Vips::V4(list), IpAddr::V4(a)) => {
                    let _ = list.push(a);
                }
                (Vips::V6(list), IpAddr::V6(a)) => {
                    let _ = list.push(a);
                }
                // Mixed families are a configuration error.
                _ => {}
            }
        }
        // keepalived paces each family by its own interval; an instance
        // announcing both (eVIPs of the other family) uses the longer.
        let all = || inst.vips.iter().chain(inst.evips.iter());
        let garp_interval = core::cmp::max(
            if all().any(|v| v.addr.is_ipv4()) {
                cfg.global.vrrp_garp_interval
            } else {
                Duration::ZERO
            },
            if all().any(|v| v.addr.is_ipv6()) {
                cfg.global.vrrp_gna_interval
            } else {
                Duration::ZERO
            },
        );
        let password = inst.auth_pass.as_ref().map(|p| {
            let mut data = [0u8; wire::AUTH_DATA_LEN];
            for (d, s) in data.iter_mut().zip(p.as_bytes()) {
                *d = *s;
            }
            data
        });
        let version = version_of(inst);
        // `v3_checksum_as_v2` is for IPv4 only: IPv6 always has the
        // pseudo-header (RFC 5798 §5.2.8).
        let checksum = if version == Version::V3
            && (family == Family::Ipv6 || !inst.v3_checksum_as_v2.unwrap_or(false))
        {
            ChecksumForm::PseudoHeader
        } else {
            ChecksumForm::Message
        };
        let adver_int_cs = u16::try_from(inst.advert_int.total_millis() / 10).unwrap_or(u16::MAX);
        let slot = Slot {
            cfg: u16::try_from(index).unwrap_or(u16::MAX),
            iface,
            fsm,
            family,
            src,
            group,
            peers,
            unicast_ttl: inst.unicast_ttl,
            version,
            adver_int_cs,
            password,
            checksum,
            vips,
            addr_iface,
            garp_interval,
            garp_pending: 0,
            garp_next: None,
            rx: RxStats::default(),
            sync: None,
            last_transition: None,
            last_advert: None,
        };
        self.slots
            .push(slot)
            .map_err(|_| (name, SetupError::TooManyInterfaces))
    }

    /// The interfaces used, in the order of their indices.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Number of running instances.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no instance runs.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The configuration index of instance `slot`.
    pub fn config_index(&self, slot: u16) -> Option<usize> {
        self.slots
            .get(usize::from(slot))
            .map(|s| usize::from(s.cfg))
    }

    /// The state of instance `slot`.
    pub fn state(&self, slot: u16) -> Option<State> {
        self.slots.get(usize::from(slot)).map(|s| s.fsm.state())
    }

    /// When instance `slot` last changed state (as its transition was
    /// polled), and the state it left.
    pub fn last_transition(&self, slot: u16) -> Option<(Instant, State)> {
        self.slots
            .get(usize::from(slot))
            .and_then(|s| s.last_transition)
    }

    /// When instance `slot` last accepted an advert.
    pub fn last_advert(&self, slot: u16) -> Option<Instant> {
        self.slots
            .get(usize::from(slot))
            .and_then(|s| s.last_advert)
    }

    /// The multicast group of instance `slot` (unused in unicast mode).
    pub fn group(&self, slot: u16) -> Option<IpAddr> {
        self.slots.get(usize::from(slot)).map(|s| s.group)
    }

    /// The interface instance `slot` runs on.
    pub fn interface_of(&self, slot: u16) -> Option<&Interface> {
        let s = self.slots.get(usize::from(slot))?;
        self.interfaces.get(usize::from(s.iface))
    }

    /// The state machine of instance `slot` (timers, stats).
    pub fn instance(&self, slot: u16) -> Option<&Instance> {
        self.slots.get(usize::from(slot)).map(|s| &s.fsm)
    }

    /// Sets the effective priority of instance `slot` (from its trackers);
    /// a master advertises it at once.
    pub fn set_priority(&mut self, now: Instant, slot: u16, priority: u8) {
        if let Some(s) = self.slots.get_mut(usize::from(slot)) {
            s.fsm.set_priority(now, priority);
        }
    }

    /// Sets whether a tracked object of instance `slot` puts it in FAULT.
    pub fn set_fault(&mut self, now: Instant, slot: u16, fault: bool) {
        let i = usize::from(slot);
        let before = self.before(i);
        if let Some(s) = self.slots.get_mut(i) {
            s.fsm.set_fault(now, fault);
        }
        self.sync_after(now, i, before);
    }

    /// Drop counters of instance `slot`.
    pub fn rx_stats(&self, slot: u16) -> Option<&RxStats> {
        self.slots.get(usize::from(slot)).map(|s| &s.rx)
    }

    /// Drop counters not attributable to one instance.
    pub fn global_rx_stats(&self) -> &RxStats {
        &self.rx
    }

    /// Zeroes every instance's counters and the receive counters
    /// (keepalived's STATS_CLEAR).
    pub fn clear_stats(&mut self) {
        self.rx = RxStats::default();
        for s in &mut self.slots {
            s.rx = RxStats::default();
            s.fsm.clear_stats();
        }
    }

    /// The instance whose timer is furthest past its budget at `now` (see
    /// [`Instance::late_timer`]), with its slot; `None` when no timer is due.
    pub fn late_timer(&self, now: Instant) -> Option<(u16, LateTimer)> {
        let excess = |l: &LateTimer| {
            if l.late_by > l.budget {
                l.late_by - l.budget
            } else {
                Duration::ZERO
            }
        };
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((u16::try_from(i).ok()?, s.fsm.late_timer(now)?)))
            .max_by_key(|(_, l)| (excess(l), l.late_by))
    }

    /// After a watchdog reset: every instance starts as BACKUP and follows
    /// lower-priority masters until `until` (call before
    /// [`Engine::start`]; see [`Instance::hold_after_reset`]).
    pub fn hold_after_reset(&mut self, until: Instant) {
        for s in &mut self.slots {
            s.fsm.hold_after_reset(until);
        }
    }

    /// Caps every instance's advertised priority (safe mode: 1;
    /// [`super::fsm::OWNER_PRIORITY`]: no cap).
    pub fn set_priority_cap(&mut self, now: Instant, cap: u8) {
        for s in &mut self.slots {
            s.fsm.set_priority_cap(now, cap);
        }
    }

    /// Starts every instance.
    pub fn start(&mut self, now: Instant) {
        for slot in 0..u16::try_from(self.slots.len()).unwrap_or(u16::MAX) {
            self.start_slot(now, slot);
        }
    }

    /// Stops every instance: a master sends priority 0 and drops its
    /// addresses (the actions are queued).
    pub fn shutdown(&mut self, now: Instant) {
        for slot in 0..u16::try_from(self.slots.len()).unwrap_or(u16::MAX) {
            self.shutdown_slot(now, slot);
        }
    }

    /// The earliest deadline of any instance.
    pub fn poll_at(&self) -> Option<Instant> {
        let slots = self.slots.iter().fold(None, |acc, s| {
            earliest(earliest(acc, s.fsm.poll_at()), s.garp_next)
        });
        self.peers
            .iter()
            .fold(slots, |acc, p| earliest(acc, p.poll_at()))
    }

    /// Fires every due deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Engine {
            peers, peer_events, ..
        } = self;
        for (i, p) in peers.iter_mut().enumerate() {
            if is_due(now, p.poll_at()) {
                let slot = u16::try_from(i).unwrap_or(u16::MAX);
                // Room: at most one event per configured peer is queued.
                p.handle_timeout(now, &mut |event| {
                    let _ = peer_events.push_back(EngineAction::Peer { slot, event });
                });
            }
        }
        for i in 0..self.slots.len() {
            let before = self.before(i);
            let Some(s) = self.slots.get_mut(i) else {
                continue;
            };
            if is_due(now, s.fsm.poll_at()) {
                s.fsm.handle_timeout(now);
                self.sync_after(now, i, before);
            }
            let Some(s) = self.slots.get_mut(i) else {
                continue;
            };
            if is_due(now, s.garp_next) && s.garp_pending > 0 {
                s.garp_pending -= 1;
                s.garp_next = if s.garp_pending > 0 {
                    Some(now + s.garp_interval)
                } else {
                    None
                };
                let slot = u16::try_from(i).unwrap_or(u16::MAX);
                // The queue holds one entry per instance at most: a full
                // queue cannot happen, and a lost round is only a lost GARP.
                let _ = self.garps.push_back(EngineAction::Garp { slot, count: 1 });
            }
        }
    }

    /// Checks one datagram received on interface `iface` (whole IPv4
    /// datagram, as a raw socket gives it; `received` is the length the
    /// kernel reported, which may exceed `datagram`) and hands a valid
    /// advert to its instance. Every drop is counted, for the instance and
    /// for the source ([`Engine::peers`]).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        iface: usize,
        datagram: &[u8],
        received: usize,
    ) {
        if received > datagram.len() {
            self.rx.oversized += 1;
            return;
        }
        let Ok(ip) = wire::parse_ipv4(datagram) else {
            self.rx.bad_ip += 1;
            return;
        };
        let Envelope::Ipv4 { src, dst } = ip.envelope else {
            self.rx.bad_ip += 1;
            return;
        };
        self.handle_advert(
            now,
            iface,
            &Received {
                family: Family::Ipv4,
                src: IpAddr::V4(src),
                dst: IpAddr::V4(dst),
                ttl: ip.ttl,
                envelope: ip.envelope,
                payload: ip.payload,
            },
        );
    }

    /// Checks one datagram received on the IPv6 VRRP socket of interface
    /// `iface`: `payload` is the VRRP message (raw IPv6 sockets strip the
    /// header), `received` the length the kernel reported, `meta` what it
    /// said about the header. Every check of [`Engine::handle_datagram`]
    /// applies; a hop limit or destination the kernel did not report drops
    /// the datagram (`bad_ip`).
    pub fn handle_datagram6(
        &mut self,
        now: Instant,
        iface: usize,
        payload: &[u8],
        received: usize,
        meta: &Ipv6Meta,
    ) {
        if received > payload.len() {
            self.rx.oversized += 1;
            return;
        }
        let (Some(dst), Some(hop_limit)) = (meta.dst, meta.hop_limit) else {
            self.rx.bad_ip += 1;
            return;
        };
        self.handle_advert(
            now,
            iface,
            &Received {
                family: Family::Ipv6,
                src: IpAddr::V6(meta.src),
                dst: IpAddr::V6(dst),
                ttl: hop_limit,
                envelope: Envelope::Ipv6 { src: meta.src, dst },
                payload,
            },
        );
    }

    /// The checks after the IP layer, either family, and the record of the
    /// source ([`Engine::peers`]) of a datagram matched to an instance.
    fn handle_advert(&mut self, now: Instant, iface: usize, ip: &Received<'_>) {
        // The instance it concerns, and its counters before.
        let before = ip.payload.get(1).and_then(|&vrid| {
            let i = self.slots.iter().position(|s| {
                usize::from(s.iface) == iface
                    && s.family == ip.family
                    && s.fsm.params().vrid == vrid
            })?;
            Some((i, self.slots.get(i)?.rx))
        });
        self.check_advert(now, iface, ip);
        let Some((i, rx)) = before else {
            return;
        };
        let (Some(s), Some(p)) = (self.slots.get(i), self.peers.get_mut(i)) else {
            return;
        };
        if ip.src == s.src {
            // Our own advert: not a peer.
            return;
        }
        let priority = ip.payload.get(2).copied().unwrap_or(0);
        if let Some(event) = p.record(now, ip.src, &rx, &s.rx, priority) {
            let slot = u16::try_from(i).unwrap_or(u16::MAX);
            let _ = self
                .peer_events
                .push_back(EngineAction::Peer { slot, event });
        }
    }

    /// [`Engine::handle_advert`] without the record of the source.
    fn check_advert(&mut self, now: Instant, iface: usize, ip: &Received<'_>) {
        let (src, dst) = (ip.src, ip.dst);
        let Some(&vrid) = ip.payload.get(1) else {
            self.rx.truncated += 1;
            return;
        };
        let Some((index, slot)) = self.slots.iter_mut().enumerate().find(|(_, s)| {
            usize::from(s.iface) == iface && s.family == ip.family && s.fsm.params().vrid == vrid
        }) else {
            self.rx.unknown_vrid += 1;
            return;
        };
        if src == slot.src {
            slot.rx.own_advert += 1;
            return;
        }
        if slot.peers.is_empty() {
            // keepalived: the destination must match the mode.
            if dst != slot.group {
                slot.rx.bad_destination += 1;
                return;
            }
            // RFC 5798 §7.1: the TTL must be 255 (it proves the sender is on
            // link).
            if ip.ttl != wire::TTL {
                slot.rx.bad_ttl += 1;
                return;
            }
        } else {
            if dst != slot.src {
                slot.rx.bad_destination += 1;
                return;
            }
            // keepalived: unicast adverts may cross routers; each peer's
            // `min_ttl`/`max_ttl` replace the RFC's 255.
            match slot.peers.iter().find(|p| p.addr == src) {
                Some(p) if !(p.min_ttl..=p.max_ttl).contains(&ip.ttl) => {
                    slot.rx.bad_ttl += 1;
                    return;
                }
                Some(_) => {}
                // Not a configured peer: never part of the election
                // (`check_unicast_src` always on).
                None => {
                    slot.rx.not_a_peer += 1;
                    return;
                }
            }
        }
        let ours = match slot.version {
            Version::V2 => 2,
            Version::V3 => 3,
        };
        // RFC 5798 §7.1: the version must be ours. Checked before the
        // layout, which depends on it (v2 has auth data, and no IPv6 form).
        if ip.payload.first().map(|b| b >> 4) != Some(ours) {
            slot.rx.bad_version += 1;
            return;
        }
        let repr = match Packet::new_checked(ip.payload, ip.family)
            .and_then(|p| Repr::parse(&p, &ip.envelope))
        {
            Ok(r) => r,
            Err(e) => {
                let c = &mut slot.rx;
                match e {
                    wire::Error::Truncated => c.truncated += 1,
                    wire::Error::TooLong => c.too_long += 1,
                    wire::Error::Version(_) => c.bad_version += 1,
                    wire::Error::Type(_) => c.bad_type += 1,
                    wire::Error::AdverInt => c.bad_interval += 1,
                    wire::Error::Checksum => c.bad_checksum += 1,
                    _ => c.malformed += 1,
                }
                return;
            }
        };
        if repr.version.number() != ours {
            slot.rx.bad_version += 1;
            return;
        }
        if let wire::Version::V2 {
            auth_type,
            adver_int,
            auth_data,
        } = repr.version
        {
            // RFC 3768 §7.1: the authentication type must match ours, and
            // a simple password must equal ours.
            let expected = if slot.password.is_some() {
                AuthType::SimplePassword
            } else {
                AuthType::None
            };
            if auth_type != expected {
                slot.rx.bad_auth_type += 1;
                return;
            }
            if let Some(pw) = slot.password
                && pw != auth_data
            {
                slot.rx.bad_password += 1;
                return;
            }
            // RFC 3768 §7.1: an interval that differs from ours is dropped.
            if u16::from(adver_int) * 100 != slot.adver_int_cs {
                slot.rx.bad_interval += 1;
                return;
            }
        }
        // keepalived ≥ 2.3.3: a different address list is logged and counted,
        // and the advert still counts for the election.
        if repr.addresses != slot.vips.addresses() {
            slot.rx.address_mismatch += 1;
        }
        slot.rx.accepted += 1;
        slot.last_advert = Some(now);
        let info = AdvertInfo {
            src,
            priority: repr.priority,
            adver_int: repr.adver_int_centis(),
        };
        let before = (slot.fsm.state(), slot.fsm.is_faulty());
        slot.fsm.handle_advert(now, &info);
        self.sync_after(now, index, before);
    }

    /// The next action of any instance, round-robin; `now` paces
    /// gratuitous ARP bursts (the time of the input that caused them).
    pub fn poll_action(&mut self, now: Instant) -> Option<EngineAction> {
        if let Some(a) = self.garps.pop_front() {
            return Some(a);
        }
        let n = self.slots.len();
        for k in 0..n {
            let i = (self.next_slot + k) % n;
            let Some(s) = self.slots.get_mut(i) else {
                continue;
            };
            let Some(action) = s.fsm.poll_action() else {
                continue;
            };
            self.next_slot = i;
            let slot = u16::try_from(i).unwrap_or(u16::MAX);
            return Some(match action {
                VrrpAction::SendAdvert { priority } => EngineAction::SendAdvert { slot, priority },
                VrrpAction::AddVips => EngineAction::AddVips { slot },
                VrrpAction::RemoveVips => {
                    s.garp_pending = 0;
                    s.garp_next = None;
                    EngineAction::RemoveVips { slot }
                }
                VrrpAction::Transition { from, to } => {
                    s.last_transition = Some((now, from));
                    EngineAction::Transition { slot, from, to }
                }
                VrrpAction::MasterRxLowerPri { src, priority } => EngineAction::MasterRxLowerPri {
                    slot,
                    src,
                    priority,
                },
                VrrpAction::SendGarp { count } => {
                    if s.garp_interval == Duration::ZERO || count <= 1 {
                        EngineAction::Garp { slot, count }
                    } else {
                        // keepalived's garp_interval: one GARP round, the
                        // rest spaced by the interval.
                        s.garp_pending = count - 1;
                        s.garp_next = Some(now + s.garp_interval);
                        EngineAction::Garp { slot, count: 1 }
                    }
                }
            });
        }
        self.group_events
            .pop_front()
            .or_else(|| self.peer_events.pop_front())
    }

    /// How many copies of each advert of `slot` go out: one to the
    /// multicast group, or one per unicast peer.
    pub fn advert_destinations(&self, slot: u16) -> usize {
        self.slots
            .get(usize::from(slot))
            .map_or(0, |s| s.peers.len().max(1))
    }

    /// The family of instance `slot`'s adverts: IPv4 ones are built with
    /// [`Engine::build_advert`], IPv6 ones with [`Engine::build_advert6`].
    pub fn family(&self, slot: u16) -> Option<Family> {
        self.slots.get(usize::from(slot)).map(|s| s.family)
    }

    /// Whether `slot` runs in unicast mode, and its source address: the
    /// binary checks the address is on the interface at start.
    pub fn source(&self, slot: u16) -> Option<(bool, IpAddr)> {
        self.slots
            .get(usize::from(slot))
            .map(|s| (!s.peers.is_empty(), s.src))
    }

    /// The advert of `s` with `priority`, for destination `k`: its `Repr`,
    /// the destination and the unicast TTL / hop limit (`None` for
    /// multicast, which always has 255).
    fn advert_of(
        s: &Slot,
        priority: u8,
        k: usize,
    ) -> Result<(Repr<'_>, IpAddr, Option<u8>), wire::Error> {
        let version = match s.version {
            Version::V2 => wire::Version::V2 {
                auth_type: if s.password.is_some() {
                    AuthType::SimplePassword
                } else {
                    AuthType::None
                },
                adver_int: u8::try_from(s.adver_int_cs / 100).unwrap_or(u8::MAX),
                auth_data: s.password.unwrap_or([0; wire::AUTH_DATA_LEN]),
            },
            Version::V3 => wire::Version::V3 {
                reserved: 0,
                max_adver_int: s.adver_int_cs,
            },
        };
        let repr = Repr {
            vrid: s.fsm.params().vrid,
            priority,
            version,
            addresses: s.vips.addresses(),
            checksum: s.checksum,
        };
        let (dst, ttl) = if s.peers.is_empty() {
            (s.group, None)
        } else {
            let p = s.peers.get(k).ok_or(wire::Error::Vrid)?;
            (p.addr, s.unicast_ttl)
        };
        Ok((repr, dst, ttl))
    }

    /// Builds the advert of IPv4 instance `slot` with `priority` for
    /// destination `k` (`0..`[`Engine::advert_destinations`]) as a whole
    /// IPv4 datagram in `buf`; returns the interface to send it on, the
    /// destination and the length. Unicast adverts carry `unicast_ttl` and,
    /// in v3, the checksum of their own destination.
    pub fn build_advert(
        &mut self,
        slot: u16,
        priority: u8,
        k: usize,
        buf: &mut [u8],
    ) -> Result<(usize, Ipv4Addr, usize), wire::Error> {
        self.ident = self.ident.wrapping_add(1).max(1);
        let ident = self.ident;
        let s = self.slots.get(usize::from(slot)).ok_or(wire::Error::Vrid)?;
        let (repr, dst, ttl) = Self::advert_of(s, priority, k)?;
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (s.src, dst) else {
            return Err(wire::Error::AddressFamily);
        };
        let len = wire::emit_ipv4_ttl(&repr, src, dst, ident, ttl.unwrap_or(wire::TTL), buf)?;
        Ok((usize::from(s.iface), dst, len))
    }

    /// Builds the advert of IPv6 instance `slot` with `priority` for
    /// destination `k` (`0..`[`Engine::advert_destinations`]): the VRRP
    /// message (checksum over the IPv6 pseudo-header of this source and
    /// destination) in `buf`, and what the kernel needs for the header.
    pub fn build_advert6(
        &self,
        slot: u16,
        priority: u8,
        k: usize,
        buf: &mut [u8],
    ) -> Result<Ipv6Advert, wire::Error> {
        let s = self.slots.get(usize::from(slot)).ok_or(wire::Error::Vrid)?;
        let (repr, dst, ttl) = Self::advert_of(s, priority, k)?;
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (s.src, dst) else {
            return Err(wire::Error::AddressFamily);
        };
        let len = repr.buffer_len();
        let message = buf.get_mut(..len).ok_or(wire::Error::Truncated)?;
        repr.emit(
            &mut Packet::new_unchecked(message, Family::Ipv6),
            &Envelope::Ipv6 { src, dst },
        )?;
        Ok(Ipv6Advert {
            iface: usize::from(s.iface),
            src,
            dst,
            hop_limit: if s.peers.is_empty() {
                Some(wire::TTL)
            } else {
                ttl
            },
            len,
        })
    }

    /// Number of addresses (VIPs then eVIPs) instance `slot` adds.
    pub fn address_count(&self, slot: u16) -> usize {
        self.slots
            .get(usize::from(slot))
            .map_or(0, |s| s.addr_iface.len())
    }

    /// Number of addresses of `slot` announced on becoming master: every
    /// VIP and eVIP, each by its own family (keepalived's
    /// `vrrp_send_link_update()`).
    pub fn announcement_count(&self, slot: u16) -> usize {
        self.address_count(slot)
    }

    /// The MAC that announces addresses on interface `iface`: its own.
    /// VMACs will answer theirs here.
    fn announce_mac(&self, iface: usize) -> Option<EthernetAddress> {
        self.interfaces
            .get(iface)
            .map(|f| EthernetAddress(f.facts.mac))
    }

    /// Builds the announcement of address `k` (VIPs then eVIPs) of `slot`
    /// into `buf`: a gratuitous ARP for an IPv4 address, an unsolicited
    /// neighbour advertisement for an IPv6 one. Returns the interface to
    /// send it on, the frame length and which it is.
    pub fn build_announcement(
        &self,
        cfg: &Config,
        slot: u16,
        k: usize,
        buf: &mut [u8],
    ) -> Option<(usize, usize, Announcement)> {
        let s = self.slots.get(usize::from(slot))?;
        let inst = cfg.vrrp.instances.get(usize::from(s.cfg))?;
        let v = inst.vips.iter().chain(inst.evips.iter()).nth(k)?;
        let iface = usize::from(*s.addr_iface.get(k)?);
        let mac = self.announce_mac(iface)?;
        match v.addr {
            IpAddr::V4(a) => {
                let len = wire::emit_garp(mac, a, buf).ok()?;
                Some((iface, len, Announcement::Arp))
            }
            IpAddr::V6(a) => {
                let na = UnsolicitedNa {
                    mac,
                    target: a,
                    router: self.interfaces.get(iface)?.facts.ipv6_forwarding,
                };
                let len = na.emit(buf).ok()?;
                Some((iface, len, Announcement::NeighbourAdvert))
            }
        }
    }

    /// Re-reads IPv6 forwarding (the Router flag of neighbour
    /// advertisements) of every interface that carries an IPv6 address of
    /// `slot`, with `read` (by interface name); the binary calls it before
    /// each announcement round, as keepalived re-reads it.
    pub fn update_ipv6_forwarding(
        &mut self,
        cfg: &Config,
        slot: u16,
        read: &mut dyn FnMut(&str) -> bool,
    ) {
        let Some(s) = self.slots.get(usize::from(slot)) else {
            return;
        };
        let Some(inst) = cfg.vrrp.instances.get(usize::from(s.cfg)) else {
            return;
        };
        let all = inst.vips.iter().chain(inst.evips.iter());
        for (v, &i) in all.zip(s.addr_iface.iter()) {
            if v.addr.is_ipv6()
                && let Some(f) = self.interfaces.get_mut(usize::from(i))
            {
                f.facts.ipv6_forwarding = read(&f.name);
            }
        }
    }

    /// Builds the rtnetlink request that adds or deletes address `k` (VIPs
    /// then eVIPs) of `slot`; returns its length and the interface index.
    pub fn address_request(
        &self,
        cfg: &Config,
        slot: u16,
        k: usize,
        operation: Operation,
        sequence: u32,
        buf: &mut [u8],
    ) -> Option<Result<(usize, usize), crate::wire::rtnetlink::Error>> {
        let s = self.slots.get(usize::from(slot))?;
        let inst = cfg.vrrp.instances.get(usize::from(s.cfg))?;
        let v = inst.vips.iter().chain(inst.evips.iter()).nth(k)?;
        let iface = usize::from(*s.addr_iface.get(k)?);
        let ifindex = self.interfaces.get(iface)?.facts.index;
        let mut req = AddressRequest::new(operation, v.addr, v.prefix_len, ifindex, sequence);
        req.scope = v.scope.rt_scope();
        req.broadcast = match (v.brd, v.addr) {
            (Some(Broadcast::Addr(b)), _) => Some(b),
            (Some(Broadcast::Set), IpAddr::V4(a)) => Some(host_bits(a, v.prefix_len, true)),
            (Some(Broadcast::Clear), IpAddr::V4(a)) => Some(host_bits(a, v.prefix_len, false)),
            _ => None,
        };
        req.peer = v.peer;
        req.label = if v.label.is_empty() {
            None
        } else {
            Some(v.label.as_str())
        };
        // keepalived's `-nodad` keeps duplicate address detection.
        req.keep_dad = v.nodad;
        req.preferred_lifetime = v.preferred_lft;
        Some(req.emit(buf).map(|len| (len, iface)))
    }
}

/// `addr` with the host bits of a `/len` set (`brd +`) or cleared (`brd -`).
fn host_bits(addr: Ipv4Addr, len: u8, set: bool) -> Ipv4Addr {
    let mask = if len >= 32 {
        u32::MAX
    } else {
        !(u32::MAX >> len)
    };
    let a = u32::from(addr);
    Ipv4Addr::from(if set { a | !mask } else { a & mask })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod ipv6_tests;
