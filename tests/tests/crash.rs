//! Crash safety of the real binary: two peers write markers as fast as they
//! can while the `xieshang` process is killed with SIGKILL (no shutdown, no
//! flush) at a random moment, over and over. After each restart every marker
//! whose update the server had acknowledged must be in the stored document,
//! exactly once; markers that were never acknowledged may be there or not.
//! At the end the peers reconnect, resend what the server lacks, and all agree.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xieshang_tests::client::server_state;
use xieshang_tests::text::occurrences;
use xieshang_tests::{wait, Backend, ServerProcess, Session, TestClient};

/// A peer and the markers it wrote, by edit id.
struct Writer {
    client: TestClient,
    session: Session,
    markers: Vec<(u64, String)>,
    rng: StdRng,
    /// Durable edits when the round started, to count this round's acks.
    durable_before: usize,
}

/// Writes markers until the connection breaks; `acked` follows this round's acks.
async fn write_until_killed(mut w: Writer, acked: Arc<AtomicUsize>) -> Result<Writer> {
    let letter = w.client.name.clone();
    loop {
        let m = format!("[{letter}{}]", w.markers.len());
        let id = w.client.insert_marker(&mut w.rng, &m).await?;
        w.markers.push((id, m));
        w.client.pump().await?;
        acked.store(
            w.client.durable_count() - w.durable_before,
            Ordering::Relaxed,
        );
        if !w.client.is_connected() {
            return Ok(w);
        }
        // Pace the writing a little so the round is about many small commits.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[derive(Default)]
struct Tally {
    acked: usize,
    unacked_present: usize,
    unacked_missing: usize,
}

/// Checks the stored text against what each writer knows was acknowledged.
fn audit(text: &str, writers: &[Writer]) -> Result<Tally> {
    let mut t = Tally::default();
    let mut lost = Vec::new();
    for w in writers {
        for (id, m) in &w.markers {
            let n = occurrences(text, m);
            if n > 1 {
                lost.push(format!("{m} stored {n} times"));
            }
            if w.client.is_durable(*id) {
                t.acked += 1;
                if n != 1 {
                    lost.push(format!("{m} (acked) missing"));
                }
            } else if n == 1 {
                t.unacked_present += 1;
            } else {
                t.unacked_missing += 1;
            }
        }
    }
    if !lost.is_empty() {
        bail!(
            "acknowledged updates lost after SIGKILL: {}",
            lost.join(", ")
        );
    }
    Ok(t)
}

async fn crash_scenario(backend: Backend, rounds: usize, seed: u64) -> Result<()> {
    let tag = format!("crash/{}", backend.name());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut server = ServerProcess::start(&backend).await?;
    let committee = server.committee(2).await?;
    let mut writers: Vec<Writer> = ["A", "B"]
        .iter()
        .zip(&committee.members)
        .map(|(name, s)| Writer {
            client: TestClient::new(name),
            session: s.clone(),
            markers: Vec::new(),
            rng: StdRng::seed_from_u64(rng.gen()),
            durable_before: 0,
        })
        .collect();
    let doc = committee.doc;
    let mut acked_before_kills = 0;

    for round in 1..=rounds {
        // Connect (the SyncStep2 resends whatever the last incarnation lost).
        for w in writers.iter_mut() {
            let url = server.api.ws_url(doc, Some(&w.session.token), true);
            w.client
                .connect(&url)
                .await
                .with_context(|| format!("round {round}: connect"))?;
            w.durable_before = w.client.durable_count();
        }
        let progress: Vec<Arc<AtomicUsize>> = writers
            .iter()
            .map(|_| Arc::new(AtomicUsize::new(0)))
            .collect();
        let tasks: Vec<_> = std::mem::take(&mut writers)
            .into_iter()
            .zip(&progress)
            .map(|(w, p)| tokio::spawn(write_until_killed(w, p.clone())))
            .collect();
        // Let both writers get some acknowledged updates in, then kill at a random moment.
        let p = progress.clone();
        wait::until(
            "both writers to have 5 acked edits this round",
            xieshang_tests::WAIT,
            || {
                let p = p.clone();
                async move {
                    Ok(p.iter()
                        .all(|a| a.load(Ordering::Relaxed) >= 5)
                        .then_some(()))
                }
            },
        )
        .await
        .with_context(|| format!("round {round}; server log:\n{}", server.log_tail()))?;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..400))).await;
        server.kill9().await?;
        for t in tasks {
            let w = tokio::time::timeout(xieshang_tests::WAIT, t)
                .await
                .context("writer did not notice the kill")???;
            writers.push(w);
        }

        server
            .restart()
            .await
            .with_context(|| format!("restart after round {round}"))?;
        let text = server.api.draft_body(&committee.staff, doc).await?;
        let tally = audit(&text, &writers).with_context(|| format!("{tag} round {round}"))?;
        acked_before_kills = tally.acked;
        let this_round: Vec<usize> = writers
            .iter()
            .map(|w| w.client.durable_count() - w.durable_before)
            .collect();
        println!(
            "[{tag}] round {round:2}: acked this round A {:3} B {:3}; acked in total {:5}, all present; \
             unacked but committed {:3}, unacked and lost {:2}",
            this_round[0], this_round[1], tally.acked, tally.unacked_present, tally.unacked_missing
        );
    }

    // Back to normal: the peers resend what the server lacks, and all agree.
    for w in writers.iter_mut() {
        let url = server.api.ws_url(doc, Some(&w.session.token), true);
        w.client.connect(&url).await?;
        w.client.wait_all_acked().await?;
    }
    let url = server.api.ws_url(doc, Some(&committee.staff.token), false);
    let (text, _) = server_state(&url).await?;
    let written: usize = writers.iter().map(|w| w.markers.len()).sum();
    for w in writers.iter_mut() {
        w.client.wait_text(&text).await?;
        for (_, m) in &w.markers {
            ensure!(
                occurrences(&text, m) == 1,
                "{m} not exactly once in the final text"
            );
        }
        ensure!(
            w.client.violations().is_empty(),
            "{:?}",
            w.client.violations()
        );
    }
    println!(
        "[{tag}] after {rounds} SIGKILLs: {written} markers written, {acked_before_kills} of them acked before \
         the last kill and every one of those survived; after the final resync all {written} are stored once"
    );
    server.kill9().await?;
    Ok(())
}

fn rounds() -> usize {
    std::env::var("XS_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_updates_survive_sigkill_sqlite() -> Result<()> {
    let seed = xieshang_tests::seed("crash/sqlite", 21);
    crash_scenario(Backend::Sqlite, rounds(), seed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_updates_survive_sigkill_postgres() -> Result<()> {
    let Some(backend) = Backend::postgres("crash/postgres").await? else {
        return Ok(());
    };
    let seed = xieshang_tests::seed("crash/postgres", 22);
    crash_scenario(backend, rounds(), seed).await
}
