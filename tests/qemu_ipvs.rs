//! picket programs the real kernel's IPVS table in the qemu board (Debian
//! kernel, IPVS modules), in one boot:
//!
//! - each configuration — Debian's keepalived samples with virtual servers
//!   that picket runs, and picket's own IPv4, IPv6 and fwmark ones — gives
//!   exactly the `ipvsadm -Ln` table kept in `tests/fixtures/ipvs/*.table`
//!   (`PICKET_BLESS=1` rewrites them), and stopping picket empties it;
//! - a restart with the entries present flushes nothing: a second picket
//!   adopts them (a foreign service stays, an unconfigured destination in
//!   picket's service goes: one op), a third sends no op at all, and a
//!   configuration with one real server's weight changed sends one op that
//!   changes only that entry (a restart; the reload comes below);
//! - every run reports 0 heap allocations after start-up (the binary's
//!   counting allocator), IPVS sync and stop included.
//!
//! - the health checkers steer the table (busybox httpd real servers on a
//!   dummy link of the guest): a failing `TCP_CHECK` removes its destination,
//!   a failing `HTTP_GET` with `inhibit_on_failure` sets its weight to 0,
//!   recovery puts both back; quorum lost puts the sorry server in place of
//!   the real servers, regained takes it out — each table exactly as golden;
//!   `lvs_timeouts` are set while picket runs and the kernel's own values
//!   are back after it stops (keepalived's libipvs does the same).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod board;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Debian's samples with virtual servers that picket runs (the others are
/// refused for features picket does not implement: see tests/samples.rs).
const SAMPLES: &[&str] = &[
    "keepalived.conf.IPv6",
    "keepalived.conf.PING_CHECK",
    "keepalived.conf.UDP_CHECK",
    "keepalived.conf.fwmark",
    "keepalived.conf.inhibit",
    "keepalived.conf.misc_check",
    "keepalived.conf.misc_check_arg",
    "keepalived.conf.quorum",
    "keepalived.conf.sample",
    "keepalived.conf.virtual_server_group",
];

fn fixtures() -> PathBuf {
    board::root().join("tests/fixtures/ipvs")
}

/// `result NAME k=v ...` lines.
fn results(console: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    console
        .lines()
        .filter_map(|l| l.strip_prefix("result "))
        .map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next().unwrap().to_owned();
            let kv = w
                .filter_map(|x| x.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (name, kv)
        })
        .collect()
}

