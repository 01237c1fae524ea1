//! `impsim run`: a scenario (one run, its folder, an optional trace) or an experiment (a sweep
//! with replications, shards, resume), with progress on stderr and Ctrl-C handling.

use super::{Done, Outcome, ScenarioOptions, usage};
use crate::STOP;
use impsim::experiment::{self, Progress, Shard};
use impsim::folder::{RunOutput, SweepEnd, SweepOptions, experiment_to_folder};
use impsim::run::describe;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(clap::Args)]
pub struct RunArgs {
    /// A scenario file or an experiment file (TOML).
    pub file: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioOptions,
    /// Output folder (default: a fresh results/runs/<name>-seed<N>, or results/runs/<experiment name>,
    /// with -2, -3, ... added when taken). An existing folder is replaced only with --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scenario only: also write every transaction to this CSV file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Replace an existing output folder, only if impsim wrote it (its manifest lists every
    /// file in it); never `.`, a folder above it, a home folder or a repository root.
    #[arg(long)]
    pub force: bool,
    /// Experiment only: worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Experiment only: run shard i of N of the (point, replication) list, e.g. 2/4.
    #[arg(long)]
    pub shard: Option<String>,
    /// Experiment only: finish an interrupted run in --out (same experiment, same shard).
    #[arg(long)]
    pub resume: bool,
    /// Run even if the memory estimate exceeds what this process can use.
    #[arg(long)]
    pub force_memory: bool,
    /// Run even if the estimated event count is absurd (more than 1e11, hours of work).
    #[arg(long)]
    pub force_events: bool,
    /// A threshold to check on the result, e.g. `recovery_success_rate>=0.95` or
    /// `retained_bytes_peak<=2GiB` (repeatable; beside the file's `[thresholds]`). On an
    /// experiment it must hold at every point, on the 95% interval's side that must clear it.
    /// impsim exits with 99 when one fails (the result is written all the same).
    #[arg(long = "check", value_name = "EXPR")]
    pub checks: Vec<String>,
    /// Also write every threshold's verdict as a JUnit XML report here (one test case per
    /// check and point), for CI systems that show tests; replaced with --force only if impsim
    /// wrote it.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Claim `--junit FILE` before anything runs: a taken name is refused at once.
fn claim_junit(junit: Option<PathBuf>, force: bool) -> Result<Option<PathBuf>, impsim::Error> {
    junit
        .map(|p| super::output_file(Some(p), "", force, impsim::check::JUNIT_HEAD, "a JUnit report impsim wrote"))
        .transpose()
}

/// Write the verdicts to the claimed `--junit` file.
fn write_junit(junit: Option<&Path>, suite: &str, verdicts: &[impsim::check::Verdict]) -> Result<(), impsim::Error> {
    match junit {
        Some(p) => super::write_output_file(p, impsim::check::junit(suite, verdicts).as_bytes()),
        None => Ok(()),
    }
}

pub fn run(a: RunArgs) -> Outcome {
    // Read once: a pipe cannot be read twice, and a file must not change between reads.
    let text = impsim::scenario::read_text(&a.file)?;
    if experiment::is_experiment(&text) { run_experiment(a, &text) } else { run_scenario(a, &text) }
}

fn run_experiment(a: RunArgs, text: &str) -> Outcome {
    let RunArgs {
        file,
        scenario: ScenarioOptions { seed, set },
        out,
        trace,
        force,
        threads,
        shard,
        resume,
        force_memory,
        force_events,
        checks,
        junit,
    } = a;
    let junit = claim_junit(junit, force)?;
    if trace.is_some() {
        return usage(format!("{}: --trace applies to a single scenario run, not to an experiment", file.display()));
    }
    let mut exp = experiment::from_text(text, &file, &set)?;
    if let Some(s) = seed {
        exp.seed = s;
    }
    exp.add_checks(&checks).or_else(usage)?;
    let shard = match shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s.unwrap_or_else(Shard::all),
        Err(e) => return usage(format!("--shard: {e}")),
    };
    let total = exp.points.len().saturating_mul(exp.replications as usize);
    let shard_runs = total.div_ceil(shard.count as usize);
    // More threads than runs would only cost time to create.
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, shard_runs.max(1));
    // --resume needs the folder named; by default a fresh one under results/runs/.
    let dir = match (out, resume) {
        (Some(d), _) => d,
        (None, true) => return usage("--resume: name the folder to finish with --out"),
        (None, false) => impsim::folder::fresh_folder(&PathBuf::from(format!("results/runs/{}", exp.name))),
    };
    if let Some(p) = exp.points.first() {
        for n in impsim::scenario::override_notes(&p.params, &set) {
            say_err!("note: {}", n.replace('`', ""));
        }
    }
    let what = file.display().to_string();
    let points: Vec<&impsim::model::Params> = exp.points.iter().map(|p| &p.params).collect();
    if let Some((i, w)) = points.iter().enumerate().find_map(|(i, p)| Some((i, impsim::run::nothing_happens(p)?))) {
        say_err!("warning: {what}: at point {i} (points.csv numbering): {w}");
    }
    let need = impsim::guard::experiment_memory(&points, exp.replications, threads);
    impsim::guard::check_memory(&what, need, threads, force_memory)?;
    let longest = points.iter().map(|p| impsim::guard::events(p)).fold(0.0, f64::max);
    impsim::guard::check_events(&format!("{what} (its longest run)"), longest, force_events)?;
    say_err!(
        "impsim {}: experiment {} ({} points x {} replications{}, {threads} thread{})",
        env!("CARGO_PKG_VERSION"),
        exp.name,
        exp.points.len(),
        exp.replications,
        if shard.count > 1 { format!(", shard {}/{}", shard.index, shard.count) } else { String::new() },
        if threads == 1 { "" } else { "s" }
    );
    let bar = Bar::new(shard_runs);
    // Ctrl-C: runs in progress finish, no new one starts, and the completed runs are
    // written with the manifest marked partial. A second Ctrl-C aborts at once (the journal
    // keeps the finished runs).
    super::on_signal(
        "interrupted: finishing the runs in progress, then writing a partial result (Ctrl-C again to abort)",
        "aborted: the finished runs are in the journal; --resume finishes the sweep",
        Vec::new(),
    );
    let opts = SweepOptions { threads, shard, force, resume };
    match experiment_to_folder(&exp, &dir, &opts, &bar, &STOP) {
        Ok(SweepEnd::Complete(dir)) => {
            say!("  wrote {}", dir.display());
            if let Some(j) = &junit
                && shard.count == 1
            {
                let (meta, records) = impsim::experiment::results::read_runs(&dir)?;
                write_junit(Some(j), &exp.name, &impsim::experiment::results::verdicts(&meta, &records))?;
            }
            experiment_verdicts(&dir, shard.count)
        }
        Ok(SweepEnd::Partial { dir, done, total }) => {
            let again = impsim::output::command_line(
                "run",
                &file.display().to_string(),
                exp.seed,
                &set,
                &checks,
                &dir.display().to_string(),
            );
            let shard =
                if shard.count > 1 { format!(" --shard {}/{}", shard.index, shard.count) } else { String::new() };
            say!(
                "  partial: {done} of {total} runs written to {} (manifest.json says partial); finish with: {again}{shard} --resume",
                dir.display(),
            );
            Ok(Done::Interrupted)
        }
        Err(e) => Err(e),
    }
}

