//! The consultation record (协商记录): who met, when and where, what each
//! participant said, and a summary.
//!
//! Speeches are appended by several members at once (often offline), so each
//! entry is its own `Y.Map` in a `Y.Array`: concurrent appends both survive and
//! every peer sees them in the same order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yrs::{Array, ArrayRef, Doc, GetString, Map, MapPrelim, MapRef, Out, TextRef, Transact};

use super::{map_string, map_strings, text_insert, text_remove, text_replace};

/// Root `Y.Map` of the record's header fields.
const FIELDS: &str = "fields";
/// Root `Y.Array` of speech entries.
const ENTRIES: &str = "entries";
/// Root `Y.Text` of the summary.
const SUMMARY: &str = "summary";
/// Keys of one entry map.
const SPEAKER: &str = "speaker";
const TEXT: &str = "text";
const AT: &str = "at";

/// The header fields of a record; keys of `Y.Map "fields"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordField {
    /// 协商形式, as a [`crate::model::ConsultationForm`] wire name.
    Form,
    /// 时间: when the consultation took place (free text, e.g. "2026-03-12 14:30").
    Time,
    /// 地点: where.
    Place,
    /// 主持人: who presided.
    Presider,
    /// 参加人员: who took part (free text, as written in the record).
    Participants,
}

impl RecordField {
    /// Every field, in the order a printed record lists them.
    pub const ALL: [RecordField; 5] = [
        RecordField::Form,
        RecordField::Time,
        RecordField::Place,
        RecordField::Presider,
        RecordField::Participants,
    ];

    /// The map key in the document (also the JSON key in `content`).
    pub fn key(self) -> &'static str {
        match self {
            RecordField::Form => "form",
            RecordField::Time => "time",
            RecordField::Place => "place",
            RecordField::Presider => "presider",
            RecordField::Participants => "participants",
        }
    }
}

/// One field of a speech, for editing it in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryField {
    /// Who spoke.
    Speaker,
    /// What was said.
    Text,
    /// When (free text, e.g. "09:30").
    At,
}

impl EntryField {
    /// The key inside the entry's `Y.Map`.
    pub fn key(self) -> &'static str {
        match self {
            EntryField::Speaker => SPEAKER,
            EntryField::Text => TEXT,
            EntryField::At => AT,
        }
    }
}

/// One speech in a record, as plain values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Entry {
    /// Who spoke (display name).
    pub speaker: String,
    /// What they said.
    pub text: String,
    /// When, as written by the recorder (e.g. "14:35").
    pub at: String,
}

/// Typed view of a record document.
#[derive(Clone)]
pub struct Record<'d> {
    /// The document viewed.
    doc: &'d Doc,
    /// `Y.Map "fields"`.
    fields: MapRef,
    /// `Y.Array "entries"` of `Y.Map {speaker, text, at}`.
    entries: ArrayRef,
    /// `Y.Text "summary"`.
    summary: TextRef,
}

/// A record as plain data.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordContent {
    /// Header fields by key (sorted), including ones newer clients added.
    pub fields: BTreeMap<String, String>,
    /// Speeches in document order.
    pub entries: Vec<Entry>,
    /// The summary text.
    pub summary: String,
}

impl<'d> Record<'d> {
    /// Views `doc` as a record; call while no transaction is open.
    pub fn new(doc: &'d Doc) -> Self {
        Record {
            doc,
            fields: doc.get_or_insert_map(FIELDS),
            entries: doc.get_or_insert_array(ENTRIES),
            summary: doc.get_or_insert_text(SUMMARY),
        }
    }

    /// The fields map, for observing.
    pub fn fields_ref(&self) -> MapRef {
        self.fields.clone()
    }

    /// The entries array, for observing.
    pub fn entries_ref(&self) -> ArrayRef {
        self.entries.clone()
    }

    /// The summary text, for binding to the editor.
    pub fn summary_ref(&self) -> TextRef {
        self.summary.clone()
    }

    /// One header field, if set.
    pub fn field(&self, field: RecordField) -> Option<String> {
        map_string(&self.fields, &self.doc.transact(), field.key())
    }

    /// Sets one header field.
    pub fn set_field(&self, field: RecordField, value: &str) {
        self.fields
            .insert(&mut self.doc.transact_mut(), field.key(), value);
    }

    /// Appends a speech at the end.
    pub fn push_entry(&self, entry: &Entry) {
        let mut txn = self.doc.transact_mut();
        let map = self.entries.push_back(&mut txn, MapPrelim::default());
        map.insert(&mut txn, SPEAKER, entry.speaker.as_str());
        map.insert(&mut txn, TEXT, entry.text.as_str());
        map.insert(&mut txn, AT, entry.at.as_str());
    }

    /// Sets one field of the speech at `index` (several members edit the list
    /// at once, so a field is written alone, never the whole entry). Returns
    /// whether there was such an entry.
    pub fn set_entry_field(&self, index: u32, field: EntryField, value: &str) -> bool {
        let Ok(mut txn) = self.doc.try_transact_mut() else {
            return false;
        };
        match self.entries.get(&txn, index) {
            Some(Out::YMap(map)) => {
                map.insert(&mut txn, field.key(), value);
                true
            }
            _ => false,
        }
    }

    /// Removes the entry at `index`, if it exists; returns whether it did.
    pub fn remove_entry(&self, index: u32) -> bool {
        let mut txn = self.doc.transact_mut();
        if index < self.entries.len(&txn) {
            self.entries.remove(&mut txn, index);
            true
        } else {
            false
        }
    }

    /// All speeches in order; items that are not entry maps are skipped.
    pub fn entries(&self) -> Vec<Entry> {
        let txn = self.doc.transact();
        self.entries
            .iter(&txn)
            .filter_map(|item| match item {
                Out::YMap(map) => Some(Entry {
                    speaker: map_string(&map, &txn, SPEAKER).unwrap_or_default(),
                    text: map_string(&map, &txn, TEXT).unwrap_or_default(),
                    at: map_string(&map, &txn, AT).unwrap_or_default(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The summary text.
    pub fn summary(&self) -> String {
        self.summary.get_string(&self.doc.transact())
    }

    /// Inserts into the summary at `index` (UTF-16 units, clamped).
    pub fn insert_summary(&self, index: u32, text: &str) {
        text_insert(self.doc, &self.summary, index, text);
    }

    /// Removes up to `len` units of the summary from `index` (clamped).
    pub fn remove_summary(&self, index: u32, len: u32) {
        text_remove(self.doc, &self.summary, index, len);
    }

    /// Replaces the whole summary in one transaction.
    pub fn set_summary(&self, text: &str) {
        text_replace(self.doc, &self.summary, text);
    }

    /// The record as plain data.
    pub fn content(&self) -> RecordContent {
        let fields = map_strings(&self.fields, &self.doc.transact());
        RecordContent {
            fields,
            entries: self.entries(),
            summary: self.summary(),
        }
    }
}
