//! End-to-end tests of `unspin restore` (issue 2, items 7, 8 and 9): formats,
//! streams, many files, JSONL corpora, exit codes, and a clear one-line error
//! (never a panic, never lost text) for every kind of bad input.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_one_line_error, models_dir, stderr_of, stdout_of, unspin, unspin_std, write, RESTORED,
    SPUN,
};
use predicates::prelude::*;
use serde_json::Value;

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout_of(out)))
}

/// Checks the JSON form of one restoration against the text it was made from.
#[track_caller]
fn check_restoration_json(v: &Value, input: &str) {
    let text = v["text"].as_str().expect("a \"text\" string");
    let changes = v["changes"].as_array().expect("a \"changes\" array");
    let mut rebuilt = String::new();
    let mut at = 0;
    for c in changes {
        let start = c["start"].as_u64().expect("start offset") as usize;
        let end = c["end"].as_u64().expect("end offset") as usize;
        assert!(
            start >= at && start < end && end <= input.len(),
            "spans sorted, disjoint, in bounds: {c}"
        );
        assert!(
            input.is_char_boundary(start) && input.is_char_boundary(end),
            "{c}"
        );
        let spun = c["spun"].as_str().unwrap();
        assert_eq!(
            &input[start..end],
            spun,
            "offsets slice the input to the spun text"
        );
        let original = c["original"].as_str().unwrap();
        let conf = c["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&conf), "confidence {conf}");
        let alts = c["alternatives"].as_array().expect("alternatives");
        assert!(!alts.is_empty());
        assert_eq!(
            alts[0]["text"].as_str(),
            Some(original),
            "the chosen original comes first: {c}"
        );
        let probs: Vec<f64> = alts.iter().map(|a| a["prob"].as_f64().unwrap()).collect();
        for p in &probs {
            assert!(
                (0.0..=1.0).contains(p),
                "probability {p} out of [0, 1]: {c}"
            );
        }
        assert!(
            probs[1..].windows(2).all(|w| w[0] >= w[1]),
            "alternatives ranked by probability: {c}"
        );
        assert!(
            probs.iter().sum::<f64>() <= 1.0 + 1e-4,
            "probabilities sum to at most 1: {c}"
        );
        if c["applied"].as_bool().unwrap() {
            rebuilt.push_str(&input[at..start]);
            rebuilt.push_str(original);
            at = end;
        }
    }
    rebuilt.push_str(&input[at..]);
    assert_eq!(
        text, rebuilt,
        "the text is the input with the applied changes"
    );
}

#[test]
fn readme_example_restores() {
    unspin()
        .arg("restore")
        .write_stdin(format!("{SPUN}\n"))
        .assert()
        .success()
        .stdout(format!("{RESTORED}\n"))
        .stderr("");
}

#[test]
fn file_argument_and_dash_for_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "spun.txt", format!("{SPUN}\n"));
    unspin()
        .arg("restore")
        .arg(&f)
        .assert()
        .success()
        .stdout(format!("{RESTORED}\n"));
    unspin()
        .args(["restore", "-"])
        .write_stdin(SPUN)
        .assert()
        .success()
        .stdout(RESTORED);
    let out = unspin()
        .args(["restore", "-", "-"])
        .write_stdin(SPUN)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["only once"]);
}

#[test]
fn layout_and_markup_are_kept() {
    // Item 7: spacing, punctuation and markup stay as they were; only bare words change.
    let input =
        "  helium said:\t<b>arsenic</b> planned…\r\n\n“helium” `helium` <!-- helium --> helium,\n";
    let out = unspin().arg("restore").write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "  he said:\t<b>as</b> planned…\r\n\n“helium” `helium` <!-- helium --> helium,\n"
    );
}

