//! Notify scripts (reference §b.5, §b.6 "Notifications"): the argument
//! vectors to run when an instance or a sync group changes state.
//!
//! For one transition keepalived runs, in this order (`notify_instance_exec`,
//! `notify_group_exec`):
//!
//! 1. the state's own script (`notify_master`, `notify_backup`,
//!    `notify_fault`, `notify_stop`) as configured, with no extra argument;
//! 2. the generic `notify` script with four extra arguments:
//!    `INSTANCE|GROUP NAME STATE PRIORITY` — `STATE` one of `MASTER`,
//!    `BACKUP`, `FAULT`, `STOP`; `PRIORITY` the effective priority (0 for a
//!    group).
//!
//! [`NotifyScripts::for_transition`] splits those command lines (by
//! [`split_command`]) into fixed [`ArgvBuf`]s, in that order; the caller
//! spawns them in the order of the transitions, so scripts see them in
//! order.

use core::fmt::Write;

use heapless::{String, Vec};

use super::fsm::State;
use crate::config::global::ScriptCmd;
use crate::config::strings::StringPool;
use crate::config::vrrp::{SyncGroup, VrrpInstance};
use crate::core::{ArgvBuf, ArgvError, split_command};

/// Scripts run for one transition: the state's own and the generic one.
pub const SCRIPTS_PER_TRANSITION: usize = 2;

/// Who changed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A `vrrp_instance` (first extra argument `INSTANCE`).
    Instance,
    /// A `vrrp_sync_group` (first extra argument `GROUP`).
    Group,
}

impl Subject {
    /// keepalived's word.
    pub fn word(self) -> &'static str {
        match self {
            Subject::Instance => "INSTANCE",
            Subject::Group => "GROUP",
        }
    }
}

/// keepalived's word for a state in notify arguments (INIT is `STOP`).
pub fn state_word(s: State) -> &'static str {
    match s {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        State::Initialize => "STOP",
    }
}

/// One configured script: its command line and who runs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line<'a> {
    /// The command line.
    pub command: &'a str,
    /// Its user as written (empty: the default script user).
    pub user: &'a str,
    /// Its group as written (empty: the user's).
    pub group: &'a str,
}

impl<'a> Line<'a> {
    /// A command run as the default user.
    pub const fn new(command: &'a str) -> Self {
        Line {
            command,
            user: "",
            group: "",
        }
    }

    /// A configured script, its command from `strings`.
    pub fn of(c: &'a ScriptCmd, strings: &'a StringPool) -> Self {
        Line {
            command: strings.get(c.command),
            user: c.user.as_str(),
            group: c.group.as_str(),
        }
    }
}

/// One script to run: its arguments and who runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyRun<'a> {
    /// The arguments.
    pub argv: ArgvBuf,
    /// The user as written (empty: the default).
    pub user: &'a str,
    /// The group as written (empty: the user's).
    pub group: &'a str,
}

/// The command lines of one instance's or group's notify scripts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifyScripts<'a> {
    /// `notify_master`.
    pub master: Option<Line<'a>>,
    /// `notify_backup`.
    pub backup: Option<Line<'a>>,
    /// `notify_fault`.
    pub fault: Option<Line<'a>>,
    /// `notify_stop`.
    pub stop: Option<Line<'a>>,
    /// `notify` (generic).
    pub generic: Option<Line<'a>>,
}

fn line<'a>(c: &'a Option<ScriptCmd>, strings: &'a StringPool) -> Option<Line<'a>> {
    c.as_ref().map(|c| Line::of(c, strings))
}

impl<'a> NotifyScripts<'a> {
    /// An instance's scripts.
    pub fn from_instance(i: &'a VrrpInstance, strings: &'a StringPool) -> Self {
        NotifyScripts {
            master: line(&i.notify_master, strings),
            backup: line(&i.notify_backup, strings),
            fault: line(&i.notify_fault, strings),
            stop: line(&i.notify_stop, strings),
            generic: line(&i.notify, strings),
        }
    }

    /// A sync group's scripts.
    pub fn from_group(g: &'a SyncGroup, strings: &'a StringPool) -> Self {
        NotifyScripts {
            master: line(&g.notify_master, strings),
            backup: line(&g.notify_backup, strings),
            fault: line(&g.notify_fault, strings),
            stop: line(&g.notify_stop, strings),
            generic: line(&g.notify, strings),
        }
    }

