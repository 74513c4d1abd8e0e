//! The fuzz targets of unspin (issue 17), as plain functions.
//!
//! Each target takes arbitrary bytes and panics only on a bug: a panic
//! escaping the code under test, or a broken invariant asserted here.
//!
//! * [`restore`]: the tokenizer and the embedded engine's restore, with the
//!   byte-exact passthrough invariant of `crates/unspin/tests/restore_props.rs`.
//! * [`container`]: every model file reader (the `LMTG`, `LEXI`, `WNET`,
//!   `CALB` and `TORT` containers, ARPA and Sphinx language models, the PPS
//!   list), on the raw bytes and on the bytes wrapped in a valid container,
//!   so that the payload parsers behind the checksum are reached too.
//! * [`index`]: a small valid trace index, corrupted at the offsets and with
//!   the values the bytes spell, then opened, queried and checked.
//! * [`http_input`]: the server's request parsing (`Content-Type`, the text,
//!   JSON and form bodies with each endpoint's options, the LanguageTool
//!   `data` annotation and its offset mapping, the Host header).
//!
//! `cargo fuzz` builds `fuzz_targets/*.rs`, which call these under
//! libFuzzer; on stable the same files are binaries that replay inputs, and
//! `tests/smoke.rs` runs every target on its seeds and on deterministic
//! mutations of them (`cargo test --workspace --release` runs it). How to
//! run them: `docs/FUZZING.md`.

use std::path::{Path, PathBuf};

mod container;
mod http_input;
mod index;
mod restore;

pub use container::{container, model_reader_accepts};
pub use http_input::http_input;
pub use index::index;
pub use restore::restore;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz_targets/` file.
pub const TARGETS: &[(&str, Target)] = &[
    ("restore", restore),
    ("container", container),
    ("index", index),
    ("http_input", http_input),
];

/// The committed seed inputs of `target` (`fuzz/seeds/TARGET/`), sorted by
/// name, plus the seeds built in code (small valid model files).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = files_under(&dir)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    if target == "container" {
        out.extend(container::built_seeds());
    }
    out
}

/// Files under `path` (itself when it is a file), sorted.
pub fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            out.extend(files_under(&e.path()));
        }
    }
    out.sort();
    out
}

/// A small deterministic PRNG (splitmix64) for the smoke mutations.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Bytes that mutations insert: structure of the formats under test.
const TOKENS: &[&[u8]] = &[
    b"{\"text\":\"",
    b"\"id\":",
    b"\"min_confidence\":",
    b"\",\"",
    b"}",
    b"text=",
    b"&",
    b"%",
    b"%C3%A9",
    b"+",
    b"data={\"annotation\":[{\"text\":\"a \"},{\"markup\":\"<b>\",\"interpretAs\":\"\\n\"}]}",
    b"<b>",
    b"</b>",
    b"```",
    b"http://ex.org/a",
    b" helium said the caller ",
    b"\xc3\xa9",
    b"\xf0\x9f\x99\x82",
    b"\r\n",
    b"\0",
    b"\xff",
    b"UNSPIN\0\0",
    b"\\data\\\nngram 1=",
    b"\n\\1-grams:\n",
    b"\\end\\\n",
];

/// One deterministic mutation of `input` (libFuzzer-like: flips, byte
/// sets, inserted tokens and bytes, deletions, splices with `other`).
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = b.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = rng.next_u64() as u8;
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                b.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                b.drain(i..i + n);
            }
            4 if !other.is_empty() => {
                let i = rng.below(len + 1);
                let s = rng.below(other.len());
                let n = 1 + rng.below((other.len() - s).min(256));
                b.splice(i..i, other[s..s + n].iter().copied());
            }
            5 if len > 0 => {
                let i = rng.below(len);
                b.truncate(i);
            }
            6 if len > 1 => {
                // Duplicate a slice, as repetition finds length bugs.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let dup: Vec<u8> = b[i..i + n].to_vec();
                b.splice(i..i, dup);
            }
            _ => {
                let i = rng.below(len + 1);
                b.insert(i, rng.next_u64() as u8);
            }
        }
    }
    b.truncate(max_len);
    b
}

/// Runs `target` on each seed, then on `mutations` mutated seeds (fixed
/// `seed`, at most `max_len` bytes each), stopping early after `budget`.
/// Returns how many inputs ran.
pub fn smoke(
    target: Target,
    seeds: &[Vec<u8>],
    mutations: usize,
    seed: u64,
    max_len: usize,
    budget: std::time::Duration,
) -> usize {
    let started = std::time::Instant::now();
    let mut runs = 0;
    for s in seeds {
        target(s);
        runs += 1;
    }
    let empty = Vec::new();
    let mut rng = Rng::new(seed);
    for _ in 0..mutations {
        if started.elapsed() > budget {
            break;
        }
        let a = seeds.get(rng.below(seeds.len().max(1))).unwrap_or(&empty);
        let b = seeds.get(rng.below(seeds.len().max(1))).unwrap_or(&empty);
        let input = mutate(&mut rng, a, b, max_len);
        target(&input);
        runs += 1;
    }
    runs
}

/// `main` of a target built without libFuzzer: runs it on every file
/// under the paths given (crash inputs, a corpus), or with none on its
/// seeds, and says how many ran.
pub fn replay_main(name: &str, target: Target) {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let inputs: Vec<Vec<u8>> = if args.is_empty() {
        seeds(name)
    } else {
        args.iter()
            .flat_map(|a| files_under(a))
            .filter_map(|p| std::fs::read(p).ok())
            .collect()
    };
    for input in &inputs {
        target(input);
    }
    println!("{name}: {} inputs, no crash", inputs.len());
}
