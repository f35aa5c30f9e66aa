//! Sync groups (`vrrp_sync_group`, reference §b.5, §c item 14), sans-IO.
//!
//! The members of a group move together, keepalived's way:
//!
//! - a member may become MASTER only when every member wants MASTER (or is
//!   MASTER already): the last one to want it takes the others along
//!   (`vrrp_sync_can_goto_master()`); until then it stays BACKUP;
//! - a member going to FAULT takes every member to FAULT; the group leaves
//!   FAULT (all members to BACKUP) only when no member has a fault of its
//!   own;
//! - a MASTER member going BACKUP takes the other masters to BACKUP.
//!
//! The caller asks [`SyncGroupState::handle_want`] before (or instead of)
//! letting a member's own machine move, and applies the [`SyncDecision`]:
//! the member's own move ([`SyncDecision::member`]) and the moves it forces
//! on the others ([`SyncDecision::forced`]). The group assumes its decisions
//! are applied. Members are numbered by their place in `group { }`.

use heapless::Vec;

use super::fsm::State;
use crate::limits::SYNC_GROUP_MEMBERS;

/// A member, by its place in `group { }`.
pub type Member = usize;

/// One member as the group sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    state: State,
    /// Its own trackers say FAULT (not only the group's).
    own_fault: bool,
    /// Its master-down timer fired, but the group held it BACKUP.
    wants_master: bool,
}

/// What the caller must do after [`SyncGroupState::handle_want`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncDecision {
    /// Where the asking member goes (may differ from what it wanted: a
    /// MASTER held back stays BACKUP, a member whose fault cleared stays
    /// FAULT while another member has a fault). `None`: it stays.
    pub member: Option<State>,
    /// Other members to force, in member order.
    pub forced: Vec<(Member, State), SYNC_GROUP_MEMBERS>,
    /// The group's state changed to this (run the group's notify scripts).
    pub group: Option<State>,
}

/// Counters of one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Wishes for MASTER held back because another member did not want it.
    pub master_held: u32,
    /// Members forced to another state.
    pub forced: u32,
    /// Fault clears held because another member still has a fault.
    pub fault_held: u32,
    /// Wishes from an unknown member (ignored).
    pub unknown_member: u32,
}

/// A sync group's view of its members. See the module doc.
#[derive(Clone, Debug)]
pub struct SyncGroupState {
    members: Vec<Slot, SYNC_GROUP_MEMBERS>,
    state: State,
    stats: SyncStats,
}

impl SyncGroupState {
    /// A group of `members` members, all in INIT.
    pub fn new(members: usize) -> Self {
        let mut m = Vec::new();
        for _ in 0..members.min(SYNC_GROUP_MEMBERS) {
            let _ = m.push(Slot {
                state: State::Initialize,
                own_fault: false,
                wants_master: false,
            });
        }
        SyncGroupState {
            members: m,
            state: State::Initialize,
            stats: SyncStats::default(),
        }
    }

    /// A reload formed this group of running machines: member `m` is in
    /// `state` (with its own fault flag). Call [`SyncGroupState::settle`]
    /// once every member is seeded.
    pub fn seed(&mut self, m: Member, state: State, own_fault: bool) {
        if let Some(s) = self.members.get_mut(m) {
            s.state = state;
            s.own_fault = own_fault;
            s.wants_master = false;
        }
    }

    /// The group's state from its seeded members: FAULT if any is, MASTER
    /// if all are, INIT if all are, else BACKUP. No member is moved (the
    /// next input of any member applies the group's rules).
    pub fn settle(&mut self) {
        let all = |st: State| self.members.iter().all(|s| s.state == st);
        self.state = if self.members.iter().any(|s| s.state == State::Fault) {
            State::Fault
        } else if all(State::Master) {
            State::Master
        } else if all(State::Initialize) {
            State::Initialize
        } else {
            State::Backup
        };
    }

    /// The group's state (for group notify scripts).
    pub fn state(&self) -> State {
        self.state
    }

    /// The state of `m` as the group sees it.
    pub fn member_state(&self, m: Member) -> Option<State> {
        self.members.get(m).map(|s| s.state)
    }

    /// The counters.
    pub fn stats(&self) -> &SyncStats {
        &self.stats
    }

    /// A member's master-down timer was reset (it heard a master): its wish
    /// for MASTER, if held, is withdrawn.
    pub fn withdraw_master(&mut self, m: Member) {
        if let Some(s) = self.members.get_mut(m) {
            s.wants_master = false;
        }
    }

