//! The `tortured` spinner profile: a paper mill's paraphraser simulated
//! from a phrase table.
//!
//! Every occurrence of a term of the table (longest match first, in word
//! runs that punctuation does not cut) is replaced, with probability `rate`,
//! by one of the term's tortured forms, cased like the term; everything else
//! stays byte for byte. Pairs that only swap one word for one word are left
//! out: they are a synonym spinner's work, not a term taken apart. Choices
//! are a seeded hash of the term and its occurrence, so a run is
//! reproducible. The density that results is the text's density of terms
//! times `rate`: a few per thousand words in scientific prose.

use rustc_hash::FxHashMap;

use super::list::MAX_PHRASE_WORDS;
use crate::hash::seeded_hash;
use crate::restore::match_case;
use crate::spinner::{AlignedChange, Spun};
use crate::token::{tokenize, TokenKind};

/// The profile name written into alignments.
pub const PROFILE: &str = "tortured";

/// A tortured-phrase spinner over a table of (tortured, original) pairs.
pub struct PhraseSpinner {
    /// Original term → its tortured forms.
    forms: FxHashMap<String, Vec<String>>,
    max_words: usize,
    rate: f64,
    seed: u64,
}

impl PhraseSpinner {
    /// A spinner replacing each term occurrence with probability `rate`.
    pub fn new<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, rate: f64, seed: u64) -> Self {
        let mut forms: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut max_words = 0;
        for (t, o) in pairs {
            if !t.contains(' ') && !o.contains(' ') {
                continue;
            }
            let list = forms.entry(o.to_string()).or_default();
            if !list.iter().any(|x| x == t) {
                list.push(t.to_string());
            }
            max_words = max_words.max(o.split(' ').count());
        }
        PhraseSpinner {
            forms,
            max_words: max_words.min(MAX_PHRASE_WORDS),
            rate,
            seed,
        }
    }

    /// Number of terms the spinner knows.
    pub fn terms(&self) -> usize {
        self.forms.len()
    }

    /// Spins `text`.
    pub fn spin(&self, text: &str) -> Spun {
        let tokens = tokenize(text);
        // Words with their byte spans; `joined` links a word to the next
        // through whitespace only.
        let mut words: Vec<(usize, usize, String, bool)> = Vec::new();
        let mut open = false;
        for t in &tokens {
            let s = t.text(text);
            match t.kind {
                TokenKind::Word => {
                    if let Some(prev) = words.last_mut() {
                        prev.3 = open;
                    }
                    words.push((t.start, t.end, s.to_lowercase(), false));
                    open = true;
                }
                TokenKind::Space if !s.contains('\n') => {}
                _ => open = false,
            }
        }
        let mut out = String::with_capacity(text.len() + text.len() / 16);
        let mut changes = Vec::new();
        let mut at = 0;
        let mut occurrence: FxHashMap<&str, u64> = FxHashMap::default();
        let mut i = 0;
        while i < words.len() {
            let mut run = 1;
            while run < self.max_words && words[i + run - 1].3 && i + run < words.len() {
                run += 1;
            }
            let mut matched = None;
            for n in (1..=run).rev() {
                let key: Vec<&str> = words[i..i + n].iter().map(|w| w.2.as_str()).collect();
                let key = key.join(" ");
                if let Some((k, f)) = self.forms.get_key_value(&key) {
                    matched = Some((n, k.as_str(), f));
                    break;
                }
            }
            let Some((n, term, forms)) = matched else {
                i += 1;
                continue;
            };
            let k = occurrence.entry(term).or_default();
            *k += 1;
            let h = seeded_hash(self.seed, *k, term);
            let u = (h >> 11) as f64 / (1u64 << 53) as f64;
            if u < self.rate {
                let form = &forms[(seeded_hash(self.seed, h, term) % forms.len() as u64) as usize];
                let (start, end) = (words[i].0, words[i + n - 1].1);
                let original = &text[start..end];
                out.push_str(&text[at..start]);
                let spun_start = out.len();
                let spun = match_case(original, form);
                out.push_str(&spun);
                changes.push(AlignedChange {
                    orig_start: start,
                    orig_end: end,
                    spun_start,
                    spun_end: out.len(),
                    original: original.to_string(),
                    spun,
                    relation: PROFILE.to_string(),
                    profile: PROFILE.to_string(),
                });
                at = end;
            }
            i += n;
        }
        out.push_str(&text[at..]);
        Spun { text: out, changes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_terms_and_keeps_every_other_byte() {
        let pairs = [
            ("arbitrary timberland", "random forest"),
            ("bolster vector machine", "support vector machine"),
            ("ground", "soil"),
        ];
        let s = PhraseSpinner::new(pairs.iter().copied(), 1.0, 7);
        let text = "A Random forest and a support vector machine;\nsoil, random\n\nforest.";
        let spun = s.spin(text);
        assert_eq!(
            spun.text,
            "A Arbitrary timberland and a bolster vector machine;\nsoil, random\n\nforest."
        );
        assert_eq!(spun.changes.len(), 2);
        for c in &spun.changes {
            assert_eq!(&text[c.orig_start..c.orig_end], c.original);
            assert_eq!(&spun.text[c.spun_start..c.spun_end], c.spun);
        }
        let none = PhraseSpinner::new(pairs.iter().copied(), 0.0, 7).spin(text);
        assert_eq!(none.text, text);
        assert!(none.changes.is_empty());
    }
}
