//! Canonical records (issue #4): the pure logic behind versions, sign-offs,
//! restore and attribution. No I/O here; the routes and the document owner call it.
//!
//! # Layout
//! - [`canonical`]: the canonical text of a document and its version name.
//! - [`diff`]: line diff of two canonical texts.
//! - [`restore`]: make a document's content equal an old version's, as new edits.
//! - [`authorship`]: which yrs client wrote each character of a text, per paragraph.

pub mod authorship;
pub mod canonical;
pub mod diff;
pub mod restore;

pub use canonical::{describe, load_state, DocState};
