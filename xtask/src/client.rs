//! The client build: wasm32 (profile `wasm-release`), wasm-bindgen, wasm-opt,
//! then `client/dist` with content-hashed names and `.gz`/`.br` beside each file.
//!
//! Names: `<stem>-<16 hex digits of SHA-256>.<ext>`; the server caches exactly
//! those for a year (server/src/assets.rs). index.html (from client/index.html,
//! with `{{css}}`, `{{js}}`, `{{wasm}}` replaced) and anything in client/static/
//! keep their names and are revalidated.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::sh::{self, Workspace};
use crate::tools::ClientTools;

/// One file of `client/dist` and its sizes.
pub struct Asset {
    pub name: String,
    pub raw: u64,
    pub gz: Option<u64>,
    pub br: Option<u64>,
}

/// Builds the client into `client/dist`; returns what it wrote.
pub fn build(ws: &Workspace, tools: &ClientTools) -> Result<Vec<Asset>> {
    sh::step("client (wasm32, profile wasm-release)");
    sh::run(ws.cargo().args([
        "build",
        "-p",
        "xieshang-client",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let wasm = ws
        .target_dir
        .join("wasm32-unknown-unknown/wasm-release/xieshang-client.wasm");

    let staging = ws.target_dir.join("xieshang-client-bindgen");
    recreate_dir(&staging)?;
    sh::run(
        Command::new(&tools.wasm_bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "xieshang",
                "--out-dir",
            ])
            .arg(&staging)
            .arg(&wasm),
    )?;
    let bound = staging.join("xieshang_bg.wasm");
    let optimised = staging.join("xieshang.opt.wasm");
    sh::run(
        Command::new(&tools.wasm_opt)
            .arg("-Oz")
            // What rustc's wasm32 target emits today; wasm-opt refuses what it is not allowed.
            .args([
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
            ])
            .arg(&bound)
            .arg("-o")
            .arg(&optimised),
    )?;

    sh::step("client/dist");
    let client = ws.root.join("client");
    let dist = client.join("dist");
    // Written beside and swapped in, so a failed build leaves the old dist whole.
    let fresh = client.join("dist.new");
    recreate_dir(&fresh)?;
    let js = write_hashed(
        &fresh,
        "xieshang",
        "js",
        &read(&staging.join("xieshang.js"))?,
    )?;
    let wasm = write_hashed(&fresh, "xieshang_bg", "wasm", &read(&optimised)?)?;
    let css = write_hashed(&fresh, "style", "css", &read(&client.join("style.css"))?)?;
    // Crates' inline JS, imported by the glue by relative path.
    let snippets = staging.join("snippets");
    if snippets.is_dir() {
        copy_tree(&snippets, &fresh.join("snippets"))?;
    }
    let statics = client.join("static");
    if statics.is_dir() {
        copy_tree(&statics, &fresh)?;
    }
    let template =
        fs::read_to_string(client.join("index.html")).context("reading client/index.html")?;
    let index = template
        .replace("{{css}}", &css)
        .replace("{{js}}", &js)
        .replace("{{wasm}}", &wasm);
    if index.contains("{{") {
        bail!(
            "client/index.html has a placeholder other than {{{{css}}}}, {{{{js}}}}, {{{{wasm}}}}"
        );
    }
    fs::write(fresh.join("index.html"), index).context("writing index.html")?;
    write_service_worker(&client, &fresh)?;

    let assets = precompress(&fresh)?;
    if same_tree(&fresh, &dist) {
        // Untouched files keep their times, so release builds need not re-embed them.
        fs::remove_dir_all(&fresh).with_context(|| format!("removing {}", fresh.display()))?;
        println!("client/dist: unchanged");
        return Ok(assets);
    }
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("removing {}", dist.display()))?;
    }
    fs::rename(&fresh, &dist)
        .with_context(|| format!("renaming {} to {}", fresh.display(), dist.display()))?;
    Ok(assets)
}

