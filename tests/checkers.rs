//! picket's health checkers against real servers from Debian packages, in
//! network namespaces made here: picket runs in the router namespace `r1`,
//! the servers in the client namespace (10.99.0.2, fd00:99::2), on one
//! bridge.
//!
//! - every checker kind (TCP, HTTP, SMTP — aiosmtpd, DNS — dnsmasq, UDP —
//!   socat, PING, MISC run as `user nobody`), IPv4 and IPv6: up while the server serves, down
//!   within the bound below once it is stopped, up again after one good
//!   run;
//! - HTTP: the digest `genhash` prints for nginx's page, and for a chunked
//!   HTTP/1.1 answer, is accepted, a wrong one is not; `status_code` ranges
//!   decide;
//! - quorum lost and regained run `quorum_down` and `quorum_up` exactly
//!   once each, the sorry server is in the state log while all are down;
//! - 200 black-holed servers (frames to a MAC nobody has) time out while
//!   an HTTP check stays up and a VRRP instance of the same picket keeps its
//!   100 ms adverts on time (capture of the bridge);
//! - a hostile server (random bytes, an endless header, a slow drip, a
//!   bad SMTP banner) never crashes picket and is never up;
//! - this machine's kernel has no IPVS: picket says so once, as an error,
//!   asks the kernel again every 5 s, and runs on — its checks detect a
//!   stopped server, its VRRP instance becomes master.
//!
//! Detection bound tested (server stopped → "Removing service" logged):
//! `delay_loop + (retry + 1) × connect_timeout + retry × delay_before_retry`
//! plus 0.5 s of slack; with the timings here (1, 1, 1, 0.5) that is 4 s.
//!
//! Needs root, iproute2, tcpdump, tshark, nginx, dnsmasq, socat, Debian's
//! python3 with aiosmtpd and keepalived's genhash; otherwise
//! `SKIPPED: why` (a failure under `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::time::Duration;

use lab::{Capture, Daemon, Lab, Proc, Router, run, run_in, spawn_in_logged, wait_until};
use nix::sys::signal::Signal;

/// Debian's python (aiosmtpd is a Debian package for it).
const PYTHON: &str = "/usr/bin/python3";
const TOOLS: &[&str] = &["nginx", "dnsmasq", "socat", "genhash", PYTHON, "keepalived"];

/// Timing of every check here.
const TIMING: &str =
    "connect_timeout 1\n retry 1\n delay_before_retry 0.5\n delay_loop 1\n warmup 0.5\n";
/// `delay_loop + (retry + 1) × connect_timeout + retry × dbr` + slack.
const DOWN_BOUND: Duration = Duration::from_millis(1000 + 2000 + 500 + 500);

fn ready() -> bool {
    if !lab::ready(TOOLS) {
        return false;
    }
    let ok = std::process::Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and python3-aiosmtpd is missing"
        );
        println!("SKIPPED: needs python3-aiosmtpd");
    }
    ok
}

/// The lab: picket's namespace r1 and the servers' namespace (the lab's
/// client, fd00:99::2 for IPv6) with an extra IPv4 address for ping.
fn lab(prefix: &str) -> Lab {
    let lab = Lab::with_routers(prefix, 1);
    let srv = &lab.client.ns;
    run(
        "ip",
        &["-n", srv, "addr", "add", "10.99.0.3/24", "dev", "eth0"],
    )
    .unwrap();
    lab
}

/// Servers in the servers' namespace.
struct Servers<'a> {
    lab: &'a Lab,
    www: std::path::PathBuf,
}

impl<'a> Servers<'a> {
    fn new(lab: &'a Lab) -> Self {
        let www = lab.dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(
            www.join("index.html"),
            "<html><body>picket checks this page</body></html>\n",
        )
        .unwrap();
        Servers { lab, www }
    }

    fn log(&self, name: &str) -> std::path::PathBuf {
        self.lab.dir.join(format!("{name}.log"))
    }

