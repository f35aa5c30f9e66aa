//! The conversation with the kernel's IPVS family, sans-IO: which request
//! goes next, which reply answers it, and what a silence means.
//!
//! # Primer
//!
//! The binary owns a `NETLINK_GENERIC` socket; this machine owns everything
//! said on it. [`Link::poll_transmit`] writes the next datagram into the
//! caller's buffer (`None`: nothing to say now), [`Link::handle_datagram`]
//! takes each datagram received, [`Link::handle_timeout`] runs at
//! [`Link::poll_at`]. One exchange is outstanding at a time: a request and
//! its answer, or a batch of up to [`WINDOW`] reconciler ops in one datagram
//! with consecutive sequence numbers (netlink handles the messages of a
//! datagram in order; waiting for the batch's acks before the next keeps the
//! socket's receive buffer from overflowing). Replies are matched to the
//! exchange by sequence number; anything else — a late answer, a duplicate,
//! a stranger's — is counted ([`LinkStats::stray`]) and dropped.
//!
//! The steps, from [`Link::new`]:
//!
//! 1. **Resolve**: `CTRL_CMD_GETFAMILY "IPVS"`. No such family means the
//!    kernel has no IPVS: logged once as an error, and asked again every
//!    [`RETRY_AFTER`] (the module may be loaded later) while the rest of the
//!    daemon runs on — keepalived's checker process exits instead, its VRRP
//!    process runs on.
//! 2. **Info** (`GET_INFO`: the version, logged), **flush** (`lvs_flush`,
//!    once), **timeouts** (`lvs_timeouts`: the kernel's values are read
//!    first with `GET_CONFIG`, to be restored at stop, as keepalived's
//!    libipvs does).
//! 3. **Dumps**: every service, then the destinations of each service that
//!    is picket's — the reconciler adopts what matches.
//! 4. **Sync**: batches of the reconciler's ops until it has none; each ack
//!    checked. A refusal is logged naming the service or destination and
//!    handed back to the reconciler (tried again on its next pass; adding
//!    what exists and removing what is gone count as done, as keepalived's
//!    `ipvs_talk`). A batch not answered within [`REPLY_TIMEOUT`] is counted,
//!    its ops handed back as failed, and a new pass runs [`RETRY_AFTER`]
//!    later. A start-up step not answered, or refused, starts again from
//!    step 1 after [`RETRY_AFTER`].
//! 5. **Stop** ([`Link::stop`]): picket's services removed (one `FLUSH` with
//!    `lvs_flush_on_stop`, none when told to leave them), then the saved
//!    timeouts restored.
//!
//! Nothing here allocates or blocks; time is an argument.

use core::fmt;

use super::{Op, Reconciler};
use crate::config::Config;
use crate::config::global::LvsFlushOnStop;
use crate::time::{Duration, Instant, is_due};
use crate::wire::genetlink::{self, FamilyRepr, GENL_ID_CTRL};
use crate::wire::ipvs::{self as wire, MAX_REQUEST_LEN, Reply, Request};
use crate::wire::netlink::{Control, Messages};

/// Requests per batch (one datagram).
pub const WINDOW: usize = 128;
/// Bytes a caller's transmit buffer needs: a full batch of the longest
/// requests.
pub const TX_BYTES: usize = WINDOW * MAX_REQUEST_LEN;
/// Longest wait for the answer to one exchange.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Wait before asking again: for the IPVS family while the kernel has none,
/// for a start-up step that failed, for a pass after a batch timed out.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

const EEXIST: i32 = 17;
const ESRCH: i32 = 3;
const ENOENT: i32 = 2;

/// Counters of the link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Requests sent (ops, dumps, lookups).
    pub requests: u64,
    /// Datagrams handed to the caller to send.
    pub datagrams: u64,
    /// Requests the kernel refused (already-so answers not counted).
    pub refused: u64,
    /// Replies that could not be parsed.
    pub malformed: u64,
    /// Replies for no outstanding request (late, duplicated, foreign).
    pub stray: u64,
    /// Exchanges that went unanswered for [`REPLY_TIMEOUT`].
    pub timeouts: u64,
    /// Datagrams the caller could not send.
    pub send_failures: u64,
    /// Family lookups that found no IPVS.
    pub unavailable: u64,
}

