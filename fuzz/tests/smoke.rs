//! Smoke run of every fuzz target on stable (issue 17): its seeds, then
//! deterministic mutations of them, each target bounded in count and time
//! so that the whole file stays well under a minute in a release build.
//! The real fuzzing is `cargo +nightly fuzz run TARGET` (docs/FUZZING.md).
//!
//! `UNSPIN_FUZZ_SMOKE=N` runs N times as many mutations (and time).

use std::time::{Duration, Instant};

/// Runs `name` on its seeds and `mutations` mutated inputs (at most
/// `seconds` of them), with the seed of the run fixed by the name.
fn smoke(name: &str, mutations: usize, max_len: usize, seconds: u64) {
    let scale: usize = std::env::var("UNSPIN_FUZZ_SMOKE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let target = unspin_fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a target")
        .1;
    let seeds = unspin_fuzz::seeds(name);
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let seed = unspin::hash::fnv1a64(name);
    let started = Instant::now();
    let runs = unspin_fuzz::smoke(
        target,
        &seeds,
        mutations * scale,
        seed,
        max_len,
        Duration::from_secs(seconds * scale as u64),
    );
    eprintln!(
        "{name}: {runs} inputs ({} seeds) in {:.1} s, no crash",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn restore_smoke() {
    smoke("restore", 20_000, 2048, 10);
}

#[test]
fn container_smoke() {
    smoke("container", 50_000, 4096, 10);
}

#[test]
fn index_smoke() {
    smoke("index", 3_000, 64, 10);
}

#[test]
fn http_input_smoke() {
    smoke("http_input", 200_000, 4096, 10);
}

/// The container kinds and versions written out in the target are those
/// of the model files in `models/`: each file's reader there accepts it.
#[test]
fn container_kinds_match_the_model_files() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    for file in [
        "lm.unspin",
        "lexicon.unspin",
        "wordnet.unspin",
        "calibration.unspin",
        "phrases.unspin",
    ] {
        let bytes = std::fs::read(models.join(file)).expect("model file");
        assert_eq!(
            unspin_fuzz::model_reader_accepts(&bytes),
            Some(true),
            "{file}: no reader of its kind and version, or it refused the file"
        );
    }
}

/// Regression (found by the `index` target, 2026-12-07): a corrupt index
/// whose metadata table names a key type with a line break in it gave a
/// two-line error; `IndexError` now escapes control characters.
#[test]
fn index_errors_stay_one_line() {
    let e = unspin_index::IndexError::Corrupt("meta has key type \nstr\r\0".into());
    assert_eq!(e.to_string(), "meta has key type \\nstr\\r\\u{0}");
    let input = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("seeds/index/regress-multiline-error"),
    )
    .unwrap();
    unspin_fuzz::index(&input);
}
