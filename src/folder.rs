//! A result folder on disk: one run's (summary, timeseries, plots, manifest, trace), an
//! experiment's or one shard's (runs, points, report), and the merge of shards. Everything here
//! is written through `output::Staging`, so a folder appears only when complete and never
//! replaces what impsim did not write. This is the top of the library: it uses `run` (one
//! simulation) and `experiment` (sweeps); nothing below imports it.

use crate::Error;
use crate::engine::time::SimDuration;
use crate::model::Params;
use crate::output::plot::write_timeseries_plots;
use crate::output::tables::{write_json, write_summary, write_timeseries};
use crate::output::trace::TraceWriter;
use crate::output::{OutputError, Staging, write_atomic};
use crate::run::{Report, simulate, stalled_message};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The default output folder: `base` if nothing is there yet, else `base-2`, `base-3`, ... so
/// the same command run twice keeps both results (default folders are under results/runs/,
/// which git ignores; the committed reference results are written only by
/// experiments/regenerate.sh, with explicit `--out`).
pub fn fresh_folder(base: &Path) -> PathBuf {
    let taken = |p: &Path| p.exists() || crate::output::staging_path(p).exists();
    if !taken(base) {
        return base.to_path_buf();
    }
    let name = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    (2u32..)
        .map(|i| base.with_file_name(format!("{name}-{i}")))
        .find(|p| !taken(p))
        .unwrap_or_else(|| base.to_path_buf())
}

/// An observer that passes every transaction on and, every 2^16 of them, reports progress
/// (the fraction of simulated time done) if a second of wall time has passed.
struct Ticker<'a, O> {
    inner: O,
    seen: u32,
    duration: SimDuration,
    last: Instant,
    progress: Option<&'a dyn Fn(f64)>,
}

impl<'a, O> Ticker<'a, O> {
    fn new(inner: O, duration: SimDuration, progress: Option<&'a dyn Fn(f64)>) -> Self {
        Ticker { inner, seen: 0, duration, last: Instant::now(), progress }
    }
}

impl<O: crate::model::Observer> crate::model::Observer for Ticker<'_, O> {
    #[inline]
    fn transaction(&mut self, tx: &crate::model::Transaction) {
        self.inner.transaction(tx);
        self.seen = self.seen.wrapping_add(1);
        if self.seen & 0xffff == 0
            && let Some(p) = self.progress
            && self.last.elapsed().as_secs_f64() >= 1.0
        {
            self.last = Instant::now();
            p(tx.time.as_micros() as f64 / self.duration.as_micros().max(1) as f64);
        }
    }
}

/// Where a run writes, and what it records about its origin.
pub struct RunOutput<'a> {
    /// The run's output folder.
    pub dir: &'a Path,
    /// Replace an existing folder (and trace) that impsim wrote.
    pub force: bool,
    /// Where to write every transaction as CSV (`--trace`), if anywhere.
    pub trace: Option<&'a Path>,
    /// The scenario file as given, recorded as `scenario_file` in manifest.json.
    pub source: &'a str,
    /// SHA-256 of the scenario file's bytes (empirical CSVs' are in the scenario itself).
    pub source_sha256: &'a str,
    /// The `--set key=value` overrides, recorded in manifest.json.
    pub overrides: &'a [String],
    /// `--check` conditions (`metric>=value`) beside the scenario's `[thresholds]`, recorded
    /// in manifest.json with every verdict.
    pub checks: &'a [String],
}

/// Every threshold of a run (its scenario's `[thresholds]` and `checks`) judged on its summary.
pub fn run_verdicts(report: &Report, checks: &[String]) -> Result<Vec<crate::check::Verdict>, Error> {
    let mut conds =
        crate::check::from_table(&report.params.thresholds).map_err(|(f, m)| Error::Usage(format!("{f}: {m}")))?;
    conds.extend(crate::check::parse_all(checks).map_err(Error::Usage)?);
    Ok(conds.iter().map(|c| c.judge_value(report.get(c.metric()).unwrap_or(f64::NAN), "")).collect())
}

/// Simulate and write summary.csv, timeseries.csv and manifest.json (and the trace).
pub fn run_to_folder(params: Params, out: &RunOutput) -> Result<(Report, PathBuf), Error> {
    run_to_folder_with_progress(params, out, None)
}

