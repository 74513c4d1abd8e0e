//! The hidden `unspin detect-bench`: measures the detector on the held-out
//! corpus.
//!
//! Pieces of the corpus, clean and spun under every [`Condition`]
//! ([`crate::dataset`]), are scored by the fast pass: ROC AUC, false and
//! true positive rates at the calibrated threshold, clean documents
//! flagged per domain, calibration error, word-level precision and recall
//! of the news profile (optionally refined by the full restorer), and the
//! speed of each on one thread. The report is Markdown, as pasted into
//! docs/BENCHMARKS.md, "Detect".

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;
use unspin::detect::{DetectOptions, Detector};
use unspin::restore::Options;
use unspin::Engine;

use crate::dataset::{
    balanced_ece, build_samples, eval_rows, read_jsonl_corpus, word_counts, Condition, CorpusDoc,
    DatasetSpec, Sample,
};

/// Arguments of the hidden `unspin detect-bench` (the model flags are the
/// front end's).
#[derive(Args, Debug, Clone)]
pub struct DetectBenchArgs {
    /// Held-out corpus (JSONL with id, domain, text).
    #[arg(long, default_value = "data/corpus/heldout.jsonl")]
    pub corpus: PathBuf,
    /// Document lengths in words.
    #[arg(long, value_delimiter = ',', default_value = "50,200,1000")]
    pub lengths: Vec<usize>,
    /// Most documents per length (0: every piece of the corpus).
    #[arg(long, default_value_t = 0)]
    pub max_pieces: usize,
    /// Also score word level with the full restorer on the spun sections.
    #[arg(long)]
    pub restore: bool,
    /// Seconds of single-thread timing.
    #[arg(long, default_value_t = 3.0)]
    pub speed_seconds: f64,
    /// Only the speed test.
    #[arg(long)]
    pub speed_only: bool,
    /// Write the result as a Markdown section (for docs/BENCHMARKS.md).
    #[arg(long)]
    pub markdown: bool,
    /// Worker threads for the quality part (default: all cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Calibration file (default: the embedded one).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Per-word threshold (default: the calibration's).
    #[arg(long)]
    pub word_threshold: Option<f32>,
}

/// (document length, (true positives, false positives, false negatives)) per document.
type WordCounts = Vec<(usize, (usize, usize, usize))>;

/// Nanoseconds this thread has spent on a CPU (0 when unknown).
fn cpu_ns() -> u64 {
    crate::machine::thread_cpu_seconds().map_or(0, |s| (s * 1e9) as u64)
}

