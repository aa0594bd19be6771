//! Structural pre-checks of yrs v1 payloads, run before yrs sees the bytes.
//!
//! yrs reserves memory from counts it reads off the wire (clients, blocks,
//! map entries…). A few bytes can claim billions of entries, and under a hard
//! memory limit (a container, libFuzzer) even a *fallible* reservation of that
//! size is fatal. yrs also recurses once per nesting level of an `Any` value,
//! so a deep enough value overflows the stack, which no `catch_unwind` can stop.
//!
//! So we walk the same grammar yrs's v1 decoder walks, with our strict lib0
//! reader, and refuse any count that the remaining bytes could not possibly
//! hold, any nesting deeper than [`MAX_ANY_DEPTH`], and any trailing bytes. The
//! walk allocates nothing. It is deliberately *stricter* than yrs (values that
//! yrs would silently wrap are refused), never looser, so whenever it accepts,
//! yrs parses the same structure and its reservations stay proportional to the
//! input size.
//!
//! Two deliberate policies on top. Legacy `ContentJSON` is refused: Yjs has
//! not written it for years, and yrs 0.28 decodes one more string than it
//! encodes, so an accepted JSON item would make every later snapshot of the
//! document undecodable. And subdocuments are refused. Xieshang never
//! creates them, and yrs keeps a parent and its subdocuments alive through a
//! reference cycle, so every update carrying one would leak its whole
//! document when the server evicts it (found by the `decode_apply` fuzzer).

use crate::protocol::{DecodeError, Reader};

/// Deepest nesting of `Any` arrays/maps accepted (JSON documents rarely pass 20).
pub const MAX_ANY_DEPTH: usize = 64;

/// Why a payload was refused before decoding.
pub type GuardResult = Result<(), String>;

/// yrs v1 block info byte values and flags (see the Yjs update format).
const BLOCK_GC: u8 = 0;
const BLOCK_SKIP: u8 = 10;
const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;
/// Content kinds of an item (`info & 0b1111`).
const CONTENT_DELETED: u8 = 1;
const CONTENT_JSON: u8 = 2;
const CONTENT_BINARY: u8 = 3;
const CONTENT_STRING: u8 = 4;
const CONTENT_EMBED: u8 = 5;
const CONTENT_FORMAT: u8 = 6;
const CONTENT_TYPE: u8 = 7;
const CONTENT_ANY: u8 = 8;
const CONTENT_DOC: u8 = 9;
/// Shared type refs that yrs (without the `weak` feature) accepts, minus the
/// subdocument ref (9); XML elements carry a name.
const TYPE_XML_ELEMENT: u8 = 3;
const PLAIN_TYPE_REFS: [u8; 6] = [0, 1, 2, 4, 5, 6];
const TYPE_UNDEFINED: u8 = 15;

fn wire(e: DecodeError) -> String {
    e.to_string()
}

/// Reads a varuint that yrs reads as `u32`; larger values are refused, not wrapped.
fn read_u32(r: &mut Reader<'_>) -> Result<u32, String> {
    let v = r.read_var_uint().map_err(wire)?;
    u32::try_from(v).map_err(|_| format!("value {v} does not fit in 32 bits"))
}

/// Refuses a count of items each at least `min_bytes` long that cannot fit in what is left.
fn claim(r: &Reader<'_>, what: &str, count: u64, min_bytes: u64) -> GuardResult {
    let needed = count.saturating_mul(min_bytes);
    if needed > r.remaining() as u64 {
        Err(format!(
            "{what}: claims {count} entries but only {} bytes remain",
            r.remaining()
        ))
    } else {
        Ok(())
    }
}

/// Reads a `varUint8Array` whose length yrs reads as `u32`.
fn skip_buf(r: &mut Reader<'_>) -> GuardResult {
    let len = read_u32(r)?;
    r.read_exact(u64::from(len)).map(|_| ()).map_err(wire)
}

/// Reads a `varString` (length as `u32`, bytes UTF-8).
fn skip_str(r: &mut Reader<'_>) -> GuardResult {
    let len = read_u32(r)?;
    let bytes = r.read_exact(u64::from(len)).map_err(wire)?;
    std::str::from_utf8(bytes)
        .map(|_| ())
        .map_err(|_| wire(DecodeError::InvalidUtf8))
}

/// Reads an ID: client (`u64`) and clock (`u32`).
fn skip_id(r: &mut Reader<'_>) -> GuardResult {
    r.read_var_uint().map_err(wire)?;
    read_u32(r).map(|_| ())
}

/// Checks a complete v1 update (`Y.encodeStateAsUpdate` / `Doc.on('update')` bytes).
pub fn check_update(bytes: &[u8]) -> GuardResult {
    let mut r = Reader::new(bytes);
    let clients = read_u32(&mut r)?;
    // Each client section needs at least: block count, client id, start clock.
    claim(&r, "update clients", u64::from(clients), 3)?;
    for _ in 0..clients {
        let blocks = read_u32(&mut r)?;
        r.read_var_uint().map_err(wire)?; // client id
        read_u32(&mut r)?; // first clock
        claim(&r, "update blocks", u64::from(blocks), 2)?;
        for _ in 0..blocks {
            check_block(&mut r)?;
        }
    }
    check_delete_set(&mut r)?;
    r.finish().map_err(wire)
}

