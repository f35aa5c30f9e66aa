//! Who scripts run as, and whether they are safe to run (reference §b.1
//! "Scripts, notifications and security"; keepalived's `core/notify.c`).
//!
//! Users are looked up once, at start-up (it allocates: `getpwnam`), never
//! in the loop, which only indexes the fixed table [`ScriptUsers`] with a
//! [`RunAs`]. The security checks ([`check_path`], [`check_script`]) work
//! in fixed buffers: a reload runs them again without allocating.
//!
//! **Users.** Every script runs as a user: its own (`user USER [GROUP]` of a
//! `vrrp_script`, `notify_master CMD USER[:GROUP]`, ...), else the default:
//! `script_user USER [GROUP]`, else `keepalived_script` if that user exists,
//! else picket's own user (with keepalived's warning). The group is the
//! given one, else the user's own. Supplementary groups: the user's with
//! `set_supplementary_groups`, else none. A user or group that does not
//! exist is an error at start (keepalived ignores that script; picket will
//! not run a configuration differently without saying so). With
//! `enable_script_security` and neither `script_user` nor `keepalived_script`,
//! picket refuses to start rather than run scripts as root by default.
//!
//! **Security** (`check_script_secure()`/`check_security()`): a script that
//! runs with root privileges — as uid 0 or gid 0, or a set-uid/set-gid root
//! file — must not be replaceable by anyone but root: the file, every
//! directory on its path (and on the path of the file a symlink points to)
//! must be owned by root, and not writable by a non-root group or by others
//! (a directory with the sticky bit, like `/tmp`, may be). With
//! `enable_script_security` an unsafe script is refused at start with the
//! script and the reason; without it, picket warns (as keepalived does) and
//! logs once `SECURITY VIOLATION - scripts are being executed but
//! script_security not enabled.`
//!
//! **Programs.** A program not written as an absolute path (a bare name,
//! searched in `PATH` as keepalived does; or a relative path) is resolved
//! once when the configuration is loaded ([`Programs`]): the file checked
//! is the file run, never looked up again at a spawn.

use std::ffi::CString;
use std::fmt::Write as _;

use nix::errno::Errno;
use nix::sys::stat::{FileStat, SFlag, lstat, stat};
use nix::unistd::{Gid, Group, Uid, User};
use picket::config::Config;
use picket::config::global::ScriptCmd;
use picket::config::lvs::{CheckKind, Script};
use picket::core::{ArgvBuf, RunAs, split_command};
use picket::limits::{SCRIPT_GROUPS, SCRIPT_USERS};
use picket::lvs::{RsName, VsName};

use super::fs::{FixedPath, real_path};

/// keepalived's default script user.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// The ids a child takes before `execve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    /// `setuid`.
    pub uid: u32,
    /// `setgid`.
    pub gid: u32,
    groups: [libc::gid_t; SCRIPT_GROUPS],
    ngroups: usize,
}

impl Creds {
    /// The supplementary groups (`setgroups`; empty clears them).
    pub fn groups(&self) -> &[libc::gid_t] {
        &self.groups[..self.ngroups]
    }
}

/// One user scripts run as.
#[derive(Clone, Debug)]
struct Entry {
    /// As written (`""`: the default).
    user: String,
    group: String,
    uid: u32,
    gid: u32,
    /// `None`: run as picket, unchanged (picket is not root and the user is
    /// its own).
    creds: Option<Creds>,
}

/// The users scripts run as, by [`RunAs`] (index 0: the default).
#[derive(Clone, Debug)]
pub struct ScriptUsers {
    entries: Vec<Entry>,
}

impl ScriptUsers {
    /// Everyone as picket itself (tests, and configurations without
    /// scripts).
    pub fn as_self() -> Self {
        ScriptUsers {
            entries: vec![Entry {
                user: String::new(),
                group: String::new(),
                uid: Uid::effective().as_raw(),
                gid: Gid::effective().as_raw(),
                creds: None,
            }],
        }
    }

    /// Who runs a script written with `user` and `group` (empty: the
    /// default). A pair not seen at start-up runs as the default. No
    /// allocation.
    pub fn find(&self, user: &str, group: &str) -> RunAs {
        if user.is_empty() {
            return RunAs::DEFAULT;
        }
        self.entries
            .iter()
            .position(|e| e.user == user && e.group == group)
            .and_then(|i| u8::try_from(i).ok())
            .map_or(RunAs::DEFAULT, RunAs)
    }

    /// [`ScriptUsers::find`] for a script command.
    pub fn of(&self, cmd: &ScriptCmd) -> RunAs {
        self.find(&cmd.user, &cmd.group)
    }

    /// [`ScriptUsers::find`] for an LVS script (`notify_up`, `quorum_up`,
    /// ...): its user and group are in the string pool.
    pub fn of_lvs(&self, cfg: &Config, script: &Script) -> RunAs {
        self.find(cfg.strings.get(script.user), cfg.strings.get(script.group))
    }

