//! Block-structured parsing over statements (stub: being written).
use super::{Config, Diagnostics, StatementSource};
/// The parser.
pub struct Parser<'a> {
    #[allow(dead_code)]
    src: &'a mut dyn StatementSource,
    diags: &'a mut Diagnostics,
}
impl<'a> Parser<'a> {
    /// A parser.
    pub fn new(src: &'a mut dyn StatementSource, diags: &'a mut Diagnostics) -> Self {
        Parser { src, diags }
    }
    /// Diagnostics.
    pub fn diags(&mut self) -> &mut Diagnostics {
        self.diags
    }
}
/// Top level.
pub fn parse_top(_p: &mut Parser<'_>, _cfg: &mut Config) {}
