//! Fault injection in network namespaces (issue 9, part 3): picket master
//! (priority 150) against Debian's keepalived 2.2.7 (100) on the lab bridge,
//! VRRPv3, two VIPs, picket's status socket read for its state and counters.
//!
//! - **link flap**: picket's `eth0` set down and up (50 ms each, ioctl from a
//!   thread in its namespace) at 10 Hz for 30 s. picket stays alive and
//!   answers its status socket all along; its fd count and RSS do not grow;
//!   it counts one FAULT per flap; within a bound after the last flap it is
//!   the only master, holds both VIPs, and is the only one advertising;
//! - **interface deleted and recreated**, three times: the link itself
//!   deleted in picket's namespace, or its peer end on the bridge; created
//!   again with the same name and address (once with the old MAC too).
//!   picket goes FAULT (held for `no_interface`), keepalived takes over;
//!   picket — the same process — comes back master with its VIPs and sends
//!   gratuitous ARPs from the new link; no fd is leaked by the reopened
//!   sockets;
//! - **VIP removed by hand**, 14 times (one VIP at a time, then both in one
//!   batch): each is added back within one advert interval (stamped by
//!   `ip -ts monitor address`), announced by gratuitous ARP, counted
//!   (`vips_restored`) and logged; picket never leaves MASTER and keepalived
//!   never takes over. (keepalived 2.2.7 does otherwise: the VIP deleted
//!   under it, it goes BACKUP with a priority-0 advert — a peer takes over —
//!   and adds the VIP back only once master again.)
//! - **monitor overrun**: picket stopped (`SIGSTOP`), a storm of thousands of
//!   address and link notifications fills its monitor socket — the kernel's
//!   drop counter for that socket (`/proc/PID/net/netlink`) proves it full —
//!   and then what picket cares about changes, so that notification is lost
//!   too: its VIP deleted, later a tracked link set down. On `SIGCONT` it
//!   reads `ENOBUFS`, counts it (`monitor_overruns`), reads every link and
//!   address again (`address_scans`), and acts on what only that re-read
//!   can show: the VIP restored, then FAULT for the tracked link (and
//!   keepalived takes over). Last, the tracked link set down while the
//!   socket still has room (queued) and up once it is full (lost): the
//!   stale "down" read after the `ENOBUFS` must not outlive the re-read
//!   (it did before the re-read was moved after the queue is drained).
//!
//! Needs root, iproute2, tcpdump, tshark and keepalived; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_faults -- --nocapture --test-threads=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::io::Read as _;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lab::capture::{adverts, arps};
use lab::daemon::Router;
use lab::status::{held_for, instance};
use lab::{Capture, Daemon, Lab, Node, mac_of, now_us, run, wait_until};
use nix::sys::signal::Signal;
use serde_json::Value;

const VRID: u8 = 61;
/// The instance's two VIPs (`VIP` is the lab's usual one).
const VIPS: [Ipv4Addr; 2] = [lab::VIP, Ipv4Addr::new(10, 99, 0, 101)];

/// How often the routers advertise.
#[derive(Clone, Copy)]
enum Adverts {
    /// Every 100 ms.
    Fast,
    /// Every second.
    Slow,
}

impl Adverts {
    /// Its `advert_int` value.
    fn keyword(self) -> &'static str {
        match self {
            Adverts::Fast => "0.1",
            Adverts::Slow => "1",
        }
    }

    /// The interval itself.
    fn interval(self) -> Duration {
        match self {
            Adverts::Fast => Duration::from_millis(100),
            Adverts::Slow => Duration::from_secs(1),
        }
    }
}

/// keepalived.conf of one router: VI_1 on eth0 with both VIPs; `global` and
/// `extra` go into `global_defs` and the instance.
fn conf(priority: u8, adverts: Adverts, global: &str, extra: &str) -> String {
    let vips: String = VIPS
        .iter()
        .map(|v| format!("        {v}/24 dev eth0\n"))
        .collect();
    format!(
        "global_defs {{
    router_id vrrp-faults-{priority}
{global}}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority {priority}
    advert_int {}
    version 3
{extra}    virtual_ipaddress {{
{vips}    }}
}}
",
        adverts.keyword()
    )
}

/// picket (router 1, 150) and keepalived (router 2, 100) on one lab, picket
/// master. Fields drop in order: the daemons first, the lab last.
struct Rig {
    picket: Router,
    keepalived: Router,
    /// picket's status socket.
    socket: PathBuf,
    /// picket's namespace and addresses.
    p: Node,
    /// keepalived's.
    k: Node,
    lab: Lab,
}

