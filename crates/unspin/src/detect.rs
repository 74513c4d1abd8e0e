//! Detection: is a text machine-spun, and where?
//!
//! A single fast pass scores every word against its possible originals with
//! the trigram model, its neighbours taken as written, under two spinner
//! hypotheses:
//!
//! * **news**: the channel of [`crate::lexicon`]: bare lowercase words the
//!   lexicon knows, with its replacement probabilities (a bare word the
//!   spinner's dictionary would replace is evidence *against* spinning);
//! * **synonym**: a generic spinner that swaps a few content words (any case,
//!   inflected forms too) for a synonym: each word is an outlier with a small
//!   prior, and evidence comes only from words whose synonyms fit the context
//!   much better than the word itself.
//!
//! Per word the pass gives the local log-likelihood ratio of "spun" against
//! "kept" under each hypothesis, the best original and the language-model
//! gain; these add up per section (about 200 words, cut at sentence ends)
//! and per document into a few features, which a logistic regression
//! ([`Calibration`], fitted on the training split by `unspin-build calibrate`
//! and shipped as `models/calibration.unspin`) turns into calibrated
//! probabilities. The full [`crate::restore::Restorer`] is not needed for
//! scores; [`Detector::refine`] runs it, when asked, on texts that came out
//! spun, for better per-word originals.
//!
//! Speed (about a million words a second on one core) comes from scoring
//! only what can matter: originals whose channel weight plus unigram gain
//! cannot come near keeping the word are dropped once, when the detector is
//! built ([`ScoreParams::prune_nats`]); the rest are scored only at words the
//! context finds surprising ([`ScoreParams::news_surprise`],
//! [`ScoreParams::synonym_surprise`]); and every language-model query of a
//! text goes through one batched, prefetching call.
//!
//! Texts of several sections get the larger of the whole text's log-odds
//! and the best section's, the latter lowered by ln(number of sections) so
//! that a long clean book is not flagged for its single oddest page.
//!
//! The module also holds what calibration and the benchmark share: the
//! logistic regression, ROC AUC and expected calibration error, and the
//! construction of labelled documents from a corpus ([`Sample`]).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::lexicon::is_spun_form;
use crate::lm::WordId;
use crate::restore::{match_case, Model, Restorer};
use crate::spinner::Relation;
use crate::token::{tokenize, Token, TokenKind};
use crate::Error;

/// Container kind of a calibration file.
pub const KIND: [u8; 4] = *b"CALB";
/// Format version of the calibration payload.
pub const VERSION: u32 = 1;

const LN10: f32 = std::f32::consts::LN_10;

// Function words the generic synonym spinner leaves alone (no evidence either way).
use crate::spinner::SYNONYM_STOPWORDS;

// ---------------------------------------------------------------------------
// Scoring parameters and the tables built from the model
// ---------------------------------------------------------------------------

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
struct Cand {
    /// Lexicon id of the original (base form).
    lex: u32,
    /// LM id of the original.
    lm: WordId,
    /// ln(p(replaced) * p(spun | original)) under the news channel.
    news_ln: f32,
    /// Whether a synonym spinner could produce the written form from it.
    syn: bool,
    /// ln p(this written form | original) under the synonym channel.
    syn_ln: f32,
    relation: Relation,
}

/// Per lexicon word: ln p(kept) and its prepared candidates.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The news spinner can write this word (the lexicon lists originals for it).
    news_site: bool,
    keep_ln: f32,
    cands: (u32, u32),
    n_syn: u16,
}

/// Tables derived from the model once (they depend only on the model).
struct Tables {
    entries: Vec<Entry>,
    cands: Vec<Cand>,
    /// LM id -> lexicon id (u32::MAX when none).
    lm_to_lex: Vec<u32>,
    /// log10 unigram probability per LM id.
    unigram: Vec<f32>,
    stop: rustc_hash::FxHashSet<&'static str>,
    /// First spun word of each multi-word phrase rewrite -> phrase indices.
    phrase_first: FxHashMap<String, Vec<usize>>,
    /// LM ids of each phrase's original words.
    phrase_ids: Vec<Vec<WordId>>,
}

impl Tables {
    fn new(model: &Model, p: &ScoreParams) -> Self {
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

    fn cands_of(&self, e: u32) -> &[Cand] {
        let e = self.entries[e as usize];
        &self.cands[e.cands.0 as usize..e.cands.1 as usize]
    }
}

// ---------------------------------------------------------------------------
// Features
// ---------------------------------------------------------------------------

/// Evidence summed over a stretch of text (a section or a whole document).
/// Every field is additive, so a document's sums are its sections' sums.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Sums {
    /// Word tokens.
    pub words: f32,
    /// Words the news channel could have written.
    pub news_sites: f32,
    /// Sum of the news log-likelihood ratios (nats; negative for clean text).
    pub news_llr: f32,
    /// Words whose news log-likelihood ratio exceeds the strong-hit level.
    pub news_strong: f32,
    /// Words a synonym spinner could have written.
    pub syn_sites: f32,
    /// Sum of the (capped, non-negative) synonym log-likelihood ratios (nats).
    pub syn_llr: f32,
    /// Words whose synonym log-likelihood ratio exceeds the strong-hit level.
    pub syn_strong: f32,
    /// Sum of the synonym log-likelihood ratios with the words' rarity taken
    /// out (only how much better the synonym fits the context).
    pub ctx_llr: f32,
    /// Words whose context-only log-likelihood ratio exceeds the strong-hit level.
    pub ctx_strong: f32,
    /// Strong hits that are rare words (log10 unigram below -5): "astatine", "whitethorn".
    pub rare_strong: f32,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.words += o.words;
        self.news_sites += o.news_sites;
        self.news_llr += o.news_llr;
        self.news_strong += o.news_strong;
        self.syn_sites += o.syn_sites;
        self.syn_llr += o.syn_llr;
        self.syn_strong += o.syn_strong;
        self.ctx_llr += o.ctx_llr;
        self.ctx_strong += o.ctx_strong;
        self.rare_strong += o.rare_strong;
    }
}

/// Names of the calibration features, in the order of [`features`].
pub const FEATURE_NAMES: &[&str] = &[
    "news_llr_per_word",
    "news_llr_per_sqrt_word",
    "syn_llr_per_sqrt_word",
    "syn_strong_per_sqrt_word",
    "news_strong_per_sqrt_word",
    "rare_strong",
    "syn_llr_per_word",
    "ln_words",
    "ctx_llr_per_sqrt_word",
    "ctx_strong_per_sqrt_word",
];

/// The calibration features of a stretch of text (a section or a whole
/// document) from its sums: evidence per word and per square root of the
/// word count (log-likelihood ratios grow with length under either
/// hypothesis; their spread with its square root), strong hits, and length.
pub fn features(s: &Sums) -> Vec<f64> {
    let n = (s.words as f64).max(1.0);
    let sq = n.sqrt();
    vec![
        s.news_llr as f64 / n,
        s.news_llr as f64 / sq,
        s.syn_llr as f64 / sq,
        s.syn_strong as f64 / sq,
        s.news_strong as f64 / sq,
        (s.rare_strong as f64).min(20.0),
        s.syn_llr as f64 / n,
        n.ln(),
        s.ctx_llr as f64 / sq,
        s.ctx_strong as f64 / sq,
    ]
}

// ---------------------------------------------------------------------------
// Calibration file
// ---------------------------------------------------------------------------

/// A fitted logistic regression from [`features`] to the probability that a
/// text was spun, with the scoring parameters it was fitted with and the
/// default decision threshold.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// Feature names; must equal [`FEATURE_NAMES`].
    pub features: Vec<String>,
    /// Standardization: feature means.
    pub mean: Vec<f64>,
    /// Standardization: feature scales (standard deviations).
    pub scale: Vec<f64>,
    /// Weights on the standardized features.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
    /// Recalibration of [`Calibration::max_logit`] for texts of several sections: scale.
    pub multi_scale: f64,
    /// Recalibration of [`Calibration::max_logit`] for texts of several sections: intercept.
    pub multi_bias: f64,
    /// Default threshold on the probability for calling a text spun.
    pub threshold: f64,
    /// Per-word threshold for marking words (fast-pass scores).
    pub word_threshold: f64,
    /// Per-word threshold for marking words when the restorer refines the scores.
    pub restore_word_threshold: f64,
    /// The scoring parameters the features were computed with.
    pub params: ScoreParams,
    /// How it was fitted (free text: data, counts, date).
    pub provenance: String,
}

impl Calibration {
    /// A hand-set calibration for tests and for bootstrapping `unspin-build calibrate`.
    pub fn uncalibrated() -> Self {
        let k = FEATURE_NAMES.len();
        let mut weights = vec![0.0; k];
        weights[0] = 1.0;
        weights[2] = 1.0;
        Self {
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            mean: vec![0.0; k],
            scale: vec![1.0; k],
            weights,
            bias: -2.0,
            multi_scale: 1.0,
            multi_bias: 0.0,
            threshold: 0.5,
            word_threshold: 0.5,
            restore_word_threshold: 0.5,
            params: ScoreParams::default(),
            provenance: "uncalibrated defaults".into(),
        }
    }

    /// The linear score (log-odds) of a feature vector.
    pub fn logit(&self, x: &[f64]) -> f64 {
        standardized_logit(self.bias, &self.mean, &self.scale, &self.weights, x)
    }

    /// The calibrated probability of a feature vector.
    pub fn prob(&self, x: &[f64]) -> f64 {
        sigmoid64(self.logit(x))
    }

    /// The evidence of a document with several sections: the larger of the
    /// whole document's log-odds and its most spun section's, so a spun
    /// passage inside an original text counts. The section's log-odds are
    /// lowered by ln(number of sections), a Bonferroni correction: a book of
    /// many clean sections would otherwise almost surely hold one that
    /// looks spun.
    pub fn max_logit(&self, doc: &Sums, secs: &[(usize, usize, Sums)]) -> f64 {
        let l_doc = self.logit(&features(doc));
        let correction = (secs.len().max(1) as f64).ln();
        secs.iter()
            .map(|s| self.logit(&features(&s.2)) - correction)
            .fold(l_doc, f64::max)
    }

