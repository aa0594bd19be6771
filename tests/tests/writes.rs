//! Writes are whole, and only where they belong.
//!
//! - A topic and its draft are created in one transaction: while 100 topics are
//!   created at once, `GET /api/topics` polled alongside never answers 500 (it
//!   used to: "topic N has no draft document"), and every topic has its draft.
//! - Reading a document's history writes nothing: repeated
//!   `GET /api/docs/{id}/versions`, before and after an edit, leave the
//!   `doc_versions` table as it was; the listing still ends with the current state.

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use xieshang_tests::records::Records;
use xieshang_tests::server::Backend;
use xieshang_tests::{TestClient, TestServer};

/// How many topics are created at once.
const TOPICS: usize = 100;

async fn topics_appear_whole(backend: Backend) -> Result<()> {
    let tag = format!("writes/topics/{}", backend.name());
    let server = TestServer::start(backend).await?;
    let c = server.committee(1).await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let base = server.api.base().to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Pollers: list the topics as staff until every creation has answered.
    let mut pollers = Vec::new();
    for _ in 0..2 {
        let (http, base, token, done) = (
            http.clone(),
            base.clone(),
            c.staff.token.clone(),
            done.clone(),
        );
        pollers.push(tokio::spawn(async move {
            let (mut polls, mut failures) = (0u32, Vec::new());
            loop {
                let last = done.load(std::sync::atomic::Ordering::SeqCst);
                let resp = http
                    .get(format!("{base}/api/topics"))
                    .bearer_auth(&token)
                    .send()
                    .await;
                polls += 1;
                match resp {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => failures.push(format!(
                        "{}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => failures.push(e.to_string()),
                }
                if last {
                    return (polls, failures);
                }
            }
        }));
    }

    let creations = (0..TOPICS).map(|i| {
        let (http, base, token) = (http.clone(), base.clone(), c.staff.token.clone());
        tokio::spawn(async move {
            let resp = http
                .post(format!("{base}/api/topics"))
                .bearer_auth(&token)
                .json(&json!({"title": format!("并发议题 {i}"), "form": "meeting"}))
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            anyhow::Ok((status, body))
        })
    });
    let mut created = Vec::new();
    let mut refused = Vec::new();
    for h in creations.collect::<Vec<_>>() {
        let (status, body) = h.await??;
        if status == 201 {
            created.push(body);
        } else {
            refused.push(format!("{status} {body}"));
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut polls, mut failures) = (0, Vec::new());
    for p in pollers {
        let (n, f) = p.await?;
        polls += n;
        failures.extend(f);
    }
    println!(
        "[{tag}] {} of {TOPICS} topics created; {polls} listings polled meanwhile, {} failed",
        created.len(),
        failures.len()
    );
    ensure!(refused.is_empty(), "{tag}: creations refused: {refused:?}");
    ensure!(
        failures.is_empty(),
        "{tag}: listings failed while topics were created: {failures:?}"
    );

    // Every topic has its draft, and the draft opens.
    let r = Records::new(&server.api);
    let (status, list) = r.call(&c.staff, "GET", "/topics", None).await?;
    ensure!(status == 200, "{tag}: {status} {list}");
    let list = list.as_array().context("topics is not an array")?;
    ensure!(
        list.len() == TOPICS + 1,
        "{tag}: {} topics listed",
        list.len()
    );
    for t in &created {
        let draft =
            xieshang_tests::api::doc_id(&t["draft_doc"]).context("a topic without draft_doc")?;
        let doc = server.api.doc(&c.staff, draft).await?;
        ensure!(
            doc["kind"] == "draft" && doc["topic"] == t["id"],
            "{tag}: {doc}"
        );
        ensure!(
            doc["content"]["title"] == t["title"],
            "{tag}: draft not titled like its topic: {doc}"
        );
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_is_never_listed_without_its_draft_sqlite() -> Result<()> {
    topics_appear_whole(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_is_never_listed_without_its_draft_postgres() -> Result<()> {
    match Backend::postgres("writes/topics").await? {
        Some(b) => topics_appear_whole(b).await,
        None => Ok(()),
    }
}

/// Rows of `doc_versions` for `doc`, read from the server's own database.
async fn version_rows(server: &TestServer, doc: xieshang_shared::DocId) -> Result<i64> {
    let db = &server.state().db;
    let n: i64 = xieshang_server::on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM doc_versions WHERE doc_id = $1",
    )
    .bind(doc)
    .fetch_one(pool)
    .await?);
    Ok(n)
}

async fn listing_versions_writes_nothing(backend: Backend) -> Result<()> {
    let tag = format!("writes/versions/{}", backend.name());
    let server = TestServer::start(backend).await?;
    let c = server.committee(1).await?;
    let r = Records::new(&server.api);
    let m = &c.members[0];
    let before = version_rows(&server, c.doc).await?;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let list = r.versions(m, c.doc).await?;
        seen.push(list.last().cloned().unwrap_or(Value::Null));
        r.versions(&c.staff, c.doc).await?;
    }
    let mut a = TestClient::new("m0");
    a.connect(&server.api.ws_url(c.doc, Some(&m.token), true))
        .await?;
    a.append("一处修改。").await?;
    a.wait_all_acked().await?;
    a.disconnect().await;
    for _ in 0..3 {
        let list = r.versions(m, c.doc).await?;
        seen.push(list.last().cloned().unwrap_or(Value::Null));
    }
    let after = version_rows(&server, c.doc).await?;
    println!("[{tag}] doc_versions rows: {before} before, {after} after 9 listings and an edit");
    ensure!(
        after == before,
        "{tag}: GET /versions wrote {} rows",
        after - before
    );
    ensure!(
        seen.iter().all(|v| v["current"] == true),
        "{tag}: the listing does not end with the current state: {seen:?}"
    );
    ensure!(
        seen[0]["version"] != seen[3]["version"],
        "{tag}: the edit did not change the current version: {seen:?}"
    );
    // A sign-off still names the version it is on.
    let v = seen[3]["version"].as_str().context("version")?.to_string();
    let (status, body) = r.sign(m, c.doc, &v).await?;
    ensure!(status == 201, "{tag}: sign-off {status} {body}");
    ensure!(
        version_rows(&server, c.doc).await? == before + 1,
        "{tag}: the sign-off did not name its version"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_versions_writes_nothing_sqlite() -> Result<()> {
    listing_versions_writes_nothing(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_versions_writes_nothing_postgres() -> Result<()> {
    match Backend::postgres("writes/versions").await? {
        Some(b) => listing_versions_writes_nothing(b).await,
        None => Ok(()),
    }
}
