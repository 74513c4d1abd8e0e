//! The news spinner's replacement rule and the WordNet relations its outputs
//! come through (`shared/spinner.md`).
//!
//! The rule: take the word's senses in the order adjective, noun, verb,
//! adverb, each in WordNet's index order; in the first sense that yields a
//! candidate, take the first other single-word, unhyphenated lemma; else the
//! first similar-to pointer; else also-see; else the hypernym. Outputs are
//! lowercase ("or" → "oregon").

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

pub use crate::rules::Relation;
use crate::wordnet::{LemmaId, PointerKind, Pos, SynsetId, WordNet};

/// Part-of-speech order in which the news spinner looks at senses.
pub const RULE_POS_ORDER: [Pos; 4] = [Pos::Adj, Pos::Noun, Pos::Verb, Pos::Adv];

/// Where in a sense the rule found its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// Another lemma of the sense's synset.
    Lemma,
    SimilarTo,
    AlsoSee,
    Hypernym,
}

/// How [`rule_output`] reached its answer, for explanations and debugging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTrace {
    pub output: String,
    /// Part of speech of the sense used.
    pub pos: Pos,
    /// 0-based index of that sense among the word's senses of `pos`.
    pub sense: usize,
    pub synset: SynsetId,
    pub source: RuleSource,
}

/// A single-word, unhyphenated lemma: what the news spinner emits.
pub fn is_output_word(lemma: &str) -> bool {
    !lemma.is_empty() && !lemma.contains(['_', '-', ' '])
}

fn first_other(wn: &WordNet, s: SynsetId, word: LemmaId) -> Option<LemmaId> {
    wn.synset_lemma_ids(s)
        .iter()
        .copied()
        .find(|&l| l != word && is_output_word(wn.lemma(l)))
}

fn sense_candidate(wn: &WordNet, s: SynsetId, word: LemmaId) -> Option<(LemmaId, RuleSource)> {
    if let Some(l) = first_other(wn, s, word) {
        return Some((l, RuleSource::Lemma));
    }
    for (kind, src) in [
        (PointerKind::SimilarTo, RuleSource::SimilarTo),
        (PointerKind::AlsoSee, RuleSource::AlsoSee),
        (PointerKind::Hypernym, RuleSource::Hypernym),
    ] {
        for t in wn.pointers(s, kind) {
            if let Some(l) = first_other(wn, t, word) {
                return Some((l, src));
            }
        }
    }
    None
}

fn rule_trace_id(
    wn: &WordNet,
    word: LemmaId,
) -> Option<(LemmaId, Pos, usize, SynsetId, RuleSource)> {
    for pos in RULE_POS_ORDER {
        for (i, &s) in wn.senses_of(word, pos).iter().enumerate() {
            if let Some((l, src)) = sense_candidate(wn, s, word) {
                return Some((l, pos, i, s, src));
            }
        }
    }
    None
}

/// The rule's output for a lemma id.
pub fn rule_output_id(wn: &WordNet, word: LemmaId) -> Option<LemmaId> {
    rule_trace_id(wn, word).map(|t| t.0)
}

/// The news spinner's rule output for `word` (an exact lowercase lemma), or
/// `None` when `word` is not a lemma or no sense yields a candidate.
pub fn rule_output(wn: &WordNet, word: &str) -> Option<String> {
    let id = wn.lemma_id(word)?;
    rule_output_id(wn, id).map(|l| wn.lemma(l).to_string())
}

/// Like [`rule_output`], saying which sense and source produced the output.
pub fn rule_trace(wn: &WordNet, word: &str) -> Option<RuleTrace> {
    let id = wn.lemma_id(word)?;
    rule_trace_id(wn, id).map(|(l, pos, sense, synset, source)| RuleTrace {
        output: wn.lemma(l).to_string(),
        pos,
        sense,
        synset,
        source,
    })
}

/// The rule applied twice ("new" → "fresh" → "caller"); `None` when the
/// second step has no output or leads back to `word`.
pub fn chain_output(wn: &WordNet, word: &str) -> Option<String> {
    let id = wn.lemma_id(word)?;
    let first = rule_output_id(wn, id)?;
    let second = rule_output_id(wn, first)?;
    (second != id).then(|| wn.lemma(second).to_string())
}

/// Lemma-id version of [`relations`].
pub fn relations_id(wn: &WordNet, id: LemmaId) -> Vec<(Relation, LemmaId)> {
    let mut out: Vec<(Relation, LemmaId)> = Vec::new();
    let mut seen: FxHashSet<LemmaId> = FxHashSet::default();
    seen.insert(id);
    let mut add = |rel: Relation, l: LemmaId, out: &mut Vec<(Relation, LemmaId)>| {
        if is_output_word(wn.lemma(l)) && seen.insert(l) {
            out.push((rel, l));
        }
    };
    if let Some(r) = rule_output_id(wn, id) {
        add(Relation::Rule, r, &mut out);
        if let Some(c) = rule_output_id(wn, r) {
            add(Relation::Chain, c, &mut out);
        }
    }
    let senses: Vec<SynsetId> = RULE_POS_ORDER
        .iter()
        .flat_map(|&p| wn.senses_of(id, p).iter().copied())
        .collect();
    for &s in &senses {
        for &l in wn.synset_lemma_ids(s) {
            add(Relation::Synonym, l, &mut out);
        }
    }
    for (kind, rel) in [
        (PointerKind::SimilarTo, Relation::SimilarTo),
        (PointerKind::AlsoSee, Relation::AlsoSee),
        (PointerKind::Hypernym, Relation::Hypernym),
    ] {
        for &s in &senses {
            for t in wn.pointers(s, kind) {
                for &l in wn.synset_lemma_ids(t) {
                    add(rel, l, &mut out);
                }
            }
        }
    }
    for (kind, rel) in [
        (PointerKind::Derivation, Relation::Derivation),
        (PointerKind::Pertainym, Relation::Pertainym),
    ] {
        for &s in &senses {
            for l in wn.lemma_pointers(s, id, kind) {
                add(rel, l, &mut out);
            }
        }
    }
    out
}

/// Every single-word, unhyphenated, lowercase output reachable from `word`
/// through the relations the news spinner was seen to use, deduplicated and
/// tagged with the strongest relation found, in the order: rule output, chain,
/// synonyms, similar-to, also-see, hypernyms, derivations, pertainyms. Within
/// a relation, senses come in the rule's order (adjective, noun, verb, adverb;
/// index order). The word itself is never listed. Empty when `word` is not a
/// lemma.
pub fn relations(wn: &WordNet, word: &str) -> Vec<(Relation, String)> {
    let Some(id) = wn.lemma_id(word) else {
        return Vec::new();
    };
    relations_id(wn, id)
        .into_iter()
        .map(|(r, l)| (r, wn.lemma(l).to_string()))
        .collect()
}
