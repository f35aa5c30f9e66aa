//! The hardware watchdog on the qemu board: the emulated i6300esb with
//! `-watchdog-action reset`, picket started at boot by the firmware image
//! (busybox init), its state file on a persistent virtio disk, and a test
//! script that runs on every boot and keeps its stage on that disk. The
//! console lines carry the host time they arrived, the QMP events (the
//! WATCHDOG firing) theirs, so times compare.
//!
//! One board, four boots (one qemu process, three watchdog resets):
//! healthy picket keeps the VM up for 3 × the timeout; SIGTERM disarms it
//! (magic close) and the VM stays up; SIGSTOP → the VM resets about one
//! timeout after the last kick, picket comes back, reads WDIOF_CARDRESET
//! and damps; a stalled VRRP timer (fault injection) → no kicks, the log
//! names the part, reset; the third reset in a row → safe mode (priority
//! 1); `picket --clear-resets` ends it; a device another process holds is
//! a clear error and picket runs without it.
//!
//! Two boards on one `-netdev socket` link: freezing the master's picket
//! resets its board, the backup takes the address, the reset board comes
//! back as backup and does not take it back during the hold, then
//! preempts.
//!
//! Boots are slow under TCG: the single-board test takes about 3 minutes on
//! an idle 2-core machine, the pair about 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod board;

use std::path::{Path, PathBuf};

/// The watchdog timeout of these tests, seconds.
const T: f64 = 5.0;
/// The kick period (a quarter of it).
const PERIOD: f64 = T / 4.0;
/// `watchdog_reset_hold` of these tests, seconds.
const HOLD: f64 = 20.0;

fn config(router: &str, priority: u8) -> String {
    format!(
        "global_defs {{
    router_id {router}
    watchdog_timeout 5
    watchdog_reset_hold 20
    watchdog_safe_mode_resets 3
    watchdog_reset_window 600
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        10.77.0.100/24
    }}
}}
"
    )
}

/// Shell helpers every guest script starts with.
const PRELUDE: &str = r#"#!/bin/sh
# Runs on every boot of the board (firmware mode): the stage is on /persist.
stage=$(cat /persist/stage 2>/dev/null || echo 0)
next() { echo "$1" >/persist/stage; sync; }
pid() { cat /run/picket.pid; }
has_vip() { ip -o addr show dev eth0 | grep -q ' 10.77.0.100/'; }
# wait_vip SECONDS: until this board holds the address.
wait_vip() {
    i=0
    while [ $i -lt $(($1 * 10)) ]; do
        has_vip && return 0
        usleep 100000
        i=$((i + 1))
    done
    echo "no address after $1 s"
    return 1
}
# freeze: picket stops for good (SIGSTOP); the watchdog must reset the board.
freeze() {
    echo "FREEZE"
    kill -STOP "$(pid)"
    sleep 60
    echo "NO RESET AFTER THE FREEZE"
    exit 1
}
echo "STAGE $stage"
"#;

/// The board's turn and a fresh directory for one test's files; `None`
/// when the board cannot run (`SKIPPED`, said by `board::ready`).
fn setup(name: &str) -> Option<(std::sync::MutexGuard<'static, ()>, PathBuf)> {
    if !board::ready() {
        return None;
    }
    let turn = board::turn();
    let dir = std::env::temp_dir().join(format!("picket-qwd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Some((turn, dir))
}

fn firmware_options(
    dir: &Path,
    name: &str,
    conf: &str,
    ip: &str,
    netdev: String,
) -> board::Options {
    let conf_path = dir.join(format!("{name}.conf"));
    std::fs::write(&conf_path, conf).unwrap();
    let mut o = board::Options::new(900);
    o.picket = board::picket_with_faults().to_owned();
    o.firmware = Some(conf_path);
    o.ip = Some(ip.to_owned());
    o.debug = true;
    o.disk = Some(dir.join(format!("{name}.disk")));
    o.watchdog_reset = true;
    o.netdev = Some(netdev);
    o.qmp = true;
    o
}

/// The lines between times `from` and `to`.
fn between(boot: &board::Boot, from: f64, to: f64) -> Vec<&str> {
    boot.lines
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, l)| l.as_str())
        .collect()
}

/// The time of the last line containing `needle` before `before`.
fn last_before(boot: &board::Boot, needle: &str, before: f64) -> f64 {
    boot.lines
        .iter()
        .rev()
        .find(|(t, l)| *t < before && l.contains(needle))
        .map(|(t, _)| *t)
        .unwrap_or_else(|| panic!("no {needle:?} before {before}"))
}

fn must(t: Option<f64>, what: &str) -> f64 {
    t.unwrap_or_else(|| panic!("missing on the console: {what}"))
}

