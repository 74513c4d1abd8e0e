//! The hashes and the seeded generator the library relies on for
//! reproducible decisions: SplitMix64, its mixer, FNV-1a and a seeded string
//! hash. None of them is randomly seeded, so every run, thread and machine
//! makes the same choices.

/// A small deterministic PRNG (SplitMix64).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

/// SplitMix64's output function: a good 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded 64-bit hash of a string (FNV-1a, then mixed with seed and salt).
pub fn seeded_hash(seed: u64, salt: u64, s: &str) -> u64 {
    let h = fnv1a64(s);
    mix64(h ^ mix64(seed ^ mix64(salt.wrapping_add(0x5851_F42D_4C95_7F2D))))
}

/// FNV-1a, 64 bits: a fixed hash of a string (the same on every machine and
/// in every version, so splits and decisions made by it are reproducible).
pub fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
