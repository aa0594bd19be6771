//! Awareness (presence) of one document: who is here and where their caret is.
//!
//! Kept by the server so a newcomer sees everyone at once and so a connection's
//! states are removed (and the removal broadcast) when it goes away.
//!
//! # Who may say what
//! - An awareness client id belongs to the connection that first set it. Only that
//!   connection may change or remove it. Entries a connection sends for ids that
//!   belong to others are **ignored, not punished**: the stock y-websocket provider
//!   echoes every presence change it receives back to the server, so with N stock
//!   clients each change comes back N−1 times. Forwarding those echoes (or closing
//!   their senders) is what used to make a busy document collapse.
//! - The `user` shown to others is the signed-in user's (id, display name, colour),
//!   written by the server over whatever the client put there.
//! - A removed id is remembered ([`GONE_TTL`]): connections that were already here
//!   when it went (and so may still echo its last state) cannot bring it back. A
//!   connection that joins later may claim it: that is the same tab reconnecting,
//!   which keeps its awareness id across reconnects.
//! - Clocks sent to others are the server's, monotonic per id, so a reconnecting
//!   client that restarts below its old clock is still seen.
//!
//! Bounded: a connection may own only [`MAX_CLIENTS_PER_CONN`] ids (further new ids
//! are ignored), each message is capped in bytes before it is decoded, and
//! removed ids are forgotten after [`GONE_TTL`] or beyond [`MAX_GONE`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use xieshang_shared::presence::user_json;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::updates::encoder::Encode;
use yrs::ClientID;

use super::ConnId;

/// How many awareness client ids one connection may speak for (a browser tab
/// normally has one; a few allow for reloads racing their old socket).
pub const MAX_CLIENTS_PER_CONN: usize = 8;
/// How long a removed client id stays remembered.
pub const GONE_TTL: Duration = Duration::from_secs(120);
/// Most removed ids remembered per document (the oldest are forgotten first).
pub const MAX_GONE: usize = 4096;

/// The JSON Yjs uses for "this client is gone".
const NULL_STATE: &str = "null";

/// The connection an awareness message came from, as the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct Speaker<'a> {
    pub conn: ConnId,
    pub user: i64,
    pub name: &'a str,
    /// [`Presence::epoch`] when the connection joined.
    pub joined: u64,
}

struct State {
    clock: u32,
    json: Arc<str>,
    owner: ConnId,
}

struct Gone {
    clock: u32,
    /// [`Presence::epoch`] right after the removal.
    epoch: u64,
    at: Instant,
}

/// The live awareness states of one document.
#[derive(Default)]
pub struct Presence {
    states: HashMap<ClientID, State>,
    gone: HashMap<ClientID, Gone>,
    /// Counts removals; a connection remembers its value at join.
    epoch: u64,
}

