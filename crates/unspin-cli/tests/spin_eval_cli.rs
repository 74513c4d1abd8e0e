//! End-to-end tests of `unspin spin` and `unspin eval`: deterministic spinning,
//! alignments whose offsets slice both texts, the spintax round trip, and the
//! word error rate of a hand-made triple.

mod common;

use std::path::Path;

use common::{assert_one_line_error, ok_stdout, unspin, write};
use serde_json::Value;

const ORIGINAL: &str = "He said the new rules would be published on Monday, as planned.\n\
The committee will meet again in spring to review the results.\n\n\
In the morning, the far hills looked cold and large. \"Because\" is a word; how far is it?\n";

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn offset(v: &Value, key: &str) -> usize {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}")) as usize
}

/// Every record's offsets select its strings in both texts; the records are
/// sorted and disjoint, and replacing them turns one text into the other.
#[track_caller]
fn check_alignment(original: &str, spun: &str, records: &[Value]) {
    let mut rebuilt_spun = String::new();
    let mut rebuilt_orig = String::new();
    let (mut o_at, mut s_at) = (0, 0);
    for r in records {
        let (os, oe) = (offset(r, "orig_start"), offset(r, "orig_end"));
        let (ss, se) = (offset(r, "spun_start"), offset(r, "spun_end"));
        assert!(os >= o_at && os <= oe && oe <= original.len(), "{r}");
        assert!(ss >= s_at && ss <= se && se <= spun.len(), "{r}");
        assert_eq!(&original[os..oe], r["original"].as_str().unwrap(), "{r}");
        assert_eq!(&spun[ss..se], r["spun"].as_str().unwrap(), "{r}");
        // The text between changes is the same in both.
        assert_eq!(&original[o_at..os], &spun[s_at..ss], "{r}");
        rebuilt_spun.push_str(&original[o_at..os]);
        rebuilt_spun.push_str(&spun[ss..se]);
        rebuilt_orig.push_str(&spun[s_at..ss]);
        rebuilt_orig.push_str(&original[os..oe]);
        o_at = oe;
        s_at = se;
    }
    rebuilt_spun.push_str(&original[o_at..]);
    rebuilt_orig.push_str(&spun[s_at..]);
    assert_eq!(rebuilt_spun, spun);
    assert_eq!(rebuilt_orig, original);
}

#[test]
fn spin_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "orig.txt", ORIGINAL);
    for profile in ["news", "synonym", "phrase", "phrase,news"] {
        let run = |seed: &str| {
            ok_stdout(
                &unspin()
                    .args(["spin", "--profile", profile, "--seed", seed])
                    .arg(&f)
                    .output()
                    .unwrap(),
            )
        };
        let a = run("7");
        assert_eq!(a, run("7"), "{profile}: same seed, same output");
        assert_ne!(a, ORIGINAL, "{profile}: something was spun");
        let others: Vec<String> = ["8", "9", "10"].iter().map(|s| run(s)).collect();
        assert!(
            others.iter().any(|o| o != &a),
            "{profile}: the seed matters"
        );
        // Standard input gives the same as the file.
        let stdin = ok_stdout(
            &unspin()
                .args(["spin", "--profile", profile, "--seed", "7"])
                .write_stdin(ORIGINAL)
                .output()
                .unwrap(),
        );
        assert_eq!(stdin, a);
    }
}

#[test]
fn spin_alignment_offsets_slice_both_texts() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "orig.txt", ORIGINAL);
    for profile in ["news", "synonym", "phrase", "phrase,news"] {
        for seed in ["1", "2", "3"] {
            let align = dir.path().join(format!("{profile}-{seed}.jsonl"));
            let spun = ok_stdout(
                &unspin()
                    .args(["spin", "--profile", profile, "--seed", seed, "--alignment"])
                    .arg(&align)
                    .arg(&f)
                    .output()
                    .unwrap(),
            );
            let records = jsonl(&align);
            assert!(!records.is_empty(), "{profile} seed {seed}: no changes");
            for r in &records {
                assert_eq!(r["doc"], f.display().to_string());
                // A chain's change names the stages that made it.
                let p = r["profile"].as_str().unwrap();
                assert!(
                    p.split(',')
                        .all(|stage| profile.split(',').any(|q| q == stage)),
                    "{profile}: {p}"
                );
                assert!(r["relation"].as_str().is_some_and(|s| !s.is_empty()));
            }
            check_alignment(ORIGINAL, &spun, &records);
        }
    }
}

