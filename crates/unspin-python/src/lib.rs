//! Python bindings of unspin: `import unspin` gives `restore`, `detect` and
//! `spin` over the embedded default model, and `Index` (add originals to a
//! trace index on disk, trace spun copies to them).
//!
//! The layer is thin on purpose: each function checks its arguments, runs
//! the core library with the GIL released and hands back the same JSON
//! objects as `unspin ... --format json` and the HTTP API, as Python dicts
//! and lists, plus character offsets (Python strings index code points, the
//! library's offsets are UTF-8 bytes).

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::OnceLock;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use unspin::detect::DetectOptions;
use unspin::fingerprint::{FingerprintConfig, Fingerprinter};
use unspin::restore::Options;
use unspin::spinner::{Profile, Spinner};
use unspin::trace::{trace_text, TraceOptions};
use unspin::wordnet::WordNet;
use unspin_index::sources::SourceDoc;
use unspin_index::{IndexError, NewDoc, NewLocation, WriterOptions};

/// The library's engine over the embedded model and calibration, loaded
/// on first use and shared by every call and thread for the process.
fn engine() -> Result<&'static unspin::Engine, String> {
    static ENGINE: OnceLock<Result<unspin::Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| unspin::Engine::embedded(false).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// The embedded WordNet of the spinner simulator.
fn wordnet() -> Result<&'static WordNet, String> {
    static WORDNET: OnceLock<Result<WordNet, String>> = OnceLock::new();
    WORDNET
        .get_or_init(|| unspin::models::embedded_wordnet().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

thread_local! {
    /// The last spinner this thread used, keyed by (profile, rate bits, seed):
    /// its frequency ranking is built on first use.
    static SPINNER: RefCell<Option<(SpinKey, Spinner<'static>)>> = const { RefCell::new(None) };
}

type SpinKey = (&'static str, Option<u64>, u64);

/// Why a call failed: a bad argument (`ValueError`) or a failure inside the
/// library (`RuntimeError`; a panic lands here rather than killing Python).
enum Failure {
    Input(String),
    /// The index file cannot be read or written (missing, busy, I/O): `OSError`.
    Os(String),
    Internal(String),
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        match f {
            Failure::Input(m) => PyValueError::new_err(m),
            Failure::Os(m) => PyOSError::new_err(m),
            Failure::Internal(m) => PyRuntimeError::new_err(m),
        }
    }
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Failure {
        let m = e.to_string();
        match e {
            IndexError::Db(_) | IndexError::Busy(_) | IndexError::Io(_) => Failure::Os(m),
            IndexError::Corrupt(_) | IndexError::Incompatible(_) | IndexError::NeedsRepair(_) => {
                Failure::Input(m)
            }
        }
    }
}

/// Runs the library work `f` without the GIL; a panic becomes a
/// `RuntimeError` and drops this thread's cached state, which it may have
/// left half-updated.
fn run_released<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, Failure> + Send,
) -> PyResult<T> {
    let out = py.allow_threads(|| {
        catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
            SPINNER.with(|c| c.replace(None));
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Failure::Internal(format!(
                "unspin failed internally (please report): {}",
                what.lines().next().unwrap_or("")
            )))
        })
    });
    Ok(out?)
}

/// Rejects text the library would misread (NUL bytes mark binary data).
fn check_text(text: &str) -> Result<(), Failure> {
    if text.is_empty() {
        return Ok(());
    }
    unspin::input::check_text(text.as_bytes(), "text")
        .map(|_| ())
        .map_err(|e| Failure::Input(e.to_string()))
}

fn check_unit(name: &str, v: Option<f64>) -> PyResult<()> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) => Err(PyValueError::new_err(format!(
            "{name} must be between 0 and 1, got {x}"
        ))),
        _ => Ok(()),
    }
}

/// Maps UTF-8 byte offsets of one text to code point offsets (Python's
/// string indices).
struct CharIndex {
    /// Byte offset of every character; empty for ASCII text, where the two agree.
    starts: Vec<u32>,
    len: usize,
}

