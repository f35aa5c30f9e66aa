//! VRRP labs in network namespaces, shared by the integration tests
//! (`mod lab;` in a file of `tests/`).
//!
//! A [`Lab`] is one LAN: a `lan` namespace holding a bridge `br0`, N router
//! namespaces each with a veth `eth0` on the bridge, and a client namespace
//! (also `eth0` on the bridge). Addresses are in 10.99.0.0/24 and
//! fd00:99::/64 **inside those namespaces only**: client 10.99.0.2 and
//! fd00:99::2, router `i` (1-based) 10.99.0.(10+i) and fd00:99::(10+i) (hex
//! digits of the same number), the usual VIPs 10.99.0.100 and fd00:99::100;
//! each `eth0` also has its automatic link-local address. Duplicate address
//! detection is off in every lab namespace, so IPv6 addresses are usable at
//! once. Namespace names are
//! `lab-<pid>-<seq>-<prefix>-<role>`, so parallel test processes and
//! worktrees never collide.
//!
//! Everything a lab starts is undone by `Drop`, panics included: processes
//! ([`Proc`], [`Router`](daemon::Router), [`Capture`](capture::Capture)) are
//! killed by their own `Drop`, and the lab then SIGKILLs whatever still runs
//! in its namespaces, deletes them and removes its temp directory. Declare the
//! lab **before** the routers and captures that use it, so it is dropped last.
//!
//! Tests call [`ready`] first: without root or a tool they print
//! `SKIPPED: why` and return, except under `CI=true`, where that panics.
//!
//! Parts: this file (namespaces, commands, processes, polling), `capture.rs`
//! (tcpdump, the pcap reader, frame decoders, failover analysis, tshark) and
//! `daemon.rs` (keepalived and picket as routers).

#![allow(dead_code, unused_imports)]

pub mod capture;
pub mod capture6;
pub mod daemon;
pub mod status;

pub use capture::{
    Advert, Arp, Capture, Decoded, Failover, Frame, decode, read_pcap, tshark_check,
};
pub use capture6::{Advert6, Failover6, Na, tshark_check_na};
pub use daemon::{Daemon, Router};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// The client's address on the lab LAN.
pub const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
/// The virtual IP the tests share between routers.
pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 100);
/// Prefix length of the lab LAN.
pub const PREFIX_LEN: u8 = 24;

/// Address of router `i` (1-based) on the lab LAN.
pub fn router_addr(i: usize) -> Ipv4Addr {
    let host = u8::try_from(10 + i).expect("at most 245 routers");
    Ipv4Addr::new(10, 99, 0, host)
}

/// The client's IPv6 address on the lab LAN.
pub const CLIENT_ADDR6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 2);
/// The IPv6 virtual address the tests share between routers.
pub const VIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 0x100);
/// Prefix length of the lab LAN's IPv6 subnet.
pub const PREFIX_LEN6: u8 = 64;

/// IPv6 address of router `i` (1-based) on the lab LAN.
pub fn router_addr6(i: usize) -> Ipv6Addr {
    let host = u16::try_from(10 + i).expect("few routers");
    Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, host)
}

