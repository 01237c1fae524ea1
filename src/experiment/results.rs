//! An experiment's outputs: per-run rows (runs.csv, run_timeseries.csv), and from them the
//! per-point statistics (points.csv), mean time series (timeseries.csv), plots and report.md.
//! Everything downstream is computed from the rows' text, so a merge of shards, which reads the
//! rows back, writes exactly the bytes a single-machine run writes.

use super::Experiment;
use super::journal::check_runs;
pub use super::journal::{Journal, read_journal};
use super::report::{answer_json, plots, report};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::metrics::Cell;
use crate::output::tables::{csv_text, sample_cells, write_json};
use crate::output::{OutputError, out_err, write_atomic};
use crate::run::Report;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What identifies an experiment's runs, carried by every shard's manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub(crate) name: String,
    /// What the experiment asks, in the architect's words (report.md's first line).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) question: String,
    pub(crate) description: String,
    pub(crate) file: String,
    #[serde(with = "crate::model::params::seed_text")]
    pub(crate) seed: u64,
    pub(crate) replications: u32,
    pub(crate) axes: Vec<String>,
    /// Display values per point, one per axis.
    pub(crate) points: Vec<Vec<String>>,
    /// Summary columns the experiment asks to plot and tabulate beyond the standard ones.
    #[serde(default)]
    pub(crate) metrics: Vec<String>,
    /// The fully resolved scenario of each point.
    pub(crate) scenarios: Vec<serde_json::Value>,
    /// Common random numbers: replication r of every point used the same seed.
    #[serde(default)]
    pub(crate) crn: bool,
    pub(crate) impsim_version: String,
    /// The `--set` overrides the experiment ran with (its file alone would rerun without them).
    #[serde(default)]
    pub(crate) overrides: Vec<String>,
    /// Every threshold judged at every point (`metric>=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) checks: Vec<String>,
    /// The `--check` arguments among them (the file gives the others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) check_args: Vec<String>,
    /// The answer's target and budgets (`metric>=value`), as the experiment file gives them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) target: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) budgets: Vec<String>,
}

impl Meta {
    /// What identifies experiment `exp`, as every shard's manifest records it.
    pub fn of(exp: &Experiment) -> Meta {
        Meta {
            name: exp.name.clone(),
            question: exp.question.clone(),
            description: exp.description.clone(),
            file: exp.file.clone(),
            seed: exp.seed,
            replications: exp.replications,
            axes: exp.axes.clone(),
            points: exp.points.iter().map(|p| p.values.clone()).collect(),
            metrics: exp.metrics.clone(),
            scenarios: exp.points.iter().map(|p| serde_json::to_value(&p.params).unwrap_or_default()).collect(),
            crn: exp.crn,
            impsim_version: env!("CARGO_PKG_VERSION").to_string(),
            overrides: exp.overrides.clone(),
            checks: exp.checks.clone(),
            check_args: exp.check_args.clone(),
            target: exp.target.clone(),
            budgets: exp.budgets.clone(),
        }
    }
    /// The same experiment, wherever its file was and however its path was typed: everything
    /// but the path and how values were given (the resolved scenarios carry the content of every
    /// input, CSVs and `--set` overrides included).
    pub(crate) fn same_experiment(&self, other: &Meta) -> bool {
        let bare = |m: &Meta| Meta {
            file: String::new(),
            overrides: Vec::new(),
            checks: Vec::new(),
            check_args: Vec::new(),
            ..m.clone()
        };
        bare(self) == bare(other)
    }
    /// Why a sweep started as `self` cannot be finished as `now` although it is the same
    /// experiment: other thresholds (a `--resume` without the `--check` it started with would
    /// silently drop the gate). None when they agree.
    pub(crate) fn other_checks(&self, now: &Meta) -> Option<String> {
        let list = |c: &[String]| if c.is_empty() { "none".to_string() } else { c.join(", ") };
        (self.checks != now.checks).then(|| {
            format!(
                "this sweep started with the thresholds {} and is now given {}; --resume with the same --check arguments ({})",
                list(&self.checks),
                list(&now.checks),
                if self.check_args.is_empty() { "none".to_string() } else { self.check_args.iter().map(|c| format!("--check '{c}'")).collect::<Vec<_>>().join(" ") }
            )
        })
    }

