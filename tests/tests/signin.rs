//! Signing in cannot be turned against users, and every answer carries the
//! browser security headers.
//!
//! - Wrong passwords for a user from one address (127.0.0.1) slow down that
//!   address only: the right password from another address (127.0.0.2) signs
//!   in at once, while from the attacking address it is refused with 429 and
//!   `Retry-After`.
//! - Fifty parallel wrong guesses are each counted exactly once, and none slips
//!   past the limit: with a limit of 20, exactly 20 reach the password check.
//! - Behind a `--trusted-proxy`, `X-Forwarded-For` names the client; from
//!   anyone else it is ignored.
//! - `/`, the API and `/healthz` carry the Content-Security-Policy (with the
//!   hash of index.html's inline script), `nosniff`, `Referrer-Policy` and
//!   `X-Frame-Options`; with an https public URL the cookie is `Secure`.
//!
//! Real server over 127.0.0.x, SQLite file, and PostgreSQL when
//! `XIESHANG_TEST_DATABASE_URL` is set. Each client socket is bound to its own
//! loopback address, which is what the server sees as the client address.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{ensure, Context, Result};
use serde_json::json;
use xieshang_server::db::queries::users;
use xieshang_server::routes::session::throttle_keys;
use xieshang_server::Config;
use xieshang_tests::api::AddUsers;
use xieshang_tests::{Backend, TestServer, PASSWORD};

/// A waiting time far longer than any test, so "still throttled" is certain.
const LONG_DELAY_SECS: u64 = 600;

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// An HTTP client whose connections come from `from`.
fn client_from(from: IpAddr) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .local_address(from)
        .build()?)
}

/// `POST /api/session`: the status and the `Retry-After` seconds, if any.
async fn sign_in(
    http: &reqwest::Client,
    server: &TestServer,
    username: &str,
    password: &str,
) -> Result<(u16, Option<u64>)> {
    sign_in_via(http, server, username, password, None).await
}

