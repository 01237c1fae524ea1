//! A live run's folder: summary.csv (live and simulated columns), attempts.csv (each recovery
//! attempt and its prediction), timeseries.csv and a plot of retained sessions (both curves),
//! report.md with the verdict, manifest.json. Written whole or not at all (output::Staging).

use super::compare::{GUARD_BAND, RETAINED_TOLERANCE, Row, STRICT_AGREEMENT, simulated_retained};
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
}

fn cell(v: f64) -> String {
    if v.is_finite() { format!("{v:.6}") } else { String::new() }
}

fn verdict(r: &Row) -> &'static str {
    match r.agrees {
        Some(true) => "agrees",
        Some(false) => "DISAGREES",
        None => "",
    }
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
        s.push_str(&format!("| {} | {} | {} | {} |\n", r.metric, cell(r.live), cell(r.simulated), verdict(r)));
    }
    s.push_str(&format!(
        "\nChecks: each recovery attempt's Session Present against the broker's rule applied to the times \
         the driver saw (agreement at least {:.1}%, attempts within {GUARD_BAND} s of a rule's boundary not \
         judged); the Session Present rate, live against simulated (pooled 95% test); the time-weighted mean \
         of sessions retained without a connection within {:.0}% of the simulation's retained \
         contexts, counted from each session's close to its client's return or its expiry by the \
         broker's rule. The broker's own gauge (`$SYS/broker/clients/disconnected`, \
         `retained_sessions_mean_sys`) is shown beside it, unchecked: under this churn it reads \
         lower than both, which is not yet explained.\n",
        STRICT_AGREEMENT * 100.0,
        RETAINED_TOLERANCE * 100.0
    ));
    if !m.errors.is_empty() {
        s.push_str(&format!("\nConnection errors ({} shown):\n\n", m.errors.len()));
        for e in &m.errors {
            s.push_str(&format!("- {e}\n"));
        }
    }
    s.push_str("\n![retained sessions](retained.png)\n");
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
    let mut body = Vec::new();
    for (name, series) in [("live", &m.retained), ("simulated", &sim_series)] {
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
        title: "Retained sessions: the broker ($SYS) against the simulation".into(),
        x_desc: "simulated time (h)".into(),
        y_desc: "sessions retained without a connection".into(),
        categories: None,
        series: vec![series("live (broker)", &m.retained), series("simulated", &sim_series)],
        y_range: None,
    };
    save_chart(dir, "retained", &chart)?;
    let p = dir.join("report.md");
    write_atomic(&p, report_md(rows, m, scale, src).as_bytes())?;
    write_json(
        &dir.join("manifest.json"),
        &serde_json::json!({
            "impsim_version": env!("CARGO_PKG_VERSION"),
            "mode": "live",
            "scenario_file": src.file,
            "scenario_sha256": src.sha256,
            "overrides": src.overrides,
            "broker": src.broker,
            "scale": scale.factor(),
            "seed": sim.params.seed,
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
