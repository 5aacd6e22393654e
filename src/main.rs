//! The `takedown` binary (being written).
fn main() {}
