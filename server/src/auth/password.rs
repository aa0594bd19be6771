//! Password hashes (argon2id PHC strings) and the sign-in check, which runs
//! on the bounded hashing threads of [`super::login_hashing`].

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use super::login_hashing;
use crate::error::{AppError, Result};

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
pub(super) fn dummy_hash() -> &'static str {
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
#[cfg(test)]
mod tests {
    use super::*;

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
}
