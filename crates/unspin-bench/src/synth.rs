//! Synthetic documents for the trace benchmark: sentences of a corpus
//! recombined, deterministically, into documents of paragraphs.
//!
//! Document `i` depends only on the pool and `(seed, i)`, so a benchmark can
//! generate a million documents on the fly, regenerate any of them later, and
//! never store the text. Sentences are drawn with probability proportional to
//! their length in words (like picking a random word of the corpus and taking
//! its sentence), so the mix of domains matches the corpus. Every paragraph
//! has at least three sentences: a paragraph is then, with overwhelming
//! probability, unique to its document even though every sentence of the
//! pool occurs in many documents.

use unspin::spinner::{mix64, SplitMix64};

/// Sentences to recombine.
pub struct SentencePool {
    text: String,
    /// Byte ranges of the sentences in `text`.
    sentences: Vec<(u32, u32)>,
    /// `cum_words[i]`: words in sentences `0..i` (length `sentences.len() + 1`).
    cum_words: Vec<u64>,
}

/// Shape of the synthetic documents.
#[derive(Clone, Debug)]
pub struct DocShape {
    /// Fewest and most words in a document.
    pub min_words: usize,
    pub max_words: usize,
    /// Fewest and most sentences in a paragraph.
    pub min_sentences: usize,
    pub max_sentences: usize,
}

impl Default for DocShape {
    fn default() -> Self {
        Self {
            min_words: 200,
            max_words: 1000,
            min_sentences: 3,
            max_sentences: 6,
        }
    }
}

/// One synthetic document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthDoc {
    /// Paragraphs separated by blank lines.
    pub text: String,
    /// Byte ranges of the paragraphs in `text`.
    pub paragraphs: Vec<(usize, usize)>,
    /// Whitespace-separated words.
    pub words: usize,
}

/// Splits a line into sentences: after a word ending in `.`, `!` or `?`
/// (closing quotes or brackets allowed) when the next word starts with a
/// capital or a digit (opening quotes allowed).
pub fn split_sentences(line: &str) -> Vec<(usize, usize)> {
    let words = unspin::spinner::whitespace_tokens(line);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &(s, e)) in words.iter().enumerate() {
        if start.is_none() {
            start = Some(s);
        }
        let w = &line[s..e];
        let core = w.trim_end_matches(['"', '\'', ')', ']', '”', '’']);
        let ends = core.ends_with(['.', '!', '?']);
        let next_starts = words.get(k + 1).is_some_and(|&(ns, ne)| {
            line[ns..ne]
                .trim_start_matches(['"', '\'', '(', '[', '“', '‘'])
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        });
        if ends && next_starts {
            out.push((start.take().unwrap(), e));
        }
    }
    if let (Some(s), Some(&(_, e))) = (start, words.last()) {
        out.push((s, e));
    }
    out
}

/// The runs of `n` words of a pool, to find text that shares one with it.
pub struct Overlap {
    grams: rustc_hash::FxHashSet<u64>,
    n: usize,
}

impl Overlap {
    /// Every run of `n` words (case-folded, punctuation ignored) of `pool`.
    pub fn of(pool: &SentencePool, n: usize) -> Self {
        let mut grams = rustc_hash::FxHashSet::default();
        for i in 0..pool.len() {
            grams.extend(word_ngrams(pool.sentence(i), n));
        }
        Self { grams, n }
    }

    /// Whether `text` shares a run of words with the pool.
    pub fn hits(&self, text: &str) -> bool {
        word_ngrams(text, self.n).any(|g| self.grams.contains(&g))
    }
}

/// Hashes of the runs of `n` words of `s` (letters and digits only, lowercase).
fn word_ngrams(s: &str, n: usize) -> impl Iterator<Item = u64> + '_ {
    let words: Vec<u64> = s
        .split_whitespace()
        .map(|w| {
            let w: String = w
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            unspin::fingerprint::word_hash(&w)
        })
        .collect();
    let n = n.max(1);
    let count = if words.len() >= n {
        words.len() - n + 1
    } else {
        0
    };
    (0..count).map(move |i| {
        words[i..i + n]
            .iter()
            .fold(0u64, |h, &w| mix64(h ^ w).rotate_left(7))
    })
}

impl SentencePool {
    /// Sentences of `text` (one paragraph per line), keeping those whose index
    /// `keep` accepts (to hold some sentences out of the pool).
    pub fn from_text(text: &str, keep: impl Fn(usize) -> bool) -> Self {
        let mut pool = String::with_capacity(text.len());
        let mut sentences = Vec::new();
        let mut cum_words = vec![0u64];
        let mut index = 0usize;
        for line in text.lines() {
            for (s, e) in split_sentences(line) {
                let sentence = &line[s..e];
                let words = sentence.split_whitespace().count() as u64;
                if keep(index) && words > 0 {
                    let start = pool.len() as u32;
                    pool.push_str(sentence);
                    sentences.push((start, pool.len() as u32));
                    cum_words.push(cum_words.last().unwrap() + words);
                }
                index += 1;
            }
        }
        Self {
            text: pool,
            sentences,
            cum_words,
        }
    }

