//! End-to-end tests of the index: add, query, incremental adds, replacement,
//! merges, compaction, reopening, concurrent readers.

use std::path::Path;

use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter, MutableWords};
use unspin::trace::{trace, TraceOptions};
use unspin_index::codec::text_hash;
use unspin_index::{Added, Index, NewDoc, NewLocation, WriterOptions};

fn fingerprinter() -> Fingerprinter {
    // A small dictionary keeps the tests independent of the embedded model.
    Fingerprinter::new(
        FingerprintConfig {
            immutable_sample_bits: 1,
            word_sample_bits: 1,
            ..FingerprintConfig::default()
        },
        MutableWords::from_words(["big", "large", "new", "fresh", "said", "state", "rules"]),
    )
}

/// Deterministic "documents": sentences built from a numbered vocabulary.
fn doc_text(i: u64) -> String {
    let mut s = String::new();
    for p in 0..3 {
        if p > 0 {
            s.push_str("\n\n");
        }
        for k in 0..6 {
            let a = unspin::spinner::mix64(i * 1000 + p * 10 + k);
            s.push_str(&format!(
                "The Word{} of Place{}, said Name{} on day {}. ",
                a % 997,
                (a >> 10) % 991,
                (a >> 20) % 983,
                (a >> 30) % 97
            ));
        }
    }
    s
}

fn new_doc(id: &str, text: &str) -> NewDoc {
    NewDoc {
        id: id.into(),
        source: NewLocation::None,
        meta: String::new(),
        text_hash: text_hash(text),
        text_len: text.len() as u64,
    }
}

fn add_range(path: &Path, fp: &Fingerprinter, range: std::ops::Range<u64>, opts: WriterOptions) {
    let mut w = Index::open_writer(path, fp, opts).unwrap();
    for i in range {
        let text = doc_text(i);
        let f = fp.fingerprint(&text, Channels::ALL);
        w.add(&new_doc(&format!("doc-{i}"), &text), &f).unwrap();
    }
    w.finish().unwrap();
}

fn top(path: &Path, fp: &Fingerprinter, text: &str) -> Option<(String, f32)> {
    let r = Index::open_reader(path).unwrap();
    let snap = r.snapshot().unwrap();
    snap.check_fingerprinter(fp).unwrap();
    let q = fp.fingerprint(text, Channels::ALL);
    let opts = TraceOptions {
        min_score: 5.0,
        ..TraceOptions::default()
    };
    let res = trace(&q, &snap, &opts).unwrap();
    res.matches.first().map(|m| {
        let rec = snap.doc(m.doc).unwrap().unwrap();
        (rec.id, m.score)
    })
}

