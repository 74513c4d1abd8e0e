//! Training a trigram back-off model on plain text with interpolated modified
//! Kneser-Ney smoothing (Chen & Goodman 1998), and measuring perplexity.
//!
//! Text is split into sentences and words exactly as `restore` reads it (see
//! [`for_each_sentence`]). The interpolated model is written as an ordinary
//! back-off model: every kept n-gram stores its interpolated probability and
//! every context a backoff weight computed so that its distribution sums to
//! one (for an unpruned model this is exactly the interpolation weight).

use rustc_hash::FxHashMap;

use super::raw::{Bigram, RawModel, Trigram};
use super::{LanguageModel, WordId};
use crate::token::{tokenize, TokenKind};
use crate::Error;

/// Sentence start.
pub const BOS: &str = "<s>";
/// Sentence end.
pub const EOS: &str = "</s>";
/// Unknown word; numbers, URLs and e-mail addresses are read as this.
pub const UNK: &str = "<unk>";

/// Bits per word id in packed n-gram keys.
const KB: u32 = 21;
const KMASK: u64 = (1 << KB) - 1;

#[inline]
pub(super) fn key2(a: u32, b: u32) -> u64 {
    ((a as u64) << KB) | b as u64
}
#[inline]
pub(super) fn key3(a: u32, b: u32, c: u32) -> u64 {
    ((a as u64) << (2 * KB)) | ((b as u64) << KB) | c as u64
}
#[inline]
pub(super) fn split2(k: u64) -> (u32, u32) {
    ((k >> KB) as u32, (k & KMASK) as u32)
}
#[inline]
pub(super) fn split3(k: u64) -> (u32, u32, u32) {
    (
        (k >> (2 * KB)) as u32,
        ((k >> KB) & KMASK) as u32,
        (k & KMASK) as u32,
    )
}

/// Calls `f` with the words of each sentence of `text`, read as `restore`
/// reads them: words lowercased; numbers, URLs and e-mail addresses as
/// [`UNK`]; a sentence ends after `.` `!` `?` `;` `:`, at a blank line and at
/// an HTML tag or code span. Sentences are never empty.
pub fn for_each_sentence(text: &str, mut f: impl FnMut(&[String])) {
    let mut cur: Vec<String> = Vec::new();
    let mut flush = |cur: &mut Vec<String>| {
        if !cur.is_empty() {
            f(cur);
            cur.clear();
        }
    };
    for t in tokenize(text) {
        let s = t.text(text);
        match t.kind {
            TokenKind::Word => cur.push(s.to_lowercase()),
            TokenKind::Number | TokenKind::Url | TokenKind::Email => cur.push(UNK.to_string()),
            TokenKind::Punct => {
                if matches!(s, "." | "!" | "?" | ";" | ":") {
                    flush(&mut cur);
                }
            }
            TokenKind::Space => {
                if s.matches('\n').count() >= 2 {
                    flush(&mut cur);
                }
            }
            TokenKind::Tag | TokenKind::Code => flush(&mut cur),
        }
    }
    flush(&mut cur);
}

/// Settings of [`train`].
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Trigrams seen fewer times than this are left out (their mass goes to
    /// the backoff); 1 keeps all.
    pub min_trigram_count: u32,
    /// Bigrams seen fewer times than this are left out unless a kept trigram
    /// needs them as its context; 1 keeps all.
    pub min_bigram_count: u32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            min_trigram_count: 1,
            min_bigram_count: 1,
        }
    }
}

/// Modified Kneser-Ney discounts D(1), D(2), D(3+) from counts of counts.
fn discounts(counts: impl Iterator<Item = u32>) -> [f64; 3] {
    let mut n = [0f64; 5];
    for c in counts {
        if (1..=4).contains(&c) {
            n[c as usize] += 1.0;
        }
    }
    let fallback = [0.5, 1.0, 1.5];
    if n[1] == 0.0 || n[2] == 0.0 || n[3] == 0.0 || n[4] == 0.0 {
        return fallback;
    }
    let y = n[1] / (n[1] + 2.0 * n[2]);
    let d = [
        1.0 - 2.0 * y * n[2] / n[1],
        2.0 - 3.0 * y * n[3] / n[2],
        3.0 - 4.0 * y * n[4] / n[3],
    ];
    let mut out = [0.0; 3];
    for (i, (&v, &fb)) in d.iter().zip(&fallback).enumerate() {
        out[i] = if v > 0.0 && v < (i + 1) as f64 { v } else { fb };
    }
    out
}

