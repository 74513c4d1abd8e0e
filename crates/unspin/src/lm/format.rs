//! unspin's language model file: container kind `LMTG`, version 1.
//!
//! Payload (little-endian; "varint" is unsigned LEB128; a "stream" is a u64
//! byte length followed by that many bytes):
//!
//! ```text
//! u32 order (1-3)          u32 vocab_len         u32 bos  u32 eos  u32 unk
//! u64 bigram count         u64 trigram count
//! u64 text length, text: vocab_len words, each followed by a NUL byte
//! f32 × vocab_len unigram log10 probabilities
//! f32 × vocab_len unigram log10 backoffs
//! order >= 2:
//!   f32 × 256 bigram probability codebook, f32 × 256 bigram backoff codebook
//!   stream: per first word w1 in 0..vocab_len, varint number of bigrams (w1, *)
//!   stream: per bigram, varint w2 minus previous w2 of the same w1 (first: w2)
//!   stream: per bigram, u8 probability code
//!   stream: per bigram, u8 backoff code
//! order == 3:
//!   f32 × 256 trigram probability codebook
//!   stream: per distinct context (w1, w2): varint w1 minus previous w1,
//!           varint w2 (minus previous w2 when w1 is unchanged), varint count
//!   stream: per trigram, varint w3 minus previous w3 of the same context
//!   stream: per trigram, u8 probability code
//! ```
//!
//! N-grams are sorted by word ids, so the streams hold small numbers and
//! repetitive codes that zstd compresses well. Codebooks are sorted ascending.

use super::quant::{Codebook, LEVELS};
use super::table::Table;
use super::{bits_for, parallel, LanguageModel, KIND, MAX_VOCAB, VERSION};
use crate::container::{self, get_varint, put_varint, VarintError};
use crate::Error;

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put_stream(out: &mut Vec<u8>, s: &[u8]) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s);
}
fn put_codebook(out: &mut Vec<u8>, cb: &Codebook) {
    for c in cb.centers {
        out.extend_from_slice(&c.to_le_bytes());
    }
}

/// Serialises `lm` into a compressed container.
pub(super) fn write(lm: &LanguageModel, level: i32) -> Vec<u8> {
    let n = lm.vocab_len();
    let bits = lm.word_bits;
    let wmask = (1u64 << bits) - 1;
    let mut bi = lm.bi.entries();
    bi.sort_unstable_by_key(|e| e.0);
    let mut tri = lm.tri.entries();
    tri.sort_unstable_by_key(|e| e.0);

    let mut p = Vec::new();
    put_u32(&mut p, lm.order as u32);
    put_u32(&mut p, n as u32);
    put_u32(&mut p, lm.bos);
    put_u32(&mut p, lm.eos);
    put_u32(&mut p, lm.unk);
    put_u64(&mut p, bi.len() as u64);
    put_u64(&mut p, tri.len() as u64);
    put_u64(&mut p, (lm.text.len() + n) as u64);
    for id in 0..n as u32 {
        p.extend_from_slice(lm.word(id).as_bytes());
        p.push(0);
    }
    for u in &lm.uni {
        p.extend_from_slice(&u[0].to_le_bytes());
    }
    for u in &lm.uni {
        p.extend_from_slice(&u[1].to_le_bytes());
    }
    if lm.order >= 2 {
        put_codebook(&mut p, &lm.bi_prob);
        put_codebook(&mut p, &lm.bi_bo);
        let mut counts = vec![0u64; n];
        for &(k, _) in &bi {
            counts[(k >> bits) as usize] += 1;
        }
        let mut s = Vec::with_capacity(n);
        for c in counts {
            put_varint(&mut s, c);
        }
        put_stream(&mut p, &s);
        s.clear();
        let mut prev = (u64::MAX, 0u64);
        for &(k, _) in &bi {
            let (a, b) = (k >> bits, k & wmask);
            put_varint(&mut s, if a == prev.0 { b - prev.1 } else { b });
            prev = (a, b);
        }
        put_stream(&mut p, &s);
        put_stream(&mut p, &bi.iter().map(|e| e.1 as u8).collect::<Vec<_>>());
        put_stream(
            &mut p,
            &bi.iter().map(|e| (e.1 >> 8) as u8).collect::<Vec<_>>(),
        );
    }
    if lm.order >= 3 {
        put_codebook(&mut p, &lm.tri_prob);
        let mut ctx = Vec::new();
        let mut w3s = Vec::with_capacity(tri.len());
        let mut i = 0;
        let (mut pa, mut pb) = (0u64, 0u64);
        while i < tri.len() {
            let c = tri[i].0 >> bits;
            let mut j = i;
            let mut prev = 0u64;
            while j < tri.len() && tri[j].0 >> bits == c {
                let w3 = tri[j].0 & wmask;
                put_varint(&mut w3s, w3 - prev);
                prev = w3;
                j += 1;
            }
            let (a, b) = (c >> bits, c & wmask);
            put_varint(&mut ctx, a - pa);
            put_varint(&mut ctx, if a == pa { b - pb } else { b });
            put_varint(&mut ctx, (j - i) as u64);
            (pa, pb) = (a, b);
            i = j;
        }
        put_stream(&mut p, &ctx);
        put_stream(&mut p, &w3s);
        put_stream(&mut p, &tri.iter().map(|e| e.1 as u8).collect::<Vec<_>>());
    }
    container::encode(KIND, VERSION, &p, level)
}

