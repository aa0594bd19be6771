//! Turning a textarea's new value into one edit of a `Y.Text` (pure).
//!
//! The browser only tells us the value after an input, not what changed, so
//! the binding compares the old and the new value. Indexes are UTF-16 code
//! units, like the DOM's `selectionStart` and the documents of
//! `xieshang_shared::schema::new_doc`.
//!
//! Not a general diff (`similar`, which `xieshang_shared::diff` uses for the
//! versions view): one input event is one contiguous change (typing, a paste,
//! deleting a selection, an IME commit), so stripping the common prefix and
//! suffix finds it exactly in one linear pass, while a minimal edit script
//! could split it into several Y.Text operations that interleave worse with
//! other members' concurrent typing. It also has to count UTF-16 units, read
//! the caret and never split a surrogate pair, none of which a line/word diff
//! does; and it keeps the diff machinery out of the wasm.

/// One replacement: remove `delete` units at `index`, then insert `insert` there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Splice {
    pub index: u32,
    pub delete: u32,
    pub insert: String,
}

/// The single splice that turns `old` into `new`, or `None` if they are equal.
///
/// `caret` is the caret (UTF-16) after the input. When the change is a plain
/// insertion ending at the caret, or a plain deletion starting at it, that
/// reading wins: typing "a" into "aa" at the start is an insertion at 0, not
/// at 2, which matters when other members edit the same spot concurrently.
/// Otherwise the common prefix and suffix are stripped, never splitting a
/// surrogate pair.
pub fn splice(old: &str, new: &str, caret: Option<u32>) -> Option<Splice> {
    if old == new {
        return None;
    }
    let a: Vec<u16> = old.encode_utf16().collect();
    let b: Vec<u16> = new.encode_utf16().collect();
    if let Some(caret) = caret {
        if let Some(s) = at_caret(&a, &b, caret as usize) {
            return Some(s);
        }
    }
    let mut prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if prefix > 0 && is_high(a.get(prefix - 1)) {
        prefix -= 1;
    }
    let room = a.len().min(b.len()) - prefix;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    if suffix > 0 && is_low(a.get(a.len() - suffix)) {
        suffix -= 1;
    }
    Some(Splice {
        index: prefix as u32,
        delete: (a.len() - prefix - suffix) as u32,
        insert: String::from_utf16_lossy(&b[prefix..b.len() - suffix]),
    })
}

/// The caret-anchored reading of a pure insertion or deletion, if it fits.
fn at_caret(a: &[u16], b: &[u16], caret: usize) -> Option<Splice> {
    if b.len() > a.len() {
        let n = b.len() - a.len();
        let start = caret.checked_sub(n)?;
        let fits = caret <= b.len() && b[..start] == a[..start] && b[caret..] == a[start..];
        let whole = !is_low(b.get(start)) && !is_low(b.get(caret));
        (fits && whole).then(|| Splice {
            index: start as u32,
            delete: 0,
            insert: String::from_utf16_lossy(&b[start..caret]),
        })
    } else {
        let n = a.len() - b.len();
        let fits = caret + n <= a.len() && b[..caret] == a[..caret] && b[caret..] == a[caret + n..];
        let whole = !is_low(a.get(caret)) && !is_low(a.get(caret + n));
        (fits && whole && n > 0).then(|| Splice {
            index: caret as u32,
            delete: n as u32,
            insert: String::new(),
        })
    }
}

fn is_high(unit: Option<&u16>) -> bool {
    unit.is_some_and(|u| (0xD800..0xDC00).contains(u))
}

fn is_low(unit: Option<&u16>) -> bool {
    unit.is_some_and(|u| (0xDC00..0xE000).contains(u))
}

/// Applies `s` to `text` (UTF-16 indexes), as the `Y.Text` will.
#[cfg(test)]
pub fn apply(text: &str, s: &Splice) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let start = (s.index as usize).min(units.len());
    let end = (start + s.delete as usize).min(units.len());
    let mut out = String::from_utf16_lossy(&units[..start]);
    out.push_str(&s.insert);
    out.push_str(&String::from_utf16_lossy(&units[end..]));
    out
}

/// The (line, column) of a UTF-16 index, both counted from 1, as shown
/// beside a member's name in the presence list.
pub fn line_col(text: &str, index: u32) -> (u32, u32) {
    let (mut line, mut col, mut at) = (1, 1, 0u32);
    for c in text.chars() {
        if at >= index {
            break;
        }
        at += c.len_utf16() as u32;
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

/// Splits `text` at UTF-16 `index` (clamped, never inside a character).
pub fn split_utf16(text: &str, index: u32) -> (&str, &str) {
    let mut at = 0u32;
    for (byte, c) in text.char_indices() {
        if at >= index {
            return text.split_at(byte);
        }
        at += c.len_utf16() as u32;
    }
    (text, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    // Run in the browser by `cargo xtask test` (wasm-bindgen-test).
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(old: &str, new: &str, caret: Option<u32>) -> Splice {
        let s = splice(old, new, caret).unwrap_or(Splice {
            index: 0,
            delete: 0,
            insert: String::new(),
        });
        assert_eq!(apply(old, &s), new, "{old:?} -> {new:?} via {s:?}");
        s
    }

    #[test]
    fn equal_values_need_no_edit() {
        assert_eq!(splice("协商", "协商", Some(1)), None);
    }

    #[test]
    fn insertions_and_deletions() {
        let s = check("建议稿", "建议初稿", Some(3));
        assert_eq!((s.index, s.delete, s.insert.as_str()), (2, 0, "初"));
        let s = check("建议初稿", "建议稿", Some(2));
        assert_eq!((s.index, s.delete, s.insert.as_str()), (2, 1, ""));
        let s = check("abc", "aXc", None);
        assert_eq!((s.index, s.delete, s.insert.as_str()), (1, 1, "X"));
    }

    #[test]
    fn the_caret_decides_among_equal_readings() {
        let s = check("aa", "aaa", Some(1));
        assert_eq!((s.index, s.delete), (0, 0));
        let s = check("aa", "aaa", None);
        assert_eq!(s.index, 2);
        let s = check("aaa", "aa", Some(0));
        assert_eq!((s.index, s.delete), (0, 1));
        // A caret that does not fit falls back to prefix and suffix.
        check("abc", "abXc", Some(0));
    }

    #[test]
    fn surrogate_pairs_stay_whole() {
        // U+1F600 and U+1F601 share their high surrogate.
        let s = check("x\u{1F600}y", "x\u{1F601}y", None);
        assert_eq!((s.index, s.delete), (1, 2));
        check("\u{1F600}", "\u{1F600}\u{1F600}", Some(4));
        check("\u{1F600}\u{1F600}", "\u{1F600}", Some(2));
    }

    #[test]
    fn lines_columns_and_splits() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
        assert_eq!(split_utf16("协商x", 2), ("协商", "x"));
        assert_eq!(split_utf16("a\u{1F600}b", 3), ("a\u{1F600}", "b"));
        assert_eq!(split_utf16("ab", 9), ("ab", ""));
    }
}
