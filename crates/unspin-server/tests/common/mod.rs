//! Shared by the integration tests: one model for every server in the test
//! binary, and a small blocking HTTP/1.1 client that can also send broken
//! requests byte for byte.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use unspin_server::{Config, Engine, LogTarget, Running};

/// The embedded model, loaded once per test binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let lm = unspin::models::embedded_lm().expect("embedded LM");
            let lex = unspin::models::embedded_lexicon().expect("embedded lexicon");
            // What `unspin serve` loads: the tortured phrases too.
            let model = unspin::restore::Model::new(lm, lex)
                .with_phrases(unspin::models::embedded_phrases().expect("embedded phrases"))
                .with_wordnet(unspin::models::embedded_wordnet().expect("embedded WordNet"));
            let calib = unspin::models::embedded_calibration().expect("calibration");
            let core = unspin::Engine::new(model, calib)
                .with_scorer_loader(unspin_neural::scorer_loader(None));
            Arc::new(Engine::new(Arc::new(core)))
        })
        .clone()
}

/// A quiet test config.
pub fn config() -> Config {
    Config {
        log: LogTarget::Off,
        ..Config::default()
    }
}

/// A server on an ephemeral loopback port.
pub fn start(config: Config) -> Running {
    unspin_server::spawn("127.0.0.1:0", engine(), config).expect("server starts")
}

/// The spun sample article of the repository.
pub fn sample() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/spun-news.txt"
    ))
    .expect("examples/spun-news.txt")
}

/// A response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `raw` as is and reads the answer until the server closes.
pub fn raw(addr: SocketAddr, raw: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // The server may answer (413) and close before reading everything.
    let _ = s.write_all(raw);
    // Read until the response is complete: some servers (chromedriver) keep
    // the connection open despite `Connection: close`.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if complete(&buf) {
            break;
        }
    }
    parse(&buf)
}

/// Whether `buf` holds a whole response with a known length.
fn complete(buf: &[u8]) -> bool {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let body = &buf[end + 4..];
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| body.len() >= n)
}

/// Parses one HTTP/1.1 response (Content-Length, chunked, or to EOF).
pub fn parse(buf: &[u8]) -> Resp {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(buf)));
    let head = std::str::from_utf8(&buf[..end]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &buf[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else if let Some(n) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        rest[..n.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..nl])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = nl + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
    out
}

/// A request with `Connection: close`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes)
}

pub fn get(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path, &[], b"")
}

pub fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Resp {
    request(addr, "POST", path, &[("Content-Type", content_type)], body)
}

pub fn post_json(addr: SocketAddr, path: &str, v: &serde_json::Value) -> Resp {
    post(addr, path, "application/json", v.to_string().as_bytes())
}

/// `application/x-www-form-urlencoded` encoding of pairs.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let enc = |s: &str| {
        let mut o = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    o.push(b as char)
                }
                b' ' => o.push('+'),
                _ => o.push_str(&format!("%{b:02X}")),
            }
        }
        o
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// Value of a metric line (exact name with labels) in `/metrics` text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
}

/// The installed neural model of the best mode, or `None` (with the reason
/// printed) when it is missing here. Under CI, which installs it, a missing
/// model fails the test instead.
pub fn neural_model() -> Option<std::path::PathBuf> {
    let path = unspin_neural::default_model_path();
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "neural model not installed at {} (CI runs `bash scripts/install-neural-model.sh`)",
        path.display()
    );
    eprintln!(
        "skipped: neural model not installed at {} (run `bash scripts/install-neural-model.sh`)",
        path.display()
    );
    None
}
