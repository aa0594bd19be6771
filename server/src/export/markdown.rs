//! The bulletin as Markdown: the header lines, the body as written, the signers.

use super::Bulletin;

/// Renders `b` as a Markdown file (UTF-8).
pub fn render(b: &Bulletin) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n\n", b.masthead()));
    out.push_str(&format!(
        "**{}**　{}　{}\n\n",
        b.issue(),
        b.sender(),
        b.date
    ));
    out.push_str("---\n\n");
    out.push_str(&format!("## {}\n\n", b.title));
    let body = b.body.trim();
    if !body.is_empty() {
        out.push_str(body);
        out.push_str("\n\n");
    }
    out.push_str("---\n\n");
    out.push_str(&b.signers_line());
    out.push('\n');
    for line in b.recipients_lines() {
        out.push('\n');
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_body_signers() {
        let b = Bulletin {
            committee: "某某县政协".into(),
            sender: None,
            number: Some(3),
            date: "2026年11月28日".into(),
            title: "关于停车难的建议".into(),
            body: "建议增设车位。".into(),
            signers: vec!["张委员".into(), "李委员".into()],
            report_to: Some("县委、县政府".into()),
            send_to: None,
            draft: false,
        };
        let md = render(&b);
        assert!(md.contains("第3期"));
        assert!(md.contains("## 关于停车难的建议\n\n建议增设车位。"));
        assert!(md.contains("参加审定的委员：张委员、李委员\n\n报：县委、县政府\n"));
        assert!(md.contains("某某县政协办公室") && !md.contains("送："));
    }
}
