//! The status socket against the live state: two pickets in network
//! namespaces on one bridge, each with two instances — VI_1 multicast
//! (r1 150, r2 100) and VI_2 unicast (r1 100, r2 150) — so each router is
//! master of one and backup of the other. Each router's document, read
//! straight from the socket and through `picket status --json`, is parsed by
//! serde_json and must say what the kernel and the other router show: who
//! is master, whose addresses are held (and are on the interface), the
//! master's address and priority as the backup last heard it, recent
//! adverts; the socket is mode 0600; `picket status` prints the same as a
//! table.
//!
//! Needs root, iproute2 and tcpdump/tshark (the lab's tools); otherwise
//! `SKIPPED: why` (a failure under `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use lab::status::{document, instance};
use lab::{Daemon, Lab, has_address, router_addr, wait_until};
use serde_json::Value;

const VIP1: &str = "10.99.0.100";
const VIP2: &str = "10.99.0.101";

fn conf(me: usize, socket: &Path) -> String {
    let other = router_addr(3 - me);
    let (p1, p2) = if me == 1 { (150, 100) } else { (100, 150) };
    format!(
        "global_defs {{
    router_id lab-r{me}
    status_socket {}
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {p1}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP1}/24
    }}
}}

vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52
    priority {p2}
    advert_int 0.1
    version 3
    unicast_src_ip {}
    unicast_peer {{
        {other}
    }}
    virtual_ipaddress {{
        {VIP2}/24
    }}
}}
",
        socket.display(),
        router_addr(me)
    )
}

/// Checks one router's document against the live state: it is master of
/// `master` and backup of `backup`, whose master is `peer` at `peer_prio`.
fn check(doc: &Value, ns: &str, me: usize, master: (&str, &str), backup: &str, peer_prio: u64) {
    let now = doc["picket"]["now"].as_f64().unwrap();
    let m = instance(doc, master.0);
    assert_eq!(m["state"], "MASTER", "{m}");
    assert_eq!(m["master"]["self"], true);
    assert_eq!(m["master"]["address"], router_addr(me).to_string());
    assert_eq!(m["addresses"][0]["address"], master.1);
    assert_eq!(m["addresses"][0]["held"], true);
    assert!(has_address(ns, "eth0", master.1.parse().unwrap()));
    assert!(m["since"].as_f64().unwrap() <= now);
    assert!(m["transitions"]["to_master"].as_u64().unwrap() >= 1);
    assert!(m["stats"]["adverts_sent"].as_u64().unwrap() >= 8, "{m}");
    let b = instance(doc, backup);
    assert_eq!(b["state"], "BACKUP", "{b}");
    assert_eq!(b["addresses"][0]["held"], false);
    assert!(!has_address(
        ns,
        "eth0",
        b["addresses"][0]["address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    ));
    assert_eq!(b["master"]["self"], false);
    assert_eq!(b["master"]["address"], router_addr(3 - me).to_string());
    assert_eq!(b["master"]["priority"], peer_prio);
    // Adverts every 100 ms: the last one is recent.
    let heard = b["master"]["last_advert"].as_f64().unwrap();
    assert!(now - heard < 1.0, "last advert {heard}, now {now}");
    assert!(b["rx"]["accepted"].as_u64().unwrap() >= 8, "{b}");
    assert_eq!(b["rx"]["bad_ttl"], 0);
    // What the backup heard from the master, per source.
    let peer = b["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["address"] == router_addr(3 - me).to_string())
        .unwrap_or_else(|| panic!("the master is not among the sources: {b}"));
    assert_eq!(peer["last_priority"], peer_prio);
    assert!(peer["counts"]["accepted"].as_u64().unwrap() >= 8, "{peer}");
    assert!(now - peer["last_heard"].as_f64().unwrap() < 1.0, "{peer}");
}

#[test]
fn the_status_document_matches_the_live_state() {
    if !lab::ready(&[]) {
        return;
    }
    let lab = Lab::new("st");
    let sock1 = lab.path("r1", "sock");
    let sock2 = lab.path("r2", "sock");
    let r1 = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf(1, &sock1));
    let r2 = Daemon::Picket.start(&lab, &lab.router(2).ns, &conf(2, &sock2));
    let (ns1, ns2) = (lab.router(1).ns.clone(), lab.router(2).ns.clone());
    assert!(
        wait_until(Duration::from_secs(10), || {
            has_address(&ns1, "eth0", VIP1.parse().unwrap())
                && has_address(&ns2, "eth0", VIP2.parse().unwrap())
                && !has_address(&ns1, "eth0", VIP2.parse().unwrap())
                && !has_address(&ns2, "eth0", VIP1.parse().unwrap())
        }),
        "no stable masters:\n{}\n{}",
        r1.log_text(),
        r2.log_text()
    );
    // Let a few adverts through after the elections.
    std::thread::sleep(Duration::from_secs(1));

    for sock in [&sock1, &sock2] {
        let mode = std::fs::metadata(sock).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", sock.display());
    }
    let d1 = document(&sock1);
    let d2 = document(&sock2);
    check(&d1, &ns1, 1, ("VI_1", VIP1), "VI_2", 150);
    check(&d2, &ns2, 2, ("VI_2", VIP2), "VI_1", 150);
    assert_eq!(d1["picket"]["pid"], r1.pid().unwrap());
    assert_eq!(d1["picket"]["router_id"], "lab-r1");
    assert_eq!(instance(&d1, "VI_2")["mode"], "unicast");
    assert_eq!(
        instance(&d1, "VI_2")["peers"][0]["address"],
        router_addr(2).to_string()
    );
    assert_eq!(instance(&d1, "VI_1")["group"], "224.0.0.18");
    // The watchdog's section (the generic board arms none).
    assert_eq!(
        d1["watchdog"][0]["device"],
        Value::Null,
        "{}",
        d1["watchdog"]
    );
    assert_eq!(d1["watchdog"][0]["safe_mode"], false);

    // `picket status`: the same through the command, as JSON and as tables.
    let bin = env!("CARGO_BIN_EXE_picket");
    let out = lab::run(bin, &["status", "--json", "-S", sock1.to_str().unwrap()]).unwrap();
    let via_cli: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(instance(&via_cli, "VI_1")["state"], "MASTER");
    assert!(via_cli["counters"]["status_served"].as_u64().unwrap() >= 1);
    let table = lab::run(bin, &["status", "-S", sock2.to_str().unwrap()]).unwrap();
    println!("{table}");
    let row = |name: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let vi1 = row("VI_1");
    assert_eq!(&vi1[1], "BACKUP");
    assert!(vi1.contains(&router_addr(1).to_string()), "{vi1:?}");
    assert!(vi1.contains(&"(150)".to_owned()), "{vi1:?}");
    let vi2 = row("VI_2");
    assert_eq!(&vi2[1], "MASTER");
    assert!(vi2.contains(&"self".to_owned()));
    assert!(vi2.contains(&format!("{VIP2}/24")));
    // An unreachable socket is a clear error.
    let missing = lab.path("none", "sock");
    let err = lab::run(bin, &["status", "-S", missing.to_str().unwrap()]).unwrap_err();
    assert!(err.contains("is picket running?"), "{err}");
    drop((r1, r2));
}
