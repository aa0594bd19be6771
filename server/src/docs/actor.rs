//! The owner of one open document.
//!
//! It works in rounds: take every command waiting in the inbox, apply what they
//! carry to the in-memory `Doc`, commit the accepted updates through the writer,
//! and only then acknowledge them, fan them out and answer sync requests. While a
//! round's commit is in flight the next round's commands queue up, which is where
//! group commit comes from without any timer.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use xieshang_shared::protocol::{ExtMessage, Message, SyncMessage};
use xieshang_shared::{schema, sync, UserId};
use yrs::{Doc, StateVector};

use super::hooks::{self, read_only_message};
use super::presence::{Presence, Speaker};
use super::{close, ConnId, DocCmd, DocError, Freeze, Peer, Registry, ServerEdit, INBOX};
use crate::db::queries::docs::{self, DocInfo, NewUpdate};
use crate::db::queries::versions;
use crate::records::{self, canonical, DocState};

/// The origin of server-made edits: no connection has id 0, so all peers get them.
const SERVER: ConnId = ConnId(0);

/// Most commands handled in one round.
const ROUND: usize = 512;

/// Starts the owner of `info` and returns its inbox.
pub(super) fn spawn(reg: Registry, info: DocInfo) -> mpsc::Sender<DocCmd> {
    let (tx, rx) = mpsc::channel(INBOX);
    let me = tx.downgrade();
    tokio::spawn(async move {
        let id = info.id;
        match Owner::load(reg.clone(), info).await {
            Ok(owner) => owner.run(rx).await,
            Err(e) => tracing::error!(doc = %id, error = %e, "loading document failed"),
        }
        if let Some(me) = me.upgrade() {
            reg.forget(id, &me);
        }
    });
    tx
}

struct Owner {
    reg: Registry,
    info: DocInfo,
    doc: Doc,
    /// Sequence number of the next log row.
    next_seq: i64,
    /// Updates logged since the last snapshot (a row holds one or a folded burst).
    since_snapshot: u64,
    peers: HashMap<ConnId, Joined>,
    presence: Presence,
    /// Finalized: every update that would change the document is refused.
    read_only: bool,
    /// Who owns each yrs client id: the first user who wrote with it. An update
    /// with new content under another user's client id is refused, so what
    /// authorship says is what each member wrote.
    authors: HashMap<u64, UserId>,
    /// Storage could not give the document back after a failure: stop serving it.
    broken: bool,
}

struct Joined {
    peer: Peer,
    /// Update-carrying messages received from this connection (what an ack counts).
    received: u64,
    /// The presence epoch when it joined (see [`Speaker::joined`]).
    joined: u64,
}

/// What one round accepted and owes, settled after its commit.
#[derive(Default)]
struct Round {
    updates: Vec<NewUpdate>,
    /// Encoded update messages with the connection they came from (not echoed to it).
    fanout: Vec<(ConnId, Bytes)>,
    to_ack: HashSet<ConnId>,
    /// Sync step 1 requests, answered after the commit so peers only ever see durable state.
    step1: Vec<(ConnId, StateVector)>,
    content: Vec<oneshot::Sender<serde_json::Value>>,
    /// Snapshot requests, answered after the commit.
    snapshots: Vec<oneshot::Sender<DocState>>,
    /// A freeze ends its round: it runs after the round's commit, and whatever
    /// came after it waits for the next round, so no update can slip in between.
    freeze: Option<Freeze>,
    /// Server edits and freezes that succeeded, answered after the commit.
    changed: Vec<oneshot::Sender<Result<DocState, DocError>>>,
    /// A panic inside yrs may have left the in-memory document inconsistent.
    damaged: bool,
    shutdown: bool,
    /// Further updates from the connection whose update is last in `updates`:
    /// folded (merged by yrs, losslessly) into that one log row and one fan-out
    /// message before the commit, so a burst costs one row, not one per update.
    tail: Vec<Vec<u8>>,
    /// That connection; none after a server edit.
    last_conn: Option<ConnId>,
    /// Updates folded into rows this round: they count toward compaction like
    /// rows do, since loading replays them all.
    folded: u64,
}