impl Presence {
    /// The value a joining connection records as its [`Speaker::joined`].
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Merges an update sent by `who`, keeping only the entries it may make (see
    /// the module docs). Answers the update to send to everyone else, re-encoded
    /// with the server's clocks and the signed-in user, or `None` when nothing
    /// changed (an echo, say).
    pub fn apply(&mut self, who: Speaker<'_>, update: AwarenessUpdate) -> Option<Vec<u8>> {
        self.forget_old();
        let mut owned = self.states.values().filter(|s| s.owner == who.conn).count();
        let mut out = HashMap::new();
        for (client, entry) in update.clients {
            let prev = match self.states.get(&client) {
                Some(s) if s.owner != who.conn => continue, // someone else's: an echo
                Some(s) => Some(s.clock),
                None => {
                    if let Some(g) = self.gone.get(&client) {
                        if who.joined < g.epoch {
                            continue; // a stale echo of a client that left
                        }
                    }
                    if entry.json.as_ref() == NULL_STATE {
                        continue; // removing what is not there
                    }
                    if owned >= MAX_CLIENTS_PER_CONN {
                        tracing::debug!(
                            conn = who.conn.0,
                            "ignoring awareness ids beyond the per-connection cap"
                        );
                        continue;
                    }
                    owned += 1;
                    self.gone.get(&client).map(|g| g.clock)
                }
            };
            let clock = match prev {
                Some(p) => entry.clock.max(p.wrapping_add(1)),
                None => entry.clock,
            };
            let json: Arc<str> = if entry.json.as_ref() == NULL_STATE {
                self.states.remove(&client);
                self.bury(client, clock);
                owned = owned.saturating_sub(1);
                Arc::from(NULL_STATE)
            } else {
                let json: Arc<str> = Arc::from(vouched(&entry.json, who));
                self.gone.remove(&client);
                self.states.insert(
                    client,
                    State {
                        clock,
                        json: json.clone(),
                        owner: who.conn,
                    },
                );
                json
            };
            out.insert(client, AwarenessUpdateEntry { clock, json });
        }
        if out.is_empty() {
            None
        } else {
            Some(AwarenessUpdate { clients: out }.encode_v1())
        }
    }

    /// Every live state, encoded as one awareness update (for a newcomer), or
    /// `None` when nobody is present.
    pub fn encode_all(&self) -> Option<Vec<u8>> {
        if self.states.is_empty() {
            return None;
        }
        let clients = self
            .states
            .iter()
            .map(|(id, s)| {
                (
                    *id,
                    AwarenessUpdateEntry {
                        clock: s.clock,
                        json: s.json.clone(),
                    },
                )
            })
            .collect();
        Some(AwarenessUpdate { clients }.encode_v1())
    }

    /// Removes the states `conn` owned; returns the update announcing their
    /// removal to the others, if there were any.
    pub fn remove_conn(&mut self, conn: ConnId) -> Option<Vec<u8>> {
        let gone: Vec<(ClientID, u32)> = self
            .states
            .iter()
            .filter(|(_, s)| s.owner == conn)
            .map(|(id, s)| (*id, s.clock.wrapping_add(1)))
            .collect();
        if gone.is_empty() {
            return None;
        }
        self.forget_old();
        let mut clients = HashMap::with_capacity(gone.len());
        for (id, clock) in gone {
            self.states.remove(&id);
            self.bury(id, clock);
            clients.insert(
                id,
                AwarenessUpdateEntry {
                    clock,
                    json: Arc::from(NULL_STATE),
                },
            );
        }
        Some(AwarenessUpdate { clients }.encode_v1())
    }

    fn bury(&mut self, client: ClientID, clock: u32) {
        self.epoch += 1;
        if self.gone.len() >= MAX_GONE {
            if let Some(oldest) = self
                .gone
                .iter()
                .min_by_key(|(_, g)| g.at)
                .map(|(id, _)| *id)
            {
                self.gone.remove(&oldest);
            }
        }
        self.gone.insert(
            client,
            Gone {
                clock,
                epoch: self.epoch,
                at: Instant::now(),
            },
        );
    }

    fn forget_old(&mut self) {
        let now = Instant::now();
        self.gone.retain(|_, g| now.duration_since(g.at) < GONE_TTL);
    }

    /// Number of live states (tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.states.len()
    }
}

