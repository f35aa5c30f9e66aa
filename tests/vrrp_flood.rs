//! Hostile traffic (issue 9, part 4): a flood of 100,000 VRRP packets a
//! second at picket, one kind of bad packet at a time, from a namespace of
//! its own.
//!
//! The lab: picket on `r1` (10.99.0.11) is master of two VRRPv3 instances
//! on eth0, advertising every 0.5 s — VI_1, multicast, VRID 51, VIP
//! 10.99.0.100; VI_2, unicast to its one peer 10.99.0.2, VRID 61, VIP
//! 10.99.0.101. The peer is a second picket in the client namespace, VI_2
//! only, priority 50: it stays backup and, having a VRRP socket, keeps its
//! kernel from answering picket's unicast adverts with ICMP (which would be
//! IPv4 traffic into r1 besides the flood). `r2` runs the flooder,
//! `examples/vrrp_flood.rs`: whole Ethernet frames through an `AF_PACKET`
//! socket, `sendmmsg(2)` batches, paced to 100,000 frames/s.
//!
//! Each phase floods for 5 s adverts of priority 200 — which picket would
//! lose mastership to if it took them — spoiled in one way: valid adverts
//! for a VRID picket does not run, bad checksum, TTL 1, truncated, VRRPv2
//! to the v3 instance, and in unicast mode valid adverts for VI_2 from a
//! source that is not its peer. A last phase overloads picket: adverts
//! with 100 addresses and a bad checksum, each costing the debug build
//! more CPU than the gap between them (see [`OVERLOAD`]). Asserted per
//! phase:
//! - **rate**: the flooder reached at least [`RATE_FLOOR`] frames/s (the
//!   target is [`RATE`]; the figure is printed);
//! - **on time**: picket's adverts, captured on the peer's eth0 (tcpdump
//!   filtered on picket's source, so the flood does not swamp the capture),
//!   keep their interval: every gap within 10 % of 0.5 s (max and p99
//!   printed);
//! - **no false transition**: polled every 250 ms, picket's status document
//!   says MASTER for both instances with unchanged transition counts, both
//!   VIPs are on eth0, the peer's document says BACKUP with picket as
//!   master; picket's log has no new state line;
//! - **CPU bounded**: picket's CPU time (utime + stime) over the phase's
//!   wall time stays under [`CPU_BOUND`] of one core (printed with the
//!   datagrams it read and the CPU µs per datagram; not asserted in the
//!   overload phase, where a saturated core is the point);
//! - **every drop counted**: the IPv4 datagrams r1's stack received (`Ip:
//!   InReceives` of `/proc/PID/net/snmp`: nothing else sends IPv4 to r1) ==
//!   what picket counted (every per-instance `rx` counter and
//!   `rx_unmatched`) + what the kernel dropped at picket's socket (the
//!   `drops` column of `/proc/PID/net/raw`), exactly; and all of picket's
//!   count is under the phase's own reason. The frames that reached r1's
//!   eth0 (its rx counter) are printed beside what the flooder sent.
//!
//! The control: valid priority-200 adverts for VI_1 at the same rate. Here
//! the protocol demands a transition (RFC 5798 §6.4.3), and the same
//! checks must see it: VI_1 goes BACKUP and drops its VIP, its adverts stop
//! on the capture; VI_2 stays master; the datagrams are counted as
//! accepted.
//!
//! Needs root, iproute2, tcpdump and tshark (the lab's tools); otherwise
//! `SKIPPED: why` (a failure under `CI=true`). About 50 s. Run with
//! `cargo test --test vrrp_flood -- --nocapture` for the figures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lab::status::{document, instance};
use lab::{Capture, Daemon, Lab, Router, VIP, has_address, now_us, wait_until};
use serde_json::Value;

