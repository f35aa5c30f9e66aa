//! The reset state file on persistent storage (its contents:
//! `picket::watchdog::recovery`) and the kernel's boot id.
//!
//! A write replaces the file whole and survives a reset that follows at
//! once: the text goes to `PATH.tmp`, which is `fsync`ed and renamed over
//! `PATH`, then the directory is `fsync`ed. `PATH.tmp` is always a new file
//! of picket's ([`create_temp`], as the dumps': whatever is at that name is
//! unlinked first, and it is created `O_EXCL|O_NOFOLLOW`), so a planted
//! symlink is never followed. Paths go through fixed buffers; nothing
//! allocates.

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag, open, renameat};
use nix::sys::stat::Mode;
use nix::unistd::{fsync, read, unlink, write};
use picket::watchdog::recovery::{BootId, STATE_BYTES};

use crate::sys::fs::{TempName, create_temp};

/// Where the kernel says which boot this is.
const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";

fn read_all(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut len = 0;
    while len < buf.len() {
        match read(fd, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// Reads the file at `path` into `buf` (at most its length; a longer file
/// fills it, and the parser says it is too long). `None`: there is none.
pub fn read_state(path: &str, buf: &mut [u8; STATE_BYTES + 1]) -> Result<Option<usize>, Errno> {
    let fd = match open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    read_all(&fd, buf).map(Some)
}

fn write_all(fd: &OwnedFd, mut text: &[u8]) -> Result<(), Errno> {
    while !text.is_empty() {
        match write(fd, text) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => text = &text[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The directory part of `path` (`.` for a bare name).
fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// Replaces the file at `path` with `text`, durably (see the module doc).
/// On failure `path` is left as it was and `PATH.tmp` is removed (a full
/// disk leaves no partial file behind).
pub fn write_state(path: &str, text: &[u8]) -> Result<(), Errno> {
    let mut tmp = TempName::new();
    let fd = create_temp(path, ".tmp", 0o644, &mut tmp)?;
    let written = write_all(&fd, text).and_then(|()| fsync(&fd));
    drop(fd);
    if let Err(e) = written.and_then(|()| renameat(AT_FDCWD, tmp.as_str(), AT_FDCWD, path)) {
        let _ = unlink(tmp.as_str());
        return Err(e);
    }
    let dir = open(
        dir_of(path),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    fsync(&dir)
}

/// Creates the directory of `path` and its parents (start-up only: this
/// allocates).
pub fn create_dir_of(path: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir_of(path))
}

/// This boot's id.
pub fn boot_id() -> Result<BootId, Errno> {
    let fd = open(BOOT_ID, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    let mut buf = [0u8; 64];
    let n = read_all(&fd, &mut buf)?;
    let text = std::str::from_utf8(&buf[..n]).map_err(|_| Errno::EINVAL)?;
    BootId::try_from(text.trim()).map_err(|_| Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_reads_find_it() {
        let dir = std::env::temp_dir().join(format!("picket-state-{}", std::process::id()));
        let path = dir.join("sub/state");
        let path = path.to_str().unwrap();
        create_dir_of(path).unwrap();
        let mut buf = [0u8; STATE_BYTES + 1];
        assert_eq!(read_state(path, &mut buf), Ok(None));
        write_state(path, b"first, longer text\n").unwrap();
        write_state(path, b"second\n").unwrap();
        assert_eq!(read_state(path, &mut buf), Ok(Some(7)));
        assert_eq!(&buf[..7], b"second\n");
        assert!(!std::path::Path::new(&format!("{path}.tmp")).exists());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(dir_of("/state"), "/");
        assert_eq!(dir_of("state"), ".");
        let id = boot_id().unwrap();
        assert_eq!(id.len(), 36, "{id}");
    }

    #[test]
    fn a_failed_write_keeps_the_file_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("picket-state-full-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        let path = path.to_str().unwrap();
        write_state(path, b"kept\n").unwrap();
        // Files cannot grow in the child (as on a full disk).
        let code = crate::sys::in_child_without_file_space(|| match write_state(path, b"lost\n") {
            Err(Errno::EFBIG) => 0,
            Ok(()) => 1,
            Err(_) => 2,
        });
        assert_eq!(code, 0, "1: written anyway, 2: another error");
        assert_eq!(std::fs::read(path).unwrap(), b"kept\n");
        let tmp = format!("{path}.tmp");
        assert!(std::fs::symlink_metadata(&tmp).is_err(), "temp file left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_planted_at_the_temp_name_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("picket-state-link-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let path = dir.join("state");
        let path = path.to_str().unwrap();
        let tmp = format!("{path}.tmp");
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write_state(path, b"state\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(std::fs::read(path).unwrap(), b"state\n");
        assert!(
            !std::fs::symlink_metadata(path)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the state file is a symlink"
        );
        assert!(std::fs::symlink_metadata(&tmp).is_err(), "temp name left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