    fn nginx(&self) -> Proc {
        let conf = self.lab.dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off; pid {dir}/nginx.pid; error_log {dir}/nginx.err;\n\
                 events {{}}\n\
                 http {{ access_log off; server {{ listen 10.99.0.2:80; listen [fd00:99::2]:80; listen 10.99.0.2:8080; root {www}; }} }}\n",
                dir = self.lab.dir.display(),
                www = self.www.display()
            ),
        )
        .unwrap();
        let p = spawn_in_logged(
            &self.lab.client.ns,
            "nginx",
            &["-c", conf.to_str().unwrap()],
            &self.log("nginx"),
        );
        self.wait_port("10.99.0.2", 80, false);
        p
    }

    fn smtp(&self) -> Proc {
        let p = spawn_in_logged(
            &self.lab.client.ns,
            PYTHON,
            &["-m", "aiosmtpd", "-n", "-l", "10.99.0.2:2525"],
            &self.log("smtp"),
        );
        self.wait_port("10.99.0.2", 2525, false);
        p
    }

    fn dns(&self) -> Proc {
        let pid = self.lab.dir.join("dnsmasq.pid");
        let p = spawn_in_logged(
            &self.lab.client.ns,
            "dnsmasq",
            &[
                "-k",
                "-C",
                "/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--user=root",
                "--bind-interfaces",
                "--listen-address=10.99.0.2",
                "--port=53",
                "--host-record=check.test,10.1.2.3",
                &format!("--pid-file={}", pid.display()),
            ],
            &self.log("dnsmasq"),
        );
        self.wait_port("10.99.0.2", 53, true);
        p
    }

    fn udp_echo(&self) -> Proc {
        let p = spawn_in_logged(
            &self.lab.client.ns,
            "socat",
            &["UDP4-RECVFROM:9000,bind=10.99.0.2,fork,reuseaddr", "PIPE"],
            &self.log("socat"),
        );
        self.wait_port("10.99.0.2", 9000, true);
        p
    }

    /// Waits until something listens on `addr:port` in the servers'
    /// namespace.
    fn wait_port(&self, addr: &str, port: u16, udp: bool) {
        let flag = if udp { "-lun" } else { "-ltn" };
        let want = format!("{addr}:{port}");
        assert!(
            wait_until(Duration::from_secs(10), || {
                run_in(&self.lab.client.ns, "ss", &[flag]).is_ok_and(|o| o.contains(&want))
            }),
            "nothing listens on {want}"
        );
    }
}

/// A virtual server 10.99.1.`n` with one real server `rs` and `check`.
fn vs(n: u8, proto: &str, rs: &str, check: &str, extra: &str) -> String {
    let vip = if rs.contains(':') {
        format!("fd00:99:1::{n}")
    } else {
        format!("10.99.1.{n}")
    };
    format!(
        "virtual_server {vip} 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol {proto}\n {extra}\n \
         real_server {rs} {{\n  {check}\n }}\n}}\n"
    )
}

/// Monotonic seconds, the clock of picket's log timestamps.
fn mono() -> f64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9
}

/// The timestamp of the first log line after `from` that contains
/// `needle`, waiting up to `timeout`.
fn logged_at(r: &Router, needle: &str, from: f64, timeout: Duration) -> Option<f64> {
    let mut found = None;
    wait_until(timeout, || {
        found = r.log_text().lines().find_map(|l| {
            let ts: f64 = l
                .strip_prefix('[')?
                .split(']')
                .next()?
                .trim()
                .parse()
                .ok()?;
            (ts >= from && l.contains(needle)).then_some(ts)
        });
        found.is_some()
    });
    found
}

