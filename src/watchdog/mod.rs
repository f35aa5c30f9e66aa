//! Watchdog supervision, sans-IO: when to kick, when not to, and what a
//! reset means at the next start.
//!
//! - [`health`]: every part of the daemon (the loop turn, VRRP timers,
//!   netlink requests, child processes, checkers) reports how late it is;
//!   [`health::Health`] allows a kick at the end of a turn only when every
//!   part is inside its budget, at most once per kick period, and says
//!   which part is behind and by how much when it is not.
//! - [`recovery`]: the state file that survives a reset (its text form),
//!   what the last end of picket was (a watchdog reset, an unclean reboot,
//!   a crash), and the boot-loop damping that follows: instances start in
//!   BACKUP and hold preemption for `watchdog_reset_hold`, and after
//!   `watchdog_safe_mode_resets` resets in a row picket runs in safe mode
//!   (priority 1) until a run lasts `watchdog_reset_window`.
//! - [`notify`]: the systemd notification protocol's environment
//!   (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`) and messages.
//!
//! The binary owns the devices (`sys::watchdog`, `sys::notify`, the state
//! file) and turns these decisions into system calls.

pub mod health;
pub mod notify;
pub mod recovery;
