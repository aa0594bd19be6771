//! W5 durable write rate (xieshang only): clients on `ext=1` sockets keep a
//! window of updates in flight and count the server's `Ack { count }`
//! messages, each of which says that many updates are committed (fsynced).
//! The figure is acknowledged updates per second, from the start until every
//! prepared update is acknowledged (or the time limit).
//! y-sweet and the reference server send no durability acknowledgement, so
//! there is nothing to measure on them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Frame;
use yrs::{Text, Transact};

use super::fanout::AbortOnDrop;
use super::wire::{self, Incoming};
use super::{note, report, Kind, Target};

const CLIENT_BASE: u64 = 5_000_000;

/// Runs W5: `clients` writers over `docs` documents for `secs` seconds, each
/// with at most `window` unacknowledged updates, `per_client` updates ready.
pub async fn run(
    target: &Target,
    clients: usize,
    docs: usize,
    secs: u64,
    window: u64,
    per_client: usize,
) -> Result<()> {
    if target.kind != Kind::Xieshang {
        note("W5: y-sweet and the reference y-websocket server do not acknowledge durability, so W5 runs on xieshang only");
        return Ok(());
    }
    let refs = target.new_docs("w5", docs).await?;
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..clients).map(|_| AtomicU64::new(0)).collect());
    let (go_tx, go_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut ready = Vec::new();
    for i in 0..clients {
        let url = target.url(&refs[i % refs.len()], true);
        let frames = encode(CLIENT_BASE + i as u64, per_client);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        ready.push(ready_rx);
        tasks.push(AbortOnDrop(tokio::spawn(writer(
            url,
            frames,
            window,
            acked.clone(),
            i,
            go_rx.clone(),
            ready_tx,
        ))));
    }
    for r in ready {
        r.await??;
    }
    let sum = |a: &[AtomicU64]| a.iter().map(|x| x.load(Ordering::Relaxed)).sum::<u64>();
    let all = (clients * per_client) as u64;
    let at_start = sum(&acked);
    let start = Instant::now();
    go_tx.send(true)?;
    // Until every prepared update is acknowledged, or `secs` pass.
    let deadline = start + Duration::from_secs(secs);
    while sum(&acked) < all && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_end = sum(&acked);
    let elapsed = start.elapsed().as_secs_f64();
    drop(tasks);
    let total = at_end - at_start;
    if total < all {
        note(&format!(
            "W5: {total} of {all} updates acknowledged within {secs} s"
        ));
    }
    report(
        "w5_acked_per_sec",
        total as f64 / elapsed,
        "updates/s",
        false,
    );
    Ok(())
}

fn encode(client_id: u64, count: usize) -> Vec<Frame> {
    let doc = xieshang_shared::schema::new_doc_with_client_id(client_id);
    let text = doc.get_or_insert_text("body");
    (0..count)
        .map(|i| {
            let mut t = doc.transact_mut();
            text.insert(&mut t, i as u32, "x");
            wire::update(t.encode_update_v1())
        })
        .collect()
}

async fn writer(
    url: String,
    frames: Vec<Frame>,
    window: u64,
    acked: Arc<Vec<AtomicU64>>,
    me: usize,
    mut go: watch::Receiver<bool>,
    ready: tokio::sync::oneshot::Sender<Result<()>>,
) {
    let mut ws = match wire::connect_plain(&url).await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if let Err(e) = wire::sync_doc(&mut ws, &xieshang_shared::schema::new_doc(), true).await {
        let _ = ready.send(Err(e));
        return;
    }
    // The handshake's Step2 is one update-carrying message too.
    let sent_base = 1u64;
    let (mut sink, mut stream) = ws.split();
    let progress = Arc::new(Notify::new());
    let p = progress.clone();
    let counts = acked.clone();
    let _reader = AbortOnDrop(tokio::spawn(async move {
        while let Some(Ok(Frame::Binary(bytes))) = stream.next().await {
            if let Ok(Incoming::Ack(n)) = wire::classify(&bytes) {
                counts[me].store(n.saturating_sub(sent_base), Ordering::Relaxed);
                p.notify_one();
            }
        }
        p.notify_one();
    }));
    let _ = ready.send(Ok(()));
    while !*go.borrow_and_update() {
        if go.changed().await.is_err() {
            return;
        }
    }
    let mut sent = 0u64;
    let mut frames = frames.into_iter();
    loop {
        let in_flight = sent - acked[me].load(Ordering::Relaxed);
        if in_flight >= window {
            if sink.flush().await.is_err() {
                return;
            }
            progress.notified().await;
            continue;
        }
        let Some(f) = frames.next() else {
            let _ = sink.flush().await;
            std::future::pending::<()>().await;
            return;
        };
        if sink.feed(f).await.is_err() {
            return;
        }
        sent += 1;
        if sent.is_multiple_of(64) && sink.flush().await.is_err() {
            return;
        }
    }
}
