//! `vrrp_engine`: the VRRP engine (`picket::vrrp::engine::Engine`) built
//! from a fixed configuration, fed a short sequence of datagrams (IPv4 and
//! IPv6), timeouts, link and address events and tracking changes, with
//! every action it asks for carried out the way the binary does and
//! checked.
//!
//! The configuration: on `eth0` (index 2, 10.0.0.1, fe80::1) a VRRPv2
//! instance with a password (VRID 51) and a VRRPv3 one (VRID 52) in one sync
//! group, a VRRPv3 unicast instance (VRID 53, peers 10.0.0.2 and 10.0.0.3),
//! and a VRRPv3 IPv6 instance without preemption (VRID 54); on `eth1`
//! (index 3, 10.1.0.1) a VRRPv3 instance that owns its address (priority
//! 255, VRID 55).
//!
//! Input: steps, each a control byte (`c`), then by `c & 7`:
//!
//! | c & 7 | step |
//! |---|---|
//! | 0 | an IPv4 datagram, as the raw socket returns it: 2-byte length, bytes; `received` is one more than its length when `c & 8` |
//! | 1 | an IPv4 advert, the header built here: a byte picks source (one of 10.0.0.2/.3/.1/10.1.0.9, `& 3`), destination (224.0.0.18 or 10.0.0.1, `& 4`), TTL (255 or 1, `& 8`) and interface (`& 16`); then 1-byte length and the VRRP message; its checksum fixed unless `c & 8` (v3: the message-only form when `& 32`) |
//! | 2 | an IPv6 advert: a byte picks source (fe80::2 / fe80::3 / fe80::1 / 16 bytes that follow), destination (ff02::12 or missing), hop limit (255, 1, missing); then 1-byte length and the message; checksum fixed unless `c & 8` |
//! | 3 | time: `c >> 3` × 50 ms pass (0: to the engine's next deadline), then the due timeouts run |
//! | 4 | a link event: a byte picks the interface and up / down / deleted / renamed; with `c & 8`, a netlink datagram instead (2-byte length, bytes), handed to the engine the way the binary's reflector does |
//! | 5 | an address event: a byte picks added or deleted, interface, and which address (a VIP, the primary, another) |
//! | 6 | tracking: a byte picks the instance and a priority or a fault on/off |
//! | 7 | an instance stops (`c & 8`) or starts again |
//!
//! Checked, for every action, in the state the slot was in when it was
//! queued (as its transitions tell): addresses are added, removed,
//! restored and announced only by a master; an advert with a priority is
//! sent only by a master, and it builds and parses back (its own VRID,
//! priority and checksum) for every destination; a transition leaves the
//! state the last one entered, and once drained the transitions told are
//! the engine's states; every address request and announcement builds;
//! after the due timeouts ran, no deadline is in the past (else the loop
//! would spin).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::cell::RefCell;

use picket::config::Config;
use picket::time::{Duration, Instant};
use picket::vrrp::State;
use picket::vrrp::engine::reflect::AddressChange;
use picket::vrrp::engine::{Engine, EngineAction, IfFacts, Ipv6Meta};
use picket::wire::link::LinkEvent;
use picket::wire::netlink::Messages;
use picket::wire::rtnetlink::{AddressRepr, Operation, RTM_DELADDR, RTM_NEWADDR};
use picket::wire::vrrp::{ChecksumForm, Envelope, Family, Packet, Repr, emit_ipv4_ttl, parse_ipv4};

use super::Input;

