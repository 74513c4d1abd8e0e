//! What the detector's logistic calibration sees and stores: [`Sums`]
//! (evidence added up over a section or a document), the [`features`]
//! computed from them, and the [`Calibration`] file (`CALB` container, JSON
//! payload) with the fitted weights, thresholds and the [`ScoreParams`] the
//! features were computed with. The fitting itself is in [`crate::stats`]
//! and `unspin-build calibrate`.

use serde::{Deserialize, Serialize};

use super::{ScoreParams, KIND, VERSION};
use crate::stats::{sigmoid, standardized_logit};
use crate::Error;

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
    pub(super) fn add(&mut self, o: &Sums) {
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
        sigmoid(self.logit(x))
    }

    /// The evidence of a document with several sections: the larger of the
    /// whole document's log-odds and its most spun section's, so a spun
    /// passage inside an original text counts. The section's log-odds are
    /// lowered by ln(number of sections), a Bonferroni correction: a book of
    /// many clean sections would otherwise almost surely hold one that
    /// looks spun.
    pub fn max_logit(&self, doc: &Sums, secs: &[(usize, usize, Sums)]) -> f64 {
        let best = secs
            .iter()
            .map(|s| self.section_logit(&s.2))
            .fold(f64::NEG_INFINITY, f64::max);
        self.max_logit_of(doc, secs.len(), best)
    }

    /// The logit of one section's sums: what [`Calibration::max_logit`]
    /// takes the largest of.
    pub fn section_logit(&self, s: &Sums) -> f64 {
        self.logit(&features(s))
    }

    /// [`Calibration::max_logit`] from the number of sections and the
    /// largest [`Calibration::section_logit`], so a text read piece by piece
    /// need not keep its sections.
    pub fn max_logit_of(&self, doc: &Sums, sections: usize, best_section: f64) -> f64 {
        let correction = (sections.max(1) as f64).ln();
        (best_section - correction).max(self.logit(&features(doc)))
    }

    /// The calibrated probability of a document from its sums and its
    /// sections' sums. One section: the logistic regression itself. Several:
    /// [`Calibration::max_logit`], recalibrated (the maximum of several
    /// scores runs high on clean text).
    pub fn doc_prob(&self, doc: &Sums, secs: &[(usize, usize, Sums)]) -> f32 {
        let best = secs
            .iter()
            .map(|s| self.section_logit(&s.2))
            .fold(f64::NEG_INFINITY, f64::max);
        self.doc_prob_of(doc, secs.len(), best)
    }

    /// [`Calibration::doc_prob`] from the number of sections and the
    /// largest [`Calibration::section_logit`].
    pub fn doc_prob_of(&self, doc: &Sums, sections: usize, best_section: f64) -> f32 {
        if sections <= 1 {
            return self.prob(&features(doc)) as f32;
        }
        sigmoid(self.multi_scale * self.max_logit_of(doc, sections, best_section) + self.multi_bias)
            as f32
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_calibration_fits_this_build() {
        let c = crate::models::embedded_calibration().unwrap();
        assert_eq!(c.features, FEATURE_NAMES);
        assert!(c.threshold >= 0.5 && c.threshold <= 1.0);
        assert!(c.word_threshold > 0.0 && c.word_threshold < 1.0);
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
}
