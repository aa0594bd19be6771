//! Calls to the server's JSON API (`/api`, DESIGN.md "HTTP contract") through
//! the browser's `fetch`. The session cookie goes along by itself (same origin);
//! the token is sent too, for servers behind a proxy that drops cookies.
//!
//! The types mirror the API's JSON locally until `xieshang-shared` exports its
//! `User` and `Topic` (they decode the same JSON; unknown fields are ignored).

use leptos::prelude::window;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

/// The signed-in user, as `POST /api/session` returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// `member`, `staff`, `leader` or `admin`.
    pub role: String,
}

/// A session: the token (also needed later for `/sync`) and who it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

/// The fields of a `Topic` this client shows so far.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Topic {
    pub id: i64,
    pub title: String,
    /// A `ConsultationForm`: `meeting`, `inspection`, `requested`, `dialogue`, `written`.
    pub form: String,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub due: Option<String>,
}

/// Why a call failed, as far as the user needs to know.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No answer: offline, or the server is down.
    Network,
    /// 401: bad credentials at sign-in, or the session has ended.
    Unauthorized,
    /// Any other error status, with the stable `code` of the error body if any.
    Server { status: u16, code: String },
    /// The answer was not the JSON we expect.
    Decode,
}

/// The error body shape shared by every endpoint.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
}

/// `POST /api/session`.
pub async fn sign_in(username: &str, password: &str) -> Result<Session, ApiError> {
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    let text = call("POST", "/api/session", Some(&body), None).await?;
    serde_json::from_str(&text).map_err(|_| ApiError::Decode)
}

/// `DELETE /api/session`.
pub async fn sign_out(token: &str) -> Result<(), ApiError> {
    call("DELETE", "/api/session", None, Some(token))
        .await
        .map(drop)
}

/// `GET /api/topics`: the topics the caller may see.
pub async fn topics(token: &str) -> Result<Vec<Topic>, ApiError> {
    let text = call("GET", "/api/topics", None, Some(token)).await?;
    serde_json::from_str(&text).map_err(|_| ApiError::Decode)
}

/// One request; a 2xx answer's body comes back as text.
async fn call(
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<String, ApiError> {
    let response = fetch(method, path, body, token)
        .await
        .map_err(|_| ApiError::Network)?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string()),
        Err(_) => None,
    };
    let status = response.status();
    if (200..300).contains(&status) {
        return text.ok_or(ApiError::Decode);
    }
    if status == 401 {
        return Err(ApiError::Unauthorized);
    }
    let code = text
        .and_then(|t| serde_json::from_str::<ErrorBody>(&t).ok())
        .map(|b| b.error.code)
        .unwrap_or_default();
    Err(ApiError::Server { status, code })
}

async fn fetch(
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    headers.set("accept", "application/json")?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = body {
        headers.set("content-type", "application/json")?;
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(token) = token {
        headers.set("authorization", &format!("Bearer {token}"))?;
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init)?;
    let answer = JsFuture::from(window().fetch_with_request(&request)).await?;
    answer.dyn_into::<Response>()
}
