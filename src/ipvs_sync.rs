//! The binary's side of IPVS: a `NETLINK_GENERIC` socket (poll token 5)
//! carrying what [`picket::ipvs::link::Link`] says and hears, and the
//! [`Reconciler`] whose ops it sends.
//!
//! In the loop nothing waits: [`IpvsSync::pump`] sends the next datagram
//! (when no exchange is outstanding), [`IpvsSync::drain`] reads the answers
//! when the socket is readable, and the link's deadline
//! ([`IpvsSync::poll_at`]) joins the loop's sleep — an unanswered exchange
//! is timed out and retried there. Before the loop ([`IpvsSync::start`])
//! and after it ([`IpvsSync::finish`]) the same link is driven to rest by
//! waiting on the one socket: start-up programs the table before the first
//! turn (as keepalived does before its scheduler runs), the stop removes
//! picket's services and restores the timeouts before the process exits.
//!
//! Without IPVS in the kernel (after one `modprobe ip_vs` at start, as
//! keepalived) the link logs it once and asks again every few seconds; the
//! daemon runs on. Nothing here allocates after [`IpvsSync::open`]: the
//! buffers and the reload's spare table are boxed once.
//!
//! A reload builds the next table in the spare ([`IpvsSync::prepare_reload`])
//! and hands it over ([`IpvsSync::commit_reload`]); the swap itself waits
//! while a batch of the running table is unanswered (its acks and refusals
//! concern that table's slots), so until then the checkers' view goes to
//! the spare, and the pump swaps before it sends anything more.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use picket::config::Config;
use picket::ipvs::Reconciler;
use picket::ipvs::link::{Link, LinkState, LinkStats, REPLY_TIMEOUT, TX_BYTES};
use picket::time::{Duration, Instant};

use crate::sys::clock;
use crate::sys::net::NetlinkSocket;

/// Bytes of the receive buffer (a dump datagram is at most a page or two).
const RX_BYTES: usize = 64 * 1024;
/// Receive buffer asked of the kernel: room for a batch of acks.
const SOCKET_RCVBUF: usize = 1 << 20;
/// Longest the start-up or the stop waits for the kernel in all.
const DRIVE_LIMIT: Duration = Duration::from_secs(3 * REPLY_TIMEOUT.secs());

/// Why IPVS cannot be used at all.
#[derive(Debug)]
pub enum SyncError {
    /// A system call failed.
    Sys(&'static str, Errno),
    /// The configuration's table cannot be built.
    Build(picket::ipvs::BuildError),
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Sys(what, e) => write!(f, "IPVS {what}: {e}"),
            SyncError::Build(e) => write!(f, "IPVS table: {e}"),
        }
    }
}

/// The IPVS socket, link and table.
pub struct IpvsSync {
    sock: NetlinkSocket,
    link: Link,
    rec: Box<Reconciler>,
    /// The next configuration's table, built by a reload (allocated once,
    /// at start-up: a reload allocates nothing).
    spare: Box<Reconciler>,
    /// The spare holds a committed reload waiting for the swap.
    swap_pending: bool,
    tx: Box<[u8; TX_BYTES]>,
    rx: Box<[u8; RX_BYTES]>,
    /// Receive errors (`ENOBUFS`: answers lost; their exchange times out).
    recv_errors: u64,
    dont_release: bool,
}

impl IpvsSync {
    /// Opens the socket and builds the table of `cfg`; runs `modprobe
    /// ip_vs` once if the kernel shows no IPVS (`/proc/net/ip_vs`), as
    /// keepalived. Start-up only: may allocate.
    pub fn open(cfg: &Config, dont_release: bool) -> Result<Self, SyncError> {
        let rec = Box::new(Reconciler::new(cfg).map_err(SyncError::Build)?);
        let spare = rec.clone();
        if std::fs::metadata("/proc/net/ip_vs").is_err() {
            log::info!("IPVS: not in the kernel; running modprobe ip_vs");
            let _ = std::process::Command::new("modprobe")
                .args(["-s", "--", "ip_vs"])
                .status();
        }
        let sock = NetlinkSocket::open_generic(SOCKET_RCVBUF)
            .map_err(|e| SyncError::Sys("generic netlink socket", e))?;
        // Sequence numbers of this run: a predecessor's late answers are not
        // taken for ours.
        let seed = (std::process::id() << 16) ^ (clock::now().total_micros() as u32);
        Ok(IpvsSync {
            sock,
            link: Link::new(cfg, seed),
            rec,
            spare,
            swap_pending: false,
            tx: Box::new([0; TX_BYTES]),
            rx: Box::new([0; RX_BYTES]),
            recv_errors: 0,
            dont_release,
        })
    }

    /// Leave the services in the kernel at stop (`-I`).
    pub fn set_dont_release(&mut self, leave: bool) {
        self.dont_release = leave;
    }

    /// The link's counters.
    pub const fn stats(&self) -> &LinkStats {
        self.link.stats()
    }

    /// Receive errors.
    pub const fn recv_errors(&self) -> u64 {
        self.recv_errors
    }

    /// Where the link is.
    pub fn state(&self) -> LinkState {
        self.link.state()
    }

    /// The reconciler (its slots and counters).
    pub fn reconciler(&self) -> &Reconciler {
        &self.rec
    }

    /// The outstanding exchange (see [`Link::awaiting`]).
    pub fn awaiting(&self) -> Option<(u16, Instant)> {
        self.link.awaiting()
    }

