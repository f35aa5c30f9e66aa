//! keepalived's dump files, written where keepalived writes them:
//! `$TMPDIR/keepalived.data` (SIGUSR1), `$TMPDIR/keepalived.stats`
//! (SIGUSR2, and STATS_CLEAR), `$TMPDIR/keepalived.json` (the JSON signal);
//! `TMPDIR` defaults to `/tmp`, and `state_dump_file`, `stats_dump_file`,
//! `json_dump_file` (absolute; a trailing `/` names a directory that gets
//! the default file name) override them.
//!
//! Each dump goes to a temporary file beside `PATH` through a fixed buffer,
//! and is renamed over `PATH` once whole: a reader never sees half a file,
//! and a full disk leaves the previous dump in place. Any failure is
//! returned for the caller to log and count; nothing here panics or
//! allocates.
//!
//! The temporary file is always a new file of picket's, mode 0600 (as
//! keepalived's `fopen_safe()`), made with `O_CREAT|O_EXCL|O_NOFOLLOW`: in
//! a directory others can write (the default `/tmp`), a file or symlink
//! another user planted at its name is never opened, so it can neither
//! receive nor own the dump (keepalived's CVE-2018-19046). The name is
//! `PATH.picket-tmp`, after unlinking a stale one (a crash's leftover, or
//! a plant picket may remove); if that name is still taken (a plant in a
//! sticky directory owned by another user, which picket cannot remove: it
//! keeps no `CAP_FOWNER`),
//! `PATH.picket-tmp.XXXXXXXX` with a hard-to-guess suffix, a bounded number
//! of times (as `mkostemp(3)`): [`create_temp`], which the watchdog state
//! file's writes use too.

use std::fmt;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, renameat};
use nix::unistd::unlink;
use picket::config::Config;
use picket::limits::PATH_BYTES;

use crate::sys::fs::{TempName, create_temp};

/// Bytes written to the file at a time.
const CHUNK: usize = 4096;
/// Appended to a dump's path while it is written.
const TMP_SUFFIX: &str = ".picket-tmp";

/// Which dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump {
    /// `keepalived.data`.
    Data,
    /// `keepalived.stats`.
    Stats,
    /// `keepalived.json`.
    Json,
    /// `keepalived_check.data` (the checkers' part of SIGUSR1, beside
    /// `keepalived.data`).
    CheckData,
}

impl Dump {
    fn file_name(self) -> &'static str {
        match self {
            Dump::Data => "keepalived.data",
            Dump::Stats => "keepalived.stats",
            Dump::Json => "keepalived.json",
            Dump::CheckData => "keepalived_check.data",
        }
    }
}

type Path = heapless::String<PATH_BYTES>;

/// Where each dump goes (resolved at start-up and at each reload).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DumpPaths {
    data: Path,
    stats: Path,
    json: Path,
    check_data: Path,
}

/// A dump that could not be written: what failed, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpError(pub &'static str, pub Errno);

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

/// `dir` joined with `name`, or `configured` as it is, or (a trailing
/// `/`) `configured` + `name`.
fn resolve(configured: &str, tmp_dir: &str, name: &str) -> Path {
    let mut p = Path::new();
    let (dir, file) = match configured {
        "" => (tmp_dir.trim_end_matches('/'), name),
        c if c.ends_with('/') => (c.trim_end_matches('/'), name),
        c => (c, ""),
    };
    // Too long: the path stays cut and the open fails with a clear error
    // (the configuration caps its paths below PATH_BYTES).
    let _ = p.push_str(dir);
    if !file.is_empty() {
        let _ = p.push('/');
        let _ = p.push_str(file);
    }
    p
}

