//! `impsim compare OLD NEW`: two results (runs or experiments, e.g. before and after a settings
//! change or an impsim upgrade) side by side on the key figures: old, new, the difference and
//! its 95% interval, and a verdict. A difference counts when it is significant (Welch's interval
//! for replications, the pooled two-proportion test for the recovery rate) and larger than the
//! tolerance (a share of the old value). Without an interval (fewer than two runs a side) a
//! change beyond the tolerance is shown as "(untested)" and is never a regression.

use crate::Error;
use crate::experiment::results::{Meta, RunRecord};
use crate::stats::difference::{Measured, between, binomial_se, holm};
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
    /// Its manifest: the settings it was computed from.
    manifest: serde_json::Value,
}

impl Side {
    /// The settings behind the figures at `point`, as dotted fields to text: impsim's version
    /// and commit, the seed, an experiment's replications and crn, the resolved scenario.
    fn settings(&self, point: Option<&str>) -> BTreeMap<String, String> {
        let m = &self.manifest;
        let mut out = BTreeMap::new();
        let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        for k in ["impsim_version", "impsim_commit"] {
            out.insert(k.to_string(), text(&m[k]));
        }
        let scenario = if let Some(e) = m.get("experiment") {
            out.insert("kind".into(), "experiment".into());
            for k in ["seed", "replications", "crn"] {
                out.insert(k.to_string(), text(&e[k]));
            }
            let p = point.and_then(|p| self.order.iter().position(|x| x == p)).unwrap_or(0);
            e["scenarios"][p].clone()
        } else {
            out.insert("kind".into(), "run".into());
            out.insert("seed".into(), text(&m["seed"]));
            m["scenario"].clone()
        };
        let mut fields = BTreeMap::new();
        flatten("", &scenario, &mut fields);
        // The seed and the name are said once, above; a run's own seed is the scenario's.
        fields.remove("seed");
        fields.remove("name");
        out.extend(fields);
        out
    }
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
        Ok(experiment_side(&meta, &records, m))
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
        Ok(Side { points: BTreeMap::from([("base".to_string(), cols)]), order: vec!["base".into()], name, manifest: m })
    } else {
        Err(Error::Usage(format!(
            "{}: not a result impsim wrote (neither a run's nor an experiment's manifest)",
            dir.display()
        )))
    }
}

/// An experiment's runs as one side of a comparison.
fn experiment_side(meta: &Meta, records: &[RunRecord], manifest: serde_json::Value) -> Side {
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
    Side { points, order, name: meta.name.clone(), manifest }
}

/// Compare two experiments' runs in memory (what `compare` does with their folders); None when
/// they have no point in common.
pub fn compare_experiments(
    old: (&Meta, &[RunRecord]),
    new: (&Meta, &[RunRecord]),
    tolerance: f64,
) -> Option<Comparison> {
    let side = |(meta, runs): (&Meta, &[RunRecord])| {
        let manifest = serde_json::json!({ "experiment": meta, "impsim_version": meta.impsim_version });
        experiment_side(meta, runs, manifest)
    };
    compare_sides(side(old), side(new), tolerance)
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
    /// The old and new estimates (the mean over runs; for one run, its value) and their number
    /// of runs.
    pub old: f64,
    /// See `old`.
    pub new: f64,
    /// See `old`.
    pub n_old: usize,
    /// See `old`.
    pub n_new: usize,
    /// new - old, and its 95% interval (NaN: untested).
    pub diff: f64,
    /// See `diff`.
    pub lo: f64,
    /// See `diff`.
    pub hi: f64,
    /// How it was tested: "welch" (replications a side), "batch means" (one run a side: the
    /// runs' own intervals of the recovery rate), or "none (fewer than 2 runs a side)".
    pub test: &'static str,
    /// The figure's own two-sided p-value of "no difference" (NaN: untested).
    pub p: f64,
    /// The p-value adjusted by Holm's method over every test of the comparison (NaN: untested):
    /// the verdict rests on this one.
    pub p_holm: f64,
    /// "better", "worse", "no significant change", or "better (untested)" / "worse (untested)"
    /// for a change beyond the tolerance without a test.
    pub verdict: &'static str,
}

