//! The channel model: which originals could have produced a spun word, and how likely.
//!
//! For every word `s` a spinner can emit, the lexicon lists originals `w` with
//! `p(s | w, w was replaced)`, derived from WordNet by the spinner's own
//! relations (see [`crate::spinner::relations`]): the sense-order rule gets
//! most of the mass, chains and other WordNet relations share the rest, and a
//! slice is held back for replacements no relation explains. Whether `w` is
//! replaced at all is a separate per-word probability ([`Lexicon::replace_prob`]),
//! so a bare word that the spinner's dictionary would replace is unlikely to
//! be an original.
//!
//! Built once from WordNet by `unspin-build lexicon` and stored in the shared
//! container (kind `LEXI`).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::rules::{Relation, NEVER_CHANGED, PHRASE_REWRITES};
use crate::Error;

const KIND: [u8; 4] = *b"LEXI";
const VERSION: u32 = 2;

/// How the channel distributes probability over a replaced word's outputs.
/// The shares come from the measurements in `shared/spinner.md`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChannelParams {
    /// Share of base-form dictionary words the spinner replaces (about 80%).
    pub replace_prob: f32,
    /// Share of replaced types whose output is the sense-order rule (about 60% of types).
    pub rule_share: f32,
    /// Share whose output is the rule applied twice.
    pub chain_share: f32,
    /// Share spread evenly over all other WordNet relations of the word.
    pub related_share: f32,
    /// Most originals kept per spun word (highest channel x unigram prior first).
    pub max_candidates: usize,
}

impl Default for ChannelParams {
    fn default() -> Self {
        Self {
            replace_prob: 0.8,
            rule_share: 0.6,
            chain_share: 0.08,
            // The remaining ~15% is what no relation explains.
            related_share: 0.17,
            max_candidates: 16,
        }
    }
}

/// Share of an unseen original's replacements that its WordNet relations
/// explain, split evenly among them: what the news channel's relations
/// explain together (rule, chain and related shares, `shared/spinner.md`).
pub const UNSEEN_RELATED_SHARE: f32 = 0.85;

/// One possible original of a spun word.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Candidate {
    /// The original word (index into the lexicon's word list).
    pub original: u32,
    /// ln p(spun | original, original was replaced).
    pub ln_prob: f32,
    /// The WordNet relation that links them.
    pub relation: Relation,
}

/// A multi-word rewrite: a spun word sequence and the original it stands for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phrase {
    /// The words as the spinner writes them.
    pub spun: Vec<String>,
    /// The original words.
    pub original: Vec<String>,
}

/// The channel model (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Lexicon {
    words: Vec<String>,
    /// `cand_off[i]..cand_off[i + 1]` are the candidates of word `i` as a spun word.
    cand_off: Vec<u32>,
    cands: Vec<Candidate>,
    /// p(replaced) for word `i` as an original.
    replace: Vec<f32>,
    /// The rule output of word `i` (or `u32::MAX`), for explanations.
    rule: Vec<u32>,
    phrases: Vec<Phrase>,
    /// `syn_off[i]..syn_off[i + 1]` are the originals of word form `i` under
    /// a generic synonym spinner (inflected forms, any sense).
    syn_off: Vec<u32>,
    syn_cands: Vec<Candidate>,
    params: ChannelParams,
    #[serde(skip)]
    index: FxHashMap<String, u32>,
}

impl Lexicon {
    /// Builds the lexicon from WordNet. `keep_original` filters which words may
    /// be proposed as originals (for example: those the language model knows);
    /// `prior` ranks originals (a unigram log-probability) when capping candidates.
    pub fn build(
        wn: &crate::wordnet::WordNet,
        params: ChannelParams,
        keep_original: &dyn Fn(&str) -> bool,
        prior: &dyn Fn(&str) -> f32,
    ) -> Self {
        Self::build_from_half(wn, params, keep_original, prior, None, 0.0)
    }

