//! Canonical records (issue #4): sign-offs bound to an exact version go stale on
//! any edit; finalization waits for every participant (or a recorded reason);
//! a finalized document refuses updates from native yrs peers (ext: ReadOnly;
//! plain: y-protocols permission denied) and from stock Yjs, and its stored state
//! stays exactly as it was; an offline sign-off on an outdated version is
//! reported stale with the diff since; restoring an old version is a new edit
//! whose text equals the old version's.

use std::process::Stdio;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use tokio::process::Command;
use xieshang_server::records::describe;
use xieshang_shared::DocKind;
use xieshang_tests::client::server_state;
use xieshang_tests::records::Records;
use xieshang_tests::{Backend, Committee, TestClient, TestServer};

/// Writes `text` at the end of the body through `client` and waits for the ack.
async fn write(client: &mut TestClient, text: &str) -> Result<()> {
    client.append(text).await?;
    client.wait_all_acked().await
}

/// The sign-offs listed under `version` as (user id, stale).
fn signoffs_of(list: &[Value], version: &str) -> Vec<(i64, bool)> {
    list.iter()
        .filter(|v| v["version"] == version)
        .flat_map(|v| v["signoffs"].as_array().cloned().unwrap_or_default())
        .map(|s| (s["user_id"].as_i64().unwrap_or(0), s["stale"] == true))
        .collect()
}

