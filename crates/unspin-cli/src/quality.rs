//! `--quality default|best`, shared by `restore`, `detect` and `bench`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use unspin::rescore::ContextScorer;
use unspin::restore::{Restoration, Restorer};

/// Restoration quality.
#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum Quality {
    /// The embedded trigram model alone (fast; nothing to install).
    #[default]
    Default,
    /// Uncertain words rescored, and synonym-spun words looked for among all their WordNet synonyms, by the neural model SmolLM2-135M (slower; install it first with scripts/install-neural-model.sh).
    Best,
}

/// Flags that choose the quality mode.
#[derive(Args, Clone, Debug, Default)]
pub struct QualityFlags {
    /// `best` rescores uncertain words with a neural language model (SmolLM2-135M on the CPU).
    #[arg(long, value_enum, default_value_t = Quality::Default)]
    pub quality: Quality,
    /// GGUF file of the neural model for `--quality best` [default: $UNSPIN_NEURAL_MODEL, else $XDG_DATA_HOME/unspin/neural/SmolLM2-135M-Instruct.Q4_1.gguf]
    #[arg(long, value_name = "FILE")]
    pub neural_model: Option<PathBuf>,
}

impl QualityFlags {
    /// Loads the neural model when `--quality best` asks for it.
    pub fn load(&self) -> anyhow::Result<Option<unspin_neural::NeuralLm>> {
        if self.quality == Quality::Default {
            return Ok(None);
        }
        let path = self
            .neural_model
            .clone()
            .unwrap_or_else(unspin_neural::default_model_path);
        // The error names the file and how to install the model.
        let lm = unspin_neural::NeuralLm::load(&path).context("--quality best")?;
        Ok(Some(lm))
    }

    /// Runs `load_rest` (the trigram model, the calibration) while the
    /// neural model loads on another thread: the two loads take similar
    /// time, so `--quality best` starts about half a second sooner. Errors
    /// of `load_rest` come first, as they would in sequence.
    pub fn load_alongside<T: Send>(
        &self,
        load_rest: impl FnOnce() -> anyhow::Result<T> + Send,
    ) -> anyhow::Result<(T, Option<unspin_neural::NeuralLm>)> {
        if self.quality == Quality::Default {
            return Ok((load_rest()?, None));
        }
        std::thread::scope(|s| {
            let neural = s.spawn(|| self.load());
            let rest = load_rest();
            let neural = neural
                .join()
                .map_err(|_| anyhow::anyhow!("--quality best: loading the neural model failed"))?;
            Ok((rest?, neural?))
        })
    }
}

/// Restores a whole document, rescoring with `scorer` when given.
pub fn restore_document(
    restorer: &mut Restorer,
    text: &str,
    scorer: Option<&dyn ContextScorer>,
) -> anyhow::Result<Restoration> {
    Ok(match scorer {
        Some(s) => restorer.restore_document_best(text, s)?,
        None => restorer.restore_document(text),
    })
}

/// Restores one piece (a chunk of a stream), rescoring with `scorer` when given.
pub fn restore_piece(
    restorer: &mut Restorer,
    text: &str,
    scorer: Option<&dyn ContextScorer>,
) -> anyhow::Result<Restoration> {
    Ok(match scorer {
        Some(s) => restorer.restore_best(text, s)?,
        None => restorer.restore(text),
    })
}