#[test]
fn large_markup_regions_pass_through_untouched() {
    // Script bodies and code blocks longer than one chunk stay whole: their
    // words are never restored, and the text after them still is.
    let script = "var helium = caller;\n".repeat(20_000);
    let html = format!("<p>helium said</p>\n<script>\n{script}</script>\n<p>arsenic planned</p>\n");
    let html_want = format!("<p>he said</p>\n<script>\n{script}</script>\n<p>as planned</p>\n");
    let code = "helium said\n".repeat(30_000);
    let md = format!("helium said\n```\n{code}```\narsenic planned\n");
    let md_want = format!("he said\n```\n{code}```\nas planned\n");
    let comment = format!("helium said <!--\n{code}-->\narsenic planned\n");
    let comment_want = format!("he said <!--\n{code}-->\nas planned\n");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("page.html", &html, &html_want),
        ("doc.md", &md, &md_want),
        ("c.txt", &comment, &comment_want),
    ];
    let mut files = Vec::new();
    for (name, input, want) in cases {
        // Streamed from standard input.
        let out = unspin()
            .arg("restore")
            .write_stdin(input.as_str())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        assert!(
            stdout_of(&out) == *want,
            "{name}: markup changed when streamed"
        );
        files.push((write(dir.path(), name, input), want));
    }
    // Read whole, as several files are.
    let outdir = dir.path().join("out");
    let mut cmd = unspin();
    cmd.arg("restore").arg("--out-dir").arg(&outdir);
    for (f, _) in &files {
        cmd.arg(f);
    }
    cmd.assert().success();
    for (f, want) in &files {
        let got = std::fs::read_to_string(outdir.join(f.file_name().unwrap())).unwrap();
        assert!(got == **want, "{}: markup changed", f.display());
    }
}

/// The real news spinner never changes capitalized words, and a class of
/// tokens is not rewritten without evidence that the text's spinner touches
/// it: a capitalized sentence start stays as it is by default, while the
/// rest of the sentence is restored (the library's
/// `Options::capitalized_replace_prob` opens capitals; restored words take
/// the input's case, see `match_case`).
#[test]
fn sentence_initial_capital_is_left_alone_by_default() {
    unspin()
        .arg("restore")
        .write_stdin(
            "Successful the morning, helium said the caller rules would beryllium published.\n",
        )
        .assert()
        .success()
        .stdout("Successful the morning, he said the new rules would be published.\n");
}

