//! The fuzz corpus and every crash the fuzzer ever found, replayed on stable
//! Rust through the same function the fuzz target runs
//! (`xieshang_server::fuzzing::exercise`), so `cargo xtask test` catches a
//! regression without nightly. Long runs: `cargo xtask fuzz` (fuzz/README.md).

use std::path::{Path, PathBuf};

use xieshang_server::fuzzing::{self, seeds};
use xieshang_shared::protocol::{Message, SyncMessage};
use xieshang_shared::{schema, sync};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file under `dir` (sorted), with its name.
fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The y-sync update inside the regression input `name` (a SyncStep2 or Update).
fn regression_update(name: &str) -> Vec<u8> {
    let data = std::fs::read(fuzz_dir().join("regressions/decode_apply").join(name)).unwrap();
    match Message::decode(&data) {
        Ok(Message::Sync(SyncMessage::Step2(u) | SyncMessage::Update(u))) => u,
        other => panic!("{name}: not a sync message with an update: {other:?}"),
    }
}

/// Asserts that `doc` reads, as every kind, the same as a fresh document made
/// from its own encoding (what compaction and a reload would give).
fn assert_round_trip(doc: &yrs::Doc, seed: &str) {
    let again = schema::new_doc_with_client_id(3);
    sync::apply_update_bytes(&again, &sync::encode_state(doc)).unwrap();
    for kind in xieshang_shared::DocKind::ALL {
        assert_eq!(
            schema::content(*kind, &again),
            schema::content(*kind, doc),
            "{seed}: reads differently after a round trip ({kind:?})"
        );
    }
}

/// How long one input may take: a hang (yrs looping forever on an input, as
/// `yrs-hang-string-in-array-root.bin` did) fails the test instead of stalling CI.
const PER_INPUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `fuzzing::exercise` on `data` on a thread of its own; panics with the
/// input's name if it does not finish within [`PER_INPUT`] (the process exits,
/// taking the stuck thread with it, when the tests end).
fn exercise_within_limit(name: &str, data: Vec<u8>) {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        fuzzing::exercise(&data);
        let _ = done.send(());
    });
    match finished.recv_timeout(PER_INPUT) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: still running after {PER_INPUT:?} (a hang)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{name}: the exercise panicked (see above)")
        }
    }
}

#[test]
fn every_crash_the_fuzzer_found_stays_fixed() {
    let crashes = inputs(&fuzz_dir().join("regressions/decode_apply"));
    assert!(
        !crashes.is_empty(),
        "fuzz/regressions/decode_apply is empty"
    );
    for (name, data) in crashes {
        eprintln!("regression {name} ({} bytes)", data.len());
        exercise_within_limit(&name, data);
    }
}

#[test]
fn the_committed_corpus_runs_clean() {
    let corpus = inputs(&fuzz_dir().join("corpus/decode_apply"));
    assert!(
        corpus.len() >= 20,
        "fuzz/corpus/decode_apply has only {} inputs",
        corpus.len()
    );
    for (name, data) in corpus {
        exercise_within_limit(&name, data);
    }
}

/// The 16-byte update that made yrs 0.28.1 free an item a root map still held
/// (two sections for one client, the second below the first): refused, and the
/// document reads exactly as before. Unpatched yrs dies here with SIGSEGV (or an
/// AddressSanitizer report), which fails this test binary.
#[test]
fn overlapping_client_sections_are_refused_and_the_document_is_intact() {
    let update = regression_update("yrs-uaf-overlapping-client-sections.bin");
    assert_eq!(update.len(), 16);
    for seed in seeds() {
        let doc = schema::new_doc_with_client_id(2);
        sync::apply_update_bytes(&doc, &seed.state).unwrap();
        let before = schema::content(seed.kind, &doc);
        let result = sync::apply_update_bytes(&doc, &update);
        assert!(result.is_err(), "{}: the update was accepted", seed.name);
        assert_eq!(schema::content(seed.kind, &doc), before, "{}", seed.name);
        // Every root map iterates (the read that touched freed memory).
        for kind in xieshang_shared::DocKind::ALL {
            let _ = schema::content(*kind, &doc);
        }
        let fresh = schema::new_doc_with_client_id(2);
        sync::apply_update_bytes(&fresh, &seed.state).unwrap();
        assert_eq!(
            sync::encode_state(&doc),
            sync::encode_state(&fresh),
            "{}",
            seed.name
        );
    }
}

/// The 34-byte update after which yrs's GC freed the map of a record entry
/// (patch 0003): a string whose left neighbour has no key took its right
/// neighbour's (`speaker`), leaving the old `speaker` item unreachable and
/// alive under a map the GC then freed. Without its delete set the update
/// shows the theft itself, which needs no sanitizer to see: the entry's
/// speaker became the string. Now the string keeps its own (no) key, so no
/// seed reads differently, and with the delete set the document encodes and
/// reads the same after a round trip.
#[test]
fn an_unkeyed_item_never_takes_its_neighbours_key() {
    let update = regression_update("yrs-uaf-gc-frees-parent-of-unlinked-item.bin");
    assert_eq!(update.len(), 34);
    // The delete set is the last 9 bytes: 2 clients, (1: clock 1, len 1), (7: clock 0, len 1).
    let (blocks, delete_set) = update.split_at(25);
    assert_eq!(delete_set, [2, 1, 1, 1, 1, 7, 1, 0, 1]);
    let no_deletes = [blocks, &[0]].concat();
    for seed in seeds() {
        let doc = schema::new_doc_with_client_id(2);
        sync::apply_update_bytes(&doc, &seed.state).unwrap();
        let before = schema::content(seed.kind, &doc);
        if sync::apply_update_bytes(&doc, &no_deletes).is_ok() {
            assert_eq!(
                schema::content(seed.kind, &doc),
                before,
                "{}: an entry changed under an item that is not in it",
                seed.name
            );
        }

        let doc = schema::new_doc_with_client_id(2);
        sync::apply_update_bytes(&doc, &seed.state).unwrap();
        if sync::apply_update_bytes(&doc, &update).is_err() {
            continue; // refused on this seed: nothing to read back
        }
        assert_round_trip(&doc, seed.name);
    }
}

/// The SyncStep2 that made a document read one way in memory and another once
/// encoded and decoded (the record's entry vanished), which the compaction
/// check had to catch: the same root cause as patch 0003 (its first block sat
/// between an entry map's unkeyed list and its `speaker` entry and took the
/// key). With 0003 every seed reads the same after a round trip; without it
/// the record seed does not (seen failing with 0003 reverted).
#[test]
fn a_document_reads_the_same_after_a_round_trip_through_its_encoding() {
    let update = regression_update("snapshot-reads-differently.bin");
    for seed in seeds() {
        let doc = schema::new_doc_with_client_id(2);
        sync::apply_update_bytes(&doc, &seed.state).unwrap();
        if sync::apply_update_bytes(&doc, &update).is_err() {
            continue;
        }
        assert_round_trip(&doc, seed.name);
    }
}
