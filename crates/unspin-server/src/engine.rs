//! The blocking work behind the endpoints: one model, loaded once and shared
//! by every request. Everything here is synchronous and CPU-bound; the HTTP
//! layer calls it on the worker pool, never on the async runtime.

use std::sync::Arc;

use serde::Deserialize;
use unspin::detect::{DetectOptions, Detection};
use unspin::restore::{Model, Options, Restoration};
use unspin::{Cancel, Quality};

use crate::error::ApiError;

/// Options of a restore request (JSON fields, form fields or query parameters).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreParams {
    /// Apply only changes at least this confident (0 to 1); others are reported with `applied: false`.
    pub min_confidence: Option<f32>,
    /// `"default"` or `"best"` (neural rescoring; needs the neural model installed).
    pub quality: Option<Quality>,
    /// Name of a learned spinner the server loaded (`unspin serve --spinner NAME=FILE`).
    pub spinner: Option<String>,
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
    /// Name of a learned spinner the server loaded: the spun words and
    /// likely originals follow it (implies `restore`).
    pub spinner: Option<String>,
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

/// The library's engine, and the trace index of `/v1/trace`.
pub struct Engine {
    core: Arc<unspin::Engine>,
    tracer: Option<Tracer>,
    /// Learned spinners by name, bound to the core's lexicon.
    spinners: std::collections::BTreeMap<String, Arc<unspin::learn::LearnedChannel>>,
}

impl Engine {
    /// The server's engine over the library's (which holds the model, the
    /// detector and the neural model of `quality: "best"`).
    pub fn new(core: Arc<unspin::Engine>) -> Self {
        Self {
            core,
            tracer: None,
            spinners: Default::default(),
        }
    }

    /// The engine with a learned spinner that requests may name.
    pub fn with_spinner(mut self, name: &str, profile: &unspin::learn::SpinnerProfile) -> Self {
        let channel = self.core.spinner_channel(profile);
        self.spinners.insert(name.to_string(), channel);
        self
    }

    /// The names of the learned spinners, in order.
    pub fn spinner_names(&self) -> Vec<&str> {
        self.spinners.keys().map(String::as_str).collect()
    }

    /// The learned spinner a request names (400 `unknown_spinner` if none has that name).
    fn spinner(
        &self,
        name: Option<&str>,
    ) -> Result<Option<Arc<unspin::learn::LearnedChannel>>, ApiError> {
        let Some(name) = name else { return Ok(None) };
        match self.spinners.get(name) {
            Some(c) => Ok(Some(c.clone())),
            None => Err(ApiError::bad_request(
                "unknown_spinner",
                format!(
                    "no spinner named '{name}' is loaded (loaded: {})",
                    if self.spinners.is_empty() {
                        "none".to_string()
                    } else {
                        self.spinner_names().join(", ")
                    }
                ),
            )),
        }
    }

    /// The library's engine.
    pub fn core(&self) -> &Arc<unspin::Engine> {
        &self.core
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
        self.trace_cancellable(text, params, &Cancel::never())
            .map_err(|e| e.to_string())
    }

    /// Like [`Engine::trace`], stopping once `cancel` is cancelled: the
    /// error is then [`TraceError::Cancelled`], not the index's.
    pub fn trace_cancellable(
        &self,
        text: &str,
        params: &TraceParams,
        cancel: &Cancel,
    ) -> Result<unspin_index::report::TraceReport, TraceError> {
        let t = self
            .tracer
            .as_ref()
            .ok_or_else(|| TraceError::Index("this server has no trace index".into()))?;
        let snap = t
            .reader
            .snapshot()
            .map_err(|e| TraceError::Index(e.to_string()))?;
        let opts = unspin::trace::TraceOptions {
            min_score: params.min_score.unwrap_or(unspin::trace::DEFAULT_MIN_SCORE),
            max_results: params.max_results.unwrap_or(5),
            ..unspin::trace::TraceOptions::default()
        };
        let fp = &t.fingerprinter;
        let (query, result) = self
            .core
            .trace_cancellable(
                fp,
                text,
                &snap,
                &opts,
                params.restore.unwrap_or(true),
                cancel,
            )
            .map_err(|e| match e {
                unspin::Error::Cancelled(m) => TraceError::Cancelled(m),
                e => TraceError::Index(e.to_string()),
            })?;
        unspin_index::report::report(
            &snap,
            fp,
            text,
            &query,
            &result,
            params.passage_text.unwrap_or(true),
        )
        .map_err(|e| TraceError::Index(e.to_string()))
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        self.core.model()
    }

    /// Restores `text` (any length; long texts are cut into pieces).
    pub fn restore(&self, text: &str, params: &RestoreParams) -> Result<Restoration, ApiError> {
        self.restore_cancellable(text, params, &Cancel::never())
    }

    /// Like [`Engine::restore`], stopping (503 `cancelled`) once `cancel` is cancelled.
    pub fn restore_cancellable(
        &self,
        text: &str,
        params: &RestoreParams,
        cancel: &Cancel,
    ) -> Result<Restoration, ApiError> {
        let mut opts = Options {
            quality: params.quality.unwrap_or_default(),
            cancel: cancel.clone(),
            spinner: self.spinner(params.spinner.as_deref())?,
            ..Options::default()
        };
        if let Some(m) = params.min_confidence {
            opts.min_confidence = m;
        }
        self.core.restore(text, &opts).map_err(library_error)
    }

    /// Detects spinning in `text`; returns the detection and the probability
    /// at which a word counts as spun (the `word_threshold` of the JSON).
    pub fn detect(&self, text: &str, params: &DetectParams) -> Result<(Detection, f32), ApiError> {
        self.detect_cancellable(text, params, &Cancel::never())
    }

    /// Like [`Engine::detect`], stopping (503 `cancelled`) once `cancel` is cancelled.
    pub fn detect_cancellable(
        &self,
        text: &str,
        params: &DetectParams,
        cancel: &Cancel,
    ) -> Result<(Detection, f32), ApiError> {
        let opts = DetectOptions {
            threshold: params.threshold,
            evidence: params.evidence.unwrap_or(10),
            word_floor: 0.05,
            words: true,
            restore: params.restore.unwrap_or(false),
            quality: params.quality.unwrap_or_default(),
            spinner: self.spinner(params.spinner.as_deref())?,
        };
        let det = self
            .core
            .detect_cancellable(text, &opts, cancel)
            .map_err(library_error)?;
        Ok((det, self.core.word_threshold(&opts)))
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
            known += self.core.model().lm.id(&lower).is_some() as usize;
        }
        if words == 0 {
            0.0
        } else {
            known as f32 / words as f32
        }
    }
}

/// A library error as the API reports it: a missing best mode is the
/// client's to fix (400 with the install command); cancelled work is 503
/// `cancelled` (a client sees it only when the server shuts down: a timed
/// out request has had its 503 `timeout` already); the rest is internal.
fn library_error(e: unspin::Error) -> ApiError {
    match e {
        unspin::Error::Unavailable(m) => ApiError::bad_request("quality_unavailable", m),
        unspin::Error::Cancelled(m) => ApiError::cancelled(m),
        e => ApiError::internal(e.to_string()),
    }
}

/// Why [`Engine::trace_cancellable`] failed.
#[derive(Debug)]
pub enum TraceError {
    /// The work was cancelled.
    Cancelled(String),
    /// The index could not be read.
    Index(String),
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceError::Cancelled(m) | TraceError::Index(m) => f.write_str(m),
        }
    }
}
