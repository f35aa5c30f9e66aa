//! The link against a fake kernel that answers (or not) on a fake clock:
//! start-up order, batching, matching by sequence number, refusals,
//! timeouts and retries, an IPVS that appears later, the timeouts saved and
//! restored, the stop; hostile replies never panic.

use super::*;
use crate::config::testutil::parse_text;
use crate::wire::genetlink::{CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_CMD_NEWFAMILY};
use crate::wire::ipvs::{
    CMD_ATTR_TIMEOUT_TCP, CMD_ATTR_TIMEOUT_TCP_FIN, CMD_ATTR_TIMEOUT_UDP, CMD_DEL_SERVICE,
    CMD_FLUSH, CMD_GET_CONFIG, CMD_GET_DEST, CMD_GET_INFO, CMD_GET_SERVICE, CMD_NEW_DEST,
    CMD_NEW_SERVICE, CMD_SET_CONFIG, CMD_SET_DEST, CMD_SET_INFO, INFO_ATTR_CONN_TAB_SIZE,
    INFO_ATTR_VERSION,
};
use crate::wire::netlink::{MessageWriter, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, Packet};
use proptest::prelude::*;
use std::boxed::Box;
use std::format;
use std::vec;
use std::vec::Vec;

const FAMILY: u16 = 0x22;

const CONF: &str = "\
virtual_server 10.0.0.1 80 {
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
  real_server 10.0.1.1 8080 { weight 3 }
  real_server 10.0.1.2 8080 { weight 1 }
}
virtual_server fwmark 7 {
  lvs_sched rr
  lvs_method DR
  real_server 10.0.2.1 { }
}
";

fn setup(text: &str) -> (Box<Config>, Box<Reconciler>, Link) {
    let (cfg, diags) = parse_text(text);
    assert!(!diags.contains(": error:"), "{diags}");
    let rec = Box::new(Reconciler::new(&cfg).unwrap());
    let link = Link::new(&cfg, 1000);
    (cfg, rec, link)
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms as i64)
}

/// One request as the fake kernel saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    /// `GENL_ID_CTRL` or the IPVS family.
    kind: u16,
    command: u8,
    seq: u32,
}

/// A kernel: IPVS loaded or not, answering every request (or staying
/// silent), refusing the commands in `refuse` with `errno`.
struct Kernel {
    ipvs: bool,
    silent: bool,
    refuse: Vec<(u8, i32)>,
    timeouts: [u32; 3],
    /// Services its dump lists (as picket would add them).
    services: Vec<crate::wire::ipvs::ServiceRepr>,
    seen: Vec<Seen>,
}