#[test]
fn every_checker_against_real_servers() {
    if !ready() {
        return;
    }
    let lab = lab("chk");
    let servers = Servers::new(&lab);
    let mut nginx = Some(servers.nginx());
    let mut smtp = Some(servers.smtp());
    let mut dns = Some(servers.dns());
    let mut udp = Some(servers.udp_echo());
    let ok_file = lab.dir.join("misc-ok");
    std::fs::write(&ok_file, "").unwrap();
    let checks: [(u8, &str, &str, String); 9] = [
        (
            1,
            "TCP",
            "10.99.0.2 80",
            format!("TCP_CHECK {{\n {TIMING} }}"),
        ),
        (
            2,
            "TCP",
            "10.99.0.2 80",
            format!(
                "HTTP_GET {{\n url {{\n  path /index.html\n  status_code 200\n }}\n {TIMING} }}"
            ),
        ),
        (
            3,
            "TCP",
            "10.99.0.2 2525",
            format!("SMTP_CHECK {{\n helo_name picket.test\n {TIMING} }}"),
        ),
        (
            4,
            "UDP",
            "10.99.0.2 53",
            format!("DNS_CHECK {{\n type A\n name check.test\n {TIMING} }}"),
        ),
        (
            5,
            "UDP",
            "10.99.0.2 9000",
            format!("UDP_CHECK {{\n payload 70696e67\n require_reply 70696e67\n {TIMING} }}"),
        ),
        (
            6,
            "TCP",
            "10.99.0.3 80",
            format!("PING_CHECK {{\n {TIMING} }}"),
        ),
        (
            7,
            "TCP",
            "10.99.0.2 80",
            format!(
                "MISC_CHECK {{\n misc_path \"/bin/sh -c '[ $(id -u) -eq 65534 ] && test -f {}'\"\n user nobody\n misc_timeout 1\n retry 1\n delay_before_retry 0.5\n delay_loop 1\n warmup 0.5\n }}",
                ok_file.display()
            ),
        ),
        (
            8,
            "TCP",
            "fd00:99::2 80",
            format!("HTTP_GET {{\n url {{\n  path /\n }}\n http_protocol 1.1\n {TIMING} }}"),
        ),
        (
            9,
            "TCP",
            "fd00:99::2 80",
            format!("TCP_CHECK {{\n {TIMING} }}"),
        ),
    ];
    let conf: String = checks
        .iter()
        .map(|(n, p, rs, c)| vs(*n, p, rs, c, "alpha"))
        .collect();
    let start = mono();
    let picket = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf);
    let names = [
        "TCP", "HTTP", "SMTP", "DNS", "UDP", "PING", "MISC", "HTTP6", "TCP6",
    ];
    // alpha: every server starts down and comes up on its first good run.
    for (n, name) in (1..=9).zip(names) {
        let vip = if n >= 8 {
            format!("[fd00:99:1::{n}]")
        } else {
            format!("[10.99.1.{n}]")
        };
        assert!(
            logged_at(
                &picket,
                &format!("to VS {vip}"),
                start,
                Duration::from_secs(10)
            )
            .is_some(),
            "{name} never up:\n{}",
            picket.log_text()
        );
    }
    // Stop every server at once.
    let stopped = mono();
    drop(nginx.take());
    drop(smtp.take());
    drop(dns.take());
    drop(udp.take());
    run(
        "ip",
        &[
            "-n",
            &lab.client.ns,
            "addr",
            "del",
            "10.99.0.3/24",
            "dev",
            "eth0",
        ],
    )
    .unwrap();
    std::fs::remove_file(&ok_file).unwrap();
    let mut worst = 0.0f64;
    for (n, name) in (1..=9).zip(names) {
        let vip = if n >= 8 {
            format!("[fd00:99:1::{n}]")
        } else {
            format!("[10.99.1.{n}]")
        };
        let at = logged_at(
            &picket,
            &format!("from VS {vip}"),
            stopped,
            DOWN_BOUND + Duration::from_secs(2),
        )
        .unwrap_or_else(|| panic!("{name} never down:\n{}", picket.log_text()));
        let took = at - stopped;
        println!("{name}: down {took:.3} s after the stop");
        assert!(
            took <= DOWN_BOUND.as_secs_f64(),
            "{name}: down after {took:.3} s"
        );
        worst = worst.max(took);
    }
    println!("slowest detection {worst:.3} s (bound {:?})", DOWN_BOUND);
    // Back: one good run each.
    let restarted = mono();
    let _nginx = servers.nginx();
    let _smtp = servers.smtp();
    let _dns = servers.dns();
    let _udp = servers.udp_echo();
    run(
        "ip",
        &[
            "-n",
            &lab.client.ns,
            "addr",
            "add",
            "10.99.0.3/24",
            "dev",
            "eth0",
        ],
    )
    .unwrap();
    std::fs::write(&ok_file, "").unwrap();
    for (n, name) in (1..=9).zip(names) {
        let vip = if n >= 8 {
            format!("[fd00:99:1::{n}]")
        } else {
            format!("[10.99.1.{n}]")
        };
        assert!(
            logged_at(
                &picket,
                &format!("to VS {vip}"),
                restarted,
                Duration::from_secs(5)
            )
            .is_some(),
            "{name} not up again:\n{}",
            picket.log_text()
        );
    }
}

