//! Every route against every role, as a table: the status each caller must get.
//!
//! [`TABLE`] is the data: `(method, path template, role, expected status)` for
//! every REST route of server/src/routes/*.rs and the sync socket (method `WS`,
//! judged by its upgrade status), each against a member who takes part in the
//! topic, a member who does not, staff, a leader, an admin and an anonymous
//! caller. [`the_table_names_every_route_and_every_role`] reads the routers'
//! source, so a route added without rows here fails the suite.
//!
//! Requests are chosen so that a caller who passes the access check gets a
//! fixed answer that shows it did: a success where it is cheap and harmless
//! (listings, a record, an amendment of the finalized document), or the
//! state's refusal otherwise (409 `stale_version` on finalize, 400
//! `unknown_version` on restore of a version that does not exist). Where the
//! code allows more than DESIGN.md's "Roles and rights" says, the row follows
//! the code and carries a `DESIGN:` note; the report lists those.
//!
//! Also here: every error is the JSON shape `{"error":{"code","message"}}`,
//! including bad path segments, query strings that do not deserialize and a
//! method a route does not have.

use std::collections::BTreeSet;

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use xieshang_tests::client::upgrade_status;
use xieshang_tests::records::Records;
use xieshang_tests::server::Backend;
use xieshang_tests::{Session, TestServer};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    /// A member (委员) who takes part in the topic of `{doc_id}` and `{final_id}`.
    Participant,
    /// A member who takes part in no topic.
    Outsider,
    Staff,
    Leader,
    Admin,
    /// No token at all.
    Anonymous,
}
use Role::*;

const ROLES: [Role; 6] = [Participant, Outsider, Staff, Leader, Admin, Anonymous];

