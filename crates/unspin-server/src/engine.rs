//! The blocking work behind the endpoints: one model, loaded once and shared
//! by every request. Everything here is synchronous and CPU-bound; the HTTP
//! layer calls it on the worker pool, never on the async runtime.

use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use unspin::detect::{Calibration, DetectOptions, Detection, Detector};
use unspin::rescore::Quality;
use unspin::restore::{Model, Options, Restoration, Restorer};

use crate::error::ApiError;

/// Options of a restore request (JSON fields, form fields or query parameters).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreParams {
    /// Apply only changes at least this confident (0 to 1); others are reported with `applied: false`.
    pub min_confidence: Option<f32>,
    /// `"default"` or `"best"` (neural rescoring; needs the neural model installed).
    pub quality: Option<Quality>,
}

/// Options of a detect request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectParams {
    /// Call the text spun when its probability is at least this (default: the calibrated threshold).
    pub threshold: Option<f32>,
    /// Run the full restorer on spun sections for better likely originals (slower).
    pub restore: Option<bool>,
    /// Evidence words reported (default 10, at most 1000).
    pub evidence: Option<usize>,
    /// `"best"` refines the likely originals and word scores with neural
    /// rescoring (implies `restore`); the document probability is the same.
    pub quality: Option<Quality>,
}

/// Options of a trace request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceParams {
    /// Most sources reported (default 5, at most 100).
    pub max_results: Option<usize>,
    /// Report sources scoring at least this (evidence in nats; default: the CLI's default).
    pub min_score: Option<f32>,
    /// Restore the text first for extra fingerprints (default true).
    pub restore: Option<bool>,
    /// Include the passages' text (default true).
    pub passage_text: Option<bool>,
}

/// Checks request options once they are parsed.
pub trait Validate {
    /// A one-line reason when an option is out of range.
    fn validate(&self) -> Result<(), String>;
}

fn unit(name: &str, v: Option<f32>) -> Result<(), String> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) => Err(format!("{name} must be between 0 and 1")),
        _ => Ok(()),
    }
}

impl Validate for RestoreParams {
    fn validate(&self) -> Result<(), String> {
        unit("min_confidence", self.min_confidence)
    }
}

impl Validate for TraceParams {
    fn validate(&self) -> Result<(), String> {
        match self.max_results {
            Some(n) if n == 0 || n > 100 => {
                return Err("max_results must be between 1 and 100".into())
            }
            _ => {}
        }
        match self.min_score {
            Some(x) if !x.is_finite() => Err("min_score must be a finite number".into()),
            _ => Ok(()),
        }
    }
}

impl Validate for DetectParams {
    fn validate(&self) -> Result<(), String> {
        unit("threshold", self.threshold)?;
        match self.evidence {
            Some(n) if n > 1000 => Err("evidence must be at most 1000".into()),
            _ => Ok(()),
        }
    }
}

