//! `impsim tune --out DIR`: the search written down for a design review. candidates.csv (every
//! value evaluated, each bound's mean and 95% interval and whether it holds), one plot per bound
//! along the ladder with the bound drawn and the recommendation marked, report.md and a
//! self-contained report.html, and a manifest with the command that reruns it.

use super::report::capitalised;
use super::tune::{Candidate, Outcome, Unit, compound, micros_of};
use crate::error::Error;
use crate::output::document::{Block, Document};
use crate::output::plot::{Chart, Mark, Series, save_chart};
use crate::output::quantity;
use crate::output::quantity::{human_ci, human_ci_of};
use crate::output::tables::{csv_text, write_json};
use crate::output::{Staging, out_err, write_atomic};
use std::path::{Path, PathBuf};

/// How the search was asked for: what its manifest records and its rerun command repeats.
pub struct TuneInputs {
    /// The scenario's name.
    pub name: String,
    /// The scenario file as given, and its SHA-256.
    pub file: String,
    /// The SHA-256 of the scenario file's text.
    pub file_sha256: String,
    /// The search's seed (every run's seed derives from it).
    pub seed: u64,
    /// Runs per candidate value.
    pub replications: u32,
    /// Common random numbers (the default; `--independent` turns it off).
    pub crn: bool,
    /// `--set` overrides.
    pub overrides: Vec<String>,
    /// `--knob` as given.
    pub knob: String,
    /// `--values` as given (empty: the retention ladder).
    pub values: Vec<String>,
}

impl TuneInputs {
    /// The command that reruns this search into `out`.
    pub fn command(&self, o: &Outcome, out: &str) -> String {
        use crate::output::shell_word;
        let mut w =
            vec!["impsim".to_string(), "tune".into(), shell_word(&self.file), "--seed".into(), self.seed.to_string()];
        for s in &self.overrides {
            w.extend(["--set".into(), shell_word(s)]);
        }
        if self.knob != "retention" {
            w.extend(["--knob".into(), shell_word(&self.knob)]);
        }
        if !self.values.is_empty() {
            w.extend(["--values".into(), shell_word(&self.values.join(","))]);
        }
        w.extend(["--target".into(), shell_word(&o.target.text())]);
        for b in &o.budgets {
            w.extend(["--budget".into(), shell_word(&b.text())]);
        }
        w.extend(["--replications".into(), self.replications.to_string()]);
        if !self.crn {
            w.push("--independent".into());
        }
        w.extend(["--out".into(), shell_word(out)]);
        w.join(" ")
    }
}

/// The output folder, claimed before the search runs: a bad `--out` is refused before minutes
/// of work, and no other process can write it meanwhile.
pub struct Folder(Staging);

impl Folder {
    /// Claim `dir` (replacing one impsim wrote only with `force`).
    pub fn claim(dir: &Path, force: bool) -> Result<Folder, Error> {
        Ok(Folder(Staging::new(dir, force, false)?))
    }

    /// Give the folder up (the search failed): nothing of it is left behind.
    pub fn abandon(self) {
        self.0.abandon();
    }

    /// Write the search's files and move the folder into place.
    pub fn write(self, o: &Outcome, inputs: &TuneInputs) -> Result<PathBuf, Error> {
        let written = write_files(&self.0.path(""), o, inputs);
        self.0.finish(written).map(|((), d)| d)
    }
}

/// The bounds in order: the target, the budgets, the scenario's thresholds.
fn bounds(o: &Outcome) -> Vec<(&crate::check::Condition, &'static str)> {
    o.bounds()
}

