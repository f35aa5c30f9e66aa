//! The reconciler on configurations: fresh start, adoption of what a
//! previous run left, checker-driven changes, sorry servers, groups,
//! failures, stop; and the load-time check.

use super::*;
use crate::config::testutil::{parse_diags, parse_text};
use crate::wire::ipvs::{
    AF_INET6, CONN_F_DROUTE, CONN_F_MASQ, CONN_F_TUNNEL, IPPROTO_TCP, SVC_F_PERSISTENT, ServiceKey,
    TUNNEL_TYPE_GUE,
};
use core::net::IpAddr;
use std::boxed::Box;
use std::string::{String, ToString};
use std::vec::Vec;

const TWO_VS: &str = "\
virtual_server 10.0.0.1 80 {
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
  persistence_timeout 300
  persistence_granularity 255.255.255.0
  sorry_server 10.0.9.9 8080
  sorry_server_inhibit
  real_server 10.0.1.1 8080 { weight 3 }
  real_server 10.0.1.2 8080 {
    weight 1
    uthreshold 100
    lthreshold 10
  }
}
virtual_server fwmark 7 {
  lvs_sched rr
  lvs_method DR
  real_server 10.0.2.1 { }
}
";

fn load(text: &str) -> Box<Config> {
    let (cfg, diags) = parse_text(text);
    assert!(!diags.contains(": error:"), "{diags}");
    cfg
}

fn reconciler(cfg: &Config) -> Box<Reconciler> {
    Box::new(Reconciler::new(cfg).unwrap())
}

fn drain(r: &mut Reconciler) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(op) = r.poll_op() {
        assert!(r.request(&op).is_some(), "{op:?} has a request");
        out.push(r.describe(op).to_string());
    }
    out
}

/// What the kernel would hold after `r`'s ops: (services, dests).
fn kernel_of(r: &Reconciler) -> (Vec<ServiceRepr>, Vec<(u16, DestRepr)>) {
    let s = r.services().iter().filter_map(|s| s.kernel).collect();
    let d = r
        .dests()
        .iter()
        .filter_map(|d| d.kernel.map(|k| (d.service, k)))
        .collect();
    (s, d)
}

#[test]
fn fresh_start_adds_everything_in_order() {
    let cfg = load(TWO_VS);
    let mut r = reconciler(&cfg);
    assert_eq!(r.services().len(), 2);
    assert_eq!(r.dests().len(), 4, "2 RS + sorry, 1 RS");
    let ops = drain(&mut r);
    assert_eq!(
        ops,
        [
            "add service TCP 10.0.0.1:80",
            "add service FWM 7",
            "add destination 10.0.1.1:8080 to TCP 10.0.0.1:80",
            "add destination 10.0.1.2:8080 to TCP 10.0.0.1:80",
            "add destination 10.0.9.9:8080 to TCP 10.0.0.1:80",
            "add destination 10.0.2.1:0 to FWM 7",
        ]
    );
    let s0 = r.services()[0].repr;
    assert_eq!(s0.scheduler.as_str(), "wrr");
    assert_eq!(s0.flags, SVC_F_PERSISTENT);
    assert_eq!(s0.timeout, 300);
    assert_eq!(s0.netmask, 0xffff_ff00);
    let (_, dests) = kernel_of(&r);
    let w: Vec<_> = dests.iter().map(|(_, d)| (d.weight, d.forward)).collect();
    assert_eq!(
        w,
        [
            (3, CONN_F_MASQ),
            (1, CONN_F_MASQ),
            (0, CONN_F_MASQ), // sorry_server_inhibit: in at weight 0
            (1, CONN_F_DROUTE)
        ]
    );
    assert_eq!(dests[1].1.upper_threshold, 100);
    assert_eq!(dests[1].1.lower_threshold, 10);
    assert!(r.poll_op().is_none(), "nothing more");
}

/// `reset` (the fuzz harnesses reuse one block) gives what `new` gives,
/// whatever the table went through before, another configuration included.
#[test]
fn reset_is_new_in_place() {
    let cfg = load(TWO_VS);
    let other = load("virtual_server fwmark 9 {\n  lvs_sched rr\n  real_server 10.0.5.1 { }\n}\n");
    let mut r = reconciler(&other);
    let _ = drain(&mut r);
    r.stop();
    r.reset(&cfg).unwrap();
    let mut fresh = reconciler(&cfg);
    assert_eq!(r.services(), fresh.services());
    assert_eq!(r.dests(), fresh.dests());
    let ops = drain(&mut r);
    assert_eq!(ops.len(), 6, "{ops:?}");
    assert_eq!(ops, drain(&mut fresh));
    assert_eq!(kernel_of(&r), kernel_of(&fresh));
}

