//! The phrase model: the known-phrase table, the word substitutions a
//! paraphraser makes, and the technical terms it takes apart.
//!
//! On disk it is the `TORT` container (`models/phrases.unspin`, documented in
//! `docs/FORMATS.md`), built by `unspin-build phrases` ([`build`]):
//!
//! * **pairs**: the whole cleaned list, both halves, each pair tagged with its
//!   [`Half`]. Restore replaces these *listed* phrases by lookup.
//! * **candidates**: for an observed word, the term words it may stand for,
//!   with a channel score `ln p(observed | original)`. Two sources: the word
//!   substitutions of the learning half aligned word by word ("timberland"
//!   for "forest"), and the WordNet synonyms of every term word, inflected
//!   like it.
//! * **chunks**: runs of 2-3 observed words that may stand for an original:
//!   the unequal-length swaps of the learning half, and WordNet's multi-word
//!   lemmas standing for a shorter lemma of the same sense ("taking after"
//!   for "following").
//! * **terms**: multi-word technical terms with a strength: the originals of
//!   the learning half, the recurring noun phrases of a clean scientific
//!   corpus, and WordNet's multi-word lemmas.
//!
//! Only the learning half feeds candidates and terms, so a benchmark that
//! spins with the other half measures phrases no model has seen.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::list::{Half, PhrasePair};
use crate::token::{tokenize, TokenKind};
use crate::wordnet::WordNet;
use crate::Error;

const KIND: [u8; 4] = *b"TORT";
const VERSION: u32 = 1;

/// Channel score of a WordNet synonym standing for a term word.
const LN_P_SYNONYM: f32 = -3.0;
/// Strength a term gets for being an original of the learning half.
const LISTED_TERM_BONUS: f32 = 2.5;
/// Strength a term gets for being a WordNet multi-word lemma.
const WORDNET_TERM_BONUS: f32 = 1.0;
/// Corpus n-grams seen fewer times are not terms.
const MIN_TERM_COUNT: u32 = 3;
/// Longest term looked for, in words.
pub const MAX_TERM_WORDS: usize = 4;
/// Longest learned run of words, on either side.
pub const MAX_CHUNK_WORDS: usize = 3;

#[derive(Serialize, Deserialize)]
struct Stored {
    /// (tortured, original, half) for the whole list.
    pairs: Vec<(String, String, Half)>,
    /// (observed word, [(original word, ln p)]).
    candidates: Vec<(String, Vec<(String, f32)>)>,
    /// (observed run of 2+ words, [(original words, ln p)]).
    chunks: Vec<(String, Vec<(String, f32)>)>,
    /// (term, strength).
    terms: Vec<(String, f32)>,
    /// Which half candidates and terms were learned from.
    learned_from: Half,
}

/// The phrase model in memory (see the module docs).
pub struct PhraseModel {
    stored: Stored,
    /// Listed tortured phrase → index into `stored.pairs`.
    listed: FxHashMap<String, u32>,
    /// First words of listed tortured phrases.
    listed_first: FxHashSet<String>,
    listed_max_words: usize,
    /// Observed word → index into `stored.candidates`.
    cand_index: FxHashMap<String, u32>,
    /// Observed run of words → index into `stored.chunks`.
    chunk_index: FxHashMap<String, u32>,
    /// First words of the chunks.
    chunk_first: FxHashSet<String>,
    terms: FxHashMap<String, f32>,
    /// Every proper prefix of a term, in words.
    term_prefixes: FxHashSet<String>,
    /// Originals of the usable pairs: a listed phrase that is itself an
    /// original ("machine learning") is never replaced.
    originals: FxHashSet<String>,
}

impl PhraseModel {
    fn from_stored(stored: Stored, listed_halves: &[Half]) -> Self {
        let originals: FxHashSet<String> = stored.pairs.iter().map(|(_, o, _)| o.clone()).collect();
        let mut listed = FxHashMap::default();
        let mut listed_first = FxHashSet::default();
        let mut listed_max_words = 0;
        for (i, (t, o, _)) in stored.pairs.iter().enumerate() {
            let listed_here = listed_halves
                .iter()
                .any(|&h| crate::halves::in_half(o, Some(h)));
            if !listed_here || originals.contains(t) {
                continue;
            }
            if listed.contains_key(t) {
                continue;
            }
            listed.insert(t.clone(), i as u32);
            listed_first.insert(t.split(' ').next().unwrap_or("").to_string());
            listed_max_words = listed_max_words.max(t.split(' ').count());
        }
        let cand_index = stored
            .candidates
            .iter()
            .enumerate()
            .map(|(i, (w, _))| (w.clone(), i as u32))
            .collect();
        let chunk_index = stored
            .chunks
            .iter()
            .enumerate()
            .map(|(i, (w, _))| (w.clone(), i as u32))
            .collect();
        let chunk_first = stored
            .chunks
            .iter()
            .map(|(w, _)| w.split(' ').next().unwrap_or("").to_string())
            .collect();
        let terms: FxHashMap<String, f32> = stored.terms.iter().cloned().collect();
        let mut term_prefixes = FxHashSet::default();
        for t in terms.keys() {
            let mut end = 0;
            while let Some(k) = t[end..].find(' ') {
                end += k;
                term_prefixes.insert(t[..end].to_string());
                end += 1;
            }
        }
        PhraseModel {
            stored,
            listed,
            listed_first,
            listed_max_words,
            cand_index,
            chunk_index,
            chunk_first,
            terms,
            term_prefixes,
            originals,
        }
    }

