//! `lm-train`, `lm-mix` and `lm-ppl`: training a Kneser-Ney trigram model on
//! plain text, interpolating it with another model, and measuring perplexity.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use unspin::lm::train::{perplexity, train, TrainOptions, UNK};
use unspin::lm::LanguageModel;

use crate::write_file;

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// Plain text to train on (e.g. data/corpus/train.txt; never the held-out split).
    #[arg(long, value_name = "FILE")]
    text: PathBuf,
    /// Output model file (unspin format).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Leave out trigrams seen fewer times than this.
    #[arg(long, default_value_t = 1)]
    min_trigram_count: u32,
    /// Leave out bigrams seen fewer times than this (unless a kept trigram needs them).
    #[arg(long, default_value_t = 1)]
    min_bigram_count: u32,
    /// zstd compression level (1-22).
    #[arg(long, default_value_t = 19, value_parser = clap::value_parser!(i32).range(1..=22))]
    level: i32,
}

#[derive(Args)]
pub(crate) struct MixArgs {
    /// Model given weight `lambda`.
    #[arg(long, value_name = "FILE", default_value = "models/lm.unspin")]
    base: PathBuf,
    /// Model given weight `1 - lambda`.
    #[arg(long, value_name = "FILE")]
    other: PathBuf,
    /// Weight of the base model.
    #[arg(long, default_value_t = 0.7)]
    lambda: f64,
    /// Output model file (unspin format).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// zstd compression level (1-22).
    #[arg(long, default_value_t = 19, value_parser = clap::value_parser!(i32).range(1..=22))]
    level: i32,
}

#[derive(Args)]
pub(crate) struct PplArgs {
    /// Models to compare (any format `unspin` loads).
    #[arg(long = "lm", value_name = "FILE", required = true)]
    lms: Vec<PathBuf>,
    /// Text to score.
    #[arg(long, value_name = "FILE")]
    text: PathBuf,
}

fn load(p: &Path) -> Result<LanguageModel> {
    let t = Instant::now();
    let lm = LanguageModel::load_path(p).with_context(|| format!("loading {}", p.display()))?;
    eprintln!(
        "loaded {} in {:.2?}: {}",
        p.display(),
        t.elapsed(),
        lm.stats()
    );
    Ok(lm)
}

fn save(lm: &LanguageModel, out: &Path, level: i32) -> Result<()> {
    let t = Instant::now();
    let bytes = lm.to_bytes_with_level(level);
    eprintln!("compressed at zstd level {level} in {:.2?}", t.elapsed());
    write_file(out, &bytes)?;
    let t = Instant::now();
    let back = LanguageModel::from_bytes(&bytes).context("reloading the written model")?;
    anyhow::ensure!(
        back.stats() == lm.stats(),
        "reloaded model differs from the built one"
    );
    eprintln!("reload check passed in {:.2?}", t.elapsed());
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

pub(crate) fn run_train(a: &TrainArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.text)
        .with_context(|| format!("reading {}", a.text.display()))?;
    let t = Instant::now();
    let opts = TrainOptions {
        min_trigram_count: a.min_trigram_count,
        min_bigram_count: a.min_bigram_count,
    };
    let lm = train(&text, &opts).context("training")?;
    eprintln!("trained in {:.2?}: {}", t.elapsed(), lm.stats());
    save(&lm, &a.out, a.level)
}

pub(crate) fn run_mix(a: &MixArgs) -> Result<()> {
    let base = load(&a.base)?;
    let other = load(&a.other)?;
    let t = Instant::now();
    let lm = LanguageModel::mix(&base, &other, a.lambda).context("mixing")?;
    eprintln!(
        "mixed (lambda {}) in {:.2?}: {}",
        a.lambda,
        t.elapsed(),
        lm.stats()
    );
    save(&lm, &a.out, a.level)
}

pub(crate) fn run_ppl(a: &PplArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.text)
        .with_context(|| format!("reading {}", a.text.display()))?;
    let lms: Vec<LanguageModel> = a.lms.iter().map(|p| load(p)).collect::<Result<_>>()?;
    // "common": tokens every model knows (not <unk> to any of them).
    let known = |w: &str| w != UNK && lms.iter().all(|lm| lm.id(w).is_some());
    println!("model\tsentences\ttokens\toov\tppl_all\tcommon_tokens\tppl_common");
    for (p, lm) in a.lms.iter().zip(&lms) {
        let r = perplexity(lm, &text, known);
        println!(
            "{}\t{}\t{}\t{}\t{:.2}\t{}\t{:.2}",
            p.display(),
            r.sentences,
            r.tokens,
            r.oov,
            r.all(),
            r.tokens_kept,
            r.kept()
        );
    }
    Ok(())
}