/// Writes `sw.js` from the template `client/sw.js`, if there is one: the
/// app shell's files (everything in `dist` but the service worker itself) and
/// a version that changes with any of their bytes, so each build gets a fresh
/// cache and the previous one is dropped on activation.
fn write_service_worker(client: &Path, dist: &Path) -> Result<()> {
    let template = client.join("sw.js");
    if !template.is_file() {
        return Ok(());
    }
    let template = fs::read_to_string(&template).context("reading client/sw.js")?;
    let mut digest = Sha256::new();
    let mut assets = vec!["/".to_string()];
    for rel in files(dist)? {
        let path = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
        digest.update(path.as_bytes());
        digest.update(read(&dist.join(&rel))?);
        assets.push(path);
    }
    digest.update(template.as_bytes());
    let version: String = digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // A JSON array of strings; the names are plain paths, escaped all the same.
    let quoted: Vec<String> = assets
        .iter()
        .map(|a| format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let list = format!("[{}]", quoted.join(", "));
    let sw = template
        .replace("{{version}}", &version)
        .replace("{{assets}}", &list);
    fs::write(dist.join("sw.js"), sw).context("writing sw.js")
}

/// A table of raw, gzip and brotli sizes.
pub fn print_sizes(assets: &[Asset]) {
    let kb = |n: u64| format!("{:.1} KB", n as f64 / 1024.0);
    let opt = |n: Option<u64>| n.map_or("-".into(), kb);
    println!(
        "{:<36} {:>10} {:>10} {:>10}",
        "client/dist", "raw", "gzip", "brotli"
    );
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    for a in assets {
        println!(
            "{:<36} {:>10} {:>10} {:>10}",
            a.name,
            kb(a.raw),
            opt(a.gz),
            opt(a.br)
        );
        raw += a.raw;
        gz += a.gz.unwrap_or(a.raw);
        br += a.br.unwrap_or(a.raw);
    }
    println!(
        "{:<36} {:>10} {:>10} {:>10}",
        "total",
        kb(raw),
        kb(gz),
        kb(br)
    );
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn recreate_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Writes `bytes` as `<stem>-<hash>.<ext>` in `dir`; returns the file name.
fn write_hashed(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<String> {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("{stem}-{hash}.{ext}");
    fs::write(dir.join(&name), bytes).with_context(|| format!("writing {name}"))?;
    Ok(name)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else if let Ok(rel) = entry.path().strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether both folders hold the same files with the same bytes.
fn same_tree(a: &Path, b: &Path) -> bool {
    let (Ok(fa), Ok(fb)) = (files(a), files(b)) else {
        return false;
    };
    fa == fb && fa.iter().all(|rel| matches!((fs::read(a.join(rel)), fs::read(b.join(rel))), (Ok(x), Ok(y)) if x == y))
}

/// Writes `<file>.gz` (gzip, best) and `<file>.br` (brotli, quality 11) beside
/// every file, where they are smaller than the file itself.
fn precompress(dir: &Path) -> Result<Vec<Asset>> {
    let mut assets = Vec::new();
    for rel in files(dir)? {
        let path = dir.join(&rel);
        let bytes = read(&path)?;
        let gz = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&bytes)?;
            enc.finish()?
        };
        let br = {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut bytes.as_slice(), &mut out, &params)?;
            out
        };
        let keep = |suffix: &str, data: Vec<u8>| -> Result<Option<u64>> {
            if data.len() >= bytes.len() {
                return Ok(None);
            }
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            fs::write(&name, &data)
                .with_context(|| format!("writing {}", PathBuf::from(&name).display()))?;
            Ok(Some(data.len() as u64))
        };
        let gz = keep(".gz", gz)?;
        let br = keep(".br", br)?;
        assets.push(Asset {
            name: rel.to_string_lossy().into_owned(),
            raw: bytes.len() as u64,
            gz,
            br,
        });
    }
    Ok(assets)
}