impl CharIndex {
    fn new(text: &str) -> Self {
        let starts = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(b, _)| b as u32).collect()
        };
        Self {
            starts,
            len: text.len(),
        }
    }

    fn char_of(&self, byte: u64) -> u64 {
        if self.starts.is_empty() {
            return byte.min(self.len as u64);
        }
        self.starts.partition_point(|&b| (b as u64) < byte) as u64
    }

    /// Adds `char_<name>` next to each byte offset field `<name>` of `obj`
    /// (`start` gets `char_start`; `spun_start` gets `spun_char_start`).
    fn annotate(&self, obj: &mut Value, fields: &[(&str, &str)]) {
        if let Value::Object(map) = obj {
            for (byte_field, char_field) in fields {
                if let Some(b) = map.get(*byte_field).and_then(Value::as_u64) {
                    map.insert(char_field.to_string(), Value::from(self.char_of(b)));
                }
            }
        }
    }

    fn annotate_list(&self, v: &mut Value, key: &str, fields: &[(&str, &str)]) {
        if let Some(Value::Array(items)) = v.get_mut(key) {
            for item in items {
                self.annotate(item, fields);
            }
        }
    }
}

const START_END: &[(&str, &str)] = &[("start", "char_start"), ("end", "char_end")];

/// The library stores scores as `f32`; widened to `f64` they print as
/// 0.9700000286102295. Floats that are exactly an `f32` get the shortest
/// decimal that reads back as that `f32` (0.97).
fn tidy_float(x: f64) -> f64 {
    let narrow = x as f32;
    if narrow as f64 == x && narrow.is_finite() {
        narrow.to_string().parse().unwrap_or(x)
    } else {
        x
    }
}

/// Converts a JSON value to the matching Python object (dict, list, str,
/// int, float, bool or None), with the library's `f32` scores tidied.
fn to_py<'py>(py: Python<'py>, mut v: Value) -> PyResult<Bound<'py, PyAny>> {
    tidy_floats(&mut v);
    pythonize::pythonize(py, &v).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Applies [`tidy_float`] to every float in `v`.
fn tidy_floats(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = tidy_float(n.as_f64().unwrap_or(f64::NAN));
            if let Some(t) = serde_json::Number::from_f64(x) {
                *n = t;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_floats),
        Value::Object(map) => map.values_mut().for_each(tidy_floats),
        _ => {}
    }
}

/// Restores the original wording of spun `text`.
///
/// Returns a dict like `unspin restore --format json`:
/// `text` (the restored text; every character outside a change is kept),
/// `changes` (one dict per changed word: `start`/`end` UTF-8 byte offsets
/// and `char_start`/`char_end` string indices into the input, `spun`,
/// `original`, `confidence`, `relation`, `alternatives` as
/// `[{"text", "prob"}]`, and `applied`), `sections` (spun-looking stretches
/// with their probabilities) and `words`.
///
/// `min_confidence` (0 to 1): apply only changes at least this confident;
/// the others are listed with `applied: False`. `spinner`: a learned
/// spinner (a `Spinner`, or the path of a `.spinner` file from `unspin
/// learn`) whose table the restore follows.
///
/// The embedded model loads on the first call (about a second) and is
/// shared by later calls and threads; the GIL is released while it works.
/// Raises `TypeError` when `text` is not a `str`, `ValueError` for text with
/// NUL bytes or an out-of-range option.
#[pyfunction]
#[pyo3(signature = (text, min_confidence=None, spinner=None))]
fn restore<'py>(
    py: Python<'py>,
    text: &str,
    min_confidence: Option<f64>,
    spinner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    check_unit("min_confidence", min_confidence)?;
    let channel = spinner_arg(py, spinner)?;
    let value = run_released(py, || {
        check_text(text)?;
        let mut opts = Options {
            spinner: channel,
            ..Options::default()
        };
        if let Some(m) = min_confidence {
            opts.min_confidence = m as f32;
        }
        let engine = engine().map_err(Failure::Internal)?;
        let r = engine
            .restore(text, &opts)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        let mut v = unspin::render::restoration_json(&r, None, None);
        let index = CharIndex::new(text);
        index.annotate_list(&mut v, "changes", START_END);
        index.annotate_list(&mut v, "sections", START_END);
        Ok(v)
    })?;
    to_py(py, value)
}