#[inline]
fn disc(d: &[f64; 3], c: u32) -> f64 {
    d[(c.min(3) - 1) as usize]
}

/// Per context: (sum of counts, N1, N2, N3+) of the sorted `(key, count)`
/// entries `grams[lo..hi]`.
fn context_stats(grams: &[(u64, u32)]) -> (f64, [f64; 3]) {
    let mut sum = 0f64;
    let mut n = [0f64; 3];
    for &(_, c) in grams {
        sum += c as f64;
        n[(c.min(3) - 1) as usize] += 1.0;
    }
    (sum, n)
}

/// Groups sorted entries by `ctx(key)`, calling `f` with each run.
fn for_each_run<T>(items: &[T], ctx: impl Fn(&T) -> u64, mut f: impl FnMut(&[T])) {
    let mut i = 0;
    while i < items.len() {
        let c = ctx(&items[i]);
        let mut j = i + 1;
        while j < items.len() && ctx(&items[j]) == c {
            j += 1;
        }
        f(&items[i..j]);
        i = j;
    }
}

/// N-gram probabilities (linear) of a back-off trigram model over `n` words,
/// before backoff weights are added. Keys are packed with 21 bits per word;
/// both lists sorted by key.
pub(super) struct Probs {
    pub uni: Vec<f64>,
    pub bi: Vec<(u64, f64)>,
    pub tri: Vec<(u64, f64)>,
}

/// Computes each context's backoff weight so its distribution sums to one:
/// `bo(h) = (1 - Σ_{w seen after h} p(w|h)) / (1 - Σ_{w seen after h} p(w|h'))`.
/// Returns log10 (uni backoffs, bigram backoffs aligned with `p.bi`). Every
/// trigram context must be a bigram in `p.bi`.
pub(super) fn backoffs(p: &Probs) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let ratio = |num: f64, den: f64| -> f64 {
        // Guard against rounding (quantized inputs can overshoot slightly).
        let num = num.max(1e-9);
        let den = den.max(num).max(1e-9);
        num / den
    };
    let mut uni_bo = vec![1f64; p.uni.len()];
    for_each_run(
        &p.bi,
        |e| e.0 >> KB,
        |run| {
            let a = (run[0].0 >> KB) as usize;
            let (mut sp, mut sl) = (0f64, 0f64);
            for &(k, pr) in run {
                sp += pr;
                sl += p.uni[(k & KMASK) as usize];
            }
            uni_bo[a] = ratio(1.0 - sp, 1.0 - sl);
        },
    );
    let bi_index: FxHashMap<u64, usize> =
        p.bi.iter().enumerate().map(|(i, &(k, _))| (k, i)).collect();
    let mut bi_bo = vec![1f64; p.bi.len()];
    let mut missing = false;
    for_each_run(
        &p.tri,
        |e| e.0 >> KB,
        |run| {
            let ctx = run[0].0 >> KB;
            let b = (ctx & KMASK) as u32;
            let (mut sp, mut sl) = (0f64, 0f64);
            for &(k, pr) in run {
                sp += pr;
                let w = (k & KMASK) as u32;
                sl += match bi_index.get(&key2(b, w)) {
                    Some(&i) => p.bi[i].1,
                    None => uni_bo[b as usize] * p.uni[w as usize],
                };
            }
            match bi_index.get(&ctx) {
                Some(&i) => bi_bo[i] = ratio(1.0 - sp, 1.0 - sl),
                None => missing = true,
            }
        },
    );
    if missing {
        return Err(Error::Model(
            "language model: a trigram context is not a bigram".into(),
        ));
    }
    let log = |v: Vec<f64>| v.into_iter().map(f64::log10).collect::<Vec<_>>();
    Ok((log(uni_bo), log(bi_bo)))
}

