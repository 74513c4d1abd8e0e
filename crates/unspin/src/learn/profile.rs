//! The `.spinner` file: what `unspin learn` estimated about one spinner,
//! as expected counts of (original, written) word pairs.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::classes::TokenClasses;
use crate::lexicon::Lexicon;
use crate::Error;

const KIND: [u8; 4] = *b"SPIN";
/// Version 2 added [`SpinnerProfile::classes`]; version 1 files still load
/// (with no class estimated).
const VERSION: u32 = 2;

/// Expected counts of what one spinner wrote for each original word,
/// estimated from its output alone ([`super::learn`]). Counts add up, so
/// profiles learned from more pages of the same source merge
/// ([`SpinnerProfile::merge`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SpinnerProfile {
    /// Words of the documents learned from.
    pub words: u64,
    /// Documents learned from.
    pub documents: u64,
    /// (original, written, expected count), sorted by original then
    /// written; written == original means the word was kept.
    pub pairs: Vec<(String, String, f32)>,
    /// Which classes of tokens (capitalized, punctuation-attached, function
    /// words, digits) the spinner touches.
    pub classes: TokenClasses,
}

/// The payload of a version 1 file.
#[derive(Deserialize)]
struct ProfileV1 {
    words: u64,
    documents: u64,
    pairs: Vec<(String, String, f32)>,
}

/// One row of [`SpinnerProfile::table`]: a written word and its likely originals.
#[derive(Clone, Debug, Serialize)]
pub struct TableRow {
    /// The word as the spinner writes it.
    pub written: String,
    /// Expected occurrences of `written` as a replacement.
    pub count: f32,
    /// Originals with their expected counts, best first.
    pub originals: Vec<(String, f32)>,
}

impl SpinnerProfile {
    /// Adds the counts of `other` (pages of the same source learned apart).
    pub fn merge(&mut self, other: &SpinnerProfile) {
        let mut all: FxHashMap<(String, String), f32> = FxHashMap::default();
        for (o, w, c) in self.pairs.drain(..).chain(other.pairs.iter().cloned()) {
            *all.entry((o, w)).or_default() += c;
        }
        self.pairs = sorted(all);
        self.words += other.words;
        self.documents += other.documents;
        self.classes.merge(&other.classes);
    }

