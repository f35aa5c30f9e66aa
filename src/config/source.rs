//! Reading configuration files into *logical lines*, as keepalived's
//! `read_line()` (`lib/parser.c`) does.
//!
//! All file text goes into one byte arena of `config_bytes` (files are read
//! whole, when opened, and never freed during a load). A stack of cursors over
//! the arena walks the main file and the files it includes. For each raw line,
//! in keepalived's order:
//!
//! 1. a line longer than `line_bytes` (keepalived's `MAXBUF`) or not UTF-8 is
//!    an error and skipped;
//! 2. comments (`#` or `!` outside quotes, not escaped) are cut, and the line
//!    is trimmed; a line of a multi-line `$NAME=` definition is added to it;
//! 3. `include PATTERN` (and `includer|m|w|b|a`) opens the files that match;
//! 4. `@ID rest` / `@^ID rest` keep `rest` if the config-id matches (or not);
//! 5. `~SEQ(...)`, `~SEQx(...)`, `~LST(...)` are refused (not supported);
//! 6. `$NAME=VALUE` defines a parameter (a value ending in `\` continues on the
//!    next lines);
//! 7. `$NAME` and `${NAME}` are replaced, recursively (at most
//!    [`EXPAND_PASSES`] rounds); the result may start with `@ID` (checked
//!    again) and, with a multi-line parameter, be several logical lines.
//!
//! Comments are cut *before* substitution, so `${_HASH}` and `${_BANG}` give a
//! literal `#` and `!`. What is left (quotes, escapes, braces, words) is the
//! lexer's business ([`super::lexer`]).
//!
//! Decisions where keepalived is loose or picket differs:
//! - the main file is include level 1; a file at level `include_depth` cannot
//!   include (so a file that includes itself stops there, with one error);
//! - matches of one pattern are sorted bytewise directory level by directory
//!   level (glob(3) sorts whole paths; this only differs when a name is a
//!   prefix of a sibling directory's); brace alternatives keep their order;
//! - a wildcard in the last component never matches a directory; hidden
//!   entries match only a component that starts with `.`;
//! - plain `include` is silent unless `all_config` (`-e`), which makes a
//!   missing or unreadable file an error; a path longer than `path_bytes` is
//!   always an error; running out of `config_bytes` is fatal;
//! - `${_ENV ...}` and `${_RANDOM ...}` are errors (the core has neither an
//!   environment nor randomness at load time) and expand to nothing;
//! - columns are exact on lines without substitution; on substituted lines
//!   they are offsets into the expanded text (approximate).

use core::fmt;

use heapless::{String, Vec};

use super::diag::{Diagnostics, FileId, Loc, Severity};
use super::statement::{ConfigFs, FsError, LoadOptions};
use crate::limits::{
    BOARD, CONFIG_BYTES, CONFIG_FILES, DEFINITION_BYTES, DEFINITIONS, INCLUDE_DEPTH, LINE_BYTES,
    NAME_BYTES, PATH_BYTES,
};

/// Rounds of `$NAME` substitution on one line before it is taken for a
/// definition that uses itself.
pub const EXPAND_PASSES: usize = 8;
/// Bytes of a line while parameters are substituted (a line plus one
/// multi-line value); each resulting logical line must still fit `line_bytes`.
const EXPAND_BYTES: usize = LINE_BYTES + DEFINITION_BYTES;
/// Bytes of the config-id kept for `@ID` lines and `${_INSTANCE}`.
const ID_BYTES: usize = 64;
/// Wildcard path components, and nested `{a,b}` groups, of one include pattern.
const GLOB_LEVELS: usize = 8;

/// Reports a full table: "`what` limit `name` = value on board `b`", with a hint.
pub(crate) fn over_limit(
    diags: &mut Diagnostics,
    severity: Severity,
    loc: Option<Loc>,
    what: fmt::Arguments<'_>,
    name: &str,
    value: usize,
) {
    diags.push(
        severity,
        loc,
        format_args!("{what} limit `{name}` = {value} on board `{BOARD}`"),
        format_args!("raise `{name}` in board/{BOARD}/board.conf"),
    );
}

/// Whether `c` separates words (ASCII whitespace, as `isspace`).
pub(crate) const fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Whether `c` may be in a parameter name (after the first byte).
const fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// One file being read: its text in the arena and how far it has been read.
#[derive(Clone, Debug)]
struct Frame {
    /// Arena offset of the next unread byte.
    pos: usize,
    /// Arena offset just past the file's text.
    end: usize,
    /// Lines read so far (the number of the last line returned).
    line: u32,
    /// The file's entry in [`Diagnostics::files`].
    file: FileId,
    /// Include level: 1 for the main file.
    depth: usize,
    /// The path it was opened with (for relative includes and `${_PWD}`).
    path: String<PATH_BYTES>,
}

impl Frame {
    /// The directory part of the path, with its trailing `/` (empty when the
    /// path has none).
    fn dir_prefix(&self) -> &str {
        match self.path.rfind('/') {
            Some(i) => self.path.get(..=i).unwrap_or(""),
            None => "",
        }
    }
}

/// A `$NAME=VALUE` parameter; the value is in the arena.
#[derive(Clone, Debug)]
struct Def {
    name: String<NAME_BYTES>,
    start: usize,
    len: usize,
}

/// A multi-line definition being read.
#[derive(Clone, Copy, Debug)]
struct Defining {
    /// Its slot in the table, or `None` when its lines are being skipped
    /// (after an error).
    slot: Option<usize>,
    /// Where it was started (for errors).
    loc: Loc,
}

