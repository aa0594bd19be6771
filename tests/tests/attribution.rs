//! Attribution survives offline merges: staff write an introduction online, then
//! three members each write a paragraph (in two edits) while offline. They come
//! back in three different ways (held updates in order, merged into one update,
//! ordinary resync); the merged draft's authorship view assigns every paragraph
//! to the user who wrote it, also after the log was compacted, and an earlier
//! version's view shows only what existed then.

use std::collections::HashMap;

use anyhow::{ensure, Context, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;
use xieshang_tests::records::Records;
use xieshang_tests::{Backend, Flush, TestClient, TestServer};

const INTRO: &str = "引言：工作人员整理的背景材料。";
const PARAGRAPHS: [(&str, &str); 3] = [
    ("甲委员：建议增设社区食堂，", "解决老人吃饭难。"),
    ("乙委员：建议培训护理人员，", "提高服务质量。"),
    ("丙委员：建议加大财政投入，", "保障运营经费。"),
];

/// The authorship view as (paragraph text, [(user id, chars)]).
async fn authorship(
    r: &Records,
    who: &xieshang_tests::Session,
    doc: xieshang_shared::DocId,
    version: Option<&str>,
) -> Result<Vec<(String, Vec<(i64, u64)>)>> {
    let path = match version {
        Some(v) => format!("/docs/{doc}/authorship?version={v}"),
        None => format!("/docs/{doc}/authorship"),
    };
    let (status, body) = r.call(who, "GET", &path, None).await?;
    ensure!(status == 200, "authorship answered {status}: {body}");
    body.as_array()
        .context("authorship is not an array")?
        .iter()
        .map(|p| {
            let text = p["text"].as_str().context("paragraph text")?.to_string();
            let authors = p["authors"]
                .as_array()
                .context("authors")?
                .iter()
                .map(|a: &Value| {
                    (
                        a["user_id"].as_i64().unwrap_or(-1),
                        a["chars"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            Ok((text, authors))
        })
        .collect()
}

async fn three_offline_authors(backend: Backend) -> Result<()> {
    let tag = format!("attribution/{}", backend.name());
    let mut rng = StdRng::seed_from_u64(xieshang_tests::seed(&tag, 4));
    // Compact every few rows, so attribution must survive compaction.
    let server = TestServer::start_with(backend, |c| c.compact_every = 3).await?;
    let c = server.committee(3).await?;
    let r = Records::new(&server.api);
    let api = &server.api;

    let mut staff = TestClient::new("staff");
    staff
        .connect(&api.ws_url(c.doc, Some(&c.staff.token), true))
        .await?;
    staff.append(INTRO).await?;
    staff.wait_all_acked().await?;
    let before = r.current_version(&c.staff, c.doc).await?;
    // A sign-off keeps that version (viewing it alone no longer stores it).
    let (status, body) = r.sign(&c.members[0], c.doc, &before).await?;
    ensure!(status == 201, "{tag}: sign-off {status} {body}");

    let mut peers = Vec::new();
    for (i, m) in c.members.iter().enumerate() {
        let mut p = TestClient::new(&format!("member{i}"));
        p.connect(&api.ws_url(c.doc, Some(&m.token), true)).await?;
        p.wait_text(INTRO).await?;
        peers.push(p);
    }
    // All three go offline and write their paragraph in two edits.
    for (p, (first, second)) in peers.iter_mut().zip(PARAGRAPHS) {
        p.disconnect().await;
        p.append(&format!("\n\n{first}")).await?;
        p.append(second).await?;
        ensure!(
            p.held_len() == 2,
            "{tag}: {} holds {}",
            p.name,
            p.held_len()
        );
    }
    // They come back in three different ways.
    for (i, p) in peers.iter_mut().enumerate() {
        let url = api.ws_url(c.doc, Some(&c.members[i].token), true);
        match i {
            0 => {
                p.connect_holding_back(&url).await?;
                p.flush_held(Flush::InOrder, &mut rng).await?;
            }
            1 => {
                p.connect_holding_back(&url).await?;
                p.flush_held(Flush::Merged, &mut rng).await?;
            }
            _ => p.connect(&url).await?,
        }
        p.wait_all_acked().await?;
    }
    let merged = api.draft_body(&c.staff, c.doc).await?;
    for p in &mut peers {
        p.wait_text(&merged).await?;
    }

    let mut expected: HashMap<String, i64> = HashMap::new();
    expected.insert(INTRO.to_string(), c.staff.user_id);
    for (i, (first, second)) in PARAGRAPHS.iter().enumerate() {
        expected.insert(format!("{first}{second}"), c.members[i].user_id);
    }
    let view = authorship(&r, &c.staff, c.doc, None).await?;
    ensure!(
        view.len() == 4,
        "{tag}: {} paragraphs in {merged:?}: {view:?}",
        view.len()
    );
    for (text, authors) in &view {
        let want = expected
            .get(text)
            .with_context(|| format!("{tag}: unexpected paragraph {text:?}"))?;
        let chars = text.chars().count() as u64;
        ensure!(
            authors == &vec![(*want, chars)],
            "{tag}: paragraph {text:?} attributed to {authors:?}, expected user {want}"
        );
    }
    // The version before the offline edits: only the introduction, by staff.
    let old = authorship(&r, &c.staff, c.doc, Some(&before)).await?;
    ensure!(
        old.len() == 1 && old[0].1 == vec![(c.staff.user_id, INTRO.chars().count() as u64)],
        "{tag}: {old:?}"
    );
    println!("[{tag}] 4 paragraphs, each attributed to its one writer after offline merge and compaction");
    staff.disconnect().await;
    for p in &mut peers {
        p.disconnect().await;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_offline_authors_each_own_their_paragraph_sqlite() -> Result<()> {
    three_offline_authors(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_offline_authors_each_own_their_paragraph_postgres() -> Result<()> {
    match Backend::postgres("attribution").await? {
        Some(b) => three_offline_authors(b).await,
        None => Ok(()),
    }
}
