//! `global_defs` (stub: being written).
use super::{Config, Diagnostics, Statement, dump::Dumper, parser::Parser};
/// Global definitions.
#[derive(Clone, Debug, Default)]
pub struct GlobalDefs {}
impl GlobalDefs {
    /// Defaults.
    pub const fn new() -> Self {
        GlobalDefs {}
    }
}
/// Parses a `global_defs` block.
pub fn parse_global_defs(p: &mut Parser<'_>, head: &Statement, _cfg: &mut Config) {
    p.skip_block(head);
}
/// Whether `kw` is a global keyword allowed at the top level.
pub fn is_top_keyword(_kw: &str) -> bool {
    false
}
/// Parses a global keyword at the top level.
pub fn parse_top_keyword(p: &mut Parser<'_>, st: &Statement, _cfg: &mut Config) {
    p.skip_block(st);
}
/// Resolves defaults and cross references after parsing.
pub fn finish(_cfg: &mut Config, _diags: &mut Diagnostics) {}
/// Writes `global_defs` back.
pub fn dump(_g: &GlobalDefs, _d: &mut Dumper<'_>) -> core::fmt::Result {
    Ok(())
}
