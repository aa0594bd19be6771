//! `cargo xtask bench`: xieshang side by side with y-sweet and the reference
//! y-websocket server (issue 5), driven by one Rust load driver (`xsbench`).
//!
//! ```text
//! cargo xtask bench                                   everything, writes BENCHMARKS.md
//! cargo xtask bench --only w1,w2 --servers xieshang,y-sweet,yws
//! cargo xtask bench netsim                            the poor-network scenarios only
//! cargo xtask bench --quick …                         shorter runs to check the harness
//! ```
//!
//! Each workload gets a freshly started server on an empty data dir under
//! `target/bench-run/`; W3 restarts W2's server on its data. A section of
//! BENCHMARKS.md is rewritten only when its workloads ran on all three servers
//! at full size (`--write` forces it); other sections are kept.
//!
//! # Layout
//! - [`peers`]: installing and running the three servers.
//! - [`report`]: the driver's result lines, the table, BENCHMARKS.md.

mod peers;
mod report;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::sh::{self, Workspace};
use peers::{Installed, Running, Server};
use report::Results;

const USAGE: &str = "usage: cargo xtask bench [netsim] [--only w1,w2,w3,w4,w5,w6,netsim] \
[--servers xieshang,y-sweet,yws] [--quick] [--write]";

const ALL: [&str; 7] = ["w1", "w2", "w3", "w4", "w5", "w6", "netsim"];
const SYNC_SECTION: &str = "## Sync server benchmarks (issue 5)";
const NET_SECTION: &str = "## Poor network";

struct Options {
    workloads: Vec<String>,
    servers: Vec<Server>,
    quick: bool,
    write: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        workloads: ALL.iter().map(|s| s.to_string()).collect(),
        servers: Server::ALL.to_vec(),
        quick: false,
        write: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => {
                let list = it.next().context(USAGE)?;
                o.workloads = list.split(',').map(|s| s.trim().to_lowercase()).collect();
            }
            "--servers" => {
                let list = it.next().context(USAGE)?;
                o.servers = list
                    .split(',')
                    .map(|s| Server::parse(s.trim()))
                    .collect::<Result<_>>()?;
            }
            "--quick" => o.quick = true,
            "--write" => o.write = true,
            "netsim" => o.workloads = vec!["netsim".into()],
            "--" => {}
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    for w in &o.workloads {
        if !ALL.contains(&w.as_str()) {
            bail!("unknown workload {w:?}\n{USAGE}");
        }
    }
    Ok(o)
}

/// Everything a workload run needs.
struct Ctx<'a> {
    inst: &'a Installed,
    xsbench: PathBuf,
    trace: PathBuf,
    run_dir: PathBuf,
    quick: bool,
    results: Results,
}

