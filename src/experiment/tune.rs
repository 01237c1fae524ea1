//! `impsim tune`: the smallest value of a knob (default: retention) that meets a target with
//! 95% confidence, within budgets. Each bound (the target and every budget) is assumed
//! monotone along the ascending ladder of values, in a direction read from the data: it holds
//! from some value up (e.g. a recovery rate to reach) or up to some value (e.g. memory to stay
//! under). Binary search finds each bound's threshold; the answer is the smallest value where
//! every bound holds. Each candidate rests on `replications` runs (with common random numbers by
//! default), and a bound counts as met only if its 95% confidence interval lies on the right
//! side of it (with one run: the mean, and the answer says so).
//!
//! Why one file of this length: the conditions, the search, its refinement and the answer's
//! text are one algorithm read together; the last part of the file is its unit tests.

use super::run_seed;
use crate::engine::time::SimDuration;
use crate::scenario::{InputError, err, from_table, set_value};
use crate::stats::Estimate;
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::check::Condition;
pub(crate) use crate::check::Op;

/// The retention values `tune` tries by default, ascending from 0s (never stored) to infinite.
pub const RETENTION_LADDER: [&str; 24] = [
    "0s", "1m", "2m", "5m", "10m", "15m", "20m", "30m", "45m", "1h", "90m", "2h", "3h", "4h", "6h", "8h", "12h", "16h",
    "24h", "36h", "48h", "72h", "168h", "infinite",
];

/// One evaluated knob value.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The knob's value, as displayed.
    pub value: String,
    pub(crate) seeds: Vec<u64>,
    /// Estimates of the target and budget metrics, in that order.
    pub estimates: Vec<Estimate>,
    /// Whether the target holds with 95% confidence (on the mean alone with one replication).
    pub meets_target: bool,
    /// Whether every budget holds with 95% confidence (on the mean alone with one replication).
    pub within_budgets: bool,
    /// Whether every threshold of the scenario's `[thresholds]` holds, as budgets do.
    pub meets_thresholds: bool,
    /// Whether each bound holds: the target, the budgets, then the thresholds.
    met: Vec<bool>,
    /// Runs whose steady-state check did not accept the warm-up.
    pub unsteady_runs: usize,
}

impl Candidate {
    fn meets_all(&self) -> bool {
        self.meets_target && self.within_budgets && self.meets_thresholds
    }
    /// Whether bound `k` (0: the target, then the budgets) holds.
    fn holds(&self, k: usize) -> bool {
        self.met[k]
    }
}

/// Where along the ladder a bound holds, read from the two ends of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// From some value up.
    Above,
    /// Up to some value.
    Below,
    Everywhere,
    Nowhere,
}

/// What `tune` found: the candidates it evaluated, and its answer.
pub struct Outcome {
    pub(crate) knob: String,
    pub(crate) target: Condition,
    pub(crate) budgets: Vec<Condition>,
    /// The scenario's `[thresholds]`: a candidate must meet them too, as an experiment's answer does.
    pub(crate) thresholds: Vec<Condition>,
    /// Every candidate evaluated, in ladder order.
    pub evaluated: Vec<Candidate>,
    /// The smallest value meeting target and budgets.
    pub recommended: Option<Candidate>,
    /// When nothing meets both: the best target value within budgets (or the closest overall).
    pub compromise: Option<Candidate>,
}

/// A `tune` search: the scenario, the knob and its candidate values, the bounds, and how to run.
pub struct Search<'a> {
    /// The base scenario as a TOML table, `--set` overrides applied.
    pub base: toml::Table,
    /// The scenario file as named in error messages.
    pub file: &'a str,
    /// The folder the scenario's relative paths (empirical CSVs) start from.
    pub base_dir: &'a Path,
    /// The field tuned, a dotted path (default `retention`).
    pub knob: String,
    /// The knob's candidate values, ascending.
    pub values: Vec<toml::Value>,
    /// The bound to meet, e.g. `recovery_success_rate>=0.95`.
    pub target: Condition,
    /// Bounds that must hold too, e.g. `retained_bytes_peak<=2GiB`.
    pub budgets: Vec<Condition>,
    /// Runs per candidate value.
    pub replications: u32,
    /// The seed every run's seed is derived from.
    pub seed: u64,
    /// Runs in parallel (results never depend on it).
    pub threads: usize,
    /// Common random numbers: replication r of every candidate uses the same seed, so
    /// neighbouring candidates differ by the knob, not by noise.
    pub crn: bool,
}

