//! [`TestClient`]: a native yrs peer on a real WebSocket, speaking the
//! y-websocket protocol the way our own client does.
//!
//! The client owns its `Doc` and reads the socket only when the test asks
//! (`pump`, `wait_*`), so a test decides when remote changes land: that is how
//! random interleavings of concurrent edits are produced. Every local change
//! is captured as the exact update of its transaction (`observe_update_v1`) and
//! gets an *edit id*; the client remembers which edits each update-carrying
//! message covered, so the server's `Ack { count }` tells which edits are durable.
//! Edits made while disconnected are *held*; they are sent later by a normal
//! reconnect (SyncStep2) or explicitly, shuffled, duplicated or merged ([`Flush`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use xieshang_shared::protocol::{ExtMessage, Message, SyncMessage};
use xieshang_shared::schema::{self, Draft};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, TextRef, Transact, Update};

use crate::text;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Origin of transactions that apply what the server sent; everything else is local.
const REMOTE: &str = "remote";

/// How a connection ended: the close code and reason the server gave
/// (1006 with the error text if the socket just died).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
}

/// How held (offline) updates are sent when the client comes back.
#[derive(Debug, Clone, Copy)]
pub enum Flush {
    /// One Update message per held update, in the order they were made.
    InOrder,
    /// One message per held update in random order, each sent a second time
    /// with probability `duplicates`: the server must cope with missing
    /// dependencies and with the same update twice.
    Shuffled { duplicates: f64 },
    /// All held updates merged (`merge_updates_v1`) into one Update message.
    Merged,
}

/// Which local edits an update-carrying message contained.
#[derive(Debug, Clone)]
enum Covers {
    /// Exactly these edits.
    Edits(Vec<u64>),
    /// Every edit with an id below this (a SyncStep2 carries all the server lacks).
    UpTo(u64),
}

/// A native yrs peer of one draft on one WebSocket (reconnectable).
pub struct TestClient {
    /// For messages: which peer failed.
    pub name: String,
    doc: Doc,
    body: TextRef,
    /// Updates of local transactions, filled by the `observe_update_v1` callback.
    captured: Arc<Mutex<Vec<Vec<u8>>>>,
    ws: Option<Ws>,
    /// Whether this connection asked for extension messages (`ext=1`).
    ext: bool,
    /// Answer the next SyncStep1 with an empty SyncStep2 (held updates go separately).
    empty_step2: bool,
    /// Local edits made so far (the next edit's id).
    edits: u64,
    /// Edits made while disconnected, not yet sent: (edit id, update).
    held: Vec<(u64, Vec<u8>)>,
    /// What each update-carrying message sent on this connection covered.
    sent: Vec<Covers>,
    /// The server's last `Ack { count }` on this connection.
    acked: u64,
    /// `durable[edit]`: the server acknowledged a message containing it.
    durable: Vec<bool>,
    /// The server's SyncStep2 arrived on this connection.
    synced: bool,
    close: Option<CloseInfo>,
    /// Protocol breaches by the server (acks beyond what was sent, ext without ext=1, …).
    violations: Vec<String>,
    /// `Auth(PermissionDenied)` reason, if the server sent one.
    denied: Option<String>,
    /// `Ext(ReadOnly)` reason, if the server sent one.
    read_only: Option<String>,
    /// Update-carrying messages received from the server (all connections).
    received_updates: u64,
    /// Presence as the server reported it: awareness client id → state JSON.
    presence: std::collections::HashMap<u64, String>,
}

impl TestClient {
    /// A peer with a random yrs client id.
    pub fn new(name: &str) -> TestClient {
        Self::from_doc(name, schema::new_doc())
    }

    /// A peer with a fixed yrs client id (deterministic tests).
    pub fn with_client_id(name: &str, client_id: u64) -> TestClient {
        Self::from_doc(name, schema::new_doc_with_client_id(client_id))
    }

