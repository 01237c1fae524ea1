//! Experiments: a base scenario, sweep axes over any of its fields, and replications; run in
//! parallel (rayon), deterministically, optionally one shard of many machines at a time.
//!
//! Replication r of a point runs with a seed derived from (experiment seed, the point's own
//! values, r), so a result never depends on the thread count, the order runs finish in, or
//! which other points the experiment has.

pub mod journal;
pub mod report;
pub mod results;

pub mod tune;
pub mod tune_report;

use crate::engine::RngKey;
use crate::model::Params;
use crate::scenario::{InputError, err, from_table, set_value, toml_message};
use rayon::prelude::*;
use results::RunRecord;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// The experiment file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    name: Option<String>,
    /// What the experiment asks (report.md opens with it).
    question: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "crate::model::params::seed_text::deserialize_opt")]
    seed: Option<u64>,
    replications: Option<u32>,
    /// A path to a scenario file (relative to the experiment file) or an inline table.
    scenario: Option<toml::Value>,
    /// Fixed overrides of the base scenario: dotted field paths to values.
    set: Option<toml::Table>,
    /// Axes: dotted field paths to lists of values; points are their cartesian product.
    sweep: Option<toml::Table>,
    /// summary.csv columns to plot and tabulate beyond the standard ones.
    metrics: Option<Vec<String>>,
    /// Common random numbers: replication r of every point runs with the same seed.
    crn: Option<bool>,
    /// The answer report.md gives: the point that meets this (`metric>=value`) and `budgets`
    /// with the least retained memory; unlike a threshold, a point that misses it fails nothing.
    target: Option<String>,
    budgets: Option<Vec<String>>,
    /// Bounds every point's result must meet (summary column to `">=x"`, `"<=x"` or a list).
    thresholds: Option<std::collections::BTreeMap<String, crate::check::Bounds>>,
}

/// The most points an experiment may have: each is a resolved scenario held in memory twice
/// (as parameters and in the manifest), about 100 KiB in all (measured: 100,000 points of
/// one-client runs peaked at 10 GB, most of it written out in the last 200 s).
pub(crate) const MAX_POINTS: usize = 10_000;

/// A parsed experiment, ready to run.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The experiment's `name` (default: the file's stem); names its output folder.
    pub name: String,
    pub(crate) question: String,
    pub(crate) description: String,
    /// The experiment seed every run's seed is derived from (default 1).
    pub seed: u64,
    /// Runs per point (default 1), each with its own seed.
    pub replications: u32,
    pub(crate) file: String,
    pub(crate) axes: Vec<String>,
    /// The sweep's points: the cartesian product of the axes, in file order.
    pub points: Vec<Point>,
    pub(crate) metrics: Vec<String>,
    /// Common random numbers (`crn = true`): replication r of every point uses the same seed, so
    /// differences between points carry less noise (compare them by paired differences).
    pub crn: bool,
    /// Every file read (the experiment, its scenario) with its SHA-256, for the manifest.
    pub(crate) inputs: Vec<(String, String)>,
    /// The `--set` overrides applied on top of the file, for the manifest and the rerun command.
    pub(crate) overrides: Vec<String>,
    /// Every threshold (`metric>=value`): the experiment's `[thresholds]`, its scenario's, and
    /// `--check`; each must hold at every point.
    pub(crate) checks: Vec<String>,
    /// The `--check` arguments among them, for the rerun command.
    pub(crate) check_args: Vec<String>,
    /// What the answer must meet (`metric>=value`, canonical), and its budgets.
    pub(crate) target: String,
    pub(crate) budgets: Vec<String>,
}

impl Experiment {
    /// Add `--check` conditions; the message of the first that does not parse.
    pub fn add_checks(&mut self, exprs: &[String]) -> Result<(), String> {
        for c in crate::check::parse_all(exprs)? {
            if !self.checks.contains(&c.text()) {
                self.checks.push(c.text());
            }
        }
        self.check_args.extend(exprs.iter().cloned());
        Ok(())
    }
}

/// One point of the sweep: its value on each axis and the scenario they resolve to.
#[derive(Clone, Debug)]
pub struct Point {
    /// Display values, one per axis.
    pub(crate) values: Vec<String>,
    /// The point's fully resolved scenario; each replication replaces its `seed`.
    pub params: Params,
}

impl Point {
    /// `axis=value;axis=value`: the point's identity, from which its seeds derive.
    pub(crate) fn label(&self, axes: &[String]) -> String {
        axes.iter().zip(&self.values).map(|(a, v)| format!("{a}={v}")).collect::<Vec<_>>().join(";")
    }
}