/// `(method, path, role, status)`. Placeholders: `{id}` the topic, `{doc_id}`
/// its draft (unfinalized), `{final_id}` a finalized draft of a second topic
/// with the same participant, `{version}` the draft's current version.
const TABLE: &[(&str, &str, Role, u16)] = &[
    // Sessions: anyone may sign in (anonymous here = wrong password).
    ("POST", "/api/session", Participant, 200),
    ("POST", "/api/session", Outsider, 200),
    ("POST", "/api/session", Staff, 200),
    ("POST", "/api/session", Leader, 200),
    ("POST", "/api/session", Admin, 200),
    ("POST", "/api/session", Anonymous, 401),
    ("GET", "/api/session", Participant, 200),
    ("GET", "/api/session", Outsider, 200),
    ("GET", "/api/session", Staff, 200),
    ("GET", "/api/session", Leader, 200),
    ("GET", "/api/session", Admin, 200),
    ("GET", "/api/session", Anonymous, 401),
    // Sign out is idempotent; signed-in callers use a session of their own for it.
    ("DELETE", "/api/session", Participant, 204),
    ("DELETE", "/api/session", Outsider, 204),
    ("DELETE", "/api/session", Staff, 204),
    ("DELETE", "/api/session", Leader, 204),
    ("DELETE", "/api/session", Admin, 204),
    ("DELETE", "/api/session", Anonymous, 204),
    // The roster, for every signed-in user.
    ("GET", "/api/users", Participant, 200),
    ("GET", "/api/users", Outsider, 200),
    ("GET", "/api/users", Staff, 200),
    ("GET", "/api/users", Leader, 200),
    ("GET", "/api/users", Admin, 200),
    ("GET", "/api/users", Anonymous, 401),
    // Topics: everyone lists those they may see (an outsider: none).
    ("GET", "/api/topics", Participant, 200),
    ("GET", "/api/topics", Outsider, 200),
    ("GET", "/api/topics", Staff, 200),
    ("GET", "/api/topics", Leader, 200),
    ("GET", "/api/topics", Admin, 200),
    ("GET", "/api/topics", Anonymous, 401),
    ("POST", "/api/topics", Participant, 403),
    ("POST", "/api/topics", Outsider, 403),
    ("POST", "/api/topics", Staff, 201),
    ("POST", "/api/topics", Leader, 201),
    ("POST", "/api/topics", Admin, 201),
    ("POST", "/api/topics", Anonymous, 401),
    ("GET", "/api/topics/{id}", Participant, 200),
    ("GET", "/api/topics/{id}", Outsider, 403),
    ("GET", "/api/topics/{id}", Staff, 200),
    ("GET", "/api/topics/{id}", Leader, 200),
    ("GET", "/api/topics/{id}", Admin, 200),
    ("GET", "/api/topics/{id}", Anonymous, 401),
    ("PUT", "/api/topics/{id}/participants", Participant, 403),
    ("PUT", "/api/topics/{id}/participants", Outsider, 403),
    ("PUT", "/api/topics/{id}/participants", Staff, 200),
    // DESIGN: participants are set by staff (admin has staff rights); the code lets leaders too.
    ("PUT", "/api/topics/{id}/participants", Leader, 200),
    ("PUT", "/api/topics/{id}/participants", Admin, 200),
    ("PUT", "/api/topics/{id}/participants", Anonymous, 401),
    ("POST", "/api/topics/{id}/records", Participant, 201),
    ("POST", "/api/topics/{id}/records", Outsider, 403),
    ("POST", "/api/topics/{id}/records", Staff, 201),
    ("POST", "/api/topics/{id}/records", Leader, 201),
    ("POST", "/api/topics/{id}/records", Admin, 201),
    ("POST", "/api/topics/{id}/records", Anonymous, 401),
    // Reading a document: its topic's participants, staff, leaders, admins.
    ("GET", "/api/docs/{doc_id}", Participant, 200),
    ("GET", "/api/docs/{doc_id}", Outsider, 403),
    ("GET", "/api/docs/{doc_id}", Staff, 200),
    ("GET", "/api/docs/{doc_id}", Leader, 200),
    ("GET", "/api/docs/{doc_id}", Admin, 200),
    ("GET", "/api/docs/{doc_id}", Anonymous, 401),
    ("GET", "/api/docs/{doc_id}/versions", Participant, 200),
    ("GET", "/api/docs/{doc_id}/versions", Outsider, 403),
    ("GET", "/api/docs/{doc_id}/versions", Staff, 200),
    ("GET", "/api/docs/{doc_id}/versions", Leader, 200),
    ("GET", "/api/docs/{doc_id}/versions", Admin, 200),
    ("GET", "/api/docs/{doc_id}/versions", Anonymous, 401),
    (
        "GET",
        "/api/docs/{doc_id}/versions/{version}",
        Participant,
        200,
    ),
    (
        "GET",
        "/api/docs/{doc_id}/versions/{version}",
        Outsider,
        403,
    ),
    ("GET", "/api/docs/{doc_id}/versions/{version}", Staff, 200),
    ("GET", "/api/docs/{doc_id}/versions/{version}", Leader, 200),
    ("GET", "/api/docs/{doc_id}/versions/{version}", Admin, 200),
    (
        "GET",
        "/api/docs/{doc_id}/versions/{version}",
        Anonymous,
        401,
    ),
    (
        "GET",
        "/api/docs/{doc_id}/diff?from={version}",
        Participant,
        200,
    ),
    (
        "GET",
        "/api/docs/{doc_id}/diff?from={version}",
        Outsider,
        403,
    ),
    ("GET", "/api/docs/{doc_id}/diff?from={version}", Staff, 200),
    ("GET", "/api/docs/{doc_id}/diff?from={version}", Leader, 200),
    ("GET", "/api/docs/{doc_id}/diff?from={version}", Admin, 200),
    (
        "GET",
        "/api/docs/{doc_id}/diff?from={version}",
        Anonymous,
        401,
    ),
    ("GET", "/api/docs/{doc_id}/authorship", Participant, 200),
    ("GET", "/api/docs/{doc_id}/authorship", Outsider, 403),
    ("GET", "/api/docs/{doc_id}/authorship", Staff, 200),
    ("GET", "/api/docs/{doc_id}/authorship", Leader, 200),
    ("GET", "/api/docs/{doc_id}/authorship", Admin, 200),
    ("GET", "/api/docs/{doc_id}/authorship", Anonymous, 401),
    // Restore (to a version that does not exist: 400 once past the access check).
    ("POST", "/api/docs/{doc_id}/restore", Participant, 400),
    ("POST", "/api/docs/{doc_id}/restore", Outsider, 403),
    ("POST", "/api/docs/{doc_id}/restore", Staff, 400),
    // DESIGN: a leader edits a document only as a participant; the code lets any leader restore.
    ("POST", "/api/docs/{doc_id}/restore", Leader, 400),
    ("POST", "/api/docs/{doc_id}/restore", Admin, 400),
    ("POST", "/api/docs/{doc_id}/restore", Anonymous, 401),
    // Sign-off on the current version.
    ("POST", "/api/docs/{doc_id}/signoffs", Participant, 201),
    ("POST", "/api/docs/{doc_id}/signoffs", Outsider, 403),
    ("POST", "/api/docs/{doc_id}/signoffs", Staff, 201),
    // DESIGN: sign-offs are the participants'; the code also takes them from any staff, leader, admin.
    ("POST", "/api/docs/{doc_id}/signoffs", Leader, 201),
    ("POST", "/api/docs/{doc_id}/signoffs", Admin, 201),
    ("POST", "/api/docs/{doc_id}/signoffs", Anonymous, 401),
    // Finalize (with a stale version: 409 once past the access check).
    ("POST", "/api/docs/{doc_id}/finalize", Participant, 403),
    ("POST", "/api/docs/{doc_id}/finalize", Outsider, 403),
    ("POST", "/api/docs/{doc_id}/finalize", Staff, 409),
    // DESIGN: finalizing is a staff right; the code lets leaders too.
    ("POST", "/api/docs/{doc_id}/finalize", Leader, 409),
    ("POST", "/api/docs/{doc_id}/finalize", Admin, 409),
    ("POST", "/api/docs/{doc_id}/finalize", Anonymous, 401),
    ("POST", "/api/docs/{final_id}/amend", Participant, 403),
    ("POST", "/api/docs/{final_id}/amend", Outsider, 403),
    ("POST", "/api/docs/{final_id}/amend", Staff, 201),
    ("POST", "/api/docs/{final_id}/amend", Leader, 201),
    ("POST", "/api/docs/{final_id}/amend", Admin, 201),
    ("POST", "/api/docs/{final_id}/amend", Anonymous, 401),
    (
        "GET",
        "/api/docs/{doc_id}/export?format=md",
        Participant,
        200,
    ),
    ("GET", "/api/docs/{doc_id}/export?format=md", Outsider, 403),
    ("GET", "/api/docs/{doc_id}/export?format=md", Staff, 200),
    ("GET", "/api/docs/{doc_id}/export?format=md", Leader, 200),
    ("GET", "/api/docs/{doc_id}/export?format=md", Admin, 200),
    ("GET", "/api/docs/{doc_id}/export?format=md", Anonymous, 401),
    // Follow-up of the finalized outcome.
    ("GET", "/api/docs/{final_id}/followup", Participant, 200),
    ("GET", "/api/docs/{final_id}/followup", Outsider, 403),
    ("GET", "/api/docs/{final_id}/followup", Staff, 200),
    ("GET", "/api/docs/{final_id}/followup", Leader, 200),
    ("GET", "/api/docs/{final_id}/followup", Admin, 200),
    ("GET", "/api/docs/{final_id}/followup", Anonymous, 401),
    ("PUT", "/api/docs/{final_id}/followup", Participant, 403),
    ("PUT", "/api/docs/{final_id}/followup", Outsider, 403),
    ("PUT", "/api/docs/{final_id}/followup", Staff, 200),
    // DESIGN: `PUT …/followup` is staff's; the code lets leaders too.
    ("PUT", "/api/docs/{final_id}/followup", Leader, 200),
    ("PUT", "/api/docs/{final_id}/followup", Admin, 200),
    ("PUT", "/api/docs/{final_id}/followup", Anonymous, 401),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        Participant,
        403,
    ),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        Outsider,
        403,
    ),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        Staff,
        201,
    ),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        Leader,
        201,
    ),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        Admin,
        201,
    ),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        Anonymous,
        401,
    ),
    // The audit log: staff, leaders, admins.
    ("GET", "/api/audit", Participant, 403),
    ("GET", "/api/audit", Outsider, 403),
    ("GET", "/api/audit", Staff, 200),
    ("GET", "/api/audit", Leader, 200),
    ("GET", "/api/audit", Admin, 200),
    ("GET", "/api/audit", Anonymous, 401),
    ("GET", "/healthz", Participant, 200),
    ("GET", "/healthz", Outsider, 200),
    ("GET", "/healthz", Staff, 200),
    ("GET", "/healthz", Leader, 200),
    ("GET", "/healthz", Admin, 200),
    ("GET", "/healthz", Anonymous, 200),
    // The sync socket, judged at the upgrade (101 = admitted).
    ("WS", "/sync/{doc_id}", Participant, 101),
    ("WS", "/sync/{doc_id}", Outsider, 403),
    // DESIGN: a leader edits only as a participant; the socket admits any staff, leader, admin.
    ("WS", "/sync/{doc_id}", Staff, 101),
    ("WS", "/sync/{doc_id}", Leader, 101),
    ("WS", "/sync/{doc_id}", Admin, 101),
    ("WS", "/sync/{doc_id}", Anonymous, 401),
];

