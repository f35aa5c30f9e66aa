//! Fake-clock timelines of the core.

use std::vec::Vec;

use super::*;
use crate::action::KillSignal;
use crate::limits::CHILDREN;

fn t(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

fn drain(core: &mut Core) -> Vec<Action> {
    core::iter::from_fn(|| core.poll_action()).collect()
}

fn spawned(actions: &[Action]) -> Vec<(ChildId, std::string::String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Spawn { child, argv, .. } => Some((*child, std::format!("{argv}"))),
            _ => None,
        })
        .collect()
}

fn settings<'a>(start: Option<&'a str>, stop: Option<&'a str>) -> CoreSettings<'a> {
    CoreSettings {
        startup_script: start,
        startup_timeout: Duration::from_secs(10),
        shutdown_script: stop,
        shutdown_timeout: Duration::from_secs(3),
        ..CoreSettings::default()
    }
}

#[test]
fn startup_script_is_spawned_at_start_and_reaped() {
    let mut core = Core::new(&settings(Some("/bin/echo 'hello world'"), None)).unwrap();
    assert_eq!(core.poll_at(), None);
    core.start(t(0));
    let a = drain(&mut core);
    let s = spawned(&a);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].1, "/bin/echo hello world");
    assert!(!core.startup_done());
    core.handle_child_started(t(1), s[0].0, 100);
    assert_eq!(core.poll_at(), Some(t(1000))); // housekeeping first
    core.handle_signal(t(5), Signal::Child);
    assert_eq!(drain(&mut core), [Action::Reap]);
    core.handle_child_exit(t(5), 100, ChildStatus::Exited(0));
    assert!(core.startup_done());
    let rec = core.children().last_exit().unwrap();
    assert_eq!(rec.role, ChildRole::StartupScript);
    assert_eq!(rec.outcome, ChildOutcome::Ended(ChildStatus::Exited(0)));
    assert!(!rec.timed_out);
    assert_eq!(core.stats().children_exited, 1);
}

#[test]
fn timeout_sends_term_then_kill_then_reaps() {
    let mut core = Core::new(&settings(Some("sleep 100"), None)).unwrap();
    core.start(t(0));
    let id = spawned(&drain(&mut core))[0].0;
    core.handle_child_started(t(0), id, 42);
    // Nothing before the 10 s timeout except housekeeping ticks.
    for s in 1..10 {
        core.handle_timeout(t(s * 1000));
        assert_eq!(drain(&mut core), [Action::Reap]);
    }
    assert_eq!(core.poll_at(), Some(t(10_000)));
    core.handle_timeout(t(10_000));
    let a = drain(&mut core);
    assert!(a.contains(&Action::Kill {
        pid: 42,
        signal: KillSignal::Term
    }));
    assert_eq!(core.stats().child_timeouts, 1);
    // The grace period passes without an exit: SIGKILL.
    core.handle_timeout(t(11_000));
    drain(&mut core);
    core.handle_timeout(t(12_000));
    let a = drain(&mut core);
    assert!(a.contains(&Action::Kill {
        pid: 42,
        signal: KillSignal::Kill
    }));
    assert_eq!(core.stats().child_kills, 1);
    core.handle_child_exit(t(12_010), 42, ChildStatus::Signaled(9));
    let rec = core.children().last_exit().unwrap();
    assert!(rec.timed_out);
    assert_eq!(rec.outcome, ChildOutcome::Ended(ChildStatus::Signaled(9)));
    assert_eq!(core.children().active(), 0);
    // No child left: the housekeeping tick no longer wakes the loop.
    assert_eq!(core.poll_at(), None);
}

#[test]
fn an_unhandled_child_deadline_is_overdue() {
    let mut core = Core::new(&settings(Some("sleep 100"), None)).unwrap();
    core.start(t(0));
    let id = spawned(&drain(&mut core))[0].0;
    core.handle_child_started(t(0), id, 42);
    assert_eq!(core.children().overdue(t(9_999)), None);
    // The timeout passes without `handle_timeout`: late, by how much.
    assert_eq!(
        core.children().overdue(t(12_500)),
        Some((ChildRole::StartupScript, 42, Duration::from_millis(2_500)))
    );
    // Handled: the next deadline (SIGKILL) is in the future again.
    core.handle_timeout(t(12_500));
    assert_eq!(core.children().overdue(t(12_500)), None);
}

