//! The shared Markdown corpus (`tests/fixtures/markdown/NN-name.md`, expected
//! HTML in `NN-name.html`): `to_html` must give exactly the expected HTML, and
//! no output may carry markup a member did not get from the renderer's own
//! fixed tags. The browser test (client/tests/markdown_browser.rs) and the
//! export test (tests/tests/export.rs) read the same files.
//!
//! After a deliberate change of the renderer, `XIESHANG_BLESS=1 cargo test -p
//! xieshang-shared --test markdown_corpus` rewrites the expected files; read
//! the diff before committing it.

use std::path::PathBuf;

use xieshang_shared::markdown::{plain_text, to_html};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/markdown")
}

fn corpus() -> Vec<(String, String, PathBuf)> {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "corpus has {} files", files.len());
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let md = std::fs::read_to_string(&p).expect("corpus file");
            (name, md, p.with_extension("html"))
        })
        .collect()
}

/// Every tag in `html` is one the renderer writes, with only `href` (to a
/// safe target) or `start`; nothing else can execute or load.
fn assert_inert(name: &str, html: &str) {
    const TAGS: [&str; 24] = [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "pre",
        "code",
        "em",
        "strong",
        "a",
        "br",
        "hr",
    ];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let tag = &rest[i + 1..];
        let end = tag
            .find('>')
            .unwrap_or_else(|| panic!("{name}: unclosed tag"));
        let inside = tag[..end].trim_start_matches('/');
        let (tname, attrs) = inside.split_once(' ').unwrap_or((inside, ""));
        assert!(TAGS.contains(&tname), "{name}: tag <{inside}>");
        if !attrs.is_empty() {
            let safe_href = ["href=\"http", "href=\"mailto:", "href=\"/"]
                .iter()
                .any(|p| attrs.starts_with(p));
            let ok =
                (tname == "a" && safe_href) || (tname == "ol" && attrs.starts_with("start=\""));
            assert!(
                ok && attrs.matches('"').count() == 2,
                "{name}: attributes {attrs}"
            );
        }
        rest = &tag[end..];
    }
    // Typed markup shows as text (`&lt;a href="javascript:…"&gt;`), which the
    // tag scan above skips; an actual element never gets there.
    assert!(!html.to_lowercase().contains("<script"), "{name}: script");
}

#[test]
fn every_corpus_file_renders_as_expected() {
    let bless = std::env::var_os("XIESHANG_BLESS").is_some();
    let mut checked = 0;
    for (name, md, expected_path) in corpus() {
        let html = to_html(&md);
        if bless {
            std::fs::write(&expected_path, &html).expect("write expected");
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{name}: no expected html ({e})"));
        assert_eq!(
            html, expected,
            "{name}: to_html differs from {expected_path:?}"
        );
        assert_inert(&name, &html);
        assert!(!plain_text(&md).is_empty(), "{name}: no text");
        checked += 1;
    }
    println!("{checked} corpus files match their expected HTML");
}

#[test]
fn hostile_markup_survives_only_as_text() {
    let md = std::fs::read_to_string(corpus_dir().join("08-hostile.md")).expect("corpus file");
    let html = to_html(&md);
    for shown in [
        "&lt;script&gt;alert('x')&lt;/script&gt;",
        "&lt;iframe",
        "&lt;!-- 隐藏的注释 --&gt;",
        "onerror=alert(1)&gt;",
    ] {
        assert!(html.contains(shown), "{shown} not shown as text:\n{html}");
    }
    for text in ["点我", "再点", "编码", "数据", "图片说明", "坏图"] {
        assert!(plain_text(&md).contains(text), "{text} lost");
    }
    assert_eq!(html.matches("<a ").count(), 0, "{html}");
}

#[test]
fn a_very_long_line_is_one_paragraph() {
    let line = "甲".repeat(20_000);
    assert_eq!(to_html(&line), format!("<p>{line}</p>\n"));
}
