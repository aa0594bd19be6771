//! Users to choose from, topics, their participants and their records.
//!
//! Staff, leaders and admins manage topics; members see the topics they take
//! part in and may add records to them.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use xieshang_shared::{ConsultationForm, DocId, NewTopic, Stage, Topic, TopicId, UserId};

use crate::access;
use crate::auth::AuthUser;
use crate::db::queries::{docs, topics, users};
use crate::error::{AppError, Result};
use crate::routes::{client_minted, optional_json, ApiJson, ApiPath};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/topics", get(list_topics).post(create_topic))
        .route("/topics/{id}", get(get_topic))
        .route("/topics/{id}/participants", put(set_participants))
        .route("/topics/{id}/records", post(create_record))
}

/// The body of `POST /topics`. Enums arrive as strings so that a wrong value
/// gets its own stable code (`bad_form`, `bad_stage`) rather than `bad_json`.
#[derive(Debug, Deserialize)]
struct TopicInput {
    title: String,
    form: String,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    plan_year: Option<i32>,
    #[serde(default)]
    lead_leader: Option<String>,
    #[serde(default)]
    responsible_dept: Option<String>,
    #[serde(default)]
    responsible_person: Option<String>,
    #[serde(default)]
    due: Option<String>,
}

impl TopicInput {
    fn into_new_topic(self) -> Result<NewTopic> {
        let form = self.form.trim().parse::<ConsultationForm>().map_err(|_| {
            AppError::bad_request(
                "bad_form",
                "form must be one of meeting, inspection, requested, dialogue, written",
            )
        })?;
        let stage = match self.stage.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(s.parse::<Stage>().map_err(|_| {
                AppError::bad_request(
                    "bad_stage",
                    "stage must be one of research, consultation, transformation",
                )
            })?),
        };
        topics::validate_new_topic(NewTopic {
            title: self.title,
            form,
            stage,
            plan_year: self.plan_year,
            lead_leader: self.lead_leader,
            responsible_dept: self.responsible_dept,
            responsible_person: self.responsible_person,
            due: self.due,
        })
    }
}

#[derive(Debug, Deserialize)]
struct ParticipantsInput {
    user_ids: Vec<UserId>,
}

