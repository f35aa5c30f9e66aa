//! Privileges after start-up: picket keeps exactly cap_kill, cap_setgid,
//! cap_setuid, cap_net_admin, cap_net_raw and cap_ipc_lock (permitted,
//! effective and bounding; inheritable and ambient empty), as
//! `/proc/<pid>/status` shows, and VRRP and scripts still work: the VIP is
//! added after the drop (cap_net_admin) and answers the client's ping, a
//! tracking script runs, a `notify_master` script runs and records its own
//! capabilities (a root script gets the bounding set).
//!
//! Three configurations, one picket each in turn:
//! - scripts, defaults: no `no_new_privs` (scripts may use setuid
//!   programs); the script has the kept set;
//! - `no_new_privs` and `script_capabilities CAP_CHOWN`: the bounding set
//!   gains cap_chown, picket itself does not, and under no_new_privs the
//!   script gets no more than picket has;
//! - `script_capabilities CAP_CHOWN` alone: root scripts get cap_chown;
//! - no script at all: `no_new_privs` is set by default.
//!
//! Needs root, iproute2, ping and tcpdump/tshark (the lab's tools);
//! otherwise `SKIPPED: why` (a failure under `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use std::os::unix::fs::PermissionsExt as _;

use lab::{Daemon, Lab, VIP, has_address, wait_until};

/// cap_kill(5) cap_setgid(6) cap_setuid(7) cap_net_admin(12)
/// cap_net_raw(13) cap_ipc_lock(14).
const KEPT: u64 = 0x70e0;
const CAP_CHOWN: u64 = 1;

/// `Cap*:` and `NoNewPrivs:` lines of a `/proc/PID/status` text.
fn caps(status: &str) -> BTreeMap<String, u64> {
    status
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let v = v.trim();
            match k {
                "CapInh" | "CapPrm" | "CapEff" | "CapBnd" | "CapAmb" => {
                    Some((k.to_owned(), u64::from_str_radix(v, 16).ok()?))
                }
                "NoNewPrivs" => Some((k.to_owned(), v.parse().ok()?)),
                _ => None,
            }
        })
        .collect()
}

