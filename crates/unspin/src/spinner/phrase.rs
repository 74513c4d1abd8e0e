//! The `phrase` profile: an autoblog phrase thesaurus (see
//! `shared/spinners-in-the-wild.md`).
//!
//! Such rewriters work on spans, not words, and read fluently:
//!
//! * a span of 2-4 words that is a WordNet multi-word lemma becomes another
//!   lemma of its most frequent sense, of 1-4 words ("take part" ->
//!   "participate"), and a single word may become a multi-word lemma
//!   ("buy" -> "purchase", "car" -> "motorcar", "help" -> "give a hand");
//! * a two-noun compound is reordered into "N of the M" ("market share" ->
//!   "share of the market");
//! * a single word becomes another lemma of its most frequent sense, in its
//!   most common part of speech, inflected like it ("companies" ->
//!   "companionships" is not what it writes: "rules" -> "regulations");
//! * capitalized words, sentence-initial words and words with attached
//!   punctuation are touched too ("Rate," -> "Charge,");
//! * digits inside a token become number words ("2%" -> "two%").
//!
//! Each candidate span is rewritten with probability `rate`, drawn per
//! occurrence, so two copies of one article (two seeds) differ. Function words
//! ([`crate::rules::SYNONYM_STOPWORDS`]) and number words are never keys.
//!
//! The thesaurus is built from WordNet alone ([`Thesaurus::build`]); its
//! originals are split into the halves of [`crate::halves`] like every other
//! spinner's table.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::halves::{in_half, Half};
use crate::hash::SplitMix64;
use crate::rules::SYNONYM_STOPWORDS;
use crate::wordnet::{Pos, WordNet};

use super::{whitespace_tokens, Builder};

/// Settings of the `phrase` profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhraseConfig {
    /// Probability that a span the thesaurus knows is rewritten.
    pub rate: f64,
    /// Probability that a digit run inside a token is written out.
    pub digit_rate: f64,
}

impl Default for PhraseConfig {
    fn default() -> Self {
        // About 30% of the words of running prose change with the whole
        // table, as autoblog copies show ("about a third").
        PhraseConfig {
            rate: 0.9,
            digit_rate: 0.5,
        }
    }
}

/// Longest span the thesaurus rewrites, in words.
pub const MAX_SPAN_WORDS: usize = 4;

/// The phrase thesaurus: originals (lowercase, words joined by spaces) and
/// what the spinner may write for them.
pub struct Thesaurus {
    /// Multi-word originals -> outputs (1-4 words each).
    spans: FxHashMap<String, Vec<String>>,
    /// Single-word lemmas -> the part of speech of their most common use and
    /// the other lemmas of its most frequent sense.
    words: FxHashMap<String, (Pos, Vec<String>)>,
}

/// A lemma the thesaurus may hold: lowercase letters, hyphens and
/// apostrophes, at most [`MAX_SPAN_WORDS`] words (`_` between them).
fn plain_lemma(l: &str) -> bool {
    l.len() >= 2
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-' || b == b'\'')
        && l.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && l.split('_').count() <= MAX_SPAN_WORDS
        && !l.split('_').any(|w| w.is_empty())
}

impl Thesaurus {
    /// Builds the thesaurus from WordNet (deterministic).
    pub fn build(wn: &WordNet) -> Thesaurus {
        let mut spans: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut words: FxHashMap<String, (Pos, Vec<String>)> = FxHashMap::default();
        for (i, lemma) in wn.lemmas().enumerate() {
            if !plain_lemma(lemma) {
                continue;
            }
            let key = lemma.replace('_', " ");
            if SYNONYM_STOPWORDS.contains(&key.as_str()) || crate::numbers::is_number(&key) {
                continue;
            }
            let id = crate::wordnet::LemmaId(i as u32);
            // The most common use: the part of speech with the most senses
            // (ties in the order noun, verb, adjective, adverb).
            let Some(pos) = Pos::ALL
                .into_iter()
                .filter(|&p| !wn.senses_of(id, p).is_empty())
                .max_by_key(|&p| (wn.senses_of(id, p).len(), std::cmp::Reverse(p as u8)))
            else {
                continue;
            };
            let first = wn.senses_of(id, pos)[0];
            let cased: Vec<&str> = wn.synset_words_cased(first).collect();
            let outs: Vec<String> = wn
                .synset_lemmas(first)
                .zip(cased)
                .filter(|(l, c)| *l != lemma && plain_lemma(l) && l == c)
                .map(|(l, _)| l.replace('_', " "))
                .filter(|o| !crate::numbers::is_number(o))
                .collect();
            if outs.is_empty() {
                continue;
            }
            if key.contains(' ') {
                spans.insert(key, outs);
            } else {
                words.insert(key, (pos, outs));
            }
        }
        Thesaurus { spans, words }
    }

