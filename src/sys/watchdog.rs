//! The hardware watchdog device (`/dev/watchdog`), by the ioctls of
//! `linux/watchdog.h`.
//!
//! Opening the device starts the timer. [`Watchdog::open`] then asks what
//! the device supports (`WDIOC_GETSUPPORT`), sets the timeout
//! (`WDIOC_SETTIMEOUT`, which writes back the value the driver granted, or
//! `WDIOC_GETTIMEOUT` when it cannot be set), reads why the board last
//! started (`WDIOC_GETBOOTSTATUS`: `WDIOF_CARDRESET` means the watchdog
//! reset it) and kicks once. [`Watchdog::kick`] is `WDIOC_KEEPALIVE` (a
//! write when the driver has no such ioctl).
//!
//! Closing: [`Watchdog::disarm`] writes the magic character `V` before
//! closing, which stops a driver that supports magic close; dropping the
//! device without it (a crash, or `watchdog_nowayout`) leaves the timer
//! running, and the board resets unless another process kicks it.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use picket::limits::PATH_BYTES;

/// `struct watchdog_info` (`WDIOC_GETSUPPORT`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WatchdogInfo {
    options: u32,
    firmware_version: u32,
    identity: [u8; 32],
}

nix::ioctl_read!(wdioc_getsupport, b'W', 0, WatchdogInfo);
nix::ioctl_read!(wdioc_getbootstatus, b'W', 2, libc::c_int);
nix::ioctl_read!(wdioc_keepalive, b'W', 5, libc::c_int);
nix::ioctl_readwrite!(wdioc_settimeout, b'W', 6, libc::c_int);
nix::ioctl_read!(wdioc_gettimeout, b'W', 7, libc::c_int);

/// Option / status bit: the last reboot was caused by the watchdog.
pub const WDIOF_CARDRESET: u32 = 0x0020;
/// Option bit: the timeout can be set.
pub const WDIOF_SETTIMEOUT: u32 = 0x0080;
/// Option bit: the driver stops on close after the magic character.
pub const WDIOF_MAGICCLOSE: u32 = 0x0100;
/// Option bit: `WDIOC_KEEPALIVE` is supported.
pub const WDIOF_KEEPALIVEPING: u32 = 0x8000;

/// Why the device could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Another process holds it (`EBUSY`).
    Busy,
    /// No such device (`ENOENT`, `ENODEV`, `ENXIO`).
    Missing,
    /// Not allowed (`EACCES`, `EPERM`).
    Denied,
    /// The path is longer than picket's paths.
    PathTooLong,
    /// Something else.
    Other(Errno),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Busy => f.write_str(
                "it is busy: another process holds it (one opener at a time). On OpenWrt \
                 procd does: hand it over with `ubus call system watchdog '{\"magicclose\":true}'` \
                 then `ubus call system watchdog '{\"stop\":true}'` before starting picket; \
                 elsewhere stop the other watchdog daemon (busybox watchdog, watchdogd, \
                 systemd's RuntimeWatchdogSec), or set watchdog_device none",
            ),
            OpenError::Missing => f.write_str("no such device (is the watchdog driver loaded?)"),
            OpenError::Denied => f.write_str("permission denied (picket must run as root)"),
            OpenError::PathTooLong => write!(f, "the path is longer than {PATH_BYTES} bytes"),
            OpenError::Other(e) => write!(f, "{e}"),
        }
    }
}

/// What the device said when it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// `WDIOF_*` bits the driver supports (0 if it does not say).
    pub options: u32,
    /// Its identity (`i6300ESB timer`), NUL-padded.
    pub identity: [u8; 32],
    /// The timeout in force, in seconds (as granted, read back).
    pub timeout_s: u32,
    /// The boot status (`WDIOF_*` bits; 0 if unsupported).
    pub boot_status: u32,
}

