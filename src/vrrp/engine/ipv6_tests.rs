//! The engine's IPv6 path on a fake clock and fake interfaces: VRRPv3 over
//! IPv6 from the link-local address, every drop reason of the receive path,
//! unicast, unsolicited neighbour advertisements and their pacing.

use std::vec::Vec as StdVec;

use super::*;
use crate::config::testutil::parse_text;
use crate::wire::ndisc::UnsolicitedNa;

/// Link-local addresses of the two routers' eth0.
const LL_A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xa);
const LL_B: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xb);
/// Global addresses, for unicast.
const G_A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0xa);
const G_B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0xb);
const G_C: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0xc);
const VIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0x100);
const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// An IPv6 instance, VRID 51, advert_int 1, VIP fd00:99::100/64.
fn conf6(priority: u8, extra: &str) -> std::string::String {
    std::format!(
        "vrrp_instance V6 {{\n interface eth0\n virtual_router_id 51\n priority {priority}\n advert_int 1\n{extra}\n virtual_ipaddress {{\n  fd00:99::100/64\n }}\n}}\n"
    )
}

/// The engine of `text` on a fake eth0 with link-local `ll` (MAC ends in
/// its last byte).
fn engine6(text: &str, ll: Option<Ipv6Addr>) -> (std::boxed::Box<Config>, Engine) {
    let (cfg, out) = parse_text(text);
    assert!(!out.contains("error"), "{out}");
    let last = ll.map_or(0, |a| a.octets()[15]);
    let mut lookup = |name: &str| {
        (name == "eth0").then_some(IfFacts {
            index: 2,
            mac: [2, 0, 0, 0, 0, last],
            ipv4: Some(Ipv4Addr::new(10, 0, 0, last)),
            ipv6_link_local: ll,
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

fn t(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

/// One advert as it reaches the other side: the message and what the
/// kernel would report.
#[derive(Clone, Debug)]
struct Sent6 {
    message: StdVec<u8>,
    meta: Ipv6Meta,
}

/// Drains the engine's actions; IPv6 adverts are built for every
/// destination and returned with the header facts the receiver sees
/// (hop limit as sent, 64 for the kernel's default).
fn drain6(e: &mut Engine, now: Instant) -> (StdVec<EngineAction>, StdVec<Sent6>) {
    let mut actions = StdVec::new();
    let mut sent = StdVec::new();
    while let Some(a) = e.poll_action(now) {
        if let EngineAction::SendAdvert { slot, priority } = a {
            assert_eq!(e.family(slot), Some(Family::Ipv6));
            for k in 0..e.advert_destinations(slot) {
                let mut buf = [0u8; 1500];
                let out = e.build_advert6(slot, priority, k, &mut buf).unwrap();
                sent.push(Sent6 {
                    message: buf[..out.len].to_vec(),
                    meta: Ipv6Meta {
                        src: out.src,
                        dst: Some(out.dst),
                        hop_limit: Some(out.hop_limit.unwrap_or(64)),
                    },
                });
            }
        }
        actions.push(a);
    }
    (actions, sent)
}

fn deliver(e: &mut Engine, now: Instant, s: &Sent6) {
    e.handle_datagram6(now, 0, &s.message, s.message.len(), &s.meta);
}

/// Starts `e` and runs it to MASTER; returns the time and what it sent.
fn to_master(e: &mut Engine) -> (Instant, StdVec<EngineAction>, StdVec<Sent6>) {
    e.start(t(0));
    drain6(e, t(0));
    let at = e.poll_at().unwrap();
    e.handle_timeout(at);
    let (actions, sent) = drain6(e, at);
    assert_eq!(e.state(0), Some(State::Master));
    (at, actions, sent)
}

#[test]
fn an_ipv6_instance_advertises_from_its_link_local_address() {
    let (cfg, mut e) = engine6(&conf6(100, ""), Some(LL_A));
    assert_eq!(e.family(0), Some(Family::Ipv6));
    assert_eq!(e.source(0), Some((false, IpAddr::V6(LL_A))));
    assert_eq!(e.instance(0).unwrap().params().primary, IpAddr::V6(LL_A));
    let f = &e.interfaces()[0];
    assert_eq!((f.vrrp, f.group), (false, None), "no IPv4 socket");
    assert_eq!((f.vrrp6, f.group6), (true, Some(GROUP)));
    let (_, actions, sent) = to_master(&mut e);
    assert!(actions.contains(&EngineAction::AddVips { slot: 0 }));
    assert!(actions.contains(&EngineAction::Garp { slot: 0, count: 5 }));
    assert_eq!(sent.len(), 1);
    let s = &sent[0];
    assert_eq!((s.meta.src, s.meta.dst), (LL_A, Some(GROUP)));
    assert_eq!(s.meta.hop_limit, Some(255));
    // The message parses back, checksum over the IPv6 pseudo-header.
    let env = Envelope::Ipv6 {
        src: LL_A,
        dst: GROUP,
    };
    let p = Packet::new_checked(&s.message[..], Family::Ipv6).unwrap();
    let r = Repr::parse(&p, &env).unwrap();
    assert_eq!((r.vrid, r.priority, r.version.number()), (51, 100, 3));
    assert_eq!(r.checksum, ChecksumForm::PseudoHeader);
    assert_eq!(r.adver_int_centis(), 100);
    assert_eq!(
        r.addresses.iter().collect::<StdVec<_>>(),
        [smoltcp::wire::IpAddress::Ipv6(VIP6)]
    );
    // The VIP goes on eth0 with IFA_F_NODAD.
    let mut buf = [0u8; 256];
    let (len, _) = e
        .address_request(&cfg, 0, 0, Operation::Add, 1, &mut buf)
        .unwrap()
        .unwrap();
    let msg = crate::wire::netlink::Packet::new_checked(&buf[..len]).unwrap();
    let a = crate::wire::rtnetlink::AddressRepr::parse(&msg).unwrap();
    assert_eq!(a.local_address(), Some(IpAddr::V6(VIP6)));
    assert_ne!(a.flags & crate::wire::rtnetlink::IFA_F_NODAD, 0);
}

#[test]
fn becoming_master_announces_the_vip_with_a_neighbour_advertisement() {
    let (cfg, mut e) = engine6(&conf6(100, ""), Some(LL_A));
    to_master(&mut e);
    assert_eq!(e.announcement_count(0), 1);
    let mut frame = [0u8; 128];
    let (iface, len, kind) = e.build_announcement(&cfg, 0, 0, &mut frame).unwrap();
    assert_eq!((iface, kind), (0, Announcement::NeighbourAdvert));
    let na = UnsolicitedNa::parse(&frame[..len]).unwrap();
    assert_eq!(
        na,
        UnsolicitedNa {
            mac: EthernetAddress([2, 0, 0, 0, 0, 0xa]),
            target: VIP6,
            router: false,
        }
    );
    // IPv6 forwarding on the interface: the Router flag (re-read each round).
    e.update_ipv6_forwarding(&cfg, 0, &mut |name| name == "eth0");
    let (_, len, _) = e.build_announcement(&cfg, 0, 0, &mut frame).unwrap();
    assert!(UnsolicitedNa::parse(&frame[..len]).unwrap().router);
    assert!(e.build_announcement(&cfg, 0, 1, &mut frame).is_none());
}

#[test]
fn excluded_addresses_are_announced_each_by_its_own_family() {
    let extra = " virtual_ipaddress_excluded {\n  10.0.0.50/24\n  fd00:99::200/64\n }";
    let (cfg, e) = engine6(&conf6(100, extra), Some(LL_A));
    assert_eq!(e.announcement_count(0), 3);
    let mut frame = [0u8; 128];
    let kinds: StdVec<_> = (0..3)
        .map(|k| e.build_announcement(&cfg, 0, k, &mut frame).unwrap().2)
        .collect();
    assert_eq!(
        kinds,
        [
            Announcement::NeighbourAdvert,
            Announcement::Arp,
            Announcement::NeighbourAdvert
        ]
    );
    let (_, len, _) = e.build_announcement(&cfg, 0, 1, &mut frame).unwrap();
    assert_eq!(&frame[38..len], &[10, 0, 0, 50], "ARP target = the eVIP");
    // Adverts carry only the VIPs.
    let mut buf = [0u8; 1500];
    let out = e.build_advert6(0, 100, 0, &mut buf).unwrap();
    assert_eq!(out.len, 8 + 16);
}

#[test]
fn gna_interval_paces_neighbour_advertisement_rounds() {
    let text = std::format!(
        "global_defs {{\n vrrp_gna_interval 0.2\n vrrp_garp_interval 0.05\n vrrp_garp_master_repeat 3\n}}\n{}",
        conf6(100, "")
    );
    let (_, mut e) = engine6(&text, Some(LL_A));
    let (at, actions, _) = to_master(&mut e);
    assert!(
        actions.contains(&EngineAction::Garp { slot: 0, count: 1 }),
        "{actions:?}"
    );
    let mut rounds = StdVec::new();
    while let Some(now) = e.poll_at() {
        if now > at + Duration::from_millis(900) {
            break;
        }
        e.handle_timeout(now);
        let (actions, _) = drain6(&mut e, now);
        if actions
            .iter()
            .any(|a| matches!(a, EngineAction::Garp { .. }))
        {
            rounds.push(now - at);
        }
    }
    // The IPv6 interval applies, not the IPv4 one.
    assert_eq!(
        rounds,
        [Duration::from_millis(200), Duration::from_millis(400)]
    );
}

#[test]
fn two_ipv6_engines_elect_and_fail_over() {
    let (_, mut a) = engine6(&conf6(150, ""), Some(LL_A));
    let (_, mut b) = engine6(&conf6(100, ""), Some(LL_B));
    a.start(t(0));
    b.start(t(0));
    let mut now = t(0);
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
            let (_, sent) = drain6(x, now);
            for s in &sent {
                deliver(y, now, s);
            }
        }
        now += Duration::from_millis(10);
    }
    assert_eq!(a.state(0), Some(State::Master));
    assert_eq!(b.state(0), Some(State::Backup));
    let rx = *b.rx_stats(0).unwrap();
    assert!(rx.accepted >= 5, "{rx}");
    assert_eq!(rx.accepted, rx.iter().map(|(_, v)| v).sum::<u64>(), "{rx}");
    assert_eq!(
        b.instance(0).unwrap().master(),
        Some((IpAddr::V6(LL_A), 150))
    );
    // a stops: priority 0, b takes over after its skew time.
    a.shutdown(now);
    let (actions, sent) = drain6(&mut a, now);
    assert!(actions.contains(&EngineAction::RemoveVips { slot: 0 }));
    deliver(&mut b, now, &sent[0]);
    let at = now + b.instance(0).unwrap().skew_time();
    assert_eq!(b.poll_at(), Some(at));
    b.handle_timeout(at);
    drain6(&mut b, at);
    assert_eq!(b.state(0), Some(State::Master));
}

/// A good multicast advert from B (priority 200) as A's kernel reports it.
fn from_b() -> Sent6 {
    let (_, b) = engine6(&conf6(200, ""), Some(LL_B));
    let mut buf = [0u8; 1500];
    let out = b.build_advert6(0, 200, 0, &mut buf).unwrap();
    Sent6 {
        message: buf[..out.len].to_vec(),
        meta: Ipv6Meta {
            src: out.src,
            dst: Some(out.dst),
            hop_limit: out.hop_limit,
        },
    }
}

#[test]
fn bad_ipv6_adverts_are_counted_and_change_nothing() {
    let (_, mut e) = engine6(&conf6(100, ""), Some(LL_A));
    e.start(t(0));
    drain6(&mut e, t(0));
    let before = e.poll_at();
    type Spoil = fn(&mut Sent6);
    type Counter = fn(&RxStats) -> u64;
    let refill = |s: &mut Sent6| {
        let env = Envelope::Ipv6 {
            src: s.meta.src,
            dst: s.meta.dst.unwrap(),
        };
        Packet::new_unchecked(&mut s.message[..], Family::Ipv6)
            .fill_checksum(&env, ChecksumForm::PseudoHeader);
    };
    let cases: [(&str, Spoil, Counter); 10] = [
        (
            "hop limit 254",
            |s| s.meta.hop_limit = Some(254),
            |s| s.bad_ttl,
        ),
        ("hop limit 1", |s| s.meta.hop_limit = Some(1), |s| s.bad_ttl),
        ("bad checksum", |s| s.message[6] ^= 0xff, |s| s.bad_checksum),
        (
            // The checksum of the message alone (v2's form): IPv6 needs the
            // pseudo-header.
            "checksum without pseudo-header",
            |s| {
                Packet::new_unchecked(&mut s.message[..], Family::Ipv6).fill_checksum(
                    &Envelope::Ipv6 {
                        src: LL_B,
                        dst: GROUP,
                    },
                    ChecksumForm::Message,
                )
            },
            |s| s.bad_checksum,
        ),
        (
            "to all nodes",
            |s| s.meta.dst = Some(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)),
            |s| s.bad_destination,
        ),
        (
            "unicast to us",
            |s| s.meta.dst = Some(LL_A),
            |s| s.bad_destination,
        ),
        ("own advert", |s| s.meta.src = LL_A, |s| s.own_advert),
        ("trailing byte", |s| s.message.push(0), |s| s.too_long),
        ("type 2", |s| s.message[0] = 0x32, |s| s.bad_type),
        ("version 2", |s| s.message[0] = 0x21, |s| s.bad_version),
    ];
    for (what, spoil, counter) in cases {
        let mut s = from_b();
        spoil(&mut s);
        if !what.contains("checksum") {
            refill(&mut s);
        }
        let n = counter(e.rx_stats(0).unwrap());
        deliver(&mut e, t(100), &s);
        assert_eq!(counter(e.rx_stats(0).unwrap()), n + 1, "{what}");
        assert_eq!(e.state(0), Some(State::Backup), "{what}");
        assert_eq!(e.poll_at(), before, "{what}: the timer moved");
    }
    // Not attributable to the instance: counted globally.
    type Global = fn(&RxStats) -> u64;
    let global: [(&str, Spoil, Global); 4] = [
        ("no hop limit", |s| s.meta.hop_limit = None, |s| s.bad_ip),
        ("no destination", |s| s.meta.dst = None, |s| s.bad_ip),
        ("other VRID", |s| s.message[1] = 52, |s| s.unknown_vrid),
        ("empty", |s| s.message.clear(), |s| s.truncated),
    ];
    for (what, spoil, counter) in global {
        let mut s = from_b();
        spoil(&mut s);
        let n = counter(e.global_rx_stats());
        deliver(&mut e, t(100), &s);
        assert_eq!(counter(e.global_rx_stats()), n + 1, "{what}");
    }
    // Truncated at every length, and cut by the receive buffer.
    let good = from_b();
    for len in 2..good.message.len() {
        e.handle_datagram6(t(100), 0, &good.message[..len], len, &good.meta);
    }
    assert_eq!(
        e.rx_stats(0).unwrap().truncated,
        u64::try_from(good.message.len() - 2).unwrap()
    );
    let oversized = e.global_rx_stats().oversized;
    e.handle_datagram6(t(100), 0, &good.message, good.message.len() + 1, &good.meta);
    assert_eq!(e.global_rx_stats().oversized, oversized + 1);
    assert_eq!(e.rx_stats(0).unwrap().accepted, 0);
    assert_eq!(e.poll_at(), before);
    // The same VRID over IPv4 on this interface is another instance.
    let v4_conf = "vrrp_instance V4 {\n interface eth0\n virtual_router_id 51\n priority 200\n version 3\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n";
    let (_, mut v4) = engine6(v4_conf, Some(LL_B));
    let mut buf = [0u8; 1500];
    let (_, _, len) = v4.build_advert(0, 200, 0, &mut buf).unwrap();
    let unknown = e.global_rx_stats().unknown_vrid;
    e.handle_datagram(t(100), 0, &buf[..len], len);
    assert_eq!(e.global_rx_stats().unknown_vrid, unknown + 1);
    // The good one is accepted and restarts the timer.
    deliver(&mut e, t(100), &good);
    assert_eq!(e.rx_stats(0).unwrap().accepted, 1);
    assert_ne!(e.poll_at(), before);
}

#[test]
fn a_master_hearing_a_lower_priority_reasserts_with_neighbour_advertisements() {
    let (cfg, mut e) = engine6(&conf6(150, ""), Some(LL_A));
    let (at, _, _) = to_master(&mut e);
    let (_, low) = engine6(&conf6(100, ""), Some(LL_B));
    let mut buf = [0u8; 1500];
    let out = low.build_advert6(0, 100, 0, &mut buf).unwrap();
    let now = at + Duration::from_millis(300);
    e.handle_datagram6(
        now,
        0,
        &buf[..out.len],
        out.len,
        &Ipv6Meta {
            src: out.src,
            dst: Some(out.dst),
            hop_limit: out.hop_limit,
        },
    );
    let (actions, sent) = drain6(&mut e, now);
    assert_eq!(e.state(0), Some(State::Master));
    assert_eq!(sent.len(), 1, "an advert at once: {actions:?}");
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, EngineAction::Garp { slot: 0, .. })),
        "{actions:?}"
    );
    let mut frame = [0u8; 128];
    let (_, len, kind) = e.build_announcement(&cfg, 0, 0, &mut frame).unwrap();
    assert_eq!(kind, Announcement::NeighbourAdvert);
    assert_eq!(UnsolicitedNa::parse(&frame[..len]).unwrap().target, VIP6);
}

