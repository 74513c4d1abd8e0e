//! Back-off n-gram language model (orders 1 to 3) with a fast in-memory form.
//!
//! Sources: unspin's own compact model file (container kind `LMTG`), the CMU
//! Sphinx binary trie format (`en-us.lm.bin`) and ARPA text. Whatever the
//! source, the model is held the same way:
//!
//! * unigram log-probabilities and backoffs as plain `f32`;
//! * bigrams and trigrams in two open-addressing hash tables whose slots are
//!   single `u64`s: the packed word ids (`word_bits` each) plus 8-bit codes of
//!   the log-probability (and, for bigrams, the backoff) into per-order
//!   256-entry codebooks trained by 1-D k-means.
//!
//! Word ids are assigned in order of decreasing unigram probability, so common
//! words have small ids. `log10_prob` implements Katz back-off:
//! `p(c|a b) = p3(a b c)` if present, else `bo(a b) + p(c|b)`, with
//! `p(c|b) = p2(b c)` if present, else `bo(b) + p1(c)`; a missing context has
//! backoff 0.

mod arpa;
mod format;
mod mix;
mod quant;
mod raw;
mod sphinx;
mod table;
pub mod train;

use std::path::Path;

use crate::Error;
use quant::Codebook;
use raw::RawModel;
use table::Table;

/// Index of a word in a [`LanguageModel`]'s vocabulary.
pub type WordId = u32;

/// Log10 probability given to unknown words when the model has no `<unk>`.
pub const UNK_FLOOR: f32 = -7.0;

/// The largest vocabulary a trigram model can hold (21 bits per word id).
pub const MAX_VOCAB: usize = (1 << 21) - 1;

/// Container kind tag of a language model file.
pub const KIND: [u8; 4] = *b"LMTG";
/// Format version of the language model payload.
pub const VERSION: u32 = 1;
/// zstd level used by [`LanguageModel::to_bytes`].
pub const DEFAULT_ZSTD_LEVEL: i32 = 19;

/// Sizes of a model, for `unspin model info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LmStats {
    /// Highest n-gram order.
    pub order: usize,
    /// Number of n-grams of each order; `ngrams[0]` is the vocabulary size.
    pub ngrams: Vec<u64>,
    /// Bits per quantized log-probability / backoff (unigrams are exact).
    pub quant_bits: u32,
    /// Heap memory of the loaded model in bytes.
    pub memory_bytes: usize,
}

impl std::fmt::Display for LmStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-gram model:", self.order)?;
        for (i, n) in self.ngrams.iter().enumerate() {
            write!(f, " {}-grams {}", i + 1, n)?;
        }
        write!(
            f,
            "; {}-bit quantization; {:.1} MiB in memory",
            self.quant_bits,
            self.memory_bytes as f64 / (1024.0 * 1024.0)
        )
    }
}

