//! [`Engine`]: the one entry point of the library.
//!
//! An engine owns the model, the detector's tables, the optional context
//! scorer of the best mode (the neural model, which lives in another crate
//! and comes in as a [`ContextScorer`]) and a pool of decoding buffers. The
//! CLI, the server, the Python module and the benchmarks all restore,
//! detect and trace through it, so the choice between the default and the
//! best mode is made here and nowhere else.
//!
//! An engine is `Sync`: share one (in an `Arc`, or by reference) across
//! threads. Every call takes a buffer set from the pool and gives it back,
//! so a worker thread that restores many texts allocates its lattices once.
//!
//! ```
//! use unspin::{detect::DetectOptions, restore::Options, Engine};
//!
//! let engine = Engine::embedded(false)?;
//! let restored = engine.restore("helium said the caller rules", &Options::default())?;
//! assert_eq!(restored.text, "he said the new rules");
//! let detection = engine.detect("helium said the caller rules", &DetectOptions::default())?;
//! assert!(detection.prob > 0.5);
//! # Ok::<(), unspin::Error>(())
//! ```

use std::sync::{Arc, Mutex, OnceLock};

use crate::detect::{Calibration, DetectOptions, Detection, Detector, DetectorParts};
use crate::fingerprint::Fingerprint;
use crate::rescore::{ContextScorer, Quality};
use crate::restore::{Model, Options, Restoration, Restorer, Scratch};
use crate::trace::{PostingSource, TraceOptions, TraceResult};
use crate::Error;

/// Loads the context scorer of the best mode on first use.
pub type ScorerLoader = Box<dyn Fn() -> Result<Arc<dyn ContextScorer>, String> + Send + Sync>;

/// The model, the detector and the best mode's scorer, behind one API.
pub struct Engine {
    model: Model,
    calibration: Calibration,
    /// Built on the first detection: restoring needs none of it.
    detector: OnceLock<DetectorParts>,
    scorer: OnceLock<Result<Arc<dyn ContextScorer>, String>>,
    loader: Option<ScorerLoader>,
    pool: Mutex<Vec<Scratch>>,
}

