//! `vrrp_script` / `track_script` run by picket, against Debian's
//! keepalived, in network namespaces on one bridge watched by tcpdump:
//!
//! - a weighted script (`weight -60`): picket (150) is master over a
//!   keepalived backup (100); the checked file goes away → picket advertises
//!   priority 90 (seen on the capture) and keepalived takes over; the file
//!   comes back → picket advertises 150 again and preempts back;
//! - an unweighted script (weight 0) failing puts picket in FAULT: it logs
//!   `Entering FAULT STATE`, sends priority 0, drops the VIP, and keepalived
//!   takes over;
//! - `track_interface { eth1 weight -60 }` (one end of a veth pair in
//!   picket's namespace): the link goes down → picket advertises 90 and keepalived
//!   takes over; it comes back up → picket preempts back;
//! - `track_interface { eth1 }` without a weight: the link going down puts
//!   picket in FAULT and its VIP is removed within 100 ms of the kernel's
//!   link event (`ip -ts monitor`); up again → BACKUP, then MASTER;
//! - notify scripts: `notify_backup`, `notify_master`, `notify_stop` and the
//!   generic `notify` append lines to a file; through BACKUP → MASTER →
//!   BACKUP (script failing) → MASTER → stop the file shows each transition
//!   in order, the generic one with `INSTANCE VI_1 MASTER 150`.
//!
//! Needs root, iproute2, tcpdump and keepalived; otherwise `SKIPPED: why`
//! (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_track -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use lab::{Advert, Capture, Daemon, Lab, VIP, has_address, run, wait_until};

const VRID: u8 = 52;

/// keepalived.conf of one router: VRRPv3 every 100 ms, VIP on eth0, with
/// `script` (and the instance's `track_line`) when given.
fn conf(priority: u8, script: Option<(&Path, &str)>) -> String {
    conf_with(priority, script, "")
}

/// [`conf`] with `extra` lines in the instance block.
fn conf_with(priority: u8, script: Option<(&Path, &str)>, extra: &str) -> String {
    let (script_block, track) = match script {
        Some((flag, track_line)) => (
            format!(
                "vrrp_script chk {{
    script \"test -f {}\"
    interval 0.2
    fall 1
    rise 1
}}

",
                flag.display()
            ),
            format!("    track_script {{\n        {track_line}\n    }}\n"),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "global_defs {{
    router_id lab-t{priority}
}}

{script_block}vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority {priority}
    advert_int 0.1
    version 3
{extra}{track}    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
    )
}

fn now_us() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(t.as_micros()).unwrap()
}

fn sole_master(ns: &str, other: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        has_address(ns, "eth0", VIP) && !has_address(other, "eth0", VIP)
    })
}

/// picket's adverts since `since_us`.
fn picket_adverts(cap: &Capture, addr: Ipv4Addr, since_us: u64) -> Vec<Advert> {
    cap.adverts()
        .into_iter()
        .filter(|a| a.vrid == VRID && a.src == addr && a.ts_us >= since_us)
        .collect()
}

/// A script-tracking pair: picket (150, tracking `flag` with `track`) and
/// keepalived (100) on one LAN, a capture of the bridge, picket master.
struct ScriptPair {
    lab: Lab,
    p: lab::Node,
    k: lab::Node,
    flag: std::path::PathBuf,
    cap: Capture,
    keepalived: lab::Router,
    picket: lab::Router,
}

/// Builds a [`ScriptPair`] (`None` when the tools are missing: SKIPPED).
fn script_pair(prefix: &str, track: &str) -> Option<ScriptPair> {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return None;
    }
    let lab = Lab::new(prefix);
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let flag = lab.path("ok", "flag");
    std::fs::write(&flag, "").unwrap();
    let cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, None));
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150, Some((&flag, track))));
    assert!(
        sole_master(&p.ns, &k.ns),
        "picket never became master:\n{}",
        picket.log_text()
    );
    Some(ScriptPair {
        lab,
        p,
        k,
        flag,
        cap,
        keepalived,
        picket,
    })
}

