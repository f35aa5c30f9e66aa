//! The checkers on a fake clock with a fake binary: the retry rule and its
//! timings, timeouts, the spread of first runs, the socket pool; the
//! parsers on fixtures and on random bytes.

use std::boxed::Box;
use std::format;
use std::string::String;
use std::vec::Vec as StdVec;

use proptest::prelude::*;

use super::http::{Chunked, Exchange, Expect, HeadError, ResponseHead};
use super::misc::{ScriptOutcome, judge};
use super::*;
use crate::config::Config;
use crate::config::lvs::StatusCodes;
use crate::config::testutil::parse_text;
use crate::time::{Duration, Instant};

fn t(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

fn load(text: &str) -> Box<Config> {
    let (cfg, out) = parse_text(text);
    assert!(!out.contains(": error:"), "{out}");
    cfg
}

/// One VS with `n` real servers 10.0.x.y:80, each with `checker`.
fn conf(n: usize, checker: &str) -> String {
    let mut s = String::from(
        "virtual_server 10.9.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n",
    );
    for i in 0..n {
        s += &format!(
            " real_server 10.0.{}.{} 80 {{\n  {checker}\n }}\n",
            i / 250,
            i % 250 + 1
        );
    }
    s + "}\n"
}

/// The actions so far.
fn actions(c: &mut Checkers) -> StdVec<CheckAction> {
    core::iter::from_fn(|| c.poll_action()).collect()
}

fn reports(c: &mut Checkers) -> StdVec<CheckReport> {
    core::iter::from_fn(|| c.poll_report()).collect()
}

fn opened(a: &[CheckAction]) -> StdVec<SlotId> {
    a.iter()
        .filter_map(|a| match a {
            CheckAction::Open { slot, .. } => Some(*slot),
            _ => None,
        })
        .collect()
}

const TCP: &str = "TCP_CHECK {\n connect_timeout 1\n retry 2\n delay_before_retry 0.5\n delay_loop 1\n warmup 0\n }";

#[test]
fn tcp_success_then_failures_with_retries() {
    let cfg = load(&conf(1, TCP));
    let mut c = Checkers::new(&cfg, 1).unwrap();
    c.start(t(0), &cfg);
    assert_eq!(c.poll_at(), Some(t(0)));
    c.handle_timeout(t(0), &cfg);
    let a = actions(&mut c);
    let slot = opened(&a)[0];
    match a[0] {
        CheckAction::Open { spec, .. } => {
            assert_eq!(spec.kind, SocketKind::Tcp);
            assert_eq!(spec.dst, "10.0.0.1:80".parse().unwrap());
        }
        _ => panic!("{a:?}"),
    }
    assert!(c.is_connecting(slot));
    c.handle_connected(t(3), &cfg, slot);
    assert_eq!(actions(&mut c), [CheckAction::Close { slot }]);
    assert_eq!(
        reports(&mut c),
        [CheckReport::State {
            check: CheckId(0),
            up: true,
            was_up: true,
            first: true
        }]
    );
    // Next run delay_loop after the end of the attempt.
    assert_eq!(c.poll_at(), Some(t(1003)));
    // Refused three times (retry 2): down at the third, 0.5 s apart.
    let mut now = 1003;
    for k in 0..3 {
        c.handle_timeout(t(now), &cfg);
        let slot = opened(&actions(&mut c))[0];
        c.handle_io_error(t(now), &cfg, slot, 111);
        let r = reports(&mut c);
        if k < 2 {
            assert!(r.is_empty(), "{r:?}");
            assert_eq!(c.poll_at(), Some(t(now + 500)));
            now += 500;
        } else {
            assert_eq!(
                r,
                [CheckReport::State {
                    check: CheckId(0),
                    up: false,
                    was_up: true,
                    first: false
                }]
            );
            assert_eq!(c.poll_at(), Some(t(now + 1000)));
        }
    }
    assert_eq!(c.state(CheckId(0)), Some((false, true)));
    // One success brings it back.
    c.handle_timeout(t(3003), &cfg);
    let slot = opened(&actions(&mut c))[0];
    c.handle_connected(t(3004), &cfg, slot);
    assert!(matches!(
        reports(&mut c)[..],
        [CheckReport::State {
            up: true,
            was_up: false,
            ..
        }]
    ));
    assert_eq!(c.stats().ups, 1);
    assert_eq!(c.stats().downs, 1);
    assert_eq!(c.stats().io_errors, 3);
}

#[test]
fn black_hole_times_out_at_connect_timeout() {
    let cfg = load(&conf(1, TCP));
    let mut c = Checkers::new(&cfg, 1).unwrap();
    c.start(t(0), &cfg);
    c.handle_timeout(t(0), &cfg);
    let slot = opened(&actions(&mut c))[0];
    assert_eq!(c.poll_at(), Some(t(1000)));
    c.handle_timeout(t(999), &cfg);
    assert!(actions(&mut c).is_empty());
    c.handle_timeout(t(1000), &cfg);
    assert_eq!(actions(&mut c), [CheckAction::Close { slot }]);
    assert_eq!(c.stats().timeouts, 1);
    // Late readiness of the closed socket reaches nobody.
    c.handle_connected(t(1001), &cfg, slot);
    assert_eq!(c.stats().stale_events, 1);
    assert!(reports(&mut c).is_empty());
}

#[test]
fn first_runs_spread_over_warmup() {
    let n = crate::limits::CHECKERS.min(crate::limits::REAL_SERVERS);
    let cfg = load(&conf(n, "TCP_CHECK {\n delay_loop 1\n }"));
    let mut c = Checkers::new(&cfg, 42).unwrap();
    c.start(t(0), &cfg);
    // Starts per wake-up of the loop (each handle_timeout at poll_at).
    let mut wakes: StdVec<(i64, u32)> = StdVec::new();
    let mut now = 0;
    let mut started = 0;
    while started < n {
        let at = c.poll_at().unwrap();
        assert!(at >= t(now), "deadline in the past");
        now = at.total_millis();
        assert!(now < 1000, "a first run after the warmup");
        c.handle_timeout(at, &cfg);
        let mut k = 0;
        for a in actions(&mut c) {
            if let CheckAction::Open { slot, .. } = a {
                k += 1;
                c.handle_connected(at, &cfg, slot);
            }
        }
        started += k as usize;
        wakes.push((now, k));
        let _ = actions(&mut c);
    }
    // Spread over the second, gathered into wake-ups START_EARLY apart.
    let early = super::engine::START_EARLY.total_millis() as i64;
    for w in wakes.windows(2) {
        assert!(
            w[1].0 - w[0].0 >= early,
            "wake-ups {} and {} ms: closer than {early} ms",
            w[0].0,
            w[1].0
        );
    }
    let busiest = wakes.iter().map(|w| w.1).max().unwrap() as usize;
    let window = n * early as usize / 1000;
    assert!(
        busiest <= 2 * window + 8,
        "{busiest} checks in one wake-up ({n} over 1 s, {early} ms windows)"
    );
    assert!(
        wakes.len() > 1000 / (2 * early as usize),
        "only {} wake-ups for {n} checks",
        wakes.len()
    );
    // The same seed gives the same spread.
    let mut d = Checkers::new(&cfg, 42).unwrap();
    d.start(t(0), &cfg);
    let mut e = Checkers::new(&cfg, 43).unwrap();
    e.start(t(0), &cfg);
    let c2 = Checkers::new(&cfg, 42).unwrap();
    drop(c2);
    assert_eq!(d.poll_at(), {
        let mut x = Checkers::new(&cfg, 42).unwrap();
        x.start(t(0), &cfg);
        x.poll_at()
    });
    assert_ne!(d.poll_at(), e.poll_at());
}

#[test]
fn a_full_pool_delays_checks_and_drops_none() {
    let n = (crate::limits::CHECK_SOCKETS + 10).min(crate::limits::REAL_SERVERS);
    let cfg = load(&conf(n, "TCP_CHECK {\n delay_loop 1\n warmup 0\n }"));
    let mut c = Checkers::new(&cfg, 1).unwrap();
    c.start(t(0), &cfg);
    c.handle_timeout(t(0), &cfg);
    let first = opened(&actions(&mut c));
    assert_eq!(first.len(), crate::limits::CHECK_SOCKETS.min(n));
    assert_eq!(c.stats().pool_waits as usize, n - first.len());
    // Sockets come back; the waiting checks start at the next timeout.
    for s in &first[..10.min(first.len())] {
        c.handle_connected(t(1), &cfg, *s);
    }
    let _ = actions(&mut c);
    assert_eq!(c.poll_at(), Some(Instant::ZERO));
    c.handle_timeout(t(1), &cfg);
    assert_eq!(opened(&actions(&mut c)).len(), 10.min(n - first.len()));
}

#[test]
fn http_status_digest_chunked_and_length() {
    let mut codes = StatusCodes::new();
    codes.add(200, 299);
    codes.add(404, 404);
    let body = b"hello";
    let digest = http::md5(body);
    let expect = Expect {
        status: &codes,
        digest: Some(digest),
    };
    let run = |resp: &[u8], expect: &Expect<'_>, eof: bool| -> Step {
        let mut x = Exchange::new();
        // Fed in two pieces, as reads may cut it.
        let cut = resp.len() / 2;
        let (s, used) = x.on_data(&resp[..cut], expect);
        if let Step::Done(_) = s {
            return s;
        }
        let mut rest = StdVec::from(&resp[used..cut]);
        rest.extend_from_slice(&resp[cut..]);
        let (s, _) = x.on_data(&rest, expect);
        if s == Step::Wait && eof {
            return x.on_eof(expect);
        }
        s
    };
    let ok = Step::Done(Verdict::Success);
    assert_eq!(
        run(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            &expect,
            false
        ),
        ok
    );
    assert_eq!(
        run(b"HTTP/1.0 404 Not Found\r\n\r\nhello", &expect, true),
        ok
    );
    assert_eq!(
        run(b"HTTP/1.1 500 Oops\r\n\r\nhello", &expect, true),
        Step::Done(Verdict::Failure(Failure::Status(500)))
    );
    assert_eq!(
        run(b"HTTP/1.1 200 OK\r\n\r\nhellx", &expect, true),
        Step::Done(Verdict::Failure(Failure::Digest))
    );
    // genhash hashes a chunked body as it comes, framing included.
    let chunked = b"5\r\nhello\r\n0\r\n\r\n";
    let e2 = Expect {
        status: &codes,
        digest: Some(http::md5(chunked)),
    };
    let mut resp = StdVec::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
    resp.extend_from_slice(chunked);
    assert_eq!(run(&resp, &e2, false), ok);
    // Without a digest the head is enough.
    let e3 = Expect {
        status: &codes,
        digest: None,
    };
    let mut x = Exchange::new();
    assert_eq!(x.on_data(b"HTTP/1.1 204 No\r\n\r\n", &e3).0, ok);
    // Garbage.
    let mut x = Exchange::new();
    assert_eq!(
        x.on_data(b"SSH-2.0-OpenSSH\r\n", &e3).0,
        Step::Done(Verdict::Failure(Failure::Garbage))
    );
}

