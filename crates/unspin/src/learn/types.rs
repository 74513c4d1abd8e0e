//! Type-level evidence: a spinner decides once per word type, so the
//! language model's preference for an original can add up over every
//! occurrence of the written word, while the prior cost of "this type was
//! replaced" is paid once. Token by token, a fluent synonym spinner's
//! swaps cost more prior than one context's evidence repays (the restorer's
//! synonym hypothesis keeps them); over a corpus they do not.

use rustc_hash::FxHashMap;

use crate::lexicon::is_spun_form;
use crate::restore::Model;
use crate::token::{tokenize, TokenKind};

/// Candidates tried per written word, from each channel.
const CANDIDATES: usize = 8;

/// Summed evidence per (written word, candidate original), lexicon ids.
#[derive(Default, Clone)]
pub(crate) struct TypeEvidence {
    /// (written, original) -> (summed LM gain in nats, occurrences it won).
    gains: FxHashMap<u64, (f32, u32)>,
    /// written -> occurrences (with candidates).
    seen: FxHashMap<u32, u32>,
    /// Every bare lowercase word the lexicon knows -> occurrences: an
    /// original seen as itself is one the spinner does not always replace.
    bare: FxHashMap<u32, u32>,
    /// Contexts already counted (a hash of the written word and its two
    /// neighbours on each side): a sentence repeated on every page is one
    /// piece of evidence, not one per copy.
    contexts: rustc_hash::FxHashSet<u64>,
}

impl TypeEvidence {
    /// Adds the evidence of `text`: for every bare lowercase word with
    /// candidates, each candidate's gain in trigram log-probability over
    /// the written word, the neighbours read as written.
    pub(crate) fn add_text(&mut self, model: &Model, text: &str) {
        let lm = &model.lm;
        let lex = &model.lexicon;
        let ln10 = std::f32::consts::LN_10;
        let tokens = tokenize(text);
        // Sentences as LM ids, with the lexicon id of each open word.
        let mut ids = vec![lm.bos(), lm.bos()];
        let mut open: Vec<(usize, u32)> = Vec::new();
        let mut cands: Vec<u32> = Vec::new();
        let mut flush = |ids: &mut Vec<_>, open: &mut Vec<(usize, u32)>| {
            ids.push(lm.eos());
            ids.push(lm.eos());
            for &(i, sid) in open.iter() {
                cands.clear();
                cands.extend(
                    lex.synonym_candidates(sid)
                        .iter()
                        .take(CANDIDATES)
                        .chain(lex.candidates(sid).iter().take(CANDIDATES))
                        .map(|c| c.original)
                        .filter(|&o| o != sid && !model.is_numeral(o)),
                );
                cands.sort_unstable();
                cands.dedup();
                if cands.is_empty() {
                    continue;
                }
                let context = [sid, ids[i - 2], ids[i - 1], ids[i + 1], ids[i + 2]];
                let key = context.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &w| {
                    crate::hash::mix64(h ^ w as u64)
                });
                if !self.contexts.insert(key) {
                    continue;
                }
                *self.seen.entry(sid).or_default() += 1;
                let score = |w| {
                    lm.log10_prob(ids[i - 2], ids[i - 1], w)
                        + lm.log10_prob(ids[i - 1], w, ids[i + 1])
                        + lm.log10_prob(w, ids[i + 1], ids[i + 2])
                };
                let base = score(ids[i]);
                for &o in &cands {
                    let gain = (score(model.lm_id_of_lex(o)) - base) * ln10;
                    let e = self
                        .gains
                        .entry(super::profile::pair_key(sid, o))
                        .or_default();
                    e.0 += gain;
                    e.1 += u32::from(gain > 0.0);
                }
            }
            ids.truncate(2);
            open.clear();
        };
        for t in &tokens {
            match t.kind {
                TokenKind::Word | TokenKind::Number => {
                    let w = t.text(text);
                    let lower = w.to_lowercase();
                    let id = lm.id(&lower).unwrap_or(lm.unk());
                    if t.kind == TokenKind::Word && t.bare && is_spun_form(w) {
                        if let Some(sid) = lex.id(w) {
                            open.push((ids.len(), sid));
                            *self.bare.entry(sid).or_default() += 1;
                        }
                    }
                    ids.push(id);
                }
                TokenKind::Punct if matches!(t.text(text), "." | "!" | "?" | ";" | ":") => {
                    flush(&mut ids, &mut open)
                }
                TokenKind::Space if t.text(text).matches('\n').count() >= 2 => {
                    flush(&mut ids, &mut open)
                }
                TokenKind::Tag | TokenKind::Code | TokenKind::Url | TokenKind::Email => {
                    flush(&mut ids, &mut open)
                }
                _ => {}
            }
        }
        flush(&mut ids, &mut open);
    }

    /// The written types whose best original explains them better than
    /// keeping them, over all their occurrences: (written, original,
    /// occurrences, posterior of the replacement). `ln_prior_odds` is the
    /// log prior odds that a type was replaced (by a given one of its
    /// candidates), `lm_weight` scales the language model as the
    /// restorer does. Every occurrence of the original as itself costs
    /// ln(1 - `replace_rate`): a spinner that wrote the type for it would
    /// have replaced those too, at that rate.
    pub(crate) fn decisions(
        &self,
        ln_prior_odds: f32,
        lm_weight: f32,
        min_occurrences: u32,
        replace_rate: f32,
    ) -> Vec<(u32, u32, u32, f32)> {
        let kept_cost = (1.0 - replace_rate).max(1e-6).ln();
        let mut best: FxHashMap<u32, (u32, f32, u32)> = FxHashMap::default();
        for (&k, &(gain, wins)) in &self.gains {
            let (written, original) = ((k >> 32) as u32, k as u32);
            let e = best
                .entry(written)
                .or_insert((u32::MAX, f32::NEG_INFINITY, 0));
            if gain > e.1 || (gain == e.1 && original < e.0) {
                *e = (original, gain, wins);
            }
        }
        let mut out: Vec<(u32, u32, u32, f32)> = best
            .into_iter()
            .filter_map(|(written, (original, gain, wins))| {
                let n = self.seen.get(&written).copied().unwrap_or(0);
                // The spinner writes the same word for every occurrence:
                // the original must fit most of them, not win on one.
                if n < min_occurrences || 2 * wins <= n {
                    return None;
                }
                let kept = self.bare.get(&original).copied().unwrap_or(0) as f32;
                let post =
                    crate::stats::sigmoid(ln_prior_odds + lm_weight * gain + kept * kept_cost);
                (post > 0.5).then_some((written, original, n, post))
            })
            .collect();
        out.sort_unstable_by_key(|d| (d.0, d.1));
        out
    }
}
