//! The recommendation draft (协商成果建议稿): title, Markdown body, live
//! preview, and who else is writing.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use xieshang_shared::schema::Draft;
use yrs::Observable;

use super::{deferred, observer_key, unobserve_on_cleanup, CollabText, PresenceList};
use crate::app::AppState;
use crate::sync::Provider;
use xieshang_shared::markdown;

/// `draft-title`, `draft-body` (the textarea), the preview and `presence-list`.
#[component]
pub fn DraftEditor(provider: Provider, #[prop(into)] readonly: Signal<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let doc = provider.doc();
    let draft = Draft::new(&doc);
    let body = draft.body_ref();
    let meta = draft.meta_ref();
    let title = RwSignal::new(draft.title());
    let value = RwSignal::new(String::new());

    let key = observer_key("meta");
    {
        let doc = SendWrapper::new(doc.clone());
        let refresh = deferred(move || {
            title.try_set(Draft::new(&doc).title());
        });
        meta.observe(key.clone(), move |_, _| refresh());
    }
    let meta_ref = meta.clone();
    unobserve_on_cleanup(move || {
        meta_ref.unobserve(key);
    });

    let doc_for_title = SendWrapper::new(doc.clone());
    let on_title = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        Draft::new(&doc_for_title).set_title(&value);
        title.set(value);
    };
    let peers = provider.peers();

    view! {
        <div class="draft">
            <label class="field title">
                <span>{move || state.texts().title}</span>
                <input
                    data-testid="draft-title"
                    prop:value=move || title.get()
                    on:input=on_title
                    disabled=move || readonly.get()
                />
            </label>
            <PresenceList peers value/>
            <div class="split">
                <section class="pane">
                    <h3 class="pane-title">{move || state.texts().body}</h3>
                    <CollabText
                        provider=provider.clone()
                        text=body
                        testid="draft-body"
                        readonly
                        value
                        presence=true
                        label=Signal::derive(move || state.texts().body.to_owned())
                    />
                </section>
                <section class="pane">
                    <h3 class="pane-title">{move || state.texts().preview}</h3>
                    <div
                        class="preview"
                        data-testid="draft-preview"
                        inner_html=move || markdown::to_html(&value.get())
                    ></div>
                </section>
            </div>
        </div>
    }
}