impl Rig {
    /// Starts both daemons on `lab` (keepalived first) and waits until
    /// picket is the only master; `extra` goes into picket's instance.
    fn start(lab: Lab, adverts: Adverts, extra: &str) -> Rig {
        let (p, k) = (lab.router(1).clone(), lab.router(2).clone());
        let socket = lab.path("status", "sock");
        let global = format!("    status_socket {}\n", socket.display());
        let keepalived = Daemon::Keepalived.start(&lab, &k.ns, &conf(100, adverts, "", ""));
        let picket = Daemon::Picket.start(&lab, &p.ns, &conf(150, adverts, &global, extra));
        let rig = Rig {
            picket,
            keepalived,
            socket,
            p,
            k,
            lab,
        };
        let limit = 4 * adverts.interval() + Duration::from_secs(5);
        assert!(
            rig.settled(limit).is_some(),
            "picket is not the only master:\n{}",
            rig.picket.log_text()
        );
        rig
    }

    /// picket's pid.
    fn pid(&self) -> u32 {
        self.picket.pid().expect("picket runs")
    }

    /// picket's status document, or why there is none.
    fn status(&self) -> Result<Value, String> {
        read_status(&self.socket)
    }

    /// VI_1 of picket's status document (panics if it does not answer).
    fn vi(&self) -> Value {
        let doc = self.status().unwrap_or_else(|e| panic!("status: {e}"));
        instance(&doc, "VI_1").clone()
    }

    /// True if picket says VI_1 is MASTER, holds both VIPs and keepalived
    /// holds neither.
    fn picket_alone_master(&self) -> bool {
        let master = self
            .status()
            .is_ok_and(|d| instance(&d, "VI_1")["state"] == "MASTER");
        master
            && VIPS.iter().all(|&v| holds(&self.p.ns, v))
            && !VIPS.iter().any(|&v| holds(&self.k.ns, v))
    }

    /// How long until [`Rig::picket_alone_master`] holds, if it does within
    /// `limit`.
    fn settled(&self, limit: Duration) -> Option<Duration> {
        let t = Instant::now();
        wait_until(limit, || self.picket_alone_master()).then(|| t.elapsed())
    }

    /// True once keepalived holds both VIPs and picket neither.
    fn keepalived_took_over(&self, limit: Duration) -> bool {
        wait_until(limit, || {
            VIPS.iter().all(|&v| holds(&self.k.ns, v))
                && !VIPS.iter().any(|&v| holds(&self.p.ns, v))
        })
    }

    /// How many times keepalived has logged entering MASTER.
    fn keepalived_masters(&self) -> usize {
        self.keepalived
            .log_text()
            .matches("Entering MASTER STATE")
            .count()
    }

    /// A counter of picket's `counters` object.
    fn counter(&self, name: &str) -> u64 {
        let doc = self.status().unwrap_or_else(|e| panic!("status: {e}"));
        doc["counters"][name].as_u64().unwrap_or(0)
    }

    /// `kill(picket, signal)`.
    fn signal(&mut self, signal: Signal) {
        self.picket.signal_daemon(signal);
    }
}

/// The document a status socket answers with, read with a timeout (a
/// stopped or stuck daemon is an error, not a hang).
fn read_status(socket: &Path) -> Result<Value, String> {
    let mut s = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

/// True if an interface of `ns` holds `addr` (false too while the
/// namespace has no interface to hold it).
fn holds(ns: &str, addr: Ipv4Addr) -> bool {
    let to = addr.to_string();
    run("ip", &["-n", ns, "-o", "-4", "addr", "show", "to", &to])
        .is_ok_and(|out| !out.trim().is_empty())
}

/// How many fds `pid` has open.
fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(Iterator::count)
        .unwrap_or(0)
}

/// VI_1's `transitions.NAME` in an instance document.
fn transitions(vi: &Value, name: &str) -> u64 {
    vi["transitions"][name].as_u64().unwrap_or(0)
}

/// Whether the tools of every test here are on the machine (see
/// [`lab::ready`]).
fn ready() -> bool {
    lab::ready(&[lab::daemon::KEEPALIVED])
}

// ---------------------------------------------------------------------------
// Link flap
// ---------------------------------------------------------------------------

/// Sets `IFF_UP` of `name` on or off through `sock` (an inet datagram socket
/// in the interface's namespace).
fn set_link(sock: &OwnedFd, name: &str, up: bool) -> std::io::Result<()> {
    // SAFETY: `ifreq` is a plain C struct; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: `req` is a live ifreq for the duration of the call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let up_bit = libc::IFF_UP as libc::c_short;
    // SAFETY: SIOCGIFFLAGS filled in the flags member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = if up { flags | up_bit } else { flags & !up_bit };
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// What the flapping thread did.
struct Flaps {
    /// Down-up cycles done.
    done: u32,
    /// The latest any step came after its planned time.
    worst_late: Duration,
    /// From the first step to the last.
    took: Duration,
    /// When the link was set up for the last time.
    last_up: Instant,
}

/// Flaps `iface` of namespace `ns` `cycles` times: down for `half`, up for
/// `half`, on a fixed schedule — a late step delays the ones after it rather
/// than shorten them. Runs in a thread of its own that joins the namespace
/// (`setns` moves only the calling thread). The link is left up.
fn flap(ns: &str, iface: &str, cycles: u32, half: Duration) -> JoinHandle<Flaps> {
    let netns = format!("/run/netns/{ns}");
    let iface = iface.to_owned();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&netns).unwrap_or_else(|e| panic!("{netns}: {e}"));
        // SAFETY: setns on a valid namespace fd; it only moves this thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {netns}: {}", std::io::Error::last_os_error());
        // SAFETY: a plain socket(2) call; the fd is owned below.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let sock = unsafe { OwnedFd::from_raw_fd(fd) };
        let start = Instant::now();
        let mut worst_late = Duration::ZERO;
        let mut last = None;
        for step in 0..cycles * 2 {
            let planned = start + half * step;
            let at = last.map_or(planned, |l: Instant| planned.max(l + half));
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            worst_late = worst_late.max(Instant::now().saturating_duration_since(at));
            let up = step % 2 == 1;
            set_link(&sock, &iface, up).unwrap_or_else(|e| panic!("{iface} up={up}: {e}"));
            last = Some(Instant::now());
        }
        Flaps {
            done: cycles,
            worst_late,
            took: start.elapsed(),
            // The last step (odd) set it up.
            last_up: last.unwrap_or(start),
        }
    })
}

