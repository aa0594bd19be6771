//! The three servers as processes: installed from their registries, started on
//! 127.0.0.1 with persistence on, stopped gracefully (SIGTERM, then SIGKILL).
//!
//! - xieshang: `target/release/xieshang serve --addr 127.0.0.1:0 --data DIR`
//!   (SQLite); the port comes from its `xieshang listening on http://ADDR` line.
//!   A staff user is added first with `xieshang user add … --password-stdin`.
//! - y-sweet: `y-sweet serve DIR --host 127.0.0.1 --port P` (crates.io,
//!   `cargo install y-sweet --locked`); the file store under DIR is its persistence.
//! - yws: `@y/websocket-server@0.1.1` from npm under `target/bench-tools/yws`, run
//!   as `node …/src/server.js` with `HOST`, `PORT` and `YPERSISTENCE=DIR` (LevelDB
//!   through the optional `y-leveldb` dependency it declares).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sh::{self, Workspace};

/// The npm release of the reference server (0.1.5 needs a yjs 14 prerelease
/// that does not install).
pub const YWS_VERSION: &str = "0.1.1";
/// The bench user on xieshang (staff: may create topics and open every draft).
pub const USER: &str = "bench";
pub const PASSWORD: &str = "bench password, not secret";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Xieshang,
    YSweet,
    Yws,
}

impl Server {
    pub const ALL: [Server; 3] = [Server::Xieshang, Server::YSweet, Server::Yws];

    /// The name on the command line and in the table.
    pub fn name(self) -> &'static str {
        match self {
            Server::Xieshang => "xieshang",
            Server::YSweet => "y-sweet",
            Server::Yws => "yws",
        }
    }

    pub fn parse(s: &str) -> Result<Server> {
        Server::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .with_context(|| format!("unknown server {s:?} (xieshang, y-sweet, yws)"))
    }
}

/// Where each server's program is, and its version for the report.
pub struct Installed {
    pub xieshang: PathBuf,
    pub ysweet: PathBuf,
    pub yws_script: PathBuf,
    /// `(server, version text)` for the report.
    pub versions: Vec<(String, String)>,
}

/// Installs what `servers` need (idempotent) and answers where it all is.
pub fn install(ws: &Workspace, servers: &[Server]) -> Result<Installed> {
    sh::step("servers under test");
    let xieshang = ws.target_dir.join("release").join("xieshang");
    let mut versions = Vec::new();
    let v = sh::probe(Command::new(&xieshang).arg("--version")).unwrap_or_default();
    versions.push((
        "xieshang".to_string(),
        format!("{} (this tree, release build, SQLite)", v.trim()),
    ));
    let mut ysweet = PathBuf::from("y-sweet");
    if servers.contains(&Server::YSweet) {
        ysweet = ensure_ysweet()?;
        let v = sh::probe(Command::new(&ysweet).arg("version")).unwrap_or_default();
        versions.push((
            "y-sweet".to_string(),
            format!("y-sweet {} (crates.io, file store)", v.trim()),
        ));
    }
    let yws_dir = ws.target_dir.join("bench-tools").join("yws");
    let yws_script = yws_dir.join("node_modules/@y/websocket-server/src/server.js");
    if servers.contains(&Server::Yws) {
        ensure_yws(&yws_dir)?;
        let node = sh::probe(Command::new("node").arg("--version")).unwrap_or_default();
        let leveldb = package_version(&yws_dir.join("node_modules/y-leveldb/package.json"));
        let yjs = package_version(&yws_dir.join("node_modules/yjs/package.json"));
        versions.push((
            "yws".to_string(),
            format!(
                "@y/websocket-server {YWS_VERSION} (npm) on node {}, yjs {yjs}, y-leveldb {leveldb}",
                node.trim()
            ),
        ));
    }
    Ok(Installed {
        xieshang,
        ysweet,
        yws_script,
        versions,
    })
}

fn ensure_ysweet() -> Result<PathBuf> {
    if let Some(v) = sh::probe(Command::new("y-sweet").arg("version")) {
        println!("y-sweet {}: installed", v.trim());
        return Ok(PathBuf::from("y-sweet"));
    }
    // Its own (temporary) target dir: nothing to share with ours.
    sh::run(
        Command::new("cargo")
            .args(["install", "y-sweet", "--locked"])
            .env_remove("CARGO_TARGET_DIR"),
    )?;
    Ok(PathBuf::from("y-sweet"))
}

fn package_version(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    text.lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("\"version\": \"")
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "?".into())
}

fn ensure_yws(dir: &Path) -> Result<()> {
    let installed = package_version(&dir.join("node_modules/@y/websocket-server/package.json"));
    if installed == YWS_VERSION && dir.join("node_modules/y-leveldb/package.json").is_file() {
        println!(
            "@y/websocket-server {YWS_VERSION}: installed in {}",
            dir.display()
        );
        return Ok(());
    }
    if sh::probe(Command::new("npm").arg("--version")).is_none() {
        bail!("npm is needed for the reference server (apt-get install nodejs npm)");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // yjs is its peer dependency; y-leveldb (LevelDB persistence) an optional one
    // that npm installs with it.
    let manifest = format!(
        "{{\n  \"name\": \"xieshang-bench-yws\",\n  \"private\": true,\n  \"dependencies\": {{\n    \"@y/websocket-server\": \"{YWS_VERSION}\",\n    \"yjs\": \"^13.6.0\"\n  }}\n}}\n"
    );
    std::fs::write(dir.join("package.json"), manifest)?;
    sh::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(dir),
    )?;
    if !dir.join("node_modules/y-leveldb/package.json").is_file() {
        bail!("npm did not install y-leveldb (the reference server's persistence)");
    }
    Ok(())
}

