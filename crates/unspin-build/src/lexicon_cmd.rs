//! `unspin-build lexicon`: the channel model from WordNet and the language model's vocabulary.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use unspin::lexicon::Lexicon;
use unspin::lm::LanguageModel;
use unspin::wordnet::WordNet;

/// Builds `out` from a WordNet model file and a language model file, the
/// news channel from the originals of `half` ("a", "b" or "all").
pub fn run(wordnet: &Path, lm: &Path, out: &Path, half: &str, unseen_replace: f32) -> Result<()> {
    let half = unspin::halves::Half::parse_set(half)?;
    let t = Instant::now();
    let wn = WordNet::load(wordnet).with_context(|| format!("loading {}", wordnet.display()))?;
    let lm = LanguageModel::load_path(lm).with_context(|| format!("loading {}", lm.display()))?;
    let lex = Lexicon::build_for_lm(&wn, &lm, half, unseen_replace);
    let (words, pairs) = lex.stats();
    let bytes = lex.to_bytes();
    crate::write_file(out, &bytes)?;
    // The file must load back to the same tables.
    let back = Lexicon::from_bytes(&bytes).context("reloading the written lexicon")?;
    anyhow::ensure!(back.stats() == lex.stats(), "reloaded lexicon differs");
    println!(
        "wrote {} ({} bytes): {words} words, {pairs} (spun, original) pairs, in {:.1?}",
        out.display(),
        bytes.len(),
        t.elapsed()
    );
    Ok(())
}
