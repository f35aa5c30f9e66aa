//! What a reset means at the next start, and the boot-loop damping.
//!
//! # The state file
//!
//! A few lines of text on persistent storage (the board's `state_file`, or
//! `watchdog_state_file`), written whole (a temporary file, `fsync`,
//! `rename`) only at start, at an orderly stop and when a stable run
//! clears the count — never in the loop's steady state, so flash does not
//! wear:
//!
//! ```text
//! picket-state 1
//! boot 9f1c0a52-2b1e-4c55-8d0e-6a4f0c1b7d33
//! run armed
//! resets 2
//! last watchdog 9f1c0a52-2b1e-4c55-8d0e-6a4f0c1b7d33
//! ```
//!
//! `boot` is the kernel's boot id (`/proc/sys/kernel/random/boot_id`) of
//! the run that wrote it; `run armed` while a run holds the watchdog,
//! `run stopped` after an orderly stop; `resets` counts unclean ends in a
//! row; `last` is the cause of the latest and the boot it was seen in.
//! Unknown lines are skipped (a newer picket may add some).
//!
//! # What counts as a reset ([`assess`])
//!
//! - **watchdog**: the device's boot status has `WDIOF_CARDRESET` (read
//!   once per boot; a cause already recorded for this boot is not counted
//!   again when picket restarts within it);
//! - **reboot**: the previous run held the watchdog, never stopped, and the
//!   boot id changed — the board restarted under it: the watchdog of a
//!   device that cannot tell, a power loss, a kernel panic;
//! - **crash**: the same, within one boot — picket itself died (killed,
//!   crashed) and was started again.
//!
//! Each counts as one reset in a row; each damps the start (below).
//!
//! # Damping ([`Recovery`])
//!
//! After any of them, every instance starts in BACKUP (the address owner
//! too) and follows a lower-priority master instead of preempting it for
//! `watchdog_reset_hold`: the board that just reset does not take the
//! addresses back while it may still be sick. With no master heard it
//! still becomes master after Master_Down_Interval: service comes first.
//!
//! After `watchdog_safe_mode_resets` resets in a row, picket runs in
//! **safe mode**: every instance advertises priority 1. It then never
//! preempts a healthy peer, and takes the addresses only when no other
//! router answers at all — a board in a boot loop is a worse master than
//! any peer, but a better one than none (staying FAULT would turn a
//! sick-but-working board into an outage when the peer is down too).
//!
//! A run that lasts `watchdog_reset_window` clears the count and ends safe
//! mode; so does `picket --clear-resets` (or deleting the state file)
//! before a start.

use core::fmt;

use heapless::String;

use crate::time::{Duration, Instant, earliest, is_due};

/// Largest state file picket writes or reads.
pub const STATE_BYTES: usize = 512;
/// Bytes of a boot id (a UUID is 36).
pub const BOOT_ID_BYTES: usize = 40;
/// First line of the state file.
const HEADER: &str = "picket-state 1";

/// A kernel boot id.
pub type BootId = String<BOOT_ID_BYTES>;

/// What ended the previous run uncleanly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetCause {
    /// The watchdog reset the board (boot status `WDIOF_CARDRESET`).
    Watchdog,
    /// The board restarted while picket held the watchdog, without an
    /// orderly stop, and the device did not say it was the watchdog.
    UncleanReboot,
    /// picket ended without an orderly stop within one boot.
    Crash,
}

impl ResetCause {
    /// The word in the state file.
    pub fn word(self) -> &'static str {
        match self {
            ResetCause::Watchdog => "watchdog",
            ResetCause::UncleanReboot => "reboot",
            ResetCause::Crash => "crash",
        }
    }

    fn from_word(w: &str) -> Option<Self> {
        match w {
            "watchdog" => Some(ResetCause::Watchdog),
            "reboot" => Some(ResetCause::UncleanReboot),
            "crash" => Some(ResetCause::Crash),
            _ => None,
        }
    }
}

