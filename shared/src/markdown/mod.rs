//! The one Markdown of Xieshang: the draft preview, the HTML bulletin, the
//! DOCX bulletin and the plain text all come from [`parse`], one pulldown-cmark
//! parse into a small block model ([`Block`], [`Inline`]).
//!
//! # Layout
//! - this file: the parse options and the public functions.
//! - [`model`]: the block model and how events fold into it (where raw HTML,
//!   images and unsafe link targets are neutralised).
//! - `cjk`: lines starting with `一、`, `（一）`, `1、`, `（1）` kept as their own
//!   paragraphs, markers as written.
//! - `html`: HTML of the model, in the form browsers serialise.
//!
//! CommonMark plus GFM tables; ASCII `1.` / `-` / `+` / `*` lists are
//! CommonMark lists everywhere. Raw HTML (block or inline) is shown as text,
//! never passed through.

mod cjk;
mod html;
pub mod model;

use pulldown_cmark::{Options, Parser};

pub use model::{safe_url, Block, Inline};

/// Parses `src` into blocks; every output of a body starts here.
pub fn parse(src: &str) -> Vec<Block> {
    let src = src.replace("\r\n", "\n").replace('\r', "\n");
    let src = cjk::separate_marker_lines(&src);
    model::build(Parser::new_ext(&src, Options::ENABLE_TABLES))
}

/// The HTML of `src`, for the draft preview and the HTML bulletin alike.
pub fn to_html(src: &str) -> String {
    html::render(&parse(src))
}

/// The text of `src` as the DOCX shows it: one line per block, list items
/// with their markers (see [`list_marker`]), soft breaks as spaces. Tests
/// compare it with what LibreOffice reads out of the DOCX.
pub fn plain_text(src: &str) -> String {
    let mut out = String::new();
    blocks_text(&mut out, &parse(src), "");
    out
}

/// The marker a list item is printed with, in every output that numbers by
/// itself (DOCX, plain text): "•" for bullets, "N." for ordered items.
pub fn list_marker(start: Option<u64>, index: usize) -> String {
    match start {
        None => "•".to_string(),
        Some(n) => format!("{}.", n.saturating_add(index as u64)),
    }
}

/// The text of inlines: styles dropped, soft breaks as spaces, hard as newlines.
pub fn inline_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    inline_text_into(&mut out, inlines);
    out
}

fn inline_text_into(out: &mut String, inlines: &[Inline]) {
    for inline in inlines {
        match inline {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Emphasis(c) | Inline::Strong(c) => inline_text_into(out, c),
            Inline::Link { children, .. } => inline_text_into(out, children),
            Inline::SoftBreak => out.push(' '),
            Inline::HardBreak => out.push('\n'),
        }
    }
}

fn blocks_text(out: &mut String, blocks: &[Block], lead: &str) {
    for block in blocks {
        match block {
            Block::Heading { inlines, .. } | Block::Paragraph(inlines) | Block::Plain(inlines) => {
                out.push_str(lead);
                out.push_str(&inline_text(inlines));
                out.push('\n');
            }
            Block::List { start, items } => {
                for (i, item) in items.iter().enumerate() {
                    let marker = format!("{lead}{} ", list_marker(*start, i));
                    let mut inner = String::new();
                    blocks_text(&mut inner, item, "");
                    out.push_str(&marker);
                    out.push_str(&inner);
                }
            }
            Block::Quote(inner) => blocks_text(out, inner, lead),
            Block::Table { head, rows } => {
                for row in std::iter::once(head).chain(rows) {
                    let cells: Vec<String> = row.iter().map(|c| inline_text(c)).collect();
                    out.push_str(&cells.join(" "));
                    out.push('\n');
                }
            }
            Block::Code(text) => {
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
            Block::Rule => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_markers_stay_as_written_and_ascii_lists_are_lists() {
        let html = to_html("一、甲\n二、乙\n（一）丙\n1、丁\n（1）戊\n\n1. 一\n+ 加");
        assert_eq!(
            html,
            "<p>一、甲</p>\n<p>二、乙</p>\n<p>（一）丙</p>\n<p>1、丁</p>\n<p>（1）戊</p>\n\
             <ol>\n<li>一</li>\n</ol>\n<ul>\n<li>加</li>\n</ul>\n"
        );
    }

    #[test]
    fn raw_html_is_text_and_bad_links_lose_their_target() {
        let html = to_html("<script>alert(1)</script>\n\na <img src=x onerror=alert(1)> [x](javascript:alert(1)) ![alt](http://e/i.png)");
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(!html.contains("href"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains(" x alt</p>"), "{html}");
    }

    #[test]
    fn emphasis_nests_and_plain_text_numbers_lists() {
        assert_eq!(
            to_html("**a *b* c**"),
            "<p><strong>a <em>b</em> c</strong></p>\n"
        );
        assert_eq!(plain_text("3. 甲\n4. 乙\n   - 丙"), "3. 甲\n4. 乙\n• 丙\n");
    }
}
