//! `virtual_routes` against Debian's keepalived 2.2.7 in network namespaces:
//! picket (150) and keepalived (100) carry the same routes — a gateway route
//! through the client, a blackhole, and an IPv6 prefix on the link with a
//! metric. The routes are in `ip route` of the master only: picket's while
//! it is master, keepalived's once picket stops (picket removes them at
//! shutdown), picket's again when it comes back and preempts.
//!
//! Needs root, iproute2, tcpdump, tshark and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_routes -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::time::Duration;

use lab::{CLIENT_ADDR, Daemon, Lab, VIP, has_address, run, wait_until};

const VRID: u8 = 55;

fn conf(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority {priority}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
    virtual_routes {{
        192.168.77.0/24 via {CLIENT_ADDR} dev eth0
        blackhole 192.168.78.0/24
        2001:db8:77::/48 dev eth0 metric 7
    }}
}}
"
    )
}

/// The routes of `ns` that the test configured, as `ip route` prints them.
fn routes(ns: &str) -> Vec<String> {
    let mut v: Vec<String> = ["-4", "-6"]
        .iter()
        .flat_map(|fam| {
            run("ip", &["-n", ns, fam, "route", "show"])
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|l| {
            l.contains("192.168.77.") || l.contains("192.168.78.") || l.contains("2001:db8:77")
        })
        .collect();
    v.sort();
    v
}

/// Whether `ns` holds all three routes.
fn has_all(ns: &str) -> bool {
    let r = routes(ns);
    r.len() == 3
        && r.iter()
            .any(|l| l.starts_with("192.168.77.0/24 via 10.99.0.2 dev eth0"))
        && r.iter().any(|l| l.starts_with("blackhole 192.168.78.0/24"))
        && r.iter()
            .any(|l| l.starts_with("2001:db8:77::/48 dev eth0") && l.contains("metric 7"))
}

fn only_on(with: &str, without: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        has_all(with) && routes(without).is_empty() && has_address(with, "eth0", VIP)
    })
}

#[test]
fn virtual_routes_follow_mastership() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("rt");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100));
    let mut picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(
        only_on(&p.ns, &k.ns),
        "picket master with its routes, keepalived without: {:?} / {:?}\n{}",
        routes(&p.ns),
        routes(&k.ns),
        picket.log_text()
    );
    let on_picket = routes(&p.ns);
    println!("on picket (master): {on_picket:#?}");
    assert!(
        on_picket
            .iter()
            .all(|l| l.contains("proto keepalived") || l.contains("proto 18")),
        "picket's routes carry keepalived's protocol: {on_picket:?}"
    );

    let status = picket.stop();
    assert!(status.success(), "{status:?}\n{}", picket.log_text());
    assert!(
        routes(&p.ns).is_empty(),
        "picket left routes behind at shutdown: {:?}",
        routes(&p.ns)
    );
    assert!(
        only_on(&k.ns, &p.ns),
        "keepalived took the routes: {:?}",
        routes(&k.ns)
    );

    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(
        only_on(&p.ns, &k.ns),
        "picket preempted with its routes: {:?} / {:?}\n{}",
        routes(&p.ns),
        routes(&k.ns),
        picket.log_text()
    );
    let log = picket.log_text();
    assert!(!log.contains("cannot add route"), "{log}");
    println!("virtual_routes moved picket -> keepalived -> picket with mastership");
    drop((picket, keepalived));
}
