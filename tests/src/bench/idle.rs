//! W4 memory: 1,000 idle clients over 100 documents; the server's resident set
//! (`VmRSS`) before the clients connect and after all have synced, divided by
//! the number of connections. The documents are created before the first
//! reading, so what is measured is what connections (and the documents they
//! opened) cost.

use std::time::Duration;

use anyhow::Result;
use futures_util::{stream, StreamExt};

use super::wire;
use super::{report, rss_bytes, Target};

/// Connections opened at once while setting up.
const CONCURRENT: usize = 32;

/// Runs W4 against the server whose process id is `pid`.
pub async fn run(target: &Target, pid: u32, clients: usize, docs: usize) -> Result<()> {
    let refs = target.new_docs("w4", docs).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_bytes(pid)?;
    let urls: Vec<String> = (0..clients)
        .map(|i| target.url(&refs[i % refs.len()], false))
        .collect();
    let conns: Vec<Result<wire::Ws>> = stream::iter(urls)
        .map(|url| async move {
            let mut ws = wire::connect_plain(&url).await?;
            wire::sync_doc(&mut ws, &xieshang_shared::schema::new_doc(), false).await?;
            Ok(ws)
        })
        .buffer_unordered(CONCURRENT)
        .collect()
        .await;
    let mut open = Vec::with_capacity(clients);
    for c in conns {
        open.push(c?);
    }
    // Let the server settle (answers written, buffers returned) before reading.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_bytes(pid)?;
    let per_conn = after.saturating_sub(before) as f64 / clients as f64 / 1024.0;
    report("w4_kb_per_conn", per_conn, "KB", true);
    report(
        "w4_rss_idle_mb",
        before as f64 / (1 << 20) as f64,
        "MB",
        true,
    );
    report(
        "w4_rss_loaded_mb",
        after as f64 / (1 << 20) as f64,
        "MB",
        true,
    );
    drop(open);
    Ok(())
}
