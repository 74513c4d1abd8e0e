//! Tortured phrases on the embedded models: listed phrases are restored,
//! every byte outside them is kept, and clean text stays as it is.

use std::sync::OnceLock;

use proptest::prelude::*;
use unspin::restore::{Model, Options, Restorer};
use unspin::tortured::{self, Half, PhraseKind, RELATION_LISTED};

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        Model::new(
            unspin::models::embedded_lm().expect("embedded language model"),
            unspin::models::embedded_lexicon().expect("embedded lexicon"),
        )
        .with_phrases(unspin::models::embedded_phrases().expect("embedded phrase model"))
    })
}

fn restore(text: &str) -> unspin::restore::Restoration {
    Restorer::new(model(), Options::default()).restore_document(text)
}

#[test]
fn listed_phrases_are_restored_with_case_and_surroundings_kept() {
    let text = "  We fit a Bolster vector machine (see below) on the data.\n";
    let r = restore(text);
    assert_eq!(
        r.text,
        "  We fit a Support vector machine (see below) on the data.\n"
    );
    let c = r
        .changes
        .iter()
        .find(|c| c.relation == RELATION_LISTED)
        .expect("a listed change");
    assert_eq!(&text[c.start..c.end], "Bolster vector machine");
    assert!(c.applied);
}

#[test]
fn the_article_before_a_restored_phrase_agrees_with_it() {
    // "irregular timberland" -> "random forest": "an" becomes "a".
    let text = "We trained an irregular timberland. An information foci set.\n";
    let r = restore(text);
    assert_eq!(r.text, "We trained a random forest. A data points set.\n");
    let c = r
        .changes
        .iter()
        .find(|c| c.relation == unspin::tortured::RELATION_ARTICLE)
        .expect("an article change");
    assert_eq!(&text[c.start..c.end], "an");
    // An article that already agrees is left alone.
    let text = "It is a bolster vector machine.\n";
    assert_eq!(restore(text).text, "It is a support vector machine.\n");
    assert!(restore(text)
        .changes
        .iter()
        .all(|c| c.relation != unspin::tortured::RELATION_ARTICLE));
}

#[test]
fn the_embedded_list_holds_both_halves() {
    let pm = unspin::models::embedded_phrases().unwrap();
    let (a, b) = pm.pairs().fold((0, 0), |(a, b), (_, _, h)| match h {
        Half::A => (a + 1, b),
        Half::B => (a, b + 1),
        Half::A1 | Half::A2 => panic!("a stored pair is in half A or half B"),
    });
    assert!(a > 3000 && b > 3000, "halves {a} and {b}");
    for (_, o, h) in pm.pairs() {
        assert_eq!(tortured::half_of(o), h);
    }
}

#[test]
fn a_half_left_out_of_the_listing_is_not_found_by_lookup() {
    let full = unspin::models::embedded_phrases().unwrap();
    let in_a: std::collections::HashSet<String> = full
        .pairs()
        .filter(|p| p.2 == Half::A)
        .map(|p| p.0.to_string())
        .collect();
    let only_b: Vec<String> = full
        .pairs()
        .filter(|p| p.2 == Half::B && !in_a.contains(p.0))
        .map(|p| p.0.to_string())
        .collect();
    assert!(only_b.len() > 1000);
    let listed_before = only_b.iter().filter(|t| full.listed(t).is_some()).count();
    let a_only = full.listing_only(&[Half::A]);
    assert!(listed_before > 1000, "{listed_before}");
    for t in &only_b {
        assert!(a_only.listed(t).is_none(), "{t} is still listed");
    }
}

#[test]
fn multi_word_wordnet_entries_may_stand_for_a_shorter_lemma_of_their_sense() {
    let phrases = unspin::models::embedded_phrases().unwrap();
    let originals =
        |run: &str| -> Vec<String> { phrases.chunk(run).iter().map(|(o, _)| o.clone()).collect() };
    // Each inflection maps to the same inflection of the shorter lemma.
    assert!(originals("carry out").contains(&"execute".to_string()));
    assert!(originals("carrying out").contains(&"executing".to_string()));
    assert!(originals("carries out").contains(&"executes".to_string()));
    // Never a longer one, and never a lemma no writer used (no sense-tagged count).
    assert!(originals("carry out").iter().all(|o| !o.contains(' ')));
    // Clean text using the entry as meant stays as it is.
    let text = "We are carrying out the experiments described in the following section.";
    assert_eq!(restore(text).text, text);
    let found = tortured::find_phrases(
        model().phrases().unwrap(),
        &model().lm,
        text,
        &unspin::token::tokenize(text),
        &tortured::PhraseOptions::default(),
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_term_with_many_tortured_forms_is_no_stronger_for_it() {
    // The list holds dozens of tortured forms of "artificial intelligence".
    // Its strength as a term counts the list once: a bonus per form (118
    // nats) let any span its words' synonyms spell ("simulated data") pass
    // the finder's threshold in clean text, whatever the language model said.
    let phrases = unspin::models::embedded_phrases().unwrap();
    let forms = phrases
        .pairs()
        .filter(|p| p.1 == "artificial intelligence")
        .count();
    assert!(forms > 10, "{forms} forms");
    let strength = phrases.term("artificial intelligence").unwrap();
    assert!(strength < 15.0, "strength {strength}");
}

#[test]
fn clean_sentences_come_back_unchanged() {
    for text in [
        "We trained a random forest and a support vector machine on the data.",
        "The standard deviation of the residuals is shown in the figure below.",
        "It took 34 runs of 200 docs.",
        "This program is free software: you can redistribute it and/or modify it.",
    ] {
        assert_eq!(restore(text).text, text);
    }
}

#[test]
fn the_report_follows_counts_and_density() {
    let m = |kind| tortured::PhraseMatch {
        start: 0,
        end: 1,
        spun: "x".into(),
        original: "y".into(),
        kind,
        score: 13.0,
    };
    let r = tortured::report(&[], 1000);
    assert_eq!(r.risk, tortured::Risk::None);
    let two = [m(PhraseKind::Listed), m(PhraseKind::Unlisted)];
    let r = tortured::report(&two, 1000);
    assert_eq!((r.count, r.listed, r.unlisted), (2, 1, 1));
    assert_eq!(r.risk, tortured::Risk::Low);
    assert_eq!(tortured::report(&two, 500).risk, tortured::Risk::High);
    let five = vec![m(PhraseKind::Listed); 5];
    assert_eq!(tortured::report(&five, 100_000).risk, tortured::Risk::High);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Whatever surrounds a listed phrase comes back byte for byte.
    #[test]
    fn bytes_outside_phrases_are_kept(
        before in "[ \\n\\t\u{feff}<b>a-z,.]{0,30}",
        after in "[ \\n\\t<>/a-z,.!]{0,30}",
    ) {
        let text = format!("{before} bolster vector machine {after}");
        let r = restore(&text);
        let mut at = 0;
        let mut rebuilt = String::new();
        for c in r.changes.iter().filter(|c| c.applied) {
            rebuilt.push_str(&text[at..c.start]);
            rebuilt.push_str(&c.original);
            at = c.end;
        }
        rebuilt.push_str(&text[at..]);
        prop_assert_eq!(&r.text, &rebuilt);
        for c in r.changes.iter().filter(|c| c.applied) {
            prop_assert_eq!(&text[c.start..c.end], c.spun.as_str());
        }
    }
}
