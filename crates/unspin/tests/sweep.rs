//! The synonym sweep of `--quality best`, with stand-in context scorers:
//! what it restores, and the text it must leave alone.

use rustc_hash::FxHashSet;
use unspin::eval::evaluate;
use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::restore::{Options, Restoration, Restorer};
use unspin::spinner::Spinner;
use unspin::sweep::SweepOptions;

mod common;
use common::{model, model_with_wordnet, wordnet};

const CLEAN: &str =
    "The committee examined the proposal carefully before the vote. Several members \
argued that the plan would raise costs for small farms, while others believed it would protect the \
river and the forest near the town. After a long debate the chairman asked for patience, and the \
members agreed to publish a detailed report next month. The report will describe the damage caused \
by the flood, the price of repairs, and the support the region expects from the government.";

/// Knows the words of one text: a candidate scores 0 when every word of it
/// is one of them, -40 otherwise (a model that has read the original).
struct Knows(FxHashSet<String>);

impl Knows {
    fn text(t: &str) -> Self {
        Knows(
            t.split(|c: char| !c.is_alphabetic())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect(),
        )
    }
}

impl ContextScorer for Knows {
    fn score(&self, _: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        Ok(queries
            .iter()
            .map(|q| {
                q.candidates
                    .iter()
                    .map(|c| {
                        let known = c
                            .split_whitespace()
                            .all(|w| self.0.contains(&w.to_lowercase()));
                        if known {
                            0.0
                        } else {
                            -40.0
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

/// Has no opinion: every candidate scores the same.
struct Indifferent;

impl ContextScorer for Indifferent {
    fn score(&self, _: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        Ok(queries
            .iter()
            .map(|q| vec![-10.0; q.candidates.len()])
            .collect())
    }
}

/// The input with the restoration's applied changes made, byte for byte.
fn applied(input: &str, r: &Restoration) -> String {
    let mut out = String::new();
    let mut at = 0;
    for c in r.changes.iter().filter(|c| c.applied) {
        assert_eq!(&input[c.start..c.end], c.spun);
        out.push_str(&input[at..c.start]);
        out.push_str(&c.original);
        at = c.end;
    }
    out + &input[at..]
}

/// Options whose sweep runs whatever the text's spin rate.
fn sweep_always() -> Options {
    Options {
        sweep: SweepOptions {
            min_rate: 0.0,
            ..SweepOptions::default()
        },
        ..Options::default()
    }
}

#[test]
fn synonyms_outside_the_lexicon_are_restored() {
    let spun = Spinner::synonym(wordnet(), 0.3, 7).spin(CLEAN);
    assert!(spun.changes.len() >= 5, "the spinner replaced words");
    let mut r = Restorer::new(model_with_wordnet(), Options::default());
    let out = r.restore_best(&spun.text, &Knows::text(CLEAN)).unwrap();
    let swept = out
        .changes
        .iter()
        .filter(|c| c.applied && c.relation == "generic_synonym")
        .count();
    assert!(swept > 0, "the sweep changed nothing: {}", out.text);
    let before = evaluate(CLEAN, &spun.text, &spun.text, None).metrics();
    let after = evaluate(CLEAN, &spun.text, &out.text, None).metrics();
    assert!(
        after.wer_output.unwrap() < 0.5 * before.wer_output.unwrap(),
        "WER {:?} -> {:?}: {}",
        before.wer_output,
        after.wer_output,
        out.text
    );
    // Every byte outside the changed words is the input's.
    assert_eq!(out.text, applied(&spun.text, &out));
}

#[test]
fn a_multiword_synonym_is_looked_at_as_one() {
    let original = "She put the letters on the old mahogany desk by the window.";
    let spun = "She put the letters on the old reddish brown desk by the window.";
    let mut r = Restorer::new(model_with_wordnet(), sweep_always());
    let out = r.restore_best(spun, &Knows::text(original)).unwrap();
    assert_eq!(out.text, original, "{:?}", out.changes);
}

#[test]
fn clean_text_is_left_alone() {
    for scorer in [&Knows::text(CLEAN) as &dyn ContextScorer, &Indifferent] {
        let mut r = Restorer::new(model_with_wordnet(), Options::default());
        let out = r.restore_document_best(CLEAN, scorer).unwrap();
        assert_eq!(out.text, CLEAN);
    }
}

#[test]
fn a_low_rate_text_is_left_alone() {
    // One replaced word in about fifty: below the sweep's smallest rate.
    let spun = CLEAN.replacen("patience", "forbearance", 1);
    let mut r = Restorer::new(model_with_wordnet(), Options::default());
    let out = r.restore_best(&spun, &Knows::text(CLEAN)).unwrap();
    assert_eq!(out.text, spun);
    // The rate is what holds it back: without that floor it is restored.
    let opts = Options {
        sweep: SweepOptions {
            min_rate: 0.0,
            ..SweepOptions::default()
        },
        ..Options::default()
    };
    let out = Restorer::new(model_with_wordnet(), opts)
        .restore_best(&spun, &Knows::text(CLEAN))
        .unwrap();
    assert_eq!(out.text, CLEAN);
}

#[test]
fn without_wordnet_or_when_disabled_nothing_is_swept() {
    let spun = Spinner::synonym(wordnet(), 0.3, 7).spin(CLEAN);
    let scorer = Knows::text(CLEAN);
    let without = Restorer::new(model(), Options::default())
        .restore_best(&spun.text, &scorer)
        .unwrap();
    let disabled = Restorer::new(
        model_with_wordnet(),
        Options {
            sweep: SweepOptions {
                enabled: false,
                ..SweepOptions::default()
            },
            ..Options::default()
        },
    )
    .restore_best(&spun.text, &scorer)
    .unwrap();
    assert_eq!(without.text, disabled.text);
    let enabled = Restorer::new(model_with_wordnet(), Options::default())
        .restore_best(&spun.text, &scorer)
        .unwrap();
    assert_ne!(enabled.text, disabled.text);
}

#[test]
fn synonyms_come_inflected_and_cased_like_the_word() {
    let s = wordnet().synonyms_like("Automobiles");
    assert!(s.contains(&"Cars".to_string()), "{s:?}");
    assert!(!s.iter().any(|w| w == "Automobiles"));
    let unique: FxHashSet<&String> = s.iter().collect();
    assert_eq!(unique.len(), s.len());
    // Multi-word lemmas come with spaces, as the spinner writes them.
    assert!(wordnet()
        .synonyms_like("mahogany")
        .contains(&"reddish brown".to_string()));
}

#[test]
fn entries_of_a_word_list_have_no_context_to_weigh() {
    // The spun words of a prose text, one per line as in a book's index: a
    // scorer that has read the original would pick the originals, but a
    // line of one word says nothing about spinning.
    let spun = Spinner::synonym(wordnet(), 0.3, 7).spin(CLEAN);
    let list: String = spun
        .changes
        .iter()
        .enumerate()
        .map(|(k, c)| format!("- {}, {}\n", c.spun, 100 + k))
        .collect();
    assert!(spun.changes.len() >= 5);
    let mut r = Restorer::new(model_with_wordnet(), sweep_always());
    let out = r.restore_best(&list, &Knows::text(CLEAN)).unwrap();
    assert_eq!(out.text, list, "{:?}", out.changes);
}
