//! What spinners are known to do, shared by the simulators ([`crate::spinner`]),
//! the channel model ([`crate::lexicon`]), restore, the detector and the
//! fingerprints: how a spun word relates to its original, the news spinner's
//! phrase rewrites and the words it leaves alone, and the function words a
//! synonym spinner skips. Measured on real spinner output (`shared/spinner.md`).

use serde::{Deserialize, Serialize};

/// How a spun word relates to its original, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The sense-order rule's output.
    Rule,
    /// The rule applied twice ("new" → "fresh" → "caller").
    Chain,
    /// Another lemma of any sense, any part of speech.
    Synonym,
    /// A lemma of a similar-to (`&`) target of any sense.
    SimilarTo,
    /// A lemma of an also-see (`^`) target of any sense.
    AlsoSee,
    /// A lemma of a hypernym (`@`, `@i`) of any sense.
    Hypernym,
    /// A derivationally related (`+`) lemma.
    Derivation,
    /// A pertainym (`\`) lemma.
    Pertainym,
    /// A fixed phrase rewrite ("because" → "due to the fact that").
    Phrase,
    /// No WordNet relation: an unexpected replacement.
    Random,
}

impl Relation {
    /// Every relation, strongest first.
    pub const ALL: [Relation; 10] = [
        Relation::Rule,
        Relation::Chain,
        Relation::Synonym,
        Relation::SimilarTo,
        Relation::AlsoSee,
        Relation::Hypernym,
        Relation::Derivation,
        Relation::Pertainym,
        Relation::Phrase,
        Relation::Random,
    ];

    /// The snake_case name used in alignments and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Rule => "rule",
            Relation::Chain => "chain",
            Relation::Synonym => "synonym",
            Relation::SimilarTo => "similar_to",
            Relation::AlsoSee => "also_see",
            Relation::Hypernym => "hypernym",
            Relation::Derivation => "derivation",
            Relation::Pertainym => "pertainym",
            Relation::Phrase => "phrase",
            Relation::Random => "random",
        }
    }
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rewrites the news spinner applies outside WordNet: (original, spun). The
/// two-word original "is a" matches two bare tokens; the whitespace between
/// them is kept.
pub const PHRASE_REWRITES: &[(&str, &str)] = &[
    ("because", "due to the fact that"),
    ("is a", "is simply a"),
    ("where", "wherever"),
    ("how", "however"),
    ("something", "thing"),
];

/// Common WordNet words the news spinner was seen never to change.
pub const NEVER_CHANGED: &[&str] = &["a", "by", "not", "it", "up", "are", "but", "who"];

/// Function words the `synonym` profile never touches.
pub const SYNONYM_STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "could", "did", "do", "does", "doing", "down", "during", "each", "even", "ever", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "may", "me", "might", "more",
    "most", "much", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "one",
    "only", "or", "other", "our", "out", "over", "own", "same", "shall", "she", "should", "so",
    "some", "still", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "us", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
    "with", "would", "yet", "you", "your",
];
