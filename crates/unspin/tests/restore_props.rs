//! Property tests of restoration on the embedded default model (issue 2,
//! items 2 and 7): whatever the input, the restorer only rewrites the spans it
//! reports, its spans are well formed, and with nothing applied the input
//! comes back byte for byte.
use proptest::prelude::*;
use unspin::input::CHUNK_BYTES;
use unspin::restore::{Options, Restoration, Restorer};

mod common;
use common::{model, model_with_wordnet};

fn restore(text: &str, min_confidence: f32) -> Restoration {
    let opts = Options {
        min_confidence,
        ..Options::default()
    };
    Restorer::new(model(), opts).restore(text)
}

/// Spun words the news spinner writes, phrase rewrites, clean words,
/// capitalized and upper-case forms, numbers, URLs, markup, punctuation
/// (straight and curly) and every kind of whitespace.
const VOCAB: &[&str] = &[
    // spun forms
    "helium",
    "arsenic",
    "beryllium",
    "connected",
    "caller",
    "fresh",
    "successful",
    "volition",
    "proper",
    "springtime",
    "reappraisal",
    "commission",
    "astatine",
    "whitethorn",
    "tin",
    "oregon",
    "each",
    "nary",
    "person",
    "large",
    "thing",
    "much",
    "look",
    "system",
    "acold",
    "conscionable",
    "frankincense",
    "driblet",
    "springiness",
    "2",
    "ne'er",
    // phrase rewrites as the spinner writes them
    "due to the fact that",
    "simply a",
    "wherever",
    "however",
    // clean words and other shapes
    "he",
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
    "Successful",
    "Helium",
    "HELIUM",
    "don't",
    "helium's",
    "well-known",
    "co-op",
    "1,200.50",
    "3rd",
    "é",
    "e\u{301}",
    "\u{301}",
    "naïve",
    "Ωmega",
    "日本",
    "🙂",
    // addresses and markup
    "http://example.com/a_(b)",
    "www.ex.org",
    "me@ex.org",
    "<b>",
    "</b>",
    "<a href=\"x>y\">",
    "<!-- helium -->",
    "<script>",
    "</script>",
    "<style>",
    "</style>",
    "`",
    "```",
    "*",
    "_",
    "#",
    "> ",
    "- ",
    "[",
    "](",
    ")",
    // punctuation
    ".",
    ",",
    "!",
    "?",
    ";",
    ":",
    "\"",
    "'",
    "’",
    "“",
    "”",
    "(",
    "—",
    "…",
    "-",
    "/",
    "&",
    "<",
    // whitespace
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\u{a0}",
    "\u{2028}",
];

fn vocab_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCAB), 0..80).prop_map(|v| v.concat())
}

/// Mostly spun words separated by single spaces, so that many changes apply.
fn spun_sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(
            &[
                "helium",
                "arsenic",
                "beryllium",
                "connected",
                "caller",
                "said",
                "the",
                "rules",
                "Monday",
                "planned",
                "successful",
                "volition",
                "due to the fact that",
            ][..],
        ),
        1..60,
    )
    .prop_map(|v| v.join(" ") + ".")
}

/// (c) changes are sorted, disjoint, on character boundaries, and `spun` is
/// the input slice; alternatives and confidences are probabilities.
fn check_changes(input: &str, r: &Restoration) -> Result<(), TestCaseError> {
    let mut at = 0;
    for c in &r.changes {
        prop_assert!(
            c.start >= at,
            "changes overlap or are unsorted: {:?}",
            r.changes
        );
        prop_assert!(
            c.start < c.end && c.end <= input.len(),
            "bad span {}..{}",
            c.start,
            c.end
        );
        prop_assert!(input.is_char_boundary(c.start) && input.is_char_boundary(c.end));
        prop_assert_eq!(&input[c.start..c.end], c.spun.as_str());
        prop_assert!(
            c.original != c.spun,
            "a change that changes nothing: {:?}",
            c
        );
        prop_assert!(
            (0.0..=1.0 + 1e-5).contains(&c.confidence),
            "confidence {}",
            c.confidence
        );
        prop_assert!(!c.alternatives.is_empty());
        prop_assert_eq!(&c.alternatives[0].text, &c.original);
        for a in &c.alternatives {
            prop_assert!(
                (0.0..=1.0 + 1e-5).contains(&a.prob),
                "probability {}",
                a.prob
            );
        }
        at = c.end;
    }
    for s in &r.sections {
        prop_assert!(s.start <= s.end && s.end <= input.len());
        prop_assert!((0.0..=1.0).contains(&s.spun_prob));
    }
    Ok(())
}

