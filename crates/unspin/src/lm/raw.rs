//! The unquantized n-gram list that the readers produce and the builder consumes.

use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bigram {
    pub w1: u32,
    pub w2: u32,
    pub prob: f32,
    pub bo: f32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Trigram {
    pub w1: u32,
    pub w2: u32,
    pub w3: u32,
    pub prob: f32,
}

/// A back-off trigram (or lower order) model with exact float values, word ids
/// indexing `words`.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawModel {
    pub order: usize,
    pub words: Vec<String>,
    /// (log10 prob, log10 backoff) per word.
    pub uni: Vec<(f32, f32)>,
    pub bi: Vec<Bigram>,
    pub tri: Vec<Trigram>,
}

impl RawModel {
    /// Checks ids and values; the readers call this before building.
    pub(crate) fn validate(&self, source: &str) -> Result<(), Error> {
        let bad = |why: String| Err(Error::Model(format!("{source}: {why}")));
        if !(1..=3).contains(&self.order) {
            return bad(format!("unsupported n-gram order {}", self.order));
        }
        if self.words.len() != self.uni.len() {
            return bad("word list and unigram list differ in length".into());
        }
        if self.words.is_empty() {
            return bad("empty vocabulary".into());
        }
        let n = self.words.len() as u32;
        for (w, &(p, b)) in self.words.iter().zip(&self.uni) {
            if !p.is_finite() || !b.is_finite() {
                return bad(format!("non-finite unigram value for {w:?}"));
            }
            if w.contains('\0') {
                return bad("word containing a NUL byte".into());
            }
        }
        for g in &self.bi {
            if g.w1 >= n || g.w2 >= n {
                return bad("bigram word id out of range".into());
            }
            if !g.prob.is_finite() || !g.bo.is_finite() {
                return bad("non-finite bigram value".into());
            }
        }
        for g in &self.tri {
            if g.w1 >= n || g.w2 >= n || g.w3 >= n {
                return bad("trigram word id out of range".into());
            }
            if !g.prob.is_finite() {
                return bad("non-finite trigram value".into());
            }
        }
        Ok(())
    }
}
