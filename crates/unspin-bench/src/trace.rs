//! `unspin trace-bench`: build a trace index of synthetic documents (corpus
//! sentences recombined on the fly, [`crate::synth`]), grow it through the
//! given sizes, and measure indexing speed, index size, recall of spun
//! copies and spun paragraphs, false matches of unrelated held-out text,
//! and query latency. Queries are restored (unless `--no-restore`) by an
//! [`Engine`] over the embedded language model and lexicon.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use rayon::prelude::*;
use unspin::fingerprint::Fingerprinter;
use unspin::restore::Model;
use unspin::spinner::{mix64, Spinner};
use unspin::trace::{trace_text, TraceOptions, TraceResult};
use unspin::wordnet::WordNet;
use unspin::Engine;
use unspin_index::codec::text_hash;
use unspin_index::{Index, NewDoc, NewLocation, Snapshot, Writer, WriterOptions};

use crate::machine::process_cpu_seconds;
use crate::synth::{DocShape, Overlap, SentencePool, SynthDoc};

/// Arguments of the hidden `unspin trace-bench`.
#[derive(Args, Debug, Clone)]
pub struct TraceBenchArgs {
    /// Index sizes to measure, in documents; one index grows through them.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000u64, 100_000, 1_000_000])]
    pub sizes: Vec<u64>,
    /// Spun queries per kind (full copy, paragraph; news and synonym profiles).
    #[arg(long, default_value_t = 2000)]
    pub queries: usize,
    /// Unrelated held-out documents queried.
    #[arg(long, default_value_t = 10_000)]
    pub unrelated: usize,
    /// Calibration documents (training sentences kept out of the index) queried.
    #[arg(long, default_value_t = 5_000)]
    pub calibration: usize,
    /// Folder of train.txt, heldout.txt and heldout.jsonl (scripts/build-corpus.sh).
    #[arg(long, default_value = "data/corpus")]
    pub corpus: PathBuf,
    /// Where the index is built (deleted first).
    #[arg(long, default_value = "target/trace-bench/bench.idx")]
    pub index: PathBuf,
    /// Seed of the synthetic corpus.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not restore queries (only immutable-stream fingerprints).
    #[arg(long)]
    pub no_restore: bool,
    /// Print Markdown tables.
    #[arg(long)]
    pub markdown: bool,
    /// Worker threads for indexing (default: all cores). Queries run on one thread.
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Skip the final merge of all segments after each size (the file is still compacted).
    #[arg(long)]
    pub no_merge: bool,
    /// Query an index built by an earlier run with the same --seed and one
    /// size (no indexing measurements).
    #[arg(long)]
    pub reuse_index: bool,
    /// Instead of benchmarking, write this many synthetic documents as JSON Lines here.
    #[arg(long, value_name = "FILE")]
    pub export_jsonl: Option<PathBuf>,
    /// Documents written by --export-jsonl.
    #[arg(long, default_value_t = 100_000)]
    pub export_docs: u64,
}

const SYNONYM_RATE: f64 = 0.3;

struct Corpus {
    pool: SentencePool,
    calibration: SentencePool,
    heldout: SentencePool,
    /// Natural held-out documents sharing no 8-word run with the pool.
    natural: Vec<String>,
    dropped: (usize, usize, usize),
}

fn load_corpus(dir: &std::path::Path) -> anyhow::Result<Corpus> {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read_to_string(&p).with_context(|| {
            format!(
                "{} (build it with: bash scripts/build-corpus.sh)",
                p.display()
            )
        })
    };
    let train = read("train.txt")?;
    let held = read("heldout.txt")?;
    let jsonl = read("heldout.jsonl")?;
    // One training sentence in ten stays out of the index: text for
    // choosing the threshold that is not the held-out text it is tested on.
    let pool = SentencePool::from_text(&train, |i| i % 10 != 0);
    let overlap = Overlap::of(&pool, 8);
    let (calibration, dc) = SentencePool::from_text(&train, |i| i % 10 == 0).without(&overlap);
    let (heldout, dh) = SentencePool::from_text(&held, |_| true).without(&overlap);
    let mut natural = Vec::new();
    let mut dn = 0;
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let (_, text, _) = unspin_index::sources::parse_json_line(line.as_bytes())
            .map_err(|e| anyhow::anyhow!("heldout.jsonl: {e}"))?;
        if overlap.hits(&text) {
            dn += 1;
        } else {
            natural.push(text);
        }
    }
    Ok(Corpus {
        pool,
        calibration,
        heldout,
        natural,
        dropped: (dc, dh, dn),
    })
}

