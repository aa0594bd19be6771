//! A `<textarea>` bound to a `Y.Text` by diffs, with a caret that stays put.
//!
//! - Local input: the new value is compared with the last known one
//!   ([`crate::text_diff::splice`]) and applied as one delete + insert in one
//!   transaction, so concurrent edits elsewhere in the text merge.
//! - Selection: on every local input or selection change the selection is
//!   kept as two yrs `StickyIndex`es. The provider applies remote updates
//!   itself, so the binding cannot look before they land; the sticky indexes
//!   already hold the selection, and after a remote change it is restored
//!   from them: text inserted before the caret moves it along, never away.
//! - IME: while a composition is open (pinyin input) nothing is sent and
//!   remote changes wait, so the input method is never disturbed; at its end
//!   the composed text goes in, shifted by what others inserted meanwhile.
//!
//! Every caret move is also published as presence (`Provider::set_cursor`)
//! for the body text of a draft or report.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::html;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yrs::{Assoc, Doc, GetString, IndexedSequence, Observable, Origin, ReadTxn, StickyIndex};
use yrs::{Text, TextRef, Transact};

use crate::components::PresenceCarets;
use crate::sync::Provider;
use crate::text_diff;

/// Observer keys must be unique per text; one counter for the page.
static NEXT_KEY: AtomicU32 = AtomicU32::new(1);

/// The editable body of a document kind (`draft-body`, `record-summary`…).
#[component]
pub fn CollabText(
    provider: Provider,
    text: TextRef,
    /// The `data-testid` of the textarea.
    testid: &'static str,
    /// No editing (finalized, or not loaded yet).
    #[prop(into)]
    readonly: Signal<bool>,
    /// The current text, for the preview and the carets overlay.
    value: RwSignal<String>,
    /// Publish our caret and show the others' (the body text of a document).
    #[prop(optional)]
    presence: bool,
    /// Accessible label.
    #[prop(into)]
    label: Signal<String>,
) -> impl IntoView {
    let doc = provider.doc();
    let binding = Rc::new(Binding {
        doc: doc.clone(),
        text: text.clone(),
        provider: provider.clone(),
        presence,
        value,
        el: RefCell::new(None),
        known: RefCell::new(String::new()),
        selection: RefCell::new(None),
        composing: Cell::new(false),
        deferred: Cell::new(false),
        composition: RefCell::new(None),
    });
    let key = Origin::from(format!(
        "xieshang-ui-{}",
        NEXT_KEY.fetch_add(1, Ordering::Relaxed)
    ));
    {
        let b = SendWrapper::new(binding.clone());
        text.observe(key.clone(), move |txn, _| b.remote(txn));
    }
    let cleanup = SendWrapper::new((text.clone(), key));
    on_cleanup(move || {
        let (text, key) = &*cleanup;
        text.unobserve(key.clone());
    });

    let node = NodeRef::<html::Textarea>::new();
    {
        let b = SendWrapper::new(binding.clone());
        node.on_load(move |el| {
            let el: HtmlTextAreaElement = el.unchecked_into();
            // Selection moves that no key or mouse event reports (a script's
            // `setSelectionRange`, the IME, assistive tools).
            let weak = Rc::downgrade(&*b);
            let on_select = Closure::<dyn Fn()>::new(move || {
                if let Some(b) = weak.upgrade() {
                    b.track_selection();
                }
            });
            let _ = el.add_event_listener_with_callback(
                "selectionchange",
                on_select.as_ref().unchecked_ref(),
            );
            // Lives as long as the page; it holds only a weak reference.
            on_select.forget();
            *b.el.borrow_mut() = Some(el);
            b.reload();
        });
    }
    let b = SendWrapper::new(binding);
    let (b1, b2, b3, b4) = (b.clone(), b.clone(), b.clone(), b.clone());

    let textarea = view! {
        <textarea
            node_ref=node
            data-testid=testid
            class="collab"
            rows="12"
            spellcheck="false"
            aria-label=move || label.get()
            disabled=move || readonly.get()
            aria-readonly=move || readonly.get().to_string()
            on:input=move |_| b1.local_input()
            on:compositionstart=move |_| b2.composition_start()
            on:compositionend=move |_| b3.composition_end()
            on:select=move |_| b4.track_selection()
            on:keyup={
                let b = b.clone();
                move |_| b.track_selection()
            }
            on:mouseup={
                let b = b.clone();
                move |_| b.track_selection()
            }
            on:focus={
                let b = b.clone();
                move |_| b.track_selection()
            }
        ></textarea>
    };
    if presence {
        view! {
            <div class="editor-wrap">
                {textarea}
                <PresenceCarets peers=provider.peers() value/>
            </div>
        }
        .into_any()
    } else {
        view! { <div class="editor-wrap">{textarea}</div> }.into_any()
    }
}

/// The binding's state; lives as long as the textarea.
struct Binding {
    doc: Doc,
    text: TextRef,
    provider: Provider,
    presence: bool,
    value: RwSignal<String>,
    el: RefCell<Option<HtmlTextAreaElement>>,
    /// What the textarea and the `Y.Text` held after the last sync between them.
    known: RefCell<String>,
    /// The selection (start, end) as sticky indexes into the `Y.Text`.
    selection: RefCell<Option<(StickyIndex, StickyIndex)>>,
    /// An IME composition is open.
    composing: Cell<bool>,
    /// A remote change arrived during the composition and is not shown yet.
    deferred: Cell<bool>,
    /// Where the composition started: index in `known`, and as a sticky index.
    composition: RefCell<Option<(u32, StickyIndex)>>,
}