/// How the search runs: its threads, whom it tells of each candidate evaluated, and the flag
/// that stops it (Ctrl-C, SIGTERM).
struct Ctx<'p> {
    pool: rayon::ThreadPool,
    progress: &'p dyn Fn(&Candidate),
    stop: &'p AtomicBool,
}

/// Why a search ended early: a refused candidate, or a stop asked for.
enum Halt {
    Input(InputError),
    Stopped,
}

impl From<InputError> for Halt {
    fn from(e: InputError) -> Halt {
        Halt::Input(e)
    }
}

/// The figures of one run the search uses (each bound's metric and the counts behind a rate),
/// not its whole report: thousands of replications must not hold thousands of histograms and
/// timeseries.
struct Run {
    values: std::collections::BTreeMap<String, f64>,
    stalled_at: Option<crate::engine::time::SimTime>,
    steady: bool,
}

impl Search<'_> {
    fn evaluate(&self, i: usize, ctx: &Ctx) -> Result<Candidate, Halt> {
        self.evaluate_value(&self.values[i], ctx)
    }

    /// The scenario with the knob at `knob_value`.
    fn params(&self, knob_value: &toml::Value) -> Result<crate::model::params::Params, InputError> {
        let value = super::display_value(knob_value);
        let mut table = self.base.clone();
        set_value(&mut table, &self.knob, knob_value.clone()).map_err(|m| err(self.file, &self.knob, m))?;
        from_table(table, &format!("{} with {}={value}", self.file, self.knob), self.base_dir)
    }

    /// The scenario's `[thresholds]` (read and checked with the scenario).
    fn thresholds(&self, params: &crate::model::params::Params) -> Result<Vec<Condition>, InputError> {
        crate::check::from_table(&params.thresholds).map_err(|(field, m)| err(self.file, &field, m))
    }

    fn evaluate_value(&self, knob_value: &toml::Value, ctx: &Ctx) -> Result<Candidate, Halt> {
        let value = super::display_value(knob_value);
        let params = self.params(knob_value)?;
        let thresholds = self.thresholds(&params)?;
        let pool = &ctx.pool;
        let label = format!("{}={value}", self.knob);
        let seeds: Vec<u64> = (0..self.replications).map(|r| run_seed(self.seed, &label, r, self.crn)).collect();
        // The columns the bounds read: each metric, and the counts a rate's interval rests on.
        let mut columns: Vec<&str> = Vec::new();
        for c in std::iter::once(&self.target).chain(&self.budgets).chain(&thresholds) {
            let counts = crate::output::quantity::counts_of(&c.metric);
            for m in std::iter::once(c.metric.as_str()).chain(counts.iter().flat_map(|(s, a)| [*s, *a])) {
                if !columns.contains(&m) {
                    columns.push(m);
                }
            }
        }
        if ctx.stop.load(Ordering::Relaxed) {
            return Err(Halt::Stopped);
        }
        let runs: Vec<Option<Run>> = pool.install(|| {
            seeds
                .par_iter()
                .map(|&s| {
                    if ctx.stop.load(Ordering::Relaxed) {
                        return None;
                    }
                    let mut p = params.clone();
                    p.seed = s;
                    let r = crate::run::simulate(p, ()).0;
                    Some(Run {
                        values: columns.iter().map(|m| (m.to_string(), r.get(m).unwrap_or(f64::NAN))).collect(),
                        stalled_at: r.outcome.stalled_at,
                        steady: r.metric("steady_state_ok") != 0.0,
                    })
                })
                .collect()
        });
        let Some(runs) = runs.into_iter().collect::<Option<Vec<Run>>>() else { return Err(Halt::Stopped) };
        if let Some(t) = runs.iter().find_map(|r| r.stalled_at) {
            return Err(err(self.file, &self.knob, format!("at {value}: {}", crate::run::stalled_message(t))).into());
        }
        let estimates: Vec<Estimate> = std::iter::once(&self.target)
            .chain(&self.budgets)
            .chain(&thresholds)
            .map(|c| {
                let col =
                    |m: &str| runs.iter().map(|r| r.values.get(m).copied().unwrap_or(f64::NAN)).collect::<Vec<_>>();
                // As an experiment's points are: in the metric's range, a rate's interval never
                // narrower than the binomial one of its attempts.
                crate::output::quantity::estimate_of(&c.metric, &col(&c.metric), col)
            })
            .collect();
        let met: Vec<bool> = std::iter::once(&self.target)
            .chain(&self.budgets)
            .chain(&thresholds)
            .zip(&estimates)
            .map(|(c, e)| c.met(e, self.replications as usize))
            .collect();
        let b = 1 + self.budgets.len();
        let (meets_target, within_budgets) = (met[0], met[1..b].iter().all(|&m| m));
        let meets_thresholds = met[b..].iter().all(|&m| m);
        let unsteady_runs = runs.iter().filter(|r| !r.steady).count();
        let c =
            Candidate { value, seeds, estimates, meets_target, within_budgets, meets_thresholds, met, unsteady_runs };
        (ctx.progress)(&c);
        Ok(c)
    }

    fn get(&self, cache: &mut [Option<Candidate>], i: usize, ctx: &Ctx) -> Result<Candidate, Halt> {
        if cache[i].is_none() {
            cache[i] = Some(self.evaluate(i, ctx)?);
        }
        Ok(cache[i].clone().expect("just evaluated"))
    }

    /// The first ladder index in `range` whose candidate satisfies `pred`, by binary search
    /// (pred false then true along the range); `range.end` if none.
    fn first(
        &self,
        cache: &mut [Option<Candidate>],
        ctx: &Ctx,
        range: std::ops::Range<usize>,
        pred: &dyn Fn(&Candidate) -> bool,
    ) -> Result<usize, Halt> {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self.get(cache, mid, ctx)?) { hi = mid } else { lo = mid + 1 }
        }
        Ok(lo)
    }

    /// Search the values: the smallest meeting every bound (else a compromise); an error if there
    /// are no values, a candidate's scenario is refused or a run stalls.
    pub fn run(&self) -> Result<Outcome, InputError> {
        Ok(self.run_with(&|_| {}, &AtomicBool::new(false))?.expect("never stopped"))
    }

    /// What the guards judge before the search starts: the memory it needs with `parallel`
    /// runs at once, and the events of its longest run (over every candidate value).
    pub fn resources(&self, parallel: usize) -> Result<(u64, f64), InputError> {
        let (mut memory, mut events) = (0u64, 0f64);
        for v in &self.values {
            let p = self.params(v)?;
            memory = memory.max(crate::guard::tune_memory(&p, self.replications, parallel));
            events = events.max(crate::guard::events(&p));
        }
        Ok((memory, events))
    }

    /// `run`, telling `progress` of each candidate as it is evaluated; once `stop` is set no
    /// new run starts and the search ends with `None` (Ctrl-C, SIGTERM): a search cut short
    /// has no answer to give.
    pub fn run_with(&self, progress: &dyn Fn(&Candidate), stop: &AtomicBool) -> Result<Option<Outcome>, InputError> {
        match self.search(progress, stop) {
            Ok(o) => Ok(Some(o)),
            Err(Halt::Stopped) => Ok(None),
            Err(Halt::Input(e)) => Err(e),
        }
    }

    fn search(&self, progress: &dyn Fn(&Candidate), stop: &AtomicBool) -> Result<Outcome, Halt> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(self.threads.max(1)).build().expect("a thread pool");
        let ctx = Ctx { pool, progress, stop };
        let n = self.values.len();
        if n == 0 {
            return Err(err(self.file, &self.knob, "no candidate values to try").into());
        }
        let thresholds = self.thresholds(&self.params(&self.values[0])?)?;
        let mut cache: Vec<Option<Candidate>> = vec![None; n];
        let (from, to) = self.where_all_hold(&mut cache, &ctx)?;
        // The smallest value in that range that meets every bound (noise may break monotony).
        let mut recommended: Option<(usize, Candidate)> = None;
        for i in from..to {
            let c = self.get(&mut cache, i, &ctx)?;
            if c.meets_all() {
                recommended = Some((i, c));
                break;
            }
        }
        // Before saying no value meets, try every one: a bound may hold only between the ends.
        if recommended.is_none() {
            for i in 0..n {
                let c = self.get(&mut cache, i, &ctx)?;
                if c.meets_all() {
                    recommended = Some((i, c));
                    break;
                }
            }
        }
        let refined = self.refine(&mut recommended, &ctx)?;
        // Every candidate, in ascending knob order (ladder values and refinements interleaved).
        let mut evaluated: Vec<(u64, usize, Candidate)> = cache
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|c| (self.duration_of(i).unwrap_or(u64::MAX), i, c)))
            .collect();
        evaluated.extend(refined.into_iter().map(|(d, c)| (d, usize::MAX, c)));
        evaluated.sort_by_key(|(d, i, _)| (*d, *i));
        let evaluated: Vec<Candidate> = evaluated.into_iter().map(|(_, _, c)| c).collect();
        let compromise = match recommended {
            Some(_) => None,
            None => self.compromise(&evaluated),
        };
        Ok(Outcome {
            knob: self.knob.clone(),
            target: self.target.clone(),
            budgets: self.budgets.clone(),
            thresholds,
            evaluated,
            recommended: recommended.map(|(_, c)| c),
            compromise,
        })
    }

    /// Each bound's direction, from where it holds at the two ends of the ladder, and by
    /// binary search where it starts or stops holding: the ladder range [from, to) where every
    /// bound holds if each is monotone.
    fn where_all_hold(&self, cache: &mut [Option<Candidate>], ctx: &Ctx) -> Result<(usize, usize), Halt> {
        let n = self.values.len();
        // Each bound's direction, from where it holds at the two ends of the ladder.
        let (low, high) = (self.get(cache, 0, ctx)?, self.get(cache, n - 1, ctx)?);
        let bounds = low.met.len();
        let sides: Vec<Side> = (0..bounds)
            .map(|k| match (low.holds(k), high.holds(k)) {
                (false, true) => Side::Above,
                (true, false) => Side::Below,
                (true, true) => Side::Everywhere,
                (false, false) => Side::Nowhere,
            })
            .collect();
        // The values where every bound holds: [from, to).
        let (mut from, mut to) = (0, n);
        for (k, side) in sides.iter().enumerate() {
            match side {
                Side::Above => from = from.max(self.first(cache, ctx, 0..n, &|c| c.holds(k))?),
                Side::Below => to = to.min(self.first(cache, ctx, 0..n, &|c| !c.holds(k))?),
                Side::Everywhere => {}
                Side::Nowhere => to = 0,
            }
        }
        Ok((from, to))
    }

    /// Between the recommended ladder duration and the one below it, bisect a few times for
    /// a finer answer (which replaces the recommendation when it meets every bound); the
    /// refinements evaluated.
    fn refine(&self, recommended: &mut Option<(usize, Candidate)>, ctx: &Ctx) -> Result<Vec<(u64, Candidate)>, Halt> {
        let mut refined = Vec::new();
        if let Some(i) = recommended.as_ref().map(|(i, _)| *i) {
            // Between two durations of the ladder, bisect a few times for a finer answer.
            if let (Some(lo), Some(hi)) = (i.checked_sub(1).and_then(|j| self.duration_of(j)), self.duration_of(i)) {
                let (mut lo, mut hi) = (lo, hi);
                for _ in 0..REFINE_STEPS {
                    let mid = round_duration(lo + (hi - lo) / 2);
                    if mid <= lo || mid >= hi {
                        break;
                    }
                    let c = self.evaluate_value(
                        &toml::Value::String(crate::engine::format_duration(SimDuration::from_micros(mid))),
                        ctx,
                    )?;
                    if c.meets_all() {
                        hi = mid;
                        *recommended = Some((i, c.clone()));
                    } else {
                        lo = mid;
                    }
                    refined.push((mid, c));
                }
            }
        }
        Ok(refined)
    }

    /// Nothing meets every bound: the best target among those within budgets, else overall.
    fn compromise(&self, evaluated: &[Candidate]) -> Option<Candidate> {
        let better = |a: &&Candidate, b: &&Candidate| {
            let (x, y) = (a.estimates[0].mean, b.estimates[0].mean);
            match self.target.op {
                Op::AtLeast => x.total_cmp(&y),
                Op::AtMost => y.total_cmp(&x),
            }
        };
        // A candidate without a target value (no attempts: NaN) is no compromise.
        let valued = evaluated.iter().filter(|c| c.estimates[0].mean.is_finite());
        let within: Vec<&Candidate> = valued.clone().filter(|c| c.within_budgets && c.meets_thresholds).collect();
        let choices: Vec<&Candidate> = if within.is_empty() { valued.collect() } else { within };
        // max_by keeps the last of equals: reversed, that is the smallest value.
        choices.into_iter().rev().max_by(better).cloned()
    }

    /// The i-th ladder value as a finite duration in microseconds, if it is one.
    fn duration_of(&self, i: usize) -> Option<u64> {
        self.values.get(i)?.as_str().and_then(|s| crate::engine::parse_duration(s).ok()).map(|d| d.as_micros())
    }
}

