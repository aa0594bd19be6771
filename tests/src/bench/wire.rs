//! Sockets for the driver: TCP_NODELAY on every one (Nagle would add up to
//! 40 ms to a small frame), bytes on the wire counted in both directions, and
//! the y-websocket frames the workloads need.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::WebSocketStream;
use xieshang_shared::protocol::{Message, Reader};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact, Update};

/// Bytes that crossed one socket (HTTP upgrade and WebSocket framing included).
#[derive(Debug, Default)]
pub struct Counter {
    pub sent: AtomicU64,
    pub received: AtomicU64,
}

impl Counter {
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// A stream that counts what it reads and writes.
pub struct Counted<S> {
    inner: S,
    counter: Arc<Counter>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let n = (buf.filled().len() - before) as u64;
            self.counter.received.fetch_add(n, Ordering::Relaxed);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.counter.sent.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A driver socket.
pub type Ws = WebSocketStream<Counted<TcpStream>>;

/// Opens `url` (`ws://host:port/…`) with TCP_NODELAY, counting into `counter`.
pub async fn connect(url: &str, counter: Arc<Counter>) -> Result<Ws> {
    let rest = url
        .strip_prefix("ws://")
        .with_context(|| format!("not a ws:// URL: {url}"))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let tcp = TcpStream::connect(hostport)
        .await
        .with_context(|| format!("connecting to {hostport}"))?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(512 << 20))
        .max_frame_size(Some(512 << 20));
    let stream = Counted {
        inner: tcp,
        counter,
    };
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .with_context(|| format!("WebSocket upgrade of {url}"))?;
    Ok(ws)
}

/// Opens `url` without keeping count.
pub async fn connect_plain(url: &str) -> Result<Ws> {
    connect(url, Arc::new(Counter::default())).await
}

/// `[0][0][sv]`: SyncStep1.
pub fn step1(sv: &StateVector) -> Frame {
    use yrs::updates::encoder::Encode;
    Frame::Binary(Message::step1(sv.encode_v1()).encode().into())
}

/// `[0][1][update]`: SyncStep2.
pub fn step2(update: Vec<u8>) -> Frame {
    Frame::Binary(Message::step2(update).encode().into())
}

/// `[0][2][update]`: a live Update.
pub fn update(update: Vec<u8>) -> Frame {
    Frame::Binary(Message::update(update).encode().into())
}

/// An empty v1 update (no structs, no deletions): the SyncStep2 of a client
/// that has nothing the server lacks.
pub const EMPTY_UPDATE: [u8; 2] = [0, 0];

/// What a frame from the server is, as far as a workload cares.
pub enum Incoming<'a> {
    /// SyncStep1 with the server's state vector bytes.
    Step1(&'a [u8]),
    /// SyncStep2: the update that brings us up to date.
    Step2(&'a [u8]),
    /// A live update.
    Update(&'a [u8]),
    /// Durability acknowledgement (xieshang `ext=1`): count of update messages.
    Ack(u64),
    /// Awareness, pongs, anything else.
    Other,
}

/// Classifies a binary frame without copying its payload.
pub fn classify(bytes: &[u8]) -> Result<Incoming<'_>> {
    let mut r = Reader::new(bytes);
    match r.read_var_uint()? {
        0 => {
            let sub = r.read_var_uint()?;
            let payload = r.read_var_bytes()?;
            Ok(match sub {
                0 => Incoming::Step1(payload),
                1 => Incoming::Step2(payload),
                2 => Incoming::Update(payload),
                other => bail!("unknown sync message {other}"),
            })
        }
        100 => {
            if r.read_var_uint()? == 0 {
                Ok(Incoming::Ack(r.read_var_uint()?))
            } else {
                Ok(Incoming::Other)
            }
        }
        _ => Ok(Incoming::Other),
    }
}

/// The clock ranges `(client, from, to)` an update carries. Fast path: an update
/// of one client with one struct (what every live edit of the workloads is)
/// is read from its header; anything else is decoded with yrs.
pub fn clock_ranges(update: &[u8], item_len: u64, out: &mut Vec<(u64, u64, u64)>) -> Result<()> {
    out.clear();
    let mut r = Reader::new(update);
    let clients = r.read_var_uint()?;
    if clients == 1 {
        let structs = r.read_var_uint()?;
        let client = r.read_var_uint()?;
        let clock = r.read_var_uint()?;
        if structs == 1 {
            out.push((client, clock, clock + item_len));
            return Ok(());
        }
    }
    let u = Update::decode_v1(update).map_err(|e| anyhow!("bad update: {e}"))?;
    let lower = u.state_vector_lower();
    let upper = u.state_vector();
    for (client, to) in upper.iter() {
        let from = lower.get(client);
        out.push((client.get(), u64::from(from), u64::from(*to)));
    }
    Ok(())
}

/// Applies an update to `doc`.
pub fn apply(doc: &yrs::Doc, update: &[u8]) -> Result<()> {
    let u = Update::decode_v1(update).map_err(|e| anyhow!("bad update: {e}"))?;
    doc.transact_mut()
        .apply_update(u)
        .map_err(|e| anyhow!("apply: {e}"))?;
    Ok(())
}

/// The diff of `doc` against a peer's encoded state vector.
pub fn diff(doc: &yrs::Doc, sv_bytes: &[u8]) -> Result<Vec<u8>> {
    let sv = StateVector::decode_v1(sv_bytes).map_err(|e| anyhow!("bad state vector: {e}"))?;
    Ok(doc.transact().encode_state_as_update_v1(&sv))
}

/// Runs the y-websocket handshake for a client holding `doc` on a fresh socket:
/// our Step1, the server's Step2 applied, and (when `answer_step1`) the
/// server's Step1 answered with what it lacks. Returns once the server's
/// Step2 is applied and, with `answer_step1`, once its Step1 was answered too
/// (without it a Step1 arriving first is still answered).
pub async fn sync_doc(ws: &mut Ws, doc: &yrs::Doc, answer_step1: bool) -> Result<()> {
    let sv = doc.transact().state_vector();
    ws.send(step1(&sv)).await?;
    let (mut have_step2, mut answered) = (false, !answer_step1);
    while let Some(frame) = ws.next().await {
        let Frame::Binary(bytes) = frame? else {
            continue;
        };
        match classify(&bytes)? {
            Incoming::Step1(server_sv) => {
                ws.send(step2(diff(doc, server_sv)?)).await?;
                answered = true;
            }
            Incoming::Step2(update) => {
                apply(doc, update)?;
                have_step2 = true;
            }
            Incoming::Update(update) => apply(doc, update)?,
            Incoming::Ack(_) | Incoming::Other => {}
        }
        if have_step2 && answered {
            return Ok(());
        }
    }
    bail!("the server closed the socket before the handshake ended")
}
