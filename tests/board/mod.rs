//! The qemu-x86_64 test board from the integration tests (`mod board;` in a
//! file of `tests/`): a Debian kernel with real IPVS and an emulated
//! i6300esb watchdog, booted under `qemu-system-x86_64` (TCG) by
//! `board/qemu-x86_64/run`, with a static picket and a test script.
//!
//! Tests call [`ready`] first: without qemu, the image tools, root (the
//! package cache) or the Debian packages it prints `SKIPPED: why` and
//! returns false — except under `CI=true`, where that panics.
//!
//! Boots are slow under TCG (about 10 s on an idle machine): a test should
//! do all it can in one boot. Boots of one test process take turns
//! ([`turn`]; [`boot`] takes it itself).
//!
//! [`start`] boots with [`Options`] (firmware mode, a persistent disk, the
//! watchdog resetting the VM, a network link to another board, QMP events)
//! and reads the console live: every line comes back with the host time it
//! arrived, comparable with the QMP events' timestamps.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

/// What one boot gave back.
#[derive(Debug)]
pub struct Boot {
    /// The test script's exit status (124: timeout, 125: no status).
    pub status: i32,
    /// The guest's console (kernel messages and the script's output).
    pub console: String,
    /// The console's lines with the host time each arrived (seconds since
    /// the epoch).
    pub lines: Vec<(f64, String)>,
    /// qemu's QMP events (with `Options::qmp`): host time and name
    /// (`WATCHDOG`, `RESET`, `SHUTDOWN`, ...).
    pub events: Vec<(f64, String)>,
}