    /// The command that reruns this experiment into `out`.
    pub fn rerun_command(&self, out: &str) -> String {
        crate::output::command_line("run", &self.file, self.seed, &self.overrides, &self.check_args, out)
    }
    /// Every bound on the experiment's figures with its role: the target, the budgets, the
    /// thresholds (an unreadable one, impossible from a parsed file, is left out).
    pub(crate) fn bounds(&self) -> Vec<(crate::check::Condition, &'static str)> {
        let target = (!self.target.is_empty()).then_some((&self.target, "target"));
        let all = target.into_iter().chain(self.budgets.iter().map(|b| (b, "budget")));
        let all = all.chain(self.checks.iter().map(|c| (c, "threshold")));
        all.filter_map(|(c, role)| crate::check::Condition::parse(c).ok().map(|c| (c, role))).collect()
    }
    /// Point `p` as `axis=value, axis=value` ("base" without axes).
    pub fn point_label(&self, p: usize) -> String {
        if self.axes.is_empty() {
            return "base".into();
        }
        self.axes.iter().zip(&self.points[p]).map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(", ")
    }
}

pub(crate) const SAMPLE_COLUMNS: [&str; 6] =
    ["time_s", "active_sessions", "retained_contexts", "retained_bytes", "recovery_attempts", "recovery_successes"];

/// One run's results as text, exactly as written to runs.csv and run_timeseries.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Index of the run's point in the experiment, from 0.
    pub point: usize,
    /// The run's replication within its point, from 0.
    pub replication: u32,
    /// The summary.csv column names, in order.
    pub columns: Vec<String>,
    /// The run's summary.csv values as written, one per column.
    pub values: Vec<String>,
    /// The run's timeseries rows as written (time_s, active_sessions, retained_contexts,
    /// retained_bytes, recovery_attempts, recovery_successes).
    pub samples: Vec<Vec<String>>,
}

impl RunRecord {
    pub(crate) fn from_report(point: usize, replication: u32, r: &Report) -> RunRecord {
        RunRecord {
            point,
            replication,
            columns: r.summary.iter().map(|(k, _)| k.clone()).collect(),
            values: r.summary.iter().map(|(_, v)| v.to_string()).collect(),
            samples: r.outcome.metrics.samples.iter().map(sample_cells).collect(),
        }
    }
    /// SHA-256 of the run's rows as written (summary and every sample), recorded in the
    /// manifest so that a row edited, duplicated or cut short is found when read back.
    pub(crate) fn checksum(&self) -> String {
        let mut text =
            format!("{}/{}\n{}\n{}\n", self.point, self.replication, self.columns.join(","), self.values.join(","));
        for s in &self.samples {
            text.push_str(&s.join(","));
            text.push('\n');
        }
        crate::output::sha256_hex(text.as_bytes())
    }
    /// The value of the summary.csv column `column` in this run (NaN where the run has none);
    /// `None` if the run has no such column or its value is not a number.
    pub fn get(&self, column: &str) -> Option<f64> {
        self.columns.iter().position(|c| c == column).and_then(|i| self.values[i].parse().ok())
    }
}

pub(super) fn runs_csv(meta: &Meta, records: &[RunRecord]) -> Result<Vec<u8>, String> {
    let columns = records.first().map(|r| r.columns.clone()).unwrap_or_default();
    let mut header = vec!["point".to_string(), "replication".to_string()];
    header.extend(meta.axes.iter().cloned());
    header.extend(columns);
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let mut row = vec![r.point.to_string(), r.replication.to_string()];
            row.extend(meta.points[r.point].iter().map(|v| text_cell(v)));
            row.extend(r.values.iter().cloned());
            row
        })
        .collect();
    csv_text(&header, &rows)
}

