//! Load time, memory and lookup speed of a language model file.
//!
//! ```text
//! cargo run --release -p unspin --example lm_bench -- [models/lm.unspin]
//! ```

use std::hint::black_box;
use std::time::Instant;

use unspin::lm::{LanguageModel, WordId};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly Zipfian id: ids are ranked by unigram probability.
    fn zipf(&mut self, n: usize) -> WordId {
        (((self.unit() * (n as f64).ln()).exp() as usize).saturating_sub(1)).min(n - 1) as WordId
    }
}

/// Nanoseconds this thread has spent on a CPU (Linux; 0 elsewhere). On a
/// shared machine this is steadier than wall time.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `f` five times and reports the fastest run.
fn timed(name: &str, n: usize, mut f: impl FnMut() -> f32) {
    let (mut dt, mut dc, mut s) = (f64::INFINITY, f64::INFINITY, 0.0);
    for _ in 0..5 {
        let (t, c) = (Instant::now(), cpu_ns());
        s = black_box(f());
        dt = dt.min(t.elapsed().as_secs_f64());
        dc = dc.min((cpu_ns() - c) as f64 / 1e9);
    }
    println!(
        "{name:<46} {:>6.1} ns/lookup on CPU ({:>5.1} wall)  {:>5.1} M lookups/s  (checksum {s:.1})",
        dc * 1e9 / n as f64,
        dt * 1e9 / n as f64,
        n as f64 / dc / 1e6
    );
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "models/lm.unspin".into());
    // Memory of one model: load it with load_path in a fresh process and
    // look at the resident set before anything else is allocated.
    let rss0 = rss_kib("VmRSS:");
    let t = Instant::now();
    let first = LanguageModel::load_path(std::path::Path::new(&path)).expect("model loads");
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let (rss1, peak) = (rss_kib("VmRSS:"), rss_kib("VmHWM:"));
    println!("{}", first.stats());
    println!(
        "load_path (read + decode), first in process: {load_ms:.0} ms; RSS grew {:.1} MiB \
         (peak {:.1} MiB during load)",
        (rss1 - rss0) as f64 / 1024.0,
        (peak - rss0) as f64 / 1024.0
    );
    drop(first);

    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    println!(
        "file {path}: {} bytes ({:.2} MiB)",
        bytes.len(),
        bytes.len() as f64 / 1048576.0
    );
    let mut times = Vec::new();
    let mut lm = None;
    let mut cpu = Vec::new();
    for _ in 0..5 {
        drop(lm.take());
        let (t, c) = (Instant::now(), cpu_ns());
        lm = Some(LanguageModel::from_bytes(&bytes).expect("model loads"));
        times.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push((cpu_ns() - c) as f64 / 1e6);
    }
    let lm = lm.unwrap();
    drop(bytes);
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "from_bytes: wall min {:.0} ms, median {:.0} ms; main-thread CPU min {:.0} ms \
         (5 runs; tables built on 2 threads)",
        times[0], times[2], cpu[0]
    );

    let n = lm.vocab_len();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    const N: usize = 2_000_000;

    // Decoder-like: a running Zipfian text, ~8 candidates per position scored
    // in the context of the two words before.
    let text: Vec<WordId> = (0..N / 8 + 2).map(|_| rng.zipf(n)).collect();
    let cands: Vec<WordId> = (0..N).map(|_| rng.zipf(n)).collect();
    timed("decoder-like (Zipf context, 8 candidates)", N, || {
        let mut s = 0f32;
        for (i, c) in cands.chunks(8).enumerate() {
            let (a, b) = (text[i], text[i + 1]);
            for &w in c {
                s += lm.log10_prob(a, b, w);
            }
        }
        s
    });
    // Viterbi over a candidate lattice: 8 candidates per position, every
    // trigram of candidates at positions t-2, t-1, t scored (512 per position).
    let positions = N / 512 + 2;
    let lattice: Vec<[WordId; 8]> = (0..positions)
        .map(|_| std::array::from_fn(|_| rng.zipf(n)))
        .collect();
    timed(
        "lattice (8 candidates/position, 512 trigrams)",
        (positions - 2) * 512,
        || {
            let mut s = 0f32;
            for t in 2..positions {
                for &a in &lattice[t - 2] {
                    for &b in &lattice[t - 1] {
                        for &c in &lattice[t] {
                            s += lm.log10_prob(a, b, c);
                        }
                    }
                }
            }
            s
        },
    );
    let lattice_queries: Vec<[WordId; 3]> = (2..positions)
        .flat_map(|t| {
            let l = &lattice;
            l[t - 2].iter().flat_map(move |&a| {
                l[t - 1]
                    .iter()
                    .flat_map(move |&b| l[t].iter().map(move |&c| [a, b, c]))
            })
        })
        .collect();
    let mut out = vec![0f32; lattice_queries.len()];
    timed(
        "same lattice through log10_prob_many",
        lattice_queries.len(),
        || {
            lm.log10_prob_many(&lattice_queries, &mut out);
            out.iter().sum()
        },
    );
    let q: Vec<[WordId; 3]> = (0..N)
        .map(|_| [rng.zipf(n), rng.zipf(n), rng.zipf(n)])
        .collect();
    let mut out2 = vec![0f32; q.len()];
    timed("independent Zipf trigrams", N, || {
        q.iter().map(|t| lm.log10_prob(t[0], t[1], t[2])).sum()
    });
    let u: Vec<[WordId; 3]> = (0..N)
        .map(|_| {
            let mut r = || (rng.next() % n as u64) as WordId;
            [r(), r(), r()]
        })
        .collect();
    timed("independent Zipf trigrams, log10_prob_many", N, || {
        lm.log10_prob_many(&q, &mut out2);
        out2.iter().sum()
    });
    timed("uniformly random trigrams (cache-hostile)", N, || {
        u.iter().map(|t| lm.log10_prob(t[0], t[1], t[2])).sum()
    });
    // Trigrams that exist: common phrases from a small seed list.
    let phrases = [
        "one of the",
        "a lot of",
        "as well as",
        "in order to",
        "the end of",
        "i don't know",
        "it is a",
        "there is no",
    ];
    let hits: Vec<[WordId; 3]> = phrases
        .iter()
        .filter_map(|p| {
            let w: Vec<WordId> = p.split(' ').filter_map(|x| lm.id(x)).collect();
            (w.len() == 3).then(|| [w[0], w[1], w[2]])
        })
        .collect();
    for (p, h) in phrases.iter().zip(&hits) {
        println!(
            "  log10 p({:?}) = {:.3}",
            p,
            lm.log10_prob(h[0], h[1], h[2])
        );
    }
    let small: Vec<[WordId; 3]> = q
        .iter()
        .map(|t| [t[0] % 64, t[1] % 64, t[2] % 64])
        .collect();
    timed("trigrams over the 64 commonest words (cached)", N, || {
        small.iter().map(|t| lm.log10_prob(t[0], t[1], t[2])).sum()
    });
    let tiny: Vec<[WordId; 3]> = q.iter().map(|t| [t[0] % 6, t[1] % 6, t[2] % 6]).collect();
    timed("trigrams over the 6 commonest words (in L1)", N, || {
        tiny.iter().map(|t| lm.log10_prob(t[0], t[1], t[2])).sum()
    });
    timed("bigram lookups (Zipf)", N, || {
        q.iter().map(|t| lm.log10_prob_bigram(t[1], t[2])).sum()
    });
    let words: Vec<&str> = (0..N).map(|_| lm.word(rng.zipf(n))).collect();
    timed("id(word) (Zipf)", N, || {
        words.iter().map(|w| lm.id(w).unwrap_or(0) as f32).sum()
    });
}
