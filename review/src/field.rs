//! The field-named validation error that every intake parser returns.
//!
//! Orders, notices, complaints, Australian notices and flagger registrations are each checked
//! field by field so the API can say exactly what is wrong (422). The error type lives here, below
//! all of them, so no parser has to import another to name it.

use serde::{Deserialize, Serialize};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON path of the field (`section_b.urls[1]`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}
