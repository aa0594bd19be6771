//! Test fixtures for Xieshang: a real server (in-process or the real binary),
//! real storage (a SQLite file, or a throwaway PostgreSQL database) and real
//! WebSocket peers that speak the y-websocket protocol with native yrs.
//!
//! Nothing here is a mock: every test talks to the server over 127.0.0.1 on a
//! port the OS picked, and every update goes through the server's storage.
//!
//! # Layout
//! - [`server`]: [`TestServer`], the server started in this process on port 0,
//!   over [`Backend::Sqlite`] (a temp dir) or [`Backend::Postgres`].
//! - [`pg`]: one fresh PostgreSQL database per test from `XIESHANG_TEST_DATABASE_URL`.
//! - [`process`]: [`ServerProcess`], the real `xieshang` binary that tests kill
//!   with SIGKILL and restart on the same data.
//! - [`api`]: the JSON API as tests use it: log in, create topics, read documents;
//!   [`Committee`] sets up staff, members and a topic in one call.
//! - [`client`]: [`TestClient`], a native yrs peer on a WebSocket that counts
//!   durability acknowledgements and can hold its updates back (offline).
//! - [`records`]: the canonical-records API (versions, sign-offs, finalize, export).
//! - [`text`]: edits that keep markers whole, UTF-16 offsets, marker bookkeeping.
//! - [`wait`]: polling a condition with a deadline (tests never sleep "long enough").
//! - [`netsim`]: a poor network (bandwidth, latency, cuts) as a proxy on 127.0.0.1.
//!
//! # Environment
//! - `XIESHANG_TEST_DATABASE_URL`: a PostgreSQL cluster; storage tests then also
//!   run there, each in a database of its own (skipped with a notice when unset).
//! - `CI`: when set (not empty), a test part whose dependency is missing (the
//!   PostgreSQL cluster, `node` and tests/node/node_modules, LibreOffice and
//!   pdftotext) fails instead of skipping; see [`skip_or_fail`].
//! - `XIESHANG_BIN`: the `xieshang` binary for the crash tests (else the
//!   workspace's debug build, rebuilt first with `cargo build`).
//! - `XS_SEED`: replay a test's random choices (each test prints its seed);
//!   `XS_CRASH_ROUNDS`: SIGKILL rounds of the crash tests (default 20).

pub mod api;
pub mod client;
pub mod netsim;
pub mod node;
pub mod pg;
pub mod process;
pub mod records;
pub mod server;
pub mod text;
pub mod wait;

pub use api::{Api, Committee, Session};
pub use client::{CloseInfo, Flush, TestClient};
pub use process::ServerProcess;
pub use server::{Backend, TestServer};

/// How long any single wait in a test may take before it counts as a failure.
/// Generous, because a failure should mean "never", not "slow on 2 busy cores".
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The password every test user gets; tests are about sync, not passwords.
pub const PASSWORD: &str = "correct horse battery staple";

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// A seed for a test's random choices: `XS_SEED` if set (to replay a failure),
/// else `default`. Printed, so a failing run can be replayed.
pub fn seed(test: &str, default: u64) -> u64 {
    let seed = std::env::var("XS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    println!("[{test}] seed {seed} (set XS_SEED={seed} to replay)");
    seed
}

/// Whether this run must not skip anything: the environment variable `CI` is
/// set and not empty (as GitHub Actions and GitLab CI set it).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The one decision for a test part whose dependency is missing: under CI
/// ([`in_ci`]) the test panics, naming the dependency and how to get it, so a
/// green CI run means every part ran; elsewhere it prints a SKIPPED notice and
/// the caller skips that part. `part` says what is skipped ("PostgreSQL part"),
/// `missing` what is missing and how to get it.
pub fn skip_or_fail(test: &str, part: &str, missing: &str) {
    if in_ci() {
        panic!(
            "[{test}] {part} cannot run and CI is set, so this is a failure, not a skip: {missing}"
        );
    }
    println!("[{test}] {part} SKIPPED: {missing} (with CI set this fails)");
}

/// `tests/node`, where the stock Yjs peers live, if `node` runs and its
/// packages are installed (`npm ci` there; `cargo xtask test` does it). Else
/// [`skip_or_fail`]: `None` (the caller skips its stock Yjs part), or a panic under CI.
pub fn stock_yjs_dir(test: &str) -> Option<std::path::PathBuf> {
    let dir = workspace_root().join("tests").join("node");
    let installed = dir.join("node_modules").join("y-websocket").is_dir();
    let node = std::process::Command::new("node")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed && node {
        return Some(dir);
    }
    let missing = if node {
        "tests/node/node_modules is missing (run `npm ci` in tests/node; `cargo xtask test` does it)"
    } else {
        "`node` does not run (not on PATH; install Node.js, e.g. `apt-get install nodejs npm`)"
    };
    skip_or_fail(test, "stock Yjs part", missing);
    None
}