async fn stale_then_finalize(backend: Backend) -> Result<()> {
    let tag = format!("canonical/stale/{}", backend.name());
    let server = TestServer::start(backend).await?;
    let c = server.committee(2).await?;
    let r = Records::new(&server.api);
    let (m0, m1) = (&c.members[0], &c.members[1]);
    let mut a = TestClient::new("m0");
    a.connect(&server.api.ws_url(c.doc, Some(&m0.token), true))
        .await?;
    write(&mut a, "第一段：建议增设停车位。").await?;

    let v1 = r.current_version(m0, c.doc).await?;
    let (status, body) = r.sign(m0, c.doc, &v1).await?;
    ensure!(status == 201, "{tag}: sign-off answered {status}: {body}");
    let (status, body) = r.sign(&c.outsider, c.doc, &v1).await?;
    ensure!(status == 403, "{tag}: an outsider signed: {status} {body}");

    let (status, body) = r.finalize(&c.staff, c.doc, &v1, None).await?;
    ensure!(
        status == 409 && body["error"]["code"] == "signoffs_missing",
        "{tag}: {status} {body}"
    );
    let missing: Vec<i64> = body["error"]["missing"]
        .as_array()
        .context("missing list")?
        .iter()
        .filter_map(|m| m["user_id"].as_i64())
        .collect();
    ensure!(missing == vec![m1.user_id], "{tag}: missing {missing:?}");
    let (status, _) = r.finalize(m0, c.doc, &v1, None).await?;
    ensure!(status == 403, "{tag}: a member may not finalize ({status})");

    // Any later edit makes the earlier sign-off stale.
    let mut b = TestClient::new("m1");
    b.connect(&server.api.ws_url(c.doc, Some(&m1.token), true))
        .await?;
    write(&mut b, "\n\n第二段：另一位委员补充。").await?;
    let list = r.versions(m0, c.doc).await?;
    let v2 = list
        .last()
        .and_then(|v| v["version"].as_str())
        .context("current")?
        .to_string();
    ensure!(v2 != v1, "{tag}: the version did not change on an edit");
    ensure!(
        signoffs_of(&list, &v1) == vec![(m0.user_id, true)],
        "{tag}: {list:?}"
    );
    let (status, body) = r.finalize(&c.staff, c.doc, &v1, None).await?;
    ensure!(
        status == 409 && body["error"]["code"] == "stale_version",
        "{tag}: {status} {body}"
    );
    ensure!(
        body["error"]["current"]["version"] == v2.as_str(),
        "{tag}: {body}"
    );

    for m in [m0, m1] {
        let (status, body) = r.sign(m, c.doc, &v2).await?;
        ensure!(status == 201, "{tag}: {status} {body}");
    }
    let list = r.versions(m0, c.doc).await?;
    ensure!(
        signoffs_of(&list, &v2) == vec![(m0.user_id, false), (m1.user_id, false)],
        "{tag}: {list:?}"
    );
    let (status, fv) = r.finalize(&c.staff, c.doc, &v2, None).await?;
    ensure!(status == 201, "{tag}: finalize answered {status}: {fv}");
    ensure!(
        fv["version"] == v2.as_str() && fv["absent"] == json!([]),
        "{tag}: {fv}"
    );
    ensure!(
        fv["signoffs"].as_array().map(Vec::len) == Some(2),
        "{tag}: {fv}"
    );
    ensure!(
        fv["text"].as_str().is_some_and(|t| t.contains("第二段")),
        "{tag}: {fv}"
    );
    let (status, body) = r.finalize(&c.staff, c.doc, &v2, None).await?;
    ensure!(
        status == 409 && body["error"]["code"] == "already_finalized",
        "{tag}: {status} {body}"
    );
    println!("[{tag}] stale sign-off shown, finalize refused twice then accepted with 2 sign-offs");
    a.disconnect().await;
    b.disconnect().await;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signoffs_go_stale_and_finalize_waits_for_all_sqlite() -> Result<()> {
    stale_then_finalize(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signoffs_go_stale_and_finalize_waits_for_all_postgres() -> Result<()> {
    match Backend::postgres("canonical/stale").await? {
        Some(b) => stale_then_finalize(b).await,
        None => Ok(()),
    }
}

/// A committee whose draft has some text and is finalized with one sign-off
/// and a reason for the other participant; answers the finalized version.
async fn finalized_with_reason(server: &TestServer, c: &Committee) -> Result<Value> {
    let r = Records::new(&server.api);
    let mut a = TestClient::new("writer");
    a.connect(&server.api.ws_url(c.doc, Some(&c.members[0].token), true))
        .await?;
    write(&mut a, "定稿前的正文。").await?;
    a.disconnect().await;
    let v = r.current_version(&c.members[0], c.doc).await?;
    let (status, body) = r.sign(&c.members[0], c.doc, &v).await?;
    ensure!(status == 201, "{status} {body}");
    let reason = "李委员出差，书面同意";
    let (status, fv) = r.finalize(&c.staff, c.doc, &v, Some(reason)).await?;
    ensure!(
        status == 201,
        "finalize with a reason answered {status}: {fv}"
    );
    ensure!(fv["absent"] == json!([c.members[1].user_id]), "{fv}");
    ensure!(fv["absent_reason"] == reason, "{fv}");
    Ok(fv)
}

async fn read_only_after_finalization(backend: Backend) -> Result<()> {
    let tag = format!("canonical/read-only/{}", backend.name());
    let server = TestServer::start_with(backend, |c| c.idle_evict_secs = 1).await?;
    let c = server.committee(2).await?;
    let r = Records::new(&server.api);
    let api = &server.api;
    finalized_with_reason(&server, &c).await?;
    let before = api.doc(&c.staff, c.doc).await?;
    ensure!(before["finalized"] == true, "{tag}: {before}");
    let (_, sv_before) = server_state(&api.ws_url(c.doc, Some(&c.staff.token), false)).await?;

    // Our own client (ext=1): told at once, and its edit is refused.
    let mut ext = TestClient::new("ext");
    ext.connect(&api.ws_url(c.doc, Some(&c.members[0].token), true))
        .await?;
    ext.wait_for("ReadOnly at join", xieshang_tests::WAIT, |c| {
        c.refusal().is_some()
    })
    .await?;
    ext.append("【定稿后的修改】").await?;
    // A plain native peer (no ext): refused with the y-protocols auth message.
    let mut plain = TestClient::new("plain");
    plain
        .connect(&api.ws_url(c.doc, Some(&c.members[1].token), false))
        .await?;
    ensure!(
        plain.refusal().is_none(),
        "{tag}: auth message before any edit"
    );
    plain.append("【另一处修改】").await?;
    plain
        .wait_for("permission denied", xieshang_tests::WAIT, |c| {
            c.refusal().is_some()
        })
        .await?;
    let denied = plain.refusal().unwrap_or_default().to_string();
    ensure!(
        denied.contains("PermissionDenied") && denied.contains("定稿"),
        "{tag}: {denied}"
    );
    ensure!(
        ext.acked_count() == 0,
        "{tag}: a refused edit was acknowledged"
    );
    ensure!(
        ext.violations().is_empty() && plain.violations().is_empty(),
        "{tag}: violations"
    );

    // Stock Yjs in Node, if available.
    let stock = stock_yjs_refused(api.base(), c.doc, &c.members[0].token).await?;

    // REST writes refuse too.
    let v = r.current_version(&c.staff, c.doc).await?;
    let (status, body) = r.sign(&c.members[1], c.doc, &v).await?;
    ensure!(
        status == 409 && body["error"]["code"] == "finalized",
        "{tag}: {status} {body}"
    );
    let restore = json!({"version": v});
    let (status, body) = r
        .call(
            &c.staff,
            "POST",
            &format!("/docs/{}/restore", c.doc),
            Some(restore),
        )
        .await?;
    ensure!(
        status == 409 && body["error"]["code"] == "finalized",
        "{tag}: {status} {body}"
    );

    // Nothing changed: the API body and the state vector a fresh peer sees.
    ext.disconnect().await;
    plain.disconnect().await;
    let after = api.doc(&c.staff, c.doc).await?;
    let (_, sv_after) = server_state(&api.ws_url(c.doc, Some(&c.staff.token), false)).await?;
    ensure!(before == after, "{tag}: body changed: {before} -> {after}");
    ensure!(sv_before == sv_after, "{tag}: state vector changed");

    // Still read-only once the owner was evicted and the document reloaded from storage.
    xieshang_tests::wait::until("eviction", xieshang_tests::WAIT, || async {
        Ok((server.state().docs.open_count() == 0).then_some(()))
    })
    .await?;
    let mut late = TestClient::new("late");
    late.connect(&api.ws_url(c.doc, Some(&c.members[0].token), true))
        .await?;
    late.wait_for("ReadOnly after reload", xieshang_tests::WAIT, |c| {
        c.refusal().is_some()
    })
    .await?;
    late.append("【重新加载后】").await?;
    late.disconnect().await;
    let (text, sv_late) = server_state(&api.ws_url(c.doc, Some(&c.staff.token), false)).await?;
    ensure!(
        sv_late == sv_before && !text.contains("重新加载后"),
        "{tag}: changed after reload"
    );
    println!(
        "[{tag}] refused: ext ReadOnly, plain PermissionDenied, stock Yjs {stock}; body and state vector unchanged (also after reload)"
    );
    server.shutdown().await;
    Ok(())
}

/// Runs tests/node/readonly.mjs; answers "refused", or "skipped" when `node` or
/// its packages are missing outside CI (under CI that fails: [`xieshang_tests::skip_or_fail`]).
async fn stock_yjs_refused(
    base: &str,
    doc: xieshang_shared::DocId,
    token: &str,
) -> Result<&'static str> {
    let Some(node_dir) = xieshang_tests::stock_yjs_dir("canonical") else {
        return Ok("skipped");
    };
    let out = Command::new("node")
        .arg(node_dir.join("readonly.mjs"))
        .args([base, &doc.to_string(), token])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out).await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("result ") || l.starts_with("error "))
        .unwrap_or("");
    let v: Value =
        serde_json::from_str(line.split_once(' ').map_or("", |(_, j)| j)).unwrap_or(Value::Null);
    ensure!(
        out.status.success()
            && v["denied"] == true
            && v["reason"].as_str().is_some_and(|r| r.contains("定稿")),
        "stock Yjs was not refused: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok("refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalized_document_refuses_every_update_sqlite() -> Result<()> {
    read_only_after_finalization(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalized_document_refuses_every_update_postgres() -> Result<()> {
    match Backend::postgres("canonical/read-only").await? {
        Some(b) => read_only_after_finalization(b).await,
        None => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_signoff_on_an_outdated_version_is_stale() -> Result<()> {
    let tag = "canonical/offline-signoff";
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(2).await?;
    let r = Records::new(&server.api);
    let api = &server.api;
    let (m0, m1) = (&c.members[0], &c.members[1]);
    let mut a = TestClient::new("m0");
    a.connect(&api.ws_url(c.doc, Some(&m0.token), true)).await?;
    write(&mut a, "原始段落。").await?;
    let seen = r.current_version(m0, c.doc).await?;

    // m0 goes offline and signs what it sees, computing the version locally.
    a.disconnect().await;
    let local = describe(DocKind::Draft, a.doc());
    ensure!(
        local.version == seen,
        "{tag}: offline version {} != listed {seen}",
        local.version
    );
    // Meanwhile m1 changes the text online.
    let mut b = TestClient::new("m1");
    b.connect(&api.ws_url(c.doc, Some(&m1.token), true)).await?;
    write(&mut b, "\n\n线上新增的段落。").await?;

    // Back online, the sign-off syncs: it names a version the server no longer holds.
    a.connect(&api.ws_url(c.doc, Some(&m0.token), true)).await?;
    let (status, body) = r.sign(m0, c.doc, &local.version).await?;
    ensure!(
        status == 409 && body["error"]["code"] == "stale_version",
        "{tag}: {status} {body}"
    );
    let unified = body["error"]["diff"]["unified"]
        .as_str()
        .unwrap_or_default();
    ensure!(
        unified.contains("+ 线上新增的段落。"),
        "{tag}: diff {unified:?}"
    );
    ensure!(
        body["error"]["current"]["version"] != seen.as_str(),
        "{tag}: {body}"
    );
    let list = r.versions(m0, c.doc).await?;
    ensure!(
        signoffs_of(&list, &seen) == vec![(m0.user_id, true)],
        "{tag}: {list:?}"
    );

    // An offline edit plus a sign-off on the local version: the server never held it.
    a.disconnect().await;
    a.append("\n\n离线修改。").await?;
    let mine = describe(DocKind::Draft, a.doc());
    write(&mut b, "\n\n又一处线上修改。").await?;
    a.connect(&api.ws_url(c.doc, Some(&m0.token), true)).await?;
    let body = json!({"version": mine.version, "text": mine.text});
    let (status, body) = r
        .call(m0, "POST", &format!("/docs/{}/signoffs", c.doc), Some(body))
        .await?;
    ensure!(
        status == 409 && body["error"]["known"] == false,
        "{tag}: {status} {body}"
    );
    println!("[{tag}] offline sign-off reported stale with the diff since: {unified:?}");
    a.disconnect().await;
    b.disconnect().await;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_an_old_version_is_a_new_edit() -> Result<()> {
    let tag = "canonical/restore";
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(2).await?;
    let r = Records::new(&server.api);
    let api = &server.api;
    let mut a = TestClient::new("m0");
    a.connect(&api.ws_url(c.doc, Some(&c.members[0].token), true))
        .await?;
    write(&mut a, "第一段。\n\n第二段。\n\n第三段。").await?;
    let old = r.current_version(&c.staff, c.doc).await?;
    // A sign-off makes it a version that matters (stored); a mere view does not.
    let (status, body) = r.sign(&c.members[0], c.doc, &old).await?;
    ensure!(status == 201, "sign-off: {status} {body}");
    let (_, old_v) = r
        .call(
            &c.staff,
            "GET",
            &format!("/docs/{}/versions/{old}", c.doc),
            None,
        )
        .await?;
    let old_text = old_v["text"].as_str().context("version text")?.to_string();

    a.remove(0, 4).await?;
    a.insert(0, "改写的第一段。").await?;
    write(&mut a, "\n\n第四段。").await?;
    let edited = r.current_version(&c.staff, c.doc).await?;
    let (_, _sv_before) = server_state(&api.ws_url(c.doc, Some(&c.staff.token), false)).await?;

    let body = json!({"version": old});
    let (status, restored) = r
        .call(
            &c.members[1],
            "POST",
            &format!("/docs/{}/restore", c.doc),
            Some(body),
        )
        .await?;
    ensure!(
        status == 201,
        "{tag}: restore answered {status}: {restored}"
    );
    ensure!(restored["text"] == old_text.as_str(), "{tag}: {restored}");
    let new_version = restored["version"].as_str().context("version")?;
    ensure!(
        new_version != old && new_version != edited,
        "{tag}: not a new version"
    );
    // Connected peers get it as an ordinary update; history keeps every version.
    let old_body = old_text
        .trim_start_matches("# 协商议题 test\n\n")
        .to_string();
    a.wait_text(&old_body).await?;
    ensure!(
        api.draft_body(&c.staff, c.doc).await? == old_body,
        "{tag}: GET body differs"
    );
    let (status, _) = r
        .call(
            &c.staff,
            "GET",
            &format!("/docs/{}/versions/{edited}", c.doc),
            None,
        )
        .await?;
    ensure!(
        status == 200,
        "{tag}: the edited version is gone ({status})"
    );
    let diff = format!("/docs/{}/diff?from={old}&to={new_version}", c.doc);
    let (status, d) = r.call(&c.staff, "GET", &diff, None).await?;
    ensure!(
        status == 200 && d["changed"] == false,
        "{tag}: {status} {d}"
    );
    let (status, d) = r
        .call(
            &c.staff,
            "GET",
            &format!("/docs/{}/diff?from={edited}", c.doc),
            None,
        )
        .await?;
    ensure!(status == 200 && d["changed"] == true, "{tag}: {status} {d}");
    println!("[{tag}] restored {old} as new version {new_version}; text equals the old version's");
    a.disconnect().await;
    server.shutdown().await;
    Ok(())
}
