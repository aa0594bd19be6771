//! The per-connection message rate: governor's GCRA limiter (a token bucket
//! without the floating-point bookkeeping), read through tokio's clock so
//! `tokio::time::pause` drives it in tests just as it drives the session's
//! other timers.

use std::num::NonZeroU32;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// Time as tokio sees it: real time normally, the paused clock in tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// `rate` messages a second sustained, `burst` at once; `None` when the rate
/// is 0 (no limit).
pub struct MessageRate(
    Option<RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>>,
);

impl MessageRate {
    /// A full bucket: a new connection may send `burst` messages at once.
    pub fn new(rate: u32, burst: u32) -> MessageRate {
        MessageRate(NonZeroU32::new(rate).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::direct_with_clock(Quota::per_second(rate).allow_burst(burst), TokioClock)
        }))
    }

    /// Whether one more message fits now (and counts it if so).
    pub fn take(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|limiter| limiter.check().is_ok())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::MessageRate;

    #[tokio::test(start_paused = true)]
    async fn allows_burst_then_rate() {
        let b = MessageRate::new(10, 5);
        assert_eq!((0..10).filter(|_| b.take()).count(), 5);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!((0..10).filter(|_| b.take()).count(), 5);
        tokio::time::advance(Duration::from_millis(99)).await;
        assert!(!b.take(), "not a whole interval yet");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(b.take());
        // Idle time saves up no more than the burst.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!((0..10).filter(|_| b.take()).count(), 5);
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let b = MessageRate::new(0, 1);
        assert!((0..1000).all(|_| b.take()));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_burst_is_one() {
        let b = MessageRate::new(1, 0);
        assert!(b.take());
        assert!(!b.take());
    }
}
