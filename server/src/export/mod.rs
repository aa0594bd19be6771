//! The bulletin (建言献策 简报) of an outcome, as DOCX, Markdown or HTML.
//!
//! # Layout
//! - this file: [`Bulletin`] (what every format prints), [`Block`]s parsed from
//!   the Markdown body, dates, and the download headers.
//! - [`markdown`], [`html`], [`docx`]: one renderer per format.
//!
//! Government offices open bulletins in Word or WPS, so DOCX is the main format;
//! it is written by hand (a few XML parts in a ZIP) to keep the dependency list
//! short and the output predictable.

use serde_json::Value;
use xieshang_shared::DocKind;

pub mod docx;
pub mod html;
pub mod markdown;

/// Everything a bulletin shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulletin {
    /// The committee, e.g. "某某县政协" (`serve --committee-name`).
    pub committee: String,
    /// The issue number (第N期), assigned at finalization; none for a draft.
    pub number: Option<i64>,
    /// The date, e.g. "2026年11月28日".
    pub date: String,
    pub title: String,
    /// The Markdown body (without the title heading).
    pub body: String,
    /// Display names of the participants who signed the finalized version.
    pub signers: Vec<String>,
    /// Set when the document is not finalized: every format marks it 草稿.
    pub draft: bool,
}

impl Bulletin {
    /// "第N期", or "草稿" for a draft.
    pub fn issue(&self) -> String {
        match (self.draft, self.number) {
            (false, Some(n)) => format!("第{n}期"),
            _ => "草稿 (draft)".to_string(),
        }
    }

    /// The line listing who signed.
    pub fn signers_line(&self) -> String {
        if self.signers.is_empty() {
            "参加审定的委员：（无）".to_string()
        } else {
            format!("参加审定的委员：{}", self.signers.join("、"))
        }
    }
}

/// The bulletin body of a document: the draft's Markdown body, or the canonical
/// text without its title heading for the other kinds.
pub fn bulletin_body(kind: DocKind, content: &Value, text: &str) -> String {
    if kind == DocKind::Draft {
        return content["body"].as_str().unwrap_or_default().to_string();
    }
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => rest.trim_start().to_string(),
        _ => text.to_string(),
    }
}

/// A block of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#`…`######` headings; the level is 1–6.
    Heading(u8, String),
    /// Consecutive non-blank lines (kept as lines: line breaks inside a paragraph).
    Paragraph(Vec<String>),
    /// A `- ` / `* ` / `1. ` list item.
    Item(String),
}

/// Splits Markdown into blocks; inline emphasis markers are dropped, the text kept.
pub fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let flush = |para: &mut Vec<String>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Paragraph(std::mem::take(para)));
        }
    };
    for raw in md.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            flush(&mut para, &mut out);
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            flush(&mut para, &mut out);
            out.push(Block::Heading(hashes as u8, inline(line[hashes..].trim())));
        } else if let Some(item) = list_item(line) {
            flush(&mut para, &mut out);
            out.push(Block::Item(inline(item)));
        } else {
            para.push(inline(line.trim()));
        }
    }
    flush(&mut para, &mut out);
    out
}

fn list_item(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some(rest);
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    (digits > 0)
        .then(|| t[digits..].strip_prefix(". "))
        .flatten()
        .map(|_| t)
}

/// Drops `**`, `__` and backticks; everything else is text.
fn inline(s: &str) -> String {
    s.replace("**", "").replace("__", "").replace('`', "")
}

/// "YYYY年M月D日" of a unix-millisecond time in China Standard Time (UTC+8, no DST).
pub fn cn_date(ms: i64) -> String {
    let days = (ms + 8 * 3_600_000).div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!("{y}年{m}月{d}日")
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `Content-Disposition` for a download named `name` (RFC 6266 + RFC 5987):
/// an ASCII fallback for old clients and the UTF-8 name percent-encoded.
pub fn content_disposition(name: &str, ext: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in format!("{name}.{ext}").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_blocks() {
        let b = blocks("# 一、问题\n\n第一行\n**第二行**\n\n- 要点\n1. 第一\n\n## 二");
        assert_eq!(
            b,
            vec![
                Block::Heading(1, "一、问题".into()),
                Block::Paragraph(vec!["第一行".into(), "第二行".into()]),
                Block::Item("要点".into()),
                Block::Item("1. 第一".into()),
                Block::Heading(2, "二".into()),
            ]
        );
    }

    #[test]
    fn dates_in_china_time() {
        assert_eq!(cn_date(0), "1970年1月1日");
        // 2026-11-27T20:00:00Z is already the 28th in Beijing.
        assert_eq!(cn_date(1_795_809_600_000), "2026年11月28日");
    }

    #[test]
    fn disposition_encodes_chinese() {
        let d = content_disposition("建言献策 第1期", "docx");
        assert!(d.starts_with("attachment; filename=\"_____"), "{d}");
        assert!(
            d.ends_with(
                "filename*=UTF-8''%E5%BB%BA%E8%A8%80%E7%8C%AE%E7%AD%96%20%E7%AC%AC1%E6%9C%9F.docx"
            ),
            "{d}"
        );
    }
}