impl Owner {
    async fn load(reg: Registry, info: DocInfo) -> Result<Owner, sqlx::Error> {
        let (doc, next_seq, since_snapshot) = load_doc(&reg, &info).await?;
        let authors = docs::authors(reg.db(), info.id)
            .await?
            .into_iter()
            .collect();
        let read_only = info.finalized;
        Ok(Owner {
            authors,
            broken: false,
            reg,
            info,
            doc,
            next_seq,
            since_snapshot,
            peers: HashMap::new(),
            presence: Presence::default(),
            read_only,
        })
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<DocCmd>) {
        let mut cmds = Vec::with_capacity(ROUND);
        loop {
            let got = if self.peers.is_empty() {
                match tokio::time::timeout(
                    self.reg.limits().idle_evict,
                    inbox.recv_many(&mut cmds, ROUND),
                )
                .await
                {
                    Ok(n) => n,
                    Err(_) => {
                        // Compact while still registered, so a new owner can only
                        // load after this one's snapshot (never before it).
                        self.compact_if_dirty(1).await;
                        if self.reg.try_evict(self.info.id, &inbox) {
                            tracing::debug!(doc = %self.info.id, "evicted idle document");
                            return;
                        }
                        continue;
                    }
                }
            } else {
                inbox.recv_many(&mut cmds, ROUND).await
            };
            if got == 0 {
                return;
            }
            let mut round = Round::default();
            let mut shutdown = false;
            for cmd in cmds.drain(..) {
                let barrier = matches!(cmd, DocCmd::Freeze(_));
                self.handle(cmd, &mut round);
                if barrier {
                    let done = std::mem::take(&mut round);
                    shutdown |= done.shutdown;
                    if !self.settle(done).await {
                        return;
                    }
                }
            }
            shutdown |= round.shutdown;
            if !self.settle(round).await {
                return;
            }
            if shutdown {
                for (_, j) in self.peers.drain() {
                    j.peer.close(close::GOING_AWAY, "server shutting down");
                }
                return;
            }
            self.compact_if_dirty(self.reg.limits().compact_every).await;
            if self.broken {
                return;
            }
        }
    }

    fn handle(&mut self, cmd: DocCmd, round: &mut Round) {
        match cmd {
            DocCmd::Join(peer, done) => self.join(peer, done),
            DocCmd::Leave(conn) => self.drop_peer(conn, None),
            DocCmd::Message(conn, msg, budget) => {
                self.message(conn, msg, round);
                drop(budget);
            }
            DocCmd::Content(reply) => round.content.push(reply),
            DocCmd::Snapshot(reply) => round.snapshots.push(reply),
            DocCmd::ServerEdit(edit) => self.server_edit(edit, round),
            DocCmd::Freeze(freeze) => round.freeze = Some(freeze),
            DocCmd::Shutdown => round.shutdown = true,
        }
    }

    /// Runs a server edit on a scratch copy under a fresh client id and applies
    /// the resulting update as if `edit.user` had sent it (see [`ServerEdit`]).
    fn server_edit(&mut self, edit: ServerEdit, round: &mut Round) {
        let ServerEdit { user, edit, reply } = edit;
        if self.read_only {
            let _ = reply.send(Err(DocError::ReadOnly));
            return;
        }
        let made = hooks::run_edit(&self.doc, edit);
        match made {
            Ok((bytes, client)) => {
                self.authors.insert(client, user);
                self.fold(round);
                round
                    .fanout
                    .push((SERVER, Message::update(bytes.clone()).encode().into()));
                round.updates.push(NewUpdate {
                    seq: self.next_seq,
                    data: bytes,
                    user: Some(user),
                    clients: vec![client],
                });
                self.next_seq += 1;
                round.changed.push(reply);
            }
            Err(e) => {
                // Only a decode error leaves the document untouched.
                round.damaged |= !matches!(e, sync::SyncError::Decode(_));
                tracing::warn!(doc = %self.info.id, error = %e, "server edit failed");
                let _ = reply.send(Err(DocError::Edit(e.to_string())));
            }
        }
    }

