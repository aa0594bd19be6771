//! `GET /sync/{doc_id}`: the y-websocket protocol on a WebSocket.
//!
//! Authentication, access and `Origin` are checked at the upgrade (so an
//! unauthenticated peer never gets to send a single protocol byte), and again
//! whenever access changes while the socket is open ([`live`]); the session
//! itself is in [`session`], independent of axum.

pub mod live;
mod rate;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, Path, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use xieshang_shared::{DocId, User};

use crate::db::now_ms;
use crate::db::queries::docs::DocInfo;
use crate::docs::{close, CloseReason, ConnId, Peer};
use crate::error::AppError;
use crate::routes::ApiQuery;
use crate::state::AppState;
use session::{Frame, OutFrame, SessionLimits, SessionParts};

/// The sync route.
pub fn router() -> Router<AppState> {
    Router::new().route("/sync/{doc_id}", get(upgrade))
}

#[derive(Debug, Deserialize)]
struct SyncQuery {
    /// What y-websocket's `params: { token }` sends.
    token: Option<String>,
    /// `1` asks for our extension messages (durability acks, read-only notice).
    ext: Option<String>,
}

/// Bytes read from a socket at once; an idle connection keeps this much resident.
const READ_BUFFER: usize = 4 * 1024;
/// Frames queued for one connection are written once they reach this size (or
/// on flush); also the most an idle connection keeps of its write buffer.
const WRITE_BUFFER: usize = 16 * 1024;

async fn upgrade(
    State(state): State<AppState>,
    Path(doc_id): Path<String>,
    ApiQuery(query): ApiQuery<SyncQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let doc = doc_id.parse::<DocId>().map_err(|_| AppError::NotFound)?;
    check_origin(&state, &headers)?;
    let (user, claims) = crate::auth::authenticate_session(
        &crate::auth::AuthContext::from_ref(&state),
        &headers,
        query.token.as_deref(),
    )
    .await?;
    let info = crate::access::authorize_doc(&state, &user, doc).await?;
    let ext = query.ext.as_deref() == Some("1");
    let (closer, _) = watch::channel(None);
    let closer = Arc::new(closer);
    let id = state.docs.next_conn_id();
    let registration = live::Registration {
        id,
        user: user.id,
        doc,
        topic: info.topic,
        session: claims.nonce.clone(),
        closer: closer.clone(),
    };
    let registered = state
        .sockets
        .register(
            registration,
            state.config.max_sockets_per_user,
            state.config.max_sockets,
        )
        .map_err(|why| {
            tracing::warn!(user = %user.id, ?why, "sync socket refused: too many open");
            AppError::TooMany
        })?;
    let expires = Instant::now()
        + Duration::from_millis(u64::try_from(claims.expires_at - now_ms()).unwrap_or(0));
    let socket = Socket {
        info,
        user,
        ext,
        id,
        closer,
        expires,
        registered,
    };
    // The transport's own cap sits above ours, so a message just over our limit
    // reaches the session and is answered with 4413 and a reason.
    let cap = state.config.max_message_bytes;
    let transport_cap = cap.saturating_mul(2).max(cap + (1 << 20));
    Ok(ws
        // tungstenite's default read buffer (128 KiB) is zero-filled, so resident,
        // on every connection: most of an idle connection's memory (bench W4).
        // Larger messages still grow it as needed.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(transport_cap)
        .max_frame_size(transport_cap)
        .on_upgrade(move |ws| serve_socket(state, ws, socket)))
}

/// A browser always names the page that opens a socket in `Origin`; a page of
/// another site may not use the member's cookie to open one (cross-site
/// WebSocket hijacking). Same origin (as the `Host` header names it) or a
/// configured `--allowed-origin` passes; no `Origin` at all is a non-browser
/// client, which must present its token anyway.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let same = !host.is_empty()
        && (origin == format!("http://{host}") || origin == format!("https://{host}"));
    let allowed = state
        .config
        .allowed_origins
        .iter()
        .any(|a| a.trim_end_matches('/') == origin);
    if same || allowed {
        Ok(())
    } else {
        tracing::warn!(%origin, %host, "sync socket refused: foreign origin");
        Err(AppError::Forbidden)
    }
}

/// What the upgrade established, handed to the socket's task.
struct Socket {
    info: DocInfo,
    user: User,
    ext: bool,
    id: ConnId,
    closer: Arc<watch::Sender<Option<CloseReason>>>,
    /// When the session's token expires: the socket closes then (4401).
    expires: Instant,
    /// Keeps the socket counted and reachable by access changes while it lives.
    registered: live::Registered,
}

async fn serve_socket(state: AppState, ws: WebSocket, socket: Socket) {
    let Socket {
        info,
        user,
        ext,
        id,
        closer,
        expires,
        registered,
    } = socket;
    let (out_tx, out_rx) = mpsc::channel(state.config.outbound_queue.max(16));
    let peer = Peer {
        id,
        user: user.id,
        name: user.display_name.clone(),
        ext,
        out: out_tx.clone(),
        closer: closer.clone(),
    };
    let (sink, stream) = ws.split();
    let sink = sink.with(|f: OutFrame| std::future::ready(Ok::<_, axum::Error>(to_ws(f))));
    let stream = stream.map(from_ws);
    let link = match state.docs.join(&info, peer).await {
        Ok(link) => link,
        Err(e) => {
            tracing::error!(doc = %info.id, error = %e, "could not open document");
            let mut sink = sink;
            let reason = crate::docs::CloseReason {
                code: close::INTERNAL,
                reason: "document unavailable".into(),
            };
            let _ = sink.send(OutFrame::Close(reason)).await;
            return;
        }
    };
    tracing::debug!(doc = %info.id, conn = id.0, user = %user.username, ext, "sync connection open");
    let limits = SessionLimits {
        max_message_bytes: state.config.max_message_bytes,
        messages_per_sec: state.config.max_messages_per_sec,
        burst: state.config.message_burst,
        ping_every: (state.config.ping_interval_ms > 0)
            .then(|| Duration::from_millis(state.config.ping_interval_ms)),
    };
    session::run(
        Box::pin(sink),
        stream,
        SessionParts {
            link,
            out_tx,
            out_rx,
            closer,
            limits,
            expires,
        },
    )
    .await;
    drop(registered);
    tracing::debug!(doc = %info.id, conn = id.0, "sync connection closed");
}

fn to_ws(frame: OutFrame) -> WsMessage {
    match frame {
        OutFrame::Binary(bytes) => WsMessage::Binary(bytes),
        OutFrame::Ping => WsMessage::Ping(Bytes::new()),
        OutFrame::Close(r) => WsMessage::Close(Some(CloseFrame {
            code: r.code,
            reason: truncate(&r.reason).into(),
        })),
    }
}

/// Close reasons must fit a control frame (125 bytes incl. the code).
fn truncate(reason: &str) -> String {
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

fn from_ws(msg: Result<WsMessage, axum::Error>) -> Frame {
    match msg {
        Ok(WsMessage::Binary(bytes)) => Frame::Binary(bytes),
        Ok(WsMessage::Text(_)) => Frame::Text,
        Ok(WsMessage::Close(_)) => Frame::Close,
        Ok(_) => Frame::Other,
        Err(e) => {
            let text = e.to_string();
            if text.contains("too long") || text.contains("Space limit") {
                Frame::TooLarge
            } else {
                tracing::debug!(error = %text, "socket error");
                Frame::Close
            }
        }
    }
}
