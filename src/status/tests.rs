//! The status document on a fake clock: parsed back by a real JSON parser
//! (serde_json), matching the engine's state; written in pieces it is the
//! same document; at the board's limits every unit fits the buffer.

use std::string::String;
use std::vec::Vec as StdVec;

use super::*;
use crate::config::testutil::parse_text;
use crate::vrrp::engine::IfFacts;
use core::net::Ipv4Addr;

const TEXT: &str = "global_defs {\n router_id \"r\\\\1\"\n}\n\
vrrp_script chk {\n script \"/bin/true\"\n interval 1\n}\n\
vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n version 3\n \
advert_int 0.1\n track_script {\n  chk\n }\n virtual_ipaddress {\n  10.0.0.100/24\n  10.0.0.101/24 dev eth1\n }\n \
virtual_ipaddress_excluded {\n  fd00::5/64\n }\n}\n\
vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n priority 100\n advert_int 1\n \
unicast_peer {\n  10.0.0.2\n }\n virtual_ipaddress {\n  10.0.0.102/24\n }\n}\n\
vrrp_sync_group G {\n group {\n  VI_2\n }\n}\n";

fn facts(i: u8) -> IfFacts {
    IfFacts {
        index: u32::from(i) + 1,
        mac: [2, 0, 0, 0, 0, i],
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
        ipv6_link_local: None,
        ipv6_forwarding: false,
        up: true,
    }
}

struct World {
    cfg: std::boxed::Box<Config>,
    engine: Engine,
    scripts: ScriptTable,
    links: LinkTable,
    stats: Stats,
    reloads: ReloadLog,
}

fn world(text: &str) -> World {
    let (cfg, out) = parse_text(text);
    assert!(!out.contains(": error:"), "{out}");
    let mut lookup = |name: &str| match name {
        "eth0" => Some(facts(0)),
        "eth1" => Some(facts(1)),
        _ => None,
    };
    let engine = Engine::new(&cfg, &mut lookup, &mut |_, _, e| panic!("{e}"));
    let scripts = ScriptTable::from_config(&cfg.vrrp.scripts, &cfg.strings).unwrap();
    let mut links = LinkTable::new();
    links.track("eth0").unwrap();
    links.handle_link("eth0", true);
    World {
        cfg,
        engine,
        scripts,
        links,
        stats: Stats::new(),
        reloads: ReloadLog::default(),
    }
}

fn t(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

fn view<'a>(w: &'a World, now: Instant, sections: &'a [&'a dyn Section]) -> StatusView<'a> {
    StatusView {
        facts: Facts {
            version: "0.1.0",
            board: "generic",
            pid: 42,
            config_file: "/etc/keepalived/keepalived.conf",
            started: t(0),
            wall: Wall {
                now,
                epoch_micros: 1_700_000_000_000_000 + now.total_micros() as u64,
                utc_offset_s: 0,
            },
            reloads: &w.reloads,
        },
        cfg: &w.cfg,
        engine: &w.engine,
        scripts: &w.scripts,
        links: &w.links,
        stats: &w.stats,
        sections,
    }
}

/// Runs the engine from 0 to `until` ms in 10 ms steps, draining actions.
fn run(w: &mut World, until: i64) {
    w.engine.start(t(0));
    let mut ms = 0;
    while ms <= until {
        w.engine.handle_timeout(t(ms));
        while w.engine.poll_action(t(ms)).is_some() {}
        ms += 10;
    }
}

fn whole(w: &World, now: Instant, sections: &[&dyn Section]) -> String {
    let mut s = String::new();
    Document::new()
        .write_all(&view(w, now, sections), &mut s)
        .unwrap();
    s
}

