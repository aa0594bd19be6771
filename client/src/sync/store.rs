//! IndexedDB: what survives a reload with no network.
//!
//! One database **per signed-in user**, `xieshang-user-{id}`, version 1, four
//! object stores (out-of-line keys). Members at a liaison office share one
//! computer: whatever one of them left unsent, queued or cached stays in their
//! own database, opened only while they are signed in ([`set_user`]), so it is
//! never shown to, or sent as, the next person. With nobody signed in every
//! call fails with [`StoreError`].
//!
//!
//! | store | key | value | what for |
//! |---|---|---|---|
//! | `state` | doc id (UUID text) | `Uint8Array` v1 update | the merged state at the last compaction |
//! | `log` | `[doc id, seq]` | `Uint8Array` v1 update | every update (remote and local) since then |
//! | `outbox` | `[doc id, seq]` | `{update: Uint8Array, changes: number}` | local updates the server has not acknowledged |
//! | `kv` | string | JSON text | the UI's cache: session, topic list, document metadata |
//!
//! A document opens as `state` + `log` + `outbox` applied in that order (yrs
//! merges duplicates). A local update goes to `log` and `outbox` in one
//! transaction, awaited to completion before the update is sent; an ack
//! deletes outbox rows only (the change stays in `log`/`state`). Compaction
//! writes `state` and deletes the `log` rows it folded, in one transaction.
//!
//! Every value read back is checked (types, then yrs's guarded decoder when
//! applied); a row that does not decode is skipped, never unwrapped.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use xieshang_shared::{DocId, UserId};

/// The database of one user.
fn db_name(user: UserId) -> String {
    format!("xieshang-user-{}", user.0)
}
const DB_VERSION: u32 = 1;
const STATE: &str = "state";
const LOG: &str = "log";
const OUTBOX: &str = "outbox";
const KV: &str = "kv";
/// Sequence numbers are stored as JS numbers: exact up to 2⁵³.
const MAX_SEQ: f64 = 9_007_199_254_740_991.0;

/// Why IndexedDB failed (unavailable, quota, aborted transaction…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IndexedDB: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rexie::Error> for StoreError {
    fn from(e: rexie::Error) -> Self {
        StoreError(format!("{e}: {e:?}"))
    }
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

thread_local! {
    /// Whose database the page uses: the signed-in user's.
    static USER: Cell<Option<UserId>> = const { Cell::new(None) };
    /// That user's open database, shared by every provider of the page.
    static DB: RefCell<Option<(UserId, Rc<Rexie>)>> = const { RefCell::new(None) };
}

/// Makes `user`'s database the page's (after signing in or at start with a
/// remembered session), or none (after signing out). Stop the sync engines
/// before switching: what they still write must not land in another's store.
pub fn set_user(user: Option<UserId>) {
    USER.with(|u| u.set(user));
    let previous = DB.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_ref() {
            Some((open, _)) if Some(*open) == user => None,
            _ => d.take(),
        }
    });
    if let Some((_, db)) = previous {
        if let Ok(db) = Rc::try_unwrap(db) {
            db.close();
        }
    }
}

/// The user whose database is in use, if anyone is signed in.
pub fn current_user() -> Option<UserId> {
    USER.with(Cell::get)
}

/// Removes everything `user` kept on this computer (documents, unsent changes,
/// queued sign-offs, caches): "remove my data from this computer".
pub async fn delete_user_data(user: UserId) -> Result<()> {
    if current_user() == Some(user) {
        set_user(None);
    }
    Rexie::delete(&db_name(user)).await?;
    Ok(())
}

/// Opens the signed-in user's database once per page (creating its stores on first use).
async fn db() -> Result<Rc<Rexie>> {
    let user = current_user().ok_or_else(|| StoreError("nobody is signed in".into()))?;
    if let Some(db) = DB.with(|d| {
        d.borrow()
            .as_ref()
            .filter(|(open, _)| *open == user)
            .map(|(_, db)| db.clone())
    }) {
        return Ok(db);
    }
    let opened = Rexie::builder(&db_name(user))
        .version(DB_VERSION)
        .add_object_store(ObjectStore::new(STATE))
        .add_object_store(ObjectStore::new(LOG))
        .add_object_store(ObjectStore::new(OUTBOX))
        .add_object_store(ObjectStore::new(KV))
        .build()
        .await?;
    // The user may have signed out while it opened: never hand it to another.
    if current_user() != Some(user) {
        opened.close();
        return Err(StoreError("the signed-in user changed".into()));
    }
    // Two callers may have raced through the await: keep the first handle
    // (and close ours, so that deleting the database is not blocked by it).
    let first = DB.with(|d| {
        d.borrow()
            .as_ref()
            .filter(|(open, _)| *open == user)
            .map(|(_, db)| db.clone())
    });
    if let Some(db) = first {
        opened.close();
        return Ok(db);
    }
    let db = Rc::new(opened);
    DB.with(|d| *d.borrow_mut() = Some((user, db.clone())));
    Ok(db)
}

