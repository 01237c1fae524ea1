//! An experiment's plots (one per key metric, and the trade-off) and report.md, from the
//! per-point estimates.

use super::results::{Estimates, Meta, RunRecord, mean_series};
use crate::output::OutputError;
use crate::output::plot::{Chart, Series, save_chart};
use crate::stats::Estimate;
use std::path::Path;

/// The x axis of the plots: the first swept field, as categories.
pub(super) fn categories(meta: &Meta) -> (String, Vec<usize>, Vec<String>, Vec<Vec<usize>>) {
    if meta.axes.is_empty() {
        return ("scenario".into(), vec![0], vec!["base".into()], vec![vec![0]]);
    }
    // Points grouped by the values of the other axes: one series each, x = first axis value.
    let mut x_labels: Vec<String> = Vec::new();
    let mut xs = Vec::new();
    for v in &meta.points {
        let i = x_labels.iter().position(|l| l == &v[0]).unwrap_or_else(|| {
            x_labels.push(v[0].clone());
            x_labels.len() - 1
        });
        xs.push(i);
    }
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (p, v) in meta.points.iter().enumerate() {
        let rest = v[1..].to_vec();
        match groups.iter_mut().find(|g| g.0 == rest) {
            Some(g) => g.1.push(p),
            None => groups.push((rest, vec![p])),
        }
    }
    (meta.axes[0].clone(), xs, x_labels, groups.into_iter().map(|g| g.1).collect())
}

pub(super) fn series_name(meta: &Meta, p: usize, what: &str) -> String {
    let rest: Vec<String> = meta.axes.iter().zip(&meta.points[p]).skip(1).map(|(a, v)| format!("{a}={v}")).collect();
    match (rest.is_empty(), what.is_empty()) {
        (true, _) => what.to_string(),
        (false, true) => rest.join(", "),
        (false, false) => format!("{what} ({})", rest.join(", ")),
    }
}

pub(super) fn plots(
    dir: &Path,
    meta: &Meta,
    records: &[RunRecord],
    est: &[Estimates],
) -> Result<Vec<(String, String)>, OutputError> {
    let (axis, xs, labels, groups) = categories(meta);
    let f = Figures { meta, records, est, axis, xs, labels, groups };
    let mut charts = vec![
        ("recovery".to_string(), "Recovery success rate with 95% confidence intervals".to_string(), f.recovery()),
        ("memory".into(), "Memory held by retained contexts: time-weighted mean and peak".into(), f.memory()),
        ("tradeoff".into(), "The trade-off: each point's mean retained memory and recovery rate".into(), f.tradeoff()),
        ("retained_timeseries".into(), "Retained memory over simulated time, per point".into(), f.retained_over_time()),
        ("restore".into(), "Time to restore: recovered sessions against fresh logins".into(), f.restore()),
        ("active_timeseries".into(), "Active sessions over simulated time, per point".into(), f.active_over_time()),
    ];
    for m in &meta.metrics {
        charts.push((format!("metric_{m}"), format!("{m} per point, with 95% confidence intervals"), f.metric(m)));
    }
    // Each chart as SVG and PNG, listed with its caption for report.md.
    let mut made = Vec::new();
    for (stem, caption, chart) in charts {
        save_chart(dir, &stem, &chart)?;
        made.push((stem, caption));
    }
    Ok(made)
}

const MIB: f64 = 1024.0 * 1024.0;

/// What the plots are drawn from: the points' estimates and mean series, and the x axis
/// (the first swept field as categories; one series per combination of the other axes).
struct Figures<'a> {
    meta: &'a Meta,
    records: &'a [RunRecord],
    est: &'a [Estimates],
    axis: String,
    xs: Vec<usize>,
    labels: Vec<String>,
    groups: Vec<Vec<usize>>,
}

