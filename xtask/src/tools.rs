//! Installing what the build and the tests need, idempotently, from package
//! registries only (crates.io, npm, Debian). Each check is cheap when the tool
//! is already there; each install is printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};

use crate::sh::{self, Workspace};

/// The npm release of binaryen whose wasm-opt output works in browsers
/// (Debian's binaryen 108 produces a module that fails at `Table.set`).
const BINARYEN_VERSION: &str = "132";

/// What the client build runs besides cargo.
pub struct ClientTools {
    pub wasm_bindgen: PathBuf,
    pub wasm_opt: PathBuf,
}

/// The wasm target, wasm-bindgen-cli and wasm-opt.
pub fn client_tools(ws: &Workspace) -> Result<ClientTools> {
    sh::step("tools for the client");
    ensure_wasm_target()?;
    let wasm_bindgen = ensure_wasm_bindgen(ws)?;
    let wasm_opt = ensure_wasm_opt(ws)?;
    Ok(ClientTools {
        wasm_bindgen,
        wasm_opt,
    })
}

fn ensure_wasm_target() -> Result<()> {
    const TARGET: &str = "wasm32-unknown-unknown";
    match sh::probe(Command::new("rustup").args(["target", "list", "--installed"])) {
        Some(list) if list.lines().any(|l| l.trim() == TARGET) => {
            println!("rustup target {TARGET}: installed");
            Ok(())
        }
        Some(_) => sh::run(Command::new("rustup").args(["target", "add", TARGET])),
        None => {
            println!("rustup not found: assuming the toolchain has {TARGET}");
            Ok(())
        }
    }
}

/// The wasm-bindgen version in Cargo.lock: the CLI must be exactly that one.
pub fn locked_wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock_path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""# {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
            {
                return Ok(version.to_owned());
            }
        }
    }
    bail!("no wasm-bindgen package in {}", lock_path.display())
}

fn ensure_wasm_bindgen(ws: &Workspace) -> Result<PathBuf> {
    let version = locked_wasm_bindgen_version(&ws.root)?;
    let installed = sh::probe(Command::new("wasm-bindgen").arg("--version"));
    let wanted = format!("wasm-bindgen {version}");
    if installed.as_deref().map(str::trim) == Some(wanted.as_str()) {
        println!("{wanted}: installed");
    } else {
        let found = installed.map_or("none".into(), |v| v.trim().to_owned());
        println!("wasm-bindgen-cli {version} needed (found: {found})");
        // Without --locked: the CLI's own lock file names a crate version the
        // registry lacks. Its own target dir, not ours: nothing to share.
        sh::run(
            Command::new("cargo")
                .args(["install", "wasm-bindgen-cli", "--version", &version])
                .env_remove("CARGO_TARGET_DIR"),
        )?;
    }
    Ok(PathBuf::from("wasm-bindgen"))
}

fn ensure_wasm_opt(ws: &Workspace) -> Result<PathBuf> {
    let prefix = ws.tools_dir.join(format!("binaryen-{BINARYEN_VERSION}"));
    let bin = prefix.join("node_modules/.bin/wasm-opt");
    let has = |bin: &Path| {
        sh::probe(Command::new(bin).arg("--version"))
            .is_some_and(|v| v.contains(&format!("version {BINARYEN_VERSION}")))
    };
    if has(&bin) {
        println!(
            "wasm-opt (npm binaryen@{BINARYEN_VERSION}): installed in {}",
            prefix.display()
        );
        return Ok(bin);
    }
    ensure_npm()?;
    std::fs::create_dir_all(&prefix).with_context(|| format!("creating {}", prefix.display()))?;
    sh::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("binaryen@{BINARYEN_VERSION}")),
    )?;
    if !has(&bin) {
        bail!(
            "{} does not report version {BINARYEN_VERSION} after npm install",
            bin.display()
        );
    }
    Ok(bin)
}

fn ensure_npm() -> Result<()> {
    if sh::probe(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    Ok(())
}

/// Node packages for the tests (stock Yjs peers, playwright-core), and Chromium
/// when the browser tests need it.
pub fn test_packages(ws: &Workspace) -> Result<()> {
    sh::step("tools for the tests");
    let node_dir = ws.root.join("tests/node");
    let lock = node_dir.join("package-lock.json");
    if lock.is_file() {
        ensure_npm()?;
        // `npm ci` wipes node_modules; skip it when this exact lock is installed.
        let stamp = node_dir.join("node_modules/.xieshang-lock");
        let wanted = std::fs::read(&lock).with_context(|| format!("reading {}", lock.display()))?;
        if std::fs::read(&stamp).is_ok_and(|have| have == wanted) {
            println!("tests/node: node_modules matches package-lock.json");
        } else {
            sh::run(
                Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund"])
                    .current_dir(&node_dir),
            )?;
            std::fs::write(&stamp, &wanted)
                .with_context(|| format!("writing {}", stamp.display()))?;
        }
        let manifest = std::fs::read_to_string(node_dir.join("package.json")).unwrap_or_default();
        if manifest.contains("playwright") {
            ensure_chromium()?;
        }
    } else {
        println!("tests/node: no package-lock.json, no Node packages to install");
    }
    ensure_office()
}

/// The bulletin export test opens our DOCX in LibreOffice and reads the PDF back;
/// a CJK font is needed for the Chinese text to survive into the PDF.
fn ensure_office() -> Result<()> {
    let have_font = Path::new("/usr/share/fonts/opentype/noto").exists();
    if Path::new("/usr/bin/libreoffice").exists()
        && Path::new("/usr/bin/pdftotext").exists()
        && have_font
    {
        println!("libreoffice, pdftotext, CJK fonts: installed");
        return Ok(());
    }
    apt_install(&[
        "--no-install-recommends",
        "libreoffice-writer-nogui",
        "poppler-utils",
        "fonts-noto-cjk",
    ])
}

/// Debian's Chromium and its driver: the browser of the wasm and end-to-end tests.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The WebDriver that wasm-bindgen-test-runner talks to.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Debian's `chromium` and `chromium-driver` unless both are present.
pub fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        println!("chromium: installed");
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// The newest `/usr/lib/postgresql/<major>/bin`, installed from Debian if absent.
pub fn ensure_postgres() -> Result<PathBuf> {
    if let Some(bin) = find_postgres() {
        println!("postgresql: {}", bin.display());
        return Ok(bin);
    }
    apt_install(&["postgresql"])?;
    find_postgres().context("postgresql installed, but no /usr/lib/postgresql/*/bin/pg_ctl")
}

fn find_postgres() -> Option<PathBuf> {
    let entries = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

/// `apt-get update` once per run, then install `packages`.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    static UPDATED: AtomicBool = AtomicBool::new(false);
    let apt = || {
        let mut cmd = if sh::is_root() {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    println!("installing Debian packages: {}", packages.join(" "));
    if !UPDATED.swap(true, Ordering::SeqCst) {
        sh::run(apt().args(["update", "-q"]))?;
    }
    sh::run(apt().args(["install", "-y", "-q"]).args(packages))
}
