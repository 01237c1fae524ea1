//! `impsim live`: drive a real MQTT 5 broker with the scenario's virtual clients in compressed
//! real time, beside a simulation of the same, and write both with the verdict.

use super::{Done, Outcome, ScenarioOptions, usage};
use crate::STOP;
use impsim::live::calibrate::{CalibrateOptions, HEADER};
use impsim::live::compare::Verdict;
use impsim::live::driver::{DriveOptions, Progress, Shard};
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
    /// A broker, HOST:PORT (loopback only, unless --allow-remote). Repeat it for a cluster's
    /// nodes or several broker processes: each virtual client goes to one by its Client
    /// Identifier, as a cluster's load balancer would.
    #[arg(long, required = true)]
    pub broker: Vec<String>,
    /// Time compression K: the scenario's user times, retention and keep-alive divided by K.
    #[arg(long, required_unless_present = "calibrate")]
    pub scale: Option<u32>,
    /// Instead of a scenario: measure the broker's heap per retained session and per
    /// subscription, and write them as a cost table (`[cost] file = "..."` in a scenario).
    #[arg(long, conflicts_with_all = ["scenario", "scale", "seed", "set", "shard"])]
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
    /// Allow a broker that is not on loopback (load only a broker you own).
    #[arg(long)]
    pub allow_remote: bool,
    /// At most this many connections waiting for CONNACK, over all threads (Mosquitto's listen
    /// backlog is 100).
    #[arg(long, default_value_t = 50)]
    pub max_inflight: usize,
    /// At most this many new connections per second, over all threads.
    #[arg(long, default_value_t = 2000.0)]
    pub connect_rate: f64,
    /// Stop after this much real time even if the scenario runs longer (e.g. 10m).
    #[arg(long, default_value = "2h")]
    pub time_limit: String,
    /// Threads that drive the virtual clients [default: this machine's cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Drive only slice I of N of the virtual users (1 <= I <= N, client slots c with
    /// c mod N = I - 1), the same users and draws as the whole run; join the shards with
    /// `impsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Spread connections over these local source addresses, comma-separated [default: for
    /// loopback brokers, 127.0.0.x addresses of this shard's own].
    #[arg(long, value_delimiter = ',')]
    pub source_addrs: Option<Vec<std::net::IpAddr>>,
    /// How long a broker has to answer (a connect, CONNACK, SUBACK, PINGRESP) before it counts
    /// as failed.
    #[arg(long, default_value = "10s")]
    pub deadline: String,
    /// The driver fell behind when its actions go out later than this (p99).
    #[arg(long, default_value = "20ms")]
    pub late_limit: String,
    /// Start at this Unix time (seconds), so that shards on several machines start together.
    #[arg(long)]
    pub start_at: Option<u64>,
}

/// A duration option, as real time.
fn real(option: &str, text: &str) -> Result<Duration, impsim::Error> {
    let d = impsim::engine::parse_duration(text).map_err(|e| impsim::Error::Usage(format!("{option}: {e}")))?;
    Ok(Duration::from_micros(d.as_micros()))
}