/// No usable link-local address at start (none yet, or DAD running): the
/// instance starts held in FAULT, a tentative address does not release it,
/// the valid one does (BACKUP, then MASTER with adverts from it).
#[test]
fn without_a_link_local_address_an_ipv6_instance_waits_in_fault() {
    let (cfg, mut e) = engine6(&conf6(100, ""), None);
    assert_eq!(e.hold(0), reflect::HOLD_NO_SOURCE);
    e.start(t(0));
    assert_eq!(e.state(0), Some(State::Fault));
    let (actions, sent) = drain6(&mut e, t(0));
    assert!(sent.is_empty());
    assert!(actions.contains(&EngineAction::Source {
        slot: 0,
        event: reflect::SourceEvent::Missing {
            iface: 0,
            family: Family::Ipv6
        }
    }));
    let mut ll = reflect::AddressChange {
        added: true,
        ifindex: 2,
        addr: IpAddr::V6(LL_A),
        flags: crate::wire::rtnetlink::IFA_F_TENTATIVE | crate::wire::rtnetlink::IFA_F_PERMANENT,
    };
    e.handle_address(t(100), &cfg, &ll);
    assert_eq!(e.state(0), Some(State::Fault), "tentative: still held");
    ll.flags = crate::wire::rtnetlink::IFA_F_PERMANENT;
    e.handle_address(t(1000), &cfg, &ll);
    assert_eq!(e.hold(0), 0);
    assert_eq!(e.state(0), Some(State::Backup));
    assert_eq!(e.source(0), Some((false, IpAddr::V6(LL_A))));
    let (actions, _) = drain6(&mut e, t(1000));
    assert!(actions.contains(&EngineAction::Source {
        slot: 0,
        event: reflect::SourceEvent::Found {
            addr: IpAddr::V6(LL_A)
        }
    }));
    let down = e.poll_at().unwrap();
    e.handle_timeout(down);
    assert_eq!(e.state(0), Some(State::Master));
    let (_, sent) = drain6(&mut e, down);
    assert!(sent.iter().any(|s| s.meta.src == LL_A));
    // mcast_src_ip stands in for it.
    let (_, e) = engine6(&conf6(100, " mcast_src_ip fd00:99::a"), None);
    assert_eq!(e.source(0), Some((false, IpAddr::V6(G_A))));
    assert_eq!(e.hold(0), 0);
}

