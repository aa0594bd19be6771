//! Everything the server (and a member's browser) reads from a document after
//! applying a member's bytes, as one function: the fuzz targets (`fuzz/`) call
//! [`exercise`] on every input, and `tests/fuzz_regressions.rs` replays the
//! committed corpus and every crash ever found through it on stable Rust.
//!
//! yrs has had memory bugs (`patches/README.md`), so an update that applies
//! cleanly is not proof the document is sound: each input is applied onto
//! several seeded documents ([`seeds`]: every document kind, deletions, nested
//! maps, several authors), and then every read runs: the typed content of every
//! kind, the canonical text and version name, the bulletin in DOCX, Markdown and
//! HTML, the Markdown preview of every text, authorship, the diff against the version before, restore in both
//! directions, compaction (encode, re-decode, read back the same text) and the
//! client's own apply and store path.
//!
//! Invariants that panic (so the fuzzer reports them): the snapshot of an
//! accepted update must decode and read back as the same canonical text.
//! Panics inside `sync::contain` are by design (they become errors).

use std::sync::OnceLock;

use xieshang_shared::model::DocKind;
use xieshang_shared::protocol::{Message, SyncMessage};
use xieshang_shared::schema::{
    self, Draft, Entry, OpinionField, OpinionReport, Record, RecordField,
};
use xieshang_shared::sync;
use yrs::{Array, Doc, Map, MapPrelim, Transact};

use crate::docs::presence::{Presence, Speaker};
use crate::docs::ConnId;
use crate::export::{self, docx, html, markdown, Bulletin};
use crate::records::{authorship, canonical, diff, restore};

/// A seeded document: its kind and its whole state as one v1 update.
pub struct Seed {
    pub name: &'static str,
    pub kind: DocKind,
    pub state: Vec<u8>,
}

/// The documents every input is applied to, built once per process.
pub fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(build_seeds)
}

fn build_seeds() -> Vec<Seed> {
    let seed = |name, kind, doc: &Doc| Seed {
        name,
        kind,
        state: sync::encode_state(doc),
    };
    let mut seeds = Vec::new();

    let doc = schema::new_doc_with_client_id(1);
    let draft = Draft::new(&doc);
    draft.set_title("关于加快乡村旅游发展的建议");
    draft.insert_body(0, "# 建议\n一、加强规划 😀\n二、完善设施\n");
    draft.remove_body(3, 2);
    seeds.push(seed("draft", DocKind::Draft, &doc));

    // A draft and a record in one document, by one author: the seed on which the
    // fuzzer found yrs's use-after-free (`patches/README.md`), kept byte for byte.
    let record = Record::new(&doc);
    record.set_field(RecordField::Place, "城关街道委员联络室");
    record.push_entry(&Entry {
        speaker: "张委员".into(),
        text: "建议增加停车位。".into(),
        at: "14:30".into(),
    });
    record.insert_summary(0, "形成三条意见。");
    seeds.push(seed("draft_and_record", DocKind::Record, &doc));

    let doc = schema::new_doc_with_client_id(1);
    let record = Record::new(&doc);
    record.set_field(RecordField::Place, "城关街道委员联络室");
    for (speaker, text, at) in [
        ("张委员", "建议增加停车位。", "14:30"),
        ("李委员", "同意，并建议错峰开放。", "14:35"),
    ] {
        record.push_entry(&Entry {
            speaker: speaker.into(),
            text: text.into(),
            at: at.into(),
        });
    }
    record.insert_summary(0, "形成三条意见。");
    seeds.push(seed("record", DocKind::Record, &doc));

    let doc = schema::new_doc_with_client_id(1);
    let report = OpinionReport::new(&doc);
    report.set_field(OpinionField::Title, "关于农村客运班线的社情民意");
    report.insert_body(0, "群众反映：班次少，末班早。\n建议：延长末班时间。");
    seeds.push(seed("opinion_report", DocKind::OpinionReport, &doc));

    // Two authors, deletions everywhere, overwritten map values, nested maps in
    // an array (the draft's comments): the structures yrs frees and splits.
    let doc = schema::new_doc_with_client_id(1);
    let draft = Draft::new(&doc);
    draft.set_title("初稿");
    draft.set_title("关于老旧小区改造的建议");
    draft.insert_body(0, "一、摸清底数\n二、分类推进\n三、建立长效机制\n");
    draft.remove_body(0, 7);
    {
        let comments = draft.comments_ref();
        let mut txn = doc.transact_mut();
        for text in ["请补充数据来源", "第二条可以合并"] {
            comments.push_back(
                &mut txn,
                MapPrelim::from([("text", text.to_string()), ("by", "王委员".to_string())]),
            );
        }
        comments.remove(&mut txn, 0);
    }
    let other = schema::new_doc_with_client_id(3);
    sync::apply_update_bytes(&other, &sync::encode_state(&doc)).ok();
    let draft3 = Draft::new(&other);
    draft3.insert_body(0, "零、总体要求\n");
    draft3.remove_body(2, 3);
    let meta = draft3.meta_ref();
    {
        let mut txn = other.transact_mut();
        meta.insert(&mut txn, "note", MapPrelim::from([("a", "1"), ("b", "2")]));
        meta.insert(&mut txn, "note", "replaced");
    }
    sync::apply_update_bytes(&doc, &sync::encode_state(&other)).ok();
    seeds.push(seed("draft_edited_by_two", DocKind::Draft, &doc));

    let record = Record::new(&doc);
    record.set_field(RecordField::Place, "城关");
    record.set_field(RecordField::Place, "城关街道");
    record.push_entry(&Entry {
        speaker: "赵委员".into(),
        text: "删去的发言".into(),
        at: "09:00".into(),
    });
    record.remove_entry(0);
    seeds.push(seed("record_with_deletions", DocKind::Record, &doc));

    seeds
}