/// True if a TOML text is an experiment (rather than a plain scenario).
pub fn is_experiment(text: &str) -> bool {
    toml::from_str::<toml::Table>(text)
        .is_ok_and(|t| t.contains_key("sweep") || t.contains_key("replications") || t.contains_key("scenario"))
}

/// A value as it appears in labels and CSV columns.
pub(crate) fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(_) | toml::Value::Array(_) => v.to_string().replace('\n', " ").trim().to_string(),
        other => other.to_string(),
    }
}

/// The values of sweep axis `k` as the file wrote them.
fn spec_list<'a>(spec: &'a ExperimentFile, k: &str) -> &'a [toml::Value] {
    spec.sweep.as_ref().and_then(|t| t.get(k)).and_then(|v| v.as_array()).map_or(&[], |a| a.as_slice())
}

/// A swept value in one spelling per value, since a point's label (and so its seeds) is made
/// of it: a duration in the largest unit up to hours that writes it whole ("60s" -> "1m",
/// "1h30m" -> "90m", "24h" stays), a size in the largest binary or decimal unit that writes it
/// whole ("2048KiB" -> "2MiB"); anything else as written.
pub(crate) fn canonical_value(v: &toml::Value) -> toml::Value {
    let toml::Value::String(s) = v else { return v.clone() };
    if let Ok(d) = crate::engine::parse_duration(s) {
        let us = d.as_micros();
        let units = [("h", 3_600_000_000u64), ("m", 60_000_000), ("s", 1_000_000), ("ms", 1_000), ("us", 1)];
        let text = if us == 0 {
            "0s".to_string()
        } else {
            let (name, scale) = units.iter().find(|(_, n)| us.is_multiple_of(*n)).copied().unwrap_or(("us", 1));
            format!("{}{name}", us / scale)
        };
        return toml::Value::String(text);
    }
    let has_unit = s.trim().ends_with(|c: char| c.is_ascii_alphabetic());
    if has_unit && let Ok(b) = crate::engine::parse_size(s) {
        let units = [
            ("TiB", 1u64 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
            ("GB", 1_000_000_000),
            ("MB", 1_000_000),
            ("KB", 1_000),
        ];
        let text = match units.iter().find(|(_, n)| b > 0 && b.is_multiple_of(*n)) {
            Some((name, n)) => format!("{}{name}", b / n),
            None => format!("{b}B"),
        };
        return toml::Value::String(text);
    }
    v.clone()
}

/// Read an experiment file and resolve every point's scenario (validated up front, so a bad
/// value fails before any run starts).
pub fn load(path: &Path, extra_set: &[String]) -> Result<Experiment, InputError> {
    let text = crate::scenario::read_text(path)?;
    from_text(&text, path, extra_set)
}

/// An experiment from its file's text (read once by the caller); `path` names it in errors
/// and locates the files it refers to.
pub fn from_text(text: &str, path: &Path, extra_set: &[String]) -> Result<Experiment, InputError> {
    let file = path.display().to_string();
    let de = toml::Deserializer::parse(text).map_err(|e| err(&file, "", toml_message(&e)))?;
    let spec: ExperimentFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let p = e.path().to_string();
        err(&file, if p == "." { "" } else { &p }, toml_message(e.inner()))
    })?;
    let dir = crate::scenario::base_dir(path).to_path_buf();
    let mut inputs = vec![(file.clone(), crate::output::sha256_hex(text.as_bytes()))];
    let (mut base, base_dir, base_name) = base_scenario(&spec, &file, &dir, &mut inputs)?;
    for (k, v) in spec.set.iter().flatten() {
        set_value(&mut base, k, v.clone()).map_err(|m| err(&file, &format!("set.{k}"), m))?;
    }
    for o in extra_set {
        crate::scenario::apply_override(&mut base, o).map_err(|m| err("--set", o, m))?;
    }
    let replications = spec.replications.unwrap_or(1);
    if replications == 0 {
        return Err(err(&file, "replications", "must be at least 1"));
    }
    let (axes, values) = sweep_axes(&spec, &file, extra_set)?;
    let points = resolve_points(&base, &axes, &values, &file, &base_name, &base_dir)?;
    let metrics = spec.metrics.clone().unwrap_or_default();
    check_metrics(&metrics, &file)?;
    let name = spec.name.unwrap_or_else(|| match path.file_stem() {
        Some(s) if !crate::input::is_stdin(path) => s.to_string_lossy().into_owned(),
        _ => "experiment".into(),
    });
    crate::scenario::check_name(&name).map_err(|m| err(&file, "name", m))?;
    let own =
        crate::check::from_table(&spec.thresholds.clone().unwrap_or_default()).map_err(|(f, m)| err(&file, &f, m))?;
    let scenario_own = points.first().map(|p| crate::check::from_table(&p.params.thresholds));
    let scenario_own = scenario_own.transpose().map_err(|(f, m)| err(&file, &f, m))?.unwrap_or_default();
    let bound = |field: &str, text: &str| {
        crate::check::Condition::parse(text).map(|c| c.text()).map_err(|m| err(&file, field, m))
    };
    let target = spec.target.as_deref().map(|t| bound("target", t)).transpose()?.unwrap_or_default();
    let budgets = spec.budgets.clone().unwrap_or_default();
    let budgets = budgets.iter().map(|b| bound("budgets", b)).collect::<Result<Vec<_>, _>>()?;
    if !budgets.is_empty() && target.is_empty() {
        return Err(err(&file, "budgets", "budgets bound the answer to a target: give `target` too"));
    }
    let mut checks: Vec<String> = Vec::new();
    for c in own.iter().chain(&scenario_own) {
        if !checks.contains(&c.text()) {
            checks.push(c.text());
        }
    }
    Ok(Experiment {
        name,
        question: spec.question.unwrap_or_default(),
        description: spec.description.unwrap_or_default(),
        seed: spec.seed.unwrap_or(1),
        replications,
        file,
        axes,
        points,
        metrics,
        crn: spec.crn.unwrap_or(false),
        inputs,
        overrides: extra_set.to_vec(),
        checks,
        check_args: Vec::new(),
        target,
        budgets,
    })
}

