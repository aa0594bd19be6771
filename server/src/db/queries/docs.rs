//! Documents: their rows, the append-only update log and the compacted snapshots.
//!
//! A document's durable state is its snapshot (all updates with `seq <= upto_seq`
//! merged) plus every log row after it. Appending and compacting each happen in
//! one transaction, so a crash between any two statements loses nothing.

use sqlx::Row;
use xieshang_shared::{DocId, DocKind, TopicId, UserId};

use crate::db::{now_ms, Db, WritePool};
use crate::on_db;

/// What access checks and the document owner need to know about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocInfo {
    pub id: DocId,
    pub kind: DocKind,
    /// The topic whose participants may edit it (none for stand-alone documents).
    pub topic: Option<TopicId>,
    /// Finalized documents accept no further updates.
    pub finalized: bool,
}

/// One update to append: the bytes exactly as a client sent them.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub seq: i64,
    pub data: Vec<u8>,
    /// The signed-in user who sent it (attribution); none for server-made updates.
    pub user: Option<UserId>,
    /// yrs client ids whose new content this update carries: recorded as `user`'s
    /// in `doc_authors` in the same transaction (the first owner of a client id wins).
    pub clients: Vec<u64>,
}

/// A document's durable state as read back at load time.
#[derive(Debug, Default)]
pub struct StoredDoc {
    /// `(upto_seq, merged state)` if the log was ever compacted.
    pub snapshot: Option<(i64, Vec<u8>)>,
    /// Log rows after the snapshot, in `seq` order.
    pub updates: Vec<(i64, Vec<u8>)>,
}

impl StoredDoc {
    /// The sequence number the next appended update gets.
    pub fn next_seq(&self) -> i64 {
        let after_snapshot = self.snapshot.as_ref().map(|(s, _)| *s).unwrap_or(0);
        let after_log = self.updates.last().map(|(s, _)| *s).unwrap_or(0);
        after_snapshot.max(after_log) + 1
    }
}

fn info_from(
    id: DocId,
    kind: String,
    topic: Option<i64>,
    finalized: bool,
) -> sqlx::Result<DocInfo> {
    let kind = kind
        .parse::<DocKind>()
        .map_err(|e| sqlx::Error::Decode(format!("docs.kind: {e}").into()))?;
    Ok(DocInfo {
        id,
        kind,
        topic: topic.map(TopicId),
        finalized,
    })
}

/// The document's row, or `None` if there is no such document.
pub async fn doc_info(db: &Db, id: DocId) -> sqlx::Result<Option<DocInfo>> {
    let row = on_db!(db, pool => sqlx::query("SELECT id, kind, topic_id, finalized FROM docs WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| info_from(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
        .transpose());
    row
}

/// A document to create, under an id its creator minted (DESIGN "Ids minted
/// anywhere"): the browser, offline too, or the server itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDoc {
    pub id: DocId,
    pub kind: DocKind,
    pub topic: Option<TopicId>,
    /// Who creates it; `None` for documents the server makes on its own.
    pub by: Option<UserId>,
}

/// What a create came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new, empty document.
    New(DocInfo),
    /// The same creator asked for the same document before: it is answered as
    /// it is (a retried request, an answer lost on the way back).
    Existing(DocInfo),
}

impl Created {
    pub fn info(&self) -> &DocInfo {
        match self {
            Created::New(info) | Created::Existing(info) => info,
        }
    }
}

