//! The interface between reading configuration text and parsing it.
//!
//! Reading ([`super::source`], [`super::lexer`]) turns files into a stream of
//! [`Event`]s: a [`Statement`] is one line's words (after includes,
//! conditionals, `$NAME` substitution, comments and quoting are dealt with),
//! with `block` set when a `{` follows it; a `}` is an [`Event::Close`].
//! Parsing ([`super::parser`]) walks that stream block by block.
//!
//! File access goes through [`ConfigFs`], which the binary implements with
//! system calls and tests implement in memory.

use heapless::Vec;

use super::diag::{Diagnostics, Loc};
use crate::limits::{LINE_BYTES, WORDS_PER_LINE};

/// One word of a statement: where its text is in [`Statement`]'s buffer and
/// where it was in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Word {
    start: u16,
    len: u16,
    loc: Loc,
    quoted: bool,
}

/// Why a word could not be added to a [`Statement`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementFull {
    /// More than `words_per_line` words.
    Words,
    /// More than `line_bytes` bytes of text.
    Bytes,
}

/// One statement: a keyword and its arguments, the words of one line, with
/// quotes removed and escapes decoded.
#[derive(Clone, Debug)]
pub struct Statement {
    text: Vec<u8, LINE_BYTES>,
    words: Vec<Word, WORDS_PER_LINE>,
    /// A `{` follows the words (on the same line or alone on the next one).
    pub block: bool,
    /// Where the statement starts (its first word).
    pub loc: Loc,
}

impl Default for Statement {
    fn default() -> Self {
        Self::new()
    }
}

impl Statement {
    /// An empty statement.
    pub const fn new() -> Self {
        Statement {
            text: Vec::new(),
            words: Vec::new(),
            block: false,
            loc: Loc::new(super::diag::FileId(0), 0, 0),
        }
    }

    /// Empties the statement for reuse.
    pub fn clear(&mut self) {
        self.text.clear();
        self.words.clear();
        self.block = false;
        self.loc = Loc::default();
    }

    /// Appends a word found at `loc`; `quoted` records that it was written in
    /// quotes (so `"{"` is a word, not a brace). The first word sets
    /// [`Statement::loc`].
    pub fn push_word(&mut self, word: &str, loc: Loc, quoted: bool) -> Result<(), StatementFull> {
        if self.words.is_full() {
            return Err(StatementFull::Words);
        }
        let start = self.text.len();
        self.text
            .extend_from_slice(word.as_bytes())
            .map_err(|_| StatementFull::Bytes)?;
        let (Ok(start), Ok(len)) = (u16::try_from(start), u16::try_from(word.len())) else {
            self.text.truncate(start);
            return Err(StatementFull::Bytes);
        };
        if self.words.is_empty() {
            self.loc = loc;
        }
        self.words
            .push(Word {
                start,
                len,
                loc,
                quoted,
            })
            .map_err(|_| StatementFull::Words)
    }

    /// Number of words, keyword included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Word `i` (0 is the keyword).
    pub fn word(&self, i: usize) -> Option<&str> {
        let w = self.words.get(i)?;
        let bytes = self
            .text
            .get(usize::from(w.start)..usize::from(w.start) + usize::from(w.len))?;
        core::str::from_utf8(bytes).ok()
    }

    /// The keyword (word 0), or `""` for an empty statement.
    pub fn keyword(&self) -> &str {
        self.word(0).unwrap_or("")
    }

    /// Argument `i` (word `i + 1`).
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.word(i + 1)
    }

    /// Number of arguments (words after the keyword).
    pub fn arg_count(&self) -> usize {
        self.words.len().saturating_sub(1)
    }

    /// The arguments, in order.
    pub fn args(&self) -> impl Iterator<Item = &str> {
        (1..self.words.len()).filter_map(|i| self.word(i))
    }

    /// Where word `i` is; the statement's start if there is no such word.
    pub fn loc_of(&self, i: usize) -> Loc {
        self.words.get(i).map_or(self.loc, |w| w.loc)
    }

    /// Where argument `i` is (or, if missing, just after the last word, so an
    /// error about a missing value points at the end of the line).
    pub fn arg_loc(&self, i: usize) -> Loc {
        match self.words.get(i + 1) {
            Some(w) => w.loc,
            None => match self.words.last() {
                Some(w) => Loc {
                    col: w.loc.col + u32::from(w.len) + 1,
                    ..w.loc
                },
                None => self.loc,
            },
        }
    }

    /// Whether word `i` was written in quotes.
    pub fn is_quoted(&self, i: usize) -> bool {
        self.words.get(i).is_some_and(|w| w.quoted)
    }
}

/// What the reader hands the parser next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A statement was written into the caller's [`Statement`].
    Statement,
    /// A `}` at this place.
    Close(Loc),
    /// No more text (every file read).
    End,
}

/// A source of statements: the lexer over real files, or a test's text.
pub trait StatementSource {
    /// Reads the next event. On [`Event::Statement`] the statement is in `st`
    /// (cleared first). Problems in the text (bad quoting, a line too long, an
    /// include that fails, ...) are reported to `diags` and reading goes on.
    fn next_event(&mut self, st: &mut Statement, diags: &mut Diagnostics) -> Event;
}

/// Why a file operation failed (errno-like, kept small and `Copy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsError {
    /// No such file or directory.
    NotFound,
    /// Permission denied.
    PermissionDenied,
    /// It is a directory (when a file was expected) or not one (when listing).
    WrongKind,
    /// Not a regular file where one was expected (a FIFO, socket or
    /// device: reading it could block or never end).
    NotRegular,
    /// The file is larger than the room left in the buffer given.
    TooLarge,
    /// The path is too long for a fixed buffer.
    PathTooLong,
    /// Any other error, with its errno.
    Other(i32),
}

impl core::fmt::Display for FsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FsError::NotFound => f.write_str("no such file or directory"),
            FsError::PermissionDenied => f.write_str("permission denied"),
            FsError::WrongKind => f.write_str("wrong kind of file (directory?)"),
            FsError::NotRegular => {
                f.write_str("not a regular file (a FIFO, socket or device is not read)")
            }
            FsError::TooLarge => f.write_str("too large"),
            FsError::PathTooLong => f.write_str("path too long"),
            FsError::Other(e) => write!(f, "error {e}"),
        }
    }
}

/// File access for the configuration reader. Paths are absolute or relative to
/// the process's working directory; the reader resolves `include` paths
/// relative to the including file itself.
pub trait ConfigFs {
    /// Reads the whole file at `path` into `buf`, returning its length.
    /// [`FsError::TooLarge`] if it does not fit.
    fn read_file(&mut self, path: &str, buf: &mut [u8]) -> Result<usize, FsError>;

    /// Calls `entry` with the name of each entry of directory `dir` (not `.`
    /// or `..`), in any order, and whether that entry is a directory.
    fn list_dir(&mut self, dir: &str, entry: &mut dyn FnMut(&str, bool)) -> Result<(), FsError>;
}

/// Options of one configuration load.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions<'a> {
    /// The config-id that `@ID` lines are matched against (`-i`; keepalived's
    /// default is the host name without its domain).
    pub config_id: &'a str,
    /// `-e/--all-config`: a missing include is an error.
    pub all_config: bool,
}