impl Engine {
    /// An engine over `model`, detecting with `calibration`. Without
    /// [`Engine::with_scorer`] or [`Engine::with_scorer_loader`], asking for
    /// [`Quality::Best`] is an [`Error::Unavailable`].
    pub fn new(model: Model, calibration: Calibration) -> Self {
        Self {
            model,
            calibration,
            detector: OnceLock::new(),
            scorer: OnceLock::new(),
            loader: None,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// The engine over the embedded default model (language model, lexicon,
    /// tortured phrases) and calibration; `wordnet` adds the embedded WordNet
    /// that the best mode's synonym sweep reads.
    pub fn embedded(wordnet: bool) -> Result<Self, Error> {
        let mut model = Model::new(
            crate::models::embedded_lm()?,
            crate::models::embedded_lexicon()?,
        )
        .with_phrases(crate::models::embedded_phrases()?);
        if wordnet {
            model = model.with_wordnet(crate::models::embedded_wordnet()?);
        }
        Ok(Self::new(model, crate::models::embedded_calibration()?))
    }

    /// The engine with a context scorer for [`Quality::Best`], loaded already.
    pub fn with_scorer(self, scorer: Arc<dyn ContextScorer>) -> Self {
        let _ = self.scorer.set(Ok(scorer));
        self
    }

    /// The engine loading its context scorer on the first request for
    /// [`Quality::Best`] (a server that may never be asked need not pay for
    /// it); a failed load is kept and reported to every such request.
    pub fn with_scorer_loader(mut self, loader: ScorerLoader) -> Self {
        self.loader = Some(loader);
        self
    }

    /// The context scorer of the best mode, loading it if need be.
    pub fn scorer(&self) -> Result<Arc<dyn ContextScorer>, Error> {
        self.scorer
            .get_or_init(|| match &self.loader {
                Some(load) => load(),
                None => Err("no context scorer was given to this engine".into()),
            })
            .clone()
            .map_err(|e| Error::Unavailable(format!("quality \"best\" is not available: {e}")))
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The detector's calibration.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// The model and the calibration back, for a caller that builds another
    /// engine from them (a benchmark that swaps the phrase model, say).
    pub fn into_parts(self) -> (Model, Calibration) {
        (self.model, self.calibration)
    }

    /// A detector over the engine's model and tables (cheap: nothing is built).
    pub fn detector(&self) -> Detector<'_> {
        let parts = self
            .detector
            .get_or_init(|| DetectorParts::new(&self.model, self.calibration.clone()));
        Detector::borrowed(&self.model, parts)
    }

    /// A restorer with `opts`, on buffers from the pool; they go back to
    /// the pool when it is dropped (unless a panic is unwinding, which may
    /// have left them half-updated).
    pub fn restorer(&self, opts: Options) -> PooledRestorer<'_> {
        let scratch = self.lock_pool().pop().unwrap_or_default();
        PooledRestorer {
            engine: self,
            inner: Some(Restorer::with_scratch(&self.model, opts, scratch)),
        }
    }

    fn lock_pool(&self) -> std::sync::MutexGuard<'_, Vec<Scratch>> {
        // The pool holds plain buffers: one left by a panicking thread is still usable.
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Restores a text of any length (cut into pieces of about
    /// [`crate::input::CHUNK_BYTES`], so memory stays bounded), in the mode
    /// `opts.quality` names. Returns [`Error::Cancelled`] once
    /// `opts.cancel` is cancelled (see [`crate::cancel`]).
    pub fn restore(&self, text: &str, opts: &Options) -> Result<Restoration, Error> {
        opts.cancel.check()?;
        let scorer = self.scorer_for(opts.quality)?;
        let mut r = self.restorer(opts.clone());
        match &scorer {
            Some(s) => r.restore_document_best(text, &**s),
            None => r.restore_document_checked(text),
        }
    }

    /// Restores `text` as one piece: for callers that cut a stream into
    /// pieces themselves (see [`crate::input`]).
    pub fn restore_piece(&self, text: &str, opts: &Options) -> Result<Restoration, Error> {
        opts.cancel.check()?;
        let scorer = self.scorer_for(opts.quality)?;
        let mut r = self.restorer(opts.clone());
        match &scorer {
            Some(s) => r.restore_best(text, &**s),
            None => r.restore_checked(text),
        }
    }

    fn scorer_for(&self, quality: Quality) -> Result<Option<Arc<dyn ContextScorer>>, Error> {
        match quality {
            Quality::Default => Ok(None),
            Quality::Best => self.scorer().map(Some),
        }
    }

    /// A learned spinner profile bound to this engine's lexicon, for
    /// [`Options::spinner`] and [`DetectOptions::spinner`].
    pub fn spinner_channel(
        &self,
        profile: &crate::learn::SpinnerProfile,
    ) -> Arc<crate::learn::LearnedChannel> {
        Arc::new(profile.bind(&self.model.lexicon, crate::learn::DEFAULT_PRIOR_WEIGHT))
    }

    /// Detects spinning in `text`. With `opts.refine` (implied by
    /// [`Quality::Best`]) the spun sections' word scores and likely
    /// originals come from the full restorer; the document probability is
    /// the fast pass's either way.
    pub fn detect(&self, text: &str, opts: &DetectOptions) -> Result<Detection, Error> {
        self.detect_cancellable(text, opts, &crate::Cancel::never())
    }

    /// Like [`Engine::detect`], returning [`Error::Cancelled`] once `cancel`
    /// is cancelled (see [`crate::cancel`]).
    pub fn detect_cancellable(
        &self,
        text: &str,
        opts: &DetectOptions,
        cancel: &crate::Cancel,
    ) -> Result<Detection, Error> {
        cancel.check()?;
        let scorer = self.scorer_for(opts.quality)?;
        let detector = self.detector();
        let mut det = detector.detect_cancellable(text, opts, cancel)?;
        if opts.refine() && det.spun {
            let mut r = self.restorer(Options {
                cancel: cancel.clone(),
                spinner: opts.spinner.clone(),
                ..Options::default()
            });
            match &scorer {
                Some(s) => detector.refine_best(text, &mut det, &mut r, &**s, opts)?,
                None => detector.refine_checked(text, &mut det, &mut r, opts)?,
            }
        }
        Ok(det)
    }

    /// The probability at which a word of [`Engine::detect`]'s output counts
    /// as spun: the refined scores have their own threshold.
    pub fn word_threshold(&self, opts: &DetectOptions) -> f32 {
        let c = self.calibration();
        if opts.refine() {
            c.restore_word_threshold as f32
        } else {
            c.word_threshold as f32
        }
    }

    /// Ranks the sources of `text` in `source`, fingerprinting with `fp`;
    /// with `restore`, the restored text adds its fingerprints to the query.
    pub fn trace(
        &self,
        fp: &crate::fingerprint::Fingerprinter,
        text: &str,
        source: &dyn PostingSource,
        opts: &TraceOptions,
        restore: bool,
    ) -> Result<(Fingerprint, TraceResult), Error> {
        self.trace_cancellable(fp, text, source, opts, restore, &crate::Cancel::never())
    }

    /// Like [`Engine::trace`], returning [`Error::Cancelled`] once `cancel`
    /// is cancelled (see [`crate::cancel`]).
    pub fn trace_cancellable(
        &self,
        fp: &crate::fingerprint::Fingerprinter,
        text: &str,
        source: &dyn PostingSource,
        opts: &TraceOptions,
        restore: bool,
        cancel: &crate::Cancel,
    ) -> Result<(Fingerprint, TraceResult), Error> {
        if restore {
            let mut r = self.restorer(Options::default());
            crate::trace::trace_text_cancellable(fp, Some(&mut r), text, source, opts, cancel)
        } else {
            crate::trace::trace_text_cancellable(fp, None, text, source, opts, cancel)
        }
    }
}

/// A [`Restorer`] on pooled buffers (see [`Engine::restorer`]); it derefs to the restorer.
pub struct PooledRestorer<'e> {
    engine: &'e Engine,
    inner: Option<Restorer<'e>>,
}

impl<'e> std::ops::Deref for PooledRestorer<'e> {
    type Target = Restorer<'e>;
    fn deref(&self) -> &Restorer<'e> {
        self.inner.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for PooledRestorer<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.inner.as_mut().expect("present until drop")
    }
}