    /// The state's own script.
    pub fn for_state(&self, s: State) -> Option<Line<'a>> {
        match s {
            State::Master => self.master,
            State::Backup => self.backup,
            State::Fault => self.fault,
            State::Initialize => self.stop,
        }
    }

    /// The argvs to run, in order, when `name` (a `subject`) enters `to`
    /// with effective priority `priority` (pass 0 for a group). Empty when
    /// nothing is configured.
    pub fn for_transition(
        &self,
        subject: Subject,
        name: &str,
        to: State,
        priority: u8,
    ) -> Result<Vec<NotifyRun<'a>, SCRIPTS_PER_TRANSITION>, ArgvError> {
        let mut v = Vec::new();
        if let Some(l) = self.for_state(to) {
            let mut argv = ArgvBuf::new();
            split_command(l.command, &mut argv)?;
            // Capacity: at most two pushes.
            let _ = v.push(NotifyRun {
                argv,
                user: l.user,
                group: l.group,
            });
        }
        if let Some(l) = self.generic {
            let mut argv = ArgvBuf::new();
            generic_argv(l.command, subject, name, to, priority, &mut argv)?;
            let _ = v.push(NotifyRun {
                argv,
                user: l.user,
                group: l.group,
            });
        }
        Ok(v)
    }
}

/// Splits the generic `notify` command line into `out` and appends
/// keepalived's four arguments `INSTANCE|GROUP NAME STATE PRIORITY`.
pub fn generic_argv(
    cmd: &str,
    subject: Subject,
    name: &str,
    to: State,
    priority: u8,
    out: &mut ArgvBuf,
) -> Result<(), ArgvError> {
    split_command(cmd, out)?;
    let mut prio: String<3> = String::new();
    // Capacity: a u8 has at most three digits.
    let _ = write!(prio, "{priority}");
    let r = out
        .push(subject.word())
        .and_then(|()| out.push(name))
        .and_then(|()| out.push(state_word(to)))
        .and_then(|()| out.push(&prio));
    if r.is_err() {
        out.clear();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::CHILD_ARGS;

    fn args<'a>(r: &'a NotifyRun<'_>) -> std::vec::Vec<&'a str> {
        r.argv.args().collect()
    }

    const ALL: NotifyScripts<'static> = NotifyScripts {
        master: Some(Line::new("/etc/m.sh master-arg")),
        backup: Some(Line::new("/etc/b.sh")),
        fault: Some(Line::new("/etc/f.sh 'two words'")),
        stop: Some(Line::new("/etc/s.sh")),
        generic: Some(Line {
            command: "/etc/n.sh --log /tmp/x",
            user: "nobody",
            group: "nogroup",
        }),
    };

    #[test]
    fn state_script_then_generic_with_keepalived_args() {
        let v = ALL
            .for_transition(Subject::Instance, "VI_1", State::Master, 110)
            .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(args(&v[0]), ["/etc/m.sh", "master-arg"]);
        assert_eq!(
            (v[0].user, v[1].user, v[1].group),
            ("", "nobody", "nogroup")
        );
        assert_eq!(
            args(&v[1]),
            [
                "/etc/n.sh",
                "--log",
                "/tmp/x",
                "INSTANCE",
                "VI_1",
                "MASTER",
                "110"
            ]
        );
    }

    #[test]
    fn each_state_its_script_and_word() {
        for (s, prog, word) in [
            (State::Backup, "/etc/b.sh", "BACKUP"),
            (State::Fault, "/etc/f.sh", "FAULT"),
            (State::Initialize, "/etc/s.sh", "STOP"),
        ] {
            let v = ALL
                .for_transition(Subject::Instance, "VI_2", s, 100)
                .unwrap();
            assert_eq!(v[0].argv.program(), Some(prog));
            assert_eq!(v[1].argv.arg(5), Some(word));
        }
        let v = ALL
            .for_transition(Subject::Instance, "VI_2", State::Fault, 1)
            .unwrap();
        assert_eq!(args(&v[0]), ["/etc/f.sh", "two words"]);
    }

    #[test]
    fn group_args_and_name_with_spaces_is_one_arg() {
        let s = NotifyScripts {
            generic: Some(Line::new("/n")),
            ..NotifyScripts::default()
        };
        let v = s
            .for_transition(Subject::Group, "G 1", State::Backup, 0)
            .unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(args(&v[0]), ["/n", "GROUP", "G 1", "BACKUP", "0"]);
    }

    #[test]
    fn nothing_configured_nothing_to_run() {
        let v = NotifyScripts::default()
            .for_transition(Subject::Instance, "VI_1", State::Master, 100)
            .unwrap();
        assert!(v.is_empty());
        let only_master = NotifyScripts {
            master: Some(Line::new("/m")),
            ..NotifyScripts::default()
        };
        assert!(
            only_master
                .for_transition(Subject::Instance, "VI_1", State::Backup, 100)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn too_many_args_for_the_extra_four_is_an_error() {
        let cmd = "a ".repeat(CHILD_ARGS - 3);
        let mut out = ArgvBuf::new();
        assert_eq!(
            generic_argv(&cmd, Subject::Instance, "VI", State::Master, 1, &mut out),
            Err(ArgvError::TooManyArgs)
        );
        assert!(out.is_empty());
        let cmd = "a ".repeat(CHILD_ARGS - 4);
        generic_argv(&cmd, Subject::Instance, "VI", State::Master, 255, &mut out).unwrap();
        assert_eq!(out.len(), CHILD_ARGS);
        assert_eq!(out.arg(CHILD_ARGS - 1), Some("255"));
    }
}
