//! `/login`: username and password, then on to the topics.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::app::AppState;
use crate::route::Route;

/// The sign-in form (`login-username`, `login-password`, `login-submit`).
#[component]
pub fn LoginPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (user, pass) = (username.get_untracked(), password.get_untracked());
        leptos::task::spawn_local(async move {
            let result = api::sign_in(user.trim(), &pass).await;
            // The page may be gone by now: `try_set` does nothing then.
            busy.try_set(false);
            match result {
                Ok(session) => {
                    state.sign_in(session);
                    state.navigate(Route::Topics);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };

    let message = move || {
        let texts = state.texts();
        error.get().map(|e| match e {
            ApiError::Unauthorized => texts.bad_credentials,
            ApiError::Network => texts.network_error,
            ApiError::Server { .. } | ApiError::Decode => texts.server_error,
        })
    };

    view! {
        <section class="card login">
            <h2>{move || state.texts().sign_in}</h2>
            <form on:submit=submit>
                <label>
                    <span>{move || state.texts().username}</span>
                    <input
                        data-testid="login-username"
                        name="username"
                        autocomplete="username"
                        required
                        bind:value=username
                    />
                </label>
                <label>
                    <span>{move || state.texts().password}</span>
                    <input
                        data-testid="login-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        bind:value=password
                    />
                </label>
                <p class="error" role="alert">{message}</p>
                <button type="submit" data-testid="login-submit" disabled=move || busy.get()>
                    {move || {
                        if busy.get() { state.texts().signing_in } else { state.texts().sign_in }
                    }}
                </button>
            </form>
        </section>
    }
}
