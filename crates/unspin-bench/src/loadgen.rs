//! A small HTTP/1.1 load generator for benchmarking the server on loopback
//! (`unspin-loadgen`, `scripts/bench-serve.sh`): closed-loop keep-alive
//! connections replaying documents, and a stream of malformed requests of
//! every kind the server must refuse with a 4xx. Bounded in count and time;
//! meant for addresses on this machine only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A load run: `connections` keep-alive connections, each sending the next
/// body as soon as it has the previous answer, until `duration` is over.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Server address (loopback).
    pub addr: SocketAddr,
    /// Request path, for example `/v1/restore`.
    pub path: String,
    /// Content type of the bodies.
    pub content_type: String,
    /// Bodies, sent in turn.
    pub bodies: Vec<Vec<u8>>,
    /// Concurrent connections.
    pub connections: usize,
    /// Measured time.
    pub duration: Duration,
    /// Unmeasured time before it (caches, page faults).
    pub warmup: Duration,
}

/// What a run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    /// Requests answered in the measured time.
    pub requests: u64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection errors).
    pub failed: u64,
    /// Measured seconds.
    pub seconds: f64,
    /// Answered requests per second.
    pub rps: f64,
    /// Latency percentiles, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Response bytes per request, on average.
    pub mean_response_bytes: f64,
    /// Concurrent connections.
    pub connections: usize,
}

/// One answer read off a keep-alive connection.
struct Answer {
    status: u16,
    bytes: usize,
    close: bool,
}

/// Reads one response with a `Content-Length` (what the unspin server sends).
async fn read_answer(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Answer> {
    buf.clear();
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no content-length"))?;
    let close = head.lines().any(|l| l.trim() == "connection: close");
    let total = head_end + 4 + len;
    while buf.len() < total {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Answer {
        status,
        bytes: len,
        close,
    })
}

/// Runs a closed-loop load and reports throughput and latency.
pub async fn run_load(spec: LoadSpec) -> std::io::Result<LoadReport> {
    assert!(!spec.bodies.is_empty(), "no bodies to send");
    let spec = Arc::new(spec);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let end = measure_from + spec.duration;
    let mut tasks = Vec::new();
    for _ in 0..spec.connections.max(1) {
        let (spec, next) = (spec.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::new();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            let (mut failed, mut bytes) = (0u64, 0u64);
            let mut buf = Vec::with_capacity(1 << 16);
            let mut conn: Option<TcpStream> = None;
            while Instant::now() < end {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize % spec.bodies.len();
                let body = &spec.bodies[i];
                let mut req = format!(
                    "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
                    spec.path,
                    spec.addr,
                    spec.content_type,
                    body.len()
                )
                .into_bytes();
                req.extend_from_slice(body);
                let t = Instant::now();
                let result = async {
                    if conn.is_none() {
                        let s = TcpStream::connect(spec.addr).await?;
                        s.set_nodelay(true)?;
                        conn = Some(s);
                    }
                    let s = conn.as_mut().expect("connected");
                    s.write_all(&req).await?;
                    read_answer(s, &mut buf).await
                }
                .await;
                let measured = t >= measure_from && Instant::now() <= end;
                match result {
                    Ok(a) => {
                        if a.close {
                            conn = None;
                        }
                        if measured {
                            lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                            *statuses.entry(a.status).or_default() += 1;
                            bytes += a.bytes as u64;
                        }
                    }
                    Err(_) => {
                        conn = None;
                        if measured {
                            failed += 1;
                        }
                    }
                }
            }
            (lat, statuses, failed, bytes)
        }));
    }
    let mut lat = Vec::new();
    let mut statuses = BTreeMap::new();
    let (mut failed, mut bytes) = (0, 0);
    for t in tasks {
        let (l, s, f, b) = t.await.map_err(std::io::Error::other)?;
        lat.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        failed += f;
        bytes += b;
    }
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let seconds = spec.duration.as_secs_f64();
    let n = lat.len() as u64;
    Ok(LoadReport {
        requests: n,
        statuses,
        failed,
        seconds,
        rps: n as f64 / seconds,
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        max_ms: lat.last().map_or(0.0, |&m| m as f64 / 1000.0),
        mean_ms: if n == 0 {
            0.0
        } else {
            lat.iter().map(|&x| x as f64).sum::<f64>() / n as f64 / 1000.0
        },
        mean_response_bytes: if n == 0 { 0.0 } else { bytes as f64 / n as f64 },
        connections: spec.connections,
    })
}

/// A deterministic pseudo-random stream (xorshift64*), so a malformed run
/// can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One malformed request: a name for the report and the raw bytes to send.
/// When `half_close` is set the client stops writing after the bytes (a
/// body cut short).
pub struct Malformed {
    /// Kind of damage.
    pub kind: &'static str,
    /// What goes on the wire.
    pub bytes: Vec<u8>,
    /// Shut the write side after sending.
    pub half_close: bool,
}