pub(super) fn run_timeseries_csv(records: &[RunRecord]) -> Result<Vec<u8>, String> {
    let mut header = vec!["point".to_string(), "replication".to_string()];
    header.extend(SAMPLE_COLUMNS.iter().map(|s| s.to_string()));
    let mut rows = Vec::new();
    for r in records {
        for s in &r.samples {
            let mut row = vec![r.point.to_string(), r.replication.to_string()];
            row.extend(s.iter().cloned());
            rows.push(row);
        }
    }
    csv_text(&header, &rows)
}

/// Write the per-run files and the manifest (what a shard writes).
pub(crate) fn write_runs(
    dir: &Path,
    meta: &Meta,
    records: &[RunRecord],
    extra: serde_json::Value,
) -> Result<(), OutputError> {
    write_run_tables(dir, meta, records)?;
    write_manifest(dir, meta, records, extra)
}

pub(super) fn write_run_tables(dir: &Path, meta: &Meta, records: &[RunRecord]) -> Result<(), OutputError> {
    let p = dir.join("runs.csv");
    write_atomic(&p, &runs_csv(meta, records).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("run_timeseries.csv");
    write_atomic(&p, &run_timeseries_csv(records).map_err(|e| out_err(&p, e))?)
}

/// The manifest, written last: the experiment, a checksum per run (so a duplicated, missing
/// or truncated run is found when the folder is read back) and every file in the folder (so
/// `--force` knows exactly what it may replace).
pub(super) fn write_manifest(
    dir: &Path,
    meta: &Meta,
    records: &[RunRecord],
    extra: serde_json::Value,
) -> Result<(), OutputError> {
    let files = crate::output::manifest_files(dir)?;
    let checksums: serde_json::Map<String, serde_json::Value> =
        records.iter().map(|r| (format!("{}/{}", r.point, r.replication), r.checksum().into())).collect();
    let mut m =
        serde_json::json!({ "experiment": meta, "runs": records.len(), "run_sha256": checksums, "files": files });
    if let (Some(m), serde_json::Value::Object(x)) = (m.as_object_mut(), extra) {
        m.extend(x);
    }
    write_json(&dir.join("manifest.json"), &m)
}

/// Read a shard folder back: its meta and its records.
pub fn read_runs(dir: &Path) -> Result<(Meta, Vec<RunRecord>), OutputError> {
    let mp = dir.join("manifest.json");
    let text = crate::output::read_text(&mp, crate::output::MANIFEST_LIMIT)
        .map_err(|e| out_err(&mp, format!("cannot read: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| out_err(&mp, e))?;
    let meta: Meta = serde_json::from_value(v["experiment"].clone())
        .map_err(|e| out_err(&mp, format!("not an impsim experiment manifest: {e}")))?;
    let rp = dir.join("runs.csv");
    let mut rd = csv::Reader::from_reader(crate::output::open_regular(&rp).map_err(|e| out_err(&rp, e))?);
    let header: Vec<String> = rd.headers().map_err(|e| out_err(&rp, e))?.iter().map(String::from).collect();
    let skip = 2 + meta.axes.len();
    let columns: Vec<String> = header.get(skip..).unwrap_or_default().to_vec();
    let mut records = Vec::new();
    for row in rd.records() {
        let row = row.map_err(|e| out_err(&rp, e))?;
        let num = |i: usize| row.get(i).and_then(|s| s.parse::<usize>().ok());
        let (Some(point), Some(rep)) = (num(0), num(1)) else {
            return Err(out_err(&rp, "a row without point and replication"));
        };
        if point >= meta.points.len() {
            return Err(out_err(&rp, format!("point {point} is not in the experiment")));
        }
        records.push(RunRecord {
            point,
            replication: rep as u32,
            columns: columns.clone(),
            values: row.iter().skip(skip).map(String::from).collect(),
            samples: Vec::new(),
        });
    }
    let tp = dir.join("run_timeseries.csv");
    let mut rd = csv::Reader::from_reader(crate::output::open_regular(&tp).map_err(|e| out_err(&tp, e))?);
    let mut samples: BTreeMap<(usize, u32), Vec<Vec<String>>> = BTreeMap::new();
    for row in rd.records() {
        let row = row.map_err(|e| out_err(&tp, e))?;
        let key = (row.get(0).and_then(|s| s.parse().ok()), row.get(1).and_then(|s| s.parse().ok()));
        let (Some(p), Some(r)) = key else { return Err(out_err(&tp, "a row without point and replication")) };
        samples.entry((p, r)).or_default().push(row.iter().skip(2).map(String::from).collect());
    }
    for r in &mut records {
        r.samples = samples.remove(&(r.point, r.replication)).unwrap_or_default();
    }
    if let Some((p, r)) = samples.keys().next() {
        return Err(out_err(&tp, format!("run {p}/{r} has samples but no row in runs.csv")));
    }
    check_runs(dir, &v, &meta, &records)?;
    Ok((meta, records))
}

/// Metrics summarised per point (when the runs have them).
pub(crate) const KEY_METRICS: [&str; 28] = [
    "recovery_success_rate",
    "recovery_attempts",
    "recovery_successes",
    "fail_expired",
    "fail_evicted",
    "fail_not_stored",
    "fail_client_changed",
    "fail_restart",
    "retained_contexts_mean",
    "retained_contexts_peak",
    "retained_bytes_mean",
    "retained_bytes_peak",
    "retained_byte_hours",
    "active_sessions_mean",
    "active_sessions_peak",
    "auto_logouts",
    "sap_disconnects",
    "logins_fresh",
    "logins_after_502",
    "logins_after_version_discovery",
    "transactions",
    "bytes_total",
    "tx_keepalive",
    "keepalive_share",
    "restore_recovered_ms_p50",
    "restore_recovered_ms_p99",
    "restore_fresh_ms_p50",
    "restore_fresh_ms_p99",
];

/// Each metric's estimate at one point.
pub(crate) type Estimates = BTreeMap<String, Estimate>;

/// The standard metrics and the experiment's own, without repeats.
pub(super) fn metric_names(meta: &Meta) -> Vec<String> {
    let mut names: Vec<String> = KEY_METRICS.iter().map(|m| m.to_string()).collect();
    // ... and every bounded metric (a threshold, the answer's target or budget).
    let bounded = meta.bounds().into_iter().map(|(c, _)| c.metric().to_string());
    for m in meta.metrics.iter().cloned().chain(bounded) {
        if !names.contains(&m) {
            names.push(m);
        }
    }
    names
}

/// Per point, per metric: the estimate across replications.
pub fn estimates(meta: &Meta, records: &[RunRecord]) -> Vec<Estimates> {
    let names = metric_names(meta);
    (0..meta.points.len())
        .map(|p| {
            let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == p).collect();
            names.iter().map(|m| (m.clone(), metric_estimate(&runs, m))).collect()
        })
        .collect()
}

/// The estimate of column `m` over `runs`: in the metric's range, a rate's interval never
/// narrower than the binomial one of its pooled attempts.
fn metric_estimate(runs: &[&RunRecord], m: &str) -> Estimate {
    let col = |c: &str| runs.iter().map(|r| r.get(c).unwrap_or(f64::NAN)).collect::<Vec<_>>();
    crate::output::quantity::estimate_of(m, &col(m), col)
}

/// Every threshold of the experiment judged at every point.
pub fn verdicts(meta: &Meta, records: &[RunRecord]) -> Vec<crate::check::Verdict> {
    let conds = meta.bounds().into_iter().filter(|(_, role)| *role == "threshold").map(|(c, _)| c);
    let mut out = Vec::new();
    for c in conds {
        for p in 0..meta.points.len() {
            let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == p).collect();
            out.push(c.judge_estimate(&metric_estimate(&runs, c.metric()), &meta.point_label(p), runs.len()));
        }
    }
    out
}

/// A text value as a CSV cell that a spreadsheet shows as text: one starting with `=`, `+`,
/// `@`, a tab, or `-` not followed by a digit would be read as a formula, so it gets a `'`.
pub(super) fn text_cell(v: &str) -> String {
    let b = v.as_bytes();
    let formula = match b.first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        Some(b'-') => b.get(1).is_some_and(|c| !c.is_ascii_digit() && *c != b'.'),
        _ => false,
    };
    if formula { format!("'{v}") } else { v.to_string() }
}

pub(super) fn real(v: f64) -> String {
    Cell::Real(v).to_string()
}

pub(super) fn points_csv(meta: &Meta, records: &[RunRecord], est: &[Estimates]) -> Result<Vec<u8>, String> {
    let names = metric_names(meta);
    let present: Vec<&str> = names
        .iter()
        .map(|m| m.as_str())
        .filter(|m| records.first().is_some_and(|r| r.columns.iter().any(|c| c == m)))
        .collect();
    let mut header = vec!["point".to_string()];
    header.extend(meta.axes.iter().cloned());
    header.push("replications".into());
    for m in &present {
        for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            header.push(format!("{m}_{s}"));
        }
    }
    let rows: Vec<Vec<String>> = (0..meta.points.len())
        .map(|p| {
            let mut row = vec![p.to_string()];
            row.extend(meta.points[p].iter().map(|v| text_cell(v)));
            row.push(records.iter().filter(|r| r.point == p).count().to_string());
            for m in &present {
                let e = est[p][*m];
                row.extend([real(e.mean), real(e.sd), real(e.lo), real(e.hi)]);
            }
            row
        })
        .collect();
    csv_text(&header, &rows)
}

