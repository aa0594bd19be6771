//! Bounded password hashing for sign-ins: argon2 with its default costs needs
//! 19 MiB per hash, so unbounded parallel sign-ins once took the process from
//! 11 MB to 990 MB. A semaphore lets one hash per CPU run; a bounded number wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::error::{AppError, Result};

/// Bounds the password hashing of sign-ins: at most `concurrent` hashes run at
/// once (argon2's default costs 19 MiB each, so 50 at once once took a process
/// from 11 MB to 990 MB), and at most `max_waiting` more wait for a turn; beyond
/// that a sign-in is refused at once (429 with `Retry-After`).
#[derive(Debug)]
pub struct HashLimiter {
    permits: Arc<Semaphore>,
    /// Sign-ins holding or waiting for a permit.
    in_flight: AtomicUsize,
    /// How many may be in flight at once: permits plus waiting room.
    capacity: usize,
}

/// Counts a sign-in as in flight until dropped (also when the client goes away).
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashLimiter {
    /// A limiter running `concurrent` (at least 1) hashes with `max_waiting` queued.
    pub fn new(concurrent: usize, max_waiting: usize) -> HashLimiter {
        let concurrent = concurrent.max(1);
        HashLimiter {
            permits: Arc::new(Semaphore::new(concurrent)),
            in_flight: AtomicUsize::new(0),
            capacity: concurrent.saturating_add(max_waiting),
        }
    }

    /// Runs `work` on a blocking thread once a permit is free, or answers
    /// [`AppError::TooMany`] at once when the queue is full. The permit moves
    /// into the blocking task, so it stays taken until the hash is done even if
    /// the request is dropped meanwhile.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let _counted = InFlight(&self.in_flight);
        if before >= self.capacity {
            return Err(AppError::TooMany);
        }
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(format!("hash limiter: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(format!("password check task: {e}")))
    }
}

/// Sign-ins waiting for a hashing turn beyond those running, per process.
const MAX_WAITING_HASHES: usize = 256;

/// The process-wide limiter of sign-in hashing: one permit per CPU (at most 8).
/// Process-wide because what it protects, CPU and memory, is.
pub fn login_hashing() -> &'static HashLimiter {
    static LIMITER: OnceLock<HashLimiter> = OnceLock::new();
    LIMITER.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashLimiter::new(cpus.min(8), MAX_WAITING_HASHES)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashing_is_bounded_and_refuses_beyond_the_queue() {
        let limiter = Arc::new(HashLimiter::new(1, 1));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let first = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                limiter
                    .run(move || {
                        let _ = started_tx.send(());
                        let _ = hold.recv();
                        1
                    })
                    .await
            })
        };
        started.await.unwrap();
        // The permit is taken: one more may wait, the next is refused at once.
        let second = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move { limiter.run(|| 2).await })
        };
        while limiter.in_flight.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(limiter.run(|| 3).await, Err(AppError::TooMany)));
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert_eq!(limiter.run(|| 4).await.unwrap(), 4, "room again");
        assert_eq!(limiter.in_flight.load(Ordering::Acquire), 0);
    }
}
