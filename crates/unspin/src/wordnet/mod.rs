//! WordNet 3.0 in a compact, serializable form.
//!
//! [`WordNet::from_dict_dir`] parses the Princeton dictionary files
//! (`index.{noun,verb,adj,adv}`, `data.*`, `*.exc` and, when present,
//! `cntlist.rev`) and keeps what unspin needs:
//!
//! * every lemma, lowercased, multiword lemmas joined with `_`;
//! * per lemma and part of speech, its senses in index-file order (most
//!   frequent first);
//! * every synset with its part of speech (adjective satellites count as
//!   adjectives but are remembered), lexicographer file, ordered lemma list
//!   (with the original capitalization where it differs) and the pointers
//!   hypernym (`@`, `@i`), similar-to (`&`), also-see (`^`), derivationally
//!   related (`+`), pertainym (`\`) and antonym (`!`), with their lemma-level
//!   source and target word numbers;
//! * the morphological exception lists;
//! * per lemma, the sum of its sense-tagged counts from `cntlist.rev` (a small
//!   frequency signal from SemCor).
//!
//! It also implements WordNet's `morphy` ([`WordNet::base_forms`]) and the
//! inverse operation, [`WordNet::inflect`].
//!
//! Model files are stored with [`crate::container`] under the kind tag `WNET`.
//!
//! The code is split by when it runs and what it is about:
//!
//! * this file: the types, the stored form ([`WordNet::to_bytes`],
//!   [`WordNet::from_bytes`]) and the queries on lemmas, synsets and
//!   pointers;
//! * `parse.rs`: the build-time reader of the dictionary files
//!   ([`WordNet::from_dict_dir`], run by `unspin-build wordnet`; at run time
//!   the embedded model is loaded instead);
//! * `morph.rs`: English morphology, lemmas from inflected forms and back
//!   ([`WordNet::base_forms`], [`WordNet::inflect`], [`regular_inflection`]),
//!   which the spinner simulator, the sweep and the detector share.

use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::Error;

mod morph;
mod parse;

pub use morph::{regular_inflection, regular_spellings, Inflection};

/// Container kind tag of WordNet model files.
pub const KIND: [u8; 4] = *b"WNET";
/// Container format version of WordNet model files.
pub const VERSION: u32 = 1;
/// zstd level used by [`WordNet::to_bytes`].
pub const ZSTD_LEVEL: i32 = 19;

/// A part of speech. Adjective satellites count as [`Pos::Adj`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pos {
    Noun,
    Verb,
    Adj,
    Adv,
}

impl Pos {
    /// All parts of speech in WordNet's file order.
    pub const ALL: [Pos; 4] = [Pos::Noun, Pos::Verb, Pos::Adj, Pos::Adv];

    fn idx(self) -> usize {
        self as usize
    }

    /// The suffix of this part of speech's dictionary files (`noun`, `verb`, `adj`, `adv`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Pos::Noun => "noun",
            Pos::Verb => "verb",
            Pos::Adj => "adj",
            Pos::Adv => "adv",
        }
    }

    /// WordNet's one-letter code (`n`, `v`, `a`, `r`).
    pub fn letter(self) -> char {
        match self {
            Pos::Noun => 'n',
            Pos::Verb => 'v',
            Pos::Adj => 'a',
            Pos::Adv => 'r',
        }
    }

    /// Parses a one-letter code; `s` (adjective satellite) gives [`Pos::Adj`].
    pub fn from_letter(c: char) -> Option<Pos> {
        Some(match c {
            'n' => Pos::Noun,
            'v' => Pos::Verb,
            'a' | 's' => Pos::Adj,
            'r' => Pos::Adv,
            _ => return None,
        })
    }
}

/// Index of a synset in a [`WordNet`]. Ids are dense: `0..synset_count()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SynsetId(pub u32);

/// Index of a lemma in a [`WordNet`]. Ids are dense: `0..lemma_count()`, in
/// byte order of the lemma strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LemmaId(pub u32);

/// The pointer types kept from the data files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PointerKind {
    /// `@` and `@i`: querying `Hypernym` yields both.
    Hypernym,
    /// `@i` only.
    InstanceHypernym,
    /// `&`.
    SimilarTo,
    /// `^`.
    AlsoSee,
    /// `+` (always lemma-level).
    Derivation,
    /// `\` (lemma-level; for adverbs WordNet's "derived from adjective").
    Pertainym,
    /// `!` (lemma-level).
    Antonym,
}

// Stored pointer codes.
const P_HYPER: u8 = 0;
const P_INST: u8 = 1;
const P_SIMILAR: u8 = 2;
const P_ALSO: u8 = 3;
const P_DERIV: u8 = 4;
const P_PERT: u8 = 5;
const P_ANT: u8 = 6;