fn synth_id(i: u64) -> String {
    format!("synth-{i}")
}

fn export(args: &TraceBenchArgs, corpus: &Corpus, path: &std::path::Path) -> anyhow::Result<()> {
    let shape = DocShape::default();
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| path.display().to_string())?,
    );
    for i in 0..args.export_docs {
        let d = corpus.pool.document(&shape, args.seed, i);
        let line = serde_json::json!({ "id": synth_id(i), "text": d.text });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    eprintln!(
        "unspin: wrote {} documents to {}",
        args.export_docs,
        path.display()
    );
    Ok(())
}

/// Seconds spent indexing a range of documents.
#[derive(Default, Clone, Copy)]
struct IndexTimes {
    docs: u64,
    words: u64,
    /// Generating the documents (wall time on the reading thread, overlapped
    /// with adding the previous chunk).
    generate: f64,
    /// Fingerprinting (wall time on the reading thread, also overlapped).
    fingerprint: f64,
    /// The whole pipeline (generate, fingerprint, add, commit, merges).
    add: f64,
    /// Merging every segment and compacting the file.
    compact: f64,
    /// CPU seconds: the writer thread (adds, commits, merges), and the whole
    /// process during the pipeline and compaction.
    writer_cpu: f64,
    process_cpu: f64,
}

/// The load averages over 1, 5 and 15 minutes (Linux; empty elsewhere).
fn load_average() -> String {
    crate::machine::load_average().unwrap_or_default()
}

/// CPU seconds of this process so far (Linux; 0 elsewhere).
fn process_cpu_s() -> f64 {
    process_cpu_seconds().unwrap_or(0.0)
}

impl IndexTimes {
    /// Everything, generating the text included.
    fn total(&self) -> f64 {
        self.add + self.compact
    }
}

fn index_range(
    writer: &mut Writer,
    fp: &Fingerprinter,
    pool: &SentencePool,
    seed: u64,
    range: std::ops::Range<u64>,
    merge: bool,
) -> anyhow::Result<IndexTimes> {
    let shape = DocShape::default();
    let mut t = IndexTimes {
        docs: range.end - range.start,
        ..IndexTimes::default()
    };
    let chunk = unspin_index::bulk::CHUNK as u64;
    let pb = indicatif::ProgressBar::new(range.end - range.start);
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} documents ({per_sec}, eta {eta})",
            )
            .expect("valid template"),
        );
    } else {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let wall = Instant::now();
    let cpu0 = process_cpu_s();
    let mut start = range.start;
    let (mut generate, mut fingerprint, mut words) = (0.0, 0.0, 0u64);
    let produce = || {
        if start >= range.end {
            return None;
        }
        let end = (start + chunk).min(range.end);
        let clock = Instant::now();
        let docs: Vec<SynthDoc> = (start..end)
            .into_par_iter()
            .map(|i| pool.document(&shape, seed, i))
            .collect();
        generate += clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        let fps = unspin_index::bulk::fingerprint_all(fp, &texts);
        fingerprint += clock.elapsed().as_secs_f64();
        let out: unspin_index::bulk::Chunk = docs
            .iter()
            .zip(fps)
            .enumerate()
            .map(|(k, (d, f))| {
                words += d.words as u64;
                let doc = NewDoc {
                    id: synth_id(start + k as u64),
                    source: NewLocation::None,
                    meta: String::new(),
                    text_hash: text_hash(&d.text),
                    text_len: d.text.len() as u64,
                };
                (doc, f, d.text.len() as u64)
            })
            .collect();
        start = end;
        Some(out)
    };
    let sum = unspin_index::bulk::add_pipelined(writer, produce, |s| pb.set_position(s.added))?;
    let clock = unspin_index::bulk::thread_cpu_ns();
    writer.commit()?;
    t.writer_cpu =
        sum.writer_cpu_s + unspin_index::bulk::thread_cpu_ns().saturating_sub(clock) as f64 / 1e9;
    t.add = wall.elapsed().as_secs_f64();
    t.generate = generate;
    t.fingerprint = fingerprint;
    t.words = words;
    let clock = Instant::now();
    if merge {
        writer.compact()?;
    } else {
        writer.compact_file();
    }
    t.compact = clock.elapsed().as_secs_f64();
    t.process_cpu = process_cpu_s() - cpu0;
    pb.finish_and_clear();
    Ok(t)
}

