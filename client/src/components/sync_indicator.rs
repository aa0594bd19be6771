//! The header's sync indicator over all open documents (`sync-status`).

use leptos::prelude::*;

use crate::app::AppState;
use crate::i18n;
use crate::sync;

/// 已同步 / 同步中… / 离线，N 处修改未发送, with `data-state` and
/// `data-pending` for browser tests.
#[component]
pub fn SyncIndicator() -> impl IntoView {
    let state = expect_context::<AppState>();
    let status = sync::overall_status();
    view! {
        <span
            class="sync"
            data-testid="sync-status"
            data-state=move || status.with(|s| s.state.as_str())
            data-pending=move || status.with(|s| s.pending.to_string())
            data-unsaved=move || status.with(|s| s.unsaved.to_string())
            role="status"
            aria-live="polite"
        >
            <span class="dot" aria-hidden="true"></span>
            {move || {
                let lang = state.lang.get();
                status.with(|s| i18n::sync_text(lang, s.state, s.pending))
            }}
            <Show when=move || status.with(|s| s.unsaved != 0)>
                <span class="unsaved" data-testid="sync-unsaved">
                    {move || {
                        let lang = state.lang.get();
                        status.with(|s| i18n::unsaved_text(lang, s.unsaved))
                    }}
                </span>
            </Show>
        </span>
    }
}
