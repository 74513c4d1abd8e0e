//! End-to-end tests of the reliability items of issues 17 and 20 on the
//! command line: a closed pipe ends every command quietly, errors are per
//! input as grep's are, `--out-dir` never writes through a symlink or over
//! an input, ids come back exactly, and a duplicate `"text"` key or an
//! empty `spin` input is refused.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;

use common::{
    assert_one_line_error, error_lines, run_with_stdin, stderr_of, stdout_of, unspin_std, write,
    RESTORED, SPUN,
};

/// About `bytes` of spun text in short paragraphs.
fn big_text(bytes: usize) -> String {
    let para = format!("{SPUN} {SPUN}\n\n");
    para.repeat(bytes / para.len() + 1)
}

/// Runs `args` with standard output a pipe whose reader takes `read`
/// bytes and then closes it, as `| head -c` does; returns the exit code
/// and stderr.
fn with_closed_pipe(args: &[&str], read: usize) -> (Option<i32>, String) {
    let mut child = unspin_std()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; read];
    let _ = stdout.read_exact(&mut buf);
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr_of(&out))
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let big = write(dir.path(), "big.txt", big_text(2 << 20));
    let mid = write(dir.path(), "mid.txt", big_text(300 << 10));
    let small = write(dir.path(), "small.txt", format!("{SPUN}\n"));
    let restored = write(dir.path(), "restored.txt", format!("{RESTORED}\n"));
    let index = dir.path().join("news.idx");
    let st = unspin_std()
        .args(["index", "add"])
        .arg(&index)
        .arg(&restored)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", stderr_of(&st));
    let p = |p: &PathBuf| p.display().to_string();
    let (big, mid, small, restored, index) = (p(&big), p(&mid), p(&small), p(&restored), p(&index));
    let cases: Vec<(Vec<&str>, usize)> = vec![
        (vec!["restore", &big], 100),
        (vec!["restore", "--format", "json", &big], 100),
        (vec!["restore", "--format", "diff", &big], 100),
        (vec!["restore", "--format", "html", &mid], 100),
        (vec!["restore", "--format", "json", &small, &mid], 10),
        (vec!["detect", &mid], 10),
        (vec!["detect", "--format", "json", &mid], 10),
        (vec!["detect", "--format", "html", &mid], 10),
        (vec!["spin", &big], 100),
        (vec!["model"], 0),
        (
            vec!["trace", "--index", &index, "--format", "json", &small],
            0,
        ),
        (vec!["trace", "--index", &index, &small], 0),
        (
            vec![
                "eval",
                "--reference",
                &restored,
                "--input",
                &small,
                "--output",
                &restored,
            ],
            0,
        ),
    ];
    for (args, read) in cases {
        let (code, err) = with_closed_pipe(&args, read);
        assert_eq!(code, Some(0), "{args:?}: stderr {err}");
        assert_eq!(err, "", "{args:?}");
    }
}

#[test]
fn out_dir_writes_every_good_input_and_names_the_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", "helium said so.\n");
    let c = write(dir.path(), "c.txt", "arsenic planned.\n");
    let missing = dir.path().join("missing.txt");
    let outdir = dir.path().join("out");
    let out = unspin_std()
        .args(["restore", "--jobs", "2", "--out-dir"])
        .arg(&outdir)
        .arg(&a)
        .arg(&missing)
        .arg(&c)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["missing.txt"]);
    assert_eq!(
        std::fs::read_to_string(outdir.join("a.txt")).unwrap(),
        "he said so.\n"
    );
    assert_eq!(
        std::fs::read_to_string(outdir.join("c.txt")).unwrap(),
        "as planned.\n"
    );
    assert!(!outdir.join("missing.txt").exists());
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn json_to_stdout_writes_every_good_input_and_names_the_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", "helium said so.\n");
    let b = write(dir.path(), "b.txt", "");
    let c = write(dir.path(), "c.txt", "arsenic planned.\n");
    let out = unspin_std()
        .args(["restore", "--format", "json"])
        .arg(&a)
        .arg(&b)
        .arg(&c)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["b.txt", "empty"]);
    let lines: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["path"], a.display().to_string());
    assert_eq!(lines[0]["text"], "he said so.\n");
    assert_eq!(lines[1]["path"], c.display().to_string());
    assert_eq!(lines[1]["text"], "as planned.\n");
}