/// points.json: points.csv's estimates as typed numbers with units, per point, and the
/// thresholds' verdicts, for a pipeline.
fn points_json(
    meta: &Meta,
    records: &[RunRecord],
    est: &[Estimates],
    verdicts: &[crate::check::Verdict],
) -> serde_json::Value {
    let number = |v: f64| crate::run::json_number(&real(v));
    let points: Vec<serde_json::Value> = (0..meta.points.len())
        .map(|p| {
            let values: serde_json::Map<String, serde_json::Value> =
                meta.axes.iter().zip(&meta.points[p]).map(|(a, v)| (a.clone(), v.clone().into())).collect();
            let metrics: serde_json::Map<String, serde_json::Value> = est[p]
                .iter()
                .filter(|(m, _)| records.first().is_some_and(|r| r.columns.iter().any(|c| c == *m)))
                .map(|(m, e)| {
                    let j = serde_json::json!({
                        "mean": number(e.mean), "sd": number(e.sd), "ci95_lo": number(e.lo), "ci95_hi": number(e.hi),
                        "n": e.n, "unit": crate::output::quantity::unit_of(m),
                    });
                    (m.clone(), j)
                })
                .collect();
            serde_json::json!({
                "point": p,
                "label": meta.point_label(p),
                "values": values,
                "replications": records.iter().filter(|r| r.point == p).count(),
                "metrics": metrics,
            })
        })
        .collect();
    let mut j = serde_json::json!({
        "schema": "impsim.points/1",
        "impsim_version": meta.impsim_version,
        "experiment": meta.name,
        "axes": meta.axes,
        "points": points,
        "answer": answer_json(meta, records, est),
    });
    crate::check::record(verdicts, &mut j);
    j
}

