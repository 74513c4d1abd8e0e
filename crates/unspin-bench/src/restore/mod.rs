//! `unspin bench`: the restore-quality benchmark behind docs/BENCHMARKS.md.
//!
//! Reads the held-out corpus, spins it in-process with the `news` profile
//! (default settings) and the `synonym` profile at three rates (fixed seeds),
//! restores every spun text and the clean text with the default options,
//! scores each with `unspin::eval`, and prints one table with the machine and
//! the date. Restore runs on one thread, one document after another, so its
//! words per second are single-core figures; spinning and scoring use
//! `--jobs` threads. With [`Quality::Best`] every input is restored in the
//! best mode too, and the two are reported side by side.
//!
//! The clean multi-domain part is [`crate::clean`], the tortured-phrase
//! part [`crate::tortured`]; the Markdown report is written by `markdown`.
//! The front end parses the model flags and hands over [`Models`]: how to
//! build the [`Engine`], and which files it reads.

mod heldout;
mod learn;
mod markdown;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;
use unspin::eval::{evaluate, AlignmentRecord, EvalReport};
use unspin::halves::Half;
use unspin::restore::Options;
use unspin::spinner::{seeded_hash, NewsConfig, Spinner};
use unspin::{Engine, Quality};

use crate::machine::{
    command_line, git_commit, machine, peak_memory_mib, process_cpu_seconds, thread_cpu_seconds,
    utc_now, Machine,
};
use markdown::{markdown, ratio_of};

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
    /// Run only the held-out dictionary benchmark (every profile spun with
    /// the half of its table no model learned from)
    #[arg(long, conflicts_with_all = ["clean_only", "tortured_only"])]
    pub heldout_only: bool,
    /// Run only the learned-spinner rows of the held-out benchmark
    /// (`unspin learn` on each profile's held-out output)
    #[arg(long, conflicts_with_all = ["clean_only", "tortured_only", "heldout_only"])]
    pub learn_only: bool,
    /// Tuning run of the held-out benchmark: the model learns from A1 and
    /// the spinners use A2, both inside half A (half B is never read)
    #[arg(long, hide = true)]
    pub heldout_dev: bool,
    /// Probability that an original the model never saw was replaced
    /// (default: the benchmark's, chosen with --heldout-dev)
    #[arg(long, value_name = "P", hide = true)]
    pub unseen_replace: Option<f32>,
    /// Least score (nats) of an unlisted tortured phrase (default: the library's)
    #[arg(long, value_name = "NATS", hide = true)]
    pub phrase_min_score: Option<f32>,
    /// Prior (nats) of a listed tortured phrase (default: the library's)
    #[arg(long, value_name = "NATS", hide = true)]
    pub phrase_listed_prior: Option<f32>,
    /// Apply unlisted tortured phrases too (the library reports them only)
    #[arg(long, hide = true)]
    pub phrase_apply_unlisted: bool,
    /// Tuning run: spin with half A of the list and list nothing (use the
    /// training half of the science text with it)
    #[arg(long, hide = true)]
    pub phrase_tune: bool,
    /// Dev run: spin with part A2 of the list and list part A1 (use it with
    /// a phrase model built `--learn-from a1` and the training half of the
    /// science text): settings of the unlisted finder are chosen here
    #[arg(long, hide = true, conflicts_with = "phrase_tune")]
    pub phrase_dev: bool,
}

/// What the benchmark runs on, as the front end's model flags choose it.
pub struct Models<'a> {
    /// The mode compared with the default one: with [`Quality::Best`] every
    /// input is also restored in the best mode (use a subset: about 1 to 3 s
    /// per 1,000 words).
    pub quality: Quality,
    /// The model files, for the report: "embedded default", or the files.
    pub source: String,
    /// Builds the engine for `quality` (for the best mode with WordNet and
    /// the context scorer), with the embedded calibration.
    pub engine: &'a dyn Fn() -> anyhow::Result<Engine>,
    /// Builds the engine of the default mode (no WordNet, no scorer): the
    /// tortured-phrase benchmark swaps its phrase model.
    pub plain_engine: &'a dyn Fn() -> anyhow::Result<Engine>,
    /// The bytes of the tortured-phrase model.
    pub phrases: &'a dyn Fn() -> anyhow::Result<Vec<u8>>,
}

