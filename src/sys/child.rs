//! Child processes: `fork` + `execve` with argv and envp in fixed
//! NUL-terminated buffers, built before the fork; `waitpid(WNOHANG)` to
//! reap; `kill` of the child's process group.
//!
//! Between `fork` and `execve` the child calls only async-signal-safe libc
//! functions on data prepared by the parent (the test harness is
//! multi-threaded, and a daemon may one day be too): it resets the signal
//! mask and every disposition, makes itself a process-group leader, closes
//! every fd from 3 up, and execs; if exec fails it `_exit(127)`s (the shell's
//! "command not found").
//!
//! A program name without `/` is looked up in `PATH` in the parent (a fixed
//! buffer per candidate, `access(X_OK)`); not found is a spawn failure
//! (`ENOENT`) reported to the core, not a child that exits 127.

use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{AccessFlags, ForkResult, Pid, access, fork, setpgid};
use picket::action::{Creds, KillSignal};
use picket::core::{ArgvBuf, ChildStatus};
use picket::limits::{CHILD_ARGS, PATH_BYTES};

/// Bytes of the environment passed to children.
pub const ENV_BYTES: usize = 4096;
/// Variables of the environment passed to children.
pub const ENV_VARS: usize = 64;
/// `PATH` when the daemon's environment has none (as `execvp(3)`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Spawns children: owns the environment they get (a copy of the daemon's,
/// taken at start-up) and the buffer a `PATH` lookup writes in.
pub struct Spawner {
    env: [u8; ENV_BYTES],
    env_starts: [u16; ENV_VARS],
    env_count: usize,
    /// Byte range of `PATH`'s value in `env`.
    path_var: Option<(usize, usize)>,
    exe: [u8; PATH_BYTES],
}

/// Why a spawn failed in the parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnError(pub Errno);

impl Spawner {
    /// Copies the daemon's environment (start-up: allocation allowed).
    /// Variables that do not fit are left out.
    pub fn from_env() -> Self {
        let mut s = Spawner {
            env: [0; ENV_BYTES],
            env_starts: [0; ENV_VARS],
            env_count: 0,
            path_var: None,
            exe: [0; PATH_BYTES],
        };
        let mut at = 0usize;
        for (k, v) in std::env::vars_os() {
            let (k, v) = (k.as_bytes(), v.as_bytes());
            let need = k.len() + 1 + v.len() + 1;
            if s.env_count >= ENV_VARS || at + need > ENV_BYTES || k.contains(&0) || v.contains(&0)
            {
                continue;
            }
            s.env_starts[s.env_count] = u16::try_from(at).unwrap_or(0);
            s.env[at..at + k.len()].copy_from_slice(k);
            s.env[at + k.len()] = b'=';
            let vs = at + k.len() + 1;
            s.env[vs..vs + v.len()].copy_from_slice(v);
            s.env[vs + v.len()] = 0;
            if k == b"PATH" {
                s.path_var = Some((vs, vs + v.len()));
            }
            at += need;
            s.env_count += 1;
        }
        s
    }

    /// Writes the file to exec for `program` into `self.exe` (NUL-terminated)
    /// and returns its length with the NUL.
    fn resolve(&mut self, program: &[u8]) -> Result<usize, Errno> {
        if program.contains(&b'/') {
            return put(&mut self.exe, &[program]);
        }
        let mut last = Errno::ENOENT;
        let path: &[u8] = match self.path_var {
            Some((a, b)) => &self.env[a..b],
            None => DEFAULT_PATH.as_bytes(),
        };
        for dir in path.split(|&b| b == b':') {
            let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
            let Ok(n) = put(&mut self.exe, &[dir, b"/", program]) else {
                continue;
            };
            let Ok(c) = CStr::from_bytes_with_nul(&self.exe[..n]) else {
                continue;
            };
            match access(c, AccessFlags::X_OK) {
                Ok(()) => return Ok(n),
                Err(e @ Errno::EACCES) => last = e,
                Err(_) => {}
            }
        }
        Err(last)
    }

