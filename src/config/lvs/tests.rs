//! Tests of the LVS sections.

use std::format;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::config::diag::Severity;

use crate::config::testutil::{parse_diags, parse_text as parse};

/// Parse, dump, parse the dump, dump again: the two dumps must be equal and
/// the dump must load without errors.
fn round_trip(text: &str) -> String {
    crate::config::testutil::fixed_point(text, true)
}

/// A minimal complete virtual server around `body` (inside the VS) and `rs`
/// (inside one real server).
fn vs(body: &str, rs: &str) -> String {
    format!(
        "virtual_server 10.0.0.1 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n{body}\n real_server 10.0.1.1 80 {{\n{rs}\n }}\n}}\n"
    )
}

fn assert_clean(out: &str) {
    assert!(
        !out.contains(": error:") && !out.contains("warning"),
        "unexpected diagnostics:\n{out}"
    );
}

#[test]
fn full_virtual_server_lands_in_fields() {
    let text = "\
virtual_server 192.168.1.1 443 {
    lb_algo sh
    sh-port
    sh-fallback
    flag-3
    lb_kind TUN type gue port 5555 remcsum
    persistence_timeout
    persistence_granularity 255.255.255.0
    persistence_engine sip
    protocol tcp
    ha_suspend
    alpha
    omega
    quorum 2
    hysteresis 1
    quorum_up \"/bin/up arg\" nobody nogroup
    quorum_down /bin/down root
    sorry_server 192.168.2.1
    sorry_server_inhibit
    sorry_server_lvs_method DR
    virtualhost www.example.com
    weight 3
    connect_timeout 2.5
    retry 4
    delay_before_retry 0.5
    warmup 0
    delay_loop 10
    inhibit_on_failure
    smtp_alert
    real_server 192.168.3.1 443 {
        weight 5
        lvs_method DR
        notify_up /bin/rs-up
        notify_down \"/bin/rs-down x\" user:grp
        uthreshold 100
        lthreshold 10
        inhibit_on_failure false
        alpha no
        delay_loop 7
        TCP_CHECK {
            connect_port 8443
        }
    }
    real_server 192.168.3.2 443 {
    }
}
";
    let (cfg, out) = parse(text);
    assert!(!out.contains(": error:"), "{out}");
    assert!(out.contains("'smtp_alert' is ignored"), "{out}");
    let l = &cfg.lvs;
    let v = &l.virtual_servers[0];
    assert_eq!(
        v.address,
        VsAddress::Ip {
            addr: "192.168.1.1".parse().unwrap(),
            port: 443
        }
    );
    assert_eq!(v.sched, Some(Scheduler::Sh));
    assert!(v.flags.flag1 && v.flags.flag2 && v.flags.flag3);
    assert_eq!(
        v.method,
        Some(Forwarding::Tun {
            kind: TunnelType::Gue { port: 5555 },
            csum: TunnelCsum::RemCsum
        })
    );
    assert_eq!(v.persistence_timeout, 360);
    assert_eq!(
        v.persistence_granularity,
        Some(Granularity::V4("255.255.255.0".parse().unwrap()))
    );
    assert!(v.persistence_engine_sip && v.ha_suspend && v.omega);
    assert_eq!(v.protocol, Some(Protocol::Tcp));
    assert_eq!((v.quorum, v.hysteresis), (2, 1));
    let up = v.quorum_up.unwrap();
    assert_eq!(cfg.strings.get(up.command), "/bin/up arg");
    assert_eq!(cfg.strings.get(up.user), "nobody");
    assert_eq!(cfg.strings.get(up.group), "nogroup");
    let s = v.sorry.unwrap();
    assert_eq!(s.port, 443, "sorry port defaults to the VS's");
    assert!(s.inhibit);
    assert_eq!(s.method, Some(Forwarding::Dr));
    assert_eq!(v.weight, 3);
    let d = v.defaults;
    assert_eq!(d.connect_timeout, Some(Duration::from_millis(2500)));
    assert_eq!(d.retry, Some(4));
    assert_eq!(d.delay_before_retry, Some(Duration::from_millis(500)));
    assert_eq!(d.warmup, Some(ZERO));
    assert_eq!(d.delay_loop, Some(Duration::from_secs(10)));
    assert_eq!((d.alpha, d.inhibit_on_failure), (Some(true), Some(true)));
    assert_eq!(cfg.strings.get(d.virtualhost), "www.example.com");

    let r = &l.real_servers[0];
    assert_eq!((r.vs, r.port, r.weight), (0, 443, Some(5)));
    assert_eq!(r.method, Some(Forwarding::Dr));
    assert_eq!(cfg.strings.get(r.notify_down.unwrap().user), "user");
    assert_eq!(cfg.strings.get(r.notify_down.unwrap().group), "grp");
    assert_eq!((r.uthreshold, r.lthreshold), (100, 10));
    assert_eq!(r.defaults.inhibit_on_failure, Some(false));
    assert_eq!(r.defaults.alpha, Some(false));
    assert_eq!(r.defaults.delay_loop, Some(Duration::from_secs(7)));
    assert_eq!(r.defaults.retry, Some(4), "inherited from the VS");
    let r2 = &l.real_servers[1];
    assert_eq!(r2.weight, Some(3), "VS weight is the RS default");
    assert_eq!(r2.method, Some(v.method.unwrap()));

    let c = &l.checkers[0];
    assert_eq!(c.rs, 0);
    assert_eq!(c.connect_port, 8443);
    assert_eq!(c.delay_loop, Some(Duration::from_secs(7)), "from the RS");
    assert_eq!(c.retry, Some(4), "from the VS through the RS");
    assert_eq!(c.warmup, Some(ZERO));
    assert_eq!(c.connect_timeout, Some(Duration::from_millis(2500)));
    round_trip(text);
}

