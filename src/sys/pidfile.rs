//! The pid file: written at start, removed at a clean exit.

use std::fmt::Write as _;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{getpid, unlink, write};
use picket::limits::PATH_BYTES;

/// A written pid file; [`PidFile::remove`] deletes it.
pub struct PidFile {
    path: heapless::String<PATH_BYTES>,
}

impl PidFile {
    /// Writes this process's pid and a newline to `path` (mode 0644).
    pub fn create(path: &str) -> nix::Result<Self> {
        let mut p = heapless::String::new();
        p.push_str(path)
            .map_err(|_| nix::errno::Errno::ENAMETOOLONG)?;
        let fd = open(
            path,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )?;
        let mut text: heapless::String<16> = heapless::String::new();
        let _ = writeln!(text, "{}", getpid());
        let mut b = text.as_bytes();
        while !b.is_empty() {
            let n = write(&fd, b)?;
            b = &b[n..];
        }
        Ok(PidFile { path: p })
    }

    /// The path written.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Deletes the file.
    pub fn remove(self) -> nix::Result<()> {
        unlink(self.path.as_str())
    }
}
