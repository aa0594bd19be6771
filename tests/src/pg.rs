//! A fresh PostgreSQL database for each test that asks for one.
//!
//! `cargo xtask test` starts a throwaway cluster and sets
//! `XIESHANG_TEST_DATABASE_URL`; each test then creates its own database
//! `xs_<random>` on it, so tests never see each other's rows. Without the
//! variable the PostgreSQL variants print a notice and pass without running,
//! except under CI, where they fail ([`crate::skip_or_fail`]).

use anyhow::{Context, Result};
use rand::Rng;
use sqlx::Connection;

/// The variable naming the throwaway cluster (any database on it we may connect to).
pub const ENV: &str = "XIESHANG_TEST_DATABASE_URL";

/// A new empty database's URL, or `None` (with a printed notice) when no
/// cluster is configured, in which case the caller skips its test; under CI
/// a missing cluster panics instead.
pub async fn fresh_database(test: &str) -> Result<Option<String>> {
    let Some(admin_url) = std::env::var(ENV).ok().filter(|u| !u.is_empty()) else {
        let missing = format!(
            "{ENV} is not set (run under `cargo xtask postgres cargo test …`; `cargo xtask test` sets it)"
        );
        crate::skip_or_fail(test, "PostgreSQL part", &missing);
        return Ok(None);
    };
    let name = format!("xs_{:016x}", rand::thread_rng().gen::<u64>());
    let mut conn = sqlx::postgres::PgConnection::connect(&admin_url)
        .await
        .with_context(|| format!("connecting to {ENV}"))?;
    // The name is ours (hex digits), never input: safe to splice.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .with_context(|| format!("CREATE DATABASE {name}"))?;
    conn.close().await.ok();
    println!("[{test}] running on PostgreSQL database {name}");
    Ok(Some(with_database(&admin_url, &name)))
}

/// `url` with its database name replaced by `db` (query parameters kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{db}?{q}"),
        None => format!("{scheme}://{authority}/{db}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5433/postgres", "xs_1"),
            "postgres://u:p@127.0.0.1:5433/xs_1"
        );
        assert_eq!(
            with_database("postgres://u@h:1?sslmode=disable", "d"),
            "postgres://u@h:1/d?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://u@%2Ftmp%2Fpg/postgres?host=/tmp", "d"),
            "postgresql://u@%2Ftmp%2Fpg/d?host=/tmp"
        );
    }
}
