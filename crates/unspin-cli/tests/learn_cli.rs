//! `unspin learn` end to end: a profile learned from one spinner's pages
//! holds that spinner's pairs; `--show`, `--merge`, `restore --spinner`,
//! `restore --learn`, `detect --spinner` and `serve --spinner` use it; bad
//! profiles and inputs get one-line errors.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{
    assert_one_line_error, assert_usage_error, ok_stdout, run_with_stdin, serve, unspin, write,
    Served,
};
use serde_json::Value;

/// Sentences written for the learning tests (shared with the library's).
const POOL: &str = include_str!("../../unspin/tests/data/learn-pool.txt");

/// Writes `pages` spun pages (the news spinner, seed 3: one table) into
/// `dir`; returns the spinner's (written, original) pairs.
fn spin_pages(dir: &Path, pages: usize) -> HashSet<(String, String)> {
    let sentences: Vec<&str> = POOL.lines().filter(|l| !l.is_empty()).collect();
    let mut pairs = HashSet::new();
    for p in 0..pages {
        let text: String = (0..10)
            .map(|k| sentences[(p * 7 + k * 3) % sentences.len()])
            .collect::<Vec<_>>()
            .join(" ");
        let original = write(dir, &format!("original-{p}.txt"), &text);
        let align = dir.join(format!("align-{p}.jsonl"));
        let out = unspin()
            .args(["spin", "--profile", "news", "--seed", "3", "--alignment"])
            .arg(&align)
            .arg(&original)
            .output()
            .unwrap();
        write(
            &dir.join("pages"),
            &format!("page-{p}.txt"),
            ok_stdout(&out),
        );
        for line in std::fs::read_to_string(&align).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            pairs.insert((
                v["spun"].as_str().unwrap().to_lowercase(),
                v["original"].as_str().unwrap().to_lowercase(),
            ));
        }
    }
    pairs
}

/// Runs `unspin ARGS`, which must succeed; returns its stdout.
fn ok_run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    ok_stdout(
        &unspin()
            .args(args.iter().map(|a| a.as_ref()))
            .output()
            .unwrap(),
    )
}

/// `unspin learn --format json --show PROFILE`, parsed.
fn show_json(profile: &Path) -> Value {
    serde_json::from_str(&ok_run(&[
        &"learn",
        &"--format",
        &"json",
        &"--show",
        &profile,
    ]))
    .unwrap()
}

#[test]
fn learns_shows_merges_and_restores_with_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let truth = spin_pages(dir.path(), 12);
    let pages = dir.path().join("pages");
    let profile = dir.path().join("site.spinner");

    let out = unspin()
        .args(["learn", "--out"])
        .arg(&profile)
        .arg(&pages)
        .output()
        .unwrap();
    ok_stdout(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("learned"));

    // The table: written words with their best original, best first, and
    // several of them are the spinner's own pairs.
    let shown = ok_run(&[&"learn", &"--show", &profile]);
    let header = shown.lines().next().unwrap();
    assert!(
        header.starts_with("# ") && header.contains("words"),
        "{header}"
    );
    let learned: HashSet<(String, String)> = shown
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            let written = f.next()?.to_string();
            let best = f.nth(1)?.split(" (").next()?.to_string();
            Some((written, best))
        })
        .collect();
    let right = learned.intersection(&truth).count();
    assert!(right >= 5, "{right} of {learned:?} in {truth:?}");
    assert!(shown.contains("\n# classes touched"), "{shown}");
    let json: Value = show_json(&profile);
    assert!(
        json["classes"]["capitalized"]["touched"].is_number(),
        "{json}"
    );
    let words = json["words"].as_u64().unwrap();
    assert!(words > 1000, "{json}");
    let counts: Vec<f64> = json["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_f64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));

    // The profile does not depend on the number of threads.
    let one_thread = dir.path().join("one-thread.spinner");
    ok_run(&[&"learn", &"--jobs", &"1", &"--out", &one_thread, &pages]);
    assert!(std::fs::read(&one_thread).unwrap() == std::fs::read(&profile).unwrap());

    // An existing profile is kept unless the pages are merged into it.
    let again = unspin()
        .args(["learn", "--out"])
        .arg(&profile)
        .arg(&pages)
        .output()
        .unwrap();
    assert_one_line_error(&again, 1, &["exists", "--merge"]);
    ok_run(&[&"learn", &"--merge", &"--out", &profile, &pages]);
    let merged: Value = show_json(&profile);
    assert_eq!(merged["words"].as_u64().unwrap(), 2 * words);

    // restore --learn on standard input learns what `learn` learns from the
    // same text, and restores as --spinner with that profile does.
    let page = pages.join("page-0.txt");
    let text = std::fs::read(&page).unwrap();
    let single = dir.path().join("single.spinner");
    ok_run(&[&"learn", &"--out", &single, &page]);
    let with_file = ok_run(&[&"restore", &"--spinner", &single, &page]);
    let learned_in_place = ok_stdout(&run_with_stdin(&["restore", "--learn"], &text));
    assert_eq!(with_file, learned_in_place);
    assert_eq!(
        with_file.split_whitespace().count(),
        String::from_utf8_lossy(&text).split_whitespace().count()
    );

    // detect --spinner refines the spun words with the profile.
    let det: Value = serde_json::from_str(&ok_run(&[
        &"detect",
        &"--format",
        &"json",
        &"--spinner",
        &profile,
        &page,
    ]))
    .unwrap();
    assert_eq!(det["spun"], true, "{det}");

    // The server loads it by name, lists it, and refuses unknown names.
    let Served {
        mut child, addr, ..
    } = serve(&["--spinner", &format!("site={}", profile.display())]);
    let health = http(addr, "GET", "/healthz", b"");
    assert_eq!(health.0, 200);
    let v: Value = serde_json::from_slice(&health.1).unwrap();
    assert_eq!(v["spinners"], serde_json::json!(["site"]));
    let body = serde_json::json!({"text": String::from_utf8_lossy(&text), "spinner": "site"});
    let (status, answer) = http(addr, "POST", "/v1/restore", body.to_string().as_bytes());
    assert_eq!(status, 200);
    let served: Value = serde_json::from_slice(&answer).unwrap();
    let cli: Value = serde_json::from_str(&ok_run(&[
        &"restore",
        &"--format",
        &"json",
        &"--spinner",
        &profile,
        &page,
    ]))
    .unwrap();
    assert_eq!(served["text"], cli["text"]);
    let body = serde_json::json!({"text": "text", "spinner": "other"});
    let (status, answer) = http(addr, "POST", "/v1/restore", body.to_string().as_bytes());
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(v["error"], "unknown_spinner");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Sends one JSON request and returns (status, body).
fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    common::http(addr, method, path, "application/json", body)
}