fn write_files(dir: &Path, o: &Outcome, inputs: &TuneInputs) -> Result<(), Error> {
    let p = dir.join("candidates.csv");
    write_atomic(&p, &candidates_csv(o).map_err(|e| out_err(&p, e))?)?;
    let mut plots = Vec::new();
    let mut drawn: Vec<&str> = Vec::new();
    for (k, (c, role)) in bounds(o).into_iter().enumerate() {
        if drawn.contains(&c.metric()) {
            continue; // two bounds on one metric: one chart shows both
        }
        drawn.push(c.metric());
        let stem = if k == 0 { "target".to_string() } else { format!("{role}_{}", c.metric()) };
        save_chart(dir, &stem, &chart(o, inputs, k))?;
        plots.push((stem, format!("{} along {} ({role})", capitalised(&quantity::name(c.metric())), o.knob)));
        if k == 0
            && let Some(z) = zoom(o, inputs)
        {
            save_chart(dir, "target_zoom", &z)?;
            let caption = format!("{} around the answer (target)", capitalised(&quantity::name(c.metric())));
            plots.push(("target_zoom".into(), caption));
        }
    }
    let doc = report(o, inputs, &plots);
    write_atomic(&dir.join("report.md"), doc.markdown().as_bytes())?;
    write_atomic(&dir.join("report.html"), doc.html(dir)?.as_bytes())?;
    let files = crate::output::manifest_files(dir)?;
    let chosen = o.recommended.as_ref().map(|c| c.value.clone());
    write_json(
        &dir.join("manifest.json"),
        &serde_json::json!({
            "impsim_version": env!("CARGO_PKG_VERSION"),
            "impsim_commit": option_env!("IMPSIM_GIT_COMMIT"),
            "tune": {
                "scenario": inputs.name, "file": inputs.file, "knob": o.knob,
                "target": o.target.text(), "budgets": o.budgets.iter().map(|b| b.text()).collect::<Vec<_>>(),
                "replications": inputs.replications, "seed": inputs.seed.to_string(), "crn": inputs.crn,
                "overrides": inputs.overrides, "values": inputs.values,
            },
            "inputs": [{ "file": inputs.file, "sha256": inputs.file_sha256 }],
            "recommended": chosen,
            "compromise": o.compromise.as_ref().map(|c| c.value.clone()),
            "evaluated": o.evaluated.iter().map(|c| c.value.clone()).collect::<Vec<_>>(),
            "command": inputs.command(o, "DIR"),
            "files": files,
        }),
    )?;
    Ok(())
}

/// One row per candidate evaluated, in ladder order.
fn candidates_csv(o: &Outcome) -> Result<Vec<u8>, String> {
    let mut header = vec![o.knob.clone()];
    // Each metric once (a threshold may bound the target's metric too).
    let all = bounds(o);
    let first: Vec<bool> =
        all.iter().enumerate().map(|(k, (c, _))| all[..k].iter().all(|(d, _)| d.metric() != c.metric())).collect();
    for ((c, _), _) in all.iter().zip(&first).filter(|(_, f)| **f) {
        let m = c.metric();
        header.extend([format!("{m}_mean"), format!("{m}_ci95_lo"), format!("{m}_ci95_hi")]);
    }
    header.extend(["meets_target", "within_budgets"].map(String::from));
    if !o.thresholds.is_empty() {
        header.push("meets_thresholds".into());
    }
    header.extend(["unsteady_runs", "seeds"].map(String::from));
    let cell = |v: f64| if v.is_finite() { format!("{v}") } else { String::new() };
    let rows: Vec<Vec<String>> = o
        .evaluated
        .iter()
        .map(|c| {
            let mut row = vec![c.value.clone()];
            for (e, _) in c.estimates.iter().zip(&first).filter(|(_, f)| **f) {
                row.extend([cell(e.mean), cell(e.lo), cell(e.hi)]);
            }
            row.push(u8::from(c.meets_target).to_string());
            row.push(u8::from(c.within_budgets).to_string());
            if !o.thresholds.is_empty() {
                row.push(u8::from(c.meets_thresholds).to_string());
            }
            row.push(c.unsteady_runs.to_string());
            row.push(c.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" "));
            row
        })
        .collect();
    csv_text(&header, &rows)
}

/// Where candidates sit on an x axis by value: their positions, the axis' labelled ticks,
/// where it is broken, and its description.
struct ValueAxis {
    xs: Vec<f64>,
    ticks: Vec<(f64, String)>,
    breaks: Vec<f64>,
    desc: String,
}

