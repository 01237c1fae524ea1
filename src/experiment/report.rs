//! An experiment's plots (one per key metric, and the trade-off) and report.md, from the
//! per-point estimates.

use super::results::{Estimates, Meta, RunRecord, mean_series};
use crate::check::Condition;
use crate::output::OutputError;
use crate::output::document::{Block, Document};
use crate::output::plot::{Chart, Mark, Series, save_chart};
use crate::output::quantity::{self, Kind, human_ci, thousands};
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
    let bounds = meta.bounds();
    let chosen = answer_point(meta, est).flatten();
    let f = Figures { meta, records, est, axis, xs, labels, groups, bounds, chosen };
    let mut charts = vec![
        ("recovery".to_string(), "Recovery success rate with 95% confidence intervals".to_string(), f.recovery()),
        ("memory".into(), "Memory held by retained contexts: time-weighted mean and peak".into(), f.memory()),
        ("tradeoff".into(), "The trade-off: each point's mean retained memory and recovery rate".into(), f.tradeoff()),
        ("retained_timeseries".into(), "Retained memory over simulated time, per point".into(), f.retained_over_time()),
        ("restore".into(), "Time to restore: recovered sessions against fresh logins".into(), f.restore()),
        ("active_timeseries".into(), "Active sessions over simulated time, per point".into(), f.active_over_time()),
    ];
    // The extra metrics, and every bounded metric no chart above shows, so each threshold is
    // drawn somewhere.
    let mut extra: Vec<&str> = meta.metrics.iter().map(String::as_str).collect();
    for (t, _) in &f.bounds {
        if !DRAWN.contains(&t.metric()) && !extra.contains(&t.metric()) {
            extra.push(t.metric());
        }
    }
    for m in extra {
        let caption = format!("{}, per point, with 95% confidence intervals", capitalised(&quantity::name(m)));
        charts.push((format!("metric_{m}"), caption, f.metric(m)));
    }
    // Each chart as SVG and PNG, listed with its caption for report.md.
    let mut made = Vec::new();
    for (stem, caption, chart) in charts {
        save_chart(dir, &stem, &chart)?;
        made.push((stem, caption));
    }
    Ok(made)
}

/// The metrics the standard charts show (a threshold on one of them is marked there).
const DRAWN: [&str; 3] = ["recovery_success_rate", "retained_bytes_mean", "retained_bytes_peak"];

