//! `impsim compare OLD NEW`: two results (runs or experiments, e.g. before and after a settings
//! change or an impsim upgrade) side by side on the key figures: old, new, the difference and
//! its 95% interval, and a verdict. A difference counts when it is significant (Welch's interval
//! for replications, the pooled two-proportion test for the recovery rate) and larger than the
//! tolerance (a share of the old value). Without an interval (fewer than two runs a side) a
//! change beyond the tolerance is shown as "(untested)" and is never a regression.

use crate::Error;
use crate::stats::difference::{Difference, proportions, welch};
use crate::stats::estimate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Which way is better for a figure.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Better {
    /// More is better (a recovery rate).
    Higher,
    /// Less is better (memory, traffic, time to restore).
    Lower,
}

/// The figures compared and which way is better.
pub const KEY: [(&str, Better); 10] = [
    ("recovery_success_rate", Better::Higher),
    ("retained_bytes_mean", Better::Lower),
    ("retained_bytes_peak", Better::Lower),
    ("retained_contexts_mean", Better::Lower),
    ("active_bytes_mean", Better::Lower),
    ("transactions", Better::Lower),
    ("bytes_total", Better::Lower),
    ("restore_recovered_ms_p50", Better::Lower),
    ("restore_recovered_ms_p99", Better::Lower),
    ("restore_fresh_ms_p50", Better::Lower),
];

/// One result's values of each figure, per point (a run is one point, "base").
struct Side {
    /// Point label to (column to the values of its runs).
    points: BTreeMap<String, BTreeMap<String, Vec<f64>>>,
    /// Point labels in the result's own order.
    order: Vec<String>,
    name: String,
}

fn read_side(dir: &Path) -> Result<Side, Error> {
    let m = crate::output::finished_manifest(&dir.join("manifest.json"))?;
    if m["mode"] == "live" {
        return Err(Error::Usage(format!("{}: a live run; compare runs and experiments", dir.display())));
    }
    if m["shard"].is_string() {
        return Err(Error::Usage(format!(
            "{}: one shard of an experiment; merge the shards (impsim merge) and compare the whole",
            dir.display()
        )));
    }
    if m.get("experiment").is_some() {
        let (meta, records) = crate::experiment::results::read_runs(dir)?;
        let mut points = BTreeMap::new();
        let mut order = Vec::new();
        for p in 0..meta.points.len() {
            let label = meta.point_label(p);
            let runs: Vec<_> = records.iter().filter(|r| r.point == p).collect();
            let cols: BTreeMap<String, Vec<f64>> = runs
                .first()
                .map(|r| r.columns.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    let v = runs.iter().map(|r| r.get(&c).unwrap_or(f64::NAN)).collect();
                    (c, v)
                })
                .collect();
            order.push(label.clone());
            points.insert(label, cols);
        }
        Ok(Side { points, order, name: meta.name.clone() })
    } else if m.get("scenario_file").is_some() {
        let sp = dir.join("summary.csv");
        let text = crate::output::read_text(&sp, crate::output::MANIFEST_LIMIT)
            .map_err(|e| Error::Usage(format!("{}: cannot read it: {e}", sp.display())))?;
        let mut lines = text.lines();
        let (Some(h), Some(v)) = (lines.next(), lines.next()) else {
            return Err(Error::Usage(format!("{}: not a summary impsim wrote", sp.display())));
        };
        let cols =
            h.split(',').zip(v.split(',')).map(|(k, x)| (k.to_string(), vec![x.parse().unwrap_or(f64::NAN)])).collect();
        let name = m["scenario"]["name"].as_str().unwrap_or("run").to_string();
        Ok(Side { points: BTreeMap::from([("base".to_string(), cols)]), order: vec!["base".into()], name })
    } else {
        Err(Error::Usage(format!(
            "{}: not a result impsim wrote (neither a run's nor an experiment's manifest)",
            dir.display()
        )))
    }
}

/// A figure at a point, old against new.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The point (`retention=2h`; `base` for a single run or an experiment without axes).
    pub point: String,
    /// The summary column.
    pub metric: String,
    /// Its unit (see summary.json).
    pub unit: &'static str,
    /// Which way is better.
    pub better: Better,
    /// The old and new estimates (the mean over runs; for the recovery rate, successes over
    /// attempts pooled over runs) and their number of runs.
    pub old: f64,
    /// See `old`.
    pub new: f64,
    /// See `old`.
    pub n_old: usize,
    /// See `old`.
    pub n_new: usize,
    /// new - old, and its 95% interval (NaN: none, one run each).
    pub diff: f64,
    /// See `diff`.
    pub lo: f64,
    /// See `diff`.
    pub hi: f64,
    /// How the verdict was reached: "welch", "pooled binomial" or "none (fewer than 2 runs a side)".
    pub test: &'static str,
    /// "better", "worse", "no significant change", or "better (untested)" / "worse (untested)"
    /// for a change beyond the tolerance without an interval.
    pub verdict: &'static str,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The two results' names.
    pub old_name: String,
    /// See `old_name`.
    pub new_name: String,
    /// The tolerance: a difference smaller than this share of the old value is no change.
    pub tolerance: f64,
    /// Every figure at every point both have.
    pub rows: Vec<Row>,
    /// Points only one of them has.
    pub only_old: Vec<String>,
    /// See `only_old`.
    pub only_new: Vec<String>,
}

