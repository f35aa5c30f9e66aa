//! `ipvs`: what the kernel's generic netlink IPVS family (and the
//! controller) may answer (`picket::wire::genetlink`, `picket::wire::ipvs`),
//! parsed alone and fed to the IPVS conversation (`picket::ipvs::link`)
//! the daemon runs.
//!
//! Input: a list of steps. Each step is one control byte then, for a
//! datagram, a 2-byte big-endian length and that many bytes:
//!
//! | control & 3 | step |
//! |---|---|
//! | 0, 1 | a datagram: every message parsed alone, then handed to the link |
//! | 2 | time passes (`control >> 2` × 500 ms): the link's timeout, then what it sends |
//! | 3 | the daemon stops (`control & 4`: leaving the services in place) |
//!
//! The link starts with sequence number 1000 and the family id is whatever
//! the fuzzer's controller answer says, so the fuzzer can find matching
//! answers (its comparisons are traced).
//!
//! Checked: every reply parses or fails cleanly; a parsed service or
//! destination written back as a request parses to the same settings; the
//! link never panics, its state stays coherent and its deadlines lie ahead.

use std::cell::RefCell;

use picket::config::Config;
use picket::ipvs::Reconciler;
use picket::ipvs::link::{Link, LinkState, TX_BYTES};
use picket::time::{Duration, Instant};
use picket::wire::genetlink::FamilyRepr;
use picket::wire::ipvs::{AF_INET, AF_INET6, Reply, Request};
use picket::wire::netlink::{Control, Messages};

use super::Input;

/// The daemon's IPVS table: services of both families, a fwmark one, a
/// sorry server, flush and timeouts at start, flush at stop.
const CONF: &str = "\
global_defs {
  lvs_flush
  lvs_timeouts tcp 900 tcpfin 120 udp 300
  lvs_flush_onstop
}
virtual_server 10.0.0.1 80 {
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
  persistence_timeout 60
  real_server 10.0.1.1 8080 { weight 3 }
  real_server 10.0.1.2 8080 { weight 1 }
}
virtual_server fd00::1 53 {
  lvs_sched rr
  lvs_method DR
  protocol UDP
  real_server fd00::10 53 { }
}
virtual_server fwmark 7 {
  lvs_sched sh
  lvs_method TUN
  sorry_server 10.0.3.1 80
  real_server 10.0.2.1 80 { }
}
";

config_once!(config, super::load_config(CONF));

/// Most steps per input, so one input stays fast.
const MAX_STEPS: usize = 64;

/// Runs one input.
pub fn run(data: &[u8]) {
    // The transmit buffer and the reconciler's block are reused from input
    // to input (the reconciler is reset in place: `Reconciler::reset`), so
    // an input copies none of their few hundred KiB.
    thread_local! {
        static TX: RefCell<Vec<u8>> = RefCell::new(vec![0u8; TX_BYTES]);
        static REC: RefCell<Option<Box<Reconciler>>> = const { RefCell::new(None) };
    }
    let cfg = config();
    REC.with(|cell| {
        let mut cell = cell.borrow_mut();
        let rec = match cell.as_mut() {
            Some(r) => {
                r.reset(cfg).unwrap_or_else(|e| panic!("{e:?}"));
                r
            }
            None => cell.insert(Box::new(
                Reconciler::new(cfg).unwrap_or_else(|e| panic!("{e:?}")),
            )),
        };
        TX.with(|tx| run_with(cfg, rec, data, &mut tx.borrow_mut()));
    });
}

fn run_with(cfg: &Config, rec: &mut Reconciler, data: &[u8], tx: &mut [u8]) {
    let mut link = Link::new(cfg, 1000);
    let mut now = Instant::from_millis(0);
    let mut input = Input::new(data);
    // What the link says first (the family lookup).
    transmit(&mut link, rec, now, tx);
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let control = input.byte();
        match control & 3 {
            0 | 1 => {
                let len = usize::from(input.u16());
                let datagram = input.bytes(len);
                parse_alone(datagram);
                link.handle_datagram(now, rec, datagram);
            }
            2 => {
                now += Duration::from_millis(500 * u64::from(control >> 2));
                link.handle_timeout(now, rec);
            }
            _ => link.stop(rec, control & 4 != 0),
        }
        transmit(&mut link, rec, now, tx);
        if link.state() == LinkState::Stopped {
            assert!(!link.is_waiting(), "stopped with an exchange outstanding");
        }
    }
}

/// Sends what the link has to say now; every datagram must be well framed.
fn transmit(link: &mut Link, rec: &mut Reconciler, now: Instant, tx: &mut [u8]) {
    // A link says at most one datagram per exchange; a few rounds cover
    // exchanges that need no answer.
    for _ in 0..4 {
        let Some(n) = link.poll_transmit(now, rec, tx) else {
            return;
        };
        assert!(n <= tx.len());
        for msg in Messages::new(&tx[..n]) {
            assert!(msg.is_ok(), "the link wrote a malformed message");
        }
        if link.is_waiting() {
            return;
        }
    }
}

/// Every message of a datagram through the reply parsers, alone.
fn parse_alone(datagram: &[u8]) {
    for msg in Messages::new(datagram) {
        let Ok(msg) = msg else {
            break;
        };
        let Ok(Control::Data(_, payload)) = Control::parse(&msg) else {
            continue;
        };
        if let Ok(Some(family)) = FamilyRepr::parse(payload) {
            assert!(!family.name.contains(&0));
        }
        for af in [0, AF_INET, AF_INET6] {
            match Reply::parse(payload, af) {
                Ok(Reply::Service(s)) => {
                    let mut buf = [0u8; 512];
                    let n = Request::NewService(&s)
                        .emit(0x22, 1, &mut buf)
                        .unwrap_or_else(|e| panic!("a parsed service does not emit: {e:?} {s:?}"));
                    let back = reply_of(&buf[..n], af);
                    match back {
                        Reply::Service(b) => assert!(b.same_settings(&s), "{s:?} -> {b:?}"),
                        other => panic!("service came back as {other:?}"),
                    }
                }
                Ok(Reply::Dest(d)) => {
                    let mut buf = [0u8; 512];
                    let key = picket::wire::ipvs::ServiceKey::Fwmark {
                        family: AF_INET,
                        mark: 1,
                    };
                    let n = Request::NewDest(key, &d)
                        .emit(0x22, 1, &mut buf)
                        .unwrap_or_else(|e| panic!("a parsed dest does not emit: {e:?} {d:?}"));
                    match reply_of(&buf[..n], af) {
                        Reply::Dest(b) => assert!(b.same_settings(&d), "{d:?} -> {b:?}"),
                        other => panic!("dest came back as {other:?}"),
                    }
                }
                _ => {}
            }
        }
    }
}

/// The reply an emitted request reads as.
fn reply_of(request: &[u8], af: u16) -> Reply {
    let msg = Messages::new(request)
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("emitted request is not a message"));
    let Ok(Control::Data(_, payload)) = Control::parse(&msg) else {
        panic!("emitted request is not data");
    };
    Reply::parse(payload, af).unwrap_or_else(|e| panic!("emitted request does not parse: {e:?}"))
}
