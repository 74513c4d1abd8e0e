//! unspin-bench: the benchmark and calibration harnesses of unspin.
//!
//! Everything here measures the library; nothing here is needed to use it.
//! The front ends stay thin: `unspin bench`, `unspin detect-bench` and
//! `unspin trace-bench` parse their model flags and build an
//! [`unspin::Engine`] in the CLI, then call into this crate, which reads
//! the corpora, runs the measurements and prints the reports.
//!
//! * [`dataset`]: labelled documents made from a corpus (pieces, spun
//!   copies, quality measures), for `unspin-build calibrate` and the detect
//!   benchmark;
//! * [`synth`]: synthetic documents recombined from corpus sentences, for
//!   the trace benchmark;
//! * [`restore`]: `unspin bench`, the restore-quality benchmark of
//!   `docs/BENCHMARKS.md`, with its parts [`clean`] (clean text of every
//!   register) and [`tortured`] (tortured phrases in scientific text);
//! * [`detect`]: `unspin detect-bench`;
//! * [`trace`] (feature `trace`): `unspin trace-bench`, over a persistent
//!   `unspin-index` index;
//! * [`loadgen`] (feature `loadgen`): the HTTP load generator behind the
//!   `unspin-loadgen` binary and `scripts/bench-serve.sh`;
//! * [`machine`]: facts about the machine and the process (CPU, memory,
//!   CPU time, dates) that the reports print.
//!
//! The crate depends on `unspin` without its embedded models, so that
//! `unspin-build` can use [`dataset`] while it builds them; the CLI, which
//! runs the benchmarks on the embedded models, turns them on.

pub mod clean;
pub mod dataset;
pub mod detect;
#[cfg(feature = "loadgen")]
pub mod loadgen;
pub mod machine;
pub mod restore;
pub mod synth;
pub mod tortured;
#[cfg(feature = "trace")]
pub mod trace;