pub(super) fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

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
    /// The target, budgets and thresholds, each marked on the chart of its metric.
    bounds: Vec<(Condition, &'static str)>,
    /// The answer's point, marked on the charts over the points.
    chosen: Option<usize>,
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

    /// The largest value a chart of `metrics` shows (a mean or an interval's top).
    fn top(&self, metrics: &[&str]) -> f64 {
        let each = self.est.iter().flat_map(|e| metrics.iter().map(move |m| e[*m]));
        each.map(|e| if e.hi.is_finite() { e.hi.max(e.mean) } else { e.mean })
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
    }

    /// The bounds on `metric`, as lines at their bound in the chart's unit; `what` names the
    /// metric where the chart shows more than one ("peak ").
    fn marks(&self, metric: &str, scale: f64, vertical: bool, what: &str) -> Vec<Mark> {
        self.bounds
            .iter()
            .filter(|(t, _)| t.metric() == metric)
            .map(|(t, role)| Mark {
                at: t.value / scale,
                vertical,
                label: format!("{role}: {what}{}", t.bound_text()),
                answer: false,
            })
            .collect()
    }

    /// The answer's point on a chart over the points of `metric`: in its own series, so a sweep
    /// of several axes marks the one point, not every series at its x.
    fn ring(&self, metric: &str, scale: f64) -> Option<(f64, f64, String)> {
        let p = self.chosen?;
        Some((self.xs[p] as f64, self.est[p][metric].mean / scale, "answer".into()))
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

    /// Point `p` by its first axis' value, with the field's name when the value alone is a bare
    /// number (`four_way_share=1.0`; `24h` says what it is).
    fn point_name(&self, p: usize) -> String {
        let v = &self.labels[self.xs[p]];
        if v.parse::<f64>().is_ok() {
            format!("{}={v}", self.axis.rsplit('.').next().unwrap_or(&self.axis))
        } else {
            v.clone()
        }
    }

    /// How many runs each point's mean rests on, for titles ("mean of 5 runs").
    fn of_runs(&self) -> String {
        match self.meta.replications {
            1 => "one run per point".into(),
            r => format!("mean of {r} runs per point"),
        }
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
            marks: Vec::new(),
            warmup: None,
            answer: None,
            ..Chart::default()
        }
    }

    fn recovery(&self) -> Chart {
        let chart = self.per_point(
            format!("{}: recovery success rate ({}, 95% CI)", self.meta.name, self.of_runs()),
            "recovered / recovery attempts",
            self.by_metric("recovery_success_rate", "", 1.0, true),
            Some((0.0, 1.0)),
        );
        Chart {
            marks: self.marks("recovery_success_rate", 1.0, false, ""),
            answer: self.ring("recovery_success_rate", 1.0),
            ..chart
        }
    }

    fn memory(&self) -> Chart {
        let (scale, unit) = quantity::scale(Kind::Bytes, self.top(&["retained_bytes_mean", "retained_bytes_peak"]));
        let mut mem = self.by_metric("retained_bytes_mean", "time-weighted mean", scale, true);
        mem.extend(self.by_metric("retained_bytes_peak", "peak", scale, true));
        let chart = self.per_point(
            format!("{}: memory of retained contexts ({})", self.meta.name, self.of_runs()),
            &format!("retained context memory ({unit})"),
            mem,
            None,
        );
        let mut marks = self.marks("retained_bytes_mean", scale, false, "mean ");
        marks.extend(self.marks("retained_bytes_peak", scale, false, "peak "));
        Chart { marks, answer: self.ring("retained_bytes_mean", scale), ..chart }
    }

    fn tradeoff(&self) -> Chart {
        let (scale, unit) = quantity::scale(Kind::Bytes, self.top(&["retained_bytes_mean"]));
        let mut marks = self.marks("recovery_success_rate", 1.0, false, "");
        marks.extend(self.marks("retained_bytes_mean", scale, true, ""));
        let answer = self.chosen.map(|p| {
            let e = &self.est[p];
            let label = format!("answer: {}", self.meta.point_label(p));
            (e["retained_bytes_mean"].mean / scale, e["recovery_success_rate"].mean, label)
        });
        Chart {
            title: format!("{}: what recovery costs in memory ({})", self.meta.name, self.of_runs()),
            x_desc: format!("retained context memory, time-weighted mean ({unit})"),
            y_desc: "recovery success rate".into(),
            categories: None,
            // One series per combination of the other axes, each point labelled by the first
            // axis' value (the legend names the series).
            series: self
                .groups
                .iter()
                .map(|g| Series {
                    name: series_name(self.meta, g[0], ""),
                    points: g
                        .iter()
                        .map(|&p| {
                            let e = &self.est[p];
                            (e["retained_bytes_mean"].mean / scale, e["recovery_success_rate"].mean, None)
                        })
                        .collect(),
                    labels: g.iter().map(|&p| self.point_name(p)).collect(),
                })
                .collect(),
            y_range: Some((0.0, 1.0)),
            log_y: false,
            marks,
            warmup: None,
            answer,
            ..Chart::default()
        }
    }

    /// The SAP restarts of any point, in hours, each once.
    fn restarts(&self) -> Vec<f64> {
        let mut at: Vec<f64> = self
            .meta
            .scenarios
            .iter()
            .filter_map(|v| v["sap"]["restarts"].as_array())
            .flatten()
            .filter_map(|d| crate::engine::parse_duration(d.as_str()?).ok())
            .map(|d| d.as_micros() as f64 / 3.6e9)
            .collect();
        at.sort_by(f64::total_cmp);
        at.dedup();
        at
    }

    fn over_time_chart(&self, title: &str, y_desc: &str, col: usize, scale: f64) -> Chart {
        // Every run of an experiment has the same warm-up unless a sweep varies it.
        let warm = self.records.iter().filter_map(|r| r.get("warmup_hours")).fold(f64::NAN, f64::min);
        let restarts = self.restarts().into_iter().map(|h| Mark {
            at: h,
            vertical: true,
            label: "SAP restart".into(),
            answer: false,
        });
        Chart {
            title: format!("{}: {title} (mean of replications)", self.meta.name),
            x_desc: "simulated time (h)".into(),
            y_desc: y_desc.into(),
            categories: None,
            series: self.over_time(col, scale),
            y_range: None,
            log_y: false,
            marks: restarts.collect(),
            warmup: warm.is_finite().then_some(warm),
            answer: None,
            ..Chart::default()
        }
    }

    fn retained_over_time(&self) -> Chart {
        let top = (0..self.meta.points.len())
            .flat_map(|p| mean_series(self.records, p).into_iter().map(|s| s[3]))
            .fold(0.0, f64::max);
        let (scale, unit) = quantity::scale(Kind::Bytes, top);
        let chart = self.over_time_chart(
            "retained context memory over time",
            &format!("retained context memory ({unit})"),
            3,
            scale,
        );
        let mut marks = chart.marks.clone();
        marks.extend(self.marks("retained_bytes_peak", scale, false, "peak "));
        marks.extend(self.marks("retained_bytes_mean", scale, false, "mean "));
        Chart { marks, ..chart }
    }

    fn active_over_time(&self) -> Chart {
        self.over_time_chart("active sessions over time", "active sessions", 1, 1.0)
    }

    fn restore(&self) -> Chart {
        let mut restore = Vec::new();
        for (m, what) in [
            ("restore_recovered_ms_p50", "recovered p50"),
            ("restore_recovered_ms_p99", "recovered p99"),
            ("restore_fresh_ms_p50", "fresh login p50"),
            ("restore_fresh_ms_p99", "fresh login p99"),
        ] {
            restore.extend(self.by_metric(m, what, 1.0, false));
        }
        // Restore times span decades (0.4 s recovered, 40 min fresh p99): a log axis shows
        // them all, each tick in the unit it needs (500 ms, 2 s, 10 min).
        let ms = restore.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = ms.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let chart = self.per_point(
            format!("{}: time to restore a full context ({})", self.meta.name, self.of_runs()),
            "time to restore",
            restore,
            None,
        );
        Chart { log_y: true, y_ticks: lo.is_finite().then(|| quantity::time_ticks_ms(lo / 10.0, hi * 10.0)), ..chart }
    }

    /// Hours measured per run (after the warm-up), when every run measured the same.
    fn measured_hours(&self) -> Option<f64> {
        let h = |r: &RunRecord| Some(r.get("sim_hours")? - r.get("warmup_hours").unwrap_or(0.0));
        let first = h(self.records.first()?)?;
        self.records.iter().all(|r| h(r) == Some(first)).then_some(first)
    }

    fn metric(&self, m: &str) -> Chart {
        let (scale, mut y_desc) = quantity::axis(m, self.top(&[m]));
        // A total over the measured window says which window.
        if quantity::is_window_total(m) {
            y_desc = match self.measured_hours() {
                Some(h) => format!("{y_desc}, in the {} h measured", crate::run::json_number(&format!("{h}"))),
                None => format!("{y_desc}, per run"),
            };
        }
        let chart = self.per_point(
            format!("{}: {} ({}, 95% CI)", self.meta.name, quantity::name(m), self.of_runs()),
            &y_desc,
            self.by_metric(m, "", scale, true),
            None,
        );
        Chart { marks: self.marks(m, scale, false, ""), answer: self.ring(m, scale), ..chart }
    }
}