/// Where a logical line came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: FileId,
    /// Its line number (the line that used a parameter, for expanded lines).
    pub line: u32,
    /// Column of the line's first byte (from 1).
    pub col: u32,
}

impl Origin {
    /// The location of byte `offset` of the line.
    pub fn at(&self, offset: usize) -> Loc {
        let off = u32::try_from(offset).unwrap_or(u32::MAX);
        Loc::new(self.file, self.line, self.col.saturating_add(off))
    }
}

/// What an include line asks to be checked (keepalived's `include_check`).
#[derive(Clone, Copy, Debug, Default)]
struct IncludeChecks {
    /// A match that cannot be read is an error.
    readable: bool,
    /// A pattern matching nothing is an error.
    matched: bool,
    /// A brace alternative with a wildcard matching nothing is an error.
    wildcard: bool,
    /// A brace alternative matching nothing is an error.
    brace: bool,
}

impl IncludeChecks {
    /// The checks of an include keyword, `None` if `word` is not one.
    fn of(word: &[u8], all_config: bool) -> Option<Self> {
        let all = IncludeChecks {
            readable: true,
            matched: true,
            wildcard: true,
            brace: true,
        };
        let none = IncludeChecks::default();
        let c = match word {
            b"include" if all_config => IncludeChecks {
                readable: true,
                matched: true,
                ..none
            },
            b"include" => none,
            b"includer" => IncludeChecks {
                readable: true,
                ..none
            },
            b"includem" => IncludeChecks {
                matched: true,
                ..none
            },
            b"includew" => IncludeChecks {
                wildcard: true,
                ..none
            },
            b"includeb" => IncludeChecks {
                brace: true,
                ..none
            },
            b"includea" => all,
            _ => return None,
        };
        Some(c)
    }
}

/// Scratch space of the configuration reader: the arena holding every file's
/// text, the stack of files being read, the `$NAME` parameters and the line
/// buffers. Large (`config_bytes` and more); meant to live in static memory
/// (see [`super::LoadScratch`]).
pub struct SourceScratch {
    arena: [u8; CONFIG_BYTES],
    used: usize,
    stack: Vec<Frame, CONFIG_FILES>,
    defs: Vec<Def, DEFINITIONS>,
    defining: Option<Defining>,
    line: Vec<u8, LINE_BYTES>,
    origin: Origin,
    expand: Vec<u8, EXPAND_BYTES>,
    expand_tmp: Vec<u8, EXPAND_BYTES>,
    /// Offset in `expand` of the next logical line of an expansion, if any.
    pending: Option<usize>,
    pending_origin: Origin,
    /// Whether substitution changed the pending text (then `@ID` is checked again).
    pending_changed: bool,
    config_id: String<ID_BYTES>,
    all_config: bool,
}

impl Default for SourceScratch {
    fn default() -> Self {
        Self::new()
    }
}

impl SourceScratch {
    /// Empty scratch space.
    pub const fn new() -> Self {
        SourceScratch {
            arena: [0; CONFIG_BYTES],
            used: 0,
            stack: Vec::new(),
            defs: Vec::new(),
            defining: None,
            line: Vec::new(),
            origin: Origin {
                file: FileId(0),
                line: 0,
                col: 1,
            },
            expand: Vec::new(),
            expand_tmp: Vec::new(),
            pending: None,
            pending_origin: Origin {
                file: FileId(0),
                line: 0,
                col: 1,
            },
            pending_changed: false,
            config_id: String::new(),
            all_config: false,
        }
    }

    /// Starts a load: forgets everything, then reads the main file at `path`
    /// (a fatal diagnostic if it cannot be read or is too large).
    pub fn start(
        &mut self,
        fs: &mut dyn ConfigFs,
        path: &str,
        opts: &LoadOptions<'_>,
        diags: &mut Diagnostics,
    ) {
        self.used = 0;
        self.stack.clear();
        self.defs.clear();
        self.defining = None;
        self.line.clear();
        self.expand.clear();
        self.expand_tmp.clear();
        self.pending = None;
        self.all_config = opts.all_config;
        self.config_id.clear();
        if self.config_id.push_str(opts.config_id).is_err() {
            diags.push(
                Severity::Error,
                None,
                format_args!(
                    "config-id '{}' is longer than {ID_BYTES} bytes",
                    opts.config_id
                ),
                format_args!("use a shorter `-i` value"),
            );
        }
        let mut p = String::<PATH_BYTES>::new();
        if p.push_str(path).is_err() {
            diags.fatal(
                None,
                format_args!("cannot read {path}: {}", FsError::PathTooLong),
            );
            return;
        }
        match self.read_into_arena(fs, &p) {
            Ok(end) => {
                let Some(file) = diags.files.push(&p) else {
                    diags.fatal(None, format_args!("cannot record file {path}"));
                    return;
                };
                let frame = Frame {
                    pos: self.used,
                    end,
                    line: 0,
                    file,
                    depth: 1,
                    path: p,
                };
                self.used = end;
                let _ = self.stack.push(frame);
            }
            Err(FsError::TooLarge) => over_limit(
                diags,
                Severity::Fatal,
                None,
                format_args!("configuration larger than"),
                "config_bytes",
                CONFIG_BYTES,
            ),
            Err(e) => diags.fatal(None, format_args!("cannot read {path}: {e}")),
        }
    }