/// What IndexedDB holds for one document.
#[derive(Debug, Default)]
pub struct Stored {
    /// The compacted state, if the document was ever compacted.
    pub state: Option<Vec<u8>>,
    /// Log rows since then: `(seq, update)`, in order.
    pub log: Vec<(u64, Vec<u8>)>,
    /// Unacknowledged local updates: `(seq, changes, update)`, in order.
    pub outbox: Vec<(u64, u32, Vec<u8>)>,
}

/// A document's key: its id as text (`state`), the first half of `[doc, seq]`.
fn doc_key(doc: DocId) -> JsValue {
    JsValue::from_str(&doc.to_string())
}

fn key(doc: DocId, seq: u64) -> JsValue {
    Array::of2(&doc_key(doc), &JsValue::from_f64(seq as f64)).into()
}

/// Every `[doc, seq]` key of `doc` with `seq <= upto`.
fn doc_range(doc: DocId, upto: f64) -> Result<KeyRange> {
    let lower = Array::of2(&doc_key(doc), &JsValue::from_f64(0.0));
    let upper = Array::of2(&doc_key(doc), &JsValue::from_f64(upto));
    KeyRange::bound(&lower, &upper, None, None).map_err(|e| StoreError(format!("key range: {e}")))
}

/// The `seq` of a `[doc, seq]` key read back, if it has that shape.
fn seq_of(key: &JsValue) -> Option<u64> {
    let seq = Array::from(key).get(1).as_f64()?;
    ((0.0..=MAX_SEQ).contains(&seq) && seq.fract() == 0.0).then_some(seq as u64)
}

fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

/// Loads everything stored for `doc`.
pub async fn load(doc: DocId) -> Result<Stored> {
    let db = db().await?;
    let txn = db.transaction(&[STATE, LOG, OUTBOX], TransactionMode::ReadOnly)?;
    let state = txn
        .store(STATE)?
        .get(doc_key(doc))
        .await?
        .and_then(|v| bytes_of(&v));
    let mut stored = Stored {
        state,
        ..Stored::default()
    };
    let rows = txn
        .store(LOG)?
        .scan(Some(doc_range(doc, MAX_SEQ)?), None, None, None)
        .await?;
    for (k, v) in rows {
        if let (Some(seq), Some(bytes)) = (seq_of(&k), bytes_of(&v)) {
            stored.log.push((seq, bytes));
        }
    }
    let rows = txn
        .store(OUTBOX)?
        .scan(Some(doc_range(doc, MAX_SEQ)?), None, None, None)
        .await?;
    for (k, v) in rows {
        let update = Reflect::get(&v, &"update".into()).ok();
        let changes = Reflect::get(&v, &"changes".into())
            .ok()
            .and_then(|c| c.as_f64())
            .filter(|c| *c >= 1.0 && *c <= f64::from(u32::MAX))
            .map_or(1, |c| c as u32);
        if let (Some(seq), Some(bytes)) = (seq_of(&k), update.as_ref().and_then(bytes_of)) {
            stored.outbox.push((seq, changes, bytes));
        }
    }
    txn.done().await?;
    Ok(stored)
}

/// One update to record: into `log`, and into `outbox` too if it is local.
pub struct Append<'a> {
    /// The log row's sequence number.
    pub log_seq: u64,
    /// The update (all changes of the batch, local and remote).
    pub update: &'a [u8],
    /// `(outbox seq, local transactions, local update)` when the batch has local changes.
    pub outbox: Option<(u64, u32, &'a [u8])>,
}

