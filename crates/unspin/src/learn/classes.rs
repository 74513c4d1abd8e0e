//! Which classes of tokens a spinner touches, estimated from its output.
//!
//! Spinners differ in what they leave alone: the news spinner replaces only
//! bare lowercase words, while phrase thesauri also rewrite capitalized
//! words and words touching punctuation. A spinner decides per word type, so
//! for each pair the profile asserts (written `w` for original `o`), the
//! share of `w` among the occurrences of `w` and `o` shows how often the
//! spinner rewrote `o`. Measured apart for bare lowercase words, capitalized
//! words and punctuation-attached words, the ratio of a class's share to
//! the lowercase share is how much the spinner touches that class: near 1
//! when it rewrites the class as often as plain words, near 0 when the
//! originals stand untouched there.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::token::{tokenize, TokenKind};

/// Occurrences a class needs before its rate is estimated (below it, the
/// class counts as untouched: no evidence).
pub const MIN_CLASS_EVIDENCE: f32 = 20.0;

/// Pairs whose written word is at least this share of the two words in
/// ordinary English (unigram odds) are left out of the estimate: a word
/// that common occurs in every class on its own, and a wrong pair
/// ("committee" for "commission") would show every class as touched.
pub const MAX_NATURAL_SHARE: f32 = 0.1;

/// How much a spinner touches one class of tokens.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassRate {
    /// Occurrences in the class of the written words of the asserted pairs
    /// (digits: bare single digits).
    pub written: f32,
    /// Occurrences in the class of their originals (digits: bare number
    /// words one to nine).
    pub original: f32,
    /// How far the class's written occurrences rise over the pairs'
    /// natural shares (digits: the bare single digits).
    pub rise: f32,
    /// The rise a class touched as often as bare lowercase words would
    /// show (digits: every small number).
    pub full: f32,
    /// The estimate, `rise / full` in [0, 1]: how often the spinner
    /// rewrites the class, relative to bare lowercase words (digits: the
    /// share of small numbers written as digits); 0 with fewer than
    /// [`MIN_CLASS_EVIDENCE`] occurrences.
    pub touched: f32,
}

impl ClassRate {
    /// Sets `touched` from the counts.
    fn estimate(&mut self) {
        self.touched = if self.written + self.original >= MIN_CLASS_EVIDENCE && self.full > 0.0 {
            (self.rise / self.full).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }

    fn merge(&mut self, o: &ClassRate) {
        self.written += o.written;
        self.original += o.original;
        self.rise += o.rise;
        self.full += o.full;
        self.estimate();
    }
}

/// What [`super::learn`] estimated about the classes of tokens its spinner
/// touches. Restore opens capitalized and punctuation-attached words to a
/// learned spinner's pairs when their rate is at least
/// [`TokenClasses::OPEN_AT`]; the function-word and digit rates are
/// reported (digits are decided per text, see [`crate::numbers::DigitEvidence`]).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TokenClasses {
    /// Bare lowercase words: the reference share.
    pub plain: ClassRate,
    /// Capitalized words ("Helium" for "He").
    pub capitalized: ClassRate,
    /// Words touching punctuation ("helium," for "he,").
    pub attached: ClassRate,
    /// Function words as originals ("of", "the").
    pub function_words: ClassRate,
    /// Digits written for number words ("2" for "two").
    pub digits: ClassRate,
}

impl TokenClasses {
    /// The rate at which a class is opened to the learned pairs.
    pub const OPEN_AT: f32 = 0.5;

    /// Whether restore should rewrite capitalized words the spinner wrote.
    pub fn opens_capitalized(&self) -> bool {
        self.capitalized.touched >= Self::OPEN_AT
    }

    /// Whether restore should rewrite punctuation-attached words the spinner wrote.
    pub fn opens_attached(&self) -> bool {
        self.attached.touched >= Self::OPEN_AT
    }