#[test]
fn a_link_flapping_at_10_hz_for_30_s_leaves_picket_sole_master_without_growth() {
    if !ready() {
        return;
    }
    const CYCLES: u32 = 300;
    let rig = Rig::start(Lab::new("ff"), Adverts::Fast, "");
    let pid = rig.pid();
    let before_vi = rig.vi();
    let (fds_before, rss_before) = (fd_count(pid), rig.picket.rss_kib());
    let downs_logged = |r: &Rig| {
        r.picket
            .log_text()
            .matches("Netlink reports eth0 down")
            .count()
    };
    let downs_before = downs_logged(&rig);
    let k_masters_before = rig.keepalived_masters();

    let flapper = flap(&rig.p.ns, "eth0", CYCLES, Duration::from_millis(50));
    // Meanwhile: picket must answer, and must not grow.
    let (mut answers, mut slowest) = (0u32, Duration::ZERO);
    let (mut fds_max, mut rss_max) = (fds_before, rss_before);
    while !flapper.is_finished() {
        std::thread::sleep(Duration::from_millis(500));
        assert!(!lab::pid_gone(pid), "picket died during the flap");
        let t = Instant::now();
        let doc = rig
            .status()
            .unwrap_or_else(|e| panic!("picket did not answer during the flap: {e}"));
        assert_eq!(instance(&doc, "VI_1")["name"], "VI_1");
        slowest = slowest.max(t.elapsed());
        answers += 1;
        fds_max = fds_max.max(fd_count(pid));
        rss_max = rss_max.max(rig.picket.rss_kib());
    }
    let flaps = flapper.join().expect("the flapping thread");

    assert!(
        rig.settled(Duration::from_secs(5)).is_some(),
        "not settled 5 s after the flap:\n{}",
        rig.picket.log_text()
    );
    let settle = flaps.last_up.elapsed();
    // Settled means one master: only picket advertises from now on.
    let mut cap = Capture::start(&rig.lab, &rig.lab.lan, "br0", "vrrp");
    std::thread::sleep(Duration::from_secs(1));
    let ads = adverts(&cap.stop());
    let from = |a: Ipv4Addr| {
        ads.iter()
            .filter(|ad| ad.src == a && ad.priority > 0)
            .count()
    };
    let (p_ads, k_ads) = (from(rig.p.addr), from(rig.k.addr));

    let after_vi = rig.vi();
    let (fds_after, rss_after) = (fd_count(pid), rig.picket.rss_kib());
    let faults = transitions(&after_vi, "to_fault") - transitions(&before_vi, "to_fault");
    let masters = transitions(&after_vi, "to_master") - transitions(&before_vi, "to_master");
    let downs = downs_logged(&rig) - downs_before;
    let k_masters = rig.keepalived_masters() - k_masters_before;
    println!(
        "link flap: {} flaps of 50 ms down / 50 ms up in {:.1} s (worst step {:.1} ms late); picket \
         answered {answers} status reads (slowest {:.1} ms), counted {faults} FAULT and \
         {masters} MASTER transitions, logged {downs} link downs; fds {fds_before} -> \
         {fds_after} (max {fds_max}), VmRSS {rss_before} -> {rss_after} KiB (max {rss_max}); \
         sole master {:.0} ms after the last link up (Master_Down_Interval 341 ms), then \
         {p_ads} adverts from picket and {k_ads} from keepalived in 1 s (keepalived was master \
         {k_masters} times during the flap)",
        flaps.done,
        flaps.took.as_secs_f64(),
        flaps.worst_late.as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3,
        settle.as_secs_f64() * 1e3
    );
    assert_eq!(flaps.done, CYCLES);
    assert!(answers >= 50, "{answers} status reads in 30 s");
    // Each notification is its own datagram, read and acted on alone: every
    // down is logged and is a FAULT, however short.
    assert_eq!(downs, CYCLES as usize, "a logged link down per flap");
    assert_eq!(faults, u64::from(CYCLES), "a FAULT per flap");
    assert!(masters >= 1, "picket never became master again");
    assert!(
        fds_after <= fds_before && fds_max <= fds_before + 1,
        "fds {fds_before} -> {fds_after}, max {fds_max}"
    );
    assert!(
        rss_after <= rss_before + 256,
        "VmRSS grew {rss_before} -> {rss_after} KiB"
    );
    assert!(
        settle <= Duration::from_secs(2),
        "sole master only {settle:?} after the flap"
    );
    assert!(
        p_ads >= 7 && k_ads == 0,
        "adverts: picket {p_ads}, keepalived {k_ads}"
    );
}

