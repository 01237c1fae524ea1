//! The difference between two configurations' results: its 95% interval and the two-sided
//! p-value of "no difference", and Holm's step-down adjustment, which keeps the chance of any
//! false alarm in a family of such tests at 5% however many figures and points are compared.
//!
//! - Replications: Welch's t on the runs' values (unequal variances, Welch-Satterthwaite
//!   degrees of freedom). A recovery rate is a mean of runs' rates like any figure; runs vary
//!   more than binomial noise (attempts within a run are not independent), so a test on pooled
//!   counts would be too sure of itself and cry wolf.
//! - One run a side: two estimates with their own standard errors (a run's batch-means
//!   interval), combined the same way.
//! - A rate's standard error is never taken below the binomial one of its pooled counts
//!   (Agresti-Caffo: one success and one failure added a side), so two runs at 100% do not make
//!   a difference exact.

use super::{estimate, t_quantile};

/// `new - old`, its 95% interval and the p-value of "no difference".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// The difference of the estimates, new minus old.
    pub diff: f64,
    /// Lower bound of its 95% interval.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Two-sided p-value of "no difference" (0 for a difference without spread on either side).
    pub p: f64,
}

/// An estimate with its standard error and the degrees of freedom behind it (infinite for a
/// normal approximation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// The estimate.
    pub mean: f64,
    /// Its standard error.
    pub se: f64,
    /// Degrees of freedom of the error's estimate.
    pub df: f64,
}

impl Measured {
    /// The mean of runs' values, its standard error sd / sqrt(n) on n - 1 degrees of freedom
    /// (NaN values skipped); None with fewer than two values.
    pub fn of_runs(values: &[f64]) -> Option<Measured> {
        let e = estimate(values);
        (e.n >= 2).then(|| Measured { mean: e.mean, se: e.sd / (e.n as f64).sqrt(), df: (e.n - 1) as f64 })
    }

    /// An estimate from its t interval [lo, hi] on `df` degrees of freedom (e.g. a run's
    /// batch-means interval); None when the interval is missing.
    pub fn of_interval(mean: f64, lo: f64, hi: f64, df: f64) -> Option<Measured> {
        let se = (hi - lo) / (2.0 * t_quantile(0.975, df));
        (mean.is_finite() && se.is_finite() && se >= 0.0).then_some(Measured { mean, se, df })
    }
}

/// new - old from two independent estimates: Welch-Satterthwaite degrees of freedom, the
/// standard error raised to `floor_se` when smaller (then on a normal approximation).
pub fn between(old: Measured, new: Measured, floor_se: f64) -> Difference {
    let diff = new.mean - old.mean;
    let (qa, qb) = (old.se * old.se, new.se * new.se);
    let se = (qa + qb).sqrt();
    let (se, df) = if se < floor_se {
        (floor_se, f64::INFINITY)
    } else {
        let df = (qa + qb).powi(2) / (qa * qa / old.df + qb * qb / new.df);
        (se, df)
    };
    if se == 0.0 {
        // No spread on either side: the difference is exact.
        return Difference { diff, lo: diff, hi: diff, p: if diff == 0.0 { 1.0 } else { 0.0 } };
    }
    let half = if df.is_infinite() { Z975 * se } else { t_quantile(0.975, df) * se };
    Difference { diff, lo: diff - half, hi: diff + half, p: super::student_t::t_two_sided_p(diff / se, df) }
}

/// Welch's interval and test for mean(new) - mean(old) from independent samples (NaN values
/// skipped); None with fewer than two values on either side.
pub fn welch(old: &[f64], new: &[f64]) -> Option<Difference> {
    Some(between(Measured::of_runs(old)?, Measured::of_runs(new)?, 0.0))
}

const Z975: f64 = 1.959_963_984_540_054;

