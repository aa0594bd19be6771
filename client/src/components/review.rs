//! Review and finalization (审议 → 意见一致 → 定稿) beside the editor: the
//! versions with their sign-offs, signing off (also offline: queued and sent
//! later, reported stale with the diff if the text moved on), finalizing for
//! staff, and the bulletin downloads.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use xieshang_shared::DocId;

use crate::api::{self, ApiError, Version};
use crate::app::AppState;
use crate::i18n;
use crate::offline::{self, QueuedSignoff, SignoffOutcome};
use crate::sync::{Provider, SyncState};

/// What the panel last has to say.
#[derive(Clone, Debug, PartialEq)]
enum Notice {
    Signed,
    Queued,
    /// The signed version is no longer current: the unified diff since.
    Stale(String),
    /// Finalize refused: these participants have not signed.
    Missing(Vec<String>),
    StaleFinalize,
    Finalized(String),
    Error(&'static str),
}

/// `versions-list`, `signoff-button`, `finalize-button` with `absent-reason`
/// (staff), and `export-docx` / `export-md` / `export-html`.
#[component]
pub fn ReviewPanel(
    doc_id: DocId,
    provider: Provider,
    /// Set once the server says the document is finalized.
    finalized: RwSignal<bool>,
    /// The text the member sees (body or summary), sent with a sign-off.
    seen: RwSignal<String>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let versions = RwSignal::new(None::<Vec<Version>>);
    let notice = RwSignal::new(None::<Notice>);
    let busy = RwSignal::new(false);
    let absent_reason = RwSignal::new(String::new());
    let status = provider.status();
    let is_staff = state
        .session
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.user.role.manages_topics()));

    // Versions: at once, and again whenever the document is back in sync.
    let load = move || {
        let Some(token) = state.token() else { return };
        leptos::task::spawn_local(async move {
            match api::versions(&token, doc_id).await {
                Ok(list) => {
                    offline::cache_versions(doc_id, &list).await;
                    versions.try_set(Some(list));
                }
                Err(e) => {
                    if e == ApiError::Unauthorized {
                        state.session_expired();
                    }
                    if versions.try_get_untracked().flatten().is_none() {
                        let cached = offline::cached_versions(doc_id).await;
                        versions.try_set(Some(cached.unwrap_or_default()));
                    }
                }
            }
        });
    };
    Effect::new(move |was_synced: Option<bool>| {
        let synced = status.with(|s| s.state == SyncState::Synced);
        if synced && was_synced == Some(false) {
            // Back in sync: sign-offs queued meanwhile can go now.
            if let Some(token) = state.token() {
                leptos::task::spawn_local(async move {
                    let done = offline::flush_signoffs(&token).await;
                    if !done.is_empty() {
                        state.signoff_outcomes.update(|o| o.extend(done));
                    }
                });
            }
        }
        if was_synced.is_none() || (synced && was_synced == Some(false)) {
            load();
        }
        synced
    });
    // Sign-offs made offline, answered later.
    Effect::new(move |_| {
        let outcome = state.signoff_outcomes.with(|o| {
            o.iter()
                .rev()
                .find(|(d, _)| *d == doc_id)
                .map(|(_, o)| o.clone())
        });
        if let Some(outcome) = outcome {
            notice.set(Some(from_outcome(outcome, finalized)));
            load();
        }
    });

    let sign = move |_| {
        if busy.get_untracked() {
            return;
        }
        let Some(token) = state.token() else { return };
        busy.set(true);
        notice.set(None);
        let live = status.with_untracked(|s| s.state == SyncState::Synced && s.pending == 0);
        let text = Some(seen.get_untracked());
        leptos::task::spawn_local(async move {
            let fresh = if live {
                api::versions(&token, doc_id).await.ok()
            } else {
                None
            };
            if let Some(list) = &fresh {
                versions.try_set(Some(list.clone()));
            }
            let known = fresh.or_else(|| versions.try_get_untracked().flatten());
            let version = known
                .and_then(|l| l.into_iter().find(|v| v.current))
                .map(|v| v.version)
                .unwrap_or_default();
            let signoff = QueuedSignoff {
                doc: doc_id,
                version,
                text,
            };
            let outcome = if live {
                offline::send_signoff(&token, &signoff).await
            } else {
                Err(ApiError::Network)
            };
            let result = match outcome {
                Ok(outcome) => from_outcome(outcome, finalized),
                Err(e) => {
                    if e == ApiError::Unauthorized {
                        state.session_expired();
                    }
                    offline::queue_signoff(signoff).await;
                    Notice::Queued
                }
            };
            busy.try_set(false);
            notice.try_set(Some(result));
            if live {
                load();
            }
        });
    };

    let finalize = move |_| {
        if busy.get_untracked() {
            return;
        }
        let Some(token) = state.token() else { return };
        busy.set(true);
        notice.set(None);
        let reason = absent_reason.get_untracked();
        leptos::task::spawn_local(async move {
            let current = match api::versions(&token, doc_id).await {
                Ok(list) => {
                    let current = list.iter().find(|v| v.current).map(|v| v.version.clone());
                    versions.try_set(Some(list));
                    current
                }
                Err(_) => None,
            };
            let result = match current {
                None => Notice::Error("network"),
                Some(version) => {
                    let reason = Some(reason.trim()).filter(|r| !r.is_empty());
                    match api::finalize(&token, doc_id, &version, reason).await {
                        Ok(bulletin) => {
                            finalized.try_set(true);
                            Notice::Finalized(bulletin)
                        }
                        Err(ApiError::Server { code, detail, .. })
                            if code == "signoffs_missing" =>
                        {
                            let names = detail["missing"]
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|m| m["display_name"].as_str())
                                        .map(str::to_owned)
                                        .collect()
                                })
                                .unwrap_or_default();
                            Notice::Missing(names)
                        }
                        Err(ApiError::Server { code, .. }) if code == "stale_version" => {
                            Notice::StaleFinalize
                        }
                        Err(ApiError::Server { code, .. })
                            if code == "finalized" || code == "already_finalized" =>
                        {
                            finalized.try_set(true);
                            Notice::Finalized(String::new())
                        }
                        Err(ApiError::Unauthorized) => {
                            state.session_expired();
                            Notice::Error("session")
                        }
                        Err(ApiError::Network) => Notice::Error("network"),
                        Err(_) => Notice::Error("server"),
                    }
                }
            };
            busy.try_set(false);
            notice.try_set(Some(result));
            load();
        });
    };

    let download = move |format: &'static str| {
        move |_| {
            let Some(token) = state.token() else { return };
            leptos::task::spawn_local(async move {
                match api::export(&token, doc_id, format).await {
                    Ok((blob, name)) => {
                        let name = name.unwrap_or_else(|| format!("bulletin-{doc_id}.{format}"));
                        save_blob(&blob, &name);
                    }
                    Err(ApiError::Unauthorized) => state.session_expired(),
                    Err(ApiError::Network) => notice.set(Some(Notice::Error("network"))),
                    Err(_) => notice.set(Some(Notice::Error("server"))),
                }
            });
        }
    };

    let notice_view = move || {
        let t = state.texts();
        notice.get().map(|n| match n {
            Notice::Signed => {
                view! { <p class="ok" data-testid="signoff-ok">{t.signed}</p> }.into_any()
            }
            Notice::Queued => {
                view! { <p class="muted" data-testid="signoff-queued">{t.signoff_queued}</p> }
                    .into_any()
            }
            Notice::Stale(diff) => view! {
                <div class="stale" data-testid="signoff-stale">
                    <p>{t.signoff_stale}</p>
                    <pre class="diff">{diff}</pre>
                </div>
            }
            .into_any(),
            Notice::Missing(names) => view! {
                <p class="error" data-testid="finalize-missing">{t.missing} {names.join("、")}</p>
            }
            .into_any(),
            Notice::StaleFinalize => view! { <p class="error">{t.stale_finalize}</p> }.into_any(),
            Notice::Finalized(bulletin) => view! {
                <p class="ok" data-testid="finalize-ok">{t.finalized_as} " " {bulletin}</p>
            }
            .into_any(),
            Notice::Error(kind) => {
                let text = match kind {
                    "network" => t.network_error,
                    "session" => t.session_expired,
                    _ => t.server_error,
                };
                view! { <p class="error">{text}</p> }.into_any()
            }
        })
    };

    let me = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.user.id.0))
        .unwrap_or_default();
    let signed_current = move || {
        versions.with(|v| {
            v.as_ref().is_some_and(|list| {
                list.iter()
                    .any(|v| v.current && v.signoffs.iter().any(|s| s.user_id == me))
            })
        })
    };

    view! {
        <aside class="card review">
            <h3>{move || state.texts().review}</h3>
            <div class="actions">
                <button
                    type="button"
                    data-testid="signoff-button"
                    data-signed=move || signed_current().to_string()
                    on:click=sign
                    disabled=move || busy.get() || finalized.get()
                >
                    {move || state.texts().sign_off}
                </button>
                <Show when=move || is_staff>
                    <label class="field">
                        <span>{move || state.texts().absent_reason}</span>
                        <input
                            data-testid="absent-reason"
                            bind:value=absent_reason
                            disabled=move || finalized.get()
                        />
                    </label>
                    <button
                        type="button"
                        class="primary"
                        data-testid="finalize-button"
                        on:click=finalize
                        disabled=move || busy.get() || finalized.get()
                    >
                        {move || state.texts().finalize}
                    </button>
                </Show>
            </div>
            {notice_view}
            <h4>{move || state.texts().downloads}</h4>
            <div class="downloads">
                <button type="button" class="link" data-testid="export-docx" on:click=download("docx")>
                    "DOCX"
                </button>
                <button type="button" class="link" data-testid="export-md" on:click=download("md")>
                    "Markdown"
                </button>
                <button type="button" class="link" data-testid="export-html" on:click=download("html")>
                    "HTML"
                </button>
            </div>
            <h4>{move || state.texts().versions}</h4>
            <ol class="versions" data-testid="versions-list" reversed>
                {move || {
                    let lang = state.lang.get();
                    let t = i18n::texts(lang);
                    versions
                        .get()
                        .unwrap_or_default()
                        .into_iter()
                        .rev()
                        .filter(|v| v.current || !v.signoffs.is_empty() || v.reason != "viewed")
                        .take(12)
                        .map(|v| version_row(lang, t, v))
                        .collect_view()
                }}
            </ol>
            <Show when=move || versions.with(|v| v.as_ref().is_some_and(Vec::is_empty))>
                <p class="muted">{move || state.texts().no_versions}</p>
            </Show>
        </aside>
    }
}