impl Kernel {
    fn new() -> Kernel {
        Kernel {
            ipvs: true,
            silent: false,
            refuse: Vec::new(),
            timeouts: [900, 120, 300],
            services: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// The datagrams answering `dgram` (the kernel sends each reply in its
    /// own datagram, as netlink does for acks).
    fn answer(&mut self, dgram: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for msg in Messages::new(dgram) {
            let msg = msg.unwrap();
            let seq = msg.sequence();
            let command = msg.payload()[0];
            self.seen.push(Seen {
                kind: msg.message_type(),
                command,
                seq,
            });
            if self.silent {
                continue;
            }
            let header = &dgram_of(&msg)[..16];
            if msg.message_type() == GENL_ID_CTRL {
                if !self.ipvs {
                    out.push(error(seq, header, 2));
                    continue;
                }
                let mut b = [0u8; 128];
                let mut w = MessageWriter::new(&mut b, GENL_ID_CTRL, 0, seq).unwrap();
                w.bytes(&[CTRL_CMD_NEWFAMILY, 2, 0, 0]).unwrap();
                w.put_u16(CTRL_ATTR_FAMILY_ID, FAMILY).unwrap();
                w.put(CTRL_ATTR_FAMILY_NAME, b"IPVS\0").unwrap();
                let n = w.finish().unwrap();
                out.push(b[..n].to_vec());
                out.push(error(seq, header, 0));
                continue;
            }
            assert_eq!(msg.message_type(), FAMILY, "requests go to the family");
            if let Some(&(_, errno)) = self.refuse.iter().find(|(c, _)| *c == command) {
                out.push(error(seq, header, errno));
                continue;
            }
            let mut b = [0u8; 512];
            match command {
                CMD_GET_INFO => {
                    let mut w = MessageWriter::new(&mut b, FAMILY, 0, seq).unwrap();
                    w.bytes(&[CMD_SET_INFO, 1, 0, 0]).unwrap();
                    w.put_u32(INFO_ATTR_VERSION, 0x010206).unwrap();
                    w.put_u32(INFO_ATTR_CONN_TAB_SIZE, 4096).unwrap();
                    let n = w.finish().unwrap();
                    out.push(b[..n].to_vec());
                }
                CMD_GET_CONFIG => {
                    let mut w = MessageWriter::new(&mut b, FAMILY, 0, seq).unwrap();
                    w.bytes(&[CMD_SET_CONFIG, 1, 0, 0]).unwrap();
                    w.put_u32(CMD_ATTR_TIMEOUT_TCP, self.timeouts[0]).unwrap();
                    w.put_u32(CMD_ATTR_TIMEOUT_TCP_FIN, self.timeouts[1])
                        .unwrap();
                    w.put_u32(CMD_ATTR_TIMEOUT_UDP, self.timeouts[2]).unwrap();
                    let n = w.finish().unwrap();
                    out.push(b[..n].to_vec());
                }
                CMD_SET_CONFIG => {
                    let req = Reply::parse(msg.payload(), 0).unwrap();
                    let Reply::Timeouts { tcp, tcp_fin, udp } = req else {
                        panic!("{req:?}")
                    };
                    for (have, new) in self.timeouts.iter_mut().zip([tcp, tcp_fin, udp]) {
                        if new != 0 {
                            *have = new;
                        }
                    }
                    out.push(error(seq, header, 0));
                }
                CMD_GET_SERVICE => {
                    for s in &self.services {
                        let n = Request::NewService(s).emit(FAMILY, seq, &mut b).unwrap();
                        out.push(b[..n].to_vec());
                    }
                    out.push(done(seq));
                }
                CMD_GET_DEST => out.push(done(seq)),
                _ => out.push(error(seq, header, 0)),
            }
        }
        out
    }

    fn commands(&self) -> Vec<u8> {
        self.seen
            .iter()
            .filter(|s| s.kind == FAMILY)
            .map(|s| s.command)
            .collect()
    }
}

fn dgram_of<'a>(p: &Packet<&'a [u8]>) -> &'a [u8] {
    (*p).into_inner()
}

fn error(seq: u32, request_header: &[u8], errno: i32) -> Vec<u8> {
    let mut b = [0u8; 64];
    let mut w = MessageWriter::new(&mut b, NLMSG_ERROR, 0, seq).unwrap();
    w.bytes(&errno.saturating_neg().to_ne_bytes()).unwrap();
    w.bytes(request_header).unwrap();
    let n = w.finish().unwrap();
    b[..n].to_vec()
}

fn done(seq: u32) -> Vec<u8> {
    let mut b = [0u8; 32];
    let mut w = MessageWriter::new(&mut b, NLMSG_DONE, NLM_F_MULTI, seq).unwrap();
    w.bytes(&0i32.to_ne_bytes()).unwrap();
    let n = w.finish().unwrap();
    b[..n].to_vec()
}

/// Drives `link` against `k` at `now` until nothing more is said; returns
/// the datagrams sent.
fn drive(link: &mut Link, rec: &mut Reconciler, k: &mut Kernel, now: Instant) -> usize {
    let mut buf = vec![0u8; TX_BYTES];
    let mut sent = 0;
    link.handle_timeout(now, rec);
    while let Some(n) = link.poll_transmit(now, rec, &mut buf) {
        sent += 1;
        for reply in k.answer(&buf[..n]) {
            link.handle_datagram(now, rec, &reply);
        }
        assert!(sent < 100, "runaway");
    }
    sent
}