impl fmt::Display for ResetCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResetCause::Watchdog => "a watchdog reset (boot status WDIOF_CARDRESET)",
            ResetCause::UncleanReboot => {
                "a reboot while picket held the watchdog, without an orderly stop \
                 (the watchdog, a power loss or a kernel panic)"
            }
            ResetCause::Crash => "an end of picket without an orderly stop (killed or crashed)",
        })
    }
}

/// The latest unclean end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetRecord {
    /// What it was.
    pub cause: ResetCause,
    /// The boot in which it was seen.
    pub boot: BootId,
}

/// The contents of the state file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRecord {
    /// The boot of the run that wrote it.
    pub boot: BootId,
    /// That run held the watchdog and had not stopped (yet).
    pub armed: bool,
    /// Unclean ends in a row (not separated by a stable run).
    pub resets: u16,
    /// The latest unclean end.
    pub last: Option<ResetRecord>,
}

/// Why a state file was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateError {
    /// It does not start with `picket-state 1`.
    BadHeader,
    /// Line `n` (from 1) is malformed.
    BadLine(u16),
    /// No `boot` line.
    NoBoot,
    /// It does not fit [`STATE_BYTES`].
    TooLong,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::BadHeader => write!(f, "it does not start with '{HEADER}'"),
            StateError::BadLine(n) => write!(f, "line {n} is malformed"),
            StateError::NoBoot => f.write_str("it has no 'boot' line"),
            StateError::TooLong => write!(f, "it is longer than {STATE_BYTES} bytes"),
        }
    }
}

fn boot_id(s: &str) -> Option<BootId> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return None;
    }
    BootId::try_from(s).ok()
}

impl StateRecord {
    /// Reads the text of a state file.
    pub fn parse(text: &[u8]) -> Result<Self, StateError> {
        if text.len() > STATE_BYTES {
            return Err(StateError::TooLong);
        }
        let text = core::str::from_utf8(text).map_err(|_| StateError::BadHeader)?;
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(HEADER) {
            return Err(StateError::BadHeader);
        }
        let mut boot = None;
        let mut armed = false;
        let mut resets = 0;
        let mut last = None;
        for (i, line) in lines.enumerate() {
            let n = u16::try_from(i + 2).unwrap_or(u16::MAX);
            let bad = StateError::BadLine(n);
            let mut words = line.split_whitespace();
            let (Some(key), a, b) = (words.next(), words.next(), words.next()) else {
                continue;
            };
            match (key, a, b) {
                ("boot", Some(id), None) => boot = Some(boot_id(id).ok_or(bad)?),
                // Written when the boot id could not be read (an empty id):
                // the record still counts.
                ("boot", None, None) => boot = Some(BootId::new()),
                ("run", Some("armed"), None) => armed = true,
                ("run", Some("stopped"), None) => armed = false,
                ("resets", Some(v), None) => resets = v.parse().map_err(|_| bad)?,
                ("last", Some(cause), id) => {
                    last = Some(ResetRecord {
                        cause: ResetCause::from_word(cause).ok_or(bad)?,
                        boot: match id {
                            Some(id) => boot_id(id).ok_or(bad)?,
                            None => BootId::new(),
                        },
                    });
                }
                ("boot" | "run" | "resets" | "last", ..) => return Err(bad),
                // A key of a newer picket.
                _ => {}
            }
        }
        Ok(StateRecord {
            boot: boot.ok_or(StateError::NoBoot)?,
            armed,
            resets,
            last,
        })
    }

    /// Writes the text into `out`; returns its length.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, StateError> {
        let mut s: String<STATE_BYTES> = String::new();
        self.write(&mut s).map_err(|_| StateError::TooLong)?;
        let dst = out.get_mut(..s.len()).ok_or(StateError::TooLong)?;
        dst.copy_from_slice(s.as_bytes());
        Ok(s.len())
    }

    fn write(&self, s: &mut dyn fmt::Write) -> fmt::Result {
        writeln!(s, "{HEADER}")?;
        writeln!(s, "boot {}", self.boot)?;
        writeln!(s, "run {}", if self.armed { "armed" } else { "stopped" })?;
        writeln!(s, "resets {}", self.resets)?;
        if let Some(l) = &self.last {
            writeln!(s, "last {} {}", l.cause.word(), l.boot)?;
        }
        Ok(())
    }
}