impl DumpPaths {
    /// The paths of `cfg`, defaults under `tmp_dir` (`$TMPDIR`, else
    /// `/tmp`).
    pub fn of(cfg: &Config, tmp_dir: &str) -> Self {
        let g = &cfg.global;
        let data = resolve(&g.state_dump_file, tmp_dir, Dump::Data.file_name());
        // keepalived's checker writes its file in the same directory.
        let dir = data.rsplit_once('/').map_or(".", |(d, _)| d);
        DumpPaths {
            check_data: resolve("", dir, Dump::CheckData.file_name()),
            data,
            stats: resolve(&g.stats_dump_file, tmp_dir, Dump::Stats.file_name()),
            json: resolve(&g.json_dump_file, tmp_dir, Dump::Json.file_name()),
        }
    }

    /// The path of `dump`.
    pub fn path(&self, dump: Dump) -> &str {
        match dump {
            Dump::Data => &self.data,
            Dump::Stats => &self.stats,
            Dump::Json => &self.json,
            Dump::CheckData => &self.check_data,
        }
    }
}

/// A [`fmt::Write`] into a file through a fixed buffer; the first error is
/// kept and ends the writing.
struct FileSink {
    fd: OwnedFd,
    buf: [u8; CHUNK],
    len: usize,
    error: Option<Errno>,
    written: usize,
}

