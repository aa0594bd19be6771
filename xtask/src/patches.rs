//! Crates used with the project's own fixes: the release as fetched from
//! crates.io (checksum pinned), with `patches/<name>-<version>/*.patch` applied,
//! unpacked into `.patched/<name>-<version>`, which the root `Cargo.toml` and
//! `fuzz/Cargo.toml` name in `[patch.crates-io]`. The repository holds only the
//! diffs: see `patches/README.md`.
//!
//! Every `cargo xtask` command prepares this first, so a plain `cargo build`
//! works after any one of them (or `cargo xtask prepare`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::sh;

/// A released crate and the sha256 of its `.crate` file (what crates.io's index
/// lists as its checksum).
struct Patched {
    name: &'static str,
    version: &'static str,
    sha256: &'static str,
}

const PATCHED: &[Patched] = &[Patched {
    name: "yrs",
    version: "0.28.1",
    sha256: "9f7716b4846f9fab489af2ed7ab31c4554f5fe6965ede2392b9cdfed0e5087ff",
}];

/// File in a prepared directory recording what it was made from.
const STAMP: &str = ".xieshang-patched";

/// Prepares every patched crate that is missing or out of date.
pub fn prepare(root: &Path, target_dir: &Path) -> Result<()> {
    for krate in PATCHED {
        prepare_one(root, target_dir, krate)
            .with_context(|| format!("preparing patched {}-{}", krate.name, krate.version))?;
    }
    Ok(())
}

fn prepare_one(root: &Path, target_dir: &Path, krate: &Patched) -> Result<()> {
    let full = format!("{}-{}", krate.name, krate.version);
    let patch_dir = root.join("patches").join(&full);
    let patches = patch_files(&patch_dir)?;
    let stamp = stamp(krate, &patches)?;
    let dest = root.join(".patched").join(&full);
    if fs::read_to_string(dest.join(STAMP)).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    sh::step(&format!(
        "patched {full}: crates.io release + {}",
        patch_dir.display()
    ));
    let crate_file = fetch(target_dir, krate)?;
    let sum = hex(&Sha256::digest(
        fs::read(&crate_file).with_context(|| format!("reading {}", crate_file.display()))?,
    ));
    if sum != krate.sha256 {
        bail!(
            "{} has sha256 {sum}, expected {}",
            crate_file.display(),
            krate.sha256
        );
    }
    let work = root.join(".patched").join(format!(".{full}.tmp"));
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    fs::create_dir_all(&work)?;
    sh::run(
        Command::new("tar")
            .arg("-xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(&work),
    )?;
    let unpacked = work.join(&full);
    for patch in &patches {
        sh::run(
            Command::new("patch")
                .args(["-p1", "--forward", "--batch", "--quiet", "-d"])
                .arg(&unpacked)
                .arg("-i")
                .arg(patch),
        )?;
    }
    // Cargo silences the warnings of crates from a registry but not of path
    // dependencies: keep the released code as quiet as it is from crates.io.
    let manifest = unpacked.join("Cargo.toml");
    let mut toml = fs::read_to_string(&manifest)?;
    if !toml.contains("[lints") {
        toml.push_str("\n[lints.rust]\nwarnings = \"allow\"\n\n[lints.clippy]\nall = \"allow\"\n");
        fs::write(&manifest, toml)?;
    }
    fs::write(unpacked.join(STAMP), &stamp)?;
    if dest.exists() {
        fs::remove_dir_all(&dest)?;
    }
    fs::rename(&unpacked, &dest)?;
    fs::remove_dir_all(&work)?;
    println!("prepared {}", dest.display());
    Ok(())
}

/// The `.patch` files of one crate, in name order (the order they apply in).
fn patch_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no .patch files in {}", dir.display());
    }
    Ok(files)
}

/// What a prepared directory was made from: the release's checksum and each patch's.
fn stamp(krate: &Patched, patches: &[PathBuf]) -> Result<String> {
    let mut stamp = format!("{} {}\n", krate.sha256, krate.name);
    for patch in patches {
        let bytes = fs::read(patch).with_context(|| format!("reading {}", patch.display()))?;
        let name = patch.file_name().unwrap_or_default().to_string_lossy();
        stamp.push_str(&format!("{} {name}\n", hex(&Sha256::digest(bytes))));
    }
    Ok(stamp)
}

/// The `.crate` file from cargo's download cache, fetched first through a
/// throwaway package that depends on exactly this version (so cargo's own
/// registry settings, mirrors and proxies apply).
fn fetch(target_dir: &Path, krate: &Patched) -> Result<PathBuf> {
    if let Some(found) = cached(krate) {
        return Ok(found);
    }
    let dir = target_dir.join("xtask-fetch").join(krate.name);
    fs::create_dir_all(dir.join("src"))?;
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\n{} = \"={}\"\n",
            krate.name, krate.name, krate.version
        ),
    )?;
    fs::write(dir.join("src/lib.rs"), "")?;
    sh::run(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .arg("fetch")
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml")),
    )?;
    cached(krate).with_context(|| {
        format!(
            "cargo fetch did not leave {}-{}.crate in the registry cache",
            krate.name, krate.version
        )
    })
}

/// `$CARGO_HOME/registry/cache/<registry>/<name>-<version>.crate`, if present.
fn cached(krate: &Patched) -> Option<PathBuf> {
    let cache = cargo_home()?.join("registry").join("cache");
    let file = format!("{}-{}.crate", krate.name, krate.version);
    fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(&file))
        .find(|p| p.is_file())
}

fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        Some(home) => Some(PathBuf::from(home)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
