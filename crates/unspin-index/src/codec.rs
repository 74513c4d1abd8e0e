//! Byte encodings of the index's values: varints, posting blocks and
//! document records (layouts in docs/FORMATS.md).

pub use unspin::container::put_varint;
use unspin::container::VarintError;
use unspin::trace::Posting;

use crate::IndexError;

/// Bits of a fingerprint the index keeps to tell fingerprints apart. With
/// 10^8 distinct fingerprints (a million documents) a lookup meets a
/// stranger's postings about once in 11,000 lookups: a few random documents
/// gain one weak hit, which moves no ranking.
pub const KEY_BITS: u32 = 40;

/// The index key of a fingerprint hash: its top [`KEY_BITS`] after mixing.
#[inline]
pub fn key_of(hash: u64) -> u64 {
    unspin::spinner::mix64(hash ^ 0x1de8_5eed_0000_0001) >> (64 - KEY_BITS)
}

/// Reads a varint at `*at`, advancing it (the encoding is the model files'
/// LEB128, [`unspin::container::get_varint`]).
#[inline]
pub fn get_varint(b: &[u8], at: &mut usize) -> Result<u64, IndexError> {
    unspin::container::get_varint(b, at).map_err(|e| {
        IndexError::Corrupt(
            match e {
                VarintError::Truncated => "truncated varint",
                VarintError::Overflow => "varint too long",
            }
            .into(),
        )
    })
}

/// One fingerprint's entry in a segment: its key, how many postings it has
/// in the segment, and the postings unless there were too many to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub key: u64,
    pub df: u64,
    /// Postings, sorted by (doc, passage); empty when `dropped`.
    pub postings: Vec<Posting>,
    /// The postings were not stored (more than the index keeps per fingerprint).
    pub dropped: bool,
}

/// Rice parameter of passage numbers (most documents have a handful).
const PASSAGE_K: u32 = 2;
/// Quotients at or above this are written raw (an escape keeps bad
/// parameters from blowing up the size).
const RICE_ESCAPE: u64 = 24;

/// Writes bits, least significant first.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl<'a> BitWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out, acc: 0, n: 0 }
    }

    #[inline]
    fn put(&mut self, v: u64, bits: u32) {
        debug_assert!(bits <= 32 && (bits == 64 || v >> bits == 0));
        self.acc |= v << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Rice code of `v` with parameter `k`: the quotient in unary (ones
    /// ended by a zero), then the `k` low bits; quotients of
    /// [`RICE_ESCAPE`] or more are written as that many ones, a 6-bit bit
    /// count and the value.
    #[inline]
    fn rice(&mut self, v: u64, k: u32) {
        let q = v >> k;
        if q >= RICE_ESCAPE {
            self.put((1 << RICE_ESCAPE) - 1, RICE_ESCAPE as u32);
            let bits = 64 - v.leading_zeros();
            self.put(bits as u64, 6);
            let mut left = bits;
            let mut v = v;
            while left > 0 {
                let take = left.min(32);
                self.put(v & ((1u64 << take) - 1), take);
                v >>= take;
                left -= take;
            }
            return;
        }
        // q ones then a zero.
        self.put((1 << q) - 1, q as u32 + 1);
        if k > 0 {
            self.put(v & ((1 << k) - 1), k);
        }
    }

    fn finish(self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
    }
}

/// Reads what [`BitWriter`] wrote.
struct BitReader<'a> {
    b: &'a [u8],
    at: usize,
    acc: u64,
    n: u32,
}