impl PointerKind {
    fn matches(self, code: u8) -> bool {
        match self {
            PointerKind::Hypernym => code == P_HYPER || code == P_INST,
            PointerKind::InstanceHypernym => code == P_INST,
            PointerKind::SimilarTo => code == P_SIMILAR,
            PointerKind::AlsoSee => code == P_ALSO,
            PointerKind::Derivation => code == P_DERIV,
            PointerKind::Pertainym => code == P_PERT,
            PointerKind::Antonym => code == P_ANT,
        }
    }
}

/// One pointer of a synset. `source` and `target` are 1-based word numbers
/// within the source and target synsets; both 0 for a synset-level pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    pub code: u8,
    pub source: u8,
    pub target_word: u8,
    pub target: SynsetId,
}

impl Pointer {
    /// Whether this pointer is of `kind` (see [`PointerKind::Hypernym`] for the one overlap).
    pub fn is(&self, kind: PointerKind) -> bool {
        kind.matches(self.code)
    }
}

/// The 45 lexicographer file names, indexed by [`WordNet::synset_lexfile`].
pub const LEXNAMES: [&str; 45] = [
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
];

/// What is serialized.
#[derive(Serialize, Deserialize, Default)]
struct Repr {
    /// Sorted, lowercased, `_` for spaces.
    lemmas: Vec<String>,
    /// Sum of `cntlist.rev` tag counts per lemma.
    lemma_freq: Vec<u32>,
    /// `senses[sense_off[l * 4 + pos] .. sense_off[l * 4 + pos + 1]]`.
    sense_off: Vec<u32>,
    senses: Vec<SynsetId>,
    /// Per synset: 0 n, 1 v, 2 a, 3 r, 4 s (satellite).
    syn_type: Vec<u8>,
    syn_lexfile: Vec<u8>,
    /// Byte offset of the synset in its data file (WordNet's synset id).
    syn_offset: Vec<u32>,
    /// `members[member_off[s] .. member_off[s + 1]]`, in data-file order.
    member_off: Vec<u32>,
    members: Vec<LemmaId>,
    /// (index into `members`, original spelling) where it is not all lowercase.
    cased: Vec<(u32, String)>,
    ptr_off: Vec<u32>,
    ptrs: Vec<Pointer>,
    /// Per pos: (inflected form, base forms), sorted.
    exc: [Vec<(String, Vec<String>)>; 4],
}

/// WordNet, loaded. Cheap to query; `Send + Sync`.
pub struct WordNet {
    r: Repr,
    index: FxHashMap<String, LemmaId>,
    cased: FxHashMap<u32, u32>,
    exc: [FxHashMap<String, Vec<String>>; 4],
    rev_exc: [FxHashMap<String, Vec<String>>; 4],
    offsets: FxHashMap<(u8, u32), SynsetId>,
}

impl std::fmt::Debug for WordNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordNet")
            .field("lemmas", &self.lemma_count())
            .field("synsets", &self.synset_count())
            .field("pointers", &self.r.ptrs.len())
            .finish()
    }
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}

fn file_index(pos: Pos) -> u8 {
    pos as u8
}

