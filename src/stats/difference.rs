//! The difference between two configurations' results, with its 95% interval: Welch's t
//! interval for means of independent replications (unequal variances), and for proportions
//! (a recovery rate from attempts and successes) the Wald interval of the difference with the
//! pooled two-proportion z test deciding significance.

use super::{estimate, t_quantile};

/// `new - old` and its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// The difference of the estimates, new minus old.
    pub diff: f64,
    /// Lower bound of its 95% interval.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Whether the difference is significant at 5% (the interval excludes 0; for proportions,
    /// the pooled z test).
    pub significant: bool,
}

/// Welch's interval for mean(new) - mean(old) from independent samples (NaN values skipped);
/// None with fewer than two values on either side.
pub fn welch(old: &[f64], new: &[f64]) -> Option<Difference> {
    let (a, b) = (estimate(old), estimate(new));
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (qa, qb) = (a.sd * a.sd / a.n as f64, b.sd * b.sd / b.n as f64);
    let diff = b.mean - a.mean;
    let se = (qa + qb).sqrt();
    if se == 0.0 {
        // No spread on either side: the difference is exact.
        return Some(Difference { diff, lo: diff, hi: diff, significant: diff != 0.0 });
    }
    // Welch-Satterthwaite degrees of freedom.
    let df = (qa + qb).powi(2) / (qa * qa / (a.n as f64 - 1.0) + qb * qb / (b.n as f64 - 1.0));
    let half = t_quantile(0.975, df) * se;
    Some(Difference { diff, lo: diff - half, hi: diff + half, significant: diff.abs() > half })
}

/// The difference of two proportions, successes/attempts new minus old: the Wald 95% interval
/// and the pooled two-proportion z test; None without attempts on either side.
pub fn proportions(old_successes: f64, old_attempts: f64, new_successes: f64, new_attempts: f64) -> Option<Difference> {
    if old_attempts <= 0.0 || new_attempts <= 0.0 {
        return None;
    }
    let (p1, p2) = (old_successes / old_attempts, new_successes / new_attempts);
    let diff = p2 - p1;
    let se = (p1 * (1.0 - p1) / old_attempts + p2 * (1.0 - p2) / new_attempts).sqrt();
    let pooled = (old_successes + new_successes) / (old_attempts + new_attempts);
    let se0 = (pooled * (1.0 - pooled) * (1.0 / old_attempts + 1.0 / new_attempts)).sqrt();
    const Z975: f64 = 1.959_963_984_540_054;
    let significant = if se0 == 0.0 { diff != 0.0 } else { (diff / se0).abs() > Z975 };
    Some(Difference { diff, lo: diff - Z975 * se, hi: diff + Z975 * se, significant })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_hand_computation() {
        // old: mean 2, var 1 (n 3); new: mean 5, var 20/3 (n 4). qa = 1/3, qb = 5/3, se = sqrt(2),
        // df = 4 / ((1/9)/2 + (25/9)/3) = 4.0755, t(0.975, 4.0755) = 2.75628 (by numerical
        // integration of the t density), half-width 3.89798.
        let d = welch(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert_eq!(d.diff, 3.0);
        assert!((d.hi - 3.0 - 3.89798).abs() < 1e-4 && (3.0 - d.lo - 3.89798).abs() < 1e-4, "{d:?}");
        assert!(!d.significant, "3 is inside +-3.90");
        let far = welch(&[1.0, 2.0, 3.0], &[11.0, 12.0, 13.0]).unwrap();
        assert!(far.significant && far.lo > 0.0);
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
        assert!(welch(&[1.0, f64::NAN], &[1.0, 2.0]).is_none(), "NaN skipped, one value left");
        let exact = welch(&[1.0, 1.0], &[1.5, 1.5]).unwrap();
        assert_eq!((exact.lo, exact.hi, exact.significant), (0.5, 0.5, true));
        assert!(!welch(&[1.0, 1.0], &[1.0, 1.0]).unwrap().significant);
    }

    #[test]
    fn proportions_use_wald_for_the_interval_and_the_pooled_test_for_significance() {
        // 450/1000 vs 500/1000: diff 0.05, se = sqrt(.2475/1000 + .25/1000) = 0.022305,
        // pooled p 0.475: se0 = 0.022331, z = 2.239 > 1.96.
        let d = proportions(450.0, 1000.0, 500.0, 1000.0).unwrap();
        assert!((d.diff - 0.05).abs() < 1e-12);
        assert!((d.hi - d.diff - 1.959964 * 0.0223047).abs() < 1e-6, "{d:?}");
        assert!((d.diff - d.lo - 1.959964 * 0.0223047).abs() < 1e-6, "symmetric: {d:?}");
        assert!(d.significant);
        assert!(!proportions(450.0, 1000.0, 470.0, 1000.0).unwrap().significant, "z = 0.90");
        assert!(proportions(1.0, 0.0, 1.0, 2.0).is_none());
        let same = proportions(10.0, 10.0, 20.0, 20.0).unwrap();
        assert_eq!((same.diff, same.significant), (0.0, false));
        assert!(proportions(10.0, 10.0, 19.0, 20.0).unwrap().diff < 0.0);
    }
}
