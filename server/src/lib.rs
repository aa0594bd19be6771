//! The Xieshang server: one process that is the whole product on one machine.
//!
//! # Layout
//! - [`config`]: the command line (`serve`, `user add`) and limits.
//! - [`db`]: storage over SQLite or PostgreSQL; SQL in `db/queries/<area>.rs`.
//! - [`auth`]: password hashes, signed session tokens, the `AuthUser` extractor.
//! - [`routes`]: the JSON API under `/api` (session, topics, documents).
//! - [`docs`]: one owner task per open document: apply, persist (group commit),
//!   acknowledge, fan out, compact, evict.
//! - [`ws`]: `GET /sync/{doc_id}`, the y-websocket protocol on a socket.
//! - [`assets`]: the built client, embedded or from a directory.
//! - [`demo`]: the demo committee for `serve --demo`.
//! - [`records`]: canonical records: versions, diff, restore, attribution (pure logic).
//! - [`export`]: the bulletin (建言献策) as DOCX, Markdown or HTML.
//! - [`error`]: the one JSON error shape.

pub mod access;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod docs;
pub mod error;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod records;
pub mod routes;
pub mod server;
pub mod state;
pub mod ws;

pub use config::{Cli, Command, Config};
pub use error::{AppError, Result};
pub use server::{app, start, RunningServer};
pub use state::AppState;
