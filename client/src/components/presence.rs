//! Who else is in the document, and where their caret is.
//!
//! Two views of the provider's peers: a list (name, colour, line and column)
//! and an overlay over the body textarea that draws each caret with a name
//! flag. The overlay is a transparent copy of the text with the same font and
//! wrapping, so a marker placed after the n-th character sits where the
//! textarea shows that character.

use leptos::prelude::*;

use crate::app::AppState;
use crate::i18n;
use crate::sync::PeerPresence;
use crate::text_diff;
use xieshang_shared::html::escape_html as escape;

/// `presence-list`: the other members present, with their caret's line and column.
#[component]
pub fn PresenceList(peers: Signal<Vec<PeerPresence>>, value: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let me = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.user.display_name.clone()))
            .unwrap_or_default()
    };
    view! {
        <div class="presence" data-testid="presence-list">
            <span class="muted">{move || state.texts().present}</span>
            <span class="peer me">
                <span class="swatch me" aria-hidden="true"></span>
                {me}
                " ("
                {move || state.texts().you}
                ")"
            </span>
            {move || {
                let lang = state.lang.get();
                let text = value.get();
                peers
                    .get()
                    .into_iter()
                    .map(|p| {
                        let place = p
                            .cursor
                            .map(|(_, head)| {
                                let (line, col) = text_diff::line_col(&text, head);
                                i18n::line_col(lang, line, col)
                            })
                            .unwrap_or_default();
                        let color = safe_color(&p.color);
                        view! {
                            <span class="peer" data-peer=p.client_id.to_string()>
                                <span
                                    class="swatch"
                                    style=format!("background:{color}")
                                    aria-hidden="true"
                                ></span>
                                {p.name}
                                <span class="muted">" " {place}</span>
                            </span>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}

/// The overlay of the others' carets over the body textarea.
#[component]
pub fn PresenceCarets(peers: Signal<Vec<PeerPresence>>, value: RwSignal<String>) -> impl IntoView {
    let html = move || {
        let text = value.get();
        let mut carets: Vec<(u32, String, String)> = peers.with(|peers| {
            peers
                .iter()
                .filter_map(|p| Some((p.cursor?.1, p.name.clone(), safe_color(&p.color))))
                .collect()
        });
        carets.sort_by_key(|(at, ..)| *at);
        let mut out = String::new();
        let mut rest = text.as_str();
        let mut done = 0u32;
        for (at, name, color) in carets {
            let (before, after) = text_diff::split_utf16(rest, at.saturating_sub(done));
            out.push_str(&escape(before));
            done += before.encode_utf16().count() as u32;
            rest = after;
            out.push_str(&format!(
                "<span class=\"peer-caret\" style=\"border-color:{color}\">\
                 <span class=\"peer-flag\" style=\"background:{color}\">{}</span></span>",
                escape(&name)
            ));
        }
        out.push_str(&escape(rest));
        // A trailing newline needs something after it to take up its line.
        out.push('\u{200b}');
        out
    };
    view! { <div class="carets" aria-hidden="true" inner_html=html></div> }
}

/// A peer's colour comes from the network: only plain colour syntax passes.
fn safe_color(color: &str) -> String {
    let plain = color.len() <= 32
        && color
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "#(),.% ".contains(c));
    if plain {
        color.to_owned()
    } else {
        "#888".to_owned()
    }
}