    /// Reads `path` after the arena's used part, returning the new end.
    fn read_into_arena(&mut self, fs: &mut dyn ConfigFs, path: &str) -> Result<usize, FsError> {
        let room = self.arena.get_mut(self.used..).ok_or(FsError::TooLarge)?;
        let n = fs.read_file(path, room)?;
        if n > room.len() {
            return Err(FsError::TooLarge);
        }
        Ok(self.used + n)
    }

    /// The current logical line (valid after [`Self::next_line`] returned
    /// `true`).
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    /// Where the current logical line came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Advances to the next non-empty logical line; `false` when every file
    /// has been read (and again on every later call).
    pub fn next_line(&mut self, fs: &mut dyn ConfigFs, diags: &mut Diagnostics) -> bool {
        loop {
            if self.pending.is_some() {
                if self.take_pending(diags) {
                    return true;
                }
                continue;
            }
            let Some((start, end, origin)) = self.next_raw() else {
                return false;
            };
            if self.process_raw(fs, diags, start, end, origin) {
                return true;
            }
        }
    }

    /// The next raw line of the file on top of the stack (popping finished
    /// files): its arena range without the line end, and its origin.
    fn next_raw(&mut self) -> Option<(usize, usize, Origin)> {
        loop {
            let top = self.stack.last_mut()?;
            if top.pos >= top.end {
                self.stack.pop();
                // A multi-line definition ends with its file.
                self.defining = None;
                continue;
            }
            let text = self.arena.get(top.pos..top.end)?;
            let len = text.iter().position(|&c| c == b'\n');
            let start = top.pos;
            let mut end = len.map_or(top.end, |l| start + l);
            top.pos = len.map_or(top.end, |l| start + l + 1);
            top.line = top.line.saturating_add(1);
            if end > start && self.arena.get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
            let origin = Origin {
                file: top.file,
                line: top.line,
                col: 1,
            };
            return Some((start, end, origin));
        }
    }

    /// Steps 1 to 7 on one raw line; `true` if it gave a logical line.
    fn process_raw(
        &mut self,
        fs: &mut dyn ConfigFs,
        diags: &mut Diagnostics,
        start: usize,
        end: usize,
        origin: Origin,
    ) -> bool {
        let raw = self.arena.get(start..end).unwrap_or(&[]);
        if raw.len() > LINE_BYTES {
            over_limit(
                diags,
                Severity::Error,
                Some(origin.at(LINE_BYTES)),
                format_args!("line of {} bytes is longer than", raw.len()),
                "line_bytes",
                LINE_BYTES,
            );
            return false;
        }
        if let Err(e) = core::str::from_utf8(raw) {
            diags.error_hint(
                origin.at(e.valid_up_to()),
                format_args!("line is not UTF-8 text; line ignored"),
                format_args!("configuration files must be UTF-8 (ASCII is)"),
            );
            return false;
        }
        self.line.clear();
        let _ = self.line.extend_from_slice(raw);
        let continued = decomment(&mut self.line);
        let lead = self.line.iter().take_while(|&&c| is_space(c)).count();
        drop_front(&mut self.line, lead);
        let origin = Origin {
            col: origin.col.saturating_add(u32::try_from(lead).unwrap_or(0)),
            ..origin
        };
        if let Some(d) = self.defining {
            self.continue_definition(d, continued, origin, diags);
            return false;
        }
        if self.line.is_empty() {
            return false;
        }
        if self.try_include(fs, diags, origin) {
            return false;
        }
        let Some(origin) = self.conditional(origin) else {
            return false;
        };
        if refuse_seq(&self.line, origin, diags) {
            return false;
        }
        if self.try_define(continued, origin, diags) {
            return false;
        }
        if !self.line.contains(&b'$') {
            self.origin = origin;
            return true;
        }
        self.substitute(origin, diags);
        false
    }

    /// Applies `@ID` / `@^ID` to the current line: `None` if the line is
    /// dropped, else the origin of what is kept (the line is cut to it).
    fn conditional(&mut self, origin: Origin) -> Option<Origin> {
        if self.line.first() != Some(&b'@') {
            return Some(origin);
        }
        let negate = self.line.get(1) == Some(&b'^');
        let id_start = if negate { 2 } else { 1 };
        let id_end = id_start
            + self
                .line
                .get(id_start..)
                .unwrap_or(&[])
                .iter()
                .take_while(|&&c| !is_space(c))
                .count();
        let id = self.line.get(id_start..id_end).unwrap_or(&[]);
        if (id == self.config_id.as_bytes()) == negate {
            return None;
        }
        let rest = id_end
            + self
                .line
                .get(id_end..)
                .unwrap_or(&[])
                .iter()
                .take_while(|&&c| is_space(c))
                .count();
        drop_front(&mut self.line, rest);
        if self.line.is_empty() {
            return None;
        }
        Some(Origin {
            col: origin.col.saturating_add(u32::try_from(rest).unwrap_or(0)),
            ..origin
        })
    }

