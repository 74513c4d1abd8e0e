//! Model selection shared by the subcommands, and `unspin model`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use unspin::detect::Calibration;
use unspin::restore::Model;

/// Flags that pick the model files (the embedded default when absent).
#[derive(Args, Clone, Debug, Default)]
pub struct ModelFlags {
    /// Language model: an unspin `.unspin` file, a CMU Sphinx `.lm.bin` or an ARPA file.
    #[arg(long, value_name = "FILE", env = "UNSPIN_LM")]
    pub lm: Option<PathBuf>,
    /// Channel lexicon built by `unspin-build lexicon`.
    #[arg(long, value_name = "FILE", env = "UNSPIN_LEXICON")]
    pub lexicon: Option<PathBuf>,
    /// Tortured-phrase model built by `unspin-build phrases`.
    #[arg(long, value_name = "FILE", env = "UNSPIN_PHRASES")]
    pub phrases: Option<PathBuf>,
}

impl ModelFlags {
    /// Loads the chosen model.
    pub fn load(&self) -> anyhow::Result<Model> {
        let lm = match &self.lm {
            // The library's errors already name the file.
            Some(p) => {
                unspin::lm::LanguageModel::load_path(p).context("loading the language model")?
            }
            None => unspin::models::embedded_lm()?,
        };
        let lexicon = match &self.lexicon {
            Some(p) => {
                let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                unspin::lexicon::Lexicon::from_bytes(&bytes)
                    .with_context(|| format!("loading {}", p.display()))?
            }
            None => unspin::models::embedded_lexicon()?,
        };
        let phrases = match &self.phrases {
            Some(p) => {
                let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                unspin::tortured::PhraseModel::from_bytes(&bytes)
                    .with_context(|| format!("loading {}", p.display()))?
            }
            None => unspin::models::embedded_phrases()?,
        };
        Ok(Model::new(lm, lexicon).with_phrases(phrases))
    }

    /// The bytes of the chosen tortured-phrase model.
    pub fn phrases_bytes(&self) -> anyhow::Result<Vec<u8>> {
        Ok(match &self.phrases {
            Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            None => unspin::models::embedded_phrases_bytes()?.to_vec(),
        })
    }

    /// Which files the flags name: "embedded default", or the language
    /// model and lexicon files (for reports).
    pub fn describe(&self) -> String {
        match (&self.lm, &self.lexicon) {
            (None, None) => "embedded default".to_string(),
            (lm, lex) => format!(
                "language model {}, lexicon {}",
                lm.as_ref()
                    .map_or("embedded".into(), |p| p.display().to_string()),
                lex.as_ref()
                    .map_or("embedded".into(), |p| p.display().to_string())
            ),
        }
    }

    /// Loads the chosen model with what `quality` needs: `best` adds WordNet
    /// (the synonym sweep looks up every word's synonyms in it).
    pub fn load_for(&self, quality: unspin::Quality) -> anyhow::Result<Model> {
        let model = self.load()?;
        Ok(match quality {
            unspin::Quality::Best => model.with_wordnet(unspin::models::embedded_wordnet()?),
            unspin::Quality::Default => model,
        })
    }
}

/// The detector calibration at `path`, or the embedded one.
pub fn load_calibration(path: Option<&std::path::Path>) -> anyhow::Result<Calibration> {
    match path {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Calibration::from_bytes(&bytes).with_context(|| format!("loading {}", p.display()))
        }
        None => Ok(unspin::models::embedded_calibration()?),
    }
}

/// Arguments of `unspin model`.
#[derive(Args, Debug)]
pub struct ModelArgs {
    #[command(flatten)]
    pub model: ModelFlags,
}

/// Prints what the loaded model holds.
pub fn run(args: &ModelArgs) -> anyhow::Result<u8> {
    let t = std::time::Instant::now();
    let model = args.model.load()?;
    let (words, pairs) = model.lexicon.stats();
    // writeln! rather than println!, which panics on a closed pipe.
    let mut out = std::io::stdout().lock();
    writeln!(out, "language model: {}", model.lm.stats())?;
    writeln!(
        out,
        "lexicon: {words} words, {pairs} (spun, original) pairs, {} phrase rewrites",
        model.lexicon.phrases().len()
    )?;
    writeln!(
        out,
        "loaded in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    )?;
    out.flush()?;
    Ok(crate::EXIT_OK)
}
