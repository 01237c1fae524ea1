//! A live run's folder: summary.csv (live and simulated columns), attempts.csv (each recovery
//! attempt and its prediction), timeseries.csv and a plot of retained sessions (both curves),
//! report.md with the verdict, manifest.json. Written whole or not at all (output::Staging).

use super::compare::{GUARD_BAND, RETAINED_TOLERANCE, Row, STRICT_AGREEMENT, SYS_AGREEMENT, simulated_retained};
use super::driver::Measured;
use super::scale::Scale;
use crate::Error;
use crate::output::plot::{Chart, Series, save_chart};
use crate::output::tables::{csv_text, write_json};
use crate::output::{Staging, out_err, write_atomic};
use crate::run::Report;
use std::path::{Path, PathBuf};

/// What the folder says about where the run came from.
pub struct Source<'a> {
    /// The scenario file, as given.
    pub file: &'a str,
    /// Its SHA-256.
    pub sha256: &'a str,
    /// `--set` overrides.
    pub overrides: &'a [String],
    /// The broker, as given.
    pub broker: &'a str,
    /// The seed the run used.
    pub seed: u64,
}

fn cell(v: f64) -> String {
    if v.is_finite() { format!("{v:.6}") } else { String::new() }
}

/// A figure for a person: counts whole, other values to four significant places or so.
fn human(v: f64) -> String {
    match v.abs() {
        x if !x.is_finite() => String::new(),
        x if v.fract() == 0.0 && x < 1e15 => format!("{v:.0}"),
        x if x >= 100.0 => format!("{v:.1}"),
        x if x >= 10.0 => format!("{v:.2}"),
        _ => format!("{v:.4}"),
    }
}