#[test]
fn spin_halves_split_the_table_and_bad_profiles_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "orig.txt", ORIGINAL);
    let changed = |half: &str| -> Vec<String> {
        let align = dir.path().join(format!("{half}.jsonl"));
        ok_stdout(
            &unspin()
                .args([
                    "spin",
                    "--profile",
                    "synonym",
                    "--rate",
                    "0.6",
                    "--half",
                    half,
                ])
                .arg("--alignment")
                .arg(&align)
                .arg(&f)
                .output()
                .unwrap(),
        );
        jsonl(&align)
            .iter()
            .map(|r| r["original"].as_str().unwrap().to_lowercase())
            .collect()
    };
    let (all, a, b) = (changed("all"), changed("a"), changed("b"));
    assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
    assert_eq!(a.len() + b.len(), all.len());
    assert!(a.iter().all(|w| !b.contains(w)), "a word in both halves");
    for bad in [
        &["--profile", "phrase,bogus"][..],
        &["--profile", ""][..],
        &["--half", "c"][..],
    ] {
        let out = unspin().arg("spin").args(bad).arg(&f).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn spin_news_touches_only_bare_lowercase_words() {
    // shared/spinner.md: attached punctuation or a capital keeps a token as it is.
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "orig.txt", ORIGINAL);
    let align = dir.path().join("a.jsonl");
    let spun = ok_stdout(
        &unspin()
            .args(["spin", "--seed", "5", "--rate", "1", "--alignment"])
            .arg(&align)
            .arg(&f)
            .output()
            .unwrap(),
    );
    let records = jsonl(&align);
    check_alignment(ORIGINAL, &spun, &records);
    for r in &records {
        let o = r["original"].as_str().unwrap();
        assert!(
            o.split(' ')
                .all(|w| w.bytes().all(|b| b.is_ascii_lowercase() || b == b'\'')),
            "{r}"
        );
    }
    assert!(spun.starts_with("He "), "{spun}");
}

#[test]
fn spintax_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "orig.txt", ORIGINAL);
    let align = dir.path().join("spin.jsonl");
    let spun = ok_stdout(
        &unspin()
            .args(["spin", "--seed", "11", "--alignment"])
            .arg(&align)
            .arg(&f)
            .output()
            .unwrap(),
    );
    let spin_records = jsonl(&align);
    check_alignment(ORIGINAL, &spun, &spin_records);
    assert!(spin_records.len() >= 3, "{spun}");
    let spintax = ok_stdout(
        &unspin()
            .args(["spin", "--seed", "11", "--spintax"])
            .arg(&f)
            .output()
            .unwrap(),
    );
    // One group {original|spun} per change, in order.
    assert_eq!(
        spintax.matches('{').count(),
        spin_records.len(),
        "{spintax}"
    );
    for r in &spin_records {
        let group = format!(
            "{{{}|{}}}",
            r["original"].as_str().unwrap(),
            r["spun"].as_str().unwrap()
        );
        assert!(spintax.contains(&group), "{group} missing from {spintax}");
    }
    let sp = write(dir.path(), "spintax.txt", &spintax);

    // Each expansion picks, per group, the original or the spun form, and its
    // alignment (against the first alternatives) gives the original back.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..6 {
        let align = dir.path().join(format!("expand-{seed}.jsonl"));
        let expanded = ok_stdout(
            &unspin()
                .args([
                    "spin",
                    "--from-spintax",
                    "--seed",
                    &seed.to_string(),
                    "--alignment",
                ])
                .arg(&align)
                .arg(&sp)
                .output()
                .unwrap(),
        );
        let records = jsonl(&align);
        check_alignment(ORIGINAL, &expanded, &records);
        for r in &records {
            assert_eq!(r["relation"], "spintax");
            let matching = spin_records
                .iter()
                .find(|s| s["orig_start"] == r["orig_start"]);
            let s = matching.unwrap_or_else(|| panic!("{r} is no change of the spinner"));
            assert_eq!(
                (&s["original"], &s["spun"], &s["orig_end"]),
                (&r["original"], &r["spun"], &r["orig_end"])
            );
        }
        // Deterministic for the seed.
        let again = ok_stdout(
            &unspin()
                .args(["spin", "--from-spintax", "--seed", &seed.to_string()])
                .arg(&sp)
                .output()
                .unwrap(),
        );
        assert_eq!(again, expanded);
        seen.insert(expanded);
    }
    assert!(
        seen.len() > 1,
        "different seeds pick different alternatives"
    );

    // Malformed spintax: a clear one-line error.
    let bad = write(dir.path(), "bad.txt", "an {unclosed|group");
    let out = unspin()
        .args(["spin", "--from-spintax"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["bad.txt"]);
}

#[test]
fn spin_bad_input_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"abc\xffdef").unwrap();
    for args in [
        vec!["spin".to_string(), bin.display().to_string()],
        vec![
            "spin".into(),
            dir.path().join("missing.txt").display().to_string(),
        ],
    ] {
        eprintln!("unspin {args:?}:");
        let out = unspin().args(&args).write_stdin("x").output().unwrap();
        assert_one_line_error(&out, 1, &[]);
    }
}

