//! The client sync engine: offline-first editing of yrs documents over the
//! y-websocket protocol with our durability extensions.
//!
//! # What the UI uses
//! - [`Provider::open`] a document, edit [`Provider::doc`] with
//!   `transact_mut()`, show [`Provider::status`] and [`Provider::peers`], move
//!   the caret with [`Provider::set_cursor`], [`Provider::close`] when leaving.
//! - [`overall_status`] for the header; [`resume_pending`] once the session is
//!   known, so unsent changes of documents not open go out too; [`set_token`]
//!   after signing in again.
//! - [`store::kv_get`] / [`store::kv_put`] to cache JSON for an offline start.
//!
//! # Guarantees
//! Every local change is in IndexedDB before it is sent, and leaves the
//! outbox only when the server acknowledges it as durable. Reconnects back off
//! exponentially with jitter (at most 30 s; at once on the browser's `online`
//! event) and exchange only what is missing (state vectors both ways). A
//! heartbeat notices a dead connection within about 12 s; `navigator.onLine`
//! turning false is noticed at once.
//!
//! # Layout
//! - [`provider`]: the public handle, the page-wide registry, the overall status.
//! - `engine`: one document's state and life: load, status, close.
//! - `persist`: the writer: IndexedDB first, then the outbox and the socket.
//! - `connection`: connect, state-vector exchange, acks, retries, heartbeat, presence.
//! - `outbox`: unacknowledged changes and the ack ledger (pure).
//! - `status`: status derivation and combination (pure).
//! - `timing`: backoff and heartbeat rules (pure).
//! - `presence`: awareness states, cursors as sticky indexes (pure).
//! - [`creations`]: the queue of objects created here (offline too) with
//!   client-minted ids, registered before their documents first connect.
//! - [`store`]: IndexedDB layout and access (documents, outbox, key-value cache).
//! - `web`: browser glue (WebSocket, timers, network events, session check).

mod connection;
pub mod creations;
mod engine;
mod outbox;
mod persist;
mod presence;
pub mod provider;
mod status;
pub mod store;
mod timing;
mod web;

pub use presence::PeerPresence;
pub use provider::{
    overall_status, resume_pending, set_server_origin, set_token, shutdown_all, Provider,
};
pub use status::{SyncState, SyncStatus};

/// The origin of transactions that apply updates from the server. An editor
/// observing the document can skip its own echo by checking for it; the
/// engine sends only transactions with any other origin.
pub const REMOTE_ORIGIN: &str = "xieshang-remote";

// The unit tests of the pure modules also run in headless Chromium.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
