//! `global_defs` (stub: being written).
use super::{Config, Diagnostics, dump::Dumper};
/// Global definitions.
#[derive(Clone, Debug, Default)]
pub struct GlobalDefs {}
impl GlobalDefs {
    /// Defaults.
    pub const fn new() -> Self {
        GlobalDefs {}
    }
}
/// Resolves defaults and cross references after parsing.
pub fn finish(_cfg: &mut Config, _diags: &mut Diagnostics) {}
/// Writes `global_defs` back.
pub fn dump(_g: &GlobalDefs, _d: &mut Dumper<'_>) -> core::fmt::Result {
    Ok(())
}
