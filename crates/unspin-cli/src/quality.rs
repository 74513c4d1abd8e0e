//! `--quality default|best`, shared by `restore`, `detect` and `bench`, and
//! the [`unspin::Engine`] the flags build.

use std::path::PathBuf;

use anyhow::Context;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;
use unspin::detect::Calibration;
use unspin::Quality;

use crate::models::ModelFlags;

/// `default` or `best`, with the help clap prints for each.
fn quality_parser() -> impl TypedValueParser<Value = Quality> {
    PossibleValuesParser::new([
        PossibleValue::new("default")
            .help("The embedded trigram model alone (fast; nothing to install)"),
        PossibleValue::new("best").help(
            "Uncertain words rescored, and synonym-spun words looked for among all their WordNet synonyms, by the neural model SmolLM2-135M (slower; install it first with scripts/install-neural-model.sh)",
        ),
    ])
    .map(|s| s.parse::<Quality>().expect("one of the values listed above"))
}

/// Flags that choose the quality mode.
#[derive(Args, Clone, Debug, Default)]
pub struct QualityFlags {
    /// `best` rescores uncertain words with a neural language model (SmolLM2-135M on the CPU).
    #[arg(long, value_parser = quality_parser(), default_value = "default")]
    pub quality: Quality,
    /// GGUF file of the neural model for `--quality best` [default: $UNSPIN_NEURAL_MODEL, else $XDG_DATA_HOME/unspin/neural/SmolLM2-135M-Instruct.Q4_1.gguf]
    #[arg(long, value_name = "FILE")]
    pub neural_model: Option<PathBuf>,
}

impl QualityFlags {
    /// The engine over the model `model` names (with WordNet for `best`,
    /// whose synonym sweep reads it) and `calibration`, with the neural
    /// model for `best`. The neural model loads on another thread while the
    /// rest loads: the two take similar time, so `--quality best` starts
    /// about half a second sooner. Errors of the rest come first, as they
    /// would in sequence.
    pub fn engine(
        &self,
        model: &ModelFlags,
        calibration: impl FnOnce() -> anyhow::Result<Calibration> + Send,
    ) -> anyhow::Result<unspin::Engine> {
        let load_rest = || -> anyhow::Result<unspin::Engine> {
            Ok(unspin::Engine::new(
                model.load_for(self.quality)?,
                calibration()?,
            ))
        };
        if self.quality == Quality::Default {
            return load_rest();
        }
        let (engine, neural) = std::thread::scope(|s| {
            let neural = s.spawn(|| self.load_neural());
            let rest = load_rest();
            let neural = neural
                .join()
                .map_err(|_| anyhow::anyhow!("--quality best: loading the neural model failed"))?;
            anyhow::Ok((rest?, neural?))
        })?;
        Ok(engine.with_scorer(std::sync::Arc::new(neural)))
    }

    /// Loads the neural model of `--quality best`.
    fn load_neural(&self) -> anyhow::Result<unspin_neural::NeuralLm> {
        let path = self
            .neural_model
            .clone()
            .unwrap_or_else(unspin_neural::default_model_path);
        // The error names the file and how to install the model.
        unspin_neural::NeuralLm::load(&path).context("--quality best")
    }
}
