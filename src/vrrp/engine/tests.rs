//! The engine on a fake clock and fake interfaces: configuration mapped to
//! instances, adverts built and parsed back, two engines electing over a fake
//! wire, every drop reason counted without a state change.

use std::vec::Vec as StdVec;

use super::*;
use crate::config::testutil::parse_text;
use crate::wire::rtnetlink::AddressRepr;

pub(super) const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

pub(super) fn conf(priority: u8, version: u8, extra: &str) -> std::string::String {
    std::format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority {priority}\n version {version}\n advert_int 1\n{extra}\n virtual_ipaddress {{\n  10.0.0.100/24 brd + label eth0:vip\n  10.0.0.101/24\n }}\n}}\n"
    )
}

pub(super) fn engine(text: &str, own: Ipv4Addr) -> (std::boxed::Box<Config>, Engine) {
    let (cfg, out) = parse_text(text);
    assert!(!out.contains("error"), "{out}");
    let mut lookup = |name: &str| {
        (name == "eth0").then_some(IfFacts {
            index: 2,
            mac: [2, 0, 0, 0, 0, own.octets()[3]],
            ipv4: Some(own),
            ipv6_link_local: None,
            ipv6_forwarding: false,
            up: true,
        })
    };
    let mut errors = StdVec::new();
    let e = Engine::new(&cfg, &mut lookup, &mut |i, n: &str, e| {
        errors.push((i, std::string::String::from(n), e))
    });
    assert!(errors.is_empty(), "{errors:?}");
    (cfg, e)
}

