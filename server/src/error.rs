//! One error type for every HTTP answer: a stable JSON shape, never internal text.
//!
//! Handlers return `Result<T, AppError>`; storage and other failures convert with
//! `?` and are logged here, while the client only sees `{"error":{"code","message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a request failed. Each variant maps to one status and a stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that does not have the expected shape or values.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No valid session (missing, expired or tampered token).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Signed in, but this role or user may not do this.
    #[error("forbidden")]
    Forbidden,
    /// No such thing, or not visible to the caller.
    #[error("not found")]
    NotFound,
    /// The route exists, but not with this method (`DELETE /api/topics`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request conflicts with the current state (e.g. a stale version).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The body or message is larger than allowed.
    #[error("payload too large")]
    TooLarge,
    /// The caller is over a rate limit.
    #[error("too many requests")]
    TooMany,
    /// Anything else: logged with detail, answered without it.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Results in the server crate default to [`AppError`].
pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    /// A 400 with a stable code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 409 with a stable code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The status and the stable code the client sees.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unauthorized(code) => (StatusCode::UNAUTHORIZED, code),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AppError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        (status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<crate::docs::DocError> for AppError {
    fn from(e: crate::docs::DocError) -> Self {
        match e {
            crate::docs::DocError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.to_string()),
        }
    }
}