    /// [`Lexicon::build_from_half`] with the originals `lm` knows, ranked by
    /// its unigram probability: what `unspin-build lexicon` writes.
    pub fn build_for_lm(
        wn: &crate::wordnet::WordNet,
        lm: &crate::lm::LanguageModel,
        half: Option<crate::halves::Half>,
        unseen_replace: f32,
    ) -> Self {
        let known = |w: &str| lm.id(w).is_some();
        let prior = |w: &str| {
            lm.id(w)
                .map_or(-99.0, |id| lm.log10_unigram(id) * std::f32::consts::LN_10)
        };
        let params = ChannelParams::default();
        Self::build_from_half(wn, params, &known, &prior, half, unseen_replace)
    }

    /// [`Lexicon::build`] from one half of the news spinner's table
    /// ([`crate::halves`]): the news channel (its relations, the sense-order
    /// rule, which words it replaces, its phrase rewrites) is learned from
    /// the originals of `half` only (`None`: all). The generic synonym
    /// channel is WordNet's synonymy, not a spinner's table, and stays whole.
    ///
    /// An original outside `half` is one whose table entry the model never
    /// saw. With `unseen_replace` above zero, a WordNet-style spinner is
    /// still assumed to replace it with that probability, by any of its
    /// WordNet relations with equal shares ([`UNSEEN_RELATED_SHARE`] in
    /// all): the model knows the family of spinners, not this one's choices.
    pub fn build_from_half(
        wn: &crate::wordnet::WordNet,
        params: ChannelParams,
        keep_original: &dyn Fn(&str) -> bool,
        prior: &dyn Fn(&str) -> f32,
        half: Option<crate::halves::Half>,
        unseen_replace: f32,
    ) -> Self {
        use crate::halves::in_half;
        let mut lex = Lexicon {
            words: Vec::new(),
            cand_off: Vec::new(),
            cands: Vec::new(),
            replace: Vec::new(),
            rule: Vec::new(),
            phrases: Vec::new(),
            syn_off: Vec::new(),
            syn_cands: Vec::new(),
            params: params.clone(),
            index: FxHashMap::default(),
        };
        let mut by_spun: FxHashMap<u32, Vec<Candidate>> = FxHashMap::default();
        let mut originals: Vec<&str> = wn
            .lemmas()
            .filter(|w| is_plain_word(w) && keep_original(w))
            .collect();
        originals.sort_unstable();
        originals.dedup();
        for &w in &originals {
            let wid = lex.intern(w);
            // Inflected forms are never changed even when WordNet lists them
            // ("employed", "concluded"): they stay originals with certainty.
            if NEVER_CHANGED.contains(&w) || wn.is_inflected_form(w, 3) {
                continue;
            }
            if !in_half(w, half) {
                if unseen_replace > 0.0 {
                    lex.replace[wid as usize] = unseen_replace;
                    let rels: Vec<(Relation, String)> = crate::spinner::relations(wn, w)
                        .into_iter()
                        .filter(|(r, s)| *r != Relation::Chain && is_spun_form(s) && s != w)
                        .collect();
                    let n = rels.len().max(1) as f32;
                    for (rel, s) in rels {
                        let sid = lex.intern(&s);
                        let relation = if rel == Relation::Rule {
                            Relation::Synonym
                        } else {
                            rel
                        };
                        by_spun.entry(sid).or_default().push(Candidate {
                            original: wid,
                            ln_prob: (UNSEEN_RELATED_SHARE / n).ln(),
                            relation,
                        });
                    }
                }
                continue;
            }
            lex.replace[wid as usize] = params.replace_prob;
            let rels = crate::spinner::relations(wn, w);
            let n_related = rels
                .iter()
                .filter(|(r, _)| !matches!(r, Relation::Rule | Relation::Chain))
                .count()
                .max(1) as f32;
            for (rel, s) in rels {
                if !is_spun_form(&s) || s == w {
                    continue;
                }
                let p = match rel {
                    Relation::Rule => params.rule_share,
                    Relation::Chain => params.chain_share,
                    _ => params.related_share / n_related,
                };
                let sid = lex.intern(&s);
                if rel == Relation::Rule {
                    lex.rule[wid as usize] = sid;
                }
                by_spun.entry(sid).or_default().push(Candidate {
                    original: wid,
                    ln_prob: p.ln(),
                    relation: rel,
                });
            }
        }
        for &(orig, spun) in PHRASE_REWRITES.iter().filter(|(o, _)| in_half(o, half)) {
            let o: Vec<&str> = orig.split(' ').collect();
            let s: Vec<&str> = spun.split(' ').collect();
            if o.len() == 1 && s.len() == 1 {
                // A fixed one-word rewrite: always applied, so its source is never kept.
                let wid = lex.intern(o[0]);
                let sid = lex.intern(s[0]);
                lex.replace[wid as usize] = 0.95;
                lex.rule[wid as usize] = sid;
                by_spun.entry(sid).or_default().push(Candidate {
                    original: wid,
                    ln_prob: 0.0,
                    relation: Relation::Phrase,
                });
            } else {
                lex.phrases.push(Phrase {
                    spun: s.iter().map(|x| x.to_string()).collect(),
                    original: o.iter().map(|x| x.to_string()).collect(),
                });
            }
        }
        // A spun word that is itself a dictionary word the spinner would
        // replace is unlikely to be kept bare, even when it is too rare to be
        // proposed as an original ("noesis" in a news article came from
        // something): without this, keeping it would cost nothing.
        for sid in 0..lex.words.len() {
            let w = lex.words[sid].as_str();
            if lex.replace[sid] == 0.0
                && lex.rule[sid] == u32::MAX
                && wn.is_lemma(w)
                && !NEVER_CHANGED.contains(&w)
                && !wn.is_inflected_form(w, 3)
                && in_half(w, half)
                && crate::spinner::rule_output(wn, w).is_some()
            {
                lex.replace[sid] = params.replace_prob;
            }
        }
        let by_syn = synonym_pairs(wn, &mut lex, keep_original);
        // Keep the most plausible originals per spun word.
        // Candidate lists packed by spun word id, best first, capped.
        let pack = |lex: &Lexicon, mut by: FxHashMap<u32, Vec<Candidate>>| {
            let mut off = Vec::with_capacity(lex.words.len() + 1);
            let mut all = Vec::new();
            off.push(0);
            for sid in 0..lex.words.len() as u32 {
                if let Some(mut list) = by.remove(&sid) {
                    list.sort_by(|a, b| {
                        let ka = a.ln_prob + prior(&lex.words[a.original as usize]);
                        let kb = b.ln_prob + prior(&lex.words[b.original as usize]);
                        kb.total_cmp(&ka).then(a.original.cmp(&b.original))
                    });
                    list.dedup_by_key(|c| c.original);
                    list.truncate(params.max_candidates);
                    all.extend(list);
                }
                off.push(all.len() as u32);
            }
            (off, all)
        };
        (lex.syn_off, lex.syn_cands) = pack(&lex, by_syn);
        (lex.cand_off, lex.cands) = pack(&lex, by_spun);
        lex
    }

