//! `impsim bench` (a table of measured runs, each in a fresh process) and `bench-one` (one
//! measured run, printed as JSON: what `bench` and the CI instruction count run).

use super::{Done, Outcome};
use std::path::{Path, PathBuf};

pub const DEFAULT_WORKLOAD: &str = "experiments/bench_1m.toml";

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The workload scenario.
    #[arg(long, default_value = DEFAULT_WORKLOAD)]
    pub workload: PathBuf,
    /// Population sizes to run (comma-separated), each 1 to 2^29.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000",
          value_parser = clap::value_parser!(u32).range(1..=1 << 29))]
    pub clients: Vec<u32>,
    /// Override the workload's simulated duration (e.g. 1h for a 10M-client run).
    #[arg(long)]
    pub duration: Option<String>,
    /// Runs per size (the figures are medians), at least 1.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Where to write the table (default: a fresh results/runs/bench.csv, -2, -3, ...).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing --out table (only one that bench wrote).
    #[arg(long)]
    pub force: bool,
    /// Keep the workload's SAP workers at every size (by default they scale with the
    /// population, so every size runs the SAP at the same load).
    #[arg(long)]
    pub fixed_sap: bool,
}

#[derive(clap::Args)]
pub struct BenchOneArgs {
    /// The workload scenario.
    pub workload: PathBuf,
    /// Population size.
    #[arg(long)]
    pub clients: u32,
    /// Override the workload's simulated duration.
    #[arg(long)]
    pub duration: Option<String>,
    /// Scale sap.workers by clients / the workload's clients (at least 1).
    #[arg(long)]
    pub scale_sap: bool,
}

pub fn bench(a: BenchArgs) -> Outcome {
    let BenchArgs { workload, clients, duration, repeat, out, force, fixed_sap } = a;
    let scale_sap = !fixed_sap;
    // The default workload, wherever impsim is run from within its checkout.
    let workload = if workload.exists() || workload != Path::new(DEFAULT_WORKLOAD) {
        workload
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_WORKLOAD)
    };
    let out =
        super::output_file(out, "results/runs/bench.csv", force, impsim::bench::HEADER, "a table impsim bench wrote")?;
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return Err(impsim::Error::Host(format!("cannot find the impsim executable: {e}"))),
    };
    let plan = impsim::bench::Plan { exe, workload, clients, duration, repeat, scale_sap };
    let text = impsim::bench::table(&plan, &mut |line| say!("{line}"))?;
    super::write_output_file(&out, &text)?;
    say!("wrote {}", out.display());
    Ok(Done::Success)
}

pub fn bench_one(a: BenchOneArgs) -> Outcome {
    let BenchOneArgs { workload, clients, duration, scale_sap } = a;
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
            Err(e) => return Err(e.into()),
        }
    }
    match impsim::scenario::load(&workload, &set) {
        Ok(p) => {
            say!("{}", impsim::bench::measure(&workload.display().to_string(), p).to_json());
            Ok(Done::Success)
        }
        Err(e) => Err(e.into()),
    }
}
