//! keepalived's dump files, written by picket where and as keepalived
//! writes them: picket (r1, priority 150) and Debian's keepalived 2.2.7
//! (r2, 100) run the same VRRP instance in network namespaces, each in its
//! own mount namespace with a small tmpfs on `/tmp`; both get SIGUSR1,
//! SIGUSR2 and the JSON signal (`--signum=JSON`, asked of each daemon), and
//! their files are compared:
//!
//! - `/tmp/keepalived.stats`: line for line the same layout (numbers aside);
//! - `/tmp/keepalived.json`: parsed by serde_json; every key keepalived
//!   writes in `data` is in picket's, with the same JSON type; the `stats`
//!   keys are the same; the values say who is master;
//! - `/tmp/keepalived.data`: the lines a monitoring script greps (`VRRP
//!   Instance = VI_1`, `State = MASTER|BACKUP`, `Virtual Router ID`,
//!   `Priority`, `Effective priority`, the VIP line) are in both, and every
//!   `Key = value` picket writes in an instance block is one keepalived
//!   writes there too.
//!
//! Then picket's tmpfs is filled: SIGUSR1 is a logged, counted error,
//! picket runs on as master; once there is room again the dump is written.
//! `picket --signum` answers as `keepalived --signum` for every name.
//!
//! Needs root, iproute2, tcpdump/tshark (the lab's tools), keepalived,
//! unshare and nsenter; otherwise `SKIPPED: why` (a failure under `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lab::status::document;
use lab::{Lab, Proc, VIP, has_address, wait_until};
use nix::sys::signal::Signal;
use serde_json::Value;

const KEEPALIVED: &str = lab::daemon::KEEPALIVED;

fn conf(priority: u8, extra: &str) -> String {
    format!(
        "global_defs {{
    router_id lab-d{priority}
{extra}}}

vrrp_script chk {{
    script \"/bin/true\"
    interval 1
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    track_script {{
        chk
    }}
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
    )
}

/// Starts `program args` in namespace `ns` with its own mount namespace
/// and a 64 KiB tmpfs on `/tmp`; output to `log`. The returned process is
/// the daemon itself (`ip netns exec`, `unshare` and `sh` each exec the
/// next).
fn start_private_tmp(ns: &str, program: &str, args: &[&str], log: &Path) -> Proc {
    let mut all = vec![
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t tmpfs -o size=64k,mode=1777 tmpfs /tmp && exec \"$@\"",
        "sh",
        program,
    ];
    all.extend_from_slice(args);
    lab::spawn_in_logged(ns, "unshare", &all, log)
}

/// A file of `pid`'s mount namespace (its `/tmp`), if it exists.
fn read_in(pid: u32, path: &str) -> Option<String> {
    lab::run("nsenter", &["-t", &pid.to_string(), "-m", "cat", path]).ok()
}

/// Runs `sh -c script` in `pid`'s mount namespace.
fn sh_in(pid: u32, script: &str) -> Result<String, String> {
    lab::run(
        "nsenter",
        &["-t", &pid.to_string(), "-m", "sh", "-c", script],
    )
}

fn send(pid: u32, sig: i32) {
    // SAFETY: kill(2) with integer arguments.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(r, 0, "kill -{sig} {pid}");
}

/// `--signum=NAME` of `program`: (exit code, stdout, stderr).
fn signum(program: &str, name: &str) -> (i32, String, String) {
    let out = std::process::Command::new(program)
        .arg(format!("--signum={name}"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The lines of the block of `VRRP Instance = name` in a `.data` dump.
fn instance_block<'a>(data: &'a str, name: &str) -> Vec<&'a str> {
    data.lines()
        .skip_while(|l| l.trim() != format!("VRRP Instance = {name}"))
        .skip(1)
        .take_while(|l| l.starts_with("   "))
        .collect()
}

/// The `Key` of every `   Key = value` line.
fn keys<'a>(block: &[&'a str]) -> BTreeSet<&'a str> {
    block
        .iter()
        .filter(|l| l.starts_with("   ") && !l.starts_with("    "))
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
        .collect()
}

