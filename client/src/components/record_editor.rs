//! The consultation record (协商记录): header fields, the statements several
//! members append during the meeting, and the summary.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use xieshang_shared::schema::{Entry, EntryField, Record, RecordContent, RecordField};
use xieshang_shared::ConsultationForm;
use yrs::{DeepObservable, Doc, Observable};

use super::{deferred, observer_key, unobserve_on_cleanup, CollabText};
use crate::app::AppState;
use crate::i18n;
use crate::sync::Provider;

/// The record editor; test hooks `record-field-*`, `record-entries` (with `add-entry`) and `record-summary`.
#[component]
pub fn RecordEditor(provider: Provider, #[prop(into)] readonly: Signal<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let doc = provider.doc();
    let record = Record::new(&doc);
    let content = RwSignal::new(record.content());
    let summary_value = RwSignal::new(String::new());

    let (fields_key, entries_key) = (observer_key("fields"), observer_key("entries"));
    let (fields, entries) = (record.fields_ref(), record.entries_ref());
    let summary = record.summary_ref();
    {
        let doc = SendWrapper::new(doc.clone());
        let refresh = std::rc::Rc::new(deferred(move || {
            content.try_set(Record::new(&doc).content());
        }));
        let r = refresh.clone();
        fields.observe(fields_key.clone(), move |_, _| r());
        entries.observe_deep(entries_key.clone(), move |_, _| refresh());
    }
    unobserve_on_cleanup(move || {
        fields.unobserve(fields_key);
        entries.unobserve_deep(entries_key);
    });

    let doc = SendWrapper::new(doc);
    let field_input = {
        let doc = doc.clone();
        move |field: RecordField, label: fn(&i18n::Texts) -> &'static str| {
            let doc = doc.clone();
            let value =
                move || content.with(|c| c.fields.get(field.key()).cloned().unwrap_or_default());
            view! {
                <label class="field">
                    <span>{move || label(state.texts())}</span>
                    <input
                        data-testid=format!("record-field-{}", field.key())
                        prop:value=value
                        on:input=move |ev| Record::new(&doc).set_field(field, &event_target_value(&ev))
                        disabled=move || readonly.get()
                    />
                </label>
            }
        }
    };
    let form_select = {
        let doc = doc.clone();
        let current = move || {
            content
                .with(|c| form_value(c.fields.get("form").map(String::as_str).unwrap_or_default()))
        };
        view! {
            <label class="field">
                <span>{move || state.texts().form}</span>
                <select
                    data-testid="record-field-form"
                    prop:value=current
                    on:change=move |ev| {
                        Record::new(&doc).set_field(RecordField::Form, &event_target_value(&ev))
                    }
                    disabled=move || readonly.get()
                >
                    <option value="">"—"</option>
                    {move || {
                        let value = current();
                        let unknown = !value.is_empty() && value.parse::<ConsultationForm>().is_err();
                        unknown.then(|| view! { <option value=value.clone() selected>{value.clone()}</option> })
                    }}
                    {ConsultationForm::ALL
                        .iter()
                        .map(|form| {
                            let form = *form;
                            view! {
                                <option value=form.as_str() selected=move || current() == form.as_str()>
                                    {move || form.label(i18n::shared(state.lang.get()))}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
        }
    };

    let add = {
        let doc = doc.clone();
        move |_| {
            let speaker = state
                .session
                .with_untracked(|s| s.as_ref().map(|s| s.user.display_name.clone()))
                .unwrap_or_default();
            let now = js_sys::Date::new_0();
            let at = format!("{:02}:{:02}", now.get_hours(), now.get_minutes());
            Record::new(&doc).push_entry(&Entry {
                speaker,
                text: String::new(),
                at,
            });
        }
    };
    let count = move || content.with(|c: &RecordContent| c.entries.len());

    view! {
        <div class="record">
            <div class="fields">
                {form_select}
                {field_input(RecordField::Time, |t| t.rec_time)}
                {field_input(RecordField::Place, |t| t.rec_place)}
                {field_input(RecordField::Presider, |t| t.rec_presider)}
                {field_input(RecordField::Participants, |t| t.participants)}
            </div>
            <h3>{move || state.texts().entries}</h3>
            <ol class="entries" data-testid="record-entries">
                <For each=move || 0..count() key=|i| *i let:index>
                    <EntryRow doc=doc.clone() index content readonly/>
                </For>
            </ol>
            <Show when=move || count() == 0>
                <p class="muted">{move || state.texts().no_entries}</p>
            </Show>
            <button
                type="button"
                class="secondary"
                data-testid="add-entry"
                on:click=add
                disabled=move || readonly.get()
            >
                "+ "
                {move || state.texts().add_entry}
            </button>
            <h3>{move || state.texts().summary}</h3>
            <CollabText
                provider=provider.clone()
                text=summary
                testid="record-summary"
                readonly
                value=summary_value
                label=Signal::derive(move || state.texts().summary.to_owned())
            />
        </div>
    }
}

/// One statement: speaker, time, what was said; each field its own map key,
/// so two members editing different fields of one entry both keep theirs.
#[component]
fn EntryRow(
    doc: SendWrapper<Doc>,
    index: usize,
    content: RwSignal<RecordContent>,
    readonly: Signal<bool>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let get = move |pick: fn(&Entry) -> &String| {
        move || {
            content.with(|c| {
                c.entries
                    .get(index)
                    .map(|e| pick(e).clone())
                    .unwrap_or_default()
            })
        }
    };
    let set = move |field: EntryField| {
        let doc = doc.clone();
        move |ev: leptos::ev::Event| {
            Record::new(&doc).set_entry_field(index as u32, field, &event_target_value(&ev));
        }
    };
    let placeholder =
        move |f: fn(&i18n::Texts) -> &'static str| move || f(i18n::texts(state.lang.get()));
    view! {
        <li class="entry" data-testid="record-entry">
            <div class="entry-head">
                <input
                    data-testid="entry-speaker"
                    class="speaker"
                    placeholder=placeholder(|t| t.speaker)
                    aria-label=placeholder(|t| t.speaker)
                    prop:value=get(|e| &e.speaker)
                    on:input=set(EntryField::Speaker)
                    disabled=move || readonly.get()
                />
                <input
                    data-testid="entry-at"
                    class="at"
                    placeholder=placeholder(|t| t.rec_time)
                    aria-label=placeholder(|t| t.rec_time)
                    prop:value=get(|e| &e.at)
                    on:input=set(EntryField::At)
                    disabled=move || readonly.get()
                />
            </div>
            <textarea
                data-testid="entry-text"
                rows="2"
                placeholder=placeholder(|t| t.said)
                aria-label=placeholder(|t| t.said)
                prop:value=get(|e| &e.text)
                on:input=set(EntryField::Text)
                disabled=move || readonly.get()
            ></textarea>
        </li>
    }
}

/// The select's value for a stored form: its wire name, also when the record
/// holds a label instead (records typed elsewhere say "点题协商").
fn form_value(stored: &str) -> String {
    let stored = stored.trim();
    if stored.parse::<ConsultationForm>().is_ok() {
        return stored.to_owned();
    }
    ConsultationForm::ALL
        .iter()
        .find(|f| {
            f.label(xieshang_shared::Lang::ZhCn) == stored
                || f.label(xieshang_shared::Lang::En) == stored
        })
        .map_or_else(|| stored.to_owned(), |f| f.as_str().to_owned())
}
