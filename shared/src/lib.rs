//! Xieshang (协商) shared core: the domain types, the document schemas over
//! yrs and the y-websocket wire protocol, used by the server (native) and the
//! client (wasm32) alike.
//!
//! # Layout
//!
//! - [`ids`]: typed `i64` ids (`UserId`, `TopicId`, `DocId`, …), one macro.
//! - [`model`]: roles, consultation forms, stages, document kinds, topics and
//!   users, with their wire names and zh-CN / English labels.
//! - [`schema`]: typed views over yrs documents (`Draft`, `Record`,
//!   `OpinionReport`); the only place that knows root names and map keys.
//!   Create documents with [`schema::new_doc`] (UTF-16 offsets, like JS).
//! - [`protocol`]: the y-websocket frame (`Message`) and lib0 codec, plus our
//!   negotiated extensions (durability acks, read-only notice, heartbeat).
//! - [`sync`]: contained, guarded decode/apply of yrs payloads; what every
//!   peer calls on bytes that came from the network.
//! - [`diff`]: line diffs of texts, with the changed words marked (versions).
//! - [`markdown`]: the one Markdown renderer (preview, HTML and DOCX
//!   bulletins, plain text), on pulldown-cmark.
//! - [`error`]: the parse error shared by the string enums.
//!
//! The crate does no I/O and has no async runtime, so it builds for
//! `wasm32-unknown-unknown` and is tested without a server.

#![warn(missing_docs)]

pub mod diff;
pub mod error;
pub mod html;
pub mod ids;
pub mod markdown;
pub mod model;
pub mod presence;
pub mod protocol;
pub mod schema;
pub mod sync;

pub use error::ParseEnumError;
pub use ids::{DocId, SectorId, SiteId, TopicId, UserId};
pub use model::{ConsultationForm, DocKind, Lang, NewTopic, Role, Stage, Topic, User};
pub use protocol::{AuthMessage, DecodeError, ExtMessage, Message, SyncMessage};
pub use sync::SyncError;

/// yrs, re-exported so every crate uses the exact version the schemas and
/// the guard were written against.
pub use yrs;
