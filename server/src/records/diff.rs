//! The line diff of two canonical texts, for the versions view and for
//! [`super::restore`]: the one definition lives in the shared crate
//! (`xieshang_shared::diff`, over the `similar` crate) so the client reads the
//! same shape the server sends.

pub use xieshang_shared::diff::{is_change, line_diff, unified, Line, Op, Words};
