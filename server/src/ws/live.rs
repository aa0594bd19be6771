//! The open sync sockets, so that access is checked for the whole life of a
//! socket and not only at its upgrade.
//!
//! Every socket registers here (who, which document, which session) and is
//! counted against the caps (per user, in total). Whatever changes access calls
//! in: a topic's participants changed ([`Sockets::recheck_topic`]), a session
//! signed out ([`Sockets::close_session`]), a user's role or account changed
//! ([`Sockets::recheck_user`]). The affected sockets are checked again with the
//! same rules as the upgrade (`access`) and closed with 4401 / 4403 when they no
//! longer pass, before the call returns: a message the socket reads after that
//! is not applied (the session stops at the close signal). Expiry of the token
//! is the session's own timer (`session`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use xieshang_shared::{DocId, TopicId, UserId};

use crate::db::queries::users;
use crate::docs::{close, request_close, CloseReason, ConnId};
use crate::error::AppError;
use crate::state::AppState;

/// One open socket as access checks need it.
struct Open {
    user: UserId,
    doc: DocId,
    topic: Option<TopicId>,
    /// The session (token nonce) it was opened with.
    session: String,
    closer: Arc<watch::Sender<Option<CloseReason>>>,
}

#[derive(Default)]
struct Inner {
    open: HashMap<ConnId, Open>,
    per_user: HashMap<UserId, usize>,
}

/// Why a socket may not open.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The user has as many sockets open as allowed.
    PerUser,
    /// The server has as many sockets open as allowed.
    Total,
}

/// The open sockets. Cheap to clone.
#[derive(Clone, Default)]
pub struct Sockets {
    inner: Arc<Mutex<Inner>>,
}

/// What a socket registers.
pub struct Registration {
    pub id: ConnId,
    pub user: UserId,
    pub doc: DocId,
    pub topic: Option<TopicId>,
    pub session: String,
    pub closer: Arc<watch::Sender<Option<CloseReason>>>,
}

/// Unregisters its socket when dropped.
pub struct Registered {
    sockets: Sockets,
    id: ConnId,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.sockets.inner.lock() {
            if let Some(open) = inner.open.remove(&self.id) {
                if let Some(n) = inner.per_user.get_mut(&open.user) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        inner.per_user.remove(&open.user);
                    }
                }
            }
        }
    }
}

impl Sockets {
    /// Registers a socket within the caps (`per_user`, `total`).
    pub fn register(
        &self,
        reg: Registration,
        per_user: usize,
        total: usize,
    ) -> Result<Registered, Refused> {
        let mut inner = self.inner.lock().map_err(|_| Refused::Total)?;
        if inner.open.len() >= total {
            return Err(Refused::Total);
        }
        let mine = inner.per_user.get(&reg.user).copied().unwrap_or(0);
        if mine >= per_user {
            return Err(Refused::PerUser);
        }
        *inner.per_user.entry(reg.user).or_default() += 1;
        let id = reg.id;
        inner.open.insert(
            id,
            Open {
                user: reg.user,
                doc: reg.doc,
                topic: reg.topic,
                session: reg.session,
                closer: reg.closer,
            },
        );
        Ok(Registered {
            sockets: self.clone(),
            id,
        })
    }

    /// How many sockets are open (tests, metrics).
    pub fn count(&self) -> usize {
        self.inner.lock().map(|i| i.open.len()).unwrap_or(0)
    }

    /// Closes every socket opened with `session` (signed out): 4401.
    pub fn close_session(&self, session: &str) {
        let closers = self.select(|o| o.session == session);
        for (_, closer) in closers {
            request_close(&closer, close::UNAUTHORIZED, "signed out");
        }
    }

    /// Checks again every socket on a document of `topic` (its participants changed).
    pub async fn recheck_topic(&self, state: &AppState, topic: TopicId) {
        let targets = self.targets(|o| o.topic == Some(topic));
        recheck(state, targets).await;
    }