/// Through the start-up (family, GET_INFO, service dump) answered at once,
/// up to the first batch, which is returned unanswered.
fn up_to_the_batch(link: &mut Link, rec: &mut Reconciler, k: &mut Kernel) -> Vec<u8> {
    let mut buf = vec![0u8; TX_BYTES];
    for _ in 0..3 {
        let n = link.poll_transmit(t(0), rec, &mut buf).unwrap();
        for r in k.answer(&buf[..n]) {
            link.handle_datagram(t(0), rec, &r);
        }
    }
    let n = link.poll_transmit(t(0), rec, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn start_up_order_then_one_batch_of_every_op() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    assert_eq!(link.state(), LinkState::Starting);
    let sent = drive(&mut link, &mut rec, &mut k, t(0));
    // Family, GET_INFO, service dump, then one batch: 2 services + 3 dests.
    assert_eq!(sent, 4);
    assert_eq!(k.seen[0].kind, GENL_ID_CTRL);
    assert_eq!(
        k.commands(),
        [
            CMD_GET_INFO,
            CMD_GET_SERVICE,
            CMD_NEW_SERVICE,
            CMD_NEW_SERVICE,
            CMD_NEW_DEST,
            CMD_NEW_DEST,
            CMD_NEW_DEST
        ]
    );
    // Consecutive sequence numbers, after the one given.
    let seqs: Vec<u32> = k.seen.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, (1001..1009).collect::<Vec<_>>());
    assert_eq!(link.state(), LinkState::Ready);
    assert!(!link.is_waiting());
    assert_eq!(link.poll_at(), None, "nothing to wake for");
    let s = *link.stats();
    assert_eq!((s.requests, s.datagrams, s.refused, s.stray), (8, 4, 0, 0));
    // In sync: nothing more to say.
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(10)), 0);
}

#[test]
fn acks_are_matched_by_sequence_in_any_order_and_strays_counted() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    let batch = up_to_the_batch(&mut link, &mut rec, &mut k);
    let mut buf = vec![0u8; TX_BYTES];
    assert!(
        link.poll_transmit(t(0), &mut rec, &mut buf).is_none(),
        "one exchange at a time"
    );
    let mut acks = k.answer(&batch);
    assert_eq!(acks.len(), 5);
    acks.reverse();
    // A duplicate, a stranger's sequence, garbage: counted, nothing else.
    let dup = acks[0].clone();
    link.handle_datagram(t(1), &mut rec, &dup);
    link.handle_datagram(t(1), &mut rec, &dup);
    link.handle_datagram(t(1), &mut rec, &done(7));
    link.handle_datagram(t(1), &mut rec, &[1, 2, 3]);
    for a in &acks[1..] {
        link.handle_datagram(t(1), &mut rec, a);
    }
    assert!(!link.is_waiting(), "all five acks in");
    link.handle_datagram(t(1), &mut rec, &dup);
    let s = link.stats();
    assert_eq!(s.stray, 3, "the duplicate (twice) and the stranger");
    assert_eq!(s.malformed, 1);
    assert_eq!(rec.stats().failed, 0);
}

#[test]
fn a_refusal_is_handed_back_and_already_so_is_not() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    k.refuse = vec![(CMD_NEW_DEST, 22)];
    drive(&mut link, &mut rec, &mut k, t(0));
    assert_eq!(link.stats().refused, 3);
    assert_eq!(rec.stats().failed, 3);
    // The next pass sends them again; this time the kernel says they exist.
    k.refuse = vec![(CMD_NEW_DEST, EEXIST)];
    rec.retry();
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(1)), 1);
    assert_eq!(link.stats().refused, 3, "EEXIST on an add is done");
    assert_eq!(rec.stats().failed, 3);
    rec.retry();
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(2)), 0, "in sync");
}

