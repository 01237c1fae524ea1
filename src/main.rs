//! The `impsim` command line: parse arguments, call the library, map what happened to an exit
//! code. The codes, here and only here: 0 done; 2 bad input, a wrong option, an output that
//! cannot be written, a run a guard refused or a run that stalled; 3 `tune` found nothing that meets the target; 4 `live`: the model and the broker disagree; 5 `reproduce`: the bytes differ; 6 `compare`: a significant regression; 99 a threshold failed (`[thresholds]`, `--check`; the result is written);
//! 130 interrupted (a sweep's finished runs written, marked partial; tune writes nothing); 1 anything else (the machine).

use clap::{Parser, Subcommand};
use impsim::folder::merge_shards;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// Output that never kills or panics impsim when the reader has gone (`impsim run ... | head`,
/// a closed stderr): the run still finishes and writes its result; only the text is lost.
// What impsim says on the terminal; `--quiet` silences all of it but errors and failed
// checks (`shout!`), so a pipeline's log holds what it must act on.
macro_rules! say {
    ($($t:tt)*) => {{ use std::io::Write; if !crate::quiet() { let _ = writeln!(std::io::stdout(), $($t)*); } }};
}
macro_rules! say_part {
    ($($t:tt)*) => {{ use std::io::Write; if !crate::quiet() { let _ = write!(std::io::stdout(), $($t)*); } }};
}
macro_rules! say_err {
    ($($t:tt)*) => {{ use std::io::Write; if !crate::quiet() { let _ = writeln!(std::io::stderr(), $($t)*); } }};
}
macro_rules! say_err_part {
    ($($t:tt)*) => {{ use std::io::Write; if !crate::quiet() { let _ = write!(std::io::stderr(), $($t)*); } }};
}
macro_rules! shout {
    ($($t:tt)*) => {{ use std::io::Write; let _ = writeln!(std::io::stderr(), $($t)*); }};
}

mod cmd;

/// Set by the first Ctrl-C or SIGTERM: work in progress finishes, nothing new starts.
static STOP: AtomicBool = AtomicBool::new(false);

/// Set by `--quiet`.
static QUIET: AtomicBool = AtomicBool::new(false);

fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Every exit code any command returns, for `--help`.
const EXIT_CODES: &str = "Exit codes:
  0    done (compare: no significant regression; live: every check judged, and the model and the broker agree)
  1    the machine failed (e.g. a bench child process died)
  2    bad input, a wrong option, an output that cannot be written, a run refused by a guard, a stalled run
  3    tune: no value meets the target within the budgets
  4    live: the model and the broker disagree on a checked figure
  5    reproduce: the rerun's bytes differ
  6    compare: a significant regression
  7    live: not judged: a check had too little to judge, or the load generator fell behind its schedule
  8    live: a broker failed: it cannot be reached, refused sessions, stopped answering or died
  99   a threshold ([thresholds], --check) failed; the result is written
  130  interrupted (Ctrl-C, SIGTERM); what finished is written, marked partial";

#[derive(Parser)]
#[command(
    name = "impsim",
    version,
    about = "Deterministic simulator of OMA IMPS session retention and recovery",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Print nothing but errors and failed checks (for pipelines; the exit code and the files
    /// say the rest).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario, or an experiment (a sweep with replications).
    Run(cmd::run::RunArgs),
    /// Find the smallest knob value (default: retention) that meets a target within budgets.
    Tune(cmd::tune::TuneArgs),
    /// Measure the simulator: events/s, wall time, peak memory and bytes per client, per
    /// population size, each run in a fresh process; writes a fresh results/runs/bench.csv
    /// (or --out).
    Bench(cmd::bench::BenchArgs),
    /// Drive a real MQTT 5 broker with the scenario's virtual clients in compressed real time,
    /// beside a simulation of the same; writes both and whether they agree.
    Live(cmd::live::LiveArgs),
    /// Compare two results (before and after a change): the key figures, the difference's 95%
    /// interval, a verdict each; exit 6 on a significant regression.
    Compare(cmd::compare::CompareArgs),
    /// Rerun a result from its manifest (inputs checked, same seed and overrides) and say
    /// whether every file comes out byte for byte the same.
    Reproduce(cmd::reproduce::ReproduceArgs),
    /// One measured run in memory, printed as JSON (used by `bench` and by the CI instruction count).
    #[command(hide = true)]
    BenchOne(cmd::bench::BenchOneArgs),
    /// Combine the folders of an experiment's shards into one result.
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// The merged folder.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing --out folder (only one impsim wrote).
        #[arg(long)]
        force: bool,
    },
}

fn exit_code(outcome: cmd::Outcome) -> ExitCode {
    use impsim::Error;
    match outcome {
        Ok(cmd::Done::Success) => ExitCode::SUCCESS,
        Ok(cmd::Done::NothingMeets) => ExitCode::from(3),
        Ok(cmd::Done::Disagrees) => ExitCode::from(4),
        Ok(cmd::Done::Differs) => ExitCode::from(5),
        Ok(cmd::Done::ThresholdsFailed) => ExitCode::from(99),
        Ok(cmd::Done::Regressed) => ExitCode::from(6),
        Ok(cmd::Done::NotJudged) => ExitCode::from(7),
        Ok(cmd::Done::BrokerFailed) => ExitCode::from(8),
        Ok(cmd::Done::Interrupted) => ExitCode::from(130),
        Err(e) => {
            shout!("error: {}", impsim::error::printable(&e.to_string()));
            match e {
                Error::Input(_) | Error::Usage(_) | Error::Output(_) | Error::Refused(_) | Error::Stalled(_) => {
                    ExitCode::from(2)
                }
                Error::Host(_) => ExitCode::from(1),
                Error::Broker(_) => ExitCode::from(8),
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    exit_code(match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Tune(a) => cmd::tune::tune(a),
        Command::Bench(a) => cmd::bench::bench(a),
        Command::Live(a) => cmd::live::live(a),
        Command::Reproduce(a) => cmd::reproduce::reproduce(a),
        Command::Compare(a) => cmd::compare::compare(a),
        Command::BenchOne(a) => cmd::bench::bench_one(a),
        Command::Merge { shards, out, force } => {
            // As a single run: the merge finishes and is written; a second signal aborts.
            cmd::on_signal(
                "interrupted: finishing the merge and writing it (Ctrl-C again to abort)",
                "aborted: nothing written",
                Vec::new(),
            );
            if shards.first().is_some_and(|d| impsim::live::merge::is_live(d)) {
                cmd::live::merge(&shards, &out, force)
            } else {
                merge_shards(&shards, &out, force).and_then(|dir| {
                    say!("merged {} shards into {}", shards.len(), dir.display());
                    cmd::run::experiment_verdicts(&dir, 1)
                })
            }
        }
    })
}
