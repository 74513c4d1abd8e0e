//! `unspin detect`: is a text machine-spun, and where?

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use unspin::detect::{DetectOptions, DetectStream, Detection, WordScore};
use unspin::input::ChunkReader;
use unspin::jsonl::ExactId;
use unspin::render::html_escape;
use unspin::render::stream::{copy_spool, JsonItems};

use crate::spool::Spool;

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
    /// A spinner learned by `unspin learn` (a .spinner file): the spun words
    /// and likely originals follow it (implies --restore; the document
    /// probability stays the calibrated one).
    #[arg(long, value_name = "FILE")]
    pub spinner: Option<PathBuf>,
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

    fn open(&self) -> anyhow::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Input::Stdin => Box::new(std::io::stdin()),
            Input::File(p) => {
                if p.is_dir() {
                    bail!("{}: is a directory", p.display());
                }
                Box::new(std::fs::File::open(p).with_context(|| p.display().to_string())?)
            }
        })
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

/// A scored input, rendered in the output format.
struct Scored {
    spun: bool,
    /// What to write for it (text and JSON), or its report section (HTML).
    rendered: Option<Spool>,
    /// Its row of the HTML report's table.
    row: String,
}

/// Everything that scores and renders one text.
struct Scorer {
    engine: unspin::Engine,
    opts: DetectOptions,
    format: Format,
    /// Only the verdict is needed (`-q`, `-l`): nothing is rendered.
    listing: bool,
    color: bool,
    word_threshold: f32,
    /// A section at least this probable is marked spun.
    threshold: f32,
}

impl Scorer {
    /// Detects one text read from `reader` piece by piece, and renders it.
    /// Memory stays at one piece: marked text and per-word scores go to a
    /// spool as they come. `k` numbers it in the HTML report.
    fn score(
        &self,
        reader: Box<dyn Read + Send>,
        name: &str,
        id: Option<&ExactId>,
        k: usize,
    ) -> anyhow::Result<Scored> {
        let mut stream = DetectStream::new(&self.engine, self.opts.clone());
        let mut chunks = ChunkReader::new(reader, name);
        let mut doc = DocParts {
            marked: crate::spool::new()?,
            sections: crate::spool::new()?,
            ..DocParts::default_parts()
        };
        while let Some((offset, chunk)) = chunks.next_chunk()? {
            let offset = offset as usize;
            let det = stream.push(&chunk, offset)?;
            if !self.listing {
                doc.add_piece(self, &chunk, offset, &det)?;
            }
        }
        let det = stream.finish();
        if self.listing {
            return Ok(Scored {
                spun: det.spun,
                rendered: None,
                row: String::new(),
            });
        }
        let mut out = crate::spool::new()?;
        let mut row = String::new();
        match self.format {
            Format::Text => render_text(&mut out, name, &det, &mut doc, self.color)?,
            Format::Json => {
                let v = unspin::render::detection_json(
                    &det,
                    self.word_threshold,
                    Some(name),
                    id.map(|i| i.value()),
                );
                let mut skeleton = serde_json::to_vec(&v)?;
                if let Some(id) = id {
                    skeleton = id.finish(skeleton);
                }
                let skeleton = String::from_utf8(skeleton)?;
                doc.items.flush(&mut doc.marked)?;
                doc.section_items.flush(&mut doc.sections)?;
                unspin::render::stream::write_spliced(
                    &mut out,
                    &skeleton,
                    &mut [
                        ("\"flagged\":[", &mut doc.marked),
                        ("\"sections\":[", &mut doc.sections),
                    ],
                )?;
                out.write_all(b"\n")?;
            }
            Format::Html => {
                row = render_html_doc(&mut out, name, &det, &mut doc, k)?;
            }
        }
        Ok(Scored {
            spun: det.spun,
            rendered: Some(out),
            row,
        })
    }
}