impl WordNet {
    fn from_repr(r: Repr) -> Self {
        let index = r
            .lemmas
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), LemmaId(i as u32)))
            .collect();
        let cased = r
            .cased
            .iter()
            .enumerate()
            .map(|(i, (m, _))| (*m, i as u32))
            .collect();
        let mut exc: [FxHashMap<String, Vec<String>>; 4] = Default::default();
        let mut rev_exc: [FxHashMap<String, Vec<String>>; 4] = Default::default();
        for p in 0..4 {
            for (form, bases) in &r.exc[p] {
                exc[p].insert(form.clone(), bases.clone());
                for b in bases {
                    rev_exc[p].entry(b.clone()).or_default().push(form.clone());
                }
            }
        }
        let mut offsets = FxHashMap::default();
        for (i, (&ty, &off)) in r.syn_type.iter().zip(&r.syn_offset).enumerate() {
            let file = if ty == 4 { 2 } else { ty };
            offsets.insert((file, off), SynsetId(i as u32));
        }
        WordNet {
            r,
            index,
            cased,
            exc,
            rev_exc,
            offsets,
        }
    }

    /// Serializes into an unspin model container (kind `WNET`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload =
            bincode::serialize(&self.r).expect("bincode serialization of in-memory WordNet");
        crate::container::encode(KIND, VERSION, &payload, ZSTD_LEVEL)
    }

    /// Loads what [`WordNet::to_bytes`] wrote.
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let payload = crate::container::decode(b, KIND, VERSION)?;
        let r: Repr = bincode::deserialize(&payload)
            .map_err(|e| Error::Model(format!("WNET model file: {e}")))?;
        let n = r.lemmas.len();
        let s = r.syn_type.len();
        let ok = r.lemma_freq.len() == n
            && r.sense_off.len() == n * 4 + 1
            && r.sense_off.last().map(|&x| x as usize) == Some(r.senses.len())
            && r.syn_lexfile.len() == s
            && r.syn_offset.len() == s
            && r.member_off.len() == s + 1
            && r.member_off.last().map(|&x| x as usize) == Some(r.members.len())
            && r.ptr_off.len() == s + 1
            && r.ptr_off.last().map(|&x| x as usize) == Some(r.ptrs.len())
            && r.senses.iter().all(|x| (x.0 as usize) < s)
            && r.members.iter().all(|x| (x.0 as usize) < n)
            && r.ptrs.iter().all(|p| (p.target.0 as usize) < s);
        if !ok {
            return Err(Error::Model("WNET model file: inconsistent tables".into()));
        }
        Ok(Self::from_repr(r))
    }

    /// Reads a model file written by [`WordNet::to_bytes`].
    pub fn load(path: &Path) -> Result<Self, Error> {
        let b = std::fs::read(path).map_err(|e| io_err(path, e))?;
        Self::from_bytes(&b).map_err(|e| Error::Model(format!("{}: {e}", path.display())))
    }

    // ----- lemmas -----

    /// Number of distinct lemmas (lowercased).
    pub fn lemma_count(&self) -> usize {
        self.r.lemmas.len()
    }

    /// Number of synsets.
    pub fn synset_count(&self) -> usize {
        self.r.syn_type.len()
    }

    /// Number of stored pointers.
    pub fn pointer_count(&self) -> usize {
        self.r.ptrs.len()
    }

    /// The id of a lemma written exactly as stored: lowercase, words joined by
    /// `_` or by single spaces.
    pub fn lemma_id(&self, word: &str) -> Option<LemmaId> {
        if word.contains(' ') {
            self.index.get(&word.replace(' ', "_")).copied()
        } else {
            self.index.get(word).copied()
        }
    }

    /// Whether `word` is exactly a lemma (single- or multi-word, spaces or
    /// underscores). No case folding and no morphology: lemmas are stored in
    /// lowercase, so `"He"` is not a lemma while `"he"` is.
    pub fn is_lemma(&self, word: &str) -> bool {
        self.lemma_id(word).is_some()
    }

    /// The lemma string of an id (lowercase, `_` between words).
    pub fn lemma(&self, id: LemmaId) -> &str {
        &self.r.lemmas[id.0 as usize]
    }

    /// All lemmas, sorted; the position is the [`LemmaId`].
    pub fn lemmas(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.r.lemmas.iter().map(|s| s.as_str())
    }

    /// Whether a stored lemma is a multiword expression (contains `_`).
    pub fn is_multiword(&self, id: LemmaId) -> bool {
        self.lemma(id).contains('_')
    }

    /// Sum of the sense-tagged counts of a lemma in `cntlist.rev` (0 when absent).
    pub fn lemma_frequency(&self, id: LemmaId) -> u32 {
        self.r.lemma_freq[id.0 as usize]
    }

    /// Senses of a lemma id for a part of speech, in index order.
    pub fn senses_of(&self, id: LemmaId, pos: Pos) -> &[SynsetId] {
        let k = id.0 as usize * 4 + pos.idx();
        &self.r.senses[self.r.sense_off[k] as usize..self.r.sense_off[k + 1] as usize]
    }

    /// Senses of `lemma` (lowercase, exact) for `pos`, in index order (most
    /// frequent first). Empty when `lemma` is not a lemma of that part of speech.
    pub fn senses(&self, lemma: &str, pos: Pos) -> &[SynsetId] {
        match self.lemma_id(lemma) {
            Some(id) => self.senses_of(id, pos),
            None => &[],
        }
    }

    /// Whether `lemma` has any sense for `pos`.
    pub fn has_pos(&self, lemma: &str, pos: Pos) -> bool {
        !self.senses(lemma, pos).is_empty()
    }

    // ----- synsets -----

    /// Lemma ids of a synset in data-file order.
    pub fn synset_lemma_ids(&self, s: SynsetId) -> &[LemmaId] {
        let i = s.0 as usize;
        &self.r.members[self.r.member_off[i] as usize..self.r.member_off[i + 1] as usize]
    }

    /// Lemmas of a synset (lowercase, `_` between words) in data-file order.
    pub fn synset_lemmas(&self, s: SynsetId) -> impl Iterator<Item = &str> + '_ {
        self.synset_lemma_ids(s).iter().map(move |&l| self.lemma(l))
    }

    /// Lemmas of a synset with their original capitalization ("Oregon", "He").
    pub fn synset_words_cased(&self, s: SynsetId) -> impl Iterator<Item = &str> + '_ {
        let start = self.r.member_off[s.0 as usize];
        self.synset_lemma_ids(s)
            .iter()
            .enumerate()
            .map(move |(k, &l)| match self.cased.get(&(start + k as u32)) {
                Some(&ci) => self.r.cased[ci as usize].1.as_str(),
                None => self.lemma(l),
            })
    }

    /// Part of speech of a synset (satellites are adjectives).
    pub fn synset_pos(&self, s: SynsetId) -> Pos {
        match self.r.syn_type[s.0 as usize] {
            0 => Pos::Noun,
            1 => Pos::Verb,
            2 | 4 => Pos::Adj,
            _ => Pos::Adv,
        }
    }

    /// Whether a synset is an adjective satellite (`s`).
    pub fn is_satellite(&self, s: SynsetId) -> bool {
        self.r.syn_type[s.0 as usize] == 4
    }

    /// Lexicographer file number of a synset (see [`LEXNAMES`]).
    pub fn synset_lexfile(&self, s: SynsetId) -> u8 {
        self.r.syn_lexfile[s.0 as usize]
    }

    /// WordNet's own id of a synset: its byte offset in `data.<pos>`.
    pub fn synset_offset(&self, s: SynsetId) -> u32 {
        self.r.syn_offset[s.0 as usize]
    }

    /// Finds a synset by part of speech and data-file offset.
    pub fn synset_by_offset(&self, pos: Pos, offset: u32) -> Option<SynsetId> {
        self.offsets.get(&(file_index(pos), offset)).copied()
    }

    /// All pointers of a synset in data-file order.
    pub fn synset_pointers(&self, s: SynsetId) -> &[Pointer] {
        let i = s.0 as usize;
        &self.r.ptrs[self.r.ptr_off[i] as usize..self.r.ptr_off[i + 1] as usize]
    }

    /// Target synsets of the pointers of one kind, in data-file order
    /// (lemma-level pointers included, whatever their source word).
    pub fn pointers(&self, s: SynsetId, kind: PointerKind) -> impl Iterator<Item = SynsetId> + '_ {
        self.synset_pointers(s)
            .iter()
            .filter(move |p| p.is(kind))
            .map(|p| p.target)
    }

    /// Lemma-level view of a pointer kind: the target lemmas reached from the
    /// lemma `from` in synset `s`. A synset-level pointer (word numbers 0)
    /// yields every lemma of its target synset.
    pub fn lemma_pointers(&self, s: SynsetId, from: LemmaId, kind: PointerKind) -> Vec<LemmaId> {
        let members = self.synset_lemma_ids(s);
        let mut out = Vec::new();
        for p in self.synset_pointers(s) {
            if !p.is(kind) {
                continue;
            }
            if p.source != 0 {
                if members.get(p.source as usize - 1) != Some(&from) {
                    continue;
                }
            } else if !members.contains(&from) {
                continue;
            }
            let tm = self.synset_lemma_ids(p.target);
            if p.target_word == 0 {
                out.extend_from_slice(tm);
            } else if let Some(&t) = tm.get(p.target_word as usize - 1) {
                out.push(t);
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// The embedded WordNet 3.0, which the tests of queries and morphology run
    /// on: it is `models/wordnet.unspin`, built from Debian's `wordnet-base` by
    /// [`WordNet::from_dict_dir`] (`system_wordnet_parses_to_the_embedded_model`
    /// checks that it still is).
    pub fn embedded() -> &'static WordNet {
        static WN: OnceLock<WordNet> = OnceLock::new();
        WN.get_or_init(|| crate::models::embedded_wordnet().expect("embedded WordNet"))
    }

    /// A file from a Debian package that a test checks unspin's readers
    /// against: `$env_var` if set, else `/<rel>`, else `target/test-deps/<rel>`
    /// (where `scripts/install-test-deps.sh` unpacks the packages). When it is
    /// missing the test skips, with the reason printed, or fails under `CI`,
    /// where `.ci/run` installs it.
    pub(crate) fn test_dependency(env_var: &str, rel: &str, package: &str) -> Option<PathBuf> {
        let candidates: Vec<PathBuf> = match std::env::var_os(env_var) {
            Some(p) => vec![PathBuf::from(p)],
            None => vec![
                Path::new("/").join(rel),
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/test-deps")
                    .join(rel),
            ],
        };
        if let Some(found) = candidates.iter().find(|p| p.exists()) {
            return Some(found.clone());
        }
        let reason = format!(
            "{} not found (Debian package {package}; run `bash scripts/install-test-deps.sh`, or set {env_var})",
            candidates[0].display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{reason}: CI must run this test (.ci/run installs it)");
        }
        eprintln!("skipped: {reason}");
        None
    }

    #[test]
    fn wordnet_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<WordNet>();
        check::<crate::spinner::Spinner<'static>>();
    }

    #[test]
    fn parse_counts_and_lookups() {
        let wn = embedded();
        assert_eq!(wn.synset_count(), 82115 + 13767 + 18156 + 3621);
        assert!(
            wn.lemma_count() > 147_000 && wn.lemma_count() < 150_000,
            "{}",
            wn.lemma_count()
        );
        assert!(wn.is_lemma("he"));
        assert!(!wn.is_lemma("He"));
        assert!(wn.is_lemma("atomic_number_2"));
        assert!(wn.is_lemma("atomic number 2"));
        assert!(!wn.is_lemma("the"));
        let he = wn.senses("he", Pos::Noun);
        assert_eq!(he.len(), 2);
        assert_eq!(
            wn.synset_lemmas(he[0]).collect::<Vec<_>>(),
            ["helium", "he", "atomic_number_2"]
        );
        assert_eq!(
            wn.synset_words_cased(he[0]).collect::<Vec<_>>(),
            ["helium", "He", "atomic_number_2"]
        );
        assert_eq!(wn.synset_offset(he[0]), 14639921);
        assert_eq!(
            LEXNAMES[wn.synset_lexfile(he[0]) as usize],
            "noun.substance"
        );
        // "in(p)" marker stripped; satellite similar-to its head.
        let in_adj = wn.senses("in", Pos::Adj);
        assert_eq!(wn.synset_pos(in_adj[0]), Pos::Adj);
        assert!(wn.is_satellite(in_adj[0]));
        let sim: Vec<_> = wn.pointers(in_adj[0], PointerKind::SimilarTo).collect();
        assert_eq!(wn.synset_lemmas(sim[0]).collect::<Vec<_>>(), ["successful"]);
        // Instance hypernyms count as hypernyms.
        let oregon = wn.senses("oregon", Pos::Noun)[0];
        assert_eq!(
            wn.pointers(oregon, PointerKind::InstanceHypernym).count(),
            1
        );
        assert_eq!(wn.pointers(oregon, PointerKind::Hypernym).count(), 1);
        let state: Vec<_> = wn
            .synset_lemmas(wn.pointers(oregon, PointerKind::Hypernym).next().unwrap())
            .collect();
        assert_eq!(state, ["american_state"]);
        // Lemma-level derivation: "give" (noun, elasticity) -> verb "give".
        let give = wn.senses("give", Pos::Noun)[0];
        let gid = wn.lemma_id("give").unwrap();
        let d: Vec<&str> = wn
            .lemma_pointers(give, gid, PointerKind::Derivation)
            .into_iter()
            .map(|l| wn.lemma(l))
            .collect();
        assert_eq!(d, ["give"]);
        // Antonyms.
        let good = wn.senses("good", Pos::Adj)[0];
        let ant: Vec<&str> = wn
            .lemma_pointers(good, wn.lemma_id("good").unwrap(), PointerKind::Antonym)
            .into_iter()
            .map(|l| wn.lemma(l))
            .collect();
        assert_eq!(ant, ["bad"]);
        assert!(wn.lemma_frequency(wn.lemma_id("person").unwrap()) > 100);
    }

    #[test]
    fn bytes_round_trip() {
        let wn = embedded();
        let b = wn.to_bytes();
        let back = WordNet::from_bytes(&b).unwrap();
        assert_eq!(back.lemma_count(), wn.lemma_count());
        assert_eq!(back.synset_count(), wn.synset_count());
        assert_eq!(back.pointer_count(), wn.pointer_count());
        let s = back.senses("oregon", Pos::Noun)[0];
        assert_eq!(
            back.synset_words_cased(s).collect::<Vec<_>>(),
            ["Oregon", "Beaver_State", "OR"]
        );
        assert_eq!(back.base_forms("went"), wn.base_forms("went"));
        assert_eq!(
            back.synset_by_offset(Pos::Noun, 14639921),
            wn.synset_by_offset(Pos::Noun, 14639921)
        );
        assert!(WordNet::from_bytes(&b[..b.len() - 3]).is_err());
    }
}
