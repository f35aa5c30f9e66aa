//! Who scripts run as, and whether they are safe to run (reference §b.1
//! "Scripts, notifications and security"; keepalived's `core/notify.c`).
//!
//! Everything here runs once, at start-up (it allocates: `getpwnam`,
//! `realpath`), never in the loop. The loop only indexes the fixed table
//! [`ScriptUsers`] with a [`RunAs`].
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

use std::ffi::CString;
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Group, Uid, User};
use picket::config::Config;
use picket::config::global::ScriptCmd;
use picket::config::lvs::{CheckKind, Script};
use picket::config::strings::Text;
use picket::core::{ArgvBuf, RunAs, split_command};
use picket::limits::{SCRIPT_GROUPS, SCRIPT_USERS};
use picket::lvs::{RsName, VsName};

use super::child::DEFAULT_PATH;

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

/// One script of the configuration that picket may run.
#[derive(Clone, Debug)]
pub struct ScriptUse<'c> {
    /// What it is, for messages: `vrrp_script chk`, `notify_master of
    /// vrrp_instance VI_1`, `MISC_CHECK of real_server [10.0.0.2]:tcp:80`, ...
    pub what: String,
    /// Its command line.
    pub command: &'c str,
    /// Its user as written (empty: the default script user).
    pub user: &'c str,
    /// Its group as written (empty: the user's).
    pub group: &'c str,
}

/// Every script the configuration may run: `startup_script`,
/// `shutdown_script`, used `vrrp_script`s, the notify scripts of
/// instances and sync groups, and the LVS ones: `MISC_CHECK`s, real
/// servers' `notify_up`/`notify_down`, virtual servers'
/// `quorum_up`/`quorum_down` (keepalived runs them all as script users,
/// under the same security rules).
pub fn scripts_of<'c>(cfg: &'c Config) -> Vec<ScriptUse<'c>> {
    let mut v: Vec<(String, &ScriptCmd)> = Vec::new();
    let mut add = |what: String, cmd: &'c Option<ScriptCmd>| {
        if let Some(c) = cmd {
            v.push((what, c));
        }
    };
    add("startup_script".into(), &cfg.global.startup_script);
    add("shutdown_script".into(), &cfg.global.shutdown_script);
    for i in &cfg.vrrp.instances {
        let of = |kw: &str| format!("{kw} of vrrp_instance {}", i.name);
        add(of("notify_master"), &i.notify_master);
        add(of("notify_backup"), &i.notify_backup);
        add(of("notify_fault"), &i.notify_fault);
        add(of("notify_stop"), &i.notify_stop);
        add(of("notify"), &i.notify);
        add(
            of("notify_master_rx_lower_pri"),
            &i.notify_master_rx_lower_pri,
        );
    }
    for g in &cfg.vrrp.sync_groups {
        let of = |kw: &str| format!("{kw} of vrrp_sync_group {}", g.name);
        add(of("notify_master"), &g.notify_master);
        add(of("notify_backup"), &g.notify_backup);
        add(of("notify_fault"), &g.notify_fault);
        add(of("notify_stop"), &g.notify_stop);
        add(of("notify"), &g.notify);
    }
    let cmd_use = |what: String, cmd: &'c ScriptCmd| ScriptUse {
        what,
        command: cfg.strings.get(cmd.command),
        user: &cmd.user,
        group: &cmd.group,
    };
    let mut out: Vec<ScriptUse<'_>> = v
        .into_iter()
        .map(|(what, cmd)| cmd_use(what, cmd))
        .collect();
    for s in cfg.vrrp.scripts.iter().filter(|s| s.used) {
        out.push(cmd_use(format!("vrrp_script {}", s.name), &s.script));
    }
    let pooled = |what: String, command: Text, user: Text, group: Text| ScriptUse {
        what,
        command: cfg.strings.get(command),
        user: cfg.strings.get(user),
        group: cfg.strings.get(group),
    };
    let lvs_script = |what: String, s: &Script| pooled(what, s.command, s.user, s.group);
    for (i, vs) in cfg.lvs.virtual_servers.iter().enumerate() {
        let of = |kw: &str| format!("{kw} of virtual_server {}", VsName(cfg, i));
        if let Some(s) = &vs.quorum_up {
            out.push(lvs_script(of("quorum_up"), s));
        }
        if let Some(s) = &vs.quorum_down {
            out.push(lvs_script(of("quorum_down"), s));
        }
    }
    for (i, rs) in cfg.lvs.real_servers.iter().enumerate() {
        let of = |kw: &str| format!("{kw} of real_server {}", RsName(cfg, i));
        if let Some(s) = &rs.notify_up {
            out.push(lvs_script(of("notify_up"), s));
        }
        if let Some(s) = &rs.notify_down {
            out.push(lvs_script(of("notify_down"), s));
        }
    }
    for c in &cfg.lvs.checkers {
        if let CheckKind::Misc(m) = &c.kind {
            let what = format!(
                "MISC_CHECK of real_server {}",
                RsName(cfg, usize::from(c.rs))
            );
            out.push(pooled(what, m.path, m.user, m.group));
        }
    }
    out
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

