//! `GET /docs/{doc_id}`: a document's facts and its merged content as JSON.
//!
//! Reading goes through the document registry rather than the log directly,
//! so an open document answers with exactly what its peers see, including
//! updates that are committed but not yet compacted.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use xieshang_shared::DocId;

use crate::access;
use crate::auth::AuthUser;
use crate::error::Result;
use crate::routes::ApiPath;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/docs/{doc_id}", get(get_doc))
}

/// 200 `{"id","kind","topic","finalized","content"}`; 404 for no such document,
/// 403 for a document of a topic the caller may not see.
async fn get_doc(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(doc_id): ApiPath<DocId>,
) -> Result<Json<serde_json::Value>> {
    let info = access::authorize_doc(&state, &user, doc_id).await?;
    let content = state.docs.content(&info).await?;
    Ok(Json(json!({
        "id": info.id,
        "kind": info.kind,
        "topic": info.topic,
        "finalized": info.finalized,
        "content": content,
    })))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::routes::test_support::TestApp;

    #[tokio::test]
    async fn draft_content_and_errors() {
        let app = TestApp::new().await;
        let staff = app.login_as("staff1", "staff").await;
        let (status, topic) = app
            .call(
                "POST",
                "/topics",
                Some(&staff),
                Some(json!({"title": "关于城区停车难的建议", "form": "dialogue"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{topic}");
        let draft = topic["draft_doc"].as_str().unwrap().to_owned();
        assert!(draft.parse::<xieshang_shared::DocId>().is_ok(), "{draft}");

        let (status, doc) = app
            .call("GET", &format!("/docs/{draft}"), Some(&staff), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{doc}");
        assert_eq!(doc["id"].as_str(), Some(draft.as_str()));
        assert_eq!(doc["kind"], "draft");
        assert_eq!(doc["topic"], topic["id"]);
        assert_eq!(doc["finalized"], false);
        assert_eq!(doc["content"]["title"], "关于城区停车难的建议");
        assert_eq!(doc["content"]["body"], "");

        let (status, body) = app.call("GET", "/docs/424242", Some(&staff), None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        let (status, _) = app.call("GET", &format!("/docs/{draft}"), None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
