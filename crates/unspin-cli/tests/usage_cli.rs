//! Usage errors across the subcommands, as one table: an unknown flag, a
//! missing value, a value out of range or not of the flag's kind, an
//! unknown choice, a subcommand that does not exist and flags that cannot
//! go together. Each exits 2 (README: "`2` usage error"), prints nothing on
//! stdout and exactly one `unspin: error:` line on stderr that names what
//! was wrong (`common::assert_one_line_error`).

mod common;

use common::{assert_one_line_error, unspin, SPUN};

/// One usage error: the arguments, the exit code, and what the one-line
/// message must contain.
struct Row {
    args: &'static [&'static str],
    code: i32,
    needles: &'static [&'static str],
}

const fn row(args: &'static [&'static str], code: i32, needles: &'static [&'static str]) -> Row {
    Row {
        args,
        code,
        needles,
    }
}

const OUTSIDE_0_1: &str = "is outside 0..=1";

const ROWS: &[Row] = &[
    // An unknown flag.
    row(
        &["restore", "--no-such-flag"],
        2,
        &["unexpected argument '--no-such-flag'"],
    ),
    row(
        &["detect", "--no-such-flag"],
        2,
        &["unexpected argument '--no-such-flag'"],
    ),
    row(
        &["spin", "--no-such-flag"],
        2,
        &["unexpected argument '--no-such-flag'"],
    ),
    row(
        &["eval", "--no-such-flag"],
        2,
        &["unexpected argument '--no-such-flag'"],
    ),
    row(
        &["trace", "--no-such-flag"],
        2,
        &["unexpected argument '--no-such-flag'"],
    ),
    row(
        &["index", "stats", "--no-such-flag"],
        2,
        &["unexpected argument '--no-such-flag'"],
    ),
    row(&["serve", "--port"], 2, &["unexpected argument '--port'"]),
    row(
        &["model", "--format"],
        2,
        &["unexpected argument '--format'"],
    ),
    // A flag without its value.
    row(
        &["restore", "--min-confidence"],
        2,
        &["a value is required for '--min-confidence"],
    ),
    row(&["restore", "--lm"], 2, &["a value is required for '--lm"]),
    row(
        &["detect", "--threshold"],
        2,
        &["a value is required for '--threshold"],
    ),
    row(
        &["spin", "--profile"],
        2,
        &["a value is required for '--profile"],
    ),
    row(
        &["trace", "--index"],
        2,
        &["a value is required for '--index"],
    ),
    // A number out of range.
    row(
        &["restore", "--min-confidence", "2"],
        2,
        &["invalid value '2' for '--min-confidence", OUTSIDE_0_1],
    ),
    row(
        &["restore", "--min-confidence=-0.1"],
        2,
        &["invalid value '-0.1' for '--min-confidence", OUTSIDE_0_1],
    ),
    row(
        &["detect", "--threshold", "1.5"],
        2,
        &["invalid value '1.5' for '--threshold", OUTSIDE_0_1],
    ),
    row(
        &["detect", "--threshold=-1"],
        2,
        &["invalid value '-1' for '--threshold", OUTSIDE_0_1],
    ),
    // clap takes a separate "-1" for a flag; the message still names it.
    row(&["detect", "--threshold", "-1"], 2, &["'-1'"]),
    row(&["restore", "--jobs", "-3"], 2, &["'-3'"]),
    row(
        &["restore", "--jobs", "99999999999999999999"],
        2,
        &["invalid value '99999999999999999999' for '--jobs"],
    ),
    // Counts of at least 1, refused while parsing.
    row(
        &["detect", "--jobs", "0"],
        2,
        &["invalid value '0' for '--jobs <N>': must be at least 1"],
    ),
    row(
        &["restore", "--jobs", "0"],
        2,
        &["invalid value '0' for '--jobs <N>': must be at least 1"],
    ),
    row(
        &["index", "add", "--jobs", "0", "i.idx", "x.txt"],
        2,
        &["invalid value '0' for '--jobs <N>': must be at least 1"],
    ),
    row(
        &["serve", "--workers", "0"],
        2,
        &["invalid value '0' for '--workers <N>': must be at least 1"],
    ),
    row(
        &["spin", "--rate", "1.5"],
        2,
        &["invalid value '1.5' for '--rate", OUTSIDE_0_1],
    ),
    row(
        &["spin", "--rate=-0.5"],
        2,
        &["invalid value '-0.5' for '--rate", OUTSIDE_0_1],
    ),
    // Missing required arguments are named.
    row(
        &["eval", "-r", "x"],
        2,
        &[
            "required arguments were not provided",
            "--input <FILE>",
            "--output <FILE>",
            "unspin eval --help",
        ],
    ),
    row(
        &["trace", "--no-restore"],
        2,
        &["required arguments were not provided", "--index <INDEX>"],
    ),
    // The possible values are named.
    row(
        &["restore", "--quality", "fast"],
        2,
        &["[possible values: default, best]"],
    ),
    // Not a number, not a size.
    row(
        &["restore", "--min-confidence", "abc"],
        2,
        &["invalid value 'abc' for '--min-confidence"],
    ),
    row(
        &["restore", "--jobs", "abc"],
        2,
        &["invalid value 'abc' for '--jobs"],
    ),
    row(
        &["spin", "--seed", "abc"],
        2,
        &["invalid value 'abc' for '--seed"],
    ),
    row(
        &["serve", "--max-body", "lots"],
        2,
        &[
            "invalid value 'lots' for '--max-body",
            "'lots' is not a size",
        ],
    ),
    // An unknown choice.
    row(
        &["restore", "--quality", "fast"],
        2,
        &["invalid value 'fast' for '--quality"],
    ),
    row(
        &["detect", "--quality", "fast"],
        2,
        &["invalid value 'fast' for '--quality"],
    ),
    row(
        &["restore", "--format", "pdf"],
        2,
        &["invalid value 'pdf' for '--format"],
    ),
    row(
        &["detect", "--format", "pdf"],
        2,
        &["invalid value 'pdf' for '--format"],
    ),
    row(
        &["trace", "--index", "x.idx", "--format", "pdf"],
        2,
        &["invalid value 'pdf' for '--format"],
    ),
    row(
        &["eval", "--format", "csv", "-r", "a", "-i", "b", "-o", "c"],
        2,
        &["invalid value 'csv' for '--format"],
    ),
    row(
        &["restore", "--color", "sometimes"],
        2,
        &["invalid value 'sometimes' for '--color"],
    ),
    row(
        &["spin", "--profile", "nope"],
        2,
        &["invalid value 'nope' for '--profile"],
    ),
    // A subcommand that does not exist.
    row(
        &["no-such-command"],
        2,
        &["unrecognized subcommand 'no-such-command'"],
    ),
    row(
        &["index", "frobnicate"],
        2,
        &["unrecognized subcommand 'frobnicate'"],
    ),
    // Flags that cannot go together.
    row(
        &["spin", "--spintax", "--from-spintax"],
        2,
        &["'--spintax' cannot be used with '--from-spintax'"],
    ),
    row(
        &["restore", "--jsonl", "--out-dir", "d"],
        2,
        &["--jsonl writes JSON lines to standard output"],
    ),
];

#[test]
fn usage_errors_are_one_line_with_their_exit_code() {
    for Row {
        args,
        code,
        needles,
    } in ROWS
    {
        // Text on stdin, so that arguments accepted by mistake would
        // restore, detect or spin it instead of failing on empty input.
        let out = unspin().args(*args).write_stdin(SPUN).output().unwrap();
        eprintln!("unspin {}:", args.join(" "));
        assert_one_line_error(&out, *code, needles);
        assert!(
            out.stdout.is_empty(),
            "unspin {}: nothing on stdout on a usage error: {:?}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