/// Writes one batch in one transaction and waits until it is committed.
pub async fn append(doc: DocId, batch: Append<'_>) -> Result<()> {
    let db = db().await?;
    let stores: &[&str] = if batch.outbox.is_some() {
        &[LOG, OUTBOX]
    } else {
        &[LOG]
    };
    let txn = db.transaction(stores, TransactionMode::ReadWrite)?;
    let update: JsValue = Uint8Array::from(batch.update).into();
    txn.store(LOG)?
        .put(&update, Some(&key(doc, batch.log_seq)))
        .await?;
    if let Some((seq, changes, local)) = batch.outbox {
        let row = Object::new();
        let set = |k: &str, v: &JsValue| Reflect::set(&row, &k.into(), v);
        set("update", &Uint8Array::from(local).into())
            .and_then(|_| set("changes", &JsValue::from_f64(f64::from(changes))))
            .map_err(|e| StoreError(format!("{e:?}")))?;
        txn.store(OUTBOX)?.put(&row, Some(&key(doc, seq))).await?;
    }
    txn.done().await?;
    Ok(())
}

/// Deletes acknowledged outbox rows.
pub async fn remove_outbox(doc: DocId, seqs: &[u64]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let db = db().await?;
    let txn = db.transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
    let outbox = txn.store(OUTBOX)?;
    for &seq in seqs {
        outbox.delete(key(doc, seq)).await?;
    }
    txn.done().await?;
    Ok(())
}

/// Replaces the compacted state and drops the log rows up to `upto` it includes.
pub async fn compact(doc: DocId, state: &[u8], upto: u64) -> Result<()> {
    let db = db().await?;
    let txn = db.transaction(&[STATE, LOG], TransactionMode::ReadWrite)?;
    let state: JsValue = Uint8Array::from(state).into();
    txn.store(STATE)?.put(&state, Some(&doc_key(doc))).await?;
    txn.store(LOG)?
        .delete(doc_range(doc, upto as f64)?.into())
        .await?;
    txn.done().await?;
    Ok(())
}

/// Documents with unacknowledged local changes: what to reopen after a reload
/// so those changes reach the server even if the member never opens them again.
pub async fn pending_docs() -> Result<Vec<DocId>> {
    let db = db().await?;
    let txn = db.transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
    let keys = txn.store(OUTBOX)?.get_all_keys(None, None).await?;
    txn.done().await?;
    let mut docs: Vec<DocId> = keys
        .iter()
        .filter_map(|k| Array::from(k).get(0).as_string())
        .filter_map(|d| d.parse::<DocId>().ok())
        .collect();
    docs.dedup();
    Ok(docs)
}

/// Deletes everything stored for `doc` (state, log and outbox).
pub async fn forget_doc(doc: DocId) -> Result<()> {
    let db = db().await?;
    let txn = db.transaction(&[STATE, LOG, OUTBOX], TransactionMode::ReadWrite)?;
    txn.store(STATE)?.delete(doc_key(doc)).await?;
    txn.store(LOG)?
        .delete(doc_range(doc, MAX_SEQ)?.into())
        .await?;
    txn.store(OUTBOX)?
        .delete(doc_range(doc, MAX_SEQ)?.into())
        .await?;
    txn.done().await?;
    Ok(())
}

/// Reads a JSON value the UI cached under `key`; `None` if absent or unreadable.
pub async fn kv_get<T: DeserializeOwned>(key: &str) -> Option<T> {
    let read = async {
        let db = db().await?;
        let txn = db.transaction(&[KV], TransactionMode::ReadOnly)?;
        let value = txn.store(KV)?.get(key.into()).await?;
        txn.done().await?;
        Ok::<_, StoreError>(value)
    };
    let text = read.await.ok()??.as_string()?;
    serde_json::from_str(&text).ok()
}

/// Caches `value` as JSON under `key` (session, topic list, document metadata).
pub async fn kv_put<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| StoreError(e.to_string()))?;
    let db = db().await?;
    let txn = db.transaction(&[KV], TransactionMode::ReadWrite)?;
    txn.store(KV)?
        .put(&JsValue::from_str(&text), Some(&key.into()))
        .await?;
    txn.done().await?;
    Ok(())
}

/// Removes the cached value under `key`.
pub async fn kv_delete(key: &str) -> Result<()> {
    let db = db().await?;
    let txn = db.transaction(&[KV], TransactionMode::ReadWrite)?;
    txn.store(KV)?.delete(key.into()).await?;
    txn.done().await?;
    Ok(())
}
