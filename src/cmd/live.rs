//! `impsim live`: drive a real MQTT 5 broker with the scenario's virtual clients in compressed
//! real time, beside a simulation of the same, and write both with the verdict.

use super::{Done, Outcome, ScenarioOptions, usage};
use crate::STOP;
use impsim::live::calibrate::{CalibrateOptions, HEADER};
use impsim::live::driver::{DriveOptions, Progress};
use impsim::live::scale::Scale;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(clap::Args)]
pub struct LiveArgs {
    /// The scenario file (TOML); its retention and requested TTL must divide by --scale into
    /// whole seconds.
    #[arg(required_unless_present = "calibrate")]
    pub scenario: Option<PathBuf>,
    /// The broker, HOST:PORT (loopback only, unless --allow-remote).
    #[arg(long)]
    pub broker: String,
    /// Time compression K: the scenario's user times, retention and keep-alive divided by K.
    #[arg(long, required_unless_present = "calibrate")]
    pub scale: Option<u32>,
    /// Instead of a scenario: measure the broker's heap per retained session and per
    /// subscription, and write them as a cost table (`[cost] file = "..."` in a scenario).
    #[arg(long, conflicts_with_all = ["scenario", "scale", "seed", "set"])]
    pub calibrate: bool,
    /// With --calibrate: sessions per measurement [default: 2000].
    #[arg(long)]
    pub sessions: Option<u32>,
    /// With --calibrate: the subscriptions per session to measure, comma-separated (cover the
    /// range your sessions have: the cost table is the straight line through them)
    /// [default: 1,5,20].
    #[arg(long, value_delimiter = ',')]
    pub subscriptions: Option<Vec<u32>>,
    #[command(flatten)]
    pub scenario_options: ScenarioOptions,
    /// Output folder (default: a fresh results/runs/live-<name>-seed<N>); with --calibrate,
    /// the cost table's file (default: a fresh results/runs/broker-cost.toml).
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
        calibrate,
        sessions,
        subscriptions,
        scenario_options: ScenarioOptions { seed, set },
        out,
        force,
        allow_remote,
        max_inflight,
        connect_rate,
        time_limit,
    } = a;
    let addr = impsim::live::resolve_broker(&broker, allow_remote)?;
    let limit =
        impsim::engine::parse_duration(&time_limit).map_err(|e| impsim::Error::Usage(format!("--time-limit: {e}")))?;
    let limit = Duration::from_micros(limit.as_micros());
    if connect_rate.is_nan() || connect_rate <= 0.0 || max_inflight == 0 {
        return usage("--connect-rate and --max-inflight must be positive");
    }
    if calibrate {
        let sessions = sessions.unwrap_or(2000);
        let subscriptions = subscriptions.unwrap_or_else(|| vec![1, 5, 20]);
        let opts =
            CalibrateOptions { broker: addr, sessions, subscriptions, max_inflight, connect_rate, time_limit: limit };
        return run_calibration(opts, &broker, out, force);
    }
    if sessions.is_some() || subscriptions.is_some() {
        return usage("--sessions and --subscriptions go with --calibrate");
    }
    let (Some(scenario), Some(scale)) = (scenario, scale) else {
        return usage("impsim live needs a SCENARIO and --scale (or --calibrate)");
    };
    let text = impsim::scenario::read_text(&scenario)?;
    let file = scenario.display().to_string();
    let mut params = impsim::scenario::parse(&text, &file, impsim::scenario::base_dir(&scenario), &set)?;
    if let Some(s) = seed {
        params.seed = s;
    }
    let scale = Scale::new(scale).or_else(usage)?;
    scale.check(&params).map_err(|(field, why)| impsim::Error::Usage(format!("{file}: field `{field}`: {why}")))?;
    impsim::live::reachable(addr)?;
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
        (real as f64 / 1e6).min(limit.as_secs_f64())
    );
    let opts = DriveOptions { broker: addr, scale, max_inflight, connect_rate, time_limit: limit };
    let terminal = std::io::stderr().is_terminal();
    let last_tenth = std::cell::Cell::new(0u32);
    let show = |p: &Progress| {
        let line = format!(
            "  {:.0} of {:.0} s: broker {} connected, {} retained; {} recovery attempts ({:.1}% Session Present); \
             latest action {:.1} ms late{}",
            p.elapsed,
            p.length,
            count(p.connected),
            count(p.retained),
            p.attempts,
            100.0 * p.present as f64 / p.attempts.max(1) as f64,
            p.late_ms,
            if p.errors > 0 { format!("; {} connection errors", p.errors) } else { String::new() }
        );
        let tenth = (p.elapsed / p.length.max(1e-9) * 10.0) as u32;
        if terminal {
            say_err_part!("\r{line}   ");
        } else if tenth > last_tenth.get() {
            last_tenth.set(tenth);
            say_err!("{line}");
        }
    };
    let ran = impsim::live::run(&params, opts, &STOP, &show);
    if terminal {
        say_err_part!("\r{:120}\r", "");
    }
    let (sim, measured, rows) = ran?;
    let sha = impsim::output::sha256_hex(text.as_bytes());
    let src =
        impsim::live::report::Source { file: &file, sha256: &sha, overrides: &set, broker: &broker, seed: params.seed };
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

/// `--calibrate`: measure, print the levels and the fit, write the cost table.
fn run_calibration(opts: CalibrateOptions, broker: &str, out: Option<PathBuf>, force: bool) -> Outcome {
    let levels: std::collections::BTreeSet<u32> = opts.subscriptions.iter().copied().collect();
    if levels.len() < 2 || opts.sessions == 0 {
        return usage(
            "--calibrate needs --sessions of at least 1 and two different --subscriptions counts (e.g. 1,5,20)",
        );
    }
    let out = super::output_file(out, "results/runs/broker-cost.toml", force, HEADER, "a cost table impsim wrote")?;
    impsim::live::reachable(opts.broker)?;
    let need = u64::from(opts.sessions) + 64;
    impsim::guard::raise_open_files(need, need).map_err(impsim::Error::Host)?;
    let _ = ctrlc::set_handler(|| {
        STOP.store(true, Ordering::SeqCst);
    });
    say_err!(
        "impsim {}: calibrating {broker}: {} sessions with {:?} subscriptions each (about {} s)",
        env!("CARGO_PKG_VERSION"),
        opts.sessions,
        opts.subscriptions,
        opts.subscriptions.len() * 12
    );
    let c = impsim::live::calibrate::calibrate(opts, &STOP).map_err(impsim::Error::Host)?;
    if STOP.load(Ordering::SeqCst) {
        return Ok(Done::Interrupted);
    }
    say!(
        "{:>13} {:>9} {:>16} {:>15} {:>15}",
        "subscriptions",
        "sessions",
        "connected_bytes",
        "retained_bytes",
        "leftover_bytes"
    );
    for l in &c.levels {
        say!(
            "{:>13} {:>9} {:>16.0} {:>15.0} {:>15.0}",
            l.subscriptions,
            l.sessions,
            l.connected_bytes,
            l.retained_bytes,
            l.leftover_bytes
        );
    }
    say!(
        "per retained session {:.0} bytes + {:.0} bytes per subscription ({})",
        c.per_session,
        c.per_subscription,
        c.version
    );
    super::write_output_file(&out, impsim::live::calibrate::cost_table(&c, broker).as_bytes())?;
    say!("  wrote {} (use it with [cost] file = \"...\")", out.display());
    Ok(Done::Success)
}

/// A `$SYS` count for the progress line ("?" until the broker has published it).
fn count(v: f64) -> String {
    if v.is_finite() { format!("{v:.0}") } else { "?".into() }
}
