//! Spinner simulators: make spun text with a known alignment to its original.
//!
//! Three profiles, and chains of them ([`Chain`]):
//!
//! * [`Profile::News`] follows what was measured on the real news spinner
//!   (`shared/spinner.md`): whitespace tokens looked up as they stand; tokens
//!   with attached punctuation, capitalized tokens, digits, inflected forms and
//!   words outside WordNet never change, except a few phrase rewrites
//!   ([`PHRASE_REWRITES`]); decisions are per word type (a type is always
//!   replaced the same way, or never), drawn from a seeded hash of the type so
//!   they are stable across documents; the sense-order rule
//!   ([`rule::rule_output`]) is the main choice, with configurable shares of
//!   types left alone, chained (rule applied twice) and drawn off-rule.
//! * [`Profile::Synonym`] is a generic spinner: a fraction of content words
//!   (inflected forms and capitalized words included) become a random WordNet
//!   synonym, re-inflected and with the capitalization kept.
//! * [`Profile::Phrase`] is an autoblog phrase thesaurus ([`phrase`]): spans of
//!   1-4 words become spans of 1-4 words, two-noun compounds are reordered,
//!   capitalized and punctuation-attached words and digits are touched too.
//!
//! Every profile's table can be cut to one half of its originals
//! ([`Spinner::with_half`], [`crate::halves`]): models learn from half A, and
//! the benchmark spins with half B, a spinner no model has seen.
//!
//! Both are deterministic for a seed and keep every byte outside the changed
//! spans. [`spintax`] reads and writes `{original|spun}` markup.

pub mod chain;
pub mod phrase;
pub mod rule;
pub mod spintax;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::halves::{in_half, Half};
pub use crate::hash::{mix64, seeded_hash, SplitMix64};
pub use crate::rules::{NEVER_CHANGED, PHRASE_REWRITES, SYNONYM_STOPWORDS};
use crate::wordnet::{LemmaId, Pos, WordNet};
pub use chain::{compose, Chain};
pub use phrase::{PhraseConfig, Thesaurus};
pub use rule::{chain_output, relations, rule_output, rule_trace, Relation, RuleSource, RuleTrace};
pub use spintax::{
    expand_spintax, parse_spintax, to_spintax, to_spintax_alternatives, SpintaxChoice,
    SpintaxExpansion,
};

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Settings of the `news` profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewsConfig {
    /// Share of dictionary word types never changed (besides [`NEVER_CHANGED`]).
    pub skip_share: f64,
    /// Share of word types replaced off-rule: another related word, or a random
    /// lemma of similar frequency rank when there is none.
    pub off_rule_share: f64,
    /// Share of word types whose output is the rule applied twice.
    pub chain_share: f64,
    /// Words never changed.
    pub never_changed: Vec<String>,
    /// Apply [`PHRASE_REWRITES`].
    pub phrase_rewrites: bool,
    /// Width (in ranks either side) of the frequency window random lemmas are drawn from.
    pub random_rank_window: usize,
}

impl Default for NewsConfig {
    fn default() -> Self {
        NewsConfig {
            skip_share: 0.20,
            off_rule_share: 0.15,
            chain_share: 0.08,
            never_changed: NEVER_CHANGED.iter().map(|s| s.to_string()).collect(),
            phrase_rewrites: true,
            random_rank_window: 200,
        }
    }
}

/// Settings of the `synonym` profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynonymConfig {
    /// Probability that an eligible word is replaced.
    pub rate: f64,
}

impl Default for SynonymConfig {
    fn default() -> Self {
        SynonymConfig { rate: 0.15 }
    }
}

/// Which spinner to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Profile {
    News(NewsConfig),
    Synonym(SynonymConfig),
    Phrase(PhraseConfig),
}

impl Profile {
    /// The profile called `name` (`"news"`, `"synonym"` or `"phrase"`),
    /// replacing a `rate` share when given: for `synonym` the probability
    /// that an eligible word is replaced; for `phrase` the probability that a
    /// span the thesaurus knows is rewritten; for `news` the share of
    /// dictionary word types replaced, split between rule, chain and
    /// off-rule types in their default proportions.
    pub fn from_name(name: &str, rate: Option<f64>) -> Result<Profile, crate::Error> {
        if let Some(r) = rate {
            if !(0.0..=1.0).contains(&r) {
                return Err(crate::Error::Input(format!(
                    "rate must be between 0 and 1, got {r}"
                )));
            }
        }
        match name {
            "news" => {
                let mut cfg = NewsConfig::default();
                if let Some(r) = rate {
                    let replaced = 1.0 - cfg.skip_share;
                    let scale = if replaced > 0.0 { r / replaced } else { 0.0 };
                    cfg.skip_share = 1.0 - r;
                    cfg.off_rule_share *= scale;
                    cfg.chain_share *= scale;
                }
                Ok(Profile::News(cfg))
            }
            "synonym" => Ok(Profile::Synonym(SynonymConfig {
                rate: rate.unwrap_or(SynonymConfig::default().rate),
            })),
            "phrase" => {
                let mut cfg = PhraseConfig::default();
                if let Some(r) = rate {
                    cfg.rate = r;
                }
                Ok(Profile::Phrase(cfg))
            }
            other => Err(crate::Error::Input(format!(
                "unknown spinner profile '{other}': use \"news\", \"synonym\" or \"phrase\""
            ))),
        }
    }