    /// Adds the current line to the multi-line definition being read.
    fn continue_definition(
        &mut self,
        d: Defining,
        continued: bool,
        origin: Origin,
        diags: &mut Diagnostics,
    ) {
        if continued {
            self.line.pop();
            trim_end(&mut self.line);
        } else {
            self.defining = None;
        }
        let Some(slot) = d.slot else {
            return;
        };
        if self.line.is_empty() {
            return;
        }
        let Some(def) = self.defs.get(slot) else {
            return;
        };
        let sep = usize::from(def.len > 0);
        let new_len = def.len + sep + self.line.len();
        if new_len > DEFINITION_BYTES {
            over_limit(
                diags,
                Severity::Error,
                Some(d.loc),
                format_args!("value of ${} is longer than", def.name),
                "definition_bytes",
                DEFINITION_BYTES,
            );
            self.defs.swap_remove(slot);
            if continued {
                self.defining = Some(Defining { slot: None, ..d });
            }
            return;
        }
        let at = self.used;
        let Some(room) = self.arena.get_mut(at..at + sep + self.line.len()) else {
            over_limit(
                diags,
                Severity::Fatal,
                Some(origin.at(0)),
                format_args!("configuration and parameters larger than"),
                "config_bytes",
                CONFIG_BYTES,
            );
            self.defs.swap_remove(slot);
            self.defining = None;
            return;
        };
        if let Some((first, rest)) = room.split_first_mut() {
            if sep == 1 {
                *first = b'\n';
                rest.copy_from_slice(&self.line);
            } else {
                room.copy_from_slice(&self.line);
            }
        }
        self.used += sep + self.line.len();
        if let Some(def) = self.defs.get_mut(slot) {
            def.len = new_len;
        }
    }

    /// `$NAME=VALUE`: defines a parameter; `true` if the line was one.
    fn try_define(&mut self, continued: bool, origin: Origin, diags: &mut Diagnostics) -> bool {
        let line = &self.line;
        if line.first() != Some(&b'$') {
            return false;
        }
        let name_len = line
            .get(1..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&c| is_name_byte(c))
            .count();
        let name = line.get(1..1 + name_len).unwrap_or(&[]);
        if name.is_empty()
            || name.first().is_some_and(u8::is_ascii_digit)
            || line.get(1 + name_len) != Some(&b'=')
        {
            return false;
        }
        let loc = origin.at(0);
        let name = core::str::from_utf8(name).unwrap_or("");
        let mut value_start = 2 + name_len;
        value_start += line
            .get(value_start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&c| is_space(c))
            .count();
        let mut value_end = line.len();
        if continued {
            value_end = value_end.saturating_sub(1).max(value_start);
            while value_end > value_start && line.get(value_end - 1).is_some_and(|&c| is_space(c)) {
                value_end -= 1;
            }
        }
        let skip = Defining { slot: None, loc };
        if name.starts_with('_') {
            diags.error_hint(
                loc,
                format_args!("parameter names starting with '_' are reserved: ${name}"),
                format_args!("rename it without the leading '_'"),
            );
            self.defining = continued.then_some(skip);
            return true;
        }
        let mut key = String::<NAME_BYTES>::new();
        if key.push_str(name).is_err() {
            over_limit(
                diags,
                Severity::Error,
                Some(loc),
                format_args!("parameter name longer than"),
                "name_bytes",
                NAME_BYTES,
            );
            self.defining = continued.then_some(skip);
            return true;
        }
        let value_len = value_end.saturating_sub(value_start);
        if value_len > DEFINITION_BYTES {
            over_limit(
                diags,
                Severity::Error,
                Some(loc),
                format_args!("value of ${name} is longer than"),
                "definition_bytes",
                DEFINITION_BYTES,
            );
            self.defining = continued.then_some(skip);
            return true;
        }
        // Copy the value to the arena's end.
        let at = self.used;
        let (Some(room), Some(value)) = (
            self.arena.get_mut(at..at + value_len),
            self.line.get(value_start..value_end),
        ) else {
            over_limit(
                diags,
                Severity::Fatal,
                Some(loc),
                format_args!("configuration and parameters larger than"),
                "config_bytes",
                CONFIG_BYTES,
            );
            self.defining = continued.then_some(skip);
            return true;
        };
        room.copy_from_slice(value);
        self.used += value_len;
        let def = Def {
            name: key,
            start: at,
            len: value_len,
        };
        let slot = match self
            .defs
            .iter()
            .position(|d| d.name.as_bytes() == def.name.as_bytes())
        {
            Some(i) => {
                if let Some(d) = self.defs.get_mut(i) {
                    *d = def;
                }
                Some(i)
            }
            None => match self.defs.push(def) {
                Ok(()) => Some(self.defs.len() - 1),
                Err(def) => {
                    over_limit(
                        diags,
                        Severity::Error,
                        Some(loc),
                        format_args!("too many parameters (${} is one more than the)", def.name),
                        "definitions",
                        DEFINITIONS,
                    );
                    None
                }
            },
        };
        self.defining = continued.then_some(Defining { slot, loc });
        true
    }

    /// Substitutes parameters in the current line into `expand`; the logical
    /// lines of the result are then taken by [`Self::take_pending`].
    fn substitute(&mut self, origin: Origin, diags: &mut Diagnostics) {
        self.expand.clear();
        let _ = self.expand.extend_from_slice(&self.line);
        let mut passes = 0;
        self.pending_changed = false;
        loop {
            match self.substitute_pass(origin, diags) {
                Ok(false) => break,
                Ok(true) => self.pending_changed = true,
                Err(()) => {
                    over_limit(
                        diags,
                        Severity::Error,
                        Some(origin.at(0)),
                        format_args!("line after parameter substitution is longer than"),
                        "line_bytes",
                        LINE_BYTES,
                    );
                    return;
                }
            }
            passes += 1;
            if passes >= EXPAND_PASSES {
                diags.error_hint(
                    origin.at(0),
                    format_args!("parameters nested more than {EXPAND_PASSES} deep; line ignored"),
                    format_args!("does a parameter use itself (e.g. $A=x $A)?"),
                );
                return;
            }
        }
        self.pending = Some(0);
        self.pending_origin = origin;
    }

