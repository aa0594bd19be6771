//! Schema tests: typed views round-trip and merge like users expect.

use super::*;
use crate::ids::TopicId;
use crate::model::ConsultationForm;
use crate::sync::{
    apply_update_bytes, decode_state_vector, diff_since, encode_state, state_vector,
};

/// Sends everything `from` has that `to` lacks.
fn sync_into(from: &Doc, to: &Doc) {
    let sv = decode_state_vector(&state_vector(to)).expect("own state vector decodes");
    apply_update_bytes(to, &diff_since(from, &sv)).expect("diff applies");
}

#[test]
fn new_doc_uses_utf16_offsets() {
    assert_eq!(new_doc().offset_kind(), OffsetKind::Utf16);
    let doc = new_doc_with_client_id(5);
    assert_eq!(doc.offset_kind(), OffsetKind::Utf16);
    assert_eq!(doc.client_id().get(), 5);
    // "😀" is two UTF-16 units, as in JavaScript: index 2 is right after it.
    let draft = Draft::new(&doc);
    draft.insert_body(0, "😀协商");
    draft.insert_body(2, "|");
    assert_eq!(draft.body(), "😀|协商");
}

#[test]
fn draft_title_and_body_round_trip() {
    let doc = new_doc();
    let draft = Draft::new(&doc);
    assert_eq!(draft.content(), DraftContent::default());
    draft.set_title("关于发展乡村旅游的建议");
    draft.insert_body(0, "# 建议\n");
    draft.insert_body(100, "一、加强规划。"); // clamped to the end
    draft.remove_body(0, 2);
    draft.remove_body(1000, 5); // nothing there, no panic
    draft.set_topic(TopicId(12));
    draft.set_form(ConsultationForm::Dialogue);
    assert_eq!(draft.title(), "关于发展乡村旅游的建议");
    assert_eq!(draft.body(), "建议\n一、加强规划。");
    assert_eq!(draft.topic(), Some(TopicId(12)));
    assert_eq!(draft.form(), Some(ConsultationForm::Dialogue));

    // The same state through an update into a fresh document.
    let copy = new_doc();
    apply_update_bytes(&copy, &encode_state(&doc)).expect("applies");
    assert_eq!(Draft::new(&copy).content(), draft.content());
    draft.set_body("重写");
    assert_eq!(draft.body(), "重写");
}

#[test]
fn draft_content_json_shape() {
    let doc = new_doc();
    let draft = Draft::new(&doc);
    draft.set_title("标题");
    draft.insert_body(0, "正文");
    assert_eq!(
        content(DocKind::Draft, &doc),
        serde_json::json!({"title": "标题", "body": "正文"})
    );
}

#[test]
fn concurrent_draft_edits_converge() {
    let a = new_doc_with_client_id(1);
    let b = new_doc_with_client_id(2);
    Draft::new(&a).insert_body(0, "共同");
    sync_into(&a, &b);
    Draft::new(&a).insert_body(0, "甲");
    Draft::new(&b).insert_body(2, "乙");
    sync_into(&a, &b);
    sync_into(&b, &a);
    assert_eq!(Draft::new(&a).body(), Draft::new(&b).body());
    assert_eq!(Draft::new(&a).body(), "甲共同乙");
}

#[test]
fn record_entries_from_two_docs_merge() {
    let a = new_doc_with_client_id(10);
    let b = new_doc_with_client_id(11);
    let ra = Record::new(&a);
    ra.set_field(RecordField::Place, "城关街道委员联络室");
    ra.set_field(RecordField::Form, ConsultationForm::Meeting.as_str());
    sync_into(&a, &b);
    let rb = Record::new(&b);
    let first = Entry {
        speaker: "张委员".into(),
        text: "建议增加停车位。".into(),
        at: "14:30".into(),
    };
    let second = Entry {
        speaker: "李委员".into(),
        text: "同意，并建议错峰。".into(),
        at: "14:35".into(),
    };
    ra.push_entry(&first);
    rb.push_entry(&second); // concurrently, offline
    rb.insert_summary(0, "会议形成三条意见。");
    sync_into(&a, &b);
    sync_into(&b, &a);

    let (ca, cb) = (ra.content(), rb.content());
    assert_eq!(ca, cb);
    assert_eq!(ca.entries.len(), 2);
    assert!(ca.entries.contains(&first) && ca.entries.contains(&second));
    assert_eq!(ca.summary, "会议形成三条意见。");
    assert_eq!(
        rb.field(RecordField::Place).as_deref(),
        Some("城关街道委员联络室")
    );
    assert_eq!(rb.field(RecordField::Presider), None);
    assert_eq!(ca.fields.get("form").map(String::as_str), Some("meeting"));

    let json = content(DocKind::Record, &a);
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["fields"]["place"], "城关街道委员联络室");
    assert_eq!(json["summary"], "会议形成三条意见。");

    assert!(ra.remove_entry(0));
    assert!(!ra.remove_entry(5));
    assert_eq!(ra.entries().len(), 1);
}

#[test]
fn opinion_report_round_trip() {
    let doc = new_doc();
    let report = OpinionReport::new(&doc);
    report.set_field(OpinionField::Title, "关于农村饮水安全的情况反映");
    report.set_field(OpinionField::Category, "民生");
    report.insert_body(0, "部分村组水压不足。");
    report.remove_body(0, 2);
    assert_eq!(
        report.field(OpinionField::Category).as_deref(),
        Some("民生")
    );
    assert_eq!(report.body(), "村组水压不足。");
    let json = content(DocKind::OpinionReport, &doc);
    assert_eq!(json["fields"]["title"], "关于农村饮水安全的情况反映");
    assert_eq!(json["body"], "村组水压不足。");
    for field in OpinionField::ALL {
        let _ = report.field(field);
    }
    for field in RecordField::ALL {
        assert!(!field.key().is_empty());
    }
}

#[test]
fn content_of_an_empty_doc_is_empty_not_an_error() {
    let doc = new_doc();
    assert_eq!(
        content(DocKind::Draft, &doc),
        serde_json::json!({"title": "", "body": ""})
    );
    assert_eq!(
        content(DocKind::Record, &new_doc()),
        serde_json::json!({"fields": {}, "entries": [], "summary": ""})
    );
}

#[test]
fn a_speech_field_is_edited_in_place() {
    use crate::schema::{Entry, EntryField, Record};
    let doc = crate::schema::new_doc();
    let record = Record::new(&doc);
    record.push_entry(&Entry {
        speaker: "陈明".into(),
        text: "建议".into(),
        at: "09:00".into(),
    });
    assert!(record.set_entry_field(0, EntryField::Text, "建议推行县管乡用"));
    assert!(!record.set_entry_field(1, EntryField::Speaker, "nobody"));
    let entries = record.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].text, "建议推行县管乡用");
    assert_eq!(entries[0].speaker, "陈明");
}
