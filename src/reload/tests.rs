//! Reload plans and the engine's hand-over on a fake clock: a kept
//! instance goes on as it was (no transition, no advert, its timers),
//! changed ones are matched and flagged, renamed or re-addressed ones are
//! stopped and started, scripts and groups carry over when unchanged.

use core::net::Ipv4Addr;
use std::boxed::Box;
use std::string::String;
use std::vec::Vec as StdVec;

use super::*;
use crate::config::testutil::parse_text;
use crate::time::Instant;
use crate::vrrp::State;
use crate::vrrp::engine::{EngineAction, IfFacts};

fn engine(text: &str) -> (Box<Config>, Engine) {
    let (cfg, out) = parse_text(text);
    assert!(!out.contains(": error:"), "{out}");
    let mut lookup = |name: &str| {
        (name == "eth0").then_some(IfFacts {
            index: 2,
            mac: [2, 0, 0, 0, 0, 1],
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ipv6_link_local: None,
            ipv6_forwarding: false,
        })
    };
    let e = Engine::new(&cfg, &mut lookup, &mut |_, _, e| panic!("{e}"));
    (cfg, e)
}

fn conf(vi2_priority: u8, vi2_vips: &str, vi3: bool) -> String {
    let mut s = std::format!(
        "vrrp_script chk {{\n script \"/bin/true\"\n interval 1\n}}\n\
         vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n priority 150\n advert_int 1\n \
         track_script {{\n  chk\n }}\n virtual_ipaddress {{\n  10.0.0.100/24\n }}\n}}\n\
         vrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 2\n priority {vi2_priority}\n advert_int 1\n \
         virtual_ipaddress {{\n{vi2_vips} }}\n}}\n"
    );
    if vi3 {
        s.push_str("vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 3\n priority 100\n virtual_ipaddress {\n  10.0.0.103/24\n }\n}\n");
    }
    s
}

fn t(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

/// Runs `e` to `until` ms in 10 ms steps; the actions seen.
fn run(e: &mut Engine, from: i64, until: i64) -> StdVec<EngineAction> {
    let mut seen = StdVec::new();
    let mut ms = from;
    while ms <= until {
        e.handle_timeout(t(ms));
        while let Some(a) = e.poll_action(t(ms)) {
            seen.push(a);
        }
        ms += 10;
    }
    seen
}

#[test]
fn a_kept_instance_goes_on_without_a_transition_or_an_extra_advert() {
    let (old_cfg, mut old) = engine(&conf(100, "  10.0.0.102/24\n", true));
    old.start(t(0));
    run(&mut old, 0, 5_000);
    assert_eq!(old.state(0), Some(State::Master));
    let deadline = old.instance(0).unwrap().poll_at();
    let sent = old.instance(0).unwrap().stats().adverts_sent;

    // VI_2 changes priority and gains an address; VI_3 goes; the script
    // and VI_1 stay.
    let (new_cfg, mut new) = engine(&conf(120, "  10.0.0.102/24\n  10.0.0.104/24\n", false));
    let p = plan(&old_cfg, &old, &new_cfg, &new);
    assert_eq!(p.matched.len(), 2);
    assert_eq!(
        p.matched[0],
        Match {
            new: 0,
            old: 0,
            changed: false,
            addresses_changed: false
        }
    );
    assert!(p.matched[1].changed && p.matched[1].addresses_changed);
    assert_eq!((p.kept(), p.changed()), (1, 1));
    assert_eq!(p.removed.as_slice(), &[2]);
    assert!(p.added.is_empty());
    assert_eq!(p.scripts.as_slice(), &[(ScriptId(0), ScriptId(0))]);

    for m in &p.matched {
        new.adopt(t(5_000), m.new, &mut old, m.old);
    }
    // The kept machine: same state, same deadline, same counters, and no
    // action at all at the hand-over or when its timer fires.
    assert_eq!(new.state(0), Some(State::Master));
    assert_eq!(new.instance(0).unwrap().poll_at(), deadline);
    assert_eq!(new.instance(0).unwrap().stats().adverts_sent, sent);
    assert_eq!(new.instance(1).unwrap().params().priority, 120);
    let seen = run(&mut new, 5_000, 8_000);
    assert!(
        !seen.iter().any(|a| matches!(
            a,
            EngineAction::Transition { slot: 0, .. } | EngineAction::AddVips { slot: 0 }
        )),
        "{seen:?}"
    );
    let adverts = seen
        .iter()
        .filter(|a| matches!(a, EngineAction::SendAdvert { slot: 0, .. }))
        .count();
    assert_eq!(adverts, 3, "one a second, as before: {seen:?}");
}

#[test]
fn a_renamed_or_moved_instance_is_a_new_one() {
    let (old_cfg, old) = engine(&conf(100, "  10.0.0.102/24\n", false));
    let renamed = conf(100, "  10.0.0.102/24\n", false).replace("VI_2", "VI_9");
    let (new_cfg, new) = engine(&renamed);
    let p = plan(&old_cfg, &old, &new_cfg, &new);
    assert_eq!(p.matched.len(), 1);
    assert_eq!(p.removed.as_slice(), &[1]);
    assert_eq!(p.added.as_slice(), &[1]);
    let moved =
        conf(100, "  10.0.0.102/24\n", false).replace("virtual_router_id 2", "virtual_router_id 7");
    let (new_cfg, new) = engine(&moved);
    let p = plan(&old_cfg, &old, &new_cfg, &new);
    assert_eq!(
        (p.removed.as_slice(), p.added.as_slice()),
        (&[1u16][..], &[1u16][..])
    );
    // A changed script command is a new script.
    let rescripted = conf(100, "  10.0.0.102/24\n", false).replace("/bin/true", "/bin/false");
    let (new_cfg, new) = engine(&rescripted);
    assert!(plan(&old_cfg, &old, &new_cfg, &new).scripts.is_empty());
}

#[test]
fn addresses_compare_by_value_not_by_place() {
    let (a, _) = engine(&conf(100, "  10.0.0.102/24\n", false));
    let (b, _) = engine(&std::format!(
        "\n\n{}",
        conf(100, "  10.0.0.102/24 dev eth0\n", false)
    ));
    let (va, vb) = (&a.vrrp.instances[1], &b.vrrp.instances[1]);
    assert!(same_address(
        &va.vips[0],
        &va.interface,
        &vb.vips[0],
        &vb.interface
    ));
    assert!(contains_address(
        &vb.vips,
        &vb.interface,
        &va.vips[0],
        &va.interface
    ));
    let (c, _) = engine(&conf(100, "  10.0.0.102/25\n", false));
    let vc = &c.vrrp.instances[1];
    assert!(!same_address(
        &va.vips[0],
        &va.interface,
        &vc.vips[0],
        &vc.interface
    ));
}
