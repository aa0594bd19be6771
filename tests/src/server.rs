//! [`TestServer`]: the server started inside the test process on port 0, over a
//! SQLite file in a temp dir or a fresh PostgreSQL database.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use tempfile::TempDir;
use xieshang_server::auth;
use xieshang_server::db::queries::users::{self, NewUser};
use xieshang_server::{AppState, Config, RunningServer};
use xieshang_shared::UserId;

use crate::api::{AddUsers, Api, Committee};

/// Where the server keeps its data.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The embedded default: `xieshang.db` under the server's data dir.
    Sqlite,
    /// A `postgres://` URL of a database of its own (see [`crate::pg`]).
    Postgres(String),
}

impl Backend {
    /// A fresh PostgreSQL database, or `None` (notice printed) when none is configured.
    pub async fn postgres(test: &str) -> Result<Option<Backend>> {
        Ok(crate::pg::fresh_database(test)
            .await?
            .map(Backend::Postgres))
    }

    /// SQLite, and PostgreSQL when a cluster is configured: the backends a
    /// test that touches storage runs on.
    pub async fn all(test: &str) -> Result<Vec<Backend>> {
        let mut all = vec![Backend::Sqlite];
        all.extend(Backend::postgres(test).await?);
        Ok(all)
    }

    /// `sqlite` or `postgres`, for printed figures.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The `--database-url` for this backend, if any.
    pub fn database_url(&self) -> Option<&str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres(url) => Some(url),
        }
    }
}

/// The real server, in this process, on 127.0.0.1 and a port the OS picked.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its HTTP API.
    pub api: Api,
    /// Which storage it runs on.
    pub backend: Backend,
    running: Option<RunningServer>,
    state: AppState,
    /// Holds the data dir (the SQLite file) until the server is gone.
    _dir: TempDir,
}

impl TestServer {
    /// Starts a server with default limits.
    pub async fn start(backend: Backend) -> Result<TestServer> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server after `tweak` has adjusted its configuration (limits).
    pub async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> Result<TestServer> {
        Self::start_in(tempfile::tempdir()?, backend, tweak).await
    }

    /// Starts a server over a data dir the caller prepared (for example a
    /// SQLite file `xieshang.db` made by an earlier release).
    pub async fn start_in(
        dir: TempDir,
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> Result<TestServer> {
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        config.storage.database_url = backend.database_url().map(str::to_string);
        tweak(&mut config);
        let running = xieshang_server::start(config)
            .await
            .context("starting the server")?;
        let addr = running.addr;
        let state = running.state.clone();
        Ok(TestServer {
            addr,
            api: Api::new(addr),
            backend,
            running: Some(running),
            state,
            _dir: dir,
        })
    }

    /// The server's shared state (its database, keys, open documents).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Staff, `members` participants and an outsider, with one topic.
    pub async fn committee(&self, members: usize) -> Result<Committee> {
        Committee::setup(self, &self.api, members).await
    }

    /// A token for `user` correctly signed with this server's key but expired an hour ago.
    pub fn expired_token(&self, user: i64) -> String {
        let issued = xieshang_server::db::now_ms() - 2 * 3_600_000;
        auth::issue_token_at(
            &self.state.keys,
            UserId(user),
            issued,
            Duration::from_secs(3600),
        )
    }

    /// Stops the server gracefully (it flushes open documents first).
    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }
}

impl AddUsers for TestServer {
    async fn add_user(&self, username: &str, role: &str) -> Result<()> {
        let role = users::parse_role(role).map_err(|e| anyhow::anyhow!("{e}"))?;
        let hash = tokio::task::spawn_blocking(|| auth::hash_password(crate::PASSWORD))
            .await?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let new = NewUser {
            username,
            display_name: username,
            role,
            invited: false,
            sector: None,
            site: None,
            password_hash: &hash,
        };
        users::add_user(&self.state.db, &new)
            .await
            .map_err(|e| anyhow::anyhow!("add_user {username}: {e}"))?;
        Ok(())
    }
}
