//! The bulletin (建言献策 简报) of an outcome, as DOCX, Markdown or HTML.
//!
//! # Layout
//! - this file: [`Bulletin`] (what every format prints), dates, and the
//!   download headers.
//! - [`markdown`], [`html`], [`docx`]: one renderer per format. HTML and DOCX
//!   read the body through the shared Markdown renderer
//!   ([`xieshang_shared::markdown`]), the same one the draft preview uses.
//!
//! Government offices open bulletins in Word or WPS, so DOCX is the main format.

use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};
use xieshang_shared::DocKind;

pub mod docx;
pub mod html;
pub mod markdown;

/// Everything a bulletin shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulletin {
    /// The committee, e.g. "某某县政协" (`serve --committee-name`).
    pub committee: String,
    /// The office that sends the bulletin (`serve --office-name`); `None`
    /// prints "{committee}办公室".
    pub sender: Option<String>,
    /// The issue number (第N期), assigned at finalization; none for a draft.
    pub number: Option<i64>,
    /// The date, e.g. "2026年11月28日".
    pub date: String,
    pub title: String,
    /// The Markdown body (without the title heading).
    pub body: String,
    /// Display names of the participants who signed the finalized version.
    pub signers: Vec<String>,
    /// Whom the bulletin is reported to (报：…, `serve --bulletin-report-to`).
    pub report_to: Option<String>,
    /// Whom it is sent to (送：…, `serve --bulletin-send-to`).
    pub send_to: Option<String>,
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

    /// "{committee} 建言献策": the masthead every format opens with.
    pub fn masthead(&self) -> String {
        format!("{} 建言献策", self.committee)
    }

    /// The sending office: as configured, or the committee's office.
    pub fn sender(&self) -> String {
        match &self.sender {
            Some(s) if !s.trim().is_empty() => s.clone(),
            _ => format!("{}办公室", self.committee),
        }
    }

    /// "报：…" and "送：…", each only when configured (none by default).
    pub fn recipients_lines(&self) -> Vec<String> {
        let lines = [("报", &self.report_to), ("送", &self.send_to)];
        lines
            .into_iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}：{v}"))
            })
            .collect()
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

/// "YYYY年M月D日" of a unix-millisecond time in China Standard Time (UTC+8,
/// no DST); a time outside what `time` can represent prints as 1970年1月1日.
pub fn cn_date(ms: i64) -> String {
    let china = UtcOffset::from_whole_seconds(8 * 3600).unwrap_or(UtcOffset::UTC);
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(china);
    format!("{}年{}月{}日", at.year(), u8::from(at.month()), at.day())
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
    fn dates_in_china_time() {
        assert_eq!(cn_date(0), "1970年1月1日");
        // 2026-11-27T20:00:00Z is already the 28th in Beijing.
        assert_eq!(cn_date(1_795_809_600_000), "2026年11月28日");
        // One millisecond before midnight in Beijing is still the day before.
        assert_eq!(cn_date(1_795_795_200_000 - 1), "2026年11月27日");
        assert_eq!(cn_date(i64::MAX), "1970年1月1日");
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
