//! `unspin index add|stats|compact|check|repair`: build, inspect and
//! verify a trace index.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use unspin::fingerprint::{FingerprintConfig, Fingerprinter};
use unspin_index::bulk::{add_all, AddSummary};
use unspin_index::sources::{expand_paths, is_jsonl, read_text_file, JsonlReader, SourceDoc};
use unspin_index::{Index, WriterOptions};

use crate::{EXIT_ERROR, EXIT_OK};

#[derive(Args, Debug)]
pub struct IndexArgs {
    #[command(subcommand)]
    pub command: IndexCommand,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Add documents (text files, folders, JSON Lines) to an index, creating it if needed.
    Add(AddArgs),
    /// Show what an index holds.
    Stats(StatsArgs),
    /// Merge an index's segments into one and give unused space back.
    Compact(CompactArgs),
    /// Verify every page, record and checksum of an index (exit 0 ok, 1 corrupt).
    Check(CheckArgs),
    /// Rewrite a corrupt index from what can still be read (the damaged file is kept).
    Repair(RepairArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Reads the whole index without writing to it: redb's check of every page
checksum (on a private in-memory overlay), then every record of every table, the checksum
each record carries, every posting of every block, and the counts the metadata keeps.

Exit codes: 0 the index is sound; 1 corrupt (or unreadable); 2 usage error."
)]
pub struct CheckArgs {
    /// The index file.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Writes a new index from the records whose checksums hold, read from the
latest commit whose pages verify (the one before it when the latest is damaged), and keeps the
damaged file as INDEX.corrupt. What was lost stays lost: a document whose record is gone is
dropped (add its source again with 'unspin index add'); a lost posting block drops the
fingerprints it held, so the documents in it are found on fewer fingerprints until they are
replaced or the index is rebuilt. An index whose metadata is unreadable cannot be repaired:
rebuild it from its sources.

Exit codes: 0 repaired; 1 nothing to repair, or cannot repair; 2 usage error."
)]
pub struct RepairArgs {
    /// The index file.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
unspin index add news.idx articles/              every file under articles/ is one document\n  \
unspin index add news.idx feed.jsonl             one {\"id\": .., \"text\": .., ...} object per line\n  \
unspin trace --index news.idx spun.txt           find where spun.txt was copied from\n\n\
A file is one document; files ending in .jsonl or .ndjson (or all inputs, with --jsonl) hold\n\
one document per line: \"text\" is required, \"id\" names the document, other fields are kept\n\
as metadata. The index keeps no text: it records where each document was read from, so that\n\
`unspin trace` can show the matching passages while the files stay in place.\n\
Adding a document again with the same id (a file: the same path) and the same text does\n\
nothing; with other text it replaces the old one. The index stays consistent if the\n\
process is killed: the documents of the last finished batch are kept.\n\n\
Exit codes: 0 success; 1 error (some inputs unreadable: the others are indexed); 2 usage error.")]
pub struct AddArgs {
    /// The index file (created when missing).
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
    /// Files and folders to index.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Read every input as JSON Lines, whatever its extension.
    #[arg(long)]
    pub jsonl: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short, value_name = "N", value_parser = crate::args::at_least_one)]
    pub jobs: Option<usize>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Summary format.
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Postings per commit (advanced: memory per batch is about 16 bytes each).
    #[arg(long, default_value_t = WriterOptions::default().batch_postings, hide_short_help = true)]
    pub batch_postings: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SummaryFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// The index file.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

#[derive(Args, Debug)]
pub struct CompactArgs {
    /// The index file.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
}

/// The fingerprinter of new indexes (and of every index this version writes).
pub fn fingerprinter() -> anyhow::Result<Fingerprinter> {
    Ok(Fingerprinter::embedded(FingerprintConfig::default())?)
}

pub fn run(args: &IndexArgs) -> anyhow::Result<u8> {
    match &args.command {
        IndexCommand::Add(a) => run_add(a),
        IndexCommand::Stats(a) => run_stats(a),
        IndexCommand::Compact(a) => run_compact(a),
        IndexCommand::Check(a) => run_check(a),
        IndexCommand::Repair(a) => run_repair(a),
    }
}

fn run_check(a: &CheckArgs) -> anyhow::Result<u8> {
    let r = unspin_index::check::check(&a.index)?;
    match a.format {
        SummaryFormat::Json => {
            let mut o = std::io::stdout().lock();
            writeln!(o, "{}", serde_json::to_string(&r)?)?;
        }
        SummaryFormat::Text => {
            for p in &r.problems {
                eprintln!("unspin: {}: {p}", a.index.display());
            }
            if r.ok {
                eprintln!(
                    "unspin: index {} is ok: {} records verified",
                    r.path, r.records
                );
            } else {
                eprintln!(
                    "unspin: error: index {} is corrupt: {} problem(s) in {} records read; storage check: {} (try 'unspin index repair')",
                    r.path, r.corrupt, r.records, r.storage
                );
            }
        }
    }
    Ok(if r.ok { EXIT_OK } else { EXIT_ERROR })
}

fn run_repair(a: &RepairArgs) -> anyhow::Result<u8> {
    let r = unspin_index::check::repair(&a.index)?;
    eprintln!(
        "unspin: repaired {}: {} of {} documents kept, {} posting blocks kept, {} lost; the damaged file is {}",
        r.path, r.documents_after, r.documents_before, r.blocks_kept, r.blocks_lost, r.kept_as
    );
    Ok(EXIT_OK)
}

fn progress_bar(total: u64, hidden: bool) -> indicatif::ProgressBar {
    if hidden || total < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(total);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
        )
        .expect("valid template"),
    );
    pb
}

