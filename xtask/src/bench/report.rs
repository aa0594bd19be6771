//! Collecting the driver's `RESULT` / `NOTE` lines, the comparison table, and
//! the two sections of BENCHMARKS.md this bench owns (other sections are kept).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::sh;

/// One figure across servers.
struct Figure {
    key: String,
    unit: String,
    lower_is_better: bool,
    values: BTreeMap<String, f64>,
}

/// Everything the driver reported, in the order it was reported.
#[derive(Default)]
pub struct Results {
    figures: Vec<Figure>,
    /// `(server, workload, text)`
    notes: Vec<(String, String, String)>,
}

impl Results {
    /// Takes one line of driver output; answers whether it was a result line.
    pub fn take_line(&mut self, server: &str, workload: &str, line: &str) -> bool {
        let parts: Vec<&str> = line.split('\t').collect();
        match parts.as_slice() {
            ["RESULT", key, value, unit, better] => {
                let value = value.parse().unwrap_or(f64::NAN);
                let figure = match self.figures.iter_mut().position(|f| f.key == *key) {
                    Some(i) => &mut self.figures[i],
                    None => {
                        self.figures.push(Figure {
                            key: key.to_string(),
                            unit: unit.to_string(),
                            lower_is_better: *better == "lower",
                            values: BTreeMap::new(),
                        });
                        let last = self.figures.len() - 1;
                        &mut self.figures[last]
                    }
                };
                figure.values.insert(server.to_string(), value);
                true
            }
            ["NOTE", text] => {
                self.note(server, workload, text);
                true
            }
            _ => false,
        }
    }