/// Flood rate asked of the flooder, frames per second.
const RATE: u64 = 100_000;
/// Lowest rate a phase must reach to count as a flood. The flooder pays in
/// its own system time for the bridge, the veths and the delivery to every
/// port: alone on 2 cores it holds [`RATE`], on a machine shared with other
/// builds (load 10) it fell to 36,000/s. Below this the test fails.
const RATE_FLOOR: f64 = 25_000.0;
/// Length of one flood phase.
const PHASE: Duration = Duration::from_secs(5);
/// Length of the control flood.
const CONTROL: Duration = Duration::from_secs(2);
/// picket's advert interval, µs (`advert_int 0.5`).
const INTERVAL_US: u64 = 500_000;
/// Largest |gap − interval| allowed: 10 % of the interval.
const JITTER_LIMIT_US: u64 = INTERVAL_US / 10;
/// Highest share of one core picket may use during a phase. picket here is
/// the debug build (7–12 µs of CPU a datagram read, much of it
/// unoptimised header and checksum code); a loop that spun or stopped
/// draining would sit at 1.0.
const CPU_BOUND: f64 = 0.9;

const VRID_M: u8 = 51;
const VRID_U: u8 = 61;
/// VI_2's VIP.
const VIP_U: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 101);
/// Priority of every flooded advert: above picket's 100.
const FORGED_PRIORITY: &str = "200";
/// The Ethernet address of the VRRP group 224.0.0.18.
const GROUP_MAC: &str = "01:00:5e:00:00:12";
const GROUP: &str = "224.0.0.18";

fn picket_conf(socket: &Path, peer: Ipv4Addr) -> String {
    format!(
        "global_defs {{
    router_id lab-flood
    status_socket {}
}}

vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id {VRID_M}
    priority 100
    advert_int 0.5
    version 3
    virtual_ipaddress {{
        {VIP}/24
    }}
}}

vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id {VRID_U}
    priority 100
    advert_int 0.5
    version 3
    unicast_peer {{
        {peer}
    }}
    virtual_ipaddress {{
        {VIP_U}/24
    }}
}}
",
        socket.display()
    )
}

fn peer_conf(socket: &Path, master: Ipv4Addr) -> String {
    format!(
        "global_defs {{
    router_id lab-flood-peer
    status_socket {}
}}

vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id {VRID_U}
    priority 50
    advert_int 0.5
    version 3
    unicast_peer {{
        {master}
    }}
    virtual_ipaddress {{
        {VIP_U}/24
    }}
}}
",
        socket.display()
    )
}

/// One flood phase: what the flooder sends and the counter it must raise.
struct Phase {
    what: &'static str,
    /// The flooder's KIND argument.
    kind: &'static str,
    vrid: u8,
    /// Sent to picket's address and MAC (else to the VRRP group).
    unicast: bool,
    /// `(instance, counter)`; instance `unmatched` is `rx_unmatched`.
    counter: (&'static str, &'static str),
    /// Addresses listed in each advert.
    count: u8,
}

const PHASES: [Phase; 7] = [
    Phase {
        what: "valid adverts, VRID 52 (not run here)",
        kind: "valid",
        vrid: 52,
        unicast: false,
        counter: ("unmatched", "unknown_vrid"),
        count: 1,
    },
    Phase {
        what: "bad checksum",
        kind: "bad-checksum",
        vrid: VRID_M,
        unicast: false,
        counter: ("VI_1", "bad_checksum"),
        count: 1,
    },
    Phase {
        what: "TTL 1",
        kind: "ttl1",
        vrid: VRID_M,
        unicast: false,
        counter: ("VI_1", "bad_ttl"),
        count: 1,
    },
    Phase {
        what: "truncated (6 of 12 bytes)",
        kind: "truncated",
        vrid: VRID_M,
        unicast: false,
        counter: ("VI_1", "truncated"),
        count: 1,
    },
    Phase {
        what: "VRRPv2 to a v3 instance",
        kind: "v2",
        vrid: VRID_M,
        unicast: false,
        counter: ("VI_1", "bad_version"),
        count: 1,
    },
    Phase {
        what: "unicast, forged from a non-peer",
        kind: "valid",
        vrid: VRID_U,
        unicast: true,
        counter: ("VI_2", "not_a_peer"),
        count: 1,
    },
    Phase {
        what: OVERLOAD,
        kind: "bad-checksum",
        vrid: VRID_M,
        unicast: false,
        counter: ("VI_1", "bad_checksum"),
        count: 100,
    },
];