impl Comparison {
    /// Rows whose verdict is "worse".
    pub fn regressions(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict == "worse").count()
    }
}

/// One figure at one point: the estimates, the interval and the verdict.
pub fn judge(
    metric: &str,
    better: Better,
    old: &BTreeMap<String, Vec<f64>>,
    new: &BTreeMap<String, Vec<f64>>,
    tolerance: f64,
) -> Option<Row> {
    let (a, b) = (old.get(metric)?, new.get(metric)?);
    let sum =
        |m: &BTreeMap<String, Vec<f64>>, c: &str| m.get(c).map(|v| v.iter().filter(|x| x.is_finite()).sum::<f64>());
    let counts = (
        sum(old, "recovery_successes"),
        sum(old, "recovery_attempts"),
        sum(new, "recovery_successes"),
        sum(new, "recovery_attempts"),
    );
    let (o, n, d, test): (f64, f64, Option<Difference>, &'static str) = match counts {
        (Some(s1), Some(a1), Some(s2), Some(a2)) if metric == "recovery_success_rate" => {
            (s1 / a1, s2 / a2, proportions(s1, a1, s2, a2), "pooled binomial")
        }
        _ => (estimate(a).mean, estimate(b).mean, welch(a, b), "welch"),
    };
    let big = |x: f64| x.abs() > tolerance * o.abs();
    let (diff, lo, hi, changed, test) = match d {
        Some(d) => (d.diff, d.lo, d.hi, d.significant && big(d.diff), test),
        None => (n - o, f64::NAN, f64::NAN, (n - o).is_finite() && big(n - o), "none (fewer than 2 runs a side)"),
    };
    // Without an interval a change beyond the tolerance is shown, not called significant: with
    // one run a side, another seed alone moves the figures.
    let verdict = match (changed, (diff > 0.0) == (better == Better::Higher), d.is_some()) {
        (false, _, _) => "no significant change",
        (true, true, true) => "better",
        (true, false, true) => "worse",
        (true, true, false) => "better (untested)",
        (true, false, false) => "worse (untested)",
    };
    Some(Row {
        point: String::new(),
        metric: metric.to_string(),
        unit: crate::output::quantity::unit_of(metric),
        better,
        old: o,
        new: n,
        n_old: estimate(a).n,
        n_new: estimate(b).n,
        diff,
        lo,
        hi,
        test,
        verdict,
    })
}

/// Compare two result folders on the key figures at every point both have.
pub fn compare(old_dir: &Path, new_dir: &Path, tolerance: f64) -> Result<Comparison, Error> {
    let (old, new) = (read_side(old_dir)?, read_side(new_dir)?);
    let mut rows = Vec::new();
    for p in old.order.iter().filter(|p| new.points.contains_key(*p)) {
        for (metric, better) in KEY {
            if let Some(r) = judge(metric, better, &old.points[p], &new.points[p], tolerance) {
                rows.push(Row { point: p.clone(), ..r });
            }
        }
    }
    if rows.is_empty() {
        return Err(Error::Usage(format!(
            "{} and {} have no point in common (points: {:?} and {:?}); compare results of the same sweep",
            old_dir.display(),
            new_dir.display(),
            old.order,
            new.order
        )));
    }
    Ok(Comparison {
        old_name: old.name,
        new_name: new.name,
        tolerance,
        only_old: old.order.iter().filter(|p| !new.points.contains_key(*p)).cloned().collect(),
        only_new: new.order.iter().filter(|p| !old.points.contains_key(*p)).cloned().collect(),
        rows,
    })
}

