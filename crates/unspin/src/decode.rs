//! Exact search over a candidate lattice with a trigram language model.
//!
//! A [`Lattice`] is a sequence of slots; each slot offers alternatives, and
//! each alternative is one or more words with a channel log-probability.
//! [`decode`] runs Viterbi for the best path and forward-backward for the
//! posterior of every alternative. The Markov state is the pair of
//! alternatives in the last two slots, which is exact for a trigram model
//! because every alternative has at least one word.
//!
//! The lattice falls apart into independent segments wherever the last two
//! words are fixed, so work and memory grow with segment size, not with the
//! document: a long text costs the same per word as a short one.

/// Word identifiers shared with the language model.
pub type WordId = u32;

/// Trigram scoring used by the decoder (natural-log probability of `w` after `h2 h1`).
pub trait Scorer {
    /// ln p(w | h2 h1).
    fn ln_prob(&self, h2: WordId, h1: WordId, w: WordId) -> f32;

    /// ln p for many `[h2, h1, w]` queries at once; implementations may
    /// overlap their memory accesses.
    fn ln_prob_many(&self, queries: &[[WordId; 3]], out: &mut [f32]) {
        for (q, o) in queries.iter().zip(out.iter_mut()) {
            *o = self.ln_prob(q[0], q[1], q[2]);
        }
    }
}

/// A candidate lattice under construction.
#[derive(Default, Debug, Clone)]
pub struct Lattice {
    words: Vec<WordId>,
    alts: Vec<AltSpan>,
    slots: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct AltSpan {
    words: (u32, u32),
    channel: f32,
}

/// The decoder's answer for one slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotResult {
    /// Index of the alternative on the best (Viterbi) path.
    pub best: usize,
}

/// Decoding output: best path and posteriors.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// Best alternative per slot.
    pub best: Vec<u32>,
    /// Posterior probability of every alternative, slot after slot (flattened
    /// in the order the alternatives were added).
    pub posterior: Vec<f32>,
    /// ln of the total probability of the lattice (all paths), the sum over segments.
    pub log_z: f64,
    /// ln probability of the best path.
    pub log_best: f64,
    /// Independent segments as (slot one past the end, ln of the segment's total probability).
    pub segments: Vec<(usize, f64)>,
}

impl Lattice {
    /// An empty lattice.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes all slots, keeping allocations.
    pub fn clear(&mut self) {
        self.words.clear();
        self.alts.clear();
        self.slots.clear();
    }

    /// Starts a new slot; add its alternatives with [`Lattice::push_alt`].
    pub fn begin_slot(&mut self) {
        let n = self.alts.len() as u32;
        self.slots.push((n, n));
    }

    /// Adds an alternative (non-empty word sequence) to the current slot.
    pub fn push_alt(&mut self, words: &[WordId], channel_ln: f32) {
        assert!(!words.is_empty(), "an alternative needs at least one word");
        let start = self.words.len() as u32;
        self.words.extend_from_slice(words);
        self.alts.push(AltSpan {
            words: (start, self.words.len() as u32),
            channel: channel_ln,
        });
        self.slots.last_mut().expect("begin_slot first").1 += 1;
    }

    /// Replaces the channel score of alternative `alt` (a global index).
    pub fn set_channel(&mut self, alt: usize, channel_ln: f32) {
        self.alts[alt].channel = channel_ln;
    }

    /// The channel score of alternative `alt` (a global index).
    pub fn channel(&self, alt: usize) -> f32 {
        self.alts[alt].channel
    }

