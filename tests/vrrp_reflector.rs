//! The netlink reflector, in network namespaces on one bridge watched by
//! tcpdump, picket (150) against Debian's keepalived 2.2.7 (100), VRRPv3
//! every 100 ms:
//!
//! - the VIP deleted by hand (`ip addr del`) on the picket master: picket
//!   adds it again within one advert interval (both stamped by
//!   `ip -ts monitor address` in its namespace), sends gratuitous ARPs for
//!   it, stays MASTER (keepalived never takes over) and the client still
//!   reaches the VIP;
//! - picket's interface deleted (its veth, from the bridge's side) and
//!   created again with the same name, a new index and MAC: picket logs the
//!   loss and goes FAULT, keepalived takes over; once the veth is back with
//!   its address picket reopens its sockets there, preempts, holds the VIP
//!   again, adverts resume on the capture from the new MAC and the client's
//!   ARP entry follows;
//! - an IPv6 instance started while its interface's link-local address is
//!   still tentative (duplicate address detection on, two probes): picket
//!   starts, says why it waits in FAULT, and runs once the address is valid
//!   — no advert leaves before (`ip -ts monitor address` and the capture
//!   agree), and it is master one Master_Down_Interval later;
//! - `use_vmac` (picket alone): the VMAC deleted by hand is created again;
//!   its parent deleted and created again gets a new VMAC (virtual MAC,
//!   sysctls), picket is master on it, the client's ARP entry the virtual
//!   MAC;
//! - the monitor socket overrun (picket stopped while 8,000 notifications
//!   pile up, its VIP deleted among them): on `SIGCONT` it reads `ENOBUFS`,
//!   re-reads links and addresses, and restores the VIP.
//!
//! Needs root, iproute2, tcpdump, tshark, ping and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_reflector -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::Ipv6Addr;
use std::time::Duration;

use lab::capture6::adverts6;
use lab::{
    Capture, Daemon, Lab, VIP, VIP6, has_address, has_address6, mac_of, monitor_us, neighbour_mac,
    now_us, run, spawn_monitor, wait_until,
};

const VRID: u8 = 59;
/// The advert interval, µs.
const ADVERT_US: u64 = 100_000;

/// keepalived.conf of one IPv4 router: VRRPv3 every 100 ms, the VIP on
/// eth0.
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
}}
"
    )
}

/// The same, IPv6.
fn conf6(priority: u8) -> String {
    conf(priority).replace(&format!("{VIP}/24"), &format!("{VIP6}/64"))
}

/// Master_Down_Interval of a v3 backup at `priority` with 100 ms adverts, µs.
fn master_down_us(priority: u8) -> u64 {
    3 * ADVERT_US + (256 - u64::from(priority)) * ADVERT_US / 256
}

fn sole_master(a: &str, b: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        has_address(a, "eth0", VIP) && !has_address(b, "eth0", VIP)
    })
}

fn mac_text(m: [u8; 6]) -> String {
    m.map(|b| format!("{b:02x}")).join(":")
}