fn run_scenario(a: RunArgs, text: &str) -> Outcome {
    let RunArgs {
        file,
        scenario: ScenarioOptions { seed, set },
        out,
        trace,
        force,
        threads,
        shard,
        resume,
        force_memory,
        force_events,
        checks,
        junit,
    } = a;
    let junit = claim_junit(junit, force)?;
    if threads.is_some() || shard.is_some() || resume {
        return usage(format!("{}: --threads, --shard and --resume apply to experiments only", file.display()));
    }
    impsim::check::parse_all(&checks).or_else(usage)?;
    let base = impsim::scenario::base_dir(&file);
    let mut params = impsim::scenario::parse(text, &file.display().to_string(), base, &set)?;
    if let Some(s) = seed {
        params.seed = s;
    }
    for n in impsim::scenario::override_notes(&params, &set) {
        say_err!("note: {}", n.replace('`', ""));
    }
    let what = file.display().to_string();
    let idle = impsim::run::nothing_happens(&params);
    if let Some(w) = &idle {
        say_err!("warning: {what}: {w}");
    }
    impsim::guard::check_memory(&what, impsim::guard::run_memory(&params), 1, force_memory)
        .and_then(|()| impsim::guard::check_events(&what, impsim::guard::events(&params), force_events))?;
    let dir = out.unwrap_or_else(|| {
        impsim::folder::fresh_folder(&PathBuf::from(format!("results/runs/{}-seed{}", params.name, params.seed)))
    });
    let source = file.display().to_string();
    let sha256 = impsim::output::sha256_hex(text.as_bytes());
    let spec = RunOutput {
        dir: &dir,
        force,
        trace: trace.as_deref(),
        source: &source,
        source_sha256: &sha256,
        overrides: &set,
        checks: &checks,
    };
    if let Some(t) = &trace
        && (trace_inside(t, &dir) || trace_inside(t, &impsim::output::staging_path(&dir)))
    {
        return usage(format!(
            "{}: --trace must not be inside the --out folder {} or its staging folder {} (the folder is written whole)",
            t.display(),
            dir.display(),
            impsim::output::staging_path(&dir).display()
        ));
    }
    on_signal_finish_the_run(trace.as_deref());
    let started = std::time::Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let show = progress(params.duration.0.as_micros() as f64 / 3.6e9, started, terminal);
    let ran = impsim::folder::run_to_folder_with_progress(params, &spec, Some(&show));
    if terminal && started.elapsed().as_secs_f64() >= 1.0 {
        say_err_part!("\r{:80}\r", "");
    }
    match ran {
        Ok((report, dir)) => {
            if idle.is_none() && report.get("transactions") == Some(0.0) {
                say_err!(
                    "warning: {source}: nothing happened in this run (no transaction): check `startup` and `duration`"
                );
            }
            say_part!("{}", describe(&report));
            say!(
                "  wrote          {}/{{report.md, report.html, summary.csv, summary.json, timeseries.csv, timeseries.svg, timeseries.png, manifest.json}}",
                dir.display()
            );
            if let Some(t) = trace {
                say!("  trace          {}", t.display());
            }
            let verdicts = impsim::folder::run_verdicts(&report, &checks)?;
            write_junit(junit.as_deref(), &report.params.name, &verdicts)?;
            Ok(show_verdicts(&verdicts))
        }
        Err(e) => Err(e),
    }
}

