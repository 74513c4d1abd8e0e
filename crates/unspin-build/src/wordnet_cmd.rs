//! `unspin-build wordnet`: parses a Princeton WordNet dictionary directory
//! (e.g. Debian's `wordnet-base`, `/usr/share/wordnet`) into an unspin model
//! file of kind `WNET`.

use std::path::Path;

use anyhow::Context;
use unspin::wordnet::WordNet;

/// Builds `out` from the dictionary files in `dict`, then reads it back to check it.
pub fn run(dict: &Path, out: &Path) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let wn = WordNet::from_dict_dir(dict)
        .with_context(|| format!("reading WordNet from {}", dict.display()))?;
    let bytes = wn.to_bytes();
    if let Some(parent) = out.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let back = WordNet::from_bytes(&bytes).context("reading the written model back")?;
    anyhow::ensure!(
        back.lemma_count() == wn.lemma_count() && back.synset_count() == wn.synset_count(),
        "model read back differs from what was written"
    );
    eprintln!(
        "wordnet: {} lemmas, {} synsets, {} pointers -> {} ({} bytes) in {:.1}s",
        wn.lemma_count(),
        wn.synset_count(),
        wn.pointer_count(),
        out.display(),
        bytes.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