#[test]
fn json_lists_changes_with_offsets_and_ranked_alternatives() {
    let input =
        format!("“Yes,” {SPUN}\nThe committee volition proper again successful springtime.\n");
    let out = unspin()
        .args(["restore", "--format", "json"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v = json_of(&out);
    check_restoration_json(&v, &input);
    let changes = v["changes"].as_array().unwrap();
    assert!(changes.len() >= 5, "{v}");
    assert!(v["text"].as_str().unwrap().contains(RESTORED));
    assert!(v["words"].as_u64().unwrap() >= 20);
    let sections = v["sections"].as_array().unwrap();
    assert!(!sections.is_empty());
    for s in sections {
        let p = s["spun_prob"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
}

#[test]
fn diff_marks_changes_and_keeps_the_rest() {
    // The README's diff example (stdout is no terminal here, so no color).
    unspin()
        .args(["restore", "--format", "diff"])
        .write_stdin("helium said the caller rules would beryllium published connected Monday.\n")
        .assert()
        .success()
        .stdout(
            "[-helium-]{+he+} said the [-caller-]{+new+} rules would [-beryllium-]{+be+} \
             published [-connected-]{+on+} Monday.\n",
        );
    let out = unspin()
        .args(["restore", "--format", "diff", "--color", "never"])
        .write_stdin("helium said, arsenic planned.\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "[-helium-]{+he+} said, [-arsenic-]{+as+} planned.\n"
    );
    let out = unspin()
        .args(["restore", "--format", "diff", "--color", "always"])
        .write_stdin("helium said\n")
        .output()
        .unwrap();
    let s = stdout_of(&out);
    assert!(
        s.contains("\x1b[") && s.contains("helium") && s.ends_with(" said\n"),
        "{s:?}"
    );
}

#[test]
fn html_is_self_contained_and_escaped() {
    let input = "if a <b and c> d, helium said <script>alert(1)</script> & arsenic planned.\n";
    let out = unspin()
        .args(["restore", "--format", "html"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let html = stdout_of(&out);
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.trim_end().ends_with("</html>"));
    let lower = html.to_ascii_lowercase();
    for external in [
        "http://", "https://", "src=", "href=", "@import", "url(", "<link", "<script",
    ] {
        assert!(
            !lower.contains(external),
            "HTML must not load {external:?}: {html}"
        );
    }
    assert!(html.contains("&lt;b and c&gt;"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("&amp;"));
    assert!(
        html.contains("<ins>he</ins>") && html.contains("<del>helium</del>"),
        "{html}"
    );
}

#[test]
fn full_confidence_threshold_changes_nothing() {
    unspin()
        .args(["restore", "--min-confidence", "1.0"])
        .write_stdin(SPUN)
        .assert()
        .success()
        .stdout(SPUN);
    // The candidates are still reported, marked as not applied.
    let out = unspin()
        .args(["restore", "--min-confidence", "1", "--format", "json"])
        .write_stdin(SPUN)
        .output()
        .unwrap();
    let v = json_of(&out);
    check_restoration_json(&v, SPUN);
    let changes = v["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    assert!(changes.iter().all(|c| c["applied"] == Value::Bool(false)));
    assert_eq!(v["text"], SPUN);
}

#[test]
fn several_files_need_out_dir_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", "helium said so.\n");
    let b = write(dir.path(), "b.txt", "arsenic planned.\n");
    let out = unspin().arg("restore").arg(&a).arg(&b).output().unwrap();
    assert_one_line_error(&out, 1, &["--out-dir"]);
    assert!(out.stdout.is_empty());

    let out = unspin()
        .args(["restore", "--format", "json", "--jobs", "2"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let lines: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["path"], a.display().to_string());
    assert_eq!(lines[0]["text"], "he said so.\n");
    check_restoration_json(&lines[0], "helium said so.\n");
    assert_eq!(lines[1]["path"], b.display().to_string());
    assert_eq!(lines[1]["text"], "as planned.\n");
    check_restoration_json(&lines[1], "arsenic planned.\n");
}

#[test]
fn out_dir_gets_one_file_per_input() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", "helium said so.\n");
    let b = write(dir.path(), "b.md", "arsenic *planned*.\n");
    let outdir = dir.path().join("restored/nested");
    unspin()
        .args(["restore", "--no-progress", "--out-dir"])
        .arg(&outdir)
        .arg(&a)
        .arg(&b)
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(outdir.join("a.txt")).unwrap(),
        "he said so.\n"
    );
    assert_eq!(
        std::fs::read_to_string(outdir.join("b.md")).unwrap(),
        "as *planned*.\n"
    );

    // One file with --out-dir, in another format.
    unspin()
        .args(["restore", "--format", "json", "--out-dir"])
        .arg(&outdir)
        .arg(&a)
        .assert()
        .success();
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(outdir.join("a.txt.json")).unwrap()).unwrap();
    assert_eq!(v["text"], "he said so.\n");
}

#[test]
fn out_dir_refuses_two_inputs_with_the_same_name() {
    // Writing both to restored/x.txt would silently lose the first one.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d1")).unwrap();
    std::fs::create_dir(dir.path().join("d2")).unwrap();
    let a = write(dir.path(), "d1/x.txt", "helium said so.\n");
    let b = write(dir.path(), "d2/x.txt", "arsenic planned.\n");
    let outdir = dir.path().join("restored");
    let out = unspin()
        .arg("restore")
        .arg("--out-dir")
        .arg(&outdir)
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["x.txt"]);
    assert!(
        !outdir.join("x.txt").exists(),
        "nothing is written before the check"
    );
}

#[test]
fn jsonl_corpus_keeps_order_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut corpus = String::new();
    let mut expected = Vec::new();
    for i in 0..300 {
        // More lines than one parallel batch, so order across batches is checked too.
        let (spun, orig) = match i % 3 {
            0 => ("helium said so.", "he said so."),
            1 => ("arsenic planned.", "as planned."),
            _ => ("nothing to see here", "nothing to see here"),
        };
        let id = if i % 2 == 0 {
            Value::from(i)
        } else {
            Value::from(format!("doc-{i}"))
        };
        corpus.push_str(&serde_json::json!({"id": id, "text": spun, "extra": true}).to_string());
        corpus.push('\n');
        if i == 10 {
            corpus.push_str("\n   \n"); // blank lines are skipped
        }
        expected.push((id, orig));
    }
    let f = write(dir.path(), "c.jsonl", &corpus);
    let out = unspin()
        .args(["restore", "--jsonl", "--jobs", "2"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let got: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), expected.len());
    for (g, (id, orig)) in got.iter().zip(&expected) {
        assert_eq!(&g["id"], id);
        assert_eq!(g["text"], *orig);
    }

    // JSON format: every line is a full restoration with its id.
    let out = unspin()
        .args(["restore", "--jsonl", "--format", "json", "-"])
        .write_stdin("{\"id\":\"x\",\"text\":\"helium said so.\"}\n{\"id\":\"y\",\"text\":\"\"}\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let got: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["id"], "x");
    check_restoration_json(&got[0], "helium said so.");
    assert_eq!(got[1]["id"], "y");
    assert_eq!(got[1]["text"], "");
}

#[test]
fn jsonl_malformed_line_is_named() {
    let out = unspin()
        .args(["restore", "--jsonl"])
        .write_stdin("{\"id\":1,\"text\":\"helium said so.\"}\n{\"id\":2,\"text\":\n")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["<stdin>:2"]);
    let out = unspin()
        .args(["restore", "--jsonl"])
        .write_stdin("{\"id\":1,\"text\":\"a\"}\n\n{\"id\":2,\"body\":\"b\"}\n")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["<stdin>:3", "text"]);
    let out = unspin()
        .args(["restore", "--jsonl"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["empty"]);
    let out = unspin()
        .args(["restore", "--jsonl"])
        .write_stdin(&b"{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":\"\xff\"}\n"[..])
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["<stdin>:2", "UTF-8"]);
}

#[test]
fn exit_codes_are_documented() {
    for args in [&["--help"][..], &["restore", "--help"][..]] {
        let out = unspin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = stdout_of(&out);
        assert!(help.contains("Exit codes: 0 success; 1 error"), "{help}");
        assert!(help.contains("2 usage error"), "{help}");
    }
    let out = unspin().args(["restore", "--help"]).output().unwrap();
    assert!(stdout_of(&out).contains("Examples:"));
    unspin()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("unspin "));
}