/// (a) the output equals the input outside the applied spans, byte for byte,
/// and holds each applied change's original inside them.
fn check_only_changes_differ(input: &str, r: &Restoration) -> Result<(), TestCaseError> {
    r.check_passthrough(input).map_err(TestCaseError::fail)
}

/// No applied change touches markup, code, a URL or an e-mail address of
/// the whole input (as the tokenizer sees it), however the text was cut.
fn check_markup_untouched(input: &str, r: &Restoration) -> Result<(), TestCaseError> {
    let opaque: Vec<(usize, usize)> = unspin::token::tokenize(input)
        .iter()
        .filter(|t| t.kind.is_opaque())
        .map(|t| (t.start, t.end))
        .collect();
    for c in r.changes.iter().filter(|c| c.applied) {
        let k = opaque.partition_point(|&(_, end)| end <= c.start);
        if let Some(&(s, e)) = opaque.get(k) {
            prop_assert!(
                s >= c.end,
                "change {:?} inside markup {:?}",
                c,
                input[s..e].chars().take(60).collect::<String>()
            );
        }
    }
    Ok(())
}

fn check_all(input: &str) -> Result<(), TestCaseError> {
    let r = restore(input, 0.0);
    check_changes(input, &r)?;
    check_only_changes_differ(input, &r)?;
    check_markup_untouched(input, &r)?;
    let words = unspin::token::tokenize(input)
        .iter()
        .filter(|t| t.kind == unspin::token::TokenKind::Word)
        .count();
    prop_assert_eq!(r.words, words);

    // (b) nothing applied: the input comes back exactly.
    let none = restore(input, 1.5);
    prop_assert_eq!(none.text.as_str(), input);
    prop_assert!(none.changes.iter().all(|c| !c.applied));
    check_changes(input, &none)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_unicode(s in any::<String>()) {
        check_all(&s)?;
    }

    #[test]
    fn printable_unicode(s in "\\PC{0,300}") {
        check_all(&s)?;
    }

    #[test]
    fn spun_words_markup_and_whitespace(s in vocab_text()) {
        check_all(&s)?;
    }

    #[test]
    fn spun_sentences_get_changed_in_place(s in spun_sentence()) {
        check_all(&s)?;
        // Every applied change is a bare lowercase word or phrase of the input.
        let r = restore(&s, 0.0);
        for c in r.changes.iter().filter(|c| c.applied) {
            prop_assert!(c.spun.bytes().all(|b| b.is_ascii_lowercase() || b == b' '), "{:?}", c);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Texts longer than one piece go through `restore_document`, which cuts
    /// them at safe points: the properties hold for the joined result.
    #[test]
    fn long_documents_hold_the_same_properties(s in vocab_text().prop_filter("non-empty", |s| !s.is_empty())) {
        let reps = CHUNK_BYTES * 5 / 4 / s.len() + 1;
        let text = s.repeat(reps);
        let r = Restorer::new(model(), Options::default()).restore_document(&text);
        check_changes(&text, &r)?;
        check_only_changes_differ(&text, &r)?;
        check_markup_untouched(&text, &r)?;
        let none = Restorer::new(model(), Options { min_confidence: 1.5, ..Options::default() }).restore_document(&text);
        prop_assert!(none.text == text, "nothing applied, yet the text changed");
    }
}

#[test]
fn long_document_restores_every_piece() {
    let unit = "helium said the caller rules would beryllium published connected Monday, arsenic planned. ";
    let want = "he said the new rules would be published on Monday, as planned. ";
    let reps = CHUNK_BYTES * 3 / unit.len();
    for sep in ["", "\n"] {
        let text = format!("{unit}{sep}").repeat(reps);
        let r = Restorer::new(model(), Options::default()).restore_document(&text);
        check_changes(&text, &r).unwrap();
        check_only_changes_differ(&text, &r).unwrap();
        assert_eq!(r.text, format!("{want}{sep}").repeat(reps));
        assert!(r.sections.windows(2).all(|w| w[0].end <= w[1].start));
    }
}

#[test]
fn readme_example_on_the_library() {
    let input =
        "helium said the caller rules would beryllium published connected Monday, arsenic planned.";
    let r = restore(input, 0.0);
    assert_eq!(
        r.text,
        "he said the new rules would be published on Monday, as planned."
    );
    let spun: Vec<&str> = r
        .changes
        .iter()
        .filter(|c| c.applied)
        .map(|c| c.spun.as_str())
        .collect();
    assert_eq!(
        spun,
        ["helium", "caller", "beryllium", "connected", "arsenic"]
    );
    assert_eq!(restore(input, 1.5).text, input);
}

#[test]
fn edge_inputs() {
    for input in [
        "",
        " ",
        "\n",
        "helium",
        "helium.",
        ".helium",
        "\u{feff}helium said",
        "a\0b helium said",
        "<",
        "`",
        "```",
        "<!--",
        "http://",
        "\u{300}",
        "me@ex.orge\u{301}<b>",
        "\u{301}12 helium said",
    ] {
        check_all(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    }
}

/// A reader that hands out at most `step` bytes per call, like a pipe.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

const BYTE_UNITS: &[&[u8]] = &[
    b"helium ",
    b"said",
    b". ",
    b"\n",
    b"\xc3\xa9",
    b"\xe2\x80\x9c",
    b"\xf0\x9f\x99\x82",
    b"x",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Streaming a text in chunks gives the same answer as checking it whole:
    /// the same bytes when valid, the same error (and offset) when not.
    #[test]
    fn chunked_reading_matches_whole_checking(
        unit in prop::collection::vec(prop::sample::select(BYTE_UNITS), 1..12),
        reps in 1usize..3,
        corrupt in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(&[0u8, 0xff, 0x80, 0xc3, 0xe2, 0xf0][..]))),
        step in prop::sample::select(&[1usize << 20, 65_536, 4_093][..]),
    ) {
        let unit: Vec<u8> = unit.concat();
        let target = unspin::input::CHUNK_BYTES * reps + 17;
        let mut bytes = unit.repeat(target / unit.len() + 1);
        if let Some((at, b)) = corrupt {
            let k = at.index(bytes.len());
            bytes[k] = b;
        }
        let whole = unspin::input::check_text(&bytes, "t").map(str::to_owned).map_err(|e| e.to_string());
        let mut reader = unspin::input::ChunkReader::new(Trickle { data: &bytes, step }, "t");
        let mut joined = String::new();
        let streamed = loop {
            match reader.next_chunk() {
                Ok(Some((off, piece))) => {
                    prop_assert_eq!(off as usize, joined.len());
                    joined.push_str(&piece);
                }
                Ok(None) => break Ok(joined),
                Err(e) => break Err(e.to_string()),
            }
        };
        prop_assert_eq!(streamed, whole);
    }
}

/// A context scorer that always prefers replacing a word, so that the synonym
/// sweep of `--quality best` changes every word it is allowed to.
struct PrefersChange;

impl unspin::rescore::ContextScorer for PrefersChange {
    fn score(
        &self,
        _: &str,
        queries: &[unspin::rescore::ContextQuery],
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        Ok(queries
            .iter()
            .map(|q| {
                (0..q.candidates.len())
                    .map(|j| if j == q.base { -40.0 } else { 0.0 })
                    .collect()
            })
            .collect())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The sweep, pushed to change all it can, still only rewrites the words
    /// it reports, never markup, and keeps every other byte.
    #[test]
    fn the_synonym_sweep_only_rewrites_what_it_reports(
        text in prop_oneof![vocab_text(), spun_sentence()],
    ) {
        let opts = Options {
            sweep: unspin::sweep::SweepOptions {
                min_rate: 0.0,
                threshold: 0.5,
                ..Default::default()
            },
            ..Options::default()
        };
        let r = Restorer::new(model_with_wordnet(), opts)
            .restore_document_best(&text, &PrefersChange)
            .unwrap();
        check_changes(&text, &r)?;
        check_only_changes_differ(&text, &r)?;
        check_markup_untouched(&text, &r)?;
    }
}
