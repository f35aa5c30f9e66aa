//! keepalived's dump files, written where keepalived writes them:
//! `$TMPDIR/keepalived.data` (SIGUSR1), `$TMPDIR/keepalived.stats`
//! (SIGUSR2, and STATS_CLEAR), `$TMPDIR/keepalived.json` (the JSON signal);
//! `TMPDIR` defaults to `/tmp`, and `state_dump_file`, `stats_dump_file`,
//! `json_dump_file` (absolute; a trailing `/` names a directory that gets
//! the default file name) override them.
//!
//! Each dump goes to `PATH.picket-tmp` (mode 0600, as keepalived's, never
//! through a symlink) through a fixed buffer, and is renamed over `PATH`
//! once whole: a reader never sees half a file, and a full disk leaves the
//! previous dump in place. Any failure is returned for the caller to log
//! and count; nothing here panics or allocates.

use std::fmt;

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag, open, renameat};
use nix::sys::stat::Mode;
use nix::unistd::unlink;
use picket::config::Config;
use picket::limits::PATH_BYTES;

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
    fd: std::os::fd::OwnedFd,
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

/// Writes a dump to `path` with `render`, through `PATH.picket-tmp`
/// renamed over `path` at the end; the bytes written.
pub fn write(
    path: &str,
    render: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result,
) -> Result<usize, DumpError> {
    let mut tmp = Path::new();
    if tmp.push_str(path).is_err() || tmp.push_str(TMP_SUFFIX).is_err() {
        return Err(DumpError("path", Errno::ENAMETOOLONG));
    }
    let fd = open(
        tmp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| DumpError("open", e))?;
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
}
