//! `vrrp_track_file NAME { }` (also written `track_file NAME { }` at the top
//! level; reference §b.4) and the `track_file { }` lists of instances and
//! sync groups.
//!
//! ```text
//! vrrp_track_file NAME {
//!     file PATH                  # required
//!     weight W [reverse]         # -254..254 (0)
//!     init_file [VALUE] [overwrite]
//! }
//! vrrp_instance VI_1 { track_file { NAME [weight W] [reverse|noreverse] } }
//! ```
//!
//! keepalived's semantics (`vrrp_track.c`): the file holds an integer
//! (`strtol` base 0, clamped to -254..254; unreadable or no number: 0).
//! Weight 0: a non-zero value puts the instance in FAULT. Otherwise
//! value × weight (negated with `reverse`), clamped to -254..253, is added
//! to the priority, and -254 means FAULT. `init_file` creates the file with
//! VALUE (0) at start if it is missing, or always with `overwrite`.

use heapless::String;

use super::super::parser::Parser;
use super::super::{Config, Loc, Statement};
use super::block_name;
use crate::limits::{NAME_BYTES, PATH_BYTES};

/// Largest weight of a tracked file (keepalived: -254..254).
pub const FILE_WEIGHT_MAX: i64 = 254;
/// Largest value read from a tracked file, either sign.
pub const FILE_VALUE_MAX: i64 = 254;

/// `init_file [VALUE] [overwrite]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitFile {
    /// The value written (0).
    pub value: i32,
    /// Write it even if the file exists.
    pub overwrite: bool,
}

/// A `vrrp_track_file` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackFile {
    /// Its name.
    pub name: String<NAME_BYTES>,
    /// Where the block starts.
    pub loc: Loc,
    /// `file PATH` (required).
    pub path: String<PATH_BYTES>,
    /// `weight` -254..254 (0: a non-zero value means FAULT).
    pub weight: i16,
    /// `weight W reverse`.
    pub reverse: bool,
    /// `init_file`.
    pub init: Option<InitFile>,
    /// Some instance or sync group tracks it (set by `finish`; an unused
    /// file is not watched).
    pub used: bool,
}

impl TrackFile {
    /// A block with keepalived's defaults.
    pub fn new(name: String<NAME_BYTES>, loc: Loc) -> Self {
        TrackFile {
            name,
            loc,
            path: String::new(),
            weight: 0,
            reverse: false,
            init: None,
            used: false,
        }
    }
}

/// Keywords of `vrrp_track_file`.
const KEYWORDS: &[&str] = &["file", "weight", "init_file"];

/// Parses a `vrrp_track_file NAME { }` block.
pub fn parse_track_file_block(p: &mut Parser<'_>, head: &Statement, cfg: &mut Config) {
    let name = block_name(p, head);
    if !p.open(head) {
        return;
    }
    let mut f = TrackFile::new(name.clone().unwrap_or_default(), head.loc);
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        match st.keyword() {
            "file" => {
                if p.arity(&st, 1, 1)
                    && let Some(path) = p.fixed_arg::<PATH_BYTES>(&st, 0)
                {
                    f.path = path;
                }
            }
            "weight" => {
                if p.arity(&st, 1, 2)
                    && let Some(w) = p.int_arg(&st, 0, -FILE_WEIGHT_MAX, FILE_WEIGHT_MAX)
                {
                    f.weight = w as i16;
                    f.reverse = false;
                    if st.arg_count() == 2 {
                        match p.choice_arg(&st, 1, &["reverse", "noreverse"]) {
                            Some(k) => f.reverse = k == 0,
                            None => continue,
                        }
                    }
                }
            }
            "init_file" => parse_init(p, &st, &mut f),
            _ => p.unknown(&st, "vrrp_track_file", KEYWORDS),
        }
    }
    let Some(name) = name else { return };
    if f.path.is_empty() {
        p.error_hint(
            head.loc,
            format_args!("vrrp_track_file '{name}' has no 'file'"),
            format_args!("add 'file /path/to/file'"),
        );
        return;
    }
    if !f.path.starts_with('/') {
        p.error_hint(
            head.loc,
            format_args!(
                "vrrp_track_file '{name}': file '{}' is not an absolute path",
                f.path
            ),
            format_args!("write the whole path, from '/'"),
        );
        return;
    }
    if cfg.vrrp.track_file_index(&name).is_some() {
        p.error(
            head.loc,
            format_args!("vrrp_track_file '{name}' is defined twice"),
        );
        return;
    }
    if cfg.vrrp.track_files.push(f).is_err() {
        p.capacity(head.loc, "track_files");
    }
}

/// `init_file [VALUE] [overwrite]`.
fn parse_init(p: &mut Parser<'_>, st: &Statement, f: &mut TrackFile) {
    if !p.arity(st, 0, 2) {
        return;
    }
    let mut init = InitFile {
        value: 0,
        overwrite: false,
    };
    for i in 0..st.arg_count() {
        match st.arg(i) {
            Some("overwrite") if i + 1 == st.arg_count() => init.overwrite = true,
            Some(_) if i == 0 => {
                let Some(v) = p.int_arg(st, 0, -FILE_VALUE_MAX, FILE_VALUE_MAX) else {
                    return;
                };
                init.value = v as i32;
            }
            Some(w) => {
                p.error_hint(
                    st.arg_loc(i),
                    format_args!("unexpected '{w}' in 'init_file'"),
                    format_args!("write 'init_file [VALUE] [overwrite]'"),
                );
                return;
            }
            None => {}
        }
    }
    f.init = Some(init);
}