const CONF: &str = "\
global_defs {
  router_id fuzz
  vrrp_garp_master_repeat 2
  vrrp_garp_interval 0.1
}
vrrp_sync_group G {
  group {
    V2
    V3
  }
}
vrrp_instance V2 {
  interface eth0
  virtual_router_id 51
  priority 100
  version 2
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret12
  }
  virtual_ipaddress {
    10.0.0.100/24 brd + label eth0:vip
    10.0.0.101/24
  }
}
vrrp_instance V3 {
  interface eth0
  virtual_router_id 52
  priority 150
  version 3
  advert_int 0.5
  virtual_ipaddress {
    10.0.0.102/24
  }
}
vrrp_instance U {
  interface eth0
  virtual_router_id 53
  priority 120
  version 3
  advert_int 1
  preempt_delay 2
  unicast_src_ip 10.0.0.1
  unicast_peer {
    10.0.0.2
    10.0.0.3
  }
  virtual_ipaddress {
    10.0.0.103/24
  }
}
vrrp_instance S6 {
  interface eth0
  state BACKUP
  nopreempt
  virtual_router_id 54
  priority 110
  version 3
  advert_int 1
  virtual_ipaddress {
    fd00::100/64
  }
}
vrrp_instance OWN {
  interface eth1
  virtual_router_id 55
  priority 255
  version 3
  advert_int 1
  virtual_ipaddress {
    10.1.0.1/24
  }
}
";

const OWN4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const OWN6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

config_once!(config, super::load_config(CONF));

fn facts(name: &str) -> Option<IfFacts> {
    match name {
        "eth0" => Some(IfFacts {
            index: 2,
            mac: [2, 0, 0, 0, 0, 1],
            ipv4: Some(OWN4),
            ipv6_link_local: Some(OWN6),
            ipv6_forwarding: false,
            up: true,
        }),
        "eth1" => Some(IfFacts {
            index: 3,
            mac: [2, 0, 0, 0, 1, 1],
            ipv4: Some(Ipv4Addr::new(10, 1, 0, 1)),
            ipv6_link_local: None,
            ipv6_forwarding: true,
            up: true,
        }),
        _ => None,
    }
}

/// Most steps per input.
const MAX_STEPS: usize = 48;

/// Runs one input.
pub fn run(data: &[u8]) {
    // The engine is rebuilt in place for every input (`Engine::load`), in
    // a block kept from input to input.
    thread_local! {
        static ENGINE: RefCell<Option<Box<Engine>>> = const { RefCell::new(None) };
    }
    ENGINE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let e = cell.get_or_insert_with(|| Box::new(Engine::empty()));
        run_with(e, data);
    });
}

fn run_with(e: &mut Engine, data: &[u8]) {
    let cfg = config();
    let mut failed = false;
    e.load(cfg, None, &mut facts, &mut |_, _, _| failed = true);
    assert!(
        !failed && e.len() == 5,
        "the harness's engine does not build"
    );
    let mut now = Instant::from_millis(1_000);
    e.start(now);
    let mut states = [None; 5];
    settle(e, cfg, now, &mut states);
    let mut input = Input::new(data);
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let c = input.byte();
        match c & 7 {
            0 => {
                let n = usize::from(input.u16());
                let d = input.bytes(n);
                e.handle_datagram(now, 0, d, d.len() + usize::from(c & 8 != 0));
            }
            1 => advert4(e, now, c, &mut input),
            2 => advert6(e, now, c, &mut input),
            3 => {
                let step = u64::from(c >> 3);
                now = if step == 0 {
                    e.poll_at().map_or(now, |at| at.max(now))
                } else {
                    now + Duration::from_millis(50 * step)
                };
                e.handle_timeout(now);
            }
            4 if c & 8 != 0 => {
                let n = usize::from(input.u16());
                reflect(e, cfg, now, input.bytes(n));
            }
            4 => link(e, now, input.byte()),
            5 => address(e, cfg, now, input.byte()),
            6 => {
                let b = input.byte();
                let slot = u16::from(b % 5);
                match b >> 5 {
                    0 => e.set_fault(now, slot, true),
                    1 => e.set_fault(now, slot, false),
                    _ => e.set_priority(now, slot, input.byte()),
                }
            }
            _ => {
                let slot = u16::from((c >> 4) % 5);
                if c & 8 != 0 {
                    e.shutdown_slot(now, slot);
                } else {
                    e.start_slot(now, slot);
                }
            }
        }
        settle(e, cfg, now, &mut states);
        if c & 7 == 3 {
            // What was due ran: the loop must not wake up for the past.
            // (Actions drained above may set new deadlines, never past ones.)
            if let Some(at) = e.poll_at() {
                assert!(at > now, "a deadline at {at:?} is not after now {now:?}");
            }
        }
    }
    e.shutdown(now);
    settle(e, cfg, now, &mut states);
}

