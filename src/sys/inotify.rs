//! `vrrp_track_file` on the OS side: an inotify fd watching the directories
//! of tracked files (keepalived watches the directory, so a file created,
//! replaced by `mv` or deleted is seen too), its events read into the
//! caller's buffer, and tracked files read into a fixed buffer.
//!
//! Start-up ([`TrackedFiles::open`]) resolves each file's directory, writes
//! `init_file` values (never through a symlink: [`write_init`]), adds the
//! watches and reads the first values; it may allocate. In the loop nothing allocates: paths go through nix's stack
//! buffer, reads go into fixed buffers.

use std::fmt::Write as _;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, SFlag, fstat, lstat, stat};
use nix::unistd::ftruncate;
use picket::config::vrrp::TrackFile;
use picket::limits::PATH_BYTES;
use picket::vrrp::track::{FileId, parse_file_value};

/// `IN_CLOSE_WRITE | IN_DELETE | IN_MOVE` (keepalived's mask).
const WATCH_MASK: u32 = libc::IN_CLOSE_WRITE | libc::IN_DELETE | libc::IN_MOVE;
/// Bytes of an event header (`struct inotify_event` without its name).
const EVENT_HEADER: usize = 16;
/// Bytes read from a tracked file (keepalived reads 127).
pub const VALUE_BYTES: usize = 128;
/// Bytes of one read of events: room for many events with names.
pub const EVENT_BUF: usize = 4096;

/// One tracked file being watched.
#[derive(Debug)]
struct Watched {
    id: FileId,
    /// The whole path (directory resolved).
    path: heapless::String<PATH_BYTES>,
    /// Where the file name starts in `path`.
    name_at: usize,
    wd: i32,
}

/// What reading a tracked file gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// A number (not clamped yet).
    Value(i64),
    /// The file holds no number: 0, as keepalived.
    Garbage,
    /// The file cannot be read (`errno`): 0, as keepalived.
    Unreadable(Errno),
    /// The file was deleted or moved away: 0, as keepalived.
    Gone,
}

impl Reading {
    /// The value keepalived uses.
    pub fn value(self) -> i64 {
        match self {
            Reading::Value(v) => v,
            Reading::Garbage | Reading::Unreadable(_) | Reading::Gone => 0,
        }
    }
}

/// The inotify fd and every watched file.
pub struct TrackedFiles {
    fd: OwnedFd,
    files: Vec<Watched>,
    buf: [u8; EVENT_BUF],
}

/// Reads the number in `path` (at most [`VALUE_BYTES`] - 1 bytes, as
/// keepalived). No allocation.
pub fn read_value(path: &str) -> Reading {
    let fd = match open(
        path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) => return Reading::Unreadable(e),
    };
    let mut buf = [0u8; VALUE_BYTES];
    match nix::unistd::read(&fd, &mut buf[..VALUE_BYTES - 1]) {
        Ok(n) => match parse_file_value(&buf[..n.min(VALUE_BYTES - 1)]) {
            Some(v) => Reading::Value(v),
            None => Reading::Garbage,
        },
        Err(e) => Reading::Unreadable(e),
    }
}

/// Why `init_file` was not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    /// A symlink is at the path (to be overwritten, or dangling): never
    /// followed, it could point anywhere.
    Symlink,
    /// Something other than a regular file is at the path.
    NotRegular,
    /// A system call failed.
    Sys(Errno),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Symlink => f.write_str("it is a symlink, which picket does not follow"),
            InitError::NotRegular => f.write_str("it is not a regular file"),
            InitError::Sys(e) => write!(f, "{e}"),
        }
    }
}

/// Writes `init_file`'s `value` (and a newline) to `path`: into a new file
/// made with `O_CREAT|O_EXCL|O_NOFOLLOW` (mode 0644), so a file or symlink
/// someone put there first is never written through. What is there already
/// is left as it is without `overwrite`, and is refused if it is a
/// dangling symlink (keepalived would create its target, wherever it
/// points); with `overwrite`, only a regular file is written, opened with
/// `O_NOFOLLOW` and without `O_CREAT` (a symlink is refused:
/// [`InitError::Symlink`]).
pub fn write_init(path: &str, value: i32, overwrite: bool) -> Result<(), InitError> {
    let common = OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = match open(
        path,
        common | OFlag::O_CREAT | OFlag::O_EXCL,
        Mode::from_bits_truncate(0o644),
    ) {
        Ok(fd) => fd,
        Err(Errno::EEXIST) if !overwrite => {
            // Left as it is, unless it is a symlink to nothing (writing
            // would create its target, wherever it points).
            return match stat(path) {
                Ok(_) => Ok(()),
                Err(Errno::ENOENT) => Err(InitError::Symlink),
                Err(e) => Err(InitError::Sys(e)),
            };
        }
        Err(Errno::EEXIST) => {
            let st = lstat(path).map_err(InitError::Sys)?;
            match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
                SFlag::S_IFREG => {}
                SFlag::S_IFLNK => return Err(InitError::Symlink),
                _ => return Err(InitError::NotRegular),
            }
            let fd = open(path, common, Mode::empty()).map_err(|e| match e {
                Errno::ELOOP => InitError::Symlink,
                e => InitError::Sys(e),
            })?;
            // Replaced between the two looks: checked again.
            let st = fstat(&fd).map_err(InitError::Sys)?;
            if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                return Err(InitError::NotRegular);
            }
            ftruncate(&fd, 0).map_err(InitError::Sys)?;
            fd
        }
        Err(e) => return Err(InitError::Sys(e)),
    };
    let mut text = heapless::String::<16>::new();
    let _ = writeln!(text, "{value}");
    let mut at = 0;
    while at < text.len() {
        match nix::unistd::write(&fd, &text.as_bytes()[at..]) {
            Ok(0) => return Err(InitError::Sys(Errno::EIO)),
            Ok(n) => at += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(InitError::Sys(e)),
        }
    }
    Ok(())
}

