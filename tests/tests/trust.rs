//! Trust: every edit, sign-off and presence belongs to the one who made it, and
//! no race or flood breaks that. Each test runs on SQLite and on PostgreSQL.
//!
//! - A stock Yjs client signed in as one member writes under the client id
//!   another member already wrote with: closed 4403, nothing stored, authorship
//!   unchanged, the other member keeps syncing, and the forger's next session
//!   (a fresh client id) works.
//! - Awareness naming another connection's client id changes nothing; presence
//!   shows the signed-in display names, not what clients claim.
//! - 30 stock y-websocket clients with presence in one document each make an
//!   edit: every edit reaches all 30 and none is closed.
//! - Two finalize requests at once: one 201, one 409, 20 times; the document
//!   stays read-only; 10 documents finalized at once get bulletins 1..10.
//! - A removed participant's or a signed-out member's open socket is closed
//!   within 2 s, and what it sends after that is not stored; so is one whose
//!   token expires; a peer that stops answering pings is dropped with its
//!   presence; a socket from a foreign `Origin` is refused.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio::time::Instant;
use xieshang_tests::records::Records;
use xieshang_tests::{Backend, Committee, Session, TestClient, TestServer, WAIT};

/// SQLite, and PostgreSQL when a cluster is configured.
fn node_dir(test: &str) -> Option<std::path::PathBuf> {
    xieshang_tests::stock_yjs_dir(test)
}

