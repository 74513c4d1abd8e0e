//! Restoration: from spun text to the most likely original, with confidences.
//!
//! The text is tokenized losslessly; every bare lowercase word the lexicon
//! knows becomes a slot whose alternatives are "keep it" and the originals that
//! could have produced it; multi-word rewrites become slots spanning several
//! words. The lattice is decoded exactly under the trigram model, once under
//! the spun hypothesis and once under the clean one (every word kept): their
//! likelihood ratio gives the probability that a section was spun at all,
//! which scales every word's confidence. Clean text therefore comes back
//! untouched even though, word by word, many of its words could be spun
//! outputs.

mod analyse;
mod best;
mod lattice;
mod model;
mod options;
mod output;

pub(crate) use lattice::phrase_at;
pub use model::Model;
pub use options::Options;
pub use output::{apply, match_case, Alternative, Change, Rescored, Restoration, Section};

use crate::decode::{Decoder, Lattice, WordId};
use crate::rescore::ContextScorer;
use crate::token::{tokenize, Token, TokenKind};
use rustc_hash::FxHashMap;

/// The decodes behind one restoration.
struct Analysis {
    spun: crate::decode::Decoded,
    sections: Vec<Section>,
    syn: Option<crate::decode::Decoded>,
}

/// An uncertain slot offered to the context scorer.
struct Picked {
    slot: usize,
    alts: Vec<usize>,
    texts: Vec<String>,
    /// The lattice's probabilities of `alts`.
    trigram: Vec<f32>,
    /// Index into `alts` of the lattice's choice.
    before: usize,
    /// Whether the slot is read under the synonym hypothesis (its section
    /// is synonym-spun), so `alts` index the synonym lattice.
    syn: bool,
}

/// Where a lattice slot came from.
#[derive(Clone, Copy)]
struct SlotInfo {
    start: usize,
    end: usize,
    /// Index of the first token of the slot, for casing.
    first_token: usize,
    /// Lexicon id of each alternative's source, or a phrase index, per kind.
    kind: SlotKind,
    /// Lexicon id of the word form whose synonym candidates fill the slot
    /// under the synonym hypothesis, or `u32::MAX`.
    syn: u32,
}

#[derive(Clone, Copy)]
enum SlotKind {
    Fixed,
    Word { spun: u32 },
    Phrase { phrase: usize },
}

/// The decoding buffers of a [`Restorer`], free of any model: worth keeping
/// between calls (see [`crate::Engine`], which pools them per thread).
#[derive(Default)]
pub struct Scratch {
    decoder: Decoder,
    lattice: Lattice,
    clean: Lattice,
    /// The generic synonym-spinner hypothesis, slot for slot with `lattice`.
    syn: Lattice,
    slots: Vec<SlotInfo>,
    ids: Vec<WordId>,
    /// Channel score of every lattice alternative before EM (the EM prior).
    prior: Vec<f32>,
    /// Words the author demonstrably used: lexicon ids seen where the spinner
    /// cannot write (capitalized, punctuation-attached), with counts.
    cache: FxHashMap<u32, f32>,
    /// What the last `restore_best` rescored.
    rescored: Vec<Rescored>,
    /// Extra channel score per lattice alternative from the context scorer
    /// (empty in the default mode).
    unary: Vec<f32>,
}

/// Reusable restorer (one per thread): a model, options and decoding buffers.
pub struct Restorer<'m> {
    model: &'m Model,
    opts: Options,
    s: Scratch,
}

impl<'m> Restorer<'m> {
    /// A restorer over `model` with `opts`.
    pub fn new(model: &'m Model, opts: Options) -> Self {
        Self::with_scratch(model, opts, Scratch::default())
    }

    /// A restorer that reuses the buffers of an earlier one.
    pub fn with_scratch(model: &'m Model, opts: Options, scratch: Scratch) -> Self {
        Self {
            model,
            opts,
            s: scratch,
        }
    }

    /// Gives the buffers back, to reuse with [`Restorer::with_scratch`].
    pub fn into_scratch(self) -> Scratch {
        self.s
    }