/// `cargo xtask bench [args…]`
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let command = format!("cargo xtask bench {}", args.join(" "))
        .trim_end()
        .to_string();
    let trace = trace_path(ws)?;

    sh::step("release builds: xieshang and the load driver");
    sh::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "xieshang-server",
        "--bin",
        "xieshang",
    ]))?;
    sh::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "xieshang-tests",
        "--bin",
        "xsbench",
    ]))?;
    let inst = peers::install(ws, &o.servers)?;
    let run_dir = ws.target_dir.join("bench-run");
    std::fs::create_dir_all(&run_dir)?;
    let mut ctx = Ctx {
        inst: &inst,
        xsbench: ws.target_dir.join("release").join("xsbench"),
        trace,
        run_dir,
        quick: o.quick,
        results: Results::default(),
    };

    let wants = |w: &str| o.workloads.iter().any(|x| x == w);
    for &server in &o.servers {
        let name = server.name();
        if wants("w1") {
            sh::step(&format!("W1 fan-out on {name}"));
            let r = ctx.start(server, "w1", &[])?;
            let secs = if ctx.quick { "5" } else { "20" };
            for clients in ["20", "100"] {
                ctx.drive(&r, "w1", &["--clients", clients, "--secs", secs]);
            }
            r.stop()?;
        }
        if wants("w2") || wants("w3") {
            sh::step(&format!("W2 trace replay, then W3 cold load, on {name}"));
            let limit = if ctx.quick { "60" } else { "180" };
            let extra = ctx.unthrottled(server, "w2");
            let r = ctx.start(server, "w2", &extra)?;
            let state = ctx.run_dir.join(format!("{name}-w2-state.json"));
            let trace = ctx.trace.display().to_string();
            let state_s = state.display().to_string();
            let ok = ctx.drive(
                &r,
                "w2",
                &[
                    "--trace",
                    &trace,
                    "--state",
                    &state_s,
                    "--limit-secs",
                    limit,
                ],
            );
            // Let each server finish persisting (LevelDB writes, checkpoints):
            // wait until it is idle, then stop it gracefully and start it again
            // on the same data.
            let waited = peers::wait_idle(r.pid(), Duration::from_secs(120));
            println!("{name} idle after {:.1} s", waited.as_secs_f64());
            let r = r.restart(ctx.inst)?;
            if ok && wants("w3") {
                ctx.drive(&r, "w3", &["--state", &state_s]);
            }
            r.stop()?;
        }
        if wants("w4") {
            sh::step(&format!("W4 idle connections on {name}"));
            let r = ctx.start(server, "w4", &[])?;
            let pid = r.pid().to_string();
            let (clients, docs) = if ctx.quick {
                ("200", "20")
            } else {
                ("1000", "100")
            };
            ctx.drive(
                &r,
                "w4",
                &["--pid", &pid, "--clients", clients, "--docs", docs],
            );
            r.stop()?;
        }
        if wants("w5") {
            sh::step(&format!("W5 durable write rate on {name}"));
            if server == Server::Xieshang {
                let extra = ctx.unthrottled(server, "w5");
                let r = ctx.start(server, "w5", &extra)?;
                let per_client = if ctx.quick { "10000" } else { "50000" };
                ctx.drive(&r, "w5", &["--secs", "30", "--per-client", per_client]);
                r.stop()?;
            } else {
                ctx.results.note(
                    name,
                    "w5",
                    "no durability acknowledgement in its protocol: W5 does not apply",
                );
            }
        }
        if wants("w6") {
            sh::step(&format!("W6 reconnect with offline work on {name}"));
            let r = ctx.start(server, "w6", &[])?;
            let trace = ctx.trace.display().to_string();
            let ops = if ctx.quick { "2000" } else { "10000" };
            ctx.drive(&r, "w6", &["--trace", &trace, "--ops", ops]);
            r.stop()?;
        }
        if wants("netsim") {
            sh::step(&format!("poor network on {name}"));
            let r = ctx.start(server, "netsim", &[])?;
            let (pending, typed) = if ctx.quick {
                ("100", "60")
            } else {
                ("500", "200")
            };
            ctx.drive(&r, "netsim", &["net-pending", "--edits", pending]);
            ctx.drive(&r, "netsim", &["net-cuts", "--edits", typed]);
            r.stop()?;
        }
    }

    let names: Vec<&str> = o.servers.iter().map(|s| s.name()).collect();
    let env = report::environment(&inst.versions, &command);
    let sync_prefixes = ["w1", "w2", "w3", "w4", "w5", "w6"];
    let sync = section_body(&ctx.results, &env, &sync_prefixes, &names, SYNC_INTRO);
    let net = section_body(&ctx.results, &env, &["net"], &names, NET_INTRO);
    sh::step("results");
    let ran_sync = sync_prefixes.iter().any(|w| wants(w));
    if ran_sync {
        println!("{SYNC_SECTION}\n\n{sync}");
    }
    if wants("netsim") {
        println!("{NET_SECTION}\n\n{net}");
    }
    let all_servers = o.servers.len() == Server::ALL.len();
    let full = all_servers && !o.quick;
    let path = ws.root.join("BENCHMARKS.md");
    let write_sync = o.write || (full && sync_prefixes.iter().all(|w| wants(w)));
    let write_net = o.write || (full && wants("netsim"));
    if ran_sync && write_sync {
        report::write_section(&path, SYNC_SECTION, &sync)?;
        println!("wrote {SYNC_SECTION:?} in {}", path.display());
    }
    if wants("netsim") && write_net {
        report::write_section(&path, NET_SECTION, &net)?;
        println!("wrote {NET_SECTION:?} in {}", path.display());
    }
    if (ran_sync && !write_sync) || (wants("netsim") && !write_net) {
        println!("(a partial or --quick run: BENCHMARKS.md left as it was; `--write` forces it)");
    }
    Ok(())
}

const SYNC_INTRO: &str = "\
Each workload runs on a freshly started server with an empty data dir, all on
127.0.0.1, driven by `xsbench` (tests/src/bin/xsbench.rs: yrs + tokio-tungstenite,
one task per client, TCP_NODELAY, every message encoded before the clock starts).
The last column is how many times better xieshang is than the best peer
(best peer ÷ xieshang for times, latencies, bytes and memory; xieshang ÷ best
peer for rates): above 1 xieshang is ahead, the target is 3.";

