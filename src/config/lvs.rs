//! LVS sections (stub: being written).
use super::{Config, Diagnostics, dump::Dumper};
/// LVS tables.
#[derive(Clone, Debug, Default)]
pub struct LvsConfig {}
impl LvsConfig {
    /// Empties.
    pub fn clear(&mut self) {}
}
impl LvsConfig {
    /// Defaults.
    pub const fn new() -> Self {
        LvsConfig {}
    }
}
/// Resolves defaults and cross references after parsing.
pub fn finish(_cfg: &mut Config, _diags: &mut Diagnostics) {}
/// Writes LVS sections back.
pub fn dump(_v: &LvsConfig, _d: &mut Dumper<'_>) -> core::fmt::Result {
    Ok(())
}
