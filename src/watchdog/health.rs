//! The health gate of the watchdog kicks.
//!
//! A kick says "every part of picket is making progress", so it is given
//! only then. Each turn of the loop:
//!
//! 1. [`Health::begin_turn`] with the turn's `now`;
//! 2. each part reports how late it is with [`Health::report`] — VRRP: the
//!    most overdue timer of an instance, budget one interval (an advert, or
//!    Master_Down, late by more than one interval is a stall); children: a
//!    child deadline (timeout, kill, give-up) not acted on,
//!    [`CHILD_DEADLINE_BUDGET`]; checkers likewise when they run
//!    ([`CHECKER_DEADLINE_BUDGET`]); IPVS: its one outstanding exchange
//!    with no answer for [`IPVS_ANSWER_BUDGET`] since it was sent or last
//!    answered in part — and netlink keeps its own account
//!    ([`Health::netlink_sent`], [`Health::netlink_answered`]): requests
//!    unanswered with no answer for [`NETLINK_ANSWER_BUDGET`] are a stall;
//! 3. [`Health::end_turn`] at the end of the turn, after every action ran:
//!    the turn's own length is checked against the loop's budget (a quarter
//!    of the kick period, at most [`LOOP_TURN_BUDGET_MAX`]), then the
//!    [`Verdict`] says whether to kick now.
//!
//! Kicks are paced: at most one per period (the binary uses a quarter of
//! the watchdog timeout), and [`Health::poll_at`] is the loop's deadline
//! for the next one, so an idle loop still wakes to kick.
//!
//! When a part is behind, kicks stop at once and a [`Note::Stalled`] names
//! the worst part and by how much: on the first turn, then once per period
//! while it lasts — so the last line logged before the reset says what
//! stalled. If every part comes back in budget before the watchdog fires,
//! [`Note::Recovered`] is given and kicks resume.

use core::fmt;

use crate::time::{Duration, Instant};

/// Longest a single loop turn may take (the time from reading `now` to the
/// end of its actions; the sleep is not part of it).
pub const LOOP_TURN_BUDGET_MAX: Duration = Duration::from_secs(1);
/// Longest the kernel may leave netlink requests without any answer.
pub const NETLINK_ANSWER_BUDGET: Duration = Duration::from_secs(2);
/// Longest a child deadline (timeout, `SIGKILL`, giving the slot up) may
/// stay unhandled.
pub const CHILD_DEADLINE_BUDGET: Duration = Duration::from_secs(2);
/// Longest the kernel may leave an IPVS exchange (a request, or a batch of
/// them in one datagram) without any answer — as for rtnetlink.
pub const IPVS_ANSWER_BUDGET: Duration = NETLINK_ANSWER_BUDGET;
/// Longest a health checker's deadline (its next run, an attempt's
/// timeout) may stay unhandled.
pub const CHECKER_DEADLINE_BUDGET: Duration = Duration::from_secs(2);

/// A part of the daemon whose progress gates the kicks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// One turn of the loop, from reading `now` to the end of its actions.
    LoopTurn,
    /// The timers of the VRRP instances (adverts, Master_Down).
    Vrrp,
    /// Requests to the kernel over netlink and their answers.
    Netlink,
    /// Requests to the kernel's IPVS (generic netlink) and their answers.
    Ipvs,
    /// The child table's deadlines (script timeouts and kills).
    Children,
    /// The health checkers' deadlines.
    Checkers,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::LoopTurn => "loop turn",
            Part::Vrrp => "VRRP timers",
            Part::Netlink => "netlink",
            Part::Ipvs => "IPVS",
            Part::Children => "child processes",
            Part::Checkers => "checkers",
        })
    }
}

/// How far one part is behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lag {
    /// Which part.
    pub part: Part,
    /// What is late, for the log (`"advert timer"`, `"answer"`, ...).
    pub what: &'static str,
    /// Which one, as the part counts them: the VRRP instance slot, the
    /// child's pid, the number of unanswered requests.
    pub subject: u32,
    /// How late it is.
    pub late_by: Duration,
    /// How late it may be.
    pub budget: Duration,
}

