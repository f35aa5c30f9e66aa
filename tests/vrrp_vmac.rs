//! `use_vmac` against Debian's keepalived 2.2.7 in network namespaces:
//! picket (150) and keepalived (100), both with `use_vmac`, on one bridge
//! watched by tcpdump.
//!
//! - picket, master, created `vrrp.<VRID>`: a macvlan in private mode over
//!   `eth0` carrying 00:00:5e:00:01:VRID, up, with the VIP on it (not on
//!   `eth0`); its adverts and gratuitous ARPs leave with the virtual MAC as
//!   Ethernet source; the client's ARP entry for the VIP is the virtual MAC;
//! - picket stops: its VMAC is deleted and `eth0`'s ARP sysctls restored;
//!   keepalived takes over on its own VMAC: the VIP answers ARP with the
//!   same MAC (the point of a VMAC: no ARP change on failover);
//! - picket comes back, recreates its VMAC and preempts; the client's entry
//!   is the virtual MAC again;
//! - with `vmac_xmit_base` (picket alone): adverts leave from `eth0`'s MAC,
//!   the VIP and its gratuitous ARPs stay on the VMAC.
//!
//! Needs root, iproute2, tcpdump, tshark, ping and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_vmac -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::time::Duration;

use lab::{Capture, Daemon, Lab, VIP, has_address, run, run_in, wait_until};

const VRID: u8 = 56;
const VMAC: [u8; 6] = [0, 0, 0x5e, 0, 1, VRID];

fn now_us() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(t.as_micros()).unwrap()
}

fn vmac_name() -> String {
    format!("vrrp.{VRID}")
}

fn mac_text(m: [u8; 6]) -> String {
    m.map(|b| format!("{b:02x}")).join(":")
}

fn conf(priority: u8) -> String {
    conf_with(priority, "")
}

fn conf_with(priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    use_vmac
{extra}    virtual_router_id {VRID}
    priority {priority}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// `ip -d -o link show NAME` in `ns` (`None`: no such link).
fn link(ns: &str, name: &str) -> Option<String> {
    run("ip", &["-n", ns, "-d", "-o", "link", "show", name]).ok()
}

fn sysctl(ns: &str, key: &str) -> String {
    run_in(ns, "cat", &[&format!("/proc/sys/net/ipv4/conf/eth0/{key}")])
        .unwrap()
        .trim()
        .to_owned()
}

/// The MAC of the client's ARP entry for the VIP once a ping gets through.
/// The ping is retried for 3 s: right after a takeover the bridge may still
/// forward the virtual MAC to the old master's port until the new master's
/// first frame teaches it otherwise, and one lost ping says nothing of ARP.
fn client_arp(lab: &Lab) -> Option<String> {
    wait_until(Duration::from_secs(3), || lab.client_pings(VIP)).then_some(())?;
    let out = run_in(&lab.client.ns, "ip", &["neigh", "show", &VIP.to_string()]).ok()?;
    out.split_whitespace()
        .skip_while(|w| *w != "lladdr")
        .nth(1)
        .map(str::to_owned)
}

/// Whether `ns` holds the VIP on its VMAC (which may not exist yet).
fn vip_on_vmac(ns: &str) -> bool {
    link(ns, &vmac_name()).is_some() && has_address(ns, &vmac_name(), VIP)
}

fn master_on_vmac(ns: &str, other: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        vip_on_vmac(ns) && !has_address(ns, "eth0", VIP) && !vip_on_vmac(other)
    })
}