/// Bisection steps between two ladder durations (an eighth of the gap).
const REFINE_STEPS: usize = 3;

/// Durations refined by bisection are rounded to whole minutes (whole seconds below 10 min).
fn round_duration(us: u64) -> u64 {
    let unit = if us >= 600_000_000 { 60_000_000 } else { 1_000_000 };
    (us + unit / 2) / unit * unit
}

/// A figure with its interval for the terminal, in the unit its mean needs: rates with 4
/// decimals (`0.9539 [0.9526, 0.9553]`), sizes and times scaled (`1.46 MiB [1.39, 1.53]`),
/// counts whole.
fn show(metric: &str, e: &Estimate) -> String {
    use crate::output::quantity::{Kind, kind, scale, sig3};
    let (div, unit) = scale(kind(metric), e.mean);
    let f = |v: f64| match kind(metric) {
        Kind::Ratio => format!("{v:.4}"),
        Kind::Count | Kind::Hours if e.mean.abs() < 1000.0 => format!("{v:.4}"),
        Kind::Count | Kind::Hours => format!("{v:.0}"),
        _ => sig3(v / div),
    };
    let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
    if e.lo.is_finite() {
        format!("{}{unit} [{}, {}]", f(e.mean), f(e.lo), f(e.hi))
    } else {
        format!("{}{unit}", f(e.mean))
    }
}

