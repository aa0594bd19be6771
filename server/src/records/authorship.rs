//! Who wrote what: the yrs client id behind every character of a text.
//!
//! Every character of a `Y.Text` lives in an item whose id names the yrs client
//! that inserted it; the server records which signed-in user each client id
//! belongs to (`doc_authors`). yrs keeps items private, but
//! `Text::diff_range` with the document's own snapshot as "after" and an empty
//! snapshot as "before" reports every visible item as *added*, one chunk per
//! item, with the item's id: exactly the walk we need, through public API.

use std::collections::BTreeMap;

use xieshang_shared::schema::{Draft, OpinionReport, Record};
use xieshang_shared::DocKind;
use yrs::types::text::YChange;
use yrs::{Doc, Out, ReadTxn, Snapshot, Text, TextRef, Transact};

/// One paragraph (a run of non-blank lines) and how many characters of it each
/// client id wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// 1-based position among the text's paragraphs.
    pub index: usize,
    pub text: String,
    /// Characters (not counting line breaks) per client id, most first.
    pub clients: Vec<(u64, usize)>,
}

/// The attributed text of `doc` as `kind`: the draft or report body, the record summary.
pub fn text_of(kind: DocKind, doc: &Doc) -> TextRef {
    match kind {
        DocKind::Draft => Draft::new(doc).body_ref(),
        DocKind::Record => Record::new(doc).summary_ref(),
        DocKind::OpinionReport => OpinionReport::new(doc).body_ref(),
    }
}

/// Each character of `text` with the client id that inserted it.
pub fn chars_with_clients(doc: &Doc, text: &TextRef) -> Vec<(char, u64)> {
    let mut txn = doc.transact_mut();
    let now = txn.snapshot();
    let chunks = text.diff_range(
        &mut txn,
        Some(&now),
        Some(&Snapshot::default()),
        YChange::identity,
    );
    let mut out = Vec::new();
    for chunk in chunks {
        let Out::Any(yrs::Any::String(s)) = &chunk.insert else {
            continue; // embeds carry no characters
        };
        let client = chunk.ychange.map(|c| c.id.client.get()).unwrap_or(0);
        out.extend(s.chars().map(|c| (c, client)));
    }
    out
}

/// Splits attributed characters into paragraphs (separated by blank lines).
pub fn paragraphs(chars: &[(char, u64)]) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    let mut line_blank = true;
    let mut flush = |text: &mut String, counts: &mut BTreeMap<u64, usize>| {
        let trimmed = text.trim_end_matches('\n');
        if !trimmed.trim().is_empty() {
            let mut clients: Vec<(u64, usize)> = counts.iter().map(|(c, n)| (*c, *n)).collect();
            clients.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            out.push(Paragraph {
                index: out.len() + 1,
                text: trimmed.to_string(),
                clients,
            });
        }
        text.clear();
        counts.clear();
    };
    for &(c, client) in chars {
        if c == '\n' {
            if line_blank {
                flush(&mut text, &mut counts); // a blank line ends the paragraph
            } else {
                text.push('\n');
            }
            line_blank = true;
            continue;
        }
        if !c.is_whitespace() {
            line_blank = false;
        }
        text.push(c);
        *counts.entry(client).or_default() += 1;
    }
    flush(&mut text, &mut counts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use xieshang_shared::schema;
    use xieshang_shared::sync::{apply_update_bytes, encode_state};

    #[test]
    fn paragraphs_belong_to_their_writers() {
        let a = schema::new_doc_with_client_id(11);
        let b = schema::new_doc_with_client_id(22);
        Draft::new(&a).insert_body(0, "甲写的第一段");
        apply_update_bytes(&b, &encode_state(&a)).unwrap();
        let body = Draft::new(&b);
        let end = body.body().encode_utf16().count() as u32;
        body.insert_body(end, "\n\n乙写的第二段\n第二行");
        let chars = chars_with_clients(&b, &text_of(DocKind::Draft, &b));
        let p = paragraphs(&chars);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].text, "甲写的第一段");
        assert_eq!(p[0].clients, vec![(11, 6)]);
        assert_eq!(p[1].text, "乙写的第二段\n第二行");
        assert_eq!(p[1].clients, vec![(22, 9)]);
    }
}
