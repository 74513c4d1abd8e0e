//! End-to-end tests of `unspin detect` (issue 4): grep-like exit status
//! (0 spun found, 1 none, 2 error), `--quiet`, `-l`, folders, JSONL corpora,
//! the JSON and HTML shapes, and one-line errors for bad input.

mod common;

use common::{assert_one_line_error, stderr_of, stdout_of, unspin, write};
use serde_json::Value;

/// Plain modern prose written for these tests.
const CLEAN: &str = "The town council met on Tuesday evening to discuss the new budget for the coming year. \
Most of the money will go to schools, roads and the public library, which has been closed for repairs since the \
spring. Several residents spoke during the meeting. One teacher asked the council to hire more staff for the \
elementary school, where classes have grown larger every year. A local business owner said that the main street \
needs better lighting and wider sidewalks, because more people now walk to the shops in the evening. The mayor \
thanked everyone for their comments and promised that the council would read every letter it receives before the \
final vote next month. After the meeting, a few members of the council stayed to answer questions from reporters \
about the cost of the new bridge over the river, which is expected to open in two years.\n";

/// CLEAN run through the news spinner simulator.
fn spun() -> String {
    let out = unspin()
        .args(["spin", "--profile", "news", "--seed", "1"])
        .write_stdin(CLEAN)
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert_ne!(s, CLEAN);
    s
}

