//! `/topics/{id}`: one topic: its draft, its records (and a new one), its
//! participants and the responsibility decomposition (牵头领导 / 责任部门 /
//! 责任人 / 完成时限).

use leptos::prelude::*;
use xieshang_shared::{DocId, Topic, TopicId};

use crate::api::{self, ApiError, UserSummary};
use crate::app::AppState;
use crate::i18n;
use crate::offline;
use crate::route::Route;
use crate::sync::creations::{self, Creation, Registered};

#[derive(Clone)]
enum Loaded {
    Ready { topic: Topic, cached: bool },
    Failed(ApiError),
}

/// The topic page.
#[component]
pub fn TopicPage(id: i64) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = TopicId(id);
    let topic = RwSignal::new(None::<Loaded>);
    if let Some(token) = state.token() {
        leptos::task::spawn_local(async move {
            let loaded = match api::topic(&token, id).await {
                Ok(t) => {
                    offline::cache_topic(&t).await;
                    Loaded::Ready {
                        topic: t,
                        cached: false,
                    }
                }
                Err(e) => {
                    if e == ApiError::Unauthorized {
                        state.session_expired();
                    }
                    match (&e, offline::cached_topic(id).await) {
                        (ApiError::Network | ApiError::Unauthorized, Some(t)) => Loaded::Ready {
                            topic: t,
                            cached: true,
                        },
                        _ => Loaded::Failed(e),
                    }
                }
            };
            topic.try_set(Some(loaded));
        });
    }
    let back = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        state.navigate(Route::Topics);
    };
    view! {
        <p class="crumbs">
            <a href="/topics" on:click=back>{move || state.texts().back_to_topics}</a>
        </p>
        {move || {
            let t = state.texts();
            match topic.get() {
                None => view! { <p class="muted">{t.loading}</p> }.into_any(),
                Some(Loaded::Failed(e)) => view! { <p class="error">{failure(t, &e)}</p> }.into_any(),
                Some(Loaded::Ready { topic, cached }) => view! { <TopicView topic cached/> }.into_any(),
            }
        }}
    }
}