/// Ctrl-C or SIGTERM: the run in progress finishes and is written, as in a sweep (a single
/// run cannot be resumed); a second signal aborts, leaving nothing.
fn on_signal_finish_the_run(trace: Option<&Path>) {
    super::on_signal(
        "interrupted: finishing the run and writing its result (Ctrl-C again to abort)",
        "aborted: no result written",
        trace.map(impsim::output::partial_name).into_iter().collect(),
    );
}

/// Whether the trace file would land inside the output folder (which is written whole).
fn trace_inside(trace: &Path, dir: &Path) -> bool {
    let parent = trace.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    matches!((std::path::absolute(parent), std::path::absolute(dir)), (Ok(td), Ok(od)) if td.starts_with(&od))
}

/// A single run's progress: a line rewritten in place on a terminal, a line per 10% otherwise.
fn progress(hours: f64, started: std::time::Instant, terminal: bool) -> impl Fn(f64) {
    let last_tenth = std::cell::Cell::new(0u32);
    move |done: f64| {
        let elapsed = started.elapsed().as_secs_f64();
        let eta = elapsed * (1.0 - done) / done.max(1e-9);
        let line = format!(
            "  simulated {:.1} of {hours:.1} h ({:.0}%), {} elapsed, ETA {}",
            done * hours,
            done * 100.0,
            clock(elapsed),
            clock(eta)
        );
        if terminal {
            say_err_part!("\r{line}   ");
        } else if (done * 10.0) as u32 > last_tenth.get() {
            last_tenth.set((done * 10.0) as u32);
            say_err!("{line}");
        }
    }
}

/// A bar on a terminal; a plain line about every 10% of runs otherwise (logs, CI).
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    last_tenth: Mutex<usize>,
}

