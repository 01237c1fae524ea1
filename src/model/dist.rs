//! Distributions of durations and counts, sampled by inversion from one uniform draw.
//!
//! One uniform per sample keeps every stream's counter in step whatever the distribution,
//! and `libm` (a pure-Rust libm) makes `ln`, `exp` and `pow` give the same bits on every
//! platform, so a seed reproduces a run anywhere.
//!
//! Why one file of this length: every family shares `Dist` and its one-uniform inversion, and
//! about 120 lines are tests of each family against its closed-form moments and quantiles.

use crate::engine::math;
use crate::engine::time::{SimDuration, format_duration, from_secs_f64, parse_duration};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// A distribution over non-negative reals (seconds for durations, plain numbers for counts).
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always this value (seconds for durations).
    Fixed(f64),
    /// Exponential.
    Exponential {
        /// The mean (seconds for durations).
        mean: f64,
    },
    /// `mu` and `sigma` of the underlying normal; written as `median` or `mean` plus `sigma`.
    LogNormal {
        /// Mean of the underlying normal: ln of the median.
        mu: f64,
        /// Standard deviation of the underlying normal.
        sigma: f64,
    },
    /// Weibull.
    Weibull {
        /// Shape parameter k.
        shape: f64,
        /// Scale parameter (seconds for durations).
        scale: f64,
    },
    /// Pareto type I: `scale` is the minimum value.
    Pareto {
        /// Shape parameter (tail index); the mean is infinite when it is 1 or less.
        shape: f64,
        /// The minimum value (seconds for durations).
        scale: f64,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Smallest value (seconds for durations).
        min: f64,
        /// Largest value (seconds for durations).
        max: f64,
    },
    /// Observed values from a CSV file (one number per line); sampled with linear
    /// interpolation between order statistics. `samples` is filled by the scenario loader.
    Empirical {
        /// The CSV's path as the scenario gives it (relative to the scenario's folder).
        file: String,
        /// Factor from the file's numbers to seconds (its `unit`, default s); 1 for counts.
        scale: f64,
        /// The file's values times `scale`, ascending (empty until the loader fills it).
        samples: Arc<[f64]>,
        /// SHA-256 of the file's bytes: set by the loader (which checks it against a value the
        /// scenario gives), so a result records, and a resume or merge compares, the data itself.
        sha256: String,
    },
}

impl Dist {
    /// Sample by inversion of the CDF at `u` in (0, 1).
    #[inline]
    pub(crate) fn sample(&self, u: f64) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Exponential { mean } => -mean * math::log(u),
            Dist::LogNormal { mu, sigma } => math::exp(mu + sigma * inverse_normal_cdf(u)),
            Dist::Weibull { shape, scale } => scale * libm::pow(-math::log(u), 1.0 / shape),
            Dist::Pareto { shape, scale } => scale * libm::pow(u, -1.0 / shape),
            Dist::Uniform { min, max } => min + (max - min) * u,
            Dist::Empirical { ref samples, .. } => {
                if samples.len() == 1 {
                    return samples[0];
                }
                let x = u * (samples.len() - 1) as f64;
                let i = (x as usize).min(samples.len() - 2);
                let f = x - i as f64;
                samples[i] + f * (samples[i + 1] - samples[i])
            }
        }
    }

    /// The least value a draw can take.
    pub(crate) fn least(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform { min, .. } => min,
            Dist::Pareto { scale, .. } => scale,
            Dist::Empirical { ref samples, .. } => samples.first().copied().unwrap_or(0.0),
            Dist::Exponential { .. } | Dist::LogNormal { .. } | Dist::Weibull { .. } => 0.0,
        }
    }

    /// The distribution's mean (infinite for Pareto with shape <= 1).
    pub(crate) fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Exponential { mean } => mean,
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Dist::Weibull { shape, scale } => scale * libm::tgamma(1.0 + 1.0 / shape),
            Dist::Pareto { shape, scale } => {
                if shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale / (shape - 1.0)
                }
            }
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Empirical { ref samples, .. } => {
                if samples.is_empty() {
                    return f64::NAN;
                }
                samples.iter().sum::<f64>() / samples.len() as f64
            }
        }
    }
}

/// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
pub(crate) fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239e0,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838e0,
        -2.549732539343734e0,
        4.374664141464968e0,
        2.938163982698783e0,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996e0, 3.754408661907416e0];
    const P_LOW: f64 = 0.02425;
    if p < P_LOW {
        let q = libm::sqrt(-2.0 * math::log(p));
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -inverse_normal_cdf(1.0 - p)
    }
}

/// What the numbers of a distribution measure: this decides how they are written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    /// Written as duration strings ("30s"); held in seconds.
    Duration,
    /// Written as plain numbers.
    Count,
}

/// A scalar in a distribution table: a duration string or a number.
#[derive(Clone, Debug)]
enum Quantity {
    Text(String),
    Number(f64),
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string like \"30s\" or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v))
            }
        }
        d.deserialize_any(V)
    }
}

const KINDS: &str = "fixed, exponential, lognormal, weibull, pareto, uniform, empirical";

/// The table form: `{ dist = "exponential", mean = "30m" }`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Table {
    dist: String,
    value: Option<Quantity>,
    mean: Option<Quantity>,
    median: Option<Quantity>,
    sigma: Option<f64>,
    shape: Option<f64>,
    scale: Option<Quantity>,
    min: Option<Quantity>,
    max: Option<Quantity>,
    file: Option<String>,
    /// For an empirical duration distribution: the unit of the file's numbers (default "s").
    unit: Option<String>,
    /// For an empirical distribution: the SHA-256 the file must have (optional).
    sha256: Option<String>,
}

impl Table {
    fn build(self, unit: Unit) -> Result<Dist, String> {
        let q = |name: &str, v: &Option<Quantity>| -> Result<f64, String> {
            match v {
                None => Err(format!("distribution \"{}\" needs `{name}`", self.dist)),
                Some(v) => quantity(v, unit, name),
            }
        };
        let real = |name: &str, v: Option<f64>| -> Result<f64, String> {
            v.ok_or_else(|| format!("distribution \"{}\" needs `{name}` (a number)", self.dist))
        };
        let positive = |name: &str, v: f64| -> Result<f64, String> {
            if v > 0.0 && v.is_finite() { Ok(v) } else { Err(format!("`{name}` must be greater than 0 (got {v})")) }
        };
        self.only_its_own_fields()?;
        Ok(match self.dist.as_str() {
            "fixed" => Dist::Fixed(q("value", &self.value)?),
            "exponential" => Dist::Exponential { mean: positive("mean", q("mean", &self.mean)?)? },
            "lognormal" => {
                let sigma = real("sigma", self.sigma)?;
                if !(sigma >= 0.0 && sigma.is_finite()) {
                    return Err(format!("`sigma` must be 0 or more (got {sigma})"));
                }
                let mu = match (&self.median, &self.mean) {
                    (Some(m), None) => libm::log(positive("median", quantity(m, unit, "median")?)?),
                    (None, Some(m)) => libm::log(positive("mean", quantity(m, unit, "mean")?)?) - sigma * sigma / 2.0,
                    _ => {
                        return Err(
                            "distribution \"lognormal\" needs exactly one of `median` or `mean`, and `sigma`".into()
                        );
                    }
                };
                Dist::LogNormal { mu, sigma }
            }
            "weibull" | "pareto" => {
                let shape = positive("shape", real("shape", self.shape)?)?;
                let scale = positive("scale", q("scale", &self.scale)?)?;
                if self.dist == "weibull" { Dist::Weibull { shape, scale } } else { Dist::Pareto { shape, scale } }
            }
            "uniform" => {
                let (min, max) = (q("min", &self.min)?, q("max", &self.max)?);
                if min > max {
                    return Err(format!("`min` must not exceed `max` (got min {min}, max {max})"));
                }
                Dist::Uniform { min, max }
            }
            _ => self.empirical(unit)?,
        })
    }