/// One kind of query and its outcomes.
#[derive(Default)]
struct Outcome {
    name: String,
    queries: usize,
    /// Truth ranked first and reported (score at least the threshold).
    top1: usize,
    /// Truth reported anywhere in the top 10.
    top10: usize,
    /// Any source reported (for unrelated queries: false matches).
    reported: usize,
    truth_scores: Vec<f32>,
    /// Whether the truth was ranked first (whatever its score).
    truth_first: Vec<bool>,
    best_scores: Vec<f32>,
    millis: Vec<f64>,
    /// CPU milliseconds of the querying thread (robust to other load on the machine).
    cpu_millis: Vec<f64>,
    words: usize,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let k = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[k]
}

fn percentile32(v: &[f32], p: f64) -> f32 {
    let mut w: Vec<f64> = v.iter().map(|&x| x as f64).collect();
    percentile(&mut w, p) as f32
}

struct Querier<'a> {
    fp: &'a Fingerprinter,
    /// Restores the queries (absent: `--no-restore`).
    engine: Option<&'a Engine>,
    opts: TraceOptions,
    threshold: f32,
}

impl Querier<'_> {
    /// Traces `text`: the result, wall and CPU milliseconds.
    fn run(&mut self, snap: &Snapshot, text: &str) -> anyhow::Result<(TraceResult, f64, f64)> {
        let cpu = unspin_index::bulk::thread_cpu_ns();
        let clock = Instant::now();
        let (_, r) = match self.engine {
            Some(e) => e.trace(self.fp, text, snap, &self.opts, true)?,
            None => trace_text(self.fp, None, text, snap, &self.opts)?,
        };
        let wall = clock.elapsed().as_secs_f64() * 1000.0;
        let cpu = unspin_index::bulk::thread_cpu_ns().saturating_sub(cpu) as f64 / 1e6;
        Ok((r, wall, cpu))
    }

    fn spun(
        &mut self,
        snap: &Snapshot,
        o: &mut Outcome,
        truth: u32,
        text: &str,
    ) -> anyhow::Result<()> {
        let (r, ms, cpu) = self.run(snap, text)?;
        o.queries += 1;
        o.millis.push(ms);
        o.cpu_millis.push(cpu);
        o.words += text.split_whitespace().count();
        let rank = r.matches.iter().position(|m| m.doc == truth);
        let truth_score = rank.map_or(f32::NEG_INFINITY, |k| r.matches[k].score);
        o.truth_scores.push(truth_score);
        o.truth_first.push(rank == Some(0));
        o.best_scores
            .push(r.matches.first().map_or(f32::NEG_INFINITY, |m| m.score));
        if rank == Some(0) && truth_score >= self.threshold {
            o.top1 += 1;
        }
        if rank.is_some() && truth_score >= self.threshold {
            o.top10 += 1;
        }
        if r.matches.first().is_some_and(|m| m.score >= self.threshold) {
            o.reported += 1;
        }
        Ok(())
    }

    fn unrelated(&mut self, snap: &Snapshot, o: &mut Outcome, text: &str) -> anyhow::Result<()> {
        let (r, ms, cpu) = self.run(snap, text)?;
        o.queries += 1;
        o.millis.push(ms);
        o.cpu_millis.push(cpu);
        o.words += text.split_whitespace().count();
        let best = r.matches.first().map_or(f32::NEG_INFINITY, |m| m.score);
        o.best_scores.push(best);
        if best >= self.threshold {
            o.reported += 1;
        }
        Ok(())
    }
}

struct Row {
    size: u64,
    times: IndexTimes,
    /// Load averages (1, 5, 15 min) before and after indexing, and after the queries.
    load_before_index: String,
    load_after_index: String,
    load_after_queries: String,
    cumulative_index_s: f64,
    stats: unspin_index::IndexStats,
    outcomes: Vec<Outcome>,
}

