//! The bulletin as DOCX (Office Open XML), for Word and WPS.
//!
//! The smallest package Word, WPS and LibreOffice all open: content types, the
//! package relationship, `word/document.xml`, `word/styles.xml` and the
//! relationship between them, zipped by the `zip` crate. The body comes from
//! the shared Markdown block model ([`body`]), the same parse the preview and
//! the HTML bulletin use. Fonts follow official-document habit: 宋体 (SimSun)
//! for text, 黑体 (SimHei) for headings, set as East-Asian fonts so CJK text
//! uses them.
//!
//! `docx-rs` was considered: it always pulls the `image` crate and its codecs
//! into the server for pictures the bulletin never has, so the parts are
//! templated here instead.

mod body;

use std::io::{Cursor, Write};

use xieshang_shared::markdown;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::Bulletin;

/// The MIME type of a .docx file.
pub const CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

const DOC_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// A paragraph style: id, name, East-Asian font, size in half-points, bold,
/// colour, centred, extra paragraph properties.
type Style = (
    &'static str,
    &'static str,
    &'static str,
    u32,
    bool,
    &'static str,
    bool,
    &'static str,
);

const STYLES: [Style; 9] = [
    ("Masthead", "Masthead", "黑体", 52, true, "C00000", true, ""),
    ("Issue", "Issue", "宋体", 28, false, "000000", true, ""),
    ("Title", "Title", "黑体", 36, true, "000000", true, ""),
    (
        "Heading1",
        "heading 1",
        "黑体",
        32,
        true,
        "000000",
        false,
        "",
    ),
    (
        "Heading2",
        "heading 2",
        "黑体",
        30,
        true,
        "000000",
        false,
        "",
    ),
    (
        "Heading3",
        "heading 3",
        "黑体",
        28,
        true,
        "000000",
        false,
        "",
    ),
    (
        "Quote",
        "Quote",
        "楷体",
        28,
        false,
        "404040",
        false,
        r#"<w:pBdr><w:left w:val="single" w:sz="12" w:space="8" w:color="A0A0A0"/></w:pBdr>"#,
    ),
    ("Code", "Code", "宋体", 24, false, "000000", false, ""),
    ("Footer", "Footer", "宋体", 28, false, "000000", false, ""),
];

fn styles_xml() -> String {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{W}"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="SimSun" w:hAnsi="SimSun" w:eastAsia="宋体" w:cs="SimSun"/><w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="360" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>"#
    );
    for (id, name, font, size, bold, color, center, ppr) in STYLES {
        let latin = match font {
            "黑体" => "SimHei",
            "楷体" => "KaiTi",
            _ => "SimSun",
        };
        s.push_str(&format!(
            r#"<w:style w:type="paragraph" w:styleId="{id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:pPr>{ppr}{jc}<w:spacing w:before="120" w:after="120"/></w:pPr><w:rPr><w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{font}"/>{b}<w:color w:val="{color}"/><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr></w:style>"#,
            jc = if center { r#"<w:jc w:val="center"/>"# } else { "" },
            b = if bold { "<w:b/>" } else { "" },
        ));
    }
    s.push_str("</w:styles>");
    s
}

/// Escapes text for XML and drops characters XML 1.0 forbids.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One header or footer paragraph of plain text.
fn line(style: &str, text: &str, extra_ppr: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="{style}"/>{extra_ppr}</w:pPr><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        xml_escape(text)
    )
}

/// `word/document.xml`: masthead, issue, sender and date, title, body,
/// signers and (when configured) recipients.
pub fn document_xml(b: &Bulletin) -> String {
    let mut body = String::new();
    body.push_str(&line("Masthead", &b.masthead(), ""));
    body.push_str(&line("Issue", &b.issue(), ""));
    let rule =
        r#"<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="1" w:color="C00000"/></w:pBdr>"#;
    body.push_str(&line(
        "Issue",
        &format!("{}　　{}", b.sender(), b.date),
        rule,
    ));
    body.push_str(&line("Title", &b.title, ""));
    body.push_str(&body::blocks_xml(&markdown::parse(&b.body)));
    let top = r#"<w:pBdr><w:top w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>"#;
    body.push_str(&line("Footer", &b.signers_line(), top));
    for recipients in b.recipients_lines() {
        body.push_str(&line("Footer", &recipients, ""));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W}"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr></w:body></w:document>"#
    )
}

/// Renders `b` as the bytes of a .docx file. Entries carry the zip crate's
/// default timestamp (1980-01-01), so the same bulletin gives the same bytes.
pub fn render(b: &Bulletin) -> zip::result::ZipResult<Vec<u8>> {
    let document = document_xml(b);
    let styles = styles_xml();
    let parts: [(&str, &[u8]); 5] = [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("word/_rels/document.xml.rels", DOC_RELS.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
    ];
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in parts {
        zip.start_file(name, options)?;
        zip.write_all(data)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn bulletin(body: &str) -> Bulletin {
        Bulletin {
            committee: "某某县政协".into(),
            sender: None,
            number: Some(1),
            date: "2026年11月28日".into(),
            title: "A&B <建议>".into(),
            body: body.into(),
            signers: vec!["张委员".into()],
            report_to: Some("县委、县政府".into()),
            send_to: None,
            draft: false,
        }
    }

    #[test]
    fn package_opens_and_text_is_escaped() {
        let b = bulletin(
            "正文\u{1}\n\n| 甲 | 乙 |\n|---|---|\n| **1** | *2* |\n\n> 引用\n\n1. 一\n   - 二",
        );
        let bytes = render(&b).unwrap();
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(zip.len(), 5);
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert_eq!(xml, document_xml(&b));
        assert!(xml.contains("A&amp;B &lt;建议&gt;"));
        assert!(xml.contains(">正文<"), "control characters are dropped");
        assert!(xml.contains("<w:tbl>") && xml.contains("<w:tblHeader/>"));
        assert!(
            xml.contains(r#"<w:rPr><w:b/><w:bCs/></w:rPr><w:t xml:space="preserve">1<"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<w:pStyle w:val="Quote"/>"#));
        assert!(
            xml.contains(">1. <") && xml.contains(">• <"),
            "list markers as text"
        );
        assert!(xml.contains("某某县政协办公室") && xml.contains("报：县委、县政府"));
        assert!(!xml.contains("送："), "no 送 line unless configured");
        assert_eq!(render(&b).unwrap(), bytes, "deterministic");
    }
}