/// The phase picket cannot keep up with: 408-byte VRRP messages, whose
/// checksum it must verify to find them bad, cost the debug build more
/// than the 10 µs between them, so it reads all the time and the kernel
/// drops the rest. Its CPU share is then near 1 by design (not asserted);
/// its adverts must still be on time: the reads of a turn are bounded
/// (`limits::VRRP_READS_PER_TURN`) and the due timers come between. A
/// drain until WouldBlock, as picket had, never ends under such a flood:
/// adverts were 400 ms late.
const OVERLOAD: &str = "bad checksum, 100 addresses (overload)";

/// The control: what the protocol must act on.
const CONTROL_PHASE: Phase = Phase {
    what: "control: valid adverts for VI_1",
    kind: "valid",
    vrid: VRID_M,
    unicast: false,
    counter: ("VI_1", "accepted"),
    count: 1,
};

// ---------------------------------------------------------------------------
// The flooder
// ---------------------------------------------------------------------------

/// The flooder's executable, built if need be: `cargo test --all-targets`
/// builds examples, `cargo test --test vrrp_flood` does not. It sits
/// beside this test's directory: `<target>/<profile>/deps/vrrp_flood-…` →
/// `<target>/<profile>/examples/vrrp_flood`.
fn flooder_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut args = vec![
            "build",
            "--quiet",
            "--example",
            "vrrp_flood",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ];
        if profile_dir.ends_with("release") {
            args.push("--release");
        }
        if let Err(e) = lab::run(&cargo, &args) {
            panic!("cannot build the flooder: {e}");
        }
    }
    let path = profile_dir.join("examples").join("vrrp_flood");
    assert!(path.is_file(), "no flooder at {}", path.display());
    path
}

/// What the flooder said when it ended.
#[derive(Clone, Copy, Debug)]
struct Sent {
    frames: u64,
    rate: f64,
    errors: u64,
}

fn parse_sent(log: &str) -> Option<Sent> {
    let line = log.lines().rfind(|l| l.starts_with("sent="))?;
    let field = |name: &str| -> Option<&str> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
    };
    Some(Sent {
        frames: field("sent")?.parse().ok()?,
        rate: field("rate")?.parse().ok()?,
        errors: field("errors")?.parse().ok()?,
    })
}

// ---------------------------------------------------------------------------
// What the kernel and picket say
// ---------------------------------------------------------------------------

/// One reading of everything a phase compares.
#[derive(Clone, Debug)]
struct Snapshot {
    at: Instant,
    /// picket's utime + stime, clock ticks.
    cpu_ticks: u64,
    /// `Ip: InReceives` of r1's namespace.
    ip_in: u64,
    /// Drops at picket's VRRP socket (the `drops` column).
    sock_drops: u64,
    /// Bytes waiting in picket's VRRP socket.
    sock_queued: u64,
    /// Packets received on r1's eth0.
    eth_rx: u64,
    /// Every receive counter: `VI_1.bad_ttl`, `unmatched.unknown_vrid`, ...
    counters: BTreeMap<String, u64>,
    /// Turns whose VRRP read stopped at its budget (`vrrp_reads_deferred`).
    deferred: u64,
}

/// Counters that are no outcome of their own: `own_advert` (picket's own
/// adverts do not come back: multicast loop is off), `address_mismatch`
/// (counted besides `accepted`).
fn is_outcome(key: &str) -> bool {
    !key.ends_with(".own_advert") && !key.ends_with(".address_mismatch")
}

impl Snapshot {
    /// Datagrams picket read, each counted under the one reason it ended
    /// with (accepted or a drop).
    fn counted(&self) -> u64 {
        self.counters
            .iter()
            .filter(|(k, _)| is_outcome(k))
            .map(|(_, v)| v)
            .sum()
    }
}

