//! History of a document: named versions, one version's content, the diff
//! between two, restoring an old one (as a new edit), and who wrote what.
//!
//! - `GET /docs/{id}/versions`: oldest first, the last being the current state.
//!   Listing writes nothing (a GET must not): versions are named where a state
//!   matters (sign-off, finalization, restore, periodic compaction). The current
//!   state is listed even when unnamed (reason `current`), and so is a version
//!   someone signed that was never named (an offline sign-off; its diff comes
//!   from the text the signer sent).
//! - `GET /docs/{id}/versions/{version}`, `GET /docs/{id}/diff?from&to`
//! - `POST /docs/{id}/restore {"version"}`
//! - `GET /docs/{id}/authorship?version=V`

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use xieshang_shared::{schema, DocId, User};

use crate::access;
use crate::auth::AuthUser;
use crate::db::now_ms;
use crate::db::queries::docs::DocInfo;
use crate::db::queries::{audit, signoffs, topics, versions};
use crate::error::{AppError, Result};
use crate::records::{authorship, diff, load_state, restore, DocState};
use crate::routes::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/docs/{doc_id}/versions", get(list))
        .route("/docs/{doc_id}/versions/{version}", get(one))
        .route("/docs/{doc_id}/diff", get(diff_of))
        .route("/docs/{doc_id}/restore", post(restore_version))
        .route("/docs/{doc_id}/authorship", get(authors))
}

/// A 409 in the one error shape, with `extra` fields beside code and message
/// (the current version and a diff, or who has not signed).
pub(crate) fn conflict(code: &str, message: &str, extra: Value) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(e), Value::Object(more)) = (error.as_object_mut(), extra) {
        e.extend(more);
    }
    (StatusCode::CONFLICT, Json(json!({ "error": error }))).into_response()
}

/// Participants of the document's topic, and staff, leaders and admins, may
/// sign off and restore; anyone else who can see the document may only read.
pub(crate) async fn may_change(state: &AppState, user: &User, info: &DocInfo) -> Result<()> {
    if user.role.manages_topics() {
        return Ok(());
    }
    match info.topic {
        Some(topic) if topics::is_participant(&state.db, topic, user.id).await? => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// 400 `bad_version` unless `v` looks like a version name.
pub(crate) fn check_version(v: &str) -> Result<()> {
    if !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "bad_version",
            "version must be a version name (hex)",
        ))
    }
}

/// A version's content: the current state, or a named one. `None` if unknown.
pub(crate) async fn resolve(
    state: &AppState,
    doc: DocId,
    version: &str,
    current: &DocState,
) -> Result<Option<DocState>> {
    if version == current.version {
        return Ok(Some(current.clone()));
    }
    let Some(v) = versions::get(&state.db, doc, version).await? else {
        return Ok(None);
    };
    Ok(Some(DocState {
        version: v.version,
        hash: v.hash,
        text: v.text,
        state: v.state,
        content: Value::Null,
    }))
}

fn unknown_version() -> AppError {
    AppError::bad_request("unknown_version", "no such version of this document")
}

