//! Hostile input on the sync socket. An admitted participant sends random
//! bytes, truncated frames and updates, updates whose length prefixes claim
//! 2^32 items, a message beyond the configured cap, awareness floods and a
//! text frame. Each time: the offending connection is closed with the expected
//! code and a reason, the server stays up, two honest peers of the same draft
//! stay connected and keep syncing, and the stored document is unchanged.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use xieshang_shared::protocol::{
    write_var_bytes, write_var_string, write_var_uint, Message, SyncMessage,
};
use xieshang_tests::client::server_state;
use xieshang_tests::{Backend, TestClient, TestServer};
use yrs::{ReadTxn, Text, Transact};

const MAX_MESSAGE: usize = 64 * 1024;
const MAX_AWARENESS: usize = 2 * 1024;

/// One attack: what is sent, and which close codes are a correct answer.
struct Attack {
    name: String,
    frames: Vec<Payload>,
    codes: &'static [u16],
}

enum Payload {
    Binary(Vec<u8>),
    Text(String),
}

fn sync_frame(sub: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_var_uint(&mut out, 0);
    write_var_uint(&mut out, sub);
    write_var_bytes(&mut out, payload);
    out
}

/// A y-protocols awareness update for one client with `state` as its JSON.
fn awareness(client: u64, clock: u64, state: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    write_var_uint(&mut payload, 1);
    write_var_uint(&mut payload, client);
    write_var_uint(&mut payload, clock);
    write_var_string(&mut payload, state);
    Message::Awareness(payload).encode()
}

/// A genuine update (an insert of `len` characters) from a throwaway doc.
fn real_update(len: usize) -> Vec<u8> {
    let doc = xieshang_shared::schema::new_doc_with_client_id(0xbad);
    let body = xieshang_shared::schema::Draft::new(&doc).body_ref();
    {
        let mut txn = doc.transact_mut();
        body.insert(&mut txn, 0, &"恶".repeat(len));
    }
    let txn = doc.transact();
    txn.encode_state_as_update_v1(&Default::default())
}

fn attacks(rng: &mut StdRng) -> Vec<Attack> {
    let mut out = Vec::new();
    // Random bytes that are not a protocol message (checked with the shared decoder).
    let mut made = 0;
    while made < 6 {
        let mut buf = vec![0u8; rng.gen_range(1..200)];
        rng.fill_bytes(&mut buf);
        if Message::decode(&buf).is_ok() {
            continue;
        }
        made += 1;
        out.push(Attack {
            name: format!("random bytes #{made} ({} bytes)", buf.len()),
            frames: vec![Payload::Binary(buf)],
            codes: &[1007],
        });
    }
    // A real Update frame cut short: the framing itself is broken.
    let good = Message::Sync(SyncMessage::Update(real_update(20))).encode();
    out.push(Attack {
        name: "truncated frame".into(),
        frames: vec![Payload::Binary(good[..good.len() - 7].to_vec())],
        codes: &[1007],
    });
    // Framing intact, the yrs payload inside cut short.
    let update = real_update(20);
    out.push(Attack {
        name: "truncated update payload".into(),
        frames: vec![Payload::Binary(sync_frame(2, &update[..update.len() / 2]))],
        codes: &[1007],
    });
    // Length prefixes claiming 2^32 items (does not even fit yrs' u32 counters)
    // and u32::MAX items (fits: an allocation bomb if the decoder trusted it).
    for (claim, n) in [("2^32", 1u64 << 32), ("2^32-1", u64::from(u32::MAX))] {
        let mut clients = Vec::new();
        write_var_uint(&mut clients, n);
        let mut structs = Vec::new();
        for v in [1, n, 7, 0] {
            write_var_uint(&mut structs, v);
        }
        let mut deletes = Vec::new();
        for v in [0, 1, 7, n] {
            write_var_uint(&mut deletes, v);
        }
        for (what, payload) in [
            ("clients", &clients),
            ("structs", &structs),
            ("delete ranges", &deletes),
        ] {
            out.push(Attack {
                name: format!("Update claiming {claim} {what}"),
                frames: vec![Payload::Binary(sync_frame(2, payload))],
                codes: &[1007],
            });
        }
        out.push(Attack {
            name: format!("SyncStep2 claiming {claim} clients"),
            frames: vec![Payload::Binary(sync_frame(1, &clients))],
            codes: &[1007],
        });
    }
    // A well-formed update, just too large.
    out.push(Attack {
        name: format!("oversized Update (> {MAX_MESSAGE} bytes)"),
        frames: vec![Payload::Binary(
            Message::Sync(SyncMessage::Update(real_update(MAX_MESSAGE / 2))).encode(),
        )],
        codes: &[4413],
    });
    // One awareness message above the awareness cap (but below the message cap).
    let state = format!(
        "{{\"user\":{{\"name\":\"{}\"}}}}",
        "x".repeat(MAX_AWARENESS * 2)
    );
    out.push(Attack {
        name: format!("oversized awareness (> {MAX_AWARENESS} bytes)"),
        frames: vec![Payload::Binary(awareness(4242, 1, &state))],
        codes: &[4413, 4429],
    });
    // A flood of small, valid awareness updates.
    out.push(Attack {
        name: "awareness flood (5000 messages)".into(),
        frames: (1..=5000)
            .map(|clock| Payload::Binary(awareness(4243, clock, "{\"cursor\":1}")))
            .collect(),
        codes: &[4429],
    });
    // Not the protocol at all.
    out.push(Attack {
        name: "text frame".into(),
        frames: vec![Payload::Text("hello?".into())],
        codes: &[1003, 1007],
    });
    out
}

