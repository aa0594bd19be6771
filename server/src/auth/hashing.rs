//! Bounded password hashing for sign-ins.
//!
//! argon2 with its default costs needs 19 MiB per hash: 50 sign-ins at once
//! once took the process from 11 MB to 990 MB. Hashes therefore run on a fixed
//! set of threads (one per CPU, at most 8), fed by a bounded queue; a sign-in
//! that finds the queue full is refused at once (429 with `Retry-After`).
//!
//! Why dedicated threads rather than a semaphore around `spawn_blocking`: the
//! semaphore bounds how many hashes run at once, but not the memory that stays
//! behind. Each hashing thread keeps one argon2 buffer for reuse
//! ([`super::verify_password`]); on tokio's blocking pool (up to 512 threads)
//! that would be one buffer per thread ever used, on a fixed pool it is one per
//! CPU. Measured on 2 CPUs with 3 × 50 parallel sign-ins: semaphore over
//! `spawn_blocking` 14 → 329 MB; this pool 14 → 56 MB, flat after the first 50.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{AppError, Result};

/// One hash to compute, with its answer channel inside.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of hashing threads with a bounded queue in front.
#[derive(Debug)]
pub struct HashLimiter {
    /// Jobs waiting for a thread; `try_send` fails when `max_waiting` wait already.
    jobs: SyncSender<Job>,
    /// How many threads were started (0 only if the OS refused every one).
    workers: usize,
}

impl HashLimiter {
    /// `workers` (at least 1) hashing threads with room for `max_waiting` more jobs.
    pub fn new(workers: usize, max_waiting: usize) -> HashLimiter {
        let (jobs, queue) = sync_channel::<Job>(max_waiting);
        let queue = Arc::new(Mutex::new(queue));
        let mut started = 0;
        for i in 0..workers.max(1) {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("xieshang-hash-{i}"))
                .spawn(move || work(&queue));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a password hashing thread"),
            }
        }
        HashLimiter {
            jobs,
            workers: started,
        }
    }

    /// Runs `work` on a hashing thread, waiting for a free one, or answers
    /// [`AppError::TooMany`] at once when the queue is full. A job whose caller
    /// has gone still runs to its end, so the threads stay the only bound.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        self.submit(work)?
            .await
            .map_err(|_| AppError::Internal("password check failed".into()))
    }

    /// Queues `work` and answers where its result will arrive: the
    /// non-waiting half of [`HashLimiter::run`].
    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<T>> {
        if self.workers == 0 {
            return Err(AppError::Internal("no password hashing thread".into()));
        }
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answered),
            Err(TrySendError::Full(_)) => Err(AppError::TooMany),
            Err(TrySendError::Disconnected(_)) => Err(AppError::Internal(
                "password hashing threads stopped".into(),
            )),
        }
    }
}

/// A hashing thread: takes jobs until the limiter is gone. A panicking job
/// loses only its own answer.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let queue = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            queue.recv()
        };
        match job {
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// Sign-ins waiting for a hashing thread, per process.
const MAX_WAITING_HASHES: usize = 256;

/// The process-wide limiter of sign-in hashing: one thread per CPU (at most 8).
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
        let limiter = HashLimiter::new(1, 1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let first = limiter
            .submit(move || {
                let _ = started_tx.send(std::thread::current().name().map(String::from));
                let _ = hold.recv();
                1
            })
            .unwrap();
        let thread = started.await.unwrap();
        assert_eq!(thread.as_deref(), Some("xieshang-hash-0"));
        // The one thread is busy: one job may wait, the next is refused at once.
        let second = limiter.submit(|| 2).unwrap();
        assert!(matches!(limiter.submit(|| 3), Err(AppError::TooMany)));
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 1);
        assert_eq!(second.await.unwrap(), 2);
        assert_eq!(limiter.run(|| 4).await.unwrap(), 4, "room again");
        let panicked = limiter.run(|| -> i32 { panic!("a job that panics") }).await;
        assert!(matches!(panicked, Err(AppError::Internal(_))));
        assert_eq!(limiter.run(|| 5).await.unwrap(), 5, "the thread survived");
    }
}
