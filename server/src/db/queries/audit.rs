//! The audit log: sign-offs, finalizations, exports, restores, amendments and
//! follow-up changes, each with who, when and a JSON detail.

use serde::Serialize;
use serde_json::Value;
use xieshang_shared::{DocId, UserId};

use crate::db::{now_ms, Db};
use crate::on_db;

/// One audit entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub doc: Option<DocId>,
    pub user_id: Option<i64>,
    pub action: String,
    pub detail: Value,
    pub at: i64,
}

/// Appends an entry. Callers log a failure rather than fail the action it records
/// only where the action itself is already durable (e.g. an export).
pub async fn record(
    db: &Db,
    doc: Option<DocId>,
    user: Option<UserId>,
    action: &str,
    detail: &Value,
) -> sqlx::Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO audit_log (doc_id, user_id, action, detail, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(doc)
    .bind(user.map(|u| u.0))
    .bind(action)
    .bind(detail.to_string())
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))
}

/// A row of `audit_log`: id, doc, user, action, detail (JSON text), at.
type Row = (i64, Option<DocId>, Option<i64>, String, String, i64);

/// The entries of `doc` (or of every document), oldest first, at most `limit`.
pub async fn list(db: &Db, doc: Option<DocId>, limit: i64) -> sqlx::Result<Vec<AuditEntry>> {
    let rows: Vec<Row> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, doc_id, user_id, action, detail, at FROM audit_log \
         WHERE ($1 IS NULL OR doc_id = $1) ORDER BY id LIMIT $2",
    )
    .bind(doc)
    .bind(limit)
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, doc, user_id, action, detail, at)| AuditEntry {
            id,
            doc,
            user_id,
            action,
            detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
            at,
        })
        .collect())
}