/// Staff, leaders and admins only: the rest get 403 `forbidden`.
fn require_manager(user: &xieshang_shared::User) -> Result<()> {
    if user.role.manages_topics() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The committee roster (names, roles, sectors, sites), for every signed-in
/// user: members need the names of those they draft with, not bare ids.
/// Nothing secret is in it (no password hashes, no contact details).
async fn list_users(
    State(state): State<AppState>,
    AuthUser(_user): AuthUser,
) -> Result<Json<Vec<users::UserSummary>>> {
    Ok(Json(users::list_users(&state.db).await?))
}

async fn list_topics(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<Topic>>> {
    Ok(Json(topics::list_visible(&state.db, &user).await?))
}

async fn create_topic(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(input): ApiJson<TopicInput>,
) -> Result<(StatusCode, Json<Topic>)> {
    require_manager(&user)?;
    let new = input.into_new_topic()?;
    let topic = topics::create_topic(&state.db, new, Some(user.id), None).await?;
    tracing::info!(topic = %topic.id, by = %user.id, "topic created");
    Ok((StatusCode::CREATED, Json(topic)))
}

async fn get_topic(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<TopicId>,
) -> Result<Json<Topic>> {
    access::authorize_topic(&state, &user, id).await?;
    topics::get_topic(&state.db, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

async fn set_participants(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<TopicId>,
    ApiJson(input): ApiJson<ParticipantsInput>,
) -> Result<Json<Topic>> {
    require_manager(&user)?;
    topics::set_participants(&state.db, id, &input.user_ids).await?;
    // Whoever was removed loses their open sockets on the topic's documents now.
    state.sockets.recheck_topic(&state, id).await;
    tracing::info!(topic = %id, by = %user.id, count = input.user_ids.len(), "participants set");
    topics::get_topic(&state.db, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// The body of `POST /topics/{id}/records`: all optional, may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordInput {
    /// Minted by the creator (the browser, offline too): makes the create
    /// idempotent. Without it the server mints one.
    #[serde(default)]
    id: Option<DocId>,
}

/// 201 with the new record; 200 with it when the same creator sent the same
/// `"id"` before (a retry); 409 `id_conflict` when the id is someone else's.
async fn create_record(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<TopicId>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let input: RecordInput = optional_json(&body)?;
    let doc_id = client_minted(input.id)?;
    if !topics::exists(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    if !access::can_record(&state, &user, id).await? {
        return Err(AppError::Forbidden);
    }
    let created = topics::create_record(&state.db, id, doc_id, Some(user.id)).await?;
    let status = match created {
        docs::Created::New(_) => StatusCode::CREATED,
        docs::Created::Existing(_) => StatusCode::OK,
    };
    let doc = created.info();
    tracing::info!(doc = %doc.id, topic = %id, by = %user.id, status = status.as_u16(), "record created");
    Ok((
        status,
        Json(
            json!({ "id": doc.id, "kind": doc.kind, "topic": doc.topic, "finalized": doc.finalized }),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::routes::test_support::TestApp;

    #[tokio::test]
    async fn topic_lifecycle_and_visibility() {
        let app = TestApp::new().await;
        let staff = app.login_as("staff1", "staff").await;
        let member = app.login_as("member1", "member").await;
        let other = app.login_as("member2", "member").await;

        let (status, body) = app
            .call(
                "POST",
                "/topics",
                Some(&member),
                Some(json!({"title": "t", "form": "meeting"})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );

        let input = json!({
            "title": "关于发展乡村民宿的建议", "form": "inspection", "plan_year": 2025,
            "lead_leader": "张副主席", "responsible_dept": "县文旅局", "responsible_person": "刘局长", "due": "2025-09-30"
        });
        let (status, topic) = app.call("POST", "/topics", Some(&staff), Some(input)).await;
        assert_eq!(status, StatusCode::CREATED, "{topic}");
        let keys: Vec<&str> = topic
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in [
            "id",
            "title",
            "form",
            "stage",
            "plan_year",
            "lead_leader",
            "responsible_dept",
            "responsible_person",
            "due",
            "draft_doc",
            "record_docs",
            "participants",
        ] {
            assert!(keys.contains(&k), "{k} missing in {topic}");
        }
        assert_eq!(topic["stage"], "research");
        assert_eq!(topic["record_docs"], json!([]));
        let id = topic["id"].as_i64().unwrap();

        // A member who is no participant neither lists nor opens it.
        let (_, list) = app.call("GET", "/topics", Some(&member), None).await;
        assert_eq!(list, json!([]));
        let (status, _) = app
            .call("GET", &format!("/topics/{id}"), Some(&member), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let draft = topic["draft_doc"].as_str().unwrap().to_owned();
        let (status, _) = app
            .call("GET", &format!("/docs/{draft}"), Some(&member), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let member_id = app.user_id("member1").await;
        let (status, body) = app
            .call(
                "PUT",
                &format!("/topics/{id}/participants"),
                Some(&member),
                Some(json!({"user_ids": [member_id]})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, body) = app
            .call(
                "PUT",
                &format!("/topics/{id}/participants"),
                Some(&staff),
                Some(json!({"user_ids": [member_id, 9999]})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unknown_user"))
        );
        let (status, body) = app
            .call(
                "PUT",
                &format!("/topics/{id}/participants"),
                Some(&staff),
                Some(json!({"user_ids": [member_id, member_id]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["participants"], json!([member_id]));

        let (_, list) = app.call("GET", "/topics", Some(&member), None).await;
        assert_eq!(list.as_array().map(Vec::len), Some(1));
        let (status, _) = app
            .call("GET", &format!("/topics/{id}"), Some(&member), None)
            .await;
        assert_eq!(status, StatusCode::OK);

        // Records: a participant may add one, another member may not.
        let (status, _) = app
            .call("POST", &format!("/topics/{id}/records"), Some(&other), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, rec) = app
            .call(
                "POST",
                &format!("/topics/{id}/records"),
                Some(&member),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{rec}");
        assert_eq!(
            (rec["kind"].as_str(), rec["topic"].as_i64()),
            (Some("record"), Some(id))
        );
        let (_, topic) = app
            .call("GET", &format!("/topics/{id}"), Some(&staff), None)
            .await;
        assert_eq!(topic["record_docs"], json!([rec["id"]]));

        let (status, _) = app.call("GET", "/topics/999", Some(&staff), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = app.call("GET", "/topics/abc", Some(&staff), None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_path"))
        );
        let (status, body) = app.call("GET", "/users", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        for who in [&member, &staff] {
            let (status, body) = app.call("GET", "/users", Some(who), None).await;
            assert_eq!(
                (status, body.as_array().map(Vec::len)),
                (StatusCode::OK, Some(3))
            );
        }
    }

    #[tokio::test]
    async fn topic_input_errors() {
        let app = TestApp::new().await;
        let staff = app.login_as("staff1", "staff").await;
        for (input, code) in [
            (json!({"title": "", "form": "meeting"}), "bad_title"),
            (json!({"title": "t", "form": "party"}), "bad_form"),
            (
                json!({"title": "t", "form": "meeting", "stage": "done"}),
                "bad_stage",
            ),
            (
                json!({"title": "t", "form": "meeting", "due": "2025-02-30"}),
                "bad_due",
            ),
            (
                json!({"title": "t", "form": "meeting", "plan_year": 3000}),
                "bad_plan_year",
            ),
            (json!({"title": 5, "form": "meeting"}), "bad_json"),
            (json!({"form": "meeting"}), "bad_json"),
        ] {
            let (status, body) = app.call("POST", "/topics", Some(&staff), Some(input)).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some(code))
            );
        }
    }
}
