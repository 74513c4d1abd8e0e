//! End-to-end tests of `unspin index` and `unspin trace` (issue 7): files,
//! folders and JSON Lines in, ranked sources with aligned passages out (text
//! and JSON), grep-like exit codes, one-line errors, and an index that
//! survives `kill -9` in the middle of `index add`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{assert_one_line_error, stderr_of, synthetic, unspin, unspin_std};
use serde_json::Value;
use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter};
use unspin::trace::{trace, TraceOptions};
use unspin_index::Index;

const ARTICLES: [&str; 3] = [
    "The city council approved the new budget on Tuesday, after a long debate about schools and roads. \
Council members said the plan would add 40 teachers and repair the old bridge over the Mill River.\n\n\
Residents who spoke at the meeting asked for better lighting on Main Street. The mayor promised that the \
council would read every letter before the final vote in March, and thanked the volunteers who organized the hearing.",
    "Heavy rain flooded parts of the valley on Sunday night, and officials closed two highways near Riverton. \
Emergency crews rescued 12 people from cars trapped in the water, according to the county sheriff.\n\n\
Forecasters expect the storm to move east by Wednesday. Farmers in the region said the rain came too late \
for the wheat harvest but would help the orchards that suffered during the dry summer months.",
    "The museum opened a new exhibit of Dutch paintings on Friday, drawing a crowd of 3,000 visitors in its \
first weekend. The curator, Anna Berg, said the collection had not been shown in public since 1962.\n\n\
Tickets cost 15 dollars for adults, and children under twelve enter for free. The exhibit will travel to \
Chicago and Boston next year, where two other museums have asked to borrow several of the paintings.",
];

fn spin(text: &str, profile: &str) -> String {
    let out = unspin()
        .args(["spin", "--profile", profile, "--seed", "3"])
        .args(if profile == "synonym" {
            vec!["--rate", "0.3"]
        } else {
            vec![]
        })
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let s = String::from_utf8(out.stdout).unwrap();
    assert_ne!(s.trim(), text.trim());
    s
}

/// A folder with two article files and a JSONL file holding the third.
fn corpus(dir: &Path) -> (PathBuf, PathBuf) {
    let folder = dir.join("articles");
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    std::fs::write(folder.join("a.txt"), ARTICLES[0]).unwrap();
    std::fs::write(folder.join("sub/b.txt"), ARTICLES[1]).unwrap();
    std::fs::write(folder.join(".hidden.txt"), "Hidden files are skipped.").unwrap();
    let jsonl = dir.join("feed.jsonl");
    let line = serde_json::json!({"id": "museum-1", "text": ARTICLES[2], "title": "Dutch paintings", "year": 2026});
    std::fs::write(&jsonl, format!("{line}\n\n")).unwrap();
    (folder, jsonl)
}

fn add(index: &Path, paths: &[&Path]) -> Output {
    unspin()
        .args(["index", "add", "--no-progress"])
        .arg(index)
        .args(paths)
        .output()
        .unwrap()
}