#[test]
fn adoption_sends_only_the_differences() {
    let cfg = load(TWO_VS);
    // What a previous run left: everything, but one weight changed, one
    // destination nobody configured, and a service of someone else.
    let mut before = reconciler(&cfg);
    drain(&mut before);
    let (services, dests) = kernel_of(&before);
    let mut r = reconciler(&cfg);
    for s in &services {
        assert!(matches!(
            r.handle_dumped_service(s),
            DumpedService::Adopted(_)
        ));
    }
    let foreign = ServiceRepr {
        key: ServiceKey::Addr {
            protocol: IPPROTO_TCP,
            addr: "192.0.2.1".parse().unwrap(),
            port: 443,
        },
        ..services[0]
    };
    assert_eq!(r.handle_dumped_service(&foreign), DumpedService::Foreign);
    for (svc, d) in &dests {
        let mut d = *d;
        if d.addr.to_string() == "10.0.1.2" {
            d.weight = 9;
        }
        d.active_conns = 5; // counters never make a difference
        assert!(matches!(
            r.handle_dumped_dest(*svc, &d),
            DumpedDest::Adopted(_)
        ));
    }
    let stale = DestRepr::new("10.0.1.77".parse().unwrap(), 8080, CONN_F_MASQ, 1);
    assert_eq!(r.handle_dumped_dest(0, &stale), DumpedDest::Stale);
    assert_eq!(r.handle_dumped_dest(99, &stale), DumpedDest::Ignored);
    assert_eq!(
        drain(&mut r),
        [
            "remove unconfigured destination 10.0.1.77:8080 of TCP 10.0.0.1:80",
            "change destination 10.0.1.2:8080 of TCP 10.0.0.1:80",
        ]
    );
    let st = *r.stats();
    assert_eq!(
        (
            st.services_adopted,
            st.services_foreign,
            st.dests_adopted,
            st.dests_stale
        ),
        (2, 1, 4, 1)
    );
    // Exactly what was there: nothing to do.
    let mut same = reconciler(&cfg);
    for s in &services {
        same.handle_dumped_service(s);
    }
    for (svc, d) in &dests {
        same.handle_dumped_dest(*svc, d);
    }
    assert!(drain(&mut same).is_empty());
    // A service with other settings (scheduler) is changed, not re-added.
    let mut other = reconciler(&cfg);
    let mut s = services[1];
    s.scheduler = crate::wire::ipvs::Name::new(b"wlc").unwrap();
    other.handle_dumped_service(&services[0]);
    other.handle_dumped_service(&s);
    for (svc, d) in &dests {
        other.handle_dumped_dest(*svc, d);
    }
    assert_eq!(drain(&mut other), ["change service FWM 7"]);
}

#[test]
fn checker_results_move_only_their_destination() {
    let cfg = load(TWO_VS);
    let mut r = reconciler(&cfg);
    drain(&mut r);
    // Real server 1 fails (removed), real server 0 is inhibited.
    let failing = |i| match i {
        0 => Some(0),
        1 => None,
        _ => configured_weight(&cfg, i),
    };
    r.set_desired(&cfg, failing, |_| false);
    assert_eq!(
        drain(&mut r),
        [
            "remove destination 10.0.1.2:8080 of TCP 10.0.0.1:80",
            "change destination 10.0.1.1:8080 of TCP 10.0.0.1:80",
        ]
    );
    assert_eq!(r.dests()[0].kernel.map(|d| d.weight), Some(0));
    // Again: no change, no op.
    r.set_desired(&cfg, failing, |_| false);
    assert!(drain(&mut r).is_empty());
    // Both recover.
    r.set_desired(&cfg, |i| configured_weight(&cfg, i), |_| false);
    assert_eq!(
        drain(&mut r),
        [
            "change destination 10.0.1.1:8080 of TCP 10.0.0.1:80",
            "add destination 10.0.1.2:8080 to TCP 10.0.0.1:80",
        ]
    );
}

