//! The built client (`client/dist`, made by `cargo xtask build`), served by the
//! same binary so one process is the whole product.
//!
//! - Files come from `--static-dir` when given, else from the copy embedded at
//!   compile time (rust-embed; debug builds read `client/dist` from disk).
//! - `<file>.br` / `<file>.gz` beside a file are sent instead when the request's
//!   `Accept-Encoding` allows, with `Content-Encoding` and `Vary: Accept-Encoding`.
//! - Content-hashed names (`<stem>-<16 hex>.<ext>`) are cached for a year;
//!   everything else (index.html, sw.js) is revalidated (`no-cache` + ETag).
//! - Paths without a file extension that match no file are client routes
//!   (`/topics/3`): they get index.html. `/api/…` and `/sync/…` never do.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The client as compiled into the binary.
#[derive(rust_embed::RustEmbed)]
#[folder = "../client/dist"]
struct Embedded;

const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The client, as the fallback of the app's router (after `/api`, `/sync`, `/healthz`).
pub fn router(static_dir: Option<PathBuf>) -> Router<crate::AppState> {
    routes(static_dir)
}

/// [`router`] for any router state (unit tests use `()`).
fn routes<S: Clone + Send + Sync + 'static>(static_dir: Option<PathBuf>) -> Router<S> {
    let source = Arc::new(match static_dir {
        Some(dir) => Source::Dir(dir),
        None => Source::Embedded,
    });
    Router::new().fallback(move |req: Request| {
        let source = Arc::clone(&source);
        async move { respond(&source, req.method(), req.uri().path(), req.headers()).await }
    })
}

/// Where the files are.
enum Source {
    Embedded,
    Dir(PathBuf),
}

impl Source {
    /// The bytes of `path` (already checked by [`clean_path`]), if it is a file.
    async fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        match self {
            Source::Embedded => Embedded::get(path).map(|file| file.data),
            Source::Dir(dir) => match tokio::fs::read(dir.join(path)).await {
                Ok(bytes) => Some(Cow::Owned(bytes)),
                Err(e) => {
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                    ) {
                        tracing::warn!(path, error = %e, "reading a static file");
                    }
                    None
                }
            },
        }
    }
}

async fn respond(
    source: &Source,
    method: &Method,
    uri_path: &str,
    headers: &HeaderMap,
) -> Response {
    if is_server_path(uri_path) {
        return AppError::NotFound.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        let mut res = StatusCode::METHOD_NOT_ALLOWED.into_response();
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let requested = match uri_path.trim_start_matches('/') {
        "" => Some(INDEX),
        path => clean_path(path),
    };
    let path = match requested {
        Some(path) if source.get(path).await.is_some() => path,
        // A missing asset (a stale hashed name, a typo) is a 404, not a page.
        Some(path) if has_extension(path) => return not_found(),
        // A client route: the app shell routes it in the browser.
        _ => INDEX,
    };
    let Some(file) = pick_encoding(source, path, headers).await else {
        return not_found();
    };
    let (body, encoding) = file;
    build(method, path, body, encoding, headers)
}

/// The answer for one file (the encoded variant in `body`).
fn build(
    method: &Method,
    path: &str,
    body: Cow<'static, [u8]>,
    encoding: Option<&'static str>,
    request: &HeaderMap,
) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, content_type(path));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if is_hashed(path) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    } else {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
        let digest = Sha256::digest(&body);
        let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(etag) = HeaderValue::from_str(&format!("\"{tag}\"")) {
            let matched = request
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|v| v.trim().trim_start_matches("W/") == etag.to_str().unwrap_or_default());
            headers.insert(header::ETAG, etag);
            if matched {
                return (StatusCode::NOT_MODIFIED, headers).into_response();
            }
        }
    }
    if method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        return (headers, Body::empty()).into_response();
    }
    let body = match body {
        Cow::Borrowed(bytes) => Body::from(bytes),
        Cow::Owned(bytes) => Body::from(bytes),
    };
    (headers, body).into_response()
}

