//! The pid file, locked for the daemon's life: a second picket on the same
//! pid file (the same configuration, as the init scripts run it) finds the
//! lock held and refuses to start, naming the holder's pid.
//!
//! The lock is `flock(2)` on the open file: it belongs to the open file
//! description, so it holds as long as picket keeps the fd (the whole run;
//! the fd is close-on-exec, so scripts never inherit it) and goes away by
//! itself when picket dies, however it dies. A stale file left by a crash is
//! therefore not locked, and the next picket takes it over.
//!
//! Only a regular file is taken: the path is opened `O_NOFOLLOW`, and what
//! opened is checked with `fstat`, so a symlink, FIFO or device planted at
//! the path is refused and left alone (neither written, truncated nor
//! removed).

use std::fmt::Write as _;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag, open};
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::unistd::{ftruncate, getpid, unlink};
use picket::limits::PATH_BYTES;

/// Why the pid file could not be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidFileError {
    /// Another process holds the lock: another picket runs on this pid
    /// file. Its pid, if the file says.
    Locked(Option<i32>),
    /// The path is a symlink, or not a regular file (a FIFO, a device, a
    /// directory): refused, and left as it is.
    NotRegular,
    /// A system call failed.
    Io(Errno),
}

impl std::fmt::Display for PidFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PidFileError::Locked(Some(pid)) => {
                write!(f, "locked by pid {pid}: another picket is running")
            }
            PidFileError::Locked(None) => f.write_str("locked: another picket is running"),
            PidFileError::NotRegular => {
                f.write_str("a symlink or not a regular file (refused, left as it is)")
            }
            PidFileError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A written, locked pid file; [`PidFile::remove`] deletes it (dropping it
/// does too, quietly: an early exit leaves no pid file behind).
pub struct PidFile {
    /// Empty once removed.
    path: heapless::String<PATH_BYTES>,
    /// Held (locked) for the daemon's life.
    _lock: Flock<OwnedFd>,
}

impl PidFile {
    /// Opens (or creates, mode 0644) the regular file `path`, takes its
    /// lock without waiting, and writes this process's pid and a newline
    /// into it.
    pub fn create(path: &str) -> Result<Self, PidFileError> {
        let mut p = heapless::String::new();
        p.push_str(path)
            .map_err(|_| PidFileError::Io(Errno::ENAMETOOLONG))?;
        // Not O_TRUNC: the holder's pid must survive a refused attempt.
        // O_NONBLOCK: opening a FIFO must not wait for a reader.
        let fd = open(
            path,
            OFlag::O_RDWR
                | OFlag::O_CREAT
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .map_err(|e| match e {
            // O_NOFOLLOW's answer for a symlink (EISDIR: a directory).
            Errno::ELOOP | Errno::EISDIR => PidFileError::NotRegular,
            e => PidFileError::Io(e),
        })?;
        let st = fstat(&fd).map_err(PidFileError::Io)?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return Err(PidFileError::NotRegular);
        }
        let lock = match Flock::lock(fd, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((fd, Errno::EWOULDBLOCK)) => {
                return Err(PidFileError::Locked(read_pid(&fd)));
            }
            Err((_, e)) => return Err(PidFileError::Io(e)),
        };
        if let Err(e) = write_pid(&lock) {
            // Ours (locked) but without our pid (a full disk): no empty
            // or half-written pid file is left behind.
            let _ = unlink(path);
            return Err(PidFileError::Io(e));
        }
        Ok(PidFile {
            path: p,
            _lock: lock,
        })
    }

    /// The path written.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Deletes the file, then releases the lock (by closing it).
    pub fn remove(mut self) -> nix::Result<()> {
        let r = unlink(self.path.as_str());
        self.path.clear();
        r
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if !self.path.is_empty() {
            let _ = unlink(self.path.as_str());
        }
    }
}

/// Empties the just-opened file `fd` (offset 0) and writes this
/// process's pid and a newline into it.
fn write_pid(fd: &OwnedFd) -> Result<(), Errno> {
    ftruncate(fd, 0)?;
    let mut text: heapless::String<16> = heapless::String::new();
    let _ = writeln!(text, "{}", getpid());
    let mut b = text.as_bytes();
    while !b.is_empty() {
        match nix::unistd::write(fd, b) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => b = &b[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The pid written in the file `fd` (just opened: read from its start), if
/// it holds one.
fn read_pid(fd: &OwnedFd) -> Option<i32> {
    let mut buf = [0u8; 16];
    let n = nix::unistd::read(fd, &mut buf).ok()?;
    let text = core::str::from_utf8(buf.get(..n)?).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_with_the_holders_pid_until_the_first_goes() {
        let dir = std::env::temp_dir().join(format!("picket-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.pid");
        let path = path.to_str().unwrap();
        // A stale file (no lock) is taken over.
        std::fs::write(path, "999999\n").unwrap();
        let first = PidFile::create(path).unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), format!("{me}\n"));
        // flock locks belong to the open file: a second open in the same
        // process conflicts just as another process would.
        assert_eq!(
            PidFile::create(path).err(),
            Some(PidFileError::Locked(Some(me)))
        );
        // The refused attempt left the holder's pid in place.
        assert_eq!(std::fs::read_to_string(path).unwrap(), format!("{me}\n"));
        first.remove().unwrap();
        assert!(!std::path::Path::new(path).exists());
        let again = PidFile::create(path).unwrap();
        drop(again);
        assert!(!std::path::Path::new(path).exists(), "dropped: removed");
        // A file whose holder died (the fd closed, no unlink: a crash) is
        // taken over.
        let fd = open(
            path,
            OFlag::O_RDWR | OFlag::O_CREAT,
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let held = Flock::lock(fd, FlockArg::LockExclusiveNonblock).unwrap();
        assert_eq!(
            PidFile::create(path).err(),
            Some(PidFileError::Locked(None))
        );
        drop(held);
        let third = PidFile::create(path).unwrap();
        third.remove().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_pid_file_that_cannot_be_written_is_not_left_behind() {
        let dir = std::env::temp_dir().join(format!("picket-pid-full-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.pid");
        let path = path.to_str().unwrap();
        // Files cannot grow in the child (as on a full disk): the pid is
        // not written, and no empty pid file is left.
        let code = crate::sys::in_child_without_file_space(|| match PidFile::create(path) {
            Err(PidFileError::Io(Errno::EFBIG)) => 0,
            Ok(_) => 1,
            Err(_) => 2,
        });
        assert_eq!(code, 0, "1: created anyway, 2: another error");
        assert!(std::fs::symlink_metadata(path).is_err(), "pid file left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_fifo_or_directory_at_the_path_is_refused_and_left_alone() {
        let dir = std::env::temp_dir().join(format!("picket-pid-planted-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = dir.join("link.pid");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let dangling = dir.join("dangling.pid");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        let fifo = dir.join("fifo.pid");
        nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).unwrap();
        let subdir = dir.join("dir.pid");
        std::fs::create_dir(&subdir).unwrap();
        for planted in [&link, &dangling, &fifo, &subdir] {
            let path = planted.to_str().unwrap();
            assert_eq!(
                PidFile::create(path).err(),
                Some(PidFileError::NotRegular),
                "{path}"
            );
            assert!(std::fs::symlink_metadata(planted).is_ok(), "{path} removed");
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(
            !dir.join("nowhere").exists(),
            "dangling symlink's target created"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
