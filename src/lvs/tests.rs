//! Real and virtual servers fed checker reports: quorum with hysteresis,
//! its scripts once per transition, the sorry server, inhibit_on_failure,
//! alpha, misc_dynamic weights, omega.

use std::boxed::Box;
use std::format;
use std::string::String;
use std::vec::Vec as StdVec;

use super::*;
use crate::check::CheckId;
use crate::config::testutil::parse_text;

fn load(text: &str) -> Box<Config> {
    let (cfg, out) = parse_text(text);
    assert!(!out.contains(": error:"), "{out}");
    cfg
}

/// A VS with three real servers of weight 1 (one TCP check each).
fn conf(vs_extra: &str, rs_extra: &str) -> String {
    let mut s = format!(
        "virtual_server 10.9.0.1 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n {vs_extra}\n"
    );
    for i in 1..=3 {
        s += &format!(" real_server 10.0.0.{i} 80 {{\n  {rs_extra}\n  TCP_CHECK {{\n  }}\n }}\n");
    }
    s + "}\n"
}

fn state(check: u16, up: bool) -> CheckReport {
    CheckReport::State {
        check: CheckId(check),
        up,
        was_up: !up,
        first: false,
    }
}

fn scripts(l: &mut Lvs) -> StdVec<ScriptEvent> {
    core::iter::from_fn(|| l.poll_action())
        .map(|LvsAction::Run { event, .. }| event)
        .collect()
}

#[test]
fn quorum_scripts_run_once_per_transition_with_hysteresis() {
    let cfg = load(&conf(
        "quorum 2\n hysteresis 1\n quorum_up /bin/up\n quorum_down /bin/down\n",
        "",
    ));
    let mut l = Lvs::new(&cfg);
    l.start(&cfg);
    assert!(l.has_quorum(0));
    assert!(scripts(&mut l).is_empty(), "no script at start with quorum");
    l.handle_report(&cfg, state(0, false));
    // 2 alive: not below quorum - hysteresis = 1.
    assert!(l.has_quorum(0));
    l.handle_report(&cfg, state(1, false));
    assert!(l.has_quorum(0), "1 alive = quorum - hysteresis: kept");
    l.handle_report(&cfg, state(2, false));
    assert!(!l.has_quorum(0));
    assert_eq!(scripts(&mut l), [ScriptEvent::QuorumDown(0)]);
    l.handle_report(&cfg, state(0, true));
    l.handle_report(&cfg, state(1, true));
    assert!(!l.has_quorum(0), "2 < quorum + hysteresis = 3");
    assert!(scripts(&mut l).is_empty());
    l.handle_report(&cfg, state(2, true));
    assert!(l.has_quorum(0));
    assert_eq!(scripts(&mut l), [ScriptEvent::QuorumUp(0)]);
    assert_eq!(l.stats().quorum_lost, 1);
    assert_eq!(l.stats().quorum_gained, 1);
}

#[test]
fn sorry_server_replaces_the_pool_without_quorum() {
    let cfg = load(&conf("sorry_server 10.0.0.99 80\n", ""));
    let mut l = Lvs::new(&cfg);
    l.start(&cfg);
    assert!(!l.sorry_active(&cfg, 0));
    assert_eq!(l.rs_weight(&cfg, 0), Some(1));
    for c in 0..3 {
        l.handle_report(&cfg, state(c, false));
    }
    assert!(l.sorry_active(&cfg, 0));
    assert_eq!(l.rs_weight(&cfg, 0), None);
    assert!(l.take_changed());
    assert!(!l.take_changed());
    l.handle_report(&cfg, state(1, true));
    assert!(!l.sorry_active(&cfg, 0));
    assert_eq!(l.rs_weight(&cfg, 1), Some(1));
    assert_eq!(l.rs_weight(&cfg, 0), None);
    assert!(l.take_changed());
}

#[test]
fn inhibit_on_failure_keeps_weight_zero() {
    let cfg = load(&conf("", "inhibit_on_failure\n weight 5"));
    let mut l = Lvs::new(&cfg);
    l.start(&cfg);
    assert_eq!(l.rs_weight(&cfg, 2), Some(5));
    l.handle_report(&cfg, state(2, false));
    assert_eq!(l.rs_weight(&cfg, 2), Some(0));
    assert!(!l.is_alive(2));
}

