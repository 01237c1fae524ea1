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
use crate::stats::{Estimate, estimate};
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
    /// Whether each bound holds: the target, then the budgets.
    met: Vec<bool>,
    /// Runs whose steady-state check did not accept the warm-up.
    pub unsteady_runs: usize,
}

impl Candidate {
    fn meets_all(&self) -> bool {
        self.meets_target && self.within_budgets
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
    /// Every candidate evaluated, in ladder order.
    pub evaluated: Vec<Candidate>,
    /// The smallest value meeting target and budgets.
    pub recommended: Option<Candidate>,
    /// When nothing meets both: the best target value within budgets (or the closest overall).
    pub compromise: Option<Candidate>,
}

/// What a search needs to carry out its runs: the threads, and the flag that stops it.
struct Ctx<'a> {
    pool: &'a rayon::ThreadPool,
    stop: &'a AtomicBool,
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

/// The figures of one run the search uses: the bounds' metrics in order, whether it stalled,
/// whether its steady-state check accepted the warm-up.
struct Run {
    values: Vec<f64>,
    stalled_at: Option<crate::engine::time::SimTime>,
    steady: bool,
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

impl Search<'_> {
    fn evaluate(&self, i: usize, ctx: &Ctx) -> Result<Candidate, Halt> {
        self.evaluate_value(&self.values[i], ctx)
    }