/// The authors the server reports for the whole document: user id → chars.
async fn authorship(
    r: &Records,
    who: &Session,
    doc: xieshang_shared::DocId,
) -> Result<Vec<(i64, i64)>> {
    let (status, body) = r
        .call(who, "GET", &format!("/docs/{doc}/authorship"), None)
        .await?;
    ensure!(status == 200, "authorship: {status} {body}");
    let mut chars = std::collections::BTreeMap::new();
    for para in body.as_array().context("authorship is not a list")? {
        for a in para["authors"].as_array().into_iter().flatten() {
            let user = a["user_id"].as_i64().context("author without user_id")?;
            *chars.entry(user).or_insert(0) += a["chars"].as_i64().unwrap_or(0);
        }
    }
    Ok(chars.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_under_another_members_client_id_is_refused() -> Result<()> {
    let Some(dir) = node_dir("trust/forge") else {
        return Ok(());
    };
    for backend in Backend::all("trust/forge").await? {
        let tag = format!("forge/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(2).await?;
        let (api, r) = (&server.api, Records::new(&server.api));
        let (a_user, b_user) = (&c.members[0], &c.members[1]);
        let mut a = TestClient::with_client_id("A", 424_242);
        a.connect(&api.ws_url(c.doc, Some(&a_user.token), true))
            .await?;
        a.insert(0, "甲写的第一段。").await?;
        a.wait_all_acked().await?;
        let before = authorship(&r, &c.staff, c.doc).await?;
        ensure!(before == vec![(a_user.user_id, 7)], "{tag}: {before:?}");

        let args = [
            "forge".to_string(),
            api.base().to_string(),
            c.doc.to_string(),
            b_user.token.clone(),
            "424242".to_string(),
        ];
        let result = xieshang_tests::node::run(&dir, "trust.mjs", &args, WAIT * 2).await?;
        ensure!(
            result["closed"] == 4403 && result["fresh"] == true,
            "{tag}: {result}"
        );
        // The forger's own next session (a fresh client id) is stored as theirs.
        let deadline = Instant::now() + WAIT;
        let body = loop {
            let body = api.draft_body(&c.staff, c.doc).await?;
            if body.contains("[本人]") || Instant::now() > deadline {
                break body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        ensure!(
            body == "[本人]甲写的第一段。",
            "{tag}: forged text stored or fresh edit lost: {body:?}"
        );
        let after = authorship(&r, &c.staff, c.doc).await?;
        ensure!(
            after == vec![(a_user.user_id, 7), (b_user.user_id, 4)],
            "{tag}: authorship changed: {after:?}"
        );
        // A was never disturbed and keeps syncing.
        a.wait_text("[本人]甲写的第一段。").await?;
        a.append("甲又写。").await?;
        a.wait_all_acked().await?;
        ensure!(a.is_connected(), "{tag}: A was closed");
        ensure!(
            api.draft_body(&c.staff, c.doc).await? == "[本人]甲写的第一段。甲又写。",
            "{tag}: A's later edit missing"
        );
        println!("[{tag}] forged client id closed 4403 ({}); nothing stored; authorship {after:?}; A keeps syncing", result["reason"]);
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_belongs_to_its_connection_and_shows_the_signed_in_name() -> Result<()> {
    let Some(dir) = node_dir("trust/presence") else {
        return Ok(());
    };
    for backend in Backend::all("trust/presence").await? {
        let tag = format!("presence/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(3).await?;
        let tokens: Vec<String> = c.members.iter().map(|m| m.token.clone()).collect();
        let args = [
            "presence".to_string(),
            server.api.base().to_string(),
            c.doc.to_string(),
            tokens.join(","),
            c.members[0].username.clone(),
        ];
        let result = xieshang_tests::node::run(&dir, "trust.mjs", &args, WAIT * 2).await?;
        ensure!(
            result["seen"]["user"]["name"] == c.members[0].username.as_str()
                && result["seen"]["user"]["id"] == c.members[0].user_id
                && result["closes"] == 0,
            "{tag}: {result}"
        );
        println!(
            "[{tag}] A's entry after B's removal and claim: {}",
            result["seen"]
        );
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_of_30_stock_clients_with_presence_all_get_every_edit() -> Result<()> {
    let Some(dir) = node_dir("trust/meeting") else {
        return Ok(());
    };
    for backend in Backend::all("trust/meeting").await? {
        let tag = format!("meeting/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(30).await?;
        let tokens: Vec<String> = c.members.iter().map(|m| m.token.clone()).collect();
        let names: Vec<String> = c.members.iter().map(|m| m.username.clone()).collect();
        let args = [
            "meeting".to_string(),
            server.api.base().to_string(),
            c.doc.to_string(),
            tokens.join(","),
            names.join(","),
        ];
        let started = Instant::now();
        let result = xieshang_tests::node::run(&dir, "trust.mjs", &args, WAIT * 6).await?;
        ensure!(
            result["complete"] == true && result["closes"] == 0,
            "{tag}: {result}"
        );
        ensure!(result["names"] == result["expected"], "{tag}: {result}");
        let body = server.api.draft_body(&c.staff, c.doc).await?;
        let stored = (0..30)
            .filter(|i| body.contains(&format!("[m{i}]")))
            .count();
        ensure!(stored == 30, "{tag}: {stored} of 30 edits stored: {body}");
        println!(
            "[{tag}] 30 stock clients: 30/30 edits at all 30, 0 closed, names vouched, in {:?}",
            started.elapsed()
        );
        server.shutdown().await;
    }
    Ok(())
}

/// A topic whose draft has one edit, and its current version.
async fn draft_to_finalize(
    server: &TestServer,
    c: &Committee,
    r: &Records,
    title: &str,
) -> Result<(xieshang_shared::DocId, String)> {
    let (_, doc) = c.new_topic(&server.api, title).await?;
    let mut a = TestClient::new("A");
    a.connect(&server.api.ws_url(doc, Some(&c.members[0].token), true))
        .await?;
    a.insert(0, title).await?;
    a.wait_all_acked().await?;
    a.disconnect().await;
    Ok((doc, r.current_version(&c.staff, doc).await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_finalizations_at_once_give_one_201_and_one_409() -> Result<()> {
    for backend in Backend::all("trust/finalize-race").await? {
        let tag = format!("finalize-race/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(1).await?;
        let r = Records::new(&server.api);
        let mut numbers = Vec::new();
        let mut last_doc = None;
        for round in 0..20 {
            let (doc, v) = draft_to_finalize(&server, &c, &r, &format!("第{round}轮")).await?;
            let (x, y) = tokio::join!(
                r.finalize(&c.staff, doc, &v, Some("缺席：出差")),
                r.finalize(&c.staff, doc, &v, Some("缺席：出差"))
            );
            let (x, y) = (x?, y?);
            let mut statuses = [x.0, y.0];
            statuses.sort_unstable();
            ensure!(statuses == [201, 409], "{tag} round {round}: {x:?} {y:?}");
            let won = if x.0 == 201 { &x.1 } else { &y.1 };
            let lost = if x.0 == 201 { &y.1 } else { &x.1 };
            ensure!(
                lost["error"]["code"] == "already_finalized",
                "{tag}: {lost}"
            );
            numbers.push(won["bulletin_no"].as_i64().context("no bulletin_no")?);
            // Read-only whatever happened: a plain (stock-protocol) edit is refused.
            let mut late = TestClient::new("late");
            late.connect(&server.api.ws_url(doc, Some(&c.members[0].token), false))
                .await?;
            late.insert(0, "定稿后").await?;
            late.wait_for("the refusal", WAIT, |c| c.refusal().is_some())
                .await?;
            let body = server.api.draft_body(&c.staff, doc).await?;
            ensure!(
                !body.contains("定稿后"),
                "{tag}: edit after finalization stored"
            );
            last_doc = Some(doc);
        }
        ensure!(
            numbers == (1..=20).collect::<Vec<i64>>(),
            "{tag}: bulletin numbers {numbers:?}"
        );
        // And a stock Yjs client (yjs + y-websocket) is refused as well.
        if let (Some(dir), Some(doc)) = (node_dir("trust/finalize-race"), last_doc) {
            let args = [
                server.api.base().to_string(),
                doc.to_string(),
                c.members[0].token.clone(),
            ];
            let stock = xieshang_tests::node::run(&dir, "readonly.mjs", &args, WAIT * 2).await?;
            ensure!(
                stock["denied"] == true
                    && stock["reason"].as_str().is_some_and(|r| r.contains("定稿")),
                "{tag}: stock Yjs edit not refused: {stock}"
            );
        }
        println!(
            "[{tag}] 20 rounds: one 201 and one 409 each; bulletins 1..20; later edits refused (native and stock Yjs)"
        );
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_documents_finalized_at_once_get_bulletins_1_to_10() -> Result<()> {
    for backend in Backend::all("trust/bulletins").await? {
        let tag = format!("bulletins/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(1).await?;
        let r = Records::new(&server.api);
        let mut docs = Vec::new();
        for i in 0..10 {
            docs.push(draft_to_finalize(&server, &c, &r, &format!("议题{i}")).await?);
        }
        let answers = join_all(
            docs.iter()
                .map(|(doc, v)| r.finalize(&c.staff, *doc, v, Some("缺席"))),
        )
        .await;
        let mut numbers = BTreeSet::new();
        for a in answers {
            let (status, body) = a?;
            ensure!(status == 201, "{tag}: {status} {body}");
            numbers.insert(body["bulletin_no"].as_i64().context("no bulletin_no")?);
        }
        ensure!(
            numbers == (1..=10).collect::<BTreeSet<i64>>(),
            "{tag}: {numbers:?}"
        );
        println!("[{tag}] 10 concurrent finalizations: bulletins {numbers:?}");
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_access_closes_open_sockets_within_2_s() -> Result<()> {
    for backend in Backend::all("trust/access-change").await? {
        let tag = format!("access-change/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(2).await?;
        let (api, r) = (&server.api, Records::new(&server.api));
        let (m0, m1) = (&c.members[0], &c.members[1]);

        // Removed from the topic while connected.
        let mut removed = TestClient::new("removed");
        removed
            .connect(&api.ws_url(c.doc, Some(&m0.token), true))
            .await?;
        removed.insert(0, "移除前。").await?;
        removed.wait_all_acked().await?;
        api.set_participants(&c.staff, c.topic, &[m1.user_id])
            .await?;
        let at = Instant::now();
        removed.insert(0, "[移除后]").await?;
        let closed = removed.wait_closed(Duration::from_secs(2)).await?;
        ensure!(closed.code == 4403, "{tag}: {closed:?}");
        let after_removal = at.elapsed();

        // Signed out while connected.
        let mut out = TestClient::new("signed-out");
        out.connect(&api.ws_url(c.doc, Some(&m1.token), true))
            .await?;
        let (status, _) = r.call(m1, "DELETE", "/session", None).await?;
        ensure!(status == 204, "{tag}: sign-out answered {status}");
        let at = Instant::now();
        out.insert(0, "[退出后]").await?;
        let closed = out.wait_closed(Duration::from_secs(2)).await?;
        ensure!(closed.code == 4401, "{tag}: {closed:?}");
        let after_signout = at.elapsed();

        tokio::time::sleep(Duration::from_millis(200)).await;
        let body = api.draft_body(&c.staff, c.doc).await?;
        ensure!(body == "移除前。", "{tag}: later edits stored: {body:?}");

        // A token that expires while its socket is open.
        let short = xieshang_server::auth::issue_token(
            &server.state().keys,
            xieshang_shared::UserId(c.staff.user_id),
            Duration::from_millis(1500),
        );
        let mut expiring = TestClient::new("expiring");
        expiring
            .connect(&api.ws_url(c.doc, Some(&short), true))
            .await?;
        let closed = expiring.wait_closed(Duration::from_secs(4)).await?;
        ensure!(closed.code == 4401, "{tag}: {closed:?}");

        println!("[{tag}] removed participant closed 4403 after {after_removal:?}, signed-out 4401 after {after_signout:?}, expired token 4401; later edits not stored");
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_pings_is_dropped_with_its_presence() -> Result<()> {
    for backend in Backend::all("trust/pings").await? {
        let tag = format!("pings/{}", backend.name());
        let server = TestServer::start_with(backend, |c| c.ping_interval_ms = 200).await?;
        let c = server.committee(2).await?;
        let api = &server.api;
        let mut watcher = TestClient::new("watcher");
        watcher
            .connect(&api.ws_url(c.doc, Some(&c.members[0].token), true))
            .await?;
        let mut silent = TestClient::new("silent");
        silent
            .connect(&api.ws_url(c.doc, Some(&c.members[1].token), true))
            .await?;
        silent.send_presence(777, 1, r#"{"cursor":null}"#).await?;
        watcher
            .wait_for("the silent peer's presence", WAIT, |w| {
                w.presence().contains_key(&777)
            })
            .await?;
        let at = Instant::now();
        // From now on `silent` reads nothing, so it answers no ping.
        watcher
            .wait_for("the silent peer's presence to go", WAIT, |w| {
                !w.presence().contains_key(&777)
            })
            .await?;
        let gone = at.elapsed();
        ensure!(
            gone < Duration::from_secs(3),
            "{tag}: took {gone:?} at 200 ms pings"
        );
        // Its socket is unregistered once its close frame is written (the
        // watcher keeps reading, so it keeps answering pings meanwhile).
        let sockets = server.state().sockets.clone();
        watcher
            .wait_for(
                "the silent peer's socket to go",
                Duration::from_secs(10),
                |_| sockets.count() == 1,
            )
            .await?;
        ensure!(
            watcher.is_connected(),
            "{tag}: the answering peer was dropped"
        );
        println!("[{tag}] silent peer and its presence gone after {gone:?} (pings every 200 ms); the answering peer stays");
        server.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_from_a_foreign_origin_is_refused() -> Result<()> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.allowed_origins = vec!["https://xieshang.example".into()]
    })
    .await?;
    let c = server.committee(1).await?;
    let url = server.api.ws_url(c.doc, Some(&c.members[0].token), true);
    let own = format!("http://{}", server.addr);
    let mut seen = Vec::new();
    for (origin, expected) in [
        ("http://evil.example", 403),
        (own.as_str(), 101),
        ("https://xieshang.example", 101),
    ] {
        let mut req = url.as_str().into_client_request()?;
        req.headers_mut().insert("origin", origin.parse()?);
        let status = match tokio_tungstenite::connect_async(req).await {
            Ok((mut ws, resp)) => {
                let _ = ws.close(None).await;
                resp.status().as_u16()
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
            Err(e) => return Err(e.into()),
        };
        ensure!(status == expected, "Origin {origin}: {status}");
        seen.push(json!({"origin": origin, "status": status}));
    }
    println!("[origin] {}", Value::Array(seen));
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_never_replaces_a_newer_one() -> Result<()> {
    use xieshang_server::db::queries::docs;
    for backend in Backend::all("trust/compaction").await? {
        let tag = format!("compaction/{}", backend.name());
        let server = TestServer::start(backend).await?;
        let c = server.committee(1).await?;
        let db = &server.state().db;
        let doc = c.doc;
        // Two owners' compactions arriving out of order: the newer (upto 20)
        // first, then an older one (upto 10) that an evicted owner still ran.
        docs::compact(db, doc, 20, b"newer", b"sv20").await?;
        docs::compact(db, doc, 10, b"older", b"sv10").await?;
        let stored = docs::load(db, doc).await?;
        ensure!(
            stored.snapshot == Some((20, b"newer".to_vec())),
            "{tag}: {:?}",
            stored.snapshot
        );
        println!("[{tag}] an older compaction after a newer one left the newer snapshot (upto 20)");
        server.shutdown().await;
    }
    Ok(())
}