    /// Refuse a parameter that does not belong to the distribution named (a typo or a leftover
    /// would otherwise be silently ignored).
    fn only_its_own_fields(&self) -> Result<(), String> {
        let used: &[&str] = match self.dist.as_str() {
            "fixed" => &["value"],
            "exponential" => &["mean"],
            "lognormal" => &["median", "mean", "sigma"],
            "weibull" | "pareto" => &["shape", "scale"],
            "uniform" => &["min", "max"],
            "empirical" => &["file", "unit", "sha256"],
            other => return Err(format!("unknown distribution \"{other}\"; allowed: {KINDS}")),
        };
        for (name, set) in [
            ("value", self.value.is_some()),
            ("mean", self.mean.is_some()),
            ("median", self.median.is_some()),
            ("sigma", self.sigma.is_some()),
            ("shape", self.shape.is_some()),
            ("scale", self.scale.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("file", self.file.is_some()),
            ("unit", self.unit.is_some()),
            ("sha256", self.sha256.is_some()),
        ] {
            if set && !used.contains(&name) {
                return Err(format!(
                    "distribution \"{}\" takes {}; `{name}` does not belong to it",
                    self.dist,
                    used.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(())
    }

    /// An empirical distribution: its file (read by the scenario loader), unit and pinned hash.
    fn empirical(&self, unit: Unit) -> Result<Dist, String> {
        let file = self.file.clone().ok_or("distribution \"empirical\" needs `file` (a CSV of observed values)")?;
        let scale = match (unit, self.unit.as_deref()) {
            (Unit::Count, None) => 1.0,
            (Unit::Count, Some(_)) => return Err("`unit` applies only to durations".into()),
            (Unit::Duration, u) => {
                let u = u.unwrap_or("s");
                let us = parse_duration(&format!("1{u}"))
                    .map_err(|_| format!("`unit` \"{u}\" unknown; allowed: us, ms, s, m, h, d"))?;
                us.as_secs_f64()
            }
        };
        let sha256 = self.sha256.clone().unwrap_or_default().to_ascii_lowercase();
        if !(sha256.is_empty() || sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err("`sha256` must be 64 hexadecimal digits (the file's SHA-256)".into());
        }
        Ok(Dist::Empirical { file, scale, samples: Arc::from(Vec::new()), sha256 })
    }
}

fn quantity(v: &Quantity, unit: Unit, name: &str) -> Result<f64, String> {
    match (v, unit) {
        (Quantity::Text(s), Unit::Duration) => {
            parse_duration(s).map(|d| d.as_secs_f64()).map_err(|e| format!("`{name}`: {e}"))
        }
        (Quantity::Number(n), Unit::Duration) => {
            Err(format!("`{name}` is a duration: write it as a string with a unit, e.g. \"{n}s\""))
        }
        (Quantity::Number(n), Unit::Count) => {
            if *n < 0.0 || !n.is_finite() {
                Err(format!("`{name}` must be 0 or more (got {n})"))
            } else {
                Ok(*n)
            }
        }
        (Quantity::Text(s), Unit::Count) => Err(format!("`{name}` is a count: write a number, not \"{s}\"")),
    }
}

fn deserialize_dist<'de, D: Deserializer<'de>>(d: D, unit: Unit) -> Result<Dist, D::Error> {
    struct V(Unit);
    impl<'de> Visitor<'de> for V {
        type Value = Dist;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            match self.0 {
                Unit::Duration => {
                    f.write_str("a duration like \"30s\" or a table like { dist = \"exponential\", mean = \"30m\" }")
                }
                Unit::Count => f.write_str("a number or a table like { dist = \"exponential\", mean = 3 }"),
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Dist, E> {
            quantity(&Quantity::Text(v.into()), self.0, "value").map(Dist::Fixed).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dist, E> {
            self.visit_f64(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dist, E> {
            self.visit_f64(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dist, E> {
            quantity(&Quantity::Number(v), self.0, "value").map(Dist::Fixed).map_err(E::custom)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Dist, A::Error> {
            let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
            t.build(self.0).map_err(de::Error::custom)
        }
    }
    d.deserialize_any(V(unit))
}

/// Write a distribution back in the form it is read in (for manifests and overrides).
fn to_table(dist: &Dist, unit: Unit) -> toml::Table {
    let mut t = toml::Table::new();
    let q = |v: f64| -> toml::Value {
        match unit {
            Unit::Duration => toml::Value::String(format_duration(crate::engine::time::from_secs_f64(v))),
            Unit::Count => toml::Value::Float(v),
        }
    };
    let name = match dist {
        Dist::Fixed(v) => {
            t.insert("value".into(), q(*v));
            "fixed"
        }
        Dist::Exponential { mean } => {
            t.insert("mean".into(), q(*mean));
            "exponential"
        }
        Dist::LogNormal { mu, sigma } => {
            t.insert("median".into(), q(libm::exp(*mu)));
            t.insert("sigma".into(), toml::Value::Float(*sigma));
            "lognormal"
        }
        Dist::Weibull { shape, scale } | Dist::Pareto { shape, scale } => {
            t.insert("shape".into(), toml::Value::Float(*shape));
            t.insert("scale".into(), q(*scale));
            if matches!(dist, Dist::Weibull { .. }) { "weibull" } else { "pareto" }
        }
        Dist::Uniform { min, max } => {
            t.insert("min".into(), q(*min));
            t.insert("max".into(), q(*max));
            "uniform"
        }
        Dist::Empirical { file, scale, sha256, .. } => {
            t.insert("file".into(), toml::Value::String(file.clone()));
            if !sha256.is_empty() {
                t.insert("sha256".into(), toml::Value::String(sha256.clone()));
            }
            if unit == Unit::Duration {
                t.insert("unit".into(), toml::Value::String(format_duration(from_secs_f64(*scale))[1..].to_string()));
            }
            "empirical"
        }
    };
    t.insert("dist".into(), toml::Value::String(name.into()));
    t
}

/// A distribution of durations (held in seconds, sampled in microseconds).
#[derive(Clone, Debug, PartialEq)]
pub struct DurationDist(pub Dist);

impl DurationDist {
    /// Sample a duration (whole microseconds).
    #[inline]
    pub(crate) fn sample(&self, u: f64) -> SimDuration {
        from_secs_f64(self.0.sample(u))
    }
    pub(crate) fn exp(mean: SimDuration) -> Self {
        DurationDist(Dist::Exponential { mean: mean.as_secs_f64() })
    }
}

/// A distribution of counts (context part sizes); samples round to the nearest integer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CountDist(pub Dist);

impl CountDist {
    #[inline]
    pub(crate) fn sample_count(&self, u: f64) -> u32 {
        // The sample rounded half away from zero, clamped to 0..=65535 (NaN: 0).
        let v = self.0.sample(u);
        if v.is_nan() || v < 0.5 {
            0
        } else if v >= 65_534.5 {
            65_535
        } else {
            math::round_positive(v) as u32
        }
    }
    pub(crate) fn fixed(n: u32) -> Self {
        CountDist(Dist::Fixed(n as f64))
    }
}

impl<'de> Deserialize<'de> for DurationDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_dist(d, Unit::Duration).map(DurationDist)
    }
}
impl<'de> Deserialize<'de> for CountDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_dist(d, Unit::Count).map(CountDist)
    }
}
impl Serialize for DurationDist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        to_table(&self.0, Unit::Duration).serialize(s)
    }
}
impl Serialize for CountDist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        to_table(&self.0, Unit::Count).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_of(d: &Dist, n: usize) -> f64 {
        (0..n).map(|i| d.sample((i as f64 + 0.5) / n as f64)).sum::<f64>() / n as f64
    }

    #[test]
    fn inversion_gives_the_documented_means() {
        let n = 400_000;
        for d in [
            Dist::Exponential { mean: 30.0 },
            Dist::LogNormal { mu: 1.0, sigma: 0.5 },
            Dist::Weibull { shape: 0.8, scale: 10.0 },
            Dist::Pareto { shape: 3.0, scale: 2.0 },
            Dist::Uniform { min: 1.0, max: 5.0 },
        ] {
            let m = mean_of(&d, n);
            assert!((m - d.mean()).abs() / d.mean() < 0.01, "{d:?}: sample mean {m} vs {}", d.mean());
        }
    }

    #[test]
    fn inverse_normal_is_accurate() {
        assert!(inverse_normal_cdf(0.5).abs() < 1e-9);
        assert!((inverse_normal_cdf(0.975) - 1.959963985).abs() < 1e-6);
        assert!((inverse_normal_cdf(0.001) + 3.090232306).abs() < 1e-6);
        // The upper tail, by symmetry from the lower one (the central formula is wrong there).
        assert!((inverse_normal_cdf(0.999) - 3.090232306).abs() < 1e-6);
        assert!((inverse_normal_cdf(0.99999) - 4.264890794).abs() < 1e-6);
    }

    #[test]
    fn empirical_interpolates_between_order_statistics() {
        let d = Dist::Empirical {
            file: "x".into(),
            scale: 1.0,
            samples: Arc::from(vec![1.0, 2.0, 4.0]),
            sha256: String::new(),
        };
        assert_eq!(d.sample(0.0), 1.0);
        assert_eq!(d.sample(0.5), 2.0);
        assert_eq!(d.sample(0.75), 3.0);
        assert_eq!(d.sample(1.0), 4.0);
        // Five uneven order statistics: the interpolation uses the right pair near the top, and
        // the difference of the pair, not its ratio; the mean is the samples' mean.
        let d = Dist::Empirical {
            file: "x".into(),
            scale: 1.0,
            samples: Arc::from(vec![1.0, 3.0, 4.0, 10.0, 100.0]),
            sha256: String::new(),
        };
        assert_eq!(d.sample(0.125), 2.0);
        assert!((d.sample(0.99) - 96.4).abs() < 1e-9, "{}", d.sample(0.99));
        assert_eq!(d.sample(1.0), 100.0);
        assert_eq!(d.mean(), 23.6);
    }

    #[derive(Deserialize)]
    struct Probe {
        d: DurationDist,
    }

    /// Counts round half away from zero and clamp to 0..=65535, exactly as libm's `round`
    /// followed by the clamp would (the rule context sizes were always drawn with).
    #[test]
    fn counts_round_half_away_from_zero_and_clamp() {
        let reference = |v: f64| {
            let r = libm::round(v);
            if r.is_nan() || r <= 0.0 {
                0
            } else if r >= 65_535.0 {
                65_535
            } else {
                r as u32
            }
        };
        let half = 0.5f64;
        for v in [
            f64::NAN,
            f64::NEG_INFINITY,
            -3.5,
            -0.5,
            -0.0,
            0.0,
            half.next_down(),
            half,
            1.49,
            1.5,
            2.5,
            12.0,
            65_534.5f64.next_down(),
            65_534.5,
            65_535.0,
            1e12,
            f64::INFINITY,
        ] {
            assert_eq!(CountDist(Dist::Fixed(v)).sample_count(0.5), reference(v), "count from {v}");
        }
    }

    fn parse(s: &str) -> Result<DurationDist, String> {
        toml::from_str::<Probe>(s).map(|p| p.d).map_err(|e| e.to_string())
    }

    #[test]
    fn tables_and_short_forms_parse_and_bad_parameters_are_refused() {
        assert_eq!(parse("d = \"30s\"").unwrap(), DurationDist(Dist::Fixed(30.0)));
        assert_eq!(
            parse("d = { dist = \"exponential\", mean = \"2m\" }").unwrap(),
            DurationDist(Dist::Exponential { mean: 120.0 })
        );
        assert!(parse("d = { dist = \"exponential\", mean = \"-2m\" }").unwrap_err().contains("negative"));
        assert!(parse("d = { dist = \"exponential\", mean = 5 }").unwrap_err().contains("duration"));
        assert!(parse("d = { dist = \"weibull\", shape = 0, scale = \"1m\" }").unwrap_err().contains("greater than 0"));
        assert!(parse("d = { dist = \"uniform\", min = \"5s\", max = \"1s\" }").unwrap_err().contains("min"));
        assert!(parse("d = { dist = \"gauss\", mean = \"1s\" }").unwrap_err().contains("allowed"));
        assert!(parse("d = { dist = \"exponential\", mean = \"1s\", mena = 3 }").unwrap_err().contains("mena"));
        assert!(parse("d = { dist = \"exponential\", sigma = 1.0, mean = \"1s\" }").unwrap_err().contains("sigma"));
        // A value of the wrong type says what is expected.
        let e = parse("d = { dist = \"exponential\", mean = true }").unwrap_err();
        assert!(e.contains("a duration string like \"30s\" or a number"), "{e}");
    }

    /// Every parameter's rule, each checked on both sides where it has two.
    #[test]
    fn each_parameter_is_checked_where_it_is_read() {
        // A lognormal given by its mean: mu = ln(mean) - sigma^2 / 2, so its mean is the mean.
        let DurationDist(d) = parse("d = { dist = \"lognormal\", mean = \"10s\", sigma = 0.8 }").unwrap();
        assert!((d.mean() - 10.0).abs() < 1e-9, "{d:?}");
        assert!(matches!(d, Dist::LogNormal { mu, .. } if (mu - (10f64.ln() - 0.32)).abs() < 1e-12));
        for bad in ["-0.5", "inf", "nan"] {
            let e = parse(&format!("d = {{ dist = \"lognormal\", median = \"1s\", sigma = {bad} }}")).unwrap_err();
            assert!(e.contains("`sigma` must be 0 or more"), "sigma {bad}: {e}");
        }
        // A uniform of one value is allowed; min above max is not.
        assert_eq!(
            parse("d = { dist = \"uniform\", min = \"5s\", max = \"5s\" }").unwrap(),
            DurationDist(Dist::Uniform { min: 5.0, max: 5.0 })
        );
        // An empirical file's unit scales its values to seconds; a pinned hash is 64 hex digits.
        let e = parse("d = { dist = \"empirical\", file = \"x.csv\", unit = \"ms\" }").unwrap();
        assert!(matches!(e.0, Dist::Empirical { scale, .. } if scale == 0.001), "{e:?}");
        let hash = "ab".repeat(32);
        let ok = parse(&format!("d = {{ dist = \"empirical\", file = \"x.csv\", sha256 = \"{hash}\" }}")).unwrap();
        assert!(matches!(ok.0, Dist::Empirical { ref sha256, .. } if *sha256 == hash));
        for bad in [&hash[1..], &format!("{}zz", &hash[2..])] {
            let e =
                parse(&format!("d = {{ dist = \"empirical\", file = \"x.csv\", sha256 = \"{bad}\" }}")).unwrap_err();
            assert!(e.contains("64 hexadecimal digits"), "{bad}: {e}");
        }
        // Counts are never negative.
        #[derive(Deserialize, Debug)]
        struct Counts {
            #[allow(dead_code)]
            c: CountDist,
        }
        let count = |t: &str| toml::from_str::<Counts>(t).map_err(|e| e.to_string());
        assert!(count("c = { dist = \"uniform\", min = 1, max = 3 }").is_ok());
        assert!(count("c = { dist = \"uniform\", min = -1, max = 3 }").unwrap_err().contains("must be 0 or more"));
        // A value of the wrong type says what a distribution looks like.
        let e = parse("d = true").unwrap_err();
        assert!(e.contains("a duration like \"30s\" or a table like"), "{e}");
        // The constructor the model's defaults use takes a duration; distributions hold seconds.
        assert_eq!(
            DurationDist::exp(SimDuration::from_micros(2_000_000)),
            DurationDist(Dist::Exponential { mean: 2.0 })
        );
    }

    /// An empirical distribution is written back with its unit (durations only) and its hash
    /// (when pinned), so a manifest reads back as the same distribution.
    #[test]
    fn an_empirical_distribution_is_written_with_its_unit_and_pinned_hash_only() {
        let d = |sha256: &str| Dist::Empirical {
            file: "x.csv".into(),
            scale: 0.001,
            samples: Arc::from(Vec::new()),
            sha256: sha256.into(),
        };
        let t = to_table(&d(""), Unit::Duration);
        assert_eq!(t.get("unit").and_then(|v| v.as_str()), Some("ms"));
        assert!(t.get("sha256").is_none(), "an unpinned file has no hash to write");
        let t = to_table(&d(&"0".repeat(64)), Unit::Count);
        assert!(t.get("unit").is_none(), "counts have no unit");
        assert_eq!(t.get("sha256").and_then(|v| v.as_str()), Some("0".repeat(64).as_str()));
    }

    #[test]
    fn serialized_form_reads_back_identically() {
        #[derive(Serialize)]
        struct Out<'a> {
            d: &'a DurationDist,
        }
        for text in [
            "d = { dist = \"lognormal\", median = \"300ms\", sigma = 0.5 }",
            "d = { dist = \"pareto\", shape = 1.5, scale = \"1m\" }",
            "d = \"45s\"",
        ] {
            let d = parse(text).unwrap();
            let back = toml::to_string(&Out { d: &d }).unwrap();
            let again = parse(&back).unwrap();
            assert_eq!(d.sample(0.3), again.sample(0.3), "{back}");
        }
    }
}
