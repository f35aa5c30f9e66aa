//! Child processes: `fork` + `execve` with argv and envp in fixed
//! NUL-terminated buffers, built before the fork; `waitpid(WNOHANG)` to
//! reap; `kill` of the child's process group.
//!
//! Between `fork` and `execve` the child calls only async-signal-safe libc
//! functions on data prepared by the parent (the test harness is
//! multi-threaded, and a daemon may one day be too): it resets the signal
//! mask and every disposition, makes itself a process-group leader, takes
//! the script user's ids (`setgid`, `setgroups`, `setuid`, looked up at
//! start-up by [`super::user`]), closes every fd from 3 up, and execs; if exec fails it `_exit(127)`s (the shell's
//! "command not found").
//!
//! The file exec'd is the one resolved when the configuration was loaded
//! and checked ([`Programs`]): a program written as an absolute path is
//! run as written; any other (a bare name, searched in `PATH`, or a
//! relative path) runs the file it resolved to then, never looked up again
//! at a spawn. One not found then is a spawn failure (`ENOENT`) reported to
//! the core, not a child that exits 127.
//!
//! The environment is the daemon's at start-up without `IFS`,
//! `LD_PRELOAD` and `LD_LIBRARY_PATH` (keepalived's `core/notify.c`).

use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, setpgid};
use picket::action::KillSignal;
use picket::config::Config;
use picket::core::{ArgvBuf, ChildStatus};
use picket::limits::CHILD_ARGS;

use super::user::{Creds, Programs, ProgramsFull, locate};

/// Bytes of the environment passed to children.
pub const ENV_BYTES: usize = 4096;
/// Variables of the environment passed to children.
pub const ENV_VARS: usize = 64;
/// `PATH` when the daemon's environment has none (as `execvp(3)`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Variables never passed to children (keepalived's list): they change how
/// a shell splits words or what a dynamic linker loads.
pub const DROPPED_ENV: [&[u8]; 3] = [b"IFS", b"LD_PRELOAD", b"LD_LIBRARY_PATH"];

/// Spawns children: owns the environment they get (a copy of the daemon's,
/// taken at start-up, filtered) and the files their programs resolved to.
pub struct Spawner {
    env: [u8; ENV_BYTES],
    env_starts: [u16; ENV_VARS],
    env_count: usize,
    /// Byte range of `PATH`'s value in `env`.
    path_var: Option<(usize, usize)>,
    /// The running configuration's programs.
    programs: Programs,
    /// The next configuration's, while a reload builds it.
    next: Programs,
}

/// `PATH`'s value: bytes `range` of `env`, else [`DEFAULT_PATH`].
fn path_value(env: &[u8], range: Option<(usize, usize)>) -> &[u8] {
    range
        .and_then(|(a, b)| env.get(a..b))
        .unwrap_or(DEFAULT_PATH.as_bytes())
}

/// Why a spawn failed in the parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnError(pub Errno);

impl Spawner {
    /// Copies the daemon's environment (start-up: allocation allowed).
    pub fn from_env() -> Self {
        Self::from_vars(std::env::vars_os())
    }