#[test]
fn eval_prints_the_expected_wer() {
    let dir = tempfile::tempdir().unwrap();
    // 10 reference words; the input has 3 substituted (WER 30%); the output
    // fixes two of them and breaks nothing else (WER 10%).
    let r = write(
        dir.path(),
        "ref.txt",
        "he said the new rules would be published on Monday.\n",
    );
    let i = write(
        dir.path(),
        "in.txt",
        "helium said the caller rules would beryllium published on Monday.\n",
    );
    let o = write(
        dir.path(),
        "out.txt",
        "he said the caller rules would be published on Monday.\n",
    );
    let table = ok_stdout(
        &unspin()
            .arg("eval")
            .arg("--reference")
            .arg(&r)
            .arg("--input")
            .arg(&i)
            .arg("--output")
            .arg(&o)
            .output()
            .unwrap(),
    );
    let wer = table
        .lines()
        .find(|l| l.starts_with("word error rate"))
        .unwrap_or_else(|| panic!("no WER line in {table}"));
    let cells: Vec<&str> = wer.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["30.00%", "10.00%"], "{table}");

    let out = ok_stdout(
        &unspin()
            .args(["eval", "--format", "json", "-r"])
            .arg(&r)
            .arg("-i")
            .arg(&i)
            .arg("-o")
            .arg(&o)
            .output()
            .unwrap(),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = &v["metrics"];
    assert!((m["wer_input"].as_f64().unwrap() - 0.3).abs() < 1e-9, "{v}");
    assert!(
        (m["wer_output"].as_f64().unwrap() - 0.1).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(v["counts"]["reference_words"], 10);
    assert_eq!(v["counts"]["input_edits"]["substitutions"], 3);
    assert_eq!(v["counts"]["output_edits"]["substitutions"], 1);
}

#[test]
fn spin_restore_eval_pipeline() {
    // The benchmark loop in miniature: spin, restore, score. The restored
    // text must be at least as close to the original as the spun one.
    let dir = tempfile::tempdir().unwrap();
    let orig = write(dir.path(), "orig.txt", ORIGINAL);
    let spun = ok_stdout(
        &unspin()
            .args(["spin", "--seed", "3"])
            .arg(&orig)
            .output()
            .unwrap(),
    );
    let spun_f = write(dir.path(), "spun.txt", &spun);
    let restored = ok_stdout(&unspin().arg("restore").arg(&spun_f).output().unwrap());
    let restored_f = write(dir.path(), "restored.txt", &restored);
    let out = ok_stdout(
        &unspin()
            .args(["eval", "--format", "json", "-r"])
            .arg(&orig)
            .arg("-i")
            .arg(&spun_f)
            .arg("-o")
            .arg(&restored_f)
            .output()
            .unwrap(),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let (wi, wo) = (
        v["metrics"]["wer_input"].as_f64().unwrap(),
        v["metrics"]["wer_output"].as_f64().unwrap(),
    );
    assert!(wi > 0.0, "{v}");
    assert!(
        wo <= wi,
        "restoring made it worse: {wi} -> {wo}\n{restored}"
    );
}

#[test]
fn eval_missing_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "ref.txt", "a b c\n");
    let out = unspin()
        .args(["eval", "-r"])
        .arg(&r)
        .arg("-i")
        .arg(dir.path().join("nope.txt"))
        .arg("-o")
        .arg(&r)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["nope.txt"]);
    let out = unspin().args(["eval", "-r"]).arg(&r).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tortured_profile_spins_terms_and_restore_undoes_listed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let text = "We trained a support vector machine and a random forest on the data.\n";
    let input = write(dir.path(), "paper.txt", text);
    let align = dir.path().join("align.jsonl");
    let out = unspin()
        .args([
            "spin",
            "--profile",
            "tortured",
            "--seed",
            "3",
            "--alignment",
        ])
        .arg(&align)
        .arg(&input)
        .output()
        .unwrap();
    let spun = ok_stdout(&out);
    assert_ne!(spun, text);
    let changes = jsonl(&align);
    assert!(!changes.is_empty());
    for c in &changes {
        let (os, oe) = (
            c["orig_start"].as_u64().unwrap() as usize,
            c["orig_end"].as_u64().unwrap() as usize,
        );
        let (ss, se) = (
            c["spun_start"].as_u64().unwrap() as usize,
            c["spun_end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[os..oe], c["original"].as_str().unwrap());
        assert_eq!(&spun[ss..se], c["spun"].as_str().unwrap());
        assert_eq!(c["profile"], "tortured");
    }
    // Every phrase the whole list spun is listed, so restore takes it back.
    let spun_file = write(dir.path(), "spun.txt", &spun);
    let restored = ok_stdout(&unspin().arg("restore").arg(&spun_file).output().unwrap());
    assert_eq!(restored, text);
    let bad = unspin()
        .args(["spin", "--profile", "tortured", "--half", "c"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
