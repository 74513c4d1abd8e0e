//! `unspin bench`: the restore-quality benchmark behind docs/BENCHMARKS.md.
//!
//! Reads the held-out corpus, spins it in-process with the `news` profile
//! (default settings) and the `synonym` profile at three rates (fixed seeds),
//! restores every spun text and the clean text with the default options,
//! scores each with `unspin::eval`, and prints one table with the machine and
//! the date. Restore runs on one thread, one document after another, so its
//! words per second are single-core figures; spinning and scoring use
//! `--jobs` threads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;
use unspin::eval::{evaluate, AlignmentRecord, EvalReport, Metrics};
use unspin::restore::{Options, Restorer};
use unspin::spinner::{seeded_hash, NewsConfig, Spinner};

use crate::models::ModelFlags;

/// The corpus `scripts/build-corpus.sh` writes.
pub const DEFAULT_CORPUS: &str = "data/corpus/heldout.jsonl";
/// The clean multi-domain corpus `scripts/build-clean-bench.sh` writes.
pub const DEFAULT_CLEAN_CORPUS: &str = "data/clean-bench/clean.jsonl";
/// Where `scripts/build-clean-bench.sh` writes the held-out scientific text.
pub const DEFAULT_SCIENCE_CORPUS: &str = "data/clean-bench/science-test.jsonl";
/// Targets from the project's issues (checked and printed, never enforced).
const TARGET_NEWS_RATIO: f64 = 0.25;
const TARGET_CLEAN_CHANGED: f64 = 0.01;
const TARGET_WORDS_PER_SECOND: f64 = 100_000.0;
/// Rates of the `synonym` profile.
const SYNONYM_RATES: [f64; 3] = [0.05, 0.15, 0.30];

/// Output formats of `unspin bench`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum BenchFormat {
    /// Markdown tables, as pasted into docs/BENCHMARKS.md.
    Markdown,
    /// One JSON object with every count and rate.
    Json,
}

/// Arguments of `unspin bench`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
bash scripts/build-corpus.sh && unspin bench            the table of docs/BENCHMARKS.md\n  \
unspin bench --words 20000 --format json                a quick run, every count as JSON\n\n\
Documents are picked from the corpus in a fixed pseudo-random order (a hash of their id)\n\
until --words words are taken. Restore runs single-threaded so its words/s are one-core\n\
figures; spinning and scoring use --jobs threads.")]
pub struct BenchArgs {
    /// Held-out corpus: JSONL of {"id": .., "text": ..} documents.
    #[arg(long, value_name = "JSONL", default_value = DEFAULT_CORPUS)]
    pub corpus: PathBuf,
    /// Words (whitespace-separated) to take from the corpus.
    #[arg(long, default_value_t = 250_000)]
    pub words: usize,
    /// Threads for spinning and scoring (restore always runs on one thread).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Seed of the spinners (the synonym rates use seed+1, seed+2, seed+3).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = BenchFormat::Markdown)]
    pub format: BenchFormat,
    /// No progress lines on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Clean multi-domain corpus (`scripts/build-clean-bench.sh`): every
    /// domain's words changed by restore and documents flagged by detect;
    /// skipped when the file is missing
    #[arg(long, value_name = "JSONL", default_value = DEFAULT_CLEAN_CORPUS)]
    pub clean_corpus: PathBuf,
    /// Run only the clean multi-domain benchmark
    #[arg(long)]
    pub clean_only: bool,
    /// Held-out scientific text (`scripts/build-clean-bench.sh`) for the
    /// tortured-phrase benchmark; skipped when the file is missing
    #[arg(long, value_name = "JSONL", default_value = DEFAULT_SCIENCE_CORPUS)]
    pub science_corpus: PathBuf,
    /// Run only the tortured-phrase benchmark
    #[arg(long, conflicts_with = "clean_only")]
    pub tortured_only: bool,
    /// Least score (nats) of an unlisted tortured phrase (default: the library's)
    #[arg(long, value_name = "NATS", hide = true)]
    pub phrase_min_score: Option<f32>,
    /// Prior (nats) of a listed tortured phrase (default: the library's)
    #[arg(long, value_name = "NATS", hide = true)]
    pub phrase_listed_prior: Option<f32>,
    /// Tuning run: spin with half A of the list and list nothing (use the
    /// training half of the science text with it)
    #[arg(long, hide = true)]
    pub phrase_tune: bool,
    #[command(flatten)]
    pub model: ModelFlags,
    /// `--quality best` also restores every input with neural rescoring and
    /// reports both modes side by side (use a subset: about 1 to 3 s per 1,000 words).
    #[command(flatten)]
    pub quality: crate::quality::QualityFlags,
}

