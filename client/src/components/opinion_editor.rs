//! The public opinion report (社情民意): a few fields and the text.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use xieshang_shared::schema::{OpinionField, OpinionReport};
use yrs::Observable;

use super::{deferred, observer_key, unobserve_on_cleanup, CollabText, PresenceList};
use crate::app::AppState;
use crate::i18n::Texts;
use crate::sync::Provider;

/// The report's fields (`opinion-field-*`) and its body (`draft-body`).
#[component]
pub fn OpinionEditor(provider: Provider, #[prop(into)] readonly: Signal<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let doc = provider.doc();
    let report = OpinionReport::new(&doc);
    let content = RwSignal::new(report.content().fields);
    let value = RwSignal::new(String::new());
    let key = observer_key("opinion");
    let fields = report.fields_ref();
    let body = report.body_ref();
    {
        let doc = SendWrapper::new(doc.clone());
        let refresh = deferred(move || {
            content.try_set(OpinionReport::new(&doc).content().fields);
        });
        fields.observe(key.clone(), move |_, _| refresh());
    }
    unobserve_on_cleanup(move || {
        fields.unobserve(key);
    });
    let doc = SendWrapper::new(doc);
    let label = |field: OpinionField| -> fn(&Texts) -> &'static str {
        match field {
            OpinionField::Title => |t| t.title,
            OpinionField::Reporter => |t| t.op_reporter,
            OpinionField::Site => |t| t.op_site,
            OpinionField::Category => |t| t.op_category,
        }
    };
    let inputs = OpinionField::ALL
        .into_iter()
        .map(|field| {
            let doc = doc.clone();
            let label = label(field);
            view! {
                <label class="field">
                    <span>{move || label(state.texts())}</span>
                    <input
                        data-testid=format!("opinion-field-{}", field.key())
                        prop:value=move || content.with(|c| c.get(field.key()).cloned().unwrap_or_default())
                        on:input=move |ev| OpinionReport::new(&doc).set_field(field, &event_target_value(&ev))
                        disabled=move || readonly.get()
                    />
                </label>
            }
        })
        .collect_view();
    let peers = provider.peers();
    view! {
        <div class="opinion">
            <div class="fields">{inputs}</div>
            <PresenceList peers value/>
            <CollabText
                provider=provider.clone()
                text=body
                testid="draft-body"
                readonly
                value
                presence=true
                label=Signal::derive(move || state.texts().body.to_owned())
            />
        </div>
    }
}