/// `v` without trailing zeros: 0.5, 20, 1e-05 as 0.00001.
fn plain(v: f64) -> String {
    let t = format!("{v:.6}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Ticks from `lo` to `hi` every `step` of a 1-2-5 ladder (or `nice`, for durations in minutes),
/// about six of them.
fn linear_ticks(lo: f64, hi: f64, nice: Option<&[f64]>) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 6.0;
    let step = match nice {
        Some(n) => n.iter().copied().find(|s| *s >= raw).unwrap_or(raw),
        None => {
            let p = 10f64.powf(raw.log10().floor());
            [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(raw)
        }
    };
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 50 {
        out.push(v);
        v += step;
    }
    out
}

/// The x axis by value of `values` (durations or numbers, "infinite" at the end): log when the
/// positive values span more than a decade (as the retention ladder's 1m to 168h do; 0 and
/// infinite then sit at the ends, past a break in the axis), else linear (infinite past a
/// break). Durations are placed in minutes; ticks read as durations (`1m`, `6h`, `24h`; in
/// tune's one unit on a linear axis). `None` if a value is neither.
fn value_axis(values: &[&str], unit: Unit, knob: &str, linear: bool) -> Option<ValueAxis> {
    let durations: Option<Vec<f64>> =
        values.iter().map(|v| micros_of(v).map(|d| d.map_or(f64::INFINITY, |us| us as f64 / 60e6))).collect();
    let (vals, is_duration) = match durations {
        Some(d) => (d, true),
        None => (values.iter().map(|v| v.trim().parse::<f64>().ok()).collect::<Option<Vec<f64>>>()?, false),
    };
    let positive: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite() && *v > 0.0).collect();
    let (lo, hi) = positive.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let log = !linear && positive.len() >= 2 && hi / lo >= 10.0;
    let duration_text = |minutes: f64| compound((minutes * 60e6).round() as u64);
    let one_unit = |minutes: f64| match unit {
        Unit::Seconds => format!("{}s", plain(minutes * 60.0)),
        _ => format!("{}m", plain(minutes)),
    };
    let has_inf = vals.iter().any(|v| v.is_infinite());
    let has_zero = vals.iter().any(|v| *v <= 0.0);
    let mut ticks = Vec::new();
    let mut breaks = Vec::new();
    let xs: Vec<f64>;
    let desc;
    if log {
        let (l, h) = (lo.log10(), hi.log10());
        let gap = (0.1 * (h - l)).max(0.3);
        xs = vals
            .iter()
            .map(|v| {
                if v.is_infinite() {
                    h + gap
                } else if *v <= 0.0 {
                    l - gap
                } else {
                    v.log10()
                }
            })
            .collect();
        let nice: Vec<f64> = if is_duration {
            [1.0 / 60.0, 10.0 / 60.0, 1.0, 5.0, 10.0, 30.0, 60.0, 180.0, 360.0, 720.0, 1440.0, 4320.0, 10080.0, 43200.0]
                .to_vec()
        } else {
            let mut n = Vec::new();
            for k in (l.floor() as i32)..=(h.ceil() as i32) {
                n.extend([1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)));
            }
            n
        };
        for v in nice.into_iter().filter(|v| v.log10() >= l - 0.05 && v.log10() <= h + 0.05) {
            ticks.push((v.log10(), if is_duration { duration_text(v) } else { plain(v) }));
        }
        if has_zero {
            ticks.insert(0, (l - gap, if is_duration { "0s".into() } else { "0".into() }));
            breaks.push(l - gap / 2.0);
        }
        if has_inf {
            ticks.push((h + gap, "infinite".into()));
            breaks.push(h + gap / 2.0);
        }
        let ends = match (has_zero, has_inf) {
            (true, true) => ", 0 and infinite past the breaks",
            (true, false) => ", 0 past the break",
            (false, true) => ", infinite past the break",
            _ => "",
        };
        desc = format!("{knob} (log scale{ends})");
    } else {
        let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
        let (a, b) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        if !a.is_finite() {
            return None;
        }
        let gap = (0.12 * (b - a)).max(if b > 0.0 { 0.12 * b } else { 1.0 });
        xs = vals.iter().map(|v| if v.is_infinite() { b + gap } else { *v }).collect();
        let steps = [
            1.0 / 60.0,
            5.0 / 60.0,
            10.0 / 60.0,
            0.5,
            1.0,
            2.0,
            5.0,
            10.0,
            15.0,
            30.0,
            60.0,
            120.0,
            180.0,
            360.0,
            720.0,
            1440.0,
        ];
        for v in linear_ticks(a, b, is_duration.then_some(&steps[..])) {
            ticks.push((v, if is_duration { one_unit(v) } else { plain(v) }));
        }
        if has_inf {
            ticks.push((b + gap, "infinite".into()));
            breaks.push(b + gap / 2.0);
        }
        let unit_name = match (is_duration, unit) {
            (false, _) => String::new(),
            (true, Unit::Seconds) => " (seconds)".into(),
            (true, _) => " (minutes)".into(),
        };
        desc = format!("{knob}{unit_name}");
    }
    Some(ValueAxis { xs, ticks, breaks, desc })
}

