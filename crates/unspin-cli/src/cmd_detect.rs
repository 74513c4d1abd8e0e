//! `unspin detect`: is a text machine-spun, and where? And the hidden
//! `unspin detect-bench`, which measures the detector on the held-out corpus.

use std::io::{BufRead, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use unspin::detect::{
    balanced_ece, build_samples, eval_rows, read_jsonl_corpus, word_counts, Calibration, Condition,
    DatasetSpec, DetectOptions, Detection, Detector, Sample, WordScore,
};
use unspin::render::html_escape;
use unspin::restore::{Model, Options, Restorer};

use crate::models::ModelFlags;

/// Exit status: spun text found.
pub const EXIT_FOUND: u8 = 0;
/// Exit status: no spun text found.
pub const EXIT_NONE: u8 = 1;
/// Exit status: an error occurred.
pub const EXIT_FAILED: u8 = 2;

/// Output formats of `unspin detect`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A verdict line per input; for spun inputs the text with the spun words marked, like a word diff, and the evidence.
    Text,
    /// One JSON object per input (JSON Lines): probability, sections, evidence, per-word scores.
    Json,
    /// One self-contained HTML report for all inputs.
    Html,
}

/// When to color the text format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
unspin detect article.txt                   verdict, marked words and evidence\n  \
unspin detect -l -r corpus/                 list the spun files under a folder\n  \
unspin detect -q post.txt && echo spun      exit status only\n  \
unspin detect --jsonl docs.jsonl --format json --jobs 2 > scores.jsonl\n  \
unspin detect --format html *.txt > report.html\n  \
unspin detect --quality best article.txt    likely originals from neural rescoring (implies --restore)\n\n\
Folders are searched recursively (hidden files and folders are skipped).\n\
Exit status, like grep: 0 spun text found; 1 none found; 2 error (with -q, 0 wins once spun text is found).")]
pub struct DetectArgs {
    /// Input files or folders ('-' or nothing: standard input).
    #[arg(value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Call a text spun when its probability is at least this (default: the calibrated threshold).
    #[arg(long, short, value_parser = parse_unit)]
    pub threshold: Option<f32>,
    /// Treat each input as a JSONL corpus: one {"id": .., "text": ..} object per line.
    #[arg(long)]
    pub jsonl: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Print nothing; the exit status tells (0 spun found, 1 none, 2 error).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print only the names of spun inputs (for JSONL corpora: PATH:ID).
    #[arg(long = "files-with-matches", short = 'l')]
    pub files_with_matches: bool,
    /// Accepted for grep habits; folders are always searched recursively.
    #[arg(long, short, hide = true)]
    pub recursive: bool,
    /// Run the full restorer on the spun sections for better likely originals (slower).
    #[arg(long)]
    pub restore: bool,
    /// Evidence words reported per input.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub evidence: usize,
    /// Color the text format.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Calibration file from `unspin-build calibrate` (default: the embedded one).
    #[arg(long, value_name = "FILE", env = "UNSPIN_CALIBRATION")]
    pub calibration: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelFlags,
    /// `--quality best` refines the word-level scores and likely originals
    /// with the neural restorer (it implies --restore); the document
    /// probability is the calibrated fast score in both modes.
    #[command(flatten)]
    pub quality: crate::quality::QualityFlags,
}

fn parse_unit(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0..=1"))
    }
}

fn load_calibration(path: Option<&Path>) -> anyhow::Result<Calibration> {
    Ok(match path {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Calibration::from_bytes(&bytes).with_context(|| format!("loading {}", p.display()))?
        }
        None => unspin::models::embedded_calibration()?,
    })
}

fn set_jobs(jobs: Option<usize>) -> anyhow::Result<()> {
    if let Some(j) = jobs {
        if j == 0 {
            bail!("--jobs must be at least 1");
        }
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(j)
            .build_global();
    }
    Ok(())
}

/// Runs `unspin detect`; every error becomes exit status 2.
pub fn run(args: &DetectArgs) -> anyhow::Result<u8> {
    let mut state = State::default();
    match run_inner(args, &mut state) {
        Ok(()) => {}
        // main() ends a closed pipe quietly with exit 0.
        Err(e) if crate::is_broken_pipe(&e) => return Err(e),
        Err(e) => {
            eprintln!("unspin: error: {}", crate::one_line(&e));
            state.failed = true;
        }
    }
    Ok(if state.found && (args.quiet || !state.failed) {
        EXIT_FOUND
    } else if state.failed {
        EXIT_FAILED
    } else {
        EXIT_NONE
    })
}

