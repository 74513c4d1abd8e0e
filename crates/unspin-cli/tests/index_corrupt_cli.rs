//! A corrupt index (issue 17): `unspin trace` gives one line naming the
//! file, never a panic; `unspin index check` finds it; `unspin index repair`
//! rewrites what can be read.

mod common;

use std::path::Path;
use std::process::Output;

use common::{assert_one_line_error, stderr_of, synthetic, unspin};

/// An index of 1,500 JSON Lines documents (a few hundred KiB).
fn build(dir: &Path) -> std::path::PathBuf {
    let feed = dir.join("feed.jsonl");
    let mut lines = String::new();
    for i in 0..1500 {
        let line = serde_json::json!({"id": format!("doc-{i}"), "text": synthetic(i)});
        lines.push_str(&format!("{line}\n"));
    }
    std::fs::write(&feed, lines).unwrap();
    let index = dir.join("news.idx");
    let out = unspin()
        .args(["index", "add", "--no-progress"])
        .arg(&index)
        .arg(&feed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    index
}

fn trace(index: &Path, query: &Path) -> Output {
    unspin()
        .args(["trace", "--no-restore", "--index"])
        .arg(index)
        .arg(query)
        .output()
        .unwrap()
}

fn check(index: &Path) -> Output {
    unspin()
        .args(["index", "check"])
        .arg(index)
        .output()
        .unwrap()
}

#[test]
fn a_zeroed_block_gives_one_line_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    let query = dir.path().join("q.txt");
    std::fs::write(&query, synthetic(700)).unwrap();
    assert_eq!(trace(&index, &query).status.code(), Some(0));
    assert_eq!(check(&index).status.code(), Some(0));
    let pristine = std::fs::read(&index).unwrap();
    let blocks = pristine.len().div_ceil(64 << 10);
    assert!(blocks >= 3, "{} bytes", pristine.len());

    let broken = dir.path().join("broken.idx");
    let mut corrupt_seen = 0;
    for b in 0..blocks {
        let mut bytes = pristine.clone();
        let end = ((b + 1) << 16).min(bytes.len());
        bytes[b << 16..end].fill(0);
        std::fs::write(&broken, &bytes).unwrap();
        let out = trace(&broken, &query);
        let err = stderr_of(&out);
        let code = out.status.code();
        assert_ne!(code, Some(101), "block {b}: {err}");
        assert!(!err.contains("panicked"), "block {b}: {err}");
        assert!(!err.contains("backtrace"), "block {b}: {err}");
        if code == Some(2) {
            eprintln!("block {b}:");
            let line = assert_one_line_error(&out, 2, &[]);
            let want = format!("unspin: error: index {} is corrupt: ", broken.display());
            assert!(line.starts_with(&want), "block {b}: {err:?}");
            corrupt_seen += 1;
            // The check agrees, in its own exit code.
            let c = check(&broken);
            assert_eq!(c.status.code(), Some(1), "block {b}");
            assert!(!stderr_of(&c).contains("panicked"));
        } else {
            assert!(matches!(code, Some(0 | 1)), "block {b}: {code:?} {err}");
        }
    }
    assert!(corrupt_seen > 0, "no zeroed block was noticed");
}

#[test]
fn repair_keeps_what_can_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    let pristine = std::fs::read(&index).unwrap();
    // A clean index has nothing to repair.
    let out = unspin()
        .args(["index", "repair"])
        .arg(&index)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("nothing to repair"));

    // Flip bytes in the second half of the file (posting blocks and records).
    let mut bytes = pristine.clone();
    let n = bytes.len();
    for k in 0..40 {
        let at = n / 2 + (unspin::spinner::mix64(k) as usize % (n / 2));
        bytes[at] ^= 0x5a;
    }
    std::fs::write(&index, &bytes).unwrap();
    if check(&index).status.code() == Some(0) {
        return; // Only free pages were hit.
    }
    let out = unspin()
        .args(["index", "repair"])
        .arg(&index)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(!err.contains("panicked"), "{err}");
    if out.status.code() == Some(0) {
        assert!(err.contains("repaired"), "{err}");
        assert_eq!(check(&index).status.code(), Some(0));
        assert!(dir.path().join("news.idx.corrupt").exists());
        let query = dir.path().join("q.txt");
        std::fs::write(&query, synthetic(10)).unwrap();
        assert!(matches!(trace(&index, &query).status.code(), Some(0 | 1)));
    } else {
        assert_one_line_error(&out, 1, &[]);
    }
}
