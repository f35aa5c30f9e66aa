//! Clocks: `CLOCK_MONOTONIC` for the core's [`Instant`], the wall clock
//! only for syslog timestamps and the times the status document and the
//! dump files show.

use nix::time::{ClockId, clock_gettime};
use picket::time::Instant;

/// The monotonic clock now, in microseconds. The loop reads it once per turn.
pub fn now() -> Instant {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => Instant::from_micros(ts.tv_sec() * 1_000_000 + ts.tv_nsec() / 1_000),
        // CLOCK_MONOTONIC cannot fail on Linux; a zero clock keeps the loop alive.
        Err(_) => Instant::from_micros(0),
    }
}

/// The two clocks read together: the monotonic `now` and the wall clock,
/// to show monotonic instants as dates.
pub fn wall() -> picket::status::Wall {
    let now = now();
    let (secs, nanos) =
        clock_gettime(ClockId::CLOCK_REALTIME).map_or((0, 0), |t| (t.tv_sec(), t.tv_nsec()));
    let epoch_micros =
        u64::try_from(secs).unwrap_or(0) * 1_000_000 + u64::try_from(nanos / 1_000).unwrap_or(0);
    let t: libc::time_t = secs;
    // SAFETY: `tm` is a plain C struct for which all-zero is a valid value.
    let mut tm: libc::tm = unsafe { core::mem::zeroed() };
    // SAFETY: both pointers are to live locals; `localtime_r` is re-entrant
    // and writes only `tm` (the zone was loaded by `init_timezone`).
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    let utc_offset_s = if ok {
        i32::try_from(tm.tm_gmtoff).unwrap_or(0)
    } else {
        0
    };
    picket::status::Wall {
        now,
        epoch_micros,
        utc_offset_s,
    }
}

/// Local wall-clock time broken down: (month 0-11, day 1-31, hour, minute, second).
pub fn local_time() -> (u8, u8, u8, u8, u8) {
    let secs = clock_gettime(ClockId::CLOCK_REALTIME).map_or(0, |t| t.tv_sec());
    let t: libc::time_t = secs;
    // SAFETY: `tm` is a plain C struct for which all-zero is a valid value.
    let mut tm: libc::tm = unsafe { core::mem::zeroed() };
    // SAFETY: both pointers are to live locals; `localtime_r` is re-entrant and
    // writes only `tm`. The zone was loaded at start-up (`init_timezone`).
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        return (0, 1, 0, 0, 0);
    }
    let b = |v: libc::c_int| u8::try_from(v).unwrap_or(0);
    (
        b(tm.tm_mon),
        b(tm.tm_mday),
        b(tm.tm_hour),
        b(tm.tm_min),
        b(tm.tm_sec),
    )
}

/// Reads the time zone once, at start-up: the first `localtime_r` loads
/// it (glibc and musl), later ones reuse it.
pub fn init_timezone() {
    let _ = local_time();
}

/// Asks the kernel to wake this thread within `nanos` of its timeouts
/// (`PR_SET_TIMERSLACK`; the default slack is 50 µs). Failure only costs
/// precision.
pub fn set_timer_slack(nanos: u64) {
    // SAFETY: prctl with PR_SET_TIMERSLACK takes an integer and touches no
    // memory of ours.
    let _ = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, nanos as libc::c_ulong, 0, 0, 0) };
}

/// Locks every page of the process in memory, now and later
/// (`mlockall(MCL_CURRENT | MCL_FUTURE)`, keepalived's `vrrp_no_swap`, on by
/// default here): code that runs only at a takeover is then already in RAM
/// instead of page-faulting in from flash at the worst moment. Fails
/// without CAP_IPC_LOCK or under a small RLIMIT_MEMLOCK; the caller logs it.
pub fn lock_memory() -> Result<(), nix::errno::Errno> {
    // SAFETY: plain system call with integer flags; it touches no memory of ours.
    let r = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) };
    nix::errno::Errno::result(r).map(drop)
}
