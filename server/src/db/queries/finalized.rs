//! Finalized versions (定稿) and amendments.
//!
//! Finalizing is one transaction: the immutable row (text, hash, state, the
//! sign-offs, the absent and why, who, when, the bulletin number), the named
//! version, and `docs.finalized`. The bulletin number is the next in the
//! committee's sequence ("第N期"), unique, assigned inside that transaction.

use serde::{Deserialize, Serialize};
use xieshang_shared::{DocId, DocKind, TopicId, UserId};

use super::signoffs::Signoff;
use crate::db::{now_ms, Db, WritePool};
use crate::on_db;
use crate::records::DocState;

/// The finalized version as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FinalizedVersion {
    pub doc: DocId,
    pub version: String,
    pub hash: String,
    pub text: String,
    /// The sign-offs on exactly this version.
    pub signoffs: Vec<Signoff>,
    /// Participants who did not sign (user ids); non-empty only with a reason.
    pub absent: Vec<i64>,
    pub absent_reason: Option<String>,
    pub finalized_by: i64,
    pub at: i64,
    /// The bulletin's sequence number (第N期).
    pub bulletin_no: i64,
}

/// The counter of bulletin numbers.
const BULLETIN: &str = "bulletin";

/// Takes the next number of a counter (`$1`) inside the transaction that uses
/// it (see `counters` in the migrations): unique and gapless however many
/// transactions take one at once. Shared by every numbered series.
pub(crate) const TAKE_NUMBER: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";

/// What the route has decided; the number and time are assigned here.
pub struct NewFinalized<'a> {
    pub doc: DocId,
    pub state: &'a DocState,
    pub signoffs: Vec<Signoff>,
    pub absent: Vec<i64>,
    pub absent_reason: Option<String>,
    pub by: UserId,
}

/// Stores the finalized version, names it and marks the document finalized, in
/// one transaction. Fails (unique key) if the document was finalized already.
pub async fn finalize(db: &Db, new: NewFinalized<'_>) -> sqlx::Result<FinalizedVersion> {
    let at = now_ms();
    let signoffs_json = serde_json::to_string(&new.signoffs).unwrap_or_else(|_| "[]".into());
    let absent_json = serde_json::to_string(&new.absent).unwrap_or_else(|_| "[]".into());
    let s = new.state;
    let bulletin_no: i64 = on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let n: i64 = sqlx::query_scalar(TAKE_NUMBER)
            .bind(BULLETIN)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO finalized_versions (doc_id, version, hash, text, state, signoffs, absent, absent_reason, \
             finalized_by, bulletin_no, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new.doc)
        .bind(&s.version)
        .bind(&s.hash)
        .bind(&s.text)
        .bind(&s.state)
        .bind(&signoffs_json)
        .bind(&absent_json)
        .bind(&new.absent_reason)
        .bind(new.by.0)
        .bind(n)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO doc_versions (doc_id, version, hash, text, state, reason, by_user, at) \
             VALUES ($1, $2, $3, $4, $5, 'finalize', $6, $7) ON CONFLICT (doc_id, version) DO NOTHING",
        )
        .bind(new.doc)
        .bind(&s.version)
        .bind(&s.hash)
        .bind(&s.text)
        .bind(&s.state)
        .bind(new.by.0)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE docs SET finalized = TRUE WHERE id = $1")
            .bind(new.doc)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        n
    });
    Ok(FinalizedVersion {
        doc: new.doc,
        version: s.version.clone(),
        hash: s.hash.clone(),
        text: s.text.clone(),
        signoffs: new.signoffs,
        absent: new.absent,
        absent_reason: new.absent_reason,
        finalized_by: new.by.0,
        at,
        bulletin_no,
    })
}

type Row = (
    String,
    String,
    String,
    Vec<u8>,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
);

/// The finalized version of `doc` and its state bytes, if it was finalized.
pub async fn get(db: &Db, doc: DocId) -> sqlx::Result<Option<(FinalizedVersion, Vec<u8>)>> {
    let row: Option<Row> = on_db!(db, pool => sqlx::query_as(
        "SELECT version, hash, text, state, signoffs, absent, absent_reason, finalized_by, bulletin_no, at \
         FROM finalized_versions WHERE doc_id = $1",
    )
    .bind(doc)
    .fetch_optional(pool)
    .await?);
    let Some((version, hash, text, state, signoffs, absent, absent_reason, by, no, at)) = row
    else {
        return Ok(None);
    };
    let bad = |what: &str, e: serde_json::Error| {
        sqlx::Error::Decode(format!("finalized_versions.{what}: {e}").into())
    };
    let fv = FinalizedVersion {
        doc,
        version,
        hash,
        text,
        signoffs: serde_json::from_str(&signoffs).map_err(|e| bad("signoffs", e))?,
        absent: serde_json::from_str(&absent).map_err(|e| bad("absent", e))?,
        absent_reason,
        finalized_by: by,
        at,
        bulletin_no: no,
    };
    Ok(Some((fv, state)))
}

/// Creates a new document of `kind` in `topic` that amends `amends`, seeded with
/// `seed` (one v1 update, written by yrs client `seed.1`) attributed to `by`.
pub async fn create_amendment(
    db: &Db,
    kind: DocKind,
    topic: Option<TopicId>,
    amends: DocId,
    seed: (Vec<u8>, u64),
    by: UserId,
) -> sqlx::Result<DocId> {
    let id = DocId::mint();
    on_db!(db, pool => sqlx::query(
        "INSERT INTO docs (id, kind, topic_id, finalized, created_at, amends, created_by) \
         VALUES ($1, $2, $3, FALSE, $4, $5, $6)",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(topic.map(|t| t.0))
    .bind(now_ms())
    .bind(amends)
    .bind(by.0)
    .execute(pool)
    .await
    .map(drop))?;
    super::docs::append_update(db, id, &seed.0, Some(by)).await?;
    on_db!(db, pool => sqlx::query("INSERT INTO doc_authors (doc_id, client_id, user_id, at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(seed.1 as i64)
        .bind(by.0)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(id)
}

/// The document `doc` amends, if it is an amendment.
pub async fn amends(db: &Db, doc: DocId) -> sqlx::Result<Option<DocId>> {
    let v: Option<Option<DocId>> = on_db!(db, pool => sqlx::query_scalar("SELECT amends FROM docs WHERE id = $1")
        .bind(doc)
        .fetch_optional(pool)
        .await?);
    Ok(v.flatten())
}