/// `s` on one line, its whitespace runs (line breaks included) made single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The clients of point `p` (every run of a point has the same).
fn clients(records: &[RunRecord], p: usize) -> Option<f64> {
    records.iter().find(|r| r.point == p).and_then(|r| r.get("clients")).filter(|c| *c > 0.0)
}

/// Point `p`'s mean retained memory scaled to a million clients, in human units.
fn per_million(records: &[RunRecord], est: &[Estimates], p: usize) -> String {
    match clients(records, p) {
        Some(c) => quantity::human("retained_bytes_mean", est[p]["retained_bytes_mean"].mean * 1e6 / c),
        None => "-".into(),
    }
}

/// The points that meet every bound the answer must meet (the target, its budgets and every
/// threshold, `Meta::bounds`): with replications, on the side of each 95% interval that must
/// clear the bound (as thresholds are judged), never on a figure fewer than two of its runs give;
/// with one replication, on the run's value. None when the experiment sets no bound.
fn meeting(meta: &Meta, est: &[Estimates]) -> Option<Vec<usize>> {
    let goals = meta.bounds();
    if goals.is_empty() {
        return None;
    }
    let meets = |p: &usize| {
        goals.iter().all(|(c, _)| est[*p].get(c.metric()).is_some_and(|e| c.met(e, meta.replications as usize)))
    };
    Some((0..est.len()).filter(meets).collect())
}

/// The answer's point: of those meeting every bound, the one with the least mean retained
/// memory. None without bounds; Some(None) when no point meets them.
pub(super) fn answer_point(meta: &Meta, est: &[Estimates]) -> Option<Option<usize>> {
    meeting(meta, est).map(|ok| least_memory(est, &ok))
}

/// The answer for a pipeline (points.json's `answer`): the point chosen (null when none meets
/// the bounds, or there are none), every point that meets them, the bounds, and the line
/// report.md opens with.
pub(super) fn answer_json(meta: &Meta, records: &[RunRecord], est: &[Estimates]) -> serde_json::Value {
    let ok = meeting(meta, est);
    let chosen = ok.as_ref().and_then(|ok| least_memory(est, ok));
    let label = |p: usize| meta.point_label(p);
    serde_json::json!({
        "point": chosen.map(label),
        "meeting": ok.map(|ok| ok.into_iter().map(label).collect::<Vec<_>>()),
        "target": (!meta.target.is_empty()).then(|| meta.target.clone()),
        "budgets": meta.budgets,
        "thresholds": meta.checks,
        "text": answer(meta, records, est),
    })
}

