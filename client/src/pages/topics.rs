//! `/topics`: the consultation topics the user may see, with the sync state
//! of each; from the local cache when the server cannot be reached.

use std::collections::HashSet;

use leptos::prelude::*;
use xieshang_shared::{DocId, Topic};

use crate::api::{self, ApiError};
use crate::app::AppState;
use crate::i18n;
use crate::offline;
use crate::route::Route;
use crate::sync::{self, store, SyncState};

/// What the page shows: the list, and whether it came from the cache.
#[derive(Clone)]
enum Loaded {
    Fresh(Vec<Topic>),
    Cached(Vec<Topic>),
    Failed(ApiError),
}

/// The list of topics (`topic-list`), each leading to its page.
#[component]
pub fn TopicsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let topics = RwSignal::new(None::<Loaded>);

    if let Some(token) = state.token() {
        leptos::task::spawn_local(async move {
            let loaded = match api::topics(&token).await {
                Ok(list) => {
                    offline::cache_topics(&list).await;
                    Loaded::Fresh(list)
                }
                Err(e) => {
                    if e == ApiError::Unauthorized {
                        state.session_expired();
                    }
                    match offline::cached_topics().await {
                        Some(list) => Loaded::Cached(list),
                        None => Loaded::Failed(e),
                    }
                }
            };
            topics.try_set(Some(loaded));
        });
    }

    view! {
        <section class="card">
            <h2>{move || state.texts().topics}</h2>
            {move || {
                let texts = state.texts();
                match topics.get() {
                    None => view! { <p class="muted">{texts.loading}</p> }.into_any(),
                    Some(Loaded::Failed(ApiError::Network)) => {
                        view! { <p class="error">{texts.network_error}</p> }.into_any()
                    }
                    Some(Loaded::Failed(_)) => {
                        view! { <p class="error">{texts.server_error}</p> }.into_any()
                    }
                    Some(Loaded::Fresh(list)) => view! { <TopicList list/> }.into_any(),
                    Some(Loaded::Cached(list)) => {
                        view! {
                            <p class="muted offline-note" data-testid="offline-cached">
                                {texts.offline_cached}
                            </p>
                            <TopicList list/>
                        }
                            .into_any()
                    }
                }
            }}
        </section>
    }
}

#[component]
fn TopicList(list: Vec<Topic>) -> impl IntoView {
    let state = expect_context::<AppState>();
    // Documents with changes the server has not acknowledged, refreshed
    // whenever the overall status changes.
    let pending = RwSignal::new(HashSet::<DocId>::new());
    let overall = sync::overall_status();
    Effect::new(move |_| {
        overall.track();
        leptos::task::spawn_local(async move {
            if let Ok(docs) = store::pending_docs().await {
                pending.try_set(docs.into_iter().collect());
            }
        });
    });
    let empty = list.is_empty();
    let items = list
        .into_iter()
        .map(|topic| {
            let route = Route::Topic(topic.id.0);
            let href = route.path();
            let open = move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                state.navigate(route.clone());
            };
            let docs: Vec<DocId> = std::iter::once(topic.draft_doc)
                .chain(topic.record_docs.iter().copied())
                .collect();
            let sync_state = move || {
                let unsent = pending.with(|p| docs.iter().any(|d| p.contains(d)));
                let offline = overall.with(|s| s.state == SyncState::Offline);
                match (unsent, offline) {
                    (true, _) => "pending",
                    (false, true) => "offline",
                    (false, false) => "synced",
                }
            };
            let state_of_label = sync_state.clone();
            let sync_label = move || {
                let t = state.texts();
                match state_of_label() {
                    "pending" => t.unsent,
                    "offline" => t.offline,
                    _ => t.synced,
                }
            };
            let Topic { id, title, form, stage, due, .. } = topic;
            view! {
                <li data-topic-id=id.0>
                    <a class="topic-title" href=href on:click=open>{title}</a>
                    <span class="tags">
                        <span class="tag">{move || form.label(i18n::shared(state.lang.get()))}</span>
                        <span class="tag">{move || stage.label(i18n::shared(state.lang.get()))}</span>
                        {due.map(|due| {
                            view! {
                                <span class="due">{move || state.texts().due} " " {due.clone()}</span>
                            }
                        })}
                        <span class="topic-sync" data-sync=sync_state.clone()>
                            <span class="dot" aria-hidden="true"></span>
                            {sync_label}
                        </span>
                    </span>
                </li>
            }
        })
        .collect_view();
    view! {
        <ul data-testid="topic-list" class="topics">
            {items}
        </ul>
        <Show when=move || empty>
            <p class="muted">{move || state.texts().no_topics}</p>
        </Show>
    }
}
