//! Faults of picket's own process (issue 9, fault injection; the network
//! faults are in `vrrp_faults.rs`), each with picket (priority 150) master
//! beside Debian's keepalived 2.2.7 (100) on the lab bridge, watched by
//! tcpdump:
//!
//! - SIGSTOP for 2 × Master_Down_Interval, then SIGCONT: keepalived takes
//!   over, picket takes back at once with one advert, no burst, no
//!   transition of its own;
//! - steps of the wall clock (+1 h, −1 h, −1 h, +1 day) under libfaketime:
//!   nothing happens, adverts stay on their 1 s;
//! - a full tmpfs under the dump files, the pid file and the watchdog state
//!   file, in a mount namespace of picket's own: each write fails with a
//!   log line naming the file and ENOSPC, nothing half-written is left,
//!   VRRP goes on; with room again the dumps are written.
//!
//! Each test prints its figures (`--nocapture`). Needs root, iproute2,
//! tcpdump, tshark, keepalived, unshare and nsenter, and for the clock
//! steps libfaketime (Debian package `libfaketime`) and rustc; otherwise
//! `SKIPPED: why` (a failure under `CI=true`). Run with
//! `cargo test --test vrrp_faults_process -- --nocapture --test-threads=1`
//! (about 40 s).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod lab;

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lab::status::{document, instance};
use lab::{Advert, Capture, Daemon, Lab, Proc, Router, VIP, has_address, now_us, wait_until};
use nix::sys::signal::Signal;

const VRID: u8 = 52;
const HIGH: u8 = 150;
const LOW: u8 = 100;

/// One router's keepalived.conf: VRRPv2, VRID 52, 1 s, VIP 10.99.0.100/24.
fn conf(priority: u8, global: &str) -> String {
    format!(
        "global_defs {{
    router_id lab-f{priority}
{global}}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {VRID}
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
    )
}

/// Master_Down_Interval of a VRRPv2 backup of `priority` at 1 s, µs
/// (RFC 3768 §6.1: 3 × Advertisement_Interval + Skew_Time).
fn master_down_us(priority: u8) -> u64 {
    3_000_000 + (256 - u64::from(priority)) * 1_000_000 / 256
}

/// The adverts of `src` in `[from, to)` (capture clock, µs).
fn sent_by(ads: &[Advert], src: Ipv4Addr, from: u64, to: u64) -> Vec<&Advert> {
    ads.iter()
        .filter(|a| a.vrid == VRID && a.src == src && a.ts_us >= from && a.ts_us < to)
        .collect()
}

/// `(to_master, to_backup)` of picket's instance VI_1, from its status
/// socket.
fn transitions(sock: &Path) -> (u64, u64) {
    let doc = document(sock);
    let t = &instance(&doc, "VI_1")["transitions"];
    (
        t["to_master"].as_u64().unwrap(),
        t["to_backup"].as_u64().unwrap(),
    )
}

/// Starts keepalived (100) on router 2 and waits until picket, on router
/// 1 with its status socket at `sock`, is master beside it as backup.
fn keepalived_backup(lab: &Lab, sock: &Path) -> Router {
    let keepalived = Daemon::Keepalived.start(lab, &lab.router(2).ns, &conf(LOW, ""));
    assert!(
        wait_until(Duration::from_secs(15), || has_address(
            &lab.router(1).ns,
            "eth0",
            VIP
        ) && keepalived
            .log_text()
            .contains("Entering BACKUP STATE")
            && sock.exists()),
        "picket never became master beside a keepalived backup"
    );
    keepalived
}