    /// Serializes into the `TORT` container.
    pub fn to_bytes(&self) -> Vec<u8> {
        let raw = bincode::serialize(&self.stored).expect("phrase model serializes");
        crate::container::encode(KIND, VERSION, &raw, 19)
    }

    /// Loads from the `TORT` container with the whole list as known phrases.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let raw = crate::container::decode(bytes, KIND, VERSION)?;
        let stored: Stored = bincode::deserialize(&raw)
            .map_err(|e| Error::Model(format!("TORT model file: malformed payload: {e}")))?;
        let bad = stored
            .pairs
            .iter()
            .any(|(t, o, _)| t.is_empty() || o.is_empty())
            || stored
                .terms
                .iter()
                .any(|(t, s)| t.is_empty() || !s.is_finite())
            || stored.chunks.iter().any(|(w, c)| {
                w.is_empty() || c.iter().any(|(o, p)| o.is_empty() || !p.is_finite())
            })
            || stored.candidates.iter().any(|(w, c)| {
                w.is_empty() || c.iter().any(|(o, p)| o.is_empty() || !p.is_finite())
            });
        if bad {
            return Err(Error::Model("TORT model file: inconsistent tables".into()));
        }
        Ok(Self::from_stored(stored, &[Half::A, Half::B]))
    }

    /// The same model with only `halves` of the list as known phrases (the
    /// benchmark's "unlisted" run keeps half B out of the lookup; a dev run
    /// lists part A1).
    pub fn listing_only(self, halves: &[Half]) -> Self {
        Self::from_stored(self.stored, halves)
    }

    /// Every pair of the list with its half.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str, Half)> + '_ {
        self.stored
            .pairs
            .iter()
            .map(|(t, o, h)| (t.as_str(), o.as_str(), *h))
    }

    /// The part of the list candidates and terms were learned from.
    pub fn learned_from(&self) -> Half {
        self.stored.learned_from
    }

    /// (known phrases, candidate words, terms).
    pub fn stats(&self) -> (usize, usize, usize) {
        (self.listed.len(), self.cand_index.len(), self.terms.len())
    }

    /// The original of a listed tortured phrase.
    pub fn listed(&self, phrase: &str) -> Option<&str> {
        self.listed
            .get(phrase)
            .map(|&i| self.stored.pairs[i as usize].1.as_str())
    }

    /// Whether some listed phrase starts with this word.
    pub fn starts_listed(&self, word: &str) -> bool {
        self.listed_first.contains(word)
    }

    /// Longest listed phrase, in words.
    pub fn listed_max_words(&self) -> usize {
        self.listed_max_words
    }

    /// The term words `word` may stand for, with `ln p(word | original)`.
    pub fn candidates(&self, word: &str) -> &[(String, f32)] {
        self.cand_index
            .get(word)
            .map(|&i| self.stored.candidates[i as usize].1.as_slice())
            .unwrap_or(&[])
    }

    /// The originals a run of 2 or more observed words may stand for, with
    /// `ln p(run | original)` (learned from the list's word alignments).
    pub fn chunk(&self, run: &str) -> &[(String, f32)] {
        self.chunk_index
            .get(run)
            .map(|&i| self.stored.chunks[i as usize].1.as_slice())
            .unwrap_or(&[])
    }

    /// Whether some learned run of words starts with this word.
    pub fn starts_chunk(&self, word: &str) -> bool {
        self.chunk_first.contains(word)
    }

    /// The strength of a known term.
    pub fn term(&self, phrase: &str) -> Option<f32> {
        self.terms.get(phrase).copied()
    }

    /// Whether `prefix` (whole words) begins some term.
    pub fn is_term_prefix(&self, prefix: &str) -> bool {
        self.term_prefixes.contains(prefix)
    }

    /// Whether `phrase` is the original of some pair of the list.
    pub fn is_original(&self, phrase: &str) -> bool {
        self.originals.contains(phrase)
    }
}

