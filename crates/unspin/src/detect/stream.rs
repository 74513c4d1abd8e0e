//! [`DetectStream`]: detection of a long text piece by piece, in bounded
//! memory.
//!
//! Each piece is detected on its own (its sections, word scores and phrases
//! are final once the piece is done), and the document's probability comes
//! from the summed evidence of every section seen, as [`super::Detector`]
//! computes it for a whole text. A text of one piece gets exactly the
//! detection of the whole text.

use std::cmp::Ordering;

use super::{DetectOptions, Detection, Sums, WordScore};
use crate::tortured::PhraseMatch;
use crate::{Engine, Error};

/// The order of [`Detection::evidence`]: most probable first, then the
/// larger likelihood ratio, then the earlier word.
pub(super) fn evidence_order(a: &WordScore, b: &WordScore) -> Ordering {
    (b.prob, b.llr)
        .partial_cmp(&(a.prob, a.llr))
        .unwrap_or(Ordering::Equal)
        .then(a.start.cmp(&b.start))
}

/// Detects a text fed piece by piece ([`DetectStream::push`]), then gives
/// the whole text's verdict ([`DetectStream::finish`]). Only the tortured
/// phrases found are kept (a few per thousand words at most); the sections
/// and per-word scores of each piece are the caller's to write out as they
/// come.
pub struct DetectStream<'e> {
    engine: &'e Engine,
    opts: DetectOptions,
    pieces: usize,
    doc: Sums,
    words: usize,
    sections: usize,
    best_section: f64,
    evidence: Vec<WordScore>,
    phrases: Vec<PhraseMatch>,
    last: Option<Detection>,
}

impl<'e> DetectStream<'e> {
    /// A stream detecting with `engine` under `opts`.
    pub fn new(engine: &'e Engine, opts: DetectOptions) -> Self {
        Self {
            engine,
            opts,
            pieces: 0,
            doc: Sums::default(),
            words: 0,
            sections: 0,
            best_section: f64::NEG_INFINITY,
            evidence: Vec::new(),
            phrases: Vec::new(),
            last: None,
        }
    }

    /// Detects `piece`, which starts at byte `offset` of the text. Returns
    /// the piece's detection with every offset into the whole text: its
    /// `sections`, `flagged` words and `phrase_matches` are final (write
    /// them out), while its `prob` and `spun` are the piece's own.
    pub fn push(&mut self, piece: &str, offset: usize) -> Result<Detection, Error> {
        let mut det = self.engine.detect(piece, &self.opts)?;
        for s in &mut det.sections {
            s.start += offset;
            s.end += offset;
        }
        let shift = |w: &mut WordScore| {
            w.start += offset;
            w.end += offset;
        };
        det.evidence.iter_mut().for_each(shift);
        det.flagged.iter_mut().for_each(shift);
        for m in &mut det.phrase_matches {
            m.start += offset;
            m.end += offset;
        }
        self.pieces += 1;
        self.doc.add(&det.sums);
        self.words += det.words;
        let calib = self.engine.calibration();
        for s in &det.sections {
            self.sections += 1;
            self.best_section = self.best_section.max(calib.section_logit(&s.sums));
        }
        self.evidence.extend(det.evidence.iter().cloned());
        self.evidence.sort_by(evidence_order);
        self.evidence.truncate(self.opts.evidence);
        self.phrases.extend(det.phrase_matches.iter().cloned());
        if self.pieces == 1 {
            self.last = Some(det.clone());
        } else {
            self.last = None;
        }
        Ok(det)
    }

    /// How many sections the pieces held so far.
    pub fn sections(&self) -> usize {
        self.sections
    }

    /// The whole text's detection: probability, verdict, the strongest
    /// evidence, the phrases and their report. `sections` and `flagged` are
    /// left empty: [`DetectStream::push`] gave them piece by piece
    /// ([`DetectStream::sections`] counts them).
    pub fn finish(self) -> Detection {
        if let Some(mut one) = self.last {
            // One piece: the whole text's detection, as it was computed.
            one.flagged.clear();
            one.sections.clear();
            return one;
        }
        let calib = self.engine.calibration();
        let prob = calib.doc_prob_of(&self.doc, self.sections, self.best_section);
        let threshold = self.opts.threshold.unwrap_or(calib.threshold as f32);
        let phrases = self
            .engine
            .model()
            .phrases()
            .map(|_| crate::tortured::report(&self.phrases, self.words));
        Detection {
            prob,
            spun: prob >= threshold,
            threshold,
            words: self.words,
            sections: Vec::new(),
            evidence: self.evidence,
            flagged: Vec::new(),
            sums: self.doc,
            phrases,
            phrase_matches: self.phrases,
        }
    }
}
