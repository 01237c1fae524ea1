//! Thresholds: bounds on summary figures (`recovery_success_rate>=0.95`,
//! `retained_bytes_peak<=2GiB`), written in a scenario's or an experiment's `[thresholds]` or
//! given as `--check`, judged on a run's value or, with replications, on the side of a point's
//! 95% interval that must clear the bound; a pipeline gets a distinct exit code when one fails.
//! `tune`'s target and budgets are the same conditions.

use crate::stats::Estimate;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    AtLeast,
    AtMost,
}

/// `metric>=value` or `metric<=value`; values may carry a size unit (2GiB).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub(crate) metric: String,
    /// As written (`retained_bytes_peak<=2GiB`), for people; `text()` is the canonical form.
    pub(crate) written: String,
    pub(crate) op: Op,
    /// The bound, in the metric's unit (a size like 2GiB is read as bytes).
    pub value: f64,
}

impl Condition {
    /// A bound written `metric>=value` or `metric<=value` on a summary.csv column; otherwise the message to show.
    pub fn parse(s: &str) -> Result<Condition, String> {
        let (metric, op, v) = if let Some((m, v)) = s.split_once(">=") {
            (m, Op::AtLeast, v)
        } else if let Some((m, v)) = s.split_once("<=") {
            (m, Op::AtMost, v)
        } else {
            return Err(format!(
                "\"{}\": write metric>=value (at least) or metric<=value (at most), e.g. recovery_success_rate>=0.95",
                crate::error::shown(s, 200)
            ));
        };
        let metric = metric.trim().to_string();
        if !crate::run::summary_columns().contains(&metric) {
            return Err(not_a_column(&metric));
        }
        let v = v.trim();
        let value = v
            .parse::<f64>()
            .ok()
            .or_else(|| crate::engine::parse_size(v).ok().map(|b| b as f64))
            .ok_or_else(|| format!("\"{v}\" is not a number or a size like 2GiB"))?;
        if !value.is_finite() {
            return Err(format!("\"{v}\": the bound must be a finite number"));
        }
        let written = format!("{metric}{}{v}", if op == Op::AtLeast { ">=" } else { "<=" });
        Ok(Condition { metric, written, op, value })
    }

    /// Met with 95% confidence: the whole interval on the right side; with one run in all
    /// (`runs` = 1), the run's value. A figure only one of several runs gives (a rate where the
    /// others had no attempt) has no interval and is not met.
    pub(crate) fn met(&self, e: &Estimate, runs: usize) -> bool {
        !too_few(e, runs) && self.holds(self.side(e).0)
    }

    /// Whether `value` is on the right side of the bound (NaN never is).
    fn holds(&self, value: f64) -> bool {
        match self.op {
            Op::AtLeast => value >= self.value,
            Op::AtMost => value <= self.value,
        }
    }

    /// The value of `e` that must clear the bound, and which it is: the interval's lower bound
    /// for `>=`, its upper bound for `<=`, the mean when there is no interval.
    fn side(&self, e: &Estimate) -> (f64, &'static str) {
        match (self.op, e.lo.is_finite()) {
            (_, false) => (e.mean, "mean"),
            (Op::AtLeast, true) => (e.lo, "ci95_lo"),
            (Op::AtMost, true) => (e.hi, "ci95_hi"),
        }
    }

    /// The bound for a plot or a table: `≥ 0.95`, `≤ 2.0 GiB`.
    pub(crate) fn bound_text(&self) -> String {
        let v = crate::output::quantity::bound(&self.metric, self.value);
        format!("{} {v}", if self.op == Op::AtLeast { "≥" } else { "≤" })
    }

    /// `retained_bytes_peak ≤ 2.0 GiB`: the condition for a report.
    pub(crate) fn human(&self) -> String {
        format!("{} {}", self.metric, self.bound_text())
    }
}

pub use crate::model::params::Bounds;

/// `"x" is not a summary.csv column`, with the column it most likely stands for.
pub(crate) fn not_a_column(metric: &str) -> String {
    let known = crate::run::summary_columns();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let hint = match crate::error::nearest(metric, &known) {
        Some(k) => format!("; did you mean `{k}`?"),
        None => String::new(),
    };
    format!(
        "\"{}\" is not a summary.csv column{hint} (see README, summary.csv columns)",
        crate::error::shown(metric, 80)
    )
}

/// Every condition of a `[thresholds]` table, in the canonical `metric>=value` form, or the
/// field (`thresholds.<metric>`) and what is wrong with it.
pub fn from_table(t: &BTreeMap<String, Bounds>) -> Result<Vec<Condition>, (String, String)> {
    let mut out = Vec::new();
    for (metric, b) in t {
        let list = match b {
            Bounds::One(x) => std::slice::from_ref(x),
            Bounds::Many(v) => v.as_slice(),
        };
        for bound in list {
            let b = bound.trim();
            if !(b.starts_with(">=") || b.starts_with("<=")) {
                let v = crate::error::shown(b.trim_start_matches(['>', '<', '=', ' ']), 40);
                return Err((
                    format!("thresholds.{metric}"),
                    format!(
                        "\"{}\" has no operator: write \">={v}\" (at least) or \"<={v}\" (at most)",
                        crate::error::shown(b, 40)
                    ),
                ));
            }
            let c = Condition::parse(&format!("{metric}{b}")).map_err(|m| {
                (format!("thresholds.{metric}"), format!("{m} (write a bound as \">=0.95\" or \"<=2GiB\")"))
            })?;
            out.push(c);
        }
    }
    Ok(out)
}