#[test]
fn alpha_starts_dead_and_two_checks_must_both_pass() {
    let text = "virtual_server 10.9.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n alpha\n \
                sorry_server 10.0.0.99 80\n quorum_down /bin/down\n \
                real_server 10.0.0.1 80 {\n  notify_up /bin/rs-up\n  TCP_CHECK {\n  }\n  TCP_CHECK {\n   connect_port 81\n  }\n }\n}\n";
    let cfg = load(text);
    let mut l = Lvs::new(&cfg);
    assert!(!l.is_alive(0));
    l.start(&cfg);
    // Starting with quorum down and a sorry server: quorum_down runs.
    assert_eq!(scripts(&mut l), [ScriptEvent::QuorumDown(0)]);
    assert!(l.sorry_active(&cfg, 0));
    l.handle_report(&cfg, state(0, true));
    assert!(!l.is_alive(0), "one of two checks");
    l.handle_report(&cfg, state(1, true));
    assert!(l.is_alive(0));
    assert_eq!(scripts(&mut l), [ScriptEvent::RsUp(0)]);
    assert!(!l.sorry_active(&cfg, 0));
}

#[test]
fn misc_dynamic_sets_the_weight() {
    let text = "virtual_server 10.9.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n quorum 3\n \
                real_server 10.0.0.1 80 {\n  weight 3\n  MISC_CHECK {\n   misc_path /bin/true\n   misc_dynamic\n  }\n }\n}\n";
    let cfg = load(text);
    let mut l = Lvs::new(&cfg);
    l.start(&cfg);
    assert!(l.has_quorum(0));
    l.handle_report(
        &cfg,
        CheckReport::Weight {
            check: CheckId(0),
            weight: 2,
        },
    );
    assert_eq!(l.rs_weight(&cfg, 0), Some(2));
    assert!(!l.has_quorum(0), "2 < 3");
    l.handle_report(
        &cfg,
        CheckReport::Weight {
            check: CheckId(0),
            weight: 10,
        },
    );
    assert_eq!(l.rs_weight(&cfg, 0), Some(10));
    assert!(l.has_quorum(0));
    assert_eq!(l.stats().weight_changes, 2);
}

#[test]
fn omega_runs_down_scripts_at_stop() {
    let cfg = load(&conf(
        "omega\n quorum_down /bin/down\n",
        "notify_down /bin/rs-down",
    ));
    let mut l = Lvs::new(&cfg);
    l.start(&cfg);
    l.handle_report(&cfg, state(0, false));
    assert_eq!(scripts(&mut l), [ScriptEvent::RsDown(0)]);
    l.shutdown(&cfg);
    assert_eq!(
        scripts(&mut l),
        [
            ScriptEvent::RsDown(1),
            ScriptEvent::RsDown(2),
            ScriptEvent::QuorumDown(0)
        ]
    );
}

#[test]
fn names_as_keepalived_logs_them() {
    let cfg = load(&conf("", ""));
    assert_eq!(format!("{}", RsName(&cfg, 1)), "[10.0.0.2]:tcp:80");
    assert_eq!(format!("{}", VsName(&cfg, 0)), "[10.9.0.1]:tcp:80");
}

/// One checker line for the reload test: fails at once, no retry.
const FAST: &str =
    "TCP_CHECK {\n   retry 0\n   warmup 0\n   delay_loop 1\n   connect_timeout 1\n  }";

fn reload_conf(rs: &[(&str, &str)], extra_vs: bool) -> String {
    let mut s = String::from(
        "virtual_server 10.9.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n quorum 2\n \
         quorum_up /bin/up\n quorum_down /bin/down\n sorry_server 10.9.0.9 80\n",
    );
    for (addr, body) in rs {
        s += &format!(
            " real_server {addr} 80 {{\n  notify_up \"/bin/up {addr}\"\n  notify_down \"/bin/down {addr}\"\n  {body}\n }}\n"
        );
    }
    s += "}\n";
    if extra_vs {
        s += &format!(
            "virtual_server 10.9.0.2 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n \
             real_server 10.0.2.1 80 {{\n  {FAST}\n }}\n}}\n"
        );
    }
    s
}

fn ops(r: &mut crate::ipvs::Reconciler) -> StdVec<String> {
    let mut out = StdVec::new();
    while let Some(op) = r.poll_op() {
        out.push(std::string::ToString::to_string(&r.describe(op)));
    }
    out.sort();
    out
}

