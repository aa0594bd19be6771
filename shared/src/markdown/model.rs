//! The block model every output walks, built from one pulldown-cmark parse.
//!
//! The HTML of the preview and of the bulletin, the DOCX writer and the plain
//! text all read these types and never the Markdown itself, so they cannot
//! disagree about what a line means. Unsafe input is neutralised here, once:
//! raw HTML becomes [`Inline::Text`], images become their alt text and link
//! targets outside http(s)/mailto/relative are dropped (the link text stays).

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Tag};

/// A block of the body, as Word and HTML both understand it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#`…`######`: `level` is 1–6.
    Heading {
        /// 1–6, as written (outputs may style them differently, never renumber).
        level: u8,
        /// The heading's text.
        inlines: Vec<Inline>,
    },
    /// A paragraph, including each line that starts with a CJK list marker.
    Paragraph(Vec<Inline>),
    /// Text of a tight list item, which HTML shows without a `<p>`.
    Plain(Vec<Inline>),
    /// A CommonMark list; nested lists live inside the items.
    List {
        /// The first number of an ordered list; `None` for a bullet list.
        start: Option<u64>,
        /// Each item's blocks.
        items: Vec<Vec<Block>>,
    },
    /// `>` block quote.
    Quote(Vec<Block>),
    /// A GFM table: the header row, then the body rows; each cell is inlines.
    Table {
        /// The header cells.
        head: Vec<Vec<Inline>>,
        /// The body rows.
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// A fenced or indented code block, its text as written.
    Code(String),
    /// `---`.
    Rule,
}

/// Inline content: a small tree, so HTML nests tags and DOCX sums styles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Text as it should read (entities decoded, raw HTML kept as text).
    Text(String),
    /// `` `code` ``.
    Code(String),
    /// `*em*` / `_em_`.
    Emphasis(Vec<Inline>),
    /// `**strong**`.
    Strong(Vec<Inline>),
    /// A link; `url` is `None` when its target was not a safe one.
    Link {
        /// A target that passed [`safe_url`], or `None`.
        url: Option<String>,
        /// The link text.
        children: Vec<Inline>,
    },
    /// A line break inside a paragraph (shown as a space or newline).
    SoftBreak,
    /// A hard line break (two trailing spaces or a backslash).
    HardBreak,
}

/// `Some(url)` when `url` may be a link target: http, https, mailto or a
/// relative reference. Anything with control characters or whitespace is
/// refused, since browsers strip those before reading the scheme.
pub fn safe_url(url: &str) -> Option<String> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let end = url.find([':', '/', '?', '#']).unwrap_or(url.len());
    if !url[end..].starts_with(':') {
        return Some(url.to_string());
    }
    let scheme = url[..end].to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "mailto").then(|| url.to_string())
}

/// What is open while events stream in.
enum Frame {
    Root,
    Heading(u8),
    Paragraph,
    List(Option<u64>, Vec<Vec<Block>>),
    Item,
    Quote,
    Table(Vec<Vec<Inline>>, Vec<Vec<Vec<Inline>>>),
    Row(Vec<Vec<Inline>>),
    Cell,
    Code,
    /// Raw HTML block: its lines become a paragraph of text.
    Html,
    Emphasis,
    Strong,
    Link(Option<String>),
    /// An image: its alt text is collected as plain inlines.
    Image,
    /// Anything the model has no place for (e.g. strikethrough): children kept.
    Transparent,
}

/// One open frame: its kind, the blocks and inlines collected inside it.
struct Open {
    frame: Frame,
    blocks: Vec<Block>,
    inlines: Vec<Inline>,
    text: String,
}

impl Open {
    fn new(frame: Frame) -> Open {
        Open {
            frame,
            blocks: Vec::new(),
            inlines: Vec::new(),
            text: String::new(),
        }
    }
}

/// Folds pulldown-cmark events into blocks.
pub(crate) fn build<'a>(events: impl Iterator<Item = Event<'a>>) -> Vec<Block> {
    let mut stack = vec![Open::new(Frame::Root)];
    for event in events {
        match event {
            Event::Start(tag) => stack.push(Open::new(frame_of(tag))),
            Event::End(_) => {
                if stack.len() > 1 {
                    if let Some(done) = stack.pop() {
                        close(&mut stack, done);
                    }
                }
            }
            Event::Text(t) => text(&mut stack, &t),
            Event::Code(t) => push_inline(&mut stack, Inline::Code(t.into_string())),
            Event::Html(t) => text(&mut stack, &t),
            Event::InlineHtml(t) => push_inline(&mut stack, Inline::Text(t.into_string())),
            Event::SoftBreak => push_inline(&mut stack, Inline::SoftBreak),
            Event::HardBreak => push_inline(&mut stack, Inline::HardBreak),
            Event::Rule => push_block(&mut stack, Block::Rule),
            // Not enabled in the options; kept as their text if they ever appear.
            Event::InlineMath(t) | Event::DisplayMath(t) | Event::FootnoteReference(t) => {
                text(&mut stack, &t)
            }
            Event::TaskListMarker(_) => {}
        }
    }
    while stack.len() > 1 {
        if let Some(done) = stack.pop() {
            close(&mut stack, done);
        }
    }
    stack.pop().map(|root| root.blocks).unwrap_or_default()
}