/// How tune shows the knob's values: durations in one unit, minutes when every value is whole
/// minutes, else seconds (so 5h, 315m and 330m do not sit side by side in three spellings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Minutes,
    Seconds,
    /// Not durations: as written.
    AsWritten,
}

/// A knob value as microseconds: `Some(None)` for infinite, `None` if not a duration.
pub(crate) fn micros_of(value: &str) -> Option<Option<u64>> {
    match value {
        "infinite" | "never" => Some(None),
        v => crate::engine::parse_duration(v).ok().map(|d| Some(d.as_micros())),
    }
}

/// `us` in hours, minutes and seconds, the parts that are not zero: `5h30m`, `24h`, `4m30s`.
pub(crate) fn compound(us: u64) -> String {
    let s = us / 1_000_000;
    let mut out = String::new();
    for (n, u) in [(s / 3600, "h"), (s / 60 % 60, "m"), (s % 60, "s")] {
        if n > 0 {
            out += &format!("{n}{u}");
        }
    }
    out
}

impl Outcome {
    /// The unit the evaluated values are shown in.
    pub(crate) fn unit(&self) -> Unit {
        let all: Option<Vec<Option<u64>>> = self.evaluated.iter().map(|c| micros_of(&c.value)).collect();
        match all {
            Some(ds) if ds.iter().flatten().all(|d| d % 60_000_000 == 0) => Unit::Minutes,
            Some(ds) if ds.iter().flatten().all(|d| d % 1_000_000 == 0) => Unit::Seconds,
            _ => Unit::AsWritten,
        }
    }