/// A setting that differs between the two results.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Setting {
    /// What (`seed`, `impsim_version`, a scenario field such as `retention`).
    pub field: String,
    /// Its value in the old result (`-` when absent).
    pub old: String,
    /// See `old`.
    pub new: String,
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
    /// The family-wise error rate the verdicts keep: the chance that two results of the same
    /// settings show any regression.
    pub alpha: f64,
    /// Tests behind the verdicts (the size of Holm's family).
    pub tests: usize,
    /// What differs between the two results: versions, seeds, replications, scenario fields.
    pub differences: Vec<Setting>,
    /// Every figure at every point both have.
    pub rows: Vec<Row>,
    /// The points compared (both have them).
    pub points: Vec<String>,
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

    /// The verdict in one line: regressions or none, the family and the points compared.
    pub fn headline(&self) -> String {
        let worse = self.regressions();
        let verdict = match worse {
            0 => "No significant regression".to_string(),
            1 => "1 significant regression".to_string(),
            n => format!("{n} significant regressions"),
        };
        let mut s = format!(
            "{verdict} ({} test{} at {} point{}, Holm-adjusted: family-wise false-alarm rate {:.0}%)",
            self.tests,
            if self.tests == 1 { "" } else { "s" },
            self.points.len(),
            if self.points.len() == 1 { "" } else { "s" },
            self.alpha * 100.0
        );
        if !self.only_old.is_empty() || !self.only_new.is_empty() {
            s += &format!(
                "; the sweeps overlap only in part: {} of the old result's {} points and {} of the new result's {} compared",
                self.points.len(),
                self.points.len() + self.only_old.len(),
                self.points.len(),
                self.points.len() + self.only_new.len()
            );
        }
        s + "."
    }
}

/// The family-wise error rate of compare's verdicts.
pub const ALPHA: f64 = 0.05;

/// Degrees of freedom of a run's batch-means interval (10 batches).
const BATCH_DF: f64 = 9.0;

/// One figure at one point: the estimates, the interval and the test's p-value; the verdict is
/// set once the whole family's p-values are adjusted (`verdicts`).
pub fn judge(
    metric: &str,
    better: Better,
    old: &BTreeMap<String, Vec<f64>>,
    new: &BTreeMap<String, Vec<f64>>,
) -> Option<Row> {
    let (a, b) = (old.get(metric)?, new.get(metric)?);
    let (ea, eb) = (estimate(a), estimate(b));
    let rate = metric == "recovery_success_rate";
    let total = |m: &BTreeMap<String, Vec<f64>>, c: &str| {
        m.get(c).map_or(f64::NAN, |v| v.iter().filter(|x| x.is_finite()).sum::<f64>())
    };
    // A rate's error is never below the binomial error of the attempts behind it.
    let floor = if rate {
        binomial_se(
            total(old, "recovery_successes"),
            total(old, "recovery_attempts"),
            total(new, "recovery_successes"),
            total(new, "recovery_attempts"),
        )
    } else {
        0.0
    };
    // One run a side: the recovery rate has each run's batch-means interval.
    let own = |m: &BTreeMap<String, Vec<f64>>, e: &crate::stats::Estimate| {
        let one = |c: &str| m.get(c).and_then(|v| v.first().copied()).unwrap_or(f64::NAN);
        Measured::of_interval(
            e.mean,
            one("recovery_success_rate_ci95_lo"),
            one("recovery_success_rate_ci95_hi"),
            BATCH_DF,
        )
    };
    let tested = match (Measured::of_runs(a), Measured::of_runs(b)) {
        (Some(x), Some(y)) => Some((between(x, y, floor), "welch")),
        _ if rate && ea.n == 1 && eb.n == 1 => {
            own(old, &ea).zip(own(new, &eb)).map(|(x, y)| (between(x, y, floor), "batch means"))
        }
        _ => None,
    };
    let (diff, lo, hi, p, test) = match tested {
        Some((d, test)) => (d.diff, d.lo, d.hi, d.p, test),
        None => (eb.mean - ea.mean, f64::NAN, f64::NAN, f64::NAN, "none (fewer than 2 runs a side)"),
    };
    Some(Row {
        point: String::new(),
        metric: metric.to_string(),
        unit: crate::output::quantity::unit_of(metric),
        better,
        old: ea.mean,
        new: eb.mean,
        n_old: ea.n,
        n_new: eb.n,
        diff,
        lo,
        hi,
        test,
        p,
        p_holm: f64::NAN,
        verdict: "no significant change",
    })
}