    /// The ids to take for `who` (`None`: none to change).
    pub fn creds(&self, who: RunAs) -> Option<&Creds> {
        self.entries
            .get(usize::from(who.0))
            .and_then(|e| e.creds.as_ref())
    }

    /// uid and gid of `who`.
    pub fn ids(&self, who: RunAs) -> (u32, u32) {
        self.entries
            .get(usize::from(who.0))
            .map_or((0, 0), |e| (e.uid, e.gid))
    }
}

/// What a script is, for messages: `startup_script`, `notify_master of
/// vrrp_instance VI_1`, `vrrp_script chk`.
#[derive(Clone, Copy, Debug)]
pub enum ScriptRole<'c> {
    /// A `global_defs` script: its keyword.
    Global(&'static str),
    /// A notify script of an instance: keyword, instance.
    Instance(&'static str, &'c str),
    /// A notify script of a sync group: keyword, group.
    SyncGroup(&'static str, &'c str),
    /// A tracking script: its name.
    Track(&'c str),
    /// A script of a virtual server (`quorum_up`, `quorum_down`): keyword,
    /// the configuration and the server's index.
    VirtualServer(&'static str, &'c Config, usize),
    /// A script of a real server (`notify_up`, `notify_down`, `MISC_CHECK`):
    /// keyword, the configuration and the server's index.
    RealServer(&'static str, &'c Config, usize),
}

impl std::fmt::Display for ScriptRole<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptRole::Global(kw) => f.write_str(kw),
            ScriptRole::Instance(kw, name) => write!(f, "{kw} of vrrp_instance {name}"),
            ScriptRole::SyncGroup(kw, name) => write!(f, "{kw} of vrrp_sync_group {name}"),
            ScriptRole::Track(name) => write!(f, "vrrp_script {name}"),
            ScriptRole::VirtualServer(kw, cfg, i) => {
                write!(f, "{kw} of virtual_server {}", VsName(cfg, *i))
            }
            ScriptRole::RealServer(kw, cfg, i) => {
                write!(f, "{kw} of real_server {}", RsName(cfg, *i))
            }
        }
    }
}

/// One script of the configuration that picket may run.
#[derive(Clone, Debug)]
pub struct ScriptUse<'c> {
    /// What it is, for messages.
    pub what: ScriptRole<'c>,
    /// Its command line.
    pub command: &'c str,
    /// Its user as written (empty: the default script user).
    pub user: &'c str,
    /// Its group as written (empty: the user's).
    pub group: &'c str,
}

/// Visits every script the configuration may run — `startup_script`,
/// `shutdown_script`, the notify scripts of instances and sync groups, used
/// `vrrp_script`s, then the LVS ones (virtual servers' `quorum_up` and
/// `quorum_down`, real servers' `notify_up` and `notify_down`, `MISC_CHECK`s,
/// which keepalived runs as script users under the same rules) — in that
/// order. No allocation: start-up and reloads see
/// the same set.
pub fn for_each_script<'c>(cfg: &'c Config, f: &mut dyn FnMut(ScriptUse<'c>)) {
    let mut add = |what: ScriptRole<'c>, cmd: &'c Option<ScriptCmd>| {
        if let Some(c) = cmd {
            f(ScriptUse {
                what,
                command: cfg.strings.get(c.command),
                user: &c.user,
                group: &c.group,
            });
        }
    };
    add(
        ScriptRole::Global("startup_script"),
        &cfg.global.startup_script,
    );
    add(
        ScriptRole::Global("shutdown_script"),
        &cfg.global.shutdown_script,
    );
    for i in &cfg.vrrp.instances {
        for (kw, cmd) in i.notifies() {
            add(ScriptRole::Instance(kw, &i.name), cmd);
        }
    }
    for g in &cfg.vrrp.sync_groups {
        for (kw, cmd) in g.notifies() {
            add(ScriptRole::SyncGroup(kw, &g.name), cmd);
        }
    }
    for s in cfg.vrrp.scripts.iter().filter(|s| s.used) {
        f(ScriptUse {
            what: ScriptRole::Track(&s.name),
            command: cfg.strings.get(s.script.command),
            user: &s.script.user,
            group: &s.script.group,
        });
    }
    let mut lvs = |what: ScriptRole<'c>, script: &'c Option<Script>| {
        if let Some(s) = script {
            f(ScriptUse {
                what,
                command: cfg.strings.get(s.command),
                user: cfg.strings.get(s.user),
                group: cfg.strings.get(s.group),
            });
        }
    };
    for (i, vs) in cfg.lvs.virtual_servers.iter().enumerate() {
        lvs(
            ScriptRole::VirtualServer("quorum_up", cfg, i),
            &vs.quorum_up,
        );
        lvs(
            ScriptRole::VirtualServer("quorum_down", cfg, i),
            &vs.quorum_down,
        );
    }
    for (i, rs) in cfg.lvs.real_servers.iter().enumerate() {
        lvs(ScriptRole::RealServer("notify_up", cfg, i), &rs.notify_up);
        lvs(
            ScriptRole::RealServer("notify_down", cfg, i),
            &rs.notify_down,
        );
    }
    for c in &cfg.lvs.checkers {
        if let CheckKind::Misc(m) = &c.kind {
            f(ScriptUse {
                what: ScriptRole::RealServer("MISC_CHECK", cfg, usize::from(c.rs)),
                command: cfg.strings.get(m.path),
                user: cfg.strings.get(m.user),
                group: cfg.strings.get(m.group),
            });
        }
    }
}