/// Bound `k` (0: the target) along the candidates, placed by value, with every bound on its
/// metric drawn and the recommendation (or the best compromise) marked.
fn chart(o: &Outcome, inputs: &TuneInputs, k: usize) -> Chart {
    let all = bounds(o);
    let metric = all[k].0.metric();
    let top = o
        .evaluated
        .iter()
        .map(|c| c.estimates[k])
        .map(|e| if e.hi.is_finite() { e.hi.max(e.mean) } else { e.mean })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (scale, y_desc) = quantity::axis(metric, top);
    let values: Vec<&str> = o.evaluated.iter().map(|c| c.value.as_str()).collect();
    let axis = value_axis(&values, o.unit(), &o.knob, false);
    let x_of = |i: usize| axis.as_ref().map_or(i as f64, |a| a.xs[i]);
    let points = o
        .evaluated
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let e = c.estimates[k];
            let bar = e.lo.is_finite().then_some((e.lo / scale, e.hi / scale));
            (x_of(i), e.mean / scale, bar)
        })
        .collect();
    let mut marks: Vec<Mark> = all
        .iter()
        .filter(|(c, _)| c.metric() == metric)
        .map(|(c, role)| Mark {
            at: c.value / scale,
            vertical: false,
            label: format!("{role} {}", c.bound_text()),
            answer: false,
        })
        .collect();
    let at = |c: &Candidate| o.evaluated.iter().position(|e| e.value == c.value).map(x_of);
    if let Some((x, c)) = o.recommended.as_ref().and_then(|c| Some((at(c)?, c))) {
        marks.push(Mark { at: x, vertical: true, label: format!("recommended: {}", o.shown(&c.value)), answer: true });
    } else if let Some((x, c)) = o.compromise.as_ref().and_then(|c| Some((at(c)?, c))) {
        marks.push(Mark {
            at: x,
            vertical: true,
            label: format!("best compromise: {}", o.shown(&c.value)),
            answer: false,
        });
    }
    let runs = match inputs.replications {
        1 => "one run each".to_string(),
        r => format!("mean of {r} runs each, 95% CI"),
    };
    let (x_desc, categories, x_ticks, x_breaks) = match axis {
        Some(a) => (a.desc, None, Some(a.ticks), a.breaks),
        None => (o.knob.clone(), Some(o.evaluated.iter().map(|c| o.shown(&c.value)).collect()), None, Vec::new()),
    };
    Chart {
        title: format!("{}: {} by {} ({runs})", inputs.name, quantity::name(metric), o.knob),
        x_desc,
        y_desc,
        categories,
        series: vec![Series { name: String::new(), points, labels: vec![] }],
        y_range: (quantity::kind(metric) == quantity::Kind::Ratio).then_some((0.0, 1.0)),
        marks,
        x_ticks,
        x_breaks,
        ..Chart::default()
    }
}

