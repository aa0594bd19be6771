//! Named versions and the client-id → user map of attribution.
//!
//! A named version keeps the whole state (one v1 update), not only the text, so
//! it can be shown, diffed, attributed and restored long after the log that
//! produced it was compacted away.

use serde::Serialize;
use xieshang_shared::{DocId, UserId};

use crate::db::{now_ms, Db};
use crate::on_db;
use crate::records::DocState;

/// A stored named version.
#[derive(Debug, Clone, Serialize)]
pub struct NamedVersion {
    pub version: String,
    pub hash: String,
    /// Unix milliseconds when it was first named.
    pub at: i64,
    /// Who caused it to be named (signer, finalizer, restorer, viewer); none for periodic.
    pub by: Option<i64>,
    /// `signoff`, `finalize`, `restore`, `viewed`, `periodic`, `amend`.
    pub reason: String,
    #[serde(skip)]
    pub text: String,
    #[serde(skip)]
    pub state: Vec<u8>,
}

type Row = (String, String, i64, Option<i64>, String, String, Vec<u8>);

fn from_row(r: Row) -> NamedVersion {
    let (version, hash, at, by, reason, text, state) = r;
    NamedVersion {
        version,
        hash,
        at,
        by,
        reason,
        text,
        state,
    }
}

/// Names `state` (idempotent: a version already named keeps its first name).
pub async fn store(
    db: &Db,
    doc: DocId,
    state: &DocState,
    reason: &str,
    by: Option<UserId>,
) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO doc_versions (doc_id, version, hash, text, state, reason, by_user, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (doc_id, version) DO NOTHING",
    )
    .bind(doc)
    .bind(&state.version)
    .bind(&state.hash)
    .bind(&state.text)
    .bind(&state.state)
    .bind(reason)
    .bind(by.map(|u| u.0))
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Every named version of `doc`, oldest first (without state bytes and text).
pub async fn list(db: &Db, doc: DocId) -> sqlx::Result<Vec<NamedVersion>> {
    let rows: Vec<(String, String, i64, Option<i64>, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT version, hash, at, by_user, reason FROM doc_versions WHERE doc_id = $1 ORDER BY id",
    )
    .bind(doc)
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(v, h, at, by, reason)| from_row((v, h, at, by, reason, String::new(), Vec::new())))
        .collect())
}

/// One named version with its text and state, if `doc` has it.
pub async fn get(db: &Db, doc: DocId, version: &str) -> sqlx::Result<Option<NamedVersion>> {
    let row: Option<Row> = on_db!(db, pool => sqlx::query_as(
        "SELECT version, hash, at, by_user, reason, text, state FROM doc_versions WHERE doc_id = $1 AND version = $2",
    )
    .bind(doc)
    .bind(version)
    .fetch_optional(pool)
    .await?);
    Ok(row.map(from_row))
}

/// The user each known yrs client id of `doc` belongs to.
pub async fn authors(db: &Db, doc: DocId) -> sqlx::Result<Vec<(u64, i64, String)>> {
    let rows: Vec<(i64, i64, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT a.client_id, a.user_id, u.display_name FROM doc_authors a JOIN users u ON u.id = a.user_id \
         WHERE a.doc_id = $1",
    )
    .bind(doc)
    .fetch_all(pool)
    .await?);
    Ok(rows.into_iter().map(|(c, u, n)| (c as u64, u, n)).collect())
}