pub(super) fn t(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

/// Drains the engine's actions; adverts are built and returned as datagrams.
pub(super) fn drain(e: &mut Engine, now: Instant) -> (StdVec<EngineAction>, StdVec<StdVec<u8>>) {
    let mut actions = StdVec::new();
    let mut sent = StdVec::new();
    while let Some(a) = e.poll_action(now) {
        if let EngineAction::SendAdvert { slot, priority } = a {
            let mut buf = [0u8; 1500];
            let (iface, dst, len) = e.build_advert(slot, priority, 0, &mut buf).unwrap();
            assert_eq!((iface, dst), (0, Ipv4Addr::new(224, 0, 0, 18)));
            sent.push(buf[..len].to_vec());
        }
        actions.push(a);
    }
    (actions, sent)
}

#[test]
fn maps_the_configuration() {
    let (_, e) = engine(&conf(150, 3, " nopreempt\n preempt_delay 2"), A);
    assert_eq!(e.len(), 1);
    let p = e.instance(0).unwrap().params();
    assert_eq!(
        (p.vrid, p.priority, p.version, p.advert_int),
        (51, 150, Version::V3, 100)
    );
    assert!(!p.preempt);
    assert_eq!(p.preempt_delay, Duration::from_secs(2));
    assert_eq!(p.primary, IpAddr::V4(A));
    assert_eq!(e.interfaces().len(), 1);
    assert_eq!(e.interfaces()[0].facts.index, 2);
    assert_eq!(e.address_count(0), 2);
    assert_eq!(e.announcement_count(0), 2);
}

#[test]
fn a_missing_interface_is_reported_and_a_missing_address_holds_in_fault() {
    let (cfg, _) = parse_text(&conf(100, 2, ""));
    let mut none = |_: &str| None;
    let mut errors = StdVec::new();
    let e = Engine::new(&cfg, &mut none, &mut |i, n: &str, err| {
        errors.push((i, std::string::String::from(n), err))
    });
    assert!(e.is_empty());
    assert_eq!(errors, [(0, "eth0".into(), SetupError::NoInterface)]);
    // keepalived 2.2.7: "(VI_1) entering FAULT state (no IPv4 address for
    // interface)", and BACKUP once one is added.
    let mut no_addr = |_: &str| {
        Some(IfFacts {
            index: 2,
            mac: [0; 6],
            ipv4: None,
            ipv6_link_local: None,
            ipv6_forwarding: false,
            up: true,
        })
    };
    errors.clear();
    let mut e = Engine::new(&cfg, &mut no_addr, &mut |i, n: &str, err| {
        errors.push((i, std::string::String::from(n), err))
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(e.hold(0), reflect::HOLD_NO_SOURCE);
    e.start(t(0));
    assert_eq!(e.state(0), Some(State::Fault));
    let (actions, sent) = drain(&mut e, t(0));
    assert!(sent.is_empty());
    assert_eq!(
        actions.first(),
        Some(&EngineAction::Source {
            slot: 0,
            event: reflect::SourceEvent::Missing {
                iface: 0,
                family: Family::Ipv4
            }
        })
    );
}

#[test]
fn becomes_master_and_builds_valid_adverts() {
    for version in [2u8, 3] {
        let (cfg, mut e) = engine(&conf(100, version, ""), A);
        e.start(t(0));
        let (actions, _) = drain(&mut e, t(0));
        assert_eq!(
            actions,
            [EngineAction::Transition {
                slot: 0,
                from: State::Initialize,
                to: State::Backup
            }]
        );
        let mdi = e.instance(0).unwrap().master_down_interval();
        let at = Instant::from_micros(mdi.total_micros() as i64);
        assert_eq!(e.poll_at(), Some(at));
        e.handle_timeout(at);
        let (actions, sent) = drain(&mut e, at);
        assert!(actions.contains(&EngineAction::Transition {
            slot: 0,
            from: State::Backup,
            to: State::Master
        }));
        assert!(actions.contains(&EngineAction::AddVips { slot: 0 }));
        assert!(actions.contains(&EngineAction::Garp { slot: 0, count: 5 }));
        assert_eq!(sent.len(), 1);
        // The advert parses back with every field as configured.
        let ip = wire::parse_ipv4(&sent[0]).unwrap();
        assert_eq!(ip.ttl, 255);
        assert_eq!(sent[0][1], 0xC0, "TOS");
        let p = Packet::new_checked(ip.payload, Family::Ipv4).unwrap();
        let r = Repr::parse(&p, &ip.envelope).unwrap();
        assert_eq!((r.vrid, r.priority, r.version.number()), (51, 100, version));
        assert_eq!(r.adver_int_centis(), 100);
        let addrs: StdVec<_> = r.addresses.iter().collect();
        assert_eq!(addrs.len(), 2);
        // A gratuitous ARP for each VIP, from eth0's MAC.
        let mut frame = [0u8; 64];
        let (iface, len, kind) = e.build_announcement(&cfg, 0, 0, &mut frame).unwrap();
        assert_eq!(
            (iface, len, kind),
            (0, wire::GARP_FRAME_LEN, Announcement::Arp)
        );
        assert_eq!(&frame[..6], &[0xff; 6]);
        assert_eq!(&frame[6..12], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&frame[28..32], &[10, 0, 0, 100], "sender IP = VIP");
        assert_eq!(&frame[38..42], &[10, 0, 0, 100], "target IP = VIP");
    }
}

#[test]
fn two_engines_elect_the_higher_priority_and_fail_over() {
    let (_, mut a) = engine(&conf(150, 2, ""), A);
    let (_, mut b) = engine(&conf(100, 2, ""), B);
    a.start(t(0));
    b.start(t(0));
    let mut now = t(0);
    // Run 10 s of fake time, delivering adverts between the two.
    while now < t(10_000) {
        for turn in 0..2 {
            let (x, y) = if turn == 0 {
                (&mut a, &mut b)
            } else {
                (&mut b, &mut a)
            };
            if is_due(now, x.poll_at()) {
                x.handle_timeout(now);
            }
            let (_, sent) = drain(x, now);
            for d in sent {
                y.handle_datagram(now, 0, &d, d.len());
            }
        }
        now += Duration::from_millis(10);
    }
    assert_eq!(a.state(0), Some(State::Master));
    assert_eq!(b.state(0), Some(State::Backup));
    assert!(b.rx_stats(0).unwrap().accepted >= 5);
    // a stops cleanly: priority 0, b takes over after its skew time.
    a.shutdown(now);
    let (actions, sent) = drain(&mut a, now);
    assert!(actions.contains(&EngineAction::RemoveVips { slot: 0 }));
    assert_eq!(sent.len(), 1);
    b.handle_datagram(now, 0, &sent[0], sent[0].len());
    let skew = b.instance(0).unwrap().skew_time();
    assert_eq!(b.poll_at(), Some(now + skew));
    let at = now + skew;
    b.handle_timeout(at);
    let (actions, _) = drain(&mut b, at);
    assert!(actions.contains(&EngineAction::Transition {
        slot: 0,
        from: State::Backup,
        to: State::Master
    }));
}

/// A valid advert from B for VRID 51, priority 200, v2 with the password
/// `secret`; `f` may spoil it after it is built.
fn advert_from_b(f: impl FnOnce(&mut [u8])) -> StdVec<u8> {
    let (_, mut b) = engine(
        &conf(
            200,
            2,
            " authentication {\n  auth_type PASS\n  auth_pass secret\n }",
        ),
        B,
    );
    let mut buf = [0u8; 1500];
    let (_, _, len) = b.build_advert(0, 200, 0, &mut buf).unwrap();
    let mut d = buf[..len].to_vec();
    f(&mut d);
    d
}

#[test]
fn bad_packets_are_counted_and_change_nothing() {
    let auth = " authentication {\n  auth_type PASS\n  auth_pass secret\n }";
    let (_, mut e) = engine(&conf(100, 2, auth), A);
    e.start(t(0));
    drain(&mut e, t(0));
    let before = e.poll_at();
    type Spoil = fn(&mut [u8]);
    type Counter = fn(&RxStats) -> u64;
    let cases: [(&str, Spoil, Counter); 7] = [
        ("wrong password", |d| d[20 + 8 + 8] ^= 1, |s| s.bad_password),
        ("wrong VRID", |d| d[21] = 52, |_| 0),
        ("TTL 64", |d| d[8] = 64, |s| s.bad_ttl),
        ("bad checksum", |d| d[26] ^= 0xff, |s| s.bad_checksum),
        ("wrong interval", |d| d[25] = 2, |s| s.bad_interval),
        ("wrong auth type", |d| d[24] = 0, |s| s.bad_auth_type),
        ("VRRPv2 type 2", |d| d[20] = 0x22, |s| s.bad_type),
    ];
    for (what, spoil, counter) in cases {
        let mut d = advert_from_b(spoil);
        if what == "TTL 64" {
            // Keep the IPv4 header checksum right so only the TTL is wrong.
            let mut ip = smoltcp::wire::Ipv4Packet::new_unchecked(&mut d[..]);
            ip.fill_checksum();
        } else if what != "bad checksum" {
            // Keep the VRRP checksum right so only the spoilt field is wrong.
            let env = Envelope::Ipv4 {
                src: B,
                dst: Ipv4Addr::new(224, 0, 0, 18),
            };
            let mut p = Packet::new_unchecked(&mut d[20..], Family::Ipv4);
            p.fill_checksum(&env, ChecksumForm::Message);
        }
        let global = e.global_rx_stats().unknown_vrid;
        let n = counter(e.rx_stats(0).unwrap());
        e.handle_datagram(t(100), 0, &d, d.len());
        if what == "wrong VRID" {
            assert_eq!(e.global_rx_stats().unknown_vrid, global + 1, "{what}");
        } else {
            assert_eq!(counter(e.rx_stats(0).unwrap()), n + 1, "{what}");
        }
        assert_eq!(e.state(0), Some(State::Backup), "{what}");
        assert_eq!(e.poll_at(), before, "{what}: the timer moved");
    }
    // A VRRPv3 advert for this v2 instance.
    let (_, mut v3) = engine(&conf(200, 3, ""), B);
    let mut buf = [0u8; 1500];
    let (_, _, len) = v3.build_advert(0, 200, 0, &mut buf).unwrap();
    e.handle_datagram(t(100), 0, &buf[..len], len);
    assert_eq!(e.rx_stats(0).unwrap().bad_version, 1);
    // Truncated at every length: counted, never a panic, no state change.
    let good = advert_from_b(|_| {});
    for len in 0..good.len() {
        e.handle_datagram(t(100), 0, &good[..len], len);
    }
    // Cut by the receive buffer.
    e.handle_datagram(t(100), 0, &good, good.len() + 1);
    assert_eq!(e.global_rx_stats().oversized, 1);
    assert_eq!(e.poll_at(), before);
    assert_eq!(e.rx_stats(0).unwrap().accepted, 0);
    // The good one is accepted and restarts the timer.
    e.handle_datagram(t(100), 0, &good, good.len());
    assert_eq!(e.rx_stats(0).unwrap().accepted, 1);
    assert_ne!(e.poll_at(), before);
}

#[test]
fn address_requests_carry_the_configured_address() {
    let (cfg, e) = engine(&conf(100, 2, ""), A);
    let mut buf = [0u8; 256];
    let (len, iface) = e
        .address_request(&cfg, 0, 0, Operation::Add, 7, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(iface, 0);
    let msg = crate::wire::netlink::Packet::new_checked(&buf[..len]).unwrap();
    assert_eq!(msg.sequence(), 7);
    let a = AddressRepr::parse(&msg).unwrap();
    assert_eq!(
        a.local_address(),
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)))
    );
    assert_eq!(a.prefix_len, 24);
    assert_eq!(a.ifindex, 2);
    assert_eq!(a.broadcast, Some(Ipv4Addr::new(10, 0, 0, 255)));
    assert_eq!(a.label, Some("eth0:vip"));
    assert!(
        e.address_request(&cfg, 0, 2, Operation::Add, 8, &mut buf)
            .is_none()
    );
}

#[test]
fn garp_interval_paces_the_rounds() {
    let text = std::format!(
        "global_defs {{\n vrrp_garp_interval 0.1\n vrrp_garp_master_repeat 3\n}}\n{}",
        conf(100, 2, "")
    );
    let (_, mut e) = engine(&text, A);
    e.start(t(0));
    drain(&mut e, t(0));
    let at = e.poll_at().unwrap();
    e.handle_timeout(at);
    let (actions, _) = drain(&mut e, at);
    assert!(
        actions.contains(&EngineAction::Garp { slot: 0, count: 1 }),
        "{actions:?}"
    );
    let mut rounds = 1;
    let mut now = at;
    for _ in 0..10 {
        let Some(next) = e.poll_at() else { break };
        if next > at + Duration::from_millis(500) {
            break;
        }
        assert_eq!(next, now + Duration::from_millis(100));
        now = next;
        e.handle_timeout(now);
        let (actions, _) = drain(&mut e, now);
        rounds += actions
            .iter()
            .filter(|a| matches!(a, EngineAction::Garp { .. }))
            .count();
    }
    assert_eq!(rounds, 3);
}

#[test]
fn features_not_run_yet_are_named() {
    let text = "vrrp_script chk {\n script /bin/true\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n unicast_src_ip 10.0.0.1\n unicast_peer {\n  10.0.0.2\n }\n track_script {\n  chk\n }\n track_interface {\n  eth1\n }\n use_vmac\n notify_master /bin/true\n notify_master_rx_lower_pri /bin/true\n virtual_ipaddress {\n  10.0.0.100/24 use_vmac\n }\n}\n";
    let (cfg, _) = parse_text(text);
    let mut diags = Diagnostics::new();
    let _ = diags.files.push("t.conf");
    check_config(&cfg, &mut diags, Severity::Error);
    let mut out = std::string::String::new();
    diags.render(&mut out).unwrap();
    assert!(!out.contains("unicast"), "unicast runs: {out}");
    assert!(!out.contains("track_script"), "track_script runs: {out}");
    assert!(
        !out.contains("track_interface"),
        "track_interface runs: {out}"
    );
    assert!(
        out.contains("t.conf:4:") && out.contains("use_vmac on a virtual_ipaddress entry"),
        "the instance's use_vmac runs, a VIP's does not: {out}"
    );
    assert!(!out.contains("notify"), "notify scripts run: {out}");
    assert_eq!(diags.error_count(), 1, "{out}");
    let (cfg, _) = parse_text(&conf(100, 2, ""));
    let mut diags = Diagnostics::new();
    check_config(&cfg, &mut diags, Severity::Error);
    assert!(diags.is_ok());
}

const C: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

/// The unicast lines of an instance at `src` listing `peers`.
fn unicast(src: Ipv4Addr, peers: &str, extra: &str) -> std::string::String {
    std::format!(" unicast_src_ip {src}\n unicast_peer {{\n{peers}\n }}\n{extra}")
}

/// A valid v3 advert from `from` (priority 200) to `to`, TTL `ttl`.
fn unicast_advert(from: Ipv4Addr, to: Ipv4Addr, ttl: u8) -> StdVec<u8> {
    let peers = std::format!("  {to}");
    let (_, mut e) = engine(&conf(200, 3, &unicast(from, &peers, "")), from);
    let mut buf = [0u8; 1500];
    let (_, dst, len) = e.build_advert(0, 200, 0, &mut buf).unwrap();
    assert_eq!(dst, to);
    let mut d = buf[..len].to_vec();
    let mut ip = smoltcp::wire::Ipv4Packet::new_unchecked(&mut d[..]);
    ip.set_hop_limit(ttl);
    ip.fill_checksum();
    d
}

#[test]
fn unicast_sends_one_advert_per_peer_with_its_own_checksum() {
    let text = conf(
        200,
        3,
        &unicast(A, "  10.0.0.2\n  10.0.0.3", " unicast_ttl 64"),
    );
    let (_, mut e) = engine(&text, A);
    assert_eq!(e.interfaces()[0].group, None, "no multicast membership");
    assert_eq!(e.advert_destinations(0), 2);
    assert_eq!(e.source(0), Some((true, IpAddr::V4(A))));
    let mut checksums = StdVec::new();
    for (k, peer) in [B, C].into_iter().enumerate() {
        let mut buf = [0u8; 1500];
        let (iface, dst, len) = e.build_advert(0, 200, k, &mut buf).unwrap();
        assert_eq!((iface, dst), (0, peer));
        let ip = wire::parse_ipv4(&buf[..len]).unwrap();
        assert_eq!(ip.ttl, 64, "unicast_ttl");
        assert_eq!(ip.envelope, Envelope::Ipv4 { src: A, dst: peer });
        // The v3 checksum covers the pseudo-header of this destination.
        let p = Packet::new_checked(ip.payload, Family::Ipv4).unwrap();
        let repr = Repr::parse(&p, &ip.envelope).unwrap();
        assert_eq!(repr.priority, 200);
        let other = Envelope::Ipv4 {
            src: A,
            dst: Ipv4Addr::new(224, 0, 0, 18),
        };
        assert_eq!(Repr::parse(&p, &other), Err(wire::Error::Checksum));
        checksums.push([ip.payload[6], ip.payload[7]]);
    }
    assert_ne!(checksums[0], checksums[1]);
    // unicast_ttl defaults to 255.
    let (_, mut e) = engine(&conf(200, 2, &unicast(A, "  10.0.0.2", "")), A);
    let mut buf = [0u8; 1500];
    let (_, _, len) = e.build_advert(0, 200, 0, &mut buf).unwrap();
    assert_eq!(wire::parse_ipv4(&buf[..len]).unwrap().ttl, 255);
    // Multicast instances still send one advert to the group.
    let (_, e) = engine(&conf(100, 3, ""), A);
    assert_eq!(e.advert_destinations(0), 1);
    assert_eq!(e.interfaces()[0].group, Some(Ipv4Addr::new(224, 0, 0, 18)));
}

#[test]
fn unicast_drops_and_counts_strangers() {
    let text = conf(100, 3, &unicast(A, "  10.0.0.2", " check_unicast_src"));
    let (_, mut e) = engine(&text, A);
    e.start(t(0));
    drain(&mut e, t(0));
    let before = e.poll_at();
    // C is not a peer: dropped, counted, the timer untouched.
    let stranger = unicast_advert(C, A, 255);
    e.handle_datagram(t(100), 0, &stranger, stranger.len());
    let rx = *e.rx_stats(0).unwrap();
    assert_eq!((rx.not_a_peer, rx.accepted), (1, 0));
    assert_eq!(e.poll_at(), before);
    // A multicast advert from the peer: the mode does not match.
    let (_, mut m) = engine(&conf(200, 3, ""), B);
    let mut buf = [0u8; 1500];
    let (_, _, len) = m.build_advert(0, 200, 0, &mut buf).unwrap();
    e.handle_datagram(t(100), 0, &buf[..len], len);
    assert_eq!(e.rx_stats(0).unwrap().bad_destination, 1);
    // Sent by the peer to another address of ours.
    let elsewhere = unicast_advert(B, Ipv4Addr::new(10, 0, 0, 9), 255);
    e.handle_datagram(t(100), 0, &elsewhere, elsewhere.len());
    assert_eq!(e.rx_stats(0).unwrap().bad_destination, 2);
    assert_eq!(e.poll_at(), before);
    // The peer, at any TTL (no min_ttl/max_ttl: no check, as keepalived).
    let peer = unicast_advert(B, A, 64);
    e.handle_datagram(t(100), 0, &peer, peer.len());
    let rx = *e.rx_stats(0).unwrap();
    assert_eq!((rx.accepted, rx.bad_ttl, rx.not_a_peer), (1, 0, 1));
    assert_ne!(e.poll_at(), before);
    assert_eq!(
        e.instance(0).unwrap().master(),
        Some((IpAddr::V4(B), 200)),
        "the peer is the master"
    );
}

#[test]
fn unicast_checks_the_peers_ttl_limits() {
    // min_ttl alone turns check_unicast_src on.
    let text = conf(100, 3, &unicast(A, "  10.0.0.2 min_ttl 250", ""));
    let (_, mut e) = engine(&text, A);
    e.start(t(0));
    drain(&mut e, t(0));
    for (ttl, accepted, bad_ttl) in [(249, 0, 1), (250, 1, 1), (255, 2, 1)] {
        let d = unicast_advert(B, A, ttl);
        e.handle_datagram(t(100), 0, &d, d.len());
        let rx = e.rx_stats(0).unwrap();
        assert_eq!((rx.accepted, rx.bad_ttl), (accepted, bad_ttl), "TTL {ttl}");
    }
    let d = unicast_advert(C, A, 255);
    e.handle_datagram(t(100), 0, &d, d.len());
    assert_eq!(e.rx_stats(0).unwrap().not_a_peer, 1);
}

#[test]
fn unicast_drops_strangers_without_check_unicast_src_too() {
    let (_, mut e) = engine(&conf(100, 3, &unicast(A, "  10.0.0.2", "")), A);
    e.start(t(0));
    drain(&mut e, t(0));
    let before = e.poll_at();
    let d = unicast_advert(C, A, 255);
    e.handle_datagram(t(100), 0, &d, d.len());
    let rx = e.rx_stats(0).unwrap();
    assert_eq!((rx.accepted, rx.not_a_peer), (0, 1));
    assert_eq!(e.poll_at(), before, "a stranger does not reset the timer");
    assert!(std::format!("{rx}").contains("not_a_peer=1"));
}

#[test]
fn unicast_without_peers_is_refused() {
    for extra in [" unicast_peer {\n }", " unicast_fault_no_peer"] {
        let (cfg, _) = parse_text(&conf(100, 3, extra));
        let mut diags = Diagnostics::new();
        let _ = diags.files.push("t.conf");
        check_config(&cfg, &mut diags, Severity::Error);
        let mut out = std::string::String::new();
        diags.render(&mut out).unwrap();
        assert_eq!(diags.error_count(), 1, "{extra}: {out}");
        assert!(out.contains("does not fall back to multicast"), "{out}");
    }
}

// --- sync groups -------------------------------------------------------------

/// VI_1 (VRID 51) and VI_2 (VRID 52) on eth0 at `priority`, in sync group
/// G when `group`.
fn sync_conf(priority: u8, group: bool) -> std::string::String {
    let mut s = std::string::String::new();
    if group {
        s += "vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n notify_master /bin/true\n}\n";
    }
    for (n, vrid) in [(1, 51), (2, 52)] {
        s += &std::format!(
            "vrrp_instance VI_{n} {{\n interface eth0\n virtual_router_id {vrid}\n priority {priority}\n advert_int 1\n virtual_ipaddress {{\n  10.0.0.{vrid}/24\n }}\n}}\n"
        );
    }
    s
}

/// An advert of B's instance `slot` at priority 200.
fn b_advert(b: &mut Engine, slot: u16) -> StdVec<u8> {
    let mut buf = [0u8; 1500];
    let (_, _, len) = b.build_advert(slot, 200, 0, &mut buf).unwrap();
    buf[..len].to_vec()
}

/// The transitions of `actions`: members' by slot (their order is the
/// engine's round-robin), then the group's as `100 + group`, which must
/// come after them.
fn transitions(actions: &[EngineAction]) -> StdVec<(u16, State)> {
    let mut v: StdVec<(u16, State)> = actions
        .iter()
        .filter_map(|a| match *a {
            EngineAction::Transition { slot, to, .. } => Some((slot, to)),
            EngineAction::GroupTransition { group, to } => Some((100 + group, to)),
            _ => None,
        })
        .collect();
    let last_member = v.iter().rposition(|x| x.0 < 100);
    let first_group = v.iter().position(|x| x.0 >= 100);
    if let (Some(m), Some(g)) = (last_member, first_group) {
        assert!(g > m, "group transition before a member's: {v:?}");
    }
    v.sort_by_key(|x| x.0);
    v
}

/// Runs `e` from `from` to `to` in 10 ms steps, handing every tick the
/// datagrams `feed` returns; returns the actions.
fn run(
    e: &mut Engine,
    from: Instant,
    to: Instant,
    mut feed: impl FnMut(Instant) -> StdVec<StdVec<u8>>,
) -> StdVec<EngineAction> {
    let mut all = StdVec::new();
    let mut now = from;
    while now < to {
        for d in feed(now) {
            e.handle_datagram(now, 0, &d, d.len());
        }
        if is_due(now, e.poll_at()) {
            e.handle_timeout(now);
        }
        all.extend(drain(e, now).0);
        now += Duration::from_millis(10);
    }
    all
}

/// Both members of a started group made MASTER (no peer); returns when.
fn group_master() -> (std::boxed::Box<Config>, Engine, Instant) {
    let (cfg, mut e) = engine(&sync_conf(150, true), A);
    e.start(t(0));
    let (a, _) = drain(&mut e, t(0));
    assert_eq!(
        transitions(&a),
        [(0, State::Backup), (1, State::Backup), (100, State::Backup)]
    );
    run(&mut e, t(0), t(5_000), |_| StdVec::new());
    assert_eq!(
        (e.state(0), e.state(1)),
        (Some(State::Master), Some(State::Master))
    );
    (cfg, e, t(5_000))
}

#[test]
fn sync_members_go_master_only_when_all_want_master() {
    let (_, mut b) = engine(&sync_conf(200, false), B);
    let (_, mut e) = engine(&sync_conf(150, true), A);
    e.start(t(0));
    drain(&mut e, t(0));
    // VI_2 hears a master every second; VI_1 hears nobody.
    let vi2 = b_advert(&mut b, 1);
    let feed = |now: Instant| {
        if now.total_micros() % 1_000_000 == 0 {
            std::vec![vi2.clone()]
        } else {
            StdVec::new()
        }
    };
    let a = run(&mut e, t(0), t(10_000), feed);
    assert!(transitions(&a).is_empty(), "{a:?}");
    assert_eq!(
        (e.state(0), e.state(1)),
        (Some(State::Backup), Some(State::Backup))
    );
    assert!(e.instance(0).unwrap().wants_master());
    assert!(e.instance(0).unwrap().stats().master_wishes >= 1);
    assert!(e.sync_group(0).unwrap().stats().master_held >= 1);
    // VI_2's master goes away: its timer runs out and both go MASTER, the
    // group's transition after its members'.
    let a = run(&mut e, t(10_000), t(15_000), |_| StdVec::new());
    assert_eq!(
        transitions(&a),
        [(0, State::Master), (1, State::Master), (100, State::Master)]
    );
    assert!(a.contains(&EngineAction::AddVips { slot: 0 }));
    assert!(a.contains(&EngineAction::AddVips { slot: 1 }));
}

#[test]
fn sync_member_fault_makes_all_fault_until_it_clears() {
    let (_, mut e, now) = group_master();
    e.set_fault(now, 1, true);
    let (a, sent) = drain(&mut e, now);
    assert_eq!(
        transitions(&a),
        [(0, State::Fault), (1, State::Fault), (100, State::Fault)]
    );
    assert!(a.contains(&EngineAction::RemoveVips { slot: 0 }));
    assert!(a.contains(&EngineAction::RemoveVips { slot: 1 }));
    // Both say goodbye with priority 0.
    assert_eq!(
        a.iter()
            .filter(|x| matches!(x, EngineAction::SendAdvert { priority: 0, .. }))
            .count(),
        2
    );
    assert_eq!(sent.len(), 2);
    assert!(!e.instance(0).unwrap().is_faulty(), "held by the group");
    // Nothing moves while the fault lasts.
    let a = run(&mut e, now, now + Duration::from_secs(10), |_| {
        StdVec::new()
    });
    assert!(transitions(&a).is_empty());
    // The fault clears: both BACKUP, then MASTER together.
    let now = now + Duration::from_secs(10);
    e.set_fault(now, 1, false);
    let (a, _) = drain(&mut e, now);
    assert_eq!(
        transitions(&a),
        [(0, State::Backup), (1, State::Backup), (100, State::Backup)]
    );
    let a = run(&mut e, now, now + Duration::from_secs(5), |_| StdVec::new());
    assert_eq!(
        transitions(&a),
        [(0, State::Master), (1, State::Master), (100, State::Master)]
    );
}

#[test]
fn sync_member_fault_while_another_is_faulty_keeps_the_group_in_fault() {
    let (_, mut e, now) = group_master();
    e.set_fault(now, 0, true);
    e.set_fault(now, 1, true);
    drain(&mut e, now);
    e.set_fault(now, 0, false);
    let (a, _) = drain(&mut e, now);
    assert!(transitions(&a).is_empty(), "{a:?}");
    assert_eq!(e.state(0), Some(State::Fault));
    e.set_fault(now, 1, false);
    let (a, _) = drain(&mut e, now);
    assert_eq!(
        transitions(&a),
        [(0, State::Backup), (1, State::Backup), (100, State::Backup)]
    );
}

#[test]
fn sync_member_going_backup_takes_the_others() {
    let (_, mut b) = engine(&sync_conf(200, false), B);
    let (_, mut e, now) = group_master();
    let d = b_advert(&mut b, 0);
    e.handle_datagram(now, 0, &d, d.len());
    let (a, _) = drain(&mut e, now);
    assert_eq!(
        transitions(&a),
        [(0, State::Backup), (1, State::Backup), (100, State::Backup)]
    );
    assert!(a.contains(&EngineAction::RemoveVips { slot: 0 }));
    assert!(a.contains(&EngineAction::RemoveVips { slot: 1 }));
    // VI_2 hears nobody and wishes MASTER; VI_1 follows B: both stay.
    let vi1 = b_advert(&mut b, 0);
    let a = run(&mut e, now, now + Duration::from_secs(10), |n| {
        if n.total_micros() % 1_000_000 == 0 {
            std::vec![vi1.clone()]
        } else {
            StdVec::new()
        }
    });
    assert!(transitions(&a).is_empty(), "{a:?}");
}

#[test]
fn sync_group_stops_per_member_then_as_a_group() {
    let (_, mut e, now) = group_master();
    e.shutdown(now);
    let (a, _) = drain(&mut e, now);
    assert_eq!(
        transitions(&a),
        [
            (0, State::Initialize),
            (1, State::Initialize),
            (100, State::Initialize)
        ]
    );
}

#[test]
fn instances_outside_groups_are_not_held() {
    let (_, mut e) = engine(&sync_conf(150, false), A);
    assert!(e.sync_group(0).is_none());
    e.start(t(0));
    drain(&mut e, t(0));
    e.set_fault(t(0), 1, true);
    let (a, _) = drain(&mut e, t(0));
    assert_eq!(transitions(&a), [(1, State::Fault)]);
    let a = run(&mut e, t(0), t(5_000), |_| StdVec::new());
    assert_eq!(transitions(&a), [(0, State::Master)]);
}

#[test]
fn each_source_is_counted_and_a_silent_peer_reported() {
    use crate::vrrp::peers::PeerEvent;
    // advert_int 1 s (conf's), so the silence window is 10 s.
    let (_, mut e) = engine(&conf(100, 3, &unicast(A, "  10.0.0.2", "")), A);
    e.start(t(0));
    let actions = |e: &mut Engine, now| -> StdVec<EngineAction> {
        core::iter::from_fn(|| e.poll_action(now)).collect()
    };
    actions(&mut e, t(0));
    let stranger = unicast_advert(C, A, 255);
    e.handle_datagram(t(100), 0, &stranger, stranger.len());
    let heard: StdVec<_> = e
        .peers(0)
        .unwrap()
        .iter()
        .map(|p| std::format!("{}", p.summary(t(600))))
        .collect();
    assert_eq!(
        heard,
        [
            "10.0.0.2 (peer): never heard",
            "10.0.0.3: last heard 0.500 s ago; not_a_peer=1"
        ]
    );
    // The configured peer stays silent: reported once, at 10 s.
    assert_eq!(e.poll_at().map(|at| at <= t(10_000)), Some(true));
    e.handle_timeout(t(10_000));
    let got = actions(&mut e, t(10_000));
    assert!(
        got.contains(&EngineAction::Peer {
            slot: 0,
            event: PeerEvent::NeverHeard {
                addr: IpAddr::V4(B),
                silent_for: Duration::from_secs(10)
            }
        }),
        "{got:?}"
    );
    // Then heard: its priority and an event.
    let peer = unicast_advert(B, A, 255);
    e.handle_datagram(t(10_500), 0, &peer, peer.len());
    let got = actions(&mut e, t(10_500));
    assert!(got.contains(&EngineAction::Peer {
        slot: 0,
        event: PeerEvent::HeardAgain {
            addr: IpAddr::V4(B)
        }
    }));
    let b = e.peers(0).unwrap().iter().next().unwrap();
    assert_eq!((b.last_priority, b.counts[0]), (Some(200), 1));
}