/// The scenario the experiment sweeps: a file it names (hashed into `inputs`), an inline
/// table, or none (the defaults); with the folder its relative paths start from and its name.
fn base_scenario(
    spec: &ExperimentFile,
    file: &str,
    dir: &Path,
    inputs: &mut Vec<(String, String)>,
) -> Result<(toml::Table, PathBuf, String), InputError> {
    let file = file.to_string();
    let dir = dir.to_path_buf();
    Ok(match &spec.scenario {
        None => (toml::Table::new(), dir.clone(), file.clone()),
        Some(toml::Value::String(p)) => {
            let sp = dir.join(p);
            let stext = crate::scenario::read_text(&sp)?;
            inputs.push((sp.display().to_string(), crate::output::sha256_hex(stext.as_bytes())));
            let t: toml::Table =
                toml::from_str(&stext).map_err(|e| err(&sp.display().to_string(), "", toml_message(&e)))?;
            (t, sp.parent().unwrap_or(Path::new(".")).to_path_buf(), sp.display().to_string())
        }
        Some(toml::Value::Table(t)) => (t.clone(), dir.clone(), file.clone()),
        Some(_) => return Err(err(&file, "scenario", "give a path to a scenario file or an inline table")),
    })
}

/// The swept fields and their values, refused when a fixed value (`[set]` or `--set`) would
/// be overwritten at every point or when the product of the axes is too large.
fn sweep_axes(
    spec: &ExperimentFile,
    file: &str,
    extra_set: &[String],
) -> Result<(Vec<String>, Vec<Vec<toml::Value>>), InputError> {
    let mut axes = Vec::new();
    let mut values: Vec<Vec<toml::Value>> = Vec::new();
    for (k, v) in spec.sweep.iter().flatten() {
        let list = v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            err(file, &format!("sweep.{k}"), "give a non-empty list of values, e.g. [\"5m\", \"30m\"]")
        })?;
        // A value names its point in every table and plot: one line of printable text.
        if let Some(bad) = list.iter().map(display_value).find(|d| d.chars().any(char::is_control)) {
            return Err(err(
                file,
                &format!("sweep.{k}"),
                format!("{bad:?} holds a line break or control character; write each value on one line"),
            ));
        }
        // A threshold is judged at every point with one bound; a swept bound would be judged
        // with the first point's (S-independent: a pipeline's gate, not the model).
        if k == "thresholds" || k.starts_with("thresholds.") {
            return Err(err(
                file,
                &format!("sweep.{k}"),
                "thresholds cannot be swept: every point is judged by the same bounds; put them in [thresholds] or --check",
            ));
        }
        // Equal values spelled differently ("60s", "1m") are one point: one label, one seed.
        let list: Vec<toml::Value> = list.iter().map(canonical_value).collect();
        for (i, v) in list.iter().enumerate() {
            if let Some(j) = list[..i].iter().position(|w| w == v) {
                return Err(err(
                    file,
                    &format!("sweep.{k}"),
                    format!(
                        "{} and {} are the same value ({}); sweep each value once",
                        display_value(&spec_list(spec, k)[j]),
                        display_value(&spec_list(spec, k)[i]),
                        display_value(v)
                    ),
                ));
            }
        }
        axes.push(k.clone());
        values.push(list);
    }
    // A fixed value for a swept field would be overwritten at every point: say so.
    for (k, _) in spec.set.iter().flatten() {
        if axes.contains(k) {
            return Err(err(
                file,
                &format!("set.{k}"),
                format!("`{k}` is swept; a fixed value would be ignored: remove one of them"),
            ));
        }
    }
    for o in extra_set {
        let k = o.split('=').next().unwrap_or("").trim();
        if axes.iter().any(|a| a == k) {
            return Err(err(
                "--set",
                k,
                format!("`{k}` is swept by {file}; a fixed value would be ignored: remove the --set"),
            ));
        }
    }
    // Refused before the product is built: a sweep's points are all resolved up front.
    let count = values.iter().fold(1u128, |n, v| n.saturating_mul(v.len() as u128));
    if count > MAX_POINTS as u128 {
        return Err(err(
            file,
            "sweep",
            format!("{count} points (the product of the axes' lengths); at most {MAX_POINTS}: sweep fewer values"),
        ));
    }
    Ok((axes, values))
}