/// The VRRP message of an advert step (a length byte, then the bytes),
/// copied into `buf` to have its checksum fixed.
fn message_of<'b>(input: &mut Input<'_>, buf: &'b mut [u8; 256]) -> &'b mut [u8] {
    let len = usize::from(input.byte());
    let bytes = input.bytes(len);
    let m = &mut buf[..bytes.len()];
    m.copy_from_slice(bytes);
    m
}

/// An IPv4 advert around the fuzzer's VRRP message.
fn advert4(e: &mut Engine, now: Instant, c: u8, input: &mut Input<'_>) {
    let pick = input.byte();
    let src = [
        Ipv4Addr::new(10, 0, 0, 2),
        Ipv4Addr::new(10, 0, 0, 3),
        OWN4,
        Ipv4Addr::new(10, 1, 0, 9),
    ][usize::from(pick & 3)];
    let dst = if pick & 4 == 0 { GROUP4 } else { OWN4 };
    let ttl = if pick & 8 == 0 { 255 } else { 1 };
    let iface = usize::from(pick & 16 != 0);
    let mut message = [0u8; 256];
    let m = message_of(input, &mut message);
    let n = m.len();
    let envelope = Envelope::Ipv4 { src, dst };
    if c & 8 == 0
        && let Ok(mut p) = Packet::new_checked(&mut *m, Family::Ipv4)
    {
        // VRRPv2 has one form; v3 over IPv4 either.
        let form = if p.version() != 2 && pick & 32 == 0 {
            ChecksumForm::PseudoHeader
        } else {
            ChecksumForm::Message
        };
        p.fill_checksum(&envelope, form);
    }
    // The IPv4 header: emit a valid advert of the right length, then put
    // the fuzzer's message in its place.
    let mut datagram = [0u8; 20 + 256];
    let repr = Repr {
        vrid: 1,
        priority: 1,
        version: picket::wire::vrrp::Version::V3 {
            reserved: 0,
            max_adver_int: 100,
        },
        addresses: picket::wire::vrrp::Addresses::ipv4(&[]),
        checksum: ChecksumForm::PseudoHeader,
    };
    let Ok(_) = emit_ipv4_ttl(&repr, src, dst, 1, ttl, &mut datagram) else {
        return;
    };
    let total = 20 + n;
    datagram[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    datagram[20..total].copy_from_slice(m);
    // Header checksum over the new length.
    datagram[10..12].copy_from_slice(&[0, 0]);
    let sum = internet_checksum(&datagram[..20]);
    datagram[10..12].copy_from_slice(&sum.to_be_bytes());
    debug_assert!(parse_ipv4(&datagram[..total]).is_ok());
    e.handle_datagram(now, iface, &datagram[..total], total);
}

/// An IPv6 advert: the message and what the kernel says of its header.
fn advert6(e: &mut Engine, now: Instant, c: u8, input: &mut Input<'_>) {
    let pick = input.byte();
    let src = match pick & 3 {
        0 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2),
        1 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 3),
        2 => OWN6,
        _ => Ipv6Addr::from(input.array::<16>()),
    };
    let dst = (pick & 4 == 0).then_some(GROUP6);
    let hop_limit = match (pick >> 3) & 3 {
        0 | 1 => Some(255),
        2 => Some(1),
        _ => None,
    };
    let mut message = [0u8; 256];
    let m = message_of(input, &mut message);
    let n = m.len();
    if c & 8 == 0
        && let Ok(mut p) = Packet::new_checked(&mut *m, Family::Ipv6)
    {
        p.fill_checksum(
            &Envelope::Ipv6 {
                src,
                dst: dst.unwrap_or(GROUP6),
            },
            ChecksumForm::PseudoHeader,
        );
    }
    let meta = Ipv6Meta {
        src,
        dst,
        hop_limit,
    };
    e.handle_datagram6(now, 0, m, n, &meta);
}