impl<'a> BitReader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            at: 0,
            acc: 0,
            n: 0,
        }
    }

    #[inline]
    fn refill(&mut self) {
        while self.n <= 56 && self.at < self.b.len() {
            self.acc |= (self.b[self.at] as u64) << self.n;
            self.at += 1;
            self.n += 8;
        }
    }

    #[inline]
    fn get(&mut self, bits: u32) -> Result<u64, IndexError> {
        if bits == 0 {
            return Ok(0);
        }
        if self.n < bits {
            self.refill();
            if self.n < bits {
                return Err(IndexError::Corrupt("truncated posting list".into()));
            }
        }
        let v = self.acc & ((1u64 << bits) - 1);
        self.acc >>= bits;
        self.n -= bits;
        Ok(v)
    }

    #[inline]
    fn rice(&mut self, k: u32) -> Result<u64, IndexError> {
        if self.n < 32 {
            self.refill();
        }
        let ones = (!self.acc).trailing_zeros().min(self.n);
        let q = ones as u64;
        if q >= RICE_ESCAPE {
            self.get(RICE_ESCAPE as u32)?;
            let bits = self.get(6)? as u32;
            let mut v = 0u64;
            let mut shift = 0;
            let mut left = bits;
            while left > 0 {
                let take = left.min(32);
                v |= self.get(take)? << shift;
                shift += take;
                left -= take;
            }
            return Ok(v);
        }
        if ones >= self.n {
            return Err(IndexError::Corrupt("truncated posting list".into()));
        }
        self.acc >>= ones + 1;
        self.n -= ones + 1;
        Ok((q << k) | self.get(k)?)
    }

    /// Whether only padding bits are left.
    fn done(&self) -> bool {
        self.at == self.b.len() && self.n < 8
    }
}

/// Encodes the groups of one bucket (sorted by key, all in the bucket) into a block.
///
/// Layout: varint group count, then per group: varint key delta (from the
/// previous group's key, the first from the bucket's first key), varint
/// `df << 1 | dropped`, and unless dropped: varint byte length of the
/// posting list, then the list: one byte `k`, then per posting, least
/// significant bit first, the Rice code (parameter `k`) of the document's
/// gap from the previous posting's (the first: the document number) and the
/// Rice code (parameter 2) of the passage.
pub fn encode_block(bucket_base: u64, groups: &[Group], out: &mut Vec<u8>) {
    let mut b = BlockBuilder::default();
    b.start(bucket_base);
    for g in groups {
        b.push(g.key, g.df, g.dropped, &g.postings);
    }
    b.finish(out);
}

/// Builds a block group by group (see [`encode_block`] for the layout).
#[derive(Default)]
pub struct BlockBuilder {
    body: Vec<u8>,
    tmp: Vec<u8>,
    count: u64,
    prev: u64,
}

impl BlockBuilder {
    /// Starts a block whose keys are at least `bucket_base`.
    pub fn start(&mut self, bucket_base: u64) {
        self.body.clear();
        self.count = 0;
        self.prev = bucket_base;
    }

    /// Adds a group; keys must increase. `postings` is ignored when `dropped`.
    pub fn push(&mut self, key: u64, df: u64, dropped: bool, postings: &[Posting]) {
        debug_assert!(key >= self.prev);
        put_varint(&mut self.body, key - self.prev);
        self.prev = key;
        put_varint(&mut self.body, (df << 1) | dropped as u64);
        self.count += 1;
        if dropped {
            return;
        }
        self.tmp.clear();
        encode_postings(postings, &mut self.tmp);
        put_varint(&mut self.body, self.tmp.len() as u64);
        self.body.extend_from_slice(&self.tmp);
    }

    /// Groups added since [`Self::start`].
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the block to `out` (cleared first).
    pub fn finish(&self, out: &mut Vec<u8>) {
        out.clear();
        put_varint(out, self.count);
        out.extend_from_slice(&self.body);
    }
}

/// The Rice parameter for gaps averaging `mean`.
fn gap_parameter(postings: &[Posting]) -> u32 {
    let last = postings.last().map_or(0, |p| p.doc as u64);
    let mean = (last + 1) / postings.len().max(1) as u64;
    (63 - mean.max(1).leading_zeros()).min(31)
}

fn encode_postings(postings: &[Posting], out: &mut Vec<u8>) {
    let k = gap_parameter(postings);
    out.push(k as u8);
    let mut w = BitWriter::new(out);
    let mut last = 0u32;
    for p in postings {
        w.rice((p.doc - last) as u64, k);
        w.rice(p.passage as u64, PASSAGE_K);
        last = p.doc;
    }
    w.finish();
}

