//! Helpers shared by the end-to-end tests of the `unspin` binary
//! (`tests/*.rs`, each a separate test binary that says `mod common;`):
//! the command builders, files, output, the one-line error rule, the
//! shared sample texts and the workspace paths.
//!
//! The error rule is the README's: every error is exactly one line on
//! stderr starting with `unspin: error:`, never a panic; usage errors
//! exit 2 and print nothing on stdout.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// The README example: a sentence run through the news spinner...
pub const SPUN: &str =
    "helium said the caller rules would beryllium published connected Monday, arsenic planned.";
/// ... and its restoration.
pub const RESTORED: &str = "he said the new rules would be published on Monday, as planned.";

/// Environment variables that choose a model or a calibration: the test
/// run's own must not leak into the commands under test.
pub const MODEL_ENV: [&str; 3] = ["UNSPIN_LM", "UNSPIN_LEXICON", "UNSPIN_CALIBRATION"];

/// The `unspin` binary of this build.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_unspin"))
}

/// `unspin` as an `assert_cmd` command, without [`MODEL_ENV`].
pub fn unspin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("unspin").expect("the unspin binary is built");
    for v in MODEL_ENV {
        c.env_remove(v);
    }
    c
}

/// `unspin` as a `std::process::Command` (for pipes, signals and
/// processes watched while they run), without [`MODEL_ENV`].
pub fn unspin_std() -> std::process::Command {
    let mut c = std::process::Command::new(bin());
    for v in MODEL_ENV {
        c.env_remove(v);
    }
    c
}

/// Runs `unspin ARGS` with `input` on a stdin pipe and waits for it. The
/// child may stop reading early (a refused input): a broken pipe on this
/// side is not an error, its exit status and output tell.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = unspin_std()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

/// The root of the workspace.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The embedded models' source files (`models/`).
pub fn models_dir() -> PathBuf {
    workspace().join("models")
}

/// The example inputs (`examples/`).
pub fn examples_dir() -> PathBuf {
    workspace().join("examples")
}

/// Writes `bytes` to `dir/name`, creating the folders on the way, and
/// returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Standard output, which must be UTF-8.
pub fn stdout_of(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// Standard error, lossily decoded.
pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run succeeded without a panic; returns its stdout.
#[track_caller]
pub fn ok_stdout(out: &Output) -> String {
    let err = stderr_of(out);
    assert!(out.status.success(), "exit {:?}: {err}", out.status.code());
    assert!(!err.contains("panicked"), "{err}");
    stdout_of(out)
}

/// An error: exit code `code`, no panic, and stderr is exactly one line,
/// ended by a newline, that starts with `unspin: error:` and mentions every
/// one of `needles`. Returns that line (without its newline).
#[track_caller]
pub fn assert_one_line_error(out: &Output, code: i32, needles: &[&str]) -> String {
    let err = stderr_of(out);
    assert!(!err.contains("panicked"), "panic on stderr: {err}");
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(
        err.ends_with('\n'),
        "stderr must end with a newline: {err:?}"
    );
    let body = &err[..err.len() - 1];
    assert!(
        !body.contains('\n'),
        "stderr must be exactly one line: {err:?}"
    );
    assert!(
        body.starts_with("unspin: error:"),
        "stderr must start with 'unspin: error:': {err:?}"
    );
    for n in needles {
        assert!(body.contains(n), "stderr should mention {n:?}: {err:?}");
    }
    body.to_string()
}

/// A usage error (unknown flag, bad value, unknown subcommand): exit code
/// 2, the one-line error of [`assert_one_line_error`] mentioning `needle`,
/// and nothing on stdout. Returns the line.
#[track_caller]
pub fn assert_usage_error(out: &Output, needle: &str) -> String {
    let line = assert_one_line_error(out, 2, &[needle]);
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout on a usage error: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    line
}

/// Every line of stderr is an `unspin: error:` line (errors per input, as
/// grep's are), and no panic; returns the lines.
#[track_caller]
pub fn error_lines(out: &Output) -> Vec<String> {
    let err = stderr_of(out);
    assert!(!err.contains("panicked"), "panic on stderr: {err}");
    let lines: Vec<String> = err.lines().map(str::to_string).collect();
    for l in &lines {
        assert!(l.starts_with("unspin: error:"), "stderr: {err}");
    }
    lines
}

/// Deterministic articles for index tests: two paragraphs of numbered
/// words, so that documents stay distinct.
pub fn synthetic(i: u64) -> String {
    let mut s = String::new();
    for p in 0..2 {
        if p > 0 {
            s.push_str("\n\n");
        }
        for k in 0..5u64 {
            let a = unspin::spinner::mix64(i * 100 + p * 10 + k);
            s.push_str(&format!(
                "On day {} the Council of Town{} said, in Hall{}, that Plan{} would go ahead. ",
                a % 365,
                (a >> 9) % 1000,
                (a >> 19) % 1000,
                (a >> 29) % 1000
            ));
        }
    }
    s
}

/// A running `unspin serve`: the child, its log (stderr) after the
/// "listening" line, and the address it listens on.
pub struct Served {
    pub child: std::process::Child,
    pub log: std::io::BufReader<std::process::ChildStderr>,
    pub addr: std::net::SocketAddr,
}

/// Starts `unspin serve --addr 127.0.0.1:0 ARGS` and waits for its first log
/// line, which must be the JSON "listening" line with the URL.
pub fn serve(args: &[&str]) -> Served {
    use std::io::BufRead;
    let mut child = unspin_std()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    log.read_line(&mut line).unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line).expect("first log line is JSON");
    assert_eq!(listening["msg"], "listening", "{line}");
    let addr = listening["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    Served { child, log, addr }
}

/// Sends one HTTP/1.1 request to `addr` and returns (status, body).
pub fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
    (status, buf[end + 4..].to_vec())
}

/// Peak resident memory (KiB) of the largest child process so far: for the
/// tests that compare peaks, each alone in its test binary.
pub fn children_peak_kib() -> i64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid rusage to fill.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) }, 0);
    u.ru_maxrss
}
