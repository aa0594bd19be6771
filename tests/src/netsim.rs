//! [`NetSim`]: a poor network between a client and a server, as a TCP proxy on
//! 127.0.0.1 (this kernel has no `netem`, see TOOLCHAIN.md).
//!
//! Each direction of each proxied connection is a small link model:
//! - bandwidth: a chunk of `n` bytes occupies the link for `n / rate` seconds
//!   (serialization delay, one queue per direction, so bursts wait their turn);
//! - latency: every chunk is delivered `one_way` after it left the link (a delay
//!   line), so a round trip costs at least `2 × one_way`;
//! - a bounded buffer between the two (a router queue): when it is full the proxy
//!   stops reading, and TCP's own flow control slows the sender down;
//! - loss, the way a flaky mobile link loses a connection: the whole TCP
//!   connection is cut, with probability `loss` per chunk, on a schedule
//!   ([`LinkSpec::cut_every`]), or on demand ([`NetSim::cut_all`]).
//!
//! Cutting closes both sockets at once, so each side sees its connection end and
//! must reconnect and resync, which is the behaviour under test. Byte counters
//! tell how much each side actually sent across the link.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Largest chunk read at once: about one Ethernet segment, so bandwidth is
/// accounted at packet granularity.
const CHUNK: usize = 1460;
/// Chunks the link buffers per direction before the proxy stops reading.
const QUEUE: usize = 64;

/// How the link behaves. `Default` is a perfect link.
#[derive(Debug, Clone, Default)]
pub struct LinkSpec {
    /// Client → server bandwidth in bits per second (`None`: unlimited).
    pub up_bps: Option<u64>,
    /// Server → client bandwidth in bits per second (`None`: unlimited).
    pub down_bps: Option<u64>,
    /// One-way delay; the round trip is twice this.
    pub one_way: Duration,
    /// Cut every open connection at random intervals in `[min, max]`.
    pub cut_every: Option<(Duration, Duration)>,
    /// Probability that a chunk cuts its connection instead of arriving.
    pub loss: f64,
}

impl LinkSpec {
    /// A symmetric link of `kbit` kbit/s with round-trip time `rtt`.
    pub fn slow(kbit: u64, rtt: Duration) -> LinkSpec {
        LinkSpec {
            up_bps: Some(kbit * 1000),
            down_bps: Some(kbit * 1000),
            one_way: rtt / 2,
            ..LinkSpec::default()
        }
    }
}

/// What crossed the link so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes the clients sent towards the server (delivered or not).
    pub bytes_up: u64,
    /// Bytes the server sent towards the clients.
    pub bytes_down: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Connections cut (by schedule, loss or [`NetSim::cut_all`]).
    pub cuts: u64,
}

#[derive(Default)]
struct Counters {
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    connections: AtomicU64,
    cuts: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    spec: Mutex<LinkSpec>,
    counters: Counters,
    /// Bumped to cut every connection open at that moment.
    epoch: watch::Sender<u64>,
}

/// The proxy. Dropping it stops accepting and cuts every connection.
pub struct NetSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl NetSim {
    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream` through a
    /// link that behaves as `spec` says.
    pub async fn start(upstream: SocketAddr, spec: LinkSpec) -> std::io::Result<NetSim> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (epoch, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            upstream,
            spec: Mutex::new(spec),
            counters: Counters::default(),
            epoch,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        let cutter = tokio::spawn(cut_schedule(shared.clone()));
        Ok(NetSim {
            addr,
            shared,
            tasks: vec![accept, cutter],
        })
    }

    /// Where clients connect instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `url` (`ws://host:port/…` or `http://…`) pointed at the proxy instead.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("ws", url));
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        format!("{scheme}://{}{path}", self.addr)
    }

    /// Cuts every connection open now (new ones are accepted as usual).
    pub fn cut_all(&self) {
        self.shared.epoch.send_modify(|e| *e += 1);
    }

    /// Changes the link for the chunks and cuts that follow.
    pub fn set_spec(&self, spec: LinkSpec) {
        if let Ok(mut s) = self.shared.spec.lock() {
            *s = spec;
        }
    }

    /// The link as it is now.
    pub fn spec(&self) -> LinkSpec {
        self.shared
            .spec
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            bytes_up: c.bytes_up.load(Ordering::Relaxed),
            bytes_down: c.bytes_down.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            cuts: c.cuts.load(Ordering::Relaxed),
        }
    }
}

