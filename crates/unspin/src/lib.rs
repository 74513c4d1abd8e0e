//! unspin: find machine-spun English text and give the original wording back.
//!
//! The pipeline is: [`token`] splits the input losslessly into spans, the
//! [`lexicon`] proposes the originals each spun word could have come from with
//! channel probabilities, the [`lm`] language model scores word sequences, and
//! [`decode`] searches the whole candidate lattice exactly (Viterbi) and computes
//! per-word posteriors (forward-backward).

pub mod cancel;
pub mod container;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod eval;
pub mod fingerprint;
pub mod halves;
pub mod hash;
pub mod input;
pub mod jsonl;
pub mod learn;
pub mod lexicon;
pub mod lm;
pub mod models;
pub mod numbers;
pub mod render;
pub mod rescore;
pub mod restore;
pub mod rules;
pub mod spinner;
pub mod stats;
pub mod sweep;
pub mod token;
pub mod tortured;
pub mod trace;
pub mod wordnet;

pub use cancel::Cancel;
pub use engine::Engine;
pub use rescore::Quality;

/// Errors reported by the library. Every variant renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file is missing, truncated, corrupt or of the wrong version.
    #[error("{0}")]
    Model(String),
    /// The input cannot be processed (binary data, invalid UTF-8, ...).
    #[error("{0}")]
    Input(String),
    /// An I/O error with the path or stream it concerns.
    #[error("{0}")]
    Io(String),
    /// A mode was asked for whose parts are not there (the best mode without
    /// its context scorer).
    #[error("{0}")]
    Unavailable(String),
    /// The work was stopped by its [`Cancel`] token (cancelled, or its
    /// deadline passed) before it finished.
    #[error("{0}")]
    Cancelled(String),
}
