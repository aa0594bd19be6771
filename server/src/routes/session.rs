//! `/session`: sign in, who am I, sign out.
//!
//! Sign-in answers the token in the body (for scripts and y-websocket's
//! `params`) and as an HttpOnly cookie (for the browser app), `Secure` when the
//! public URL is https. Unknown users and wrong passwords take the same path
//! and the same time, and answer the same 401 `bad_credentials`.
//!
//! Throttling cannot be turned against a user: failures are counted per client
//! address and per username *at that address*, never per username alone, so
//! guesses from one place do not lock the user out anywhere else. After
//! `--signin-user-failures` failures of one username at one address (or
//! `--signin-address-failures` from one address in all), each further attempt
//! from there must wait, `--signin-delay-secs` doubling per failure up to
//! `--signin-max-delay-secs`; until then the answer is 429 `too_many_requests`
//! with `Retry-After`. An attempt reserves its slot before the password is
//! checked ([`users::reserve_signin`]), so parallel guesses cannot slip past the
//! limit; a success gives it back. Hashing runs under
//! [`auth::login_hashing`], so a flood of sign-ins cannot exhaust memory.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, AuthUser, ClientAddr};
use crate::config::Config;
use crate::db::now_ms;
use crate::db::queries::users::{self, Reservation, ThrottleRule};
use crate::error::{AppError, Result};
use crate::routes::ApiJson;
use crate::state::AppState;

/// Longer passwords are refused outright: argon2 work must stay bounded.
const MAX_PASSWORD_BYTES: usize = 1024;
/// Throttle rows idle this long start from zero (at least twice the longest wait).
const MIN_FORGET_MS: i64 = 60 * 60 * 1000;
/// How often idle throttle rows are swept, at most.
const SWEEP_EVERY_MS: i64 = 60 * 1000;

/// The `/session` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(login).get(current).delete(logout))
}

#[derive(Debug, Deserialize)]
struct LoginInput {
    username: String,
    password: String,
}

/// The throttle rules of a configuration: (username at an address, address).
fn rules(config: &Config) -> (ThrottleRule, ThrottleRule) {
    let base_ms = i64::try_from(config.signin_delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let max_ms =
        i64::try_from(config.signin_max_delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let rule = |free: u32| ThrottleRule {
        free: i64::from(free),
        base_ms,
        max_ms,
    };
    (
        rule(config.signin_user_failures),
        rule(config.signin_address_failures),
    )
}

/// The throttle keys of a sign-in: (username at address, address). IPv6
/// clients are counted per /64, which one customer usually holds whole. The
/// username is bounded in length (longer ones cannot exist, so they share one
/// key harmlessly).
pub fn throttle_keys(ip: IpAddr, username: &str) -> (String, String) {
    let address = match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    };
    let username: String = username.chars().take(64).collect();
    (format!("u {address} {username}"), format!("a {address}"))
}

/// A 429 `too_many_requests` telling the client when to come back.
fn too_many(wait_ms: i64) -> Response {
    let secs = (wait_ms.max(0) + 999) / 1000;
    let mut response = AppError::TooMany.into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

/// Drops idle throttle rows now and then (not on every sign-in, to keep the
/// hot path to the one reservation).
async fn sweep(state: &AppState, now: i64, forget_before: i64) -> Result<()> {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let last = LAST.load(Ordering::Relaxed);
    if now - last >= SWEEP_EVERY_MS
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        users::forget_idle_signins(&state.db, forget_before, now).await?;
    }
    Ok(())
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response> {
    if input.password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_request("bad_password", "password too long"));
    }
    let (user_rule, address_rule) = rules(&state.config);
    let (pair_key, address_key) = throttle_keys(ip, &input.username);
    let keys = [
        (pair_key.as_str(), user_rule),
        (address_key.as_str(), address_rule),
    ];
    let now = now_ms();
    let forget_before = now - MIN_FORGET_MS.max(user_rule.max_ms.saturating_mul(2));
    sweep(&state, now, forget_before).await?;
    if let Reservation::Throttled { until } =
        users::reserve_signin(&state.db, &keys, now, forget_before).await?
    {
        return Ok(too_many(until - now));
    }

    let credentials = match users::validate_username(&input.username) {
        Ok(()) => users::find_by_username(&state.db, &input.username).await?,
        Err(_) => None,
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let matches = match auth::check_login_password(input.password, hash).await {
        Ok(matches) => matches,
        Err(AppError::TooMany) => {
            // Our own overload, not the caller's guess: give the slots back.
            users::release_signin(&state.db, &keys).await?;
            return Ok(too_many(1000));
        }
        Err(e) => return Err(e),
    };
    let user = match credentials {
        Some(c) if matches => c.user,
        _ => {
            tracing::info!(%ip, "sign-in refused: bad credentials");
            return Err(AppError::Unauthorized("bad_credentials"));
        }
    };
    users::signin_succeeded(&state.db, &pair_key, &address_key, address_rule.free).await?;

    let ttl_secs = state.config.session_hours.saturating_mul(3600);
    let token = auth::issue_token(&state.keys, user.id, Duration::from_secs(ttl_secs));
    let secure = auth::public_url_is_https(state.config.public_url.as_deref());
    let cookie = HeaderValue::from_str(&auth::session_cookie(&token, ttl_secs, secure))
        .map_err(|e| AppError::Internal(format!("session cookie: {e}")))?;
    tracing::info!(user = %user.id, username = %user.username, %ip, "signed in");
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
    let secure = auth::public_url_is_https(state.config.public_url.as_deref());
    let clear = HeaderValue::from_str(&auth::clear_session_cookie(secure))
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
        // Four more wrong passwords make five for wang at this address: the
        // next attempt, even with the right password, has to wait.
        for _ in 0..4 {
            let (status, _) = app
                .call(
                    "POST",
                    "/session",
                    None,
                    Some(json!({"username": "wang", "password": "wrong"})),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, body, headers) = app
            .call_full(
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
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry), "{retry}");
        // Another user at the same address is not slowed down.
        app.add_user("li", "member").await;
        let (status, _) = app
            .call(
                "POST",
                "/session",
                None,
                Some(json!({"username": "li", "password": "demo1234"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);

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
