//! `unspin bench`, `unspin detect-bench` and `unspin trace-bench`: the
//! harnesses live in the `unspin-bench` crate; here are only the model
//! flags, the engine they build and the thread pool.

use clap::Args;
use unspin::Engine;

use crate::models::{load_calibration, ModelFlags};
use crate::quality::QualityFlags;

/// Arguments of `unspin bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub bench: unspin_bench::restore::BenchArgs,
    #[command(flatten)]
    pub model: ModelFlags,
    /// `--quality best` also restores every input with neural rescoring and
    /// reports both modes side by side (use a subset: about 1 to 3 s per 1,000 words).
    #[command(flatten)]
    pub quality: QualityFlags,
}

/// Runs `unspin bench`.
pub fn run(a: &BenchArgs) -> anyhow::Result<u8> {
    let calibration = || load_calibration(None);
    let engine = || a.quality.engine(&a.model, calibration);
    let plain_engine = || Ok(Engine::new(a.model.load()?, calibration()?));
    let phrases = || a.model.phrases_bytes();
    let models = unspin_bench::restore::Models {
        quality: a.quality.quality,
        source: a.model.describe(),
        engine: &engine,
        plain_engine: &plain_engine,
        phrases: &phrases,
    };
    unspin_bench::restore::run(&a.bench, &models)?;
    Ok(crate::EXIT_OK)
}

/// Arguments of the hidden `unspin detect-bench`.
#[derive(Args, Debug)]
pub struct DetectBenchArgs {
    #[command(flatten)]
    pub bench: unspin_bench::detect::DetectBenchArgs,
    #[command(flatten)]
    pub model: ModelFlags,
}

/// Runs `unspin detect-bench`.
pub fn run_detect(a: &DetectBenchArgs) -> anyhow::Result<u8> {
    jobs(a.bench.jobs)?;
    let engine = Engine::new(
        a.model.load()?,
        load_calibration(a.bench.calibration.as_deref())?,
    );
    unspin_bench::detect::run(&a.bench, &engine)?;
    Ok(crate::EXIT_OK)
}

/// Runs `unspin trace-bench`.
pub fn run_trace(a: &unspin_bench::trace::TraceBenchArgs) -> anyhow::Result<u8> {
    jobs(a.jobs)?;
    unspin_bench::trace::run(a, &crate::cmd_index::fingerprinter()?)?;
    Ok(crate::EXIT_OK)
}

/// `--jobs` of the bench commands (their flags live in `unspin-bench`).
fn jobs(jobs: Option<usize>) -> anyhow::Result<()> {
    anyhow::ensure!(jobs != Some(0), "--jobs must be at least 1");
    crate::args::set_jobs(jobs);
    Ok(())
}
