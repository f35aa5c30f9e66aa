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

/// Runs `f` in a forked child whose files cannot grow (`RLIMIT_FSIZE` 0,
/// `SIGXFSZ` ignored: a write that would extend a file fails with
/// `EFBIG`, as on a full disk), and returns its exit status (`f`'s
/// result; -1 if it did not exit normally). For tests of write failures on
/// regular files.
#[cfg(test)]
pub fn in_child_without_file_space(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only makes system calls on memory it owns (its
    // copy of the parent's) and leaves with `_exit`; `f` allocates nothing
    // (what it needs is built before the fork).
    match unsafe { libc::fork() } {
        0 => {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: `none` is a live local; SIG_IGN is a valid disposition.
            let code = unsafe {
                if libc::setrlimit(libc::RLIMIT_FSIZE, &none) != 0
                    || libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR
                {
                    100
                } else {
                    f()
                }
            };
            // SAFETY: ends the child without running the parent's atexit
            // handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        -1 => -1,
        pid => {
            let mut status = 0;
            // SAFETY: `status` is a live local; `pid` is our child.
            let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
            if waited == pid && libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            }
        }
    }
}