#[test]
fn a_child_that_never_dies_is_abandoned() {
    let mut core = Core::new(&settings(Some("x"), None)).unwrap();
    core.start(t(0));
    let id = spawned(&drain(&mut core))[0].0;
    core.handle_child_started(t(0), id, 7);
    core.handle_timeout(t(10_000));
    core.handle_timeout(t(12_000));
    core.handle_timeout(t(17_000));
    assert_eq!(core.stats().child_abandoned, 1);
    assert_eq!(core.children().active(), 0);
    core.handle_child_exit(t(20_000), 7, ChildStatus::Signaled(9));
    assert_eq!(core.stats().unknown_child_exit, 1);
}

#[test]
fn shutdown_script_runs_after_children_and_core_finishes() {
    let mut core = Core::new(&settings(Some("sleep 5"), Some("/bin/logger bye"))).unwrap();
    core.start(t(0));
    let id = spawned(&drain(&mut core))[0].0;
    core.handle_child_started(t(0), id, 10);
    core.handle_signal(t(100), Signal::Stop);
    assert_eq!(core.phase(), Phase::Stopping);
    // The startup script still runs: SIGTERM, and no shutdown script yet.
    let a = drain(&mut core);
    assert_eq!(
        a,
        [Action::Kill {
            pid: 10,
            signal: KillSignal::Term
        }]
    );
    core.handle_signal(t(150), Signal::Stop);
    assert_eq!(core.stats().stop_repeated, 1);
    core.handle_child_exit(t(200), 10, ChildStatus::Signaled(15));
    let a = drain(&mut core);
    let s = spawned(&a);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].1, "/bin/logger bye");
    assert!(!core.is_finished());
    core.handle_child_started(t(200), s[0].0, 11);
    core.handle_child_exit(t(300), 11, ChildStatus::Exited(0));
    assert!(core.is_finished());
    assert_eq!(drain(&mut core), [Action::Shutdown]);
    assert_eq!(core.poll_at(), None);
    core.handle_signal(t(400), Signal::Stop);
    assert_eq!(core.stats().signal_after_finish, 1);
}

#[test]
fn stop_without_scripts_finishes_at_once() {
    let mut core = Core::new(&CoreSettings::default()).unwrap();
    core.start(t(0));
    core.handle_signal(t(1), Signal::Stop);
    assert!(core.is_finished());
    assert_eq!(drain(&mut core), [Action::Shutdown]);
}

#[test]
fn failed_shutdown_spawn_still_finishes() {
    let mut core = Core::new(&settings(None, Some("/nonexistent"))).unwrap();
    core.start(t(0));
    core.handle_signal(t(1), Signal::Stop);
    let id = spawned(&drain(&mut core))[0].0;
    core.handle_spawn_failed(t(1), id, 2);
    assert!(core.is_finished());
    assert_eq!(core.stats().spawn_failed, 1);
    assert_eq!(
        core.children().last_exit().unwrap().outcome,
        ChildOutcome::SpawnFailed(2)
    );
}

#[test]
fn a_hung_shutdown_script_is_bounded() {
    let mut core = Core::new(&settings(None, Some("sleep 1000"))).unwrap();
    core.start(t(0));
    core.handle_signal(t(0), Signal::Stop);
    let id = spawned(&drain(&mut core))[0].0;
    core.handle_child_started(t(0), id, 5);
    // Timeout 3 s → TERM, +2 s → KILL, +5 s → abandoned → finished.
    let mut now = 0;
    while !core.is_finished() && now < 60_000 {
        now = core.poll_at().unwrap().total_millis();
        core.handle_timeout(t(now));
    }
    assert!(core.is_finished());
    assert_eq!(now, 10_000);
    assert_eq!(core.stats().child_abandoned, 1);
}

