//! Fingerprints that survive spinning, for tracing a spun copy to its source.
//!
//! Word shingles of a spun text share little with its original because about
//! a quarter of the words change. The tokens a spinner cannot touch do not
//! change (`shared/spinner.md`; the "immutables" of DSpin, NDSS 2014): tokens
//! with attached punctuation, capitalized words, numbers, inflected forms and
//! words outside the spinner's dictionary. A text's *immutable stream* keeps
//! exactly those: every whitespace token that is not a lowercase WordNet lemma
//! (the spinner's dictionary is WordNet), split into its word core and its
//! punctuation marks. Shingles of that stream come through a news-style
//! spinner intact, and through a generic synonym spinner mostly intact
//! (function words and punctuation never change).
//!
//! A second channel hashes shingles of *all* words. Originals are indexed with
//! both; a query's word shingles are taken from its restored text
//! ([`crate::restore`]), so every word the restorer gets right counts again.
//!
//! Shingles are sampled by hash value (Broder's MOD-m sketch: keep a shingle
//! when the low bits of its hash are zero), so the same shingle is kept in the
//! source and in any copy, any passage of a copy can be looked up on its own,
//! and the share of a query's kept shingles found in a document estimates the
//! containment of the query in that document.
//!
//! Shingles never cross paragraphs (blank lines; in a text without blank
//! lines, line breaks), so a paragraph copied alone has the same
//! fingerprints as in its source. Each kept shingle carries the
//! *passage* it starts in: a paragraph, or a window of a long paragraph.

use serde::{Deserialize, Serialize};

/// Version of the fingerprint computation; part of [`Fingerprinter::digest`].
pub const FINGERPRINT_VERSION: u32 = 1;

use crate::hash::mix64;
use crate::rules::{NEVER_CHANGED, PHRASE_REWRITES};
use crate::wordnet::WordNet;

/// Settings that decide which fingerprints a text gets. An index records the
/// settings it was built with; queries must use the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintConfig {
    /// Tokens per shingle of the immutable stream.
    pub immutable_shingle: u32,
    /// Keep one immutable shingle in `2^immutable_sample_bits` (by hash).
    pub immutable_sample_bits: u32,
    /// Words per shingle of the all-words channel (0: no such channel).
    pub word_shingle: u32,
    /// Keep one word shingle in `2^word_sample_bits` (by hash).
    pub word_sample_bits: u32,
    /// Paragraphs longer than this (bytes) are cut into passages of about this size.
    pub passage_bytes: u32,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        Self {
            immutable_shingle: 4,
            immutable_sample_bits: 2,
            word_shingle: 4,
            word_sample_bits: 3,
            passage_bytes: 2000,
        }
    }
}

/// Which channel a fingerprint comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Shingles of the immutable stream.
    Immutable,
    /// Shingles of all words.
    Words,
}

/// Which channels to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channels {
    pub immutable: bool,
    pub words: bool,
}

impl Channels {
    /// Both channels (what an original gets).
    pub const ALL: Channels = Channels {
        immutable: true,
        words: true,
    };
    /// Only the immutable stream (a spun query before restoring).
    pub const IMMUTABLE: Channels = Channels {
        immutable: true,
        words: false,
    };
    /// Only the all-words channel (a restored query).
    pub const WORDS: Channels = Channels {
        immutable: false,
        words: true,
    };
}

/// A byte range of the text: a paragraph or a window of a long paragraph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub start: usize,
    pub end: usize,
}

/// One kept shingle: its hash and the passage it starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Feature {
    /// The shingle's 64-bit hash (mixed, uniform).
    pub hash: u64,
    /// Index into [`Fingerprint::passages`].
    pub passage: u32,
}

/// The fingerprints of one text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// Passages in text order, covering every non-blank part of the text.
    pub passages: Vec<Passage>,
    /// Kept shingles in text order (a shingle that repeats is kept each time).
    pub features: Vec<Feature>,
}

impl Fingerprint {
    /// Empties the fingerprint, keeping its buffers.
    pub fn clear(&mut self) {
        self.passages.clear();
        self.features.clear();
    }
}

