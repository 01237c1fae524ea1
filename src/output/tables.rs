//! summary.csv, timeseries.csv and manifest.json.

use super::{OutputError, out_err, write_atomic};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::metrics::{Cell, Sample};
use std::path::Path;

/// CSV text of a header and rows; reals are already formatted with fixed precision.
pub(crate) fn csv_text(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

pub(crate) fn write_summary(path: &Path, row: &[(String, Cell)]) -> Result<(), OutputError> {
    let header: Vec<String> = row.iter().map(|(k, _)| k.clone()).collect();
    let values: Vec<String> = row.iter().map(|(_, v)| v.to_string()).collect();
    let bytes = csv_text(&header, &[values]).map_err(|e| out_err(path, e))?;
    write_atomic(path, &bytes)
}

pub(crate) const TIMESERIES_COLUMNS: [&str; 8] = [
    "time_s",
    "active_sessions",
    "retained_contexts",
    "retained_bytes",
    "recovery_attempts",
    "recovery_successes",
    "recovery_rate_cum",
    "in_warmup",
];

/// The first six timeseries columns of a sample, as written.
pub(crate) fn sample_cells(s: &Sample) -> Vec<String> {
    vec![
        Cell::Real(s.time.as_micros() as f64 / 1e6).to_string(),
        s.active_sessions.to_string(),
        s.retained_contexts.to_string(),
        s.retained_bytes.to_string(),
        s.recovery_attempts.to_string(),
        s.recovery_successes.to_string(),
    ]
}

/// Every sample of the run; `in_warmup` is 1 for samples before `warmup` (not in the summary).
pub(crate) fn write_timeseries(path: &Path, samples: &[Sample], warmup: SimDuration) -> Result<(), OutputError> {
    let header: Vec<String> = TIMESERIES_COLUMNS.iter().map(|s| s.to_string()).collect();
    let rows: Vec<Vec<String>> = samples
        .iter()
        .map(|s| {
            let rate = if s.recovery_attempts == 0 {
                String::new()
            } else {
                format!("{:.6}", s.recovery_successes as f64 / s.recovery_attempts as f64)
            };
            let mut row = sample_cells(s);
            row.push(rate);
            row.push(((s.time < SimTime::ZERO + warmup) as u8).to_string());
            row
        })
        .collect();
    let bytes = csv_text(&header, &rows).map_err(|e| out_err(path, e))?;
    write_atomic(path, &bytes)
}

pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), OutputError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| out_err(path, e))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}
