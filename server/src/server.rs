//! Assembling and running the server: the router, the listener, shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{watch, OnceCell};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, Keys};
use crate::config::Config;
use crate::db::Db;
use crate::docs::Registry;
use crate::state::AppState;

/// The whole HTTP surface: `/api`, `/sync`, `/healthz`, then the client.
/// Every response carries [`content_security_policy`] and the headers that
/// keep the app out of frames, MIME sniffing and other sites' referrers; no
/// logged URI shows a token.
pub fn app(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    let shell = crate::assets::router(static_dir.clone()).with_state(state.clone());
    let csp = Arc::new(OnceCell::<HeaderValue>::new());
    let set_csp = move |request: Request, next: Next| {
        let csp = Arc::clone(&csp);
        let shell = shell.clone();
        async move {
            let mut response = next.run(request).await;
            let value = csp.get_or_init(|| csp_for_shell(shell)).await;
            response
                .headers_mut()
                .insert(CONTENT_SECURITY_POLICY, value.clone());
            response
        }
    };
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
        let uri = request.uri().path_and_query().map_or("/", |p| p.as_str());
        tracing::debug_span!(
            "request",
            method = %request.method(),
            uri = %auth::redact_token(uri),
            version = ?request.version(),
        )
    });
    Router::new()
        .nest("/api", crate::routes::api_router())
        .merge(crate::routes::health_router())
        .merge(crate::ws::router())
        .merge(crate::assets::router(static_dir))
        .layer(axum::middleware::from_fn(set_csp))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(trace)
        .with_state(state)
}

/// The policy for everything this server sends: the client's own scripts, its
/// wasm (`'wasm-unsafe-eval'` lets `WebAssembly.instantiate` run, not `eval`),
/// styles (inline style attributes included: presence colours), `data:` images
/// (the empty favicon), fetch and WebSocket to this origin, the service worker,
/// and the inline module script of index.html by its hash. No frames, plugins
/// or foreign forms.
pub fn content_security_policy(inline_script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes {
        script_src.push_str(&format!(" '{hash}'"));
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

/// `sha256-…` of every inline `<script>` (one without `src`) in `html`, as the
/// browser hashes it: the exact text between the tags.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body.as_bytes()[..close]);
            hashes.push(format!("sha256-{}", STANDARD.encode(digest)));
        }
        rest = &body[close..];
    }
    hashes
}

/// The policy for the client being served: index.html is asked for once (at
/// the first response), plain, and its inline scripts hashed. A client that
/// is missing or changes later still gets a valid, stricter policy.
async fn csp_for_shell(mut shell: Router) -> HeaderValue {
    let request = Request::get("/").body(Body::empty());
    let html = match request {
        Ok(request) => match tower::Service::call(&mut shell, request).await {
            Ok(response) => axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
            Err(never) => match never {},
        },
        Err(_) => String::new(),
    };
    let policy = content_security_policy(&inline_script_hashes(&html));
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'"))
}

/// A server running in this process (tests, tools).
pub struct RunningServer {
    /// Where it listens (the real port when started on port 0).
    pub addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets owners finish their commits, closes storage.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops by itself (a signal, for the binary).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Opens storage, binds the listener and serves until [`RunningServer::shutdown`]
/// or, with `signals`, until SIGINT/SIGTERM.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    start_with(config, false).await
}

/// As [`start`], also stopping on SIGINT or SIGTERM (the binary).
pub async fn start_with(mut config: Config, signals: bool) -> anyhow::Result<RunningServer> {
    if config.static_dir.is_none() {
        // The embedded client, as files tower-http's ServeDir can serve.
        let data = config.storage.data.clone();
        let dir = tokio::task::spawn_blocking(move || crate::assets::unpack_embedded(&data))
            .await?
            .map_err(|e| anyhow::anyhow!("unpacking the embedded client: {e}"))?;
        config.static_dir = Some(dir);
    }
    let db = Db::open(&config.storage.data, config.storage.database_url.as_deref()).await?;
    let env_key = std::env::var(auth::SESSION_KEY_ENV).ok();
    let (keys, key_source) = Keys::load(&db, &config.storage.data, env_key.as_deref()).await?;
    tracing::info!(source = ?key_source, "session key loaded");
    let docs = Registry::new(db.clone(), &config);
    let state = AppState {
        db: db.clone(),
        config: Arc::new(config),
        keys: Arc::new(keys),
        docs: docs.clone(),
        sockets: Default::default(),
    };
    let listener = TcpListener::bind(state.config.addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => {}
                _ = signal(signals) => {}
            }
            // Close sync connections first: WebSocket upgrades keep axum's graceful
            // shutdown waiting otherwise.
            docs.shutdown().await;
        };
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            // Nagle's algorithm adds ~40 ms to small sync messages.
            let _ = tcp.set_nodelay(true);
        });
        // The peer address reaches handlers (sign-in throttling per address).
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server stopped with an error");
        }
        db.close().await;
    });
    Ok(RunningServer {
        addr,
        state,
        stop,
        task,
    })
}

async fn signal(enabled: bool) {
    if !enabled {
        return std::future::pending().await;
    }
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\n</script>\
                    <script src=\"/b.js\"></script></head>";
        let hashes = inline_script_hashes(html);
        let expected = STANDARD.encode(Sha256::digest(b"\nimport init from '/a.js';\n"));
        assert_eq!(hashes, [format!("sha256-{expected}")]);
        let policy = content_security_policy(&hashes);
        assert!(policy.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';"
        )));
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"));
        assert!(inline_script_hashes("<script>unterminated").is_empty());
    }
}