    /// The calibrated probability of a document from its sums and its
    /// sections' sums. One section: the logistic regression itself. Several:
    /// [`Calibration::max_logit`], recalibrated (the maximum of several
    /// scores runs high on clean text).
    pub fn doc_prob(&self, doc: &Sums, secs: &[(usize, usize, Sums)]) -> f32 {
        if secs.len() <= 1 {
            return self.prob(&features(doc)) as f32;
        }
        sigmoid64(self.multi_scale * self.max_logit(doc, secs) + self.multi_bias) as f32
    }

    /// Serializes into the `CALB` container (JSON payload).
    pub fn to_bytes(&self) -> Vec<u8> {
        let raw = serde_json::to_vec_pretty(self).expect("calibration serializes");
        crate::container::encode(KIND, VERSION, &raw, 19)
    }

    /// Loads from the `CALB` container and checks it fits this build.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let raw = crate::container::decode(bytes, KIND, VERSION)?;
        let c: Calibration = serde_json::from_slice(&raw)
            .map_err(|e| Error::Model(format!("CALB model file: malformed payload: {e}")))?;
        let k = FEATURE_NAMES.len();
        if c.features != FEATURE_NAMES
            || c.mean.len() != k
            || c.scale.len() != k
            || c.weights.len() != k
        {
            return Err(Error::Model(format!(
                "CALB model file: fitted for features {:?}, this build computes {:?}; rebuild it with `unspin-build calibrate`",
                c.features, FEATURE_NAMES
            )));
        }
        if c.scale.iter().any(|s| s.is_nan() || *s <= 0.0) || !(0.0..=1.0).contains(&c.threshold) {
            return Err(Error::Model(
                "CALB model file: invalid scales or threshold".into(),
            ));
        }
        Ok(c)
    }
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

/// One word the detector scored as possibly spun.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WordScore {
    /// Byte offset of the word (or phrase) in the input.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// The word as written.
    pub text: String,
    /// Probability that it is a spinner's substitution (includes its section's probability).
    pub prob: f32,
    /// The likely original, cased like the input.
    pub original: String,
    /// How the original relates to the written word ("rule", "synonym", "phrase", ...).
    pub relation: String,
    /// Which spinner hypothesis explains it best: "news" or "synonym".
    pub model: &'static str,
    /// log10 unigram probability of the written word (rarity; -99 when unknown to the model).
    pub rarity: f32,
    /// Language-model gain of the original over the written word in context (nats, weighted).
    pub lm_gain: f32,
    /// The word's log-likelihood ratio spun/kept under its hypothesis (nats).
    pub llr: f32,
}

/// A section of the input with its calibrated probability of being spun.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SectionScore {
    /// Byte offset where the section starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// Words in the section.
    pub words: usize,
    /// Calibrated probability that the section was spun.
    pub prob: f32,
    /// Sum of the news log-likelihood ratios (nats).
    pub news_llr: f32,
    /// Sum of the synonym log-likelihood ratios (nats).
    pub synonym_llr: f32,
}

/// The detector's answer for one text.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// Calibrated probability that the text was machine-spun.
    pub prob: f32,
    /// `prob >= threshold`.
    pub spun: bool,
    /// The threshold used.
    pub threshold: f32,
    /// Word tokens.
    pub words: usize,
    /// Sections of about 200 words.
    pub sections: Vec<SectionScore>,
    /// The strongest spun-looking words, strongest first.
    pub evidence: Vec<WordScore>,
    /// Every word with a spun probability of at least the reporting floor, in input order.
    pub flagged: Vec<WordScore>,
    /// Summed evidence over the whole text (the calibration's inputs).
    pub sums: Sums,
}

/// What [`Detector::detect`] computes beyond the scores.
#[derive(Clone, Debug)]
pub struct DetectOptions {
    /// Threshold on the probability (default: the calibration's).
    pub threshold: Option<f32>,
    /// Words reported in `evidence`.
    pub evidence: usize,
    /// Report words (in `flagged`) whose probability is at least this.
    pub word_floor: f32,
    /// Compute per-word scores and evidence at all (off: document and section scores only, fastest).
    pub words: bool,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            threshold: None,
            evidence: 10,
            word_floor: 0.1,
            words: true,
        }
    }
}

// ---------------------------------------------------------------------------
// The detector
// ---------------------------------------------------------------------------

/// A scored site: a word (or phrase) that may be a spinner's substitution.
#[derive(Clone, Copy, Debug)]
struct Site {
    start: u32,
    end: u32,
    /// Stream position of its (first) word.
    pos: u32,
    /// Words it covers in the stream.
    span: u32,
    /// LM id of the written word.
    lm: WordId,
    /// Lexicon entry scored under the news hypothesis (bare lowercase words), or NONE.
    news: u32,
    /// Lexicon entry of the written form (lowercased) with synonyms, or NONE.
    syn: u32,
    /// Lexicon entry of the base of an inflected form (with synonyms), or NONE.
    base: u32,
    sfx: Suffix,
    /// Phrase rewrite index, or NONE.
    phrase: u32,
    /// Whether the site counts under the synonym hypothesis.
    syn_site: bool,
    /// Alternatives: range into `Work::alts`.
    alts: (u32, u32),
}

const NONE: u32 = u32::MAX;
/// A site's base form not looked up yet.
const PENDING: u32 = u32::MAX - 1;

/// Ends like a regular plural, past or present participle.
fn inflected_shape(lower: &str) -> bool {
    (lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us"))
        || lower.ends_with("ed")
        || lower.ends_with("ing")
}

/// A candidate original at a site, with its language-model queries.
#[derive(Clone, Copy, Debug)]
struct Alt {
    lm: WordId,
    news_ln: f32,
    syn: bool,
    syn_ln: f32,
    relation: Relation,
    /// First of its queries in `Work::queries`, and their count.
    q: u32,
    nq: u32,
}

/// Per-site results of the scoring pass.
#[derive(Clone, Copy, Debug, Default)]
struct SiteScore {
    news_llr: f32,
    news_post: f32,
    syn_llr: f32,
    syn_post: f32,
    ctx_llr: f32,
    best_alt: u32,
    /// Language-model gain of the best alternative over the written word (nats, unweighted).
    gain: f32,
    rarity: f32,
}

/// Reusable buffers of one scoring pass.
#[derive(Default)]
struct Work {
    tokens: Vec<Token>,
    /// LM ids of the text as written, with `<s>`/`</s>` around sentences.
    stream: Vec<WordId>,
    /// log10 p(stream[j] | stream[j-2], stream[j-1]) (0 for `<s>` and the two starting slots).
    keep: Vec<f32>,
    sites: Vec<Site>,
    alts: Vec<Alt>,
    queries: Vec<[WordId; 3]>,
    out: Vec<f32>,
    scores: Vec<SiteScore>,
    /// Sentence starts: (stream position, byte offset).
    boundaries: Vec<(u32, u32)>,
    infl: String,
}

/// Scores texts for spinning (see the module docs). `Sync`: share one across threads.
pub struct Detector<'m> {
    model: &'m Model,
    calib: Calibration,
    tables: Tables,
}

thread_local! {
    static WORK: std::cell::RefCell<Work> = std::cell::RefCell::new(Work::default());
}

/// Suffix classes for re-inflecting a synonym like the written word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suffix {
    S,
    Ed,
    Ing,
}

impl<'m> Detector<'m> {
    /// A detector over `model` with a calibration.
    pub fn new(model: &'m Model, calib: Calibration) -> Self {
        let tables = Tables::new(model, &calib.params);
        Self {
            model,
            calib,
            tables,
        }
    }

    /// The same detector with another calibration (the model tables are kept).
    pub fn with_calibration(mut self, calib: Calibration) -> Self {
        if calib.params != self.calib.params {
            self.tables = Tables::new(self.model, &calib.params);
        }
        self.calib = calib;
        self
    }

    /// The calibration in use.
    pub fn calibration(&self) -> &Calibration {
        &self.calib
    }

