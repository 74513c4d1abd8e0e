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
//! The module is split by concern:
//!
//! * this file: [`Detector`], its options and its output types;
//! * `tables`: [`ScoreParams`] and the tables built from the model once;
//! * `pass`: the scoring pass (tokens, sites, candidates, batched
//!   language-model queries, per-site scores, sections);
//! * `calibration`: the features ([`Sums`], [`features`]) and the
//!   [`Calibration`] file.
//!
//! The logistic regression, ROC AUC and calibration error are in
//! [`crate::stats`]; they are re-exported here for the callers written
//! against the one-file module. The labelled documents that calibration
//! and the benchmark are made of are in the `unspin-bench` crate
//! (`unspin_bench::dataset`).

use std::borrow::Cow;

use serde::Serialize;

use crate::restore::{Model, Restorer};

mod calibration;
mod pass;
mod stream;
mod tables;

pub use calibration::{features, Calibration, Sums, FEATURE_NAMES};
pub use stream::DetectStream;
pub use tables::ScoreParams;

pub use crate::stats::{
    expected_calibration_error, fit_logistic, roc_auc, threshold_for_fpr, LogisticFit,
};

use pass::WORK;
use tables::Tables;

/// Container kind of a calibration file.
pub const KIND: [u8; 4] = *b"CALB";
/// Format version of the calibration payload.
pub const VERSION: u32 = 1;

const LN10: f32 = std::f32::consts::LN_10;

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
    /// The section's summed evidence, from which a document of many pieces
    /// gets its probability ([`DetectStream`]); not serialized.
    #[serde(skip)]
    pub sums: Sums,
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
    /// Tortured phrases (count, density, risk), when the model has a phrase
    /// model. They do not enter `prob`: a few paraphrased terms among
    /// thousands of clean words are a paper mill's mark, not a spinner's.
    pub phrases: Option<crate::tortured::PhraseReport>,
    /// The tortured phrases found, in text order.
    pub phrase_matches: Vec<crate::tortured::PhraseMatch>,
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
    /// Refine the spun sections' word scores and likely originals with the
    /// full restorer ([`crate::Engine::detect`]; slower).
    pub restore: bool,
    /// [`Quality::Best`] refines with the context scorer too (implies `restore`).
    pub quality: crate::rescore::Quality,
    /// A learned spinner ([`crate::learn`]) for the refining restorer
    /// (implies `restore`): the spun words and their likely originals
    /// follow it; the document probability stays the calibrated fast pass's.
    pub spinner: Option<std::sync::Arc<crate::learn::LearnedChannel>>,
}

impl DetectOptions {
    /// Whether [`crate::Engine::detect`] runs the restorer on spun sections.
    pub fn refine(&self) -> bool {
        self.restore || self.quality == crate::rescore::Quality::Best || self.spinner.is_some()
    }
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            threshold: None,
            evidence: 10,
            word_floor: 0.1,
            words: true,
            restore: false,
            quality: crate::rescore::Quality::Default,
            spinner: None,
        }
    }
}
/// What a [`Detector`] derives from a model and a calibration, once: owned
/// by [`crate::Engine`] beside its model, or by a detector itself.
#[derive(Clone)]
pub struct DetectorParts {
    calib: Calibration,
    tables: Tables,
}

impl DetectorParts {
    /// The tables of `model` under `calib`'s scoring parameters.
    pub fn new(model: &Model, calib: Calibration) -> Self {
        let tables = Tables::new(model, &calib.params);
        Self { calib, tables }
    }

    /// The calibration these parts were built with.
    pub fn calibration(&self) -> &Calibration {
        &self.calib
    }
}

/// Scores texts for spinning (see the module docs). `Sync`: share one across threads.
pub struct Detector<'m> {
    model: &'m Model,
    parts: Cow<'m, DetectorParts>,
}

impl<'m> Detector<'m> {
    /// A detector over `model` with a calibration.
    pub fn new(model: &'m Model, calib: Calibration) -> Self {
        Self {
            model,
            parts: Cow::Owned(DetectorParts::new(model, calib)),
        }
    }

    /// A detector over `model` with parts built from it by [`DetectorParts::new`].
    pub fn borrowed(model: &'m Model, parts: &'m DetectorParts) -> Self {
        Self {
            model,
            parts: Cow::Borrowed(parts),
        }
    }

    /// The same detector with another calibration (the model tables are kept).
    pub fn with_calibration(mut self, calib: Calibration) -> Self {
        let model = self.model;
        let parts = self.parts.to_mut();
        if calib.params != parts.calib.params {
            parts.tables = Tables::new(model, &calib.params);
        }
        parts.calib = calib;
        self
    }

    /// The calibration in use.
    pub fn calibration(&self) -> &Calibration {
        &self.parts.calib
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

    /// Calibrated probability that `text` was spun (fast pass only).
    pub fn score(&self, text: &str) -> f32 {
        let (doc, secs) = self.sums(text);
        self.parts.calib.doc_prob(&doc, &secs)
    }

    /// Full detection: probabilities, sections, evidence and per-word scores.
    pub fn detect(&self, text: &str, opts: &DetectOptions) -> Detection {
        self.detect_cancellable(text, opts, &crate::Cancel::never())
            .expect("work that is never cancelled returns")
    }

    /// Like [`Detector::detect`], stopping with [`crate::Error::Cancelled`]
    /// once `cancel` is cancelled (checked between the stages of the pass).
    pub fn detect_cancellable(
        &self,
        text: &str,
        opts: &DetectOptions,
        cancel: &crate::Cancel,
    ) -> Result<Detection, crate::Error> {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass_until(text, &mut w, cancel)?;
            let (doc, secs) = self.aggregate(text, &w);
            let prob = self.parts.calib.doc_prob(&doc, &secs);
            let threshold = opts.threshold.unwrap_or(self.parts.calib.threshold as f32);
            let sections: Vec<SectionScore> = secs
                .iter()
                .map(|(a, b, s)| SectionScore {
                    start: *a,
                    end: *b,
                    words: s.words as usize,
                    prob: self.parts.calib.prob(&features(s)) as f32,
                    news_llr: s.news_llr,
                    synonym_llr: s.syn_llr,
                    sums: *s,
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
                phrases: None,
                phrase_matches: Vec::new(),
            };
            if let Some(pm) = self.model.phrases() {
                let tokens = crate::token::tokenize(text);
                let found = crate::tortured::find_phrases_cancellable(
                    pm,
                    &self.model.lm,
                    text,
                    &tokens,
                    &crate::tortured::PhraseOptions::default(),
                    cancel,
                )?;
                det.phrases = Some(crate::tortured::report(&found, det.words));
                det.phrase_matches = found;
            }
            cancel.check()?;
            if opts.words {
                self.word_scores(text, &w, &secs, &mut det, opts);
            }
            Ok(det)
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

    /// Like [`Detector::refine`], stopping with [`crate::Error::Cancelled`]
    /// once the restorer's [`crate::restore::Options::cancel`] is cancelled.
    pub fn refine_checked(
        &self,
        text: &str,
        det: &mut Detection,
        restorer: &mut Restorer,
        opts: &DetectOptions,
    ) -> Result<(), crate::Error> {
        if det.sections.iter().any(|s| s.prob >= det.threshold) {
            let r = restorer.restore_document_checked(text)?;
            self.refine_with(det, &r, opts);
        }
        Ok(())
    }

    /// Like [`Detector::refine`], with the restorer's uncertain slots
    /// rescored by `scorer` (the best mode ([`crate::Quality::Best`])): better likely originals
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
}
