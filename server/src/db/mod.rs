//! Storage: one [`Db`] handle over SQLite (default, a file under `--data`) or
//! PostgreSQL (a `postgres://` URL).
//!
//! Both backends run the *same* SQL text: every query uses `$1`-style
//! placeholders (SQLite accepts them too), times are `i64` unix milliseconds and
//! blobs are bytes, so one function per query serves both. [`on_db!`] expands a
//! block once per backend with `$conn` bound to that backend's pool; SQL lives in
//! `queries/<area>.rs`. Migrations are per backend under `server/migrations/`.

pub mod queries;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The storage handle, cheap to clone (pools are reference counted).
#[derive(Clone, Debug)]
pub enum Db {
    /// The embedded default: one SQLite file in WAL mode, fsynced on every commit.
    Sqlite(SqlitePool),
    /// Shared storage for one or more server processes.
    Postgres(PgPool),
}

/// Runs the same block against whichever backend `db` is, with `$pool` bound to
/// the concrete pool. The block must type-check for both `SqlitePool` and `PgPool`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens (creating if needed) the database and runs the migrations.
    ///
    /// `database_url` wins when given (`postgres://…` or `sqlite:…`); otherwise
    /// the SQLite file `xieshang.db` under `data_dir` is used.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Db> {
        let db = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let opts = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                Db::Postgres(pool)
            }
            Some(url) => Db::Sqlite(open_sqlite(SqliteConnectOptions::from_str(url)?).await?),
            None => {
                std::fs::create_dir_all(data_dir)?;
                let opts = SqliteConnectOptions::new().filename(data_dir.join("xieshang.db"));
                Db::Sqlite(open_sqlite(opts).await?)
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Which backend, for logs and the health answer.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes the pools, waiting for checked-out connections.
    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

async fn open_sqlite(opts: SqliteConnectOptions) -> anyhow::Result<SqlitePool> {
    // WAL with synchronous=FULL: a commit is on disk (fsynced) before it returns,
    // which is what lets us acknowledge an update only after commit.
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(opts)
        .await?;
    Ok(pool)
}

/// Write transactions: on SQLite they begin IMMEDIATE, taking the write lock
/// up front, so two writers queue (busy timeout) instead of one failing with
/// "database is locked" when it tries to upgrade a read; on PostgreSQL a plain
/// BEGIN. Every transaction that writes starts with `pool.begin_write()`.
pub trait WritePool {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl WritePool for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WritePool for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

/// Milliseconds since the unix epoch: the one time representation in storage.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
