//! Replays every fuzz input kept in git — the seed corpora
//! (`fuzz/corpus/<target>/`) and the inputs that once crashed a target
//! (`fuzz/regressions/<target>/`) — through the fuzz targets' own check
//! logic (`fuzz/harness/`), on stable Rust and without libFuzzer. A
//! regression input that panics again fails here, naming its file.
//!
//! The fuzzing itself is `tools/fuzz` (see `fuzz/README.md`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};

/// The files of `fuzz/<kind>/<target>/`, sorted (none if it is missing).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every kept input of `target`; returns how many ran.
fn replay(target: &str) -> usize {
    let run = harness::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no harness for target {target}"))
        .1;
    let mut count = 0;
    let mut failed = Vec::new();
    for kind in ["corpus", "regressions"] {
        for file in inputs(kind, target) {
            let data = std::fs::read(&file).unwrap();
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failed.push(file.display().to_string());
            }
            count += 1;
        }
    }
    assert!(failed.is_empty(), "{target}: inputs that fail: {failed:#?}");
    assert!(count > 0, "{target}: no corpus in fuzz/corpus/{target}");
    println!("{target}: {count} inputs replayed");
    count
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        /// Every harness has its test above (a new target must be added).
        #[test]
        fn every_target_is_replayed() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in harness::TARGETS {
                assert!(tested.contains(name), "add `{name}` to targets! in this file");
            }
        }
    };
}

targets!(
    argv,
    config,
    dns,
    http,
    ipvs,
    netlink,
    ping,
    smtp,
    track_file,
    udp,
    vrrp_engine,
    vrrp_packet,
    watchdog_state
);
