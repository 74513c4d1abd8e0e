//! Bounded concurrency for the CPU-bound work: at most `workers` jobs run at
//! once on the blocking pool and at most `queue` more wait; anything beyond
//! is refused at once with 503, so an overloaded server answers quickly
//! instead of piling up latency.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Admission control and the worker pool.
pub struct Pool {
    admit: Arc<Semaphore>,
    work: Arc<Semaphore>,
    workers: usize,
    capacity: usize,
}

impl Pool {
    /// A pool running `workers` jobs at once with `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            admit: Arc::new(Semaphore::new(workers + queue)),
            work: Arc::new(Semaphore::new(workers)),
            workers,
            capacity: workers + queue,
        }
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.workers - self.work.available_permits()
    }

    /// Jobs admitted now (running or waiting for a worker).
    pub fn admitted(&self) -> usize {
        self.capacity - self.admit.available_permits()
    }

    /// Runs `job` on the blocking pool; `Err(busy)` at once when full.
    ///
    /// The permits move into the job, so a job whose request timed out (its
    /// future dropped) still counts against the limit until it returns: the
    /// CPU must not be oversubscribed. Such a job returns promptly because
    /// its request's cancellation token is cancelled (see
    /// [`crate::app::App::work`]).
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let admitted = self
            .admit
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::busy())?;
        let working = self
            .work
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::busy())?;
        tokio::task::spawn_blocking(move || {
            let _permits = (admitted, working);
            job()
        })
        .await
        .map_err(|e| {
            let why = if e.is_panic() {
                "a worker panicked"
            } else {
                "a worker was cancelled"
            };
            ApiError::internal(format!("{why} while answering this request"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_pool_refuses_and_never_oversubscribes() {
        let pool = Arc::new(Pool::new(2, 1));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut held = Vec::new();
        for _ in 0..3 {
            let (pool, running, peak, rx) =
                (pool.clone(), running.clone(), peak.clone(), rx.clone());
            held.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let _ = rx.lock().unwrap().recv();
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Two running, one queued: the fourth is refused.
        let refused = pool.run(|| ()).await;
        assert_eq!(refused.unwrap_err().code, "busy");
        for _ in 0..3 {
            tx.send(()).unwrap();
        }
        for h in held {
            h.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        // Room again once the jobs are done.
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_not_a_crash() {
        let pool = Pool::new(1, 0);
        let r: Result<(), _> = pool.run(|| panic!("boom")).await;
        assert_eq!(r.unwrap_err().code, "internal");
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }
}