impl TrackedFiles {
    /// Watches every used file of `files` (start-up: may allocate). The
    /// directory of each must exist; `init_file` is written first. Errors
    /// name the file.
    pub fn open(files: &[TrackFile]) -> Result<Self, String> {
        // SAFETY: plain system call with flag arguments.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        let raw = Errno::result(raw).map_err(|e| format!("inotify: {e}"))?;
        // SAFETY: `raw` was just returned by inotify_init1 and is owned by
        // nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut t = TrackedFiles {
            fd,
            files: Vec::new(),
            buf: [0; EVENT_BUF],
        };
        for (i, f) in files.iter().enumerate() {
            if !f.used {
                continue;
            }
            let id = FileId(u16::try_from(i).map_err(|_| "too many track files".to_owned())?);
            t.watch(id, f)?;
        }
        Ok(t)
    }

    fn watch(&mut self, id: FileId, f: &TrackFile) -> Result<(), String> {
        let what = |e: String| format!("vrrp_track_file {}: {e}", f.name);
        let given = std::path::Path::new(f.path.as_str());
        let (Some(dir), Some(name)) = (given.parent(), given.file_name()) else {
            return Err(what(format!("'{}' names no file", f.path)));
        };
        let dir = std::fs::canonicalize(dir).map_err(|e| {
            what(format!(
                "the directory of '{}' cannot be used ({e}); create it before starting picket",
                f.path
            ))
        })?;
        if !dir.is_dir() {
            return Err(what(format!("'{}' is not a directory", dir.display())));
        }
        let full = dir.join(name);
        let mut path = heapless::String::new();
        path.push_str(full.to_str().unwrap_or(""))
            .map_err(|_| what(format!("'{}' is too long", full.display())))?;
        if let Some(init) = f.init {
            write_init(&path, init.value, init.overwrite)
                .map_err(|e| what(format!("init_file: cannot write '{}': {e}", full.display())))?;
        }
        let dir_c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
            .map_err(|_| what("bad path".into()))?;
        // SAFETY: `dir_c` is a NUL-terminated path alive for the call.
        let wd =
            unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), dir_c.as_ptr(), WATCH_MASK) };
        let wd = Errno::result(wd)
            .map_err(|e| what(format!("cannot watch '{}': {e}", dir.display())))?;
        let name_at = path.len() - name.len();
        self.files.push(Watched {
            id,
            path,
            name_at,
            wd,
        });
        Ok(())
    }

    /// Every watched file with its path.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &str)> {
        self.files.iter().map(|w| (w.id, w.path.as_str()))
    }

    /// Reads pending events and calls `changed` with each watched file an
    /// event concerns and what it now holds (a deleted or moved-away file is
    /// [`Reading::Gone`]). A queue overflow (events lost) reads every file.
    /// Returns the errors met (other than "no more events").
    pub fn drain(&mut self, mut changed: impl FnMut(FileId, &str, Reading)) -> Result<(), Errno> {
        loop {
            let n = match nix::unistd::read(&self.fd, &mut self.buf) {
                Ok(n) => n.min(EVENT_BUF),
                Err(Errno::EAGAIN) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(());
            }
            let data = &self.buf[..n];
            let mut at = 0;
            while let Some(h) = data.get(at..at + EVENT_HEADER) {
                let word = |k: usize| {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(&h[k..k + 4]);
                    u32::from_ne_bytes(b)
                };
                let (wd, mask, len) = (word(0) as i32, word(4), word(12) as usize);
                let name = data
                    .get(at + EVENT_HEADER..at + EVENT_HEADER + len)
                    .unwrap_or(&[]);
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                at += EVENT_HEADER + len;
                if mask & libc::IN_Q_OVERFLOW != 0 {
                    for w in &self.files {
                        changed(w.id, &w.path, read_value(&w.path));
                    }
                    continue;
                }
                if mask & libc::IN_ISDIR != 0 {
                    continue;
                }
                for w in self
                    .files
                    .iter()
                    .filter(|w| w.wd == wd && w.path.as_bytes().get(w.name_at..) == Some(name))
                {
                    let reading = if mask & (libc::IN_DELETE | libc::IN_MOVED_FROM) != 0 {
                        Reading::Gone
                    } else {
                        read_value(&w.path)
                    };
                    changed(w.id, &w.path, reading);
                }
            }
        }
    }
}