#[test]
fn http_request_has_keepalived_lines() {
    let mut out = [0u8; 512];
    let n = http::write_request(
        &mut out,
        "/x",
        "",
        "10.0.0.1:8080".parse().unwrap(),
        crate::config::lvs::HttpVersion::V10,
    )
    .unwrap();
    assert_eq!(
        &out[..n],
        b"GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1:8080\r\n\r\n"
    );
    let n = http::write_request(
        &mut out,
        "/",
        "",
        "[2001:db8::1]:80".parse().unwrap(),
        crate::config::lvs::HttpVersion::V11,
    )
    .unwrap();
    assert_eq!(
        &out[..n],
        b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [2001:db8::1]:80\r\n\r\n"
    );
    assert!(
        http::write_request(
            &mut out[..20],
            "/",
            "h",
            "10.0.0.1:80".parse().unwrap(),
            crate::config::lvs::HttpVersion::V10
        )
        .is_none()
    );
}

#[test]
fn http_heads() {
    let h = ResponseHead::parse(b"HTTP/1.1 301 Moved\r\nLocation: /\r\ncontent-length: 0\r\n\r\nX")
        .unwrap();
    assert_eq!(
        (h.minor, h.status, h.content_length, h.chunked),
        (1, 301, Some(0), false)
    );
    assert_eq!(
        ResponseHead::parse(b"HTTP/1.1 200 OK\r\nSer"),
        Err(HeadError::Incomplete)
    );
    assert_eq!(
        ResponseHead::parse(b"HTTP/2 200\r\n\r\n"),
        Err(HeadError::StatusLine)
    );
    assert_eq!(
        ResponseHead::parse(b"<html>hello there"),
        Err(HeadError::StatusLine)
    );
    assert_eq!(
        ResponseHead::parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        Err(HeadError::ContentLength)
    );
    assert_eq!(
        ResponseHead::parse(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
        Err(HeadError::Header)
    );
    let mut c = Chunked::default();
    assert_eq!(
        c.feed(b"3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\nEXTRA"),
        Ok(31)
    );
    assert!(c.is_done());
    assert!(Chunked::default().feed(b"zz\r\n").is_err());
}

#[test]
fn http_urls_one_per_run_and_down_after_retries() {
    let checker = "HTTP_GET {\n url {\n  path /a\n }\n url {\n  path /b\n }\n connect_timeout 1\n retry 1\n delay_before_retry 0.2\n delay_loop 1\n warmup 0\n }";
    let cfg = load(&conf(1, checker));
    let mut c = Checkers::new(&cfg, 1).unwrap();
    c.start(t(0), &cfg);
    let mut now = 0;
    let get = |c: &mut Checkers, now: i64, reply: &[u8]| -> String {
        c.handle_timeout(t(now), &cfg);
        let slot = opened(&actions(c))[0];
        c.handle_connected(t(now), &cfg, slot);
        assert_eq!(actions(c), [CheckAction::Send { slot }]);
        let mut out = [0u8; 512];
        let n = c.write_request(&cfg, slot, &mut out).unwrap();
        let req = String::from_utf8_lossy(&out[..n]).into_owned();
        let buf = c.rx_space(slot).unwrap();
        buf[..reply.len()].copy_from_slice(reply);
        c.handle_received(t(now), &cfg, slot, reply.len(), reply.len());
        req
    };
    let ok = b"HTTP/1.0 200 OK\r\n\r\n";
    assert!(get(&mut c, now, ok).starts_with("GET /a "));
    assert!(reports(&mut c).is_empty(), "one url is not all");
    now += 1000;
    assert!(get(&mut c, now, ok).starts_with("GET /b "));
    assert!(matches!(
        reports(&mut c)[..],
        [CheckReport::State {
            up: true,
            first: true,
            ..
        }]
    ));
    now += 1000;
    // /a fails twice (retry 1): down.
    assert!(get(&mut c, now, b"HTTP/1.0 503 No\r\n\r\n").starts_with("GET /a "));
    assert_eq!(c.poll_at(), Some(t(now + 200)));
    now += 200;
    assert!(get(&mut c, now, b"HTTP/1.0 503 No\r\n\r\n").starts_with("GET /a "));
    assert!(matches!(
        reports(&mut c)[..],
        [CheckReport::State { up: false, .. }]
    ));
    now += 1000;
    // Back: /a then /b again.
    assert!(get(&mut c, now, ok).starts_with("GET /a "));
    assert!(reports(&mut c).is_empty());
    now += 1000;
    assert!(get(&mut c, now, ok).starts_with("GET /a "));
    now += 1000;
    assert!(get(&mut c, now, ok).starts_with("GET /b "));
    assert!(matches!(
        reports(&mut c)[..],
        [CheckReport::State { up: true, .. }]
    ));
}

#[test]
fn endless_header_fills_the_buffer_and_fails() {
    let checker = "HTTP_GET {\n url {\n  path /\n }\n warmup 0\n retry 0\n }";
    let cfg = load(&conf(1, checker));
    let mut c = Checkers::new(&cfg, 1).unwrap();
    c.start(t(0), &cfg);
    c.handle_timeout(t(0), &cfg);
    let slot = opened(&actions(&mut c))[0];
    c.handle_connected(t(0), &cfg, slot);
    let _ = actions(&mut c);
    let head = b"HTTP/1.1 200 OK\r\n";
    let buf = c.rx_space(slot).unwrap();
    buf[..head.len()].copy_from_slice(head);
    c.handle_received(t(0), &cfg, slot, head.len(), head.len());
    while let Some(buf) = c.rx_space(slot) {
        let n = buf.len().min(100);
        buf[..n].fill(b'X');
        c.handle_received(t(0), &cfg, slot, n, n);
    }
    assert_eq!(c.stats().too_long, 1);
    assert!(matches!(
        reports(&mut c)[..],
        [CheckReport::State { up: false, .. }]
    ));
}

#[test]
fn smtp_replies() {
    assert_eq!(smtp::parse_reply(b"220 hi\r\n"), Ok((220, 8)));
    assert_eq!(
        smtp::parse_reply(b"250-a\r\n250-b\r\n250 c\r\nX"),
        Ok((250, 21))
    );
    assert_eq!(
        smtp::parse_reply(b"250-a\r\n25"),
        Err(smtp::ReplyError::Incomplete)
    );
    assert_eq!(
        smtp::parse_reply(b"250-a\r\n251 b\r\n"),
        Err(smtp::ReplyError::Malformed)
    );
    assert_eq!(
        smtp::parse_reply(b"hello\r\n"),
        Err(smtp::ReplyError::Malformed)
    );
    let mut d = smtp::Dialogue::new();
    let mut out = [0u8; 64];
    assert_eq!(d.on_data(b"220 mail ESMTP\r\n"), (Step::Send, 16));
    let n = d.write_command("me", &mut out).unwrap();
    assert_eq!(&out[..n], b"HELO me\r\n");
    assert_eq!(d.on_data(b"250 ok\r\n"), (Step::Send, 8));
    let n = d.write_command("me", &mut out).unwrap();
    assert_eq!(&out[..n], b"QUIT\r\n");
    assert_eq!(d.on_data(b"221 bye\r\n").0, Step::Done(Verdict::Success));
    let mut d = smtp::Dialogue::new();
    assert_eq!(
        d.on_data(b"554 go away\r\n").0,
        Step::Done(Verdict::Failure(Failure::Smtp(554)))
    );
}

#[test]
fn dns_query_and_answers() {
    let mut q = [0u8; 300];
    let n = dns::write_query(&mut q, 0x1234, "check.test", crate::config::lvs::DnsType::A).unwrap();
    assert_eq!(
        &q[..n],
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05check\x04test\x00\x00\x01\x00\x01"
    );
    let root = dns::write_query(&mut [0u8; 64], 1, ".", crate::config::lvs::DnsType::Soa).unwrap();
    assert_eq!(root, 12 + 1 + 4);
    let mut a = StdVec::from(&q[..n]);
    a[2] = 0x81;
    a[3] = 0x80;
    a.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
    a[7] = 1;
    assert_eq!(dns::check_answer(&a, &q[..n]), Ok(()));
    let mut bad = a.clone();
    bad[3] = 0x83;
    assert_eq!(
        dns::check_answer(&bad, &q[..n]),
        Err(dns::AnswerError::Rcode(3))
    );
    let mut other = a.clone();
    other[1] = 0x35;
    assert_eq!(
        dns::check_answer(&other, &q[..n]),
        Err(dns::AnswerError::Id)
    );
    let mut query_back = a.clone();
    query_back[2] = 0x01;
    assert_eq!(
        dns::check_answer(&query_back, &q[..n]),
        Err(dns::AnswerError::Malformed)
    );
    assert_eq!(
        dns::check_answer(&a[..5], &q[..n]),
        Err(dns::AnswerError::Short)
    );
}

#[test]
fn ping_echo_round_trip() {
    for v6 in [false, true] {
        let e = ping::Echo {
            v6,
            check: 7,
            seq: 9,
        };
        let mut out = [0u8; 64];
        let n = e.write_request(&mut out).unwrap();
        let mut reply = StdVec::from(&out[..n]);
        reply[0] = if v6 { 129 } else { 0 };
        assert!(e.is_reply(&reply), "v6 {v6}");
        assert!(!e.is_reply(&out[..n]), "a request is no reply");
        let other = ping::Echo {
            v6,
            check: 7,
            seq: 10,
        };
        assert!(!other.is_reply(&reply));
    }
}

#[test]
fn udp_reply_rules() {
    let (cfg, _) = parse_text(&conf(
        1,
        "UDP_CHECK {\n payload 01020304\n require_reply 0aXX0c\n min_reply_length 3\n max_reply_length 8\n }",
    ));
    let crate::config::lvs::CheckKind::Udp(u) = cfg.lvs.checkers[0].kind else {
        panic!()
    };
    let pat = cfg.strings.get(u.require_reply.unwrap());
    assert!(udp::reply_matches(&u, pat, b"\x0a\xff\x0c", 3));
    assert!(!udp::reply_matches(&u, pat, b"\x0b\xff\x0c", 3));
    assert!(!udp::reply_matches(&u, pat, b"\x0a\xff\x0c", 9));
    assert!(!udp::reply_matches(&u, pat, b"\x0a", 1));
    let probe = udp::Probe {
        require_reply: false,
    };
    assert_eq!(probe.on_timeout(), Verdict::Success);
}

#[test]
fn misc_exit_codes() {
    assert_eq!(
        judge(ScriptOutcome::Exited(0), false),
        (Verdict::Success, None)
    );
    assert_eq!(
        judge(ScriptOutcome::Exited(1), true),
        (Verdict::Failure(Failure::Exit(1)), None)
    );
    assert_eq!(
        judge(ScriptOutcome::Exited(12), true),
        (Verdict::Success, Some(10))
    );
    assert_eq!(
        judge(ScriptOutcome::Exited(12), false),
        (Verdict::Failure(Failure::Exit(12)), None)
    );
    assert_eq!(
        judge(ScriptOutcome::TimedOut, true),
        (Verdict::Failure(Failure::Timeout), None)
    );
}

proptest! {
    /// Random bytes, cut anywhere, never panic any parser and never pass
    /// as a good HTTP response with a digest that does not match.
    #[test]
    fn random_replies_never_panic(data in proptest::collection::vec(any::<u8>(), 0..3000), cut in 0usize..3000) {
        let _ = ResponseHead::parse(&data);
        let _ = Chunked::default().feed(&data);
        let _ = smtp::parse_reply(&data);
        let _ = dns::check_answer(&data, b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x01");
        let _ = ping::Echo { v6: false, check: 1, seq: 1 }.is_reply(&data);
        let _ = ping::Echo { v6: true, check: 1, seq: 1 }.is_reply(&data);
        let mut codes = StatusCodes::new();
        codes.add(200, 299);
        let expect = Expect { status: &codes, digest: Some([0; 16]) };
        let mut x = Exchange::new();
        let cut = cut.min(data.len());
        let (s, used) = x.on_data(&data[..cut], &expect);
        let s = match s {
            Step::Wait => {
                let rest: StdVec<u8> = data[used.min(cut)..].to_vec();
                match x.on_data(&rest, &expect).0 {
                    Step::Wait => x.on_eof(&expect),
                    s => s,
                }
            }
            s => s,
        };
        prop_assert_ne!(s, Step::Done(Verdict::Success));
        let mut d = smtp::Dialogue::new();
        let _ = d.on_data(&data);
    }

    /// Garbage after a good status line never panics either.
    #[test]
    fn random_heads_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut data = StdVec::from(&b"HTTP/1.1 200 OK\r\n"[..]);
        data.extend_from_slice(&tail);
        let _ = ResponseHead::parse(&data);
        let mut codes = StatusCodes::new();
        codes.add(200, 299);
        let mut x = Exchange::new();
        let _ = x.on_data(&data, &Expect { status: &codes, digest: Some([1; 16]) });
        let _ = x.on_eof(&Expect { status: &codes, digest: Some([1; 16]) });
    }
}

#[test]
fn durations_in_the_conf_are_used() {
    let cfg = load(&conf(1, TCP));
    let ck = &cfg.lvs.checkers[0];
    assert_eq!(ck.connect_timeout, Some(Duration::from_secs(1)));
    assert_eq!(ck.delay_before_retry, Some(Duration::from_millis(500)));
}

/// `reset` (the fuzz harnesses reuse one block) gives what `new` gives:
/// the same script on a used-then-reset table and on a new one runs the
/// same, seeded spread included.
#[test]
fn reset_is_new_in_place() {
    let checker = "HTTP_GET {\n url {\n  path /\n }\n connect_timeout 1\n retry 0\n delay_loop 1\n warmup 5\n }";
    let cfg = load(&conf(3, checker));
    let script = |c: &mut Checkers| -> String {
        let mut log = String::new();
        c.start(t(0), &cfg);
        log += &format!("{:?}\n", c.poll_at());
        c.handle_timeout(t(5_000), &cfg);
        let a = actions(c);
        log += &format!("{a:?}\n");
        for slot in opened(&a) {
            c.handle_connected(t(5_001), &cfg, slot);
            let reply = b"HTTP/1.1 503 No\r\n\r\n";
            if let Some(buf) = c.rx_space(slot) {
                buf[..reply.len()].copy_from_slice(reply);
                c.handle_received(t(5_002), &cfg, slot, reply.len(), reply.len());
            }
        }
        log += &format!("{:?}\n{:?}\n{:?}\n", actions(c), reports(c), c.poll_at());
        log += &format!("{:?}", c.stats().iter().collect::<StdVec<_>>());
        log
    };
    let mut used = Box::new(Checkers::new(&cfg, 7).unwrap());
    let first = script(&mut used);
    used.reset(&cfg, 7).unwrap();
    let again = script(&mut used);
    let mut fresh = Box::new(Checkers::new(&cfg, 7).unwrap());
    assert_eq!(again, script(&mut fresh));
    assert_eq!(again, first);
    assert!(again.contains("up: false"), "{again}");
}
