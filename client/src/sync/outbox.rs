//! The outbox: local changes not yet acknowledged as durable, and the ledger
//! that maps the server's cumulative acks back to them.
//!
//! Pure bookkeeping; the bytes live in IndexedDB (`store`), written before
//! anything is sent. The server's `Ack{count}` says "the first `count`
//! update-carrying messages of this connection are committed". So every
//! SyncStep2 and Update we send on a connection is recorded, in order, with
//! the outbox entries it carries:
//!
//! - our SyncStep2 (the answer to the server's SyncStep1) is the diff between
//!   our document and the server's state vector. Every outbox entry is applied
//!   to the document before it is counted here, so that diff carries every entry
//!   the server lacks; entries the server already had were in its memory when
//!   it sent its SyncStep1 and are committed before it handles anything of ours
//!   (a failed commit closes every connection, and no ack follows). Hence the
//!   Step2 covers *all* entries up to the newest one: this is the resend of
//!   unacknowledged changes after a reconnect, and no entry is sent twice.
//! - an Update sent later carries exactly one (merged) entry.
//!
//! A new connection starts a new ledger; acks of an old one are ignored, and
//! what it left unacknowledged is covered by the next SyncStep2.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Which outbox entries one sent message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Covers {
    /// Every entry with a sequence number up to this one (a SyncStep2).
    UpTo(u64),
    /// One entry (an Update).
    One(u64),
    /// None (a SyncStep2 sent while the outbox was empty).
    Nothing,
}

/// Unacknowledged local changes of one document.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Sequence number → number of local transactions merged into that entry.
    entries: BTreeMap<u64, u32>,
    /// Entries IndexedDB refused to store: they live only in this page until
    /// acknowledged, so the indicator must not call them safe on this computer.
    unsaved: BTreeSet<u64>,
    /// Next sequence number to hand out (above everything ever stored).
    next_seq: u64,
    /// The connection the ledger belongs to.
    conn: u64,
    /// Update-carrying messages sent on `conn` and not yet acknowledged, oldest first.
    sent: VecDeque<Covers>,
    /// How many messages of `conn` the server acknowledged so far.
    acked: u64,
}

impl Outbox {
    /// The outbox as IndexedDB had it: `(seq, changes)` pairs.
    pub fn restore(entries: impl IntoIterator<Item = (u64, u32)>) -> Outbox {
        let entries: BTreeMap<u64, u32> = entries.into_iter().collect();
        let next_seq = entries.keys().next_back().map_or(1, |s| s + 1);
        Outbox {
            entries,
            next_seq,
            ..Outbox::default()
        }
    }

