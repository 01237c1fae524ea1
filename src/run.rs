//! One run of a scenario: simulate it, check its steady state, describe it for a person.

use crate::engine::time::{MICROS, SimDuration, SimTime};
use crate::model::metrics::Cell;
use crate::model::{Observer, Outcome, Params};
use std::time::Instant;

/// A finished run.
pub struct Report {
    /// The scenario that ran, its seed included.
    pub params: Params,
    /// What the simulation produced.
    pub outcome: Outcome,
    /// The steady-state check and the recovery rate's batch-means interval.
    pub steady: SteadyState,
    /// The summary.csv row: (column, value) in column order.
    pub summary: Vec<(String, Cell)>,
    pub(crate) wall_seconds: f64,
}

impl Report {
    /// The value of the summary.csv column `column` (NaN where the run has none, e.g. a rate
    /// with no attempt); `None` if no column has that name (`summary_columns` lists them).
    pub fn get(&self, column: &str) -> Option<f64> {
        self.summary.iter().find(|(k, _)| k == column).map(|(_, v)| v.as_f64())
    }
    /// As `get`, for a column the caller knows exists.
    ///
    /// # Panics
    /// If no summary.csv column has that name, saying so (a typo must not read as NaN).
    pub fn metric(&self, column: &str) -> f64 {
        self.get(column).unwrap_or_else(|| panic!("\"{column}\" is not a summary.csv column; see summary_columns()"))
    }
    pub(crate) fn events_per_second(&self) -> f64 {
        self.outcome.metrics.c.events as f64 / self.wall_seconds.max(1e-9)
    }
}

/// Simulate, in memory, with an observer of every transaction.
pub fn simulate<O: Observer>(params: Params, observer: O) -> (Report, O) {
    let started = Instant::now();
    let (outcome, observer) = crate::model::sim::simulate(params.clone(), observer);
    let wall_seconds = started.elapsed().as_secs_f64();
    let mut summary = outcome.metrics.summary(params.seed, params.clients, outcome.end);
    let mut steady = SteadyState::of(
        params.warmup.0,
        params.sample_every.0,
        !params.sap.restarts.is_empty(),
        &outcome.metrics.samples,
    );
    let c = &outcome.metrics.c;
    steady.centre_rate_on(c.recovery_rate(), c.recovery_successes as f64, c.recovery_attempts() as f64);
    summary.extend(steady.columns());
    (Report { params, outcome, steady, summary, wall_seconds }, observer)
}

/// Every summary.csv column, in order (the model's, then the steady-state check's): the names
/// `Report::get` knows.
pub fn summary_columns() -> Vec<String> {
    let mut cols: Vec<String> = crate::model::metrics::Metrics::default()
        .summary(0, 0, SimTime::from_micros(1))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    cols.extend(SteadyState::of(SimDuration::ZERO, MICROS, false, &[]).columns().into_iter().map(|(k, _)| k));
    cols
}

/// Batches of the measured window behind a single run's interval on its recovery rate.
pub(crate) const RATE_BATCHES: usize = 10;

/// The steady-state check of one run (MSER-5 on its timeseries, see `stats::steady_state`)
/// and the batch-means interval of its recovery rate over the measured window.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyState {
    pub(crate) warmup: SimDuration,
    /// Per key series: the instant where MSER-5 would truncate, None if it cannot tell
    /// (too few samples, or no recovery attempts in some batch).
    pub(crate) truncation: Vec<(&'static str, Option<SimTime>)>,
    /// Whether every series' truncation falls within the warm-up (to the batch).
    pub(crate) ok: bool,
    /// False for a run with SAP restarts: a transient study, where no steady state is sought.
    pub(crate) applies: bool,
    /// False when the warm-up is half the run or more: MSER-5 could not have found it short.
    pub(crate) judgeable: bool,
    /// The recovery rate's 95% batch-means interval over the measured window (NaN bounds with SAP restarts).
    pub rate: crate::stats::steady_state::RatioInterval,
}

