//! Open-addressing hash table from packed n-gram keys to quantized values.
//!
//! Slots are `u64`s grouped in cache-line buckets of eight. Each slot holds the
//! key in its low `key_bits` bits and, when it fits, the value (one or two
//! codes) in the bits above; otherwise (very large vocabularies) the values live
//! in a parallel `u16` array. A key hashes to a home bucket and is stored in the
//! first free slot from the start of that bucket onwards (bucketised linear
//! probing, no deletions). So a lookup scans whole buckets without branching on
//! each slot, and stops at the first bucket that has a free slot: all keys
//! homed at or before a bucket with a free slot lie before that slot. At the
//! load factor used, nearly all lookups read a single cache line.

/// Marks an empty slot. No packed entry can equal it: the top word field of a
/// key is always below `2^word_bits - 1`.
pub(crate) const EMPTY: u64 = u64::MAX;

/// Target load factor (entries / home slots).
const LOAD: f64 = 0.65;
const WIDTH: usize = 8;

#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Bucket([u64; WIDTH]);

const EMPTY_BUCKET: Bucket = Bucket([EMPTY; WIDTH]);

#[derive(Clone, Debug)]
pub(crate) struct Table {
    buckets: Vec<Bucket>,
    /// Values when they do not fit into the slot (index bucket * 8 + slot);
    /// empty when packed.
    vals: Vec<u16>,
    /// Number of home buckets (`buckets.len()` is larger: overflow room).
    homes: u64,
    key_bits: u32,
    key_mask: u64,
    packed: bool,
    len: usize,
}

