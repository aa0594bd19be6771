//! Sign-off, finalization and amendment.
//!
//! - `POST /docs/{id}/signoffs {"version","text"?}`: 201 when `version` is the
//!   current one; otherwise the sign-off is kept (shown stale) and the answer is
//!   409 `stale_version` with the current version and the diff since the signed
//!   one (from its named version, or from `text` — what an offline client saw).
//! - `POST /docs/{id}/finalize {"version","absent_reason"?}` (staff, leaders, admins):
//!   201 `FinalizedVersion`; 409 `signoffs_missing` (who), `stale_version`, `finalized`.
//! - `POST /docs/{id}/amend` (staff, leaders, admins): a new draft in the same topic
//!   seeded with the finalized content, linked by `docs.amends`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use xieshang_shared::{schema, DocId};

use super::versions::{check_version, conflict, diff_json, may_change};
use crate::access;
use crate::auth::AuthUser;
use crate::db::queries::finalized::{self, NewFinalized};
use crate::db::queries::{audit, signoffs, versions};
use crate::docs::DocError;
use crate::error::{AppError, Result};
use crate::records::{load_state, restore};
use crate::routes::{ApiJson, ApiPath};
use crate::state::AppState;

/// Longest reason for absent sign-offs, in characters.
const MAX_REASON: usize = 2000;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/docs/{doc_id}/signoffs", post(sign))
        .route("/docs/{doc_id}/finalize", post(finalize))
        .route("/docs/{doc_id}/amend", post(amend))
}

#[derive(Debug, Deserialize)]
struct SignInput {
    version: String,
    /// The canonical text the signer saw, for the diff when the server never named that version.
    #[serde(default)]
    text: Option<String>,
}

fn finalized_conflict() -> AppError {
    AppError::conflict("finalized", "the document is finalized and read-only")
}

/// What a second finalization gets (DESIGN.md's `already_finalized`).
fn already_finalized() -> AppError {
    AppError::conflict("already_finalized", "the document is finalized already")
}

/// A unique key refused the row: another process finalized the document first.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

async fn sign(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiJson(input): ApiJson<SignInput>,
) -> Result<Response> {
    let info = access::authorize_doc(&state, &user, doc).await?;
    may_change(&state, &user, &info).await?;
    check_version(&input.version)?;
    if info.finalized {
        return Err(finalized_conflict());
    }
    let current = state.docs.snapshot(&info).await?;
    signoffs::add(&state.db, doc, &input.version, user.id).await?;
    if input.version == current.version {
        versions::store(&state.db, doc, &current, "signoff", Some(user.id)).await?;
        let detail = json!({"version": current.version});
        audit::record(&state.db, Some(doc), Some(user.id), "signoff", &detail).await?;
        let body = json!({"doc": doc, "version": current.version, "hash": current.hash,
                          "user_id": user.id, "stale": false});
        return Ok((StatusCode::CREATED, Json(body)).into_response());
    }
    let signed = versions::get(&state.db, doc, &input.version).await?;
    let known = signed.is_some();
    let from = signed.map(|v| v.text).or(input.text).unwrap_or_default();
    let detail = json!({"version": input.version, "current": current.version, "stale": true});
    audit::record(
        &state.db,
        Some(doc),
        Some(user.id),
        "signoff_stale",
        &detail,
    )
    .await?;
    Ok(conflict(
        "stale_version",
        "the document has changed since the version you signed; your sign-off is recorded as stale",
        json!({"signed": input.version, "known": known,
               "current": {"version": current.version, "hash": current.hash},
               "diff": diff_json(&from, &current.text)}),
    ))
}

#[derive(Debug, Deserialize)]
struct FinalizeInput {
    version: String,
    #[serde(default)]
    absent_reason: Option<String>,
}