/// Runs `unspin detect-bench` with `engine` (its model, and the
/// calibration of `--calibration`); `--jobs` is the front end's (the global
/// thread pool). The report goes to standard output.
pub fn run(a: &DetectBenchArgs, engine: &Engine) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let calib = engine.calibration().clone();
    let wn = unspin::models::embedded_wordnet()?;
    let text = std::fs::read_to_string(&a.corpus)
        .with_context(|| format!("reading {}", a.corpus.display()))?;
    let docs = read_jsonl_corpus(&text).with_context(|| a.corpus.display().to_string())?;
    if a.speed_only {
        let detector = engine.detector();
        let c = docs
            .iter()
            .map(|d| detector.pass_counts(&d.text))
            .fold((0, 0, 0, 0), |a, c| {
                (a.0 + c.0, a.1 + c.1, a.2 + c.2, a.3 + c.3)
            });
        eprintln!(
            "stream {} sites {} candidates {} queries {}",
            c.0, c.1, c.2, c.3
        );
        let s = speed_test(&detector, engine, &docs, a.speed_seconds);
        writeln!(
            std::io::stdout(),
            "one thread, {} words a round: scores {:.0} words/s ({:.0} CPU); with words {:.0}; restore {:.0}",
            s.words, s.score_wall, s.score_cpu, s.detect_wall, s.restore_wall
        )?;
        return Ok(());
    }
    let max_pieces = if a.max_pieces == 0 {
        usize::MAX
    } else {
        a.max_pieces
    };
    let spec = DatasetSpec::benchmark(a.lengths.clone(), max_pieces);
    let samples = build_samples(&wn, &docs, &spec);
    eprintln!(
        "{} labelled documents from {} in {:.1?}",
        samples.len(),
        a.corpus.display(),
        t0.elapsed()
    );
    let detector = engine.detector();
    let threshold = calib.threshold;
    let t = Instant::now();
    let probs: Vec<f64> = samples
        .par_iter()
        .map(|s| detector.score(&s.text) as f64)
        .collect();
    eprintln!("scored in {:.1?}", t.elapsed());
    let rows = eval_rows(&samples, &probs, threshold);

    // Clean documents flagged, per domain and length.
    let mut domains: Vec<String> = samples.iter().map(|s| s.domain.clone()).collect();
    domains.sort();
    domains.dedup();
    let mut fpr_domain = Vec::new();
    for &len in &a.lengths {
        for d in &domains {
            let c: Vec<f64> = samples
                .iter()
                .zip(&probs)
                .filter(|(s, _)| {
                    s.length == len && &s.domain == d && s.condition == Condition::Clean
                })
                .map(|(_, &p)| p)
                .collect();
            let flagged = c.iter().filter(|&&p| p >= threshold).count();
            fpr_domain.push((len, d.clone(), flagged, c.len()));
        }
    }
    let ece_all = balanced_ece(&samples, &probs, &[]);
    let ece_len: Vec<(usize, f64)> = a
        .lengths
        .iter()
        .map(|&l| (l, balanced_ece(&samples, &probs, &[l])))
        .collect();

    // Word level on the news profile.
    let news: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.condition == Condition::News(0.8) && s.spun && !s.passage)
        .collect();
    let wt = a.word_threshold.unwrap_or(calib.word_threshold as f32);
    let wt_restore = a
        .word_threshold
        .unwrap_or(calib.restore_word_threshold as f32);
    let opts = DetectOptions {
        word_floor: 0.0,
        ..DetectOptions::default()
    };
    let word_fast: WordCounts = news
        .par_iter()
        .map(|s| {
            let d = detector.detect(&s.text, &opts);
            (s.length, word_counts(&s.text, &s.spans, &d.flagged, wt))
        })
        .collect();
    let word_restore: Option<WordCounts> = a.restore.then(|| {
        news.par_iter()
            .map_init(
                || engine.restorer(Options::default()),
                |r, s| {
                    let mut d = detector.detect(&s.text, &opts);
                    detector.refine(&s.text, &mut d, r, &opts);
                    (
                        s.length,
                        word_counts(&s.text, &s.spans, &d.flagged, wt_restore),
                    )
                },
            )
            .collect()
    });
    let word_table = |v: &[(usize, (usize, usize, usize))]| -> Vec<(String, f64, f64, usize)> {
        let mut out = Vec::new();
        for l in a.lengths.iter().map(|&l| Some(l)).chain([None]) {
            let (tp, fp, fneg) = v
                .iter()
                .filter(|x| l.is_none_or(|l| x.0 == l))
                .fold((0, 0, 0), |acc, x| {
                    (acc.0 + x.1 .0, acc.1 + x.1 .1, acc.2 + x.1 .2)
                });
            out.push((
                l.map_or("all".to_string(), |l| l.to_string()),
                tp as f64 / (tp + fp).max(1) as f64,
                tp as f64 / (tp + fneg).max(1) as f64,
                tp + fneg,
            ));
        }
        out
    };
    let wf = word_table(&word_fast);
    let wr = word_restore.as_deref().map(word_table);

    // Speed on one core: the fast pass over the clean held-out documents.
    let speed = speed_test(&detector, engine, &docs, a.speed_seconds);

    let mut md = String::new();
    md.push_str(&format!(
        "Held-out corpus `{}`: {} documents, every domain ({}); pieces of {} words cut from running text; \
         each piece clean and spun by the news profile (default rate), the synonym profile at 5%, 15% and 30%, \
         the phrase thesaurus and the phrase,news chain with half B of their tables (spinners the calibration \
         never saw; seeds 1-4 in turn), plus one spun 200-word passage inside each 1,000-word piece. Threshold {:.4} \
         (calibrated on the training split: at most 0.2% of clean training documents of 200+ words flagged).\n\n",
        a.corpus.display(),
        docs.len(),
        domains.join(", "),
        a.lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("/"),
        threshold
    ));
    md.push_str("| words | spun by | clean docs | spun docs | ROC AUC | clean flagged (FPR) | spun flagged (TPR) |\n");
    md.push_str("|---:|---|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.4} | {:.2}% | {:.1}% |\n",
            r.length,
            r.condition,
            r.clean,
            r.spun,
            r.auc,
            r.fpr * 100.0,
            r.tpr * 100.0
        ));
    }
    md.push_str("\nClean held-out documents flagged at the default threshold, per domain:\n\n| words | domain | flagged | documents | rate |\n|---:|---|---:|---:|---:|\n");
    for (len, d, f, n) in &fpr_domain {
        md.push_str(&format!(
            "| {len} | {d} | {f} | {n} | {:.2}% |\n",
            *f as f64 * 100.0 / (*n).max(1) as f64
        ));
    }
    md.push_str(&format!(
        "\nExpected calibration error (10 bins, clean documents weighted to balance the classes): all {:.4}",
        ece_all
    ));
    for (l, e) in &ece_len {
        md.push_str(&format!("; {l} words {e:.4}"));
    }
    md.push_str(".\n\n");
    md.push_str(&format!(
        "Word level, news profile (whitespace words overlapping a spinner change; a word is flagged at probability >= {:.2}, \
         or >= {:.2} with `--restore`, the calibrated word thresholds):\n\n",
        wt, wt_restore
    ));
    md.push_str("| words | per-word scores | precision | recall | spun words |\n|---:|---|---:|---:|---:|\n");
    for (l, p, r, n) in &wf {
        md.push_str(&format!("| {l} | fast pass | {p:.3} | {r:.3} | {n} |\n"));
    }
    if let Some(wr) = &wr {
        for (l, p, r, n) in wr {
            md.push_str(&format!("| {l} | `--restore` | {p:.3} | {r:.3} | {n} |\n"));
        }
    }
    md.push_str(&format!(
        "\nSpeed, one thread, held-out text ({} words a round): document and section scores (`-q`/`-l`) {:.0} words/s \
         ({:.0} on the CPU clock); with per-word scores and evidence {:.0} words/s; full restoration {:.0} words/s.\n",
        speed.words,
        speed.score_wall,
        speed.score_cpu,
        speed.detect_wall,
        speed.restore_wall
    ));
    let mut out = std::io::stdout().lock();
    if a.markdown {
        write!(out, "{md}")?;
    } else {
        writeln!(out, "{md}")?;
    }
    out.flush()?;
    Ok(())
}