#[test]
fn sorry_server_replaces_the_real_servers_and_goes_back() {
    let cfg = load(TWO_VS);
    let mut r = reconciler(&cfg);
    drain(&mut r);
    r.set_desired(&cfg, |_| None, |v| v == 0);
    assert_eq!(
        drain(&mut r),
        [
            "remove destination 10.0.1.1:8080 of TCP 10.0.0.1:80",
            "remove destination 10.0.1.2:8080 of TCP 10.0.0.1:80",
            "remove destination 10.0.2.1:0 of FWM 7",
            "change destination 10.0.9.9:8080 of TCP 10.0.0.1:80",
        ]
    );
    assert_eq!(r.dests()[2].kernel.map(|d| d.weight), Some(1));
    r.set_desired(&cfg, |i| configured_weight(&cfg, i), |_| false);
    assert_eq!(
        drain(&mut r),
        [
            "change destination 10.0.9.9:8080 of TCP 10.0.0.1:80",
            "add destination 10.0.1.1:8080 to TCP 10.0.0.1:80",
            "add destination 10.0.1.2:8080 to TCP 10.0.0.1:80",
            "add destination 10.0.2.1:0 to FWM 7",
        ]
    );
    assert_eq!(r.dests()[2].kernel.map(|d| d.weight), Some(0), "inhibited");
}

#[test]
fn sorry_server_without_inhibit_is_added_and_removed() {
    let cfg = load(
        "virtual_server 10.0.0.1 53 {\n lvs_sched rr\n lvs_method NAT\n protocol UDP\n \
         sorry_server 10.0.9.9 53\n real_server 10.0.1.1 53 { }\n}\n",
    );
    let mut r = reconciler(&cfg);
    assert_eq!(drain(&mut r).len(), 2, "service + real server, no sorry");
    r.set_desired(&cfg, |_| None, |_| true);
    assert_eq!(
        drain(&mut r),
        [
            "remove destination 10.0.1.1:53 of UDP 10.0.0.1:53",
            "add destination 10.0.9.9:53 to UDP 10.0.0.1:53",
        ]
    );
    r.set_desired(&cfg, |i| configured_weight(&cfg, i), |_| false);
    assert_eq!(
        drain(&mut r),
        [
            "remove destination 10.0.9.9:53 of UDP 10.0.0.1:53",
            "add destination 10.0.1.1:53 to UDP 10.0.0.1:53",
        ]
    );
}

#[test]
fn groups_expand_into_one_service_per_address_and_fwmark() {
    let cfg = load(
        "virtual_server_group G {\n 10.0.0.1-3 80\n 2001:db8::10 443\n fwmark 5 inet\n}\n\
         virtual_server group G {\n lvs_sched sh\n sh-port\n lvs_method TUN type gue port 6080\n \
         protocol TCP\n real_server 10.0.1.1 80 { weight 2 }\n \
         real_server 2001:db8::1 80 { weight 4 }\n}\n",
    );
    let mut r = reconciler(&cfg);
    let keys: Vec<String> = r
        .services()
        .iter()
        .map(|s| s.repr.key.to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "TCP 10.0.0.1:80",
            "TCP 10.0.0.2:80",
            "TCP 10.0.0.3:80",
            "TCP [2001:db8::10]:443",
            "FWM 5",
        ]
    );
    assert_eq!(r.dests().len(), 10);
    let d = r.dests()[7].base;
    assert_eq!(d.addr, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(d.port, 443, "TUN: the service's port");
    assert_eq!(
        (d.forward, d.tunnel_type, d.tunnel_port),
        (CONN_F_TUNNEL, TUNNEL_TYPE_GUE, 6080)
    );
    assert_eq!(
        r.services()[4].repr.key.family(),
        crate::wire::ipvs::AF_INET
    );
    assert_eq!(drain(&mut r).len(), 15);
}

#[test]
fn ipv6_fwmark_family_and_prefix_granularity() {
    let cfg = load(
        "virtual_server fwmark 9 {\n lvs_sched wlc\n lvs_method DR\n persistence_timeout 60\n \
         persistence_granularity 64\n real_server 2001:db8::2 80 { }\n}\n",
    );
    let r = reconciler(&cfg);
    let s = r.services()[0].repr;
    assert_eq!(s.key.family(), AF_INET6);
    assert_eq!((s.timeout, s.netmask), (60, 64));
}

#[test]
fn a_refused_op_is_tried_again_on_the_next_pass() {
    let cfg = load(TWO_VS);
    let mut r = reconciler(&cfg);
    let mut failed = None;
    while let Some(op) = r.poll_op() {
        if matches!(op, Op::NewDest(1)) {
            failed = Some(op);
        }
    }
    r.handle_failed(failed.unwrap());
    assert_eq!(r.stats().failed, 1);
    r.set_desired(&cfg, |i| configured_weight(&cfg, i), |_| false);
    assert_eq!(
        drain(&mut r),
        ["add destination 10.0.1.2:8080 to TCP 10.0.0.1:80"]
    );
    // A refused change leaves the settings unknown: changed again.
    r.handle_failed(Op::SetDest(0));
    r.set_desired(&cfg, |i| configured_weight(&cfg, i), |_| false);
    assert_eq!(
        drain(&mut r),
        ["change destination 10.0.1.1:8080 of TCP 10.0.0.1:80"]
    );
}