    /// The replacements, grouped by written word, those seen most first;
    /// pairs below `min_count` are left out.
    pub fn table(&self, min_count: f32) -> Vec<TableRow> {
        let mut by_written: FxHashMap<&str, Vec<(String, f32)>> = FxHashMap::default();
        for (o, w, c) in &self.pairs {
            if o != w && *c >= min_count {
                by_written.entry(w).or_default().push((o.clone(), *c));
            }
        }
        let mut rows: Vec<TableRow> = by_written
            .into_iter()
            .map(|(w, mut originals)| {
                originals.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                TableRow {
                    written: w.to_string(),
                    count: originals.iter().map(|x| x.1).sum(),
                    originals,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.count
                .total_cmp(&a.count)
                .then_with(|| a.written.cmp(&b.written))
        });
        rows
    }

    /// The (written -> original) pairs the profile asserts: each written
    /// word's best original, when it explains at least `min_count`
    /// occurrences ([`MIN_ASSERTED_COUNT`] in reports) and more than half of
    /// the word's replacements.
    pub fn best_pairs(&self, min_count: f32) -> Vec<(String, String)> {
        self.table(0.0)
            .into_iter()
            .filter_map(|r| {
                let (o, c) = r.originals.first()?;
                (*c >= min_count && *c > 0.5 * r.count).then(|| (r.written.clone(), o.clone()))
            })
            .collect()
    }

    /// Takes the type-level decisions (written, original, occurrences,
    /// posterior): the written type came from the original in that share of
    /// its occurrences, and was kept in the rest.
    pub(super) fn set_type_decisions(
        &mut self,
        lexicon: &Lexicon,
        decisions: &[(u32, u32, u32, f32)],
    ) {
        let mut all: FxHashMap<(String, String), f32> =
            self.pairs.drain(..).map(|(o, w, c)| ((o, w), c)).collect();
        // Written types the EM passes already explain keep their reading.
        let mut explained: FxHashMap<String, f32> = FxHashMap::default();
        for ((o, w), c) in &all {
            if o != w {
                *explained.entry(w.clone()).or_default() += c;
            }
        }
        for &(written, original, n, post) in decisions {
            let (w, o) = (lexicon.word(written), lexicon.word(original));
            if explained.get(w).is_some_and(|&c| c >= 1.0) {
                continue;
            }
            let replaced = all.entry((o.to_string(), w.to_string())).or_default();
            *replaced = replaced.max(n as f32 * post);
            all.insert((w.to_string(), w.to_string()), n as f32 * (1.0 - post));
        }
        self.pairs = sorted(all);
    }

    /// Serializes into the `SPIN` container.
    pub fn to_bytes(&self) -> Vec<u8> {
        let raw = bincode::serialize(self).expect("profile serializes");
        crate::container::encode(KIND, VERSION, &raw, 9)
    }

    /// Loads from the `SPIN` container, checking header and checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let malformed = |e| Error::Model(format!("SPIN profile file: malformed payload: {e}"));
        let p: SpinnerProfile = if crate::container::version_of(bytes) == Some(1) {
            let raw = crate::container::decode(bytes, KIND, 1)?;
            let v1: ProfileV1 = bincode::deserialize(&raw).map_err(malformed)?;
            SpinnerProfile {
                words: v1.words,
                documents: v1.documents,
                pairs: v1.pairs,
                classes: TokenClasses::default(),
            }
        } else {
            let raw = crate::container::decode(bytes, KIND, VERSION)?;
            bincode::deserialize(&raw).map_err(malformed)?
        };
        if p.pairs.iter().any(|(_, _, c)| !c.is_finite() || *c < 0.0) {
            return Err(Error::Model("SPIN profile file: invalid counts".into()));
        }
        Ok(p)
    }

    /// The profile in lexicon ids, as the restorer reads it.
    pub fn bind(&self, lexicon: &Lexicon, prior_weight: f32) -> LearnedChannel {
        let mut pairs: FxHashMap<u64, f32> = FxHashMap::default();
        let mut totals: FxHashMap<u32, f32> = FxHashMap::default();
        for (o, w, c) in &self.pairs {
            let (Some(oid), Some(wid)) = (lexicon.id(o), lexicon.id(w)) else {
                continue;
            };
            *pairs.entry(pair_key(oid, wid)).or_default() += *c;
            *totals.entry(oid).or_default() += *c;
        }
        let written = self
            .best_pairs(MIN_ASSERTED_COUNT)
            .iter()
            .filter_map(|(w, _)| lexicon.id(w))
            .collect();
        LearnedChannel {
            lexicon_words: lexicon.stats().0,
            prior_weight,
            pairs,
            totals,
            written,
            classes: self.classes,
        }
    }

    pub(super) fn from_counts(counts: &Counts, lexicon: &Lexicon, words: u64, docs: u64) -> Self {
        let mut all: FxHashMap<(String, String), f32> = FxHashMap::default();
        for (&k, &c) in &counts.pairs {
            if c < MIN_STORED_COUNT {
                continue;
            }
            let (o, w) = ((k >> 32) as u32, k as u32);
            all.insert(
                (lexicon.word(o).to_string(), lexicon.word(w).to_string()),
                c,
            );
        }
        SpinnerProfile {
            words,
            documents: docs,
            pairs: sorted(all),
            classes: TokenClasses::default(),
        }
    }
}

/// Expected occurrences a learned pair needs before reports count it as
/// learned (chosen on the dev split, see docs/BENCHMARKS.md "Learned spinners").
pub const MIN_ASSERTED_COUNT: f32 = 2.0;