impl Figures<'_> {
    /// One series per group of points: `metric`'s mean (and 95% CI bars) over the x axis.
    fn by_metric(&self, metric: &str, what: &str, scale: f64, bars: bool) -> Vec<Series> {
        self.groups
            .iter()
            .map(|g| Series {
                name: series_name(self.meta, g[0], what),
                points: g
                    .iter()
                    .map(|&p| {
                        let e = self.est[p][metric];
                        let bar = if bars && e.lo.is_finite() { Some((e.lo / scale, e.hi / scale)) } else { None };
                        (self.xs[p] as f64, e.mean / scale, bar)
                    })
                    .collect(),
                labels: vec![],
            })
            .collect()
    }

    /// One line per point over simulated time, from column `col` of the mean series.
    fn over_time(&self, col: usize, scale: f64) -> Vec<Series> {
        (0..self.meta.points.len())
            .map(|p| Series {
                name: self.meta.point_label(p),
                points: mean_series(self.records, p).iter().map(|s| (s[0] / 3600.0, s[col] / scale, None)).collect(),
                labels: vec![],
            })
            .collect()
    }

    fn per_point(&self, title: String, y_desc: &str, series: Vec<Series>, y_range: Option<(f64, f64)>) -> Chart {
        Chart {
            title,
            x_desc: self.axis.clone(),
            y_desc: y_desc.into(),
            categories: Some(self.labels.clone()),
            series,
            y_range,
            log_y: false,
        }
    }

    fn recovery(&self) -> Chart {
        self.per_point(
            format!("{}: recovery success rate (95% CI)", self.meta.name),
            "recovery successes / attempts",
            self.by_metric("recovery_success_rate", "", 1.0, true),
            Some((0.0, 1.0)),
        )
    }

    fn memory(&self) -> Chart {
        let mut mem = self.by_metric("retained_bytes_mean", "mean", MIB, true);
        mem.extend(self.by_metric("retained_bytes_peak", "peak", MIB, true));
        self.per_point(format!("{}: retained context memory", self.meta.name), "retained contexts (MiB)", mem, None)
    }

    fn tradeoff(&self) -> Chart {
        let n = self.meta.points.len();
        Chart {
            title: format!("{}: memory against recovery", self.meta.name),
            x_desc: "mean retained memory (MiB)".into(),
            y_desc: "recovery success rate".into(),
            categories: None,
            series: vec![Series {
                name: "points".into(),
                points: (0..n)
                    .map(|p| {
                        (self.est[p]["retained_bytes_mean"].mean / MIB, self.est[p]["recovery_success_rate"].mean, None)
                    })
                    .collect(),
                labels: (0..n).map(|p| self.meta.points[p].join(", ")).collect(),
            }],
            y_range: Some((0.0, 1.0)),
            log_y: false,
        }
    }

    fn over_time_chart(&self, title: &str, y_desc: &str, col: usize, scale: f64) -> Chart {
        Chart {
            title: format!("{}: {title} (mean of replications)", self.meta.name),
            x_desc: "simulated time (h)".into(),
            y_desc: y_desc.into(),
            categories: None,
            series: self.over_time(col, scale),
            y_range: None,
            log_y: false,
        }
    }

    fn retained_over_time(&self) -> Chart {
        self.over_time_chart("retained memory over time", "retained contexts (MiB)", 3, MIB)
    }

    fn active_over_time(&self) -> Chart {
        self.over_time_chart("active sessions over time", "active sessions", 1, 1.0)
    }

    fn restore(&self) -> Chart {
        let mut restore = Vec::new();
        for (m, what) in [
            ("restore_recovered_ms_p50", "recovered p50"),
            ("restore_recovered_ms_p99", "recovered p99"),
            ("restore_fresh_ms_p50", "fresh p50"),
            ("restore_fresh_ms_p99", "fresh p99"),
        ] {
            restore.extend(self.by_metric(m, what, 1000.0, false));
        }
        // Restore times span decades (0.4 s recovered, 40 s fresh p99): a log axis shows both.
        let chart = self.per_point(
            format!("{}: time to restore a full context", self.meta.name),
            "time to restore (s)",
            restore,
            None,
        );
        Chart { log_y: true, ..chart }
    }

    fn metric(&self, m: &str) -> Chart {
        self.per_point(format!("{}: {m} (95% CI)", self.meta.name), m, self.by_metric(m, "", 1.0, true), None)
    }
}

pub(super) fn fmt_ci(e: &Estimate, scale: f64, digits: usize) -> String {
    if !e.mean.is_finite() {
        return "-".into();
    }
    let z = |v: f64| if (v / scale).abs() < 0.5 * 10f64.powi(-(digits as i32)) { 0.0 } else { v / scale };
    let e = Estimate { mean: z(e.mean) * scale, lo: z(e.lo) * scale, hi: z(e.hi) * scale, ..*e };
    if e.lo.is_finite() {
        format!("{:.*} ({:.*} to {:.*}, n={})", digits, e.mean / scale, digits, e.lo / scale, digits, e.hi / scale, e.n)
    } else {
        format!("{:.*} (n={}, no interval)", digits, e.mean / scale, e.n)
    }
}

/// Which points' warm-up the steady-state check accepts, on the sums of their replications.
/// With, per point, how many of its runs the check accepted on their own (noisier series).
pub(super) fn steady_state_section(meta: &Meta, steady: &[(crate::run::SteadyState, usize, usize)]) -> String {
    let mut s = String::from("\n## Steady state\n\n");
    if steady.iter().all(|(st, _, _)| !st.applies) {
        s += "Not checked: the runs have SAP restarts, a transient study; the measured window covers the \
              restart and what follows it.\n";
        return s;
    }
    let flagged: Vec<(usize, String)> =
        steady.iter().enumerate().filter_map(|(p, (st, _, _))| st.warning().map(|w| (p, w))).collect();
    if flagged.is_empty() {
        s += "MSER-5 on each point's timeseries (summed over replications) accepts every point's warm-up.\n";
    }
    for (p, w) in flagged {
        s += &format!("- **{}**: {w}\n", meta.point_label(p));
    }
    let (accepted, runs) = steady.iter().fold((0, 0), |(a, n), (_, k, m)| (a + k, n + m));
    s += &format!(
        "\nRun by run (each its own series, noisier than the sums): {accepted} of {runs} runs accepted{}.\n",
        if accepted < runs {
            let per: Vec<String> = steady
                .iter()
                .enumerate()
                .filter(|(_, (_, k, m))| k < m)
                .map(|(p, (_, k, m))| format!("{}: {k} of {m}", meta.point_label(p)))
                .collect();
            format!(" ({})", per.join("; "))
        } else {
            String::new()
        }
    );
    s
}