#[test]
fn spawn_requests_queue_when_the_table_is_full() {
    let mut core = Core::new(&CoreSettings::default()).unwrap();
    core.start(t(0));
    let mut argv = ArgvBuf::new();
    split_command("/bin/true", &mut argv).unwrap();
    let mut out = Out {
        actions: &mut core.actions,
        stats: &mut core.stats,
    };
    let mut ids = Vec::new();
    for _ in 0..CHILDREN + children::QUEUED + 1 {
        ids.push(core.children.request(
            t(0),
            ChildRole::StartupScript,
            &argv,
            Duration::from_secs(1),
            &mut out,
        ));
    }
    assert!(
        ids[..CHILDREN + children::QUEUED]
            .iter()
            .all(Option::is_some)
    );
    assert_eq!(ids.last(), Some(&None));
    assert_eq!(core.stats.spawn_queued as usize, children::QUEUED);
    assert_eq!(core.stats.spawn_queue_full, 1);
    let a = drain(&mut core);
    assert_eq!(spawned(&a).len(), CHILDREN);
    assert_eq!(core.children().queued(), children::QUEUED);
    // One exits: the oldest queued request takes its slot.
    let first = ids[0].unwrap();
    core.handle_child_started(t(1), first, 1000);
    core.handle_child_exit(t(2), 1000, ChildStatus::Exited(0));
    let a = spawned(&drain(&mut core));
    assert_eq!(a.len(), 1);
    assert_eq!(Some(a[0].0), ids[CHILDREN]);
    // A spawn never reported frees its slot after a while.
    core.handle_timeout(t(10_000));
    assert_eq!(core.stats().spawn_failed as usize, CHILDREN);
}

#[test]
fn housekeeping_period_is_settable() {
    let mut core = Core::new(&CoreSettings::default()).unwrap();
    core.start(t(0));
    core.set_housekeeping_period(t(0), Duration::ZERO);
    for i in 0..5 {
        assert!(core.poll_at().is_some_and(|d| d <= t(i)));
        core.handle_timeout(t(i));
    }
    assert_eq!(core.stats().housekeeping_ticks, 5);
    core.set_housekeeping_period(t(5), Duration::from_millis(1));
    assert_eq!(core.poll_at(), Some(t(6)));
    // Late by a lot: re-armed from now, not in a burst.
    core.handle_timeout(t(100));
    assert_eq!(core.poll_at(), Some(t(101)));
}

#[test]
fn ignored_inputs_are_counted() {
    let mut core = Core::new(&CoreSettings::default()).unwrap();
    core.start(t(0));
    core.handle_child_exit(t(0), 999, ChildStatus::Exited(1));
    core.handle_child_started(t(0), ChildId(77), 5);
    core.handle_spawn_failed(t(0), ChildId(78), 1);
    core.handle_signal(t(0), Signal::Reload);
    core.handle_signal(t(0), Signal::DumpData);
    core.handle_signal(t(0), Signal::DumpStats);
    let s = core.stats();
    assert_eq!(s.unknown_child_exit, 1);
    assert_eq!(s.unknown_child_id, 2);
    assert_eq!(s.reload_requests, 1);
}

#[test]
fn bad_script_lines_are_refused() {
    assert_eq!(
        Core::new(&settings(Some("'x"), None)).err(),
        Some(CoreError::StartupScript(ArgvError::UnterminatedQuote))
    );
    assert_eq!(
        Core::new(&settings(None, Some("  "))).err(),
        Some(CoreError::ShutdownScript(ArgvError::Empty))
    );
}

#[test]
fn requested_children_report_start_and_end_as_events() {
    let mut core = Core::new(&settings(None, None)).unwrap();
    let mut argv = ArgvBuf::new();
    split_command("/bin/check arg", &mut argv).unwrap();
    // Not running yet: refused.
    assert_eq!(
        core.request_child(
            t(0),
            ChildRole::VrrpScript(3),
            &argv,
            Duration::from_secs(1)
        ),
        None
    );
    core.start(t(0));
    // The core's own roles cannot be requested.
    assert_eq!(
        core.request_child(
            t(0),
            ChildRole::StartupScript,
            &argv,
            Duration::from_secs(1)
        ),
        None
    );
    let id = core
        .request_child(
            t(0),
            ChildRole::VrrpScript(3),
            &argv,
            Duration::from_secs(1),
        )
        .unwrap();
    let s = spawned(&drain(&mut core));
    assert_eq!(s, [(id, std::string::String::from("/bin/check arg"))]);
    core.handle_child_started(t(1), id, 200);
    assert_eq!(
        core.poll_child_event(),
        Some(ChildEvent::Started {
            child: id,
            role: ChildRole::VrrpScript(3)
        })
    );
    // Past its timeout: SIGTERM; the exit then comes back marked timed out.
    core.handle_timeout(t(1001));
    assert!(drain(&mut core).contains(&Action::Kill {
        pid: 200,
        signal: KillSignal::Term
    }));
    core.handle_child_exit(t(1002), 200, ChildStatus::Signaled(15));
    let Some(ChildEvent::Ended(rec)) = core.poll_child_event() else {
        panic!("no end event");
    };
    assert_eq!(rec.child, id);
    assert_eq!(rec.role, ChildRole::VrrpScript(3));
    assert!(rec.timed_out);
    assert_eq!(core.poll_child_event(), None);
    // A failed spawn is an end too.
    let id = core
        .request_child(t(2000), ChildRole::Notify, &argv, Duration::from_secs(1))
        .unwrap();
    core.handle_spawn_failed(t(2000), id, 2);
    assert!(matches!(
        core.poll_child_event(),
        Some(ChildEvent::Ended(ChildRecord {
            outcome: ChildOutcome::SpawnFailed(2),
            ..
        }))
    ));
    // The core's own scripts produce no events.
    assert_eq!(core.poll_child_event(), None);
}