    /// The model in use.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Summed evidence of a text: the whole text and each section, with
    /// section byte spans. This is the fast pass alone.
    pub fn sums(&self, text: &str) -> (Sums, Vec<(usize, usize, Sums)>) {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass(text, &mut w);
            self.aggregate(text, &w)
        })
    }

    /// Work counts of the fast pass on `text`: (stream positions, sites,
    /// candidates, language-model queries), for tuning.
    #[doc(hidden)]
    pub fn pass_counts(&self, text: &str) -> (usize, usize, usize, usize) {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass(text, &mut w);
            (
                w.stream.len(),
                w.sites.len(),
                w.alts.len(),
                w.queries.len() + w.stream.len(),
            )
        })
    }

    /// Calibrated probability that `text` was spun (fast pass only).
    pub fn score(&self, text: &str) -> f32 {
        let (doc, secs) = self.sums(text);
        self.calib.doc_prob(&doc, &secs)
    }

    /// Full detection: probabilities, sections, evidence and per-word scores.
    pub fn detect(&self, text: &str, opts: &DetectOptions) -> Detection {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass(text, &mut w);
            let (doc, secs) = self.aggregate(text, &w);
            let prob = self.calib.doc_prob(&doc, &secs);
            let threshold = opts.threshold.unwrap_or(self.calib.threshold as f32);
            let sections: Vec<SectionScore> = secs
                .iter()
                .map(|(a, b, s)| SectionScore {
                    start: *a,
                    end: *b,
                    words: s.words as usize,
                    prob: self.calib.prob(&features(s)) as f32,
                    news_llr: s.news_llr,
                    synonym_llr: s.syn_llr,
                })
                .collect();
            let mut det = Detection {
                prob,
                spun: prob >= threshold,
                threshold,
                words: doc.words as usize,
                sections,
                evidence: Vec::new(),
                flagged: Vec::new(),
                sums: doc,
            };
            if opts.words {
                self.word_scores(text, &w, &secs, &mut det, opts);
            }
            det
        })
    }

    /// Replaces the fast pass's per-word scores inside the spun sections by
    /// the full restorer's (exact decoding of the whole text under the news
    /// channel: better originals, about ten times slower). Sections where the
    /// restorer changes nothing (synonym spinning) keep the fast scores.
    pub fn refine(
        &self,
        text: &str,
        det: &mut Detection,
        restorer: &mut Restorer,
        opts: &DetectOptions,
    ) {
        if det.sections.iter().any(|s| s.prob >= det.threshold) {
            let r = restorer.restore_document(text);
            self.refine_with(det, &r, opts);
        }
    }

    /// Like [`Detector::refine`], with the restorer's uncertain slots
    /// rescored by `scorer` (`--quality best`): better likely originals
    /// and per-word probabilities. The document and section probabilities
    /// are the calibrated fast pass's either way.
    pub fn refine_best(
        &self,
        text: &str,
        det: &mut Detection,
        restorer: &mut Restorer,
        scorer: &dyn crate::rescore::ContextScorer,
        opts: &DetectOptions,
    ) -> Result<(), crate::Error> {
        if det.sections.iter().any(|s| s.prob >= det.threshold) {
            let r = restorer.restore_document_best(text, scorer)?;
            self.refine_with(det, &r, opts);
        }
        Ok(())
    }

    /// Merges restoration `r` of the detected text into the word scores of its spun sections.
    fn refine_with(
        &self,
        det: &mut Detection,
        r: &crate::restore::Restoration,
        opts: &DetectOptions,
    ) {
        let spun: Vec<(usize, usize, f32)> = det
            .sections
            .iter()
            .filter(|s| s.prob >= det.threshold)
            .map(|s| (s.start, s.end, s.prob))
            .collect();
        if spun.is_empty() {
            return;
        }
        for &(a, b, p_sec) in &spun {
            let changes: Vec<&crate::restore::Change> = r
                .changes
                .iter()
                .filter(|c| c.start >= a && c.start < b)
                .collect();
            if changes.is_empty() {
                continue;
            }
            let fast: Vec<WordScore> = det
                .flagged
                .iter()
                .filter(|w| w.start >= a && w.start < b)
                .cloned()
                .collect();
            det.flagged.retain(|w| w.start < a || w.start >= b);
            // The restorer's probability that the word changed, by start offset.
            let restored = |start: usize| {
                changes.iter().find(|c| c.start == start).map(|c| {
                    let keep = c
                        .alternatives
                        .iter()
                        .find(|x| x.text == c.spun)
                        .map_or(0.0, |x| x.prob);
                    (p_sec * (1.0 - keep).clamp(0.0, 1.0), *c)
                })
            };
            // Both passes vote: the mean of the fast probability and the restorer's.
            for f in &fast {
                let (p_r, c) = match restored(f.start) {
                    Some((p, c)) => (p, Some(c)),
                    None => (0.0, None),
                };
                let prob = 0.5 * (f.prob + p_r);
                if prob < opts.word_floor {
                    continue;
                }
                let mut w = f.clone();
                w.prob = prob;
                if let Some(c) = c {
                    w.original = c.original.clone();
                    w.relation = c.relation.clone();
                    w.end = c.end;
                    w.text = c.spun.clone();
                }
                det.flagged.push(w);
            }
            for c in &changes {
                if fast.iter().any(|f| f.start == c.start) {
                    continue;
                }
                let (p_r, _) = restored(c.start).expect("a change");
                let prob = 0.5 * p_r;
                if prob < opts.word_floor {
                    continue;
                }
                let lm = &self.model.lm;
                det.flagged.push(WordScore {
                    start: c.start,
                    end: c.end,
                    text: c.spun.clone(),
                    prob,
                    original: c.original.clone(),
                    relation: c.relation.clone(),
                    model: "news",
                    rarity: lm
                        .id(&c.spun.to_lowercase())
                        .map_or(-99.0, |id| lm.log10_unigram(id)),
                    lm_gain: 0.0,
                    llr: 0.0,
                });
            }
            for e in det
                .evidence
                .iter_mut()
                .filter(|e| e.start >= a && e.start < b)
            {
                if let Some(c) = r.changes.iter().find(|c| c.start == e.start) {
                    e.original = c.original.clone();
                    e.relation = c.relation.clone();
                }
            }
        }
        det.flagged.sort_by_key(|w| w.start);
    }

    /// Per-word probabilities: the word's posterior under the hypothesis
    /// that explains its section better, times the section's probability.
    fn word_scores(
        &self,
        text: &str,
        w: &Work,
        secs: &[(usize, usize, Sums)],
        det: &mut Detection,
        opts: &DetectOptions,
    ) {
        let lm = &self.model.lm;
        let mut all = Vec::new();
        let mut si = 0;
        for (k, site) in w.sites.iter().enumerate() {
            let sc = &w.scores[k];
            if sc.best_alt == NONE {
                continue;
            }
            while si + 1 < secs.len() && secs[si].1 <= site.start as usize {
                si += 1;
            }
            let sec = &secs[si].2;
            let p_sec = det.sections[si].prob;
            // The news hypothesis explains the section when its likelihood ratio is positive.
            let w_news = sigmoid(sec.news_llr);
            let post = w_news * sc.news_post + (1.0 - w_news) * sc.syn_post;
            let (model, llr) = if w_news >= 0.5 {
                ("news", sc.news_llr)
            } else {
                ("synonym", sc.syn_llr)
            };
            let alt = w.alts[sc.best_alt as usize];
            let written = &text[site.start as usize..site.end as usize];
            let original = if site.phrase != NONE {
                self.model.lexicon.phrases()[site.phrase as usize]
                    .original
                    .join(" ")
            } else {
                lm.word(alt.lm).to_string()
            };
            all.push(WordScore {
                start: site.start as usize,
                end: site.end as usize,
                text: written.to_string(),
                prob: p_sec * post,
                original: match_case(written, &original),
                relation: alt.relation.as_str().to_string(),
                model,
                rarity: sc.rarity,
                lm_gain: sc.gain,
                llr,
            });
        }
        let mut ev: Vec<&WordScore> = all.iter().filter(|s| s.llr > 0.0).collect();
        ev.sort_by(|a, b| {
            (b.prob, b.llr)
                .partial_cmp(&(a.prob, a.llr))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.start.cmp(&b.start))
        });
        det.evidence = ev.into_iter().take(opts.evidence).cloned().collect();
        det.flagged = all
            .into_iter()
            .filter(|s| s.prob >= opts.word_floor)
            .collect();
    }

    /// Sections (cut at the first sentence start after `section_words`
    /// words; a tail of under half that joins the previous section) with their sums.
    fn aggregate(&self, text: &str, w: &Work) -> (Sums, Vec<(usize, usize, Sums)>) {
        let p = &self.calib.params;
        let strong = p.strong_llr;
        let (bos, eos) = (self.model.lm.bos(), self.model.lm.eos());
        let mut secs: Vec<(usize, usize, Sums)> = Vec::new();
        let mut cur = Sums::default();
        let mut start = 0usize;
        let mut si = 0usize;
        let mut words = 0usize;
        let mut last = 0u32;
        let n_sites = w.sites.len();
        let add_sites = |pos: u32, cur: &mut Sums, si: &mut usize| {
            while *si < n_sites && w.sites[*si].pos < pos {
                let s = &w.sites[*si];
                let sc = &w.scores[*si];
                if s.news != NONE || s.phrase != NONE {
                    cur.news_sites += 1.0;
                    cur.news_llr += sc.news_llr;
                    if sc.news_llr > strong {
                        cur.news_strong += 1.0;
                    }
                }
                if s.syn_site {
                    cur.syn_sites += 1.0;
                    cur.syn_llr += sc.syn_llr;
                    if sc.syn_llr > strong {
                        cur.syn_strong += 1.0;
                    }
                    cur.ctx_llr += sc.ctx_llr;
                    if sc.ctx_llr > strong {
                        cur.ctx_strong += 1.0;
                    }
                }
                if (sc.news_llr > strong || sc.syn_llr > strong) && sc.rarity < -5.0 {
                    cur.rare_strong += 1.0;
                }
                *si += 1;
            }
        };
        for &(pos, byte) in &w.boundaries {
            words += word_count_between(&w.stream, last, pos, bos, eos);
            last = pos;
            if words >= p.section_words {
                cur.words = words as f32;
                add_sites(pos, &mut cur, &mut si);
                secs.push((start, byte as usize, cur));
                cur = Sums::default();
                start = byte as usize;
                words = 0;
            }
        }
        words += word_count_between(&w.stream, last, w.stream.len() as u32, bos, eos);
        cur.words = words as f32;
        add_sites(u32::MAX, &mut cur, &mut si);
        if secs.is_empty() || words * 2 >= p.section_words {
            secs.push((start, text.len(), cur));
        } else {
            let prev = secs.last_mut().expect("non-empty");
            prev.1 = text.len();
            prev.2.add(&cur);
        }
        let mut doc = Sums::default();
        for s in &secs {
            doc.add(&s.2);
        }
        (doc, secs)
    }

    /// The scoring pass: tokens, LM stream and sites; the text as written;
    /// candidates in its place; per-site scores.
    fn pass(&self, text: &str, w: &mut Work) {
        self.build(text, w);
        let lm = &self.model.lm;
        let n = w.stream.len();
        w.queries.clear();
        for j in 2..n {
            w.queries
                .push([w.stream[j - 2], w.stream[j - 1], w.stream[j]]);
        }
        w.out.clear();
        w.out.resize(w.queries.len(), 0.0);
        lm.log10_prob_many(&w.queries, &mut w.out);
        w.keep.clear();
        w.keep.resize(n, 0.0);
        let bos = lm.bos();
        for j in 2..n {
            if w.stream[j] != bos {
                w.keep[j] = w.out[j - 2];
            }
        }
        self.add_alts(text, w);
        w.out.clear();
        w.out.resize(w.queries.len(), 0.0);
        lm.log10_prob_many(&w.queries, &mut w.out);
        self.score_sites(w);
    }

    /// Tokens -> LM stream, sentence boundaries and sites (without candidates).
    fn build(&self, text: &str, w: &mut Work) {
        let lm = &self.model.lm;
        let (bos, eos, unk) = (lm.bos(), lm.eos(), lm.unk());
        let tokens = std::mem::take(&mut w.tokens);
        let tokens = {
            let mut t = tokens;
            t.clear();
            t.extend(tokenize(text));
            t
        };
        w.stream.clear();
        w.sites.clear();
        w.alts.clear();
        w.boundaries.clear();
        w.stream.push(bos);
        w.stream.push(bos);
        let mut pending = false;
        let mut i = 0;
        while i < tokens.len() {
            let tk = tokens[i];
            match tk.kind {
                TokenKind::Word | TokenKind::Number => {
                    if pending {
                        if w.stream.len() > 2 {
                            w.stream.push(eos);
                            w.boundaries.push((w.stream.len() as u32, tk.start as u32));
                            w.stream.push(bos);
                        }
                        pending = false;
                    }
                    let word = tk.text(text);
                    let pos = w.stream.len() as u32;
                    if tk.bare {
                        if let Some(list) = self.tables.phrase_first.get(word) {
                            if let Some((ph, last)) = self.match_phrase(text, &tokens, i, list) {
                                let mut span = 0;
                                for tj in &tokens[i..=last] {
                                    if tj.kind == TokenKind::Word {
                                        w.stream.push(lm.id(tj.text(text)).unwrap_or(unk));
                                        span += 1;
                                    }
                                }
                                w.sites.push(Site {
                                    start: tk.start as u32,
                                    end: tokens[last].end as u32,
                                    pos,
                                    span,
                                    lm: unk,
                                    news: NONE,
                                    syn: NONE,
                                    base: NONE,
                                    sfx: Suffix::S,
                                    phrase: ph as u32,
                                    syn_site: false,
                                    alts: (0, 0),
                                });
                                i = last + 1;
                                continue;
                            }
                        }
                    }
                    let id = self.add_word(word, tk, pos, w);
                    w.stream.push(id);
                }
                TokenKind::Punct => {
                    if matches!(tk.text(text), "." | "!" | "?" | ";" | ":") {
                        pending = true;
                    }
                }
                TokenKind::Space => {
                    if tk.text(text).bytes().filter(|&b| b == b'\n').count() >= 2 {
                        pending = true;
                    }
                }
                TokenKind::Tag | TokenKind::Code => pending = true,
                TokenKind::Url | TokenKind::Email => w.stream.push(unk),
            }
            i += 1;
        }
        w.tokens = tokens;
        w.stream.push(eos);
    }

    fn match_phrase(
        &self,
        text: &str,
        tokens: &[Token],
        i: usize,
        list: &[usize],
    ) -> Option<(usize, usize)> {
        let phrases = self.model.lexicon.phrases();
        list.iter().find_map(|&pi| {
            crate::restore::phrase_at(&phrases[pi], text, tokens, i).map(|last| (pi, last))
        })
    }

    /// Looks a word up, records its site if it has one, and returns its LM id.
    fn add_word(&self, word: &str, tk: Token, pos: u32, w: &mut Work) -> WordId {
        let m = self.model;
        let lm = &m.lm;
        let t = &self.tables;
        let unk = lm.unk();
        let bytes = word.as_bytes();
        let lower_as_written = is_spun_form(word);
        let capitalized = !lower_as_written
            && bytes.len() > 1
            && bytes[0].is_ascii_uppercase()
            && bytes[1..].iter().all(|b| b.is_ascii_lowercase());
        let mut buf = [0u8; 40];
        let owned: String;
        let lower: &str = if lower_as_written {
            word
        } else if word.is_ascii() && word.len() <= buf.len() {
            buf[..word.len()].copy_from_slice(bytes);
            buf[..word.len()].make_ascii_lowercase();
            std::str::from_utf8(&buf[..word.len()]).expect("ASCII")
        } else {
            owned = word.to_lowercase();
            &owned
        };
        let lm_id = lm.id(lower).unwrap_or(unk);
        let news_ok = tk.bare && lower_as_written;
        let syn_ok = tk.kind == TokenKind::Word
            && (capitalized || lower_as_written)
            && lower.bytes().all(|b| b.is_ascii_lowercase())
            && !t.stop.contains(lower);
        if !news_ok && !syn_ok {
            return lm_id;
        }
        let lex_id = if lm_id != unk {
            t.lm_to_lex[lm_id as usize]
        } else {
            m.lexicon.id(lower).unwrap_or(NONE)
        };
        let (mut news, mut syn) = (NONE, NONE);
        if lex_id != NONE {
            let e = t.entries[lex_id as usize];
            if news_ok && e.news_site {
                news = lex_id;
            }
            if syn_ok && e.n_syn > 0 {
                syn = lex_id;
            }
        }
        // An inflected form's base is looked up later, and only if the word is surprising.
        let base = if syn_ok && lower.len() >= 4 && inflected_shape(lower) {
            PENDING
        } else {
            NONE
        };
        if news != NONE || syn != NONE || base != NONE {
            w.sites.push(Site {
                start: tk.start as u32,
                end: tk.end as u32,
                pos,
                span: 1,
                lm: lm_id,
                news,
                syn,
                base,
                sfx: Suffix::S,
                phrase: NONE,
                syn_site: syn_ok,
                alts: (0, 0),
            });
        }
        lm_id
    }

    /// The lexicon entry (with synonyms) of the base of a regularly inflected form.
    fn base_form(&self, lower: &str, buf: &mut String) -> Option<(u32, Suffix)> {
        let b = lower.as_bytes();
        let n = b.len();
        let mut tries: [(usize, &str, Suffix); 3] = [(0, "", Suffix::S); 3];
        let mut k = 0;
        let mut push = |cut: usize, add: &'static str, s: Suffix| {
            if k < 3 && cut >= 3 {
                tries[k] = (cut, add, s);
                k += 1;
            }
        };
        if lower.ends_with("ies") {
            push(n - 3, "y", Suffix::S);
        } else if lower.ends_with("es") {
            push(n - 1, "", Suffix::S);
            push(n - 2, "", Suffix::S);
        } else if lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us") {
            push(n - 1, "", Suffix::S);
        } else if lower.ends_with("ied") {
            push(n - 3, "y", Suffix::Ed);
        } else if lower.ends_with("ed") {
            push(n - 1, "", Suffix::Ed);
            push(n - 2, "", Suffix::Ed);
            if n >= 5 && b[n - 3] == b[n - 4] {
                push(n - 3, "", Suffix::Ed);
            }
        } else if lower.ends_with("ing") {
            push(n - 3, "", Suffix::Ing);
            push(n - 3, "e", Suffix::Ing);
            if n >= 6 && b[n - 4] == b[n - 5] {
                push(n - 4, "", Suffix::Ing);
            }
        } else {
            return None;
        }
        for &(cut, add, sfx) in &tries[..k] {
            buf.clear();
            buf.push_str(&lower[..cut]);
            buf.push_str(add);
            if let Some(id) = self.model.lexicon.id(buf) {
                if self.tables.entries[id as usize].n_syn > 0 {
                    return Some((id, sfx));
                }
            }
        }
        None
    }

    /// Candidates of every site and their language-model queries.
    fn add_alts(&self, text: &str, w: &mut Work) {
        let lm = &self.model.lm;
        let t = &self.tables;
        let p = &self.calib.params;
        let (eos, unk) = (lm.eos(), lm.unk());
        let n = w.stream.len();
        w.queries.clear();
        w.alts.clear();
        for si in 0..w.sites.len() {
            let site = w.sites[si];
            let pos = site.pos as usize;
            let a0 = w.alts.len() as u32;
            if site.phrase != NONE {
                let ids = &t.phrase_ids[site.phrase as usize];
                let q = w.queries.len() as u32;
                let (mut h2, mut h1) = (w.stream[pos - 2], w.stream[pos - 1]);
                for &id in ids {
                    w.queries.push([h2, h1, id]);
                    (h2, h1) = (h1, id);
                }
                let mut j = pos + site.span as usize;
                let mut extra = 0;
                while j < n && extra < p.context_after.max(1) {
                    let x = w.stream[j];
                    w.queries.push([h2, h1, x]);
                    if x == eos {
                        break;
                    }
                    (h2, h1) = (h1, x);
                    j += 1;
                    extra += 1;
                }
                w.alts.push(Alt {
                    lm: ids.first().copied().unwrap_or(unk),
                    news_ln: 0.95f32.ln(),
                    syn: false,
                    syn_ln: 0.0,
                    relation: Relation::Phrase,
                    q,
                    nq: w.queries.len() as u32 - q,
                });
                w.sites[si].alts = (a0, w.alts.len() as u32);
                continue;
            }
            if site.news != NONE && w.keep[pos] + w.keep[pos + 1] < p.news_surprise {
                let live = t
                    .cands_of(site.news)
                    .iter()
                    .filter(|c| c.news_ln.is_finite());
                for c in live.take(p.max_candidates) {
                    w.alts.push(Alt {
                        lm: c.lm,
                        news_ln: c.news_ln,
                        syn: c.syn && site.syn_site,
                        syn_ln: c.syn_ln,
                        relation: c.relation,
                        q: 0,
                        nq: 0,
                    });
                }
            }
            if site.syn_site && w.keep[pos] < p.synonym_surprise {
                let mut k = w.alts[a0 as usize..].iter().filter(|a| a.syn).count();
                if site.syn != NONE {
                    for c in t.cands_of(site.syn) {
                        if k >= p.synonym_candidates {
                            break;
                        }
                        if !c.syn || w.alts[a0 as usize..].iter().any(|a| a.lm == c.lm) {
                            continue;
                        }
                        k += 1;
                        w.alts.push(Alt {
                            lm: c.lm,
                            news_ln: f32::NEG_INFINITY,
                            syn: true,
                            syn_ln: c.syn_ln,
                            relation: c.relation,
                            q: 0,
                            nq: 0,
                        });
                    }
                }
                let mut site = site;
                if site.base == PENDING {
                    let word = &text[site.start as usize..site.end as usize];
                    let mut buf = [0u8; 40];
                    site.base = NONE;
                    if word.is_ascii() && word.len() <= buf.len() {
                        buf[..word.len()].copy_from_slice(word.as_bytes());
                        buf[..word.len()].make_ascii_lowercase();
                        let lower = std::str::from_utf8(&buf[..word.len()]).expect("ASCII");
                        if let Some((b, sfx)) = self.base_form(lower, &mut w.infl) {
                            site.base = b;
                            site.sfx = sfx;
                        }
                    }
                    w.sites[si].base = site.base;
                    w.sites[si].sfx = site.sfx;
                }
                if site.base != NONE {
                    for c in t.cands_of(site.base) {
                        if k >= p.synonym_candidates {
                            break;
                        }
                        if !c.syn {
                            continue;
                        }
                        let Some(id) =
                            inflect(self.model.lexicon.word(c.lex), site.sfx, &mut w.infl, |s| {
                                lm.id(s)
                            })
                        else {
                            continue;
                        };
                        if id == site.lm || w.alts[a0 as usize..].iter().any(|a| a.lm == id) {
                            continue;
                        }
                        k += 1;
                        w.alts.push(Alt {
                            lm: id,
                            news_ln: f32::NEG_INFINITY,
                            syn: true,
                            syn_ln: c.syn_ln,
                            relation: c.relation,
                            q: 0,
                            nq: 0,
                        });
                    }
                }
            }
            let a1 = w.alts.len() as u32;
            for a in a0..a1 {
                let c = w.alts[a as usize].lm;
                let q = w.queries.len() as u32;
                w.queries.push([w.stream[pos - 2], w.stream[pos - 1], c]);
                let n1 = w.stream[pos + 1];
                w.queries.push([w.stream[pos - 1], c, n1]);
                if p.context_after >= 2 && n1 != eos && pos + 2 < n {
                    w.queries.push([c, n1, w.stream[pos + 2]]);
                }
                let alt = &mut w.alts[a as usize];
                alt.q = q;
                alt.nq = w.queries.len() as u32 - q;
            }
            w.sites[si].alts = (a0, a1);
        }
    }

    /// Log-likelihood ratios and posteriors of every site.
    fn score_sites(&self, w: &mut Work) {
        let lm = &self.model.lm;
        let p = &self.calib.params;
        let eos = lm.eos();
        let n = w.stream.len();
        let lam_news = p.lm_weight * LN10;
        let lam_syn = p.synonym_lm_weight * LN10;
        let syn_odds = p.synonym_prior / (1.0 - p.synonym_prior);
        let after = p.context_after.max(1);
        w.scores.clear();
        for site in &w.sites {
            let pos = site.pos as usize;
            // The written words and the next two (up to a sentence end).
            let mut keep = 0.0f32;
            let end = pos + site.span as usize;
            let mut j = pos;
            while j < n {
                keep += w.keep[j];
                if j >= end && (w.stream[j] == eos || j + 1 - end >= after) {
                    break;
                }
                j += 1;
            }
            let (mut news_terms, mut syn_terms, mut ctx_terms) = (0.0f32, 0.0f32, 0.0f32);
            let uni = &self.tables.unigram;
            let u_s = uni.get(site.lm as usize).copied().unwrap_or(-7.0);
            let (mut best, mut best_val, mut best_gain) = (NONE, f32::NEG_INFINITY, 0.0f32);
            for a in site.alts.0..site.alts.1 {
                let alt = w.alts[a as usize];
                let s: f32 = w.out[alt.q as usize..(alt.q + alt.nq) as usize]
                    .iter()
                    .sum();
                let d = s - keep;
                let news_v = alt.news_ln + d * lam_news;
                let syn_v = if alt.syn {
                    alt.syn_ln + d * lam_syn
                } else {
                    f32::NEG_INFINITY
                };
                if news_v.is_finite() {
                    news_terms += news_v.min(60.0).exp();
                }
                if syn_v.is_finite() {
                    syn_terms += syn_v.min(60.0).exp();
                    let d_ctx = d - (uni.get(alt.lm as usize).copied().unwrap_or(-7.0) - u_s);
                    ctx_terms += (alt.syn_ln + d_ctx * lam_syn).min(60.0).exp();
                }
                let v = news_v.max(syn_v);
                if v > best_val {
                    (best, best_val, best_gain) = (a, v, d * LN10);
                }
            }
            let mut sc = SiteScore {
                best_alt: best,
                gain: best_gain,
                rarity: if site.phrase != NONE || site.lm == lm.unk() {
                    -99.0
                } else {
                    self.tables.unigram[site.lm as usize]
                },
                ..SiteScore::default()
            };
            if site.phrase != NONE || site.news != NONE {
                let keep_p = if site.phrase != NONE {
                    0.05
                } else {
                    self.tables.entries[site.news as usize].keep_ln.exp()
                };
                let z = keep_p + news_terms;
                sc.news_llr = z.ln();
                sc.news_post = news_terms / z;
            }
            if site.syn_site {
                let r = syn_odds * syn_terms;
                sc.syn_llr = r.ln_1p().min(p.synonym_cap);
                sc.syn_post = r / (1.0 + r);
                sc.ctx_llr = (syn_odds * ctx_terms).ln_1p().min(p.synonym_cap);
            }
            w.scores.push(sc);
        }
    }
}

