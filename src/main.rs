//! The `impsim` command line: parse arguments, call the library, map errors to exit codes
//! (2 for bad input or an output that cannot be written, 1 for anything else).

use clap::{Parser, Subcommand};
use impsim::experiment::{self, Progress, Shard};
use impsim::folder::{RunOutput, SweepEnd, SweepOptions, experiment_to_folder, merge_shards};
use impsim::run::describe;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Output that never kills or panics impsim when the reader has gone (`impsim run ... | head`,
/// a closed stderr): the run still finishes and writes its result; only the text is lost.
macro_rules! say {
    ($($t:tt)*) => {{ use std::io::Write; let _ = writeln!(std::io::stdout(), $($t)*); }};
}
macro_rules! say_part {
    ($($t:tt)*) => {{ use std::io::Write; let _ = write!(std::io::stdout(), $($t)*); }};
}
macro_rules! say_err {
    ($($t:tt)*) => {{ use std::io::Write; let _ = writeln!(std::io::stderr(), $($t)*); }};
}
macro_rules! say_err_part {
    ($($t:tt)*) => {{ use std::io::Write; let _ = write!(std::io::stderr(), $($t)*); }};
}

static STOP: AtomicBool = AtomicBool::new(false);

#[derive(Parser)]
#[command(name = "impsim", version, about = "Deterministic simulator of OMA IMPS session retention and recovery")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario, or an experiment (a sweep with replications).
    Run {
        /// A scenario file or an experiment file (TOML).
        file: PathBuf,
        /// Master seed (overrides the file's `seed`; 0 to 2^63-1, as in a file).
        #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
        seed: Option<u64>,
        /// Output folder (default: a fresh results/runs/<name>-seed<N>, or results/runs/<experiment name>,
        /// with -2, -3, ... added when taken). An existing folder is replaced only with --force.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario field, e.g. --set retention=2h --set sap.ttl_max=30m (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Scenario only: also write every transaction to this CSV file.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Replace an existing output folder, only if impsim wrote it (its manifest lists every
        /// file in it); never `.`, a folder above it, a home folder or a repository root.
        #[arg(long)]
        force: bool,
        /// Experiment only: worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Experiment only: run shard i of N of the (point, replication) list, e.g. 2/4.
        #[arg(long)]
        shard: Option<String>,
        /// Experiment only: finish an interrupted run in --out (same experiment, same shard).
        #[arg(long)]
        resume: bool,
        /// Run even if the memory estimate exceeds what this process can use.
        #[arg(long)]
        force_memory: bool,
        /// Run even if the estimated event count is absurd (more than 1e11, hours of work).
        #[arg(long)]
        force_events: bool,
    },
    /// Find the smallest knob value (default: retention) that meets a target within budgets.
    Tune {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// The field to tune (a dotted path).
        #[arg(long, default_value = "retention")]
        knob: String,
        /// Candidate values in ascending order, comma-separated (default for retention: 0s..infinite).
        #[arg(long, value_delimiter = ',')]
        values: Vec<String>,
        /// What must hold, e.g. recovery_success_rate>=0.95.
        #[arg(long, default_value = "recovery_success_rate>=0.95")]
        target: String,
        /// A limit, e.g. retained_bytes_peak<=2GiB (repeatable).
        #[arg(long)]
        budget: Vec<String>,
        /// Runs per candidate value.
        #[arg(long, default_value_t = 5)]
        replications: u32,
        #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
        seed: Option<u64>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[arg(long)]
        threads: Option<usize>,
        /// Independent seeds per candidate instead of common random numbers (replication r of
        /// every candidate using the same seed, the default).
        #[arg(long)]
        independent: bool,
    },
    /// Measure the simulator: events/s, wall time, peak memory and bytes per client, per
    /// population size, each run in a fresh process; writes results/bench/bench.csv.
    Bench {
        /// The workload scenario.
        #[arg(long, default_value = DEFAULT_WORKLOAD)]
        workload: PathBuf,
        /// Population sizes to run (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        clients: Vec<u32>,
        /// Override the workload's simulated duration (e.g. 1h for a 10M-client run).
        #[arg(long)]
        duration: Option<String>,
        /// Runs per size (the figures are medians).
        #[arg(long, default_value_t = 3)]
        repeat: u32,
        /// Where to write the table (default: a fresh results/runs/bench.csv, -2, -3, ...).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out table (only one that bench wrote).
        #[arg(long)]
        force: bool,
        /// Keep the workload's SAP workers at every size (by default they scale with the
        /// population, so every size runs the SAP at the same load).
        #[arg(long)]
        fixed_sap: bool,
    },
    /// One measured run in memory, printed as JSON (used by `bench` and by the CI instruction count).
    #[command(hide = true)]
    BenchOne {
        workload: PathBuf,
        #[arg(long)]
        clients: u32,
        #[arg(long)]
        duration: Option<String>,
        /// Scale sap.workers by clients / the workload's clients (at least 1).
        #[arg(long)]
        scale_sap: bool,
    },
    /// Combine the folders of an experiment's shards into one result.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

/// A bar on a terminal; a plain line about every 10% of runs otherwise (logs, CI).
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    last_tenth: Mutex<usize>,
}

