//! Calls to the server's JSON API (`/api`, DESIGN.md "HTTP contract") through
//! the browser's `fetch`. The session cookie goes along by itself (same origin);
//! the token is sent too, for servers behind a proxy that drops cookies.
//!
//! Users and topics are the shared crate's types; the answers only this
//! client reads (document facts, versions, sign-off outcomes) are defined here.

use leptos::prelude::window;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};
use xieshang_shared::{DocId, DocKind, Topic, TopicId, User};

/// A session: the token (also needed for `/sync`) and who it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

/// What `GET /api/docs/{id}` says about a document, without its content.
/// Cached for an offline start: the editor needs the kind before it can open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocMeta {
    pub id: DocId,
    pub kind: DocKind,
    #[serde(default)]
    pub topic: Option<TopicId>,
    #[serde(default)]
    pub finalized: bool,
}

/// One sign-off as the versions list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignoffView {
    pub user_id: i64,
    pub display_name: String,
    #[serde(default)]
    pub at: i64,
    /// Signed on a version that is no longer the current one.
    #[serde(default)]
    pub stale: bool,
}

/// A named version (`GET /api/docs/{id}/versions`), oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub version: String,
    #[serde(default)]
    pub hash: String,
    /// Unix milliseconds.
    #[serde(default)]
    pub at: i64,
    /// `signoff`, `finalize`, `restore`, `viewed`, `periodic`, `amend`.
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub current: bool,
    #[serde(default)]
    pub signoffs: Vec<SignoffView>,
}

/// A user as `GET /api/users` (the committee roster) lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub display_name: String,
}

/// Why a call failed, as far as the user needs to know.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No answer: offline, or the server is down.
    Network,
    /// 401: bad credentials at sign-in, or the session has ended.
    Unauthorized,
    /// Any other error status, with the stable `code` of the error body and
    /// the whole `error` object (409s carry details: the diff, who is missing).
    Server {
        status: u16,
        code: String,
        detail: Value,
    },
    /// The answer was not the JSON we expect.
    Decode,
}

impl ApiError {
    /// The stable error code, if the server sent one.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Server { code, .. } => code,
            _ => "",
        }
    }
}

/// `POST /api/session`.
pub async fn sign_in(username: &str, password: &str) -> Result<Session, ApiError> {
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    json(call("POST", "/api/session", Some(&body), None).await?)
}

/// `DELETE /api/session`.
pub async fn sign_out(token: &str) -> Result<(), ApiError> {
    call("DELETE", "/api/session", None, Some(token))
        .await
        .map(drop)
}

/// `GET /api/topics`: the topics the caller may see.
pub async fn topics(token: &str) -> Result<Vec<Topic>, ApiError> {
    json(call("GET", "/api/topics", None, Some(token)).await?)
}

/// `GET /api/topics/{id}`.
pub async fn topic(token: &str, id: TopicId) -> Result<Topic, ApiError> {
    json(call("GET", &format!("/api/topics/{id}"), None, Some(token)).await?)
}

/// `GET /api/users`: the roster, for names of participant ids.
pub async fn users(token: &str) -> Result<Vec<UserSummary>, ApiError> {
    json(call("GET", "/api/users", None, Some(token)).await?)
}

/// `GET /api/docs/{id}`, keeping the facts and dropping the content.
pub async fn doc_meta(token: &str, id: DocId) -> Result<DocMeta, ApiError> {
    json(call("GET", &format!("/api/docs/{id}"), None, Some(token)).await?)
}

/// `GET /api/docs/{id}/versions`.
pub async fn versions(token: &str, id: DocId) -> Result<Vec<Version>, ApiError> {
    json(
        call(
            "GET",
            &format!("/api/docs/{id}/versions"),
            None,
            Some(token),
        )
        .await?,
    )
}

/// `POST /api/docs/{id}/signoffs`: agree to `version`; `text` is what the
/// signer saw, for the diff when the server never named that version.
pub async fn sign_off(
    token: &str,
    id: DocId,
    version: &str,
    text: Option<&str>,
) -> Result<(), ApiError> {
    let body = serde_json::json!({ "version": version, "text": text }).to_string();
    let path = format!("/api/docs/{id}/signoffs");
    call("POST", &path, Some(&body), Some(token))
        .await
        .map(drop)
}

/// `POST /api/docs/{id}/finalize` (staff); returns the bulletin's name (第N期).
pub async fn finalize(
    token: &str,
    id: DocId,
    version: &str,
    absent_reason: Option<&str>,
) -> Result<String, ApiError> {
    let body =
        serde_json::json!({ "version": version, "absent_reason": absent_reason }).to_string();
    let path = format!("/api/docs/{id}/finalize");
    let answer: Value = json(call("POST", &path, Some(&body), Some(token)).await?)?;
    Ok(answer["bulletin"].as_str().unwrap_or_default().to_owned())
}

/// `GET /api/docs/{id}/export?format=…`: the file's bytes as a `Blob` and the
/// name the server suggests.
pub async fn export(
    token: &str,
    id: DocId,
    format: &str,
) -> Result<(web_sys::Blob, Option<String>), ApiError> {
    let path = format!("/api/docs/{id}/export?format={format}");
    let response = fetch("GET", &path, None, Some(token))
        .await
        .map_err(|_| ApiError::Network)?;
    if !response.ok() {
        return Err(error_of(&response).await);
    }
    let name = response
        .headers()
        .get("content-disposition")
        .ok()
        .flatten()
        .and_then(|h| file_name(&h));
    let promise = response.blob().map_err(|_| ApiError::Decode)?;
    let blob = JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into::<web_sys::Blob>()
        .map_err(|_| ApiError::Decode)?;
    Ok((blob, name))
}

/// The file name of a `Content-Disposition` header: `filename*=UTF-8''…`
/// (percent-encoded) if present, else `filename="…"`.
pub fn file_name(header: &str) -> Option<String> {
    for part in header.split(';').map(str::trim) {
        if let Some(encoded) = part.strip_prefix("filename*=UTF-8''") {
            return js_sys::decode_uri_component(encoded)
                .ok()
                .and_then(|s| s.as_string());
        }
    }
    header.split(';').map(str::trim).find_map(|part| {
        part.strip_prefix("filename=")
            .map(|n| n.trim_matches('"').to_owned())
    })
}

fn json<T: serde::de::DeserializeOwned>(text: String) -> Result<T, ApiError> {
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
    if !response.ok() {
        return Err(error_of(&response).await);
    }
    text_of(&response).await.ok_or(ApiError::Decode)
}

async fn text_of(response: &Response) -> Option<String> {
    let promise = response.text().ok()?;
    JsFuture::from(promise).await.ok()?.as_string()
}

async fn error_of(response: &Response) -> ApiError {
    let status = response.status();
    if status == 401 {
        return ApiError::Unauthorized;
    }
    let detail = text_of(response)
        .await
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|v| v["error"].clone())
        .unwrap_or(Value::Null);
    let code = detail["code"].as_str().unwrap_or_default().to_owned();
    ApiError::Server {
        status,
        code,
        detail,
    }
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