/// Of the points `ok`, the one with the least mean retained memory.
fn least_memory(est: &[Estimates], ok: &[usize]) -> Option<usize> {
    let memory = |p: &usize| est[*p]["retained_bytes_mean"].mean;
    ok.iter().copied().min_by(|a, b| memory(a).total_cmp(&memory(b)))
}

/// The experiment's answer in one line: with a target or thresholds, the point that meets them
/// all with the least retained memory; without, the range the key figures span over the points.
pub fn answer(meta: &Meta, records: &[RunRecord], est: &[Estimates]) -> String {
    let rate = |p: usize| human_ci("recovery_success_rate", &est[p]["recovery_success_rate"]);
    let memory = |p: usize| {
        format!(
            "retained context memory {} mean, {} peak{}",
            quantity::human("retained_bytes_mean", est[p]["retained_bytes_mean"].mean),
            quantity::human("retained_bytes_peak", est[p]["retained_bytes_peak"].mean),
            match clients(records, p) {
                Some(c) => format!(" for {} clients ({} per million)", thousands(c), per_million(records, est, p)),
                None => String::new(),
            }
        )
    };
    let n = meta.points.len();
    if let Some(ok) = meeting(meta, est) {
        let chosen = least_memory(est, &ok);
        let goals = meta.bounds();
        let quote = |role: &str| {
            let v: Vec<String> =
                goals.iter().filter(|(_, r)| *r == role).map(|(c, _)| format!("`{}`", c.human())).collect();
            v.join(", ")
        };
        let mut what = Vec::new();
        if !meta.target.is_empty() {
            what.push(format!("the target {}", quote("target")));
        }
        if !meta.budgets.is_empty() {
            what.push(format!("the budget {}", quote("budget")));
        }
        if !meta.checks.is_empty() {
            what.push(format!("every threshold ({})", quote("threshold")));
        }
        let what = match what.len() {
            1 => what.remove(0),
            _ => {
                let last = what.pop().unwrap_or_default();
                format!("{} and {last}", what.join(", "))
            }
        };
        let how = if meta.replications == 1 { "on one run per point (no interval)" } else { "with 95% confidence" };
        let meeting = ok.len();
        return match chosen {
            None => format!("No point meets {what} {how}."),
            Some(p) if n == 1 => format!("It meets {what} {how}: recovery rate {}, {}.", rate(p), memory(p)),
            Some(p) => format!(
                "**{}** meets {what} {how} and holds the least memory of the {meeting} of {n} points that \
                 do: recovery rate {}, {}.",
                meta.point_label(p),
                rate(p),
                memory(p),
            ),
        };
    }
    if n == 1 {
        return format!("Recovery rate {}, {}.", rate(0), memory(0));
    }
    let extreme = |m: &str| {
        let key = |p: &usize| est[*p][m].mean;
        let finite: Vec<usize> = (0..n).filter(|p| key(p).is_finite()).collect();
        let lo = finite.iter().copied().min_by(|a, b| key(a).total_cmp(&key(b)));
        let hi = finite.iter().copied().max_by(|a, b| key(a).total_cmp(&key(b)));
        lo.zip(hi)
    };
    let mut parts = Vec::new();
    if let Some((lo, hi)) = extreme("recovery_success_rate") {
        let r = |p: usize| est[p]["recovery_success_rate"].mean;
        parts.push(format!(
            "the recovery rate runs from {:.3} ({}) to {:.3} ({})",
            r(lo),
            meta.point_label(lo),
            r(hi),
            meta.point_label(hi)
        ));
    }
    if let Some((lo, hi)) = extreme("retained_bytes_mean") {
        let m = |p: usize| quantity::human("retained_bytes_mean", est[p]["retained_bytes_mean"].mean);
        // Per million clients: the largest projection (with `clients` swept, not always `hi`'s).
        let per = |p: usize| clients(records, p).map(|c| est[p]["retained_bytes_mean"].mean * 1e6 / c);
        let most = (0..n).filter_map(per).filter(|v| v.is_finite()).fold(f64::NAN, f64::max);
        let projected = if most.is_finite() {
            format!("; up to {} per million clients", quantity::human("retained_bytes_mean", most))
        } else {
            String::new()
        };
        parts.push(format!(
            "the mean retained context memory from {} ({}) to {} ({}{projected})",
            m(lo),
            meta.point_label(lo),
            m(hi),
            meta.point_label(hi),
        ));
    }
    // The experiment's own first metric: what it was run to see.
    if let Some(m) = meta.metrics.first()
        && let Some((lo, hi)) = extreme(m)
    {
        let v = |p: usize| quantity::human(m, est[p][m.as_str()].mean);
        parts.push(format!(
            "{} from {} ({}) to {} ({})",
            quantity::name(m),
            v(lo),
            meta.point_label(lo),
            v(hi),
            meta.point_label(hi)
        ));
    }
    if parts.is_empty() {
        "No recovery was attempted at any point.".into()
    } else {
        let last = parts.pop().unwrap_or_default();
        let head = if parts.is_empty() { String::new() } else { format!("{}, and ", parts.join(", ")) };
        format!("Across the {n} points, {head}{last}.")
    }
}

