//! The binary's side of IPVS: a `NETLINK_GENERIC` socket, the family
//! lookup, the dumps that let a restarted picket adopt what is in the
//! kernel, and the batches of requests the [`Reconciler`] asks for.
//!
//! Requests go out [`WINDOW`] at a time in one `send` (netlink processes the
//! messages of one datagram in order); every one asks for an ack, and the
//! next batch waits for the acks of this one, so the socket's receive buffer
//! never overflows. A refusal is logged naming the service or destination
//! and the errno, and handed back to the reconciler (retried on its next
//! pass). Adding what exists (`EEXIST`) and removing what is gone
//! (`ESRCH`, `ENOENT`) count as done, as keepalived's `ipvs_talk`.
//!
//! Each exchange waits at most [`REPLY_TIMEOUT`] for the kernel (polling the
//! one socket): IPVS answers in microseconds, so only a broken kernel hits
//! it. Nothing here allocates after [`IpvsSync::open`]: the buffers are
//! boxed once.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use picket::config::Config;
use picket::config::global::LvsFlushOnStop;
use picket::ipvs::{Op, Reconciler};
use picket::wire::genetlink::{self, FamilyRepr};
use picket::wire::ipvs::{self as wire, Reply, Request};
use picket::wire::netlink::{self as nl, Control, Messages};

use crate::sys::clock;
use crate::sys::net::NetlinkSocket;

/// Requests per batch (one `send`).
pub const WINDOW: usize = 128;
/// Bytes of the send buffer: a full batch of the longest requests.
const TX_BYTES: usize = WINDOW * wire::MAX_REQUEST_LEN;
/// Bytes of the receive buffer (a dump datagram is at most a page or two).
const RX_BYTES: usize = 64 * 1024;
/// Receive buffer asked of the kernel: room for a batch of acks.
const SOCKET_RCVBUF: usize = 1 << 20;
/// Longest wait for one reply.
pub const REPLY_TIMEOUT: picket::time::Duration = picket::time::Duration::from_secs(5);

/// Counters of the IPVS link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Requests sent (ops, dumps, lookups).
    pub requests: u64,
    /// Datagrams sent (`send` calls).
    pub datagrams: u64,
    /// Requests the kernel refused.
    pub refused: u64,
    /// Replies that could not be parsed, or came for no request.
    pub malformed: u64,
    /// Exchanges that ran out of time.
    pub timeouts: u64,
}

/// Why IPVS cannot be used.
#[derive(Debug)]
pub enum SyncError {
    /// A system call failed.
    Sys(&'static str, Errno),
    /// The kernel has no IPVS family (module not loaded), after `modprobe`.
    NoIpvs,
    /// The kernel did not answer in time.
    Timeout(&'static str),
    /// The kernel refused a start-up request.
    Refused(&'static str, Errno),
    /// The configuration's table cannot be built.
    Build(picket::ipvs::BuildError),
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Sys(what, e) => write!(f, "IPVS {what}: {e}"),
            SyncError::NoIpvs => f.write_str(
                "the kernel has no IPVS (generic netlink family \"IPVS\" not found, even after modprobe ip_vs)",
            ),
            SyncError::Timeout(what) => write!(f, "IPVS {what}: no answer from the kernel"),
            SyncError::Refused(what, e) => write!(f, "IPVS {what}: refused: {e}"),
            SyncError::Build(e) => write!(f, "IPVS table: {e}"),
        }
    }
}

/// What an exchange waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// `NLMSG_DONE` of a dump.
    Done,
    /// The ack (or error) of the request.
    Ack,
    /// One data reply (`GET_INFO`, `GETFAMILY` also acks).
    Reply,
}