#[test]
fn stop_leaves_notify_scripts_to_end() {
    let mut core = Core::new(&settings(None, None)).unwrap();
    core.start(t(0));
    let mut argv = ArgvBuf::new();
    split_command("/n stop", &mut argv).unwrap();
    let n = core
        .request_child(t(0), ChildRole::Notify, &argv, NOTIFY_TIMEOUT)
        .unwrap();
    let c = core
        .request_child(
            t(0),
            ChildRole::VrrpScript(0),
            &argv,
            Duration::from_secs(5),
        )
        .unwrap();
    drain(&mut core);
    core.handle_child_started(t(0), n, 300);
    core.handle_child_started(t(0), c, 301);
    core.handle_signal(t(1), Signal::Stop);
    let a = drain(&mut core);
    assert!(a.contains(&Action::Kill {
        pid: 301,
        signal: KillSignal::Term
    }));
    assert!(!a.iter().any(|x| matches!(x, Action::Kill { pid: 300, .. })));
    core.handle_child_exit(t(2), 301, ChildStatus::Signaled(15));
    assert!(!core.is_finished(), "waits for the notify script");
    core.handle_child_exit(t(3), 300, ChildStatus::Exited(0));
    assert!(core.is_finished());
}

#[test]
fn each_run_carries_its_user_through_the_queue() {
    let start = CoreSettings {
        startup_user: RunAs(3),
        ..settings(Some("/s"), None)
    };
    let mut core = Core::new(&start).unwrap();
    core.start(t(0));
    let users = |a: &[Action]| -> Vec<RunAs> {
        a.iter()
            .filter_map(|a| match a {
                Action::Spawn { user, .. } => Some(*user),
                _ => None,
            })
            .collect()
    };
    assert_eq!(users(&drain(&mut core)), [RunAs(3)]);
    let mut argv = ArgvBuf::new();
    split_command("/n", &mut argv).unwrap();
    // Fill the table (the startup script holds one slot), then queue one.
    for _ in 1..CHILDREN {
        core.request_child(t(0), ChildRole::Notify, &argv, NOTIFY_TIMEOUT)
            .unwrap();
    }
    assert!(
        users(&drain(&mut core))
            .iter()
            .all(|&u| u == RunAs::DEFAULT)
    );
    core.request_child_as(t(0), ChildRole::Notify, &argv, NOTIFY_TIMEOUT, RunAs(7))
        .unwrap();
    assert!(drain(&mut core).is_empty(), "queued");
    // A slot frees (the startup script's spawn fails): the queued run goes,
    // as its user.
    let first = ChildId(1);
    core.handle_spawn_failed(t(1), first, 2);
    assert_eq!(users(&drain(&mut core)), [RunAs(7)]);
}

#[test]
fn a_misc_check_and_an_lvs_notify_run_as_their_user() {
    let mut core = Core::new(&CoreSettings::default()).unwrap();
    core.start(t(0));
    let mut argv = ArgvBuf::new();
    split_command("/bin/true", &mut argv).unwrap();
    let misc = core
        .request_child_as(
            t(1),
            ChildRole::MiscCheck(3),
            &argv,
            Duration::from_secs(1),
            RunAs(2),
        )
        .unwrap();
    let notify = core
        .request_child_as(t(1), ChildRole::LvsNotify, &argv, NOTIFY_TIMEOUT, RunAs(5))
        .unwrap();
    let spawns: Vec<_> = drain(&mut core)
        .into_iter()
        .filter_map(|a| match a {
            Action::Spawn { child, user, .. } => Some((child, user)),
            _ => None,
        })
        .collect();
    assert_eq!(spawns, [(misc, RunAs(2)), (notify, RunAs(5))]);
}