/// `run_to_folder`, calling `progress` with the fraction of simulated time done about once a
/// second of wall time.
pub fn run_to_folder_with_progress(
    params: Params,
    out: &RunOutput,
    progress: Option<&dyn Fn(f64)>,
) -> Result<(Report, PathBuf), Error> {
    let staging = Staging::new(out.dir, out.force, false)?;
    let trace_created = std::cell::Cell::new(false);
    let result = (|| {
        let duration = params.duration.0;
        let report = match out.trace {
            Some(path) => {
                let writer = TraceWriter::create(path, out.force)?;
                trace_created.set(true);
                let (report, ticker) = simulate(params, Ticker::new(writer, duration, progress));
                ticker.inner.finish()?;
                report
            }
            None => simulate(params, Ticker::new((), duration, progress)).0,
        };
        if let Some(t) = report.outcome.stalled_at {
            return Err(Error::Stalled(format!("{}: {}", out.source, stalled_message(t))));
        }
        write_summary(&staging.path("summary.csv"), &report.summary)?;
        let (samples, warmup) = (&report.outcome.metrics.samples, report.params.warmup.0);
        write_timeseries(&staging.path("timeseries.csv"), samples, warmup)?;
        let restarts: Vec<_> = report.params.sap.restarts.iter().map(|d| d.0).collect();
        write_timeseries_plots(&staging.path(""), "timeseries", &report.params.name, samples, warmup, &restarts)?;
        let verdicts = run_verdicts(&report, out.checks)?;
        write_json(&staging.path("summary.json"), &summary_json(&report, &verdicts))?;
        let rerun =
            crate::output::command_line("run", out.source, report.params.seed, out.overrides, out.checks, "DIR");
        let page = crate::run_report::document(&report, &verdicts, &rerun, out.overrides);
        write_atomic(&staging.path("report.md"), page.markdown().as_bytes())?;
        write_atomic(&staging.path("report.html"), page.html(&staging.path(""))?.as_bytes())?;
        let mut m = manifest(&report, out);
        crate::check::record(&verdicts, &mut m);
        if !out.checks.is_empty() {
            m["check_args"] = out.checks.into();
        }
        write_json(&staging.path("manifest.json"), &m)?;
        Ok(report)
    })();
    if result.is_err()
        && trace_created.get()
        && let Some(path) = out.trace
    {
        // A trace is renamed into place only when complete; a failed run leaves none.
        let _ = std::fs::remove_file(crate::output::partial_name(path));
    }
    staging.finish(result)
}

/// summary.json: summary.csv's figures as typed numbers with units, and the thresholds'
/// verdicts, for a pipeline (`jq .metrics.recovery_success_rate.value`).
fn summary_json(r: &Report, verdicts: &[crate::check::Verdict]) -> serde_json::Value {
    let metrics: serde_json::Map<String, serde_json::Value> = r
        .summary
        .iter()
        .map(|(k, v)| {
            (k.clone(), {
                let unit = crate::output::quantity::unit_of(k);
                // An identifier (the seed) is text, whatever its size.
                let value = if unit == "id" { v.to_string().into() } else { crate::run::json_number(&v.to_string()) };
                serde_json::json!({ "value": value, "unit": unit })
            })
        })
        .collect();
    let mut j = serde_json::json!({
        "schema": "impsim.summary/1",
        "impsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": r.params.name,
        "seed": r.params.seed.to_string(),
        "metrics": metrics,
    });
    crate::check::record(verdicts, &mut j);
    j
}

fn manifest(r: &Report, out: &RunOutput) -> serde_json::Value {
    serde_json::json!({
        "impsim_version": env!("CARGO_PKG_VERSION"),
        "impsim_commit": crate::output::COMMIT,
        "scenario_file": out.source,
        "scenario_sha256": out.source_sha256,
        "overrides": out.overrides,
        "seed": r.params.seed.to_string(),
        "scenario": serde_json::to_value(&r.params).unwrap_or(serde_json::Value::Null),
        "events": r.outcome.metrics.c.events,
        "events_popped": r.outcome.metrics.c.popped,
        "wall_seconds": r.wall_seconds,
        "events_per_second": r.events_per_second(),
        "peak_rss_bytes": crate::guard::peak_rss_bytes(),
        "steady_state": {
            "warmup_s": r.steady.warmup.as_micros() as f64 / 1e6,
            "mser5_truncation_s": r.steady.truncation.iter().map(|(k, t)| (k.to_string(), serde_json::json!(t.map(|t| t.as_micros() as f64 / 1e6)))).collect::<serde_json::Map<_, _>>(),
            "accepted": r.steady.applies.then_some(r.steady.ok),
            "warning": r.steady.warning(),
        },
        "files": ["summary.csv", "summary.json", "timeseries.csv", "timeseries.svg", "timeseries.png", "report.md", "report.html", "manifest.json"],
        "note": "summary.csv and timeseries.csv are a pure function of (scenario, seed); wall time and memory here are not",
    })
}

