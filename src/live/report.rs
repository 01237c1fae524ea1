//! A live run's folder: summary.csv (live and simulated columns), attempts.csv (each recovery
//! attempt and its prediction), sessions.csv (the driver's count of sessions without a
//! connection), sys.csv (each broker's `$SYS` figures), timeseries.csv and a plot of retained
//! sessions, report.md with the verdict and who was the bottleneck, manifest.json. A shard of a
//! larger run writes its measurements only (`impsim merge` compares the whole). Written whole or
//! not at all (output::Staging).

use super::compare::{
    Comparison, GUARD_BAND, MIN_ATTEMPTS, MIN_SYS_SAMPLES, Phase, RETAINED_TOLERANCE, STRICT_AGREEMENT, SYS_AGREEMENT,
    simulated_retained,
};
use super::driver::Shard;
use super::measured::{Ending, Measured};
use super::scale::Scale;
use crate::Error;
use crate::output::plot::{Chart, Series, save_chart};
use crate::output::tables::{csv_text, write_json};
use crate::output::{Staging, out_err, write_atomic};
use crate::run::Report;
use std::path::{Path, PathBuf};

/// What the folder says about where the run came from and how it was driven.
pub struct Source<'a> {
    /// The scenario file, as given.
    pub file: &'a str,
    /// Its SHA-256.
    pub sha256: &'a str,
    /// `--set` overrides.
    pub overrides: &'a [String],
    /// The brokers, as given.
    pub brokers: &'a [String],
    /// The seed the run used.
    pub seed: u64,
    /// The slice of the users this process drove.
    pub shard: Shard,
    /// The p99 lateness past which the driver fell behind, ms.
    pub late_limit_ms: f64,
    /// The scenario as run (the seed and overrides applied).
    pub params: &'a crate::model::Params,
}

fn cell(v: f64) -> String {
    // + 0.0 turns -0.0 (an empty sum) into 0.0.
    if v.is_finite() { format!("{:.6}", v + 0.0) } else { String::new() }
}

/// A figure for a person: counts whole, other values to four significant places or so.
fn human(v: f64) -> String {
    let v = v + 0.0; // -0.0 (an empty sum) reads 0
    match v.abs() {
        x if !x.is_finite() => String::new(),
        x if v.fract() == 0.0 && x < 1e15 => format!("{v:.0}"),
        x if x >= 100.0 => format!("{v:.1}"),
        x if x >= 10.0 => format!("{v:.2}"),
        _ => format!("{v:.4}"),
    }
}

/// The driver's count of sessions without a connection, sampled at 500 instants of the run.
fn seen_series(intervals: &[(f64, f64)], length: f64) -> Vec<(f64, f64)> {
    let mut edges: Vec<(f64, i64)> = intervals.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    edges.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut level, mut i, mut out) = (0i64, 0, Vec::with_capacity(501));
    for k in 0..=500 {
        let t = length * f64::from(k) / 500.0;
        while i < edges.len() && edges[i].0 <= t {
            level += edges[i].1;
            i += 1;
        }
        out.push((t, level as f64));
    }
    out
}

/// The sum over brokers of their `$SYS` gauges, as one step function.
fn gauge_sum(m: &Measured) -> Vec<(f64, f64)> {
    if m.brokers.len() == 1 {
        return m.brokers[0].retained.clone();
    }
    let mut events: Vec<(f64, usize, f64)> =
        m.brokers.iter().enumerate().flat_map(|(b, x)| x.retained.iter().map(move |&(t, v)| (t, b, v))).collect();
    events.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut last = vec![f64::NAN; m.brokers.len()];
    events
        .into_iter()
        .filter_map(|(t, b, v)| {
            last[b] = v;
            last.iter().all(|x| x.is_finite()).then(|| (t, last.iter().sum()))
        })
        .collect()
}

/// How the run ended, for a person.
fn ending(m: &Measured) -> String {
    match &m.ending {
        Ending::Finished => "ran to the scenario's end".into(),
        Ending::TimeLimit => "stopped at --time-limit (the simulation covers the same stretch)".into(),
        Ending::Interrupted => "INTERRUPTED by a signal (the simulation covers the same stretch)".into(),
        Ending::Aborted(why) => format!("STOPPED EARLY: {why}"),
    }
}