    /// A knob value as tune's table and text show it: in the unit of every value, with its
    /// hours-and-minutes form where that reads differently (`330m (5h30m)`, `45m`, `0m`).
    pub fn shown(&self, value: &str) -> String {
        let (div, u) = match self.unit() {
            Unit::Minutes => (60_000_000, "m"),
            Unit::Seconds => (1_000_000, "s"),
            Unit::AsWritten => return value.to_string(),
        };
        match micros_of(value) {
            Some(Some(us)) => {
                let one = format!("{}{u}", us / div);
                let parts = compound(us);
                if us == 0 || parts == one { one } else { format!("{one} ({parts})") }
            }
            _ => value.to_string(),
        }
    }

    /// The bounds in order, each with its role: the target, the budgets, the thresholds.
    pub(crate) fn bounds(&self) -> Vec<(&Condition, &'static str)> {
        std::iter::once((&self.target, "target"))
            .chain(self.budgets.iter().map(|b| (b, "budget")))
            .chain(self.thresholds.iter().map(|t| (t, "threshold")))
            .collect()
    }
}

/// Candidate values must be strictly ascending: numbers, or durations up to "infinite".
pub fn check_ascending(values: &[toml::Value]) -> Result<(), String> {
    let key = |v: &toml::Value| -> Result<f64, String> {
        match v {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Ok(*f),
            toml::Value::String(s) if s == "infinite" || s == "never" => Ok(f64::INFINITY),
            toml::Value::String(s) => crate::engine::parse_duration(s).map(|d| d.as_micros() as f64),
            other => Err(format!("{other} is neither a number nor a duration")),
        }
    };
    let mut last: Option<(f64, &toml::Value)> = None;
    for v in values {
        let k = key(v).map_err(|e| format!("--values: {e}"))?;
        if let Some((lk, lv)) = last
            && k <= lk
        {
            return Err(format!("--values must be in ascending order without repeats: {v} comes after {lv}"));
        }
        last = Some((k, v));
    }
    if values.is_empty() {
        return Err("--values: give at least one value".into());
    }
    Ok(())
}

