//! Presence: a y-protocols awareness state per document, ours and the peers'.
//!
//! Our state is `{"user":{"name","color"},"cursor":{"anchor","head"}}` (or
//! `"cursor":null`). The cursor ends are **sticky indexes** in the JSON form of
//! Yjs relative positions (`{"item":{"client","clock"},"assoc":0}`, or
//! `{"tname":…}` at the ends), not plain numbers: a peer's caret stays on the
//! character it was next to while other edits land before it, and every peer
//! resolves it against its own current text. The UI sees resolved UTF-16
//! indices in [`PeerPresence::cursor`]. Plain numbers from other clients are
//! accepted too and passed through as they are.
//!
//! Pure (yrs only): encoding, merging by clock, expiry; no sockets.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use yrs::branch::BranchPtr;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::updates::encoder::Encode;
use yrs::{Assoc, ClientID, Doc, ReadTxn, StickyIndex, Text, TextRef, Transact};

use super::timing::AWARENESS_TIMEOUT_MS;

/// Another member present in the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerPresence {
    /// Their awareness client id (their yrs client id), stable for a session.
    pub client_id: u64,
    /// Their display name.
    pub name: String,
    /// Their caret colour, a CSS colour.
    pub color: String,
    /// Their selection as `(anchor, head)` UTF-16 indices into the text they
    /// are in (the body), resolved against our current document.
    pub cursor: Option<(u32, u32)>,
}

pub(crate) use xieshang_shared::presence::color_for;

/// JS numbers (and Yjs client ids) are exact up to 2⁵³.
const MAX_CLIENT: u64 = (1 << 53) - 1;

struct Peer {
    clock: u32,
    state: Value,
    /// When we last heard of it (ms), for expiry.
    seen: f64,
}

/// Our awareness state and the peers' of one document.
pub(crate) struct Presence {
    me: u64,
    clock: u32,
    user: Value,
    cursor: Option<(StickyIndex, StickyIndex)>,
    peers: HashMap<u64, Peer>,
}

impl Presence {
    /// Presence for client `me` showing `name` in `color`.
    pub fn new(me: u64, name: &str, color: &str) -> Presence {
        Presence {
            me,
            clock: 0,
            user: json!({ "name": name, "color": color }),
            cursor: None,
            peers: HashMap::new(),
        }
    }

    /// Moves our caret to `(anchor, head)` in `text`; indices past the end are clamped.
    pub fn set_cursor(&mut self, doc: &Doc, text: &TextRef, anchor: u32, head: u32) {
        let Ok(txn) = doc.try_transact() else {
            return; // an editor transaction is open; the next call will do
        };
        let len = text.len(&txn);
        let branch = BranchPtr::from(AsRef::<yrs::branch::Branch>::as_ref(text));
        // yrs has no "after" position at the very end: stick to the last character there.
        let at = |i: u32| {
            let i = i.min(len);
            StickyIndex::at(&txn, branch, i, Assoc::After)
                .or_else(|| StickyIndex::at(&txn, branch, i, Assoc::Before))
        };
        self.cursor = at(anchor).zip(at(head));
    }

    /// Our state as the JSON text awareness carries.
    fn local_json(&self) -> String {
        let cursor = match &self.cursor {
            Some((a, h)) => json!({ "anchor": a, "head": h }),
            None => Value::Null,
        };
        json!({ "user": self.user, "cursor": cursor }).to_string()
    }

    /// An awareness update announcing our current state (with a new clock).
    pub fn encode_local(&mut self) -> Vec<u8> {
        self.clock = self.clock.wrapping_add(1);
        self.encode(self.local_json())
    }

    /// An awareness update saying we left (state `null`).
    pub fn encode_removal(&mut self) -> Vec<u8> {
        self.clock = self.clock.wrapping_add(1);
        self.encode("null".to_owned())
    }

    fn encode(&self, json: String) -> Vec<u8> {
        let entry = AwarenessUpdateEntry {
            clock: self.clock,
            json: Arc::from(json),
        };
        let clients = HashMap::from([(ClientID::new(self.me & MAX_CLIENT), entry)]);
        AwarenessUpdate { clients }.encode_v1()
    }

    /// Merges a (decoded, untrusted) update from the server; newer clocks win
    /// and `null` removes a peer. Our own id is ignored. Returns whether the
    /// peers changed.
    pub fn apply(&mut self, update: AwarenessUpdate, now: f64) -> bool {
        let mut changed = false;
        for (client, entry) in update.clients {
            let id = client.get();
            if id == self.me {
                continue;
            }
            if self.peers.get(&id).is_some_and(|p| entry.clock < p.clock) {
                continue;
            }
            let state = serde_json::from_str::<Value>(&entry.json).unwrap_or(Value::Null);
            if state.is_null() {
                changed |= self.peers.remove(&id).is_some();
            } else {
                let peer = Peer {
                    clock: entry.clock,
                    state,
                    seen: now,
                };
                changed |= self.peers.get(&id).is_none_or(|p| p.state != peer.state);
                self.peers.insert(id, peer);
            }
        }
        changed
    }

