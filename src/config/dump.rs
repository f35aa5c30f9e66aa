//! Writing a configuration back in keepalived syntax (stub: being written).
use super::strings::StringPool;
use core::fmt;
/// Writes indented keepalived syntax.
pub struct Dumper<'a> {
    #[allow(dead_code)]
    out: &'a mut dyn fmt::Write,
    #[allow(dead_code)]
    strings: &'a StringPool,
}
impl<'a> Dumper<'a> {
    /// A dumper writing to `out`.
    pub fn new(out: &'a mut dyn fmt::Write, strings: &'a StringPool) -> Self {
        Dumper { out, strings }
    }
}
