//! The state machine of one VRRP instance (RFC 5798 §6, with keepalived's
//! deviations), sans-IO. See the [module primer](super) for the election.
//!
//! Contract:
//!
//! - Inputs carry `now`; the machine never reads a clock. Call
//!   [`Instance::handle_timeout`] at or after [`Instance::poll_at`]; calling it
//!   early is harmless (nothing is due), calling it late acts late (timers are
//!   re-armed from `now`).
//! - [`Instance::handle_advert`] takes adverts the I/O layer has already
//!   checked (TTL, version, type, VRID, checksum, authentication, v2 interval
//!   match) and that were not sent by this host.
//! - Outputs are [`VrrpAction`]s in a fixed queue of [`ACTION_QUEUE`]; drain it
//!   with [`Instance::poll_action`] after every input. No input pushes more
//!   than [`MAX_ACTIONS_PER_INPUT`]; when the queue is full an action is dropped
//!   and counted ([`InstanceStats::action_queue_full`]).
//! - Every input that changes nothing says why in a comment and bumps a
//!   counter in [`InstanceStats`].
//!
//! Comments name the rule they follow: `RFC 5798 §6.4.x` or `keepalived:`
//! (from `/work/shared/reference/keepalived.md` §c) where keepalived differs.
//!
//! Sync groups ([`super::sync`]): a member ([`Instance::set_sync_member`])
//! does not go MASTER, nor leave FAULT, by itself. Its expired master-down
//! timer becomes a wish ([`Instance::take_master_wish`]), a cleared fault
//! only clears the flag, and the owner starts as BACKUP; the caller asks the
//! group and moves it with [`Instance::force_master`],
//! [`Instance::force_backup`] and [`Instance::force_fault`]. Instances
//! outside groups behave as before.
//!
//! Not here (yet): two address owners' "rogue" handling (keepalived §c item
//! 9; the normal tie-break already makes the lower address back off). VIP
//! deletion by others (item 12) is the engine's ([`super::engine::reflect`]):
//! picket adds the address again and stays MASTER.

use core::cmp::Ordering;
use core::fmt;
use core::net::IpAddr;

use heapless::Deque;

use crate::time::{Duration, Instant, earliest, is_due};

/// The priority of the address owner (RFC 5798 §5.2.4).
pub const OWNER_PRIORITY: u8 = 255;
/// Highest priority a non-owner may have, also after tracking (keepalived
/// clamps the effective priority to 1..=254).
pub const MAX_BACKUP_PRIORITY: u8 = 254;
/// keepalived's default `down_timer_adverts` (RFC 5798's factor 3).
pub const DEFAULT_DOWN_TIMER_ADVERTS: u8 = 3;
/// keepalived's upper bound for `down_timer_adverts`.
pub const MAX_DOWN_TIMER_ADVERTS: u8 = 100;
/// Largest v3 advert interval in centiseconds (12-bit field, RFC 5798 §5.2.7).
pub const MAX_ADVER_INT_V3_CS: u16 = 0x0FFF;
/// Largest v2 advert interval in centiseconds (8-bit field of seconds).
pub const MAX_ADVER_INT_V2_CS: u16 = 255 * 100;
/// Most actions one input pushes (becoming master: transition, advert, VIPs,
/// GARP).
pub const MAX_ACTIONS_PER_INPUT: usize = 4;
/// Capacity of an instance's action queue: four inputs' worth, so a caller
/// that drains once per loop turn never loses one.
pub const ACTION_QUEUE: usize = 4 * MAX_ACTIONS_PER_INPUT;

/// VRRP version of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// RFC 3768: interval in whole seconds, skew `(256 − prio)/256` s.
    V2,
    /// RFC 5798: interval in centiseconds, learnt from the master.
    V3,
}

/// Where an instance is (RFC 5798 §6.4, plus keepalived's FAULT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not running: before start, after shutdown (RFC 5798 §6.4.1).
    Initialize,
    /// Listening for the master (RFC 5798 §6.4.2).
    Backup,
    /// Forwarding for the virtual router (RFC 5798 §6.4.3).
    Master,
    /// keepalived: a tracked object failed; no addresses, no adverts.
    Fault,
}

impl fmt::Display for State {
    /// The word keepalived logs: `(VI_1) Entering {state} STATE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// The configured initial state (`state MASTER|BACKUP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WantedState {
    /// Start listening.
    Backup,
    /// Start as master — honoured only for the address owner (keepalived:
    /// any other priority waits for the master-down timer).
    Master,
}

/// Gratuitous ARP / unsolicited NA settings (keepalived's `garp_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GarpParams {
    /// Delay of the second burst after becoming master; zero: none.
    pub master_delay: Duration,
    /// Packets per burst on becoming master; zero: none.
    pub master_repeat: u16,
    /// Period of refresh bursts while master; zero: off.
    pub master_refresh: Duration,
    /// Packets per refresh burst.
    pub master_refresh_repeat: u16,
    /// Delay of the second burst after hearing a lower priority as master;
    /// zero: none.
    pub lower_prio_delay: Duration,
    /// Packets per burst after hearing a lower priority as master; zero:
    /// none.
    pub lower_prio_repeat: u16,
}

