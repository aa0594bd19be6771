//! What keeps the app useful without a network: the service worker that
//! serves the app shell, the caches of what the server last said (topics,
//! document facts, versions) in the sync engine's key-value store, and
//! sign-offs made offline, queued until the server can take them.
//!
//! Documents themselves need nothing here: the sync engine keeps every
//! document ever opened in IndexedDB, with its unsent changes.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use xieshang_shared::{DocId, DocKind, Topic, TopicId};

use crate::api::{self, ApiError, DocMeta, UserSummary, Version};
use crate::sync::store;

/// Registers `/sw.js` (written by `cargo xtask build`) so that after one
/// visit the app shell opens with the network off. Harmless where service
/// workers are unavailable (plain http on another host, private modes).
pub fn register_service_worker() {
    let navigator = leptos::prelude::window().navigator();
    let has_sw =
        js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false);
    if has_sw {
        // The promise's failure (e.g. no sw.js in a dev build) changes nothing.
        let _ = navigator.service_worker().register("/sw.js");
    }
}

/// Stores `value` under `key`; a full or missing store only costs the cache.
async fn put<T: Serialize + ?Sized>(key: &str, value: &T) {
    if let Err(e) = store::kv_put(key, value).await {
        web_sys::console::warn_1(&format!("cache {key}: {e}").into());
    }
}

/// The topic list last seen.
pub async fn cached_topics() -> Option<Vec<Topic>> {
    store::kv_get("topics").await
}

/// Remembers the topic list, and each topic on its own.
pub async fn cache_topics(topics: &[Topic]) {
    put("topics", topics).await;
    for topic in topics {
        put(&format!("topic:{}", topic.id), topic).await;
    }
}

/// A topic last seen, alone or in the list.
pub async fn cached_topic(id: TopicId) -> Option<Topic> {
    if let Some(topic) = store::kv_get(&format!("topic:{id}")).await {
        return Some(topic);
    }
    cached_topics().await?.into_iter().find(|t| t.id == id)
}

/// Remembers one topic.
pub async fn cache_topic(topic: &Topic) {
    put(&format!("topic:{}", topic.id), topic).await;
}

/// A document's facts last seen; failing that, what the cached topics imply
/// (a topic's `draft_doc` is a draft, its `record_docs` are records).
pub async fn cached_doc(id: DocId) -> Option<DocMeta> {
    if let Some(meta) = store::kv_get(&format!("doc:{id}")).await {
        return Some(meta);
    }
    let topics = cached_topics().await?;
    topics.into_iter().find_map(|t| {
        let kind = if t.draft_doc == id {
            DocKind::Draft
        } else if t.record_docs.contains(&id) {
            DocKind::Record
        } else {
            return None;
        };
        Some(DocMeta {
            id,
            kind,
            topic: Some(t.id),
            finalized: false,
        })
    })
}

/// Remembers a document's facts.
pub async fn cache_doc(meta: &DocMeta) {
    put(&format!("doc:{}", meta.id), meta).await;
}

/// The versions list last seen.
pub async fn cached_versions(id: DocId) -> Option<Vec<Version>> {
    store::kv_get(&format!("versions:{id}")).await
}

/// Remembers a versions list.
pub async fn cache_versions(id: DocId, versions: &[Version]) {
    put(&format!("versions:{id}"), versions).await;
}

/// Names of users (staff only can list them; members keep what they had).
pub async fn cached_users() -> Option<Vec<UserSummary>> {
    store::kv_get("users").await
}

/// Remembers the user list.
pub async fn cache_users(users: &[UserSummary]) {
    put("users", users).await;
}

/// A sign-off made while the server could not be reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedSignoff {
    pub doc: DocId,
    /// The version the member saw (the last current version the server named).
    pub version: String,
    /// The text the member saw, for the diff if the server does not know the version.
    pub text: Option<String>,
}

const SIGNOFF_QUEUE: &str = "signoffs:queued";

/// Sign-offs still to send.
pub async fn queued_signoffs() -> Vec<QueuedSignoff> {
    store::kv_get(SIGNOFF_QUEUE).await.unwrap_or_default()
}

/// Queues a sign-off (one per document: the newest wins).
pub async fn queue_signoff(signoff: QueuedSignoff) {
    let mut queue = queued_signoffs().await;
    queue.retain(|s| s.doc != signoff.doc);
    queue.push(signoff);
    put(SIGNOFF_QUEUE, &queue).await;
}

/// What became of a sign-off the server answered.
#[derive(Clone, Debug, PartialEq)]
pub enum SignoffOutcome {
    /// It counts.
    Signed,
    /// The document moved on; `diff` is the server's unified diff since the signed version.
    Stale { diff: String },
    /// Refused for another reason (finalized, no right…): the error code.
    Refused(String),
}

/// Sends one sign-off. `Err` means "try again later" (network, session).
pub async fn send_signoff(token: &str, s: &QueuedSignoff) -> Result<SignoffOutcome, ApiError> {
    match api::sign_off(token, s.doc, &s.version, s.text.as_deref()).await {
        Ok(()) => Ok(SignoffOutcome::Signed),
        Err(ApiError::Server { code, detail, .. }) if code == "stale_version" => {
            let diff = detail["diff"]["unified"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(SignoffOutcome::Stale { diff })
        }
        Err(e @ (ApiError::Network | ApiError::Unauthorized)) => Err(e),
        Err(e) => Ok(SignoffOutcome::Refused(e.code().to_owned())),
    }
}

/// Sends every queued sign-off the server can take now; returns the outcomes
/// and keeps the rest queued.
pub async fn flush_signoffs(token: &str) -> Vec<(DocId, SignoffOutcome)> {
    let queue = queued_signoffs().await;
    if queue.is_empty() {
        return Vec::new();
    }
    let mut kept = Vec::new();
    let mut done = Vec::new();
    for s in queue {
        match send_signoff(token, &s).await {
            Ok(outcome) => done.push((s.doc, outcome)),
            Err(_) => kept.push(s),
        }
    }
    put(SIGNOFF_QUEUE, &kept).await;
    done
}