#[test]
fn a_vip_deleted_by_hand_on_the_master_is_restored_within_an_advert_interval() {
    if !lab::ready(&["ping", lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("rv");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let p_mac = mac_of(&p.ns, "eth0");
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100));
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());
    assert!(lab.client_pings(VIP), "the client cannot reach the VIP");

    let log = lab.path("monitor", "log");
    let mut monitor = spawn_monitor(&p.ns, &["address"], &log);
    std::thread::sleep(Duration::from_millis(300));
    // keepalived, started first, may have been master for a moment before
    // picket's first advert on a loaded machine: only later takeovers count.
    let masters = |t: &str| t.matches("Entering MASTER STATE").count();
    let k_masters = masters(&keepalived.log_text());
    let deleted = now_us();
    let cidr = format!("{VIP}/24");
    run("ip", &["-n", &p.ns, "addr", "del", &cidr, "dev", "eth0"]).unwrap();
    assert!(
        picket.wait_log(
            &format!("(VI_1) VIP {VIP} removed externally: restored"),
            Duration::from_secs(2)
        ),
        "{}",
        picket.log_text()
    );
    assert!(wait_until(Duration::from_secs(1), || has_address(
        &p.ns, "eth0", VIP
    )));
    std::thread::sleep(Duration::from_millis(300));
    monitor.kill_group();
    let text = std::fs::read_to_string(&log).unwrap();
    let gone = text
        .lines()
        .find(|l| l.contains("Deleted") && l.contains(&cidr))
        .and_then(monitor_us)
        .unwrap_or_else(|| panic!("no deletion of {VIP} in:\n{text}"));
    let back = text
        .lines()
        .filter(|l| !l.contains("Deleted") && l.contains(&cidr))
        .filter_map(monitor_us)
        .find(|&t| t >= gone)
        .unwrap_or_else(|| panic!("{VIP} not added again in:\n{text}"));
    let gap_us = back - gone;

    // It stayed master: keepalived never took over, and the client still
    // reaches the VIP through picket.
    assert!(lab.client_pings(VIP), "the client lost the VIP");
    assert_eq!(
        neighbour_mac(&lab.client.ns, std::net::IpAddr::V4(VIP)),
        Some(p_mac)
    );
    assert!(!has_address(&k.ns, "eth0", VIP));
    assert_eq!(
        masters(&keepalived.log_text()),
        k_masters,
        "{}",
        keepalived.log_text()
    );
    let frames = cap.stop();
    let garps = lab::capture::arps(&frames)
        .into_iter()
        .filter(|a| a.ts_us > deleted && a.is_gratuitous() && a.sender_ip == VIP)
        .collect::<Vec<_>>();
    assert!(
        !garps.is_empty() && garps.iter().all(|a| a.sender_mac == p_mac),
        "gratuitous ARPs of picket for the restored VIP: {garps:?}"
    );
    let k_adverts = lab::capture::adverts(&frames)
        .into_iter()
        .filter(|a| a.ts_us > deleted && a.src == k.addr)
        .count();
    assert_eq!(k_adverts, 0, "keepalived advertised: it was master");
    println!(
        "VIP deleted by hand: restored {:.3} ms later (advert interval 100 ms), first of {} \
         gratuitous ARPs {:.3} ms after the deletion command; keepalived stayed backup",
        gap_us as f64 / 1e3,
        garps.len(),
        (garps[0].ts_us - deleted) as f64 / 1e3
    );
    assert!(
        gap_us < ADVERT_US,
        "restored {gap_us} µs after the deletion:\n{text}"
    );
    drop((picket, keepalived));
}

#[test]
fn an_interface_deleted_and_recreated_faults_then_runs_again_on_the_new_one() {
    if !lab::ready(&["ping", lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("ri");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let old_mac = mac_of(&p.ns, "eth0");
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100));
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(sole_master(&p.ns, &k.ns), "{}", picket.log_text());

    // The veth goes (its bridge end deleted takes picket's eth0 along).
    let deleted = now_us();
    run("ip", &["-n", &lab.lan, "link", "del", "r1"]).unwrap();
    assert!(
        picket.wait_log("Interface eth0 deleted", Duration::from_secs(2))
            && picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(2)),
        "{}",
        picket.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(3), || has_address(&k.ns, "eth0", VIP)),
        "keepalived did not take over"
    );

    // It comes back: same name, new index and MAC, its address added.
    std::thread::sleep(Duration::from_millis(300));
    let recreated = now_us();
    lab.replug_router(1);
    let new_mac = mac_of(&p.ns, "eth0");
    assert!(
        picket.wait_log("Interface eth0 is back", Duration::from_secs(2)),
        "{}",
        picket.log_text()
    );
    assert!(
        sole_master(&p.ns, &k.ns),
        "picket did not take the VIP back:\n{}",
        picket.log_text()
    );
    assert!(lab.client_pings(VIP), "the client cannot reach the VIP");
    assert!(
        wait_until(Duration::from_secs(1), || neighbour_mac(
            &lab.client.ns,
            std::net::IpAddr::V4(VIP)
        ) == Some(new_mac)),
        "the client's ARP entry is {:?}, the new eth0 is {}",
        neighbour_mac(&lab.client.ns, std::net::IpAddr::V4(VIP)),
        mac_text(new_mac)
    );
    std::thread::sleep(Duration::from_millis(500));
    let frames = cap.stop();
    let mine = |a: &&lab::Advert| a.src == p.addr && a.vrid == VRID;
    let ads = lab::capture::adverts(&frames);
    let before = ads
        .iter()
        .filter(mine)
        .filter(|a| a.ts_us < deleted)
        .count();
    let during = ads
        .iter()
        .filter(mine)
        .filter(|a| (deleted..recreated).contains(&a.ts_us))
        .count();
    let after: Vec<_> = ads
        .iter()
        .filter(mine)
        .filter(|a| a.ts_us > recreated)
        .collect();
    assert!(
        before > 0 && during == 0,
        "before {before}, while gone {during}"
    );
    assert!(
        after.len() >= 3
            && after
                .iter()
                .all(|a| a.src_mac == new_mac && a.priority == 150),
        "adverts after the recreation: {after:?}"
    );
    let log = picket.log_text();
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no '{needle}':\n{log}"))
    };
    assert!(at("Interface eth0 deleted") < at("Interface eth0 is back"));
    let back = at("Interface eth0 is back");
    let rest = &log[back..];
    assert!(
        rest.contains("(VI_1) Entering BACKUP STATE")
            && rest.contains("(VI_1) Entering MASTER STATE"),
        "{log}"
    );
    println!(
        "interface deleted and recreated: FAULT, keepalived master meanwhile; back as index {} \
         with MAC {} (was {}): first advert {:.1} ms after the recreation (Master_Down_Interval \
         {:.1} ms), {} adverts since",
        lab::run("ip", &["-n", &p.ns, "-o", "link", "show", "eth0"])
            .unwrap()
            .split(':')
            .next()
            .unwrap_or("?"),
        mac_text(new_mac),
        mac_text(old_mac),
        (after[0].ts_us - recreated) as f64 / 1e3,
        master_down_us(150) as f64 / 1e3,
        after.len()
    );
    drop((picket, keepalived));
}

