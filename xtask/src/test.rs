//! `cargo xtask test`: what CI runs on a fresh clone (`.ci/run`).
//!
//! Order: cheap checks first, builds next, PostgreSQL only around the tests.
//! Checks that fail do not stop the later ones, so one run reports everything;
//! the command fails if any did.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::postgres::TempPostgres;
use crate::sh::{self, Workspace};
use crate::{client, fuzz, tools};

/// Runs everything; `extra` goes to `cargo test --workspace` (a filter, `-- --nocapture`…).
pub fn run(ws: &Workspace, extra: &[String]) -> Result<()> {
    let mut failed: Vec<&str> = Vec::new();

    sh::step("cargo fmt --check (workspace, xtask, fuzz)");
    for manifest in ["Cargo.toml", "xtask/Cargo.toml", "fuzz/Cargo.toml"] {
        let checked = sh::run(ws.cargo().args([
            "fmt",
            "--manifest-path",
            manifest,
            "--all",
            "--",
            "--check",
        ]));
        if let Err(e) = checked {
            eprintln!("{e:#}");
            failed.push("cargo fmt --check");
        }
    }

    let client_tools = tools::client_tools(ws)?;
    tools::test_packages(ws)?;
    let pg_bin = tools::ensure_postgres()?;

    // The served client, as it ships: the browser tests run against it.
    let assets = client::build(ws, &client_tools)?;
    client::print_sizes(&assets);

    sh::step("server (debug binary for the crash-safety tests)");
    sh::run(ws.cargo().args(["build", "-p", "xieshang-server"]))?;
    let bin = ws.target_dir.join("debug").join("xieshang");
    if !bin.is_file() {
        bail!("{} was not built", bin.display());
    }

    sh::step("cargo clippy");
    if let Err(e) = sh::run(ws.cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])) {
        eprintln!("{e:#}");
        failed.push("cargo clippy");
    }
    // xtask is a workspace of its own.
    if let Err(e) = sh::run(ws.cargo().args([
        "clippy",
        "--manifest-path",
        "xtask/Cargo.toml",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])) {
        eprintln!("{e:#}");
        failed.push("cargo clippy (xtask)");
    }

    sh::step("postgresql (throwaway cluster)");
    let pg = TempPostgres::start(&pg_bin)?;

    sh::step("cargo test");
    println!("XIESHANG_BIN={}", bin.display());
    println!("XIESHANG_TEST_DATABASE_URL={}", pg.url());
    let tested = sh::run(
        ws.cargo()
            .args(["test", "--workspace"])
            .args(extra)
            .env("XIESHANG_BIN", &bin)
            .env("XIESHANG_TEST_DATABASE_URL", pg.url()),
    );
    if let Err(e) = tested {
        eprintln!("{e:#}");
        failed.push("cargo test");
    }

    sh::step("stopping postgresql");
    pg.stop()?;

    if let Err(e) = crate::wasm_test::run(ws, Some(&bin)) {
        eprintln!("{e:#}");
        failed.push("client browser tests (wasm-bindgen-test)");
    }

    if let Err(e) = crate::e2e::run(ws, &bin) {
        eprintln!("{e:#}");
        failed.push("browser tests (tests/e2e)");
    }

    if let Some(secs) = std::env::var("XIESHANG_FUZZ_SECS")
        .ok()
        .filter(|s| !s.is_empty())
    {
        let secs: u64 = secs
            .parse()
            .with_context(|| format!("XIESHANG_FUZZ_SECS={secs:?} is not a number"))?;
        if let Err(e) = fuzz::run(ws, secs) {
            eprintln!("{e:#}");
            failed.push("cargo fuzz");
        }
    }

    if failed.is_empty() {
        println!("\nxtask test: all passed");
        Ok(())
    } else {
        bail!("failed: {}", failed.join(", "))
    }
}

/// `cargo xtask postgres [cmd…]`: one command against a throwaway cluster (e.g.
/// a single PostgreSQL test: `cargo xtask postgres cargo test -p xieshang-tests pg`).
pub fn with_postgres(cmd: &[String]) -> Result<()> {
    let pg_bin = tools::ensure_postgres()?;
    sh::step("postgresql (throwaway cluster)");
    let pg = TempPostgres::start(&pg_bin)?;
    let mut command = match cmd.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
        None => {
            let mut c = Command::new(pg_bin.join("psql"));
            c.args([pg.url().as_str(), "-c", "select version()"]);
            c
        }
    };
    let result = sh::run(command.env("XIESHANG_TEST_DATABASE_URL", pg.url()));
    sh::step("stopping postgresql");
    pg.stop()?;
    result
}