/// Every script the configuration may run ([`for_each_script`]), as a
/// list (start-up).
pub fn scripts_of(cfg: &Config) -> Vec<ScriptUse<'_>> {
    let mut v = Vec::new();
    for_each_script(cfg, &mut |u| v.push(u));
    v
}

/// Looks up `user` (and `group`, else the user's) into ids, with the
/// supplementary groups when `supplementary`.
fn lookup(user: &str, group: &str, supplementary: bool) -> Result<Entry, String> {
    let pw = User::from_name(user)
        .map_err(|e| format!("cannot look up user '{user}': {e}"))?
        .ok_or_else(|| format!("user '{user}' does not exist"))?;
    let gid = if group.is_empty() {
        pw.gid
    } else {
        Group::from_name(group)
            .map_err(|e| format!("cannot look up group '{group}': {e}"))?
            .ok_or_else(|| format!("group '{group}' does not exist"))?
            .gid
    };
    let mut groups = [0; SCRIPT_GROUPS];
    let mut ngroups = 0;
    if supplementary {
        let name = CString::new(user).map_err(|_| format!("bad user name '{user}'"))?;
        let list = nix::unistd::getgrouplist(&name, pw.gid)
            .map_err(|e| format!("cannot read the groups of '{user}': {e}"))?;
        if list.len() > SCRIPT_GROUPS {
            return Err(format!(
                "user '{user}' is in {} groups, more than the {SCRIPT_GROUPS} picket passes \
                 to scripts (limit script_groups)",
                list.len()
            ));
        }
        for (slot, g) in groups.iter_mut().zip(&list) {
            *slot = g.as_raw();
        }
        ngroups = list.len();
    }
    let uid = pw.uid.as_raw();
    let gid = gid.as_raw();
    let me = Uid::effective().as_raw();
    let creds = if me == 0 {
        Some(Creds {
            uid,
            gid,
            groups,
            ngroups,
        })
    } else if uid == me && gid == Gid::effective().as_raw() && !supplementary {
        None
    } else {
        return Err(format!(
            "picket runs as uid {me} and cannot run scripts as '{user}' (uid {uid}, gid {gid})"
        ));
    };
    Ok(Entry {
        user: user.to_owned(),
        group: group.to_owned(),
        uid,
        gid,
        creds,
    })
}

/// The default script user (entry 0); `None` inside: picket itself.
fn default_user(cfg: &Config, supplementary: bool) -> Result<Entry, String> {
    let g = &cfg.global;
    if !g.script_user.is_empty() {
        return lookup(&g.script_user, &g.script_group, supplementary)
            .map_err(|e| format!("script_user: {e}"));
    }
    match lookup(DEFAULT_SCRIPT_USER, "", supplementary) {
        Ok(e) => Ok(Entry {
            user: String::new(),
            group: String::new(),
            ..e
        }),
        Err(_) if g.enable_script_security => Err(format!(
            "enable_script_security: no script_user is set and the default user \
             '{DEFAULT_SCRIPT_USER}' does not exist, so scripts would run as root; \
             create '{DEFAULT_SCRIPT_USER}', or set 'script_user USER' \
             ('script_user root' if scripts must run as root)"
        )),
        Err(_) => {
            log::warn!(
                "WARNING - default user '{DEFAULT_SCRIPT_USER}' for script execution does not \
                 exist - please create."
            );
            let mut e = ScriptUsers::as_self().entries.remove(0);
            if e.uid == 0 {
                // Root: run as root with no supplementary groups, as
                // keepalived.
                e.creds = Some(Creds {
                    uid: e.uid,
                    gid: e.gid,
                    groups: [0; SCRIPT_GROUPS],
                    ngroups: 0,
                });
            }
            Ok(e)
        }
    }
}