impl Facts {
    /// The identity as text.
    pub fn identity(&self) -> &str {
        let end = self
            .identity
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.identity.len());
        std::str::from_utf8(&self.identity[..end]).unwrap_or("?")
    }

    /// Whether the watchdog reset the board last time.
    pub fn card_reset(&self) -> bool {
        self.boot_status & WDIOF_CARDRESET != 0
    }
}

/// An open, running watchdog.
pub struct Watchdog {
    fd: OwnedFd,
    keepalive_ioctl: bool,
}

impl Watchdog {
    /// Opens `path` (which starts the timer), asks for `timeout_s` and
    /// reads the device's facts; kicks once.
    pub fn open(path: &str, timeout_s: u32) -> Result<(Self, Facts), OpenError> {
        if path.len() >= PATH_BYTES {
            return Err(OpenError::PathTooLong);
        }
        let fd =
            open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| match e {
                Errno::EBUSY => OpenError::Busy,
                Errno::ENOENT | Errno::ENODEV | Errno::ENXIO => OpenError::Missing,
                Errno::EACCES | Errno::EPERM => OpenError::Denied,
                e => OpenError::Other(e),
            })?;
        let raw = fd.as_raw_fd();
        let mut info = WatchdogInfo {
            options: 0,
            firmware_version: 0,
            identity: [0; 32],
        };
        // SAFETY: `raw` is an open watchdog fd; `info` is a live
        // `struct watchdog_info` the kernel fills.
        if unsafe { wdioc_getsupport(raw, &mut info) }.is_err() {
            info.options = 0;
        }
        let mut timeout = libc::c_int::try_from(timeout_s).unwrap_or(libc::c_int::MAX);
        let set = if info.options & WDIOF_SETTIMEOUT != 0 {
            // SAFETY: `timeout` is a live int; the kernel reads the wish
            // and writes back the value it granted.
            unsafe { wdioc_settimeout(raw, &mut timeout) }.is_ok()
        } else {
            false
        };
        if !set {
            timeout = 0;
            // SAFETY: as above; the kernel writes the current timeout.
            let _ = unsafe { wdioc_gettimeout(raw, &mut timeout) };
        }
        let mut boot_status: libc::c_int = 0;
        // SAFETY: `boot_status` is a live int the kernel writes.
        if unsafe { wdioc_getbootstatus(raw, &mut boot_status) }.is_err() {
            boot_status = 0;
        }
        let mut dog = Watchdog {
            fd,
            // A driver that says nothing may still have it; one that lists
            // its options without it gets writes.
            keepalive_ioctl: info.options == 0 || info.options & WDIOF_KEEPALIVEPING != 0,
        };
        let _ = dog.kick();
        Ok((
            dog,
            Facts {
                options: info.options,
                identity: info.identity,
                timeout_s: u32::try_from(timeout).unwrap_or(0),
                boot_status: u32::try_from(boot_status).unwrap_or(0),
            },
        ))
    }

    /// Restarts the timer (`WDIOC_KEEPALIVE`; a one-byte write if the
    /// driver has no such ioctl).
    pub fn kick(&mut self) -> Result<(), Errno> {
        if self.keepalive_ioctl {
            let mut dummy: libc::c_int = 0;
            // SAFETY: `dummy` is a live int; the ioctl does not use it.
            match unsafe { wdioc_keepalive(self.fd.as_raw_fd(), &mut dummy) } {
                Ok(_) => return Ok(()),
                Err(Errno::ENOTTY | Errno::EINVAL | Errno::EOPNOTSUPP) => {
                    self.keepalive_ioctl = false;
                }
                Err(e) => return Err(e),
            }
        }
        nix::unistd::write(&self.fd, b"\0").map(drop)
    }

    /// Orderly stop: writes the magic character `V`, then closes (a driver
    /// with magic close stops the timer).
    pub fn disarm(self) -> Result<(), Errno> {
        let r = nix::unistd::write(&self.fd, b"V").map(drop);
        drop(self.fd);
        r
    }

    /// Closes without the magic character (`watchdog_nowayout`): the timer
    /// keeps running.
    pub fn leave_armed(self) {
        drop(self.fd);
    }
}
