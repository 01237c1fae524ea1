//! The `impsim` command line: parse arguments, call the library, map errors to exit codes
//! (2 for bad input or an output that cannot be written, 1 for anything else).

use clap::{Parser, Subcommand};
use impsim::run::{RunOutput, describe, run_to_folder};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "impsim", version, about = "Deterministic simulator of OMA IMPS session retention and recovery")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write summary.csv, timeseries.csv and manifest.json.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Master seed (overrides the file's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: results/runs/<name>-seed<N>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a field, e.g. --set retention=2h --set sap.ttl_max=30m (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Also write every transaction to this CSV file.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Replace an existing output folder.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { scenario, seed, out, set, trace, force } => {
            let mut params = match impsim::scenario::load(&scenario, &set) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Some(s) = seed {
                params.seed = s;
            }
            let dir = out.unwrap_or_else(|| PathBuf::from(format!("results/runs/{}-seed{}", params.name, params.seed)));
            let source = scenario.display().to_string();
            let spec = RunOutput { dir: &dir, force, trace: trace.as_deref(), source: &source, overrides: &set };
            match run_to_folder(params, &spec) {
                Ok((report, dir)) => {
                    print!("{}", describe(&report));
                    println!(
                        "  wrote          {}/{{summary.csv, timeseries.csv, timeseries.svg, timeseries.png, manifest.json}}",
                        dir.display()
                    );
                    if let Some(t) = trace {
                        println!("  trace          {}", t.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