/// The best variant of `path` the client accepts: brotli, then gzip, then as is.
async fn pick_encoding(
    source: &Source,
    path: &str,
    headers: &HeaderMap,
) -> Option<(Cow<'static, [u8]>, Option<&'static str>)> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let accept = accept.join(",");
    for (coding, suffix) in [("br", ".br"), ("gzip", ".gz")] {
        if accepts(&accept, coding) {
            if let Some(body) = source.get(&format!("{path}{suffix}")).await {
                return Some((body, Some(coding)));
            }
        }
    }
    source.get(path).await.map(|body| (body, None))
}

/// Whether an `Accept-Encoding` value allows `coding` (q > 0; an explicit entry
/// overrides `*`).
fn accepts(accept: &str, coding: &str) -> bool {
    let mut wildcard = None;
    for part in accept.split(',') {
        let mut fields = part.split(';');
        let name = fields.next().unwrap_or_default().trim();
        let q = fields
            .find_map(|f| f.trim().strip_prefix("q="))
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        if name.eq_ignore_ascii_case(coding) {
            return q > 0.0;
        }
        if name == "*" {
            wildcard = Some(q > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// `/api` and `/sync` belong to the server: an unknown path there is a JSON 404.
fn is_server_path(path: &str) -> bool {
    ["/api", "/sync"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The request path as a relative file path, or `None` if it could leave the
/// folder or name no file (`..`, empty segments, backslashes, NUL).
fn clean_path(path: &str) -> Option<&str> {
    let ok = path.split('/').all(|seg| {
        !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['\\', '\0', ':'])
    });
    ok.then_some(path)
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

fn content_type(path: &str) -> HeaderValue {
    let mime = match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("wasm") => return HeaderValue::from_static("application/wasm"),
        Some("js" | "mjs") => return HeaderValue::from_static("text/javascript; charset=utf-8"),
        _ => mime_guess::from_path(path).first_or_octet_stream(),
    };
    let text = mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JSON
        || mime.suffix() == Some(mime_guess::mime::JSON);
    let value = if text && mime.get_param("charset").is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
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
mod tests {
    use super::*;
    use tower::ServiceExt;

    const JS: &str = "xieshang-0123456789abcdef.js";
    const WASM: &str = "xieshang_bg-fedcba9876543210.wasm";

    /// A dist folder: index.html, a hashed js with both variants, a wasm with gzip
    /// only. Removed when dropped.
    struct Dist(PathBuf);

    impl std::ops::Deref for Dist {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dist {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dist() -> Dist {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xieshang-assets-{}-{n}", std::process::id()));
        std::fs::create_dir_all(dir.join("snippets")).unwrap();
        for (name, body) in [
            ("index.html", "<!doctype html>shell"),
            (JS, "raw js"),
            (&format!("{JS}.br") as &str, "br js"),
            (&format!("{JS}.gz"), "gz js"),
            (WASM, "raw wasm"),
            (&format!("{WASM}.gz"), "gz wasm"),
            ("sw.js", "self"),
        ] {
            std::fs::write(dir.join(name), body).unwrap();
        }
        Dist(dir)
    }

    async fn get(
        dir: &Path,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        get_with(dir, Method::GET, path, headers).await
    }

    async fn get_with(
        dir: &Path,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = axum::http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = routes::<()>(Some(dir.to_path_buf()))
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn root_and_client_routes_get_the_shell_revalidated() {
        let dir = dist();
        for path in ["/", "/index.html", "/login", "/topics/3", "/docs/12/"] {
            let (status, headers, body) = get(&dir, path, &[]).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(body, "<!doctype html>shell", "{path}");
            assert_eq!(
                header(&headers, header::CONTENT_TYPE),
                "text/html; charset=utf-8"
            );
            assert_eq!(header(&headers, header::CACHE_CONTROL), "no-cache");
            assert!(headers.contains_key(header::ETAG));
        }
        let (_, headers, _) = get(&dir, "/sw.js", &[]).await;
        assert_eq!(header(&headers, header::CACHE_CONTROL), "no-cache");
    }

    #[tokio::test]
    async fn etag_answers_not_modified() {
        let dir = dist();
        let (_, headers, _) = get(&dir, "/", &[]).await;
        let etag = header(&headers, header::ETAG).to_owned();
        let (status, _, body) = get(&dir, "/", &[("if-none-match", &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
    }

    #[tokio::test]
    async fn hashed_files_are_immutable_and_precompressed() {
        let dir = dist();
        let path = format!("/{JS}");
        let (status, headers, body) =
            get(&dir, &path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "br js");
        assert_eq!(header(&headers, header::CONTENT_ENCODING), "br");
        assert_eq!(header(&headers, header::VARY), "accept-encoding");
        assert_eq!(header(&headers, header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(
            header(&headers, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );

        let (_, headers, body) = get(&dir, &path, &[("accept-encoding", "gzip, br;q=0")]).await;
        assert_eq!(
            (body.as_str(), header(&headers, header::CONTENT_ENCODING)),
            ("gz js", "gzip")
        );
        let (_, headers, body) = get(&dir, &path, &[]).await;
        assert_eq!(
            (body.as_str(), header(&headers, header::CONTENT_ENCODING)),
            ("raw js", "")
        );
        let (_, headers, body) = get(&dir, &path, &[("accept-encoding", "identity")]).await;
        assert_eq!(
            (body.as_str(), header(&headers, header::CONTENT_ENCODING)),
            ("raw js", "")
        );
    }

    #[tokio::test]
    async fn wasm_has_its_type_and_falls_back_to_gzip() {
        let dir = dist();
        let (status, headers, body) = get(
            &dir,
            &format!("/{WASM}"),
            &[("accept-encoding", "br, gzip")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "gz wasm");
        assert_eq!(header(&headers, header::CONTENT_TYPE), "application/wasm");
        assert_eq!(header(&headers, header::CONTENT_ENCODING), "gzip");
    }

    #[tokio::test]
    async fn head_has_headers_and_no_body() {
        let dir = dist();
        let (status, headers, body) = get_with(&dir, Method::HEAD, &format!("/{JS}"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, header::CONTENT_LENGTH), "6");
        assert!(body.is_empty());
        let (status, _, _) = get_with(&dir, Method::POST, "/", &[]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn missing_files_and_server_paths_are_not_the_shell() {
        let dir = dist();
        for path in ["/xieshang-1111111111111111.js", "/favicon.ico"] {
            let (status, _, body) = get(&dir, path, &[]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!body.contains("shell"), "{path}");
        }
        for path in ["/api", "/api/nope", "/sync/x/y"] {
            let (status, headers, body) = get(&dir, path, &[]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(header(&headers, header::CONTENT_TYPE).starts_with("application/json"));
            assert!(body.contains("not_found"), "{path}: {body}");
        }
        // `/apiary` is not the API.
        assert_eq!(get(&dir, "/apiary", &[]).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn paths_cannot_leave_the_folder() {
        let dir = dist();
        let inner = dir.join("inner");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(dir.join("secret.txt"), "secret").unwrap();
        for path in [
            "/../secret.txt",
            "/a/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/inner/../secret.txt",
        ] {
            let res = routes::<()>(Some(inner.clone()))
                .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("secret"),
                "{path}"
            );
        }
    }

    #[test]
    fn accept_encoding_rules() {
        assert!(accepts("gzip, br", "br"));
        assert!(accepts("BR;q=0.5", "br"));
        assert!(!accepts("br;q=0", "br"));
        assert!(!accepts("gzip", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(!accepts("", "gzip"));
    }

    #[test]
    fn hashed_names() {
        assert!(is_hashed(JS));
        assert!(is_hashed("snippets/x/style-0123456789abcdef.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("sw.js"));
        assert!(!is_hashed("a-0123456789ABCDEF.js"));
        assert!(!is_hashed("a-0123.js"));
    }
}
