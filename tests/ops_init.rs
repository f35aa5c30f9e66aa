//! The init integration under `board/init/`: the busybox/sysvinit script,
//! the OpenWrt procd script and the systemd unit.
//!
//! - every shell script parses under `sh -n`, `dash -n` and `busybox sh -n`;
//! - `systemd-analyze verify` accepts the unit without a warning (its
//!   `/usr/sbin/picket` pointed at this build);
//! - the sysvinit script drives a real picket here: `start` (the pid file
//!   names a live picket), a second `start` (already running), `status`
//!   (exit 0 and the status tables), `reload` (SIGHUP: the daemon counts
//!   it), `stop` (gone, pid file removed), `status` (exit 3), and a
//!   configuration with errors is not started.
//!
//! Runs unprivileged (the configuration has no instance); needs sh, dash,
//! busybox and systemd-analyze (`SKIPPED: why` without them, a failure under
//! `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ready(tools: &[&str]) -> bool {
    let missing: Vec<_> = tools.iter().filter(|t| !have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and this test cannot run: needs {missing:?}"
    );
    println!("SKIPPED: needs {missing:?}");
    false
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn shell_scripts_parse_in_every_shell() {
    if !ready(&["dash", "busybox"]) {
        return;
    }
    for script in ["picket.sysv", "picket.procd"] {
        let path = root().join("board/init").join(script);
        for shell in [&["sh", "-n"][..], &["dash", "-n"], &["busybox", "sh", "-n"]] {
            let o = Command::new(shell[0])
                .args(&shell[1..])
                .arg(&path)
                .output()
                .unwrap();
            assert!(o.status.success(), "{shell:?} {script}: {}", text(&o));
        }
    }
}

#[test]
fn systemd_accepts_the_unit() {
    if !ready(&["systemd-analyze"]) {
        return;
    }
    let unit = std::fs::read_to_string(root().join("board/init/picket.service")).unwrap();
    for want in [
        "Type=notify",
        "WatchdogSec=",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.contains(want), "{want} missing");
    }
    let dir = std::env::temp_dir().join(format!("picket-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("picket.service");
    std::fs::write(
        &path,
        unit.replace("/usr/sbin/picket", env!("CARGO_BIN_EXE_picket")),
    )
    .unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    println!("systemd-analyze verify: {}", text(&o));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o).trim(), "", "warnings");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `board/init/picket.sysv ARG` with this build and `dir`'s files.
fn sysv(dir: &Path, conf: &Path, arg: &str) -> Output {
    Command::new(root().join("board/init/picket.sysv"))
        .arg(arg)
        .env("PICKET", env!("CARGO_BIN_EXE_picket"))
        .env("CONF", conf)
        .env("PIDFILE", dir.join("picket.pid"))
        .env("PICKET_OPTS", "-l")
        .output()
        .unwrap()
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

fn served_reloads(sock: &Path) -> Option<u64> {
    let o = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["status", "--json", "-S"])
        .arg(sock)
        .output()
        .ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
    let r = &doc["picket"]["reloads"];
    Some(r["applied"].as_u64()? + r["refused"].as_u64()?)
}

#[test]
fn the_sysv_script_starts_reloads_and_stops_picket() {
    if !ready(&["start-stop-daemon"]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("picket-sysv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("status.sock");
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n router_id sysv\n status_socket {}\n}}\n",
            sock.display()
        ),
    )
    .unwrap();
    let pid_file = dir.join("picket.pid");

    let o = sysv(&dir, &conf, "start");
    assert!(o.status.success(), "{}", text(&o));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let alive = |pid: i32| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    assert!(alive(pid));
    let o = sysv(&dir, &conf, "start");
    assert!(o.status.success());
    assert!(text(&o).contains("already running"), "{}", text(&o));

    assert!(wait_until(Duration::from_secs(5), || sock.exists()));
    let o = sysv(&dir, &conf, "status");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("picket running (pid {pid})")),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("router_id sysv"), "{}", text(&o));

    let before = served_reloads(&sock).unwrap();
    let o = sysv(&dir, &conf, "reload");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        wait_until(Duration::from_secs(5), || served_reloads(&sock)
            == Some(before + 1)),
        "SIGHUP not seen: {:?}",
        served_reloads(&sock)
    );
    assert!(alive(pid));

    let o = sysv(&dir, &conf, "stop");
    assert!(o.status.success(), "{}", text(&o));
    assert!(wait_until(Duration::from_secs(5), || !alive(pid)));
    assert!(!pid_file.exists(), "pid file left behind");
    let o = sysv(&dir, &conf, "status");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // A configuration with errors is not started.
    std::fs::write(&conf, "vrrp_instance X {\n prority 100\n}\n").unwrap();
    let o = sysv(&dir, &conf, "start");
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("has errors, not started"), "{}", text(&o));
    assert!(!pid_file.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
