//! The `herald` binary.
fn main() {}