    fn from_doc(name: &str, doc: Doc) -> TestClient {
        let body = Draft::new(&doc).body_ref();
        let captured = Arc::new(Mutex::new(Vec::new()));
        let sink = captured.clone();
        doc.observe_update_v1("xieshang-tests", move |txn, event| {
            if txn.origin().is_none() {
                if let Ok(mut v) = sink.lock() {
                    v.push(event.update.clone());
                }
            }
        })
        .expect("a new doc has no open transaction");
        TestClient {
            name: name.to_string(),
            doc,
            body,
            captured,
            ws: None,
            ext: false,
            empty_step2: false,
            edits: 0,
            held: Vec::new(),
            sent: Vec::new(),
            acked: 0,
            durable: Vec::new(),
            synced: false,
            close: None,
            violations: Vec::new(),
            denied: None,
            read_only: None,
            received_updates: 0,
            presence: Default::default(),
        }
    }

    // ---- connection -------------------------------------------------------

    /// Connects and syncs both ways: sends SyncStep1, answers the server's
    /// SyncStep1 with everything the server lacks (held edits included), and
    /// returns once the server's SyncStep2 has been applied.
    pub async fn connect(&mut self, url: &str) -> Result<()> {
        self.open(url, false).await?;
        self.held.clear(); // the SyncStep2 carries them
        self.wait_for("the server's SyncStep2", crate::WAIT, |c| c.synced)
            .await
    }

    /// Connects like [`Self::connect`] but answers the server's SyncStep1 with an
    /// *empty* SyncStep2, so held edits stay held until [`Self::flush_held`].
    pub async fn connect_holding_back(&mut self, url: &str) -> Result<()> {
        self.open(url, true).await?;
        self.wait_for("the server's SyncStep2", crate::WAIT, |c| c.synced)
            .await
    }

    /// Opens the socket (no waiting for sync): for tests of refusals and hostile input.
    pub async fn open(&mut self, url: &str, empty_step2: bool) -> Result<()> {
        self.disconnect().await;
        let (mut ws, _resp) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .with_context(|| format!("{}: connecting to {url}", self.name))?;
        let sv = self.doc.transact().state_vector().encode_v1();
        ws.send(Frame::Binary(
            Message::Sync(SyncMessage::Step1(sv)).encode().into(),
        ))
        .await?;
        self.ws = Some(ws);
        self.ext = url.contains("ext=1");
        self.empty_step2 = empty_step2;
        self.sent.clear();
        self.acked = 0;
        self.synced = false;
        self.close = None;
        Ok(())
    }