/// Which points' warm-up the steady-state check accepts, on the sums of their replications,
/// with, per point, how many of its runs the check accepted on their own (noisier series):
/// the warnings to put up front, and the paragraphs of the method section.
pub(super) fn steady_state(
    meta: &Meta,
    steady: &[(crate::run::SteadyState, usize, usize)],
) -> (Vec<String>, Vec<Block>) {
    if steady.iter().all(|(st, _, _)| !st.applies) {
        let why = "Not checked: the runs have SAP restarts, a transient study; the measured window covers the \
                   restart and what follows it, not a steady state.";
        return (vec![], vec![Block::Para(why.into())]);
    }
    let flagged: Vec<String> = steady
        .iter()
        .enumerate()
        .filter_map(|(p, (st, _, _))| st.warning().map(|w| format!("**{}**: {w}", meta.point_label(p))))
        .collect();
    let mut blocks = Vec::new();
    if flagged.is_empty() {
        blocks.push(Block::Para(
            "MSER-5 on each point's timeseries (summed over replications) accepts every point's warm-up.".into(),
        ));
    } else {
        blocks.push(Block::List(flagged.clone()));
    }
    let (accepted, runs) = steady.iter().fold((0, 0), |(a, n), (_, k, m)| (a + k, n + m));
    blocks.push(Block::Para(format!(
        "Run by run (each its own series, noisier than the sums): {accepted} of {runs} runs accepted{}.",
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
    )));
    (flagged, blocks)
}