/// Counts word positions in `stream[from..to]` (everything but sentence markers).
fn word_count_between(stream: &[WordId], from: u32, to: u32, bos: WordId, eos: WordId) -> usize {
    stream[from as usize..to as usize]
        .iter()
        .filter(|&&x| x != bos && x != eos)
        .count()
}

/// Inflects a base form like a written word's suffix class (regular
/// spelling rules); returns the first form the model knows.
fn inflect(
    base: &str,
    sfx: Suffix,
    buf: &mut String,
    known: impl Fn(&str) -> Option<WordId>,
) -> Option<WordId> {
    let b = base.as_bytes();
    let last = *b.last()?;
    let vowel = |c: u8| b"aeiou".contains(&c);
    let cons_y = last == b'y' && b.len() > 1 && !vowel(b[b.len() - 2]);
    let stem = &base[..base.len() - 1];
    let mut try_form = |parts: [&str; 3]| {
        buf.clear();
        for p in parts {
            buf.push_str(p);
        }
        known(buf)
    };
    let double = [last];
    let double = std::str::from_utf8(&double).unwrap_or("");
    match sfx {
        Suffix::S => {
            if base.ends_with(['s', 'x', 'z']) || base.ends_with("ch") || base.ends_with("sh") {
                try_form([base, "es", ""])
            } else if cons_y {
                try_form([stem, "ies", ""])
            } else {
                try_form([base, "s", ""])
            }
        }
        Suffix::Ed => {
            if last == b'e' {
                try_form([base, "d", ""])
            } else if cons_y {
                try_form([stem, "ied", ""])
            } else {
                try_form([base, "ed", ""]).or_else(|| try_form([base, double, "ed"]))
            }
        }
        Suffix::Ing => {
            if last == b'e' && !base.ends_with("ee") && b.len() > 2 {
                try_form([stem, "ing", ""])
            } else {
                try_form([base, "ing", ""]).or_else(|| try_form([base, double, "ing"]))
            }
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// bias + Σ w·(x − mean)/scale: a logistic model on standardized features.
fn standardized_logit(bias: f64, mean: &[f64], scale: &[f64], weights: &[f64], x: &[f64]) -> f64 {
    bias + x
        .iter()
        .zip(mean)
        .zip(scale)
        .zip(weights)
        .map(|(((v, m), s), w)| w * (v - m) / s)
        .sum::<f64>()
}

fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

// ---------------------------------------------------------------------------
// Calibration math: logistic regression, ROC AUC, expected calibration error
// ---------------------------------------------------------------------------

/// A logistic regression fitted by [`fit_logistic`]: weights on standardized features.
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticFit {
    /// Feature means used for standardization.
    pub mean: Vec<f64>,
    /// Feature standard deviations used for standardization (1 where a feature is constant).
    pub scale: Vec<f64>,
    /// Weights on the standardized features.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
    /// Newton iterations run.
    pub iterations: usize,
}

impl LogisticFit {
    /// The log-odds of a raw feature vector.
    pub fn logit(&self, x: &[f64]) -> f64 {
        standardized_logit(self.bias, &self.mean, &self.scale, &self.weights, x)
    }

    /// The probability of a raw feature vector.
    pub fn prob(&self, x: &[f64]) -> f64 {
        sigmoid64(self.logit(x))
    }
}

/// Fits a weighted logistic regression by Newton's method (iteratively
/// reweighted least squares) on standardized features, with an L2 penalty
/// `l2` on the weights (not the intercept). `y` holds labels in {0, 1} (or
/// soft labels in between); `weight` per-sample weights (empty: all 1).
pub fn fit_logistic(x: &[Vec<f64>], y: &[f64], weight: &[f64], l2: f64) -> LogisticFit {
    let n = x.len();
    assert_eq!(n, y.len(), "one label per sample");
    assert!(
        weight.is_empty() || weight.len() == n,
        "one weight per sample"
    );
    let k = x.first().map_or(0, |r| r.len());
    let wt = |i: usize| if weight.is_empty() { 1.0 } else { weight[i] };
    let total: f64 = (0..n).map(wt).sum::<f64>().max(f64::MIN_POSITIVE);
    let mut mean = vec![0.0; k];
    let mut scale = vec![0.0; k];
    for (i, row) in x.iter().enumerate() {
        for j in 0..k {
            mean[j] += wt(i) * row[j];
        }
    }
    mean.iter_mut().for_each(|m| *m /= total);
    for (i, row) in x.iter().enumerate() {
        for j in 0..k {
            scale[j] += wt(i) * (row[j] - mean[j]).powi(2);
        }
    }
    for s in &mut scale {
        *s = (*s / total).sqrt();
        if s.is_nan() || *s <= 1e-12 {
            *s = 1.0;
        }
    }
    // Standardized design with a leading 1 for the intercept.
    let z: Vec<Vec<f64>> = x
        .iter()
        .map(|r| {
            std::iter::once(1.0)
                .chain((0..k).map(|j| (r[j] - mean[j]) / scale[j]))
                .collect()
        })
        .collect();
    let d = k + 1;
    let mut beta = vec![0.0; d];
    let mut iterations = 0;
    for it in 0..100 {
        iterations = it + 1;
        let mut g = vec![0.0; d];
        let mut h = vec![vec![0.0; d]; d];
        for (i, zi) in z.iter().enumerate() {
            let eta: f64 = zi.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = sigmoid64(eta);
            let r = wt(i) * (p - y[i]);
            let v = wt(i) * (p * (1.0 - p)).max(1e-12);
            for a in 0..d {
                g[a] += r * zi[a];
                for b in a..d {
                    h[a][b] += v * zi[a] * zi[b];
                }
            }
        }
        // The lower triangle mirrors the upper one; the penalty spares the intercept.
        let upper = h.clone();
        for (a, row) in h.iter_mut().enumerate() {
            for (b, v) in row.iter_mut().enumerate().take(a) {
                *v = upper[b][a];
            }
            if a > 0 {
                g[a] += l2 * beta[a];
                row[a] += l2;
            }
        }
        let step = solve(h, g);
        let mut max_step = 0.0f64;
        for a in 0..d {
            beta[a] -= step[a];
            max_step = max_step.max(step[a].abs());
        }
        if max_step < 1e-9 {
            break;
        }
    }
    LogisticFit {
        mean,
        scale,
        weights: beta[1..].to_vec(),
        bias: beta[0],
        iterations,
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting (small dense systems).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .expect("non-empty");
        a.swap(c, piv);
        b.swap(c, piv);
        let d = a[c][c];
        if d.abs() < 1e-300 {
            continue;
        }
        let (top, bottom) = a.split_at_mut(c + 1);
        let pivot = &top[c];
        for (k, row) in bottom.iter_mut().enumerate() {
            let f = row[c] / d;
            if f != 0.0 {
                for (x, y) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * y;
                }
                b[c + 1 + k] -= f * b[c];
            }
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c][k] * x[k]).sum();
        x[c] = if a[c][c].abs() < 1e-300 {
            0.0
        } else {
            (b[c] - s) / a[c][c]
        };
    }
    x
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative, ties counting one half (Mann-Whitney U).
/// `None` when either class is empty.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len());
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (mid-)ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum += mid;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Expected calibration error with `bins` equal-width probability bins:
/// the average over samples of |observed rate - mean probability| in their bin.
pub fn expected_calibration_error(probs: &[f64], labels: &[bool], bins: usize) -> f64 {
    assert_eq!(probs.len(), labels.len());
    if probs.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut count = vec![0usize; bins];
    let mut conf = vec![0.0f64; bins];
    let mut hits = vec![0.0f64; bins];
    for (&p, &l) in probs.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += p;
        hits[b] += l as u8 as f64;
    }
    let n = probs.len() as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (hits[b] - conf[b]).abs() / n)
        .sum()
}

