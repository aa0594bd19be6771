//! The client's browser tests (wasm-bindgen-test in headless Chromium):
//! `cargo test -p xieshang-client --target wasm32-unknown-unknown --lib --test '*'`.
//!
//! Installs what they need (Chromium and its driver from Debian, and
//! `wasm-bindgen-test-runner` at the Cargo.lock version of wasm-bindgen), and,
//! given the server binary, starts `xieshang serve --demo` on a free port with
//! a throwaway data directory, signs in a demo staff member and hands the
//! tests an origin, a token and a draft to sync against (as build-time
//! variables, since a wasm test cannot read the environment). Without a
//! server the sync-against-a-server test reports that it was skipped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sh::{self, Workspace};
use crate::tools;

/// A demo staff account (`xieshang serve --demo`), who may open every draft.
const DEMO_USER: &str = "zhou.min";
const DEMO_PASSWORD: &str = "demo1234";

/// Runs the client's wasm tests; `server_bin` is a built `xieshang` binary.
pub fn run(ws: &Workspace, server_bin: Option<&Path>) -> Result<()> {
    sh::step("client browser tests (wasm-bindgen-test, headless Chromium)");
    tools::ensure_chromium()?;
    ensure_test_runner(ws)?;
    // The test page comes from the runner's own server, another origin than the
    // sync server's: fix the runner's address so the sync server can allow it
    // (it refuses sockets from origins it was not told about).
    let runner = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let server = match server_bin {
        Some(bin) => match DemoServer::start(ws, bin, runner) {
            Ok(server) => Some(server),
            Err(e) => {
                eprintln!("no sync server for the browser tests ({e:#}); that test is skipped");
                None
            }
        },
        None => None,
    };
    let mut cmd = ws.cargo();
    // The client's test targets are off by default (so native `cargo test
    // --workspace` skips leptos): select them explicitly.
    cmd.args([
        "test",
        "-p",
        "xieshang-client",
        "--target",
        "wasm32-unknown-unknown",
        "--lib",
        "--test",
        "*",
    ])
    .env("CHROMEDRIVER", tools::CHROMEDRIVER)
    .env(
        "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
        ws.root.join("client/webdriver.json"),
    )
    .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
    .env("WASM_BINDGEN_TEST_ADDRESS", runner.to_string());
    if let Some(s) = &server {
        cmd.env("XIESHANG_WASM_SYNC_ORIGIN", format!("http://{}", s.addr))
            .env("XIESHANG_WASM_SYNC_TOKEN", &s.token)
            .env("XIESHANG_WASM_SYNC_DOC", &s.doc);
    }
    let result = sh::run(&mut cmd);
    drop(server);
    result
}

/// `wasm-bindgen-test-runner` comes with wasm-bindgen-cli, which must match
/// the wasm-bindgen of Cargo.lock exactly.
fn ensure_test_runner(ws: &Workspace) -> Result<()> {
    let version = tools::locked_wasm_bindgen_version(&ws.root)?;
    let have = sh::probe(Command::new("wasm-bindgen-test-runner").arg("--version"));
    if have.as_deref().is_some_and(|v| v.contains(&version)) {
        println!("wasm-bindgen-test-runner {version}: installed");
        return Ok(());
    }
    // Without --locked: the CLI's own lock names a crate version crates.io lacks.
    sh::run(
        ws.cargo()
            .args(["install", "wasm-bindgen-cli", "--version", &version]),
    )
}

/// `xieshang serve --demo` on a free port, stopped (and its data removed) on drop.
struct DemoServer {
    child: Child,
    data: PathBuf,
    addr: SocketAddr,
    token: String,
    /// The draft the browser tests sync (a document id, UUID text).
    doc: String,
}

impl DemoServer {
    fn start(ws: &Workspace, bin: &Path, page: SocketAddr) -> Result<DemoServer> {
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let data = ws
            .target_dir
            .join(format!("wasm-test-data-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--demo", "--addr", &addr.to_string()])
            .args(["--allowed-origin", &format!("http://{page}")])
            .arg("--data")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        sh::echo(&cmd);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = DemoServer {
            child,
            data,
            addr,
            token: String::new(),
            doc: String::new(),
        };
        server.wait_healthy()?;
        let login = format!(r#"{{"username":"{DEMO_USER}","password":"{DEMO_PASSWORD}"}}"#);
        let (status, body) = http(addr, "POST", "/api/session", None, Some(&login))?;
        if status != 200 {
            bail!("demo sign-in answered {status}: {body}");
        }
        server.token = json_string(&body, "token").context("no token in the sign-in answer")?;
        let (status, body) = http(addr, "GET", "/api/topics", Some(&server.token), None)?;
        if status != 200 {
            bail!("GET /api/topics answered {status}");
        }
        server.doc = json_string(&body, "draft_doc").context("no demo topic with a draft")?;
        println!(
            "sync server for the browser tests: http://{addr}, draft {}",
            server.doc
        );
        Ok(server)
    }

    fn wait_healthy(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited early ({status})");
            }
            if matches!(http(self.addr, "GET", "/healthz", None, None), Ok((200, _))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("the server did not become healthy within 60 s")
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// One HTTP/1.0 request (no chunked answers), returning status and body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{auth}\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status line")?;
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

/// The first `"key":"value"` string in a JSON text (tokens need no unescaping).
fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let len = json[start..].find('"')?;
    Some(json[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn finds_fields_in_compact_json() {
        let json = r#"{"token":"abc.def","user":{"id":3}}"#;
        assert_eq!(json_string(json, "token").as_deref(), Some("abc.def"));
        let topics = r#"[{"id":1,"draft_doc":"0190b7e0-7a1c-7d4e-8f00-1234567890ab"}]"#;
        assert_eq!(
            json_string(topics, "draft_doc").as_deref(),
            Some("0190b7e0-7a1c-7d4e-8f00-1234567890ab")
        );
        assert_eq!(json_string("{}", "draft_doc"), None);
    }
}