/// report.md and report.html: the question, the answer in one line, what to watch for, the key
/// table, the thresholds, the plots, and how it was measured.
pub(super) fn report(
    meta: &Meta,
    records: &[RunRecord],
    est: &[Estimates],
    steady: &[(crate::run::SteadyState, usize, usize)],
    plots: &[(String, String)],
    verdicts: &[crate::check::Verdict],
) -> Document {
    let mut d = Document::default();
    d.push(Block::Title(meta.name.clone()));
    let question = one_line(&meta.question);
    if !question.is_empty() {
        d.push(Block::Para(format!("**Question.** {question}")));
    }
    d.push(Block::Para(format!("**Answer.** {}", answer(meta, records, est))));
    let (flagged, steady_blocks) = steady_state(meta, steady);
    let mut watch: Vec<String> = Vec::new();
    if !flagged.is_empty() {
        watch.push(format!(
            "The steady-state check does not accept the warm-up of {} of {} points: their figures may be biased by \
             the start-up transient or have no steady state (see How this was measured).",
            flagged.len(),
            meta.points.len()
        ));
    }
    if steady.iter().all(|(st, _, _)| !st.applies) {
        watch.push(
            "A transient study (SAP restarts): the figures describe the measured window, restart included, \
                    not a steady state."
                .into(),
        );
    }
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    if failed > 0 {
        let mut at: Vec<&str> = Vec::new();
        for v in verdicts.iter().filter(|v| !v.passed) {
            if !at.contains(&v.point.as_str()) {
                at.push(&v.point);
            }
        }
        watch.push(format!(
            "{failed} of {} threshold checks FAILED, at {} (see Thresholds; the run exits 99).",
            verdicts.len(),
            at.join("; ")
        ));
    }
    if meta.replications == 1 {
        watch.push(
            "One run per point: no confidence intervals, and a difference between points may be noise. \
                    Use `replications` of 3 or more."
                .into(),
        );
    }
    if meta.crn {
        watch.push(
            "Common random numbers: the points share seeds, so their results are correlated; compare two \
                    points by the paired differences of their runs (runs.csv), whose interval is narrower than \
                    the cells' intervals suggest."
                .into(),
        );
    }
    let scenario = meta.scenarios.first().cloned().unwrap_or_default();
    watch.extend(crate::output::settings::fixed_by_override(&scenario, &meta.overrides));
    if !watch.is_empty() {
        d.push(Block::Para("**Watch for.**".into()));
        d.push(Block::List(watch));
    }
    if !meta.description.is_empty() {
        d.push(Block::Para(meta.description.trim().to_string()));
    }

    d.push(Block::Heading("Key figures".into()));
    d.push(Block::Para(format!(
        "Each cell is the mean over a point's n runs with its 95% confidence interval (Student t); memory \
         per million clients scales the mean linearly with the population.{}",
        if meta.replications == 1 { " With one run per point there is no interval." } else { "" }
    )));
    let mut header: Vec<String> = if meta.axes.is_empty() { vec!["point".into()] } else { meta.axes.clone() };
    header.extend(
        [
            "n",
            "recovery rate",
            "retained memory, mean",
            "retained memory, peak",
            "per million clients (mean)",
            "restore p50, recovered",
            "restore p50, fresh login",
        ]
        .map(String::from),
    );
    let cells =
        |p: usize| -> Vec<String> { if meta.axes.is_empty() { vec!["base".into()] } else { meta.points[p].clone() } };
    let runs = |p: usize| records.iter().filter(|r| r.point == p).count();
    let cell = |p: usize, m: &str| quantity::human_ci_of(m, &est[p][m], runs(p));
    let mut rows = Vec::new();
    for p in 0..est.len() {
        let mut row = cells(p);
        row.push(runs(p).to_string());
        for m in ["recovery_success_rate", "retained_bytes_mean", "retained_bytes_peak"] {
            row.push(cell(p, m));
        }
        row.push(per_million(records, est, p));
        for m in ["restore_recovered_ms_p50", "restore_fresh_ms_p50"] {
            row.push(cell(p, m));
        }
        rows.push(row);
    }
    d.push(Block::Table { header, rows });
    if !meta.metrics.is_empty() {
        let mut header: Vec<String> = if meta.axes.is_empty() { vec!["point".into()] } else { meta.axes.clone() };
        header.extend(meta.metrics.iter().map(|m| quantity::name(m)));
        let rows = (0..est.len())
            .map(|p| {
                let mut row = cells(p);
                row.extend(meta.metrics.iter().map(|m| cell(p, m)));
                row
            })
            .collect();
        d.push(Block::Para("The experiment's own metrics:".into()));
        d.push(Block::Table { header, rows });
    }
    if !verdicts.is_empty() {
        d.push(Block::Heading(format!(
            "Thresholds: {}",
            if failed == 0 { "all passed".to_string() } else { format!("{failed} of {} FAILED", verdicts.len()) }
        )));
        d.push(Block::Para(
            "Each must hold at every point; with replications it is judged on the side of the point's 95% interval \
             that must clear the bound."
                .into(),
        ));
        let header = ["threshold", "point", "judged value", "basis", "verdict"].map(String::from).to_vec();
        let rows = verdicts
            .iter()
            .map(|v| {
                vec![
                    format!("`{}`", Condition::parse(&v.check).map_or(v.check.clone(), |c| c.human())),
                    v.point.clone(),
                    crate::run::human_figure(&v.metric, v.value),
                    v.basis.to_string(),
                    if v.passed { "ok".into() } else { "**FAILED**".into() },
                ]
            })
            .collect();
        d.push(Block::Table { header, rows });
    }
    for (stem, caption) in plots {
        d.push(Block::Heading(caption.clone()));
        d.push(Block::Figure { stem: stem.clone(), caption: caption.clone() });
    }
    let swept: Vec<(String, String)> = meta
        .axes
        .iter()
        .enumerate()
        .map(|(a, axis)| {
            let mut values: Vec<&str> = Vec::new();
            for p in &meta.points {
                if !values.contains(&p[a].as_str()) {
                    values.push(&p[a]);
                }
            }
            (axis.clone(), values.join(", "))
        })
        .collect();
    d.blocks.extend(crate::output::settings::section(&scenario, &meta.overrides, &swept));
    d.push(Block::Heading("How this was measured".into()));
    d.push(Block::Para(format!(
        "Experiment `{}`: {} points x {} replications, experiment seed {}, impsim {}. Every run is measured after \
         its warm-up; the recovery rate of a point is the mean of its runs' rates, and a restore percentile is the \
         mean of its runs' percentiles. Reproduce with `{}` (or `impsim reproduce` on this folder, which also \
         compares the bytes).",
        meta.file,
        meta.points.len(),
        meta.replications,
        meta.seed,
        meta.impsim_version,
        meta.rerun_command("DIR")
    )));
    d.push(Block::Para("**Steady state.**".into()));
    d.blocks.extend(steady_blocks);
    d.push(Block::Para(
        "Files: `runs.csv` (one row per run), `points.csv` (mean, sd, 95% CI per point, every key metric), \
         `points.json` (the same, typed, with units and the thresholds' verdicts), `timeseries.csv` (per point, \
         mean over replications), `run_timeseries.csv` (per run), `report.html` (report.md as one page with its plots inlined)."
            .into(),
    ));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::quantity::sig3;
    use crate::stats::Estimate;

    fn meta(target: &str, budgets: &[&str], checks: &[&str]) -> Meta {
        serde_json::from_value(serde_json::json!({
            "name": "e", "description": "", "file": "e.toml", "seed": 1, "replications": 3,
            "axes": ["retention"], "points": [["a"], ["b"], ["c"]], "scenarios": [{}, {}, {}],
            "impsim_version": "0", "target": target, "budgets": budgets, "checks": checks,
        }))
        .unwrap()
    }

    fn e(mean: f64, lo: f64, hi: f64) -> Estimate {
        Estimate { n: 3, mean, sd: 0.0, lo, hi }
    }

    /// a: its mean clears 0.95 but its interval does not; b: holds 3 MiB; c: holds 2 MiB but
    /// peaks above 4 MiB.
    fn est() -> Vec<Estimates> {
        let point = |rate: Estimate, mean_mib: f64, peak_hi_mib: f64| -> Estimates {
            let mib = 1048576.0;
            [
                ("recovery_success_rate".to_string(), rate),
                ("retained_bytes_mean".to_string(), e(mean_mib * mib, mean_mib * mib, mean_mib * mib)),
                ("retained_bytes_peak".to_string(), e(peak_hi_mib * mib, peak_hi_mib * mib, peak_hi_mib * mib)),
            ]
            .into_iter()
            .collect()
        };
        vec![
            point(e(0.96, 0.94, 0.98), 1.0, 1.5),
            point(e(0.97, 0.955, 0.985), 3.0, 3.5),
            point(e(0.99, 0.985, 0.995), 2.0, 4.5),
        ]
    }

    #[test]
    fn the_answer_meets_its_bounds_with_confidence_and_holds_the_least_memory() {
        let target = "recovery_success_rate>=0.95";
        assert_eq!(answer_point(&meta(target, &[], &[]), &est()), Some(Some(2)), "c: least memory of b and c");
        assert_eq!(answer_point(&meta(target, &["retained_bytes_peak<=4194304"], &[]), &est()), Some(Some(1)));
        assert_eq!(answer_point(&meta("recovery_success_rate>=0.99", &[], &[]), &est()), Some(None));
        assert_eq!(answer_point(&meta("", &[], &[]), &est()), None, "nothing asked, nothing chosen");
        // Thresholds are goals too, with a target or without: the answer never fails one.
        assert_eq!(answer_point(&meta("", &[], &[target, "retained_bytes_peak<=4194304"]), &est()), Some(Some(1)));
        assert_eq!(answer_point(&meta(target, &[], &["retained_bytes_peak<=1"]), &est()), Some(None));
        // A figure only one of the point's runs gives is no confidence: c's rate from one run.
        let mut few = est();
        few[2].get_mut("recovery_success_rate").unwrap().n = 1;
        assert_eq!(answer_point(&meta(target, &[], &[]), &few), Some(Some(1)));
        // With one replication every figure is one run's, and the answer says so.
        let mut one = meta(target, &[], &[]);
        one.replications = 1;
        assert_eq!(answer_point(&one, &few), Some(Some(2)));
        assert!(answer(&one, &[], &few).contains("on one run per point (no interval)"));
        let a = answer(&meta(target, &["retained_bytes_peak<=4194304"], &[]), &[], &est());
        assert!(
            a.starts_with(
                "**retention=b** meets the target `recovery_success_rate ≥ 0.95` and the budget \
                 `retained_bytes_peak ≤ 4.00 MiB` with 95% confidence and holds the least memory of the 1 of 3 points"
            ),
            "{a}"
        );
        assert!(a.contains("recovery rate 0.9700 (0.9550 to 0.9850), retained context memory 3.00 MiB mean"), "{a}");
        let none = answer(&meta("recovery_success_rate>=0.99", &[], &[]), &[], &est());
        assert_eq!(none, "No point meets the target `recovery_success_rate ≥ 0.99` with 95% confidence.");
        let span = answer(&meta("", &[], &[]), &[], &est());
        assert_eq!(
            span,
            "Across the 3 points, the recovery rate runs from 0.960 (retention=a) to 0.990 (retention=c), and the \
             mean retained context memory from 1.00 MiB (retention=a) to 3.00 MiB (retention=b)."
        );
    }

    #[test]
    fn memory_per_million_clients_scales_the_points_mean() {
        let record = |point: usize, clients: &str| RunRecord {
            point,
            replication: 0,
            columns: vec!["clients".into()],
            values: vec![clients.into()],
            samples: vec![],
        };
        let records = [record(0, "2000"), record(1, "500"), record(2, "0")];
        // a: 1 MiB for 2,000 clients; b: 3 MiB for 500; c: no clients, no projection.
        assert_eq!(per_million(&records, &est(), 0), "500 MiB");
        assert_eq!(per_million(&records, &est(), 1), "5.86 GiB");
        assert_eq!(per_million(&records, &est(), 2), "-");
        let span = answer(&meta("", &[], &[]), &records, &est());
        assert!(span.ends_with("to 3.00 MiB (retention=b; up to 5.86 GiB per million clients)."), "{span}");
        assert_eq!(thousands(0.0), "0");
        // One point: "it", and no count of points.
        let mut one = meta("recovery_success_rate>=0.95", &[], &[]);
        one.points.truncate(1);
        one.scenarios.truncate(1);
        let single = answer(&one, &records, &est()[2..]);
        assert!(
            single.starts_with("It meets the target `recovery_success_rate ≥ 0.95` with 95% confidence: "),
            "{single}"
        );
    }

    #[test]
    fn the_charts_mark_the_bounds_and_ring_the_answer_on_its_own_point() {
        let m = meta("recovery_success_rate>=0.95", &["retained_bytes_peak<=4194304"], &[]);
        let est = est();
        let (axis, xs, labels, groups) = categories(&m);
        let chosen = answer_point(&m, &est).flatten();
        assert_eq!(chosen, Some(1));
        let f = Figures { meta: &m, records: &[], est: &est, axis, xs, labels, groups, bounds: m.bounds(), chosen };
        // The tradeoff in MiB (its top is 3 MiB): b sits at 3.0 MiB and a 0.97 rate.
        let t = f.tradeoff();
        assert_eq!(t.answer, Some((3.0, 0.97, "answer: retention=b".into())));
        assert_eq!(t.marks.len(), 1, "the target; the budget bounds the peak, not this axis' mean");
        let r = f.recovery();
        assert_eq!(r.answer, Some((1.0, 0.97, "answer".into())));
        assert_eq!((r.marks[0].at, r.marks[0].label.as_str()), (0.95, "target: ≥ 0.95"));
        let peak = f.metric("retained_bytes_peak");
        assert_eq!(peak.marks[0].label, "budget: ≤ 4.00 MiB");
        assert_eq!(peak.answer, Some((1.0, 3.5, "answer".into())));
        let memory = f.memory();
        assert_eq!(memory.marks[0].label, "budget: peak ≤ 4.00 MiB");
    }

    #[test]
    fn figures_read_in_human_units_with_three_digits() {
        assert_eq!(
            human_ci("retained_bytes_mean", &e(1.64 * 1048576.0, 1.6 * 1048576.0, 1.69 * 1048576.0)),
            "1.64 MiB (1.60 to 1.69)"
        );
        assert_eq!(human_ci("retained_bytes_mean", &e(5816.0, 5519.0, 6113.0)), "5.68 KiB (5.39 to 5.97)");
        assert_eq!(human_ci("restore_fresh_ms_p50", &e(8870.0, 8770.0, 8980.0)), "8.87 s (8.77 to 8.98)");
        assert_eq!(human_ci("restore_recovered_ms_p50", &e(527.0, f64::NAN, f64::NAN)), "527 ms");
        assert_eq!(human_ci("recovery_success_rate", &e(0.17042, 0.16811, 0.17223)), "0.1704 (0.1681 to 0.1722)");
        assert_eq!(human_ci("auto_logouts", &e(11058.0, 10860.0, 11256.0)), "11058 (10860 to 11256)");
        assert_eq!(human_ci("auto_logouts", &e(12.34, f64::NAN, f64::NAN)), "12.3");
        assert_eq!(human_ci("x", &e(f64::NAN, f64::NAN, f64::NAN)), "-");
        assert_eq!(
            [sig3(0.005714), sig3(5.714), sig3(57.14), sig3(571.4), sig3(-5.714)],
            ["0.00571", "5.71", "57.1", "571", "-5.71"]
        );
        assert_eq!(
            [thousands(2000.0), thousands(999.0), thousands(1234567.0), thousands(-1000.0)],
            ["2,000", "999", "1,234,567", "-1,000"]
        );
    }

    #[test]
    fn every_summary_column_has_a_name_of_words() {
        for c in crate::run::summary_columns() {
            let n = quantity::name(&c);
            assert!(!n.contains('_'), "{c} reads {n}");
            assert!(!n.is_empty(), "{c}");
        }
    }
}