impl Lag {
    /// Whether it is late by more than its budget.
    pub fn is_over(&self) -> bool {
        self.late_by > self.budget
    }

    /// How far past its budget (zero when inside it).
    pub fn excess(&self) -> Duration {
        if self.is_over() {
            self.late_by - self.budget
        } else {
            Duration::ZERO
        }
    }
}

/// A duration as seconds with milliseconds (`1.234 s`).
#[derive(Clone, Copy, Debug)]
pub struct Secs(pub Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.total_millis();
        write!(f, "{}.{:03} s", ms / 1000, ms % 1000)
    }
}

/// Something the binary logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// Kicks are withheld: `lag` is the part furthest past its budget.
    Stalled {
        /// The worst part.
        lag: Lag,
        /// How long kicks have been withheld.
        stalled_for: Duration,
        /// Whether this is the first note of this stall.
        first: bool,
    },
    /// Every part is back inside its budget; kicks resume.
    Recovered {
        /// How long kicks were withheld.
        after: Duration,
    },
}

/// What to do at the end of a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Kick the watchdog now.
    pub kick: bool,
    /// Something to log.
    pub note: Option<Note>,
}

/// Counters of the gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthStats {
    /// Kicks allowed.
    pub kicks: u64,
    /// Turns that ended with a part past its budget.
    pub withheld_turns: u64,
    /// Stalls begun (kicks stopped).
    pub stalls: u64,
    /// Stalls that ended before a reset (kicks resumed).
    pub recoveries: u64,
    /// Times netlink answers were lost (the socket overran) and the count
    /// of unanswered requests was dropped.
    pub netlink_answers_lost: u64,
}

/// The gate. See the module doc.
#[derive(Clone, Debug)]
pub struct Health {
    period: Duration,
    loop_budget: Duration,
    next_kick: Instant,
    last_kick: Option<Instant>,
    turn_start: Option<Instant>,
    worst: Option<Lag>,
    netlink_pending: u32,
    netlink_since: Option<Instant>,
    stalled_since: Option<Instant>,
    next_note: Instant,
    stats: HealthStats,
}

impl Health {
    /// A gate kicking at most every `period`, the first kick due at `now`.
    pub fn new(now: Instant, period: Duration) -> Self {
        let quarter = period / 4;
        Health {
            period,
            loop_budget: if quarter < LOOP_TURN_BUDGET_MAX {
                quarter
            } else {
                LOOP_TURN_BUDGET_MAX
            },
            next_kick: now,
            last_kick: None,
            turn_start: None,
            worst: None,
            netlink_pending: 0,
            netlink_since: None,
            stalled_since: None,
            next_note: now,
            stats: HealthStats::default(),
        }
    }

    /// The kick period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The longest a loop turn may take.
    pub fn loop_budget(&self) -> Duration {
        self.loop_budget
    }

    /// When the last kick was allowed.
    pub fn last_kick(&self) -> Option<Instant> {
        self.last_kick
    }

    /// Since when kicks are withheld (`None`: they are not).
    pub fn stalled_since(&self) -> Option<Instant> {
        self.stalled_since
    }

    /// Netlink requests not answered yet.
    pub fn netlink_pending(&self) -> u32 {
        self.netlink_pending
    }

    /// The counters.
    pub fn stats(&self) -> &HealthStats {
        &self.stats
    }

    /// A turn begins at `now` (the `now` the loop read).
    pub fn begin_turn(&mut self, now: Instant) {
        self.turn_start = Some(now);
        self.worst = None;
    }

    /// A part says how late it is this turn. Only lags past their budget
    /// count; the worst of the turn (furthest past its budget) is kept.
    pub fn report(&mut self, lag: Lag) {
        if !lag.is_over() {
            return;
        }
        if self.worst.is_none_or(|w| lag.excess() > w.excess()) {
            self.worst = Some(lag);
        }
    }

    /// A netlink request that expects an answer was sent at `now`.
    pub fn netlink_sent(&mut self, now: Instant) {
        if self.netlink_pending == 0 {
            self.netlink_since = Some(now);
        }
        self.netlink_pending = self.netlink_pending.saturating_add(1);
    }

