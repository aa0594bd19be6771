//! Signed session tokens: `base64url(payload) "." base64url(HMAC-SHA256(payload))`,
//! the payload being a version byte, the user id, the expiry (unix ms) and a
//! random nonce. Stateless, so any process with the same key accepts them; the
//! tag is checked in constant time before a single byte of the payload is
//! interpreted.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use xieshang_shared::UserId;

use crate::db::{now_ms, Db};
use crate::error::{AppError, Result};

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
        let mut fresh = [0u8; super::key_file::KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        // Warms the dummy hash, so the first sign-in of an unknown user is not faster.
        tokio::task::spawn_blocking(super::password::dummy_hash).await?;
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
}