#[test]
fn defaults_and_their_warnings() {
    let (cfg, out) =
        parse("virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 {\n  TCP_CHECK {\n  }\n }\n}\n");
    assert!(out.contains("t.conf:1:1: warning: virtual server has no lvs_sched: using wlc"));
    assert!(out.contains("warning: virtual server has no lvs_method: using NAT"));
    assert!(out.contains("warning: virtual server has no protocol: using UDP"));
    assert!(!out.contains(": error:"), "{out}");
    let v = &cfg.lvs.virtual_servers[0];
    assert_eq!(v.sched, Some(Scheduler::Wlc));
    assert_eq!(v.method, Some(Forwarding::Nat));
    assert_eq!(v.protocol, Some(Protocol::Udp));
    assert_eq!((v.quorum, v.hysteresis, v.weight), (1, 0, 1));
    assert_eq!(v.defaults.delay_loop, Some(DEFAULT_DELAY_LOOP));
    assert_eq!(v.defaults.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
    let r = &cfg.lvs.real_servers[0];
    assert_eq!(r.port, 80, "the RS port defaults to the VS's");
    assert_eq!(r.weight, Some(1));
    let c = &cfg.lvs.checkers[0];
    assert_eq!(c.retry, Some(1));
    assert_eq!(c.delay_before_retry, Some(Duration::from_secs(1)));
    assert_eq!(c.delay_loop, Some(DEFAULT_DELAY_LOOP));
    assert_eq!(c.warmup, Some(DEFAULT_DELAY_LOOP));
    assert_eq!(c.alpha, Some(false));
    // The dump carries the resolved values: reloading it warns no more.
    let d = round_trip("virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 {\n }\n}\n");
    let (_, out2) = parse(&d);
    assert!(!out2.contains(": warning:"), "{out2}\n{d}");
}

#[test]
fn per_checker_defaults() {
    let text = vs(
        "",
        "TCP_CHECK {\n}\nHTTP_GET {\n url {\n  path /\n }\n}\nSMTP_CHECK {\n}\n\
         DNS_CHECK {\n delay_loop 9\n}\nMISC_CHECK {\n misc_path /bin/true\n}\n\
         UDP_CHECK {\n}\nPING_CHECK {\n}\n",
    );
    let (cfg, out) = parse(&text);
    assert!(!out.contains(": error:"), "{out}");
    let got: Vec<_> = cfg
        .lvs
        .checkers
        .iter()
        .map(|c| {
            (
                c.kind.keyword(),
                c.retry.unwrap(),
                c.delay_before_retry.unwrap(),
            )
        })
        .collect();
    let s = Duration::from_secs;
    assert_eq!(
        got,
        [
            ("TCP_CHECK", 1, s(1)),
            ("HTTP_GET", 1, s(3)),
            ("SMTP_CHECK", 1, s(1)),
            ("DNS_CHECK", 3, s(9)),
            ("MISC_CHECK", 0, s(1)),
            ("UDP_CHECK", 1, s(1)),
            ("PING_CHECK", 1, s(1)),
        ]
    );
    match cfg.lvs.checkers[3].kind {
        CheckKind::Dns { query, name } => {
            assert_eq!(query, DnsType::Soa);
            assert!(name.is_empty());
        }
        _ => panic!(),
    }
    match cfg.lvs.checkers[4].kind {
        CheckKind::Misc(m) => {
            assert_eq!(m.timeout, Some(DEFAULT_DELAY_LOOP));
            assert_eq!(cfg.strings.get(m.path), "/bin/true");
        }
        _ => panic!(),
    }
    assert_eq!(cfg.lvs.checkers[4].connect_timeout, None);
    match cfg.lvs.checkers[5].kind {
        CheckKind::Udp(u) => assert_eq!((u.min_reply_length, u.max_reply_length), (0, 255)),
        _ => panic!(),
    }
    let u = &cfg.lvs.urls[0];
    assert_eq!(u.checker, 1);
    assert!(u.status.contains(200) && u.status.contains(299) && !u.status.contains(300));
    let d = round_trip(&text);
    assert!(d.contains("type SOA\n"), "{d}");
    assert!(d.contains("name .\n"), "{d}");
    assert!(d.contains("status_code 200-299\n"), "{d}");
}

#[test]
fn checker_keywords_land() {
    let text = vs(
        "",
        "HTTP_GET {\n connect_ip 10.0.2.1\n connect_port 8080\n bindto 10.0.0.9\n bind_if eth0\n \
         bind_port 999\n fwmark 7\n connect_timeout 2\n nb_get_retry 5\n delay_before_retry 4\n \
         warmup 3\n delay_loop 12\n alpha\n log_all_failures off\n http_protocol 1.0C\n \
         virtualhost h.example\n fast_recovery\n url {\n  path /a\n  digest 640205B7b0fc66c1ea91c463fac6334d\n \
         status_code 200-299 400-499 503 505\n  virtualhost u.example\n }\n url {\n  path /b\n }\n}\n\
         SMTP_CHECK {\n helo_name foo.bar\n}\nDNS_CHECK {\n type aaaa\n name example.com\n}\n\
         MISC_CHECK {\n misc_path \"/bin/check a b\"\n misc_timeout 5\n misc_dynamic\n user nobody\n \
         retry 2\n}\nUDP_CHECK {\n payload 0xDEADbeef\n require_reply de0X\n min_reply_length 2\n \
         max_reply_length 100\n}\n",
    );
    let (cfg, out) = parse(&text);
    assert_clean(&out);
    let c = &cfg.lvs.checkers[0];
    assert_eq!(c.connect_ip, Some("10.0.2.1".parse().unwrap()));
    assert_eq!((c.connect_port, c.bind_port, c.fwmark), (8080, 999, 7));
    assert_eq!(c.bindto, Some("10.0.0.9".parse().unwrap()));
    assert_eq!(c.bind_if.as_str(), "eth0");
    assert_eq!(c.retry, Some(5));
    assert_eq!(c.delay_before_retry, Some(Duration::from_secs(4)));
    assert_eq!(c.warmup, Some(Duration::from_secs(3)));
    assert_eq!(c.delay_loop, Some(Duration::from_secs(12)));
    assert_eq!((c.alpha, c.log_all_failures), (Some(true), Some(false)));
    let CheckKind::Http(h) = c.kind else { panic!() };
    assert_eq!(h.protocol, HttpVersion::V10C);
    assert_eq!(cfg.strings.get(h.virtualhost), "h.example");
    assert!(h.fast_recovery);
    let u = &cfg.lvs.urls[0];
    assert_eq!(u.digest.unwrap()[..2], [0x64, 0x02]);
    let ranges: Vec<_> = u.status.ranges().collect();
    assert_eq!(ranges, [(200, 299), (400, 499), (503, 503), (505, 505)]);
    assert_eq!(cfg.strings.get(u.virtualhost), "u.example");
    let CheckKind::Smtp { helo_name } = cfg.lvs.checkers[1].kind else {
        panic!()
    };
    assert_eq!(cfg.strings.get(helo_name), "foo.bar");
    let CheckKind::Dns { query, name } = cfg.lvs.checkers[2].kind else {
        panic!()
    };
    assert_eq!(
        (query, cfg.strings.get(name)),
        (DnsType::Aaaa, "example.com")
    );
    let CheckKind::Misc(m) = cfg.lvs.checkers[3].kind else {
        panic!()
    };
    assert_eq!(cfg.strings.get(m.path), "/bin/check a b");
    assert_eq!(m.timeout, Some(Duration::from_secs(5)));
    assert!(m.dynamic);
    assert_eq!(cfg.strings.get(m.user), "nobody");
    assert_eq!(cfg.lvs.checkers[3].retry, Some(2));
    let CheckKind::Udp(udp) = cfg.lvs.checkers[4].kind else {
        panic!()
    };
    assert_eq!(cfg.strings.get(udp.payload), "deadbeef");
    assert_eq!(cfg.strings.get(udp.require_reply.unwrap()), "de0X");
    assert_eq!((udp.min_reply_length, udp.max_reply_length), (2, 100));
    let d = round_trip(&text);
    assert!(d.contains("status_code 200-299 400-499 503 505\n"), "{d}");
    assert!(
        d.contains("digest 640205b7b0fc66c1ea91c463fac6334d\n"),
        "{d}"
    );
}

#[test]
fn udp_patterns_decode() {
    let mut b = [0u8; 4];
    let mut m = [0u8; 4];
    assert_eq!(parse_udp_pattern("0a1X", true, &mut b, &mut m), Ok(2));
    assert_eq!(
        (b[..2].to_vec(), m[..2].to_vec()),
        (std::vec![0x0a, 0x10], std::vec![0xff, 0xf0])
    );
    assert!(parse_udp_pattern("0a1X", false, &mut b, &mut m).is_err());
    assert!(parse_udp_pattern("abc", false, &mut b, &mut m).is_err());
    assert!(parse_udp_pattern("0011223344", false, &mut b, &mut m).is_err());
}

#[test]
fn bad_values_are_located() {
    let text = "\
virtual_server 10.0.0.1 80 {
 lvs_sched xx
 lvs_method NAT extra
 lvs_method TUN type ipip csum
 persistence_timeout 2678401
 persistence_granularity 255.0.255.0
 protocol ICMP
 quorum 0
 weight 0
 delay_loop 0
 retry 0
 sorry_server_inhibit
 ip_family inet7
 real_server 10.0.1.1 99999 {
 }
 real_server 10.0.1.2 80 {
  weight -1
  uthreshold x
  TCP_CHECK {
   connect_port 65536
   connect_ip 300.1.1.1
   bind_if averyveryverylongname
  }
  HTTP_GET {
   http_protocol 2.0
   url {
    digest 1234
    status_code 99 200-100 abc
   }
  }
  UDP_CHECK {
   payload zz
   require_reply 0x1
  }
  DNS_CHECK {
   type PTR
   name a..b
  }
 }
}
";
    let (_, out) = parse(text);
    for want in [
        "t.conf:2:12: error: 'lvs_sched': invalid value 'xx': expected one of rr, wrr,",
        "t.conf:3:17: error: 'lvs_method': unexpected 'extra'",
        "t.conf:4:27: error: 'lvs_method': 'csum' does not apply to this tunnel type",
        "t.conf:5:22: error: 'persistence_timeout': invalid value '2678401': expected a number from 0 to 2678400",
        "t.conf:6:26: error: 'persistence_granularity': invalid value '255.0.255.0'",
        "t.conf:7:11: error: 'protocol': invalid value 'ICMP'",
        "t.conf:8:9: error: 'quorum': invalid value '0'",
        "t.conf:9:9: error: 'weight': invalid value '0': expected a number from 1 to 2147483647",
        "t.conf:10:13: error: 'delay_loop': invalid value '0'",
        "t.conf:11:8: error: 'retry': invalid value '0'",
        "t.conf:12:2: error: 'sorry_server_inhibit' without a sorry_server",
        "t.conf:13:12: error: 'ip_family': invalid value 'inet7'",
        "t.conf:14:23: error: 'real_server': invalid value '99999'",
        "t.conf:17:10: error: 'weight': invalid value '-1'",
        "t.conf:18:14: error: 'uthreshold': invalid value 'x'",
        "t.conf:20:17: error: 'connect_port': invalid value '65536'",
        "t.conf:21:15: error: 'connect_ip': invalid value '300.1.1.1'",
        "t.conf:22:12: error: 'bind_if': invalid value 'averyveryverylongname'",
        "t.conf:25:18: error: 'http_protocol': invalid value '2.0'",
        "t.conf:27:12: error: 'digest': invalid value '1234'",
        "t.conf:28:17: error: 'status_code': invalid value '99'",
        "t.conf:26:4: error: url has no path",
        "t.conf:32:12: error: 'payload': invalid value 'zz': expected hexadecimal bytes",
        "t.conf:33:18: error: 'require_reply': invalid value '0x1'",
        "t.conf:36:9: error: 'type': invalid value 'PTR'",
        "t.conf:37:9: error: 'name': invalid value 'a..b': empty label",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn unsupported_ignored_and_unknown() {
    let text = vs(
        " snmp_name x\n hashed\n lb_algoo rr\n",
        "SSL_GET {\n url {\n path /\n }\n}\nFILE_CHECK {\n}\nBFD_CHECK {\n}\n\
         HTTP_GET {\n url {\n  path /\n  regex ^ok\n }\n}\nSMTP_CHECK {\n host {\n  connect_ip 1.2.3.4\n }\n}\n\
         MISC_CHECK {\n misc_path /bin/true\n connect_timeout 3\n}\nTCP_CHECK {\n conect_port 80\n}\n",
    );
    let (cfg, out) = parse(&text);
    assert!(
        out.contains("t.conf:5:2: warning: 'snmp_name' is ignored by picket"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:6:2: warning: 'hashed' is ignored by picket"),
        "{out}"
    );
    assert!(out.contains("t.conf:7:2: error: unknown keyword 'lb_algoo' in virtual_server\n  hint: did you mean 'lb_algo'?"), "{out}");
    assert!(out.contains("t.conf:10:1: error: 'SSL_GET' is not supported by picket\n  hint: TLS checks are not implemented; use HTTP_GET or MISC_CHECK"), "{out}");
    assert!(
        out.contains("t.conf:15:1: error: 'FILE_CHECK' is not supported"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:17:1: error: 'BFD_CHECK' is not supported"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:22:3: error: 'regex' is not supported"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:26:2: error: 'host' is not supported"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:32:2: error: unknown keyword 'connect_timeout' in MISC_CHECK"),
        "{out}"
    );
    assert!(out.contains("t.conf:35:2: error: unknown keyword 'conect_port' in TCP_CHECK\n  hint: did you mean 'connect_port'?"), "{out}");
    // Unsupported checkers are not in the table; the rest are.
    let kinds: Vec<_> = cfg.lvs.checkers.iter().map(|c| c.kind.keyword()).collect();
    assert_eq!(kinds, ["HTTP_GET", "SMTP_CHECK", "MISC_CHECK", "TCP_CHECK"]);
}

#[test]
fn groups_entries_and_errors() {
    let text = "\
virtual_server_group G {
  10.0.0.1 8080
  10.0.0.2
  192.168.200.3-10 80
  192.168.201.3-192.168.201.20 80
  10.1.0.0/16 443
  ae00::2-1f 80
  fwmark 1
  fwmark 2 inet6
}
virtual_server_group G {
  10.0.0.9
}
virtual_server_group BAD {
  10.0.0.5-3
  10.0.0.0/8 1
  10.1.0.1/16
  10.0.0.1 80 90
  fwmark 0
  fwmark 3 ipx
  10.0.0.1-10.0.1.5
  nonsense
}
virtual_server_group EMPTY {
}
";
    let (cfg, out) = parse(text);
    let e: Vec<_> = cfg.lvs.entries_of(0).map(|e| e.kind).collect();
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    assert_eq!(
        e,
        [
            VsgEntryKind::Range {
                first: ip("10.0.0.1"),
                last: ip("10.0.0.1"),
                port: 8080
            },
            VsgEntryKind::Range {
                first: ip("10.0.0.2"),
                last: ip("10.0.0.2"),
                port: 0
            },
            VsgEntryKind::Range {
                first: ip("192.168.200.3"),
                last: ip("192.168.200.10"),
                port: 80
            },
            VsgEntryKind::Range {
                first: ip("192.168.201.3"),
                last: ip("192.168.201.20"),
                port: 80
            },
            VsgEntryKind::Prefix {
                addr: ip("10.1.0.0"),
                len: 16,
                port: 443
            },
            VsgEntryKind::Range {
                first: ip("ae00::2"),
                last: ip("ae00::1f"),
                port: 80
            },
            VsgEntryKind::Fwmark {
                mark: 1,
                family: None
            },
            VsgEntryKind::Fwmark {
                mark: 2,
                family: Some(Family::Inet6)
            },
        ]
    );
    for want in [
        "t.conf:11:22: error: virtual_server_group 'G' is already defined (line 1)",
        "t.conf:15:3: error: invalid virtual_server_group entry '10.0.0.5-3': the range end is not greater than its start",
        "t.conf:17:3: error: invalid virtual_server_group entry '10.1.0.1/16': the address has bits set",
        "t.conf:18:15: error: a group entry is 'ADDRESS [PORT]'",
        "t.conf:19:10: error: 'fwmark': invalid value '0'",
        "t.conf:20:12: error: 'fwmark': invalid value 'ipx'",
        "t.conf:21:3: error: invalid virtual_server_group entry '10.0.0.1-10.0.1.5': a range may differ only in the last octet",
        "t.conf:22:3: error: invalid virtual_server_group entry 'nonsense'",
        "t.conf:24:1: error: virtual_server_group 'EMPTY' has no entries",
        "t.conf:1:1: error: virtual_server_group 'G' mixes IPv4, IPv6 and fwmark entries without a family",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // 10.0.0.0/8 1 is fine.
    assert_eq!(cfg.lvs.entries_of(1).count(), 1);
}

#[test]
fn group_round_trip() {
    let text = "\
virtual_server_group G {
  10.0.0.1 8080
  192.168.200.3-10 80
  192.168.201.3-192.168.201.20
  10.1.0.0/16 443
  fwmark 1
}
virtual_server_group V6 {
  ae00::2-1f 80
  fwmark 2 inet6
}
virtual_server group G {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.0.1.1 80 {
  }
}
";
    let (cfg, out) = parse(text);
    assert_clean(&out);
    assert_eq!(
        cfg.lvs.virtual_servers[0].address,
        VsAddress::Group {
            name: "G".try_into().unwrap(),
            index: 0
        }
    );
    let d = round_trip(text);
    assert!(d.contains("    192.168.200.3-10 80\n"), "{d}");
    assert!(d.contains("    192.168.201.3-20\n"), "{d}");
    assert!(d.contains("    ae00::2-1f 80\n"), "{d}");
    assert!(d.contains("    fwmark 2 inet6\n"), "{d}");
    assert!(d.contains("virtual_server group G {\n"), "{d}");
}

#[test]
fn cross_reference_errors() {
    let text = "\
virtual_server group NOPE {
 lvs_sched rr
 lvs_method NAT
 protocol TCP
 real_server 10.0.1.1 80 {
 }
}
virtual_server 10.0.0.1 80 {
 lvs_sched rr
 lvs_method NAT
 protocol TCP
 quorum 2
 hysteresis 2
 sorry_server fe80::1 80
 real_server 10.0.1.1 80 {
 }
 real_server 10.0.1.2 {
  weight 3
 }
 real_server 10.0.1.1 {
 }
 real_server ae00::1 80 {
 }
}
virtual_server 10.0.0.1 80 {
 lvs_sched wlc
 lvs_method NAT
 protocol TCP
 ops
 sh-port
 real_server 10.0.1.1 80 {
 }
}
virtual_server fwmark 5 {
 lvs_sched rr
 lvs_method DR
 protocol TCP
 ha_suspend
 real_server 10.0.1.1 {
  TCP_CHECK {
  }
  HTTP_GET {
   connect_port 80
  }
  MISC_CHECK {
  }
  PING_CHECK {
  }
 }
 real_server 10.0.1.2 8080 {
  TCP_CHECK {
   connect_ip fe80::5
  }
  UDP_CHECK {
   bindto ::1
   min_reply_length 10
   max_reply_length 5
  }
 }
}
";
    let (cfg, out) = parse(text);
    for want in [
        "t.conf:1:1: error: unknown virtual_server_group 'NOPE'",
        "t.conf:13:2: error: hysteresis 2 must be less than quorum 2",
        "t.conf:14:2: error: sorry_server fe80::1 is not of the virtual server's address family",
        "t.conf:20:2: error: real_server 10.0.1.1 port 80 is already in this virtual server (line 15)",
        "t.conf:22:2: error: real_server ae00::1 is not of the virtual server's address family",
        "t.conf:25:1: error: duplicate virtual_server: the same service is defined at line 8",
        "t.conf:29:2: error: 'ops' (one-packet scheduling) requires protocol UDP",
        "t.conf:30:2: error: sh-port and sh-fallback apply only to the sh scheduler",
        "t.conf:34:1: warning: protocol is ignored for a fwmark virtual server",
        "t.conf:34:1: warning: ha_suspend cannot be used with a fwmark virtual server: cleared",
        "t.conf:40:3: error: TCP_CHECK has no port to connect to",
        "t.conf:42:3: error: HTTP_GET has no url",
        "t.conf:45:3: error: MISC_CHECK has no misc_path",
        "t.conf:50:2: warning: the port of a fwmark virtual server's real_server is not given to IPVS",
        "t.conf:51:3: error: TCP_CHECK: link-local address fe80::5 needs bind_if",
        "t.conf:54:3: error: UDP_CHECK: bindto ::1 and the target 10.0.1.2",
        "t.conf:54:3: warning: UDP_CHECK min_reply_length 10 > max_reply_length 5",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(!out.contains("PING_CHECK has no port"), "{out}");
    let fw = &cfg.lvs.virtual_servers[3];
    assert_eq!(fw.protocol, None);
    assert!(!fw.ha_suspend);
}

#[test]
fn ports_forced_as_keepalived_does() {
    let text = "\
virtual_server 10.0.0.1 80 {
 lvs_sched rr
 lvs_method DR
 protocol TCP
 sorry_server 10.0.9.9 81
 real_server 10.0.1.1 8080 {
 }
 real_server 10.0.1.2 {
 }
}
virtual_server 10.0.0.2 {
 lvs_sched rr
 lvs_method NAT
 protocol TCP
 real_server 10.0.1.1 {
 }
}
virtual_server fwmark 3 {
 lvs_sched rr
 lvs_method NAT
 sorry_server 10.0.9.9 81
 real_server 10.0.1.1 {
 }
}
";
    let (cfg, out) = parse(text);
    assert!(out.contains("t.conf:5:2: warning: sorry_server port 81 differs from the virtual server's with DR/TUN: using 80"), "{out}");
    assert!(out.contains("t.conf:6:2: warning: real_server port 8080 differs from the virtual server's with DR/TUN: using 80"), "{out}");
    assert!(out.contains("t.conf:11:1: warning: a virtual server without a port must be persistent: using persistence_timeout 360"), "{out}");
    assert!(
        out.contains(
            "t.conf:21:2: warning: the port of a fwmark virtual server's sorry_server is ignored"
        ),
        "{out}"
    );
    assert!(!out.contains(": error:"), "{out}");
    let l = &cfg.lvs;
    assert_eq!(l.virtual_servers[0].sorry.unwrap().port, 80);
    assert_eq!((l.real_servers[0].port, l.real_servers[1].port), (80, 80));
    assert_eq!(l.virtual_servers[1].persistence_timeout, 360);
    assert_eq!(l.real_servers[2].port, 0);
    assert_eq!(l.virtual_servers[2].sorry.unwrap().port, 0);
    round_trip(text);
}

#[test]
fn quorum_is_clamped_to_total_weight() {
    let text = vs(" quorum 10\n", " weight 4\n");
    let (cfg, out) = parse(&text);
    assert!(
        out.contains("warning: quorum 10 exceeds the total weight of the real servers: using 4"),
        "{out}"
    );
    assert_eq!(cfg.lvs.virtual_servers[0].quorum, 4);
}

#[test]
fn tunnel_methods_and_v6_granularity() {
    let text = "\
virtual_server ae00::1 80 {
 lvs_sched mh
 mh-port
 mh-fallback
 lvs_method TUN
 persistence_granularity 64
 protocol SCTP
 sorry_server 10.0.0.1 80
 real_server 10.0.1.1 80 {
  lvs_method TUN type gre csum
 }
 real_server ae00::5 80 {
  lvs_method TUN type ipip
 }
}
";
    let (cfg, out) = parse(text);
    assert_clean(&out);
    let v = &cfg.lvs.virtual_servers[0];
    assert_eq!(v.persistence_granularity, Some(Granularity::V6(64)));
    assert_eq!(v.persistence_timeout, 360);
    assert_eq!(
        cfg.lvs.real_servers[0].method,
        Some(Forwarding::Tun {
            kind: TunnelType::Gre,
            csum: TunnelCsum::Csum
        })
    );
    let d = round_trip(text);
    assert!(d.contains("mh-fallback\n    mh-port\n"), "{d}");
    assert!(d.contains("lvs_method TUN type gre csum\n"), "{d}");
    assert!(d.contains("lvs_method TUN type ipip\n"), "{d}");
}