/// Expected counts below this are noise from one unlikely reading and are
/// not stored (they would only bloat the file).
const MIN_STORED_COUNT: f32 = 0.05;

fn sorted(all: FxHashMap<(String, String), f32>) -> Vec<(String, String, f32)> {
    let mut v: Vec<_> = all.into_iter().map(|((o, w), c)| (o, w, c)).collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    v
}

pub(super) fn pair_key(original: u32, written: u32) -> u64 {
    (original as u64) << 32 | written as u64
}

/// Expected (original, written) counts in lexicon ids.
#[derive(Default, Clone)]
pub(crate) struct Counts {
    pub(crate) pairs: FxHashMap<u64, f32>,
}

impl Counts {
    pub(crate) fn add(&mut self, original: u32, written: u32, p: f32) {
        if p > 0.0 {
            *self.pairs.entry(pair_key(original, written)).or_default() += p;
        }
    }

    pub(crate) fn merge(&mut self, other: Counts) {
        for (k, c) in other.pairs {
            *self.pairs.entry(k).or_default() += c;
        }
    }
}

/// A [`SpinnerProfile`] bound to one lexicon: the channel the restorer uses
/// in place of the lexicon's own where the profile has evidence
/// ([`crate::restore::Options::spinner`]).
#[derive(Debug)]
pub struct LearnedChannel {
    lexicon_words: usize,
    prior_weight: f32,
    pairs: FxHashMap<u64, f32>,
    totals: FxHashMap<u32, f32>,
    /// Written words of the asserted pairs.
    written: rustc_hash::FxHashSet<u32>,
    classes: TokenClasses,
}

impl LearnedChannel {
    /// The replace probability of capitalized word `written` (lexicon id of
    /// its lowercase form) when the spinner touches capitals and asserts a
    /// pair for it; `None`: the class stays closed for it.
    pub fn capitalized_rate(&self, written: u32) -> Option<f32> {
        (self.classes.opens_capitalized() && self.written.contains(&written))
            .then_some(self.classes.capitalized.touched)
    }

    /// Like [`LearnedChannel::capitalized_rate`], for words touching punctuation.
    pub fn attached_rate(&self, written: u32) -> Option<f32> {
        (self.classes.opens_attached() && self.written.contains(&written))
            .then_some(self.classes.attached.touched)
    }

    /// ln p(written | original): the lexicon's `base_ln` smoothed with the
    /// learned counts, `(w * base + count) / (w + total)`, as the
    /// document-level EM does within one text.
    #[inline]
    pub fn ln_prob(&self, original: u32, written: u32, base_ln: f32) -> f32 {
        let Some(&n) = self.totals.get(&original) else {
            return base_ln;
        };
        if base_ln == f32::NEG_INFINITY {
            return base_ln; // ruled out by the model (a numeral): no count revives it
        }
        let c = self
            .pairs
            .get(&pair_key(original, written))
            .copied()
            .unwrap_or(0.0);
        let w = self.prior_weight;
        ((w * base_ln.exp() + c) / (w + n)).max(1e-9).ln()
    }

    /// Whether it was bound to a lexicon of this many words.
    pub fn fits(&self, lexicon_words: usize) -> bool {
        self.lexicon_words == lexicon_words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_files_load_with_no_class_estimated() {
        // bincode writes a struct as the tuple of its fields.
        let pairs = vec![("he".to_string(), "helium".to_string(), 3.0f32)];
        let payload = bincode::serialize(&(100u64, 2u64, pairs.clone())).unwrap();
        let bytes = crate::container::encode(KIND, 1, &payload, 3);
        let p = SpinnerProfile::from_bytes(&bytes).unwrap();
        assert_eq!((p.words, p.documents, p.pairs), (100, 2, pairs));
        assert_eq!(p.classes, TokenClasses::default());
        // A version this build does not know is refused.
        let future = crate::container::encode(KIND, 9, &payload, 3);
        assert!(SpinnerProfile::from_bytes(&future).is_err());
    }
}
