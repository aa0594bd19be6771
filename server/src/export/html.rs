//! The bulletin as a self-contained HTML page (prints well; opens anywhere).

use xieshang_shared::html::escape_html as escape;
use xieshang_shared::markdown;

use super::Bulletin;

/// Renders `b` as an HTML document (UTF-8). The body is
/// [`markdown::to_html`] exactly as the draft preview shows it, inside
/// `<section class="body">`; its headings are made smaller than the page's
/// own title by the stylesheet, not renumbered.
pub fn render(b: &Bulletin) -> String {
    let draft = if b.draft { " class=\"draft\"" } else { "" };
    let recipients: String = b
        .recipients_lines()
        .iter()
        .map(|l| format!("<p class=\"recipients\">{}</p>\n", escape(l)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
<style>body{{font-family:SimSun,\"Songti SC\",serif;max-width:40em;margin:2em auto;line-height:1.8}}\
h1,h2,h3,h4,h5,h6{{font-family:SimHei,\"Heiti SC\",sans-serif}}.masthead{{color:#c00;text-align:center}}\
.body h1{{font-size:1.3em}}.body h2{{font-size:1.2em}}.body h3{{font-size:1.1em}}.body h4,.body h5,.body h6{{font-size:1em}}\
.body table{{border-collapse:collapse}}.body th,.body td{{border:1px solid #000;padding:0 .5em}}\
.body blockquote{{border-left:3px solid #aaa;margin-left:0;padding-left:1em}}\
.issue{{text-align:center}}.draft .masthead::after{{content:\" 草稿\"}}</style>\n</head>\n<body{draft}>\n\
<h1 class=\"masthead\">{masthead}</h1>\n<p class=\"issue\">{issue}　{sender}　{date}</p>\n<hr>\n\
<h2>{title}</h2>\n<section class=\"body\">\n{body}</section>\n<hr>\n<p class=\"signers\">{signers}</p>\n{recipients}</body>\n</html>\n",
        title = escape(&b.title),
        masthead = escape(&b.masthead()),
        issue = escape(&b.issue()),
        sender = escape(&b.sender()),
        date = escape(&b.date),
        body = markdown::to_html(&b.body),
        signers = escape(&b.signers_line()),
    )
}

/// The body section of a page [`render`] made: what tests compare with
/// [`markdown::to_html`].
pub fn body_section(page: &str) -> Option<&str> {
    let start = page.find("<section class=\"body\">\n")? + "<section class=\"body\">\n".len();
    let end = page.rfind("</section>")?;
    page.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let b = Bulletin {
            committee: "某某县政协".into(),
            sender: Some("某某县政协研究室".into()),
            number: None,
            date: "2026年1月2日".into(),
            title: "<script>".into(),
            body: "# 一\n\na & b".into(),
            signers: vec![],
            report_to: None,
            send_to: Some("各专委会".into()),
            draft: true,
        };
        let html = render(&b);
        assert!(html.contains("<h2>&lt;script&gt;</h2>"));
        assert!(html.contains("<p>a &amp; b</p>"));
        assert_eq!(body_section(&html), Some("<h1>一</h1>\n<p>a &amp; b</p>\n"));
        assert!(html.contains("某某县政协研究室") && !html.contains("某某县政协办公室"));
        assert!(
            html.contains("<p class=\"recipients\">送：各专委会</p>") && !html.contains("报：")
        );
        assert!(html.contains("草稿"));
        assert!(!html.contains("<script>"));
    }
}
