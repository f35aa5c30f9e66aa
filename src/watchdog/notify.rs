//! The service manager's watchdog without hardware: systemd's notification
//! protocol (`sd_notify(3)`), as far as picket uses it.
//!
//! The environment says where and how often: `NOTIFY_SOCKET` is a
//! `AF_UNIX` datagram socket, a path (`/run/systemd/notify`) or an abstract
//! name written with a leading `@`; `WATCHDOG_USEC` is the service's
//! watchdog interval in microseconds, meant for this process only when
//! `WATCHDOG_PID` is unset or names it. picket sends [`READY`] once
//! running, [`WATCHDOG`] through the same health gate as the hardware
//! kicks (at most every interval / 4), and [`STOPPING`] when it stops.

use core::fmt;

use crate::time::Duration;

/// "Start-up is finished."
pub const READY: &[u8] = b"READY=1";
/// "Alive" (the watchdog keep-alive).
pub const WATCHDOG: &[u8] = b"WATCHDOG=1";
/// "Stopping."
pub const STOPPING: &[u8] = b"STOPPING=1";

/// Longest socket name: `sun_path` holds 108 bytes (an abstract name has a
/// leading NUL instead of a trailing one).
pub const SOCKET_NAME_BYTES: usize = 107;

/// Where `NOTIFY_SOCKET` points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyAddr<'a> {
    /// A file system path.
    Path(&'a str),
    /// An abstract name (without the `@`).
    Abstract(&'a str),
}

/// Why the notification environment was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyEnvError {
    /// `NOTIFY_SOCKET` is neither an absolute path nor `@name`, or too long.
    BadSocket,
    /// `WATCHDOG_USEC` is not a positive number of microseconds.
    BadInterval,
}

impl fmt::Display for NotifyEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotifyEnvError::BadSocket => {
                "NOTIFY_SOCKET is not an absolute path or an @abstract name of at most 107 bytes"
            }
            NotifyEnvError::BadInterval => "WATCHDOG_USEC is not a positive number",
        })
    }
}

/// Parses `NOTIFY_SOCKET`.
pub fn parse_socket(s: &str) -> Result<NotifyAddr<'_>, NotifyEnvError> {
    let addr = match s.strip_prefix('@') {
        Some(name) if !name.is_empty() => NotifyAddr::Abstract(name),
        None if s.starts_with('/') => NotifyAddr::Path(s),
        _ => return Err(NotifyEnvError::BadSocket),
    };
    if s.len() > SOCKET_NAME_BYTES || s.contains('\0') {
        return Err(NotifyEnvError::BadSocket);
    }
    Ok(addr)
}

/// The watchdog interval for process `own_pid` from `WATCHDOG_USEC` and
/// `WATCHDOG_PID` (`None`: unset, or meant for another process).
pub fn watchdog_interval(
    usec: Option<&str>,
    pid: Option<&str>,
    own_pid: u32,
) -> Result<Option<Duration>, NotifyEnvError> {
    let Some(usec) = usec else {
        return Ok(None);
    };
    if pid.is_some_and(|p| p.trim().parse::<u32>() != Ok(own_pid)) {
        return Ok(None);
    }
    match usec.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Some(Duration::from_micros(n))),
        _ => Err(NotifyEnvError::BadInterval),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses() {
        assert_eq!(
            parse_socket("/run/systemd/notify"),
            Ok(NotifyAddr::Path("/run/systemd/notify"))
        );
        assert_eq!(parse_socket("@sd-7"), Ok(NotifyAddr::Abstract("sd-7")));
        for bad in ["", "@", "relative/path", "\0x"] {
            assert_eq!(parse_socket(bad), Err(NotifyEnvError::BadSocket), "{bad:?}");
        }
        let long = [b'/'; 108];
        assert_eq!(
            parse_socket(core::str::from_utf8(&long).unwrap()),
            Err(NotifyEnvError::BadSocket)
        );
    }

    #[test]
    fn watchdog_interval_is_for_this_pid_only() {
        let five = Some(Duration::from_secs(5));
        assert_eq!(watchdog_interval(Some("5000000"), None, 42), Ok(five));
        assert_eq!(watchdog_interval(Some("5000000"), Some("42"), 42), Ok(five));
        assert_eq!(watchdog_interval(Some("5000000"), Some("41"), 42), Ok(None));
        assert_eq!(watchdog_interval(None, Some("42"), 42), Ok(None));
        for bad in ["0", "-5", "5s", ""] {
            assert_eq!(
                watchdog_interval(Some(bad), None, 1),
                Err(NotifyEnvError::BadInterval)
            );
        }
    }
}
