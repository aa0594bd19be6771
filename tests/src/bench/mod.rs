//! The load driver behind `cargo xtask bench` (issue 5): one Rust client that
//! speaks the y-websocket protocol to xieshang, y-sweet and the reference Node
//! server alike, so every server is measured by the same instrument.
//!
//! # Layout
//! - this file: [`Target`] (which server, how its documents are named and
//!   opened) and the result lines xtask collects ([`report`], [`note`]).
//! - `wire`: sockets with TCP_NODELAY and byte counters, and the few frames the
//!   driver builds or recognises without a full decode.
//! - `trace`: the B4 editing trace, replayed into one update per operation.
//! - `fanout` (W1), `throughput` (W2, W3), `idle` (W4), `durable` (W5),
//!   `reconnect` (W6), `poor` (the poor-network scenarios through [`crate::netsim`]).
//!
//! The driver never is the bottleneck on purpose: every message a workload sends
//! is encoded before the clock starts, every client is its own task, and
//! receivers recognise the frames they count without decoding them with yrs
//! where the layout allows it.
//!
//! Output: one line per figure, `RESULT\t<key>\t<value>\t<unit>\t<lower|higher>`
//! (which direction is better), and `NOTE\t<text>` for caveats the table must show.

pub mod durable;
pub mod fanout;
pub mod idle;
pub mod poor;
pub mod reconnect;
pub mod throughput;
pub mod trace;
pub mod wire;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Which server the driver talks to: they differ only in how documents are
/// created, named and authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `xieshang serve`: documents are topic drafts, sockets need `?token=`.
    Xieshang,
    /// `y-sweet serve`: documents are created by `POST /doc/new`, and
    /// `POST /doc/{id}/auth` names the socket URL.
    YSweet,
    /// `@y/websocket-server`: the document is the URL path, created on first use.
    Yws,
}

impl Kind {
    /// Parses the name xtask uses (`xieshang`, `y-sweet`, `yws`).
    pub fn parse(s: &str) -> Result<Kind> {
        Ok(match s {
            "xieshang" => Kind::Xieshang,
            "y-sweet" => Kind::YSweet,
            "yws" => Kind::Yws,
            other => bail!("unknown server kind {other:?} (xieshang, y-sweet, yws)"),
        })
    }
}

/// One document on the target server: the socket URL without query options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRef {
    /// How the document is named in a state file (W2 → W3).
    pub name: String,
    /// `ws://127.0.0.1:PORT/…`
    pub url: String,
}

/// The server under test.
pub struct Target {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    http: reqwest::Client,
    /// xieshang: the bearer token of the bench user (staff, so it may open every draft).
    token: Option<String>,
}

impl Target {
    /// Prepares to talk to `base`; for xieshang signs in as `user` / `password`.
    pub async fn new(kind: Kind, base: &str, login: Option<(&str, &str)>) -> Result<Target> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let mut t = Target {
            kind,
            base: base.trim_end_matches('/').to_string(),
            http,
            token: None,
        };
        if kind == Kind::Xieshang {
            let (user, password) = login.context("xieshang needs --user and --password")?;
            let v = t
                .post_json(
                    "/api/session",
                    json!({ "username": user, "password": password }),
                    None,
                )
                .await?;
            let token = v["token"].as_str().context("login answer without token")?;
            t.token = Some(token.to_string());
        }
        Ok(t)
    }

    fn ws_base(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    async fn post_json(&self, path: &str, body: Value, bearer: Option<&str>) -> Result<Value> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.with_context(|| format!("POST {path}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("POST {path} answered {status}: {text}");
        }
        serde_json::from_str(&text).with_context(|| format!("POST {path} answered {text:?}"))
    }

    /// Creates `n` empty documents named after `tag`.
    pub async fn new_docs(&self, tag: &str, n: usize) -> Result<Vec<DocRef>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(self.new_doc(&format!("{tag}-{i}")).await?);
        }
        Ok(out)
    }

    /// Creates one empty document.
    pub async fn new_doc(&self, name: &str) -> Result<DocRef> {
        match self.kind {
            Kind::Xieshang => {
                let v = self
                    .post_json(
                        "/api/topics",
                        json!({ "title": format!("bench {name}"), "form": "meeting" }),
                        self.token.as_deref(),
                    )
                    .await?;
                let doc = xieshang_tests::api::doc_id(&v["draft_doc"])?;
                self.doc_ref(&doc.to_string()).await
            }
            Kind::YSweet => {
                self.post_json("/doc/new", json!({ "docId": name }), None)
                    .await?;
                self.doc_ref(name).await
            }
            Kind::Yws => self.doc_ref(name).await,
        }
    }

    /// The socket of an existing document (after a restart too).
    pub async fn doc_ref(&self, name: &str) -> Result<DocRef> {
        let url = match self.kind {
            Kind::Xieshang => format!("{}/sync/{name}", self.ws_base()),
            Kind::YSweet => {
                // The auth answer names the socket; the client appends the doc id.
                let v = self
                    .post_json(&format!("/doc/{name}/auth"), json!({}), None)
                    .await?;
                let url = v["url"]
                    .as_str()
                    .context("y-sweet auth answer without url")?;
                format!("{}/{name}", url.trim_end_matches('/'))
            }
            Kind::Yws => format!("{}/{name}", self.ws_base()),
        };
        Ok(DocRef {
            name: name.to_string(),
            url,
        })
    }

    /// The URL a client opens: xieshang gets the token, and `ext=1` when the
    /// workload wants durability acknowledgements.
    pub fn url(&self, doc: &DocRef, ext: bool) -> String {
        match (&self.token, self.kind) {
            (Some(t), Kind::Xieshang) => {
                let mut u = format!("{}?token={t}", doc.url);
                if ext {
                    u.push_str("&ext=1");
                }
                u
            }
            _ => doc.url.clone(),
        }
    }
}

/// Prints one figure for xtask's table.
pub fn report(key: &str, value: f64, unit: &str, lower_is_better: bool) {
    let better = if lower_is_better { "lower" } else { "higher" };
    println!("RESULT\t{key}\t{value}\t{unit}\t{better}");
}

/// Prints a caveat that belongs next to the table.
pub fn note(text: &str) {
    println!("NOTE\t{text}");
}

/// Percentile (0–100) of sorted values, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The resident set of process `pid` in bytes (`VmRSS` of `/proc/PID/status`).
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("empty VmRSS line")?
        .parse()?;
    Ok(kb * 1024)
}