/// The JSON body sent with a route, by `(method, path)`; same placeholders,
/// plus `{username}`, `{password}` (the caller's) and `{participant}` (a user id).
const BODIES: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/api/session",
        r#"{"username":"{username}","password":"{password}"}"#,
    ),
    (
        "POST",
        "/api/topics",
        r#"{"title":"权限表议题","form":"meeting"}"#,
    ),
    (
        "PUT",
        "/api/topics/{id}/participants",
        r#"{"user_ids":[{participant}]}"#,
    ),
    ("POST", "/api/docs/{doc_id}/restore", r#"{"version":"00"}"#),
    (
        "POST",
        "/api/docs/{doc_id}/signoffs",
        r#"{"version":"{version}"}"#,
    ),
    ("POST", "/api/docs/{doc_id}/finalize", r#"{"version":"00"}"#),
    (
        "PUT",
        "/api/docs/{final_id}/followup",
        r#"{"sent_to":["县委办公室"],"adoption":"adopted","units":["县民政局"],"note":""}"#,
    ),
    (
        "POST",
        "/api/docs/{final_id}/followup/instructions",
        r#"{"leader":"张副主席","date":"2025-06-01","content":"请抓紧落实"}"#,
    ),
];

/// The accounts and documents the table's placeholders stand for.
struct Fixture {
    server: TestServer,
    sessions: Vec<(Role, Session)>,
    topic: i64,
    doc: xieshang_shared::DocId,
    final_doc: xieshang_shared::DocId,
    version: String,
}

impl Fixture {
    async fn new(backend: Backend) -> Result<Fixture> {
        let server = TestServer::start(backend).await?;
        let c = server.committee(1).await?;
        let api = &server.api;
        for (name, role) in [("leader_t", "leader"), ("admin_t", "admin")] {
            xieshang_tests::api::AddUsers::add_user(&server, name, role).await?;
        }
        let sessions = vec![
            (Participant, c.members[0].clone()),
            (Outsider, c.outsider.clone()),
            (Staff, c.staff.clone()),
            (Leader, api.login("leader_t").await?),
            (Admin, api.login("admin_t").await?),
        ];
        let r = Records::new(api);
        let version = r.current_version(&c.staff, c.doc).await?;
        // A second topic, same participant, its draft finalized (nobody signed: a reason).
        let (_, final_doc) = c.new_topic(api, "已定稿的议题").await?;
        let v = r.current_version(&c.staff, final_doc).await?;
        let (status, body) = r.finalize(&c.staff, final_doc, &v, Some("出差")).await?;
        ensure!(status == 201, "finalize for the fixture: {status} {body}");
        Ok(Fixture {
            sessions,
            topic: c.topic,
            doc: c.doc,
            final_doc,
            version,
            server,
        })
    }

    fn session(&self, role: Role) -> Option<&Session> {
        self.sessions
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, s)| s)
    }

    fn fill(&self, template: &str, role: Role) -> String {
        let participant = self.session(Participant).map_or(0, |s| s.user_id);
        let (username, password) = match self.session(role) {
            Some(s) => (s.username.as_str(), xieshang_tests::PASSWORD),
            None => ("nobody", "not the password"),
        };
        template
            .replace("{id}", &self.topic.to_string())
            .replace("{doc_id}", &self.doc.to_string())
            .replace("{final_id}", &self.final_doc.to_string())
            .replace("{version}", &self.version)
            .replace("{participant}", &participant.to_string())
            .replace("{username}", username)
            .replace("{password}", password)
    }

    /// The status `role` gets for `method path`.
    async fn status(&self, method: &str, path: &str, role: Role) -> Result<u16> {
        let api = &self.server.api;
        let mut token = self.session(role).map(|s| s.token.clone());
        if method == "DELETE" && path == "/api/session" {
            // Signing out revokes the token: use a fresh one, keep the table's.
            if let Some(s) = self.session(role) {
                token = Some(api.login(&s.username).await?.token);
            }
        }
        if method == "WS" {
            return upgrade_status(&api.ws_url(self.doc, token.as_deref(), false)).await;
        }
        let url = format!("{}{}", api.base(), self.fill(path, role));
        let http = reqwest::Client::builder().no_proxy().build()?;
        let mut req = http.request(reqwest::Method::from_bytes(method.as_bytes())?, url);
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        if let Some((_, _, body)) = BODIES.iter().find(|(m, p, _)| *m == method && *p == path) {
            let body: Value = serde_json::from_str(&self.fill(body, role))
                .with_context(|| format!("body of {method} {path}"))?;
            req = req.json(&body);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        if status >= 400 {
            // Every refusal is in the one error shape.
            let text = resp.text().await.unwrap_or_default();
            error_shape(&text).with_context(|| format!("{method} {path} as {role:?}: {status}"))?;
        }
        Ok(status)
    }
}

