//! Awareness (presence) of one document: who is here and where their caret is.
//!
//! Kept by the server so a newcomer sees everyone at once and so a connection's
//! states are removed (and the removal broadcast) when it goes away. Bounded: a
//! connection may own only a few awareness client ids, and each message is capped
//! in bytes before it is decoded.

use std::collections::HashMap;
use std::sync::Arc;

use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::updates::encoder::Encode;
use yrs::ClientID;

use super::ConnId;

/// How many awareness client ids one connection may speak for (a browser tab
/// normally has one; a few allow for reloads racing their old socket).
pub const MAX_CLIENTS_PER_CONN: usize = 8;

/// The JSON Yjs uses for "this client is gone".
const NULL_STATE: &str = "null";

struct State {
    clock: u32,
    json: Arc<str>,
    owner: ConnId,
}

/// The live awareness states of one document.
#[derive(Default)]
pub struct Presence {
    states: HashMap<ClientID, State>,
}

/// A connection tried to speak for more awareness clients than allowed.
#[derive(Debug)]
pub struct TooManyClients;

impl Presence {
    /// Merges an update sent by `conn`. Newer clocks win, as in y-protocols; a
    /// `null` state removes the client. Returns whether anything changed.
    pub fn apply(&mut self, conn: ConnId, update: AwarenessUpdate) -> Result<bool, TooManyClients> {
        let owned = self.states.values().filter(|s| s.owner == conn).count();
        let new_ids = update
            .clients
            .keys()
            .filter(|id| !self.states.get(*id).is_some_and(|s| s.owner == conn));
        if owned + new_ids.count() > MAX_CLIENTS_PER_CONN {
            return Err(TooManyClients);
        }
        let mut changed = false;
        for (client, entry) in update.clients {
            let newer = self
                .states
                .get(&client)
                .is_none_or(|s| entry.clock >= s.clock);
            if !newer {
                continue;
            }
            changed = true;
            if entry.json.as_ref() == NULL_STATE {
                self.states.remove(&client);
            } else {
                self.states.insert(
                    client,
                    State {
                        clock: entry.clock,
                        json: entry.json,
                        owner: conn,
                    },
                );
            }
        }
        Ok(changed)
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
            .map(|(id, s)| (*id, s.clock))
            .collect();
        if gone.is_empty() {
            return None;
        }
        let mut clients = HashMap::with_capacity(gone.len());
        for (id, clock) in gone {
            self.states.remove(&id);
            clients.insert(
                id,
                AwarenessUpdateEntry {
                    clock: clock.wrapping_add(1),
                    json: Arc::from(NULL_STATE),
                },
            );
        }
        Some(AwarenessUpdate { clients }.encode_v1())
    }

    /// Number of live states (tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.states.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn newer_clock_wins_and_null_removes() {
        let mut p = Presence::default();
        assert!(p
            .apply(ConnId(1), update(&[(7, 1, r#"{"user":"a"}"#)]))
            .is_ok_and(|c| c));
        assert!(p
            .apply(ConnId(1), update(&[(7, 0, r#"{"user":"old"}"#)]))
            .is_ok_and(|c| !c));
        assert_eq!(p.len(), 1);
        assert!(p
            .apply(ConnId(1), update(&[(7, 2, "null")]))
            .is_ok_and(|c| c));
        assert_eq!(p.len(), 0);
        assert!(p.encode_all().is_none());
    }

    #[test]
    fn a_connection_may_not_flood_client_ids() {
        let mut p = Presence::default();
        let many: Vec<(u32, u32, &str)> = (0..=MAX_CLIENTS_PER_CONN as u32)
            .map(|i| (i, 1, "{}"))
            .collect();
        assert!(p.apply(ConnId(1), update(&many)).is_err());
        assert_eq!(p.len(), 0);
        let few: Vec<(u32, u32, &str)> = (0..MAX_CLIENTS_PER_CONN as u32)
            .map(|i| (i, 1, "{}"))
            .collect();
        assert!(p.apply(ConnId(1), update(&few)).is_ok());
    }

    #[test]
    fn leaving_removes_only_that_connections_states() {
        let mut p = Presence::default();
        let _ = p.apply(ConnId(1), update(&[(1, 1, "{}")]));
        let _ = p.apply(ConnId(2), update(&[(2, 1, "{}")]));
        assert!(p.remove_conn(ConnId(1)).is_some());
        assert_eq!(p.len(), 1);
        assert!(p.remove_conn(ConnId(1)).is_none());
    }
}