/// A netlink monitor datagram, as `src/reflector.rs` dispatches it:
/// address messages to `handle_address`, link messages to `handle_link`.
fn reflect(e: &mut Engine, cfg: &Config, now: Instant, datagram: &[u8]) {
    for msg in Messages::new(datagram) {
        let Ok(msg) = msg else {
            break;
        };
        if matches!(msg.message_type(), RTM_NEWADDR | RTM_DELADDR) {
            if let Ok(a) = AddressRepr::parse(&msg)
                && let Some(change) = AddressChange::from_repr(&a)
            {
                e.handle_address(now, cfg, &change);
            }
            continue;
        }
        if let Some(Ok(ev)) = LinkEvent::parse(&msg) {
            e.handle_link(now, &ev);
        }
    }
}

fn link(e: &mut Engine, now: Instant, b: u8) {
    let (index, name) = match b & 3 {
        0 => (2, "eth0"),
        1 => (3, "eth1"),
        2 => (2, "eth9"),
        _ => (7, "eth0"),
    };
    let ev = LinkEvent {
        index,
        name,
        up: b & 4 != 0,
        deleted: b & 8 != 0,
        mac: (b & 16 != 0).then_some([2, 0, 0, 0, 0, b]),
    };
    e.handle_link(now, &ev);
}

fn address(e: &mut Engine, cfg: &Config, now: Instant, b: u8) {
    let addr = match (b >> 2) & 7 {
        0 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)),
        1 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, 102)),
        2 => IpAddr::V4(OWN4),
        3 => IpAddr::V6(OWN6),
        4 => IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100)),
        5 => IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1)),
        6 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
        _ => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9)),
    };
    let change = AddressChange {
        added: b & 1 != 0,
        ifindex: if b & 2 == 0 { 2 } else { 3 },
        addr,
        flags: if b & 0x20 != 0 { 0x40 } else { 0x80 },
    };
    e.handle_address(now, cfg, &change);
}