/// Tells whether `text` was machine-spun, and where.
///
/// Returns a dict like `unspin detect --format json`: `prob` (calibrated
/// probability that the text was spun), `spun` (`prob >= threshold`),
/// `threshold`, `words`, `sections` (about 200 words each, with `prob`),
/// `evidence` (the strongest spun-looking words, strongest first: `start`,
/// `end`, `char_start`, `char_end`, `text`, `prob`, `original`, `relation`,
/// ...), `flagged` (every word with a spun probability of at least 0.05, in
/// text order; empty when `words=False`), `sums` and `word_threshold`.
///
/// `threshold` (0 to 1): call the text spun at this probability (default:
/// the calibrated threshold). `evidence`: how many evidence words to report.
/// `words=False` skips the per-word scores (faster; document and section
/// probabilities only). `restore=True` runs the full restorer on spun
/// sections for better likely originals (slower). `spinner` (a `Spinner`
/// or a `.spinner` path) makes the spun words and likely originals follow
/// a learned spinner (implies `restore`; the document probability is the
/// same).
///
/// Raises `TypeError` when `text` is not a `str`, `ValueError` for text with
/// NUL bytes or an out-of-range option.
#[pyfunction]
#[pyo3(signature = (text, threshold=None, evidence=10, words=true, restore=false, spinner=None))]
fn detect<'py>(
    py: Python<'py>,
    text: &str,
    threshold: Option<f64>,
    evidence: usize,
    words: bool,
    restore: bool,
    spinner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let channel = spinner_arg(py, spinner)?;
    check_unit("threshold", threshold)?;
    if evidence > 1000 {
        return Err(PyValueError::new_err("evidence must be at most 1000"));
    }
    let value = run_released(py, || {
        check_text(text)?;
        let engine = engine().map_err(Failure::Internal)?;
        let opts = DetectOptions {
            threshold: threshold.map(|t| t as f32),
            evidence: if words { evidence } else { 0 },
            word_floor: 0.05,
            words,
            restore: restore && words,
            spinner: channel.filter(|_| words),
            ..DetectOptions::default()
        };
        let word_threshold = engine.word_threshold(&opts);
        let det = engine
            .detect(text, &opts)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        let mut v = unspin::render::detection_json(&det, word_threshold, None, None);
        let index = CharIndex::new(text);
        for key in ["sections", "evidence", "flagged"] {
            index.annotate_list(&mut v, key, START_END);
        }
        Ok(v)
    })?;
    to_py(py, value)
}

