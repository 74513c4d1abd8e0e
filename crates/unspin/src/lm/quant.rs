//! 8-bit scalar quantization of log-probabilities and backoff weights.
//!
//! Each codebook holds 256 sorted centres: 32 spread evenly over the value
//! range (bounding the error of rare extreme values) and 224 trained with
//! Lloyd's algorithm (1-D k-means, initialised at quantiles) on the weighted
//! distinct values, minimising the mean squared error over all n-grams of one
//! order.

/// Number of centres in a codebook (one byte per value).
pub(crate) const LEVELS: usize = 256;
/// Centres fixed at even spacing over the value range (see `train`).
const ANCHORS: usize = 32;

/// A sorted table of 256 centres; a code is an index into it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Codebook {
    pub(crate) centers: [f32; LEVELS],
    /// Midpoints between consecutive centres (`bounds[i]` separates code i and i+1).
    bounds: [f32; LEVELS - 1],
}

impl Codebook {
    /// Builds a codebook from centres sorted in non-decreasing order; `None`
    /// if they are not sorted or not finite.
    pub(crate) fn from_centers(centers: [f32; LEVELS]) -> Option<Self> {
        if !centers.iter().all(|c| c.is_finite()) || !centers.windows(2).all(|w| w[0] <= w[1]) {
            return None;
        }
        let mut bounds = [0f32; LEVELS - 1];
        for i in 0..LEVELS - 1 {
            bounds[i] = centers[i] + (centers[i + 1] - centers[i]) * 0.5;
        }
        Some(Codebook { centers, bounds })
    }

    fn from_unsorted(mut centers: [f32; LEVELS]) -> Self {
        centers.sort_by(f32::total_cmp);
        Self::from_centers(centers).expect("finite training values")
    }

    /// Trains a codebook on `values` (any order; must be finite).
    pub(crate) fn train(values: &[f32]) -> Self {
        if values.is_empty() {
            return Self::from_unsorted([0.0; LEVELS]);
        }
        // Distinct values with their multiplicities, plus prefix sums so each
        // Lloyd step costs O(LEVELS * log distinct) rather than O(n).
        let mut sorted: Vec<f32> = values.to_vec();
        sorted.sort_unstable_by(f32::total_cmp);
        let mut uniq: Vec<f64> = Vec::new();
        let mut cum_w: Vec<f64> = vec![0.0];
        let mut cum_wx: Vec<f64> = vec![0.0];
        let mut i = 0;
        while i < sorted.len() {
            let v = sorted[i];
            let mut j = i + 1;
            while j < sorted.len() && sorted[j] == v {
                j += 1;
            }
            let w = (j - i) as f64;
            uniq.push(v as f64);
            cum_w.push(cum_w.last().unwrap() + w);
            cum_wx.push(cum_wx.last().unwrap() + w * v as f64);
            i = j;
        }
        let u = uniq.len();
        if u <= LEVELS {
            // Every distinct value gets its own centre: lossless.
            let mut centers = [*uniq.last().unwrap() as f32; LEVELS];
            for (c, &v) in centers.iter_mut().zip(&uniq) {
                *c = v as f32;
            }
            return Self::from_unsorted(centers);
        }
        let total = *cum_w.last().unwrap();
        // Fixed anchors spread evenly over the range bound the error of rare
        // extreme values, which pure k-means would lump together; the other
        // centres start at quantiles and follow Lloyd's algorithm.
        let hi = uniq[u - 1];
        let lo = uniq[0].max(hi - 20.0);
        let mut centers: Vec<(f64, bool)> = (0..ANCHORS)
            .map(|k| (lo + (hi - lo) * (k as f64 + 0.5) / ANCHORS as f64, true))
            .collect();
        let free = LEVELS - ANCHORS;
        for k in 0..free {
            let target = total * (k as f64 + 0.5) / free as f64;
            let idx = cum_w[1..].partition_point(|&cw| cw < target).min(u - 1);
            centers.push((uniq[idx], false));
        }
        let mut bounds_idx = vec![0usize; LEVELS + 1];
        for _ in 0..60 {
            centers.sort_by(|a, b| a.0.total_cmp(&b.0));
            // Cell k covers uniq[bounds_idx[k]..bounds_idx[k+1]].
            bounds_idx[0] = 0;
            bounds_idx[LEVELS] = u;
            for k in 1..LEVELS {
                let mid = 0.5 * (centers[k - 1].0 + centers[k].0);
                bounds_idx[k] = uniq.partition_point(|&x| x < mid).max(bounds_idx[k - 1]);
            }
            let mut moved = 0f64;
            for k in 0..LEVELS {
                let (a, b) = (bounds_idx[k], bounds_idx[k + 1]);
                if b > a && !centers[k].1 {
                    let c = (cum_wx[b] - cum_wx[a]) / (cum_w[b] - cum_w[a]);
                    moved = moved.max((c - centers[k].0).abs());
                    centers[k].0 = c;
                }
            }
            // Re-seed empty free cells at the values with the largest error, so
            // no code is wasted (this happens when quantiles coincide).
            let empties: Vec<usize> = (0..LEVELS)
                .filter(|&k| !centers[k].1 && bounds_idx[k] == bounds_idx[k + 1])
                .collect();
            if !empties.is_empty() {
                let mut errs: Vec<(f64, usize)> = Vec::new();
                for k in 0..LEVELS {
                    for x in bounds_idx[k]..bounds_idx[k + 1] {
                        let w = cum_w[x + 1] - cum_w[x];
                        errs.push(((uniq[x] - centers[k].0).powi(2) * w, x));
                    }
                }
                errs.sort_by(|a, b| b.0.total_cmp(&a.0));
                for (e, &k) in empties.iter().enumerate() {
                    if let Some(&(_, x)) = errs.get(e) {
                        centers[k].0 = uniq[x];
                    }
                }
                moved = f64::INFINITY;
            }
            if moved < 1e-7 {
                break;
            }
        }
        let centers: Vec<f64> = centers.into_iter().map(|c| c.0).collect();
        let mut out = [0f32; LEVELS];
        for (o, c) in out.iter_mut().zip(&centers) {
            *o = *c as f32;
        }
        Self::from_unsorted(out)
    }

    /// The code of the centre nearest to `v`.
    #[inline]
    pub(crate) fn encode(&self, v: f32) -> u8 {
        self.bounds.partition_point(|&b| b < v) as u8
    }

    #[inline(always)]
    pub(crate) fn decode(&self, code: u8) -> f32 {
        self.centers[code as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_values_are_exact() {
        let cb = Codebook::train(&[-1.0, -2.5, -1.0, 0.0]);
        for v in [-1.0f32, -2.5, 0.0] {
            assert_eq!(cb.decode(cb.encode(v)), v);
        }
    }

    #[test]
    fn many_values_small_error() {
        let vals: Vec<f32> = (0..100_000)
            .map(|i| -((i * 7919 % 100_000) as f32) / 15_000.0)
            .collect();
        let cb = Codebook::train(&vals);
        let max_err = vals
            .iter()
            .map(|&v| (cb.decode(cb.encode(v)) - v).abs())
            .fold(0f32, f32::max);
        // Uniform over a range of 6.67 with 256 levels: half a step is ~0.013.
        assert!(max_err < 0.02, "max error {max_err}");
        assert!(cb.centers.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn empty_is_fine() {
        let cb = Codebook::train(&[]);
        assert_eq!(cb.decode(cb.encode(-3.0)), 0.0);
    }
}
