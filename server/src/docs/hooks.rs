//! What the canonical-records features need from a document owner, kept out of
//! `actor` so the owner's round structure stays readable: the read-only notice
//! of a finalized document, whether an update would change anything, which
//! clients authored an update, and running a server-made edit.

use xieshang_shared::protocol::{AuthMessage, ExtMessage, Message};
use xieshang_shared::{schema, sync};
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// Why updates to a finalized document are refused (shown to the user).
pub(super) const READ_ONLY_REASON: &str =
    "该文档已定稿，不再接受修改 (the document is finalized and read-only)";

/// The refusal a connection gets: our extension for clients that negotiated
/// `ext=1`, the y-protocols permission-denied message for stock Yjs clients.
pub(super) fn read_only_message(ext: bool) -> Message {
    let reason = READ_ONLY_REASON.to_string();
    if ext {
        Message::Ext(ExtMessage::ReadOnly { reason })
    } else {
        Message::Auth(AuthMessage::PermissionDenied { reason })
    }
}

/// Whether `u` carries content or deletions `doc` lacks. A finalized document
/// still accepts (and ignores) resyncs that change nothing, so a reconnecting
/// client is refused only when it really tries to edit.
pub(super) fn changes_anything(doc: &Doc, u: &Update) -> bool {
    let ours = doc.transact().snapshot();
    let inserts = !beyond(u, &ours.state_map).is_empty();
    inserts || !u.delete_set().diff(&ours.delete_set).is_empty()
}

/// The client ids whose content in `u` goes beyond what `doc` has: the
/// authors of the update, recorded for attribution. (Content of other clients
/// that a peer relays and the server already has does not count.)
pub(super) fn new_clients(doc: &Doc, u: &Update) -> Vec<u64> {
    let ours = doc.transact().state_vector();
    beyond(u, &ours)
}

/// The clients with blocks in `u` that end beyond `ours`. Not
/// `Update::state_vector`, which counts only clients whose blocks start at
/// clock 0, so it misses every later update of a client.
fn beyond(u: &Update, ours: &StateVector) -> Vec<u64> {
    u.insertions(true)
        .iter()
        .filter(|(c, ranges)| ranges.iter().any(|r| r.end > ours.get(c)))
        .map(|(c, _)| c.get())
        .collect()
}

/// Runs `edit` on a scratch copy of `doc` under a fresh yrs client id and
/// applies the resulting update to `doc`. Answers the update and the client id
/// (panics inside yrs or the edit are contained).
pub(super) fn run_edit(
    doc: &Doc,
    edit: Box<dyn FnOnce(&Doc) + Send>,
) -> Result<(Vec<u8>, u64), sync::SyncError> {
    let scratch = schema::new_doc();
    sync::apply_update_bytes(&scratch, &sync::encode_state(doc))?;
    sync::contain(|| edit(&scratch))?;
    let sv = doc.transact().state_vector();
    let bytes = sync::diff_since(&scratch, &sv);
    sync::apply_update_bytes(doc, &bytes)?;
    Ok((bytes, scratch.client_id().get()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{GetString, Text};

    #[test]
    fn a_clients_later_updates_count_as_new_content() {
        let server = schema::new_doc_with_client_id(9);
        let member = schema::new_doc_with_client_id(1);
        let body = member.get_or_insert_text("body");
        body.insert(&mut member.transact_mut(), 0, "第一段");
        sync::apply_update_bytes(&server, &sync::encode_state(&member)).unwrap();
        let before = server.transact().state_vector();
        body.insert(&mut member.transact_mut(), 3, "。第二段");
        let later = Update::decode_v1(&sync::diff_since(&member, &before)).unwrap();
        // yrs's own `state_vector` misses it: the blocks do not start at clock 0.
        assert!(later.state_vector().is_empty());
        assert_eq!(new_clients(&server, &later), vec![1]);
        assert!(changes_anything(&server, &later));
        sync::apply_update_bytes(&server, &sync::diff_since(&member, &before)).unwrap();
        let again = Update::decode_v1(&sync::diff_since(&member, &before)).unwrap();
        assert!(new_clients(&server, &again).is_empty());
        assert!(!changes_anything(&server, &again));
        let text = server.get_or_insert_text("body");
        assert_eq!(text.get_string(&server.transact()), "第一段。第二段");
    }
}
