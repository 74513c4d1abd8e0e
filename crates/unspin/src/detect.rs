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
//! scores; [`Detector::detect`] runs it only when asked, on the sections that
//! came out spun, for better per-word originals.
//!
//! The module also holds what calibration and the benchmark share: the
//! logistic regression, ROC AUC and expected calibration error, and the
//! construction of labelled documents from a corpus ([`Sample`]).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::lexicon::is_spun_form;
use crate::lm::WordId;
use crate::restore::{match_case, Model};
use crate::spinner::Relation;
use crate::token::{tokenize, Token, TokenKind};
use crate::Error;

/// Container kind of a calibration file.
pub const KIND: [u8; 4] = *b"CALB";
/// Format version of the calibration payload.
pub const VERSION: u32 = 1;

const LN10: f32 = std::f32::consts::LN_10;

/// Function words the generic synonym spinner leaves alone (no evidence either way).
const SYNONYM_STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does",
    "doing", "down", "during", "each", "even", "ever", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "may", "me", "might", "more", "most", "much", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once",
    "one", "only", "or", "other", "our", "out", "over", "own", "same", "shall", "she", "should", "so", "some",
    "still", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "upon", "us", "very", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "would", "yet", "you", "your",
];

// ---------------------------------------------------------------------------
// Scoring parameters and the tables built from the model
// ---------------------------------------------------------------------------

/// Knobs of the scoring pass. They are stored in the calibration file, so
/// scores at detection time are computed exactly as when it was fitted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScoreParams {
    /// Weight of the language-model gain (nats) against the channel.
    pub lm_weight: f32,
    /// Originals considered per word (the lexicon's best first).
    pub max_candidates: usize,
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
}

impl Default for ScoreParams {
    fn default() -> Self {
        Self {
            lm_weight: 0.6,
            max_candidates: 5,
            synonym_prior: 0.05,
            synonym_channel: 0.1,
            synonym_cap: 8.0,
            strong_llr: 2.5,
            section_words: 200,
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
    relation: Relation,
}

/// Per lexicon word: its LM id, ln p(kept) and its prepared candidates.
#[derive(Clone, Copy, Debug)]
struct Entry {
    lm: WordId,
    keep_ln: f32,
    cands: (u32, u32),
    n_syn: u16,
}

/// Tables derived from the model once (they depend only on the model and the parameters).
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
}

impl Tables {
    fn new(model: &Model, p: &ScoreParams) -> Self {
        let lex = &model.lexicon;
        let lm = &model.lm;
        let (n, _) = lex.stats();
        let unk = lm.unk();
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
            for c in lex.candidates(i).iter().take(p.max_candidates) {
                let r = lex.replace_prob(c.original);
                let c_lm = lm.id(lex.word(c.original)).unwrap_or(unk);
                if c_lm == unk {
                    continue;
                }
                let syn = matches!(c.relation, Relation::Rule | Relation::Synonym);
                n_syn += syn as u16;
                cands.push(Cand {
                    lex: c.original,
                    lm: c_lm,
                    news_ln: if r > 0.0 { r.ln() + c.ln_prob } else { f32::NEG_INFINITY },
                    syn,
                    relation: c.relation,
                });
            }
            entries.push(Entry {
                lm: lm_id,
                keep_ln: (1.0 - lex.replace_prob(i)).max(1e-6).ln(),
                cands: (start, cands.len() as u32),
                n_syn,
            });
        }
        let unigram = (0..lm.vocab_len() as u32).map(|i| lm.log10_unigram(i)).collect();
        let mut phrase_first: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, ph) in lex.phrases().iter().enumerate() {
            if let Some(f) = ph.spun.first() {
                phrase_first.entry(f.clone()).or_default().push(i);
            }
        }
        Self {
            entries,
            cands,
            lm_to_lex,
            unigram,
            stop: SYNONYM_STOPWORDS.iter().copied().collect(),
            phrase_first,
        }
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
];

