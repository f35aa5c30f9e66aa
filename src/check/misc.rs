//! `MISC_CHECK`: `misc_path` runs through the core's child table (killed at
//! `misc_timeout`). Exit status 0 is a success; with `misc_dynamic`, 2..=255
//! is a success that sets the real server's weight to status − 2 (minus its
//! configured weight, plus it: keepalived's rule, so one dynamic check sets
//! the weight outright); anything else, a signal or the timeout is a
//! failure.

use super::{Failure, Verdict};

/// How a script run ended, as the child table reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past `misc_timeout` and was killed.
    TimedOut,
    /// It could not be started (or was lost).
    NotRun,
}

/// The verdict of a run, and the weight it asks for (`misc_dynamic`).
pub fn judge(outcome: ScriptOutcome, dynamic: bool) -> (Verdict, Option<u32>) {
    match outcome {
        ScriptOutcome::Exited(0) => (Verdict::Success, None),
        ScriptOutcome::Exited(s) if dynamic && (2..=255).contains(&s) => {
            (Verdict::Success, u32::try_from(s - 2).ok())
        }
        ScriptOutcome::Exited(s) => (Verdict::Failure(Failure::Exit(s)), None),
        ScriptOutcome::Signaled(sig) => (Verdict::Failure(Failure::Exit(-sig)), None),
        ScriptOutcome::TimedOut => (Verdict::Failure(Failure::Timeout), None),
        ScriptOutcome::NotRun => (Verdict::Failure(Failure::Resources), None),
    }
}