/// Sequence number for names unique within this process.
fn next_seq() -> usize {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

// ---------------------------------------------------------------------------
// Preconditions
// ---------------------------------------------------------------------------

/// True when the test can run: root, and every tool in `tools` found (a bare
/// name on `PATH` or in the sbin directories, or an absolute path). Otherwise
/// prints `SKIPPED: why` and returns false — or panics under `CI=true`, where
/// nothing may skip. `ip`, `tcpdump` and `tshark` are always needed.
pub fn ready(tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root (network namespaces)".to_owned());
    }
    for tool in ["ip", "tcpdump", "tshark"].iter().chain(tools) {
        if find_tool(tool).is_none() {
            missing.push((*tool).to_owned());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("needs {}", missing.join(", "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and this test cannot run: {why}");
    }
    println!("SKIPPED: {why}");
    false
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Where `tool` is: itself if it is a path, else the first match on `PATH`
/// followed by the sbin directories.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    if tool.contains('/') {
        let p = PathBuf::from(tool);
        return p.is_file().then_some(p);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|dir| Path::new(dir).join(tool))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------
// Commands and processes
// ---------------------------------------------------------------------------

/// Runs `cmd args` and returns its stdout, or an error with the command,
/// status and stderr.
pub fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd} {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd} {}: {}: {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

/// [`run`] inside namespace `ns` (`ip netns exec`).
pub fn run_in(ns: &str, cmd: &str, args: &[&str]) -> Result<String, String> {
    let mut full = vec!["netns", "exec", ns, cmd];
    full.extend_from_slice(args);
    run("ip", &full)
}

/// `ip args`, panicking with the error: for lab set-up steps that must work.
fn ip(args: &[&str]) {
    if let Err(e) = run("ip", args) {
        panic!("lab set-up failed: {e}");
    }
}

/// A process started by the harness, in its own process group. Dropping it
/// SIGKILLs the group and reaps the process.
pub struct Proc {
    child: Child,
    exited: Option<ExitStatus>,
}

impl Proc {
    /// Starts `cmd` in its own process group with the given stdio.
    pub fn spawn(mut cmd: Command) -> Proc {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).stdin(Stdio::null());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Proc {
            child,
            exited: None,
        }
    }

    /// The process id, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn nix_pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.pid()).expect("pid fits i32"))
    }

    /// True while the process has not exited (it is reaped if it has).
    pub fn is_running(&mut self) -> bool {
        if self.exited.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.exited = Some(status);
                false
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Sends `signal` to the process itself.
    pub fn signal(&mut self, signal: Signal) {
        if self.is_running() {
            let _ = kill(self.nix_pid(), signal);
        }
    }

    /// Sends `signal` to the whole process group (the process and every
    /// child that stayed in its group).
    pub fn signal_group(&mut self, signal: Signal) {
        // The group may outlive its leader (a forked child): signal it anyway.
        let _ = killpg(self.nix_pid(), signal);
    }

    /// Waits up to `timeout` for the exit; its status, or `None` if still
    /// running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_until(timeout, || !self.is_running());
        self.exited
    }

    /// SIGKILLs the group and reaps the leader.
    pub fn kill_group(&mut self) -> ExitStatus {
        self.signal_group(Signal::SIGKILL);
        match self.exited {
            Some(s) => s,
            None => {
                let s = self.child.wait().expect("wait for a killed child");
                self.exited = Some(s);
                s
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Sends each whole IPv4 datagram of `packets` to `dst` out of `eth0` of
/// namespace `ns`, through an `IPPROTO_RAW` socket (the IP header is the
/// caller's), `gap` apart. Runs in a thread of its own that joins the
/// namespace (`setns` moves only the calling thread).
pub fn inject(
    ns: &str,
    dst: Ipv4Addr,
    packets: Vec<Vec<u8>>,
    gap: Duration,
) -> std::thread::JoinHandle<()> {
    use nix::sys::socket::{
        AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, sendto, setsockopt,
        socket, sockopt,
    };
    use std::os::fd::AsRawFd;
    let netns = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&netns).unwrap_or_else(|e| panic!("{netns}: {e}"));
        // SAFETY: setns on a valid namespace fd; it only moves this thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {netns}: {}", std::io::Error::last_os_error());
        let fd = socket(
            AddressFamily::Inet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::Raw,
        )
        .unwrap();
        setsockopt(&fd, sockopt::BindToDevice, &"eth0".into()).unwrap();
        let [a, b, c, d] = dst.octets();
        let to = SockaddrIn::new(a, b, c, d, 0);
        for (i, p) in packets.iter().enumerate() {
            if i > 0 {
                std::thread::sleep(gap);
            }
            let n = sendto(fd.as_raw_fd(), p, &to, MsgFlags::empty()).unwrap();
            assert_eq!(n, p.len(), "short send");
        }
    })
}

/// Starts `cmd args` inside namespace `ns`, output discarded; killed (with
/// its process group) when the returned [`Proc`] is dropped.
pub fn spawn_in(ns: &str, cmd: &str, args: &[&str]) -> Proc {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, cmd])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Proc::spawn(c)
}

/// Like [`spawn_in`], stdout and stderr appended to `log`.
pub fn spawn_in_logged(ns: &str, cmd: &str, args: &[&str], log: &Path) -> Proc {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
    let err = file.try_clone().expect("dup a log file");
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, cmd])
        .args(args)
        .stdout(file)
        .stderr(err);
    Proc::spawn(c)
}

/// Polls `cond` every 5 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True if `pid` has exited (gone, or a zombie awaiting its reaper).
pub fn pid_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X"),
    }
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