struct Doc {
    id: String,
    domain: String,
    text: String,
    words: usize,
}

/// One benchmark condition: a spinner setting, or the clean text.
struct Condition {
    profile: &'static str,
    rate: String,
    seed: Option<u64>,
    spinner: Option<Spinner<'static>>,
}

/// Facts about the machine the benchmark ran on.
#[derive(Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: String,
    memory_gib: f64,
    kernel: String,
    /// 1, 5 and 15 minute load averages when the report was written.
    load_average: String,
}

#[derive(Serialize)]
struct CorpusInfo {
    path: String,
    documents_total: usize,
    documents: usize,
    words: usize,
    words_by_domain: std::collections::BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct Row {
    profile: &'static str,
    rate: String,
    seed: Option<u64>,
    /// Whitespace-separated words of the input given to restore.
    input_words: usize,
    restore_seconds: f64,
    /// Wall-clock words per second of restore on one thread.
    words_per_second: f64,
    /// CPU time (user + system) of the restoring thread, from /proc.
    restore_cpu_seconds: Option<f64>,
    /// Words per CPU second: less disturbed than wall time by other work on the machine.
    words_per_cpu_second: Option<f64>,
    spin_seconds: f64,
    eval: EvalReport,
    /// The same inputs restored with `--quality best`.
    best: Option<BestRow>,
}

/// One condition restored with neural rescoring.
#[derive(Serialize)]
struct BestRow {
    restore_seconds: f64,
    /// CPU time of the whole process (every thread) while restoring.
    restore_cpu_seconds: Option<f64>,
    /// Slots the neural model rescored, and how many it changed.
    rescored_slots: usize,
    rescored_changed: usize,
    eval: EvalReport,
}

#[derive(Serialize)]
struct Timings {
    load_model_seconds: f64,
    /// Loading the neural model (`--quality best`).
    load_neural_seconds: Option<f64>,
    load_wordnet_seconds: f64,
    read_corpus_seconds: f64,
    spin_seconds: f64,
    restore_seconds: f64,
    eval_seconds: f64,
    total_seconds: f64,
}

#[derive(Serialize)]
struct Targets {
    news_ratio_max: f64,
    news_ratio: Option<f64>,
    news_ratio_ok: bool,
    clean_changed_max: f64,
    clean_changed: Option<f64>,
    clean_changed_ok: bool,
    words_per_second_min: f64,
    /// Over all rows, wall clock.
    words_per_second: f64,
    words_per_second_ok: bool,
    /// Over all rows, CPU time of the restoring thread.
    words_per_cpu_second: Option<f64>,
    words_per_cpu_second_ok: bool,
}

#[derive(Serialize)]
struct BenchReport {
    date: String,
    command: String,
    unspin_version: &'static str,
    git_commit: Option<String>,
    machine: Machine,
    model: String,
    threads: usize,
    peak_memory_mib: Option<f64>,
    corpus: CorpusInfo,
    rows: Vec<Row>,
    timings: Timings,
    targets: Targets,
    /// Clean text of every register (absent when its corpus is missing).
    clean_domains: Option<crate::bench_clean::CleanReport>,
    /// Tortured phrases in held-out scientific text (absent when its corpus is missing).
    tortured: Option<crate::bench_tortured::TorturedReport>,
}

/// Runs `unspin bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<u8> {
    let t_all = Instant::now();
    if args.words == 0 {
        bail!("--words must be at least 1");
    }
    if args.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    if !args.corpus.exists() {
        bail!(
            "{} not found: build the held-out corpus first with `bash scripts/build-corpus.sh`",
            args.corpus.display()
        );
    }
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting the thread pool")?;
    let log = |msg: &str| {
        if !args.quiet {
            eprintln!("bench: {msg} ({:.1} s)", t_all.elapsed().as_secs_f64());
        }
    };