/// Connection timeouts, seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP.
    pub tcp: u32,
    /// TCP after FIN.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

/// Where the link is, for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// The kernel has no IPVS (or a start-up step failed): waiting to ask
    /// again.
    Unavailable,
    /// Resolving, reading, dumping.
    Starting,
    /// In sync, or sending ops.
    Ready,
    /// Removing picket's services, restoring the timeouts.
    Stopping,
    /// Done.
    Stopped,
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkState::Unavailable => "unavailable",
            LinkState::Starting => "starting",
            LinkState::Ready => "ready",
            LinkState::Stopping => "stopping",
            LinkState::Stopped => "stopped",
        })
    }
}

/// The next thing to say (or the thing said, in [`Pending`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Unavailable,
    Resolve,
    Info,
    Flush,
    GetTimeouts,
    SetTimeouts,
    DumpServices,
    /// Dump the destinations of the first adopted service slot from here.
    DumpDests(u16),
    Sync,
    StopFlush,
    StopSync,
    RestoreTimeouts,
    Stopped,
}

/// The outstanding exchange.
#[derive(Clone, Copy, Debug)]
struct Pending {
    step: Step,
    /// Sequence number of its first message.
    base: u32,
    /// Messages sent.
    count: u16,
    /// Answers still awaited (batches).
    left: u16,
    deadline: Instant,
    /// When it was sent, or last answered in part.
    progress: Instant,
}

/// The IPVS conversation. See the module doc.
pub struct Link {
    step: Step,
    pending: Option<Pending>,
    /// The ops of the outstanding batch, by sequence offset.
    inflight: [Option<Op>; WINDOW],
    family: u16,
    seq: u32,
    /// When to ask again (unavailable, failed start) or to run a new pass
    /// (after a timed-out batch).
    retry_at: Option<Instant>,
    flush_at_start: bool,
    flush_on_stop: bool,
    set_timeouts: Option<Timeouts>,
    flushed: bool,
    /// `lvs_timeouts` were sent (once, whatever the answer).
    timeouts_done: bool,
    /// ... and taken: restore the saved ones at stop.
    timeouts_applied: bool,
    saved_timeouts: Option<Timeouts>,
    stopping: bool,
    leave_at_stop: bool,
    told_unavailable: bool,
    stats: LinkStats,
}

impl Link {
    /// A link for `cfg`'s global settings (`lvs_flush`, `lvs_timeouts`,
    /// `lvs_flush_on_stop`), about to resolve the family; sequence numbers
    /// start after `seq` (the caller's choice, e.g. from the clock, so a
    /// restarted picket does not take a predecessor's late answers for its
    /// own).
    pub fn new(cfg: &Config, seq: u32) -> Link {
        let g = &cfg.global;
        let t = Timeouts {
            tcp: g.lvs_timeout_tcp,
            tcp_fin: g.lvs_timeout_tcpfin,
            udp: g.lvs_timeout_udp,
        };
        Link {
            step: Step::Resolve,
            pending: None,
            inflight: [None; WINDOW],
            family: 0,
            seq,
            retry_at: None,
            flush_at_start: g.lvs_flush,
            flush_on_stop: g.lvs_flush_on_stop == LvsFlushOnStop::All,
            set_timeouts: (t != Timeouts::default()).then_some(t),
            flushed: false,
            timeouts_done: false,
            timeouts_applied: false,
            saved_timeouts: None,
            stopping: false,
            leave_at_stop: false,
            told_unavailable: false,
            stats: LinkStats::default(),
        }
    }