/// The IPv4 and IPv6 addresses of `iface` in `ns`, with their prefix
/// lengths, parsed from `ip -o -4 addr show` and `ip -o -6 addr show`.
pub fn addresses_of(ns: &str, iface: &str) -> Vec<(IpAddr, u8)> {
    let mut all = Vec::new();
    for family in ["-4", "-6"] {
        let out = run(
            "ip",
            &["-n", ns, "-o", family, "addr", "show", "dev", iface],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        all.extend(parse_ip_o_addr(&out));
    }
    all
}

/// Parses `ip -o addr show` lines: `2: eth0    inet 10.99.0.11/24 ...`.
pub fn parse_ip_o_addr(text: &str) -> Vec<(IpAddr, u8)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            let (addr, len) = words.next()?.split_once('/')?;
            Some((addr.parse().ok()?, len.parse().ok()?))
        })
        .collect()
}

/// True if `iface` in `ns` holds `addr`.
pub fn has_address(ns: &str, iface: &str, addr: Ipv4Addr) -> bool {
    addresses_of(ns, iface)
        .iter()
        .any(|(a, _)| *a == IpAddr::V4(addr))
}

/// True if `iface` in `ns` holds the IPv6 address `addr`.
pub fn has_address6(ns: &str, iface: &str, addr: Ipv6Addr) -> bool {
    addresses_of(ns, iface)
        .iter()
        .any(|(a, _)| *a == IpAddr::V6(addr))
}

/// The link-local address of `iface` in `ns`, waiting up to 3 s for it.
pub fn link_local_of(ns: &str, iface: &str) -> Ipv6Addr {
    let mut found = None;
    wait_until(Duration::from_secs(3), || {
        found = addresses_of(ns, iface)
            .into_iter()
            .find_map(|(a, _)| match a {
                IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
                _ => None,
            });
        found.is_some()
    });
    found.unwrap_or_else(|| panic!("no link-local address on {iface} in {ns}"))
}

/// The MAC address `ns`'s neighbour table holds for `addr` (`ip neigh`),
/// whatever the entry's state, if it has one.
pub fn neighbour_mac(ns: &str, addr: IpAddr) -> Option<[u8; 6]> {
    let out = run("ip", &["-n", ns, "neigh", "show", &addr.to_string()]).ok()?;
    let text = out
        .split_whitespace()
        .skip_while(|w| *w != "lladdr")
        .nth(1)?;
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    Some(mac)
}

/// The MAC address of `iface` in `ns`.
pub fn mac_of(ns: &str, iface: &str) -> [u8; 6] {
    let out = run("ip", &["-n", ns, "-o", "link", "show", "dev", iface])
        .unwrap_or_else(|e| panic!("{e}"));
    let text = out
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no link/ether in {out}"));
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next().unwrap_or(""), 16)
            .unwrap_or_else(|e| panic!("bad MAC {text}: {e}"));
    }
    mac
}

// ---------------------------------------------------------------------------
// The lab
// ---------------------------------------------------------------------------

/// One namespace on the lab LAN.
#[derive(Clone, Debug)]
pub struct Node {
    /// The namespace name.
    pub ns: String,
    /// Its address on `eth0`.
    pub addr: Ipv4Addr,
    /// Its IPv6 address on `eth0` (besides the link-local one).
    pub addr6: Ipv6Addr,
}

/// A LAN of namespaces; see the module doc.
pub struct Lab {
    /// `lab-<pid>-<seq>-<prefix>`: every namespace name starts with it.
    pub name: String,
    /// The namespace holding the bridge `br0`.
    pub lan: String,
    /// The routers, `routers[0]` named `…-r1` with address 10.99.0.11.
    pub routers: Vec<Node>,
    /// The client, 10.99.0.2.
    pub client: Node,
    /// A private temp directory for configs, logs and captures.
    pub dir: PathBuf,
    created: Vec<String>,
}

impl Lab {
    /// A lab with two routers.
    pub fn new(prefix: &str) -> Lab {
        Lab::with_routers(prefix, 2)
    }