    /// One round of substitution, `expand` → `expand`; whether anything was
    /// replaced, `Err` if the result does not fit.
    fn substitute_pass(&mut self, origin: Origin, diags: &mut Diagnostics) -> Result<bool, ()> {
        let SourceScratch {
            arena,
            stack,
            defs,
            expand,
            expand_tmp,
            config_id,
            ..
        } = self;
        let src: &[u8] = expand;
        let out = expand_tmp;
        out.clear();
        let mut changed = false;
        let mut i = 0;
        let pwd = stack.last().map_or("", |f| f.dir_prefix());
        let pwd = match pwd {
            "" => ".",
            "/" => "/",
            d => d.strip_suffix('/').unwrap_or(d),
        };
        let lookup = |name: &[u8]| lookup(name, pwd, config_id, defs, arena);
        while let Some(&c) = src.get(i) {
            if c == b'$' {
                if src.get(i + 1) == Some(&b'{') {
                    let body = src.get(i + 2..).unwrap_or(&[]);
                    if let Some(close) = body.iter().position(|&c| c == b'}') {
                        let inner = body.get(..close).unwrap_or(&[]);
                        let next = i + 2 + close + 1;
                        let word = inner.split(|&c| is_space(c)).next().unwrap_or(&[]);
                        if word == b"_ENV" || word == b"_RANDOM" {
                            diags.error_hint(
                                origin.at(i),
                                format_args!(
                                    "${{{}}} is not supported by picket",
                                    core::str::from_utf8(word).unwrap_or("")
                                ),
                                format_args!(
                                    "picket reads no environment and no randomness while loading; write the value instead"
                                ),
                            );
                            changed = true;
                            i = next;
                            continue;
                        }
                        if let Some(v) = lookup(inner) {
                            out.extend_from_slice(v).map_err(|_| ())?;
                            changed = true;
                            i = next;
                            continue;
                        }
                    }
                } else {
                    let rest = src.get(i + 1..).unwrap_or(&[]);
                    let n = if rest.first().is_some_and(|c| !c.is_ascii_digit()) {
                        rest.iter().take_while(|&&c| is_name_byte(c)).count()
                    } else {
                        0
                    };
                    let after = rest.get(n);
                    let value = (n > 0 && after.is_none_or(|&c| is_space(c)))
                        .then(|| lookup(rest.get(..n).unwrap_or(&[])))
                        .flatten();
                    if let Some(v) = value {
                        out.extend_from_slice(v).map_err(|_| ())?;
                        changed = true;
                        i += 1 + n;
                        continue;
                    }
                }
            }
            out.push(c).map_err(|_| ())?;
            i += 1;
        }
        core::mem::swap(expand, out);
        Ok(changed)
    }

    /// Takes the next logical line of an expansion into `line`; `true` if
    /// there was a non-empty one to use.
    fn take_pending(&mut self, diags: &mut Diagnostics) -> bool {
        let Some(start) = self.pending else {
            return false;
        };
        let rest = self.expand.get(start..).unwrap_or(&[]);
        let len = rest.iter().position(|&c| c == b'\n');
        let seg = rest.get(..len.unwrap_or(rest.len())).unwrap_or(&[]);
        self.pending = len.map(|l| start + l + 1);
        let origin = self.pending_origin;
        // Lines after the first of a multi-line value: no column of their own.
        self.pending_origin.col = 1;
        if seg.len() > LINE_BYTES {
            over_limit(
                diags,
                Severity::Error,
                Some(origin.at(0)),
                format_args!("line after parameter substitution is longer than"),
                "line_bytes",
                LINE_BYTES,
            );
            return false;
        }
        self.line.clear();
        let _ = self.line.extend_from_slice(seg);
        let lead = self.line.iter().take_while(|&&c| is_space(c)).count();
        drop_front(&mut self.line, lead);
        trim_end(&mut self.line);
        if self.line.is_empty() {
            return false;
        }
        let origin = Origin {
            col: origin.col.saturating_add(u32::try_from(lead).unwrap_or(0)),
            ..origin
        };
        let origin = if self.pending_changed {
            match self.conditional(origin) {
                Some(o) => o,
                None => return false,
            }
        } else {
            origin
        };
        if refuse_seq(&self.line, origin, diags) {
            return false;
        }
        self.origin = origin;
        true
    }

