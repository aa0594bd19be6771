//! Who is calling: password hashes, signed session tokens, the client's
//! address and the [`AuthUser`] extractor.
//!
//! A session token is `base64url(payload) "." base64url(HMAC-SHA256(payload))`,
//! the payload being a version byte, the user id, the expiry (unix ms) and a
//! random nonce. Tokens are stateless, so any process with the same key accepts
//! them; signing out records the nonce in `revoked_sessions`. The tag is checked
//! in constant time before a single byte of the payload is interpreted.
//!
//! The key is never stored in the database (a backup of it could otherwise mint
//! admin sessions): it comes from [`SESSION_KEY_ENV`], else from the file
//! [`SESSION_KEY_FILE`] under the data dir, created with mode 0600 on first
//! start (see [`Keys::load`]).

mod client_addr;
mod hashing;
mod key_file;

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use xieshang_shared::{User, UserId};

use crate::db::queries::users;
use crate::db::{now_ms, Db};
use crate::error::{AppError, Result};
use crate::state::AppState;

pub use client_addr::{client_ip, ClientAddr, IpNet};
pub use hashing::{login_hashing, HashLimiter};
pub use key_file::{KeySource, SESSION_KEY_ENV, SESSION_KEY_FILE};

/// The cookie that carries the session token for browsers.
pub const SESSION_COOKIE: &str = "xieshang_session";

/// Version of the payload layout, so a later layout can be told apart.
const TOKEN_VERSION: u8 = 1;
/// version (1) + user id (8) + expiry (8) + nonce (16).
const PAYLOAD_LEN: usize = 33;
/// Longer tokens are refused before any decoding or MAC work.
const MAX_TOKEN_LEN: usize = 256;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC-SHA256 key that signs session tokens. Debug output never shows it.
#[derive(Clone)]
pub struct Keys {
    mac: HmacSha256,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

impl Keys {
    /// Keys from a known secret (tests, tools). At least 32 bytes.
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Keys> {
        anyhow::ensure!(
            secret.len() >= 32,
            "session secret must be at least 32 bytes"
        );
        let mac =
            HmacSha256::new_from_slice(secret).map_err(|e| anyhow::anyhow!("hmac key: {e}"))?;
        Ok(Keys { mac })
    }

    /// A random key kept only in memory (in-process tests that never restart);
    /// the database is not consulted.
    pub async fn load_or_create(_db: &Db) -> anyhow::Result<Keys> {
        let mut fresh = [0u8; key_file::KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        tokio::task::spawn_blocking(dummy_hash).await?;
        Keys::from_secret(&fresh)
    }

    fn tag(&self, payload_b64: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(payload_b64.as_bytes());
        mac
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub user: UserId,
    /// Unix ms after which the token is refused.
    pub expires_at: i64,
    /// Random per session; names the session when it is signed out.
    pub nonce: String,
}

/// A new session token for `user`, valid for `ttl` from now.
pub fn issue_token(keys: &Keys, user: UserId, ttl: Duration) -> String {
    issue_token_at(keys, user, now_ms(), ttl)
}

/// Like [`issue_token`] with an explicit clock (unix ms), for tests.
pub fn issue_token_at(keys: &Keys, user: UserId, now: i64, ttl: Duration) -> String {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut payload = [0u8; PAYLOAD_LEN];
    payload[0] = TOKEN_VERSION;
    payload[1..9].copy_from_slice(&user.0.to_le_bytes());
    payload[9..17].copy_from_slice(&now.saturating_add(ttl_ms).to_le_bytes());
    rand::rngs::OsRng.fill_bytes(&mut payload[17..]);
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload);
    let tag = keys.tag(&payload_b64).finalize().into_bytes();
    format!("{payload_b64}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The user a token was issued to, if its tag is genuine and it has not expired
/// at `now` (unix ms).
pub fn verify_token(keys: &Keys, token: &str, now: i64) -> Result<UserId> {
    verify_claims(keys, token, now).map(|c| c.user)
}

/// Checks a token and answers everything it says. The MAC is verified in
/// constant time before the payload is decoded; only then is expiry checked.
pub fn verify_claims(keys: &Keys, token: &str, now: i64) -> Result<Claims> {
    let invalid = || AppError::Unauthorized("invalid_token");
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let (payload_b64, tag_b64) = token.split_once('.').ok_or_else(invalid)?;
    let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| invalid())?;
    keys.tag(payload_b64)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;

    let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| invalid())?;
    let payload: [u8; PAYLOAD_LEN] = payload.try_into().map_err(|_| invalid())?;
    if payload[0] != TOKEN_VERSION {
        return Err(invalid());
    }
    let mut word = [0u8; 8];
    word.copy_from_slice(&payload[1..9]);
    let user = UserId(i64::from_le_bytes(word));
    word.copy_from_slice(&payload[9..17]);
    let expires_at = i64::from_le_bytes(word);
    if now >= expires_at {
        return Err(AppError::Unauthorized("expired_token"));
    }
    Ok(Claims {
        user,
        expires_at,
        nonce: URL_SAFE_NO_PAD.encode(&payload[17..]),
    })
}

/// An argon2id PHC string for `password`, with a fresh random salt.
/// CPU-heavy (tens of ms): call it off the async runtime in request paths.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC string `phc`; a malformed hash matches nothing.
///
/// The argon2 working memory (19 MiB at the default costs) is one buffer per
/// thread, kept and reused: argon2's own `verify_password` allocates it on
/// every call, and the allocator kept those around, so 50 checks on two
/// threads left the process at 230–300 MB; with the buffer reused it stays at
/// one buffer per hashing thread.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .ok()
        .and_then(|parsed| verify_parsed(password.as_bytes(), &parsed))
        .unwrap_or(false)
}

/// Working memory larger than this (in 1 KiB blocks, 4 × the default) is not
/// kept for reuse: a hash with unusual costs gets its own buffer, once.
const MAX_KEPT_BLOCKS: usize = 4 * argon2::Params::DEFAULT_M_COST as usize;

fn verify_parsed(password: &[u8], parsed: &PasswordHash<'_>) -> Option<bool> {
    use std::cell::RefCell;
    thread_local! {
        static BLOCKS: RefCell<Vec<argon2::Block>> = const { RefCell::new(Vec::new()) };
    }
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => argon2::Version::try_from(v).ok()?,
        None => argon2::Version::default(),
    };
    let params = argon2::Params::try_from(parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let context = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let hashed = if blocks > MAX_KEPT_BLOCKS {
        context.hash_password_into(password, salt, &mut out)
    } else {
        BLOCKS.with(|kept| {
            let mut kept = kept.borrow_mut();
            if kept.len() < blocks {
                kept.resize(blocks, argon2::Block::default());
            }
            context.hash_password_into_with_memory(password, salt, &mut out, &mut kept[..blocks])
        })
    };
    hashed.ok()?;
    // `Output` compares in constant time.
    Some(argon2::password_hash::Output::new(&out).ok()? == expected)
}

/// A hash of a password nobody knows, verified when the username does not exist
/// so that unknown users and wrong passwords take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        hash_password(&URL_SAFE_NO_PAD.encode(secret)).unwrap_or_default()
    })
}