/// Builds the table of script users for `scripts` (start-up). Errors name
/// the script and the user.
pub fn script_users(cfg: &Config, scripts: &[ScriptUse<'_>]) -> Result<ScriptUsers, String> {
    let supplementary = cfg.global.set_supplementary_groups;
    let mut t = ScriptUsers::as_self();
    if scripts.iter().any(|s| s.user.is_empty()) {
        t.entries[0] = default_user(cfg, supplementary)?;
    }
    for s in scripts.iter().filter(|s| !s.user.is_empty()) {
        if t.entries
            .iter()
            .any(|e| e.user == s.user && e.group == s.group)
        {
            continue;
        }
        if t.entries.len() >= SCRIPT_USERS {
            return Err(format!(
                "{}: more than {SCRIPT_USERS} distinct script users (limit script_users)",
                s.what
            ));
        }
        let e = lookup(s.user, s.group, supplementary).map_err(|e| format!("{}: {e}", s.what))?;
        t.entries.push(e);
    }
    Ok(t)
}

/// What is wrong with one component of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// It cannot be checked (`lstat` failed; `ENAMETOOLONG`: longer than
    /// [`FixedPath`]).
    CannotCheck(Errno),
    /// A component on the way is neither a directory nor a symlink.
    NotDirectory,
    /// The last component is neither a regular file nor a symlink.
    NotRegularFile,
    /// Owned by this uid, not root.
    Owner(u32),
    /// Writable by a non-root group.
    GroupWritable {
        /// The group.
        gid: u32,
        /// The permission bits.
        mode: u32,
    },
    /// Writable by everyone.
    WorldWritable {
        /// The permission bits.
        mode: u32,
    },
}

impl std::fmt::Display for Flaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flaw::CannotCheck(e) => write!(f, "cannot be checked: {e}"),
            Flaw::NotDirectory => f.write_str("is not a directory"),
            Flaw::NotRegularFile => f.write_str("is not a regular file"),
            Flaw::Owner(uid) => write!(f, "is owned by uid {uid}, not root"),
            Flaw::GroupWritable { gid, mode } => {
                write!(f, "is writable by group {gid} (mode {mode:04o})")
            }
            Flaw::WorldWritable { mode } => write!(f, "is writable by everyone (mode {mode:04o})"),
        }
    }
}

/// Why a path is unsafe: the component at fault and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsafe {
    /// The file or directory at fault.
    pub path: FixedPath,
    /// What is wrong with it.
    pub why: Flaw,
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}' {}", self.path, self.why)
    }
}

/// The file type bits of `st`.
fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

/// What is wrong with one component of a path (`last`: the file itself),
/// if anything.
fn flaw_of(st: &FileStat, last: bool) -> Option<Flaw> {
    let (dir, link, file) = (
        kind(st) == SFlag::S_IFDIR,
        kind(st) == SFlag::S_IFLNK,
        kind(st) == SFlag::S_IFREG,
    );
    // A symlink on the way is checked for its owner here; where it points
    // is checked with the resolved path.
    if !last && !dir && !link {
        return Some(Flaw::NotDirectory);
    }
    if last && !file && !link {
        return Some(Flaw::NotRegularFile);
    }
    if st.st_uid != 0 {
        return Some(Flaw::Owner(st.st_uid));
    }
    let mode = st.st_mode & 0o7777;
    let sticky_dir = dir && mode & libc::S_ISVTX != 0;
    if (dir && !sticky_dir) || file {
        if st.st_gid != 0 && mode & libc::S_IWGRP != 0 {
            return Some(Flaw::GroupWritable {
                gid: st.st_gid,
                mode,
            });
        }
        if mode & libc::S_IWOTH != 0 {
            return Some(Flaw::WorldWritable { mode });
        }
    }
    None
}

/// keepalived's `check_security()`: `path` (absolute) and each directory
/// above it must exist (not followed if a symlink), be a directory or a
/// symlink (the last one a file or symlink), be owned by root, and not be
/// writable by a non-root group or by others — a directory with the sticky
/// bit may be. (Symlinks are checked for their owner only; the caller
/// checks the resolved path too, as keepalived.) No allocation: the
/// components are checked in `at`, which on an error holds the one at
/// fault.
pub fn check_path(path: &str, at: &mut FixedPath) -> Result<(), Flaw> {
    at.clear();
    let _ = at.push('/');
    let mut parts = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .peekable();
    let mut last = parts.peek().is_none();
    loop {
        match lstat(at.as_str()) {
            Ok(st) => flaw_of(&st, last).map_or(Ok(()), Err)?,
            Err(e) => return Err(Flaw::CannotCheck(e)),
        }
        let Some(c) = parts.next() else {
            return Ok(());
        };
        last = parts.peek().is_none();
        let pushed = if at.len() > 1 {
            at.push('/').and_then(|()| at.push_str(c))
        } else {
            at.push_str(c)
        };
        if pushed.is_err() {
            return Err(Flaw::CannotCheck(Errno::ENAMETOOLONG));
        }
    }
}

/// Whether `uid:gid` may execute a file of this status (keepalived's
/// `is_executable`: root needs any x bit).
fn executable(st: &FileStat, uid: u32, gid: u32) -> bool {
    let m = st.st_mode;
    (uid == 0 && m & 0o111 != 0)
        || (uid == st.st_uid && m & 0o100 != 0)
        || (uid != st.st_uid
            && ((gid == st.st_gid && m & 0o010 != 0) || (gid != st.st_gid && m & 0o001 != 0)))
}