/// A back-off trigram language model. Cheap to share between threads.
#[derive(Clone, Debug)]
pub struct LanguageModel {
    order: usize,
    word_bits: u32,
    /// Words separated by nothing; word `i` is `text[offsets[i]..offsets[i+1]]`.
    text: String,
    offsets: Vec<u32>,
    /// Open-addressing index from word hash to id (`u32::MAX` = empty).
    index: Vec<u32>,
    /// (log10 prob, log10 backoff) per word id.
    uni: Vec<[f32; 2]>,
    bi: Table,
    tri: Table,
    bi_prob: Codebook,
    bi_bo: Codebook,
    tri_prob: Codebook,
    bos: WordId,
    eos: WordId,
    unk: WordId,
    /// The CPU has AVX2 (checked once at construction).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    avx2: bool,
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

const NO_ID: u32 = u32::MAX;

#[inline]
fn hash_str(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    // FxHash's low bits are weak; mix before masking.
    let x = h.finish();
    (x ^ (x >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93) >> 16
}

/// Number of bits needed so that every id in `0..n` is below `2^bits - 1`.
fn bits_for(n: usize) -> u32 {
    (usize::BITS - n.leading_zeros()).max(1)
}

/// Builds a hash table from unique (key, value) pairs.
fn build_table(entries: &[(u64, u16)], key_bits: u32, val_bits: u32) -> Table {
    let mut t = Table::with_capacity(entries.len(), key_bits, val_bits);
    t.insert_batch(entries);
    t
}

/// Runs two jobs, on two threads when `par` is set.
fn parallel<A: Send, B: Send>(
    par: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if par {
        std::thread::scope(|s| {
            let h = s.spawn(b);
            let ra = a();
            (
                ra,
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        })
    } else {
        (a(), b())
    }
}

impl LanguageModel {
    // ------------------------------------------------------------------
    // Construction
    // ------------------------------------------------------------------

    /// Reads unspin's own model file (container kind `LMTG`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        format::read(bytes)
    }

    /// Writes unspin's own model file, compressed at zstd level 19.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_with_level(DEFAULT_ZSTD_LEVEL)
    }

    /// Writes unspin's own model file at a chosen zstd level (1-22).
    pub fn to_bytes_with_level(&self, level: i32) -> Vec<u8> {
        format::write(self, level)
    }

    /// Reads an ARPA text model, streaming. N-grams above order 3 are skipped
    /// (their sections are read past without being stored).
    pub fn from_arpa<R: std::io::BufRead>(r: R) -> Result<Self, Error> {
        let raw = arpa::read(r)?;
        Self::from_raw(raw)
    }

    /// Reads a CMU Sphinx / PocketSphinx binary trie model (`*.lm.bin`).
    pub fn from_sphinx_bin(bytes: &[u8]) -> Result<Self, Error> {
        let raw = sphinx::read(bytes)?;
        Self::from_raw(raw)
    }

    /// Loads a model file, recognising unspin's format, the Sphinx binary
    /// format and ARPA text by their first bytes.
    pub fn load_path(path: &Path) -> Result<Self, Error> {
        use std::io::Read;
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
        let mut f = std::fs::File::open(path).map_err(io)?;
        let mut head = Vec::with_capacity(32);
        (&mut f).take(32).read_to_end(&mut head).map_err(io)?;
        let with_path = |e: Error| match e {
            Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
            other => other,
        };
        if head.starts_with(crate::container::MAGIC) || head.starts_with(sphinx::HEADER) {
            let bytes = std::fs::read(path).map_err(io)?;
            let r = if head.starts_with(crate::container::MAGIC) {
                Self::from_bytes(&bytes)
            } else {
                Self::from_sphinx_bin(&bytes)
            };
            return r.map_err(with_path);
        }
        let f = std::fs::File::open(path).map_err(io)?;
        Self::from_arpa(std::io::BufReader::with_capacity(1 << 20, f)).map_err(with_path)
    }

    /// Builds the fast form from exact values: adds missing special words,
    /// renumbers words by decreasing unigram probability, trains codebooks.
    fn from_raw(mut raw: RawModel) -> Result<Self, Error> {
        raw.validate("language model")?;
        // Canonical special tokens.
        let mut find = |name: &str, default_prob: f32| -> u32 {
            if let Some(i) = raw.words.iter().position(|w| w.eq_ignore_ascii_case(name)) {
                raw.words[i] = name.to_string();
                i as u32
            } else {
                raw.words.push(name.to_string());
                raw.uni.push((default_prob, 0.0));
                (raw.words.len() - 1) as u32
            }
        };
        let bos = find("<s>", -99.0);
        let eos = find("</s>", UNK_FLOOR);
        let unk = find("<unk>", UNK_FLOOR);
        let n = raw.words.len();
        if n > MAX_VOCAB {
            return Err(Error::Model(format!(
                "language model: vocabulary of {n} words exceeds the limit of {MAX_VOCAB}"
            )));
        }
        // Renumber by decreasing unigram probability (ties: original order).
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.sort_by(|&a, &b| {
            raw.uni[b as usize]
                .0
                .total_cmp(&raw.uni[a as usize].0)
                .then(a.cmp(&b))
        });
        let mut new_id = vec![0u32; n];
        for (new, &old) in perm.iter().enumerate() {
            new_id[old as usize] = new as u32;
        }
        let words: Vec<String> = perm
            .iter()
            .map(|&o| std::mem::take(&mut raw.words[o as usize]))
            .collect();
        let uni: Vec<[f32; 2]> = perm
            .iter()
            .map(|&o| {
                let (p, b) = raw.uni[o as usize];
                [p, b]
            })
            .collect();
        let order = raw.order;
        let bits = bits_for(n);

        let mut bi: Vec<raw::Bigram> = if order >= 2 {
            std::mem::take(&mut raw.bi)
        } else {
            Vec::new()
        };
        for g in &mut bi {
            g.w1 = new_id[g.w1 as usize];
            g.w2 = new_id[g.w2 as usize];
        }
        bi.sort_by_key(|g| (g.w1, g.w2));
        bi.dedup_by_key(|g| (g.w1, g.w2));
        let mut tri: Vec<raw::Trigram> = if order >= 3 {
            std::mem::take(&mut raw.tri)
        } else {
            Vec::new()
        };
        for g in &mut tri {
            g.w1 = new_id[g.w1 as usize];
            g.w2 = new_id[g.w2 as usize];
            g.w3 = new_id[g.w3 as usize];
        }
        tri.sort_by_key(|g| (g.w1, g.w2, g.w3));
        tri.dedup_by_key(|g| (g.w1, g.w2, g.w3));

        let bi_prob = Codebook::train(&bi.iter().map(|g| g.prob).collect::<Vec<_>>());
        let bi_bo = Codebook::train(&bi.iter().map(|g| g.bo).collect::<Vec<_>>());
        let tri_prob = Codebook::train(&tri.iter().map(|g| g.prob).collect::<Vec<_>>());
        let bi_codes: Vec<(u64, u16)> = bi
            .iter()
            .map(|g| {
                let key = ((g.w1 as u64) << bits) | g.w2 as u64;
                (
                    key,
                    bi_prob.encode(g.prob) as u16 | (bi_bo.encode(g.bo) as u16) << 8,
                )
            })
            .collect();
        drop(bi);
        let tri_codes: Vec<(u64, u16)> = tri
            .iter()
            .map(|g| {
                let key = ((g.w1 as u64) << (2 * bits)) | ((g.w2 as u64) << bits) | g.w3 as u64;
                (key, tri_prob.encode(g.prob) as u16)
            })
            .collect();
        drop(tri);
        let (bi_t, tri_t) = parallel(
            bi_codes.len() + tri_codes.len() > 200_000,
            || build_table(&bi_codes, 2 * bits, 16),
            || build_table(&tri_codes, 3 * bits, 8),
        );
        Ok(Self::assemble(
            order,
            words.iter().map(|s| s.as_str()),
            uni,
            (bi_prob, bi_bo, tri_prob),
            (bi_t, tri_t),
            (
                new_id[bos as usize],
                new_id[eos as usize],
                new_id[unk as usize],
            ),
        ))
    }

    /// Puts the parts together and builds the word index.
    fn assemble<'a>(
        order: usize,
        words: impl Iterator<Item = &'a str>,
        uni: Vec<[f32; 2]>,
        books: (Codebook, Codebook, Codebook),
        (bi, tri): (Table, Table),
        (bos, eos, unk): (WordId, WordId, WordId),
    ) -> Self {
        let n = uni.len();
        let mut text = String::new();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u32);
        for w in words {
            text.push_str(w);
            offsets.push(text.len() as u32);
        }
        let cap = (n * 2).next_power_of_two().max(2);
        let mut index = vec![NO_ID; cap];
        let mask = cap - 1;
        for id in 0..n {
            let w = &text[offsets[id] as usize..offsets[id + 1] as usize];
            let mut i = hash_str(w) as usize & mask;
            loop {
                if index[i] == NO_ID {
                    index[i] = id as u32;
                    break;
                }
                let o = index[i] as usize;
                if &text[offsets[o] as usize..offsets[o + 1] as usize] == w {
                    break; // duplicate word: first one wins
                }
                i = (i + 1) & mask;
            }
        }
        LanguageModel {
            order,
            word_bits: bits_for(n),
            text,
            offsets,
            index,
            uni,
            bi,
            tri,
            bi_prob: books.0,
            bi_bo: books.1,
            tri_prob: books.2,
            bos,
            eos,
            unk,
            avx2: has_avx2(),
        }
    }

    // ------------------------------------------------------------------
    // Vocabulary
    // ------------------------------------------------------------------

    /// The id of a whitespace-separated piece of text as written: lowercased,
    /// with everything but letters, digits, apostrophes and hyphens dropped
    /// (so "Monday," is "monday"); `unk()` when not in the vocabulary.
    pub fn id_of_written(&self, piece: &str) -> WordId {
        let w: String = piece
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-')
            .collect();
        self.id(&w).unwrap_or(self.unk)
    }

    /// The id of `word` (already lowercased by the caller), if in the vocabulary.
    #[inline]
    pub fn id(&self, word: &str) -> Option<WordId> {
        let mask = self.index.len() - 1;
        let mut i = hash_str(word) as usize & mask;
        loop {
            let id = self.index[i];
            if id == NO_ID {
                return None;
            }
            if self.word(id) == word {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// The spelling of word `id`. Panics if `id >= vocab_len()`.
    #[inline]
    pub fn word(&self, id: WordId) -> &str {
        let i = id as usize;
        &self.text[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Sentence start `<s>`.
    pub fn bos(&self) -> WordId {
        self.bos
    }
    /// Sentence end `</s>`.
    pub fn eos(&self) -> WordId {
        self.eos
    }
    /// Unknown word `<unk>`; its probability is the model's, or [`UNK_FLOOR`].
    pub fn unk(&self) -> WordId {
        self.unk
    }
    /// Number of words, including `<s>`, `</s>` and `<unk>`.
    pub fn vocab_len(&self) -> usize {
        self.uni.len()
    }
    /// Highest n-gram order (1 to 3).
    pub fn order(&self) -> usize {
        self.order
    }

    // ------------------------------------------------------------------
    // Scores
    // ------------------------------------------------------------------

    #[inline(always)]
    fn clamp(&self, w: WordId) -> WordId {
        if (w as usize) < self.uni.len() {
            w
        } else {
            self.unk
        }
    }

    #[inline(always)]
    fn bi_key(&self, a: WordId, b: WordId) -> u64 {
        ((a as u64) << self.word_bits) | b as u64
    }

    /// log10 p(w3 | w1 w2) with Katz back-off. Either history word may be
    /// `bos()`; ids out of range are treated as `unk()`.
    #[inline]
    pub fn log10_prob(&self, w1: WordId, w2: WordId, w3: WordId) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU supports AVX2.
            return unsafe { self.log10_prob_avx2(w1, w2, w3) };
        }
        self.log10_prob_impl::<false>(w1, w2, w3)
    }

    /// The same code compiled with AVX2 enabled: the bucket scans become a
    /// few vector compares.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn log10_prob_avx2(&self, w1: WordId, w2: WordId, w3: WordId) -> f32 {
        self.log10_prob_impl::<true>(w1, w2, w3)
    }

    #[inline(always)]
    fn probe<const AVX2: bool>(t: &Table, key: u64) -> (bool, u16) {
        #[cfg(target_arch = "x86_64")]
        if AVX2 {
            // SAFETY: `AVX2` is true only inside `log10_prob_avx2`, which runs
            // only when the CPU has AVX2.
            return unsafe { t.probe_avx2(key) };
        }
        t.probe(key)
    }

    #[inline(always)]
    fn log10_prob_impl<const AVX2: bool>(&self, w1: WordId, w2: WordId, w3: WordId) -> f32 {
        let (w1, w2, w3) = (self.clamp(w1), self.clamp(w2), self.clamp(w3));
        let bits = self.word_bits;
        let k3 = ((w1 as u64) << (2 * bits)) | ((w2 as u64) << bits) | w3 as u64;
        // All three probes are made unconditionally and combined by
        // arithmetic (multiplying by 0.0 or 1.0; every value is finite, so the
        // result is exact): their memory accesses overlap and no branch
        // depends on whether an n-gram exists.
        let (t_ok, t) = Self::probe::<AVX2>(&self.tri, k3);
        let (c_ok, c) = Self::probe::<AVX2>(&self.bi, self.bi_key(w1, w2));
        let (b_ok, b) = Self::probe::<AVX2>(&self.bi, self.bi_key(w2, w3));
        let flag = |ok: bool| ok as u32 as f32;
        let ctx_bo = self.bi_bo.decode((c >> 8) as u8) * flag(c_ok);
        let backed_off = self.uni[w2 as usize][1] + self.uni[w3 as usize][0];
        let (bf, tf) = (flag(b_ok), flag(t_ok));
        let p2 = self.bi_prob.decode(b as u8) * bf + backed_off * (1.0 - bf);
        self.tri_prob.decode(t as u8) * tf + (ctx_bo + p2) * (1.0 - tf)
    }

    /// `log10_prob` of many trigrams at once, written to `out` (which must
    /// be as long as `queries`). Faster than a loop of `log10_prob` calls on
    /// large models: the memory reads of later queries are started while
    /// earlier ones are scored.
    pub fn log10_prob_many(&self, queries: &[[WordId; 3]], out: &mut [f32]) {
        assert_eq!(queries.len(), out.len(), "log10_prob_many: output length");
        const AHEAD: usize = 8;
        let prefetch = |q: &[WordId; 3]| {
            let (w1, w2, w3) = (self.clamp(q[0]), self.clamp(q[1]), self.clamp(q[2]));
            let bits = self.word_bits;
            self.tri
                .prefetch(((w1 as u64) << (2 * bits)) | ((w2 as u64) << bits) | w3 as u64);
            self.bi.prefetch(self.bi_key(w1, w2));
            self.bi.prefetch(self.bi_key(w2, w3));
        };
        for q in queries.iter().take(AHEAD) {
            prefetch(q);
        }
        for (i, (q, o)) in queries.iter().zip(out.iter_mut()).enumerate() {
            if let Some(next) = queries.get(i + AHEAD) {
                prefetch(next);
            }
            *o = self.log10_prob(q[0], q[1], q[2]);
        }
    }

    /// log10 p(w3 | w2) with back-off to the unigram.
    #[inline]
    pub fn log10_prob_bigram(&self, w2: WordId, w3: WordId) -> f32 {
        let (w2, w3) = (self.clamp(w2), self.clamp(w3));
        match self.bi.get(self.bi_key(w2, w3)) {
            Some(v) => self.bi_prob.decode(v as u8),
            None => self.uni[w2 as usize][1] + self.uni[w3 as usize][0],
        }
    }

    /// log10 p(w).
    #[inline]
    pub fn log10_unigram(&self, w: WordId) -> f32 {
        self.uni[self.clamp(w) as usize][0]
    }

    /// Counts per order and memory use.
    pub fn stats(&self) -> LmStats {
        let mut ngrams = vec![self.uni.len() as u64];
        if self.order >= 2 {
            ngrams.push(self.bi.len() as u64);
        }
        if self.order >= 3 {
            ngrams.push(self.tri.len() as u64);
        }
        LmStats {
            order: self.order,
            ngrams,
            quant_bits: 8,
            memory_bytes: self.text.capacity()
                + self.offsets.capacity() * 4
                + self.index.capacity() * 4
                + self.uni.capacity() * 8
                + self.bi.memory_bytes()
                + self.tri.memory_bytes(),
        }
    }
}

#[cfg(test)]
mod tests;