    if args.tortured_only {
        let r = run_tortured(args)?;
        match args.format {
            BenchFormat::Markdown => print!("{}", crate::bench_tortured::markdown(&r)),
            BenchFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        }
        return Ok(crate::EXIT_OK);
    }
    let t = Instant::now();
    let (all_docs, docs) = read_corpus(&args.corpus, args.words)?;
    let read_corpus_seconds = t.elapsed().as_secs_f64();
    let corpus_words: usize = docs.iter().map(|d| d.words).sum();
    let mut words_by_domain = std::collections::BTreeMap::new();
    for d in &docs {
        *words_by_domain.entry(d.domain.clone()).or_insert(0) += d.words;
    }
    log(&format!(
        "{} of {} documents, {} words from {}",
        docs.len(),
        all_docs,
        corpus_words,
        args.corpus.display()
    ));

    let t = Instant::now();
    let model = args.model.load_for(args.quality.quality)?;
    let load_model_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let neural = args.quality.load()?;
    let load_neural_seconds: Option<f64> = neural.as_ref().map(|_| t.elapsed().as_secs_f64());
    let t = Instant::now();
    // The spinners borrow WordNet for the whole run; leaking it gives them a
    // 'static borrow without threading a lifetime through every condition.
    let wn: &'static unspin::wordnet::WordNet =
        Box::leak(Box::new(unspin::models::embedded_wordnet()?));
    let load_wordnet_seconds = t.elapsed().as_secs_f64();
    log("models loaded");

    let mut conditions = vec![Condition {
        profile: "news",
        rate: format!(
            "default ({:.0}% of types)",
            100.0 * (1.0 - NewsConfig::default().skip_share)
        ),
        seed: Some(args.seed),
        spinner: Some(Spinner::news(wn, args.seed)),
    }];
    for (k, &rate) in SYNONYM_RATES.iter().enumerate() {
        let seed = args.seed + 1 + k as u64;
        conditions.push(Condition {
            profile: "synonym",
            rate: format!("{rate:.2}"),
            seed: Some(seed),
            spinner: Some(Spinner::synonym(wn, rate, seed)),
        });
    }
    conditions.push(Condition {
        profile: "clean",
        rate: "-".into(),
        seed: None,
        spinner: None,
    });

    let clean_domains = if args.clean_corpus.exists() {
        let (_, clean_docs) = read_corpus(&args.clean_corpus, usize::MAX)?;
        let clean_docs: Vec<crate::bench_clean::CleanDoc> = clean_docs
            .into_iter()
            .map(|d| crate::bench_clean::CleanDoc {
                id: d.id,
                domain: d.domain,
                text: d.text,
            })
            .collect();
        log(&format!(
            "clean multi-domain benchmark: {} documents from {}",
            clean_docs.len(),
            args.clean_corpus.display()
        ));
        let detector =
            unspin::detect::Detector::new(&model, unspin::models::embedded_calibration()?);
        let scorer = neural
            .as_ref()
            .map(|lm| lm as &dyn unspin::rescore::ContextScorer);
        let r = crate::bench_clean::run(
            &args.clean_corpus.display().to_string(),
            &clean_docs,
            &model,
            &detector,
            scorer,
        )?;
        log("clean multi-domain benchmark done");
        Some(r)
    } else {
        log(&format!(
            "{} not found: the clean multi-domain benchmark is skipped (build it with `bash scripts/build-clean-bench.sh`)",
            args.clean_corpus.display()
        ));
        None
    };
    if args.clean_only {
        conditions.clear();
    }
    let tortured = if args.clean_only || !args.science_corpus.exists() {
        None
    } else {
        log("tortured-phrase benchmark");
        Some(run_tortured(args)?)
    };

