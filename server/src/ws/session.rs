//! One sync connection, independent of axum: frames in, frames out.
//!
//! The receiving half enforces the limits (size before decoding, message rate),
//! decodes the framing and hands messages to the document owner; the sending half
//! drains the bounded outbound queue. Either ending stops the other. Generic over
//! `Sink + Stream` so it can be driven by channels as well as a socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;
use xieshang_shared::protocol::{ExtMessage, Message};

use super::rate::MessageRate;
use crate::docs::{close, request_close, CloseReason, DocLink};

/// A WebSocket frame as the session sees it.
#[derive(Debug)]
pub enum Frame {
    Binary(Bytes),
    /// Any text frame: not the protocol.
    Text,
    /// The peer closed.
    Close,
    /// The transport refused a message for its size before we saw it.
    TooLarge,
    /// Control frames and the like, handled by the transport.
    Other,
}

/// Frames the session sends.
#[derive(Debug)]
pub enum OutFrame {
    Binary(Bytes),
    /// A WebSocket ping: every peer's transport answers it on its own.
    Ping,
    Close(CloseReason),
}

/// Per-connection limits.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub max_message_bytes: usize,
    /// Sustained messages per second; 0 disables the limit.
    pub messages_per_sec: u32,
    pub burst: u32,
    /// How often to ping; a peer silent for two intervals is dropped. `None`: never.
    pub ping_every: Option<Duration>,
}

/// Everything a session needs besides its transport.
pub struct SessionParts {
    pub link: DocLink,
    /// Our own handle on the outbound queue, for answering pings.
    pub out_tx: mpsc::Sender<Bytes>,
    pub out_rx: mpsc::Receiver<Bytes>,
    pub closer: Arc<watch::Sender<Option<CloseReason>>>,
    pub limits: SessionLimits,
    /// When the session's token expires; the connection closes then with 4401.
    pub expires: Instant,
}

/// Runs the connection until either side ends it.
pub async fn run<Si, St>(sink: Si, stream: St, parts: SessionParts)
where
    Si: Sink<OutFrame> + Unpin + Send + 'static,
    St: Stream<Item = Frame> + Unpin,
{
    let SessionParts {
        link,
        out_tx,
        out_rx,
        closer,
        limits,
        expires,
    } = parts;
    let pings = Arc::new(Notify::new());
    let sender = tokio::spawn(send_loop(sink, out_rx, closer.subscribe(), pings.clone()));
    let ends = Ends {
        closer: &closer,
        expires,
        pings: &pings,
    };
    receive_loop(stream, &link, &out_tx, ends, limits).await;
    link.leave().await;
    request_close(&closer, 1000, "");
    // The sender finishes by writing the close frame; do not wait forever on a dead peer.
    if tokio::time::timeout(Duration::from_secs(5), sender)
        .await
        .is_err()
    {
        tracing::debug!("send half did not finish in time");
    }
}

async fn send_loop<Si>(
    mut sink: Si,
    mut out_rx: mpsc::Receiver<Bytes>,
    mut closed: watch::Receiver<Option<CloseReason>>,
    pings: Arc<Notify>,
) where
    Si: Sink<OutFrame> + Unpin,
{
    loop {
        tokio::select! {
            biased;
            () = pings.notified() => {
                if sink.send(OutFrame::Ping).await.is_err() {
                    break;
                }
            }
            changed = closed.changed() => {
                let reason = closed.borrow_and_update().clone();
                match (changed, reason) {
                    (_, Some(reason)) => {
                        let _ = sink.send(OutFrame::Close(reason)).await;
                        break;
                    }
                    (Err(_), None) => break,
                    (Ok(()), None) => {}
                }
            }
            msg = out_rx.recv() => match msg {
                Some(bytes) => {
                    if send_batch(&mut sink, &mut out_rx, bytes).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    let _ = sink.close().await;
}

/// Most queued messages written with one flush (one syscall, not one each).
const SEND_BATCH: usize = 256;

/// Sends `first` and whatever else is already queued, then flushes once: under
/// fan-out load this turns one write per message into one write per batch,
/// while every message stays its own frame, in order.
async fn send_batch<Si>(
    sink: &mut Si,
    out_rx: &mut mpsc::Receiver<Bytes>,
    first: Bytes,
) -> Result<(), Si::Error>
where
    Si: Sink<OutFrame> + Unpin,
{
    sink.feed(OutFrame::Binary(first)).await?;
    for _ in 1..SEND_BATCH {
        match out_rx.try_recv() {
            Ok(bytes) => sink.feed(OutFrame::Binary(bytes)).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}

/// What ends a connection besides its peer: the close signal, the token's
/// expiry, and silence (pings unanswered).
struct Ends<'a> {
    closer: &'a watch::Sender<Option<CloseReason>>,
    expires: Instant,
    pings: &'a Notify,
}

async fn receive_loop<St>(
    mut stream: St,
    link: &DocLink,
    out_tx: &mpsc::Sender<Bytes>,
    ends: Ends<'_>,
    limits: SessionLimits,
) where
    St: Stream<Item = Frame> + Unpin,
{
    let closer = ends.closer;
    let mut closed = closer.subscribe();
    let rate = MessageRate::new(limits.messages_per_sec, limits.burst);
    let every = limits.ping_every.unwrap_or(Duration::from_secs(3600));
    let mut ping = tokio::time::interval_at(Instant::now() + every, every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    loop {
        let frame = tokio::select! {
            biased;
            _ = closed.changed() => return,
            () = tokio::time::sleep_until(ends.expires) => {
                return request_close(closer, close::UNAUTHORIZED, "session expired; sign in again")
            }
            _ = ping.tick(), if limits.ping_every.is_some() => {
                if heard.elapsed() >= every * 2 {
                    tracing::debug!("peer stopped answering pings");
                    return request_close(closer, close::GOING_AWAY, "no answer to pings");
                }
                ends.pings.notify_one();
                continue;
            }
            frame = stream.next() => frame,
        };
        heard = Instant::now();
        // Access may have been withdrawn while this frame was on its way.
        if closer.borrow().is_some() {
            return;
        }
        let bytes = match frame {
            Some(Frame::Binary(bytes)) => bytes,
            Some(Frame::Other) => continue,
            Some(Frame::Text) => {
                return request_close(
                    closer,
                    close::UNSUPPORTED,
                    "text frames are not the protocol",
                )
            }
            Some(Frame::TooLarge) => {
                return request_close(closer, close::TOO_LARGE, "message too large")
            }
            Some(Frame::Close) | None => return,
        };
        if bytes.len() > limits.max_message_bytes {
            return request_close(closer, close::TOO_LARGE, "message too large");
        }
        if !rate.take() {
            return request_close(closer, close::TOO_FAST, "too many messages");
        }
        let msg = match Message::decode(&bytes) {
            Ok(msg) => msg,
            Err(e) => {
                return request_close(closer, close::MALFORMED, format!("malformed message: {e}"))
            }
        };
        if let Message::Ext(ExtMessage::Ping { nonce }) = msg {
            let pong = Message::Ext(ExtMessage::Pong { nonce }).encode();
            if out_tx.try_send(pong.into()).is_err() {
                return request_close(closer, close::TRY_AGAIN, "too slow; reconnect to resync");
            }
            continue;
        }
        if link.send(msg, bytes.len()).await.is_err() {
            return request_close(
                closer,
                close::INTERNAL,
                "document closed; reconnect to resync",
            );
        }
    }
}