/// The smallest standard error a difference of two rates can have: the binomial one of their
/// pooled counts, with one success and one failure added a side (Agresti-Caffo) so that 100%
/// or 0% still carries the uncertainty of a finite number of attempts. 0 without attempts.
pub fn binomial_se(old_successes: f64, old_attempts: f64, new_successes: f64, new_attempts: f64) -> f64 {
    if !(old_attempts > 0.0 && new_attempts > 0.0) {
        return 0.0;
    }
    let v = |s: f64, a: f64| {
        let p = (s + 1.0) / (a + 2.0);
        p * (1.0 - p) / (a + 2.0)
    };
    (v(old_successes, old_attempts) + v(new_successes, new_attempts)).sqrt()
}

/// Holm's step-down adjustment of p-values (NaN entries are not tests: they stay NaN and do not
/// count in the family). Rejecting where the adjusted value is below alpha keeps the chance of
/// any false rejection at most alpha, whatever the dependence between the tests.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    // Ties in index order, so the adjustment never depends on a sort's stability.
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let m = order.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The Wilson score 95% interval of a proportion from `successes` of `attempts` (None without
/// attempts): what the attempts alone allow, the floor of a rate's interval.
pub fn wilson(successes: f64, attempts: f64) -> Option<(f64, f64)> {
    if attempts.is_nan() || attempts <= 0.0 {
        return None;
    }
    let p = (successes / attempts).clamp(0.0, 1.0);
    let z2 = Z975 * Z975;
    let denom = 1.0 + z2 / attempts;
    let centre = (p + z2 / (2.0 * attempts)) / denom;
    let half = Z975 * (p * (1.0 - p) / attempts + z2 / (4.0 * attempts * attempts)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_hand_computation() {
        // old: mean 2, var 1 (n 3); new: mean 5, var 20/3 (n 4). qa = 1/3, qb = 5/3, se = sqrt(2),
        // df = 4 / ((1/9)/2 + (25/9)/3) = 4.0755, t(0.975, 4.0755) = 2.75628 (by numerical
        // integration of the t density), half-width 3.89798; t = 3/sqrt(2) = 2.12132, whose
        // two-sided p on 4.0755 df is 0.0996 (R: 2*pt(-2.12132, 4.0755) = 0.09959).
        let d = welch(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert_eq!(d.diff, 3.0);
        assert!((d.hi - 3.0 - 3.89798).abs() < 1e-4 && (3.0 - d.lo - 3.89798).abs() < 1e-4, "{d:?}");
        assert!((d.p - 0.0996).abs() < 5e-4, "{d:?}");
        let far = welch(&[1.0, 2.0, 3.0], &[11.0, 12.0, 13.0]).unwrap();
        assert!(far.p < 0.001 && far.lo > 0.0);
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
        assert!(welch(&[1.0, f64::NAN], &[1.0, 2.0]).is_none(), "NaN skipped, one value left");
        let exact = welch(&[1.0, 1.0], &[1.5, 1.5]).unwrap();
        assert_eq!((exact.lo, exact.hi, exact.p), (0.5, 0.5, 0.0));
        assert_eq!(welch(&[1.0, 1.0], &[1.0, 1.0]).unwrap().p, 1.0);
    }

    #[test]
    fn a_floor_widens_a_difference_without_spread() {
        // Two runs at 46/46 a side against two at 44/46: Welch sees no spread and calls the
        // difference exact; the binomial floor does not.
        let (old, new) = ([1.0, 1.0], [44.0 / 46.0, 44.0 / 46.0]);
        assert_eq!(welch(&old, &new).unwrap().p, 0.0);
        let floor = binomial_se(92.0, 92.0, 88.0, 92.0);
        // Agresti-Caffo: (93/94)(1/94)/94 + (89/94)(5/94)/94 = 0.000113 + 0.000535.
        let want: f64 = 93.0 / 94.0 * (1.0 / 94.0) / 94.0 + 89.0 / 94.0 * (5.0 / 94.0) / 94.0;
        assert!((floor - want.sqrt()).abs() < 1e-12);
        let d = between(Measured::of_runs(&old).unwrap(), Measured::of_runs(&new).unwrap(), floor);
        assert!(d.p > 0.05 && d.lo < 0.0 && d.hi > 0.0, "{d:?}");
        assert!((d.hi - d.diff - Z975 * floor).abs() < 1e-12, "normal approximation when the floor decides");
        // A floor below Welch's error changes nothing.
        let (a, b) = ([0.5, 0.7, 0.6], [0.2, 0.3, 0.1]);
        assert_eq!(
            between(Measured::of_runs(&a).unwrap(), Measured::of_runs(&b).unwrap(), 1e-6),
            welch(&a, &b).unwrap()
        );
        assert_eq!(binomial_se(1.0, 0.0, 1.0, 2.0), 0.0);
        assert_eq!(binomial_se(1.0, 2.0, 1.0, 0.0), 0.0, "no attempts on the new side either");
        // A floor replaces only a smaller error: at a tie Welch's degrees of freedom stand
        // (old exact, new se 0.5 on 3 df: half-width t(0.975, 3) x 0.5 = 1.5912, not 1.96 x 0.5).
        let exact = Measured { mean: 0.0, se: 0.0, df: 3.0 };
        let d = between(exact, Measured { mean: 1.0, se: 0.5, df: 3.0 }, 0.5);
        assert!((d.hi - 1.0 - 3.182446 * 0.5).abs() < 1e-5, "{d:?}");
    }

    #[test]
    fn one_run_a_side_combines_the_runs_own_intervals() {
        // Two batch-means intervals on 9 df: half-widths 0.02 and 0.03 (t = 2.262157).
        let t = 2.262157;
        let a = Measured::of_interval(0.50, 0.48, 0.52, 9.0).unwrap();
        let b = Measured::of_interval(0.60, 0.57, 0.63, 9.0).unwrap();
        assert!((a.se - 0.02 / t).abs() < 1e-6 && (b.se - 0.03 / t).abs() < 1e-6);
        let d = between(a, b, 0.0);
        // Welch-Satterthwaite: equal df 9 and unequal errors give between 9 and 18.
        let se = (a.se * a.se + b.se * b.se).sqrt();
        let half = d.hi - d.diff;
        assert!(half > 2.1009 * se && half < t * se, "{d:?}");
        assert!(d.p < 0.001);
        assert!(Measured::of_interval(0.5, f64::NAN, f64::NAN, 9.0).is_none());
        assert!(Measured::of_interval(f64::NAN, 0.4, 0.6, 9.0).is_none(), "no estimate, no interval");
    }

    #[test]
    fn holm_adjusts_step_down_and_never_reorders() {
        // p sorted: 0.01, 0.02, 0.03, 0.5 with m = 4: 0.04, 0.06, 0.06 (monotone), 0.5.
        let adj = holm(&[0.03, 0.5, 0.01, f64::NAN, 0.02]);
        let want = [0.06, 0.5, 0.04, f64::NAN, 0.06];
        for (g, w) in adj.iter().zip(want) {
            assert!((g.is_nan() && w.is_nan()) || (g - w).abs() < 1e-12, "{adj:?}");
        }
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
        assert_eq!(holm(&[0.9, 0.4]), vec![0.9, 0.8]);
        assert_eq!(holm(&[0.6, 0.001]), vec![0.6, 0.002]);
        assert!(holm(&[]).is_empty());
        assert_eq!(holm(&[1.0, 1.0, 1.0]), vec![1.0; 3], "capped at 1");
    }

    #[test]
    fn wilson_matches_published_values() {
        // 45/46: Wilson 95% (0.8865, 0.9962); 46/46: (0.9229, 1); 0/10: (0, 0.2775).
        let (lo, hi) = wilson(45.0, 46.0).unwrap();
        assert!((lo - 0.8865).abs() < 5e-4 && (hi - 0.9962).abs() < 5e-4, "{lo} {hi}");
        let (lo, hi) = wilson(46.0, 46.0).unwrap();
        assert!((lo - 0.9229).abs() < 5e-4 && hi == 1.0, "{lo} {hi}");
        let (lo, hi) = wilson(0.0, 10.0).unwrap();
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 5e-4, "{lo} {hi}");
        assert!(wilson(1.0, 0.0).is_none());
    }
}