impl Default for GarpParams {
    /// keepalived's defaults: 5 packets, second burst after 5 s, no refresh;
    /// lower-priority values equal to the master ones.
    fn default() -> Self {
        GarpParams {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// Everything one instance runs from. The daemon maps the configuration to
/// this; [`Instance::new`] checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceParams {
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// Protocol version.
    pub version: Version,
    /// Own (base) priority, 1..=255; 255 is the address owner.
    pub priority: u8,
    /// `Advertisement_Interval` in centiseconds: v3 1..=4095, v2 a whole
    /// number of seconds 1..=255 (100..=25500).
    pub advert_int: u16,
    /// Preempt a lower-priority master (`preempt`, default; `nopreempt` off).
    pub preempt: bool,
    /// Hold preemption back this long at start and on hearing a lower
    /// master; zero: none.
    pub preempt_delay: Duration,
    /// VRRPv3 Accept_Mode: as master, accept packets addressed to the VIPs
    /// (keepalived's default is on). The owner always accepts.
    pub accept: bool,
    /// Master_Down_Interval multiplier, 1..=100 (RFC: 3).
    pub down_timer_adverts: u8,
    /// As master, do not re-advertise on hearing a lower priority.
    pub lower_prio_no_advert: bool,
    /// As master, send one advert before yielding to a higher priority.
    pub higher_prio_send_advert: bool,
    /// As owner (priority 255), drop every received advert.
    pub owner_ignore_adverts: bool,
    /// Primary address of the interface (the advert source), for the
    /// equal-priority tie-break.
    pub primary: IpAddr,
    /// Gratuitous ARP settings.
    pub garp: GarpParams,
    /// `state MASTER|BACKUP`.
    pub initial: WantedState,
}

impl InstanceParams {
    /// keepalived's defaults for `vrid`, `priority` and `primary`: v2, 1 s,
    /// preempt, no delay, accept, 3 adverts, re-advertise on lower priority,
    /// initial state MASTER for the owner and BACKUP otherwise.
    pub fn new(vrid: u8, priority: u8, primary: IpAddr) -> Self {
        InstanceParams {
            vrid,
            version: Version::V2,
            priority,
            advert_int: 100,
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept: true,
            down_timer_adverts: DEFAULT_DOWN_TIMER_ADVERTS,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            owner_ignore_adverts: false,
            primary,
            garp: GarpParams::default(),
            initial: if priority == OWNER_PRIORITY {
                WantedState::Master
            } else {
                WantedState::Backup
            },
        }
    }
}

/// Why [`Instance::new`] refused its parameters (the config layer catches
/// these first; this is the machine's own guard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsError {
    /// VRID 0 is reserved.
    VridZero,
    /// Priority 0 is only sent, never configured.
    PriorityZero,
    /// The advert interval is zero or too long for the version's field.
    AdvertInt,
    /// v2 intervals are whole seconds.
    AdvertIntNotWholeSeconds,
    /// `down_timer_adverts` outside 1..=100.
    DownTimerAdverts,
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamsError::VridZero => "virtual_router_id must be 1..255",
            ParamsError::PriorityZero => "priority must be 1..255",
            ParamsError::AdvertInt => "advert_int out of range (v2: 1..255 s, v3: 0.01..40.95 s)",
            ParamsError::AdvertIntNotWholeSeconds => "advert_int must be whole seconds for VRRPv2",
            ParamsError::DownTimerAdverts => "down_timer_adverts must be 1..100",
        })
    }
}

/// A received advert, already validated by the I/O layer, for this VRID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdvertInfo {
    /// IP source address (the sender's primary address).
    pub src: IpAddr,
    /// Advertised priority (0: the master is leaving).
    pub priority: u8,
    /// Advertised interval in centiseconds (v2: seconds × 100).
    pub adver_int: u16,
}

/// What the instance asks the I/O layer to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VrrpAction {
    /// Send one advert with this priority (0 when leaving master).
    SendAdvert {
        /// Priority field of the advert.
        priority: u8,
    },
    /// Add the virtual addresses (and eVIPs, routes, rules; with
    /// [`InstanceParams::accept`] off, install the DROP rules).
    AddVips,
    /// Remove what [`VrrpAction::AddVips`] added.
    RemoveVips,
    /// Send one burst of gratuitous ARPs / unsolicited NAs per VIP.
    SendGarp {
        /// Packets per VIP in this burst.
        count: u16,
    },
    /// The state changed: log `(NAME) Entering {to} STATE` once and count.
    Transition {
        /// Previous state.
        from: State,
        /// New state.
        to: State,
    },
    /// As master, an advert with a lower priority was heard (keepalived:
    /// log it, run `notify_master_rx_lower_pri`).
    MasterRxLowerPri {
        /// Its source.
        src: IpAddr,
        /// Its priority.
        priority: u8,
    },
}

