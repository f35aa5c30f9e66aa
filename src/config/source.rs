//! Reading configuration files (stub: being written).
/// Scratch space of the reader.
pub struct SourceScratch {}
impl SourceScratch {
    /// Empty.
    pub const fn new() -> Self {
        SourceScratch {}
    }
}
