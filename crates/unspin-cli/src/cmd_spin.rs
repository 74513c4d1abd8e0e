//! `unspin spin`: make spun text (with a known alignment) from original text,
//! with a simulator of the real news spinner, a generic synonym spinner, an
//! autoblog phrase thesaurus, a paper mill's paraphraser, or a chain of them;
//! or expand spintax.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use unspin::halves::Half;
use unspin::spinner::{expand_spintax, AlignedChange, Chain, SpintaxChoice};
use unspin::tortured::simulate::PhraseSpinner;
use unspin::wordnet::WordNet;

/// The simulator a profile runs.
enum Sim<'a> {
    Words(Chain<'a>),
    Phrases(PhraseSpinner),
}

impl Sim<'_> {
    fn spin(&self, text: &str) -> unspin::spinner::Spun {
        match self {
            Sim::Words(s) => s.spin(text),
            Sim::Phrases(s) => s.spin(text),
        }
    }
}

/// The profiles `--profile` takes, for its help and its check.
const PROFILES: &str = "news, synonym, phrase, tortured, or a chain such as phrase,news";

/// Arguments of `unspin spin`.
#[derive(clap::Args, Debug, Clone)]
pub struct SpinArgs {
    /// Input files (UTF-8 text); standard input when none is given or for "-".
    pub files: Vec<PathBuf>,
    /// Spinner profile: `news` (the real news spinner: per-type WordNet
    /// replacements, sense-order rule), `synonym` (random WordNet synonyms
    /// for a share of content words), `phrase` (an autoblog phrase
    /// thesaurus: spans of 1-4 words, "N of the M" reorders, capitals,
    /// attached punctuation and digits touched), `tortured` (a paper mill's
    /// paraphraser: terms of the tortured-phrase list), or a chain of the
    /// first three applied in order, such as `phrase,news`.
    #[arg(long, value_name = "PROFILE", default_value = "news")]
    pub profile: String,
    /// synonym: probability that an eligible word is replaced (default 0.15).
    /// news: share of dictionary word types the spinner replaces (default 0.80).
    /// phrase: probability that a span the thesaurus knows is rewritten (default 0.9).
    /// tortured: probability that a term occurrence is replaced (default 1.0).
    /// In a chain, every stage takes it.
    #[arg(long, value_parser = crate::args::unit_f64)]
    pub rate: Option<f64>,
    /// Seed of every random choice; the same seed gives the same output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the alignment (one JSON object per changed span, with byte offsets
    /// into the original and the spun text) to this JSONL file.
    #[arg(long, value_name = "PATH.jsonl")]
    pub alignment: Option<PathBuf>,
    /// The half of the spinner's table to use: "a" (the half models learn
    /// from), "b" (the held-out half benchmarks spin with) or "all" (see
    /// docs/BENCHMARKS.md, "Held-out dictionaries").
    #[arg(long, value_name = "HALF", default_value = "all")]
    pub half: String,
    /// Print spintax `{original|spun}` instead of the spun text.
    #[arg(long, conflicts_with = "from_spintax")]
    pub spintax: bool,
    /// Read the input as spintax and print one random expansion (the first
    /// alternatives count as the original for --alignment).
    #[arg(long)]
    pub from_spintax: bool,
}

#[derive(Serialize)]
struct AlignmentLine<'a> {
    /// The input the change belongs to ("-" for standard input).
    doc: &'a str,
    #[serde(flatten)]
    change: &'a AlignedChange,
}

/// Opens an input: a file, or standard input for `None` and "-". Returns
/// the reader, the name alignments carry ("-" for standard input) and the
/// name errors show.
fn open_input(path: Option<&Path>) -> anyhow::Result<(Box<dyn Read>, String, String)> {
    match path {
        None => Ok((Box::new(std::io::stdin()), "-".into(), "<stdin>".into())),
        Some(p) if p.as_os_str() == "-" => open_input(None),
        Some(p) => {
            let name = p.display().to_string();
            if p.is_dir() {
                anyhow::bail!("{name}: is a directory");
            }
            let f = std::fs::File::open(p).with_context(|| format!("reading {name}"))?;
            Ok((Box::new(f), name.clone(), name))
        }
    }
}