fn version_row(lang: i18n::Lang, t: &'static i18n::Texts, v: Version) -> impl IntoView {
    let signers: Vec<String> = v
        .signoffs
        .iter()
        .map(|s| {
            if s.stale {
                format!("{}（{}）", s.display_name, t.stale)
            } else {
                s.display_name.clone()
            }
        })
        .collect();
    let short: String = v.version.chars().take(8).collect();
    view! {
        <li data-version=v.version.clone() data-current=v.current.to_string() class:current=v.current>
            <code>{short}</code>
            " "
            <span class="muted">{when(v.at)} " · " {i18n::version_reason(lang, &v.reason).to_owned()}</span>
            {v.current.then(|| view! { <span class="tag">{t.current}</span> })}
            {(!signers.is_empty())
                .then(|| view! { <div class="signers">{t.signed_by} {signers.join("、")}</div> })}
        </li>
    }
}

fn from_outcome(outcome: SignoffOutcome, finalized: RwSignal<bool>) -> Notice {
    match outcome {
        SignoffOutcome::Signed => Notice::Signed,
        SignoffOutcome::Stale { diff } => Notice::Stale(diff),
        SignoffOutcome::Refused(code) if code == "finalized" => {
            finalized.try_set(true);
            Notice::Finalized(String::new())
        }
        SignoffOutcome::Refused(_) => Notice::Error("server"),
    }
}

/// `YYYY-MM-DD HH:MM` in local time from Unix milliseconds.
fn when(ms: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// Saves a downloaded file through a temporary Blob URL and `<a download>`.
fn save_blob(blob: &web_sys::Blob, name: &str) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    let document = document();
    if let Some(a) = document
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(name);
        if let Some(body) = document.body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
    // Revoked later: the download needs the URL a moment longer than the click.
    let url = url.clone();
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(30),
    );
}
