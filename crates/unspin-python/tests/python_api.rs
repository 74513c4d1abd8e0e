//! Runs the Python tests (tests/test_unspin.py) against the module that
//! `bash scripts/build-python.sh` built and installed into target/python-venv
//! (`.ci/run` does that before `cargo test`).
//!
//! Without that environment the test is skipped with the reason printed,
//! except under CI (`CI` set), where a missing or stale module fails: CI must
//! really run the Python tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Newest modification time of the files under `dir` (recursively).
fn newest(dir: &Path) -> Option<SystemTime> {
    let mut best = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest(&path)
        } else {
            entry.metadata().ok().and_then(|m| m.modified().ok())
        };
        best = best.max(t);
    }
    best
}

/// Skips (prints why) locally; fails under CI.
fn skip(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{reason} (CI must run the Python tests: run `bash scripts/build-python.sh` first)");
    }
    eprintln!("skipping the Python tests: {reason}; run `bash scripts/build-python.sh`");
}

#[test]
fn python_module_passes_its_tests() {
    let root = workspace();
    let venv = std::env::var_os("UNSPIN_PYTHON_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/python-venv"));
    let python = venv.join("bin/python");
    if !python.exists() {
        return skip(&format!("no Python environment at {}", venv.display()));
    }
    let located = Command::new(&python)
        .args(["-c", "import unspin.unspin as m; print(m.__file__)"])
        .output()
        .expect("runs the environment's python");
    if !located.status.success() {
        return skip(&format!(
            "the unspin module is not installed in {}",
            venv.display()
        ));
    }
    let module = PathBuf::from(String::from_utf8_lossy(&located.stdout).trim());
    let built = std::fs::metadata(&module)
        .and_then(|m| m.modified())
        .expect("the installed module has a modification time");
    // The extension embeds the core library and the models; an older build
    // would test old code.
    for dir in [
        "crates/unspin/src",
        "crates/unspin-index/src",
        "crates/unspin-python/src",
        "models",
    ] {
        if newest(&root.join(dir)).is_some_and(|t| t > built) {
            return skip(&format!("{} is older than {dir}", module.display()));
        }
    }
    let out = Command::new(&python)
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(root.join("crates/unspin-python/tests"))
        .output()
        .expect("runs the Python tests");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "Python tests failed:\n{log}");
    assert!(log.contains("\nOK"), "unexpected unittest output:\n{log}");
    eprintln!("{log}");
}
