//! W6 reconnect: a client made 10,000 operations (the start of the B4 trace)
//! while offline and reconnects the y-websocket way: SyncStep1, then the
//! server's SyncStep1 answered with everything it lacks in one SyncStep2.
//! Figures: the time until a second, connected client holds the final text,
//! and the bytes the returning client put on the wire (upgrade request and
//! framing included) against the size of the minimal update (its state
//! encoded against the server's state vector, v1).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Frame;
use yrs::{GetString, ReadTxn, StateVector, Text, Transact};

use super::wire::{self, Counter, Incoming};
use super::{report, trace, Target};

const OFFLINE: u64 = 6_000_001;

/// Runs W6 with the first `ops` operations of the trace.
pub async fn run(target: &Target, trace_path: &Path, ops: usize) -> Result<()> {
    let replay = trace::replay(trace_path, OFFLINE, Some(ops))?;
    let offline = replay.doc;
    let final_text = replay.final_text;
    let minimal = offline
        .transact()
        .encode_state_as_update_v1(&StateVector::default())
        .len();
    let doc = target.new_doc("w6").await?;
    let url = target.url(&doc, false);

    let bdoc = xieshang_shared::schema::new_doc();
    let body = bdoc.get_or_insert_text("body");
    let mut b = wire::connect_plain(&url).await?;
    wire::sync_doc(&mut b, &bdoc, false).await?;

    let counter = Arc::new(Counter::default());
    let start = Instant::now();
    let c = counter.clone();
    let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
    let returning = tokio::spawn(async move {
        let mut a = wire::connect(&url, c).await?;
        wire::sync_doc(&mut a, &offline, true).await?;
        let _ = synced_tx.send(());
        // Stay connected (a real client would) until the measurement ends.
        tokio::time::sleep(Duration::from_secs(30)).await;
        anyhow::Ok(())
    });
    let deadline = start + Duration::from_secs(120);
    let target_len = final_text.len() as u32;
    loop {
        let next = tokio::time::timeout_at(deadline, b.next()).await;
        let Ok(Some(Ok(frame))) = next else {
            returning.abort();
            bail!("W6: the second client did not receive the offline work in time");
        };
        let Frame::Binary(bytes) = frame else {
            continue;
        };
        if let Incoming::Update(u) | Incoming::Step2(u) = wire::classify(&bytes)? {
            wire::apply(&bdoc, u)?;
        }
        if body.len(&bdoc.transact()) == target_len
            && body.get_string(&bdoc.transact()) == final_text
        {
            break;
        }
    }
    let took = start.elapsed();
    // The counters are bumped just after each write returns: read them once the
    // returning client's handshake is over, not the instant the data arrived.
    let _ = tokio::time::timeout(Duration::from_secs(10), synced_rx).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sent = counter.sent();
    let received = counter.received();
    returning.abort();
    report("w6_ms", took.as_secs_f64() * 1e3, "ms", true);
    report("w6_bytes_sent", sent as f64, "B", true);
    report("w6_bytes_received", received as f64, "B", true);
    report("w6_minimal_update_bytes", minimal as f64, "B", true);
    report(
        "w6_sent_over_minimal",
        sent as f64 / minimal as f64,
        "x",
        true,
    );
    Ok(())
}
