//! `xsbench`: the load driver of `cargo xtask bench` (issue 5). One workload
//! against one running server per invocation; xtask starts and restarts the
//! servers and collects the `RESULT` lines this prints (see `bench/mod.rs`).
//!
//! ```text
//! xsbench --server xieshang|y-sweet|yws --base http://127.0.0.1:PORT
//!         [--user U --password P] [--pid PID] [--trace FILE] [--state FILE]
//!         WORKLOAD [--clients N] [--docs N] [--secs S] …
//! workloads: w1 w2 w3 w4 w5 w6 net-pending net-cuts
//! ```

#[path = "../bench/mod.rs"]
mod bench;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use bench::{Kind, Target};

struct Args {
    workload: String,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Args> {
        let mut workload = None;
        let mut opts = HashMap::new();
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            if let Some(key) = a.strip_prefix("--") {
                let value = it
                    .next()
                    .with_context(|| format!("--{key} needs a value"))?;
                opts.insert(key.to_string(), value);
            } else if workload.is_none() {
                workload = Some(a);
            } else {
                bail!("unexpected argument {a:?}");
            }
        }
        Ok(Args {
            workload: workload.context("no workload given (w1 … w6, net-pending, net-cuts)")?,
            opts,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.opts.get(key).map(String::as_str)
    }

    fn need(&self, key: &str) -> Result<&str> {
        self.get(key)
            .with_context(|| format!("--{key} is required"))
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("--{key} {v:?} is not a number")),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        Ok(PathBuf::from(self.need(key)?))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse()?;
    let kind = Kind::parse(args.need("server")?)?;
    let base = args.need("base")?;
    let login = match (args.get("user"), args.get("password")) {
        (Some(u), Some(p)) => Some((u, p)),
        _ => None,
    };
    let target = Target::new(kind, base, login).await?;
    match args.workload.as_str() {
        "w1" => {
            let clients = args.num("clients", 20)?;
            let secs = args.num("secs", 20)?;
            bench::fanout::run(&target, clients, secs).await
        }
        "w2" => {
            let limit = Duration::from_secs(args.num("limit-secs", 300)?);
            bench::throughput::w2(&target, &args.path("trace")?, &args.path("state")?, limit).await
        }
        "w3" => bench::throughput::w3(&target, &args.path("state")?).await,
        "w4" => {
            let pid = args.num("pid", 0u32)?;
            if pid == 0 {
                bail!("w4 needs --pid of the server");
            }
            let clients = args.num("clients", 1000)?;
            let docs = args.num("docs", 100)?;
            bench::idle::run(&target, pid, clients, docs).await
        }
        "w5" => {
            bench::durable::run(
                &target,
                args.num("clients", 16)?,
                args.num("docs", 16)?,
                args.num("secs", 30)?,
                args.num("window", 512)?,
                args.num("per-client", 50_000)?,
            )
            .await
        }
        "w6" => {
            bench::reconnect::run(&target, &args.path("trace")?, args.num("ops", 10_000)?).await
        }
        "net-pending" => {
            let server = server_addr(base)?;
            bench::poor::pending(&target, server, args.num("edits", 500)?).await
        }
        "net-cuts" => {
            let server = server_addr(base)?;
            bench::poor::cuts(&target, server, args.num("edits", 200)?).await
        }
        other => bail!("unknown workload {other:?}"),
    }
}

/// `http://127.0.0.1:PORT` → the socket address the proxy forwards to.
fn server_addr(base: &str) -> Result<SocketAddr> {
    let hostport = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    hostport
        .parse()
        .with_context(|| format!("{base} does not name 127.0.0.1:PORT"))
}
