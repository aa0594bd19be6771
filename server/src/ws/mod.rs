//! `GET /sync/{doc_id}`: the y-websocket protocol on a WebSocket.
//!
//! Authentication and access are checked at the upgrade (so an unauthenticated
//! peer never gets to send a single protocol byte); the session itself is in
//! [`session`], independent of axum.

pub mod session;

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use xieshang_shared::{DocId, User};

use crate::db::queries::docs::DocInfo;
use crate::docs::{close, Peer};
use crate::error::AppError;
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
    Query(query): Query<SyncQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let doc = doc_id
        .parse::<i64>()
        .map(DocId)
        .map_err(|_| AppError::NotFound)?;
    let user = crate::auth::authenticate(&state, &headers, query.token.as_deref()).await?;
    let info = crate::access::authorize_doc(&state, &user, doc).await?;
    let ext = query.ext.as_deref() == Some("1");
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
        .on_upgrade(move |socket| serve_socket(state, socket, info, user, ext)))
}

async fn serve_socket(state: AppState, socket: WebSocket, info: DocInfo, user: User, ext: bool) {
    let (out_tx, out_rx) = mpsc::channel(state.config.outbound_queue.max(16));
    let (closer, _) = watch::channel(None);
    let closer = Arc::new(closer);
    let id = state.docs.next_conn_id();
    let peer = Peer {
        id,
        user: user.id,
        ext,
        out: out_tx.clone(),
        closer: closer.clone(),
    };
    let (sink, stream) = socket.split();
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
        },
    )
    .await;
    tracing::debug!(doc = %info.id, conn = id.0, "sync connection closed");
}

fn to_ws(frame: OutFrame) -> WsMessage {
    match frame {
        OutFrame::Binary(bytes) => WsMessage::Binary(bytes),
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
