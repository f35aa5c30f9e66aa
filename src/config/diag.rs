//! Diagnostics of a configuration load: errors and warnings with the
//! `file:line:col` they point at, collected compiler-style (a load reports
//! every problem it finds, not only the first).
//!
//! The table of file names that locations refer to ([`FileTable`]) lives here
//! too, so a diagnostic can always be rendered.

use core::fmt::{self, Write as _};

use heapless::{String, Vec};

use crate::limits::{CONFIG_FILES, DIAGNOSTICS, MESSAGE_BYTES, PATH_BYTES};

/// Index of a file in the [`FileTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u8);

/// A place in the configuration: file, 1-based line, 1-based byte column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// Line, from 1.
    pub line: u32,
    /// Byte column, from 1.
    pub col: u32,
}

impl Loc {
    /// A location in `file` at `line`, `col`.
    pub const fn new(file: FileId, line: u32, col: u32) -> Self {
        Loc { file, line, col }
    }
}

/// The names of the files read by one load, in the order they were opened.
#[derive(Clone, Debug, Default)]
pub struct FileTable {
    paths: Vec<String<PATH_BYTES>, CONFIG_FILES>,
}

impl FileTable {
    /// An empty table.
    pub const fn new() -> Self {
        FileTable { paths: Vec::new() }
    }

    /// Forgets every file.
    pub fn clear(&mut self) {
        self.paths.clear();
    }

    /// Adds a file name; `None` when the table is full (`config_files`) or the
    /// path is longer than `path_bytes`.
    pub fn push(&mut self, path: &str) -> Option<FileId> {
        let mut s = String::new();
        s.push_str(path).ok()?;
        let id = u8::try_from(self.paths.len()).ok()?;
        self.paths.push(s).ok()?;
        Some(FileId(id))
    }

    /// The name of a file (`"?"` for an unknown id).
    pub fn name(&self, id: FileId) -> &str {
        self.paths
            .get(usize::from(id.0))
            .map_or("?", |s| s.as_str())
    }

    /// How many files have been read.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether no file has been read.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// How bad a diagnostic is; decides `picket -t`'s exit code (keepalived's):
/// any `Fatal` → 4, else any `Error` → 5, else 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The configuration cannot be read at all (main file missing, unreadable,
    /// too large). keepalived's "fatal".
    Fatal,
    /// The configuration is wrong; picket refuses to run it.
    Error,
    /// Accepted, but something is ignored or questionable.
    Warning,
}

impl Severity {
    /// The word printed before the message.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in the configuration.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// Where it is; `None` for problems of the load as a whole.
    pub loc: Option<Loc>,
    /// What is wrong (truncated to `MESSAGE_BYTES`).
    pub message: String<MESSAGE_BYTES>,
    /// How to fix it, or empty.
    pub hint: String<MESSAGE_BYTES>,
}

/// The diagnostics of one load.
///
/// At most `DIAGNOSTICS` are kept; the rest are counted (the counts are
/// always exact), and [`Diagnostics::render`] says how many were left out.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic, DIAGNOSTICS>,
    fatal: u32,
    errors: u32,
    warnings: u32,
    dropped: u32,
    /// The files locations refer to.
    pub files: FileTable,
}

/// Writes `args` into `s`, cutting at capacity (a diagnostic is never lost for
/// being long).
fn write_truncated<const N: usize>(s: &mut String<N>, args: fmt::Arguments<'_>) {
    struct Cut<'a, const N: usize>(&'a mut String<N>);
    impl<const N: usize> fmt::Write for Cut<'_, N> {
        fn write_str(&mut self, part: &str) -> fmt::Result {
            for c in part.chars() {
                if self.0.push(c).is_err() {
                    return Err(fmt::Error);
                }
            }
            Ok(())
        }
    }
    let _ = Cut(s).write_fmt(args);
}

impl Diagnostics {
    /// No diagnostics, no files.
    pub const fn new() -> Self {
        Diagnostics {
            list: Vec::new(),
            fatal: 0,
            errors: 0,
            warnings: 0,
            dropped: 0,
            files: FileTable::new(),
        }
    }

    /// Forgets everything (files too).
    pub fn clear(&mut self) {
        self.list.clear();
        self.fatal = 0;
        self.errors = 0;
        self.warnings = 0;
        self.dropped = 0;
        self.files.clear();
    }