impl Boot {
    /// The lines of the console between `BEGIN name` and `END name` (what a
    /// guest script printed as one section).
    pub fn section(&self, name: &str) -> String {
        let mut out = String::new();
        let mut inside = false;
        for line in self.console.lines() {
            if line == format!("BEGIN {name}") {
                inside = true;
            } else if line == format!("END {name}") {
                inside = false;
            } else if inside {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .is_ok_and(|s| s.success())
}

/// True when a boot can run; otherwise `SKIPPED: why` (or a panic under
/// `CI=true`). Builds (or reuses) the base image.
pub fn ready() -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::Uid::effective().is_root() {
        missing.push("root (the package cache)".to_owned());
    }
    for tool in ["qemu-system-x86_64", "cpio", "depmod", "dpkg-deb", "file"] {
        if !have(tool) {
            missing.push(tool.to_owned());
        }
    }
    if missing.is_empty() {
        let out = Command::new(root().join("board/qemu-x86_64/image"))
            .output()
            .expect("run board/qemu-x86_64/image");
        if !out.status.success() {
            missing.push(format!(
                "the board image ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("qemu board needs {}", missing.join(", "));
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and the qemu board cannot run: {why}"
    );
    println!("SKIPPED: {why}");
    false
}

/// Boots of this process take turns: hold this while booting (two boards
/// at once: hold it over both).
pub fn turn() -> MutexGuard<'static, ()> {
    static ONE_BOOT: Mutex<()> = Mutex::new(());
    ONE_BOOT.lock().unwrap_or_else(|e| e.into_inner())
}

/// The static picket of the board built with the `fault-injection` feature
/// (`PICKET_FAULT`), in a target directory of its own, once per process.
pub fn picket_with_faults() -> &'static Path {
    static PICKET: OnceLock<PathBuf> = OnceLock::new();
    PICKET.get_or_init(|| {
        let out = Command::new(root().join("tools/board-build"))
            .args(["qemu-x86_64", "--features", "fault-injection"])
            .env("PICKET_BOARD_TARGET_DIR", "target/board-qemu-x86_64-faults")
            .output()
            .expect("run tools/board-build");
        assert!(
            out.status.success(),
            "tools/board-build qemu-x86_64 --features fault-injection failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        root().join(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// How to boot (see `board/qemu-x86_64/run`).
#[derive(Clone, Debug)]
pub struct Options {
    /// The picket binary.
    pub picket: PathBuf,
    /// Give up after this long.
    pub timeout_s: u32,
    /// Firmware mode with this keepalived.conf.
    pub firmware: Option<PathBuf>,
    /// eth0's address in firmware mode.
    pub ip: Option<String>,
    /// picket -D in firmware mode.
    pub debug: bool,
    /// A persistent disk on /persist.
    pub disk: Option<PathBuf>,
    /// The watchdog resets (and reboots) the VM.
    pub watchdog_reset: bool,
    /// eth0 on this `-netdev` spec.
    pub netdev: Option<String>,
    /// eth0's MAC address.
    pub mac: Option<String>,
    /// Record QMP events.
    pub qmp: bool,
}

impl Options {
    /// Test mode with the board's picket.
    pub fn new(timeout_s: u32) -> Self {
        Options {
            picket: picket().to_owned(),
            timeout_s,
            firmware: None,
            ip: None,
            debug: false,
            disk: None,
            watchdog_reset: false,
            netdev: None,
            mac: None,
            qmp: false,
        }
    }
}

/// A board booting (see [`start`]).
pub struct Running {
    child: Child,
    reader: JoinHandle<Vec<(f64, String)>>,
    qmp_log: Option<PathBuf>,
    started: std::time::Instant,
    name: String,
}

/// The host time now, in seconds since the epoch.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Boots `script` with `opts`; the console is read (and echoed with
/// `name`) as it comes. Does not take [`turn`].
pub fn start(name: &str, script: &Path, files: &[&Path], opts: &Options) -> Running {
    let mut cmd = Command::new(root().join("board/qemu-x86_64/run"));
    cmd.arg("--picket")
        .arg(&opts.picket)
        .arg("--timeout")
        .arg(opts.timeout_s.to_string());
    if let Some(f) = &opts.firmware {
        cmd.arg("--firmware").arg(f);
    }
    if let Some(ip) = &opts.ip {
        cmd.args(["--ip", ip]);
    }
    if opts.debug {
        cmd.arg("--debug");
    }
    if let Some(d) = &opts.disk {
        cmd.arg("--disk").arg(d);
    }
    if opts.watchdog_reset {
        cmd.arg("--watchdog-reset");
    }
    if let Some(n) = &opts.netdev {
        cmd.args(["--netdev", n]);
    }
    if let Some(m) = &opts.mac {
        cmd.args(["--mac", m]);
    }
    let qmp_log = opts.qmp.then(|| {
        std::env::temp_dir().join(format!("picket-board-{}-{name}.qmp", std::process::id()))
    });
    if let Some(q) = &qmp_log {
        cmd.arg("--qmp-log").arg(q);
    }
    cmd.arg(script);
    for f in files {
        cmd.arg(f);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run board/qemu-x86_64/run");
    let stdout = child.stdout.take().expect("stdout");
    let tag = name.to_owned();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let t = unix_now();
            println!("[{tag} {t:.3}] {line}");
            lines.push((t, line));
        }
        lines
    });
    Running {
        child,
        reader,
        qmp_log,
        started: std::time::Instant::now(),
        name: name.to_owned(),
    }
}

impl Running {
    /// Waits for the end of the boot.
    pub fn wait(mut self) -> Boot {
        let status = self.child.wait().expect("wait for run");
        let lines = self.reader.join().unwrap_or_default();
        let mut console = String::new();
        for (_, l) in &lines {
            console.push_str(l);
            console.push('\n');
        }
        let events = self
            .qmp_log
            .as_ref()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                let _ = std::fs::remove_file(p);
                text.lines().filter_map(qmp_event).collect()
            })
            .unwrap_or_default();
        println!(
            "--- board {} done ({:.1} s), events {events:?}",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
        Boot {
            status: status.code().unwrap_or(-1),
            console,
            lines,
            events,
        }
    }
}

/// `{"timestamp": {"seconds": S, "microseconds": U}, "event": "NAME", ...}`
/// as (time, name).
fn qmp_event(line: &str) -> Option<(f64, String)> {
    let num = |key: &str| -> Option<f64> {
        let at = line.find(key)? + key.len();
        let rest = line[at..].trim_start_matches([':', ' ', '"']);
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        rest[..end].parse().ok()
    };
    let secs = num("\"seconds\"")?;
    let micros = num("\"microseconds\"")?;
    let at = line.find("\"event\"")? + "\"event\"".len();
    let rest = line[at..].trim_start_matches([':', ' ', '"']);
    let name = &rest[..rest.find('"')?];
    Some((secs + micros / 1e6, name.to_owned()))
}

impl Boot {
    /// The host time of the first console line containing `needle` after
    /// time `after`.
    pub fn time_of(&self, needle: &str, after: f64) -> Option<f64> {
        self.lines
            .iter()
            .find(|(t, l)| *t >= after && l.contains(needle))
            .map(|(t, _)| *t)
    }

    /// The times of the QMP events named `name`.
    pub fn event_times(&self, name: &str) -> Vec<f64> {
        self.events
            .iter()
            .filter(|(_, n)| n == name)
            .map(|(t, _)| *t)
            .collect()
    }
}

/// The static picket of the board (`tools/board-build qemu-x86_64`), built
/// once per test process.
pub fn picket() -> &'static Path {
    static PICKET: OnceLock<PathBuf> = OnceLock::new();
    PICKET.get_or_init(|| {
        let out = Command::new(root().join("tools/board-build"))
            .arg("qemu-x86_64")
            .output()
            .expect("run tools/board-build");
        assert!(
            out.status.success(),
            "tools/board-build qemu-x86_64 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        root().join(path)
    })
}

/// Boots the board with `script` as `/board/test`, `files` copied into
/// `/board/` and the static picket as `/usr/sbin/picket`; waits at most
/// `timeout_s`. The console is echoed to the test's output.
pub fn boot(script: &Path, files: &[&Path], timeout_s: u32) -> Boot {
    let _turn = turn();
    start("board", script, files, &Options::new(timeout_s)).wait()
}

/// Writes `text` to a fresh executable file in a temp directory of this
/// test process and returns its path.
pub fn script(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("picket-board-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    let mut perm = std::fs::metadata(&path).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&path, perm).expect("chmod");
    path
}
