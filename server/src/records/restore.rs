//! Restoring an old version as a new edit: nothing is rewritten.
//!
//! [`apply`] changes a document so that its typed content (and so its canonical
//! text) equals that of another document, with ordinary CRDT operations: texts
//! are edited line by line along [`super::diff::line_diff`] (unchanged lines keep
//! their items, so their authors), map keys are set or removed, and record
//! entries are replaced only when they differ. The result merges with concurrent
//! edits like any member's edit would.

use std::collections::BTreeMap;

use xieshang_shared::schema::{Draft, OpinionReport, Record};
use xieshang_shared::DocKind;
use yrs::{Doc, GetString, Map, MapRef, Text, TextRef, Transact};

use super::diff::{line_diff, Op};

/// Makes `doc`'s content equal `target`'s, both viewed as `kind`.
/// Call with no transaction open on either document.
pub fn apply(kind: DocKind, doc: &Doc, target: &Doc) {
    match kind {
        DocKind::Draft => {
            let (view, want) = (Draft::new(doc), Draft::new(target).content());
            if view.title() != want.title {
                view.set_title(&want.title);
            }
            edit_text(doc, &view.body_ref(), &want.body);
        }
        DocKind::Record => {
            let (view, want) = (Record::new(doc), Record::new(target).content());
            set_fields(doc, &view.fields_ref(), &want.fields);
            if view.entries() != want.entries {
                while view.remove_entry(0) {}
                for entry in &want.entries {
                    view.push_entry(entry);
                }
            }
            edit_text(doc, &view.summary_ref(), &want.summary);
        }
        DocKind::OpinionReport => {
            let (view, want) = (
                OpinionReport::new(doc),
                OpinionReport::new(target).content(),
            );
            set_fields(doc, &view.fields_ref(), &want.fields);
            edit_text(doc, &view.body_ref(), &want.body);
        }
    }
}

/// Edits `text` into `want` along the line diff, in one transaction.
fn edit_text(doc: &Doc, text: &TextRef, want: &str) {
    let mut txn = doc.transact_mut();
    let current = text.get_string(&txn);
    if current == want {
        return;
    }
    let mut pos: u32 = 0;
    for line in line_diff(&current, want) {
        let len = line.text.encode_utf16().count() as u32;
        match line.op {
            Op::Equal => pos += len,
            Op::Delete => text.remove_range(&mut txn, pos, len),
            Op::Insert => {
                text.insert(&mut txn, pos, &line.text);
                pos += len;
            }
        }
    }
}

/// Sets every key of `want` that differs and removes the string keys it lacks.
fn set_fields(doc: &Doc, map: &MapRef, want: &BTreeMap<String, String>) {
    let mut txn = doc.transact_mut();
    let stale: Vec<String> = map
        .keys(&txn)
        .filter(|k| !want.contains_key(*k))
        .map(str::to_string)
        .collect();
    for key in stale {
        map.remove(&mut txn, &key);
    }
    for (key, value) in want {
        let same = map
            .get(&txn, key)
            .is_some_and(|v| v.to_string(&txn) == *value);
        if !same {
            map.insert(&mut txn, key.as_str(), value.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::canonical::render;
    use xieshang_shared::schema::{self, Entry, RecordField};

    #[test]
    fn draft_restores_to_the_old_text() {
        let doc = schema::new_doc();
        let d = Draft::new(&doc);
        d.set_title("旧标题");
        d.set_body("第一段\n\n第二段\n\n第三段");
        let old = schema::new_doc();
        yrs::Transact::transact_mut(&old)
            .apply_update(
                yrs::updates::decoder::Decode::decode_v1(&xieshang_shared::sync::encode_state(
                    &doc,
                ))
                .unwrap(),
            )
            .unwrap();
        d.set_title("新标题");
        d.remove_body(0, 3);
        d.insert_body(0, "改写");
        d.insert_body(d.body().encode_utf16().count() as u32, "\n\n第四段");
        apply(DocKind::Draft, &doc, &old);
        assert_eq!(render(DocKind::Draft, &doc), render(DocKind::Draft, &old));
    }

    #[test]
    fn record_restores_fields_entries_summary() {
        let old = schema::new_doc();
        let r = Record::new(&old);
        r.set_field(RecordField::Place, "会议室");
        r.push_entry(&Entry {
            speaker: "张委员".into(),
            text: "建议".into(),
            at: "14:00".into(),
        });
        r.set_summary("小结");
        let doc = schema::new_doc();
        let r2 = Record::new(&doc);
        r2.set_field(RecordField::Time, "明天");
        r2.set_summary("别的");
        apply(DocKind::Record, &doc, &old);
        assert_eq!(render(DocKind::Record, &doc), render(DocKind::Record, &old));
    }
}
