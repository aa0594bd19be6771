//! The bulletin as DOCX (Office Open XML), for Word and WPS.
//!
//! The smallest package Word, WPS and LibreOffice all open: content types, the
//! package relationship, `word/document.xml`, `word/styles.xml` and the
//! relationship between them, in a ZIP written here (deflate via flate2).
//! Fonts follow official-document habit: 宋体 (SimSun) for text, 黑体 (SimHei)
//! for headings, set as East-Asian fonts so CJK text uses them.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

use super::{blocks, Block, Bulletin};

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

/// A paragraph style: id, name, East-Asian font, size in half-points, bold, colour, centred.
type Style = (
    &'static str,
    &'static str,
    &'static str,
    u32,
    bool,
    &'static str,
    bool,
);

const STYLES: [Style; 6] = [
    ("Masthead", "Masthead", "黑体", 52, true, "C00000", true),
    ("Issue", "Issue", "宋体", 28, false, "000000", true),
    ("Title", "Title", "黑体", 36, true, "000000", true),
    ("Heading1", "heading 1", "黑体", 32, true, "000000", false),
    ("Heading2", "heading 2", "黑体", 30, true, "000000", false),
    ("Heading3", "heading 3", "黑体", 28, true, "000000", false),
];

fn styles_xml() -> String {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{W}"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="SimSun" w:hAnsi="SimSun" w:eastAsia="宋体" w:cs="SimSun"/><w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="360" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>"#
    );
    for (id, name, font, size, bold, color, center) in STYLES {
        let latin = if font == "黑体" { "SimHei" } else { "SimSun" };
        s.push_str(&format!(
            r#"<w:style w:type="paragraph" w:styleId="{id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:pPr>{jc}<w:spacing w:before="120" w:after="120"/></w:pPr><w:rPr><w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{font}"/>{b}<w:color w:val="{color}"/><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr></w:style>"#,
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
            '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One paragraph with an optional style and lines separated by breaks.
fn para(style: Option<&str>, lines: &[String], extra_ppr: &str) -> String {
    let ppr = match style {
        Some(s) => format!(r#"<w:pPr><w:pStyle w:val="{s}"/>{extra_ppr}</w:pPr>"#),
        None if !extra_ppr.is_empty() => format!("<w:pPr>{extra_ppr}</w:pPr>"),
        None => String::new(),
    };
    let runs: Vec<String> = lines
        .iter()
        .map(|l| format!(r#"<w:t xml:space="preserve">{}</w:t>"#, xml_escape(l)))
        .collect();
    format!("<w:p>{ppr}<w:r>{}</w:r></w:p>", runs.join("<w:br/>"))
}

fn document_xml(b: &Bulletin) -> String {
    let one = |s: String| vec![s];
    let mut body = String::new();
    body.push_str(&para(
        Some("Masthead"),
        &one(format!("{} 建言献策", b.committee)),
        "",
    ));
    body.push_str(&para(Some("Issue"), &one(b.issue()), ""));
    let rule =
        r#"<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="1" w:color="C00000"/></w:pBdr>"#;
    body.push_str(&para(
        Some("Issue"),
        &one(format!("{}办公室　　{}", b.committee, b.date)),
        rule,
    ));
    body.push_str(&para(Some("Title"), &one(b.title.clone()), ""));
    for block in blocks(&b.body) {
        body.push_str(&match block {
            Block::Heading(level, text) => {
                para(Some(&format!("Heading{}", level.min(3))), &one(text), "")
            }
            Block::Paragraph(lines) => para(
                None,
                &lines,
                r#"<w:ind w:firstLineChars="200" w:firstLine="560"/>"#,
            ),
            Block::Item(text) => para(None, &one(format!("• {text}")), ""),
        });
    }
    let top = r#"<w:pBdr><w:top w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>"#;
    body.push_str(&para(None, &one(b.signers_line()), top));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W}"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr></w:body></w:document>"#
    )
}

/// Renders `b` as the bytes of a .docx file.
pub fn render(b: &Bulletin) -> std::io::Result<Vec<u8>> {
    let document = document_xml(b);
    let styles = styles_xml();
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("word/_rels/document.xml.rels", DOC_RELS.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
    ])
}

/// A ZIP archive of `files`, each deflated (PKWARE APPNOTE 6.3: local headers,
/// central directory, end record; UTF-8 names; fixed 1980-01-01 timestamps so
/// the same bulletin always gives the same bytes).
fn zip(files: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    const DOS_DATE: u16 = (1 << 5) | 1; // 1980-01-01
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    for (name, data) in files {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data)?;
        let packed = enc.finish()?;
        let mut crc = Crc::new();
        crc.update(data);
        let (crc, csize, usize_) = (crc.sum(), packed.len() as u32, data.len() as u32);
        let offset = out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
            v.extend_from_slice(&0x0800u16.to_le_bytes()); // flags: UTF-8 names
            v.extend_from_slice(&8u16.to_le_bytes()); // method: deflate
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&DOS_DATE.to_le_bytes());
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&csize.to_le_bytes());
            v.extend_from_slice(&usize_.to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&packed);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_structure_and_escaping() {
        let b = Bulletin {
            committee: "某某县政协".into(),
            number: Some(1),
            date: "2026年11月28日".into(),
            title: "A&B <建议>".into(),
            body: "正文\u{1}".into(),
            signers: vec!["张委员".into()],
            draft: false,
        };
        let xml = document_xml(&b);
        assert!(xml.contains("A&amp;B &lt;建议&gt;"));
        assert!(xml.contains(">正文<"), "control characters are dropped");
        let bytes = render(&b).unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let eocd = bytes.len() - 22;
        assert_eq!(&bytes[eocd..eocd + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([bytes[eocd + 10], bytes[eocd + 11]]), 5);
        assert_eq!(render(&b).unwrap(), bytes, "deterministic");
    }
}
