//! Output analysis, knowing nothing of IMPS: the mean and its Student-t interval across
//! replications (`estimate`), exact t quantiles (`student_t`), and the steady-state tools for
//! one long run (`steady_state`: MSER-5 truncation and batch-means intervals).

pub mod difference;
pub mod steady_state;
pub mod student_t;

pub use student_t::t_quantile;

/// Student's t quantile at 0.975 for `df` degrees of freedom (the two-sided 95% interval).
pub fn t975(df: usize) -> f64 {
    if df == 0 { f64::NAN } else { t_quantile(0.975, df as f64) }
}

/// Summary of one metric over replications; NaN values (e.g. a rate with no attempts) are skipped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub(crate) n: usize,
    /// Mean of the finite values (NaN if there are none).
    pub mean: f64,
    /// Sample standard deviation (NaN with fewer than 2 values).
    pub sd: f64,
    /// Lower bound of the 95% Student-t interval of the mean (NaN with fewer than 2 values).
    pub lo: f64,
    /// Upper bound of the 95% Student-t interval of the mean (NaN with fewer than 2 values).
    pub hi: f64,
}

/// Mean, sample standard deviation and the 95% t interval of the mean (on n - 1 degrees of
/// freedom); with one value the interval is NaN: it was not computed.
pub fn estimate(values: &[f64]) -> Estimate {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return Estimate { n, mean: f64::NAN, sd: f64::NAN, lo: f64::NAN, hi: f64::NAN };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate { n, mean, sd: f64::NAN, lo: f64::NAN, hi: f64::NAN };
    }
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t975(n - 1) * sd / (n as f64).sqrt();
    Estimate { n, mean, sd, lo: mean - half, hi: mean + half }
}

/// `e`, a rate's estimate, with its interval widened to at least the Wilson interval of the
/// `successes` and `attempts` pooled behind it: runs that agree (two at 100%) say nothing
/// about the noise of the attempts they rest on, so a zero-spread interval would certify a
/// bound it cannot. An estimate without an interval (one run) is left as it is.
pub fn floored_at_binomial(e: Estimate, successes: f64, attempts: f64) -> Estimate {
    match difference::wilson(successes, attempts) {
        Some((wl, wh)) if e.lo.is_finite() && e.hi.is_finite() => Estimate { lo: e.lo.min(wl), hi: e.hi.max(wh), ..e },
        _ => e,
    }
}

/// The interval of the mean of paired differences `a[i] - b[i]` (the estimator for common
/// random numbers: replication i of both configurations used the same random numbers).
pub fn paired_difference(a: &[f64], b: &[f64]) -> Estimate {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    estimate(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_a_known_sample() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, f64::NAN]);
        assert_eq!(e.n, 4);
        assert_eq!(e.mean, 2.5);
        assert!((e.sd - 1.290994).abs() < 1e-6);
        // t(3) = 3.182446: half width 3.182446 * 1.290994 / 2
        assert!((e.hi - 2.5 - 3.182446 * 1.290994 / 2.0).abs() < 1e-5);
        assert!((e.lo - 2.5 + 3.182446 * 1.290994 / 2.0).abs() < 1e-5);
        let one = estimate(&[5.0]);
        assert!(one.lo.is_nan() && one.hi.is_nan() && one.mean == 5.0);
        assert!(estimate(&[]).mean.is_nan());
    }

    #[test]
    fn a_rate_interval_is_never_narrower_than_the_binomial_one() {
        // Two runs at 46/46 and 45/45: no spread, yet 91 attempts allow down to 0.9596.
        let e = estimate(&[1.0, 1.0]);
        assert_eq!((e.lo, e.hi), (1.0, 1.0));
        let f = floored_at_binomial(e, 91.0, 91.0);
        let (wl, _) = difference::wilson(91.0, 91.0).unwrap();
        assert_eq!((f.lo, f.hi, f.mean, f.n), (wl, 1.0, 1.0, 2));
        assert!(wl < 0.97 && wl > 0.95, "{wl}");
        // A wide interval is kept as it is.
        let wide = Estimate { lo: 0.5, hi: 0.9, ..estimate(&[0.6, 0.8]) };
        assert_eq!(floored_at_binomial(wide, 70.0, 100.0), wide);
        // One side only: the interval grows where the binomial one reaches further.
        let tight = Estimate { lo: 0.69, hi: 0.71, ..estimate(&[0.7, 0.7]) };
        let g = floored_at_binomial(tight, 70.0, 100.0);
        assert!(g.lo < 0.62 && g.hi > 0.78, "{g:?}");
        // No interval (one run) or no attempts: unchanged.
        let one = estimate(&[1.0]);
        assert!(floored_at_binomial(one, 46.0, 46.0).lo.is_nan());
        assert_eq!(floored_at_binomial(e, 0.0, 0.0), e);
    }

    #[test]
    fn paired_differences_remove_what_both_share() {
        // b = a - 1 plus nothing: the difference is exactly 1 with no spread.
        let a = [3.0, 7.0, 1.0, 9.0];
        let b: Vec<f64> = a.iter().map(|x| x - 1.0).collect();
        let e = paired_difference(&a, &b);
        assert_eq!((e.mean, e.sd, e.lo, e.hi), (1.0, 0.0, 1.0, 1.0));
        // Unpaired, the same numbers give a wide interval around 1.
        let (ea, eb) = (estimate(&a), estimate(&b));
        assert!(ea.hi - ea.lo > 5.0 && eb.hi - eb.lo > 5.0);
    }
}
