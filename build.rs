//! Reads the board chosen by `PICKET_BOARD` (default `generic`) from
//! `board/<name>/board.conf` and writes its capacities as consts into
//! `$OUT_DIR/board.rs`, which `src/limits.rs` includes.

use std::fmt::Write as _;
use std::{env, fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    println!("cargo::rerun-if-env-changed=PICKET_BOARD");
    let board = env::var("PICKET_BOARD").unwrap_or_else(|_| "generic".to_owned());
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let path = dir.join("board").join(&board).join("board.conf");
    println!("cargo::rerun-if-changed={}", path.display());
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "picket build: board '{board}': cannot read {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/// The board this binary was built for (`PICKET_BOARD`)."
    );
    let _ = writeln!(out, "pub const BOARD: &str = {board:?};");
    for (n, raw) in text.lines().enumerate() {
        let line = match raw.find('#') {
            Some(i) if !raw[..i].contains('"') => &raw[..i],
            _ => raw,
        }
        .trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            eprintln!("{}:{}: expected `name = value`", path.display(), n + 1);
            return ExitCode::FAILURE;
        };
        let (key, value) = (key.trim(), value.trim());
        if !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            eprintln!("{}:{}: bad name {key:?}", path.display(), n + 1);
            return ExitCode::FAILURE;
        }
        let name = key.to_ascii_uppercase();
        let _ = writeln!(out, "/// `{key}` from board/{board}/board.conf.");
        if let Some(s) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            let _ = writeln!(out, "pub const BOARD_{name}: &str = {s:?};");
        } else if let Ok(v) = value.replace('_', "").parse::<usize>() {
            let _ = writeln!(out, "pub const {name}: usize = {v};");
        } else {
            eprintln!(
                "{}:{}: {key}: expected a number or a quoted string",
                path.display(),
                n + 1
            );
            return ExitCode::FAILURE;
        }
    }
    let out_path = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("board.rs");
    if let Err(e) = fs::write(&out_path, out) {
        eprintln!("picket build: cannot write {}: {e}", out_path.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
