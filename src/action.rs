//! What the core asks the binary to do, and the fixed queue they wait in.
//!
//! The core pushes [`Action`]s while it handles inputs; the loop drains them
//! with [`crate::core::Core::poll_action`] once per turn, after timeouts, and
//! turns each into system calls. The queue never grows: when it is full the
//! action is dropped and counted (`action_queue_full`); it is sized so that
//! one turn of a loaded configuration cannot fill it.

use heapless::Deque;

use crate::core::ArgvBuf;
use crate::limits::CHILDREN;
use crate::time::Duration;

/// Actions that fit in the queue: one spawn per child slot, plus room for
/// kills, reaps and the shutdown.
pub const ACTIONS: usize = 2 * CHILDREN + 16;

/// Identifies one run of a child process, from its request to its exit.
/// Never reused during a run of the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChildId(pub u32);

/// The user and group a child runs as (`MISC_CHECK`'s `user`), resolved
/// at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    /// User id.
    pub uid: u32,
    /// Group id (the only group the child keeps).
    pub gid: u32,
}

/// The signal a [`Action::Kill`] sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillSignal {
    /// `SIGTERM`: please stop (first, at the timeout).
    Term,
    /// `SIGKILL`: stop now (after the grace period).
    Kill,
}

/// One thing for the binary to do.
// `Spawn` carries its argv inline: there is no heap to box it on, and the
// queue is fixed-size anyway.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start a child process: fork, then in the child reset signals, make a
    /// new process group and `execve(argv)` (argument 0 looked up in `PATH` if
    /// it has no `/`). Report the outcome with
    /// [`handle_child_started`](crate::core::Core::handle_child_started) or
    /// [`handle_spawn_failed`](crate::core::Core::handle_spawn_failed). The
    /// core owns the timeout (it sends [`Action::Kill`]); it is here for logs.
    Spawn {
        /// Which run this is.
        child: ChildId,
        /// The arguments, NUL-terminated.
        argv: ArgvBuf,
        /// How long the core lets it run.
        timeout: Duration,
        /// Run as this user and group (`None`: picket's own).
        creds: Option<Creds>,
    },
    /// Send `signal` to the process group of child `pid` (the child leads
    /// its own group, so scripts' own children go too).
    Kill {
        /// The child (and its process group id).
        pid: i32,
        /// What to send.
        signal: KillSignal,
    },
    /// Collect every exited child (`waitpid(WNOHANG)` until none) and report
    /// each with [`handle_child_exit`](crate::core::Core::handle_child_exit).
    Reap,
    /// The core has finished stopping: release what the binary holds (pid
    /// file) and exit 0.
    Shutdown,
}

/// The fixed queue of actions.
pub type ActionQueue = Deque<Action, ACTIONS>;
