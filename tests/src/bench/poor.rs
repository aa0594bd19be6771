//! The poor-network scenarios of the bench, through [`xieshang_tests::netsim`]:
//!
//! - pending: a client comes back with 500 edits made offline over a 64 kbit/s
//!   link with 600 ms round trips; once the y-websocket way (all of it in the
//!   SyncStep2 that answers the server's SyncStep1: `resync`) and once the way
//!   an outbox replays (one Update per edit: `outbox`). Figures: the time until
//!   a second client (on a perfect link) holds all 500, and the bytes the
//!   returning client sent across the link.
//! - cuts: a client types on the same link while the connection is cut every
//!   few seconds; after each cut it reconnects and resyncs. Figures: the time
//!   until the second client holds every edit, bytes sent, and the edits found
//!   missing or duplicated (both must be 0).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Frame;
use xieshang_tests::netsim::{LinkSpec, NetSim};
use yrs::{Doc, GetString, ReadTxn, Text, TextRef, Transact};

use super::fanout::AbortOnDrop;
use super::wire::{self, Incoming, Ws};
use super::{note, report, Target};

const CLIENT: u64 = 8_000_001;

fn token(i: usize) -> String {
    format!("<{i}>")
}

fn link() -> LinkSpec {
    LinkSpec::slow(64, Duration::from_millis(600))
}

/// The second client: on a perfect link, applying everything it receives.
struct Watcher {
    ws: Ws,
    doc: Doc,
    body: TextRef,
}

impl Watcher {
    async fn open(url: &str) -> Result<Watcher> {
        let doc = xieshang_shared::schema::new_doc();
        let body = doc.get_or_insert_text("body");
        let mut ws = wire::connect_plain(url).await?;
        wire::sync_doc(&mut ws, &doc, false).await?;
        Ok(Watcher { ws, doc, body })
    }

    fn text(&self) -> String {
        self.body.get_string(&self.doc.transact())
    }

    /// Reads until every token `0..n` is in the text; answers missing and
    /// duplicated counts at the end (or at the deadline).
    async fn wait_tokens(&mut self, n: usize, deadline: Instant) -> Result<(usize, usize)> {
        loop {
            let (missing, dup) = tally(&self.text(), n);
            if missing == 0 || Instant::now() >= deadline {
                return Ok((missing, dup));
            }
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(Frame::Binary(bytes)))) => match wire::classify(&bytes)? {
                    Incoming::Update(u) | Incoming::Step2(u) => wire::apply(&self.doc, u)?,
                    _ => {}
                },
                Ok(Some(Ok(_))) => {}
                Ok(_) => bail!("the watching client lost its connection"),
            }
        }
    }
}

/// Tokens `0..n` absent from `text`, and extra copies of present ones.
fn tally(text: &str, n: usize) -> (usize, usize) {
    let mut missing = 0;
    let mut dup = 0;
    for i in 0..n {
        match text.matches(&token(i)).count() {
            0 => missing += 1,
            1 => {}
            k => dup += k - 1,
        }
    }
    (missing, dup)
}

/// `edits` inserts of unique tokens, one transaction each: the offline work.
fn offline_work(edits: usize) -> (Doc, Vec<Vec<u8>>) {
    let doc = xieshang_shared::schema::new_doc_with_client_id(CLIENT);
    let body = doc.get_or_insert_text("body");
    let mut updates = Vec::with_capacity(edits);
    for i in 0..edits {
        let mut t = doc.transact_mut();
        let at = body.len(&t);
        body.insert(&mut t, at, &token(i));
        updates.push(t.encode_update_v1());
    }
    (doc, updates)
}

/// Both ways of coming back with `edits` pending edits over the slow link.
pub async fn pending(target: &Target, server: SocketAddr, edits: usize) -> Result<()> {
    for outbox in [false, true] {
        let mode = if outbox { "outbox" } else { "resync" };
        let doc = target.new_doc(&format!("net-pending-{mode}")).await?;
        let url = target.url(&doc, false);
        let mut watcher = Watcher::open(&url).await?;
        let (offline, updates) = offline_work(edits);
        let sim = NetSim::start(server, link()).await?;
        let start = Instant::now();
        let slow_url = sim.url(&url);
        let returning = AbortOnDrop(tokio::spawn(async move {
            let mut a = wire::connect_plain(&slow_url).await?;
            if outbox {
                // Handshake with nothing, then the outbox, one message per edit.
                wire::sync_doc(&mut a, &xieshang_shared::schema::new_doc(), true).await?;
                for u in updates {
                    a.feed(wire::update(u)).await?;
                }
                a.flush().await?;
            } else {
                wire::sync_doc(&mut a, &offline, true).await?;
            }
            // Keep reading so the socket stays healthy until the end.
            while let Some(Ok(_)) = a.next().await {}
            anyhow::Ok(())
        }));
        let deadline = start + Duration::from_secs(120);
        let (missing, dup) = watcher.wait_tokens(edits, deadline).await?;
        let took = start.elapsed();
        let bytes = sim.stats().bytes_up;
        drop(returning);
        if missing > 0 || dup > 0 {
            note(&format!(
                "poor network, {mode}: {missing} edits missing and {dup} duplicated after {} s",
                took.as_secs()
            ));
        }
        report(&format!("net_{mode}_secs"), took.as_secs_f64(), "s", true);
        report(&format!("net_{mode}_bytes_up"), bytes as f64, "B", true);
    }
    Ok(())
}

