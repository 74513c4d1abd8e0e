//! Property tests of trace fingerprints (issue 7): any text gives well-formed
//! passages and fingerprints; the news spinner never changes the immutable
//! stream's fingerprints; a paragraph fingerprints alike alone and in its
//! article.

use std::sync::OnceLock;

use proptest::prelude::*;
use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter};
use unspin::spinner::Spinner;
use unspin::wordnet::WordNet;

fn wordnet() -> &'static WordNet {
    static WN: OnceLock<WordNet> = OnceLock::new();
    WN.get_or_init(|| unspin::models::embedded_wordnet().expect("embedded WordNet"))
}

fn fingerprinter() -> &'static Fingerprinter {
    static FP: OnceLock<Fingerprinter> = OnceLock::new();
    FP.get_or_init(|| {
        Fingerprinter::new(
            FingerprintConfig {
                // Keep every shingle: the properties then cover all of them.
                immutable_sample_bits: 0,
                word_sample_bits: 0,
                ..FingerprintConfig::default()
            },
            unspin::fingerprint::MutableWords::from_wordnet(wordnet()),
        )
    })
}

/// Words the news spinner rewrites, function words, capitalized and
/// inflected words, numbers, marks, the phrase-rewrite words, and odd bytes.
const VOCAB: &[&str] = &[
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
    "in",
    "at",
    "may",
    "can",
    "because",
    "where",
    "how",
    "something",
    "is",
    "a",
    "soldiers",
    "agreed",
    "talks",
    "war",
    "peace",
    "big",
    "large",
    "person",
    "The",
    "He",
    "It",
    "1,200",
    "3rd",
    "42",
    "conflict.",
    "all,",
    "“new",
    "end”",
    "(see",
    "here)",
    "don't",
    "well-known",
    "U.S.",
    "e.g.",
    "café",
    "naïve",
    "—",
    "…",
    "-",
    "'",
    "due",
    "to",
    "fact",
    "that",
];

const SPACES: &[&str] = &[" ", " ", " ", "  ", "\n", "\n\n", "\t", "\u{a0}", " \n \n"];

fn text_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec((0..VOCAB.len(), 0..SPACES.len()), 0..120).prop_map(|v| {
        let mut s = String::new();
        for (w, sp) in v {
            s.push_str(VOCAB[w]);
            s.push_str(SPACES[sp]);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_gives_well_formed_fingerprints(text in text_strategy()) {
        let fp = fingerprinter().fingerprint(&text, Channels::ALL);
        let mut last_end = 0;
        for p in &fp.passages {
            prop_assert!(p.start >= last_end && p.start < p.end && p.end <= text.len());
            prop_assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end));
            prop_assert!(!text[p.start..p.end].trim().is_empty());
            last_end = p.end;
        }
        for f in &fp.features {
            prop_assert!((f.passage as usize) < fp.passages.len());
        }
        // Deterministic.
        prop_assert_eq!(&fp, &fingerprinter().fingerprint(&text, Channels::ALL));
        // Passages alone are the same passages.
        prop_assert_eq!(&fp.passages, &fingerprinter().passages(&text));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = fingerprinter().fingerprint(&text, Channels::ALL);
    }

    #[test]
    fn news_spinning_keeps_the_immutable_fingerprints(text in text_strategy(), seed in 0u64..50) {
        let spun = Spinner::news(wordnet(), seed).spin(&text).text;
        let f = fingerprinter();
        let mut a: Vec<u64> = f.fingerprint(&text, Channels::IMMUTABLE).features.iter().map(|x| x.hash).collect();
        let mut b: Vec<u64> = f.fingerprint(&spun, Channels::IMMUTABLE).features.iter().map(|x| x.hash).collect();
        a.sort_unstable();
        b.sort_unstable();
        prop_assert_eq!(a, b, "spun: {:?}", spun);
    }

    #[test]
    fn a_paragraph_alone_fingerprints_as_in_its_article(
        paras in prop::collection::vec(prop::collection::vec(0..VOCAB.len(), 1..40), 1..5),
        pick in 0usize..5,
    ) {
        let paras: Vec<String> = paras
            .iter()
            .map(|p| p.iter().map(|&w| VOCAB[w]).collect::<Vec<_>>().join(" "))
            .collect();
        let article = paras.join("\n\n");
        let k = pick % paras.len();
        let f = fingerprinter();
        let whole = f.fingerprint(&article, Channels::ALL);
        // The k-th non-blank paragraph of the article.
        let nonblank: Vec<usize> = (0..paras.len()).filter(|&i| !paras[i].trim().is_empty()).collect();
        prop_assume!(nonblank.contains(&k));
        let index = nonblank.iter().position(|&i| i == k).unwrap() as u32;
        let mut inside: Vec<u64> = whole.features.iter().filter(|x| x.passage == index).map(|x| x.hash).collect();
        let mut alone: Vec<u64> = f.fingerprint(&paras[k], Channels::ALL).features.iter().map(|x| x.hash).collect();
        inside.sort_unstable();
        alone.sort_unstable();
        prop_assert_eq!(alone, inside);
    }
}
