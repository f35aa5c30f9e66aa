//! [`ConfigFs`] over the real file system: whole files read into the
//! caller's buffer, directories listed with `getdents64(2)` into a fixed
//! buffer; and the new temporary files that picket's writes go through
//! ([`create_temp`]). Nothing allocates (paths go through nix's stack
//! buffer).

use std::fmt::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::unlink;
use picket::config::{ConfigFs, FsError};
use picket::limits::PATH_BYTES;

/// Bytes of one `getdents64` batch.
const DIRENT_BYTES: usize = 4096;
/// Names tried for a temporary file: `PATH` + its suffix, then as many
/// with a random suffix after that.
const TEMP_TRIES: u32 = 8;
/// Room for a temporary file's name: the path, a suffix of up to 15
/// bytes, `.` and 8 hex digits.
const TEMP_NAME_BYTES: usize = PATH_BYTES + 24;
/// A temporary file's name.
pub type TempName = heapless::String<TEMP_NAME_BYTES>;

/// A 32-bit value an attacker cannot guess ahead: the wall clock's
/// nanoseconds, the pid and `n` mixed (splitmix64). Names made of it only
/// need to be unlikely to be taken: `O_EXCL` does the rest.
fn random_suffix(n: u32) -> u32 {
    let t = clock_gettime(ClockId::CLOCK_REALTIME).map_or(0, |t| {
        (t.tv_sec() as u64).wrapping_mul(1_000_000_007) ^ t.tv_nsec() as u64
    });
    let mut z = t ^ (u64::from(std::process::id()) << 32) ^ u64::from(n);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

/// Creates a new file to be renamed over `path` once written: always a
/// new file of picket's, made `O_CREAT|O_EXCL|O_NOFOLLOW` with `mode`, so a
/// file or symlink someone planted at its name is never opened. The name
/// is `path` + `suffix`, after unlinking a stale one (a crash's leftover, or
/// a plant: a symlink is removed, not followed); if that name is still
/// taken (a plant picket cannot remove), `path` + `suffix` + `.XXXXXXXX`
/// with a hard-to-guess suffix, a bounded number of times (as
/// `mkostemp(3)`). Returns the descriptor; the name is left in `name`.
/// `ENAMETOOLONG`: the name does not fit; `EEXIST`: every name was taken.
pub fn create_temp(
    path: &str,
    suffix: &str,
    mode: u32,
    name: &mut TempName,
) -> Result<OwnedFd, Errno> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    for n in 0..TEMP_TRIES {
        name.clear();
        let named = name.push_str(path).is_ok() && name.push_str(suffix).is_ok();
        if !named || (n > 0 && write!(name, ".{:08x}", random_suffix(n)).is_err()) {
            return Err(Errno::ENAMETOOLONG);
        }
        if n == 0 {
            let _ = unlink(name.as_str());
        }
        match open(name.as_str(), flags, Mode::from_bits_truncate(mode)) {
            Err(Errno::EEXIST) => {}
            result => return result,
        }
    }
    Err(Errno::EEXIST)
}

/// The real file system.
#[derive(Debug, Default)]
pub struct RealFs;

fn fs_error(e: Errno) -> FsError {
    match e {
        Errno::ENOENT | Errno::ENOTDIR => FsError::NotFound,
        Errno::EACCES | Errno::EPERM => FsError::PermissionDenied,
        Errno::EISDIR => FsError::WrongKind,
        Errno::ENAMETOOLONG => FsError::PathTooLong,
        e => FsError::Other(e as i32),
    }
}

fn open_checked(path: &str, flags: OFlag) -> Result<OwnedFd, FsError> {
    if path.len() >= PATH_BYTES {
        return Err(FsError::PathTooLong);
    }
    open(
        path,
        flags | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(fs_error)
}

impl ConfigFs for RealFs {
    /// Reads a regular file whole. Anything else is refused before it is
    /// read: a directory ([`FsError::WrongKind`]), a FIFO, socket or device
    /// ([`FsError::NotRegular`]: a FIFO without a writer would block the
    /// loop at a reload). The open itself is non-blocking (`O_NONBLOCK`:
    /// opening a FIFO for reading does not wait for a writer).
    fn read_file(&mut self, path: &str, buf: &mut [u8]) -> Result<usize, FsError> {
        let fd = open_checked(path, OFlag::O_NONBLOCK)?;
        let st = fstat(&fd).map_err(fs_error)?;
        match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG => {}
            SFlag::S_IFDIR => return Err(FsError::WrongKind),
            _ => return Err(FsError::NotRegular),
        }
        let mut len = 0;
        loop {
            if len == buf.len() {
                // Full: one more byte means the file does not fit.
                let mut probe = [0u8; 1];
                return match nix::unistd::read(&fd, &mut probe) {
                    Ok(0) => Ok(len),
                    Ok(_) => Err(FsError::TooLarge),
                    Err(e) => Err(fs_error(e)),
                };
            }
            match nix::unistd::read(&fd, &mut buf[len..]) {
                Ok(0) => return Ok(len),
                Ok(n) => len += n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(fs_error(e)),
            }
        }
    }

    fn list_dir(&mut self, dir: &str, entry: &mut dyn FnMut(&str, bool)) -> Result<(), FsError> {
        let fd = open_checked(dir, OFlag::O_DIRECTORY).map_err(|e| match e {
            FsError::Other(x) if x == Errno::ENOTDIR as i32 => FsError::WrongKind,
            e => e,
        })?;
        let mut buf = DirentBuf([0; DIRENT_BYTES]);
        loop {
            // SAFETY: `buf` is a live, writable buffer of `DIRENT_BYTES`
            // bytes; the kernel writes at most that many into it.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    fd.as_raw_fd(),
                    buf.0.as_mut_ptr(),
                    DIRENT_BYTES,
                )
            };
            let n = match Errno::result(n) {
                Ok(0) => return Ok(()),
                Ok(n) => usize::try_from(n).unwrap_or(0),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(fs_error(e)),
            };
            walk_dirents(&buf.0[..n.min(DIRENT_BYTES)], entry);
        }
    }
}