    /// An answer (acknowledgement or error) arrived at `now`: the kernel is
    /// making progress, so the wait for the rest starts again.
    pub fn netlink_answered(&mut self, now: Instant) {
        self.netlink_pending = self.netlink_pending.saturating_sub(1);
        self.netlink_since = (self.netlink_pending > 0).then_some(now);
    }

    /// Answers were lost (the socket overran): the unanswered requests will
    /// never be answered, so they no longer count.
    pub fn netlink_lost(&mut self) {
        if self.netlink_pending > 0 {
            self.stats.netlink_answers_lost += 1;
        }
        self.netlink_pending = 0;
        self.netlink_since = None;
    }

    /// The end of a turn at `now` (every action has run): whether to kick,
    /// and what to log.
    pub fn end_turn(&mut self, now: Instant) -> Verdict {
        if let Some(start) = self.turn_start.take() {
            self.report(Lag {
                part: Part::LoopTurn,
                what: "turn",
                subject: 0,
                late_by: if now > start {
                    now - start
                } else {
                    Duration::ZERO
                },
                budget: self.loop_budget,
            });
        }
        if let Some(since) = self.netlink_since
            && self.netlink_pending > 0
            && now > since
        {
            self.report(Lag {
                part: Part::Netlink,
                what: "answer",
                subject: self.netlink_pending,
                late_by: now - since,
                budget: NETLINK_ANSWER_BUDGET,
            });
        }
        if let Some(lag) = self.worst.take() {
            self.stats.withheld_turns += 1;
            let first = self.stalled_since.is_none();
            let since = *self.stalled_since.get_or_insert(now);
            if first {
                self.stats.stalls += 1;
            }
            let note = (first || now >= self.next_note).then(|| {
                self.next_note = now + self.period;
                Note::Stalled {
                    lag,
                    stalled_for: now - since,
                    first,
                }
            });
            return Verdict { kick: false, note };
        }
        let note = self.stalled_since.take().map(|since| {
            self.stats.recoveries += 1;
            Note::Recovered { after: now - since }
        });
        let kick = now >= self.next_kick;
        if kick {
            self.stats.kicks += 1;
            self.last_kick = Some(now);
            self.next_kick = now + self.period;
        }
        Verdict { kick, note }
    }

