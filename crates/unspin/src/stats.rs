//! Statistics shared by the detector, its calibration and the benchmarks:
//! the logistic function, weighted logistic regression by Newton's method
//! ([`fit_logistic`]), ROC AUC, expected calibration error and the
//! threshold for a false-positive rate. Plain `f64` arithmetic on small
//! dense problems; deterministic (no randomness, fixed iteration order).

/// Real numbers [`sigmoid`] works on: `f32` and `f64`.
pub trait Real:
    Copy
    + PartialOrd
    + std::ops::Neg<Output = Self>
    + std::ops::Add<Output = Self>
    + std::ops::Div<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// e to the power of `self`.
    fn exp(self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn exp(self) -> Self {
        f32::exp(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn exp(self) -> Self {
        f64::exp(self)
    }
}

/// The logistic function 1 / (1 + e^-x), without overflow for large |x|.
pub fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}

/// bias + Σ w·(x − mean)/scale: a logistic model on standardized features.
pub(crate) fn standardized_logit(
    bias: f64,
    mean: &[f64],
    scale: &[f64],
    weights: &[f64],
    x: &[f64],
) -> f64 {
    bias + x
        .iter()
        .zip(mean)
        .zip(scale)
        .zip(weights)
        .map(|(((v, m), s), w)| w * (v - m) / s)
        .sum::<f64>()
}

/// A logistic regression fitted by [`fit_logistic`]: weights on standardized features.
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticFit {
    /// Feature means used for standardization.
    pub mean: Vec<f64>,
    /// Feature standard deviations used for standardization (1 where a feature is constant).
    pub scale: Vec<f64>,
    /// Weights on the standardized features.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
    /// Newton iterations run.
    pub iterations: usize,
}

impl LogisticFit {
    /// The log-odds of a raw feature vector.
    pub fn logit(&self, x: &[f64]) -> f64 {
        standardized_logit(self.bias, &self.mean, &self.scale, &self.weights, x)
    }

    /// The probability of a raw feature vector.
    pub fn prob(&self, x: &[f64]) -> f64 {
        sigmoid(self.logit(x))
    }
}

/// Fits a weighted logistic regression by Newton's method (iteratively
/// reweighted least squares) on standardized features, with an L2 penalty
/// `l2` on the weights (not the intercept). `y` holds labels in {0, 1} (or
/// soft labels in between); `weight` per-sample weights (empty: all 1).
pub fn fit_logistic(x: &[Vec<f64>], y: &[f64], weight: &[f64], l2: f64) -> LogisticFit {
    let n = x.len();
    assert_eq!(n, y.len(), "one label per sample");
    assert!(
        weight.is_empty() || weight.len() == n,
        "one weight per sample"
    );
    let k = x.first().map_or(0, |r| r.len());
    let wt = |i: usize| if weight.is_empty() { 1.0 } else { weight[i] };
    let total: f64 = (0..n).map(wt).sum::<f64>().max(f64::MIN_POSITIVE);
    let mut mean = vec![0.0; k];
    let mut scale = vec![0.0; k];
    for (i, row) in x.iter().enumerate() {
        for j in 0..k {
            mean[j] += wt(i) * row[j];
        }
    }
    mean.iter_mut().for_each(|m| *m /= total);
    for (i, row) in x.iter().enumerate() {
        for j in 0..k {
            scale[j] += wt(i) * (row[j] - mean[j]).powi(2);
        }
    }
    for s in &mut scale {
        *s = (*s / total).sqrt();
        if s.is_nan() || *s <= 1e-12 {
            *s = 1.0;
        }
    }
    // Standardized design with a leading 1 for the intercept.
    let z: Vec<Vec<f64>> = x
        .iter()
        .map(|r| {
            std::iter::once(1.0)
                .chain((0..k).map(|j| (r[j] - mean[j]) / scale[j]))
                .collect()
        })
        .collect();
    let d = k + 1;
    let mut beta = vec![0.0; d];
    let mut iterations = 0;
    for it in 0..100 {
        iterations = it + 1;
        let mut g = vec![0.0; d];
        let mut h = vec![vec![0.0; d]; d];
        for (i, zi) in z.iter().enumerate() {
            let eta: f64 = zi.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = sigmoid(eta);
            let r = wt(i) * (p - y[i]);
            let v = wt(i) * (p * (1.0 - p)).max(1e-12);
            for a in 0..d {
                g[a] += r * zi[a];
                for b in a..d {
                    h[a][b] += v * zi[a] * zi[b];
                }
            }
        }
        // The lower triangle mirrors the upper one; the penalty spares the intercept.
        let upper = h.clone();
        for (a, row) in h.iter_mut().enumerate() {
            for (b, v) in row.iter_mut().enumerate().take(a) {
                *v = upper[b][a];
            }
            if a > 0 {
                g[a] += l2 * beta[a];
                row[a] += l2;
            }
        }
        let step = solve(h, g);
        let mut max_step = 0.0f64;
        for a in 0..d {
            beta[a] -= step[a];
            max_step = max_step.max(step[a].abs());
        }
        if max_step < 1e-9 {
            break;
        }
    }
    LogisticFit {
        mean,
        scale,
        weights: beta[1..].to_vec(),
        bias: beta[0],
        iterations,
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting (small dense systems).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .expect("non-empty");
        a.swap(c, piv);
        b.swap(c, piv);
        let d = a[c][c];
        if d.abs() < 1e-300 {
            continue;
        }
        let (top, bottom) = a.split_at_mut(c + 1);
        let pivot = &top[c];
        for (k, row) in bottom.iter_mut().enumerate() {
            let f = row[c] / d;
            if f != 0.0 {
                for (x, y) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * y;
                }
                b[c + 1 + k] -= f * b[c];
            }
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c][k] * x[k]).sum();
        x[c] = if a[c][c].abs() < 1e-300 {
            0.0
        } else {
            (b[c] - s) / a[c][c]
        };
    }
    x
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative, ties counting one half (Mann-Whitney U).
/// `None` when either class is empty.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len());
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (mid-)ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum += mid;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Expected calibration error with `bins` equal-width probability bins:
/// the average over samples of |observed rate - mean probability| in their bin.
pub fn expected_calibration_error(probs: &[f64], labels: &[bool], bins: usize) -> f64 {
    assert_eq!(probs.len(), labels.len());
    if probs.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut count = vec![0usize; bins];
    let mut conf = vec![0.0f64; bins];
    let mut hits = vec![0.0f64; bins];
    for (&p, &l) in probs.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += p;
        hits[b] += l as u8 as f64;
    }
    let n = probs.len() as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (hits[b] - conf[b]).abs() / n)
        .sum()
}

