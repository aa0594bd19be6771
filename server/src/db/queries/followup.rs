//! Follow-up of a finalized outcome: where it was sent (送达单位), adoption
//! (采纳), the responsible units, and leaders' instructions (批示).

use serde::{Deserialize, Serialize};
use xieshang_shared::{DocId, UserId};

use crate::db::{now_ms, Db};
use crate::on_db;

/// The adoption states of an outcome.
pub const ADOPTION: [&str; 4] = ["pending", "adopted", "partially_adopted", "not_adopted"];

/// The editable part of a follow-up (`PUT /followup`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Followup {
    /// 送达单位: where the bulletin was sent.
    #[serde(default)]
    pub sent_to: Vec<String>,
    /// One of [`ADOPTION`].
    pub adoption: String,
    /// 责任单位: the units responsible for acting on it.
    #[serde(default)]
    pub units: Vec<String>,
    /// Free remarks.
    #[serde(default)]
    pub note: String,
}

impl Default for Followup {
    fn default() -> Self {
        Followup {
            sent_to: Vec::new(),
            adoption: "pending".into(),
            units: Vec::new(),
            note: String::new(),
        }
    }
}

/// A leader's instruction (批示).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Instruction {
    #[serde(default)]
    pub id: i64,
    /// Who gave it, e.g. "县委书记 王某".
    pub leader: String,
    /// When, as `YYYY-MM-DD`.
    pub date: String,
    pub content: String,
}

/// The follow-up of `doc` and when/who last changed it (defaults if never set).
pub async fn get(db: &Db, doc: DocId) -> sqlx::Result<(Followup, Option<i64>, Option<i64>)> {
    let row: Option<(String, String, String, String, Option<i64>, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT sent_to, adoption, units, note, updated_by, updated_at FROM followups WHERE doc_id = $1",
    )
    .bind(doc)
    .fetch_optional(pool)
    .await?);
    let Some((sent_to, adoption, units, note, by, at)) = row else {
        return Ok((Followup::default(), None, None));
    };
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
    let f = Followup {
        sent_to: list(&sent_to),
        adoption,
        units: list(&units),
        note,
    };
    Ok((f, by, Some(at)))
}

/// Replaces the follow-up of `doc`.
pub async fn put(db: &Db, doc: DocId, f: &Followup, by: UserId) -> sqlx::Result<()> {
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    on_db!(db, pool => sqlx::query(
        "INSERT INTO followups (doc_id, sent_to, adoption, units, note, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (doc_id) DO UPDATE SET sent_to = excluded.sent_to, \
         adoption = excluded.adoption, units = excluded.units, note = excluded.note, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(doc)
    .bind(json(&f.sent_to))
    .bind(&f.adoption)
    .bind(json(&f.units))
    .bind(&f.note)
    .bind(by.0)
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Adds an instruction; answers its id.
pub async fn add_instruction(
    db: &Db,
    doc: DocId,
    i: &Instruction,
    by: UserId,
) -> sqlx::Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "INSERT INTO instructions (doc_id, leader, date, content, added_by, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(doc)
    .bind(&i.leader)
    .bind(&i.date)
    .bind(&i.content)
    .bind(by.0)
    .bind(now_ms())
    .fetch_one(pool)
    .await)
}

/// The instructions on `doc`, oldest first.
pub async fn instructions(db: &Db, doc: DocId) -> sqlx::Result<Vec<Instruction>> {
    let rows: Vec<(i64, String, String, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, leader, date, content FROM instructions WHERE doc_id = $1 ORDER BY id",
    )
    .bind(doc)
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, leader, date, content)| Instruction {
            id,
            leader,
            date,
            content,
        })
        .collect())
}