    /// Convenience: a slot with one fixed alternative.
    pub fn push_fixed(&mut self, words: &[WordId]) {
        self.begin_slot();
        self.push_alt(words, 0.0);
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there are no slots.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Range of alternative indices (into [`Decoded::posterior`]) of slot `i`.
    pub fn alt_range(&self, i: usize) -> std::ops::Range<usize> {
        let (a, b) = self.slots[i];
        a as usize..b as usize
    }

    /// Words of alternative `alt` (a global index).
    pub fn alt_words(&self, alt: usize) -> &[WordId] {
        let (a, b) = self.alts[alt].words;
        &self.words[a as usize..b as usize]
    }

    fn k(&self, i: usize) -> usize {
        let (a, b) = self.slots[i];
        (b - a) as usize
    }
}

/// One independent stretch of the lattice.
#[derive(Clone, Copy, Debug)]
struct Segment {
    s0: usize,
    s1: usize,
    /// Offset of its language-model transition scores in `Decoder::trans`.
    trans_off: usize,
    /// For single-path segments: the language-model score of the path.
    single: Option<f64>,
}

/// Reusable buffers so decoding allocates nothing in the steady state.
///
/// The language-model part of every transition is computed once per lattice
/// shape and kept, so [`Decoder::redecode`] after a change of channel scores
/// (document-level EM) costs no language-model lookups at all.
#[derive(Default)]
pub struct Decoder {
    trans: Vec<f32>,
    queries: Vec<[WordId; 3]>,
    query_counts: Vec<u32>,
    scores: Vec<f32>,
    segs: Vec<Segment>,
    fwd: Vec<f32>,
    vit: Vec<f32>,
    back: Vec<u32>,
    bwd: Vec<f32>,
    state_off: Vec<usize>,
}

impl Decoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `lat` with language-model weight `lm_weight`, starting after
    /// the two-word history `start`.
    pub fn decode<S: Scorer>(
        &mut self,
        lat: &Lattice,
        lm: &S,
        lm_weight: f32,
        start: [WordId; 2],
    ) -> Decoded {
        self.prepare(lat, lm, lm_weight, start);
        self.redecode(lat)
    }

    /// Decodes `lat` again after [`Decoder::decode`] on the same lattice,
    /// whose channel scores (only) may have changed.
    pub fn redecode(&mut self, lat: &Lattice) -> Decoded {
        let mut out = Decoded {
            best: vec![0; lat.len()],
            posterior: vec![0.0; lat.alts.len()],
            log_z: 0.0,
            log_best: 0.0,
            segments: Vec::with_capacity(self.segs.len()),
        };
        for i in 0..self.segs.len() {
            let seg = self.segs[i];
            self.run_segment(lat, seg, &mut out);
        }
        out
    }

    /// Splits the lattice into segments and scores every transition with the LM.
    fn prepare<S: Scorer>(&mut self, lat: &Lattice, lm: &S, w: f32, start: [WordId; 2]) {
        self.trans.clear();
        self.segs.clear();
        let n = lat.len();
        let mut hist = start;
        let mut seg_start = 0;
        for i in 0..n {
            // The state after slot i is unique when its last two words are fixed.
            let fixed_end = lat.k(i) == 1
                && (lat.alt_words(lat.alt_range(i).start).len() >= 2
                    || i == seg_start
                    || lat.k(i - 1) == 1);
            if fixed_end || i + 1 == n {
                let seg = self.score_segment(lat, lm, w, seg_start, i + 1, hist);
                self.segs.push(seg);
                hist = last_two(lat, seg_start, i + 1, hist);
                seg_start = i + 1;
            }
        }
    }

    fn score_segment<S: Scorer>(
        &mut self,
        lat: &Lattice,
        lm: &S,
        w: f32,
        s0: usize,
        s1: usize,
        hist: [WordId; 2],
    ) -> Segment {
        let m = s1 - s0;
        let k = |j: isize| -> usize {
            if j < 0 {
                1
            } else {
                lat.k(s0 + j as usize)
            }
        };
        let trans_off = self.trans.len();
        if (0..m).all(|j| lat.k(s0 + j) == 1) {
            let mut h = hist;
            let mut total = 0.0f64;
            for j in 0..m {
                let alt = lat.alt_range(s0 + j).start;
                for &wd in lat.alt_words(alt) {
                    total += (w * lm.ln_prob(h[0], h[1], wd)) as f64;
                    h = [h[1], wd];
                }
            }
            return Segment {
                s0,
                s1,
                trans_off,
                single: Some(total),
            };
        }
        // T_j(a, b, c) for all alternative triples, without the channel:
        // gather every query first so the model can batch its lookups.
        self.queries.clear();
        self.query_counts.clear();
        for j in 0..m as isize {
            let (ka, kb, kc) = (k(j - 2), k(j - 1), k(j));
            for a in 0..ka {
                for b in 0..kb {
                    let h = history(lat, s0, j, a, b, hist);
                    for c in 0..kc {
                        let alt = lat.alt_range(s0 + j as usize).start + c;
                        let mut hh = h;
                        let words = lat.alt_words(alt);
                        for &wd in words {
                            self.queries.push([hh[0], hh[1], wd]);
                            hh = [hh[1], wd];
                        }
                        self.query_counts.push(words.len() as u32);
                    }
                }
            }
        }
        self.scores.clear();
        self.scores.resize(self.queries.len(), 0.0);
        lm.ln_prob_many(&self.queries, &mut self.scores);
        let mut q = 0;
        for &n in &self.query_counts {
            let n = n as usize;
            let sum: f32 = self.scores[q..q + n].iter().sum();
            self.trans.push(w * sum);
            q += n;
        }
        Segment {
            s0,
            s1,
            trans_off,
            single: None,
        }
    }

