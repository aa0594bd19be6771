//! HTML of the block model: what the draft preview shows and the HTML
//! bulletin prints, byte for byte.
//!
//! Only fixed tags are written (`p h1–h6 ul ol li blockquote table thead tbody
//! tr th td pre code em strong a br hr`) and only two attributes (`href`,
//! `start`), so nothing a member types can become markup. The output is in
//! the form a browser serialises back from `innerHTML` (`<br>`, `<hr>`, text
//! escaping only `&`, `<`, `>` and no-break spaces), so the browser test can
//! compare it with what the DOM holds.

use super::model::{Block, Inline};

/// Renders blocks as HTML.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        block_html(&mut out, block);
    }
    out
}

fn block_html(out: &mut String, block: &Block) {
    match block {
        Block::Heading { level, inlines } => {
            out.push_str(&format!("<h{level}>"));
            inlines_html(out, inlines);
            out.push_str(&format!("</h{level}>\n"));
        }
        Block::Paragraph(inlines) => {
            out.push_str("<p>");
            inlines_html(out, inlines);
            out.push_str("</p>\n");
        }
        Block::Plain(inlines) => inlines_html(out, inlines),
        Block::List { start, items } => {
            let tag = match start {
                None => "ul",
                Some(_) => "ol",
            };
            match start {
                Some(n) if *n != 1 => out.push_str(&format!("<ol start=\"{n}\">\n")),
                _ => out.push_str(&format!("<{tag}>\n")),
            }
            for item in items {
                out.push_str("<li>");
                for (i, b) in item.iter().enumerate() {
                    // Text then a nested list in a tight item: a newline between, as
                    // CommonMark's own renderer writes it.
                    if i > 0 && matches!(item[i - 1], Block::Plain(_)) {
                        out.push('\n');
                    }
                    block_html(out, b);
                }
                out.push_str("</li>\n");
            }
            out.push_str(&format!("</{tag}>\n"));
        }
        Block::Quote(blocks) => {
            out.push_str("<blockquote>\n");
            for b in blocks {
                block_html(out, b);
            }
            out.push_str("</blockquote>\n");
        }
        Block::Table { head, rows } => {
            out.push_str("<table><thead><tr>");
            for cell in head {
                out.push_str("<th>");
                inlines_html(out, cell);
                out.push_str("</th>");
            }
            out.push_str("</tr></thead>");
            if !rows.is_empty() {
                out.push_str("<tbody>");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str("<td>");
                        inlines_html(out, cell);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody>");
            }
            out.push_str("</table>\n");
        }
        Block::Code(text) => {
            out.push_str("<pre><code>");
            escape_into(out, text, false);
            out.push_str("</code></pre>\n");
        }
        Block::Rule => out.push_str("<hr>\n"),
    }
}

fn inlines_html(out: &mut String, inlines: &[Inline]) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => escape_into(out, t, false),
            Inline::Code(t) => {
                out.push_str("<code>");
                escape_into(out, t, false);
                out.push_str("</code>");
            }
            Inline::Emphasis(c) => wrap(out, "em", c),
            Inline::Strong(c) => wrap(out, "strong", c),
            Inline::Link {
                url: Some(url),
                children,
            } => {
                out.push_str("<a href=\"");
                escape_into(out, url, true);
                out.push_str("\">");
                inlines_html(out, children);
                out.push_str("</a>");
            }
            Inline::Link {
                url: None,
                children,
            } => inlines_html(out, children),
            Inline::SoftBreak => out.push('\n'),
            Inline::HardBreak => out.push_str("<br>\n"),
        }
    }
}

fn wrap(out: &mut String, tag: &str, children: &[Inline]) {
    out.push_str(&format!("<{tag}>"));
    inlines_html(out, children);
    out.push_str(&format!("</{tag}>"));
}

/// Escapes as the HTML serialiser does: `&`, `<`, `>` and U+00A0 everywhere,
/// `"` in attribute values.
fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            '"' if attribute => out.push_str("&quot;"),
            // The HTML parser drops NUL; the serialiser would never give it back.
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}