#[derive(Default)]
struct State {
    found: bool,
    failed: bool,
}

/// One input to score.
enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".into(),
            Input::File(p) => p.display().to_string(),
        }
    }

    fn read(&self) -> anyhow::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match self {
            Input::Stdin => {
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context("<stdin>")?;
            }
            Input::File(p) => {
                bytes = std::fs::read(p).with_context(|| p.display().to_string())?;
            }
        }
        Ok(bytes)
    }
}

/// Expands the command line into inputs: folders recursively, in name order.
fn collect_inputs(files: &[PathBuf], errors: &mut Vec<String>) -> Vec<Input> {
    if files.is_empty() {
        return vec![Input::Stdin];
    }
    let mut out = Vec::new();
    for p in files {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else {
            let found = unspin::input::expand_paths(std::slice::from_ref(p), errors);
            out.extend(found.into_iter().map(Input::File));
        }
    }
    out
}

/// A scored document.
struct Scored {
    name: String,
    id: Option<unspin_server::json_doc::ExactId>,
    text: String,
    det: Detection,
}

/// Everything that scores one text.
struct Engine<'m> {
    detector: Detector<'m>,
    opts: DetectOptions,
    restore: bool,
    threshold: Option<f32>,
    /// The neural model for `--quality best`.
    scorer: Option<&'m dyn unspin::rescore::ContextScorer>,
}

impl<'m> Engine<'m> {
    fn score(&self, text: &str, restorer: &mut Option<Restorer<'m>>) -> anyhow::Result<Detection> {
        let mut det = self.detector.detect(text, &self.opts);
        if let Some(t) = self.threshold {
            det.threshold = t;
            det.spun = det.prob >= t;
        }
        if self.restore && det.spun {
            let model = self.detector.model();
            let r = restorer.get_or_insert_with(|| Restorer::new(model, Options::default()));
            match self.scorer {
                Some(s) => self
                    .detector
                    .refine_best(text, &mut det, r, s, &self.opts)?,
                None => self.detector.refine(text, &mut det, r, &self.opts),
            }
        }
        Ok(det)
    }
}

fn run_inner(args: &DetectArgs, state: &mut State) -> anyhow::Result<()> {
    set_jobs(args.jobs)?;
    let listing = args.quiet || args.files_with_matches;
    // The document probability does not depend on the quality mode, so
    // listing modes never need the neural model.
    let quality = if listing {
        crate::quality::QualityFlags::default()
    } else {
        args.quality.clone()
    };
    let ((model, calib), neural) = quality.load_alongside(|| {
        Ok((
            args.model.load_for(quality.quality)?,
            load_calibration(args.calibration.as_deref())?,
        ))
    })?;
    let restore = args.restore || neural.is_some();
    let word_threshold = if restore {
        calib.restore_word_threshold as f32
    } else {
        calib.word_threshold as f32
    };
    let engine = Engine {
        detector: Detector::new(&model, calib),
        opts: DetectOptions {
            threshold: args.threshold,
            evidence: args.evidence,
            word_floor: 0.05,
            words: !listing,
        },
        restore: restore && !listing,
        threshold: args.threshold,
        scorer: neural
            .as_ref()
            .map(|n| n as &dyn unspin::rescore::ContextScorer),
    };
    let mut errors = Vec::new();
    let inputs = collect_inputs(&args.files, &mut errors);
    for e in errors {
        eprintln!("unspin: error: {e}");
        state.failed = true;
    }
    if inputs.iter().filter(|i| matches!(i, Input::Stdin)).count() > 1 {
        bail!("standard input ('-') can be named only once");
    }
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal(),
    };
    let stdout = std::io::stdout();
    let mut out = Output {
        w: BufWriter::new(stdout.lock()),
        format: args.format,
        quiet: args.quiet,
        list: args.files_with_matches,
        color,
        word_threshold,
        html: String::new(),
        html_rows: String::new(),
        docs: 0,
        spun: 0,
    };
    let stop = AtomicBool::new(false);
    if args.jsonl {
        for input in &inputs {
            if let Err(e) = detect_jsonl(&engine, input, args, &mut out, state, &stop) {
                if crate::is_broken_pipe(&e) {
                    return Err(e);
                }
                eprintln!("unspin: error: {}", crate::one_line(&e));
                state.failed = true;
            }
            if args.quiet && state.found {
                break;
            }
        }
    } else {
        let pb = progress(inputs.len() as u64, args, "files");
        let results: Vec<Option<anyhow::Result<Scored>>> = inputs
            .par_iter()
            .map_init(
                || None,
                |restorer, input| {
                    if stop.load(Ordering::Relaxed) {
                        return None;
                    }
                    let r = score_input(&engine, input, restorer);
                    if args.quiet && r.as_ref().is_ok_and(|s| s.det.spun) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    pb.inc(1);
                    Some(r)
                },
            )
            .collect();
        pb.finish_and_clear();
        for r in results.into_iter().flatten() {
            match r {
                Ok(s) => {
                    state.found |= s.det.spun;
                    out.emit(&s)?;
                }
                Err(e) => {
                    eprintln!("unspin: error: {}", crate::one_line(&e));
                    state.failed = true;
                }
            }
        }
    }
    out.finish()?;
    Ok(())
}

