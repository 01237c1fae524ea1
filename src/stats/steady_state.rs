//! Steady-state analysis of one run's output series.
//!
//! - MSER-5 (White 1997): batch the series into means of 5, Y_1..Y_m, and pick the truncation
//!   d (in batches, d <= m/2) that minimises sum_{j>d} (Y_j - mean_{j>d} Y)^2 / (m - d)^2.
//!   A warm-up shorter than that truncation leaves start-up bias in the estimate; a minimum at
//!   m/2 means the run is too short to tell.
//! - Batch means for a ratio (successes / attempts) over one run: k batches give the ratio
//!   estimator R = sum S / sum A and its delta-method variance
//!   sum (S_i - R A_i)^2 / (k (k - 1) mean(A)^2), with a t interval on k - 1 degrees of freedom.

use super::t975;

/// Observations per MSER batch.
pub(crate) const MSER_BATCH: usize = 5;

/// MSER's chosen truncation, in batches of `MSER_BATCH` observations, and whether it lies at
/// the limit (m/2), where the series is too short to tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Truncation {
    pub(crate) batches: usize,
    pub(crate) at_limit: bool,
}

/// MSER truncation of already-batched values `y` (None with fewer than 4 batches).
pub(crate) fn mser(y: &[f64]) -> Option<Truncation> {
    let m = y.len();
    if m < 4 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // Suffix sums of y and y^2 give each candidate's statistic in O(1).
    let (mut s, mut s2) = (vec![0.0; m + 1], vec![0.0; m + 1]);
    for j in (0..m).rev() {
        s[j] = s[j + 1] + y[j];
        s2[j] = s2[j + 1] + y[j] * y[j];
    }
    let limit = m / 2;
    let mut best = (f64::INFINITY, 0);
    for d in 0..=limit {
        let n = (m - d) as f64;
        let mean = s[d] / n;
        // Sum of squared deviations, never below 0 from rounding.
        let ss = (s2[d] - n * mean * mean).max(0.0);
        let stat = ss / (n * n);
        if stat < best.0 {
            best = (stat, d);
        }
    }
    Some(Truncation { batches: best.1, at_limit: best.1 == limit })
}

/// Means of consecutive groups of `MSER_BATCH` values (a partial last group is dropped).
pub(crate) fn batch_means(x: &[f64]) -> Vec<f64> {
    x.chunks_exact(MSER_BATCH).map(|c| c.iter().sum::<f64>() / MSER_BATCH as f64).collect()
}

/// Ratios sum(num) / sum(den) over consecutive groups of `MSER_BATCH` (NaN where den is 0).
pub(crate) fn batch_ratios(num: &[f64], den: &[f64]) -> Vec<f64> {
    num.chunks_exact(MSER_BATCH)
        .zip(den.chunks_exact(MSER_BATCH))
        .map(|(n, d)| {
            let dd: f64 = d.iter().sum();
            if dd > 0.0 { n.iter().sum::<f64>() / dd } else { f64::NAN }
        })
        .collect()
}

/// A ratio estimate with its 95% interval from `k` batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatioInterval {
    /// The ratio estimate, sum(num) / sum(den) over all batches (NaN when den sums to 0).
    pub ratio: f64,
    /// Lower bound of the 95% interval (NaN when fewer than 2 batches hold data).
    pub lo: f64,
    /// Upper bound of the 95% interval (NaN when fewer than 2 batches hold data).
    pub hi: f64,
    /// Batches behind the interval: all of them, or those holding data when the interval is NaN.
    pub batches: usize,
}

