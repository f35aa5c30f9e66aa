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
//! do all it can in one boot. Boots of one test process take turns.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// What one boot gave back.
#[derive(Debug)]
pub struct Boot {
    /// The test script's exit status (124: timeout, 125: no status).
    pub status: i32,
    /// The guest's console (kernel messages and the script's output).
    pub console: String,
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
    static ONE_BOOT: Mutex<()> = Mutex::new(());
    let _turn = ONE_BOOT.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = Command::new(root().join("board/qemu-x86_64/run"));
    cmd.arg("--picket")
        .arg(picket())
        .arg("--timeout")
        .arg(timeout_s.to_string())
        .arg(script);
    for f in files {
        cmd.arg(f);
    }
    let started = std::time::Instant::now();
    let out = cmd.output().expect("run board/qemu-x86_64/run");
    let console = String::from_utf8_lossy(&out.stdout).into_owned();
    println!(
        "--- board console ({:.1} s) ---\n{console}--- end of console ---\n{}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stderr)
    );
    Boot {
        status: out.status.code().unwrap_or(-1),
        console,
    }
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
