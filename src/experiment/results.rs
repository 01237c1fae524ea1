//! An experiment's outputs: per-run rows (runs.csv, run_timeseries.csv), and from them the
//! per-point statistics (points.csv), mean time series (timeseries.csv), plots and report.md.
//! Everything downstream is computed from the rows' text, so a merge of shards, which reads the
//! rows back, writes exactly the bytes a single-machine run writes.

use super::Experiment;
use crate::model::metrics::Cell;
use crate::output::plot::{Chart, Series, save_chart};
use crate::output::tables::{csv_text, sample_cells, write_json};
use crate::output::{OutputError, out_err, write_atomic};
use crate::run::Report;
use crate::stats::{Estimate, estimate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What identifies an experiment's runs, carried by every shard's manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub name: String,
    pub description: String,
    pub file: String,
    pub seed: u64,
    pub replications: u32,
    pub axes: Vec<String>,
    /// Display values per point, one per axis.
    pub points: Vec<Vec<String>>,
    /// Summary columns the experiment asks to plot and tabulate beyond the standard ones.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// The fully resolved scenario of each point.
    pub scenarios: Vec<serde_json::Value>,
    /// Common random numbers: replication r of every point used the same seed.
    #[serde(default)]
    pub crn: bool,
    pub impsim_version: String,
}

impl Meta {
    pub fn of(exp: &Experiment) -> Meta {
        Meta {
            name: exp.name.clone(),
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
        }
    }
    /// The same experiment, wherever its file was and however its path was typed: everything
    /// but the path (the resolved scenarios carry the content of every input, CSVs included).
    pub fn same_experiment(&self, other: &Meta) -> bool {
        Meta { file: String::new(), ..self.clone() } == Meta { file: String::new(), ..other.clone() }
    }
    fn point_label(&self, p: usize) -> String {
        if self.axes.is_empty() {
            return "base".into();
        }
        self.axes.iter().zip(&self.points[p]).map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(", ")
    }
}

pub const SAMPLE_COLUMNS: [&str; 6] =
    ["time_s", "active_sessions", "retained_contexts", "retained_bytes", "recovery_attempts", "recovery_successes"];

/// One run's results as text, exactly as written to runs.csv and run_timeseries.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub point: usize,
    pub replication: u32,
    pub columns: Vec<String>,
    pub values: Vec<String>,
    pub samples: Vec<Vec<String>>,
}