/// The file `program` names, absolute: itself with a `/` (a relative one
/// resolved), else the first executable regular file of that name in the
/// directories of `path_var` (`PATH`'s value).
pub fn locate(program: &str, path_var: &[u8]) -> Option<FixedPath> {
    if program.starts_with('/') {
        let mut p = FixedPath::new();
        return p.push_str(program).ok().map(|()| p);
    }
    if program.contains('/') {
        return real_path(program).ok();
    }
    for dir in path_var.split(|&b| b == b':') {
        let dir = core::str::from_utf8(dir).ok()?;
        let mut p = FixedPath::new();
        let joined = p
            .push_str(if dir.is_empty() { "." } else { dir })
            .and_then(|()| p.push('/'))
            .and_then(|()| p.push_str(program));
        let found =
            stat(p.as_str()).is_ok_and(|st| kind(&st) == SFlag::S_IFREG && st.st_mode & 0o111 != 0);
        if joined.is_ok() && found {
            return if p.starts_with('/') {
                Some(p)
            } else {
                real_path(&p).ok()
            };
        }
    }
    None
}

/// Bytes of a [`Programs`] table.
pub const PROGRAM_BYTES: usize = 8192;

/// The table of programs is full: this script's (and what follows) does
/// not fit.
#[derive(Clone, Debug)]
pub struct ProgramsFull<'c> {
    /// What the script is.
    pub what: ScriptRole<'c>,
    /// Its command line.
    pub command: &'c str,
}

impl std::fmt::Display for ProgramsFull<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the program of '{}' does not fit in the table of programs named without \
             an absolute path ({PROGRAM_BYTES} bytes); give scripts their absolute paths",
            self.what, self.command
        )
    }
}

/// The programs of a configuration's scripts that are not written as
/// absolute paths, each with the file it resolved to ([`locate`]: a bare
/// name searched in `PATH`, a relative path made absolute) when the
/// configuration was loaded. This file is the one [`check_script`] checks
/// and the one a child execs: nothing is looked up again at a spawn, so a
/// program planted later in a `PATH` directory (or a symlink changed on a
/// relative path) is never run instead. A program not found has no entry
/// (a spawn of it fails with `ENOENT`). Fixed buffer: a reload resolves
/// again without allocating.
pub struct Programs {
    /// `name\0path\0` pairs.
    buf: [u8; PROGRAM_BYTES],
    len: usize,
    /// Filled from a configuration at least once.
    resolved: bool,
}

impl Programs {
    /// An empty table, never resolved.
    pub const fn new() -> Self {
        Programs {
            buf: [0; PROGRAM_BYTES],
            len: 0,
            resolved: false,
        }
    }

    /// Whether [`Programs::resolve`] has filled it (else a spawn may look a
    /// program up itself, once: [`super::child::Spawner`]).
    pub fn is_resolved(&self) -> bool {
        self.resolved
    }

    /// The `(name, path)` pairs, the path with its NUL.
    fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let mut rest = &self.buf[..self.len];
        core::iter::from_fn(move || {
            let n = rest.iter().position(|&b| b == 0)?;
            let (name, after) = (&rest[..n], &rest[n + 1..]);
            let p = after.iter().position(|&b| b == 0)?;
            let path = &after[..=p];
            rest = &after[p + 1..];
            Some((name, path))
        })
    }

    /// The file `program` resolved to, NUL-terminated.
    pub fn find_with_nul(&self, program: &[u8]) -> Option<&[u8]> {
        self.pairs()
            .find(|(name, _)| *name == program)
            .map(|(_, path)| path)
    }

    /// The file `program` resolved to.
    pub fn find(&self, program: &str) -> Option<&str> {
        self.find_with_nul(program.as_bytes())
            .and_then(|p| core::str::from_utf8(&p[..p.len() - 1]).ok())
    }

    /// Adds `program` resolved to `path`; `false` if it does not fit.
    pub fn push(&mut self, program: &[u8], path: &[u8]) -> bool {
        let need = program.len() + path.len() + 2;
        if self.len + need > PROGRAM_BYTES || program.contains(&0) || path.contains(&0) {
            return false;
        }
        let at = self.len;
        self.buf[at..at + program.len()].copy_from_slice(program);
        self.buf[at + program.len()] = 0;
        let p = at + program.len() + 1;
        self.buf[p..p + path.len()].copy_from_slice(path);
        self.buf[p + path.len()] = 0;
        self.len += need;
        true
    }

    /// Adds the program of `command` unless it is written as an absolute
    /// path, known already or not found (a bare name is searched in
    /// `path_var`). `false`: it does not fit. No allocation.
    pub fn add(&mut self, command: &str, path_var: &[u8]) -> bool {
        let mut argv = ArgvBuf::new();
        if split_command(command, &mut argv).is_err() {
            return true;
        }
        let Some(program) = argv.program() else {
            return true;
        };
        if program.starts_with('/') || self.find(program).is_some() {
            return true;
        }
        match locate(program, path_var) {
            Some(path) => self.push(program.as_bytes(), path.as_bytes()),
            None => true,
        }
    }

    /// Fills the table from the programs of `cfg`'s scripts
    /// ([`for_each_script`]), bare names searched in `path_var`. No
    /// allocation. An error names the first script that did not fit.
    pub fn resolve<'c>(
        &mut self,
        cfg: &'c Config,
        path_var: &[u8],
    ) -> Result<(), ProgramsFull<'c>> {
        self.len = 0;
        self.resolved = true;
        let mut full = None;
        for_each_script(cfg, &mut |s| {
            if full.is_none() && !self.add(s.command, path_var) {
                full = Some(ProgramsFull {
                    what: s.what,
                    command: s.command,
                });
            }
        });
        full.map_or(Ok(()), Err)
    }

    /// Whether `self` and `other` resolve the same programs to the same
    /// files.
    pub fn same_as(&self, other: &Programs) -> bool {
        self.buf[..self.len] == other.buf[..other.len]
    }
}

