//! Consultation topics (协商议题): their responsibility fields, participants and
//! documents (one draft, any number of records).
//!
//! A [`Topic`] as the API shows it is assembled from three tables: the topic
//! row, its participants and its documents. Listing does that with three
//! queries in total rather than three per topic.

use std::collections::HashMap;

use xieshang_shared::schema::{self, Draft};
use xieshang_shared::{
    ConsultationForm, DocId, DocKind, NewTopic, SiteId, Stage, Topic, TopicId, User, UserId,
};
use yrs::{ReadTxn, StateVector, Transact};

use crate::db::queries::docs;
use crate::db::{now_ms, Db, WritePool};
use crate::error::{AppError, Result};
use crate::on_db;

/// Longest title, in characters (DESIGN: 1..=200).
const MAX_TITLE: usize = 200;
/// Longest responsibility field (leader, department, person), in characters.
const MAX_FIELD: usize = 100;
/// More participants than any committee has: a bound on the work one request can cause.
const MAX_PARTICIPANTS: usize = 1000;

/// Columns of `topics` in the order [`TopicRow`] expects.
type TopicRow = (
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Checks and normalizes a new topic: trimmed title of 1–200 characters,
/// plan year 2000–2100, due date `YYYY-MM-DD`, short responsibility fields
/// (empty ones become absent). Each failure is a 400 with a stable code.
pub fn validate_new_topic(mut new: NewTopic) -> Result<NewTopic> {
    new.title = new.title.trim().to_string();
    let len = new.title.chars().count();
    if len == 0 || len > MAX_TITLE || new.title.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "bad_title",
            "title must be 1–200 characters",
        ));
    }
    if let Some(year) = new.plan_year {
        if !(2000..=2100).contains(&year) {
            return Err(AppError::bad_request(
                "bad_plan_year",
                "plan_year must be between 2000 and 2100",
            ));
        }
    }
    new.due = match new.due.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(due) if is_valid_date(due) => Some(due.to_string()),
        Some(_) => {
            return Err(AppError::bad_request(
                "bad_due",
                "due must be a date YYYY-MM-DD",
            ))
        }
    };
    for field in [
        &mut new.lead_leader,
        &mut new.responsible_dept,
        &mut new.responsible_person,
    ] {
        *field = match field.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) if v.chars().count() <= MAX_FIELD && !v.chars().any(char::is_control) => {
                Some(v.to_string())
            }
            Some(_) => return Err(AppError::bad_request(
                "bad_field",
                "lead_leader, responsible_dept and responsible_person are at most 100 characters",
            )),
        };
    }
    Ok(new)
}

/// Whether `s` is a real calendar date written `YYYY-MM-DD`.
pub fn is_valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// The first update of a new draft: its title, so every peer shows the topic's name.
fn initial_draft_update(title: &str) -> Vec<u8> {
    let doc = schema::new_doc();
    Draft::new(&doc).set_title(title);
    let txn = doc.transact();
    txn.encode_state_as_update_v1(&StateVector::default())
}

/// Creates a topic with its draft document (titled like the topic), in ONE
/// transaction: a topic is never visible without its draft, so a concurrent
/// listing cannot meet a half-made topic (it used to answer 500 "topic N has no
/// draft document" while 100 topics were being created at once).
/// `site` is the liaison office it is held at, if any.
pub async fn create_topic(
    db: &Db,
    new: NewTopic,
    created_by: Option<UserId>,
    site: Option<SiteId>,
) -> Result<Topic> {
    let new = validate_new_topic(new)?;
    let stage = new.stage.unwrap_or(Stage::Research);
    let first_update = initial_draft_update(&new.title);
    let by = created_by.map(|u| u.0);
    let at = now_ms();
    let id: i64 = on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO topics (title, form, stage, plan_year, lead_leader, responsible_dept, responsible_person, due, \
             site_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&new.title)
        .bind(new.form.as_str())
        .bind(stage.as_str())
        .bind(new.plan_year.map(i64::from))
        .bind(&new.lead_leader)
        .bind(&new.responsible_dept)
        .bind(&new.responsible_person)
        .bind(&new.due)
        .bind(site.map(|s| s.0))
        .bind(by)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let doc = DocId::mint();
        sqlx::query(
            "INSERT INTO docs (id, kind, topic_id, finalized, created_at, created_by) \
             VALUES ($1, $2, $3, FALSE, $4, $5)",
        )
        .bind(doc)
        .bind(DocKind::Draft.as_str())
        .bind(id)
        .bind(at)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        // The first row of a new document's log: seq 1, as `docs::append_update` numbers it.
        sqlx::query("INSERT INTO doc_updates (doc_id, seq, data, user_id, at) VALUES ($1, 1, $2, $3, $4)")
            .bind(doc)
            .bind(&first_update)
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        id
    });
    get_topic(db, TopicId(id))
        .await?
        .ok_or_else(|| AppError::Internal(format!("topic {id} vanished after insert")))
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