pub fn live(a: LiveArgs) -> Outcome {
    let brokers: Vec<impsim::live::driver::Broker> =
        a.broker.iter().map(|b| impsim::live::resolve_broker(b, a.allow_remote)).collect::<Result<_, _>>()?;
    if brokers.iter().enumerate().any(|(i, b)| brokers[..i].iter().any(|o| o.addr == b.addr)) {
        return usage("--broker: the same broker twice");
    }
    let limit = real("--time-limit", &a.time_limit)?;
    let deadline = real("--deadline", &a.deadline)?;
    let late_limit = real("--late-limit", &a.late_limit)?;
    if a.connect_rate.is_nan() || a.connect_rate <= 0.0 || a.max_inflight == 0 || deadline.is_zero() {
        return usage("--connect-rate, --max-inflight and --deadline must be positive");
    }
    if a.threads == Some(0) {
        return usage("--threads must be at least 1");
    }
    if a.calibrate {
        if brokers.len() > 1 {
            return usage("--calibrate measures one broker: give one --broker");
        }
        let sessions = a.sessions.unwrap_or(2000);
        let subscriptions = a.subscriptions.unwrap_or_else(|| vec![1, 5, 20]);
        let opts = CalibrateOptions {
            broker: brokers[0].clone(),
            sessions,
            subscriptions,
            max_inflight: a.max_inflight,
            connect_rate: a.connect_rate,
            time_limit: limit,
        };
        return run_calibration(opts, a.out, a.force);
    }
    if a.sessions.is_some() || a.subscriptions.is_some() {
        return usage("--sessions and --subscriptions go with --calibrate");
    }
    let (Some(scenario), Some(scale)) = (a.scenario, a.scale) else {
        return usage("impsim live needs a SCENARIO and --scale (or --calibrate)");
    };
    let shard = a.shard.as_deref().map(Shard::parse).transpose().or_else(usage)?.unwrap_or(Shard::WHOLE);
    if let Some(at) = a.start_at {
        seconds_until(at)?;
    }
    let ScenarioOptions { seed, set } = a.scenario_options;
    let text = impsim::scenario::read_text(&scenario)?;
    let file = scenario.display().to_string();
    let mut params = impsim::scenario::parse(&text, &file, impsim::scenario::base_dir(&scenario), &set)?;
    if let Some(s) = seed {
        params.seed = s;
    }
    let scale = Scale::new(scale).or_else(usage)?;
    impsim::live::check_scenario(&params, scale).map_err(|e| impsim::Error::Usage(format!("{file}: {e}")))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut opts = DriveOptions {
        brokers: brokers.clone(),
        sources: a.source_addrs.unwrap_or_default(),
        scale,
        max_inflight: a.max_inflight,
        connect_rate: a.connect_rate,
        time_limit: limit,
        threads: a.threads.unwrap_or(cores),
        shard,
        deadline,
        monitor: shard.index == 0,
    };
    opts.sources = impsim::live::plan(&params, &opts)?;
    for b in &brokers {
        impsim::live::reachable(b)?;
    }
    let here = (0..params.clients).filter(|&c| shard.has(c)).count() as u64;
    let files = impsim::guard::raise_open_files(here + 64, 2 * here + 64).map_err(impsim::Error::Refused)?;
    let dir = a.out.unwrap_or_else(|| {
        let part = if shard.count > 1 { format!("-shard{}of{}", shard.index + 1, shard.count) } else { String::new() };
        impsim::folder::fresh_folder(&PathBuf::from(format!(
            "results/runs/live-{}-seed{}{part}",
            params.name, params.seed
        )))
    });
    super::on_signal(
        "interrupted: closing every connection, then writing what was measured (Ctrl-C again to abort)",
        "aborted: nothing written",
        Vec::new(),
    );
    if let Some(at) = a.start_at {
        wait_for_start(at)?;
    }
    let real_s = params.duration.0.as_micros() / u64::from(scale.factor());
    say_err!(
        "impsim {}: live {}{} against {}: {} of {} clients on {} threads, {}x compressed ({:.0} s of real time at most), \
         open files {files}, source addresses {}",
        env!("CARGO_PKG_VERSION"),
        params.name,
        if shard.count > 1 { format!(" (shard {shard})") } else { String::new() },
        a.broker.join(", "),
        here,
        params.clients,
        opts.threads,
        scale.factor(),
        (real_s as f64 / 1e6).min(limit.as_secs_f64()),
        if opts.sources.is_empty() { "the kernel's choice".to_string() } else { sources_text(&opts.sources) }
    );
    let terminal = std::io::stderr().is_terminal();
    let last_tenth = std::cell::Cell::new(0u32);
    let show = |p: &Progress| {
        let line = progress_line(p);
        let tenth = (p.elapsed / p.length.max(1e-9) * 10.0) as u32;
        if terminal {
            say_err_part!("\r{line}   ");
        } else if tenth > last_tenth.get() {
            last_tenth.set(tenth);
            say_err!("{line}");
        }
    };
    let late_ms = late_limit.as_secs_f64() * 1e3;
    let ran = impsim::live::run(&params, opts, late_ms, &STOP, &show);
    if terminal {
        say_err_part!("\r{:140}\r", "");
    }
    let (compared, measured) = ran?;
    let sha = impsim::output::sha256_hex(text.as_bytes());
    let src = impsim::live::report::Source {
        file: &file,
        sha256: &sha,
        overrides: &set,
        brokers: &a.broker,
        seed: params.seed,
        shard,
        late_limit_ms: late_ms,
        params: &params,
    };
    let dir =
        impsim::live::report::write(&dir, a.force, compared.as_ref().map(|(s, c)| (s, c)), &measured, scale, &src)?;
    let verdict = match &compared {
        Some((_, c)) => {
            say!("{:<34} {:>14} {:>14}  check", "figure", "live", "simulated");
            for r in &c.rows {
                say!("{:<34} {:>14.4} {:>14.4}  {}", r.metric, r.live, r.simulated, r.check.word());
            }
            for p in &c.phases {
                say!(
                    "{:<8} limit: {}{}",
                    p.name,
                    p.limit.word(),
                    if p.limit.why().is_empty() { String::new() } else { format!(" ({})", p.limit.why()) }
                );
            }
            c.verdict.clone()
        }
        None => match shard_verdict(&measured, late_ms) {
            Some(v) => v,
            None => {
                say!("shard {shard} measured cleanly: join every shard with impsim merge to judge the run");
                say!("  wrote {}", dir.display());
                return Ok(if STOP.load(Ordering::SeqCst) { Done::Interrupted } else { Done::Success });
            }
        },
    };
    say!("verdict: {}", verdict.line());
    say!("  wrote {}", dir.display());
    Ok(if STOP.load(Ordering::SeqCst) { Done::Interrupted } else { done(&verdict) })
}

/// `impsim merge` of live shards: join them, judge the whole run, print it as `live` does.
pub fn merge(shards: &[PathBuf], out: &std::path::Path, force: bool) -> Outcome {
    let merged = impsim::live::merge::merge(shards, out, force)?;
    let c = &merged.comparison;
    print_comparison(c);
    say!("verdict: {}", c.verdict.line());
    say!("merged {} live shards into {}", shards.len(), merged.dir.display());
    Ok(done(&c.verdict))
}

