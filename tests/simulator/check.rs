//! The invariants, and the RFC timer arithmetic they rest on.
//!
//! 1. **Election** ([`election`]): once the network has been stable for
//!    [`settle`], every virtual router has exactly one master among its
//!    members that run with their link up, and no such member that would
//!    preempt it has a higher priority; every other one is BACKUP, and
//!    follows it once the master's next advert has reached it
//!    ([`next_advert`]).
//! 2. **VIPs** ([`vips`]): after every input, an instance holds its VIPs
//!    (an `AddVips` not undone by a `RemoveVips`) exactly while it is
//!    MASTER.
//! 3. **Causes** ([`cause`]): every state change comes with an input that
//!    the RFC's state table (RFC 5798 §6.4, RFC 3768 §6.4, keepalived's
//!    FAULT) allows to cause it, at the time it allows it.
//!
//! # Ties and `nopreempt`
//!
//! The invariant is RFC 5798's, which is not quite "the highest priority,
//! ties to the highest address": a BACKUP resets its master-down timer on
//! an advert whose priority is *greater than or equal to* its own
//! (§6.4.2), so a master is never displaced by a router of equal priority
//! that comes later, whatever their addresses; the address decides only
//! between two masters that hear each other (§6.4.3), which the cause check
//! verifies on every such change (the lower address yields, to an advert of
//! equal priority from the higher one). Likewise a BACKUP with
//! `nopreempt` (Preempt_Mode false) follows a lower-priority master. So:
//! the master's priority is at least that of every member with preempt, and
//! among equal priorities any one may keep mastership.

use std::net::IpAddr;

use picket::vrrp::State;

use super::scenario::{Scenario, Us, VrSpec};
use super::world::{ArmedBy, Change, Input, View, World};

/// RFC Skew_Time at `priority` with Master_Adver_Interval `interval` (µs),
/// µs, truncated as the engine's microsecond clock: RFC 3768 §6.1
/// `(256 − Priority) / 256` seconds for VRRPv2, RFC 5798 §6.1
/// `((256 − Priority) × Master_Adver_Interval) / 256` for VRRPv3.
pub fn skew(vr: &VrSpec, interval: Us, priority: u8) -> Us {
    let weight = 256 - Us::from(priority);
    match vr.version {
        2 => weight * 1_000_000 / 256,
        _ => weight * interval / 256,
    }
}

/// RFC Master_Down_Interval at `priority` with Master_Adver_Interval
/// `interval` (µs), µs: `down_timer_adverts` (the RFC's 3; keepalived makes
/// it configurable) × Master_Adver_Interval + Skew_Time.
pub fn master_down(vr: &VrSpec, interval: Us, priority: u8) -> Us {
    Us::from(vr.down_adverts) * interval + skew(vr, interval, priority)
}

/// How long after the segment became stable — no loss, no partition, no
/// membership change, and the last advert sent during the fault phase
/// delivered — virtual router `v` must satisfy the election invariant.
/// `lowest` is the lowest effective priority any member had so far.
///
/// With `MDI` = Master_Down_Interval at `lowest` and the longest
/// Advertisement_Interval of any member (the longest any member's
/// master-down timer can have been armed with: [`master_down`]), `S` = the
/// timer slack (how late a loop turn wakes for a deadline while stable),
/// and `L` = the segment's latency plus its stable jitter (the longest an
/// advert travels):
///
/// - **`MDI + S + L`** without `preempt_delay`. Every timer armed before
///   stability runs out within `MDI`, and is handled within `S`. During
///   stability a BACKUP's timer is re-armed only by an advert it may
///   follow (RFC 5798 §6.4.2: priority at least its own, or Preempt_Mode
///   off), and the highest priority among masters never decreases (a
///   master yields only to a higher priority, or to an equal one from a
///   higher address: §6.4.3). So a preempting member that is to be master
///   has heard nobody it follows since before stability: it is MASTER
///   within `MDI + S` and sends its first advert at once; within `L` every
///   other member has it, and a master that receives it yields (§6.4.3).
///   Two masters present at stability hear each other's periodic adverts
///   within one Advertisement_Interval + `S + L`, less than `MDI + S + L`
///   (`down_timer_adverts` is at least 2 here).
/// - **`2 × (MDI + S + L) + preempt_delay`** when a member has
///   `preempt_delay` (the longest). keepalived starts the hold at start-up
///   or on the first lower-priority master heard: the first master appears
///   within `MDI + S` and is heard within `L`; the hold runs out
///   `preempt_delay` later (a comparison with the clock, not a timer); from
///   then lower adverts are discarded, so the timer runs out within `MDI +
///   S`; the new master's advert takes `L`.
///
/// The check itself runs at every step from then until the end of the
/// round, so a later flap fails it too. [`Scenario::timer_late`] (a busy
/// loop) applies to fault phases only.
pub fn settle(scn: &Scenario, v: usize, lowest: u8) -> Us {
    let vr = &scn.vrs[v];
    let lat = scn.latency + scn.stable_jitter;
    let mdi = master_down(vr, vr.max_interval_us(), lowest) + scn.timer_slack;
    let delay = vr
        .members
        .iter()
        .map(|m| m.preempt_delay)
        .max()
        .unwrap_or(0);
    if delay == 0 {
        mdi + lat
    } else {
        2 * (mdi + lat) + delay
    }
}

