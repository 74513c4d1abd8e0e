//! `unspin trace`: find the sources of spun copies in an index.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use unspin::restore::{Options, Restorer};
use unspin::trace::{trace_text, TraceOptions};
use unspin_index::report::{report, TraceReport};
use unspin_index::sources::{expand_paths, is_jsonl, JsonlReader};

use crate::cmd_index::open_snapshot;
use crate::models::ModelFlags;

/// Exit codes of `unspin trace` (like grep).
pub const EXIT_FOUND: u8 = 0;
pub const EXIT_NONE: u8 = 1;
pub const EXIT_FAILED: u8 = 2;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Ranked sources with aligned passages.
    Text,
    /// One JSON object per query (JSON Lines).
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
unspin trace --index news.idx spun.txt                 ranked sources, aligned passages\n  \
curl -s URL | unspin trace --index news.idx --format json\n  \
unspin trace --index news.idx --jsonl pages.jsonl -l   print the queries that have a source\n\n\
The query is restored first (restored text gives extra fingerprints); --no-restore is faster.\n\
Score: evidence, in nats, that the query copies the source rather than sharing phrases by\n\
chance, after allowing for the number of documents searched; similarity: the estimated share\n\
of the copied passages' shingles found in the source.\n\n\
Exit codes (like grep): 0 a source was found; 1 none; 2 error.")]
pub struct TraceArgs {
    /// The index (built with 'unspin index add').
    #[arg(long, short, value_name = "INDEX")]
    pub index: PathBuf,
    /// Query files or folders ('-' or nothing: standard input).
    #[arg(value_name = "QUERY")]
    pub queries: Vec<PathBuf>,
    /// Read every query input as JSON Lines ({"id": .., "text": ..} per line).
    #[arg(long)]
    pub jsonl: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Report sources scoring at least this (evidence in nats).
    #[arg(long, default_value_t = unspin::trace::DEFAULT_MIN_SCORE)]
    pub min_score: f32,
    /// Most sources per query.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub max_results: usize,
    /// Do not restore the query (faster; fewer fingerprints).
    #[arg(long)]
    pub no_restore: bool,
    /// Print only the names of queries with a source.
    #[arg(short = 'l', long)]
    pub files_with_matches: bool,
    /// Leave passage texts out of the output.
    #[arg(long)]
    pub no_text: bool,
    /// Fingerprints found in more documents than this are ignored (advanced).
    #[arg(long, default_value_t = unspin::trace::DEFAULT_MAX_POSTINGS, hide_short_help = true)]
    pub max_postings: usize,
    #[command(flatten)]
    pub model: ModelFlags,
}

/// One query text.
struct Query {
    name: String,
    text: String,
}

pub fn run(args: &TraceArgs) -> anyhow::Result<u8> {
    match run_inner(args) {
        Ok(found) => Ok(if found { EXIT_FOUND } else { EXIT_NONE }),
        // main() ends a closed pipe quietly with exit 0.
        Err(e) if crate::is_broken_pipe(&e) => Err(e),
        Err(e) => {
            eprintln!("unspin: error: {}", crate::one_line(&e));
            Ok(EXIT_FAILED)
        }
    }
}