    /// The counters.
    pub const fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// Where the link is.
    pub fn state(&self) -> LinkState {
        match self.step {
            Step::Unavailable => LinkState::Unavailable,
            Step::Resolve
            | Step::Info
            | Step::Flush
            | Step::GetTimeouts
            | Step::SetTimeouts
            | Step::DumpServices
            | Step::DumpDests(_) => LinkState::Starting,
            Step::Sync => LinkState::Ready,
            Step::StopFlush | Step::StopSync | Step::RestoreTimeouts => LinkState::Stopping,
            Step::Stopped if self.pending.is_some() => LinkState::Stopping,
            Step::Stopped => LinkState::Stopped,
        }
    }

    /// Whether an exchange awaits its answer.
    pub const fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// The outstanding exchange: answers still awaited, and when it was
    /// sent or last answered in part (the watchdog's health gate counts
    /// that as the kernel's progress, like rtnetlink answers).
    pub fn awaiting(&self) -> Option<(u16, Instant)> {
        self.pending.map(|p| (p.left, p.progress))
    }

    /// The kernel's timeouts read at start (restored at stop).
    pub const fn saved_timeouts(&self) -> Option<Timeouts> {
        self.saved_timeouts
    }

    /// When [`Link::handle_timeout`] (an exchange unanswered) or
    /// [`Link::poll_transmit`] (a retry) has work.
    pub fn poll_at(&self) -> Option<Instant> {
        match self.pending {
            Some(p) => Some(p.deadline),
            None => self.retry_at,
        }
    }

    /// Asks again at once (the caller loaded the module, say).
    pub fn retry_now(&mut self, now: Instant) {
        if self.step == Step::Unavailable {
            self.retry_at = Some(now);
        }
    }