    /// When the loop must run a turn at the latest: the next kick, or while
    /// kicks are withheld, the next note (never a time already past, so a
    /// stalled loop does not spin).
    pub fn poll_at(&self) -> Instant {
        if self.stalled_since.is_some() {
            self.next_note
        } else {
            self.next_kick
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms as i64)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One quick turn at `t` with the given report.
    fn turn(h: &mut Health, t: u64, lag: Option<Lag>) -> Verdict {
        h.begin_turn(at(t));
        if let Some(l) = lag {
            h.report(l);
        }
        h.end_turn(at(t) + Duration::from_micros(50))
    }

    fn vrrp_late(late: u64) -> Lag {
        Lag {
            part: Part::Vrrp,
            what: "advert timer",
            subject: 2,
            late_by: ms(late),
            budget: ms(1000),
        }
    }

    #[test]
    fn kicks_at_most_once_per_period_and_sets_the_deadline() {
        let mut h = Health::new(at(0), ms(1250));
        assert_eq!(h.poll_at(), at(0));
        assert!(turn(&mut h, 0, None).kick);
        assert_eq!(h.poll_at(), at(0) + Duration::from_micros(50) + ms(1250));
        // Busy turns in between do not kick.
        for t in (10..1250).step_by(10) {
            assert_eq!(
                turn(&mut h, t, None),
                Verdict {
                    kick: false,
                    note: None
                }
            );
        }
        // The deadline's turn does.
        assert!(turn(&mut h, 1251, None).kick);
        assert_eq!(h.stats().kicks, 2);
        assert_eq!(h.loop_budget(), ms(312) + Duration::from_micros(500));
    }

    #[test]
    fn a_part_past_its_budget_stops_kicks_and_is_named_each_period() {
        let mut h = Health::new(at(0), ms(1000));
        assert!(turn(&mut h, 0, None).kick);
        // In budget: no effect.
        assert!(turn(&mut h, 1000, Some(vrrp_late(900))).kick);
        // Past it: no kick, named at once.
        let v = turn(&mut h, 2000, Some(vrrp_late(1200)));
        assert!(!v.kick);
        let Some(Note::Stalled { lag, first, .. }) = v.note else {
            panic!("{v:?}");
        };
        assert!(first);
        assert_eq!(lag.part, Part::Vrrp);
        assert_eq!(lag.subject, 2);
        assert_eq!(lag.excess(), ms(200));
        // While it lasts: no kick, a note once per period, and the loop's
        // deadline is that note (never in the past).
        assert_eq!(h.poll_at(), at(3000) + Duration::from_micros(50));
        assert_eq!(turn(&mut h, 2500, Some(vrrp_late(1700))).note, None);
        let v = turn(&mut h, 3001, Some(vrrp_late(2201)));
        assert!(!v.kick);
        assert!(matches!(
            v.note,
            Some(Note::Stalled { first: false, lag, stalled_for })
                if lag.late_by == ms(2201) && stalled_for == ms(1001)
        ));
        // Back in budget: recovered, and the overdue kick is given.
        let v = turn(&mut h, 3100, None);
        assert!(v.kick);
        assert!(matches!(v.note, Some(Note::Recovered { .. })));
        let s = *h.stats();
        assert_eq!((s.stalls, s.recoveries, s.withheld_turns), (1, 1, 3));
    }

    #[test]
    fn the_worst_part_of_a_turn_is_named() {
        let mut h = Health::new(at(0), ms(1000));
        h.begin_turn(at(0));
        h.report(vrrp_late(1100));
        h.report(Lag {
            part: Part::Children,
            what: "kill deadline",
            subject: 4242,
            late_by: ms(2500),
            budget: CHILD_DEADLINE_BUDGET,
        });
        h.report(vrrp_late(1050));
        let v = h.end_turn(at(0));
        // Children are 500 ms past their budget, VRRP 100 ms.
        assert!(matches!(v.note, Some(Note::Stalled { lag, .. })
            if lag.part == Part::Children && lag.subject == 4242 && lag.excess() == ms(500)));
    }

    #[test]
    fn a_long_turn_is_a_stall_of_the_loop() {
        let mut h = Health::new(at(0), ms(10_000));
        h.begin_turn(at(0));
        let v = h.end_turn(at(1001));
        assert!(!v.kick);
        assert!(matches!(v.note, Some(Note::Stalled { lag, .. })
            if lag.part == Part::LoopTurn && lag.late_by == ms(1001) && lag.budget == LOOP_TURN_BUDGET_MAX));
        assert!(turn(&mut h, 1002, None).kick);
    }

    #[test]
    fn unanswered_netlink_requests_stall_until_answers_come() {
        let mut h = Health::new(at(0), ms(1000));
        h.netlink_sent(at(0));
        h.netlink_sent(at(1));
        // Answers keep coming: progress, even with requests outstanding.
        h.netlink_answered(at(1500));
        assert!(turn(&mut h, 2000, None).kick);
        assert_eq!(h.netlink_pending(), 1);
        // None for longer than the budget: a stall naming the count.
        let v = turn(&mut h, 3501, None);
        assert!(matches!(v.note, Some(Note::Stalled { lag, .. })
            if lag.part == Part::Netlink && lag.subject == 1 && lag.late_by == ms(2001) + Duration::from_micros(50)));
        // The last answer ends it.
        h.netlink_answered(at(3600));
        assert!(turn(&mut h, 3700, None).kick);
        // Lost answers are forgotten, and counted.
        h.netlink_sent(at(4000));
        h.netlink_lost();
        assert!(turn(&mut h, 9000, None).kick);
        assert_eq!(h.stats().netlink_answers_lost, 1);
    }

    #[test]
    fn seconds_print_with_milliseconds() {
        assert_eq!(
            format!("{}", Secs(Duration::from_micros(1_234_567))),
            "1.234 s"
        );
        assert_eq!(format!("{}", Secs(ms(5))), "0.005 s");
    }
}
