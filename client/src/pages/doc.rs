//! `/docs/{doc_id}`: the editor of any document kind, with the review panel.
//!
//! The document's facts (kind, topic, finalized) come from the server, or
//! offline from the cache; then the sync engine opens the document from
//! IndexedDB and connects. Edits are accepted at once, online or not.

use leptos::prelude::*;
use xieshang_shared::{DocId, DocKind, TopicId};

use crate::api::{self, ApiError, DocMeta};
use crate::app::AppState;
use crate::components::{DraftEditor, OpinionEditor, RecordEditor, ReviewPanel};
use crate::i18n;
use crate::offline;
use crate::pages::topic::failure;
use crate::route::Route;
use crate::sync::{creations, Provider};

#[derive(Clone)]
enum Loaded {
    Ready(DocMeta),
    Failed(ApiError),
}

/// The editor page.
#[component]
pub fn DocPage(id: DocId) -> impl IntoView {
    let state = expect_context::<AppState>();
    let meta = RwSignal::new(None::<Loaded>);
    if let Some(token) = state.token() {
        leptos::task::spawn_local(async move {
            // Created here and not registered yet: the server does not know it,
            // and its facts are ours (see `sync::creations`).
            if let Some(c) = creations::pending_for(id).await {
                let m = DocMeta {
                    id,
                    kind: c.kind,
                    topic: c.topic,
                    finalized: false,
                };
                meta.try_set(Some(Loaded::Ready(m)));
                return;
            }
            let loaded = match api::doc_meta(&token, id).await {
                Ok(m) => {
                    offline::cache_doc(&m).await;
                    Loaded::Ready(m)
                }
                Err(e) => {
                    if e == ApiError::Unauthorized {
                        state.session_expired();
                    }
                    match (&e, offline::cached_doc(id).await) {
                        (ApiError::Network | ApiError::Unauthorized, Some(m)) => Loaded::Ready(m),
                        _ => Loaded::Failed(e),
                    }
                }
            };
            meta.try_set(Some(loaded));
        });
    }
    move || {
        let t = state.texts();
        match meta.get() {
            None => view! { <p class="muted">{t.loading}</p> }.into_any(),
            Some(Loaded::Failed(e)) => view! { <p class="error">{failure(t, &e)}</p> }.into_any(),
            Some(Loaded::Ready(meta)) => view! { <DocEditor meta/> }.into_any(),
        }
    }
}

#[component]
fn DocEditor(meta: DocMeta) -> impl IntoView {
    let state = expect_context::<AppState>();
    let Some(session) = state.session.get_untracked() else {
        return ().into_any();
    };
    let provider = Provider::open(meta.id, session.token, &session.user);
    {
        let provider = provider.clone();
        on_cleanup(move || provider.close());
    }
    let finalized = RwSignal::new(meta.finalized);
    let status = provider.status();
    let ready = provider.ready();
    let read_only =
        Signal::derive(move || finalized.get() || status.with(|s| s.read_only.is_some()));
    let locked = Signal::derive(move || read_only.get() || !ready.get());
    // What the member sees, for a sign-off: the body of a draft or report;
    // records have no single text, so their summary stands in.
    let seen = RwSignal::new(String::new());

    let editor = match meta.kind {
        DocKind::Draft => {
            view! { <DraftEditor provider=provider.clone() readonly=locked/> }.into_any()
        }
        DocKind::Record => {
            view! { <RecordEditor provider=provider.clone() readonly=locked/> }.into_any()
        }
        DocKind::OpinionReport => {
            view! { <OpinionEditor provider=provider.clone() readonly=locked/> }.into_any()
        }
    };
    // The body text for the sign-off comes straight from the document.
    {
        let doc = send_wrapper::SendWrapper::new(provider.doc());
        let kind = meta.kind;
        Effect::new(move |_| {
            status.track();
            let text = match kind {
                DocKind::Draft => xieshang_shared::schema::Draft::new(&doc).body(),
                DocKind::Record => xieshang_shared::schema::Record::new(&doc).summary(),
                DocKind::OpinionReport => xieshang_shared::schema::OpinionReport::new(&doc).body(),
            };
            seen.set(text);
        });
    }

    let back = meta.topic.map(|topic: TopicId| {
        let route = Route::Topic(topic.0);
        let href = route.path();
        let open = move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            state.navigate(route.clone());
        };
        view! {
            <p class="crumbs">
                <a href=href on:click=open>{move || state.texts().back_to_topic}</a>
            </p>
        }
    });
    let kind = meta.kind;
    view! {
        {back}
        <div class="doc-layout" data-doc-kind=kind.as_str()>
            <section class="card editor" data-testid="doc-editor">
                <h2>{move || kind.label(i18n::shared(state.lang.get()))}</h2>
                <Show when=move || read_only.get()>
                    <p class="notice readonly" data-testid="readonly-notice" role="status">
                        "🔒 "
                        {move || state.texts().readonly}
                    </p>
                </Show>
                <Show when=move || status.with(|s| s.unregistered)>
                    <p class="notice pending-creation" data-testid="not-on-server" role="status">
                        {move || state.texts().not_on_server}
                    </p>
                </Show>
                {editor}
            </section>
            <ReviewPanel doc_id=meta.id provider finalized seen/>
        </div>
    }
    .into_any()
}
