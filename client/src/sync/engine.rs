//! The engine of one open document: load, persist, connect, exchange, retry.
//!
//! Single-threaded (wasm): an `Rc<Engine>` with its mutable state in a
//! `RefCell`, never borrowed across an `.await` or while yrs runs a callback.
//! The order of things, which the rules of the issue come down to:
//!
//! 1. Every committed transaction of the `Doc` is seen by one update observer:
//!    remote ones (origin [`REMOTE_ORIGIN`]) are queued for the log, local ones
//!    for the log *and* the outbox. Updates applied from IndexedDB
//!    ([`STORE_ORIGIN`]) are not queued again.
//! 2. A single writer (`flush`) takes the queue in batches, merges each batch,
//!    writes it in one IndexedDB transaction and waits for the commit; only
//!    then does a local batch enter the outbox and, on a connection past its
//!    handshake, go out as one Update.
//! 3. On connect we send SyncStep1 (our state vector) and get the server's
//!    diff as SyncStep2; we answer the server's SyncStep1 with our own diff,
//!    but only once the writer is idle and the queue empty, so that diff never
//!    holds a change that is not in IndexedDB yet. That Step2 is also the
//!    resend of everything unacknowledged (see `outbox`).
//! 4. `Ack{count}` removes outbox entries; nothing else does.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::{ArcRwSignal, GetUntracked, Set};
use send_wrapper::SendWrapper;
use xieshang_shared::protocol::Message;
use xieshang_shared::{sync, DocId, User};
use yrs::{Doc, Origin, StateVector, TextRef};

use super::creations::Creation;
use super::outbox::Outbox;
use super::persist::spawn_flush;
use super::presence::{color_for, PeerPresence, Presence};
use super::status::{self, Facts, SyncStatus};
use super::store;
use super::timing::Backoff;
use super::web::{self, Interval, Socket, Timeout};
use super::REMOTE_ORIGIN;

/// Origin of updates replayed from IndexedDB: neither logged nor sent again.
pub(crate) const STORE_ORIGIN: &str = "xieshang-store";
/// Key of our update observer on the `Doc` (to unobserve on close).
const OBSERVER: &str = "xieshang-sync";
/// Heartbeat tick; pings go out every `PING_EVERY_MS` of it.
const TICK_MS: i32 = 1_000;

/// One open document's engine. See the module docs.
pub(crate) struct Engine {
    pub(super) doc_id: DocId,
    pub(super) doc: Doc,
    /// The text cursors refer to (the body).
    pub(super) body: TextRef,
    pub(super) status: ArcRwSignal<SyncStatus>,
    pub(super) peers: ArcRwSignal<Vec<PeerPresence>>,
    pub(super) ready: ArcRwSignal<bool>,
    /// Updates seen by the observer and not yet written: `(update, local)`.
    /// Apart from `st` because the observer runs inside yrs's commit.
    pub(super) queue: RefCell<Vec<(Vec<u8>, bool)>>,
    pub(super) st: RefCell<State>,
    /// Called after every status change (recomputes the overall status).
    pub(super) on_status: fn(),
}

/// The mutable part of an [`Engine`].
#[derive(Default)]
pub(crate) struct State {
    pub(super) token: String,
    pub(super) facts: Facts,
    /// Access refused (4403/4404 or an auth message): no retries until a new token.
    pub(super) denied: Option<String>,
    /// The creation of this document, made here and not yet confirmed by the
    /// server: registered before the first connection (see `creations`).
    pub(super) creation: Option<Creation>,
    /// A registration request is out.
    pub(super) registering: bool,
    pub(super) outbox: Outbox,
    /// Next log sequence number, and rows written since the last compaction.
    pub(super) log_seq: u64,
    pub(super) log_rows: u32,
    pub(super) writing: bool,
    /// Local transactions taken by the writer and not yet in the outbox.
    pub(super) in_flight: usize,
    pub(super) socket: Option<Socket>,
    /// Generation of the current connection: events of older ones are ignored.
    pub(super) conn: u64,
    /// When the current socket was started, last heard from, last pinged.
    pub(super) since: f64,
    pub(super) heard: Option<f64>,
    pub(super) pinged: f64,
    pub(super) nonce: u64,
    /// The server's SyncStep1 still to be answered on this connection.
    pub(super) server_sv: Option<StateVector>,
    /// Our SyncStep2 went out on this connection: live updates may follow.
    pub(super) answered: bool,
    pub(super) backoff: Backoff,
    pub(super) retry: Option<Timeout>,
    pub(super) heartbeat: Option<Interval>,
    pub(super) presence: Option<Presence>,
    pub(super) presence_sent: f64,
    pub(super) presence_timer: Option<Timeout>,
    /// Open handles (`Provider::open` minus `close`).
    pub(super) refs: usize,
    /// Closed by the UI but still sending what is pending.
    pub(super) closing: bool,
    /// Shut down for good.
    pub(super) closed: bool,
}