    let opts = Options::default();
    let mut rows = Vec::new();
    let (mut spin_total, mut restore_total, mut eval_total) = (0.0, 0.0, 0.0);
    for cond in &conditions {
        // Spin (parallel).
        let t = Instant::now();
        let spun: Vec<Option<unspin::spinner::Spun>> = pool.install(|| {
            docs.par_iter()
                .map(|d| cond.spinner.as_ref().map(|s| s.spin(&d.text)))
                .collect()
        });
        let spin_seconds = t.elapsed().as_secs_f64();
        spin_total += spin_seconds;
        let inputs: Vec<&str> = docs
            .iter()
            .zip(&spun)
            .map(|(d, s)| s.as_ref().map_or(d.text.as_str(), |s| s.text.as_str()))
            .collect();

        // Restore (one thread, timed).
        let mut restorer = Restorer::new(&model, opts.clone());
        let cpu0 = thread_cpu_seconds();
        let t = Instant::now();
        let outputs: Vec<String> = inputs
            .iter()
            .map(|text| restorer.restore_document(text).text)
            .collect();
        let restore_seconds = t.elapsed().as_secs_f64();
        let restore_cpu_seconds = cpu0.zip(thread_cpu_seconds()).map(|(a, b)| b - a);
        restore_total += restore_seconds;
        let input_words: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();

        // Score (parallel).
        let t = Instant::now();
        let eval = score_outputs(&pool, &docs, &spun, &inputs, &outputs);
        eval_total += t.elapsed().as_secs_f64();

        // The same inputs with neural rescoring (one document at a time; the
        // model uses every core itself).
        let best = match &neural {
            None => None,
            Some(lm) => {
                let mut restorer = Restorer::new(&model, opts.clone());
                let cpu0 = process_cpu_seconds();
                let t = Instant::now();
                let mut outs = Vec::with_capacity(inputs.len());
                let (mut rescored_slots, mut rescored_changed) = (0, 0);
                for text in &inputs {
                    let mut whole = unspin::restore::Restoration::default();
                    for (offset, piece) in unspin::input::split_text(text) {
                        whole.append(restorer.restore_best(piece, lm)?, offset);
                        rescored_slots += restorer.rescored().len();
                        rescored_changed += restorer
                            .rescored()
                            .iter()
                            .filter(|r| r.after != r.before)
                            .count();
                    }
                    outs.push(whole.text);
                }
                let restore_seconds = t.elapsed().as_secs_f64();
                let restore_cpu_seconds = cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a);
                let eval = score_outputs(&pool, &docs, &spun, &inputs, &outs);
                log(&format!(
                    "{} {}: best quality restored {} words in {:.1} s ({:.2} s per 1,000 words)",
                    cond.profile,
                    cond.rate,
                    input_words,
                    restore_seconds,
                    restore_seconds * 1000.0 / input_words.max(1) as f64
                ));
                Some(BestRow {
                    restore_seconds,
                    restore_cpu_seconds,
                    rescored_slots,
                    rescored_changed,
                    eval,
                })
            }
        };

        let words_per_second = input_words as f64 / restore_seconds.max(1e-9);
        let words_per_cpu_second = restore_cpu_seconds
            .filter(|&c| c > 0.0)
            .map(|c| input_words as f64 / c);
        log(&format!(
            "{} {}: restored {} words in {:.2} s ({:.0} words/s)",
            cond.profile, cond.rate, input_words, restore_seconds, words_per_second
        ));
        rows.push(Row {
            profile: cond.profile,
            rate: cond.rate.clone(),
            seed: cond.seed,
            input_words,
            restore_seconds,
            words_per_second,
            restore_cpu_seconds,
            words_per_cpu_second,
            spin_seconds,
            eval,
            best,
        });
    }

    let news = rows
        .iter()
        .find(|r| r.profile == "news")
        .map(|r| r.eval.metrics());
    let news_ratio = news.as_ref().and_then(ratio_of);
    let clean_changed = rows
        .iter()
        .find(|r| r.profile == "clean")
        .and_then(|r| r.eval.metrics().clean_changed_rate);
    let (w, s) = rows.iter().fold((0usize, 0.0f64), |(w, s), r| {
        (w + r.input_words, s + r.restore_seconds)
    });
    let overall_wps = w as f64 / s.max(1e-9);
    let cpu: Option<f64> = rows.iter().map(|r| r.restore_cpu_seconds).sum();
    let overall_cpu_wps = cpu.filter(|&c| c > 0.0).map(|c| w as f64 / c);
    let targets = Targets {
        news_ratio_max: TARGET_NEWS_RATIO,
        news_ratio,
        news_ratio_ok: news_ratio.is_some_and(|r| r <= TARGET_NEWS_RATIO),
        clean_changed_max: TARGET_CLEAN_CHANGED,
        clean_changed,
        clean_changed_ok: clean_changed.is_some_and(|c| c <= TARGET_CLEAN_CHANGED),
        words_per_second_min: TARGET_WORDS_PER_SECOND,
        words_per_second: overall_wps,
        words_per_second_ok: overall_wps >= TARGET_WORDS_PER_SECOND,
        words_per_cpu_second: overall_cpu_wps,
        words_per_cpu_second_ok: overall_cpu_wps.is_some_and(|v| v >= TARGET_WORDS_PER_SECOND),
    };

    let report = BenchReport {
        date: utc_now(),
        command: command_line(),
        unspin_version: env!("CARGO_PKG_VERSION"),
        git_commit: git_commit(),
        machine: machine(),
        model: describe_model(&args.model, &model),
        threads,
        peak_memory_mib: peak_memory_mib(),
        corpus: CorpusInfo {
            path: args.corpus.display().to_string(),
            documents_total: all_docs,
            documents: docs.len(),
            words: corpus_words,
            words_by_domain,
        },
        rows,
        timings: Timings {
            load_model_seconds,
            load_neural_seconds,
            load_wordnet_seconds,
            read_corpus_seconds,
            spin_seconds: spin_total,
            restore_seconds: restore_total,
            eval_seconds: eval_total,
            total_seconds: t_all.elapsed().as_secs_f64(),
        },
        targets,
        clean_domains,
        tortured,
    };
    match args.format {
        BenchFormat::Markdown => {
            if !args.clean_only {
                print!("{}", markdown(&report));
            }
            if let Some(c) = &report.clean_domains {
                print!("{}", crate::bench_clean::markdown(c));
            }
            if let Some(t) = &report.tortured {
                print!("{}", crate::bench_tortured::markdown(t));
            }
        }
        BenchFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(crate::EXIT_OK)
}

