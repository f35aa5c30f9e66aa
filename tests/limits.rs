//! `picket --limits` prints the capacities of the board the binary was built
//! for: the default build (board/generic) and a build for board/qemu-x86_64
//! must each print exactly their board file's values, and so differ where
//! the boards differ.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `name = number` pairs of a board file.
fn board_values(board: &str) -> BTreeMap<String, usize> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("board")
        .join(board)
        .join("board.conf");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter_map(|l| {
            let l = l.split('#').next()?.trim();
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().replace('_', "").parse().ok()?))
        })
        .collect()
}

/// `name value` pairs printed by `--limits`.
fn printed_values(bin: &Path) -> (BTreeMap<String, usize>, String) {
    let out = Command::new(bin).arg("--limits").output().unwrap();
    assert!(out.status.success(), "--limits failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let map = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let k = w.next()?;
            let v = w.next()?.parse().ok()?;
            Some((k.to_owned(), v))
        })
        .collect();
    (map, text)
}

fn check(board: &str, bin: &Path) -> BTreeMap<String, usize> {
    let want = board_values(board);
    let (got, text) = printed_values(bin);
    assert!(
        text.contains(board),
        "--limits does not name board {board}:\n{text}"
    );
    assert!(
        text.contains("static memory"),
        "--limits does not give the static memory:\n{text}"
    );
    let mut n = 0;
    for (k, v) in &want {
        if k.starts_with("watchdog") {
            continue;
        }
        assert_eq!(
            got.get(k),
            Some(v),
            "board {board}: {k} printed {:?}, board file says {v}\n{text}",
            got.get(k)
        );
        n += 1;
    }
    assert!(n >= 20, "only {n} capacities compared");
    got
}

#[test]
fn limits_follow_the_board_built_for() {
    let generic = check("generic", Path::new(env!("CARGO_BIN_EXE_picket")));

    // Build the same sources for the qemu board into a target dir of its own.
    let target = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("board-qemu-x86_64");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bin", "picket"])
        .env("PICKET_BOARD", "qemu-x86_64")
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "build for board qemu-x86_64 failed");
    let qemu = check("qemu-x86_64", &target.join("debug").join("picket"));

    let board_keys = board_values("generic");
    let differing: Vec<_> = generic
        .iter()
        .filter(|(k, v)| board_keys.contains_key(*k) && qemu.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    // The qemu board has more real servers and checkers: its tables are larger.
    assert!(
        qemu.get("Config") > generic.get("Config"),
        "static memory of Config should grow with the board: {:?} vs {:?}",
        generic.get("Config"),
        qemu.get("Config")
    );
    let board_diff: Vec<_> = board_values("generic")
        .iter()
        .filter(|(k, v)| {
            !k.starts_with("watchdog") && board_values("qemu-x86_64").get(*k) != Some(v)
        })
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        !board_diff.is_empty(),
        "the two boards should differ somewhere"
    );
    assert_eq!(
        differing, board_diff,
        "printed limits differ exactly where the board files differ"
    );
    println!("generic vs qemu-x86_64 differ in: {differing:?}");
}
