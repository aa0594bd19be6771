//! The sync engine in a real browser (headless Chromium through
//! wasm-bindgen-test): IndexedDB persistence across a re-open, and, when
//! `cargo xtask test` started a server for it, the outbox emptied by the
//! server's acknowledgements and the state exchanged on reconnect.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p xieshang-client --target wasm32-unknown-unknown --lib --test '*'`.
//! The server test needs `XIESHANG_WASM_SYNC_ORIGIN`, `…_TOKEN` and `…_DOC` at
//! build time (set by `cargo xtask test`); without them it only says so.

#![cfg(target_arch = "wasm32")]

use std::future::Future;

use leptos::prelude::GetUntracked;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use xieshang_client::sync::{self, store, Provider, SyncState};
use xieshang_shared::schema::Draft;
use xieshang_shared::{DocId, Role, User, UserId};

wasm_bindgen_test_configure!(run_in_browser);

/// Nothing listens there: every connection attempt fails at once.
const DEAD_SERVER: &str = "http://127.0.0.1:9";

fn member() -> User {
    User {
        id: UserId(7),
        username: "yang.shan".into(),
        display_name: "杨山委员".into(),
        role: Role::Member,
    }
}

/// A document id no other test (or earlier run in the same profile) uses.
fn fresh_doc() -> DocId {
    DocId::mint()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w
                .set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Polls `check` every 50 ms until it holds or `ms` have passed.
async fn wait_for<F, Fut>(what: &str, ms: i32, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..(ms / 50) {
        if check().await {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out waiting for {what}");
}

fn body(p: &Provider) -> String {
    Draft::new(&p.doc()).body()
}

async fn outbox_rows(doc: DocId) -> usize {
    store::load(doc)
        .await
        .map_or(usize::MAX, |s| s.outbox.len())
}

#[wasm_bindgen_test]
async fn state_and_outbox_survive_a_reopen_without_network() {
    store::set_user(Some(member().id));
    sync::set_server_origin(Some(DEAD_SERVER));
    let doc = fresh_doc();
    let p = Provider::open(doc, "token".into(), &member());
    wait_for("local load", 5_000, || async { p.ready().get_untracked() }).await;
    Draft::new(&p.doc()).set_body("协商 offline 😀");
    Draft::new(&p.doc()).insert_body(0, "# ");
    assert_eq!(p.status().get_untracked().pending, 2, "counted at once");
    wait_for("the outbox row", 5_000, || async {
        outbox_rows(doc).await >= 1
    })
    .await;
    wait_for("offline", 5_000, || async {
        p.status().get_untracked().state == SyncState::Offline
    })
    .await;
    assert_eq!(p.status().get_untracked().pending, 2);
    assert_eq!(
        sync::overall_status().get_untracked().state,
        SyncState::Offline
    );

    // A reload: every engine stops, the document opens from IndexedDB alone.
    sync::shutdown_all();
    let again = Provider::open(doc, "token".into(), &member());
    assert!(
        !again.ready().get_untracked(),
        "a new engine, not the old one"
    );
    wait_for("reload", 5_000, || async { again.ready().get_untracked() }).await;
    assert_eq!(body(&again), "# 协商 offline 😀");
    let status = again.status().get_untracked();
    assert_eq!(
        status.pending, 2,
        "unacknowledged changes are still pending"
    );
    assert!(!status.auth_required);

    // More edits offline go to the same outbox; nothing is ever dropped.
    Draft::new(&again.doc()).insert_body(2, "！");
    wait_for("the second row", 5_000, || async {
        again.status().get_untracked().pending == 3 && outbox_rows(doc).await >= 2
    })
    .await;
    sync::shutdown_all();
    let stored = store::load(doc).await.unwrap_or_default();
    let changes: u32 = stored.outbox.iter().map(|(_, c, _)| c).sum();
    assert_eq!(changes, 3);
    assert!(!stored.log.is_empty());
    assert!(store::forget_doc(doc).await.is_ok());
    assert_eq!(outbox_rows(doc).await, 0);
}

#[wasm_bindgen_test]
async fn key_value_cache_round_trips_json() {
    store::set_user(Some(member().id));
    let topics = serde_json::json!([{ "id": 1, "title": "社区养老服务协商" }]);
    assert!(store::kv_put("test.topics", &topics).await.is_ok());
    let back: Option<serde_json::Value> = store::kv_get("test.topics").await;
    assert_eq!(back, Some(topics));
    let missing: Option<serde_json::Value> = store::kv_get("test.none").await;
    assert_eq!(missing, None);
    assert!(store::kv_delete("test.topics").await.is_ok());
    let gone: Option<serde_json::Value> = store::kv_get("test.topics").await;
    assert_eq!(gone, None);
}

/// Two members on one computer: each sees only their own stores, and
/// "remove my data" empties exactly one member's.
#[wasm_bindgen_test]
async fn each_member_has_stores_of_their_own() {
    let (a, b) = (UserId(9_001), UserId(9_002));
    let doc = fresh_doc();
    let _ = store::delete_user_data(a).await;
    let _ = store::delete_user_data(b).await;

    // A leaves an unsent change and a cache entry behind.
    store::set_user(Some(a));
    sync::set_server_origin(Some(DEAD_SERVER));
    let p = Provider::open(doc, "token-a".into(), &member());
    wait_for("local load", 5_000, || async { p.ready().get_untracked() }).await;
    Draft::new(&p.doc()).set_body("甲的未发送修改");
    wait_for("A's outbox row", 5_000, || async {
        outbox_rows(doc).await == 1
    })
    .await;
    sync::provider::shutdown_all();
    assert!(store::kv_put("topics", &serde_json::json!(["甲的议题"]))
        .await
        .is_ok());

    // Nobody signed in: no store at all.
    store::set_user(None);
    assert!(store::load(doc).await.is_err());

    // B sees none of it.
    store::set_user(Some(b));
    assert_eq!(store::pending_docs().await.ok(), Some(Vec::new()));
    assert_eq!(outbox_rows(doc).await, 0);
    let topics: Option<serde_json::Value> = store::kv_get("topics").await;
    assert_eq!(topics, None);

    // A's work is still there for A's next sign-in.
    store::set_user(Some(a));
    assert_eq!(store::pending_docs().await.ok(), Some(vec![doc]));
    assert_eq!(outbox_rows(doc).await, 1);

    // "Remove my data": A's stores are empty afterwards, B's untouched.
    store::set_user(Some(b));
    assert!(store::kv_put("topics", &serde_json::json!(["乙的议题"]))
        .await
        .is_ok());
    assert!(store::delete_user_data(a).await.is_ok());
    store::set_user(Some(a));
    assert_eq!(store::pending_docs().await.ok(), Some(Vec::new()));
    let topics: Option<serde_json::Value> = store::kv_get("topics").await;
    assert_eq!(topics, None);
    store::set_user(Some(b));
    let topics: Option<serde_json::Value> = store::kv_get("topics").await;
    assert_eq!(topics, Some(serde_json::json!(["乙的议题"])));
    let _ = store::delete_user_data(b).await;
    let _ = store::delete_user_data(a).await;
    sync::set_server_origin(None);
}

/// A change IndexedDB refuses to store (here: the store is gone, as when the
/// member signs out in another tab) is still pending, and the status says it
/// is not saved on this computer instead of calling it safe.
#[wasm_bindgen_test]
async fn a_change_that_could_not_be_stored_is_shown_as_unsaved() {
    store::set_user(Some(member().id));
    sync::set_server_origin(Some(DEAD_SERVER));
    let doc = fresh_doc();
    let p = Provider::open(doc, "token".into(), &member());
    wait_for("local load", 5_000, || async { p.ready().get_untracked() }).await;
    Draft::new(&p.doc()).set_body("存下了");
    wait_for("the first change stored", 5_000, || async {
        outbox_rows(doc).await == 1
    })
    .await;
    assert_eq!(p.status().get_untracked().unsaved, 0);
    store::set_user(None);
    Draft::new(&p.doc()).set_body("存下了，这句存不下");
    wait_for("the refused write to show", 5_000, || async {
        let s = p.status().get_untracked();
        s.unsaved == 1 && s.pending == 2
    })
    .await;
    sync::provider::shutdown_all();
    store::set_user(Some(member().id));
    assert_eq!(
        outbox_rows(doc).await,
        1,
        "the refused change is not in IndexedDB"
    );
    let _ = store::forget_doc(doc).await;
    sync::set_server_origin(None);
}

/// The server `cargo xtask test` started for these tests, if any.
fn server() -> Option<(&'static str, &'static str, DocId)> {
    let origin = option_env!("XIESHANG_WASM_SYNC_ORIGIN")?;
    let token = option_env!("XIESHANG_WASM_SYNC_TOKEN")?;
    let doc = option_env!("XIESHANG_WASM_SYNC_DOC")?.parse().ok()?;
    Some((origin, token, doc))
}

#[wasm_bindgen_test]
async fn outbox_is_emptied_only_by_acknowledgements() {
    let Some((origin, token, doc)) = server() else {
        web_sys::console::log_1(
            &"no sync server configured: skipped (run `cargo xtask test`)".into(),
        );
        return;
    };
    store::set_user(Some(member().id));
    let _ = store::forget_doc(doc).await;
    // Offline first: edits wait in the outbox however long it takes.
    sync::set_server_origin(Some(DEAD_SERVER));
    let p = Provider::open(doc, token.into(), &member());
    wait_for("local load", 5_000, || async { p.ready().get_untracked() }).await;
    let marker = format!("浏览器离线修改 {}", js_sys::Date::now());
    Draft::new(&p.doc()).insert_body(0, &format!("{marker}\n"));
    wait_for("the outbox row", 5_000, || async {
        outbox_rows(doc).await == 1
    })
    .await;
    sleep(1_500).await;
    assert_eq!(p.status().get_untracked().pending, 1);
    assert_eq!(outbox_rows(doc).await, 1, "no ack, no removal");

    // The server comes "back": the reconnect exchanges state vectors, our
    // Step2 carries the edit, and the server's ack empties the outbox.
    sync::set_server_origin(Some(origin));
    sync::set_token(token.into());
    wait_for("synced", 15_000, || async {
        let s = p.status().get_untracked();
        s.state == SyncState::Synced && s.pending == 0
    })
    .await;
    wait_for("the outbox emptied", 5_000, || async {
        outbox_rows(doc).await == 0
    })
    .await;
    // Concurrent inserts at the same place are ordered by client id: either may come first.
    assert!(body(&p).contains(&marker));
    assert!(
        body(&p).len() > marker.len() + 1,
        "the server's text arrived too"
    );

    // Live edits on an open connection are acknowledged one by one.
    Draft::new(&p.doc()).insert_body(0, "在线 ");
    wait_for("live ack", 10_000, || async {
        let s = p.status().get_untracked();
        s.state == SyncState::Synced && s.pending == 0
    })
    .await;

    // A fresh browser profile (nothing stored) gets it all from the server.
    sync::shutdown_all();
    assert!(store::forget_doc(doc).await.is_ok());
    let fresh = Provider::open(doc, token.into(), &member());
    wait_for("resync from the server", 15_000, || async {
        fresh.status().get_untracked().state == SyncState::Synced
    })
    .await;
    assert!(body(&fresh).starts_with("在线 ") && body(&fresh).contains(&marker));
    fresh.close();
    sync::shutdown_all();
    sync::set_server_origin(None);
}
