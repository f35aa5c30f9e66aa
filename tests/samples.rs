//! Every sample shipped by Debian's keepalived package goes through
//! `picket -t`, and the outcome must be the one recorded here: accepted, or
//! rejected only with the listed errors (line and message fragment naming the
//! keyword or the problem). Any other outcome fails. Accepted samples must
//! also survive `--dump-config` as a fixed point.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

/// Expected errors of a sample: (line, fragment of the message).
type Expected = &'static [(u32, &'static str)];

/// The outcome picket must give for each sample (samples not listed must be
/// accepted), the extra arguments to run it with, and why.
///
/// keepalived 2.2.7 itself rejects `vrrp.lvs_syncd` (old-style sync group),
/// `vrrp.rules` (a bad address) and `SSL_GET` (AH with MASTER); every other
/// rejection below names a feature picket does not implement and that would
/// change behaviour: TLS checks, SMTP `host {}` blocks, IPsec AH, static
/// routes, multipath virtual routes, rules, network namespaces, the LVS sync
/// daemon.
const TABLE: &[(&str, &[&str], Expected)] = &[
    (
        "keepalived.conf.HTTP_GET.port",
        &[],
        &[(22, "'SSL_GET' is not supported")],
    ),
    (
        "keepalived.conf.SMTP_CHECK",
        &[],
        &[
            (64, "'host' is not supported"),
            (68, "'host' is not supported"),
            (72, "'host' is not supported"),
            (95, "'host' is not supported"),
            (101, "'host' is not supported"),
            (107, "'host' is not supported"),
        ],
    ),
    (
        "keepalived.conf.SSL_GET",
        &[],
        &[(20, "'auth_type AH'"), (39, "'SSL_GET' is not supported")],
    ),
    // The sample says: run with `-i high` or `-i low`.
    (
        "keepalived.conf.conditional_conf",
        &["-i", "high"],
        &[(3, "'net_namespace' is not supported")],
    ),
    (
        "keepalived.conf.status_code",
        &[],
        &[(23, "'SSL_GET' is not supported")],
    ),
    (
        "keepalived.conf.track_interface",
        &[],
        &[(7, "'static_routes' is not supported")],
    ),
    (
        "keepalived.conf.virtualhost",
        &[],
        &[(24, "'SSL_GET' is not supported")],
    ),
    (
        "keepalived.conf.vrrp.lvs_syncd",
        &[],
        &[
            (3, "has no 'group { }'"),
            (4, "listed outside 'group { }'"),
            (5, "listed outside 'group { }'"),
            (11, "'lvs_sync_daemon_interface' is not supported"),
        ],
    ),
    (
        "keepalived.conf.vrrp.routes",
        &[],
        &[
            (7, "'static_routes' is not supported"),
            (30, "virtual_routes: 'or' is not supported"),
        ],
    ),
    (
        "keepalived.conf.vrrp.rules",
        &[],
        &[
            (9, "'static_rules' is not supported"),
            (24, "'virtual_rules' is not supported"),
        ],
    ),
];

fn outcome(name: &str) -> (&'static [&'static str], Expected) {
    TABLE
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or((&[], &[]), |(_, a, e)| (*a, *e))
}

fn samples_dir() -> Option<PathBuf> {
    let p = Path::new(SAMPLES);
    if p.is_dir() {
        return Some(p.to_path_buf());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{SAMPLES} missing under CI=true: .ci/run must install keepalived"
    );
    println!("SKIPPED: {SAMPLES} not found (install Debian's keepalived package)");
    None
}

fn picket(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(args)
        .output()
        .expect("run picket");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The sample files (not scripts or compressed files).
fn sample_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read samples dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keepalived.conf"))
        })
        .collect();
    v.sort();
    v
}

/// `file:line:col: error: message` lines of a diagnostics output.
fn error_lines(stderr: &str) -> Vec<(u32, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let (loc, msg) = l.split_once(": error: ")?;
            let mut parts = loc.rsplitn(3, ':');
            let _col = parts.next()?;
            let line = parts.next()?.parse().ok()?;
            Some((line, msg.to_owned()))
        })
        .collect()
}

#[test]
fn every_debian_sample_has_its_recorded_outcome() {
    let Some(dir) = samples_dir() else { return };
    let files = sample_files(&dir);
    assert!(
        files.len() >= 20,
        "expected Debian's ~25 samples, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (extra, expected) = outcome(name);
        let mut args = vec!["-t", "-f", f.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (rc, _out, err) = picket(&args);
        let got = error_lines(&err);
        let want_rc = if expected.is_empty() { 0 } else { 5 };
        let matches = got.len() == expected.len()
            && expected
                .iter()
                .all(|(line, frag)| got.iter().any(|(l, m)| l == line && m.contains(frag)));
        if rc != want_rc || !matches {
            failures.push(format!(
                "{name}: exit {rc} (want {want_rc})\n  expected {expected:?}\n  got:\n{err}"
            ));
        } else {
            println!("{name}: exit {rc} as recorded ({} errors)", got.len());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn accepted_samples_dump_as_a_fixed_point() {
    let Some(dir) = samples_dir() else { return };
    let tmp = std::env::temp_dir().join(format!("picket-dump-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut checked = 0;
    for f in sample_files(&dir) {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        if !outcome(&name).1.is_empty() {
            continue;
        }
        let (rc, first, err) = picket(&["--dump-config", "-f", f.to_str().unwrap()]);
        assert_eq!(rc, 0, "{name}: --dump-config failed: {err}");
        assert!(!first.trim().is_empty(), "{name}: empty dump");
        let again = tmp.join(&name);
        std::fs::write(&again, &first).unwrap();
        let (rc2, second, err2) = picket(&["--dump-config", "-f", again.to_str().unwrap()]);
        assert_eq!(rc2, 0, "{name}: dump of the dump failed: {err2}\n{first}");
        assert_eq!(first, second, "{name}: dump is not a fixed point");
        checked += 1;
    }
    std::fs::remove_dir_all(&tmp).ok();
    assert!(checked >= 10, "only {checked} samples round-tripped");
    println!("{checked} samples: parse -> dump -> parse -> dump is a fixed point");
}