    /// Runs a freeze (see [`Freeze`]) once everything before it is committed:
    /// if the document is still at the version named, the caller's commit runs
    /// while this owner handles nothing else, and only its success freezes the
    /// document. A failed commit leaves it as it was; it was never frozen.
    async fn freeze(&mut self, freeze: Freeze) {
        let Freeze {
            expect_version,
            commit,
            reply,
        } = freeze;
        if self.read_only {
            let _ = reply.send(Err(DocError::ReadOnly));
            return;
        }
        let kind = self.info.kind;
        let Some(state) = self.read(|doc| records::describe(kind, doc)).await else {
            let _ = reply.send(Err(DocError::Closed));
            return;
        };
        if state.version != expect_version {
            let _ = reply.send(Err(DocError::Stale {
                current: state.version,
            }));
            return;
        }
        if commit(state).await {
            self.read_only = true;
            let notice = read_only_message(true).encode();
            let ext: Vec<ConnId> = self
                .peers
                .iter()
                .filter(|(_, j)| j.peer.ext)
                .map(|(c, _)| *c)
                .collect();
            for conn in ext {
                self.send(conn, notice.clone().into());
            }
        }
        let _ = reply.send(Ok(()));
    }

    fn join(&mut self, peer: Peer, done: oneshot::Sender<()>) {
        let id = peer.id;
        let sv = sync::state_vector(&self.doc);
        let ext = peer.ext;
        let joined = self.presence.epoch();
        self.peers.insert(
            id,
            Joined {
                peer,
                received: 0,
                joined,
            },
        );
        self.send(id, Message::step1(sv).encode().into());
        if self.read_only && ext {
            self.send(id, read_only_message(true).encode().into());
        }
        if let Some(all) = self.presence.encode_all() {
            self.send(id, Message::Awareness(all).encode().into());
        }
        let _ = done.send(());
    }

    fn message(&mut self, conn: ConnId, msg: Message, round: &mut Round) {
        if !self.peers.contains_key(&conn) {
            return; // already dropped (closed as too slow or malformed)
        }
        match msg {
            Message::Sync(SyncMessage::Step1(sv)) => match sync::decode_state_vector(&sv) {
                Ok(sv) => round.step1.push((conn, sv)),
                Err(e) => self.drop_peer(
                    conn,
                    Some((close::MALFORMED, format!("bad state vector: {e}"))),
                ),
            },
            Message::Sync(SyncMessage::Step2(update))
            | Message::Sync(SyncMessage::Update(update)) => self.update(conn, update, round),
            Message::Awareness(bytes) => self.awareness(conn, bytes),
            Message::QueryAwareness => {
                if let Some(all) = self.presence.encode_all() {
                    self.send(conn, Message::Awareness(all).encode().into());
                }
            }
            // Auth and extension messages are server-to-client only (pings are answered by the session).
            Message::Auth(_) | Message::Ext(_) => {}
        }
    }

