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

use std::collections::HashMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::restore::match_case;
use crate::Error;

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

fn pointer_code(sym: &str) -> Option<u8> {
    Some(match sym {
        "@" => P_HYPER,
        "@i" => P_INST,
        "&" => P_SIMILAR,
        "^" => P_ALSO,
        "+" => P_DERIV,
        "\\" => P_PERT,
        "!" => P_ANT,
        _ => return None,
    })
}

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

fn model_err(path: &Path, line: usize, why: &str) -> Error {
    Error::Model(format!("{}:{}: {why}", path.display(), line + 1))
}

/// Strips an adjective position marker such as `(a)`, `(p)` or `(ip)`.
fn strip_marker(word: &str) -> &str {
    if word.ends_with(')') {
        if let Some(i) = word.rfind('(') {
            return &word[..i];
        }
    }
    word
}

fn file_index(pos: Pos) -> u8 {
    pos as u8
}

struct RawSynset {
    ty: u8,
    lexfile: u8,
    offset: u32,
    words: Vec<String>,
    /// (code, source, target word, file index, offset)
    ptrs: Vec<(u8, u8, u8, u8, u32)>,
}

impl WordNet {
    /// Parses a Princeton WordNet dictionary directory (e.g. `/usr/share/wordnet`).
    pub fn from_dict_dir(dir: &Path) -> Result<Self, Error> {
        let read = |name: &str| -> Result<String, Error> {
            let p = dir.join(name);
            let bytes = std::fs::read(&p).map_err(|e| io_err(&p, e))?;
            // The files are ASCII apart from a few Latin-1 bytes in glosses.
            Ok(String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
        };

        // Data files: synsets.
        let mut raw: Vec<RawSynset> = Vec::new();
        for pos in Pos::ALL {
            let name = format!("data.{}", pos.file_suffix());
            let text = read(&name)?;
            let path = dir.join(&name);
            for (ln, line) in text.lines().enumerate() {
                if line.starts_with("  ") || line.is_empty() {
                    continue;
                }
                let body = line.split(" | ").next().unwrap_or(line);
                let mut f = body.split_ascii_whitespace();
                let bad = |why: &str| model_err(&path, ln, why);
                let offset: u32 = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad offset"))?;
                let lexfile: u8 = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad lex_filenum"))?;
                let ty = match f.next() {
                    Some("n") => 0,
                    Some("v") => 1,
                    Some("a") => 2,
                    Some("r") => 3,
                    Some("s") => 4,
                    _ => return Err(bad("bad ss_type")),
                };
                let w_cnt = f
                    .next()
                    .and_then(|s| usize::from_str_radix(s, 16).ok())
                    .ok_or_else(|| bad("bad w_cnt"))?;
                let mut words = Vec::with_capacity(w_cnt);
                for _ in 0..w_cnt {
                    let w = f.next().ok_or_else(|| bad("missing word"))?;
                    f.next().ok_or_else(|| bad("missing lex_id"))?;
                    words.push(strip_marker(w).to_string());
                }
                let p_cnt: usize = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad p_cnt"))?;
                let mut ptrs = Vec::new();
                for _ in 0..p_cnt {
                    let sym = f.next().ok_or_else(|| bad("missing pointer symbol"))?;
                    let off: u32 = f
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad("bad pointer offset"))?;
                    let tpos = f
                        .next()
                        .and_then(|s| s.chars().next())
                        .and_then(Pos::from_letter)
                        .ok_or_else(|| bad("bad pointer pos"))?;
                    let st = f.next().ok_or_else(|| bad("missing source/target"))?;
                    if st.len() != 4 {
                        return Err(bad("bad source/target"));
                    }
                    let src = u8::from_str_radix(&st[..2], 16).map_err(|_| bad("bad source"))?;
                    let tgt = u8::from_str_radix(&st[2..], 16).map_err(|_| bad("bad target"))?;
                    if let Some(code) = pointer_code(sym) {
                        ptrs.push((code, src, tgt, file_index(tpos), off));
                    }
                }
                raw.push(RawSynset {
                    ty,
                    lexfile,
                    offset,
                    words,
                    ptrs,
                });
            }
        }

        let mut offsets: FxHashMap<(u8, u32), SynsetId> = FxHashMap::default();
        for (i, s) in raw.iter().enumerate() {
            let file = match s.ty {
                0 => 0,
                1 => 1,
                2 | 4 => 2,
                _ => 3,
            };
            offsets.insert((file, s.offset), SynsetId(i as u32));
        }

        // Index files: lemmas and their senses.
        let mut index_senses: Vec<(String, Pos, Vec<SynsetId>)> = Vec::new();
        for pos in Pos::ALL {
            let name = format!("index.{}", pos.file_suffix());
            let text = read(&name)?;
            let path = dir.join(&name);
            for (ln, line) in text.lines().enumerate() {
                if line.starts_with("  ") || line.is_empty() {
                    continue;
                }
                let bad = |why: &str| model_err(&path, ln, why);
                let mut f = line.split_ascii_whitespace();
                let lemma = f.next().ok_or_else(|| bad("missing lemma"))?.to_lowercase();
                f.next();
                let synset_cnt: usize = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad synset_cnt"))?;
                let p_cnt: usize = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad p_cnt"))?;
                for _ in 0..p_cnt {
                    f.next();
                }
                f.next(); // sense_cnt
                f.next(); // tagsense_cnt
                let mut ids = Vec::with_capacity(synset_cnt);
                for _ in 0..synset_cnt {
                    let off: u32 = f
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad("bad synset offset"))?;
                    let id = *offsets
                        .get(&(file_index(pos), off))
                        .ok_or_else(|| bad("synset offset not in data file"))?;
                    ids.push(id);
                }
                index_senses.push((lemma, pos, ids));
            }
        }

