//! Fuzzes what the server does with every WebSocket frame: decode the
//! y-websocket message, apply its payload to several seeded documents, then
//! every read the server and a member's browser make afterwards
//! (`xieshang_server::fuzzing::exercise`; its docs list them).
//!
//! Panics inside `sync::contain` are part of the design (they become
//! `SyncError::Panicked`), so the panic hook is silenced; anything the
//! containment cannot catch (a sanitizer report, abort, out-of-memory, stack
//! overflow, timeout, or a panic outside `contain`, such as a broken invariant
//! in `exercise`) is still reported as a crash.

#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

/// Replaces libfuzzer-sys's abort-on-any-panic hook once per process.
static QUIET_PANICS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys still aborts on a panic that unwinds out of this closure.
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    xieshang_server::fuzzing::exercise(data);
});
