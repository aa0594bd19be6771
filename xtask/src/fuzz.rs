//! `cargo xtask fuzz [secs]`: libFuzzer on everything the server reads after
//! applying a member's bytes (fuzz/fuzz_targets/decode_apply.rs, which calls
//! `xieshang_server::fuzzing::exercise`), and `cargo xtask sanitize`: the
//! patched yrs's own regression tests and every committed fuzz input under
//! AddressSanitizer. Both need the nightly toolchain; see fuzz/README.md.

use std::process::Command;

use anyhow::Result;

use crate::sh::{self, Workspace};

/// The fuzz target every run exercises.
const TARGET: &str = "decode_apply";

/// Seconds one input may run before libFuzzer reports it as a hang and saves it
/// as `fuzz/artifacts/decode_apply/timeout-*`. libFuzzer's default (1200 s) let
/// an input that looped forever in yrs stall a run for half an hour unsaved;
/// the slowest corpus input takes well under a second.
const TIMEOUT_SECS: u64 = 10;

/// Fuzzes for `secs` seconds, growing `fuzz/corpus/decode_apply`; skipped (with
/// a note) without nightly. A crash input (or a hang: one input running longer
/// than [`TIMEOUT_SECS`]) lands in `fuzz/artifacts/`: copy it to
/// `fuzz/regressions/decode_apply/` once fixed, so `cargo xtask test` replays it.
pub fn run(ws: &Workspace, secs: u64) -> Result<()> {
    sh::step(&format!("fuzz {TARGET} for {secs} s"));
    if !ensure_cargo_fuzz()? {
        return Ok(());
    }
    let corpus = format!("corpus/{TARGET}");
    sh::run(
        fuzz_cmd(ws)
            .args(["fuzz", "run", TARGET, &corpus, "--"])
            .arg(format!("-max_total_time={secs}"))
            .arg(format!("-timeout={TIMEOUT_SECS}"))
            .arg("-print_final_stats=1"),
    )
}

/// `cargo xtask sanitize`: ASan over the patched crate's regression tests, then
/// every regression and corpus input run once through the ASan fuzz build.
pub fn sanitize(ws: &Workspace) -> Result<()> {
    if !ensure_cargo_fuzz()? {
        return Ok(());
    }
    sh::step("patched yrs: its regression tests under AddressSanitizer");
    sh::run(
        Command::new("cargo")
            .args(["+nightly", "test", "--lib", "--target", host()])
            .arg("--manifest-path")
            .arg(ws.root.join(".patched/yrs-0.28.1/Cargo.toml"))
            // The test modules the patches add (patches/README.md).
            .args([
                "--",
                "overlapping_sections",
                "strings_in_arrays",
                "neighbour_parent_sub",
            ])
            .env("RUSTFLAGS", "-Zsanitizer=address")
            .env("RUSTDOCFLAGS", "-Zsanitizer=address")
            .env("CARGO_TARGET_DIR", ws.target_dir.join("asan")),
    )?;
    sh::step("fuzz regressions and corpus, once each, under AddressSanitizer");
    sh::run(fuzz_cmd(ws).args([
        "fuzz",
        "run",
        TARGET,
        &format!("regressions/{TARGET}"),
        &format!("corpus/{TARGET}"),
        "--",
        "-runs=0",
        &format!("-timeout={TIMEOUT_SECS}"),
    ]))
}

fn host() -> &'static str {
    "x86_64-unknown-linux-gnu"
}

/// `cargo +nightly` in `fuzz/`, with a target directory of its own (sanitizer
/// flags and nightly would evict the stable builds).
fn fuzz_cmd(ws: &Workspace) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly")
        .current_dir(ws.root.join("fuzz"))
        .env("CARGO_TARGET_DIR", ws.target_dir.join("fuzz"));
    cmd
}

/// Whether nightly and cargo-fuzz are there (cargo-fuzz is installed from
/// crates.io if missing); false, with a note, without nightly.
fn ensure_cargo_fuzz() -> Result<bool> {
    if sh::probe(Command::new("cargo").args(["+nightly", "--version"])).is_none() {
        println!("no nightly toolchain (`cargo +nightly`): skipped");
        return Ok(false);
    }
    if sh::probe(Command::new("cargo").args(["+nightly", "fuzz", "--version"])).is_none() {
        sh::run(
            Command::new("cargo")
                .args(["install", "cargo-fuzz", "--locked"])
                .env_remove("CARGO_TARGET_DIR"),
        )?;
    }
    Ok(true)
}
