//! `unspin restore`.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use unspin::input::ChunkReader;
use unspin::restore::Options;

use crate::args::Color;
use crate::models::ModelFlags;
use crate::quality::QualityFlags;

/// Output formats of `unspin restore`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// The restored text, nothing else.
    Text,
    /// One JSON object: restored text, every change with byte offsets, alternatives and probabilities.
    Json,
    /// A word diff: [-spun-]{+original+} (colored on a terminal).
    Diff,
    /// A self-contained HTML page with the changes marked.
    Html,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
unspin restore article.txt                 restore a file to stdout\n  \
curl -s URL | unspin restore --format diff  show what changed\n  \
unspin restore --format json a.txt | jq '.changes[] | {spun, original, confidence}'\n  \
unspin restore --jsonl corpus.jsonl --jobs 2 > restored.jsonl\n  \
unspin restore --out-dir restored/ docs/*.txt\n  \
unspin restore --spinner site.spinner page.txt  with a spinner learned by `unspin learn`\n  \
unspin restore --learn --out-dir restored/ pages/*.txt  learn from the pages, then restore them\n  \
unspin restore --quality best article.txt  neural rescoring (bash scripts/install-neural-model.sh first)\n\n\
Exit codes: 0 success; 1 error (bad input, unreadable file, corrupt model); 2 usage error.")]
pub struct RestoreArgs {
    /// Input files ('-' or nothing: standard input).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Apply only changes at least this confident (0 to 1); others are reported in JSON as not applied.
    #[arg(long, default_value_t = 0.0, value_parser = crate::args::unit)]
    pub min_confidence: f32,
    /// Treat each input as a JSONL corpus: one {"id": .., "text": ..} object per line.
    #[arg(long)]
    pub jsonl: bool,
    /// Worker threads for many files or a JSONL corpus (default: all cores).
    #[arg(long, short, value_name = "N", value_parser = crate::args::at_least_one)]
    pub jobs: Option<usize>,
    /// Write one output file per input into this folder (needed for several files unless --format json).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Color the diff format.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Restore with a spinner learned by `unspin learn` (a .spinner file).
    #[arg(long, value_name = "FILE")]
    pub spinner: Option<PathBuf>,
    /// Learn the spinner from the inputs themselves first, then restore them
    /// with it (two passes over the inputs; standard input is held in memory).
    #[arg(long, conflicts_with = "spinner")]
    pub learn: bool,
    /// Weight of the language model against the channel model (advanced).
    #[arg(long, default_value_t = Options::default().lm_weight, hide_short_help = true)]
    pub lm_weight: f32,
    /// Document-level EM steps on the channel model (advanced; 0 disables).
    #[arg(long, default_value_t = Options::default().em_iterations, hide_short_help = true)]
    pub em_iterations: usize,
    /// Pseudo-count of the global channel prior in document-level EM (advanced).
    #[arg(long, default_value_t = Options::default().em_prior_weight, hide_short_help = true)]
    pub em_prior_weight: f32,
    /// Exponent sharpening each original's re-estimated outputs in EM (advanced; 1 disables).
    #[arg(long, default_value_t = Options::default().em_sharpen, hide_short_help = true)]
    pub em_sharpen: f32,
    /// Prior share of words a generic synonym spinner replaces (advanced; 0 disables that hypothesis).
    #[arg(long, default_value_t = Options::default().synonym_rate, hide_short_help = true)]
    pub synonym_rate: f32,
    /// Evidence per word the synonym hypothesis must gain over the clean one (advanced).
    #[arg(long, default_value_t = Options::default().synonym_margin_per_word, hide_short_help = true)]
    pub synonym_margin: f32,
    /// Boost for candidates the author visibly used elsewhere in the text (advanced).
    #[arg(long, default_value_t = Options::default().cache_weight, hide_short_help = true)]
    pub cache_weight: f32,
    /// Most originals considered per spun word (advanced).
    #[arg(long, default_value_t = Options::default().max_candidates, hide_short_help = true)]
    pub max_candidates: usize,
    #[command(flatten)]
    pub model: ModelFlags,
    #[command(flatten)]
    pub quality: QualityFlags,
}

/// Runs `unspin restore`.
pub fn run(args: &RestoreArgs) -> anyhow::Result<u8> {
    crate::args::set_jobs(args.jobs);
    // Restoring never reads the calibration: the embedded one is a placeholder.
    let engine = args.quality.engine(&args.model, || {
        Ok(unspin::detect::Calibration::uncalibrated())
    })?;
    // Holds standard input's copy until the restore is done.
    let mut _stdin_copy = None;
    let mut learned_inputs = None;
    let spinner = if let Some(path) = &args.spinner {
        Some(engine.spinner_channel(&crate::cmd_learn::load_profile(path)?))
    } else if args.learn {
        // Standard input can be read once: it is kept in a temporary file
        // for the second pass.
        let mut inputs = inputs_of(args);
        if inputs.iter().any(|p| p.as_os_str() == "-") {
            if inputs.len() > 1 {
                return Err(crate::Usage(
                    "--learn reads standard input only as the one input".into(),
                )
                .into());
            }
            let mut tmp =
                tempfile::NamedTempFile::new().context("a temporary file for standard input")?;
            std::io::copy(&mut std::io::stdin().lock(), &mut tmp).context("<stdin>")?;
            inputs = vec![tmp.path().to_path_buf()];
            _stdin_copy = Some(tmp);
        }
        let profile =
            crate::cmd_learn::learn_inputs(&engine, &inputs, args.jsonl, args.no_progress)?;
        learned_inputs = Some(inputs);
        Some(engine.spinner_channel(&profile))
    } else {
        None
    };
    let opts = Options {
        spinner,
        quality: args.quality.quality,
        min_confidence: args.min_confidence,
        lm_weight: args.lm_weight,
        em_iterations: args.em_iterations,
        em_prior_weight: args.em_prior_weight,
        em_sharpen: args.em_sharpen,
        synonym_rate: args.synonym_rate,
        synonym_margin_per_word: args.synonym_margin,
        cache_weight: args.cache_weight,
        max_candidates: args.max_candidates,
        ..Options::default()
    };
    let inputs = learned_inputs.unwrap_or_else(|| inputs_of(args));
    if inputs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("standard input ('-') can be named only once");
    }
    if args.jsonl {
        if args.out_dir.is_some() || matches!(args.format, Format::Diff | Format::Html) {
            return Err(crate::Usage(
                "--jsonl writes JSON lines to standard output: use --format text or json, without --out-dir".into(),
            )
            .into());
        }
        // Errors are per line and per input: report each, go on, and say
        // in the exit code that something failed.
        let mut failed = false;
        for p in &inputs {
            match restore_jsonl(&engine, &opts, p, args) {
                Ok(ok) => failed |= !ok,
                Err(e) if crate::is_broken_pipe(&e) => return Err(e),
                Err(e) => {
                    eprintln!("unspin: error: {}", crate::one_line(&e));
                    failed = true;
                }
            }
        }
        return Ok(if failed {
            crate::EXIT_ERROR
        } else {
            crate::EXIT_OK
        });
    }
    if inputs.len() == 1 && args.out_dir.is_none() {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let color = args.color.on_stdout();
        restore_to(
            &engine,
            &opts,
            &inputs[0],
            args.format,
            color,
            false,
            &mut out,
        )?;
        out.flush()?;
        return Ok(crate::EXIT_OK);
    }
    restore_many(&engine, &opts, &inputs, args)
}

/// The inputs named, or standard input.
fn inputs_of(args: &RestoreArgs) -> Vec<PathBuf> {
    if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    }
}

fn open(path: &Path) -> anyhow::Result<(Box<dyn Read + Send>, String)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin()), "<stdin>".into()));
    }
    if path.is_dir() {
        bail!("{}: is a directory", path.display());
    }
    let f = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    Ok((Box::new(f), path.display().to_string()))
}

/// Restores one input chunk by chunk into `out`, in any format, in bounded
/// memory: text and diff are written as they come; JSON and HTML keep their
/// growing parts in spools ([`unspin::render::stream`]). `path` names the
/// input inside JSON output (with several inputs).
fn restore_to(
    engine: &unspin::Engine,
    opts: &Options,
    path: &Path,
    format: Format,
    color: bool,
    json_path: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use unspin::render::stream::{RestorationHtml, RestorationJson};
    let (reader, name) = open(path)?;
    let mut chunks = ChunkReader::new(reader, &name);
    let mut json = match format {
        Format::Json => Some(RestorationJson::new(crate::spool::new)?),
        _ => None,
    };
    let mut html = match format {
        Format::Html => Some(RestorationHtml::new(crate::spool::new()?)),
        _ => None,
    };
    while let Some((offset, chunk)) = chunks.next_chunk()? {
        let r = engine.restore_piece(&chunk, opts)?;
        match format {
            Format::Text => out.write_all(r.text.as_bytes())?,
            Format::Diff => out.write_all(unspin::render::diff(&chunk, &r, color).as_bytes())?,
            Format::Json => json
                .as_mut()
                .expect("a JSON writer")
                .push(&r, offset as usize)?,
            Format::Html => html.as_mut().expect("an HTML writer").push(&chunk, &r)?,
        }
    }
    if let Some(json) = json {
        json.finish(out, json_path.then_some(name.as_str()), None)?;
        out.write_all(b"\n")?;
    }
    if let Some(html) = html {
        html.finish(out, &name)?;
    }
    Ok(())
}

fn progress(len: u64, args: &RestoreArgs, what: &str) -> indicatif::ProgressBar {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
        ))
        .expect("valid template"),
    );
    pb
}

/// Restores several files in parallel. Errors are per input, as grep's are:
/// every good input is written, each bad one gets its error line, and the
/// exit code says that something failed.
fn restore_many(
    engine: &unspin::Engine,
    opts: &Options,
    inputs: &[PathBuf],
    args: &RestoreArgs,
) -> anyhow::Result<u8> {
    if args.out_dir.is_none() && args.format != Format::Json {
        bail!("several inputs need --out-dir DIR, or --format json for one JSON line per file");
    }
    let mut guard = None;
    if let Some(dir) = &args.out_dir {
        // Two inputs with one file name would overwrite each other's output.
        let mut seen = std::collections::HashMap::new();
        for p in inputs {
            let target = out_path(dir, p, args.format);
            if let Some(first) = seen.insert(target.clone(), p) {
                bail!(
                    "{} and {} would both be written to {}; restore them into different --out-dir folders",
                    first.display(),
                    p.display(),
                    target.display()
                );
            }
        }
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        guard = Some(crate::out_dir::InputGuard::new(inputs));
    }
    let pb = progress(inputs.len() as u64, args, "files");
    let color = args.color == Color::Always;
    // With --out-dir each output goes to its file as soon as it is ready.
    // JSON to stdout keeps input order: a batch of inputs at a time, each
    // into a spool, so memory stays bounded however many inputs there are.
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    let batch = rayon::current_num_threads() * 2;
    for inputs in inputs.chunks(batch) {
        let results: Vec<anyhow::Result<Option<crate::spool::Spool>>> = inputs
            .par_iter()
            .map(|path| {
                let res = match (&args.out_dir, &guard) {
                    (Some(dir), Some(guard)) => {
                        let target = out_path(dir, path, args.format);
                        guard.check(path, &target).and_then(|()| {
                            crate::out_dir::write_atomic(&target, |w| {
                                restore_to(engine, opts, path, args.format, color, true, w)
                            })?;
                            Ok(None)
                        })
                    }
                    _ => crate::spool::new()
                        .map_err(anyhow::Error::from)
                        .and_then(|mut spool| {
                            restore_to(engine, opts, path, args.format, color, true, &mut spool)?;
                            Ok(Some(spool))
                        }),
                };
                pb.inc(1);
                res
            })
            .collect();
        for r in results {
            match r {
                Ok(Some(mut spool)) => unspin::render::stream::copy_spool(&mut spool, &mut out)?,
                Ok(None) => {}
                Err(e) => {
                    if crate::is_broken_pipe(&e) {
                        return Err(e);
                    }
                    eprintln!("unspin: error: {}", crate::one_line(&e));
                    failed = true;
                }
            }
        }
    }
    pb.finish_and_clear();
    out.flush()?;
    Ok(if failed {
        crate::EXIT_ERROR
    } else {
        crate::EXIT_OK
    })
}

/// Where `--out-dir` puts the output for `input`: its file name ("stdin" for
/// '-'), plus ".json" or ".html" in those formats.
fn out_path(dir: &Path, input: &Path, format: Format) -> PathBuf {
    let name = match input.file_name() {
        Some(n) if input.as_os_str() != "-" => n.to_owned(),
        _ => "stdin".into(),
    };
    let mut target = dir.join(name);
    match format {
        Format::Json => target.as_mut_os_string().push(".json"),
        Format::Html => target.as_mut_os_string().push(".html"),
        _ => {}
    }
    target
}

/// Restores a JSONL corpus: each line {"id": .., "text": ..}; output keeps the
/// order. A bad line gets its error line (`FILE:LINE: ...`) and the corpus
/// goes on; returns whether every line was good.
fn restore_jsonl(
    engine: &unspin::Engine,
    opts: &Options,
    path: &Path,
    args: &RestoreArgs,
) -> anyhow::Result<bool> {
    let (reader, name) = open(path)?;
    let reader = std::io::BufReader::new(reader);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let pb = progress(0, args, "documents");
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut all_good = true;
    // Works on a batch in parallel and writes it in order; false when a line failed.
    let flush = |batch: &mut Vec<(usize, Vec<u8>)>, out: &mut dyn Write| -> anyhow::Result<bool> {
        let mut good = true;
        let lines: Vec<anyhow::Result<Vec<u8>>> = batch
            .par_iter()
            .map(|(lineno, line)| {
                restore_json_line(engine, opts, line, &name, *lineno, args.format)
            })
            .collect();
        for l in lines {
            match l {
                Ok(bytes) => out.write_all(&bytes)?,
                Err(e) => {
                    eprintln!("unspin: error: {}", crate::one_line(&e));
                    good = false;
                }
            }
        }
        pb.inc(batch.len() as u64);
        batch.clear();
        Ok(good)
    };
    let mut any = false;
    let mut lines = crate::jsonl::Lines::new(reader);
    let mut bytes = 0;
    while let Some((lineno, line)) = lines.next_line().with_context(|| name.clone())? {
        any = true;
        match line {
            Ok(line) => {
                bytes += line.len();
                batch.push((lineno, line));
            }
            Err(()) => {
                // Earlier lines first, so errors come in line order.
                flush(&mut batch, &mut out)?;
                bytes = 0;
                eprintln!("unspin: error: {}", crate::jsonl::too_long(&name, lineno));
                all_good = false;
            }
        }
        if batch.len() >= crate::jsonl::BATCH_LINES || bytes >= crate::jsonl::BATCH_BYTES {
            all_good &= flush(&mut batch, &mut out)?;
            bytes = 0;
        }
    }
    all_good &= flush(&mut batch, &mut out)?;
    pb.finish_and_clear();
    out.flush()?;
    if !any {
        bail!("{name}: input is empty");
    }
    Ok(all_good)
}

fn restore_json_line(
    engine: &unspin::Engine,
    opts: &Options,
    line: &[u8],
    name: &str,
    lineno: usize,
    format: Format,
) -> anyhow::Result<Vec<u8>> {
    let line = std::str::from_utf8(line).map_err(|e| {
        anyhow::anyhow!("{name}:{lineno}: invalid UTF-8 at byte {}", e.valid_up_to())
    })?;
    let doc = crate::jsonl::parse_line(line, name, lineno)?;
    let whole = engine
        .restore(&doc.text, opts)
        .with_context(|| format!("{name}:{lineno}"))?;
    let id = doc.id.as_ref().map(|i| i.value());
    let out = if format == Format::Json {
        unspin::render::restoration_json(&whole, None, id)
    } else {
        let mut o = serde_json::Map::new();
        if let Some(id) = id {
            o.insert("id".into(), id.clone());
        }
        o.insert("text".into(), serde_json::Value::String(whole.text));
        serde_json::Value::Object(o)
    };
    let mut bytes = serde_json::to_vec(&out)?;
    if let Some(id) = &doc.id {
        bytes = id.finish(bytes);
    }
    bytes.push(b'\n');
    Ok(bytes)
}