/// The exit a verdict gets.
fn done(v: &Verdict) -> Done {
    match v {
        Verdict::Agrees => Done::Success,
        Verdict::Disagrees => Done::Disagrees,
        Verdict::NotJudged(_) | Verdict::DriverLimited(_) => Done::NotJudged,
        Verdict::BrokerFailed(_) => Done::BrokerFailed,
    }
}

/// The figures and who was the limit, on the terminal.
fn print_comparison(c: &impsim::live::compare::Comparison) {
    say!("{:<34} {:>14} {:>14}  check", "figure", "live", "simulated");
    for r in &c.rows {
        say!("{:<34} {:>14.4} {:>14.4}  {}", r.metric, r.live, r.simulated, r.check.word());
    }
    for p in &c.phases {
        let why = if p.limit.why().is_empty() { String::new() } else { format!(" ({})", p.limit.why()) };
        say!("{:<8} limit: {}{why}", p.name, p.limit.word());
    }
}

/// A shard is judged only when merged; on its own it can say a broker failed or it fell
/// behind (None: it ran cleanly, exit 0).
fn shard_verdict(m: &impsim::live::measured::Measured, late_ms: f64) -> Option<Verdict> {
    let phases = impsim::live::compare::phases(m, late_ms);
    match impsim::live::compare::verdict(m, &[], &phases) {
        Verdict::Agrees => None,
        v => Some(v),
    }
}

/// Seconds from now to Unix time `at`; refused when long past or far ahead.
fn seconds_until(at: u64) -> Result<f64, impsim::Error> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    let wait = at as f64 - now;
    if !(-5.0..=3600.0).contains(&wait) {
        let when = if wait < 0.0 { "has passed" } else { "is more than an hour from now" };
        return usage(format!(
            "--start-at {at} {when}; give a Unix time within the next hour (e.g. $(( $(date +%s) + 30 )))"
        ));
    }
    Ok(wait)
}

/// Wait until Unix time `at` (seconds), or a signal.
fn wait_for_start(at: u64) -> Result<(), impsim::Error> {
    let wait = seconds_until(at)?;
    say_err!("waiting {:.1} s for --start-at {at}", wait.max(0.0));
    let until = std::time::Instant::now() + Duration::from_secs_f64(wait.max(0.0));
    while std::time::Instant::now() < until {
        if STOP.load(Ordering::SeqCst) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn sources_text(s: &[std::net::IpAddr]) -> String {
    match s {
        [one] => one.to_string(),
        [first, .., last] => format!("{} ({first} .. {last})", s.len()),
        [] => String::new(),
    }
}

/// The progress line.
fn progress_line(p: &Progress) -> String {
    let brokers = if p.lost > 0 {
        format!("{} broker(s) LOST", p.lost)
    } else {
        format!("brokers {} connected, {} retained", count(p.connected), count(p.retained))
    };
    format!(
        "  {:.0} of {:.0} s: {brokers}; {} recovery attempts ({:.1}% Session Present); latest action {:.1} ms late{}",
        p.elapsed,
        p.length,
        p.attempts,
        100.0 * p.present as f64 / p.attempts.max(1) as f64,
        p.late_ms,
        if p.failures > 0 { format!("; {} failed", p.failures) } else { String::new() }
    )
}

/// `--calibrate`: measure, print the levels and the fit, write the cost table.
fn run_calibration(opts: CalibrateOptions, out: Option<PathBuf>, force: bool) -> Outcome {
    let broker = opts.broker.name.clone();
    let levels: std::collections::BTreeSet<u32> = opts.subscriptions.iter().copied().collect();
    if levels.len() < 2 || opts.sessions == 0 {
        return usage(
            "--calibrate needs --sessions of at least 1 and two different --subscriptions counts (e.g. 1,5,20)",
        );
    }
    let out = super::output_file(out, "results/runs/broker-cost.toml", force, HEADER, "a cost table impsim wrote")?;
    impsim::live::reachable(&opts.broker)?;
    let need = u64::from(opts.sessions) + 64;
    impsim::guard::raise_open_files(need, need).map_err(impsim::Error::Host)?;
    super::on_signal("interrupted: stopping the calibration", "aborted", Vec::new());
    say_err!(
        "impsim {}: calibrating {broker}: {} sessions with {:?} subscriptions each (about {} s)",
        env!("CARGO_PKG_VERSION"),
        opts.sessions,
        opts.subscriptions,
        opts.subscriptions.len() * 12
    );
    let c = impsim::live::calibrate::calibrate(opts, &STOP).map_err(impsim::Error::Broker)?;
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
    super::write_output_file(&out, impsim::live::calibrate::cost_table(&c, &broker).as_bytes())?;
    say!("  wrote {} (use it with [cost] file = \"...\")", out.display());
    Ok(Done::Success)
}

/// A `$SYS` count for the progress line ("?" until the broker has published it).
fn count(v: f64) -> String {
    if v.is_finite() { format!("{v:.0}") } else { "?".into() }
}