/// Start of every shingle hash.
const SHINGLE_SEED: u64 = 0x1d8e_4e27_c47d_124f;
/// Multiplier of the polynomial shingle hash.
const SHINGLE_MUL: u64 = 0x9e37_79b9_7f4a_7c15;
const WORD_MUL: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Byte classes of the tokenizer.
const C_SPACE: u8 = 1;
const C_NEWLINE: u8 = 2;
const C_HIGH: u8 = 4;
const C_LOWER: u8 = 8;
const C_JOINER: u8 = 16;
const C_ALNUM: u8 = 32;
/// Lowercase letters and joiners: what a plain word is made of.
const C_PLAIN: u8 = 64;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c == b'\n' {
            C_NEWLINE
        } else if matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c) {
            C_SPACE
        } else if c >= 0x80 {
            C_HIGH
        } else if c.is_ascii_lowercase() {
            C_LOWER | C_ALNUM | C_PLAIN
        } else if c.is_ascii_alphanumeric() {
            C_ALNUM
        } else if c == b'-' || c == b'\'' {
            C_JOINER | C_PLAIN
        } else {
            0
        };
        b += 1;
    }
    t
};

const LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).to_ascii_lowercase();
        b += 1;
    }
    t
};

/// Hash of a word as the fingerprints see it: ASCII letters folded to lowercase.
#[inline]
fn fold_byte(h: u64, b: u8) -> u64 {
    (h.rotate_left(5) ^ LOWER[b as usize] as u64).wrapping_mul(WORD_MUL)
}

#[inline]
fn finish_word(h: u64, len: usize) -> u64 {
    mix64(h ^ (len as u64).wrapping_mul(0x2545_f491_4f6c_dd1d))
}

/// The fingerprint hash of a word or mark (case-folded for ASCII letters).
pub fn word_hash(word: &str) -> u64 {
    let mut h = 0u64;
    for &b in word.as_bytes() {
        h = fold_byte(h, b);
    }
    finish_word(h, word.len())
}

/// The words a news-style spinner can rewrite, as fingerprint hashes: every
/// lowercase single-word WordNet lemma (except the few the spinner was seen
/// never to change), plus the words of its phrase rewrites on both sides.
/// Leaving all of them out of the immutable stream, rather than only the ones
/// a given spinner changes, keeps the stream the same in the original and in
/// any copy spun through WordNet.
#[derive(Clone, Debug)]
pub struct MutableWords {
    /// Open addressing on the (already mixed) word hashes: slot = top bits,
    /// linear probing, 0 = empty (a word hashing to 0 is stored as 1).
    table: Vec<u64>,
    shift: u32,
    len: usize,
    /// A digest of the set, recorded in indexes to catch a changed dictionary.
    digest: u64,
}

impl MutableWords {
    /// Builds the set from WordNet.
    pub fn from_wordnet(wn: &WordNet) -> Self {
        let mut words: Vec<&str> = wn
            .lemmas()
            .filter(|l| {
                !l.is_empty()
                    && !l.contains('_')
                    && !l.contains(' ')
                    && l.bytes()
                        .all(|b| !b.is_ascii_uppercase() && !b.is_ascii_digit())
                    && !NEVER_CHANGED.contains(l)
            })
            .collect();
        for (from, to) in PHRASE_REWRITES {
            words.extend(from.split(' ').chain(to.split(' ')).filter(|w| {
                // "is a" -> "is simply a": "is" and "a" stay put.
                !matches!(*w, "is" | "a" | "to" | "the" | "that")
            }));
        }
        words.sort_unstable();
        words.dedup();
        Self::from_words(words)
    }

    /// Builds the set from a word list (lowercase words).
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut hashes: Vec<u64> = words.into_iter().map(|w| word_hash(w).max(1)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        // Order-independent digest.
        let digest = hashes.iter().fold(0u64, |d, &h| d.wrapping_add(mix64(h)));
        // At most a quarter full: probes are short.
        let mut bits = 4;
        while (1usize << bits) < hashes.len() * 4 {
            bits += 1;
        }
        let mut table = vec![0u64; 1 << bits];
        let shift = 64 - bits;
        let mask = table.len() - 1;
        for &h in &hashes {
            let mut i = (h >> shift) as usize;
            while table[i] != 0 {
                i = (i + 1) & mask;
            }
            table[i] = h;
        }
        Self {
            table,
            shift,
            len: hashes.len(),
            digest,
        }
    }