fn golden(name: &str, got: &str, bless: bool) {
    let path = fixtures().join(format!("{name}.table"));
    if bless {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing (PICKET_BLESS=1 writes it)", path.display()));
    assert_eq!(
        got,
        want,
        "ipvsadm -Ln of {name} differs from {}",
        path.display()
    );
}

#[test]
fn ipvs_tables_restart_and_weight_change_on_the_real_kernel() {
    if !board::ready() {
        return;
    }
    let samples = Path::new("/usr/share/doc/keepalived/samples");
    assert!(
        samples.is_dir(),
        "keepalived's samples are installed with .ci/run"
    );
    // The configurations go to /board/confs, named by what they are.
    let stage = std::env::temp_dir().join(format!("picket-qemu-ipvs-{}", std::process::id()));
    let confs = stage.join("confs");
    std::fs::create_dir_all(&confs).unwrap();
    for s in SAMPLES {
        let name = s.trim_start_matches("keepalived.conf.").replace('_', "-");
        std::fs::copy(samples.join(s), confs.join(format!("sample-{name}.conf"))).unwrap();
    }
    for own in ["ipv4", "ipv6", "fwmark"] {
        std::fs::copy(
            fixtures().join(format!("confs/{own}.conf")),
            confs.join(format!("{own}.conf")),
        )
        .unwrap();
    }
    let restart = fixtures().join("restart");
    let checkers = fixtures().join("checkers");
    let boot = board::boot(
        &fixtures().join("guest.sh"),
        &[&confs, &restart, &checkers],
        600,
    );
    let _ = std::fs::remove_dir_all(&stage);
    assert_eq!(boot.status, 0, "guest script failed");
    let bless = std::env::var("PICKET_BLESS").as_deref() == Ok("1");
    let res = results(&boot.console);

    let mut names: Vec<String> = SAMPLES
        .iter()
        .map(|s| {
            format!(
                "sample-{}",
                s.trim_start_matches("keepalived.conf.").replace('_', "-")
            )
        })
        .collect();
    names.extend(["ipv4", "ipv6", "fwmark"].map(String::from));
    for name in &names {
        let r = res
            .get(name)
            .unwrap_or_else(|| panic!("no result for {name}"));
        assert_eq!(r["exit"], "0", "{name}: picket's exit status");
        assert_eq!(r["heap"], "0", "{name}: heap allocations after start-up");
        assert!(
            boot.section(&format!("errors {name}")).is_empty(),
            "{name} logged errors"
        );
        let table = boot.section(&format!("table {name}"));
        assert!(table.lines().count() > 2, "{name}: a table");
        golden(name, &table, bless);
        assert_eq!(
            boot.section(&format!("stopped {name}")).lines().count(),
            2,
            "{name}: stopping picket removes its services (only ipvsadm's two header lines remain)"
        );
        // Batched: the family lookup, GET_INFO and the service dump, then
        // the ops 128 to a datagram.
        let ops: u64 = r["ops"].parse().unwrap();
        let datagrams: u64 = r["datagrams"].parse().unwrap();
        assert!(ops > 0, "{name}: ops sent");
        assert_eq!(
            datagrams,
            3 + ops.div_ceil(128),
            "{name}: {ops} ops batched"
        );
    }

    // Restart with the entries present.
    let first = &res["first"];
    assert_eq!(first["ops"], "7", "2 services + 5 destinations");
    let first_table = boot.section("table first");
    golden("restart", &first_table, bless);
    let again = &res["again"];
    assert_eq!(
        again["ops"], "1",
        "only the unconfigured destination is removed"
    );
    let again_table = boot.section("table again");
    assert!(
        again_table.contains("TCP  10.99.0.1:22 rr"),
        "the foreign service stays"
    );
    assert!(
        !again_table.contains("192.168.20.77"),
        "the stale destination goes"
    );
    assert_eq!(
        again_table.replace("TCP  10.99.0.1:22 rr\n", ""),
        first_table,
        "no duplicate, nothing else changed"
    );
    assert_eq!(res["same"]["ops"], "0", "nothing changed: nothing sent");
    assert_eq!(res["weight"]["ops"], "1", "one weight changed: one op");
    let weight_table = boot
        .section("table weight")
        .replace("TCP  10.99.0.1:22 rr\n", "");
    let changed: Vec<(&str, &str)> = weight_table
        .lines()
        .zip(first_table.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "only one entry changed:\n{weight_table}");
    assert!(changed[0].0.contains("192.168.20.2:80") && changed[0].0.contains(" 7 "));
    for r in ["first", "again", "same", "weight"] {
        assert_eq!(res[r]["heap"], "0", "{r}: heap allocations after start-up");
    }
    assert_eq!(
        boot.section("stopped weight").lines().count(),
        3,
        "picket's services removed, the foreign one left"
    );

    // The checkers steer the table.
    let log = boot.section("log checkers");
    assert!(
        !boot.console.contains("timeout waiting for"),
        "a table never came:\n{log}"
    );
    let up = boot.section("table checkers-up");
    golden("checkers-up", &up, bless);
    golden("checkers-down", &boot.section("table checkers-down"), bless);
    assert_eq!(
        boot.section("table checkers-back"),
        up,
        "recovered: as at the start"
    );
    golden(
        "checkers-sorry",
        &boot.section("table checkers-sorry"),
        bless,
    );
    assert_eq!(
        boot.section("table checkers-regained"),
        up,
        "quorum regained: as at the start"
    );
    let r = &res["checkers"];
    assert_eq!(r["exit"], "0");
    assert_eq!(r["heap"], "0", "checker-driven changes allocate nothing");
    assert!(boot.section("errors checkers").is_empty(), "errors logged");
    assert_eq!(boot.section("stopped checkers").lines().count(), 2);
    // The sorry server is in the kernel's own listing too (hex address:port).
    let proc_sorry = boot.section("proc checkers-sorry");
    assert!(
        proc_sorry.contains("TCP  0A3C0002:0050 wrr")
            && proc_sorry.contains("-> 0A320009:0050")
            && !proc_sorry.contains("-> 0A320003:0050")
            && !proc_sorry.contains("-> 0A320004:0050"),
        "/proc/net/ip_vs with the sorry server alone:\n{proc_sorry}"
    );
    // notify_down/up of the failing server and quorum_down/up, each once
    // (children: their order between them is not promised).
    let events = boot.section("events checkers");
    let mut events: Vec<&str> = events.lines().collect();
    events.sort_unstable();
    assert_eq!(
        events,
        ["down 10.50.0.3", "quorum_down", "quorum_up", "up 10.50.0.3"],
        "each script once per transition"
    );
    for needle in [
        "Removing service [10.50.0.1]:tcp:80",
        "Lost quorum",
        "Gained quorum",
    ] {
        assert!(log.contains(needle), "{needle} logged:\n{log}");
    }
    // Reloads (SIGHUP) with a failed server: it stays out, a weight change
    // moves exactly one entry and nothing flaps, a dropped and an added
    // real server are exactly that.
    let before = boot.section("table reload-before");
    let without_1: String = up
        .lines()
        .filter(|l| !l.contains("10.50.0.1:80"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(before, without_1, "the failed server is out");
    let weight = boot.section("table reload-weight");
    assert_eq!(weight.lines().count(), before.lines().count());
    let changed: Vec<(&str, &str)> = weight
        .lines()
        .zip(before.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "one entry changed:\n{weight}");
    assert!(changed[0].0.contains("10.50.0.2:80") && changed[0].0.contains(" 5 "));
    assert_eq!(
        boot.section("table reload-steady"),
        weight,
        "3 s later: nothing moved (the failed server did not flap back)"
    );
    let line_of = |table: &str, needle: &str| {
        table
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in\n{table}"))
            .to_owned()
    };
    let four = line_of(&weight, "10.50.0.4:80");
    assert_eq!(
        boot.section("table reload-servers"),
        weight.replace(&line_of(&weight, "10.50.0.2:80"), &four),
        "10.50.0.2 dropped from 10.60.0.1, 10.50.0.4 added to it"
    );
    let log = boot.section("log reload");
    assert_eq!(log.matches("reload: applied").count(), 2, "{log}");
    for needle in [
        "Removing service [10.50.0.2]:tcp:80 from VS [10.60.0.1]:tcp:80 (reload)",
        "Adding service [10.50.0.4]:tcp:80 to VS [10.60.0.1]:tcp:80 (reload)",
    ] {
        assert!(log.contains(needle), "{needle} logged:\n{log}");
    }
    for needle in ["[10.50.0.1]", "[10.50.0.3]", "quorum", "sorry"] {
        assert!(!log.contains(needle), "{needle} moved in a reload:\n{log}");
    }
    let t = &res["lvs-timeouts"];
    assert_eq!(t["before"], "900,120,300", "the kernel's defaults");
    assert_eq!(t["during"], "7200,120,60", "lvs_timeouts tcp 7200 udp 60");
    assert_eq!(t["after"], t["before"], "restored at stop");
}
