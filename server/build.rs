//! Makes sure `client/dist` exists, so the client can be embedded (rust-embed)
//! and a plain `cargo build` works before `cargo xtask build` has made it.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("../client/dist");
    if !dist.exists() {
        if let Err(e) = std::fs::create_dir_all(&dist) {
            println!("cargo::warning=could not create {}: {e}", dist.display());
        }
    }
    println!("cargo::rerun-if-changed=build.rs");
    // Release builds embed the files, so they must be rebuilt when the client is;
    // debug builds read them from disk at run time and need not be.
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo::rerun-if-changed={}", dist.display());
    }
}