/// Runs `data` (a whole y-websocket message) through everything the server does
/// with it. Never panics on a sound document; see the module docs.
pub fn exercise(data: &[u8]) {
    let Ok(message) = Message::decode(data) else {
        return;
    };
    match message {
        Message::Sync(SyncMessage::Step2(bytes)) | Message::Sync(SyncMessage::Update(bytes)) => {
            for seed in seeds() {
                apply_and_read(seed, &bytes);
            }
        }
        Message::Sync(SyncMessage::Step1(bytes)) => {
            if let Ok(sv) = sync::decode_state_vector(&bytes) {
                for seed in seeds() {
                    if let Some(doc) = load(seed) {
                        let _ = sync::try_diff_since(&doc, &sv);
                    }
                }
            }
        }
        Message::Awareness(bytes) => {
            if let Ok(update) = sync::decode_awareness(&bytes) {
                let mut presence = Presence::default();
                let who = Speaker {
                    conn: ConnId(1),
                    user: 1,
                    name: "fuzz",
                    joined: 0,
                };
                let _ = presence.apply(who, update.clone());
                let _ = presence.remove_conn(ConnId(1));
                // A later connection claims the removed ids; an earlier one echoes.
                let _ = presence.apply(
                    Speaker {
                        conn: ConnId(2),
                        joined: presence.epoch(),
                        ..who
                    },
                    update.clone(),
                );
                let _ = presence.apply(
                    Speaker {
                        conn: ConnId(3),
                        ..who
                    },
                    update,
                );
                let _ = presence.encode_all();
            }
        }
        Message::Auth(_) | Message::QueryAwareness | Message::Ext(_) => {}
    }
}

fn load(seed: &Seed) -> Option<Doc> {
    let doc = schema::new_doc_with_client_id(2);
    sync::apply_update_bytes(&doc, &seed.state).ok()?;
    Some(doc)
}

/// Applies `update` to `seed` as the server does, then as a member's browser
/// does, and reads everything after each.
fn apply_and_read(seed: &Seed, update: &[u8]) {
    let Some(doc) = load(seed) else { return };
    let before = canonical::describe(seed.kind, &doc);
    if sync::apply_update_bytes(&doc, update).is_ok() {
        read_everything(seed, &doc, &before);
    }
    // The client: the same bytes through its apply path, then what its store
    // keeps (the state, and the update merged into its log).
    let Some(doc) = load(seed) else { return };
    if sync::apply_remote(&doc, update, "fuzz").is_ok() {
        let _ = sync::try_encode_state(&doc);
        let _ = sync::merge_updates(&[&seed.state, update]);
        let _ = schema::content(seed.kind, &doc);
    }
}

fn read_everything(seed: &Seed, doc: &Doc, before: &canonical::DocState) {
    let kind = seed.kind;
    for k in DocKind::ALL {
        let _ = schema::content(*k, doc);
    }
    let after = canonical::describe(kind, doc);

    // Compaction writes this snapshot in place of the log only if it reads back
    // the same; otherwise the server keeps the log and reloads the document.
    // Some forged updates get there (fuzz/open/README.md): a handled case, so
    // not a crash here; the snapshot must still decode (below).
    if canonical::checked_snapshot(kind, doc).is_err() {
        return;
    }
    let reloaded = match canonical::load_state(&after.state) {
        Ok(reloaded) => reloaded,
        Err(e) => panic!(
            "{}: accepted update, snapshot does not load: {e}",
            seed.name
        ),
    };

    // An update that changed nothing reads as the seed did: the rest is for
    // documents that moved (most fuzz inputs apply as no-ops or are refused).
    if after.version == before.version {
        return;
    }

    // The bulletin in every format.
    let bulletin = Bulletin {
        committee: "某某县政协".into(),
        sender: None,
        report_to: Some("县委".into()),
        send_to: Some("各专委会".into()),
        number: Some(1),
        date: export::cn_date(0),
        title: canonical::title(kind, &after.content),
        body: export::bulletin_body(kind, &after.content, &after.text),
        signers: vec!["张委员".into()],
        draft: false,
    };
    let _ = markdown::render(&bulletin);
    let _ = html::render(&bulletin);
    let _ = docx::render(&bulletin);
    // The draft preview's read, on every text the document holds.
    for text in [&after.text, &bulletin.body, &bulletin.title] {
        let _ = xieshang_shared::markdown::to_html(text);
    }

    // Who wrote what.
    let text = authorship::text_of(kind, doc);
    let chars = authorship::chars_with_clients(doc, &text);
    let _ = authorship::paragraphs(&chars);

    // The diff against the version before.
    let lines = diff::line_diff(&before.text, &after.text);
    let _ = diff::unified(&lines);
    let _ = diff::is_change(&lines);

    // Restore: the old version onto the new document and the new onto the old,
    // contained as the server runs it (a server edit on a scratch copy, amend on
    // a fresh document): yrs can panic on a document a forged update left
    // inconsistent (fuzz/regressions/decode_apply/opinion-report-onto-seeds.bin).
    if let Ok(old) = canonical::load_state(&before.state) {
        // After a contained panic the server drops the copy: so do we.
        if sync::contain(|| restore::apply(kind, doc, &old)).is_ok() {
            let _ = canonical::describe(kind, doc);
        }
        if sync::contain(|| restore::apply(kind, &old, &reloaded)).is_ok() {
            let _ = canonical::describe(kind, &old);
        }
    }
}