#[test]
fn an_unanswered_batch_times_out_and_is_sent_again_later() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    let lost = up_to_the_batch(&mut link, &mut rec, &mut k);
    let mut buf = vec![0u8; TX_BYTES];
    k.silent = true;
    assert!(k.answer(&lost).is_empty());
    // Waiting is not blocking: the deadline says when to look again.
    assert_eq!(link.poll_at(), Some(t(0) + REPLY_TIMEOUT));
    link.handle_timeout(t(4_999), &mut rec);
    assert!(link.is_waiting());
    link.handle_timeout(t(5_000), &mut rec);
    assert!(!link.is_waiting());
    assert_eq!(link.stats().timeouts, 1);
    assert_eq!(rec.stats().failed, 5, "every op of the batch handed back");
    // The retry pass waits RETRY_AFTER; then the same five ops go again.
    assert_eq!(link.poll_at(), Some(t(5_000) + RETRY_AFTER));
    assert!(link.poll_transmit(t(9_999), &mut rec, &mut buf).is_none());
    k.silent = false;
    let before = k.seen.len();
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(10_000)), 1);
    let again: Vec<u8> = k.seen[before..].iter().map(|s| s.command).collect();
    assert_eq!(
        again,
        [
            CMD_NEW_SERVICE,
            CMD_NEW_SERVICE,
            CMD_NEW_DEST,
            CMD_NEW_DEST,
            CMD_NEW_DEST
        ]
    );
    // The first batch's acks, late: strays, harmless.
    for r in k.answer(&lost) {
        link.handle_datagram(t(10_001), &mut rec, &r);
    }
    assert_eq!(link.stats().stray, 5);
    assert_eq!(link.poll_at(), None);
}

#[test]
fn without_ipvs_it_waits_and_programs_the_table_when_ipvs_appears() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    k.ipvs = false;
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(0)), 1);
    assert_eq!(link.state(), LinkState::Unavailable);
    assert_eq!(link.stats().unavailable, 1);
    assert_eq!(link.poll_at(), Some(t(0) + RETRY_AFTER));
    // Nothing before the retry; one lookup at it, still nothing.
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(4_000)), 0);
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(5_000)), 1);
    assert_eq!(link.stats().unavailable, 2);
    assert!(k.commands().is_empty(), "nothing but lookups");
    // The checkers' view changes meanwhile: kept for later.
    rec.set_desired(&_cfg, |r| (r != 1).then_some(5), |_| false);
    // The module is loaded: the next lookup finds it.
    k.ipvs = true;
    link.retry_now(t(6_000));
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(6_000)), 4);
    assert_eq!(link.state(), LinkState::Ready);
    let dests = k.commands().iter().filter(|&&c| c == CMD_NEW_DEST).count();
    assert_eq!(dests, 2, "real server 1 is out");
}

#[test]
fn a_silent_family_lookup_is_asked_again() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    k.silent = true;
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(0)), 1);
    link.handle_timeout(t(5_000), &mut rec);
    assert_eq!(link.state(), LinkState::Unavailable);
    k.silent = false;
    assert_eq!(drive(&mut link, &mut rec, &mut k, t(10_000)), 4);
    assert_eq!(link.state(), LinkState::Ready);
}

