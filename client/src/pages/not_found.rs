//! Any path that is not a page.

use leptos::prelude::*;

use crate::app::AppState;
use crate::route::Route;

/// "Page not found", with the way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let back = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        state.navigate(Route::Topics);
    };
    view! {
        <section class="card">
            <h2>{move || state.texts().not_found}</h2>
            <a href="/topics" on:click=back>{move || state.texts().back_to_topics}</a>
        </section>
    }
}