fn score_input<'m>(
    engine: &Engine<'m>,
    input: &Input,
    restorer: &mut Option<Restorer<'m>>,
) -> anyhow::Result<Scored> {
    let name = input.name();
    let bytes = input.read()?;
    let text = unspin::input::check_text(&bytes, &name)?;
    let det = engine.score(text, restorer)?;
    Ok(Scored {
        name,
        id: None,
        text: text.to_string(),
        det,
    })
}

/// Scores a JSONL corpus in batches, writing results in order.
fn detect_jsonl(
    engine: &Engine,
    input: &Input,
    args: &DetectArgs,
    out: &mut Output,
    state: &mut State,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let name = input.name();
    let (reader, size): (Box<dyn Read>, u64) = match input {
        Input::Stdin => (Box::new(std::io::stdin()), 0),
        Input::File(p) => {
            if p.is_dir() {
                bail!("{name}: is a directory");
            }
            let f = std::fs::File::open(p).with_context(|| name.clone())?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            (Box::new(f), size)
        }
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, reader);
    let pb = progress(size, args, "bytes");
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut any = false;
    let flush = |batch: &mut Vec<(usize, Vec<u8>)>,
                 out: &mut Output,
                 state: &mut State|
     -> anyhow::Result<()> {
        let results: Vec<Option<anyhow::Result<Scored>>> = batch
            .par_iter()
            .map_init(
                || None,
                |restorer, (lineno, line)| {
                    if stop.load(Ordering::Relaxed) {
                        return None;
                    }
                    let r = score_line(engine, line, &name, *lineno, restorer);
                    if args.quiet && r.as_ref().is_ok_and(|s| s.det.spun) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    Some(r)
                },
            )
            .collect();
        pb.inc(batch.iter().map(|b| b.1.len() as u64 + 1).sum());
        batch.clear();
        for r in results.into_iter().flatten() {
            match r {
                Ok(s) => {
                    state.found |= s.det.spun;
                    out.emit(&s)?;
                }
                Err(e) => {
                    eprintln!("unspin: error: {}", crate::one_line(&e));
                    state.failed = true;
                }
            }
        }
        Ok(())
    };
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.with_context(|| name.clone())?;
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        any = true;
        batch.push((i + 1, line));
        if batch.len() >= 256 {
            flush(&mut batch, out, state)?;
            if args.quiet && state.found {
                break;
            }
        }
    }
    flush(&mut batch, out, state)?;
    pb.finish_and_clear();
    if !any {
        bail!("{name}: input is empty");
    }
    Ok(())
}

