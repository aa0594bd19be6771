//! The body of the DOCX bulletin: the shared block model
//! ([`xieshang_shared::markdown::Block`]) as WordprocessingML paragraphs,
//! runs and tables. List markers are written as text (the same "•" / "N." /
//! `一、` the plain text has), so what Word shows and what tests read agree.

use xieshang_shared::markdown::{list_marker, Block, Inline};

use super::xml_escape;

/// Text width of an A4 page inside the bulletin's margins, in twentieths of a point.
const TEXT_WIDTH: usize = 11_906 - 1_474 - 1_588;
/// One level of list or quote indentation (two CJK characters of 14 pt).
const INDENT: usize = 560;

/// Where a block sits: how deep in lists and quotes.
#[derive(Clone, Copy, Default)]
struct Ctx {
    lists: usize,
    quotes: usize,
}

impl Ctx {
    fn left(self) -> usize {
        (self.lists + self.quotes) * INDENT
    }
}

/// The run properties a piece of text carries.
#[derive(Clone, Copy, Default)]
struct Style {
    bold: bool,
    italic: bool,
    code: bool,
    link: bool,
}

/// The XML of `blocks`, to sit inside `<w:body>`.
pub fn blocks_xml(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        block_xml(&mut out, block, Ctx::default(), None);
    }
    out
}

/// `marker`: the list marker owed by the first paragraph of a list item.
fn block_xml(out: &mut String, block: &Block, ctx: Ctx, marker: Option<String>) {
    match block {
        Block::Heading { level, inlines } => {
            let style = format!("Heading{}", (*level).clamp(1, 3));
            paragraph(out, Some(&style), &indent(ctx, false), marker, inlines);
        }
        Block::Paragraph(inlines) | Block::Plain(inlines) => {
            let style = (ctx.quotes > 0).then_some("Quote");
            let list = ctx.lists > 0;
            paragraph(out, style, &indent(ctx, !list), marker, inlines);
        }
        Block::List { start, items } => {
            let inner = Ctx {
                lists: ctx.lists + 1,
                ..ctx
            };
            for (i, item) in items.iter().enumerate() {
                let mut owed = Some(list_marker(*start, i));
                for b in item {
                    let m = if matches!(b, Block::List { .. }) {
                        None
                    } else {
                        owed.take()
                    };
                    block_xml(out, b, inner, m);
                }
                if let Some(m) = owed {
                    paragraph(out, None, &indent(inner, false), Some(m), &[]);
                }
            }
        }
        Block::Quote(blocks) => {
            let inner = Ctx {
                quotes: ctx.quotes + 1,
                ..ctx
            };
            let mut owed = marker;
            for b in blocks {
                block_xml(out, b, inner, owed.take());
            }
        }
        Block::Table { head, rows } => table(out, head, rows),
        Block::Code(text) => {
            let lines: Vec<Inline> = text
                .trim_end_matches('\n')
                .split('\n')
                .enumerate()
                .flat_map(|(i, l)| {
                    let br = (i > 0).then_some(Inline::HardBreak);
                    br.into_iter().chain([Inline::Code(l.to_string())])
                })
                .collect();
            paragraph(out, Some("Code"), &indent(ctx, false), marker, &lines);
        }
        Block::Rule => out.push_str(
            r#"<w:p><w:pPr><w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr></w:pPr></w:p>"#,
        ),
    }
}

/// `<w:ind>`: the nesting as a left indent; body text gets the customary
/// two-character first-line indent, list items a hanging marker.
fn indent(ctx: Ctx, first_line: bool) -> String {
    let left = ctx.left();
    if ctx.lists > 0 {
        format!(r#"<w:ind w:left="{left}" w:hanging="{INDENT}"/>"#)
    } else if first_line {
        format!(r#"<w:ind w:left="{left}" w:firstLineChars="200" w:firstLine="560"/>"#)
    } else if left > 0 {
        format!(r#"<w:ind w:left="{left}"/>"#)
    } else {
        String::new()
    }
}

fn paragraph(
    out: &mut String,
    style: Option<&str>,
    ppr: &str,
    marker: Option<String>,
    inlines: &[Inline],
) {
    out.push_str("<w:p><w:pPr>");
    if let Some(s) = style {
        out.push_str(&format!(r#"<w:pStyle w:val="{s}"/>"#));
    }
    out.push_str(ppr);
    out.push_str("</w:pPr>");
    if let Some(m) = marker {
        run(out, &format!("{m} "), Style::default());
    }
    runs(out, inlines, Style::default());
    out.push_str("</w:p>");
}

fn runs(out: &mut String, inlines: &[Inline], style: Style) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => run(out, t, style),
            Inline::Code(t) => run(
                out,
                t,
                Style {
                    code: true,
                    ..style
                },
            ),
            Inline::Emphasis(c) => runs(
                out,
                c,
                Style {
                    italic: true,
                    ..style
                },
            ),
            Inline::Strong(c) => runs(
                out,
                c,
                Style {
                    bold: true,
                    ..style
                },
            ),
            Inline::Link { url, children } => runs(
                out,
                children,
                Style {
                    link: url.is_some(),
                    ..style
                },
            ),
            Inline::SoftBreak => run(out, " ", style),
            Inline::HardBreak => out.push_str("<w:r><w:br/></w:r>"),
        }
    }
}

fn run(out: &mut String, text: &str, style: Style) {
    out.push_str("<w:r>");
    if style.bold || style.italic || style.code || style.link {
        out.push_str("<w:rPr>");
        if style.code {
            out.push_str(r#"<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New"/>"#);
        }
        if style.bold {
            out.push_str("<w:b/><w:bCs/>");
        }
        if style.italic {
            out.push_str("<w:i/><w:iCs/>");
        }
        if style.link {
            out.push_str(r#"<w:color w:val="0563C1"/><w:u w:val="single"/>"#);
        }
        out.push_str("</w:rPr>");
    }
    out.push_str(r#"<w:t xml:space="preserve">"#);
    out.push_str(&xml_escape(text));
    out.push_str("</w:t></w:r>");
}

/// A real Word table: a bordered grid as wide as the text, the header row
/// bold and repeated on every page.
fn table(out: &mut String, head: &[Vec<Inline>], rows: &[Vec<Vec<Inline>>]) {
    let cols = rows
        .iter()
        .map(Vec::len)
        .chain([head.len()])
        .max()
        .unwrap_or(1)
        .max(1);
    let width = TEXT_WIDTH / cols;
    out.push_str(r#"<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders>"#);
    for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        out.push_str(&format!(
            r#"<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>"#
        ));
    }
    out.push_str("</w:tblBorders></w:tblPr><w:tblGrid>");
    for _ in 0..cols {
        out.push_str(&format!(r#"<w:gridCol w:w="{width}"/>"#));
    }
    out.push_str("</w:tblGrid>");
    let header = std::iter::once((true, head));
    for (is_head, row) in header.chain(rows.iter().map(|r| (false, r.as_slice()))) {
        out.push_str("<w:tr>");
        if is_head {
            out.push_str("<w:trPr><w:tblHeader/></w:trPr>");
        }
        for i in 0..cols {
            out.push_str(&format!(
                r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>"#
            ));
            let style = Style {
                bold: is_head,
                ..Style::default()
            };
            runs(
                out,
                row.get(i).map(Vec::as_slice).unwrap_or_default(),
                style,
            );
            out.push_str("</w:p></w:tc>");
        }
        out.push_str("</w:tr>");
    }
    // Word merges two tables that touch; a paragraph keeps them apart.
    out.push_str("</w:tbl><w:p/>");
}