#[test]
fn an_ipv6_instance_started_with_a_tentative_link_local_runs_once_it_is_valid() {
    if !lab::ready(&["sysctl", lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("rd");
    let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
    let sysctl = lab::find_tool("sysctl").unwrap();
    // Duplicate address detection on picket's eth0 only: two probes, a
    // second apart.
    run(
        "ip",
        &[
            "netns",
            "exec",
            &p.ns,
            sysctl.to_str().unwrap(),
            "-qw",
            "net.ipv6.conf.eth0.accept_dad=1",
            "net.ipv6.conf.eth0.dad_transmits=2",
        ],
    )
    .unwrap();
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "ip6 proto 112 or icmp6");
    let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf6(100));
    assert!(wait_until(Duration::from_secs(5), || has_address6(
        &k.ns, "eth0", VIP6
    )));
    let log = lab.path("monitor", "log");
    let mut monitor = spawn_monitor(&p.ns, &["address"], &log);
    std::thread::sleep(Duration::from_millis(200));
    // Down and up: the link-local address is made again, tentative.
    run("ip", &["-n", &p.ns, "link", "set", "eth0", "down"]).unwrap();
    run("ip", &["-n", &p.ns, "link", "set", "eth0", "up"]).unwrap();
    let upped = now_us();
    let ll = run(
        "ip",
        &[
            "-n", &p.ns, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link",
        ],
    )
    .unwrap();
    assert!(
        ll.is_empty() || ll.contains("tentative"),
        "the link-local address is already valid: {ll}"
    );
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf6(150));
    assert!(
        picket.wait_log(
            "(VI_1) eth0 has no usable IPv6 link-local address",
            Duration::from_secs(2)
        ),
        "{}",
        picket.log_text()
    );
    assert!(picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(1)));
    assert!(
        picket.wait_log("adverts are sent from it", Duration::from_secs(8)),
        "{}",
        picket.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(3), || has_address6(&p.ns, "eth0", VIP6)
            && !has_address6(&k.ns, "eth0", VIP6)),
        "picket did not become master:\n{}",
        picket.log_text()
    );
    std::thread::sleep(Duration::from_millis(200));
    monitor.kill_group();
    let frames = cap.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    let p_ll: Ipv6Addr = lab::link_local_of(&p.ns, "eth0");
    let ll_text = p_ll.to_string();
    // The kernel announces a link-local address once DAD is over (the
    // tentative one is only in dumps, checked above).
    let valid = text
        .lines()
        .filter(|l| l.contains(&ll_text) && !l.contains("tentative") && !l.contains("Deleted"))
        .filter_map(monitor_us)
        .find(|&t| t > upped)
        .unwrap_or_else(|| panic!("{p_ll} never valid in:\n{text}"));
    let mine: Vec<_> = adverts6(&frames)
        .into_iter()
        .filter(|a| a.src == p_ll && a.vrid == VRID)
        .collect();
    let first = mine
        .first()
        .unwrap_or_else(|| panic!("no advert from {p_ll}"));
    let wait_us = first.ts_us.saturating_sub(valid);
    println!(
        "IPv6 link-local tentative for {:.1} ms (DAD, 2 probes); picket's first advert {:.1} ms \
         after it became valid (Master_Down_Interval {:.1} ms), {} adverts since",
        (valid - upped) as f64 / 1e3,
        wait_us as f64 / 1e3,
        master_down_us(150) as f64 / 1e3,
        mine.len()
    );
    assert!(
        first.ts_us >= valid,
        "an advert left {} µs before the address was valid",
        valid - first.ts_us
    );
    assert!(
        wait_us <= master_down_us(150) + 2 * ADVERT_US,
        "master {wait_us} µs after the address became valid"
    );
    drop((picket, keepalived));
}

