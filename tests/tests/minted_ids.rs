//! Ids minted by their creators (README "Ids minted anywhere"): idempotent
//! creation, and the migration of a database the previous release made
//! (integer document ids) on both backends.
//!
//! The fixture `tests/fixtures/release-1b098ff/` was made by that release's
//! own binary (`make.py` there): the demo committee, two sign-offs and a
//! finalization, an amendment, a follow-up with a leader's instruction, and
//! a sign-off on another draft; `expected-*.json` is what that release
//! answered for every document afterwards.

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use sqlx::Connection;
use xieshang_shared::DocId;
use xieshang_tests::api::doc_id;
use xieshang_tests::records::Records;
use xieshang_tests::server::{Backend, TestServer};
use xieshang_tests::Session;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/release-1b098ff")
}

async fn create_record(
    r: &Records,
    who: &Session,
    topic: i64,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    r.call(who, "POST", &format!("/topics/{topic}/records"), body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_with_the_same_id_is_answered_not_repeated() -> Result<()> {
    for backend in Backend::all("minted_ids/create").await? {
        let tag = format!("create/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(2).await?;
        let r = Records::new(&server.api);
        let (a, b) = (&c.members[0], &c.members[1]);
        let id = DocId::mint();

        let (status, first) = create_record(&r, a, c.topic, Some(json!({ "id": id }))).await?;
        ensure!(status == 201, "{tag}: first create {status} {first}");
        ensure!(doc_id(&first["id"])? == id, "{tag}: {first}");
        // The answer got lost; the client sends it again.
        let (status, again) = create_record(&r, a, c.topic, Some(json!({ "id": id }))).await?;
        ensure!(status == 200, "{tag}: repeat {status} {again}");
        ensure!(
            again["id"] == first["id"] && again["kind"] == "record",
            "{tag}: {again}"
        );
        // Another member with the same id: a conflict, not their record.
        let (status, other) = create_record(&r, b, c.topic, Some(json!({ "id": id }))).await?;
        ensure!(
            status == 409 && other["error"]["code"] == "id_conflict",
            "{tag}: other creator {status} {other}"
        );
        // The same id for another kind: the topic's draft id, as a record.
        let draft = c.doc;
        let (status, kind) =
            create_record(&r, &c.staff, c.topic, Some(json!({ "id": draft }))).await?;
        ensure!(
            status == 409 && kind["error"]["code"] == "id_conflict",
            "{tag}: the draft's id as a record: {status} {kind}"
        );
        // Ten racing creates with one id make one record.
        let racing = DocId::mint();
        let body = json!({ "id": racing });
        let answers = futures_util::future::join_all(
            (0..10).map(|_| create_record(&r, a, c.topic, Some(body.clone()))),
        )
        .await;
        let mut statuses: Vec<u16> = Vec::new();
        for answer in answers {
            statuses.push(answer?.0);
        }
        statuses.sort_unstable();
        ensure!(
            statuses.first() == Some(&200) && statuses.last() == Some(&201),
            "{tag}: racing creates answered {statuses:?}"
        );
        ensure!(
            statuses.iter().filter(|s| **s == 201).count() == 1,
            "{tag}: {statuses:?}"
        );
        // Not an id a creator may mint: a v4, a migrated document's range, junk.
        for bad in [
            json!("0190b7e0-7a1c-4d4e-8f00-1234567890ab"),
            json!(DocId::legacy(999)),
            json!("x"),
            json!(5),
        ] {
            let (status, body) = create_record(&r, a, c.topic, Some(json!({ "id": bad }))).await?;
            ensure!(
                status == 400
                    && ["bad_id", "bad_json"]
                        .contains(&body["error"]["code"].as_str().unwrap_or("")),
                "{tag}: id {bad}: {status} {body}"
            );
        }
        // Without an id (and without a body) the server mints one.
        let (status, minted) = create_record(&r, a, c.topic, None).await?;
        ensure!(
            status == 201 && doc_id(&minted["id"])?.is_mintable(),
            "{tag}: {status} {minted}"
        );

        let (_, topic) = r
            .call(a, "GET", &format!("/topics/{}", c.topic), None)
            .await?;
        let records = topic["record_docs"].as_array().context("record_docs")?;
        ensure!(records.len() == 3, "{tag}: records {records:?}");
        println!("{tag}: 201 then 200 for one id, 409 for another creator or kind, 10 racing creates made 1 record");
        server.shutdown().await;
    }
    Ok(())
}

/// Loads the previous release's PostgreSQL dump into a fresh database.
async fn load_dump(url: &str) -> Result<()> {
    let dump = std::fs::read_to_string(fixture().join("postgres.sql"))?;
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
        .execute(&mut conn)
        .await
        .context("loading postgres.sql")?;
    conn.close().await.ok();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_previous_release_keeps_every_document() -> Result<()> {
    for backend in Backend::all("minted_ids/migration").await? {
        let tag = format!("migration/{}", backend.name());
        let dir = tempfile::tempdir()?;
        let expected_file = match &backend {
            Backend::Sqlite => {
                std::fs::copy(fixture().join("sqlite.db"), dir.path().join("xieshang.db"))?;
                "expected-sqlite.json"
            }
            Backend::Postgres(url) => {
                load_dump(url).await?;
                "expected-postgres.json"
            }
        };
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture().join(expected_file))?)?;
        let server = TestServer::start_in(dir, backend, |_| {}).await?;
        let staff = server.api.login_with("zhou.min", "demo1234").await?;
        let r = Records::new(&server.api);
        let docs = expected["docs"].as_object().context("docs")?;
        ensure!(
            docs.len() >= 7,
            "{tag}: the fixture has {} documents",
            docs.len()
        );
        for (old, want) in docs {
            let n: u64 = old.parse()?;
            let id = DocId::legacy(n);
            // The new id, and the old number (an old link) both find it.
            for path in [format!("/docs/{id}"), format!("/docs/{n}")] {
                let (status, got) = r.call(&staff, "GET", &path, None).await?;
                ensure!(status == 200, "{tag}: GET {path}: {status} {got}");
                ensure!(got["id"] == id.to_string(), "{tag}: {path}: {got}");
                for field in ["kind", "topic", "finalized", "content"] {
                    ensure!(
                        got[field] == want[field],
                        "{tag}: doc {n} {field}: {} != {}",
                        got[field],
                        want[field]
                    );
                }
            }
            let (status, versions) = r
                .call(&staff, "GET", &format!("/docs/{id}/versions"), None)
                .await?;
            ensure!(status == 200, "{tag}: versions of {n}: {status}");
            let got: Vec<Value> = versions
                .as_array()
                .context("versions")?
                .iter()
                .map(|v| {
                    let mut signers: Vec<i64> =
                        v["signoffs"].as_array().map_or(vec![], |s| s.iter().filter_map(|s| s["user_id"].as_i64()).collect());
                    signers.sort_unstable();
                    json!({ "version": v["version"], "hash": v["hash"], "reason": v["reason"], "signoffs": signers })
                })
                .collect();
            ensure!(
                Value::Array(got.clone()) == want["versions"],
                "{tag}: versions of doc {n}:\n got {got:?}\nwant {}",
                want["versions"]
            );
        }
        // The finalization, the amendment, the follow-up and the audit log.
        for (old, fv) in expected["finalized"].as_object().context("finalized")? {
            let id = DocId::legacy(old.parse()?);
            // Before the export below, which the audit log records too.
            let (_, audit) = r
                .call(&staff, "GET", &format!("/audit?doc={id}"), None)
                .await?;
            let mut actions: Vec<&str> = audit
                .as_array()
                .context("audit")?
                .iter()
                .filter_map(|e| e["action"].as_str())
                .collect();
            actions.sort_unstable();
            ensure!(
                json!(actions) == expected["audit"][old],
                "{tag}: audit {actions:?}"
            );
            let export = r.export(&staff, id, "md").await?;
            ensure!(export.status == 200, "{tag}: export {}", export.status);
            let md = String::from_utf8_lossy(&export.bytes).into_owned();
            let no = fv["bulletin_no"].as_i64().context("bulletin_no")?;
            ensure!(
                md.contains(&format!("第{no}期")),
                "{tag}: bulletin {no} not in the export:\n{md}"
            );
            let (_, f) = r
                .call(&staff, "GET", &format!("/docs/{id}/followup"), None)
                .await?;
            let want = &expected["followup"][old];
            ensure!(
                f["adoption"] == want["adoption"] && f["sent_to"] == want["sent_to"],
                "{tag}: {f}"
            );
        }
        let am = &expected["amendment"];
        let am_id = DocId::legacy(am["id"].as_u64().context("amendment")?);
        let (_, amended) = r
            .call(&staff, "GET", &format!("/docs/{am_id}"), None)
            .await?;
        ensure!(amended["kind"] == "draft", "{tag}: {amended}");
        // And life goes on: a new record gets a minted id next to the old ones.
        let topic = expected["docs"]["1"]["topic"].as_i64().context("topic")?;
        let (status, created) = r
            .call(
                &staff,
                "POST",
                &format!("/topics/{topic}/records"),
                Some(json!({})),
            )
            .await?;
        ensure!(
            status == 201 && doc_id(&created["id"])?.is_mintable(),
            "{tag}: {status} {created}"
        );
        println!("{tag}: {} documents, their versions, sign-offs, finalization, follow-up and audit log as the previous release answered", docs.len());
        server.shutdown().await;
    }
    Ok(())
}