/// Lines of `log` holding `needle`.
fn count_lines(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

/// SIGSTOP of picket, master at priority 150, for 2 × the backup's
/// Master_Down_Interval (keepalived, 100: 3 × 1 s + Skew_Time 0.609 s =
/// 3.609 s, stop 7.219 s). keepalived takes over within one
/// Master_Down_Interval of the stop (RFC 3768 §6.4.2: its Master_Down_Timer
/// is not reset any more). After SIGCONT:
///
/// - picket's Adver_Timer expired while it was stopped, so it advertises at
///   once (§6.4.3; one advert, not one per missed interval), and keepalived,
///   master hearing a higher priority, goes Backup at once (§6.4.3): one
///   master, picket, holding the VIP alone within one
///   Advertisement_Interval (1 s) of SIGCONT;
/// - the adverts keepalived sent meanwhile wait in picket's socket and are
///   read in one loop turn: answered once (one advert, one GARP burst), not
///   once each — in the first second after SIGCONT picket sends exactly one
///   advert, at priority 150;
/// - picket makes no transition (its status counts and log), keepalived
///   exactly MASTER then BACKUP, and picket's adverts go on at 1 s.
#[test]
fn sigstop_for_two_master_down_intervals_then_rejoins_cleanly() {
    if !lab::ready(&[lab::daemon::KEEPALIVED]) {
        return;
    }
    let lab = Lab::new("stop");
    let (r1, r2) = (lab.router(1).clone(), lab.router(2).clone());
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp or arp");
    let sock = lab.path("status", "sock");
    let global = format!("    status_socket {}\n", sock.display());
    let mut picket = Daemon::Picket.start(&lab, &r1.ns, &conf(HIGH, &global));
    let keepalived = keepalived_backup(&lab, &sock);
    // Steady state for a few adverts.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!has_address(&r2.ns, "eth0", VIP));
    let before = transitions(&sock);
    let log_mark = picket.log_text().len();
    let k_log_mark = keepalived.log_text().len();

    let mdi = master_down_us(LOW);
    let t_stop = now_us();
    picket.signal_daemon(Signal::SIGSTOP);
    assert!(
        wait_until(Duration::from_micros(mdi + 1_500_000), || has_address(
            &r2.ns, "eth0", VIP
        )),
        "keepalived did not take over while picket was stopped"
    );
    std::thread::sleep(Duration::from_micros(
        (t_stop + 2 * mdi).saturating_sub(now_us()),
    ));
    // SIGCONT away from keepalived's own adverts (at least 150 ms from
    // the next one): one that crossed picket's first advert on the wire
    // would be answered too, in another turn.
    let k_last = cap
        .adverts()
        .iter()
        .filter(|a| a.src == r2.addr)
        .map(|a| a.ts_us)
        .max()
        .expect("keepalived advertised as master");
    let phase = (now_us() - k_last) % 1_000_000;
    if !(150_000..=850_000).contains(&phase) {
        std::thread::sleep(Duration::from_micros((1_300_000 - phase) % 1_000_000));
    }
    let t_cont = now_us();
    picket.signal_daemon(Signal::SIGCONT);
    let converged = wait_until(Duration::from_secs(3), || {
        has_address(&r1.ns, "eth0", VIP) && !has_address(&r2.ns, "eth0", VIP)
    });
    let converge_us = now_us() - t_cont;
    assert!(converged, "no single master 3 s after SIGCONT");
    // Stable afterwards.
    std::thread::sleep(Duration::from_secs(3));
    assert!(has_address(&r1.ns, "eth0", VIP) && !has_address(&r2.ns, "eth0", VIP));
    assert!(picket.is_running(), "picket died after SIGCONT");
    let after = transitions(&sock);
    let doc = document(&sock);
    let stats = &instance(&doc, "VI_1")["stats"];
    let t_end = now_us();
    let frames = cap.stop();
    let ads = lab::capture::adverts(&frames);
    let picket_mac = lab::mac_of(&r1.ns, "eth0");
    let garps_after = lab::capture::arps(&frames)
        .iter()
        .filter(|a| a.src_mac == picket_mac && a.ts_us >= t_cont && a.is_gratuitous())
        .count();

    let stopped = sent_by(&ads, r1.addr, t_stop + 5_000, t_cont);
    let k_during = sent_by(&ads, r2.addr, t_stop, t_cont);
    let first_second = sent_by(&ads, r1.addr, t_cont, t_cont + 1_000_000);
    let resumed = sent_by(&ads, r1.addr, t_cont, t_end);
    let k_after = sent_by(&ads, r2.addr, t_cont, t_end);
    let gaps: Vec<u64> = resumed
        .windows(2)
        .map(|w| w[1].ts_us - w[0].ts_us)
        .collect();
    let p_log = picket.log_text()[log_mark..].to_owned();
    let k_log = keepalived.log_text()[k_log_mark..].to_owned();
    let backlog = stats["lower_prio_backlog"].as_u64().unwrap();
    println!(
        "SIGSTOP for {:.3} s (2 x MDI {:.3} s): keepalived's first advert {:.3} s after the \
         stop, {} adverts while picket was stopped; after SIGCONT: one master after {:.3} s; \
         picket adverts in the first second {} (priorities {:?}, at +{:?} ms), gaps after \
         (ms) {:?}; keepalived adverts after SIGCONT {}; picket GARPs after SIGCONT {}; \
         lower-priority backlog not answered again {backlog}; picket transitions \
         (to_master, to_backup) {before:?} -> {after:?}",
        (t_cont - t_stop) as f64 / 1e6,
        2.0 * mdi as f64 / 1e6,
        k_during
            .first()
            .map_or(f64::NAN, |a| (a.ts_us - t_stop) as f64 / 1e6),
        k_during.len(),
        converge_us as f64 / 1e6,
        first_second.len(),
        first_second.iter().map(|a| a.priority).collect::<Vec<_>>(),
        first_second
            .iter()
            .map(|a| (a.ts_us - t_cont) / 1000)
            .collect::<Vec<_>>(),
        gaps.iter().map(|g| g / 1000).collect::<Vec<_>>(),
        k_after.len(),
        garps_after,
    );

    assert!(stopped.is_empty(), "picket sent while stopped: {stopped:?}");
    // keepalived took over within its Master_Down_Interval of the stop
    // (picket's last advert came at most 1 s before it).
    let k_first = k_during.first().expect("keepalived never advertised").ts_us;
    assert!(
        k_first <= t_stop + mdi + 50_000,
        "keepalived took over {} µs after the stop, MDI {mdi} µs",
        k_first - t_stop
    );
    assert!(
        k_during.len() >= 3,
        "keepalived as master sent {k_during:?}"
    );
    // One master, picket, within one Advertisement_Interval of SIGCONT.
    assert!(converge_us < 1_000_000, "one master after {converge_us} µs");
    // Exactly one advert in the first second, at once, priority 150, and
    // its VIP.
    assert_eq!(first_second.len(), 1, "{first_second:#?}");
    let first = first_second[0];
    assert_eq!(first.priority, HIGH);
    assert_eq!(first.addresses, vec![VIP]);
    assert!(first.ts_us - t_cont < 100_000, "first advert late");
    // keepalived fell silent on hearing it.
    assert!(
        k_after.is_empty(),
        "keepalived advertised after SIGCONT: {k_after:?}"
    );
    // Back on the 1 s schedule (±10 %), nothing in between.
    assert!(gaps.len() >= 2, "{gaps:?}");
    assert!(
        gaps.iter().all(|g| (900_000..=1_100_000).contains(g)),
        "gaps {gaps:?}"
    );
    // The backlog was answered once: one GARP burst (garp_lower_prio_repeat
    // 5), one log line, the rest counted.
    assert_eq!(garps_after, 5);
    assert_eq!(count_lines(&p_log, "lower priority 100"), 1, "{p_log}");
    assert_eq!(backlog, k_during.len() as u64 - 1);
    // No transition of picket, one takeover and one step back of keepalived.
    assert_eq!(after, before);
    assert_eq!(count_lines(&p_log, "Entering"), 0, "{p_log}");
    assert_eq!(instance(&doc, "VI_1")["state"], "MASTER");
    assert_eq!(count_lines(&k_log, "Entering MASTER STATE"), 1, "{k_log}");
    assert_eq!(count_lines(&k_log, "Entering BACKUP STATE"), 1, "{k_log}");
}

/// libfaketime's preload library (Debian package `libfaketime`).
const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A preload library giving back the kernel's `timerfd_settime` and
/// `timerfd_gettime`, for libfaketime's. libfaketime 0.9.10 moves absolute
/// deadlines of *every* timerfd by the faked offset, CLOCK_MONOTONIC ones
/// included and `FAKETIME_DONT_FAKE_MONOTONIC=1` notwithstanding (strace of
/// a `+3600` offset: a deadline 1 s ahead goes to the kernel as −2893 s,
/// EINVAL; with `-3600` it is armed an hour late) — which no real clock
/// step does. Listed before libfaketime in `LD_PRELOAD`, these win.
const KERNEL_TIMERFD_RS: &str = r#"
use std::ffi::{c_int, c_long, c_void};
unsafe extern "C" {
    fn syscall(number: c_long, ...) -> c_long;
}
/// timerfd_settime(2), straight to the kernel.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn timerfd_settime(
    fd: c_int, flags: c_int, new: *const c_void, old: *mut c_void,
) -> c_int {
    unsafe { syscall(SETTIME, fd as c_long, flags as c_long, new, old) as c_int }
}
/// timerfd_gettime(2), straight to the kernel.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn timerfd_gettime(fd: c_int, cur: *mut c_void) -> c_int {
    unsafe { syscall(GETTIME, fd as c_long, cur) as c_int }
}
"#;