impl Engine {
    /// Creates the engine and its observer; call [`Engine::start`] next.
    pub fn new(doc_id: DocId, token: String, me: &User, on_status: fn()) -> Rc<Engine> {
        let doc = xieshang_shared::schema::new_doc();
        let body = xieshang_shared::schema::Draft::new(&doc).body_ref();
        // The awareness id is the document's own client id, as in Yjs.
        let presence = Presence::new(doc.client_id().get(), &me.display_name, color_for(me.id.0));
        let facts = Facts {
            loading: true,
            browser_offline: !web::browser_online(),
            ..Facts::default()
        };
        let engine = Rc::new(Engine {
            doc_id,
            doc,
            body,
            status: ArcRwSignal::new(status::derive(&facts)),
            peers: ArcRwSignal::new(Vec::new()),
            ready: ArcRwSignal::new(false),
            queue: RefCell::new(Vec::new()),
            st: RefCell::new(State {
                token,
                facts,
                presence: Some(presence),
                refs: 1,
                ..State::default()
            }),
            on_status,
        });
        let weak = SendWrapper::new(Rc::downgrade(&engine));
        let observed = engine.doc.observe_update_v1(OBSERVER, move |txn, event| {
            let origin = txn.origin();
            if origin == Some(&Origin::from(STORE_ORIGIN)) {
                return;
            }
            let local = origin != Some(&Origin::from(REMOTE_ORIGIN));
            if let Some(engine) = weak.upgrade() {
                engine
                    .queue
                    .borrow_mut()
                    .push((event.update.clone(), local));
                if local {
                    engine.publish();
                }
                spawn_flush(&engine);
            }
        });
        if observed.is_err() {
            web::warn("sync: could not observe the document; local edits will not be saved");
        }
        engine
    }