/// Sends the attack's frames (stopping once the server has closed) and answers the close.
async fn run_attack(
    mut attacker: TestClient,
    frames: Vec<Payload>,
) -> Result<(TestClient, xieshang_tests::CloseInfo)> {
    for (i, frame) in frames.into_iter().enumerate() {
        let sent = match frame {
            Payload::Binary(b) => attacker.send_raw(b).await,
            Payload::Text(t) => attacker.send_text(t).await,
        };
        if sent.is_err() {
            break;
        }
        if i % 25 == 24 {
            attacker.pump().await?;
            if !attacker.is_connected() {
                break;
            }
        }
    }
    let close = attacker.wait_closed(xieshang_tests::WAIT).await?;
    Ok((attacker, close))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_closes_only_the_offender() -> Result<()> {
    let seed = xieshang_tests::seed("hostile", 31);
    let mut rng = StdRng::seed_from_u64(seed);
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.max_message_bytes = MAX_MESSAGE;
        c.max_awareness_bytes = MAX_AWARENESS;
        c.max_messages_per_sec = 200;
        c.message_burst = 400;
    })
    .await?;
    let c = server.committee(3).await?;
    let api = &server.api;
    let url = |i: usize| api.ws_url(c.doc, Some(&c.members[i].token), true);
    let mut a = TestClient::new("A");
    let mut b = TestClient::new("B");
    a.connect(&url(0)).await?;
    b.connect(&url(1)).await?;
    a.append("[before]").await?;
    a.wait_all_acked().await?;
    b.wait_text("[before]").await?;

    let mut rounds = 0;
    for attack in attacks(&mut rng) {
        let before_body = api.draft_body(&c.members[0], c.doc).await?;
        let (before_text, before_sv) = server_state(&url(0)).await?;

        let mut attacker = TestClient::new("attacker");
        attacker
            .connect(&url(2))
            .await
            .with_context(|| format!("{}: connecting", attack.name))?;
        let task = tokio::spawn(run_attack(attacker, attack.frames));
        // Honest peers keep reading while the attack goes on, as real clients do.
        while !task.is_finished() {
            a.pump().await?;
            b.pump().await?;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (_attacker, close) = task.await?.with_context(|| attack.name.clone())?;
        println!(
            "[hostile] {:40} → closed {} {:?}",
            attack.name, close.code, close.reason
        );
        ensure!(
            attack.codes.contains(&close.code),
            "{}: closed with {} {:?}, expected one of {:?}",
            attack.name,
            close.code,
            close.reason,
            attack.codes
        );
        ensure!(
            !close.reason.trim().is_empty(),
            "{}: close {} without a reason",
            attack.name,
            close.code
        );
        ensure!(
            api.healthy().await,
            "{}: server unhealthy afterwards",
            attack.name
        );
        ensure!(
            a.is_connected() && b.is_connected(),
            "{}: an honest peer was disconnected: {:?} {:?}",
            attack.name,
            a.close_info(),
            b.close_info()
        );

        // Nothing the attacker sent reached the stored document or the honest peers.
        let after_body = api.draft_body(&c.members[0], c.doc).await?;
        let (after_text, after_sv) = server_state(&url(0)).await?;
        ensure!(
            after_body == before_body,
            "{}: stored body changed: {before_body:?} → {after_body:?}",
            attack.name
        );
        ensure!(
            after_text == before_text && after_sv == before_sv,
            "{}: synced state changed: {before_text:?} → {after_text:?}",
            attack.name
        );
        ensure!(
            a.text() == before_text && b.text() == before_text,
            "{}: an honest peer got attack content",
            attack.name
        );

        // And the honest peers go on syncing through the same document.
        rounds += 1;
        let marker = format!("[ok{rounds}]");
        a.append(&marker).await?;
        let expected = a.text();
        b.wait_text(&expected)
            .await
            .with_context(|| format!("after {}", attack.name))?;
    }

    // The honest peers still sync both ways.
    a.append("[after-a]").await?;
    b.append("[after-b]").await?;
    a.wait_all_acked().await?;
    b.wait_all_acked().await?;
    let (t, _) = server_state(&url(0)).await?;
    a.wait_text(&t).await?;
    b.wait_text(&t).await?;
    ensure!(
        t.contains("[after-a]") && t.contains("[after-b]") && t.contains("[before]"),
        "final text {t:?}"
    );
    ensure!(
        api.draft_body(&c.members[1], c.doc).await? == t,
        "GET body differs from synced text"
    );
    for p in [&a, &b] {
        ensure!(
            p.violations().is_empty(),
            "{}: {:?}",
            p.name,
            p.violations()
        );
    }
    println!("[hostile] {rounds} attacks, each closed with the expected code; document unchanged; honest peers synced");
    server.shutdown().await;
    Ok(())
}