/// How an experiment run ended.
pub enum SweepEnd {
    /// Every run of the shard is done; the folder is complete.
    Complete(PathBuf),
    /// Interrupted: the folder holds the completed runs and a manifest marked partial;
    /// `--resume` finishes it.
    Partial {
        /// The folder written.
        dir: PathBuf,
        /// Runs of the shard completed, those kept from before a `--resume` included.
        done: usize,
        /// Runs the shard has in all.
        total: usize,
    },
}

/// How a sweep runs and what it may do to its output folder.
#[derive(Clone, Copy, Debug)]
pub struct SweepOptions {
    /// Worker threads (results never depend on it).
    pub threads: usize,
    /// The part of the (point, replication) list to run.
    pub shard: crate::experiment::Shard,
    /// Replace an existing folder impsim wrote (and discard a journal of finished runs).
    pub force: bool,
    /// Keep the runs of an interrupted sweep (its partial folder and journal), run the rest.
    pub resume: bool,
}

impl SweepOptions {
    /// All of the sweep on `threads` threads, into a new folder.
    pub fn new(threads: usize) -> SweepOptions {
        SweepOptions { threads, shard: crate::experiment::Shard::all(), force: false, resume: false }
    }
}

/// Run an experiment (or one shard of it) and write its folder. With `resume`, the runs already
/// in `dir` (a partial folder of the same experiment, or its journal) are kept and only the rest
/// are run. `stop` (Ctrl-C, SIGTERM) ends the sweep after the runs in progress.
pub fn experiment_to_folder(
    exp: &crate::experiment::Experiment,
    dir: &Path,
    opts: &SweepOptions,
    progress: &dyn crate::experiment::Progress,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<SweepEnd, Error> {
    let SweepOptions { threads, shard, force, resume } = *opts;
    use crate::experiment::results::{Journal, Meta, read_journal, write_all, write_runs};
    use crate::output::JOURNAL;
    let meta = Meta::of(exp);
    let shard_text = (shard.count > 1).then(|| format!("{}/{}", shard.index, shard.count));
    let mut previous = Vec::new();
    // What a resume starts from: the partial folder written at Ctrl-C or SIGTERM, and the
    // journal in the staging folder (all that is left after SIGKILL or an out-of-memory kill).
    let partial_folder = resume && dir.join("manifest.json").exists();
    if partial_folder {
        previous = partial_runs(dir, &meta, shard_text.as_deref())?;
    }
    let staging = Staging::new(dir, force || partial_folder, resume)?;
    if resume {
        let journaled = match read_journal(&staging.path(JOURNAL), &meta, shard_text.as_deref()) {
            Ok(j) => j,
            Err(e) => {
                drop(staging);
                return Err(e.into());
            }
        };
        // Nothing finished yet (killed before its first run, or never started): --resume just
        // starts, so resubmitting a batch job always works.
        if !partial_folder && journaled.is_empty() {
            progress.note("nothing to resume yet (no finished run); starting the sweep");
        }
        add_new_runs(&mut previous, journaled);
        previous.retain(|r| shard.takes(r.point * exp.replications as usize + r.replication as usize));
    }
    let journal = match Journal::create(&staging.path(JOURNAL), &meta, shard_text.as_deref(), &previous) {
        Ok(j) => j,
        Err(e) => {
            staging.abandon();
            return Err(e.into());
        }
    };
    let started = Instant::now();
    let done_before: std::collections::BTreeSet<(usize, u32)> =
        previous.iter().map(|r| (r.point, r.replication)).collect();
    let ran = match crate::experiment::run(exp, shard, threads, progress, stop, &done_before, Some(&journal)) {
        Ok(r) => r,
        Err(e) => {
            staging.abandon();
            return Err(e);
        }
    };
    let mut records = previous;
    records.extend(ran.records);
    records.sort_by_key(|r| (r.point, r.replication));
    let total = (0..exp.points.len() * exp.replications as usize).filter(|j| shard.takes(*j)).count();
    let extra = serde_json::json!({
        "inputs": exp.inputs.iter().map(|(f, h)| serde_json::json!({ "file": f, "sha256": h })).collect::<Vec<_>>(),
        "shard": shard_text,
        "impsim_commit": crate::output::COMMIT,
        "partial": ran.interrupted,
        "threads": threads,
        "wall_seconds": started.elapsed().as_secs_f64(),
        "note": "runs.csv, points.csv and timeseries.csv are a pure function of the experiment; threads and wall time here are not",
    });
    let folder = staging.path("");
    let written = if shard.count > 1 || ran.interrupted {
        write_runs(&folder, &meta, &records, extra)
    } else {
        write_all(&folder, &meta, &records, extra)
    };
    let ((), dir) = staging.finish(written)?;
    Ok(if ran.interrupted { SweepEnd::Partial { dir, done: records.len(), total } } else { SweepEnd::Complete(dir) })
}

/// The runs of the partial folder an interrupted sweep wrote (Ctrl-C, SIGTERM), if it is this
/// experiment's and shard's and is partial.
fn partial_runs(
    dir: &Path,
    meta: &crate::experiment::results::Meta,
    shard_text: Option<&str>,
) -> Result<Vec<crate::experiment::results::RunRecord>, OutputError> {
    use crate::output::out_err;
    let (m, recs) = crate::experiment::results::read_runs(dir)?;
    let manifest: serde_json::Value =
        crate::output::read_text(&dir.join("manifest.json"), crate::output::MANIFEST_LIMIT)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
    if !m.same_experiment(meta) || manifest["shard"].as_str() != shard_text {
        return Err(out_err(dir, "this folder holds another experiment (or shard); --resume needs the same one"));
    }
    if manifest["partial"] != serde_json::Value::Bool(true) {
        return Err(out_err(dir, "this folder is complete; nothing to resume"));
    }
    if let Some(why) = m.other_checks(meta) {
        return Err(out_err(dir, why));
    }
    Ok(recs)
}

/// Add the journaled runs that the partial folder does not already hold.
fn add_new_runs(
    previous: &mut Vec<crate::experiment::results::RunRecord>,
    journaled: Vec<crate::experiment::results::RunRecord>,
) {
    for r in journaled {
        if !previous.iter().any(|p| (p.point, p.replication) == (r.point, r.replication)) {
            previous.push(r);
        }
    }
}

/// Combine shard folders into the folder a single-machine run would have written.
pub fn merge_shards(dirs: &[PathBuf], out: &Path, force: bool) -> Result<PathBuf, Error> {
    Ok(merge(dirs, out, force)?)
}

fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<PathBuf, OutputError> {
    use crate::experiment::results::{read_runs, write_all};
    let mut meta = None;
    let mut records = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for d in dirs {
        if let Ok(real) = d.canonicalize()
            && !seen.insert(real)
        {
            return Err(crate::output::out_err(d, "is given twice; give each shard folder once"));
        }
        let (m, r) = read_runs(d)?;
        match &meta {
            None => meta = Some(m),
            Some(first) if !first.same_experiment(&m) => {
                return Err(crate::output::out_err(
                    d,
                    "this shard belongs to another experiment (its manifest differs)",
                ));
            }
            // The merged result is judged once, on one set of thresholds.
            Some(first) if first.checks != m.checks => {
                return Err(crate::output::out_err(
                    d,
                    format!(
                        "this shard was run with other thresholds ({:?}) than the first ({:?}); run every shard with the same --check",
                        m.checks, first.checks
                    ),
                ));
            }
            Some(_) => {}
        }
        records.extend(r);
    }
    let meta = meta.ok_or_else(|| crate::output::out_err(out, "give at least one shard folder"))?;
    records.sort_by_key(|r| (r.point, r.replication));
    for w in records.windows(2) {
        if (w[0].point, w[0].replication) == (w[1].point, w[1].replication) {
            return Err(crate::output::out_err(
                out,
                format!("run {}/{} appears in two shards", w[0].point, w[0].replication),
            ));
        }
    }
    let expected = meta.points.len() * meta.replications as usize;
    if records.len() != expected {
        return Err(crate::output::out_err(
            out,
            format!("the shards hold {} of the experiment's {expected} runs; merge all shards together", records.len()),
        ));
    }
    let staging = Staging::new(out, force, false)?;
    let extra = serde_json::json!({ "merged_from": dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>() });
    let written = write_all(staging.path("").as_path(), &meta, &records, extra);
    staging.finish(written).map(|((), dir)| dir)
}
