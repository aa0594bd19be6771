//! Tests of the contained decode/apply path and of the structural guard.

use super::*;
use crate::protocol::write_var_uint;
use crate::schema::{new_doc, new_doc_with_client_id};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use yrs::types::Attrs;
use yrs::{
    Any, Array, ArrayPrelim, GetString, Map, MapPrelim, Text, TextPrelim, XmlElementPrelim,
    XmlFragment, XmlTextPrelim,
};

/// A document touching every content kind yrs produces, including deletions.
fn rich_doc() -> Doc {
    let doc = new_doc_with_client_id(7);
    let text = doc.get_or_insert_text("body");
    let map = doc.get_or_insert_map("meta");
    let array = doc.get_or_insert_array("comments");
    let xml = doc.get_or_insert_xml_fragment("xml");
    {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "Hello 协商 😀 world");
        let bold: Attrs = HashMap::from([(Arc::from("bold"), Any::Bool(true))]);
        text.format(&mut txn, 0, 5, bold);
        text.insert_embed(
            &mut txn,
            3,
            Any::from(HashMap::from([("img".to_owned(), Any::from("x"))])),
        );
        text.remove_range(&mut txn, 6, 2);
        map.insert(&mut txn, "title", "建议稿");
        map.insert(&mut txn, "n", 42i64);
        map.insert(&mut txn, "f", 1.5f64);
        map.insert(
            &mut txn,
            "big",
            Any::Number(yrs::Number::Int((1 << 60) + 1)),
        );
        map.insert(&mut txn, "bin", Any::Buffer(Arc::from(&[1u8, 2, 3][..])));
        map.insert(&mut txn, "null", Any::Null);
        let nested: Any =
            serde_json::from_str::<serde_json::Value>(r#"{"a":[1,{"b":[true,null,"s"]}]}"#)
                .map(|v| Any::from_json(&v.to_string()).unwrap_or(Any::Null))
                .unwrap_or(Any::Null);
        map.insert(&mut txn, "nested", nested);
        let inner = map.insert(&mut txn, "inner", MapPrelim::default());
        inner.insert(&mut txn, "k", "v");
        map.insert(&mut txn, "gone", "x");
        map.remove(&mut txn, "gone");
        let entry = array.push_back(&mut txn, MapPrelim::default());
        entry.insert(&mut txn, "speaker", "李委员");
        array.push_back(&mut txn, TextPrelim::new("inline text"));
        array.push_back(&mut txn, ArrayPrelim::default());
        array.insert_range(&mut txn, 0, [1, 2, 3]);
        array.remove_range(&mut txn, 1, 1);
        let el = xml.push_back(&mut txn, XmlElementPrelim::empty("p"));
        el.push_back(&mut txn, XmlTextPrelim::new("para"));
    }
    doc
}

#[test]
fn guard_accepts_everything_yrs_produces() {
    let doc = rich_doc();
    let full = encode_state(&doc);
    check_update(&full).expect("full state passes the guard");
    let copy = new_doc();
    apply_update_bytes(&copy, &full).expect("applies");
    assert_eq!(
        copy.get_or_insert_text("body").get_string(&copy.transact()),
        doc.get_or_insert_text("body").get_string(&doc.transact())
    );
    // Incremental updates, state vectors and diffs too.
    let sv_bytes = state_vector(&doc);
    let sv = decode_state_vector(&sv_bytes).expect("state vector");
    assert!(diff_since(&doc, &sv).len() < full.len());
    assert_eq!(encode_state(&copy).len(), full.len());
    let empty = encode_state(&new_doc());
    check_update(&empty).expect("empty update");
    decode_state_vector(&state_vector(&new_doc())).expect("empty sv");
}

#[test]
fn subdocuments_are_refused() {
    let doc = new_doc_with_client_id(3);
    let array = doc.get_or_insert_array("comments");
    array.push_back(&mut doc.transact_mut(), Doc::new());
    let bytes = encode_state(&doc);
    assert!(matches!(decode_update(&bytes), Err(SyncError::Decode(_))));
}

#[test]
fn legacy_json_content_is_refused() {
    // One client (id 5, clock 0), one item under root "m" with ContentJSON ["x"].
    let json_item = [1, 1, 5, 0, 0b0000_0010, 1, 1, b'm', 1, 1, b'x', 0];
    assert!(matches!(
        decode_update(&json_item),
        Err(SyncError::Decode(_))
    ));
}

#[test]
fn out_of_order_updates_stay_pending_and_snapshots_stay_readable() {
    let source = new_doc_with_client_id(4);
    let text = source.get_or_insert_text("body");
    text.insert(&mut source.transact_mut(), 0, "first ");
    let first = encode_state(&source);
    let sv = decode_state_vector(&state_vector(&source)).expect("sv");
    text.insert(&mut source.transact_mut(), 6, "second");
    let second = diff_since(&source, &sv);

    let doc = new_doc();
    apply_update_bytes(&doc, &second).expect("pending is fine");
    assert!(doc.transact().has_missing_updates());
    let snapshot = try_encode_state(&doc).expect("snapshot with pending");
    decode_update(&snapshot).expect("snapshot decodes");
    apply_update_bytes(&doc, &first).expect("fills the gap");
    assert!(!doc.transact().has_missing_updates());
    assert_eq!(
        doc.get_or_insert_text("body").get_string(&doc.transact()),
        "first second"
    );
}