impl FileSink {
    fn flush(&mut self) -> Result<(), Errno> {
        let mut at = 0;
        while at < self.len {
            match nix::unistd::write(&self.fd, &self.buf[at..self.len]) {
                Ok(0) => return Err(Errno::EIO),
                Ok(n) => at += n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        self.written += self.len;
        self.len = 0;
        Ok(())
    }
}

impl fmt::Write for FileSink {
    fn write_str(&mut self, mut s: &str) -> fmt::Result {
        if self.error.is_some() {
            return Err(fmt::Error);
        }
        while !s.is_empty() {
            let room = CHUNK - self.len;
            let n = room.min(s.len());
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            s = &s[n..];
            if self.len == CHUNK
                && let Err(e) = self.flush()
            {
                self.error = Some(e);
                return Err(fmt::Error);
            }
        }
        Ok(())
    }
}

/// Writes a dump to `path` with `render`, through a new temporary file
/// renamed over `path` at the end (see the module doc); the bytes written.
pub fn write(
    path: &str,
    render: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result,
) -> Result<usize, DumpError> {
    let mut tmp = TempName::new();
    let fd = create_temp(path, TMP_SUFFIX, 0o600, &mut tmp).map_err(|e| {
        let what = if e == Errno::ENAMETOOLONG {
            "path"
        } else {
            "open"
        };
        DumpError(what, e)
    })?;
    let mut sink = FileSink {
        fd,
        buf: [0; CHUNK],
        len: 0,
        error: None,
        written: 0,
    };
    let rendered = render(&mut sink);
    let result = match (rendered, sink.error) {
        (_, Some(e)) => Err(DumpError("write", e)),
        (Err(_), None) => Err(DumpError("format", Errno::EINVAL)),
        (Ok(()), None) => sink.flush().map_err(|e| DumpError("write", e)),
    };
    let written = sink.written;
    drop(sink);
    if let Err(e) = result {
        let _ = unlink(tmp.as_str());
        return Err(e);
    }
    if let Err(e) = renameat(AT_FDCWD, tmp.as_str(), AT_FDCWD, path) {
        let _ = unlink(tmp.as_str());
        return Err(DumpError("rename", e));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_keepalived() {
        let mut cfg = Config::new();
        let p = DumpPaths::of(&cfg, "/tmp");
        assert_eq!(p.path(Dump::Data), "/tmp/keepalived.data");
        assert_eq!(p.path(Dump::Stats), "/tmp/keepalived.stats");
        assert_eq!(p.path(Dump::Json), "/tmp/keepalived.json");
        assert_eq!(p.path(Dump::CheckData), "/tmp/keepalived_check.data");
        let _ = cfg.global.state_dump_file.push_str("/var/run/ka/");
        let _ = cfg.global.json_dump_file.push_str("/var/ka.json");
        let p = DumpPaths::of(&cfg, "/scratch/");
        assert_eq!(p.path(Dump::Data), "/var/run/ka/keepalived.data");
        assert_eq!(p.path(Dump::Stats), "/scratch/keepalived.stats");
        assert_eq!(p.path(Dump::Json), "/var/ka.json");
        assert_eq!(p.path(Dump::CheckData), "/var/run/ka/keepalived_check.data");
        cfg.global.state_dump_file.clear();
        let _ = cfg.global.state_dump_file.push_str("/var/state.dump");
        let p = DumpPaths::of(&cfg, "/tmp");
        assert_eq!(p.path(Dump::CheckData), "/var/keepalived_check.data");
    }

    #[test]
    fn writes_whole_files_or_leaves_the_old_one() {
        let dir = std::env::temp_dir().join(format!("picket-dump-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.data");
        let path = path.to_str().unwrap();
        let n = write(path, |out| {
            for i in 0..2000 {
                writeln!(out, "line {i}")?;
            }
            Ok(())
        })
        .unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text.len(), n);
        assert!(text.ends_with("line 1999\n"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A render that fails leaves the previous file and no temp file.
        let e = write(path, |out| {
            out.write_str("partial")?;
            Err(fmt::Error)
        });
        assert_eq!(e, Err(DumpError("format", Errno::EINVAL)));
        assert_eq!(std::fs::read_to_string(path).unwrap(), text);
        assert!(!std::path::Path::new(&format!("{path}{TMP_SUFFIX}")).exists());
        // A missing directory is an error, not a panic.
        assert_eq!(
            write("/nonexistent-dir/x.data", |_| Ok(()))
                .err()
                .map(|e| e.0),
            Some("open")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file another user planted at the temporary name, in a sticky
    /// world-writable directory like `/tmp` (keepalived's CVE-2018-19046),
    /// is never written nor becomes the dump: the dump is a new file of
    /// root's with mode 0600. A name picket cannot remove makes it use
    /// another.
    #[test]
    fn a_planted_temporary_file_never_becomes_the_dump() {
        use std::io::Read as _;
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        if !nix::unistd::Uid::effective().is_root() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root"
            );
            println!("SKIPPED: needs root (a file owned by another user)");
            return;
        }
        let dir = std::env::temp_dir().join(format!("picket-dump-plant-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mode = |p: &std::path::Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        };
        mode(&dir, 0o1777);
        let path = dir.join("keepalived.data");
        let path = path.to_str().unwrap();
        let planted = format!("{path}{TMP_SUFFIX}");
        std::fs::write(&planted, "planted\n").unwrap();
        std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
        mode(planted.as_ref(), 0o666);
        let mut held = std::fs::File::open(&planted).unwrap();

        let n = write(path, |out| out.write_str("dump\n")).unwrap();
        assert_eq!(n, 5);
        let meta = std::fs::symlink_metadata(path).unwrap();
        assert!(meta.is_file());
        assert_eq!((meta.uid(), meta.gid()), (0, 0), "the dump is root's");
        assert_eq!(meta.mode() & 0o7777, 0o600);
        assert_eq!(std::fs::read_to_string(path).unwrap(), "dump\n");
        let mut was = String::new();
        held.read_to_string(&mut was).unwrap();
        assert_eq!(was, "planted\n", "the planted file was not written");
        assert_ne!(held.metadata().unwrap().ino(), meta.ino());

        // A symlink planted there: its target is not touched.
        let victim = dir.join("victim");
        std::fs::write(&victim, "victim\n").unwrap();
        let _ = std::fs::remove_file(&planted);
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write(path, |out| out.write_str("dump 2\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
        assert_eq!(std::fs::read_to_string(path).unwrap(), "dump 2\n");

        // A name that cannot be unlinked (a directory): another is tried,
        // and nothing is left behind.
        let _ = std::fs::remove_file(&planted);
        std::fs::create_dir(&planted).unwrap();
        write(path, |out| out.write_str("dump 3\n")).unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "dump 3\n");
        let mut left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["keepalived.data", "keepalived.data.picket-tmp", "victim"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
