//! Open collaborative documents: one owner task per document.
//!
//! # Layout
//! - [`Registry`] (this file): finds or starts a document's owner; the only
//!   shared map, touched at connect and eviction, never per message.
//! - `actor`: the owner task. It applies incoming updates (panics in yrs contained),
//!   hands them to the writer, and only after the commit acknowledges them and fans
//!   them out. It compacts the log and evicts itself when idle.
//! - `writer`: one task per server that commits the updates of all documents
//!   waiting at that moment in one transaction (group commit).
//! - `presence`: awareness states per document, bounded per connection.
//! - `hooks`: what canonical records need from an owner: read-only refusals,
//!   the authors of an update, server-made edits (restore).
//!
//! Why a task per document rather than a lock: the owner must await the commit
//! before acknowledging, and a task lets updates arriving meanwhile queue up and be
//! committed together in the next round, instead of holding a lock across `.await`.

mod actor;
mod hooks;
pub(crate) mod presence;
mod writer;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};
use xieshang_shared::protocol::Message;
use xieshang_shared::{DocId, UserId};

use crate::config::Config;
use crate::db::queries::docs::DocInfo;
use crate::db::Db;
use crate::records::DocState;

pub use writer::Writer;

/// Why a document operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("no such document")]
    NotFound,
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("the document is busy; try again")]
    Busy,
    #[error("the document was closed")]
    Closed,
    /// The document is finalized (read-only): nothing may change it.
    #[error("the document is finalized and read-only")]
    ReadOnly,
    /// The document moved on from the version the caller named.
    #[error("the document is at version {current}, not the one named")]
    Stale { current: String },
    /// A server-made edit failed (yrs refused or panicked); nothing was applied.
    #[error("server edit failed: {0}")]
    Edit(String),
}

/// Identifies one WebSocket connection for the life of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// A WebSocket close code and reason, sent when the server ends a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

/// Close codes used on `/sync` (DESIGN.md names 44xx; the rest are RFC 6455).
pub mod close {
    /// The server is shutting down; reconnect later.
    pub const GOING_AWAY: u16 = 1001;
    /// Text frames or other data that is not the protocol.
    pub const UNSUPPORTED: u16 = 1003;
    /// Bytes that do not decode, or an update the CRDT rejected.
    pub const MALFORMED: u16 = 1007;
    /// Storage failed; nothing unacknowledged was kept.
    pub const INTERNAL: u16 = 1011;
    /// The connection could not keep up (outbound queue full); reconnect to resync.
    pub const TRY_AGAIN: u16 = 1013;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const NOT_FOUND: u16 = 4404;
    pub const TOO_LARGE: u16 = 4413;
    pub const TOO_FAST: u16 = 4429;
}

/// What the document owner knows of one connection.
pub struct Peer {
    pub id: ConnId,
    pub user: UserId,
    /// The user's display name: what presence shows, whatever the client says.
    pub name: String,
    /// Whether the client asked for our extension messages (acks, read-only).
    pub ext: bool,
    /// Bounded queue of encoded messages to this connection.
    pub out: mpsc::Sender<Bytes>,
    /// Set once to make the connection close with this reason.
    pub closer: Arc<watch::Sender<Option<CloseReason>>>,
}

impl Peer {
    /// Asks the connection to close; idempotent (the first reason wins).
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        request_close(&self.closer, code, reason);
    }
}

/// Asks a connection to close through its close signal; the first reason wins, so
/// the most specific cause (e.g. "too large") is what the client sees.
pub fn request_close(
    closer: &watch::Sender<Option<CloseReason>>,
    code: u16,
    reason: impl Into<String>,
) {
    let reason = reason.into();
    closer.send_if_modified(|slot| {
        if slot.is_none() {
            *slot = Some(CloseReason { code, reason });
            true
        } else {
            false
        }
    });
}

