//! The root component, the state every page shares, and the header.

use leptos::ev;
use leptos::prelude::*;

use xieshang_shared::DocId;

use crate::api::{self, Session};
use crate::components::{ReauthDialog, SyncIndicator};
use crate::i18n::{self, Lang};
use crate::offline::{self, SignoffOutcome};
use crate::pages::{DocPage, LoginPage, NotFoundPage, TopicPage, TopicsPage};
use crate::route::{self, Route};
use crate::sync::{self, SyncState};

/// localStorage keys. The session is kept so a reload does not sign the user out.
const LANG_KEY: &str = "xieshang.lang";
const SESSION_KEY: &str = "xieshang.session";

/// App-wide state, provided as context. `Copy`: every field is a signal handle.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The interface language.
    pub lang: RwSignal<Lang>,
    /// The page shown, kept equal to the address bar.
    pub route: RwSignal<Route>,
    /// The signed-in user, if any. Kept while the server says the session
    /// expired, so documents keep their identity and unsent changes.
    pub session: RwSignal<Option<Session>>,
    /// The server no longer accepts the session: ask to sign in again, in
    /// place, without leaving the page (and so without losing edits).
    pub reauth: RwSignal<bool>,
    /// Answers to sign-offs that were queued offline and sent later.
    pub signoff_outcomes: RwSignal<Vec<(DocId, SignoffOutcome)>>,
}

impl AppState {
    /// State from the address bar and what the browser remembered.
    fn load() -> AppState {
        let lang = stored(LANG_KEY)
            .and_then(|code| Lang::from_code(&code))
            .unwrap_or_default();
        let session: Option<Session> =
            stored(SESSION_KEY).and_then(|json| serde_json::from_str(&json).ok());
        // Local stores are the signed-in user's own (see `sync::store`).
        sync::store::set_user(session.as_ref().map(|s| s.user.id));
        AppState {
            lang: RwSignal::new(lang),
            route: RwSignal::new(route::current()),
            session: RwSignal::new(session),
            reauth: RwSignal::new(false),
            signoff_outcomes: RwSignal::new(Vec::new()),
        }
    }

    /// The session token, if signed in (untracked).
    pub fn token(&self) -> Option<String> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// An API call answered 401: ask to sign in again, keeping everything.
    pub fn session_expired(&self) {
        self.reauth.set(true);
    }

    /// Shows `to` and records it in the history.
    pub fn navigate(&self, to: Route) {
        route::push(&to, false);
        self.route.set(to);
    }

    /// Shows `to` in place of the current history entry (redirects).
    pub fn redirect(&self, to: Route) {
        route::push(&to, true);
        self.route.set(to);
    }

    /// Remembers the session of a successful sign-in.
    /// Open documents switch to the new token and unsent changes of any
    /// document (open or not) start going out.
    pub fn sign_in(&self, session: Session) {
        if sync::store::current_user().is_some_and(|u| u != session.user.id) {
            // Someone else on this computer: the previous person's documents
            // stop here, and their unsent work waits in their own store.
            sync::provider::shutdown_all();
        }
        sync::store::set_user(Some(session.user.id));
        if let Ok(json) = serde_json::to_string(&session) {
            store(SESSION_KEY, Some(&json));
        }
        sync::set_token(session.token.clone());
        sync::resume_pending(session.token.clone(), session.user.clone());
        // And the sign-offs this user queued offline, under their own session.
        let (token, outcomes) = (session.token.clone(), self.signoff_outcomes);
        leptos::task::spawn_local(async move {
            let done = offline::flush_signoffs(&token).await;
            if !done.is_empty() {
                outcomes.update(|o| o.extend(done));
            }
        });
        self.reauth.set(false);
        self.session.set(Some(session));
    }

    /// Forgets the session (after sign-out, or when the server no longer knows it).
    pub fn forget_session(&self) {
        sync::provider::shutdown_all();
        sync::store::set_user(None);
        store(SESSION_KEY, None);
        self.session.set(None);
    }

    /// Switches the interface language and remembers the choice.
    pub fn set_lang(&self, lang: Lang) {
        store(LANG_KEY, Some(lang.code()));
        self.lang.set(lang);
    }

    /// The texts of the current language (tracked).
    pub fn texts(&self) -> &'static i18n::Texts {
        i18n::texts(self.lang.get())
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn store(key: &str, value: Option<&str>) {
    if let Some(storage) = storage() {
        // Private browsing may refuse storage; the app works without it.
        let _ = match value {
            Some(value) => storage.set_item(key, value),
            None => storage.remove_item(key),
        };
    }
}

/// Signs out here and on the server; with `forget`, also deletes the user's
/// local stores (after the engines stopped, so nothing writes to them again).
fn sign_out(state: AppState, forget: bool) {
    let session = state.session.get_untracked();
    state.forget_session();
    state.reauth.set(false);
    state.navigate(Route::Login);
    if let Some(session) = session {
        leptos::task::spawn_local(async move {
            if forget {
                if let Err(e) = sync::store::delete_user_data(session.user.id).await {
                    leptos::logging::warn!("removing local data failed: {e}");
                }
            }
            // Best effort: the local session is gone either way.
            let _ = api::sign_out(&session.token).await;
        });
    }
}

/// Unsent work of the signed-in user on this computer: documents with
/// unacknowledged changes, creations not yet registered (an empty new record
/// is work too) and queued sign-offs.
async fn unsent_here() -> usize {
    let mut docs = sync::store::pending_docs().await.unwrap_or_default();
    for c in sync::creations::pending().await {
        if !docs.contains(&c.doc) {
            docs.push(c.doc);
        }
    }
    docs.len() + offline::queued_signoffs().await.len()
}

/// The whole app: header and the page of the current route.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::load();
    provide_context(state);
    offline::register_service_worker();
    if let Some(session) = state.session.get_untracked() {
        sync::resume_pending(session.token, session.user);
    }