/// The smallest threshold at which at most `max_fpr` of the negatives score at or above it.
pub fn threshold_for_fpr(negative_scores: &[f64], max_fpr: f64) -> f64 {
    if negative_scores.is_empty() {
        return 0.5;
    }
    let mut s = negative_scores.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let allowed = (max_fpr * s.len() as f64).floor() as usize;
    // Scores strictly above s[allowed] are at most `allowed` in number.
    let t = s[allowed.min(s.len() - 1)];
    let next = if t >= 1.0 {
        1.0
    } else {
        t + (1.0 - t) * 1e-6 + 1e-12
    };
    next.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_by_hand() {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4.
        let s = [0.9, 0.5, 0.4, 0.1];
        let l = [true, false, true, false];
        assert!((roc_auc(&s, &l).unwrap() - 0.75).abs() < 1e-12);
        // A tie between a positive and a negative counts one half: 0.5 / 1.
        assert!((roc_auc(&[0.3, 0.3], &[true, false]).unwrap() - 0.5).abs() < 1e-12);
        // Perfect and inverted rankings.
        assert_eq!(roc_auc(&[2.0, 1.0], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, false]), Some(0.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
    }

    #[test]
    fn ece_by_hand() {
        // Two bins: [0, 0.5): probs 0.2, 0.2 with labels 0, 1 -> |1 - 0.4| = 0.6;
        // [0.5, 1]: probs 0.9, 0.7 with labels 1, 1 -> |2 - 1.6| = 0.4. ECE = (0.6 + 0.4) / 4.
        let p = [0.2, 0.2, 0.9, 0.7];
        let l = [false, true, true, true];
        assert!((expected_calibration_error(&p, &l, 2) - 0.25).abs() < 1e-12);
        // Perfectly calibrated bins.
        let p = [0.5, 0.5];
        let l = [true, false];
        assert!(expected_calibration_error(&p, &l, 10).abs() < 1e-12);
        // A probability of exactly 1 lands in the last bin.
        assert!((expected_calibration_error(&[1.0], &[false], 10) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn logistic_by_hand() {
        // One binary feature: x = 0 has 1 positive in 4, x = 1 has 3 in 4. The
        // unpenalized maximum-likelihood fit reproduces those rates exactly:
        // logit(0) = ln(1/3), logit(1) = ln(3).
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (v, label) in [
            (0.0, 1.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
            (1.0, 1.0),
            (1.0, 1.0),
            (1.0, 1.0),
            (1.0, 0.0),
        ] {
            x.push(vec![v]);
            y.push(label);
        }
        let fit = fit_logistic(&x, &y, &[], 0.0);
        assert!(
            (fit.logit(&[0.0]) - (1.0f64 / 3.0).ln()).abs() < 1e-6,
            "{fit:?}"
        );
        assert!((fit.logit(&[1.0]) - 3.0f64.ln()).abs() < 1e-6, "{fit:?}");
        assert!((fit.prob(&[1.0]) - 0.75).abs() < 1e-6);
        // Sample weights act like repeated samples.
        let x2 = vec![vec![0.0], vec![0.0], vec![1.0], vec![1.0]];
        let y2 = vec![1.0, 0.0, 1.0, 0.0];
        let fit2 = fit_logistic(&x2, &y2, &[1.0, 3.0, 3.0, 1.0], 0.0);
        assert!((fit2.prob(&[0.0]) - 0.25).abs() < 1e-6);
        assert!((fit2.prob(&[1.0]) - 0.75).abs() < 1e-6);
        // The L2 penalty shrinks the weight toward zero.
        let shrunk = fit_logistic(&x, &y, &[], 10.0);
        assert!(shrunk.weights[0].abs() < fit.weights[0].abs());
    }

    #[test]
    fn logistic_separates_and_standardizes() {
        // Feature 0 decides, feature 1 is constant (scale falls back to 1).
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64, 5.0]).collect();
        let y: Vec<f64> = (0..40).map(|i| if i >= 20 { 1.0 } else { 0.0 }).collect();
        let fit = fit_logistic(&x, &y, &[], 0.1);
        assert_eq!(fit.scale[1], 1.0);
        assert!(fit.prob(&[35.0, 5.0]) > 0.99 && fit.prob(&[5.0, 5.0]) < 0.01);
        assert!((fit.prob(&[19.5, 5.0]) - 0.5).abs() < 0.05);
    }

    #[test]
    fn threshold_keeps_the_false_positive_rate() {
        let neg: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let t = threshold_for_fpr(&neg, 0.01);
        let above = neg.iter().filter(|&&s| s >= t).count();
        assert!(above <= 10, "{t} {above}");
        assert!(t > 0.98 && t < 0.992, "{t}");
    }
}