    /// A caveat for the table (deduplicated).
    pub fn note(&mut self, server: &str, workload: &str, text: &str) {
        let n = (server.to_string(), workload.to_string(), text.to_string());
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    /// A markdown table of the figures whose key starts with one of `prefixes`.
    pub fn table(&self, prefixes: &[&str], servers: &[&str]) -> String {
        let mut out = String::from("| figure |");
        for s in servers {
            out.push_str(&format!(" {s} |"));
        }
        out.push_str(" xieshang vs best peer |\n|---|");
        for _ in servers {
            out.push_str("---:|");
        }
        out.push_str("---:|\n");
        for f in self
            .figures
            .iter()
            .filter(|f| prefixes.iter().any(|p| f.key.starts_with(p)))
        {
            out.push_str(&format!("| {} ({}) |", label(&f.key), f.unit));
            for s in servers {
                let cell = match f.values.get(*s) {
                    Some(v) if v.is_nan() && f.key.starts_with("w3") => {
                        "text incomplete".to_string()
                    }
                    Some(v) => fmt(*v),
                    None if f.key.starts_with("w5") => "n/a".to_string(),
                    None => "–".to_string(),
                };
                out.push_str(&format!(" {cell} |"));
            }
            out.push_str(&format!(" {} |\n", ratio(f)));
        }
        out
    }

    /// The notes made while running `workloads`, as a markdown list.
    pub fn notes_md(&self, workloads: &[&str]) -> String {
        let mut out = String::new();
        for (server, workload, text) in &self.notes {
            if workloads.contains(&workload.as_str()) {
                out.push_str(&format!("- {server}: {text}\n"));
            }
        }
        out
    }
}

/// "×N": how many times better xieshang is than the best peer (above 1: better).
fn ratio(f: &Figure) -> String {
    let Some(&xs) = f.values.get("xieshang") else {
        return "–".into();
    };
    if f.key.ends_with("_cuts") {
        return "–".into(); // how often the link was cut: a condition, not a score
    }
    let peers: Vec<f64> = f
        .values
        .iter()
        .filter(|(s, v)| s.as_str() != "xieshang" && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    if peers.is_empty() {
        return if f.key.starts_with("w5") {
            "peers: no durability acks".into()
        } else {
            "–".into()
        };
    }
    if !xs.is_finite() {
        return "xieshang did not finish".into();
    }
    let (best, factor) = if f.lower_is_better {
        let best = peers.iter().copied().fold(f64::INFINITY, f64::min);
        (best, best / xs)
    } else {
        let best = peers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (best, xs / best)
    };
    if best == xs {
        return "equal".into();
    }
    if !factor.is_finite() || factor == 0.0 {
        return if (f.lower_is_better && xs == 0.0) || (!f.lower_is_better && best == 0.0) {
            "better (peer 0 / xieshang 0)".into()
        } else {
            "worse".into()
        };
    }
    format!("{factor:.2}×")
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        return "did not finish".into();
    }
    let a = v.abs();
    if a >= 10_000.0 {
        let s = format!("{:.0}", v);
        // thousands separators
        let (sign, digits) = s.split_at(if v < 0.0 { 1 } else { 0 });
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A readable name for a figure key.
fn label(key: &str) -> String {
    let l = match key {
        "w2_secs" => "W2 B4 trace replay: time until a 2nd client holds the final text",
        "w2_ops_per_sec" => "W2 B4 trace replay: throughput",
        "w2_writer_done_secs" => "W2: time for the writer to hand all updates to the socket",
        "w3_cold_ms" => "W3 cold load after restart: connect → synced",
        "w3_warm_ms" => "W3 warm load (median of 5 more clients)",
        "w4_kb_per_conn" => "W4 1,000 idle clients / 100 docs: RSS per connection",
        "w4_rss_idle_mb" => "W4 RSS before the clients",
        "w4_rss_loaded_mb" => "W4 RSS with 1,000 clients",
        "w5_acked_per_sec" => "W5 durable (fsynced, acknowledged) updates",
        "w6_ms" => "W6 reconnect with 10,000 offline ops: time until a 2nd client has them",
        "w6_bytes_sent" => "W6 bytes sent by the returning client",
        "w6_bytes_received" => "W6 bytes received by the returning client",
        "w6_minimal_update_bytes" => "W6 size of the minimal update",
        "w6_sent_over_minimal" => "W6 bytes sent ÷ minimal update",
        "net_resync_secs" => {
            "500 pending edits, 64 kbit/s, 600 ms RTT, y-websocket resync: time to sync"
        }
        "net_resync_bytes_up" => "  … bytes sent over the link",
        "net_outbox_secs" => "500 pending edits, one message each (outbox replay): time to sync",
        "net_outbox_bytes_up" => "  … bytes sent over the link",
        "net_cuts_secs" => {
            "200 edits typed at 20/s over the same link, cut every 1–3 s: time until all arrived"
        }
        "net_cuts_bytes_up" => "  … bytes sent over the link",
        "net_cuts_cuts" => "  … connections cut",
        "net_cuts_missing" => "  … edits missing at the end",
        "net_cuts_duplicated" => "  … edits duplicated at the end",
        _ => "",
    };
    if !l.is_empty() {
        return l.to_string();
    }
    // w1_<clients>_<stat>
    let parts: Vec<&str> = key.split('_').collect();
    if parts.len() >= 3 && parts[0] == "w1" {
        let stat = parts[2..].join(" ").replace(" ms", "");
        if stat == "undelivered" {
            return format!(
                "W1 fan-out, {} clients: updates not received by all",
                parts[1]
            );
        }
        return format!(
            "W1 fan-out, {} clients: {stat} latency send → received by all",
            parts[1]
        );
    }
    key.to_string()
}

/// Date, machine and versions: the header of each section.
pub fn environment(versions: &[(String, String)], command: &str) -> String {
    let date =
        sh::probe(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut out = format!(
        "- date: {}\n- machine: {cpu}, {cores} cores (nproc), {:.1} GiB memory\n- command: `{command}`\n",
        date.trim(),
        mem_kb as f64 / (1024.0 * 1024.0)
    );
    for (server, v) in versions {
        out.push_str(&format!("- {server}: {v}\n"));
    }
    out
}

/// A hand-written sub-section (`### ` + this) inside one of our sections that
/// a rerun keeps: what the profiles showed is prose, not a regenerated table.
pub const KEPT: &str = "### Profile";

/// Rewrites the section under `heading` (a `## ` line) in `path`, or appends it;
/// every other section stays as it was, and so does a `### Profile…`
/// sub-section at the end of this one.
pub fn write_section(path: &Path, heading: &str, body: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".to_string());
    let lines: Vec<&str> = old.lines().collect();
    let start = lines.iter().position(|l| l.trim_end() == heading);
    let mut out = String::new();
    match start {
        Some(s) => {
            let end = lines[s + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(lines.len(), |i| s + 1 + i);
            let kept = lines[s + 1..end]
                .iter()
                .position(|l| l.starts_with(KEPT))
                .map(|i| lines[s + 1 + i..end].join("\n"));
            for l in &lines[..s] {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(heading);
            out.push_str("\n\n");
            out.push_str(body.trim_end());
            out.push_str("\n\n");
            if let Some(kept) = kept {
                out.push_str(kept.trim_end());
                out.push_str("\n\n");
            }
            for l in &lines[end..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        None => {
            out.push_str(old.trim_end());
            out.push_str("\n\n");
            out.push_str(heading);
            out.push_str("\n\n");
            out.push_str(body.trim_end());
            out.push('\n');
        }
    }
    let out = out.trim_end().to_string() + "\n";
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