#[test]
fn index_trace_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let (folder, jsonl) = corpus(dir.path());
    let index = dir.path().join("news.idx");
    let out = add(&index, &[&folder, &jsonl]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("3 new"), "{}", stderr_of(&out));

    // Stats, as text and JSON.
    let out = unspin()
        .args(["index", "stats"])
        .arg(&index)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("documents:    3"));
    let out = unspin()
        .args(["index", "stats", "--format", "json"])
        .arg(&index)
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["documents"], 3);
    assert_eq!(stats["source_files"], 3);
    assert!(stats["postings"].as_u64().unwrap() > 10);

    // A news-spun copy of the JSONL article: found first, with metadata and passages.
    let query = dir.path().join("q.txt");
    std::fs::write(&query, spin(ARTICLES[2], "news")).unwrap();
    let out = unspin()
        .args(["trace", "--format", "json", "--index"])
        .arg(&index)
        .arg(&query)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = v["report"]["sources"].as_array().unwrap();
    assert_eq!(sources[0]["id"], "museum-1", "{v}");
    assert_eq!(sources[0]["meta"]["title"], "Dutch paintings");
    assert!(sources[0]["score"].as_f64().unwrap() >= 20.0);
    let passages = sources[0]["passages"].as_array().unwrap();
    assert_eq!(passages.len(), 2, "{v}");
    for (k, p) in passages.iter().enumerate() {
        assert_eq!(p["query"]["passage"], k);
        assert_eq!(p["source"]["passage"], k);
        // The source passage's text is read back from the JSONL line.
        let text = p["source"]["text"].as_str().unwrap();
        assert!(ARTICLES[2].contains(text), "{text}");
    }

    // One synonym-spun paragraph of a file, from standard input, as text.
    let para = ARTICLES[1].split("\n\n").nth(1).unwrap();
    let out = unspin()
        .args(["trace", "--index"])
        .arg(&index)
        .write_stdin(spin(para, "synonym"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().nth(1).unwrap();
    assert!(first.contains("b.txt"), "{text}");
    assert!(text.contains("<- source ¶2"), "{text}");

    // Unrelated text: nothing found, exit 1 (like grep).
    let out = unspin()
        .args(["trace", "--index"])
        .arg(&index)
        .write_stdin("Completely different words about Quantum Physics, Jupiter and 1,000 Tigers.")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no source"));

    // -l prints the queries that have a source.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "Nothing like the Indexed articles, At All.").unwrap();
    let out = unspin()
        .args(["trace", "-l", "--no-restore", "--index"])
        .arg(&index)
        .args([&query, &other])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        query.display().to_string()
    );

    // Adding again changes nothing; an edited file replaces its old version.
    let out = add(&index, &[&folder, &jsonl]);
    assert!(
        stderr_of(&out).contains("0 new, 0 replaced, 3 unchanged"),
        "{}",
        stderr_of(&out)
    );
    std::fs::write(
        folder.join("a.txt"),
        ARTICLES[0].replace("Tuesday", "Thursday"),
    )
    .unwrap();
    let out = add(&index, &[&folder]);
    assert!(
        stderr_of(&out).contains("0 new, 1 replaced, 1 unchanged"),
        "{}",
        stderr_of(&out)
    );

    // A source that changed after indexing: still found, passages without text.
    std::fs::write(folder.join("sub/b.txt"), "Rewritten since.").unwrap();
    let out = unspin()
        .args(["trace", "--format", "json", "--no-restore", "--index"])
        .arg(&index)
        .write_stdin(spin(ARTICLES[1], "news"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["report"]["sources"][0];
    assert!(s["id"].as_str().unwrap().ends_with("b.txt"), "{v}");
    assert!(
        s["source_text"].as_str().unwrap().contains("changed"),
        "{v}"
    );
    assert!(s["passages"][0]["source"].get("text").is_none());

    // Compaction keeps the answers.
    let out = unspin()
        .args(["index", "compact"])
        .arg(&index)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = unspin()
        .args(["trace", "--format", "json", "--index"])
        .arg(&index)
        .arg(&query)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["sources"][0]["id"], "museum-1");
}

#[test]
fn errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("x.idx");
    // No such index.
    let out = unspin()
        .args(["trace", "--index"])
        .arg(&index)
        .write_stdin("text")
        .output()
        .unwrap();
    assert_one_line_error(&out, 2, &["no such index"]);
    // Not an index.
    let junk = dir.path().join("junk.idx");
    std::fs::write(&junk, "just some text, no database").unwrap();
    let out = unspin()
        .args(["index", "stats"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["junk.idx"]);
    // Missing input path.
    let out = add(&index, &[&dir.path().join("missing")]);
    assert_one_line_error(&out, 1, &["no such file"]);
    // Bad JSONL lines are reported with their line numbers; the good ones are indexed.
    let jsonl = dir.path().join("bad.jsonl");
    let good = serde_json::json!({"id": 7, "text": ARTICLES[0]});
    std::fs::write(&jsonl, format!("{good}\n{{not json\n{{\"id\": \"x\"}}\n")).unwrap();
    let out = add(&index, &[&jsonl]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("bad.jsonl:2: not valid JSON"), "{err}");
    assert!(err.contains("bad.jsonl:3: no \"text\" field"), "{err}");
    assert!(err.contains("1 new"), "{err}");
    // Binary input.
    let bin = dir.path().join("bin.txt");
    std::fs::write(&bin, b"abc\0def").unwrap();
    let out = add(&index, &[&bin]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("binary data"),
        "{}",
        stderr_of(&out)
    );
    // Usage errors exit 2.
    let out = unspin()
        .args(["index", "add"])
        .arg(&index)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn committed_docs(index: &Path) -> Option<u64> {
    // Never repairs: a repair would take the writer's place.
    let r = Index::open_read_only(index).ok()?;
    Some(r.snapshot().ok()?.meta().docs)
}

#[test]
fn kill_9_during_index_add_leaves_a_usable_index() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("many.jsonl");
    let n = 6000u64;
    let mut body = String::new();
    for i in 0..n {
        body.push_str(
            &serde_json::json!({"id": format!("doc-{i}"), "text": synthetic(i)}).to_string(),
        );
        body.push('\n');
    }
    std::fs::write(&jsonl, body).unwrap();
    let index = dir.path().join("crash.idx");
    let fp = Fingerprinter::embedded(FingerprintConfig::default()).unwrap();
    let mut kills = 0;
    // Kill the writer at different points of three runs, each resuming the last.
    for delay_ms in [0u64, 15, 40] {
        let mut child = unspin_std()
            .args([
                "index",
                "add",
                "--no-progress",
                "--jobs",
                "1",
                "--batch-postings",
                "3000",
            ])
            .arg(&index)
            .arg(&jsonl)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until a batch is committed (readers may open the index while it is written).
        let before = committed_docs(&index).unwrap_or(0);
        let clock = Instant::now();
        let mut done = false;
        while committed_docs(&index).unwrap_or(0) <= before {
            if child.try_wait().unwrap().is_some() {
                done = true;
                break;
            }
            assert!(clock.elapsed() < Duration::from_secs(120), "no commit seen");
            std::thread::sleep(Duration::from_millis(2));
        }
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();

        // The index opens (repairing if needed), is consistent, and answers queries.
        let reader = Index::open_reader(&index).expect("the index opens after kill -9");
        let snap = reader.snapshot().unwrap();
        let docs = snap.meta().docs;
        assert!(
            docs > before && docs <= n,
            "{docs} documents after the kill"
        );
        let stats = snap.stats().unwrap();
        assert!(stats.postings > 0);
        snap.check_fingerprinter(&fp).unwrap();
        // Every committed document is found by its own text; the first
        // document never committed is not.
        for i in [0, docs / 2, docs - 1] {
            let q = fp.fingerprint(&synthetic(i), Channels::ALL);
            let r = trace(&q, &snap, &TraceOptions::default()).unwrap();
            let top = r.matches.first().expect("a committed document is found");
            assert_eq!(snap.doc(top.doc).unwrap().unwrap().id, format!("doc-{i}"));
        }
        // The records match the metadata: documents 0..docs, in input order, and no more.
        for d in (0..docs as u32).step_by(97).chain([docs as u32 - 1]) {
            let rec = snap.doc(d).unwrap().expect("a committed record");
            assert_eq!(rec.id, format!("doc-{d}"));
        }
        assert!(snap.doc(docs as u32).unwrap().is_none());
    }
    assert!(kills > 0, "the writer finished before it could be killed");
    // Resuming adds the rest; the documents already in are unchanged.
    let out = add(&index, &[&jsonl]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(committed_docs(&index), Some(n));
    let err = stderr_of(&out);
    assert!(err.contains("unchanged"), "{err}");
}