/// A path in a fixed buffer.
pub type FixedPath = heapless::String<PATH_BYTES>;

/// `realpath(3)`: `path` made absolute with every symlink, `.` and `..`
/// resolved, into a fixed buffer. Nothing allocates: the input and output
/// are stack buffers, and the C library resolves within its own for paths
/// this short (`ENAMETOOLONG` beyond [`PATH_BYTES`]).
pub fn real_path(path: &str) -> Result<FixedPath, Errno> {
    let mut input = [0u8; PATH_BYTES];
    if path.len() >= PATH_BYTES {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.as_bytes().contains(&0) {
        return Err(Errno::EINVAL);
    }
    input[..path.len()].copy_from_slice(path.as_bytes());
    let mut out = [0u8; libc::PATH_MAX as usize];
    // SAFETY: `input` is NUL-terminated (zeroed beyond `path`); `out` has
    // the PATH_MAX bytes realpath may write, NUL included.
    let r = unsafe { libc::realpath(input.as_ptr().cast(), out.as_mut_ptr().cast()) };
    if r.is_null() {
        return Err(Errno::last());
    }
    let resolved = core::ffi::CStr::from_bytes_until_nul(&out)
        .map_err(|_| Errno::ENAMETOOLONG)?
        .to_str()
        .map_err(|_| Errno::EILSEQ)?;
    let mut p = FixedPath::new();
    p.push_str(resolved).map_err(|_| Errno::ENAMETOOLONG)?;
    Ok(p)
}

/// A `getdents64` buffer, 8-byte aligned as `linux_dirent64` wants.
#[repr(C, align(8))]
struct DirentBuf([u8; DIRENT_BYTES]);

/// Walks `linux_dirent64` records: `d_ino: u64, d_off: i64, d_reclen: u16,
/// d_type: u8, d_name: [u8]` NUL-terminated. Skips `.` and `..`; stops at a
/// record that does not fit (never panics on a short buffer).
fn walk_dirents(mut b: &[u8], entry: &mut dyn FnMut(&str, bool)) {
    const NAME_AT: usize = 19;
    while b.len() > NAME_AT {
        let reclen = usize::from(u16::from_ne_bytes([b[16], b[17]]));
        if reclen <= NAME_AT || reclen > b.len() {
            return;
        }
        let d_type = b[18];
        let name = &b[NAME_AT..reclen];
        let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
        if name != b"."
            && name != b".."
            && let Ok(s) = core::str::from_utf8(name)
        {
            entry(s, d_type == libc::DT_DIR);
        }
        b = &b[reclen..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_lists_directories() {
        let dir = std::env::temp_dir().join(format!("picket-fs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.conf"), b"hello").unwrap();
        let mut fs = RealFs;
        let mut buf = [0u8; 16];
        let p = dir.join("a.conf");
        assert_eq!(fs.read_file(p.to_str().unwrap(), &mut buf), Ok(5));
        assert_eq!(&buf[..5], b"hello");
        let mut small = [0u8; 3];
        assert_eq!(
            fs.read_file(p.to_str().unwrap(), &mut small),
            Err(FsError::TooLarge)
        );
        let mut exact = [0u8; 5];
        assert_eq!(fs.read_file(p.to_str().unwrap(), &mut exact), Ok(5));
        assert_eq!(
            fs.read_file(dir.to_str().unwrap(), &mut buf),
            Err(FsError::WrongKind)
        );
        assert_eq!(
            fs.read_file("/nonexistent/x", &mut buf),
            Err(FsError::NotFound)
        );
        let mut seen = Vec::new();
        fs.list_dir(dir.to_str().unwrap(), &mut |n, d| {
            seen.push((n.to_owned(), d))
        })
        .unwrap();
        seen.sort();
        assert_eq!(
            seen,
            [("a.conf".to_owned(), false), ("sub".to_owned(), true)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A FIFO (no writer) or a device named as a configuration file is
    /// refused at once, without blocking: a reload would otherwise hang the
    /// loop in `open` or `read`.
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("picket-fs-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("keepalived.conf");
        nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).unwrap();
        let path = fifo.to_str().unwrap().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let _ = tx.send(RealFs.read_file(&path, &mut buf));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(5));
        if got.is_err() {
            // Release the blocked reader before failing.
            let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
        }
        assert_eq!(
            got,
            Ok(Err(FsError::NotRegular)),
            "a FIFO blocks or is read"
        );
        let mut buf = [0u8; 64];
        assert_eq!(
            RealFs.read_file("/dev/zero", &mut buf),
            Err(FsError::NotRegular)
        );
        assert_eq!(
            FsError::NotRegular.to_string(),
            "not a regular file (a FIFO, socket or device is not read)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
