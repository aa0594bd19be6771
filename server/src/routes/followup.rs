//! Follow-up of a finalized outcome and the audit log.
//!
//! - `GET /docs/{id}/followup`: where it was sent, adoption, units, instructions.
//! - `PUT /docs/{id}/followup` (staff, leaders, admins; finalized documents only).
//! - `POST /docs/{id}/followup/instructions` (the same): a leader's 批示.
//! - `GET /audit?doc=ID` (staff, leaders, admins): the audit log, oldest first.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use xieshang_shared::{DocId, User};

use crate::access;
use crate::auth::AuthUser;
use crate::db::queries::followup::{self, Followup, Instruction, ADOPTION};
use crate::db::queries::{audit, topics};
use crate::error::{AppError, Result};
use crate::routes::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// Most entries in `sent_to` or `units`, and longest text field, in characters.
const MAX_LIST: usize = 100;
const MAX_TEXT: usize = 10_000;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/docs/{doc_id}/followup",
            get(get_followup).put(put_followup),
        )
        .route(
            "/docs/{doc_id}/followup/instructions",
            post(add_instruction),
        )
        .route("/audit", get(list_audit))
}

async fn followup_json(state: &AppState, doc: DocId) -> Result<Value> {
    let (f, by, at) = followup::get(&state.db, doc).await?;
    let instructions = followup::instructions(&state.db, doc).await?;
    Ok(
        json!({"doc": doc, "sent_to": f.sent_to, "adoption": f.adoption, "units": f.units,
              "note": f.note, "updated_by": by, "updated_at": at, "instructions": instructions}),
    )
}

/// Staff, leaders and admins, on a finalized document they can see.
async fn authorize_write(state: &AppState, user: &User, doc: DocId) -> Result<()> {
    if !user.role.manages_topics() {
        return Err(AppError::Forbidden);
    }
    let info = access::authorize_doc(state, user, doc).await?;
    if !info.finalized {
        return Err(AppError::conflict(
            "not_finalized",
            "follow-up is for finalized outcomes",
        ));
    }
    Ok(())
}

fn too_long(s: &str) -> bool {
    s.chars().count() > MAX_TEXT
}

async fn get_followup(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
) -> Result<Json<Value>> {
    access::authorize_doc(&state, &user, doc).await?;
    Ok(Json(followup_json(&state, doc).await?))
}

async fn put_followup(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiJson(input): ApiJson<Followup>,
) -> Result<Json<Value>> {
    authorize_write(&state, &user, doc).await?;
    if !ADOPTION.contains(&input.adoption.as_str()) {
        return Err(AppError::bad_request(
            "bad_adoption",
            "adoption must be one of pending, adopted, partially_adopted, not_adopted",
        ));
    }
    let lists = [&input.sent_to, &input.units];
    if lists
        .iter()
        .any(|l| l.len() > MAX_LIST || l.iter().any(|s| too_long(s)))
        || too_long(&input.note)
    {
        return Err(AppError::bad_request(
            "too_long",
            "too many or too long entries",
        ));
    }
    followup::put(&state.db, doc, &input, user.id).await?;
    let detail = serde_json::to_value(&input).unwrap_or(Value::Null);
    audit::record(&state.db, Some(doc), Some(user.id), "followup", &detail).await?;
    Ok(Json(followup_json(&state, doc).await?))
}

async fn add_instruction(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiJson(mut input): ApiJson<Instruction>,
) -> Result<Response> {
    authorize_write(&state, &user, doc).await?;
    input.leader = input.leader.trim().to_string();
    input.content = input.content.trim().to_string();
    if input.leader.is_empty() || input.content.is_empty() {
        return Err(AppError::bad_request(
            "missing_field",
            "leader and content are required",
        ));
    }
    if !topics::is_valid_date(input.date.trim()) {
        return Err(AppError::bad_request("bad_date", "date must be YYYY-MM-DD"));
    }
    if too_long(&input.leader) || too_long(&input.content) {
        return Err(AppError::bad_request("too_long", "text too long"));
    }
    input.date = input.date.trim().to_string();
    input.id = followup::add_instruction(&state.db, doc, &input, user.id).await?;
    let detail = serde_json::to_value(&input).unwrap_or(Value::Null);
    audit::record(&state.db, Some(doc), Some(user.id), "instruction", &detail).await?;
    Ok((StatusCode::CREATED, Json(input)).into_response())
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    doc: Option<DocId>,
}

async fn list_audit(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Value>> {
    if !user.role.manages_topics() {
        return Err(AppError::Forbidden);
    }
    let entries = audit::list(&state.db, q.doc, 1000).await?;
    Ok(Json(
        serde_json::to_value(entries).map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}