/// An IPv6 unicast instance at `src` listing `peers`.
fn unicast6(priority: u8, src: Ipv6Addr, peers: &str, extra: &str) -> std::string::String {
    conf6(
        priority,
        &std::format!(" unicast_src_ip {src}\n unicast_peer {{\n{peers}\n }}\n{extra}"),
    )
}

/// A valid unicast advert from `from` (priority 200) to `to` with hop
/// limit `hops`.
fn unicast_from(from: Ipv6Addr, to: Ipv6Addr, hops: u8) -> Sent6 {
    let (_, e) = engine6(
        &unicast6(200, from, &std::format!("  {to}"), ""),
        Some(LL_B),
    );
    let mut buf = [0u8; 1500];
    let out = e.build_advert6(0, 200, 0, &mut buf).unwrap();
    assert_eq!(out.dst, to);
    Sent6 {
        message: buf[..out.len].to_vec(),
        meta: Ipv6Meta {
            src: out.src,
            dst: Some(out.dst),
            hop_limit: Some(hops),
        },
    }
}

#[test]
fn ipv6_unicast_sends_to_each_peer_with_its_own_checksum() {
    let peers = "  fd00:99::b\n  fd00:99::c";
    let (_, e) = engine6(&unicast6(200, G_A, peers, ""), Some(LL_A));
    let f = &e.interfaces()[0];
    assert_eq!((f.vrrp6, f.group6), (true, None), "no multicast membership");
    assert_eq!(e.advert_destinations(0), 2);
    assert_eq!(e.source(0), Some((true, IpAddr::V6(G_A))));
    let mut checksums = StdVec::new();
    for (k, peer) in [G_B, G_C].into_iter().enumerate() {
        let mut buf = [0u8; 1500];
        let out = e.build_advert6(0, 200, k, &mut buf).unwrap();
        assert_eq!((out.src, out.dst), (G_A, peer));
        // No unicast_ttl: the kernel's default hop limit, as keepalived.
        assert_eq!(out.hop_limit, None);
        let env = Envelope::Ipv6 {
            src: G_A,
            dst: peer,
        };
        let p = Packet::new_checked(&buf[..out.len], Family::Ipv6).unwrap();
        assert_eq!(Repr::parse(&p, &env).unwrap().priority, 200);
        checksums.push([buf[6], buf[7]]);
    }
    assert_ne!(checksums[0], checksums[1]);
    let (_, e) = engine6(
        &unicast6(200, G_A, "  fd00:99::b", " unicast_ttl 10"),
        Some(LL_A),
    );
    let mut buf = [0u8; 1500];
    assert_eq!(
        e.build_advert6(0, 200, 0, &mut buf).unwrap().hop_limit,
        Some(10)
    );
}