/// Adjust every row's p-value over the whole family (Holm) and give each its verdict: a change
/// counts when its adjusted p is below `ALPHA` and it is larger than `tolerance` (a share of the
/// old value). Without a test a change beyond the tolerance is shown, never a regression: with
/// one run a side another seed alone moves the figures. Returns the family's size.
pub fn verdicts(rows: &mut [Row], tolerance: f64) -> usize {
    let adjusted = holm(&rows.iter().map(|r| r.p).collect::<Vec<_>>());
    for (r, p) in rows.iter_mut().zip(adjusted) {
        r.p_holm = p;
        let big = r.diff.is_finite() && r.diff.abs() > tolerance * r.old.abs();
        let good = (r.diff > 0.0) == (r.better == Better::Higher);
        r.verdict = match (big, good, r.p.is_nan()) {
            (false, _, _) => "no significant change",
            (true, true, true) => "better (untested)",
            (true, false, true) => "worse (untested)",
            (true, _, false) if p >= ALPHA => "no significant change",
            (true, true, false) => "better",
            (true, false, false) => "worse",
        };
    }
    rows.iter().filter(|r| !r.p.is_nan()).count()
}

/// Compare two result folders on the key figures at every point both have.
pub fn compare(old_dir: &Path, new_dir: &Path, tolerance: f64) -> Result<Comparison, Error> {
    let (old, new) = (read_side(old_dir)?, read_side(new_dir)?);
    let (a, b) = (old.order.clone(), new.order.clone());
    compare_sides(old, new, tolerance).ok_or_else(|| {
        Error::Usage(format!(
            "{} and {} have no point in common (points: {a:?} and {b:?}); compare results of the same sweep",
            old_dir.display(),
            new_dir.display(),
        ))
    })
}

