//! The y-websocket wire protocol (lib0 framing) plus our negotiated extensions.
//!
//! One WebSocket binary frame carries exactly one [`Message`]. The layout is the
//! one stock `y-websocket` clients speak, so they interoperate unchanged:
//!
//! | first varuint | rest of the frame |
//! |---|---|
//! | `0` sync | `varUint 0/1/2` (step 1 / step 2 / update), `varUint8Array` payload |
//! | `1` awareness | `varUint8Array` raw awareness update |
//! | `2` auth | `varUint 0` (permission denied), `varString` reason |
//! | `3` query awareness | nothing |
//! | `100` extension | `varUint kind`, fields (see [`ExtMessage`]) |
//!
//! Payloads (state vectors, updates, awareness updates) stay opaque bytes here;
//! `crate::sync` decodes them with yrs, contained.

mod codec;
mod ext;
#[cfg(test)]
mod tests;

pub use codec::{
    read_var_uint, write_var_bytes, write_var_string, write_var_uint, DecodeError, Reader,
    MAX_VAR_UINT_LEN,
};
pub use ext::{ExtMessage, EXT_ACK, EXT_PING, EXT_PONG, EXT_READ_ONLY};

/// Message type of [`Message::Sync`].
pub const MSG_SYNC: u64 = 0;
/// Message type of [`Message::Awareness`].
pub const MSG_AWARENESS: u64 = 1;
/// Message type of [`Message::Auth`].
pub const MSG_AUTH: u64 = 2;
/// Message type of [`Message::QueryAwareness`].
pub const MSG_QUERY_AWARENESS: u64 = 3;
/// Message type of [`Message::Ext`]: far from the y-protocols range so it never collides.
pub const MSG_EXT: u64 = 100;

/// Sync sub-type of [`SyncMessage::Step1`].
pub const SYNC_STEP1: u64 = 0;
/// Sync sub-type of [`SyncMessage::Step2`].
pub const SYNC_STEP2: u64 = 1;
/// Sync sub-type of [`SyncMessage::Update`].
pub const SYNC_UPDATE: u64 = 2;
/// Auth sub-type of [`AuthMessage::PermissionDenied`] (the only one y-websocket sends).
pub const AUTH_PERMISSION_DENIED: u64 = 0;

/// One frame of the sync WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Document synchronisation (the CRDT payloads).
    Sync(SyncMessage),
    /// Presence: the raw y-protocols awareness update (who is here, cursors).
    /// Kept as bytes so the server can relay it without re-encoding.
    Awareness(Vec<u8>),
    /// Server → client: access refused, with a reason a person can read.
    Auth(AuthMessage),
    /// "Send me everyone's awareness state", e.g. after a reconnect.
    QueryAwareness,
    /// Our negotiated extensions; only for clients that asked with `?ext=1`.
    Ext(ExtMessage),
}

/// The three steps of the y-protocols sync exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncMessage {
    /// "Here is what I have": an encoded v1 state vector; the peer answers with Step2.
    Step1(Vec<u8>),
    /// "Here is what you lack": a v1 update computed against the peer's Step1.
    Step2(Vec<u8>),
    /// A live incremental v1 update.
    Update(Vec<u8>),
}

/// Authorization messages (y-protocols `auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMessage {
    /// The connection may not read or write this document.
    PermissionDenied {
        /// Why, for the person at the other end.
        reason: String,
    },
}

impl SyncMessage {
    /// The sync sub-type written after `[0]`.
    pub fn sub_type(&self) -> u64 {
        match self {
            SyncMessage::Step1(_) => SYNC_STEP1,
            SyncMessage::Step2(_) => SYNC_STEP2,
            SyncMessage::Update(_) => SYNC_UPDATE,
        }
    }

    /// The payload bytes, whatever the step.
    pub fn payload(&self) -> &[u8] {
        match self {
            SyncMessage::Step1(b) | SyncMessage::Step2(b) | SyncMessage::Update(b) => b,
        }
    }
}