impl Default for Programs {
    fn default() -> Self {
        Self::new()
    }
}

/// What checking one script found ([`check_script`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not found (a bare name: not in `PATH`).
    NotFound,
    /// Found, but the file it resolves to cannot be read.
    Inaccessible(Errno),
    /// Not executable by the script's user.
    NotExecutable,
    /// Runs without root privileges: its path may be anyone's.
    Unprivileged,
    /// Runs with root privileges and only root can replace it.
    Safe,
    /// Runs with root privileges and someone else can replace it
    /// ([`ScriptCheck::at`] is the file or directory at fault).
    Unsafe(Flaw),
}

/// One script checked ([`check_script`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptCheck<'a> {
    /// The program of its command line, as written.
    pub program: &'a str,
    /// The file found (empty when not found).
    pub path: FixedPath,
    /// Found by a `PATH` search (a bare name: keepalived warns).
    pub searched: bool,
    /// What was found.
    pub verdict: Verdict,
    /// The file or directory at fault ([`Verdict::Unsafe`]).
    pub at: FixedPath,
}

/// keepalived's `check_script_secure()` for one script run as `uid:gid`:
/// found (a program not written as an absolute path is the file `programs`
/// resolved it to at load time: the file a spawn runs), executable by its
/// user,
/// and — when it runs with root privileges (as uid 0 or gid 0, or a
/// set-uid/set-gid root file) — safe: [`check_path`] on the path as found
/// and on the file it resolves to. `None`: the command line names no
/// program. No allocation.
pub fn check_script<'a>(
    command: &str,
    argv: &'a mut ArgvBuf,
    uid: u32,
    gid: u32,
    programs: &Programs,
) -> Option<ScriptCheck<'a>> {
    split_command(command, argv).ok()?;
    let program = argv.program()?;
    let searched = !program.contains('/');
    let mut out = ScriptCheck {
        program,
        path: FixedPath::new(),
        searched,
        verdict: Verdict::NotFound,
        at: FixedPath::new(),
    };
    let found = if program.starts_with('/') {
        Some(program)
    } else {
        programs.find(program)
    };
    let Some(path) = found.and_then(|p| FixedPath::try_from(p).ok()) else {
        return Some(out);
    };
    out.path = path;
    let real = match real_path(&out.path) {
        Ok(r) => r,
        Err(e) => {
            out.verdict = Verdict::Inaccessible(e);
            return Some(out);
        }
    };
    let st = match stat(real.as_str()) {
        Ok(st) => st,
        Err(e) => {
            out.verdict = Verdict::Inaccessible(e);
            return Some(out);
        }
    };
    let m = st.st_mode;
    let root = uid == 0
        || gid == 0
        || (st.st_uid == 0 && m & 0o100 != 0 && m & libc::S_ISUID != 0)
        || (st.st_gid == 0 && m & 0o010 != 0 && m & libc::S_ISGID != 0);
    out.verdict = if !executable(&st, uid, gid) {
        Verdict::NotExecutable
    } else if !root {
        Verdict::Unprivileged
    } else {
        let checked = check_path(&out.path, &mut out.at).and_then(|()| {
            if real == out.path {
                Ok(())
            } else {
                check_path(&real, &mut out.at)
            }
        });
        match checked {
            Ok(()) => Verdict::Safe,
            Err(flaw) => Verdict::Unsafe(flaw),
        }
    };
    Some(out)
}

