//! The watchdog without hardware, on the host: picket under a service
//! manager's `NOTIFY_SOCKET` (an abstract name here) with `WATCHDOG_USEC`
//! sends `READY=1`, `WATCHDOG=1` at a quarter of the interval, and
//! `STOPPING=1`; a picket killed without an orderly stop is counted as a
//! reset at the next start (damping), three in a row start safe mode, and
//! `picket --clear-resets` clears the count. No VRRP instance runs (no
//! network is needed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Run {
    child: Child,
}

impl Run {
    /// Starts picket with the notification environment.
    fn start(dir: &Path, socket: &str, usec: &str, watchdog_pid: Option<&str>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
        cmd.args(["-n", "-l", "-f"])
            .arg(dir.join("picket.conf"))
            .arg("-p")
            .arg(dir.join("picket.pid"))
            .env("NOTIFY_SOCKET", socket)
            .env("WATCHDOG_USEC", usec)
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(p) = watchdog_pid {
            cmd.env("WATCHDOG_PID", p);
        }
        Run {
            child: cmd.spawn().expect("start picket"),
        }
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits for the exit; returns the status code and the log.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        println!("--- picket log ---\n{log}--- end ---");
        (status.code(), log)
    }
}

/// Receives datagrams until `until` returns true or `limit` passes; each
/// with its arrival time.
fn receive(
    rx: &UnixDatagram,
    limit: Duration,
    mut until: impl FnMut(&[(Instant, String)]) -> bool,
) -> Vec<(Instant, String)> {
    rx.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while Instant::now() < end && !until(&got) {
        if let Ok(n) = rx.recv(&mut buf) {
            got.push((
                Instant::now(),
                String::from_utf8_lossy(&buf[..n]).into_owned(),
            ));
        }
    }
    got
}

fn state_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("state/picket")).unwrap_or_default()
}

#[test]
fn service_manager_watchdog_and_reset_counting() {
    let dir: PathBuf = std::env::temp_dir().join(format!("picket-sdwd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("picket.conf"),
        format!(
            "global_defs {{\n watchdog_device none\n watchdog_state_file {}\n \
             watchdog_reset_hold 5\n watchdog_safe_mode_resets 3\n}}\n",
            dir.join("state/picket").display()
        ),
    )
    .unwrap();
    let name = format!("picket-sdwd-{}", std::process::id());
    let rx =
        UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    let socket = format!("@{name}");

    // A healthy run: READY=1, then WATCHDOG=1 every 50 ms (200 ms / 4).
    let run = Run::start(&dir, &socket, "200000", None);
    let got = receive(&rx, Duration::from_secs(20), |g| {
        g.iter().filter(|(_, m)| m == "WATCHDOG=1").count() >= 21
    });
    assert_eq!(
        got.first().map(|(_, m)| m.as_str()),
        Some("READY=1"),
        "{got:?}"
    );
    let kicks: Vec<Instant> = got
        .iter()
        .filter(|(_, m)| m == "WATCHDOG=1")
        .map(|(t, _)| *t)
        .collect();
    assert!(kicks.len() >= 21, "{got:?}");
    let gaps: Vec<f64> = kicks
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
        .collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    println!("WATCHDOG=1 gaps: mean {mean:.1} ms, {gaps:.1?}");
    assert!((45.0..80.0).contains(&mean), "kick period {mean} ms");
    assert!(
        state_of(&dir).contains("run armed\nresets 0\n"),
        "{}",
        state_of(&dir)
    );
    run.signal("TERM");
    let got = receive(&rx, Duration::from_secs(10), |g| {
        g.iter().any(|(_, m)| m == "STOPPING=1")
    });
    assert!(got.iter().any(|(_, m)| m == "STOPPING=1"), "{got:?}");
    let (code, log) = run.finish();
    assert_eq!(code, Some(0));
    assert!(log.contains("WATCHDOG=1 every 0.050 s at most"), "{log}");
    assert!(
        state_of(&dir).contains("run stopped\n"),
        "{}",
        state_of(&dir)
    );

    // Killed three times in a row: each start counts one more reset (a
    // crash), damps, and the third starts safe mode.
    let mut last_log = String::new();
    for n in 0..4 {
        let run = Run::start(&dir, &socket, "200000", None);
        receive(&rx, Duration::from_secs(20), |g| {
            g.iter().any(|(_, m)| m == "WATCHDOG=1")
        });
        if n < 3 {
            run.signal("KILL");
        } else {
            run.signal("TERM");
        }
        let (_, log) = run.finish();
        if n > 0 {
            assert!(
                log.contains("picket is back after an end of picket without an orderly stop"),
                "{log}"
            );
            assert!(log.contains(&format!("resets in a row: {n}")), "{log}");
            assert!(
                log.contains(
                    "reset damping: instances start in BACKUP and do not preempt for 5.000 s"
                ),
                "{log}"
            );
        }
        assert_eq!(log.contains("SAFE MODE"), n == 3, "{log}");
        last_log = log;
    }
    assert!(
        last_log.contains("SAFE MODE: 3 resets in a row (watchdog_safe_mode_resets 3)"),
        "{last_log}"
    );
    let state = state_of(&dir);
    assert!(state.contains("resets 3\nlast crash "), "{state}");

    // The operator clears the count: the next start is not damped.
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--clear-resets")
        .arg("-f")
        .arg(dir.join("picket.conf"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(out.status.success());
    assert!(
        text.contains("resets in a row 3 (last: crash); cleared to 0"),
        "{text}"
    );
    assert!(state_of(&dir).contains("resets 0\n"));
    let run = Run::start(&dir, &socket, "200000", None);
    receive(&rx, Duration::from_secs(20), |g| {
        g.iter().any(|(_, m)| m == "WATCHDOG=1")
    });
    run.signal("TERM");
    let (_, log) = run.finish();
    assert!(
        !log.contains("picket is back") && !log.contains("SAFE MODE"),
        "{log}"
    );

    // WATCHDOG_PID names another process: READY=1 and STOPPING=1 only.
    receive(&rx, Duration::from_millis(300), |_| false);
    let run = Run::start(&dir, &socket, "200000", Some("1"));
    let got = receive(&rx, Duration::from_secs(2), |_| false);
    run.signal("TERM");
    let (_, log) = run.finish();
    let got: Vec<String> = got
        .into_iter()
        .map(|(_, m)| m)
        .chain(
            receive(&rx, Duration::from_millis(500), |_| false)
                .into_iter()
                .map(|(_, m)| m),
        )
        .collect();
    assert_eq!(got, ["READY=1", "STOPPING=1"], "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}
