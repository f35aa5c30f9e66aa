//! The main thread's stack after start-up and after reloads.
//!
//! Start-up builds the big tables (the configuration, the checkers, the IPVS
//! table: megabytes on a board with 1,024 real servers) by value before they
//! are boxed, so the stack grows to several MiB once and those pages stay
//! resident — locked, as picket locks its memory — for the life of the
//! process though nothing uses them again; a reload builds the next IPVS
//! table and real-server state the same way (a few hundred KiB).
//! [`Stack::release_unused`] hands them back to the kernel: the pages of the
//! stack mapping more than [`MARGIN`] below the caller's frame hold no live
//! data (signals are read from a signalfd: no handler runs on this stack),
//! and if touched again they come back as zero pages (a loop turn never
//! reaches that deep).

/// Stack kept resident below the caller's frame: far more than a loop turn
/// uses.
pub const MARGIN: usize = 256 * 1024;

/// The main thread's stack mapping (its lowest address).
#[derive(Clone, Copy, Debug)]
pub struct Stack {
    low: usize,
    page: usize,
}

fn here() -> usize {
    let marker = 0u8;
    core::ptr::addr_of!(marker) as usize
}

impl Stack {
    /// Finds the mapping holding the caller's frame in `/proc/self/maps`
    /// (start-up only: reads a file; `None` if it cannot).
    pub fn find() -> Option<Stack> {
        let sp = here();
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        let low = maps.lines().find_map(|line| {
            let (lo, hi) = line.split_once(' ')?.0.split_once('-')?;
            let lo = usize::from_str_radix(lo, 16).ok()?;
            let hi = usize::from_str_radix(hi, 16).ok()?;
            (lo <= sp && sp < hi).then_some(lo)
        })?;
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        Some(Stack { low, page })
    }

    /// Releases the stack pages below the caller's frame (minus
    /// [`MARGIN`]); returns the bytes released. Allocates nothing (the loop
    /// calls it after a reload).
    pub fn release_unused(&self) -> usize {
        let end = here().saturating_sub(MARGIN) & !(self.page - 1);
        if end <= self.low {
            return 0;
        }
        let len = end - self.low;
        let start = self.low as *mut libc::c_void;
        // SAFETY: [low, end) lies in this thread's stack mapping (found by
        // `find` on this thread; a stack only grows down from it), below
        // the current frame by MARGIN: no live object is there, and no
        // signal handler runs on this stack. The pages are unlocked first
        // (picket locks its memory: locked pages cannot be dropped), then
        // dropped; a later touch maps zero pages.
        let r = unsafe {
            libc::munlock(start, len);
            libc::madvise(start, len, libc::MADV_DONTNEED)
        };
        if r == 0 { len } else { 0 }
    }
}