#[test]
fn weighted_script_lowers_priority_and_keepalived_takes_over() {
    let Some(ScriptPair {
        lab: _lab,
        p,
        k,
        flag,
        cap,
        keepalived,
        picket,
    }) = script_pair("tw", "chk weight -60")
    else {
        return;
    };

    let removed_us = now_us();
    std::fs::remove_file(&flag).unwrap();
    assert!(
        sole_master(&k.ns, &p.ns),
        "keepalived did not take over:\n{}",
        picket.log_text()
    );
    let ads = picket_adverts(&cap, p.addr, removed_us);
    let lowered = ads
        .iter()
        .find(|a| a.priority != 150)
        .unwrap_or_else(|| panic!("no lowered advert of picket: {ads:?}"));
    assert_eq!(lowered.priority, 90, "{lowered:?}");
    assert!(
        picket.wait_log("(VI_1) Entering BACKUP STATE", Duration::from_secs(2)),
        "{}",
        picket.log_text()
    );

    let restored_us = now_us();
    std::fs::write(&flag, "").unwrap();
    assert!(
        sole_master(&p.ns, &k.ns),
        "picket did not preempt back:\n{}",
        picket.log_text()
    );
    let ads = picket_adverts(&cap, p.addr, restored_us);
    let back = ads
        .iter()
        .find(|a| a.priority == 150)
        .unwrap_or_else(|| panic!("no advert at 150 after the file came back: {ads:?}"));
    println!(
        "track_script weight -60: picket advertised 90 {:.3} s after the file went, \
         150 again {:.3} s after it came back",
        (lowered.ts_us - removed_us) as f64 / 1e6,
        (back.ts_us - restored_us) as f64 / 1e6,
    );
    drop((picket, keepalived));
}

#[test]
fn unweighted_script_failing_puts_picket_in_fault() {
    let Some(ScriptPair {
        lab: _lab,
        p,
        k,
        flag,
        cap,
        keepalived,
        picket,
    }) = script_pair("tf", "chk")
    else {
        return;
    };

    let removed_us = now_us();
    std::fs::remove_file(&flag).unwrap();
    assert!(
        picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(3)),
        "{}",
        picket.log_text()
    );
    assert!(
        sole_master(&k.ns, &p.ns),
        "keepalived did not take over from the faulty picket:\n{}",
        picket.log_text()
    );
    let ads = picket_adverts(&cap, p.addr, removed_us);
    let zero = ads
        .iter()
        .find(|a| a.priority == 0)
        .unwrap_or_else(|| panic!("no priority-0 advert of picket: {ads:?}"));
    println!(
        "track_script weight 0: picket sent priority 0 {:.3} s after the file went",
        (zero.ts_us - removed_us) as f64 / 1e6
    );
    drop((picket, keepalived));
}

#[test]
fn notify_scripts_run_on_each_transition_in_order() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new("tn");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let flag = lab.path("ok", "flag");
    std::fs::write(&flag, "").unwrap();
    let out = lab.path("notified", "txt");
    let script = lab.path("notify", "sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> {}\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = script.display();
    let extra = format!(
        "    notify_master \"{s} master\"\n    notify_backup \"{s} backup\"\n    \
         notify_fault \"{s} fault\"\n    notify_stop \"{s} stop\"\n    notify \"{s} generic\"\n"
    );
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, None));
    let mut picket = Daemon::Picket.start(
        &lab,
        &p.ns,
        &conf_with(150, Some((&flag, "chk weight -60")), &extra),
    );
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    std::fs::remove_file(&flag).unwrap();
    assert!(sole_master(&k.ns, &p.ns), "{}", picket.log_text());
    std::fs::write(&flag, "").unwrap();
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    let status = picket.stop();
    assert!(status.success(), "{status:?}\n{}", picket.log_text());
    let lines = |prefix: &str| -> Vec<String> {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    };
    // Both scripts of one transition run side by side: the order holds
    // within each kind of line.
    assert!(
        wait_until(Duration::from_secs(3), || lines("").len() >= 10),
        "{:?}\n{}",
        lines(""),
        picket.log_text()
    );
    assert_eq!(
        lines("generic"),
        [
            "generic INSTANCE VI_1 BACKUP 150",
            "generic INSTANCE VI_1 MASTER 150",
            "generic INSTANCE VI_1 BACKUP 90",
            "generic INSTANCE VI_1 MASTER 150",
            "generic INSTANCE VI_1 STOP 150",
        ],
        "{}",
        picket.log_text()
    );
    let own: Vec<String> = lines("")
        .into_iter()
        .filter(|l| !l.starts_with("generic"))
        .collect();
    assert_eq!(own, ["backup", "master", "backup", "master", "stop"]);
    println!("notify: {} lines, in transition order", lines("").len());
    drop(keepalived);
}

