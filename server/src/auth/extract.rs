//! The signed-in user of a request. Reads only an [`AuthContext`] (the key and
//! the database), which the app's state hands down through `FromRef`, so this
//! layer never reaches up into the state it is part of.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use xieshang_shared::User;

use super::{presented_token, query_token, verify_claims, Claims, Keys};
use crate::db::queries::users;
use crate::db::{now_ms, Db};
use crate::error::{AppError, Result};

/// What authentication needs from the server: the signing key and the
/// database (session revocations, users). Cheap to clone; the app's state
/// provides it with `FromRef`, so handlers keep extracting [`AuthUser`] from it.
#[derive(Clone)]
pub struct AuthContext {
    /// The HMAC key that signs session tokens.
    pub keys: Arc<Keys>,
    /// Where users and signed-out sessions are looked up.
    pub db: Db,
}

/// The signed-in user behind a request's token, for handlers that are not
/// plain extractors (the WebSocket upgrade). Errors are 401 `no_session`,
/// `invalid_token` (also for deleted users and signed-out sessions) or `expired_token`.
pub async fn authenticate(
    ctx: &AuthContext,
    parts_headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<User> {
    authenticate_session(ctx, parts_headers, query_token)
        .await
        .map(|(user, _)| user)
}

/// Like [`authenticate`], also answering what the token says (its session
/// nonce and expiry), for connections that outlive the request: the sync socket.
pub async fn authenticate_session(
    ctx: &AuthContext,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<(User, Claims)> {
    let token =
        presented_token(headers, query_token).ok_or(AppError::Unauthorized("no_session"))?;
    let claims = verify_claims(&ctx.keys, token, now_ms())?;
    let user = users::find_session_user(&ctx.db, claims.user, &claims.nonce)
        .await?
        .ok_or(AppError::Unauthorized("invalid_token"))?;
    Ok((user, claims))
}

/// The signed-in user of a request; rejects with 401 when there is none.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl<S> FromRequestParts<S> for AuthUser
where
    AuthContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let query = query_token(parts.uri.query());
        authenticate(&AuthContext::from_ref(state), &parts.headers, query)
            .await
            .map(AuthUser)
    }
}