    /// When [`IpvsSync::pump`] has work.
    pub fn poll_at(&self) -> Option<Instant> {
        self.link.poll_at()
    }

    /// Sets what the checkers want (see [`Reconciler::set_desired`]); the
    /// differences go out with the next [`IpvsSync::pump`]. Ignored once
    /// stopping. After a reload `cfg` is the new configuration: while the
    /// swap waits, the spare (its table) takes it.
    pub fn update(
        &mut self,
        cfg: &Config,
        rs_weight: impl Fn(usize) -> Option<u32>,
        sorry_active: impl Fn(usize) -> bool,
    ) {
        if matches!(self.link.state(), LinkState::Stopping | LinkState::Stopped) {
            return;
        }
        let table = if self.swap_pending {
            &mut self.spare
        } else {
            &mut self.rec
        };
        table.set_desired(cfg, rs_weight, sorry_active);
    }

    /// Reload, first half: builds the table of the new configuration in
    /// the spare (no allocation); an error leaves everything as it was. A
    /// reload committed but not yet swapped in is replaced (its table was
    /// never used).
    pub fn prepare_reload(&mut self, cfg: &Config) -> Result<(), picket::ipvs::BuildError> {
        if self.swap_pending {
            // The running table has not changed since that reload: the new
            // one adopts from it just the same.
            self.swap_pending = false;
        }
        *self.spare = Reconciler::new(cfg)?;
        Ok(())
    }

    /// Reload, second half: the prepared table gets what the checkers want
    /// of the new configuration `cfg` (before anything of it can go out),
    /// takes over what the running one knows of the kernel and becomes the
    /// running one — at once, or as soon as the batch in flight is
    /// answered; only the differences are sent (unchanged virtual and real
    /// servers keep their entries untouched). Never waits.
    pub fn commit_reload(
        &mut self,
        now: Instant,
        cfg: &Config,
        rs_weight: impl Fn(usize) -> Option<u32>,
        sorry_active: impl Fn(usize) -> bool,
    ) {
        self.spare.set_desired(cfg, rs_weight, sorry_active);
        self.swap_pending = true;
        self.pump(now);
    }

    /// Swaps a committed reload in when nothing is in flight and the
    /// start-up dumps are over (they fill the running table slot by slot).
    fn swap_if_idle(&mut self) {
        if self.swap_pending
            && !self.link.is_waiting()
            && matches!(self.link.state(), LinkState::Ready | LinkState::Unavailable)
        {
            self.swap_pending = false;
            self.spare.adopt_kernel(&self.rec);
            core::mem::swap(&mut self.rec, &mut self.spare);
        }
    }

    /// Gives up an exchange past its deadline, then sends the next datagram
    /// if the link has one. Never waits.
    pub fn pump(&mut self, now: Instant) {
        self.link.handle_timeout(now, &mut self.rec);
        self.swap_if_idle();
        while let Some(n) = self
            .link
            .poll_transmit(now, &mut self.rec, &mut self.tx[..])
        {
            let sent = self
                .tx
                .get(..n)
                .map_or(Err(Errno::EINVAL), |b| self.sock.send(b));
            if let Err(e) = sent {
                self.link.handle_send_failed(now, &mut self.rec, e as i32);
            }
        }
    }

    /// Reads every datagram the socket holds, then sends what follows.
    pub fn drain(&mut self, now: Instant) {
        self.receive(now);
        self.pump(now);
    }

    fn receive(&mut self, now: Instant) {
        loop {
            match self.sock.recv(&mut self.rx[..]) {
                Ok(n) => {
                    let bytes = self.rx.get(..n).unwrap_or(&[]);
                    self.link.handle_datagram(now, &mut self.rec, bytes);
                }
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => {
                    self.recv_errors += 1;
                    log::warn!("IPVS: receive: {e}");
                    return;
                }
            }
        }
    }

    /// Start-up, before the loop: resolves the family, logs the version,
    /// flushes (`lvs_flush`), sets the timeouts (`lvs_timeouts`), adopts
    /// what the kernel has and sends the differences, waiting for each
    /// answer. Without IPVS it returns at once (the loop asks again).
    pub fn start(&mut self) {
        self.drive();
    }

    /// Begins the stop (in the loop: nothing waits).
    pub fn stop(&mut self, now: Instant) {
        self.link.stop(&mut self.rec, self.dont_release);
        self.pump(now);
    }

    /// After the loop: finishes the stop, waiting for the kernel (at most a
    /// few reply timeouts in all).
    pub fn finish(&mut self) {
        self.link.stop(&mut self.rec, self.dont_release);
        self.drive();
        if self.link.state() != LinkState::Stopped {
            log::error!("IPVS: the stop did not finish ({})", self.link.state());
        }
    }

    /// Drives the link until it has nothing to say or to wait for, polling
    /// the socket (start-up and exit only).
    fn drive(&mut self) {
        let give_up = clock::now() + DRIVE_LIMIT;
        loop {
            let now = clock::now();
            self.pump(now);
            if !self.link.is_waiting() || now >= give_up {
                return;
            }
            let wake = self.link.poll_at().map_or(give_up, |d| d.min(give_up));
            let ms = (wake - now).total_millis().clamp(1, 1000) as u16;
            let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    log::error!("IPVS: poll: {e}");
                    return;
                }
            }
            self.receive(clock::now());
        }
    }
}

impl AsFd for IpvsSync {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}