/// The bottleneck table.
fn phases_md(c: &Comparison, m: &Measured, limit_ms: f64) -> String {
    let mut s = format!(
        "\n## Who was the limit\n\nThe driver ({} threads on {} cores, {} virtual clients, peak memory {:.1} MB, \
         {:.0} bytes per client) against its own schedule: an action is late from when it was due to when it went \
         out (a connect's pacing included). Past {limit_ms:.0} ms (p99) the driver fell behind, and its timing \
         figures are its own, not the broker's.\n\n\
         | phase | real s | actions | late p50 ms | late p99 ms | late max ms | driver cores | busiest broker cores | machine busy | the limit |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
        m.threads,
        m.cores,
        m.clients,
        m.peak_rss as f64 / 1e6,
        m.peak_rss as f64 / f64::from(m.clients.max(1))
    );
    for p in &c.phases {
        s.push_str(&format!(
            "| {} | {:.1} | {} | {} | {} | {} | {:.2} | {} | {} | {}{} |\n",
            p.name,
            p.seconds,
            p.actions,
            human(p.late_p50_ms),
            human(p.late_p99_ms),
            human(p.late_max_ms),
            p.driver_cores,
            p.broker_cores.map_or("unknown".to_string(), |b| format!("{b:.2}")),
            if p.machine_busy.is_finite() { format!("{:.0}%", 100.0 * p.machine_busy) } else { "unknown".into() },
            p.limit.word(),
            if p.limit.why().is_empty() { String::new() } else { format!(": {}", p.limit.why()) }
        ));
    }
    s
}

/// The one-page answer.
fn report_md(c: &Comparison, m: &Measured, scale: Scale, src: &Source) -> String {
    let mut s = format!(
        "# Live run against {}\n\nScenario `{}` played {}x faster than simulated time ({:.0} s of real time; {}), \
         beside a simulation of the same scenario, seed and broker rules over the same stretch of time.\n\n\
         **Verdict: {}.**\n\n",
        src.brokers.join(", "),
        src.file,
        scale.factor(),
        m.wall_seconds,
        ending(m),
        c.verdict.line()
    );
    s.push_str("| figure | live | simulated | check |\n|---|---|---|---|\n");
    for r in &c.rows {
        s.push_str(&format!("| {} | {} | {} | {} |\n", r.metric, human(r.live), human(r.simulated), r.check.word()));
    }
    let not: Vec<String> = c
        .rows
        .iter()
        .filter_map(|r| match &r.check {
            super::compare::Check::NotJudged(w) => Some(format!("- `{}` not judged: {w}\n", r.metric)),
            _ => None,
        })
        .collect();
    if !not.is_empty() {
        s.push('\n');
        s.push_str(&not.concat());
    }
    s.push_str(&format!(
        "\nChecks: each recovery attempt's Session Present against the broker's rule applied to the times \
         the driver saw (agreement at least {:.1}% of at least {MIN_ATTEMPTS} judged attempts). Of {} attempts, \
         {} fell within {GUARD_BAND} s of a rule's boundary (a session's whole-second expiry, or the keep-alive \
         sweep) and {} had no prediction (the driver never saw the old connection end, or it was on another \
         broker): those are not judged, since the broker's clock may have counted either side. The Session \
         Present rate, live against simulated (pooled 95% test). The time-weighted mean of sessions retained \
         without a connection over the whole run within {:.0}% of the simulation's (event-based, same window), \
         counted from each session's close to its client's return or its expiry by the broker's rule; and that \
         count against each broker's own gauge (`$SYS/broker/clients/disconnected`) at each of its samples (at \
         least {:.0}% within one session, of at least {MIN_SYS_SAMPLES} samples: the broker needs \
         `sys_interval 1`). The gauge is computed just before the broker's keep-alive sweep and sent just after \
         it, so a time-weighted mean of the gauge alone would read low. `auto_logouts` are silent connections the \
         broker closed before their client came back; `relogin_drops` those closed after their client came back \
         under a new Client Identifier (the simulation ends them at that login). `broker_failures` are \
         connections the broker refused, reset, closed or left unanswered past the deadline; `driver_failures` \
         this machine's (no local port, no descriptor, a PINGREQ sent too late). For the broker's memory per \
         session and per subscription, run `impsim live --calibrate`.\n",
        STRICT_AGREEMENT * 100.0,
        m.attempts.len(),
        c.in_guard_band,
        c.unpredicted,
        RETAINED_TOLERANCE * 100.0,
        SYS_AGREEMENT * 100.0
    ));
    s.push_str(&phases_md(c, m, src.late_limit_ms));
    s.push_str(&failures_md(m));
    s.push_str("\n![retained sessions](retained.png)\n");
    s.push_str(&format!(
        "\nReproduce with (brokers configured as in tests/live/broker.sh): `{}`. The simulated column comes out \
         the same on any machine; the live one is what these brokers did on this machine, within the checks \
         above.\n",
        command(src, scale)
    ));
    s
}