/// Mean over replications of each sample row, per point: (time_s, active, retained, bytes, pooled rate).
pub(crate) fn mean_series(records: &[RunRecord], point: usize) -> Vec<[f64; 5]> {
    let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == point).collect();
    let len = runs.iter().map(|r| r.samples.len()).min().unwrap_or(0);
    let f = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    (0..len)
        .map(|i| {
            let col = |c: usize| runs.iter().map(|r| f(&r.samples[i][c])).sum::<f64>();
            let n = runs.len() as f64;
            let attempts = col(4);
            [col(0) / n, col(1) / n, col(2) / n, col(3) / n, if attempts > 0.0 { col(5) / attempts } else { f64::NAN }]
        })
        .collect()
}

pub(super) fn timeseries_csv(meta: &Meta, records: &[RunRecord]) -> Result<Vec<u8>, String> {
    let mut header = vec!["point".to_string()];
    header.extend(meta.axes.iter().cloned());
    header.extend(
        ["time_s", "active_sessions_mean", "retained_contexts_mean", "retained_bytes_mean", "recovery_rate_cum"]
            .map(String::from),
    );
    let mut rows = Vec::new();
    for p in 0..meta.points.len() {
        for s in mean_series(records, p) {
            let mut row = vec![p.to_string()];
            row.extend(meta.points[p].iter().map(|v| text_cell(v)));
            row.extend(s.iter().map(|v| real(*v)));
            rows.push(row);
        }
    }
    csv_text(&header, &rows)
}

