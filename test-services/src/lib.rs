//! Test services (placeholder; being written).