/// Every point of the sweep (the Cartesian product, the last axis varying fastest), resolved
/// and validated up front.
fn resolve_points(
    base: &toml::Table,
    axes: &[String],
    values: &[Vec<toml::Value>],
    file: &str,
    base_name: &str,
    base_dir: &Path,
) -> Result<Vec<Point>, InputError> {
    // Cartesian product, the last axis varying fastest.
    let mut combos: Vec<Vec<usize>> = vec![vec![]];
    for vals in values {
        combos = combos.into_iter().flat_map(|c| (0..vals.len()).map(move |i| [c.clone(), vec![i]].concat())).collect();
    }
    let mut points = Vec::with_capacity(combos.len());
    let mut seen = std::collections::HashMap::new();
    for combo in combos {
        let mut table = base.clone();
        let mut shown = Vec::new();
        for (a, &i) in combo.iter().enumerate() {
            let v = values[a][i].clone();
            shown.push(display_value(&v));
            set_value(&mut table, &axes[a], v).map_err(|m| err(file, &format!("sweep.{}", axes[a]), m))?;
        }
        let label = format!("{file} (scenario {base_name} at {})", shown.join(", "));
        let params = from_table(table, &label, base_dir).map_err(|mut e| {
            if let Some(a) = axes.iter().find(|a| **a == e.field) {
                e.field = format!("sweep.{a}");
                e.message = format!("(sweep axis) {}", e.message);
            }
            e
        })?;
        // Two points that resolve to the same scenario are one point written twice (1 and 1.0
        // for a real number, say): refused, as each would be run and tabulated apart.
        let resolved = serde_json::to_string(&params).unwrap_or_default();
        if let Some(&twin) = seen.get(&resolved) {
            let this = Point { values: shown, params }.label(axes);
            let twin: &Point = &points[twin];
            return Err(err(
                file,
                "sweep",
                format!("the points {} and {this} are the same scenario; sweep each value once", twin.label(axes)),
            ));
        }
        seen.insert(resolved, points.len());
        points.push(Point { values: shown, params });
    }
    Ok(points)
}

/// The metrics an experiment plots must be summary.csv columns.
fn check_metrics(metrics: &[String], file: &str) -> Result<(), InputError> {
    let known = crate::run::summary_columns();
    for (i, m) in metrics.iter().enumerate() {
        if !known.contains(m) {
            return Err(err(file, &format!("metrics[{i}]"), crate::check::not_a_column(m)));
        }
    }
    Ok(())
}

/// FNV-1a: a stable 64-bit hash of a point's label.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The seed of replication `r` of the point labelled `label`; with common random numbers every
/// point shares the seeds of one label.
pub(crate) fn run_seed(experiment_seed: u64, label: &str, r: u32, crn: bool) -> u64 {
    let h = fnv1a(if crn { CRN_LABEL } else { label });
    RngKey::from_seed(experiment_seed).draw(h as u32, (h >> 32) as u32, r as u64)
}

