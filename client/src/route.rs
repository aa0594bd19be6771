//! Client routes over the History API: small enough that a router crate would
//! cost more (compile time, wasm size) than it saves.

use leptos::prelude::window;
use wasm_bindgen::JsValue;
use xieshang_shared::DocId;

/// A page of the client, parsed from and rendered to the location path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: sends the user on to the topics or the sign-in page.
    Home,
    /// `/login`
    Login,
    /// `/topics`
    Topics,
    /// `/topics/{id}`
    Topic(i64),
    /// `/docs/{doc_id}`: the editor of any document kind (a bare number is
    /// an old link to a migrated document, see [`DocId::legacy`]).
    Doc(DocId),
    /// Anything else; kept so the user sees where they are.
    NotFound(String),
}

impl Route {
    /// Parses a location path; a trailing slash is ignored.
    pub fn parse(path: &str) -> Route {
        let trimmed = path.trim_end_matches('/');
        let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
        match parts.as_slice() {
            [] | [""] => Route::Home,
            ["login"] => Route::Login,
            ["topics"] => Route::Topics,
            ["topics", id] => id
                .parse()
                .map_or_else(|_| Route::NotFound(path.into()), Route::Topic),
            ["docs", id] => id
                .parse()
                .map_or_else(|_| Route::NotFound(path.into()), Route::Doc),
            _ => Route::NotFound(path.into()),
        }
    }

    /// The path this route lives at.
    pub fn path(&self) -> String {
        match self {
            Route::Home => "/".into(),
            Route::Login => "/login".into(),
            Route::Topics => "/topics".into(),
            Route::Topic(id) => format!("/topics/{id}"),
            Route::Doc(id) => format!("/docs/{id}"),
            Route::NotFound(path) => path.clone(),
        }
    }

    /// Whether the page needs a signed-in user.
    pub fn needs_session(&self) -> bool {
        matches!(
            self,
            Route::Home | Route::Topics | Route::Topic(_) | Route::Doc(_)
        )
    }
}

/// The route of the browser's current location.
pub fn current() -> Route {
    let path = window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into());
    Route::parse(&path)
}

/// Puts `route` into the address bar: a new history entry, or in place of the
/// current one for redirects (so "back" does not bounce).
pub fn push(route: &Route, replace: bool) {
    let Ok(history) = window().history() else {
        return;
    };
    let url = route.path();
    // A failure here only leaves the address bar stale; the page still changes.
    let _ = if replace {
        history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
    } else {
        history.push_state_with_url(&JsValue::NULL, "", Some(&url))
    };
}