#[test]
fn ipv6_unicast_checks_peers_and_their_hop_limits() {
    let peers = "  fd00:99::b min_ttl 250";
    let (_, mut e) = engine6(&unicast6(100, G_A, peers, ""), Some(LL_A));
    e.start(t(0));
    drain6(&mut e, t(0));
    let before = e.poll_at();
    // A stranger: dropped and counted (min_ttl turns the check on).
    deliver(&mut e, t(100), &unicast_from(G_C, G_A, 255));
    assert_eq!(e.rx_stats(0).unwrap().not_a_peer, 1);
    // A multicast advert: the mode does not match.
    deliver(&mut e, t(100), &from_b());
    assert_eq!(e.rx_stats(0).unwrap().bad_destination, 1);
    // To another address of ours.
    let mut elsewhere = unicast_from(G_B, G_C, 255);
    elsewhere.meta.dst = Some(G_C);
    deliver(&mut e, t(100), &elsewhere);
    assert_eq!(e.rx_stats(0).unwrap().bad_destination, 2);
    assert_eq!(e.poll_at(), before);
    for (hops, accepted, bad_ttl) in [(249, 0, 1), (250, 1, 1), (255, 2, 1)] {
        deliver(&mut e, t(100), &unicast_from(G_B, G_A, hops));
        let rx = e.rx_stats(0).unwrap();
        assert_eq!(
            (rx.accepted, rx.bad_ttl),
            (accepted, bad_ttl),
            "hop limit {hops}"
        );
    }
    assert_eq!(
        e.instance(0).unwrap().master(),
        Some((IpAddr::V6(G_B), 200))
    );
}

