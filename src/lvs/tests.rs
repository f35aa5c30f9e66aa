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