fn want(eff: u64, bnd: u64, nnp: u64) -> BTreeMap<String, u64> {
    [
        ("CapInh", 0),
        ("CapPrm", eff),
        ("CapEff", eff),
        ("CapBnd", bnd),
        ("CapAmb", 0),
        ("NoNewPrivs", nnp),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn conf(globals: &str, scripts: Option<(&Path, &Path)>) -> String {
    let (script_block, track, notify) = match scripts {
        Some((caps_sh, out)) => (
            "vrrp_script chk {\n    script \"/bin/true\"\n    interval 0.2\n}\n".to_owned(),
            "    track_script {\n        chk\n    }\n".to_owned(),
            format!(
                "    notify_master \"{} {}\"\n",
                caps_sh.display(),
                out.display()
            ),
        ),
        None => Default::default(),
    };
    format!(
        "global_defs {{
    router_id lab-caps
{globals}}}

{script_block}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 71
    priority 150
    advert_int 0.1
    version 3
{track}{notify}    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// Runs picket on `text` in r1 until it is master; checks its own sets
/// against `own`, and (if a script ran) the script's against `script`.
fn run(
    lab: &Lab,
    text: &str,
    out: Option<&Path>,
    own: &BTreeMap<String, u64>,
    script: Option<&BTreeMap<String, u64>>,
) {
    let ns = lab.router(1).ns.clone();
    let mut r = Daemon::Picket.start(lab, &ns, text);
    assert!(
        wait_until(Duration::from_secs(10), || has_address(&ns, "eth0", VIP)),
        "no VIP after the drop:\n{}",
        r.log_text()
    );
    let pid = r.pid().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    println!("picket: {:?}", caps(&status));
    assert_eq!(&caps(&status), own, "{}", r.log_text());
    assert!(lab.client_pings(VIP), "the VIP does not answer");
    if let (Some(out), Some(script)) = (out, script) {
        assert!(
            wait_until(Duration::from_secs(5), || std::fs::read_to_string(out)
                .is_ok_and(|t| t.contains("NoNewPrivs"))),
            "notify_master never ran:\n{}",
            r.log_text()
        );
        let got = caps(&std::fs::read_to_string(out).unwrap());
        println!("notify_master script: {got:?}");
        assert_eq!(&got, script);
        // The tracking script (weight 0) ran: until its first success the
        // instance is held in FAULT, and it is master.
        assert!(
            r.log_text().contains("VRRP_Script(chk) succeeded"),
            "{}",
            r.log_text()
        );
    }
    let st = r.stop();
    assert!(st.success(), "{st:?}:\n{}", r.log_text());
    assert!(
        !has_address(&ns, "eth0", VIP),
        "VIP left behind: removal needs cap_net_admin"
    );
}

#[test]
fn picket_keeps_only_what_it_needs_and_still_works() {
    if !lab::ready(&["ping"]) {
        return;
    }
    let lab = Lab::new("cp");
    let caps_sh = lab.path("caps", "sh");
    std::fs::write(
        &caps_sh,
        "#!/bin/sh\ngrep -E '^(Cap|NoNewPrivs)' /proc/self/status > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&caps_sh, std::fs::Permissions::from_mode(0o755)).unwrap();

    // Scripts, defaults.
    let out = lab.path("caps-a", "txt");
    run(
        &lab,
        &conf("", Some((&caps_sh, &out))),
        Some(&out),
        &want(KEPT, KEPT, 0),
        Some(&want(KEPT, KEPT, 0)),
    );
    // no_new_privs, and one more capability for root scripts.
    let out = lab.path("caps-b", "txt");
    run(
        &lab,
        &conf(
            "    no_new_privs\n    script_capabilities CAP_CHOWN\n",
            Some((&caps_sh, &out)),
        ),
        Some(&out),
        &want(KEPT, KEPT | CAP_CHOWN, 1),
        Some(&want(KEPT, KEPT | CAP_CHOWN, 1)),
    );
    // The same capability without no_new_privs: root scripts get it.
    let out = lab.path("caps-c", "txt");
    run(
        &lab,
        &conf(
            "    script_capabilities CAP_CHOWN
",
            Some((&caps_sh, &out)),
        ),
        Some(&out),
        &want(KEPT, KEPT | CAP_CHOWN, 0),
        Some(&want(KEPT | CAP_CHOWN, KEPT | CAP_CHOWN, 0)),
    );
    // No script: no_new_privs by default.
    run(&lab, &conf("", None), None, &want(KEPT, KEPT, 1), None);
}

/// Under `enable_script_security` the configuration files must be owned by
/// root and writable by root only, as the scripts: a world-writable file
/// stops picket at start (exit 2) and is refused at a reload (the running
/// configuration stays), both saying why.
#[test]
fn unsafe_configuration_files_are_refused_under_script_security() {
    if !lab::ready(&[]) {
        return;
    }
    let lab = Lab::new("cs");
    let sock = lab.path("status", "sock");
    let conf_text = format!(
        "global_defs {{\n    enable_script_security\n    status_socket {}\n}}\n",
        sock.display()
    );
    let conf = lab.path("unsafe", "conf");
    std::fs::write(&conf, &conf_text).unwrap();
    let set_mode = |mode: u32| {
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let picket = env!("CARGO_BIN_EXE_picket");
    let run = |extra: &[&str]| {
        std::process::Command::new(picket)
            .args(["-n", "-l", "-f"])
            .arg(&conf)
            .args(extra)
            .output()
            .unwrap()
    };
    set_mode(0o666);
    let out = run(&["-p", lab.path("a", "pid").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("SECURITY VIOLATION - configuration file")
            && text.contains("is writable by everyone"),
        "{text}"
    );

    // Safe: it runs; made unsafe, a reload is refused.
    set_mode(0o644);
    let mut daemon = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf_text);
    let running = daemon.log.with_extension("conf");
    assert!(
        wait_until(Duration::from_secs(5), || sock.exists()),
        "{}",
        daemon.log_text()
    );
    std::fs::set_permissions(&running, std::fs::Permissions::from_mode(0o666)).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(daemon.pid().unwrap()).unwrap()),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    assert!(
        wait_until(
            Duration::from_secs(5),
            || lab::status::document(&sock)["picket"]["reloads"]["refused"] == 1
        ),
        "{}",
        daemon.log_text()
    );
    assert!(
        daemon
            .log_text()
            .contains("SECURITY VIOLATION - configuration file")
    );
    assert!(daemon.is_running());
    let st = daemon.stop();
    assert!(st.success());
}