fn compare_sides(old: Side, new: Side, tolerance: f64) -> Option<Comparison> {
    let points: Vec<String> = old.order.iter().filter(|p| new.points.contains_key(*p)).cloned().collect();
    let mut rows = Vec::new();
    for p in &points {
        for (metric, better) in KEY {
            if let Some(r) = judge(metric, better, &old.points[p], &new.points[p]) {
                rows.push(Row { point: p.clone(), ..r });
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    let tests = verdicts(&mut rows, tolerance);
    let differences = settings_differ(&old, &new, points.first().map(String::as_str));
    Some(Comparison {
        old_name: old.name,
        new_name: new.name,
        tolerance,
        alpha: ALPHA,
        tests,
        differences,
        only_old: old.order.iter().filter(|p| !new.points.contains_key(*p)).cloned().collect(),
        only_new: new.order.iter().filter(|p| !old.points.contains_key(*p)).cloned().collect(),
        points,
        rows,
    })
}

/// What differs between two results' settings: impsim's version and commit, the seed,
/// replications and common random numbers, and every field of the resolved scenario (of the
/// first point both have, for experiments: the swept values are equal there by construction).
fn settings_differ(old: &Side, new: &Side, point: Option<&str>) -> Vec<Setting> {
    let (a, b) = (old.settings(point), new.settings(point));
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out: Vec<Setting> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| Setting {
            field: k.clone(),
            old: a.get(k).cloned().unwrap_or_else(|| "-".into()),
            new: b.get(k).cloned().unwrap_or_else(|| "-".into()),
        })
        .collect();
    // The run's identity first, then the scenario's fields in name order.
    let first = ["impsim_version", "impsim_commit", "kind", "seed", "replications", "crn"];
    out.sort_by_key(|s| (first.iter().position(|f| *f == s.field).unwrap_or(first.len()), s.field.clone()));
    out
}

/// A JSON value's leaves under dotted paths (`client.offline.median`), as text.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                flatten(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, x, out);
            }
        }
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The comparison as a Markdown page: what differs, the verdict, then a table per point in
/// human units.
pub fn markdown(c: &Comparison, old_dir: &str, new_dir: &str) -> String {
    let h = crate::run::human_figure;
    let mut s = format!(
        "<!-- impsim compare -->\n# {} (old) against {} (new)\n\nOld `{old_dir}`, new `{new_dir}`.\n\n## What differs\n\n",
        c.old_name, c.new_name,
    );
    if c.differences.is_empty() {
        s += "Nothing: the same impsim, seed and settings.\n";
    } else {
        s += "| setting | old | new |\n|---|---|---|\n";
        for d in &c.differences {
            s += &format!("| {} | {} | {} |\n", d.field, cell(&d.old), cell(&d.new));
        }
    }
    s += &format!(
        "\n**{}**\n\nA figure counts as better or worse when its difference is larger than {:.1}% of the old value and \
         significant after Holm's adjustment over all {} tests (the column `p (Holm)` below {:.2}), so that two results \
         of the same settings under other seeds show a false regression in at most {:.0}% of comparisons. The 95% \
         interval and `p` are each figure's own, for information. Tests: Welch's t on the runs' values with \
         replications (a recovery rate's error never below the binomial error of its attempts); with one run a side, \
         only the recovery rate is tested, on the runs' batch-means intervals, and any other change beyond the \
         tolerance is shown as untested, never a regression.\n",
        c.headline(),
        c.tolerance * 100.0,
        c.tests,
        c.alpha,
        c.alpha * 100.0
    );
    let mut point = None;
    for r in &c.rows {
        if point != Some(&r.point) {
            point = Some(&r.point);
            s += &format!(
                "\n## {}\n\n| figure | old | new | difference | 95% interval | n old/new | test | p | p (Holm) | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n",
                r.point
            );
        }
        let interval =
            if r.lo.is_finite() { format!("{} .. {}", h(&r.metric, r.lo), h(&r.metric, r.hi)) } else { "-".into() };
        let verdict = if r.verdict == "worse" { "**worse**" } else { r.verdict };
        s += &format!(
            "| {} | {} | {} | {} | {interval} | {}/{} | {} | {} | {} | {verdict} |\n",
            r.metric,
            h(&r.metric, r.old),
            h(&r.metric, r.new),
            h(&r.metric, r.diff),
            r.n_old,
            r.n_new,
            r.test,
            p_text(r.p),
            p_text(r.p_holm),
        );
    }
    for (which, pts) in [("old", &c.only_old), ("new", &c.only_new)] {
        if !pts.is_empty() {
            s += &format!("\nOnly in the {which} result, not compared: {}.\n", pts.join("; "));
        }
    }
    s
}

