//! The reflector's side of the engine on a fake clock: VIPs deleted by
//! others restored (not with `no_track`, not when BACKUP, later when the
//! link is down), interfaces deleted, renamed and recreated with another
//! index, the source address following the primary one through scans,
//! configured sources watched, full scans after an overrun, and input about
//! interfaces the engine does not know ignored.

use std::vec::Vec as StdVec;

use super::reflect::{AddressChange, HOLD_NO_INTERFACE, HOLD_NO_SOURCE, SourceEvent};
use super::tests::{A, conf, drain, engine, t};
use super::*;
use crate::wire::link::LinkEvent;
use crate::wire::rtnetlink::{IFA_F_PERMANENT, IFA_F_SECONDARY};

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const VIP2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 101);
const OTHER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);

fn addr(added: bool, ifindex: u32, a: Ipv4Addr, flags: u32) -> AddressChange {
    AddressChange {
        added,
        ifindex,
        addr: IpAddr::V4(a),
        flags,
    }
}

fn link(index: u32, name: &str, up: bool, deleted: bool) -> LinkEvent<'_> {
    LinkEvent {
        index,
        name,
        up,
        deleted,
        mac: Some([2, 0, 0, 0, 0, u8::try_from(index).unwrap_or(0)]),
    }
}

/// A single router of `conf(150, 3, extra)` on eth0 (index 2, address A),
/// started and gone MASTER; its actions drained.
fn master(extra: &str) -> (std::boxed::Box<Config>, Engine, Instant) {
    let (cfg, mut e) = engine(&conf(150, 3, extra), A);
    e.start(t(0));
    drain(&mut e, t(0));
    let now = e.poll_at().unwrap();
    e.handle_timeout(now);
    assert_eq!(e.state(0), Some(State::Master));
    drain(&mut e, now);
    (cfg, e, now)
}

fn restores(actions: &[EngineAction]) -> StdVec<u16> {
    actions
        .iter()
        .filter_map(|a| match a {
            EngineAction::RestoreVip { slot: 0, k } => Some(*k),
            _ => None,
        })
        .collect()
}

#[test]
fn a_vip_deleted_by_someone_else_is_restored_while_master() {
    let (cfg, mut e, now) = master("");
    e.handle_address(now, &cfg, &addr(false, 2, VIP2, 0));
    let (actions, _) = drain(&mut e, now);
    assert_eq!(restores(&actions), [1]);
    assert_eq!(e.state(0), Some(State::Master), "no election for it");
    assert_eq!(e.link_stats(0).unwrap().vips_restored, 1);
    // The same address on another interface, or another address: nothing.
    e.handle_address(now, &cfg, &addr(false, 3, VIP, 0));
    e.handle_address(now, &cfg, &addr(false, 2, OTHER, 0));
    assert!(restores(&drain(&mut e, now).0).is_empty());
    // Both at once: both, once each.
    e.handle_address(now, &cfg, &addr(false, 2, VIP, 0));
    e.handle_address(now, &cfg, &addr(false, 2, VIP2, 0));
    e.handle_address(now, &cfg, &addr(false, 2, VIP, 0));
    assert_eq!(restores(&drain(&mut e, now).0), [0, 1]);
}

#[test]
fn no_track_vips_and_backups_are_left_alone() {
    let text = conf(150, 3, "").replace("10.0.0.101/24", "10.0.0.101/24 no_track");
    let (cfg, mut e) = engine(&text, A);
    e.start(t(0));
    drain(&mut e, t(0));
    // BACKUP: the addresses are not its to hold.
    e.handle_address(t(10), &cfg, &addr(false, 2, VIP, 0));
    assert!(restores(&drain(&mut e, t(10)).0).is_empty());
    let now = e.poll_at().unwrap();
    e.handle_timeout(now);
    drain(&mut e, now);
    e.handle_address(now, &cfg, &addr(false, 2, VIP2, 0));
    assert!(restores(&drain(&mut e, now).0).is_empty(), "no_track");
    e.handle_address(now, &cfg, &addr(false, 2, VIP, 0));
    assert_eq!(restores(&drain(&mut e, now).0), [0]);
}

