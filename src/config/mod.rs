//! keepalived.conf: reading, parsing, the typed model, and writing it back.
//!
//! Pipeline: [`source`] reads files into a fixed arena (includes, `@id`
//! conditionals, `$NAME` definitions) → [`lexer`] splits lines into
//! [`Statement`]s → [`parser`] walks blocks and hands each section to its
//! parser ([`global`], [`vrrp`], [`lvs`]) which fills fixed-capacity tables of
//! [`Config`] with keepalived's defaults and value ranges → [`dump`] writes the
//! model back in keepalived syntax (parse → dump → parse is a fixed point).
//!
//! Every problem is collected in [`Diagnostics`] with `file:line:col`.

pub mod diag;
pub mod dump;
pub mod global;
pub mod lexer;
pub mod lvs;
pub mod memfs;
pub mod parser;
pub mod source;
pub mod statement;
pub mod strings;
#[cfg(test)]
pub(crate) mod testutil;
pub mod value;
pub mod vrrp;

pub use diag::{Diagnostic, Diagnostics, FileId, Loc, Severity};
pub use statement::{ConfigFs, Event, FsError, LoadOptions, Statement, StatementSource};

use core::fmt;

use strings::StringPool;

/// A whole configuration: every table picket runs from.
///
/// Built empty by [`Config::new`] (a `const fn`, so it can live in static
/// memory), filled by [`load`]. Long strings live in [`Config::strings`];
/// table rows hold [`strings::Text`] handles into it.
#[derive(Clone, Debug)]
pub struct Config {
    /// `global_defs` (and the global keywords allowed outside it).
    pub global: global::GlobalDefs,
    /// `static_ipaddress`, `vrrp_script`, `vrrp_sync_group`, `vrrp_instance`.
    pub vrrp: vrrp::VrrpConfig,
    /// `virtual_server_group`, `virtual_server`, `real_server`, checkers.
    pub lvs: lvs::LvsConfig,
    /// Storage of the long strings the tables refer to.
    pub strings: StringPool,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// An empty configuration with keepalived's global defaults.
    pub const fn new() -> Self {
        Config {
            global: global::GlobalDefs::new(),
            vrrp: vrrp::VrrpConfig::new(),
            lvs: lvs::LvsConfig::new(),
            strings: StringPool::new(),
        }
    }

    /// Back to [`Config::new`], in place.
    pub fn clear(&mut self) {
        self.global = global::GlobalDefs::new();
        self.vrrp.clear();
        self.lvs.clear();
        self.strings.clear();
    }

    /// Writes the configuration in keepalived syntax, normalised (every
    /// value explicit, one statement a line, fixed order), such that loading
    /// the output gives a configuration whose dump is the same text.
    pub fn dump(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        let mut d = dump::Dumper::new(out, &self.strings);
        global::dump(&self.global, &mut d)?;
        vrrp::dump(&self.vrrp, &mut d)?;
        lvs::dump(&self.lvs, &mut d)
    }
}

/// Room the reader needs while loading (the file arena and its tables); kept
/// apart from [`Config`] so both can be placed in static memory.
pub struct LoadScratch {
    source: source::SourceScratch,
}

impl Default for LoadScratch {
    fn default() -> Self {
        Self::new()
    }
}

impl LoadScratch {
    /// Empty scratch space.
    pub const fn new() -> Self {
        LoadScratch {
            source: source::SourceScratch::new(),
        }
    }
}

/// Loads the configuration at `path` into `cfg` (cleared first), reporting
/// every problem to `diags` (cleared first). The result may be run only if
/// [`Diagnostics::is_ok`].
pub fn load(
    fs: &mut dyn ConfigFs,
    path: &str,
    opts: &LoadOptions<'_>,
    scratch: &mut LoadScratch,
    cfg: &mut Config,
    diags: &mut Diagnostics,
) {
    cfg.clear();
    diags.clear();
    let mut lexer = lexer::Lexer::new(fs, path, opts, &mut scratch.source, diags);
    parse(&mut lexer, cfg, diags);
}

/// Parses statements from any source into `cfg` (not cleared); the top level
/// of [`load`], public for tests and fuzzing.
pub fn parse(src: &mut dyn StatementSource, cfg: &mut Config, diags: &mut Diagnostics) {
    let mut p = parser::Parser::new(src, diags);
    parser::parse_top(&mut p, cfg);
    global::finish(cfg, p.diags());
    vrrp::finish(cfg, p.diags());
    lvs::finish(cfg, p.diags());
}
