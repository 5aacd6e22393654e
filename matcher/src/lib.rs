//! Signals and indexes (being written).
