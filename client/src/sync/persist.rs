//! The writer of one document: persists observed updates in IndexedDB
//! batch by batch, and only then lets local ones into the outbox and out.

use std::rc::Rc;

use xieshang_shared::protocol::Message;
use xieshang_shared::sync;

use super::engine::{send, Engine};
use super::store::{self, Append};
use super::web;

/// Log rows after which the merged state is rewritten and the log cleared.
const COMPACT_EVERY: u32 = 100;

/// One batch ready to write: the update for the log, and the local part
/// (with its number of local transactions) for the outbox.
type Batch = (Vec<u8>, Option<(Vec<u8>, u32)>);

impl Engine {
    pub(super) async fn flush(self: Rc<Engine>) {
        self.refresh_peers();
        {
            let mut st = self.st.borrow_mut();
            if st.writing || st.facts.loading {
                return;
            }
            st.writing = true;
        }
        loop {
            let batch = std::mem::take(&mut *self.queue.borrow_mut());
            if batch.is_empty() {
                break;
            }
            // Still pending while being written.
            self.st.borrow_mut().in_flight = batch.iter().filter(|q| q.1).count();
            for (all, local) in merge_batch(&batch) {
                self.write(all, local).await;
            }
            self.maybe_compact().await;
        }
        {
            let mut st = self.st.borrow_mut();
            st.writing = false;
            st.in_flight = 0;
        }
        self.answer_step1();
        self.publish();
        self.finish_close_if_done();
    }

    /// Writes one merged batch, then lets its local part into the outbox and out.
    async fn write(&self, all: Vec<u8>, local: Option<(Vec<u8>, u32)>) {
        let (log_seq, out_seq) = {
            let mut st = self.st.borrow_mut();
            let log_seq = st.log_seq;
            st.log_seq += 1;
            let out_seq = local.as_ref().map(|_| st.outbox.next_seq());
            (log_seq, out_seq)
        };
        let outbox = local
            .as_ref()
            .zip(out_seq)
            .map(|((bytes, changes), seq)| (seq, *changes, bytes.as_slice()));
        let batch = Append {
            log_seq,
            update: &all,
            outbox,
        };
        let saved = match store::append(self.doc_id, batch).await {
            Ok(()) => true,
            Err(e) => {
                // Better sent unsaved than neither: the server keeps it once
                // acknowledged. Until then the member is told it is not safe here.
                web::warn(&format!(
                    "sync: could not save a change of {}: {e}",
                    self.doc_id
                ));
                false
            }
        };
        let mut st = self.st.borrow_mut();
        st.log_rows += 1;
        if let (Some((bytes, changes)), Some(seq)) = (local, out_seq) {
            st.outbox.push(seq, changes);
            if !saved {
                st.outbox.mark_unsaved(seq);
            }
            st.in_flight = st.in_flight.saturating_sub(changes as usize);
            let live = st.answered && st.facts.read_only.is_none();
            if live && send(&st, &Message::update(bytes)) {
                let conn = st.conn;
                st.outbox.sent_update(conn, seq);
            }
        }
    }

    /// Folds the log into the stored state once it is long enough.
    async fn maybe_compact(&self) {
        let upto = {
            let st = self.st.borrow();
            if st.log_rows < COMPACT_EVERY || !self.queue.borrow().is_empty() {
                return;
            }
            st.log_seq.saturating_sub(1)
        };
        let Ok(state) = sync::try_encode_state(&self.doc) else {
            return; // keep the log rather than store less
        };
        match store::compact(self.doc_id, &state, upto).await {
            Ok(()) => self.st.borrow_mut().log_rows = 0,
            Err(e) => web::warn(&format!("sync: compaction of {} failed: {e}", self.doc_id)),
        }
    }
}

pub(super) fn spawn_flush(engine: &Rc<Engine>) {
    let engine = engine.clone();
    wasm_bindgen_futures::spawn_local(engine.flush());
}

/// Merges a batch into one update for the log and one for the outbox (with
/// the number of local transactions). Should yrs refuse to merge, each update
/// is written on its own instead: nothing is dropped.
fn merge_batch(batch: &[(Vec<u8>, bool)]) -> Vec<Batch> {
    let all: Vec<&[u8]> = batch.iter().map(|(u, _)| u.as_slice()).collect();
    let local: Vec<&[u8]> = batch
        .iter()
        .filter(|q| q.1)
        .map(|(u, _)| u.as_slice())
        .collect();
    let merged_local = match local.len() {
        0 => Ok(None),
        1 => Ok(Some((local[0].to_vec(), 1))),
        n => sync::merge_updates(&local).map(|u| Some((u, n as u32))),
    };
    let merged_all = match all.len() {
        1 => Ok(all[0].to_vec()),
        _ => sync::merge_updates(&all),
    };
    match (merged_all, merged_local) {
        (Ok(all), Ok(local)) => vec![(all, local)],
        _ => batch
            .iter()
            .map(|(u, l)| (u.clone(), l.then(|| (u.clone(), 1))))
            .collect(),
    }
}