#[test]
fn observed_incremental_updates_pass_the_guard() {
    let doc = rich_doc();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    doc.observe_update_v1(
        "test",
        move |_: &yrs::TransactionMut, e: &yrs::UpdateEvent| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.update.clone());
            }
        },
    )
    .expect("observer");
    let text = doc.get_or_insert_text("body");
    for i in 0..20u32 {
        let mut txn = doc.transact_mut();
        let len = text.len(&txn);
        text.insert(&mut txn, i.min(len), "字");
        if i % 3 == 0 {
            text.remove_range(&mut txn, 0, 1);
        }
    }
    let updates = seen.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(updates.len(), 20);
    for u in &updates {
        check_update(u).expect("incremental update passes");
    }
    let refs: Vec<&[u8]> = updates.iter().map(|u| u.as_slice()).collect();
    check_update(&merge_updates(&refs).expect("merge")).expect("merged passes");
}

#[test]
fn huge_claimed_counts_are_rejected_without_allocating() {
    // Clients count of u32::MAX with nothing behind it.
    let mut bomb = Vec::new();
    write_var_uint(&mut bomb, u64::from(u32::MAX));
    assert!(matches!(decode_update(&bomb), Err(SyncError::Decode(_))));
    // One client claiming 2^31 blocks.
    let mut bomb = vec![1];
    write_var_uint(&mut bomb, 1 << 31);
    bomb.extend_from_slice(&[5, 0, 0, 0]);
    assert!(matches!(decode_update(&bomb), Err(SyncError::Decode(_))));
    // A block of Any content claiming 2^32-1 values.
    let mut bomb = vec![1, 1, 5, 0, 0b0000_1000, 1, 1, b'm'];
    write_var_uint(&mut bomb, u64::from(u32::MAX));
    bomb.push(126);
    assert!(matches!(decode_update(&bomb), Err(SyncError::Decode(_))));
    // An Any array claiming u64::MAX elements.
    let mut bomb = vec![1, 1, 5, 0, 0b0000_1000, 1, 1, b'm', 1, 117];
    write_var_uint(&mut bomb, u64::MAX);
    assert!(matches!(decode_update(&bomb), Err(SyncError::Decode(_))));
    // State vector and awareness with huge counts.
    let mut sv = Vec::new();
    write_var_uint(&mut sv, u64::from(u32::MAX));
    assert!(matches!(
        decode_state_vector(&sv),
        Err(SyncError::Decode(_))
    ));
    let mut aw = Vec::new();
    write_var_uint(&mut aw, u64::MAX);
    assert!(matches!(decode_awareness(&aw), Err(SyncError::Decode(_))));
}

#[test]
fn deep_nesting_is_rejected_before_yrs_recurses() {
    let mut deep = vec![1, 1, 5, 0, 0b0000_1000, 1, 1, b'm', 1];
    for _ in 0..100_000 {
        deep.extend_from_slice(&[117, 1]);
    }
    deep.extend_from_slice(&[126, 0]);
    assert!(matches!(decode_update(&deep), Err(SyncError::Decode(_))));
}

#[test]
fn truncated_and_trailing_updates_are_errors() {
    let full = encode_state(&rich_doc());
    for cut in 0..full.len() {
        assert!(
            decode_update(&full[..cut]).is_err(),
            "prefix {cut} accepted"
        );
    }
    let mut trailing = full.clone();
    trailing.push(0);
    assert!(decode_update(&trailing).is_err());
    let mut sv = state_vector(&rich_doc());
    sv.push(0);
    assert!(decode_state_vector(&sv).is_err());
}

#[test]
fn contain_turns_panics_into_errors() {
    let r: Result<(), _> = contain(|| panic!("boom {}", 1));
    assert_eq!(r, Err(SyncError::Panicked("boom 1".into())));
    let r: Result<(), _> = contain(|| panic!("static"));
    assert_eq!(r, Err(SyncError::Panicked("static".into())));
    assert_eq!(contain(|| 5), Ok(5));
}

#[test]
fn apply_reports_a_busy_document() {
    let doc = new_doc();
    let update = decode_update(&encode_state(&rich_doc())).expect("decodes");
    let _txn = doc.transact_mut();
    assert!(matches!(
        apply_update(&doc, update),
        Err(SyncError::Apply(_))
    ));
}

#[test]
fn awareness_round_trip() {
    let mut awareness = yrs::sync::Awareness::new(new_doc());
    awareness.set_local_state_raw(r#"{"user":"王"}"#);
    let update = awareness.update().expect("update");
    let bytes = update.encode_v1();
    assert_eq!(decode_awareness(&bytes), Ok(update));
    for cut in 0..bytes.len() {
        assert!(decode_awareness(&bytes[..cut]).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hostile_bytes_never_escape(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let doc = new_doc();
        if let Ok(update) = decode_update(&bytes) {
            let _ = apply_update(&doc, update);
        }
        if let Ok(sv) = decode_state_vector(&bytes) {
            let _ = diff_since(&doc, &sv);
        }
        let _ = decode_awareness(&bytes);
    }

    #[test]
    fn mutated_real_updates_never_escape(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode_state(&rich_doc());
        let i = pos.index(bytes.len());
        if let Some(b) = bytes.get_mut(i) {
            *b = byte;
        }
        let doc = new_doc();
        if let Ok(update) = decode_update(&bytes) {
            let _ = apply_update(&doc, update);
        }
    }
}
