//! The main thread's stack after start-up.
//!
//! Start-up builds the big tables (the configuration, the checkers, the IPVS
//! table: megabytes on a board with 1,024 real servers) by value before they
//! are boxed, so the stack grows to several MiB once and those pages stay
//! resident for the life of the process though nothing uses them again.
//! [`release_unused`] hands them back to the kernel: the pages of the stack
//! mapping more than [`MARGIN`] below the caller's frame hold no live data
//! (signals are read from a signalfd: no handler runs on this stack), and if
//! touched again they come back as zero pages (not locked in memory, unlike
//! the rest: a loop turn never reaches that deep).

/// Stack kept resident below the caller's frame: far more than a loop turn
/// uses.
pub const MARGIN: usize = 256 * 1024;

/// Releases the stack pages below the caller's frame (minus [`MARGIN`]).
/// Start-up only (reads `/proc/self/maps`); returns the bytes released.
pub fn release_unused() -> usize {
    let marker = 0u8;
    let sp = core::ptr::addr_of!(marker) as usize;
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let Some(low) = maps.lines().find_map(|line| {
        let (lo, hi) = line.split_once(' ')?.0.split_once('-')?;
        let lo = usize::from_str_radix(lo, 16).ok()?;
        let hi = usize::from_str_radix(hi, 16).ok()?;
        (lo <= sp && sp < hi).then_some(lo)
    }) else {
        return 0;
    };
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let end = sp.saturating_sub(MARGIN) & !(page - 1);
    if end <= low {
        return 0;
    }
    let len = end - low;
    let start = low as *mut libc::c_void;
    // SAFETY: [low, end) lies in this thread's stack mapping, below the
    // current frame by MARGIN: no live object is there, and no signal
    // handler runs on this stack. The pages are unlocked first (picket
    // locks its memory: locked pages cannot be dropped), then dropped; a
    // later touch maps zero pages.
    let r = unsafe {
        libc::munlock(start, len);
        libc::madvise(start, len, libc::MADV_DONTNEED)
    };
    if r == 0 { len } else { 0 }
}