/// Turns linear probabilities plus computed backoffs into a raw model.
pub(super) fn to_raw(words: Vec<String>, p: &Probs) -> Result<RawModel, Error> {
    let (uni_bo, bi_bo) = backoffs(p)?;
    let lg = |x: f64| {
        if x > 0.0 {
            (x.log10() as f32).max(-99.0)
        } else {
            -99.0
        }
    };
    Ok(RawModel {
        order: if p.tri.is_empty() && p.bi.is_empty() {
            1
        } else if p.tri.is_empty() {
            2
        } else {
            3
        },
        uni: p
            .uni
            .iter()
            .zip(&uni_bo)
            .map(|(&pr, &bo)| (lg(pr), bo as f32))
            .collect(),
        words,
        bi: p
            .bi
            .iter()
            .zip(&bi_bo)
            .map(|(&(k, pr), &bo)| {
                let (w1, w2) = split2(k);
                Bigram {
                    w1,
                    w2,
                    prob: lg(pr),
                    bo: bo as f32,
                }
            })
            .collect(),
        tri: p
            .tri
            .iter()
            .map(|&(k, pr)| {
                let (w1, w2, w3) = split3(k);
                Trigram {
                    w1,
                    w2,
                    w3,
                    prob: lg(pr),
                }
            })
            .collect(),
    })
}

/// Counts from which the model is estimated.
struct Counts {
    words: Vec<String>,
    /// Raw trigram counts, sorted.
    tri: Vec<(u64, u32)>,
    /// Raw counts of bigrams starting with `<s>`.
    bos_bi: FxHashMap<u32, u32>,
}

fn count(text: &str) -> Result<Counts, Error> {
    let mut ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut words: Vec<String> = Vec::new();
    for w in [BOS, EOS, UNK] {
        ids.insert(w.to_string(), words.len() as u32);
        words.push(w.to_string());
    }
    let mut tri: FxHashMap<u64, u32> = FxHashMap::default();
    let mut bos_bi: FxHashMap<u32, u32> = FxHashMap::default();
    let mut too_many = false;
    let mut sent: Vec<u32> = Vec::new();
    for_each_sentence(text, |s| {
        sent.clear();
        sent.push(0);
        for w in s {
            let id = match ids.get(w.as_str()) {
                Some(&i) => i,
                None => {
                    let i = words.len() as u32;
                    if i as u64 >= KMASK {
                        too_many = true;
                        return;
                    }
                    ids.insert(w.clone(), i);
                    words.push(w.clone());
                    i
                }
            };
            sent.push(id);
        }
        sent.push(1);
        *bos_bi.entry(sent[1]).or_default() += 1;
        for g in sent.windows(3) {
            *tri.entry(key3(g[0], g[1], g[2])).or_default() += 1;
        }
    });
    if too_many {
        return Err(Error::Model(format!(
            "training text has more than {KMASK} distinct words"
        )));
    }
    let mut tri: Vec<(u64, u32)> = tri.into_iter().collect();
    tri.sort_unstable_by_key(|e| e.0);
    Ok(Counts { words, tri, bos_bi })
}

/// Trains an interpolated modified Kneser-Ney trigram model on `text`.
pub fn train(text: &str, opts: &TrainOptions) -> Result<LanguageModel, Error> {
    let raw = train_raw(text, opts)?;
    LanguageModel::from_raw(raw)
}