    /// Adds the counts of `other` (pages of the same source learned apart)
    /// and estimates the rates of the pooled counts.
    pub fn merge(&mut self, other: &TokenClasses) {
        self.plain.merge(&other.plain);
        self.capitalized.merge(&other.capitalized);
        self.attached.merge(&other.attached);
        self.function_words.merge(&other.function_words);
        self.digits.merge(&other.digits);
    }
}

/// Counts the classes over the pages, for the pairs a profile asserts.
///
/// A written word of a wrong pair ("committee") is an ordinary word that
/// occurs in every class, so each pair's share is measured against its
/// natural share (the language model's unigram odds of the written word
/// against the original): a class's rate is how far its shares rise above
/// the natural ones, as a fraction of how far the lowercase shares do.
pub(super) struct ClassCounter {
    /// Word -> (pair, whether it is the pair's written word).
    roles: FxHashMap<String, Vec<(u32, bool)>>,
    /// Per pair: natural share, whether the original is a function word,
    /// and (written, original) occurrences per class (plain, capitalized, attached).
    pairs: Vec<PairCounts>,
    digits: ClassRate,
    lower: String,
}

#[derive(Clone, Copy, Default)]
struct PairCounts {
    natural: f32,
    function_word: bool,
    /// [plain, capitalized, attached] x [written, original].
    n: [[f32; 2]; 3],
}

impl ClassCounter {
    /// For the asserted (written, original) pairs, with `lm` for their natural shares.
    pub(super) fn new(pairs: &[(String, String)], lm: &crate::lm::LanguageModel) -> Self {
        let unigram = |w: &str| lm.id(w).map_or(-7.0, |id| lm.log10_unigram(id));
        let mut roles: FxHashMap<String, Vec<(u32, bool)>> = FxHashMap::default();
        let mut counts = Vec::with_capacity(pairs.len());
        for (k, (w, o)) in pairs.iter().enumerate() {
            let odds = 10f32.powf(unigram(w) - unigram(o));
            counts.push(PairCounts {
                natural: odds / (1.0 + odds),
                function_word: crate::spinner::SYNONYM_STOPWORDS.contains(&o.as_str()),
                n: [[0.0; 2]; 3],
            });
            roles.entry(w.clone()).or_default().push((k as u32, true));
            roles.entry(o.clone()).or_default().push((k as u32, false));
        }
        Self {
            roles,
            pairs: counts,
            digits: ClassRate::default(),
            lower: String::new(),
        }
    }

    pub(super) fn add_text(&mut self, text: &str) {
        for t in tokenize(text) {
            let w = t.text(text);
            if t.bare && t.kind == TokenKind::Number {
                if w.len() == 1 && matches!(w.as_bytes()[0], b'1'..=b'9') {
                    self.digits.written += 1.0;
                }
                continue;
            }
            if t.kind != TokenKind::Word {
                continue;
            }
            if t.bare && crate::numbers::SPELLED_DIGITS.contains(&w) {
                self.digits.original += 1.0;
            }
            let mut chars = w.chars();
            let first_upper = chars.next().is_some_and(char::is_uppercase);
            let rest_lower = chars.all(|c| !c.is_uppercase());
            let class = match (t.bare, first_upper, rest_lower) {
                (true, false, true) => 0,
                (true, true, true) => 1,
                (false, false, true) => 2,
                _ => continue,
            };
            self.lower.clear();
            self.lower.extend(w.chars().flat_map(char::to_lowercase));
            if let Some(roles) = self.roles.get(&self.lower) {
                for &(k, written) in roles {
                    self.pairs[k as usize].n[class][usize::from(!written)] += 1.0;
                }
            }
        }
    }