/// The parts of one text's output that grow with it, filled piece by piece.
struct DocParts {
    /// Text: the text with spun words marked; HTML: the same in markup;
    /// JSON: the `flagged` array's items.
    marked: Spool,
    items: JsonItems,
    /// Text: the "sections:" lines; HTML: the bar's spans; JSON: the
    /// `sections` array's items.
    sections: Spool,
    section_items: JsonItems,
    n_sections: usize,
    lines_before: usize,
    ends_with_newline: bool,
}

impl DocParts {
    fn default_parts() -> Self {
        Self {
            marked: tempfile::spooled_tempfile(0),
            items: JsonItems::default(),
            sections: tempfile::spooled_tempfile(0),
            section_items: JsonItems::default(),
            n_sections: 0,
            lines_before: 0,
            ends_with_newline: false,
        }
    }

    /// Adds the piece `chunk` at byte `offset` and its detection (offsets
    /// into the whole text).
    fn add_piece(
        &mut self,
        sc: &Scorer,
        chunk: &str,
        offset: usize,
        det: &Detection,
    ) -> anyhow::Result<()> {
        let mut lines = String::new();
        for sec in &det.sections {
            self.n_sections += 1;
            match sc.format {
                Format::Text => {
                    let before = &chunk[..sec.start - offset];
                    let line = self.lines_before + before.matches('\n').count() + 1;
                    let flag = if sec.prob >= sc.threshold {
                        "  spun"
                    } else {
                        ""
                    };
                    lines.push_str(&format!(
                        "  {:>3}. from line {line:<5} {:>5} words  probability {:>6}{flag}\n",
                        self.n_sections,
                        sec.words,
                        pct(sec.prob)
                    ));
                }
                Format::Html => lines.push_str(&format!(
                    "<span style=\"flex:{};background:rgba(204,51,51,{:.2})\" title=\"{} words, probability {}\"></span>",
                    sec.words.max(1),
                    sec.prob.clamp(0.05, 1.0),
                    sec.words,
                    pct(sec.prob)
                )),
                Format::Json => self.section_items.push(&mut self.sections, sec)?,
            }
        }
        self.sections.write_all(lines.as_bytes())?;
        self.lines_before += chunk.matches('\n').count();
        self.ends_with_newline = chunk.ends_with('\n');
        let mut at = 0;
        let mut piece = String::new();
        for w in marked(&det.flagged, sc.word_threshold) {
            let (start, end) = (w.start - offset, w.end - offset);
            match sc.format {
                Format::Text => {
                    piece.push_str(&chunk[at..start]);
                    if sc.color {
                        piece.push_str(&format!(
                            "\x1b[9;31m{}\x1b[0m\x1b[1;32m{}\x1b[0m",
                            w.text, w.original
                        ));
                    } else {
                        piece.push_str(&format!("[-{}-]{{+{}+}}", w.text, w.original));
                    }
                }
                Format::Html => {
                    piece.push_str(&html_escape(&chunk[at..start]));
                    let tip = format!(
                        "likely original: {} | p {} | {} ({} spinner) | LM gain {:+.1} nats",
                        w.original,
                        pct(w.prob),
                        w.relation,
                        w.model,
                        w.lm_gain
                    );
                    piece.push_str(&format!(
                        "<mark style=\"opacity:{:.2}\" title=\"{}\"><del>{}</del><ins>{}</ins></mark>",
                        0.55 + 0.45 * w.prob.clamp(0.0, 1.0),
                        html_escape(&tip),
                        html_escape(&w.text),
                        html_escape(&w.original)
                    ));
                }
                Format::Json => {}
            }
            at = end;
        }
        match sc.format {
            Format::Text => piece.push_str(&chunk[at..]),
            Format::Html => piece.push_str(&html_escape(&chunk[at..])),
            Format::Json => {
                for w in &det.flagged {
                    self.items.push(&mut self.marked, w)?;
                }
            }
        }
        self.marked.write_all(piece.as_bytes())?;
        Ok(())
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
        // Loaded (and checked) either way; listing modes need no word scores.
        spinner: match &args.spinner {
            Some(p) => Some(crate::cmd_learn::load_profile(p)?)
                .filter(|_| !listing)
                .map(|profile| engine.spinner_channel(&profile)),
            None => None,
        },
    };
    let word_threshold = engine.word_threshold(&opts);
    let threshold = opts
        .threshold
        .unwrap_or(engine.calibration().threshold as f32);
    let color = args.color.on_stdout();
    let scorer = Scorer {
        engine,
        opts,
        format: args.format,
        listing,
        color,
        word_threshold,
        threshold,
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
    let stdout = std::io::stdout();
    let mut out = Output {
        w: BufWriter::new(stdout.lock()),
        format: args.format,
        quiet: args.quiet,
        list: args.files_with_matches,
        html_rows: crate::spool::new()?,
        html_body: crate::spool::new()?,
        docs: 0,
        spun: 0,
    };
    let stop = AtomicBool::new(false);
    if args.jsonl {
        for input in &inputs {
            if let Err(e) = detect_jsonl(&scorer, input, args, &mut out, state, &stop) {
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
        // A batch of inputs at a time, in parallel, written in order: memory
        // stays at a batch of pieces however many inputs there are.
        let batch = rayon::current_num_threads() * 2;
        for (b, inputs) in inputs.chunks(batch).enumerate() {
            let results: Vec<Option<(String, anyhow::Result<Scored>)>> = inputs
                .par_iter()
                .enumerate()
                .map(|(i, input)| {
                    if stop.load(Ordering::Relaxed) {
                        return None;
                    }
                    let name = input.name();
                    let k = b * batch + i + 1;
                    let r = input
                        .open()
                        .and_then(|reader| scorer.score(reader, &name, None, k));
                    if args.quiet && r.as_ref().is_ok_and(|s| s.spun) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    pb.inc(1);
                    Some((name, r))
                })
                .collect();
            for (name, r) in results.into_iter().flatten() {
                match r {
                    Ok(s) => {
                        state.found |= s.spun;
                        out.emit(&name, s)?;
                    }
                    Err(e) => {
                        eprintln!("unspin: error: {}", crate::one_line(&e));
                        state.failed = true;
                    }
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        pb.finish_and_clear();
    }
    out.finish()?;
    Ok(())
}

/// Scores a JSONL corpus in batches, writing results in order.
fn detect_jsonl(
    scorer: &Scorer,
    input: &Input,
    args: &DetectArgs,
    out: &mut Output,
    state: &mut State,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let name = input.name();
    let size = match input {
        Input::Stdin => 0,
        Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, input.open()?);
    let pb = progress(size, args, "bytes");
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut any = false;
    let flush = |batch: &mut Vec<(usize, Vec<u8>)>,
                 out: &mut Output,
                 state: &mut State|
     -> anyhow::Result<()> {
        let first = out.docs;
        let results: Vec<Option<(String, anyhow::Result<Scored>)>> = batch
            .par_iter()
            .enumerate()
            .map(|(i, (lineno, line))| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let r = score_line(scorer, line, &name, *lineno, first + i + 1);
                if args.quiet && r.1.as_ref().is_ok_and(|s| s.spun) {
                    stop.store(true, Ordering::Relaxed);
                }
                Some(r)
            })
            .collect();
        pb.inc(batch.iter().map(|b| b.1.len() as u64 + 1).sum());
        batch.clear();
        for (label, r) in results.into_iter().flatten() {
            match r {
                Ok(s) => {
                    state.found |= s.spun;
                    out.emit(&label, s)?;
                }
                Err(e) => {
                    eprintln!("unspin: error: {}", crate::one_line(&e));
                    state.failed = true;
                }
            }
        }
        Ok(())
    };
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
                flush(&mut batch, out, state)?;
                bytes = 0;
                eprintln!("unspin: error: {}", crate::jsonl::too_long(&name, lineno));
                state.failed = true;
            }
        }
        if batch.len() >= crate::jsonl::BATCH_LINES || bytes >= crate::jsonl::BATCH_BYTES {
            flush(&mut batch, out, state)?;
            bytes = 0;
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

/// Scores line `lineno`; returns its label (`PATH:ID`, or `PATH:LINE`
/// without an id) and the result.
fn score_line(
    scorer: &Scorer,
    line: &[u8],
    name: &str,
    lineno: usize,
    k: usize,
) -> (String, anyhow::Result<Scored>) {
    let fallback = format!("{name}:{lineno}");
    let line = match std::str::from_utf8(line) {
        Ok(l) => l,
        Err(e) => {
            let e = anyhow::anyhow!("{name}:{lineno}: invalid UTF-8 at byte {}", e.valid_up_to());
            return (fallback, Err(e));
        }
    };
    let doc = match crate::jsonl::parse_line(line, name, lineno) {
        Ok(d) => d,
        Err(e) => return (fallback, Err(e)),
    };
    let label = match &doc.id {
        Some(id) => match id.as_str() {
            Some(s) => format!("{name}:{s}"),
            None => format!("{name}:{id}"),
        },
        None => fallback,
    };
    if doc.text.contains('\0') {
        let e = anyhow::anyhow!("{label}: binary data (NUL byte); unspin reads UTF-8 text");
        return (label, Err(e));
    }
    let text = doc.text.into_bytes();
    let r = scorer.score(
        Box::new(std::io::Cursor::new(text)),
        &label,
        doc.id.as_ref(),
        k,
    );
    (label, r)
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
    /// The HTML report's table rows and input sections, written at the end.
    html_rows: Spool,
    html_body: Spool,
    docs: usize,
    spun: usize,
}

impl Output<'_> {
    fn emit(&mut self, name: &str, s: Scored) -> anyhow::Result<()> {
        self.docs += 1;
        self.spun += s.spun as usize;
        if self.quiet {
            return Ok(());
        }
        if self.list {
            if s.spun {
                writeln!(self.w, "{name}")?;
            }
            return Ok(());
        }
        let Some(mut rendered) = s.rendered else {
            return Ok(());
        };
        match self.format {
            Format::Text | Format::Json => copy_spool(&mut rendered, &mut self.w)?,
            Format::Html => {
                self.html_rows.write_all(s.row.as_bytes())?;
                copy_spool(&mut rendered, &mut self.html_body)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.format == Format::Html && !self.quiet && !self.list {
            let (head, middle, tail) = html_page(self.docs, self.spun);
            self.w.write_all(head.as_bytes())?;
            copy_spool(&mut self.html_rows, &mut self.w)?;
            self.w.write_all(middle.as_bytes())?;
            copy_spool(&mut self.html_body, &mut self.w)?;
            self.w.write_all(tail.as_bytes())?;
        }
        self.w.flush()?;
        Ok(())
    }
}

/// The words shown as spun: at least `word_threshold`, none overlapping.
fn marked(flagged: &[WordScore], word_threshold: f32) -> Vec<&WordScore> {
    let mut at = 0;
    let mut out = Vec::new();
    for w in flagged {
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
fn render_text(
    out: &mut dyn Write,
    name: &str,
    d: &Detection,
    doc: &mut DocParts,
    color: bool,
) -> anyhow::Result<()> {
    let verdict = if d.spun { "SPUN" } else { "clean" };
    let verdict = match (color, d.spun) {
        (true, true) => format!("\x1b[1;31m{verdict}\x1b[0m"),
        (true, false) => format!("\x1b[32m{verdict}\x1b[0m"),
        _ => verdict.to_string(),
    };
    let mut head = format!(
        "{name}: {verdict} probability {} ({} words, {} section{}, threshold {})\n",
        pct(d.prob),
        d.words,
        doc.n_sections,
        if doc.n_sections == 1 { "" } else { "s" },
        pct(d.threshold)
    );
    if let Some(p) = d.phrases.as_ref().filter(|p| p.count > 0) {
        let list: Vec<String> = d
            .phrase_matches
            .iter()
            .map(|m| format!("\"{}\" -> \"{}\" ({})", m.spun, m.original, m.kind.name()))
            .collect();
        head.push_str(&format!(
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
        out.write_all(head.as_bytes())?;
        return Ok(());
    }
    head.push('\n');
    out.write_all(head.as_bytes())?;
    copy_spool(&mut doc.marked, out)?;
    let mut tail = String::new();
    if !doc.ends_with_newline {
        tail.push('\n');
    }
    tail.push('\n');
    if doc.n_sections > 1 {
        tail.push_str("sections:\n");
        out.write_all(tail.as_bytes())?;
        tail.clear();
        copy_spool(&mut doc.sections, out)?;
    }
    if !d.evidence.is_empty() {
        tail.push_str("evidence:\n");
        for e in &d.evidence {
            tail.push_str(&format!("  {}\n", explain(e)));
        }
    }
    tail.push('\n');
    out.write_all(tail.as_bytes())?;
    Ok(())
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

/// Writes one input's section of the HTML report to `out`; returns its
/// table row.
fn render_html_doc(
    out: &mut dyn Write,
    name: &str,
    d: &Detection,
    doc: &mut DocParts,
    k: usize,
) -> anyhow::Result<String> {
    let verdict = if d.spun { "spun" } else { "clean" };
    let row = format!(
        "<tr class=\"{verdict}\"><td><a href=\"#doc{k}\">{}</a></td><td>{verdict}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(name),
        pct(d.prob),
        d.words
    );
    let mut head = format!(
        "<section id=\"doc{k}\" class=\"{verdict}\"><h2>{} <span class=\"v\">{verdict}, probability {}</span></h2>\n",
        html_escape(name),
        pct(d.prob)
    );
    out.write_all(head.as_bytes())?;
    head.clear();
    if doc.n_sections > 1 {
        out.write_all(b"<div class=\"bar\">")?;
        copy_spool(&mut doc.sections, out)?;
        out.write_all(b"</div>\n")?;
    }
    let mut tail = String::new();
    if d.spun {
        head.push_str("<pre>");
        tail.push_str("</pre>\n");
        if !d.evidence.is_empty() {
            tail.push_str("<details><summary>evidence</summary><ul>");
            for e in &d.evidence {
                tail.push_str(&format!("<li>{}</li>", html_escape(&explain(e))));
            }
            tail.push_str("</ul></details>\n");
        }
    }
    tail.push_str("</section>\n");
    out.write_all(head.as_bytes())?;
    if d.spun {
        copy_spool(&mut doc.marked, out)?;
    }
    out.write_all(tail.as_bytes())?;
    Ok(row)
}

/// The HTML report around its table rows and input sections: what comes
/// before the rows, between them and the sections, and after.
fn html_page(docs: usize, spun: usize) -> (String, &'static str, &'static str) {
    let head = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>unspin detect report</title>\n<style>\
body{{font:16px/1.6 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}}\
table{{border-collapse:collapse}}td,th{{padding:.1em .8em;border-bottom:1px solid #ddd;text-align:left}}\
tr.spun td:nth-child(2),section.spun .v{{color:#c33;font-weight:600}}.v{{font-size:.8em;color:#2a7}}\
pre{{white-space:pre-wrap;font:inherit}}mark{{background:#fde2e2;border-radius:3px}}\
del{{color:#b22}}ins{{color:#171;text-decoration:none;font-weight:600;margin-left:.2em}}ins::before{{content:\"\\2192 \"}}\
.bar{{display:flex;height:.6em;margin:.3em 0 1em;border:1px solid #ccc}}section{{margin-top:2em}}h2{{font-size:1.1em}}\
</style></head>\n<body><h1>unspin detect</h1><p>{docs} input{}, {spun} spun.</p>\n\
<table><tr><th>input</th><th>verdict</th><th>probability</th><th>words</th></tr>\n",
        if docs == 1 { "" } else { "s" }
    );
    (head, "</table>\n", "</body></html>\n")
}