/// Builds the API's [`Topic`] from its row, participants and documents. The
/// current draft is the newest draft document (amendments add newer ones).
fn assemble(row: TopicRow, participants: Vec<UserId>, docs: &[(DocId, DocKind)]) -> Result<Topic> {
    let (id, title, form, stage, plan_year, lead_leader, responsible_dept, responsible_person, due) =
        row;
    let form = form
        .parse::<ConsultationForm>()
        .map_err(|e| decode_err("topics.form", e))?;
    let stage = stage
        .parse::<Stage>()
        .map_err(|e| decode_err("topics.stage", e))?;
    let plan_year = plan_year
        .map(i32::try_from)
        .transpose()
        .map_err(|e| decode_err("topics.plan_year", e))?;
    let draft_doc = docs
        .iter()
        .rev()
        .find(|(_, k)| *k == DocKind::Draft)
        .map(|(d, _)| *d)
        .ok_or_else(|| AppError::Internal(format!("topic {id} has no draft document")))?;
    let record_docs = docs
        .iter()
        .filter(|(_, k)| *k == DocKind::Record)
        .map(|(d, _)| *d)
        .collect();
    Ok(Topic {
        id: TopicId(id),
        title,
        form,
        stage,
        plan_year,
        lead_leader,
        responsible_dept,
        responsible_person,
        due,
        draft_doc,
        record_docs,
        participants,
    })
}

/// The topic with its participants and documents, or `None` if it does not exist.
pub async fn get_topic(db: &Db, id: TopicId) -> Result<Option<Topic>> {
    let row: Option<TopicRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, title, form, stage, plan_year, lead_leader, responsible_dept, responsible_person, due \
         FROM topics WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?);
    let Some(row) = row else { return Ok(None) };
    let participants: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM participants WHERE topic_id = $1 ORDER BY user_id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?);
    let docs: Vec<(DocId, DocKind)> = docs::topic_docs(db, id)
        .await?
        .into_iter()
        .map(|d| (d.id, d.kind))
        .collect();
    assemble(row, participants.into_iter().map(UserId).collect(), &docs).map(Some)
}

/// The topics `user` may see (all for staff, leaders and admins; a member's own
/// otherwise), ordered by id.
pub async fn list_visible(db: &Db, user: &User) -> Result<Vec<Topic>> {
    let all = user.role.sees_all_topics();
    type Rows = (Vec<TopicRow>, Vec<(i64, i64)>, Vec<(DocId, String, i64)>);
    let (rows, parts, doc_rows): Rows = on_db!(db, pool => {
        let rows = sqlx::query_as(
            "SELECT id, title, form, stage, plan_year, lead_leader, responsible_dept, responsible_person, due \
             FROM topics WHERE $1 OR id IN (SELECT topic_id FROM participants WHERE user_id = $2) ORDER BY id",
        )
        .bind(all)
        .bind(user.id.0)
        .fetch_all(pool)
        .await?;
        let parts = sqlx::query_as(
            "SELECT topic_id, user_id FROM participants \
             WHERE $1 OR topic_id IN (SELECT topic_id FROM participants WHERE user_id = $2) ORDER BY topic_id, user_id",
        )
        .bind(all)
        .bind(user.id.0)
        .fetch_all(pool)
        .await?;
        let docs = sqlx::query_as(
            "SELECT id, kind, topic_id FROM docs WHERE topic_id IS NOT NULL \
             AND ($1 OR topic_id IN (SELECT topic_id FROM participants WHERE user_id = $2)) \
             ORDER BY created_at, id",
        )
        .bind(all)
        .bind(user.id.0)
        .fetch_all(pool)
        .await?;
        (rows, parts, docs)
    });
    let mut participants: HashMap<i64, Vec<UserId>> = HashMap::new();
    for (topic, user) in parts {
        participants.entry(topic).or_default().push(UserId(user));
    }
    let mut docs: HashMap<i64, Vec<(DocId, DocKind)>> = HashMap::new();
    for (doc, kind, topic) in doc_rows {
        let kind = kind
            .parse::<DocKind>()
            .map_err(|e| decode_err("docs.kind", e))?;
        docs.entry(topic).or_default().push((doc, kind));
    }
    rows.into_iter()
        .map(|row| {
            let id = row.0;
            assemble(
                row,
                participants.remove(&id).unwrap_or_default(),
                docs.get(&id).map_or(&[], Vec::as_slice),
            )
        })
        .collect()
}