    fn intern(&mut self, w: &str) -> u32 {
        if let Some(&i) = self.index.get(w) {
            return i;
        }
        let i = self.words.len() as u32;
        self.words.push(w.to_string());
        self.index.insert(w.to_string(), i);
        self.replace.push(0.0);
        self.rule.push(u32::MAX);
        i
    }

    /// Serializes into the `LEXI` container.
    pub fn to_bytes(&self) -> Vec<u8> {
        let raw = bincode::serialize(self).expect("lexicon serializes");
        crate::container::encode(KIND, VERSION, &raw, 19)
    }

    /// Loads from the `LEXI` container, checking header and checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let raw = crate::container::decode(bytes, KIND, VERSION)?;
        let mut lex: Lexicon = bincode::deserialize(&raw)
            .map_err(|e| Error::Model(format!("LEXI model file: malformed payload: {e}")))?;
        let n = lex.words.len();
        if lex.cand_off.len() != n + 1
            || lex.replace.len() != n
            || lex.rule.len() != n
            || lex.cand_off.last().copied() != Some(lex.cands.len() as u32)
            || lex.cands.iter().any(|c| c.original as usize >= n)
            || lex.cand_off.windows(2).any(|w| w[0] > w[1])
            || lex.syn_off.len() != n + 1
            || lex.syn_off.last().copied() != Some(lex.syn_cands.len() as u32)
            || lex.syn_cands.iter().any(|c| c.original as usize >= n)
            || lex.syn_off.windows(2).any(|w| w[0] > w[1])
        {
            return Err(Error::Model("LEXI model file: inconsistent tables".into()));
        }
        lex.index = lex
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Ok(lex)
    }

    /// The id of a word, if the lexicon knows it.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// The text of word `id`.
    pub fn word(&self, id: u32) -> &str {
        &self.words[id as usize]
    }

    /// Originals that could have produced `spun`, best first.
    pub fn candidates(&self, spun: u32) -> &[Candidate] {
        let a = self.cand_off[spun as usize] as usize;
        let b = self.cand_off[spun as usize + 1] as usize;
        &self.cands[a..b]
    }

    /// Originals that a generic synonym spinner could have turned into the
    /// word form `spun` (inflection kept), best first; `ln_prob` is
    /// ln p(spun | original, original was replaced).
    pub fn synonym_candidates(&self, spun: u32) -> &[Candidate] {
        let a = self.syn_off[spun as usize] as usize;
        let b = self.syn_off[spun as usize + 1] as usize;
        &self.syn_cands[a..b]
    }

    /// p(the spinner replaces `word` when it meets it bare in the original).
    pub fn replace_prob(&self, word: u32) -> f32 {
        self.replace[word as usize]
    }

    /// The sense-order rule's output for `word`, if any.
    pub fn rule_output(&self, word: u32) -> Option<u32> {
        let r = self.rule[word as usize];
        (r != u32::MAX).then_some(r)
    }

    /// Multi-word rewrites.
    pub fn phrases(&self) -> &[Phrase] {
        &self.phrases
    }

    /// The parameters the lexicon was built with.
    pub fn params(&self) -> &ChannelParams {
        &self.params
    }

    /// Number of words and of (spun, original) pairs.
    pub fn stats(&self) -> (usize, usize) {
        (self.words.len(), self.cands.len())
    }
}