    /// If the current line is an include, opens what it names; `true` if it
    /// was one.
    fn try_include(
        &mut self,
        fs: &mut dyn ConfigFs,
        diags: &mut Diagnostics,
        origin: Origin,
    ) -> bool {
        let kw_len = self.line.iter().take_while(|&&c| !is_space(c)).count();
        let Some(checks) =
            IncludeChecks::of(self.line.get(..kw_len).unwrap_or(&[]), self.all_config)
        else {
            return false;
        };
        let loc = origin.at(0);
        let rest = self.line.get(kw_len..).unwrap_or(&[]);
        let rest = core::str::from_utf8(rest).unwrap_or("").trim();
        let rest = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(rest);
        if rest.is_empty() {
            diags.error_hint(
                loc,
                format_args!("include needs a file name or pattern"),
                format_args!("write e.g. `include /etc/keepalived/conf.d/*.conf`"),
            );
            return true;
        }
        let Some(top) = self.stack.last() else {
            return true;
        };
        let depth = top.depth;
        let mut pattern = String::<PATH_BYTES>::new();
        let prefix = if rest.starts_with('/') {
            ""
        } else {
            top.dir_prefix()
        };
        if pattern.push_str(prefix).is_err() || pattern.push_str(rest).is_err() {
            over_limit(
                diags,
                Severity::Error,
                Some(loc),
                format_args!("include path longer than"),
                "path_bytes",
                PATH_BYTES,
            );
            return true;
        }
        if depth >= INCLUDE_DEPTH {
            let looping = self.include_chain().any(|p| p == pattern.as_str());
            let message = format_args!(
                "include of '{pattern}' nested deeper than limit `include_depth` = {INCLUDE_DEPTH} on board `{BOARD}`"
            );
            if looping {
                diags.error_hint(
                    loc,
                    message,
                    format_args!("'{pattern}' is already being read: a file includes itself"),
                );
            } else {
                diags.error_hint(
                    loc,
                    message,
                    format_args!(
                        "nest includes less deeply, or raise `include_depth` in board/{BOARD}/board.conf"
                    ),
                );
            }
            return true;
        }
        let first_new = self.stack.len();
        let mut inc = Include {
            src: self,
            diags,
            loc,
            checks,
            depth: depth + 1,
            stop: false,
            matched: 0,
        };
        inc.run(fs, pattern.as_str());
        let any = inc.matched > 0;
        if checks.matched && !any {
            diags.error_hint(
                loc,
                format_args!("no file matches include '{pattern}'"),
                format_args!("check the path (relative paths are relative to the including file)"),
            );
        }
        // The first match must be read first: it goes on top.
        if let Some(new) = self.stack.get_mut(first_new..) {
            new.reverse();
        }
        true
    }

    /// Paths of the files on the include chain of the current file, innermost first.
    fn include_chain(&self) -> impl Iterator<Item = &str> {
        let mut want = self.stack.last().map_or(0, |f| f.depth);
        self.stack.iter().rev().filter_map(move |f| {
            if f.depth == want {
                want -= 1;
                Some(f.path.as_str())
            } else {
                None
            }
        })
    }
}

/// The value of parameter `name`: predefined or defined.
fn lookup<'v>(
    name: &[u8],
    pwd: &'v str,
    config_id: &'v str,
    defs: &'v [Def],
    arena: &'v [u8],
) -> Option<&'v [u8]> {
    match name {
        b"_PWD" => Some(pwd.as_bytes()),
        b"_INSTANCE" => Some(config_id.as_bytes()),
        b"_HASH" => Some(b"#"),
        b"_BANG" => Some(b"!"),
        _ => defs
            .iter()
            .find(|d| d.name.as_bytes() == name)
            .and_then(|d| arena.get(d.start..d.start + d.len)),
    }
}

/// One include line being carried out.
struct Include<'s, 'd> {
    src: &'s mut SourceScratch,
    diags: &'d mut Diagnostics,
    loc: Loc,
    checks: IncludeChecks,
    depth: usize,
    /// A limit was hit: read no more.
    stop: bool,
    /// Files matched (readable or not).
    matched: usize,
}

impl Include<'_, '_> {
    /// Expands braces, then globs each alternative.
    fn run(&mut self, fs: &mut dyn ConfigFs, pattern: &str) {
        let has_braces = find_brace(pattern.as_bytes()).is_some();
        self.braces(fs, pattern, has_braces, 0);
    }

    /// Brace expansion (csh-style, nested), alternatives in order.
    fn braces(&mut self, fs: &mut dyn ConfigFs, pattern: &str, had_braces: bool, level: usize) {
        if self.stop {
            return;
        }
        let found = if level < GLOB_LEVELS {
            find_brace(pattern.as_bytes())
        } else {
            None
        };
        let Some((open, close)) = found else {
            let before = self.matched;
            let mut base = String::<PATH_BYTES>::new();
            walk(fs, &mut base, pattern, 0, &mut |fs, path| {
                self.open(fs, path)
            });
            if self.matched == before && !self.stop {
                let wild = has_wildcard(pattern);
                if (self.checks.wildcard && wild) || (self.checks.brace && had_braces) {
                    self.diags.error_hint(
                        self.loc,
                        format_args!(
                            "{} '{pattern}' matches no file",
                            if wild { "wildcard" } else { "brace term" }
                        ),
                        format_args!("check the path, or use plain `include` to allow no match"),
                    );
                }
            }
            return;
        };
        let (Some(pre), Some(inner), Some(post)) = (
            pattern.get(..open),
            pattern.get(open + 1..close),
            pattern.get(close + 1..),
        ) else {
            return;
        };
        for alt in split_alternatives(inner) {
            let mut p = String::<PATH_BYTES>::new();
            // Fits: no longer than `pattern`.
            let _ = p.push_str(pre);
            let _ = p.push_str(alt);
            let _ = p.push_str(post);
            self.braces(fs, &p, true, level + 1);
        }
    }

