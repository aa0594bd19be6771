//! Who is calling: password hashes, signed session tokens, the cookie that
//! carries them, the client's address and the [`AuthUser`] extractor.
//!
//! # Layout
//!
//! - `token`: the signing key and stateless session tokens; signing out records
//!   the token's nonce in `revoked_sessions`.
//! - `password`: argon2id hashes and the timing-safe sign-in check.
//! - `hashing`: the bounded threads that sign-in hashing runs on.
//! - `cookie`: where a request's token comes from, and the `Set-Cookie` values.
//! - `extract`: [`AuthUser`], over an [`AuthContext`] that the app's state
//!   provides with `FromRef`, so this module never depends on the state.
//! - `client_addr`: the client's address, for throttling sign-ins.
//! - `key_file`: where the key lives.
//!
//! The key is never stored in the database (a backup of it could otherwise mint
//! admin sessions): it comes from [`SESSION_KEY_ENV`], else from the file
//! [`SESSION_KEY_FILE`] under the data dir, created with mode 0600 on first
//! start (see [`Keys::load`]).

mod client_addr;
mod cookie;
mod extract;
mod hashing;
mod key_file;
mod password;
mod token;

use password::dummy_hash;

pub use client_addr::{client_ip, ClientAddr, IpNet, TrustedProxies};
pub use cookie::{
    clear_session_cookie, presented_token, public_url_is_https, query_token, redact_token,
    session_cookie, SESSION_COOKIE,
};
pub use extract::{authenticate, authenticate_session, AuthContext, AuthUser};
pub use hashing::{login_hashing, HashLimiter};
pub use key_file::{KeySource, SESSION_KEY_ENV, SESSION_KEY_FILE};
pub use password::{check_login_password, hash_password, verify_password};
pub use token::{issue_token, issue_token_at, verify_claims, verify_token, Claims, Keys};