    /// `"news"`, `"synonym"` or `"phrase"`.
    pub fn name(&self) -> &'static str {
        match self {
            Profile::News(_) => "news",
            Profile::Synonym(_) => "synonym",
            Profile::Phrase(_) => "phrase",
        }
    }
}

/// One changed span: byte offsets into the original and the spun text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlignedChange {
    pub orig_start: usize,
    pub orig_end: usize,
    pub spun_start: usize,
    pub spun_end: usize,
    pub original: String,
    pub spun: String,
    /// A [`Relation`] name, or `"spintax"`.
    pub relation: String,
    /// `"news"`, `"synonym"`, `"phrase"` or `"spintax"`; for a change made
    /// by several stages of a [`Chain`], their names joined by `,`.
    pub profile: String,
}

/// Spun text with its alignment to the original.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spun {
    pub text: String,
    /// Sorted, non-overlapping.
    pub changes: Vec<AlignedChange>,
}

impl Spun {
    /// The alignment as JSON Lines (one change per line, each ending in `\n`).
    pub fn alignment_jsonl(&self) -> String {
        let mut s = String::new();
        for c in &self.changes {
            s.push_str(&serde_json::to_string(c).expect("serialize AlignedChange"));
            s.push('\n');
        }
        s
    }

    /// The original text with `{original|spun}` for every change.
    pub fn to_spintax(&self, original: &str) -> String {
        to_spintax(original, &self.changes)
    }
}

/// Whether the `synonym` profile may replace this lowercase word (it never
/// touches function words).
pub fn synonym_eligible(lower: &str) -> bool {
    !SYNONYM_STOPWORDS.contains(&lower)
}

/// The word a whitespace token holds for the `synonym` profile: the byte
/// range from its first to its last letter, when everything in it is a
/// letter, hyphen or apostrophe (attached punctuation stays outside).
pub fn synonym_word(token: &str) -> Option<(usize, usize)> {
    let cs = token
        .char_indices()
        .find(|(_, c)| c.is_alphabetic())
        .map(|(i, _)| i)?;
    let ce = token
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphabetic())
        .map(|(i, c)| i + c.len_utf8())?;
    token[cs..ce]
        .chars()
        .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
        .then_some((cs, ce))
}

/// Frequency ranking of output words, for off-rule random replacements.
struct Ranking {
    ranked: Vec<LemmaId>,
    rank_of: FxHashMap<LemmaId, u32>,
}

/// A spinner simulator (see the module docs). Cheap to create; `Send + Sync`.
pub struct Spinner<'a> {
    wn: &'a WordNet,
    profile: Profile,
    seed: u64,
    half: Option<Half>,
    ranking: OnceLock<Ranking>,
    thesaurus: OnceLock<std::sync::Arc<Thesaurus>>,
}

/// Byte ranges of the whitespace-separated tokens of `text`.
pub fn whitespace_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

const SALT_BUCKET: u64 = 1;
const SALT_PICK: u64 = 2;

impl<'a> Spinner<'a> {
    pub fn new(wn: &'a WordNet, profile: Profile, seed: u64) -> Self {
        Spinner {
            wn,
            profile,
            seed,
            half: None,
            ranking: OnceLock::new(),
            thesaurus: OnceLock::new(),
        }
    }

    /// The same spinner with its table cut to the originals of `half`
    /// (`None`: the whole table). Words whose original is in the other half
    /// are left alone.
    pub fn with_half(mut self, half: Option<Half>) -> Self {
        self.half = half;
        self
    }

    /// The half of its table the spinner uses (`None`: all of it).
    pub fn half(&self) -> Option<Half> {
        self.half
    }

    /// The same spinner with a thesaurus built already (spinners of many
    /// seeds can share one).
    pub fn with_thesaurus(self, thesaurus: std::sync::Arc<Thesaurus>) -> Self {
        let _ = self.thesaurus.set(thesaurus);
        self
    }

