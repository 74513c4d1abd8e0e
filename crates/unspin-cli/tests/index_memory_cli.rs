//! `index add` keeps its memory bounded (issue 17): documents in flight are
//! capped by bytes of text, the posting batch and the writer's page cache
//! are small, so an 8 MB corpus already reaches every bound and a 40 MB one
//! peaks no higher. Alone in its test binary: `RUSAGE_CHILDREN` is the
//! largest peak of any child this process ran.

mod common;

use std::io::Write;
use std::path::Path;

use common::{children_peak_kib, stderr_of, unspin_std};

/// JSON Lines of distinct documents (about 6 KB each, distinct ids and
/// words drawn from a fixed pseudo-random sequence) up to `bytes`.
fn corpus(path: &Path, bytes: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut written, mut id) = (0, 0);
    while written < bytes {
        let mut text = String::new();
        while text.len() < 6000 {
            let w = next();
            text.push_str(&format!("w{} ", w % 20_000));
            if w % 13 == 0 {
                text.push_str(".\n\n");
            }
        }
        let line = serde_json::json!({ "id": id, "text": text }).to_string();
        writeln!(f, "{line}").unwrap();
        written += line.len() + 1;
        id += 1;
    }
}

fn index_add(index: &Path, input: &Path) {
    let out = unspin_std()
        .args(["index", "add", "--no-progress"])
        .arg(index)
        .arg(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn index_add_peak_memory_does_not_grow_with_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let (small, large) = (
        dir.path().join("small.jsonl"),
        dir.path().join("large.jsonl"),
    );
    corpus(&small, 8 << 20);
    corpus(&large, 40 << 20);
    index_add(&dir.path().join("small.idx"), &small);
    let after_small = children_peak_kib();
    index_add(&dir.path().join("large.idx"), &large);
    let after_large = children_peak_kib();
    assert!(
        after_large as f64 <= after_small as f64 * 1.10,
        "peak {after_small} KiB on 8 MB, {after_large} KiB on 40 MB"
    );
}