/// Bounds-checked reader over the payload.
struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

fn corrupt(why: &str) -> Error {
    Error::Model(format!("LMTG model file: corrupt payload ({why})"))
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        if self.b.len() - self.pos < n {
            return Err(corrupt(&format!("truncated in {what}")));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self, what: &str) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn u64(&mut self, what: &str) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
    fn len(&mut self, what: &str) -> Result<usize, Error> {
        let v = self.u64(what)?;
        if v > (self.b.len() - self.pos) as u64 {
            return Err(corrupt(&format!("length of {what} exceeds the file")));
        }
        Ok(v as usize)
    }
    fn stream(&mut self, what: &str) -> Result<&'a [u8], Error> {
        let n = self.len(what)?;
        self.take(n, what)
    }
    fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, Error> {
        let bytes = self.take(n.checked_mul(4).ok_or_else(|| corrupt(what))?, what)?;
        let v: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(corrupt(&format!("non-finite value in {what}")));
        }
        Ok(v)
    }
    fn codebook(&mut self, what: &str) -> Result<Codebook, Error> {
        let v = self.f32s(LEVELS, what)?;
        let mut c = [0f32; LEVELS];
        c.copy_from_slice(&v);
        Codebook::from_centers(c).ok_or_else(|| corrupt(&format!("{what} not sorted")))
    }
}

/// Reads the varints of one stream ([`container::get_varint`]), naming the
/// stream in its errors.
struct Varints<'a> {
    b: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl Varints<'_> {
    #[inline]
    fn next(&mut self) -> Result<u64, Error> {
        get_varint(self.b, &mut self.pos).map_err(|e| match e {
            VarintError::Truncated => corrupt(&format!("{} stream ends early", self.what)),
            VarintError::Overflow => corrupt(&format!("varint overflow in {}", self.what)),
        })
    }
    fn done(&self) -> Result<(), Error> {
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(corrupt(&format!("trailing bytes in {} stream", self.what)))
        }
    }
}

/// Decoded entries on their way into a table, inserted a few thousand at a
/// time so that [`Table::insert_batch`] can fetch buckets ahead.
struct Batch<'t> {
    table: &'t mut Table,
    pending: Vec<(u64, u16)>,
}

impl<'t> Batch<'t> {
    const SIZE: usize = 4096;

    fn new(table: &'t mut Table) -> Self {
        Batch {
            table,
            pending: Vec::with_capacity(Self::SIZE),
        }
    }