/// The tortured-phrase benchmark over `--science-corpus` with the model of `--phrases`.
fn run_tortured(args: &BenchArgs) -> anyhow::Result<crate::bench_tortured::TorturedReport> {
    if !args.science_corpus.exists() {
        bail!(
            "{} not found: build it first with `bash scripts/build-clean-bench.sh`",
            args.science_corpus.display()
        );
    }
    let (_, docs) = read_corpus(&args.science_corpus, usize::MAX)?;
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let phrases = match &args.model.phrases {
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        None => unspin::models::embedded_phrases_bytes()?.to_vec(),
    };
    let mut opts = unspin::tortured::PhraseOptions::default();
    if let Some(v) = args.phrase_min_score {
        opts.min_score = v;
    }
    if let Some(v) = args.phrase_listed_prior {
        opts.listed_prior = v;
    }
    crate::bench_tortured::run(
        &args.science_corpus.display().to_string(),
        &texts,
        args.model.load()?,
        &phrases,
        args.seed,
        &opts,
        args.phrase_tune,
    )
}

/// Scores restored `outputs` against the documents (in parallel).
fn score_outputs(
    pool: &rayon::ThreadPool,
    docs: &[Doc],
    spun: &[Option<unspin::spinner::Spun>],
    inputs: &[&str],
    outputs: &[String],
) -> EvalReport {
    let reports: Vec<EvalReport> = pool.install(|| {
        (0..docs.len())
            .into_par_iter()
            .map(|i| {
                let records: Option<Vec<AlignmentRecord>> = spun[i]
                    .as_ref()
                    .map(|s| s.changes.iter().map(AlignmentRecord::from).collect());
                evaluate(&docs[i].text, inputs[i], &outputs[i], records.as_deref())
            })
            .collect()
    });
    let mut eval = EvalReport::default();
    for r in &reports {
        eval.merge(r);
    }
    eval
}

/// Reads the corpus and picks documents in the order of a fixed hash of their
/// id until `want` words are taken; returns (documents in the file, picked
/// documents in file order).
fn read_corpus(path: &Path, want: usize) -> anyhow::Result<(usize, Vec<Doc>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut docs = Vec::new();
    for line in unspin::jsonl::lines(&text) {
        let line = line.map_err(|e| {
            anyhow::Error::new(e.error).context(format!(
                "{} line {}: not JSON",
                path.display(),
                e.number
            ))
        })?;
        let k = line.number;
        let id = line.id_string().unwrap_or_else(|| format!("line-{k}"));
        let Some(body) = line.text() else {
            bail!("{} line {k}: no \"text\" string", path.display());
        };
        let domain = line.str_field("domain").unwrap_or("-").to_string();
        docs.push(Doc {
            words: body.split_whitespace().count(),
            id,
            domain,
            text: body.to_string(),
        });
    }
    let total = docs.len();
    if total == 0 {
        bail!("{}: no documents", path.display());
    }
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_key(|&i| (seeded_hash(0, 0x6265_6e63, &docs[i].id), i));
    let mut taken = vec![false; total];
    let mut words = 0;
    for i in order {
        if words >= want {
            break;
        }
        taken[i] = true;
        words += docs[i].words;
    }
    let picked = docs
        .into_iter()
        .zip(taken)
        .filter(|(_, t)| *t)
        .map(|(d, _)| d)
        .collect();
    Ok((total, picked))
}

