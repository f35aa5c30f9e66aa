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
pub mod value;
pub mod vrrp;

pub use diag::{Diagnostic, Diagnostics, FileId, Loc, Severity};
pub use statement::{ConfigFs, Event, FsError, LoadOptions, Statement, StatementSource};