pub(super) fn report(
    meta: &Meta,
    est: &[Estimates],
    steady: &[(crate::run::SteadyState, usize, usize)],
    plots: &[(String, String)],
    verdicts: &[crate::check::Verdict],
) -> String {
    let mut s = format!("# {}\n\n", meta.name);
    if !meta.description.is_empty() {
        s += &format!("{}\n\n", meta.description.trim());
    }
    s += &format!(
        "Experiment `{}`: {} points x {} replications, experiment seed {}, impsim {}. Each cell is the mean \
         over replications with its 95% Student-t confidence interval and the number of runs n it rests on. \
         Every run is measured after its warm-up; the recovery rate of a point is the mean of its runs' rates, \
         and a restore percentile is the mean of its runs' percentiles. Reproduce with `{}` (or \
         `impsim reproduce` on this folder, which also compares the bytes).\n\n",
        meta.file,
        meta.points.len(),
        meta.replications,
        meta.seed,
        meta.impsim_version,
        meta.rerun_command("DIR")
    );
    if meta.crn {
        s += "Common random numbers: replication r of every point used the same seed, so the points' \
              results are correlated; compare two points by the paired differences of their runs \
              (runs.csv), whose interval is narrower than the cells' intervals suggest.\n\n";
    }
    let mut header: Vec<String> = meta.axes.clone();
    header.extend(
        [
            "recovery rate",
            "retained MiB (mean)",
            "retained MiB (peak)",
            "transactions",
            "restore p50 recovered (s, mean of run p50s)",
            "restore p50 fresh (s, mean of run p50s)",
        ]
        .map(String::from),
    );
    header.extend(meta.metrics.iter().cloned());
    if meta.axes.is_empty() {
        header.insert(0, "point".into());
    }
    s += &format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    let mib = 1024.0 * 1024.0;
    for (p, e) in est.iter().enumerate() {
        let mut row: Vec<String> = meta.points[p].clone();
        if meta.axes.is_empty() {
            row.insert(0, "base".into());
        }
        row.push(fmt_ci(&e["recovery_success_rate"], 1.0, 3));
        row.push(fmt_ci(&e["retained_bytes_mean"], mib, 2));
        row.push(fmt_ci(&e["retained_bytes_peak"], mib, 2));
        row.push(fmt_ci(&e["transactions"], 1.0, 0));
        row.push(fmt_ci(&e["restore_recovered_ms_p50"], 1000.0, 2));
        row.push(fmt_ci(&e["restore_fresh_ms_p50"], 1000.0, 2));
        for m in &meta.metrics {
            row.push(fmt_ci(&e[m.as_str()], 1.0, 3));
        }
        s += &format!("| {} |\n", row.join(" | "));
    }
    s += &thresholds_section(verdicts);
    s += &steady_state_section(meta, steady);
    s += "\nFiles: `runs.csv` (one row per run), `points.csv` (mean, sd, 95% CI per point), `timeseries.csv` \
          (per point, mean over replications), `run_timeseries.csv` (per run).\n\n";
    for (stem, caption) in plots {
        s += &format!("## {caption}\n\n![{caption}]({stem}.png)\n\n");
    }
    s
}

/// The thresholds, each judged at each point: what was judged (the interval's side that must
/// clear the bound, or the mean of one run) and the verdict.
fn thresholds_section(verdicts: &[crate::check::Verdict]) -> String {
    if verdicts.is_empty() {
        return String::new();
    }
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    let mut s = format!(
        "\n## Thresholds: {}\n\nEach must hold at every point; with replications it is judged on the side of the \
         point's 95% interval that must clear the bound.\n\n| threshold | point | judged value | basis | verdict |\n|---|---|---|---|---|\n",
        if failed == 0 { "all passed".to_string() } else { format!("{failed} of {} FAILED", verdicts.len()) }
    );
    for v in verdicts {
        s += &format!(
            "| `{}` | {} | {} | {} | {} |\n",
            v.check,
            v.point,
            crate::run::human_figure(&v.metric, v.value),
            v.basis,
            if v.passed { "ok" } else { "**FAILED**" }
        );
    }
    s
}
