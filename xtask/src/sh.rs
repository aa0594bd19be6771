//! The workspace's paths, and running commands so the log shows each one.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Where things are. Every path is absolute, so commands may run anywhere.
pub struct Workspace {
    /// The repository root (the workspace's Cargo.toml).
    pub root: PathBuf,
    /// Cargo's target directory: `CARGO_TARGET_DIR` if set (CI points it outside
    /// the clone to reuse builds), else `<root>/target`.
    pub target_dir: PathBuf,
    /// Tools that are not cargo binaries (wasm-opt from npm): kept across clones.
    pub tools_dir: PathBuf,
}

impl Workspace {
    /// Finds the root from this crate's location, resolves the target directory,
    /// makes both visible to every command started from here, and prepares the
    /// patched crates.
    pub fn locate() -> Result<Workspace> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        let cwd = std::env::current_dir().context("current directory")?;
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR")
            .or_else(|| std::env::var_os("CARGO_BUILD_TARGET_DIR"))
            .filter(|d| !d.is_empty())
        {
            // Cargo reads a relative CARGO_TARGET_DIR from where it was started.
            Some(dir) => cwd.join(dir),
            None => root.join("target"),
        };
        let tools_dir = match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache/xieshang/tools"),
            None => target_dir.join("tools"),
        };
        // Absolute from here on, for cargo runs started in other directories.
        std::env::set_var("CARGO_TARGET_DIR", &target_dir);
        // `cargo install` puts binaries here; a shell without ~/.cargo/env lacks it.
        if let Some(bin) = cargo_bin_dir() {
            prepend_path(&bin);
        }
        // `[patch.crates-io]` names these: nothing builds without them.
        crate::patches::prepare(&root, &target_dir)?;
        Ok(Workspace {
            root,
            target_dir,
            tools_dir,
        })
    }

    /// `cargo` (the one running us, if known), started in the root.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(&self.root);
        cmd
    }
}

/// `$CARGO_HOME/bin`, else `~/.cargo/bin`.
pub fn cargo_bin_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home).join("bin"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"))
}

fn prepend_path(dir: &Path) {
    let old = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&old).any(|p| p == dir) {
        return;
    }
    let paths = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&old));
    if let Ok(joined) = std::env::join_paths(paths) {
        std::env::set_var("PATH", joined);
    }
}

/// Announces a step of the work.
pub fn step(what: &str) {
    println!("\n==> {what}");
}

/// Prints a command the way a shell would take it.
pub fn echo(cmd: &Command) {
    let mut line = String::from("$");
    if let Some(dir) = cmd.get_current_dir() {
        line.push_str(&format!(" (cd {} &&", dir.display()));
    }
    for part in std::iter::once(cmd.get_program()).chain(cmd.get_args()) {
        line.push(' ');
        line.push_str(&quote(part));
    }
    if cmd.get_current_dir().is_some() {
        line.push(')');
    }
    println!("{line}");
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@,%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with inherited output; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    echo(cmd);
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", cmd.get_program().to_string_lossy()))?;
    if !status.success() {
        bail!(
            "`{}` failed ({status})",
            cmd.get_program().to_string_lossy()
        );
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its standard output, or `None` if it could
/// not start or failed (used to probe for tools).
pub fn probe(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(std::process::Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether we run as root (then apt-get needs no sudo, and PostgreSQL must run
/// as the `postgres` user).
pub fn is_root() -> bool {
    probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}