    /// Loads the local state, then connects.
    pub fn start(self: &Rc<Engine>) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move { engine.load().await });
        let weak = Rc::downgrade(self);
        self.st.borrow_mut().heartbeat = Interval::new(TICK_MS, move || {
            if let Some(engine) = weak.upgrade() {
                engine.tick();
            }
        });
    }

    async fn load(self: Rc<Engine>) {
        let stored = store::load(self.doc_id).await;
        let creation = super::creations::pending_for(self.doc_id).await;
        let mut restored = Outbox::default();
        let (mut log_seq, mut log_rows) = (1, 0);
        match stored {
            Ok(stored) => {
                let rows = stored.state.iter().map(Vec::as_slice);
                let rows = rows.chain(stored.log.iter().map(|(_, u)| u.as_slice()));
                let rows = rows.chain(stored.outbox.iter().map(|(_, _, u)| u.as_slice()));
                for bytes in rows {
                    if let Err(e) = self.apply(bytes, STORE_ORIGIN) {
                        web::warn(&format!(
                            "sync: a stored update of {} is skipped: {e}",
                            self.doc_id
                        ));
                    }
                }
                log_seq = stored.log.last().map_or(1, |(s, _)| s + 1);
                log_rows = stored.log.len() as u32;
                restored = Outbox::restore(stored.outbox.iter().map(|(s, c, _)| (*s, *c)));
            }
            Err(e) => web::warn(&format!("sync: working without local storage: {e}")),
        }
        {
            let mut st = self.st.borrow_mut();
            st.outbox = restored;
            st.log_seq = log_seq;
            st.log_rows = log_rows;
            st.creation = creation;
            st.facts.loading = false;
        }
        self.ready.set(true);
        self.publish();
        self.clone().flush().await;
        self.connect();
    }

    /// Applies untrusted update bytes (guarded decode) with `origin`.
    /// The same function the server's fuzz targets run (`sync::apply_remote`).
    pub(super) fn apply(&self, bytes: &[u8], origin: &str) -> Result<(), sync::SyncError> {
        sync::apply_remote(&self.doc, bytes, origin)
    }

    /// The writer: persists queued updates batch by batch, then sends local ones.
    /// The UI closed the document: leave presence now, and stop once nothing
    /// is pending (unsent changes keep going out in the background).
    pub fn close(self: &Rc<Engine>) {
        {
            let mut st = self.st.borrow_mut();
            st.refs = st.refs.saturating_sub(1);
            if st.refs > 0 || st.closed {
                return;
            }
            st.closing = true;
            st.presence_timer = None;
            if let Some(bytes) = st.presence.as_mut().map(Presence::encode_removal) {
                send(&st, &Message::Awareness(bytes));
            }
            st.presence.as_mut().map(Presence::clear);
        }
        self.refresh_peers();
        self.finish_close_if_done();
    }

    /// Shuts a closing engine down once nothing more can be delivered: all is
    /// acknowledged, or the server will never accept the rest (it stays stored).
    pub(super) fn finish_close_if_done(self: &Rc<Engine>) {
        let done = {
            let st = self.st.borrow();
            // Until the stored outbox is loaded, an empty outbox means "not known yet".
            let idle = !st.writing && !st.facts.loading && self.queue.borrow().is_empty();
            let refused = st.facts.read_only.is_some() || st.denied.is_some();
            let delivered = st.outbox.is_empty() && st.creation.is_none();
            st.closing && !st.closed && idle && (delivered || refused)
        };
        if done {
            self.shutdown();
        }
    }

    /// Opened again while closing: back to a normal open document.
    pub fn reopen(self: &Rc<Engine>) {
        let mut st = self.st.borrow_mut();
        st.refs += 1;
        st.closing = false;
        drop(st);
        self.send_presence();
    }

    pub(super) fn shutdown(self: &Rc<Engine>) {
        {
            let mut st = self.st.borrow_mut();
            st.closed = true;
            st.socket = None;
            st.retry = None;
            st.heartbeat = None;
            st.presence_timer = None;
        }
        let _ = self.doc.unobserve_update_v1(OBSERVER);
        super::provider::unregister(self);
    }

    /// Recomputes the peers signal (cursors resolved against the document now).
    pub(super) fn refresh_peers(&self) {
        let peers = match self.st.try_borrow() {
            Ok(st) => st.presence.as_ref().map(|p| p.peers(&self.doc)),
            Err(_) => return,
        };
        let peers = peers.unwrap_or_default();
        if self.peers.get_untracked() != peers {
            self.peers.set(peers);
        }
    }

    /// Recomputes this document's status and the overall one.
    pub fn publish(&self) {
        let status = {
            // Called from the update observer too: skip if the state is busy
            // (the writer publishes again right after).
            let (Ok(st), Ok(queue)) = (self.st.try_borrow(), self.queue.try_borrow()) else {
                return;
            };
            let mut facts = st.facts.clone();
            let queued = queue.iter().filter(|q| q.1).count();
            facts.pending = st.outbox.pending() + st.in_flight + queued;
            facts.unsaved = st.outbox.unsaved();
            facts.unregistered = st.creation.is_some();
            if facts.read_only.is_none() {
                facts.read_only = st.denied.clone();
            }
            status::derive(&facts)
        };
        if self.status.get_untracked() != status {
            self.status.set(status);
            (self.on_status)();
        }
    }
}

/// Sends one frame on the current socket, if any.
pub(super) fn send(st: &State, msg: &Message) -> bool {
    st.socket.as_ref().is_some_and(|s| s.send(&msg.encode()))
}