/// Lowercase word runs of a text: words joined by nothing but spaces, cut at
/// punctuation, markup, numbers and blank lines.
pub(crate) fn word_runs(text: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(text);
    let mut runs = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for t in &tokens {
        let s = t.text(text);
        match t.kind {
            TokenKind::Word => run.push(s.to_lowercase()),
            TokenKind::Space if !s.contains("\n\n") => {}
            _ => {
                if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

fn is_stopword(w: &str) -> bool {
    crate::spinner::SYNONYM_STOPWORDS.contains(&w)
}

/// Recurring noun-phrase-like n-grams (2 to [`MAX_TERM_WORDS`] words, no
/// function word at either end, letters and hyphens only) of `texts`, with
/// their counts, kept when seen at least [`MIN_TERM_COUNT`] times.
pub fn mine_terms<'a>(texts: impl Iterator<Item = &'a str>) -> FxHashMap<String, u32> {
    let mut counts: FxHashMap<String, u32> = FxHashMap::default();
    for text in texts {
        for run in word_runs(text) {
            for i in 0..run.len() {
                if is_stopword(&run[i]) || !alphabetic(&run[i]) {
                    continue;
                }
                for n in 2..=MAX_TERM_WORDS.min(run.len() - i) {
                    let last = &run[i + n - 1];
                    if !alphabetic(last) {
                        break;
                    }
                    if is_stopword(last) {
                        continue;
                    }
                    *counts.entry(run[i..i + n].join(" ")).or_default() += 1;
                }
            }
        }
    }
    counts.retain(|_, c| *c >= MIN_TERM_COUNT);
    counts
}

fn alphabetic(w: &str) -> bool {
    w.len() >= 2 && w.chars().all(|c| c.is_alphabetic() || c == '-')
}

/// A paraphraser that draws on a thesaurus writes a multi-word entry for a
/// shorter one of the same sense ("taking after" for "following", "right of
/// entry" for "access"). Every multi-word WordNet lemma of 2 to
/// [`MAX_CHUNK_WORDS`] words becomes a learned run of words that may stand
/// for the shorter lemmas of its senses, in each inflection the two share.
/// Only originals seen in WordNet's sense-tagged corpus are kept: the run
/// must stand for a word writers use.
fn add_wordnet_spans(wordnet: &WordNet, chunks: &mut FxHashMap<String, Vec<(String, f32)>>) {
    use crate::wordnet::{Inflection, Pos};
    let plain = |l: &str| {
        l.chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
    };
    for (k, lemma) in wordnet.lemmas().enumerate() {
        let n = lemma.split('_').count();
        if !(2..=MAX_CHUNK_WORDS).contains(&n) || !plain(lemma) {
            continue;
        }
        let id = crate::wordnet::LemmaId(k as u32);
        for pos in Pos::ALL {
            let infls: &[Inflection] = match pos {
                Pos::Noun => &[Inflection::None, Inflection::Plural],
                Pos::Verb => &[
                    Inflection::None,
                    Inflection::ThirdSingular,
                    Inflection::Past,
                    Inflection::PresentParticiple,
                ],
                Pos::Adj | Pos::Adv => &[Inflection::None],
            };
            for &s in wordnet.senses_of(id, pos) {
                for mate_id in wordnet.synset_lemma_ids(s) {
                    let mate = wordnet.lemma(*mate_id);
                    if mate.split('_').count() >= n
                        || !plain(mate)
                        || wordnet.lemma_frequency(*mate_id) == 0
                        || is_stopword(mate)
                    {
                        continue;
                    }
                    for &infl in infls {
                        let observed = wordnet.inflect_as(lemma, pos, infl);
                        let original = wordnet.inflect_as(mate, pos, infl);
                        let list = chunks.entry(observed).or_default();
                        if !list.iter().any(|(o, _)| *o == original) {
                            list.push((original, LN_P_SYNONYM));
                        }
                    }
                }
            }
        }
    }
}

/// Builds the phrase model: `pairs` is the whole cleaned list; candidates
/// and terms come from the pairs of `learn_from` only, from `corpus` (clean
/// text of the register, for terms) and from `wordnet`.
pub fn build<'a>(
    pairs: &[PhrasePair],
    learn_from: Half,
    corpus: impl Iterator<Item = &'a str>,
    wordnet: &WordNet,
) -> PhraseModel {
    let learning: Vec<&PhrasePair> = pairs
        .iter()
        .filter(|p| crate::halves::in_half(&p.original, Some(learn_from)))
        .collect();

    // Terms.
    let mut terms: FxHashMap<String, f32> = FxHashMap::default();
    for (t, c) in mine_terms(corpus) {
        terms.insert(t, (1.0 + c as f32).ln());
    }
    // Once per original: the list holds dozens of tortured forms of some
    // terms ("artificial intelligence"), and a bonus per pair made those
    // terms outweigh any evidence against them in clean text.
    let learned_originals: FxHashSet<&str> = learning.iter().map(|p| p.original.as_str()).collect();
    for o in learned_originals {
        let n = o.split(' ').count();
        if (2..=MAX_TERM_WORDS).contains(&n) {
            *terms.entry(o.to_string()).or_default() += LISTED_TERM_BONUS;
        }
    }
    for l in wordnet.lemmas() {
        let words = l.split('_').count();
        if (2..=MAX_TERM_WORDS).contains(&words)
            && l.chars().all(|c| c.is_lowercase() || c == '_' || c == '-')
        {
            *terms.entry(l.replace('_', " ")).or_default() += WORDNET_TERM_BONUS;
        }
    }

    // Candidates: what the learning half swapped, aligned by stripping the
    // words both sides share at either end ("the taking after" / "the
    // following" teaches "taking after" -> "following").
    let mut subs: FxHashMap<(String, String), u32> = FxHashMap::default();
    let mut seen_as: FxHashMap<String, u32> = FxHashMap::default();
    for p in &learning {
        let t: Vec<&str> = p.tortured.split(' ').collect();
        let o: Vec<&str> = p.original.split(' ').collect();
        let mut learn = |a: &[&str], b: &[&str]| {
            let (a, b) = (a.join(" "), b.join(" "));
            *subs.entry((a.clone(), b)).or_default() += 1;
            *seen_as.entry(a).or_default() += 1;
        };
        if t.len() == o.len() {
            for (a, b) in t.iter().zip(&o) {
                if a != b {
                    learn(&[a], &[b]);
                }
            }
            continue;
        }
        let pre = t.iter().zip(&o).take_while(|(a, b)| a == b).count();
        let max_suf = t.len().min(o.len()) - pre;
        let suf = t
            .iter()
            .rev()
            .zip(o.iter().rev())
            .take(max_suf)
            .take_while(|(a, b)| a == b)
            .count();
        let (tc, oc) = (&t[pre..t.len() - suf], &o[pre..o.len() - suf]);
        if !tc.is_empty()
            && !oc.is_empty()
            && tc.len() <= MAX_CHUNK_WORDS
            && oc.len() <= MAX_CHUNK_WORDS
        {
            learn(tc, oc);
        }
    }
    let mut cands: FxHashMap<String, Vec<(String, f32)>> = FxHashMap::default();
    let mut chunks: FxHashMap<String, Vec<(String, f32)>> = FxHashMap::default();
    for ((a, b), c) in &subs {
        let total = seen_as[a] as f32;
        // Smoothed share of a's substitutions that came from b.
        let lnp = ((*c as f32) / (total + 1.0)).ln().max(LN_P_SYNONYM + 1.0);
        let into = if a.contains(' ') {
            &mut chunks
        } else {
            &mut cands
        };
        into.entry(a.clone()).or_default().push((b.clone(), lnp));
    }
    add_wordnet_spans(wordnet, &mut chunks);
    // WordNet synonyms of every term word, inflected like it.
    let term_words: FxHashSet<&str> = terms.keys().flat_map(|t| t.split(' ')).collect();
    for w in term_words {
        if is_stopword(w) || w.len() < 3 {
            continue;
        }
        for s in wordnet.synonyms_like(w) {
            if s.contains(' ') || s == w || is_stopword(&s) {
                continue;
            }
            let list = cands.entry(s).or_default();
            if !list.iter().any(|(o, _)| o == w) {
                list.push((w.to_string(), LN_P_SYNONYM));
            }
        }
    }
    let mut candidates: Vec<(String, Vec<(String, f32)>)> = cands.into_iter().collect();
    for (_, c) in &mut candidates {
        c.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    candidates.sort_by(|a, b| a.0.cmp(&b.0));
    let mut chunks: Vec<(String, Vec<(String, f32)>)> = chunks.into_iter().collect();
    for (_, c) in &mut chunks {
        c.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    chunks.sort_by(|a, b| a.0.cmp(&b.0));
    let mut terms: Vec<(String, f32)> = terms.into_iter().collect();
    terms.sort_by(|a, b| a.0.cmp(&b.0));
    let stored = Stored {
        pairs: pairs
            .iter()
            .map(|p| {
                (
                    p.tortured.clone(),
                    p.original.clone(),
                    super::list::half_of(&p.original),
                )
            })
            .collect(),
        candidates,
        chunks,
        terms,
        learned_from: learn_from,
    };
    PhraseModel::from_stored(stored, &[Half::A, Half::B])
}
