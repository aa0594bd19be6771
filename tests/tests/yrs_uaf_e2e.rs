//! The update that made yrs 0.28.1 free a live item (patches/README.md), sent
//! by a stock Yjs peer (tests/node/crafted.mjs) to the real `xieshang`
//! process after it wrote a title and a body: the server refuses it and
//! closes that socket, stays up, the document reads back as written, and the
//! other members go on syncing.
//!
//! Skipped with a notice when `node` or tests/node/node_modules is missing
//! (`cargo xtask test` installs both).

use std::process::Stdio;

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use xieshang_tests::{Backend, ServerProcess, TestClient};

const BODY: &str = "一、增加夜间停车位。\n二、错峰开放机关停车场。\n";

#[tokio::test]
async fn crafted_update_from_a_stock_peer_leaves_the_process_and_document_intact() -> Result<()> {
    let Some(node_dir) = xieshang_tests::stock_yjs_dir("yrs_uaf_e2e") else {
        return Ok(());
    };
    let server = ServerProcess::start(&Backend::Sqlite).await?;
    let c = server.committee(3).await?;
    let api = &server.api;

    // Two other members, connected throughout.
    let mut b = TestClient::new("B");
    b.connect(&api.ws_url(c.doc, Some(&c.members[1].token), true))
        .await?;
    let mut d = TestClient::new("D");
    d.connect(&api.ws_url(c.doc, Some(&c.members[2].token), true))
        .await?;

    let out = Command::new("node")
        .arg(node_dir.join("crafted.mjs"))
        .arg(api.base())
        .arg(c.doc.to_string())
        .arg(&c.members[0].token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("spawning node")?;
    let mut out = out;
    let mut lines = BufReader::new(out.stdout.take().context("stdout")?).lines();
    let line = tokio::time::timeout(xieshang_tests::WAIT, lines.next_line())
        .await
        .context("node gave no result")??
        .context("node exited without a result")?;
    let result: Value = match line.split_once(' ') {
        Some(("result", json)) => serde_json::from_str(json)?,
        _ => bail!("node failed: {line}\nserver log:\n{}", server.log_tail()),
    };
    // 1007 (invalid payload): the update was refused as malformed.
    let code = result["closed"].as_u64().context("no close code")?;
    ensure!(code == 1007, "expected close code 1007, got {code}");

    // The process is up and the document reads back as the stock peer wrote it.
    ensure!(
        api.healthy().await,
        "server down; log:\n{}",
        server.log_tail()
    );
    let doc = api.doc(&c.members[1], c.doc).await?;
    ensure!(
        doc["content"]["body"] == BODY,
        "body after the attack: {}",
        doc["content"]["body"]
    );
    ensure!(
        doc["content"]["title"] == "关于城关街道停车难的建议",
        "title after the attack: {}",
        doc["content"]["title"]
    );
    ensure!(
        server.log_tail().contains("rejected update"),
        "the refusal is not logged:\n{}",
        server.log_tail()
    );

    // The others keep syncing: B's edit reaches D, and storage.
    b.wait_text(BODY).await?;
    let n = BODY.chars().count() as u32;
    b.insert(n, "三、B 的补充。\n").await?;
    b.wait_all_acked().await?;
    let want = format!("{BODY}三、B 的补充。\n");
    d.wait_text(&want).await?;
    ensure!(api.draft_body(&c.members[2], c.doc).await? == want);
    let status = out.wait().await?;
    ensure!(status.success(), "node exited with {status}");
    Ok(())
}