#[test]
fn http_digest_is_genhash_s_and_status_ranges_decide() {
    if !ready() {
        return;
    }
    let lab = lab("dig");
    let servers = Servers::new(&lab);
    let _nginx = servers.nginx();
    let out = run_in(
        &lab.router(1).ns,
        "genhash",
        &["-s", "10.99.0.2", "-p", "80", "-u", "/index.html"],
    )
    .unwrap();
    let digest = out
        .split_whitespace()
        .last()
        .filter(|d| d.len() == 32)
        .unwrap_or_else(|| panic!("genhash said {out}"))
        .to_owned();
    println!("genhash digest of /index.html: {digest}");
    // A chunked response (HTTP/1.1), from a small server: genhash hashes
    // the body as it comes, chunk sizes included; so must picket.
    let chunked = lab.dir.join("chunked.py");
    std::fs::write(&chunked, CHUNKED).unwrap();
    let _chunked = spawn_in_logged(
        &lab.client.ns,
        PYTHON,
        &[chunked.to_str().unwrap()],
        &lab.dir.join("chunked.log"),
    );
    servers.wait_port("10.99.0.2", 8081, false);
    let out = run_in(
        &lab.router(1).ns,
        "genhash",
        &["-s", "10.99.0.2", "-p", "8081", "-u", "/", "-P", "1.1"],
    )
    .unwrap();
    let chunked_digest = out.split_whitespace().last().unwrap_or("").to_owned();
    assert_eq!(chunked_digest.len(), 32, "genhash said {out}");
    let url = |path: &str, extra: &str| {
        format!("HTTP_GET {{\n url {{\n  path {path}\n  {extra}\n }}\n {TIMING} }}")
    };
    let conf = [
        vs(
            1,
            "TCP",
            "10.99.0.2 80",
            &url("/index.html", &format!("digest {digest}")),
            "alpha",
        ),
        vs(
            2,
            "TCP",
            "10.99.0.2 80",
            &url("/index.html", "digest 00000000000000000000000000000000"),
            "alpha",
        ),
        vs(
            3,
            "TCP",
            "10.99.0.2 80",
            &url("/missing", "status_code 400-499"),
            "alpha",
        ),
        vs(
            4,
            "TCP",
            "10.99.0.2 80",
            &url("/missing", "status_code 200-299 500-599"),
            "alpha",
        ),
        vs(
            5,
            "TCP",
            "10.99.0.2 80",
            &url("/index.html", "status_code 100-199 201-599"),
            "alpha",
        ),
        vs(
            6,
            "TCP",
            "10.99.0.2 8081",
            &format!(
                "HTTP_GET {{\n url {{\n  path /\n  digest {chunked_digest}\n }}\n http_protocol 1.1\n {TIMING} }}"
            ),
            "alpha",
        ),
    ]
    .concat();
    let start = mono();
    let mut picket = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf);
    for n in [1, 3, 6] {
        assert!(
            logged_at(
                &picket,
                &format!("to VS [10.99.1.{n}]"),
                start,
                Duration::from_secs(8)
            )
            .is_some(),
            "VS {n} never up:\n{}",
            picket.log_text()
        );
    }
    // Give the others three more runs to (wrongly) come up.
    std::thread::sleep(Duration::from_secs(3));
    for n in [2, 4, 5] {
        assert!(
            !picket.log_text().contains(&format!("to VS [10.99.1.{n}]")),
            "VS {n} came up:\n{}",
            picket.log_text()
        );
    }
    let log = picket.log_text();
    assert!(log.contains("MD5 digest error"), "{log}");
    assert!(log.contains("HTTP status code error"), "{log}");
    picket.stop();
}