// ---------------------------------------------------------------------------
// Interface deleted and recreated
// ---------------------------------------------------------------------------

/// Which end of picket's veth is deleted.
#[derive(Clone, Copy, Debug)]
enum Deleted {
    /// `eth0` itself, in picket's namespace.
    Itself,
    /// Its peer `r1`, on the bridge (the kernel takes `eth0` along).
    PeerOnBridge,
}

/// Creates picket's veth again as the lab made it — `r1` on the bridge,
/// `eth0` with router 1's address, up — with the MAC `mac` on `eth0`.
fn recreate_with_mac(rig: &Rig, mac: [u8; 6]) {
    let mac = mac.map(|b| format!("{b:02x}")).join(":");
    let (lan, ns) = (rig.lab.lan.as_str(), rig.p.ns.as_str());
    let bridge_side = format!(
        "link add r1 type veth peer name eth0 address {mac} netns {ns}\n\
         link set r1 master br0 up\n"
    );
    let router_side = format!(
        "addr add {}/{} dev eth0\nlink set eth0 up\n",
        rig.p.addr,
        lab::PREFIX_LEN
    );
    for (netns, text) in [(lan, bridge_side), (ns, router_side)] {
        let file = rig.lab.path("recreate", "batch");
        std::fs::write(&file, text).unwrap();
        run("ip", &["-n", netns, "-batch", file.to_str().unwrap()]).unwrap();
    }
}

#[test]
fn an_interface_deleted_and_recreated_three_times_faults_and_comes_back_master() {
    if !ready() {
        return;
    }
    let rig = Rig::start(Lab::new("fi"), Adverts::Fast, "");
    let mut cap = Capture::start(&rig.lab, &rig.lab.lan, "br0", "arp or vrrp");
    let pid = rig.pid();
    let first_mac = mac_of(&rig.p.ns, "eth0");
    let before = rig.vi();
    let fds_before = fd_count(pid);
    let count = |needle: &str| rig.picket.log_text().matches(needle).count();
    // (how it goes, same MAC when it comes back)
    let cycles = [
        (Deleted::Itself, false),
        (Deleted::PeerOnBridge, false),
        (Deleted::Itself, true),
    ];
    // Per cycle: µs stamp of the recreation, the new MAC, ms to FAULT, ms
    // from the recreation to sole master.
    let mut back = Vec::new();
    for (how, same_mac) in cycles {
        let gone_at = Instant::now();
        match how {
            Deleted::Itself => run("ip", &["-n", &rig.p.ns, "link", "del", "eth0"]),
            Deleted::PeerOnBridge => run("ip", &["-n", &rig.lab.lan, "link", "del", "r1"]),
        }
        .unwrap();
        let faulted = wait_until(Duration::from_secs(2), || {
            rig.status().is_ok_and(|d| {
                let vi = instance(&d, "VI_1");
                vi["state"] == "FAULT" && held_for(vi, "no_interface")
            })
        });
        assert!(faulted, "{how:?}: no FAULT\n{}", rig.picket.log_text());
        let to_fault = gone_at.elapsed();
        assert!(
            rig.keepalived_took_over(Duration::from_secs(3)),
            "{how:?}: keepalived did not take over"
        );
        std::thread::sleep(Duration::from_millis(200));
        let stamp = now_us();
        let made = Instant::now();
        if same_mac {
            recreate_with_mac(&rig, first_mac);
        } else {
            rig.lab.replug_router(1);
        }
        let mac = mac_of(&rig.p.ns, "eth0");
        assert_eq!(same_mac, mac == first_mac, "{how:?}: the MAC");
        assert!(
            rig.settled(Duration::from_secs(5)).is_some(),
            "{how:?}: picket not master again\n{}",
            rig.picket.log_text()
        );
        back.push((how, stamp, mac, to_fault, made.elapsed()));
    }
    std::thread::sleep(Duration::from_millis(300));
    let frames = cap.stop();
    let after = rig.vi();
    let fds_after = fd_count(pid);

    assert_eq!(rig.picket.pid(), Some(pid));
    assert!(!lab::pid_gone(pid), "picket is gone");
    let n = cycles.len();
    assert_eq!(
        count("Interface eth0 deleted"),
        n,
        "{}",
        rig.picket.log_text()
    );
    assert_eq!(
        count("Interface eth0 is back"),
        n,
        "{}",
        rig.picket.log_text()
    );
    let delta = |name: &str| transitions(&after, name) - transitions(&before, name);
    let losses = after["reflector"]["interface_losses"].as_u64().unwrap_or(0)
        - before["reflector"]["interface_losses"]
            .as_u64()
            .unwrap_or(0);
    assert_eq!((delta("to_fault"), delta("to_master")), (3, 3));
    assert_eq!(losses, 3, "interface_losses");
    assert_eq!(fds_after, fds_before, "fds after three recreations");
    let garps = arps(&frames);
    let ads = adverts(&frames);
    for (i, &(how, stamp, mac, to_fault, to_master)) in back.iter().enumerate() {
        let end = back.get(i + 1).map_or(u64::MAX, |b| b.1);
        let window = |ts: u64| (stamp..end).contains(&ts);
        let announced: Vec<Ipv4Addr> = VIPS
            .into_iter()
            .filter(|&v| {
                garps.iter().any(|a| {
                    window(a.ts_us) && a.is_gratuitous() && a.sender_ip == v && a.sender_mac == mac
                })
            })
            .collect();
        let first_advert = ads
            .iter()
            .find(|a| {
                window(a.ts_us) && a.src == rig.p.addr && a.src_mac == mac && a.priority == 150
            })
            .map(|a| a.ts_us - stamp);
        println!(
            "interface deleted ({how:?}) and recreated (MAC {}): FAULT after {:.1} ms; sole \
             master {:.0} ms after the recreation (Master_Down_Interval 341 ms), first advert \
             after {:.1} ms, gratuitous ARPs for {announced:?} from the new link",
            if mac == first_mac {
                "the old one"
            } else {
                "new"
            },
            to_fault.as_secs_f64() * 1e3,
            to_master.as_secs_f64() * 1e3,
            first_advert.unwrap_or(0) as f64 / 1e3
        );
        assert_eq!(announced, VIPS, "{how:?}: gratuitous ARPs");
        assert!(
            first_advert.is_some(),
            "{how:?}: no advert from the new link"
        );
        assert!(
            to_fault < Duration::from_millis(500),
            "{how:?}: FAULT after {to_fault:?}"
        );
        assert!(
            to_master < Duration::from_secs(2),
            "{how:?}: master after {to_master:?}"
        );
    }
    println!(
        "interface deleted and recreated 3 times, one picket process (pid {pid}): \
         interface_losses {losses}, FAULT {} times, MASTER {} times, fds {fds_before} -> \
         {fds_after}",
        delta("to_fault"),
        delta("to_master")
    );
}