/// The steady-state check of a point on the sums of its replications' timeseries (steadier
/// than any one run's, as in Welch's method), with the point's warm-up and sampling interval.
pub(crate) fn point_steady_state(meta: &Meta, records: &[RunRecord], point: usize) -> crate::run::SteadyState {
    use crate::model::metrics::Sample;
    let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == point).collect();
    let len = runs.iter().map(|r| r.samples.len()).min().unwrap_or(0);
    let int = |s: &str| s.parse::<u64>().unwrap_or(0);
    let summed: Vec<Sample> = (0..len)
        .map(|i| {
            let sum = |c: usize| runs.iter().map(|r| int(&r.samples[i][c])).sum::<u64>();
            let time = runs.first().and_then(|r| r.samples[i][0].parse::<f64>().ok()).unwrap_or(0.0);
            Sample {
                time: SimTime::from_micros((time * 1e6).round() as u64),
                active_sessions: sum(1),
                retained_contexts: sum(2),
                retained_bytes: sum(3),
                recovery_attempts: sum(4),
                recovery_successes: sum(5),
            }
        })
        .collect();
    let scenario = meta.scenarios.get(point);
    let duration = |key: &str| {
        scenario
            .and_then(|v| v[key].as_str())
            .and_then(|d| crate::engine::parse_duration(d).ok())
            .unwrap_or(SimDuration::ZERO)
    };
    let transient = scenario.and_then(|v| v["sap"]["restarts"].as_array()).is_some_and(|a| !a.is_empty());
    crate::run::SteadyState::of(duration("warmup"), duration("sample_every"), transient, &summed)
}

/// Everything an experiment writes, from its runs' rows.
pub(crate) fn write_all(
    dir: &Path,
    meta: &Meta,
    records: &[RunRecord],
    extra: serde_json::Value,
) -> Result<(), OutputError> {
    write_run_tables(dir, meta, records)?;
    let est = estimates(meta, records);
    let p = dir.join("points.csv");
    write_atomic(&p, &points_csv(meta, records, &est).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("timeseries.csv");
    write_atomic(&p, &timeseries_csv(meta, records).map_err(|e| out_err(&p, e))?)?;
    let verdicts = verdicts(meta, records);
    crate::output::tables::write_json(&dir.join("points.json"), &points_json(meta, records, &est, &verdicts))?;
    let plots = plots(dir, meta, records, &est)?;
    let steady: Vec<_> = (0..meta.points.len())
        .map(|p| {
            let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == p).collect();
            let accepted = runs.iter().filter(|r| r.get("steady_state_ok") == Some(1.0)).count();
            (point_steady_state(meta, records, p), accepted, runs.len())
        })
        .collect();
    let doc = report(meta, records, &est, &steady, &plots, &verdicts);
    write_atomic(&dir.join("report.md"), doc.markdown().as_bytes())?;
    let p = dir.join("report.html");
    write_atomic(&p, doc.html(dir)?.as_bytes())?;
    let mut extra = extra;
    crate::check::record(&verdicts, &mut extra);
    write_manifest(dir, meta, records, extra)
}

#[cfg(test)]
mod tests {
    use super::text_cell;

    #[test]
    fn text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text() {
        for f in ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-x", "\tx"] {
            assert_eq!(text_cell(f), format!("'{f}"));
        }
        for plain in ["-5", "-0.5", "-.5", "-", "5m", "infinite", "0s", ""] {
            assert_eq!(text_cell(plain), plain);
        }
    }
}
