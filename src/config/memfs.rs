//! An in-memory [`ConfigFs`]: a fixed list of `(path, content)` pairs, with
//! directories derived from the paths. For tests (the lexer's, the parsers')
//! and fuzzing; no allocation, no I/O.
//!
//! Paths are compared component by component: empty and `.` components are
//! ignored (`/etc//k/./a.conf` is `/etc/k/a.conf`), `..` is resolved lexically, and
//! a path is absolute when it starts with `/`. A directory exists when some
//! file lies under it; empty directories cannot be expressed.

use super::statement::{ConfigFs, FsError};

/// The files of a [`MemFs`]: text or raw bytes.
#[derive(Clone, Copy, Debug)]
enum Files<'a> {
    Text(&'a [(&'a str, &'a str)]),
    Bytes(&'a [(&'a str, &'a [u8])]),
}

/// An in-memory file system over a slice of `(path, content)` pairs.
#[derive(Clone, Copy, Debug)]
pub struct MemFs<'a> {
    files: Files<'a>,
    unreadable: &'a [&'a str],
}

/// Most components a path may have here (deeper paths match nothing).
const DEPTH: usize = 64;

/// The components of a path, with empty and `.` ones dropped and `..`
/// resolved lexically; `None` if there are more than [`DEPTH`].
fn components(path: &str) -> Option<heapless::Vec<&str, DEPTH>> {
    let mut v = heapless::Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                v.pop();
            }
            c => v.push(c).ok()?,
        }
    }
    Some(v)
}

/// Whether two paths name the same file.
fn same_path(a: &str, b: &str) -> bool {
    a.starts_with('/') == b.starts_with('/')
        && matches!((components(a), components(b)), (Some(x), Some(y)) if x == y)
}

/// If `path` lies under directory `dir`, the entry of `dir` it lies in and
/// whether that entry is a directory.
fn entry_under<'p>(dir: &str, path: &'p str) -> Option<(&'p str, bool)> {
    if dir.starts_with('/') != path.starts_with('/') {
        return None;
    }
    let (d, p) = (components(dir)?, components(path)?);
    if p.len() <= d.len() || p.get(..d.len())? != d.as_slice() {
        return None;
    }
    Some((p.get(d.len()).copied()?, p.len() > d.len() + 1))
}

impl<'a> MemFs<'a> {
    /// A file system holding `files`, `(path, text)` pairs.
    pub const fn new(files: &'a [(&'a str, &'a str)]) -> Self {
        MemFs {
            files: Files::Text(files),
            unreadable: &[],
        }
    }

    /// A file system holding `(path, bytes)` pairs (for text that is not
    /// UTF-8).
    pub const fn from_bytes(files: &'a [(&'a str, &'a [u8])]) -> Self {
        MemFs {
            files: Files::Bytes(files),
            unreadable: &[],
        }
    }

    /// The same files, but reading any of `paths` fails with
    /// [`FsError::PermissionDenied`] (they still show in listings).
    pub const fn with_unreadable(self, paths: &'a [&'a str]) -> Self {
        MemFs {
            files: self.files,
            unreadable: paths,
        }
    }

    /// Number of files.
    fn len(&self) -> usize {
        match self.files {
            Files::Text(f) => f.len(),
            Files::Bytes(f) => f.len(),
        }
    }

    /// File `i`: path and content.
    fn file(&self, i: usize) -> Option<(&'a str, &'a [u8])> {
        match self.files {
            Files::Text(f) => f.get(i).map(|(p, c)| (*p, c.as_bytes())),
            Files::Bytes(f) => f.get(i).copied(),
        }
    }

    /// Every file, in the order given.
    fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + '_ {
        (0..self.len()).filter_map(|i| self.file(i))
    }
}