impl Drop for PooledRestorer<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.inner.take() {
            if !std::thread::panicking() {
                self.engine.lock_pool().push(r.into_scratch());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> &'static Engine {
        static E: OnceLock<Engine> = OnceLock::new();
        E.get_or_init(|| Engine::embedded(false).expect("embedded model"))
    }

    #[test]
    fn engine_is_shared_across_threads() {
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<Engine>();
    }

    #[test]
    fn best_without_scorer_is_unavailable() {
        let opts = Options {
            quality: Quality::Best,
            ..Options::default()
        };
        let e = engine().restore("helium said so.", &opts).unwrap_err();
        assert!(matches!(e, Error::Unavailable(_)), "{e}");
    }

    #[test]
    fn pooled_restorer_matches_a_fresh_one() {
        let text = "helium said the caller rules would beryllium published connected Monday.";
        let e = engine();
        let first = e.restore(text, &Options::default()).unwrap();
        // The second call reuses the first call's buffers.
        let second = e.restore(text, &Options::default()).unwrap();
        let fresh = Restorer::new(e.model(), Options::default()).restore_document(text);
        assert_eq!(first.text, fresh.text);
        assert_eq!(second.text, fresh.text);
        assert_ne!(fresh.text, text, "the news spinner's words are restored");
    }

    /// About `bytes` of spun news: the repository's sample, repeated.
    fn long_text(bytes: usize) -> String {
        let sample = include_str!("../../../examples/spun-news.txt");
        let mut text = String::with_capacity(bytes + sample.len());
        while text.len() < bytes {
            text.push_str(sample);
            text.push_str("\n\n");
        }
        text
    }