thread_local! {
    /// Each worker thread's restorer, reused across requests (its decoding
    /// buffers are worth keeping), with the address of the model it serves.
    static RESTORER: std::cell::RefCell<Option<(usize, Restorer<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

/// A trace index and the fingerprinter that matches it.
pub struct Tracer {
    reader: unspin_index::Reader,
    fingerprinter: unspin::fingerprint::Fingerprinter,
}

impl Tracer {
    /// Opens the index at `path` for reading (other processes may add to it meanwhile).
    pub fn open(path: &std::path::Path) -> Result<Self, unspin_index::IndexError> {
        let reader = unspin_index::Index::open_reader(path)?;
        let fingerprinter = reader.snapshot()?.fingerprinter()?;
        Ok(Self {
            reader,
            fingerprinter,
        })
    }
}

/// The shared model and what every request derives from it.
pub struct Engine {
    model: &'static Model,
    detector: Detector<'static>,
    restore_options: Options,
    tracer: Option<Tracer>,
    /// The neural model of `quality: "best"`, loaded on the first request
    /// that asks for it (the default mode never needs it), or why not.
    neural: OnceLock<Result<Arc<unspin_neural::NeuralLm>, String>>,
    /// Where the neural model is read from (default: [`unspin_neural::default_model_path`]).
    neural_path: Option<std::path::PathBuf>,
}

impl Engine {
    /// An engine over a model that lives for the rest of the process (the
    /// CLI leaks it once; tests keep one in a static).
    pub fn new(model: &'static Model, calibration: Calibration) -> Self {
        Self {
            model,
            detector: Detector::new(model, calibration),
            restore_options: Options::default(),
            tracer: None,
            neural: OnceLock::new(),
            neural_path: None,
        }
    }

    /// The engine reading the neural model of `quality: "best"` from `path`.
    pub fn with_neural_model(mut self, path: std::path::PathBuf) -> Self {
        self.neural_path = Some(path);
        self
    }

    /// The neural model for `quality: "best"`, loaded once; a missing
    /// model is a 400 whose message gives the install command.
    pub fn neural(&self) -> Result<Arc<unspin_neural::NeuralLm>, ApiError> {
        self.neural
            .get_or_init(|| {
                let path = self
                    .neural_path
                    .clone()
                    .unwrap_or_else(unspin_neural::default_model_path);
                unspin_neural::NeuralLm::load(&path)
                    .map(Arc::new)
                    .map_err(|e| format!("quality \"best\" is not available: {e}"))
            })
            .clone()
            .map_err(|e| ApiError::bad_request("quality_unavailable", e))
    }

    /// The engine with a trace index for `/v1/trace`.
    pub fn with_tracer(mut self, tracer: Tracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Whether `/v1/trace` has an index.
    pub fn can_trace(&self) -> bool {
        self.tracer.is_some()
    }

    /// Ranks the sources of `text` in the trace index (each request reads
    /// the index's latest commit).
    pub fn trace(
        &self,
        text: &str,
        params: &TraceParams,
    ) -> Result<unspin_index::report::TraceReport, String> {
        let t = self
            .tracer
            .as_ref()
            .ok_or("this server has no trace index")?;
        let snap = t.reader.snapshot().map_err(|e| e.to_string())?;
        let opts = unspin::trace::TraceOptions {
            min_score: params.min_score.unwrap_or(unspin::trace::DEFAULT_MIN_SCORE),
            max_results: params.max_results.unwrap_or(5),
            ..unspin::trace::TraceOptions::default()
        };
        let fp = &t.fingerprinter;
        let (query, result) = if params.restore.unwrap_or(true) {
            self.with_restorer(self.restore_options.clone(), |r| {
                unspin::trace::trace_text(fp, Some(r), text, &snap, &opts)
            })
        } else {
            unspin::trace::trace_text(fp, None, text, &snap, &opts)
        }
        .map_err(|e| e.to_string())?;
        unspin_index::report::report(
            &snap,
            fp,
            text,
            &query,
            &result,
            params.passage_text.unwrap_or(true),
        )
        .map_err(|e| e.to_string())
    }

    /// The model in use.
    pub fn model(&self) -> &'static Model {
        self.model
    }

    /// Runs `f` with this thread's restorer, set to `opts`.
    fn with_restorer<T>(&self, opts: Options, f: impl FnOnce(&mut Restorer<'static>) -> T) -> T {
        let key = self.model as *const Model as usize;
        RESTORER.with(|cell| {
            let mut slot = cell.borrow_mut();
            match slot.as_mut() {
                Some((k, r)) if *k == key => *r.options_mut() = opts,
                _ => *slot = Some((key, Restorer::new(self.model, opts))),
            }
            let (_, r) = slot.as_mut().expect("set above");
            f(r)
        })
    }

    /// Restores `text` (any length; long texts are cut into pieces).
    pub fn restore(&self, text: &str, params: &RestoreParams) -> Result<Restoration, ApiError> {
        let mut opts = self.restore_options.clone();
        if let Some(m) = params.min_confidence {
            opts.min_confidence = m;
        }
        match params.quality.unwrap_or_default() {
            Quality::Default => Ok(self.with_restorer(opts, |r| r.restore_document(text))),
            Quality::Best => {
                let neural = self.neural()?;
                self.with_restorer(opts, |r| r.restore_document_best(text, &*neural))
                    .map_err(|e| ApiError::internal(e.to_string()))
            }
        }
    }

    /// Detects spinning in `text`; returns the detection and the probability
    /// at which a word counts as spun (the `word_threshold` of the JSON).
    pub fn detect(&self, text: &str, params: &DetectParams) -> Result<(Detection, f32), ApiError> {
        let calib = self.detector.calibration();
        let neural = match params.quality.unwrap_or_default() {
            Quality::Default => None,
            Quality::Best => Some(self.neural()?),
        };
        let restore = params.restore.unwrap_or(false) || neural.is_some();
        let opts = DetectOptions {
            threshold: params.threshold,
            evidence: params.evidence.unwrap_or(10),
            word_floor: 0.05,
            words: true,
        };
        let word_threshold = if restore {
            calib.restore_word_threshold as f32
        } else {
            calib.word_threshold as f32
        };
        let mut det = self.detector.detect(text, &opts);
        if restore && det.spun {
            self.with_restorer(self.restore_options.clone(), |r| match &neural {
                Some(n) => self
                    .detector
                    .refine_best(text, &mut det, r, &**n, &opts)
                    .map_err(|e| ApiError::internal(e.to_string())),
                None => {
                    self.detector.refine(text, &mut det, r, &opts);
                    Ok(())
                }
            })?;
        }
        Ok((det, word_threshold))
    }

    /// Share of the word tokens of `text` that the language model knows: a
    /// cheap sign of whether the text is English at all.
    pub fn known_word_share(&self, text: &str) -> f32 {
        let mut words = 0usize;
        let mut known = 0usize;
        let mut lower = String::new();
        for t in unspin::token::tokenize(text) {
            if t.kind != unspin::token::TokenKind::Word {
                continue;
            }
            words += 1;
            lower.clear();
            lower.extend(text[t.start..t.end].chars().flat_map(char::to_lowercase));
            known += self.model.lm.id(&lower).is_some() as usize;
        }
        if words == 0 {
            0.0
        } else {
            known as f32 / words as f32
        }
    }
}