enum Event {
    Edit,
    Frame(Option<Result<Frame, tokio_tungstenite::tungstenite::Error>>),
}

async fn next_frame(
    ws: &mut Option<Ws>,
) -> Option<Result<Frame, tokio_tungstenite::tungstenite::Error>> {
    match ws.as_mut() {
        Some(ws) => ws.next().await,
        None => std::future::pending().await,
    }
}

/// A client typing `edits` tokens, one every `period`, over `url`; it reconnects
/// (after `backoff`) whenever the connection dies and resyncs the y-websocket way.
async fn flaky_typist(url: String, edits: usize, period: Duration) -> Result<()> {
    let backoff = Duration::from_millis(200);
    let doc = xieshang_shared::schema::new_doc_with_client_id(CLIENT + 1);
    let body = doc.get_or_insert_text("body");
    let mut ws: Option<Ws> = None;
    let mut made = 0usize;
    let mut tick = tokio::time::interval(period);
    loop {
        if ws.is_none() {
            match wire::connect_plain(&url).await {
                Ok(mut s) => {
                    let sv = doc.transact().state_vector();
                    if s.send(wire::step1(&sv)).await.is_ok() {
                        ws = Some(s);
                    }
                }
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            }
        }
        let event = tokio::select! {
            _ = tick.tick(), if made < edits => Event::Edit,
            f = next_frame(&mut ws) => Event::Frame(f),
        };
        match event {
            Event::Edit => {
                let update = {
                    let mut t = doc.transact_mut();
                    let at = body.len(&t);
                    body.insert(&mut t, at, &token(made));
                    t.encode_update_v1()
                };
                made += 1;
                if let Some(s) = ws.as_mut() {
                    if s.send(wire::update(update)).await.is_err() {
                        ws = None; // the next handshake carries it
                    }
                }
            }
            Event::Frame(Some(Ok(Frame::Binary(bytes)))) => {
                if let Ok(Incoming::Step1(sv)) = wire::classify(&bytes) {
                    let answer = wire::step2(wire::diff(&doc, sv)?);
                    if let Some(s) = ws.as_mut() {
                        if s.send(answer).await.is_err() {
                            ws = None;
                        }
                    }
                }
            }
            Event::Frame(Some(Ok(_))) => {}
            Event::Frame(_) => {
                ws = None;
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

/// Typing through a link that is cut every 1–3 s.
pub async fn cuts(target: &Target, server: SocketAddr, edits: usize) -> Result<()> {
    let doc = target.new_doc("net-cuts").await?;
    let url = target.url(&doc, false);
    let mut watcher = Watcher::open(&url).await?;
    let spec = LinkSpec {
        cut_every: Some((Duration::from_secs(1), Duration::from_secs(3))),
        ..link()
    };
    let sim = NetSim::start(server, spec).await?;
    let period = Duration::from_millis(50);
    let start = Instant::now();
    let typist = AbortOnDrop(tokio::spawn(flaky_typist(sim.url(&url), edits, period)));
    let deadline = start + period * edits as u32 + Duration::from_secs(120);
    let (missing, dup) = watcher
        .wait_tokens(edits, deadline)
        .await
        .context("watching the typist")?;
    let took = start.elapsed();
    let stats = sim.stats();
    drop(typist);
    report("net_cuts_secs", took.as_secs_f64(), "s", true);
    report("net_cuts_bytes_up", stats.bytes_up as f64, "B", true);
    report("net_cuts_cuts", stats.cuts as f64, "cuts", false);
    report("net_cuts_missing", missing as f64, "edits", true);
    report("net_cuts_duplicated", dup as f64, "edits", true);
    Ok(())
}
