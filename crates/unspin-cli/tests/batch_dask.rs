//! The Dask batch job (`batch/unspin_batch.py`) on a two-worker local
//! cluster, checked against this build's `unspin` run directly
//! (`batch/test_unspin_batch.py`: identical restore and detect output over
//! many partitions, one-line errors, refusals).
//!
//! Needs the job's virtual environment (`bash scripts/install-batch-deps.sh`,
//! which `.ci/run` runs). Without it the test prints why and passes, except
//! under CI (`CI` set), where a missing environment is a failure.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{bin, workspace};

#[test]
fn dask_job_matches_one_process() {
    let root = workspace();
    let python = std::env::var_os("UNSPIN_BATCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/batch-venv/bin/python"));
    if !python.exists() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI must install the batch job's environment: bash scripts/install-batch-deps.sh (see .ci/run)"
            );
        }
        eprintln!(
            "batch job test SKIPPED: {} is missing (bash scripts/install-batch-deps.sh)",
            python.display()
        );
        return;
    }
    let out = Command::new(&python)
        .arg(root.join("batch/test_unspin_batch.py"))
        .env("UNSPIN_BIN", bin())
        .output()
        .expect("running the batch job's checks");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "batch job checks failed:\n{stderr}");
    assert!(stderr.contains("OK"), "unexpected output:\n{stderr}");
}
