//! Shared hash lists: import, validation, versioning and sync.
//!
//! Platforms receive hashes of known terrorist content from GIFCT (through ThreatExchange), Tech
//! Against Terrorism and HMA exports. This crate will turn those formats into validated, versioned
//! lists in Redis that the matcher follows. It is empty until the hash-lists issue lands.
