//! `unspin learn`: a spinner's table estimated from its output alone,
//! written as a `.spinner` profile (see `unspin::learn`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use unspin::learn::{LearnOptions, Pages, SpinnerProfile};
use unspin::Engine;

use crate::models::ModelFlags;

/// Output formats of `unspin learn --show`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ShowFormat {
    /// One line per written word: its count and its originals.
    Text,
    /// One JSON object: the profile's totals and its table.
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
unspin learn --out site.spinner pages/              learn from a folder of one source's pages\n  \
unspin learn --out site.spinner --merge more.jsonl  add more pages to an existing profile\n  \
unspin learn --show site.spinner | head              the learned table, best first\n  \
unspin restore --spinner site.spinner page.txt      restore with what was learned\n\n\
Inputs are text files, folders of them (recursively, hidden entries skipped) and JSON Lines\n\
files (.jsonl or .ndjson, or any file with --jsonl: one {\"id\": .., \"text\": ..} per line).\n\
The pages need no originals: the spinner maps a word the same way every time, so the original\n\
of a written word is the one that fits everywhere it occurs. Inputs are read once per pass.\n\n\
Exit codes: 0 success; 1 error (bad input, unreadable file, corrupt profile); 2 usage error.")]
pub struct LearnArgs {
    /// Pages of one spinner's output: files, folders, JSON Lines.
    #[arg(value_name = "INPUT", required_unless_present = "show")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the learned profile.
    #[arg(long, short, value_name = "FILE", required_unless_present = "show")]
    pub out: Option<PathBuf>,
    /// Add the pages to the profile already at --out (without it, an existing file is an error).
    #[arg(long)]
    pub merge: bool,
    /// Print the table of a profile, best first, instead of learning.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["inputs", "out", "merge"])]
    pub show: Option<PathBuf>,
    /// With --show: leave out pairs seen fewer times than this (expected occurrences).
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub min_count: f32,
    /// With --show: the output format.
    #[arg(long, short, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    /// Read every input as JSON Lines, whatever its extension.
    #[arg(long)]
    pub jsonl: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short, value_name = "N", value_parser = crate::args::at_least_one)]
    pub jobs: Option<usize>,
    /// EM passes over the pages (advanced).
    #[arg(long, default_value_t = LearnOptions::default().passes, value_parser = crate::args::at_least_one, hide_short_help = true)]
    pub passes: usize,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub model: ModelFlags,
}

/// Runs `unspin learn`.
pub fn run(args: &LearnArgs) -> anyhow::Result<u8> {
    if let Some(path) = &args.show {
        return show(path, args);
    }
    let out = args.out.as_ref().expect("clap requires --out");
    crate::args::set_jobs(args.jobs);
    // Read the old profile first: a corrupt one fails before any work.
    let previous = match (out.exists(), args.merge) {
        (true, true) => Some(load_profile(out)?),
        (true, false) => bail!(
            "{} exists: pass --merge to add these pages to it, or choose another --out",
            out.display()
        ),
        (false, _) => None,
    };
    let engine = Engine::new(
        args.model.load()?,
        unspin::detect::Calibration::uncalibrated(),
    );
    let started = std::time::Instant::now();
    let opts = LearnOptions {
        passes: args.passes,
        ..LearnOptions::default()
    };
    let mut profile = learn_with(&engine, &args.inputs, args.jsonl, args.no_progress, &opts)?;
    let learned = profile.best_pairs(unspin::learn::MIN_ASSERTED_COUNT).len();
    if let Some(previous) = previous {
        let mut merged = previous;
        merged.merge(&profile);
        profile = merged;
    }
    crate::out_dir::write_atomic(out, |w| Ok(w.write_all(&profile.to_bytes())?))?;
    eprintln!(
        "unspin: learned {learned} replacements from {} words in {} documents ({:.1} s); wrote {}{}",
        profile.words,
        profile.documents,
        started.elapsed().as_secs_f64(),
        out.display(),
        if args.merge {
            " (merged with the profile there)"
        } else {
            ""
        }
    );
    Ok(crate::EXIT_OK)
}

/// Learns the spinner behind `inputs` with the default settings (for
/// `unspin restore --learn`).
pub fn learn_inputs(
    engine: &Engine,
    inputs: &[PathBuf],
    jsonl: bool,
    no_progress: bool,
) -> anyhow::Result<SpinnerProfile> {
    learn_with(engine, inputs, jsonl, no_progress, &LearnOptions::default())
}

fn learn_with(
    engine: &Engine,
    inputs: &[PathBuf],
    jsonl: bool,
    no_progress: bool,
    opts: &LearnOptions,
) -> anyhow::Result<SpinnerProfile> {
    let pages = InputPages::new(inputs, jsonl)?;
    let pb = progress_bar(no_progress);
    let profile = unspin::learn::learn(engine, &pages, opts, &mut |p| {
        pb.set_message(format!(
            "learning, pass {}/{}: {} documents, {} words",
            p.pass + 1,
            opts.passes,
            p.documents,
            p.words
        ));
        pb.tick();
    })?;
    pb.finish_and_clear();
    if profile.words == 0 {
        bail!("the inputs hold no words to learn from");
    }
    Ok(profile)
}

/// Loads a `.spinner` profile, naming the file in errors.
pub fn load_profile(path: &Path) -> anyhow::Result<SpinnerProfile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    SpinnerProfile::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))
}

