//! A fixed arena for the long strings of a configuration (script command
//! lines, paths, URLs), so each table row holds a small [`Text`] handle
//! instead of a buffer sized for the longest possible value.
//!
//! Its size is the board's `config_bytes`: no value can be longer than the
//! text it came from, so the pool cannot overflow on a configuration that fit
//! in the reader (substitution of `$NAME` can grow a line, which is why a full
//! pool is still reported, as an error naming the limit).

use heapless::Vec;

use crate::limits::CONFIG_BYTES;

/// A handle to a string in a [`StringPool`]. The default is the empty string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Text {
    start: u32,
    len: u32,
}

impl Text {
    /// The empty string.
    pub const EMPTY: Text = Text { start: 0, len: 0 };

    /// Length in bytes.
    pub const fn len(self) -> usize {
        self.len as usize
    }

    /// Whether it is the empty string.
    pub const fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// The pool is full (`config_bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolFull;

/// Append-only string storage; cleared as a whole when a configuration is
/// loaded anew.
#[derive(Clone, Debug)]
pub struct StringPool {
    bytes: Vec<u8, CONFIG_BYTES>,
}

impl Default for StringPool {
    fn default() -> Self {
        Self::new()
    }
}

impl StringPool {
    /// An empty pool.
    pub const fn new() -> Self {
        StringPool { bytes: Vec::new() }
    }

    /// Forgets every string (handles from before become dangling; `get` on
    /// them returns `""`).
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Stores `s`; the empty string takes no room.
    pub fn add(&mut self, s: &str) -> Result<Text, PoolFull> {
        if s.is_empty() {
            return Ok(Text::EMPTY);
        }
        let start = u32::try_from(self.bytes.len()).map_err(|_| PoolFull)?;
        let len = u32::try_from(s.len()).map_err(|_| PoolFull)?;
        self.bytes
            .extend_from_slice(s.as_bytes())
            .map_err(|_| PoolFull)?;
        Ok(Text { start, len })
    }

    /// The string behind a handle (`""` for a dangling one).
    pub fn get(&self, t: Text) -> &str {
        let start = t.start as usize;
        self.bytes
            .get(start..start + t.len as usize)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// Bytes used.
    pub fn used(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_returns_strings() {
        let mut p = StringPool::new();
        let a = p.add("/usr/bin/true arg").unwrap();
        let e = p.add("").unwrap();
        let b = p.add("x").unwrap();
        assert_eq!(p.get(a), "/usr/bin/true arg");
        assert_eq!(p.get(e), "");
        assert_eq!(p.get(b), "x");
        assert_eq!(p.used(), 18);
        p.clear();
        assert_eq!(p.get(a), "");
    }
}