/// A p-value for a table: 4 decimals, `< 0.0001` below, `-` for none.
fn p_text(p: f64) -> String {
    if p.is_nan() {
        "-".into()
    } else if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// A setting's value in a Markdown cell: one line, no column breaks, at most 80 characters.
fn cell(v: &str) -> String {
    let one: String = v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let one = one.replace('|', "\\|");
    if one.chars().count() > 80 { format!("{}...", one.chars().take(77).collect::<String>()) } else { one }
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

    /// Judge rows alone (a family of their own) at `tolerance`.
    fn judged(rows: Vec<Option<Row>>, tolerance: f64) -> Vec<Row> {
        let mut rows: Vec<Row> = rows.into_iter().map(Option::unwrap).collect();
        verdicts(&mut rows, tolerance);
        rows
    }

    fn one(
        metric: &str,
        better: Better,
        old: &BTreeMap<String, Vec<f64>>,
        new: &BTreeMap<String, Vec<f64>>,
        tol: f64,
    ) -> Row {
        judged(vec![judge(metric, better, old, new)], tol).remove(0)
    }

    #[test]
    fn a_planted_regression_is_worse_and_an_unchanged_pair_is_not() {
        let old = side(&[(900.0, 1000.0), (910.0, 1000.0), (905.0, 1000.0)], &[100.0, 102.0, 98.0]);
        // Recovery down 5 points: worse. Memory down 20%: better.
        let new = side(&[(850.0, 1000.0), (860.0, 1000.0), (855.0, 1000.0)], &[80.0, 81.0, 79.0]);
        let r = one("recovery_success_rate", Better::Higher, &old, &new, 0.01);
        assert_eq!((r.verdict, r.test), ("worse", "welch"));
        assert!((r.diff + 0.05).abs() < 1e-12 && r.hi < 0.0 && r.p < 0.01, "{r:?}");
        let m = one("retained_bytes_mean", Better::Lower, &old, &new, 0.01);
        assert_eq!((m.verdict, m.test, m.diff), ("better", "welch", -20.0));
        // The same results: no change.
        assert_eq!(one("retained_bytes_mean", Better::Lower, &old, &old, 0.01).verdict, "no significant change");
        // Significant but under the tolerance: no change; with no tolerance, worse.
        let tight = side(&[(900.0, 1000.0)], &[100.0, 100.1, 99.9]);
        let up = side(&[(900.0, 1000.0)], &[100.5, 100.6, 100.4]);
        let t = one("retained_bytes_mean", Better::Lower, &tight, &up, 0.01);
        assert!(t.lo > 0.0 && t.verdict == "no significant change", "{t:?}");
        assert_eq!(one("retained_bytes_mean", Better::Lower, &tight, &up, 0.0).verdict, "worse");
        let noisy = side(&[(900.0, 1000.0)], &[100.5, 102.5, 98.5]);
        assert_eq!(one("retained_bytes_mean", Better::Lower, &old, &noisy, 0.0).verdict, "no significant change");
        // One run each: no interval; a change beyond the tolerance is shown, untested.
        let (a, b) = (side(&[(1.0, 2.0)], &[100.0]), side(&[(1.0, 2.0)], &[103.0]));
        let o = one("retained_bytes_mean", Better::Lower, &a, &b, 0.01);
        assert_eq!((o.verdict, o.test), ("worse (untested)", "none (fewer than 2 runs a side)"));
        assert!(o.lo.is_nan() && o.p.is_nan() && o.p_holm.is_nan());
        assert_eq!(one("retained_bytes_mean", Better::Lower, &a, &b, 0.05).verdict, "no significant change");
        assert!(judge("transactions", Better::Lower, &a, &b).is_none(), "a column neither has");
    }

    #[test]
    fn the_verdict_rests_on_the_holm_adjusted_p_of_the_whole_family() {
        // p about 0.03 alone: worse alone, but not among 10 tests of no change.
        let old = side(&[(900.0, 1000.0)], &[100.0, 101.0, 99.0, 100.5, 99.5]);
        let new = side(&[(900.0, 1000.0)], &[101.3, 102.3, 100.3, 101.8, 100.8]);
        let r = judge("retained_bytes_mean", Better::Lower, &old, &new).unwrap();
        assert!(r.p > 0.01 && r.p < 0.05, "{r:?}");
        assert_eq!(judged(vec![Some(r.clone())], 0.0)[0].verdict, "worse");
        let calm = judge("retained_bytes_mean", Better::Lower, &old, &old).unwrap();
        let mut family = vec![r.clone()];
        family.extend(std::iter::repeat_n(calm, 9));
        let tests = verdicts(&mut family, 0.0);
        assert_eq!(tests, 10);
        assert!((family[0].p_holm - (10.0 * r.p).min(1.0)).abs() < 1e-12, "{:?}", family[0]);
        assert_eq!(family[0].verdict, "no significant change");
        // Untested rows do not count in the family.
        let (a, b) = (side(&[(1.0, 2.0)], &[100.0]), side(&[(1.0, 2.0)], &[103.0]));
        let mut two = vec![r.clone(), judge("retained_bytes_mean", Better::Lower, &a, &b).unwrap()];
        assert_eq!(verdicts(&mut two, 0.0), 1);
        assert_eq!(two[0].verdict, "worse");
    }

    #[test]
    fn two_runs_at_100_percent_are_no_exact_rate() {
        // 46/46 twice against 44/46 twice: without the binomial floor Welch calls it exact.
        let old = side(&[(46.0, 46.0), (46.0, 46.0)], &[1.0, 2.0]);
        let new = side(&[(44.0, 46.0), (44.0, 46.0)], &[1.0, 2.0]);
        let r = one("recovery_success_rate", Better::Higher, &old, &new, 0.0);
        assert!(r.p > 0.05 && r.lo < 0.0 && r.hi > 0.0, "{r:?}");
        assert_eq!(r.verdict, "no significant change");
    }

    #[test]
    fn one_run_a_side_tests_the_rate_on_the_runs_batch_means_intervals() {
        let with_ci = |s: f64, a: f64, lo: f64, hi: f64| {
            let mut m = side(&[(s, a)], &[1.0]);
            m.insert("recovery_success_rate_ci95_lo".into(), vec![lo]);
            m.insert("recovery_success_rate_ci95_hi".into(), vec![hi]);
            m
        };
        // 0.50 +- 0.02 against 0.60 +- 0.03: far apart.
        let r = one(
            "recovery_success_rate",
            Better::Higher,
            &with_ci(500.0, 1000.0, 0.48, 0.52),
            &with_ci(600.0, 1000.0, 0.57, 0.63),
            0.01,
        );
        assert_eq!((r.test, r.verdict), ("batch means", "better"));
        // 0.50 +- 0.05 against 0.52 +- 0.05: within the noise of one run.
        let r = one(
            "recovery_success_rate",
            Better::Higher,
            &with_ci(500.0, 1000.0, 0.45, 0.55),
            &with_ci(520.0, 1000.0, 0.47, 0.57),
            0.01,
        );
        assert_eq!((r.test, r.verdict), ("batch means", "no significant change"));
        // A run without an interval: untested.
        let r = one(
            "recovery_success_rate",
            Better::Higher,
            &side(&[(500.0, 1000.0)], &[1.0]),
            &with_ci(600.0, 1000.0, 0.57, 0.63),
            0.01,
        );
        assert_eq!(r.verdict, "better (untested)");
    }

    #[test]
    fn the_headline_says_when_sweeps_overlap_in_part() {
        let c = Comparison {
            old_name: "a".into(),
            new_name: "b".into(),
            tolerance: 0.01,
            alpha: ALPHA,
            tests: 20,
            differences: vec![],
            rows: vec![],
            points: vec!["retention=5m".into(), "retention=2h".into()],
            only_old: vec!["retention=0s".into()],
            only_new: vec![],
        };
        let h = c.headline();
        assert!(h.starts_with("No significant regression (20 tests at 2 points"), "{h}");
        assert!(h.contains("overlap only in part: 2 of the old result's 3 points and 2 of the new result's 2"), "{h}");
        assert!(!Comparison { only_old: vec![], ..c }.headline().contains("overlap"));
    }
}