/// The calibration features of a stretch of text: a section's or a
/// document's sums; for a document, also its most spun-looking section.
pub fn features(s: &Sums, best_section: &Sums) -> Vec<f64> {
    let _ = best_section;
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
    /// Default threshold on the probability for calling a text spun.
    pub threshold: f64,
    /// Per-word threshold for highlighting.
    pub word_threshold: f64,
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
            threshold: 0.5,
            word_threshold: 0.5,
            params: ScoreParams::default(),
            provenance: "uncalibrated defaults".into(),
        }
    }

    /// The linear score (log-odds) of a feature vector.
    pub fn logit(&self, x: &[f64]) -> f64 {
        self.bias
            + x.iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((v, m), s), w)| w * (v - m) / s)
                .sum::<f64>()
    }

    /// The calibrated probability of a feature vector.
    pub fn prob(&self, x: &[f64]) -> f64 {
        sigmoid64(self.logit(x))
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
        if c.features != FEATURE_NAMES || c.mean.len() != k || c.scale.len() != k || c.weights.len() != k {
            return Err(Error::Model(format!(
                "CALB model file: fitted for features {:?}, this build computes {:?}; rebuild it with `unspin-build calibrate`",
                c.features, FEATURE_NAMES
            )));
        }
        if c.scale.iter().any(|s| !(*s > 0.0)) || !(0.0..=1.0).contains(&c.threshold) {
            return Err(Error::Model("CALB model file: invalid scales or threshold".into()));
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
    /// `prob >= threshold`, or a section at or above it.
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
    /// Run the full restorer on sections that came out spun, for better per-word originals.
    pub restore: bool,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            threshold: None,
            evidence: 10,
            word_floor: 0.1,
            words: true,
            restore: false,
        }
    }
}

// ---------------------------------------------------------------------------
// The detector
// ---------------------------------------------------------------------------

/// A scored site: a word (or phrase) with possible originals.
#[derive(Clone, Copy, Debug)]
struct Site {
    tok: u32,
    /// Byte span.
    start: u32,
    end: u32,
    /// Stream position of the (first) word.
    pos: u32,
    /// Candidates: range into `Work::alts`.
    alts: (u32, u32),
    /// Lexicon entry of the written form (news model), if a news site.
    news_entry: u32,
    /// Written form's LM id.
    lm: WordId,
    syn: bool,
    phrase: u32,
}

const NONE: u32 = u32::MAX;

/// A candidate at a site with its query offset.
#[derive(Clone, Copy, Debug)]
struct Alt {
    lm: WordId,
    news_ln: f32,
    syn: bool,
    relation: Relation,
    /// First of its LM queries in `Work::queries`, and their count.
    q: u32,
    nq: u8,
}

/// Per-site results of the scoring pass.
#[derive(Clone, Copy, Debug, Default)]
struct SiteScore {
    news_llr: f32,
    news_post: f32,
    syn_llr: f32,
    syn_post: f32,
    best_alt: u32,
    gain: f32,
    rarity: f32,
}