/// One threshold judged on one result (a run, or a point of an experiment).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// The condition as written, `metric>=value`.
    pub check: String,
    /// The summary column it bounds.
    pub metric: String,
    /// The experiment point it was judged on (`retention=5m`); empty for a single run.
    pub point: String,
    /// The value judged: the run's, or the interval's bound that must clear the threshold.
    pub value: f64,
    /// Which value that is: "value", "mean" (one replication), "ci95_lo", "ci95_hi", or
    /// "fewer than 2 runs" (a figure one of several runs gives: never passed).
    pub basis: &'static str,
    /// Whether it holds.
    pub passed: bool,
}

impl Condition {
    /// The summary column it bounds.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// The canonical text: `metric>=value`.
    pub fn text(&self) -> String {
        format!("{}{}{}", self.metric, if self.op == Op::AtLeast { ">=" } else { "<=" }, self.value)
    }

    /// Judge a single run's `value` (NaN never passes).
    pub fn judge_value(&self, value: f64, point: &str) -> Verdict {
        Verdict {
            check: self.written.clone(),
            metric: self.metric.clone(),
            point: point.to_string(),
            value,
            basis: "value",
            passed: self.holds(value),
        }
    }

    /// Judge a point's estimate over its `runs` runs: the side of its 95% interval that must
    /// clear the bound (the mean with one replication); never passed on a figure fewer than two
    /// of several runs give (see `met`).
    pub fn judge_estimate(&self, e: &Estimate, point: &str, runs: usize) -> Verdict {
        if too_few(e, runs) {
            return Verdict { basis: "fewer than 2 runs", passed: false, ..self.judge_value(e.mean, point) };
        }
        let (value, basis) = self.side(e);
        Verdict { basis, ..self.judge_value(value, point) }
    }
}

/// Whether `e`, of a point with `runs` runs, rests on too few of them for any confidence: one
/// (or none) of several.
fn too_few(e: &Estimate, runs: usize) -> bool {
    runs > 1 && e.n < 2
}

/// Conditions from `--check` arguments.
pub fn parse_all(exprs: &[String]) -> Result<Vec<Condition>, String> {
    exprs.iter().map(|e| Condition::parse(e).map_err(|m| format!("--check {e}: {m}"))).collect()
}

/// Every verdict passed (true for none).
pub fn all_passed(v: &[Verdict]) -> bool {
    v.iter().all(|x| x.passed)
}

/// How a JUnit report impsim writes starts (so `--force` replaces only those).
pub const JUNIT_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- impsim thresholds -->\n";