/// The smallest threshold at which at most `max_fpr` of the negatives score at or above it.
pub fn threshold_for_fpr(negative_scores: &[f64], max_fpr: f64) -> f64 {
    if negative_scores.is_empty() {
        return 0.5;
    }
    let mut s = negative_scores.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let allowed = (max_fpr * s.len() as f64).floor() as usize;
    // Scores strictly above s[allowed] are at most `allowed` in number.
    let t = s[allowed.min(s.len() - 1)];
    let next = if t >= 1.0 {
        1.0
    } else {
        t + (1.0 - t) * 1e-6 + 1e-12
    };
    next.min(1.0)
}

// ---------------------------------------------------------------------------
// Labelled documents for calibration and benchmarks
// ---------------------------------------------------------------------------

/// A document of a corpus split.
#[derive(Clone, Debug)]
pub struct CorpusDoc {
    /// Identifier (from the JSONL file, or "train-N").
    pub id: String,
    /// Domain (speech, fiction, dictionary; "train" when unknown).
    pub domain: String,
    /// The text.
    pub text: String,
}

/// Reads `train.txt`/`heldout.txt`: one paragraph per line, documents separated by a blank line.
pub fn read_paragraph_corpus(text: &str) -> Vec<CorpusDoc> {
    text.split("\n\n")
        .map(|d| d.trim_matches('\n'))
        .filter(|d| !d.trim().is_empty())
        .enumerate()
        .map(|(i, d)| CorpusDoc {
            id: format!("doc-{i}"),
            domain: "unknown".into(),
            text: d.to_string(),
        })
        .collect()
}