    fn run_segment(&mut self, lat: &Lattice, seg: Segment, out: &mut Decoded) {
        let Segment { s0, s1, .. } = seg;
        let m = s1 - s0;
        let k = |j: isize| -> usize {
            if j < 0 {
                1
            } else {
                lat.k(s0 + j as usize)
            }
        };
        if let Some(lm_total) = seg.single {
            let mut total = lm_total;
            for j in 0..m {
                let alt = lat.alt_range(s0 + j).start;
                total += lat.alts[alt].channel as f64;
                out.posterior[alt] = 1.0;
                out.best[s0 + j] = 0;
            }
            out.log_z += total;
            out.log_best += total;
            out.segments.push((s1, total));
            return;
        }
        // Offsets of each slot's transition block.
        let mut toffs = Vec::with_capacity(m);
        let mut acc = seg.trans_off;
        for j in 0..m as isize {
            toffs.push(acc);
            acc += k(j - 2) * k(j - 1) * k(j);
        }
        let ch = |j: usize, c: usize| lat.alts[lat.alt_range(s0 + j).start + c].channel;

        // State (b, c) at slot j is stored at state_off[j] + b * k(j) + c.
        self.state_off.clear();
        let mut total_states = 0;
        for j in 0..m as isize {
            self.state_off.push(total_states);
            total_states += k(j - 1) * k(j);
        }
        self.fwd.clear();
        self.fwd.resize(total_states, f32::NEG_INFINITY);
        self.vit.clear();
        self.vit.resize(total_states, f32::NEG_INFINITY);
        self.back.clear();
        self.back.resize(total_states, 0);
        self.bwd.clear();
        self.bwd.resize(total_states, 0.0);

        for j in 0..m as isize {
            let (ka, kb, kc) = (k(j - 2), k(j - 1), k(j));
            let toff = toffs[j as usize];
            let soff = self.state_off[j as usize];
            for b in 0..kb {
                for c in 0..kc {
                    let chc = ch(j as usize, c);
                    let mut best = f32::NEG_INFINITY;
                    let mut arg = 0u32;
                    let mut acc = LogSum::default();
                    for a in 0..ka {
                        let t = self.trans[toff + (a * kb + b) * kc + c] + chc;
                        let (pv, pf) = if j == 0 {
                            (0.0, 0.0)
                        } else {
                            let p = self.state_off[j as usize - 1] + a * kb + b;
                            (self.vit[p], self.fwd[p])
                        };
                        if pv + t > best {
                            best = pv + t;
                            arg = a as u32;
                        }
                        acc.add(pf + t);
                    }
                    self.vit[soff + b * kc + c] = best;
                    self.back[soff + b * kc + c] = arg;
                    self.fwd[soff + b * kc + c] = acc.get();
                }
            }
        }

        // Backward pass: bwd at the last slot is 0 (the future is shared).
        for j in (0..m as isize - 1).rev() {
            let (kb, kc, kd) = (k(j - 1), k(j), k(j + 1));
            let toff = toffs[j as usize + 1];
            let soff = self.state_off[j as usize];
            let noff = self.state_off[j as usize + 1];
            for b in 0..kb {
                for c in 0..kc {
                    let mut acc = LogSum::default();
                    for d in 0..kd {
                        acc.add(
                            self.trans[toff + (b * kc + c) * kd + d]
                                + ch(j as usize + 1, d)
                                + self.bwd[noff + c * kd + d],
                        );
                    }
                    self.bwd[soff + b * kc + c] = acc.get();
                }
            }
        }

        // Totals and posteriors.
        let last = m as isize - 1;
        let (kb, kc) = (k(last - 1), k(last));
        let loff = self.state_off[last as usize];
        let mut z = LogSum::default();
        let mut best = f32::NEG_INFINITY;
        let mut arg = (0, 0);
        for b in 0..kb {
            for c in 0..kc {
                z.add(self.fwd[loff + b * kc + c]);
                if self.vit[loff + b * kc + c] > best {
                    best = self.vit[loff + b * kc + c];
                    arg = (b, c);
                }
            }
        }
        let log_z = z.get();
        out.log_z += log_z as f64;
        out.log_best += best as f64;
        out.segments.push((s1, log_z as f64));
        for j in 0..m as isize {
            let (kb, kc) = (k(j - 1), k(j));
            let soff = self.state_off[j as usize];
            let base = lat.alt_range(s0 + j as usize).start;
            for c in 0..kc {
                let mut p = 0.0f32;
                for b in 0..kb {
                    p += (self.fwd[soff + b * kc + c] + self.bwd[soff + b * kc + c] - log_z).exp();
                }
                out.posterior[base + c] = p.min(1.0);
            }
        }
        // Trace back the best path.
        let (mut b, mut c) = arg;
        for j in (0..m).rev() {
            out.best[s0 + j] = c as u32;
            if j == 0 {
                break;
            }
            let a = self.back[self.state_off[j] + b * k(j as isize) + c] as usize;
            c = b;
            b = a;
        }
    }
}

