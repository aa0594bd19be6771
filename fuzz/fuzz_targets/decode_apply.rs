//! Fuzzes what the server does with every WebSocket frame: decode the
//! y-websocket message, then decode and apply its payload to a document that
//! already has content.
//!
//! Panics inside `sync::contain` are part of the design (they become
//! `SyncError::Panicked`), so the panic hook is silenced; anything the
//! containment cannot catch (abort, out-of-memory, stack overflow, timeout,
//! or a panic outside `contain`) is still reported as a crash, and so is an
//! accepted update after which the document's snapshot no longer decodes.

#![no_main]

use std::sync::{Once, OnceLock};

use libfuzzer_sys::fuzz_target;
use xieshang_shared::model::DocKind;
use xieshang_shared::protocol::{Message, SyncMessage};
use xieshang_shared::schema::{self, Draft, Entry, Record, RecordField};
use xieshang_shared::sync;

/// Replaces libfuzzer-sys's abort-on-any-panic hook once per process.
static QUIET_PANICS: Once = Once::new();

/// The fixed seed update: built once, applied to a fresh document per run.
static SEED: OnceLock<Vec<u8>> = OnceLock::new();

fn seed_update() -> &'static [u8] {
    SEED.get_or_init(|| {
        let doc = schema::new_doc_with_client_id(1);
        let draft = Draft::new(&doc);
        draft.set_title("关于加快乡村旅游发展的建议");
        draft.insert_body(0, "# 建议\n一、加强规划 😀\n二、完善设施\n");
        draft.remove_body(3, 2);
        let record = Record::new(&doc);
        record.set_field(RecordField::Place, "城关街道委员联络室");
        record.push_entry(&Entry {
            speaker: "张委员".into(),
            text: "建议增加停车位。".into(),
            at: "14:30".into(),
        });
        record.insert_summary(0, "形成三条意见。");
        sync::encode_state(&doc)
    })
}

/// A document holding the seed content, as the server's would.
fn seeded_doc() -> Option<xieshang_shared::yrs::Doc> {
    let doc = schema::new_doc_with_client_id(2);
    sync::apply_update_bytes(&doc, seed_update()).ok()?;
    Some(doc)
}

fuzz_target!(|data: &[u8]| {
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Ok(message) = Message::decode(data) else {
        return;
    };
    match message {
        Message::Sync(SyncMessage::Step2(bytes)) | Message::Sync(SyncMessage::Update(bytes)) => {
            let Some(doc) = seeded_doc() else { return };
            let Ok(update) = sync::decode_update(&bytes) else {
                return;
            };
            if sync::apply_update(&doc, update).is_ok() {
                // What the server does next: snapshot, serve content, answer Step1s.
                // An accepted update must never make the snapshot unreadable.
                let snapshot = match sync::try_encode_state(&doc) {
                    Ok(snapshot) => snapshot,
                    Err(e) => panic!("accepted update broke encoding: {e}"),
                };
                if let Err(e) = sync::decode_update(&snapshot) {
                    panic!("accepted update made the snapshot undecodable: {e}");
                }
                let _ = sync::state_vector(&doc);
                let _ = schema::content(DocKind::Draft, &doc);
                let _ = schema::content(DocKind::Record, &doc);
            }
        }
        Message::Sync(SyncMessage::Step1(bytes)) => {
            let Some(doc) = seeded_doc() else { return };
            if let Ok(sv) = sync::decode_state_vector(&bytes) {
                let _ = sync::diff_since(&doc, &sv);
            }
        }
        Message::Awareness(bytes) => {
            let _ = sync::decode_awareness(&bytes);
        }
        Message::Auth(_) | Message::QueryAwareness | Message::Ext(_) => {}
    }
});