/// The IPVS link and table.
pub struct IpvsSync {
    sock: NetlinkSocket,
    family: u16,
    rec: Box<Reconciler>,
    /// The next configuration's table, built by a reload (allocated once,
    /// at start-up: a reload allocates nothing).
    spare: Box<Reconciler>,
    tx: Box<[u8; TX_BYTES]>,
    rx: Box<[u8; RX_BYTES]>,
    seq: u32,
    inflight: [Option<Op>; WINDOW],
    stats: SyncStats,
    dont_release: bool,
}

impl IpvsSync {
    /// Opens the socket, builds the table of `cfg` and resolves the IPVS
    /// family (running `modprobe ip_vs` once if the kernel lacks it, as
    /// keepalived). Start-up only: may allocate.
    pub fn open(cfg: &Config, dont_release: bool) -> Result<Self, SyncError> {
        let rec = Box::new(Reconciler::new(cfg).map_err(SyncError::Build)?);
        let spare = rec.clone();
        let sock = NetlinkSocket::open_generic(SOCKET_RCVBUF)
            .map_err(|e| SyncError::Sys("generic netlink socket", e))?;
        let mut s = IpvsSync {
            sock,
            family: 0,
            rec,
            spare,
            tx: Box::new([0; TX_BYTES]),
            rx: Box::new([0; RX_BYTES]),
            seq: 1,
            inflight: [None; WINDOW],
            stats: SyncStats::default(),
            dont_release,
        };
        match s.resolve_family() {
            Ok(id) => s.family = id,
            Err(SyncError::NoIpvs) => {
                log::info!("IPVS: no IPVS family in the kernel; running modprobe ip_vs");
                let _ = std::process::Command::new("modprobe")
                    .args(["-s", "--", "ip_vs"])
                    .status();
                s.family = s.resolve_family()?;
            }
            Err(e) => return Err(e),
        }
        Ok(s)
    }

    /// Leave the services in the kernel at stop (`-I`).
    pub fn set_dont_release(&mut self, leave: bool) {
        self.dont_release = leave;
    }

    /// The counters.
    pub const fn stats(&self) -> &SyncStats {
        &self.stats
    }