/// The verdicts as a JUnit XML report, one test case per check at each point, so that a CI
/// system shows each threshold (`suite`: the scenario's or experiment's name). A failed check
/// is a `<failure>` saying the value judged and on which basis.
pub fn junit(suite: &str, verdicts: &[Verdict]) -> String {
    let esc = |t: &str| {
        t.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                c if c.is_control() && c != '\n' => " ".to_string(),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    let mut s = format!(
        "{JUNIT_HEAD}<testsuites name=\"impsim\" tests=\"{}\" failures=\"{failed}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n",
        verdicts.len(),
        esc(suite),
        verdicts.len()
    );
    for v in verdicts {
        let name = if v.point.is_empty() { v.check.clone() } else { format!("{} at {}", v.check, v.point) };
        let value = crate::run::human_figure(&v.metric, v.value);
        s += &format!("    <testcase classname=\"impsim.thresholds.{}\" name=\"{}\"", esc(suite), esc(&name));
        if v.passed {
            s += "/>\n";
        } else {
            s += &format!(
                ">\n      <failure message=\"{}\" type=\"threshold\">{} judged on {}: {}</failure>\n    </testcase>\n",
                esc(&format!("{name}: {value} ({})", v.basis)),
                esc(&v.metric),
                esc(v.basis),
                esc(&value)
            );
        }
    }
    s + "  </testsuite>\n</testsuites>\n"
}

/// Put `verdicts` into a JSON object (a manifest, summary.json, points.json) as `thresholds`
/// and `thresholds_passed`; nothing when there are none.
pub fn record(verdicts: &[Verdict], into: &mut serde_json::Value) {
    if !verdicts.is_empty() {
        into["thresholds"] = serde_json::to_value(verdicts).unwrap_or_default();
        into["thresholds_passed"] = all_passed(verdicts).into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_has_a_case_per_check_and_a_failure_for_each_failed_one() {
        let ok = Verdict {
            check: "recovery_success_rate>=0.5".into(),
            metric: "recovery_success_rate".into(),
            point: "retention=2h".into(),
            value: 0.8462,
            basis: "ci95_lo",
            passed: true,
        };
        let bad = Verdict { point: "retention=<0s>".into(), value: 0.1676, passed: false, ..ok.clone() };
        let x = junit("retention_sweep", &[ok, bad]);
        assert!(x.starts_with(JUNIT_HEAD));
        assert!(x.contains("<testsuite name=\"retention_sweep\" tests=\"2\" failures=\"1\">"), "{x}");
        assert!(x.contains("name=\"recovery_success_rate&gt;=0.5 at retention=2h\"/>"), "{x}");
        assert!(x.contains("name=\"recovery_success_rate&gt;=0.5 at retention=&lt;0s&gt;\">"), "{x}");
        assert!(
            x.contains("<failure message=\"recovery_success_rate&gt;=0.5 at retention=&lt;0s&gt;: 0.1676 (ci95_lo)\""),
            "{x}"
        );
        assert_eq!(x.matches("<testcase").count(), 2);
        assert_eq!(x.matches("<failure").count(), 1);
        assert!(junit("s", &[]).contains("tests=\"0\" failures=\"0\""));
    }

    fn est(mean: f64, lo: f64, hi: f64) -> Estimate {
        Estimate { n: 3, mean, sd: 0.1, lo, hi }
    }

    #[test]
    fn a_bound_is_judged_on_the_side_of_the_interval_that_must_clear_it() {
        let at_least = Condition::parse("recovery_success_rate>=0.95").unwrap();
        let v = at_least.judge_estimate(&est(0.96, 0.94, 0.98), "retention=2h", 3);
        assert_eq!((v.passed, v.basis, v.value), (false, "ci95_lo", 0.94), "the mean passes, the interval does not");
        assert!(at_least.judge_estimate(&est(0.97, 0.95, 0.99), "", 3).passed, "equal to the bound holds");
        let at_most = Condition::parse("retained_bytes_peak<=2GiB").unwrap();
        assert_eq!(at_most.value, 2.0 * 1024.0 * 1024.0 * 1024.0);
        let v = at_most.judge_estimate(&est(1e9, 0.9e9, 2.2e9), "", 3);
        assert_eq!((v.passed, v.basis), (false, "ci95_hi"));
        // One replication: the mean.
        let one = Estimate { n: 1, mean: 0.96, sd: f64::NAN, lo: f64::NAN, hi: f64::NAN };
        assert_eq!(at_least.judge_estimate(&one, "", 1).basis, "mean");
        assert!(at_least.judge_estimate(&one, "", 1).passed);
        assert!(at_least.met(&one, 1));
        // One run of three gave the figure (the others had no attempt): no confidence, not met.
        let v = at_least.judge_estimate(&one, "", 3);
        assert_eq!((v.passed, v.basis, v.value), (false, "fewer than 2 runs", 0.96));
        assert!(!at_least.met(&one, 3));
        let none = Estimate { n: 0, ..one };
        assert!(!at_least.met(&none, 3));
        // Two of three runs give an interval: judged on it.
        let two = Estimate { n: 2, mean: 0.97, sd: 0.01, lo: 0.96, hi: 0.98 };
        assert!(at_least.met(&two, 3));
        assert_eq!(at_least.judge_estimate(&two, "", 3).basis, "ci95_lo");
        assert!(!at_least.judge_value(f64::NAN, "").passed, "no value never passes");
        assert_eq!(at_least.text(), "recovery_success_rate>=0.95");
        assert_eq!(at_most.judge_value(1.0, "").check, "retained_bytes_peak<=2GiB", "shown as written");
    }

    #[test]
    fn a_thresholds_table_names_the_field_it_cannot_read() {
        let mut t = BTreeMap::new();
        t.insert("recovery_success_rate".to_string(), Bounds::Many(vec![">=0.5".into(), "<= 0.99".into()]));
        t.insert("retained_bytes_peak".to_string(), Bounds::One("<=1MiB".into()));
        let c = from_table(&t).unwrap();
        let texts: Vec<String> = c.iter().map(|c| c.text()).collect();
        assert_eq!(
            texts,
            ["recovery_success_rate>=0.5", "recovery_success_rate<=0.99", "retained_bytes_peak<=1048576"]
        );
        t.insert("recovery_sucess_rate".to_string(), Bounds::One(">=0.9".into()));
        let (field, why) = from_table(&t).unwrap_err();
        assert_eq!(field, "thresholds.recovery_sucess_rate");
        assert!(why.contains("not a summary.csv column"), "{why}");
        let mut bad = BTreeMap::new();
        bad.insert("recovery_success_rate".to_string(), Bounds::One("0.9".into()));
        let why = from_table(&bad).unwrap_err().1;
        assert!(why.contains("has no operator") && why.contains("\">=0.9\" (at least)"), "{why}");
        assert!(parse_all(&["recovery_success_rate=>0.9".into()]).unwrap_err().starts_with("--check"));
    }
}
