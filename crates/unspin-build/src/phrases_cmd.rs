//! `unspin-build phrases`: the tortured-phrase model from the Problematic
//! Paper Screener list, a clean scientific corpus and WordNet.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use unspin::tortured::{self, Half};
use unspin::wordnet::WordNet;

/// Arguments of `unspin-build phrases`.
#[derive(Args)]
pub struct PhrasesArgs {
    /// The list, `tortured<TAB>original` per line (`../shared/tortured/pps-dictionary.tsv`).
    #[arg(long, value_name = "FILE")]
    pub list: PathBuf,
    /// Clean scientific text, JSON Lines `{"id","text"}` (the training half of
    /// the clean benchmark's science domain); may be given more than once.
    #[arg(long, value_name = "FILE")]
    pub corpus: Vec<PathBuf>,
    /// WordNet file from `unspin-build wordnet`.
    #[arg(long, value_name = "FILE", default_value = "models/wordnet.unspin")]
    pub wordnet: PathBuf,
    /// The half of the list candidates and terms are learned from (the other
    /// is held out of everything but the known-phrase table).
    #[arg(long, value_name = "HALF", default_value = "a")]
    pub learn_from: String,
    /// Output file.
    #[arg(long, value_name = "FILE", default_value = "models/phrases.unspin")]
    pub out: PathBuf,
}

fn read_jsonl_texts(path: &Path) -> Result<Vec<String>> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
        let text = v
            .get("text")
            .and_then(|t| t.as_str())
            .with_context(|| format!("{}:{}: no \"text\" string", path.display(), i + 1))?;
        out.push(text.to_string());
    }
    Ok(out)
}

/// Builds the phrase model.
pub fn run(a: &PhrasesArgs) -> Result<()> {
    let t = Instant::now();
    let learn_from = Half::from_name(&a.learn_from)?;
    let raw = std::fs::read_to_string(&a.list)
        .with_context(|| format!("reading {}", a.list.display()))?;
    let pairs =
        tortured::parse_pps(&raw).with_context(|| format!("parsing {}", a.list.display()))?;
    let wn =
        WordNet::load(&a.wordnet).with_context(|| format!("loading {}", a.wordnet.display()))?;
    let mut texts = Vec::new();
    for p in &a.corpus {
        texts.extend(read_jsonl_texts(p)?);
    }
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let model = tortured::model::build(&pairs, learn_from, texts.iter().map(|s| s.as_str()), &wn);
    let bytes = model.to_bytes();
    crate::write_file(&a.out, &bytes)?;
    let back =
        tortured::PhraseModel::from_bytes(&bytes).context("reloading the written phrase model")?;
    anyhow::ensure!(
        back.stats() == model.stats(),
        "reloaded phrase model differs"
    );
    let (listed, cands, terms) = model.stats();
    let in_half = pairs
        .iter()
        .filter(|p| unspin::halves::in_half(&p.original, Some(learn_from)))
        .count();
    println!(
        "wrote {} ({} bytes): {} pairs ({in_half} in half {}), {listed} listed phrases, \
         {cands} candidate words, {terms} terms from {words} corpus words, in {:.1?}",
        a.out.display(),
        bytes.len(),
        pairs.len(),
        learn_from.name(),
        t.elapsed()
    );
    Ok(())
}