/// Commands to a document owner.
pub(crate) enum DocCmd {
    Join(Peer, oneshot::Sender<()>),
    Leave(ConnId),
    /// A connection's message, holding its share of the document's in-flight
    /// budget until the owner has handled it.
    Message(ConnId, Message, OwnedSemaphorePermit),
    Content(oneshot::Sender<serde_json::Value>),
    /// The committed state named and rendered (canonical records), answered
    /// after this round's commit like `Content`.
    Snapshot(oneshot::Sender<DocState>),
    /// An edit made by the server for a user (restore, see [`ServerEdit`]).
    ServerEdit(ServerEdit),
    /// Freezing at a version (finalization, and later submission).
    Freeze(Freeze),
    Shutdown,
}

/// The one way a document becomes read-only: if it is at `expect_version` once
/// everything before this command is committed, `commit` stores what the freeze
/// means (the finalized version, say) while the owner handles nothing else; the
/// document is frozen exactly when `commit` answers `true`. There is no unfreeze:
/// a failed commit leaves the document as it was, and a second freeze finds it
/// read-only ([`DocError::ReadOnly`]).
pub(crate) struct Freeze {
    pub expect_version: String,
    pub commit: Box<dyn FnOnce(DocState) -> BoxFuture<'static, bool> + Send>,
    /// `Ok` once `commit` ran (its own outcome travels through its own channel).
    pub reply: oneshot::Sender<Result<(), DocError>>,
}

/// A change the server makes on a user's behalf. The owner runs `edit` on a
/// scratch copy of the document under a fresh yrs client id (so authorship maps
/// that id to `user`), then applies, commits and fans out the resulting update
/// like any client's, and answers with the state after the commit.
pub(crate) struct ServerEdit {
    pub user: UserId,
    pub edit: Box<dyn FnOnce(&yrs::Doc) + Send>,
    pub reply: oneshot::Sender<Result<DocState, DocError>>,
}

/// A handle to send one connection's messages to its document's owner.
#[derive(Clone)]
pub struct DocLink {
    conn: ConnId,
    tx: mpsc::Sender<DocCmd>,
    /// Bytes of messages the document may hold waiting (all its connections).
    budget: Arc<Semaphore>,
    budget_max: usize,
}

impl DocLink {
    /// Delivers a decoded message; waits when the owner is behind (backpressure
    /// reaches the socket). `Err` means the owner is gone: close and resync.
    /// `bytes` is the message's size on the wire: it is held against the
    /// document's in-flight budget (waiting when that is spent) until the owner
    /// has handled the message, so what floods of large messages can pin in
    /// memory is bounded per document, not only per connection.
    pub async fn send(&self, msg: Message, bytes: usize) -> Result<(), DocError> {
        let want = u32::try_from(bytes.clamp(1, self.budget_max)).unwrap_or(u32::MAX);
        let permit = self
            .budget
            .clone()
            .acquire_many_owned(want)
            .await
            .map_err(|_| DocError::Closed)?;
        self.tx
            .send(DocCmd::Message(self.conn, msg, permit))
            .await
            .map_err(|_| DocError::Closed)
    }

    /// Tells the owner the connection ended (presence removal); best effort.
    pub async fn leave(&self) {
        let _ = self.tx.send(DocCmd::Leave(self.conn)).await;
    }
}

/// Settings the owners need, copied out of [`Config`].
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub idle_evict: Duration,
    pub compact_every: u64,
    pub max_inflight_bytes: usize,
    pub max_awareness_bytes: usize,
}

struct Inner {
    db: Db,
    writer: Writer,
    limits: Limits,
    docs: Mutex<HashMap<DocId, Owner>>,
    next_conn: AtomicU64,
}

/// What the registry keeps of a running owner.
struct Owner {
    tx: mpsc::Sender<DocCmd>,
    budget: Arc<Semaphore>,
}

/// The open documents. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

/// Queue depth of a document owner's inbox.
const INBOX: usize = 4096;