impl RunRecord {
    pub fn from_report(point: usize, replication: u32, r: &Report) -> RunRecord {
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
    pub fn checksum(&self) -> String {
        let mut text =
            format!("{}/{}\n{}\n{}\n", self.point, self.replication, self.columns.join(","), self.values.join(","));
        for s in &self.samples {
            text.push_str(&s.join(","));
            text.push('\n');
        }
        crate::output::sha256_hex(text.as_bytes())
    }
    pub fn get(&self, column: &str) -> f64 {
        self.columns.iter().position(|c| c == column).and_then(|i| self.values[i].parse().ok()).unwrap_or(f64::NAN)
    }
}

fn runs_csv(meta: &Meta, records: &[RunRecord]) -> Result<Vec<u8>, String> {
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

fn run_timeseries_csv(records: &[RunRecord]) -> Result<Vec<u8>, String> {
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
pub fn write_runs(dir: &Path, meta: &Meta, records: &[RunRecord], extra: serde_json::Value) -> Result<(), OutputError> {
    write_run_tables(dir, meta, records)?;
    write_manifest(dir, meta, records, extra)
}

fn write_run_tables(dir: &Path, meta: &Meta, records: &[RunRecord]) -> Result<(), OutputError> {
    let p = dir.join("runs.csv");
    write_atomic(&p, &runs_csv(meta, records).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("run_timeseries.csv");
    write_atomic(&p, &run_timeseries_csv(records).map_err(|e| out_err(&p, e))?)
}

/// The manifest, written last: the experiment, a checksum per run (so a duplicated, missing
/// or truncated run is found when the folder is read back) and every file in the folder (so
/// `--force` knows exactly what it may replace).
fn write_manifest(dir: &Path, meta: &Meta, records: &[RunRecord], extra: serde_json::Value) -> Result<(), OutputError> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| out_err(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != crate::output::JOURNAL && n != "manifest.json")
        .collect();
    files.push("manifest.json".into());
    files.sort();
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
    let text = std::fs::read_to_string(&mp).map_err(|e| out_err(&mp, format!("cannot read: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| out_err(&mp, e))?;
    let meta: Meta = serde_json::from_value(v["experiment"].clone())
        .map_err(|e| out_err(&mp, format!("not an impsim experiment manifest: {e}")))?;
    let rp = dir.join("runs.csv");
    let mut rd = csv::Reader::from_path(&rp).map_err(|e| out_err(&rp, e))?;
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
    let mut rd = csv::Reader::from_path(&tp).map_err(|e| out_err(&tp, e))?;
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

/// Finished runs appended one JSON line each to the staging folder as they complete, so a
/// sweep killed by SIGKILL or the out-of-memory killer loses only the runs in progress. The
/// first line names the experiment and shard; each run's line carries its checksum. A line
/// is written with one `write` call, so a kill leaves at worst one incomplete last line.
pub struct Journal {
    /// The file and the length of its complete lines.
    file: std::sync::Mutex<(std::fs::File, u64)>,
    path: std::path::PathBuf,
}

impl Journal {
    /// Start the journal afresh with the runs already done (from a resumed folder or an
    /// earlier journal), written whole before any new run starts.
    pub fn create(path: &Path, meta: &Meta, shard: Option<&str>, done: &[RunRecord]) -> Result<Journal, OutputError> {
        let mut text = serde_json::json!({ "experiment": meta, "shard": shard }).to_string();
        text.push('\n');
        for r in done {
            text.push_str(&journal_line(r));
        }
        write_atomic(path, text.as_bytes())?;
        let file = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| out_err(path, e))?;
        Ok(Journal { file: std::sync::Mutex::new((file, text.len() as u64)), path: path.to_path_buf() })
    }

    /// Append a finished run. A write that fails (a full disk) is cut back to the last complete
    /// line, so the journal stays readable and `--resume` can use what it holds.
    pub fn append(&self, r: &RunRecord) -> Result<(), OutputError> {
        use std::io::Write;
        let line = journal_line(r);
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let (f, len) = &mut *guard;
        match f.write_all(line.as_bytes()) {
            Ok(()) => {
                *len += line.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = f.set_len(*len);
                Err(out_err(
                    &self.path,
                    format!(
                        "cannot journal a finished run: {e}; the runs journaled so far are kept: make room, then --resume"
                    ),
                ))
            }
        }
    }
}

fn journal_line(r: &RunRecord) -> String {
    let mut line = serde_json::json!({
        "point": r.point, "replication": r.replication, "columns": r.columns, "values": r.values,
        "samples": r.samples, "sha256": r.checksum(),
    })
    .to_string();
    line.push('\n');
    line
}

/// The runs a journal holds, if it belongs to this experiment and shard. An incomplete last
/// line (the process was killed while writing it) is dropped: that run is simply run again.
pub fn read_journal(path: &Path, meta: &Meta, shard: Option<&str>) -> Result<Vec<RunRecord>, OutputError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        // Unreadable is not empty: starting afresh would rewrite it and drop its runs.
        Err(e) => return Err(out_err(path, format!("cannot read the journal of finished runs: {e}"))),
    };
    let mut lines = text.split_inclusive('\n');
    let Some(head) = lines.next() else { return Ok(Vec::new()) };
    let head: serde_json::Value =
        serde_json::from_str(head).map_err(|e| out_err(path, format!("not an impsim journal: {e}")))?;
    let theirs: Meta = serde_json::from_value(head["experiment"].clone())
        .map_err(|e| out_err(path, format!("not an impsim journal: {e}")))?;
    if !theirs.same_experiment(meta) || head["shard"].as_str() != shard {
        return Err(out_err(
            path,
            "this journal belongs to another experiment (or shard); --resume needs the same one (a run without --resume, with --force, discards it)",
        ));
    }
    let mut records = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in lines {
        if !line.ends_with('\n') {
            break; // cut short by a kill
        }
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            out_err(path, format!("a damaged line: {e}; delete it (that run is then run again) or the journal"))
        })?;
        let r: Option<RunRecord> = (|| {
            let strings = |x: &serde_json::Value| -> Option<Vec<String>> {
                x.as_array()?.iter().map(|s| s.as_str().map(String::from)).collect()
            };
            Some(RunRecord {
                point: v["point"].as_u64()? as usize,
                replication: u32::try_from(v["replication"].as_u64()?).ok()?,
                columns: strings(&v["columns"])?,
                values: strings(&v["values"])?,
                samples: v["samples"].as_array()?.iter().map(strings).collect::<Option<_>>()?,
            })
        })();
        let r = r.ok_or_else(|| out_err(path, "a line that is not a run"))?;
        if r.point >= meta.points.len()
            || r.replication >= meta.replications
            || v["sha256"].as_str() != Some(&r.checksum())
        {
            return Err(out_err(
                path,
                format!(
                    "run {}/{}: damaged or out of range; delete its line (that run is then run again) or the journal",
                    r.point, r.replication
                ),
            ));
        }
        if seen.insert((r.point, r.replication)) {
            records.push(r);
        }
    }
    Ok(records)
}

/// Every run of the folder exactly once, in range, and as written: its checksum is the one
/// the manifest recorded (which also finds a run whose samples were cut short).
fn check_runs(dir: &Path, manifest: &serde_json::Value, meta: &Meta, records: &[RunRecord]) -> Result<(), OutputError> {
    let mp = dir.join("manifest.json");
    let Some(sums) = manifest.get("run_sha256").and_then(|s| s.as_object()) else {
        return Err(out_err(&mp, "has no per-run checksums (written by an older impsim); run the experiment again"));
    };
    let mut seen = std::collections::BTreeSet::new();
    for r in records {
        let key = format!("{}/{}", r.point, r.replication);
        if r.replication >= meta.replications {
            return Err(out_err(
                dir,
                format!(
                    "run {key}: replication {} is out of range (the experiment has {})",
                    r.replication, meta.replications
                ),
            ));
        }
        if !seen.insert((r.point, r.replication)) {
            return Err(out_err(dir, format!("run {key} appears twice in runs.csv")));
        }
        match sums.get(&key).and_then(|s| s.as_str()) {
            Some(s) if s == r.checksum() => {}
            Some(_) => {
                return Err(out_err(
                    dir,
                    format!(
                        "run {key}: its rows differ from what was written (checksum mismatch; edited or truncated?)"
                    ),
                ));
            }
            None => return Err(out_err(dir, format!("run {key} is not in the manifest"))),
        }
    }
    if sums.len() != records.len() {
        let missing: Vec<&String> =
            sums.keys().filter(|k| !records.iter().any(|r| format!("{}/{}", r.point, r.replication) == **k)).collect();
        return Err(out_err(
            dir,
            format!(
                "runs.csv lacks run(s) the manifest lists: {}",
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}

/// Metrics summarised per point (when the runs have them).
pub const KEY_METRICS: [&str; 28] = [
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

type Estimates = BTreeMap<String, Estimate>;

/// The standard metrics and the experiment's own, without repeats.
fn metric_names(meta: &Meta) -> Vec<String> {
    let mut names: Vec<String> = KEY_METRICS.iter().map(|m| m.to_string()).collect();
    for m in &meta.metrics {
        if !names.contains(m) {
            names.push(m.clone());
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
            names
                .iter()
                .map(|m| {
                    let mut e = estimate(&runs.iter().map(|r| r.get(m)).collect::<Vec<_>>());
                    // A rate or share lies in [0, 1]; so does its interval.
                    if m.ends_with("_rate") || m.ends_with("_share") {
                        (e.lo, e.hi) = (e.lo.clamp(0.0, 1.0), e.hi.clamp(0.0, 1.0));
                    }
                    (m.clone(), e)
                })
                .collect()
        })
        .collect()
}

/// A text value as a CSV cell that a spreadsheet shows as text: one starting with `=`, `+`,
/// `@`, a tab, or `-` not followed by a digit would be read as a formula, so it gets a `'`.
fn text_cell(v: &str) -> String {
    let b = v.as_bytes();
    let formula = match b.first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        Some(b'-') => b.get(1).is_some_and(|c| !c.is_ascii_digit() && *c != b'.'),
        _ => false,
    };
    if formula { format!("'{v}") } else { v.to_string() }
}

fn real(v: f64) -> String {
    Cell::Real(v).to_string()
}

fn points_csv(meta: &Meta, records: &[RunRecord], est: &[Estimates]) -> Result<Vec<u8>, String> {
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

/// Mean over replications of each sample row, per point: (time_s, active, retained, bytes, pooled rate).
pub fn mean_series(records: &[RunRecord], point: usize) -> Vec<[f64; 5]> {
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

fn timeseries_csv(meta: &Meta, records: &[RunRecord]) -> Result<Vec<u8>, String> {
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
pub fn point_steady_state(meta: &Meta, records: &[RunRecord], point: usize) -> crate::run::SteadyState {
    use crate::model::metrics::Sample;
    let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == point).collect();
    let len = runs.iter().map(|r| r.samples.len()).min().unwrap_or(0);
    let int = |s: &str| s.parse::<u64>().unwrap_or(0);
    let summed: Vec<Sample> = (0..len)
        .map(|i| {
            let sum = |c: usize| runs.iter().map(|r| int(&r.samples[i][c])).sum::<u64>();
            let time = runs.first().and_then(|r| r.samples[i][0].parse::<f64>().ok()).unwrap_or(0.0);
            Sample {
                time: (time * 1e6).round() as u64,
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
        scenario.and_then(|v| v[key].as_str()).and_then(|d| crate::engine::parse_duration(d).ok()).unwrap_or(0)
    };
    let transient = scenario.and_then(|v| v["sap"]["restarts"].as_array()).is_some_and(|a| !a.is_empty());
    crate::run::SteadyState::of(duration("warmup"), duration("sample_every"), transient, &summed)
}

/// Everything an experiment writes, from its runs' rows.
pub fn write_all(dir: &Path, meta: &Meta, records: &[RunRecord], extra: serde_json::Value) -> Result<(), OutputError> {
    write_run_tables(dir, meta, records)?;
    let est = estimates(meta, records);
    let p = dir.join("points.csv");
    write_atomic(&p, &points_csv(meta, records, &est).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("timeseries.csv");
    write_atomic(&p, &timeseries_csv(meta, records).map_err(|e| out_err(&p, e))?)?;
    let plots = plots(dir, meta, records, &est)?;
    let steady: Vec<_> = (0..meta.points.len())
        .map(|p| {
            let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == p).collect();
            let accepted = runs.iter().filter(|r| r.get("steady_state_ok") == 1.0).count();
            (point_steady_state(meta, records, p), accepted, runs.len())
        })
        .collect();
    let p = dir.join("report.md");
    write_atomic(&p, report(meta, &est, &steady, &plots).as_bytes())?;
    write_manifest(dir, meta, records, extra)
}

/// The x axis of the plots: the first swept field, as categories.
fn categories(meta: &Meta) -> (String, Vec<usize>, Vec<String>, Vec<Vec<usize>>) {
    if meta.axes.is_empty() {
        return ("scenario".into(), vec![0], vec!["base".into()], vec![vec![0]]);
    }
    // Points grouped by the values of the other axes: one series each, x = first axis value.
    let mut x_labels: Vec<String> = Vec::new();
    let mut xs = Vec::new();
    for v in &meta.points {
        let i = x_labels.iter().position(|l| l == &v[0]).unwrap_or_else(|| {
            x_labels.push(v[0].clone());
            x_labels.len() - 1
        });
        xs.push(i);
    }
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (p, v) in meta.points.iter().enumerate() {
        let rest = v[1..].to_vec();
        match groups.iter_mut().find(|g| g.0 == rest) {
            Some(g) => g.1.push(p),
            None => groups.push((rest, vec![p])),
        }
    }
    (meta.axes[0].clone(), xs, x_labels, groups.into_iter().map(|g| g.1).collect())
}

fn series_name(meta: &Meta, p: usize, what: &str) -> String {
    let rest: Vec<String> = meta.axes.iter().zip(&meta.points[p]).skip(1).map(|(a, v)| format!("{a}={v}")).collect();
    match (rest.is_empty(), what.is_empty()) {
        (true, _) => what.to_string(),
        (false, true) => rest.join(", "),
        (false, false) => format!("{what} ({})", rest.join(", ")),
    }
}

fn plots(
    dir: &Path,
    meta: &Meta,
    records: &[RunRecord],
    est: &[Estimates],
) -> Result<Vec<(String, String)>, OutputError> {
    let (axis, xs, labels, groups) = categories(meta);
    let mib = 1024.0 * 1024.0;
    let mut made: Vec<(String, String)> = Vec::new();
    // Save a chart as SVG and PNG and list it, with its caption, for report.md.
    let mut emit = |stem: &str, caption: &str, chart: &Chart| -> Result<(), OutputError> {
        save_chart(dir, stem, chart)?;
        made.push((stem.to_string(), caption.to_string()));
        Ok(())
    };
    let by_metric = |metric: &str, what: &str, scale: f64, bars: bool| -> Vec<Series> {
        groups
            .iter()
            .map(|g| Series {
                name: series_name(meta, g[0], what),
                points: g
                    .iter()
                    .map(|&p| {
                        let e = est[p][metric];
                        let bar = if bars && e.lo.is_finite() { Some((e.lo / scale, e.hi / scale)) } else { None };
                        (xs[p] as f64, e.mean / scale, bar)
                    })
                    .collect(),
                labels: vec![],
            })
            .collect()
    };
    let cat = Some(labels.clone());
    let chart = Chart {
        title: format!("{}: recovery success rate (95% CI)", meta.name),
        x_desc: axis.clone(),
        y_desc: "recovery successes / attempts".into(),
        categories: cat.clone(),
        series: by_metric("recovery_success_rate", "", 1.0, true),
        y_range: Some((0.0, 1.0)),
    };
    emit("recovery", "Recovery success rate with 95% confidence intervals", &chart)?;
    let mut mem = by_metric("retained_bytes_mean", "mean", mib, true);
    mem.extend(by_metric("retained_bytes_peak", "peak", mib, true));
    let chart = Chart {
        title: format!("{}: retained context memory", meta.name),
        x_desc: axis.clone(),
        y_desc: "retained contexts (MiB)".into(),
        categories: cat.clone(),
        series: mem,
        y_range: None,
    };
    emit("memory", "Memory held by retained contexts: time-weighted mean and peak", &chart)?;
    let trade = Chart {
        title: format!("{}: memory against recovery", meta.name),
        x_desc: "mean retained memory (MiB)".into(),
        y_desc: "recovery success rate".into(),
        categories: None,
        series: vec![Series {
            name: "points".into(),
            points: (0..meta.points.len())
                .map(|p| (est[p]["retained_bytes_mean"].mean / mib, est[p]["recovery_success_rate"].mean, None))
                .collect(),
            labels: (0..meta.points.len()).map(|p| meta.points[p].join(", ")).collect(),
        }],
        y_range: Some((0.0, 1.0)),
    };
    emit("tradeoff", "The trade-off: each point's mean retained memory and recovery rate", &trade)?;
    // One line per point over simulated time, from column `col` of the mean series.
    let over_time = |col: usize, scale: f64| -> Vec<Series> {
        (0..meta.points.len())
            .map(|p| Series {
                name: meta.point_label(p),
                points: mean_series(records, p).iter().map(|s| (s[0] / 3600.0, s[col] / scale, None)).collect(),
                labels: vec![],
            })
            .collect()
    };
    let ts = Chart {
        title: format!("{}: retained memory over time (mean of replications)", meta.name),
        x_desc: "simulated time (h)".into(),
        y_desc: "retained contexts (MiB)".into(),
        categories: None,
        series: over_time(3, mib),
        y_range: None,
    };
    emit("retained_timeseries", "Retained memory over simulated time, per point", &ts)?;
    let mut restore = Vec::new();
    for (m, what) in [
        ("restore_recovered_ms_p50", "recovered p50"),
        ("restore_recovered_ms_p99", "recovered p99"),
        ("restore_fresh_ms_p50", "fresh p50"),
        ("restore_fresh_ms_p99", "fresh p99"),
    ] {
        restore.extend(by_metric(m, what, 1000.0, false));
    }
    let chart = Chart {
        title: format!("{}: time to restore a full context", meta.name),
        x_desc: axis.clone(),
        y_desc: "time to restore (s)".into(),
        categories: cat.clone(),
        series: restore,
        y_range: None,
    };
    emit("restore", "Time to restore: recovered sessions against fresh logins", &chart)?;
    let active = Chart {
        title: format!("{}: active sessions over time (mean of replications)", meta.name),
        x_desc: "simulated time (h)".into(),
        y_desc: "active sessions".into(),
        categories: None,
        series: over_time(1, 1.0),
        y_range: None,
    };
    emit("active_timeseries", "Active sessions over simulated time, per point", &active)?;
    for m in &meta.metrics {
        let chart = Chart {
            title: format!("{}: {m} (95% CI)", meta.name),
            x_desc: axis.clone(),
            y_desc: m.clone(),
            categories: Some(labels.clone()),
            series: by_metric(m, "", 1.0, true),
            y_range: None,
        };
        emit(&format!("metric_{m}"), &format!("{m} per point, with 95% confidence intervals"), &chart)?;
    }
    Ok(made)
}

fn fmt_ci(e: &Estimate, scale: f64, digits: usize) -> String {
    if !e.mean.is_finite() {
        return "-".into();
    }
    let z = |v: f64| if (v / scale).abs() < 0.5 * 10f64.powi(-(digits as i32)) { 0.0 } else { v / scale };
    let e = Estimate { mean: z(e.mean) * scale, lo: z(e.lo) * scale, hi: z(e.hi) * scale, ..*e };
    if e.lo.is_finite() {
        format!("{:.*} ({:.*} to {:.*}, n={})", digits, e.mean / scale, digits, e.lo / scale, digits, e.hi / scale, e.n)
    } else {
        format!("{:.*} (n={}, no interval)", digits, e.mean / scale, e.n)
    }
}

/// Which points' warm-up the steady-state check accepts, on the sums of their replications.
/// With, per point, how many of its runs the check accepted on their own (noisier series).
fn steady_state_section(meta: &Meta, steady: &[(crate::run::SteadyState, usize, usize)]) -> String {
    let mut s = String::from("\n## Steady state\n\n");
    if steady.iter().all(|(st, _, _)| !st.applies) {
        s += "Not checked: the runs have SAP restarts, a transient study; the measured window covers the \
              restart and what follows it.\n";
        return s;
    }
    let flagged: Vec<(usize, String)> =
        steady.iter().enumerate().filter_map(|(p, (st, _, _))| st.warning().map(|w| (p, w))).collect();
    if flagged.is_empty() {
        s += "MSER-5 on each point's timeseries (summed over replications) accepts every point's warm-up.\n";
    }
    for (p, w) in flagged {
        s += &format!("- **{}**: {w}\n", meta.point_label(p));
    }
    let (accepted, runs) = steady.iter().fold((0, 0), |(a, n), (_, k, m)| (a + k, n + m));
    s += &format!(
        "\nRun by run (each its own series, noisier than the sums): {accepted} of {runs} runs accepted{}.\n",
        if accepted < runs {
            let per: Vec<String> = steady
                .iter()
                .enumerate()
                .filter(|(_, (_, k, m))| k < m)
                .map(|(p, (_, k, m))| format!("{}: {k} of {m}", meta.point_label(p)))
                .collect();
            format!(" ({})", per.join("; "))
        } else {
            String::new()
        }
    );
    s
}

fn report(
    meta: &Meta,
    est: &[Estimates],
    steady: &[(crate::run::SteadyState, usize, usize)],
    plots: &[(String, String)],
) -> String {
    let mut s = format!("# {}\n\n", meta.name);
    if !meta.description.is_empty() {
        s += &format!("{}\n\n", meta.description.trim());
    }
    s += &format!(
        "Experiment `{}`: {} points x {} replications, experiment seed {}, impsim {}. Each cell is the mean \
         over replications with its 95% Student-t confidence interval and the number of runs n it rests on. \
         Every run is measured after its warm-up; the recovery rate of a point is the mean of its runs' rates, \
         and a restore percentile is the mean of its runs' percentiles. Reproduce with `impsim run {} --out DIR`.\n\n",
        meta.file,
        meta.points.len(),
        meta.replications,
        meta.seed,
        meta.impsim_version,
        meta.file
    );
    if meta.crn {
        s += "Common random numbers: replication r of every point used the same seed, so the points' \
              results are correlated; compare two points by the paired differences of their runs \
              (runs.csv), whose interval is narrower than the cells' intervals suggest.\n\n";
    }
    let mut header: Vec<String> = meta.axes.clone();
    header.extend(
        [
            "recovery rate",
            "retained MiB (mean)",
            "retained MiB (peak)",
            "transactions",
            "restore p50 recovered (s, mean of run p50s)",
            "restore p50 fresh (s, mean of run p50s)",
        ]
        .map(String::from),
    );
    header.extend(meta.metrics.iter().cloned());
    if meta.axes.is_empty() {
        header.insert(0, "point".into());
    }
    s += &format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    let mib = 1024.0 * 1024.0;
    for (p, e) in est.iter().enumerate() {
        let mut row: Vec<String> = meta.points[p].clone();
        if meta.axes.is_empty() {
            row.insert(0, "base".into());
        }
        row.push(fmt_ci(&e["recovery_success_rate"], 1.0, 3));
        row.push(fmt_ci(&e["retained_bytes_mean"], mib, 2));
        row.push(fmt_ci(&e["retained_bytes_peak"], mib, 2));
        row.push(fmt_ci(&e["transactions"], 1.0, 0));
        row.push(fmt_ci(&e["restore_recovered_ms_p50"], 1000.0, 2));
        row.push(fmt_ci(&e["restore_fresh_ms_p50"], 1000.0, 2));
        for m in &meta.metrics {
            row.push(fmt_ci(&e[m.as_str()], 1.0, 3));
        }
        s += &format!("| {} |\n", row.join(" | "));
    }
    s += &steady_state_section(meta, steady);
    s += "\nFiles: `runs.csv` (one row per run), `points.csv` (mean, sd, 95% CI per point), `timeseries.csv` \
          (per point, mean over replications), `run_timeseries.csv` (per run).\n\n";
    for (stem, caption) in plots {
        s += &format!("## {caption}\n\n![{caption}]({stem}.png)\n\n");
    }
    s
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
