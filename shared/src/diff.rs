//! The line diff of two texts, with the changed words inside changed lines:
//! what the versions view shows and what restoring a version replays as text
//! edits (so unchanged lines keep their items, and their authors).
//!
//! Computed by the `similar` crate (Myers' algorithm); here only the shape the
//! API has always returned is built from it. In shared so that the server and
//! the client read one definition.

use serde::{Deserialize, Serialize};
use similar::{Algorithm, ChangeTag, DiffOp, TextDiff};

/// How long the server may search for the smallest diff before settling for a
/// coarser one (still correct: it rebuilds both texts). Only off wasm32, where
/// `std::time::Instant` exists; a browser always searches to the end.
#[cfg(not(target_arch = "wasm32"))]
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// What happens to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// In both texts.
    Equal,
    /// Only in the old text.
    Delete,
    /// Only in the new text.
    Insert,
}

/// One line of a diff; `text` keeps its trailing `\n` (absent on a last line
/// without one), so concatenating the `equal`+`insert` lines gives the new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Whether the line stays, goes or comes.
    pub op: Op,
    /// The whole line.
    pub text: String,
    /// For a deleted or inserted line that replaces a similar one: `text` cut
    /// into pieces, `changed` on the words that differ from the other side, so
    /// a viewer can mark the words and not only the line. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<Words>>,
}

/// A run of a changed line's text, all changed or all unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Words {
    /// Whether this run differs from the line it replaces (or is replaced by).
    pub changed: bool,
    /// The run's text; the runs of a line concatenate to its `text`.
    pub text: String,
}

/// The line diff that turns `from` into `to`: within a changed stretch, the
/// deleted lines come before the inserted ones.
pub fn line_diff(from: &str, to: &str) -> Vec<Line> {
    let mut config = TextDiff::configure();
    config.algorithm(Algorithm::Myers);
    #[cfg(not(target_arch = "wasm32"))]
    config.timeout(DEADLINE);
    let diff = config.diff_lines(from, to);
    let mut out = Vec::new();
    for op in diff.ops() {
        if matches!(op, DiffOp::Replace { .. }) {
            out.extend(diff.iter_inline_changes(op).map(|change| {
                let mut words: Vec<Words> = Vec::new();
                for (changed, piece) in change.iter_strings_lossy() {
                    match words.last_mut() {
                        Some(last) if last.changed == changed => last.text.push_str(&piece),
                        _ => words.push(Words {
                            changed,
                            text: piece.into_owned(),
                        }),
                    }
                }
                let text = words.iter().map(|w| w.text.as_str()).collect();
                let marked = words.iter().any(|w| w.changed);
                Line {
                    op: op_of(change.tag()),
                    text,
                    words: marked.then_some(words),
                }
            }));
        } else {
            out.extend(diff.iter_changes(op).map(|change| Line {
                op: op_of(change.tag()),
                text: change.value().to_owned(),
                words: None,
            }));
        }
    }
    out
}

fn op_of(tag: ChangeTag) -> Op {
    match tag {
        ChangeTag::Equal => Op::Equal,
        ChangeTag::Delete => Op::Delete,
        ChangeTag::Insert => Op::Insert,
    }
}

/// A unified-style rendering: `  `, `- `, `+ ` before each line.
pub fn unified(lines: &[Line]) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(match l.op {
            Op::Equal => "  ",
            Op::Delete => "- ",
            Op::Insert => "+ ",
        });
        out.push_str(&l.text);
        if !l.text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Whether the diff changes anything.
pub fn is_change(lines: &[Line]) -> bool {
    lines.iter().any(|l| l.op != Op::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuild(lines: &[Line], op: Op) -> String {
        lines
            .iter()
            .filter(|l| l.op == Op::Equal || l.op == op)
            .map(|l| l.text.as_str())
            .collect()
    }

    #[test]
    fn diff_rebuilds_both_sides() {
        let cases = [
            ("", ""),
            ("a\nb\nc", "a\nc"),
            ("# 标题\n\n第一段\n", "# 标题\n\n第一段改\n\n新段落"),
            ("x", "y"),
            ("a\nb\n", ""),
            ("", "新\n"),
            ("one two three\nfour\n", "one 2 three\nfour\nfive"),
        ];
        for (from, to) in cases {
            let d = line_diff(from, to);
            assert_eq!(rebuild(&d, Op::Delete), from);
            assert_eq!(rebuild(&d, Op::Insert), to);
            assert_eq!(is_change(&d), from != to);
            for line in &d {
                if let Some(words) = &line.words {
                    let joined: String = words.iter().map(|w| w.text.as_str()).collect();
                    assert_eq!(joined, line.text);
                    assert_ne!(line.op, Op::Equal);
                }
            }
        }
    }

    #[test]
    fn unchanged_lines_stay_equal() {
        let d = line_diff("a\nb\nc\nd\n", "a\nc\nd\ne\n");
        let ops: Vec<Op> = d.iter().map(|l| l.op).collect();
        assert_eq!(
            ops,
            [Op::Equal, Op::Delete, Op::Equal, Op::Equal, Op::Insert]
        );
        assert_eq!(unified(&d), "  a\n- b\n  c\n  d\n+ e\n");
        assert!(d.iter().all(|l| l.words.is_none()), "no line replaced");
    }

    #[test]
    fn changed_words_are_marked() {
        let d = line_diff("标题\n会议 在 周一 召开\n", "标题\n会议 在 周二 召开\n");
        let ops: Vec<Op> = d.iter().map(|l| l.op).collect();
        assert_eq!(ops, [Op::Equal, Op::Delete, Op::Insert]);
        let changed = |line: &Line| -> String {
            line.words
                .iter()
                .flatten()
                .filter(|w| w.changed)
                .map(|w| w.text.as_str())
                .collect()
        };
        assert_eq!(changed(&d[1]), "一");
        assert_eq!(changed(&d[2]), "二");
        let json = serde_json::to_value(&d[0]).unwrap();
        assert_eq!(json, serde_json::json!({ "op": "equal", "text": "标题\n" }));
    }
}
