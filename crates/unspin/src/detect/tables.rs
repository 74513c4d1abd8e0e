//! The scoring parameters ([`ScoreParams`], stored in the calibration file)
//! and the tables the detector derives from the model once: per lexicon
//! word its prepared candidates (channel weights under the news and the
//! synonym hypotheses, pruned by [`ScoreParams::prune_nats`]), the LM id to
//! lexicon id map, unigram probabilities and the phrase rewrites. They
//! depend only on the model and the parameters, so one set serves every
//! text a [`super::Detector`] scores.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::LN10;
use crate::lm::WordId;
use crate::restore::Model;
use crate::rules::Relation;

// Function words the generic synonym spinner leaves alone (no evidence either way).
use crate::rules::SYNONYM_STOPWORDS;

/// Knobs of the scoring pass. They are stored in the calibration file, so
/// scores at detection time are computed exactly as when it was fitted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ScoreParams {
    /// Weight of the language-model gain (nats) against the news channel.
    pub lm_weight: f32,
    /// Originals considered per word under the news hypothesis (the lexicon's best first).
    pub max_candidates: usize,
    /// Weight of the language-model gain under the synonym hypothesis.
    pub synonym_lm_weight: f32,
    /// Synonyms considered per surprising word under the synonym hypothesis.
    pub synonym_candidates: usize,
    /// A word is surprising when log10 p(word | two words before) is below this;
    /// only surprising words get their synonyms scored (a word the context
    /// predicts well cannot gain much from a synonym).
    pub synonym_surprise: f32,
    /// Prior share of content words a synonym spinner replaces.
    pub synonym_prior: f32,
    /// Channel probability of one particular synonym given its original.
    pub synonym_channel: f32,
    /// Cap on one word's synonym log-likelihood ratio (nats), against outliers in clean text.
    pub synonym_cap: f32,
    /// A word counts as a strong hit when its log-likelihood ratio (nats) exceeds this.
    pub strong_llr: f32,
    /// Words per section (sections end at the first sentence end after this many words).
    pub section_words: usize,
    /// News sites are scored against their originals only when log10 p of
    /// the word and of the next word, in context, sum to less than this (a
    /// word the context predicts well, followed by a word it predicts well,
    /// is kept: its candidates could not win).
    pub news_surprise: f32,
    /// Words after a candidate scored with it (1 or 2).
    pub context_after: usize,
    /// Candidates whose channel weight plus unigram gain falls this many
    /// nats short of keeping the word are never scored.
    pub prune_nats: f32,
}

impl Default for ScoreParams {
    fn default() -> Self {
        Self {
            lm_weight: 0.6,
            max_candidates: 3,
            synonym_lm_weight: 1.0,
            synonym_candidates: 8,
            synonym_surprise: -2.5,
            synonym_prior: 0.05,
            synonym_channel: 0.1,
            synonym_cap: 8.0,
            strong_llr: 2.5,
            section_words: 200,
            news_surprise: -3.0,
            context_after: 2,
            prune_nats: 6.0,
        }
    }
}

/// A possible original of a written form, prepared for scoring.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cand {
    /// Lexicon id of the original (base form).
    pub(super) lex: u32,
    /// LM id of the original.
    pub(super) lm: WordId,
    /// ln(p(replaced) * p(spun | original)) under the news channel.
    pub(super) news_ln: f32,
    /// Whether a synonym spinner could produce the written form from it.
    pub(super) syn: bool,
    /// ln p(this written form | original) under the synonym channel.
    pub(super) syn_ln: f32,
    pub(super) relation: Relation,
}

/// Per lexicon word: ln p(kept) and its prepared candidates.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    /// The news spinner can write this word (the lexicon lists originals for it).
    pub(super) news_site: bool,
    pub(super) keep_ln: f32,
    pub(super) cands: (u32, u32),
    pub(super) n_syn: u16,
}