#[test]
fn exit_status_is_0_for_spun_and_1_for_clean() {
    let spun = spun();
    let out = unspin()
        .args(["detect", "--color", "never"])
        .write_stdin(spun)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert!(text.starts_with("<stdin>: SPUN probability"), "{text}");
    // Marked like a word diff, with the likely originals, and the evidence.
    assert!(text.contains("[-") && text.contains("{+"), "{text}");
    assert!(text.contains("evidence:"), "{text}");

    let out = unspin()
        .args(["detect", "--color", "never"])
        .write_stdin(CLEAN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    assert!(text.starts_with("<stdin>: clean probability"), "{text}");
    assert_eq!(
        text.lines().count(),
        1,
        "clean input: the verdict line only: {text}"
    );
}

#[test]
fn quiet_prints_nothing_and_files_with_matches_lists_spun_files() {
    let dir = tempfile::tempdir().unwrap();
    let spun_path = write(dir.path(), "spun.txt", spun()).display().to_string();
    let clean_path = write(dir.path(), "clean.txt", CLEAN).display().to_string();

    let out = unspin()
        .args(["detect", "-q", &spun_path, &clean_path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let out = unspin()
        .args(["detect", "--quiet", &clean_path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());

    let out = unspin()
        .args(["detect", "-l", &clean_path, &spun_path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), format!("{spun_path}\n"));
    let out = unspin()
        .args(["detect", "--files-with-matches", &clean_path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn folders_are_searched_recursively() {
    let dir = tempfile::tempdir().unwrap();
    let spun_path = write(dir.path(), "a/b/spun.txt", spun())
        .display()
        .to_string();
    write(dir.path(), "a/clean.txt", CLEAN);
    write(dir.path(), ".hidden/spun.txt", spun());
    let root = dir.path().display().to_string();
    let out = unspin()
        .args(["detect", "-l", "--jobs", "2", &root])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), format!("{spun_path}\n"));
}

#[test]
fn json_shape() {
    let out = unspin()
        .args(["detect", "--format", "json"])
        .write_stdin(spun())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert_eq!(text.lines().count(), 1);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["path"], "<stdin>");
    assert_eq!(v["spun"], true);
    let p = v["prob"].as_f64().unwrap();
    let t = v["threshold"].as_f64().unwrap();
    assert!(p >= t && p <= 1.0, "{p} {t}");
    assert!(v["words"].as_u64().unwrap() > 100);
    let sections = v["sections"].as_array().unwrap();
    assert!(!sections.is_empty());
    for s in sections {
        for k in ["start", "end", "words", "prob", "news_llr", "synonym_llr"] {
            assert!(!s[k].is_null(), "section field {k}: {s}");
        }
    }
    let evidence = v["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty());
    let flagged = v["flagged"].as_array().unwrap();
    assert!(!flagged.is_empty());
    for w in evidence.iter().chain(flagged) {
        for k in [
            "start", "end", "text", "prob", "original", "relation", "model", "rarity", "lm_gain",
            "llr",
        ] {
            assert!(!w[k].is_null(), "word field {k}: {w}");
        }
        let (a, b) = (
            w["start"].as_u64().unwrap() as usize,
            w["end"].as_u64().unwrap() as usize,
        );
        assert!(a < b);
    }
    // Byte offsets select the words in the input.
    let input = spun();
    for w in flagged {
        let (a, b) = (
            w["start"].as_u64().unwrap() as usize,
            w["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&input[a..b], w["text"].as_str().unwrap());
    }
    // "arsenic" is a classic news-spinner output for "as" when it is in the text.
    if let Some(w) = flagged.iter().find(|w| w["text"] == "arsenic") {
        assert_eq!(w["original"], "as");
    }
}

#[test]
fn jsonl_corpus_lists_spun_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut corpus = String::new();
    corpus.push_str(&serde_json::json!({"id": "a", "text": CLEAN}).to_string());
    corpus.push('\n');
    corpus.push_str(&serde_json::json!({"id": "b", "text": spun()}).to_string());
    corpus.push('\n');
    let path = write(dir.path(), "docs.jsonl", &corpus)
        .display()
        .to_string();
    let out = unspin()
        .args(["detect", "--jsonl", "-l", &path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), format!("{path}:b\n"));
    let out = unspin()
        .args(["detect", "--jsonl", "--format", "json", &path])
        .output()
        .unwrap();
    let lines: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["spun"], false);
    assert_eq!(lines[1]["id"], "b");
    assert_eq!(lines[1]["spun"], true);
}

#[test]
fn html_report_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "spun.txt", spun()).display().to_string();
    let b = write(dir.path(), "clean.txt", CLEAN).display().to_string();
    let out = unspin()
        .args(["detect", "--format", "html", &a, &b])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let html = stdout_of(&out);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<mark") && html.contains("<style>"));
    assert!(!html.contains("<script src") && !html.contains("<link"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn threshold_flag() {
    // At threshold 0 everything is spun; a bad value is a usage error.
    let out = unspin()
        .args(["detect", "-q", "--threshold", "0"])
        .write_stdin(CLEAN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = unspin()
        .args(["detect", "--threshold", "1.5"])
        .write_stdin(CLEAN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_input_is_a_one_line_error_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt").display().to_string();
    assert_one_line_error(
        &unspin().args(["detect", &missing]).output().unwrap(),
        2,
        &["missing.txt"],
    );

    let binary = dir.path().join("image.bin");
    std::fs::write(&binary, b"GIF89a\0\0\x01\x02").unwrap();
    let binary = binary.display().to_string();
    assert_one_line_error(
        &unspin().args(["detect", &binary]).output().unwrap(),
        2,
        &["binary"],
    );

    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9 au lait").unwrap();
    let latin1 = latin1.display().to_string();
    assert_one_line_error(
        &unspin().args(["detect", &latin1]).output().unwrap(),
        2,
        &["UTF-8"],
    );

    let empty = write(dir.path(), "empty.txt", "").display().to_string();
    assert_one_line_error(
        &unspin().args(["detect", &empty]).output().unwrap(),
        2,
        &["empty"],
    );

    let bad_jsonl = write(
        dir.path(),
        "bad.jsonl",
        "{\"id\": 1, \"text\": \"fine\"}\nnot json\n",
    )
    .display()
    .to_string();
    let out = unspin()
        .args(["detect", "--jsonl", "-q", &bad_jsonl])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("bad.jsonl:2"));

    let bad_cal = write(dir.path(), "cal.unspin", "not a model")
        .display()
        .to_string();
    assert_one_line_error(
        &unspin()
            .args(["detect", "--calibration", &bad_cal])
            .write_stdin(CLEAN)
            .output()
            .unwrap(),
        2,
        &["CALB"],
    );
}

#[test]
fn errors_do_not_hide_matches_from_quiet_but_do_from_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let spun_path = write(dir.path(), "spun.txt", spun()).display().to_string();
    let missing = dir.path().join("missing.txt").display().to_string();
    // Like grep: an error makes the status 2 ...
    let out = unspin()
        .args(["detect", "-l", &spun_path, &missing])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout_of(&out), format!("{spun_path}\n"));
    // ... unless -q found spun text.
    let out = unspin()
        .args(["detect", "-q", &spun_path, &missing])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