/// How long after [`settle`] every backup of `v` has the master's next
/// periodic advert: the longest Advertisement_Interval, the timer slack and
/// the latency. Until then a backup may still follow a master that yielded
/// with keepalived's `higher_prio_send_advert`: its last advert can arrive
/// after the new master's first one.
pub fn next_advert(scn: &Scenario, v: usize) -> Us {
    scn.vrs[v].max_interval_us() + scn.timer_slack + scn.latency + scn.stable_jitter
}

/// Whether router `r` runs with its link up.
fn is_up(w: &World<'_>, r: usize) -> bool {
    w.nodes[r].running && w.nodes[r].link
}

/// Every member of `v` with its state and priority, for messages.
pub fn describe(w: &World<'_>, v: usize) -> String {
    let mut s = String::new();
    for m in &w.scn.vrs[v].members {
        let n = &w.nodes[m.router];
        let view = n.view[v];
        s.push_str(&format!(
            " r{}={}",
            m.router,
            if !n.running {
                "off".to_string()
            } else if !n.link {
                format!("{:?}(link down)", view.state)
            } else {
                format!(
                    "{:?}@{}{}",
                    view.state,
                    view.priority,
                    if m.preempt { "" } else { "/nopreempt" }
                )
            }
        ));
    }
    s
}

/// Invariant 1 for virtual router `v`, now.
pub fn election(w: &World<'_>, v: usize) -> Result<(), String> {
    let vr = &w.scn.vrs[v];
    let fail = |what: String| Err(format!("vr{v} at {} us: {what};{}", w.now, describe(w, v)));
    let mut master = None;
    let mut masters = 0;
    for m in vr.members.iter().filter(|m| is_up(w, m.router)) {
        if w.nodes[m.router].view[v].state == State::Master {
            masters += 1;
            master = Some(m.router);
        }
    }
    let Some(m) = master else {
        if vr.members.iter().any(|m| is_up(w, m.router)) {
            return fail("no master among the members that are up".into());
        }
        return Ok(());
    };
    if masters > 1 {
        return fail(format!("{masters} masters among the members that are up"));
    }
    let mview = w.nodes[m].view[v];
    let msrc = w.source(m, v);
    for spec in vr
        .members
        .iter()
        .filter(|b| b.router != m && is_up(w, b.router))
    {
        let b = spec.router;
        let view = w.nodes[b].view[v];
        if view.state != State::Backup {
            return fail(format!("r{b} is {:?} beside master r{m}", view.state));
        }
        if spec.preempt && view.priority > mview.priority {
            return fail(format!(
                "r{b} (priority {}, preempt) is BACKUP under r{m} (priority {})",
                view.priority, mview.priority
            ));
        }
        let slot = w.nodes[b].slot[v].unwrap();
        let follows = w.engine(b).instance(slot).and_then(|i| i.master());
        if w.now >= w.follow_from[v] && follows != Some((msrc, mview.priority)) {
            return fail(format!(
                "r{b} follows {follows:?}, not master r{m} ({msrc}, {})",
                mview.priority
            ));
        }
    }
    Ok(())
}

/// Invariant 2 for router `r`'s instance of `v`.
pub fn vips(r: usize, v: usize, view: &View) -> Result<(), String> {
    match (view.state == State::Master, view.vips) {
        (true, false) => Err(format!("r{r} vr{v}: MASTER without its VIPs")),
        (false, true) => Err(format!("r{r} vr{v}: holds its VIPs in {:?}", view.state)),
        _ => Ok(()),
    }
}