/// Checks one block of an update's struct section.
fn check_block(r: &mut Reader<'_>) -> GuardResult {
    let info = r.read_u8().map_err(wire)?;
    match info {
        BLOCK_GC | BLOCK_SKIP => {
            if read_u32(r)? == 0 {
                return Err("empty GC or skip block".into());
            }
            return Ok(());
        }
        _ => {}
    }
    if info & HAS_ORIGIN != 0 {
        skip_id(r)?;
    }
    if info & HAS_RIGHT_ORIGIN != 0 {
        skip_id(r)?;
    }
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        if read_u32(r)? == 1 {
            skip_str(r)?; // named root type
        } else {
            skip_id(r)?; // parent item
        }
        if info & HAS_PARENT_SUB != 0 {
            skip_str(r)?;
        }
    }
    check_content(r, info & 0b1111)
}

/// Checks an item's content, mirroring `ItemContent::decode` in yrs 0.28.
fn check_content(r: &mut Reader<'_>, kind: u8) -> GuardResult {
    match kind {
        CONTENT_DELETED => read_u32(r).map(|_| ()),
        CONTENT_JSON => Err("legacy JSON content is not supported".into()),
        CONTENT_BINARY => skip_buf(r),
        CONTENT_STRING | CONTENT_EMBED => skip_str(r),
        CONTENT_FORMAT => {
            skip_str(r)?;
            skip_str(r)
        }
        CONTENT_TYPE => {
            let type_ref = r.read_u8().map_err(wire)?;
            if type_ref == TYPE_XML_ELEMENT {
                skip_str(r)
            } else if PLAIN_TYPE_REFS.contains(&type_ref) || type_ref == TYPE_UNDEFINED {
                Ok(())
            } else {
                Err(format!("unsupported shared type ref {type_ref}"))
            }
        }
        CONTENT_ANY => {
            let len = read_u32(r)?;
            claim(r, "any content", u64::from(len), 1)?;
            (0..len).try_for_each(|_| check_any(r, 0))
        }
        CONTENT_DOC => Err("subdocuments are not supported".into()),
        other => Err(format!("unknown content kind {other}")),
    }
}

/// Checks one lib0 `Any` value, refusing nesting deeper than [`MAX_ANY_DEPTH`].
fn check_any(r: &mut Reader<'_>, depth: usize) -> GuardResult {
    if depth > MAX_ANY_DEPTH {
        return Err("value nested too deeply".into());
    }
    match r.read_u8().map_err(wire)? {
        127 | 126 | 121 | 120 => Ok(()), // undefined, null, false, true
        125 => skip_var_int(r),
        124 => r.read_exact(4).map(|_| ()).map_err(wire),
        123 | 122 => r.read_exact(8).map(|_| ()).map_err(wire),
        119 => skip_str(r),
        118 => {
            let len = r.read_var_uint().map_err(wire)?;
            claim(r, "map value", len, 2)?;
            (0..len).try_for_each(|_| {
                skip_str(r)?;
                check_any(r, depth + 1)
            })
        }
        117 => {
            let len = r.read_var_uint().map_err(wire)?;
            claim(r, "array value", len, 1)?;
            (0..len).try_for_each(|_| check_any(r, depth + 1))
        }
        116 => skip_buf(r),
        tag => Err(format!("unknown value tag {tag}")),
    }
}

/// Skips a lib0 signed varint, refusing more bits than yrs can shift into an `i64`.
fn skip_var_int(r: &mut Reader<'_>) -> GuardResult {
    let mut byte = r.read_u8().map_err(wire)?;
    // First byte: 6 value bits; each next byte 7 more. Nine more bytes reach bit 62.
    for _ in 0..9 {
        if byte & 0x80 == 0 {
            return Ok(());
        }
        byte = r.read_u8().map_err(wire)?;
    }
    if byte & 0x80 == 0 {
        Ok(())
    } else {
        Err(wire(DecodeError::VarIntTooLong))
    }
}

/// Checks the delete set that ends every update.
fn check_delete_set(r: &mut Reader<'_>) -> GuardResult {
    let clients = read_u32(r)?;
    claim(r, "delete set clients", u64::from(clients), 2)?;
    for _ in 0..clients {
        r.read_var_uint().map_err(wire)?; // client id
        let ranges = read_u32(r)?;
        claim(r, "delete ranges", u64::from(ranges), 2)?;
        for _ in 0..ranges {
            let clock = read_u32(r)?;
            let len = read_u32(r)?;
            if clock.checked_add(len).is_none() {
                return Err("delete range overflows the clock".into());
            }
        }
    }
    Ok(())
}

/// Checks an encoded v1 state vector: count, then (client, clock) pairs.
pub fn check_state_vector(bytes: &[u8]) -> GuardResult {
    let mut r = Reader::new(bytes);
    let len = read_u32(&mut r)?;
    claim(&r, "state vector", u64::from(len), 2)?;
    for _ in 0..len {
        r.read_var_uint().map_err(wire)?;
        read_u32(&mut r)?;
    }
    r.finish().map_err(wire)
}

/// Checks a y-protocols awareness update: count, then (client, clock, JSON state).
pub fn check_awareness(bytes: &[u8]) -> GuardResult {
    let mut r = Reader::new(bytes);
    let len = r.read_var_uint().map_err(wire)?;
    claim(&r, "awareness", len, 3)?;
    for _ in 0..len {
        r.read_var_uint().map_err(wire)?;
        read_u32(&mut r)?;
        skip_str(&mut r)?;
    }
    r.finish().map_err(wire)
}
