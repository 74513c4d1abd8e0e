//! `unspin detect`: is a text machine-spun, and where?

use std::io::{BufRead, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use unspin::detect::{DetectOptions, Detection, WordScore};
use unspin::render::html_escape;

use crate::args::Color;
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
    #[arg(long, short, value_parser = crate::args::unit)]
    pub threshold: Option<f32>,
    /// Treat each input as a JSONL corpus: one {"id": .., "text": ..} object per line.
    #[arg(long)]
    pub jsonl: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short, value_name = "N", value_parser = crate::args::at_least_one)]
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
struct Scorer {
    engine: unspin::Engine,
    opts: DetectOptions,
}

impl Scorer {
    fn score(&self, text: &str) -> anyhow::Result<Detection> {
        Ok(self.engine.detect(text, &self.opts)?)
    }
}

fn run_inner(args: &DetectArgs, state: &mut State) -> anyhow::Result<()> {
    crate::args::set_jobs(args.jobs);
    let listing = args.quiet || args.files_with_matches;
    // The document probability does not depend on the quality mode, so
    // listing modes never need the neural model.
    let quality = if listing {
        crate::quality::QualityFlags::default()
    } else {
        args.quality.clone()
    };
    let engine = quality.engine(&args.model, || {
        crate::models::load_calibration(args.calibration.as_deref())
    })?;
    let opts = DetectOptions {
        threshold: args.threshold,
        evidence: args.evidence,
        word_floor: 0.05,
        words: !listing,
        restore: args.restore && !listing,
        quality: quality.quality,
    };
    let word_threshold = engine.word_threshold(&opts);
    let engine = Scorer { engine, opts };
    let mut errors = Vec::new();
    let inputs = collect_inputs(&args.files, &mut errors);
    for e in errors {
        eprintln!("unspin: error: {e}");
        state.failed = true;
    }
    if inputs.iter().filter(|i| matches!(i, Input::Stdin)).count() > 1 {
        bail!("standard input ('-') can be named only once");
    }
    let color = args.color.on_stdout();
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
            .map(|input| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let r = score_input(&engine, input);
                if args.quiet && r.as_ref().is_ok_and(|s| s.det.spun) {
                    stop.store(true, Ordering::Relaxed);
                }
                pb.inc(1);
                Some(r)
            })
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

fn score_input(engine: &Scorer, input: &Input) -> anyhow::Result<Scored> {
    let name = input.name();
    let bytes = input.read()?;
    let text = unspin::input::check_text(&bytes, &name)?;
    let det = engine.score(text)?;
    Ok(Scored {
        name,
        id: None,
        text: text.to_string(),
        det,
    })
}

/// Scores a JSONL corpus in batches, writing results in order.
fn detect_jsonl(
    engine: &Scorer,
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
            .map(|(lineno, line)| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let r = score_line(engine, line, &name, *lineno);
                if args.quiet && r.as_ref().is_ok_and(|s| s.det.spun) {
                    stop.store(true, Ordering::Relaxed);
                }
                Some(r)
            })
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

fn score_line(engine: &Scorer, line: &[u8], name: &str, lineno: usize) -> anyhow::Result<Scored> {
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
    let det = engine.score(&doc.text)?;
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