/// Verifies a login password on a blocking thread, under [`login_hashing`]:
/// against `phc`, or against the dummy hash when there is no such user (same
/// work, same time, `false`). [`AppError::TooMany`] when too many wait already.
pub async fn check_login_password(password: String, phc: Option<String>) -> Result<bool> {
    login_hashing()
        .run(move || match phc {
            Some(phc) => verify_password(&password, &phc),
            None => {
                let _ = verify_password(&password, dummy_hash());
                false
            }
        })
        .await
}

/// The `Set-Cookie` value that stores a session token in the browser;
/// `secure` (the public URL is https) keeps it off plain-HTTP requests.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// Whether the configured public URL is https, so cookies must be `Secure`.
pub fn public_url_is_https(public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| {
        u.trim()
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    })
}

/// `path?query` with the value of every `token` parameter replaced, for logs:
/// a token in a log line is a session for whoever reads the log.
pub fn redact_token(path_and_query: &str) -> Cow<'_, str> {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return Cow::Borrowed(path_and_query);
    };
    if !query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("token"))
    {
        return Cow::Borrowed(path_and_query);
    }
    let redacted: Vec<&str> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("token", _)) => "token=[redacted]",
            _ if pair == "token" => "token=[redacted]",
            _ => pair,
        })
        .collect();
    Cow::Owned(format!("{path}?{}", redacted.join("&")))
}

/// The token a request presents: `Authorization: Bearer`, else the `token`
/// query parameter (what y-websocket's `params` sends), else the session
/// cookie. Tokens the client chose explicitly win over the ambient cookie, so a
/// stale cookie cannot shadow the token a WebSocket was opened with.
pub fn presented_token<'a>(
    headers: &'a HeaderMap,
    query_token: Option<&'a str>,
) -> Option<&'a str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let cookie = || {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.trim())
    };
    bearer
        .or(query_token)
        .or_else(cookie)
        .filter(|t| !t.is_empty())
}

/// The `token` parameter of a query string, if present.
pub fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
}

