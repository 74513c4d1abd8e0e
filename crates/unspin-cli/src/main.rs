//! `unspin`: find machine-spun text and restore the original wording.
//!
//! A thin front end over the `unspin` library: argument parsing, file and
//! stream handling, progress and exit codes live here; everything else lives
//! in the library.

mod args;
mod cmd_bench;
mod cmd_detect;
mod cmd_eval;
mod cmd_index;
mod cmd_learn;
mod cmd_restore;
mod cmd_serve;
mod cmd_spin;
mod cmd_trace;
mod jsonl;
mod models;
mod out_dir;
mod quality;
mod spool;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for runtime failures (bad input, unreadable file, corrupt model).
pub const EXIT_ERROR: u8 = 1;
/// Exit code for usage errors (unknown flags, bad values), as clap reports them.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "unspin",
    version,
    about = "Find machine-spun English text and restore the original wording",
    long_about = "Find machine-spun English text and restore the original wording.\n\n\
Works offline with the embedded default model (WordNet 3.0 channel, CMU Sphinx en-us trigram LM).",
    after_help = "Exit codes: 0 success; 1 error (bad input, unreadable file, corrupt model); 2 usage error.\n\
`unspin detect` and `unspin trace` exit like grep: 0 found, 1 none found, 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Restore the likely original wording of spun text.
    Restore(cmd_restore::RestoreArgs),
    /// Learn a spinner's table from its output alone (no originals needed).
    Learn(cmd_learn::LearnArgs),
    /// Tell whether texts are machine-spun, and where (exit 0 spun found, 1 none, 2 error).
    Detect(cmd_detect::DetectArgs),
    /// Measure the detector on the held-out corpus (ROC AUC, false positives, calibration, speed).
    #[command(hide = true)]
    DetectBench(cmd_bench::DetectBenchArgs),
    /// Rewrite clean text the way spinners do (for evaluation data and detector tests).
    Spin(cmd_spin::SpinArgs),
    /// Score a system's output against the original text.
    Eval(cmd_eval::EvalArgs),
    /// Show the models in use: versions, sizes, counts.
    Model(models::ModelArgs),
    /// Benchmark restore on the held-out corpus: spin, restore, score, time.
    Bench(cmd_bench::BenchArgs),
    /// Serve the JSON API, a LanguageTool-compatible endpoint and a web page over HTTP.
    Serve(cmd_serve::ServeArgs),
    /// Build and inspect a trace index of original documents.
    Index(cmd_index::IndexArgs),
    /// Find the sources of spun copies in a trace index (exit 0 found, 1 none, 2 error).
    Trace(cmd_trace::TraceArgs),
    /// Measure tracing on a synthetic index of up to millions of documents.
    #[command(hide = true)]
    TraceBench(unspin_bench::trace::TraceBenchArgs),
}

fn main() -> ExitCode {
    unspin_neural::prefer_own_parallelism();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::from(EXIT_OK);
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("unspin: error: {}", usage_line(&e));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Restore(a) => cmd_restore::run(&a),
        Command::Detect(a) => cmd_detect::run(&a),
        Command::Learn(a) => cmd_learn::run(&a),
        Command::DetectBench(a) => cmd_bench::run_detect(&a),
        Command::Spin(a) => unspin::models::embedded_wordnet()
            .map_err(anyhow::Error::from)
            .and_then(|wn| cmd_spin::run(&a, &wn))
            .map(|()| EXIT_OK),
        Command::Eval(a) => cmd_eval::run(&a).map(|()| EXIT_OK),
        Command::Model(a) => models::run(&a),
        Command::Bench(a) => cmd_bench::run(&a),
        Command::Serve(a) => cmd_serve::run(&a),
        Command::Index(a) => cmd_index::run(&a),
        Command::Trace(a) => cmd_trace::run(&a),
        Command::TraceBench(a) => cmd_bench::run_trace(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_OK);
            }
            eprintln!("unspin: error: {}", one_line(&e));
            if e.downcast_ref::<Usage>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_ERROR)
            }
        }
    }
}

/// A usage error found after the flags were parsed (flags that do not go
/// together): exit 2, like clap's own.
#[derive(Debug)]
pub(crate) struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// clap's message on one line: its first paragraph (what is wrong, the
/// missing flags, the possible values, a tip), without the usage block,
/// pointing at the subcommand's help.
fn usage_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information")
        {
            break;
        }
        parts.push(line);
    }
    let mut msg = parts.join(" ");
    if let Some(rest) = msg.strip_prefix("error: ") {
        msg = rest.to_string();
    }
    if msg.is_empty() {
        msg = "invalid arguments".into();
    }
    let sub = std::env::args().nth(1).filter(|a| {
        <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .any(|c| c.get_name() == a.as_str())
    });
    match sub {
        Some(s) => format!("{msg} (see 'unspin {s} --help')"),
        None => format!("{msg} (see 'unspin --help')"),
    }
}

/// Whether `e` comes from writing to a closed pipe (`unspin ... | head`):
/// the reader has all it wants, so the command ends quietly with exit 0, as
/// ripgrep does. Every command's errors pass through here, so no command
/// needs its own check.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = if let Some(io) = c.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else {
            // serde_json keeps the io::Error inside and does not expose it
            // as a source.
            c.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Joins an error chain into one line.
fn one_line(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e
        .chain()
        .map(|c| c.to_string().replace('\n', " "))
        .collect();
    parts.join(": ")
}