    #[inline]
    fn contains_hash(&self, h: u64) -> bool {
        let h = h.max(1);
        let mask = self.table.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let v = self.table[i];
            if v == h {
                return true;
            }
            if v == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether a whole whitespace token is a word the spinner may rewrite.
    pub fn contains(&self, word: &str) -> bool {
        self.contains_hash(word_hash(word))
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Digest of the set.
    pub fn digest(&self) -> u64 {
        self.digest
    }
}

/// One token of a stream, with the passage it belongs to.
#[derive(Clone, Copy)]
struct StreamToken {
    hash: u64,
    passage: u32,
}

/// Computes [`Fingerprint`]s. Cheap to share between threads (`Sync`); per-call
/// buffers live in a [`Scratch`].
pub struct Fingerprinter {
    cfg: FingerprintConfig,
    mutable: MutableWords,
    /// The bare "due to the fact that" (what "because" becomes) as hashes.
    because_phrase: [u64; 5],
    marks: &'static [u64; 128],
}

/// Reusable buffers for [`Fingerprinter::fingerprint_into`].
#[derive(Default)]
pub struct Scratch {
    immutable: Vec<StreamToken>,
    words: Vec<StreamToken>,
}

/// The paragraph being read.
struct ParagraphState {
    start: usize,
    passage: u32,
    passage_start: usize,
    /// The last four whitespace tokens: plain-word hash (0 otherwise) and
    /// how many immutable-stream tokens each pushed.
    recent: [(u64, u8); 4],
}

impl Fingerprinter {
    /// A fingerprinter with the given settings and dictionary.
    pub fn new(cfg: FingerprintConfig, mutable: MutableWords) -> Self {
        let mut because_phrase = [0u64; 5];
        for (slot, w) in because_phrase
            .iter_mut()
            .zip("due to the fact that".split(' '))
        {
            *slot = word_hash(w);
        }
        Self {
            cfg,
            mutable,
            because_phrase,
            marks: mark_hashes(),
        }
    }

    /// A fingerprinter whose dictionary is the embedded WordNet
    /// ([`crate::models::embedded_wordnet`]).
    pub fn embedded(cfg: FingerprintConfig) -> Result<Self, crate::Error> {
        let wn = crate::models::embedded_wordnet()?;
        Ok(Self::new(cfg, MutableWords::from_wordnet(&wn)))
    }

    /// The settings.
    pub fn config(&self) -> &FingerprintConfig {
        &self.cfg
    }

    /// The dictionary of rewritable words.
    pub fn mutable_words(&self) -> &MutableWords {
        &self.mutable
    }

    /// A digest of everything that decides the fingerprints (settings and
    /// dictionary); an index refuses queries made with another.
    pub fn digest(&self) -> u64 {
        let c = &self.cfg;
        let mut h = mix64(self.mutable.digest ^ 0x6669_6e67_6572_7072);
        for v in [
            FINGERPRINT_VERSION,
            c.immutable_shingle,
            c.immutable_sample_bits,
            c.word_shingle,
            c.word_sample_bits,
            c.passage_bytes,
        ] {
            h = mix64(h ^ v as u64);
        }
        h
    }

    /// The passages of `text` alone (no fingerprints).
    pub fn passages(&self, text: &str) -> Vec<Passage> {
        let mut fp = Fingerprint::default();
        let none = Channels {
            immutable: false,
            words: false,
        };
        self.fingerprint_into(text, none, &mut Scratch::default(), &mut fp);
        fp.passages
    }

    /// The fingerprints of `text`.
    pub fn fingerprint(&self, text: &str, channels: Channels) -> Fingerprint {
        let mut fp = Fingerprint::default();
        self.fingerprint_into(text, channels, &mut Scratch::default(), &mut fp);
        fp
    }

    /// The fingerprints of `text` into `out` (cleared first), reusing `scratch`.
    pub fn fingerprint_into(
        &self,
        text: &str,
        channels: Channels,
        scratch: &mut Scratch,
        out: &mut Fingerprint,
    ) {
        out.clear();
        scratch.immutable.clear();
        scratch.words.clear();
        let bytes = text.as_bytes();
        // Paragraphs end at blank lines; in a text without any, at line breaks.
        let para_newlines = if has_blank_line(bytes) { 2 } else { 1 };
        let budget = self.cfg.passage_bytes.max(1) as usize;
        let mut para: Option<ParagraphState> = None;
        let mut i = 0usize;
        while i < bytes.len() {
            // Whitespace run: a paragraph ends at a run with enough line breaks.
            let ws_start = i;
            let mut newlines = 0;
            while i < bytes.len() {
                let c = CLASS[bytes[i] as usize];
                if c & C_NEWLINE != 0 {
                    newlines += 1;
                    i += 1;
                } else if c & C_SPACE != 0 {
                    i += 1;
                } else if c & C_HIGH != 0 {
                    match unicode_space_len(&bytes[i..]) {
                        Some(n) => i += n,
                        None => break,
                    }
                } else {
                    break;
                }
            }
            if newlines >= para_newlines {
                if let Some(p) = para.take() {
                    self.end_paragraph(p, ws_start, channels, scratch, out);
                }
            }
            if i >= bytes.len() {
                break;
            }
            // A whitespace token: one pass classifies and hashes it.
            let start = i;
            let mut plain_bits = C_PLAIN;
            let mut h = 0u64;
            let rest = &bytes[i..];
            let mut n = 0;
            for &b in rest {
                let c = CLASS[b as usize];
                if c & (C_SPACE | C_NEWLINE | C_HIGH) != 0
                    && (c & C_HIGH == 0 || unicode_space_len(&rest[n..]).is_some())
                {
                    break;
                }
                plain_bits &= c;
                h = fold_byte(h, b);
                n += 1;
            }
            i += n;
            let end = i;
            let plain = plain_bits != 0
                && CLASS[bytes[start] as usize] & C_LOWER != 0
                && CLASS[bytes[end - 1] as usize] & C_LOWER != 0;
            let p = para.get_or_insert(ParagraphState {
                start,
                passage: out.passages.len() as u32,
                passage_start: start,
                recent: [(0, 0); 4],
            });
            if start - p.passage_start >= budget && start > p.passage_start {
                out.passages.push(Passage {
                    start: p.passage_start,
                    end: trim_end(bytes, p.passage_start, start),
                });
                p.passage += 1;
                p.passage_start = start;
            }
            let passage = p.passage;
            let mut pushed = 0u8;
            let mut word = 0u64;
            if plain {
                word = finish_word(h, end - start);
                let mut mutable = self.mutable.contains_hash(word);
                if word == self.because_phrase[4]
                    && p.recent
                        .iter()
                        .zip(&self.because_phrase[..4])
                        .all(|(r, &w)| r.0 == w)
                {
                    // "due to the fact that" (what "because" becomes) is as
                    // rewritable as "because": take its words back out.
                    let back: usize = p.recent.iter().map(|r| r.1 as usize).sum();
                    let keep = scratch.immutable.len().saturating_sub(back);
                    scratch.immutable.truncate(keep);
                    mutable = true;
                }
                if channels.words {
                    scratch.words.push(StreamToken {
                        hash: word,
                        passage,
                    });
                }
                if channels.immutable && !mutable {
                    scratch.immutable.push(StreamToken {
                        hash: word,
                        passage,
                    });
                    pushed = 1;
                }
            } else if channels.immutable || channels.words {
                let Scratch { immutable, words } = scratch;
                split_token(&bytes[start..end], self.marks, |hash, is_word| {
                    if channels.immutable {
                        immutable.push(StreamToken { hash, passage });
                        pushed = pushed.saturating_add(1);
                    }
                    if channels.words && is_word {
                        words.push(StreamToken { hash, passage });
                    }
                });
            }
            p.recent.rotate_left(1);
            p.recent[3] = (word, pushed);
        }
        if let Some(p) = para.take() {
            let end = trim_end(bytes, p.start, bytes.len());
            self.end_paragraph(p, end, channels, scratch, out);
        }
    }

    /// Closes the paragraph ending at byte `end`: its last passage and its shingles.
    fn end_paragraph(
        &self,
        p: ParagraphState,
        end: usize,
        channels: Channels,
        scratch: &mut Scratch,
        out: &mut Fingerprint,
    ) {
        out.passages.push(Passage {
            start: p.passage_start,
            end,
        });
        if channels.immutable {
            emit_shingles(
                &scratch.immutable,
                self.cfg.immutable_shingle as usize,
                self.cfg.immutable_sample_bits,
                &mut out.features,
            );
        }
        if channels.words && self.cfg.word_shingle > 0 {
            emit_shingles(
                &scratch.words,
                self.cfg.word_shingle as usize,
                self.cfg.word_sample_bits,
                &mut out.features,
            );
        }
        scratch.immutable.clear();
        scratch.words.clear();
    }
}

/// Whether a line break is followed, after spaces or tabs only, by another.
fn has_blank_line(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'\n') {
        let mut j = i + p + 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\r') {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'\n' {
            return true;
        }
        i = j;
    }
    false
}