    fn update(&mut self, conn: ConnId, bytes: Vec<u8>, round: &mut Round) {
        let Some(joined) = self.peers.get_mut(&conn) else {
            return;
        };
        joined.received += 1;
        let user = joined.peer.user;
        let ext = joined.peer.ext;
        let mut clients = Vec::new();
        let mut empty = false;
        let mut foreign = None;
        let applied = sync::decode_update(&bytes).and_then(|u| {
            if self.read_only {
                return Ok(hooks::changes_anything(&self.doc, &u));
            }
            // The SyncStep2 of a client with nothing new (every connect): acked,
            // but neither stored nor fanned out.
            empty = u.is_empty();
            if empty {
                return Ok(true);
            }
            clients = hooks::new_clients(&self.doc, &u);
            foreign = clients
                .iter()
                .copied()
                .find(|c| self.authors.get(c).is_some_and(|owner| *owner != user));
            if foreign.is_some() {
                return Ok(true); // refused below, before anything is applied
            }
            sync::apply_update(&self.doc, u).map(|()| true)
        });
        if let (Some(client), Ok(_)) = (foreign, &applied) {
            tracing::warn!(doc = %self.info.id, conn = conn.0, user = %user, client, "refused an update under another user's client id");
            return self.drop_peer(
                conn,
                Some((
                    close::FORBIDDEN,
                    format!("client id {client} belongs to another user; reconnect with a new one"),
                )),
            );
        }
        if matches!(applied, Ok(true)) && !empty && !self.read_only {
            for c in &clients {
                self.authors.entry(*c).or_insert(user);
            }
        }
        match applied {
            Ok(true) if empty => {
                round.to_ack.insert(conn);
            }
            Ok(true) if self.read_only => {
                // Refused: not applied, not stored, not acknowledged; the client is told why.
                tracing::info!(doc = %self.info.id, conn = conn.0, "refused an update to a finalized document");
                self.send(conn, read_only_message(ext).encode().into());
            }
            Ok(false) => {} // nothing new (a read-only document's resync): nothing to store
            Ok(true) => {
                round.to_ack.insert(conn);
                match round.updates.last_mut() {
                    Some(last) if round.last_conn == Some(conn) => {
                        for c in clients {
                            if !last.clients.contains(&c) {
                                last.clients.push(c);
                            }
                        }
                        round.tail.push(bytes);
                        round.folded += 1;
                    }
                    _ => {
                        self.fold(round);
                        round.updates.push(NewUpdate {
                            seq: self.next_seq,
                            data: bytes,
                            user: Some(user),
                            clients,
                        });
                        self.next_seq += 1;
                        round.fanout.push((conn, Bytes::new())); // encoded by `fold`
                        round.last_conn = Some(conn);
                    }
                }
            }
            Err(e) => {
                // An update that failed after decoding may be half applied (or yrs
                // panicked): the in-memory document is rebuilt from storage.
                if matches!(e, sync::SyncError::Decode(_)) {
                    tracing::info!(doc = %self.info.id, error = %e, "rejected update");
                } else {
                    tracing::warn!(doc = %self.info.id, error = %e, "update failed after decoding; reloading the document");
                    round.damaged = true;
                }
                self.drop_peer(
                    conn,
                    Some((close::MALFORMED, format!("invalid update: {e}"))),
                );
            }
        }
    }

    fn awareness(&mut self, conn: ConnId, bytes: Vec<u8>) {
        if bytes.len() > self.reg.limits().max_awareness_bytes {
            self.drop_peer(
                conn,
                Some((close::TOO_LARGE, "awareness message too large".into())),
            );
            return;
        }
        let update = match sync::decode_awareness(&bytes) {
            Ok(u) => u,
            Err(e) => {
                return self.drop_peer(
                    conn,
                    Some((close::MALFORMED, format!("bad awareness: {e}"))),
                )
            }
        };
        let Some(j) = self.peers.get(&conn) else {
            return;
        };
        let who = Speaker {
            conn,
            user: j.peer.user.0,
            name: &j.peer.name,
            joined: j.joined,
        };
        if let Some(out) = self.presence.apply(who, update) {
            self.broadcast(conn, Message::Awareness(out).encode().into());
        }
    }

