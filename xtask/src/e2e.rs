//! The browser tests (`tests/e2e`): the server binary serving the built client,
//! driven in headless Debian Chromium by playwright-core under `node --test`.
//!
//! Needs: `client/dist` (the client build, done earlier in `cargo xtask test`),
//! the server binary (`bin`, given to the tests as `XIESHANG_BIN`), Node ≥ 20 with
//! npm, and `/usr/bin/chromium` (installed from Debian here when missing;
//! playwright's own browser download does not work on these machines).
//! Screenshots and downloads land in `<target>/e2e-artifacts/`.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::sh::{self, Workspace};
use crate::tools;

/// Runs every `tests/e2e/*.test.mjs` against `bin`; fails if any test does.
pub fn run(ws: &Workspace, bin: &Path) -> Result<()> {
    sh::step("browser tests (tests/e2e, headless Chromium)");
    let dir = ws.root.join("tests/e2e");
    let index = ws.root.join("client/dist/index.html");
    if !index.is_file() {
        bail!(
            "{} is missing: the browser tests need the built client",
            index.display()
        );
    }
    if !bin.is_file() {
        bail!("{} is missing: build the server first", bin.display());
    }
    ensure_node()?;
    tools::ensure_chromium()?;
    npm_ci(&dir)?;

    // This run's screenshots and downloads only.
    let artifacts = ws.target_dir.join("e2e-artifacts");
    if artifacts.is_dir() {
        std::fs::remove_dir_all(&artifacts)
            .with_context(|| format!("clearing {}", artifacts.display()))?;
    }
    println!("XIESHANG_BIN={}", bin.display());
    println!("artifacts: {}", artifacts.display());
    let result = sh::run(
        Command::new("node")
            .args(["--test", "--test-concurrency=1", "tests/e2e/"])
            .current_dir(&ws.root)
            .env("XIESHANG_BIN", bin)
            .env("CARGO_TARGET_DIR", &ws.target_dir)
            .env("XIESHANG_CHROMIUM", tools::CHROMIUM),
    );
    list_artifacts(&artifacts);
    result.context("browser tests failed")
}

/// Node ≥ 20 (playwright-core's minimum) and npm, from Debian if absent.
fn ensure_node() -> Result<()> {
    if sh::probe(Command::new("npm").arg("--version")).is_none() {
        tools::apt_install(&["nodejs", "npm"])?;
    }
    let version = sh::probe(Command::new("node").arg("--version")).unwrap_or_default();
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        bail!(
            "the browser tests need Node.js 20 or newer (found {:?})",
            version.trim()
        );
    }
    println!("node {}: ok", version.trim());
    Ok(())
}

/// `npm ci`, skipped when node_modules already holds this exact lock file.
fn npm_ci(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let wanted = std::fs::read(&lock).with_context(|| format!("reading {}", lock.display()))?;
    let stamp = dir.join("node_modules/.xieshang-lock");
    if std::fs::read(&stamp).is_ok_and(|have| have == wanted) {
        println!("tests/e2e: node_modules matches package-lock.json");
        return Ok(());
    }
    sh::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir),
    )?;
    std::fs::write(&stamp, &wanted).with_context(|| format!("writing {}", stamp.display()))
}

/// Prints the screenshots and downloads this run left, so the log shows their paths.
fn list_artifacts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("no artifacts in {}", dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in files {
        let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        println!("artifact: {} ({size} bytes)", f.display());
    }
}