fn trim_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// Length of the Unicode whitespace character at the start of `b` (which starts with a byte >= 0x80).
#[inline]
fn unicode_space_len(b: &[u8]) -> Option<usize> {
    // Only U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
    // U+205F and U+3000 are whitespace above ASCII.
    match b[0] {
        0xc2 => matches!(b.get(1), Some(0x85 | 0xa0)).then_some(2),
        0xe1 => (b.get(1) == Some(&0x9a) && b.get(2) == Some(&0x80)).then_some(3),
        0xe2 => match (b.get(1), b.get(2)) {
            (Some(0x80), Some(&c)) if c <= 0x8a || c == 0xa8 || c == 0xa9 || c == 0xaf => Some(3),
            (Some(0x81), Some(0x9f)) => Some(3),
            _ => None,
        },
        0xe3 => (b.get(1) == Some(&0x80) && b.get(2) == Some(&0x80)).then_some(3),
        _ => None,
    }
}

/// Hashes of the ASCII characters as one-character tokens (marks).
fn mark_hashes() -> &'static [u64; 128] {
    static MARKS: std::sync::OnceLock<[u64; 128]> = std::sync::OnceLock::new();
    MARKS.get_or_init(|| {
        let mut t = [0u64; 128];
        for (b, slot) in t.iter_mut().enumerate() {
            *slot = finish_word(fold_byte(0, b as u8), 1);
        }
        t
    })
}

