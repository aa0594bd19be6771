//! A small Markdown renderer for the live preview of a draft (pure).
//!
//! Drafts use a plain subset: headings, paragraphs, bullet and numbered
//! lists, block quotes, emphasis, strong and inline code. A full CommonMark
//! crate would add far more to the wasm than this preview is worth. All text
//! is HTML-escaped before any markup is added, so a draft cannot inject HTML.

pub use xieshang_shared::html::escape_html as escape;

/// Renders `src` to HTML.
pub fn to_html(src: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Option<&'static str> = None;
    for line in src.lines() {
        let trimmed = line.trim();
        let item = list_item(trimmed);
        if trimmed.is_empty()
            || heading(trimmed).is_some()
            || item.is_some()
            || trimmed.starts_with('>')
        {
            flush_para(&mut out, &mut para);
        }
        // A blank line between items keeps the list going ("loose" lists).
        let keeps_list = trimmed.is_empty() || item.map(|(tag, ..)| tag) == list;
        if !keeps_list {
            if let Some(tag) = list.take() {
                out.push_str(&format!("</{tag}>"));
            }
        }
        if trimmed.is_empty() {
            continue;
        }
        if let Some((level, text)) = heading(trimmed) {
            out.push_str(&format!("<h{level}>{}</h{level}>", inline(text)));
        } else if let Some((tag, text, start)) = item {
            if list.is_none() {
                match start {
                    Some(n) if n != 1 => out.push_str(&format!("<{tag} start=\"{n}\">")),
                    _ => out.push_str(&format!("<{tag}>")),
                }
                list = Some(tag);
            }
            out.push_str(&format!("<li>{}</li>", inline(text)));
        } else if let Some(text) = trimmed.strip_prefix('>') {
            out.push_str(&format!("<blockquote>{}</blockquote>", inline(text.trim())));
        } else {
            para.push(trimmed);
        }
    }
    flush_para(&mut out, &mut para);
    if let Some(tag) = list {
        out.push_str(&format!("</{tag}>"));
    }
    out
}

fn flush_para(out: &mut String, para: &mut Vec<&str>) {
    if !para.is_empty() {
        let text: Vec<String> = para.iter().map(|l| inline(l)).collect();
        out.push_str(&format!("<p>{}</p>", text.join("<br>")));
        para.clear();
    }
}

/// `# Title` … `###### Title`.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let rest = &line[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' ')))
        .then(|| (level, rest.trim()))
}

/// `- item`, `* item`, `+ item` (ul) or `1. item`, `1、item` (ol, with its number).
fn list_item(line: &str) -> Option<(&'static str, &str, Option<u64>)> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(text) = line.strip_prefix(bullet) {
            return Some(("ul", text, None));
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number = line[..digits].parse().ok();
    let rest = &line[digits..];
    rest.strip_prefix(". ")
        .or_else(|| rest.strip_prefix('、'))
        .map(|text| ("ol", text.trim_start(), number))
}

/// Escapes, then marks up `**strong**`, `*em*` / `_em_` and `` `code` ``.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while !rest.is_empty() {
        let found = [("`", "code"), ("**", "strong"), ("*", "em"), ("_", "em")]
            .into_iter()
            .filter_map(|(mark, tag)| {
                let start = rest.find(mark)?;
                let after = &rest[start + mark.len()..];
                let len = after.find(mark).filter(|n| *n > 0)?;
                Some((start, mark, tag, len))
            })
            .min_by_key(|(start, mark, ..)| (*start, usize::MAX - mark.len()));
        let Some((start, mark, tag, len)) = found else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + mark.len()..start + mark.len() + len];
        out.push_str(&format!("<{tag}>{inner}</{tag}>"));
        rest = &rest[start + 2 * mark.len() + len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    // Run in the browser by `cargo xtask test` (wasm-bindgen-test).
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn blocks() {
        let html =
            to_html("# 建议\n\n第一段\n续行\n\n- 甲\n- 乙\n\n1. 一\n\n2、二\n> 引用\n\n3. 三");
        assert_eq!(
            html,
            "<h1>建议</h1><p>第一段<br>续行</p><ul><li>甲</li><li>乙</li></ul>\
             <ol><li>一</li><li>二</li></ol><blockquote>引用</blockquote>\
             <ol start=\"3\"><li>三</li></ol>"
        );
    }

    #[test]
    fn inline_marks() {
        assert_eq!(
            inline("a **b** *c* `d` _e_"),
            "a <strong>b</strong> <em>c</em> <code>d</code> <em>e</em>"
        );
        assert_eq!(inline("2 * 3"), "2 * 3");
    }

    #[test]
    fn html_is_escaped() {
        let html = to_html("<script>alert('x')</script> & **<b>**");
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<strong>&lt;b&gt;</strong>"));
        assert_eq!(to_html("#nohead"), "<p>#nohead</p>");
    }
}
