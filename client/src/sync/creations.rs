//! Creations made in the browser, offline or not: the one queue through which
//! every new server object (a record today; proposals, opinion reports and
//! supervision activities later) reaches the server exactly once.
//!
//! A creation carries an id minted here ([`DocId::mint`], a UUIDv7) inside its
//! request body, so the server's create is idempotent on it: sent again after
//! a lost answer or a reload, it answers 200 with the same object, never a
//! second one. The document it creates is usable at once: its engine opens,
//! edits go to IndexedDB as for any document, and before the engine connects
//! it registers the creation ([`register`]), so the server knows the document
//! before the first update arrives.
//!
//! The queue lives in the signed-in user's own store (`kv` key
//! `creations:queued`), so one person's creations are sent only under their
//! own session.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use xieshang_shared::{DocId, DocKind, TopicId};

use super::store;
use super::web;

const QUEUE: &str = "creations:queued";

/// One creation not yet confirmed by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Creation {
    /// The document it creates (also the `"id"` of the request body).
    pub doc: DocId,
    pub kind: DocKind,
    /// The topic it belongs to, if any (for the topic's list of records).
    #[serde(default)]
    pub topic: Option<TopicId>,
    /// The create request: `POST {path}` with `body`.
    pub path: String,
    pub body: Value,
    /// Unix milliseconds when the member created it.
    #[serde(default)]
    pub at: f64,
    /// The server refused it (its error code): kept, shown, not retried.
    #[serde(default)]
    pub refused: Option<String>,
}

impl Creation {
    /// A new record document for `topic`, with a freshly minted id.
    pub fn record(topic: TopicId) -> Creation {
        let doc = DocId::mint();
        Creation {
            doc,
            kind: DocKind::Record,
            topic: Some(topic),
            path: format!("/api/topics/{topic}/records"),
            body: serde_json::json!({ "id": doc }),
            at: web::now(),
            refused: None,
        }
    }
}

/// Every creation still waiting for the server, oldest first.
pub async fn pending() -> Vec<Creation> {
    store::kv_get(QUEUE).await.unwrap_or_default()
}

/// The waiting creation of `doc`, if any.
pub async fn pending_for(doc: DocId) -> Option<Creation> {
    pending().await.into_iter().find(|c| c.doc == doc)
}

/// Queues a creation; `Err` if the store could not keep it (then nothing was
/// created, and the caller says so).
pub async fn queue(creation: Creation) -> store::Result<()> {
    let mut all = pending().await;
    all.retain(|c| c.doc != creation.doc);
    all.push(creation);
    store::kv_put(QUEUE, &all).await
}

async fn remove(doc: DocId) {
    let mut all = pending().await;
    all.retain(|c| c.doc != doc);
    if let Err(e) = store::kv_put(QUEUE, &all).await {
        web::warn(&format!("creations: cannot drop {doc} from the queue: {e}"));
    }
}

async fn mark_refused(doc: DocId, code: String) {
    let mut all = pending().await;
    for c in all.iter_mut().filter(|c| c.doc == doc) {
        c.refused = Some(code.clone());
    }
    if let Err(e) = store::kv_put(QUEUE, &all).await {
        web::warn(&format!("creations: cannot mark {doc} refused: {e}"));
    }
}

/// What became of one attempt to register a creation.
#[derive(Clone, Debug, PartialEq)]
pub enum Registered {
    /// The server has it (created now, or already by an earlier attempt).
    Done,
    /// Try again later: no network, server down, or the session ended.
    Later { auth: bool },
    /// The server refused it for good (e.g. `id_conflict`, `forbidden`).
    Refused(String),
}

/// Sends one creation. On success it leaves the queue; a refusal stays in the
/// queue, marked, so the member sees it rather than losing the work.
pub async fn register(token: &str, creation: &Creation) -> Registered {
    if let Some(code) = &creation.refused {
        return Registered::Refused(code.clone());
    }
    let body = creation.body.to_string();
    let Some((status, text)) = web::post_json(&creation.path, token, &body).await else {
        return Registered::Later { auth: false };
    };
    match status {
        200..=299 => {
            remove(creation.doc).await;
            Registered::Done
        }
        401 => Registered::Later { auth: true },
        // Server trouble or a full server: not the creation's fault.
        408 | 429 | 500..=599 => Registered::Later { auth: false },
        _ => {
            let code = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("http_{status}"));
            mark_refused(creation.doc, code.clone()).await;
            Registered::Refused(code)
        }
    }
}