    #[inline]
    fn push(&mut self, key: u64, val: u16) {
        self.pending.push((key, val));
        if self.pending.len() == Self::SIZE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.table.insert_batch(&self.pending);
        self.pending.clear();
    }

    fn finish(mut self) {
        self.flush();
    }
}

/// Bigram streams to a table.
fn decode_bigrams(n: u64, nb: usize, bits: u32, s: [&[u8]; 4]) -> Result<Table, Error> {
    let [counts, w2s, probs, bos] = s;
    if probs.len() != nb || bos.len() != nb {
        return Err(corrupt("bigram code streams have the wrong length"));
    }
    let mut t = Table::with_capacity(nb, 2 * bits, 16);
    let mut batch = Batch::new(&mut t);
    let mut cv = Varints {
        b: counts,
        pos: 0,
        what: "bigram count",
    };
    let mut wv = Varints {
        b: w2s,
        pos: 0,
        what: "bigram word",
    };
    let mut i = 0usize;
    for w1 in 0..n {
        let c = cv.next()?;
        if c > (nb - i) as u64 {
            return Err(corrupt("bigram counts exceed the total"));
        }
        let mut w2 = 0u64;
        for j in 0..c {
            let d = wv.next()?;
            if j > 0 && d == 0 {
                return Err(corrupt("duplicate bigram"));
            }
            w2 = w2
                .checked_add(d)
                .filter(|&w| w < n)
                .ok_or_else(|| corrupt("bigram word id out of range"))?;
            batch.push((w1 << bits) | w2, probs[i] as u16 | (bos[i] as u16) << 8);
            i += 1;
        }
    }
    batch.finish();
    cv.done()?;
    wv.done()?;
    if i != nb {
        return Err(corrupt("bigram count mismatch"));
    }
    Ok(t)
}

/// Trigram streams to a table.
fn decode_trigrams(n: u64, nt: usize, bits: u32, s: [&[u8]; 3]) -> Result<Table, Error> {
    let [ctx, w3s, probs] = s;
    if probs.len() != nt {
        return Err(corrupt("trigram code stream has the wrong length"));
    }
    let mut t = Table::with_capacity(nt, 3 * bits, 8);
    let mut batch = Batch::new(&mut t);
    let mut cv = Varints {
        b: ctx,
        pos: 0,
        what: "trigram context",
    };
    let mut wv = Varints {
        b: w3s,
        pos: 0,
        what: "trigram word",
    };
    let range = |v: u64| {
        if v < n {
            Ok(v)
        } else {
            Err(corrupt("trigram word id out of range"))
        }
    };
    let (mut a, mut b) = (0u64, 0u64);
    let mut i = 0usize;
    let mut first = true;
    while i < nt {
        let da = cv.next()?;
        let db = cv.next()?;
        let c = cv.next()?;
        if da == 0 {
            if db == 0 && !first {
                return Err(corrupt("duplicate trigram context"));
            }
            b = range(b.saturating_add(db))?;
        } else {
            a = range(a.saturating_add(da))?;
            b = range(db)?;
        }
        first = false;
        if c == 0 || c > (nt - i) as u64 {
            return Err(corrupt("bad trigram context count"));
        }
        let base = (a << (2 * bits)) | (b << bits);
        let mut w3 = 0u64;
        for j in 0..c {
            let d = wv.next()?;
            if j > 0 && d == 0 {
                return Err(corrupt("duplicate trigram"));
            }
            w3 = range(w3.saturating_add(d))?;
            batch.push(base | w3, probs[i] as u16);
            i += 1;
        }
    }
    batch.finish();
    cv.done()?;
    wv.done()?;
    Ok(t)
}