fn score_line<'m>(
    engine: &Engine<'m>,
    line: &[u8],
    name: &str,
    lineno: usize,
    restorer: &mut Option<Restorer<'m>>,
) -> anyhow::Result<Scored> {
    let line = std::str::from_utf8(line).map_err(|e| {
        anyhow::anyhow!("{name}:{lineno}: invalid UTF-8 at byte {}", e.valid_up_to())
    })?;
    let doc = crate::jsonl::parse_line(line, name, lineno)?;
    let label = match &doc.id {
        Some(id) => match id.as_str() {
            Some(s) => format!("{name}:{s}"),
            None => format!("{name}:{id}"),
        },
        None => format!("{name}:{lineno}"),
    };
    if doc.text.contains('\0') {
        bail!("{label}: binary data (NUL byte); unspin reads UTF-8 text");
    }
    let det = engine.score(&doc.text, restorer)?;
    Ok(Scored {
        name: label,
        text: doc.text,
        id: doc.id,
        det,
    })
}

fn progress(len: u64, args: &DetectArgs, what: &str) -> indicatif::ProgressBar {
    if args.no_progress || args.quiet || len < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    let template = if what == "bytes" {
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})".to_string()
    } else {
        format!("{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})")
    };
    pb.set_style(indicatif::ProgressStyle::with_template(&template).expect("valid template"));
    pb
}

/// Writes results in the chosen format.
struct Output<'a> {
    w: BufWriter<std::io::StdoutLock<'a>>,
    format: Format,
    quiet: bool,
    list: bool,
    color: bool,
    word_threshold: f32,
    html: String,
    html_rows: String,
    docs: usize,
    spun: usize,
}

impl Output<'_> {
    fn emit(&mut self, s: &Scored) -> anyhow::Result<()> {
        self.docs += 1;
        self.spun += s.det.spun as usize;
        if self.quiet {
            return Ok(());
        }
        if self.list {
            if s.det.spun {
                writeln!(self.w, "{}", s.name)?;
            }
            return Ok(());
        }
        match self.format {
            Format::Text => {
                let t = render_text(s, self.color, self.word_threshold);
                self.w.write_all(t.as_bytes())?;
            }
            Format::Json => {
                let v = unspin::render::detection_json(
                    &s.det,
                    self.word_threshold,
                    Some(&s.name),
                    s.id.as_ref().map(|i| i.value()),
                );
                let mut line = serde_json::to_vec(&v)?;
                if let Some(id) = &s.id {
                    line = id.finish(line);
                }
                line.push(b'\n');
                self.w.write_all(&line)?;
            }
            Format::Html => {
                let (row, body) = render_html_doc(s, self.docs, self.word_threshold);
                self.html_rows.push_str(&row);
                self.html.push_str(&body);
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.format == Format::Html && !self.quiet && !self.list {
            let page = html_page(&self.html_rows, &self.html, self.docs, self.spun);
            self.w.write_all(page.as_bytes())?;
        }
        self.w.flush()?;
        Ok(())
    }
}

fn marked(s: &Scored, word_threshold: f32) -> Vec<&WordScore> {
    let mut at = 0;
    let mut out = Vec::new();
    for w in &s.det.flagged {
        if w.prob >= word_threshold && w.start >= at {
            out.push(w);
            at = w.end;
        }
    }
    out
}

fn pct(p: f32) -> String {
    format!("{:.1}%", p * 100.0)
}

/// The terminal view: a verdict line; for spun texts the text with the spun
/// words marked like a word diff (`[-spun-]{+original+}`, or red and green),
/// the sections and the evidence.
fn render_text(s: &Scored, color: bool, word_threshold: f32) -> String {
    let d = &s.det;
    let verdict = if d.spun { "SPUN" } else { "clean" };
    let verdict = match (color, d.spun) {
        (true, true) => format!("\x1b[1;31m{verdict}\x1b[0m"),
        (true, false) => format!("\x1b[32m{verdict}\x1b[0m"),
        _ => verdict.to_string(),
    };
    let mut out = format!(
        "{}: {verdict} probability {} ({} words, {} section{}, threshold {})\n",
        s.name,
        pct(d.prob),
        d.words,
        d.sections.len(),
        if d.sections.len() == 1 { "" } else { "s" },
        pct(d.threshold)
    );
    if let Some(p) = d.phrases.as_ref().filter(|p| p.count > 0) {
        let list: Vec<String> = d
            .phrase_matches
            .iter()
            .map(|m| format!("\"{}\" -> \"{}\" ({})", m.spun, m.original, m.kind.name()))
            .collect();
        out.push_str(&format!(
            "  tortured phrases: {} ({} listed, {} unlisted), {:.1} per 1,000 words, risk {:?}: {}\n",
            p.count,
            p.listed,
            p.unlisted,
            p.per_thousand_words,
            p.risk,
            list.join(", ")
        ));
    }
    if !d.spun {
        return out;
    }
    out.push('\n');
    let mut at = 0;
    for w in marked(s, word_threshold) {
        out.push_str(&s.text[at..w.start]);
        if color {
            out.push_str(&format!(
                "\x1b[9;31m{}\x1b[0m\x1b[1;32m{}\x1b[0m",
                w.text, w.original
            ));
        } else {
            out.push_str(&format!("[-{}-]{{+{}+}}", w.text, w.original));
        }
        at = w.end;
    }
    out.push_str(&s.text[at..]);
    if !s.text.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    if d.sections.len() > 1 {
        out.push_str("sections:\n");
        for (i, sec) in d.sections.iter().enumerate() {
            let line = s.text[..sec.start].matches('\n').count() + 1;
            let flag = if sec.prob >= d.threshold {
                "  spun"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {:>3}. from line {line:<5} {:>5} words  probability {:>6}{flag}\n",
                i + 1,
                sec.words,
                pct(sec.prob)
            ));
        }
    }
    if !d.evidence.is_empty() {
        out.push_str("evidence:\n");
        for e in &d.evidence {
            out.push_str(&format!("  {}\n", explain(e)));
        }
    }
    out.push('\n');
    out
}