/// Runs `unspin trace-bench`, fingerprinting with `fp` (the fingerprinter of
/// new indexes); `--jobs` is the front end's (the global thread pool). The
/// report goes to standard output, progress to standard error.
pub fn run(args: &TraceBenchArgs, fp: &Fingerprinter) -> anyhow::Result<()> {
    let started = Instant::now();
    let corpus = load_corpus(&args.corpus)?;
    if let Some(p) = &args.export_jsonl {
        return export(args, &corpus, p);
    }
    if args.sizes.is_empty() || args.sizes.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--sizes must be increasing");
    }
    let wn: WordNet = unspin::models::embedded_wordnet()?;
    // The language model and the lexicon, no phrase model: queries are
    // restored as the benchmark's figures were measured.
    let engine: Option<Engine> = if args.no_restore {
        None
    } else {
        Some(Engine::new(
            Model::new(
                unspin::models::embedded_lm()?,
                unspin::models::embedded_lexicon()?,
            ),
            unspin::models::embedded_calibration()?,
        ))
    };
    eprintln!(
        "unspin: pool {} sentences ({} words); calibration {} sentences, held-out {} sentences, {} natural held-out documents (dropped for sharing 8 words with the pool: {}, {}, {})",
        corpus.pool.len(),
        corpus.pool.words(),
        corpus.calibration.len(),
        corpus.heldout.len(),
        corpus.natural.len(),
        corpus.dropped.0,
        corpus.dropped.1,
        corpus.dropped.2
    );
    if args.reuse_index && args.sizes.len() != 1 {
        bail!("--reuse-index needs exactly one size");
    }
    if let Some(dir) = args.index.parent() {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    if args.index.exists() && !args.reuse_index {
        std::fs::remove_file(&args.index).with_context(|| args.index.display().to_string())?;
    }
    let mut writer = Index::open_writer(&args.index, fp, WriterOptions::default())?;
    if args.reuse_index && writer.meta().docs != args.sizes[0] {
        bail!(
            "{} holds {} documents, not {}",
            args.index.display(),
            writer.meta().docs,
            args.sizes[0]
        );
    }
    let reader = Index::open_reader(&args.index)?;
    let threshold = unspin::trace::DEFAULT_MIN_SCORE;
    let mut querier = Querier {
        fp,
        engine: engine.as_ref(),
        opts: TraceOptions {
            // Every candidate is kept so the truth's score is seen even below the threshold.
            min_score: f32::NEG_INFINITY,
            ..TraceOptions::default()
        },
        threshold,
    };
    let news = Spinner::news(&wn, args.seed ^ 0x6e657773);
    let shape = DocShape::default();
    let mut rows = Vec::new();
    let mut prev = 0;
    let mut cumulative = 0.0;
    for &size in &args.sizes {
        let load_before_index = load_average();
        let times = if args.reuse_index {
            IndexTimes::default()
        } else {
            eprintln!("unspin: indexing documents {prev}..{size}");
            index_range(
                &mut writer,
                fp,
                &corpus.pool,
                args.seed,
                prev..size,
                !args.no_merge,
            )?
        };
        cumulative += times.total();
        let load_after_index = load_average();
        let snap = reader.snapshot()?;
        let stats = snap.stats()?;
        eprintln!(
            "unspin: {size} documents: indexed {} in {:.1} s ({:.0} documents/s, generating them included; generation {:.1} s, fingerprints {:.1} s, compaction {:.1} s; CPU {:.0} us/doc, writer thread {:.0} us/doc), {:.0} bytes per document",
            times.docs,
            times.total(),
            times.docs as f64 / times.total(),
            times.generate,
            times.fingerprint,
            times.compact,
            times.process_cpu * 1e6 / times.docs.max(1) as f64,
            times.writer_cpu * 1e6 / times.docs.max(1) as f64,
            stats.bytes_per_document
        );
        let mut outcomes: Vec<Outcome> = [
            "full copy, news",
            "full copy, synonym 30%",
            "one paragraph, news",
            "one paragraph, synonym 30%",
            "news paragraph inside an unrelated article",
            "unrelated held-out (synthetic)",
            "unrelated held-out (natural documents)",
            "calibration (training sentences not indexed)",
        ]
        .iter()
        .map(|n| Outcome {
            name: n.to_string(),
            ..Outcome::default()
        })
        .collect();
        let clock = Instant::now();
        for k in 0..args.queries as u64 {
            let id = mix64(args.seed ^ mix64(k ^ 0x7175_6572)) % size;
            let d = corpus.pool.document(&shape, args.seed, id);
            let syn = Spinner::synonym(&wn, SYNONYM_RATE, mix64(k ^ 0x5359));
            let para = d.paragraphs[(mix64(k ^ 0x50) % d.paragraphs.len() as u64) as usize];
            let para_text = &d.text[para.0..para.1];
            querier.spun(&snap, &mut outcomes[0], id as u32, &news.spin(&d.text).text)?;
            querier.spun(&snap, &mut outcomes[1], id as u32, &syn.spin(&d.text).text)?;
            querier.spun(
                &snap,
                &mut outcomes[2],
                id as u32,
                &news.spin(para_text).text,
            )?;
            querier.spun(
                &snap,
                &mut outcomes[3],
                id as u32,
                &syn.spin(para_text).text,
            )?;
            // The spun paragraph in the middle of an unrelated held-out article.
            let host = corpus.heldout.document(&shape, args.seed ^ 0x4057, k);
            let mid = host.paragraphs[host.paragraphs.len() / 2].1;
            let mixed = format!(
                "{}\n\n{}{}",
                &host.text[..mid],
                news.spin(para_text).text,
                &host.text[mid..]
            );
            querier.spun(&snap, &mut outcomes[4], id as u32, &mixed)?;
        }
        for k in 0..args.unrelated as u64 {
            let d = corpus.heldout.document(&shape, args.seed ^ 0x4e1d, k);
            querier.unrelated(&snap, &mut outcomes[5], &d.text)?;
        }
        for text in corpus.natural.iter().take(args.unrelated) {
            querier.unrelated(&snap, &mut outcomes[6], text)?;
        }
        for k in 0..args.calibration as u64 {
            let d = corpus.calibration.document(&shape, args.seed ^ 0xca1, k);
            querier.unrelated(&snap, &mut outcomes[7], &d.text)?;
        }
        eprintln!(
            "unspin: {size} documents: queries took {:.1} s",
            clock.elapsed().as_secs_f64()
        );
        for o in &outcomes {
            eprintln!(
                "  {:<48} {:>6} queries  recall@1 {:>7.3}%  reported {:>7.3}%  p99 {:.1} ms",
                o.name,
                o.queries,
                100.0 * o.top1 as f64 / o.queries.max(1) as f64,
                100.0 * o.reported as f64 / o.queries.max(1) as f64,
                percentile(&mut o.millis.clone(), 0.99)
            );
        }
        rows.push(Row {
            size,
            times,
            load_before_index,
            load_after_index,
            load_after_queries: load_average(),
            cumulative_index_s: cumulative,
            stats,
            outcomes,
        });
        prev = size;
    }
    drop(writer);
    print_report(
        args,
        &rows,
        threshold,
        started.elapsed().as_secs_f64(),
        engine.is_some(),
    )?;
    Ok(())
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.2}%", 100.0 * n as f64 / d as f64)
    }
}

