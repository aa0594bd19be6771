//! Typed views over the yrs documents, one per [`DocKind`].
//!
//! The raw root names ("body", "meta", "entries"…) and map keys live only in
//! this module, so the server, client and tests cannot disagree on them. Each
//! view borrows a `Doc` and opens its own short transactions; create views
//! while no other transaction on the document is open (yrs panics otherwise).
//!
//! Text indexes are UTF-16 code units, like JavaScript strings, because every
//! document is created by [`new_doc`] with `OffsetKind::Utf16`. Indexes past
//! the end are clamped instead of panicking.

mod draft;
mod opinion;
mod record;

use serde_json::Value;
use yrs::{
    Any, Doc, GetString, Map, MapRef, OffsetKind, Options, Out, ReadTxn, Text, TextRef, Transact,
};

use crate::model::DocKind;

pub use draft::{Draft, DraftContent};
pub use opinion::{OpinionContent, OpinionField, OpinionReport};
pub use record::{Entry, EntryField, Record, RecordContent, RecordField};

/// A fresh document whose text offsets are UTF-16 units, matching Yjs in the browser.
///
/// Everyone (server, client, tests) creates documents through this, so an
/// index computed by the editor means the same thing on every peer.
pub fn new_doc() -> Doc {
    Doc::with_options(utf16_options(Options::default()))
}

/// Like [`new_doc`] with a fixed client id: deterministic tests and fuzzing.
pub fn new_doc_with_client_id(client_id: u64) -> Doc {
    let options = Options::with_client_id(yrs::block::ClientID::new(client_id));
    Doc::with_options(utf16_options(options))
}

fn utf16_options(options: Options) -> Options {
    Options {
        offset_kind: OffsetKind::Utf16,
        ..options
    }
}

/// The typed view of `doc` as JSON, for `GET /api/docs/{id}`.
///
/// A draft gives `{"title","body"}`, a record `{"fields","entries","summary"}`,
/// an opinion report `{"fields","body"}`.
pub fn content(kind: DocKind, doc: &Doc) -> Value {
    let value = match kind {
        DocKind::Draft => serde_json::to_value(Draft::new(doc).content()),
        DocKind::Record => serde_json::to_value(Record::new(doc).content()),
        DocKind::OpinionReport => serde_json::to_value(OpinionReport::new(doc).content()),
    };
    value.unwrap_or(Value::Null)
}

/// Reads a map entry as text: strings as they are, nested `Y.Text` as its
/// content, numbers and booleans formatted; anything else counts as absent.
fn map_string<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<String> {
    out_string(map.get(txn, key)?, txn)
}

/// Converts one stored value to text (see [`map_string`]).
fn out_string<T: ReadTxn>(out: Out, txn: &T) -> Option<String> {
    match out {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        Out::Any(any @ (Any::Number(_) | Any::Bool(_))) => Some(any.to_string()),
        Out::YText(text) => Some(text.get_string(txn)),
        _ => None,
    }
}

/// All string-valued entries of a map, sorted by key (stable JSON output).
fn map_strings<T: ReadTxn>(map: &MapRef, txn: &T) -> std::collections::BTreeMap<String, String> {
    map.iter(txn)
        .filter_map(|(k, v)| Some((k.to_owned(), out_string(v, txn)?)))
        .collect()
}

/// Inserts into a text at `index` (UTF-16 units), clamped to the current length.
fn text_insert(doc: &Doc, text: &TextRef, index: u32, chunk: &str) {
    let mut txn = doc.transact_mut();
    let index = index.min(text.len(&txn));
    text.insert(&mut txn, index, chunk);
}

/// Removes up to `len` units from `index`, clamped to what exists.
fn text_remove(doc: &Doc, text: &TextRef, index: u32, len: u32) {
    let mut txn = doc.transact_mut();
    let total = text.len(&txn);
    let index = index.min(total);
    let len = len.min(total - index);
    if len > 0 {
        text.remove_range(&mut txn, index, len);
    }
}

/// Replaces the whole content of a text with `value` (one transaction).
fn text_replace(doc: &Doc, text: &TextRef, value: &str) {
    let mut txn = doc.transact_mut();
    let total = text.len(&txn);
    if total > 0 {
        text.remove_range(&mut txn, 0, total);
    }
    text.insert(&mut txn, 0, value);
}

#[cfg(test)]
mod tests;