#[test]
fn quorum_scripts_once_each_and_sorry_server() {
    if !ready() {
        return;
    }
    let lab = lab("quo");
    let servers = Servers::new(&lab);
    let mut nginx = Some(servers.nginx());
    let trace = lab.dir.join("quorum.trace");
    let conf = format!(
        "virtual_server 10.99.1.1 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n quorum 2\n \
         quorum_up \"/bin/sh -c 'echo up >> {t}'\"\n quorum_down \"/bin/sh -c 'echo down >> {t}'\"\n \
         sorry_server 10.99.0.50 80\n \
         real_server 10.99.0.2 80 {{\n  TCP_CHECK {{\n {TIMING}  }}\n }}\n \
         real_server 10.99.0.2 8080 {{\n  inhibit_on_failure\n  HTTP_GET {{\n   url {{\n    path /\n   }}\n {TIMING}  }}\n }}\n}}\n",
        t = trace.display()
    );
    let mut picket = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf);
    assert!(
        picket.wait_log("Remote Web server", Duration::from_secs(5)),
        "{}",
        picket.log_text()
    );
    let stopped = mono();
    drop(nginx.take());
    assert!(
        logged_at(&picket, "Lost quorum", stopped, DOWN_BOUND).is_some(),
        "{}",
        picket.log_text()
    );
    // Both dead: the state log shows the sorry server in the pool.
    assert!(wait_until(Duration::from_secs(5), || picket
        .log_text()
        .matches("Removing service")
        .count()
        + picket.log_text().matches("Disabling service").count()
        >= 2));
    let marker = mono();
    picket.signal_daemon(Signal::SIGUSR1);
    assert!(
        logged_at(
            &picket,
            "sorry server active",
            marker,
            Duration::from_secs(3)
        )
        .is_some(),
        "{}",
        picket.log_text()
    );
    assert!(
        logged_at(
            &picket,
            "in pool: inhibited (weight 0)",
            marker,
            Duration::from_secs(3)
        )
        .is_some()
    );
    let back = mono();
    let _nginx = servers.nginx();
    assert!(
        logged_at(&picket, "Gained quorum", back, Duration::from_secs(5)).is_some(),
        "{}",
        picket.log_text()
    );
    std::thread::sleep(Duration::from_secs(2));
    picket.stop();
    let lines = std::fs::read_to_string(&trace).unwrap_or_default();
    assert_eq!(lines, "down\nup\n", "quorum scripts ran:\n{lines}");
}