fn ratio_of(m: &Metrics) -> Option<f64> {
    match (m.wer_input, m.wer_output) {
        (Some(i), Some(o)) if i > 0.0 => Some(o / i),
        _ => None,
    }
}

fn pct(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.*}%", digits, 100.0 * v))
}

/// 1234567 -> "1,234,567".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let head = match s.len() % 3 {
        0 => 3.min(s.len()),
        h => h,
    };
    let mut out = s[..head].to_string();
    for group in s.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|&b| b as char));
    }
    out
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn markdown(r: &BenchReport) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "- Date: {}", r.date);
    let _ = writeln!(
        s,
        "- Machine: {} CPUs ({}), {:.1} GiB memory, Linux {}; load average {} at the end",
        m.cpus, m.cpu_model, m.memory_gib, m.kernel, m.load_average
    );
    let commit = r
        .git_commit
        .as_deref()
        .map_or(String::new(), |c| format!(", commit {c}"));
    let _ = writeln!(
        s,
        "- unspin {}{commit}; command: `{}`",
        r.unspin_version, r.command
    );
    let _ = writeln!(s, "- Model: {}", r.model);
    let domains: Vec<String> = r
        .corpus
        .words_by_domain
        .iter()
        .map(|(d, w)| format!("{d} {}", thousands(*w as u64)))
        .collect();
    let _ = writeln!(
        s,
        "- Corpus: `{}`, {} of {} held-out documents, {} words ({})",
        r.corpus.path,
        r.corpus.documents,
        r.corpus.documents_total,
        thousands(r.corpus.words as u64),
        domains.join(", ")
    );
    let t = &r.timings;
    let _ = writeln!(
        s,
        "- Time: {:.1} s in all: load model {:.2} s, WordNet {:.2} s; spin {:.1} s and score {:.1} s on {} threads; restore {:.1} s on one thread; peak memory {}",
        t.total_seconds,
        t.load_model_seconds,
        t.load_wordnet_seconds,
        t.spin_seconds,
        t.eval_seconds,
        r.threads,
        t.restore_seconds,
        r.peak_memory_mib.map_or("-".into(), |v| format!("{v:.0} MiB (whole bench process)"))
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| profile | rate | spun-input WER | restored WER | ratio | precision | recall | F1 | clean words changed | words/s, 1 thread (wall / CPU) |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for row in &r.rows {
        let mm = row.eval.metrics();
        let ratio = ratio_of(&mm).map_or("-".into(), |v| format!("{v:.3}"));
        let (p, rc, f) = if row.profile == "clean" {
            // Nothing needs a change: every change is a false positive.
            (pct(mm.precision, 1), "-".into(), "-".into())
        } else {
            (pct(mm.precision, 1), pct(mm.recall, 1), pct(mm.f1, 1))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({} of {}) | {} / {} |",
            row.profile,
            row.rate,
            pct(mm.wer_input, 2),
            pct(mm.wer_output, 2),
            ratio,
            p,
            rc,
            f,
            pct(mm.clean_changed_rate, 2),
            thousands(row.eval.clean_words_changed),
            thousands(row.eval.clean_words),
            thousands(row.words_per_second.round() as u64),
            row.words_per_cpu_second
                .map_or("-".into(), |v| thousands(v.round() as u64))
        );
    }
    let _ = writeln!(s);
    let tg = &r.targets;
    let _ = writeln!(
        s,
        "Targets: news restored/input WER ratio <= {:.2}: {} ({}); clean words changed <= {}: {} ({}); restore >= {} words/s on one thread: {} wall ({}), {} per CPU second ({}).",
        tg.news_ratio_max,
        tg.news_ratio.map_or("-".into(), |v| format!("{v:.3}")),
        mark(tg.news_ratio_ok),
        pct(Some(tg.clean_changed_max), 0),
        pct(tg.clean_changed, 2),
        mark(tg.clean_changed_ok),
        thousands(tg.words_per_second_min as u64),
        thousands(tg.words_per_second.round() as u64),
        mark(tg.words_per_second_ok),
        tg.words_per_cpu_second
            .map_or("-".into(), |v| thousands(v.round() as u64)),
        mark(tg.words_per_cpu_second_ok)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "WER: word-level Levenshtein errors over reference words (whitespace-separated words, case-sensitive). \
Ratio: restored WER / spun-input WER. Precision/recall/F1: changed words (edit positions) that now match the reference. \
Clean words changed: input words equal to the reference that restore changed anyway. \
words/s: input words over the wall time, and over the thread's CPU time, of `Restorer::restore` on one thread (tokenize, lattice, decode, EM, output), model load excluded."
    );
    if r.rows.iter().any(|x| x.best.is_some()) {
        best_markdown(&mut s, r);
    }
    if let Some(news) = r.rows.iter().find(|x| x.profile == "news") {
        let _ = writeln!(s);
        let _ = writeln!(s, "### Per-relation recall (news)");
        let _ = writeln!(s);
        let _ = writeln!(s, "| relation | spun spans | restored | recall |");
        let _ = writeln!(s, "|---|--:|--:|--:|");
        let mut rels: Vec<_> = news.eval.relations.iter().collect();
        rels.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(b.0)));
        let (mut tot, mut res) = (0, 0);
        for (rel, c) in rels {
            tot += c.total;
            res += c.restored;
            let _ = writeln!(
                s,
                "| {rel} | {} | {} | {} |",
                thousands(c.total),
                thousands(c.restored),
                pct((c.total > 0).then(|| c.restored as f64 / c.total as f64), 1)
            );
        }
        let _ = writeln!(
            s,
            "| **all** | {} | {} | {} |",
            thousands(tot),
            thousands(res),
            pct((tot > 0).then(|| res as f64 / tot as f64), 1)
        );
        if news.eval.alignment_records_skipped > 0 {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "({} alignment records skipped: offsets did not match their text.)",
                news.eval.alignment_records_skipped
            );
        }
    }
    s
}