        // Exception lists.
        let mut exc: [Vec<(String, Vec<String>)>; 4] = Default::default();
        for pos in Pos::ALL {
            let name = format!("{}.exc", pos.file_suffix());
            let p = dir.join(&name);
            if !p.exists() {
                continue;
            }
            let text = read(&name)?;
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for line in text.lines() {
                let mut f = line.split_ascii_whitespace();
                let Some(form) = f.next() else { continue };
                let e = map.entry(form.to_lowercase()).or_default();
                for b in f {
                    let b = b.to_lowercase();
                    if !e.contains(&b) {
                        e.push(b);
                    }
                }
            }
            let mut v: Vec<_> = map.into_iter().filter(|(_, b)| !b.is_empty()).collect();
            v.sort();
            exc[pos.idx()] = v;
        }

        // Lemma table.
        let mut lemma_set: Vec<String> = index_senses.iter().map(|(l, _, _)| l.clone()).collect();
        for s in &raw {
            for w in &s.words {
                lemma_set.push(w.to_lowercase());
            }
        }
        lemma_set.sort_unstable();
        lemma_set.dedup();
        let index: FxHashMap<String, LemmaId> = lemma_set
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), LemmaId(i as u32)))
            .collect();

        let n = lemma_set.len();
        let mut per: Vec<Vec<SynsetId>> = vec![Vec::new(); n * 4];
        for (lemma, pos, ids) in index_senses {
            let l = index[&lemma].0 as usize;
            per[l * 4 + pos.idx()] = ids;
        }
        let mut sense_off = Vec::with_capacity(n * 4 + 1);
        let mut senses = Vec::new();
        sense_off.push(0u32);
        for v in per {
            senses.extend(v);
            sense_off.push(senses.len() as u32);
        }

        let mut r = Repr {
            lemma_freq: vec![0; n],
            sense_off,
            senses,
            exc,
            ..Repr::default()
        };
        r.member_off.push(0);
        r.ptr_off.push(0);
        for s in &raw {
            r.syn_type.push(s.ty);
            r.syn_lexfile.push(s.lexfile);
            r.syn_offset.push(s.offset);
            for w in &s.words {
                let lower = w.to_lowercase();
                if *w != lower {
                    r.cased.push((r.members.len() as u32, w.clone()));
                }
                r.members.push(index[&lower]);
            }
            r.member_off.push(r.members.len() as u32);
            for &(code, src, tgt, file, off) in &s.ptrs {
                let target = *offsets.get(&(file, off)).ok_or_else(|| {
                    Error::Model(format!("WordNet pointer to missing synset {off}"))
                })?;
                r.ptrs.push(Pointer {
                    code,
                    source: src,
                    target_word: tgt,
                    target,
                });
            }
            r.ptr_off.push(r.ptrs.len() as u32);
        }

        // Optional frequency counts.
        let cnt = dir.join("cntlist.rev");
        if cnt.exists() {
            let text = read("cntlist.rev")?;
            for line in text.lines() {
                let mut f = line.split_ascii_whitespace();
                let (Some(key), Some(_), Some(c)) = (f.next(), f.next(), f.next()) else {
                    continue;
                };
                let Some(lemma) = key.split('%').next() else {
                    continue;
                };
                let Ok(c) = c.parse::<u32>() else { continue };
                if let Some(id) = index.get(&lemma.to_lowercase()) {
                    r.lemma_freq[id.0 as usize] = r.lemma_freq[id.0 as usize].saturating_add(c);
                }
            }
        }
        r.lemmas = lemma_set;
        let mut wn = Self::from_repr(r);
        wn.index = index;
        Ok(wn)
    }

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

    // ----- morphology -----

    /// The exception-list base forms of an inflected form (`"went"` → `["go"]`).
    pub fn exceptions(&self, form: &str, pos: Pos) -> &[String] {
        self.exc[pos.idx()]
            .get(form)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// The synonyms of `word` (any case) inflected and cased like it, each
    /// once, `word` itself left out: the words a generic synonym spinner
    /// could have written for it, or, since synonymy is symmetric, the
    /// originals it could have been written for.
    pub fn synonyms_like(&self, word: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (lemma, pos) in self.synonyms(&word.to_lowercase()) {
            let w = self.inflect(&lemma, pos, word);
            if w != word && !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }

    /// Every synonym of a lowercase word: (lemma, part of speech) over every
    /// sense of every base form, the word itself left out. These are the
    /// words a generic synonym spinner picks from.
    pub fn synonyms(&self, lower: &str) -> Vec<(String, Pos)> {
        let mut out: Vec<(String, Pos)> = Vec::new();
        for (base, pos) in self.base_forms(lower) {
            for &s in self.senses(&base, pos) {
                for l in self.synset_lemmas(s) {
                    if l != base && l != lower && !out.iter().any(|(o, p)| o == l && *p == pos) {
                        out.push((l.to_string(), pos));
                    }
                }
            }
        }
        out
    }

    /// WordNet's `morphy`: the lemmas `word` can be a form of, with their part
    /// of speech, in the order noun, verb, adjective, adverb. The word itself is
    /// included when it is a lemma of that part of speech. For each part of
    /// speech an exception-list entry suppresses the suffix rules, as in
    /// WordNet. Input is lowercased; spaces become `_`.
    pub fn base_forms(&self, word: &str) -> Vec<(String, Pos)> {
        let w = word.trim().to_lowercase().replace(' ', "_");
        let mut out: Vec<(String, Pos)> = Vec::new();
        if w.is_empty() {
            return out;
        }
        let push = |out: &mut Vec<(String, Pos)>, s: String, p: Pos| {
            if self.has_pos(&s, p) && !out.iter().any(|(o, q)| *o == s && *q == p) {
                out.push((s, p));
            }
        };
        for pos in Pos::ALL {
            if let Some(bases) = self.exc[pos.idx()].get(&w) {
                for b in bases {
                    push(&mut out, b.clone(), pos);
                }
                push(&mut out, w.clone(), pos);
                continue;
            }
            push(&mut out, w.clone(), pos);
            for cand in morph_rules(&w, pos) {
                push(&mut out, cand, pos);
            }
            // Multiword: morph one word at a time ("attorneys_general", "hot_dogs", "gave_up").
            if w.contains('_') && (pos == Pos::Noun || pos == Pos::Verb) {
                let parts: Vec<&str> = w.split('_').collect();
                for k in 0..parts.len() {
                    let head = parts[k];
                    let mut heads: Vec<String> =
                        self.exc[pos.idx()].get(head).cloned().unwrap_or_default();
                    heads.extend(morph_rules(head, pos));
                    for h in heads {
                        let mut p2: Vec<&str> = parts.clone();
                        p2[k] = &h;
                        push(&mut out, p2.join("_"), pos);
                    }
                }
            }
        }
        out
    }

    /// Whether `word` (lowercase) is an inflected form of some other lemma: it
    /// is an exception-list form, or a suffix rule maps it to a different lemma
    /// of at least `min_base_len` bytes. `"agreed"`, `"talks"`, `"are"`, `"men"`
    /// are; `"as"` (→ "a", too short for morphy) and `"news"` are not.
    pub fn is_inflected_form(&self, word: &str, min_base_len: usize) -> bool {
        for pos in Pos::ALL {
            if let Some(bases) = self.exc[pos.idx()].get(word) {
                if bases.iter().any(|b| b != word && self.has_pos(b, pos)) {
                    return true;
                }
                continue;
            }
            for c in morph_rules(word, pos) {
                if c != word && c.len() >= min_base_len && self.has_pos(&c, pos) {
                    return true;
                }
            }
        }
        false
    }

    /// Classifies how `form` is inflected as a `pos` word.
    pub fn inflection_of(&self, form: &str, pos: Pos) -> Inflection {
        let w = form.to_lowercase().replace(' ', "_");
        let head = match pos {
            Pos::Noun => w.rsplit('_').next().unwrap_or(&w).to_string(),
            Pos::Verb => w.split('_').next().unwrap_or(&w).to_string(),
            _ => w.clone(),
        };
        let exc_bases: Vec<String> = self.exc[pos.idx()].get(&head).cloned().unwrap_or_default();
        let is_exc = exc_bases.iter().any(|b| *b != head);
        let rule_base = morph_rules(&head, pos).iter().any(|b| self.has_pos(b, pos))
            || (w.contains('_')
                && self
                    .base_forms(&w)
                    .iter()
                    .any(|(s, p)| *p == pos && *s != w));
        let known = self.has_pos(&w, pos) || self.has_pos(&head, pos);
        let inflected = is_exc || rule_base || (!known && looks_inflected(&head, pos));
        if !inflected {
            return Inflection::None;
        }
        match pos {
            Pos::Noun => Inflection::Plural,
            Pos::Verb => {
                if head.ends_with("ing") {
                    Inflection::PresentParticiple
                } else if is_exc {
                    if ["is", "has", "does", "goes"].contains(&head.as_str()) {
                        Inflection::ThirdSingular
                    } else if head == "been" || head.ends_with('n') || head.ends_with("ne") {
                        Inflection::PastParticiple
                    } else {
                        Inflection::Past
                    }
                } else if head.ends_with("ed") {
                    Inflection::Past
                } else if head.ends_with('s') {
                    Inflection::ThirdSingular
                } else {
                    Inflection::Past
                }
            }
            Pos::Adj | Pos::Adv => {
                if head.ends_with("st") {
                    Inflection::Superlative
                } else {
                    Inflection::Comparative
                }
            }
        }
    }

    /// Puts `lemma` (a `pos` lemma, `_` or spaces between words) into the
    /// inflection `infl`, preferring the exception lists read backwards
    /// (`go` + Past → `went`, `child` + Plural → `children`) and otherwise
    /// regular English spelling rules. Words are joined by spaces.
    pub fn inflect_as(&self, lemma: &str, pos: Pos, infl: Inflection) -> String {
        let l = lemma.to_lowercase().replace(' ', "_");
        if infl == Inflection::None {
            return l.replace('_', " ");
        }
        // Try the whole lemma first, then its head word.
        if let Some(f) = self.irregular(&l, pos, infl) {
            return f.replace('_', " ");
        }
        let parts: Vec<&str> = l.split('_').collect();
        let k = match pos {
            Pos::Verb => 0,
            _ => parts.len() - 1,
        };
        let head = parts[k];
        let new_head = self
            .irregular(head, pos, infl)
            .unwrap_or_else(|| regular_inflection(head, infl));
        let mut out: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        out[k] = new_head;
        out.join(" ")
    }

    fn irregular(&self, base: &str, pos: Pos, infl: Inflection) -> Option<String> {
        if pos == Pos::Verb {
            if let Some(f) = irregular_verb_table(base, infl) {
                return Some(f.to_string());
            }
        }
        let forms = self.rev_exc[pos.idx()].get(base)?;
        let pick = |pred: &dyn Fn(&str) -> bool| forms.iter().find(|f| pred(f)).cloned();
        match (pos, infl) {
            (Pos::Noun, Inflection::Plural) => forms.first().cloned(),
            (Pos::Verb, Inflection::PresentParticiple) => pick(&|f| f.ends_with("ing")),
            (Pos::Verb, Inflection::ThirdSingular) => None,
            (Pos::Verb, Inflection::Past) => {
                pick(&|f| !f.ends_with("ing") && !f.ends_with('n') && !f.ends_with("ne"))
                    .or_else(|| pick(&|f| !f.ends_with("ing")))
            }
            (Pos::Verb, Inflection::PastParticiple) => {
                pick(&|f| f.ends_with('n') || f.ends_with("ne"))
                    .or_else(|| pick(&|f| !f.ends_with("ing")))
            }
            (Pos::Adj | Pos::Adv, Inflection::Comparative) => pick(&|f| !f.ends_with("st")),
            (Pos::Adj | Pos::Adv, Inflection::Superlative) => pick(&|f| f.ends_with("st")),
            _ => None,
        }
    }

    /// Every form of `lemma` in the parts of speech it has: the lemma
    /// itself, plurals, verb forms, comparatives and superlatives.
    pub fn inflected_forms(&self, lemma: &str) -> Vec<String> {
        use Inflection::*;
        let mut out = vec![lemma.to_string()];
        for pos in Pos::ALL {
            if !self.has_pos(lemma, pos) {
                continue;
            }
            let infls: &[Inflection] = match pos {
                Pos::Noun => &[Plural],
                Pos::Verb => &[ThirdSingular, Past, PastParticiple, PresentParticiple],
                Pos::Adj => &[Comparative, Superlative],
                Pos::Adv => &[],
            };
            for &infl in infls {
                let f = self.inflect_as(lemma, pos, infl);
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// Re-inflects a replacement `lemma` of part of speech `pos` the way
    /// `like_original` was inflected, and copies its capitalization
    /// (`inflect("kid", Noun, "Children")` → `"Kids"`, `inflect("go", Verb,
    /// "walked")` → `"went"`). Multiword lemmas come back with spaces.
    pub fn inflect(&self, lemma: &str, pos: Pos, like_original: &str) -> String {
        let infl = self.inflection_of(like_original, pos);
        let out = self.inflect_as(lemma, pos, infl);
        match_case(like_original, &out)
    }
}

/// An inflection of an English word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Inflection {
    None,
    Plural,
    ThirdSingular,
    Past,
    PastParticiple,
    PresentParticiple,
    Comparative,
    Superlative,
}

const NOUN_RULES: &[(&str, &str)] = &[
    ("s", ""),
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
];
const VERB_RULES: &[(&str, &str)] = &[
    ("s", ""),
    ("ies", "y"),
    ("es", "e"),
    ("es", ""),
    ("ed", "e"),
    ("ed", ""),
    ("ing", "e"),
    ("ing", ""),
];
const ADJ_RULES: &[(&str, &str)] = &[("er", ""), ("est", ""), ("er", "e"), ("est", "e")];

/// WordNet's suffix-detachment candidates (not filtered by the lexicon).
fn morph_rules(w: &str, pos: Pos) -> Vec<String> {
    let rules = match pos {
        Pos::Noun => {
            // morphy: nouns ending in "ss" or of two letters or fewer are left alone.
            if w.ends_with("ss") || w.len() <= 2 {
                return Vec::new();
            }
            NOUN_RULES
        }
        Pos::Verb => VERB_RULES,
        Pos::Adj => ADJ_RULES,
        Pos::Adv => return Vec::new(),
    };
    let mut out = Vec::new();
    for (suf, rep) in rules {
        if let Some(stem) = w.strip_suffix(suf) {
            if stem.is_empty() {
                continue;
            }
            let c = format!("{stem}{rep}");
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

fn looks_inflected(w: &str, pos: Pos) -> bool {
    match pos {
        Pos::Noun => w.ends_with('s') && !w.ends_with("ss") && w.len() > 3,
        Pos::Verb => {
            w.ends_with("ing") || w.ends_with("ed") || (w.ends_with('s') && !w.ends_with("ss"))
        }
        Pos::Adj | Pos::Adv => (w.ends_with("er") || w.ends_with("est")) && w.len() > 4,
    }
}

fn irregular_verb_table(base: &str, infl: Inflection) -> Option<&'static str> {
    use Inflection::*;
    let row: [&'static str; 4] = match base {
        "be" => ["is", "was", "been", "being"],
        "have" => ["has", "had", "had", "having"],
        "do" => ["does", "did", "done", "doing"],
        "go" => ["goes", "went", "gone", "going"],
        _ => return Option::None,
    };
    Some(match infl {
        ThirdSingular => row[0],
        Past => row[1],
        PastParticiple => row[2],
        PresentParticiple => row[3],
        _ => return Option::None,
    })
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// A short word ending consonant-vowel-consonant doubles its last letter
/// ("stop" → "stopped", "big" → "bigger").
fn doubles_final(w: &str) -> bool {
    let b = w.as_bytes();
    let n = b.len();
    if n < 3 || !b.iter().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let (c1, v, c2) = (b[n - 3], b[n - 2], b[n - 1]);
    if is_vowel(c1) || !is_vowel(v) || is_vowel(c2) || matches!(c2, b'w' | b'x' | b'y') {
        return false;
    }
    // Only one vowel group: monosyllables.
    let groups = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| (is_vowel(c) || (c == b'y' && i > 0)) && (i == 0 || !is_vowel(b[i - 1])))
        .count();
    groups == 1
}

fn ends_consonant_y(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() >= 2 && b[b.len() - 1] == b'y' && !is_vowel(b[b.len() - 2])
}

fn syllables(w: &str) -> usize {
    let b = w.as_bytes();
    let mut n = 0;
    let mut prev = false;
    for &c in b {
        let v = is_vowel(c) || c == b'y';
        if v && !prev {
            n += 1;
        }
        prev = v;
    }
    if w.ends_with('e') && !w.ends_with("le") && n > 1 {
        n -= 1;
    }
    n.max(1)
}

/// Regular English inflection of a single word.
pub fn regular_inflection(w: &str, infl: Inflection) -> String {
    use Inflection::*;
    let sibilant = w.ends_with('s')
        || w.ends_with('x')
        || w.ends_with('z')
        || w.ends_with("ch")
        || w.ends_with("sh");
    match infl {
        None => w.to_string(),
        Plural => {
            if ends_consonant_y(w) {
                format!("{}ies", &w[..w.len() - 1])
            } else if sibilant {
                format!("{w}es")
            } else {
                format!("{w}s")
            }
        }
        ThirdSingular => {
            let b = w.as_bytes();
            if ends_consonant_y(w) {
                format!("{}ies", &w[..w.len() - 1])
            } else if sibilant || (w.ends_with('o') && b.len() >= 2 && !is_vowel(b[b.len() - 2])) {
                format!("{w}es")
            } else {
                format!("{w}s")
            }
        }
        Past | PastParticiple => {
            if w.ends_with('e') {
                format!("{w}d")
            } else if ends_consonant_y(w) {
                format!("{}ied", &w[..w.len() - 1])
            } else if doubles_final(w) {
                format!("{w}{}ed", &w[w.len() - 1..])
            } else {
                format!("{w}ed")
            }
        }
        PresentParticiple => {
            if let Some(stem) = w.strip_suffix("ie") {
                format!("{stem}ying")
            } else if w.ends_with('e')
                && !w.ends_with("ee")
                && !w.ends_with("ye")
                && !w.ends_with("oe")
                && w.len() > 2
            {
                format!("{}ing", &w[..w.len() - 1])
            } else if doubles_final(w) {
                format!("{w}{}ing", &w[w.len() - 1..])
            } else {
                format!("{w}ing")
            }
        }
        Comparative | Superlative => {
            let (suf, more) = if infl == Comparative {
                ("er", "more")
            } else {
                ("est", "most")
            };
            if syllables(w) >= 3 || (syllables(w) == 2 && !w.ends_with('y')) {
                format!("{more} {w}")
            } else if w.ends_with('e') {
                format!("{w}{}", &suf[1..])
            } else if ends_consonant_y(w) {
                format!("{}i{suf}", &w[..w.len() - 1])
            } else if doubles_final(w) {
                format!("{w}{}{suf}", &w[w.len() - 1..])
            } else {
                format!("{w}{suf}")
            }
        }
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
    fn system_wordnet_parses_to_the_embedded_model() {
        let Some(dir) = test_dependency(
            "UNSPIN_TEST_WORDNET_DIR",
            "usr/share/wordnet",
            "wordnet-base",
        ) else {
            return;
        };
        let wn = WordNet::from_dict_dir(&dir).expect("parse Debian's WordNet");
        assert_eq!(wn.synset_count(), 82115 + 13767 + 18156 + 3621);
        // Byte for byte what `unspin-build wordnet` wrote into models/ (the
        // model build is reproducible), so the tests on the embedded model
        // below test the parser too.
        let embedded = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/wordnet.unspin"
        ))
        .expect("models/wordnet.unspin");
        assert!(
            wn.to_bytes() == embedded,
            "parsing {} no longer gives models/wordnet.unspin",
            dir.display()
        );
    }

    #[test]
    fn wordnet_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<WordNet>();
        check::<crate::spinner::Spinner<'static>>();
    }

    #[test]
    fn regular_inflections() {
        use Inflection::*;
        let cases = [
            ("box", Plural, "boxes"),
            ("city", Plural, "cities"),
            ("day", Plural, "days"),
            ("stop", Past, "stopped"),
            ("visit", Past, "visited"),
            ("hope", Past, "hoped"),
            ("try", Past, "tried"),
            ("stop", PresentParticiple, "stopping"),
            ("make", PresentParticiple, "making"),
            ("die", PresentParticiple, "dying"),
            ("see", PresentParticiple, "seeing"),
            ("go", ThirdSingular, "goes"),
            ("big", Comparative, "bigger"),
            ("happy", Superlative, "happiest"),
            ("large", Comparative, "larger"),
            ("beautiful", Comparative, "more beautiful"),
        ];
        for (w, i, want) in cases {
            assert_eq!(regular_inflection(w, i), want, "{w} {i:?}");
        }
        assert_eq!(match_case("Children", "kids"), "Kids");
        assert_eq!(match_case("CHILDREN", "kids"), "KIDS");
        assert_eq!(match_case("children", "kids"), "kids");
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
    fn morphy() {
        let wn = embedded();
        let has = |w: &str, b: &str, p: Pos| wn.base_forms(w).contains(&(b.to_string(), p));
        assert!(has("went", "go", Pos::Verb));
        assert!(has("children", "child", Pos::Noun));
        assert!(has("soldiers", "soldier", Pos::Noun));
        assert!(has("agreed", "agree", Pos::Verb));
        assert!(has("agreed", "agreed", Pos::Adj));
        assert!(has("boxes", "box", Pos::Noun));
        assert!(has("better", "good", Pos::Adj));
        assert!(has("running", "run", Pos::Verb));
        assert!(has("talks", "talk", Pos::Verb));
        assert!(has("attorneys general", "attorney_general", Pos::Noun));
        assert!(!has("as", "a", Pos::Noun));
        assert!(wn.base_forms("xyzzy").is_empty());
        assert!(wn.is_inflected_form("agreed", 3));
        assert!(wn.is_inflected_form("talks", 3));
        assert!(wn.is_inflected_form("are", 3));
        assert!(!wn.is_inflected_form("as", 3));
        assert!(!wn.is_inflected_form("new", 3));
        assert!(!wn.is_inflected_form("he", 3));
    }

    #[test]
    fn inflect_like_original() {
        let wn = embedded();
        assert_eq!(wn.inflect("kid", Pos::Noun, "Children"), "Kids");
        assert_eq!(wn.inflect("child", Pos::Noun, "kids"), "children");
        assert_eq!(wn.inflect("mouse", Pos::Noun, "rats"), "mice");
        assert_eq!(wn.inflect("go", Pos::Verb, "walked"), "went");
        assert_eq!(wn.inflect("go", Pos::Verb, "taken"), "gone");
        assert_eq!(wn.inflect("run", Pos::Verb, "walked"), "ran");
        assert_eq!(wn.inflect("stop", Pos::Verb, "walking"), "stopping");
        assert_eq!(wn.inflect("walk", Pos::Verb, "ran"), "walked");
        assert_eq!(wn.inflect("try", Pos::Verb, "goes"), "tries");
        assert_eq!(wn.inflect("be", Pos::Verb, "has"), "is");
        assert_eq!(wn.inflect("good", Pos::Adj, "bigger"), "better");
        assert_eq!(wn.inflect("big", Pos::Adj, "best"), "biggest");
        assert_eq!(wn.inflect("hot_dog", Pos::Noun, "sandwiches"), "hot dogs");
        assert_eq!(wn.inflect("give_up", Pos::Verb, "stopped"), "gave up");
        assert_eq!(wn.inflect("news", Pos::Noun, "news"), "news");
        assert_eq!(wn.inflect("tin", Pos::Noun, "can"), "tin");
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
