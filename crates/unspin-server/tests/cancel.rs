//! Work that a timeout or a shutdown really stops (issue 17): a request
//! that runs past `--timeout` gets 503 and its worker is free again within
//! 1 s of the deadline, in the default mode and the best mode (neural
//! scoring); shutdown cancels what is still running and returns within the
//! grace period.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

mod common;
use common::*;

/// One test at a time: each times a worker on a 2-core machine, and a
/// neighbour's restore would slow it down.
static SERIAL: Mutex<()> = Mutex::new(());

/// About `bytes` of spun news (the repository's sample, repeated).
fn long_text(bytes: usize) -> String {
    let sample = sample();
    let mut text = String::with_capacity(bytes + sample.len());
    while text.len() < bytes {
        text.push_str(&sample);
        text.push_str("\n\n");
    }
    text
}

fn metrics(addr: SocketAddr) -> String {
    let r = get(addr, "/metrics");
    assert_eq!(r.status, 200);
    r.text()
}

/// Polls `/metrics` until no job runs; returns how long that took, or
/// panics after `limit`.
fn until_idle(addr: SocketAddr, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let running = metric(&metrics(addr), "unspin_jobs_running").expect("gauge");
        if running == 0.0 {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{running} job(s) still running {:?} after the deadline",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Posts `body` to /v1/restore and checks the time-out answer; returns
/// how long after the 503 the worker was free.
fn timed_out_restore_frees_its_worker(
    s: &unspin_server::Running,
    body: serde_json::Value,
) -> Duration {
    let start = Instant::now();
    let r = post_json(s.addr, "/v1/restore", &body);
    let answered = start.elapsed();
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "timeout", "{}", r.text());
    let limit = s.app.config.timeout;
    assert!(
        answered >= limit && answered < limit + Duration::from_secs(1),
        "503 after {answered:?}, limit {limit:?}"
    );
    // The 503 goes out at the deadline; the worker must follow within 1 s.
    let freed = until_idle(s.addr, Duration::from_secs(1));
    let m = metrics(s.addr);
    assert!(
        metric(&m, "unspin_jobs_cancelled_total").unwrap_or(0.0) >= 1.0,
        "{m}"
    );
    // The one worker takes the next request at once.
    let t = Instant::now();
    let r = post_json(s.addr, "/v1/restore", &json!({"text": sample()}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    freed
}

#[test]
fn a_timed_out_restore_frees_its_worker_within_a_second() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = start(unspin_server::Config {
        timeout: Duration::from_secs(1),
        workers: 1,
        max_body_bytes: 16 << 20,
        ..config()
    });
    // 4 MB: several seconds of restoring.
    let freed = timed_out_restore_frees_its_worker(&s, json!({"text": long_text(4 << 20)}));
    eprintln!("default mode: worker free {freed:?} after the 503");
}

#[test]
fn a_timed_out_detect_frees_its_worker() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = start(unspin_server::Config {
        timeout: Duration::from_secs(1),
        workers: 1,
        max_body_bytes: 32 << 20,
        ..config()
    });
    // `restore: true` runs the restorer over the whole text after the pass.
    let text = long_text(8 << 20);
    let r = post_json(
        s.addr,
        "/v1/detect",
        &json!({"text": text, "restore": true}),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    let freed = until_idle(s.addr, Duration::from_secs(1));
    eprintln!("detect: worker free {freed:?} after the 503");
}

/// The best mode on 200 KB: minutes of neural scoring on 2 cores before
/// cancellation; now the worker is free within 1 s of the deadline.
#[test]
fn a_timed_out_best_mode_restore_frees_its_worker_within_a_second() {
    if common::neural_model().is_none() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Load the model first, so that the deadline falls in the scoring.
    engine().core().scorer().expect("the installed model loads");
    let s = start(unspin_server::Config {
        timeout: Duration::from_secs(3),
        workers: 1,
        ..config()
    });
    let text = long_text(200 << 10);
    let freed = timed_out_restore_frees_its_worker(&s, json!({"text": text, "quality": "best"}));
    eprintln!("best mode, 200 KB: worker free {freed:?} after the 503");
    // The same for detect's best mode.
    let r = post_json(
        s.addr,
        "/v1/detect",
        &json!({"text": text, "quality": "best"}),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    let freed = until_idle(s.addr, Duration::from_secs(1));
    eprintln!("best-mode detect, 200 KB: worker free {freed:?} after the 503");
}

/// Shutdown with work in flight: the work still running when the grace
/// period ends is cancelled (503 `cancelled`), and shutdown returns within
/// the grace period (plus the runtime's short stop).
#[test]
fn shutdown_cancels_the_work_in_flight_within_the_grace_period() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let grace = Duration::from_secs(2);
    let s = start(unspin_server::Config {
        timeout: Duration::from_secs(60),
        grace,
        workers: 1,
        max_body_bytes: 32 << 20,
        ..config()
    });
    let addr = s.addr;
    let client = std::thread::spawn(move || {
        post_json(addr, "/v1/restore", &json!({"text": long_text(16 << 20)}))
    });
    let t = Instant::now();
    while metric(&metrics(addr), "unspin_jobs_running") != Some(1.0) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the job never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = Instant::now();
    s.shutdown().expect("clean shutdown");
    let took = t.elapsed();
    eprintln!("shutdown with a job running: {took:?} (grace {grace:?})");
    assert!(
        took < grace + Duration::from_millis(500),
        "shutdown took {took:?}, grace {grace:?}"
    );
    let r = client.join().unwrap();
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "cancelled", "{}", r.text());
}