    /// A spawner whose children get `vars` but [`DROPPED_ENV`]; variables
    /// that do not fit are left out.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Self {
        let mut s = Spawner {
            env: [0; ENV_BYTES],
            env_starts: [0; ENV_VARS],
            env_count: 0,
            path_var: None,
            programs: Programs::new(),
            next: Programs::new(),
        };
        let mut at = 0usize;
        for (k, v) in vars {
            let (k, v) = (k.as_bytes(), v.as_bytes());
            let need = k.len() + 1 + v.len() + 1;
            if s.env_count >= ENV_VARS
                || at + need > ENV_BYTES
                || k.contains(&0)
                || v.contains(&0)
                || DROPPED_ENV.contains(&k)
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

    /// The variables children get, `NAME=value` each.
    #[cfg(test)]
    pub fn env(&self) -> impl Iterator<Item = &[u8]> {
        self.env_starts[..self.env_count].iter().map(|&start| {
            let v = &self.env[usize::from(start)..];
            &v[..v.iter().position(|&b| b == 0).unwrap_or(v.len())]
        })
    }

    /// Resolves the programs of `cfg`'s scripts, for the running
    /// configuration (start-up, before [`super::user::check_scripts_with`]
    /// checks the same files).
    pub fn resolve_programs<'c>(&mut self, cfg: &'c Config) -> Result<(), ProgramsFull<'c>> {
        let path = path_value(&self.env, self.path_var);
        self.programs.resolve(cfg, path)
    }

    /// Resolves the programs of the next configuration (a reload, before
    /// its checks; no allocation). They apply at [`Spawner::commit_programs`].
    pub fn prepare_programs<'c>(&mut self, cfg: &'c Config) -> Result<(), ProgramsFull<'c>> {
        let path = path_value(&self.env, self.path_var);
        self.next.resolve(cfg, path)
    }

    /// The running configuration's programs.
    pub fn programs(&self) -> &Programs {
        &self.programs
    }

    /// The next configuration's programs ([`Spawner::prepare_programs`]).
    pub fn next_programs(&self) -> &Programs {
        &self.next
    }

    /// The reload is applied: its programs are the ones run from now on.
    pub fn commit_programs(&mut self) {
        core::mem::swap(&mut self.programs, &mut self.next);
    }

    /// The file to exec for `program`, NUL-terminated: `program` itself if
    /// absolute, else the file it resolved to at load time. A table never
    /// resolved (a daemon built without [`Spawner::resolve_programs`])
    /// looks the program up now, once: later spawns reuse the file found.
    fn exe<'a>(
        programs: &'a mut Programs,
        path: &[u8],
        program: &'a [u8],
    ) -> Result<&'a [u8], Errno> {
        if program.starts_with(b"/") {
            return Ok(program);
        }
        let name = core::str::from_utf8(&program[..program.len().saturating_sub(1)])
            .map_err(|_| Errno::ENOENT)?;
        if !programs.is_resolved() && programs.find(name).is_none() {
            let found = locate(name, path).ok_or(Errno::ENOENT)?;
            if !programs.push(name.as_bytes(), found.as_bytes()) {
                return Err(Errno::ENOMEM);
            }
        }
        programs.find_with_nul(name.as_bytes()).ok_or(Errno::ENOENT)
    }

    /// Starts `argv` as a child in its own process group, with `creds`'
    /// group, supplementary groups and uid when given (set in the child
    /// before `execve`; a refusal ends the child with status 126). Returns
    /// its pid.
    pub fn spawn(&mut self, argv: &ArgvBuf, creds: Option<&Creds>) -> Result<i32, SpawnError> {
        // Everything the child touches is prepared here, before the fork.
        let program = argv.arg_with_nul(0).ok_or(SpawnError(Errno::EINVAL))?;
        let path = path_value(&self.env, self.path_var);
        let exe = Self::exe(&mut self.programs, path, program).map_err(SpawnError)?;
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
        let exe: *const libc::c_char = exe.as_ptr().cast();
        let ids = creds.map(|c| {
            (
                libc::c_long::from(c.gid),
                c.groups().len(),
                c.groups().as_ptr(),
                libc::c_long::from(c.uid),
            )
        });
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
                    // Raw system calls: they change this (the only) thread,
                    // without libc's all-threads machinery. Group first,
                    // while still privileged.
                    if let Some((gid, n, groups, uid)) = ids
                        && (libc::syscall(libc::SYS_setgid, gid) != 0
                            || libc::syscall(libc::SYS_setgroups, n, groups) != 0
                            || libc::syscall(libc::SYS_setuid, uid) != 0)
                    {
                        libc::_exit(126)
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

#[cfg(test)]
mod tests {
    use super::*;
    use picket::config::global::ScriptCmd;
    use picket::core::split_command;
    use std::ffi::OsString;
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::{Path, PathBuf};

    fn vars(list: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        list.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn test_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("picket-child-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Runs `command` with `s` and waits for it: its exit code.
    fn run(s: &mut Spawner, command: &str) -> Result<i32, SpawnError> {
        let mut argv = ArgvBuf::new();
        split_command(command, &mut argv).unwrap();
        let pid = s.spawn(&argv, None)?;
        match waitpid(Pid::from_raw(pid), None).unwrap() {
            WaitStatus::Exited(_, code) => Ok(code),
            other => panic!("{other:?}"),
        }
    }

    /// A script that writes `word` into `out`.
    fn script(path: &Path, word: &str, out: &Path) {
        std::fs::write(
            path,
            format!("#!/bin/sh\necho {word} > {}\n", out.display()),
        )
        .unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Children never get `IFS`, `LD_PRELOAD` nor `LD_LIBRARY_PATH`
    /// (keepalived's list); the rest of picket's environment they do.
    #[test]
    fn children_get_the_environment_without_ifs_and_the_loader_variables() {
        let _one = crate::tests::init_logging();
        let d = test_dir("env");
        let mut s = Spawner::from_vars(vars(&[
            ("PATH", "/usr/bin:/bin"),
            ("IFS", "/"),
            ("LD_PRELOAD", "/nonexistent/picket-test.so"),
            ("PICKET_TEST", "kept"),
            ("LD_LIBRARY_PATH", "/nonexistent"),
        ]));
        let env: Vec<_> = s
            .env()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        assert_eq!(env, ["PATH=/usr/bin:/bin", "PICKET_TEST=kept"]);
        let out = d.join("env");
        let cmd = format!("/bin/sh -c 'env > {}'", out.display());
        assert_eq!(run(&mut s, &cmd), Ok(0));
        let seen = std::fs::read_to_string(&out).unwrap();
        assert!(seen.lines().any(|l| l == "PICKET_TEST=kept"), "{seen}");
        for name in DROPPED_ENV {
            let name = std::str::from_utf8(name).unwrap();
            assert!(
                !seen.lines().any(|l| l.starts_with(&format!("{name}="))),
                "{name} reached the script:\n{seen}"
            );
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A bare program name runs the file found in `PATH` when the
    /// configuration was loaded (the file the security check judged): one
    /// planted later earlier in `PATH` is not run, and a program missing
    /// then is not looked up again. A reload resolves again. No allocation.
    #[test]
    fn a_bare_name_runs_the_file_resolved_at_load_time() {
        let _one = crate::tests::init_logging();
        let d = test_dir("path");
        let (early, late) = (d.join("early"), d.join("late"));
        std::fs::create_dir_all(&early).unwrap();
        std::fs::create_dir_all(&late).unwrap();
        let out = d.join("out");
        script(&late.join("prog"), "late", &out);
        let path = format!("{}:{}", early.display(), late.display());
        let mut s = Spawner::from_vars(vars(&[("PATH", &path)]));
        let mut cfg = Config::new();
        let command = cfg.strings.add("prog --flag").unwrap();
        cfg.global.startup_script = Some(ScriptCmd {
            command,
            ..ScriptCmd::default()
        });
        let prog = late.join("prog");
        s.resolve_programs(&cfg).unwrap();
        assert_eq!(s.programs().find("prog"), prog.to_str());

        // Planted after the check, earlier in PATH: not run.
        script(&early.join("prog"), "early", &out);
        assert_eq!(run(&mut s, "prog --flag"), Ok(0));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "late\n");
        // Not found at load time: not looked up at a spawn.
        script(&late.join("other"), "other", &out);
        assert_eq!(run(&mut s, "other"), Err(SpawnError(Errno::ENOENT)));

        // A reload finds the new one (and its check judges that file).
        crate::sys::counting_alloc::start();
        s.prepare_programs(&cfg).unwrap();
        let changed = !s.next_programs().same_as(s.programs());
        s.commit_programs();
        let ran = run(&mut s, "prog");
        let (allocs, _) = crate::sys::counting_alloc::stop();
        assert_eq!(allocs, 0, "allocations resolving and spawning");
        assert!(changed);
        assert_eq!(ran, Ok(0));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "early\n");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