    /// Reads one matched file and puts it on the stack; `false` to stop.
    fn open(&mut self, fs: &mut dyn ConfigFs, path: &str) -> bool {
        if self.diags.files.len() >= CONFIG_FILES {
            over_limit(
                self.diags,
                Severity::Error,
                Some(self.loc),
                format_args!("include of '{path}' makes more files than"),
                "config_files",
                CONFIG_FILES,
            );
            self.stop = true;
            return false;
        }
        let src = &mut *self.src;
        match src.read_into_arena(fs, path) {
            Ok(end) => {
                self.matched += 1;
                let mut p = String::new();
                let _ = p.push_str(path);
                let Some(file) = self.diags.files.push(path) else {
                    return true;
                };
                let frame = Frame {
                    pos: src.used,
                    end,
                    line: 0,
                    file,
                    depth: self.depth,
                    path: p,
                };
                if src.stack.push(frame).is_ok() {
                    src.used = end;
                }
                true
            }
            // Not a match (as glob(3)): `includem`/`includew`/`includeb` report it.
            Err(FsError::NotFound) => true,
            Err(FsError::TooLarge) => {
                over_limit(
                    self.diags,
                    Severity::Fatal,
                    Some(self.loc),
                    format_args!("configuration (with '{path}') larger than"),
                    "config_bytes",
                    CONFIG_BYTES,
                );
                self.stop = true;
                false
            }
            Err(e) => {
                self.matched += 1;
                if self.checks.readable || e == FsError::PathTooLong {
                    self.diags
                        .error(self.loc, format_args!("cannot read {path}: {e}"));
                }
                true
            }
        }
    }
}

/// Walks the path components of `rest` (no braces) below `base`, calling
/// `found` with each match in order; `false` once `found` asked to stop.
fn walk(
    fs: &mut dyn ConfigFs,
    base: &mut String<PATH_BYTES>,
    rest: &str,
    level: usize,
    found: &mut dyn FnMut(&mut dyn ConfigFs, &str) -> bool,
) -> bool {
    let mut rest = rest;
    loop {
        let (comp, tail) = match rest.split_once('/') {
            Some((c, t)) => (c, Some(t)),
            None => (rest, None),
        };
        if !has_wildcard(comp) {
            if push_unescaped(base, comp).is_err() {
                return true;
            }
            match tail {
                Some(t) => {
                    if base.push('/').is_err() {
                        return true;
                    }
                    rest = t;
                }
                None => return found(fs, base),
            }
            continue;
        }
        if level >= GLOB_LEVELS {
            return true;
        }
        let mark = base.len();
        let mut last: Option<String<PATH_BYTES>> = None;
        loop {
            let mut best: Option<String<PATH_BYTES>> = None;
            let dir = if base.is_empty() { "." } else { base.as_str() };
            let want_dir = tail.is_some();
            let listed = fs.list_dir(dir, &mut |name, is_dir| {
                if is_dir != want_dir
                    || (name.starts_with('.') && !comp.starts_with('.'))
                    || !glob_match(comp.as_bytes(), name.as_bytes())
                    || last.as_ref().is_some_and(|l| name <= l.as_str())
                    || best.as_ref().is_some_and(|b| name >= b.as_str())
                {
                    return;
                }
                let mut s = String::new();
                if s.push_str(name).is_ok() {
                    best = Some(s);
                }
            });
            let (Ok(()), Some(name)) = (listed, best) else {
                return true;
            };
            let fits = base.push_str(&name).is_ok();
            let go_on = match (fits, tail) {
                (false, _) => true,
                (true, None) => found(fs, base),
                (true, Some(t)) => base.push('/').is_err() || walk(fs, base, t, level + 1, found),
            };
            base.truncate(mark);
            if !go_on {
                return false;
            }
            last = Some(name);
        }
    }
}

/// Appends `comp` to `base`, dropping glob escapes (`\x` is `x`).
fn push_unescaped(base: &mut String<PATH_BYTES>, comp: &str) -> Result<(), ()> {
    let mut escaped = false;
    for c in comp.chars() {
        if c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        escaped = false;
        base.push(c).map_err(|_| ())?;
    }
    Ok(())
}

/// Whether a pattern has a glob wildcard (`*`, `?`, `[`) not escaped.
fn has_wildcard(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.bytes() {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        } else if matches!(c, b'*' | b'?' | b'[') {
            return true;
        }
    }
    false
}

