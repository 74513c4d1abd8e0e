//! `unspin-build`: builds unspin's model files from public sources.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use unspin::lm::LanguageModel;

mod calibrate_cmd;
mod lexicon_cmd;
mod lmtrain_cmd;
mod phrases_cmd;
mod wordnet_cmd;

#[derive(Parser)]
#[command(name = "unspin-build", version, about = "Builds unspin's model files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Converts a trigram language model (CMU Sphinx binary or ARPA) to unspin's format.
    Lm(LmArgs),
    /// Parses the Princeton WordNet 3.0 files into unspin's compact WordNet file.
    Wordnet {
        /// Folder holding data.noun, index.noun, ... (Debian: /usr/share/wordnet).
        #[arg(long, value_name = "DIR", default_value = "/usr/share/wordnet")]
        dict: PathBuf,
        /// Output file.
        #[arg(long, value_name = "FILE", default_value = "models/wordnet.unspin")]
        out: PathBuf,
    },
    /// Builds the channel lexicon (spun word -> originals) from WordNet and the LM vocabulary.
    Lexicon {
        /// WordNet file from `unspin-build wordnet`.
        #[arg(long, value_name = "FILE", default_value = "models/wordnet.unspin")]
        wordnet: PathBuf,
        /// Language model whose vocabulary limits the originals.
        #[arg(long, value_name = "FILE", default_value = "models/lm.unspin")]
        lm: PathBuf,
        /// Output file.
        #[arg(long, value_name = "FILE", default_value = "models/lexicon.unspin")]
        out: PathBuf,
        /// Learn the news channel from one half of the news table only: "a"
        /// (what `unspin bench` builds for its held-out rows) or "all".
        #[arg(long, value_name = "HALF", default_value = "all")]
        half: String,
        /// With --half: probability that a WordNet-style spinner replaces an
        /// original outside the half (0: never proposed as an original).
        #[arg(long, value_name = "P", default_value_t = 0.0)]
        unseen_replace: f32,
    },
    /// Fits the detector's calibration (logistic regression) on the training split.
    Calibrate(Box<calibrate_cmd::CalibrateArgs>),
    /// Trains a Kneser-Ney trigram model on plain text.
    LmTrain(lmtrain_cmd::TrainArgs),
    /// Interpolates two language models into one back-off model.
    LmMix(lmtrain_cmd::MixArgs),
    /// Perplexity of language models on a text.
    LmPpl(lmtrain_cmd::PplArgs),
    /// Builds the tortured-phrase model (known phrases, word candidates, terms).
    Phrases(phrases_cmd::PhrasesArgs),
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["sphinx", "arpa"]))]
struct LmArgs {
    /// CMU Sphinx / PocketSphinx binary trie model, e.g.
    /// /usr/share/pocketsphinx/model/en-us/en-us.lm.bin
    #[arg(long, value_name = "LM_BIN")]
    sphinx: Option<PathBuf>,
    /// ARPA text model (orders above 3 are ignored).
    #[arg(long, value_name = "ARPA")]
    arpa: Option<PathBuf>,
    /// Output file.
    #[arg(long, value_name = "FILE", default_value = "models/lm.unspin")]
    out: PathBuf,
    /// zstd compression level (1-22).
    #[arg(long, default_value_t = 19, value_parser = clap::value_parser!(i32).range(1..=22))]
    level: i32,
}

fn build_lm(a: &LmArgs) -> Result<()> {
    let t = Instant::now();
    let lm = if let Some(p) = &a.sphinx {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        LanguageModel::from_sphinx_bin(&bytes)
            .with_context(|| format!("reading {}", p.display()))?
    } else {
        let p = a.arpa.as_ref().expect("clap requires a source");
        let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
        LanguageModel::from_arpa(std::io::BufReader::with_capacity(1 << 20, f))
            .with_context(|| format!("reading {}", p.display()))?
    };
    eprintln!("read in {:.2?}: {}", t.elapsed(), lm.stats());
    let t = Instant::now();
    let bytes = lm.to_bytes_with_level(a.level);
    eprintln!(
        "compressed at zstd level {} in {:.2?}",
        a.level,
        t.elapsed()
    );
    write_file(&a.out, &bytes)?;
    // Check the file loads back to the same model.
    let t = Instant::now();
    let back = LanguageModel::from_bytes(&bytes).context("reloading the written model")?;
    anyhow::ensure!(
        back.stats() == lm.stats(),
        "reloaded model differs from the built one"
    );
    eprintln!("reload check passed in {:.2?}", t.elapsed());
    println!("wrote {} ({} bytes)", a.out.display(), bytes.len());
    Ok(())
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Lm(a) => build_lm(a),
        Command::Wordnet { dict, out } => wordnet_cmd::run(dict, out),
        Command::Lexicon {
            wordnet,
            lm,
            out,
            half,
            unseen_replace,
        } => lexicon_cmd::run(wordnet, lm, out, half, *unseen_replace),
        Command::Calibrate(a) => calibrate_cmd::run(a),
        Command::LmTrain(a) => lmtrain_cmd::run_train(a),
        Command::LmMix(a) => lmtrain_cmd::run_mix(a),
        Command::LmPpl(a) => lmtrain_cmd::run_ppl(a),
        Command::Phrases(a) => phrases_cmd::run(a),
    }
}
