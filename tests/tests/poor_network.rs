//! Sync over a poor network ([`NetSim`]: bandwidth, latency and cuts on the
//! client's link; the watching peer is on a perfect one). Behaviour only: no
//! test here asserts how long anything took (`cargo xtask bench netsim` reports
//! the figures at full size).
//!
//! - Pending edits made offline reach the server over 64 kbit/s with 600 ms
//!   round trips, one message per edit (an outbox replay) or all in the
//!   SyncStep2 of a normal reconnect: every edit arrives exactly once and is
//!   acknowledged.
//! - A client typing while its connection is cut about every second reconnects
//!   and resyncs each time: at the end every token is there exactly once.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use xieshang_tests::netsim::{LinkSpec, NetSim};
use xieshang_tests::text::occurrences;
use xieshang_tests::{Backend, Flush, TestClient, TestServer};

fn slow_link() -> LinkSpec {
    LinkSpec::slow(64, Duration::from_millis(600))
}

/// Every marker exactly once in `text`.
fn check_once(tag: &str, text: &str, markers: &[String]) -> Result<()> {
    for m in markers {
        let n = occurrences(text, m);
        ensure!(n == 1, "{tag}: {m} appears {n} times in {text:?}");
    }
    Ok(())
}

async fn pending_edits(outbox: bool) -> Result<()> {
    let tag = if outbox { "outbox" } else { "resync" };
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(2).await?;
    let sim = NetSim::start(server.addr, slow_link()).await?;
    let a_url = sim.url(&server.api.ws_url(c.doc, Some(&c.members[0].token), true));
    let b_url = server.api.ws_url(c.doc, Some(&c.members[1].token), true);
    let mut b = TestClient::new("B(watching)");
    b.connect(&b_url).await?;

    // A edits offline: 100 edits, held.
    let mut a = TestClient::new("A(slow link)");
    let markers: Vec<String> = (0..100).map(|i| format!("[p{i}]")).collect();
    for m in &markers {
        a.append(m).await?;
    }
    ensure!(a.held_len() == 100, "{tag}: {} held edits", a.held_len());

    if outbox {
        a.connect_holding_back(&a_url).await?;
        let mut rng = rand::thread_rng();
        let sent = a.flush_held(Flush::InOrder, &mut rng).await?;
        ensure!(sent == 100, "{tag}: flushed {sent} messages");
    } else {
        a.connect(&a_url).await?;
    }
    a.wait_all_acked().await?;
    ensure!(
        a.durable_count() == 100,
        "{tag}: {} of 100 edits acknowledged",
        a.durable_count()
    );
    b.wait_text(&a.text()).await?;
    check_once(tag, &b.text(), &markers)?;
    let stats = sim.stats();
    ensure!(stats.bytes_up > 0 && stats.cuts == 0, "{tag}: {stats:?}");
    Ok(())
}

#[tokio::test]
async fn pending_edits_one_message_each_arrive_exactly_once_over_a_slow_link() -> Result<()> {
    pending_edits(true).await
}

#[tokio::test]
async fn pending_edits_in_a_resync_arrive_exactly_once_over_a_slow_link() -> Result<()> {
    pending_edits(false).await
}

/// Connects, retrying while the link cuts handshakes short.
async fn reconnect(a: &mut TestClient, url: &str) -> Result<()> {
    let mut last = None;
    for _ in 0..50 {
        match a.connect(url).await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last
        .context("no attempt")?
        .context("reconnecting through the cut link"))
}

#[tokio::test]
async fn cuts_every_second_during_sync_lose_and_duplicate_nothing() -> Result<()> {
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(2).await?;
    let spec = LinkSpec {
        cut_every: Some((Duration::from_millis(700), Duration::from_millis(1300))),
        ..LinkSpec::slow(256, Duration::from_millis(100))
    };
    let sim = NetSim::start(server.addr, spec).await?;
    let a_url = sim.url(&server.api.ws_url(c.doc, Some(&c.members[0].token), true));
    let b_url = server.api.ws_url(c.doc, Some(&c.members[1].token), true);
    let mut b = TestClient::new("B(watching)");
    b.connect(&b_url).await?;

    let mut a = TestClient::new("A(cut link)");
    reconnect(&mut a, &a_url).await?;
    let markers: Vec<String> = (0..80).map(|i| format!("[c{i}]")).collect();
    for m in &markers {
        a.append(m).await?; // sent if connected, else held for the next resync
                            // A read or write that fails mid-cut means the link died: resync.
        if a.pump().await.is_err() || !a.is_connected() {
            reconnect(&mut a, &a_url).await?;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Stop cutting; one last resync carries whatever a cut swallowed.
    let cuts = sim.stats().cuts;
    sim.set_spec(LinkSpec {
        cut_every: None,
        ..sim.spec()
    });
    reconnect(&mut a, &a_url).await?;
    a.wait_all_acked().await?;
    b.wait_text(&a.text()).await?;
    check_once("cuts", &b.text(), &markers)?;
    ensure!(
        cuts >= 1,
        "the link was never cut while typing ({:?})",
        sim.stats()
    );
    Ok(())
}
