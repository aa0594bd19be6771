//! Round-trip, malformed-input and interop tests for the wire protocol.

use super::*;
use proptest::prelude::*;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Text, Transact};

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        bytes().prop_map(Message::step1),
        bytes().prop_map(Message::step2),
        bytes().prop_map(Message::update),
        bytes().prop_map(Message::Awareness),
        ".{0,40}".prop_map(|reason| Message::Auth(AuthMessage::PermissionDenied { reason })),
        Just(Message::QueryAwareness),
        any::<u64>().prop_map(|count| Message::Ext(ExtMessage::Ack { count })),
        ".{0,40}".prop_map(|reason| Message::Ext(ExtMessage::ReadOnly { reason })),
        any::<u64>().prop_map(|nonce| Message::Ext(ExtMessage::Ping { nonce })),
        any::<u64>().prop_map(|nonce| Message::Ext(ExtMessage::Pong { nonce })),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(msg in message()) {
        let frame = msg.encode();
        prop_assert_eq!(Message::decode(&frame), Ok(msg.clone()));
        let mut reused = vec![0xAA];
        msg.encode_into(&mut reused);
        prop_assert_eq!(&reused[1..], &frame[..]);
    }

    #[test]
    fn every_strict_prefix_is_rejected(msg in message()) {
        let frame = msg.encode();
        for cut in 0..frame.len() {
            prop_assert!(Message::decode(&frame[..cut]).is_err(), "prefix {} accepted", cut);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(frame in bytes()) {
        let _ = Message::decode(&frame);
    }
}

#[test]
fn truncation_gives_eof_or_bounds_error() {
    let frame = Message::update(b"hello world".to_vec()).encode();
    for cut in 0..frame.len() {
        let err = Message::decode(&frame[..cut]).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::UnexpectedEof | DecodeError::LengthOutOfBounds
            ),
            "cut {cut}: {err:?}"
        );
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    for msg in [
        Message::update(vec![1, 2, 3]),
        Message::QueryAwareness,
        Message::Ext(ExtMessage::Ping { nonce: 7 }),
    ] {
        let mut frame = msg.encode();
        frame.push(0);
        assert_eq!(Message::decode(&frame), Err(DecodeError::TrailingBytes));
    }
}

#[test]
fn huge_length_prefixes_are_rejected() {
    for claimed in [1u64 << 32, u64::MAX, u64::from(u32::MAX)] {
        let mut frame = vec![0, 2];
        write_var_uint(&mut frame, claimed);
        frame.extend_from_slice(&[0; 16]);
        assert_eq!(Message::decode(&frame), Err(DecodeError::LengthOutOfBounds));
        let mut awareness = vec![1];
        write_var_uint(&mut awareness, claimed);
        assert_eq!(
            Message::decode(&awareness),
            Err(DecodeError::LengthOutOfBounds)
        );
    }
}

#[test]
fn too_long_varints_are_rejected() {
    let mut frame = vec![0x80; 11];
    frame.push(0);
    assert_eq!(Message::decode(&frame), Err(DecodeError::VarIntTooLong));
    let mut len = vec![0, 1];
    len.extend_from_slice(&[0xff; 10]);
    len.push(0x01);
    assert_eq!(Message::decode(&len), Err(DecodeError::VarIntTooLong));
}

#[test]
fn unknown_types_are_named() {
    assert_eq!(
        Message::decode(&[4]),
        Err(DecodeError::UnknownMessageType(4))
    );
    assert_eq!(
        Message::decode(&[0x80, 0x01]),
        Err(DecodeError::UnknownMessageType(128))
    );
    assert_eq!(
        Message::decode(&[0, 3, 0]),
        Err(DecodeError::UnknownSyncType(3))
    );
    assert_eq!(
        Message::decode(&[100, 9, 0]),
        Err(DecodeError::UnknownExtKind(9))
    );
    assert_eq!(
        Message::decode(&[2, 1, 0]),
        Err(DecodeError::UnknownAuthType(1))
    );
}

#[test]
fn invalid_utf8_is_rejected() {
    assert_eq!(
        Message::decode(&[2, 0, 2, 0xc3, 0x28]),
        Err(DecodeError::InvalidUtf8)
    );
    assert_eq!(
        Message::decode(&[100, 1, 1, 0xff]),
        Err(DecodeError::InvalidUtf8)
    );
}

#[test]
fn known_frames() {
    assert_eq!(Message::update(vec![9, 8]).encode(), [0, 2, 2, 9, 8]);
    assert_eq!(Message::step1(vec![0]).encode(), [0, 0, 1, 0]);
    assert_eq!(Message::QueryAwareness.encode(), [3]);
    assert_eq!(
        Message::Ext(ExtMessage::Ack { count: 300 }).encode(),
        [100, 0, 0xac, 0x02]
    );
    assert!(Message::step2(vec![]).carries_update());
    assert!(Message::update(vec![]).carries_update());
    assert!(!Message::step1(vec![]).carries_update());
    assert!(!Message::QueryAwareness.carries_update());
}

/// A document with some text, so the payloads below are real yrs output.
fn sample_doc() -> yrs::Doc {
    let doc = crate::schema::new_doc_with_client_id(42);
    let text = doc.get_or_insert_text("body");
    text.insert(&mut doc.transact_mut(), 0, "协商 draft");
    doc
}

#[test]
fn sync_frames_match_yrs_encoder() {
    use yrs::sync::{Message as YMessage, SyncMessage as YSync};
    let doc = sample_doc();
    let txn = doc.transact();
    let sv = txn.state_vector();
    let update = txn.encode_state_as_update_v1(&yrs::StateVector::default());

    let ours = Message::update(update.clone()).encode();
    assert_eq!(
        ours,
        YMessage::Sync(YSync::Update(update.clone())).encode_v1()
    );
    let ours = Message::step2(update.clone()).encode();
    assert_eq!(
        ours,
        YMessage::Sync(YSync::SyncStep2(update.clone())).encode_v1()
    );
    let ours = Message::step1(sv.encode_v1()).encode();
    assert_eq!(
        ours,
        YMessage::Sync(YSync::SyncStep1(sv.clone())).encode_v1()
    );
    let reason = "已定稿".to_string();
    let ours = Message::Auth(AuthMessage::PermissionDenied {
        reason: reason.clone(),
    })
    .encode();
    assert_eq!(ours, YMessage::Auth(Some(reason)).encode_v1());
    assert_eq!(
        Message::QueryAwareness.encode(),
        YMessage::AwarenessQuery.encode_v1()
    );

    // And the other way round: frames from yrs decode to what we expect.
    let theirs = YMessage::Sync(YSync::Update(update.clone())).encode_v1();
    assert_eq!(Message::decode(&theirs), Ok(Message::update(update)));
}

#[test]
fn awareness_frames_match_yrs_encoder() {
    use yrs::sync::{Awareness, Message as YMessage};
    let mut awareness = Awareness::new(sample_doc());
    awareness.set_local_state_raw(r#"{"user":{"name":"张委员"}}"#);
    let update = awareness.update().expect("local state is set");
    let raw = update.encode_v1();
    let ours = Message::Awareness(raw.clone()).encode();
    assert_eq!(ours, YMessage::Awareness(update.clone()).encode_v1());
    match Message::decode(&ours) {
        Ok(Message::Awareness(payload)) => {
            let decoded = crate::sync::decode_awareness(&payload).expect("valid awareness");
            assert_eq!(decoded, update);
        }
        other => panic!("unexpected {other:?}"),
    }
}
