//! The OS edge: the only home of `unsafe` in picket. Each block says why it
//! is sound in a `// SAFETY:` comment. `nix` is used where it has the call
//! (and does not allocate); `libc` where it has not.
//!
//! Nothing here allocates after start-up: paths go through `nix`'s stack
//! buffer (paths are shorter than its 1024 bytes: `limits::PATH_BYTES`),
//! argv/envp are built in fixed buffers, reads go into the caller's buffer.

pub mod caps;
pub mod check;
pub mod child;
pub mod clock;
pub mod fs;
#[cfg(not(test))]
pub mod heap;
pub mod inotify;
pub mod net;
pub mod notify;
pub mod pidfile;
pub mod poll;
pub mod signal;
pub mod stack;
pub mod statefile;
pub mod timer;
pub mod unix;
pub mod user;
pub mod vmac;
pub mod watchdog;

#[cfg(test)]
pub mod counting_alloc;

/// Allocations so far (test builds: 0; their allocator counts per thread).
pub fn allocations() -> u64 {
    #[cfg(not(test))]
    return heap::allocations();
    #[cfg(test)]
    0
}