#[test]
fn the_vip_lives_on_the_virtual_mac_and_failover_keeps_it() {
    if !lab::ready(&["ping", lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("vm");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let arp = |ns: &str| ["arp_ignore", "arp_filter", "arp_announce"].map(|k| sysctl(ns, k));
    let before = arp(&p.ns);
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100));
    let mut picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(
        master_on_vmac(&p.ns, &k.ns),
        "picket is not master on its VMAC:\n{:?}\n{}",
        link(&p.ns, &vmac_name()),
        picket.log_text()
    );
    let l = link(&p.ns, &vmac_name()).unwrap();
    println!("picket's VMAC: {l}");
    assert!(l.contains("@eth0"), "over eth0: {l}");
    assert!(l.contains(&format!("link/ether {}", mac_text(VMAC))), "{l}");
    assert!(l.contains("macvlan mode private"), "{l}");
    assert!(l.contains(",UP"), "up: {l}");
    assert_eq!(
        arp(&p.ns),
        ["1", "1", "2"],
        "eth0's ARP sysctls while the VMAC runs"
    );
    assert_eq!(
        client_arp(&lab).as_deref(),
        Some(mac_text(VMAC).as_str()),
        "the client's ARP entry for the VIP"
    );
    let ads: Vec<_> = cap
        .adverts()
        .into_iter()
        .filter(|a| a.src == p.addr && a.vrid == VRID)
        .collect();
    assert!(!ads.is_empty(), "no adverts of picket");
    assert!(
        ads.iter().all(|a| a.src_mac == VMAC),
        "picket's adverts leave from the VMAC: {:?}",
        ads.iter().map(|a| mac_text(a.src_mac)).collect::<Vec<_>>()
    );
    let garps: Vec<_> = lab::capture::arps(&cap.frames())
        .into_iter()
        .filter(|a| a.is_gratuitous() && a.sender_ip == VIP)
        .collect();
    assert!(
        !garps.is_empty()
            && garps
                .iter()
                .all(|a| a.src_mac == VMAC && a.sender_mac == VMAC),
        "gratuitous ARPs carry the VMAC: {garps:?}"
    );

    // Failover: picket stops, deletes its VMAC, restores eth0's sysctls.
    let status = picket.stop();
    assert!(status.success(), "{status:?}\n{}", picket.log_text());
    assert!(
        link(&p.ns, &vmac_name()).is_none(),
        "the VMAC outlived picket"
    );
    assert_eq!(arp(&p.ns), before, "eth0's ARP sysctls restored");
    assert!(
        wait_until(Duration::from_secs(5), || vip_on_vmac(&k.ns)),
        "keepalived did not take over on its VMAC"
    );
    // keepalived leaves eth0's arp_announce alone: its parent's ARP
    // requests carry the VIP, so the client's entry may flip to keepalived's
    // eth0 after a ping (see sys::vmac). Judged: the VIP answers at the
    // virtual MAC first.
    let flushed_us = now_us();
    run_in(&lab.client.ns, "ip", &["neigh", "flush", "all"]).unwrap();
    assert!(lab.client_pings(VIP), "the client cannot reach the VIP");
    let replies: Vec<_> = lab::capture::arps(&cap.frames())
        .into_iter()
        .filter(|a| a.ts_us > flushed_us && a.op == 2 && a.sender_ip == VIP)
        .collect();
    assert!(
        !replies.is_empty() && replies.iter().all(|a| a.sender_mac == VMAC),
        "after failover the VIP answers ARP with the same MAC: {replies:?}"
    );

    // Back: picket recreates its VMAC and preempts.
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(
        master_on_vmac(&p.ns, &k.ns),
        "picket did not preempt on its VMAC:\n{}",
        picket.log_text()
    );
    assert_eq!(client_arp(&lab).as_deref(), Some(mac_text(VMAC).as_str()));
    cap.stop();
    println!(
        "use_vmac: VIP on {} ({}), adverts and GARPs from it, client ARP {}; failover to \
         keepalived and back: ARP answered with the same MAC",
        vmac_name(),
        mac_text(VMAC),
        mac_text(VMAC)
    );
    drop((picket, keepalived));
}

#[test]
fn vmac_xmit_base_sends_adverts_from_the_parent() {
    if !lab::ready(&["ping"]) {
        return;
    }
    let lab = Lab::with_routers("vx", 1);
    let p = lab.router(1).clone();
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf_with(150, "    vmac_xmit_base\n"));
    assert!(
        wait_until(Duration::from_secs(5), || vip_on_vmac(&p.ns)),
        "{}",
        picket.log_text()
    );
    assert_eq!(client_arp(&lab).as_deref(), Some(mac_text(VMAC).as_str()));
    let eth0 = lab::mac_of(&p.ns, "eth0");
    let frames = cap.stop();
    let ads = lab::capture::adverts(&frames);
    assert!(
        !ads.is_empty() && ads.iter().all(|a| a.src_mac == eth0),
        "adverts from eth0's MAC {}: {:?}",
        mac_text(eth0),
        ads.iter().map(|a| mac_text(a.src_mac)).collect::<Vec<_>>()
    );
    let garps: Vec<_> = lab::capture::arps(&frames)
        .into_iter()
        .filter(|a| a.is_gratuitous() && a.sender_ip == VIP)
        .collect();
    assert!(
        !garps.is_empty() && garps.iter().all(|a| a.sender_mac == VMAC),
        "{garps:?}"
    );
    println!(
        "vmac_xmit_base: {} adverts from eth0 ({}), GARPs and ARP from the VMAC",
        ads.len(),
        mac_text(eth0)
    );
    drop(picket);
}
