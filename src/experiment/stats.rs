//! Mean, standard deviation and the 95% confidence interval of a mean across replications.

/// Student's t quantile at 0.975 for `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        // Beyond the table: the normal quantile with the first-order correction (error < 0.1%).
        _ => 1.959964 * (1.0 + 1.0 / (4.0 * df as f64)) + 0.5 * 1.959964_f64.powi(3) / (4.0 * df as f64),
    }
}

/// Summary of one metric over replications; NaN values (e.g. a rate with no attempts) are skipped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_a_known_sample() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, f64::NAN]);
        assert_eq!(e.n, 4);
        assert_eq!(e.mean, 2.5);
        assert!((e.sd - 1.290994).abs() < 1e-6);
        // t(3) = 3.182: half width 3.182 * 1.290994 / 2
        assert!((e.hi - 2.5 - 2.053971).abs() < 1e-5);
        assert!(estimate(&[5.0]).lo.is_nan());
        assert!((t975(1000) - 1.962).abs() < 0.001);
    }
}