impl Drop for NetSim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.cut_all();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(proxy(client, shared.clone()));
    }
}

async fn cut_schedule(shared: Arc<Shared>) {
    loop {
        let every = shared.spec.lock().ok().and_then(|s| s.cut_every);
        let Some((min, max)) = every else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let wait = if max > min {
            rand::thread_rng().gen_range(min..=max)
        } else {
            min
        };
        tokio::time::sleep(wait).await;
        shared.epoch.send_modify(|e| *e += 1);
    }
}

/// One proxied connection: two directions, cut together.
async fn proxy(client: TcpStream, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return; // the client sees its connection close, as with a refused connect
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut epoch = shared.epoch.subscribe();
    epoch.borrow_and_update();
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let (cut_tx, mut cut_rx) = mpsc::channel::<()>(2);
    let up = Direction {
        up: true,
        shared: shared.clone(),
        cut: cut_tx.clone(),
    };
    let down = Direction {
        up: false,
        shared: shared.clone(),
        cut: cut_tx,
    };
    let mut up = tokio::spawn(up.run(cr, sw));
    let mut down = tokio::spawn(down.run(sr, cw));
    let (mut up_done, mut down_done) = (false, false);
    loop {
        tokio::select! {
            _ = epoch.changed() => break,
            _ = cut_rx.recv() => break,
            _ = &mut up, if !up_done => { up_done = true; if down_done { return; } }
            _ = &mut down, if !down_done => { down_done = true; if up_done { return; } }
        }
    }
    // A cut: both sockets go at once (dropping the halves closes them).
    shared.counters.cuts.fetch_add(1, Ordering::Relaxed);
    up.abort();
    down.abort();
}

/// One direction of a connection.
struct Direction {
    up: bool,
    shared: Arc<Shared>,
    cut: mpsc::Sender<()>,
}

impl Direction {
    fn rate(&self, spec: &LinkSpec) -> Option<u64> {
        if self.up {
            spec.up_bps
        } else {
            spec.down_bps
        }
    }

    fn count(&self, n: usize) {
        let c = &self.shared.counters;
        let counter = if self.up { &c.bytes_up } else { &c.bytes_down };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Reads chunks, schedules their delivery, and writes them when due.
    async fn run(self, mut from: OwnedReadHalf, mut to: OwnedWriteHalf) {
        let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
        let mut writer = AbortOnDrop(tokio::spawn(async move {
            while let Some((due, bytes)) = rx.recv().await {
                tokio::time::sleep_until(due).await;
                if to.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            let _ = to.shutdown().await;
        }));
        // When the link is free again (serialization of earlier chunks).
        let mut link_free = Instant::now();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            self.count(n);
            let spec = self
                .shared
                .spec
                .lock()
                .map(|s| s.clone())
                .unwrap_or_default();
            if spec.loss > 0.0 && rand::thread_rng().gen_bool(spec.loss.min(1.0)) {
                let _ = self.cut.try_send(());
                break;
            }
            let now = Instant::now();
            let start = link_free.max(now);
            let sent = match self.rate(&spec) {
                Some(bps) if bps > 0 => {
                    start + Duration::from_secs_f64(n as f64 * 8.0 / bps as f64)
                }
                _ => start,
            };
            link_free = sent;
            if tx
                .send((sent + spec.one_way, buf[..n].to_vec()))
                .await
                .is_err()
            {
                break;
            }
        }
        drop(tx);
        // Deliver what is still in flight, like a half-closed TCP connection.
        let _ = (&mut writer.0).await;
    }
}

/// Aborts the task when dropped: a cut aborts a direction, and its writer
/// must not go on delivering what was queued.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