/// The signed-in user behind a request's token, for handlers that are not
/// plain extractors (the WebSocket upgrade). Errors are 401 `no_session`,
/// `invalid_token` (also for deleted users and signed-out sessions) or `expired_token`.
pub async fn authenticate(
    state: &AppState,
    parts_headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<User> {
    authenticate_session(state, parts_headers, query_token)
        .await
        .map(|(user, _)| user)
}

/// Like [`authenticate`], also answering what the token says (its session
/// nonce and expiry), for connections that outlive the request: the sync socket.
pub async fn authenticate_session(
    state: &AppState,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<(User, Claims)> {
    let token =
        presented_token(headers, query_token).ok_or(AppError::Unauthorized("no_session"))?;
    let claims = verify_claims(&state.keys, token, now_ms())?;
    let user = users::find_session_user(&state.db, claims.user, &claims.nonce)
        .await?
        .ok_or(AppError::Unauthorized("invalid_token"))?;
    Ok((user, claims))
}

/// The signed-in user of a request; rejects with 401 when there is none.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let query = query_token(parts.uri.query());
        authenticate(state, &parts.headers, query)
            .await
            .map(AuthUser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_secret(&[7u8; 32]).unwrap()
    }

    #[test]
    fn token_round_trip() {
        let k = keys();
        let t = issue_token_at(&k, UserId(42), 1_000, Duration::from_secs(60));
        assert_eq!(verify_token(&k, &t, 1_000).unwrap(), UserId(42));
        assert_eq!(verify_token(&k, &t, 60_999).unwrap(), UserId(42));
        let t2 = issue_token_at(&k, UserId(42), 1_000, Duration::from_secs(60));
        assert_ne!(t, t2, "each session has its own nonce");
    }

    #[test]
    fn token_expiry() {
        let k = keys();
        let t = issue_token_at(&k, UserId(1), 1_000, Duration::from_secs(1));
        assert!(matches!(
            verify_token(&k, &t, 2_000),
            Err(AppError::Unauthorized("expired_token"))
        ));
    }

    #[test]
    fn token_tamper_and_wrong_key() {
        let k = keys();
        let t = issue_token_at(&k, UserId(5), 0, Duration::from_secs(60));
        let (p, tag) = t.split_once('.').unwrap();
        // Flip one character of the payload: the tag no longer matches.
        let mut chars: Vec<char> = p.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        let forged = format!("{}.{tag}", chars.into_iter().collect::<String>());
        let invalid = |r: Result<UserId>| matches!(r, Err(AppError::Unauthorized("invalid_token")));
        assert!(invalid(verify_token(&k, &forged, 0)));
        let other = Keys::from_secret(&[8u8; 32]).unwrap();
        assert!(invalid(verify_token(&other, &t, 0)));
        for bad in [
            "",
            ".",
            "abc",
            "a.b",
            &format!("{p}."),
            &format!("{t}x"),
            &"a".repeat(1000),
        ] {
            assert!(invalid(verify_token(&k, bad, 0)), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        let h = hash_password("demo1234").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("demo1234", &h));
        assert!(!verify_password("demo1235", &h));
        assert!(!verify_password("demo1234", "not a hash"));
        // The reused buffer gives the same answers as argon2's own verifier,
        // also for other costs and for hashes made elsewhere (RFC 9106 style).
        use argon2::password_hash::PasswordVerifier;
        let small = argon2::Params::new(64, 2, 1, None).unwrap();
        let other = Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x10, small)
            .hash_password(b"pw", &SaltString::encode_b64(b"0123456789ab").unwrap())
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&other).unwrap();
        assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
        assert!(verify_password("pw", &other) && !verify_password("px", &other));
        assert!(verify_password("demo1234", &h), "after a different size");
        let truncated = &h[..h.len() - 4];
        assert!(!verify_password("demo1234", truncated));
        assert_ne!(h, hash_password("demo1234").unwrap(), "salted");
    }

    #[test]
    fn redacts_tokens_in_logged_uris() {
        assert_eq!(redact_token("/sync/3"), "/sync/3");
        assert_eq!(redact_token("/sync/3?ext=1"), "/sync/3?ext=1");
        assert_eq!(
            redact_token("/sync/3?token=abc.def&ext=1"),
            "/sync/3?token=[redacted]&ext=1"
        );
        assert_eq!(
            redact_token("/api/session?x=1&token=a&token=b"),
            "/api/session?x=1&token=[redacted]&token=[redacted]"
        );
        assert_eq!(redact_token("/s?token"), "/s?token=[redacted]");
        assert_eq!(redact_token("/s?tokens=1"), "/s?tokens=1");
    }

    #[test]
    fn cookie_secure_only_for_https() {
        assert!(session_cookie("t", 60, true).ends_with("; Secure"));
        assert!(!session_cookie("t", 60, false).contains("Secure"));
        assert!(clear_session_cookie(true).contains("Max-Age=0; Secure"));
        assert!(public_url_is_https(Some("HTTPS://zx.example.cn/")));
        assert!(!public_url_is_https(Some("http://zx.example.cn/")));
        assert!(!public_url_is_https(Some("https:")));
        assert!(!public_url_is_https(None));
    }

    #[test]
    fn token_sources() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_token(&h, Some("q")), Some("q"));
        h.insert(COOKIE, "a=1; xieshang_session=c; b=2".parse().unwrap());
        assert_eq!(presented_token(&h, Some("q")), Some("q"));
        assert_eq!(presented_token(&h, None), Some("c"));
        h.insert(AUTHORIZATION, "Bearer b".parse().unwrap());
        assert_eq!(presented_token(&h, Some("q")), Some("b"));
        assert_eq!(query_token(Some("x=1&token=abc.def")), Some("abc.def"));
        assert_eq!(query_token(Some("x=1")), None);
        assert_eq!(query_token(None), None);
    }
}