/// Writes `changes` to the alignment file, if any, with their offsets
/// shifted by `orig_at` (original) and `spun_at` (spun text).
fn write_alignment(
    align: Option<&mut std::io::BufWriter<std::fs::File>>,
    doc: &str,
    changes: &[AlignedChange],
    orig_at: usize,
    spun_at: usize,
) -> anyhow::Result<()> {
    let Some(w) = align else {
        return Ok(());
    };
    for c in changes {
        let change = AlignedChange {
            orig_start: c.orig_start + orig_at,
            orig_end: c.orig_end + orig_at,
            spun_start: c.spun_start + spun_at,
            spun_end: c.spun_end + spun_at,
            ..c.clone()
        };
        serde_json::to_writer(
            &mut *w,
            &AlignmentLine {
                doc,
                change: &change,
            },
        )?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Runs `unspin spin`.
pub fn run(args: &SpinArgs, wn: &WordNet) -> anyhow::Result<()> {
    let half = Half::parse_set(&args.half).map_err(|e| crate::Usage(e.to_string()))?;
    let spinner = if args.profile == "tortured" {
        let rate = args.rate.unwrap_or(1.0);
        let pm = unspin::models::embedded_phrases()?;
        Sim::Phrases(PhraseSpinner::new(
            pm.pairs()
                .filter(|p| unspin::halves::in_half(p.1, half))
                .map(|(t, o, _)| (t, o)),
            rate,
            args.seed,
        ))
    } else {
        // Worded like clap's own errors for the flags it checks.
        if let Some(bad) = args
            .profile
            .split(',')
            .find(|p| !["news", "synonym", "phrase"].contains(&p.trim()))
        {
            return Err(crate::Usage(format!(
                "invalid value '{bad}' for '--profile <PROFILE>': use {PROFILES}"
            ))
            .into());
        }
        let chain = Chain::from_names(wn, &args.profile, args.rate, args.seed, half)
            .map_err(|e| crate::Usage(format!("--profile: {e}")))?;
        Sim::Words(chain)
    };
    let inputs: Vec<Option<&Path>> = if args.files.is_empty() {
        vec![None]
    } else {
        args.files.iter().map(|p| Some(p.as_path())).collect()
    };

    let mut align = match &args.alignment {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());

    for input in inputs {
        let (reader, name, shown) = open_input(input)?;
        if args.from_spintax {
            // A spintax group may span lines: the template is read whole,
            // up to one document's cap.
            let text = unspin::input::read_document(reader, &shown)?;
            let exp = expand_spintax(&text, SpintaxChoice::Random(args.seed))
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            out.write_all(exp.text.as_bytes())
                .context("writing standard output")?;
            write_alignment(align.as_mut(), &name, &exp.changes, 0, 0)?;
            continue;
        }
        // Spun piece by piece (refused as `unspin restore` refuses input:
        // empty, binary or not UTF-8, with the same wording); the alignment
        // offsets are shifted to the whole input and the whole output.
        let mut chunks = unspin::input::ChunkReader::new(reader, &shown);
        let mut spun_at = 0;
        while let Some((offset, chunk)) = chunks.next_chunk()? {
            let spun = spinner.spin(&chunk);
            let printed = if args.spintax {
                spun.to_spintax(&chunk)
            } else {
                spun.text.clone()
            };
            out.write_all(printed.as_bytes())
                .context("writing standard output")?;
            write_alignment(
                align.as_mut(),
                &name,
                &spun.changes,
                offset as usize,
                spun_at,
            )?;
            spun_at += spun.text.len();
        }
    }
    out.flush().context("writing standard output")?;
    if let Some(mut w) = align {
        w.flush().context("writing the alignment file")?;
    }
    Ok(())
}