fn proc_file(pid: u32, name: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{name}"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/{name}: {e}"))
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = proc_file(pid, "stat");
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // Fields 14 and 15 of proc(5); `rest` starts at field 3.
    rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> f64 {
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .unwrap()
        .unwrap();
    hz as f64
}

/// `Ip: InReceives` of `pid`'s network namespace.
fn ip_in_receives(pid: u32) -> u64 {
    let snmp = proc_file(pid, "net/snmp");
    let mut ip = snmp.lines().filter(|l| l.starts_with("Ip:"));
    let (names, values) = (ip.next().unwrap(), ip.next().unwrap());
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "InReceives")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap()
}

/// Drops and queued bytes, summed over the raw sockets of protocol 112 in
/// `pid`'s namespace (picket's VRRP socket: nothing else there has one).
fn vrrp_socket(pid: u32) -> (u64, u64) {
    let raw = proc_file(pid, "net/raw");
    let mut found = false;
    let (mut drops, mut queued) = (0, 0);
    for line in raw.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout
        // inode ref pointer drops
        if f.len() < 13 || !f[1].ends_with(":0070") {
            continue;
        }
        found = true;
        let rx_queue = f[4].split_once(':').unwrap().1;
        queued += u64::from_str_radix(rx_queue, 16).unwrap();
        drops += f[f.len() - 1].parse::<u64>().unwrap();
    }
    assert!(found, "no VRRP raw socket in /proc/{pid}/net/raw:\n{raw}");
    (drops, queued)
}