/// Lines with every number replaced by `N`.
fn skeleton(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let mut out = String::new();
            let mut in_num = false;
            for c in l.chars() {
                if c.is_ascii_digit() {
                    if !in_num {
                        out.push('N');
                    }
                    in_num = true;
                } else {
                    in_num = false;
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[test]
fn dumps_are_where_and_what_keepalived_writes() {
    if !lab::ready(&[KEEPALIVED, "unshare", "nsenter"]) {
        return;
    }
    let picket = env!("CARGO_BIN_EXE_picket");
    for name in [
        "STOP",
        "RELOAD",
        "DATA",
        "STATS",
        "STATS_CLEAR",
        "JSON",
        "TDUMP",
        "json",
    ] {
        let (kc, ko, ke) = signum(KEEPALIVED, name);
        let (pc, po, pe) = signum(picket, name);
        assert_eq!((pc, &po), (kc, &ko), "--signum={name}: {pe}");
        assert_eq!(
            ke.trim().is_empty(),
            pe.trim().is_empty(),
            "{name}: {ke} / {pe}"
        );
    }
    let json_sig: i32 = signum(KEEPALIVED, "JSON").1.trim().parse().unwrap();

    let lab = Lab::new("dm");
    // Outside /tmp: each daemon mounts its own /tmp.
    let dir = PathBuf::from(format!("/var/tmp/picket-{}", lab.name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Removed however the test ends.
    struct RemoveDir(PathBuf);
    impl Drop for RemoveDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _remove = RemoveDir(dir.clone());
    // The binary is run from a copy outside /tmp too: a checkout under /tmp
    // would be hidden by the private /tmp.
    let picket_copy = dir.join("picket");
    std::fs::copy(picket, &picket_copy).unwrap();
    let picket = picket_copy.to_str().unwrap();
    let sock = dir.join("status.sock");
    let p_conf = dir.join("p.conf");
    std::fs::write(
        &p_conf,
        conf(150, &format!("    status_socket {}\n", sock.display())),
    )
    .unwrap();
    let k_conf = dir.join("k.conf");
    std::fs::write(&k_conf, conf(100, "")).unwrap();
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let p_log = dir.join("p.log");
    let mut p = start_private_tmp(
        &lab.router(1).ns,
        picket,
        &["-n", "-l", "-f", &s(&p_conf), "-p", &s(&dir.join("p.pid"))],
        &p_log,
    );
    let mut k = start_private_tmp(
        &lab.router(2).ns,
        KEEPALIVED,
        &[
            "-n",
            "-l",
            "-D",
            "-G",
            "-P",
            "-f",
            &s(&k_conf),
            "-p",
            &s(&dir.join("k.pid")),
            "-r",
            &s(&dir.join("kv.pid")),
        ],
        &dir.join("k.log"),
    );
    let log = || std::fs::read_to_string(&p_log).unwrap_or_default();
    let (ns1, ns2) = (lab.router(1).ns.clone(), lab.router(2).ns.clone());
    assert!(
        wait_until(Duration::from_secs(15), || has_address(&ns1, "eth0", VIP)
            && !has_address(&ns2, "eth0", VIP)
            && std::fs::read_to_string(dir.join("kv.pid")).is_ok()),
        "picket never became master:\n{}",
        log()
    );
    // A few adverts and script runs.
    std::thread::sleep(Duration::from_secs(3));
    for sig in [libc::SIGUSR1, libc::SIGUSR2, json_sig] {
        send(p.pid(), sig);
        send(k.pid(), sig);
    }
    let files = [
        "/tmp/keepalived.data",
        "/tmp/keepalived.stats",
        "/tmp/keepalived.json",
    ];
    let mut got = Vec::new();
    for (who, pid) in [("picket", p.pid()), ("keepalived", k.pid())] {
        assert!(
            wait_until(Duration::from_secs(5), || files
                .iter()
                .all(|f| read_in(pid, f).is_some())),
            "{who} did not write {files:?}: {:?}",
            sh_in(pid, "ls -la /tmp")
        );
        // Whole files (picket renames a finished file into place;
        // keepalived writes in place: give it a moment).
        std::thread::sleep(Duration::from_millis(300));
        got.push(files.map(|f| read_in(pid, f).unwrap()));
    }
    let [p_data, p_stats, p_json] = &got[0];
    let [k_data, k_stats, k_json] = &got[1];
    println!("== picket keepalived.data\n{p_data}\n== keepalived's\n{k_data}");
    println!("== picket keepalived.stats\n{p_stats}\n== picket keepalived.json\n{p_json}");

    // .stats: the same layout, line for line.
    assert_eq!(skeleton(p_stats), skeleton(k_stats));
    assert!(p_stats.contains("VRRP Instance: VI_1"));

    // .json: keepalived's keys and types, picket's values.
    let pj: Value = serde_json::from_str(p_json).unwrap();
    let kj: Value = serde_json::from_str(k_json).unwrap();
    let (pd, kd) = (&pj[0]["data"], &kj[0]["data"]);
    for (key, value) in kd.as_object().unwrap() {
        assert_eq!(
            kind(&pd[key]),
            kind(value),
            "data.{key}: picket {} keepalived {value}",
            pd[key]
        );
    }
    let stat_keys =
        |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(stat_keys(&pj[0]["stats"]), stat_keys(&kj[0]["stats"]));
    assert_eq!(pd["iname"], "VI_1");
    assert_eq!(
        (&pd["vrid"], &kd["vrid"]),
        (&Value::from(61), &Value::from(61))
    );
    assert_eq!(
        (&pd["state"], &kd["state"]),
        (&Value::from(2), &Value::from(1))
    );
    assert_eq!(pd["base_priority"], 150);
    assert_eq!(pd["vipset"], true);
    assert_eq!(kd["master_priority"], 150, "keepalived heard picket");
    assert!(pj[0]["stats"]["advert_sent"].as_u64().unwrap() >= 3);
    assert_eq!(pd["vips"][0], format!("{VIP}/24 dev eth0 scope global set"));
    assert_eq!(kd["vips"][0], format!("{VIP}/24 dev eth0 scope global"));

    // .data: what scripts grep, in both; picket's keys are keepalived's.
    let (pb, kb) = (
        instance_block(p_data, "VI_1"),
        instance_block(k_data, "VI_1"),
    );
    for (block, state, prio) in [(&pb, "MASTER", 150), (&kb, "BACKUP", 100)] {
        for want in [
            format!("   State = {state}"),
            "   Virtual Router ID = 61".to_owned(),
            format!("   Priority = {prio}"),
            format!("   Effective priority = {prio}"),
            "   Virtual IP (1):".to_owned(),
        ] {
            assert!(
                block.contains(&want.as_str()),
                "{want:?} missing in {block:#?}"
            );
        }
        assert!(
            block
                .iter()
                .any(|l| l.starts_with(&format!("     {VIP}/24 dev eth0 scope global")))
        );
    }
    let extra: Vec<_> = keys(&pb).difference(&keys(&kb)).copied().collect();
    assert!(
        extra.is_empty(),
        "picket writes keys keepalived does not: {extra:?}"
    );
    assert!(p_data.contains("------< VRRP Topology >------"));
    assert!(p_data.contains(" VRRP Script = chk"));

    // A full /tmp: the dump fails, is logged and counted; VRRP runs on.
    let pid = p.pid();
    sh_in(
        pid,
        "rm -f /tmp/keepalived.*; dd if=/dev/zero of=/tmp/fill bs=1k count=128 2>/dev/null; true",
    )
    .unwrap();
    send(pid, libc::SIGUSR1);
    assert!(
        wait_until(Duration::from_secs(5), || log()
            .contains("cannot write dump /tmp/keepalived.data")),
        "{}",
        log()
    );
    assert!(p.is_running());
    let doc = document(&sock);
    assert_eq!(doc["counters"]["dump_errors"], 1);
    assert_eq!(doc["vrrp"]["instances"][0]["state"], "MASTER");
    assert_eq!(read_in(pid, "/tmp/keepalived.data"), None);
    assert_eq!(
        sh_in(pid, "ls /tmp").unwrap().trim(),
        "fill",
        "no temp file left"
    );
    let sent = doc["vrrp"]["instances"][0]["stats"]["adverts_sent"]
        .as_u64()
        .unwrap();
    assert!(wait_until(Duration::from_secs(3), || {
        document(&sock)["vrrp"]["instances"][0]["stats"]["adverts_sent"]
            .as_u64()
            .unwrap()
            > sent + 1
    }));
    // Room again: the next dump is written.
    sh_in(pid, "rm /tmp/fill").unwrap();
    send(pid, libc::SIGUSR1);
    assert!(wait_until(Duration::from_secs(5), || read_in(
        pid,
        "/tmp/keepalived.data"
    )
    .is_some_and(|d| d.contains("State = MASTER"))));
    println!(
        "full /tmp: {}",
        log()
            .lines()
            .find(|l| l.contains("cannot write dump"))
            .unwrap_or("")
    );

    k.signal(Signal::SIGTERM);
    p.signal(Signal::SIGTERM);
    assert!(
        p.wait_timeout(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    let _ = k.wait_timeout(Duration::from_secs(10));
}