/// `json` with its `user` replaced by the speaker's own. A state that is not a
/// JSON object keeps nothing but the user.
fn vouched(json: &str, who: Speaker<'_>) -> String {
    let mut state = match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    state.insert("user".into(), user_json(who.user, who.name));
    Value::Object(state).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;

    fn update(entries: &[(u32, u32, &str)]) -> AwarenessUpdate {
        let clients = entries
            .iter()
            .map(|(id, clock, json)| {
                (
                    ClientID::new(u64::from(*id)),
                    AwarenessUpdateEntry {
                        clock: *clock,
                        json: Arc::from(*json),
                    },
                )
            })
            .collect();
        AwarenessUpdate { clients }
    }

    fn who(conn: u64, joined: u64) -> Speaker<'static> {
        Speaker {
            conn: ConnId(conn),
            user: conn as i64,
            name: "真名",
            joined,
        }
    }

    fn decode(bytes: &[u8]) -> AwarenessUpdate {
        AwarenessUpdate::decode_v1(bytes).unwrap()
    }

    #[test]
    fn newer_clock_wins_and_null_removes() {
        let mut p = Presence::default();
        assert!(p
            .apply(who(1, 0), update(&[(7, 1, r#"{"user":"a"}"#)]))
            .is_some());
        assert_eq!(p.len(), 1);
        assert!(p.apply(who(1, 0), update(&[(7, 2, "null")])).is_some());
        assert_eq!(p.len(), 0);
        assert!(p.encode_all().is_none());
    }

    #[test]
    fn the_user_is_the_signed_in_one() {
        let mut p = Presence::default();
        let json = r#"{"user":{"name":"冒充者","color":"red; x"},"cursor":{"anchor":1}}"#;
        let out = p.apply(who(3, 0), update(&[(9, 1, json)])).unwrap();
        let entry = &decode(&out).clients[&ClientID::new(9)];
        let state: Value = serde_json::from_str(&entry.json).unwrap();
        assert_eq!(state["user"]["name"], "真名");
        assert_eq!(state["user"]["id"], 3);
        assert_eq!(state["cursor"]["anchor"], 1);
        let out = p.apply(who(3, 0), update(&[(9, 2, "42")])).unwrap();
        let state: Value =
            serde_json::from_str(&decode(&out).clients[&ClientID::new(9)].json).unwrap();
        assert_eq!(state, serde_json::json!({"user": user_json(3, "真名")}));
    }

    #[test]
    fn others_entries_are_ignored_not_punished() {
        let mut p = Presence::default();
        let _ = p.apply(who(1, 0), update(&[(1, 1, "{}")]));
        // Conn 2 echoes conn 1's state, tries to change it and to remove it.
        assert!(p.apply(who(2, 0), update(&[(1, 1, "{}")])).is_none());
        assert!(p
            .apply(who(2, 0), update(&[(1, 9, r#"{"x":1}"#)]))
            .is_none());
        assert!(p.apply(who(2, 0), update(&[(1, 10, "null")])).is_none());
        assert_eq!(p.len(), 1);
        // Its own entry in the same message still counts.
        let out = p
            .apply(who(2, 0), update(&[(1, 11, "null"), (2, 1, "{}")]))
            .unwrap();
        assert_eq!(decode(&out).clients.len(), 1);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn a_connection_may_not_flood_client_ids() {
        let mut p = Presence::default();
        let many: Vec<(u32, u32, &str)> = (0..=MAX_CLIENTS_PER_CONN as u32 * 4)
            .map(|i| (i, 1, "{}"))
            .collect();
        assert!(p.apply(who(1, 0), update(&many)).is_some());
        assert_eq!(p.len(), MAX_CLIENTS_PER_CONN);
    }

    #[test]
    fn removed_clients_do_not_come_back_from_echoes() {
        let mut p = Presence::default();
        let _ = p.apply(who(1, 0), update(&[(1, 5, "{}")]));
        let joined_before = p.epoch();
        let gone = p.remove_conn(ConnId(1)).unwrap();
        assert_eq!(decode(&gone).clients[&ClientID::new(1)].clock, 6);
        assert_eq!(p.len(), 0);
        // Conn 2 was here: what it sends for client 1 is an echo.
        assert!(p
            .apply(who(2, joined_before), update(&[(1, 5, "{}")]))
            .is_none());
        assert!(p
            .apply(who(2, joined_before), update(&[(1, 99, "{}")]))
            .is_none());
        assert_eq!(p.len(), 0);
        // The same tab reconnecting (a later connection) is seen again, with a
        // clock above the removal's even though it restarted at its old one.
        let out = p.apply(who(3, p.epoch()), update(&[(1, 5, "{}")])).unwrap();
        assert_eq!(decode(&out).clients[&ClientID::new(1)].clock, 7);
        assert_eq!(p.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn removed_clients_are_forgotten_after_a_while() {
        let mut p = Presence::default();
        let _ = p.apply(who(1, 0), update(&[(1, 1, "{}")]));
        let _ = p.remove_conn(ConnId(1));
        tokio::time::advance(GONE_TTL).await;
        assert!(p.apply(who(2, 0), update(&[(1, 1, "{}")])).is_some());
    }

    #[test]
    fn leaving_removes_only_that_connections_states() {
        let mut p = Presence::default();
        let _ = p.apply(who(1, 0), update(&[(1, 1, "{}")]));
        let _ = p.apply(who(2, 0), update(&[(2, 1, "{}")]));
        assert!(p.remove_conn(ConnId(1)).is_some());
        assert_eq!(p.len(), 1);
        assert!(p.remove_conn(ConnId(1)).is_none());
    }
}