    /// What the thesaurus writes for the multi-word original `key`.
    pub fn span(&self, key: &str) -> Option<&[String]> {
        self.spans.get(key).map(|v| v.as_slice())
    }

    /// The part of speech and outputs of the single-word lemma `key`.
    pub fn word(&self, key: &str) -> Option<(Pos, &[String])> {
        self.words.get(key).map(|(p, v)| (*p, v.as_slice()))
    }

    /// Number of multi-word and single-word originals.
    pub fn len(&self) -> (usize, usize) {
        (self.spans.len(), self.words.len())
    }

    /// Whether the thesaurus holds nothing.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.words.is_empty()
    }
}

/// A whitespace token split into leading punctuation, a word core and
/// trailing punctuation (byte offsets into the text).
#[derive(Clone, Copy, Debug)]
struct Word {
    tok: (usize, usize),
    core: (usize, usize),
}

impl Word {
    fn of(text: &str, (s, e): (usize, usize)) -> Word {
        let t = &text[s..e];
        let cs = t
            .char_indices()
            .find(|(_, c)| c.is_alphanumeric())
            .map_or(t.len(), |(i, _)| i);
        let ce = t
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_alphanumeric())
            .map_or(cs, |(i, c)| i + c.len_utf8());
        Word {
            tok: (s, e),
            core: (s + cs, s + ce.max(cs)),
        }
    }

    /// The core is a word: letters with inner hyphens and apostrophes.
    fn is_word(&self, text: &str) -> bool {
        let c = &text[self.core.0..self.core.1];
        !c.is_empty()
            && c.chars()
                .all(|ch| ch.is_alphabetic() || ch == '-' || ch == '\'')
    }

    fn bare_before(&self) -> bool {
        self.core.0 == self.tok.0
    }

    fn bare_after(&self) -> bool {
        self.core.1 == self.tok.1
    }

    /// An acronym ("NASA", "US"): never rewritten.
    fn is_acronym(&self, text: &str) -> bool {
        let c = &text[self.core.0..self.core.1];
        c.chars().filter(|ch| ch.is_alphabetic()).count() > 1
            && c.chars().all(|ch| !ch.is_lowercase())
    }
}

/// One rewrite the spinner may make at a token position.
struct Rewrite {
    start: usize,
    end: usize,
    out: String,
    relation: &'static str,
    /// Tokens consumed.
    tokens: usize,
}

/// The `phrase` spinner over a built thesaurus.
pub(super) fn spin(
    wn: &WordNet,
    th: &Thesaurus,
    text: &str,
    cfg: &PhraseConfig,
    seed: u64,
    half: Option<Half>,
) -> super::Spun {
    let toks: Vec<Word> = whitespace_tokens(text)
        .into_iter()
        .map(|t| Word::of(text, t))
        .collect();
    let mut b = Builder::new(text, "phrase");
    let mut rng = SplitMix64::new(seed);
    let mut i = 0;
    while i < toks.len() {
        let found = find_rewrite(wn, th, text, &toks[i..], half, &mut rng);
        // One draw per candidate keeps the stream stable.
        let roll = rng.next_f64();
        match found {
            Some(r) if roll < cfg.rate => {
                b.change(r.start, r.end, r.out, r.relation);
                i += r.tokens;
            }
            _ => {
                if let Some((s, e, out)) = spell_digits(text, toks[i], half) {
                    if rng.next_f64() < cfg.digit_rate {
                        b.change(s, e, out, "number");
                    }
                }
                i += 1;
            }
        }
    }
    b.finish()
}