/// Log-domain accumulator (log-sum-exp) that stays finite-friendly.
#[derive(Clone, Copy)]
struct LogSum {
    max: f32,
    sum: f32,
}

impl Default for LogSum {
    fn default() -> Self {
        Self {
            max: f32::NEG_INFINITY,
            sum: 0.0,
        }
    }
}

impl LogSum {
    #[inline]
    fn add(&mut self, x: f32) {
        if x == f32::NEG_INFINITY {
            return;
        }
        if x <= self.max {
            self.sum += (x - self.max).exp();
        } else {
            self.sum = self.sum * (self.max - x).exp() + 1.0;
            self.max = x;
        }
    }

    #[inline]
    fn get(&self) -> f32 {
        if self.max == f32::NEG_INFINITY {
            f32::NEG_INFINITY
        } else {
            self.max + self.sum.ln()
        }
    }
}

/// The two words before slot `s0 + j`, given alternative `a` at `j-2` and `b` at `j-1`.
fn history(
    lat: &Lattice,
    s0: usize,
    j: isize,
    a: usize,
    b: usize,
    start: [WordId; 2],
) -> [WordId; 2] {
    let words_of = |jj: isize, alt: usize| -> Option<&[WordId]> {
        if jj < 0 {
            None
        } else {
            Some(lat.alt_words(lat.alt_range(s0 + jj as usize).start + alt))
        }
    };
    match words_of(j - 1, b) {
        None => start,
        Some(wb) if wb.len() >= 2 => [wb[wb.len() - 2], wb[wb.len() - 1]],
        Some(wb) => {
            let prev = match words_of(j - 2, a) {
                None => start[1],
                Some(wa) => *wa.last().expect("non-empty"),
            };
            [prev, wb[0]]
        }
    }
}