fn frame_of(tag: Tag<'_>) -> Frame {
    match tag {
        Tag::Heading { level, .. } => Frame::Heading(heading_level(level)),
        Tag::Paragraph => Frame::Paragraph,
        Tag::List(start) => Frame::List(start, Vec::new()),
        Tag::Item => Frame::Item,
        Tag::BlockQuote(_) => Frame::Quote,
        Tag::Table(_) => Frame::Table(Vec::new(), Vec::new()),
        Tag::TableHead | Tag::TableRow => Frame::Row(Vec::new()),
        Tag::TableCell => Frame::Cell,
        Tag::CodeBlock(CodeBlockKind::Fenced(_) | CodeBlockKind::Indented) => Frame::Code,
        Tag::HtmlBlock => Frame::Html,
        Tag::Emphasis => Frame::Emphasis,
        Tag::Strong => Frame::Strong,
        Tag::Link { dest_url, .. } => Frame::Link(safe_url(&dest_url)),
        Tag::Image { .. } => Frame::Image,
        _ => Frame::Transparent,
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn top(stack: &mut [Open]) -> &mut Open {
    let last = stack.len() - 1;
    &mut stack[last]
}

fn text(stack: &mut [Open], t: &str) {
    let open = top(stack);
    match open.frame {
        Frame::Code | Frame::Html => open.text.push_str(t),
        _ => push_inline(stack, Inline::Text(t.to_string())),
    }
}

/// Adds an inline; text directly in a list item (a tight list) or at the
/// root becomes a [`Block::Plain`].
fn push_inline(stack: &mut [Open], inline: Inline) {
    let open = top(stack);
    let target = match open.frame {
        Frame::Item | Frame::Root | Frame::Quote => match open.blocks.last_mut() {
            Some(Block::Plain(inlines)) => inlines,
            _ => {
                open.blocks.push(Block::Plain(vec![inline]));
                return;
            }
        },
        _ => &mut open.inlines,
    };
    match (inline, target.last_mut()) {
        (Inline::Text(t), Some(Inline::Text(last))) => last.push_str(&t),
        (inline, _) => target.push(inline),
    }
}

fn push_block(stack: &mut [Open], block: Block) {
    top(stack).blocks.push(block);
}

fn close(stack: &mut [Open], done: Open) {
    let Open {
        frame,
        blocks,
        inlines,
        text,
    } = done;
    let parent = top(stack);
    match frame {
        Frame::Root => parent.blocks.extend(blocks),
        Frame::Heading(level) => parent.blocks.push(Block::Heading { level, inlines }),
        Frame::Paragraph => parent.blocks.push(Block::Paragraph(inlines)),
        Frame::List(start, items) => parent.blocks.push(Block::List { start, items }),
        Frame::Item => {
            if let Frame::List(_, items) = &mut parent.frame {
                items.push(blocks);
            } else {
                parent.blocks.extend(blocks);
            }
        }
        Frame::Quote => parent.blocks.push(Block::Quote(blocks)),
        Frame::Table(head, rows) => parent.blocks.push(Block::Table { head, rows }),
        Frame::Row(cells) => match &mut parent.frame {
            Frame::Table(head, rows) if head.is_empty() && rows.is_empty() => *head = cells,
            Frame::Table(_, rows) => rows.push(cells),
            _ => {}
        },
        Frame::Cell => {
            if let Frame::Row(cells) = &mut parent.frame {
                cells.push(inlines);
            }
        }
        Frame::Code => parent.blocks.push(Block::Code(text)),
        Frame::Html => {
            let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    out.push(Inline::SoftBreak);
                }
                out.push(Inline::Text((*line).to_string()));
            }
            parent.blocks.push(Block::Paragraph(out));
        }
        Frame::Emphasis => push_inline(stack, Inline::Emphasis(inlines)),
        Frame::Strong => push_inline(stack, Inline::Strong(inlines)),
        Frame::Link(url) => push_inline(
            stack,
            Inline::Link {
                url,
                children: inlines,
            },
        ),
        Frame::Image | Frame::Transparent => {
            for inline in inlines {
                push_inline(stack, inline);
            }
            top(stack).blocks.extend(blocks);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_url;

    #[test]
    fn only_web_and_mail_targets_survive() {
        for ok in [
            "https://a.cn/x",
            "http://a",
            "mailto:a@b.cn",
            "/docs/1",
            "a/b:c",
            "#top",
        ] {
            assert_eq!(safe_url(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:x",
            "data:text/html,x",
            "vbscript:x",
            "java\tscript:x",
            " javascript:x",
        ] {
            assert_eq!(safe_url(bad), None, "{bad}");
        }
    }
}
