//! Extension messages (type 100): our own client's additions to y-websocket.
//!
//! Stock Yjs clients never see these: the server sends them only on
//! connections that negotiated `?ext=1`. They carry what the plain protocol
//! cannot say: which local changes are durable, that a document was
//! finalized, and a heartbeat that detects half-open connections.

use super::codec::{write_var_string, write_var_uint, DecodeError, Reader};

/// Extension kind of [`ExtMessage::Ack`].
pub const EXT_ACK: u64 = 0;
/// Extension kind of [`ExtMessage::ReadOnly`].
pub const EXT_READ_ONLY: u64 = 1;
/// Extension kind of [`ExtMessage::Ping`].
pub const EXT_PING: u64 = 2;
/// Extension kind of [`ExtMessage::Pong`].
pub const EXT_PONG: u64 = 3;

/// One extension message, after the `[100]` type byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtMessage {
    /// Server → client: the first `count` update-carrying messages (SyncStep2 and
    /// Update) this connection sent are committed to storage, so the client may
    /// drop them from its outbox. Cumulative, so a lost ack is repaired by the next.
    Ack {
        /// Number of update-carrying messages received on this connection and made durable.
        count: u64,
    },
    /// Server → client: the document no longer accepts updates (e.g. finalized),
    /// so the client stops sending and shows why instead of retrying forever.
    ReadOnly {
        /// Human-readable reason, shown to the user.
        reason: String,
    },
    /// Client → server heartbeat: a half-open connection looks open until a ping
    /// goes unanswered.
    Ping {
        /// Echoed in the matching [`ExtMessage::Pong`] so stale answers are ignored.
        nonce: u64,
    },
    /// Server → client answer to a [`ExtMessage::Ping`].
    Pong {
        /// The nonce of the ping being answered.
        nonce: u64,
    },
}

impl ExtMessage {
    /// The extension kind written after the `[100]` type byte.
    pub fn kind(&self) -> u64 {
        match self {
            ExtMessage::Ack { .. } => EXT_ACK,
            ExtMessage::ReadOnly { .. } => EXT_READ_ONLY,
            ExtMessage::Ping { .. } => EXT_PING,
            ExtMessage::Pong { .. } => EXT_PONG,
        }
    }

    /// Appends `[varUint kind][fields…]` (without the message type byte).
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        write_var_uint(out, self.kind());
        match self {
            ExtMessage::Ack { count } => write_var_uint(out, *count),
            ExtMessage::ReadOnly { reason } => write_var_string(out, reason),
            ExtMessage::Ping { nonce } | ExtMessage::Pong { nonce } => write_var_uint(out, *nonce),
        }
    }

    /// Reads `[varUint kind][fields…]`; the caller checks for trailing bytes.
    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let kind = r.read_var_uint()?;
        Ok(match kind {
            EXT_ACK => ExtMessage::Ack {
                count: r.read_var_uint()?,
            },
            EXT_READ_ONLY => ExtMessage::ReadOnly {
                reason: r.read_var_str()?.to_owned(),
            },
            EXT_PING => ExtMessage::Ping {
                nonce: r.read_var_uint()?,
            },
            EXT_PONG => ExtMessage::Pong {
                nonce: r.read_var_uint()?,
            },
            other => return Err(DecodeError::UnknownExtKind(other)),
        })
    }
}