    /// Closes the socket politely (code 1000) without waiting for the answer.
    pub async fn disconnect(&mut self) {
        if let Some(mut ws) = self.ws.take() {
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            };
            let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(Some(frame))).await;
        }
    }

    /// Whether the socket is (as far as this client knows) open.
    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    // ---- reading the document ---------------------------------------------

    /// The draft body as this peer sees it now.
    pub fn text(&self) -> String {
        self.body.get_string(&self.doc.transact())
    }

    /// This peer's state vector (what it has seen of every client).
    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// The underlying yrs document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    // ---- local edits ------------------------------------------------------

    /// Inserts `s` at UTF-16 offset `index` of the body; answers the edit id.
    pub async fn insert(&mut self, index: u32, s: &str) -> Result<Option<u64>> {
        {
            let mut txn = self.doc.transact_mut();
            let len = self.body.len(&txn);
            if index > len {
                bail!("{}: insert at {index} beyond length {len}", self.name);
            }
            self.body.insert(&mut txn, index, s);
        }
        self.after_local_edit().await
    }

    /// Removes `len` UTF-16 units at `index`; answers the edit id.
    pub async fn remove(&mut self, index: u32, len: u32) -> Result<Option<u64>> {
        {
            let mut txn = self.doc.transact_mut();
            let total = self.body.len(&txn);
            if index + len > total {
                bail!("{}: remove {index}+{len} beyond length {total}", self.name);
            }
            self.body.remove_range(&mut txn, index, len);
        }
        self.after_local_edit().await
    }

    /// Appends `s` to the body.
    pub async fn append(&mut self, s: &str) -> Result<Option<u64>> {
        let end = text::utf16_len(&self.text());
        self.insert(end, s).await
    }

    /// Inserts `marker` at a random marker boundary (never inside another marker).
    pub async fn insert_marker(&mut self, rng: &mut impl Rng, marker: &str) -> Result<u64> {
        let spots = text::marker_boundaries(&self.text());
        let at = spots[rng.gen_range(0..spots.len())];
        self.insert(at, marker)
            .await?
            .context("an insert always makes an update")
    }

    /// Deletes the (whole) marker from the body.
    pub async fn remove_marker(&mut self, marker: &str) -> Result<u64> {
        let at = text::find_utf16(&self.text(), marker)
            .with_context(|| format!("{marker} not in text"))?;
        self.remove(at, text::utf16_len(marker))
            .await?
            .context("a removal always makes an update")
    }

    /// Takes the captured update(s) of the last local transaction, gives them an
    /// edit id and sends them (or holds them while disconnected).
    async fn after_local_edit(&mut self) -> Result<Option<u64>> {
        let updates: Vec<Vec<u8>> =
            std::mem::take(&mut *self.captured.lock().map_err(|_| anyhow!("poisoned"))?);
        let mut last = None;
        for update in updates {
            let id = self.edits;
            self.edits += 1;
            self.durable.push(false);
            last = Some(id);
            if self.ws.is_some() {
                let msg = Message::Sync(SyncMessage::Update(update));
                if self
                    .send_update(&msg, Covers::Edits(vec![id]))
                    .await
                    .is_err()
                {
                    // The connection broke; the next SyncStep2 carries this edit.
                    self.held.push((id, Vec::new()));
                }
            } else {
                self.held.push((id, update));
            }
        }
        Ok(last)
    }

    // ---- held updates (offline) -------------------------------------------

    /// How many local edits wait to be sent.
    pub fn held_len(&self) -> usize {
        self.held.len()
    }

    /// Sends every held update in one burst (no waiting between messages), as
    /// `how` says; answers how many messages went out.
    pub async fn flush_held(&mut self, how: Flush, rng: &mut impl Rng) -> Result<usize> {
        let held = std::mem::take(&mut self.held);
        if held.iter().any(|(_, u)| u.is_empty()) {
            bail!(
                "{}: some held edits were lost with a broken connection; reconnect with connect()",
                self.name
            );
        }
        let mut batch: Vec<(Vec<u8>, Covers)> = Vec::new();
        match how {
            Flush::InOrder => {
                batch.extend(held.into_iter().map(|(id, u)| (u, Covers::Edits(vec![id]))))
            }
            Flush::Shuffled { duplicates } => {
                for (id, u) in held {
                    if rng.gen_bool(duplicates) {
                        batch.push((u.clone(), Covers::Edits(vec![id])));
                    }
                    batch.push((u, Covers::Edits(vec![id])));
                }
                batch.shuffle(rng);
            }
            Flush::Merged => {
                if !held.is_empty() {
                    let ids = held.iter().map(|(id, _)| *id).collect();
                    let merged = yrs::merge_updates_v1(held.iter().map(|(_, u)| u.as_slice()))
                        .map_err(|e| anyhow!("merging held updates: {e}"))?;
                    batch.push((merged, Covers::Edits(ids)));
                }
            }
        }
        let n = batch.len();
        let ws = self.ws.as_mut().context("flush_held needs a connection")?;
        for (update, covers) in batch {
            ws.feed(Frame::Binary(
                Message::Sync(SyncMessage::Update(update)).encode().into(),
            ))
            .await?;
            self.sent.push(covers);
        }
        ws.flush().await?;
        Ok(n)
    }

    // ---- raw sending ------------------------------------------------------

    /// Sends any bytes as one binary frame (hostile-input tests).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        let ws = self.ws.as_mut().context("not connected")?;
        ws.send(Frame::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Sends a text frame (not the protocol: hostile-input tests).
    pub async fn send_text(&mut self, text: String) -> Result<()> {
        let ws = self.ws.as_mut().context("not connected")?;
        ws.send(Frame::Text(text.into())).await?;
        Ok(())
    }

    /// Sends a protocol message. Update-carrying ones count toward acks but
    /// cover no local edit.
    pub async fn send(&mut self, msg: &Message) -> Result<()> {
        if msg.carries_update() {
            return self.send_update(msg, Covers::Edits(Vec::new())).await;
        }
        self.send_raw(msg.encode()).await
    }

    async fn send_update(&mut self, msg: &Message, covers: Covers) -> Result<()> {
        let Some(ws) = self.ws.as_mut() else {
            bail!("not connected")
        };
        // Counted before sending: if the frame left, the server may ack it.
        self.sent.push(covers);
        if let Err(e) = ws.send(Frame::Binary(msg.encode().into())).await {
            self.lost(format!("send: {e}"));
            bail!("{}: send failed: {e}", self.name);
        }
        Ok(())
    }

    // ---- receiving --------------------------------------------------------

    /// Handles every frame that has already arrived, without waiting.
    pub async fn pump(&mut self) -> Result<usize> {
        let mut n = 0;
        while self.recv_until(Instant::now()).await? {
            n += 1;
        }
        Ok(n)
    }

    /// Handles one frame, waiting at most until `deadline`. Answers false when
    /// nothing came (or the socket is gone).
    pub async fn recv_until(&mut self, deadline: Instant) -> Result<bool> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(false);
        };
        let next = if deadline <= Instant::now() {
            // Poll once: anything already buffered is handled, nothing is awaited.
            tokio::time::timeout(Duration::ZERO, ws.next()).await
        } else {
            tokio::time::timeout_at(deadline, ws.next()).await
        };
        match next {
            Err(_) => Ok(false),
            Ok(None) => {
                self.lost("stream ended".into());
                Ok(true)
            }
            Ok(Some(Err(e))) => {
                self.lost(format!("{e}"));
                Ok(true)
            }
            Ok(Some(Ok(frame))) => {
                self.handle(frame).await?;
                Ok(true)
            }
        }
    }

    fn lost(&mut self, why: String) {
        self.ws = None;
        if self.close.is_none() {
            self.close = Some(CloseInfo {
                code: 1006,
                reason: why,
            });
        }
    }

    async fn handle(&mut self, frame: Frame) -> Result<()> {
        match frame {
            Frame::Binary(bytes) => {
                let msg = match Message::decode(&bytes) {
                    Ok(m) => m,
                    Err(e) => {
                        self.violations
                            .push(format!("undecodable frame from server: {e}"));
                        return Ok(());
                    }
                };
                self.handle_message(msg).await
            }
            Frame::Close(frame) => {
                let info = match frame {
                    Some(f) => CloseInfo {
                        code: u16::from(f.code),
                        reason: f.reason.to_string(),
                    },
                    None => CloseInfo {
                        code: 1005,
                        reason: String::new(),
                    },
                };
                self.close = Some(info);
                // Let tungstenite answer the close handshake, then forget the socket.
                if let Some(mut ws) = self.ws.take() {
                    let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
                }
                Ok(())
            }
            Frame::Text(t) => {
                self.violations.push(format!("text frame from server: {t}"));
                Ok(())
            }
            _ => Ok(()), // ping/pong are answered by tungstenite
        }
    }

    async fn handle_message(&mut self, msg: Message) -> Result<()> {
        match msg {
            Message::Sync(SyncMessage::Step1(sv)) => {
                let sv = match StateVector::decode_v1(&sv) {
                    Ok(sv) => sv,
                    Err(e) => {
                        self.violations
                            .push(format!("bad state vector from server: {e}"));
                        return Ok(());
                    }
                };
                let (update, covers) = if self.empty_step2 {
                    self.empty_step2 = false;
                    (Update::new().encode_v1(), Covers::Edits(Vec::new()))
                } else {
                    (
                        self.doc.transact().encode_state_as_update_v1(&sv),
                        Covers::UpTo(self.edits),
                    )
                };
                let _ = self
                    .send_update(&Message::Sync(SyncMessage::Step2(update)), covers)
                    .await;
            }
            Message::Sync(SyncMessage::Step2(u)) => {
                self.apply_remote(&u);
                self.synced = true;
            }
            Message::Sync(SyncMessage::Update(u)) => self.apply_remote(&u),
            Message::Ext(ext) => {
                if !self.ext {
                    self.violations
                        .push(format!("extension message without ext=1: {ext:?}"));
                }
                match ext {
                    ExtMessage::Ack { count } => self.on_ack(count),
                    ExtMessage::ReadOnly { reason } => self.read_only = Some(reason),
                    _ => {}
                }
            }
            Message::Auth(auth) => self.denied = Some(format!("{auth:?}")),
            Message::Awareness(bytes) => match xieshang_shared::sync::decode_awareness(&bytes) {
                Ok(update) => {
                    for (id, entry) in update.clients {
                        if entry.json.as_ref() == "null" {
                            self.presence.remove(&id.get());
                        } else {
                            self.presence.insert(id.get(), entry.json.to_string());
                        }
                    }
                }
                Err(e) => self
                    .violations
                    .push(format!("bad awareness from server: {e}")),
            },
            Message::QueryAwareness => {}
        }
        Ok(())
    }

    fn apply_remote(&mut self, bytes: &[u8]) {
        self.received_updates += 1;
        let update = match Update::decode_v1(bytes) {
            Ok(u) => u,
            Err(e) => {
                self.violations
                    .push(format!("undecodable update from server: {e}"));
                return;
            }
        };
        let mut txn = self.doc.transact_mut_with(REMOTE);
        if let Err(e) = txn.apply_update(update) {
            self.violations
                .push(format!("update from server failed to apply: {e}"));
        }
    }

    fn on_ack(&mut self, count: u64) {
        if count < self.acked {
            self.violations
                .push(format!("ack went backwards: {} then {count}", self.acked));
            return;
        }
        if count > self.sent.len() as u64 {
            self.violations.push(format!(
                "ack of {count} messages but only {} were sent",
                self.sent.len()
            ));
        }
        let upto = (count as usize).min(self.sent.len());
        for i in self.acked as usize..upto {
            match &self.sent[i] {
                Covers::Edits(ids) => {
                    for &id in ids {
                        self.durable[id as usize] = true;
                    }
                }
                Covers::UpTo(n) => self.durable[..*n as usize]
                    .iter_mut()
                    .for_each(|d| *d = true),
            }
        }
        self.acked = count;
    }

    // ---- waiting ----------------------------------------------------------

    /// Reads the socket until `cond` holds, failing after `timeout` or when the
    /// connection closes first.
    pub async fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&TestClient) -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self) {
                return Ok(());
            }
            if self.ws.is_none() {
                bail!(
                    "{}: connection closed ({:?}) while waiting for {what}; text {:?}",
                    self.name,
                    self.close,
                    self.text()
                );
            }
            if !self.recv_until(deadline).await? && Instant::now() >= deadline {
                bail!(
                    "{}: timed out after {timeout:?} waiting for {what}; text {:?}",
                    self.name,
                    self.text()
                );
            }
        }
    }

    /// Waits until the body reads `expected`.
    pub async fn wait_text(&mut self, expected: &str) -> Result<()> {
        let what = format!("text {expected:?}");
        self.wait_for(&what, crate::WAIT, |c| c.text() == expected)
            .await
    }

    /// Waits until every update-carrying message sent on this connection is acked.
    pub async fn wait_all_acked(&mut self) -> Result<()> {
        self.wait_for("acks of everything sent", crate::WAIT, |c| {
            c.acked >= c.sent.len() as u64
        })
        .await
    }

    /// Waits for the server to close the connection; answers its code and reason.
    pub async fn wait_closed(&mut self, timeout: Duration) -> Result<CloseInfo> {
        let deadline = Instant::now() + timeout;
        while self.ws.is_some() {
            if !self.recv_until(deadline).await? && Instant::now() >= deadline {
                bail!(
                    "{}: the server did not close the connection within {timeout:?}",
                    self.name
                );
            }
        }
        self.close.clone().context("closed without a close record")
    }

    // ---- accounting -------------------------------------------------------

    /// Presence as the server reported it: awareness client id → state JSON.
    pub fn presence(&self) -> &std::collections::HashMap<u64, String> {
        &self.presence
    }

    /// Sends our presence: `state` (JSON) for awareness client `client` at `clock`.
    pub async fn send_presence(&mut self, client: u64, clock: u32, state: &str) -> Result<()> {
        let entry = yrs::sync::awareness::AwarenessUpdateEntry {
            clock,
            json: std::sync::Arc::from(state),
        };
        let clients = std::collections::HashMap::from([(yrs::ClientID::new(client), entry)]);
        let update = yrs::sync::awareness::AwarenessUpdate { clients };
        self.send(&Message::Awareness(update.encode_v1())).await
    }

    /// Local edits made so far.
    pub fn edits(&self) -> u64 {
        self.edits
    }

    /// Whether the server acknowledged the message carrying `edit`.
    pub fn is_durable(&self, edit: u64) -> bool {
        self.durable.get(edit as usize).copied().unwrap_or(false)
    }

    /// How many local edits the server acknowledged as durable.
    pub fn durable_count(&self) -> usize {
        self.durable.iter().filter(|d| **d).count()
    }

    /// Update-carrying messages sent on this connection.
    pub fn sent_count(&self) -> u64 {
        self.sent.len() as u64
    }

    /// The server's acknowledgement count on this connection.
    pub fn acked_count(&self) -> u64 {
        self.acked
    }

    /// Update-carrying messages received from the server.
    pub fn received_updates(&self) -> u64 {
        self.received_updates
    }

    /// How the last connection ended, if it did.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.close.as_ref()
    }

    /// The reason of an `Auth(PermissionDenied)` or `Ext(ReadOnly)` message, if any.
    pub fn refusal(&self) -> Option<&str> {
        self.denied.as_deref().or(self.read_only.as_deref())
    }

    /// Protocol breaches by the server seen so far (tests assert there are none).
    pub fn violations(&self) -> &[String] {
        &self.violations
    }
}

/// The HTTP status with which the server answers a WebSocket upgrade to `url`
/// (101 when it accepts; the socket is then closed again).
pub async fn upgrade_status(url: &str) -> Result<u16> {
    use tokio_tungstenite::tungstenite::Error;
    match tokio_tungstenite::connect_async(url).await {
        Ok((mut ws, resp)) => {
            let _ = ws.close(None).await;
            Ok(resp.status().as_u16())
        }
        Err(Error::Http(resp)) => Ok(resp.status().as_u16()),
        Err(e) => Err(anyhow!(
            "upgrade to {url} failed without an HTTP answer: {e}"
        )),
    }
}

/// What a fresh peer that connects now sees: the server's current state.
/// Answers `(body text, state vector)`.
pub async fn server_state(url: &str) -> Result<(String, StateVector)> {
    let mut probe = TestClient::new("probe");
    probe.connect(url).await?;
    let out = (probe.text(), probe.state_vector());
    probe.disconnect().await;
    Ok(out)
}
