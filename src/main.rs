//! The picket binary (in progress).
fn main() {}