/// Why one component of a script's path is unsafe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsafe {
    /// The file or directory at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}' {}", self.path.display(), self.why)
    }
}

/// keepalived's `check_security()`: `path` (absolute) and each directory
/// above it must exist (not followed if a symlink), be a directory or a
/// symlink (the last one a file or symlink), be owned by root, and not be
/// writable by a non-root group or by others — a directory with the sticky
/// bit may be. (Symlinks are checked for their owner only; the caller
/// checks the resolved path too, as keepalived.)
pub fn check_path(path: &Path) -> Result<(), Unsafe> {
    let mut prefix = PathBuf::from("/");
    let parts: Vec<_> = path.components().skip(1).collect();
    let n = parts.len();
    for i in 0..=n {
        if let Some(c) = i.checked_sub(1).and_then(|k| parts.get(k)) {
            prefix.push(c);
        }
        let last = i == n;
        let bad = |why: String| Unsafe {
            path: prefix.clone(),
            why,
        };
        let md = std::fs::symlink_metadata(&prefix)
            .map_err(|e| bad(format!("cannot be checked: {e}")))?;
        let ft = md.file_type();
        // A symlink on the way is checked for its owner here; where it
        // points is checked with the resolved path.
        if !last && !ft.is_dir() && !ft.is_symlink() {
            return Err(bad("is not a directory".into()));
        }
        if last && !ft.is_file() && !ft.is_symlink() {
            return Err(bad("is not a regular file".into()));
        }
        let mode = md.mode();
        if md.uid() != 0 {
            return Err(bad(format!("is owned by uid {}, not root", md.uid())));
        }
        let sticky_dir = ft.is_dir() && mode & libc::S_ISVTX != 0;
        if (ft.is_dir() && !sticky_dir) || ft.is_file() {
            if md.gid() != 0 && mode & libc::S_IWGRP != 0 {
                return Err(bad(format!(
                    "is writable by group {} (mode {:04o})",
                    md.gid(),
                    mode & 0o7777
                )));
            }
            if mode & libc::S_IWOTH != 0 {
                return Err(bad(format!(
                    "is writable by everyone (mode {:04o})",
                    mode & 0o7777
                )));
            }
        }
    }
    Ok(())
}

/// Whether `uid:gid` may execute a file of this metadata (keepalived's
/// `is_executable`: root needs any x bit).
fn executable(md: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let m = md.mode();
    (uid == 0 && m & 0o111 != 0)
        || (uid == md.uid() && m & 0o100 != 0)
        || (uid != md.uid()
            && ((gid == md.gid() && m & 0o010 != 0) || (gid != md.gid() && m & 0o001 != 0)))
}

