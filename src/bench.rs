//! `impsim bench`: the simulator's own speed and memory on reference workloads, and the small
//! fixed workload CI measures in instructions (tests/perf/callgrind.sh).

use crate::model::Params;
use std::time::Instant;

/// One measured run.
#[derive(Clone, Debug)]
pub struct BenchRow {
    pub workload: String,
    pub clients: u32,
    pub sap_workers: u32,
    pub sim_hours: f64,
    pub events: u64,
    pub wall_seconds: f64,
    pub peak_rss_bytes: u64,
}

impl BenchRow {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.wall_seconds.max(1e-9)
    }
    pub fn events_per_client_day(&self) -> f64 {
        self.events as f64 / self.clients.max(1) as f64 / (self.sim_hours / 24.0)
    }
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "workload": self.workload, "clients": self.clients, "sap_workers": self.sap_workers, "sim_hours": self.sim_hours,
            "events": self.events, "wall_seconds": self.wall_seconds, "peak_rss_bytes": self.peak_rss_bytes,
        })
        .to_string()
    }
    pub fn from_json(s: &str) -> Option<BenchRow> {
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
    let sim_hours = params.duration.0 as f64 / 3.6e9;
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

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}
