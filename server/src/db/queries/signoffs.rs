//! Sign-offs: a participant's approval of one exact version.
//!
//! Rows are never deleted or updated: a sign-off on a version the document has
//! moved on from stays, and is shown as stale, so no agreement is silently kept
//! or silently lost.

use serde::{Deserialize, Serialize};
use xieshang_shared::{DocId, UserId};

use crate::db::{now_ms, Db};
use crate::on_db;

/// One sign-off with the signer's name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Signoff {
    pub version: String,
    pub user_id: i64,
    pub display_name: String,
    pub at: i64,
}

/// Records `user`'s sign-off on `version` (again signing the same version is a no-op).
pub async fn add(db: &Db, doc: DocId, version: &str, user: UserId) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO signoffs (doc_id, version, user_id, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (doc_id, version, user_id) DO NOTHING",
    )
    .bind(doc)
    .bind(version)
    .bind(user.0)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Every sign-off on `doc`, oldest first.
pub async fn list(db: &Db, doc: DocId) -> sqlx::Result<Vec<Signoff>> {
    let rows: Vec<(String, i64, String, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT s.version, s.user_id, u.display_name, s.at FROM signoffs s JOIN users u ON u.id = s.user_id \
         WHERE s.doc_id = $1 ORDER BY s.id",
    )
    .bind(doc)
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(version, user_id, display_name, at)| Signoff {
            version,
            user_id,
            display_name,
            at,
        })
        .collect())
}

/// The participants of a topic with their display names, by id.
pub async fn participants(
    db: &Db,
    topic: xieshang_shared::TopicId,
) -> sqlx::Result<Vec<(i64, String)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT u.id, u.display_name FROM participants p JOIN users u ON u.id = p.user_id \
         WHERE p.topic_id = $1 ORDER BY u.id",
    )
    .bind(topic.0)
    .fetch_all(pool)
    .await)
}