// ---------------------------------------------------------------------------
// VIP removed by hand
// ---------------------------------------------------------------------------

/// From an `ip -ts monitor address` log: for each deletion of a VIP, the
/// VIP, its stamp and the stamp of the next addition of it (µs), in order.
fn deletions_and_returns(text: &str) -> Vec<(Ipv4Addr, u64, Option<u64>)> {
    let lines: Vec<(u64, &str)> = text
        .lines()
        .filter_map(|l| Some((lab::monitor_us(l)?, l)))
        .collect();
    let mut out = Vec::new();
    for (i, &(t, line)) in lines.iter().enumerate() {
        let Some(v) = VIPS
            .into_iter()
            .find(|v| line.contains(&format!("inet {v}/")))
        else {
            continue;
        };
        if !line.contains("Deleted") {
            continue;
        }
        let back = lines[i + 1..]
            .iter()
            .find(|(_, l)| !l.contains("Deleted") && l.contains(&format!("inet {v}/")))
            .map(|&(at, _)| at);
        out.push((v, t, back));
    }
    out
}

#[test]
fn a_vip_removed_by_hand_14_times_is_restored_each_time_within_an_advert_interval() {
    if !ready() {
        return;
    }
    const ONE_BY_ONE: usize = 12;
    let rig = Rig::start(Lab::new("fv"), Adverts::Fast, "");
    let p_mac = mac_of(&rig.p.ns, "eth0");
    let mut cap = Capture::start(&rig.lab, &rig.lab.lan, "br0", "arp or vrrp");
    let log = rig.lab.path("monitor", "log");
    let mut monitor = lab::spawn_monitor(&rig.p.ns, &["address"], &log);
    std::thread::sleep(Duration::from_millis(300));
    let before = rig.vi();
    let logged = || {
        rig.picket
            .log_text()
            .matches("removed externally: restored")
            .count()
    };
    let logged_before = logged();
    let k_masters_before = rig.keepalived_masters();
    let start_us = now_us();
    let del = |v: Ipv4Addr| format!("addr del {v}/24 dev eth0\n");
    // Each deletion: the VIP and when the command was started (µs), the
    // clock of the capture (`ip monitor` stamps a notification when it
    // reads it, which may be after picket's answer is on the wire).
    let mut issued = Vec::new();
    for i in 0..ONE_BY_ONE {
        let v = VIPS[i % 2];
        issued.push((v, now_us()));
        run(
            "ip",
            &[
                "-n",
                &rig.p.ns,
                "addr",
                "del",
                &format!("{v}/24"),
                "dev",
                "eth0",
            ],
        )
        .unwrap();
        assert!(
            wait_until(Duration::from_secs(1), || holds(&rig.p.ns, v)),
            "{v} not restored (deletion {i})\n{}",
            rig.picket.log_text()
        );
        std::thread::sleep(Duration::from_millis(150));
    }
    // Both at once.
    let batch = rig.lab.path("del-both", "batch");
    std::fs::write(&batch, VIPS.map(del).concat()).unwrap();
    issued.extend(VIPS.map(|v| (v, now_us())));
    run("ip", &["-n", &rig.p.ns, "-batch", batch.to_str().unwrap()]).unwrap();
    assert!(
        wait_until(Duration::from_secs(1), || VIPS
            .iter()
            .all(|&v| holds(&rig.p.ns, v))),
        "not both restored\n{}",
        rig.picket.log_text()
    );
    std::thread::sleep(Duration::from_millis(300));
    monitor.kill_group();
    let frames = cap.stop();
    let after = rig.vi();

    let text = std::fs::read_to_string(&log).unwrap();
    let seen = deletions_and_returns(&text);
    let total = ONE_BY_ONE + VIPS.len();
    assert_eq!(seen.len(), total, "deletions on the monitor:\n{text}");
    let gaps: Vec<u64> = seen
        .iter()
        .map(|&(v, at, back)| {
            back.unwrap_or_else(|| panic!("{v} deleted at {at} never came back:\n{text}")) - at
        })
        .collect();
    let garps = arps(&frames);
    // The first gratuitous ARP of picket for each deleted VIP after the
    // command.
    let announced: Vec<Option<u64>> = issued
        .iter()
        .map(|&(v, at)| {
            garps
                .iter()
                .find(|a| {
                    a.ts_us > at && a.is_gratuitous() && a.sender_ip == v && a.sender_mac == p_mac
                })
                .map(|a| a.ts_us - at)
        })
        .collect();
    let ads = adverts(&frames);
    let k_adverts = ads
        .iter()
        .filter(|a| a.ts_us > start_us && a.src == rig.k.addr && a.priority > 0)
        .count();
    // picket advertised all along: no gap longer than two intervals.
    let p_times: Vec<u64> = ads
        .iter()
        .filter(|a| a.ts_us > start_us && a.src == rig.p.addr)
        .map(|a| a.ts_us)
        .collect();
    let widest = p_times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or(u64::MAX);
    let restored = after["reflector"]["vips_restored"].as_u64().unwrap_or(0)
        - before["reflector"]["vips_restored"].as_u64().unwrap_or(0);
    let delta = |name: &str| transitions(&after, name) - transitions(&before, name);
    let mut sorted = gaps.clone();
    sorted.sort_unstable();
    println!(
        "VIP removed by hand {total} times ({ONE_BY_ONE} one at a time, then both in one \
         batch): restored after median {:.3} ms, worst {:.3} ms (bound: one advert interval, \
         100 ms); first gratuitous ARP worst {:.1} ms after the deletion command; vips_restored \
         {restored}, {} log lines; picket stayed MASTER (widest advert gap {:.1} ms), \
         keepalived sent {k_adverts} adverts",
        sorted[sorted.len() / 2] as f64 / 1e3,
        sorted[sorted.len() - 1] as f64 / 1e3,
        announced.iter().flatten().max().copied().unwrap_or(0) as f64 / 1e3,
        logged() - logged_before,
        widest as f64 / 1e3
    );
    assert!(
        gaps.iter().all(|&g| g < 100_000),
        "restore times (µs): {gaps:?}"
    );
    assert!(
        announced.iter().all(|a| a.is_some_and(|d| d < 100_000)),
        "gratuitous ARP delays (µs): {announced:?}"
    );
    assert_eq!(restored, total as u64, "vips_restored");
    assert_eq!(logged() - logged_before, total, "log lines");
    assert_eq!(
        (delta("to_master"), delta("to_backup"), delta("to_fault")),
        (0, 0, 0),
        "picket left MASTER"
    );
    assert_eq!(k_adverts, 0, "keepalived advertised: it was master");
    assert_eq!(
        rig.keepalived_masters(),
        k_masters_before,
        "keepalived became master"
    );
    assert!(widest < 200_000, "picket's adverts paused {widest} µs");
}

