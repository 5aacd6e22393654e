//! Review-queue benchmarks against a real Redis (filled in by a later commit).

fn main() {}
