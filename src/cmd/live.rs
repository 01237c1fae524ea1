//! `impsim live`: drive a real MQTT 5 broker with the scenario's virtual clients in compressed
//! real time, beside a simulation of the same, and write both with the verdict.

use super::{Done, Outcome, ScenarioOptions, usage};
use crate::STOP;
use impsim::live::driver::DriveOptions;
use impsim::live::scale::Scale;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(clap::Args)]
pub struct LiveArgs {
    /// The scenario file (TOML); its retention and requested TTL must divide by --scale into
    /// whole seconds.
    pub scenario: PathBuf,
    /// The broker, HOST:PORT (loopback only, unless --allow-remote).
    #[arg(long)]
    pub broker: String,
    /// Time compression K: the scenario's user times, retention and keep-alive divided by K.
    #[arg(long)]
    pub scale: u32,
    #[command(flatten)]
    pub scenario_options: ScenarioOptions,
    /// Output folder (default: a fresh results/runs/live-<name>-seed<N>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing output folder, only if impsim wrote it.
    #[arg(long)]
    pub force: bool,
    /// Allow a broker that is not on this machine (load only a broker you own).
    #[arg(long)]
    pub allow_remote: bool,
    /// At most this many connections waiting for CONNACK (Mosquitto's listen backlog is 100).
    #[arg(long, default_value_t = 50)]
    pub max_inflight: usize,
    /// At most this many new connections per second.
    #[arg(long, default_value_t = 2000.0)]
    pub connect_rate: f64,
    /// Stop after this much real time even if the scenario runs longer (e.g. 10m).
    #[arg(long, default_value = "2h")]
    pub time_limit: String,
}

pub fn live(a: LiveArgs) -> Outcome {
    let LiveArgs {
        scenario,
        broker,
        scale,
        scenario_options: ScenarioOptions { seed, set },
        out,
        force,
        allow_remote,
        max_inflight,
        connect_rate,
        time_limit,
    } = a;
    let text = impsim::scenario::read_text(&scenario)?;
    let file = scenario.display().to_string();
    let mut params = impsim::scenario::parse(&text, &file, impsim::scenario::base_dir(&scenario), &set)?;
    if let Some(s) = seed {
        params.seed = s;
    }
    let scale = Scale::new(scale).or_else(usage)?;
    scale.check(&params).map_err(|(field, why)| impsim::Error::Usage(format!("{file}: field `{field}`: {why}")))?;
    let addr = impsim::live::resolve_broker(&broker, allow_remote)?;
    impsim::live::reachable(addr)?;
    let limit =
        impsim::engine::parse_duration(&time_limit).map_err(|e| impsim::Error::Usage(format!("--time-limit: {e}")))?;
    if connect_rate.is_nan() || connect_rate <= 0.0 || max_inflight == 0 {
        return usage("--connect-rate and --max-inflight must be positive");
    }
    let n = u64::from(params.clients);
    let files = impsim::guard::raise_open_files(n + 64, 2 * n + 64).map_err(impsim::Error::Host)?;
    let dir = out.unwrap_or_else(|| {
        impsim::folder::fresh_folder(&PathBuf::from(format!("results/runs/live-{}-seed{}", params.name, params.seed)))
    });
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        say_err!("\ninterrupted: closing every connection, then writing what was measured (Ctrl-C again to abort)");
    });
    let real = params.duration.0.as_micros() / u64::from(scale.factor());
    say_err!(
        "impsim {}: live {} against {addr}: {} clients, {}x compressed ({:.0} s of real time at most), open files {files}",
        env!("CARGO_PKG_VERSION"),
        params.name,
        params.clients,
        scale.factor(),
        (real as f64 / 1e6).min(Duration::from_micros(limit.as_micros()).as_secs_f64())
    );
    let opts = DriveOptions {
        broker: addr,
        scale,
        max_inflight,
        connect_rate,
        time_limit: Duration::from_micros(limit.as_micros()),
    };
    let (sim, measured, rows) = impsim::live::run(&params, opts, &STOP)?;
    let sha = impsim::output::sha256_hex(text.as_bytes());
    let src = impsim::live::report::Source { file: &file, sha256: &sha, overrides: &set, broker: &broker };
    let dir = impsim::live::report::write(&dir, force, &sim, &measured, &rows, scale, &src)?;
    say!("{:<34} {:>14} {:>14}  check", "figure", "live", "simulated");
    for r in &rows {
        let check = match r.agrees {
            Some(true) => "agrees",
            Some(false) => "DISAGREES",
            None => "",
        };
        say!("{:<34} {:>14.4} {:>14.4}  {check}", r.metric, r.live, r.simulated);
    }
    say!("  wrote {}", dir.display());
    if STOP.load(Ordering::SeqCst) {
        Ok(Done::Interrupted)
    } else if rows.iter().any(|r| r.agrees == Some(false)) {
        Ok(Done::Disagrees)
    } else {
        Ok(Done::Success)
    }
}
