//! Running the stock Yjs peers of tests/node: one script, its `result {…}` line.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tokio::process::Command;

/// Runs `node <dir>/<script> args…` and answers the JSON of the `result …` line
/// it prints; fails on an `error …` line, a non-zero exit or after `timeout`.
pub async fn run(dir: &Path, script: &str, args: &[String], timeout: Duration) -> Result<Value> {
    let out = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(timeout, out)
        .await
        .with_context(|| format!("{script} did not finish within {timeout:?}"))?
        .with_context(|| format!("spawning node {script}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("result ") || l.starts_with("error "))
        .unwrap_or("");
    match line.split_once(' ') {
        Some(("result", json)) if out.status.success() => {
            serde_json::from_str(json).with_context(|| format!("{script} printed {json}"))
        }
        _ => bail!("{script} failed ({}): {stdout}\n{stderr}", out.status),
    }
}
