//! `vrrp_sync_group` run by picket, against Debian's keepalived, in network
//! namespaces: two LANs (bridge `br0` with each router's `eth0`, bridge
//! `br1` with each router's `eth1`), VI_1 on `eth0` and VI_2 on `eth1`, in
//! sync group G on both routers; picket at 150, keepalived at 100.
//!
//! - picket becomes master of both VIPs;
//! - picket's `eth1` goes down: VI_2 (tracking its own interface) goes
//!   FAULT and takes VI_1 to FAULT with it; keepalived takes both VIPs;
//! - the link comes back: picket takes both back;
//! - the group's generic `notify` sees `GROUP G MASTER 0`, `GROUP G FAULT
//!   0`, `GROUP G BACKUP 0`, `GROUP G MASTER 0` in that order.
//!
//! Needs root, iproute2, tcpdump and keepalived; otherwise `SKIPPED: why`
//! (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_sync -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use lab::{Daemon, Lab, VIP, has_address, run, wait_until};

/// VI_2's VIP, on the second LAN.
const VIP2: Ipv4Addr = Ipv4Addr::new(10, 98, 0, 100);

/// keepalived.conf of one router: VI_1 (VRID 61, eth0) and VI_2 (VRID 62,
/// eth1), VRRPv3 every 100 ms, in sync group G with a generic notify
/// script when given.
fn conf(priority: u8, notify: Option<&Path>) -> String {
    let notify = notify
        .map(|s| format!("    notify \"{}\"\n", s.display()))
        .unwrap_or_default();
    let inst = |n: u8, iface: &str, vip: Ipv4Addr| {
        format!(
            "vrrp_instance VI_{n} {{
    state BACKUP
    interface {iface}
    virtual_router_id {}
    priority {priority}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {vip}/24 dev {iface}
    }}
}}
",
            60 + n
        )
    };
    format!(
        "global_defs {{
    router_id lab-s{priority}
}}

vrrp_sync_group G {{
    group {{
        VI_1
        VI_2
    }}
{notify}}}

{}{}",
        inst(1, "eth0", VIP),
        inst(2, "eth1", VIP2)
    )
}

/// Adds bridge `br1` in the LAN namespace and an `eth1` on it in each
/// router, 10.98.0.(10 + i)/24.
fn second_lan(lab: &Lab) {
    let ip = |args: &[&str]| {
        run("ip", args).unwrap();
    };
    let lan = lab.lan.as_str();
    ip(&["-n", lan, "link", "add", "br1", "type", "bridge"]);
    ip(&[
        "-n",
        lan,
        "link",
        "set",
        "br1",
        "type",
        "bridge",
        "stp_state",
        "0",
        "forward_delay",
        "0",
        "mcast_snooping",
        "0",
    ]);
    ip(&["-n", lan, "link", "set", "br1", "up"]);
    for i in 1..=2usize {
        let node = lab.router(i);
        let port = format!("s{i}");
        ip(&[
            "-n", lan, "link", "add", &port, "type", "veth", "peer", "name", "eth1", "netns",
            &node.ns,
        ]);
        ip(&["-n", lan, "link", "set", &port, "master", "br1", "up"]);
        let cidr = format!("10.98.0.{}/24", 10 + i);
        ip(&["-n", &node.ns, "addr", "add", &cidr, "dev", "eth1"]);
        ip(&["-n", &node.ns, "link", "set", "eth1", "up"]);
    }
}

/// `ns` holds both VIPs and `other` neither.
fn holds_both(ns: &str, other: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        has_address(ns, "eth0", VIP)
            && has_address(ns, "eth1", VIP2)
            && !has_address(other, "eth0", VIP)
            && !has_address(other, "eth1", VIP2)
    })
}

#[test]
fn a_member_link_down_takes_the_whole_group_to_keepalived() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new("sg");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    second_lan(&lab);
    let out = lab.path("notified", "txt");
    let script = lab.path("notify", "sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> {}\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, None));
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150, Some(&script)));
    assert!(
        holds_both(&p.ns, &k.ns),
        "picket never became master of both:\n{}",
        picket.log_text()
    );

    run("ip", &["-n", &p.ns, "link", "set", "eth1", "down"]).unwrap();
    assert!(
        picket.wait_log("(VI_2) Entering FAULT STATE", Duration::from_secs(3)),
        "{}",
        picket.log_text()
    );
    assert!(
        picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(1)),
        "VI_1 did not follow VI_2 to FAULT:\n{}",
        picket.log_text()
    );
    assert!(
        holds_both(&k.ns, &p.ns),
        "keepalived did not take both VIPs:\n{}",
        picket.log_text()
    );

    run("ip", &["-n", &p.ns, "link", "set", "eth1", "up"]).unwrap();
    assert!(
        holds_both(&p.ns, &k.ns),
        "picket did not take both back:\n{}",
        picket.log_text()
    );
    let lines = || -> Vec<String> {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(3), || lines().len() >= 5),
        "{:?}\n{}",
        lines(),
        picket.log_text()
    );
    assert_eq!(
        lines(),
        [
            "GROUP G BACKUP 0",
            "GROUP G MASTER 0",
            "GROUP G FAULT 0",
            "GROUP G BACKUP 0",
            "GROUP G MASTER 0",
        ],
        "{}",
        picket.log_text()
    );
    println!(
        "sync group: {}",
        picket
            .log_text()
            .lines()
            .filter(|l| l.contains("VRRP_Group") || l.contains("Entering"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop((picket, keepalived));
}
