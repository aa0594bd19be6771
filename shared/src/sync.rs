//! Sans-IO sync helpers: decode and apply yrs payloads without ever letting
//! hostile bytes take down the caller.
//!
//! The server, the client, the tests and the fuzz target all go through these
//! functions, so containment is written once. Two layers protect the caller:
//!
//! 1. [`guard`] walks each payload's structure before yrs sees it, refusing
//!    counts the bytes cannot back, absurd nesting and trailing bytes. This
//!    stops the failures no `catch_unwind` can catch: allocation bombs and
//!    stack overflows.
//! 2. [`contain`] turns any panic left inside yrs into [`SyncError::Panicked`],
//!    so one bad message costs one connection, not the document or process.

pub mod guard;

use std::panic::{catch_unwind, AssertUnwindSafe};

use thiserror::Error;
use yrs::sync::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update, WriteTxn};

/// Why a payload could not be decoded or applied.
///
/// Carries messages, not yrs error types, so it is `Clone` and stays stable
/// across yrs versions; callers log it and close the one connection.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SyncError {
    /// The bytes are not a valid v1 payload (refused by the guard or by yrs).
    #[error("cannot decode payload: {0}")]
    Decode(String),
    /// yrs refused to integrate a decoded update, or the document was busy.
    #[error("cannot apply update: {0}")]
    Apply(String),
    /// yrs panicked on this input; the panic was caught and contained.
    #[error("panic while processing payload: {0}")]
    Panicked(String),
}

/// Runs `f`, turning a panic into [`SyncError::Panicked`] with its message.
///
/// Use it around every yrs call that sees bytes from the network. On wasm32
/// (`panic = "abort"`) it cannot catch anything, which is why the guard exists.
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, SyncError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_owned()
        };
        SyncError::Panicked(message)
    })
}

/// Checks that `bytes` is a well-formed v1 update without decoding it.
///
/// Lets a server refuse a payload before it is stored or broadcast.
pub fn check_update(bytes: &[u8]) -> Result<(), SyncError> {
    guard::check_update(bytes).map_err(SyncError::Decode)
}

/// Decodes a v1 update (SyncStep2 or Update payload) from untrusted bytes.
///
/// Besides the guard, the decoded update must survive yrs's own re-encoding:
/// an update that yrs would store but later write out as bytes it cannot read
/// back would poison every snapshot of the document, so it is refused here.
pub fn decode_update(bytes: &[u8]) -> Result<Update, SyncError> {
    check_update(bytes)?;
    let update =
        contain(|| Update::decode_v1(bytes))?.map_err(|e| SyncError::Decode(e.to_string()))?;
    let again = contain(|| update.encode_v1())?;
    let not_stable = |e: String| SyncError::Decode(format!("update does not re-encode: {e}"));
    guard::check_update(&again).map_err(not_stable)?;
    contain(|| Update::decode_v1(&again))?.map_err(|e| not_stable(e.to_string()))?;
    Ok(update)
}

/// Decodes a v1 state vector (SyncStep1 payload) from untrusted bytes.
pub fn decode_state_vector(bytes: &[u8]) -> Result<StateVector, SyncError> {
    guard::check_state_vector(bytes).map_err(SyncError::Decode)?;
    contain(|| StateVector::decode_v1(bytes))?.map_err(|e| SyncError::Decode(e.to_string()))
}

/// Decodes a y-protocols awareness update from untrusted bytes.
///
/// Added to the contract: the server validates presence messages before
/// relaying them, and the fuzz target exercises this path.
pub fn decode_awareness(bytes: &[u8]) -> Result<AwarenessUpdate, SyncError> {
    guard::check_awareness(bytes).map_err(SyncError::Decode)?;
    contain(|| AwarenessUpdate::decode_v1(bytes))?.map_err(|e| SyncError::Decode(e.to_string()))
}

/// Integrates a decoded update into `doc`, contained.
///
/// Uses `try_transact_mut`, so a document that already has a transaction open
/// reports [`SyncError::Apply`] instead of deadlocking. Blocks whose
/// predecessors are missing stay pending inside yrs (as in Yjs); if that
/// pending state could not be encoded again it is discarded and the call fails.
///
/// On any error, part of the update may already be integrated: a server
/// should then drop its in-memory copy and reload the document from storage.
pub fn apply_update(doc: &Doc, update: Update) -> Result<(), SyncError> {
    apply_with(doc, update, None)
}

