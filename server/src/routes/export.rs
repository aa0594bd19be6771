//! `GET /docs/{id}/export?format=docx|md|html`: the bulletin (建言献策) of a
//! finalized outcome, or of the current text marked 草稿 when not finalized.
//!
//! The header carries the committee (`--committee-name`), the issue number
//! assigned at finalization (第N期), the date and the title; the footer lists the
//! participants who signed. Every export is written to the audit log.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use xieshang_shared::{schema, DocId};

use crate::access;
use crate::auth::AuthUser;
use crate::db::now_ms;
use crate::db::queries::{audit, finalized, signoffs};
use crate::error::{AppError, Result};
use crate::export::{self, cn_date, content_disposition, Bulletin};
use crate::records::{canonical, load_state};
use crate::routes::{ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/docs/{doc_id}/export", get(export_doc))
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export_doc(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc): ApiPath<DocId>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response> {
    let format = q.format.unwrap_or_else(|| "docx".into());
    if !matches!(format.as_str(), "docx" | "md" | "html") {
        return Err(AppError::bad_request(
            "bad_format",
            "format must be docx, md or html",
        ));
    }
    let info = access::authorize_doc(&state, &user, doc).await?;
    let committee = state.config.committee_name.clone();
    let configured = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
    let sender = configured(&state.config.office_name);
    let report_to = configured(&state.config.bulletin_report_to);
    let send_to = configured(&state.config.bulletin_send_to);
    let bulletin = match finalized::get(&state.db, doc).await? {
        Some((fv, bytes)) => {
            let d = load_state(&bytes)
                .map_err(|e| AppError::Internal(format!("finalized state: {e}")))?;
            let content = schema::content(info.kind, &d);
            Bulletin {
                committee,
                sender,
                report_to,
                send_to,
                number: Some(fv.bulletin_no),
                date: cn_date(fv.at),
                title: canonical::title(info.kind, &content),
                body: export::bulletin_body(info.kind, &content, &fv.text),
                signers: fv.signoffs.iter().map(|s| s.display_name.clone()).collect(),
                draft: false,
            }
        }
        None => {
            let current = state.docs.snapshot(&info).await?;
            let signers = signoffs::list(&state.db, doc)
                .await?
                .into_iter()
                .filter(|s| s.version == current.version)
                .map(|s| s.display_name)
                .collect();
            Bulletin {
                committee,
                sender,
                report_to,
                send_to,
                number: None,
                date: cn_date(now_ms()),
                title: canonical::title(info.kind, &current.content),
                body: export::bulletin_body(info.kind, &current.content, &current.text),
                signers,
                draft: true,
            }
        }
    };
    let name = format!(
        "{}-{}",
        bulletin.title,
        bulletin.issue().replace(" (draft)", "")
    );
    let (bytes, mime) = match format.as_str() {
        "md" => (
            export::markdown::render(&bulletin).into_bytes(),
            "text/markdown; charset=utf-8",
        ),
        "html" => (
            export::html::render(&bulletin).into_bytes(),
            "text/html; charset=utf-8",
        ),
        _ => (
            export::docx::render(&bulletin)
                .map_err(|e| AppError::Internal(format!("docx: {e}")))?,
            export::docx::CONTENT_TYPE,
        ),
    };
    let detail = json!({"format": format, "draft": bulletin.draft, "number": bulletin.number});
    audit::record(&state.db, Some(doc), Some(user.id), "export", &detail).await?;
    let headers = [
        (header::CONTENT_TYPE, mime.to_string()),
        (
            header::CONTENT_DISPOSITION,
            content_disposition(&name, &format),
        ),
    ];
    Ok((headers, bytes).into_response())
}