impl SteadyState {
    /// The check of a timeseries sampled every `sample_every` after a warm-up of `warmup`
    /// `transient`: the run has SAP restarts, so no steady state is sought.
    /// The samples may be one run's or the sums over replications (a steadier series).
    pub fn of(
        warmup: SimDuration,
        sample_every: SimDuration,
        transient: bool,
        samples: &[crate::model::metrics::Sample],
    ) -> SteadyState {
        use crate::stats::steady_state::{MSER_BATCH, batch_means, batch_ratios, mser, ratio_interval};
        // MSER-5 on the whole run (White's textbook use): where the start-up transient ends.
        // It searches only the first half of the run, so a warm-up of half the run or more
        // could never be found too short: that gets no verdict ("cannot tell").
        let col =
            |f: fn(&crate::model::metrics::Sample) -> u64| samples.iter().map(|s| f(s) as f64).collect::<Vec<_>>();
        // Per-interval recovery counts (sample i to i + 1).
        let delta = |v: Vec<f64>| v.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
        let attempts = delta(col(|s| s.recovery_attempts));
        let successes = delta(col(|s| s.recovery_successes));
        let rates = batch_ratios(&successes, &attempts);
        let mut series = vec![
            ("active_sessions", batch_means(&col(|s| s.active_sessions))),
            ("retained_bytes", batch_means(&col(|s| s.retained_bytes))),
        ];
        // A run with no recovery attempt at all has no rate to settle (e.g. recover_prob = 0).
        if rates.iter().any(|r| r.is_finite()) {
            series.push(("recovery_rate", rates));
        }
        // Where MSER-5 puts the end of the transient (None: at half the run, or batches without
        // attempts: too short to tell); a cut at batch d keeps samples from index MSER_BATCH * d on.
        let truncation: Vec<(&'static str, Option<SimTime>)> = series
            .iter()
            .map(|(name, y)| {
                let t = mser(y).filter(|t| !t.at_limit).map(|t| samples[MSER_BATCH * t.batches].time);
                (*name, t)
            })
            .collect();
        // Accepted when every transient ends within the warm-up (to the batch), and the warm-up
        // is under half the run, where MSER-5 could have said otherwise.
        let batch = MSER_BATCH as u64 * sample_every.as_micros();
        let allowed = SimTime::from_micros(warmup.as_micros().div_ceil(batch.max(1)) * batch);
        let end = samples.last().map_or(SimTime::ZERO, |s| s.time);
        let judgeable = 2 * warmup < end.since_start();
        let ok = judgeable && truncation.iter().all(|(_, t)| t.is_some_and(|t| t <= allowed));
        // The measured window's recovery counts, for the batch-means interval.
        let first =
            samples.iter().position(|s| s.time >= SimTime::ZERO + warmup).unwrap_or(samples.len()).min(attempts.len());
        let (successes, attempts) = (&successes[first..], &attempts[first..]);
        let applies = !transient;
        // Batch means assume a stationary window: none for a transient study.
        let rate = if applies {
            ratio_interval(successes, attempts, RATE_BATCHES)
        } else {
            let none = f64::NAN;
            crate::stats::steady_state::RatioInterval { ratio: none, lo: none, hi: none, batches: 0 }
        };
        SteadyState { warmup, truncation, ok, applies, judgeable, rate }
    }

    /// The batch-means interval moved onto `estimate`, the summary's rate over exactly
    /// [warmup, end] (the batches cover the sampled part of that window) from `successes` of
    /// `attempts`, and never narrower than their Wilson interval: ten batches that agree say
    /// nothing of the noise of the attempts behind them.
    pub fn centre_rate_on(&mut self, estimate: f64, successes: f64, attempts: f64) {
        let r = &mut self.rate;
        let half = r.hi - r.ratio;
        // A rate lies in [0, 1]; so does its interval (NaN, for no interval, stays NaN).
        (r.ratio, r.lo, r.hi) = (estimate, (estimate - half).clamp(0.0, 1.0), (estimate + half).clamp(0.0, 1.0));
        if let Some((wl, wh)) = crate::stats::difference::wilson(successes, attempts)
            && r.lo.is_finite()
        {
            (r.lo, r.hi) = (r.lo.min(wl), r.hi.max(wh));
        }
    }

    /// The summary columns: the rate's interval, where MSER-5 would cut, and the verdict.
    pub(crate) fn columns(&self) -> Vec<(String, Cell)> {
        let latest = self.truncation.iter().filter_map(|(_, t)| *t).max();
        let hours = |t: SimTime| Cell::Real(t.as_micros() as f64 / 3.6e9);
        vec![
            ("recovery_success_rate_ci95_lo".into(), Cell::Real(self.rate.lo)),
            ("recovery_success_rate_ci95_hi".into(), Cell::Real(self.rate.hi)),
            ("steady_state_truncation_hours".into(), latest.map_or(Cell::Real(f64::NAN), hours)),
            // Empty where the check does not apply (a transient study).
            ("steady_state_ok".into(), if self.applies { Cell::Int(self.ok as u64) } else { Cell::Real(f64::NAN) }),
        ]
    }

    /// What a person should know, or None when the check accepts the warm-up.
    pub fn warning(&self) -> Option<String> {
        if self.ok || !self.applies {
            return None;
        }
        if !self.judgeable {
            return Some(format!(
                "cannot tell whether the warm-up ({}) is long enough: MSER-5 looks for the end of the \
                 start-up transient only in the first half of the run; run more than twice the warm-up",
                crate::engine::format_duration(self.warmup)
            ));
        }
        let parts: Vec<String> = self
            .truncation
            .iter()
            .map(|(name, t)| match t {
                Some(t) => format!("{name} settles at {}", crate::engine::format_duration(t.since_start())),
                None => format!("{name}: run too short (or too few samples) to tell"),
            })
            .collect();
        Some(format!(
            "the warm-up ({}) looks too short for a steady-state estimate (MSER-5: {}); set `warmup` at least \
             that long, or run longer",
            crate::engine::format_duration(self.warmup),
            parts.join(", ")
        ))
    }
}

/// Why a stalled run is refused.
/// Why a run of `p` would show nothing, if it would: no client starts before the run ends
/// (every `startup` at or after `duration`). Valid input, so a warning rather than a refusal.
pub fn nothing_happens(p: &Params) -> Option<String> {
    let first = p.startup.0.least();
    let end = p.duration.0.as_micros() as f64 / 1e6;
    (first >= end).then(|| {
        format!(
            "no client starts before the run ends (`startup` is at least {} and `duration` is {}): nothing will \
             happen in it; start clients earlier or run longer",
            crate::engine::format_duration(crate::engine::time::SimDuration::from_micros((first * 1e6) as u64)),
            crate::engine::format_duration(p.duration.0)
        )
    })
}

pub(crate) fn stalled_message(t: SimTime) -> String {
    format!(
        "simulated time stopped advancing at {} (a process with zero delays loops forever); \
         no result was written. Check distributions that can be 0 (every, offline, rtt, service times).",
        crate::engine::format_duration(t.since_start())
    )
}

/// A summary figure as a person reads it, from its column's name: bytes in KiB/MiB/GiB,
/// milliseconds as ms or s, hours as h, counts whole, other values to four places.
pub fn human_figure(column: &str, v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if column.contains("byte_hours") {
        format!("{}·h", human_bytes(v))
    } else if column.contains("bytes") {
        human_bytes(v)
    } else if column.contains("_ms_") {
        secs(v)
    } else if column.ends_with("_hours") {
        format!("{v:.2} h")
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

/// A CSV cell as a JSON number (an empty cell, NaN, is null): the same value summary.csv shows.
/// An integer above 2^53 is written as a string: most JSON readers (jq, JavaScript) hold
/// numbers as doubles and would read another integer.
pub fn json_number(cell: &str) -> serde_json::Value {
    match cell.parse::<u64>() {
        Ok(i) if i > 1 << 53 => i.to_string().into(),
        Ok(i) => i.into(),
        Err(_) => {
            cell.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(serde_json::Value::Null, Into::into)
        }
    }
}

fn human_bytes(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v.abs() >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}

fn secs(ms: f64) -> String {
    if ms.is_nan() {
        "-".into()
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// A short human summary of a run.
pub fn describe(r: &Report) -> String {
    let g = |k: &str| r.metric(k);
    let rate = g("recovery_success_rate");
    let mut s = String::new();
    s += &format!(
        "impsim {}: {} ({} clients, {:.1} simulated hours, seed {})\n",
        env!("CARGO_PKG_VERSION"),
        r.params.name,
        r.params.clients,
        g("sim_hours"),
        r.params.seed
    );
    s += &format!(
        "  events         {} in {:.2} s ({:.2} M events/s)\n",
        r.outcome.metrics.c.events,
        r.wall_seconds,
        r.events_per_second() / 1e6
    );
    let window = g("sim_hours") - g("warmup_hours");
    s += &format!(
        "  measured       the last {window:.1} h after a warm-up of {:.1} h; steady state: {}\n",
        g("warmup_hours"),
        match r.steady.warning() {
            None if !r.steady.applies => "not checked (SAP restarts: a transient study)".to_string(),
            None => "accepted (MSER-5)".to_string(),
            Some(w) => format!("WARNING: {w}"),
        }
    );
    let ci = |lo: f64, hi: f64| {
        if lo.is_finite() {
            format!(", 95% CI {:.1}% to {:.1}% (batch means)", lo * 100.0, hi * 100.0)
        } else {
            String::new()
        }
    };
    s += &format!(
        "  recovery       {} attempts, {} recovered ({}{}); 502 by reason: expired {}, evicted {}, not stored {}, client changed {}, restart {}, replaced {}, unknown {}\n",
        g("recovery_attempts"),
        g("recovery_successes"),
        if rate.is_nan() { "-".to_string() } else { format!("{:.1}%", rate * 100.0) },
        ci(g("recovery_success_rate_ci95_lo"), g("recovery_success_rate_ci95_hi")),
        g("fail_expired"),
        g("fail_evicted"),
        g("fail_not_stored"),
        g("fail_client_changed"),
        g("fail_restart"),
        g("fail_replaced"),
        g("fail_unknown"),
    );
    s += &format!(
        "  retained       peak {} contexts / {}, mean {:.0} / {}\n",
        g("retained_contexts_peak"),
        human_bytes(g("retained_bytes_peak")),
        g("retained_contexts_mean"),
        human_bytes(g("retained_bytes_mean")),
    );
    s += &format!(
        "  sessions       active peak {}, fresh logins {}, continued after outage {}, auto-logouts {}, SAP disconnects {}\n",
        g("active_sessions_peak"),
        g("logins_fresh"),
        g("session_continuations"),
        g("auto_logouts"),
        g("sap_disconnects"),
    );
    s += &format!(
        "  traffic        {} transactions, {} (keep-alive {:.1}% of transactions), recovery saved {}\n",
        g("transactions"),
        human_bytes(g("bytes_total")),
        g("keepalive_share") * 100.0,
        human_bytes(g("recovery_bytes_saved")),
    );
    s += &format!(
        "  restore time   recovered p50 {} p99 {}; fresh p50 {} p99 {}\n",
        secs(g("restore_recovered_ms_p50")),
        secs(g("restore_recovered_ms_p99")),
        secs(g("restore_fresh_ms_p50")),
        secs(g("restore_fresh_ms_p99")),
    );
    s
}

#[cfg(test)]
mod units_tests {
    use super::human_figure;

    #[test]
    fn figures_are_shown_in_their_units() {
        assert_eq!(human_figure("retained_bytes_mean", 1536.0), "1.5 KiB");
        assert_eq!(human_figure("retained_bytes_mean", -4145.3), "-4.0 KiB");
        assert_eq!(human_figure("bytes_total", 3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
        assert_eq!(human_figure("restore_recovered_ms_p50", 412.0), "412 ms");
        assert_eq!(human_figure("restore_fresh_ms_p99", 8990.0), "8.99 s");
        assert_eq!(human_figure("sim_hours", 72.0), "72.00 h");
        assert_eq!(human_figure("transactions", 1200.0), "1200");
        assert_eq!(human_figure("recovery_success_rate", 0.57712), "0.5771");
        assert_eq!(human_figure("transactions", 153983.84), "153983.8");
        assert_eq!(human_figure("x", f64::NAN), "-");
    }
}