/// The diff from `from` to `to` as JSON: the lines and a unified rendering.
pub(crate) fn diff_json(from: &str, to: &str) -> Value {
    let lines = diff::line_diff(from, to);
    json!({ "changed": diff::is_change(&lines), "unified": diff::unified(&lines), "lines": lines })
}

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
) -> Result<Json<Value>> {
    let info = access::authorize_doc(&state, &user, doc).await?;
    let current = state.docs.snapshot(&info).await?;
    let signed = signoffs::list(&state.db, doc).await?;
    let out: Vec<Value> = listing(versions::list(&state.db, doc).await?, &current, &signed)
        .into_iter()
        .map(|v| {
            let is_current = v.version == current.version;
            let s: Vec<Value> = signed
                .iter()
                .filter(|s| s.version == v.version)
                .map(|s| json!({"user_id": s.user_id, "display_name": s.display_name, "at": s.at, "stale": !is_current}))
                .collect();
            json!({"version": v.version, "hash": v.hash, "at": v.at, "by": v.by, "reason": v.reason,
                   "current": is_current, "signoffs": s})
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

/// The entries of the listing, oldest first and the current state last: the
/// named versions, plus an entry for each signed version that was never named
/// (at its first sign-off) and for the current state if it is unnamed.
fn listing(
    mut named: Vec<versions::NamedVersion>,
    current: &DocState,
    signed: &[signoffs::Signoff],
) -> Vec<versions::NamedVersion> {
    let unnamed = |version: &str, hash: &str, at: i64, reason: &str| versions::NamedVersion {
        version: version.to_string(),
        hash: hash.to_string(),
        at,
        by: None,
        reason: reason.to_string(),
        text: String::new(),
        state: Vec::new(),
    };
    for s in signed {
        if s.version != current.version && !named.iter().any(|v| v.version == s.version) {
            named.push(unnamed(&s.version, "", s.at, "signoff"));
        }
    }
    // Stable: named versions keep their order among equal times.
    named.sort_by_key(|v| v.at);
    let cur = match named.iter().position(|v| v.version == current.version) {
        Some(i) => named.remove(i),
        None => unnamed(&current.version, &current.hash, now_ms(), "current"),
    };
    named.push(cur);
    named
}

async fn one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((doc, version)): ApiPath<(DocId, String)>,
) -> Result<Json<Value>> {
    let info = access::authorize_doc(&state, &user, doc).await?;
    check_version(&version)?;
    let current = state.docs.snapshot(&info).await?;
    let v = resolve(&state, doc, &version, &current)
        .await?
        .ok_or(AppError::NotFound)?;
    let content = match load_state(&v.state) {
        Ok(d) => schema::content(info.kind, &d),
        Err(e) => {
            return Err(AppError::Internal(format!(
                "stored version does not load: {e}"
            )))
        }
    };
    Ok(Json(
        json!({"version": v.version, "hash": v.hash, "current": v.version == current.version,
                    "text": v.text, "content": content}),
    ))
}

#[derive(Debug, Deserialize)]
struct DiffQuery {
    from: String,
    to: Option<String>,
}

async fn diff_of(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<Value>> {
    let info = access::authorize_doc(&state, &user, doc).await?;
    let current = state.docs.snapshot(&info).await?;
    let to_name = q.to.unwrap_or_else(|| current.version.clone());
    check_version(&q.from)?;
    check_version(&to_name)?;
    let from = resolve(&state, doc, &q.from, &current)
        .await?
        .ok_or_else(unknown_version)?;
    let to = resolve(&state, doc, &to_name, &current)
        .await?
        .ok_or_else(unknown_version)?;
    let mut out = diff_json(&from.text, &to.text);
    out["from"] = json!(from.version);
    out["to"] = json!(to.version);
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct RestoreInput {
    version: String,
}

/// Applies, as a new edit by the caller through the document owner, the change
/// that turns the current content into the named version's. 201 with the new version.
async fn restore_version(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiJson(input): ApiJson<RestoreInput>,
) -> Result<Response> {
    let info = access::authorize_doc(&state, &user, doc).await?;
    may_change(&state, &user, &info).await?;
    check_version(&input.version)?;
    if info.finalized {
        return Err(AppError::conflict("finalized", "the document is finalized"));
    }
    let current = state.docs.snapshot(&info).await?;
    let target = resolve(&state, doc, &input.version, &current)
        .await?
        .ok_or_else(unknown_version)?;
    let target_doc = load_state(&target.state)
        .map_err(|e| AppError::Internal(format!("version does not load: {e}")))?;
    // The state being replaced is a restore point too, so the restore can be undone.
    versions::store(&state.db, doc, &current, "restore", Some(user.id)).await?;
    let kind = info.kind;
    let edit = Box::new(move |d: &yrs::Doc| restore::apply(kind, d, &target_doc));
    let after = match state.docs.server_edit(&info, user.id, edit).await {
        Ok(s) => s,
        Err(crate::docs::DocError::ReadOnly) => {
            return Err(AppError::conflict("finalized", "the document is finalized"))
        }
        Err(e) => return Err(e.into()),
    };
    versions::store(&state.db, doc, &after, "restore", Some(user.id)).await?;
    let detail = json!({"restored_from": target.version, "version": after.version});
    audit::record(&state.db, Some(doc), Some(user.id), "restore", &detail).await?;
    let body = json!({"version": after.version, "hash": after.hash, "text": after.text,
                      "restored_from": target.version, "equals_restored": after.text == target.text});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct AuthorshipQuery {
    version: Option<String>,
}

async fn authors(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiQuery(q): ApiQuery<AuthorshipQuery>,
) -> Result<Json<Value>> {
    let info = access::authorize_doc(&state, &user, doc).await?;
    let current = state.docs.snapshot(&info).await?;
    let name = q.version.unwrap_or_else(|| current.version.clone());
    check_version(&name)?;
    let v = resolve(&state, doc, &name, &current)
        .await?
        .ok_or(AppError::NotFound)?;
    let d = load_state(&v.state)
        .map_err(|e| AppError::Internal(format!("version does not load: {e}")))?;
    let text = authorship::text_of(info.kind, &d);
    let paragraphs = authorship::paragraphs(&authorship::chars_with_clients(&d, &text));
    let owners = versions::authors(&state.db, doc).await?;
    let out: Vec<Value> = paragraphs
        .into_iter()
        .map(|p| {
            let mut by_user: Vec<(Option<i64>, String, usize)> = Vec::new();
            for (client, chars) in p.clients {
                let (uid, name) = owners
                    .iter()
                    .find(|(c, _, _)| *c == client)
                    .map(|(_, u, n)| (Some(*u), n.clone()))
                    .unwrap_or((None, "未知 (unknown)".into()));
                match by_user
                    .iter_mut()
                    .find(|(u, _, _)| *u == uid && uid.is_some())
                {
                    Some(entry) => entry.2 += chars,
                    None => by_user.push((uid, name, chars)),
                }
            }
            by_user.sort_by_key(|a| std::cmp::Reverse(a.2));
            let authors: Vec<Value> = by_user
                .into_iter()
                .map(|(u, n, c)| json!({"user_id": u, "display_name": n, "chars": c}))
                .collect();
            json!({"paragraph": p.index, "text": p.text, "authors": authors})
        })
        .collect();
    Ok(Json(Value::Array(out)))
}