#[test]
fn bad_profiles_and_inputs_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let page = write(
        dir.path(),
        "page.txt",
        "helium said the caller rules would beryllium published connected Monday.\n",
    );
    let lexicon = common::models_dir().join("lexicon.unspin");
    let corrupt = dir.path().join("corrupt.spinner");
    let good = dir.path().join("good.spinner");
    ok_run(&[&"learn", &"--out", &good, &page]);
    let mut bytes = std::fs::read(&good).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&corrupt, bytes).unwrap();

    for bad in [&corrupt, &lexicon] {
        let name = bad.file_name().unwrap().to_str().unwrap();
        let out = unspin()
            .args(["restore", "--spinner"])
            .arg(bad)
            .arg(&page)
            .output()
            .unwrap();
        assert_one_line_error(&out, 1, &[name]);
        let out = unspin()
            .args(["learn", "--show"])
            .arg(bad)
            .output()
            .unwrap();
        assert_one_line_error(&out, 1, &[name]);
        let out = unspin()
            .args(["detect", "--spinner"])
            .arg(bad)
            .arg(&page)
            .output()
            .unwrap();
        assert_one_line_error(&out, 2, &[name]);
        let out = unspin()
            .args(["serve", "--addr", "127.0.0.1:0", "--spinner"])
            .arg(format!("site={}", bad.display()))
            .output()
            .unwrap();
        assert_one_line_error(&out, 1, &[name]);
    }
    let out = unspin()
        .args(["serve", "--spinner", "no-name"])
        .output()
        .unwrap();
    assert_usage_error(&out, "NAME=FILE");

    // Nothing to learn from, binary input, a missing file, no --out.
    let empty = write(dir.path(), "empty.txt", "");
    let out = unspin()
        .args(["learn", "--out"])
        .arg(dir.path().join("x.spinner"))
        .arg(&empty)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["empty"]);
    let binary = write(dir.path(), "binary.bin", b"abc\0def\x01\x02");
    let out = unspin()
        .args(["learn", "--out"])
        .arg(dir.path().join("y.spinner"))
        .arg(&binary)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["binary.bin"]);
    let out = unspin()
        .args(["learn", "--out"])
        .arg(dir.path().join("z.spinner"))
        .arg(dir.path().join("missing.txt"))
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["missing.txt"]);
    assert!(!dir.path().join("x.spinner").exists() && !dir.path().join("z.spinner").exists());
    let out = unspin().args(["learn"]).arg(&page).output().unwrap();
    assert_usage_error(&out, "--out");
    let out = unspin()
        .args(["restore", "--learn", "--spinner"])
        .arg(&good)
        .arg(&page)
        .output()
        .unwrap();
    assert_usage_error(&out, "--spinner");
}