    fn evaluate_value(&self, knob_value: &toml::Value, ctx: &Ctx) -> Result<Candidate, Halt> {
        let value = super::display_value(knob_value);
        let mut table = self.base.clone();
        set_value(&mut table, &self.knob, knob_value.clone()).map_err(|m| err(self.file, &self.knob, m))?;
        let params = from_table(table, &format!("{} with {}={value}", self.file, self.knob), self.base_dir)?;
        let label = format!("{}={value}", self.knob);
        let seeds: Vec<u64> = (0..self.replications).map(|r| run_seed(self.seed, &label, r, self.crn)).collect();
        let bounds: Vec<&Condition> = std::iter::once(&self.target).chain(&self.budgets).collect();
        if ctx.stop.load(Ordering::Relaxed) {
            return Err(Halt::Stopped);
        }
        // Each run kept as the few figures the search needs, not its whole report: thousands
        // of replications must not hold thousands of histograms and timeseries.
        let runs: Vec<Option<Run>> = ctx.pool.install(|| {
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
                        values: bounds.iter().map(|c| r.get(&c.metric).unwrap_or(f64::NAN)).collect(),
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
        let estimates: Vec<Estimate> = bounds
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let values: Vec<f64> = runs.iter().map(|r| r.values[k]).collect();
                // Kept in the metric's range (a rate in [0, 1]), as an experiment's points are.
                crate::output::quantity::clamped(&c.metric, estimate(&values))
            })
            .collect();
        let met: Vec<bool> = bounds.iter().zip(&estimates).map(|(c, e)| c.met(e, self.replications as usize)).collect();
        let (meets_target, within_budgets) = (met[0], met[1..].iter().all(|&m| m));
        let unsteady_runs = runs.iter().filter(|r| !r.steady).count();
        Ok(Candidate { value, seeds, estimates, meets_target, within_budgets, met, unsteady_runs })
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

    /// What the guards judge before the search starts: the memory it needs with `parallel`
    /// runs at once, and the events of its longest run (over every candidate value).
    pub fn resources(&self, parallel: usize) -> Result<(u64, f64), InputError> {
        let (mut memory, mut events) = (0u64, 0f64);
        for v in &self.values {
            let mut table = self.base.clone();
            set_value(&mut table, &self.knob, v.clone()).map_err(|m| err(self.file, &self.knob, m))?;
            let shown = super::display_value(v);
            let p = from_table(table, &format!("{} with {}={shown}", self.file, self.knob), self.base_dir)?;
            memory = memory.max(crate::guard::tune_memory(&p, self.replications, parallel));
            events = events.max(crate::guard::events(&p));
        }
        Ok((memory, events))
    }

    /// Search the values: the smallest meeting every bound (else a compromise); an error if there
    /// are no values, a candidate's scenario is refused or a run stalls.
    pub fn run(&self) -> Result<Outcome, InputError> {
        Ok(self.run_until(&AtomicBool::new(false))?.expect("never stopped"))
    }

    /// As `run`, but once `stop` is set no new run starts and the search ends with `None`
    /// (Ctrl-C, SIGTERM): a search cut short has no answer to give.
    pub fn run_until(&self, stop: &AtomicBool) -> Result<Option<Outcome>, InputError> {
        match self.search(stop) {
            Ok(o) => Ok(Some(o)),
            Err(Halt::Stopped) => Ok(None),
            Err(Halt::Input(e)) => Err(e),
        }
    }

    fn search(&self, stop: &AtomicBool) -> Result<Outcome, Halt> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(self.threads.max(1)).build().expect("a thread pool");
        let ctx = Ctx { pool: &pool, stop };
        let n = self.values.len();
        if n == 0 {
            return Err(err(self.file, &self.knob, "no candidate values to try").into());
        }
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
        let bounds = 1 + self.budgets.len();
        // Each bound's direction, from where it holds at the two ends of the ladder.
        let (low, high) = (self.get(cache, 0, ctx)?, self.get(cache, n - 1, ctx)?);
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
        let within: Vec<&Candidate> = valued.clone().filter(|c| c.within_budgets).collect();
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

fn show(e: &Estimate) -> String {
    // Rates with 4 decimals; counts and bytes as whole numbers.
    let d = if e.mean.abs() < 1000.0 { 4 } else { 0 };
    if e.lo.is_finite() {
        format!("{:.*} [{:.*}, {:.*}]", d, e.mean, d, e.lo, d, e.hi)
    } else {
        format!("{:.*}", d, e.mean)
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
    let conds: Vec<String> = std::iter::once(&o.target).chain(&o.budgets).map(|c| c.describe()).collect();
    let what = if replications == 1 { "mean of 1 run: no interval" } else { "mean [95% CI]" };
    match (&o.recommended, &o.compromise) {
        (Some(c), _) => {
            s += &format!("recommendation: {} = {}\n", o.knob, c.value);
            for (cond, e) in conds.iter().zip(&c.estimates) {
                s += &format!("  {cond}: {} ({what})\n", show(e));
            }
        }
        (None, Some(c)) => {
            s += &format!("no value of {} meets {} within the budgets.\n", o.knob, o.target.describe());
            s += &format!("best compromise: {} = {}\n", o.knob, c.value);
            for (cond, e) in conds.iter().zip(&c.estimates) {
                s += &format!("  {cond}: {} ({what})\n", show(e));
            }
        }
        (None, None) => {
            s += &format!(
                "no value of {} meets {} within the budgets; no candidate even has a value of {} (e.g. no \
                 recovery attempt at all)\n",
                o.knob,
                o.target.describe(),
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
    s += &format!("  {:<10} {}\n", o.knob.rsplit('.').next().unwrap_or(&o.knob), conds.join(" | "));
    for c in &o.evaluated {
        let marks = format!(
            "{}{}{}",
            if c.meets_target { " target met" } else { "" },
            if c.within_budgets { "" } else { " over budget" },
            if c.unsteady_runs > 0 { format!(" ({} runs unsteady)", c.unsteady_runs) } else { String::new() }
        );
        s += &format!("  {:<10} {}{}\n", c.value, c.estimates.iter().map(show).collect::<Vec<_>>().join(" | "), marks);
    }
    if let Some(c) = o.recommended.as_ref().or(o.compromise.as_ref()) {
        s += &format!("  seeds of {} = {}: {:?}\n", o.knob, c.value, c.seeds);
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
    fn estimates_print_rates_with_four_decimals_and_counts_whole() {
        assert_eq!(show(&est(0.95123, 0.94, 0.96)), "0.9512 [0.9400, 0.9600]");
        assert_eq!(show(&est(-12.5, -13.0, -12.0)), "-12.5000 [-13.0000, -12.0000]");
        assert_eq!(show(&est(999.5, 990.0, 1009.0)), "999.5000 [990.0000, 1009.0000]");
        assert_eq!(show(&est(1000.0, 990.0, 1010.0)), "1000 [990, 1010]");
        assert_eq!(show(&est(123_456.7, f64::NAN, f64::NAN)), "123457", "no interval: the mean alone");
    }

    #[test]
    fn steady_runs_carry_no_warning() {
        let c = Candidate {
            value: "30m".into(),
            seeds: vec![1],
            estimates: vec![est(0.96, 0.955, 0.965)],
            meets_target: true,
            within_budgets: true,
            met: vec![true],
            unsteady_runs: 0,
        };
        let o = Outcome {
            knob: "retention".into(),
            target: Condition::parse("recovery_success_rate>=0.95").unwrap(),
            budgets: vec![],
            evaluated: vec![c.clone()],
            recommended: Some(c),
            compromise: None,
        };
        let text = describe(&o, 4);
        assert!(text.contains("recommendation: retention = 30m"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
    }
}