/// A member's browser applying untrusted bytes from the server: guarded decode,
/// then [`apply_update`]'s checks, in a transaction with `origin` (so the
/// client's own observers can tell remote changes from local ones).
pub fn apply_remote(doc: &Doc, bytes: &[u8], origin: &str) -> Result<(), SyncError> {
    apply_with(doc, decode_update(bytes)?, Some(origin))
}

fn apply_with(doc: &Doc, update: Update, origin: Option<&str>) -> Result<(), SyncError> {
    contain(|| {
        let txn = match origin {
            Some(origin) => doc.try_transact_mut_with(origin),
            None => doc.try_transact_mut(),
        };
        let mut txn = txn.map_err(|e| SyncError::Apply(format!("document busy: {e}")))?;
        txn.apply_update(update)
            .map_err(|e| SyncError::Apply(e.to_string()))?;
        if txn.has_missing_updates() && !pending_round_trips(&txn) {
            txn.prune_pending();
            return Err(SyncError::Apply(
                "pending blocks cannot be re-encoded; discarded".into(),
            ));
        }
        Ok(())
    })?
}

/// Whether the blocks yrs holds back (waiting for predecessors) can be
/// written out and read back; yrs merges them into every full-state encoding.
fn pending_round_trips<T: ReadTxn>(txn: &T) -> bool {
    let Some(pending) = txn.store().pending_update() else {
        return true;
    };
    let bytes = match contain(|| pending.update.encode_v1()) {
        Ok(bytes) => bytes,
        Err(_) => return false,
    };
    guard::check_update(&bytes).is_ok()
        && matches!(contain(|| Update::decode_v1(&bytes)), Ok(Ok(_)))
}

/// Decodes and applies untrusted update bytes in one step.
pub fn apply_update_bytes(doc: &Doc, bytes: &[u8]) -> Result<(), SyncError> {
    apply_update(doc, decode_update(bytes)?)
}

/// What `doc` has that a peer with state vector `sv` lacks: the SyncStep2 payload.
///
/// Includes blocks still pending in yrs, as Yjs does. Never panics: if yrs
/// fails while merging the pending blocks, the integrated state alone is sent,
/// and if even that fails, an empty update (see [`try_diff_since`]).
pub fn diff_since(doc: &Doc, sv: &StateVector) -> Vec<u8> {
    try_diff_since(doc, sv)
        .or_else(|_| contain(|| doc.transact().encode_diff_v1(sv)))
        .unwrap_or_else(|_| EMPTY_UPDATE.to_vec())
}

/// Like [`diff_since`], but reports a panic inside yrs instead of degrading.
pub fn try_diff_since(doc: &Doc, sv: &StateVector) -> Result<Vec<u8>, SyncError> {
    contain(|| doc.transact().encode_state_as_update_v1(sv))
}

/// A v1 update that changes nothing: no clients, empty delete set.
pub const EMPTY_UPDATE: [u8; 2] = [0, 0];

/// The encoded v1 state vector of `doc`: the SyncStep1 payload.
pub fn state_vector(doc: &Doc) -> Vec<u8> {
    doc.transact().state_vector().encode_v1()
}

/// The whole state of `doc` as one v1 update (a snapshot for storage).
///
/// Degrades like [`diff_since`]; use [`try_encode_state`] where a snapshot
/// must be exact (compaction should rather keep the log than store less).
pub fn encode_state(doc: &Doc) -> Vec<u8> {
    diff_since(doc, &StateVector::default())
}

/// The whole state of `doc`, or the contained panic that prevented it.
pub fn try_encode_state(doc: &Doc) -> Result<Vec<u8>, SyncError> {
    try_diff_since(doc, &StateVector::default())
}

/// Merges several v1 updates into one (log compaction), checking each first.
pub fn merge_updates(updates: &[&[u8]]) -> Result<Vec<u8>, SyncError> {
    for update in updates {
        check_update(update)?;
    }
    contain(|| yrs::merge_updates_v1(updates.iter().copied()))?
        .map_err(|e| SyncError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests;