    /// Begins the stop: picket's services are removed (all at once with
    /// `lvs_flush_on_stop`; none with `leave`, keepalived's `-I`), then the
    /// timeouts restored. Drive the link on until [`LinkState::Stopped`].
    pub fn stop(&mut self, rec: &mut Reconciler, leave: bool) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        self.leave_at_stop = leave;
        match self.step {
            // Nothing was set up: nothing to undo (an answer on its way is
            // dropped as stray).
            Step::Unavailable | Step::Resolve | Step::Info => {
                self.step = Step::Stopped;
                self.pending = None;
                self.retry_at = None;
            }
            // A start-up exchange finishing goes to the stop; one not begun
            // goes now.
            _ if self.pending.is_none_or(|p| p.step == Step::Sync) => {
                self.step = self.stop_step(rec);
            }
            _ => {}
        }
    }

    fn stop_step(&mut self, rec: &mut Reconciler) -> Step {
        self.retry_at = None;
        if self.leave_at_stop {
            Step::RestoreTimeouts
        } else if self.flush_on_stop {
            Step::StopFlush
        } else {
            rec.stop();
            Step::StopSync
        }
    }

    /// Goes to `next` after a start-up step, or to the stop if one began.
    fn advance(&mut self, rec: &mut Reconciler, next: Step) {
        self.step = if self.stopping {
            self.stop_step(rec)
        } else {
            next
        };
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Writes the next datagram to send into `buf` (at least [`TX_BYTES`]
    /// for full batches) and returns its length; `None` when there is
    /// nothing to say now (an exchange is outstanding, the kernel is in
    /// sync, or a retry is not due).
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        rec: &mut Reconciler,
        buf: &mut [u8],
    ) -> Option<usize> {
        if self.pending.is_some() {
            return None;
        }
        loop {
            let step = self.step;
            let single = match step {
                Step::Unavailable => {
                    if !is_due(now, self.retry_at) {
                        return None;
                    }
                    self.retry_at = None;
                    self.step = Step::Resolve;
                    continue;
                }
                Step::Resolve => {
                    self.family = 0;
                    let seq = self.next_seq();
                    genetlink::emit_get_family(wire::GENL_NAME, seq, buf).ok()
                }
                Step::Info => self.emit(&Request::GetInfo, buf),
                Step::Flush if self.flush_at_start && !self.flushed => {
                    self.emit(&Request::Flush, buf)
                }
                Step::Flush => {
                    self.step = Step::GetTimeouts;
                    continue;
                }
                Step::GetTimeouts
                    if self.set_timeouts.is_some()
                        && !self.timeouts_done
                        && self.saved_timeouts.is_none() =>
                {
                    self.emit(&Request::GetTimeouts, buf)
                }
                Step::GetTimeouts => {
                    self.step = Step::SetTimeouts;
                    continue;
                }
                Step::SetTimeouts => match self.set_timeouts {
                    Some(t) if !self.timeouts_done => self.emit(&set_request(t), buf),
                    _ => {
                        self.step = Step::DumpServices;
                        continue;
                    }
                },
                Step::DumpServices => {
                    rec.forget_kernel();
                    self.emit(&Request::GetServices, buf)
                }
                Step::DumpDests(from) => {
                    let next = rec
                        .services()
                        .iter()
                        .enumerate()
                        .skip(usize::from(from))
                        .find(|(_, s)| s.kernel.is_some())
                        .map(|(i, s)| (u16::try_from(i).unwrap_or(u16::MAX), s.repr.key));
                    let Some((i, key)) = next else {
                        log_adopted(rec);
                        self.advance(rec, Step::Sync);
                        continue;
                    };
                    self.step = Step::DumpDests(i);
                    self.emit(&Request::GetDests(key), buf)
                }
                Step::Sync | Step::StopSync => {
                    if step == Step::Sync && is_due(now, self.retry_at) {
                        self.retry_at = None;
                        rec.retry();
                    }
                    match self.emit_batch(now, rec, buf) {
                        Some(n) => return Some(n),
                        None if step == Step::StopSync => {
                            self.step = Step::RestoreTimeouts;
                            continue;
                        }
                        None => return None,
                    }
                }
                Step::StopFlush => self.emit(&Request::Flush, buf),
                Step::RestoreTimeouts => match self.saved_timeouts {
                    Some(t) if self.timeouts_applied => self.emit(&set_request(t), buf),
                    _ => {
                        self.step = Step::Stopped;
                        continue;
                    }
                },
                Step::Stopped => return None,
            };
            let Some(n) = single else {
                // Only a buffer too small for one request gets here.
                log::error!("IPVS: the transmit buffer cannot hold a request");
                return None;
            };
            self.stats.requests += 1;
            self.stats.datagrams += 1;
            self.pending = Some(Pending {
                step: self.step,
                base: self.seq,
                count: 1,
                left: 1,
                deadline: now + REPLY_TIMEOUT,
                progress: now,
            });
            return Some(n);
        }
    }

    fn emit(&mut self, req: &Request<'_>, buf: &mut [u8]) -> Option<usize> {
        let seq = self.next_seq();
        req.emit(self.family, seq, buf).ok()
    }

    /// Up to [`WINDOW`] of the reconciler's ops in one datagram.
    fn emit_batch(&mut self, now: Instant, rec: &mut Reconciler, buf: &mut [u8]) -> Option<usize> {
        let base = self.seq.wrapping_add(1);
        let mut len = 0;
        let mut n: u16 = 0;
        while usize::from(n) < WINDOW && len + MAX_REQUEST_LEN <= buf.len() {
            let Some(op) = rec.poll_op() else { break };
            let seq = base.wrapping_add(u32::from(n));
            let emitted = rec
                .request(&op)
                .and_then(|req| req.emit(self.family, seq, buf.get_mut(len..)?).ok());
            match emitted {
                Some(m) => {
                    len += m;
                    if let Some(slot) = self.inflight.get_mut(usize::from(n)) {
                        *slot = Some(op);
                    }
                    n += 1;
                }
                None => {
                    log::error!("IPVS: cannot build the request to {}", rec.describe(op));
                    rec.handle_failed(op);
                }
            }
        }
        if n == 0 {
            return None;
        }
        self.seq = base.wrapping_add(u32::from(n) - 1);
        self.stats.requests += u64::from(n);
        self.stats.datagrams += 1;
        self.pending = Some(Pending {
            step: self.step,
            base,
            count: n,
            left: n,
            deadline: now + REPLY_TIMEOUT,
            progress: now,
        });
        Some(len)
    }

    /// The caller could not send the datagram [`Link::poll_transmit`] gave
    /// (`errno`): as if it went unanswered, at once.
    pub fn handle_send_failed(&mut self, now: Instant, rec: &mut Reconciler, errno: i32) {
        self.stats.send_failures += 1;
        if let Some(p) = self.pending.take() {
            log::error!("IPVS: cannot send: errno {errno}");
            self.give_up(now, rec, p);
        }
    }

    /// Runs at [`Link::poll_at`]: an exchange unanswered past its deadline
    /// is given up (see the module doc).
    pub fn handle_timeout(&mut self, now: Instant, rec: &mut Reconciler) {
        let Some(p) = self.pending else { return };
        if now < p.deadline {
            return;
        }
        self.pending = None;
        self.stats.timeouts += 1;
        log::error!(
            "IPVS: no answer from the kernel within {} s ({} of {} requests unanswered)",
            REPLY_TIMEOUT.secs(),
            p.left,
            p.count
        );
        self.give_up(now, rec, p);
    }

    fn give_up(&mut self, now: Instant, rec: &mut Reconciler, p: Pending) {
        match p.step {
            Step::Sync | Step::StopSync => {
                for slot in self.inflight.iter_mut() {
                    if let Some(op) = slot.take() {
                        rec.handle_failed(op);
                    }
                }
                if p.step == Step::Sync && !self.stopping {
                    self.retry_at = Some(now + RETRY_AFTER);
                }
            }
            Step::Resolve | Step::Info => self.restart_later(now),
            Step::RestoreTimeouts | Step::StopFlush => self.step = Step::Stopped,
            _ if self.stopping => self.step = self.stop_step(rec),
            _ => self.restart_later(now),
        }
    }

    /// A start-up step failed: from step 1 again after [`RETRY_AFTER`].
    fn restart_later(&mut self, now: Instant) {
        if self.stopping {
            self.step = Step::Stopped;
            return;
        }
        self.step = Step::Unavailable;
        self.retry_at = Some(now + RETRY_AFTER);
    }

    /// The family lookup found no IPVS.
    fn unavailable(&mut self, now: Instant, why: &str) {
        self.stats.unavailable += 1;
        if !self.told_unavailable {
            self.told_unavailable = true;
            log::error!(
                "IPVS unavailable: virtual servers are not programmed: {why}; \
                 health checks go on, and picket asks again every {} s",
                RETRY_AFTER.secs()
            );
        }
        self.restart_later(now);
    }

    /// Takes one datagram received on the socket.
    pub fn handle_datagram(&mut self, now: Instant, rec: &mut Reconciler, bytes: &[u8]) {
        for msg in Messages::new(bytes) {
            let Ok(msg) = msg else {
                self.stats.malformed += 1;
                break;
            };
            let Some(p) = self.pending else {
                self.stats.stray += 1;
                continue;
            };
            let offset = msg.sequence().wrapping_sub(p.base);
            if offset >= u32::from(p.count) {
                self.stats.stray += 1;
                continue;
            }
            match Control::parse(&msg) {
                Ok(c) => self.on_reply(now, rec, p, offset as usize, c),
                Err(_) => self.stats.malformed += 1,
            }
            // The kernel answers: the wait for the rest starts again.
            if let Some(q) = self.pending.as_mut() {
                q.progress = now;
            }
        }
    }

    fn on_reply(
        &mut self,
        now: Instant,
        rec: &mut Reconciler,
        p: Pending,
        offset: usize,
        c: Control<'_>,
    ) {
        match (p.step, c) {
            (Step::Sync | Step::StopSync, Control::Error(e)) => {
                let Some(op) = self.inflight.get_mut(offset).and_then(Option::take) else {
                    self.stats.stray += 1;
                    return;
                };
                if let Some(errno) = e.errno() {
                    self.refused(rec, op, errno);
                }
                let left = p.left.saturating_sub(1);
                self.pending = (left > 0).then_some(Pending { left, ..p });
            }
            (Step::Sync | Step::StopSync, _) => self.stats.stray += 1,
            (Step::Resolve, Control::Data(repr, payload)) => {
                if repr.message_type != GENL_ID_CTRL {
                    self.stats.stray += 1;
                    return;
                }
                match FamilyRepr::parse(payload) {
                    Ok(Some(f)) if f.name == wire::GENL_NAME.as_bytes() => self.family = f.id,
                    Ok(_) => self.stats.stray += 1,
                    Err(_) => self.stats.malformed += 1,
                }
            }
            (Step::Resolve, Control::Error(e)) => {
                self.pending = None;
                match e.errno() {
                    None if self.family != 0 => {
                        if self.told_unavailable {
                            log::info!("IPVS is available now: programming the virtual servers");
                        }
                        self.advance(rec, Step::Info);
                    }
                    None | Some(ENOENT) => self.unavailable(
                        now,
                        "the kernel has no IPVS (no generic netlink family \"IPVS\")",
                    ),
                    Some(errno) => {
                        log::error!("IPVS: family lookup refused: errno {errno}");
                        self.unavailable(now, "the family lookup was refused");
                    }
                }
            }
            // Answered by data, not by an ack (none was asked for).
            (Step::Info | Step::GetTimeouts, Control::Error(e)) if e.is_ack() => {
                self.stats.stray += 1;
            }
            (
                Step::Info | Step::GetTimeouts | Step::DumpServices | Step::DumpDests(_),
                Control::Data(repr, _),
            ) if repr.message_type != self.family => self.stats.stray += 1,
            (Step::Info, Control::Data(_, payload)) => {
                self.pending = None;
                match Reply::parse(payload, 0) {
                    Ok(Reply::Info {
                        version,
                        conn_tab_size,
                    }) => log::info!(
                        "IPVS {}.{}.{} (connection table {conn_tab_size})",
                        version >> 16,
                        (version >> 8) & 0xff,
                        version & 0xff
                    ),
                    _ => self.stats.malformed += 1,
                }
                self.advance(rec, Step::Flush);
            }
            (Step::GetTimeouts, Control::Data(_, payload)) => {
                self.pending = None;
                match Reply::parse(payload, 0) {
                    Ok(Reply::Timeouts { tcp, tcp_fin, udp }) => {
                        self.saved_timeouts = Some(Timeouts { tcp, tcp_fin, udp });
                    }
                    _ => {
                        self.stats.malformed += 1;
                        log::warn!(
                            "IPVS: the kernel's timeouts cannot be read; they are not restored at stop"
                        );
                    }
                }
                self.advance(rec, Step::SetTimeouts);
            }
            (Step::DumpServices, Control::Data(_, payload)) => match Reply::parse(payload, 0) {
                Ok(Reply::Service(s)) => {
                    let _ = rec.handle_dumped_service(&s);
                }
                Ok(_) => self.stats.stray += 1,
                Err(e) => {
                    self.stats.malformed += 1;
                    log::warn!("IPVS service dump: {e}");
                }
            },
            (Step::DumpDests(i), Control::Data(_, payload)) => {
                let af = rec
                    .services()
                    .get(usize::from(i))
                    .map_or(0, |s| s.repr.key.family());
                match Reply::parse(payload, af) {
                    Ok(Reply::Dest(d)) => {
                        let _ = rec.handle_dumped_dest(i, &d);
                    }
                    Ok(_) => self.stats.stray += 1,
                    Err(e) => {
                        self.stats.malformed += 1;
                        log::warn!("IPVS destination dump: {e}");
                    }
                }
            }
            (Step::DumpServices, Control::Done) => {
                self.pending = None;
                self.advance(rec, Step::DumpDests(0));
            }
            (Step::DumpDests(i), Control::Done) => {
                self.pending = None;
                self.advance(rec, Step::DumpDests(i.saturating_add(1)));
            }
            (step, Control::Error(e)) => {
                self.pending = None;
                self.on_ack(now, rec, step, e.errno());
            }
            (_, Control::Other(_)) => {}
            (_, Control::Done | Control::Data(..)) => self.stats.stray += 1,
        }
    }

    /// The ack (`None`) or refusal of a single request.
    fn on_ack(&mut self, now: Instant, rec: &mut Reconciler, step: Step, errno: Option<i32>) {
        if let Some(errno) = errno {
            self.stats.refused += 1;
            log::error!("IPVS: {} refused: errno {errno}", step_name(step));
        }
        match step {
            Step::Flush => {
                self.flushed = true;
                if errno.is_none() {
                    rec.handle_flushed();
                }
                self.advance(rec, Step::GetTimeouts);
            }
            Step::GetTimeouts => {
                log::warn!(
                    "IPVS: the kernel's timeouts cannot be read; they are not restored at stop"
                );
                self.advance(rec, Step::SetTimeouts);
            }
            Step::SetTimeouts => {
                self.timeouts_done = true;
                self.timeouts_applied = errno.is_none();
                if let Some(t) = self.set_timeouts.filter(|_| errno.is_none()) {
                    log::info!(
                        "IPVS timeouts set: tcp {} tcpfin {} udp {} (0: unchanged)",
                        t.tcp,
                        t.tcp_fin,
                        t.udp
                    );
                }
                self.advance(rec, Step::DumpServices);
            }
            Step::StopFlush => {
                if errno.is_none() {
                    rec.handle_flushed();
                    rec.stop();
                }
                self.step = Step::RestoreTimeouts;
            }
            Step::RestoreTimeouts => {
                if let Some(t) = self.saved_timeouts.filter(|_| errno.is_none()) {
                    log::info!(
                        "IPVS timeouts restored: tcp {} tcpfin {} udp {}",
                        t.tcp,
                        t.tcp_fin,
                        t.udp
                    );
                }
                self.step = Step::Stopped;
            }
            // A dump or a read refused: start-up from the beginning.
            Step::Info | Step::DumpServices | Step::DumpDests(_) => {
                if self.stopping {
                    self.step = self.stop_step(rec);
                } else {
                    self.restart_later(now);
                }
            }
            Step::Unavailable | Step::Resolve | Step::Sync | Step::StopSync | Step::Stopped => {}
        }
    }

    /// The kernel refused `op`: logged with what it was and why, and handed
    /// back to the reconciler — unless it was already so.
    fn refused(&mut self, rec: &mut Reconciler, op: Op, errno: i32) {
        let benign = matches!(
            (op, errno),
            (Op::NewService(_) | Op::NewDest(_), EEXIST)
                | (
                    Op::DelService(_) | Op::DelDest(_) | Op::DelStale { .. },
                    ESRCH | ENOENT
                )
        );
        if benign {
            log::debug!("IPVS: {}: errno {errno} (already so)", rec.describe(op));
            return;
        }
        self.stats.refused += 1;
        log::error!("IPVS: cannot {}: errno {errno}", rec.describe(op));
        rec.handle_failed(op);
    }
}

fn set_request(t: Timeouts) -> Request<'static> {
    Request::SetTimeouts {
        tcp: t.tcp,
        tcp_fin: t.tcp_fin,
        udp: t.udp,
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Unavailable | Step::Resolve => "family lookup",
        Step::Info => "GET_INFO",
        Step::Flush | Step::StopFlush => "flush",
        Step::GetTimeouts => "reading the timeouts",
        Step::SetTimeouts => "setting the timeouts",
        Step::RestoreTimeouts => "restoring the timeouts",
        Step::DumpServices => "service dump",
        Step::DumpDests(_) => "destination dump",
        Step::Sync | Step::StopSync | Step::Stopped => "request",
    }
}

fn log_adopted(rec: &Reconciler) {
    let st = rec.stats();
    log::info!(
        "IPVS: found {} of picket's services and {} destinations in the kernel \
         ({} other services left alone, {} unconfigured destinations to remove)",
        st.services_adopted,
        st.dests_adopted,
        st.services_foreign,
        st.dests_stale
    );
}

#[cfg(test)]
mod tests;
