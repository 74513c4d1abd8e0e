//! Reader for the CMU Sphinx / PocketSphinx binary trie language model
//! ("Trie Language Model", e.g. `en-us.lm.bin`).
//!
//! Layout, as understood from PocketSphinx's writer (all little-endian):
//!
//! ```text
//! "Trie Language Model"       19 bytes, no terminator
//! u8 order
//! u32 × order                 n-gram counts as allocated (may exceed the real count)
//! if order > 1:
//!   i32                       unused (was a quantization type, always 1)
//!   f32 × ((order-2)·2 + 1)·65536
//!                             codebooks: for each middle order a probability
//!                             and a backoff table, then the highest order's
//!                             probability table
//! (f32 prob, f32 backoff, u32 next) × (count[0] + 1)
//!                             unigrams; `next` of word w and w+1 delimit its
//!                             children in the first n-gram level
//! bit-packed n-gram levels, orders 2..order
//! u32 byte length, then that many bytes of NUL-terminated words (count[0])
//! ```
//!
//! The trie is reversed: the children of unigram `w` are the words `u` that
//! precede it, holding p(w | u) and bo(u w); their children are the words `v`
//! before those, holding p(w | v u). An entry of a middle level is
//! `word_bits` word id, 16-bit backoff code (low) and 16-bit probability code,
//! then a `next` pointer of `bits(count of the level above)` bits; an entry of
//! the highest level is a word id and a 16-bit probability code. Each level
//! is a little-endian bit stream with `total_bits` per entry, padded with
//! 8 spare bytes. Middle levels may contain filler entries for n-grams absent
//! from the source model (needed to reach longer n-grams in the reversed trie):
//! their probability is the backed-off one and their backoff is 0.
//!
//! Values are logarithms in base 1.0001 (PocketSphinx's `logmath` units); the
//! scale is checked by requiring the unigram probabilities to sum to one.

use super::raw::{Bigram, RawModel, Trigram};
use crate::Error;

pub(super) const HEADER: &[u8] = b"Trie Language Model";
const QBITS: u32 = 16;
const TABLE: usize = 1 << QBITS;

fn bad(why: impl std::fmt::Display) -> Error {
    Error::Model(format!("Sphinx binary language model: {why}"))
}

/// Number of bits to hold `max` (0 for 0), as PocketSphinx computes it.
fn required_bits(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

/// Byte size of a bit-packed level, as PocketSphinx allocates it.
fn level_size(entries: u32, max_vocab: u32, remaining_bits: u32) -> u64 {
    let total = (required_bits(max_vocab) + remaining_bits) as u64;
    ((1 + entries as u64) * total).div_ceil(8) + 8
}

/// One bit-packed n-gram level.
struct Level<'a> {
    mem: &'a [u8],
    word_bits: u32,
    /// 32 for a middle level (backoff + probability), 16 for the highest.
    quant_bits: u32,
    /// Width of the `next` pointer; 0 for the highest level.
    next_bits: u32,
    total_bits: u64,
    /// Entries addressable (allocated count + 1).
    capacity: u64,
}

impl Level<'_> {
    #[inline]
    fn bits(&self, bit: u64, n: u32) -> u64 {
        let byte = (bit >> 3) as usize;
        let mut buf = [0u8; 8];
        let end = (byte + 8).min(self.mem.len());
        if byte < end {
            buf[..end - byte].copy_from_slice(&self.mem[byte..end]);
        }
        (u64::from_le_bytes(buf) >> (bit & 7)) & ((1u64 << n) - 1)
    }
    fn word(&self, i: u64) -> u32 {
        self.bits(i * self.total_bits, self.word_bits) as u32
    }
    /// Returns (probability code, backoff code).
    fn codes(&self, i: u64) -> (usize, usize) {
        let q = self.bits(i * self.total_bits + self.word_bits as u64, self.quant_bits);
        if self.quant_bits == 32 {
            ((q >> QBITS) as usize, (q & 0xffff) as usize)
        } else {
            (q as usize, 0)
        }
    }
    fn next(&self, i: u64) -> u64 {
        self.bits(
            i * self.total_bits + (self.word_bits + self.quant_bits) as u64,
            self.next_bits,
        )
    }
    /// The child range of entry `i`, checked against the child level.
    fn children(&self, i: u64, child_capacity: u64) -> Result<(u64, u64), Error> {
        let (b, e) = (self.next(i), self.next(i + 1));
        if b > e || e >= child_capacity {
            return Err(bad("corrupt child range in n-gram level"));
        }
        Ok((b, e))
    }
}