/// Builds [`KERNEL_TIMERFD_RS`] into `dir` with rustc; its path.
fn build_kernel_timerfd(dir: &Path) -> PathBuf {
    let src = dir.join("kernel_timerfd.rs");
    std::fs::write(
        &src,
        format!(
            "{KERNEL_TIMERFD_RS}const SETTIME: c_long = {};\nconst GETTIME: c_long = {};\n",
            libc::SYS_timerfd_settime,
            libc::SYS_timerfd_gettime
        ),
    )
    .unwrap();
    let lib = dir.join("libkernel_timerfd.so");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = std::process::Command::new(&rustc)
        .args(["--edition", "2024", "--crate-type", "cdylib", "-o"])
        .arg(&lib)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{rustc}: {e}"));
    assert!(
        out.status.success(),
        "rustc of the timerfd shim: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lib
}

/// Runs `command` in namespace `ns` in a mount namespace of its own
/// (private propagation) after the shell commands `mounts`; output to
/// `log`. The returned process is `command` itself (`ip netns exec`,
/// `unshare` and `sh` each exec the next).
fn in_private_mounts(ns: &str, mounts: &str, command: &[&str], log: &Path) -> Proc {
    let script = format!("{mounts} && exec \"$@\"");
    let mut all = vec!["-m", "--propagation", "private", "sh", "-c", &script, "sh"];
    all.extend_from_slice(command);
    lab::spawn_in_logged(ns, "unshare", &all, log)
}

/// A process of the test with a log file: killed (with its group) when
/// dropped, its log printed first if the test is failing.
struct Logged {
    proc: Proc,
    log: PathBuf,
}

impl Logged {
    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        self.proc.kill_group();
        if std::thread::panicking() {
            eprintln!("---- {}:\n{}", self.log.display(), self.text());
        }
    }
}

