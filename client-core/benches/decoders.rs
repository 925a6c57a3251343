//! placeholder until the benchmark lands in this change
fn main() {}
