//! VRRP daemons as lab routers: Debian's keepalived 2.2.7 and picket, run
//! in a router namespace on a keepalived.conf text, in the foreground, each
//! in its own process group, output to a log file in the lab directory.
//!
//! Two ways to end a router, the two a failover test needs:
//! - [`Router::stop`]: SIGTERM to the daemon, as an operator would — it
//!   sends its priority-0 advert and removes its VIPs;
//! - [`Router::kill`]: SIGKILL to the whole process group at once —
//!   "the master's process killed": keepalived's VRRP child dies with its
//!   parent, so no priority-0 advert is sent and the VIP stays behind.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Lab, Proc, pid_gone, spawn_in_logged, wait_until};

/// Debian's keepalived.
pub const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// Which daemon a router runs. Tests take it as a parameter, so swapping
/// keepalived for picket on one side is a one-word change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daemon {
    /// `/usr/sbin/keepalived -n -l -D -G -P` (VRRP only).
    Keepalived,
    /// The picket binary of this build, `-n -l`.
    Picket,
}

impl Daemon {
    /// The executable.
    pub fn program(self) -> String {
        match self {
            Daemon::Keepalived => KEEPALIVED.to_owned(),
            Daemon::Picket => env!("CARGO_BIN_EXE_picket").to_owned(),
        }
    }

    /// Short name, for file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Daemon::Keepalived => "keepalived",
            Daemon::Picket => "picket",
        }
    }

    /// Starts this daemon in `ns` on the configuration `conf`.
    pub fn start(self, lab: &Lab, ns: &str, conf: &str) -> Router {
        let role = ns.rsplit('-').next().unwrap_or(ns);
        let stem = format!("{role}-{}", self.name());
        let conf_path = lab.path(&stem, "conf");
        std::fs::write(&conf_path, conf)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf_path.display()));
        let log = conf_path.with_extension("log");
        let pid_file = conf_path.with_extension("pid");
        let vrrp_pid_file = conf_path.with_extension("vrrp.pid");
        let path = |p: &PathBuf| p.to_str().expect("UTF-8 path").to_owned();
        let args: Vec<String> = match self {
            // -P: VRRP only; -G: no syslog; -D: detailed log; -r: the VRRP
            // child's pid file (each keepalived needs its own pid files).
            Daemon::Keepalived => ["-n", "-l", "-D", "-G", "-P", "-f"]
                .iter()
                .map(|s| (*s).to_owned())
                .chain([path(&conf_path), "-p".into(), path(&pid_file)])
                .chain(["-r".into(), path(&vrrp_pid_file)])
                .collect(),
            Daemon::Picket => ["-n", "-l", "-f"]
                .iter()
                .map(|s| (*s).to_owned())
                .chain([path(&conf_path), "-p".into(), path(&pid_file)])
                .collect(),
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let proc = spawn_in_logged(ns, &self.program(), &args, &log);
        Router {
            daemon: self,
            ns: ns.to_owned(),
            proc: Some(proc),
            log,
            vrrp_pid_file: (self == Daemon::Keepalived).then_some(vrrp_pid_file),
        }
    }
}

/// A running VRRP daemon in a router namespace. Dropping it SIGKILLs its
/// process group; if the thread is panicking, its log is printed first.
pub struct Router {
    /// What runs.
    pub daemon: Daemon,
    /// Where.
    pub ns: String,
    proc: Option<Proc>,
    /// The daemon's console output.
    pub log: PathBuf,
    vrrp_pid_file: Option<PathBuf>,
}

impl Router {
    /// The main process id (keepalived's parent).
    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }

    /// Every process id of the daemon: the main one, and keepalived's VRRP
    /// child once it has written its pid file.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.pid().into_iter().collect();
        pids.extend(self.child_pid());
        pids
    }

    fn child_pid(&self) -> Option<u32> {
        let file = self.vrrp_pid_file.as_ref()?;
        std::fs::read_to_string(file).ok()?.trim().parse().ok()
    }

    /// True while the main process runs.
    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(Proc::is_running)
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The value of `counter=N` on the first log line holding every one of
    /// `line_has` (picket's SIGUSR1/SIGUSR2 dump lines), if any.
    pub fn logged_counter(&self, line_has: &[&str], counter: &str) -> Option<u64> {
        let log = self.log_text();
        let line = log
            .lines()
            .find(|l| line_has.iter().all(|w| l.contains(w)))?;
        let value = line.split(&format!("{counter}=")).nth(1)?;
        value.split_whitespace().next()?.parse().ok()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log_text().contains(needle))
    }

    /// The log after the first occurrence of `marker` (empty if absent).
    pub fn log_after(&self, marker: &str) -> String {
        let log = self.log_text();
        log.split_once(marker)
            .map_or_else(String::new, |(_, rest)| rest.to_owned())
    }

    /// Waits until the log, after the first `marker`, contains `needle`.
    pub fn wait_log_after(&self, marker: &str, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log_after(marker).contains(needle))
    }

    /// Waits up to `timeout` for the daemon to exit by itself (a refusal to
    /// start); its exit status, `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let status = self.proc.as_mut()?.wait_timeout(timeout)?;
        self.proc = None;
        Some(status)
    }

    /// SIGTERM, and waits for the daemon (and its child) to exit; its exit
    /// status. Panics if it is still running after 15 s.
    pub fn stop(&mut self) -> ExitStatus {
        let child = self.child_pid();
        let mut proc = self.proc.take().expect("router already ended");
        proc.signal(Signal::SIGTERM);
        let Some(status) = proc.wait_timeout(Duration::from_secs(15)) else {
            panic!(
                "{} in {} ignored SIGTERM for 15 s",
                self.daemon.name(),
                self.ns
            );
        };
        if let Some(c) = child {
            assert!(
                wait_until(Duration::from_secs(5), || pid_gone(c)),
                "{}'s child {c} outlived its parent",
                self.daemon.name()
            );
        }
        status
    }

    /// Sends `signal` to the daemon's main process (SIGUSR1 state dump,
    /// SIGUSR2 counters, ...).
    pub fn signal_daemon(&mut self, signal: Signal) {
        if let Some(p) = self.proc.as_mut() {
            p.signal(signal);
        }
    }

    /// SIGKILL of the whole process group at once; returns once every
    /// process of the daemon is gone.
    pub fn kill(&mut self) {
        let pids = self.pids();
        let mut proc = self.proc.take().expect("router already ended");
        proc.kill_group();
        assert!(
            wait_until(Duration::from_secs(5), || pids.iter().all(|&p| pid_gone(p))),
            "{} processes {pids:?} survived SIGKILL",
            self.daemon.name()
        );
    }

    /// Memory: VmRSS of every process of the daemon, summed, in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.pids()
            .iter()
            .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
            .filter_map(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
            .sum()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill_group();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- {} in {} ({}):\n{}",
                self.daemon.name(),
                self.ns,
                self.log.display(),
                self.log_text()
            );
        }
    }
}