/// `Ok` with the code if `text` is `{"error":{"code":"…","message":"…"}}`.
fn error_shape(text: &str) -> Result<String> {
    let v: Value = serde_json::from_str(text).with_context(|| format!("not JSON: {text:?}"))?;
    match (v["error"]["code"].as_str(), v["error"]["message"].as_str()) {
        (Some(code), Some(_)) if !code.is_empty() => Ok(code.to_string()),
        _ => bail!("not the error shape: {text}"),
    }
}

async fn walk_the_table(backend: Backend) -> Result<()> {
    let tag = format!("access_table/{}", backend.name());
    let f = Fixture::new(backend).await?;
    let mut wrong = Vec::new();
    for &(method, path, role, expected) in TABLE {
        let got = match f.status(method, path, role).await {
            Ok(s) => s.to_string(),
            Err(e) => format!("error: {e:#}"),
        };
        let ok = got == expected.to_string();
        println!(
            "[{tag}] {method:6} {path:46} {:12} → {got} {}",
            format!("{role:?}"),
            if ok { "" } else { "WRONG" }
        );
        if !ok {
            wrong.push(format!(
                "{method} {path} as {role:?}: {got} (expected {expected})"
            ));
        }
    }
    println!("[{tag}] {} rows, {} wrong", TABLE.len(), wrong.len());
    ensure!(wrong.is_empty(), "{tag}: {}", wrong.join("\n"));
    f.server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_against_every_role_sqlite() -> Result<()> {
    walk_the_table(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_against_every_role_postgres() -> Result<()> {
    match Backend::postgres("access_table").await? {
        Some(b) => walk_the_table(b).await,
        None => Ok(()),
    }
}

/// `(method, path)` of every route the routers declare: `.route("…", get(…).post(…))`
/// in server/src/routes/*.rs (under `/api`, except `/healthz`) and server/src/ws/mod.rs.
fn declared_routes() -> Result<BTreeSet<(String, String)>> {
    let server = xieshang_tests::workspace_root().join("server").join("src");
    let mut files: Vec<(std::path::PathBuf, &str)> = Vec::new();
    for entry in std::fs::read_dir(server.join("routes"))? {
        files.push((entry?.path(), "/api"));
    }
    files.push((server.join("ws").join("mod.rs"), ""));
    let mut routes = BTreeSet::new();
    for (file, prefix) in files {
        let src = std::fs::read_to_string(&file)?;
        for call in src.split(".route(").skip(1) {
            // The call's text up to its closing parenthesis.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            let call = &call[..end];
            let path = call.split('"').nth(1).context("a route without a path")?;
            let prefix = if path == "/healthz" { "" } else { prefix };
            let methods: Vec<&str> = ["get", "post", "put", "delete", "patch"]
                .into_iter()
                .filter(|m| {
                    call.match_indices(&format!("{m}(")).any(|(i, _)| {
                        i == 0
                            || !call.as_bytes()[i - 1].is_ascii_alphanumeric()
                                && call.as_bytes()[i - 1] != b'_'
                    })
                })
                .collect();
            ensure!(!methods.is_empty(), "no method in .route({call})");
            for m in methods {
                let m = if path.starts_with("/sync/") {
                    "WS".to_string()
                } else {
                    m.to_uppercase()
                };
                routes.insert((m, format!("{prefix}{path}")));
            }
        }
    }
    Ok(routes)
}

/// The table's path as the router spells it: no query, `{final_id}` is a `{doc_id}`.
fn route_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.replace("{final_id}", "{doc_id}")
}

#[test]
fn the_table_names_every_route_and_every_role() -> Result<()> {
    let declared = declared_routes()?;
    ensure!(
        declared.len() >= 20,
        "only {} routes found: {declared:?}",
        declared.len()
    );
    let mut missing = Vec::new();
    for (method, path) in &declared {
        for role in ROLES {
            let rows = TABLE
                .iter()
                .filter(|(m, p, r, _)| m == method && route_of(p) == *path && *r == role)
                .count();
            if rows != 1 {
                missing.push(format!("{method} {path} as {role:?}: {rows} rows"));
            }
        }
    }
    for (m, p, _, _) in TABLE {
        if !declared.contains(&(m.to_string(), route_of(p))) {
            missing.push(format!("{m} {p}: no such route"));
        }
    }
    println!(
        "[access_table] {} routes × {} roles = {} rows",
        declared.len(),
        ROLES.len(),
        TABLE.len()
    );
    ensure!(missing.is_empty(), "{}", missing.join("\n"));
    Ok(())
}

/// Bad path segments, bad query strings, unknown paths and methods: all in
/// the one JSON error shape, with 400 / 404 / 405 and a stable code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_for_bad_paths_and_queries() -> Result<()> {
    let server = TestServer::start(Backend::Sqlite).await?;
    let c = server.committee(1).await?;
    let doc = c.doc;
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("GET", "/api/docs/abc".into(), 400, "bad_path"),
        (
            "GET",
            "/api/docs/99999999999999999999".into(),
            400,
            "bad_path",
        ),
        ("GET", "/api/topics/1.5".into(), 400, "bad_path"),
        ("GET", "/api/docs/424242".into(), 404, "not_found"),
        (
            "GET",
            format!("/api/docs/{doc}/export?format=nope"),
            400,
            "bad_format",
        ),
        (
            "GET",
            format!("/api/docs/{doc}/export?format=md&format=html"),
            400,
            "bad_query",
        ),
        ("GET", format!("/api/docs/{doc}/diff"), 400, "bad_query"),
        (
            "GET",
            format!("/api/docs/{doc}/authorship?version=xyz"),
            400,
            "bad_version",
        ),
        ("GET", "/api/audit?doc=abc".into(), 400, "bad_query"),
        (
            "GET",
            "/api/audit?doc=99999999999999999999".into(),
            400,
            "bad_query",
        ),
        ("GET", "/api/no/such/route".into(), 404, "not_found"),
        ("DELETE", "/api/topics".into(), 405, "method_not_allowed"),
        (
            "PATCH",
            format!("/api/docs/{doc}"),
            405,
            "method_not_allowed",
        ),
    ];
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut wrong = Vec::new();
    for (method, path, status, code) in &cases {
        let resp = http
            .request(
                reqwest::Method::from_bytes(method.as_bytes())?,
                format!("{}{path}", server.api.base()),
            )
            .bearer_auth(&c.staff.token)
            .send()
            .await?;
        let got = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.unwrap_or_default();
        let shape = error_shape(&text);
        println!("[errors] {method:6} {path:50} → {got} {ctype} {text}");
        match shape {
            Ok(c) if got == *status && c == *code && ctype.starts_with("application/json") => {}
            _ => wrong.push(format!(
                "{method} {path}: {got} {ctype} {text:?} (expected {status} {code})"
            )),
        }
    }
    ensure!(wrong.is_empty(), "{}", wrong.join("\n"));
    server.shutdown().await;
    Ok(())
}
