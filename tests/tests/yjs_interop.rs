//! Stock Yjs interoperates unchanged: two `yjs` + `y-websocket` peers in Node
//! (tests/node/interop.mjs) and one native yrs peer edit the same draft at the
//! same time; all three converge, and `GET /api/docs/{id}` returns the merged
//! body. Markers carry CJK and emoji, so UTF-16 offsets are exercised too.
//! Skipped with a notice when `node` or tests/node/node_modules is missing
//! (`npm ci` in tests/node installs it; `cargo xtask test` does that).

use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use xieshang_tests::client::server_state;
use xieshang_tests::text::occurrences;
use xieshang_tests::{Backend, TestClient, TestServer};

const RUST_EDITS: usize = 12;
const JS_EDITS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_yjs_peers_and_native_peer_converge() -> Result<()> {
    let Some(node_dir) = xieshang_tests::stock_yjs_dir("yjs_interop") else {
        return Ok(());
    };
    let seed = xieshang_tests::seed("yjs_interop", 41);
    let mut rng = StdRng::seed_from_u64(seed);
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(2).await?;
    let api = &server.api;

    let mut rust = TestClient::new("rust");
    rust.connect(&api.ws_url(c.doc, Some(&c.members[1].token), true))
        .await?;

    let mut node = Command::new("node")
        .arg(node_dir.join("interop.mjs"))
        .arg(api.base())
        .arg(c.doc.to_string())
        .arg(&c.members[0].token)
        .env("XS_EXPECT_RUST", RUST_EDITS.to_string())
        .env("XS_JS_EDITS", JS_EDITS.to_string())
        .env("XS_SEED", seed.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("spawning node")?;
    let mut lines = BufReader::new(node.stdout.take().context("stdout")?).lines();

    let first = tokio::time::timeout(xieshang_tests::WAIT, lines.next_line())
        .await
        .context("node never got ready")??;
    ensure!(
        first.as_deref() == Some("ready"),
        "node said {first:?} instead of ready"
    );

    // The native peer edits while the JS peers do.
    for i in 0..RUST_EDITS {
        rust.insert_marker(&mut rng, &format!("[rs{i}]")).await?;
        rust.pump().await?;
        tokio::time::sleep(Duration::from_millis(8)).await;
    }
    rust.wait_all_acked().await?;

    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .context("node gave no result")??
        .context("node exited without a result")?;
    let status = tokio::time::timeout(xieshang_tests::WAIT, node.wait()).await??;
    let js_text = match line.split_once(' ') {
        Some(("result", json)) => {
            let v: serde_json::Value = serde_json::from_str(json)?;
            v["text"]
                .as_str()
                .context("result without text")?
                .to_string()
        }
        _ => bail!("node failed ({status}): {line}"),
    };
    ensure!(status.success(), "node exited with {status}");

    rust.wait_text(&js_text).await?;
    let body = api.draft_body(&c.members[0], c.doc).await?;
    ensure!(
        body == js_text,
        "GET /api/docs body {body:?} != merged text {js_text:?}"
    );
    let (fresh, _) = server_state(&api.ws_url(c.doc, Some(&c.staff.token), false)).await?;
    ensure!(fresh == js_text, "a fresh peer sees {fresh:?}");
    let mut markers: Vec<String> = (0..RUST_EDITS).map(|i| format!("[rs{i}]")).collect();
    for p in ["A", "B"] {
        markers.extend((0..JS_EDITS).map(|i| format!("[js{p}{i}é😀]")));
    }
    for m in &markers {
        ensure!(
            occurrences(&js_text, m) == 1,
            "{m} not exactly once in {js_text:?}"
        );
    }
    ensure!(rust.violations().is_empty(), "{:?}", rust.violations());
    println!(
        "[yjs_interop] 2 Yjs peers + 1 yrs peer converged: {} markers, {} UTF-16 units, GET body identical",
        markers.len(),
        js_text.encode_utf16().count()
    );
    rust.disconnect().await;
    server.shutdown().await;
    Ok(())
}
