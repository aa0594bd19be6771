//! lib0 primitives: variable-length unsigned integers, byte arrays and strings.
//!
//! These are the only building blocks of the y-websocket frame. Every reader here
//! treats its input as hostile: it never indexes out of bounds, never trusts a
//! length before comparing it with the bytes that are really left, and reports
//! one [`DecodeError`] instead of panicking.

use thiserror::Error;

/// Longest lib0 varuint that can still hold a `u64` (10 groups of 7 bits).
pub const MAX_VAR_UINT_LEN: usize = 10;

/// Why a frame could not be decoded.
///
/// The server turns every variant into one close reason for the offending
/// connection, so the variants name *what* was wrong, never internal state.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The frame ended in the middle of a value: a truncated or cut message.
    #[error("unexpected end of message")]
    UnexpectedEof,
    /// A varuint used more than ten bytes or overflowed `u64`: not lib0.
    #[error("variable-length integer too long")]
    VarIntTooLong,
    /// A length prefix claims more bytes than the frame has left.
    #[error("length prefix exceeds the remaining bytes")]
    LengthOutOfBounds,
    /// The first varuint of the frame is not a message type we know.
    #[error("unknown message type {0}")]
    UnknownMessageType(u64),
    /// A sync message whose sub-type is not step 1, step 2 or update.
    #[error("unknown sync message type {0}")]
    UnknownSyncType(u64),
    /// An extension message of a kind this version does not know.
    #[error("unknown extension kind {0}")]
    UnknownExtKind(u64),
    /// A string that is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// Bytes left over after a complete message: a frame holds exactly one message.
    #[error("trailing bytes after the message")]
    TrailingBytes,
    /// An auth message whose sub-type is not "permission denied" (0).
    ///
    /// Added to the contract: y-websocket only ever sends sub-type 0, and we
    /// refuse to guess what any other sub-type would mean.
    #[error("unknown auth message type {0}")]
    UnknownAuthType(u64),
}

/// Appends `n` as a lib0 varuint (7 bits per byte, low groups first, high bit = more).
///
/// Public because the server and tests build frames by hand in a few places
/// (e.g. to produce deliberately malformed input).
pub fn write_var_uint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads one lib0 varuint at `*pos`, advancing `*pos` past it on success.
///
/// Rejects encodings longer than ten bytes and values that overflow `u64`, so
/// a peer cannot make us loop or wrap around. On error `*pos` is unspecified.
pub fn read_var_uint(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut value: u64 = 0;
    for i in 0..MAX_VAR_UINT_LEN {
        let byte = *buf.get(*pos).ok_or(DecodeError::UnexpectedEof)?;
        *pos += 1;
        let group = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        // The tenth byte may only contribute the single bit left in a u64.
        if i == MAX_VAR_UINT_LEN - 1 && group > 1 {
            return Err(DecodeError::VarIntTooLong);
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::VarIntTooLong)
}

/// Appends a lib0 `varUint8Array`: varuint length, then the bytes.
pub fn write_var_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_var_uint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a lib0 `varString`: the UTF-8 bytes as a `varUint8Array`.
pub fn write_var_string(out: &mut Vec<u8>, s: &str) {
    write_var_bytes(out, s.as_bytes());
}

/// A cursor over one untrusted frame.
///
/// Borrowing readers hand out sub-slices of the frame, so nothing is allocated
/// until a caller decides to own a value, and only after its length was checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    /// The whole frame.
    buf: &'a [u8],
    /// Index of the next unread byte; never greater than `buf.len()`.
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read; what every claimed length is checked against.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Reads one byte.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        let byte = *self.buf.get(self.pos).ok_or(DecodeError::UnexpectedEof)?;
        self.pos += 1;
        Ok(byte)
    }

    /// Reads one lib0 varuint (see [`read_var_uint`]).
    pub fn read_var_uint(&mut self) -> Result<u64, DecodeError> {
        let mut pos = self.pos;
        let value = read_var_uint(self.buf, &mut pos)?;
        self.pos = pos;
        Ok(value)
    }

    /// Reads exactly `len` bytes, failing (without allocating) if fewer are left.
    pub fn read_exact(&mut self, len: u64) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(len).map_err(|_| DecodeError::LengthOutOfBounds)?;
        if len > self.remaining() {
            return Err(DecodeError::LengthOutOfBounds);
        }
        let end = self.pos + len;
        let slice = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError::LengthOutOfBounds)?;
        self.pos = end;
        Ok(slice)
    }

    /// Reads a `varUint8Array`, borrowing its bytes from the frame.
    pub fn read_var_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.read_var_uint()?;
        self.read_exact(len)
    }

    /// Reads a `varString`, checking that it is UTF-8.
    pub fn read_var_str(&mut self) -> Result<&'a str, DecodeError> {
        let bytes = self.read_var_bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)
    }

    /// Succeeds only if every byte was consumed: one frame, one message.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        let cases: [(u64, &[u8]); 5] = [
            (0, &[0]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for (n, bytes) in cases {
            let mut out = Vec::new();
            write_var_uint(&mut out, n);
            assert_eq!(out, bytes, "encoding {n}");
            let mut pos = 0;
            assert_eq!(read_var_uint(bytes, &mut pos), Ok(n));
            assert_eq!(pos, bytes.len());
        }
    }

    #[test]
    fn too_long_and_overflowing_varints_are_rejected() {
        let eleven = [0x80u8; 10]
            .iter()
            .copied()
            .chain([0x00])
            .collect::<Vec<_>>();
        assert_eq!(
            read_var_uint(&eleven, &mut 0),
            Err(DecodeError::VarIntTooLong)
        );
        let overflow = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            read_var_uint(&overflow, &mut 0),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            read_var_uint(&[0x80, 0x80], &mut 0),
            Err(DecodeError::UnexpectedEof)
        );
        assert_eq!(read_var_uint(&[], &mut 0), Err(DecodeError::UnexpectedEof));
    }

    #[test]
    fn huge_lengths_fail_before_allocating() {
        for claimed in [1u64 << 32, u64::MAX, 4] {
            let mut frame = Vec::new();
            write_var_uint(&mut frame, claimed);
            frame.extend_from_slice(b"abc");
            let mut r = Reader::new(&frame);
            assert_eq!(r.read_var_bytes(), Err(DecodeError::LengthOutOfBounds));
        }
    }

    #[test]
    fn strings_must_be_utf8() {
        let mut frame = Vec::new();
        write_var_bytes(&mut frame, &[0xff, 0xfe]);
        assert_eq!(
            Reader::new(&frame).read_var_str(),
            Err(DecodeError::InvalidUtf8)
        );
    }

    proptest! {
        #[test]
        fn var_uint_round_trips(n in any::<u64>()) {
            let mut out = Vec::new();
            write_var_uint(&mut out, n);
            prop_assert!(out.len() <= MAX_VAR_UINT_LEN);
            let mut pos = 0;
            prop_assert_eq!(read_var_uint(&out, &mut pos), Ok(n));
            prop_assert_eq!(pos, out.len());
        }

        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            let _ = r.read_var_str();
            let _ = r.read_var_uint();
            let _ = r.read_u8();
            let _ = r.finish();
        }
    }
}