#[test]
fn the_document_parses_and_says_what_the_engine_holds() {
    let mut w = world(TEXT);
    w.stats.loop_turns = 77;
    run(&mut w, 5_000);
    let text = whole(&w, t(5_000), &[]);
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(doc["picket"]["pid"], 42);
    assert_eq!(doc["picket"]["router_id"], "r\\\\1");
    assert_eq!(doc["picket"]["uptime_ms"], 5_000);
    assert_eq!(doc["picket"]["reloads"]["last"], serde_json::Value::Null);
    let inst = doc["vrrp"]["instances"].as_array().unwrap();
    assert_eq!(inst.len(), 2);
    let a = &inst[0];
    assert_eq!(a["name"], "VI_1");
    assert_eq!(a["vrid"], 51);
    assert_eq!(a["version"], 3);
    assert_eq!(a["state"], "MASTER");
    assert_eq!(a["mode"], "multicast");
    assert_eq!(a["group"], "224.0.0.18");
    assert_eq!(a["base_priority"], 150);
    assert_eq!(a["effective_priority"], 150);
    assert_eq!(a["master"]["self"], true);
    assert_eq!(a["master"]["address"], "10.0.0.1");
    assert_eq!(a["last_transition"]["from"], "BACKUP");
    assert_eq!(a["last_transition"]["to"], "MASTER");
    assert_eq!(a["transitions"]["to_master"], 1);
    // Became master after Master_Down_Interval: 3 x 0.1 s + skew.
    let since = a["since"].as_f64().unwrap();
    assert!((since - 1_700_000_000.0 - 0.3).abs() < 0.1, "{since}");
    let addrs = a["addresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 3);
    assert_eq!(addrs[1]["address"], "10.0.0.101");
    assert_eq!(addrs[1]["dev"], "eth1");
    assert_eq!(addrs[2]["address"], "fd00::5");
    assert_eq!(addrs[2]["excluded"], true);
    assert_eq!(addrs[0]["held"], true);
    assert!(a["stats"]["adverts_sent"].as_u64().unwrap() >= 40);
    assert_eq!(a["rx"]["accepted"], 0);
    let b = &inst[1];
    assert_eq!(b["mode"], "unicast");
    assert_eq!(b["group"], serde_json::Value::Null);
    assert_eq!(b["sync_group"], "G");
    assert_eq!(b["peers"][0]["address"], "10.0.0.2");
    assert_eq!(b["peers"][0]["max_ttl"], 255);
    assert_eq!(b["peers"][0]["configured"], true);
    assert_eq!(b["peers"][0]["last_heard"], serde_json::Value::Null);
    assert_eq!(doc["vrrp"]["sync_groups"][0]["name"], "G");
    assert_eq!(doc["vrrp"]["sync_groups"][0]["members"][0], "VI_2");
    assert_eq!(doc["vrrp"]["scripts"][0]["name"], "chk");
    assert_eq!(doc["vrrp"]["scripts"][0]["state"], "init");
    assert_eq!(doc["vrrp"]["links"][0]["name"], "eth0");
    assert_eq!(doc["vrrp"]["links"][0]["up"], true);
    assert_eq!(doc["counters"]["loop_turns"], 77);
    assert_eq!(a["hold"], serde_json::json!([]));
    assert_eq!(
        a["reflector"],
        serde_json::json!({"vips_restored": 0, "source_changes": 0,
            "interface_losses": 0, "holds": 0})
    );
}

/// The reflector's part of an instance: VI_1's VIP interface eth1 deleted
/// holds it in FAULT for `no_interface`, counted; VI_2 (on eth0 only) is
/// not held; eth1 back (new index) releases the hold, the count stays.
#[test]
fn the_document_says_why_the_reflector_holds_an_instance() {
    let mut w = world(TEXT);
    run(&mut w, 3_000);
    let eth1 = |index: u32, deleted: bool| crate::wire::link::LinkEvent {
        index,
        name: "eth1",
        up: !deleted,
        deleted,
        mac: Some([2, 0, 0, 0, 0, 9]),
    };
    w.engine.handle_link(t(3_010), &eth1(2, true));
    while w.engine.poll_action(t(3_010)).is_some() {}
    let doc: serde_json::Value = serde_json::from_str(&whole(&w, t(3_010), &[])).unwrap();
    let (a, b) = (&doc["vrrp"]["instances"][0], &doc["vrrp"]["instances"][1]);
    assert_eq!(a["state"], "FAULT", "{a}");
    assert_eq!(a["hold"], serde_json::json!(["no_interface"]));
    assert_eq!(a["reflector"]["interface_losses"], 1);
    assert_eq!(a["reflector"]["holds"], 1);
    assert_eq!(b["hold"], serde_json::json!([]));
    assert_eq!(b["reflector"]["interface_losses"], 0);

    w.engine.handle_link(t(3_020), &eth1(7, false));
    while w.engine.poll_action(t(3_020)).is_some() {}
    let doc: serde_json::Value = serde_json::from_str(&whole(&w, t(3_020), &[])).unwrap();
    let a = &doc["vrrp"]["instances"][0];
    assert_eq!(a["hold"], serde_json::json!([]), "{a}");
    assert_eq!(a["state"], "BACKUP");
    assert_eq!(a["reflector"]["holds"], 1);
}

/// A section named `.0` with `.1` items `{"k":i}`.
struct Items(&'static str, usize);

impl Section for Items {
    fn name(&self) -> &'static str {
        self.0
    }
    fn len(&self) -> usize {
        self.1
    }
    fn item(&self, k: usize, _wall: &Wall, json: &mut Json<'_, '_>) -> fmt::Result {
        json.begin_object()?;
        json.field_u64("k", k as u64)?;
        json.end_object()
    }
}

#[test]
fn written_in_small_pieces_it_is_the_same_document() {
    let mut w = world(TEXT);
    run(&mut w, 3_000);
    let items = Items("things", 3);
    let empty = Items("none", 0);
    let sections: [&dyn Section; 2] = [&items, &empty];
    let want = whole(&w, t(3_000), &sections);
    let doc: serde_json::Value = serde_json::from_str(&want).unwrap();
    assert_eq!(doc["things"][2]["k"], 2, "{want}");
    assert_eq!(doc["things"].as_array().unwrap().len(), 3);
    assert_eq!(doc["none"].as_array().unwrap().len(), 0);
    for size in [2048, 3000, 4096] {
        let mut buf = StdVec::from([0u8; 4096]);
        buf.truncate(size);
        let mut got = StdVec::new();
        let mut d = Document::new();
        let mut pieces = 0;
        while !d.is_done() {
            // Some already sent, some left over in the buffer: the caller
            // keeps what the socket did not take.
            let n = d.fill(&view(&w, t(3_000), &sections), &mut buf, 0).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
            pieces += 1;
        }
        assert!(pieces > 1, "{size}: one piece");
        assert_eq!(String::from_utf8(got).unwrap(), want, "pieces of {size}");
    }
}

#[test]
fn an_empty_configuration_is_a_valid_document() {
    let w = world("");
    let text = whole(&w, t(1), &[]);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["vrrp"]["instances"].as_array().unwrap().len(), 0);
    assert_eq!(doc["vrrp"]["scripts"].as_array().unwrap().len(), 0);
}