#[test]
fn watchdog_resets_damping_and_safe_mode_on_one_board() {
    let Some((_turn, dir)) = setup("one") else {
        return;
    };
    let script = format!(
        "{PRELUDE}{}",
        r#"case $stage in
0)
    wait_vip 60 || exit 1
    echo "HEALTHY START"
    sleep 15
    echo "HEALTHY END"
    /etc/init.d/picket stop
    pidof picket && { echo "picket still runs"; exit 1; }
    echo "PICKET STOPPED"
    sleep 10
    echo "ALIVE AFTER STOP"
    next 1
    /etc/init.d/picket start
    wait_vip 60 || exit 1
    sleep 3
    freeze
    ;;
1)
    wait_vip 60 || exit 1
    /etc/init.d/picket stop
    next 2
    PICKET_FAULT=vrrp-stall:4 /etc/init.d/picket start
    echo "STALL INJECTED"
    sleep 60
    echo "NO RESET AFTER THE STALL"
    exit 1
    ;;
2)
    wait_vip 60 || exit 1
    sleep 2
    next 3
    freeze
    ;;
3)
    wait_vip 60 || exit 1
    kill -USR1 "$(pid)"
    sleep 1
    echo "CLEAR"
    picket --clear-resets -f /etc/keepalived/keepalived.conf
    /etc/init.d/picket stop
    /etc/init.d/picket start
    wait_vip 60 || exit 1
    kill -USR1 "$(pid)"
    sleep 1
    # Another process holds the watchdog (as procd on OpenWrt): picket
    # says how to hand it over, and runs on without it.
    /etc/init.d/picket stop
    watchdog -t 1 -T 60 /dev/watchdog
    /etc/init.d/picket start
    sleep 1
    wait_vip 60 || exit 1
    echo "RAN WITHOUT THE WATCHDOG"
    next 4
    exit 0
    ;;