/// Where the answer is decided: the target around the recommendation (or the best
/// compromise), from three candidates below it to two above, on a linear axis, each with its
/// interval, the bound drawn; those that meet the target and those that miss it told apart.
fn zoom(o: &Outcome, inputs: &TuneInputs) -> Option<Chart> {
    let chosen = o.recommended.as_ref().or(o.compromise.as_ref())?;
    let j = o.evaluated.iter().position(|c| c.value == chosen.value)?;
    let window: Vec<&Candidate> = o.evaluated[j.saturating_sub(3)..(j + 3).min(o.evaluated.len())]
        .iter()
        .filter(|c| micros_of(&c.value).is_none_or(|d| d.is_some()))
        .collect();
    if window.len() < 2 {
        return None;
    }
    let metric = o.target.metric();
    let values: Vec<&str> = window.iter().map(|c| c.value.as_str()).collect();
    let axis = value_axis(&values, o.unit(), &o.knob, true)?;
    let (scale, y_desc) = quantity::axis(metric, window.iter().map(|c| c.estimates[0].mean).fold(0.0, f64::max));
    let short = |c: &Candidate| o.shown(&c.value).split(' ').next().unwrap_or_default().to_string();
    let series = |name: &str, meets: bool| {
        let these: Vec<(usize, &&Candidate)> =
            window.iter().enumerate().filter(|(_, c)| c.meets_target == meets).collect();
        Series {
            name: name.into(),
            points: these
                .iter()
                .map(|(i, c)| {
                    let e = c.estimates[0];
                    (axis.xs[*i], e.mean / scale, e.lo.is_finite().then_some((e.lo / scale, e.hi / scale)))
                })
                .collect(),
            labels: these.iter().map(|(_, c)| short(c)).collect(),
        }
    };
    // The y axis around the intervals and the bound, not from 0: the differences are small.
    let bound = o.target.value / scale;
    let ends = window.iter().flat_map(|c| {
        let e = c.estimates[0];
        [e.mean, e.lo, e.hi].map(|v| v / scale)
    });
    let (lo, hi) = ends.filter(|v| v.is_finite()).fold((bound, bound), |(a, b), v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.15).max(1e-6);
    let mut marks: Vec<Mark> = bounds(o)
        .iter()
        .filter(|(c, _)| c.metric() == metric)
        .map(|(c, role)| Mark {
            at: c.value / scale,
            vertical: false,
            label: format!("{role} {}", c.bound_text()),
            answer: false,
        })
        .collect();
    marks.dedup_by(|a, b| a.at == b.at);
    let x = axis.xs[window.iter().position(|c| c.value == chosen.value)?];
    let what = if o.recommended.is_some() { "recommended" } else { "best compromise" };
    let runs = match inputs.replications {
        1 => "one run each".to_string(),
        r => format!("mean of {r} runs each, 95% CI"),
    };
    Some(Chart {
        title: format!("{}: {} around the answer ({runs})", inputs.name, quantity::name(metric)),
        x_desc: axis.desc,
        y_desc,
        series: [series("meets the target", true), series("misses the target", false)]
            .into_iter()
            .filter(|s| !s.points.is_empty())
            .collect(),
        y_range: Some((lo - pad, hi + pad)),
        marks,
        answer: Some((x, chosen.estimates[0].mean / scale, format!("{what}: {}", o.shown(&chosen.value)))),
        x_ticks: Some(axis.ticks),
        x_breaks: axis.breaks,
        ..Chart::default()
    })
}

