//! A peer goes offline, keeps editing (inserting and deleting markers) while
//! another peer edits online, then comes back and sends everything it held in
//! one burst: shuffled with duplicates (the server sees updates whose
//! dependencies have not arrived yet, and some twice), merged into one update,
//! or through the ordinary SyncStep2 resync. Nothing may be lost: every live
//! marker appears exactly once, every deleted one is gone, and both peers, a
//! fresh peer and `GET /api/docs/{id}` agree.

use anyhow::{ensure, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xieshang_tests::client::server_state;
use xieshang_tests::text::check_markers;
use xieshang_tests::{Backend, Flush, TestClient, TestServer};

#[derive(Debug, Clone, Copy)]
enum Return {
    /// Connect with an empty SyncStep2, then flush the held updates this way.
    Flush(Flush),
    /// Reconnect normally: the SyncStep2 answer carries what the server lacks.
    Resync,
}

async fn offline_scenario(backend: Backend, how: Return, seed: u64) -> Result<()> {
    let tag = format!("offline/{:?}/{}", how, backend.name());
    let mut rng = StdRng::seed_from_u64(seed);
    let server = TestServer::start(backend).await?;
    let c = server.committee(2).await?;
    let api = &server.api;
    let a_url = api.ws_url(c.doc, Some(&c.members[0].token), true);
    let b_url = api.ws_url(c.doc, Some(&c.members[1].token), true);
    let mut a = TestClient::new("A(offline)");
    let mut b = TestClient::new("B(online)");
    a.connect(&a_url).await?;
    b.connect(&b_url).await?;

    let mut present: Vec<String> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    for i in 0..6 {
        let m = format!("[a{i}]");
        a.insert_marker(&mut rng, &m).await?;
        present.push(m);
    }
    a.wait_all_acked().await?;
    b.wait_text(&a.text()).await?;

    // A loses the network and goes on working.
    a.disconnect().await;
    for i in 6..46 {
        if i % 6 == 0 {
            // Delete one of A's live markers (some from before, some made offline).
            let k = rng.gen_range(0..present.len());
            let m = present.remove(k);
            a.remove_marker(&m).await?;
            absent.push(m);
        } else {
            let m = format!("[a{i}甲😀]");
            a.insert_marker(&mut rng, &m).await?;
            present.push(m);
        }
    }
    // Meanwhile B edits online, and deletes one marker A may also have deleted.
    for i in 0..20 {
        let m = format!("[b{i}乙]");
        b.insert_marker(&mut rng, &m).await?;
        present.push(m);
    }
    let shared = "[a1]".to_string();
    if let Some(k) = present.iter().position(|m| *m == shared) {
        present.remove(k);
        absent.push(shared.clone());
    }
    if b.text().contains(&shared) {
        b.remove_marker(&shared).await?;
    }
    b.wait_all_acked().await?;
    let held = a.held_len();
    ensure!(held == 40, "{tag}: expected 40 held edits, got {held}");

    // A comes back and sends it all at once.
    let messages = match how {
        Return::Flush(flush) => {
            a.connect_holding_back(&a_url).await?;
            a.flush_held(flush, &mut rng).await?
        }
        Return::Resync => {
            a.connect(&a_url).await?;
            1
        }
    };
    a.wait_all_acked().await?;
    let merged = a.text();
    check_markers(&merged, &present, &absent)?;
    b.wait_text(&merged).await?;
    let (fresh_text, fresh_sv) = server_state(&a_url).await?;
    ensure!(
        fresh_text == merged,
        "{tag}: a fresh peer sees {fresh_text:?}, A sees {merged:?}"
    );
    ensure!(
        fresh_sv == a.state_vector() && fresh_sv == b.state_vector(),
        "{tag}: state vectors differ"
    );
    let body = api.draft_body(&c.members[1], c.doc).await?;
    ensure!(
        body == merged,
        "{tag}: GET /api/docs body {body:?} != {merged:?}"
    );
    for p in [&a, &b] {
        ensure!(
            p.violations().is_empty(),
            "{tag}: {} saw protocol violations {:?}",
            p.name,
            p.violations()
        );
    }
    println!(
        "[{tag}] held {held} edits, sent them in {messages} message(s), {} of A's {} edits acked durable; \
         {} live markers present once, {} deleted markers absent",
        a.durable_count(),
        a.edits(),
        present.len(),
        absent.len()
    );
    a.disconnect().await;
    b.disconnect().await;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_batch_shuffled_and_duplicated_sqlite() -> Result<()> {
    let seed = xieshang_tests::seed("offline/shuffled", 11);
    offline_scenario(
        Backend::Sqlite,
        Return::Flush(Flush::Shuffled { duplicates: 0.3 }),
        seed,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_batch_merged_sqlite() -> Result<()> {
    let seed = xieshang_tests::seed("offline/merged", 12);
    offline_scenario(Backend::Sqlite, Return::Flush(Flush::Merged), seed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_batch_in_order_sqlite() -> Result<()> {
    let seed = xieshang_tests::seed("offline/in-order", 13);
    offline_scenario(Backend::Sqlite, Return::Flush(Flush::InOrder), seed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_resync_step2_sqlite() -> Result<()> {
    let seed = xieshang_tests::seed("offline/resync", 14);
    offline_scenario(Backend::Sqlite, Return::Resync, seed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_batch_postgres() -> Result<()> {
    let seed = xieshang_tests::seed("offline/postgres", 15);
    for how in [
        Return::Flush(Flush::Shuffled { duplicates: 0.3 }),
        Return::Flush(Flush::Merged),
        Return::Resync,
    ] {
        let Some(backend) = Backend::postgres("offline/postgres").await? else {
            return Ok(());
        };
        offline_scenario(backend, how, seed).await?;
    }
    Ok(())
}