fn http(method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    let mut b = r.into_bytes();
    b.extend_from_slice(body);
    b
}

fn post(path: &str, ct: &str, body: &[u8]) -> Vec<u8> {
    http(
        "POST",
        path,
        &[
            ("Content-Type", ct.to_string()),
            ("Content-Length", body.len().to_string()),
        ],
        body,
    )
}

/// The `i`-th malformed request of the stream seeded by `seed`; `text` is a
/// well-formed document to damage. Every one must get a 4xx answer.
pub fn malformed(seed: u64, i: u64, text: &str) -> Malformed {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (i + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
        | 1);
    let t = text.as_bytes();
    let cut = |rng: &mut Rng| &t[..rng.below(t.len().max(1))];
    let endpoints = ["/v1/restore", "/v1/detect"];
    let ep = endpoints[rng.below(2)];
    let json_text = serde_json::json!({ "text": text }).to_string();
    let m = |kind, bytes| Malformed {
        kind,
        bytes,
        half_close: false,
    };
    match i % 18 {
        0 => {
            // JSON cut short (never a whole object).
            let j = json_text.as_bytes();
            let n = 1 + rng.below(j.len() - 1);
            m("truncated JSON", post(ep, "application/json", &j[..n]))
        }
        1 => {
            let bodies: [&[u8]; 6] = [
                b"{\"text\": 123}",
                b"[\"text\"]",
                b"\"just a string\"",
                b"null",
                b"{\"text\": null}",
                b"{\"text\": {\"nested\": true}}",
            ];
            m(
                "JSON of the wrong shape",
                post(ep, "application/json", bodies[rng.below(6)]),
            )
        }
        2 => {
            let body = match rng.below(3) {
                0 => serde_json::json!({"text": "the caller rules", "speed": 11}),
                1 => {
                    serde_json::json!({"text": "the caller rules", "min_confidence": 7.5, "threshold": -1})
                }
                _ => {
                    serde_json::json!({"text": "the caller rules", "evidence": 1_000_000, "threshold": 2})
                }
            };
            m(
                "bad options",
                post(ep, "application/json", body.to_string().as_bytes()),
            )
        }
        3 => {
            let cts = [
                "image/png",
                "application/xml",
                "multipart/form-data; boundary=x",
                "text/html",
                "application/octet-stream",
                "text/plain; charset=shift_jis",
            ];
            m(
                "wrong content type",
                post(ep, cts[rng.below(cts.len())], cut(&mut rng)),
            )
        }
        4 => m(
            "no content type",
            http("POST", ep, &[("Content-Length", t.len().to_string())], t),
        ),
        5 => {
            // Valid text with invalid UTF-8 spliced in.
            let mut b = cut(&mut rng).to_vec();
            let bad: [&[u8]; 4] = [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xf0\x28\x8c\xbc"];
            b.extend_from_slice(bad[rng.below(4)]);
            b.extend_from_slice(b" more text");
            m("invalid UTF-8", post(ep, "text/plain", &b))
        }
        6 => {
            // Random binary with a NUL byte.
            let n = 16 + rng.below(4000);
            let mut b = rng.bytes(n);
            let at = rng.below(b.len());
            b[at] = 0;
            m("binary", post(ep, "text/plain", &b))
        }
        7 => m(
            "oversized (Content-Length over the limit)",
            http(
                "POST",
                ep,
                &[
                    ("Content-Type", "text/plain".into()),
                    ("Content-Length", (64u64 << 20).to_string()),
                ],
                &t[..t.len().min(4096)],
            ),
        ),
        8 => m("empty body", post(ep, "text/plain", b"")),
        9 => {
            let methods = ["GET", "PUT", "DELETE", "PATCH"];
            m(
                "wrong method",
                http(
                    methods[rng.below(4)],
                    ep,
                    &[("Content-Length", "0".into())],
                    b"",
                ),
            )
        }
        10 => {
            let path = format!("/v{}/{:x}", rng.below(9), rng.next());
            m(
                "unknown path",
                post(&path, "text/plain", b"the caller rules"),
            )
        }
        11 => {
            let junk: [&[u8]; 5] = [
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
                b"POST /v1/restore HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n",
                b"GARBAGE\r\n\r\n",
                b"POST /v1/restore HTTP/9.9\r\nHost: localhost\r\n\r\n",
                b"POST /v1/restore HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            ];
            m("broken HTTP", junk[rng.below(junk.len())].to_vec())
        }
        12 => {
            let bodies: [&[u8]; 5] = [
                b"text=the+caller+rules",
                b"text=the+caller&language=de-DE",
                b"language=en-US&text=%E2%28%A1",
                b"language=en-US&data=%7Bbroken",
                b"language=en-US&text=bad%zzescape",
            ];
            m(
                "LanguageTool check with bad fields",
                post(
                    "/v2/check",
                    "application/x-www-form-urlencoded",
                    bodies[rng.below(5)],
                ),
            )
        }
        13 => {
            // Content-Length promises more than is sent, then the client stops writing.
            let body = cut(&mut rng);
            Malformed {
                kind: "body cut short",
                bytes: http(
                    "POST",
                    ep,
                    &[
                        ("Content-Type", "text/plain".into()),
                        (
                            "Content-Length",
                            (body.len() + 1 + rng.below(5000)).to_string(),
                        ),
                    ],
                    body,
                ),
                half_close: true,
            }
        }
        14 => m(
            "form without text",
            post(ep, "application/x-www-form-urlencoded", b"he+said+the&x=1"),
        ),
        15 => {
            // A JSON string holding raw invalid UTF-8.
            let mut b = b"{\"text\": \"the caller ".to_vec();
            b.push(0xff);
            b.extend_from_slice(b" rules\"}");
            m("invalid UTF-8 in JSON", post(ep, "application/json", &b))
        }
        16 => m(
            "huge header",
            http(
                "POST",
                ep,
                &[
                    ("Content-Type", "text/plain".into()),
                    ("X-Padding", "a".repeat(200_000 + rng.below(100_000))),
                    ("Content-Length", "3".into()),
                ],
                b"abc",
            ),
        ),
        _ => {
            let mut b = b"POST /v1/restore HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: text/pl\xffain\r\n\r\nabc".to_vec();
            if rng.below(2) == 0 {
                b = b"POST /v1/restore HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: application/json; charset=\"utf-16\"\r\n\r\nabc".to_vec();
            }
            m("bad content-type header", b)
        }
    }
}

/// Counts of a malformed run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MalformedReport {
    /// Requests sent.
    pub sent: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests answered with 5xx, by kind.
    pub server_errors: BTreeMap<String, u64>,
    /// Requests answered with 2xx (should be none), by kind.
    pub accepted: BTreeMap<String, u64>,
    /// Requests with no answer at all (the server closed the connection), by kind.
    pub unanswered: BTreeMap<String, u64>,
    /// Wall time.
    pub seconds: f64,
}

/// Sends `count` malformed requests (in `connections` parallel streams, one
/// connection per request) and counts the answers.
pub async fn run_malformed(
    addr: SocketAddr,
    count: u64,
    connections: usize,
    seed: u64,
    text: Arc<String>,
) -> MalformedReport {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (next, text) = (next.clone(), text.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = MalformedReport::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let m = malformed(seed, i, &text);
                r.sent += 1;
                match tokio::time::timeout(Duration::from_secs(30), send_raw(addr, &m)).await {
                    Ok(Some(status)) => {
                        *r.statuses.entry(status).or_default() += 1;
                        if status >= 500 {
                            *r.server_errors.entry(m.kind.to_string()).or_default() += 1;
                        } else if status < 300 {
                            *r.accepted.entry(m.kind.to_string()).or_default() += 1;
                        }
                    }
                    _ => *r.unanswered.entry(m.kind.to_string()).or_default() += 1,
                }
            }
            r
        }));
    }
    let mut all = MalformedReport::default();
    for t in tasks {
        if let Ok(r) = t.await {
            all.sent += r.sent;
            for (k, v) in r.statuses {
                *all.statuses.entry(k).or_default() += v;
            }
            for (map, from) in [
                (&mut all.server_errors, r.server_errors),
                (&mut all.accepted, r.accepted),
                (&mut all.unanswered, r.unanswered),
            ] {
                for (k, v) in from {
                    *map.entry(k).or_default() += v;
                }
            }
        }
    }
    all.seconds = start.elapsed().as_secs_f64();
    all
}

/// Sends raw bytes and returns the answer's status, if any.
async fn send_raw(addr: SocketAddr, m: &Malformed) -> Option<u16> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    // The server may answer early (413, 431) and close; a failed write is fine.
    let _ = s.write_all(&m.bytes).await;
    if m.half_close {
        let _ = s.shutdown().await;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    if buf.len() < 12 || !buf.starts_with(b"HTTP/1.") {
        return None;
    }
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_deterministic_and_covers_every_kind() {
        let text = "The caller rules would beryllium published connected Monday.";
        let a: Vec<Vec<u8>> = (0..36).map(|i| malformed(7, i, text).bytes).collect();
        let b: Vec<Vec<u8>> = (0..36).map(|i| malformed(7, i, text).bytes).collect();
        assert_eq!(a, b);
        let kinds: std::collections::BTreeSet<&str> =
            (0..18).map(|i| malformed(7, i, text).kind).collect();
        assert_eq!(kinds.len(), 18);
        let c: Vec<Vec<u8>> = (0..36).map(|i| malformed(8, i, text).bytes).collect();
        assert_ne!(a, c);
    }
}