    /// The options in use, to change between calls: a long-lived restorer
    /// (one per server worker thread) keeps its buffers across requests.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.opts
    }

    /// Restores a text of any length in bounded memory: it is cut into pieces
    /// of about [`crate::input::CHUNK_BYTES`] at line or sentence ends.
    /// It does not look at [`Options::cancel`]; see
    /// [`Restorer::restore_document_checked`].
    pub fn restore_document(&mut self, text: &str) -> Restoration {
        let mut whole = Restoration::default();
        for (offset, piece) in crate::input::split_text(text) {
            let r = self.restore(piece);
            whole.append(r, offset);
        }
        whole
    }

    /// Like [`Restorer::restore_document`], stopping with
    /// [`crate::Error::Cancelled`] once [`Options::cancel`] is cancelled
    /// (checked between pieces and between the stages of each piece).
    pub fn restore_document_checked(&mut self, text: &str) -> Result<Restoration, crate::Error> {
        let mut whole = Restoration::default();
        for (offset, piece) in crate::input::split_text(text) {
            let r = self.restore_checked(piece)?;
            whole.append(r, offset);
        }
        Ok(whole)
    }

    /// Restores `text` as one piece (memory grows with its length; see [`Restorer::restore_document`]).
    pub fn restore(&mut self, text: &str) -> Restoration {
        self.restore_until(text, &crate::Cancel::never())
            .expect("work that is never cancelled returns")
    }

    /// Like [`Restorer::restore`], stopping with [`crate::Error::Cancelled`]
    /// once [`Options::cancel`] is cancelled.
    pub fn restore_checked(&mut self, text: &str) -> Result<Restoration, crate::Error> {
        let cancel = self.opts.cancel.clone();
        self.restore_until(text, &cancel)
    }

    fn restore_until(
        &mut self,
        text: &str,
        cancel: &crate::Cancel,
    ) -> Result<Restoration, crate::Error> {
        cancel.check()?;
        let tokens = tokenize(text);
        self.s.unary.clear();
        self.build(text, &tokens);
        cancel.check()?;
        let a = self.analyse(text);
        cancel.check()?;
        let mut r = self.restoration(text, &tokens, &a);
        cancel.check()?;
        self.add_phrases(text, &tokens, &mut r);
        Ok(r)
    }

    /// Adds the tortured phrases of `text` to its restoration.
    fn add_phrases(&self, text: &str, tokens: &[Token], r: &mut Restoration) {
        if let Some(pm) = &self.model.phrases {
            let found =
                crate::tortured::find_phrases(pm, &self.model.lm, text, tokens, &self.opts.phrases);
            crate::tortured::merge_into(
                r,
                text,
                &found,
                &self.opts.phrases,
                self.opts.min_confidence,
            );
        }
    }

    /// Like [`Restorer::restore_document`], with the uncertain slots of every
    /// piece rescored by `scorer` (the best mode ([`crate::Quality::Best`]); see [`Restorer::restore_best`]).
    /// Stops with [`crate::Error::Cancelled`] once [`Options::cancel`] is cancelled.
    pub fn restore_document_best(
        &mut self,
        text: &str,
        scorer: &dyn ContextScorer,
    ) -> Result<Restoration, crate::Error> {
        let mut whole = Restoration::default();
        for (offset, piece) in crate::input::split_text(text) {
            let r = self.restore_best(piece, scorer)?;
            whole.append(r, offset);
        }
        Ok(whole)
    }

    /// Restores `text` like [`Restorer::restore`], then rescores the slots
    /// whose decision is uncertain with `scorer`, a model of the whole
    /// context: in every section judged spun by the news hypothesis, each
    /// slot whose two best alternatives are closer than
    /// [`Options::rescore_margin`] offers its best
    /// [`Options::rescore_candidates`] alternatives; the scorer rates each in
    /// the text as restored so far; `rescore_weight` times its
    /// ln-probability (relative to the slot's best) joins the alternative's
    /// channel score, the others are ruled out, and the lattice is decoded
    /// again (with its EM step), so neighbouring words and other occurrences
    /// of the same spun word follow the new evidence. Sections that the
    /// synonym hypothesis explains are rescored the same way on its lattice
    /// (decoded again without EM, as the default mode decodes it). Last,
    /// when the model has WordNet ([`Model::with_wordnet`]), the synonym
    /// sweep ([`crate::sweep`]) looks at every word outside news-spun
    /// sections with all its WordNet synonyms; it changes words only in text
    /// whose estimated replacement rate is high enough, so clean text comes
    /// back as it went in (or nearly: see docs/BENCHMARKS.md).
    ///
    /// [`Options::cancel`] is checked between the stages, and the scorer
    /// gets it ([`ContextScorer::score_cancellable`]).
    pub fn restore_best(
        &mut self,
        text: &str,
        scorer: &dyn ContextScorer,
    ) -> Result<Restoration, crate::Error> {
        let cancel = self.opts.cancel.clone();
        cancel.check()?;
        let tokens = tokenize(text);
        self.s.unary.clear();
        self.s.rescored.clear();
        self.build(text, &tokens);
        cancel.check()?;
        let a = self.analyse(text);
        cancel.check()?;
        let mut r = self.restoration(text, &tokens, &a);
        let picked = self.pick_uncertain(text, &tokens, &a);
        if !picked.is_empty() {
            r = self.rescore(text, &tokens, a, r, picked, scorer)?;
        }
        cancel.check()?;
        self.add_phrases(text, &tokens, &mut r);
        match self.model.wordnet() {
            Some(wn) if self.opts.sweep.enabled => crate::sweep::sweep(
                text,
                r,
                &self.model.lm,
                wn,
                scorer,
                &self.opts.sweep,
                self.opts.min_confidence,
                &cancel,
            ),
            _ => Ok(r),
        }
    }

    /// The E-step of [`crate::learn`]: adds, for every word slot of `text`,
    /// the probability of each reading (kept, or each original) to `counts`,
    /// as (original, written) pairs. Returns the words of `text`.
    pub(crate) fn expected_counts(
        &mut self,
        text: &str,
        counts: &mut crate::learn::Counts,
    ) -> usize {
        let mut words = 0;
        for (_, piece) in crate::input::split_text(text) {
            let tokens = tokenize(piece);
            words += tokens.iter().filter(|t| t.kind == TokenKind::Word).count();
            self.s.unary.clear();
            self.build(piece, &tokens);
            let a = self.analyse(piece);
            let mut section_idx = 0;
            for i in 0..self.s.slots.len() {
                let SlotKind::Word { spun } = self.s.slots[i].kind else {
                    continue;
                };
                let (probs, _, _) = self.slot_probs(&a, i, &mut section_idx);
                let cands = self.model.lexicon.candidates(spun);
                for (k, p) in probs.into_iter().enumerate() {
                    let original = if k == 0 { spun } else { cands[k - 1].original };
                    counts.add(original, spun, p);
                }
            }
        }
        words
    }

    /// What the last [`Restorer::restore_best`] asked the scorer and decided,
    /// slot by slot (for analysis and tuning).
    pub fn rescored(&self) -> &[Rescored] {
        &self.s.rescored
    }
}
