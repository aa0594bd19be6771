//! The public handle on an open document, the page-wide registry of engines,
//! and the overall status.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::{ArcRwSignal, GetUntracked, Set, Signal};
use send_wrapper::SendWrapper;
use xieshang_shared::{DocId, User};
use yrs::{Doc, TextRef};

use super::engine::Engine;
use super::presence::PeerPresence;
use super::status::{self, SyncStatus};
use super::{store, web};

thread_local! {
    /// Every engine of the page, open or still sending after `close`.
    static ENGINES: RefCell<HashMap<DocId, Rc<Engine>>> = RefCell::new(HashMap::new());
    /// All documents together, recomputed whenever one of them changes.
    static OVERALL: ArcRwSignal<SyncStatus> = ArcRwSignal::new(status::combine([], !web::browser_online()));
    /// Whether the `online`/`offline` listeners are registered.
    static LISTENING: Cell<bool> = const { Cell::new(false) };
}

/// The sync engine of one document, as the UI holds it.
///
/// Cheap to clone; `Send + Sync` through [`SendWrapper`] so it can live in
/// leptos views and contexts (the app is single-threaded wasm: using it from
/// another thread would panic, and there is none).
#[derive(Clone)]
pub struct Provider {
    engine: SendWrapper<Rc<Engine>>,
}

impl Provider {
    /// Opens (or reuses) the provider of a document: loads local state from
    /// IndexedDB, then connects to `ws(s)://host/sync/{doc_id}?token=…&ext=1`.
    ///
    /// Every `open` needs one [`Provider::close`]. Reusing an open document
    /// with another token switches it to that token.
    pub fn open(doc_id: DocId, token: String, me: &User) -> Provider {
        listen_to_network();
        if let Some(engine) = ENGINES.with(|e| e.borrow().get(&doc_id).cloned()) {
            engine.reopen();
            if engine.st.borrow().token != token {
                engine.set_token(token);
            }
            return Provider {
                engine: SendWrapper::new(engine),
            };
        }
        let engine = Engine::new(doc_id, token, me, publish_overall);
        ENGINES.with(|e| e.borrow_mut().insert(doc_id, engine.clone()));
        engine.start();
        publish_overall();
        Provider {
            engine: SendWrapper::new(engine),
        }
    }

    /// The document. Edit it with `transact_mut()`; the engine saves and sends
    /// every local transaction. Remote updates arrive with origin [`super::REMOTE_ORIGIN`].
    pub fn doc(&self) -> Doc {
        self.engine.doc.clone()
    }

    /// Which document this is.
    pub fn doc_id(&self) -> DocId {
        self.engine.doc_id
    }

    /// This document's sync status.
    pub fn status(&self) -> Signal<SyncStatus> {
        Signal::from(self.engine.status.clone())
    }

    /// True once the state stored in IndexedDB is in the document: before
    /// that the document may look empty, so do not seed it with defaults.
    pub fn ready(&self) -> Signal<bool> {
        Signal::from(self.engine.ready.clone())
    }

    /// Moves our caret to `(anchor, head)`, UTF-16 indices in the body text
    /// (`Y.Text "body"` of drafts and opinion reports). Throttled.
    pub fn set_cursor(&self, anchor: u32, head: u32) {
        let body = self.engine.body.clone();
        self.engine.set_cursor(&body, anchor, head);
    }

    /// Like [`Provider::set_cursor`] in another text of the document (e.g. a
    /// record's summary, from `Record::summary_ref`).
    pub fn set_cursor_in(&self, text: &TextRef, anchor: u32, head: u32) {
        self.engine.set_cursor(text, anchor, head);
    }

    /// The other members present, with their carets resolved against our text.
    pub fn peers(&self) -> Signal<Vec<PeerPresence>> {
        Signal::from(self.engine.peers.clone())
    }

    /// After signing in again: reconnects with the new token, keeping the
    /// outbox. Applies to every document of the page (including closed ones
    /// still sending), since a session covers them all.
    pub fn set_token(&self, token: String) {
        set_token(token);
    }

    /// Leaves the document: presence is removed at once; the connection stays
    /// until every local change is acknowledged, then the engine stops.
    pub fn close(&self) {
        self.engine.close();
    }
}

/// Gives every engine of the page a new session token (see [`Provider::set_token`]).
pub fn set_token(token: String) {
    for engine in engines() {
        engine.set_token(token.clone());
    }
}

/// All open documents together: offline if any is, else syncing if any is,
/// else synced; `pending` is the sum. With nothing open, offline follows the
/// browser's `navigator.onLine`.
pub fn overall_status() -> Signal<SyncStatus> {
    listen_to_network();
    Signal::from(OVERALL.with(Clone::clone))
}

/// Reopens, in the background, every document with unacknowledged changes in
/// IndexedDB or a creation not yet registered, so they reach the server after a reload even if the member does
/// not open them again; each stops once its outbox is empty. Call it after
/// the session is known (at start and after signing in).
pub fn resume_pending(token: String, me: User) {
    wasm_bindgen_futures::spawn_local(async move {
        let mut docs = match store::pending_docs().await {
            Ok(docs) => docs,
            Err(e) => return web::warn(&format!("sync: cannot list pending documents: {e}")),
        };
        // Documents created here go out too, edited or not.
        for c in super::creations::pending().await {
            if c.refused.is_none() && !docs.contains(&c.doc) {
                docs.push(c.doc);
            }
        }
        for doc in docs {
            let open = ENGINES.with(|e| e.borrow().contains_key(&doc));
            if !open {
                Provider::open(doc, token.clone(), &me).close();
            }
        }
    });
}

/// Stops every engine at once (sign-out, tests): sockets close, nothing more
/// is sent, and what is unacknowledged stays in IndexedDB for the next start.
/// Handles still held keep their `Doc` but no longer sync.
pub fn shutdown_all() {
    for engine in engines() {
        engine.shutdown();
    }
}

/// Points the engine at a server on another origin (`http://host:port`);
/// `None` returns to the page's own origin. For tests and development setups.
pub fn set_server_origin(origin: Option<&str>) {
    web::set_server_origin(origin.map(str::to_owned));
}

fn engines() -> Vec<Rc<Engine>> {
    ENGINES.with(|e| e.borrow().values().cloned().collect())
}

/// Removes a stopped engine from the registry.
pub(crate) fn unregister(engine: &Rc<Engine>) {
    ENGINES.with(|e| {
        let mut engines = e.borrow_mut();
        if engines
            .get(&engine.doc_id)
            .is_some_and(|x| Rc::ptr_eq(x, engine))
        {
            engines.remove(&engine.doc_id);
        }
    });
    publish_overall();
}

fn publish_overall() {
    let statuses: Vec<SyncStatus> = engines().iter().map(|e| e.status.get_untracked()).collect();
    let all = status::combine(&statuses, !web::browser_online());
    OVERALL.with(|o| {
        if o.get_untracked() != all {
            o.set(all);
        }
    });
}

fn listen_to_network() {
    if LISTENING.with(|l| l.replace(true)) {
        return;
    }
    web::on_network_change(|online| {
        for engine in engines() {
            engine.network_changed(online);
        }
        publish_overall();
    });
}
