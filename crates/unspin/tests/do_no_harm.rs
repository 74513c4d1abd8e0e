//! "Do no harm" properties on the embedded default model: numbers are never
//! rewritten in either direction unless the text shows a spinner that writes
//! digits, no applied change is less likely than keeping the word, and short
//! clean sentences come back as they went in.
use proptest::prelude::*;
use unspin::numbers::{has_digit, is_number, is_roman};
use unspin::restore::{Options, Restoration, Restorer};

mod common;
use common::model;

fn restore(text: &str) -> Restoration {
    Restorer::new(model(), Options::default()).restore_document(text)
}

/// Numbers in every spelling, spun words of the news spinner, and clean words.
const WORDS: &[&str] = &[
    "34",
    "200",
    "2",
    "7",
    "10",
    "11",
    "1st",
    "3.5",
    "60",
    "xxxiv",
    "XXXIV",
    "ii",
    "iv",
    "mcmxc",
    "sixty",
    "thirty-four",
    "Sixty",
    "hundred",
    "third",
    "two",
    "helium",
    "arsenic",
    "beryllium",
    "connected",
    "caller",
    "astatine",
    "whitethorn",
    "successful",
    "said",
    "the",
    "new",
    "rules",
    "would",
    "be",
    "published",
    "on",
    "Monday",
    "as",
    "planned",
    "runs",
    "of",
    "docs",
    "Windows",
    "devices",
];

/// Separators, including markup, odd whitespace and a byte-order mark.
const SEPS: &[&str] = &[
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    ". ",
    ", ",
    "\u{a0}",
    "\u{2009}",
    " <b>",
    "</b> ",
    " <!-- x --> ",
    "\r\n",
];

fn text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(
            (prop::sample::select(WORDS), prop::sample::select(SEPS)),
            1..60,
        ),
    )
        .prop_map(|(bom, parts)| {
            let mut s = String::new();
            if bom {
                s.push('\u{feff}');
            }
            for (w, sep) in parts {
                s.push_str(w);
                s.push_str(sep);
            }
            s
        })
}

/// Every applied change is more likely than keeping the word, and the
/// output is the input with exactly the applied changes.
fn check_keep_beats_nothing(input: &str, r: &Restoration) -> Result<(), TestCaseError> {
    for c in r.changes.iter().filter(|c| c.applied) {
        let keep = c
            .alternatives
            .iter()
            .find(|a| a.text == c.spun)
            .map_or(0.0, |a| a.prob);
        prop_assert!(
            c.confidence > keep,
            "{:?} -> {:?} applied at {} though keeping it has {}",
            c.spun,
            c.original,
            c.confidence,
            keep
        );
    }
    prop_assert_eq!(&r.text, &unspin::restore::apply(input, &r.changes));
    Ok(())
}

/// No number in any spelling is rewritten, and no digit or roman numeral is
/// written for a word.
fn check_numbers(r: &Restoration) -> Result<(), TestCaseError> {
    for c in r.changes.iter().filter(|c| c.applied) {
        prop_assert!(
            !is_number(&c.spun),
            "number {:?} rewritten as {:?}",
            c.spun,
            c.original
        );
        prop_assert!(
            !has_digit(&c.original) && !c.original.split_whitespace().any(is_roman),
            "{:?} rewritten as the numeral {:?}",
            c.spun,
            c.original
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_change_is_less_likely_than_keeping(s in text()) {
        let r = restore(&s);
        check_keep_beats_nothing(&s, &r)?;
    }

    /// A text with every spelled-out one..nine shows that its spinner (if
    /// any) turns none of them into digits, so no number changes.
    #[test]
    fn numbers_never_change_without_evidence(s in text()) {
        let s = format!("{s} one two three four five six seven eight nine");
        let r = restore(&s);
        check_numbers(&r)?;
    }

    /// Even in text that looks spun by a digit-writing spinner, only single
    /// digits may go back to their own number word.
    #[test]
    fn only_single_digits_go_back_to_their_word(s in text()) {
        let r = restore(&s);
        for c in r.changes.iter().filter(|c| c.applied) {
            if is_number(&c.spun) {
                prop_assert!(
                    unspin::numbers::restorable_digit(&c.spun, &c.original),
                    "{:?} -> {:?}", c.spun, c.original
                );
            } else {
                prop_assert!(!has_digit(&c.original) && !c.original.split_whitespace().any(is_roman));
            }
        }
    }
}

/// Each text comes back byte for byte.
fn assert_unchanged(texts: &[&str]) {
    for s in texts {
        let r = restore(s);
        assert_eq!(&r.text, s, "{:?}", r.changes);
    }
}

#[test]
fn numbers_in_clean_text_stay() {
    assert_unchanged(&[
        "It took 34 runs of 200 docs.",
        "It took 34 runs of 200 docs and 2 of them failed.",
        "Install it on Windows 10 and 11 devices.",
        "See chapter xxxiv, and the sixty pages after it.",
    ]);
}

#[test]
fn short_clean_sentences_stay() {
    assert_unchanged(&[
        "this is clean text.",
        "\u{feff}this is clean text.",
        "The covered work is licensed under these terms.",
    ]);
}

#[test]
fn spun_sentences_are_still_restored() {
    let r = restore(
        "helium said the caller rules would beryllium published connected Monday, arsenic planned.",
    );
    assert_eq!(
        r.text,
        "he said the new rules would be published on Monday, as planned."
    );
}