impl Registry {
    /// Starts the group-commit writer; owners start on first use.
    pub fn new(db: Db, config: &Config) -> Registry {
        let limits = Limits {
            idle_evict: Duration::from_secs(config.idle_evict_secs),
            compact_every: config.compact_every.max(1),
            max_inflight_bytes: config
                .max_inflight_bytes_per_doc
                .clamp(1 << 20, Semaphore::MAX_PERMITS.min(u32::MAX as usize)),
            max_awareness_bytes: config.max_awareness_bytes,
        };
        let writer = Writer::start(db.clone());
        let inner = Inner {
            db,
            writer,
            limits,
            docs: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
        };
        Registry {
            inner: Arc::new(inner),
        }
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.inner.next_conn.fetch_add(1, Ordering::Relaxed))
    }

    /// Joins a connection to the document (loading it if needed). The owner sends
    /// the opening sync messages to `peer.out` before this returns.
    pub async fn join(&self, info: &DocInfo, peer: Peer) -> Result<DocLink, DocError> {
        let conn = peer.id;
        let (done_tx, done_rx) = oneshot::channel();
        let (tx, budget) = self
            .send_to_owner(info, DocCmd::Join(peer, done_tx))
            .await?;
        done_rx.await.map_err(|_| DocError::Closed)?;
        Ok(DocLink {
            conn,
            tx,
            budget,
            budget_max: self.inner.limits.max_inflight_bytes,
        })
    }

    /// The typed view of a document's committed content as JSON.
    pub async fn content(&self, info: &DocInfo) -> Result<serde_json::Value, DocError> {
        let (tx, rx) = oneshot::channel();
        self.send_to_owner(info, DocCmd::Content(tx)).await?;
        rx.await.map_err(|_| DocError::Closed)
    }

    /// The committed state of a document: version, canonical text, state bytes.
    pub async fn snapshot(&self, info: &DocInfo) -> Result<DocState, DocError> {
        let (tx, rx) = oneshot::channel();
        self.send_to_owner(info, DocCmd::Snapshot(tx)).await?;
        rx.await.map_err(|_| DocError::Closed)
    }

    /// Applies `edit` as a new update by `user` (see [`ServerEdit`]); answers the
    /// state once it is committed. [`DocError::ReadOnly`] for a finalized document.
    pub async fn server_edit(
        &self,
        info: &DocInfo,
        user: UserId,
        edit: Box<dyn FnOnce(&yrs::Doc) + Send>,
    ) -> Result<DocState, DocError> {
        let (reply, rx) = oneshot::channel();
        let cmd = DocCmd::ServerEdit(ServerEdit { user, edit, reply });
        self.send_to_owner(info, cmd).await?;
        rx.await.map_err(|_| DocError::Closed)?
    }

    /// Freezes the document at `expect_version` by running `commit` on its
    /// state (see [`Freeze`]); the document is read-only from then on exactly
    /// when `commit` succeeds. Answers `commit`'s result, or
    /// [`DocError::Stale`] when the document moved on and
    /// [`DocError::ReadOnly`] when it was frozen already (`commit` did not run).
    pub async fn freeze<T, E, F, Fut>(
        &self,
        info: &DocInfo,
        expect_version: String,
        commit: F,
    ) -> Result<Result<T, E>, DocError>
    where
        F: FnOnce(DocState) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (out_tx, out_rx) = oneshot::channel();
        let commit = Box::new(move |state: DocState| -> BoxFuture<'static, bool> {
            Box::pin(async move {
                let result = commit(state).await;
                let ok = result.is_ok();
                let _ = out_tx.send(result);
                ok
            })
        });
        let (reply, rx) = oneshot::channel();
        let cmd = DocCmd::Freeze(Freeze {
            expect_version,
            commit,
            reply,
        });
        self.send_to_owner(info, cmd).await?;
        rx.await.map_err(|_| DocError::Closed)??;
        out_rx.await.map_err(|_| DocError::Closed)
    }

    /// How many documents are open (for tests and metrics).
    pub fn open_count(&self) -> usize {
        self.inner.docs.lock().map(|d| d.len()).unwrap_or(0)
    }

    /// Asks every owner to finish its current commit, close its connections and stop.
    pub async fn shutdown(&self) {
        let owners: Vec<mpsc::Sender<DocCmd>> = match self.inner.docs.lock() {
            Ok(mut docs) => docs.drain().map(|(_, o)| o.tx).collect(),
            Err(_) => Vec::new(),
        };
        for tx in &owners {
            let _ = tx.send(DocCmd::Shutdown).await;
        }
        for tx in owners {
            tx.closed().await;
        }
    }

    /// Sends `cmd` to the owner of `info.id`, starting it if none runs. The map
    /// lock is held only for the lookup and a non-blocking send, so an owner that
    /// evicts itself (under the same lock, with an empty inbox) cannot lose it.
    async fn send_to_owner(
        &self,
        info: &DocInfo,
        mut cmd: DocCmd,
    ) -> Result<(mpsc::Sender<DocCmd>, Arc<Semaphore>), DocError> {
        for _ in 0..200 {
            let attempt = {
                let mut docs = self.inner.docs.lock().map_err(|_| DocError::Closed)?;
                let (tx, budget) = match docs.get(&info.id) {
                    Some(o) if !o.tx.is_closed() => (o.tx.clone(), o.budget.clone()),
                    _ => {
                        let tx = actor::spawn(self.clone(), info.clone());
                        let budget = Arc::new(Semaphore::new(self.inner.limits.max_inflight_bytes));
                        let owner = Owner {
                            tx: tx.clone(),
                            budget: budget.clone(),
                        };
                        docs.insert(info.id, owner);
                        (tx, budget)
                    }
                };
                match tx.try_send(cmd) {
                    Ok(()) => return Ok((tx, budget)),
                    Err(mpsc::error::TrySendError::Full(c)) => c,
                    Err(mpsc::error::TrySendError::Closed(c)) => {
                        docs.remove(&info.id);
                        c
                    }
                }
            };
            cmd = attempt;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err(DocError::Busy)
    }

    /// Called by an idle owner: removes it from the map only if nothing is queued
    /// for it, atomically with respect to `send_to_owner`.
    pub(crate) fn try_evict(&self, id: DocId, inbox: &mpsc::Receiver<DocCmd>) -> bool {
        let Ok(mut docs) = self.inner.docs.lock() else {
            return false;
        };
        if !inbox.is_empty() {
            return false;
        }
        docs.remove(&id);
        true
    }

    /// Forgets an owner that stopped on its own (storage failure, shutdown).
    pub(crate) fn forget(&self, id: DocId, tx: &mpsc::Sender<DocCmd>) {
        if let Ok(mut docs) = self.inner.docs.lock() {
            if docs.get(&id).is_some_and(|o| o.tx.same_channel(tx)) {
                docs.remove(&id);
            }
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.inner.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_documents_in_flight_bytes_are_bounded() {
        let (tx, mut owner) = mpsc::channel(16);
        let link = DocLink {
            conn: ConnId(1),
            tx,
            budget: Arc::new(Semaphore::new(100)),
            budget_max: 100,
        };
        assert!(link.send(Message::QueryAwareness, 60).await.is_ok());
        // A second message waits while the first still holds its bytes…
        let second = link.send(Message::QueryAwareness, 60);
        tokio::pin!(second);
        let waited = tokio::time::timeout(Duration::from_millis(50), &mut second).await;
        assert!(
            waited.is_err(),
            "the budget did not hold the second message back"
        );
        // …and goes once the owner has handled the first.
        drop(owner.recv().await);
        assert!(second.await.is_ok());
        // One message larger than the whole budget takes all of it, not forever.
        drop(owner.recv().await);
        assert!(link.send(Message::QueryAwareness, 10_000).await.is_ok());
    }
}
