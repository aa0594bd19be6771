//! Who may open a draft's sync socket: refused at the upgrade with 401 without
//! a valid session (none, garbage, tampered, expired), 403 for a member who is
//! not a participant of the topic, 404 for a document that does not exist; a
//! participant is admitted and syncs.

use anyhow::{ensure, Result};
use xieshang_tests::client::{server_state, upgrade_status};
use xieshang_tests::{Backend, TestClient, TestServer};

/// `token` with one character of its signature (or payload) changed.
fn tamper(token: &str, in_payload: bool) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let i = if in_payload { 3 } else { chars.len() - 2 };
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_socket_admits_only_participants() -> Result<()> {
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(1).await?;
    let api = &server.api;
    let member = &c.members[0];
    let ws = |token: Option<&str>| api.ws_url(c.doc, token, true);

    let cases: Vec<(&str, String, u16)> = vec![
        ("no token", ws(None), 401),
        ("garbage token", ws(Some("not-a-token")), 401),
        (
            "tampered signature",
            ws(Some(&tamper(&member.token, false))),
            401,
        ),
        (
            "tampered payload",
            ws(Some(&tamper(&member.token, true))),
            401,
        ),
        (
            "expired token",
            ws(Some(&server.expired_token(member.user_id))),
            401,
        ),
        (
            "member who is not a participant",
            ws(Some(&c.outsider.token)),
            403,
        ),
        (
            "no such document",
            api.ws_url(xieshang_shared::DocId::mint(), Some(&member.token), true),
            404,
        ),
        ("participant", ws(Some(&member.token)), 101),
    ];
    let mut wrong = Vec::new();
    for (what, url, expected) in &cases {
        let got = upgrade_status(url).await?;
        println!("[access] {what:34} → HTTP {got} (expected {expected})");
        if got != *expected {
            wrong.push(format!("{what}: {got} (expected {expected})"));
        }
    }
    ensure!(
        wrong.is_empty(),
        "wrong answers at upgrade: {}",
        wrong.join("; ")
    );

    // The admitted participant really syncs: its edit is acked and stored.
    let mut p = TestClient::new("participant");
    p.connect(&ws(Some(&member.token))).await?;
    p.append("参与者 participant was here").await?;
    p.wait_all_acked().await?;
    let body = api.draft_body(member, c.doc).await?;
    ensure!(body == p.text(), "GET body {body:?} != {:?}", p.text());
    let (fresh, _) = server_state(&ws(Some(&c.staff.token))).await?;
    ensure!(fresh == p.text(), "staff sees {fresh:?}");
    ensure!(p.violations().is_empty(), "{:?}", p.violations());
    p.disconnect().await;
    server.shutdown().await;
    Ok(())
}
