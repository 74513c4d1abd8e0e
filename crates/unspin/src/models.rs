//! The embedded default model files (feature `embedded-model`).
//!
//! The files under `models/` are built by `scripts/build-models.sh` from
//! registry packages and committed, so a fresh clone works offline.

use crate::lexicon::Lexicon;
use crate::lm::LanguageModel;
use crate::wordnet::WordNet;
use crate::Error;

#[cfg(feature = "embedded-model")]
mod bytes {
    pub static LM: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/lm.unspin"
    ));
    pub static LEXICON: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/lexicon.unspin"
    ));
    pub static WORDNET: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/wordnet.unspin"
    ));
    pub static CALIBRATION: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/calibration.unspin"
    ));
    pub static PHRASES: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/phrases.unspin"
    ));
}

#[cfg(not(feature = "embedded-model"))]
mod bytes {
    pub static LM: &[u8] = &[];
    pub static LEXICON: &[u8] = &[];
    pub static WORDNET: &[u8] = &[];
    pub static CALIBRATION: &[u8] = &[];
    pub static PHRASES: &[u8] = &[];
}

fn require(b: &'static [u8], what: &str) -> Result<&'static [u8], Error> {
    if b.is_empty() {
        Err(Error::Model(format!(
            "no embedded {what}: this build has no `embedded-model` feature; pass a model file"
        )))
    } else {
        Ok(b)
    }
}

/// The default language model (CMU Sphinx en-us trigram, converted).
pub fn embedded_lm() -> Result<LanguageModel, Error> {
    LanguageModel::from_bytes(require(bytes::LM, "language model")?)
}

/// The default channel lexicon (built from WordNet 3.0).
pub fn embedded_lexicon() -> Result<Lexicon, Error> {
    Lexicon::from_bytes(require(bytes::LEXICON, "lexicon")?)
}

/// The embedded WordNet 3.0 (for the spinner simulator).
pub fn embedded_wordnet() -> Result<WordNet, Error> {
    WordNet::from_bytes(require(bytes::WORDNET, "WordNet")?)
}

/// The detector's calibration (fitted on the training split by `unspin-build calibrate`).
pub fn embedded_calibration() -> Result<crate::detect::Calibration, Error> {
    crate::detect::Calibration::from_bytes(require(bytes::CALIBRATION, "detector calibration")?)
}

/// The tortured-phrase model: the Problematic Paper Screener list as known
/// phrases, with candidates and terms learned from its half A only
/// (`unspin-build phrases`).
pub fn embedded_phrases() -> Result<crate::tortured::PhraseModel, Error> {
    crate::tortured::PhraseModel::from_bytes(embedded_phrases_bytes()?)
}

/// The bytes of the embedded phrase model (to load it more than once).
pub fn embedded_phrases_bytes() -> Result<&'static [u8], Error> {
    require(bytes::PHRASES, "phrase model")
}
