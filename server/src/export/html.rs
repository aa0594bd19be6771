//! The bulletin as a self-contained HTML page (prints well; opens anywhere).

use xieshang_shared::html::escape_html as escape;

use super::{blocks, Block, Bulletin};

/// Renders `b` as an HTML document (UTF-8).
pub fn render(b: &Bulletin) -> String {
    let mut body = String::new();
    for block in blocks(&b.body) {
        match block {
            Block::Heading(level, text) => {
                let h = (level + 2).min(6);
                body.push_str(&format!("<h{h}>{}</h{h}>\n", escape(&text)));
            }
            Block::Paragraph(lines) => {
                let lines: Vec<String> = lines.iter().map(|l| escape(l)).collect();
                body.push_str(&format!("<p>{}</p>\n", lines.join("<br>")));
            }
            Block::Item(text) => {
                body.push_str(&format!("<p class=\"item\">• {}</p>\n", escape(&text)))
            }
        }
    }
    let draft = if b.draft { " class=\"draft\"" } else { "" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
<style>body{{font-family:SimSun,\"Songti SC\",serif;max-width:40em;margin:2em auto;line-height:1.8}}\
h1,h2,h3,h4,h5,h6{{font-family:SimHei,\"Heiti SC\",sans-serif}}.masthead{{color:#c00;text-align:center}}\
.issue{{text-align:center}}.draft .masthead::after{{content:\" 草稿\"}}</style>\n</head>\n<body{draft}>\n\
<h1 class=\"masthead\">{committee} 建言献策</h1>\n<p class=\"issue\">{issue}　{committee}办公室　{date}</p>\n<hr>\n\
<h2>{title}</h2>\n{body}<hr>\n<p class=\"signers\">{signers}</p>\n</body>\n</html>\n",
        title = escape(&b.title),
        committee = escape(&b.committee),
        issue = escape(&b.issue()),
        date = escape(&b.date),
        signers = escape(&b.signers_line()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let b = Bulletin {
            committee: "某某县政协".into(),
            number: None,
            date: "2026年1月2日".into(),
            title: "<script>".into(),
            body: "# 一\n\na & b".into(),
            signers: vec![],
            draft: true,
        };
        let html = render(&b);
        assert!(html.contains("<h2>&lt;script&gt;</h2>"));
        assert!(html.contains("<p>a &amp; b</p>"));
        assert!(html.contains("草稿"));
        assert!(!html.contains("<script>"));
    }
}