/// Reads `heldout.jsonl`: {"id", "domain", "text"} per line.
pub fn read_jsonl_corpus(text: &str) -> Result<Vec<CorpusDoc>, Error> {
    let mut out = Vec::new();
    for (k, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::Input(format!("line {}: not JSON: {e}", k + 1)))?;
        let text = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| Error::Input(format!("line {}: no string field \"text\"", k + 1)))?;
        let id = match v.get("id") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(x) => x.to_string(),
            None => format!("line-{}", k + 1),
        };
        let domain = v
            .get("domain")
            .and_then(|d| d.as_str())
            .unwrap_or("unknown")
            .to_string();
        out.push(CorpusDoc {
            id,
            domain,
            text: text.to_string(),
        });
    }
    Ok(out)
}

/// Cuts a text into consecutive pieces of exactly `n` whitespace-separated
/// words (the separators between them kept as they are); a shorter tail is dropped.
pub fn pieces(text: &str, n: usize) -> Vec<&str> {
    let toks = crate::spinner::whitespace_tokens(text);
    toks.chunks_exact(n.max(1))
        .map(|c| &text[c[0].0..c[c.len() - 1].1])
        .collect()
}

/// A spinner setting used to make labelled data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Condition {
    /// Not spun.
    Clean,
    /// The news profile replacing a `rate` share of dictionary word types (default 0.8).
    News(f64),
    /// The synonym profile replacing a `rate` share of content words.
    Synonym(f64),
}

impl Condition {
    /// "clean", "news", "news@0.5", "synonym@0.15".
    pub fn label(&self) -> String {
        match *self {
            Condition::Clean => "clean".into(),
            Condition::News(r) if (r - 0.8).abs() < 1e-9 => "news".into(),
            Condition::News(r) => format!("news@{r}"),
            Condition::Synonym(r) => format!("synonym@{r}"),
        }
    }

    /// The simulator profile (`None` for clean), the way `unspin spin --rate` sets it.
    pub fn profile(&self) -> Option<crate::spinner::Profile> {
        use crate::spinner::{NewsConfig, Profile, SynonymConfig};
        match *self {
            Condition::Clean => None,
            Condition::News(r) => {
                let mut cfg = NewsConfig::default();
                let replaced = 1.0 - cfg.skip_share;
                let scale = if replaced > 0.0 { r / replaced } else { 0.0 };
                cfg.skip_share = 1.0 - r;
                cfg.off_rule_share *= scale;
                cfg.chain_share *= scale;
                Some(Profile::News(cfg))
            }
            Condition::Synonym(r) => Some(Profile::Synonym(SynonymConfig { rate: r })),
        }
    }
}

/// A labelled document: clean, spun as a whole, or with one spun passage.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The text given to the detector.
    pub text: String,
    /// Whether any of it was spun.
    pub spun: bool,
    /// The setting that made it.
    pub condition: Condition,
    /// Its length class in words (50, 200, 1000).
    pub length: usize,
    /// Its corpus domain.
    pub domain: String,
    /// Byte spans of the spun words in `text`.
    pub spans: Vec<(usize, usize)>,
    /// The original wording of each span.
    pub originals: Vec<String>,
    /// Only a passage of the document was spun.
    pub passage: bool,
}

impl Sample {
    /// The condition's label, with "+passage" when only a passage was spun.
    pub fn label(&self) -> String {
        if self.passage {
            format!("{}+passage", self.condition.label())
        } else {
            self.condition.label()
        }
    }
}

/// Spins `text` (a whole piece) with `spinner`, or only the words
/// `[from, to)` of it when `passage` is given, and labels it.
pub fn spun_sample(
    spinner: &crate::spinner::Spinner,
    condition: Condition,
    text: &str,
    length: usize,
    domain: &str,
    passage: Option<(usize, usize)>,
) -> Sample {
    let (prefix, middle, suffix) = match passage {
        Some((a, b)) => {
            let toks = crate::spinner::whitespace_tokens(text);
            let a = a.min(toks.len());
            let b = b.min(toks.len()).max(a);
            if a == b {
                (text, "", "")
            } else {
                let s = toks[a].0;
                let e = toks[b - 1].1;
                (&text[..s], &text[s..e], &text[e..])
            }
        }
        None => ("", text, ""),
    };
    let spun = spinner.spin(middle);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    out.push_str(prefix);
    let off = out.len();
    out.push_str(&spun.text);
    out.push_str(suffix);
    let spans: Vec<(usize, usize)> = spun
        .changes
        .iter()
        .map(|c| (c.spun_start + off, c.spun_end + off))
        .collect();
    Sample {
        text: out,
        spun: !spans.is_empty(),
        condition,
        length,
        domain: domain.to_string(),
        spans,
        originals: spun.changes.iter().map(|c| c.original.clone()).collect(),
        passage: passage.is_some(),
    }
}