const NET_INTRO: &str = "\
Through `tests/src/netsim.rs`, a TCP proxy on 127.0.0.1 (no netem in this
kernel) that imposes bandwidth (serialization per direction), latency (a delay
line) and cuts (both sockets closed at once) on the returning client's link;
the second client watches on a perfect link. Bytes are counted at the proxy
(client → server, WebSocket framing and upgrade included). The same scenarios,
smaller and asserting behaviour only, run in `cargo xtask test`
(tests/tests/poor_network.rs).";

fn section_body(
    results: &Results,
    env: &str,
    prefixes: &[&str],
    servers: &[&str],
    intro: &str,
) -> String {
    let workloads: Vec<&str> = if prefixes == ["net"] {
        vec!["netsim"]
    } else {
        vec!["w1", "w2", "w3", "w4", "w5", "w6"]
    };
    let notes = results.notes_md(&workloads);
    let mut out = format!("{intro}\n\n{env}\n{}", results.table(prefixes, servers));
    if !notes.is_empty() {
        out.push_str(&format!("\nNotes from the run:\n\n{notes}"));
    }
    out
}

impl Ctx<'_> {
    fn start(&self, server: Server, workload: &str, extra: &[String]) -> Result<Running> {
        let data = self
            .run_dir
            .join(format!("{}-{workload}", server.name()))
            .join("data");
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let r = Running::start(self.inst, server, &data, &extra)?;
        println!(
            "{} listening on {} (pid {})",
            server.name(),
            r.addr,
            r.pid()
        );
        Ok(r)
    }

    /// xieshang's per-connection message limit (2,000/s, burst 20,000) would
    /// close W2's and W5's sockets with 4429: those runs lift it, and say so.
    fn unthrottled(&mut self, server: Server, workload: &str) -> Vec<String> {
        if server != Server::Xieshang {
            return Vec::new();
        }
        let why = match workload {
            "w2" => "W2 sends 259,778 messages on one connection",
            _ => "W5 keeps up to 512 updates in flight on each connection",
        };
        self.results.note(
            "xieshang",
            workload,
            &format!(
                "started with `--max-messages-per-sec 0` for {}: {why}, above the default per-connection limit (2,000/s, burst 20,000) that would close the socket with 4429",
                workload.to_uppercase()
            ),
        );
        vec!["--max-messages-per-sec".into(), "0".into()]
    }

    /// Runs the driver once; its result lines go into the results. A failed run
    /// is noted and the bench goes on. Answers whether it succeeded.
    fn drive(&mut self, r: &Running, workload: &str, args: &[&str]) -> bool {
        let name = r.server.name();
        let mut cmd = Command::new(&self.xsbench);
        cmd.args(["--server", name, "--base", &r.base()]);
        if r.server == Server::Xieshang {
            cmd.args(["--user", peers::USER, "--password", peers::PASSWORD]);
        }
        // The workload name first unless args start with one (net-pending …).
        if args.first().is_none_or(|a| a.starts_with("--")) {
            cmd.arg(workload);
        }
        cmd.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        sh::echo(&cmd);
        let result = (|| -> Result<()> {
            let mut child = cmd.spawn().context("starting xsbench")?;
            let out = child.stdout.take().context("no stdout")?;
            for line in BufReader::new(out).lines() {
                let line = line?;
                println!("  [{name}] {line}");
                self.results.take_line(name, workload, &line);
            }
            let status = child.wait()?;
            if !status.success() {
                bail!("xsbench {workload} on {name} failed ({status})");
            }
            Ok(())
        })();
        match result {
            Ok(()) => true,
            Err(e) => {
                eprintln!("{e:#}");
                self.results
                    .note(name, workload, &format!("{workload} failed: {e:#}"));
                false
            }
        }
    }
}

/// The B4 trace (never copied into the repository): `XSBENCH_TRACE`, else
/// `bench-data/automerge-paper.json.gz` in the checkout (git-ignored). It is
/// `sequential_traces/automerge-paper.json.gz` of github.com/josephg/editing-traces
/// at commit 762fa6c51605c88a05ebe5c4b9d4540caca30b97 (901,823 bytes).
fn trace_path(ws: &Workspace) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("XSBENCH_TRACE") {
        return Ok(PathBuf::from(p));
    }
    let p = ws.root.join("bench-data").join("automerge-paper.json.gz");
    if !Path::new(&p).is_file() {
        bail!(
            "the B4 trace is not at {}: put sequential_traces/automerge-paper.json.gz of \
             github.com/josephg/editing-traces (commit 762fa6c) there, or set XSBENCH_TRACE to its path",
            p.display()
        );
    }
    Ok(p)
}