// ---------------------------------------------------------------- bad input

#[test]
fn empty_input_is_an_error() {
    let out = unspin().arg("restore").write_stdin("").output().unwrap();
    assert_one_line_error(&out, 1, &["<stdin>", "empty"]);
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "empty.txt", "");
    let out = unspin().arg("restore").arg(&f).output().unwrap();
    assert_one_line_error(&out, 1, &["empty.txt", "empty"]);
    // Several files: the empty one is named.
    let g = write(dir.path(), "ok.txt", "helium said");
    let out = unspin()
        .args(["restore", "--format", "json"])
        .arg(&g)
        .arg(&f)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["empty.txt", "empty"]);
}

#[test]
fn binary_data_is_an_error() {
    let out = unspin()
        .arg("restore")
        .write_stdin(&b"helium said\0\x01\x02 so"[..])
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["binary", "offset 11"]);
    // Past the first chunk too: the offset counts from the start of the stream.
    let mut big = "helium said so. ".repeat(40_000).into_bytes();
    let at = big.len() - 100;
    big[at] = 0;
    let out = unspin().arg("restore").write_stdin(big).output().unwrap();
    assert_one_line_error(&out, 1, &["binary", &format!("offset {at}")]);
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let out = unspin()
        .arg("restore")
        .write_stdin(&b"helium said \xff so"[..])
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["UTF-8", "offset 12"]);
    // A Latin-1 file, past the first chunk.
    let mut big = "helium said so. ".repeat(40_000).into_bytes();
    let at = big.len() - 7;
    big[at] = 0xe9;
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "latin1.txt", &big);
    let out = unspin().arg("restore").arg(&f).output().unwrap();
    assert_one_line_error(&out, 1, &["latin1.txt", "UTF-8", &format!("offset {at}")]);
    // A truncated character at the very end.
    let out = unspin()
        .arg("restore")
        .write_stdin(&b"helium said \xc3"[..])
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["UTF-8", "offset 12"]);
    // Several files.
    let g = write(dir.path(), "ok.txt", "helium said");
    let out = unspin()
        .args(["restore", "--format", "json"])
        .arg(&g)
        .arg(&f)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["latin1.txt", "UTF-8", &format!("offset {at}")]);
}

#[test]
fn multibyte_text_across_chunk_cuts_is_kept() {
    // No ASCII whitespace at all: the reader must cut between characters.
    let input = "é".repeat(300_000) + " helium said";
    let out = unspin()
        .arg("restore")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "é".repeat(300_000) + " he said");
}

#[test]
fn missing_file_and_directory_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.txt");
    let out = unspin().arg("restore").arg(&missing).output().unwrap();
    assert_one_line_error(&out, 1, &["no-such-file.txt"]);
    let out = unspin().arg("restore").arg(dir.path()).output().unwrap();
    assert_one_line_error(&out, 1, &["directory"]);
    let ok = write(dir.path(), "ok.txt", "helium said");
    let out = unspin()
        .args(["restore", "--format", "json"])
        .arg(&ok)
        .arg(&missing)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["no-such-file.txt"]);
    let out = unspin()
        .args(["restore", "--jsonl"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["no-such-file.txt"]);
}

