//! `impsim bench`: the simulator's own speed and memory on reference workloads, and the small
//! fixed workload CI measures in instructions (tests/perf/callgrind.sh).

use crate::Error;
use crate::model::Params;
use std::time::Instant;

/// One measured run.
#[derive(Clone, Debug)]
pub struct BenchRow {
    pub(crate) workload: String,
    pub(crate) clients: u32,
    pub(crate) sap_workers: u32,
    pub(crate) sim_hours: f64,
    pub(crate) events: u64,
    pub(crate) wall_seconds: f64,
    pub(crate) peak_rss_bytes: u64,
}

impl BenchRow {
    pub(crate) fn events_per_second(&self) -> f64 {
        self.events as f64 / self.wall_seconds.max(1e-9)
    }
    pub(crate) fn events_per_client_day(&self) -> f64 {
        self.events as f64 / self.clients.max(1) as f64 / (self.sim_hours / 24.0)
    }
    /// The row as one line of JSON: what `impsim bench-one` prints and `table` reads back.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "workload": self.workload, "clients": self.clients, "sap_workers": self.sap_workers, "sim_hours": self.sim_hours,
            "events": self.events, "wall_seconds": self.wall_seconds, "peak_rss_bytes": self.peak_rss_bytes,
        })
        .to_string()
    }
    pub(crate) fn from_json(s: &str) -> Option<BenchRow> {
        let v: serde_json::Value = serde_json::from_str(s).ok()?;
        Some(BenchRow {
            workload: v["workload"].as_str()?.to_string(),
            clients: v["clients"].as_u64()? as u32,
            sap_workers: v["sap_workers"].as_u64()? as u32,
            sim_hours: v["sim_hours"].as_f64()?,
            events: v["events"].as_u64()?,
            wall_seconds: v["wall_seconds"].as_f64()?,
            peak_rss_bytes: v["peak_rss_bytes"].as_u64()?,
        })
    }
}