fn failures_md(m: &Measured) -> String {
    let total = m.broker_failures() + m.driver_failures;
    if total == 0 {
        return String::new();
    }
    let mut s = format!(
        "\n## Failures\n\n{total} in all: {} the brokers' ({}), {} this machine's. The first {}:\n\n",
        m.broker_failures(),
        m.brokers.iter().map(|b| format!("{} {}", b.addr, b.failures)).collect::<Vec<_>>().join(", "),
        m.driver_failures,
        m.failure_messages.len()
    );
    for e in &m.failure_messages {
        s.push_str(&format!("- {e}\n"));
    }
    s
}

/// The command that reruns this run (or this shard).
fn command(src: &Source, scale: Scale) -> String {
    let sets: String = src.overrides.iter().map(|o| format!(" --set '{o}'")).collect();
    let brokers: String = src.brokers.iter().map(|b| format!(" --broker {b}")).collect();
    let shard = if src.shard.count > 1 { format!(" --shard {}", src.shard) } else { String::new() };
    format!("impsim live {} --seed {}{sets}{brokers} --scale {}{shard}", src.file, src.seed, scale.factor())
}

/// The raw measurements, which `impsim merge` reads back to join shards.
fn write_measurements(dir: &Path, m: &Measured) -> Result<(), Error> {
    let p = dir.join("attempts.csv");
    let header: Vec<String> = ["client", "broker", "sent_s", "session_present", "predicted", "margin_s", "connack_ms"]
        .map(String::from)
        .to_vec();
    let body: Vec<Vec<String>> = m
        .attempts
        .iter()
        .map(|a| {
            vec![
                a.client.to_string(),
                a.broker.to_string(),
                format!("{:.6}", a.sent),
                (a.session_present as u8).to_string(),
                a.predicted.map_or(String::new(), |x| (x as u8).to_string()),
                cell(a.margin.min(1e9)),
                format!("{:.3}", a.latency * 1e3),
            ]
        })
        .collect();
    write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("sessions.csv");
    let header: Vec<String> = ["broker", "from_s", "to_s"].map(String::from).to_vec();
    let body: Vec<Vec<String>> = m
        .brokers
        .iter()
        .enumerate()
        .flat_map(|(b, x)| {
            x.retained_seen.iter().map(move |&(f, t)| vec![b.to_string(), format!("{f:.6}"), cell(t.min(1e12))])
        })
        .collect();
    write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("sys.csv");
    let header: Vec<String> = ["broker", "real_s", "figure", "value"].map(String::from).to_vec();
    let mut body = Vec::new();
    for (b, x) in m.brokers.iter().enumerate() {
        for (name, series) in [("retained", &x.retained), ("connected", &x.connected), ("heap", &x.heap)] {
            body.extend(series.iter().map(|&(t, v)| vec![b.to_string(), format!("{t:.6}"), name.to_string(), cell(v)]));
        }
        body.extend(
            x.refreshes.iter().map(|&t| vec![b.to_string(), format!("{t:.6}"), "refresh".into(), String::new()]),
        );
    }
    write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
    Ok(())
}

