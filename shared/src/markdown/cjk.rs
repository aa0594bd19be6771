//! Committee documents number their points `一、`, `（一）`, `1、`, `（1）`, one
//! per line and often without a blank line between them. CommonMark knows none
//! of these markers and would merge such lines into one paragraph (soft line
//! breaks), so before parsing, every line that starts with one is set apart by
//! blank lines: it stays a paragraph of its own, its marker text as written.

/// The Chinese numerals a `一、` / `（一）` marker is written with.
const NUMERALS: &str = "零〇一二三四五六七八九十百千";

/// True when `line` (its quote prefix and up to three spaces removed) starts
/// with a CJK list marker.
pub fn has_marker(line: &str) -> bool {
    let (_, rest) = split_prefix(line);
    let rest = match rest.strip_prefix("   ").or_else(|| rest.strip_prefix("  ")) {
        Some(r) => r,
        None => rest.strip_prefix(' ').unwrap_or(rest),
    };
    marker_len(rest).is_some()
}

/// The byte length of the marker `s` starts with, if any.
fn marker_len(s: &str) -> Option<usize> {
    let numeral = |c: char| NUMERALS.contains(c);
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let run = |s: &str, f: &dyn Fn(char) -> bool| -> usize {
        s.chars().take_while(|c| f(*c)).map(char::len_utf8).sum()
    };
    if let Some(inner) = s.strip_prefix('（') {
        for f in [&numeral as &dyn Fn(char) -> bool, &digit] {
            let n = run(inner, f);
            if n > 0 && inner[n..].starts_with('）') {
                return Some('（'.len_utf8() + n + '）'.len_utf8());
            }
        }
        return None;
    }
    for f in [&numeral as &dyn Fn(char) -> bool, &digit] {
        let n = run(s, f);
        if n > 0 && s[n..].starts_with('、') {
            return Some(n + '、'.len_utf8());
        }
    }
    None
}

/// Splits a line into its block-quote prefix (`>`, `> >`, …) and the rest.
fn split_prefix(line: &str) -> (&str, &str) {
    let mut end = 0;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => {
                i += 1;
                end = i;
            }
            b' ' | b'\t' if i < 3 || end > 0 => i += 1,
            _ => break,
        }
    }
    if end == 0 {
        ("", line)
    } else {
        let rest = &line[end..];
        (&line[..end], rest.strip_prefix(' ').unwrap_or(rest))
    }
}

/// Fenced code (```` ``` ```` or `~~~`) opens or closes on this line.
fn is_fence(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    line.len() - t.len() < 4 && (t.starts_with("```") || t.starts_with("~~~"))
}

/// `src` with a blank line (inside the same quote) before and after every
/// line that starts with a CJK list marker; fenced code is left alone.
pub fn separate_marker_lines(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + 64);
    let mut in_fence = false;
    // The quote prefix of a blank line still owed after a marker line.
    let mut blank_after: Option<String> = None;
    // The last line written was blank (or nothing was written yet).
    let mut prev_blank = true;
    for line in src.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let (prefix, rest) = split_prefix(bare);
        let blank = rest.trim().is_empty();
        if is_fence(rest) {
            in_fence = !in_fence;
        }
        if let Some(owed) = blank_after.take() {
            if !blank {
                out.push_str(&owed);
                out.push('\n');
                prev_blank = true;
            }
        }
        if !in_fence && has_marker(bare) {
            if !prev_blank {
                out.push_str(prefix);
                out.push('\n');
            }
            out.push_str(bare);
            out.push('\n');
            blank_after = Some(prefix.to_string());
            prev_blank = false;
        } else {
            out.push_str(line);
            prev_blank = blank;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_as_committees_write_them() {
        for yes in [
            "一、总体",
            "十二、其他",
            "（一）加强",
            "（12）细则",
            "1、第一",
            "23、续",
            "  二、缩进",
            "> 三、引用",
        ] {
            assert!(has_marker(yes), "{yes}");
        }
        for no in [
            "一是加强",
            "1. 列表",
            "(1) 半角",
            "（一加强",
            "、起",
            "    一、代码",
            "第一、",
            "1，",
        ] {
            assert!(!has_marker(no), "{no}");
        }
    }

    #[test]
    fn marker_lines_are_set_apart() {
        assert_eq!(
            separate_marker_lines("前言\n一、甲\n二、乙\n续行"),
            "前言\n\n一、甲\n\n二、乙\n\n续行"
        );
        assert_eq!(
            separate_marker_lines("> 一、甲\n> 二、乙\n"),
            "> 一、甲\n>\n> 二、乙\n"
        );
        assert_eq!(
            separate_marker_lines("```\n一、甲\n二、乙\n```\n"),
            "```\n一、甲\n二、乙\n```\n"
        );
    }
}