impl Bar {
    fn new(total: usize) -> Bar {
        let bar = (std::io::stderr().is_terminal() && !crate::quiet()).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {msg}  ETA {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Bar { bar, last_tenth: Mutex::new(0) }
    }
}

impl Progress for Bar {
    fn run_done(&self, done: usize, total: usize, events: u64, elapsed: f64) {
        let rate = events as f64 / elapsed.max(1e-9) / 1e6;
        match &self.bar {
            Some(b) => {
                b.set_position(done as u64);
                b.set_message(format!("{rate:.1} M events/s"));
            }
            None => {
                let tenth = done * 10 / total.max(1);
                let mut last = self.last_tenth.lock().unwrap_or_else(|e| e.into_inner());
                if tenth > *last || done == total {
                    *last = tenth;
                    say_err!("  {done}/{total} runs, {rate:.1} M events/s, {elapsed:.1} s");
                }
            }
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
    fn note(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(format!("  {text}")),
            None => say_err!("  {text}"),
        }
    }
}

/// Seconds as h:mm:ss or m:ss.
fn clock(secs: f64) -> String {
    let s = secs.clamp(0.0, 1e9) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Print each threshold with the value it was judged on; `ThresholdsFailed` if one failed.
pub fn show_verdicts(verdicts: &[impsim::check::Verdict]) -> Done {
    for v in verdicts {
        let at = if v.point.is_empty() { String::new() } else { format!(" at {}", v.point) };
        let basis = if v.basis == "value" { String::new() } else { format!(" ({})", v.basis) };
        let value = impsim::run::human_figure(&v.metric, v.value);
        if v.passed {
            say!("  check {}{at}: {value}{basis} ok", v.check);
        } else if crate::quiet() {
            shout!("  check {}{at}: {value}{basis} FAILED", v.check);
        } else {
            say!("  check {}{at}: {value}{basis} FAILED", v.check);
        }
    }
    if impsim::check::all_passed(verdicts) {
        Done::Success
    } else {
        say!(
            "  {} of {} threshold checks FAILED (exit 99)",
            verdicts.iter().filter(|v| !v.passed).count(),
            verdicts.len()
        );
        Done::ThresholdsFailed
    }
}

/// An experiment's thresholds as its folder records them (judged once every shard is merged).
pub fn experiment_verdicts(dir: &Path, shards: u32) -> Outcome {
    if shards > 1 {
        return Ok(Done::Success);
    }
    let (meta, records) = impsim::experiment::results::read_runs(dir)?;
    key_table(&meta, &records);
    let verdicts = impsim::experiment::results::verdicts(&meta, &records);
    let est = impsim::experiment::results::estimates(&meta, &records);
    let answer = impsim::experiment::report::answer(&meta, &records, &est);
    say!("  answer: {}", answer.replace("**", "").replace('`', ""));
    Ok(show_verdicts(&verdicts))
}

/// The experiment's answer on the terminal: per point, the recovery rate with its interval,
/// retained memory and restore times (report.md has the rest).
fn key_table(meta: &impsim::experiment::results::Meta, records: &[impsim::experiment::results::RunRecord]) {
    let est = impsim::experiment::results::estimates(meta, records);
    let h = impsim::run::human_figure;
    let width = (0..est.len()).map(|p| meta.point_label(p).len()).max().unwrap_or(5).max(5);
    say!(
        "  {:<width$}  {:<27}  {:>14}  {:>14}  {:>20}",
        "point",
        "recovery rate (95% CI)",
        "retained mean",
        "retained peak",
        "restore p50 rec/fresh"
    );
    for (p, e) in est.iter().enumerate() {
        let r = &e["recovery_success_rate"];
        // Four decimals, as the reports: with three an interval can read as touching a bound.
        let rate = if !r.mean.is_finite() {
            "-".to_string()
        } else if r.lo.is_finite() {
            format!("{:.4} [{:.4}, {:.4}]", r.mean, r.lo, r.hi)
        } else {
            format!("{:.4}", r.mean)
        };
        let restore = format!(
            "{} / {}",
            h("restore_recovered_ms_p50", e["restore_recovered_ms_p50"].mean),
            h("restore_fresh_ms_p50", e["restore_fresh_ms_p50"].mean)
        );
        say!(
            "  {:<width$}  {rate:<27}  {:>14}  {:>14}  {restore:>20}",
            meta.point_label(p),
            h("retained_bytes_mean", e["retained_bytes_mean"].mean),
            h("retained_bytes_peak", e["retained_bytes_peak"].mean),
        );
    }
}
