//! vrrp sections (stub: being written).
use super::{Config, Diagnostics, Statement, dump::Dumper, parser::Parser};
/// Tables.
#[derive(Clone, Debug, Default)]
pub struct VrrpConfig {}
impl VrrpConfig {
    /// Empty.
    pub const fn new() -> Self {
        VrrpConfig {}
    }
    /// Empties.
    pub fn clear(&mut self) {}
}
/// Whether `kw` starts a section of this module.
pub fn is_top_keyword(_kw: &str) -> bool {
    false
}
/// Parses a top-level section of this module.
pub fn parse_top(p: &mut Parser<'_>, st: &Statement, _cfg: &mut Config) {
    p.skip_block(st);
}
/// Resolves defaults and cross references after parsing.
pub fn finish(_cfg: &mut Config, _diags: &mut Diagnostics) {}
/// Writes the tables back.
pub fn dump(_v: &VrrpConfig, _d: &mut Dumper<'_>) -> core::fmt::Result {
    Ok(())
}