/// Invariant 3: `c` was allowed by its input, given the instance's `view`
/// before it.
pub fn cause(w: &World<'_>, c: &Change, view: &View) -> Result<(), String> {
    let (r, v) = (c.router, c.vr);
    let vr = &w.scn.vrs[v];
    let spec = vr.member(r).unwrap();
    let owner = spec.priority == 255;
    let what = || {
        format!(
            "r{r} vr{v} at {} us: {:?} -> {:?} on {:?}",
            c.at, c.from, c.to, c.cause
        )
    };
    if c.from != view.state {
        return Err(format!(
            "{}: the simulator saw it in {:?}",
            what(),
            view.state
        ));
    }
    use State::{Backup, Fault, Initialize, Master};
    match (c.cause, c.from, c.to) {
        // RFC 5798 §6.4.1: Startup; the owner goes MASTER at once.
        (Input::Boot, Initialize, Master) if owner => Ok(()),
        (Input::Boot, Initialize, Backup) if !owner => Ok(()),
        // §6.4.2 / §6.4.3: Shutdown.
        (Input::Stop, Backup | Master | Fault, Initialize) => Ok(()),
        // keepalived: a tracked interface down is FAULT, up again BACKUP.
        (Input::LinkDown, Backup | Master, Fault) => Ok(()),
        (Input::LinkUp, Fault, Backup) => Ok(()),
        // §6.4.2: Master_Down_Timer fired.
        (Input::Timeout, Backup, Master) => timer_ran_out(w, c, view, owner),
        // §6.4.3: a higher priority, or an equal one from a higher address.
        (
            Input::Advert {
                vr: av,
                priority,
                src,
                ..
            },
            Master,
            Backup,
        ) if av == v && priority != 0 => {
            let own = w.source(r, v);
            if priority > view.priority || (priority == view.priority && wins_tie(src, own)) {
                Ok(())
            } else {
                Err(format!(
                    "{}: yielded to priority {priority} from {src} at own priority {} ({own})",
                    what(),
                    view.priority
                ))
            }
        }
        _ => Err(format!("{}: a transition without a cause", what())),
    }
}

/// A BACKUP became MASTER on a timeout: its master-down timer, as last
/// armed, must have run out now — not earlier, and (when nothing else may
/// have re-armed it) not later.
fn timer_ran_out(w: &World<'_>, c: &Change, view: &View, owner: bool) -> Result<(), String> {
    let (r, v) = (c.router, c.vr);
    let vr = &w.scn.vrs[v];
    let spec = vr.member(r).unwrap();
    let Some(armed) = view.armed else {
        return Err(format!(
            "r{r} vr{v} at {} us: MASTER on a timeout with no timer armed",
            c.at
        ));
    };
    let (interval, priority) = (armed.interval, armed.priority);
    let need = match armed.by {
        // keepalived `try_up_instance`: the owner waits
        // Advertisement_Interval + Skew_Time, others Master_Down_Interval.
        ArmedBy::Start | ArmedBy::FaultCleared if owner => interval + skew(vr, interval, priority),
        ArmedBy::Start | ArmedBy::FaultCleared | ArmedBy::Yielded | ArmedBy::Advert { .. } => {
            master_down(vr, interval, priority)
        }
        ArmedBy::PriorityZero { .. } => skew(vr, interval, priority),
    };
    let due = armed.at + need;
    // With preempt_delay a lower-priority advert re-arms the timer while
    // the hold runs (keepalived), so it may run out later than the last
    // definite arming says — or earlier, when the priority rose since and
    // its Skew_Time is shorter; otherwise the arming is exact.
    let exact = spec.preempt_delay == 0;
    let earliest = view.maybe_due.map_or(due, |m| m.min(due));
    // The loop wakes for it up to timer_late late.
    let latest = due + w.scn.timer_late.max(w.scn.timer_slack);
    if c.at < earliest || (exact && c.at > latest) {
        return Err(format!(
            "r{r} vr{v}: BACKUP -> MASTER at {} us, but its master-down timer (armed at {} us by {:?} at priority {} with Master_Adver_Interval {} us: {} us) runs out at {due} us",
            c.at, armed.at, armed.by, armed.priority, armed.interval, need
        ));
    }
    Ok(())
}

/// Whether `a` wins an equal-priority tie against `b` (RFC 5798 §6.4.3:
/// the greater primary address, as an unsigned integer).
pub fn wins_tie(a: IpAddr, b: IpAddr) -> bool {
    a > b
}

/// Invariant 2, on the addresses: router `r` holds every VIP of `v` while
/// MASTER of it, and none otherwise (the VIPs of different virtual routers
/// differ).
pub fn addresses(w: &World<'_>, r: usize, v: usize) -> Result<(), String> {
    let node = &w.nodes[r];
    let master = node.view[v].state == State::Master;
    for vip in w.vips_of(v) {
        let vip = *vip;
        if node.addresses.contains(&vip) != master {
            return Err(format!(
                "r{r} vr{v}: {:?} {} {vip}",
                node.view[v].state,
                if master { "lacks" } else { "holds" }
            ));
        }
    }
    Ok(())
}