/// Which labelled documents to make from a corpus split.
#[derive(Clone, Debug)]
pub struct DatasetSpec {
    /// Document lengths in words.
    pub lengths: Vec<usize>,
    /// At most this many pieces per length (spread evenly over the corpus).
    pub max_pieces: usize,
    /// Spinner settings.
    pub conditions: Vec<Condition>,
    /// Spinner seeds, used in turn.
    pub seeds: Vec<u64>,
    /// Every piece spun under every condition (benchmark), or under one in turn (calibration).
    pub all_conditions: bool,
    /// Also one spun passage of about 200 words inside each piece of 1,000 words or more.
    pub partial: bool,
}

impl DatasetSpec {
    /// The benchmark's documents: every piece of each length clean and spun
    /// by news and synonym at 5%, 15% and 30% (seeds 1-4), plus spun passages.
    pub fn benchmark(lengths: Vec<usize>, max_pieces: usize) -> Self {
        Self {
            lengths,
            max_pieces,
            conditions: vec![
                Condition::News(0.8),
                Condition::Synonym(0.05),
                Condition::Synonym(0.15),
                Condition::Synonym(0.3),
            ],
            seeds: vec![1, 2, 3, 4],
            all_conditions: true,
            partial: true,
        }
    }
}

/// Makes the labelled documents: each piece clean, and spun as `spec` says.
/// Deterministic. Spinners are built once per (condition, seed).
pub fn build_samples(
    wn: &crate::wordnet::WordNet,
    docs: &[CorpusDoc],
    spec: &DatasetSpec,
) -> Vec<Sample> {
    use crate::spinner::Spinner;
    let spinners: Vec<Vec<Spinner>> = spec
        .conditions
        .iter()
        .map(|c| {
            spec.seeds
                .iter()
                .map(|&s| Spinner::new(wn, c.profile().expect("a spinning condition"), s))
                .collect()
        })
        .collect();
    // Consecutive documents of one domain are read as one running text, so
    // pieces longer than a document exist.
    let mut runs: Vec<(String, &str)> = Vec::new();
    for d in docs {
        match runs.last_mut() {
            Some((text, dom)) if *dom == d.domain.as_str() => {
                text.push('\n');
                text.push_str(&d.text);
            }
            _ => runs.push((d.text.clone(), d.domain.as_str())),
        }
    }
    let mut out = Vec::new();
    for &len in &spec.lengths {
        let all: Vec<(&str, &str)> = runs
            .iter()
            .flat_map(|(text, dom)| pieces(text, len).into_iter().map(move |p| (p, *dom)))
            .collect();
        let step = (all.len() as f64 / spec.max_pieces.max(1) as f64).max(1.0);
        let mut k = 0usize;
        let mut x = 0.0f64;
        while (x as usize) < all.len() {
            let (piece, domain) = all[x as usize];
            x += step;
            out.push(clean_sample(piece, len, domain));
            let seed_i = k % spec.seeds.len().max(1);
            if spec.all_conditions {
                for (ci, &c) in spec.conditions.iter().enumerate() {
                    out.push(spun_sample(
                        &spinners[ci][seed_i],
                        c,
                        piece,
                        len,
                        domain,
                        None,
                    ));
                }
            } else if !spec.conditions.is_empty() {
                let ci = k % spec.conditions.len();
                let seed_i = (k / spec.conditions.len()) % spec.seeds.len().max(1);
                out.push(spun_sample(
                    &spinners[ci][seed_i],
                    spec.conditions[ci],
                    piece,
                    len,
                    domain,
                    None,
                ));
            }
            if spec.partial && len >= 1000 {
                // One passage of 200 words, spun by the news profile or the synonym profile's highest rate.
                let strong: Vec<usize> = (0..spec.conditions.len())
                    .filter(|&i| match spec.conditions[i] {
                        Condition::News(r) => r >= 0.8 - 1e-9,
                        Condition::Synonym(r) => r >= 0.3 - 1e-9,
                        Condition::Clean => false,
                    })
                    .collect();
                if !strong.is_empty() {
                    let ci = strong[k % strong.len()];
                    let at = (k * 131) % (len - 200);
                    out.push(spun_sample(
                        &spinners[ci][seed_i],
                        spec.conditions[ci],
                        piece,
                        len,
                        domain,
                        Some((at, at + 200)),
                    ));
                }
            }
            k += 1;
        }
    }
    out
}

/// Runs `f` over `items` on `threads` threads (scoped; results in order).
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.max(1).min(items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Calibration units of one scored sample: the whole document and, when it
/// has several sections, each section, with their labels (a section is spun
/// when a spun span starts inside it).
pub fn training_units(
    sample: &Sample,
    doc: &Sums,
    secs: &[(usize, usize, Sums)],
) -> Vec<(Vec<f64>, bool)> {
    let mut out = vec![(features(doc), sample.spun)];
    if secs.len() > 1 {
        for (a, b, s) in secs {
            let spun = sample.spans.iter().any(|sp| sp.0 >= *a && sp.0 < *b);
            out.push((features(s), spun));
        }
    }
    out
}

/// A clean labelled document.
pub fn clean_sample(text: &str, length: usize, domain: &str) -> Sample {
    Sample {
        text: text.to_string(),
        spun: false,
        condition: Condition::Clean,
        length,
        domain: domain.to_string(),
        spans: Vec::new(),
        originals: Vec::new(),
        passage: false,
    }
}

/// Word-level counts of a detection against the spinner's spans: a
/// whitespace word is spun when it overlaps a changed span, flagged when it
/// overlaps a flagged word at or above `threshold`.
pub fn word_counts(
    text: &str,
    spans: &[(usize, usize)],
    flagged: &[WordScore],
    threshold: f32,
) -> (usize, usize, usize) {
    let flags: Vec<(usize, usize)> = flagged
        .iter()
        .filter(|w| w.prob >= threshold)
        .map(|w| (w.start, w.end))
        .collect();
    let overlaps = |list: &[(usize, usize)], a: usize, b: usize| {
        let i = list.partition_point(|s| s.1 <= a);
        list.get(i).is_some_and(|s| s.0 < b)
    };
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for (a, b) in crate::spinner::whitespace_tokens(text) {
        let truth = overlaps(spans, a, b);
        let flag = overlaps(&flags, a, b);
        match (truth, flag) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            _ => {}
        }
    }
    (tp, fp, fneg)
}

/// Detection quality on one group of labelled documents.
#[derive(Clone, Debug, Serialize)]
pub struct EvalRow {
    /// Document length in words.
    pub length: usize,
    /// Spinner setting of the spun documents (compared with the clean ones of the same length).
    pub condition: String,
    /// Clean documents.
    pub clean: usize,
    /// Spun documents.
    pub spun: usize,
    /// ROC AUC of spun against clean.
    pub auc: f64,
    /// Share of clean documents at or above the threshold.
    pub fpr: f64,
    /// Share of spun documents at or above the threshold.
    pub tpr: f64,
}

/// ROC AUC, false- and true-positive rates per (length, condition): the
/// spun documents of each condition against all clean documents of that length.
pub fn eval_rows(samples: &[Sample], probs: &[f64], threshold: f64) -> Vec<EvalRow> {
    let mut lengths: Vec<usize> = samples.iter().map(|s| s.length).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let mut conds: Vec<String> = Vec::new();
    for s in samples.iter().filter(|s| s.condition != Condition::Clean) {
        let l = s.label();
        if !conds.contains(&l) {
            conds.push(l);
        }
    }
    let mut rows = Vec::new();
    for &len in &lengths {
        let clean: Vec<f64> = samples
            .iter()
            .zip(probs)
            .filter(|(s, _)| s.length == len && s.condition == Condition::Clean)
            .map(|(_, &p)| p)
            .collect();
        let fpr =
            clean.iter().filter(|&&p| p >= threshold).count() as f64 / clean.len().max(1) as f64;
        for c in &conds {
            // Documents the spinner left unchanged are not spun; they are left out.
            let spun: Vec<f64> = samples
                .iter()
                .zip(probs)
                .filter(|(s, _)| s.length == len && s.spun && &s.label() == c)
                .map(|(_, &p)| p)
                .collect();
            if spun.is_empty() {
                continue;
            }
            let scores: Vec<f64> = clean.iter().chain(&spun).copied().collect();
            let labels: Vec<bool> = clean
                .iter()
                .map(|_| false)
                .chain(spun.iter().map(|_| true))
                .collect();
            rows.push(EvalRow {
                length: len,
                condition: c.clone(),
                clean: clean.len(),
                spun: spun.len(),
                auc: roc_auc(&scores, &labels).unwrap_or(f64::NAN),
                fpr,
                tpr: spun.iter().filter(|&&p| p >= threshold).count() as f64 / spun.len() as f64,
            });
        }
    }
    rows
}