/// The driver's own figures, for the manifest (and for `impsim merge`).
fn driver_json(m: &Measured, phases: &[Phase]) -> serde_json::Value {
    let num = |v: f64| if v.is_finite() { serde_json::json!(v) } else { serde_json::Value::Null };
    serde_json::json!({
        "threads": m.threads,
        "cores": m.cores,
        "clients": m.clients,
        "peak_rss_bytes": m.peak_rss,
        "wall_seconds": m.wall_seconds,
        "ramp_seconds": m.ramp_seconds,
        "start_epoch": m.start_epoch,
        "cpu_seconds": m.driver_cpu_seconds,
        "lateness_ms": {
            "ramp": {"p50": num(m.timing.ramp.ms(0.5)), "p99": num(m.timing.ramp.ms(0.99)), "max": num(m.timing.ramp.ms(1.0)), "count": m.timing.ramp.len()},
            "steady": {"p50": num(m.timing.steady.ms(0.5)), "p99": num(m.timing.steady.ms(0.99)), "max": num(m.timing.steady.ms(1.0)), "count": m.timing.steady.len()},
        },
        "connack_ms": {"p50": num(m.timing.connack.ms(0.5)), "p99": num(m.timing.connack.ms(0.99)), "max": num(m.timing.connack.ms(1.0))},
        "counts": {
            "fresh": m.fresh, "broker_closed": m.broker_closed, "orphans_closed": m.orphans_closed,
            "logouts": m.logouts, "packets": m.packets, "bytes": m.bytes, "driver_failures": m.driver_failures,
            "broker_failures": m.brokers.iter().map(|b| b.failures).collect::<Vec<_>>(),
        },
        "broker_cpu_seconds": m.brokers.iter().map(|b| b.cpu_seconds).collect::<Vec<_>>(),
        "monitor_lost": m.brokers.iter().map(|b| b.monitor_lost).collect::<Vec<_>>(),
        "failure_messages": m.failure_messages,
        "ending": ending(m),
        "phases": phases.iter().map(|p| serde_json::json!({
            "phase": p.name, "seconds": p.seconds, "actions": p.actions, "late_p50_ms": num(p.late_p50_ms),
            "late_p99_ms": num(p.late_p99_ms), "late_max_ms": num(p.late_max_ms), "driver_cores": num(p.driver_cores),
            "broker_cores": p.broker_cores.map(num), "machine_busy": num(p.machine_busy), "limit": p.limit.word(), "why": p.limit.why(),
        })).collect::<Vec<_>>(),
    })
}

fn write_files(
    dir: &Path,
    run: Option<(&Report, &Comparison)>,
    m: &Measured,
    scale: Scale,
    src: &Source,
    merged_from: &[PathBuf],
) -> Result<(), Error> {
    write_measurements(dir, m)?;
    let mut files = vec!["attempts.csv", "sessions.csv", "sys.csv"];
    if let Some((sim, c)) = run {
        let p = dir.join("summary.csv");
        let header: Vec<String> = ["metric", "live", "simulated", "check"].map(String::from).to_vec();
        let body: Vec<Vec<String>> = c
            .rows
            .iter()
            .map(|r| vec![r.metric.clone(), cell(r.live), cell(r.simulated), r.check.word().to_string()])
            .collect();
        write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
        let k = f64::from(scale.factor());
        let hours = |t: f64| t * k / 3600.0;
        let sim_series = simulated_retained(sim, scale);
        let p = dir.join("timeseries.csv");
        let header: Vec<String> =
            ["source", "real_s", "simulated_hours", "retained_sessions"].map(String::from).to_vec();
        let seen_all: Vec<(f64, f64)> = m.brokers.iter().flat_map(|b| b.retained_seen.iter().copied()).collect();
        let driver_series = seen_series(&seen_all, m.wall_seconds);
        let gauge = gauge_sum(m);
        let mut body = Vec::new();
        for (name, series) in [("broker", &gauge), ("driver", &driver_series), ("simulated", &sim_series)] {
            for &(t, v) in series.iter() {
                body.push(vec![name.to_string(), format!("{t:.3}"), format!("{:.6}", hours(t)), cell(v)]);
            }
        }
        write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
        let series = |name: &str, s: &[(f64, f64)]| Series {
            name: name.to_string(),
            points: s.iter().map(|&(t, v)| (hours(t), v, None)).collect(),
            labels: Vec::new(),
        };
        let chart = Chart {
            title: "Sessions retained without a connection: live against the simulation".into(),
            x_desc: "simulated time (h)".into(),
            y_desc: "retained sessions".into(),
            series: vec![
                series("broker ($SYS gauge)", &gauge),
                series("driver's count", &driver_series),
                series("simulated", &sim_series),
            ],
            ..Chart::default()
        };
        save_chart(dir, "retained", &chart)?;
        let p = dir.join("report.md");
        write_atomic(&p, report_md(c, m, scale, src).as_bytes())?;
        files.extend(["summary.csv", "timeseries.csv", "retained.svg", "retained.png", "report.md"]);
    } else {
        let p = dir.join("report.md");
        let text = format!(
            "# Live shard {} against {}\n\nOne slice of the virtual users of `{}` (client slots c with c mod {} = {}), \
             {}. Join every shard with `impsim merge SHARD_FOLDERS... --out DIR`: the merge pools the strict check, \
             simulates the whole population and judges the whole run.\n\nRerun this shard with `{}`.\n{}",
            src.shard,
            src.brokers.join(", "),
            src.file,
            src.shard.count,
            src.shard.index,
            ending(m),
            command(src, scale),
            failures_md(m)
        );
        write_atomic(&p, text.as_bytes())?;
        files.push("report.md");
    }
    files.push("manifest.json");
    let verdict =
        run.map_or_else(|| "a shard: join the shards with impsim merge".to_string(), |(_, c)| c.verdict.line());
    let sim_params = serde_json::to_value(src.params).unwrap_or(serde_json::Value::Null);
    write_json(
        &dir.join("manifest.json"),
        &serde_json::json!({
            "impsim_version": env!("CARGO_PKG_VERSION"),
            "impsim_commit": crate::output::COMMIT,
            "mode": "live",
            "scenario_file": src.file,
            "scenario_sha256": src.sha256,
            "overrides": src.overrides,
            "brokers": src.brokers,
            "broker": src.brokers.join(","),
            "scale": scale.factor(),
            "seed": src.seed.to_string(),
            "shard": src.shard.to_string(),
            "late_limit_ms": src.late_limit_ms,
            "scenario": sim_params,
            "wall_seconds": m.wall_seconds,
            "verdict": verdict,
            "driver": driver_json(m, &run.map_or_else(|| super::compare::phases(m, src.late_limit_ms), |r| r.1.phases.clone())),
            "files": files,
            "merged_from": merged_from.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
            "note": "live figures depend on the broker and the machine; the simulated ones are a pure function of (scenario, seed)",
        }),
    )?;
    Ok(())
}

