//! The JSON API under `/api`, and `/healthz`.
//!
//! # Layout
//! - [`session`]: sign in (`POST`), who am I (`GET`), sign out (`DELETE`) at `/session`.
//! - [`topics`]: `/users`, `/topics`, participants and records of a topic.
//! - [`docs`]: `/docs/{doc_id}`, a document's typed content.
//! - [`versions`]: history, one version, diff, restore, authorship.
//! - [`finalize`]: sign-off, finalization, amendment.
//! - [`export`]: the bulletin as DOCX, Markdown or HTML.
//! - [`followup`]: follow-up of finalized outcomes, and the audit log.
//!
//! Every error, including malformed JSON, a bad path segment, a query string
//! that does not deserialize, a body over [`MAX_JSON_BODY`] and a method the
//! route does not have, is answered in the one shape of [`AppError`]: the
//! [`ApiJson`], [`ApiPath`] and [`ApiQuery`] extractors map axum's rejections
//! onto it; handlers never take axum's own `Json`, `Path` or `Query`.

pub mod docs;
pub mod export;
pub mod finalize;
pub mod followup;
pub mod session;
pub mod topics;
pub mod versions;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::db::queries::settings;
use crate::error::AppError;
use crate::state::AppState;

/// Largest JSON body accepted by the API: the biggest legitimate one (a
/// participant list) is far smaller, and anything larger is refused with 413.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// The API routes, to be nested under `/api` by the server.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(topics::router())
        .merge(docs::router())
        .merge(versions::router())
        .merge(finalize::router())
        .merge(export::router())
        .merge(followup::router())
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
}

/// `GET /healthz`: 200 `ok` when the database answers, 503 otherwise, so a load
/// balancer takes a process without storage out of rotation.
pub fn health_router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match settings::ping(&state.db).await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `axum::Json` whose rejections are [`AppError`]s: 400 `bad_json` for syntax,
/// type or content-type errors, 413 `too_large` over the body limit.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path` whose rejections are 400 `bad_path` in our JSON shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query` whose rejections (a missing field, a value of the
/// wrong type, a repeated key) are 400 `bad_query` in our JSON shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// The body of a create whose every field is optional: an empty body is
/// `T::default()`, anything else must be JSON of `T` (400 `bad_json`).
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| AppError::bad_request("bad_json", e.to_string()))
}

/// The `"id"` of a create request, minted by its creator (DESIGN "Ids minted
/// anywhere"): a UUIDv7, else 400 `bad_id`. `None` lets the server mint one.
pub fn client_minted(
    id: Option<xieshang_shared::DocId>,
) -> Result<Option<xieshang_shared::DocId>, AppError> {
    match id {
        Some(id) if !id.is_mintable() => Err(AppError::bad_request(
            "bad_id",
            "an \"id\" must be a UUIDv7 in lowercase hyphenated form, minted by its creator",
        )),
        other => Ok(other),
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::bad_request("bad_json", rejection.body_text())
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::bad_request("bad_path", rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::bad_request("bad_query", rejection.body_text())
    }
}

/// A router over a fresh SQLite file, with helpers to sign in and call it.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode};
    use axum::Router;
    use serde_json::{json, Value};
    use tower::ServiceExt;
    use xieshang_shared::UserId;

    use crate::auth::{self, Keys};
    use crate::config::Config;
    use crate::db::queries::users::{self, NewUser};
    use crate::db::Db;
    use crate::docs::Registry;
    use crate::state::AppState;

    pub struct TestApp {
        pub state: AppState,
        router: Router,
        _dir: tempfile::TempDir,
    }

    impl TestApp {
        pub async fn new() -> TestApp {
            let dir = tempfile::tempdir().unwrap();
            let config = Config::for_data_dir(dir.path().to_path_buf());
            let db = Db::open(dir.path(), None).await.unwrap();
            let keys = Keys::load_or_create(&db).await.unwrap();
            let docs = Registry::new(db.clone(), &config);
            let state = AppState {
                db,
                config: Arc::new(config),
                keys: Arc::new(keys),
                docs,
                sockets: Default::default(),
            };
            let router = super::api_router().with_state(state.clone());
            TestApp {
                state,
                router,
                _dir: dir,
            }
        }

        /// Adds a user with password `demo1234` and display name "<username> 的名字".
        pub async fn add_user(&self, username: &str, role: &str) -> UserId {
            let hash = auth::hash_password("demo1234").unwrap();
            let display_name = format!("{username} 的名字");
            let new = NewUser {
                username,
                display_name: &display_name,
                role: users::parse_role(role).unwrap(),
                invited: false,
                sector: None,
                site: None,
                password_hash: &hash,
            };
            users::add_user(&self.state.db, &new).await.unwrap().id
        }

        /// Adds a user and signs in through the API; answers the token.
        pub async fn login_as(&self, username: &str, role: &str) -> String {
            self.add_user(username, role).await;
            let body = json!({ "username": username, "password": "demo1234" });
            let (status, body) = self.call("POST", "/session", None, Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["token"].as_str().unwrap().to_string()
        }

        pub async fn user_id(&self, username: &str) -> i64 {
            users::find_by_username(&self.state.db, username)
                .await
                .unwrap()
                .unwrap()
                .user
                .id
                .0
        }

        pub async fn call(
            &self,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: Option<Value>,
        ) -> (StatusCode, Value) {
            let (status, body, _) = self.call_full(method, path, token, body).await;
            (status, body)
        }

        pub async fn call_full(
            &self,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: Option<Value>,
        ) -> (StatusCode, Value, HeaderMap) {
            let mut req = Request::builder().method(method).uri(path);
            if let Some(token) = token {
                req = req.header("authorization", format!("Bearer {token}"));
            }
            let req = match body {
                Some(body) => req
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string())),
                None => req.body(Body::empty()),
            };
            self.send(req.unwrap()).await
        }

        pub async fn call_cookie(
            &self,
            method: &str,
            path: &str,
            token: &str,
        ) -> (StatusCode, Value) {
            let req = Request::builder()
                .method(method)
                .uri(path)
                .header("cookie", format!("xieshang_session={token}"));
            let (status, body, _) = self.send(req.body(Body::empty()).unwrap()).await;
            (status, body)
        }

        pub async fn call_raw(&self, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
            let req = Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json");
            let (status, body, _) = self
                .send(req.body(Body::from(body.to_string())).unwrap())
                .await;
            (status, body)
        }

        async fn send(&self, req: Request<Body>) -> (StatusCode, Value, HeaderMap) {
            let resp = self.router.clone().oneshot(req).await.unwrap();
            let (status, headers) = (resp.status(), resp.headers().clone());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or(Value::Null)
            };
            (status, body, headers)
        }
    }
}