/// The generic synonym channel, keyed by spun form: every original form the
/// language model knows (`keep_original`) goes to each synonym of its base
/// forms, inflected like it, with probability one over its number of synonyms
/// (a spinner that picks a synonym of any sense uniformly).
fn synonym_pairs(
    wn: &crate::wordnet::WordNet,
    lex: &mut Lexicon,
    keep_original: &dyn Fn(&str) -> bool,
) -> FxHashMap<u32, Vec<Candidate>> {
    use crate::spinner::{Profile, Spinner, SynonymConfig};
    let spinner = Spinner::new(wn, Profile::Synonym(SynonymConfig::default()), 0);
    let mut forms: Vec<String> = wn
        .lemmas()
        .filter(|w| is_plain_word(w))
        .flat_map(|w| wn.inflected_forms(w))
        .filter(|f| is_plain_word(f) && keep_original(f))
        .filter(|f| !crate::spinner::SYNONYM_STOPWORDS.contains(&f.as_str()))
        .collect();
    forms.sort_unstable();
    forms.dedup();
    let mut by_spun: FxHashMap<u32, Vec<Candidate>> = FxHashMap::default();
    for f in &forms {
        let cands = spinner.synonym_candidates(f);
        if cands.is_empty() {
            continue;
        }
        let ln_p = -(cands.len() as f32).ln();
        let wid = lex.intern(f);
        for (lemma, pos) in &cands {
            let out = wn.inflect(lemma, *pos, f);
            if !is_plain_word(&out) || out == *f {
                continue;
            }
            let sid = lex.intern(&out);
            by_spun.entry(sid).or_default().push(Candidate {
                original: wid,
                ln_prob: ln_p,
                relation: Relation::Synonym,
            });
        }
    }
    by_spun
}

/// A single lowercase alphabetic word: the originals the lexicon proposes.
pub fn is_plain_word(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())
}

/// A form the spinner can write in place of a word: a lowercase WordNet lemma
/// of letters, digits, apostrophes and initialism dots ("caller", "2",
/// "ne'er", "u.s.").
pub fn is_spun_form(w: &str) -> bool {
    w.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'\'' || b == b'.')
}