/// Batch-means interval of sum(num) / sum(den) from per-interval counts, cut into `k`
/// contiguous batches of (nearly) equal length. NaN bounds when fewer than 2 batches hold data.
pub(crate) fn ratio_interval(num: &[f64], den: &[f64], k: usize) -> RatioInterval {
    let n = num.len().min(den.len());
    let k = k.min(n);
    let mut batches: Vec<(f64, f64)> = Vec::with_capacity(k);
    for b in 0..k {
        let (from, to) = (b * n / k, (b + 1) * n / k);
        batches.push((num[from..to].iter().sum(), den[from..to].iter().sum()));
    }
    let (s, a): (f64, f64) = batches.iter().fold((0.0, 0.0), |(s, a), (x, y)| (s + x, a + y));
    let ratio = if a > 0.0 { s / a } else { f64::NAN };
    let used = batches.iter().filter(|(_, y)| *y > 0.0).count();
    if used < 2 || !ratio.is_finite() {
        return RatioInterval { ratio, lo: f64::NAN, hi: f64::NAN, batches: used };
    }
    let k = batches.len() as f64;
    let mean_den = a / k;
    let var = batches.iter().map(|(x, y)| (x - ratio * y).powi(2)).sum::<f64>() / (k * (k - 1.0) * mean_den * mean_den);
    let half = t975(batches.len() - 1) * var.sqrt();
    RatioInterval { ratio, lo: ratio - half, hi: ratio + half, batches: batches.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, roughly uniform noise in [-1, 1).
    fn noise(i: usize) -> f64 {
        let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        x as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    #[test]
    fn mser_finds_the_end_of_a_start_up_ramp() {
        // 60 batches: a ramp from 0 up to 100 over the first 12, then 100 with noise.
        let y: Vec<f64> = (0..60).map(|j| if j < 12 { j as f64 * 100.0 / 12.0 } else { 100.0 + noise(j) }).collect();
        let t = mser(&y).unwrap();
        assert!((11..=14).contains(&t.batches), "truncated at {}", t.batches);
        assert!(!t.at_limit);
        // A stationary series needs no truncation.
        let flat: Vec<f64> = (0..60).map(|j| 100.0 + noise(j)).collect();
        assert!(mser(&flat).unwrap().batches <= 3);
        // A series still climbing at the end is too short to tell.
        let climbing: Vec<f64> = (0..60).map(|j| j as f64 + noise(j)).collect();
        assert!(mser(&climbing).unwrap().at_limit);
        assert_eq!(mser(&[1.0, 2.0, 3.0]), None);
        // Four batches are enough to judge; a constant series needs no cut (ties go to the
        // earliest truncation, not to the limit).
        assert_eq!(mser(&[5.0, 1.0, 1.0, 1.0]), Some(Truncation { batches: 1, at_limit: false }));
        assert_eq!(mser(&[7.0; 40]), Some(Truncation { batches: 0, at_limit: false }));
        assert_eq!(mser(&[1.0, f64::NAN, 3.0, 4.0]), None);
    }

    #[test]
    fn batches_of_five() {
        let x: Vec<f64> = (1..=12).map(|v| v as f64).collect();
        assert_eq!(batch_means(&x), vec![3.0, 8.0]);
        let den = vec![1.0; 12];
        assert_eq!(batch_ratios(&x, &den), vec![3.0, 8.0]);
        assert!(batch_ratios(&x, &[0.0; 12])[0].is_nan());
    }

    #[test]
    fn ratio_interval_of_known_batches() {
        // Two batches: 3/10 and 5/10; R = 0.4; residuals -1 and 1; var = 2 / (2 * 1 * 100) = 0.01.
        let r = ratio_interval(&[3.0, 5.0], &[10.0, 10.0], 2);
        assert_eq!(r.ratio, 0.4);
        let half = 12.706204736 * 0.1;
        assert!((r.hi - 0.4 - half).abs() < 1e-6 && (0.4 - r.lo - half).abs() < 1e-6, "{r:?}");
        // Identical batches: no spread at all.
        let r = ratio_interval(&[2.0; 20], &[8.0; 20], 10);
        assert_eq!((r.ratio, r.lo, r.hi, r.batches), (0.25, 0.25, 0.25, 10));
        // Attempts in one batch only: a ratio, but no interval (one batch says nothing of spread).
        let r = ratio_interval(&[3.0, 0.0, 0.0, 0.0], &[10.0, 0.0, 0.0, 0.0], 4);
        assert_eq!((r.ratio, r.batches), (0.3, 1));
        assert!(r.lo.is_nan() && r.hi.is_nan());
        // No attempts: no ratio and no interval.
        let r = ratio_interval(&[0.0; 20], &[0.0; 20], 10);
        assert!(r.ratio.is_nan() && r.lo.is_nan());
    }

    #[test]
    fn ratio_interval_covers_the_true_ratio_about_95_percent_of_the_time() {
        // 400 independent series of 200 intervals of Bernoulli(0.3) trials: the interval should
        // cover 0.3 in 93-97% of them.
        let key = crate::engine::RngKey::from_seed(11);
        let mut covered = 0;
        for s in 0..400u32 {
            let mut num = Vec::new();
            let mut den = Vec::new();
            for i in 0..200u64 {
                let trials = 20;
                let hits = (0..trials).filter(|t| key.uniform(s, 0, i * 100 + t) < 0.3).count();
                num.push(hits as f64);
                den.push(trials as f64);
            }
            let r = ratio_interval(&num, &den, 10);
            if r.lo <= 0.3 && 0.3 <= r.hi {
                covered += 1;
            }
        }
        assert!((372..=392).contains(&covered), "covered {covered} of 400");
    }
}
