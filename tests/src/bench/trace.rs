//! The B4 editing trace (Martin Kleppmann's automerge-perf LaTeX paper,
//! 259,778 single-character operations), read at run time from the file
//! `cargo xtask bench` names (`XSBENCH_TRACE`, or `bench-data/` in the checkout)
//! and replayed into yrs updates.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use yrs::{GetString, Text, Transact};

/// One patch: `[position, deleted, inserted]`, positions in code points.
#[derive(Debug, Deserialize)]
struct Patch(u32, u32, String);

#[derive(Debug, Deserialize)]
struct Txn {
    patches: Vec<Patch>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TraceFile {
    start_content: String,
    end_content: String,
    txns: Vec<Txn>,
}

/// The trace as yrs updates, one per operation, ready to send.
pub struct Replay {
    /// The v1 update of each operation's own transaction, in order.
    pub updates: Vec<Vec<u8>>,
    /// The text every peer must end with.
    pub final_text: String,
    /// The replaying client's document, holding every operation.
    pub doc: yrs::Doc,
}

/// Reads the trace file (gzip JSON).
fn read(path: &Path) -> Result<TraceFile> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .with_context(|| format!("decompressing {}", path.display()))?;
    let trace: TraceFile = serde_json::from_str(&json).context("parsing the trace")?;
    if !trace.start_content.is_empty() {
        bail!("the trace starts from non-empty content; not supported");
    }
    Ok(trace)
}

/// Replays the first `limit` operations (all when `None`) as client
/// `client_id`, one transaction (and so one update) per operation.
pub fn replay(path: &Path, client_id: u64, limit: Option<usize>) -> Result<Replay> {
    let trace = read(path)?;
    let doc = xieshang_shared::schema::new_doc_with_client_id(client_id);
    let text = doc.get_or_insert_text("body");
    let mut updates = Vec::with_capacity(trace.txns.len());
    let all = limit.is_none();
    'outer: for txn in &trace.txns {
        for Patch(pos, del, ins) in &txn.patches {
            if limit.is_some_and(|l| updates.len() >= l) {
                break 'outer;
            }
            // The trace is ASCII, so code points, UTF-16 units and bytes agree.
            let mut t = doc.transact_mut();
            if *del > 0 {
                text.remove_range(&mut t, *pos, *del);
            }
            if !ins.is_empty() {
                text.insert(&mut t, *pos, ins);
            }
            updates.push(t.encode_update_v1());
        }
    }
    let final_text = text.get_string(&doc.transact());
    if all && final_text != trace.end_content {
        bail!("replaying the trace did not give its endContent");
    }
    Ok(Replay {
        updates,
        final_text,
        doc,
    })
}