/// Creates an empty document, idempotent on its id: the same id again from
/// the same creator, for the same kind and topic, is [`Created::Existing`];
/// from anyone else, or for anything else, 409 `id_conflict`. One statement
/// decides (`ON CONFLICT DO NOTHING`), so two racing requests make one row.
pub async fn create(db: &Db, new: &NewDoc) -> crate::error::Result<Created> {
    let inserted = on_db!(db, pool => sqlx::query(
        "INSERT INTO docs (id, kind, topic_id, finalized, created_at, created_by) \
         VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(new.id)
    .bind(new.kind.as_str())
    .bind(new.topic.map(|t| t.0))
    .bind(now_ms())
    .bind(new.by.map(|u| u.0))
    .execute(pool)
    .await?
    .rows_affected());
    if inserted == 1 {
        return Ok(Created::New(DocInfo {
            id: new.id,
            kind: new.kind,
            topic: new.topic,
            finalized: false,
        }));
    }
    // Someone has this id: answer it as it is if it is this very creation.
    let row = on_db!(db, pool => sqlx::query(
        "SELECT id, kind, topic_id, finalized, created_by FROM docs WHERE id = $1",
    )
    .bind(new.id)
    .fetch_optional(pool)
    .await?
    .map(|r| -> sqlx::Result<(DocInfo, Option<i64>)> {
        Ok((info_from(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)?, r.try_get(4)?))
    })
    .transpose()?);
    let (existing, by) = match row {
        Some((info, by)) => (Some(info), by),
        None => (None, None),
    };
    match (existing, by) {
        (Some(info), Some(by))
            if Some(UserId(by)) == new.by && info.kind == new.kind && info.topic == new.topic =>
        {
            Ok(Created::Existing(info))
        }
        _ => Err(crate::error::AppError::conflict(
            "id_conflict",
            format!(
                "document {} already exists and is not this creation",
                new.id
            ),
        )),
    }
}

/// Every document of a topic, oldest first.
pub async fn topic_docs(db: &Db, topic: TopicId) -> sqlx::Result<Vec<DocInfo>> {
    on_db!(db, pool => sqlx::query("SELECT id, kind, topic_id, finalized FROM docs WHERE topic_id = $1 ORDER BY created_at, id")
        .bind(topic.0)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| info_from(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
        .collect())
}

/// Appends one update outside the live path (demo seeding, tools). Documents
/// that are open must be written through their owner instead.
pub async fn append_update(
    db: &Db,
    doc: DocId,
    data: &[u8],
    user: Option<UserId>,
) -> sqlx::Result<i64> {
    let stored = load(db, doc).await?;
    let seq = stored.next_seq();
    append_batch(
        db,
        &[(
            doc,
            vec![NewUpdate {
                seq,
                data: data.to_vec(),
                user,
                clients: Vec::new(),
            }],
        )],
    )
    .await?;
    Ok(seq)
}

/// Reads a document's snapshot and the log after it.
pub async fn load(db: &Db, doc: DocId) -> sqlx::Result<StoredDoc> {
    on_db!(db, pool => {
        let snapshot: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT upto_seq, state FROM doc_snapshots WHERE doc_id = $1")
                .bind(doc)
                .fetch_optional(pool)
                .await?;
        let after = snapshot.as_ref().map(|(s, _)| *s).unwrap_or(0);
        let updates: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, data FROM doc_updates WHERE doc_id = $1 AND seq > $2 ORDER BY seq")
                .bind(doc)
                .bind(after)
                .fetch_all(pool)
                .await?;
        Ok(StoredDoc { snapshot, updates })
    })
}

/// Who owns each yrs client id of `doc` (the first user who wrote with it).
pub async fn authors(db: &Db, doc: DocId) -> sqlx::Result<Vec<(u64, UserId)>> {
    let rows: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT client_id, user_id FROM doc_authors WHERE doc_id = $1",
    )
    .bind(doc)
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(client, user)| (client as u64, UserId(user)))
        .collect())
}

/// Appends the updates of several documents in ONE transaction: group commit.
/// When this returns `Ok`, every row is durable (SQLite: WAL, synchronous=FULL).
pub async fn append_batch(db: &Db, batch: &[(DocId, Vec<NewUpdate>)]) -> sqlx::Result<()> {
    let at = now_ms();
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for (doc, updates) in batch {
            for u in updates {
                sqlx::query("INSERT INTO doc_updates (doc_id, seq, data, user_id, at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(doc)
                    .bind(u.seq)
                    .bind(&u.data)
                    .bind(u.user.map(|u| u.0))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                let Some(user) = u.user else { continue };
                for client in &u.clients {
                    sqlx::query(
                        "INSERT INTO doc_authors (doc_id, client_id, user_id, at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (doc_id, client_id) DO NOTHING",
                    )
                    .bind(doc)
                    .bind(*client as i64)
                    .bind(user.0)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await
    })
}

/// Replaces the log up to `upto_seq` by one snapshot of the merged `state`, in one
/// transaction: readers see either the old rows or the new snapshot, never neither.
/// A snapshot never replaces a newer one (an owner that is still compacting after a
/// newer owner did): storage never goes backwards.
pub async fn compact(
    db: &Db,
    doc: DocId,
    upto_seq: i64,
    state: &[u8],
    state_vector: &[u8],
) -> sqlx::Result<()> {
    let at = now_ms();
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO doc_snapshots (doc_id, upto_seq, state, state_vector, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (doc_id) DO UPDATE SET upto_seq = excluded.upto_seq, state = excluded.state, \
             state_vector = excluded.state_vector, at = excluded.at \
             WHERE doc_snapshots.upto_seq < excluded.upto_seq",
        )
        .bind(doc)
        .bind(upto_seq)
        .bind(state)
        .bind(state_vector)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM doc_updates WHERE doc_id = $1 AND seq <= $2")
            .bind(doc)
            .bind(upto_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })
}