/// Targets of `--quality best` (issue 6).
const TARGET_BEST_RATIO: f64 = 0.70;
const TARGET_BEST_SECONDS_PER_1000: f64 = 3.0;
const TARGET_BEST_PEAK_MIB: f64 = 1e9 / (1024.0 * 1024.0);

/// The side-by-side table of `--quality best`.
fn best_markdown(s: &mut String, r: &BenchReport) {
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "### Neural rescoring (`--quality best`) against the default mode"
    );
    let _ = writeln!(s);
    if let Some(t) = r.timings.load_neural_seconds {
        let _ = writeln!(s, "Neural model loaded in {t:.2} s (not included below).");
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "| profile | rate | spun-input WER | default WER | best WER | best / default | clean words changed (default / best) | rescored slots (changed) | s per 1,000 words, best (wall / CPU) | default (wall) |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    let mut ratios = Vec::new();
    let mut clean_ok = true;
    let (mut words, mut secs) = (0usize, 0.0f64);
    for row in &r.rows {
        let Some(b) = &row.best else { continue };
        let d = row.eval.metrics();
        let m = b.eval.metrics();
        let ratio = match (d.wer_output, m.wer_output) {
            (Some(x), Some(y)) if x > 0.0 => Some(y / x),
            _ => None,
        };
        if row.profile != "clean" {
            ratios.push((format!("{} {}", row.profile, row.rate), ratio));
        }
        clean_ok &= m.clean_changed_rate.unwrap_or(0.0) <= d.clean_changed_rate.unwrap_or(0.0);
        // The time target is for spun articles (clean text costs nothing).
        if row.profile == "news" {
            words += row.input_words;
            secs += b.restore_seconds;
        }
        let per_k = |x: f64| x * 1000.0 / row.input_words.max(1) as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} / {} | {} ({}) | {:.2} / {} | {:.3} |",
            row.profile,
            row.rate,
            pct(d.wer_input, 2),
            pct(d.wer_output, 2),
            pct(m.wer_output, 2),
            ratio.map_or("-".into(), |v| format!("{v:.3}")),
            pct(d.clean_changed_rate, 2),
            pct(m.clean_changed_rate, 2),
            thousands(b.rescored_slots as u64),
            thousands(b.rescored_changed as u64),
            per_k(b.restore_seconds),
            b.restore_cpu_seconds
                .map_or("-".into(), |c| format!("{:.2}", per_k(c))),
            per_k(row.restore_seconds),
        );
    }
    let per_1000 = secs * 1000.0 / words.max(1) as f64;
    let _ = writeln!(s);
    let ratio_txt: Vec<String> = ratios
        .iter()
        .map(|(name, v)| {
            format!(
                "{name} {} ({})",
                v.map_or("-".into(), |v| format!("{v:.3}")),
                mark(v.is_some_and(|v| v <= TARGET_BEST_RATIO))
            )
        })
        .collect();
    let peak = r.peak_memory_mib;
    let _ = writeln!(
        s,
        "Targets: best/default WER <= {TARGET_BEST_RATIO:.2}: {}; clean words changed no higher than default: {}; \
at most {TARGET_BEST_SECONDS_PER_1000:.0} s per 1,000 words of news-spun text (wall): {per_1000:.2} s ({}); peak memory under 1 GB: {} ({}).",
        ratio_txt.join(", "),
        mark(clean_ok),
        mark(per_1000 <= TARGET_BEST_SECONDS_PER_1000),
        peak.map_or("-".into(), |v| format!("{:.0} MB", v * 1.048_576)),
        mark(peak.is_some_and(|v| v < TARGET_BEST_PEAK_MIB)),
    );
}

