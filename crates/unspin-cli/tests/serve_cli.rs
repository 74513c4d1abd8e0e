//! `unspin serve` end to end: the real binary on an ephemeral port answers
//! with exactly the JSON of `unspin restore --format json` and
//! `unspin detect --format json`, logs JSON lines, and stops cleanly (exit 0)
//! on SIGTERM.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::process::Command;

use common::{assert_one_line_error, assert_usage_error, examples_dir, serve, unspin_std, Served};
use serde_json::Value;

fn sample_path() -> std::path::PathBuf {
    examples_dir().join("spun-news.txt")
}

/// POSTs `body` and returns (status, body).
fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    common::http(addr, "POST", path, content_type, body)
}

#[test]
fn serve_answers_like_the_cli_and_stops_on_sigterm() {
    let Served {
        mut child,
        log: mut stderr,
        addr,
    } = serve(&[]);

    let text = std::fs::read(sample_path()).unwrap();
    let (status, body) = post(addr, "/v1/restore", "text/plain", &text);
    assert_eq!(status, 200);
    let cli = unspin_std()
        .args(["restore", "--format", "json"])
        .arg(sample_path())
        .output()
        .unwrap();
    assert!(cli.status.success());
    // The CLI names the input in "path" for files; the server has none.
    let mut cli_json: Value = serde_json::from_slice(&cli.stdout).unwrap();
    if let Some(o) = cli_json.as_object_mut() {
        o.remove("path");
    }
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), cli_json);

    let (status, body) = post(addr, "/v1/detect", "text/plain", &text);
    assert_eq!(status, 200);
    let cli = unspin_std()
        .args(["detect", "--format", "json"])
        .arg(sample_path())
        .output()
        .unwrap();
    let mut cli_json: Value = serde_json::from_slice(&cli.stdout).unwrap();
    cli_json.as_object_mut().unwrap().remove("path");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), cli_json);

    let (status, body) = post(addr, "/v1/restore", "application/json", b"{\"text\": ");
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "malformed_json"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "unspin serve exits 0 after SIGTERM");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let events: Vec<Value> = rest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    let requests = events.iter().filter(|e| e["msg"] == "request").count();
    assert_eq!(requests, 3, "{rest}");
    assert!(events
        .iter()
        .any(|e| e["msg"] == "signal received" && e["signal"] == "SIGTERM"));
    assert_eq!(events.last().unwrap()["msg"], "stopped");
}

#[test]
fn serve_refuses_bad_flags_with_one_line() {
    let out = unspin_std()
        .args(["serve", "--addr", "not-an-address"])
        .output()
        .unwrap();
    let line = assert_one_line_error(&out, 1, &[]);
    assert!(
        line.starts_with("unspin: error: cannot listen on not-an-address"),
        "{line}"
    );
    let out = unspin_std()
        .args(["serve", "--max-body", "lots"])
        .output()
        .unwrap();
    assert_usage_error(&out, "'lots' is not a size");
    let out = unspin_std()
        .args(["serve", "--workers", "0"])
        .output()
        .unwrap();
    assert_usage_error(
        &out,
        "invalid value '0' for '--workers <N>': must be at least 1",
    );
}