/// Reads the queries one at a time and hands each to `each`, so memory
/// holds one query (at most one document) however many there are. Queries
/// that cannot be read go to `errors`; returns how many were read.
fn for_each_query(
    args: &TraceArgs,
    errors: &mut Vec<String>,
    each: &mut dyn FnMut(Query) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut read = 0;
    if args.queries.is_empty() || args.queries.iter().any(|p| p.as_os_str() == "-") {
        let stdin = std::io::stdin();
        if args.jsonl {
            let mut lines = crate::jsonl::Lines::new(stdin.lock());
            let mut any = false;
            while let Some((lineno, line)) = lines.next_line().context("<stdin>")? {
                any = true;
                let line = match line {
                    Ok(l) => l,
                    Err(()) => {
                        errors.push(crate::jsonl::too_long("<stdin>", lineno).to_string());
                        continue;
                    }
                };
                match unspin_index::sources::parse_json_line(&line) {
                    Ok((id, text, _)) => {
                        read += 1;
                        each(Query {
                            name: if id.is_empty() {
                                format!("<stdin>:{lineno}")
                            } else {
                                id
                            },
                            text,
                        })?;
                    }
                    Err(e) => errors.push(format!("<stdin>:{lineno}: {e}")),
                }
            }
            if !any {
                anyhow::bail!("<stdin>: input is empty");
            }
        } else {
            let text = unspin::input::read_document(stdin.lock(), "<stdin>")?;
            read += 1;
            each(Query {
                name: "<stdin>".into(),
                text,
            })?;
        }
    }
    let named: Vec<PathBuf> = args
        .queries
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    for p in expand_paths(&named, errors) {
        let name = p.display().to_string();
        if args.jsonl || is_jsonl(&p) {
            match JsonlReader::open(&p) {
                Ok(r) => {
                    for (k, d) in r.enumerate() {
                        match d {
                            Ok(d) => {
                                read += 1;
                                each(Query {
                                    name: if d.doc.id.is_empty() {
                                        format!("{name}:{}", k + 1)
                                    } else {
                                        d.doc.id
                                    },
                                    text: d.text,
                                })?;
                            }
                            Err(e) => errors.push(e),
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
            continue;
        }
        let text = std::fs::File::open(&p)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|f| unspin::input::read_document(f, &name).map_err(|e| e.to_string()));
        match text {
            Ok(text) => {
                read += 1;
                each(Query { name, text })?;
            }
            Err(e) => errors.push(e),
        }
    }
    Ok(read)
}

fn run_inner(args: &TraceArgs) -> anyhow::Result<bool> {
    let snap = open_snapshot(&args.index)?;
    let fp = snap.fingerprinter()?;
    let mut errors = Vec::new();
    let model = if args.no_restore {
        None
    } else {
        Some(args.model.load()?)
    };
    let mut restorer = model.as_ref().map(|m| Restorer::new(m, Options::default()));
    let opts = TraceOptions {
        min_score: args.min_score,
        max_results: args.max_results,
        max_postings: args.max_postings,
        ..TraceOptions::default()
    };
    let color = std::io::stdout().is_terminal();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut found = false;
    let queries = for_each_query(args, &mut errors, &mut |q| {
        let (fpq, result) = trace_text(&fp, restorer.as_mut(), &q.text, &snap, &opts)?;
        let rep = report(&snap, &fp, &q.text, &fpq, &result, !args.no_text)?;
        found |= !rep.sources.is_empty();
        if args.files_with_matches {
            if !rep.sources.is_empty() {
                writeln!(out, "{}", q.name)?;
            }
            return Ok(());
        }
        match args.format {
            Format::Json => {
                let v = serde_json::json!({ "query": q.name, "report": rep });
                writeln!(out, "{v}")?;
            }
            Format::Text => write_text(&mut out, &q.name, &rep, args.min_score, color)?,
        }
        Ok(())
    })?;
    out.flush()?;
    for e in &errors {
        eprintln!("unspin: error: {e}");
    }
    if !errors.is_empty() {
        anyhow::bail!(
            "{} of {} queries could not be read",
            errors.len(),
            errors.len() + queries
        );
    }
    Ok(found)
}

fn snippet(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    format!("{cut}…")
}

fn write_text(
    out: &mut impl Write,
    name: &str,
    rep: &TraceReport,
    min_score: f32,
    color: bool,
) -> anyhow::Result<()> {
    let (bold, dim, reset) = if color {
        ("\x1b[1m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    writeln!(
        out,
        "{bold}{name}{reset}: {} passage(s), {} fingerprints ({} too common), {} candidate documents",
        rep.passages, rep.features, rep.common_features, rep.candidates
    )?;
    if rep.sources.is_empty() {
        writeln!(out, "  no source scores {min_score} or more")?;
    }
    for s in &rep.sources {
        writeln!(
            out,
            "  {}. {bold}{}{reset}  score {:.1}  similarity {:.2}  coverage {:.2}",
            s.rank, s.id, s.score, s.similarity, s.coverage
        )?;
        if let Some(loc) = &s.location {
            if *loc != s.id {
                writeln!(out, "     {dim}from {loc}{reset}")?;
            }
        }
        if let Some(m) = &s.meta {
            writeln!(out, "     {dim}meta {m}{reset}")?;
        }
        if let Some(why) = &s.source_text {
            writeln!(out, "     {dim}({why}){reset}")?;
        }
        for p in &s.passages {
            let range = |s: &unspin_index::report::Span| match (s.start, s.end) {
                (Some(a), Some(b)) => format!(" [{a}..{b}]"),
                _ => String::new(),
            };
            writeln!(
                out,
                "     query ¶{}{} <- source ¶{}{}: {}/{} fingerprints ({:.0}%)",
                p.query.passage + 1,
                range(&p.query),
                p.source.passage + 1,
                range(&p.source),
                p.doc_hits,
                p.features,
                100.0 * p.similarity
            )?;
            if let Some(t) = &p.query.text {
                writeln!(out, "       {dim}query:{reset}  {}", snippet(t, 100))?;
            }
            if let Some(t) = &p.source.text {
                writeln!(out, "       {dim}source:{reset} {}", snippet(t, 100))?;
            }
        }
    }
    Ok(())
}