esac
echo "unexpected stage $stage"
exit 1
"#
    );
    let script_path = board::script("watchdog-one", &script);
    // A link to a port nobody listens on: eth0 exists, adverts go nowhere.
    let port = 30000 + (std::process::id() % 10000) * 2;
    let netdev = format!(
        "socket,udp=127.0.0.1:{},localaddr=127.0.0.1:{port}",
        port + 1
    );
    let opts = firmware_options(&dir, "one", &config("one", 200), "10.77.0.1/24", netdev);
    let started = std::time::Instant::now();
    let boot = board::start("one", &script_path, &[], &opts).wait();
    let took = started.elapsed().as_secs_f64();
    println!("one board, four boots: {took:.0} s");
    assert_eq!(boot.status, 0, "the guest script failed");
    let resets = boot.event_times("WATCHDOG");
    assert_eq!(resets.len(), 3, "three watchdog resets: {:?}", boot.events);
    assert_eq!(
        boot.lines
            .iter()
            .filter(|(_, l)| l.starts_with("board: init at"))
            .count(),
        4,
        "four boots"
    );

    // Boot 1: healthy for 3 x T, kicking every T/4.
    let h0 = must(boot.time_of("HEALTHY START", 0.0), "HEALTHY START");
    let h1 = must(boot.time_of("HEALTHY END", h0), "HEALTHY END");
    assert!(h1 - h0 >= 3.0 * T, "healthy for {} s", h1 - h0);
    let kicks = between(&boot, h0, h1)
        .iter()
        .filter(|l| l.contains("DEBUG watchdog: kick"))
        .count();
    println!("healthy: {:.1} s, {kicks} kicks, no reset", h1 - h0);
    assert!(kicks as f64 >= (h1 - h0) / PERIOD - 2.0, "{kicks} kicks");
    assert!(resets[0] > h1);
    // SIGTERM: magic close, and the VM stays up for 2 x T.
    let stopped = must(boot.time_of("PICKET STOPPED", h1), "PICKET STOPPED");
    let alive = must(
        boot.time_of("ALIVE AFTER STOP", stopped),
        "ALIVE AFTER STOP",
    );
    assert!(
        between(&boot, h1, stopped)
            .iter()
            .any(|l| l.contains("watchdog: /dev/watchdog disarmed (magic close)")),
        "magic close"
    );
    assert!(alive - stopped >= 2.0 * T && resets[0] > alive);
    println!(
        "SIGTERM: VM up {:.1} s after picket exited",
        alive - stopped
    );

    // SIGSTOP: the reset about one timeout after the last kick.
    let freeze = must(boot.time_of("FREEZE", alive), "FREEZE");
    let last_kick = last_before(&boot, "DEBUG watchdog: kick", freeze);
    let kick_to_reset = resets[0] - last_kick;
    let freeze_to_reset = resets[0] - freeze;
    println!(
        "SIGSTOP: last kick -> reset {kick_to_reset:.3} s ({:.3} x T), freeze -> reset {freeze_to_reset:.3} s",
        kick_to_reset / T
    );
    assert!(
        (0.95 * T..1.3 * T).contains(&kick_to_reset),
        "reset {kick_to_reset} s after the last kick"
    );
    assert!(freeze_to_reset <= T + 0.5, "{freeze_to_reset}");
    // Boot 2: back, the boot status says watchdog, damped.
    let back = between(&boot, resets[0], resets[1]).join("\n");
    for want in [
        "boot status 0x20 (WDIOF_CARDRESET: the watchdog reset the board)",
        "picket is back after a watchdog reset (boot status WDIOF_CARDRESET); resets in a row: 1",
        "reset damping: instances start in BACKUP and do not preempt for 20.000 s",
    ] {
        assert!(
            back.contains(want),
            "missing {want:?} after the first reset"
        );
    }
    let up = must(boot.time_of("picket 0.1.0 starting", resets[0]), "restart");
    let backup = must(
        boot.time_of("(VI_1) Entering BACKUP STATE", resets[0]),
        "BACKUP",
    );
    let master = must(
        boot.time_of("(VI_1) Entering MASTER STATE", resets[0]),
        "MASTER",
    );
    // BACKUP first (FAULT before it while eth0's carrier comes up).
    assert!(backup < master);
    println!(
        "reset -> picket started {:.1} s, -> BACKUP {:.1} s",
        up - resets[0],
        backup - resets[0]
    );

    // The stall of one part: no kicks, the part named, the reset.
    let stall = must(boot.time_of("STALL INJECTED", resets[0]), "STALL INJECTED");
    let stalled = between(&boot, stall, resets[1]).join("\n");
    assert!(stalled.contains("FAULT INJECTION (test build): VRRP timers stalled from now on"));
    assert!(
        stalled.contains("ERROR watchdog: NOT KICKING: VRRP timers: (VI_1) advert timer late by"),
        "{stalled}"
    );
    let last_log = boot
        .lines
        .iter()
        .rev()
        .find(|(t, l)| *t < resets[1] && l.contains("] "))
        .map_or("", |(_, l)| l.as_str());
    println!("last line before the stall's reset: {last_log}");
    assert!(
        last_log.contains("kicking: VRRP timers: (VI_1) advert timer late by"),
        "the last line before the reset names the part: {last_log}"
    );
    let first_note = must(boot.time_of("NOT KICKING", stall), "NOT KICKING");
    let kick_before = last_before(&boot, "DEBUG watchdog: kick", first_note);
    println!("stall: last kick -> reset {:.3} s", resets[1] - kick_before);
    assert!((0.95 * T..1.3 * T).contains(&(resets[1] - kick_before)));
    assert!(
        between(&boot, resets[1], resets[2])
            .join("\n")
            .contains("resets in a row: 2")
    );

    // The third reset in a row: safe mode, until cleared.
    let last = between(&boot, resets[2], f64::MAX).join("\n");
    for want in [
        "resets in a row: 3",
        "SAFE MODE: 3 resets in a row (watchdog_safe_mode_resets 3): every instance advertises priority 1",
        "(VI_1) state MASTER priority 1 ",
        "safe mode ON (priority 1)",
        "resets in a row 3 (last: watchdog); cleared to 0",
        "(VI_1) state MASTER priority 200 ",
    ] {
        assert!(
            last.contains(want),
            "missing {want:?} after the third reset"
        );
    }
    let clear = must(boot.time_of("CLEAR", resets[2]), "CLEAR");
    assert!(
        !between(&boot, clear, f64::MAX)
            .join("\n")
            .contains("SAFE MODE")
    );
    // A busy device: a clear error, and picket runs without it.
    assert!(
        last.contains(
            "ERROR watchdog: cannot use watchdog_device /dev/watchdog: it is busy: another \
             process holds it (one opener at a time). On OpenWrt procd does: hand it over with \
             `ubus call system watchdog '{\"magicclose\":true}'`"
        ),
        "no busy error"
    );
    assert!(last.contains("RAN WITHOUT THE WATCHDOG"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_boards_fail_over_on_a_watchdog_reset_without_flapping_back() {
    let Some((_turn, dir)) = setup("pair") else {
        return;
    };
    let a_script = format!(
        "{PRELUDE}{}",
        r#"case $stage in
0)
    wait_vip 120 || exit 1
    echo "A MASTER"
    i=0
    until ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 120 ] || { echo "B never answered"; exit 1; }
    done
    sleep 8
    next 1
    freeze
    ;;
1)
    echo "A BACK"
    i=0
    while [ $i -lt 15 ]; do
        has_vip && { echo "A TOOK THE ADDRESS DURING THE HOLD"; exit 1; }
        sleep 1
        i=$((i + 1))
    done
    echo "A HELD"
    wait_vip 60 || exit 1
    echo "A PREEMPTED"
    sleep 4
    exit 0
    ;;
esac
exit 1
"#
    );
    let b_script = format!(
        "{PRELUDE}{}",
        r#"# Until A is master: no address for 5 s in a row.
quiet=0 i=0
while [ $quiet -lt 50 ]; do
    if has_vip; then quiet=0; else quiet=$((quiet + 1)); fi
    usleep 100000
    i=$((i + 1)); [ $i -lt 1800 ] || { echo "A never became master"; exit 1; }
done
echo "B BACKUP"
wait_vip 120 || exit 1
echo "B MASTER"
i=0
while has_vip; do
    usleep 100000
    i=$((i + 1)); [ $i -lt 1200 ] || { echo "A never preempted"; exit 1; }
done
echo "B BACKUP AGAIN"
sleep 2
exit 0
"#
    );
    let a_path = board::script("watchdog-a", &a_script);
    let b_path = board::script("watchdog-b", &b_script);
    let pa = 30000 + (std::process::id() % 10000) * 2;
    let pb = pa + 1;
    let mut a = firmware_options(
        &dir,
        "a",
        &config("a", 200),
        "10.77.0.1/24",
        format!("socket,udp=127.0.0.1:{pb},localaddr=127.0.0.1:{pa}"),
    );
    a.mac = Some("52:54:00:77:00:01".to_owned());
    let mut b = firmware_options(
        &dir,
        "b",
        &config("b", 100),
        "10.77.0.2/24",
        format!("socket,udp=127.0.0.1:{pa},localaddr=127.0.0.1:{pb}"),
    );
    b.mac = Some("52:54:00:77:00:02".to_owned());
    let started = std::time::Instant::now();
    let run_a = board::start("a", &a_path, &[], &a);
    let run_b = board::start("b", &b_path, &[], &b);
    let (a, b) = (run_a.wait(), run_b.wait());
    println!("two boards: {:.0} s", started.elapsed().as_secs_f64());
    assert_eq!((a.status, b.status), (0, 0), "the guest scripts failed");
    let resets = a.event_times("WATCHDOG");
    assert_eq!(resets.len(), 1, "{:?}", a.events);
    assert!(b.event_times("WATCHDOG").is_empty());
    let freeze = must(a.time_of("FREEZE", 0.0), "FREEZE");
    let b_master = must(b.time_of("B MASTER", freeze), "B MASTER after the freeze");
    println!(
        "A frozen -> B master {:.2} s, A reset {:.2} s after the freeze",
        b_master - freeze,
        resets[0] - freeze
    );
    // Master_Down_Interval of B: 3 x 1 s + (256 - 100) / 256 s = 3.61 s
    // after A's last advert (at most 1 s before the freeze).
    assert!(
        b_master - freeze < 3.61 + 1.0 + 0.5,
        "{}",
        b_master - freeze
    );
    let back = between(&a, resets[0], f64::MAX).join("\n");
    assert!(back.contains("picket is back after a watchdog reset"));
    assert!(back.contains("reset damping: instances start in BACKUP"));
    let a_up = must(a.time_of("picket 0.1.0 starting", resets[0]), "A restarts");
    let a_backup = must(
        a.time_of("(VI_1) Entering BACKUP STATE", resets[0]),
        "A BACKUP",
    );
    let a_master = must(
        a.time_of("(VI_1) Entering MASTER STATE", resets[0]),
        "A MASTER again",
    );
    let b_again = must(b.time_of("B BACKUP AGAIN", b_master), "B BACKUP AGAIN");
    println!(
        "reset -> A's picket {:.1} s -> BACKUP {:.1} s; A preempted {:.1} s after its start (hold {HOLD} s); B gave up the address {:.1} s after A's start",
        a_up - resets[0],
        a_backup - resets[0],
        a_master - a_up,
        b_again - a_up
    );
    assert!(a_backup < a_master);
    assert!(a.time_of("A HELD", resets[0]).is_some());
    // The address stayed on B through the hold, then A preempted (its
    // Master_Down_Interval after the hold ended: 3.2 s).
    assert!(b_again - a_up >= HOLD, "B lost the address during the hold");
    assert!(
        a_master - a_up < HOLD + 3.3 + 1.0 + 2.0,
        "A did not preempt after the hold"
    );
    assert!(back.contains("the hold after the reset is over"));
    std::fs::remove_dir_all(&dir).unwrap();
}