impl ConfigFs for MemFs<'_> {
    fn read_file(&mut self, path: &str, buf: &mut [u8]) -> Result<usize, FsError> {
        let Some((_, content)) = self.iter().find(|(p, _)| same_path(p, path)) else {
            return Err(
                if self.iter().any(|(p, _)| entry_under(path, p).is_some()) {
                    FsError::WrongKind
                } else {
                    FsError::NotFound
                },
            );
        };
        if self.unreadable.iter().any(|p| same_path(p, path)) {
            return Err(FsError::PermissionDenied);
        }
        let dst = buf.get_mut(..content.len()).ok_or(FsError::TooLarge)?;
        dst.copy_from_slice(content);
        Ok(content.len())
    }

    fn list_dir(&mut self, dir: &str, entry: &mut dyn FnMut(&str, bool)) -> Result<(), FsError> {
        if self.iter().any(|(p, _)| same_path(p, dir)) {
            return Err(FsError::WrongKind);
        }
        let mut any = false;
        for (i, (path, _)) in self.iter().enumerate() {
            let Some((name, is_dir)) = entry_under(dir, path) else {
                continue;
            };
            any = true;
            // Report each entry once: only from the first file under it.
            let seen = self
                .iter()
                .take(i)
                .any(|(p, _)| entry_under(dir, p).is_some_and(|(n, _)| n == name));
            if !seen {
                entry(name, is_dir);
            }
        }
        if any { Ok(()) } else { Err(FsError::NotFound) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn list(fs: &mut MemFs<'_>, dir: &str) -> Result<Vec<(String, bool)>, FsError> {
        let mut v = Vec::new();
        fs.list_dir(dir, &mut |n, d| v.push((n.to_string(), d)))?;
        v.sort();
        Ok(v)
    }

    #[test]
    fn reads_and_lists() {
        let files = [
            ("/etc/k/a.conf", "A"),
            ("/etc/k/sub/b.conf", "BB"),
            ("/etc/k/sub/c.conf", "C"),
            ("rel/x", "X"),
        ];
        let mut fs = MemFs::new(&files);
        let mut buf = [0u8; 8];
        assert_eq!(fs.read_file("/etc//k/./sub/b.conf", &mut buf), Ok(2));
        assert_eq!(&buf[..2], b"BB");
        assert_eq!(
            fs.read_file("/etc/k/none", &mut buf),
            Err(FsError::NotFound)
        );
        assert_eq!(
            fs.read_file("/etc/k/sub", &mut buf),
            Err(FsError::WrongKind)
        );
        assert_eq!(fs.read_file("x", &mut buf), Err(FsError::NotFound));
        assert_eq!(fs.read_file("./rel/x", &mut buf), Ok(1));
        assert_eq!(fs.read_file("/etc/k/sub/../a.conf", &mut buf), Ok(1));
        assert_eq!(
            fs.read_file("/etc/k/a.conf", &mut [0u8; 0]),
            Err(FsError::TooLarge)
        );
        assert_eq!(
            list(&mut fs, "/etc/k/").unwrap(),
            [("a.conf".to_string(), false), ("sub".to_string(), true)]
        );
        assert_eq!(list(&mut fs, "/etc/k/sub").unwrap().len(), 2);
        assert_eq!(list(&mut fs, "/").unwrap(), [("etc".to_string(), true)]);
        assert_eq!(list(&mut fs, ".").unwrap(), [("rel".to_string(), true)]);
        assert_eq!(list(&mut fs, "/nope"), Err(FsError::NotFound));
        assert_eq!(list(&mut fs, "/etc/k/a.conf"), Err(FsError::WrongKind));
    }

    #[test]
    fn unreadable_and_bytes() {
        let files: [(&str, &[u8]); 1] = [("/a", b"\xff\xfe")];
        let mut fs = MemFs::from_bytes(&files).with_unreadable(&["/a"]);
        let mut buf = [0u8; 8];
        assert_eq!(fs.read_file("/a", &mut buf), Err(FsError::PermissionDenied));
        let mut fs = MemFs::from_bytes(&files);
        assert_eq!(fs.read_file("/a", &mut buf), Ok(2));
    }
}