    pub(super) fn finish(self) -> TokenClasses {
        let share = |n: [f32; 2]| {
            let total = n[0] + n[1];
            (total > 0.0).then(|| n[0] / total)
        };
        // Each class's counts, and its rise over the natural shares against
        // the rise a class touched like lowercase words would show.
        let rate = |class: usize, pick: &dyn Fn(&PairCounts) -> bool, reference: Option<f32>| {
            let mut r = ClassRate::default();
            for p in self
                .pairs
                .iter()
                .filter(|p| pick(p) && p.natural <= MAX_NATURAL_SHARE)
            {
                let [w, o] = p.n[class];
                r.written += w;
                r.original += o;
                let Some(lower) = reference.or_else(|| share(p.n[0])) else {
                    continue;
                };
                if lower > p.natural {
                    r.rise += w - (w + o) * p.natural;
                    r.full += (w + o) * (lower - p.natural);
                }
            }
            r.estimate();
            r
        };
        let all = |_: &PairCounts| true;
        let mut plain = rate(0, &all, None);
        // The reference class is touched by definition.
        (plain.rise, plain.full) = (1.0, 1.0);
        plain.estimate();
        // Function words against the lowercase share of the other pairs.
        let content = |p: &PairCounts| !p.function_word;
        let content_share = share(
            self.pairs
                .iter()
                .filter(|p| content(p))
                .fold([0.0; 2], |a, p| [a[0] + p.n[0][0], a[1] + p.n[0][1]]),
        );
        let mut digits = self.digits;
        (digits.rise, digits.full) = (digits.written, digits.written + digits.original);
        digits.estimate();
        TokenClasses {
            plain,
            capitalized: rate(1, &all, None),
            attached: rate(2, &all, None),
            function_words: rate(0, &|p: &PairCounts| p.function_word, content_share),
            digits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(pairs: &[(&str, &str)], text: &str) -> TokenClasses {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(w, o)| (w.to_string(), o.to_string()))
            .collect();
        let lm = crate::models::embedded_lm().unwrap();
        let mut c = ClassCounter::new(&pairs, &lm);
        c.add_text(text);
        c.finish()
    }

    #[test]
    fn a_spinner_that_leaves_capitals_alone_is_told_from_one_that_does_not() {
        // "he" -> "helium" everywhere lowercase; sentence starts keep "He".
        let untouched = "He said it. helium said it. ".repeat(30);
        let c = classes(&[("helium", "he")], &untouched);
        assert_eq!(c.plain.touched, 1.0);
        assert!(c.capitalized.touched < 0.05, "{c:?}");
        assert!(!c.opens_capitalized());
        let touched = "Helium said it. helium said it, helium. ".repeat(30);
        let c = classes(&[("helium", "he")], &touched);
        assert!(c.capitalized.touched > 0.95, "{c:?}");
        assert!(c.opens_capitalized() && c.opens_attached());
        // "he" is a function word: the spinner rewrites those too.
        assert!(c.function_words.touched > 0.95, "{c:?}");
    }

    #[test]
    fn common_written_words_and_thin_evidence_open_nothing() {
        // A wrong pair of two ordinary words: "committee" occurs in every
        // class on its own.
        let text =
            "The committee met. Committee members said so, and the committee agreed. ".repeat(20);
        let c = classes(&[("committee", "commission")], &text);
        assert!(!c.opens_capitalized() && !c.opens_attached(), "{c:?}");
        let c = classes(&[("helium", "he")], "Helium said it. helium said it.");
        assert!(!c.opens_capitalized(), "{c:?}");
    }

    #[test]
    fn merging_pools_the_counts() {
        let open = classes(
            &[("helium", "he")],
            &"Helium said. helium said. ".repeat(30),
        );
        let closed = classes(&[("helium", "he")], &"He said. helium said. ".repeat(90));
        let mut m = open;
        m.merge(&closed);
        assert_eq!(m.capitalized.written + m.capitalized.original, 120.0);
        assert!((m.capitalized.touched - 0.25).abs() < 0.05, "{m:?}");
        // Two halves each under the evidence needed add up to enough.
        let half = classes(
            &[("helium", "he")],
            &"Helium said. helium said. ".repeat(12),
        );
        assert_eq!(half.capitalized.touched, 0.0);
        let mut both = half;
        both.merge(&half);
        assert!(both.capitalized.touched > 0.95, "{both:?}");
    }
}
