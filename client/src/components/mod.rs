//! Components shared by the pages: the header's indicator, the editors and
//! their parts, the review panel (sign-off, finalize, bulletin).

mod collab_text;
mod draft_editor;
mod opinion_editor;
mod presence;
mod reauth;
mod record_editor;
mod review;
mod sync_indicator;

pub use collab_text::CollabText;
pub use draft_editor::DraftEditor;
pub use opinion_editor::OpinionEditor;
pub use presence::{PresenceCarets, PresenceList};
pub use reauth::ReauthDialog;
pub use record_editor::RecordEditor;
pub use review::ReviewPanel;
pub use sync_indicator::SyncIndicator;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use yrs::Origin;

/// Runs `refresh` after every transaction that touches the observed type,
/// outside the transaction (views must not open one inside yrs's commit).
pub(crate) fn deferred(refresh: impl Fn() + 'static) -> impl Fn() + 'static {
    let refresh = std::rc::Rc::new(refresh);
    move || {
        let refresh = refresh.clone();
        leptos::task::spawn_local(async move { refresh() });
    }
}

/// A unique observer key for a view.
pub(crate) fn observer_key(what: &str) -> Origin {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    Origin::from(format!(
        "xieshang-{what}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Removes an observer when the view goes away.
pub(crate) fn unobserve_on_cleanup(unobserve: impl FnOnce() + 'static) {
    let unobserve = SendWrapper::new(unobserve);
    on_cleanup(move || (unobserve.take())());
}
