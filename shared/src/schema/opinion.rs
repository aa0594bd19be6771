//! The public opinion report (社情民意): a few fields and a free-text body,
//! often written on a phone at a liaison office.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yrs::{Doc, GetString, Map, MapRef, TextRef, Transact};

use super::{map_string, map_strings, text_insert, text_remove, text_replace};

/// Root `Y.Map` of the report's fields.
const FIELDS: &str = "fields";
/// Root `Y.Text` of the report body.
const BODY: &str = "body";

/// The named fields of an opinion report; keys of `Y.Map "fields"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpinionField {
    /// The report's headline.
    Title,
    /// Who reports (a member's display name).
    Reporter,
    /// The liaison office or place it comes from.
    Site,
    /// Subject area, e.g. 教育, 医疗.
    Category,
}

impl OpinionField {
    /// Every field, in display order.
    pub const ALL: [OpinionField; 4] = [
        OpinionField::Title,
        OpinionField::Reporter,
        OpinionField::Site,
        OpinionField::Category,
    ];

    /// The map key in the document (also the JSON key in `content`).
    pub fn key(self) -> &'static str {
        match self {
            OpinionField::Title => "title",
            OpinionField::Reporter => "reporter",
            OpinionField::Site => "site",
            OpinionField::Category => "category",
        }
    }
}

/// Typed view of an opinion report document.
#[derive(Clone)]
pub struct OpinionReport<'d> {
    /// The document viewed.
    doc: &'d Doc,
    /// `Y.Map "fields"`.
    fields: MapRef,
    /// `Y.Text "body"`.
    body: TextRef,
}

/// An opinion report as plain data.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpinionContent {
    /// All string fields by key (sorted), including ones newer clients added.
    pub fields: BTreeMap<String, String>,
    /// The report text.
    pub body: String,
}

impl<'d> OpinionReport<'d> {
    /// Views `doc` as an opinion report; call while no transaction is open.
    pub fn new(doc: &'d Doc) -> Self {
        OpinionReport {
            doc,
            fields: doc.get_or_insert_map(FIELDS),
            body: doc.get_or_insert_text(BODY),
        }
    }

    /// The fields map, for observing.
    pub fn fields_ref(&self) -> MapRef {
        self.fields.clone()
    }

    /// The body text, for binding to the editor.
    pub fn body_ref(&self) -> TextRef {
        self.body.clone()
    }

    /// One field's value, if set.
    pub fn field(&self, field: OpinionField) -> Option<String> {
        map_string(&self.fields, &self.doc.transact(), field.key())
    }

    /// Sets one field.
    pub fn set_field(&self, field: OpinionField, value: &str) {
        self.fields
            .insert(&mut self.doc.transact_mut(), field.key(), value);
    }

    /// The report text.
    pub fn body(&self) -> String {
        self.body.get_string(&self.doc.transact())
    }

    /// Inserts at `index` (UTF-16 units, clamped).
    pub fn insert_body(&self, index: u32, text: &str) {
        text_insert(self.doc, &self.body, index, text);
    }

    /// Removes up to `len` units from `index` (clamped).
    pub fn remove_body(&self, index: u32, len: u32) {
        text_remove(self.doc, &self.body, index, len);
    }

    /// Replaces the whole body in one transaction.
    pub fn set_body(&self, text: &str) {
        text_replace(self.doc, &self.body, text);
    }

    /// The report as plain data.
    pub fn content(&self) -> OpinionContent {
        let txn = self.doc.transact();
        OpinionContent {
            fields: map_strings(&self.fields, &txn),
            body: self.body.get_string(&txn),
        }
    }
}
