//! `/session`: sign in, who am I, sign out.
//!
//! Sign-in answers the token in the body (for scripts and y-websocket's
//! `params`) and as an HttpOnly cookie (for the browser app). Unknown users and
//! wrong passwords take the same path and the same time, and answer the same
//! 401 `bad_credentials`; after [`MAX_FAILURES`] failures for one username within
//! [`FAILURE_WINDOW_MS`] the answer is 429 `too_many_requests` until the window passes.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, AuthUser};
use crate::db::now_ms;
use crate::db::queries::users;
use crate::error::{AppError, Result};
use crate::routes::ApiJson;
use crate::state::AppState;

/// Failed logins for one username that are tolerated within the window.
pub const MAX_FAILURES: i64 = 10;
/// The rate-limit window: five minutes.
pub const FAILURE_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Longer passwords are refused outright: argon2 work must stay bounded.
const MAX_PASSWORD_BYTES: usize = 1024;

/// The `/session` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(login).get(current).delete(logout))
}

#[derive(Debug, Deserialize)]
struct LoginInput {
    username: String,
    password: String,
}

/// The rate-limit key: the username as typed, bounded in length (longer ones
/// cannot exist anyway, so they share one key harmlessly).
fn rate_key(username: &str) -> String {
    username.chars().take(64).collect()
}

async fn login(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response> {
    if input.password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_request("bad_password", "password too long"));
    }
    let key = rate_key(&input.username);
    let now = now_ms();
    if users::recent_failures(&state.db, &key, now - FAILURE_WINDOW_MS).await? >= MAX_FAILURES {
        let mut response = AppError::TooMany.into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(FAILURE_WINDOW_MS / 1000));
        return Ok(response);
    }
    let credentials = match users::validate_username(&input.username) {
        Ok(()) => users::find_by_username(&state.db, &input.username).await?,
        Err(_) => None,
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let matches = auth::check_login_password(input.password, hash).await?;
    let user = match credentials {
        Some(c) if matches => c.user,
        _ => {
            users::record_failure(&state.db, &key, now, now - FAILURE_WINDOW_MS).await?;
            return Err(AppError::Unauthorized("bad_credentials"));
        }
    };
    users::clear_failures(&state.db, &key).await?;

    let ttl_secs = state.config.session_hours.saturating_mul(3600);
    let token = auth::issue_token(&state.keys, user.id, Duration::from_secs(ttl_secs));
    let cookie = HeaderValue::from_str(&auth::session_cookie(&token, ttl_secs))
        .map_err(|e| AppError::Internal(format!("session cookie: {e}")))?;
    tracing::info!(user = %user.id, username = %user.username, "signed in");
    let body = Json(json!({ "token": token, "user": user }));
    Ok(([(SET_COOKIE, cookie)], body).into_response())
}

async fn current(AuthUser(user): AuthUser) -> Json<serde_json::Value> {
    Json(json!({ "user": user }))
}

/// Signs out: the presented token (if valid) is revoked on the server, and the
/// cookie is cleared. Always 204, so signing out twice is harmless.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if let Some(token) = auth::presented_token(&headers, None) {
        if let Ok(claims) = auth::verify_claims(&state.keys, token, now_ms()) {
            users::revoke_session(&state.db, &claims.nonce, claims.expires_at).await?;
            state.sockets.close_session(&claims.nonce);
        }
    }
    let clear = HeaderValue::from_str(&auth::clear_session_cookie())
        .map_err(|e| AppError::Internal(format!("session cookie: {e}")))?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, clear)]).into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::routes::test_support::TestApp;

    #[tokio::test]
    async fn login_whoami_logout() {
        let app = TestApp::new().await;
        app.add_user("li.wei", "member").await;

        let (status, body, headers) = app
            .call_full(
                "POST",
                "/session",
                None,
                Some(json!({"username": "li.wei", "password": "demo1234"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["token"].as_str().unwrap().to_string();
        assert_eq!(body["user"]["username"], "li.wei");
        assert_eq!(body["user"]["role"], "member");
        let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
        for part in [
            "xieshang_session=",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }

        let (status, body) = app.call("GET", "/session", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["display_name"], "li.wei 的名字");

        // The cookie works as well as the bearer header.
        let (status, _) = app.call_cookie("GET", "/session", &token).await;
        assert_eq!(status, StatusCode::OK);

        let (status, _, headers) = app
            .call_full("DELETE", "/session", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
        let (status, body) = app.call("GET", "/session", Some(&token), None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token"))
        );

        let (status, body) = app.call("GET", "/session", None, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("no_session"))
        );

        // A token in the query (y-websocket's `params`) works; a deleted user's does not.
        let id = app.add_user("zhao", "member").await;
        let login = json!({"username": "zhao", "password": "demo1234"});
        let (_, body) = app.call("POST", "/session", None, Some(login)).await;
        let token = body["token"].as_str().unwrap().to_string();
        let (status, _) = app
            .call("GET", &format!("/session?x=1&token={token}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        crate::on_db!(&app.state.db, pool => sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.0)
            .execute(pool)
            .await
            .map(|_| ()))
        .unwrap();
        let (status, body) = app.call("GET", "/session", Some(&token), None).await;
        let code = body["error"]["code"].as_str();
        assert_eq!(
            (status, code),
            (StatusCode::UNAUTHORIZED, Some("invalid_token"))
        );
    }

    #[tokio::test]
    async fn bad_credentials_and_rate_limit() {
        let app = TestApp::new().await;
        app.add_user("wang", "staff").await;
        for (user, pw) in [
            ("wang", "wrong"),
            ("nobody", "demo1234"),
            ("not a name!", "x"),
        ] {
            let (status, body) = app
                .call(
                    "POST",
                    "/session",
                    None,
                    Some(json!({"username": user, "password": pw})),
                )
                .await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
            );
        }
        for _ in 0..9 {
            app.call(
                "POST",
                "/session",
                None,
                Some(json!({"username": "wang", "password": "wrong"})),
            )
            .await;
        }
        // Ten failures within five minutes: even the right password is refused now.
        let (status, body) = app
            .call(
                "POST",
                "/session",
                None,
                Some(json!({"username": "wang", "password": "demo1234"})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests"))
        );

        let (status, body) = app.call_raw("POST", "/session", "{not json").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_json"))
        );
        let huge = json!({"username": "x", "password": "y".repeat(70 * 1024)}).to_string();
        let (status, body) = app.call_raw("POST", "/session", &huge).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
        );
    }
}