#[test]
fn lvs_timeouts_are_read_set_and_restored_at_stop() {
    let text = format!("global_defs {{\n lvs_timeouts tcp 7200 udp 60\n lvs_flush\n}}\n{CONF}");
    let (_cfg, mut rec, mut link) = setup(&text);
    let mut k = Kernel::new();
    drive(&mut link, &mut rec, &mut k, t(0));
    assert_eq!(
        k.commands()[..5],
        [
            CMD_GET_INFO,
            CMD_FLUSH,
            CMD_GET_CONFIG,
            CMD_SET_CONFIG,
            CMD_GET_SERVICE
        ]
    );
    assert_eq!(k.timeouts, [7200, 120, 60], "tcpfin left as it was");
    assert_eq!(
        link.saved_timeouts(),
        Some(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        })
    );
    let before = k.seen.len();
    link.stop(&mut rec, false);
    assert_eq!(link.state(), LinkState::Stopping);
    drive(&mut link, &mut rec, &mut k, t(1));
    assert_eq!(link.state(), LinkState::Stopped);
    let at_stop: Vec<u8> = k.seen[before..].iter().map(|s| s.command).collect();
    assert_eq!(at_stop, [CMD_DEL_SERVICE, CMD_DEL_SERVICE, CMD_SET_CONFIG]);
    assert_eq!(k.timeouts, [900, 120, 300], "the kernel's own values back");
}

#[test]
fn a_restart_after_a_failed_step_does_not_save_picket_s_own_timeouts() {
    let text = format!("global_defs {{\n lvs_timeouts tcp 7200\n}}\n{CONF}");
    let (_cfg, mut rec, mut link) = setup(&text);
    let mut k = Kernel::new();
    // The service dump is refused once: start-up begins again later.
    k.refuse = vec![(CMD_GET_SERVICE, 12)];
    drive(&mut link, &mut rec, &mut k, t(0));
    assert_eq!(link.state(), LinkState::Unavailable);
    k.refuse.clear();
    drive(&mut link, &mut rec, &mut k, t(5_000));
    assert_eq!(link.state(), LinkState::Ready);
    let reads = k
        .commands()
        .iter()
        .filter(|&&c| c == CMD_GET_CONFIG)
        .count();
    let sets = k
        .commands()
        .iter()
        .filter(|&&c| c == CMD_SET_CONFIG)
        .count();
    assert_eq!((reads, sets), (1, 1), "read and set once");
    assert_eq!(link.saved_timeouts().map(|t| t.tcp), Some(900));
}

#[test]
fn stop_flush_on_stop_and_leave() {
    // lvs_flush_on_stop: one FLUSH, no per-service removal.
    let text = format!("global_defs {{\n lvs_flush_on_stop\n}}\n{CONF}");
    let (_cfg, mut rec, mut link) = setup(&text);
    let mut k = Kernel::new();
    drive(&mut link, &mut rec, &mut k, t(0));
    let before = k.seen.len();
    link.stop(&mut rec, false);
    drive(&mut link, &mut rec, &mut k, t(1));
    let at_stop: Vec<u8> = k.seen[before..].iter().map(|s| s.command).collect();
    assert_eq!(at_stop, [CMD_FLUSH]);
    assert_eq!(link.state(), LinkState::Stopped);

    // -I: nothing removed.
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    drive(&mut link, &mut rec, &mut k, t(0));
    let before = k.seen.len();
    link.stop(&mut rec, true);
    drive(&mut link, &mut rec, &mut k, t(1));
    assert_eq!(k.seen.len(), before);
    assert_eq!(link.state(), LinkState::Stopped);

    // Stop while IPVS is unavailable: nothing to do, nothing to wait for.
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    k.ipvs = false;
    drive(&mut link, &mut rec, &mut k, t(0));
    link.stop(&mut rec, false);
    assert_eq!(link.state(), LinkState::Stopped);
    assert_eq!(link.poll_at(), None);
}