/// Whether a topic with this id exists.
pub async fn exists(db: &Db, topic: TopicId) -> Result<bool> {
    let n: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM topics WHERE id = $1")
        .bind(topic.0)
        .fetch_one(pool)
        .await?);
    Ok(n > 0)
}

/// Whether `user` is a participant of `topic`.
pub async fn is_participant(db: &Db, topic: TopicId, user: UserId) -> Result<bool> {
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM participants WHERE topic_id = $1 AND user_id = $2",
    )
    .bind(topic.0)
    .bind(user.0)
    .fetch_one(pool)
    .await?);
    Ok(n > 0)
}

/// Replaces the participants of `topic` by `users`, all or nothing in one
/// transaction. 404 for an unknown topic, 400 `unknown_user` for an unknown user.
pub async fn set_participants(db: &Db, topic: TopicId, users: &[UserId]) -> Result<()> {
    if users.len() > MAX_PARTICIPANTS {
        return Err(AppError::bad_request(
            "too_many_participants",
            "at most 1000 participants",
        ));
    }
    let mut ids: Vec<i64> = users.iter().map(|u| u.0).collect();
    ids.sort_unstable();
    ids.dedup();
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM topics WHERE id = $1")
            .bind(topic.0)
            .fetch_one(&mut *tx)
            .await?;
        if found == 0 {
            return Err(AppError::NotFound);
        }
        for id in &ids {
            let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if found == 0 {
                return Err(AppError::bad_request("unknown_user", format!("no user with id {id}")));
            }
        }
        sqlx::query("DELETE FROM participants WHERE topic_id = $1").bind(topic.0).execute(&mut *tx).await?;
        for id in &ids {
            sqlx::query("INSERT INTO participants (topic_id, user_id) VALUES ($1, $2)")
                .bind(topic.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Creates a new record document (协商记录) for an existing topic.
/// Creates a record of `topic` under `id` (minted by its creator, or here when
/// `None`), idempotent as [`docs::create`] is.
pub async fn create_record(
    db: &Db,
    topic: TopicId,
    id: Option<DocId>,
    by: Option<UserId>,
) -> Result<docs::Created> {
    if !exists(db, topic).await? {
        return Err(AppError::NotFound);
    }
    let new = docs::NewDoc {
        id: id.unwrap_or_else(DocId::mint),
        kind: DocKind::Record,
        topic: Some(topic),
        by,
    };
    docs::create(db, &new).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(title: &str) -> NewTopic {
        serde_json::from_value(serde_json::json!({ "title": title, "form": "meeting" })).unwrap()
    }

    fn code(r: Result<NewTopic>) -> &'static str {
        match r {
            Err(e) => e.status_and_code().1,
            Ok(_) => "ok",
        }
    }

    #[test]
    fn dates() {
        for ok in ["2025-06-30", "2024-02-29", "2000-02-29", "2025-12-31"] {
            assert!(is_valid_date(ok), "{ok}");
        }
        for bad in [
            "2025-6-30",
            "2025-02-29",
            "1900-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-04-31",
            "20250630",
            "2025-06-3x",
            "２０２５-06-30",
        ] {
            assert!(!is_valid_date(bad), "{bad}");
        }
    }

    #[test]
    fn topic_validation() {
        assert_eq!(
            code(validate_new_topic(topic("  关于加强农村养老服务的建议  "))),
            "ok"
        );
        assert_eq!(validate_new_topic(topic(" 题 ")).unwrap().title, "题");
        assert_eq!(code(validate_new_topic(topic(""))), "bad_title");
        assert_eq!(
            code(validate_new_topic(topic(&"字".repeat(201)))),
            "bad_title"
        );
        assert_eq!(code(validate_new_topic(topic(&"字".repeat(200)))), "ok");
        let mut t = topic("x");
        t.due = Some("2025/06/30".into());
        assert_eq!(code(validate_new_topic(t)), "bad_due");
        let mut t = topic("x");
        t.plan_year = Some(1999);
        assert_eq!(code(validate_new_topic(t)), "bad_plan_year");
        let mut t = topic("x");
        t.lead_leader = Some("  ".into());
        t.responsible_dept = Some("县农业农村局".into());
        let t = validate_new_topic(t).unwrap();
        assert_eq!(t.lead_leader, None);
        assert_eq!(t.responsible_dept.as_deref(), Some("县农业农村局"));
    }
}
