//! VRRP sections (stub: being written).
use super::{Config, Diagnostics, dump::Dumper};
/// VRRP tables.
#[derive(Clone, Debug, Default)]
pub struct VrrpConfig {}
impl VrrpConfig {
    /// Empties.
    pub fn clear(&mut self) {}
}
impl VrrpConfig {
    /// Defaults.
    pub const fn new() -> Self {
        VrrpConfig {}
    }
}
/// Resolves defaults and cross references after parsing.
pub fn finish(_cfg: &mut Config, _diags: &mut Diagnostics) {}
/// Writes VRRP sections back.
pub fn dump(_v: &VrrpConfig, _d: &mut Dumper<'_>) -> core::fmt::Result {
    Ok(())
}