/// The file `program` names: itself with a `/` (made absolute), else the
/// first executable regular file of that name on `PATH`.
fn locate(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return Some(if p.is_absolute() {
            p
        } else {
            std::env::current_dir().ok()?.join(p)
        });
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_owned());
    path.split(':')
        .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

/// Checks every script at start-up (keepalived's `check_script_secure()`):
/// found (a bare name is searched in `PATH`, with keepalived's warning),
/// executable by its user, and — when it runs with root privileges — safe
/// ([`check_path`] on the path as written and on the file it resolves to).
/// With `enable_script_security` an unsafe script is an error naming it and
/// why; without, a warning, and `SECURITY VIOLATION ...` is logged once.
/// A script not found or not executable is logged, and runs anyway (each
/// run fails and counts as a failure).
pub fn check_scripts(
    cfg: &Config,
    users: &ScriptUsers,
    scripts: &[ScriptUse<'_>],
) -> Result<(), String> {
    let security = cfg.global.enable_script_security;
    let mut errors = String::new();
    let mut found_any = false;
    let mut insecure_any = false;
    for s in scripts {
        let mut argv = ArgvBuf::new();
        let Some(program) = split_command(s.command, &mut argv)
            .ok()
            .and_then(|()| argv.program())
        else {
            continue;
        };
        let Some(path) = locate(program) else {
            log::warn!("{}: cannot find script {program} in PATH", s.what);
            continue;
        };
        if !program.contains('/') {
            log::warn!(
                "WARNING - script `{program}` resolved by path search to `{}`. Please specify full path.",
                path.display()
            );
        }
        let real = match std::fs::canonicalize(&path) {
            Ok(r) => r,
            Err(e) => {
                log::warn!(
                    "{}: script {} cannot be accessed - {e}",
                    s.what,
                    path.display()
                );
                continue;
            }
        };
        let Ok(md) = std::fs::metadata(&real) else {
            log::warn!("{}: unable to access script `{}`", s.what, path.display());
            continue;
        };
        found_any = true;
        let who = users.find(s.user, s.group);
        let (uid, gid) = users.ids(who);
        if !executable(&md, uid, gid) {
            log::warn!(
                "WARNING - script '{}' ({}) is not executable for uid:gid {uid}:{gid}",
                path.display(),
                s.what
            );
            continue;
        }
        let m = md.mode();
        let root = uid == 0
            || gid == 0
            || (md.uid() == 0 && m & 0o100 != 0 && m & libc::S_ISUID != 0)
            || (md.gid() == 0 && m & 0o010 != 0 && m & libc::S_ISGID != 0);
        if !root {
            continue;
        }
        let verdict = check_path(&path).and_then(|()| {
            if real == path {
                Ok(())
            } else {
                check_path(&real)
            }
        });
        if let Err(u) = verdict {
            insecure_any = true;
            if security {
                let _ = writeln!(
                    errors,
                    "{}: script '{}' runs with root privileges and is not safe: {u}; \
                     enable_script_security refuses it (make the file and every directory \
                     above it owned by root and not writable by group or others, or run it \
                     as another user)",
                    s.what,
                    path.display()
                );
            } else {
                log::warn!(
                    "Unsafe permissions found for script '{}' ({}): {u}",
                    path.display(),
                    s.what
                );
            }
        }
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

    #[test]
    fn root_owned_paths_are_safe_and_others_are_not() {
        if skip() {
            return;
        }
        let d = dir("sec");
        let script = d.join("s.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        chmod(&script, 0o755);
        assert_eq!(check_path(&script), Ok(()));
        assert_eq!(check_path(Path::new("/bin/true")), Ok(()));

        // The file writable by a non-root group.
        chown(&script, None, Some(100)).unwrap();
        chmod(&script, 0o775);
        let e = check_path(&script).unwrap_err();
        assert_eq!(e.path, script);
        assert!(e.why.contains("writable by group 100"), "{e}");
        // By root's group: fine.
        chown(&script, None, Some(0)).unwrap();
        assert_eq!(check_path(&script), Ok(()));
        // Owned by someone else.
        chown(&script, Some(65534), None).unwrap();
        assert!(check_path(&script).unwrap_err().why.contains("uid 65534"));
        chown(&script, Some(0), None).unwrap();
        // A world-writable directory without the sticky bit.
        chmod(&d, 0o777);
        let e = check_path(&script).unwrap_err();
        assert_eq!(e.path, d);
        assert!(e.why.contains("writable by everyone (mode 0777)"), "{e}");
        // With the sticky bit (like /tmp) it may be.
        chmod(&d, 0o1777);
        assert_eq!(check_path(&script), Ok(()));
        // Missing.
        assert!(
            check_path(&d.join("nope"))
                .unwrap_err()
                .why
                .contains("cannot be checked")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn load(text: &str) -> Box<Config> {
        let files = [("/k.conf", text)];
        let mut fs = picket::config::memfs::MemFs::new(&files);
        let mut cfg = Box::new(Config::new());
        let mut diags = Box::new(picket::config::Diagnostics::new());
        let mut scratch = Box::new(picket::config::LoadScratch::new());
        let opts = picket::config::LoadOptions {
            config_id: "t",
            all_config: false,
        };
        picket::config::load(
            &mut fs,
            "/k.conf",
            &opts,
            &mut scratch,
            &mut cfg,
            &mut diags,
        );
        assert!(diags.is_ok());
        cfg
    }

    #[test]
    fn lvs_scripts_run_as_script_users_under_the_same_rules() {
        let cfg = load(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n quorum_up \"/bin/true up\" nobody\n \
             real_server 10.0.0.2 80 {\n  notify_down /bin/false\n  \
             MISC_CHECK {\n   misc_path \"/bin/sh -c true\"\n   user nobody nogroup\n  }\n }\n}\n",
        );
        let uses = scripts_of(&cfg);
        let got: Vec<(&str, &str, &str, &str)> = uses
            .iter()
            .map(|u| (u.what.as_str(), u.command, u.user, u.group))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "quorum_up of virtual_server [10.0.0.1]:tcp:80",
                    "/bin/true up",
                    "nobody",
                    ""
                ),
                (
                    "notify_down of real_server [10.0.0.2]:tcp:80",
                    "/bin/false",
                    "",
                    ""
                ),
                (
                    "MISC_CHECK of real_server [10.0.0.2]:tcp:80",
                    "/bin/sh -c true",
                    "nobody",
                    "nogroup"
                ),
            ]
        );
        if !root() {
            return;
        }
        // They are looked up with the others...
        let t = script_users(&cfg, &uses).unwrap();
        let misc = t.find("nobody", "nogroup");
        assert_ne!(misc, RunAs::DEFAULT);
        assert_eq!(t.ids(misc).0, 65534);
        // ... and enable_script_security judges them: a root MISC_CHECK in a
        // directory others may write to is refused, naming it.
        let d = dir("lvs");
        let script = d.join("check.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        chmod(&script, 0o755);
        chmod(&d, 0o777);
        let text = format!(
            "global_defs {{\n enable_script_security\n script_user root\n}}\n\
             virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.0.0.2 80 {{\n  \
             MISC_CHECK {{\n   misc_path {}\n  }}\n }}\n}}\n",
            script.display()
        );
        let cfg = load(&text);
        let uses = scripts_of(&cfg);
        let t = script_users(&cfg, &uses).unwrap();
        let e = check_scripts(&cfg, &t, &uses).unwrap_err();
        assert!(
            e.contains("MISC_CHECK of real_server [10.0.0.2]:tcp:80")
                && e.contains("writable by everyone"),
            "{e}"
        );
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
            what: "x".into(),
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