#[test]
fn missing_model_file_is_an_error() {
    let out = unspin()
        .args(["restore", "--lm", "/nonexistent/lm.unspin"])
        .write_stdin("helium said")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["/nonexistent/lm.unspin"]);
    let out = unspin()
        .args(["restore", "--lexicon", "/nonexistent/lexicon.unspin"])
        .write_stdin("helium said")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["/nonexistent/lexicon.unspin"]);
    // Through the environment as well.
    let out = unspin()
        .arg("restore")
        .env("UNSPIN_LM", "/nonexistent/env-lm.unspin")
        .write_stdin("helium said")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["/nonexistent/env-lm.unspin"]);
}

/// Deterministic pseudo-random bytes (no RNG dependency needed).
fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u8
        })
        .collect()
}

#[test]
fn corrupt_model_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |flag: &str, path: &Path| {
        unspin()
            .arg("restore")
            .arg(flag)
            .arg(path)
            .write_stdin("helium said")
            .output()
            .unwrap()
    };

    // Random bytes, as a language model and as a lexicon.
    let random = write(dir.path(), "random.bin", noise(4096, 1));
    assert_one_line_error(&run("--lm", &random), 1, &["random.bin"]);
    assert_one_line_error(&run("--lexicon", &random), 1, &["random.bin"]);
    // Random bytes behind a valid magic.
    let mut fake = b"UNSPIN\0\0LMTG".to_vec();
    fake.extend(noise(4096, 2));
    let fake = write(dir.path(), "fake.unspin", fake);
    assert_one_line_error(&run("--lm", &fake), 1, &["fake.unspin"]);

    // A truncated copy of the default language model.
    let lm = std::fs::read(models_dir().join("lm.unspin")).expect("models/lm.unspin");
    for len in [0, 10, 39, 40, lm.len() / 2, lm.len() - 1] {
        let p = write(dir.path(), &format!("lm-trunc-{len}.unspin"), &lm[..len]);
        assert_one_line_error(&run("--lm", &p), 1, &[&format!("lm-trunc-{len}.unspin")]);
    }
    // A flipped byte in the payload of the default lexicon: the checksum catches it.
    let mut lex =
        std::fs::read(models_dir().join("lexicon.unspin")).expect("models/lexicon.unspin");
    let k = lex.len() / 2;
    lex[k] ^= 0x20;
    let p = write(dir.path(), "lexicon-flipped.unspin", &lex);
    assert_one_line_error(
        &run("--lexicon", &p),
        1,
        &["lexicon-flipped.unspin", "checksum"],
    );
    // And in the language model.
    let mut lm2 = lm.clone();
    let k = lm2.len() - 1000;
    lm2[k] ^= 0x01;
    let p = write(dir.path(), "lm-flipped.unspin", &lm2);
    assert_one_line_error(&run("--lm", &p), 1, &["lm-flipped.unspin", "checksum"]);
    // A lexicon passed as the language model and the other way round.
    assert_one_line_error(
        &run("--lm", &models_dir().join("lexicon.unspin")),
        1,
        &["lexicon.unspin"],
    );
    assert_one_line_error(
        &run("--lexicon", &models_dir().join("lm.unspin")),
        1,
        &["lm.unspin"],
    );
}

#[test]
fn malformed_arpa_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, body: &str| {
        let p = write(dir.path(), name, body);
        unspin()
            .arg("restore")
            .arg("--lm")
            .arg(&p)
            .write_stdin("helium said")
            .output()
            .unwrap()
    };
    let header = "\\data\\\nngram 1=3\n\n\\1-grams:\n";
    assert_one_line_error(
        &run(
            "bad-number.arpa",
            &format!("{header}-1.0 <s>\nfoo bar\n-1.0 </s>\n\n\\end\\\n"),
        ),
        1,
        &["bad-number.arpa"],
    );
    assert_one_line_error(
        &run("no-header.arpa", "this is not a language model\n"),
        1,
        &["no-header.arpa"],
    );
    assert_one_line_error(
        &run("truncated.arpa", "\\data\\\nngram 1=3\n"),
        1,
        &["truncated.arpa"],
    );
    assert_one_line_error(&run("empty.arpa", ""), 1, &["empty.arpa"]);
    assert_one_line_error(
        &run(
            "nan.arpa",
            &format!("{header}-1.0 <s>\nnan the\n-1.0 </s>\n\n\\end\\\n"),
        ),
        1,
        &["nan.arpa"],
    );
}