struct Doc {
    id: String,
    domain: String,
    text: String,
    words: usize,
}

/// One benchmark condition: a spinner setting, or the clean text.
struct Condition<'w> {
    profile: &'static str,
    rate: String,
    seed: Option<u64>,
    spinner: Option<Spinner<'w>>,
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
    /// Building the engine: the model, and for the best mode WordNet and
    /// the neural model (loaded alongside the rest).
    load_model_seconds: f64,
    /// The best mode: the same as `load_model_seconds`, which covers the
    /// neural model's load.
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
    clean_domains: Option<crate::clean::CleanReport>,
    /// Tortured phrases in held-out scientific text (absent when its corpus is missing).
    tortured: Option<crate::tortured::TorturedReport>,
    /// Every profile spun with the held-out half of its table.
    heldout: Option<heldout::HeldoutReport>,
}

/// Runs `unspin bench`: the report goes to standard output, progress to
/// standard error (unless `quiet`).
pub fn run(args: &BenchArgs, models: &Models) -> anyhow::Result<()> {
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
        let r = run_tortured(args, models)?;
        match args.format {
            BenchFormat::Markdown => print!("{}", crate::tortured::markdown(&r)),
            BenchFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        }
        return Ok(());
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
    let engine = (models.engine)()?;
    let load_model_seconds = t.elapsed().as_secs_f64();
    let (scorer, load_neural_seconds) = match models.quality {
        Quality::Default => (None, None),
        Quality::Best => (Some(engine.scorer()?), Some(load_model_seconds)),
    };
    let t = Instant::now();
    // The spinners borrow WordNet for the whole run.
    let wn = &unspin::models::embedded_wordnet()?;
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

    let heldout = if args.clean_only {
        None
    } else {
        log("held-out dictionary benchmark");
        let (learn, test) = if args.heldout_dev {
            (Half::A1, Half::A2)
        } else {
            (Half::A, Half::B)
        };
        let split = heldout::Split {
            learn,
            test,
            unseen_replace: args.unseen_replace.unwrap_or(heldout::UNSEEN_REPLACE),
        };
        let (engine, name, build_seconds) =
            heldout::heldout_engine((models.plain_engine)()?, wn, split);
        log(&format!("held-out lexicon built: {name}"));
        let thesaurus = std::sync::Arc::new(unspin::spinner::Thesaurus::build(wn));
        let mut r = if args.learn_only {
            heldout::HeldoutReport::empty(name, build_seconds)
        } else {
            heldout::run(
                &pool,
                &docs,
                &engine,
                name,
                build_seconds,
                wn,
                &thesaurus,
                args.seed,
                split,
                &log,
            )?
        };
        log("learned-spinner benchmark");
        r.learned = learn::run(
            &pool, &docs, &engine, wn, &thesaurus, args.seed, split, &log,
        )?;
        r.learned_clean = Some(learn::run_clean(&pool, &docs, &engine)?);
        log("held-out dictionary benchmark done");
        Some(r)
    };
    if args.heldout_only || args.learn_only {
        match args.format {
            BenchFormat::Markdown => {
                print!("{}", heldout::markdown(heldout.as_ref().expect("run")))
            }
            BenchFormat::Json => println!("{}", serde_json::to_string_pretty(&heldout)?),
        }
        return Ok(());
    }
    let clean_domains = if args.clean_corpus.exists() {
        let (_, clean_docs) = read_corpus(&args.clean_corpus, usize::MAX)?;
        let clean_docs: Vec<crate::clean::CleanDoc> = clean_docs
            .into_iter()
            .map(|d| crate::clean::CleanDoc {
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
        let r = crate::clean::run(
            &args.clean_corpus.display().to_string(),
            &clean_docs,
            &engine,
            models.quality,
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
        Some(run_tortured(args, models)?)
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
        let cpu0 = thread_cpu_seconds();
        let t = Instant::now();
        let outputs = inputs
            .iter()
            .map(|text| engine.restore(text, &opts).map(|r| r.text))
            .collect::<Result<Vec<String>, _>>()?;
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
        // The restorer's own loop over the pieces, as `Engine::restore`
        // runs it, to count the rescored slots.
        let best = match &scorer {
            None => None,
            Some(scorer) => {
                let mut restorer = engine.restorer(opts.clone());
                let cpu0 = process_cpu_seconds();
                let t = Instant::now();
                let mut outs = Vec::with_capacity(inputs.len());
                let (mut rescored_slots, mut rescored_changed) = (0, 0);
                for text in &inputs {
                    let mut whole = unspin::restore::Restoration::default();
                    for (offset, piece) in unspin::input::split_text(text) {
                        whole.append(restorer.restore_best(piece, &**scorer)?, offset);
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
        model: describe_model(&models.source, engine.model()),
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
        heldout,
    };
    match args.format {
        BenchFormat::Markdown => {
            if !args.clean_only {
                print!("{}", markdown(&report));
            }
            if let Some(c) = &report.clean_domains {
                print!("{}", crate::clean::markdown(c));
            }
            if let Some(t) = &report.tortured {
                print!("{}", crate::tortured::markdown(t));
            }
            if let Some(h) = &report.heldout {
                print!("{}", heldout::markdown(h));
            }
        }
        BenchFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(())
}

/// The tortured-phrase benchmark over `--science-corpus` with the model of `--phrases`.
fn run_tortured(
    args: &BenchArgs,
    models: &Models,
) -> anyhow::Result<crate::tortured::TorturedReport> {
    if !args.science_corpus.exists() {
        bail!(
            "{} not found: build it first with `bash scripts/build-clean-bench.sh`",
            args.science_corpus.display()
        );
    }
    let (_, docs) = read_corpus(&args.science_corpus, usize::MAX)?;
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let phrases = (models.phrases)()?;
    let mut opts = unspin::tortured::PhraseOptions::default();
    if let Some(v) = args.phrase_min_score {
        opts.min_score = v;
    }
    if let Some(v) = args.phrase_listed_prior {
        opts.listed_prior = v;
    }
    opts.apply_unlisted = args.phrase_apply_unlisted;
    let mode = if args.phrase_dev {
        crate::tortured::Mode::Dev
    } else if args.phrase_tune {
        crate::tortured::Mode::Tune
    } else {
        crate::tortured::Mode::Test
    };
    crate::tortured::run(
        &args.science_corpus.display().to_string(),
        &texts,
        (models.plain_engine)()?,
        &phrases,
        args.seed,
        &opts,
        mode,
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

/// `source: language model stats; lexicon stats; ...`, for the report.
fn describe_model(source: &str, model: &unspin::restore::Model) -> String {
    let (words, pairs) = model.lexicon.stats();
    format!(
        "{source}: {}; lexicon {words} words, {pairs} (spun, original) pairs; default restore options",
        model.lm.stats()
    )
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

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
            heldout_only: false,
            learn_only: false,
            heldout_dev: false,
            unseen_replace: None,
            phrase_min_score: None,
            phrase_listed_prior: None,
            phrase_apply_unlisted: false,
            phrase_tune: false,
            phrase_dev: false,
        };
        let never = || -> anyhow::Result<Engine> { unreachable!("no model is loaded") };
        let models = Models {
            quality: Quality::Default,
            source: "embedded default".into(),
            engine: &never,
            plain_engine: &never,
            phrases: &|| unreachable!("no model is loaded"),
        };
        let e = run(&args, &models).unwrap_err().to_string();
        assert!(e.contains("scripts/build-corpus.sh"), "{e}");
        assert!(!e.contains('\n'));
    }
}