/// The last two words of a fixed segment end (used as the next segment's history).
fn last_two(lat: &Lattice, s0: usize, s1: usize, start: [WordId; 2]) -> [WordId; 2] {
    let mut h = start;
    // Only the final fixed slots matter; walk back at most two slots.
    let from = s1.saturating_sub(2).max(s0);
    for i in from..s1 {
        let alt = lat.alt_range(i).start;
        for &w in lat.alt_words(alt) {
            h = [h[1], w];
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy trigram scorer from a table; unseen events get a floor.
    struct Toy(Vec<((WordId, WordId, WordId), f32)>);

    impl Scorer for Toy {
        fn ln_prob(&self, h2: WordId, h1: WordId, w: WordId) -> f32 {
            self.0
                .iter()
                .find(|((a, b, c), _)| *a == h2 && *b == h1 && *c == w)
                .map(|x| x.1)
                .unwrap_or(-5.0)
        }
    }

    fn brute_force(lat: &Lattice, lm: &Toy, start: [WordId; 2]) -> (Vec<u32>, f64, Vec<f64>) {
        let n = lat.len();
        let mut best = (vec![], f64::NEG_INFINITY);
        let mut z = 0.0f64;
        let mut post = vec![0.0f64; lat.alts.len()];
        let mut idx = vec![0usize; n];
        loop {
            let mut h = start;
            let mut s = 0.0f64;
            for (i, &c) in idx.iter().enumerate() {
                let alt = lat.alt_range(i).start + c;
                s += lat.alts[alt].channel as f64;
                for &w in lat.alt_words(alt) {
                    s += lm.ln_prob(h[0], h[1], w) as f64;
                    h = [h[1], w];
                }
            }
            z += s.exp();
            for (i, &c) in idx.iter().enumerate() {
                post[lat.alt_range(i).start + c] += s.exp();
            }
            if s > best.1 {
                best = (idx.iter().map(|&x| x as u32).collect(), s);
            }
            // Next combination.
            let mut i = 0;
            loop {
                if i == n {
                    let post = post.iter().map(|p| p / z).collect();
                    return (best.0, z.ln(), post);
                }
                idx[i] += 1;
                if idx[i] < lat.k(i) {
                    break;
                }
                idx[i] = 0;
                i += 1;
            }
        }
    }

    #[test]
    fn matches_brute_force_on_random_lattices() {
        let mut seed = 12345u64;
        let mut rnd = move |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..200 {
            let mut table = vec![];
            for _ in 0..60 {
                table.push((
                    (rnd(5) as u32, rnd(5) as u32, rnd(5) as u32),
                    -(rnd(40) as f32) / 10.0,
                ));
            }
            let lm = Toy(table);
            let mut lat = Lattice::new();
            let n = 1 + rnd(7) as usize;
            for _ in 0..n {
                lat.begin_slot();
                for _ in 0..1 + rnd(3) {
                    let len = 1 + rnd(2) as usize;
                    let words: Vec<u32> = (0..len).map(|_| rnd(5) as u32).collect();
                    lat.push_alt(&words, -(rnd(20) as f32) / 10.0);
                }
            }
            let start = [rnd(5) as u32, rnd(5) as u32];
            // Decode once with zeroed channels, then restore them and redecode:
            // the cached language-model scores must give the same answer.
            let saved: Vec<f32> = (0..lat.alts.len()).map(|a| lat.channel(a)).collect();
            for a in 0..lat.alts.len() {
                lat.set_channel(a, 0.0);
            }
            let mut dec = Decoder::new();
            let _ = dec.decode(&lat, &lm, 1.0, start);
            for (a, &c) in saved.iter().enumerate() {
                lat.set_channel(a, c);
            }
            let got = dec.redecode(&lat);
            let (best, z, post) = brute_force(&lat, &lm, start);
            assert!((got.log_z - z).abs() < 1e-3, "log Z {} vs {}", got.log_z, z);
            for (p, q) in got.posterior.iter().zip(&post) {
                assert!((*p as f64 - q).abs() < 1e-3, "posterior {p} vs {q}");
            }
            // Ties aside, the Viterbi path must score as well as the brute-force best.
            let score = |path: &[u32]| {
                let mut h = start;
                let mut s = 0.0f64;
                for (i, &c) in path.iter().enumerate() {
                    let alt = lat.alt_range(i).start + c as usize;
                    s += lat.alts[alt].channel as f64;
                    for &w in lat.alt_words(alt) {
                        s += lm.ln_prob(h[0], h[1], w) as f64;
                        h = [h[1], w];
                    }
                }
                s
            };
            assert!((score(&got.best) - score(&best)).abs() < 1e-3);
            assert!((got.log_best - score(&best)).abs() < 1e-3);
        }
    }
}
