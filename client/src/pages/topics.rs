//! `/topics`: the consultation topics the user may see.

use leptos::prelude::*;

use crate::api::{self, ApiError, Topic};
use crate::app::AppState;
use crate::i18n;
use crate::route::Route;

/// The list of topics (`topic-list`), each leading to its page.
#[component]
pub fn TopicsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let topics = RwSignal::new(None::<Result<Vec<Topic>, ApiError>>);

    if let Some(token) = state.session.get_untracked().map(|s| s.token) {
        leptos::task::spawn_local(async move {
            let result = api::topics(&token).await;
            if result == Err(ApiError::Unauthorized) {
                // The server no longer knows this session (expired, or a new database).
                state.forget_session();
                state.redirect(Route::Login);
                return;
            }
            topics.try_set(Some(result));
        });
    }

    view! {
        <section class="card">
            <h2>{move || state.texts().topics}</h2>
            {move || {
                let texts = state.texts();
                match topics.get() {
                    None => view! { <p class="muted">{texts.loading}</p> }.into_any(),
                    Some(Err(ApiError::Network)) => {
                        view! { <p class="error">{texts.network_error}</p> }.into_any()
                    }
                    Some(Err(_)) => view! { <p class="error">{texts.server_error}</p> }.into_any(),
                    Some(Ok(list)) => view! { <TopicList list/> }.into_any(),
                }
            }}
        </section>
    }
}

#[component]
fn TopicList(list: Vec<Topic>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let empty = list.is_empty();
    let items = list
        .into_iter()
        .map(|topic| {
            let route = Route::Topic(topic.id);
            let href = route.path();
            let open = move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                state.navigate(route.clone());
            };
            let Topic { id, title, form, stage, due } = topic;
            view! {
                <li data-topic-id=id>
                    <a href=href on:click=open>{title}</a>
                    <span class="tags">
                        <span class="tag">{move || i18n::form_label(state.lang.get(), &form)}</span>
                        {stage.map(|stage| {
                            view! {
                                <span class="tag">
                                    {move || i18n::stage_label(state.lang.get(), &stage)}
                                </span>
                            }
                        })}
                        {due.map(|due| {
                            view! {
                                <span class="due">{move || state.texts().due}" " {due.clone()}</span>
                            }
                        })}
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