#[test]
fn a_vip_deleted_while_the_link_is_down_comes_back_with_the_link() {
    let (cfg, mut e, now) = master(" dont_track_primary");
    e.handle_link(now, &link(2, "eth0", false, false));
    e.handle_address(now, &cfg, &addr(false, 2, VIP, 0));
    assert!(
        restores(&drain(&mut e, now).0).is_empty(),
        "link down: later"
    );
    e.handle_link(now, &link(2, "eth0", true, false));
    assert_eq!(restores(&drain(&mut e, now).0), [0]);
    // Left MASTER meanwhile: forgotten.
    e.handle_link(now, &link(2, "eth0", false, false));
    e.handle_address(now, &cfg, &addr(false, 2, VIP, 0));
    e.shutdown(now);
    e.handle_link(now, &link(2, "eth0", true, false));
    assert!(restores(&drain(&mut e, now).0).is_empty());
}

#[test]
fn an_interface_deleted_and_recreated_faults_then_runs_on_its_new_index() {
    let (cfg, mut e, now) = master("");
    e.handle_link(now, &link(2, "eth0", false, true));
    assert_eq!(e.state(0), Some(State::Fault));
    assert_eq!(e.hold(0), HOLD_NO_INTERFACE | HOLD_NO_SOURCE);
    let (actions, sent) = drain(&mut e, now);
    assert_eq!(
        actions.first(),
        Some(&EngineAction::InterfaceGone { iface: 0 })
    );
    assert!(actions.contains(&EngineAction::RemoveVips { slot: 0 }));
    assert_eq!(sent.len(), 1, "the priority-0 advert (no socket: not sent)");
    assert!(!e.interfaces()[0].present);
    assert_eq!(e.link_stats(0).unwrap().interface_losses, 1);
    // Adverts and addresses of index 2 mean nothing now.
    e.handle_address(now, &cfg, &addr(true, 2, A, 0));
    assert_eq!(e.state(0), Some(State::Fault));

    let later = now + Duration::from_secs(1);
    e.handle_link(later, &link(9, "eth0", false, false));
    assert_eq!(e.interfaces()[0].facts.index, 9);
    assert_eq!(e.interfaces()[0].facts.mac, [2, 0, 0, 0, 0, 9]);
    assert_eq!(e.hold(0), HOLD_NO_SOURCE, "no address yet");
    let (actions, _) = drain(&mut e, later);
    assert_eq!(
        actions.first(),
        Some(&EngineAction::InterfaceBack { iface: 0 })
    );
    e.handle_address(later, &cfg, &addr(true, 9, A, IFA_F_PERMANENT));
    assert_eq!(e.hold(0), 0);
    assert_eq!(e.state(0), Some(State::Backup));
    let (actions, _) = drain(&mut e, later);
    assert!(actions.contains(&EngineAction::Source {
        slot: 0,
        event: SourceEvent::Found {
            addr: IpAddr::V4(A)
        }
    }));
    let down = e.poll_at().unwrap();
    e.handle_timeout(down);
    assert_eq!(e.state(0), Some(State::Master));
    // Its address requests name the new index.
    let mut buf = [0u8; crate::wire::rtnetlink::MAX_REQUEST_LEN];
    let (_, iface) = e
        .address_request(&cfg, 0, 0, Operation::Add, 1, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(e.interfaces()[iface].facts.index, 9);
}

/// The kernel reports a deleted interface's addresses gone before the
/// interface: the scan that would follow asks about that interface (the
/// binary checks it still exists); a deletion told then comes first, with
/// the sockets closed before the goodbye advert, and the scan no longer
/// wants the gone interface.
#[test]
fn a_scan_names_the_interfaces_it_wants_so_a_deletion_can_come_first() {
    let (cfg, mut e, now) = master("");
    assert!(!e.scan_wants(0), "nothing pending");
    e.handle_address(now, &cfg, &addr(false, 2, A, IFA_F_PERMANENT));
    assert!(e.address_scan_due());
    assert!(e.scan_wants(0));
    assert_eq!(
        e.state(0),
        Some(State::Master),
        "the old source stays until the scan"
    );
    e.handle_link(now, &link(2, "eth0", false, true));
    assert!(!e.scan_wants(0), "gone: nothing to scan there");
    let (actions, _) = drain(&mut e, now);
    assert_eq!(
        actions.first(),
        Some(&EngineAction::InterfaceGone { iface: 0 })
    );
    // A full scan wants every interface that exists.
    e.handle_link(now, &link(4, "eth0", true, false));
    e.request_full_scan();
    assert!(e.scan_wants(0));
    assert!(!e.scan_wants(7), "no such interface");
}

#[test]
fn a_rename_or_a_missed_deletion_is_an_interface_loss() {
    let (_, mut e, now) = master("");
    // Index 2 renamed away: gone.
    e.handle_link(now, &link(2, "wan0", true, false));
    assert_eq!(e.hold(0) & HOLD_NO_INTERFACE, HOLD_NO_INTERFACE);
    // eth0 shows up at 5, then at 6 without a deletion in between (an
    // overrun lost it): gone and back, in that order.
    e.handle_link(now, &link(5, "eth0", true, false));
    drain(&mut e, now);
    e.handle_link(now, &link(6, "eth0", true, false));
    let (actions, _) = drain(&mut e, now);
    let gone = actions
        .iter()
        .position(|a| *a == EngineAction::InterfaceGone { iface: 0 });
    let back = actions
        .iter()
        .position(|a| *a == EngineAction::InterfaceBack { iface: 0 });
    assert!(gone.is_some() && gone < back, "{actions:?}");
    assert_eq!(e.interfaces()[0].facts.index, 6);
    // Strangers' links and addresses change nothing.
    e.handle_link(now, &link(7, "eth7", true, false));
    e.handle_link(now, &link(8, "eth8", false, true));
    assert_eq!(e.interfaces()[0].facts.index, 6);
}

#[test]
fn the_source_follows_the_primary_address() {
    let (cfg, mut e, now) = master("");
    // A secondary and another VIP-like address do not matter.
    e.handle_address(now, &cfg, &addr(true, 2, OTHER, IFA_F_SECONDARY));
    assert_eq!(e.source(0), Some((false, IpAddr::V4(A))));
    // The primary goes: a scan finds the next one.
    e.handle_address(now, &cfg, &addr(false, 2, A, 0));
    assert!(e.address_scan_due());
    e.begin_address_scan();
    e.scan_address(&cfg, &addr(true, 2, VIP, IFA_F_SECONDARY));
    e.scan_address(&cfg, &addr(true, 2, OTHER, 0));
    e.end_address_scan(now, &cfg);
    assert!(!e.address_scan_due());
    assert_eq!(e.source(0), Some((false, IpAddr::V4(OTHER))));
    assert_eq!(e.instance(0).unwrap().params().primary, IpAddr::V4(OTHER));
    assert_eq!(e.state(0), Some(State::Master));
    let (actions, sent) = drain(&mut e, now);
    assert!(actions.contains(&EngineAction::Source {
        slot: 0,
        event: SourceEvent::Changed {
            from: IpAddr::V4(A),
            to: IpAddr::V4(OTHER)
        }
    }));
    assert!(sent.is_empty());
    // The VIPs are never a source: with only them left, held in FAULT.
    e.handle_address(now, &cfg, &addr(false, 2, OTHER, 0));
    e.begin_address_scan();
    e.scan_address(&cfg, &addr(true, 2, VIP, 0));
    e.end_address_scan(now, &cfg);
    assert_eq!(e.hold(0), HOLD_NO_SOURCE);
    assert_eq!(e.state(0), Some(State::Fault));
    // A failed dump concludes nothing and is due again.
    e.handle_address(now, &cfg, &addr(false, 2, VIP2, 0));
    e.request_full_scan();
    e.begin_address_scan();
    e.abort_address_scan();
    assert!(e.address_scan_due());
    assert_eq!(e.hold(0), HOLD_NO_SOURCE);
}

#[test]
fn a_configured_source_is_watched_and_track_src_ip_holds() {
    for track in [false, true] {
        let extra = if track {
            " mcast_src_ip 10.0.0.9\n track_src_ip"
        } else {
            " mcast_src_ip 10.0.0.9"
        };
        let (cfg, mut e) = engine(&conf(150, 3, extra), A);
        let src = Ipv4Addr::new(10, 0, 0, 9);
        // The scan at start: not there.
        e.request_full_scan();
        e.begin_address_scan();
        e.scan_address(&cfg, &addr(true, 2, A, 0));
        e.end_address_scan(t(0), &cfg);
        e.start(t(0));
        let (actions, _) = drain(&mut e, t(0));
        assert!(actions.contains(&EngineAction::Source {
            slot: 0,
            event: SourceEvent::ConfiguredMissing {
                addr: IpAddr::V4(src),
                held: track
            }
        }));
        let want = if track { State::Fault } else { State::Backup };
        assert_eq!(e.state(0), Some(want));
        e.handle_address(t(5), &cfg, &addr(true, 2, src, 0));
        let (actions, _) = drain(&mut e, t(5));
        assert!(actions.contains(&EngineAction::Source {
            slot: 0,
            event: SourceEvent::ConfiguredFound {
                addr: IpAddr::V4(src)
            }
        }));
        assert_eq!(e.state(0), Some(State::Backup));
        assert_eq!(e.source(0), Some((false, IpAddr::V4(src))));
    }
}

#[test]
fn a_full_scan_restores_what_a_master_lost_unseen() {
    let text = conf(150, 3, "").replace("10.0.0.101/24", "10.0.0.101/24 no_track");
    let (cfg, mut e) = engine(&text, A);
    e.start(t(0));
    let now = e.poll_at().unwrap();
    e.handle_timeout(now);
    drain(&mut e, now);
    // After an overrun: the dump has A and neither VIP.
    e.request_full_scan();
    assert!(e.address_scan_due());
    e.begin_address_scan();
    e.scan_address(&cfg, &addr(true, 2, A, 0));
    e.end_address_scan(now, &cfg);
    assert_eq!(restores(&drain(&mut e, now).0), [0], "not the no_track one");
    // Both there: nothing.
    e.request_full_scan();
    e.begin_address_scan();
    for a in [A, VIP, VIP2] {
        e.scan_address(&cfg, &addr(true, 2, a, 0));
    }
    e.end_address_scan(now, &cfg);
    assert!(restores(&drain(&mut e, now).0).is_empty());
}

#[test]
fn with_dynamic_interfaces_a_missing_interface_is_waited_for() {
    let text = std::format!(
        "global_defs {{\n dynamic_interfaces\n}}\n{}",
        conf(150, 3, "")
    );
    let (cfg, out) = crate::config::testutil::parse_text(&text);
    assert!(!out.contains("error"), "{out}");
    let mut none = |_: &str| None;
    let mut e = Engine::new(&cfg, &mut none, &mut |_, _, err| panic!("{err}"));
    assert_eq!(e.len(), 1);
    assert!(!e.interfaces()[0].present);
    assert_eq!(e.hold(0), HOLD_NO_INTERFACE | HOLD_NO_SOURCE);
    e.start(t(0));
    assert_eq!(e.state(0), Some(State::Fault));
    drain(&mut e, t(0));
    e.handle_link(t(10), &link(4, "eth0", true, false));
    e.handle_address(t(10), &cfg, &addr(true, 4, A, 0));
    assert_eq!(e.state(0), Some(State::Backup));
    let (actions, _) = drain(&mut e, t(10));
    assert!(actions.contains(&EngineAction::InterfaceBack { iface: 0 }));
}