/// Reads a block group by group.
pub struct BlockReader<B: AsRef<[u8]>> {
    b: B,
    at: usize,
    left: u64,
    key: u64,
}

/// A group header: key, df, dropped, and where its postings lie.
pub struct GroupHeader {
    pub key: u64,
    pub df: u64,
    pub dropped: bool,
    postings: (usize, usize),
}

impl<B: AsRef<[u8]>> BlockReader<B> {
    pub fn new(b: B, bucket_base: u64) -> Result<Self, IndexError> {
        let mut at = 0;
        let left = get_varint(b.as_ref(), &mut at)?;
        Ok(Self {
            b,
            at,
            left,
            key: bucket_base,
        })
    }

    /// The next group's header (its postings are skipped unless read with [`Self::postings`]).
    pub fn next_group(&mut self) -> Result<Option<GroupHeader>, IndexError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let b = self.b.as_ref();
        self.key = self
            .key
            .checked_add(get_varint(b, &mut self.at)?)
            .ok_or_else(|| IndexError::Corrupt("key overflow".into()))?;
        let code = get_varint(b, &mut self.at)?;
        let (df, dropped) = (code >> 1, code & 1 == 1);
        let mut span = (self.at, self.at);
        if !dropped {
            let len = get_varint(b, &mut self.at)? as usize;
            let end = self
                .at
                .checked_add(len)
                .filter(|&e| e <= b.len())
                .ok_or_else(|| IndexError::Corrupt("posting list past the block end".into()))?;
            span = (self.at, end);
            self.at = end;
        }
        Ok(Some(GroupHeader {
            key: self.key,
            df,
            dropped,
            postings: span,
        }))
    }

    /// Appends the postings of `g` to `out`.
    pub fn postings(&self, g: &GroupHeader, out: &mut Vec<Posting>) -> Result<(), IndexError> {
        let b = &self.b.as_ref()[g.postings.0..g.postings.1];
        let bad = |what: &str| IndexError::Corrupt(format!("posting list: {what}"));
        let (&k, bits) = b.split_first().ok_or_else(|| bad("empty"))?;
        if k > 31 || g.df > 8 * b.len() as u64 {
            return Err(bad("bad header"));
        }
        let mut r = BitReader::new(bits);
        let mut doc = 0u64;
        for _ in 0..g.df {
            doc += r.rice(k as u32)?;
            let passage = r.rice(PASSAGE_K)?;
            if doc > u32::MAX as u64 || passage > u32::MAX as u64 {
                return Err(bad("out of range"));
            }
            out.push(Posting {
                doc: doc as u32,
                passage: passage as u32,
            });
        }
        if !r.done() {
            return Err(bad("length mismatch"));
        }
        Ok(())
    }
}

/// CRC-32 of a value's key and payload: a value read back under another
/// key, or with any byte changed, fails [`unseal`].
fn value_crc(key: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&(key.len() as u32).to_le_bytes());
    h.update(key);
    h.update(payload);
    h.finalize()
}

/// A binary value as stored (format 2): the payload, then the CRC-32 of
/// the key and the payload (4 bytes, little-endian).
pub fn seal(key: &[u8], payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(payload);
    out.extend_from_slice(&value_crc(key, payload).to_le_bytes());
}

/// The payload of a value written by [`seal`], checked.
pub fn unseal<'a>(key: &[u8], value: &'a [u8]) -> Result<&'a [u8], IndexError> {
    let Some(split) = value.len().checked_sub(4) else {
        return Err(IndexError::Corrupt(
            "value shorter than its checksum".into(),
        ));
    };
    let (payload, crc) = value.split_at(split);
    if value_crc(key, payload).to_le_bytes() != crc {
        return Err(IndexError::Corrupt("checksum mismatch".into()));
    }
    Ok(payload)
}