/// Reusable buffers of one scoring pass.
#[derive(Default)]
struct Work {
    tokens: Vec<Token>,
    stream: Vec<WordId>,
    /// Per stream position: the byte offset where a section may end (sentence starts).
    keep: Vec<f32>,
    sites: Vec<Site>,
    alts: Vec<Alt>,
    queries: Vec<[WordId; 3]>,
    out: Vec<f32>,
    scores: Vec<SiteScore>,
    /// Stream positions that start a sentence, with the byte offset.
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
        Self { model, calib, tables }
    }

    /// The calibration in use.
    pub fn calibration(&self) -> &Calibration {
        &self.calib
    }

    /// The model in use.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Summed evidence of a text: the whole text and each section, with section byte spans.
    /// This is the fast pass alone.
    pub fn sums(&self, text: &str) -> (Sums, Vec<(usize, usize, Sums)>) {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass(text, &mut w);
            self.aggregate(text, &w)
        })
    }

    /// Calibrated probability that `text` was spun (fast pass only).
    pub fn score(&self, text: &str) -> f32 {
        let (doc, secs) = self.sums(text);
        self.doc_prob(&doc, &secs)
    }

    fn doc_prob(&self, doc: &Sums, secs: &[(usize, usize, Sums)]) -> f32 {
        let best = self.best_section(secs);
        let p_doc = self.calib.prob(&features(doc, &best)) as f32;
        let p_sec = secs
            .iter()
            .map(|s| self.calib.prob(&features(&s.2, &s.2)) as f32)
            .fold(0.0f32, f32::max);
        if secs.len() > 1 {
            p_doc.max(p_sec)
        } else {
            p_doc
        }
    }

    fn best_section(&self, secs: &[(usize, usize, Sums)]) -> Sums {
        secs.iter()
            .map(|s| (self.calib.logit(&features(&s.2, &s.2)), s.2))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|x| x.1)
            .unwrap_or_default()
    }

    /// Full detection: probabilities, sections, evidence and per-word scores.
    pub fn detect(&self, text: &str, opts: &DetectOptions) -> Detection {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass(text, &mut w);
            let (doc, secs) = self.aggregate(text, &w);
            let prob = self.doc_prob(&doc, &secs);
            let threshold = opts.threshold.unwrap_or(self.calib.threshold as f32);
            let sections: Vec<SectionScore> = secs
                .iter()
                .map(|(a, b, s)| SectionScore {
                    start: *a,
                    end: *b,
                    words: s.words as usize,
                    prob: self.calib.prob(&features(s, s)) as f32,
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

    /// Per-word probabilities: within each section, the word's posterior
    /// under the hypothesis that explains the section better, times the
    /// section's probability.
    fn word_scores(&self, text: &str, w: &Work, secs: &[(usize, usize, Sums)], det: &mut Detection, opts: &DetectOptions) {
        let lm = &self.model.lm;
        let mut all = Vec::new();
        let mut si = 0;
        for (k, site) in w.sites.iter().enumerate() {
            while si + 1 < secs.len() && secs[si].1 <= site.start as usize {
                si += 1;
            }
            let sec = &secs[si].2;
            let p_sec = det.sections[si].prob;
            // Which hypothesis explains the section: news needs its LLR well above the synonym one.
            let w_news = sigmoid(sec.news_llr - sec.syn_llr);
            let sc = &w.scores[k];
            let post = w_news * sc.news_post + (1.0 - w_news) * sc.syn_post;
            let prob = p_sec * post;
            if sc.best_alt == NONE {
                continue;
            }
            let (model, llr) = if w_news >= 0.5 { ("news", sc.news_llr) } else { ("synonym", sc.syn_llr) };
            let alt = w.alts[sc.best_alt as usize];
            let written = &text[site.start as usize..site.end as usize];
            let original = if site.phrase != NONE {
                self.model.lexicon.phrases()[site.phrase as usize].original.join(" ")
            } else {
                lm.word(alt.lm).to_string()
            };
            all.push(WordScore {
                start: site.start as usize,
                end: site.end as usize,
                text: written.to_string(),
                prob,
                original: match_case(written, &original),
                relation: alt.relation.as_str().to_string(),
                model,
                rarity: sc.rarity,
                lm_gain: sc.gain,
                llr,
            });
        }
        let mut ev: Vec<&WordScore> = all.iter().filter(|s| s.llr > 0.0 && s.prob > 0.0).collect();
        ev.sort_by(|a, b| b.llr.total_cmp(&a.llr).then(a.start.cmp(&b.start)));
        det.evidence = ev.into_iter().take(opts.evidence).cloned().collect();
        det.flagged = all.into_iter().filter(|s| s.prob >= opts.word_floor).collect();
    }

    /// Sections (cut at the first sentence start after `section_words` words;
    /// a short tail joins the previous section) with their sums.
    fn aggregate(&self, text: &str, w: &Work) -> (Sums, Vec<(usize, usize, Sums)>) {
        let p = &self.calib.params;
        let strong = p.strong_llr;
        // Word counts per stream position come from the tokens.
        let mut secs: Vec<(usize, usize, Sums)> = Vec::new();
        let mut cur = Sums::default();
        let mut start = 0usize;
        let mut si = 0usize;
        let mut bi = 0usize;
        let mut words_seen = 0usize;
        let mut last_cut_pos = 0u32;
        // Walk words via the stream: a stream position holds a word unless it is a boundary marker.
        // We count words per section through the boundaries list.
        let n_sites = w.sites.len();
        let flush_sites_before = |pos: u32, cur: &mut Sums, si: &mut usize| {
            while *si < n_sites && w.sites[*si].pos < pos {
                let s = &w.sites[*si];
                let sc = &w.scores[*si];
                if s.news_entry != NONE || s.phrase != NONE {
                    cur.news_sites += 1.0;
                    cur.news_llr += sc.news_llr;
                    if sc.news_llr > strong {
                        cur.news_strong += 1.0;
                        if sc.rarity < -5.0 {
                            cur.rare_strong += 1.0;
                        }
                    }
                }
                if s.syn {
                    cur.syn_sites += 1.0;
                    cur.syn_llr += sc.syn_llr;
                    if sc.syn_llr > strong {
                        cur.syn_strong += 1.0;
                        if sc.rarity < -5.0 && sc.news_llr <= strong {
                            cur.rare_strong += 1.0;
                        }
                    }
                }
                *si += 1;
            }
        };
        while bi < w.boundaries.len() {
            let (pos, byte) = w.boundaries[bi];
            // Words between the last cut and this boundary.
            let words_here = word_count_between(&w.stream, last_cut_pos, pos, self.model.lm.bos(), self.model.lm.eos());
            let total_after = words_seen + words_here;
            if total_after >= p.section_words {
                cur.words = total_after as f32;
                flush_sites_before(pos, &mut cur, &mut si);
                secs.push((start, byte as usize, cur));
                cur = Sums::default();
                start = byte as usize;
                words_seen = 0;
                last_cut_pos = pos;
            } else {
                words_seen = total_after;
                last_cut_pos = pos;
            }
            bi += 1;
        }
        let words_tail = words_seen
            + word_count_between(&w.stream, last_cut_pos, w.stream.len() as u32, self.model.lm.bos(), self.model.lm.eos());
        cur.words = words_tail as f32;
        flush_sites_before(u32::MAX, &mut cur, &mut si);
        if secs.is_empty() || words_tail * 2 >= p.section_words {
            secs.push((start, text.len(), cur));
        } else {
            let last = secs.last_mut().expect("non-empty");
            last.1 = text.len();
            last.2.add(&cur);
        }
        let mut doc = Sums::default();
        for s in &secs {
            doc.add(&s.2);
        }
        (doc, secs)
    }

    /// The scoring pass: tokens, LM stream, sites, candidate queries, scores.
    fn pass(&self, text: &str, w: &mut Work) {
        let m = self.model;
        let lm = &m.lm;
        let (bos, eos, unk) = (lm.bos(), lm.eos(), lm.unk());
        let t = &self.tables;
        let p = &self.calib.params;
        w.tokens = tokenize(text);
        w.stream.clear();
        w.sites.clear();
        w.alts.clear();
        w.queries.clear();
        w.boundaries.clear();
        w.stream.push(bos);
        w.stream.push(bos);
        let mut pending = false;
        let tokens = std::mem::take(&mut w.tokens);
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
                    // Phrase rewrites ("due to the fact that", "is simply a").
                    if tk.bare {
                        if let Some(list) = t.phrase_first.get(word) {
                            if let Some((ph, last)) = self.match_phrase(text, &tokens, i, list) {
                                let phrase = &m.lexicon.phrases()[ph];
                                for tj in &tokens[i..=last] {
                                    if tj.kind == TokenKind::Word {
                                        let id = lm.id(tj.text(text)).unwrap_or(unk);
                                        w.stream.push(id);
                                    }
                                }
                                let a = w.alts.len() as u32;
                                w.alts.push(Alt {
                                    lm: lm.id(&phrase.original[0]).unwrap_or(unk),
                                    news_ln: 0.95f32.ln(),
                                    syn: false,
                                    relation: Relation::Phrase,
                                    q: 0,
                                    nq: 0,
                                });
                                w.sites.push(Site {
                                    tok: i as u32,
                                    start: tk.start as u32,
                                    end: tokens[last].end as u32,
                                    pos,
                                    alts: (a, a + 1),
                                    news_entry: NONE,
                                    lm: unk,
                                    syn: false,
                                    phrase: ph as u32,
                                });
                                i = last + 1;
                                continue;
                            }
                        }
                    }
                    let lm_id = self.add_word(text, tk, i, pos, w);
                    w.stream.push(lm_id);
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
        let _ = p;
        self.score_sites(w);
    }

    fn match_phrase(&self, text: &str, tokens: &[Token], i: usize, list: &[usize]) -> Option<(usize, usize)> {
        let phrases = self.model.lexicon.phrases();
        'p: for &pi in list {
            let ph = &phrases[pi];
            let mut j = i;
            for (k, wd) in ph.spun.iter().enumerate() {
                if k > 0 {
                    if tokens.get(j + 1).is_none_or(|t| t.kind != TokenKind::Space) {
                        continue 'p;
                    }
                    j += 2;
                }
                match tokens.get(j) {
                    Some(t) if t.kind == TokenKind::Word && t.bare && t.text(text) == wd => {}
                    _ => continue 'p,
                }
            }
            return Some((pi, j));
        }
        None
    }

    /// Looks a word up, adds its site and candidates if it has any, and returns its LM id.
    fn add_word(&self, text: &str, tk: Token, tok: usize, pos: u32, w: &mut Work) -> WordId {
        let m = self.model;
        let lm = &m.lm;
        let t = &self.tables;
        let p = &self.calib.params;
        let word = tk.text(text);
        let unk = lm.unk();
        // Case: lowercase as written, or a capitalized word; anything else is left alone.
        let bytes = word.as_bytes();
        let lower_as_written = is_spun_form(word);
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
        let capitalized = !lower_as_written
            && bytes[0].is_ascii_uppercase()
            && bytes[1..].iter().all(|b| b.is_ascii_lowercase())
            && bytes.len() > 1;
        if tk.kind == TokenKind::Number && !(tk.bare && lower_as_written) {
            return lm_id;
        }
        let news_ok = tk.bare && lower_as_written;
        if !news_ok && !capitalized && !lower_as_written {
            return lm_id;
        }
        let mut lex_id = if lm_id != unk { t.lm_to_lex[lm_id as usize] } else { NONE };
        if lex_id == NONE && lm_id == unk {
            lex_id = m.lexicon.id(lower).unwrap_or(NONE);
        }
        let stop = t.stop.contains(lower);
        let syn_ok = !stop && tk.kind == TokenKind::Word;
        let a0 = w.alts.len() as u32;
        let mut news_entry = NONE;
        let mut any_syn = false;
        if lex_id != NONE {
            let e = t.entries[lex_id as usize];
            if e.cands.1 > e.cands.0 && (news_ok || (syn_ok && e.n_syn > 0)) {
                if news_ok {
                    news_entry = lex_id;
                }
                for c in &t.cands[e.cands.0 as usize..e.cands.1 as usize] {
                    let syn = c.syn && syn_ok;
                    if !news_ok && !syn {
                        continue;
                    }
                    any_syn |= syn;
                    w.alts.push(Alt {
                        lm: c.lm,
                        news_ln: if news_ok { c.news_ln } else { f32::NEG_INFINITY },
                        syn,
                        relation: c.relation,
                        q: 0,
                        nq: 0,
                    });
                }
            }
        }
        if w.alts.len() as u32 == a0 && syn_ok && tk.kind == TokenKind::Word && lower.len() >= 4 {
            // An inflected form: synonyms of its base, inflected alike.
            self.inflected_alts(lower, w, p.max_candidates);
            any_syn = w.alts.len() as u32 > a0;
        }
        let a1 = w.alts.len() as u32;
        if a1 > a0 {
            w.sites.push(Site {
                tok: tok as u32,
                start: tk.start as u32,
                end: tk.end as u32,
                pos,
                alts: (a0, a1),
                news_entry,
                lm: lm_id,
                syn: any_syn,
                phrase: NONE,
            });
        }
        lm_id
    }

    /// Synonym candidates of an inflected form: its base's synonyms, inflected the same way.
    fn inflected_alts(&self, lower: &str, w: &mut Work, max: usize) {
        let t = &self.tables;
        let lm = &self.model.lm;
        let b = lower.as_bytes();
        if !b.iter().all(|c| c.is_ascii_lowercase()) {
            return;
        }
        let n = b.len();
        let mut bases: [(usize, &str, Suffix); 4] = [(0, "", Suffix::S); 4];
        let mut nb = 0;
        let mut push = |cut: usize, add: &'static str, s: Suffix| {
            if nb < 4 && cut >= 3 {
                bases[nb] = (cut, add, s);
                nb += 1;
            }
        };
        if lower.ends_with("ies") {
            push(n - 3, "y", Suffix::S);
        } else if lower.ends_with("es") {
            push(n - 2, "", Suffix::S);
            push(n - 1, "", Suffix::S);
        } else if lower.ends_with('s') && !lower.ends_with("ss") {
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
        }
        for &(cut, add, sfx) in &bases[..nb] {
            w.infl.clear();
            w.infl.push_str(&lower[..cut]);
            w.infl.push_str(add);
            let Some(lex_id) = self.model.lexicon.id(&w.infl) else { continue };
            let e = t.entries[lex_id as usize];
            if e.n_syn == 0 {
                continue;
            }
            let mut k = 0;
            for c in &t.cands[e.cands.0 as usize..e.cands.1 as usize] {
                if !c.syn || k >= max {
                    continue;
                }
                let orig = self.model.lexicon.word(c.lex);
                if let Some(id) = inflect(orig, sfx, |s| lm.id(s)) {
                    k += 1;
                    w.alts.push(Alt {
                        lm: id,
                        news_ln: f32::NEG_INFINITY,
                        syn: true,
                        relation: c.relation,
                        q: 0,
                        nq: 0,
                    });
                }
            }
            if k > 0 {
                return;
            }
        }
    }

    /// Scores the stream as written and every candidate in its place.
    fn score_sites(&self, w: &mut Work) {
        let lm = &self.model.lm;
        let p = &self.calib.params;
        let (bos, eos) = (lm.bos(), lm.eos());
        let n = w.stream.len();
        // The text as written: one query per stream position (from 2).
        w.queries.clear();
        for j in 2..n {
            w.queries.push([w.stream[j - 2], w.stream[j - 1], w.stream[j]]);
        }
        let base = w.queries.len();
        // Candidates: the candidate's own word and the next two words, up to a sentence end.
        for si in 0..w.sites.len() {
            let site = w.sites[si];
            let pos = site.pos as usize;
            let span = if site.phrase != NONE {
                self.model.lexicon.phrases()[site.phrase as usize].spun.len()
            } else {
                1
            };
            for a in site.alts.0..site.alts.1 {
                let q0 = w.queries.len() as u32;
                if site.phrase != NONE {
                    let ph = &self.model.lexicon.phrases()[site.phrase as usize];
                    let ids: Vec<WordId> = ph.original.iter().map(|x| lm.id(x).unwrap_or(lm.unk())).collect();
                    let (mut h2, mut h1) = (w.stream[pos - 2], w.stream[pos - 1]);
                    for &id in &ids {
                        w.queries.push([h2, h1, id]);
                        h2 = h1;
                        h1 = id;
                    }
                    let mut j = pos + span;
                    let mut extra = 0;
                    while j < n && extra < 2 {
                        let x = w.stream[j];
                        w.queries.push([h2, h1, x]);
                        if x == eos {
                            break;
                        }
                        h2 = h1;
                        h1 = x;
                        j += 1;
                        extra += 1;
                    }
                } else {
                    let c = w.alts[a as usize].lm;
                    w.queries.push([w.stream[pos - 2], w.stream[pos - 1], c]);
                    if pos + 1 < n {
                        let n1 = w.stream[pos + 1];
                        w.queries.push([w.stream[pos - 1], c, n1]);
                        if n1 != eos && pos + 2 < n {
                            w.queries.push([c, n1, w.stream[pos + 2]]);
                        }
                    }
                }
                let alt = &mut w.alts[a as usize];
                alt.q = q0;
                alt.nq = (w.queries.len() as u32 - q0) as u8;
            }
        }
        w.out.clear();
        w.out.resize(w.queries.len(), 0.0);
        lm.log10_prob_many(&w.queries, &mut w.out);
        // Keep scores per stream position (0 for the <s> markers and the two starting slots).
        w.keep.clear();
        w.keep.resize(n, 0.0);
        for j in 2..n {
            w.keep[j] = if w.stream[j] == bos { 0.0 } else { w.out[j - 2] };
        }
        let _ = base;
        let lam = p.lm_weight * LN10;
        let syn_prior_odds = p.synonym_prior / (1.0 - p.synonym_prior);
        let lnq = p.synonym_channel.ln();
        w.scores.clear();
        for si in 0..w.sites.len() {
            let site = w.sites[si];
            let pos = site.pos as usize;
            let span = if site.phrase != NONE {
                self.model.lexicon.phrases()[site.phrase as usize].spun.len()
            } else {
                1
            };
            // Keep: the written words and the next two (up to a sentence end).
            let mut keep = 0.0f32;
            {
                let mut j = pos;
                let end = pos + span;
                let mut extra = 0;
                while j < n {
                    keep += w.keep[j];
                    if j >= end {
                        if w.stream[j] == eos {
                            break;
                        }
                        extra += 1;
                        if extra == 2 {
                            break;
                        }
                    }
                    j += 1;
                }
            }
            let mut news_terms = 0.0f32; // sum over candidates of exp(channel + lm gain)
            let mut syn_terms = 0.0f32;
            let mut best = NONE;
            let mut best_val = f32::NEG_INFINITY;
            let mut best_gain = 0.0f32;
            for a in site.alts.0..site.alts.1 {
                let alt = w.alts[a as usize];
                let s: f32 = w.out[alt.q as usize..alt.q as usize + alt.nq as usize].iter().sum();
                let gain = (s - keep) * lam;
                let news_v = alt.news_ln + gain;
                let syn_v = if alt.syn { lnq + gain } else { f32::NEG_INFINITY };
                if news_v.is_finite() {
                    news_terms += news_v.min(60.0).exp();
                }
                if syn_v.is_finite() {
                    syn_terms += syn_v.min(60.0).exp();
                }
                let v = news_v.max(syn_v);
                if v > best_val {
                    best_val = v;
                    best = a;
                    best_gain = gain;
                }
            }
            let mut sc = SiteScore {
                best_alt: best,
                gain: best_gain,
                rarity: if site.lm == lm.unk() && site.phrase == NONE {
                    -99.0
                } else {
                    self.tables.unigram.get(site.lm as usize).copied().unwrap_or(-99.0)
                },
                ..SiteScore::default()
            };
            if site.phrase != NONE {
                // The clean hypothesis writes the phrase itself; the spinner's rewrite is deterministic.
                let keep_p = 0.05f32;
                let z = keep_p + news_terms;
                sc.news_llr = z.ln();
                sc.news_post = news_terms / z;
            } else if site.news_entry != NONE {
                let keep_p = self.tables.entries[site.news_entry as usize].keep_ln.exp();
                let z = keep_p + news_terms;
                sc.news_llr = z.ln();
                sc.news_post = news_terms / z;
            }
            if site.syn {
                let r = syn_prior_odds * syn_terms;
                sc.syn_llr = r.ln_1p().min(p.synonym_cap);
                sc.syn_post = r / (1.0 + r);
            }
            w.scores.push(sc);
        }
    }
}