impl Binding {
    fn el(&self) -> Option<HtmlTextAreaElement> {
        self.el.borrow().clone()
    }

    /// Shows the `Y.Text` as it is now (outside any transaction).
    fn reload(&self) {
        let Ok(txn) = self.doc.try_transact() else {
            return;
        };
        let current = self.text.get_string(&txn);
        let selection = self.resolve_selection(&txn);
        drop(txn);
        self.render(current, selection);
    }

    /// Puts `current` into the textarea with the selection `selection`.
    fn render(&self, current: String, selection: Option<(u32, u32)>) {
        if let Some(el) = self.el() {
            el.set_value(&current);
            if let Some((start, end)) = selection {
                let _ = el.set_selection_range(start, end);
            }
            fit_height(&el);
        }
        *self.known.borrow_mut() = current.clone();
        self.value.set(current);
    }

    fn resolve_selection<T: ReadTxn>(&self, txn: &T) -> Option<(u32, u32)> {
        let selection = self.selection.borrow();
        let (start, end) = selection.as_ref()?;
        let start = start.get_offset(txn)?.index;
        let end = end.get_offset(txn)?.index;
        Some((start.min(end), start.max(end)))
    }

    /// The observer: runs inside the commit of every transaction on the text.
    fn remote(&self, txn: &yrs::TransactionMut) {
        let current = self.text.get_string(txn);
        if current == *self.known.borrow() {
            return; // our own edit, or nothing visible
        }
        if self.composing.get() {
            self.deferred.set(true);
            return;
        }
        let selection = self.resolve_selection(txn);
        self.render(current, selection);
    }

    fn local_input(&self) {
        if self.composing.get() {
            return;
        }
        let Some(el) = self.el() else { return };
        let new = el.value();
        let caret = el.selection_end().ok().flatten();
        let old = self.known.borrow().clone();
        let Some(mut splice) = text_diff::splice(&old, &new, caret) else {
            return;
        };
        // A composition during which others edited: the splice is relative to
        // `known`, which is behind the document by their changes.
        let shift = if self.deferred.replace(false) {
            self.composition_shift(splice.index)
        } else {
            0
        };
        splice.index = (splice.index as i64 + shift).max(0) as u32;
        {
            let Ok(mut txn) = self.doc.try_transact_mut() else {
                return;
            };
            let len = self.text.len(&txn);
            let index = splice.index.min(len);
            let delete = splice.delete.min(len - index);
            if shift == 0 {
                *self.known.borrow_mut() = new.clone();
            }
            if delete > 0 {
                self.text.remove_range(&mut txn, index, delete);
            }
            if !splice.insert.is_empty() {
                self.text.insert(&mut txn, index, &splice.insert);
            }
        }
        if shift == 0 {
            self.value.set(new);
            fit_height(&el);
        } else {
            // Show the merged text, caret after what was just composed.
            let caret = splice.index + splice.insert.encode_utf16().count() as u32;
            let Ok(txn) = self.doc.try_transact() else {
                return;
            };
            let merged = self.text.get_string(&txn);
            drop(txn);
            self.render(merged, Some((caret, caret)));
        }
        self.track_selection();
    }

    /// How far the composition's start moved in the document (in UTF-16
    /// units) for a splice at `index` of `known`.
    fn composition_shift(&self, index: u32) -> i64 {
        let composition = self.composition.borrow();
        let Some((start, sticky)) = composition.as_ref() else {
            return 0;
        };
        if index < *start {
            return 0;
        }
        let Ok(txn) = self.doc.try_transact() else {
            return 0;
        };
        sticky
            .get_offset(&txn)
            .map_or(0, |o| o.index as i64 - *start as i64)
    }

    fn composition_start(&self) {
        self.composing.set(true);
        let Some(el) = self.el() else { return };
        let start = el.selection_start().ok().flatten().unwrap_or(0);
        let Ok(txn) = self.doc.try_transact() else {
            return;
        };
        let sticky = self.text.sticky_index(&txn, start, Assoc::Before);
        *self.composition.borrow_mut() = sticky.map(|s| (start, s));
    }

    fn composition_end(&self) {
        self.composing.set(false);
        self.local_input();
        if self.deferred.replace(false) {
            self.reload();
        }
        *self.composition.borrow_mut() = None;
    }

    /// Keeps the selection as sticky indexes and publishes the caret.
    fn track_selection(&self) {
        if self.composing.get() {
            return;
        }
        let Some(el) = self.el() else { return };
        let start = el.selection_start().ok().flatten().unwrap_or(0);
        let end = el.selection_end().ok().flatten().unwrap_or(start);
        {
            let Ok(txn) = self.doc.try_transact() else {
                return;
            };
            let a = self.text.sticky_index(&txn, start, Assoc::Before);
            let b = self.text.sticky_index(&txn, end, Assoc::Before);
            *self.selection.borrow_mut() = a.zip(b);
        }
        if self.presence {
            let backward = el.selection_direction().ok().flatten().as_deref() == Some("backward");
            let (anchor, head) = if backward { (end, start) } else { (start, end) };
            self.provider.set_cursor(anchor, head);
        }
    }
}

/// Grows the textarea with its content, so the page scrolls rather than
/// the textarea (which keeps the carets overlay aligned).
fn fit_height(el: &HtmlTextAreaElement) {
    let style = web_sys::HtmlElement::style(el);
    let _ = style.set_property("height", "auto");
    let _ = style.set_property("height", &format!("{}px", el.scroll_height() + 2));
}