/// Simulate in memory (no output files) and measure.
pub fn measure(workload: &str, params: Params) -> BenchRow {
    let (clients, sap_workers) = (params.clients, params.sap.workers);
    let sim_hours = params.duration.0.as_micros() as f64 / 3.6e9;
    let started = Instant::now();
    let (outcome, ()) = crate::model::Sim::new(params).run();
    let wall_seconds = started.elapsed().as_secs_f64();
    BenchRow {
        workload: workload.to_string(),
        clients,
        sap_workers,
        sim_hours,
        events: outcome.metrics.c.events,
        wall_seconds,
        peak_rss_bytes: crate::guard::peak_rss_bytes().unwrap_or(0),
    }
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The first columns of bench's table: how `bench --force` recognises a table bench wrote.
pub const HEADER: &str = "workload,clients,sap_workers,sim_hours,repeat,events,wall_seconds,";

/// What `impsim bench` measures: each population size `repeat` times, every run in a fresh
/// process (`exe bench-one`), so one run's memory never inflates the next one's peak.
pub struct Plan {
    /// The impsim executable each measurement runs (`impsim bench-one`).
    pub exe: std::path::PathBuf,
    /// The workload scenario file, run at each population size.
    pub workload: std::path::PathBuf,
    /// The population sizes (clients) to measure.
    pub clients: Vec<u32>,
    /// Simulated time per run, a duration like "24h" (with no warm-up); `None`: the workload's own.
    pub duration: Option<String>,
    /// Runs per population size, each in a fresh process; the table reports their medians.
    pub repeat: u32,
    /// Scale `sap.workers` by clients / the workload's clients, so every size runs the SAP at the same load.
    pub scale_sap: bool,
}

/// One measured run of `n` clients in a fresh process (`impsim bench-one`).
fn measure_in_process(plan: &Plan, n: u32) -> Result<BenchRow, String> {
    let mut c = std::process::Command::new(&plan.exe);
    c.arg("bench-one").arg(&plan.workload).arg("--clients").arg(n.to_string());
    if let Some(d) = &plan.duration {
        c.arg("--duration").arg(d);
    }
    if plan.scale_sap {
        c.arg("--scale-sap");
    }
    let o = c.output().map_err(|e| e.to_string())?;
    if !o.status.success() {
        let text = String::from_utf8_lossy(&o.stderr).trim().to_string();
        return Err(text.strip_prefix("error: ").map(String::from).unwrap_or(text));
    }
    BenchRow::from_json(String::from_utf8_lossy(&o.stdout).trim()).ok_or_else(|| "bad bench-one output".to_string())
}

/// bench.csv's columns.
const COLUMNS: [&str; 11] = [
    "workload",
    "clients",
    "sap_workers",
    "sim_hours",
    "repeat",
    "events",
    "wall_seconds",
    "events_per_second",
    "peak_rss_bytes",
    "bytes_per_client",
    "events_per_client_day",
];

/// One run's row of bench.csv (`i`: its repeat; memory per client above the baseline process).
fn csv_row(x: &BenchRow, n: u32, i: usize, baseline: u64) -> Vec<String> {
    vec![
        x.workload.clone(),
        n.to_string(),
        x.sap_workers.to_string(),
        format!("{:.3}", x.sim_hours),
        i.to_string(),
        x.events.to_string(),
        format!("{:.3}", x.wall_seconds),
        format!("{:.0}", x.events_per_second()),
        x.peak_rss_bytes.to_string(),
        format!("{:.1}", (x.peak_rss_bytes as f64 - baseline as f64).max(0.0) / n as f64),
        format!("{:.1}", x.events_per_client_day()),
    ]
}

/// Run the plan, reporting a line per size through `say`, and return the table as CSV text.
pub fn table(plan: &Plan, say: &mut dyn FnMut(&str)) -> Result<Vec<u8>, Error> {
    // Bad input is said here, once, as such; a child's failure after this is the machine's.
    crate::scenario::load(&plan.workload, &[])?;
    let one = |n: u32| measure_in_process(plan, n).map_err(Error::Host);
    // The fixed cost of a process that simulates (almost) nothing.
    let baseline = one(1)?.peak_rss_bytes;
    say(&format!(
        "impsim bench: {} ({} runs per size, medians; SAP workers {}; baseline RSS {:.1} MiB)",
        plan.workload.display(),
        plan.repeat,
        if plan.scale_sap { "scaled with the population" } else { "as in the workload" },
        baseline as f64 / 1048576.0
    ));
    say(&format!(
        "{:>10} {:>8} {:>13} {:>9} {:>10} {:>11} {:>12} {:>14}",
        "clients", "sim h", "events", "wall s", "M ev/s", "peak MiB", "bytes/client", "ev/client/day"
    ));
    let mut rows = Vec::new();
    let mut csv_rows = Vec::new();
    for &n in &plan.clients {
        let mut runs = Vec::new();
        for _ in 0..plan.repeat.max(1) {
            runs.push(one(n)?);
        }
        let wall = median(runs.iter().map(|r| r.wall_seconds).collect());
        let rate = median(runs.iter().map(|r| r.events_per_second()).collect());
        let rss = median(runs.iter().map(|r| r.peak_rss_bytes as f64).collect());
        let per_client = (rss - baseline as f64).max(0.0) / n as f64;
        let r = &runs[0];
        say(&format!(
            "{:>10} {:>8.1} {:>13} {:>9.2} {:>10.2} {:>11.1} {:>12.0} {:>14.0}",
            n,
            r.sim_hours,
            r.events,
            wall,
            rate / 1e6,
            rss / 1048576.0,
            per_client,
            r.events_per_client_day()
        ));
        csv_rows.extend(runs.iter().enumerate().map(|(i, x)| csv_row(x, n, i, baseline)));
        rows.push((n, rate, per_client));
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        say(&format!("cost per event, largest vs smallest population: {:.2}x", first.1 / last.1));
    }
    let header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
    crate::output::tables::csv_text(&header, &csv_rows).map_err(Error::Host)
}

#[cfg(test)]
mod tests {
    /// `HEADER` (how `bench --force` recognises a table it wrote) is how the table starts.
    #[test]
    fn the_recognised_header_is_the_start_of_the_columns() {
        assert!(super::COLUMNS.join(",").starts_with(super::HEADER));
    }
}