async fn finalize(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiJson(input): ApiJson<FinalizeInput>,
) -> Result<Response> {
    if !user.role.manages_topics() {
        return Err(AppError::Forbidden);
    }
    let info = access::authorize_doc(&state, &user, doc).await?;
    check_version(&input.version)?;
    let reason = input
        .absent_reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON)
    {
        return Err(AppError::bad_request(
            "bad_reason",
            "absent_reason is too long",
        ));
    }
    if info.finalized {
        return Err(already_finalized());
    }
    let current = state.docs.snapshot(&info).await?;
    if input.version != current.version {
        let from = versions::get(&state.db, doc, &input.version)
            .await?
            .map(|v| v.text)
            .unwrap_or_default();
        return Ok(conflict(
            "stale_version",
            "the document has changed since that version",
            json!({"current": {"version": current.version, "hash": current.hash},
                                  "diff": diff_json(&from, &current.text)}),
        ));
    }
    let participants = match info.topic {
        Some(t) => signoffs::participants(&state.db, t).await?,
        None => Vec::new(),
    };
    let signed: Vec<_> = signoffs::list(&state.db, doc)
        .await?
        .into_iter()
        .filter(|s| s.version == current.version)
        .collect();
    let missing: Vec<&(i64, String)> = participants
        .iter()
        .filter(|(id, _)| !signed.iter().any(|s| s.user_id == *id))
        .collect();
    if !missing.is_empty() && reason.is_none() {
        let who: Vec<Value> = missing
            .iter()
            .map(|(id, n)| json!({"user_id": id, "display_name": n}))
            .collect();
        return Ok(conflict("signoffs_missing",
                           "not every participant has signed off on this version; sign-offs or an absent_reason are needed",
                           json!({"missing": who})));
    }
    // Freezing and storing the finalized version are one step inside the
    // document's owner: two requests at once get one 201 and one 409, and a
    // failure to store leaves the document exactly as it was.
    let db = state.db.clone();
    let (by, absent) = (user.id, missing.iter().map(|(id, _)| *id).collect());
    let stored = state
        .docs
        .freeze(&info, current.version.clone(), move |frozen| async move {
            let new = NewFinalized {
                doc,
                state: &frozen,
                signoffs: signed,
                absent,
                absent_reason: reason,
                by,
            };
            finalized::finalize(&db, new).await
        })
        .await;
    let fv = match stored {
        Ok(Ok(fv)) => fv,
        Ok(Err(e)) if is_unique_violation(&e) => return Err(already_finalized()),
        Ok(Err(e)) => return Err(e.into()),
        Err(DocError::ReadOnly) => return Err(already_finalized()),
        Err(DocError::Stale { current }) => {
            // An update landed between the checks and the freeze.
            let extra = json!({"current": {"version": current}});
            return Ok(conflict(
                "stale_version",
                "the document changed while finalizing",
                extra,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let detail = json!({"version": fv.version, "bulletin_no": fv.bulletin_no, "absent": fv.absent,
                        "absent_reason": fv.absent_reason});
    audit::record(&state.db, Some(doc), Some(user.id), "finalize", &detail).await?;
    let mut body = serde_json::to_value(&fv).map_err(|e| AppError::Internal(e.to_string()))?;
    body["bulletin"] = json!(format!("第{}期", fv.bulletin_no));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn amend(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
) -> Result<Response> {
    if !user.role.manages_topics() {
        return Err(AppError::Forbidden);
    }
    let info = access::authorize_doc(&state, &user, doc).await?;
    let (fv, bytes) = finalized::get(&state.db, doc).await?.ok_or_else(|| {
        AppError::conflict("not_finalized", "only a finalized document can be amended")
    })?;
    let seed = {
        let old =
            load_state(&bytes).map_err(|e| AppError::Internal(format!("finalized state: {e}")))?;
        let fresh = schema::new_doc();
        xieshang_shared::sync::contain(|| restore::apply(info.kind, &fresh, &old))
            .map_err(|e| AppError::Internal(format!("amending the finalized state: {e}")))?;
        (
            xieshang_shared::sync::encode_state(&fresh),
            fresh.client_id().get(),
        )
    };
    let id =
        finalized::create_amendment(&state.db, info.kind, info.topic, doc, seed, user.id).await?;
    let detail = json!({"amendment": id, "amends_version": fv.version});
    audit::record(&state.db, Some(doc), Some(user.id), "amend", &detail).await?;
    let body = json!({"id": id, "kind": info.kind, "topic": info.topic, "amends": doc,
                      "amends_version": fv.version});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