#[test]
fn black_holed_servers_time_out_without_delaying_others_or_vrrp() {
    if !ready() {
        return;
    }
    let lab = lab("blk");
    let servers = Servers::new(&lab);
    let _nginx = servers.nginx();
    let r1 = lab.router(1).ns.clone();
    // 200 addresses whose frames go to a MAC nobody has: dropped.
    let mut conf = String::from(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 61\n priority 200\n version 3\n advert_int 0.1\n \
         virtual_ipaddress {\n  10.99.0.100/24\n }\n}\n",
    );
    conf += "virtual_server 10.99.1.1 80 {\n lvs_sched rr\n lvs_method DR\n protocol TCP\n";
    for i in 0..200 {
        let addr = format!("10.99.0.{}", 50 + i);
        run(
            "ip",
            &[
                "-n",
                &r1,
                "neigh",
                "replace",
                &addr,
                "lladdr",
                "02:00:00:00:99:99",
                "dev",
                "eth0",
                "nud",
                "permanent",
            ],
        )
        .unwrap();
        conf += &format!(" real_server {addr} 80 {{\n  TCP_CHECK {{\n {TIMING} }}\n }}\n");
    }
    conf += &format!(
        " real_server 10.99.0.2 80 {{\n  HTTP_GET {{\n   url {{\n    path /\n   }}\n {TIMING}  }}\n }}\n}}\n"
    );
    let capture = Capture::start(&lab, &lab.lan, "br0", "ip proto 112");
    let start = mono();
    let mut picket = Daemon::Picket.start(&lab, &r1, &conf);
    let log = |p: &Router| p.log_text();
    assert!(
        wait_until(Duration::from_secs(10), || log(&picket)
            .matches("TCP_CHECK on service")
            .count()
            >= 200),
        "black-holed servers not all down:\n{}",
        log(&picket)
    );
    let after = mono() - start;
    std::thread::sleep(Duration::from_secs(2));
    let text = log(&picket);
    assert!(
        text.contains("TCP connection to [10.99.0.50]:tcp:80 timeout."),
        "{text}"
    );
    assert!(
        text.contains("Remote Web server [10.99.0.2]:tcp:80 succeed"),
        "{text}"
    );
    assert!(
        !text.contains("HTTP_CHECK on service [10.99.0.2]"),
        "the good server failed:\n{text}"
    );
    picket.stop();
    let adverts = capture.adverts();
    let mine: Vec<_> = adverts
        .iter()
        .filter(|a| a.vrid == 61 && a.priority == 200)
        .collect();
    assert!(mine.len() >= 30, "{} adverts", mine.len());
    let gaps: Vec<f64> = mine
        .windows(2)
        .map(|w| (w[1].ts_us - w[0].ts_us) as f64 / 1000.0)
        .collect();
    let worst = gaps.iter().copied().fold(0.0, f64::max);
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{} adverts while 200 checks timed out ({after:.1} s); gaps: median {median:.2} ms, largest {worst:.2} ms",
        mine.len()
    );
    // A loop blocked by a connect would stretch a gap to connect_timeout
    // (1 s); scheduling noise on a loaded two-core machine stays far below.
    assert!(
        (99.0..=103.0).contains(&median),
        "median advert gap {median:.2} ms"
    );
    assert!(worst < 250.0, "advert gap {worst:.2} ms");
}

#[test]
fn hostile_servers_never_crash_picket_and_never_pass() {
    if !ready() {
        return;
    }
    let lab = lab("hos");
    let script = lab.dir.join("hostile.py");
    std::fs::write(&script, HOSTILE).unwrap();
    let _hostile = spawn_in_logged(
        &lab.client.ns,
        PYTHON,
        &[script.to_str().unwrap()],
        &lab.dir.join("hostile.log"),
    );
    let servers = Servers::new(&lab);
    for port in [7001, 7002, 7003, 7004, 7005] {
        servers.wait_port("10.99.0.2", port, false);
    }
    let http = |port: u16| {
        format!(
            "HTTP_GET {{\n  url {{\n   path /\n   digest 00112233445566778899aabbccddeeff\n  }}\n  connect_timeout 1\n  retry 0\n  delay_loop 0.3\n  warmup 0\n }}\n real_server 10.99.0.2 {port} {{\n"
        )
    };
    let mut conf = String::from(
        "virtual_server 10.99.1.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n alpha\n",
    );
    for port in [7001, 7002, 7003, 7005] {
        conf += &format!(
            " real_server 10.99.0.2 {port} {{\n {}",
            http(port).split(" real_server").next().unwrap()
        );
        conf += " }\n";
    }
    conf += " real_server 10.99.0.2 7004 {\n  SMTP_CHECK {\n   connect_timeout 1\n   retry 0\n   delay_loop 0.3\n   warmup 0\n  }\n }\n}\n";
    let mut picket = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf);
    std::thread::sleep(Duration::from_secs(6));
    assert!(picket.is_running(), "picket died:\n{}", picket.log_text());
    let marker = mono();
    picket.signal_daemon(Signal::SIGUSR2);
    let at = logged_at(&picket, "checkers:", marker, Duration::from_secs(3));
    assert!(at.is_some());
    let text = picket.log_text();
    let stats = text
        .lines()
        .rev()
        .find(|l| l.contains("checkers:"))
        .unwrap_or("");
    println!("{stats}");
    let count = |name: &str| -> u64 {
        stats
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    assert!(count("garbage") > 0, "{stats}");
    assert!(count("too_long") > 0, "{stats}");
    assert!(count("timeouts") > 0, "{stats}");
    assert_eq!(count("successes"), 0, "{stats}");
    assert!(
        !text.contains("Adding service"),
        "a hostile server came up:\n{text}"
    );
    assert!(picket.stop().success());
}