/// What the binary knows about this boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootFacts<'a> {
    /// The kernel's boot id.
    pub boot: &'a str,
    /// The watchdog's boot status has `WDIOF_CARDRESET`.
    pub card_reset: bool,
}

/// The outcome of [`assess`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    /// The unclean end just found (`None`: the last run stopped cleanly,
    /// or this one is the first).
    pub event: Option<ResetCause>,
    /// What to write now (this run armed, the count and last cause).
    pub next: StateRecord,
}

/// Decides what the previous end of picket was from the state file (`None`:
/// none or unreadable) and this boot's facts. See the module doc.
pub fn assess(prev: Option<&StateRecord>, facts: &BootFacts<'_>) -> Assessment {
    let boot = boot_id(facts.boot).unwrap_or_default();
    let recorded_here = prev
        .and_then(|p| p.last.as_ref())
        .is_some_and(|l| l.boot == boot);
    let event = if facts.card_reset && !recorded_here {
        Some(ResetCause::Watchdog)
    } else {
        match prev {
            Some(p) if p.armed && p.boot != boot => Some(ResetCause::UncleanReboot),
            Some(p) if p.armed => Some(ResetCause::Crash),
            _ => None,
        }
    };
    let resets = prev.map_or(0, |p| p.resets);
    let next = StateRecord {
        boot: boot.clone(),
        armed: true,
        resets: if event.is_some() {
            resets.saturating_add(1)
        } else {
            resets
        },
        last: match event {
            Some(cause) => Some(ResetRecord { cause, boot }),
            None => prev.and_then(|p| p.last.clone()),
        },
    };
    Assessment { event, next }
}

/// The damping settings (`global_defs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `watchdog_reset_hold`: no preemption this long after a reset.
    pub hold: Duration,
    /// `watchdog_safe_mode_resets`: resets in a row that start safe mode
    /// (0: never).
    pub safe_after: u8,
    /// `watchdog_reset_window`: a run this long clears the count.
    pub window: Duration,
}

/// A change [`Recovery::handle_timeout`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryEvent {
    /// The preemption hold after the reset is over.
    HoldOver,
    /// The run has lasted the window: the count is cleared (write the state
    /// file), and safe mode ends if it was on.
    Stable {
        /// Safe mode was on (restore the priorities).
        was_safe: bool,
    },
}

/// The damping of this run. See the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recovery {
    event: Option<ResetCause>,
    resets: u16,
    safe_mode: bool,
    hold_until: Option<Instant>,
    stable_at: Option<Instant>,
}

impl Recovery {
    /// No reset, nothing to damp.
    pub const fn none() -> Self {
        Recovery {
            event: None,
            resets: 0,
            safe_mode: false,
            hold_until: None,
            stable_at: None,
        }
    }

    /// The damping of a run starting at `now` after `event`, with `resets`
    /// in a row (counting it).
    pub fn start(now: Instant, event: Option<ResetCause>, resets: u16, policy: &Policy) -> Self {
        let hold = event.is_some() && policy.hold != Duration::ZERO;
        Recovery {
            event,
            resets,
            safe_mode: policy.safe_after > 0 && resets >= u16::from(policy.safe_after),
            hold_until: hold.then(|| now + policy.hold),
            stable_at: (resets > 0).then(|| now + policy.window),
        }
    }

    /// The unclean end found at start.
    pub fn event(&self) -> Option<ResetCause> {
        self.event
    }

    /// Resets in a row.
    pub fn resets(&self) -> u16 {
        self.resets
    }

    /// Whether every instance runs at priority 1.
    pub fn is_safe_mode(&self) -> bool {
        self.safe_mode
    }

    /// Until when preemption is held (`None`: not held).
    pub fn hold_until(&self) -> Option<Instant> {
        self.hold_until
    }

