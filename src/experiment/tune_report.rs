//! `impsim tune --out DIR`: the search written down for a design review. candidates.csv (every
//! value evaluated, each bound's mean and 95% interval and whether it holds), one plot per bound
//! along the ladder with the bound drawn and the recommendation marked, report.md and a
//! self-contained report.html, and a manifest with the command that reruns it.

use super::report::capitalised;
use super::tune::{Candidate, Outcome};
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

/// The bounds in order: the target, then the budgets.
fn bounds(o: &Outcome) -> Vec<(&crate::check::Condition, &'static str)> {
    std::iter::once((&o.target, "target")).chain(o.budgets.iter().map(|b| (b, "budget"))).collect()
}

fn write_files(dir: &Path, o: &Outcome, inputs: &TuneInputs) -> Result<(), Error> {
    let p = dir.join("candidates.csv");
    write_atomic(&p, &candidates_csv(o).map_err(|e| out_err(&p, e))?)?;
    let mut plots = Vec::new();
    for (k, (c, role)) in bounds(o).into_iter().enumerate() {
        let stem = if k == 0 { "target".to_string() } else { format!("budget_{}", c.metric()) };
        if plots.iter().any(|(s, _)| *s == stem) {
            continue; // two budgets on one metric: one chart shows both
        }
        save_chart(dir, &stem, &chart(o, inputs, k))?;
        plots.push((stem, format!("{} along {} ({role})", capitalised(&quantity::name(c.metric())), o.knob)));
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
    for (c, _) in bounds(o) {
        let m = c.metric();
        header.extend([format!("{m}_mean"), format!("{m}_ci95_lo"), format!("{m}_ci95_hi")]);
    }
    header.extend(["meets_target", "within_budgets", "unsteady_runs", "seeds"].map(String::from));
    let cell = |v: f64| if v.is_finite() { format!("{v}") } else { String::new() };
    let rows: Vec<Vec<String>> = o
        .evaluated
        .iter()
        .map(|c| {
            let mut row = vec![c.value.clone()];
            for e in &c.estimates {
                row.extend([cell(e.mean), cell(e.lo), cell(e.hi)]);
            }
            row.push(u8::from(c.meets_target).to_string());
            row.push(u8::from(c.within_budgets).to_string());
            row.push(c.unsteady_runs.to_string());
            row.push(c.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" "));
            row
        })
        .collect();
    csv_text(&header, &rows)
}

/// Bound `k` (0: the target) along the candidates, with every bound on its metric drawn and the
/// recommendation (or the best compromise) marked.
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
    let points = o
        .evaluated
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let e = c.estimates[k];
            let bar = e.lo.is_finite().then_some((e.lo / scale, e.hi / scale));
            (i as f64, e.mean / scale, bar)
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
    let at = |c: &Candidate| o.evaluated.iter().position(|e| e.value == c.value).map(|i| i as f64);
    if let Some(i) = o.recommended.as_ref().and_then(at) {
        marks.push(Mark { at: i, vertical: true, label: "recommended".into(), answer: true });
    } else if let Some(i) = o.compromise.as_ref().and_then(at) {
        marks.push(Mark { at: i, vertical: true, label: "best compromise".into(), answer: false });
    }
    let runs = match inputs.replications {
        1 => "one run each".to_string(),
        r => format!("mean of {r} runs each, 95% CI"),
    };
    Chart {
        title: format!("{}: {} by {} ({runs})", inputs.name, quantity::name(metric), o.knob),
        x_desc: format!("{} (the values tune evaluated)", o.knob),
        y_desc,
        categories: Some(o.evaluated.iter().map(|c| c.value.clone()).collect()),
        series: vec![Series { name: String::new(), points, labels: vec![] }],
        y_range: (quantity::kind(metric) == quantity::Kind::Ratio).then_some((0.0, 1.0)),
        log_y: false,
        marks,
        warmup: None,
        answer: None,
    }
}

fn report(o: &Outcome, inputs: &TuneInputs, plots: &[(String, String)]) -> Document {
    let all = bounds(o);
    let said = |role: &str| -> String {
        all.iter().filter(|(_, r)| *r == role).map(|(c, _)| format!("`{}`", c.human())).collect::<Vec<_>>().join(", ")
    };
    let within = if o.budgets.is_empty() { String::new() } else { format!(" within {}", said("budget")) };
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
        (Some(c), _) => format!("**{} = {}**: {}.", o.knob, c.value, figures(c)),
        (None, Some(c)) => {
            format!("No value meets the target{within}. Best compromise: **{} = {}**: {}.", o.knob, c.value, figures(c))
        }
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
            .map(|c| format!("{} ({})", c.value, c.unsteady_runs))
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
            let mut row = vec![c.value.clone(), inputs.replications.to_string()];
            let runs = inputs.replications as usize;
            row.extend(all.iter().zip(&c.estimates).map(|((b, _), e)| human_ci_of(b.metric(), e, runs)));
            let chosen = o.recommended.as_ref().is_some_and(|r| r.value == c.value);
            row.push(match (chosen, c.meets_target, c.within_budgets) {
                (true, _, _) => "**recommended**".into(),
                (_, true, true) => "meets all".into(),
                (_, true, false) => "over budget".into(),
                (_, false, true) => "misses the target".into(),
                (_, false, false) => "misses the target, over budget".into(),
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
