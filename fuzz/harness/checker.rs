//! A fake binary around the health checkers (`picket::check::Checkers`),
//! shared by the `http`, `smtp`, `dns` and `udp` targets: it runs one
//! configured check against a server whose bytes come from the fuzzer.
//!
//! Input: a list of steps, each a control byte then maybe data:
//!
//! | control & 7 | step |
//! |---|---|
//! | 0–2 | bytes arrive: a 1-byte length `n` (×(control >> 3 + 1), at most the buffer), then `n` bytes (a stream read, or one datagram) |
//! | 3 | as 0, but the first two bytes are replaced by those of the last request sent (a DNS answer's id) |
//! | 4 | the server closes (end of file) |
//! | 5 | time passes: `control >> 3` × 100 ms, and the checkers' due timers run |
//! | 6 | an I/O error on the socket |
//! | 7 | a datagram longer than what was read (`full` > `n`): as 0 |
//!
//! Every `Open` the checkers ask for connects at once; every `Send` is
//! written with `write_request`, which must succeed.
//!
//! Checked: no panic; the receive space never exceeds the slot's buffer;
//! the state reports are coherent (`was_up` is the last state reported).

use std::cell::RefCell;

use picket::check::engine::{CheckAction, CheckReport, Checkers};
use picket::check::{CheckId, SlotId};
use picket::config::Config;
use picket::limits::CHECK_RX_BYTES;
use picket::time::{Duration, Instant};

use super::Input;

/// The timing of the harnesses' checks: 1 s to connect, one retry 0.2 s
/// later, the next run 1 s after, no warm-up.
pub const TIMING: &str =
    "connect_timeout 1\n retry 1\n delay_before_retry 0.2\n delay_loop 1\n warmup 0";

/// One virtual server 10.9.0.1:`port` (`protocol`) with one real server
/// 10.0.0.1:`port` checked by `check` (a whole checker block), loaded.
pub fn one_check(port: u16, protocol: &str, check: &str) -> Box<Config> {
    super::load_config(&format!(
        "virtual_server 10.9.0.1 {port} {{\n lvs_sched rr\n lvs_method NAT\n protocol {protocol}\n \
         real_server 10.0.0.1 {port} {{\n  {check}\n }}\n}}\n"
    ))
}

/// Most steps per input.
const MAX_STEPS: usize = 64;

/// Runs `data` against check 0 of `cfg` (which must have exactly one).
pub fn drive(cfg: &Config, data: &[u8]) {
    // The checkers are a few hundred KiB (a receive buffer per socket slot):
    // one block, reset in place for every input (`Checkers::reset`), so an
    // input costs no copy of it.
    thread_local! {
        static CHECKERS: RefCell<Option<Box<Checkers>>> = const { RefCell::new(None) };
    }
    CHECKERS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let c = match cell.as_mut() {
            Some(c) => {
                c.reset(cfg, 1).unwrap_or_else(|e| panic!("{e:?}"));
                c
            }
            None => cell.insert(Box::new(
                Checkers::new(cfg, 1).unwrap_or_else(|e| panic!("{e:?}")),
            )),
        };
        drive_with(c, cfg, data);
    });
}

fn drive_with(c: &mut Checkers, cfg: &Config, data: &[u8]) {
    let mut now = Instant::from_millis(0);
    c.start(now, cfg);
    let mut slot: Option<SlotId> = None;
    let mut up = c.state(CheckId(0)).map(|(up, _)| up);
    let mut input = Input::new(data);
    let mut sent = [0u8; 2];
    c.handle_timeout(now, cfg);
    settle(c, cfg, now, &mut slot, &mut up, &mut sent);
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let control = input.byte();
        match control & 7 {
            4 => {
                if let Some(s) = slot {
                    c.handle_eof(now, cfg, s);
                }
            }
            5 => {
                now += Duration::from_millis(100 * u64::from(control >> 3));
                c.handle_timeout(now, cfg);
            }
            6 => {
                if let Some(s) = slot {
                    c.handle_io_error(now, cfg, s, 104);
                }
            }
            k => {
                let n = usize::from(input.byte()) * (usize::from(control >> 3) + 1);
                let bytes = input.bytes(n);
                let Some(s) = slot else { continue };
                let Some(space) = c.rx_space(s) else { continue };
                assert!(space.len() <= CHECK_RX_BYTES);
                let n = bytes.len().min(space.len());
                space[..n].copy_from_slice(&bytes[..n]);
                if k == 3 {
                    let m = n.min(2);
                    space[..m].copy_from_slice(&sent[..m]);
                }
                let full = if k == 7 { n + 100 } else { n };
                c.handle_received(now, cfg, s, n, full);
            }
        }
        settle(c, cfg, now, &mut slot, &mut up, &mut sent);
    }
}

/// Plays the binary's part for every action, and checks the reports.
fn settle(
    c: &mut Checkers,
    cfg: &Config,
    now: Instant,
    slot: &mut Option<SlotId>,
    up: &mut Option<bool>,
    sent: &mut [u8; 2],
) {
    let mut out = [0u8; 2048];
    // Connecting may queue a send, which may end the attempt: a few rounds.
    for _ in 0..8 {
        let Some(action) = c.poll_action() else { break };
        match action {
            CheckAction::Open { slot: s, check, .. } => {
                assert_eq!(check, CheckId(0));
                *slot = Some(s);
                c.handle_connected(now, cfg, s);
            }
            CheckAction::Send { slot: s } => {
                assert_eq!(Some(s), *slot, "send on a slot not open");
                let n = c.write_request(cfg, s, &mut out);
                assert!(
                    n.is_some(),
                    "the request of an open attempt cannot be written"
                );
                sent.copy_from_slice(&out[..2]);
            }
            CheckAction::Close { slot: s } => {
                if *slot == Some(s) {
                    *slot = None;
                }
            }
            CheckAction::RunScript { .. } => panic!("no script is configured"),
        }
    }
    while let Some(r) = c.poll_report() {
        if let CheckReport::State {
            check,
            up: now_up,
            was_up,
            first,
        } = r
        {
            assert_eq!(check, CheckId(0));
            if let Some(before) = *up
                && !first
            {
                assert_eq!(was_up, before, "was_up is not the last state");
            }
            *up = Some(now_up);
        }
    }
}