/// Spins `text` with the simulator of the real news spinner
/// (`profile="news"`), a generic synonym spinner (`profile="synonym"`) or
/// an autoblog phrase thesaurus (`profile="phrase"`).
///
/// Returns `{"text": spun text, "changes": [...], "profile", "seed"}` where
/// each change (like a line of `unspin spin --alignment`) has `orig_start`,
/// `orig_end`, `spun_start`, `spun_end` (UTF-8 byte offsets into the
/// original and the spun text), the same four as string indices
/// (`orig_char_start`, ...), `original`, `spun`, `relation` and `profile`.
///
/// `rate` (0 to 1): for `synonym` the probability that an eligible word is
/// replaced (default 0.15); for `news` the share of dictionary word types
/// the spinner replaces (default 0.80); for `phrase` the probability that a
/// span its thesaurus knows is rewritten (default 0.9). `seed` fixes every random choice:
/// the same seed gives the same output.
///
/// Raises `TypeError` for a non-`str` text, `ValueError` for an unknown
/// profile, a rate outside 0..1 or text with NUL bytes.
#[pyfunction]
#[pyo3(signature = (text, profile="news", rate=None, seed=0))]
fn spin<'py>(
    py: Python<'py>,
    text: &str,
    profile: &str,
    rate: Option<f64>,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    // Checked here so the error is the same with or without the model.
    let profile_value =
        Profile::from_name(profile, rate).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let key: SpinKey = (profile_value.name(), rate.map(f64::to_bits), seed);
    let value = run_released(py, || {
        check_text(text)?;
        let wn = wordnet().map_err(Failure::Internal)?;
        let spun = SPINNER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if !matches!(slot.as_ref(), Some((k, _)) if *k == key) {
                *slot = Some((key, Spinner::new(wn, profile_value, seed)));
            }
            slot.as_ref().expect("set above").1.spin(text)
        });
        let mut v = serde_json::json!({
            "text": spun.text,
            "changes": spun.changes,
            "profile": key.0,
            "seed": seed,
        });
        let original = CharIndex::new(text);
        let spun_index = CharIndex::new(v["text"].as_str().unwrap_or(""));
        original.annotate_list(
            &mut v,
            "changes",
            &[
                ("orig_start", "orig_char_start"),
                ("orig_end", "orig_char_end"),
            ],
        );
        spun_index.annotate_list(
            &mut v,
            "changes",
            &[
                ("spun_start", "spun_char_start"),
                ("spun_end", "spun_char_end"),
            ],
        );
        Ok(v)
    })?;
    to_py(py, value)
}

/// A spinner learned from its own output (`unspin learn`): its table of
/// written words and likely originals.
///
/// `Spinner.load(path)` reads a `.spinner` file; `unspin.learn(texts)`
/// learns one. Pass it to `restore(..., spinner=...)` or `detect`.
#[pyclass(module = "unspin", name = "Spinner", frozen)]
struct PySpinner {
    profile: unspin::learn::SpinnerProfile,
    channel: std::sync::Arc<unspin::learn::LearnedChannel>,
}

impl PySpinner {
    fn new(profile: unspin::learn::SpinnerProfile) -> Result<Self, Failure> {
        let engine = engine().map_err(Failure::Internal)?;
        let channel = engine.spinner_channel(&profile);
        Ok(Self { profile, channel })
    }
}

#[pymethods]
impl PySpinner {
    /// Reads a `.spinner` file. Raises `OSError` when it cannot be read and
    /// `ValueError` when it is not a valid profile.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run_released(py, || load_spinner(&path))
    }

    /// Writes the profile to `path` (the format `unspin learn` writes).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let bytes = self.profile.to_bytes();
        run_released(py, || {
            std::fs::write(&path, bytes)
                .map_err(|e| Failure::Os(format!("{}: {e}", path.display())))
        })
    }

    /// The learned table, best first: `[{"written", "count", "originals": [[word, count], ...]}]`,
    /// leaving out pairs seen fewer than `min_count` times.
    #[pyo3(signature = (min_count=1.0))]
    fn table<'py>(&self, py: Python<'py>, min_count: f32) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(self.profile.table(min_count))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        to_py(py, v)
    }

    /// Words learned from.
    #[getter]
    fn words(&self) -> u64 {
        self.profile.words
    }

    /// Which classes of tokens the spinner touches: `{"capitalized",
    /// "attached", "function_words", "digits", "plain"}`, each
    /// `{"touched", "written", "original"}` (see `unspin learn --show`).
    #[getter]
    fn classes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(self.profile.classes)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        to_py(py, v)
    }

    fn __repr__(&self) -> String {
        format!(
            "unspin.Spinner(<{} words, {} replacements>)",
            self.profile.words,
            self.profile
                .best_pairs(unspin::learn::MIN_ASSERTED_COUNT)
                .len()
        )
    }
}

fn load_spinner(path: &std::path::Path) -> Result<PySpinner, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::Os(format!("{}: {e}", path.display())))?;
    let profile = unspin::learn::SpinnerProfile::from_bytes(&bytes)
        .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    PySpinner::new(profile)
}