    /// Checks again every socket of `user` (role, account or sessions changed).
    pub async fn recheck_user(&self, state: &AppState, user: UserId) {
        let targets = self.targets(|o| o.user == user);
        recheck(state, targets).await;
    }

    fn select(
        &self,
        keep: impl Fn(&Open) -> bool,
    ) -> Vec<(ConnId, Arc<watch::Sender<Option<CloseReason>>>)> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner
            .open
            .iter()
            .filter(|(_, o)| keep(o))
            .map(|(id, o)| (*id, o.closer.clone()))
            .collect()
    }

    fn targets(&self, keep: impl Fn(&Open) -> bool) -> Vec<Target> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner
            .open
            .values()
            .filter(|o| keep(o))
            .map(|o| Target {
                user: o.user,
                doc: o.doc,
                session: o.session.clone(),
                closer: o.closer.clone(),
            })
            .collect()
    }
}

struct Target {
    user: UserId,
    doc: DocId,
    session: String,
    closer: Arc<watch::Sender<Option<CloseReason>>>,
}

/// The upgrade's checks once more, for each target; closes those that fail. A
/// storage error closes too (1011): access that cannot be confirmed is not kept.
async fn recheck(state: &AppState, targets: Vec<Target>) {
    for t in targets {
        let verdict = match users::find_session_user(&state.db, t.user, &t.session).await {
            Ok(Some(user)) => match crate::access::authorize_doc(state, &user, t.doc).await {
                Ok(_) => None,
                Err(AppError::NotFound) => Some((close::NOT_FOUND, "document gone")),
                Err(AppError::Forbidden) => Some((close::FORBIDDEN, "no longer allowed")),
                Err(e) => {
                    tracing::error!(error = %e, "rechecking a socket's access failed");
                    Some((close::INTERNAL, "access could not be checked; reconnect"))
                }
            },
            Ok(None) => Some((close::UNAUTHORIZED, "session ended")),
            Err(e) => {
                tracing::error!(error = %e, "rechecking a socket's session failed");
                Some((close::INTERNAL, "access could not be checked; reconnect"))
            }
        };
        if let Some((code, reason)) = verdict {
            tracing::info!(user = %t.user, doc = %t.doc, code, reason, "closing a socket whose access changed");
            request_close(&t.closer, code, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(id: u64, user: i64) -> Registration {
        Registration {
            id: ConnId(id),
            user: UserId(user),
            doc: DocId::legacy(1),
            topic: None,
            session: format!("s{user}"),
            closer: Arc::new(watch::channel(None).0),
        }
    }

    #[test]
    fn caps_per_user_and_in_total_and_release_on_drop() {
        let s = Sockets::default();
        let a1 = s.register(reg(1, 1), 2, 3).unwrap();
        let _a2 = s.register(reg(2, 1), 2, 3).unwrap();
        assert_eq!(s.register(reg(3, 1), 2, 3).err(), Some(Refused::PerUser));
        let _b = s.register(reg(4, 2), 2, 3).unwrap();
        assert_eq!(s.register(reg(5, 3), 2, 3).err(), Some(Refused::Total));
        drop(a1);
        assert_eq!(s.count(), 2);
        assert!(s.register(reg(6, 1), 2, 3).is_ok());
    }

    #[test]
    fn signing_out_closes_that_sessions_sockets_only() {
        let s = Sockets::default();
        let a = reg(1, 1);
        let b = reg(2, 2);
        let (ca, cb) = (a.closer.clone(), b.closer.clone());
        let _ga = s.register(a, 9, 9).unwrap();
        let _gb = s.register(b, 9, 9).unwrap();
        s.close_session("s1");
        assert_eq!(
            ca.borrow().as_ref().map(|r| r.code),
            Some(close::UNAUTHORIZED)
        );
        assert!(cb.borrow().is_none());
    }
}