#[test]
fn capacities_are_reported() {
    use crate::limits::{CHECKERS, HTTP_URLS, VIRTUAL_SERVER_GROUP_ENTRIES, VIRTUAL_SERVERS};
    let mut text = String::new();
    for i in 0..=VIRTUAL_SERVERS {
        text += &format!(
            "virtual_server 10.0.{}.{} 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 10.1.0.1 80 {{\n }}\n}}\n",
            i / 250,
            i % 250 + 1
        );
    }
    let (cfg, out) = parse(&text);
    assert_eq!(cfg.lvs.virtual_servers.len(), VIRTUAL_SERVERS);
    assert!(
        out.contains("error: too many entries: limit `virtual_servers`"),
        "{out}"
    );
    assert_eq!(
        cfg.lvs.real_servers.len(),
        VIRTUAL_SERVERS,
        "the dropped VS's RS too"
    );

    // Checkers and urls.
    let mut rs = String::new();
    for _ in 0..=CHECKERS {
        rs += "PING_CHECK {\n}\n";
    }
    let (cfg, out) = parse(&vs("", &rs));
    assert_eq!(cfg.lvs.checkers.len(), CHECKERS);
    assert!(out.contains("limit `checkers`"), "{out}");
    let mut urls = String::new();
    for _ in 0..=HTTP_URLS {
        urls += "url {\n path /\n}\n";
    }
    let (cfg, out) = parse(&vs("", &format!("HTTP_GET {{\n{urls}}}\n")));
    assert_eq!(cfg.lvs.urls.len(), HTTP_URLS);
    assert!(out.contains("limit `http_urls`"), "{out}");

    // Group entries and groups.
    let mut g = String::from("virtual_server_group G {\n");
    for i in 0..=VIRTUAL_SERVER_GROUP_ENTRIES {
        g += &format!(" fwmark {}\n", i + 1);
    }
    g += "}\n";
    let (cfg, out) = parse(&g);
    assert_eq!(cfg.lvs.group_entries.len(), VIRTUAL_SERVER_GROUP_ENTRIES);
    assert!(
        out.contains("limit `virtual_server_group_entries`"),
        "{out}"
    );
    let mut g = String::new();
    for i in 0..=crate::limits::VIRTUAL_SERVER_GROUPS {
        g += &format!("virtual_server_group G{i} {{\n fwmark 1\n}}\n");
    }
    let (cfg, out) = parse(&g);
    assert_eq!(cfg.lvs.groups.len(), crate::limits::VIRTUAL_SERVER_GROUPS);
    assert!(out.contains("limit `virtual_server_groups`"), "{out}");
}

