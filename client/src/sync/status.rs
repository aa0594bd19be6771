//! What the member sees: synced / syncing / offline with N unsent changes.
//!
//! Pure derivation from the facts a provider tracks, so the rules are unit
//! tested without a browser. The provider recomputes its status after every
//! event; [`combine`] folds all open documents into the overall indicator.

/// The three states of the indicator (`data-state` in the page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SyncState {
    /// Connected, the server's state is merged in, and every local change is
    /// acknowledged as durable.
    Synced,
    /// Working on it: loading, connecting for the first time, exchanging state
    /// vectors, or waiting for acknowledgements of local changes.
    #[default]
    Syncing,
    /// No usable connection: the browser is offline, the server does not answer,
    /// or the session has to be renewed. Local edits keep going to IndexedDB.
    Offline,
}

impl SyncState {
    /// The value of the `data-state` attribute DESIGN.md fixes for browser tests.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "synced",
            SyncState::Syncing => "syncing",
            SyncState::Offline => "offline",
        }
    }
}

/// The status of one document, or of all open documents together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Synced, syncing or offline.
    pub state: SyncState,
    /// Local changes the server has not acknowledged as durable (one per local
    /// transaction), including those still being written to IndexedDB.
    pub pending: usize,
    /// Of `pending`, the changes IndexedDB could not store (quota, private
    /// mode): they are only in this page until the server acknowledges them.
    pub unsaved: usize,
    /// Set when the server refuses changes (the document was finalized, or
    /// access was withdrawn), with the reason to show. Local changes stay pending.
    pub read_only: Option<String>,
    /// The session expired: the UI should ask to sign in again and then call
    /// `Provider::set_token`. The outbox is kept meanwhile.
    pub auth_required: bool,
    /// The document was created here and the server does not have it yet
    /// ("not yet on the server"); its creation goes out before its changes.
    pub unregistered: bool,
}

/// Where the connection of one provider stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Link {
    /// No socket: waiting for a retry, for the network, or for a new token.
    #[default]
    Down,
    /// A socket is being opened.
    Connecting,
    /// Open; the state-vector exchange is not finished yet.
    Handshaking,
    /// Open and the server's missing updates have been received.
    Live,
}

/// Everything [`derive`] looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The connection.
    pub link: Link,
    /// Local state is still being read from IndexedDB.
    pub loading: bool,
    /// An attempt failed (or a live connection dropped) since the last live one:
    /// a reconnect in progress is then shown as offline, not as syncing.
    pub failing: bool,
    /// `navigator.onLine` said false.
    pub browser_offline: bool,
    /// Unacknowledged local changes.
    pub pending: usize,
    /// See [`SyncStatus::unsaved`].
    pub unsaved: usize,
    /// See [`SyncStatus::read_only`].
    pub read_only: Option<String>,
    /// See [`SyncStatus::auth_required`].
    pub auth_required: bool,
    /// See [`SyncStatus::unregistered`].
    pub unregistered: bool,
}

/// The status shown for one document.
pub(crate) fn derive(f: &Facts) -> SyncStatus {
    let state = if f.auth_required || f.browser_offline {
        SyncState::Offline
    } else {
        match f.link {
            Link::Live if f.pending == 0 && !f.loading && !f.unregistered => SyncState::Synced,
            // A finalized document never acknowledges again: nothing to wait for.
            Link::Live if f.read_only.is_some() => SyncState::Synced,
            Link::Live | Link::Handshaking => SyncState::Syncing,
            Link::Connecting | Link::Down if f.failing => SyncState::Offline,
            Link::Connecting => SyncState::Syncing,
            Link::Down if f.loading => SyncState::Syncing,
            Link::Down => SyncState::Offline,
        }
    };
    SyncStatus {
        state,
        pending: f.pending,
        unsaved: f.unsaved,
        read_only: f.read_only.clone(),
        auth_required: f.auth_required,
        unregistered: f.unregistered,
    }
}

/// The overall indicator: offline if any document is offline, else syncing if
/// any is, else synced; pending changes add up. With no document open it shows
/// what the browser knows about the network.
pub(crate) fn combine<'a>(
    statuses: impl IntoIterator<Item = &'a SyncStatus>,
    browser_offline: bool,
) -> SyncStatus {
    let mut all = SyncStatus {
        state: if browser_offline {
            SyncState::Offline
        } else {
            SyncState::Synced
        },
        ..SyncStatus::default()
    };
    for s in statuses {
        all.pending += s.pending;
        all.unsaved += s.unsaved;
        all.auth_required |= s.auth_required;
        all.unregistered |= s.unregistered;
        all.state = match (all.state, s.state) {
            (SyncState::Offline, _) | (_, SyncState::Offline) => SyncState::Offline,
            (SyncState::Syncing, _) | (_, SyncState::Syncing) => SyncState::Syncing,
            _ => SyncState::Synced,
        };
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    // In the browser too (`cargo test … --target wasm32-unknown-unknown --lib`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn facts(link: Link) -> Facts {
        Facts {
            link,
            ..Facts::default()
        }
    }

    #[test]
    fn live_and_nothing_pending_is_synced() {
        assert_eq!(derive(&facts(Link::Live)).state, SyncState::Synced);
        let f = Facts {
            pending: 2,
            ..facts(Link::Live)
        };
        let s = derive(&f);
        assert_eq!((s.state, s.pending), (SyncState::Syncing, 2));
    }

    #[test]
    fn first_connect_is_syncing_but_a_retry_is_offline() {
        assert_eq!(derive(&facts(Link::Connecting)).state, SyncState::Syncing);
        let retry = Facts {
            failing: true,
            pending: 3,
            ..facts(Link::Connecting)
        };
        assert_eq!(derive(&retry).state, SyncState::Offline);
        assert_eq!(derive(&retry).pending, 3);
        assert_eq!(derive(&facts(Link::Down)).state, SyncState::Offline);
    }

    #[test]
    fn browser_offline_and_expired_session_win() {
        let f = Facts {
            browser_offline: true,
            ..facts(Link::Live)
        };
        assert_eq!(derive(&f).state, SyncState::Offline);
        let f = Facts {
            auth_required: true,
            pending: 1,
            ..facts(Link::Down)
        };
        let s = derive(&f);
        assert!(s.auth_required);
        assert_eq!((s.state, s.pending), (SyncState::Offline, 1));
    }

    #[test]
    fn read_only_live_document_counts_as_synced() {
        let f = Facts {
            read_only: Some("finalized".into()),
            pending: 1,
            ..facts(Link::Live)
        };
        let s = derive(&f);
        assert_eq!(s.state, SyncState::Synced);
        assert_eq!(s.read_only.as_deref(), Some("finalized"));
    }

    #[test]
    fn combine_takes_the_worst_and_sums_pending() {
        let synced = derive(&facts(Link::Live));
        let syncing = derive(&Facts {
            pending: 2,
            ..facts(Link::Live)
        });
        let offline = derive(&Facts {
            pending: 5,
            ..facts(Link::Down)
        });
        assert_eq!(combine([], false).state, SyncState::Synced);
        assert_eq!(combine([], true).state, SyncState::Offline);
        let both = combine([&synced, &syncing], false);
        assert_eq!((both.state, both.pending), (SyncState::Syncing, 2));
        let all = combine([&synced, &syncing, &offline], false);
        assert_eq!((all.state, all.pending), (SyncState::Offline, 7));
        assert_eq!(SyncState::Offline.as_str(), "offline");
    }
}
