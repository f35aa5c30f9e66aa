//! Capabilities and `no_new_privs`: once its sockets and devices are open,
//! picket keeps only what its loop and its scripts need (see
//! [`KEPT`] and the README's "Privileges"), with `capset(2)` and
//! `prctl(2)` directly (libc).
//!
//! Order matters: the bounding set is cut first (`PR_CAPBSET_DROP` needs
//! `CAP_SETPCAP`, which is then dropped with the rest), the ambient set is
//! cleared, then `capset` sets permitted = effective = the kept set and
//! inheritable = none. Dropping never needs a privilege; a capability picket
//! was not given cannot be kept and is reported missing.

use nix::errno::Errno;

/// Capability numbers (`linux/capability.h`).
pub mod cap {
    /// `CAP_KILL`: signal children that run as another user.
    pub const KILL: u8 = 5;
    /// `CAP_SETGID`: children take a script's group(s) before `execve`.
    pub const SETGID: u8 = 6;
    /// `CAP_SETUID`: children take a script's user before `execve`.
    pub const SETUID: u8 = 7;
    /// `CAP_SETPCAP`: needed to cut the bounding set.
    pub const SETPCAP: u8 = 8;
    /// `CAP_NET_ADMIN`: addresses, routes, IPVS over netlink.
    pub const NET_ADMIN: u8 = 12;
    /// `CAP_NET_RAW`: raw VRRP, packet and ICMP sockets (also opened at a
    /// reload).
    pub const NET_RAW: u8 = 13;
    /// `CAP_IPC_LOCK`: `mlockall(MCL_FUTURE)` keeps locking new pages
    /// (stack growth) beyond `RLIMIT_MEMLOCK`.
    pub const IPC_LOCK: u8 = 14;
}

/// What picket keeps for itself after start-up.
pub const KEPT: u64 = 1 << cap::NET_ADMIN
    | 1 << cap::NET_RAW
    | 1 << cap::KILL
    | 1 << cap::SETUID
    | 1 << cap::SETGID
    | 1 << cap::IPC_LOCK;

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The sets of this process, as masks by capability number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sets {
    /// Effective.
    pub effective: u64,
    /// Permitted.
    pub permitted: u64,
    /// Inheritable.
    pub inheritable: u64,
    /// Bounding (read one by one with `PR_CAPBSET_READ`).
    pub bounding: u64,
}

/// The highest capability number the kernel knows.
fn last_cap() -> u8 {
    let mut n = 0;
    for c in 0..64u8 {
        // SAFETY: prctl PR_CAPBSET_READ takes an integer, touches no memory.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(c), 0, 0, 0) };
        if r < 0 {
            break;
        }
        n = c;
    }
    n
}

/// Reads this process's sets.
pub fn current() -> Result<Sets, Errno> {
    let mut hdr = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: `hdr` and `data` are live; version 3 makes the kernel write
    // exactly two `Data` entries.
    let r = unsafe { libc::syscall(libc::SYS_capget, &raw mut hdr, data.as_mut_ptr()) };
    Errno::result(r)?;
    let join = |lo: u32, hi: u32| u64::from(lo) | u64::from(hi) << 32;
    let mut bounding = 0u64;
    for c in 0..=last_cap() {
        // SAFETY: as in `last_cap`.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(c), 0, 0, 0) };
        if r == 1 {
            bounding |= 1 << c;
        }
    }
    Ok(Sets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
        bounding,
    })
}

/// Keeps `keep` (permitted and effective; intersected with what the
/// process has), inheritable and ambient empty, and — unless `bounding` is
/// `None`, or the process lacks `CAP_SETPCAP` — the bounding set cut to
/// `bounding`. Returns the sets after.
pub fn drop_to(keep: u64, bounding: Option<u64>) -> Result<Sets, Errno> {
    let before = current()?;
    // Without CAP_SETPCAP the bounding set stays (the caller sees it in
    // the sets returned).
    if let Some(b) = bounding
        && before.effective & (1 << cap::SETPCAP) != 0
    {
        for c in 0..=last_cap() {
            if before.bounding & (1 << c) != 0 && b & (1 << c) == 0 {
                // SAFETY: prctl PR_CAPBSET_DROP takes an integer.
                let r =
                    unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(c), 0, 0, 0) };
                Errno::result(r)?;
            }
        }
    }
    // SAFETY: prctl PR_CAP_AMBIENT with integer arguments. Kernels before
    // 4.3 have no ambient set (EINVAL): nothing to clear there.
    let r = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    match Errno::result(r) {
        Ok(_) | Err(Errno::EINVAL) => {}
        Err(e) => return Err(e),
    }
    let kept = keep & before.permitted;
    let lo = |m: u64| (m & 0xffff_ffff) as u32;
    let hi = |m: u64| (m >> 32) as u32;
    let mut hdr = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [
        Data {
            effective: lo(kept),
            permitted: lo(kept),
            inheritable: 0,
        },
        Data {
            effective: hi(kept),
            permitted: hi(kept),
            inheritable: 0,
        },
    ];
    // SAFETY: `hdr` and `data` are live; version 3 reads two entries.
    let r = unsafe { libc::syscall(libc::SYS_capset, &raw mut hdr, data.as_ptr()) };
    Errno::result(r)?;
    current()
}

/// `PR_SET_NO_NEW_PRIVS`: no `execve` of this process or its children
/// gains privileges again (setuid bits and file capabilities are ignored).
pub fn set_no_new_privs() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    Errno::result(r).map(drop)
}

/// Writes the names of the capabilities in `mask` (`cap_net_admin,...`,
/// or `none`).
pub struct Names(pub u64);

impl std::fmt::Display for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (i, name) in picket::config::global::CAPABILITIES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                f.write_str(if first { "" } else { "," })?;
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sets_and_names_them() {
        let s = current().unwrap();
        // Whatever the test runs with, effective is within permitted and
        // the bounding set is not empty.
        assert_eq!(s.effective & !s.permitted, 0);
        assert_ne!(s.bounding, 0);
        assert_eq!(
            Names(KEPT).to_string(),
            "cap_kill,cap_setgid,cap_setuid,cap_net_admin,cap_net_raw,cap_ipc_lock"
        );
        assert_eq!(Names(0).to_string(), "none");
    }
}