    /// Records a diagnostic.
    pub fn push(
        &mut self,
        severity: Severity,
        loc: Option<Loc>,
        message: fmt::Arguments<'_>,
        hint: fmt::Arguments<'_>,
    ) {
        match severity {
            Severity::Fatal => self.fatal += 1,
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        let mut d = Diagnostic {
            severity,
            loc,
            message: String::new(),
            hint: String::new(),
        };
        write_truncated(&mut d.message, message);
        write_truncated(&mut d.hint, hint);
        if self.list.push(d).is_err() {
            self.dropped += 1;
        }
    }

    /// Records an error at `loc`.
    pub fn error(&mut self, loc: Loc, message: fmt::Arguments<'_>) {
        self.push(Severity::Error, Some(loc), message, format_args!(""));
    }

    /// Records an error at `loc` with a hint.
    pub fn error_hint(&mut self, loc: Loc, message: fmt::Arguments<'_>, hint: fmt::Arguments<'_>) {
        self.push(Severity::Error, Some(loc), message, hint);
    }

    /// Records a warning at `loc`.
    pub fn warning(&mut self, loc: Loc, message: fmt::Arguments<'_>) {
        self.push(Severity::Warning, Some(loc), message, format_args!(""));
    }

    /// Records a fatal problem (at `loc` if known).
    pub fn fatal(&mut self, loc: Option<Loc>, message: fmt::Arguments<'_>) {
        self.push(Severity::Fatal, loc, message, format_args!(""));
    }

    /// Fatal problems seen.
    pub fn fatal_count(&self) -> u32 {
        self.fatal
    }

    /// Errors seen (not counting fatal ones).
    pub fn error_count(&self) -> u32 {
        self.errors
    }

    /// Warnings seen.
    pub fn warning_count(&self) -> u32 {
        self.warnings
    }

    /// Whether the configuration may be run: no fatal problem, no error.
    pub fn is_ok(&self) -> bool {
        self.fatal == 0 && self.errors == 0
    }

    /// keepalived's `--config-test` exit code: 0 clean, 4 fatal, 5 config errors.
    pub fn exit_code(&self) -> u8 {
        if self.fatal > 0 {
            4
        } else if self.errors > 0 {
            5
        } else {
            0
        }
    }

    /// The diagnostics kept, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }

    /// Diagnostics found but not kept (over `DIAGNOSTICS`).
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Writes one diagnostic compiler-style:
    /// `file:line:col: error: message` and, if any, `  hint: ...` on the next line.
    pub fn render_one(&self, d: &Diagnostic, out: &mut dyn fmt::Write) -> fmt::Result {
        if let Some(loc) = d.loc {
            write!(
                out,
                "{}:{}:{}: ",
                self.files.name(loc.file),
                loc.line,
                loc.col
            )?;
        }
        write!(out, "{}: {}", d.severity.as_str(), d.message)?;
        if !d.hint.is_empty() {
            write!(out, "\n  hint: {}", d.hint)?;
        }
        Ok(())
    }

    /// Writes every diagnostic kept, one per line (plus hint lines), then a
    /// summary line when anything was found.
    pub fn render(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        for d in self.iter() {
            self.render_one(d, out)?;
            out.write_char('\n')?;
        }
        if self.dropped > 0 {
            writeln!(
                out,
                "note: {} more diagnostics not shown (limit `diagnostics` = {})",
                self.dropped, DIAGNOSTICS
            )?;
        }
        if self.fatal + self.errors + self.warnings > 0 {
            writeln!(
                out,
                "{} fatal, {} errors, {} warnings",
                self.fatal, self.errors, self.warnings
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String as StdString;

    #[test]
    fn renders_compiler_style_and_counts() {
        let mut d = Diagnostics::new();
        let f = d.files.push("/etc/keepalived/keepalived.conf").unwrap();
        d.error_hint(
            Loc::new(f, 3, 5),
            format_args!("unknown keyword '{}'", "prority"),
            format_args!("did you mean 'priority'?"),
        );
        d.warning(Loc::new(f, 1, 1), format_args!("'router_id' is ignored"));
        let mut s = StdString::new();
        d.render(&mut s).unwrap();
        assert_eq!(
            s,
            "/etc/keepalived/keepalived.conf:3:5: error: unknown keyword 'prority'\n  hint: did you mean 'priority'?\n\
             /etc/keepalived/keepalived.conf:1:1: warning: 'router_id' is ignored\n0 fatal, 1 errors, 1 warnings\n"
        );
        assert_eq!(d.exit_code(), 5);
        assert!(!d.is_ok());
    }

    #[test]
    fn counts_past_capacity_and_truncates_long_messages() {
        let mut d = Diagnostics::new();
        for _ in 0..DIAGNOSTICS + 3 {
            d.error(Loc::default(), format_args!("{:0>1000}", 1));
        }
        assert_eq!(d.error_count() as usize, DIAGNOSTICS + 3);
        assert_eq!(d.dropped(), 3);
        assert_eq!(d.iter().next().unwrap().message.len(), MESSAGE_BYTES);
        d.fatal(None, format_args!("x"));
        assert_eq!(d.exit_code(), 4);
    }
}
