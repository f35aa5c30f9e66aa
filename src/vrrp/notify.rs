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

/// The command lines of one instance's or group's notify scripts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifyScripts<'a> {
    /// `notify_master`.
    pub master: Option<&'a str>,
    /// `notify_backup`.
    pub backup: Option<&'a str>,
    /// `notify_fault`.
    pub fault: Option<&'a str>,
    /// `notify_stop`.
    pub stop: Option<&'a str>,
    /// `notify` (generic).
    pub generic: Option<&'a str>,
}

fn line<'a>(c: &Option<ScriptCmd>, strings: &'a StringPool) -> Option<&'a str> {
    c.as_ref().map(|c| strings.get(c.command))
}

impl<'a> NotifyScripts<'a> {
    /// An instance's scripts.
    pub fn from_instance(i: &VrrpInstance, strings: &'a StringPool) -> Self {
        NotifyScripts {
            master: line(&i.notify_master, strings),
            backup: line(&i.notify_backup, strings),
            fault: line(&i.notify_fault, strings),
            stop: line(&i.notify_stop, strings),
            generic: line(&i.notify, strings),
        }
    }

    /// A sync group's scripts.
    pub fn from_group(g: &SyncGroup, strings: &'a StringPool) -> Self {
        NotifyScripts {
            master: line(&g.notify_master, strings),
            backup: line(&g.notify_backup, strings),
            fault: line(&g.notify_fault, strings),
            stop: line(&g.notify_stop, strings),
            generic: line(&g.notify, strings),
        }
    }

    /// The state's own script.
    pub fn for_state(&self, s: State) -> Option<&'a str> {
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
    ) -> Result<Vec<ArgvBuf, SCRIPTS_PER_TRANSITION>, ArgvError> {
        let mut v = Vec::new();
        if let Some(cmd) = self.for_state(to) {
            let mut a = ArgvBuf::new();
            split_command(cmd, &mut a)?;
            // Capacity: at most two pushes.
            let _ = v.push(a);
        }
        if let Some(cmd) = self.generic {
            let mut a = ArgvBuf::new();
            generic_argv(cmd, subject, name, to, priority, &mut a)?;
            let _ = v.push(a);
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

    fn args(a: &ArgvBuf) -> std::vec::Vec<&str> {
        a.args().collect()
    }

    const ALL: NotifyScripts<'static> = NotifyScripts {
        master: Some("/etc/m.sh master-arg"),
        backup: Some("/etc/b.sh"),
        fault: Some("/etc/f.sh 'two words'"),
        stop: Some("/etc/s.sh"),
        generic: Some("/etc/n.sh --log /tmp/x"),
    };

    #[test]
    fn state_script_then_generic_with_keepalived_args() {
        let v = ALL
            .for_transition(Subject::Instance, "VI_1", State::Master, 110)
            .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(args(&v[0]), ["/etc/m.sh", "master-arg"]);
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
            assert_eq!(v[0].program(), Some(prog));
            assert_eq!(v[1].arg(5), Some(word));
        }
        let v = ALL
            .for_transition(Subject::Instance, "VI_2", State::Fault, 1)
            .unwrap();
        assert_eq!(args(&v[0]), ["/etc/f.sh", "two words"]);
    }

    #[test]
    fn group_args_and_name_with_spaces_is_one_arg() {
        let s = NotifyScripts {
            generic: Some("/n"),
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
            master: Some("/m"),
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