/// The first `{` with its matching `}` (both unescaped), as byte offsets.
fn find_brace(p: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(&c) = p.get(i) {
        match c {
            b'\\' => i += 2,
            b'{' => {
                let mut depth = 0usize;
                let mut j = i;
                while let Some(&d) = p.get(j) {
                    match d {
                        b'\\' => j += 1,
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some((i, j));
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                return None;
            }
            _ => i += 1,
        }
    }
    None
}

/// The comma-separated alternatives of a brace group's inside (commas in
/// nested groups do not split).
fn split_alternatives(inner: &str) -> impl Iterator<Item = &str> {
    let bytes = inner.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut depth = 0usize;
    let mut done = false;
    core::iter::from_fn(move || {
        if done {
            return None;
        }
        while let Some(&c) = bytes.get(i) {
            match c {
                b'\\' => i += 1,
                b'{' => depth += 1,
                b'}' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => {
                    let alt = inner.get(start..i);
                    i += 1;
                    start = i;
                    return alt;
                }
                _ => {}
            }
            i += 1;
        }
        done = true;
        inner.get(start..)
    })
}

/// glob(3)-style match of one name against one pattern component: `*`, `?`
/// (one character), `[...]` with ranges and `!`/`^` negation, `\` escapes.
pub(crate) fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pat.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
                continue;
            }
            Some(b'?') => {
                let len = name.get(n).map_or(1, |&c| utf8_len(c));
                Some((p + 1, len))
            }
            Some(b'[') => match class_match(pat, p + 1, name.get(n).copied()) {
                Some((true, next)) => Some((next, 1)),
                Some((false, _)) => None,
                None => (name.get(n) == Some(&b'[')).then_some((p + 1, 1)),
            },
            Some(b'\\') if p + 1 < pat.len() => {
                (pat.get(p + 1) == name.get(n)).then_some((p + 2, 1))
            }
            Some(c) => (Some(c) == name.get(n)).then_some((p + 1, 1)),
            None => None,
        };
        match step {
            Some((np, len)) => {
                p = np;
                n += len;
            }
            None => match star {
                Some((sp, sn)) => {
                    p = sp;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    while pat.get(p) == Some(&b'*') {
        p += 1;
    }
    p == pat.len()
}

/// Length of the UTF-8 sequence starting with `lead` (1 for stray bytes).
const fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// Matches `c` against the class starting after `[` at `start`: whether it
/// matched and the offset after `]`; `None` if the class has no `]`.
fn class_match(pat: &[u8], start: usize, c: Option<u8>) -> Option<(bool, usize)> {
    let mut i = start;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let mut lo = *pat.get(i)?;
        if lo == b']' && !first {
            break;
        }
        first = false;
        if lo == b'\\' {
            i += 1;
            lo = *pat.get(i)?;
        }
        let mut hi = lo;
        if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&h| h != b']') {
            hi = *pat.get(i + 2)?;
            i += 2;
        }
        if c.is_some_and(|c| lo <= c && c <= hi) {
            hit = true;
        }
        i += 1;
    }
    Some((hit != negate && c.is_some(), i + 1))
}

/// Cuts a comment (`#` or `!` outside quotes, not escaped) and trailing
/// whitespace; returns whether the line then ends with a lone `\` (a
/// continued multi-line definition).
fn decomment(line: &mut Vec<u8, LINE_BYTES>) -> bool {
    let mut quote: Option<u8> = None;
    let mut i = 0;
    let mut cut = line.len();
    while let Some(&c) = line.get(i) {
        match (quote, c) {
            (_, b'\\') => i += 1,
            (Some(q), _) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'#' | b'!') => {
                cut = i;
                break;
            }
            _ => {}
        }
        i += 1;
    }
    line.truncate(cut);
    trim_end(line);
    // Ends with an unescaped backslash?
    let mut escaped = false;
    let mut last_is_lone = false;
    for &c in line.iter() {
        last_is_lone = c == b'\\' && !escaped;
        escaped = last_is_lone;
    }
    last_is_lone
}

/// Removes trailing whitespace.
fn trim_end<const N: usize>(line: &mut Vec<u8, N>) {
    while line.last().is_some_and(|&c| is_space(c)) {
        line.pop();
    }
}

/// Removes the first `n` bytes.
fn drop_front<const N: usize>(line: &mut Vec<u8, N>, n: usize) {
    let n = n.min(line.len());
    if n > 0 {
        line.copy_within(n.., 0);
        line.truncate(line.len() - n);
    }
}

/// Refuses `~SEQ(...)`, `~SEQx(...)` and `~LST(...)` lines; `true` if it was one.
fn refuse_seq(line: &[u8], origin: Origin, diags: &mut Diagnostics) -> bool {
    if !(line.starts_with(b"~SEQ") || line.starts_with(b"~LST")) {
        return false;
    }
    diags.error_hint(
        origin.at(0),
        format_args!("~SEQ/~LST are not supported by picket; line ignored"),
        format_args!("expand the lines by hand (or generate the file)"),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        let m = |p: &str, n: &str| glob_match(p.as_bytes(), n.as_bytes());
        assert!(m("*.conf", "a.conf"));
        assert!(m("*.conf", ".conf"));
        assert!(!m("*.conf", "a.conf.bak"));
        assert!(m("a?c", "abc"));
        assert!(m("a?c", "aéc"));
        assert!(!m("a?c", "ac"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[!a-c]x", "bx"));
        assert!(m("[^a-c]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("[", "["));
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b", "xxaxxbxxc"));
        assert!(m("**", ""));
    }

    #[test]
    fn braces_and_alternatives() {
        assert_eq!(find_brace(b"a{b,c}d"), Some((1, 5)));
        assert_eq!(find_brace(b"a\\{b,c}d"), None);
        assert_eq!(find_brace(b"a{b,{c,d}}"), Some((1, 9)));
        assert_eq!(find_brace(b"a{b"), None);
        let v: std::vec::Vec<&str> = split_alternatives("b,{c,d},").collect();
        assert_eq!(v, ["b", "{c,d}", ""]);
    }

    #[test]
    fn decomment_respects_quotes_and_escapes() {
        let run = |s: &str| {
            let mut v: Vec<u8, LINE_BYTES> = Vec::new();
            v.extend_from_slice(s.as_bytes()).unwrap();
            let c = decomment(&mut v);
            (std::string::String::from_utf8(v.to_vec()).unwrap(), c)
        };
        assert_eq!(run("a b # c"), ("a b".into(), false));
        assert_eq!(run("a ! c"), ("a".into(), false));
        assert_eq!(
            run("a \"#\" '!' \\# x#y"),
            ("a \"#\" '!' \\# x".into(), false)
        );
        assert_eq!(run("$A=\\"), ("$A=\\".into(), true));
        assert_eq!(run("x \\\\"), ("x \\\\".into(), false));
        assert_eq!(run("x \\ # c"), ("x \\".into(), true));
    }
}
