//! The real model (issue 6): a forward pass, known next-token predictions,
//! and candidate rescoring. Skipped, with the reason printed, when the model
//! is not installed (`bash scripts/install-neural-model.sh`); under `CI`,
//! which installs it, a missing model fails them.

use std::sync::OnceLock;

use unspin::rescore::{ContextQuery, ContextScorer};
use unspin_neural::NeuralLm;

fn lm() -> Option<&'static NeuralLm> {
    static LM: OnceLock<Option<NeuralLm>> = OnceLock::new();
    LM.get_or_init(|| {
        let path = unspin_neural::default_model_path();
        if !path.is_file() {
            let reason = format!(
                "neural model not installed at {} (run `{}`)",
                path.display(),
                unspin_neural::INSTALL_HINT
            );
            // CI installs it (.ci/run): there a missing model fails.
            if std::env::var_os("CI").is_some() {
                panic!("{reason}: CI must run the neural tests");
            }
            eprintln!("skipped: {reason}");
            return None;
        }
        Some(NeuralLm::load(&path).expect("the installed model loads"))
    })
    .as_ref()
}

/// A second copy of the installed model with its scoring options changed.
fn lm_with(lm: &NeuralLm, change: impl FnOnce(&mut unspin_neural::ScoreOptions)) -> NeuralLm {
    let mut lm2 = NeuralLm::load(&unspin_neural::default_model_path()).unwrap();
    let mut o = lm.options().clone();
    change(&mut o);
    lm2.set_options(o);
    lm2
}

/// The `n` most likely next tokens after `context`, as text.
fn top(lm: &NeuralLm, context: &str, n: usize) -> Vec<(String, f32)> {
    let lp = lm.next_token_log_probs(context).unwrap();
    let mut idx: Vec<usize> = (0..lp.len()).collect();
    idx.sort_by(|&a, &b| lp[b].total_cmp(&lp[a]));
    idx[..n]
        .iter()
        .map(|&i| (lm.token_text(i as u32), lp[i]))
        .collect()
}

#[test]
fn known_next_tokens() {
    let Some(lm) = lm() else { return };
    assert_eq!(lm.config().vocab, 49_152);
    assert_eq!(lm.config().layers, 30);
    let paris = top(lm, "The capital of France is", 3);
    assert_eq!(paris[0].0, " Paris", "{paris:?}");
    assert!(paris[0].1 > -1.0, "confident: {paris:?}");
    let days = top(lm, "He said the new rules would be published on", 5);
    assert!(
        days.iter().any(|(t, _)| t == " Monday"),
        "a weekday follows 'published on': {days:?}"
    );
    let lp = lm.next_token_log_probs("The capital of France is").unwrap();
    let total: f64 = lp.iter().map(|&l| (l as f64).exp()).sum();
    assert!((total - 1.0).abs() < 1e-3, "probabilities sum to {total}");
}

#[test]
fn grammatical_continuations_score_higher() {
    let Some(lm) = lm() else { return };
    let c = "He said the new rules would";
    let be = lm.continuation_log_prob(c, " be published").unwrap();
    let beryllium = lm.continuation_log_prob(c, " beryllium published").unwrap();
    assert!(be > beryllium + 10.0, "{be} vs {beryllium}");
}

