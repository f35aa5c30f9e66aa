//! VRRP (RFC 5798 / RFC 9568, and RFC 3768 for v2) as keepalived runs it.
//!
//! The per-instance state machine ([`fsm`]), sync groups ([`sync`]), and
//! the engine around them ([`engine`]), all sans-IO; the binary does the
//! I/O.
//!
//! # Election primer
//!
//! One [`Instance`] is one virtual router (one VRID on one interface). It is
//! in one of four [`State`]s:
//!
//! - **Initialize**: not running (before [`Instance::start`], after
//!   [`Instance::shutdown`]).
//! - **Backup**: listens. The *master-down timer* runs for
//!   `Master_Down_Interval = down_timer_adverts × Master_Adver_Interval +
//!   Skew_Time`; every advert it accepts restarts it. When it fires, the
//!   instance becomes master. A lower priority skews later, so of several
//!   backups the highest priority fires first and its adverts silence the
//!   others. A priority-0 advert (the master is leaving) cuts the wait to
//!   `Skew_Time`.
//! - **Master**: owns the virtual addresses and advertises every
//!   `Advertisement_Interval`. It yields to a higher priority, or to an equal
//!   priority from a higher primary address.
//! - **Fault**: a tracked object failed; holds no address, sends nothing.
//!
//! Preemption: a backup with `preempt` (the default) ignores a master with a
//! lower priority — it does not restart its timer — so it takes over one
//! `Master_Down_Interval` later. `preempt_delay` holds that back for a while
//! after start (or after first hearing the lower master).
//!
//! The machine takes values in (`start`, `handle_advert`, `handle_timeout`,
//! `set_priority`, `set_fault`, `shutdown`, each with `now`), keeps deadlines
//! (`poll_at`), and pushes [`VrrpAction`]s out (`poll_action`).

pub mod engine;
pub mod fsm;
pub mod notify;
pub mod peers;
pub mod sync;
pub mod track;

pub use fsm::{
    AdvertInfo, GarpParams, Instance, InstanceParams, InstanceStats, ParamsError, State, Version,
    VrrpAction, WantedState,
};

#[cfg(test)]
mod tests;
