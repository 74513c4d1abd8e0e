//! Static interpolation of two back-off models into one (like SRILM's
//! `-mix-lm`): the n-gram set is the union of both models' n-grams, each
//! n-gram gets `λ p_base(w|h) + (1-λ) p_other(w|h)` (each model evaluated
//! with its own back-off), and backoff weights are recomputed so every
//! context's distribution sums to one.
//!
//! A word outside one model's vocabulary has probability 0 in that model as
//! a predicted word, and is read as that model's `<unk>` in a history.

use super::train::{key2, key3, split2, split3, to_raw, Probs};
use super::{LanguageModel, WordId};
use crate::Error;

/// Bigrams and trigrams as word-id tuples.
type NgramIds = (Vec<(WordId, WordId)>, Vec<(WordId, WordId, WordId)>);

impl LanguageModel {
    /// All bigrams and trigrams as word-id tuples (unordered).
    fn ngram_ids(&self) -> NgramIds {
        let bits = self.word_bits;
        let m = (1u64 << bits) - 1;
        let bi = self
            .bi
            .entries()
            .into_iter()
            .map(|(k, _)| ((k >> bits) as u32, (k & m) as u32))
            .collect();
        let tri = self
            .tri
            .entries()
            .into_iter()
            .map(|(k, _)| {
                (
                    (k >> (2 * bits)) as u32,
                    ((k >> bits) & m) as u32,
                    (k & m) as u32,
                )
            })
            .collect();
        (bi, tri)
    }

    /// Interpolates `base` (weight `lambda`) with `other` (weight
    /// `1 - lambda`) into a single back-off model over the union of their
    /// vocabularies and n-grams.
    pub fn mix(base: &LanguageModel, other: &LanguageModel, lambda: f64) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&lambda) {
            return Err(Error::Model(format!(
                "mixture weight {lambda} is outside 0..1"
            )));
        }
        // Union vocabulary: base ids first, then other's new words.
        let nb = base.vocab_len();
        let mut words: Vec<String> = (0..nb as u32).map(|i| base.word(i).to_string()).collect();
        let mut to_other: Vec<Option<WordId>> = vec![None; nb];
        let mut from_other: Vec<u32> = Vec::with_capacity(other.vocab_len());
        for o in 0..other.vocab_len() as u32 {
            let w = other.word(o);
            let u = match base.id(w) {
                Some(b) => b,
                None => {
                    words.push(w.to_string());
                    to_other.push(None);
                    (words.len() - 1) as u32
                }
            };
            to_other[u as usize] = Some(o);
            from_other.push(u);
        }
        let n = words.len();
        if n >= (1 << 21) - 1 {
            return Err(Error::Model(format!(
                "mixed vocabulary of {n} words is too large"
            )));
        }
        let to_base = |u: u32| -> Option<WordId> { ((u as usize) < nb).then_some(u) };
        let hb = |u: u32| to_base(u).unwrap_or(base.unk());
        let ho = |u: u32| to_other[u as usize].unwrap_or(other.unk());
        let pow = |x: f32| 10f64.powf(x as f64);
        let (l, r) = (lambda, 1.0 - lambda);

        // N-gram sets.
        let (bb, bt) = base.ngram_ids();
        let (ob, ot) = other.ngram_ids();
        let mut tri: Vec<u64> = bt
            .iter()
            .map(|&(a, b, c)| key3(a, b, c))
            .chain(ot.iter().map(|&(a, b, c)| {
                key3(
                    from_other[a as usize],
                    from_other[b as usize],
                    from_other[c as usize],
                )
            }))
            .collect();
        drop((bt, ot));
        tri.sort_unstable();
        tri.dedup();
        let mut bi: Vec<u64> = bb
            .iter()
            .map(|&(a, b)| key2(a, b))
            .chain(
                ob.iter()
                    .map(|&(a, b)| key2(from_other[a as usize], from_other[b as usize])),
            )
            .chain(tri.iter().map(|&k| k >> 21))
            .collect();
        drop((bb, ob));
        bi.sort_unstable();
        bi.dedup();

        // Mixed probabilities.
        let mut uni: Vec<f64> = (0..n as u32)
            .map(|u| {
                let pb = to_base(u).map_or(0.0, |i| pow(base.log10_unigram(i)));
                let po = to_other[u as usize].map_or(0.0, |i| pow(other.log10_unigram(i)));
                l * pb + r * po
            })
            .collect();
        uni[base.bos() as usize] = 0.0;
        let bi: Vec<(u64, f64)> = bi
            .into_iter()
            .map(|k| {
                let (a, w) = split2(k);
                let pb = to_base(w).map_or(0.0, |wi| pow(base.log10_prob_bigram(hb(a), wi)));
                let po =
                    to_other[w as usize].map_or(0.0, |wi| pow(other.log10_prob_bigram(ho(a), wi)));
                (k, l * pb + r * po)
            })
            .collect();
        let tri: Vec<(u64, f64)> = tri
            .into_iter()
            .map(|k| {
                let (a, b, w) = split3(k);
                let pb = to_base(w).map_or(0.0, |wi| pow(base.log10_prob(hb(a), hb(b), wi)));
                let po =
                    to_other[w as usize].map_or(0.0, |wi| pow(other.log10_prob(ho(a), ho(b), wi)));
                (k, l * pb + r * po)
            })
            .collect();
        let probs = Probs { uni, bi, tri };
        let raw = to_raw(words, &probs)?;
        LanguageModel::from_raw(raw)
    }
}
