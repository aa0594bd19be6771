//! The Xieshang browser client (leptos CSR, compiled to wasm32).
//!
//! Sign in, the topics, a topic, and the editor of every document kind, in
//! Chinese by default (English selectable), working offline: the sync engine
//! keeps every document and unsent change in IndexedDB, a service worker
//! serves the app shell, and the last server answers are cached.
//!
//! # Layout
//! - [`app`]: the root component, the app-wide [`AppState`] and the header.
//! - `route`: the client routes of DESIGN.md (`/login`, `/topics`, `/topics/{id}`,
//!   `/docs/{doc_id}`) over the History API.
//! - `i18n`: the interface texts in zh-CN and English.
//! - `api`: JSON calls to the server's `/api` through `fetch`.
//! - `pages`: one component per page.
//! - `components`: the header's sync indicator, the editors (text bound to
//!   `Y.Text` by diffs, record fields and entries, presence), the review panel.
//! - `offline`: service worker registration, caches for an offline start,
//!   sign-offs queued offline.
//! - `text_diff`: a pure helper (the edit of an input); the preview renders
//!   through `xieshang_shared::markdown`, as the bulletin does.
//! - [`sync`]: the sync engine (one provider per open document).

mod api;
mod app;
mod components;
mod i18n;
mod offline;
mod pages;
mod route;
pub mod sync;
mod text_diff;

pub use app::{App, AppState};
pub use i18n::Lang;
pub use route::Route;