    /// Member `m` wants to go to `to` (its own machine's move: start →
    /// BACKUP, timer → MASTER, higher advert → BACKUP, tracking → FAULT or
    /// out of FAULT → BACKUP, stop → INIT). Returns what to do.
    pub fn handle_want(&mut self, m: Member, to: State) -> SyncDecision {
        let mut d = SyncDecision {
            member: None,
            forced: Vec::new(),
            group: None,
        };
        let Some(cur) = self.members.get(m).copied() else {
            self.stats.unknown_member += 1;
            return d;
        };
        match to {
            State::Initialize => {
                // Stopping is per member; nobody else moves.
                self.set(m, State::Initialize, &mut d);
                if let Some(s) = self.members.get_mut(m) {
                    s.own_fault = false;
                    s.wants_master = false;
                }
                if self.members.iter().all(|s| s.state == State::Initialize) {
                    self.set_group(State::Initialize, &mut d);
                }
            }
            State::Fault => {
                if let Some(s) = self.members.get_mut(m) {
                    s.own_fault = true;
                    s.wants_master = false;
                }
                self.set(m, State::Fault, &mut d);
                // keepalived: one member in FAULT makes all FAULT.
                self.force_all(
                    m,
                    |s| s != State::Fault && s != State::Initialize,
                    State::Fault,
                    &mut d,
                );
                self.set_group(State::Fault, &mut d);
            }
            State::Backup => {
                let leaving_fault = cur.own_fault || cur.state == State::Fault;
                if let Some(s) = self.members.get_mut(m) {
                    s.own_fault = false;
                    s.wants_master = false;
                }
                if leaving_fault || cur.state == State::Initialize {
                    if self.members.iter().any(|s| s.own_fault) {
                        // Another member still has a fault: stay FAULT.
                        self.stats.fault_held += 1;
                        self.set(m, State::Fault, &mut d);
                        return d;
                    }
                    self.set(m, State::Backup, &mut d);
                    if self.state == State::Fault {
                        // The last fault cleared: every member held in FAULT
                        // for the group goes BACKUP.
                        self.force_all(m, |s| s == State::Fault, State::Backup, &mut d);
                    }
                } else {
                    self.set(m, State::Backup, &mut d);
                    // keepalived: a member leaving MASTER takes the others.
                    self.force_all(m, |s| s == State::Master, State::Backup, &mut d);
                }
                self.set_group(State::Backup, &mut d);
            }
            State::Master => {
                if cur.state == State::Fault || cur.state == State::Initialize {
                    // The machine never goes there directly; refuse.
                    return d;
                }
                if let Some(s) = self.members.get_mut(m) {
                    s.wants_master = true;
                }
                let all = self
                    .members
                    .iter()
                    .all(|s| s.state == State::Master || s.wants_master);
                if !all {
                    self.stats.master_held += 1;
                    self.set(m, State::Backup, &mut d);
                    return d;
                }
                self.set(m, State::Master, &mut d);
                self.force_all(m, |s| s != State::Master, State::Master, &mut d);
                for s in self.members.iter_mut() {
                    s.wants_master = false;
                }
                self.set_group(State::Master, &mut d);
            }
        }
        d
    }

    /// Records `m`'s own move in `d` (only when it changes).
    fn set(&mut self, m: Member, to: State, d: &mut SyncDecision) {
        if let Some(s) = self.members.get_mut(m) {
            if s.state != to {
                d.member = Some(to);
            }
            s.state = to;
        }
    }

    /// Forces every member but `except` whose state matches `pick` to `to`.
    fn force_all(
        &mut self,
        except: Member,
        pick: impl Fn(State) -> bool,
        to: State,
        d: &mut SyncDecision,
    ) {
        for (i, s) in self.members.iter_mut().enumerate() {
            if i != except && pick(s.state) {
                s.state = to;
                s.wants_master = false;
                self.stats.forced += 1;
                // Capacity: at most one entry per member.
                let _ = d.forced.push((i, to));
            }
        }
    }