fn report(o: &Outcome, inputs: &TuneInputs, plots: &[(String, String)]) -> Document {
    let all = bounds(o);
    let said = |role: &str| -> String {
        all.iter().filter(|(_, r)| *r == role).map(|(c, _)| format!("`{}`", c.human())).collect::<Vec<_>>().join(", ")
    };
    let within = match (o.budgets.is_empty(), o.thresholds.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" within {}", said("budget")),
        (true, false) => format!(" and the scenario's thresholds {}", said("threshold")),
        (false, false) => format!(" within {} and the scenario's thresholds {}", said("budget"), said("threshold")),
    };
    let mut d = Document::default();
    d.push(Block::Title(format!("tune: {} for {}", o.knob, inputs.name)));
    d.push(Block::Para(format!(
        "**Question.** What is the smallest {} that meets {}{within}, each with 95% confidence?",
        o.knob,
        said("target")
    )));
    let figures = |c: &Candidate| -> String {
        all.iter()
            .zip(&c.estimates)
            .map(|((b, _), e)| format!("{} {}", b.metric(), human_ci(b.metric(), e)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let answer = match (&o.recommended, &o.compromise) {
        (Some(c), _) => format!("**{} = {}**: {}.", o.knob, o.shown(&c.value), figures(c)),
        (None, Some(c)) => format!(
            "No value meets the target{within}. Best compromise: **{} = {}**: {}.",
            o.knob,
            o.shown(&c.value),
            figures(c)
        ),
        (None, None) => format!("No value meets the target, and no candidate has a value of {}.", o.target.metric()),
    };
    d.push(Block::Para(format!("**Answer.** {answer}")));
    let mut watch = Vec::new();
    if inputs.replications == 1 {
        watch.push(
            "One run per candidate: bounds were compared with single runs' values, with no confidence at all; \
                    use `--replications 5` or more for an answer to rely on."
                .to_string(),
        );
    }
    let unsteady: usize = o.evaluated.iter().map(|c| c.unsteady_runs).sum();
    if unsteady > 0 {
        let which: Vec<String> = o
            .evaluated
            .iter()
            .filter(|c| c.unsteady_runs > 0)
            .map(|c| format!("{} ({})", o.shown(&c.value), c.unsteady_runs))
            .collect();
        watch.push(format!(
            "In {unsteady} run(s) the steady-state check did not accept the warm-up, at {}: their figures may carry \
             start-up bias, or have no steady state.",
            which.join(", ")
        ));
    }
    if !watch.is_empty() {
        d.push(Block::Para("**Watch for.**".into()));
        d.push(Block::List(watch));
    }
    d.push(Block::Heading("Every value evaluated".into()));
    let mut header = vec![o.knob.clone(), "n".into()];
    header.extend(all.iter().map(|(c, role)| format!("{} ({role} {})", quantity::name(c.metric()), c.bound_text())));
    header.push("verdict".into());
    let rows = o
        .evaluated
        .iter()
        .map(|c| {
            let mut row = vec![o.shown(&c.value), inputs.replications.to_string()];
            let runs = inputs.replications as usize;
            row.extend(all.iter().zip(&c.estimates).map(|((b, _), e)| human_ci_of(b.metric(), e, runs)));
            let chosen = o.recommended.as_ref().is_some_and(|r| r.value == c.value);
            let missed: Vec<&str> = [
                (!c.meets_target, "misses the target"),
                (!c.within_budgets, "over budget"),
                (!c.meets_thresholds, "misses a threshold"),
            ]
            .into_iter()
            .filter_map(|(m, t)| m.then_some(t))
            .collect();
            row.push(match (chosen, missed.is_empty()) {
                (true, _) => "**recommended**".into(),
                (_, true) => "meets all".into(),
                (_, false) => missed.join(", "),
            });
            row
        })
        .collect();
    d.push(Block::Table { header, rows });
    for (stem, caption) in plots {
        d.push(Block::Heading(caption.clone()));
        d.push(Block::Figure { stem: stem.clone(), caption: caption.clone() });
    }
    d.push(Block::Heading("How this was found".into()));
    d.push(Block::Para(format!(
        "Each bound is taken to hold on one side of a threshold along the ladder of values (which side is read from \
         its two ends); binary search finds each threshold, then bisects between two durations to an eighth of the \
         gap. A bound counts as met only when its 95% confidence interval clears it (with one run, when the run's \
         value does). Each value rests on {} run(s) with {}; seeds derive from seed {}. Scenario `{}` (SHA-256 \
         `{}`). Rerun with `{}`.",
        inputs.replications,
        if inputs.crn {
            "common random numbers (replication r of every value uses the same seed)"
        } else {
            "independent seeds"
        },
        inputs.seed,
        inputs.file,
        &inputs.file_sha256[..inputs.file_sha256.len().min(16)],
        inputs.command(o, "DIR")
    )));
    d.push(Block::Para(
        "Files: `candidates.csv` (every value evaluated: each bound's mean and 95% interval, verdicts, seeds), \
         `report.html` (this page, plots inlined), `manifest.json`."
            .into(),
    ));
    d
}
