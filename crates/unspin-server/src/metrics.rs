//! Prometheus metrics in the text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters of one server.
pub struct Metrics {
    started: Instant,
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    words: Mutex<BTreeMap<&'static str, u64>>,
    in_flight: AtomicI64,
    busy: AtomicU64,
    timeouts: AtomicU64,
    cancelled: AtomicU64,
    workers: usize,
    queue: usize,
}

impl Metrics {
    /// Empty counters; `workers` and `queue` are reported as gauges.
    pub fn new(workers: usize, queue: usize) -> Self {
        Self {
            started: Instant::now(),
            requests: Mutex::default(),
            latency: Mutex::default(),
            words: Mutex::default(),
            in_flight: AtomicI64::new(0),
            busy: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            workers,
            queue,
        }
    }

    /// A request started.
    pub fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended with `status` after `elapsed`; `route` is the matched
    /// route pattern (bounded set), never the raw path.
    pub fn end(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        *lock(&self.requests).entry((route, status)).or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut lat = lock(&self.latency);
        let h = lat.entry(route).or_default();
        h.count += 1;
        h.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
    }

    /// Words processed by a route's worker.
    pub fn add_words(&self, route: &'static str, words: usize) {
        *lock(&self.words).entry(route).or_default() += words as u64;
    }

    /// A request was refused because the server was full.
    pub fn count_busy(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    /// A job returned after its request was cancelled.
    pub fn count_cancelled(&self) {
        self.cancelled.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ran past the time limit.
    pub fn count_timeout(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text; `running` and `admitted` are the pool's gauges.
    pub fn render(&self, running: usize, admitted: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# HELP unspin_http_requests_total HTTP requests answered, by route and status.\n\
# TYPE unspin_http_requests_total counter"
        );
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                o,
                "unspin_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "# HELP unspin_http_request_duration_seconds Time from request to response, by route.\n\
# TYPE unspin_http_request_duration_seconds histogram"
        );
        for (route, h) in lock(&self.latency).iter() {
            for (b, c) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    o,
                    "unspin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {c}"
                );
            }
            let _ = writeln!(
                o,
                "unspin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
unspin_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
unspin_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            o,
            "# HELP unspin_words_processed_total Word tokens restored or scored, by route.\n\
# TYPE unspin_words_processed_total counter"
        );
        for (route, n) in lock(&self.words).iter() {
            let _ = writeln!(o, "unspin_words_processed_total{{route=\"{route}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP unspin_http_requests_in_flight Requests being answered now.\n\
# TYPE unspin_http_requests_in_flight gauge\n\
unspin_http_requests_in_flight {}\n\
# HELP unspin_http_rejected_total Requests refused with 503, by reason.\n\
# TYPE unspin_http_rejected_total counter\n\
unspin_http_rejected_total{{reason=\"busy\"}} {}\n\
unspin_http_rejected_total{{reason=\"timeout\"}} {}\n\
# HELP unspin_jobs_running Requests being restored or scored now.\n\
# TYPE unspin_jobs_running gauge\n\
unspin_jobs_running {}\n\
# HELP unspin_jobs_cancelled_total Jobs whose request was cancelled (timed out, client gone or shutdown) before they returned.\n\
# TYPE unspin_jobs_cancelled_total counter\n\
unspin_jobs_cancelled_total {}\n\
# HELP unspin_jobs_waiting Requests waiting for a worker now.\n\
# TYPE unspin_jobs_waiting gauge\n\
unspin_jobs_waiting {}\n\
# HELP unspin_workers Requests restored or scored at once.\n\
# TYPE unspin_workers gauge\n\
unspin_workers {}\n\
# HELP unspin_queue_capacity Requests that may wait for a worker before 503.\n\
# TYPE unspin_queue_capacity gauge\n\
unspin_queue_capacity {}\n\
# HELP unspin_uptime_seconds Seconds since the server started.\n\
# TYPE unspin_uptime_seconds gauge\n\
unspin_uptime_seconds {:.3}",
            self.in_flight.load(Ordering::Relaxed),
            self.busy.load(Ordering::Relaxed),
            self.timeouts.load(Ordering::Relaxed),
            running,
            self.cancelled.load(Ordering::Relaxed),
            admitted.saturating_sub(running),
            self.workers,
            self.queue,
            self.started.elapsed().as_secs_f64(),
        );
        o
    }
}

/// Locks a mutex; a panic elsewhere never poisons the counters for good.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new(2, 8);
        m.begin();
        m.end("/v1/restore", 200, Duration::from_millis(3));
        m.begin();
        m.end("/v1/restore", 200, Duration::from_millis(40));
        m.begin();
        m.end("/v1/restore", 400, Duration::from_micros(500));
        let t = m.render(0, 0);
        assert!(t.contains("unspin_http_requests_total{route=\"/v1/restore\",status=\"200\"} 2"));
        assert!(t.contains("unspin_http_requests_total{route=\"/v1/restore\",status=\"400\"} 1"));
        assert!(t.contains("duration_seconds_bucket{route=\"/v1/restore\",le=\"0.001\"} 1"));
        assert!(t.contains("duration_seconds_bucket{route=\"/v1/restore\",le=\"0.005\"} 2"));
        assert!(t.contains("duration_seconds_bucket{route=\"/v1/restore\",le=\"0.05\"} 3"));
        assert!(t.contains("duration_seconds_count{route=\"/v1/restore\"} 3"));
        assert!(t.contains("unspin_http_requests_in_flight 0"));
    }
}