    fn set_group(&mut self, to: State, d: &mut SyncDecision) {
        if self.state != to {
            log::debug!("sync group: entering {to} state");
            self.state = to;
            d.group = Some(to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(n: usize) -> SyncGroupState {
        let mut g = SyncGroupState::new(n);
        for m in 0..n {
            g.handle_want(m, State::Backup);
        }
        assert_eq!(g.state(), State::Backup);
        g
    }

    fn forced(d: &SyncDecision) -> std::vec::Vec<(Member, State)> {
        d.forced.iter().copied().collect()
    }

    #[test]
    fn start_goes_backup_together() {
        let mut g = SyncGroupState::new(2);
        let d = g.handle_want(0, State::Backup);
        assert_eq!(d.member, Some(State::Backup));
        assert_eq!(d.group, Some(State::Backup));
        let d = g.handle_want(1, State::Backup);
        assert_eq!((d.member, d.group), (Some(State::Backup), None));
    }

    #[test]
    fn master_only_when_all_want_master() {
        let mut g = started(3);
        let d = g.handle_want(0, State::Master);
        assert_eq!(d.member, None, "held in BACKUP");
        assert!(d.forced.is_empty());
        assert_eq!(g.member_state(0), Some(State::Backup));
        let d = g.handle_want(1, State::Master);
        assert_eq!(d.member, None);
        let d = g.handle_want(2, State::Master);
        assert_eq!(d.member, Some(State::Master));
        assert_eq!(forced(&d), [(0, State::Master), (1, State::Master)]);
        assert_eq!(d.group, Some(State::Master));
        assert_eq!(g.stats().master_held, 2);
    }

    #[test]
    fn withdrawn_wish_holds_the_group() {
        let mut g = started(2);
        g.handle_want(0, State::Master);
        // Member 0 heard a master again.
        g.withdraw_master(0);
        let d = g.handle_want(1, State::Master);
        assert_eq!(d.member, None);
        assert_eq!(g.state(), State::Backup);
    }

    #[test]
    fn one_backup_takes_the_masters_along() {
        let mut g = started(3);
        for m in 0..3 {
            g.handle_want(m, State::Master);
        }
        assert_eq!(g.state(), State::Master);
        let d = g.handle_want(1, State::Backup);
        assert_eq!(d.member, Some(State::Backup));
        assert_eq!(forced(&d), [(0, State::Backup), (2, State::Backup)]);
        assert_eq!(d.group, Some(State::Backup));
    }

    #[test]
    fn any_fault_makes_all_fault_until_all_clear() {
        let mut g = started(3);
        for m in 0..3 {
            g.handle_want(m, State::Master);
        }
        let d = g.handle_want(2, State::Fault);
        assert_eq!(d.member, Some(State::Fault));
        assert_eq!(forced(&d), [(0, State::Fault), (1, State::Fault)]);
        assert_eq!(d.group, Some(State::Fault));
        // A second member faults too: nobody else moves.
        let d = g.handle_want(0, State::Fault);
        assert!(d.forced.is_empty());
        assert_eq!(d.member, None);
        // Member 2 recovers, but member 0 still has a fault: stays FAULT.
        let d = g.handle_want(2, State::Backup);
        assert_eq!(d.member, None);
        assert!(d.forced.is_empty());
        assert_eq!(g.stats().fault_held, 1);
        // Member 0 recovers: everyone to BACKUP.
        let d = g.handle_want(0, State::Backup);
        assert_eq!(d.member, Some(State::Backup));
        assert_eq!(forced(&d), [(1, State::Backup), (2, State::Backup)]);
        assert_eq!(d.group, Some(State::Backup));
    }

    #[test]
    fn start_while_another_member_faulty_stays_fault() {
        let mut g = SyncGroupState::new(2);
        g.handle_want(0, State::Fault);
        let d = g.handle_want(1, State::Backup);
        assert_eq!(d.member, Some(State::Fault));
    }

    #[test]
    fn master_from_fault_refused_and_unknown_member_counted() {
        let mut g = started(2);
        g.handle_want(0, State::Fault);
        let d = g.handle_want(1, State::Master);
        assert_eq!(d.member, None);
        let d = g.handle_want(9, State::Master);
        assert_eq!(d.member, None);
        assert_eq!(g.stats().unknown_member, 1);
    }

    #[test]
    fn stop_is_per_member() {
        let mut g = started(2);
        let d = g.handle_want(0, State::Initialize);
        assert_eq!(d.member, Some(State::Initialize));
        assert!(d.forced.is_empty());
        assert_eq!(g.state(), State::Backup);
        let d = g.handle_want(1, State::Initialize);
        assert_eq!(d.group, Some(State::Initialize));
    }
}