/// A configuration at the board's limits, with names full of characters to
/// escape: each unit still fits one status buffer.
#[test]
fn at_the_limits_every_unit_fits_the_buffer() {
    use crate::limits::{
        EXCLUDED_VIPS_PER_INSTANCE, NAME_BYTES, STATUS_BUFFER_BYTES, UNICAST_PEERS,
        VIPS_PER_INSTANCE,
    };
    use std::fmt::Write as _;
    // Backslashes (names are taken as written): doubled in JSON.
    let name = "\\".repeat(NAME_BYTES);
    let mut text = String::new();
    let _ = write!(
        text,
        "vrrp_instance \"{name}\" {{\n interface eth0\n virtual_router_id 9\n priority 100\n unicast_peer {{\n"
    );
    for i in 0..UNICAST_PEERS {
        let _ = writeln!(text, "  fd00:ffff:ffff:ffff:ffff:ffff:ffff:{:x}", i + 1);
    }
    text.push_str(" }\n virtual_ipaddress {\n");
    for i in 0..VIPS_PER_INSTANCE {
        let _ = writeln!(
            text,
            "  fd00:ffff:ffff:ffff:ffff:ffff:fffe:{:x}/128 dev eth0",
            i + 1
        );
    }
    text.push_str(" }\n virtual_ipaddress_excluded {\n");
    for i in 0..EXCLUDED_VIPS_PER_INSTANCE {
        let _ = writeln!(text, "  fd00:ffff:ffff:ffff:ffff:ffff:fffd:{:x}/128", i + 1);
    }
    text.push_str(" }\n}\n");
    let (cfg, out) = parse_text(&text);
    assert!(!out.contains(": error:"), "{out}");
    let mut lookup = |_: &str| {
        Some(IfFacts {
            ipv6_link_local: Some("fe80::1".parse().unwrap()),
            ..facts(0)
        })
    };
    let engine = Engine::new(&cfg, &mut lookup, &mut |_, _, e| panic!("{e}"));
    assert_eq!(engine.len(), 1);
    let mut w = world("");
    w.cfg = cfg;
    w.engine = engine;
    let v = view(&w, t(0), &[]);
    let mut step = Step::Head;
    let mut state = JsonState::new();
    let mut largest = 0;
    let mut all = String::new();
    while step != Step::Done {
        let mut piece = String::new();
        step = unit(&v, step, &mut Json::new(&mut piece, &mut state)).unwrap();
        largest = largest.max(piece.len());
        all.push_str(&piece);
    }
    std::println!("largest unit {largest} of {STATUS_BUFFER_BYTES} bytes");
    assert!(largest <= STATUS_BUFFER_BYTES, "{largest}");
    let doc: serde_json::Value = serde_json::from_str(&all).unwrap();
    let inst = &doc["vrrp"]["instances"][0];
    assert_eq!(inst["name"].as_str().unwrap(), name);
    assert_eq!(inst["peers"].as_array().unwrap().len(), UNICAST_PEERS);
    assert_eq!(
        inst["addresses"].as_array().unwrap().len(),
        VIPS_PER_INSTANCE + EXCLUDED_VIPS_PER_INSTANCE
    );
}

