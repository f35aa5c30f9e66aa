//! Property tests of the configuration reader and parser: random text and
//! mutated real configurations never panic, and every problem found is
//! reported with a location (`file:line:col`) inside the input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use picket::config::memfs::MemFs;
use picket::config::{Config, Diagnostics, LoadOptions, LoadScratch, Severity, load};
use proptest::prelude::*;

/// Seeds: the example config and every Debian sample present.
fn seeds() -> Vec<String> {
    let mut v = vec![include_str!("../config/example.conf").to_owned()];
    if let Ok(rd) = std::fs::read_dir("/usr/share/doc/keepalived/samples") {
        let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if let Ok(s) = std::fs::read_to_string(&p) {
                v.push(s);
            }
        }
    }
    v
}

struct Loader {
    cfg: Box<Config>,
    scratch: Box<LoadScratch>,
    diags: Box<Diagnostics>,
}

impl Loader {
    fn new() -> Self {
        Loader {
            cfg: Box::new(Config::new()),
            scratch: Box::new(LoadScratch::new()),
            diags: Box::new(Diagnostics::new()),
        }
    }

    /// Loads `text` as /etc/keepalived/keepalived.conf and checks the
    /// properties; returns the number of errors.
    fn check(&mut self, text: &str) -> u32 {
        let files = [("/etc/keepalived/keepalived.conf", text)];
        let mut fs = MemFs::new(&files);
        let opts = LoadOptions {
            config_id: "edge",
            all_config: false,
        };
        load(
            &mut fs,
            "/etc/keepalived/keepalived.conf",
            &opts,
            &mut self.scratch,
            &mut self.cfg,
            &mut self.diags,
        );
        let lines = text.split('\n').count() as u32;
        for d in self.diags.iter() {
            if d.severity == Severity::Warning {
                continue;
            }
            let loc = d
                .loc
                .unwrap_or_else(|| panic!("error without a location: {}", d.message));
            assert!(
                loc.line >= 1 && loc.line <= lines + 1,
                "line {} outside 1..={} for {}",
                loc.line,
                lines + 1,
                d.message
            );
            assert!(loc.col >= 1, "column 0 for {}", d.message);
        }
        // Whatever was accepted dumps without error.
        let mut out = String::new();
        self.cfg.dump(&mut out).expect("dump");
        self.diags.error_count()
    }
}

/// A byte-level mutation of a seed: replace, insert or delete at a position.
fn mutate(seed: &str, ops: &[(usize, u8, u8)]) -> String {
    let mut b = seed.as_bytes().to_vec();
    for &(pos, kind, byte) in ops {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let i = pos % b.len();
        match kind % 3 {
            0 => b[i] = byte,
            1 => b.insert(i, byte),
            _ => {
                b.remove(i);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Words that make random text look like a configuration.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "\n",
    " ",
    "\"",
    "'",
    "#",
    "!",
    "\\",
    "$X=1",
    "$X",
    "${X}",
    "@edge",
    "@^edge",
    "include *.conf",
    "global_defs",
    "vrrp_instance",
    "VI_1",
    "state",
    "MASTER",
    "BACKUP",
    "interface",
    "eth0",
    "virtual_router_id",
    "51",
    "priority",
    "255",
    "256",
    "-1",
    "advert_int",
    "0.5",
    "virtual_ipaddress",
    "10.0.0.1/24",
    "fe80::1",
    "dev",
    "virtual_server",
    "80",
    "real_server",
    "HTTP_GET",
    "url",
    "path",
    "/",
    "status_code",
    "200-299",
    "TCP_CHECK",
    "MISC_CHECK",
    "misc_path",
    "vrrp_script",
    "script",
    "track_script",
    "vrrp_sync_group",
    "group",
    "authentication",
    "auth_type",
    "PASS",
    "auth_pass",
    "virtual_server_group",
    "fwmark",
    "1",
    "lb_algo",
    "rr",
    "notify_master",
    "\"/bin/true x\"",
    "weight",
    "unicast_peer",
    "10.0.0.2",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_token_soup_never_panics(idx in proptest::collection::vec(0..TOKENS.len(), 0..400)) {
        let text: String = idx.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        Loader::new().check(&text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        Loader::new().check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_real_configs_never_panic(seed in 0usize..64, ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12)) {
        let seeds = seeds();
        let text = mutate(&seeds[seed % seeds.len()], &ops);
        Loader::new().check(&text);
    }
}

#[test]
fn a_wrong_value_is_located_precisely() {
    let mut l = Loader::new();
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 300\n    virtual_ipaddress {\n        10.0.0.1/24\n    }\n}\n";
    assert_eq!(l.check(text), 1);
    let d = l.diags.iter().next().unwrap();
    let loc = d.loc.unwrap();
    assert_eq!((loc.line, loc.col), (4, 14), "{}", d.message);
    assert!(d.message.contains("300"), "{}", d.message);
}
