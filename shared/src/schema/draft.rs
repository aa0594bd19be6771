//! The recommendation draft (协商成果建议稿): Markdown body, metadata, comments.

use serde::{Deserialize, Serialize};
use yrs::{ArrayRef, Doc, GetString, Map, MapRef, TextRef, Transact};

use super::{map_string, text_insert, text_remove, text_replace};
use crate::ids::TopicId;
use crate::model::ConsultationForm;

/// Root `Y.Text` holding the Markdown body.
const BODY: &str = "body";
/// Root `Y.Map` holding title, topic and form.
const META: &str = "meta";
/// Root `Y.Array` of comments anchored with sticky indexes.
const COMMENTS: &str = "comments";
/// Keys of [`META`].
const TITLE: &str = "title";
const TOPIC: &str = "topic";
const FORM: &str = "form";

/// Typed view of a draft document.
///
/// Holds the root refs so each call is one short transaction; cheap to build,
/// so make one where needed rather than storing it.
#[derive(Clone)]
pub struct Draft<'d> {
    /// The document viewed; transactions are opened on it.
    doc: &'d Doc,
    /// `Y.Text "body"`.
    body: TextRef,
    /// `Y.Map "meta"`.
    meta: MapRef,
    /// `Y.Array "comments"`.
    comments: ArrayRef,
}

/// A draft as plain data: what the API returns and what finalization renders.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftContent {
    /// The title from `meta`, empty if never set.
    pub title: String,
    /// The merged Markdown body.
    pub body: String,
}

impl<'d> Draft<'d> {
    /// Views `doc` as a draft, creating the root types if missing.
    ///
    /// Panics (inside yrs) if a transaction on `doc` is open; call it first.
    pub fn new(doc: &'d Doc) -> Self {
        Draft {
            doc,
            body: doc.get_or_insert_text(BODY),
            meta: doc.get_or_insert_map(META),
            comments: doc.get_or_insert_array(COMMENTS),
        }
    }

    /// The body text, for binding to the editor and observing.
    pub fn body_ref(&self) -> TextRef {
        self.body.clone()
    }

    /// The metadata map (title, topic, form).
    pub fn meta_ref(&self) -> MapRef {
        self.meta.clone()
    }

    /// The comments array.
    pub fn comments_ref(&self) -> ArrayRef {
        self.comments.clone()
    }

    /// The title, empty if never set.
    pub fn title(&self) -> String {
        map_string(&self.meta, &self.doc.transact(), TITLE).unwrap_or_default()
    }

    /// Sets the title (last writer wins, as for any map key).
    pub fn set_title(&self, title: &str) {
        self.meta.insert(&mut self.doc.transact_mut(), TITLE, title);
    }

    /// The topic this draft belongs to, if recorded.
    pub fn topic(&self) -> Option<TopicId> {
        let raw = map_string(&self.meta, &self.doc.transact(), TOPIC)?;
        raw.parse::<i64>()
            .ok()
            .or_else(|| raw.parse::<f64>().ok().map(|f| f as i64))
            .map(TopicId)
    }

    /// Records the topic, as a number so JavaScript reads it as one.
    pub fn set_topic(&self, topic: TopicId) {
        self.meta
            .insert(&mut self.doc.transact_mut(), TOPIC, topic.0);
    }

    /// The consultation form, if recorded and known.
    pub fn form(&self) -> Option<ConsultationForm> {
        map_string(&self.meta, &self.doc.transact(), FORM)?
            .parse()
            .ok()
    }

    /// Records the consultation form by its wire name.
    pub fn set_form(&self, form: ConsultationForm) {
        self.meta
            .insert(&mut self.doc.transact_mut(), FORM, form.as_str());
    }

    /// The merged Markdown body.
    pub fn body(&self) -> String {
        self.body.get_string(&self.doc.transact())
    }

    /// Inserts `text` at `index` (UTF-16 units, clamped to the length).
    pub fn insert_body(&self, index: u32, text: &str) {
        text_insert(self.doc, &self.body, index, text);
    }

    /// Removes up to `len` UTF-16 units from `index` (clamped).
    pub fn remove_body(&self, index: u32, len: u32) {
        text_remove(self.doc, &self.body, index, len);
    }

    /// Replaces the whole body in one transaction (imports, tests).
    pub fn set_body(&self, text: &str) {
        text_replace(self.doc, &self.body, text);
    }

    /// The draft as plain data.
    pub fn content(&self) -> DraftContent {
        DraftContent {
            title: self.title(),
            body: self.body(),
        }
    }
}