    /// The pool without its sentences that `overlap` finds in another text:
    /// text quoted from the indexed pool is not unrelated to it. Returns the
    /// pool and how many sentences were dropped.
    pub fn without(self, overlap: &Overlap) -> (Self, usize) {
        let mut kept = SentencePool {
            text: String::new(),
            sentences: Vec::new(),
            cum_words: vec![0],
        };
        let mut dropped = 0;
        for i in 0..self.len() {
            let s = self.sentence(i);
            if overlap.hits(s) {
                dropped += 1;
                continue;
            }
            let start = kept.text.len() as u32;
            kept.text.push_str(s);
            kept.sentences.push((start, kept.text.len() as u32));
            let words = self.cum_words[i + 1] - self.cum_words[i];
            kept.cum_words.push(kept.cum_words.last().unwrap() + words);
        }
        (kept, dropped)
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.sentences.len()
    }

    /// Whether the pool has no sentences.
    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }

    /// Total words of the pool.
    pub fn words(&self) -> u64 {
        *self.cum_words.last().unwrap()
    }

    /// Sentence `i`.
    pub fn sentence(&self, i: usize) -> &str {
        let (s, e) = self.sentences[i];
        &self.text[s as usize..e as usize]
    }

    /// The sentence that contains word `w` of the pool.
    fn sentence_at_word(&self, w: u64) -> usize {
        self.cum_words.partition_point(|&c| c <= w) - 1
    }

    /// Document `index` for `seed` (empty when the pool is empty).
    pub fn document(&self, shape: &DocShape, seed: u64, index: u64) -> SynthDoc {
        let mut doc = SynthDoc {
            text: String::new(),
            paragraphs: Vec::new(),
            words: 0,
        };
        if self.is_empty() {
            return doc;
        }
        let mut rng = SplitMix64::new(mix64(seed ^ mix64(index ^ 0x5eed_d0c5)));
        let span = (shape.max_words - shape.min_words + 1) as u64;
        let target = shape.min_words + rng.below(span) as usize;
        let total = self.words();
        let mut paragraph: Vec<usize> = Vec::new();
        let mut misses = 0;
        while doc.words < target && misses < 1000 {
            let sentences = shape.min_sentences
                + rng.below((shape.max_sentences - shape.min_sentences + 1) as u64) as usize;
            paragraph.clear();
            let mut words = 0;
            for _ in 0..sentences {
                let s = self.sentence_at_word(rng.below(total));
                words += (self.cum_words[s + 1] - self.cum_words[s]) as usize;
                paragraph.push(s);
            }
            // Stay within the maximum: drop sentences from the end, but keep
            // the paragraph's minimum; skip it when it cannot fit.
            while doc.words + words > shape.max_words && paragraph.len() > shape.min_sentences {
                let s = paragraph.pop().unwrap();
                words -= (self.cum_words[s + 1] - self.cum_words[s]) as usize;
            }
            if doc.words + words > shape.max_words {
                if doc.words >= shape.min_words {
                    break;
                }
                misses += 1;
                continue;
            }
            if !doc.text.is_empty() {
                doc.text.push_str("\n\n");
            }
            let start = doc.text.len();
            for (k, &s) in paragraph.iter().enumerate() {
                if k > 0 {
                    doc.text.push(' ');
                }
                doc.text.push_str(self.sentence(s));
            }
            doc.paragraphs.push((start, doc.text.len()));
            doc.words += words;
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_ends_before_capitals() {
        let line = "He came. \"Why?\" she asked. it was 3 p.m. then. No 2 ways";
        let got: Vec<&str> = split_sentences(line)
            .into_iter()
            .map(|(s, e)| &line[s..e])
            .collect();
        assert_eq!(
            got,
            vec![
                "He came.",
                "\"Why?\" she asked. it was 3 p.m. then.",
                "No 2 ways"
            ]
        );
    }

    #[test]
    fn documents_are_deterministic_and_in_shape() {
        let text = (0..400)
            .map(|i| format!("Sentence number {i} is here. And another one follows it now."))
            .collect::<Vec<_>>()
            .join("\n");
        let pool = SentencePool::from_text(&text, |i| i % 10 != 0);
        assert_eq!(pool.len(), 720);
        let shape = DocShape::default();
        for i in 0..50 {
            let d = pool.document(&shape, 7, i);
            assert_eq!(d, pool.document(&shape, 7, i));
            assert!(d.words >= 200 && d.words <= 1000, "{}", d.words);
            assert_eq!(d.words, d.text.split_whitespace().count());
            for &(s, e) in &d.paragraphs {
                let sentences = split_sentences(&d.text[s..e]).len();
                assert!((3..=6).contains(&sentences));
            }
        }
        assert_ne!(pool.document(&shape, 7, 1), pool.document(&shape, 8, 1));
    }

    #[test]
    fn overlap_with_another_pool_is_dropped() {
        let a =
            SentencePool::from_text("One two three four five. Six seven eight nine ten.", |_| {
                true
            });
        let b = SentencePool::from_text(
            "Zero one two three, four five! Other words here now. Nine ten.",
            |_| true,
        );
        let (kept, dropped) = b.without(&Overlap::of(&a, 4));
        assert_eq!(dropped, 1);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept.sentence(0), "Other words here now.");
        assert_eq!(kept.words(), 6);
    }
}
