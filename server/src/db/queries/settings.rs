//! Process-wide settings that must be the same for every server process sharing
//! one database. (The key that signs session tokens used to live here; it is now
//! kept outside the database, see `auth::Keys::load`, so that a backup of the
//! database cannot mint sessions.)
//!
//! Values are text; callers encode binary values (base64) themselves.

use crate::db::Db;
use crate::on_db;

/// The value stored under `key`, if any.
pub async fn get(db: &Db, key: &str) -> sqlx::Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await)
}

/// Stores `value` under `key`, replacing any earlier value.
pub async fn set(db: &Db, key: &str, value: &str) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Removes `key`; answers whether it was there.
pub async fn delete(db: &Db, key: &str) -> sqlx::Result<bool> {
    on_db!(db, pool => sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// A trivial query: whether the database answers at all (`/healthz`).
pub async fn ping(db: &Db) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
}