/// [`sign_in`] with an `X-Forwarded-For` header.
async fn sign_in_via(
    http: &reqwest::Client,
    server: &TestServer,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Result<(u16, Option<u64>)> {
    let mut request = http
        .post(format!("{}/api/session", server.api.base()))
        .json(&json!({ "username": username, "password": password }));
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    let resp = request.send().await.context("POST /api/session")?;
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body: serde_json::Value = resp.json().await.context("JSON answer")?;
    if status != 200 {
        let code = body["error"]["code"].as_str().unwrap_or_default();
        let expected = match status {
            401 => "bad_credentials",
            429 => "too_many_requests",
            _ => "",
        };
        ensure!(code == expected, "{status} with code {code:?}: {body}");
    }
    Ok((status, retry))
}

async fn failures(server: &TestServer, key: &str) -> Result<i64> {
    Ok(users::signin_failures(&server.state().db, key).await?)
}

async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Result<TestServer> {
    TestServer::start_with(backend, |c| {
        c.signin_delay_secs = LONG_DELAY_SECS;
        tweak(c);
    })
    .await
}

async fn no_lockout_from_elsewhere(backend: Backend) -> Result<()> {
    let server = start(backend, |_| {}).await?;
    server.add_user("li.wei", "member").await?;
    let attacker = client_from(loopback(1))?;
    let (mut refused, mut throttled) = (0, 0);
    for i in 0..200 {
        match sign_in(&attacker, &server, "li.wei", &format!("guess-{i}")).await? {
            (401, _) => refused += 1,
            (429, Some(_)) => throttled += 1,
            other => anyhow::bail!("wrong guess {i} answered {other:?}"),
        }
    }
    println!(
        "[signin/{}] 200 wrong passwords from 127.0.0.1: {refused} checked (401), {throttled} throttled (429)",
        server.backend.name()
    );
    ensure!(
        (refused, throttled) == (5, 195),
        "{refused} × 401, {throttled} × 429"
    );

    // The user, elsewhere, is not locked out.
    let user = client_from(loopback(2))?;
    let answer = sign_in(&user, &server, "li.wei", PASSWORD).await?;
    ensure!(answer.0 == 200, "right password from 127.0.0.2: {answer:?}");

    // The attacking address is still refused, even with the right password.
    let (status, retry) = sign_in(&attacker, &server, "li.wei", PASSWORD).await?;
    println!(
        "[signin] right password from 127.0.0.1 while throttled: {status}, Retry-After {retry:?}"
    );
    ensure!(status == 429, "right password from the attacker: {status}");
    let retry = retry.context("429 without Retry-After")?;
    ensure!(
        (1..=LONG_DELAY_SECS).contains(&retry),
        "Retry-After {retry}"
    );

    // Throttled attempts were not counted; the signed-in address starts afresh.
    let (pair, address) = throttle_keys(loopback(1), "li.wei");
    ensure!(failures(&server, &pair).await? == 5);
    ensure!(failures(&server, &address).await? == 5);
    let (pair, address) = throttle_keys(loopback(2), "li.wei");
    ensure!(failures(&server, &pair).await? == 0 && failures(&server, &address).await? == 0);
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_do_not_lock_the_user_out_elsewhere_sqlite() -> Result<()> {
    no_lockout_from_elsewhere(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_do_not_lock_the_user_out_elsewhere_postgres() -> Result<()> {
    match Backend::postgres("signin/lockout").await? {
        Some(backend) => no_lockout_from_elsewhere(backend).await,
        None => Ok(()),
    }
}

/// Behind a trusted proxy (127.0.0.1) the client is the address the proxy
/// names; from anyone else the header is ignored, so it cannot be used to
/// dodge the throttle or to throttle somebody else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_from_trusted_proxies() -> Result<()> {
    let server = start(Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    })
    .await?;
    server.add_user("li.wei", "member").await?;
    let proxy = client_from(loopback(1))?;
    let attacker = Some("203.0.113.5");
    for i in 0..5 {
        let (status, _) =
            sign_in_via(&proxy, &server, "li.wei", &format!("guess-{i}"), attacker).await?;
        ensure!(status == 401, "guess {i} through the proxy: {status}");
    }
    let (status, _) = sign_in_via(&proxy, &server, "li.wei", PASSWORD, attacker).await?;
    ensure!(status == 429, "the attacker behind the proxy: {status}");
    // Another client behind the same proxy is not affected.
    let (status, _) =
        sign_in_via(&proxy, &server, "li.wei", PASSWORD, Some("198.51.100.7")).await?;
    ensure!(status == 200, "another client behind the proxy: {status}");
    // Not from a trusted proxy: the header is ignored, the peer counts.
    let direct = client_from(loopback(2))?;
    let (status, _) = sign_in_via(&direct, &server, "li.wei", PASSWORD, attacker).await?;
    ensure!(
        status == 200,
        "a direct client claiming the attacker's address: {status}"
    );
    let (pair, _) = throttle_keys("203.0.113.5".parse()?, "li.wei");
    ensure!(failures(&server, &pair).await? == 5);
    let (pair, _) = throttle_keys(loopback(1), "li.wei");
    ensure!(
        failures(&server, &pair).await? == 0,
        "the proxy itself was counted"
    );
    server.shutdown().await;
    Ok(())
}

/// Fires `n` wrong guesses for `username` from 127.0.0.1 at once; answers
/// (401s, 429s).
async fn parallel_guesses(server: &TestServer, username: &str, n: usize) -> Result<(u32, u32)> {
    let http = client_from(loopback(1))?;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let http = http.clone();
        let url = format!("{}/api/session", server.api.base());
        let username = username.to_string();
        tasks.spawn(async move {
            http.post(url)
                .json(&json!({ "username": username, "password": format!("parallel-{i}") }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    let (mut refused, mut throttled) = (0, 0);
    while let Some(status) = tasks.join_next().await {
        match status?? {
            401 => refused += 1,
            429 => throttled += 1,
            other => anyhow::bail!("a parallel guess answered {other}"),
        }
    }
    Ok((refused, throttled))
}

async fn parallel_guesses_are_all_counted(backend: Backend) -> Result<()> {
    // A limit of exactly 50: every one of 50 parallel guesses is counted once
    // (no lost update), and the very next attempt is refused.
    let server = start(backend.clone(), |c| c.signin_user_failures = 50).await?;
    server.add_user("wang", "staff").await?;
    let (refused, throttled) = parallel_guesses(&server, "wang", 50).await?;
    let (pair, _) = throttle_keys(loopback(1), "wang");
    let counted = failures(&server, &pair).await?;
    println!(
        "[signin/{}] limit 50, 50 parallel guesses: {refused} × 401, {throttled} × 429, {counted} failures recorded",
        server.backend.name()
    );
    ensure!((refused, throttled, counted) == (50, 0, 50));
    let (status, _) = sign_in(&client_from(loopback(1))?, &server, "wang", PASSWORD).await?;
    ensure!(status == 429, "the 51st attempt answered {status}");
    server.shutdown().await;

    // A limit of 20: exactly 20 of 50 parallel guesses reach the password check.
    let backend = match backend {
        Backend::Sqlite => Backend::Sqlite,
        Backend::Postgres(_) => Backend::postgres("signin/parallel-20")
            .await?
            .context("PostgreSQL vanished")?,
    };
    let server = start(backend, |c| c.signin_user_failures = 20).await?;
    server.add_user("wang", "staff").await?;
    let (refused, throttled) = parallel_guesses(&server, "wang", 50).await?;
    let counted = failures(&server, &pair).await?;
    println!(
        "[signin/{}] limit 20, 50 parallel guesses: {refused} × 401, {throttled} × 429, {counted} failures recorded",
        server.backend.name()
    );
    ensure!((refused, throttled, counted) == (20, 30, 20));
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_cannot_slip_past_the_limit_sqlite() -> Result<()> {
    parallel_guesses_are_all_counted(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_cannot_slip_past_the_limit_postgres() -> Result<()> {
    match Backend::postgres("signin/parallel").await? {
        Some(backend) => parallel_guesses_are_all_counted(backend).await,
        None => Ok(()),
    }
}

/// The inline module script of the served index.html, as the client has it.
const INLINE: &str =
    "\nimport init from '/app-0123456789abcdef.js';\ninit({ module_or_path: '/app.wasm' });\n";

/// `base64(sha256(INLINE))`, computed outside Rust (Python's hashlib).
const INLINE_SHA256: &str = "MA3nx+245g8be34hIo1riunlZbtvxtmtBF+D1rpVPVI=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() -> Result<()> {
    let shell = tempfile::tempdir()?;
    std::fs::write(
        shell.path().join("index.html"),
        format!(
            "<!doctype html><html><head><script type=\"module\">{INLINE}</script></head></html>"
        ),
    )?;
    let dir = shell.path().to_path_buf();
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.static_dir = Some(dir);
        c.public_url = Some("https://xieshang.example.cn".into());
    })
    .await?;
    server.add_user("li.wei", "member").await?;
    let http = client_from(loopback(1))?;
    let base = server.api.base().to_string();

    let hash = format!("'sha256-{INLINE_SHA256}'");
    let requests = [
        http.head(format!("{base}/")),
        http.get(format!("{base}/")),
        http.get(format!("{base}/topics/3")),
        http.get(format!("{base}/api/session")),
        http.get(format!("{base}/api/no-such-route")),
        http.get(format!("{base}/healthz")),
        http.post(format!("{base}/api/session"))
            .json(&json!({ "username": "li.wei", "password": PASSWORD })),
    ];
    for request in requests {
        let resp = request.send().await?;
        let what = format!("{} {}", resp.status(), resp.url().path());
        let h = resp.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = get("content-security-policy");
        println!("[signin/headers] {what}: {csp}");
        for part in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "connect-src 'self'",
            "worker-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            &hash,
        ] {
            ensure!(csp.contains(part), "{what}: CSP {csp:?} lacks {part}");
        }
        ensure!(!csp.contains("'unsafe-eval'"), "{what}: {csp}");
        ensure!(get("x-content-type-options") == "nosniff", "{what}");
        ensure!(get("referrer-policy") == "same-origin", "{what}");
        ensure!(get("x-frame-options") == "DENY", "{what}");
        if resp.url().path() == "/api/session" && resp.status() == 200 {
            let cookie = get("set-cookie");
            ensure!(
                cookie.split("; ").any(|a| a == "HttpOnly")
                    && cookie.split("; ").any(|a| a == "Secure"),
                "{cookie}"
            );
        }
    }
    server.shutdown().await;
    Ok(())
}