// ---------------------------------------------------------------------------
// Monitor overrun
// ---------------------------------------------------------------------------

/// picket's monitor socket as the kernel sees it, from
/// `/proc/PID/net/netlink`: the `NETLINK_ROUTE` socket of `pid` subscribed
/// to groups; its (queued bytes, dropped notifications).
fn monitor_queue(pid: u32) -> (u64, u64) {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_str()?.to_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/netlink")).unwrap();
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| {
            w.len() >= 10
                && w[1] == "0"
                && u32::from_str_radix(w[3], 16).is_ok_and(|g| g != 0)
                && inodes.iter().any(|i| i == w[9])
        })
        .collect();
    assert_eq!(rows.len(), 1, "picket's monitor socket in:\n{table}");
    (rows[0][4].parse().unwrap(), rows[0][8].parse().unwrap())
}

/// True once `pid` is stopped (state `T` in `/proc/PID/stat`).
fn stopped(pid: u32) -> bool {
    wait_until(Duration::from_secs(2), || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                == Some("T")
        })
    })
}

/// Makes notifications in `rig`'s picket namespace — batches of 3,000
/// addresses added to `ov0` and 600 MTU changes of it — until the kernel
/// drops some for picket's monitor socket (picket is stopped). Returns the
/// number of notifications made.
fn storm_until_full(rig: &Rig, round: &mut u32) -> u32 {
    let pid = rig.pid();
    let (_, drops_before) = monitor_queue(pid);
    let mut made = 0;
    for _ in 0..4 {
        let mut batch = String::new();
        for i in 0..3000u32 {
            batch += &format!(
                "addr add 10.{}.{}.{}/32 dev ov0\n",
                200 + *round,
                i / 250,
                i % 250 + 1
            );
            if i % 5 == 0 {
                batch += &format!("link set ov0 mtu {}\n", 1300 + (i / 5) % 200);
            }
        }
        *round += 1;
        let file = rig.lab.path("storm", "batch");
        std::fs::write(&file, batch).unwrap();
        run("ip", &["-n", &rig.p.ns, "-batch", file.to_str().unwrap()]).unwrap();
        made += 3600;
        if monitor_queue(pid).1 > drops_before {
            return made;
        }
    }
    panic!(
        "{made} notifications did not fill picket's monitor socket: {:?}",
        monitor_queue(pid)
    );
}