fn describe_model(flags: &ModelFlags, model: &unspin::restore::Model) -> String {
    let which = match (&flags.lm, &flags.lexicon) {
        (None, None) => "embedded default".to_string(),
        (lm, lex) => format!(
            "language model {}, lexicon {}",
            lm.as_ref()
                .map_or("embedded".into(), |p| p.display().to_string()),
            lex.as_ref()
                .map_or("embedded".into(), |p| p.display().to_string())
        ),
    };
    let (words, pairs) = model.lexicon.stats();
    format!(
        "{which}: {}; lexicon {words} words, {pairs} (spun, original) pairs; default restore options",
        model.lm.stats()
    )
}

fn command_line() -> String {
    let mut args = std::env::args();
    let prog = args.next().map(|p| {
        Path::new(&p)
            .file_name()
            .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
    });
    prog.into_iter().chain(args).collect::<Vec<_>>().join(" ")
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(
            || std::env::consts::ARCH.to_string(),
            |(_, v)| v.trim().to_string(),
        );
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = proc_kib(&meminfo, "MemTotal:").map_or(0.0, |k| k / (1024.0 * 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "-".into());
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "-".into());
    Machine {
        load_average,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory_gib,
        kernel,
    }
}

/// A `Key:   123 kB` value of a /proc file, in KiB.
fn proc_kib(text: &str, key: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU time of the calling thread (from /proc/thread-self/stat,
/// in clock ticks of 1/100 s).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// User + system CPU time of the whole process, every thread (from /proc/self/stat).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    proc_kib(&status, "VmHWM:").map(|k| k / 1024.0)
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_735_689_599), "2024-12-31 23:59 UTC");
    }

    #[test]
    fn number_format() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn corpus_pick_is_stable_and_reaches_the_word_count() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        let mut s = String::new();
        for i in 0..50 {
            let _ = writeln!(
                s,
                "{{\"id\":\"d{i}\",\"domain\":\"x\",\"text\":\"one two three four\"}}"
            );
        }
        std::fs::write(&p, s).unwrap();
        let (total, a) = read_corpus(&p, 30).unwrap();
        let (_, b) = read_corpus(&p, 30).unwrap();
        assert_eq!(total, 50);
        assert_eq!(a.len(), 8);
        assert_eq!(
            a.iter().map(|d| &d.id).collect::<Vec<_>>(),
            b.iter().map(|d| &d.id).collect::<Vec<_>>()
        );
        let (_, all) = read_corpus(&p, 1_000).unwrap();
        assert_eq!(all.len(), 50);
    }

    #[test]
    fn missing_corpus_is_one_clear_error() {
        let args = BenchArgs {
            corpus: PathBuf::from("/nonexistent/heldout.jsonl"),
            words: 10,
            jobs: None,
            seed: 1,
            format: BenchFormat::Markdown,
            quiet: true,
            clean_corpus: PathBuf::from("/nonexistent/clean.jsonl"),
            clean_only: false,
            science_corpus: PathBuf::from("/nonexistent/science-test.jsonl"),
            tortured_only: false,
            phrase_min_score: None,
            phrase_listed_prior: None,
            phrase_tune: false,
            model: ModelFlags::default(),
            quality: Default::default(),
        };
        let e = run(&args).unwrap_err().to_string();
        assert!(e.contains("scripts/build-corpus.sh"), "{e}");
        assert!(!e.contains('\n'));
    }
}