/// Tables derived from the model once (they depend only on the model).
#[derive(Clone)]
pub(super) struct Tables {
    pub(super) entries: Vec<Entry>,
    pub(super) cands: Vec<Cand>,
    /// LM id -> lexicon id (u32::MAX when none).
    pub(super) lm_to_lex: Vec<u32>,
    /// log10 unigram probability per LM id.
    pub(super) unigram: Vec<f32>,
    pub(super) stop: rustc_hash::FxHashSet<&'static str>,
    /// First spun word of each multi-word phrase rewrite -> phrase indices.
    pub(super) phrase_first: FxHashMap<String, Vec<usize>>,
    /// LM ids of each phrase's original words.
    pub(super) phrase_ids: Vec<Vec<WordId>>,
}

impl Tables {
    pub(super) fn new(model: &Model, p: &ScoreParams) -> Self {
        let lex = &model.lexicon;
        let lm = &model.lm;
        let (n, _) = lex.stats();
        let unk = lm.unk();
        let uni = |id: WordId| lm.log10_unigram(id);
        let syn_odds_ln = (p.synonym_prior / (1.0 - p.synonym_prior)).ln();
        let lnq = p.synonym_channel.ln();
        let mut entries = Vec::with_capacity(n);
        let mut cands = Vec::new();
        let mut lm_to_lex = vec![u32::MAX; lm.vocab_len()];
        for i in 0..n as u32 {
            let w = lex.word(i);
            let lm_id = lm.id(w).unwrap_or(unk);
            if lm_id != unk {
                lm_to_lex[lm_id as usize] = i;
            }
            let start = cands.len() as u32;
            let mut n_syn = 0u16;
            let keep_ln = (1.0 - lex.replace_prob(i)).max(1e-6).ln();
            let u_s = uni(lm_id);
            for c in lex.candidates(i) {
                let r = lex.replace_prob(c.original);
                let c_lm = lm.id(lex.word(c.original)).unwrap_or(unk);
                if c_lm == unk {
                    continue;
                }
                // Context-free estimate of the candidate's weight against
                // keeping the word (the unigram part of its language-model
                // gain): candidates that context could not plausibly lift
                // into play are never scored.
                let d = uni(c_lm) - u_s;
                let news_ln = if r > 0.0 {
                    r.ln() + c.ln_prob
                } else {
                    f32::NEG_INFINITY
                };
                let news_live = news_ln + p.lm_weight * LN10 * d > keep_ln - p.prune_nats;
                let syn_ln = lnq;
                let syn = matches!(c.relation, Relation::Rule | Relation::Synonym)
                    && syn_odds_ln + syn_ln + p.synonym_lm_weight * LN10 * d > -p.prune_nats;
                if !news_live && !syn {
                    continue;
                }
                n_syn += syn as u16;
                cands.push(Cand {
                    lex: c.original,
                    lm: c_lm,
                    news_ln: if news_live {
                        news_ln
                    } else {
                        f32::NEG_INFINITY
                    },
                    syn,
                    syn_ln,
                    relation: c.relation,
                });
            }
            entries.push(Entry {
                news_site: !lex.candidates(i).is_empty(),
                keep_ln,
                cands: (start, cands.len() as u32),
                n_syn,
            });
        }
        let unigram = (0..lm.vocab_len() as u32)
            .map(|i| lm.log10_unigram(i))
            .collect();
        let mut phrase_first: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        let mut phrase_ids = Vec::new();
        for (i, ph) in lex.phrases().iter().enumerate() {
            if let Some(f) = ph.spun.first() {
                phrase_first.entry(f.clone()).or_default().push(i);
            }
            phrase_ids.push(
                ph.original
                    .iter()
                    .map(|x| lm.id(x).unwrap_or(unk))
                    .collect(),
            );
        }
        Self {
            entries,
            cands,
            lm_to_lex,
            unigram,
            stop: SYNONYM_STOPWORDS.iter().copied().collect(),
            phrase_first,
            phrase_ids,
        }
    }

    pub(super) fn cands_of(&self, e: u32) -> &[Cand] {
        let e = self.entries[e as usize];
        &self.cands[e.cands.0 as usize..e.cands.1 as usize]
    }
}
