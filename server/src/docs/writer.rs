//! Group commit: one task commits the updates of every document that is waiting
//! at that moment in a single transaction, so N documents (or N rounds of one busy
//! document) cost one fsync instead of N.

use tokio::sync::{mpsc, oneshot};
use xieshang_shared::DocId;

use crate::db::queries::docs::{self, NewUpdate};
use crate::db::Db;

/// Most requests folded into one transaction; bounds the transaction's size.
const MAX_GROUP: usize = 256;

struct Request {
    doc: DocId,
    updates: Vec<NewUpdate>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Handle to the commit task. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Request>,
}

impl Writer {
    /// Starts the commit task on the current runtime.
    pub fn start(db: Db) -> Writer {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(run(db, rx));
        Writer { tx }
    }

    /// Appends `updates` to `doc`'s log; returns once they are committed.
    pub async fn append(&self, doc: DocId, updates: Vec<NewUpdate>) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Request { doc, updates, done })
            .await
            .map_err(|_| "writer stopped".to_string())?;
        wait.await.map_err(|_| "writer stopped".to_string())?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Request>) {
    let mut group: Vec<Request> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let batch: Vec<(DocId, Vec<NewUpdate>)> = group
            .iter_mut()
            .map(|r| (r.doc, std::mem::take(&mut r.updates)))
            .collect();
        let result = docs::append_batch(&db, &batch).await.map_err(|e| {
            tracing::error!(error = %e, docs = batch.len(), "committing updates failed");
            e.to_string()
        });
        for r in group.drain(..) {
            let _ = r.done.send(result.clone());
        }
    }
}
