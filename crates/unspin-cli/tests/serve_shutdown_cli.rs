//! `unspin serve` under load stops within `--timeout` (+ 1 s) of SIGTERM
//! (issue 17): the work in flight is cancelled, not waited for. Before,
//! the process exited only when the slowest request was done (75 s after
//! the signal with one best-mode request in flight).
//!
//! The load: two long default-mode restores on the two workers, and, when
//! the neural model is installed, a 200 KB best-mode restore queued behind
//! them (without the model it is left out with the reason printed; under
//! `CI`, which installs the model, that is a failure).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{examples_dir, serve, Served};
use serde_json::{json, Value};

/// One request with `Connection: close`; returns (status, body).
fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // The server may answer before it has read everything.
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (0, buf);
    };
    let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
    (status, buf[end + 4..].to_vec())
}

fn jobs_running(addr: SocketAddr) -> f64 {
    let (status, body) = request(addr, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("unspin_jobs_running ")?.trim().parse().ok())
        .expect("unspin_jobs_running gauge")
}

/// About `bytes` of spun news.
fn long_text(bytes: usize) -> String {
    let sample = std::fs::read_to_string(examples_dir().join("spun-news.txt")).unwrap();
    let mut text = String::with_capacity(bytes + sample.len());
    while text.len() < bytes {
        text.push_str(&sample);
        text.push_str("\n\n");
    }
    text
}

/// Whether the best mode can be part of the load.
fn neural_model_installed() -> bool {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let path = match std::env::var_os("UNSPIN_NEURAL_MODEL").filter(|p| !p.is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::var_os("XDG_DATA_HOME")
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| home.map(|h| h.join(".local").join("share")))
            .unwrap_or_default()
            .join("unspin/neural/SmolLM2-135M-Instruct.Q4_1.gguf"),
    };
    if path.is_file() {
        return true;
    }
    let reason = format!(
        "neural model not installed at {} (run `bash scripts/install-neural-model.sh`)",
        path.display()
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{reason}: CI must run the best-mode load"
    );
    eprintln!("best-mode request left out of the load: {reason}");
    false
}

#[test]
fn sigterm_under_load_exits_within_the_timeout() {
    let timeout = 4.0;
    let Served {
        mut child,
        log: mut stderr,
        addr,
    } = serve(&[
        "--workers",
        "2",
        "--max-body",
        "64M",
        "--timeout",
        &timeout.to_string(),
    ]);
    // The log is drained meanwhile, so the server never blocks on it.
    let log = std::thread::spawn(move || {
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        rest
    });

    // 16 MB each: half a minute of restoring on one core.
    let big = json!({ "text": long_text(16 << 20) }).to_string();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let body = big.clone();
        clients.push(std::thread::spawn(move || {
            request(addr, "POST", "/v1/restore", body.as_bytes())
        }));
    }
    let t = Instant::now();
    while jobs_running(addr) < 2.0 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the jobs never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    if neural_model_installed() {
        let body = json!({"text": long_text(200 << 10), "quality": "best"}).to_string();
        clients.push(std::thread::spawn(move || {
            request(addr, "POST", "/v1/restore", body.as_bytes())
        }));
        std::thread::sleep(Duration::from_millis(300));
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if signalled.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("unspin serve still running 120 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = signalled.elapsed();
    eprintln!("SIGTERM to exit under load: {took:?} (--timeout {timeout} s)");
    assert_eq!(status.code(), Some(0), "unspin serve exits 0 after SIGTERM");
    assert!(
        took.as_secs_f64() < timeout + 1.0,
        "exited {took:?} after SIGTERM; --timeout is {timeout} s"
    );
    for c in clients {
        let (status, body) = c.join().unwrap();
        assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"] == "cancelled" || v["error"] == "timeout", "{v}");
    }
    let rest = log.join().unwrap();
    let events: Vec<Value> = rest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["msg"] == "signal received" && e["signal"] == "SIGTERM"),
        "{rest}"
    );
}