#[test]
fn a_monitor_overrun_is_counted_and_the_full_resync_finds_what_was_lost() {
    if !ready() {
        return;
    }
    let lab = Lab::new("fo");
    let ns = lab.router(1).ns.clone();
    lab::add_veth(&ns, "ov0", "10.97.0.1/24");
    lab::add_veth(&ns, "trk0", "10.96.0.1/24");
    let mut rig = Rig::start(
        lab,
        Adverts::Slow,
        "    track_interface {\n        trk0\n    }\n",
    );
    let pid = rig.pid();
    let mut round = 0;
    let overruns_at = |r: &Rig| r.counter("monitor_overruns");
    let scans_at = |r: &Rig| r.counter("address_scans");
    let restored_at = |r: &Rig| r.vi()["reflector"]["vips_restored"].as_u64().unwrap_or(0);
    let (o0, s0, r0) = (overruns_at(&rig), scans_at(&rig), restored_at(&rig));

    // 1. The VIP deleted once the socket is full: only a re-read finds it.
    rig.signal(Signal::SIGSTOP);
    let stop_a = Instant::now();
    assert!(stopped(pid), "picket did not stop");
    let made_a = storm_until_full(&rig, &mut round);
    let (queued_a, d1) = monitor_queue(pid);
    run(
        "ip",
        &[
            "-n",
            &ns,
            "addr",
            "del",
            &format!("{}/24", VIPS[0]),
            "dev",
            "eth0",
        ],
    )
    .unwrap();
    let (_, d2) = monitor_queue(pid);
    assert!(d2 > d1, "the VIP's deletion was not dropped ({d1} -> {d2})");
    let cont_a = Instant::now();
    rig.signal(Signal::SIGCONT);
    assert!(
        wait_until(Duration::from_secs(3), || holds(&ns, VIPS[0])),
        "the VIP was not restored after the overrun:\n{}",
        rig.picket.log_text()
    );
    let restore_a = cont_a.elapsed();
    assert!(
        rig.picket.wait_log(
            "reading every link and address again",
            Duration::from_secs(1)
        ),
        "{}",
        rig.picket.log_text()
    );
    assert!(
        rig.settled(Duration::from_secs(5)).is_some(),
        "not sole master"
    );
    let (o1, s1, r1) = (overruns_at(&rig), scans_at(&rig), restored_at(&rig));
    println!(
        "monitor overrun 1: picket stopped {:.0} ms; {made_a} notifications made, {queued_a} \
         bytes queued, {d1} dropped before the VIP's deletion (dropped too: {d2}); after \
         SIGCONT the VIP was back in {:.1} ms; monitor_overruns {o0} -> {o1}, address_scans \
         {s0} -> {s1}, vips_restored {r0} -> {r1}",
        (cont_a - stop_a).as_secs_f64() * 1e3,
        restore_a.as_secs_f64() * 1e3
    );
    assert!(o1 > o0 && s1 > s0 && r1 == r0 + 1, "counters");
    assert!(
        restore_a < Duration::from_secs(1),
        "restored after {restore_a:?}"
    );

    // 2. A tracked link set down once the socket is full: the re-read of
    // the links puts the instance in FAULT, keepalived takes over.
    rig.signal(Signal::SIGSTOP);
    assert!(stopped(pid), "picket did not stop");
    let made_b = storm_until_full(&rig, &mut round);
    let (_, d3) = monitor_queue(pid);
    run("ip", &["-n", &ns, "link", "set", "trk0", "down"]).unwrap();
    let (_, d4) = monitor_queue(pid);
    assert!(
        d4 > d3,
        "trk0's notification was not dropped ({d3} -> {d4})"
    );
    let cont_b = Instant::now();
    rig.signal(Signal::SIGCONT);
    let trk0_down = |doc: &Value| {
        doc["vrrp"]["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x["name"] == "trk0" && x["up"] == false))
    };
    assert!(
        wait_until(Duration::from_secs(3), || rig.status().is_ok_and(|d| {
            instance(&d, "VI_1")["state"] == "FAULT" && trk0_down(&d)
        })),
        "no FAULT for trk0 after the overrun:\n{}",
        rig.picket.log_text()
    );
    let fault_b = cont_b.elapsed();
    assert!(
        rig.keepalived_took_over(Duration::from_secs(3)),
        "keepalived did not take over"
    );
    let took_over = cont_b.elapsed();
    let (o2, s2) = (overruns_at(&rig), scans_at(&rig));
    assert!(
        !rig.picket.log_text().contains("Netlink reports trk0"),
        "trk0's change came as a notification, not from the re-read"
    );
    // The monitor works as before: trk0 up is a notification again.
    run("ip", &["-n", &ns, "link", "set", "trk0", "up"]).unwrap();
    assert!(
        rig.picket
            .wait_log("Netlink reports trk0 up", Duration::from_secs(2)),
        "{}",
        rig.picket.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(2), || rig
            .status()
            .is_ok_and(|d| instance(&d, "VI_1")["state"] == "BACKUP")),
        "not BACKUP once trk0 is up:\n{}",
        rig.picket.log_text()
    );
    println!(
        "monitor overrun 2: {made_b} notifications, trk0 set down while the socket was full \
         ({d3} -> {d4} dropped); after SIGCONT FAULT in {:.1} ms, keepalived master {:.0} ms \
         after SIGCONT; monitor_overruns {o1} -> {o2}, address_scans {s1} -> {s2}; trk0 up \
         again seen as a notification, picket BACKUP",
        fault_b.as_secs_f64() * 1e3,
        took_over.as_secs_f64() * 1e3
    );
    assert!(o2 > o1 && s2 > s1, "counters");
    assert!(fault_b < Duration::from_secs(1), "FAULT after {fault_b:?}");

    // 3. trk0 set down while the socket still has room (that notification
    // is queued), then the storm, then trk0 up once it is full (lost): the
    // queued, stale "down" must not outlive the re-read.
    let state_before = rig.vi()["state"].clone();
    rig.signal(Signal::SIGSTOP);
    assert!(stopped(pid), "picket did not stop");
    let (_, d5) = monitor_queue(pid);
    run("ip", &["-n", &ns, "link", "set", "trk0", "down"]).unwrap();
    let (_, d6) = monitor_queue(pid);
    assert_eq!(d5, d6, "trk0's down was dropped, not queued");
    let made_c = storm_until_full(&rig, &mut round);
    let (_, d7) = monitor_queue(pid);
    run("ip", &["-n", &ns, "link", "set", "trk0", "up"]).unwrap();
    let (_, d8) = monitor_queue(pid);
    assert!(d8 > d7, "trk0's up was not dropped ({d7} -> {d8})");
    let cont_c = Instant::now();
    rig.signal(Signal::SIGCONT);
    let right = |d: &Value| {
        instance(d, "VI_1")["state"] != "FAULT"
            && d["vrrp"]["links"]
                .as_array()
                .is_some_and(|l| l.iter().any(|x| x["name"] == "trk0" && x["up"] == true))
            && d["counters"]["monitor_overruns"].as_u64() > Some(o2)
    };
    assert!(
        wait_until(Duration::from_secs(3), || rig
            .status()
            .is_ok_and(|d| right(&d))),
        "the stale 'trk0 down' outlived the re-read: {}\n{}",
        rig.status()
            .map_or_else(|e| e, |d| d["vrrp"]["links"].to_string()),
        rig.picket.log_text()
    );
    let right_c = cont_c.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let doc = rig.status().unwrap();
    assert!(right(&doc), "not steady: {}", doc["vrrp"]["links"]);
    println!(
        "monitor overrun 3: trk0 down queued ({d5} -> {d6} dropped), {made_c} notifications, \
         trk0 up lost ({d7} -> {d8}); after SIGCONT the queue was read (the stale down \
         replayed) and the re-read came last: trk0 up, VI_1 {} (was {state_before}) {:.1} ms \
         after SIGCONT; monitor_overruns {o2} -> {}",
        instance(&doc, "VI_1")["state"],
        right_c.as_secs_f64() * 1e3,
        doc["counters"]["monitor_overruns"]
    );
}
