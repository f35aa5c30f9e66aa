//! Who picket's scripts run as, and which it refuses, in a network namespace
//! of a one-router lab (picket alone becomes master and runs its notify and
//! tracking scripts):
//!
//! - `script_user nobody` is the default user; a notify script with its own
//!   `root` and a `vrrp_script` with `user daemon` run as those: each
//!   script writes `id -u`, `id -g` and `id -G` to a file, checked against
//!   `id` of those users (no supplementary groups: none asked for);
//! - `enable_script_security` refuses to start (exit 2, the script and the
//!   reason in the log) when a script run as root sits in a world-writable
//!   directory, and when no `script_user` is set and `keepalived_script` does
//!   not exist; with the directory made safe the same configuration runs its
//!   scripts as root.
//!
//! Needs root, iproute2, tcpdump and tshark (the lab); otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_scripts -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use lab::{Daemon, Lab, VIP, has_address, run, wait_until};

const VRID: u8 = 53;

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A VRRPv3 instance at 100 ms on eth0 with `extra` lines, after
/// `global`'s global_defs and `top` blocks.
fn conf(global: &str, top: &str, extra: &str) -> String {
    format!(
        "global_defs {{
    router_id lab-s
{global}}}

{top}vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority 150
    advert_int 0.1
    version 3
{extra}    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
    )
}

/// `uid gid groups` of `user` by `id`.
fn ids_of(user: &str) -> String {
    let f = |flag: &str| run("id", &[flag, user]).unwrap().trim().to_owned();
    format!("{} {} {}", f("-u"), f("-g"), f("-G"))
}

/// Writes the recording script into `dir` (mode 0755): it appends
/// `TAG uid gid groups` to `out`.
fn recorder(dir: &Path, out: &Path) -> std::path::PathBuf {
    let script = dir.join("record.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1 $(id -u) $(id -g) $(id -G)\" >> {}\n",
            out.display()
        ),
    )
    .unwrap();
    chmod(&script, 0o755);
    script
}

/// The lines of `out` starting with `tag`.
fn lines(out: &Path, tag: &str) -> Vec<String> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(tag))
        .map(str::to_owned)
        .collect()
}

/// A lab of one router (`None`: SKIPPED).
fn one_router(prefix: &str) -> Option<(Lab, lab::Node)> {
    if !lab::ready(&["id"]) {
        return None;
    }
    let lab = Lab::with_routers(prefix, 1);
    let r = lab.router(1).clone();
    Some((lab, r))
}

#[test]
fn scripts_run_as_their_users() {
    let Some((lab, r)) = one_router("su") else {
        return;
    };
    // nobody writes there too (sticky, like /tmp).
    let shared = lab.dir.join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    let out = shared.join("ids.txt");
    std::fs::write(&out, "").unwrap();
    chmod(&out, 0o666);
    let script = recorder(&lab.dir, &out);
    let s = script.display();
    let top = format!(
        "vrrp_script chk {{\n    script \"{s} chk\"\n    interval 0.2\n    user daemon\n}}\n\n"
    );
    let extra = format!(
        "    notify_master \"{s} master\"\n    notify_backup \"{s} backup\" root\n    \
         track_script {{\n        chk\n    }}\n"
    );
    let mut picket =
        Daemon::Picket.start(&lab, &r.ns, &conf("    script_user nobody\n", &top, &extra));
    assert!(
        wait_until(Duration::from_secs(5), || has_address(&r.ns, "eth0", VIP)
            && !lines(&out, "master").is_empty()
            && !lines(&out, "chk").is_empty()),
        "no master, or scripts did not run:\n{:?}\n{}",
        std::fs::read_to_string(&out),
        picket.log_text()
    );
    let got = |tag: &str| {
        let l = lines(&out, tag);
        l[0].split_once(' ').unwrap().1.to_owned()
    };
    assert_eq!(got("backup"), ids_of("root"), "explicit user root");
    assert_eq!(got("master"), ids_of("nobody"), "default: script_user");
    assert_eq!(got("chk"), ids_of("daemon"), "vrrp_script user");
    let log = picket.log_text();
    assert!(
        log.contains(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
        ),
        "{log}"
    );
    println!(
        "scripts ran as: backup {}, master {}, chk {}",
        got("backup"),
        got("master"),
        got("chk")
    );
    let status = picket.stop();
    assert!(status.success(), "{status:?}");
}

/// Starts picket on `conf` and expects it to refuse: exit status 2 and
/// `needle` in its log. Returns the log.
fn refused(lab: &Lab, ns: &str, conf: &str, needle: &str) -> String {
    let mut picket = Daemon::Picket.start(lab, ns, conf);
    let status = picket
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("picket did not refuse to start:\n{}", picket.log_text()));
    let log = picket.log_text();
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(log.contains(needle), "no '{needle}' in:\n{log}");
    log
}

#[test]
fn enable_script_security_refuses_unsafe_scripts() {
    let Some((lab, r)) = one_router("ss") else {
        return;
    };
    let bin = lab.dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    chmod(&bin, 0o777);
    let out = lab.dir.join("ids.txt");
    let script = recorder(&bin, &out);
    let notify = format!("    notify_master \"{} master\"\n", script.display());

    // Run as root from a directory anyone may write to.
    let log = refused(
        &lab,
        &r.ns,
        &conf(
            "    script_user root\n    enable_script_security\n",
            "",
            &notify,
        ),
        "writable by everyone (mode 0777)",
    );
    let line = log
        .lines()
        .find(|l| l.contains("notify_master of vrrp_instance VI_1"))
        .unwrap_or_else(|| panic!("the script is not named:\n{log}"));
    println!("refused: {line}");

    // No script_user, no keepalived_script user: scripts would run as root.
    if run("id", &["keepalived_script"]).is_err() {
        let log = refused(
            &lab,
            &r.ns,
            &conf("    enable_script_security\n", "", &notify),
            "'keepalived_script' does not exist",
        );
        println!(
            "refused: {}",
            log.lines()
                .find(|l| l.contains("keepalived_script"))
                .unwrap()
        );
    }

    // Made safe: it runs, as root.
    chmod(&bin, 0o755);
    let mut picket = Daemon::Picket.start(
        &lab,
        &r.ns,
        &conf(
            "    script_user root\n    enable_script_security\n",
            "",
            &notify,
        ),
    );
    assert!(
        wait_until(Duration::from_secs(5), || !lines(&out, "master").is_empty()),
        "the safe script did not run:\n{}",
        picket.log_text()
    );
    assert_eq!(
        lines(&out, "master")[0].split_once(' ').unwrap().1,
        ids_of("root")
    );
    assert!(
        !picket.log_text().contains("SECURITY VIOLATION"),
        "{}",
        picket.log_text()
    );
    let status = picket.stop();
    assert!(status.success(), "{status:?}");
}