/// The IPVS table as a section: one item per service, then one per
/// destination, weights as wanted and as in the kernel.
#[test]
fn the_ipvs_section_lists_services_and_destinations() {
    let w = world(
        "virtual_server 10.0.0.1 80 {\n lvs_sched wrr\n protocol TCP\n \
         real_server 10.0.1.1 8080 {\n  weight 3\n }\n real_server 10.0.1.2 8080 {\n }\n}\n",
    );
    let mut rec = std::boxed::Box::new(crate::ipvs::Reconciler::new(&w.cfg).unwrap());
    // The first destination reached the kernel, the rest not yet.
    let _ = rec.poll_op();
    let _ = rec.poll_op();
    let section = ipvs::IpvsSection(&rec);
    let sections: [&dyn Section; 1] = [&section];
    let doc: serde_json::Value = serde_json::from_str(&whole(&w, t(0), &sections)).unwrap();
    let items = doc["ipvs"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0]["kind"], "service");
    assert_eq!(items[0]["service"], "TCP 10.0.0.1:80");
    assert_eq!(items[0]["scheduler"], "wrr");
    assert_eq!(items[0]["in_kernel"], true);
    assert_eq!(items[1]["address"], "10.0.1.1:8080");
    assert_eq!(items[1]["desired_weight"], 3);
    assert_eq!(items[1]["kernel_weight"], 3);
    assert_eq!(items[2]["desired_weight"], 1);
    assert_eq!(items[2]["kernel_weight"], serde_json::Value::Null);
}