#[test]
fn add_query_grow_replace_compact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.idx");
    let fp = fingerprinter();
    let small = WriterOptions {
        batch_postings: 500,
        ..WriterOptions::default()
    };
    add_range(&path, &fp, 0..40, small.clone());
    // Many small commits made segments; tiers were merged along the way.
    let snap = Index::open_reader(&path).unwrap().snapshot().unwrap();
    assert_eq!(snap.meta().docs, 40);
    let segments = snap.segments().len();
    assert!((2..20).contains(&segments), "{segments} segments");
    drop(snap);
    // A paragraph of document 17, "spun" (a rewritable word changed), finds it.
    let text = doc_text(17);
    let para = text.split("\n\n").nth(1).unwrap().replace("said", "state");
    assert_eq!(top(&path, &fp, &para).unwrap().0, "doc-17");
    // Unrelated text finds nothing.
    assert!(top(&path, &fp, "Nothing At All Like These Documents, Here.").is_none());

    // Incremental add in a second writer session.
    add_range(&path, &fp, 40..60, small.clone());
    assert_eq!(top(&path, &fp, &doc_text(55)).unwrap().0, "doc-55");
    assert_eq!(top(&path, &fp, &doc_text(3)).unwrap().0, "doc-3");

    // Same id, same text: unchanged; same id, new text: replaced.
    let mut w = Index::open_writer(&path, &fp, small.clone()).unwrap();
    let t3 = doc_text(3);
    let f3 = fp.fingerprint(&t3, Channels::ALL);
    assert!(matches!(
        w.add(&new_doc("doc-3", &t3), &f3).unwrap(),
        Added::Unchanged(_)
    ));
    let other = doc_text(1003);
    let fo = fp.fingerprint(&other, Channels::ALL);
    assert!(matches!(
        w.add(&new_doc("doc-3", &other), &fo).unwrap(),
        Added::Replaced(_)
    ));
    w.finish().unwrap();
    let (id, _) = top(&path, &fp, &other).unwrap();
    assert_eq!(id, "doc-3");
    // The old text of doc-3 no longer finds it.
    assert_ne!(top(&path, &fp, &t3).map(|t| t.0), Some("doc-3".to_string()));
    let snap = Index::open_reader(&path).unwrap().snapshot().unwrap();
    assert_eq!(snap.meta().docs, 60);
    assert_eq!(snap.meta().deleted, 1);
    drop(snap);

    // Compaction: one segment, deleted postings gone, same answers.
    let mut w = Index::open_writer(&path, &fp, small).unwrap();
    w.compact().unwrap();
    w.finish().unwrap();
    let snap = Index::open_reader(&path).unwrap().snapshot().unwrap();
    assert_eq!(snap.segments().len(), 1);
    assert_eq!(snap.meta().deleted, 0);
    let stats = snap.stats().unwrap();
    assert_eq!(stats.documents, 60);
    assert!(stats.postings > 0);
    drop(snap);
    for i in [0, 17, 42, 59] {
        assert_eq!(top(&path, &fp, &doc_text(i)).unwrap().0, format!("doc-{i}"));
    }
    assert_eq!(top(&path, &fp, &other).unwrap().0, "doc-3");
}

#[test]
fn readers_see_commits_while_a_writer_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.idx");
    let fp = fingerprinter();
    let mut w = Index::open_writer(&path, &fp, WriterOptions::default()).unwrap();
    let t = doc_text(1);
    w.add(&new_doc("a", &t), &fp.fingerprint(&t, Channels::ALL))
        .unwrap();
    w.commit().unwrap();
    // Readers (this process stands in for others) while the writer stays open.
    let r = Index::open_reader(&path).unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let snap = r.snapshot().unwrap();
            let q = fp.fingerprint(&t, Channels::ALL);
            std::thread::spawn(move || {
                let opts = TraceOptions {
                    min_score: f32::NEG_INFINITY,
                    ..TraceOptions::default()
                };
                trace(&q, &snap, &opts).unwrap().matches.len()
            })
        })
        .collect();
    for h in readers {
        assert_eq!(h.join().unwrap(), 1);
    }
    // A second writer is refused with a clear error.
    let e = Index::open_writer(&path, &fp, WriterOptions::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("another process"), "{e}");
    // A later commit is visible to a new snapshot of the same reader.
    let t2 = doc_text(2);
    w.add(&new_doc("b", &t2), &fp.fingerprint(&t2, Channels::ALL))
        .unwrap();
    w.commit().unwrap();
    assert_eq!(r.snapshot().unwrap().meta().docs, 2);
}

#[test]
fn other_fingerprint_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.idx");
    add_range(&path, &fingerprinter(), 0..2, WriterOptions::default());
    let other = Fingerprinter::new(
        FingerprintConfig::default(),
        MutableWords::from_words(["x"]),
    );
    let e = Index::open_writer(&path, &other, WriterOptions::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("rebuild the index"), "{e}");
    let snap = Index::open_reader(&path).unwrap().snapshot().unwrap();
    assert!(snap.check_fingerprinter(&other).is_err());
}

#[test]
fn not_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.idx");
    std::fs::write(&path, b"this is not a database, just text\n").unwrap();
    let e = Index::open_reader(&path).err().unwrap();
    assert!(e.to_string().contains("junk.idx"), "{e}");
    let e = Index::open_reader(&dir.path().join("missing.idx"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("no such index"), "{e}");
}