/// `ip -d -o link show NAME` in `ns` (`None`: no such link).
fn link(ns: &str, name: &str) -> Option<String> {
    run("ip", &["-n", ns, "-d", "-o", "link", "show", name]).ok()
}

/// `use_vmac`: the VMAC deleted by hand is created again at once; the
/// parent deleted (which takes the macvlan along) and created again gets
/// its VMAC back — on the new parent, with the virtual MAC and the ARP
/// sysctls — and picket is master on it again, the client's ARP entry
/// still the virtual MAC.
#[test]
fn a_vmac_comes_back_after_it_or_its_parent_is_recreated() {
    if !lab::ready(&["ping"]) {
        return;
    }
    let lab = Lab::with_routers("rm", 1);
    let p = lab.router(1).clone();
    let vmac = format!("vrrp.{VRID}");
    let virtual_mac = [0, 0, 0x5e, 0, 1, VRID];
    let text = conf(150).replace("    interface eth0\n", "    interface eth0\n    use_vmac\n");
    let text = text.replace(" dev eth0", "");
    let picket = Daemon::Picket.start(&lab, &p.ns, &text);
    let on_vmac = || {
        wait_until(Duration::from_secs(5), || {
            link(&p.ns, &vmac).is_some_and(|l| l.contains(",UP")) && has_address(&p.ns, &vmac, VIP)
        })
    };
    assert!(on_vmac(), "{}", picket.log_text());
    let first = link(&p.ns, &vmac).unwrap();

    // The VMAC deleted by hand: created again.
    run("ip", &["-n", &p.ns, "link", "del", &vmac]).unwrap();
    assert!(
        picket.wait_log(
            &format!("VMAC {vmac} deleted: creating it again"),
            Duration::from_secs(2)
        ),
        "{}",
        picket.log_text()
    );
    assert!(on_vmac(), "{}", picket.log_text());
    let second = link(&p.ns, &vmac).unwrap();
    assert_ne!(
        first.split(':').next(),
        second.split(':').next(),
        "a new index"
    );

    // The parent goes (and the VMAC with it) and comes back.
    run("ip", &["-n", &lab.lan, "link", "del", "r1"]).unwrap();
    assert!(
        wait_until(Duration::from_secs(2), || link(&p.ns, &vmac).is_none()),
        "the VMAC outlived its parent"
    );
    assert!(picket.wait_log("(VI_1) Entering FAULT STATE", Duration::from_secs(2)));
    std::thread::sleep(Duration::from_millis(300));
    lab.replug_router(1);
    assert!(
        picket.wait_log(
            &format!("eth0 is back: creating its VMAC {vmac} again"),
            Duration::from_secs(2)
        ),
        "{}",
        picket.log_text()
    );
    assert!(
        on_vmac(),
        "not master on the new VMAC:\n{}",
        picket.log_text()
    );
    let third = link(&p.ns, &vmac).unwrap();
    assert!(
        third.contains("@eth0") && third.contains("macvlan mode private"),
        "{third}"
    );
    assert!(
        third.contains(&format!("link/ether {}", mac_text(virtual_mac))),
        "{third}"
    );
    let sysctl = |iface: &str, key: &str| {
        lab::run_in(
            &p.ns,
            "cat",
            &[&format!("/proc/sys/net/ipv4/conf/{iface}/{key}")],
        )
        .unwrap()
        .trim()
        .to_owned()
    };
    assert_eq!(
        ["arp_ignore", "accept_local", "rp_filter"].map(|k| sysctl(&vmac, k)),
        ["1", "1", "0"],
        "the new VMAC's sysctls"
    );
    assert_eq!(
        ["arp_ignore", "arp_filter", "arp_announce"].map(|k| sysctl("eth0", k)),
        ["1", "1", "2"],
        "the new parent's sysctls"
    );
    assert!(lab.client_pings(VIP), "the client cannot reach the VIP");
    assert_eq!(
        neighbour_mac(&lab.client.ns, std::net::IpAddr::V4(VIP)),
        Some(virtual_mac)
    );
    println!(
        "VMAC deleted by hand: created again; parent deleted and created again: VMAC created on \
         the new parent, picket master on it, client ARP {}",
        mac_text(virtual_mac)
    );
    drop(picket);
}

