//! The draft preview in a real browser: every file of the shared Markdown
//! corpus (`tests/fixtures/markdown`) rendered by the function the draft
//! editor's preview calls (`xieshang_shared::markdown::to_html`, through
//! `inner_html` on the preview element), put into a real DOM element, and
//! read back from `innerHTML`. The renderer writes HTML in the form the
//! browser serialises, so what the DOM holds must equal the expected HTML
//! byte for byte; no normalisation is applied to either side.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p xieshang-client --target wasm32-unknown-unknown --test markdown_browser`.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use xieshang_shared::markdown::to_html;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! corpus {
    ($($name:literal),* $(,)?) => {
        [$((
            $name,
            include_str!(concat!("../../tests/fixtures/markdown/", $name, ".md")),
            include_str!(concat!("../../tests/fixtures/markdown/", $name, ".html")),
        )),*]
    };
}

/// The corpus, by name; a file added there must be added here too.
const CORPUS: [(&str, &str, &str); 8] = corpus!(
    "01-headings",
    "02-lists",
    "03-cjk-markers",
    "04-quotes",
    "05-emphasis",
    "06-tables",
    "07-long-line",
    "08-hostile",
);

#[wasm_bindgen_test]
fn the_dom_holds_the_expected_html_for_every_corpus_file() {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let body = document.body().expect("a body");
    let preview = document.create_element("div").expect("a div");
    preview.set_class_name("preview");
    body.append_child(&preview).expect("attached");
    for (name, md, expected) in CORPUS {
        let html = to_html(md);
        assert_eq!(html, expected, "{name}: to_html differs from the corpus");
        preview.set_inner_html(&html);
        let dom = preview.inner_html();
        assert_eq!(dom, expected, "{name}: the browser holds different HTML");
        // Nothing a member typed became an element the renderer does not write.
        let hostile = preview
            .query_selector(
                "script, iframe, img, style, [onerror], [onclick], a[href^='javascript']",
            )
            .expect("a selector");
        assert!(hostile.is_none(), "{name}: a hostile element survived");
    }
    preview.remove();
}
