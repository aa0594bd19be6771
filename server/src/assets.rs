//! The built client (`client/dist`, made by `cargo xtask build`), served by the
//! same binary so one process is the whole product.
//!
//! Serving is tower-http's `ServeDir` (precompressed `.br` / `.gz` chosen by
//! `Accept-Encoding` with q-values, `Last-Modified` and conditional
//! requests, `HEAD`, ranges, no path may leave the folder). What is ours:
//!
//! - Where the files are: `--static-dir` when given, else the copy embedded at
//!   compile time (rust-embed; debug builds read `client/dist` from disk),
//!   written once at start to `<data>/client` by [`unpack_embedded`].
//! - Cache headers (and `Vary: accept-encoding`): content-hashed names (`<stem>-<16 hex>.<ext>`) are cached
//!   for a year; everything else (index.html, sw.js) is revalidated (`no-cache`).
//! - Paths without a file extension that match no file are client routes
//!   (`/topics/3`): they get index.html. `/api/…` and `/sync/…` never do.
//! - Text types carry `charset=utf-8`, and JavaScript is `text/javascript`.

use std::convert::Infallible;
use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::AppError;

/// The client as compiled into the binary.
#[derive(rust_embed::RustEmbed)]
#[folder = "../client/dist"]
struct Embedded;

const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The client, as the fallback of the app's router (after `/api`, `/sync`,
/// `/healthz`), served from `static_dir` (`None`: no client, every page 404).
pub fn router(static_dir: Option<PathBuf>) -> Router<crate::AppState> {
    routes(static_dir)
}

/// [`router`] for any router state (unit tests use `()`).
fn routes<S: Clone + Send + Sync + 'static>(static_dir: Option<PathBuf>) -> Router<S> {
    // No folder at all: one that cannot exist, so every lookup misses.
    let dir = static_dir.unwrap_or_else(|| PathBuf::from("/nonexistent/xieshang-client"));
    let shell = ServeFile::new(dir.join(INDEX))
        .precompressed_br()
        .precompressed_gzip();
    let client_route = tower::service_fn(move |request: Request| {
        let shell = shell.clone();
        async move {
            if has_extension(request.uri().path()) {
                // A missing asset (a stale hashed name, a typo) is a 404, not a page.
                return Ok::<_, Infallible>(not_found());
            }
            // A client route: the app shell routes it in the browser.
            let response = shell.oneshot(request).await?;
            Ok(match response.status() {
                StatusCode::NOT_FOUND => not_found(),
                _ => response.map(axum::body::Body::new),
            })
        }
    });
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .fallback(client_route);
    Router::new().fallback(move |request: Request| {
        let files = files.clone();
        async move {
            let path = request.uri().path().to_owned();
            if is_server_path(&path) {
                return AppError::NotFound.into_response();
            }
            let request = if path == "/" {
                to_index(request)
            } else {
                request
            };
            let Ok(response) = files.oneshot(request).await;
            finish(&path, response.map(axum::body::Body::new))
        }
    })
}

/// `/` is the shell itself (ServeDir would look for a directory listing).
fn to_index(mut request: Request) -> Request {
    if let Ok(uri) = format!("/{INDEX}").parse() {
        *request.uri_mut() = uri;
    }
    request
}

/// Our headers on what ServeDir answered for `path`: caching by name, and a
/// content type with its charset.
fn finish(path: &str, mut response: Response) -> Response {
    let status = response.status();
    let headers = response.headers_mut();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let cache = if is_hashed(path) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        // ServeDir picks `.br` / `.gz` by Accept-Encoding but does not say so;
        // without this a shared cache could hand brotli to a client without it.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let typed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(with_charset);
    if let Some(value) = typed {
        headers.insert(header::CONTENT_TYPE, value);
    }
    response
}

/// `text/javascript; charset=utf-8` for JavaScript, and `; charset=utf-8`
/// added to other text and JSON types that lack one; `None` to keep the type.
fn with_charset(content_type: &str) -> Option<HeaderValue> {
    let mime: mime_guess::Mime = content_type.parse().ok()?;
    if mime.essence_str() == "application/javascript" || mime.essence_str() == "text/javascript" {
        return Some(HeaderValue::from_static("text/javascript; charset=utf-8"));
    }
    let text = mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JSON
        || mime.suffix() == Some(mime_guess::mime::JSON);
    if !text || mime.get_param("charset").is_some() {
        return None;
    }
    HeaderValue::from_str(&format!("{mime}; charset=utf-8")).ok()
}

/// Writes the embedded client to `<data>/client` (replacing what an earlier
/// start left there) and answers that folder, for [`router`]. Files keep the
/// time they were built, so `Last-Modified` survives restarts.
pub fn unpack_embedded(data: &Path) -> std::io::Result<PathBuf> {
    let dir = data.join("client");
    let fresh = data.join(format!("client.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh)?;
    for name in Embedded::iter() {
        let Some(file) = Embedded::get(&name) else {
            continue;
        };
        if !is_clean(&name) {
            tracing::warn!(%name, "embedded client file with an odd name; skipped");
            continue;
        }
        let target = fresh.join(name.as_ref());
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &file.data)?;
        if let Some(secs) = file.metadata.last_modified() {
            let built = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            std::fs::File::options()
                .write(true)
                .open(&target)?
                .set_modified(built)?;
        }
    }
    let old = data.join(format!("client.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(&dir, &old)?;
    }
    std::fs::rename(&fresh, &dir)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(dir)
}

/// `/api` and `/sync` belong to the server: an unknown path there is a JSON 404.
fn is_server_path(path: &str) -> bool {
    ["/api", "/sync"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// Whether an embedded name is a plain relative path (no `..`, no empty or
/// odd segments), so unpacking it stays inside the folder.
fn is_clean(path: &str) -> bool {
    path.split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['\\', '\0', ':']))
}

fn has_extension(path: &str) -> bool {
    Path::new(path).extension().is_some()
}

/// `<stem>-<16 lowercase hex>.<ext>`, as the xtask names hashed files.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        hash.len() == 16
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, REVALIDATE),
        ],
        "not found (if this is the app itself: build the client with `cargo xtask build`)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests;