fn run_add(a: &AddArgs) -> anyhow::Result<u8> {
    crate::args::set_jobs(a.jobs);
    if a.batch_postings == 0 {
        bail!("--batch-postings must be at least 1");
    }
    let start = Instant::now();
    let mut errors = Vec::new();
    let files = expand_paths(&a.paths, &mut errors);
    for p in &files {
        if !p.exists() {
            bail!("{}: no such file or folder", p.display());
        }
    }
    let fp = fingerprinter()?;
    let opts = WriterOptions {
        batch_postings: a.batch_postings,
        ..WriterOptions::default()
    };
    let mut writer = Index::open_writer(&a.index, &fp, opts)?;
    let total: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let pb = progress_bar(total, a.no_progress);
    let mut failed = errors.len() as u64;
    for e in &errors {
        pb.suspend(|| eprintln!("unspin: error: {e}"));
    }
    let mut sum = AddSummary::default();
    let mut done_bytes = 0u64;
    for path in &files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let docs: Box<dyn Iterator<Item = Result<SourceDoc, String>>> = if a.jsonl || is_jsonl(path)
        {
            match JsonlReader::open(path) {
                Ok(r) => Box::new(r),
                Err(e) => Box::new(std::iter::once(Err(e))),
            }
        } else {
            Box::new(std::iter::once(read_text_file(path)))
        };
        let base = sum;
        let s = add_all(
            &mut writer,
            &fp,
            docs,
            |s| {
                pb.set_position(done_bytes + s.bytes.min(size));
                pb.set_message(format!("{} documents", base.added + s.added));
            },
            |e| pb.suspend(|| eprintln!("unspin: error: {e}")),
        )
        .with_context(|| a.index.display().to_string())?;
        sum.added += s.added;
        sum.replaced += s.replaced;
        sum.unchanged += s.unchanged;
        sum.failed += s.failed;
        sum.bytes += s.bytes;
        done_bytes += size;
        pb.set_position(done_bytes);
    }
    pb.set_message("committing");
    writer
        .commit()
        .with_context(|| a.index.display().to_string())?;
    let meta = writer.finish()?;
    pb.finish_and_clear();
    failed += sum.failed;
    let secs = start.elapsed().as_secs_f64();
    let stats = Index::open_reader(&a.index)?.snapshot()?.stats()?;
    match a.format {
        SummaryFormat::Text => eprintln!(
            "unspin: indexed {} new, {} replaced, {} unchanged, {} failed in {:.1} s ({:.0} documents/s); {}: {} documents, {:.1} MB ({:.0} bytes per document)",
            sum.added,
            sum.replaced,
            sum.unchanged,
            failed,
            secs,
            (sum.added + sum.replaced + sum.unchanged) as f64 / secs.max(1e-9),
            a.index.display(),
            meta.docs,
            stats.file_bytes as f64 / 1e6,
            stats.bytes_per_document
        ),
        SummaryFormat::Json => {
            let out = serde_json::json!({
                "added": sum.added, "replaced": sum.replaced, "unchanged": sum.unchanged,
                "failed": failed, "bytes": sum.bytes, "seconds": secs, "index": stats,
            });
            let mut o = std::io::stdout().lock();
            writeln!(o, "{out}")?;
        }
    }
    Ok(if failed > 0 { EXIT_ERROR } else { EXIT_OK })
}

fn run_stats(a: &StatsArgs) -> anyhow::Result<u8> {
    let stats = open_snapshot(&a.index)?.stats()?;
    let mut o = std::io::stdout().lock();
    match a.format {
        SummaryFormat::Json => writeln!(o, "{}", serde_json::to_string(&stats)?)?,
        SummaryFormat::Text => {
            let f = &stats.fingerprint;
            writeln!(o, "index:        {}", stats.path)?;
            writeln!(
                o,
                "documents:    {} ({} replaced, postings not yet merged away)",
                stats.documents, stats.deleted_documents
            )?;
            writeln!(o, "source files: {}", stats.source_files)?;
            writeln!(
                o,
                "size:         {:.1} MB ({:.0} bytes per document)",
                stats.file_bytes as f64 / 1e6,
                stats.bytes_per_document
            )?;
            writeln!(o, "segments:     {}", stats.segments)?;
            writeln!(o, "fingerprints: {} distinct, {} postings ({:.1} per document), {} too common to keep", stats.fingerprints, stats.postings, stats.postings as f64 / stats.documents.max(1) as f64, stats.dropped_fingerprints)?;
            writeln!(o, "settings:     immutable shingles of {} kept 1 in {}, word shingles of {} kept 1 in {}, passages of about {} bytes; format {}",
                f.immutable_shingle, 1u64 << f.immutable_sample_bits, f.word_shingle, 1u64 << f.word_sample_bits, f.passage_bytes, stats.format)?;
        }
    }
    Ok(EXIT_OK)
}

fn run_compact(a: &CompactArgs) -> anyhow::Result<u8> {
    let fp = fingerprinter()?;
    let start = Instant::now();
    let mut w = Index::open_writer(&a.index, &fp, WriterOptions::default())?;
    w.compact()?;
    w.finish()?;
    let stats = open_snapshot(&a.index)?.stats()?;
    eprintln!(
        "unspin: compacted {} in {:.1} s: {} segment(s), {:.1} MB ({:.0} bytes per document)",
        a.index.display(),
        start.elapsed().as_secs_f64(),
        stats.segments,
        stats.file_bytes as f64 / 1e6,
        stats.bytes_per_document
    );
    Ok(EXIT_OK)
}

pub fn open_snapshot(path: &Path) -> anyhow::Result<unspin_index::Snapshot> {
    Ok(Index::open_reader(path)?.snapshot()?)
}