pub(super) fn train_raw(text: &str, opts: &TrainOptions) -> Result<RawModel, Error> {
    let Counts { words, tri, bos_bi } = count(text)?;
    let n = words.len();
    // Adjusted bigram counts: continuation counts N1+(. b c), except raw
    // counts for bigrams starting with <s> (nothing precedes <s>).
    let mut a2: FxHashMap<u64, u32> = FxHashMap::default();
    for &(k, _) in &tri {
        let (_, b, c) = split3(k);
        if b != 0 {
            *a2.entry(key2(b, c)).or_default() += 1;
        }
    }
    for (&c, &cnt) in &bos_bi {
        a2.insert(key2(0, c), cnt);
    }
    // Raw bigram counts, for pruning: sum of trigram counts with that suffix,
    // or the <s> bigram count.
    let mut raw2: FxHashMap<u64, u32> = FxHashMap::default();
    if opts.min_bigram_count > 1 {
        for &(k, c) in &tri {
            let (_, b, w) = split3(k);
            *raw2.entry(key2(b, w)).or_default() += c;
        }
    }
    let mut a2: Vec<(u64, u32)> = a2.into_iter().collect();
    a2.sort_unstable_by_key(|e| e.0);
    // Adjusted unigram counts: N1+(. c).
    let mut a1 = vec![0u32; n];
    for &(k, _) in &a2 {
        a1[split2(k).1 as usize] += 1;
    }

    let d1 = discounts(a1.iter().copied());
    let d2 = discounts(a2.iter().map(|e| e.1));
    let d3 = discounts(tri.iter().map(|e| e.1));

    // Unigrams, interpolated with the uniform distribution over all words
    // but <s>.
    let sum1: f64 = a1.iter().map(|&c| c as f64).sum();
    let mut nn = [0f64; 3];
    for &c in &a1 {
        if c > 0 {
            nn[(c.min(3) - 1) as usize] += 1.0;
        }
    }
    let g1 = (d1[0] * nn[0] + d1[1] * nn[1] + d1[2] * nn[2]) / sum1;
    let uniform = 1.0 / (n - 1) as f64;
    let mut uni: Vec<f64> = a1
        .iter()
        .map(|&c| {
            let base = if c > 0 {
                (c as f64 - disc(&d1, c)) / sum1
            } else {
                0.0
            };
            base + g1 * uniform
        })
        .collect();
    uni[0] = 0.0;

    // Bigrams: p2(w|b) and the interpolation weight of each context b.
    let mut bi: Vec<(u64, f64)> = Vec::with_capacity(a2.len());
    let mut gamma2 = vec![1f64; n];
    for_each_run(
        &a2,
        |e| e.0 >> KB,
        |run| {
            let b = (run[0].0 >> KB) as usize;
            let (sum, nn) = context_stats(run);
            let g = (d2[0] * nn[0] + d2[1] * nn[1] + d2[2] * nn[2]) / sum;
            gamma2[b] = g;
            for &(k, c) in run {
                let w = (k & KMASK) as usize;
                bi.push((k, (c as f64 - disc(&d2, c)) / sum + g * uni[w]));
            }
        },
    );
    let p2: FxHashMap<u64, f64> = bi.iter().copied().collect();
    let p2_full = |b: u32, w: u32| -> f64 {
        match p2.get(&key2(b, w)) {
            Some(&p) => p,
            None => gamma2[b as usize] * uni[w as usize],
        }
    };

    // Trigrams.
    let mut tri_p: Vec<(u64, f64)> = Vec::new();
    for_each_run(
        &tri,
        |e| e.0 >> KB,
        |run| {
            let (sum, nn) = context_stats(run);
            let g = (d3[0] * nn[0] + d3[1] * nn[1] + d3[2] * nn[2]) / sum;
            for &(k, c) in run {
                if c < opts.min_trigram_count {
                    continue;
                }
                let (_, b, w) = split3(k);
                tri_p.push((k, (c as f64 - disc(&d3, c)) / sum + g * p2_full(b, w)));
            }
        },
    );
    drop(tri);

    // Bigram pruning: keep contexts of kept trigrams.
    if opts.min_bigram_count > 1 {
        let mut needed: rustc_hash::FxHashSet<u64> = rustc_hash::FxHashSet::default();
        for &(k, _) in &tri_p {
            needed.insert(k >> KB);
        }
        bi.retain(|&(k, _)| {
            raw2.get(&k).copied().unwrap_or(0) >= opts.min_bigram_count || needed.contains(&k)
        });
    }
    drop(p2);
    let probs = Probs {
        uni,
        bi,
        tri: tri_p,
    };
    to_raw(words, &probs)
}

/// Perplexity figures of a model on a text, from [`perplexity`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Perplexity {
    /// Sentences read.
    pub sentences: u64,
    /// Words scored, `</s>` included (one per sentence).
    pub tokens: u64,
    /// Tokens that are `<unk>` to this model (numbers, URLs, unknown words).
    pub oov: u64,
    /// Sum of log10 probabilities over all tokens.
    pub log10_sum: f64,
    /// Tokens for which `include` returned true.
    pub tokens_kept: u64,
    /// Sum of log10 probabilities over those tokens.
    pub log10_sum_kept: f64,
}