    /// Commits the round, then acknowledges, fans out and answers. Returns false
    /// when the owner must stop (storage failed: the in-memory state is ahead of
    /// storage and must not be served).
    async fn settle(&mut self, mut round: Round) -> bool {
        self.fold(&mut round);
        if !round.updates.is_empty() {
            let n = round.updates.len() as u64 + round.folded;
            if let Err(e) = self.reg.writer().append(self.info.id, round.updates).await {
                tracing::error!(doc = %self.info.id, error = %e, "storage failed; closing the document");
                for (_, j) in self.peers.drain() {
                    j.peer
                        .close(close::INTERNAL, "storage failure; reconnect to resync");
                }
                return false;
            }
            self.since_snapshot += n;
        }
        for (origin, msg) in round.fanout {
            self.broadcast(origin, msg);
        }
        for conn in round.to_ack {
            let Some(j) = self.peers.get(&conn) else {
                continue;
            };
            if j.peer.ext {
                let ack = Message::Ext(ExtMessage::Ack { count: j.received }).encode();
                self.send(conn, ack.into());
            }
        }
        if round.damaged {
            self.reload().await;
        }
        for (conn, sv) in round.step1 {
            let diff = sync::diff_since(&self.doc, &sv);
            self.send(conn, Message::step2(diff).encode().into());
        }
        if !round.content.is_empty() {
            let kind = self.info.kind;
            // A failed read drops the replies: the callers get `DocError::Closed`.
            if let Some(content) = self.read(|doc| schema::content(kind, doc)).await {
                for reply in round.content {
                    let _ = reply.send(content.clone());
                }
            }
        }
        if !round.snapshots.is_empty() || !round.changed.is_empty() {
            let kind = self.info.kind;
            if let Some(state) = self.read(|doc| records::describe(kind, doc)).await {
                for reply in round.snapshots {
                    let _ = reply.send(state.clone());
                }
                for reply in round.changed {
                    let _ = reply.send(Ok(state.clone()));
                }
            }
        }
        if let Some(freeze) = round.freeze {
            self.freeze(freeze).await;
        }
        !self.broken
    }