#[test]
fn a_tiny_valid_arpa_model_works() {
    // The same flag that rejects malformed files accepts a well-formed one.
    let dir = tempfile::tempdir().unwrap();
    let arpa = "\\data\\\nngram 1=5\nngram 2=2\n\n\\1-grams:\n-99 <s> -0.3\n-1.0 </s>\n-0.5 he -0.3\n-0.6 said -0.3\n-3.0 helium -0.3\n\n\\2-grams:\n-0.1 he said\n-0.2 <s> he\n\n\\end\\\n";
    let p = write(dir.path(), "tiny.arpa", arpa);
    let out = unspin()
        .arg("restore")
        .arg("--lm")
        .arg(&p)
        .write_stdin("helium said")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stdout_of(&out).is_empty());
}

// ------------------------------------------------------- a 100 MB single line

/// Peak resident memory of a running process, in kB (Linux only).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One line of repeated spun words with no line break streams through in
/// bounded memory and comes back with every "helium" restored and every other
/// byte kept. Release builds use 30 MB (100 MB takes about 45 s on a 2-core
/// machine); set UNSPIN_BIG_MB=100 for the full size. Debug builds use 2 MB.
#[test]
fn one_huge_line_streams_correctly() {
    let mb: usize = std::env::var("UNSPIN_BIG_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 2 } else { 30 });
    const UNIT: &[u8] = b"helium said ";
    const RESTORED: &[u8] = b"he said ";
    let reps = mb * 1_000_000 / UNIT.len();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.txt");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        for _ in 0..reps {
            w.write_all(UNIT).unwrap();
        }
        w.flush().unwrap();
    }
    let output = dir.path().join("big.out");
    let started = Instant::now();
    let mut child = unspin_std()
        .arg("restore")
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&output).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "exit {status}: {err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = std::fs::read(&output).unwrap();
    assert_eq!(out.len(), reps * RESTORED.len(), "output length");
    if let Some(k) = out.chunks(RESTORED.len()).position(|c| c != RESTORED) {
        let at = k * RESTORED.len();
        panic!(
            "unit {k} differs: {:?}",
            String::from_utf8_lossy(&out[at.saturating_sub(40)..(at + 40).min(out.len())])
        );
    }
    eprintln!(
        "{mb} MB single line: {elapsed:?}, peak RSS {} MB",
        peak / 1024
    );
    if cfg!(target_os = "linux") && peak > 0 {
        assert!(
            peak < 400 * 1024,
            "peak RSS {} MB: memory must not grow with the input",
            peak / 1024
        );
    }
    // Speed belongs in benchmarks (scripts/bench-speed.sh), not in tests.
    let _ = elapsed;
}

/// `--quality best` without the neural model: one line saying how to install it.
#[test]
fn quality_best_without_the_model_says_how_to_install_it() {
    let out = unspin()
        .env("UNSPIN_NEURAL_MODEL", "/nonexistent/SmolLM2.gguf")
        .args(["restore", "--quality", "best"])
        .write_stdin("helium said the caller rules would beryllium published.\n")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["install-neural-model.sh"]);
    // detect names it too, unless only listing (the document score does not need it).
    let out = unspin()
        .env("UNSPIN_NEURAL_MODEL", "/nonexistent/SmolLM2.gguf")
        .args(["detect", "--quality", "best"])
        .write_stdin("helium said the caller rules would beryllium published.\n")
        .output()
        .unwrap();
    assert_one_line_error(&out, 2, &["install-neural-model.sh"]);
}

/// `--quality best` with the installed model (skipped, with the reason, when absent; CI installs it).
#[test]
fn quality_best_restores_with_the_neural_model() {
    let path = unspin_neural_default_path();
    if !path.is_file() {
        // CI installs the model, so there a missing model is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "neural model not installed at {} (CI runs `bash scripts/install-neural-model.sh`)",
            path.display()
        );
        eprintln!("skipped: neural model not installed at {} (run `bash scripts/install-neural-model.sh`)", path.display());
        return;
    }
    let input = format!("{SPUN}\n");
    let out = unspin()
        .args(["restore", "--quality", "best", "--format", "json"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("he said the new rules would be published on Monday"),
        "{text}"
    );
    let out = unspin()
        .args(["detect", "--quality", "best", "--format", "json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

fn unspin_neural_default_path() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("UNSPIN_NEURAL_MODEL").filter(|p| !p.is_empty()) {
        return p.into();
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share")
        });
    data.join("unspin/neural/SmolLM2-135M-Instruct.Q4_1.gguf")
}
