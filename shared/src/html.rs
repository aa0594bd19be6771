//! HTML escaping, written once for the client's preview and presence overlay
//! and the server's HTML bulletin: both put member-typed text into markup.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn markup_and_quotes_are_escaped_text_is_kept() {
        assert_eq!(
            escape_html(r#"<b a="1">'协商' & co</b>"#),
            "&lt;b a=&quot;1&quot;&gt;&#39;协商&#39; &amp; co&lt;/b&gt;"
        );
    }
}
