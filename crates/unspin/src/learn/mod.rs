//! Learning a spinner from its own output (`unspin learn`).
//!
//! A spinner maps each word type the same way every time, so its table can
//! be estimated from spun pages alone, with no originals: the original of a
//! written word is the one that fits every place where it occurs. This is
//! EM over the restorer's candidates:
//!
//! - E-step: every document is restored with the current channel and each
//!   word slot adds the probability of each reading (kept, or each original,
//!   weighted by its section's spun probability) to corpus-wide expected
//!   counts of (original, written) pairs;
//! - M-step: the counts become the channel, smoothed toward the model's
//!   own ([`LearnedChannel::ln_prob`]): the same estimate the document-level
//!   EM of [`crate::restore`] makes within one text, now over every page.
//!
//! Then a type-level pass (`types.rs`) decides the written types the EM
//! leaves unexplained: a fluent synonym spinner's swaps cost more prior
//! than one context repays, but the evidence of every distinct context of a
//! type adds up against a single prior. A last read (`classes.rs`) counts,
//! for the pairs now asserted, how often the spinner rewrote capitalized
//! and punctuation-attached words (and function words and digits), so that
//! restore opens those classes only for a spinner that touches them.
//!
//! Settings were chosen on the dev split of the held-out benchmark (A1 ->
//! A2; docs/BENCHMARKS.md, "Learned spinners").
//!
//! The result is a [`SpinnerProfile`] (the `.spinner` file), which every
//! front end binds to its model and passes in [`crate::restore::Options::spinner`].

mod classes;
mod profile;
mod types;

pub use classes::{ClassRate, TokenClasses};

pub(crate) use profile::Counts;
pub use profile::{LearnedChannel, SpinnerProfile, TableRow, MIN_ASSERTED_COUNT};

use rayon::prelude::*;

use crate::restore::Options;
use crate::Engine;

/// Settings of [`learn`].
#[derive(Clone, Debug)]
pub struct LearnOptions {
    /// EM passes over the documents (the first uses the model's own channel).
    pub passes: usize,
    /// Weight of the model's channel against the learned counts (in
    /// occurrences): an original seen fewer times than this keeps mostly
    /// the model's estimate.
    pub prior_weight: f32,
    /// Restore options of the E-step (their `spinner` is replaced each pass).
    pub restore: Options,
    /// Log prior odds that a written word type was replaced, by its best
    /// candidate, in the type-level pass (see `types.rs`).
    pub type_prior_odds: f32,
    /// Occurrences a written word type needs before the type-level pass
    /// decides on it.
    pub type_min_occurrences: u32,
    /// The rate at which the type-level pass assumes a spinner replaces an
    /// original it has an entry for: each occurrence of a candidate
    /// original as itself speaks against it.
    pub type_replace_rate: f32,
}

impl Default for LearnOptions {
    fn default() -> Self {
        Self {
            passes: 3,
            prior_weight: DEFAULT_PRIOR_WEIGHT,
            restore: Options::default(),
            type_prior_odds: -4.0,
            type_min_occurrences: 2,
            type_replace_rate: 0.8,
        }
    }
}

/// Default of [`LearnOptions::prior_weight`], also used when a profile is
/// loaded for restoring.
pub const DEFAULT_PRIOR_WEIGHT: f32 = 2.0;

/// Documents to learn from: read once per EM pass, a batch at a time, so
/// that a corpus larger than memory can be learned from.
pub trait Pages: Sync {
    /// Calls `f` with every document, a batch at a time, in the same order
    /// on every call.
    fn batches(
        &self,
        f: &mut dyn FnMut(&[&str]) -> Result<(), crate::Error>,
    ) -> Result<(), crate::Error>;
}

impl Pages for &[&str] {
    fn batches(
        &self,
        f: &mut dyn FnMut(&[&str]) -> Result<(), crate::Error>,
    ) -> Result<(), crate::Error> {
        // Batches keep the progress reports coming on a long list.
        self.chunks(256).try_for_each(f)
    }
}

/// How far [`learn`] is: the pass (from 0) and the documents and words
/// done in it.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub pass: usize,
    pub documents: usize,
    pub words: usize,
}

/// Learns the spinner behind `pages` (its output, with no originals).
/// `progress` is called after every batch; the work runs on the current
/// rayon pool and stops with [`crate::Error::Cancelled`] once
/// `opts.restore.cancel` is cancelled.
pub fn learn(
    engine: &Engine,
    pages: &dyn Pages,
    opts: &LearnOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<SpinnerProfile, crate::Error> {
    let lexicon = &engine.model().lexicon;
    let mut profile: Option<SpinnerProfile> = None;
    for pass in 0..opts.passes.max(1) {
        let mut ropts = opts.restore.clone();
        ropts.spinner = profile
            .as_ref()
            .map(|p| std::sync::Arc::new(p.bind(lexicon, opts.prior_weight)));
        let mut counts = Counts::default();
        let (mut documents, mut words) = (0, 0);
        pages.batches(&mut |batch| {
            // Summed in document order, so that the profile does not
            // depend on the number of threads.
            let per_doc: Vec<(Counts, usize)> = batch
                .par_iter()
                .map(|d| {
                    ropts.cancel.check()?;
                    let mut c = Counts::default();
                    let w = engine.restorer(ropts.clone()).expected_counts(d, &mut c);
                    Ok((c, w))
                })
                .collect::<Result<_, crate::Error>>()?;
            for (c, w) in per_doc {
                counts.merge(c);
                words += w;
            }
            documents += batch.len();
            progress(Progress {
                pass,
                documents,
                words,
            });
            Ok(())
        })?;
        profile = Some(SpinnerProfile::from_counts(
            &counts,
            lexicon,
            words as u64,
            documents as u64,
        ));
    }
    let mut profile = profile.unwrap_or_default();
    // The type-level pass: one more read of the pages.
    let model = engine.model();
    let mut evidence = types::TypeEvidence::default();
    // Sequential, in page order: a context seen before adds nothing.
    pages.batches(&mut |batch| {
        for d in batch {
            opts.restore.cancel.check()?;
            evidence.add_text(model, d);
        }
        Ok(())
    })?;
    let decisions = evidence.decisions(
        opts.type_prior_odds,
        opts.restore.lm_weight,
        opts.type_min_occurrences,
        opts.type_replace_rate,
    );
    profile.set_type_decisions(lexicon, &decisions);
    // Which token classes the spinner touches, for the pairs now asserted:
    // one more read, counting only.
    let mut counter =
        classes::ClassCounter::new(&profile.best_pairs(MIN_ASSERTED_COUNT), &model.lm);
    pages.batches(&mut |batch| {
        for d in batch {
            opts.restore.cancel.check()?;
            counter.add_text(d);
        }
        Ok(())
    })?;
    profile.classes = counter.finish();
    Ok(profile)
}
