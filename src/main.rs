//! The `impsim` command line: parse arguments, call the library, map errors to exit codes
//! (2 for bad input or an output that cannot be written, 1 for anything else).

use clap::{Parser, Subcommand};
use impsim::folder::merge_shards;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

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

mod cmd;

/// Set by the first Ctrl-C or SIGTERM: work in progress finishes, nothing new starts.
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
    Run(cmd::run::RunArgs),
    /// Find the smallest knob value (default: retention) that meets a target within budgets.
    Tune(cmd::tune::TuneArgs),
    /// Measure the simulator: events/s, wall time, peak memory and bytes per client, per
    /// population size, each run in a fresh process; writes results/bench/bench.csv.
    Bench(cmd::bench::BenchArgs),
    /// One measured run in memory, printed as JSON (used by `bench` and by the CI instruction count).
    #[command(hide = true)]
    BenchOne(cmd::bench::BenchOneArgs),
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

fn input_error(e: impl std::fmt::Display) -> ExitCode {
    say_err!("error: {e}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Tune(a) => cmd::tune::tune(a),
        Command::Bench(a) => cmd::bench::bench(a),
        Command::BenchOne(a) => cmd::bench::bench_one(a),
        Command::Merge { shards, out, force } => match merge_shards(&shards, &out, force) {
            Ok(dir) => {
                say!("merged {} shards into {}", shards.len(), dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => input_error(e),
        },
    }
}