/// A reload keeps what is unchanged: a failed check stays failed (its real
/// server out, no script), the real servers kept keep their state, quorum
/// is kept (no quorum script), a new check starts as at start-up, a
/// dropped check's attempt in flight is closed, and the IPVS table sends
/// only the weight that changed, the server added and the one removed.
#[test]
fn a_reload_keeps_state_and_changes_only_what_changed() {
    use crate::check::{CheckAction, Checkers};
    use crate::ipvs::Reconciler;
    use crate::lvs::reload::ServerMap;
    use crate::time::Instant;
    let fast = |w: &str| format!("weight {w}\n  {FAST}");
    let old_cfg = load(&reload_conf(
        &[
            ("10.0.0.1", &fast("1")),
            ("10.0.0.2", &fast("1")),
            ("10.0.0.3", &fast("1")),
            ("10.0.0.5", &fast("1")),
        ],
        false,
    ));
    let new_cfg = load(&reload_conf(
        &[
            ("10.0.0.1", &fast("1")),
            ("10.0.0.2", &fast("7")),
            ("10.0.0.4", &fast("1")),
            (
                "10.0.0.5",
                &format!(
                    "weight 1\n  {}",
                    FAST.replace("retry 0", "retry 0\n   connect_port 81")
                ),
            ),
        ],
        true,
    ));
    let mut map = ServerMap::new();
    map.build(&old_cfg, &new_cfg);
    assert_eq!(map.old_vs(0), Some(0));
    assert_eq!(map.old_vs(1), None, "a new virtual server");
    assert_eq!(
        (0..4).map(|r| map.old_rs(r)).collect::<StdVec<_>>(),
        [Some(0), Some(1), None, Some(3)]
    );
    assert_eq!(map.new_rs(2), None, "10.0.0.3 dropped");
    assert_eq!(map.old_check(0), Some(0));
    assert_eq!(map.old_check(1), Some(1), "a weight change keeps the check");
    assert_eq!(map.old_check(3), None, "a new target is a new check");

    // Before: 10.0.0.1's check fails, the others succeed except 10.0.0.3's,
    // whose attempt is still in flight at the reload.
    let t = Instant::from_millis;
    let mut c = Box::new(Checkers::new(&old_cfg, 7).unwrap());
    let mut l = Box::new(Lvs::new(&old_cfg));
    l.start(&old_cfg);
    c.start(t(0), &old_cfg);
    c.handle_timeout(t(0), &old_cfg);
    let mut in_flight = None;
    for a in core::iter::from_fn(|| c.poll_action()).collect::<StdVec<_>>() {
        if let CheckAction::Open { slot, check, .. } = a {
            match check.0 {
                0 => c.handle_io_error(t(1), &old_cfg, slot, 111),
                2 => in_flight = Some(slot),
                _ => c.handle_connected(t(1), &old_cfg, slot),
            }
        }
    }
    while let Some(r) = c.poll_report() {
        l.handle_report(&old_cfg, r);
    }
    assert!(!l.is_alive(0) && l.is_alive(1) && l.is_alive(2) && l.is_alive(3));
    assert!(l.has_quorum(0));
    let _ = scripts(&mut l);
    let _ = core::iter::from_fn(|| c.poll_action()).count();
    let mut old_rec = Box::new(Reconciler::new(&old_cfg).unwrap());
    old_rec.set_desired(
        &old_cfg,
        |r| l.rs_weight(&old_cfg, r),
        |v| l.sorry_active(&old_cfg, v),
    );
    let _ = ops(&mut old_rec);

    // The reload.
    c.reload(t(100), &new_cfg, &map);
    let mut l2 = Box::new(Lvs::new(&new_cfg));
    l2.adopt(&new_cfg, &l, &old_cfg, &map, &c);
    assert_eq!(c.state(CheckId(0)), Some((false, true)), "still failed");
    assert_eq!(c.state(CheckId(1)), Some((true, true)), "kept, decided");
    assert_eq!(
        c.state(CheckId(3)),
        Some((true, false)),
        "new check, undecided"
    );
    let closed: StdVec<_> = core::iter::from_fn(|| c.poll_action()).collect();
    assert_eq!(
        closed,
        [CheckAction::Close {
            slot: in_flight.unwrap()
        }],
        "the dropped check's attempt closes"
    );
    // New checks (warmup 0) run at once; kept ones keep their schedule
    // (next at 1.001 s): nothing starts over.
    assert_eq!(c.poll_at(), Some(t(100)));
    c.handle_timeout(t(100), &new_cfg);
    let mut started: StdVec<u16> = StdVec::new();
    for a in core::iter::from_fn(|| c.poll_action()).collect::<StdVec<_>>() {
        if let CheckAction::Open { slot, check, .. } = a {
            started.push(check.0);
            c.handle_connected(t(101), &new_cfg, slot);
        }
    }
    started.sort_unstable();
    assert_eq!(started, [2, 3, 4], "only the new checks ran");
    assert_eq!(
        c.poll_at(),
        Some(t(1001)),
        "the kept ones are next, on time"
    );
    assert!(!l2.is_alive(0), "the failed server stays out");
    assert!(l2.is_alive(1) && l2.is_alive(2) && l2.is_alive(3));
    assert_eq!(l2.rs_weight(&new_cfg, 1), Some(7));
    assert!(l2.has_quorum(0) && l2.has_quorum(1));
    assert_eq!(scripts(&mut l2), [], "no transition: no script");
    assert_eq!(l2.stats().rs_down, l.stats().rs_down, "counters carry on");

    let mut new_rec = Box::new(Reconciler::new(&new_cfg).unwrap());
    new_rec.set_desired(
        &new_cfg,
        |r| l2.rs_weight(&new_cfg, r),
        |v| l2.sorry_active(&new_cfg, v),
    );
    new_rec.adopt_kernel(&old_rec);
    assert_eq!(
        ops(&mut new_rec),
        [
            "add destination 10.0.0.4:80 to TCP 10.9.0.1:80",
            "add destination 10.0.2.1:80 to TCP 10.9.0.2:80",
            "add service TCP 10.9.0.2:80",
            "change destination 10.0.0.2:80 of TCP 10.9.0.1:80",
            "remove unconfigured destination 10.0.0.3:80 of TCP 10.9.0.1:80",
        ]
    );

    // Afterwards the kept failed check recovers: its server comes back,
    // once, with its script.
    c.handle_timeout(t(1100), &new_cfg);
    for a in core::iter::from_fn(|| c.poll_action()).collect::<StdVec<_>>() {
        if let CheckAction::Open { slot, .. } = a {
            c.handle_connected(t(1101), &new_cfg, slot);
        }
    }
    while let Some(r) = c.poll_report() {
        l2.handle_report(&new_cfg, r);
    }
    assert!(l2.is_alive(0));
    assert_eq!(scripts(&mut l2), [ScriptEvent::RsUp(0)]);
}