/// Parses a compressed container into a model.
pub(super) fn read(bytes: &[u8]) -> Result<LanguageModel, Error> {
    // The header's uncompressed size is not covered by the checksum; compare it
    // with the size recorded in the zstd frame before trusting it.
    if bytes.len() >= 40 && bytes.starts_with(container::MAGIC) {
        let ulen = u64::from_le_bytes(bytes[24..32].try_into().unwrap());
        match zstd::zstd_safe::get_frame_content_size(&bytes[40..]) {
            Ok(Some(fs)) if fs == ulen => {}
            _ => return Err(corrupt("header and compressed frame disagree on the size")),
        }
    }
    let payload = container::decode(bytes, KIND, VERSION)?;
    let mut c = Cur {
        b: &payload,
        pos: 0,
    };
    let order = c.u32("header")? as usize;
    if !(1..=3).contains(&order) {
        return Err(corrupt(&format!("order {order}")));
    }
    let n = c.u32("header")? as usize;
    if n == 0 || n > MAX_VOCAB || n > payload.len() / 8 {
        return Err(corrupt(&format!("vocabulary size {n}")));
    }
    let (bos, eos, unk) = (c.u32("header")?, c.u32("header")?, c.u32("header")?);
    if [bos, eos, unk].iter().any(|&w| w as usize >= n) {
        return Err(corrupt("special word id out of range"));
    }
    let nb = c.u64("header")?;
    let nt = c.u64("header")?;
    if nb > payload.len() as u64 / 2 || nt > payload.len() as u64 {
        return Err(corrupt("n-gram counts exceed the file"));
    }
    let (nb, nt) = (nb as usize, nt as usize);
    if (order < 2 && nb > 0) || (order < 3 && nt > 0) {
        return Err(corrupt("n-grams above the model order"));
    }
    let tl = c.len("vocabulary")?;
    let text = c.take(tl, "vocabulary")?;
    let text = std::str::from_utf8(text).map_err(|_| corrupt("vocabulary is not UTF-8"))?;
    let words: Vec<&str> = text.split_terminator('\0').collect();
    if words.len() != n || !text.ends_with('\0') {
        return Err(corrupt("vocabulary word count"));
    }
    let probs = c.f32s(n, "unigram probabilities")?;
    let bos_w = c.f32s(n, "unigram backoffs")?;
    let uni: Vec<[f32; 2]> = probs.iter().zip(&bos_w).map(|(&p, &b)| [p, b]).collect();
    let bits = bits_for(n);
    let zero = || Codebook::from_centers([0.0; LEVELS]).expect("zero codebook");
    let (mut bi_prob, mut bi_bo, mut tri_prob) = (zero(), zero(), zero());
    let mut bi_streams = None;
    let mut tri_streams = None;
    if order >= 2 {
        bi_prob = c.codebook("bigram probability codebook")?;
        bi_bo = c.codebook("bigram backoff codebook")?;
        bi_streams = Some([
            c.stream("bigram counts")?,
            c.stream("bigram words")?,
            c.stream("bigram probabilities")?,
            c.stream("bigram backoffs")?,
        ]);
    }
    if order >= 3 {
        tri_prob = c.codebook("trigram probability codebook")?;
        tri_streams = Some([
            c.stream("trigram contexts")?,
            c.stream("trigram words")?,
            c.stream("trigram probabilities")?,
        ]);
    }
    if c.pos != payload.len() {
        return Err(corrupt("trailing bytes"));
    }
    let n64 = n as u64;
    let (bi, tri) = parallel(
        nb + nt > 200_000,
        || match bi_streams {
            Some(s) => decode_bigrams(n64, nb, bits, s),
            None => Ok(Table::with_capacity(0, 2 * bits, 16)),
        },
        || match tri_streams {
            Some(s) => decode_trigrams(n64, nt, bits, s),
            None => Ok(Table::with_capacity(0, 3 * bits, 8)),
        },
    );
    Ok(LanguageModel::assemble(
        order,
        words.into_iter(),
        uni,
        (bi_prob, bi_bo, tri_prob),
        (bi?, tri?),
        (bos, eos, unk),
    ))
}