/// A text value as stored (format 2): 8 lowercase hex digits of the CRC-32
/// of the key and the text, a space, the text.
pub fn seal_str(key: &[u8], text: &str) -> String {
    format!("{:08x} {text}", value_crc(key, text.as_bytes()))
}

/// The text of a value written by [`seal_str`], checked.
pub fn unseal_str<'a>(key: &[u8], value: &'a str) -> Result<&'a str, IndexError> {
    let bad = || IndexError::Corrupt("checksum mismatch".into());
    let (crc, text) = value.split_at_checked(8).ok_or_else(bad)?;
    let text = text.strip_prefix(' ').ok_or_else(bad)?;
    let crc = u32::from_str_radix(crc, 16).map_err(|_| bad())?;
    if value_crc(key, text.as_bytes()) != crc {
        return Err(bad());
    }
    Ok(text)
}

/// A fast 64-bit hash of a document's text (to notice changed sources; not cryptographic).
pub fn text_hash(text: &str) -> u64 {
    let b = text.as_bytes();
    let mut h = 0x243f_6a88_85a3_08d3u64 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().unwrap());
        h = (h ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    unspin::spinner::mix64(h)
}

/// Where an indexed document's text can be read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// Not stored (standard input, generated text).
    None,
    /// A whole file (`files` table id).
    File(u32),
    /// One line of a JSON Lines file: byte offset and length of the line.
    JsonLine { file: u32, offset: u64, len: u32 },
}

/// What the index keeps of a document (no text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRecord {
    /// The caller's id (a JSONL `id`, or empty for files, whose path is the id).
    pub id: String,
    pub location: Location,
    /// Hash of the document's text, to notice when the source changed.
    pub text_hash: u64,
    /// Length of the text in bytes.
    pub text_len: u64,
    /// Metadata (JSON object text), possibly empty.
    pub meta: String,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn get_str(b: &[u8], at: &mut usize) -> Result<String, IndexError> {
    let len = get_varint(b, at)? as usize;
    let end = at
        .checked_add(len)
        .filter(|&e| e <= b.len())
        .ok_or_else(|| IndexError::Corrupt("string past the record end".into()))?;
    let s = std::str::from_utf8(&b[*at..end])
        .map_err(|_| IndexError::Corrupt("record string is not UTF-8".into()))?
        .to_string();
    *at = end;
    Ok(s)
}

