//! W2 throughput and W3 cold load.
//!
//! W2: one writer replays the B4 trace, one update message per operation, as
//! fast as the server takes them; a second client, connected before the start,
//! applies what it receives (reconnecting and resyncing if the server closes
//! it as too slow). The figure is the time until that client holds the final
//! text. W3 runs after xtask restarted the server on W2's data: the time from
//! opening a socket to holding the final text, for a fresh client (waiting up
//! to 60 s for updates that follow the handshake, as a real client would).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Frame;
use yrs::{GetString, Text, Transact};

use super::fanout::AbortOnDrop;
use super::wire::{self, Incoming};
use super::{note, report, trace, Target};

const WRITER: u64 = 7_000_001;

/// Runs W2 and leaves what W3 needs in `state`.
pub async fn w2(target: &Target, trace_path: &Path, state: &Path, limit: Duration) -> Result<()> {
    let replay = trace::replay(trace_path, WRITER, None)?;
    let ops = replay.updates.len();
    let final_text = replay.final_text;
    let frames: Vec<Frame> = replay.updates.into_iter().map(wire::update).collect();
    let doc = target.new_doc("w2").await?;
    let url = target.url(&doc, false);

    let rdoc = xieshang_shared::schema::new_doc();
    let body = rdoc.get_or_insert_text("body");
    let mut reader = wire::connect_plain(&url).await?;
    wire::sync_doc(&mut reader, &rdoc, false).await?;
    let mut writer = wire::connect_plain(&url).await?;
    wire::sync_doc(&mut writer, &xieshang_shared::schema::new_doc(), false).await?;
    let (mut wsink, mut wstream) = writer.split();
    // The reference server echoes every update to its sender: keep reading.
    let _drain = AbortOnDrop(tokio::spawn(async move {
        while let Some(Ok(_)) = wstream.next().await {}
    }));

    let start = Instant::now();
    let send = tokio::spawn(async move {
        for (i, f) in frames.into_iter().enumerate() {
            wsink.feed(f).await?;
            if i % 256 == 255 {
                wsink.flush().await?;
            }
        }
        wsink.flush().await?;
        anyhow::Ok((start.elapsed(), wsink))
    });

    let target_len = final_text.len() as u32;
    let deadline = start + limit;
    let mut received = 0u64;
    let mut reconnects = 0u32;
    let mut done = None;
    'outer: while Instant::now() < deadline {
        let next = tokio::time::timeout_at(deadline, reader.next()).await;
        let frame = match next {
            Err(_) => break,
            Ok(Some(Ok(f))) => f,
            Ok(_) => {
                // Closed (e.g. too slow for the server's queue): reconnect and resync.
                reconnects += 1;
                reader = wire::connect_plain(&url).await?;
                wire::sync_doc(&mut reader, &rdoc, false).await?;
                if body.len(&rdoc.transact()) == target_len
                    && body.get_string(&rdoc.transact()) == final_text
                {
                    done = Some(start.elapsed());
                    break 'outer;
                }
                continue;
            }
        };
        let Frame::Binary(bytes) = frame else {
            continue;
        };
        match wire::classify(&bytes)? {
            Incoming::Update(u) | Incoming::Step2(u) => {
                received += 1;
                wire::apply(&rdoc, u)?;
            }
            Incoming::Step1(sv) => {
                let answer = wire::step2(wire::diff(&rdoc, sv)?);
                reader.send(answer).await?;
            }
            _ => continue,
        }
        if body.len(&rdoc.transact()) == target_len
            && body.get_string(&rdoc.transact()) == final_text
        {
            done = Some(start.elapsed());
            break;
        }
    }
    let sent = if send.is_finished() {
        match send.await {
            Ok(Ok((t, _sink))) => Some(t),
            Ok(Err(e)) => {
                note(&format!("W2: the writer failed: {e:#}"));
                None
            }
            Err(_) => None,
        }
    } else {
        send.abort();
        None
    };
    match done {
        Some(t) => {
            report("w2_secs", t.as_secs_f64(), "s", true);
            report(
                "w2_ops_per_sec",
                ops as f64 / t.as_secs_f64(),
                "ops/s",
                false,
            );
        }
        None => {
            note(&format!(
                "W2: the second client did not hold the final text within {} s ({received} of {ops} updates received)",
                limit.as_secs()
            ));
            report("w2_secs", f64::NAN, "s", true);
            report(
                "w2_ops_per_sec",
                received as f64 / limit.as_secs_f64(),
                "ops/s",
                false,
            );
        }
    }
    if let Some(t) = sent {
        report("w2_writer_done_secs", t.as_secs_f64(), "s", true);
    }
    if reconnects > 0 {
        note(&format!(
            "W2: the second client was disconnected {reconnects} times (server queue full) and resynced"
        ));
    }
    let st = json!({ "doc": doc.name, "final_text": final_text });
    std::fs::write(state, serde_json::to_vec(&st)?)
        .with_context(|| format!("writing {}", state.display()))?;
    Ok(())
}

/// Runs W3 on the document W2 left in `state` (the server was restarted since).
pub async fn w3(target: &Target, state: &Path) -> Result<()> {
    let st: serde_json::Value = serde_json::from_slice(
        &std::fs::read(state).with_context(|| format!("reading {}", state.display()))?,
    )?;
    let name = st["doc"].as_str().context("state without doc")?;
    let final_text = st["final_text"].as_str().context("state without text")?;
    let doc = target.doc_ref(name).await?;
    let url = target.url(&doc, false);
    let mut times = Vec::new();
    let mut complete = true;
    for round in 0..6 {
        let start = Instant::now();
        let rdoc = xieshang_shared::schema::new_doc();
        let body = rdoc.get_or_insert_text("body");
        let mut ws = wire::connect_plain(&url).await?;
        wire::sync_doc(&mut ws, &rdoc, false).await?;
        // Some servers answer before their storage has loaded the document and
        // send it afterwards as updates: synced means holding the final text.
        let deadline = start + Duration::from_secs(60);
        while body.get_string(&rdoc.transact()) != final_text {
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(Frame::Binary(bytes)))) => {
                    if let Incoming::Update(u) | Incoming::Step2(u) = wire::classify(&bytes)? {
                        wire::apply(&rdoc, u)?;
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        let t = start.elapsed();
        let text = body.get_string(&rdoc.transact());
        if round == 0 && text != final_text {
            complete = false;
            note(&format!(
                "W3: after the restart the server held {} of {} characters of W2's final text (lost, or W2 did not finish): no load time reported",
                text.len(),
                final_text.len()
            ));
        }
        times.push(t.as_secs_f64() * 1e3);
        let _ = ws.close(None).await;
        if !complete {
            break; // each further round would wait out its deadline too
        }
    }
    // A load of an incomplete document is not comparable: reported as not done.
    let cold = if complete { times[0] } else { f64::NAN };
    let mut warm = times[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    let warm = if complete && !warm.is_empty() {
        warm[warm.len() / 2]
    } else {
        f64::NAN
    };
    report("w3_cold_ms", cold, "ms", true);
    report("w3_warm_ms", warm, "ms", true);
    Ok(())
}