    /// Reads the document with yrs's panics contained. A read that fails means
    /// the in-memory document is damaged: it is rebuilt from storage and read
    /// once more; `None` if that fails too (logged both times).
    async fn read<T>(&mut self, f: impl Fn(&Doc) -> T) -> Option<T> {
        match sync::contain(|| f(&self.doc)) {
            Ok(value) => return Some(value),
            Err(e) => {
                tracing::error!(doc = %self.info.id, error = %e, "reading the document failed; reloading it");
            }
        }
        self.reload().await;
        match sync::contain(|| f(&self.doc)) {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::error!(doc = %self.info.id, error = %e, "reading the reloaded document failed");
                None
            }
        }
    }

    /// Merges the round's tail into its last row and encodes that row's fan-out
    /// message (see [`Round::tail`]). Should yrs refuse to merge, the tail's
    /// updates stay rows and messages of their own.
    fn fold(&mut self, round: &mut Round) {
        let Some(conn) = round.last_conn.take() else {
            return;
        };
        let tail = std::mem::take(&mut round.tail);
        let Some(last) = round.updates.last_mut() else {
            return;
        };
        let mut apart = Vec::new();
        if !tail.is_empty() {
            let parts =
                || std::iter::once(last.data.as_slice()).chain(tail.iter().map(Vec::as_slice));
            let merged = sync::contain(|| yrs::merge_updates_v1(parts()))
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            match merged {
                Ok(merged) => last.data = merged,
                Err(e) => {
                    tracing::warn!(doc = %self.info.id, error = %e, "merging a burst of updates failed; kept apart");
                    apart = tail;
                }
            }
        }
        let user = last.user;
        let first: Bytes = Message::update(last.data.clone()).encode().into();
        if let Some(out) = round.fanout.last_mut() {
            *out = (conn, first);
        }
        for data in apart {
            round
                .fanout
                .push((conn, Message::update(data.clone()).encode().into()));
            round.updates.push(NewUpdate {
                seq: self.next_seq,
                data,
                user,
                clients: Vec::new(),
            });
            self.next_seq += 1;
        }
    }

    async fn reload(&mut self) {
        match load_doc(&self.reg, &self.info).await {
            Ok((doc, next_seq, since)) => {
                self.doc = doc;
                self.next_seq = next_seq;
                self.since_snapshot = since;
            }
            Err(e) => {
                // What is in memory may be damaged and cannot be rebuilt: stop
                // serving it. Clients are told to come back; the next owner loads
                // from storage afresh.
                tracing::error!(doc = %self.info.id, error = %e, "reloading document failed; closing it");
                self.broken = true;
                for (_, j) in self.peers.drain() {
                    j.peer
                        .close(close::INTERNAL, "document unavailable; reconnect later");
                }
            }
        }
    }

    /// Folds the log into a snapshot once it has `threshold` rows or more.
    async fn compact_if_dirty(&mut self, threshold: u64) {
        if self.since_snapshot < threshold {
            return;
        }
        let upto = self.next_seq - 1;
        // Never write back a document that is corrupted in memory: the log stays,
        // and the document is rebuilt from it.
        let (state, sv) = match canonical::checked_snapshot(self.info.kind, &self.doc) {
            Ok(checked) => checked,
            Err(e) => {
                tracing::error!(doc = %self.info.id, error = %e, "snapshot check failed; not compacted, reloading the document");
                self.reload().await;
                return;
            }
        };
        match docs::compact(self.reg.db(), self.info.id, upto, &state, &sv).await {
            Ok(()) => {
                self.since_snapshot = 0;
                // History: every compaction also names the version it folded.
                let named = records::describe(self.info.kind, &self.doc);
                if let Err(e) =
                    versions::store(self.reg.db(), self.info.id, &named, "periodic", None).await
                {
                    tracing::warn!(doc = %self.info.id, error = %e, "naming a periodic version failed");
                }
            }
            Err(e) => {
                tracing::warn!(doc = %self.info.id, error = %e, "compaction failed; the log stays")
            }
        }
    }

    fn broadcast(&mut self, origin: ConnId, msg: Bytes) {
        let targets: Vec<ConnId> = self
            .peers
            .keys()
            .copied()
            .filter(|c| *c != origin)
            .collect();
        for conn in targets {
            self.send(conn, msg.clone());
        }
    }

    /// Queues `msg` for `conn`; a full queue closes that connection (it will
    /// reconnect and resync) rather than silently dropping an update.
    fn send(&mut self, conn: ConnId, msg: Bytes) {
        let Some(j) = self.peers.get(&conn) else {
            return;
        };
        match j.peer.out.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.drop_peer(
                conn,
                Some((close::TRY_AGAIN, "too slow; reconnect to resync".into())),
            ),
            Err(mpsc::error::TrySendError::Closed(_)) => self.drop_peer(conn, None),
        }
    }

    /// Forgets a connection (closing it with `why` if given) and tells the others
    /// its presence is gone.
    fn drop_peer(&mut self, conn: ConnId, why: Option<(u16, String)>) {
        if let Some(j) = self.peers.remove(&conn) {
            if let Some((code, reason)) = why {
                tracing::info!(doc = %self.info.id, conn = conn.0, code, %reason, "closing connection");
                j.peer.close(code, reason);
            }
        }
        if let Some(gone) = self.presence.remove_conn(conn) {
            self.broadcast(conn, Message::Awareness(gone).encode().into());
        }
    }
}

/// Rebuilds a document from its snapshot and log. A stored row that no longer
/// applies is logged and skipped rather than making the whole document unloadable.
async fn load_doc(reg: &Registry, info: &DocInfo) -> Result<(Doc, i64, u64), sqlx::Error> {
    let stored = docs::load(reg.db(), info.id).await?;
    let doc = schema::new_doc();
    let rows = stored
        .snapshot
        .iter()
        .map(|(s, b)| (*s, b))
        .chain(stored.updates.iter().map(|(s, b)| (*s, b)));
    for (seq, bytes) in rows {
        if let Err(e) = sync::decode_update(bytes).and_then(|u| sync::apply_update(&doc, u)) {
            tracing::error!(doc = %info.id, seq, error = %e, "stored update does not apply; skipped");
        }
    }
    Ok((doc, stored.next_seq(), stored.updates.len() as u64))
}