/// Packets received on `iface` in `pid`'s namespace.
fn rx_packets(pid: u32, iface: &str) -> u64 {
    let dev = proc_file(pid, "net/dev");
    let line = dev
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("{iface}:")))
        .unwrap_or_else(|| panic!("no {iface} in /proc/{pid}/net/dev"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn counters(doc: &Value) -> BTreeMap<String, u64> {
    let mut all = BTreeMap::new();
    let mut add = |prefix: &str, obj: &Value| {
        for (k, v) in obj.as_object().unwrap() {
            all.insert(format!("{prefix}.{k}"), v.as_u64().unwrap());
        }
    };
    add("unmatched", &doc["vrrp"]["rx_unmatched"]);
    for i in doc["vrrp"]["instances"].as_array().unwrap() {
        add(i["name"].as_str().unwrap(), &i["rx"]);
    }
    all
}

fn snapshot(pid: u32, socket: &Path) -> Snapshot {
    let (sock_drops, sock_queued) = vrrp_socket(pid);
    let doc = document(socket);
    Snapshot {
        at: Instant::now(),
        cpu_ticks: cpu_ticks(pid),
        ip_in: ip_in_receives(pid),
        sock_drops,
        sock_queued,
        eth_rx: rx_packets(pid, "eth0"),
        counters: counters(&doc),
        deferred: doc["counters"]["vrrp_reads_deferred"].as_u64().unwrap_or(0),
    }
}

/// A snapshot once picket has read everything queued: its socket empty
/// and nothing more received, counted or dropped since the reading before
/// (waits up to 3 s; the last reading either way).
fn settled(pid: u32, socket: &Path) -> Snapshot {
    let mut last = snapshot(pid, socket);
    wait_until(Duration::from_secs(3), || {
        std::thread::sleep(Duration::from_millis(20));
        let next = snapshot(pid, socket);
        let still = next.sock_queued == 0
            && (next.ip_in, next.counted(), next.sock_drops)
                == (last.ip_in, last.counted(), last.sock_drops);
        last = next;
        still
    });
    last
}

/// The 1-, 5- and 15-minute load averages of the machine.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Watching for transitions
// ---------------------------------------------------------------------------

/// Every transition count of every instance of a status document, and
/// each instance's state.
fn states(doc: &Value) -> BTreeMap<String, (String, u64)> {
    doc["vrrp"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let moves = i["transitions"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum();
            (
                i["name"].as_str().unwrap().to_owned(),
                (i["state"].as_str().unwrap().to_owned(), moves),
            )
        })
        .collect()
}

/// What "stays master" means, checked once: both of picket's instances
/// MASTER with the transition counts of `base`, both VIPs on r1's eth0,
/// the peer BACKUP with picket as its master. Each violation as a line.
fn check_masters(
    r1_ns: &str,
    socket: &Path,
    peer_socket: &Path,
    base: &BTreeMap<String, (String, u64)>,
) -> Vec<String> {
    let mut bad = Vec::new();
    let now = states(&document(socket));
    for (name, (state, moves)) in &now {
        if state != "MASTER" {
            bad.push(format!("{name} is {state}"));
        }
        if base.get(name).map(|b| b.1) != Some(*moves) {
            bad.push(format!("{name} made a transition ({moves} in all)"));
        }
    }
    for vip in [VIP, VIP_U] {
        if !has_address(r1_ns, "eth0", vip) {
            bad.push(format!("{vip} is not on r1's eth0"));
        }
    }
    let peer = document(peer_socket);
    let p = instance(&peer, "VI_2");
    if p["state"] != "BACKUP" || p["master"]["address"] != lab::router_addr(1).to_string() {
        bad.push(format!(
            "the peer is {} with master {}",
            p["state"], p["master"]["address"]
        ));
    }
    bad
}

// ---------------------------------------------------------------------------
// Jitter
// ---------------------------------------------------------------------------

/// |gap − interval| in µs of each advert of `vrid` from `src` captured in
/// `(from, to]` after the one before it.
fn jitters(adverts: &[lab::Advert], src: Ipv4Addr, vrid: u8, from: u64, to: u64) -> Vec<u64> {
    let ts: Vec<u64> = adverts
        .iter()
        .filter(|a| a.src == src && a.vrid == vrid && a.priority != 0)
        .map(|a| a.ts_us)
        .collect();
    ts.windows(2)
        .filter(|w| w[1] > from && w[1] <= to)
        .map(|w| (w[1] - w[0]).abs_diff(INTERVAL_US))
        .collect()
}

/// `(max, p99, count)` of `j` (zeros when empty).
fn summary(j: &[u64]) -> (u64, u64, usize) {
    if j.is_empty() {
        return (0, 0, 0);
    }
    let mut s = j.to_vec();
    s.sort_unstable();
    let p99 = s[(s.len() * 99).div_ceil(100) - 1];
    (*s.last().unwrap(), p99, s.len())
}

// ---------------------------------------------------------------------------
// A phase
// ---------------------------------------------------------------------------

/// The lab with picket, its peer and the capture. Fields drop in order:
/// the lab last, after the processes in it (their logs are printed on a
/// panic before the lab's directory goes).
struct Bench {
    picket: Router,
    /// Kept running for the checks; dropped with the bench.
    _peer: Router,
    capture: Capture,
    socket: PathBuf,
    peer_socket: PathBuf,
    flooder: PathBuf,
    picket_mac: String,
    base: BTreeMap<String, (String, u64)>,
    lab: Lab,
}

/// What one phase measured.
struct Outcome {
    sent: Sent,
    wall_s: f64,
    before: Snapshot,
    after: Snapshot,
    /// Violations of "stays master" seen while it ran.
    violations: Vec<String>,
    /// Wall-clock window of the flood, µs since the epoch.
    window: (u64, u64),
}

impl Outcome {
    fn delta(&self, key: &str) -> u64 {
        let get = |s: &Snapshot| s.counters.get(key).copied().unwrap_or(0);
        get(&self.after) - get(&self.before)
    }
    fn counted(&self) -> u64 {
        self.after.counted() - self.before.counted()
    }
    fn ip_in(&self) -> u64 {
        self.after.ip_in - self.before.ip_in
    }
    fn sock_drops(&self) -> u64 {
        self.after.sock_drops - self.before.sock_drops
    }
    fn deferred(&self) -> u64 {
        self.after.deferred - self.before.deferred
    }
    fn eth_rx(&self) -> u64 {
        self.after.eth_rx - self.before.eth_rx
    }
    fn cpu_share(&self) -> f64 {
        (self.after.cpu_ticks - self.before.cpu_ticks) as f64
            / clock_ticks_per_second()
            / self.wall_s
    }
    /// Counters that moved, `key=Δ`.
    fn moved(&self) -> Vec<String> {
        self.after
            .counters
            .keys()
            .filter(|k| is_outcome(k))
            .map(|k| (k, self.delta(k)))
            .filter(|(_, d)| *d != 0)
            .map(|(k, d)| format!("{k}={d}"))
            .collect()
    }
}

impl Bench {
    fn pid(&self) -> u32 {
        self.picket.pid().unwrap()
    }

    fn run(&mut self, phase: &Phase, length: Duration) -> Outcome {
        let pid = self.pid();
        let r1 = self.lab.router(1).clone();
        let r2 = self.lab.router(2).clone();
        let (dst, mac) = if phase.unicast {
            (r1.addr.to_string(), self.picket_mac.clone())
        } else {
            (GROUP.to_owned(), GROUP_MAC.to_owned())
        };
        let before = settled(pid, &self.socket);
        let log = self.lab.path("flood", "log");
        let (rate, secs, vrid) = (
            RATE.to_string(),
            format!("{:.3}", length.as_secs_f64()),
            phase.vrid.to_string(),
        );
        let count = phase.count.to_string();
        let args = [
            "eth0",
            phase.kind,
            &rate,
            &secs,
            &r2.addr.to_string(),
            &dst,
            &mac,
            &vrid,
            FORGED_PRIORITY,
            &count,
        ];
        let start_us = now_us();
        let mut flood = lab::spawn_in_logged(&r2.ns, self.flooder.to_str().unwrap(), &args, &log);
        let mut violations = Vec::new();
        while flood.is_running() {
            std::thread::sleep(Duration::from_millis(250));
            for v in check_masters(&r1.ns, &self.socket, &self.peer_socket, &self.base) {
                if !violations.contains(&v) {
                    violations.push(v);
                }
            }
            assert!(
                before.at.elapsed() < length + Duration::from_secs(10),
                "the flooder did not stop"
            );
        }
        let end_us = now_us();
        let text = std::fs::read_to_string(&log).unwrap();
        let sent = parse_sent(&text).unwrap_or_else(|| panic!("flooder said: {text}"));
        let after = settled(pid, &self.socket);
        let wall_s = (after.at - before.at).as_secs_f64();
        Outcome {
            sent,
            wall_s,
            before,
            after,
            violations,
            window: (start_us, end_us),
        }
    }
}

#[test]
fn a_flood_of_bad_adverts_is_counted_and_changes_nothing() {
    if !lab::ready(&[]) {
        return;
    }
    let flooder = flooder_binary();
    let lab = Lab::new("flood");
    let (r1, peer_node) = (lab.router(1).clone(), lab.client.clone());
    let socket = lab.path("status", "sock");
    let peer_socket = lab.path("peer-status", "sock");
    let capture = Capture::start(
        &lab,
        &peer_node.ns,
        "eth0",
        &format!("ip src {} and ip proto 112", r1.addr),
    );
    let picket = Daemon::Picket.start(&lab, &r1.ns, &picket_conf(&socket, peer_node.addr));
    for name in ["VI_1", "VI_2"] {
        assert!(
            picket.wait_log(
                &format!("({name}) Entering MASTER STATE"),
                Duration::from_secs(10)
            ),
            "picket's {name} never became master:\n{}",
            picket.log_text()
        );
    }
    let peer = Daemon::Picket.start(&lab, &peer_node.ns, &peer_conf(&peer_socket, r1.addr));
    assert!(
        wait_until(Duration::from_secs(10), || lab::status::try_document(
            &peer_socket
        )
        .is_some_and(
            |doc| instance(&doc, "VI_2")["master"]["address"] == r1.addr.to_string()
        )),
        "the peer never heard picket:\n{}",
        peer.log_text()
    );
    let picket_mac = lab::mac_of(&r1.ns, "eth0")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let base = states(&document(&socket));
    let mut bench = Bench {
        picket,
        _peer: peer,
        capture,
        socket,
        peer_socket,
        flooder,
        picket_mac,
        base,
        lab,
    };
    assert!(
        check_masters(&r1.ns, &bench.socket, &bench.peer_socket, &bench.base).is_empty(),
        "not settled before the flood"
    );
    let log_before = bench.picket.log_text().len();

    // Idle CPU, for comparison.
    let idle = {
        let pid = bench.pid();
        let (t0, c0) = (Instant::now(), cpu_ticks(pid));
        std::thread::sleep(Duration::from_secs(1));
        (cpu_ticks(pid) - c0) as f64 / clock_ticks_per_second() / t0.elapsed().as_secs_f64()
    };
    println!(
        "picket idle: {:.1} % of a core; machine load {} (jitter and rates suffer on a \
         machine shared with other work: rerun alone before blaming picket)",
        idle * 100.0,
        load_average()
    );
    println!(
        "columns: frames sent and the flooder's rate; frames received on r1's eth0; IPv4 \
         datagrams into r1's stack; datagrams picket counted (all reasons) and read per \
         second; dropped at picket's full socket by the kernel; picket's CPU share and CPU µs \
         per datagram read; turns that stopped reading at the budget; the largest |gap - 500 ms| \
         of each instance's adverts"
    );
    println!(
        "{:<40} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>6} {:>6} {:>6} {:>13} {:>13}",
        "phase",
        "sent",
        "rate/s",
        "eth0 rx",
        "IP in",
        "counted",
        "read/s",
        "dropped",
        "CPU %",
        "µs/dg",
        "capped",
        "VI_1 jit max",
        "VI_2 jit max",
    );

    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for phase in &PHASES {
        let o = bench.run(phase, PHASE);
        outcomes.push((phase, o));
    }
    let frames = bench.capture.frames();
    let adverts = lab::capture::adverts(&frames);
    let mut all_jitter = [Vec::new(), Vec::new()];
    for (phase, o) in &outcomes {
        let j1 = jitters(&adverts, r1.addr, VRID_M, o.window.0, o.window.1);
        let j2 = jitters(&adverts, r1.addr, VRID_U, o.window.0, o.window.1);
        let cpu = o.cpu_share();
        let read = o.counted();
        println!(
            "{:<40} {:>8} {:>8.0} {:>8} {:>8} {:>8} {:>7.0} {:>7} {:>6.1} {:>6.2} {:>6} {:>10.1} ms {:>10.1} ms",
            phase.what,
            o.sent.frames,
            o.sent.rate,
            o.eth_rx(),
            o.ip_in(),
            read,
            read as f64 / o.wall_s,
            o.sock_drops(),
            cpu * 100.0,
            cpu * o.wall_s * 1e6 / read.max(1) as f64,
            o.deferred(),
            summary(&j1).0 as f64 / 1000.0,
            summary(&j2).0 as f64 / 1000.0,
        );
        let (inst, counter) = phase.counter;
        let key = format!("{inst}.{counter}");
        let mut fail = |what: String| failures.push(format!("{}: {what}", phase.what));
        if o.sent.rate < RATE_FLOOR {
            fail(format!(
                "the flood reached {:.0}/s, under the floor {RATE_FLOOR}",
                o.sent.rate
            ));
        }
        if o.sent.errors != 0 {
            fail(format!("{} sendmmsg calls failed", o.sent.errors));
        }
        if o.ip_in() != read + o.sock_drops() {
            fail(format!(
                "{} datagrams in, {read} counted + {} dropped by the kernel",
                o.ip_in(),
                o.sock_drops()
            ));
        }
        if o.delta(&key) != read {
            fail(format!("not all counted as {key}: {}", o.moved().join(" ")));
        }
        if o.ip_in() > o.sent.frames || o.eth_rx() < o.ip_in() {
            fail(format!(
                "sent {}, eth0 rx {}, IP in {}",
                o.sent.frames,
                o.eth_rx(),
                o.ip_in()
            ));
        }
        if cpu >= CPU_BOUND && phase.what != OVERLOAD {
            fail(format!("picket used {:.0} % of a core", cpu * 100.0));
        }
        for (name, j) in [("VI_1", &j1), ("VI_2", &j2)] {
            let expect = (PHASE.as_micros() as u64 / INTERVAL_US) as usize - 2;
            if j.len() < expect {
                fail(format!(
                    "{} adverts of {name} captured, expected {expect}+",
                    j.len()
                ));
            }
            if let Some(m) = j.iter().max().filter(|&&m| m >= JITTER_LIMIT_US) {
                fail(format!(
                    "{name} advert {} ms off its interval",
                    *m as f64 / 1000.0
                ));
            }
        }
        let odd: Vec<(u8, u8)> = adverts
            .iter()
            .filter(|a| a.src == r1.addr && a.ts_us > o.window.0 && a.ts_us <= o.window.1)
            .filter(|a| a.priority != 100 || a.version != 3)
            .map(|a| (a.vrid, a.priority))
            .collect();
        if !odd.is_empty() {
            fail(format!("picket sent adverts (VRID, priority) {odd:?}"));
        }
        all_jitter[0].extend(j1);
        all_jitter[1].extend(j2);
        for v in &o.violations {
            fail(v.clone());
        }
    }
    for (name, j) in ["VI_1", "VI_2"].iter().zip(&all_jitter) {
        let (max, p99, n) = summary(j);
        println!(
            "{name}: {n} advert gaps under flood, |gap - 500 ms| max {:.2} ms, p99 {:.2} ms (limit {} ms)",
            max as f64 / 1000.0,
            p99 as f64 / 1000.0,
            JITTER_LIMIT_US / 1000
        );
    }
    println!("machine load after the phases: {}", load_average());
    let log = bench.picket.log_text();
    let new_lines: Vec<&str> = log[log_before..]
        .lines()
        .filter(|l| l.contains("Entering"))
        .collect();
    if !new_lines.is_empty() {
        failures.push(format!("picket's log: {new_lines:?}"));
    }

    // The control: here picket must give way, and the same checks see it.
    let c = bench.run(&CONTROL_PHASE, CONTROL);
    // VI_1 is master again Master_Down_Interval (about 1.8 s) after the
    // flood; its first advert then ends its silence.
    let back = wait_until(Duration::from_secs(5), || {
        states(&document(&bench.socket))["VI_1"].0 == "MASTER"
    });
    assert!(back, "VI_1 did not become master again after the control");
    std::thread::sleep(Duration::from_millis(600));
    let frames = bench.capture.frames();
    let adverts = lab::capture::adverts(&frames);
    let silent_us = jitters(&adverts, r1.addr, VRID_M, c.window.0, now_us())
        .into_iter()
        .max()
        .unwrap_or(0);
    println!(
        "{}: sent {} at {:.0}/s; IP in {}, accepted {}, dropped {}; checks saw {:?}; \
         VI_1's adverts stopped for up to {:.0} ms",
        CONTROL_PHASE.what,
        c.sent.frames,
        c.sent.rate,
        c.ip_in(),
        c.delta("VI_1.accepted"),
        c.sock_drops(),
        c.violations,
        (silent_us + INTERVAL_US) as f64 / 1000.0
    );
    let log = bench.picket.log_text();
    assert!(
        c.violations.iter().any(|v| v == "VI_1 is BACKUP")
            && c.violations.iter().any(|v| v.contains(&VIP.to_string())),
        "the control did not make VI_1 BACKUP without its VIP: {:?}\n{log}",
        c.violations
    );
    assert!(
        !c.violations.iter().any(|v| v.starts_with("VI_2")),
        "VI_2 moved in the control: {:?}",
        c.violations
    );
    assert!(
        log[log_before..].contains("(VI_1) Entering BACKUP STATE"),
        "no BACKUP line in picket's log for the control"
    );
    assert!(
        silent_us >= JITTER_LIMIT_US,
        "VI_1 kept advertising through the control"
    );
    assert_eq!(
        c.ip_in(),
        c.delta("VI_1.accepted") + c.sock_drops(),
        "control: datagrams in vs accepted + dropped ({})",
        c.moved().join(" ")
    );

    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