#[test]
fn stop_removes_each_service_the_kernel_has_and_nothing_else() {
    let cfg = load(TWO_VS);
    let mut r = reconciler(&cfg);
    // Only the first service made it to the kernel.
    r.handle_dumped_service(&r.services()[0].repr.clone());
    r.stop();
    assert_eq!(drain(&mut r), ["remove service TCP 10.0.0.1:80"]);
    let (s, d) = kernel_of(&r);
    assert!(s.is_empty() && d.is_empty());
    // After a full start.
    let mut r = reconciler(&cfg);
    drain(&mut r);
    r.stop();
    assert_eq!(
        drain(&mut r),
        ["remove service TCP 10.0.0.1:80", "remove service FWM 7"]
    );
}

#[test]
fn a_flush_forgets_the_kernel() {
    let cfg = load(TWO_VS);
    let mut r = reconciler(&cfg);
    drain(&mut r);
    r.handle_flushed();
    assert_eq!(drain(&mut r).len(), 6);
}

#[test]
fn config_check_names_the_limit_and_duplicates() {
    let (cfg, mut diags) = parse_diags(
        "virtual_server 10.0.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n\
         virtual_server_group G {\n 10.0.0.1 80\n}\n\
         virtual_server group G {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}\n",
    );
    check_config(&cfg, &mut diags);
    let mut out = String::new();
    diags.render(&mut out).unwrap();
    assert!(
        out.contains("IPVS service TCP 10.0.0.1:80 is already given by another virtual server"),
        "{out}"
    );
    assert_eq!(
        Reconciler::new(&cfg).err(),
        Some(BuildError::DuplicateService(1))
    );
    // A range larger than the board.
    let n = crate::limits::IPVS_SERVICES;
    let big = std::format!(
        "virtual_server_group G {{\n 10.0.0.0/{} 80\n}}\n\
         virtual_server group G {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n}}\n",
        32 - (n * 2).next_power_of_two().trailing_zeros()
    );
    let (cfg, mut diags) = parse_diags(&big);
    check_config(&cfg, &mut diags);
    let mut out = String::new();
    diags.render(&mut out).unwrap();
    assert!(out.contains("limit `ipvs_services`"), "{out}");
    assert!(matches!(
        Reconciler::new(&cfg).err(),
        Some(BuildError::TooManyServices(0))
    ));
}

/// A reload keeps what is unchanged: the new universe adopts the old one's
/// kernel state and sends only the differences — a changed weight, a new
/// real server, a dropped real server, a dropped virtual server.
#[test]
fn a_reload_sends_only_the_differences() {
    let old_cfg = load(TWO_VS);
    let mut old = reconciler(&old_cfg);
    let _ = drain(&mut old);
    // Same again: nothing to do.
    let mut same = reconciler(&old_cfg);
    same.adopt_kernel(&old);
    assert_eq!(drain(&mut same), Vec::<String>::new());
    assert_eq!(kernel_of(&same), kernel_of(&old));

    let changed = TWO_VS
        .replace("real_server 10.0.1.1 8080 { weight 3 }", "real_server 10.0.1.1 8080 { weight 5 }")
        .replace(
            "  real_server 10.0.1.2 8080 {\n    weight 1\n    uthreshold 100\n    lthreshold 10\n  }\n",
            "  real_server 10.0.1.3 8080 { weight 2 }\n",
        )
        .replace("virtual_server fwmark 7 {\n  lvs_sched rr\n  lvs_method DR\n  real_server 10.0.2.1 { }\n}\n", "");
    let new_cfg = load(&changed);
    let mut new = reconciler(&new_cfg);
    new.adopt_kernel(&old);
    let ops = drain(&mut new);
    assert_eq!(
        ops,
        [
            "remove unconfigured destination 10.0.1.2:8080 of TCP 10.0.0.1:80",
            "change destination 10.0.1.1:8080 of TCP 10.0.0.1:80",
            "add destination 10.0.1.3:8080 to TCP 10.0.0.1:80",
            "remove dropped service FWM 7",
        ]
    );
    // And then nothing more.
    assert_eq!(drain(&mut new), Vec::<String>::new());
    assert_eq!(new.stats().ops, old.stats().ops + 4, "counters carry on");
}
