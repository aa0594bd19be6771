//! `cargo xtask build | run | test | fuzz`: the project's commands, doing all
//! setup on a fresh machine (tools from package registries only).
//!
//! # Layout
//! - [`sh`]: the workspace's paths and running commands (each printed first).
//! - [`tools`]: idempotent installs: the wasm target, wasm-bindgen-cli at the
//!   Cargo.lock version, wasm-opt from npm, Node packages, PostgreSQL, Chromium.
//! - [`client`]: the wasm client into `client/dist` (hashed names, `.gz`/`.br`).
//! - [`postgres`]: a throwaway PostgreSQL cluster for the tests.
//! - [`test`]: everything CI runs.
//! - [`patches`]: crates with the project's fixes (yrs), into `.patched/`.
//! - [`fuzz`]: `cargo +nightly fuzz` on the decoder, when nightly exists.
//! - [`bench`]: `cargo xtask bench`, the side-by-side benchmarks (issue 5).

mod bench;
mod client;
mod e2e;
mod fuzz;
mod patches;
mod postgres;
mod sh;
mod test;
mod tools;
mod wasm_test;

use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::sh::Workspace;

const USAGE: &str = "\
usage: cargo xtask <command> [args…]

commands:
  prepare        unpack crates.io releases with the project's patches into .patched/
                 (every command does this first; a plain `cargo build` needs it once)
  build          client (wasm, optimised, precompressed) into client/dist, then
                 target/release/xieshang with the client embedded
  run [args…]    build, then `xieshang serve --demo --data ./data [args…]`
  test [args…]   install tools, build, fmt --check, clippy, `cargo test --workspace [args…]`
                 against a throwaway PostgreSQL (fuzzes too when XIESHANG_FUZZ_SECS is set)
  fuzz [secs]    `cargo +nightly fuzz run decode_apply` for secs seconds (default 60),
                 growing fuzz/corpus/decode_apply (fuzz/README.md)
  sanitize       nightly AddressSanitizer: the patched yrs's regression tests, then
                 every fuzz regression and corpus input once
  bench [netsim] [--only w1,…,w6,netsim] [--servers xieshang,y-sweet,yws] [--quick]
                 xieshang vs y-sweet vs the reference y-websocket server (issue 5);
                 writes BENCHMARKS.md after a full run
  postgres [cmd…]
                 run cmd (default: psql -c 'select version()') with
                 XIESHANG_TEST_DATABASE_URL set to a throwaway PostgreSQL cluster
";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("prepare") => {
            Workspace::locate()?;
        }
        Some("build") => {
            let ws = Workspace::locate()?;
            build(&ws)?;
        }
        Some("run") => {
            let ws = Workspace::locate()?;
            let server = build(&ws)?;
            return serve(&ws, &server, &rest);
        }
        Some("test") => {
            let ws = Workspace::locate()?;
            test::run(&ws, &rest)?;
        }
        Some("fuzz") => {
            let ws = Workspace::locate()?;
            let secs = match rest.first() {
                Some(s) => s
                    .parse()
                    .with_context(|| format!("fuzz: {s:?} is not a number of seconds"))?,
                None => 60,
            };
            fuzz::run(&ws, secs)?;
        }
        Some("sanitize") => {
            let ws = Workspace::locate()?;
            fuzz::sanitize(&ws)?;
        }
        Some("bench") => {
            let ws = Workspace::locate()?;
            bench::run(&ws, &rest)?;
        }
        Some("postgres") => {
            let _ws = Workspace::locate()?;
            test::with_postgres(&rest)?;
        }
        None | Some("help" | "-h" | "--help") => print!("{USAGE}"),
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask build`: the optimised client, then the release server that embeds
/// it. Returns the server binary.
fn build(ws: &Workspace) -> Result<std::path::PathBuf> {
    let tools = tools::client_tools(ws)?;
    let assets = client::build(ws, &tools)?;
    client::print_sizes(&assets);
    sh::step("server (release, with the client embedded)");
    sh::run(
        ws.cargo()
            .args(["build", "--release", "-p", "xieshang-server"]),
    )?;
    let server = ws.target_dir.join("release").join("xieshang");
    println!("built {}", server.display());
    Ok(server)
}

/// `cargo xtask run`: serve the demo on SQLite under `./data`. The server takes
/// this process's place, so Ctrl-C reaches it alone and it shuts down cleanly.
fn serve(ws: &Workspace, server: &std::path::Path, extra: &[String]) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;

    sh::step("serve --demo");
    // `cargo xtask run -- --addr …`: the alias already ends in `--`.
    let extra = match extra.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => extra,
    };
    let mut cmd = std::process::Command::new(server);
    cmd.current_dir(&ws.root).args(["serve", "--demo"]);
    if !extra
        .iter()
        .any(|a| a == "--data" || a.starts_with("--data="))
    {
        cmd.args(["--data", "./data"]);
    }
    cmd.args(extra);
    sh::echo(&cmd);
    let err = cmd.exec();
    Err(err).with_context(|| format!("starting {}", server.display()))
}