/// Seconds since the epoch of a status document's `picket.now` (picket's
/// CLOCK_REALTIME) and its `uptime_ms` (CLOCK_MONOTONIC since start).
fn clocks(sock: &Path) -> (f64, u64) {
    let doc = document(sock);
    (
        doc["picket"]["now"].as_f64().unwrap(),
        doc["picket"]["uptime_ms"].as_u64().unwrap(),
    )
}

/// Steps of picket's wall clock while it is master beside a keepalived
/// backup: +1 h, −1 h, −1 h, +1 day (offsets +1 h, 0, −1 h, +23 h from the
/// real time), 2.5 s apart, through libfaketime preloaded into picket
/// (`FAKETIME_TIMESTAMP_FILE`, re-read at every call; CLOCK_MONOTONIC not
/// faked; the kernel's timerfd calls restored, see
/// [`KERNEL_TIMERFD_RS`]). Everything picket times is monotonic, so
/// nothing happens: its adverts stay 1 s apart (±10 %) across every step,
/// no transition on either side, the VIP stays on picket alone.
///
/// The steps are shown to reach picket: its maps hold libfaketime; after
/// each step the `now` of its status document (CLOCK_REALTIME, read by
/// picket) is the real time plus the offset while its `uptime_ms`
/// (CLOCK_MONOTONIC) keeps pace with the real time. Its tracking script, a
/// child, writes `date +%s`: the real time, since picket removes
/// `LD_PRELOAD` from its children's environment (as keepalived does), so
/// libfaketime does not follow it there.
#[test]
fn wall_clock_steps_change_nothing() {
    if !lab::ready(&[lab::daemon::KEEPALIVED, FAKETIME_LIB, "rustc", "unshare"]) {
        return;
    }
    let lab = Lab::new("clock");
    let shim = build_kernel_timerfd(&lab.dir);
    let (r1, r2) = (lab.router(1).clone(), lab.router(2).clone());
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    let sock = lab.path("status", "sock");
    let rc = lab.path("faketime", "rc");
    std::fs::write(&rc, "+0\n").unwrap();
    let dates = lab.path("dates", "txt");
    let script = lab.path("clock", "sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ndate +%s >> {}\n", dates.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let global = format!(
        "    status_socket {}\n    script_user root\n}}\n\nvrrp_script clock {{\n    script \"{}\"\n    interval 1\n",
        sock.display(),
        script.display()
    );
    let conf_text = conf(HIGH, &global).replace(
        "    virtual_ipaddress {",
        "    track_script {\n        clock\n    }\n    virtual_ipaddress {",
    );
    let conf_path = lab.path("r1-picket", "conf");
    std::fs::write(&conf_path, conf_text).unwrap();
    let log = conf_path.with_extension("log");
    let pid_file = conf_path.with_extension("pid");
    let env_rc = format!("FAKETIME_TIMESTAMP_FILE={}", rc.display());
    let preload = format!("LD_PRELOAD={} {FAKETIME_LIB}", shim.display());
    // libfaketime keeps a semaphore and a shared memory object in
    // /dev/shm per process tree, and leaves them behind when killed: picket
    // gets a /dev/shm of its own, gone with its mount namespace.
    let picket = Logged {
        proc: in_private_mounts(
            &r1.ns,
            "mount -t tmpfs -o size=1m,mode=1777 tmpfs /dev/shm",
            &[
                "env",
                &preload,
                &env_rc,
                "FAKETIME_NO_CACHE=1",
                "FAKETIME_DONT_FAKE_MONOTONIC=1",
                env!("CARGO_BIN_EXE_picket"),
                "-n",
                "-l",
                "-f",
                conf_path.to_str().unwrap(),
                "-p",
                pid_file.to_str().unwrap(),
            ],
            &log,
        ),
        log,
    };
    let keepalived = keepalived_backup(&lab, &sock);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", picket.proc.pid())).unwrap();
    assert!(
        maps.contains("libfaketime.so.1") && maps.contains("libkernel_timerfd.so"),
        "libfaketime or the timerfd shim is not mapped into picket (pid {})",
        picket.proc.pid()
    );
    std::thread::sleep(Duration::from_secs(2));
    let before = transitions(&sock);
    let log_mark = picket.text().len();
    let k_log_mark = keepalived.log_text().len();
    let real = || now_us() as f64 / 1e6;
    let (_, uptime0) = clocks(&sock);
    let real0 = real();

    let t_first = now_us();
    // (step shown, offset from the real time after it, s)
    let steps = [
        ("+1 h", 3600),
        ("-1 h", 0),
        ("-1 h", -3600),
        ("+1 day", 82_800),
    ];
    let mut seen = Vec::new();
    for (step, offset) in steps {
        std::fs::write(&rc, format!("{offset:+}\n")).unwrap();
        let mark = std::fs::read_to_string(&dates).unwrap_or_default().len();
        // The tracking script (every 1 s) runs under the new offset.
        let mut child = None;
        wait_until(Duration::from_secs(3), || {
            child = std::fs::read_to_string(&dates).ok().and_then(|d| {
                d.get(mark..)?
                    .lines()
                    .next_back()?
                    .trim()
                    .parse::<i64>()
                    .ok()
            });
            child.is_some()
        });
        let child = child.expect("the tracking script wrote no date") - real() as i64;
        let (now, uptime) = clocks(&sock);
        let shown = now - real();
        let mono_drift = (uptime - uptime0) as f64 / 1e3 - (real() - real0);
        println!(
            "step {step}: picket's CLOCK_REALTIME {shown:+.3} s from the real time, its \
             script's date {child:+} s, CLOCK_MONOTONIC drift {mono_drift:+.3} s"
        );
        assert!(
            (shown - offset as f64).abs() < 1.0,
            "{step}: picket shows {shown}"
        );
        assert!(
            child.abs() <= 1,
            "{step}: the script's date is {child} s off: LD_PRELOAD reached it"
        );
        assert!(
            mono_drift.abs() < 0.5,
            "{step}: monotonic moved {mono_drift} s"
        );
        seen.push(shown);
        std::thread::sleep(
            Duration::from_millis(2500).saturating_sub(Duration::from_micros(
                now_us().saturating_sub(t_first) % 2_500_000,
            )),
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    let t_end = now_us();
    assert!(has_address(&r1.ns, "eth0", VIP) && !has_address(&r2.ns, "eth0", VIP));
    let after = transitions(&sock);
    let frames = cap.stop();
    let ads = lab::capture::adverts(&frames);
    let mine = sent_by(&ads, r1.addr, t_first - 2_000_000, t_end);
    let k = sent_by(&ads, r2.addr, t_first - 2_000_000, t_end);
    let gaps: Vec<u64> = mine.windows(2).map(|w| w[1].ts_us - w[0].ts_us).collect();
    let (lo, hi) = (
        gaps.iter().min().copied().unwrap_or(0),
        gaps.iter().max().copied().unwrap_or(0),
    );
    let p_log = picket.text()[log_mark..].to_owned();
    let k_log = keepalived.log_text()[k_log_mark..].to_owned();
    println!(
        "4 steps over {:.1} s: {} picket adverts, gaps {:.3}..{:.3} s (all {} within 1 s +-10%), \
         priorities {:?}; keepalived adverts {}; transitions {before:?} -> {after:?}",
        (t_end - t_first) as f64 / 1e6,
        mine.len(),
        lo as f64 / 1e6,
        hi as f64 / 1e6,
        gaps.len(),
        mine.iter()
            .map(|a| a.priority)
            .collect::<std::collections::BTreeSet<_>>(),
        k.len(),
    );
    assert!(gaps.len() >= 12, "{gaps:?}");
    assert!(
        gaps.iter().all(|g| (900_000..=1_100_000).contains(g)),
        "advert gaps (µs) {gaps:?}"
    );
    assert!(mine.iter().all(|a| a.priority == HIGH));
    assert!(k.is_empty(), "keepalived advertised: {k:?}");
    assert_eq!(after, before);
    assert_eq!(count_lines(&p_log, "Entering"), 0, "{p_log}");
    assert_eq!(count_lines(&k_log, "Entering"), 0, "{k_log}");
    assert_eq!(
        count_lines(&picket.text(), "timerfd"),
        0,
        "{}",
        picket.text()
    );
}

/// Runs `sh -c script` in the mount namespace of `pid`.
fn sh_in(pid: u32, script: &str) -> Result<String, String> {
    lab::run(
        "nsenter",
        &["-t", &pid.to_string(), "-m", "sh", "-c", script],
    )
}

/// The file at `path` in the mount namespace of `pid`, if there is one.
fn read_in(pid: u32, path: &str) -> Option<String> {
    lab::run("nsenter", &["-t", &pid.to_string(), "-m", "cat", path]).ok()
}

/// Sends signal number `sig` to `pid`.
fn send(pid: u32, sig: i32) {
    // SAFETY: kill(2) with integer arguments.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(r, 0, "kill -{sig} {pid}");
}

/// `adverts_sent` of picket's VI_1, from its status socket.
fn adverts_sent(sock: &Path) -> u64 {
    instance(&document(sock), "VI_1")["stats"]["adverts_sent"]
        .as_u64()
        .unwrap()
}

/// A full file system under picket's files. picket (master, 150, beside a
/// keepalived backup) runs in a mount namespace of its own where one
/// 256 KiB tmpfs holds its pid file, its three dump files
/// (`state_dump_file`, `stats_dump_file`, `json_dump_file`) and its
/// watchdog state file (`watchdog_state_file`, kept because
/// `NOTIFY_SOCKET`/`WATCHDOG_USEC` give it a service-manager watchdog).
///
/// - Dumps written once with room; then the tmpfs is filled to the last
///   byte: SIGUSR1, SIGUSR2 and the JSON signal each log `cannot write
///   dump PATH: write: ENOSPC ...` within a second and are counted; then
///   one page is freed and SIGUSR1's data dump (two instances with 32
///   excluded VIPs each: about 6 KB) fails half-way, its first 4 KiB
///   written. Each time the dumps of the first round are left whole, byte
///   for byte, no `.picket-tmp` file remains, and picket stays master with
///   the VIP; its adverts stay 1 s apart (±10 %) all along.
/// - A second picket whose pid file is on the full tmpfs refuses to start,
///   naming the file and ENOSPC, and leaves no pid file.
/// - Room again: the three dumps are written, newer.
/// - Full again, SIGTERM: the state file cannot be rewritten (`run
///   stopped`): logged with ENOSPC, the file of the start (`run armed`)
///   is left whole, no `.tmp` beside it; picket exits 0 and removes its
///   pid file.
#[test]
fn a_full_disk_under_the_dump_pid_and_state_files() {
    if !lab::ready(&[lab::daemon::KEEPALIVED, "unshare", "nsenter"]) {
        return;
    }
    let picket_bin = env!("CARGO_BIN_EXE_picket");
    let json_sig: i32 = lab::run(picket_bin, &["--signum=JSON"])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let lab = Lab::new("disk");
    let (r1, r2) = (lab.router(1).clone(), lab.router(2).clone());
    let mut cap = Capture::start(&lab, &lab.lan, "br0", "vrrp");
    // The tmpfs is mounted on `fs` in picket's mount namespace only.
    let fs = lab.dir.join("fs");
    std::fs::create_dir_all(&fs).unwrap();
    let f = |name: &str| format!("{}/{name}", fs.display());
    let (data, stats, json, pid_path, state) = (
        f("keepalived.data"),
        f("keepalived.stats"),
        f("keepalived.json"),
        f("picket.pid"),
        f("watchdog.state"),
    );
    let sock = lab.path("status", "sock");
    let notify = lab.path("notify", "sock");
    let _notify = std::os::unix::net::UnixDatagram::bind(&notify).unwrap();
    // Two instances with 32 VIPs outside the adverts each (the board's
    // limit): the data dump is longer than a page. VI_2 has no peer.
    let excluded = |net: u8| -> String {
        (1..=32)
            .map(|i| format!("        10.99.{net}.{i}/32 dev eth0\n"))
            .collect()
    };
    let global = format!(
        "    status_socket {}\n    state_dump_file {data}\n    stats_dump_file {stats}\n    \
         json_dump_file {json}\n    watchdog_state_file {state}\n",
        sock.display()
    );
    let vi_1 = conf(HIGH, &global).replace(
        "    virtual_ipaddress {",
        &format!(
            "    virtual_ipaddress_excluded {{\n{}    }}\n    virtual_ipaddress {{",
            excluded(1)
        ),
    );
    let vi_2 = format!(
        "vrrp_instance VI_2 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {}\n    \
         priority {HIGH}\n    advert_int 1\n    virtual_ipaddress {{\n        10.99.0.101/24 dev eth0\n    \
         }}\n    virtual_ipaddress_excluded {{\n{}    }}\n}}\n",
        VRID + 1,
        excluded(2)
    );
    let conf_text = format!("{vi_1}\n{vi_2}");
    let conf_path = lab.path("r1-picket", "conf");
    std::fs::write(&conf_path, conf_text).unwrap();
    let log = conf_path.with_extension("log");
    let notify_env = format!("NOTIFY_SOCKET={}", notify.display());
    let mut picket = Logged {
        proc: in_private_mounts(
            &r1.ns,
            &format!(
                "mount -t tmpfs -o size=256k,mode=0755 tmpfs {}",
                fs.display()
            ),
            &[
                "env",
                &notify_env,
                "WATCHDOG_USEC=4000000",
                picket_bin,
                "-n",
                "-l",
                "-f",
                conf_path.to_str().unwrap(),
                "-p",
                &pid_path,
            ],
            &log,
        ),
        log,
    };
    let pid = picket.proc.pid();
    let _keepalived = keepalived_backup(&lab, &sock);
    let t_master = now_us();
    // Holds picket's mount namespace, to look at its files after it exits.
    let holder = lab::spawn_in(
        &r1.ns,
        "nsenter",
        &["-t", &pid.to_string(), "-m", "sleep", "120"],
    );
    let ns_pid = holder.pid();
    assert!(wait_until(Duration::from_secs(5), || read_in(
        ns_pid, &pid_path
    )
    .is_some()));
    assert_eq!(read_in(ns_pid, &pid_path).unwrap(), format!("{pid}\n"));
    let state_armed = read_in(ns_pid, &state).expect("no watchdog state file");
    assert!(state_armed.contains("run armed"), "{state_armed}");
    let ls = |dir_pid: u32| sh_in(dir_pid, &format!("ls -A {}", fs.display())).unwrap();

    // 1. Room: the three dumps.
    let dumps = [
        (libc::SIGUSR1, data.as_str()),
        (libc::SIGUSR2, stats.as_str()),
        (json_sig, json.as_str()),
    ];
    for (sig, _) in dumps {
        send(pid, sig);
    }
    assert!(
        wait_until(Duration::from_secs(5), || dumps
            .iter()
            .all(|(_, p)| read_in(ns_pid, p).is_some())),
        "dumps not written: {}",
        ls(ns_pid)
    );
    let first: Vec<String> = dumps
        .iter()
        .map(|(_, p)| read_in(ns_pid, p).unwrap())
        .collect();
    let sizes: Vec<usize> = first.iter().map(String::len).collect();
    assert!(sizes[0] > 4096, "the data dump fits a page: {sizes:?}");

    // 2. Full to the last byte, then with one page free.
    let t_full = now_us();
    let mut lines = Vec::new();
    // One page free: the data dump (longer) fails half-way, its first
    // 4 KiB written.
    for (round, free, failing) in [("full", 0, &dumps[..]), ("one page free", 4, &dumps[..1])] {
        sh_in(
            ns_pid,
            &format!(
                "dd if=/dev/zero of={fill} bs=4k 2>/dev/null; truncate -s -{free}K {fill}; sync",
                fill = f("fill")
            ),
        )
        .unwrap();
        let df = sh_in(ns_pid, &format!("df -k --output=avail {}", fs.display())).unwrap();
        let mark = picket.text().len();
        for (k, (sig, _)) in failing.iter().enumerate() {
            let t = now_us();
            send(pid, *sig);
            let logged = wait_until(Duration::from_secs(5), || {
                picket.text()[mark..].matches("cannot write dump").count() > k
            });
            assert!(
                logged,
                "{round}: no error logged for signal {sig}:\n{}",
                picket.text()
            );
            let waited = now_us() - t;
            assert!(waited < 1_000_000, "{round}: the dump took {waited} µs");
        }
        let text = picket.text()[mark..].to_owned();
        for (_, path) in failing {
            let line = text
                .lines()
                .find(|l| l.contains(&format!("cannot write dump {path}:")))
                .unwrap_or_else(|| panic!("{round}: nothing said about {path}:\n{text}"));
            assert!(line.contains("ENOSPC"), "{line}");
            lines.push(format!(
                "{round} (free {}): {line}",
                df.split_whitespace().nth(1).unwrap_or("?")
            ));
        }
        // The first round's dumps are whole, nothing else is left.
        for ((_, path), before) in dumps.iter().zip(&first) {
            assert_eq!(
                &read_in(ns_pid, path).unwrap(),
                before,
                "{round}: {path} changed"
            );
        }
        let left = ls(ns_pid);
        assert!(
            !left.contains("picket-tmp"),
            "{round}: temp file left: {left}"
        );
        assert!(picket.proc.is_running(), "picket died ({round})");
        assert!(has_address(&r1.ns, "eth0", VIP) && !has_address(&r2.ns, "eth0", VIP));
        assert_eq!(instance(&document(&sock), "VI_1")["state"], "MASTER");
    }
    let doc = document(&sock);
    assert_eq!(doc["counters"]["dump_errors"], 4);
    // VRRP goes on on the full disk.
    let sent_full = adverts_sent(&sock);
    std::thread::sleep(Duration::from_millis(4500));
    assert!(adverts_sent(&sock) >= sent_full + 4, "adverts stopped");

    // 3. A second picket with its pid file on the tmpfs, full to the last
    // byte again. It runs in picket's network namespace too, on a
    // configuration file that does not exist (so that, should it get past
    // its pid file, it starts nothing), and is killed after 5 s at most.
    sh_in(
        ns_pid,
        &format!("dd if=/dev/zero of={} bs=4k 2>/dev/null; true", f("fill")),
    )
    .unwrap();
    let other_pid = f("other.pid");
    let second_log = lab.path("second", "log");
    let missing_conf = lab.path("missing", "conf");
    let mut second = lab::spawn_in_logged(
        &r1.ns,
        "nsenter",
        &[
            "-t",
            &ns_pid.to_string(),
            "-m",
            picket_bin,
            "-n",
            "-l",
            "-f",
            missing_conf.to_str().unwrap(),
            "-p",
            &other_pid,
        ],
        &second_log,
    );
    let second_exit = second.wait_timeout(Duration::from_secs(5));
    second.kill_group();
    let second_text = std::fs::read_to_string(&second_log).unwrap_or_default();
    assert!(
        second_exit.is_some_and(|s| !s.success()),
        "a picket without its pid file: {second_exit:?}\n{second_text}"
    );
    let second_line = second_text
        .lines()
        .find(|l| l.contains(&format!("cannot write pid file {other_pid}")))
        .unwrap_or_else(|| panic!("{second_text}"))
        .to_owned();
    assert!(second_line.contains("ENOSPC"), "{second_line}");
    assert!(
        read_in(ns_pid, &other_pid).is_none(),
        "pid file left: {}",
        ls(ns_pid)
    );

    // 4. Room again: the dumps are written (said in the log), the stats
    // and JSON ones with later counters.
    let sent = adverts_sent(&sock);
    sh_in(ns_pid, &format!("rm {}", f("fill"))).unwrap();
    let mark = picket.text().len();
    for (sig, _) in dumps {
        send(pid, sig);
    }
    assert!(
        wait_until(Duration::from_secs(5), || {
            let text = picket.text()[mark..].to_owned();
            dumps
                .iter()
                .all(|(_, p)| text.contains(&format!("dump written: {p} (")))
        }),
        "no new dumps: {}\n{}",
        ls(ns_pid),
        &picket.text()[mark..]
    );
    assert_ne!(
        read_in(ns_pid, &stats).unwrap(),
        first[1],
        "the same counters"
    );
    let new_json: serde_json::Value =
        serde_json::from_str(&read_in(ns_pid, &json).unwrap()).unwrap();
    assert_eq!(
        new_json[0]["data"]["state"], 2,
        "MASTER in the new JSON dump"
    );
    assert!(new_json[0]["stats"]["advert_sent"].as_u64().unwrap() >= sent);
    assert!(read_in(ns_pid, &data).unwrap().contains("State = MASTER"));

    // 5. Full again; SIGTERM: the state file cannot say `run stopped`.
    sh_in(
        ns_pid,
        &format!("dd if=/dev/zero of={} bs=4k 2>/dev/null; true", f("fill")),
    )
    .unwrap();
    let mark = picket.text().len();
    picket.proc.signal(Signal::SIGTERM);
    let status = picket.proc.wait_timeout(Duration::from_secs(10));
    let t_end = now_us();
    let text = picket.text()[mark..].to_owned();
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}:\n{text}"
    );
    let state_line = text
        .lines()
        .find(|l| l.contains(&format!("cannot write {state}")))
        .unwrap_or_else(|| panic!("nothing said about {state}:\n{text}"));
    assert!(state_line.contains("ENOSPC"), "{state_line}");
    assert_eq!(
        read_in(ns_pid, &state).unwrap(),
        state_armed,
        "state file changed"
    );
    let left = ls(ns_pid);
    assert!(!left.contains(".tmp"), "temp file left: {left}");
    assert!(!left.contains("picket.pid"), "pid file left: {left}");

    // VRRP went on through it all: adverts 1 s apart until the stop.
    let ads = lab::capture::adverts(&cap.stop());
    let mine = sent_by(&ads, r1.addr, t_master - 1_000_000, t_end);
    let gaps: Vec<u64> = mine
        .windows(2)
        .filter(|w| w[1].priority != 0)
        .map(|w| w[1].ts_us - w[0].ts_us)
        .collect();
    let k = sent_by(&ads, r2.addr, t_master, t_end);
    for l in &lines {
        println!("{l}");
    }
    println!(
        "dump sizes with room (data, stats, json) {sizes:?} bytes; second picket: {}; \
         at SIGTERM: {}; adverts over {:.1} s ({:.1} s of it on a full disk): {} gaps \
         {:.3}..{:.3} s; keepalived adverts {}",
        second_line.trim(),
        state_line.trim(),
        (t_end - t_master) as f64 / 1e6,
        (t_end - t_full) as f64 / 1e6,
        gaps.len(),
        *gaps.iter().min().unwrap() as f64 / 1e6,
        *gaps.iter().max().unwrap() as f64 / 1e6,
        k.len(),
    );
    assert!(gaps.len() >= 4, "{gaps:?}");
    assert!(
        gaps.iter().all(|g| (900_000..=1_100_000).contains(g)),
        "{gaps:?}"
    );
    assert!(k.is_empty(), "keepalived took over: {k:?}");
    drop(holder);
}