#[test]
fn rescoring_prefers_the_original_words() {
    let Some(lm) = lm() else { return };
    let text =
        "helium said the caller rules would beryllium published connected Monday, arsenic planned.";
    let q = |word: &str, cands: &[&str]| {
        let start = text.find(word).unwrap();
        ContextQuery {
            start,
            end: start + word.len(),
            candidates: cands.iter().map(|c| c.to_string()).collect(),
            base: 0,
        }
    };
    let queries = vec![
        q("helium", &["helium", "he"]),
        q("caller", &["caller", "new", "fresh"]),
        q("beryllium", &["beryllium", "be"]),
        q("connected", &["connected", "on"]),
        q("arsenic", &["arsenic", "as"]),
    ];
    let scores = lm.score(text, &queries).unwrap();
    assert_eq!(scores.len(), queries.len());
    for (q, s) in queries.iter().zip(&scores) {
        assert_eq!(s.len(), q.candidates.len());
        let best = (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
        assert_ne!(
            best, 0,
            "{:?} scored {s:?}: the spun word should lose",
            q.candidates
        );
        assert!(s.iter().all(|v| v.is_finite() && *v < 0.0), "{s:?}");
    }
}

#[test]
fn cached_prefix_scores_match_a_full_pass() {
    let Some(lm) = lm() else { return };
    // With a window that covers the rest of the text, a candidate's score is
    // ln p(candidate + rest | prefix), which a plain pass computes directly.
    let lm2 = lm_with(lm, |o| o.window = 64);
    let text = "The old man walked slowly to the harbour, where the boats were waiting for the morning tide.";
    let start = text.find("slowly").unwrap();
    let q = ContextQuery {
        start,
        end: start + "slowly".len(),
        candidates: vec!["slowly".into(), "quickly".into(), "banana".into()],
        base: 0,
    };
    let got = lm2.score(text, std::slice::from_ref(&q)).unwrap().remove(0);
    let rest = &text[q.end..];
    for (c, g) in q.candidates.iter().zip(&got) {
        let want = lm2
            .continuation_log_prob(&text[..start - 1], &format!(" {c}{rest}"))
            .unwrap();
        // Quantized activations make two correct computations differ a
        // little; a wrong prefix or position would differ by far more.
        assert!(
            (want - g).abs() < 0.1 * want.abs().max(10.0),
            "{c}: window {g} vs full pass {want}"
        );
    }
    assert!(
        got[2] < got[0] - 5.0,
        "'banana' is far less likely: {got:?}"
    );
}

#[test]
fn missing_and_broken_model_files_are_one_line_errors() {
    let e = NeuralLm::load(std::path::Path::new("/nonexistent/model.gguf"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("install-neural-model.sh"), "{e}");
    assert!(!e.contains('\n'));
    let dir = std::env::temp_dir().join(format!("unspin-neural-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.gguf");
    std::fs::write(&bad, b"this is not a GGUF file at all").unwrap();
    let e = NeuralLm::load(&bad).err().unwrap().to_string();
    assert!(e.contains("bad.gguf") && !e.contains('\n'), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_recorded_digest_matches_the_constant() {
    let sums = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/neural-model.sha256"
    ))
    .unwrap();
    let line = sums
        .lines()
        .find(|l| l.ends_with(unspin_neural::MODEL_FILE))
        .expect("the model's digest is recorded");
    assert_eq!(
        line.split_whitespace().next(),
        Some(unspin_neural::MODEL_SHA256)
    );
}

#[test]
fn parts_scored_in_parallel_match_one_thread() {
    let Some(lm) = lm() else { return };
    // Small blocks, so that the text makes several blocks and the parts
    // of a multi-threaded run split between them.
    let lm2 = lm_with(lm, |o| o.block_tokens = 40);
    let text = "The committee said the new rules would be published on Monday, as planned. \
        Officials at the ministry declined to comment on the report. \
        Farmers in the north have waited for rain since the spring, and many sold their cattle. \
        The minister told reporters that the talks could resume next week if both sides agreed. \
        Prices rose sharply in the capital, where the market had been closed for a month.";
    let mut queries = Vec::new();
    for (w, alts) in [
        ("new", ["fresh", "caller"]),
        ("published", ["printed", "issued"]),
        ("comment", ["remark", "input"]),
        ("rain", ["water", "snow"]),
        ("cattle", ["cows", "oxen"]),
        ("talks", ["discussions", "speeches"]),
        ("sharply", ["steeply", "acutely"]),
        ("market", ["bazaar", "mart"]),
    ] {
        let start = text.find(&format!(" {w}")).unwrap() + 1;
        let mut candidates = vec![w.to_string()];
        candidates.extend(alts.iter().map(|a| a.to_string()));
        queries.push(ContextQuery {
            start,
            end: start + w.len(),
            candidates,
            base: 0,
        });
    }
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| lm2.score(text, &queries).unwrap())
    };
    let one = run(1);
    for threads in [2, 3] {
        let many = run(threads);
        for (q, (a, b)) in queries.iter().zip(one.iter().zip(&many)) {
            for ((c, x), y) in q.candidates.iter().zip(a).zip(b) {
                assert!(x.is_finite() && *x < 0.0, "{c}: {x}");
                // Row results do not depend on the batch a row runs in, up to
                // the order the kernels add scaled integer sums in.
                assert!(
                    (x - y).abs() <= 1e-3 * x.abs().max(1.0),
                    "{c}: {x} on one thread, {y} on {threads}"
                );
            }
        }
    }
}
