//! Timing rules, kept pure: the reconnect backoff and the heartbeat's verdict.
//!
//! Times are milliseconds as `f64` (what `Date.now()` gives), passed in by the
//! caller, so the rules are tested without clocks or timers.

/// First retry delay after a failure.
pub(crate) const BACKOFF_BASE_MS: f64 = 500.0;
/// Longest wait between two attempts (the issue asks for about 30 s).
pub(crate) const BACKOFF_CAP_MS: f64 = 30_000.0;
/// How often a ping is sent on an open connection.
pub(crate) const PING_EVERY_MS: f64 = 5_000.0;
/// Silence after which an open connection is declared dead (two ping
/// intervals plus slack for a busy main thread): a half-open socket looks open.
pub(crate) const DEAD_AFTER_MS: f64 = 2.0 * PING_EVERY_MS + 2_000.0;
/// A socket that has not opened after this long is abandoned and retried.
pub(crate) const CONNECT_TIMEOUT_MS: f64 = 10_000.0;
/// Awareness states are renewed this often, as y-protocols clients do, so
/// stock Yjs peers (which drop states older than 30 s) keep seeing us.
pub(crate) const AWARENESS_RENEW_MS: f64 = 15_000.0;
/// A peer's awareness state not renewed for this long is dropped.
pub(crate) const AWARENESS_TIMEOUT_MS: f64 = 30_000.0;

/// Exponential backoff with "equal jitter": the n-th consecutive failure waits
/// between half and all of `min(cap, base · 2ⁿ)`, so clients that lost the
/// server together do not come back in lockstep, yet never wait near zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Backoff {
    /// Consecutive failures since the last good connection.
    failures: u32,
}

impl Backoff {
    /// The delay before the next attempt; `random` is uniform in `[0, 1)`.
    pub fn next_delay(&mut self, random: f64) -> f64 {
        let exp = BACKOFF_BASE_MS * 2f64.powi(self.failures.min(16) as i32);
        let ceiling = exp.min(BACKOFF_CAP_MS);
        self.failures = self.failures.saturating_add(1);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        ceiling / 2.0 + ceiling / 2.0 * random
    }

    /// After the server closed us for misbehaving (too fast, too large,
    /// malformed), wait at least a few seconds whatever the history.
    pub fn penalize(&mut self) {
        self.failures = self.failures.max(3);
    }

    /// A connection completed its handshake: start over.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// What the heartbeat tick should do with the current connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Open and heard from recently: send a ping.
    Ping,
    /// Still opening, within the time allowed.
    Wait,
    /// Silent for too long (or never opened): drop it and reconnect.
    Dead,
}

/// The heartbeat's verdict at `now` for a socket opened (or started) at
/// `since` that was last heard from at `heard` (`None` while still opening).
pub(crate) fn beat(now: f64, since: f64, heard: Option<f64>) -> Beat {
    match heard {
        Some(heard) if now - heard > DEAD_AFTER_MS => Beat::Dead,
        Some(_) => Beat::Ping,
        None if now - since > CONNECT_TIMEOUT_MS => Beat::Dead,
        None => Beat::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // In the browser too (`cargo test … --target wasm32-unknown-unknown --lib`).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let mut b = Backoff::default();
        let d: Vec<f64> = (0..10).map(|_| b.next_delay(1.0)).collect();
        assert_eq!(&d[..4], &[500.0, 1000.0, 2000.0, 4000.0]);
        assert_eq!(d[9], BACKOFF_CAP_MS);
        let low = Backoff::default().next_delay(0.0);
        assert_eq!(low, 250.0);
        let mut capped = Backoff { failures: 40 };
        let x = capped.next_delay(0.3);
        assert!((BACKOFF_CAP_MS / 2.0..=BACKOFF_CAP_MS).contains(&x));
        assert_eq!(Backoff::default().next_delay(f64::NAN), 375.0);
    }

    #[test]
    fn reset_and_penalize() {
        let mut b = Backoff::default();
        b.next_delay(1.0);
        b.reset();
        assert_eq!(b.next_delay(1.0), 500.0);
        b.penalize();
        assert_eq!(b.next_delay(1.0), 4000.0);
    }

    #[test]
    fn heartbeat_detects_half_open_and_stuck_connects() {
        assert_eq!(beat(1_000.0, 0.0, None), Beat::Wait);
        assert_eq!(beat(CONNECT_TIMEOUT_MS + 1.0, 0.0, None), Beat::Dead);
        assert_eq!(beat(20_000.0, 0.0, Some(15_000.0)), Beat::Ping);
        assert_eq!(beat(30_000.0, 0.0, Some(15_000.0)), Beat::Dead);
    }
}