/// The longest rewrite the thesaurus offers at the start of `toks`.
fn find_rewrite(
    wn: &WordNet,
    th: &Thesaurus,
    text: &str,
    toks: &[Word],
    half: Option<Half>,
    rng: &mut SplitMix64,
) -> Option<Rewrite> {
    let first = toks.first()?;
    if !first.is_word(text) || first.is_acronym(text) {
        return None;
    }
    let core = |w: &Word| &text[w.core.0..w.core.1];
    let like = core(first);
    // Spans of 2-4 words: inner boundaries must be bare.
    for n in (2..=MAX_SPAN_WORDS.min(toks.len())).rev() {
        let span = &toks[..n];
        let inner_ok = span.iter().all(|w| w.is_word(text) && !w.is_acronym(text))
            && span[..n - 1].iter().all(|w| w.bare_after())
            && span[1..]
                .iter()
                .all(|w| w.bare_before() && !starts_upper(core(w)));
        if !inner_ok {
            continue;
        }
        let key = span
            .iter()
            .map(|w| core(w).to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(outs) = th.span(&key).filter(|_| in_half(&key, half)) {
            let out = &outs[rng.below(outs.len() as u64) as usize];
            return Some(Rewrite {
                start: first.core.0,
                end: span[n - 1].core.1,
                out: crate::restore::match_case(like, out),
                relation: "phrase",
                tokens: n,
            });
        }
        if n == 2 {
            if let Some(r) = reorder(wn, text, span, half) {
                return Some(r);
            }
        }
    }
    // One word, inflected like the original.
    let lower = like.to_lowercase();
    for (base, pos) in wn.base_forms(&lower) {
        let base = base.replace('_', " ");
        let Some((p, outs)) = th.word(&base) else {
            continue;
        };
        if p != pos || !in_half(&base, half) {
            continue;
        }
        let out = &outs[rng.below(outs.len() as u64) as usize];
        let written = wn.inflect(out, pos, like);
        if written.eq_ignore_ascii_case(like) {
            return None;
        }
        return Some(Rewrite {
            start: first.core.0,
            end: first.core.1,
            out: written,
            relation: "synonym",
            tokens: 1,
        });
    }
    None
}

fn starts_upper(w: &str) -> bool {
    w.chars().next().is_some_and(|c| c.is_uppercase())
}

/// "market share" -> "share of the market": two nouns, the first a bare
/// singular noun that is no adjective, the second a noun (or its plural)
/// whose most common use is as a noun.
fn reorder(wn: &WordNet, text: &str, span: &[Word], half: Option<Half>) -> Option<Rewrite> {
    let a = &text[span[0].core.0..span[0].core.1];
    let b = &text[span[1].core.0..span[1].core.1];
    let (al, bl) = (a.to_lowercase(), b.to_lowercase());
    let stop = |w: &str| SYNONYM_STOPWORDS.contains(&w) || crate::numbers::is_number(w);
    if stop(&al) || stop(&bl) || al.contains('\'') || bl.contains('\'') {
        return None;
    }
    let noun_first = |w: &str| {
        let n = wn.senses(w, Pos::Noun).len();
        n > 0 && Pos::ALL.iter().all(|&p| wn.senses(w, p).len() <= n)
    };
    if !noun_first(&al) || wn.has_pos(&al, Pos::Adj) || wn.is_inflected_form(&al, 3) {
        return None;
    }
    let forms = wn.base_forms(&bl);
    let b_base = forms
        .iter()
        .find(|(_, p)| *p == Pos::Noun)
        .map(|(l, _)| l.as_str())?;
    if !noun_first(b_base) || forms.iter().any(|(l, p)| *p != Pos::Noun && l != &bl) {
        return None;
    }
    let key = format!("{al} {b_base}");
    if !in_half(&key, half) {
        return None;
    }
    let out = crate::restore::match_case(a, &format!("{bl} of the {al}"));
    Some(Rewrite {
        start: span[0].core.0,
        end: span[1].core.1,
        out,
        relation: "reorder",
        tokens: 2,
    })
}

/// A run of one or two digits inside a token, written out ("2%" ->
/// "two%"): the run must not touch another digit, a decimal point or a
/// separator, so "3.5", "10,000" and "1990" stay as they are.
fn spell_digits(text: &str, w: Word, half: Option<Half>) -> Option<(usize, usize, String)> {
    let t = &text[w.tok.0..w.tok.1];
    let bytes = t.as_bytes();
    let s = bytes.iter().position(|b| b.is_ascii_digit())?;
    let e = s + bytes[s..].iter().take_while(|b| b.is_ascii_digit()).count();
    if e - s > 2 || bytes[e..].iter().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let joined = |b: Option<&u8>| b.is_some_and(|&b| matches!(b, b'.' | b',' | b':' | b'/'));
    let before = s.checked_sub(1).map(|k| &bytes[k]);
    if joined(before) || joined(bytes.get(e)) {
        return None;
    }
    let digits = &t[s..e];
    if !in_half(digits, half) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    let word = crate::numbers::spell_below_100(n)?;
    Some((w.tok.0 + s, w.tok.0 + e, word))
}