    // The sync engine found the session expired.
    let overall = sync::overall_status();
    Effect::new(move |_| {
        if overall.with(|s| s.auth_required) {
            state.session_expired();
        }
    });
    // Back online: send the sign-offs made offline, and the unsent changes
    // of documents no longer open.
    Effect::new(move |was_online: Option<bool>| {
        let online = overall.with(|s| s.state != SyncState::Offline);
        if online && was_online == Some(false) {
            if let Some(session) = state.session.get_untracked() {
                sync::resume_pending(session.token, session.user);
            }
        }
        if online && was_online != Some(true) {
            if let Some(token) = state.token() {
                leptos::task::spawn_local(async move {
                    let done = offline::flush_signoffs(&token).await;
                    if !done.is_empty() {
                        state.signoff_outcomes.update(|o| o.extend(done));
                    }
                });
            }
        }
        online
    });

    // Back and forward buttons.
    let popstate = window_event_listener(ev::popstate, move |_| state.route.set(route::current()));
    on_cleanup(move || popstate.remove());

    // `<html lang>` follows the switch, for fonts and screen readers.
    Effect::new(move |_| {
        let code = state.lang.get().code();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", code);
        }
    });

    // `/` and pages that need a session lead to the right place.
    Effect::new(move |_| {
        let route = state.route.get();
        let signed_in = state.session.with(Option::is_some);
        if route.needs_session() && !signed_in {
            state.redirect(Route::Login);
        } else if route == Route::Home || (route == Route::Login && signed_in) {
            state.redirect(Route::Topics);
        }
    });

    view! {
        <Header/>
        <ReauthDialog/>
        <main class="page">
            {move || match state.route.get() {
                Route::Home | Route::Login => view! { <LoginPage/> }.into_any(),
                Route::Topics => view! { <TopicsPage/> }.into_any(),
                Route::Topic(id) => view! { <TopicPage id/> }.into_any(),
                Route::Doc(id) => view! { <DocPage id/> }.into_any(),
                Route::NotFound(_) => view! { <NotFoundPage/> }.into_any(),
            }}
        </main>
    }
}

/// Product name, language switch, and who is signed in.
#[component]
fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let on_lang = move |ev: ev::Event| {
        if let Some(lang) = Lang::from_code(&event_target_value(&ev)) {
            state.set_lang(lang);
        }
    };
    let home = move |ev: ev::MouseEvent| {
        ev.prevent_default();
        state.navigate(Route::Topics);
    };
    // What is unsent stays in this user's IndexedDB for their next sign-in.
    let on_sign_out = move |_| sign_out(state, false);
    // "Remove my data": asks first, saying what unsent work would be lost.
    let asking = RwSignal::new(None::<usize>);
    let forget = move |_| {
        leptos::task::spawn_local(async move {
            asking.set(Some(unsent_here().await));
        });
    };
    let confirm_forget = move |_| {
        asking.set(None);
        sign_out(state, true);
    };
    view! {
        <header class="bar">
            <div class="brand">
                <h1 lang="zh-CN">
                    <a href="/topics" on:click=home>"协商 Xieshang"</a>
                </h1>
                <p class="tagline">{move || state.texts().tagline}</p>
            </div>
            <div class="tools">
                <SyncIndicator/>
                <label class="lang">
                    <span class="visually-hidden">{move || state.texts().language}</span>
                    <select data-testid="lang-switch" on:change=on_lang>
                        {Lang::ALL
                            .into_iter()
                            .map(|lang| {
                                view! {
                                    <option
                                        value=lang.code()
                                        selected=move || state.lang.get() == lang
                                    >
                                        {lang.native_name()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || state.session.with(Option::is_some)>
                    <span class="user">
                        {move || {
                            state.session.with(|s| s.as_ref().map(|s| s.user.display_name.clone()))
                        }}
                    </span>
                    <button type="button" class="link" data-testid="sign-out" on:click=on_sign_out>
                        {move || state.texts().sign_out}
                    </button>
                    <button type="button" class="link" data-testid="forget-device" on:click=forget>
                        {move || state.texts().forget_device}
                    </button>
                </Show>
                <Show when=move || asking.get().is_some()>
                    <div class="modal" role="dialog" aria-modal="true" data-testid="forget-dialog">
                        <div class="card">
                            <p>{move || state.texts().forget_device_sure}</p>
                            <Show when=move || asking.get().is_some_and(|n| n != 0)>
                                <p class="stale" data-testid="forget-unsent">
                                    {move || state.texts().forget_device_unsent} " "
                                    {move || asking.get().unwrap_or(0)}
                                </p>
                            </Show>
                            <button type="button" data-testid="confirm" on:click=confirm_forget>
                                {move || state.texts().confirm}
                            </button>
                            <button type="button" class="link" on:click=move |_| asking.set(None)>
                                {move || state.texts().cancel}
                            </button>
                        </div>
                    </div>
                </Show>
            </div>
        </header>
    }
}