/// Checks every script at start-up (keepalived's `check_script_secure()`):
/// found (a bare name is searched in `PATH`, with keepalived's warning),
/// executable by its user, and — when it runs with root privileges — safe
/// ([`check_path`] on the path as written and on the file it resolves to).
/// With `enable_script_security` an unsafe script is an error naming it and
/// why; without, a warning, and `SECURITY VIOLATION ...` is logged once.
/// A script not found or not executable is logged, and runs anyway (each
/// run fails and counts as a failure). `programs` holds the files the
/// spawner runs ([`super::child::Spawner::resolve_programs`]): what is
/// judged here is what runs.
pub fn check_scripts_with(
    cfg: &Config,
    users: &ScriptUsers,
    scripts: &[ScriptUse<'_>],
    programs: &Programs,
) -> Result<(), String> {
    let security = cfg.global.enable_script_security;
    let mut errors = String::new();
    let mut found_any = false;
    let mut insecure_any = false;
    for s in scripts {
        let (uid, gid) = users.ids(users.find(s.user, s.group));
        let mut argv = ArgvBuf::new();
        let Some(c) = check_script(s.command, &mut argv, uid, gid, programs) else {
            continue;
        };
        let (program, path) = (c.program, &c.path);
        if c.verdict == Verdict::NotFound {
            log::warn!("{}: cannot find script {program} in PATH", s.what);
            continue;
        }
        if c.searched {
            log::warn!(
                "WARNING - script `{program}` resolved by path search to `{path}`. Please specify full path."
            );
        }
        match c.verdict {
            Verdict::NotFound | Verdict::Unprivileged | Verdict::Safe => {}
            Verdict::Inaccessible(e) => {
                log::warn!("{}: script {path} cannot be accessed - {e}", s.what);
            }
            Verdict::NotExecutable => log::warn!(
                "WARNING - script '{path}' ({}) is not executable for uid:gid {uid}:{gid}",
                s.what
            ),
            Verdict::Unsafe(why) if security => {
                let at = &c.at;
                let _ = writeln!(
                    errors,
                    "{}: script '{path}' runs with root privileges and is not safe: '{at}' {why}; \
                     enable_script_security refuses it (make the file and every directory \
                     above it owned by root and not writable by group or others, or run it \
                     as another user)",
                    s.what
                );
            }
            Verdict::Unsafe(why) => {
                let at = &c.at;
                log::warn!(
                    "Unsafe permissions found for script '{path}' ({}): '{at}' {why}",
                    s.what
                );
            }
        }
        found_any |= !matches!(c.verdict, Verdict::Inaccessible(_));
        insecure_any |= matches!(c.verdict, Verdict::Unsafe(_));
    }
    if !errors.is_empty() {
        return Err(errors.trim_end().to_owned());
    }
    if !security && found_any {
        log::warn!(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.{}",
            if insecure_any {
                " There are insecure scripts."
            } else {
                ""
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt as _, chown};
    use std::path::{Path, PathBuf};

    fn root() -> bool {
        Uid::effective().is_root()
    }

    fn skip() -> bool {
        if root() {
            return false;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root"
        );
        println!("SKIPPED: needs root (files owned by root and others)");
        true
    }

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A private directory under /tmp (root-owned, sticky) owned by root.
    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("picket-user-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        chmod(&d, 0o755);
        d
    }

    fn text(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    /// [`check_path`], with the path at fault.
    fn check(path: &str) -> Result<(), (String, Flaw)> {
        let mut at = FixedPath::new();
        check_path(path, &mut at).map_err(|f| (at.to_string(), f))
    }

    #[test]
    fn root_owned_paths_are_safe_and_others_are_not() {
        if skip() {
            return;
        }
        let d = dir("sec");
        let script = d.join("s.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        chmod(&script, 0o755);
        assert_eq!(check(text(&script)), Ok(()));
        assert_eq!(check("/bin/true"), Ok(()));

        // The file writable by a non-root group.
        chown(&script, None, Some(100)).unwrap();
        chmod(&script, 0o775);
        let (at, why) = check(text(&script)).unwrap_err();
        assert_eq!(at, text(&script));
        assert_eq!(
            why,
            Flaw::GroupWritable {
                gid: 100,
                mode: 0o775
            }
        );
        assert_eq!(why.to_string(), "is writable by group 100 (mode 0775)");
        // By root's group: fine.
        chown(&script, None, Some(0)).unwrap();
        assert_eq!(check(text(&script)), Ok(()));
        // Owned by someone else.
        chown(&script, Some(65534), None).unwrap();
        assert_eq!(check(text(&script)).unwrap_err().1, Flaw::Owner(65534));
        chown(&script, Some(0), None).unwrap();
        // A world-writable directory without the sticky bit.
        chmod(&d, 0o777);
        let (at, why) = check(text(&script)).unwrap_err();
        assert_eq!(at, text(&d));
        assert_eq!(why.to_string(), "is writable by everyone (mode 0777)");
        // With the sticky bit (like /tmp) it may be.
        chmod(&d, 0o1777);
        assert_eq!(check(text(&script)), Ok(()));
        // Missing.
        assert_eq!(
            check(text(&d.join("nope"))).unwrap_err().1,
            Flaw::CannotCheck(Errno::ENOENT)
        );
        // Longer than the fixed buffer (each step exists): refused, not cut.
        let long = format!(
            "/{}bin/true",
            "tmp/../".repeat(picket::limits::PATH_BYTES / 4)
        );
        assert_eq!(
            check(&long).unwrap_err().1,
            Flaw::CannotCheck(Errno::ENAMETOOLONG)
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// One script: found through a PATH search or as written (symlink
    /// resolved), executable or not by its user, safe when root runs it
    /// and only root can replace it; counted without allocation.
    #[test]
    fn scripts_are_found_and_judged_in_fixed_buffers() {
        if skip() {
            return;
        }
        let d = dir("script");
        let script = d.join("s.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        chmod(&script, 0o755);
        let link = d.join("link.sh");
        std::os::unix::fs::symlink(&script, &link).unwrap();
        let path_var = format!("/nonexistent:{}", d.display());
        let by_link = format!("{} x", link.display());
        let mut programs = Programs::new();
        crate::sys::counting_alloc::start();
        for cmd in ["s.sh --flag", &by_link, "no-such-script", ""] {
            assert!(programs.add(cmd, path_var.as_bytes()));
        }
        let check = |cmd: &str, uid: u32| {
            let mut argv = ArgvBuf::new();
            check_script(cmd, &mut argv, uid, uid, &programs)
                .map(|c| (c.path, c.searched, c.verdict))
        };
        let searched = check("s.sh --flag", 0);
        let through_link = check(&by_link, 0);
        let missing = check("no-such-script", 0);
        let empty = check("", 0);
        let (allocs, _) = crate::sys::counting_alloc::stop();
        assert_eq!(allocs, 0, "allocations checking scripts");
        let s = script.display().to_string();
        let fixed = |p: &Path| FixedPath::try_from(text(p)).unwrap();
        assert_eq!(searched, Some((fixed(&script), true, Verdict::Safe)));
        assert_eq!(through_link, Some((fixed(&link), false, Verdict::Safe)));
        assert_eq!(missing, Some((FixedPath::new(), true, Verdict::NotFound)));
        assert_eq!(empty, None);
        // The target replaceable by group 100: unsafe for root, not for a
        // user without root privileges.
        chown(&script, None, Some(100)).unwrap();
        chmod(&script, 0o775);
        let mut argv = ArgvBuf::new();
        let c = check_script(&s, &mut argv, 0, 0, &programs).unwrap();
        assert_eq!(
            c.verdict,
            Verdict::Unsafe(Flaw::GroupWritable {
                gid: 100,
                mode: 0o775
            })
        );
        assert_eq!(c.at.as_str(), s);
        assert_eq!(check(&s, 65534).map(|c| c.2), Some(Verdict::Unprivileged));
        chmod(&script, 0o644);
        assert_eq!(check(&s, 65534).map(|c| c.2), Some(Verdict::NotExecutable));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn users_are_looked_up_once_and_found_by_name() {
        let mut cfg = Config::new();
        // No scripts: everyone is picket, nothing looked up.
        let t = script_users(&cfg, &scripts_of(&cfg)).unwrap();
        assert_eq!(t.find("", ""), RunAs::DEFAULT);
        let _ = cfg.global.script_user.push_str("root");
        let cmd = ScriptCmd::default();
        let mut nobody = ScriptCmd::default();
        let _ = nobody.user.push_str("nobody");
        let mut ghost = ScriptCmd::default();
        let _ = ghost.user.push_str("no-such-user-xyz");
        let uses = |c: &'static ScriptCmd| ScriptUse {
            what: ScriptRole::Track("x"),
            command: "/bin/true",
            user: &c.user,
            group: &c.group,
        };
        let cmd: &'static ScriptCmd = Box::leak(Box::new(cmd));
        let nobody: &'static ScriptCmd = Box::leak(Box::new(nobody));
        let ghost: &'static ScriptCmd = Box::leak(Box::new(ghost));
        if root() {
            let t = script_users(&cfg, &[uses(cmd), uses(nobody)]).unwrap();
            assert_eq!(t.ids(RunAs::DEFAULT), (0, 0));
            let n = t.find("nobody", "");
            assert_eq!(n, RunAs(1));
            let c = t.creds(n).unwrap();
            assert_eq!(c.uid, 65534);
            assert!(c.groups().is_empty(), "no supplementary groups by default");
            assert_eq!(t.find("somebody-else", ""), RunAs::DEFAULT);
        }
        let e = script_users(&cfg, &[uses(ghost)]).unwrap_err();
        assert!(e.contains("user 'no-such-user-xyz' does not exist"), "{e}");
    }
}
