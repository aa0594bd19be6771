//! A line diff of two canonical texts (longest common subsequence).
//!
//! Written here rather than pulled in: the texts are a few hundred lines at
//! most, an LCS table over them is small, and the same operations drive both
//! the diff view and [`super::restore`] (which replays them as text edits, so
//! unchanged lines keep their authors). Past [`MAX_CELLS`] the middle that
//! differs is replaced whole, which is still a correct diff, only a coarser one.

use serde::Serialize;

/// Largest LCS table (lines × lines) computed; beyond it the diff is coarse.
const MAX_CELLS: usize = 4_000_000;

/// What happens to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equal,
    Delete,
    Insert,
}

/// One line of a diff; `text` keeps its trailing `\n` (absent on a last line
/// without one), so concatenating the `equal`+`insert` lines gives the new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub op: Op,
    pub text: String,
}

/// The line diff that turns `from` into `to`.
pub fn line_diff(from: &str, to: &str) -> Vec<Line> {
    let a: Vec<&str> = from.split_inclusive('\n').collect();
    let b: Vec<&str> = to.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<Line> = a[..prefix].iter().map(|l| line(Op::Equal, l)).collect();
    if mid_a.len().saturating_mul(mid_b.len()) > MAX_CELLS {
        out.extend(mid_a.iter().map(|l| line(Op::Delete, l)));
        out.extend(mid_b.iter().map(|l| line(Op::Insert, l)));
    } else {
        out.extend(lcs(mid_a, mid_b));
    }
    out.extend(a[a.len() - suffix..].iter().map(|l| line(Op::Equal, l)));
    out
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

fn line(op: Op, text: &str) -> Line {
    Line {
        op,
        text: text.to_string(),
    }
}

/// Classic dynamic-programming LCS, then a walk that prefers deletions first.
fn lcs(a: &[&str], b: &[&str]) -> Vec<Line> {
    let (n, m) = (a.len(), b.len());
    // table[i][j] = LCS length of a[i..] and b[j..]
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] = if a[i] == b[j] {
                table[at(i + 1, j + 1)] + 1
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n + m);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(line(Op::Equal, a[i]));
            i += 1;
            j += 1;
        } else if table[at(i + 1, j)] >= table[at(i, j + 1)] {
            out.push(line(Op::Delete, a[i]));
            i += 1;
        } else {
            out.push(line(Op::Insert, b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| line(Op::Delete, l)));
    out.extend(b[j..].iter().map(|l| line(Op::Insert, l)));
    out
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
        ];
        for (from, to) in cases {
            let d = line_diff(from, to);
            assert_eq!(rebuild(&d, Op::Delete), from);
            assert_eq!(rebuild(&d, Op::Insert), to);
            assert_eq!(is_change(&d), from != to);
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
    }
}