fn verdict(r: &Row) -> &'static str {
    match r.agrees {
        Some(true) => "agrees",
        Some(false) => "DISAGREES",
        None => "",
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

/// The one-page answer.
fn report_md(rows: &[Row], m: &Measured, scale: Scale, src: &Source) -> String {
    let ok = rows.iter().all(|r| r.agrees != Some(false));
    let mut s = format!(
        "# Live run against {}\n\nScenario `{}` played {}x faster than simulated time ({:.0} s of real time), \
         beside a simulation of the same scenario, seed and broker rules.\n\n**Verdict: {}.**\n\n",
        src.broker,
        src.file,
        scale.factor(),
        m.wall_seconds,
        if ok { "the model agrees with the broker" } else { "the model and the broker DISAGREE (see below)" }
    );
    s.push_str("| figure | live | simulated | check |\n|---|---|---|---|\n");
    for r in rows {
        s.push_str(&format!("| {} | {} | {} | {} |\n", r.metric, human(r.live), human(r.simulated), verdict(r)));
    }
    s.push_str(&format!(
        "\nChecks: each recovery attempt's Session Present against the broker's rule applied to the times \
         the driver saw (agreement at least {:.1}%, attempts within {GUARD_BAND} s of a rule's boundary not \
         judged); the Session Present rate, live against simulated (pooled 95% test); the time-weighted mean \
         of sessions retained without a connection within {:.0}% of the simulation's retained \
         contexts, counted from each session's close to its client's return or its expiry by the \
         broker's rule; and that count against the broker's own gauge \
         (`$SYS/broker/clients/disconnected`) at each of its samples (at least {:.0}% within one session). \
         The gauge is computed just before the broker's keep-alive sweep and sent just after it, so a \
         time-weighted mean of the gauge alone would read low. `auto_logouts` are silent connections the \
         broker closed before their client came back; `relogin_drops` those closed after their client \
         came back under a new Client Identifier (the simulation ends them at that login). For the \
         broker's memory per session and per subscription, run `impsim live --calibrate`.\n",
        STRICT_AGREEMENT * 100.0,
        RETAINED_TOLERANCE * 100.0,
        SYS_AGREEMENT * 100.0
    ));
    if !m.errors.is_empty() {
        s.push_str(&format!("\nConnection errors ({} shown):\n\n", m.errors.len()));
        for e in &m.errors {
            s.push_str(&format!("- {e}\n"));
        }
    }
    s.push_str("\n![retained sessions](retained.png)\n");
    let sets: String = src.overrides.iter().map(|o| format!(" --set '{o}'")).collect();
    s.push_str(&format!(
        "\nReproduce with (a broker configured as in tests/live/broker.sh): `impsim live {} --seed {}{sets} \
         --broker HOST:PORT --scale {}`. The simulated column comes out the same on any machine; the live \
         one is what this broker did on this machine, within the checks above.\n",
        src.file,
        src.seed,
        scale.factor()
    ));
    s
}

fn write_files(dir: &Path, sim: &Report, m: &Measured, rows: &[Row], scale: Scale, src: &Source) -> Result<(), Error> {
    let p = dir.join("summary.csv");
    let header: Vec<String> = ["metric", "live", "simulated", "check"].map(String::from).to_vec();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.metric.to_string(), cell(r.live), cell(r.simulated), verdict(r).to_string()])
        .collect();
    write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
    let p = dir.join("attempts.csv");
    let header: Vec<String> =
        ["client", "sent_s", "session_present", "predicted", "margin_s", "connack_ms"].map(String::from).to_vec();
    let body: Vec<Vec<String>> = m
        .attempts
        .iter()
        .map(|a| {
            vec![
                a.client.to_string(),
                format!("{:.6}", a.sent),
                (a.session_present as u8).to_string(),
                a.predicted.map_or(String::new(), |x| (x as u8).to_string()),
                cell(a.margin.min(1e9)),
                format!("{:.3}", a.latency * 1e3),
            ]
        })
        .collect();
    write_atomic(&p, &csv_text(&header, &body).map_err(|e| out_err(&p, e))?)?;
    let k = f64::from(scale.factor());
    let hours = |t: f64| t * k / 3600.0;
    let sim_series = simulated_retained(sim, scale);
    let p = dir.join("timeseries.csv");
    let header: Vec<String> = ["source", "real_s", "simulated_hours", "retained_sessions"].map(String::from).to_vec();
    let driver_series = seen_series(&m.retained_seen, m.wall_seconds);
    let mut body = Vec::new();
    for (name, series) in [("broker", &m.retained), ("driver", &driver_series), ("simulated", &sim_series)] {
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
        categories: None,
        series: vec![
            series("broker ($SYS gauge)", &m.retained),
            series("driver's count", &driver_series),
            series("simulated", &sim_series),
        ],
        y_range: None,
        log_y: false,
        marks: Vec::new(),
        warmup: None,
        answer: None,
        ..Chart::default()
    };
    save_chart(dir, "retained", &chart)?;
    let p = dir.join("report.md");
    write_atomic(&p, report_md(rows, m, scale, src).as_bytes())?;
    write_json(
        &dir.join("manifest.json"),
        &serde_json::json!({
            "impsim_version": env!("CARGO_PKG_VERSION"),
            "impsim_commit": crate::output::COMMIT,
            "mode": "live",
            "scenario_file": src.file,
            "scenario_sha256": src.sha256,
            "overrides": src.overrides,
            "broker": src.broker,
            "scale": scale.factor(),
            "seed": sim.params.seed.to_string(),
            "scenario": serde_json::to_value(&sim.params).unwrap_or(serde_json::Value::Null),
            "wall_seconds": m.wall_seconds,
            "files": ["summary.csv", "attempts.csv", "timeseries.csv", "retained.svg", "retained.png", "report.md", "manifest.json"],
            "note": "live figures depend on the broker and the machine; the simulated ones are a pure function of (scenario, seed)",
        }),
    )?;
    Ok(())
}

/// Write the folder `dir` (replacing one impsim wrote only with `force`).
pub fn write(
    dir: &Path,
    force: bool,
    sim: &Report,
    m: &Measured,
    rows: &[Row],
    scale: Scale,
    src: &Source,
) -> Result<PathBuf, Error> {
    let staging = Staging::new(dir, force, false)?;
    let written = write_files(&staging.path(""), sim, m, rows, scale, src);
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
    }
}