/// The checkers as a section: one item per virtual server (quorum, sorry
/// server), one per real server (alive, weight, in the pool, its checks),
/// then the counters; and keepalived's checker dump of the same.
#[test]
fn the_virtual_servers_section_and_the_check_dump() {
    use crate::check::{CheckAction, Checkers};
    let w = world(
        "virtual_server 10.0.0.1 80 {\n lvs_sched wrr\n protocol TCP\n quorum 2\n \
         sorry_server 10.0.0.9 80\n \
         real_server 10.0.1.1 8080 {\n  weight 3\n  TCP_CHECK {\n   retry 0\n   warmup 0\n  }\n }\n \
         real_server 10.0.1.2 8080 {\n  inhibit_on_failure\n  TCP_CHECK {\n   retry 0\n   warmup 0\n  }\n }\n}\n",
    );
    let cfg = &w.cfg;
    let mut checks = std::boxed::Box::new(Checkers::new(cfg, 1).unwrap());
    let mut lvs = std::boxed::Box::new(crate::lvs::Lvs::new(cfg));
    lvs.start(cfg);
    checks.start(t(0), cfg);
    checks.handle_timeout(t(0), cfg);
    while let Some(a) = checks.poll_action() {
        if let CheckAction::Open { slot, check, .. } = a {
            if check.0 == 1 {
                checks.handle_io_error(t(1), cfg, slot, 111);
            } else {
                checks.handle_connected(t(1), cfg, slot);
            }
        }
    }
    while let Some(r) = checks.poll_report() {
        lvs.handle_report(cfg, r);
    }
    let view = lvs::LvsView {
        cfg,
        lvs: &lvs,
        checks: &checks,
    };
    let section = lvs::LvsSection(view);
    let sections: [&dyn Section; 1] = [&section];
    let doc: serde_json::Value = serde_json::from_str(&whole(&w, t(0), &sections)).unwrap();
    let items = doc["virtual_servers"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{items:?}");
    assert_eq!(items[0]["kind"], "virtual_server");
    assert_eq!(items[0]["name"], "[10.0.0.1]:tcp:80");
    assert_eq!(items[0]["live_weight"], 3);
    assert_eq!(items[0]["quorum_up"], true);
    assert_eq!(items[0]["sorry_server"], "[10.0.0.9]:tcp:80");
    assert_eq!(items[0]["sorry_active"], false);
    assert_eq!(items[1]["name"], "[10.0.1.1]:tcp:8080");
    assert_eq!(items[1]["alive"], true);
    assert_eq!(items[1]["weight"], 3);
    assert_eq!(items[1]["in_pool"], "yes");
    assert_eq!(items[1]["checks"], 1);
    assert_eq!(items[1]["failed_checks"], 0);
    assert_eq!(items[2]["alive"], false);
    assert_eq!(items[2]["in_pool"], "inhibited");
    assert_eq!(items[2]["failed_checks"], 1);
    assert_eq!(items[3]["kind"], "check");
    assert_eq!(items[3]["real_server"], 0);
    assert_eq!(items[3]["type"], "TCP_CHECK");
    assert_eq!(items[3]["target"], "[10.0.1.1]:tcp:8080");
    assert_eq!(items[3]["up"], true);
    assert_eq!(items[3]["decided"], true);
    assert_eq!(items[4]["up"], false);
    assert_eq!(items[5]["kind"], "counters");
    assert_eq!(items[5]["checkers"]["attempts"], 2);
    assert_eq!(items[5]["checkers"]["failures"], 1);
    assert_eq!(items[5]["servers"]["rs_down"], 1);

    let mut data = String::new();
    lvs::write_check_data(&view, &mut data).unwrap();
    for line in [
        "------< LVS Topology >------",
        " VS VIP = 10.0.0.1, VPORT = 80",
        "   quorum = 2, hysteresis = 0",
        "   sorry server = [10.0.0.9]:tcp:80",
        "   quorum_state_up = 1",
        "   RIP = 10.0.1.1, RPORT = 8080, WEIGHT = 3 EFF WEIGHT = 3",
        "   RIP = 10.0.1.2, RPORT = 8080, WEIGHT = 1 EFF WEIGHT = 1",
        "   alive = 0",
        "   num failed checkers = 1",
        "------< Health checkers >------",
        " [10.0.0.1]:tcp:80 -> [10.0.1.2]:tcp:8080",
        "   Up = no",
        "   Keepalive method = TCP_CHECK",
        " attempts = 2",
    ] {
        assert!(data.lines().any(|l| l == line), "{line:?} in:\n{data}");
    }
}