/// The label whose seeds every point uses under common random numbers.
const CRN_LABEL: &str = "common random numbers";

/// Shard `i` of `n` (1-based) takes the runs whose index in the (point, replication) list is
/// congruent to i-1 modulo n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard this is, from 1 (the i of `i/N`).
    pub index: u32,
    /// How many shards the runs are split into (the N of `i/N`).
    pub count: u32,
}

impl Shard {
    /// The shard written `i/N` (`--shard`), with 1 <= i <= N; otherwise the message to show.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or("write a shard as i/N, e.g. 1/4")?;
        let (index, count): (u32, u32) =
            (i.trim().parse().map_err(|_| "i must be a number")?, n.trim().parse().map_err(|_| "N must be a number")?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {s}: need 1 <= i <= N"));
        }
        Ok(Shard { index, count })
    }
    /// The whole experiment: shard 1/1.
    pub fn all() -> Shard {
        Shard { index: 1, count: 1 }
    }
    pub(crate) fn takes(&self, job: usize) -> bool {
        job % self.count as usize == (self.index - 1) as usize
    }
}

/// Progress of a sweep, for a person or a log.
pub trait Progress: Sync {
    /// A run finished: `done` of the sweep's `total` runs, `events` processed by those done,
    /// `elapsed` wall seconds since the sweep started.
    fn run_done(&self, done: usize, total: usize, events: u64, elapsed: f64);
    /// The sweep's runs are over: all done, or stopped by an interruption or a failure.
    fn finish(&self) {}
    /// Something the person running the sweep should know.
    fn note(&self, _: &str) {}
}

/// A `Progress` that reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {
    fn run_done(&self, _: usize, _: usize, _: u64, _: f64) {}
}

/// What a sweep produced: its records in (point, replication) order, and whether it was
/// interrupted before every run of the shard was done.
pub struct Ran {
    /// The finished runs, in (point, replication) order.
    pub records: Vec<RunRecord>,
    pub(crate) interrupted: bool,
}

/// Run this shard's (point, replication) runs on `threads` threads, skipping those in `done`,
/// appending each finished run to `journal`.
/// Runs not yet started when `stop` is set are left out (the sweep is then `interrupted`).
/// Records come back in (point, replication) order. A run whose simulated time stalls fails the
/// whole sweep with the message to show.
pub fn run(
    exp: &Experiment,
    shard: Shard,
    threads: usize,
    progress: &dyn Progress,
    stop: &AtomicBool,
    done_before: &BTreeSet<(usize, u32)>,
    journal: Option<&results::Journal>,
) -> Result<Ran, crate::Error> {
    let jobs: Vec<(usize, u32)> = (0..exp.points.len())
        .flat_map(|p| (0..exp.replications).map(move |r| (p, r)))
        .enumerate()
        .filter(|(j, pr)| shard.takes(*j) && !done_before.contains(pr))
        .map(|(_, pr)| pr)
        .collect();
    let total = jobs.len();
    let done = AtomicUsize::new(0);
    let events = AtomicU64::new(0);
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build().expect("a thread pool");
    let results: Vec<Option<Result<RunRecord, crate::Error>>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(p, r)| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let point = &exp.points[p];
                let mut params = point.params.clone();
                params.seed = run_seed(exp.seed, &point.label(&exp.axes), r, exp.crn);
                let (report, _) = crate::run::simulate(params, ());
                if let Some(t) = report.outcome.stalled_at {
                    stop.store(true, Ordering::Relaxed);
                    return Some(Err(crate::Error::Stalled(format!(
                        "point {} ({}), replication {r}: {}",
                        p,
                        point.label(&exp.axes),
                        crate::run::stalled_message(t)
                    ))));
                }
                // Journaled before anything is said about it: the run is safe first.
                let record = RunRecord::from_report(p, r, &report);
                if let Some(j) = journal
                    && let Err(e) = j.append(&record)
                {
                    stop.store(true, Ordering::Relaxed);
                    return Some(Err(e.into()));
                }
                let n = report.outcome.metrics.c.events;
                let ev = events.fetch_add(n, Ordering::Relaxed) + n;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.run_done(d, total, ev, started.elapsed().as_secs_f64());
                Some(Ok(record))
            })
            .collect()
    });
    progress.finish();
    let interrupted = results.iter().any(|r| r.is_none());
    let mut records = Vec::with_capacity(results.len());
    for r in results.into_iter().flatten() {
        records.push(r?);
    }
    Ok(Ran { records, interrupted })
}
