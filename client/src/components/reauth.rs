//! Signing in again in place when the server says the session expired.
//!
//! The page stays as it is: open documents keep their unsent changes in the
//! outbox, and the new token is handed to the sync engine, which resumes.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::app::AppState;

/// A modal sign-in form, shown while `AppState::reauth` is set.
#[component]
pub fn ReauthDialog() -> impl IntoView {
    let state = expect_context::<AppState>();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let username = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.user.username.clone()))
            .unwrap_or_default()
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (user, pass) = (username(), password.get_untracked());
        leptos::task::spawn_local(async move {
            let result = api::sign_in(&user, &pass).await;
            busy.try_set(false);
            match result {
                Ok(session) => {
                    password.try_set(String::new());
                    state.sign_in(session);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let message = move || {
        let t = state.texts();
        error.get().map(|e| match e {
            ApiError::Unauthorized => t.bad_credentials,
            ApiError::Network => t.network_error,
            _ => t.server_error,
        })
    };

    view! {
        <Show when=move || state.reauth.get() && state.session.with(Option::is_some)>
            <div class="modal" role="dialog" aria-modal="true" data-testid="reauth-dialog">
                <form class="card" on:submit=submit>
                    <h2>{move || state.texts().sign_in}</h2>
                    <p>{move || state.texts().session_expired}</p>
                    <label>
                        <span>{move || state.texts().username}</span>
                        <input value=username readonly/>
                    </label>
                    <label>
                        <span>{move || state.texts().password}</span>
                        <input
                            data-testid="reauth-password"
                            type="password"
                            autocomplete="current-password"
                            required
                            bind:value=password
                        />
                    </label>
                    <p class="error" role="alert">{message}</p>
                    <button type="submit" data-testid="reauth-submit" disabled=move || busy.get()>
                        {move || state.texts().sign_in}
                    </button>
                </form>
            </div>
        </Show>
    }
}
