//! `unspin spin`: make spun text (with a known alignment) from original text,
//! with a simulator of the real news spinner or a generic synonym spinner, or
//! expand spintax.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use unspin::spinner::{expand_spintax, AlignedChange, Profile, Spinner, SpintaxChoice};
use unspin::tortured::simulate::PhraseSpinner;
use unspin::tortured::Half;
use unspin::wordnet::WordNet;

/// The simulator a profile runs.
enum Sim<'a> {
    Words(Spinner<'a>),
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

/// Which spinner to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SpinProfile {
    /// The real news spinner's behaviour (per-type WordNet replacements, sense-order rule).
    News,
    /// A generic spinner: random WordNet synonyms for a share of content words, re-inflected.
    Synonym,
    /// A paper mill's paraphraser: technical terms of the embedded tortured-phrase
    /// list replaced by their tortured forms ("random forest" -> "arbitrary timberland").
    Tortured,
}

/// Arguments of `unspin spin`.
#[derive(clap::Args, Debug, Clone)]
pub struct SpinArgs {
    /// Input files (UTF-8 text); standard input when none is given or for "-".
    pub files: Vec<PathBuf>,
    /// Spinner profile.
    #[arg(long, value_enum, default_value_t = SpinProfile::News)]
    pub profile: SpinProfile,
    /// synonym: probability that an eligible word is replaced (default 0.15).
    /// news: share of dictionary word types the spinner replaces (default 0.80).
    /// tortured: probability that a term occurrence is replaced (default 1.0).
    #[arg(long, value_parser = crate::args::unit_f64)]
    pub rate: Option<f64>,
    /// Seed of every random choice; the same seed gives the same output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the alignment (one JSON object per changed span, with byte offsets
    /// into the original and the spun text) to this JSONL file.
    #[arg(long, value_name = "PATH.jsonl")]
    pub alignment: Option<PathBuf>,
    /// tortured: the half of the list to draw from ("a", "b" or "all"; the
    /// halves are defined in docs/BENCHMARKS.md, "Tortured phrases").
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

fn read_input(path: Option<&Path>) -> anyhow::Result<(String, String)> {
    let (name, bytes) = match path {
        None => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .context("reading standard input")?;
            ("-".to_string(), b)
        }
        Some(p) if p.as_os_str() == "-" => return read_input(None),
        Some(p) => (
            p.display().to_string(),
            std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        ),
    };
    // Refused as `unspin restore` refuses it: empty, binary or not UTF-8,
    // with the same wording.
    let shown = if name == "-" { "<stdin>" } else { &name };
    let text = unspin::input::check_text(&bytes, shown)?.to_string();
    Ok((name, text))
}

fn profile_of(args: &SpinArgs) -> anyhow::Result<Profile> {
    let name = match args.profile {
        SpinProfile::News => "news",
        SpinProfile::Synonym => "synonym",
        SpinProfile::Tortured => unreachable!("the tortured profile has no WordNet spinner"),
    };
    Ok(Profile::from_name(name, args.rate)?)
}

/// Runs `unspin spin`.
pub fn run(args: &SpinArgs, wn: &WordNet) -> anyhow::Result<()> {
    let spinner = if args.profile == SpinProfile::Tortured {
        let halves = match args.half.as_str() {
            "all" => vec![Half::A, Half::B],
            h => vec![Half::from_name(h)?],
        };
        let rate = args.rate.unwrap_or(1.0);
        let pm = unspin::models::embedded_phrases()?;
        Sim::Phrases(PhraseSpinner::new(
            pm.pairs()
                .filter(|p| halves.contains(&p.2))
                .map(|(t, o, _)| (t, o)),
            rate,
            args.seed,
        ))
    } else {
        Sim::Words(Spinner::new(wn, profile_of(args)?, args.seed))
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
        let (name, text) = read_input(input)?;
        let (printed, changes) = if args.from_spintax {
            let exp = expand_spintax(&text, SpintaxChoice::Random(args.seed))
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            (exp.text, exp.changes)
        } else {
            let spun = spinner.spin(&text);
            let printed = if args.spintax {
                spun.to_spintax(&text)
            } else {
                spun.text
            };
            (printed, spun.changes)
        };
        out.write_all(printed.as_bytes())
            .context("writing standard output")?;
        if let Some(w) = align.as_mut() {
            for change in &changes {
                serde_json::to_writer(&mut *w, &AlignmentLine { doc: &name, change })?;
                w.write_all(b"\n")?;
            }
        }
    }
    out.flush().context("writing standard output")?;
    if let Some(mut w) = align {
        w.flush().context("writing the alignment file")?;
    }
    Ok(())
}