/// Dropping a real server's failing check brings the server up: a real
/// transition, so its script runs, and the quorum it restores is gained
/// (with its script).
#[test]
fn a_reload_judges_what_its_changes_imply() {
    use crate::check::{CheckAction, Checkers};
    use crate::lvs::reload::ServerMap;
    use crate::time::Instant;
    let two = format!("weight 1\n  {FAST}\n  {FAST}");
    let old_cfg = load(&reload_conf(
        &[
            ("10.0.0.1", &two),
            ("10.0.0.2", &format!("weight 1\n  {FAST}")),
        ],
        false,
    ));
    let new_cfg = load(&reload_conf(
        &[
            ("10.0.0.1", &format!("weight 1\n  {FAST}")),
            ("10.0.0.2", &format!("weight 1\n  {FAST}")),
        ],
        false,
    ));
    let t = Instant::from_millis;
    let mut c = Box::new(Checkers::new(&old_cfg, 7).unwrap());
    let mut l = Box::new(Lvs::new(&old_cfg));
    l.start(&old_cfg);
    c.start(t(0), &old_cfg);
    c.handle_timeout(t(0), &old_cfg);
    for a in core::iter::from_fn(|| c.poll_action()).collect::<StdVec<_>>() {
        if let CheckAction::Open { slot, check, .. } = a {
            // The second check of 10.0.0.1 fails.
            if check.0 == 1 {
                c.handle_io_error(t(1), &old_cfg, slot, 111);
            } else {
                c.handle_connected(t(1), &old_cfg, slot);
            }
        }
    }
    while let Some(r) = c.poll_report() {
        l.handle_report(&old_cfg, r);
    }
    assert!(!l.is_alive(0) && l.is_alive(1));
    assert!(!l.has_quorum(0), "one of two alive, quorum 2");
    let _ = scripts(&mut l);
    let mut map = ServerMap::new();
    map.build(&old_cfg, &new_cfg);
    c.reload(t(100), &new_cfg, &map);
    let mut l2 = Box::new(Lvs::new(&new_cfg));
    l2.adopt(&new_cfg, &l, &old_cfg, &map, &c);
    assert!(l2.is_alive(0), "its failing check is gone");
    assert!(l2.has_quorum(0));
    assert_eq!(
        scripts(&mut l2),
        [ScriptEvent::RsUp(0), ScriptEvent::QuorumUp(0)]
    );
}