#[test]
fn real_servers_capacity() {
    use crate::limits::REAL_SERVERS;
    let mut body = String::new();
    for i in 0..=REAL_SERVERS {
        body += &format!(" real_server 10.{}.{}.1 80 {{\n }}\n", i / 250, i % 250);
    }
    let text = format!(
        "virtual_server 10.0.0.1 80 {{\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n{body}}}\n"
    );
    let (cfg, out) = parse(&text);
    assert_eq!(cfg.lvs.real_servers.len(), REAL_SERVERS);
    assert!(out.contains("limit `real_servers`"), "{out}");
}

#[test]
fn head_errors() {
    let (_, out) = parse(
        "virtual_server {\n}\nvirtual_server fwmark {\n}\nvirtual_server group {\n}\n\
         virtual_server 1.2.3.4 80 90 {\n}\nvirtual_server 1.2.3.4 80\nvirtual_server_group {\n}\n",
    );
    for want in [
        "t.conf:1:16: error: 'virtual_server' needs an address",
        "t.conf:3:23: error: 'virtual_server fwmark' needs exactly one mark",
        "t.conf:5:22: error: 'virtual_server group' needs exactly one group name",
        "t.conf:7:27: error: 'virtual_server' takes 'IP [PORT]', 'fwmark N' or 'group NAME'",
        "t.conf:9:27: error: 'virtual_server' needs a block",
        "t.conf:10:22: error: 'virtual_server_group' needs exactly one name",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn scripts_take_one_command_word() {
    let (cfg, out) = parse(&vs(
        " quorum_up \"/bin/x a\"\n quorum_up /bin/y\n quorum_down /bin/z u g extra\n",
        " notify_up \"\"\n",
    ));
    assert!(
        out.contains("t.conf:6:2: error: 'quorum_up' is given twice"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:7:25: error: 'quorum_down' takes at most 3 arguments"),
        "{out}"
    );
    assert!(
        out.contains("t.conf:10:12: error: 'notify_up' needs a command"),
        "{out}"
    );
    let v = &cfg.lvs.virtual_servers[0];
    assert_eq!(cfg.strings.get(v.quorum_up.unwrap().command), "/bin/x a");
    assert!(v.quorum_down.is_none());
}

/// The lines covered by top-level `virtual_server`/`virtual_server_group`
/// blocks of a sample (comments stripped, braces counted).
fn lvs_lines(text: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = None;
    for (n, line) in text.lines().enumerate() {
        let n = n as u32 + 1;
        let code = line.split(['#', '!']).next().unwrap_or("");
        let first = code.split_whitespace().next();
        if depth == 0 && matches!(first, Some("virtual_server" | "virtual_server_group")) {
            start = Some(n);
        }
        depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
        if depth == 0
            && let Some(s) = start.take()
        {
            out.push((s, n));
        }
    }
    out
}

/// Only the LVS sections of a sample, other lines blanked (line numbers kept).
fn lvs_only(text: &str) -> String {
    let ranges = lvs_lines(text);
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let n = n as u32 + 1;
        if ranges.iter().any(|(a, b)| (*a..=*b).contains(&n)) {
            out += line;
        }
        out += "\n";
    }
    out
}

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

/// Per sample: the errors expected in the LVS sections, as (line, keyword
/// reported unsupported). Samples without LVS sections expect none.
const EXPECTED: &[(&str, &[(u32, &str)])] = &[
    ("keepalived.conf.HTTP_GET.port", &[(22, "SSL_GET")]),
    ("keepalived.conf.IPv6", &[]),
    ("keepalived.conf.PING_CHECK", &[]),
    (
        "keepalived.conf.SMTP_CHECK",
        &[
            (64, "host"),
            (68, "host"),
            (72, "host"),
            (95, "host"),
            (101, "host"),
            (107, "host"),
        ],
    ),
    ("keepalived.conf.SSL_GET", &[(39, "SSL_GET")]),
    ("keepalived.conf.UDP_CHECK", &[]),
    ("keepalived.conf.conditional_conf", &[]),
    ("keepalived.conf.fwmark", &[]),
    ("keepalived.conf.inhibit", &[]),
    ("keepalived.conf.misc_check", &[]),
    ("keepalived.conf.misc_check_arg", &[]),
    ("keepalived.conf.quorum", &[]),
    ("keepalived.conf.sample", &[]),
    ("keepalived.conf.status_code", &[(23, "SSL_GET")]),
    ("keepalived.conf.track_interface", &[]),
    ("keepalived.conf.virtual_server_group", &[]),
    ("keepalived.conf.virtualhost", &[(24, "SSL_GET")]),
    ("keepalived.conf.vrrp", &[]),
    ("keepalived.conf.vrrp.localcheck", &[]),
    ("keepalived.conf.vrrp.lvs_syncd", &[]),
    ("keepalived.conf.vrrp.routes", &[]),
    ("keepalived.conf.vrrp.rules", &[]),
    ("keepalived.conf.vrrp.scripts", &[]),
    ("keepalived.conf.vrrp.static_ipaddress", &[]),
    ("keepalived.conf.vrrp.sync", &[]),
];

#[test]
fn debian_samples() {
    let Ok(dir) = std::fs::read_dir(SAMPLES) else {
        std::eprintln!("{SAMPLES} not found: skipped");
        return;
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("keepalived.conf"))
        .collect();
    names.sort();
    let mut clean = 0;
    for name in &names {
        let expected = EXPECTED
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| *e)
            .unwrap_or_else(|| panic!("no expectation recorded for sample {name}"));
        let text = std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap();
        let ranges = lvs_lines(&text);
        // The whole sample: only the diagnostics inside the LVS sections
        // are ours (global_defs and vrrp are another module's).
        let (_, diags) = parse_diags(&text);
        let mut got: Vec<(u32, String)> = diags
            .iter()
            .filter(|d| d.severity != Severity::Warning)
            .filter_map(|d| d.loc.map(|l| (l, d)))
            .filter(|(l, _)| ranges.iter().any(|(a, b)| (*a..=*b).contains(&l.line)))
            .map(|(l, d)| (l.line, String::from(d.message.as_str())))
            .collect();
        got.sort();
        let want: Vec<(u32, String)> = expected
            .iter()
            .map(|(l, k)| (*l, format!("'{k}' is not supported by picket")))
            .collect();
        assert_eq!(got, want, "sample {name}");
        if expected.is_empty() && !ranges.is_empty() {
            round_trip(&lvs_only(&text));
            clean += 1;
        }
    }
    assert!(clean >= 10, "only {clean} samples round-tripped");
}

#[test]
fn status_codes_ranges() {
    let mut s = StatusCodes::new();
    assert!(s.is_empty());
    s.add(100, 101);
    s.add(599, 700);
    s.add(50, 60);
    let r: Vec<_> = s.ranges().collect();
    assert_eq!(r, [(100, 101), (599, 599)]);
    assert!(!s.contains(600) && !s.contains(99));
}

#[test]
fn real_server_without_block_and_keyword_policy_lists() {
    let (cfg, out) = parse(
        "virtual_server 10.0.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 10.0.1.1 80\n}\n",
    );
    assert_clean(&out);
    assert_eq!(cfg.lvs.real_servers.len(), 1);
    for (k, h) in UNSUPPORTED.iter().chain(IGNORED) {
        assert!(!k.is_empty() && !h.is_empty());
    }
    assert!(is_top_keyword("virtual_server") && is_top_keyword("virtual_server_group"));
    assert!(!is_top_keyword("SSL"));
}
