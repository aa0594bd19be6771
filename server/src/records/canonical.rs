//! The canonical text of a document and the name of its version.
//!
//! A sign-off binds a person's agreement to exactly what they saw, so the server
//! must name "what they saw" in a way that changes on any edit and that anyone can
//! recompute. Two names:
//! - `hash`: hex SHA-256 of the canonical text (UTF-8), the typed view rendered
//!   deterministically (see [`render`]).
//! - `version`: the first 32 hex digits of SHA-256 over
//!   `"xieshang-version-1\n"`, then one line `"{client}:{clock}\n"` per entry of
//!   the state vector in ascending client order, `"--\n"`, one line
//!   `"{client}:{start}-{end}\n"` per deleted range (ascending client, then start),
//!   `"--\n"`, and finally `hash`. Inserts move the state vector, deletions move the
//!   delete set, so every edit (even one outside the rendered text, like a comment)
//!   gives a new version; the text hash makes the name self-checking.

use serde_json::Value;
use sha2::{Digest, Sha256};
use xieshang_shared::schema::{self, Draft, OpinionReport, Record};
use xieshang_shared::sync::{self, SyncError};
use xieshang_shared::DocKind;
use yrs::{Doc, ReadTxn, StateVector, Transact};

/// A document's state as the canonical-records features need it: what the
/// owner answers for `DocCmd::Snapshot` and what a named version stores.
#[derive(Debug, Clone, PartialEq)]
pub struct DocState {
    /// The version name (see the module docs).
    pub version: String,
    /// Hex SHA-256 of `text`.
    pub hash: String,
    /// The canonical text.
    pub text: String,
    /// The whole state as one v1 update: enough to rebuild this exact version.
    pub state: Vec<u8>,
    /// The typed view as JSON (what `GET /api/docs/{id}` shows as `content`).
    pub content: Value,
}

/// Names and renders the current state of `doc`. Call with no transaction open.
pub fn describe(kind: DocKind, doc: &Doc) -> DocState {
    let text = render(kind, doc);
    let hash = sha256_hex(text.as_bytes());
    let content = schema::content(kind, doc);
    let txn = doc.transact();
    let snapshot = txn.snapshot();
    let state = txn.encode_state_as_update_v1(&StateVector::default());
    drop(txn);
    let version = version_name(&snapshot, &hash);
    DocState {
        version,
        hash,
        text,
        state,
        content,
    }
}

/// Rebuilds a document from stored state bytes (a named or finalized version).
pub fn load_state(state: &[u8]) -> Result<Doc, SyncError> {
    let doc = schema::new_doc();
    sync::apply_update_bytes(&doc, state)?;
    Ok(doc)
}

/// The state compaction is about to write in place of the log, checked first:
/// encoded (panics contained), decoded again into a fresh document, which must
/// have the same state vector and read as the same canonical text. A document
/// that fails this is corrupted in memory and must be reloaded, not written.
/// Returns the state and its encoded state vector.
pub fn checked_snapshot(kind: DocKind, doc: &Doc) -> Result<(Vec<u8>, Vec<u8>), String> {
    use yrs::updates::encoder::Encode;
    let (state, sv, text) = sync::contain(|| {
        let text = render(kind, doc);
        let txn = doc.transact();
        let state = txn.encode_state_as_update_v1(&StateVector::default());
        (state, txn.state_vector(), text)
    })
    .map_err(|e| e.to_string())?;
    let reloaded = load_state(&state).map_err(|e| format!("snapshot does not load: {e}"))?;
    let (sv2, text2) = sync::contain(|| {
        // The view is built before the read transaction (building it may write).
        let text = render(kind, &reloaded);
        let sv = reloaded.transact().state_vector();
        (sv, text)
    })
    .map_err(|e| e.to_string())?;
    if sv2 != sv {
        return Err("snapshot reloads with another state vector".into());
    }
    if text2 != text {
        return Err("snapshot reloads with another text".into());
    }
    Ok((state, sv.encode_v1()))
}