/// Splits a whitespace token that is not one plain word into word cores
/// (letters and digits, with inner `-`, `'` or `’`) and single marks, calling
/// `f(hash, is_word)` for each in order.
#[inline]
fn split_token(tok: &[u8], marks: &[u64; 128], mut f: impl FnMut(u64, bool)) {
    if !tok.is_ascii() {
        return split_token_unicode(tok, f);
    }
    let n = tok.len();
    let mut i = 0;
    while i < n {
        let b = tok[i];
        if CLASS[b as usize] & C_ALNUM == 0 {
            f(marks[b as usize], false);
            i += 1;
            continue;
        }
        let start = i;
        let mut h = 0u64;
        loop {
            h = fold_byte(h, tok[i]);
            i += 1;
            if i >= n {
                break;
            }
            let c = CLASS[tok[i] as usize];
            if c & C_ALNUM != 0 {
                continue;
            }
            // A joiner counts only between two word characters.
            if c & C_JOINER != 0 && i + 1 < n && CLASS[tok[i + 1] as usize] & C_ALNUM != 0 {
                h = fold_byte(h, tok[i]);
                i += 1;
                continue;
            }
            break;
        }
        f(finish_word(h, i - start), true);
    }
}

/// [`split_token`] for tokens with non-ASCII characters.
fn split_token_unicode(tok: &[u8], mut f: impl FnMut(u64, bool)) {
    let mut i = 0;
    while i < tok.len() {
        let (alnum, n) = char_class(tok, i);
        if alnum {
            let start = i;
            let mut h = 0u64;
            let mut end = i;
            let mut j = i;
            loop {
                let (a, n) = char_class(tok, j);
                if a {
                    for &b in &tok[j..j + n] {
                        h = fold_byte(h, b);
                    }
                    j += n;
                    end = j;
                } else if j < tok.len() && is_joiner(tok, j) {
                    // A joiner counts only between two word characters.
                    let jn = joiner_len(tok, j);
                    if j + jn < tok.len() && char_class(tok, j + jn).0 {
                        for &b in &tok[j..j + jn] {
                            h = fold_byte(h, b);
                        }
                        j += jn;
                    } else {
                        break;
                    }
                } else {
                    break;
                }
                if j >= tok.len() {
                    break;
                }
            }
            f(finish_word(h, end - start), true);
            i = end;
        } else {
            let mut h = 0u64;
            for &b in &tok[i..i + n] {
                h = fold_byte(h, b);
            }
            f(finish_word(h, n), false);
            i += n;
        }
    }
}

#[inline]
fn is_joiner(tok: &[u8], j: usize) -> bool {
    matches!(tok[j], b'-' | b'\'') || tok[j..].starts_with("\u{2019}".as_bytes())
}

#[inline]
fn joiner_len(tok: &[u8], j: usize) -> usize {
    if tok[j] < 0x80 {
        1
    } else {
        3
    }
}

