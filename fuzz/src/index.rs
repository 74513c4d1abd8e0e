//! The trace index reader over corrupted files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter, MutableWords};
use unspin::trace::{trace, TraceOptions};
use unspin_index::check::check;
use unspin_index::codec::text_hash;
use unspin_index::{Index, NewDoc, NewLocation, WriterOptions};

/// The pristine index, built once, and what a reader asks of it.
struct Fixture {
    pristine: Vec<u8>,
    fp: Fingerprinter,
    queries: Vec<String>,
}

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
        for k in 0..4 {
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

/// A folder for index files, removed when dropped: in memory when the
/// system has `/dev/shm`.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new()
            .prefix("unspin-fuzz-index")
            .tempdir_in(shm)
        {
            return d;
        }
    }
    tempfile::Builder::new()
        .prefix("unspin-fuzz-index")
        .tempdir()
        .expect("a temporary folder")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch_dir();
        let path = dir.path().join("pristine.idx");
        let fp = fingerprinter();
        // Two commits of small batches: several segments, and a merge.
        let opts = WriterOptions {
            batch_postings: 2_000,
            ..WriterOptions::default()
        };
        let mut w = Index::open_writer(&path, &fp, opts).expect("a new index");
        for i in 0..24 {
            let text = doc_text(i);
            let doc = NewDoc {
                id: format!("doc-{i}"),
                source: NewLocation::None,
                meta: format!("{{\"n\":{i}}}"),
                text_hash: text_hash(&text),
                text_len: text.len() as u64,
            };
            w.add(&doc, &fp.fingerprint(&text, Channels::ALL))
                .expect("add");
            if i == 11 {
                w.commit().expect("commit");
            }
        }
        w.finish().expect("finish");
        let pristine = std::fs::read(&path).expect("read the index back");
        drop(dir);
        let queries = vec![doc_text(3), doc_text(17)];
        Fixture {
            pristine,
            fp,
            queries,
        }
    })
}

/// Applies the corruptions `data` spells to `file`: records of 6 bytes,
/// an operation, a little-endian offset (modulo the length) and a value.
/// Operations: xor a byte, set a byte, zero 16 * (value + 1) bytes, zero
/// the 4 KiB page, write the value at 8 spread offsets, and truncate.
pub(crate) fn corrupt(file: &mut Vec<u8>, data: &[u8]) {
    for rec in data.chunks(6).take(64) {
        if file.is_empty() {
            return;
        }
        let mut r = [0u8; 6];
        r[..rec.len()].copy_from_slice(rec);
        let at = u32::from_le_bytes([r[1], r[2], r[3], r[4]]) as usize % file.len();
        let v = r[5];
        match r[0] % 6 {
            0 => file[at] ^= v.max(1),
            1 => file[at] = v,
            2 => {
                let end = (at + 16 * (v as usize + 1)).min(file.len());
                file[at..end].fill(0);
            }
            3 => {
                let start = at & !4095;
                let end = (start + 4096).min(file.len());
                file[start..end].fill(0);
            }
            4 => {
                for k in 0..8 {
                    let i = (at + k * 4099) % file.len();
                    file[i] = v;
                }
            }
            _ => file.truncate(at),
        }
    }
}

/// A reader's work on a possibly corrupt index: open, snapshot, the
/// fingerprinter check, stats, two traces and the records they name.
/// Returns the first error, or how many matches the traces found.
fn use_index(path: &Path, fx: &Fixture) -> Result<usize, String> {
    let reader = Index::open_reader(path).map_err(|e| e.to_string())?;
    let snap = reader.snapshot().map_err(|e| e.to_string())?;
    let mut first_err = snap
        .check_fingerprinter(&fx.fp)
        .err()
        .map(|e| e.to_string());
    if let Err(e) = snap.stats() {
        first_err.get_or_insert(e.to_string());
    }
    let opts = TraceOptions {
        min_score: 0.0,
        ..TraceOptions::default()
    };
    let mut found = 0;
    for q in &fx.queries {
        let f = fx.fp.fingerprint(q, Channels::ALL);
        match trace(&f, &snap, &opts) {
            Ok(r) => {
                found += r.matches.len();
                for m in r.matches.iter().take(4) {
                    match snap.doc(m.doc) {
                        Ok(Some(rec)) => {
                            let _ = snap.display_id(&rec);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            first_err.get_or_insert(e.to_string());
                        }
                    }
                }
            }
            Err(e) => {
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// Corrupts a copy of a small valid index as `data` says, then opens,
/// queries and checks it: errors are fine, a panic that escapes is not.
pub fn index(data: &[u8]) {
    let fx = fixture();
    let mut bytes = fx.pristine.clone();
    corrupt(&mut bytes, data);
    let dir = scratch_dir();
    let path: PathBuf = dir.path().join("corrupt.idx");
    std::fs::write(&path, &bytes).expect("write the corrupt copy");
    // For replaying a finding with `unspin index check` by hand.
    if let Some(keep) = std::env::var_os("UNSPIN_FUZZ_KEEP_INDEX") {
        std::fs::write(keep, &bytes).expect("write the kept copy");
    }
    let used = use_index(&path, fx);
    let report = check(&path);
    if data.is_empty() {
        // Nothing corrupted: the fixture itself must read and check clean.
        let found = used.expect("the pristine index reads");
        assert!(
            found >= fx.queries.len(),
            "traces of indexed texts found nothing"
        );
        let report = report.expect("the pristine index checks");
        assert!(report.ok, "{report:?}");
    } else if let Err(e) = &used {
        assert!(!e.contains('\n'), "a multi-line error: {e}");
    }
}