/// A running server.
pub struct Running {
    pub server: Server,
    pub addr: SocketAddr,
    child: Child,
    data: PathBuf,
    extra: Vec<String>,
    log: PathBuf,
}

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `server` on a new data dir `data` (emptied first); xieshang gets
    /// the bench user and `extra` flags.
    pub fn start(inst: &Installed, server: Server, data: &Path, extra: &[&str]) -> Result<Running> {
        if data.exists() {
            std::fs::remove_dir_all(data)
                .with_context(|| format!("emptying {}", data.display()))?;
        }
        std::fs::create_dir_all(data)?;
        if server == Server::Xieshang {
            add_user(&inst.xieshang, data)?;
        }
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        spawn(inst, server, data, extra, 1)
    }

    /// Stops gracefully (SIGTERM; SIGKILL after 20 s) and starts again on the same data.
    pub fn restart(self, inst: &Installed) -> Result<Running> {
        let (server, data, extra) = (self.server, self.data.clone(), self.extra.clone());
        let n = self
            .log
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit('-').next())
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(1);
        self.stop()?;
        spawn(inst, server, &data, extra, n + 1)
    }

    /// SIGTERM, wait up to 20 s for it to flush and exit, then SIGKILL.
    pub fn stop(mut self) -> Result<()> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!(
            "{} did not stop within 20 s of SIGTERM; killing it",
            self.server.name()
        );
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

fn add_user(bin: &Path, data: &Path) -> Result<()> {
    let mut child = Command::new(bin)
        .args(["user", "add", "--data"])
        .arg(data)
        .args(["--username", USER, "--password-stdin", "--role", "staff"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    child
        .stdin
        .take()
        .context("no stdin")?
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    if !child.wait()?.success() {
        bail!("xieshang user add failed");
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(
    inst: &Installed,
    server: Server,
    data: &Path,
    extra: Vec<String>,
    n: u32,
) -> Result<Running> {
    let log = data
        .parent()
        .unwrap_or(data)
        .join(format!("{}-{}.log", server.name(), n));
    let logfile = std::fs::File::create(&log)?;
    let (mut cmd, port) = match server {
        Server::Xieshang => {
            let mut c = Command::new(&inst.xieshang);
            c.args(["serve", "--addr", "127.0.0.1:0", "--data"])
                .arg(data);
            c.args(&extra).env("RUST_LOG", "warn");
            (c, None)
        }
        Server::YSweet => {
            let port = free_port()?;
            let mut c = Command::new(&inst.ysweet);
            c.arg("serve")
                .arg(data)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()]);
            (c, Some(port))
        }
        Server::Yws => {
            let port = free_port()?;
            let mut c = Command::new("node");
            c.arg(&inst.yws_script)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("YPERSISTENCE", data);
            (c, Some(port))
        }
    };
    cmd.stdin(Stdio::null()).stderr(logfile.try_clone()?);
    if let Some(port) = port {
        cmd.stdout(logfile);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", server.name()))?;
        let mut running = Running {
            server,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
            data: data.to_path_buf(),
            extra,
            log,
        };
        wait_listening(&mut running)?;
        return Ok(running);
    }
    // xieshang: read the listening line, keep draining stdout into the log.
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().context("starting xieshang")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = mpsc::channel();
    let mut out = logfile;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = writeln!(out, "{line}");
            if let Some(rest) = line.split("xieshang listening on http://").nth(1) {
                let _ = tx.send(rest.trim().trim_end_matches('/').to_string());
            }
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(a) => a.parse::<SocketAddr>()?,
        Err(_) => {
            let _ = child.kill();
            bail!("xieshang printed no listening line; see {}", log.display());
        }
    };
    Ok(Running {
        server,
        addr,
        child,
        data: data.to_path_buf(),
        extra,
        log,
    })
}

fn wait_listening(r: &mut Running) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = r.child.try_wait()? {
            bail!(
                "{} exited ({status}); see {}",
                r.server.name(),
                r.log.display()
            );
        }
        if TcpStream::connect_timeout(&r.addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!(
        "{} did not listen on {} within 30 s",
        r.server.name(),
        r.addr
    )
}

/// Waits until process `pid` used under 2% of a core for a whole second (done
/// persisting), at most `max`; answers how long it waited.
pub fn wait_idle(pid: u32, max: Duration) -> Duration {
    let ticks = |pid: u32| -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) in parentheses.
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    };
    let start = Instant::now();
    let mut last = ticks(pid);
    while start.elapsed() < max {
        std::thread::sleep(Duration::from_secs(1));
        let now = ticks(pid);
        match (last, now) {
            // Clock ticks are 1/100 s: under 2 ticks in a second is under 2%.
            (Some(a), Some(b)) if b.saturating_sub(a) < 2 => break,
            (_, None) => break,
            _ => last = now,
        }
    }
    start.elapsed()
}