    /// The `phrase` profile's thesaurus (built from WordNet on first use,
    /// about a third of a second).
    pub fn thesaurus(&self) -> &Thesaurus {
        self.thesaurus
            .get_or_init(|| std::sync::Arc::new(Thesaurus::build(self.wn)))
    }

    /// The `news` profile with default settings.
    pub fn news(wn: &'a WordNet, seed: u64) -> Self {
        Self::new(wn, Profile::News(NewsConfig::default()), seed)
    }

    /// The `synonym` profile replacing a `rate` share of eligible words.
    pub fn synonym(wn: &'a WordNet, rate: f64, seed: u64) -> Self {
        Self::new(wn, Profile::Synonym(SynonymConfig { rate }), seed)
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Spins `text`.
    pub fn spin(&self, text: &str) -> Spun {
        match &self.profile {
            Profile::News(cfg) => self.spin_news(text, cfg),
            Profile::Synonym(cfg) => self.spin_synonym(text, cfg),
            Profile::Phrase(cfg) => {
                phrase::spin(self.wn, self.thesaurus(), text, cfg, self.seed, self.half)
            }
        }
    }

    // ----- news -----

    /// Whether a bare token is one the news spinner may replace through
    /// WordNet: an exact lowercase single-word lemma without digits, starting
    /// and ending with a letter, that is not an inflected form of another lemma.
    pub fn news_eligible(&self, token: &str) -> bool {
        let ok_chars = token
            .chars()
            .all(|c| !c.is_uppercase() && !c.is_numeric() && c != '_');
        let edges = token.chars().next().is_some_and(|c| c.is_alphabetic())
            && token.chars().last().is_some_and(|c| c.is_alphabetic());
        ok_chars && edges && self.wn.is_lemma(token) && !self.wn.is_inflected_form(token, 3)
    }

    /// What the `news` profile does with a bare token, independent of context:
    /// `Some((output, relation))` or `None` (left alone). Deterministic for the
    /// spinner's seed. Phrase rewrites of single words are included; "is a"
    /// is handled by [`Spinner::spin`].
    pub fn news_replacement(&self, token: &str) -> Option<(String, Relation)> {
        let cfg = match &self.profile {
            Profile::News(c) => c,
            Profile::Synonym(_) | Profile::Phrase(_) => return None,
        };
        self.news_choice(token, cfg)
    }

    fn news_choice(&self, token: &str, cfg: &NewsConfig) -> Option<(String, Relation)> {
        if !in_half(token, self.half) {
            return None;
        }
        if cfg.phrase_rewrites {
            if let Some((_, to)) = PHRASE_REWRITES.iter().find(|(from, _)| *from == token) {
                return Some((to.to_string(), Relation::Phrase));
            }
        }
        if cfg.never_changed.iter().any(|w| w == token) || !self.news_eligible(token) {
            return None;
        }
        let wn = self.wn;
        let id = wn.lemma_id(token)?;
        let u = unit(seeded_hash(self.seed, SALT_BUCKET, token));
        let pick = seeded_hash(self.seed, SALT_PICK, token);
        if u < cfg.skip_share {
            return None;
        }
        if u < cfg.skip_share + cfg.off_rule_share {
            let rels: Vec<(Relation, LemmaId)> = rule::relations_id(wn, id)
                .into_iter()
                .filter(|(r, _)| !matches!(r, Relation::Rule | Relation::Chain))
                .collect();
            if !rels.is_empty() {
                let (r, l) = rels[(pick % rels.len() as u64) as usize];
                return Some((wn.lemma(l).to_string(), r));
            }
            return self
                .random_similar_rank(id, pick, cfg.random_rank_window)
                .map(|s| (s, Relation::Random));
        }
        let first = rule::rule_output_id(wn, id)?;
        if u < cfg.skip_share + cfg.off_rule_share + cfg.chain_share {
            if let Some(second) = rule::rule_output_id(wn, first) {
                if second != id {
                    return Some((wn.lemma(second).to_string(), Relation::Chain));
                }
            }
        }
        Some((wn.lemma(first).to_string(), Relation::Rule))
    }

    fn ranking(&self) -> &Ranking {
        self.ranking.get_or_init(|| {
            let wn = self.wn;
            let mut ranked: Vec<(u32, usize, LemmaId)> = wn
                .lemmas()
                .enumerate()
                .filter(|(_, l)| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase()))
                .map(|(i, _)| {
                    let id = LemmaId(i as u32);
                    let senses: usize = Pos::ALL.iter().map(|&p| wn.senses_of(id, p).len()).sum();
                    (wn.lemma_frequency(id), senses, id)
                })
                .collect();
            ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            let ranked: Vec<LemmaId> = ranked.into_iter().map(|t| t.2).collect();
            let rank_of = ranked
                .iter()
                .enumerate()
                .map(|(i, &l)| (l, i as u32))
                .collect();
            Ranking { ranked, rank_of }
        })
    }

