//! The pid file lock: a second picket on the same pid file refuses to start,
//! naming the first one's pid, and leaves the first one (and its pid file)
//! alone; once the first stops, the pid file is gone and a new picket
//! starts. Runs unprivileged (an empty configuration needs no sockets).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Waits until the pid file holds `pid`.
fn holds(file: &Path, pid: u32) -> bool {
    wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(file).is_ok_and(|t| t == format!("{pid}\n"))
    })
}

fn picket(conf: &Path, pid: &Path, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["-n", "-l", "-f"])
        .arg(conf)
        .arg("-p")
        .arg(pid)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

#[test]
fn a_second_picket_on_the_same_pid_file_refuses_to_start() {
    let dir = std::env::temp_dir().join(format!("picket-ops-pid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("empty.conf");
    std::fs::write(&conf, "global_defs {\n router_id pidtest\n}\n").unwrap();
    let pid = dir.join("picket.pid");

    let mut first = picket(&conf, &pid, &dir.join("first.log"));
    let first_pid = first.id();
    assert!(
        holds(&pid, first_pid),
        "the first picket never wrote its pid file"
    );

    let second_log = dir.join("second.log");
    let mut second = picket(&conf, &pid, &second_log);
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(5), || {
            status = second.try_wait().unwrap();
            status.is_some()
        }),
        "the second picket kept running"
    );
    let text = std::fs::read_to_string(&second_log).unwrap();
    println!("second picket: {status:?}: {text}");
    assert_eq!(status.unwrap().code(), Some(1), "{text}");
    let expected = format!("pid file {} is locked by pid {first_pid}", pid.display());
    assert!(text.contains(&expected), "{text}");
    // The first one runs on, its pid file intact.
    assert!(first.try_wait().unwrap().is_none());
    assert_eq!(
        std::fs::read_to_string(&pid).unwrap(),
        format!("{first_pid}\n")
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(first_pid).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(10), || first
        .try_wait()
        .unwrap()
        .is_some()));
    assert!(
        !pid.exists(),
        "pid file left behind after a clean stop: {}",
        std::fs::read_to_string(dir.join("first.log")).unwrap()
    );

    // Now a new one starts.
    let mut third = picket(&conf, &pid, &dir.join("third.log"));
    let third_pid = third.id();
    assert!(holds(&pid, third_pid));
    third.kill().unwrap();
    third.wait().unwrap();
    // SIGKILL leaves the file, but not the lock: the next one takes over.
    assert!(pid.exists());
    let mut fourth = picket(&conf, &pid, &dir.join("fourth.log"));
    let fourth_pid = fourth.id();
    assert!(holds(&pid, fourth_pid));
    fourth.kill().unwrap();
    fourth.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