/// Statistics of a read, for reports and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SphinxInfo {
    pub header_counts: Vec<u32>,
    pub found_counts: Vec<u64>,
    /// Bigram filler entries dropped as redundant with back-off.
    pub fillers_dropped: u64,
    /// log10 of the logmath base, as fitted.
    pub scale_ppm_off: i64,
}

/// Reads the file into exact-valued n-grams (orders above 3 are ignored).
pub(super) fn read(bytes: &[u8]) -> Result<RawModel, Error> {
    read_with_info(bytes).map(|r| r.0)
}

pub(crate) fn read_with_info(bytes: &[u8]) -> Result<(RawModel, SphinxInfo), Error> {
    let mut pos = 0usize;
    let mut take = |n: usize, what: &str| -> Result<&[u8], Error> {
        if bytes.len() - pos < n {
            return Err(bad(format!("truncated in {what}")));
        }
        pos += n;
        Ok(&bytes[pos - n..pos])
    };
    if take(HEADER.len(), "header")? != HEADER {
        return Err(bad("missing \"Trie Language Model\" header"));
    }
    let order = take(1, "header")?[0] as usize;
    if !(1..=6).contains(&order) {
        return Err(bad(format!("n-gram order {order} out of range")));
    }
    let mut counts = Vec::with_capacity(order);
    for _ in 0..order {
        counts.push(u32::from_le_bytes(take(4, "counts")?.try_into().unwrap()));
    }
    let n = counts[0] as usize;
    if n == 0 || n >= 1 << 25 {
        return Err(bad(format!("{n} unigrams")));
    }
    let mut tables: Vec<f32> = Vec::new();
    if order > 1 {
        take(4, "quantizer header")?;
        let nvalues = ((order - 2) * 2 + 1) * TABLE;
        let raw = take(nvalues * 4, "quantizer tables")?;
        tables = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
    }
    let ug_bytes = take((n + 1) * 12, "unigrams")?;
    let mut ug = Vec::with_capacity(n + 1);
    for c in ug_bytes.chunks_exact(12) {
        let f = |o: usize| f32::from_le_bytes(c[o..o + 4].try_into().unwrap());
        ug.push((
            f(0),
            f(4),
            u32::from_le_bytes(c[8..12].try_into().unwrap()) as u64,
        ));
    }
    // Levels for orders 2..=order.
    let mut levels = Vec::new();
    for i in 1..order {
        let highest = i == order - 1;
        let next_bits = if highest {
            0
        } else {
            required_bits(counts[i + 1])
        };
        let quant_bits = if highest { 16 } else { 32 };
        let size = level_size(counts[i], counts[0], quant_bits + next_bits);
        let mem = take(size as usize, "n-gram levels")?;
        levels.push(Level {
            mem,
            word_bits: required_bits(counts[0]),
            quant_bits,
            next_bits,
            total_bits: (required_bits(counts[0]) + quant_bits + next_bits) as u64,
            capacity: counts[i] as u64 + 1,
        });
    }
    let k = u32::from_le_bytes(take(4, "word list length")?.try_into().unwrap()) as usize;
    let text = take(k, "word list")?;
    let mut words = Vec::with_capacity(n);
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == 0 {
            let w =
                std::str::from_utf8(&text[start..i]).map_err(|_| bad("word list is not UTF-8"))?;
            words.push(w.to_string());
            start = i + 1;
        }
    }
    if words.len() != n {
        return Err(bad(format!(
            "{} words listed, header says {n}",
            words.len()
        )));
    }

    // Scale: logmath base 1.0001 unless the unigrams say otherwise.
    let default_scale = 1.0001f64.log10();
    let total = |scale: f64| -> f64 {
        ug[..n]
            .iter()
            .filter(|u| u.0 <= 0.0)
            .map(|u| 10f64.powf(u.0 as f64 * scale))
            .sum()
    };
    let mut scale = default_scale;
    if (total(scale) - 1.0).abs() > 0.05 {
        // total() decreases with the scale; bisect in log space.
        let (mut lo, mut hi) = (default_scale / 1e4, default_scale * 1e4);
        if total(lo) > 1.0 && total(hi) < 1.0 {
            for _ in 0..100 {
                let mid = (lo * hi).sqrt();
                if total(mid) > 1.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            scale = (lo * hi).sqrt();
        }
    }
    let conv = |v: f32| -> f32 { ((v as f64 * scale) as f32).clamp(-99.0, 99.0) };
    let uni: Vec<(f32, f32)> = ug[..n]
        .iter()
        .map(|u| (conv(u.0).min(0.0), conv(u.1)))
        .collect();
    if uni.iter().any(|u| !u.0.is_finite() || !u.1.is_finite()) {
        return Err(bad("non-finite unigram value"));
    }
    let table = |order_minus_2: usize, backoff: bool| -> &[f32] {
        let start = (order_minus_2 * 2 + backoff as usize) * TABLE;
        &tables[start..start + TABLE]
    };

    let mut info = SphinxInfo {
        header_counts: counts.clone(),
        found_counts: vec![n as u64],
        ..Default::default()
    };
    let mut bi = Vec::new();
    let mut tri = Vec::new();
    if order >= 2 {
        let l2 = &levels[0];
        let l3 = levels.get(1);
        let (p2, b2) = if order == 2 {
            (table(0, false), None)
        } else {
            (table(0, false), Some(table(0, true)))
        };
        // Trigram probabilities: the highest level's table, or the second
        // middle level's for orders above 3.
        let p3 = if order >= 3 { table(1, false) } else { &[][..] };
        let mut n2 = 0u64;
        let mut n3 = 0u64;
        for w in 0..n {
            let (b, e) = (ug[w].2, ug[w + 1].2);
            if b > e || e >= l2.capacity {
                return Err(bad("corrupt unigram child range"));
            }
            for i in b..e {
                let u = l2.word(i);
                if u as usize >= n {
                    return Err(bad("bigram word id out of range"));
                }
                let (pc, bc) = l2.codes(i);
                let prob = conv(p2[pc]).min(0.0);
                let bo = b2.map_or(0.0, |t| conv(t[bc]));
                n2 += 1;
                // A filler entry reproduces what back-off gives anyway.
                let backed_off = uni[w].0 + uni[u as usize].1;
                let filler = bo.abs() < 1e-3 && (prob - backed_off).abs() < 1e-2;
                let (cb, ce) = match l3 {
                    Some(l3) => l2.children(i, l3.capacity)?,
                    None => (0, 0),
                };
                // Fillers are paths to trigrams in the reversed trie; our
                // trigram keys do not need them, and a missing bigram has
                // backoff 0 as a context, like the filler.
                if filler {
                    info.fillers_dropped += 1;
                } else {
                    bi.push(Bigram {
                        w1: u,
                        w2: w as u32,
                        prob,
                        bo,
                    });
                }
                if let Some(l3) = l3 {
                    for j in cb..ce {
                        let v = l3.word(j);
                        if v as usize >= n {
                            return Err(bad("trigram word id out of range"));
                        }
                        let (pc, _) = l3.codes(j);
                        n3 += 1;
                        tri.push(Trigram {
                            w1: v,
                            w2: u,
                            w3: w as u32,
                            prob: conv(p3[pc]).min(0.0),
                        });
                    }
                }
            }
        }
        info.found_counts.push(n2);
        if order >= 3 {
            info.found_counts.push(n3);
        }
    }
    info.scale_ppm_off = ((scale / default_scale - 1.0) * 1e6).round() as i64;
    let raw = RawModel {
        order: order.min(3),
        words,
        uni,
        bi,
        tri,
    };
    raw.validate("Sphinx binary language model")?;
    Ok((raw, info))
}