/// An HTTP/1.1 server answering with a chunked body (two chunks and a
/// trailer), then closing.
const CHUNKED: &str = r#"
import socket, threading

def handle(c):
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  b"7\r\npicket \r\n6;x=1\r\nchunks\r\n0\r\nX-Trailer: 1\r\n\r\n")
    finally:
        c.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.2", 8081))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;

/// Hostile servers: 7001 random bytes, 7002 an endless header, 7003 a
/// slow drip (one byte every 100 ms), 7004 a garbage SMTP banner, 7005 a
/// good head and a body that never matches the digest.
const HOSTILE: &str = r#"
import os, socket, threading, time

def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.99.0.2", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=wrap, args=(c, handler), daemon=True).start()

def wrap(c, handler):
    try:
        c.settimeout(5)
        handler(c)
    except Exception:
        pass
    finally:
        c.close()

def random_bytes(c):
    c.recv(4096)
    c.sendall(os.urandom(3000))

def endless_header(c):
    c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(1000):
        c.sendall(b"X-Endless: " + b"a" * 100 + b"\r\n")

def slow_drip(c):
    c.recv(4096)
    for b in b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello":
        c.sendall(bytes([b]))
        time.sleep(0.1)

def smtp_garbage(c):
    c.sendall(os.urandom(200) + b"\r\n")
    time.sleep(2)

def wrong_body(c):
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + os.urandom(500))

for port, h in [(7001, random_bytes), (7002, endless_header), (7003, slow_drip), (7004, smtp_garbage), (7005, wrong_body)]:
    threading.Thread(target=serve, args=(port, h), daemon=True).start()
while True:
    time.sleep(1)
"#;

#[test]
fn without_ipvs_the_error_is_logged_once_and_checks_and_vrrp_run_on() {
    if !ready() {
        return;
    }
    let lab = lab("noipvs");
    let servers = Servers::new(&lab);
    let mut nginx = Some(servers.nginx());
    let conf = format!(
        "vrrp_instance VI_1 {{\n state BACKUP\n interface eth0\n virtual_router_id 51\n \
         priority 100\n advert_int 0.2\n virtual_ipaddress {{\n  10.99.0.100/24\n }}\n}}\n{}",
        vs(
            1,
            "TCP",
            "10.99.0.2 80",
            &format!("TCP_CHECK {{\n {TIMING}  }}"),
            ""
        )
    );
    let mut picket = Daemon::Picket.start(&lab, &lab.router(1).ns, &conf);
    assert!(
        picket.wait_log("Entering MASTER STATE", Duration::from_secs(5)),
        "VRRP runs without IPVS:\n{}",
        picket.log_text()
    );
    let stopped = mono();
    drop(nginx.take());
    assert!(
        logged_at(&picket, "Removing service", stopped, DOWN_BOUND).is_some(),
        "checks run without IPVS:\n{}",
        picket.log_text()
    );
    // Past two retries of the family lookup (every 5 s from the start).
    std::thread::sleep(Duration::from_secs(7));
    let marker = mono();
    picket.signal_daemon(Signal::SIGUSR2);
    assert!(
        logged_at(&picket, "link unavailable", marker, Duration::from_secs(3)).is_some(),
        "{}",
        picket.log_text()
    );
    let log = picket.log_text();
    let line = log
        .lines()
        .rfind(|l| l.contains("link unavailable"))
        .unwrap();
    let lookups: u64 = line
        .split(" lookups without IPVS")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no lookup count in: {line}"));
    assert!(lookups >= 3, "asked at start and again every 5 s: {line}");
    assert_eq!(
        log.matches("IPVS unavailable: virtual servers are not programmed")
            .count(),
        1,
        "said once:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("IPVS unavailable")),
        "as an error"
    );
    assert!(picket.is_running());
    picket.stop();
}