#[inline(always)]
fn mix(k: u64) -> u64 {
    let k = (k ^ (k >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    k ^ (k >> 29)
}

/// Bit masks of the slots holding `key` (under `mask`) and of the free slots.
#[inline(always)]
fn scan_portable(bucket: &[u64; WIDTH], key: u64, mask: u64) -> (u32, u32) {
    let mut hit = 0u32;
    let mut free = 0u32;
    for (j, &s) in bucket.iter().enumerate() {
        hit |= ((s & mask == key) as u32) << j;
        free |= ((s == EMPTY) as u32) << j;
    }
    (hit, free)
}

/// [`scan_portable`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn scan_avx2(bucket: &[u64; WIDTH], key: u64, mask: u64) -> (u32, u32) {
    use std::arch::x86_64::*;
    // SAFETY: `bucket` is 64 readable bytes (aligned to 64 by `Bucket`).
    let (lo, hi) = unsafe {
        let p = bucket.as_ptr() as *const __m256i;
        (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
    };
    let k = _mm256_set1_epi64x(key as i64);
    let m = _mm256_set1_epi64x(mask as i64);
    let e = _mm256_set1_epi64x(-1);
    let bits = |v: __m256i| _mm256_movemask_pd(_mm256_castsi256_pd(v)) as u32;
    let hit = bits(_mm256_cmpeq_epi64(_mm256_and_si256(lo, m), k))
        | bits(_mm256_cmpeq_epi64(_mm256_and_si256(hi, m), k)) << 4;
    let free = bits(_mm256_cmpeq_epi64(lo, e)) | bits(_mm256_cmpeq_epi64(hi, e)) << 4;
    (hit, free)
}

impl Table {
    /// An empty table sized for `n` entries of `key_bits`-bit keys with
    /// `val_bits`-bit values.
    pub(crate) fn with_capacity(n: usize, key_bits: u32, val_bits: u32) -> Self {
        debug_assert!(key_bits < 64 && val_bits <= 16);
        let homes = ((n as f64 / LOAD / WIDTH as f64).ceil() as u64).max(1);
        let packed = key_bits + val_bits <= 64;
        // Room for probes that run past the last home bucket, so the rare push
        // in `insert_new` does not double the allocation.
        let mut buckets = Vec::with_capacity(homes as usize + 1 + 64);
        buckets.resize(homes as usize + 1, EMPTY_BUCKET);
        let vals = if packed {
            Vec::new()
        } else {
            let mut v = Vec::with_capacity(buckets.capacity() * WIDTH);
            v.resize(buckets.len() * WIDTH, 0);
            v
        };
        Table {
            buckets,
            vals,
            homes,
            key_bits,
            key_mask: (1u64 << key_bits) - 1,
            packed,
            len: 0,
        }
    }

    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        ((mix(key) as u128 * self.homes as u128) >> 64) as usize
    }

    /// Asks the CPU to start fetching the home bucket of `key`.
    #[inline(always)]
    pub(crate) fn prefetch(&self, key: u64) {
        let p = &self.buckets[self.home(key)] as *const Bucket;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch has no architectural effect; `p` is valid anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = p;
    }

    /// Inserts a key that is not yet present (callers guarantee uniqueness).
    pub(crate) fn insert_new(&mut self, key: u64, val: u16) {
        let mut b = self.home(key);
        loop {
            if let Some(j) = self.buckets[b].0.iter().position(|&s| s == EMPTY) {
                if self.packed {
                    self.buckets[b].0[j] = key | ((val as u64) << self.key_bits);
                } else {
                    self.buckets[b].0[j] = key;
                    self.vals[b * WIDTH + j] = val;
                }
                break;
            }
            b += 1;
        }
        // Keep a bucket with a free slot at the end, so every scan stops.
        if self.buckets.last().is_some_and(|l| l.0[WIDTH - 1] != EMPTY) {
            self.buckets.push(EMPTY_BUCKET);
            if !self.packed {
                self.vals.resize(self.buckets.len() * WIDTH, 0);
            }
        }
        self.len += 1;
    }

    /// Inserts keys that are not yet present, as [`Table::insert_new`] does
    /// one by one, but fetching each home bucket some entries ahead: a large
    /// table is built at memory speed instead of one cache miss per entry.
    pub(crate) fn insert_batch(&mut self, entries: &[(u64, u16)]) {
        const AHEAD: usize = 16;
        for &(key, _) in entries.iter().take(AHEAD) {
            self.prefetch(key);
        }
        for (i, &(key, val)) in entries.iter().enumerate() {
            if let Some(&(next, _)) = entries.get(i + AHEAD) {
                self.prefetch(next);
            }
            self.insert_new(key, val);
        }
    }

    /// Bit masks of the slots of bucket `b` holding `key` and of the free ones.
    #[inline(always)]
    fn scan(&self, b: usize, key: u64) -> (u32, u32) {
        scan_portable(&self.buckets[b].0, key, self.key_mask)
    }

    #[inline(always)]
    fn value(&self, b: usize, j: usize) -> u16 {
        if self.packed {
            (self.buckets[b].0[j] >> self.key_bits) as u16
        } else {
            self.vals[b * WIDTH + j]
        }
    }

    /// Whether `key` is present, and its value (meaningless when absent).
    /// Branch-free unless the home bucket is full without holding the key
    /// (rare at the load factor used).
    #[inline(always)]
    pub(crate) fn probe(&self, key: u64) -> (bool, u16) {
        let b = self.home(key);
        let (hit, free) = scan_portable(&self.buckets[b].0, key, self.key_mask);
        self.resolve(b, key, hit, free)
    }

    /// [`Table::probe`] comparing a bucket with a few AVX2 instructions.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(crate) unsafe fn probe_avx2(&self, key: u64) -> (bool, u16) {
        let b = self.home(key);
        let (hit, free) = scan_avx2(&self.buckets[b].0, key, self.key_mask);
        self.resolve(b, key, hit, free)
    }

    #[inline(always)]
    fn resolve(&self, b: usize, key: u64, hit: u32, free: u32) -> (bool, u16) {
        if hit | free == 0 {
            return match self.get_overflow(b + 1, key) {
                Some(v) => (true, v),
                None => (false, 0),
            };
        }
        (hit != 0, self.value(b, (hit.trailing_zeros() & 7) as usize))
    }

    /// The value stored for `key`.
    #[inline(always)]
    pub(crate) fn get(&self, key: u64) -> Option<u16> {
        let (found, v) = self.probe(key);
        found.then_some(v)
    }

    #[cold]
    #[inline(never)]
    fn get_overflow(&self, mut b: usize, key: u64) -> Option<u16> {
        loop {
            let (hit, free) = self.scan(b, key);
            if hit != 0 {
                return Some(self.value(b, hit.trailing_zeros() as usize));
            }
            if free != 0 {
                return None;
            }
            b += 1;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// All entries as (key, value), unordered.
    pub(crate) fn entries(&self) -> Vec<(u64, u16)> {
        let mut out = Vec::with_capacity(self.len);
        for (b, bucket) in self.buckets.iter().enumerate() {
            for (j, &s) in bucket.0.iter().enumerate() {
                if s != EMPTY {
                    let v = if self.packed {
                        (s >> self.key_bits) as u16
                    } else {
                        self.vals[b * WIDTH + j]
                    };
                    out.push((s & self.key_mask, v));
                }
            }
        }
        out
    }

    /// Heap bytes used.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>() + self.vals.capacity() * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_and_unpacked() {
        for (kb, vb) in [(34u32, 16u32), (60, 8)] {
            let mut t = Table::with_capacity(1000, kb, vb);
            for k in 0..1000u64 {
                t.insert_new(k * 7919 % ((1 << 30) - 1), (k % 200) as u16);
            }
            assert_eq!(t.len(), 1000);
            for k in 0..1000u64 {
                assert_eq!(t.get(k * 7919 % ((1 << 30) - 1)), Some((k % 200) as u16));
            }
            assert_eq!(t.get(123_456_789), None);
            assert_eq!(t.entries().len(), 1000);
        }
        let t = Table::with_capacity(0, 20, 8);
        assert_eq!(t.get(5), None);
    }

    #[test]
    fn batch_insert_finds_every_key() {
        let entries: Vec<(u64, u16)> = (0..5000u64)
            .map(|k| (k * 2_654_435_761 % (1 << 40), (k % 251) as u16))
            .collect();
        let mut t = Table::with_capacity(entries.len(), 40, 16);
        t.insert_batch(&entries[..17]);
        t.insert_batch(&entries[17..]);
        assert_eq!(t.len(), entries.len());
        for &(k, v) in &entries {
            assert_eq!(t.get(k), Some(v));
        }
        assert_eq!(t.get(3), None);
    }

    #[test]
    fn overfull_buckets_overflow_correctly() {
        // Far more keys than the table was sized for: long overflow chains,
        // including past the last home bucket.
        let mut t = Table::with_capacity(10, 40, 16);
        for k in 0..500u64 {
            t.insert_new(k, k as u16);
        }
        for k in 0..500u64 {
            assert_eq!(t.get(k), Some(k as u16));
        }
        assert_eq!(t.get(10_000), None);
    }
}