impl AsFd for TrackedFiles {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket::config::vrrp::InitFile;

    fn file(dir: &std::path::Path, name: &str, init: Option<InitFile>) -> TrackFile {
        let mut f = TrackFile::new(
            heapless::String::try_from(name).unwrap(),
            Default::default(),
        );
        f.path = heapless::String::try_from(dir.join(name).to_str().unwrap()).unwrap();
        f.init = init;
        f.used = true;
        f
    }

    #[test]
    fn writes_moves_and_deletes_are_seen() {
        let dir = std::env::temp_dir().join(format!("picket-inotify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b"), "9\n").unwrap();
        let files = [
            file(
                &dir,
                "a",
                Some(InitFile {
                    value: 5,
                    overwrite: false,
                }),
            ),
            file(
                &dir,
                "b",
                Some(InitFile {
                    value: 1,
                    overwrite: false,
                }),
            ),
            file(&dir, "c", None),
        ];
        let mut t = TrackedFiles::open(&files).unwrap();
        let first: Vec<_> = t.files().map(|(id, p)| (id, read_value(p))).collect();
        assert_eq!(
            first,
            [
                (FileId(0), Reading::Value(5)),
                (FileId(1), Reading::Value(9)),
                (FileId(2), Reading::Unreadable(Errno::ENOENT)),
            ],
            "init_file writes a missing file only"
        );
        let mut seen = Vec::new();
        let mut drain = |t: &mut TrackedFiles| {
            seen.clear();
            t.drain(|id, _, r| seen.push((id, r))).unwrap();
            seen.clone()
        };
        assert!(drain(&mut t).is_empty());
        std::fs::write(dir.join("a"), "-3").unwrap();
        std::fs::write(dir.join("other"), "1").unwrap();
        assert_eq!(drain(&mut t), [(FileId(0), Reading::Value(-3))]);
        std::fs::write(dir.join("new"), "garbage").unwrap();
        std::fs::rename(dir.join("new"), dir.join("c")).unwrap();
        assert_eq!(drain(&mut t), [(FileId(2), Reading::Garbage)]);
        std::fs::remove_file(dir.join("b")).unwrap();
        std::fs::rename(dir.join("c"), dir.join("d")).unwrap();
        assert_eq!(
            drain(&mut t),
            [(FileId(1), Reading::Gone), (FileId(2), Reading::Gone)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = file(&dir, "x", None);
        let e = TrackedFiles::open(&[missing]).err().unwrap();
        assert!(e.contains("vrrp_track_file x: the directory of"), "{e}");
    }

    /// `init_file` never writes through a symlink someone put at the
    /// tracked path (a dangling one would have its target created anywhere),
    /// writes a new file O_EXCL with mode 0644, and overwrites only regular
    /// files.
    #[test]
    fn init_file_never_follows_a_symlink() {
        use std::os::unix::fs::{PermissionsExt as _, symlink};
        let dir = std::env::temp_dir().join(format!("picket-init-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
        let read = |n: &str| std::fs::read_to_string(dir.join(n)).ok();

        // A dangling symlink: refused, its target not created.
        symlink(dir.join("victim"), dir.join("dangling")).unwrap();
        for overwrite in [false, true] {
            assert_eq!(
                write_init(&p("dangling"), 5, overwrite),
                Err(InitError::Symlink)
            );
        }
        assert_eq!(read("victim"), None, "written through a dangling symlink");
        let init = InitFile {
            value: 5,
            overwrite: false,
        };
        let opened = TrackedFiles::open(&[file(&dir, "dangling", Some(init))]);
        assert_eq!(read("victim"), None, "written through a dangling symlink");
        let e = opened.err().unwrap();
        assert!(e.contains("symlink, which picket does not follow"), "{e}");

        // A symlink to a file: left alone, never overwritten through.
        std::fs::write(dir.join("target"), "7\n").unwrap();
        symlink(dir.join("target"), dir.join("link")).unwrap();
        assert_eq!(write_init(&p("link"), 5, false), Ok(()));
        assert_eq!(write_init(&p("link"), 5, true), Err(InitError::Symlink));
        assert_eq!(read("target").as_deref(), Some("7\n"));

        // A new file: created, mode 0644 (under the umask).
        assert_eq!(write_init(&p("new"), -12, false), Ok(()));
        assert_eq!(read("new").as_deref(), Some("-12\n"));
        let mode = std::fs::metadata(dir.join("new"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7133, 0, "mode {mode:o}");
        // An existing regular file: kept, or overwritten whole.
        std::fs::write(dir.join("old"), "123456\n").unwrap();
        assert_eq!(write_init(&p("old"), 1, false), Ok(()));
        assert_eq!(read("old").as_deref(), Some("123456\n"));
        assert_eq!(write_init(&p("old"), 1, true), Ok(()));
        assert_eq!(read("old").as_deref(), Some("1\n"));
        // A FIFO is not written (nor waited for).
        nix::unistd::mkfifo(&dir.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        assert_eq!(write_init(&p("fifo"), 1, false), Ok(()));
        assert_eq!(write_init(&p("fifo"), 1, true), Err(InitError::NotRegular));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