struct Speed {
    words: usize,
    score_wall: f64,
    score_cpu: f64,
    detect_wall: f64,
    restore_wall: f64,
}

fn speed_test(detector: &Detector, engine: &Engine, docs: &[CorpusDoc], seconds: f64) -> Speed {
    let words: usize = docs.iter().map(|d| d.text.split_whitespace().count()).sum();
    let time = |f: &dyn Fn(&str)| -> (f64, f64) {
        // Warm up, then as many whole rounds as fit in the time, best round counted.
        f(&docs[0].text);
        let start = Instant::now();
        let mut best = (f64::INFINITY, f64::INFINITY);
        loop {
            let (t, c) = (Instant::now(), cpu_ns());
            for d in docs {
                f(&d.text);
            }
            let wall = t.elapsed().as_secs_f64();
            let cpu = (cpu_ns() - c) as f64 / 1e9;
            best = (
                best.0.min(wall),
                if cpu > 0.0 { best.1.min(cpu) } else { best.1 },
            );
            if start.elapsed().as_secs_f64() >= seconds {
                break;
            }
        }
        (words as f64 / best.0, words as f64 / best.1)
    };
    let (score_wall, score_cpu) = time(&|t| {
        std::hint::black_box(detector.score(t));
    });
    let opts = DetectOptions::default();
    let (detect_wall, _) = time(&|t| {
        std::hint::black_box(detector.detect(t, &opts));
    });
    // Restoration on a tenth of the documents (it is much slower).
    let sub: Vec<&CorpusDoc> = docs.iter().step_by(10).collect();
    let sub_words: usize = sub.iter().map(|d| d.text.split_whitespace().count()).sum();
    let opts = Options::default();
    let t = Instant::now();
    for d in &sub {
        // Never an error in the default mode.
        let _ = std::hint::black_box(engine.restore(&d.text, &opts));
    }
    let restore_wall = sub_words as f64 / t.elapsed().as_secs_f64();
    Speed {
        words,
        score_wall,
        score_cpu,
        detect_wall,
        restore_wall,
    }
}
