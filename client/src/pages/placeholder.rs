//! Pages that later issues fill in: a topic, the editor, and "not found".

use leptos::prelude::*;

use crate::app::AppState;
use crate::route::Route;

/// `/topics/{id}`: draft, records, participants, status (later).
#[component]
pub fn TopicPage(id: i64) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Placeholder heading=move || format!("{} #{id}", state.texts().topic)/>
    }
}

/// `/docs/{doc_id}`: the editor of any document kind (later).
#[component]
pub fn DocPage(id: i64) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Placeholder heading=move || format!("{} #{id}", state.texts().document)/>
    }
}

/// Any other path.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! { <Placeholder heading=move || state.texts().not_found.to_owned()/> }
}

#[component]
fn Placeholder(heading: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    let state = expect_context::<AppState>();
    let back = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        state.navigate(Route::Topics);
    };
    view! {
        <section class="card">
            <h2>{heading}</h2>
            <p class="muted">{move || state.texts().coming_soon}</p>
            <a href="/topics" on:click=back>{move || state.texts().back_to_topics}</a>
        </section>
    }
}