/// The comparison as a Markdown page: a table per point, human units.
pub fn markdown(c: &Comparison, old_dir: &str, new_dir: &str) -> String {
    let h = crate::run::human_figure;
    let worse = c.regressions();
    let mut s = format!(
        "<!-- impsim compare -->\n# {} (old) against {} (new)\n\nOld `{old_dir}`, new `{new_dir}`. A difference counts when it is significant at \
         5% (Welch's interval over replications; the pooled two-proportion test for the recovery rate) and larger \
         than {:.1}% of the old value; without an interval (fewer than 2 runs a side) a larger change is shown as \
         untested and is no regression.\n\n**{}**\n",
        c.old_name,
        c.new_name,
        c.tolerance * 100.0,
        if worse == 0 {
            "No significant regression.".to_string()
        } else {
            format!("{worse} significant regression{}.", if worse == 1 { "" } else { "s" })
        }
    );
    let mut point = None;
    for r in &c.rows {
        if point != Some(&r.point) {
            point = Some(&r.point);
            s += &format!(
                "\n## {}\n\n| figure | old | new | difference | 95% interval | n old/new | test | verdict |\n|---|---|---|---|---|---|---|---|\n",
                r.point
            );
        }
        let interval =
            if r.lo.is_finite() { format!("{} .. {}", h(&r.metric, r.lo), h(&r.metric, r.hi)) } else { "-".into() };
        let verdict = if r.verdict == "worse" { "**worse**" } else { r.verdict };
        s += &format!(
            "| {} | {} | {} | {} | {interval} | {}/{} | {} | {verdict} |\n",
            r.metric,
            h(&r.metric, r.old),
            h(&r.metric, r.new),
            h(&r.metric, r.diff),
            r.n_old,
            r.n_new,
            r.test
        );
    }
    for (which, pts) in [("old", &c.only_old), ("new", &c.only_new)] {
        if !pts.is_empty() {
            s += &format!("\nOnly in the {which} result, not compared: {}.\n", pts.join("; "));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(rate: &[(f64, f64)], bytes: &[f64]) -> BTreeMap<String, Vec<f64>> {
        BTreeMap::from([
            ("recovery_successes".to_string(), rate.iter().map(|x| x.0).collect()),
            ("recovery_attempts".to_string(), rate.iter().map(|x| x.1).collect()),
            ("recovery_success_rate".to_string(), rate.iter().map(|x| x.0 / x.1).collect()),
            ("retained_bytes_mean".to_string(), bytes.to_vec()),
        ])
    }

    #[test]
    fn a_planted_regression_is_worse_and_an_unchanged_pair_is_not() {
        let old = side(&[(900.0, 1000.0), (910.0, 1000.0), (905.0, 1000.0)], &[100.0, 102.0, 98.0]);
        // Recovery down 5 points: worse. Memory down 20%: better.
        let new = side(&[(850.0, 1000.0), (860.0, 1000.0), (855.0, 1000.0)], &[80.0, 81.0, 79.0]);
        let r = judge("recovery_success_rate", Better::Higher, &old, &new, 0.01).unwrap();
        assert_eq!((r.verdict, r.test), ("worse", "pooled binomial"));
        assert!((r.diff + 0.05).abs() < 1e-12 && r.hi < 0.0);
        let m = judge("retained_bytes_mean", Better::Lower, &old, &new, 0.01).unwrap();
        assert_eq!((m.verdict, m.test, m.diff), ("better", "welch", -20.0));
        // The same results: no change.
        assert_eq!(
            judge("retained_bytes_mean", Better::Lower, &old, &old, 0.01).unwrap().verdict,
            "no significant change"
        );
        // Significant but under the tolerance: no change; with no tolerance, worse.
        let tight = side(&[(900.0, 1000.0)], &[100.0, 100.1, 99.9]);
        let up = side(&[(900.0, 1000.0)], &[100.5, 100.6, 100.4]);
        let t = judge("retained_bytes_mean", Better::Lower, &tight, &up, 0.01).unwrap();
        assert!(t.lo > 0.0 && t.verdict == "no significant change", "{t:?}");
        assert_eq!(judge("retained_bytes_mean", Better::Lower, &tight, &up, 0.0).unwrap().verdict, "worse");
        let noisy = side(&[(900.0, 1000.0)], &[100.5, 102.5, 98.5]);
        assert_eq!(
            judge("retained_bytes_mean", Better::Lower, &old, &noisy, 0.0).unwrap().verdict,
            "no significant change"
        );
        // One run each: no interval; a change beyond the tolerance is shown, untested.
        let (a, b) = (side(&[(1.0, 2.0)], &[100.0]), side(&[(1.0, 2.0)], &[103.0]));
        let one = judge("retained_bytes_mean", Better::Lower, &a, &b, 0.01).unwrap();
        assert_eq!((one.verdict, one.test), ("worse (untested)", "none (fewer than 2 runs a side)"));
        assert!(one.lo.is_nan());
        assert_eq!(judge("retained_bytes_mean", Better::Lower, &a, &b, 0.05).unwrap().verdict, "no significant change");
        assert!(judge("transactions", Better::Lower, &a, &b, 0.01).is_none(), "a column neither has");
    }
}