    fn random_similar_rank(&self, id: LemmaId, pick: u64, window: usize) -> Option<String> {
        let r = self.ranking();
        let n = r.ranked.len();
        let at = *r.rank_of.get(&id)? as usize;
        let lo = at.saturating_sub(window);
        let hi = (at + window + 1).min(n);
        if hi - lo < 2 {
            return None;
        }
        let mut k = lo + (pick % (hi - lo) as u64) as usize;
        if k == at {
            k = if k + 1 < hi { k + 1 } else { k - 1 };
        }
        Some(self.wn.lemma(r.ranked[k]).to_string())
    }

    fn spin_news(&self, text: &str, cfg: &NewsConfig) -> Spun {
        let toks = whitespace_tokens(text);
        let mut b = Builder::new(text, "news");
        let mut cache: FxHashMap<&str, Option<(String, Relation)>> = FxHashMap::default();
        let mut i = 0;
        while i < toks.len() {
            let (s, e) = toks[i];
            let tok = &text[s..e];
            if cfg.phrase_rewrites
                && tok == "is"
                && i + 1 < toks.len()
                && in_half("is a", self.half)
            {
                let (s2, e2) = toks[i + 1];
                if &text[s2..e2] == "a" {
                    let spun = format!("is simply{}a", &text[e..s2]);
                    b.change(s, e2, spun, Relation::Phrase.as_str());
                    i += 2;
                    continue;
                }
            }
            let choice = cache
                .entry(tok)
                .or_insert_with(|| self.news_choice(tok, cfg));
            if let Some((out, rel)) = choice {
                b.change(s, e, out.clone(), rel.as_str());
            }
            i += 1;
        }
        b.finish()
    }

    // ----- synonym -----

    /// The synonyms the `synonym` profile picks from for a lowercase word:
    /// (lemma, part of speech) over every sense of every base form.
    pub fn synonym_candidates(&self, lower: &str) -> Vec<(String, Pos)> {
        self.wn.synonyms(lower)
    }

    fn spin_synonym(&self, text: &str, cfg: &SynonymConfig) -> Spun {
        let mut b = Builder::new(text, "synonym");
        let mut rng = SplitMix64::new(self.seed);
        for (s, e) in whitespace_tokens(text) {
            let Some((cs, ce)) = synonym_word(&text[s..e]) else {
                continue;
            };
            let core = &text[s + cs..s + ce];
            let lower = core.to_lowercase();
            if SYNONYM_STOPWORDS.contains(&lower.as_str()) {
                continue;
            }
            // One draw per eligible word keeps the stream stable.
            let roll = rng.next_f64();
            let pick = rng.next_u64();
            // The half is checked after the draws, so the two halves of a
            // table split one spinner's changes between them.
            if roll >= cfg.rate || !in_half(&lower, self.half) {
                continue;
            }
            let cands = self.synonym_candidates(&lower);
            if cands.is_empty() {
                continue;
            }
            let (lemma, pos) = &cands[(pick % cands.len() as u64) as usize];
            let out = self.wn.inflect(lemma, *pos, core);
            if out != core {
                b.change(s + cs, s + ce, out, Relation::Synonym.as_str());
            }
        }
        b.finish()
    }
}

/// Assembles spun text from in-order, non-overlapping changes.
struct Builder<'t> {
    src: &'t str,
    profile: &'static str,
    pos: usize,
    out: String,
    changes: Vec<AlignedChange>,
}

impl<'t> Builder<'t> {
    fn new(src: &'t str, profile: &'static str) -> Self {
        Builder {
            src,
            profile,
            pos: 0,
            out: String::with_capacity(src.len() + src.len() / 4),
            changes: Vec::new(),
        }
    }

    fn change(&mut self, start: usize, end: usize, spun: String, relation: &str) {
        debug_assert!(start >= self.pos && end >= start);
        self.out.push_str(&self.src[self.pos..start]);
        let spun_start = self.out.len();
        self.out.push_str(&spun);
        self.changes.push(AlignedChange {
            orig_start: start,
            orig_end: end,
            spun_start,
            spun_end: self.out.len(),
            original: self.src[start..end].to_string(),
            spun,
            relation: relation.to_string(),
            profile: self.profile.to_string(),
        });
        self.pos = end;
    }

    fn finish(mut self) -> Spun {
        self.out.push_str(&self.src[self.pos..]);
        Spun {
            text: self.out,
            changes: self.changes,
        }
    }
}