/// The answer, for a person.
pub fn describe(o: &Outcome, replications: u32) -> String {
    let mut s = String::new();
    let bounds = o.bounds();
    let conds: Vec<String> = bounds
        .iter()
        .map(|(c, role)| if *role == "threshold" { format!("{} (threshold)", c.human()) } else { c.human() })
        .collect();
    let what = if replications == 1 { "mean of 1 run: no interval" } else { "mean [95% CI]" };
    let figures = |c: &Candidate| -> String {
        let rows = conds.iter().zip(&bounds).zip(&c.estimates);
        rows.map(|((cond, (b, _)), e)| format!("  {cond}: {} ({what})\n", show(b.metric(), e))).collect()
    };
    let within = if o.thresholds.is_empty() { "the budgets" } else { "the budgets and the thresholds" };
    match (&o.recommended, &o.compromise) {
        (Some(c), _) => {
            s += &format!("recommendation: {} = {}\n", o.knob, o.shown(&c.value));
            s += &figures(c);
        }
        (None, Some(c)) => {
            s += &format!("no value of {} meets {} within {within}.\n", o.knob, o.target.human());
            s += &format!("best compromise: {} = {}\n", o.knob, o.shown(&c.value));
            s += &figures(c);
        }
        (None, None) => {
            s += &format!(
                "no value of {} meets {} within {within}; no candidate even has a value of {} (e.g. no \
                 recovery attempt at all)\n",
                o.knob,
                o.target.human(),
                o.target.metric
            )
        }
    }
    if replications == 1 {
        s += "\nWARNING: one run per candidate: bounds were compared with single runs' values, with no \
              confidence at all; use --replications 5 or more for an answer to rely on.\n";
    }
    let unsteady: usize = o.evaluated.iter().map(|c| c.unsteady_runs).sum();
    if unsteady > 0 {
        s += &format!(
            "\nWARNING: in {unsteady} run(s) the steady-state check did not accept the warm-up (see `warmup`); \
             their figures may carry start-up bias.\n"
        );
    }
    let rule = if replications == 1 {
        "a bound counts as met if the run's value is on its side"
    } else {
        "a bound counts as met only if the 95% CI clears it"
    };
    s += &format!("\nevaluated ({replications} runs each; {rule}):\n");
    let name = o.knob.rsplit('.').next().unwrap_or(&o.knob);
    let width =
        o.evaluated.iter().map(|c| o.shown(&c.value).chars().count()).chain([name.len(), 10]).max().unwrap_or(10);
    s += &format!("  {name:<width$} {}\n", conds.join(" | "));
    for c in &o.evaluated {
        let marks = format!(
            "{}{}{}{}",
            if c.meets_target { " target met" } else { "" },
            if c.within_budgets { "" } else { " over budget" },
            if c.meets_thresholds { "" } else { " misses a threshold" },
            if c.unsteady_runs > 0 { format!(" ({} runs unsteady)", c.unsteady_runs) } else { String::new() }
        );
        let figures: Vec<String> = bounds.iter().zip(&c.estimates).map(|((b, _), e)| show(b.metric(), e)).collect();
        s += &format!("  {:<width$} {}{}\n", o.shown(&c.value), figures.join(" | "), marks);
    }
    if let Some(c) = o.recommended.as_ref().or(o.compromise.as_ref()) {
        s += &format!("  seeds of {} = {}: {:?}\n", o.knob, o.shown(&c.value), c.seeds);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, lo: f64, hi: f64) -> Estimate {
        Estimate { n: 4, mean, sd: 0.0, lo, hi }
    }

    #[test]
    fn estimates_print_rates_with_four_decimals_sizes_in_their_unit_and_counts_whole() {
        let rate = "recovery_success_rate";
        assert_eq!(show(rate, &est(0.95123, 0.94, 0.96)), "0.9512 [0.9400, 0.9600]");
        assert_eq!(show("auto_logouts", &est(999.5, 990.0, 1009.0)), "999.5000 [990.0000, 1009.0000]");
        assert_eq!(show("auto_logouts", &est(1000.0, 990.0, 1010.0)), "1000 [990, 1010]");
        assert_eq!(show("auto_logouts", &est(123_456.7, f64::NAN, f64::NAN)), "123457", "no interval: the mean alone");
        // Not 1529696 [1454958, 1604434]: bytes in the unit the mean needs.
        assert_eq!(show("retained_bytes_peak", &est(1_529_696.0, 1_454_958.4, 1_604_433.6)), "1.46 MiB [1.39, 1.53]");
        assert_eq!(show("restore_recovered_ms_p99", &est(1_500.0, 1_200.0, 1_800.0)), "1.50 s [1.20, 1.80]");
    }

    fn candidate(value: &str, met: bool) -> Candidate {
        Candidate {
            value: value.into(),
            seeds: vec![1],
            estimates: vec![est(0.96, 0.955, 0.965), est(1_529_696.0, 1_454_958.4, 1_604_433.6)],
            meets_target: met,
            within_budgets: true,
            meets_thresholds: true,
            met: vec![met, true],
            unsteady_runs: 0,
        }
    }

    fn outcome(values: &[&str]) -> Outcome {
        let evaluated: Vec<Candidate> = values.iter().map(|v| candidate(v, true)).collect();
        Outcome {
            knob: "retention".into(),
            target: Condition::parse("recovery_success_rate>=0.95").unwrap(),
            budgets: vec![Condition::parse("retained_bytes_peak<=2097152").unwrap()],
            thresholds: vec![],
            recommended: evaluated.last().cloned(),
            evaluated,
            compromise: None,
        }
    }

    #[test]
    fn steady_runs_carry_no_warning() {
        let text = describe(&outcome(&["30m"]), 4);
        assert!(text.contains("recommendation: retention = 30m"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
    }

    /// Durations in one unit (not 5h next to 315m next to 330m), budgets in human units.
    #[test]
    fn values_read_in_one_unit_and_budgets_in_human_units() {
        let o = Outcome {
            recommended: Some(candidate("330m", true)),
            ..outcome(&["0s", "5h", "315m", "330m", "infinite"])
        };
        assert_eq!(o.unit(), Unit::Minutes);
        let shown: Vec<String> = o.evaluated.iter().map(|c| o.shown(&c.value)).collect();
        assert_eq!(shown, ["0m", "300m (5h)", "315m (5h15m)", "330m (5h30m)", "infinite"]);
        assert_eq!(o.shown("45m"), "45m");
        assert_eq!(o.shown("24h"), "1440m (24h)");
        let text = describe(&o, 5);
        assert!(text.contains("recommendation: retention = 330m (5h30m)"), "{text}");
        assert!(text.contains("retained_bytes_peak ≤ 2.00 MiB: 1.46 MiB [1.39, 1.53] (mean [95% CI])"), "{text}");
        assert!(text.contains("  300m (5h)    0.9600 [0.9550, 0.9650] | 1.46 MiB [1.39, 1.53]"), "{text}");
        assert!(!text.contains("2097152") && !text.contains("1529696"), "{text}");
        // A refinement in seconds puts every value in seconds.
        let s = outcome(&["5m", "270s", "10m"]);
        assert_eq!(s.unit(), Unit::Seconds);
        assert_eq!(s.shown("270s"), "270s (4m30s)");
        assert_eq!(s.shown("10m"), "600s (10m)");
        // Not durations: as written.
        let n = outcome(&["100", "200"]);
        assert_eq!((n.unit(), n.shown("100")), (Unit::AsWritten, "100".to_string()));
    }
}