/// Write the folder `dir` (replacing one impsim wrote only with `force`); `run` is the
/// simulation and the comparison (None for a shard of a larger run).
pub fn write(
    dir: &Path,
    force: bool,
    run: Option<(&Report, &Comparison)>,
    m: &Measured,
    scale: Scale,
    src: &Source,
) -> Result<PathBuf, Error> {
    let staging = Staging::new(dir, force, false)?;
    let written = write_files(&staging.path(""), run, m, scale, src, &[]);
    staging.finish(written).map(|((), d)| d)
}

/// Write the folder of merged shards (`impsim merge`), naming them in its manifest.
#[allow(clippy::too_many_arguments)]
pub fn write_merged(
    dir: &Path,
    force: bool,
    sim: &Report,
    c: &Comparison,
    m: &Measured,
    scale: Scale,
    src: &Source,
    shards: &[PathBuf],
) -> Result<PathBuf, Error> {
    let staging = Staging::new(dir, force, false)?;
    let written = write_files(&staging.path(""), Some((sim, c)), m, scale, src, shards);
    staging.finish(written).map(|((), d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drivers_count_is_sampled_from_its_intervals() {
        // Two sessions: [1, 3) and [2, 10); at 0, 2, 4, 6, 8, 10 s (a run of 10 s, every 500th).
        let s = seen_series(&[(1.0, 3.0), (2.0, 10.0)], 10.0);
        assert_eq!(s.len(), 501);
        let at = |t: f64| s.iter().find(|p| (p.0 - t).abs() < 1e-9).unwrap().1;
        assert_eq!([at(0.0), at(1.0), at(2.0), at(3.0), at(9.98), at(10.0)], [0.0, 1.0, 2.0, 1.0, 1.0, 0.0]);
        // A session that ends where another starts is counted once at that instant.
        let s = seen_series(&[(0.0, 5.0), (5.0, 8.0)], 10.0);
        assert_eq!(s.iter().map(|p| p.1).fold(0.0, f64::max), 1.0);
    }
}

#[cfg(test)]
mod format_tests {
    use super::human;

    #[test]
    fn figures_read_as_a_person_writes_them() {
        assert_eq!(human(1931.0), "1931");
        assert_eq!(human(0.885034), "0.8850");
        assert_eq!(human(19.386158), "19.39");
        assert_eq!(human(412.25), "412.2");
        assert_eq!(human(-0.5), "-0.5000");
        assert_eq!(human(f64::NAN), "");
        assert_eq!((human(-0.0), super::cell(-0.0)), ("0".into(), "0.000000".into()), "an empty sum is 0");
    }
}