/// Why a word looks spun, in one line.
fn explain(e: &WordScore) -> String {
    let rarity = if e.rarity <= -98.0 {
        "unknown to the language model".to_string()
    } else {
        format!("unigram 10^{:.1}", e.rarity)
    };
    format!(
        "{:?} -> {:?}  p {}  ({}, {} spinner; {rarity}; LM gain {:+.1} nats; LLR {:+.1})",
        e.text,
        e.original,
        pct(e.prob),
        e.relation,
        e.model,
        e.lm_gain,
        e.llr
    )
}

fn render_html_doc(s: &Scored, k: usize, word_threshold: f32) -> (String, String) {
    let d = &s.det;
    let verdict = if d.spun { "spun" } else { "clean" };
    let row = format!(
        "<tr class=\"{verdict}\"><td><a href=\"#doc{k}\">{}</a></td><td>{verdict}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(&s.name),
        pct(d.prob),
        d.words
    );
    let mut body = format!(
        "<section id=\"doc{k}\" class=\"{verdict}\"><h2>{} <span class=\"v\">{verdict}, probability {}</span></h2>\n",
        html_escape(&s.name),
        pct(d.prob)
    );
    if d.sections.len() > 1 {
        body.push_str("<div class=\"bar\">");
        for sec in &d.sections {
            body.push_str(&format!(
                "<span style=\"flex:{};background:rgba(204,51,51,{:.2})\" title=\"{} words, probability {}\"></span>",
                sec.words.max(1),
                sec.prob.clamp(0.05, 1.0),
                sec.words,
                pct(sec.prob)
            ));
        }
        body.push_str("</div>\n");
    }
    if d.spun {
        body.push_str("<pre>");
        let mut at = 0;
        for w in marked(s, word_threshold) {
            body.push_str(&html_escape(&s.text[at..w.start]));
            let tip = format!(
                "likely original: {} | p {} | {} ({} spinner) | LM gain {:+.1} nats",
                w.original,
                pct(w.prob),
                w.relation,
                w.model,
                w.lm_gain
            );
            body.push_str(&format!(
                "<mark style=\"opacity:{:.2}\" title=\"{}\"><del>{}</del><ins>{}</ins></mark>",
                0.55 + 0.45 * w.prob.clamp(0.0, 1.0),
                html_escape(&tip),
                html_escape(&w.text),
                html_escape(&w.original)
            ));
            at = w.end;
        }
        body.push_str(&html_escape(&s.text[at..]));
        body.push_str("</pre>\n");
        if !d.evidence.is_empty() {
            body.push_str("<details><summary>evidence</summary><ul>");
            for e in &d.evidence {
                body.push_str(&format!("<li>{}</li>", html_escape(&explain(e))));
            }
            body.push_str("</ul></details>\n");
        }
    }
    body.push_str("</section>\n");
    (row, body)
}