/// The monitor socket overruns: picket is stopped (`SIGSTOP`) while its VIP
/// is deleted by hand and 4,000 addresses come and go on another interface
/// — more notifications than its receive buffer holds. On `SIGCONT` it
/// reads `ENOBUFS`, reads every link and address again, finds the VIP
/// missing and restores it; `monitor_overruns` counts it.
#[test]
fn a_monitor_overrun_reads_everything_again_and_restores_the_vip() {
    if !lab::ready(&["ping"]) {
        return;
    }
    let lab = Lab::with_routers("ro", 1);
    let p = lab.router(1).clone();
    let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150));
    assert!(
        wait_until(Duration::from_secs(5), || has_address(&p.ns, "eth0", VIP)),
        "{}",
        picket.log_text()
    );
    run(
        "ip",
        &[
            "-n", &p.ns, "link", "add", "ov0", "type", "veth", "peer", "name", "ov1",
        ],
    )
    .unwrap();
    run("ip", &["-n", &p.ns, "link", "set", "ov0", "up"]).unwrap();
    let mut batch = String::new();
    for i in 0..4000u32 {
        batch += &format!("addr add 10.200.{}.{}/32 dev ov0\n", i / 250, i % 250 + 1);
    }
    batch += "addr flush dev ov0\n";
    let batch_file = lab.path("flood", "batch");
    std::fs::write(&batch_file, batch).unwrap();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(picket.pid().unwrap()).unwrap());
    use nix::sys::signal::{Signal, kill};
    kill(pid, Signal::SIGSTOP).unwrap();
    let cidr = format!("{VIP}/24");
    run("ip", &["-n", &p.ns, "addr", "del", &cidr, "dev", "eth0"]).unwrap();
    run("ip", &["-n", &p.ns, "-batch", batch_file.to_str().unwrap()]).unwrap();
    kill(pid, Signal::SIGCONT).unwrap();
    assert!(
        picket.wait_log(
            "reading every link and address again",
            Duration::from_secs(5)
        ),
        "no overrun seen:\n{}",
        picket.log_text()
    );
    assert!(
        picket.wait_log(
            &format!("(VI_1) VIP {VIP} removed externally: restored"),
            Duration::from_secs(3)
        ),
        "{}",
        picket.log_text()
    );
    assert!(has_address(&p.ns, "eth0", VIP));
    assert!(lab.client_pings(VIP), "the client cannot reach the VIP");
    kill(pid, Signal::SIGUSR2).unwrap();
    assert!(picket.wait_log("SIGUSR2: stats:", Duration::from_secs(2)));
    let overruns = picket
        .logged_counter(&["SIGUSR2: stats:"], "monitor_overruns")
        .unwrap_or(0);
    let scans = picket
        .logged_counter(&["SIGUSR2: stats:"], "address_scans")
        .unwrap_or(0);
    println!(
        "monitor overrun (8,000 notifications while stopped): {overruns} overrun(s) read, \
         {scans} address dumps, the VIP deleted meanwhile restored"
    );
    assert!(
        overruns >= 1 && scans >= 2,
        "overruns {overruns}, scans {scans}"
    );
    drop(picket);
}
