//! A single run's report.md and report.html: the answer in one line (recovery rate with its
//! batch-means interval, retained memory and its projection per million clients, restore
//! times), what to watch for, the key figures in human units, the thresholds, the plot, and the
//! command that reproduces it.

use crate::check::Verdict;
use crate::output::document::{Block, Document};
use crate::output::quantity::{human, human_ci, thousands};
use crate::run::Report;
use crate::stats::Estimate;

/// `column` of the run with its interval when the summary has one (`<column>_ci95_lo/hi`).
fn figure(r: &Report, column: &str) -> String {
    let (lo, hi) = (format!("{column}_ci95_lo"), format!("{column}_ci95_hi"));
    let has = r.summary.iter().any(|(k, _)| *k == lo);
    let e = Estimate {
        n: 1,
        mean: r.metric(column),
        sd: f64::NAN,
        lo: if has { r.metric(&lo) } else { f64::NAN },
        hi: if has { r.metric(&hi) } else { f64::NAN },
    };
    human_ci(column, &e)
}

/// Simulated hours as people write them: 72, 1.17.
fn hours(h: f64) -> String {
    if h.fract() == 0.0 { format!("{h:.0}") } else { format!("{h:.2}") }
}

/// The page. `rerun` is the command that reproduces the run, `overrides` its `--set`s.
pub(crate) fn document(r: &Report, verdicts: &[Verdict], rerun: &str, overrides: &[String]) -> Document {
    let scenario = serde_json::to_value(&r.params).unwrap_or_default();
    let g = |k: &str| r.metric(k);
    let h = |k: &str| human(k, g(k));
    let clients = r.params.clients as f64;
    let per_million = |k: &str| human(k, g(k) * 1e6 / clients.max(1.0));
    let mut d = Document::default();
    d.push(Block::Title(r.params.name.clone()));
    let rate = match (g("recovery_success_rate"), g("recovery_success_rate_ci95_lo")) {
        (v, lo) if v.is_finite() && lo.is_finite() => {
            format!("Recovery rate {v:.4} (95% CI {lo:.4} to {:.4}, batch means)", g("recovery_success_rate_ci95_hi"))
        }
        (v, _) if v.is_finite() => format!("Recovery rate {v:.4}"),
        _ => "No recovery was attempted".to_string(),
    };
    // Restore times only where there were any.
    let mut restore = Vec::new();
    if g("restore_recovered_ms_p50").is_finite() {
        let (p50, p99) = (h("restore_recovered_ms_p50"), h("restore_recovered_ms_p99"));
        restore.push(format!("a recovered client is back in {p50} (p50; p99 {p99})"));
    }
    if g("restore_fresh_ms_p50").is_finite() {
        let (p50, p99) = (h("restore_fresh_ms_p50"), h("restore_fresh_ms_p99"));
        restore.push(format!("a fresh login with its context rebuilt takes {p50} (p99 {p99})"));
    }
    let restore = if restore.is_empty() { String::new() } else { format!("; {}", restore.join(", ")) };
    d.push(Block::Para(format!(
        "**Answer.** {rate}; retained context memory {} mean, {} peak for {} clients ({} mean per million){restore}.",
        h("retained_bytes_mean"),
        h("retained_bytes_peak"),
        thousands(clients),
        per_million("retained_bytes_mean"),
    )));
    let mut watch = Vec::new();
    match r.steady.warning() {
        Some(w) => watch.push(format!("Steady state: {w}")),
        None if !r.steady.applies => watch.push(
            "A transient study (SAP restarts): the figures describe the measured window, restart included, not a \
             steady state."
                .into(),
        ),
        None => {}
    }
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.passed).collect();
    if !failed.is_empty() {
        let which: Vec<String> = failed.iter().map(|v| format!("`{}`", v.check)).collect();
        watch.push(format!(
            "{} of {} thresholds FAILED: {} (the run exits 99).",
            failed.len(),
            verdicts.len(),
            which.join(", ")
        ));
    }
    watch.extend(crate::output::settings::fixed_by_override(&scenario, overrides));
    if !watch.is_empty() {
        d.push(Block::Para("**Watch for.**".into()));
        d.push(Block::List(watch));
    }
    d.push(Block::Heading("Key figures".into()));
    d.push(Block::Para(format!(
        "Measured over the last {} h of simulated time, after a warm-up of {} h; summary.csv has every column.",
        hours(g("sim_hours") - g("warmup_hours")),
        hours(g("warmup_hours"))
    )));
    let row = |what: &str, v: String| vec![what.to_string(), v];
    let mut rows = vec![
        row("recovery attempts, recovered", format!("{}, {}", g("recovery_attempts"), g("recovery_successes"))),
        row("recovery success rate", figure(r, "recovery_success_rate")),
        row(
            "502 by reason",
            format!(
                "expired {}, evicted {}, never stored {}, client changed {}, restart {}, replaced {}",
                g("fail_expired"),
                g("fail_evicted"),
                g("fail_not_stored"),
                g("fail_client_changed"),
                g("fail_restart"),
                g("fail_replaced")
            ),
        ),
        row(
            "retained contexts, mean / peak",
            format!("{:.0} / {}", g("retained_contexts_mean"), g("retained_contexts_peak")),
        ),
        row(
            "retained context memory, mean / peak",
            format!("{} / {}", h("retained_bytes_mean"), h("retained_bytes_peak")),
        ),
        row("retained context memory per million clients, mean", per_million("retained_bytes_mean")),
        row(
            "active sessions, mean / peak",
            format!("{:.0} / {}", g("active_sessions_mean"), g("active_sessions_peak")),
        ),
        row("auto-logouts (S10), SAP disconnects (S8)", format!("{}, {}", g("auto_logouts"), g("sap_disconnects"))),
        row("fresh logins, after a 502", format!("{}, {}", g("logins_fresh"), g("logins_after_502"))),
        row("transactions, traffic", format!("{}, {}", g("transactions"), h("bytes_total"))),
        row("KeepAlive share of transactions", format!("{:.4}", g("keepalive_share"))),
        row(
            "time to restore by recovery, p50 / p99",
            format!("{} / {}", h("restore_recovered_ms_p50"), h("restore_recovered_ms_p99")),
        ),
        row(
            "time to restore by a fresh login, p50 / p99",
            format!("{} / {}", h("restore_fresh_ms_p50"), h("restore_fresh_ms_p99")),
        ),
    ];
    // Restore times of a kind nobody went through are left out.
    rows.retain(|r| !r[1].starts_with("- /"));
    d.push(Block::Table { header: vec!["figure".into(), "value".into()], rows });
    if !verdicts.is_empty() {
        d.push(Block::Heading(format!(
            "Thresholds: {}",
            if failed.is_empty() {
                "all passed".to_string()
            } else {
                format!("{} of {} FAILED", failed.len(), verdicts.len())
            }
        )));
        let rows = verdicts
            .iter()
            .map(|v| {
                vec![
                    format!("`{}`", v.check),
                    crate::run::human_figure(&v.metric, v.value),
                    if v.passed { "ok".into() } else { "**FAILED**".into() },
                ]
            })
            .collect();
        d.push(Block::Table { header: vec!["threshold".into(), "value".into(), "verdict".into()], rows });
    }
    let caption = "Sessions, retained contexts and the recovery rate over simulated time, the warm-up shaded";
    d.push(Block::Heading(caption.into()));
    d.push(Block::Figure { stem: "timeseries".into(), caption: caption.into() });
    d.blocks.extend(crate::output::settings::section(&scenario, overrides, &[]));
    d.push(Block::Heading("How this was measured".into()));
    d.push(Block::Para(format!(
        "{} clients for {} simulated hours, seed {}, impsim {}; {} events. The recovery rate's interval is from \
         batch means over 10 equal batches of the measured window. Memory per million clients scales the \
         run's mean linearly with the population. Reproduce with `{rerun}` (or `impsim reproduce` on this \
         folder, which also compares the bytes).",
        thousands(clients),
        hours(g("sim_hours")),
        r.params.seed,
        env!("CARGO_PKG_VERSION"),
        r.outcome.metrics.c.events,
    )));
    d.push(Block::Para(
        "Files: `summary.csv` and `summary.json` (every figure), `timeseries.csv`, `timeseries.svg`/`.png`, \
         `report.html` (report.md as one page with its plot inlined), `manifest.json`."
            .into(),
    ));
    d
}