/// Counts word positions in `stream[from..to]` (everything but sentence markers).
fn word_count_between(stream: &[WordId], from: u32, to: u32, bos: WordId, eos: WordId) -> usize {
    stream[from as usize..to as usize].iter().filter(|&&x| x != bos && x != eos).count()
}

/// Inflects a base form like a written word's suffix class; returns the first form the model knows.
fn inflect(base: &str, sfx: Suffix, known: impl Fn(&str) -> Option<WordId>) -> Option<WordId> {
    let b = base.as_bytes();
    let last = *b.last()?;
    let vowel = |c: u8| b"aeiou".contains(&c);
    let mut forms: [String; 2] = [String::new(), String::new()];
    match sfx {
        Suffix::S => {
            if base.ends_with('s') || base.ends_with('x') || base.ends_with('z') || base.ends_with("ch") || base.ends_with("sh") {
                forms[0] = format!("{base}es");
            } else if last == b'y' && b.len() > 1 && !vowel(b[b.len() - 2]) {
                forms[0] = format!("{}ies", &base[..base.len() - 1]);
            } else {
                forms[0] = format!("{base}s");
            }
        }
        Suffix::Ed => {
            if last == b'e' {
                forms[0] = format!("{base}d");
            } else if last == b'y' && b.len() > 1 && !vowel(b[b.len() - 2]) {
                forms[0] = format!("{}ied", &base[..base.len() - 1]);
            } else {
                forms[0] = format!("{base}ed");
                forms[1] = format!("{base}{}ed", last as char);
            }
        }
        Suffix::Ing => {
            if last == b'e' && !base.ends_with("ee") && b.len() > 2 {
                forms[0] = format!("{}ing", &base[..base.len() - 1]);
            } else {
                forms[0] = format!("{base}ing");
                forms[1] = format!("{base}{}ing", last as char);
            }
        }
    }
    forms.iter().filter(|f| !f.is_empty()).find_map(|f| known(f))
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}