/// Counters of one instance: events, and one per ignored input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstanceStats {
    /// Times the instance entered MASTER.
    pub became_master: u64,
    /// Times it entered BACKUP.
    pub became_backup: u64,
    /// Times it entered FAULT.
    pub became_fault: u64,
    /// Times it was stopped (to INIT).
    pub stopped: u64,
    /// Adverts asked for (all priorities).
    pub adverts_sent: u64,
    /// Of those, priority-0 adverts.
    pub priority_zero_sent: u64,
    /// Adverts handed in.
    pub adverts_received: u64,
    /// Priority-0 adverts received.
    pub priority_zero_received: u64,
    /// GARP bursts asked for.
    pub garp_bursts: u64,
    /// Ignored: advert while not running (INIT).
    pub advert_not_running: u64,
    /// Ignored: advert in FAULT.
    pub advert_in_fault: u64,
    /// Ignored: the owner drops adverts (`owner_ignore_adverts`).
    pub owner_ignored: u64,
    /// Ignored: v3 advert with interval 0.
    pub advert_int_zero: u64,
    /// Ignored: advert from another address family than the primary address.
    pub family_mismatch: u64,
    /// Backup: a lower-priority master ignored so that this one preempts.
    pub lower_prio_discarded: u64,
    /// Backup: a lower-priority master accepted because `preempt_delay` held.
    pub preempt_held: u64,
    /// Backup: a lower-priority master accepted because the hold after a
    /// watchdog reset ([`Instance::hold_after_reset`]) runs.
    pub reset_hold_followed: u64,
    /// `preempt_delay` holds that ran out.
    pub preempt_hold_ended: u64,
    /// Master: lower-priority adverts heard (keepalived re-advertises).
    pub master_rx_lower_prio: u64,
    /// Master: of those, heard at the instant one was already answered (a
    /// backlog read in one loop turn): not answered again.
    pub lower_prio_backlog: u64,
    /// Master: equal priority from a lower address, discarded (we win).
    pub tie_won: u64,
    /// Master: equal priority from our own address (misconfiguration).
    pub own_address_equal_priority: u64,
    /// Master: higher priority (or tie lost) made it yield.
    pub master_yielded: u64,
    /// `set_priority` on the owner (its priority cannot change).
    pub owner_priority_fixed: u64,
    /// `set_priority` values clamped to 1..=254.
    pub priority_clamped: u64,
    /// Effective priority changes.
    pub priority_changes: u64,
    /// `start` while already running.
    pub start_repeated: u64,
    /// `shutdown` while not running.
    pub shutdown_not_running: u64,
    /// `set_fault` with the current value.
    pub fault_unchanged: u64,
    /// Actions dropped because the queue was full.
    pub action_queue_full: u64,
    /// Sync member: master-down timer expiries turned into a wish for
    /// MASTER (the group decides).
    pub master_wishes: u64,
    /// Sync member: moves forced by the group.
    pub forced: u64,
    /// Sync member: a forced move that did not apply in the current state.
    pub force_ignored: u64,
}

/// The deadlines an instance keeps (quinn-proto's timer table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    /// Master: next advert (RFC Adver_Timer).
    Advert,
    /// Backup: the master is presumed down (RFC Master_Down_Timer).
    MasterDown,
    /// Backup: `preempt_delay` runs out.
    PreemptHold,
    /// Master: the second GARP burst.
    GarpDelayed,
    /// Master: the next GARP refresh.
    GarpRefresh,
}

impl Timer {
    const COUNT: usize = 5;
    const ALL: [Timer; Timer::COUNT] = [
        Timer::Advert,
        Timer::MasterDown,
        Timer::PreemptHold,
        Timer::GarpDelayed,
        Timer::GarpRefresh,
    ];

    /// Its name in logs.
    fn name(self) -> &'static str {
        match self {
            Timer::Advert => "advert timer",
            Timer::MasterDown => "master-down timer",
            Timer::PreemptHold => "preempt-delay timer",
            Timer::GarpDelayed => "delayed-GARP timer",
            Timer::GarpRefresh => "GARP-refresh timer",
        }
    }
}

/// A timer still due, and how late (for the watchdog's health gate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateTimer {
    /// Its name (`"advert timer"`, `"master-down timer"`, ...).
    pub timer: &'static str,
    /// How long past its deadline.
    pub late_by: Duration,
    /// How late it may be: one interval (Advertisement_Interval as master,
    /// Master_Adver_Interval as backup).
    pub budget: Duration,
}

/// One VRRP instance. See the module doc for the contract.
#[derive(Clone, Debug)]
pub struct Instance {
    params: InstanceParams,
    state: State,
    /// Effective priority: `requested`, at most `priority_cap`.
    priority: u8,
    /// The priority asked for (base, or set by tracking; clamped).
    requested: u8,
    /// Safe mode after watchdog resets: the highest priority advertised.
    priority_cap: u8,
    /// Backup: follow lower-priority masters until then (the hold after a
    /// watchdog reset); the owner starts as backup while it runs.
    reset_hold_until: Option<Instant>,
    /// RFC Master_Adver_Interval, centiseconds (v3: learnt from the master).
    master_adver_int: u16,
    timers: [Option<Instant>; Timer::COUNT],
    /// keepalived `preempt_time`: `None` until a hold starts; a hold is
    /// active while `now` is before it.
    preempt_until: Option<Instant>,
    /// Packets of the pending second GARP burst.
    garp_delayed_count: u16,
    /// Master: when a lower-priority advert was last answered.
    lower_prio_answered: Option<Instant>,
    /// A tracked object reports failure.
    fault: bool,
    /// Backup: the master last accepted (source, priority).
    master: Option<(IpAddr, u8)>,
    /// A member of a sync group (the group moves it to MASTER and out of
    /// FAULT).
    sync: bool,
    /// Sync member in BACKUP: its master-down timer ran out; held until
    /// the group lets it go MASTER, withdrawn when a master is heard.
    wants_master: bool,
    /// Sync member: a wish not yet taken by the caller.
    wish_pending: bool,
    actions: Deque<VrrpAction, ACTION_QUEUE>,
    stats: InstanceStats,
}

