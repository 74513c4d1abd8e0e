//! A corrupt index gives errors, never panics (issue 17): random corruptions
//! (zeroed 64 KiB blocks and 4 KiB pages, flipped bytes, truncations) of a
//! built index, each opened, queried and checked.
//!
//! `cargo test --release -p unspin-index --test corrupt` runs 200 of them;
//! `UNSPIN_CORRUPTIONS=1000` (and `-- --nocapture` to see the counts) is the
//! stress run whose result docs/FORMATS.md reports.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter, MutableWords};
use unspin::spinner::mix64;
use unspin::trace::{trace, TraceOptions};
use unspin_index::check::{check, repair};
use unspin_index::codec::text_hash;
use unspin_index::{Index, NewDoc, NewLocation, WriterOptions};

fn fingerprinter() -> Fingerprinter {
    Fingerprinter::new(
        FingerprintConfig {
            immutable_sample_bits: 1,
            word_sample_bits: 1,
            ..FingerprintConfig::default()
        },
        MutableWords::from_words(["big", "large", "new", "fresh", "said", "state", "rules"]),
    )
}

fn doc_text(i: u64) -> String {
    let mut s = String::new();
    for p in 0..3 {
        if p > 0 {
            s.push_str("\n\n");
        }
        for k in 0..6 {
            let a = mix64(i * 1000 + p * 10 + k);
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

/// An index of `n` documents in several segments (small batches).
fn build(path: &Path, fp: &Fingerprinter, n: u64) {
    let opts = WriterOptions {
        batch_postings: 20_000,
        ..WriterOptions::default()
    };
    let mut w = Index::open_writer(path, fp, opts).unwrap();
    for i in 0..n {
        let text = doc_text(i);
        let doc = NewDoc {
            id: format!("doc-{i}"),
            source: NewLocation::None,
            meta: format!("{{\"n\":{i}}}"),
            text_hash: text_hash(&text),
            text_len: text.len() as u64,
        };
        w.add(&doc, &fp.fingerprint(&text, Channels::ALL)).unwrap();
    }
    w.finish().unwrap();
}

/// What a reader does with an index: open, snapshot, stats, queries, the
/// records of the matches, and the full check. Errors are fine; a panic
/// escaping this is the failure counted.
fn use_index(path: &Path, fp: &Fingerprinter, queries: &[String]) -> Result<(), String> {
    let reader = Index::open_reader(path).map_err(|e| e.to_string())?;
    let snap = reader.snapshot().map_err(|e| e.to_string())?;
    snap.check_fingerprinter(fp).map_err(|e| e.to_string())?;
    let _ = snap.stats();
    let opts = TraceOptions {
        min_score: 0.0,
        ..TraceOptions::default()
    };
    let mut first_err = None;
    for q in queries {
        let f = fp.fingerprint(q, Channels::ALL);
        match trace(&f, &snap, &opts) {
            Ok(r) => {
                for m in &r.matches {
                    if let Err(e) = snap.doc(m.doc) {
                        first_err.get_or_insert(e.to_string());
                    }
                }
            }
            Err(e) => {
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    drop(snap);
    drop(reader);
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    ZeroBlock,
    ZeroPage,
    FlipBytes,
    Truncate,
}

fn corrupt(pristine: &[u8], seed: u64) -> (Kind, Vec<u8>) {
    let mut b = pristine.to_vec();
    let r = |k: u64| mix64(seed.wrapping_mul(0x9e37_79b9).wrapping_add(k));
    let len = b.len() as u64;
    let kind = match r(0) % 4 {
        0 => Kind::ZeroBlock,
        1 => Kind::ZeroPage,
        2 => Kind::FlipBytes,
        _ => Kind::Truncate,
    };
    match kind {
        Kind::ZeroBlock | Kind::ZeroPage => {
            let size = if matches!(kind, Kind::ZeroBlock) {
                64 << 10
            } else {
                4 << 10
            };
            let blocks = len.div_ceil(size).max(1);
            let start = ((r(1) % blocks) * size) as usize;
            let end = (start + size as usize).min(b.len());
            b[start..end].fill(0);
        }
        Kind::FlipBytes => {
            for k in 0..1 + r(1) % 16 {
                let at = (r(2 + 2 * k) % len) as usize;
                b[at] ^= 1 + (r(3 + 2 * k) % 255) as u8;
            }
        }
        Kind::Truncate => {
            b.truncate((r(1) % len) as usize);
        }
    }
    (kind, b)
}

#[test]
fn random_corruptions_never_panic() {
    let n: u64 = std::env::var("UNSPIN_CORRUPTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Panics that escape are what this counts; keep their messages short.
    // (Set before the index installs its hook, which passes on the panics
    // it does not contain.)
    std::panic::set_hook(Box::new(|info| {
        eprintln!("escaped panic: {info}");
    }));
    let dir = tempfile::tempdir().unwrap();
    let pristine_path = dir.path().join("pristine.idx");
    let fp = fingerprinter();
    build(&pristine_path, &fp, 600);
    let pristine = std::fs::read(&pristine_path).unwrap();
    assert!(pristine.len() > 256 << 10, "{} bytes", pristine.len());
    let queries: Vec<String> = [3u64, 150, 333, 599].iter().map(|&i| doc_text(i)).collect();
    use_index(&pristine_path, &fp, &queries).unwrap();
    let report = check(&pristine_path).unwrap();
    assert!(report.ok, "{report:?}");

    let path = dir.path().join("corrupt.idx");
    let mut panics = Vec::new();
    let (mut errors, mut clean, mut flagged, mut repaired) = (0, 0, 0, 0);
    for seed in 0..n {
        let (kind, bytes) = corrupt(&pristine, seed);
        std::fs::write(&path, &bytes).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let used = use_index(&path, &fp, &queries);
            let report = check(&path);
            (used, report)
        }));
        let Ok((used, report)) = outcome else {
            panics.push((seed, kind));
            continue;
        };
        match &used {
            Ok(()) => clean += 1,
            Err(e) => {
                errors += 1;
                assert!(!e.contains('\n'), "a multi-line error: {e}");
                assert!(
                    e.contains("corrupt") || e.contains("rebuild"),
                    "seed {seed}: {e}"
                );
            }
        }
        let flagged_now = report.as_ref().map_or(true, |r| !r.ok);
        flagged += flagged_now as u32;
        // What a reader finds wrong, the check finds too.
        if used.is_err() {
            assert!(
                flagged_now,
                "seed {seed} ({kind:?}): {used:?} but {report:?}"
            );
        }
        // Repair some: the result must check clean and answer queries.
        if flagged_now && seed % 8 == 0 {
            let fixed = catch_unwind(AssertUnwindSafe(|| repair(&path)));
            match fixed {
                Err(_) => panics.push((seed, kind)),
                Ok(Err(e)) => assert!(!e.to_string().contains('\n'), "{e}"),
                Ok(Ok(_)) => {
                    repaired += 1;
                    let after = check(&path).unwrap();
                    assert!(after.ok, "seed {seed}: repaired index: {after:?}");
                    use_index(&path, &fp, &queries).unwrap();
                }
            }
            let _ = std::fs::remove_file(dir.path().join("corrupt.idx.corrupt"));
        }
    }
    eprintln!(
        "{n} corruptions of a {} byte index: {} panics, {errors} errors, {clean} still readable; \
         check flagged {flagged}; {repaired} repaired",
        pristine.len(),
        panics.len()
    );
    assert!(panics.is_empty(), "panics escaped: {panics:?}");
}

#[test]
fn adding_to_a_corrupt_index_never_panics_and_damage_is_refused() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("escaped panic: {info}");
    }));
    let dir = tempfile::tempdir().unwrap();
    let pristine_path = dir.path().join("pristine.idx");
    let fp = fingerprinter();
    build(&pristine_path, &fp, 300);
    let pristine = std::fs::read(&pristine_path).unwrap();
    let path = dir.path().join("corrupt.idx");
    let (mut panics, mut refused, mut written) = (Vec::new(), 0, 0);
    for seed in 0..60u64 {
        let (kind, bytes) = corrupt(&pristine, seed);
        std::fs::write(&path, &bytes).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut w = Index::open_writer(&path, &fp, WriterOptions::default())?;
            let text = doc_text(10_000 + seed);
            let doc = NewDoc {
                id: format!("new-{seed}"),
                source: NewLocation::None,
                meta: String::new(),
                text_hash: text_hash(&text),
                text_len: text.len() as u64,
            };
            w.add(&doc, &fp.fingerprint(&text, Channels::ALL))?;
            w.finish().map(|_| ())
        }));
        match outcome {
            Err(_) => panics.push((seed, kind)),
            Ok(Err(e)) => {
                refused += 1;
                let e = e.to_string();
                assert!(!e.contains('\n'), "a multi-line error: {e}");
            }
            Ok(Ok(())) => {
                written += 1;
                // What was written over a damaged file must still read back
                // without a panic (errors are fine).
                if catch_unwind(AssertUnwindSafe(|| use_index(&path, &fp, &[]))).is_err() {
                    panics.push((seed, kind));
                }
            }
        }
    }
    eprintln!(
        "60 corruptions then index add: {} panics, {refused} refused, {written} written",
        panics.len()
    );
    assert!(panics.is_empty(), "panics escaped: {panics:?}");
    // The whole-file check on open refuses most damage before writing.
    assert!(
        refused >= 30,
        "only {refused} of 60 damaged indexes refused"
    );
}
