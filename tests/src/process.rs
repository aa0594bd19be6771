//! [`ServerProcess`]: the real `xieshang` binary as an operator runs it, so that
//! tests can kill it with SIGKILL at any moment and start it again on the same
//! data, exactly what a power cut or the OOM killer does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::api::{AddUsers, Api, Committee};
use crate::server::Backend;

/// What the binary prints once it accepts connections.
const LISTENING: &str = "xieshang listening on http://";

/// A running (or killed) `xieshang serve` on a data dir that outlives restarts.
pub struct ServerProcess {
    /// Where the current incarnation listens (a new port after each restart).
    pub addr: SocketAddr,
    /// The HTTP API of the current incarnation.
    pub api: Api,
    child: Option<Child>,
    bin: PathBuf,
    dir: TempDir,
    database_url: Option<String>,
    /// How many times the process was started; names its log file.
    starts: u32,
}

impl ServerProcess {
    /// The binary under test: `XIESHANG_BIN` as given (`cargo xtask test` sets
    /// it), else the workspace's own build, brought up to date first with
    /// `cargo build -p xieshang-server --bin xieshang` (once per test process) so
    /// that a plain `cargo test -p xieshang-tests` never tests a stale binary.
    pub async fn binary() -> Result<PathBuf> {
        if let Ok(bin) = std::env::var("XIESHANG_BIN") {
            return Ok(PathBuf::from(bin));
        }
        static BUILT: tokio::sync::OnceCell<Result<PathBuf, String>> =
            tokio::sync::OnceCell::const_new();
        BUILT
            .get_or_init(|| async { build_binary().await.map_err(|e| format!("{e:#}")) })
            .await
            .clone()
            .map_err(anyhow::Error::msg)
    }

    /// Starts the binary on a new data dir (and `backend`'s database, if PostgreSQL).
    pub async fn start(backend: &Backend) -> Result<ServerProcess> {
        let bin = Self::binary().await?;
        let dir = tempfile::tempdir()?;
        let mut p = ServerProcess {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api: Api::new(SocketAddr::from(([127, 0, 0, 1], 0))),
            child: None,
            bin,
            dir,
            database_url: backend.database_url().map(str::to_string),
            starts: 0,
        };
        p.spawn().await?;
        Ok(p)
    }

    /// The data dir every incarnation shares.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn storage_args(&self, cmd: &mut Command) {
        cmd.arg("--data").arg(self.dir.path());
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
    }

    async fn spawn(&mut self) -> Result<()> {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts))?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve").arg("--addr").arg("127.0.0.1:0");
        self.storage_args(&mut cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(crate::WAIT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split(LISTENING).nth(1) {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .trim_end_matches('/');
                    return Ok::<_, anyhow::Error>(Some(addr.parse::<SocketAddr>()?));
                }
            }
            Ok(None)
        })
        .await;
        let addr = match found {
            Ok(Ok(Some(addr))) => addr,
            Ok(Ok(None)) => bail!(
                "xieshang exited before listening; log:\n{}",
                self.log_tail()
            ),
            Ok(Err(e)) => bail!(
                "reading xieshang's stdout: {e:#}; log:\n{}",
                self.log_tail()
            ),
            Err(_) => bail!(
                "xieshang printed no listening line in {:?}; log:\n{}",
                crate::WAIT,
                self.log_tail()
            ),
        };
        // Keep draining stdout so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
        self.addr = addr;
        self.api = Api::new(addr);
        let api = self.api.clone();
        crate::wait::until("GET /healthz to answer 200", crate::WAIT, || {
            let api = api.clone();
            async move { Ok(api.healthy().await.then_some(())) }
        })
        .await?;
        Ok(())
    }

    /// SIGKILL, no warning, then reaps the process.
    pub async fn kill9(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill()?; // SIGKILL on Unix
            child.wait().await?;
        }
        Ok(())
    }

    /// Starts a new incarnation on the same data (after [`Self::kill9`]).
    pub async fn restart(&mut self) -> Result<()> {
        self.kill9().await?;
        self.spawn().await
    }

    /// Staff, members and an outsider created through `xieshang user add`, with a topic.
    pub async fn committee(&self, members: usize) -> Result<Committee> {
        Committee::setup(self, &self.api, members).await
    }

    fn log_path(&self, start: u32) -> PathBuf {
        self.dir.path().join(format!("server-{start}.log"))
    }

    /// The end of the current incarnation's log (stderr), for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path(self.starts)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Builds `xieshang` with the profile this test was built with and answers its path.
async fn build_binary() -> Result<PathBuf> {
    // target/<profile>/deps/<test executable>
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("test executable outside a target dir")?;
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "xieshang-server",
        "--bin",
        "xieshang",
    ]);
    if release {
        cmd.arg("--release");
    }
    // Build into the target dir this test lives in, whatever CARGO_TARGET_DIR said.
    if let Some(target) = profile_dir.parent() {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    cmd.current_dir(crate::workspace_root())
        .stdin(Stdio::null());
    let out = cmd
        .output()
        .await
        .context("running cargo build for the xieshang binary")?;
    if !out.status.success() {
        bail!(
            "cargo build -p xieshang-server --bin xieshang failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let bin = profile_dir.join("xieshang");
    anyhow::ensure!(bin.is_file(), "{} missing after cargo build", bin.display());
    Ok(bin)
}

impl AddUsers for ServerProcess {
    async fn add_user(&self, username: &str, role: &str) -> Result<()> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["user", "add"]);
        self.storage_args(&mut cmd);
        cmd.args(["--username", username, "--password-stdin", "--role", role]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let mut stdin = child.stdin.take().context("no stdin")?;
        stdin
            .write_all(format!("{}\n", crate::PASSWORD).as_bytes())
            .await?;
        drop(stdin);
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await??;
        if !out.status.success() {
            bail!(
                "xieshang user add {username} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}