/// Carries out every action, checking each against the state the slot
/// was in when the engine queued it: the state its transitions so far say
/// (an action and the transition after it may come from one call, so
/// the engine's state at the end of the call is not the one to compare).
fn settle(e: &mut Engine, cfg: &Config, now: Instant, states: &mut [Option<State>; 5]) {
    let mut buf = [0u8; 2048];
    for _ in 0..512 {
        let Some(action) = e.poll_action(now) else {
            // Drained: the transitions told land where the engine is.
            for (slot, known) in states.iter().enumerate() {
                if let Some(s) = *known {
                    assert_eq!(Some(s), e.state(slot as u16), "slot {slot}: state not told");
                }
            }
            return;
        };
        let master = |states: &[Option<State>; 5], slot: u16| {
            let s = states[usize::from(slot)].or(e.state(slot));
            s == Some(State::Master)
        };
        match action {
            EngineAction::SendAdvert { slot, priority } => {
                assert!(
                    priority == 0 || master(states, slot),
                    "slot {slot} in {:?} sends an advert with priority {priority}",
                    states[usize::from(slot)]
                );
                for k in 0..e.advert_destinations(slot) {
                    own_advert(e, slot, priority, k, &mut buf);
                }
            }
            EngineAction::AddVips { slot } => {
                assert!(master(states, slot), "slot {slot} adds VIPs out of MASTER");
                address_requests(e, cfg, slot, Operation::Add, &mut buf);
            }
            EngineAction::RemoveVips { slot } => {
                // Queued by a master as it leaves (its transition follows).
                assert!(master(states, slot), "slot {slot} removes VIPs it has not");
                address_requests(e, cfg, slot, Operation::Delete, &mut buf);
            }
            EngineAction::RestoreVip { slot, k } => {
                assert!(
                    master(states, slot),
                    "slot {slot} restores a VIP out of MASTER"
                );
                let r = e.address_request(cfg, slot, usize::from(k), Operation::Add, 1, &mut buf);
                assert!(matches!(r, Some(Ok(_))), "address {k} of {slot}: {r:?}");
            }
            EngineAction::Garp { slot, count } => {
                assert!(count >= 1);
                assert!(master(states, slot), "slot {slot} announces out of MASTER");
                for k in 0..e.announcement_count(slot) {
                    assert!(
                        e.build_announcement(cfg, slot, k, &mut buf).is_some(),
                        "announcement {k} of {slot}"
                    );
                }
            }
            EngineAction::Transition { slot, from, to } => {
                assert_ne!(from, to, "slot {slot}: a transition to the same state");
                let known = &mut states[usize::from(slot)];
                if let Some(before) = *known {
                    assert_eq!(
                        before, from,
                        "slot {slot}: transition from a state it was not in"
                    );
                }
                *known = Some(to);
            }
            EngineAction::MasterRxLowerPri { slot, .. } => {
                assert!(
                    master(states, slot),
                    "slot {slot} hears lower out of MASTER"
                );
            }
            EngineAction::GroupTransition { .. }
            | EngineAction::Peer { .. }
            | EngineAction::InterfaceGone { .. }
            | EngineAction::InterfaceBack { .. }
            | EngineAction::Source { .. } => {}
        }
    }
    panic!("the engine asks for more than 512 actions at once");
}

/// Every address request of `slot` builds.
fn address_requests(e: &Engine, cfg: &Config, slot: u16, op: Operation, buf: &mut [u8]) {
    for k in 0..e.address_count(slot) {
        let r = e.address_request(cfg, slot, k, op, 1, buf);
        assert!(matches!(r, Some(Ok(_))), "address {k} of {slot}: {r:?}");
    }
}

/// Builds the advert of `slot` for destination `k` and parses it back.
fn own_advert(e: &mut Engine, slot: u16, priority: u8, k: usize, buf: &mut [u8]) {
    let vrid = e.instance(slot).map(|i| i.params().vrid);
    match e.family(slot) {
        Some(Family::Ipv4) => {
            let (_, dst, len) = e
                .build_advert(slot, priority, k, buf)
                .unwrap_or_else(|err| panic!("advert of {slot}: {err:?}"));
            let ip = parse_ipv4(&buf[..len]).unwrap_or_else(|err| panic!("{err:?}"));
            let Envelope::Ipv4 { dst: d, .. } = ip.envelope else {
                panic!("not IPv4");
            };
            assert_eq!(d, dst);
            let repr = Repr::parse(
                &Packet::new_unchecked(ip.payload, Family::Ipv4),
                &ip.envelope,
            )
            .unwrap_or_else(|err| panic!("own advert does not parse: {err:?}"));
            assert_eq!(Some(repr.vrid), vrid);
            assert_eq!(repr.priority, priority);
        }
        Some(Family::Ipv6) => {
            let a = e
                .build_advert6(slot, priority, k, buf)
                .unwrap_or_else(|err| panic!("advert of {slot}: {err:?}"));
            let envelope = Envelope::Ipv6 {
                src: a.src,
                dst: a.dst,
            };
            let repr = Repr::parse(
                &Packet::new_unchecked(&buf[..a.len], Family::Ipv6),
                &envelope,
            )
            .unwrap_or_else(|err| panic!("own advert does not parse: {err:?}"));
            assert_eq!(Some(repr.vrid), vrid);
            assert_eq!(repr.priority, priority);
        }
        None => panic!("slot {slot} has no family"),
    }
}

/// The internet checksum of an IPv4 header.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