    /// Drops peers not renewed for [`AWARENESS_TIMEOUT_MS`]; returns whether any went.
    pub fn expire(&mut self, now: f64) -> bool {
        let before = self.peers.len();
        self.peers
            .retain(|_, p| now - p.seen <= AWARENESS_TIMEOUT_MS);
        self.peers.len() != before
    }

    /// Forgets every peer (our connection is gone, so their states are stale).
    pub fn clear(&mut self) -> bool {
        let had = !self.peers.is_empty();
        self.peers.clear();
        had
    }

    /// The peers as the UI shows them, cursors resolved against `doc`, by client id.
    pub fn peers(&self, doc: &Doc) -> Vec<PeerPresence> {
        let txn = doc.try_transact().ok();
        let mut out: Vec<PeerPresence> = self
            .peers
            .iter()
            .map(|(&client_id, p)| {
                let user = p.state.get("user");
                let text = |k: &str| {
                    user.and_then(|u| u.get(k))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let cursor = p.state.get("cursor").and_then(|c| {
                    let resolve = |v: Option<&Value>| resolve(v?, txn.as_ref());
                    resolve(c.get("anchor")).zip(resolve(c.get("head")))
                });
                PeerPresence {
                    client_id,
                    name: text("name"),
                    color: text("color"),
                    cursor,
                }
            })
            .collect();
        out.sort_by_key(|p| p.client_id);
        out
    }
}

/// A cursor end: a plain index, or a sticky index resolved in `txn`.
fn resolve<T: ReadTxn>(value: &Value, txn: Option<&T>) -> Option<u32> {
    if let Some(n) = value.as_u64() {
        return u32::try_from(n).ok();
    }
    // yrs asserts (in debug builds) that client ids fit 53 bits: check before decoding.
    let too_big = |scope: &str| {
        value
            .get(scope)
            .and_then(|id| id.get("client"))
            .and_then(Value::as_u64)
            .is_some_and(|c| c > MAX_CLIENT)
    };
    if too_big("item") || too_big("type") {
        return None;
    }
    let sticky: StickyIndex = serde_json::from_value(value.clone()).ok()?;
    Some(sticky.get_offset(txn?)?.index)
}

#[cfg(test)]
mod tests {
    use super::*;
    // In the browser too (`cargo test … --target wasm32-unknown-unknown --lib`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use xieshang_shared::schema::{new_doc_with_client_id, Draft};
    use xieshang_shared::sync;

    fn decode(bytes: &[u8]) -> AwarenessUpdate {
        sync::decode_awareness(bytes).unwrap_or(AwarenessUpdate {
            clients: HashMap::new(),
        })
    }

    #[test]
    fn cursor_sticks_to_its_character_across_remote_inserts() {
        let doc_a = new_doc_with_client_id(1);
        Draft::new(&doc_a).set_body("hello world");
        let doc_b = new_doc_with_client_id(2);
        let state = sync::encode_state(&doc_a);
        assert!(sync::apply_update_bytes(&doc_b, &state).is_ok());

        // A puts the caret before "world".
        let mut a = Presence::new(1, "甲", "#000");
        a.set_cursor(&doc_a, &Draft::new(&doc_a).body_ref(), 6, 11);
        let msg = a.encode_local();

        let mut b = Presence::new(2, "乙", "#fff");
        assert!(b.apply(decode(&msg), 0.0));
        let peers = b.peers(&doc_b);
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].name, "甲");
        assert_eq!(peers[0].cursor, Some((6, 11)));

        // B inserts two UTF-16 units before A's caret: it moves with the text.
        Draft::new(&doc_b).insert_body(0, "协商");
        assert_eq!(b.peers(&doc_b)[0].cursor, Some((8, 13)));
    }

    #[test]
    fn clocks_removal_and_expiry() {
        let doc = new_doc_with_client_id(9);
        let mut a = Presence::new(1, "a", "#000");
        let mut b = Presence::new(2, "b", "#111");
        let first = a.encode_local();
        let second = a.encode_local();
        assert!(b.apply(decode(&second), 0.0));
        assert!(!b.apply(decode(&first), 1.0), "an older clock is ignored");
        assert!(b.peers(&doc)[0].cursor.is_none());
        assert!(b.apply(decode(&a.encode_removal()), 2.0));
        assert!(b.peers(&doc).is_empty());
        assert!(b.apply(decode(&a.encode_local()), 3.0));
        assert!(!b.expire(3.0 + AWARENESS_TIMEOUT_MS));
        assert!(b.expire(4.0 + AWARENESS_TIMEOUT_MS));
        // Our own state echoed back is not a peer.
        let own = b.encode_local();
        assert!(!b.apply(decode(&own), 5.0));
    }

    #[test]
    fn hostile_cursor_values_resolve_to_nothing() {
        let doc = new_doc_with_client_id(9);
        let txn = doc.transact();
        let huge = json!({ "item": { "client": u64::MAX, "clock": 0 }, "assoc": 0 });
        assert_eq!(resolve(&huge, Some(&txn)), None);
        assert_eq!(resolve(&json!("x"), Some(&txn)), None);
        assert_eq!(resolve(&json!(7), Some(&txn)), Some(7));
    }
}
