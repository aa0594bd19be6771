//! Text positions and markers.
//!
//! Documents count positions in UTF-16 code units (what JavaScript strings do,
//! and what `schema::new_doc` sets), so tests convert from Rust `char`s here.
//! Tests that must prove "nothing was lost" insert *markers*: short unique strings
//! like `[A17]` placed only at marker boundaries, so no edit ever splits one and
//! each marker must appear exactly once in the merged text.

use anyhow::{bail, Result};

/// Length of `s` in UTF-16 code units.
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// The UTF-16 offset of the `char_idx`-th character of `s` (clamped to the end).
pub fn utf16_offset(s: &str, char_idx: usize) -> u32 {
    s.chars().take(char_idx).map(|c| c.len_utf16() as u32).sum()
}

/// UTF-16 offsets where a new marker can go without splitting another one:
/// the start, and right after every closing `]`.
pub fn marker_boundaries(s: &str) -> Vec<u32> {
    let mut out = vec![0];
    let mut pos = 0u32;
    for c in s.chars() {
        pos += c.len_utf16() as u32;
        if c == ']' {
            out.push(pos);
        }
    }
    out
}

/// Where `needle` starts in `haystack`, as a UTF-16 offset.
pub fn find_utf16(haystack: &str, needle: &str) -> Option<u32> {
    haystack
        .find(needle)
        .map(|byte| utf16_len(&haystack[..byte]))
}

/// How often `needle` occurs in `haystack` (non-overlapping).
pub fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Checks that every marker in `present` occurs exactly once and every marker in
/// `absent` not at all; the error lists every problem, not just the first.
pub fn check_markers<'a>(
    text: &str,
    present: impl IntoIterator<Item = &'a String>,
    absent: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    let mut problems = Vec::new();
    for m in present {
        let n = occurrences(text, m);
        if n != 1 {
            problems.push(format!("{m} occurs {n} times, expected once"));
        }
    }
    for m in absent {
        let n = occurrences(text, m);
        if n != 0 {
            problems.push(format!("{m} occurs {n} times, expected deleted"));
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} marker problems: {}\ntext: {text:?}",
            problems.len(),
            problems.join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_utf16_units() {
        let s = "a😀[x]中";
        assert_eq!(utf16_len(s), 7);
        assert_eq!(utf16_offset(s, 2), 3);
        assert_eq!(marker_boundaries(s), vec![0, 6]);
        assert_eq!(find_utf16(s, "中"), Some(6));
    }
}
