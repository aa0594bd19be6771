//! What every handler shares: storage, configuration, signing keys, open documents.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::auth::{AuthContext, Keys, TrustedProxies};
use crate::config::Config;
use crate::db::Db;
use crate::docs::Registry;
use crate::ws::live::Sockets;

/// Cheap to clone: every field is reference counted.
#[derive(Clone)]
pub struct AppState {
    /// Relational facts and the document logs.
    pub db: Db,
    /// Limits and options the server was started with.
    pub config: Arc<Config>,
    /// The HMAC key that signs session tokens.
    pub keys: Arc<Keys>,
    /// The open collaborative documents, each with its owner task.
    pub docs: Registry,
    /// The open sync sockets, rechecked when access changes.
    pub sockets: Sockets,
}

/// What [`crate::auth::AuthUser`] reads: handed down, so `auth` never names this state.
impl FromRef<AppState> for AuthContext {
    fn from_ref(state: &AppState) -> AuthContext {
        AuthContext {
            keys: state.keys.clone(),
            db: state.db.clone(),
        }
    }
}

/// What [`crate::auth::ClientAddr`] reads: the configured `--trusted-proxy` list.
impl FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> TrustedProxies {
        TrustedProxies(state.config.trusted_proxies.as_slice().into())
    }
}