impl Perplexity {
    /// Perplexity over all tokens, `<unk>` scored as the model scores it.
    pub fn all(&self) -> f64 {
        10f64.powf(-self.log10_sum / self.tokens.max(1) as f64)
    }
    /// Perplexity over the tokens `include` kept.
    pub fn kept(&self) -> f64 {
        10f64.powf(-self.log10_sum_kept / self.tokens_kept.max(1) as f64)
    }
}

/// Scores `text` (read like [`for_each_sentence`]) with `lm`, each sentence
/// between `<s>` and `</s>`. `include(word)` decides which predicted tokens
/// count towards [`Perplexity::kept`] (e.g. only words every compared model
/// knows).
pub fn perplexity(lm: &LanguageModel, text: &str, include: impl Fn(&str) -> bool) -> Perplexity {
    let mut r = Perplexity::default();
    let mut ids: Vec<WordId> = Vec::new();
    for_each_sentence(text, |s| {
        r.sentences += 1;
        ids.clear();
        ids.push(lm.bos());
        ids.push(lm.bos());
        for w in s {
            ids.push(lm.id(w).unwrap_or(lm.unk()));
        }
        ids.push(lm.eos());
        for (i, g) in ids.windows(3).enumerate() {
            let lp = lm.log10_prob(g[0], g[1], g[2]) as f64;
            let word = s.get(i).map(|w| w.as_str()).unwrap_or(EOS);
            r.tokens += 1;
            r.log10_sum += lp;
            if g[2] == lm.unk() {
                r.oov += 1;
            }
            if include(word) {
                r.tokens_kept += 1;
                r.log10_sum_kept += lp;
            }
        }
    });
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "The cat sat on the mat. The dog sat on the log!\n\n\
        A cat and a dog sat. The cat saw 3 dogs; the dog saw the cat.\n\
        The mat was red: the log was brown. The cat sat.";
    const B: &str = "A bird sang on the roof. The bird flew away.\n\n\
        The roof was red. A cat watched the bird? The bird sang again.";

    /// Σ_w p(w | a b) over the vocabulary (without <s>) for every history.
    fn check_sums(lm: &LanguageModel, tol: f64) {
        let n = lm.vocab_len() as u32;
        let mut checked = 0;
        for a in 0..n {
            for b in 0..n {
                if b == lm.bos() && a != lm.bos() {
                    continue;
                }
                let s: f64 = (0..n)
                    .filter(|&w| w != lm.bos())
                    .map(|w| 10f64.powf(lm.log10_prob(a, b, w) as f64))
                    .sum();
                assert!(
                    (s - 1.0).abs() < tol,
                    "history ({}, {}) sums to {s}",
                    lm.word(a),
                    lm.word(b)
                );
                checked += 1;
            }
        }
        assert!(checked > 10);
    }

    /// The same check on the exact (unquantized) values.
    fn check_raw_sums(raw: &RawModel, tol: f64) {
        let n = raw.words.len() as u32;
        let bi: FxHashMap<(u32, u32), (f64, f64)> = raw
            .bi
            .iter()
            .map(|g| ((g.w1, g.w2), (g.prob as f64, g.bo as f64)))
            .collect();
        let tri: FxHashMap<(u32, u32, u32), f64> = raw
            .tri
            .iter()
            .map(|g| ((g.w1, g.w2, g.w3), g.prob as f64))
            .collect();
        let p2 = |b: u32, w: u32| match bi.get(&(b, w)) {
            Some(&(p, _)) => p,
            None => raw.uni[b as usize].1 as f64 + raw.uni[w as usize].0 as f64,
        };
        let p3 = |a: u32, b: u32, w: u32| match tri.get(&(a, b, w)) {
            Some(&p) => p,
            None => bi.get(&(a, b)).map_or(0.0, |e| e.1) + p2(b, w),
        };
        let bos = raw.words.iter().position(|w| w == BOS).unwrap() as u32;
        for a in 0..n {
            for b in 0..n {
                let s: f64 = (0..n)
                    .filter(|&w| w != bos)
                    .map(|w| 10f64.powf(p3(a, b, w)))
                    .sum();
                assert!((s - 1.0).abs() < tol, "history ({a}, {b}) sums to {s}");
            }
        }
    }

    #[test]
    fn sentences_are_split_like_restore() {
        let mut got = Vec::new();
        for_each_sentence(
            "Hello, World. It's 3 o'clock: go!\n\nNext line\nsame <b>tag</b> see https://x.org/a",
            |s| got.push(s.join(" ")),
        );
        assert_eq!(
            got,
            vec![
                "hello world",
                "it's <unk> o'clock",
                "go",
                "next line same",
                "tag",
                "see <unk>"
            ]
        );
    }

    #[test]
    fn kneser_ney_normalizes() {
        let raw = train_raw(A, &TrainOptions::default()).unwrap();
        assert_eq!(raw.order, 3);
        check_raw_sums(&raw, 1e-4);
        let lm = LanguageModel::from_raw(raw).unwrap();
        check_sums(&lm, 1e-3);
        // Seen continuations beat unseen ones.
        let id = |w: &str| lm.id(w).unwrap();
        assert!(
            lm.log10_prob(id("the"), id("cat"), id("sat"))
                > lm.log10_prob(id("the"), id("cat"), id("log"))
        );
    }

    #[test]
    fn pruned_model_normalizes() {
        let opts = TrainOptions {
            min_trigram_count: 2,
            min_bigram_count: 2,
        };
        let raw = train_raw(A, &opts).unwrap();
        let full = train_raw(A, &TrainOptions::default()).unwrap();
        assert!(raw.tri.len() < full.tri.len() && raw.bi.len() < full.bi.len());
        check_raw_sums(&raw, 1e-4);
    }

    #[test]
    fn discounts_follow_chen_goodman() {
        // n1..n4 = 4, 2, 1, 1: Y = 4/8 = 0.5.
        let d = discounts([1, 1, 1, 1, 2, 2, 3, 4].into_iter());
        assert!((d[0] - 0.5).abs() < 1e-12);
        assert!((d[1] - 1.25).abs() < 1e-12);
        assert!((d[2] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn mixture_normalizes_and_interpolates() {
        let a = train(A, &TrainOptions::default()).unwrap();
        let b = train(B, &TrainOptions::default()).unwrap();
        let lambda = 0.3;
        let m = LanguageModel::mix(&a, &b, lambda).unwrap();
        // Union vocabulary.
        for w in ["mat", "log", "bird", "roof", "<unk>"] {
            assert!(m.id(w).is_some(), "{w} missing");
        }
        check_sums(&m, 2e-3);
        // A trigram of both models: exactly the weighted sum (up to
        // quantization).
        let p = |lm: &LanguageModel, ws: [&str; 3]| {
            let id = |w: &str| lm.id(w).unwrap_or(lm.unk());
            10f64.powf(lm.log10_prob(id(ws[0]), id(ws[1]), id(ws[2])) as f64)
        };
        for ws in [
            ["<s>", "the", "cat"],
            ["the", "bird", "sang"],
            ["on", "the", "mat"],
        ] {
            // A predicted word a model lacks gets nothing from it.
            let pm = |lm: &LanguageModel| lm.id(ws[2]).map_or(0.0, |_| p(lm, ws));
            let (pb, po) = (pm(&a), pm(&b));
            let want = lambda * pb + (1.0 - lambda) * po;
            let got = p(&m, ws);
            assert!((got - want).abs() / want < 0.02, "{ws:?}: {got} vs {want}");
        }
        // Extremes reproduce one model (words of the other get nothing).
        let only_a = LanguageModel::mix(&a, &b, 1.0).unwrap();
        let (ia, ib) = (&only_a, &a);
        let id = |lm: &LanguageModel, w: &str| lm.id(w).unwrap();
        let q =
            |lm: &LanguageModel| lm.log10_prob(id(lm, "the"), id(lm, "cat"), id(lm, "sat")) as f64;
        assert!((q(ia) - q(ib)).abs() < 0.01);
        assert!(LanguageModel::mix(&a, &b, 1.5).is_err());
    }
}