    /// The reconciler (its slots and counters).
    pub fn reconciler(&self) -> &Reconciler {
        &self.rec
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16, SyncError> {
        let seq = self.next_seq();
        let n = genetlink::emit_get_family(wire::GENL_NAME, seq, &mut self.tx[..])
            .map_err(|_| SyncError::Sys("family request", Errno::EINVAL))?;
        self.send(n)?;
        let mut id = None;
        let r = self.exchange(seq, Until::Ack, "family lookup", |_, repr, payload| {
            if repr.message_type == genetlink::GENL_ID_CTRL
                && let Ok(Some(f)) = FamilyRepr::parse(payload)
                && f.name == wire::GENL_NAME.as_bytes()
            {
                id = Some(f.id);
            }
        });
        match (r, id) {
            (Ok(()), Some(id)) => Ok(id),
            (Ok(()), None) | (Err(SyncError::Refused(_, Errno::ENOENT)), _) => {
                Err(SyncError::NoIpvs)
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Start-up: logs the IPVS version, flushes (`lvs_flush`), sets the
    /// timeouts (`lvs_timeouts`), dumps the kernel's table, then sends what
    /// differs from the configuration (every real server in at its weight).
    pub fn start(&mut self, cfg: &Config) -> Result<(), SyncError> {
        let seq = self.next_seq();
        self.emit_one(&Request::GetInfo, seq)?;
        let mut info = None;
        self.exchange(seq, Until::Reply, "info", |family, repr, payload| {
            if repr.message_type == family
                && let Ok(Reply::Info {
                    version,
                    conn_tab_size,
                }) = Reply::parse(payload, 0)
            {
                info = Some((version, conn_tab_size));
            }
        })?;
        if let Some((v, size)) = info {
            log::info!(
                "IPVS {}.{}.{} (connection table {size})",
                v >> 16,
                (v >> 8) & 0xff,
                v & 0xff
            );
        }
        let g = &cfg.global;
        if g.lvs_flush {
            self.simple(&Request::Flush, "flush")?;
            self.rec.handle_flushed();
        }
        if g.lvs_timeout_tcp != 0 || g.lvs_timeout_tcpfin != 0 || g.lvs_timeout_udp != 0 {
            self.simple(
                &Request::SetTimeouts {
                    tcp: g.lvs_timeout_tcp,
                    tcp_fin: g.lvs_timeout_tcpfin,
                    udp: g.lvs_timeout_udp,
                },
                "timeouts",
            )?;
        }
        self.resync()?;
        let st = *self.rec.stats();
        log::info!(
            "IPVS: found {} of picket's services and {} destinations in the kernel \
             ({} other services left alone, {} unconfigured destinations to remove)",
            st.services_adopted,
            st.dests_adopted,
            st.services_foreign,
            st.dests_stale
        );
        self.sync();
        Ok(())
    }

    /// Forgets the kernel's table and dumps it again.
    pub fn resync(&mut self) -> Result<(), SyncError> {
        self.rec.forget_kernel();
        let seq = self.next_seq();
        self.emit_one(&Request::GetServices, seq)?;
        self.exchange_with(
            seq,
            Until::Done,
            "service dump",
            |family, repr, payload, rec, stats| {
                if repr.message_type != family {
                    return;
                }
                match Reply::parse(payload, 0) {
                    Ok(Reply::Service(s)) => {
                        let _ = rec.handle_dumped_service(&s);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        stats.malformed += 1;
                        log::warn!("IPVS service dump: {e}");
                    }
                }
            },
        )?;
        for i in 0..self.rec.services().len() {
            let Some(slot) = self.rec.services().get(i) else {
                break;
            };
            if slot.kernel.is_none() {
                continue;
            }
            let key = slot.repr.key;
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            let seq = self.next_seq();
            self.emit_one(&Request::GetDests(key), seq)?;
            self.exchange_with(
                seq,
                Until::Done,
                "destination dump",
                |family, repr, payload, rec, stats| {
                    if repr.message_type != family {
                        return;
                    }
                    match Reply::parse(payload, key.family()) {
                        Ok(Reply::Dest(d)) => {
                            let _ = rec.handle_dumped_dest(index, &d);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            stats.malformed += 1;
                            log::warn!("IPVS destination dump of {key}: {e}");
                        }
                    }
                },
            )?;
        }
        Ok(())
    }

    /// Reload, first half: builds the table of the new configuration in
    /// the spare (no allocation); an error leaves everything as it was.
    pub fn prepare_reload(&mut self, cfg: &Config) -> Result<(), picket::ipvs::BuildError> {
        *self.spare = Reconciler::new(cfg)?;
        Ok(())
    }

    /// Reload, second half: the prepared table takes over what the
    /// running one knows of the kernel and becomes the running one; only
    /// the differences are sent (unchanged virtual and real servers keep
    /// their entries untouched). Returns the requests sent.
    pub fn commit_reload(&mut self) -> u64 {
        self.spare.adopt_kernel(&self.rec);
        core::mem::swap(&mut self.rec, &mut self.spare);
        self.sync()
    }

    /// Sets what the checkers want (see [`Reconciler::set_desired`]) and
    /// sends the differences.
    #[allow(dead_code)] // The checkers' seam: called once they are wired.
    pub fn update(
        &mut self,
        cfg: &Config,
        rs_weight: impl Fn(usize) -> Option<u32>,
        sorry_active: impl Fn(usize) -> bool,
    ) {
        self.rec.set_desired(cfg, rs_weight, sorry_active);
        self.sync();
    }

    /// Sends every op the reconciler has, in batches, checking each ack.
    /// Returns the number of requests sent.
    pub fn sync(&mut self) -> u64 {
        let before = self.stats.requests;
        loop {
            let base = self.seq.wrapping_add(1);
            let mut len = 0;
            let mut n = 0;
            while n < WINDOW && len + wire::MAX_REQUEST_LEN <= TX_BYTES {
                let Some(op) = self.rec.poll_op() else { break };
                let seq = base.wrapping_add(n as u32);
                let emitted = self
                    .rec
                    .request(&op)
                    .map(|req| req.emit(self.family, seq, &mut self.tx[len..]));
                match emitted {
                    Some(Ok(m)) => {
                        len += m;
                        self.inflight[n] = Some(op);
                        n += 1;
                    }
                    _ => {
                        log::error!(
                            "IPVS: cannot build the request to {}",
                            self.rec.describe(op)
                        );
                        self.rec.handle_failed(op);
                    }
                }
            }
            if n == 0 {
                break;
            }
            self.seq = base.wrapping_add(n as u32 - 1);
            self.stats.requests += n as u64;
            if let Err(e) = self.send(len) {
                log::error!("{e}");
                self.fail_inflight();
                break;
            }
            if !self.wait_acks(base, n) {
                break;
            }
        }
        self.stats.requests - before
    }

    /// Waits for the acks of the `n` requests from sequence `base`.
    fn wait_acks(&mut self, base: u32, n: usize) -> bool {
        let mut pending = n;
        let deadline = clock::now() + REPLY_TIMEOUT;
        while pending > 0 {
            let len = match self.recv(deadline) {
                Ok(len) => len,
                Err(e) => {
                    log::error!("IPVS: {e} ({pending} acks missing)");
                    self.fail_inflight();
                    return false;
                }
            };
            for msg in Messages::new(&self.rx[..len]) {
                let Ok(msg) = msg else {
                    self.stats.malformed += 1;
                    break;
                };
                let Ok(Control::Error(e)) = Control::parse(&msg) else {
                    self.stats.malformed += 1;
                    continue;
                };
                let i = e.request.sequence.wrapping_sub(base) as usize;
                let Some(op) = self.inflight.get_mut(i).and_then(Option::take) else {
                    self.stats.malformed += 1;
                    continue;
                };
                pending -= 1;
                if let Some(errno) = e.errno() {
                    refused(&mut self.rec, &mut self.stats, op, Errno::from_raw(errno));
                }
            }
        }
        true
    }

    fn fail_inflight(&mut self) {
        for i in 0..WINDOW {
            if let Some(op) = self.inflight.get_mut(i).and_then(Option::take) {
                self.rec.handle_failed(op);
            }
        }
    }

    /// Stop: removes picket's services (one `FLUSH` with
    /// `lvs_flush_on_stop`), unless told to leave them (`-I`).
    pub fn stop(&mut self, cfg: &Config) {
        if self.dont_release {
            log::info!("IPVS: leaving the services in the kernel (--dont-release-ipvs)");
            return;
        }
        if cfg.global.lvs_flush_on_stop == LvsFlushOnStop::All {
            if let Err(e) = self.simple(&Request::Flush, "flush") {
                log::error!("{e}");
            }
            self.rec.handle_flushed();
            self.rec.stop();
            return;
        }
        self.rec.stop();
        let n = self.sync();
        log::info!("IPVS: removed picket's services ({n} requests)");
    }

    /// Reads whatever the socket holds outside an exchange (late answers).
    pub fn drain(&mut self) {
        loop {
            match self.sock.recv(&mut self.rx[..]) {
                Ok(_) => self.stats.malformed += 1,
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(_)) => return,
            }
        }
    }

    /// Sends one request and waits for its ack; a refusal is an error.
    fn simple(&mut self, req: &Request<'_>, what: &'static str) -> Result<(), SyncError> {
        let seq = self.next_seq();
        self.emit_one(req, seq)?;
        self.exchange(seq, Until::Ack, what, |_, _, _| {})
    }

    fn emit_one(&mut self, req: &Request<'_>, seq: u32) -> Result<(), SyncError> {
        let n = req
            .emit(self.family, seq, &mut self.tx[..])
            .map_err(|_| SyncError::Sys("request", Errno::EINVAL))?;
        self.stats.requests += 1;
        self.send(n)
    }

    fn send(&mut self, len: usize) -> Result<(), SyncError> {
        self.stats.datagrams += 1;
        self.sock
            .send(&self.tx[..len])
            .map_err(|e| SyncError::Sys("send", e))
    }

    fn recv(&mut self, deadline: picket::time::Instant) -> Result<usize, SyncError> {
        loop {
            match self.sock.recv(&mut self.rx[..]) {
                Ok(n) if n > RX_BYTES => {
                    self.stats.malformed += 1;
                    return Err(SyncError::Sys("receive", Errno::EMSGSIZE));
                }
                Ok(n) => return Ok(n),
                Err(nb::Error::Other(e)) => return Err(SyncError::Sys("receive", e)),
                Err(nb::Error::WouldBlock) => {}
            }
            let now = clock::now();
            if now >= deadline {
                self.stats.timeouts += 1;
                return Err(SyncError::Timeout("reply"));
            }
            let ms = (deadline - now).total_millis().clamp(1, 1000) as u16;
            let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(SyncError::Sys("poll", e)),
            }
        }
    }

    fn exchange(
        &mut self,
        seq: u32,
        until: Until,
        what: &'static str,
        mut on_data: impl FnMut(u16, nl::Repr, &[u8]),
    ) -> Result<(), SyncError> {
        self.exchange_with(seq, until, what, |f, r, p, _, _| on_data(f, r, p))
    }

    /// Reads the replies to request `seq` until `until`, handing each data
    /// message to `on_data(family, header, payload, reconciler, stats)`.
    fn exchange_with(
        &mut self,
        seq: u32,
        until: Until,
        what: &'static str,
        mut on_data: impl FnMut(u16, nl::Repr, &[u8], &mut Reconciler, &mut SyncStats),
    ) -> Result<(), SyncError> {
        let deadline = clock::now() + REPLY_TIMEOUT;
        loop {
            let len = self.recv(deadline).map_err(|e| match e {
                SyncError::Timeout(_) => SyncError::Timeout(what),
                e => e,
            })?;
            let mut finished = false;
            for msg in Messages::new(&self.rx[..len]) {
                let Ok(msg) = msg else {
                    self.stats.malformed += 1;
                    break;
                };
                if msg.sequence() != seq {
                    self.stats.malformed += 1;
                    continue;
                }
                match Control::parse(&msg) {
                    Ok(Control::Error(e)) => {
                        if let Some(errno) = e.errno() {
                            self.stats.refused += 1;
                            return Err(SyncError::Refused(what, Errno::from_raw(errno)));
                        }
                        if until == Until::Ack {
                            finished = true;
                        }
                    }
                    Ok(Control::Done) => finished = true,
                    Ok(Control::Data(repr, payload)) => {
                        on_data(self.family, repr, payload, &mut self.rec, &mut self.stats);
                        if until == Until::Reply {
                            finished = true;
                        }
                    }
                    Ok(Control::Other(_)) => {}
                    Err(_) => self.stats.malformed += 1,
                }
            }
            if finished {
                return Ok(());
            }
        }
    }
}

/// The kernel refused `op`: logged with what it was and why, and handed
/// back to the reconciler — unless it was already so.
fn refused(rec: &mut Reconciler, stats: &mut SyncStats, op: Op, errno: Errno) {
    let benign = matches!(
        (op, errno),
        (Op::NewService(_) | Op::NewDest(_), Errno::EEXIST)
            | (
                Op::DelService(_) | Op::DelDest(_) | Op::DelStale { .. },
                Errno::ESRCH | Errno::ENOENT
            )
    );
    if benign {
        log::debug!("IPVS: {}: {errno} (already so)", rec.describe(op));
        return;
    }
    stats.refused += 1;
    log::error!("IPVS: cannot {}: {errno}", rec.describe(op));
    rec.handle_failed(op);
}

impl AsFd for IpvsSync {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}