/// The version name of `snapshot` with text hash `hash`.
fn version_name(snapshot: &yrs::Snapshot, hash: &str) -> String {
    let mut clients: Vec<(u64, u32)> = snapshot
        .state_map
        .iter()
        .map(|(c, clock)| (c.get(), *clock))
        .collect();
    clients.sort_unstable();
    let mut input = String::from("xieshang-version-1\n");
    for (client, clock) in clients {
        input.push_str(&format!("{client}:{clock}\n"));
    }
    input.push_str("--\n");
    let mut deleted: Vec<(u64, u32, u32)> = Vec::new();
    for (client, ranges) in snapshot.delete_set.iter() {
        for r in ranges.iter() {
            deleted.push((client.get(), r.start, r.end));
        }
    }
    deleted.sort_unstable();
    for (client, start, end) in deleted {
        input.push_str(&format!("{client}:{start}-{end}\n"));
    }
    input.push_str("--\n");
    input.push_str(hash);
    let mut full = sha256_hex(input.as_bytes());
    full.truncate(32);
    full
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The canonical text of `doc` as a document of `kind`: Markdown, so the same
/// string is what diffs compare, sign-offs hash and the bulletin prints.
///
/// - draft: `# {title}\n\n{body}`
/// - record: `# 协商记录\n\n` then `{key}: {value}` per field (sorted by key),
///   `## 发言` with `- [{at}] {speaker}: {text}` per entry, `## 小结` and the summary
/// - opinion report: `# {title}\n\n`, the other fields as `{key}: {value}`, the body
pub fn render(kind: DocKind, doc: &Doc) -> String {
    match kind {
        DocKind::Draft => {
            let c = Draft::new(doc).content();
            format!("# {}\n\n{}", c.title, c.body)
        }
        DocKind::Record => {
            let c = Record::new(doc).content();
            let mut out = String::from("# 协商记录\n\n");
            for (k, v) in &c.fields {
                out.push_str(&format!("{k}: {v}\n"));
            }
            out.push_str("\n## 发言\n\n");
            for e in &c.entries {
                out.push_str(&format!("- [{}] {}: {}\n", e.at, e.speaker, e.text));
            }
            out.push_str("\n## 小结\n\n");
            out.push_str(&c.summary);
            out
        }
        DocKind::OpinionReport => {
            let c = OpinionReport::new(doc).content();
            let title = c
                .fields
                .get("title")
                .map(String::as_str)
                .unwrap_or_default();
            let mut out = format!("# {title}\n\n");
            for (k, v) in c.fields.iter().filter(|(k, _)| *k != "title") {
                out.push_str(&format!("{k}: {v}\n"));
            }
            out.push('\n');
            out.push_str(&c.body);
            out
        }
    }
}

/// The title shown on a bulletin: the draft or report title, or the record's heading.
pub fn title(kind: DocKind, content: &Value) -> String {
    let title = match kind {
        DocKind::Draft => content["title"].as_str(),
        DocKind::OpinionReport => content["fields"]["title"].as_str(),
        DocKind::Record => None,
    };
    title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("协商记录")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_edit_changes_the_version() {
        let doc = schema::new_doc_with_client_id(7);
        let draft = Draft::new(&doc);
        draft.set_title("标题");
        draft.set_body("第一段\n\n第二段");
        let a = describe(DocKind::Draft, &doc);
        assert_eq!(a.text, "# 标题\n\n第一段\n\n第二段");
        assert_eq!(a.version.len(), 32);
        assert_eq!(a, describe(DocKind::Draft, &doc), "deterministic");
        draft.remove_body(0, 1);
        let b = describe(DocKind::Draft, &doc);
        assert_ne!(a.version, b.version);
        draft.insert_body(0, "第");
        let c = describe(DocKind::Draft, &doc);
        assert_eq!(a.text, c.text, "same text again");
        assert_ne!(a.version, c.version, "but a different version");
        let reloaded = load_state(&c.state).map(|d| describe(DocKind::Draft, &d));
        assert_eq!(reloaded.map(|d| d.version), Ok(c.version));
    }
}