#[test]
fn stop_during_a_batch_lets_it_finish_then_removes() {
    let (cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    drive(&mut link, &mut rec, &mut k, t(0));
    // A weight change in flight when the stop comes.
    rec.set_desired(&cfg, |_| Some(9), |_| false);
    let mut buf = vec![0u8; TX_BYTES];
    let n = link.poll_transmit(t(1), &mut rec, &mut buf).unwrap();
    let acks = k.answer(&buf[..n]);
    link.stop(&mut rec, false);
    assert!(
        link.poll_transmit(t(1), &mut rec, &mut buf).is_none(),
        "the batch first"
    );
    for a in &acks {
        link.handle_datagram(t(1), &mut rec, a);
    }
    let before = k.seen.len();
    drive(&mut link, &mut rec, &mut k, t(2));
    let at_stop: Vec<u8> = k.seen[before..].iter().map(|s| s.command).collect();
    assert_eq!(at_stop, [CMD_DEL_SERVICE, CMD_DEL_SERVICE]);
    assert_eq!(link.state(), LinkState::Stopped);
    assert!(k.seen[..before].iter().any(|s| s.command == CMD_SET_DEST));
}

#[test]
fn adoption_dumps_each_adopted_service_s_destinations() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    k.services = rec.services().iter().map(|s| s.repr).collect();
    drive(&mut link, &mut rec, &mut k, t(0));
    let cmds = k.commands();
    assert_eq!(
        cmds[..4],
        [CMD_GET_INFO, CMD_GET_SERVICE, CMD_GET_DEST, CMD_GET_DEST]
    );
    // The services exist: only the destinations are added.
    assert!(!cmds.contains(&CMD_NEW_SERVICE));
    assert_eq!(cmds.iter().filter(|&&c| c == CMD_NEW_DEST).count(), 3);
    assert_eq!(rec.stats().services_adopted, 2);
}

proptest! {
    #[test]
    fn hostile_datagrams_never_panic(
        at in 0usize..6,
        junk in proptest::collection::vec(any::<u8>(), 0..200),
        seq_hit in any::<bool>(),
    ) {
        let (_cfg, mut rec, mut link) = setup(CONF);
        let mut k = Kernel::new();
        let mut buf = vec![0u8; TX_BYTES];
        // Stop somewhere in the start-up or in the batch, then feed junk,
        // with the outstanding sequence number written in when asked.
        for _ in 0..at {
            let Some(n) = link.poll_transmit(t(0), &mut rec, &mut buf) else { break };
            if link.stats().datagrams as usize == at {
                break;
            }
            for r in k.answer(&buf[..n]) {
                link.handle_datagram(t(0), &mut rec, &r);
            }
        }
        let mut junk = junk;
        if seq_hit && junk.len() >= 16 {
            let seq = link.pending.map_or(0, |p| p.base);
            junk[8..12].copy_from_slice(&seq.to_ne_bytes());
            let len = (junk.len() as u32).to_ne_bytes();
            junk[..4].copy_from_slice(&len);
        }
        link.handle_datagram(t(1), &mut rec, &junk);
        link.handle_timeout(t(10_000), &mut rec);
        let _ = link.poll_transmit(t(20_000), &mut rec, &mut buf);
    }
}

/// What the watchdog's health gate sees: the exchange in flight, with the
/// time of its last progress — set at the send, moved by each part of the
/// answer, gone with the last ack.
#[test]
fn awaiting_reports_the_batch_and_its_last_progress() {
    let (_cfg, mut rec, mut link) = setup(CONF);
    let mut k = Kernel::new();
    assert_eq!(link.awaiting(), None);
    let batch = up_to_the_batch(&mut link, &mut rec, &mut k);
    assert_eq!(
        link.awaiting(),
        Some((5, t(0))),
        "2 services + 3 dests sent at 0"
    );
    let acks = k.answer(&batch);
    assert_eq!(acks.len(), 5);
    link.handle_datagram(t(1500), &mut rec, &acks[0]);
    assert_eq!(
        link.awaiting(),
        Some((4, t(1500))),
        "part answered: progress"
    );
    // A stranger's datagram is no progress.
    link.handle_datagram(t(1800), &mut rec, &done(7));
    assert_eq!(link.awaiting(), Some((4, t(1500))));
    for a in &acks[1..] {
        link.handle_datagram(t(1900), &mut rec, a);
    }
    assert_eq!(link.awaiting(), None, "all answered");
}