#[test]
fn tracked_interface_down_lowers_priority_and_up_restores_it() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("ti");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let link = |state: &str| {
        run("ip", &["-n", &p.ns, "link", "set", "eth1", state]).unwrap();
    };
    // A veth pair (no dummy module needed): eth1 is up while both ends are.
    run(
        "ip",
        &[
            "-n", &p.ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
        ],
    )
    .unwrap();
    run("ip", &["-n", &p.ns, "link", "set", "eth1p", "up"]).unwrap();
    link("up");
    let cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, None));
    let extra = "    track_interface {\n        eth1 weight -60\n    }\n";
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf_with(150, None, extra));
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());

    let down_us = now_us();
    link("down");
    assert!(sole_master(&k.ns, &p.ns), "{}", picket.log_text());
    let ads = picket_adverts(&cap, p.addr, down_us);
    let lowered = ads
        .iter()
        .find(|a| a.priority != 150)
        .unwrap_or_else(|| panic!("no lowered advert: {ads:?}"));
    assert_eq!(lowered.priority, 90, "{lowered:?}");
    assert!(
        picket.wait_log("Netlink reports eth1 down", Duration::from_secs(1)),
        "{}",
        picket.log_text()
    );

    let up_us = now_us();
    link("up");
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    let ads = picket_adverts(&cap, p.addr, up_us);
    let back = ads
        .iter()
        .find(|a| a.priority == 150)
        .unwrap_or_else(|| panic!("no advert at 150 after the link came up: {ads:?}"));
    println!(
        "track_interface weight -60: picket advertised 90 {:.3} s after link down, \
         150 {:.3} s after link up",
        (lowered.ts_us - down_us) as f64 / 1e6,
        (back.ts_us - up_us) as f64 / 1e6,
    );
    drop((picket, keepalived));
}

/// The first advert of picket since `since_us` whose priority is `want`.
fn advert_at(cap: &Capture, addr: Ipv4Addr, since_us: u64, want: u8) -> Option<Advert> {
    picket_adverts(cap, addr, since_us)
        .into_iter()
        .find(|a| a.priority == want)
}

#[test]
fn track_file_value_times_weight_sets_priority_and_weight_zero_faults() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("tfile");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let (weighted, zero) = (lab.dir.join("weighted"), lab.dir.join("zero"));
    let blocks = format!(
        "vrrp_track_file w {{\n    file {}\n    weight -30\n    init_file 0 overwrite\n}}\n\
         vrrp_track_file z {{\n    file {}\n}}\n\n",
        weighted.display(),
        zero.display()
    );
    let extra = "    track_file {\n        w\n        z\n    }\n";
    let cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, None));
    let picket = Daemon::Picket.start(&lab, &p.ns, &(blocks + &conf_with(150, None, extra)));
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    assert!(
        picket.log_text().contains("cannot read"),
        "the missing file z is logged:\n{}",
        picket.log_text()
    );

    // 2 × -30: priority 90, keepalived takes over.
    let t0 = now_us();
    std::fs::write(&weighted, "2\n").unwrap();
    assert!(sole_master(&k.ns, &p.ns), "{}", picket.log_text());
    let lowered = advert_at(&cap, p.addr, t0, 90)
        .unwrap_or_else(|| panic!("no advert at 90: {:?}", picket_adverts(&cap, p.addr, t0)));

    // Garbage reads as 0 (logged): 150 again, picket preempts back.
    let t1 = now_us();
    std::fs::write(&weighted, "not a number\n").unwrap();
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    let back = advert_at(&cap, p.addr, t1, 150).expect("an advert at 150");
    assert!(
        picket.wait_log("holds no number: value 0", Duration::from_secs(1)),
        "{}",
        picket.log_text()
    );

    // Weight 0: a non-zero value is a FAULT (priority 0 sent); gone: back.
    let t2 = now_us();
    std::fs::write(&zero, "1").unwrap();
    assert!(
        picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(2)),
        "{}",
        picket.log_text()
    );
    assert!(sole_master(&k.ns, &p.ns), "{}", picket.log_text());
    let fault = advert_at(&cap, p.addr, t2, 0).expect("a priority-0 advert");
    std::fs::remove_file(&zero).unwrap();
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    println!(
        "track_file: weight -30 × 2 → priority 90 on the wire {:.1} ms after the write; garbage → \
         150 {:.1} ms after; weight 0 non-zero → priority 0 {:.1} ms after; removed → back",
        (lowered.ts_us - t0) as f64 / 1e3,
        (back.ts_us - t1) as f64 / 1e3,
        (fault.ts_us - t2) as f64 / 1e3,
    );
    drop((picket, keepalived));
}

