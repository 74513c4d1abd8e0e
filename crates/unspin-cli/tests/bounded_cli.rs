//! Bounded memory on every command and format (issue 17): long inputs are
//! read piece by piece and their JSON and HTML output goes through spools,
//! so peak memory does not grow with the input; a corpus line or a single
//! document past its cap gets a one-line error and the rest goes on;
//! binary or endless input ends with an error, not an allocation failure.

mod common;

use std::path::Path;

use common::{
    assert_one_line_error, children_peak_kib, run_with_stdin, stderr_of, stdout_of, unspin_std,
    write, SPUN,
};

/// About `bytes` of spun text in paragraphs (several pieces of 256 KiB).
fn spun_text(bytes: usize) -> String {
    let para = format!("{SPUN}\n\n");
    para.repeat(bytes / para.len() + 1)
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("one JSON object")
}

#[test]
fn long_jsonl_lines_are_refused_by_number_and_the_corpus_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(5 << 20);
    let corpus = format!(
        "{{\"id\":1,\"text\":\"helium said so.\"}}\n{{\"id\":2,\"text\":\"{long}\"}}\n{{\"id\":3,\"text\":\"arsenic planned.\"}}\n"
    );
    let path = write(dir.path(), "c.jsonl", corpus);
    let out = unspin_std()
        .args(["restore", "--jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    let err = assert_one_line_error(&out, 1, &["c.jsonl:2:", "longer than 4 MiB"]);
    assert!(!err.contains(":1:") && !err.contains(":3:"), "{err}");
    let lines: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| json(l.as_bytes()))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[0]["text"], "he said so.");
    assert_eq!(lines[1]["id"], 3);
    assert_eq!(lines[1]["text"], "as planned.");

    let out = unspin_std()
        .args(["detect", "--jsonl", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("c.jsonl:2: line longer than 4 MiB"));
    assert_eq!(stdout_of(&out).lines().count(), 2);
}

#[test]
fn binary_and_endless_inputs_end_with_one_line_errors() {
    let zeros = vec![0u8; 48 << 20];
    for args in [
        &["detect"][..],
        &["detect", "--format", "json"],
        &["restore", "--format", "json"],
        &["restore", "--jsonl"],
        &["detect", "--jsonl"],
        &["spin"],
    ] {
        let out = run_with_stdin(args, &zeros);
        let code = if args[0] == "detect" { 2 } else { 1 };
        assert_one_line_error(&out, code, &["binary data"]);
    }
    // One endless line with no NUL byte: refused by its number, not held.
    let endless = vec![b'a'; 24 << 20];
    let out = run_with_stdin(&["restore", "--jsonl"], &endless);
    assert_one_line_error(&out, 1, &["<stdin>:1:", "longer than 4 MiB"]);
}

#[test]
fn a_document_over_the_cap_is_refused_by_trace_and_index_add() {
    let dir = tempfile::tempdir().unwrap();
    let small = write(dir.path(), "small.txt", "he said the new rules.\n");
    let index = dir.path().join("i.idx");
    let out = unspin_std()
        .args(["index", "add"])
        .arg(&index)
        .arg(&small)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let huge = write(dir.path(), "huge.txt", "word ".repeat((17 << 20) / 5));
    for args in [&["trace", "--index"][..], &["index", "add"]] {
        let out = unspin_std()
            .args(args)
            .arg(&index)
            .arg(&huge)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains("huge.txt: larger than 16 MiB"),
            "{args:?}: {err}"
        );
    }
}

/// Checks that every change of a restore JSON points at its spun word.
fn check_changes(input: &str, v: &serde_json::Value) -> usize {
    let changes = v["changes"].as_array().unwrap();
    for c in changes {
        let (a, b) = (
            c["start"].as_u64().unwrap() as usize,
            c["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&input[a..b], c["spun"].as_str().unwrap(), "{c}");
    }
    changes.iter().filter(|c| c["applied"] == true).count()
}

#[test]
fn long_inputs_stream_with_offsets_into_the_whole_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = spun_text(700 << 10);
    let path = write(dir.path(), "long.txt", &input);
    let run = |args: &[&str]| {
        let out = unspin_std().args(args).arg(&path).output().unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            stderr_of(&out)
        );
        out.stdout
    };
    let text = String::from_utf8(run(&["restore"])).unwrap();
    let v = json(&run(&["restore", "--format", "json"]));
    assert_eq!(v["text"].as_str().unwrap(), text);
    let applied = check_changes(&input, &v);
    assert!(applied > 1000, "{applied} changes");
    let sections = v["sections"].as_array().unwrap();
    assert_eq!(sections[0]["start"], 0);
    assert_eq!(
        sections.last().unwrap()["end"].as_u64().unwrap() as usize,
        input.len()
    );
    let html = String::from_utf8(run(&["restore", "--format", "html"])).unwrap();
    assert_eq!(html.matches("<mark ").count(), applied);
    assert!(html.contains(&format!("{applied} changed")));

    let d = json(&run(&["detect", "--format", "json"]));
    assert_eq!(d["spun"], true);
    let words: u64 = d["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["words"].as_u64().unwrap())
        .sum();
    assert_eq!(d["words"].as_u64().unwrap(), words);
    let flagged = d["flagged"].as_array().unwrap();
    assert!(flagged.len() > 1000);
    for w in flagged {
        let (a, b) = (
            w["start"].as_u64().unwrap() as usize,
            w["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&input[a..b], w["text"].as_str().unwrap(), "{w}");
    }
    let report = String::from_utf8(run(&["detect"])).unwrap();
    assert!(report.contains("SPUN"), "{}", &report[..200]);
    assert!(report.contains("[-helium-]{+he+}"));
}

fn run_file(args: &[&str], path: &Path) {
    let out = unspin_std()
        .args(args)
        .arg(path)
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        stderr_of(&out)
    );
}

/// The one test of this kind in its binary: `RUSAGE_CHILDREN` counts every
/// child, so a test beside it would blur the numbers. (Each other test of
/// this file runs its children too; they stay under the small input's peak
/// or only raise the baseline, which makes this check stricter.)
#[test]
fn peak_memory_does_not_grow_with_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let small = write(dir.path(), "small.txt", spun_text(2 << 20));
    let large = write(dir.path(), "large.txt", spun_text(12 << 20));
    for args in [
        &["detect", "--format", "json"][..],
        &["restore", "--format", "json"],
    ] {
        run_file(args, &small);
        let after_small = children_peak_kib();
        run_file(args, &large);
        let after_large = children_peak_kib();
        assert!(
            after_large as f64 <= after_small as f64 * 1.15,
            "{args:?}: peak {after_small} KiB on 2 MB, {after_large} KiB on 12 MB"
        );
    }
}
