//! Errors of the domain model that are not about the wire.
//!
//! Wire errors live beside their codecs ([`crate::protocol::DecodeError`],
//! [`crate::sync::SyncError`]); this file holds the one error every string
//! enum shares, so parsing a role, form, stage or kind fails the same way.

use thiserror::Error;

/// A string that is not one of an enum's wire names (e.g. `"form": "meetings"`).
///
/// Keeps the offending text and the enum's name so a 400 answer can say which
/// field was wrong without echoing internals.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("unknown {kind}: {value:?}")]
pub struct ParseEnumError {
    /// Which enum was being parsed, e.g. `"role"`.
    pub kind: &'static str,
    /// The text that did not match any variant.
    pub value: String,
}

impl ParseEnumError {
    /// Builds the error for `kind` from the rejected text.
    pub fn new(kind: &'static str, value: &str) -> Self {
        ParseEnumError {
            kind,
            value: value.to_owned(),
        }
    }
}