fn show(path: &Path, args: &LearnArgs) -> anyhow::Result<u8> {
    let profile = load_profile(path)?;
    let table = profile.table(args.min_count);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ShowFormat::Json => {
            let v = serde_json::json!({
                "words": profile.words,
                "documents": profile.documents,
                "classes": profile.classes,
                "table": table,
            });
            serde_json::to_writer(&mut out, &v)?;
            writeln!(out)?;
        }
        ShowFormat::Text => {
            writeln!(
                out,
                "# {} words, {} documents; written word, expected count, originals (expected count)",
                profile.words, profile.documents
            )?;
            let c = &profile.classes;
            let rate = |r: &unspin::learn::ClassRate| {
                format!(
                    "{:.2} ({:.0} written, {:.0} original)",
                    r.touched, r.written, r.original
                )
            };
            writeln!(
                out,
                "# classes touched (1 = as often as lowercase words; restore opens a class at {}): capitalized {}, punctuation-attached {}, function words {}; small numbers as digits {}",
                unspin::learn::TokenClasses::OPEN_AT,
                rate(&c.capitalized),
                rate(&c.attached),
                rate(&c.function_words),
                rate(&c.digits)
            )?;
            for row in &table {
                let originals: Vec<String> = row
                    .originals
                    .iter()
                    .map(|(o, c)| format!("{o} ({c:.1})"))
                    .collect();
                writeln!(
                    out,
                    "{}\t{:.1}\t{}",
                    row.written,
                    row.count,
                    originals.join(", ")
                )?;
            }
        }
    }
    out.flush()?;
    Ok(crate::EXIT_OK)
}

fn progress_bar(hidden: bool) -> indicatif::ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .expect("valid template"),
    );
    pb
}

/// The inputs as [`Pages`]: files are read again on every pass, a batch
/// at a time; standard input is held in memory, as it can be read once.
struct InputPages {
    files: Vec<PathBuf>,
    jsonl: bool,
    stdin: Option<Vec<String>>,
}

/// Documents per parallel batch, and the bytes that also end a batch.
const BATCH_DOCS: usize = 256;
const BATCH_BYTES: usize = 8 << 20;

impl InputPages {
    fn new(inputs: &[PathBuf], jsonl: bool) -> anyhow::Result<Self> {
        let named: Vec<PathBuf> = inputs
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .cloned()
            .collect();
        let dashes = inputs.len() - named.len();
        if dashes > 1 {
            bail!("standard input ('-') can be named only once");
        }
        let mut errors = Vec::new();
        let files = unspin::input::expand_paths(&named, &mut errors);
        if let Some(e) = errors.first() {
            bail!("{e}");
        }
        for f in &files {
            if !f.exists() {
                bail!("{}: no such file or folder", f.display());
            }
        }
        let stdin = if dashes == 1 {
            let mut docs = Vec::new();
            read_source(Box::new(std::io::stdin()), "<stdin>", jsonl, &mut |d| {
                docs.push(d);
                Ok(())
            })?;
            Some(docs)
        } else {
            None
        };
        Ok(Self {
            files,
            jsonl,
            stdin,
        })
    }
}

impl Pages for InputPages {
    fn batches(
        &self,
        f: &mut dyn FnMut(&[&str]) -> Result<(), unspin::Error>,
    ) -> Result<(), unspin::Error> {
        if let Some(docs) = &self.stdin {
            let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
            refs.as_slice().batches(f)?;
        }
        let mut batch: Vec<String> = Vec::new();
        let mut bytes = 0;
        let flush = |batch: &mut Vec<String>,
                     f: &mut dyn FnMut(&[&str]) -> Result<(), unspin::Error>|
         -> Result<(), unspin::Error> {
            if !batch.is_empty() {
                let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                f(&refs)?;
                batch.clear();
            }
            Ok(())
        };
        for path in &self.files {
            let name = path.display().to_string();
            let file =
                std::fs::File::open(path).map_err(|e| unspin::Error::Io(format!("{name}: {e}")))?;
            let jsonl = self.jsonl || unspin_index::sources::is_jsonl(path);
            read_source(Box::new(file), &name, jsonl, &mut |doc| {
                bytes += doc.len();
                batch.push(doc);
                if batch.len() >= BATCH_DOCS || bytes >= BATCH_BYTES {
                    bytes = 0;
                    flush(&mut batch, f)?;
                }
                Ok(())
            })?;
        }
        flush(&mut batch, f)
    }
}

/// Reads the documents of one source: JSON Lines records, or a text cut
/// into pieces at line or sentence ends (its pieces are learned from like
/// documents: the counts are pooled over the whole corpus anyway).
fn read_source(
    reader: Box<dyn std::io::Read + Send>,
    name: &str,
    jsonl: bool,
    each: &mut dyn FnMut(String) -> Result<(), unspin::Error>,
) -> Result<(), unspin::Error> {
    if jsonl {
        let mut lines = crate::jsonl::Lines::new(std::io::BufReader::new(reader));
        while let Some((lineno, line)) = lines
            .next_line()
            .map_err(|e| unspin::Error::Input(format!("{name}: {e}")))?
        {
            let Ok(line) = line else {
                return Err(unspin::Error::Input(
                    crate::jsonl::too_long(name, lineno).to_string(),
                ));
            };
            let text = std::str::from_utf8(&line)
                .map_err(|_| unspin::Error::Input(format!("{name}:{lineno}: invalid UTF-8")))?;
            let doc = crate::jsonl::parse_line(text, name, lineno)
                .map_err(|e| unspin::Error::Input(crate::one_line(&e)))?;
            each(doc.text)?;
        }
        return Ok(());
    }
    let mut chunks = unspin::input::ChunkReader::new(reader, name);
    while let Some((_, chunk)) = chunks.next_chunk()? {
        each(chunk)?;
    }
    Ok(())
}