/// The words for a failed load.
pub(crate) fn failure(t: &'static i18n::Texts, e: &ApiError) -> &'static str {
    match e {
        ApiError::Network => t.not_cached,
        ApiError::Server { status: 404, .. } => t.not_found,
        ApiError::Server { status: 403, .. } => t.forbidden,
        _ => t.server_error,
    }
}

#[component]
fn TopicView(topic: Topic, cached: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let records = RwSignal::new(topic.record_docs.clone());
    let creating = RwSignal::new(false);
    let error = RwSignal::new(None::<&'static str>);
    let topic_id = topic.id;
    let can_record = state.session.with_untracked(|s| {
        s.as_ref().is_some_and(|s| {
            s.user.role.manages_topics() || topic.participants.contains(&s.user.id)
        })
    });

    let names = RwSignal::new(Vec::<UserSummary>::new());
    leptos::task::spawn_local(async move {
        if let Some(cached) = offline::cached_users().await {
            names.try_set(cached);
        }
    });
    if let Some(token) = state.token() {
        leptos::task::spawn_local(async move {
            if let Ok(users) = api::users(&token).await {
                offline::cache_users(&users).await;
                names.try_set(users);
            }
        });
    }
    let participants = topic.participants.clone();
    let participant_names = move || {
        let me = state
            .session
            .with(|s| s.as_ref().map(|s| (s.user.id, s.user.display_name.clone())));
        names.with(|known| {
            participants
                .iter()
                .map(|id| {
                    known
                        .iter()
                        .find(|u| u.id == id.0)
                        .map(|u| u.display_name.clone())
                        .or_else(|| me.as_ref().filter(|(m, _)| m == id).map(|(_, n)| n.clone()))
                        .unwrap_or_else(|| format!("#{id}"))
                })
                .collect::<Vec<_>>()
        })
    };

    // Records created here and not yet on the server (the creation queue):
    // listed with the topic's own, marked until the server has them.
    let unregistered = RwSignal::new(Vec::<DocId>::new());
    let overall = crate::sync::overall_status();
    Effect::new(move |_| {
        overall.track();
        leptos::task::spawn_local(async move {
            let mine: Vec<DocId> = creations::pending()
                .await
                .into_iter()
                .filter(|c| c.topic == Some(topic_id))
                .map(|c| c.doc)
                .collect();
            records.update(|r| {
                for d in &mine {
                    if !r.contains(d) {
                        r.push(*d);
                    }
                }
            });
            unregistered.try_set(mine);
        });
    });

    // A new record exists at once, on this computer: it is queued with an id
    // minted here and registered with the server when it can be (offline too).
    let new_record = move |_| {
        creating.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let creation = Creation::record(topic_id);
            let doc = creation.doc;
            let kept = match creations::queue(creation.clone()).await {
                Ok(()) => true,
                // No local store (private mode, quota): only the server can keep it.
                Err(_) => match state.token() {
                    Some(token) => creations::register(&token, &creation).await == Registered::Done,
                    None => false,
                },
            };
            creating.try_set(false);
            if !kept {
                error.try_set(Some(state.texts().create_failed));
                return;
            }
            let meta = api::DocMeta {
                id: doc,
                kind: creation.kind,
                topic: Some(topic_id),
                finalized: false,
            };
            offline::cache_doc(&meta).await;
            records.update(|r| r.push(doc));
            state.navigate(Route::Doc(doc));
        });
    };

    let link = move |doc: DocId| {
        let route = Route::Doc(doc);
        let href = route.path();
        let open = move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            state.navigate(route.clone());
        };
        (href, open)
    };
    let (draft_href, open_draft) = link(topic.draft_doc);
    let lang = move || i18n::shared(state.lang.get());
    let Topic {
        title,
        form,
        stage,
        plan_year,
        lead_leader,
        responsible_dept,
        responsible_person,
        due,
        ..
    } = topic;
    let or_none = move |v: Option<String>| {
        move || v.clone().unwrap_or_else(|| state.texts().nobody.to_owned())
    };

    view! {
        <section class="card topic" data-testid="topic-page">
            <Show when=move || cached>
                <p class="muted offline-note">{move || state.texts().offline_cached}</p>
            </Show>
            <h2>{title}</h2>
            <p class="tags">
                <span class="tag">{move || form.label(lang())}</span>
                <span class="tag">{move || stage.label(lang())}</span>
                {plan_year.map(|y| view! { <span class="muted">{move || state.texts().plan_year} " " {y}</span> })}
            </p>
            <h3>{move || state.texts().responsibility}</h3>
            <dl class="resp" data-testid="topic-responsibility">
                <dt>{move || state.texts().lead_leader}</dt>
                <dd>{or_none(lead_leader)}</dd>
                <dt>{move || state.texts().responsible_dept}</dt>
                <dd>{or_none(responsible_dept)}</dd>
                <dt>{move || state.texts().responsible_person}</dt>
                <dd>{or_none(responsible_person)}</dd>
                <dt>{move || state.texts().due}</dt>
                <dd>{or_none(due)}</dd>
            </dl>
            <h3>{move || state.texts().draft}</h3>
            <p>
                <a data-testid="topic-draft-link" href=draft_href on:click=open_draft>
                    {move || state.texts().open_draft}
                </a>
            </p>
            <h3>{move || state.texts().records}</h3>
            <ul class="records" data-testid="topic-records">
                {move || {
                    records
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(n, doc)| {
                            let (href, open) = link(doc);
                            let waiting = move || unregistered.with(|u| u.contains(&doc));
                            view! {
                                <li data-unregistered=move || waiting().to_string()>
                                    <a href=href on:click=open data-doc-id=doc.to_string()>
                                        {move || state.texts().records} " " {n + 1}
                                    </a>
                                    <Show when=waiting>
                                        " "
                                        <span class="tag pending-creation" data-testid="not-on-server">
                                            {move || state.texts().not_on_server}
                                        </span>
                                    </Show>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <Show when=move || records.with(Vec::is_empty)>
                <p class="muted">{move || state.texts().no_records}</p>
            </Show>
            <Show when=move || can_record>
                <button
                    type="button"
                    class="secondary"
                    data-testid="create-record"
                    on:click=new_record
                    disabled=move || creating.get()
                >
                    "+ "
                    {move || state.texts().new_record}
                </button>
            </Show>
            <p class="error">{move || error.get()}</p>
            <h3>{move || state.texts().participants}</h3>
            <p data-testid="topic-participants">
                {move || {
                    let names = participant_names();
                    if names.is_empty() { state.texts().nobody.to_owned() } else { names.join("、") }
                }}
            </p>
        </section>
    }
}
