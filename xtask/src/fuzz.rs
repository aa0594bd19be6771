//! `cargo xtask fuzz [secs]`: libFuzzer on the decode-and-apply path
//! (fuzz/fuzz_targets/decode_apply.rs), which needs a nightly toolchain.

use std::process::Command;

use anyhow::Result;

use crate::sh::{self, Workspace};

/// The fuzz target every run exercises.
const TARGET: &str = "decode_apply";

/// Fuzzes for `secs` seconds; skipped (with a note) without nightly or a fuzz crate.
pub fn run(ws: &Workspace, secs: u64) -> Result<()> {
    sh::step(&format!("fuzz {TARGET} for {secs} s"));
    let fuzz_dir = ws.root.join("fuzz");
    if !fuzz_dir.join("Cargo.toml").is_file() {
        println!("no fuzz/Cargo.toml: skipped");
        return Ok(());
    }
    if !has_nightly() {
        println!("no nightly toolchain (`cargo +nightly`): skipped");
        return Ok(());
    }
    if sh::probe(Command::new("cargo").args(["+nightly", "fuzz", "--version"])).is_none() {
        sh::run(
            Command::new("cargo")
                .args(["install", "cargo-fuzz"])
                .env_remove("CARGO_TARGET_DIR"),
        )?;
    }
    sh::run(
        Command::new("cargo")
            .args(["+nightly", "fuzz", "run", TARGET, "--"])
            .arg(format!("-max_total_time={secs}"))
            .current_dir(&fuzz_dir)
            // Its own directory: sanitizer flags and nightly would evict our builds.
            .env("CARGO_TARGET_DIR", ws.target_dir.join("fuzz")),
    )
}

/// Whether `cargo +nightly` works (rustup with a nightly toolchain).
fn has_nightly() -> bool {
    sh::probe(Command::new("cargo").args(["+nightly", "--version"])).is_some()
}