/// Seconds since midnight of an `ip -ts monitor` line's stamp
/// (`[2026-12-02T03:41:22.123456] ...`).
fn monitor_stamp(line: &str) -> Option<f64> {
    let stamp = line.strip_prefix('[')?.split(']').next()?;
    let time = stamp.split('T').nth(1)?;
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// `track_interface { eth1 }` without a weight: the link going down puts
/// picket in FAULT and its VIP is gone within 100 ms of the kernel's link
/// event (both stamped by `ip -ts monitor` in picket's namespace); keepalived
/// takes over; the link coming back brings picket back to MASTER.
#[test]
fn tracked_interface_down_faults_and_drops_the_vip_within_100_ms() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("tf");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let link = |state: &str| {
        run("ip", &["-n", &p.ns, "link", "set", "eth1", state]).unwrap();
    };
    run(
        "ip",
        &[
            "-n", &p.ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
        ],
    )
    .unwrap();
    run("ip", &["-n", &p.ns, "link", "set", "eth1p", "up"]).unwrap();
    link("up");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, None));
    let extra = "    track_interface {\n        eth1\n    }\n";
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf_with(150, None, extra));
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());

    let log = lab.path("monitor", "log");
    let mut monitor =
        lab::spawn_in_logged(&p.ns, "ip", &["-ts", "monitor", "link", "address"], &log);
    std::thread::sleep(Duration::from_millis(300));
    link("down");
    assert!(
        picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(2)),
        "{}",
        picket.log_text()
    );
    assert!(sole_master(&k.ns, &p.ns), "{}", picket.log_text());
    std::thread::sleep(Duration::from_millis(200));
    monitor.kill_group();
    let text = std::fs::read_to_string(&log).unwrap();
    let link_down = text
        .lines()
        .find(|l| l.contains("eth1") && !l.contains("Deleted") && l.contains("state DOWN"))
        .and_then(monitor_stamp)
        .unwrap_or_else(|| panic!("no link-down event of eth1 in:\n{text}"));
    let vip_gone = text
        .lines()
        .find(|l| l.contains("Deleted") && l.contains(&format!("{VIP}/24")))
        .and_then(monitor_stamp)
        .unwrap_or_else(|| panic!("no deletion of {VIP} in:\n{text}"));
    let gap_ms = (vip_gone - link_down) * 1e3;
    println!("track_interface (no weight): VIP removed {gap_ms:.3} ms after the link-down event");
    assert!(
        (0.0..100.0).contains(&gap_ms),
        "VIP removed {gap_ms:.3} ms after the link event:\n{text}"
    );

    link("up");
    assert!(
        picket.wait_log_after(
            "(VI_1) Entering FAULT STATE",
            "(VI_1) Entering BACKUP STATE",
            Duration::from_secs(2)
        ),
        "{}",
        picket.log_text()
    );
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    drop((picket, keepalived));
}