    /// Reserves the sequence number of the next entry.
    pub fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq.max(1);
        self.next_seq = seq + 1;
        seq
    }

    /// Records an entry once it is in IndexedDB (or could not be stored).
    pub fn push(&mut self, seq: u64, changes: u32) {
        self.next_seq = self.next_seq.max(seq + 1);
        self.entries.insert(seq, changes.max(1));
    }

    /// Marks entry `seq` as not stored on this computer.
    pub fn mark_unsaved(&mut self, seq: u64) {
        if self.entries.contains_key(&seq) {
            self.unsaved.insert(seq);
        }
    }

    /// Local transactions that are neither acknowledged nor stored here.
    pub fn unsaved(&self) -> usize {
        self.unsaved
            .iter()
            .filter_map(|s| self.entries.get(s))
            .map(|&c| c as usize)
            .sum()
    }

    /// Local transactions not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.entries.values().map(|&c| c as usize).sum()
    }

    /// Whether nothing waits for an acknowledgement.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A new connection: its acks count from zero.
    pub fn begin(&mut self, conn: u64) {
        self.conn = conn;
        self.sent.clear();
        self.acked = 0;
    }

    /// Our SyncStep2 went out on `conn`: it carries every entry so far.
    pub fn sent_step2(&mut self, conn: u64) {
        let covers = match self.entries.keys().next_back() {
            Some(&last) => Covers::UpTo(last),
            None => Covers::Nothing,
        };
        self.record(conn, covers);
    }

    /// An Update carrying entry `seq` went out on `conn`.
    pub fn sent_update(&mut self, conn: u64, seq: u64) {
        self.record(conn, Covers::One(seq));
    }

    fn record(&mut self, conn: u64, covers: Covers) {
        if conn == self.conn {
            self.sent.push_back(covers);
        }
    }

    /// The server acknowledged the first `count` messages of `conn`; returns
    /// the entries now durable (to delete from IndexedDB).
    pub fn ack(&mut self, conn: u64, count: u64) -> Vec<u64> {
        let mut done = Vec::new();
        if conn != self.conn {
            return done;
        }
        while self.acked < count {
            let Some(covers) = self.sent.pop_front() else {
                break; // more than we sent: not ours to believe
            };
            self.acked += 1;
            match covers {
                Covers::UpTo(last) => {
                    let rest = self.entries.split_off(&(last + 1));
                    done.extend(std::mem::replace(&mut self.entries, rest).into_keys());
                }
                Covers::One(seq) => {
                    if self.entries.remove(&seq).is_some() {
                        done.push(seq);
                    }
                }
                Covers::Nothing => {}
            }
        }
        for seq in &done {
            self.unsaved.remove(seq);
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // In the browser too (`cargo test … --target wasm32-unknown-unknown --lib`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn restore_continues_sequence_numbers() {
        let mut o = Outbox::restore([(3, 2), (7, 1)]);
        assert_eq!(o.pending(), 3);
        assert_eq!(o.next_seq(), 8);
        assert_eq!(Outbox::default().next_seq(), 1);
    }

    #[test]
    fn only_acks_empty_the_outbox() {
        let mut o = Outbox::default();
        o.begin(1);
        let a = o.next_seq();
        o.push(a, 2);
        o.sent_update(1, a);
        let b = o.next_seq();
        o.push(b, 1);
        o.sent_update(1, b);
        assert_eq!(o.pending(), 3);
        assert_eq!(o.ack(1, 1), vec![a]);
        assert_eq!(o.pending(), 1);
        assert_eq!(
            o.ack(1, 1),
            Vec::<u64>::new(),
            "a repeated ack changes nothing"
        );
        assert_eq!(o.ack(1, 2), vec![b]);
        assert!(o.is_empty());
    }

    #[test]
    fn step2_after_reconnect_covers_everything_unacked() {
        let mut o = Outbox::default();
        o.begin(1);
        for _ in 0..3 {
            let s = o.next_seq();
            o.push(s, 1);
            o.sent_update(1, s);
        }
        assert_eq!(o.ack(1, 1), vec![1]);
        // The connection drops; the next one answers the server's Step1.
        o.begin(2);
        assert_eq!(
            o.ack(1, 3),
            Vec::<u64>::new(),
            "acks of an old connection are ignored"
        );
        o.sent_step2(2);
        let s = o.next_seq();
        o.push(s, 1); // typed after the Step2 went out
        o.sent_update(2, s);
        assert_eq!(o.ack(2, 1), vec![2, 3]);
        assert_eq!(o.pending(), 1);
        assert_eq!(o.ack(2, 2), vec![4]);
        assert!(o.is_empty());
    }

    #[test]
    fn unsaved_entries_are_counted_until_acknowledged() {
        let mut o = Outbox::default();
        o.begin(1);
        let (a, b) = (o.next_seq(), o.next_seq());
        o.push(a, 2);
        o.push(b, 1);
        o.mark_unsaved(b);
        o.mark_unsaved(99); // not an entry: ignored
        assert_eq!((o.pending(), o.unsaved()), (3, 1));
        o.sent_step2(1);
        assert_eq!(o.ack(1, 1), vec![a, b]);
        assert_eq!((o.pending(), o.unsaved()), (0, 0));
    }

    #[test]
    fn empty_step2_and_excess_acks() {
        let mut o = Outbox::default();
        o.begin(5);
        o.sent_step2(5);
        let s = o.next_seq();
        o.push(s, 1);
        assert_eq!(o.ack(5, 10), Vec::<u64>::new(), "the step2 carried nothing");
        assert_eq!(o.pending(), 1, "an entry never sent is never acknowledged");
    }
}
