//! Time, as the core sees it: an [`Instant`] on the monotonic clock that the
//! binary reads once per loop turn and passes down, and a [`Duration`].
//!
//! Both are smoltcp's (microsecond resolution, `i64`/`u64` inside), so wire
//! code and state machines share one type. The core never reads a clock.

pub use smoltcp::time::{Duration, Instant};

/// The earlier of two optional deadlines (`None` means "no deadline").
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if x <= y { x } else { y }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Time to sleep from `now` until `deadline` in microseconds (the resolution of
/// [`Instant`]), so the loop never wakes before a
/// deadline. `None` means "no deadline"; a deadline already passed gives 0.
pub fn poll_timeout(now: Instant, deadline: Option<Instant>) -> Option<Duration> {
    let d = deadline?;
    if d <= now {
        return Some(Duration::ZERO);
    }
    Some(d - now)
}

/// Whether `deadline` is due at `now`.
pub fn is_due(now: Instant, deadline: Option<Instant>) -> bool {
    matches!(deadline, Some(d) if d <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_is_exact_to_the_microsecond() {
        let now = Instant::from_micros(1_000);
        assert_eq!(
            poll_timeout(now, Some(Instant::from_micros(1_001))),
            Some(Duration::from_micros(1))
        );
        assert_eq!(
            poll_timeout(now, Some(Instant::from_micros(10))),
            Some(Duration::ZERO)
        );
        assert_eq!(poll_timeout(now, None), None);
    }

    #[test]
    fn earliest_prefers_some() {
        let a = Instant::from_millis(5);
        let b = Instant::from_millis(3);
        assert_eq!(earliest(Some(a), Some(b)), Some(b));
        assert_eq!(earliest(None, Some(a)), Some(a));
        assert_eq!(earliest(None, None), None);
        assert!(is_due(a, Some(b)));
        assert!(!is_due(b, Some(a)));
    }
}