impl Bar {
    fn new(total: usize) -> Bar {
        let bar = std::io::stderr().is_terminal().then(|| {
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

const DEFAULT_WORKLOAD: &str = "experiments/bench_1m.toml";

/// `tune`'s exit code when no candidate meets the target within the budgets.
const NOTHING_MEETS: u8 = 3;

fn input_error(e: impl std::fmt::Display) -> ExitCode {
    say_err!("error: {e}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { file, seed, out, set, trace, force, threads, shard, resume, force_memory, force_events } => {
            // Read once: a pipe cannot be read twice, and a file must not change between reads.
            let text = match impsim::scenario::read_text(&file) {
                Ok(t) => t,
                Err(e) => return input_error(e),
            };
            if experiment::is_experiment(&text) {
                if trace.is_some() {
                    return input_error(format!(
                        "{}: --trace applies to a single scenario run, not to an experiment",
                        file.display()
                    ));
                }
                let mut exp = match experiment::from_text(&text, &file, &set) {
                    Ok(e) => e,
                    Err(e) => return input_error(e),
                };
                if let Some(s) = seed {
                    exp.seed = s;
                }
                let shard = match shard.as_deref().map(Shard::parse).transpose() {
                    Ok(s) => s.unwrap_or_else(Shard::all),
                    Err(e) => return input_error(format!("--shard: {e}")),
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
                    (None, true) => return input_error("--resume: name the folder to finish with --out"),
                    (None, false) => impsim::folder::fresh_folder(&PathBuf::from(format!("results/runs/{}", exp.name))),
                };
                let what = file.display().to_string();
                let points: Vec<&impsim::model::Params> = exp.points.iter().map(|p| &p.params).collect();
                let need = impsim::guard::experiment_memory(&points, exp.replications, threads);
                if let Err(e) = impsim::guard::check_memory(&what, need, threads, force_memory) {
                    return input_error(e);
                }
                let longest = points.iter().map(|p| impsim::guard::events(p)).fold(0.0, f64::max);
                if let Err(e) = impsim::guard::check_events(&format!("{what} (its longest run)"), longest, force_events)
                {
                    return input_error(e);
                }
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
                // written with the manifest marked partial. A second Ctrl-C aborts at once.
                let _ = ctrlc::set_handler(|| {
                    if STOP.swap(true, Ordering::SeqCst) {
                        std::process::exit(130);
                    }
                    say_err!(
                        "\ninterrupted: finishing the runs in progress, then writing a partial result (Ctrl-C again to abort)"
                    );
                });
                let opts = SweepOptions { threads, shard, force, resume };
                match experiment_to_folder(&exp, &dir, &opts, &bar, &STOP) {
                    Ok(SweepEnd::Complete(dir)) => {
                        say!("  wrote {}", dir.display());
                        ExitCode::SUCCESS
                    }
                    Ok(SweepEnd::Partial { dir, done, total }) => {
                        say!(
                            "  partial: {done} of {total} runs written to {} (manifest.json says partial); finish with: impsim run {} --out {} --resume",
                            dir.display(),
                            file.display(),
                            dir.display()
                        );
                        ExitCode::from(130)
                    }
                    Err(e) => input_error(e),
                }
            } else {
                if threads.is_some() || shard.is_some() || resume {
                    return input_error(format!(
                        "{}: --threads, --shard and --resume apply to experiments only",
                        file.display()
                    ));
                }
                let base = impsim::scenario::base_dir(&file);
                let mut params = match impsim::scenario::parse(&text, &file.display().to_string(), base, &set) {
                    Ok(p) => p,
                    Err(e) => return input_error(e),
                };
                if let Some(s) = seed {
                    params.seed = s;
                }
                let what = file.display().to_string();
                if let Err(e) = impsim::guard::check_memory(&what, impsim::guard::run_memory(&params), 1, force_memory)
                    .and_then(|()| impsim::guard::check_events(&what, impsim::guard::events(&params), force_events))
                {
                    return input_error(e);
                }
                let dir = out.unwrap_or_else(|| {
                    impsim::folder::fresh_folder(&PathBuf::from(format!(
                        "results/runs/{}-seed{}",
                        params.name, params.seed
                    )))
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
                };
                // Ctrl-C or SIGTERM: the run in progress finishes and is written, as in a sweep
                // (a single run cannot be resumed); a second signal aborts, leaving nothing.
                if let Some(t) = &trace
                    && let (Ok(td), Ok(od)) = (
                        std::path::absolute(t.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))),
                        std::path::absolute(&dir),
                    )
                    && td.starts_with(&od)
                {
                    return input_error(format!(
                        "{}: --trace must not be inside the --out folder {} (the folder is written whole)",
                        t.display(),
                        dir.display()
                    ));
                }
                let staging = impsim::output::staging_path(&dir);
                let trace_partial = trace.as_deref().map(impsim::output::partial_name);
                let _ = ctrlc::set_handler(move || {
                    if STOP.swap(true, Ordering::SeqCst) {
                        let _ = std::fs::remove_dir_all(&staging);
                        if let Some(p) = &trace_partial {
                            let _ = std::fs::remove_file(p);
                        }
                        say_err!("\naborted: no result written");
                        std::process::exit(130);
                    }
                    say_err!("\ninterrupted: finishing the run and writing its result (Ctrl-C again to abort)");
                });
                let hours = params.duration.0 as f64 / 3.6e9;
                let started = std::time::Instant::now();
                let terminal = std::io::stderr().is_terminal();
                let last_tenth = std::cell::Cell::new(0u32);
                let show = |done: f64| {
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
                };
                let ran = impsim::folder::run_to_folder_with_progress(params, &spec, Some(&show));
                if terminal && started.elapsed().as_secs_f64() >= 1.0 {
                    say_err_part!("\r{:80}\r", "");
                }
                match ran {
                    Ok((report, dir)) => {
                        say_part!("{}", describe(&report));
                        say!(
                            "  wrote          {}/{{summary.csv, timeseries.csv, timeseries.svg, timeseries.png, manifest.json}}",
                            dir.display()
                        );
                        if let Some(t) = trace {
                            say!("  trace          {}", t.display());
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => input_error(e),
                }
            }
        }
        Command::Tune { scenario, knob, values, target, budget, replications, seed, set, threads, independent } => {
            tune(scenario, knob, values, target, budget, replications, seed, set, threads, !independent)
        }
        Command::Bench { workload, clients, duration, repeat, out, force, fixed_sap } => {
            bench(workload, clients, duration, repeat, out, force, !fixed_sap)
        }
        Command::BenchOne { workload, clients, duration, scale_sap } => {
            let mut set = vec![format!("clients={clients}")];
            if let Some(d) = duration {
                // A benchmark measures the simulator over the whole run; a shorter run than the
                // workload's warm-up must not be refused for it.
                set.extend([format!("duration={d}"), "warmup=0s".to_string()]);
            }
            if scale_sap {
                match impsim::scenario::load(&workload, &[]) {
                    Ok(w) => {
                        let workers = (w.sap.workers as f64 * clients as f64 / w.clients as f64).round().max(1.0);
                        set.push(format!("sap.workers={workers}"));
                    }
                    Err(e) => return input_error(e),
                }
            }
            match impsim::scenario::load(&workload, &set) {
                Ok(p) => {
                    say!("{}", impsim::bench::measure(&workload.display().to_string(), p).to_json());
                    ExitCode::SUCCESS
                }
                Err(e) => input_error(e),
            }
        }
        Command::Merge { shards, out, force } => match merge_shards(&shards, &out, force) {
            Ok(dir) => {
                say!("merged {} shards into {}", shards.len(), dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => input_error(e),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn tune(
    scenario: PathBuf,
    knob: String,
    values: Vec<String>,
    target: String,
    budget: Vec<String>,
    replications: u32,
    seed: Option<u64>,
    set: Vec<String>,
    threads: Option<usize>,
    crn: bool,
) -> ExitCode {
    use impsim::experiment::tune::{Condition, RETENTION_LADDER, Search, check_ascending, describe};
    let mut base = match impsim::scenario::read_table(&scenario) {
        Ok(t) => t,
        Err(e) => return input_error(e),
    };
    for o in &set {
        if let Err(m) = impsim::scenario::apply_override(&mut base, o) {
            return input_error(format!("--set {o}: {m}"));
        }
    }
    let target = match Condition::parse(&target) {
        Ok(c) => c,
        Err(e) => return input_error(format!("--target {e}")),
    };
    let mut budgets = Vec::new();
    for b in &budget {
        match Condition::parse(b) {
            Ok(c) => budgets.push(c),
            Err(e) => return input_error(format!("--budget {e}")),
        }
    }
    let ladder: Vec<String> = if !values.is_empty() {
        values
    } else if knob == "retention" {
        RETENTION_LADDER.iter().map(|s| s.to_string()).collect()
    } else {
        return input_error(format!("--values: give the candidate values of {knob} in ascending order"));
    };
    if replications == 0 {
        return input_error("--replications must be at least 1");
    }
    let values = ladder
        .iter()
        .map(|v| {
            toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.trim().to_string()))
        })
        .collect::<Vec<_>>();
    if let Err(e) = check_ascending(&values) {
        return input_error(e);
    }
    let seed = seed.unwrap_or_else(|| base.get("seed").and_then(|s| s.as_integer()).unwrap_or(1) as u64);
    let file = scenario.display().to_string();
    let dir = scenario.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let search = Search {
        base,
        file: &file,
        base_dir: &dir,
        knob,
        values,
        target,
        budgets,
        replications,
        seed,
        threads: threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        crn,
    };
    let started = std::time::Instant::now();
    match search.run() {
        Ok(outcome) => {
            say_part!("{}", describe(&outcome, replications));
            say!("  ({} candidates in {:.1} s)", outcome.evaluated.len(), started.elapsed().as_secs_f64());
            // Like a failed threshold: a pipeline must not read "no answer" as success.
            if outcome.recommended.is_some() { ExitCode::SUCCESS } else { ExitCode::from(NOTHING_MEETS) }
        }
        Err(e) => input_error(e),
    }
}

fn bench(
    workload: PathBuf,
    clients: Vec<u32>,
    duration: Option<String>,
    repeat: u32,
    out: Option<PathBuf>,
    force: bool,
    scale_sap: bool,
) -> ExitCode {
    // The default workload, wherever impsim is run from within its checkout.
    let workload = if workload.exists() || workload != Path::new(DEFAULT_WORKLOAD) {
        workload
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_WORKLOAD)
    };
    let out = match out {
        None => {
            let base = PathBuf::from("results/runs/bench.csv");
            (1u32..)
                .map(|i| if i == 1 { base.clone() } else { base.with_file_name(format!("bench-{i}.csv")) })
                .find(|p| !p.exists())
                .unwrap_or(base)
        }
        Some(p) if p.exists() => {
            let ours = std::fs::read_to_string(&p).is_ok_and(|t| t.starts_with(impsim::bench::HEADER));
            if !force {
                return input_error(format!(
                    "{}: exists; choose another --out or pass --force to replace it",
                    p.display()
                ));
            }
            if !ours {
                return input_error(format!("{}: --force refused: not a table impsim bench wrote", p.display()));
            }
            p
        }
        Some(p) => p,
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return input_error(format!("cannot find the impsim executable: {e}")),
    };
    let plan = impsim::bench::Plan { exe, workload, clients, duration, repeat, scale_sap };
    let text = match impsim::bench::table(&plan, &mut |line| say!("{line}")) {
        Ok(t) => t,
        Err(e) => return input_error(e),
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return input_error(format!("{}: {e}", parent.display()));
    }
    match impsim::output::write_atomic(&out, &text) {
        Ok(()) => {
            say!("wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => input_error(e),
    }
}
