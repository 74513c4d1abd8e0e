//! Where `--quality best` spends its time on one file (load, default restore, rescoring).
//!
//! ```sh
//! cargo run --release -p unspin-neural --example profile -- FILE
//! ```
use std::time::Instant;
use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::restore::{Options, Restorer};

struct Timed<'a>(
    &'a unspin_neural::NeuralLm,
    std::sync::Mutex<(usize, usize, usize, f64)>,
);

impl ContextScorer for Timed<'_> {
    fn score(&self, text: &str, q: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        let t = Instant::now();
        let v = self.0.score(text, q)?;
        let mut c = self.1.lock().unwrap();
        c.0 += 1;
        c.1 += q.len();
        c.2 += q.iter().map(|x| x.candidates.len()).sum::<usize>();
        c.3 += t.elapsed().as_secs_f64();
        Ok(v)
    }
}

/// CPU seconds of this process so far, every thread (user + system, from
/// `getrusage`, which every Unix has; 0 elsewhere).
#[cfg(unix)]
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    0.0
}

fn main() {
    unspin_neural::prefer_own_parallelism();
    let path = std::env::args().nth(1).expect("FILE");
    let text = std::fs::read_to_string(path).unwrap();
    let t = Instant::now();
    let neural = unspin_neural::NeuralLm::load_default().unwrap();
    println!("load {:.2} s", t.elapsed().as_secs_f64());
    let long: String = text
        .split_whitespace()
        .take(700)
        .collect::<Vec<_>>()
        .join(" ");
    for _ in 0..std::env::var("ONEPASS").map_or(0, |_| 2) {
        for p in unspin_neural::PROF.iter() {
            p.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        let t = Instant::now();
        neural.next_token_log_probs(&long).unwrap();
        let rows = unspin_neural::PROF[4].load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "one pass of {rows} rows: {:.2} s (linear {:.2} s, attention {:.2} s)",
            t.elapsed().as_secs_f64(),
            unspin_neural::PROF[0].load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9,
            unspin_neural::PROF[1].load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9
        );
    }
    for p in unspin_neural::PROF.iter() {
        p.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    let model = unspin::restore::Model::new(
        unspin::models::embedded_lm().unwrap(),
        unspin::models::embedded_lexicon().unwrap(),
    );
    let mut r = Restorer::new(&model, Options::default());
    let t = Instant::now();
    let d = r.restore_document(&text);
    println!(
        "default {:.3} s, {} words",
        t.elapsed().as_secs_f64(),
        d.words
    );
    let timed = Timed(&neural, Default::default());
    let t = Instant::now();
    let cpu = cpu_seconds();
    let b = r.restore_document_best(&text, &timed).unwrap();
    let c = timed.1.lock().unwrap();
    println!("best: {:.2} CPU-s", cpu_seconds() - cpu);
    println!(
        "best {:.2} s: {} calls, {} queries, {} candidates, scorer {:.2} s; {} changes",
        t.elapsed().as_secs_f64(),
        c.0,
        c.1,
        c.2,
        c.3,
        b.changes.len()
    );
    println!(
        "  rows: {}",
        unspin_neural::PROF[4].load(std::sync::atomic::Ordering::Relaxed)
    );
    let names = ["linear", "attention", "head", "softmax"];
    for (n, p) in names.iter().zip(unspin_neural::PROF.iter()) {
        println!(
            "  {n}: {:.2} s",
            p.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9
        );
    }
}