impl Instance {
    /// A stopped instance (INIT) for `params`; [`Instance::start`] runs it.
    pub fn new(params: InstanceParams) -> Result<Self, ParamsError> {
        if params.vrid == 0 {
            return Err(ParamsError::VridZero);
        }
        if params.priority == 0 {
            return Err(ParamsError::PriorityZero);
        }
        let max = match params.version {
            Version::V2 => MAX_ADVER_INT_V2_CS,
            Version::V3 => MAX_ADVER_INT_V3_CS,
        };
        if params.advert_int == 0 || params.advert_int > max {
            return Err(ParamsError::AdvertInt);
        }
        if params.version == Version::V2 && !params.advert_int.is_multiple_of(100) {
            return Err(ParamsError::AdvertIntNotWholeSeconds);
        }
        if params.down_timer_adverts == 0 || params.down_timer_adverts > MAX_DOWN_TIMER_ADVERTS {
            return Err(ParamsError::DownTimerAdverts);
        }
        Ok(Instance {
            priority: params.priority,
            requested: params.priority,
            priority_cap: OWNER_PRIORITY,
            reset_hold_until: None,
            master_adver_int: params.advert_int,
            params,
            state: State::Initialize,
            timers: [None; Timer::COUNT],
            preempt_until: None,
            garp_delayed_count: 0,
            lower_prio_answered: None,
            fault: false,
            master: None,
            sync: false,
            wants_master: false,
            wish_pending: false,
            actions: Deque::new(),
            stats: InstanceStats::default(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &InstanceParams {
        &self.params
    }

    /// A reload keeps this running machine with new parameters (checked by
    /// [`Instance::new`] on the new configuration): state, timers and the
    /// master heard are kept, so nothing flaps. A changed advert interval
    /// applies from the next advert (a master's next one comes no later
    /// than the new interval). A changed base priority applies when the
    /// caller recomputes the effective one ([`Instance::set_priority`]);
    /// becoming or ceasing to be the owner (255) applies at once.
    pub fn reconfigure(&mut self, now: Instant, params: InstanceParams) {
        let old = self.params;
        self.params = params;
        if (old.priority == OWNER_PRIORITY) != (params.priority == OWNER_PRIORITY) {
            self.priority = params.priority;
            if self.state == State::Master {
                self.send_advert(self.priority);
            }
        }
        if params.advert_int != old.advert_int {
            if self.state != State::Backup || params.version == Version::V2 {
                self.master_adver_int = params.advert_int;
            }
            if self.state == State::Master {
                let next = now + self.advertisement_interval();
                if self.timers[Timer::Advert as usize].is_none_or(|t| t > next) {
                    self.arm(Timer::Advert, next);
                }
            }
        }
        if !params.preempt || params.preempt_delay == Duration::ZERO {
            self.preempt_until = None;
            self.timers[Timer::PreemptHold as usize] = None;
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The effective priority (what adverts carry while master).
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// Whether this is the address owner (base priority 255).
    pub fn is_owner(&self) -> bool {
        self.params.priority == OWNER_PRIORITY
    }

    /// Whether a tracked object reports failure.
    pub fn is_faulty(&self) -> bool {
        self.fault
    }

    /// Backup: the master last accepted, as (source, priority).
    pub fn master(&self) -> Option<(IpAddr, u8)> {
        self.master
    }

    /// The counters.
    pub fn stats(&self) -> &InstanceStats {
        &self.stats
    }

    /// Zeroes the counters (keepalived's STATS_CLEAR).
    pub fn clear_stats(&mut self) {
        self.stats = InstanceStats::default();
    }

    /// Whether packets addressed to the VIPs are to be accepted now
    /// (RFC 5798 §6.4.3: master with Accept_Mode, or the owner).
    pub fn accepts_vip_traffic(&self) -> bool {
        self.state == State::Master && (self.params.accept || self.is_owner())
    }

    /// RFC Advertisement_Interval (own).
    pub fn advertisement_interval(&self) -> Duration {
        centis(self.params.advert_int)
    }

    /// RFC Master_Adver_Interval (v3: the master's, once learnt; v2: own).
    pub fn master_adver_interval(&self) -> Duration {
        centis(self.master_adver_int)
    }

    /// RFC Skew_Time at the effective priority.
    pub fn skew_time(&self) -> Duration {
        let weight = 256 - u64::from(self.priority);
        match self.params.version {
            // RFC 3768 §6.1: (256 − Priority) / 256 seconds.
            Version::V2 => Duration::from_micros(weight * 1_000_000 / 256),
            // RFC 5798 §6.1: ((256 − Priority) × Master_Adver_Interval) / 256.
            Version::V3 => {
                Duration::from_micros(weight * u64::from(self.master_adver_int) * 10_000 / 256)
            }
        }
    }

    /// RFC Master_Down_Interval: `down_timer_adverts` × Master_Adver_Interval
    /// + Skew_Time (RFC 5798 §6.1 with 3; keepalived makes 3 configurable).
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_interval() * u32::from(self.params.down_timer_adverts) + self.skew_time()
    }

    /// The earliest deadline: call [`Instance::handle_timeout`] at or after
    /// it. `None`: nothing scheduled.
    pub fn poll_at(&self) -> Option<Instant> {
        self.timers.iter().fold(None, |acc, t| earliest(acc, *t))
    }

    /// The most overdue timer at `now`, if one is due: a timer still due
    /// after [`Instance::handle_timeout`] ran, or one the loop came to late,
    /// means the machine is not keeping its schedule.
    pub fn late_timer(&self, now: Instant) -> Option<LateTimer> {
        let (timer, at) = Timer::ALL
            .iter()
            .filter_map(|&t| self.timers[t as usize].map(|at| (t, at)))
            .filter(|&(_, at)| at <= now)
            .min_by_key(|&(_, at)| at)?;
        Some(LateTimer {
            timer: timer.name(),
            late_by: now - at,
            budget: if timer == Timer::MasterDown {
                self.master_adver_interval()
            } else {
                self.advertisement_interval()
            },
        })
    }

    /// After a watchdog reset (call before [`Instance::start`]): until
    /// `until`, start as BACKUP (the owner too) and follow a lower-priority
    /// master instead of preempting it. With no master heard, the
    /// master-down timer still makes it MASTER.
    pub fn hold_after_reset(&mut self, until: Instant) {
        self.reset_hold_until = Some(until);
    }

    /// Caps the advertised priority (safe mode: 1; [`OWNER_PRIORITY`]: no
    /// cap). The owner is capped too. A master advertises the new value at
    /// once.
    pub fn set_priority_cap(&mut self, now: Instant, cap: u8) {
        self.priority_cap = cap.max(1);
        self.apply_priority(now);
    }

    /// Makes this instance a sync-group member (`true`) or not; set before
    /// [`Instance::start`]. See the module doc.
    pub fn set_sync_member(&mut self, sync: bool) {
        self.sync = sync;
    }

    /// The instance's own address changed (the reflector saw the
    /// interface's primary address change): the equal-priority tie-break
    /// compares with the new one from now on.
    pub fn set_primary(&mut self, primary: IpAddr) {
        self.params.primary = primary;
    }

    /// Sync member in BACKUP: whether its master-down timer ran out and no
    /// master was heard since (it wants MASTER).
    pub fn wants_master(&self) -> bool {
        self.wants_master
    }

    /// Sync member: `true` once after its master-down timer ran out (ask
    /// the group, then [`Instance::force_master`] if it agrees).
    pub fn take_master_wish(&mut self) -> bool {
        core::mem::take(&mut self.wish_pending)
    }

    /// Sync group: go MASTER now (from BACKUP only).
    pub fn force_master(&mut self, now: Instant) {
        if self.state != State::Backup {
            self.stats.force_ignored += 1;
            return;
        }
        self.stats.forced += 1;
        self.become_master(now, State::Backup);
    }

    /// Sync group: go BACKUP now. From MASTER: drop the VIPs (keepalived
    /// `vrrp_sync_backup`, no priority-0 advert) and wait
    /// Master_Down_Interval; from FAULT (the group's fault cleared): as
    /// leaving FAULT. Ignored while the own fault flag is set.
    pub fn force_backup(&mut self, now: Instant) {
        match self.state {
            State::Master => {
                self.stats.forced += 1;
                self.push(VrrpAction::RemoveVips);
                self.enter_backup(now, State::Master, self.master_down_interval());
            }
            State::Fault if !self.fault => {
                self.stats.forced += 1;
                self.master_adver_int = self.params.advert_int;
                self.enter_backup(now, State::Fault, self.initial_down_interval());
            }
            State::Backup | State::Fault | State::Initialize => self.stats.force_ignored += 1,
        }
    }

    /// Sync group: go FAULT now (another member failed). A master sends a
    /// priority-0 advert and drops the VIPs, as for its own fault. The own
    /// fault flag is not set: [`Instance::force_backup`] brings it back.
    pub fn force_fault(&mut self, _now: Instant) {
        match self.state {
            State::Master => {
                self.stats.forced += 1;
                self.send_advert(0);
                self.push(VrrpAction::RemoveVips);
                self.enter_fault(State::Master);
            }
            State::Backup => {
                self.stats.forced += 1;
                self.enter_fault(State::Backup);
            }
            State::Fault | State::Initialize => self.stats.force_ignored += 1,
        }
    }

    /// The next action, oldest first.
    pub fn poll_action(&mut self) -> Option<VrrpAction> {
        self.actions.pop_front()
    }

    /// Starts the instance (RFC 5798 §6.4.1 Startup event).
    pub fn start(&mut self, now: Instant) {
        if self.state != State::Initialize {
            // Already running: a second start would re-send adverts and
            // re-add VIPs for nothing.
            self.stats.start_repeated += 1;
            return;
        }
        self.master_adver_int = self.params.advert_int;
        if self.fault {
            // keepalived: an instance whose tracking already failed starts in
            // FAULT and waits for `set_fault(false)`.
            self.enter_fault(State::Initialize);
            return;
        }
        let held = self.reset_hold_until.is_some_and(|t| t > now);
        if self.is_owner() && self.params.initial == WantedState::Master && !self.sync && !held {
            // RFC 5798 §6.4.1: the owner becomes master at once.
            self.become_master(now, State::Initialize);
            return;
        }
        // keepalived: `preempt_delay` holds preemption from start-up.
        self.preempt_until = None;
        if self.params.preempt && self.params.preempt_delay != Duration::ZERO {
            self.start_preempt_hold(now);
        }
        // RFC 5798 §6.4.1: Master_Adver_Interval = Advertisement_Interval,
        // Master_Down_Timer = Master_Down_Interval, go Backup.
        self.enter_backup(now, State::Initialize, self.initial_down_interval());
    }

    /// Stops the instance (RFC 5798 §6.4.2/§6.4.3 Shutdown event): a master
    /// sends a priority-0 advert and drops the VIPs; every state goes INIT.
    pub fn shutdown(&mut self, _now: Instant) {
        let from = self.state;
        match from {
            State::Initialize => {
                // Not running: nothing to stop.
                self.stats.shutdown_not_running += 1;
                return;
            }
            State::Master => {
                // RFC 5798 §6.4.3: cancel Adver_Timer, send priority 0.
                self.send_advert(0);
                self.push(VrrpAction::RemoveVips);
            }
            // RFC 5798 §6.4.2: cancel Master_Down_Timer.
            State::Backup | State::Fault => {}
        }
        self.clear_timers();
        self.master = None;
        self.state = State::Initialize;
        self.stats.stopped += 1;
        self.push(VrrpAction::Transition {
            from,
            to: State::Initialize,
        });
    }

    /// A tracked object failed (`true`) or recovered (`false`).
    pub fn set_fault(&mut self, now: Instant, fault: bool) {
        if self.fault == fault {
            // No change: tracking reports levels, not edges.
            self.stats.fault_unchanged += 1;
            return;
        }
        self.fault = fault;
        match (self.state, fault) {
            // Not running: remembered; `start` goes to FAULT.
            (State::Initialize, _) => {}
            (State::Master, true) => {
                // keepalived: MASTER→FAULT sends a priority-0 advert so the
                // backup takes over after Skew_Time, and drops the VIPs.
                self.send_advert(0);
                self.push(VrrpAction::RemoveVips);
                self.enter_fault(State::Master);
            }
            (State::Backup, true) => self.enter_fault(State::Backup),
            (State::Fault, false) if self.sync => {
                // Sync member: the group decides when FAULT ends
                // (`force_backup`).
            }
            (State::Fault, false) => {
                // keepalived (`try_up_instance`): leave FAULT as BACKUP; the
                // owner waits Advertisement_Interval + Skew_Time, others
                // Master_Down_Interval.
                self.master_adver_int = self.params.advert_int;
                self.enter_backup(now, State::Fault, self.initial_down_interval());
            }
            // FAULT iff the flag while running, except a sync member the
            // group holds in FAULT: nothing to do.
            (State::Master | State::Backup, false) | (State::Fault, true) => {}
        }
    }

    /// Sets the effective priority (tracking). The owner's cannot change;
    /// other values are clamped to 1..=254. A master advertises the new
    /// value at once (keepalived).
    pub fn set_priority(&mut self, now: Instant, effective: u8) {
        if self.is_owner() {
            // keepalived: an owner at 255 cannot be changed by trackers.
            self.stats.owner_priority_fixed += 1;
            return;
        }
        let p = effective.clamp(1, MAX_BACKUP_PRIORITY);
        if p != effective {
            self.stats.priority_clamped += 1;
        }
        self.requested = p;
        self.apply_priority(now);
    }

    /// Makes the effective priority `requested` under the cap.
    fn apply_priority(&mut self, now: Instant) {
        let p = self.requested.min(self.priority_cap);
        if p == self.priority {
            return;
        }
        self.priority = p;
        self.stats.priority_changes += 1;
        if self.state == State::Master {
            // keepalived: a changed priority is advertised at once, so a
            // backup with a now higher priority preempts without waiting.
            self.send_advert(p);
            self.arm(Timer::Advert, now + self.advertisement_interval());
        }
        // Backup: the new Skew_Time applies from the next timer reset.
    }

    /// An advert for this VRID arrived.
    pub fn handle_advert(&mut self, now: Instant, advert: &AdvertInfo) {
        self.stats.adverts_received += 1;
        if advert.priority == 0 {
            self.stats.priority_zero_received += 1;
        }
        match self.state {
            State::Initialize => {
                // RFC 5798 §6.4.1: only Startup leaves Initialize.
                self.stats.advert_not_running += 1;
                return;
            }
            State::Fault => {
                // keepalived: FAULT does not take part in the election.
                self.stats.advert_in_fault += 1;
                return;
            }
            State::Backup | State::Master => {}
        }
        if self.is_owner() && self.params.owner_ignore_adverts {
            // keepalived `owner_ignore_adverts` (RFC behaviour): the owner
            // never yields, so adverts cannot change anything.
            self.stats.owner_ignored += 1;
            return;
        }
        if self.params.version == Version::V3 && advert.adver_int == 0 {
            // A zero interval would make Master_Down_Interval zero and the
            // backup take over at once; no valid master sends it.
            self.stats.advert_int_zero += 1;
            return;
        }
        match self.state {
            State::Backup => self.backup_rx(now, advert),
            State::Master => self.master_rx(now, advert),
            State::Initialize | State::Fault => {}
        }
    }

    /// Runs every deadline due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.due(now, Timer::PreemptHold) {
            // keepalived: the hold is over; the next lower-priority advert is
            // discarded, so the master-down timer runs out.
            self.timers[Timer::PreemptHold as usize] = None;
            self.stats.preempt_hold_ended += 1;
        }
        match self.state {
            State::Backup => {
                if self.due(now, Timer::MasterDown) {
                    if self.sync {
                        // keepalived (`vrrp_sync_can_goto_master`): a member
                        // only wishes; the group moves it.
                        self.timers[Timer::MasterDown as usize] = None;
                        self.wants_master = true;
                        self.wish_pending = true;
                        self.stats.master_wishes += 1;
                    } else {
                        // RFC 5798 §6.4.2: Master_Down_Timer fired → Master.
                        self.become_master(now, State::Backup);
                    }
                }
            }
            State::Master => {
                if self.due(now, Timer::Advert) {
                    // RFC 5798 §6.4.3: send an advert, reset Adver_Timer.
                    self.send_advert(self.priority);
                    self.rearm_advert(now);
                }
                if self.due(now, Timer::GarpDelayed) {
                    // keepalived: second burst after garp_master_delay (or
                    // garp_lower_prio_delay).
                    self.timers[Timer::GarpDelayed as usize] = None;
                    self.send_garp(self.garp_delayed_count);
                }
                if self.due(now, Timer::GarpRefresh) {
                    // keepalived: garp_master_refresh.
                    self.send_garp(self.params.garp.master_refresh_repeat);
                    self.arm(Timer::GarpRefresh, now + self.params.garp.master_refresh);
                }
            }
            // No timers run in these states.
            State::Initialize | State::Fault => {}
        }
    }

    // --- transitions -------------------------------------------------------

    /// RFC 5798 §6.4.2 (Backup receiving an advert).
    fn backup_rx(&mut self, now: Instant, advert: &AdvertInfo) {
        if advert.priority == 0 {
            // RFC 5798 §6.4.2: the master is leaving; Master_Down_Timer =
            // Skew_Time (keepalived item 7).
            self.master = None;
            self.arm(Timer::MasterDown, now + self.skew_time());
            return;
        }
        let own = self.priority;
        let delay = self.params.preempt && self.params.preempt_delay != Duration::ZERO;
        let lower = advert.priority < own;
        let held = delay && lower && self.preempt_until.is_none_or(|t| t > now);
        let damped = lower && self.reset_hold_until.is_some_and(|t| t > now);
        if !self.params.preempt || !lower || held || damped {
            if held {
                // keepalived item 7: `preempt_delay` pending, so a lower
                // master is followed like any other for now.
                self.stats.preempt_held += 1;
            } else if damped && self.params.preempt {
                // picket: back from a watchdog reset, this board does not
                // take the addresses from a working master yet.
                self.stats.reset_hold_followed += 1;
            }
            if delay {
                if advert.priority > own {
                    // keepalived: a higher master restarts the hold.
                    self.start_preempt_hold(now);
                } else if lower && self.preempt_until.is_none() {
                    // keepalived: first lower master heard starts the hold.
                    self.start_preempt_hold(now);
                }
            }
            // RFC 5798 §6.4.2: priority ≥ own, or Preempt_Mode false: (v3)
            // Master_Adver_Interval from the advert, recompute, and reset
            // Master_Down_Timer to Master_Down_Interval.
            self.learn_interval(advert);
            self.master = Some((advert.src, advert.priority));
            self.arm(Timer::MasterDown, now + self.master_down_interval());
        } else {
            // RFC 5798 §6.4.2 "Discard the ADVERTISEMENT": lower priority
            // with preempt — the timer is NOT reset, so we take over.
            self.stats.lower_prio_discarded += 1;
        }
    }

    /// RFC 5798 §6.4.3 (Master receiving an advert).
    fn master_rx(&mut self, now: Instant, advert: &AdvertInfo) {
        let own = self.priority;
        if advert.priority == 0 {
            // RFC 5798 §6.4.3: another master left; advertise at once so
            // backups do not take over, and reset Adver_Timer.
            self.send_advert(own);
            self.arm(Timer::Advert, now + self.advertisement_interval());
            return;
        }
        match advert.priority.cmp(&own) {
            Ordering::Greater => {}
            Ordering::Less => {
                self.master_rx_lower(now, advert);
                return;
            }
            Ordering::Equal => match addr_cmp(advert.src, self.params.primary) {
                None => {
                    // Mixed families cannot be ordered; the I/O layer keeps
                    // them apart, so this is a peer on another socket.
                    self.stats.family_mismatch += 1;
                    return;
                }
                Some(Ordering::Greater) => {}
                Some(Ordering::Less) => {
                    // RFC 5798 §6.4.3 says discard; keepalived treats an
                    // equal priority from a lower address as a lower
                    // priority: re-advertise and GARP, so the other master
                    // yields at once and caches it fed heal (split brain).
                    self.stats.tie_won += 1;
                    self.master_rx_lower(now, advert);
                    return;
                }
                Some(Ordering::Equal) => {
                    // keepalived item 10: "equal priority advert received from
                    // remote host with our IP address" — misconfiguration.
                    self.stats.own_address_equal_priority += 1;
                    return;
                }
            },
        }
        // RFC 5798 §6.4.3: higher priority, or equal priority and higher
        // primary address → Backup.
        self.stats.master_yielded += 1;
        if self.params.higher_prio_send_advert {
            // keepalived `higher_prio_send_advert`: one last advert first.
            self.send_advert(own);
        }
        self.push(VrrpAction::RemoveVips);
        // RFC 5798 §6.4.3: Master_Adver_Interval from the advert (v3),
        // Master_Down_Timer = Master_Down_Interval.
        self.learn_interval(advert);
        self.master = Some((advert.src, advert.priority));
        self.enter_backup(now, State::Master, self.master_down_interval());
    }

    /// keepalived item 8: a master hearing a lower priority re-advertises
    /// ("forcing new election", RFC 9568 behaviour) unless
    /// `lower_prio_no_advert`, sends a GARP burst, and runs
    /// `notify_master_rx_lower_pri` ([`VrrpAction::MasterRxLowerPri`]).
    fn master_rx_lower(&mut self, now: Instant, advert: &AdvertInfo) {
        self.stats.master_rx_lower_prio += 1;
        if self.lower_prio_answered == Some(now) {
            // picket: adverts handed in at one instant are a backlog read in
            // one loop turn (this process was stopped or starved while a
            // lower-priority router advertised): one answer covers them
            // all; answering each would send a burst of adverts, GARPs and
            // notify runs as long as the backlog.
            self.stats.lower_prio_backlog += 1;
            return;
        }
        self.lower_prio_answered = Some(now);
        if !self.params.lower_prio_no_advert {
            // keepalived: extra advert; the Adver_Timer keeps its deadline —
            // unless it is due now (a late turn): then this advert is the
            // due one, and the timer is reset as if it had fired.
            self.send_advert(self.priority);
            if self.due(now, Timer::Advert) {
                self.rearm_advert(now);
            }
        }
        let g = self.params.garp;
        if g.lower_prio_repeat > 0 {
            self.send_garp(g.lower_prio_repeat);
            if g.lower_prio_delay != Duration::ZERO {
                self.garp_delayed_count = g.lower_prio_repeat;
                self.arm(Timer::GarpDelayed, now + g.lower_prio_delay);
            }
        }
        self.push(VrrpAction::MasterRxLowerPri {
            src: advert.src,
            priority: advert.priority,
        });
    }

    /// RFC 5798 §6.4.1/§6.4.2: send an advert, (keepalived item 11) add the
    /// VIPs, GARP, Adver_Timer = Advertisement_Interval, go Master.
    fn become_master(&mut self, now: Instant, from: State) {
        self.clear_timers();
        self.state = State::Master;
        self.master = None;
        self.master_adver_int = self.params.advert_int;
        // keepalived: the next time as backup a lower master is held again.
        self.preempt_until = None;
        self.stats.became_master += 1;
        self.push(VrrpAction::Transition {
            from,
            to: State::Master,
        });
        self.send_advert(self.priority);
        self.push(VrrpAction::AddVips);
        let g = self.params.garp;
        if g.master_repeat > 0 {
            self.send_garp(g.master_repeat);
            if g.master_delay != Duration::ZERO {
                self.garp_delayed_count = g.master_repeat;
                self.arm(Timer::GarpDelayed, now + g.master_delay);
            }
        }
        if g.master_refresh != Duration::ZERO {
            self.arm(Timer::GarpRefresh, now + g.master_refresh);
        }
        self.arm(Timer::Advert, now + self.advertisement_interval());
    }

    /// Go Backup with the master-down timer at `now + down`. Keeps the
    /// preempt hold.
    fn enter_backup(&mut self, now: Instant, from: State, down: Duration) {
        let hold = self.timers[Timer::PreemptHold as usize];
        self.clear_timers();
        self.timers[Timer::PreemptHold as usize] = hold;
        self.state = State::Backup;
        self.stats.became_backup += 1;
        self.push(VrrpAction::Transition {
            from,
            to: State::Backup,
        });
        self.arm(Timer::MasterDown, now + down);
    }

    fn enter_fault(&mut self, from: State) {
        self.clear_timers();
        self.master = None;
        self.state = State::Fault;
        self.stats.became_fault += 1;
        self.push(VrrpAction::Transition {
            from,
            to: State::Fault,
        });
    }

    /// Master-down wait when starting or leaving FAULT: RFC 5798 §6.4.1
    /// Master_Down_Interval; keepalived (`try_up_instance`): the owner waits
    /// only Advertisement_Interval + Skew_Time.
    fn initial_down_interval(&self) -> Duration {
        if self.is_owner() {
            self.advertisement_interval() + self.skew_time()
        } else {
            self.master_down_interval()
        }
    }

    // --- helpers -----------------------------------------------------------

    fn learn_interval(&mut self, advert: &AdvertInfo) {
        // RFC 5798 §6.4.2/§6.4.3: v3 takes Master_Adver_Interval from the
        // master. v2 keeps its own (RFC 3768 has no such field; a mismatch is
        // dropped by the I/O layer, keepalived item 4).
        if self.params.version == Version::V3 {
            self.master_adver_int = advert.adver_int.min(MAX_ADVER_INT_V3_CS);
        }
    }

    fn start_preempt_hold(&mut self, now: Instant) {
        let until = now + self.params.preempt_delay;
        self.preempt_until = Some(until);
        self.arm(Timer::PreemptHold, until);
    }

    fn send_advert(&mut self, priority: u8) {
        self.stats.adverts_sent += 1;
        if priority == 0 {
            self.stats.priority_zero_sent += 1;
        }
        self.push(VrrpAction::SendAdvert { priority });
    }

    fn send_garp(&mut self, count: u16) {
        if count == 0 {
            return;
        }
        self.stats.garp_bursts += 1;
        self.push(VrrpAction::SendGarp { count });
    }

    /// Adver_Timer after an advert it made due: from its deadline, so a
    /// loop turn that runs late does not stretch the interval (from `now`
    /// if it ran later than a whole interval: no burst).
    fn rearm_advert(&mut self, now: Instant) {
        let interval = self.advertisement_interval();
        let next = self.timers[Timer::Advert as usize].unwrap_or(now) + interval;
        self.arm(
            Timer::Advert,
            if next > now { next } else { now + interval },
        );
    }

    fn push(&mut self, a: VrrpAction) {
        if self.actions.push_back(a).is_err() {
            self.stats.action_queue_full += 1;
        }
    }

    fn arm(&mut self, t: Timer, at: Instant) {
        if t == Timer::MasterDown {
            // A master was heard (or the wait restarts): no wish any more.
            self.wants_master = false;
            self.wish_pending = false;
        }
        self.timers[t as usize] = Some(at);
    }

    fn due(&self, now: Instant, t: Timer) -> bool {
        is_due(now, self.timers[t as usize])
    }

    fn clear_timers(&mut self) {
        self.wants_master = false;
        self.wish_pending = false;
        self.timers = [None; Timer::COUNT];
    }
}

/// A centisecond count as a [`Duration`].
fn centis(cs: u16) -> Duration {
    Duration::from_millis(u64::from(cs) * 10)
}

/// Orders two addresses as unsigned integers in network order (RFC 5798
/// §6.4.3 "primary IP address ... is greater"). `None` across families.
fn addr_cmp(a: IpAddr, b: IpAddr) -> Option<Ordering> {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => Some(u32::from(x).cmp(&u32::from(y))),
        (IpAddr::V6(x), IpAddr::V6(y)) => Some(u128::from(x).cmp(&u128::from(y))),
        _ => None,
    }
}