#[test]
fn ipv6_is_no_longer_refused_at_start() {
    let (cfg, _) = parse_text(&conf6(100, ""));
    let mut diags = Diagnostics::new();
    check_config(&cfg, &mut diags, Severity::Error);
    assert!(diags.is_ok());
}

proptest::proptest! {
    /// Any payload with any header facts: counted somewhere, never a panic.
    #[test]
    fn random_ipv6_datagrams_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        src in proptest::prelude::any::<[u8; 16]>(),
        dst in proptest::option::of(proptest::prelude::any::<[u8; 16]>()),
        hop_limit in proptest::option::of(proptest::prelude::any::<u8>()),
    ) {
        let (_, mut e) = engine6(&conf6(100, ""), Some(LL_A));
        e.start(t(0));
        let meta = Ipv6Meta {
            src: Ipv6Addr::from(src),
            dst: dst.map(Ipv6Addr::from),
            hop_limit,
        };
        e.handle_datagram6(t(10), 0, &bytes, bytes.len(), &meta);
        let counted: u64 = e.rx_stats(0).unwrap().iter().map(|(_, v)| v).sum::<u64>()
            + e.global_rx_stats().iter().map(|(_, v)| v).sum::<u64>();
        proptest::prop_assert_eq!(counted, 1);
    }
}