    /// A lab with `n` routers.
    pub fn with_routers(prefix: &str, n: usize) -> Lab {
        remove_stale_labs();
        let name = format!("lab-{}-{}-{prefix}", std::process::id(), next_seq());
        let dir = std::env::temp_dir().join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let mut lab = Lab {
            lan: format!("{name}-lan"),
            routers: (1..=n)
                .map(|i| Node {
                    ns: format!("{name}-r{i}"),
                    addr: router_addr(i),
                    addr6: router_addr6(i),
                })
                .collect(),
            client: Node {
                ns: format!("{name}-client"),
                addr: CLIENT_ADDR,
                addr6: CLIENT_ADDR6,
            },
            name,
            dir,
            created: Vec::new(),
        };
        // From here a panic drops `lab`, which deletes what exists so far.
        lab.add_ns(&lab.lan.clone());
        let lan = lab.lan.clone();
        ip(&["-n", &lan, "link", "add", "br0", "type", "bridge"]);
        // No STP delay, no IGMP snooping: VRRP's 224.0.0.18 and ARP
        // broadcasts reach every port and br0 itself (the capture point).
        ip(&[
            "-n",
            &lan,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &lan, "link", "set", "br0", "up"]);
        let nodes: Vec<(String, Node)> = lab
            .routers
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("r{}", i + 1), n.clone()))
            .chain([("client".to_owned(), lab.client.clone())])
            .collect();
        for (port, node) in nodes {
            lab.add_ns(&node.ns);
            ip(&[
                "-n", &lan, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &node.ns,
            ]);
            ip(&["-n", &lan, "link", "set", &port, "master", "br0", "up"]);
            let cidr = format!("{}/{PREFIX_LEN}", node.addr);
            ip(&["-n", &node.ns, "addr", "add", &cidr, "dev", "eth0"]);
            let cidr6 = format!("{}/{PREFIX_LEN6}", node.addr6);
            ip(&[
                "-n", &node.ns, "addr", "add", &cidr6, "dev", "eth0", "nodad",
            ]);
            ip(&["-n", &node.ns, "link", "set", "eth0", "up"]);
        }
        lab
    }

    fn add_ns(&mut self, ns: &str) {
        ip(&["netns", "add", ns]);
        self.created.push(ns.to_owned());
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        // No duplicate address detection (links made later inherit
        // `default`): link-local addresses and IPv6 VIPs work at once.
        let sysctl = find_tool("sysctl").expect("sysctl (procps)");
        if let Err(e) = run_in(
            ns,
            sysctl.to_str().expect("UTF-8 path"),
            &[
                "-qw",
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
            ],
        ) {
            panic!("lab set-up failed: {e}");
        }
    }

    /// Router `i`, 1-based like the namespace names (`…-r1` is `router(1)`).
    pub fn router(&self, i: usize) -> &Node {
        &self.routers[i - 1]
    }

    /// A new unique path in the lab's directory: `<stem>-<seq>.<ext>`.
    pub fn path(&self, stem: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{stem}-{}.{ext}", next_seq()))
    }

    /// The client pings `addr` once (`ping -c1 -W1`): true on a reply.
    pub fn client_pings(&self, addr: Ipv4Addr) -> bool {
        run_in(
            &self.client.ns,
            "ping",
            &["-n", "-c1", "-W1", &addr.to_string()],
        )
        .is_ok()
    }

    /// The client pings the IPv6 `addr` once (`ping -6 -c1 -W1`): true on a
    /// reply.
    pub fn client_pings6(&self, addr: Ipv6Addr) -> bool {
        run_in(
            &self.client.ns,
            "ping",
            &["-6", "-n", "-c1", "-W1", &addr.to_string()],
        )
        .is_ok()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.created {
            kill_all_in(ns);
        }
        for ns in self.created.iter().rev() {
            if let Err(e) = run("ip", &["netns", "del", ns]) {
                eprintln!("lab clean-up: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// SIGKILLs every process still running in `ns` (all were started by the
/// harness there) and waits briefly for them to go.
fn kill_all_in(ns: &str) {
    let pids: Vec<u32> = run("ip", &["netns", "pids", ns])
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for &pid in &pids {
        if let Ok(raw) = i32::try_from(pid) {
            let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
        }
    }
    wait_until(Duration::from_secs(2), || pids.iter().all(|&p| pid_gone(p)));
}

/// Deletes namespaces of labs whose test process died without its `Drop`
/// (SIGKILL, abort): names `lab-<pid>-…` with `<pid>` gone and nothing
/// running inside, and their temp directories.
fn remove_stale_labs() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = ns
            .strip_prefix("lab-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let empty = run("ip", &["netns", "pids", ns]).is_ok_and(|p| p.trim().is_empty());
        if pid_gone(pid) && empty {
            let _ = run("ip", &["netns", "del", ns]);
        }
    }
    let Ok(dirs) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for dir in dirs.flatten() {
        let name = dir.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("lab-"))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(pid_gone) {
            let _ = std::fs::remove_dir_all(dir.path());
        }
    }
}