/// Whether the character at `i` is a letter or digit, and its length in bytes.
#[inline]
fn char_class(tok: &[u8], i: usize) -> (bool, usize) {
    if i >= tok.len() {
        return (false, 0);
    }
    let b = tok[i];
    if b < 0x80 {
        return (b.is_ascii_alphanumeric(), 1);
    }
    let n = match b {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    };
    let n = n.min(tok.len() - i);
    let c = std::str::from_utf8(&tok[i..i + n])
        .ok()
        .and_then(|s| s.chars().next());
    (c.is_some_and(|c| c.is_alphanumeric()), n)
}

/// Hashes the k-token shingles of `stream` (one shorter shingle when the
/// stream has 2..k tokens) and keeps those whose hash has its top
/// `sample_bits` bits zero. A shingle's hash depends only on its tokens, so
/// a shingle both channels see is one fingerprint, kept at the higher rate.
fn emit_shingles(stream: &[StreamToken], k: usize, sample_bits: u32, out: &mut Vec<Feature>) {
    let k = k.max(1);
    if stream.len() < 2 && k > 1 {
        return;
    }
    let k = k.min(stream.len());
    // Polynomial hash of each window, rolled: h = sum t[j] * M^(k-1-j).
    let mut top = 1u64;
    for _ in 1..k {
        top = top.wrapping_mul(SHINGLE_MUL);
    }
    let mut h = 0u64;
    for t in &stream[..k - 1] {
        h = h.wrapping_mul(SHINGLE_MUL).wrapping_add(t.hash);
    }
    for w in 0..=stream.len() - k {
        h = h
            .wrapping_mul(SHINGLE_MUL)
            .wrapping_add(stream[w + k - 1].hash);
        // The token hashes are uniform, so the window hash's top bits are too.
        if sample_bits == 0 || h >> (64 - sample_bits) == 0 {
            out.push(Feature {
                hash: mix64(h ^ SHINGLE_SEED ^ k as u64),
                passage: stream[w].passage,
            });
        }
        h = h.wrapping_sub(stream[w].hash.wrapping_mul(top));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp_all_kept(words: &[&str]) -> Fingerprinter {
        Fingerprinter::new(
            FingerprintConfig {
                immutable_shingle: 2,
                immutable_sample_bits: 0,
                word_shingle: 2,
                word_sample_bits: 0,
                passage_bytes: 1000,
            },
            MutableWords::from_words(words.iter().copied()),
        )
    }

    #[test]
    fn spun_words_do_not_change_immutable_shingles() {
        let f = fp_all_kept(&["new", "caller", "on", "connected", "said", "state"]);
        let orig = "He said the new rules would apply on Monday, as planned.";
        let spun = "He state the caller rules would apply connected Monday, as planned.";
        let a = f.fingerprint(orig, Channels::IMMUTABLE);
        let b = f.fingerprint(spun, Channels::IMMUTABLE);
        assert!(!a.features.is_empty());
        assert_eq!(a.features, b.features);
        // The all-words channel sees the change.
        let a = f.fingerprint(orig, Channels::WORDS);
        let b = f.fingerprint(spun, Channels::WORDS);
        assert_ne!(a.features, b.features);
    }

    #[test]
    fn hyphenated_and_apostrophe_words_are_plain() {
        let f = fp_all_kept(&["well-known", "o'clock", "known"]);
        // Both rewritable words drop out of the immutable stream.
        let a = f.fingerprint("The well-known Plan is here.", Channels::IMMUTABLE);
        let b = f.fingerprint("The known Plan is here.", Channels::IMMUTABLE);
        assert_eq!(a.features, b.features);
        let c = f.fingerprint("At six o'clock Plan is here.", Channels::IMMUTABLE);
        let d = f.fingerprint("At six Plan is here.", Channels::IMMUTABLE);
        assert_eq!(c.features, d.features);
        // A leading or trailing joiner is not a plain word.
        let e = f.fingerprint("The -known Plan is here.", Channels::IMMUTABLE);
        assert_ne!(e.features, b.features);
    }

    #[test]
    fn case_and_punctuation() {
        let f = fp_all_kept(&["conflict"]);
        // "conflict." has attached punctuation: immutable, split into core and mark.
        let a = f.fingerprint("end of the conflict. Then", Channels::IMMUTABLE);
        let b = f.fingerprint("end of the conflict Then", Channels::IMMUTABLE);
        assert_ne!(a.features, b.features);
        // Case is folded in hashes, not in what counts as rewritable.
        let c = f.fingerprint("End Of The Conflict. then", Channels::IMMUTABLE);
        assert_eq!(a.features, c.features);
    }

    #[test]
    fn paragraphs_and_passages() {
        let f = fp_all_kept(&[]);
        let text = "One two three.\n\nFour five six. Seven eight.\n\n\n  Nine ten";
        let fp = f.fingerprint(text, Channels::ALL);
        let spans: Vec<&str> = fp.passages.iter().map(|p| &text[p.start..p.end]).collect();
        assert_eq!(
            spans,
            vec!["One two three.", "Four five six. Seven eight.", "Nine ten"]
        );
        // A paragraph alone fingerprints as inside the whole text.
        let inside = |fp: &Fingerprint| {
            let mut v: Vec<u64> = fp
                .features
                .iter()
                .filter(|x| x.passage == 1)
                .map(|x| x.hash)
                .collect();
            v.sort_unstable();
            v
        };
        let mut alone: Vec<u64> = f
            .fingerprint("Four five six. Seven eight.", Channels::ALL)
            .features
            .iter()
            .map(|x| x.hash)
            .collect();
        alone.sort_unstable();
        assert_eq!(alone, inside(&fp));
        // A hard-wrapped paragraph alone loses the shingles across its line
        // breaks, but its other shingles are all in the whole text's.
        let wrapped = "One two three.\n\nFour five six.\nSeven eight nine.\n\nTen";
        let whole = inside(&f.fingerprint(wrapped, Channels::ALL));
        let alone = f.fingerprint("Four five six.\nSeven eight nine.", Channels::ALL);
        let within: Vec<u64> = alone.features.iter().map(|x| x.hash).collect();
        assert!(within.len() >= 4);
        assert!(within.iter().all(|h| whole.contains(h)));
    }

    #[test]
    fn lines_are_paragraphs_when_there_are_no_blank_lines() {
        let f = fp_all_kept(&[]);
        let text = "One two three.\nFour five six.\r\nSeven eight.";
        let fp = f.fingerprint(text, Channels::ALL);
        assert_eq!(fp.passages.len(), 3);
        let text = "One two\nthree.\n \nFour five six.";
        assert_eq!(f.fingerprint(text, Channels::ALL).passages.len(), 2);
    }

    #[test]
    fn long_paragraphs_become_windows() {
        let f = Fingerprinter::new(
            FingerprintConfig {
                passage_bytes: 100,
                ..FingerprintConfig::default()
            },
            MutableWords::from_words([]),
        );
        let text = "word ".repeat(100);
        let fp = f.fingerprint(&text, Channels::ALL);
        assert!(fp.passages.len() >= 4, "{:?}", fp.passages);
        for w in fp.passages.windows(2) {
            assert!(w[0].end <= w[1].start);
        }
        assert_eq!(fp.passages.last().unwrap().end, text.trim_end().len());
    }

    #[test]
    fn because_phrase_is_rewritable() {
        let f = fp_all_kept(&["because", "due", "fact"]);
        let a = f.fingerprint("It fell because Rome burned.", Channels::IMMUTABLE);
        let b = f.fingerprint(
            "It fell due to the fact that Rome burned.",
            Channels::IMMUTABLE,
        );
        assert_eq!(a.features, b.features);
    }

    #[test]
    fn ascii_and_unicode_splitting_agree() {
        let marks = mark_hashes();
        for tok in [
            "(don't-stop)",
            "\"Well-known,",
            "A.B.C.",
            "--x--",
            "'a'",
            "3.5%",
            "x-",
            "-",
        ] {
            let mut fast = Vec::new();
            split_token(tok.as_bytes(), marks, |h, w| fast.push((h, w)));
            let mut slow = Vec::new();
            split_token_unicode(tok.as_bytes(), |h, w| slow.push((h, w)));
            assert_eq!(fast, slow, "{tok}");
        }
    }

    #[test]
    fn unicode_spaces_and_marks() {
        let f = fp_all_kept(&[]);
        let a = f.fingerprint("“New” rules\u{a0}apply", Channels::ALL);
        let b = f.fingerprint("“New” rules apply", Channels::ALL);
        assert_eq!(a.features, b.features);
        // Never panics on odd bytes.
        let _ = f.fingerprint("\u{2019}a\u{2019} -x- ''", Channels::ALL);
    }
}