fn print_report(
    args: &TraceBenchArgs,
    rows: &[Row],
    threshold: f32,
    total_s: f64,
    restore: bool,
) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "- Command: `unspin trace-bench --sizes {} --queries {} --unrelated {} --calibration {}{}` ({:.0} s in all; load average at the end {})",
        args.sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(","),
        args.queries,
        args.unrelated,
        args.calibration,
        if restore { "" } else { " --no-restore" },
        total_s,
        load_average()
    )?;
    writeln!(
        o,
        "- Threshold: score >= {threshold} (default); queries {}restored; one thread per query; {} indexing threads",
        if restore { "" } else { "not " },
        rayon::current_num_threads()
    )?;
    writeln!(o)?;
    writeln!(o, "| documents | added | seconds (pipeline + compaction) | docs/s | docs/s without generation | generation / fingerprint wall s (overlapped) | CPU µs/doc: all / writer thread | all steps s | index size | bytes/doc | postings/doc | segments | load average before / after |")?;
    writeln!(o, "|--:|--:|--|--:|--:|--|--|--:|--:|--:|--:|--:|--|")?;
    for r in rows {
        let t = &r.times;
        writeln!(
            o,
            "| {} | {} | {:.1} + {:.1} | {:.0} | {:.0} | {:.1} / {:.1} | {:.0} / {:.0} | {:.1} | {:.1} MB | {:.0} | {:.1} | {} | {} / {} |",
            r.size,
            t.docs,
            t.add,
            t.compact,
            t.docs as f64 / t.total(),
            t.docs as f64 / (t.total() - t.generate).max(1e-9),
            t.generate,
            t.fingerprint,
            t.process_cpu * 1e6 / t.docs.max(1) as f64,
            t.writer_cpu * 1e6 / t.docs.max(1) as f64,
            r.cumulative_index_s,
            r.stats.file_bytes as f64 / 1e6,
            r.stats.bytes_per_document,
            r.stats.postings as f64 / r.stats.documents.max(1) as f64,
            r.stats.segments,
            r.load_before_index,
            r.load_after_index
        )?;
    }
    writeln!(o)?;
    writeln!(o, "| documents | queries | kind | words (mean) | recall@1 | in top 10 | reported | truth score p1 / p5 / p50 | query wall ms p50 / p90 / p99 / max | query CPU ms p50 / p99 |")?;
    writeln!(o, "|--:|--:|--|--:|--:|--:|--:|--|--|--|")?;
    for r in rows {
        for out in r.outcomes.iter() {
            let mut ms = out.millis.clone();
            let mut cpu = out.cpu_millis.clone();
            let spun = !out.truth_scores.is_empty();
            writeln!(
                o,
                "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {:.1} / {:.1} / {:.1} / {:.1} | {:.1} / {:.1} |",
                r.size,
                out.queries,
                out.name,
                out.words as f64 / out.queries.max(1) as f64,
                if spun {
                    pct(out.top1, out.queries)
                } else {
                    "-".into()
                },
                if spun {
                    pct(out.top10, out.queries)
                } else {
                    "-".into()
                },
                pct(out.reported, out.queries),
                if spun {
                    format!(
                        "{:.0} / {:.0} / {:.0}",
                        percentile32(&out.truth_scores, 0.01),
                        percentile32(&out.truth_scores, 0.05),
                        percentile32(&out.truth_scores, 0.5)
                    )
                } else {
                    format!(
                        "best: p99 {:.1}, max {:.1}",
                        percentile32(&out.best_scores, 0.99),
                        percentile32(&out.best_scores, 1.0)
                    )
                },
                percentile(&mut ms, 0.5),
                percentile(&mut ms, 0.9),
                percentile(&mut ms, 0.99),
                percentile(&mut ms, 1.0),
                percentile(&mut cpu, 0.5),
                percentile(&mut cpu, 0.99),
            )?;
        }
    }
    // Every query's latency together, per size.
    writeln!(o)?;
    for r in rows {
        let mut all: Vec<f64> = r
            .outcomes
            .iter()
            .flat_map(|x| x.millis.iter().copied())
            .collect();
        let mut cpu: Vec<f64> = r
            .outcomes
            .iter()
            .flat_map(|x| x.cpu_millis.iter().copied())
            .collect();
        writeln!(
            o,
            "- {} documents: all {} queries, wall latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; CPU p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; load average after the queries {}",
            r.size,
            all.len(),
            percentile(&mut all, 0.5),
            percentile(&mut all, 0.99),
            percentile(&mut all, 1.0),
            percentile(&mut cpu, 0.5),
            percentile(&mut cpu, 0.99),
            percentile(&mut cpu, 1.0),
            r.load_after_queries
        )?;
    }
    // How the threshold trades recall for false matches (calibration data chooses it).
    if let Some(r) = rows.last() {
        writeln!(o)?;
        writeln!(o, "Threshold sweep at {} documents (recall@1 counts a truth ranked first with a score at or above the threshold):", r.size)?;
        writeln!(o)?;
        write!(o, "| threshold |")?;
        for out in &r.outcomes {
            write!(o, " {} |", out.name)?;
        }
        writeln!(o)?;
        write!(o, "|--:|")?;
        for _ in &r.outcomes {
            write!(o, "--:|")?;
        }
        writeln!(o)?;
        for t in [5.0f32, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0] {
            write!(o, "| {t} |")?;
            for out in &r.outcomes {
                if out.truth_scores.is_empty() {
                    let n = out.best_scores.iter().filter(|&&s| s >= t).count();
                    write!(o, " {} false |", pct(n, out.queries))?;
                } else {
                    // Top-1 with the truth first is fixed; only the score bar moves.
                    let n = out
                        .truth_scores
                        .iter()
                        .zip(&out.truth_first)
                        .filter(|(ts, first)| **ts >= t && **first)
                        .count();
                    write!(o, " {} |", pct(n, out.queries))?;
                }
            }
            writeln!(o)?;
        }
    }
    o.flush()?;
    Ok(())
}
