//! The loop's deadline as a `timerfd` on CLOCK_MONOTONIC, armed at an
//! absolute time and watched by the poll like any other fd.
//!
//! `poll(2)`'s own timeout is not precise enough for VRRP: the kernel lets a
//! poll timeout run late by 0.1 % of its length (select_estimate_accuracy: a
//! 3.6 s Master_Down_Interval may fire 3.6 ms late). A timerfd expires
//! within the thread's timer slack instead (set to 1 µs by
//! [`super::clock::set_timer_slack`]). It is re-armed only when the earliest
//! deadline changes.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use picket::time::Instant;

/// The loop's one timer.
pub struct DeadlineTimer {
    fd: TimerFd,
    armed: Option<Instant>,
}

impl DeadlineTimer {
    /// A disarmed, non-blocking timer.
    pub fn new() -> Result<Self, Errno> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        Ok(DeadlineTimer { fd, armed: None })
    }

    /// Makes the timer fire at `deadline` (monotonic), or never (`None`).
    /// Does nothing when it is already armed for that time.
    pub fn arm(&mut self, deadline: Option<Instant>) -> Result<(), Errno> {
        if deadline == self.armed {
            return Ok(());
        }
        match deadline {
            Some(at) => {
                let us = at.total_micros().max(1);
                // A zero `it_value` would disarm: the earliest time is 1 µs.
                let ts = TimeSpec::new(us / 1_000_000, (us % 1_000_000) * 1_000);
                self.fd.set(
                    Expiration::OneShot(ts),
                    TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                )?;
            }
            None => self.fd.unset()?,
        }
        self.armed = deadline;
        Ok(())
    }

    /// Consumes an expiry (after the poll said the fd is readable). The
    /// timer is disarmed until the next [`DeadlineTimer::arm`].
    pub fn clear(&mut self) {
        let mut buf = [0u8; 8];
        let _ = nix::unistd::read(&self.fd, &mut buf);
        self.armed = None;
    }
}

impl AsFd for DeadlineTimer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
