//! The client's files as a browser gets them: these define the behaviour.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, StatusCode};
use tower::ServiceExt;

use super::*;

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

async fn get(dir: &Path, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
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
        assert!(headers.contains_key(header::LAST_MODIFIED));
    }
    let (_, headers, _) = get(&dir, "/sw.js", &[]).await;
    assert_eq!(header(&headers, header::CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn last_modified_answers_not_modified() {
    let dir = dist();
    for path in ["/", "/topics/3", "/sw.js"] {
        let (_, headers, _) = get(&dir, path, &[]).await;
        let since = header(&headers, header::LAST_MODIFIED).to_owned();
        assert!(!since.is_empty(), "{path}");
        let (status, headers, body) = get(&dir, path, &[("if-modified-since", &since)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&headers, header::CACHE_CONTROL), "no-cache");
        assert!(body.is_empty());
    }
    let (status, _, _) = get(
        &dir,
        "/",
        &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "changed since then");
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
fn text_types_get_their_charset() {
    let typed = |ct: &str| with_charset(ct).map(|v| v.to_str().unwrap_or_default().to_owned());
    assert_eq!(
        typed("text/html").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        typed("application/javascript").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        typed("application/manifest+json").as_deref(),
        Some("application/manifest+json; charset=utf-8")
    );
    assert_eq!(typed("text/css; charset=utf-8"), None);
    assert_eq!(typed("application/wasm"), None);
    assert_eq!(typed("image/png"), None);
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

#[test]
fn unpacking_replaces_what_an_earlier_start_left() {
    let data = dist();
    std::fs::create_dir_all(data.join("client")).unwrap();
    std::fs::write(data.join("client/stale-0123456789abcdef.js"), "old").unwrap();
    let dir = unpack_embedded(&data).unwrap();
    assert_eq!(dir, data.join("client"));
    assert!(!dir.join("stale-0123456789abcdef.js").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&*data)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("client."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    for name in Embedded::iter() {
        assert!(dir.join(name.as_ref()).is_file(), "{name}");
    }
}

#[test]
fn embedded_names_stay_inside() {
    assert!(is_clean("index.html") && is_clean("snippets/a/b.js"));
    for bad in ["", "/x", "a//b", "../x", "a/./b", "a\\b", "c:x"] {
        assert!(!is_clean(bad), "{bad}");
    }
}
