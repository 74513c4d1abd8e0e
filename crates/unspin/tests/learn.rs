//! Learning a spinner from its output (`unspin::learn`): a news spinner cut
//! to the held-out half of its table, a model whose lexicon learned from the
//! other half, and pages of that spinner's output with no originals.

use std::collections::HashSet;

use unspin::eval::evaluate;
use unspin::halves::Half;
use unspin::learn::{learn, ClassRate, LearnOptions, SpinnerProfile, TokenClasses};
use unspin::lexicon::Lexicon;
use unspin::restore::Options;
use unspin::spinner::{mix64, Spinner};
use unspin::Engine;

/// Sentences written for these tests, drawn into documents.
const POOL: &str = include_str!("data/learn-pool.txt");

/// `n` documents of eight sentences from the pool, chosen by `seed`.
fn documents(n: u64, seed: u64) -> Vec<String> {
    let sentences: Vec<&str> = POOL.lines().filter(|l| !l.trim().is_empty()).collect();
    (0..n)
        .map(|d| {
            (0..8u64)
                .map(|k| sentences[(mix64(seed ^ (d * 31 + k)) % sentences.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The spinner learned from `texts` with the default settings.
fn learn_from(engine: &Engine, texts: &[&str]) -> SpinnerProfile {
    learn(engine, &texts, &LearnOptions::default(), &mut |_| {}).unwrap()
}

/// The pairs `profile` asserts, and how many of them `spun` made.
fn right_pairs(
    profile: &SpinnerProfile,
    spun: &[unspin::spinner::Spun],
) -> (usize, Vec<(String, String)>) {
    let truth: HashSet<(String, String)> = spun
        .iter()
        .flat_map(|s| &s.changes)
        .map(|c| (c.spun.to_lowercase(), c.original.to_lowercase()))
        .collect();
    let asserted = profile.best_pairs(unspin::learn::MIN_ASSERTED_COUNT);
    let right = asserted.iter().filter(|p| truth.contains(*p)).count();
    (right, asserted)
}

struct Setup {
    engine: Engine,
    wn: unspin::wordnet::WordNet,
}

fn setup() -> Setup {
    let wn = unspin::models::embedded_wordnet().unwrap();
    let (model, calibration) = Engine::embedded(false).unwrap().into_parts();
    let lexicon = Lexicon::build_for_lm(&wn, &model.lm, Some(Half::A), 0.2);
    Setup {
        engine: Engine::new(model.with_lexicon(lexicon), calibration),
        wn,
    }
}

fn wer(engine: &Engine, originals: &[String], spun: &[String], opts: &Options) -> f64 {
    let mut report = unspin::eval::EvalReport::default();
    for (o, s) in originals.iter().zip(spun) {
        let out = engine.restore(s, opts).unwrap().text;
        report.merge(&evaluate(o, s, &out, None));
    }
    report.metrics().wer_output.unwrap()
}

#[test]
fn a_held_out_spinner_is_learned_from_its_output_and_restores_better() {
    let Setup { engine, wn } = setup();
    let spinner = Spinner::news(&wn, 7).with_half(Some(Half::B));
    let learn_docs = documents(80, 1);
    let spun: Vec<_> = learn_docs.iter().map(|d| spinner.spin(d)).collect();
    let texts: Vec<&str> = spun.iter().map(|s| s.text.as_str()).collect();
    let mut reports = 0;
    let profile = learn(
        &engine,
        &texts.as_slice(),
        &LearnOptions::default(),
        &mut |_| reports += 1,
    )
    .unwrap();
    assert!(
        reports >= LearnOptions::default().passes,
        "progress is reported"
    );
    assert_eq!(profile.documents, 80);
    assert!(profile.words > 5000, "{}", profile.words);

    // Many of the pairs it asserts are the spinner's own (on 30 sentences
    // drawn again and again, wrong pairs recur too; the benchmark measures
    // precision on real text).
    let (right, asserted) = right_pairs(&profile, &spun);
    assert!(right >= 5, "{right} right of {asserted:?}");
    assert!(right * 3 > asserted.len(), "{right} right of {asserted:?}");

    // New pages of the same spinner restore better with the profile.
    let test_docs = documents(30, 2);
    let test_spun: Vec<String> = test_docs.iter().map(|d| spinner.spin(d).text).collect();
    let without = wer(&engine, &test_docs, &test_spun, &Options::default());
    let with = wer(
        &engine,
        &test_docs,
        &test_spun,
        &Options {
            spinner: Some(engine.spinner_channel(&profile)),
            ..Options::default()
        },
    );
    assert!(with < 0.8 * without, "WER {without} -> {with}");

    // Clean pages stay clean under the learned profile.
    let opts = Options {
        spinner: Some(engine.spinner_channel(&profile)),
        ..Options::default()
    };
    for d in &test_docs {
        assert_eq!(&engine.restore(d, &opts).unwrap().text, d);
    }
}

#[test]
fn profiles_round_trip_merge_and_refuse_corruption() {
    let Setup { engine, wn } = setup();
    let spinner = Spinner::news(&wn, 3).with_half(Some(Half::B));
    let spun: Vec<String> = documents(20, 5)
        .iter()
        .map(|d| spinner.spin(d).text)
        .collect();
    let texts: Vec<&str> = spun.iter().map(String::as_str).collect();
    let profile = learn_from(&engine, &texts);
    assert!(!profile.pairs.is_empty());

    let bytes = profile.to_bytes();
    assert_eq!(SpinnerProfile::from_bytes(&bytes).unwrap(), profile);
    // One flipped byte in the payload fails the checksum; a lexicon is not a profile.
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    assert!(SpinnerProfile::from_bytes(&bad).is_err());
    assert!(SpinnerProfile::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    let lexicon = unspin::models::embedded_lexicon().unwrap().to_bytes();
    assert!(SpinnerProfile::from_bytes(&lexicon).is_err());

    // Merging adds counts: the same pages twice count twice.
    let mut twice = profile.clone();
    twice.merge(&profile);
    assert_eq!(twice.words, 2 * profile.words);
    assert_eq!(twice.documents, 2 * profile.documents);
    assert_eq!(twice.pairs.len(), profile.pairs.len());
    for (a, b) in twice.pairs.iter().zip(&profile.pairs) {
        assert_eq!((&a.0, &a.1), (&b.0, &b.1));
        assert!((a.2 - 2.0 * b.2).abs() < 1e-3 * b.2.max(1.0));
    }
    let top = profile.table(0.0);
    assert!(
        top.windows(2).all(|w| w[0].count >= w[1].count),
        "best first"
    );
}

#[test]
fn a_fluent_synonym_spinner_is_learned_type_by_type() {
    // The phrase thesaurus picks right-sense synonyms: token by token the
    // restorer keeps them; over all occurrences of a type the evidence adds up.
    let Setup { engine, wn } = setup();
    let spinner = Spinner::new(
        &wn,
        unspin::spinner::Profile::Phrase(Default::default()),
        11,
    )
    .with_half(Some(Half::B));
    let docs = documents(80, 9);
    let spun: Vec<_> = docs.iter().map(|d| spinner.spin(d)).collect();
    let texts: Vec<&str> = spun.iter().map(|s| s.text.as_str()).collect();
    let profile = learn_from(&engine, &texts);
    let (right, asserted) = right_pairs(&profile, &spun);
    assert!(right >= 3, "{right} right of {asserted:?}");
    assert!(right * 2 > asserted.len(), "{right} right of {asserted:?}");

    // The same pages unspun: what is learned from clean text is little.
    let clean: Vec<&str> = docs.iter().map(String::as_str).collect();
    let from_clean = learn_from(&engine, &clean);
    let pairs = from_clean.best_pairs(unspin::learn::MIN_ASSERTED_COUNT);
    assert!(
        pairs.len() * 2 <= asserted.len(),
        "{} vs {}: {pairs:?}",
        pairs.len(),
        asserted.len()
    );
}

#[test]
fn classes_a_spinner_touches_are_opened_for_its_pairs_only() {
    let engine = Engine::embedded(false).unwrap();
    let text = "Helium said the plan would work. The plan was cold, said helium. So helium left.";
    let profile = |classes: TokenClasses| SpinnerProfile {
        words: 10_000,
        documents: 100,
        pairs: vec![
            ("he".into(), "helium".into(), 60.0),
            ("he".into(), "he".into(), 5.0),
        ],
        classes,
    };
    let restore = |p: &SpinnerProfile| {
        let opts = Options {
            spinner: Some(engine.spinner_channel(p)),
            ..Options::default()
        };
        engine.restore(text, &opts).unwrap().text
    };
    // A spinner that leaves capitals and punctuation-attached words alone:
    // only the bare lowercase word is its.
    let closed = restore(&profile(TokenClasses::default()));
    assert_eq!(
        closed,
        "Helium said the plan would work. The plan was cold, said helium. So he left."
    );
    // One that rewrites both classes: "Helium" and "helium." come back too.
    let touched = ClassRate {
        written: 100.0,
        original: 10.0,
        rise: 90.0,
        full: 90.0,
        touched: 1.0,
    };
    let open = restore(&profile(TokenClasses {
        capitalized: touched,
        attached: touched,
        ..TokenClasses::default()
    }));
    assert_eq!(
        open,
        "He said the plan would work. The plan was cold, said he. So he left."
    );
}
