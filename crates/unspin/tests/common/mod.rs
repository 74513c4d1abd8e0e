//! The embedded models, loaded once per test binary (each binary uses some of them).

#![allow(dead_code)]

use std::sync::OnceLock;

use unspin::restore::Model;
use unspin::wordnet::WordNet;

/// The embedded WordNet.
pub fn wordnet() -> &'static WordNet {
    static WN: OnceLock<WordNet> = OnceLock::new();
    WN.get_or_init(|| unspin::models::embedded_wordnet().expect("embedded WordNet"))
}

fn plain() -> Model {
    Model::new(
        unspin::models::embedded_lm().expect("embedded language model"),
        unspin::models::embedded_lexicon().expect("embedded lexicon"),
    )
}

/// The embedded trigram model and lexicon.
pub fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(plain)
}

/// The same with the embedded WordNet, as `--quality best` runs (the synonym sweep needs it).
pub fn model_with_wordnet() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        plain().with_wordnet(unspin::models::embedded_wordnet().expect("embedded WordNet"))
    })
}