#[test]
fn jsonl_names_each_bad_line_and_goes_on() {
    let corpus = "{\"id\":1,\"text\":\"helium said so.\"}\n\
                  {\"id\":2,\"text\":\n\
                  {\"id\":3,\"body\":\"x\"}\n\
                  {\"id\":4,\"text\":\"arsenic planned.\"}\n";
    for format in ["text", "json"] {
        let out = run_with_stdin(
            &["restore", "--jsonl", "--format", format],
            corpus.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
        let errors = error_lines(&out);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("unspin: error: <stdin>:2: "));
        assert!(errors[1].starts_with("unspin: error: <stdin>:3: "));
        let lines: Vec<serde_json::Value> = stdout_of(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{}", stdout_of(&out));
        assert_eq!(lines[0]["id"], 1);
        assert_eq!(lines[0]["text"], "he said so.");
        assert_eq!(lines[1]["id"], 4);
        assert_eq!(lines[1]["text"], "as planned.");
    }

    // A missing corpus does not stop the next one.
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.jsonl", "{\"text\":\"helium said so.\"}\n");
    let out = unspin_std()
        .args(["restore", "--jsonl"])
        .arg(dir.path().join("missing.jsonl"))
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_lines(&out).len(), 1);
    assert_eq!(stdout_of(&out), "{\"text\":\"he said so.\"}\n");
}

#[cfg(unix)]
#[test]
fn out_dir_never_writes_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    let a = write(&inputs, "a.txt", "helium said so.\n");
    let b = write(&inputs, "b.txt", "arsenic planned.\n");
    let precious = write(dir.path(), "precious.txt", "keep me\n");
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    std::os::unix::fs::symlink("../precious.txt", outdir.join("a.txt")).unwrap();
    // A dangling link must not create its target either.
    std::os::unix::fs::symlink("../created.txt", outdir.join("b.txt")).unwrap();
    let out = unspin_std()
        .args(["restore", "--out-dir"])
        .arg(&outdir)
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me\n");
    assert!(!dir.path().join("created.txt").exists());
    // The links were replaced by the outputs.
    for (name, want) in [("a.txt", "he said so.\n"), ("b.txt", "as planned.\n")] {
        let p = outdir.join(name);
        assert!(!std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), want);
    }
}

#[test]
fn out_dir_never_overwrites_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", "helium said so.\n");
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let c = write(&other, "c.txt", "arsenic planned.\n");
    let out = unspin_std()
        .current_dir(dir.path())
        .args(["restore", "--out-dir", ".", "a.txt"])
        .arg(&c)
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, &["a.txt", "input"]);
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "helium said so.\n");
    // The other input was written.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("c.txt")).unwrap(),
        "as planned.\n"
    );
    assert_eq!(std::fs::read_to_string(&c).unwrap(), "arsenic planned.\n");
}

#[test]
fn ids_past_u64_come_back_exactly() {
    let big = "123456789012345678901234567890";
    let corpus = format!(
        "{{\"id\":{big},\"text\":\"helium said so.\"}}\n{{\"id\":1e2,\"text\":\"arsenic planned.\"}}\n"
    );
    for args in [
        &["restore", "--jsonl"][..],
        &["restore", "--jsonl", "--format", "json"],
        &["detect", "--jsonl", "--format", "json"],
    ] {
        let out = run_with_stdin(args, corpus.as_bytes());
        let text = stdout_of(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {text} {}", stderr_of(&out));
        assert!(
            lines[0].contains(&format!("\"id\":{big}")),
            "{args:?}: {text}"
        );
        assert!(lines[1].contains("\"id\":1e2"), "{args:?}: {text}");
        for l in lines {
            serde_json::from_str::<serde_json::Value>(l).expect("valid JSON");
        }
    }
    // The detect label (text format) shows the id as given too.
    let mut child = unspin_std()
        .args(["detect", "--jsonl", "--color", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(corpus.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(stdout_of(&out).contains(&format!("<stdin>:{big}:")));
}

#[test]
fn a_duplicate_text_key_is_an_error() {
    for cmd in ["restore", "detect"] {
        let out = run_with_stdin(
            &[cmd, "--jsonl"],
            b"{\"id\":1,\"text\":\"helium said so.\",\"text\":\"arsenic\"}\n",
        );
        let errors = error_lines(&out);
        assert_eq!(errors.len(), 1, "{cmd}: {errors:?}");
        assert!(
            errors[0].contains("<stdin>:1:") && errors[0].contains("\"text\""),
            "{cmd}: {errors:?}"
        );
        assert_ne!(out.status.code(), Some(0), "{cmd}");
        assert_eq!(stdout_of(&out), "", "{cmd}");
    }
}

#[test]
fn spin_refuses_an_empty_file_as_restore_does() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.txt", "");
    let restore = unspin_std().arg("restore").arg(&empty).output().unwrap();
    let spin = unspin_std().arg("spin").arg(&empty).output().unwrap();
    assert_eq!(spin.status.code(), Some(1));
    assert_eq!(error_lines(&spin).len(), 1);
    assert_eq!(stderr_of(&spin), stderr_of(&restore));
    assert!(stderr_of(&spin).contains("empty"));
    // Standard input too.
    let restore = unspin_std()
        .arg("restore")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let spin = unspin_std()
        .arg("spin")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(spin.status.code(), Some(1));
    assert_eq!(stderr_of(&spin), stderr_of(&restore));
}