    /// When the count clears if nothing happens before.
    pub fn stable_at(&self) -> Option<Instant> {
        self.stable_at
    }

    /// The next deadline.
    pub fn poll_at(&self) -> Option<Instant> {
        earliest(self.hold_until, self.stable_at)
    }

    /// The next change due at `now`; call until `None`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<RecoveryEvent> {
        if is_due(now, self.hold_until) {
            self.hold_until = None;
            return Some(RecoveryEvent::HoldOver);
        }
        if is_due(now, self.stable_at) {
            self.stable_at = None;
            self.resets = 0;
            let was_safe = core::mem::take(&mut self.safe_mode);
            return Some(RecoveryEvent::Stable { was_safe });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B1: &str = "9f1c0a52-2b1e-4c55-8d0e-6a4f0c1b7d33";
    const B2: &str = "0a0b0c0d-1111-2222-3333-444455556666";

    fn rec(boot: &str, armed: bool, resets: u16, last: Option<(ResetCause, &str)>) -> StateRecord {
        StateRecord {
            boot: BootId::try_from(boot).unwrap(),
            armed,
            resets,
            last: last.map(|(cause, b)| ResetRecord {
                cause,
                boot: BootId::try_from(b).unwrap(),
            }),
        }
    }

    #[test]
    fn the_text_round_trips_and_bad_files_are_named() {
        let r = rec(B1, true, 2, Some((ResetCause::Watchdog, B2)));
        let mut buf = [0u8; STATE_BYTES];
        let n = r.emit(&mut buf).unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        assert_eq!(
            text,
            "picket-state 1\nboot 9f1c0a52-2b1e-4c55-8d0e-6a4f0c1b7d33\nrun armed\nresets 2\n\
             last watchdog 0a0b0c0d-1111-2222-3333-444455556666\n"
        );
        assert_eq!(StateRecord::parse(&buf[..n]).as_ref(), Ok(&r));
        // Unknown keys and blank lines are skipped.
        let newer = "picket-state 1\nboot ab-12\n\nuptime 77\nrun stopped\n";
        assert_eq!(
            StateRecord::parse(newer.as_bytes()),
            Ok(rec("ab-12", false, 0, None))
        );
        for (bad, want) in [
            ("", StateError::BadHeader),
            ("keepalived\nboot 12\n", StateError::BadHeader),
            ("picket-state 1\nrun armed\n", StateError::NoBoot),
            (
                "picket-state 1\nboot 12\nresets -1\n",
                StateError::BadLine(3),
            ),
            ("picket-state 1\nboot xyz\n", StateError::BadLine(2)),
            (
                "picket-state 1\nboot 12\nlast meteor 12\n",
                StateError::BadLine(3),
            ),
            (
                "picket-state 1\nboot 12\nrun maybe\n",
                StateError::BadLine(3),
            ),
        ] {
            assert_eq!(StateRecord::parse(bad.as_bytes()), Err(want), "{bad:?}");
        }
        assert_eq!(
            StateRecord::parse(&[b'x'; STATE_BYTES + 1]),
            Err(StateError::TooLong)
        );
        assert_eq!(r.emit(&mut [0u8; 20]), Err(StateError::TooLong));
    }

    /// Found by the `watchdog_state` fuzz target: without a boot id (the
    /// binary uses an empty one when /proc/sys/kernel/random/boot_id cannot
    /// be read) the record written did not parse back, so every start began
    /// afresh and resets in a row were never counted.
    #[test]
    fn a_record_without_boot_id_round_trips_and_counts() {
        let facts = BootFacts {
            boot: "",
            card_reset: false,
        };
        let mut buf = [0u8; STATE_BYTES];
        let mut prev: Option<StateRecord> = None;
        for resets in 0..3 {
            let a = assess(prev.as_ref(), &facts);
            assert_eq!(a.next.resets, resets);
            let n = a.next.emit(&mut buf).unwrap();
            let read = StateRecord::parse(&buf[..n]);
            assert_eq!(
                read.as_ref(),
                Ok(&a.next),
                "{:?}",
                core::str::from_utf8(&buf[..n])
            );
            prev = read.ok();
        }
        assert_eq!(
            prev.and_then(|p| p.last).map(|l| l.cause),
            Some(ResetCause::Crash)
        );
    }

    #[test]
    fn causes_are_told_apart() {
        let fresh = |card_reset| BootFacts {
            boot: B2,
            card_reset,
        };
        // First start ever, and a clean previous stop: nothing.
        let a = assess(None, &fresh(false));
        assert_eq!(a.event, None);
        assert_eq!(a.next, rec(B2, true, 0, None));
        let a = assess(Some(&rec(B1, false, 1, None)), &fresh(false));
        assert_eq!((a.event, a.next.resets), (None, 1));
        // The device says watchdog: counted once per boot.
        let a = assess(Some(&rec(B1, true, 1, None)), &fresh(true));
        assert_eq!(a.event, Some(ResetCause::Watchdog));
        assert_eq!(a.next, rec(B2, true, 2, Some((ResetCause::Watchdog, B2))));
        let again = assess(
            Some(&rec(B2, false, 2, Some((ResetCause::Watchdog, B2)))),
            &fresh(true),
        );
        assert_eq!((again.event, again.next.resets), (None, 2));
        // Armed and never stopped: a reboot under it, or a crash within
        // the boot (even when the boot's watchdog reset is recorded).
        let a = assess(Some(&rec(B1, true, 0, None)), &fresh(false));
        assert_eq!(a.event, Some(ResetCause::UncleanReboot));
        let a = assess(
            Some(&rec(B2, true, 2, Some((ResetCause::Watchdog, B2)))),
            &fresh(true),
        );
        assert_eq!(a.event, Some(ResetCause::Crash));
        assert_eq!(a.next.resets, 3);
    }

    #[test]
    fn damping_holds_then_a_stable_run_clears_safe_mode() {
        let policy = Policy {
            hold: Duration::from_secs(60),
            safe_after: 3,
            window: Duration::from_secs(600),
        };
        let t0 = Instant::from_secs(100);
        let none = Recovery::start(t0, None, 0, &policy);
        assert_eq!(none.poll_at(), None);
        assert!(!none.is_safe_mode());
        // A reset: held for a minute, the count clears after the window.
        let mut r = Recovery::start(t0, Some(ResetCause::Watchdog), 2, &policy);
        assert!(!r.is_safe_mode());
        assert_eq!(r.hold_until(), Some(t0 + Duration::from_secs(60)));
        assert_eq!(r.poll_at(), r.hold_until());
        assert_eq!(r.handle_timeout(t0 + Duration::from_secs(59)), None);
        assert_eq!(
            r.handle_timeout(t0 + Duration::from_secs(60)),
            Some(RecoveryEvent::HoldOver)
        );
        assert_eq!(r.poll_at(), Some(t0 + Duration::from_secs(600)));
        assert_eq!(
            r.handle_timeout(t0 + Duration::from_secs(600)),
            Some(RecoveryEvent::Stable { was_safe: false })
        );
        assert_eq!((r.resets(), r.poll_at()), (0, None));
        // The third in a row: safe mode until the window passes.
        let mut r = Recovery::start(t0, Some(ResetCause::Crash), 3, &policy);
        assert!(r.is_safe_mode());
        let late = t0 + Duration::from_secs(1000);
        assert_eq!(r.handle_timeout(late), Some(RecoveryEvent::HoldOver));
        assert_eq!(
            r.handle_timeout(late),
            Some(RecoveryEvent::Stable { was_safe: true })
        );
        assert!(!r.is_safe_mode());
        assert_eq!(r.handle_timeout(late), None);
        // Safe mode off, and no hold when asked.
        let off = Policy {
            hold: Duration::ZERO,
            safe_after: 0,
            ..policy
        };
        let r = Recovery::start(t0, Some(ResetCause::Watchdog), 50, &off);
        assert!(!r.is_safe_mode());
        assert_eq!(r.hold_until(), None);
    }
}
