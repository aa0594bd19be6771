//! W1 fan-out: one document, N clients, each inserting a short string every
//! 50 ms; latency from the moment a client sends an update to the moment the
//! last of the other N−1 clients has read it.
//!
//! Every client has its own yrs client id and pre-encodes all its updates
//! before the clock starts; receivers recognise an update by the (client id,
//! clock) in its header, so they never apply anything.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as Frame;
use yrs::{Text, Transact};

use super::wire::{self, Incoming};
use super::{note, percentile, report, Target};

/// Characters per insert; also the clock advance of one update.
const ITEM: &str = "abcd";
/// yrs client id of client 0; client i is `CLIENT_BASE + i`.
const CLIENT_BASE: u64 = 1_000_000;
const PERIOD: Duration = Duration::from_millis(50);

/// Send and last-receipt times of every update, nanoseconds since the start.
struct Book {
    per_client: usize,
    start: Instant,
    sent: Vec<AtomicU64>,
    last_seen: Vec<AtomicU64>,
    seen_by: Vec<AtomicU32>,
}

impl Book {
    fn slot(&self, client: u64, clock: u64) -> Option<usize> {
        let i = client.checked_sub(CLIENT_BASE)? as usize;
        let seq = (clock / ITEM.len() as u64) as usize;
        (seq < self.per_client)
            .then(|| i * self.per_client + seq)
            .filter(|s| *s < self.sent.len())
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// Runs W1 with `clients` clients for `secs` seconds and reports under `w1_<clients>_…`.
pub async fn run(target: &Target, clients: usize, secs: u64) -> Result<()> {
    let doc = target.new_doc(&format!("w1-{clients}")).await?;
    let url = target.url(&doc, false);
    let per_client = (Duration::from_secs(secs).as_millis() / PERIOD.as_millis()) as usize;
    let n = clients * per_client;
    let book = Arc::new(Book {
        per_client,
        start: Instant::now(),
        sent: (0..n).map(|_| AtomicU64::new(0)).collect(),
        last_seen: (0..n).map(|_| AtomicU64::new(0)).collect(),
        seen_by: (0..n).map(|_| AtomicU32::new(0)).collect(),
    });
    let (go_tx, go_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<()>>(clients);
    let closes = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let updates = encode_updates(CLIENT_BASE + i as u64, per_client);
        let task = tokio::spawn(client(
            i,
            url.clone(),
            updates,
            book.clone(),
            go_rx.clone(),
            ready_tx.clone(),
            closes.clone(),
        ));
        tasks.push(task);
    }
    drop(ready_tx);
    for _ in 0..clients {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e.context("a W1 client failed to connect")),
            None => anyhow::bail!("W1 clients ended before all connected"),
        }
    }
    go_tx.send(true)?;
    // Senders finish after `secs`; receivers get a grace period for in-flight updates.
    let deadline = Instant::now() + Duration::from_secs(secs) + Duration::from_secs(10);
    let expected = (clients - 1) as u32;
    loop {
        let done =
            book.seen_by.iter().zip(&book.sent).all(|(s, t)| {
                t.load(Ordering::Relaxed) != 0 && s.load(Ordering::Relaxed) >= expected
            });
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for t in &tasks {
        t.abort();
    }
    let mut lat = Vec::with_capacity(n);
    let mut incomplete = 0usize;
    for k in 0..n {
        let sent = book.sent[k].load(Ordering::Relaxed);
        if sent == 0 {
            incomplete += 1;
            continue;
        }
        if book.seen_by[k].load(Ordering::Relaxed) < expected {
            incomplete += 1;
            continue;
        }
        let last = book.last_seen[k].load(Ordering::Relaxed);
        lat.push(last.saturating_sub(sent) as f64 / 1e6);
    }
    lat.sort_by(f64::total_cmp);
    let key = format!("w1_{clients}");
    report(&format!("{key}_p50_ms"), percentile(&lat, 50.0), "ms", true);
    report(&format!("{key}_p95_ms"), percentile(&lat, 95.0), "ms", true);
    report(&format!("{key}_p99_ms"), percentile(&lat, 99.0), "ms", true);
    report(
        &format!("{key}_max_ms"),
        lat.last().copied().unwrap_or(f64::NAN),
        "ms",
        true,
    );
    report(
        &format!("{key}_undelivered"),
        incomplete as f64,
        "updates",
        true,
    );
    let closed = closes.load(Ordering::Relaxed);
    if closed > 0 {
        note(&format!(
            "W1 {clients} clients: the server closed {closed} connections during the run"
        ));
    }
    Ok(())
}

/// Pre-encodes `count` inserts of [`ITEM`] at the end of this client's own text.
fn encode_updates(client_id: u64, count: usize) -> Vec<Frame> {
    let doc = xieshang_shared::schema::new_doc_with_client_id(client_id);
    let text = doc.get_or_insert_text("body");
    (0..count)
        .map(|i| {
            let mut t = doc.transact_mut();
            text.insert(&mut t, (i * ITEM.len()) as u32, ITEM);
            wire::update(t.encode_update_v1())
        })
        .collect()
}

async fn client(
    index: usize,
    url: String,
    updates: Vec<Frame>,
    book: Arc<Book>,
    mut go: watch::Receiver<bool>,
    ready: mpsc::Sender<Result<()>>,
    closes: Arc<AtomicU64>,
) {
    let ws = match wire::connect_plain(&url).await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return;
        }
    };
    let (mut sink, mut stream) = ws.split();
    let me = CLIENT_BASE + index as u64;
    // Control frames (our Step2 answer) go through the sending task.
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<Frame>(4);
    let reader_book = book.clone();
    let reader = AbortOnDrop(tokio::spawn(async move {
        let mut ready = Some(ready);
        let mut ranges = Vec::new();
        while let Some(frame) = stream.next().await {
            let Ok(Frame::Binary(bytes)) = frame else {
                if !matches!(frame, Ok(Frame::Ping(_) | Frame::Pong(_))) {
                    break;
                }
                continue;
            };
            match wire::classify(&bytes) {
                Ok(Incoming::Step1(_)) => {
                    let _ = ctl_tx.send(wire::step2(wire::EMPTY_UPDATE.to_vec())).await;
                }
                Ok(Incoming::Step2(_)) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(())).await;
                    }
                }
                Ok(Incoming::Update(u)) => {
                    let now = reader_book.now();
                    if wire::clock_ranges(u, ITEM.len() as u64, &mut ranges).is_err() {
                        continue;
                    }
                    for &(client, from, to) in &ranges {
                        if client == me {
                            continue;
                        }
                        let mut clock = from;
                        while clock < to {
                            if let Some(s) = reader_book.slot(client, clock) {
                                reader_book.seen_by[s].fetch_add(1, Ordering::Relaxed);
                                reader_book.last_seen[s].fetch_max(now, Ordering::Relaxed);
                            }
                            clock += ITEM.len() as u64;
                        }
                    }
                }
                _ => {}
            }
        }
        closes.fetch_add(1, Ordering::Relaxed);
    }));
    if sink
        .send(wire::step1(&yrs::StateVector::default()))
        .await
        .is_err()
    {
        return;
    }
    // Until the start: answer the handshake.
    loop {
        tokio::select! {
            changed = go.changed() => {
                if changed.is_err() || *go.borrow() { break; }
            }
            Some(f) = ctl_rx.recv() => { if sink.send(f).await.is_err() { return; } }
        }
    }
    let offset = Duration::from_micros(rand::thread_rng().gen_range(0..PERIOD.as_micros() as u64));
    let mut tick = tokio::time::interval_at(Instant::now() + offset, PERIOD);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let base = index * book.per_client;
    for (seq, frame) in updates.into_iter().enumerate() {
        tick.tick().await;
        while let Ok(f) = ctl_rx.try_recv() {
            let _ = sink.send(f).await;
        }
        book.sent[base + seq].store(book.now().max(1), Ordering::Relaxed);
        if sink.send(frame).await.is_err() {
            break;
        }
    }
    // Keep the socket open (the reader counts what others still send) until aborted.
    std::future::pending::<()>().await;
    drop(reader);
}

/// Stops a spawned task when dropped (when the client task is aborted).
pub struct AbortOnDrop<T>(pub tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