/// Expected calibration error (10 bins) over documents whose length is in
/// `lengths` (all when empty), with the clean documents repeated so both
/// classes count alike, as in calibration.
pub fn balanced_ece(samples: &[Sample], probs: &[f64], lengths: &[usize]) -> f64 {
    let keep = |s: &Sample| {
        (lengths.is_empty() || lengths.contains(&s.length))
            && (s.spun || s.condition == Condition::Clean)
    };
    let n_clean = samples.iter().filter(|s| keep(s) && !s.spun).count();
    let n_spun = samples.iter().filter(|s| keep(s) && s.spun).count();
    if n_clean == 0 || n_spun == 0 {
        return f64::NAN;
    }
    let rep = ((n_spun as f64 / n_clean as f64).round() as usize).max(1);
    let mut p = Vec::new();
    let mut l = Vec::new();
    for (s, &q) in samples.iter().zip(probs) {
        if !keep(s) {
            continue;
        }
        let times = if s.spun { 1 } else { rep };
        for _ in 0..times {
            p.push(q);
            l.push(s.spun);
        }
    }
    expected_calibration_error(&p, &l, 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "The town council met on Tuesday evening to discuss the new budget for the coming year. \
Most of the money will go to schools, roads and the public library, which has been closed for repairs since the \
spring. Several residents spoke during the meeting. One teacher asked the council to hire more staff for the \
elementary school, where classes have grown larger every year. A local business owner said that the main street \
needs better lighting and wider sidewalks, because more people now walk to the shops in the evening. The mayor \
thanked everyone for their comments and promised that the council would read every letter it receives before the \
final vote next month. After the meeting, a few members of the council stayed to answer questions from reporters \
about the cost of the new bridge over the river, which is expected to open in two years.\n";

    fn model() -> &'static Model {
        static M: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        M.get_or_init(|| {
            Model::new(
                crate::models::embedded_lm().unwrap(),
                crate::models::embedded_lexicon().unwrap(),
            )
        })
    }

    #[test]
    fn embedded_calibration_fits_this_build() {
        let c = crate::models::embedded_calibration().unwrap();
        assert_eq!(c.features, FEATURE_NAMES);
        assert!(c.threshold >= 0.5 && c.threshold <= 1.0);
        assert!(c.word_threshold > 0.0 && c.word_threshold < 1.0);
    }

    #[test]
    fn news_spinner_words_are_found_with_their_originals() {
        let d = Detector::new(model(), crate::models::embedded_calibration().unwrap());
        let text = "helium said the caller rules would beryllium published connected Monday, arsenic planned. \
The council met along Tuesday to discourse the fresh fund for the coming year, and person been asked to \
sphere the public library unfastened arsenic long arsenic possible.";
        let det = d.detect(text, &DetectOptions::default());
        assert!(det.spun, "{det:?}");
        let find = |w: &str| {
            det.flagged
                .iter()
                .find(|s| s.text == w)
                .unwrap_or_else(|| panic!("{w} not flagged: {det:?}"))
        };
        assert_eq!(find("arsenic").original, "as");
        assert_eq!(find("helium").original, "he");
        assert!(find("arsenic").prob >= d.calibration().word_threshold as f32);
        assert!(!det.evidence.is_empty());
        // Clean text is not flagged, and its words stay below the word threshold.
        let det = d.detect(CLEAN, &DetectOptions::default());
        assert!(!det.spun, "{det:?}");
        assert!(
            det.flagged
                .iter()
                .all(|w| w.prob < d.calibration().word_threshold as f32),
            "{:?}",
            det.flagged
        );
        // The fast score agrees with the full detection.
        assert_eq!(d.score(CLEAN), det.prob);
    }

    #[test]
    fn a_spun_passage_inside_a_clean_text_is_found_by_its_section() {
        let wn = crate::models::embedded_wordnet().unwrap();
        let spinner = crate::spinner::Spinner::news(&wn, 7);
        let spun = spinner.spin(CLEAN).text;
        let parts = [CLEAN, CLEAN, CLEAN, &spun, &spun, CLEAN, CLEAN, CLEAN];
        let text = parts.join("\n");
        let d = Detector::new(model(), crate::models::embedded_calibration().unwrap());
        let det = d.detect(&text, &DetectOptions::default());
        assert!(det.sections.len() >= 4, "{:?}", det.sections);
        assert!(det.spun);
        let spun_start = 3 * (CLEAN.len() + 1);
        let spun_end = spun_start + 2 * spun.len() + 1;
        for s in &det.sections {
            // Sections tile the text and hold about 200 words.
            assert!(s.words >= 100 && s.words < 450, "{s:?}");
            let inside = s.start >= spun_start.saturating_sub(200) && s.end <= spun_end + 200;
            let outside = s.end <= spun_start || s.start >= spun_end;
            if inside {
                assert!(s.prob >= det.threshold, "spun section missed: {s:?}");
            }
            if outside {
                assert!(s.prob < det.threshold, "clean section flagged: {s:?}");
            }
        }
        assert_eq!(det.sections[0].start, 0);
        assert_eq!(det.sections.last().unwrap().end, text.len());
        for w in det.sections.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }

    #[test]
    fn auc_by_hand() {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4.
        let s = [0.9, 0.5, 0.4, 0.1];
        let l = [true, false, true, false];
        assert!((roc_auc(&s, &l).unwrap() - 0.75).abs() < 1e-12);
        // A tie between a positive and a negative counts one half: 0.5 / 1.
        assert!((roc_auc(&[0.3, 0.3], &[true, false]).unwrap() - 0.5).abs() < 1e-12);
        // Perfect and inverted rankings.
        assert_eq!(roc_auc(&[2.0, 1.0], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, false]), Some(0.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
    }

    #[test]
    fn ece_by_hand() {
        // Two bins: [0, 0.5): probs 0.2, 0.2 with labels 0, 1 -> |1 - 0.4| = 0.6;
        // [0.5, 1]: probs 0.9, 0.7 with labels 1, 1 -> |2 - 1.6| = 0.4. ECE = (0.6 + 0.4) / 4.
        let p = [0.2, 0.2, 0.9, 0.7];
        let l = [false, true, true, true];
        assert!((expected_calibration_error(&p, &l, 2) - 0.25).abs() < 1e-12);
        // Perfectly calibrated bins.
        let p = [0.5, 0.5];
        let l = [true, false];
        assert!(expected_calibration_error(&p, &l, 10).abs() < 1e-12);
        // A probability of exactly 1 lands in the last bin.
        assert!((expected_calibration_error(&[1.0], &[false], 10) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn logistic_by_hand() {
        // One binary feature: x = 0 has 1 positive in 4, x = 1 has 3 in 4. The
        // unpenalized maximum-likelihood fit reproduces those rates exactly:
        // logit(0) = ln(1/3), logit(1) = ln(3).
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (v, label) in [
            (0.0, 1.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (1.0, 1.0),
            (1.0, 1.0),
            (1.0, 1.0),
            (1.0, 0.0),
        ] {
            x.push(vec![v]);
            y.push(label);
        }
        let fit = fit_logistic(&x, &y, &[], 0.0);
        assert!(
            (fit.logit(&[0.0]) - (1.0f64 / 3.0).ln()).abs() < 1e-6,
            "{fit:?}"
        );
        assert!((fit.logit(&[1.0]) - 3.0f64.ln()).abs() < 1e-6, "{fit:?}");
        assert!((fit.prob(&[1.0]) - 0.75).abs() < 1e-6);
        // Sample weights act like repeated samples.
        let x2 = vec![vec![0.0], vec![0.0], vec![1.0], vec![1.0]];
        let y2 = vec![1.0, 0.0, 1.0, 0.0];
        let fit2 = fit_logistic(&x2, &y2, &[1.0, 3.0, 3.0, 1.0], 0.0);
        assert!((fit2.prob(&[0.0]) - 0.25).abs() < 1e-6);
        assert!((fit2.prob(&[1.0]) - 0.75).abs() < 1e-6);
        // The L2 penalty shrinks the weight toward zero.
        let shrunk = fit_logistic(&x, &y, &[], 10.0);
        assert!(shrunk.weights[0].abs() < fit.weights[0].abs());
    }

    #[test]
    fn logistic_separates_and_standardizes() {
        // Feature 0 decides, feature 1 is constant (scale falls back to 1).
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64, 5.0]).collect();
        let y: Vec<f64> = (0..40).map(|i| if i >= 20 { 1.0 } else { 0.0 }).collect();
        let fit = fit_logistic(&x, &y, &[], 0.1);
        assert_eq!(fit.scale[1], 1.0);
        assert!(fit.prob(&[35.0, 5.0]) > 0.99 && fit.prob(&[5.0, 5.0]) < 0.01);
        assert!((fit.prob(&[19.5, 5.0]) - 0.5).abs() < 0.05);
    }

    #[test]
    fn threshold_keeps_the_false_positive_rate() {
        let neg: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let t = threshold_for_fpr(&neg, 0.01);
        let above = neg.iter().filter(|&&s| s >= t).count();
        assert!(above <= 10, "{t} {above}");
        assert!(t > 0.98 && t < 0.992, "{t}");
    }

    #[test]
    fn pieces_keep_separators() {
        let t = "a b\nc  d e f g";
        assert_eq!(pieces(t, 2), vec!["a b", "c  d", "e f"]);
        assert!(pieces("a b", 3).is_empty());
    }

    #[test]
    fn inflection_rules() {
        let mut buf = String::new();
        let known = |s: &str| {
            ["runs", "carried", "making", "boxes", "stopped"]
                .iter()
                .position(|k| *k == s)
                .map(|i| i as WordId)
        };
        assert_eq!(inflect("run", Suffix::S, &mut buf, known), Some(0));
        assert_eq!(inflect("carry", Suffix::Ed, &mut buf, known), Some(1));
        assert_eq!(inflect("make", Suffix::Ing, &mut buf, known), Some(2));
        assert_eq!(inflect("box", Suffix::S, &mut buf, known), Some(3));
        assert_eq!(inflect("stop", Suffix::Ed, &mut buf, known), Some(4));
        assert_eq!(inflect("walk", Suffix::Ed, &mut buf, known), None);
    }

    #[test]
    fn calibration_round_trip() {
        let c = Calibration::uncalibrated();
        let back = Calibration::from_bytes(&c.to_bytes()).unwrap();
        assert_eq!(back, c);
        let mut bad = c.clone();
        bad.features.pop();
        bad.weights.pop();
        let err = Calibration::from_bytes(&bad.to_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("rebuild"), "{err}");
    }

    #[test]
    fn word_counts_by_overlap() {
        let text = "he went to arsenic town";
        let spans = [(11, 18)];
        let flagged = vec![WordScore {
            start: 11,
            end: 18,
            text: "arsenic".into(),
            prob: 0.9,
            original: "as".into(),
            relation: "rule".into(),
            model: "news",
            rarity: -6.0,
            lm_gain: 5.0,
            llr: 4.0,
        }];
        assert_eq!(word_counts(text, &spans, &flagged, 0.5), (1, 0, 0));
        assert_eq!(word_counts(text, &spans, &flagged, 0.95), (0, 0, 1));
        assert_eq!(word_counts(text, &[], &flagged, 0.5), (0, 1, 0));
    }
}