impl DocRecord {
    /// Encodes the record: version byte 1, id, location tag (0 none, 1 file,
    /// 2 JSON line) with its fields, text hash (8 bytes LE), text length,
    /// metadata; strings are a varint length and UTF-8 bytes, every integer
    /// but the hash a varint. (Passage offsets are not stored: they are
    /// recomputed from the text when it is read again.)
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        out.push(1);
        put_str(out, &self.id);
        match self.location {
            Location::None => out.push(0),
            Location::File(f) => {
                out.push(1);
                put_varint(out, f as u64);
            }
            Location::JsonLine { file, offset, len } => {
                out.push(2);
                put_varint(out, file as u64);
                put_varint(out, offset);
                put_varint(out, len as u64);
            }
        }
        out.extend_from_slice(&self.text_hash.to_le_bytes());
        put_varint(out, self.text_len);
        put_str(out, &self.meta);
    }

    pub fn decode(b: &[u8]) -> Result<Self, IndexError> {
        let bad = |what: &str| IndexError::Corrupt(format!("document record: {what}"));
        if b.first() != Some(&1) {
            return Err(bad("unknown version"));
        }
        let mut at = 1;
        let id = get_str(b, &mut at)?;
        let tag = *b.get(at).ok_or_else(|| bad("truncated"))?;
        at += 1;
        let location = match tag {
            0 => Location::None,
            1 => Location::File(get_varint(b, &mut at)? as u32),
            2 => Location::JsonLine {
                file: get_varint(b, &mut at)? as u32,
                offset: get_varint(b, &mut at)?,
                len: get_varint(b, &mut at)? as u32,
            },
            _ => return Err(bad("unknown location")),
        };
        let hash = b.get(at..at + 8).ok_or_else(|| bad("truncated"))?;
        let text_hash = u64::from_le_bytes(hash.try_into().unwrap());
        at += 8;
        let text_len = get_varint(b, &mut at)?;
        let meta = get_str(b, &mut at)?;
        if at != b.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(Self {
            id,
            location,
            text_hash,
            text_len,
            meta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(v in any::<u64>()) {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut at = 0;
            prop_assert_eq!(get_varint(&b, &mut at).unwrap(), v);
            prop_assert_eq!(at, b.len());
        }

        #[test]
        fn blocks_round_trip(
            mut groups in prop::collection::vec(
                (0u64..1 << 20, prop::collection::btree_set((0u32..5000, 0u32..300), 0..20), any::<bool>()),
                0..40,
            ),
        ) {
            groups.sort_by_key(|g| g.0);
            groups.dedup_by_key(|g| g.0);
            let base = 1u64 << 30;
            let groups: Vec<Group> = groups
                .into_iter()
                .map(|(k, set, dropped)| {
                    let postings: Vec<Posting> = if dropped {
                        Vec::new()
                    } else {
                        set.iter().map(|&(doc, passage)| Posting { doc, passage }).collect()
                    };
                    Group { key: base + k, df: set.len() as u64, postings, dropped }
                })
                .collect();
            let mut out = Vec::new();
            encode_block(base, &groups, &mut out);
            let mut r = BlockReader::new(&out[..], base).unwrap();
            let mut back = Vec::new();
            while let Some(h) = r.next_group().unwrap() {
                let mut postings = Vec::new();
                if !h.dropped {
                    r.postings(&h, &mut postings).unwrap();
                }
                back.push(Group { key: h.key, df: h.df, postings, dropped: h.dropped });
            }
            prop_assert_eq!(back, groups);
        }

        #[test]
        fn corrupt_blocks_give_errors_not_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(mut r) = BlockReader::new(&bytes[..], 0) {
                let mut out = Vec::new();
                for _ in 0..100 {
                    match r.next_group() {
                        Ok(Some(h)) => {
                            if !h.dropped && h.df < 1000 {
                                let _ = r.postings(&h, &mut out);
                            }
                        }
                        _ => break,
                    }
                }
            }
            let _ = DocRecord::decode(&bytes);
        }
    }

    #[test]
    fn sealed_values_round_trip_and_catch_changes() {
        let mut v = Vec::new();
        seal(&7u32.to_le_bytes(), b"payload", &mut v);
        assert_eq!(unseal(&7u32.to_le_bytes(), &v).unwrap(), b"payload");
        assert!(unseal(&8u32.to_le_bytes(), &v).is_err(), "another key");
        for i in 0..v.len() {
            let mut w = v.clone();
            w[i] ^= 0x10;
            assert!(unseal(&7u32.to_le_bytes(), &w).is_err(), "byte {i}");
        }
        assert!(unseal(b"", &[1, 2]).is_err());
        let s = seal_str(b"index", "{\"a\":1}");
        assert_eq!(unseal_str(b"index", &s).unwrap(), "{\"a\":1}");
        assert!(unseal_str(b"index", &s.replace('1', "2")).is_err());
        assert!(unseal_str(b"index", "{\"a\":1}").is_err());
        assert!(unseal_str(b"index", "é").is_err());
    }

    #[test]
    fn records_round_trip() {
        let r = DocRecord {
            id: "doc-7".into(),
            location: Location::JsonLine {
                file: 3,
                offset: 123_456_789,
                len: 4000,
            },
            text_hash: 0xdead_beef_1234_5678,
            text_len: 3999,
            meta: r#"{"title":"x"}"#.into(),
        };
        let mut b = Vec::new();
        r.encode(&mut b);
        assert_eq!(DocRecord::decode(&b).unwrap(), r);
        assert!(DocRecord::decode(&b[..b.len() - 1]).is_err());
    }
}