fn html_page(rows: &str, body: &str, docs: usize, spun: usize) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>unspin detect report</title>\n<style>\
body{{font:16px/1.6 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}}\
table{{border-collapse:collapse}}td,th{{padding:.1em .8em;border-bottom:1px solid #ddd;text-align:left}}\
tr.spun td:nth-child(2),section.spun .v{{color:#c33;font-weight:600}}.v{{font-size:.8em;color:#2a7}}\
pre{{white-space:pre-wrap;font:inherit}}mark{{background:#fde2e2;border-radius:3px}}\
del{{color:#b22}}ins{{color:#171;text-decoration:none;font-weight:600;margin-left:.2em}}ins::before{{content:\"\\2192 \"}}\
.bar{{display:flex;height:.6em;margin:.3em 0 1em;border:1px solid #ccc}}section{{margin-top:2em}}h2{{font-size:1.1em}}\
</style></head>\n<body><h1>unspin detect</h1><p>{docs} input{}, {spun} spun.</p>\n\
<table><tr><th>input</th><th>verdict</th><th>probability</th><th>words</th></tr>\n{rows}</table>\n{body}</body></html>\n",
        if docs == 1 { "" } else { "s" }
    )
}

// ---------------------------------------------------------------------------
// detect-bench
// ---------------------------------------------------------------------------

/// Arguments of the hidden `unspin detect-bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
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
    #[command(flatten)]
    pub model: ModelFlags,
}

/// (document length, (true positives, false positives, false negatives)) per document.
type WordCounts = Vec<(usize, (usize, usize, usize))>;

/// Nanoseconds this thread has spent on a CPU (Linux; 0 elsewhere).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `unspin detect-bench`.
pub fn run_bench(a: &BenchArgs) -> anyhow::Result<u8> {
    set_jobs(a.jobs)?;
    let t0 = Instant::now();
    let model = a.model.load()?;
    let calib = load_calibration(a.calibration.as_deref())?;
    let wn = unspin::models::embedded_wordnet()?;
    let text = std::fs::read_to_string(&a.corpus)
        .with_context(|| format!("reading {}", a.corpus.display()))?;
    let docs = read_jsonl_corpus(&text).with_context(|| a.corpus.display().to_string())?;
    if a.speed_only {
        let detector = Detector::new(&model, calib.clone());
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
        let s = speed_test(&detector, &model, &docs, a.speed_seconds);
        writeln!(
            std::io::stdout(),
            "one thread, {} words a round: scores {:.0} words/s ({:.0} CPU); with words {:.0}; restore {:.0}",
            s.words, s.score_wall, s.score_cpu, s.detect_wall, s.restore_wall
        )?;
        return Ok(crate::EXIT_OK);
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
    let detector = Detector::new(&model, calib.clone());
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
                || Restorer::new(&model, Options::default()),
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
    let speed = speed_test(&detector, &model, &docs, a.speed_seconds);

    let mut md = String::new();
    md.push_str(&format!(
        "Held-out corpus `{}`: {} documents, every domain ({}); pieces of {} words cut from running text; \
         each piece clean and spun by the news profile (default rate) and the synonym profile at 5%, 15% and 30% \
         (seeds 1-4 in turn), plus one spun 200-word passage inside each 1,000-word piece. Threshold {:.4} \
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
    Ok(crate::EXIT_OK)
}

struct Speed {
    words: usize,
    score_wall: f64,
    score_cpu: f64,
    detect_wall: f64,
    restore_wall: f64,
}

fn speed_test(
    detector: &Detector,
    model: &Model,
    docs: &[unspin::detect::CorpusDoc],
    seconds: f64,
) -> Speed {
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
    let sub: Vec<&unspin::detect::CorpusDoc> = docs.iter().step_by(10).collect();
    let sub_words: usize = sub.iter().map(|d| d.text.split_whitespace().count()).sum();
    let mut r = Restorer::new(model, Options::default());
    let t = Instant::now();
    for d in &sub {
        std::hint::black_box(r.restore_document(&d.text));
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