    /// Starts `argv` as a child in its own process group, as `creds` when
    /// given (its only group is then `creds.gid`). Returns its pid.
    pub fn spawn(&mut self, argv: &ArgvBuf, creds: Option<Creds>) -> Result<i32, SpawnError> {
        // Everything the child touches is prepared here, before the fork.
        let program = argv
            .arg_with_nul(0)
            .map(|a| &a[..a.len().saturating_sub(1)])
            .ok_or(SpawnError(Errno::EINVAL))?;
        let exe_len = self.resolve(program).map_err(SpawnError)?;
        let mut args: [*const libc::c_char; CHILD_ARGS + 1] = [core::ptr::null(); CHILD_ARGS + 1];
        for (i, slot) in args.iter_mut().enumerate().take(argv.len()) {
            if let Some(a) = argv.arg_with_nul(i) {
                *slot = a.as_ptr().cast();
            }
        }
        let mut envp: [*const libc::c_char; ENV_VARS + 1] = [core::ptr::null(); ENV_VARS + 1];
        for (slot, &start) in envp.iter_mut().zip(&self.env_starts[..self.env_count]) {
            *slot = self.env[usize::from(start)..].as_ptr().cast();
        }
        let exe: *const libc::c_char = self.exe[..exe_len].as_ptr().cast();
        // SAFETY: an all-zero sigset_t is valid storage; sigemptyset initialises it.
        let mut empty: libc::sigset_t = unsafe { core::mem::zeroed() };
        // SAFETY: `empty` is a live local.
        unsafe { libc::sigemptyset(&mut empty) };

        // SAFETY: the child runs only async-signal-safe libc calls on the
        // buffers above (which stay alive: the child's copy of this stack
        // frame) and never returns from this function: it execs or `_exit`s.
        match unsafe { fork() } {
            Err(e) => Err(SpawnError(e)),
            Ok(ForkResult::Parent { child }) => {
                // Also from the parent, so a kill right after the fork reaches
                // the group (the child may not have run yet). EACCES after the
                // child's exec is harmless.
                let _ = setpgid(child, child);
                Ok(child.as_raw())
            }
            Ok(ForkResult::Child) => {
                // SAFETY: see above; every call is async-signal-safe, every
                // pointer points into buffers prepared before the fork, `args`
                // and `envp` are NULL-terminated arrays of NUL-terminated
                // strings, `exe` is NUL-terminated.
                unsafe {
                    libc::sigprocmask(libc::SIG_SETMASK, &empty, core::ptr::null_mut());
                    for sig in 1..libc::SIGRTMIN() {
                        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                            libc::signal(sig, libc::SIG_DFL);
                        }
                    }
                    libc::setpgid(0, 0);
                    if let Some(c) = creds {
                        let groups = [c.gid as libc::gid_t];
                        if libc::setgroups(1, groups.as_ptr()) != 0
                            || libc::setgid(c.gid) != 0
                            || libc::setuid(c.uid) != 0
                        {
                            libc::_exit(126);
                        }
                    }
                    if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
                        for fd in 3..1024 {
                            libc::close(fd);
                        }
                    }
                    libc::execve(exe, args.as_ptr(), envp.as_ptr());
                    libc::_exit(127)
                }
            }
        }
    }
}

/// Concatenates `parts` and a NUL into `buf`; the length with the NUL.
fn put(buf: &mut [u8], parts: &[&[u8]]) -> Result<usize, Errno> {
    let mut at = 0;
    for p in parts {
        if p.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let end = at + p.len();
        if end >= buf.len() {
            return Err(Errno::ENAMETOOLONG);
        }
        buf[at..end].copy_from_slice(p);
        at = end;
    }
    buf[at] = 0;
    Ok(at + 1)
}

/// Sends `signal` to the process group of `pid` (it leads one), or to `pid`
/// alone if the group is gone.
pub fn kill_child(pid: i32, signal: KillSignal) -> nix::Result<()> {
    let sig = match signal {
        KillSignal::Term => Signal::SIGTERM,
        KillSignal::Kill => Signal::SIGKILL,
    };
    match killpg(Pid::from_raw(pid), sig) {
        Err(Errno::ESRCH) => kill(Pid::from_raw(pid), sig),
        r => r,
    }
}

/// Collects every exited child without blocking, calling `exited` for each.
/// Returns the number of `waitpid` failures other than "no children".
pub fn reap(mut exited: impl FnMut(i32, ChildStatus)) -> u64 {
    let mut errors = 0;
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => exited(pid.as_raw(), ChildStatus::Exited(code)),
            Ok(WaitStatus::Signaled(pid, sig, _)) => {
                exited(pid.as_raw(), ChildStatus::Signaled(sig as i32));
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return errors,
            Ok(_) => {} // stopped/continued: not asked for; keep reaping
            Err(Errno::EINTR) => {}
            Err(_) => {
                errors += 1;
                return errors;
            }
        }
    }
}