/// The `spinner` argument: a `Spinner`, a path, or None.
fn spinner_arg(
    py: Python<'_>,
    spinner: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<std::sync::Arc<unspin::learn::LearnedChannel>>> {
    let Some(obj) = spinner else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    if let Ok(s) = obj.downcast::<PySpinner>() {
        return Ok(Some(s.get().channel.clone()));
    }
    let path: PathBuf = obj.extract().map_err(|_| {
        PyTypeError::new_err("spinner must be an unspin.Spinner or the path of a .spinner file")
    })?;
    Ok(Some(run_released(py, || load_spinner(&path))?.channel))
}

/// Learns the spinner behind `texts` (a list of its output pages, no
/// originals needed) and returns it as a `Spinner`. The pages should come
/// from one source; more pages learn a better table.
///
/// Raises `TypeError` when `texts` is not a list of `str`, `ValueError`
/// for text with NUL bytes or when the texts hold no words.
#[pyfunction]
fn learn(py: Python<'_>, texts: Vec<String>) -> PyResult<PySpinner> {
    run_released(py, || {
        for t in &texts {
            check_text(t)?;
        }
        let engine = engine().map_err(Failure::Internal)?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let profile = unspin::learn::learn(
            engine,
            &refs.as_slice(),
            &unspin::learn::LearnOptions::default(),
            &mut |_| {},
        )
        .map_err(|e| Failure::Internal(e.to_string()))?;
        if profile.words == 0 {
            return Err(Failure::Input(
                "the texts hold no words to learn from".into(),
            ));
        }
        PySpinner::new(profile)
    })
}

/// The fingerprinter of new indexes (the one `unspin index add` uses).
fn new_index_fingerprinter() -> Result<&'static Fingerprinter, String> {
    static FP: OnceLock<Result<Fingerprinter, String>> = OnceLock::new();
    FP.get_or_init(|| {
        Fingerprinter::embedded(FingerprintConfig::default()).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A trace index on disk (the file of `unspin index add` and `unspin trace`).
///
/// `Index(path)` names the file; nothing is opened until `add` (which
/// creates it) or `trace`. Only fingerprints and ids are stored, not texts.
/// One writer at a time (in any process); readers any time.
#[pyclass(module = "unspin", name = "Index", frozen)]
struct PyIndex {
    path: PathBuf,
}

#[pymethods]
impl PyIndex {
    #[new]
    fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// The index file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!("unspin.Index({:?})", self.path.display().to_string())
    }

    /// Adds original documents: `docs` is a dict `{id: text}` or an
    /// iterable of `(id, text)` pairs. A document whose id is already in
    /// the index replaces it (or is left as it is when its text is the
    /// same). Commits once at the end; returns
    /// `{"added", "replaced", "unchanged", "bytes", "documents"}` where
    /// `documents` is the index's total afterwards.
    ///
    /// Raises `TypeError` when `docs` is not made of `str` pairs,
    /// `ValueError` for text with NUL bytes and `OSError` when the file
    /// cannot be written (another process is writing it, no space, ...).
    fn add<'py>(&self, py: Python<'py>, docs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let pairs: Vec<(String, String)> = if let Ok(dict) = docs.downcast::<PyDict>() {
            dict.iter()
                .map(|(k, v)| Ok((k.extract()?, v.extract()?)))
                .collect::<PyResult<_>>()
        } else {
            docs.try_iter()?
                .map(|item| item?.extract::<(String, String)>())
                .collect::<PyResult<_>>()
        }
        .map_err(|e| {
            PyTypeError::new_err(format!(
                "docs must be a dict {{id: text}} or (id, text) pairs of str: {e}"
            ))
        })?;
        let path = self.path.clone();
        let value = run_released(py, move || {
            for (id, text) in &pairs {
                if !text.is_empty() {
                    unspin::input::check_text(text.as_bytes(), &format!("document {id:?}"))
                        .map_err(|e| Failure::Input(e.to_string()))?;
                }
            }
            let fp = new_index_fingerprinter().map_err(Failure::Internal)?;
            let mut writer = unspin_index::Index::open_writer(&path, fp, WriterOptions::default())?;
            let sources = pairs.into_iter().map(|(id, text)| {
                Ok::<_, String>(SourceDoc {
                    doc: NewDoc {
                        id,
                        source: NewLocation::None,
                        meta: String::new(),
                        text_hash: unspin_index::codec::text_hash(&text),
                        text_len: text.len() as u64,
                    },
                    text,
                })
            });
            let sum = unspin_index::bulk::add_all(&mut writer, fp, sources, |_| {}, |_| {})?;
            writer.commit()?;
            let meta = writer.finish()?;
            Ok(serde_json::json!({
                "added": sum.added,
                "replaced": sum.replaced,
                "unchanged": sum.unchanged,
                "bytes": sum.bytes,
                "documents": meta.docs,
            }))
        })?;
        to_py(py, value)
    }

    /// Ranks the indexed originals that `text` was copied (and maybe spun)
    /// from, like `unspin trace --format json` and `POST /v1/trace`.
    ///
    /// Returns `{"passages", "features", "common_features", "candidates",
    /// "sources": [...]}`; each source has `rank`, `doc`, `id`, `score`
    /// (evidence in nats), `similarity`, `coverage` and `passages` (which
    /// query passage came from which source passage; query passages have
    /// `start`/`end` byte offsets and `char_start`/`char_end` string indices).
    ///
    /// `k`: most sources reported (1 to 100). `min_score`: least evidence for
    /// a source to be reported (default: the command line's). `restore`:
    /// restore the text first for extra fingerprints (slower, finds more).
    /// `passage_text`: include the query passages' text.
    ///
    /// Raises `OSError` when the index is missing or unreadable,
    /// `ValueError` for a bad option or a file that is not an index.
    #[pyo3(signature = (text, k=5, min_score=None, restore=true, passage_text=true))]
    fn trace<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        k: usize,
        min_score: Option<f32>,
        restore: bool,
        passage_text: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        if !(1..=100).contains(&k) {
            return Err(PyValueError::new_err("k must be between 1 and 100"));
        }
        if min_score.is_some_and(|x| !x.is_finite()) {
            return Err(PyValueError::new_err("min_score must be a finite number"));
        }
        let path = self.path.clone();
        let value = run_released(py, move || {
            check_text(text)?;
            let snap = unspin_index::Index::open_reader(&path)?.snapshot()?;
            let fp = snap.fingerprinter()?;
            let opts = TraceOptions {
                min_score: min_score.unwrap_or(unspin::trace::DEFAULT_MIN_SCORE),
                max_results: k,
                ..TraceOptions::default()
            };
            let (query, result) = if restore {
                engine()
                    .map_err(Failure::Internal)?
                    .trace(&fp, text, &snap, &opts, true)
            } else {
                trace_text(&fp, None, text, &snap, &opts)
            }
            .map_err(|e| Failure::Internal(e.to_string()))?;
            let report =
                unspin_index::report::report(&snap, &fp, text, &query, &result, passage_text)?;
            let mut v =
                serde_json::to_value(&report).map_err(|e| Failure::Internal(e.to_string()))?;
            let index = CharIndex::new(text);
            if let Some(Value::Array(sources)) = v.get_mut("sources") {
                for source in sources {
                    if let Some(Value::Array(passages)) = source.get_mut("passages") {
                        for p in passages {
                            if let Some(q) = p.get_mut("query") {
                                index.annotate(q, START_END);
                            }
                        }
                    }
                }
            }
            Ok(v)
        })?;
        to_py(py, value)
    }
}

/// unspin: detect machine-spun English text and restore its original wording.
///
/// `restore(text)`, `detect(text)` and `spin(text)` return plain dicts with
/// the field names of the command line's and the HTTP API's JSON output;
/// `learn(texts)` returns a `Spinner` learned from a source's pages.
#[pymodule]
#[pyo3(name = "unspin")]
fn unspin_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(restore, m)?)?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    m.add_function(wrap_pyfunction!(spin, m)?)?;
    m.add_function(wrap_pyfunction!(learn, m)?)?;
    m.add_class::<PyIndex>()?;
    m.add_class::<PySpinner>()?;
    Ok(())
}
