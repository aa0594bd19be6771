//! The Xieshang browser client (leptos CSR, compiled to wasm32).
//!
//! For now a thin shell: sign in, list the topics the server lets the user see,
//! switch between Chinese (default) and English. The editor and the sync engine
//! (IndexedDB outbox, reconnects, service worker) arrive in later issues.
//!
//! # Layout
//! - [`app`]: the root component, the app-wide [`AppState`] and the header.
//! - `route`: the client routes of DESIGN.md (`/login`, `/topics`, `/topics/{id}`,
//!   `/docs/{doc_id}`) over the History API.
//! - `i18n`: the interface texts in zh-CN and English.
//! - `api`: JSON calls to the server's `/api` through `fetch`.
//! - `pages`: one component per page.

mod api;
mod app;
mod i18n;
mod pages;
mod route;

pub use app::{App, AppState};
pub use i18n::Lang;
pub use route::Route;
