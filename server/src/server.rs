//! Assembling and running the server: the router, the listener, shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

use crate::auth::Keys;
use crate::config::Config;
use crate::db::Db;
use crate::docs::Registry;
use crate::state::AppState;

/// The whole HTTP surface: `/api`, `/sync`, `/healthz`, then the client.
pub fn app(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    Router::new()
        .nest("/api", crate::routes::api_router())
        .merge(crate::routes::health_router())
        .merge(crate::ws::router())
        .merge(crate::assets::router(static_dir))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
pub async fn start_with(config: Config, signals: bool) -> anyhow::Result<RunningServer> {
    let db = Db::open(&config.storage.data, config.storage.database_url.as_deref()).await?;
    let keys = Keys::load_or_create(&db).await?;
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
        if let Err(e) = axum::serve(listener, router)
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