    /// Runs `work` with a token that another thread cancels after `after`;
    /// returns its result and how long it ran past the cancel.
    fn cancelled_after<T>(
        after: std::time::Duration,
        work: impl FnOnce(&crate::Cancel) -> Result<T, Error>,
    ) -> (Result<T, Error>, std::time::Duration) {
        let cancel = crate::Cancel::new();
        let start = std::time::Instant::now();
        let c = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(after);
            c.cancel();
        });
        let r = work(&cancel);
        let past = start.elapsed().saturating_sub(after);
        t.join().unwrap();
        (r, past)
    }

    #[test]
    fn a_cancelled_restore_stops_promptly() {
        // 4 MB: about 30 s of restoring on one core, 16 pieces.
        let text = long_text(4 << 20);
        let e = engine();
        let after = std::time::Duration::from_millis(300);
        let (r, past) = cancelled_after(after, |cancel| {
            let opts = Options {
                cancel: cancel.clone(),
                ..Options::default()
            };
            e.restore(&text, &opts)
        });
        assert!(
            matches!(r, Err(Error::Cancelled(_))),
            "{:?}",
            r.map(|r| r.words)
        );
        assert!(past.as_secs_f64() < 1.0, "ran {past:?} past the cancel");
        // A token cancelled before the call stops it at once; the restorer
        // goes back to the pool and still restores correctly.
        let cancel = crate::Cancel::new();
        cancel.cancel();
        let opts = Options {
            cancel,
            ..Options::default()
        };
        let start = std::time::Instant::now();
        assert!(matches!(e.restore(&text, &opts), Err(Error::Cancelled(_))));
        assert!(matches!(
            e.restore_piece(&text, &opts),
            Err(Error::Cancelled(_))
        ));
        assert!(start.elapsed().as_millis() < 100, "{:?}", start.elapsed());
        let ok = e.restore("helium said so.", &Options::default()).unwrap();
        assert_eq!(ok.text, "he said so.");
    }

    #[test]
    fn a_restore_past_its_deadline_stops() {
        let text = long_text(4 << 20);
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(300);
        let opts = Options {
            cancel: crate::Cancel::with_deadline(deadline),
            ..Options::default()
        };
        let r = engine().restore(&text, &opts);
        let past = deadline.elapsed();
        assert!(
            matches!(&r, Err(Error::Cancelled(m)) if m.contains("deadline")),
            "{:?}",
            r.map(|r| r.words)
        );
        assert!(past.as_secs_f64() < 1.0, "ran {past:?} past the deadline");
    }

    #[test]
    fn a_cancelled_detect_stops_promptly() {
        // 8 MB: more than a second of the detector's pass.
        let text = long_text(8 << 20);
        let e = engine();
        for restore in [false, true] {
            let opts = DetectOptions {
                restore,
                ..DetectOptions::default()
            };
            let after = std::time::Duration::from_millis(200);
            let (r, past) = cancelled_after(after, |c| e.detect_cancellable(&text, &opts, c));
            assert!(
                matches!(r, Err(Error::Cancelled(_))),
                "restore {restore}: {:?}",
                r.map(|d| d.prob)
            );
            assert!(
                past.as_secs_f64() < 1.0,
                "restore {restore}: ran {past:?} past the cancel"
            );
        }
    }

    #[test]
    fn a_cancelled_trace_stops() {
        let text = long_text(4 << 20);
        let e = engine();
        let fp = crate::fingerprint::Fingerprinter::new(
            crate::fingerprint::FingerprintConfig::default(),
            crate::fingerprint::MutableWords::from_words(["new", "said"]),
        );
        let index = crate::trace::MemoryIndex::new();
        let opts = TraceOptions::default();
        let after = std::time::Duration::from_millis(300);
        let (r, past) = cancelled_after(after, |c| {
            e.trace_cancellable(&fp, &text, &index, &opts, true, c)
        });
        assert!(
            matches!(r, Err(Error::Cancelled(_))),
            "{:?}",
            r.map(|r| r.1.postings)
        );
        assert!(past.as_secs_f64() < 1.0, "ran {past:?} past the cancel");
    }

    #[test]
    fn detect_agrees_with_the_detector() {
        let text = "helium said the caller rules would beryllium published connected Monday.";
        let e = engine();
        let opts = DetectOptions::default();
        let a = e.detect(text, &opts).unwrap();
        let b = e.detector().detect(text, &opts);
        assert_eq!(a.prob, b.prob);
        assert_eq!(a.spun, b.spun);
    }
}