impl Message {
    /// A live update frame (`[0][2][update]`), the one sent for every local edit.
    pub fn update(bytes: Vec<u8>) -> Self {
        Message::Sync(SyncMessage::Update(bytes))
    }

    /// A SyncStep1 frame carrying an encoded v1 state vector.
    pub fn step1(sv_bytes: Vec<u8>) -> Self {
        Message::Sync(SyncMessage::Step1(sv_bytes))
    }

    /// A SyncStep2 frame carrying a v1 update (the answer to a Step1).
    pub fn step2(bytes: Vec<u8>) -> Self {
        Message::Sync(SyncMessage::Step2(bytes))
    }

    /// The y-websocket message type (first varuint of the frame).
    pub fn message_type(&self) -> u64 {
        match self {
            Message::Sync(_) => MSG_SYNC,
            Message::Awareness(_) => MSG_AWARENESS,
            Message::Auth(_) => MSG_AUTH,
            Message::QueryAwareness => MSG_QUERY_AWARENESS,
            Message::Ext(_) => MSG_EXT,
        }
    }

    /// True for SyncStep2 and Update: the messages that change a document, and
    /// therefore the ones that [`ExtMessage::Ack`] counts.
    pub fn carries_update(&self) -> bool {
        matches!(
            self,
            Message::Sync(SyncMessage::Step2(_)) | Message::Sync(SyncMessage::Update(_))
        )
    }

    /// Encodes the frame into a fresh buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len_hint());
        self.encode_into(&mut out);
        out
    }

    /// Appends the frame to `out`, so callers can reuse one buffer.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        write_var_uint(out, self.message_type());
        match self {
            Message::Sync(sync) => {
                write_var_uint(out, sync.sub_type());
                write_var_bytes(out, sync.payload());
            }
            Message::Awareness(update) => write_var_bytes(out, update),
            Message::Auth(AuthMessage::PermissionDenied { reason }) => {
                write_var_uint(out, AUTH_PERMISSION_DENIED);
                write_var_string(out, reason);
            }
            Message::QueryAwareness => {}
            Message::Ext(ext) => ext.encode_body(out),
        }
    }

    /// Decodes exactly one frame; leftover bytes are [`DecodeError::TrailingBytes`].
    ///
    /// Safe on hostile input: no panic, and no allocation larger than `buf`.
    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(buf);
        let message = match r.read_var_uint()? {
            MSG_SYNC => {
                let sub_type = r.read_var_uint()?;
                let payload = r.read_var_bytes()?.to_vec();
                Message::Sync(match sub_type {
                    SYNC_STEP1 => SyncMessage::Step1(payload),
                    SYNC_STEP2 => SyncMessage::Step2(payload),
                    SYNC_UPDATE => SyncMessage::Update(payload),
                    other => return Err(DecodeError::UnknownSyncType(other)),
                })
            }
            MSG_AWARENESS => Message::Awareness(r.read_var_bytes()?.to_vec()),
            MSG_AUTH => match r.read_var_uint()? {
                AUTH_PERMISSION_DENIED => Message::Auth(AuthMessage::PermissionDenied {
                    reason: r.read_var_str()?.to_owned(),
                }),
                other => return Err(DecodeError::UnknownAuthType(other)),
            },
            MSG_QUERY_AWARENESS => Message::QueryAwareness,
            MSG_EXT => Message::Ext(ExtMessage::decode_body(&mut r)?),
            other => return Err(DecodeError::UnknownMessageType(other)),
        };
        r.finish()?;
        Ok(message)
    }

    /// A capacity guess that avoids regrowing the output for large payloads.
    fn encoded_len_hint(&self) -> usize {
        let payload = match self {
            Message::Sync(sync) => sync.payload().len(),
            Message::Awareness(update) => update.len(),
            Message::Auth(AuthMessage::PermissionDenied { reason }) => reason.len(),
            Message::Ext(ExtMessage::ReadOnly { reason }) => reason.len(),
            Message::QueryAwareness | Message::Ext(_) => 0,
        };
        payload + 2 * MAX_VAR_UINT_LEN
    }
}
