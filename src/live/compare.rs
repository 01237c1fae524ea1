//! A live run against its simulation: the figures side by side, the strict per-attempt check
//! (each Session Present against the broker's rule applied to the times the driver saw), and
//! the statistical ones (Session Present rate, retained sessions over time).

use super::driver::{Attempt, Measured};
use super::scale::Scale;
use crate::model::metrics::{Counters, EndReason};
use crate::run::Report;

/// Attempts closer than this (seconds) to a boundary of the broker's rule are not judged.
pub const GUARD_BAND: f64 = 0.25;
/// The strict check passes at this agreement or better.
pub const STRICT_AGREEMENT: f64 = 0.995;
/// The time-weighted mean of retained sessions agrees within this share.
pub const RETAINED_TOLERANCE: f64 = 0.05;
/// The broker computes `$SYS/broker/clients/disconnected` at the top of its loop, before that
/// iteration's keep-alive sweep, and sends it after the sweep's closes (Mosquitto 2.0.11,
/// loop.c: sys_tree__update, keepalive__check, mux__handle). A sample is compared with the
/// driver's count this long before the sample arrived, before the sweep's closes.
pub const SYS_LEAD: f64 = 0.005;
/// The share of `$SYS` samples that must match the driver's count (within one session and 1%).
pub const SYS_AGREEMENT: f64 = 0.9;

/// One figure, live and simulated.
#[derive(Clone, Debug)]
pub struct Row {
    /// The figure's name (a column of the simulation's summary where there is one).
    pub metric: &'static str,
    /// As measured against the broker.
    pub live: f64,
    /// As the simulation of the same scenario, seed and broker rules gives it.
    pub simulated: f64,
    /// Whether they agree by the figure's own test (`None`: not compared).
    pub agrees: Option<bool>,
}

/// Time-weighted mean of a step function given as (time, value) samples, over [from, to].
pub fn step_mean(samples: &[(f64, f64)], from: f64, to: f64) -> f64 {
    let pts: Vec<(f64, f64)> = samples.iter().copied().filter(|(_, v)| v.is_finite()).collect();
    if pts.is_empty() || to <= from {
        return f64::NAN;
    }
    let mut area = 0.0;
    for (i, &(t, v)) in pts.iter().enumerate() {
        let next = pts.get(i + 1).map_or(to, |x| x.0);
        let (a, b) = (t.max(from), next.min(to));
        if b > a {
            area += v * (b - a);
        }
    }
    // Before the first sample the level is the first sample's.
    if pts[0].0 > from {
        area += pts[0].1 * (pts[0].0.min(to) - from);
    }
    area / (to - from)
}

/// The share of judged attempts (outside the guard band, with a prediction) whose Session
/// Present matches the prediction, and how many were judged.
pub fn strict_agreement(attempts: &[Attempt]) -> (f64, usize) {
    let judged: Vec<&Attempt> = attempts.iter().filter(|a| a.predicted.is_some() && a.margin > GUARD_BAND).collect();
    let agree = judged.iter().filter(|a| a.predicted == Some(a.session_present)).count();
    (if judged.is_empty() { f64::NAN } else { agree as f64 / judged.len() as f64 }, judged.len())
}

/// Whether two proportions agree: the difference within 1.96 pooled standard errors.
fn rates_agree(p1: f64, n1: f64, p2: f64, n2: f64) -> bool {
    let pool = (p1 * n1 + p2 * n2) / (n1 + n2);
    let se = (pool * (1.0 - pool) * (1.0 / n1 + 1.0 / n2)).sqrt();
    (p1 - p2).abs() <= 1.96 * se.max(1e-12)
}

/// The p-quantile of `v` (nearest rank), NaN when empty.
pub fn quantile(v: &[u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1] as f64
}

/// The simulation's retained contexts over time as (real seconds, value).
pub fn simulated_retained(sim: &Report, scale: Scale) -> Vec<(f64, f64)> {
    let k = f64::from(scale.factor());
    sim.outcome
        .metrics
        .samples
        .iter()
        .map(|s| (s.time.as_micros() as f64 / 1e6 / k, s.retained_contexts as f64))
        .collect()
}

/// The mean number of (from, to) intervals covering a moment of [from, to].
pub fn intervals_mean(intervals: &[(f64, f64)], from: f64, to: f64) -> f64 {
    if to <= from {
        return f64::NAN;
    }
    intervals.iter().map(|&(a, b)| (b.min(to) - a.max(from)).max(0.0)).sum::<f64>() / (to - from)
}

/// How many sessions the driver counted without a connection at instant `t`.
fn seen_at(intervals: &[(f64, f64)], t: f64) -> usize {
    intervals.iter().filter(|&&(a, b)| a <= t && t < b).count()
}

/// The share of the broker's `$SYS` samples of retained sessions that match the driver's count
/// at the instant the broker computed them (within one session and 1%), and how many there were.
pub fn sys_agreement(gauge: &[(f64, f64)], seen: &[(f64, f64)]) -> (f64, usize) {
    let samples: Vec<_> = gauge.iter().filter(|(_, v)| v.is_finite()).collect();
    let matching = samples
        .iter()
        .filter(|&&&(t, v)| {
            let d = seen_at(seen, t - SYS_LEAD) as f64;
            (v - d).abs() <= 1.0 + 0.01 * d
        })
        .count();
    (if samples.is_empty() { f64::NAN } else { matching as f64 / samples.len() as f64 }, samples.len())
}

/// Every figure, live and simulated.
pub fn compare(sim: &Report, m: &Measured, scale: Scale) -> Vec<Row> {
    let n = m.attempts.len() as f64;
    let present = m.attempts.iter().filter(|a| a.session_present).count() as f64;
    let c = &sim.outcome.metrics;
    let whole = |f: fn(&Counters) -> u64| c.whole_run(f) as f64;
    let (attempts, successes) = c.recoveries_so_far();
    let sim_cont = whole(|x| x.continuations);
    let sim_att = attempts as f64 + sim_cont;
    let sim_present = successes as f64 + sim_cont;
    let (live_rate, sim_rate) = (present / n, sim_present / sim_att);
    let (strict, judged) = strict_agreement(&m.attempts);
    // Retained sessions from the first $SYS sample to the end of the live run.
    let from = m.retained.first().map_or(0.0, |x| x.0);
    let to = m.wall_seconds;
    let sim_retained = step_mean(&simulated_retained(sim, scale), from, to);
    let seen = intervals_mean(&m.retained_seen, from, to);
    let (sys_match, sys_samples) = sys_agreement(&m.retained, &m.retained_seen);
    let sim_closed = whole(|x| x.ended[EndReason::AutoLogout as usize]);
    let row = |metric, live, simulated, agrees| Row { metric, live, simulated, agrees };
    vec![
        row("recovery_attempts", n, sim_att, None),
        row("session_present_rate", live_rate, sim_rate, Some(rates_agree(live_rate, n, sim_rate, sim_att))),
        row("strict_agreement", strict, f64::NAN, Some(strict >= STRICT_AGREEMENT)),
        row("strict_judged_attempts", judged as f64, f64::NAN, None),
        // Checked: the driver's own accounting (each session's gap from its close to its
        // client's return or the broker's expiry rule, the rule the strict check confirms).
        row(
            "retained_sessions_mean",
            seen,
            sim_retained,
            Some((seen - sim_retained).abs() <= RETAINED_TOLERANCE * sim_retained.max(1.0)),
        ),
        // Checked: the broker's own gauge confirms the driver's count at each of its samples.
        // (Its samples fall just before keep-alive sweeps, so a mean of them is biased low.)
        // Too few samples to judge (no $SYS tree, or a short run at a long sys_interval).
        row("sys_gauge_agreement", sys_match, f64::NAN, (sys_samples >= 10).then_some(sys_match >= SYS_AGREEMENT)),
        row("sys_gauge_samples", sys_samples as f64, f64::NAN, None),
        row("auto_logouts", m.broker_closed as f64, sim_closed, None),
        // A session left live by a client back under a new Client Identifier: the broker
        // closes it at its keep-alive timeout, the simulation at the client's new login.
        row("relogin_drops", m.orphans_closed as f64, whole(|x| x.ended[EndReason::Relogin as usize]), None),
        row("logouts", m.logouts as f64, whole(|x| x.ended[EndReason::Logout as usize]), None),
        row("fresh_sessions", m.fresh as f64, whole(|x| x.logins_fresh), None),
        row("reconnect_latency_ms_p50", quantile(&m.connack_us, 0.5) / 1e3, f64::NAN, None),
        row("reconnect_latency_ms_p99", quantile(&m.connack_us, 0.99) / 1e3, f64::NAN, None),
        row("timing_error_ms_p50", quantile(&m.lateness_us, 0.5) / 1e3, f64::NAN, None),
        row("timing_error_ms_p99", quantile(&m.lateness_us, 0.99) / 1e3, f64::NAN, None),
        row("exchanges_per_second", m.packets as f64 / m.wall_seconds.max(1e-9), f64::NAN, None),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(present: bool, predicted: Option<bool>, margin: f64) -> Attempt {
        Attempt { client: 0, sent: 0.0, session_present: present, predicted, margin, latency: 0.001 }
    }

    #[test]
    fn the_strict_check_judges_only_attempts_it_can_call() {
        let a = [
            attempt(true, Some(true), 5.0),
            attempt(false, Some(false), 1.0),
            attempt(true, Some(false), 0.1), // inside the guard band: not judged
            attempt(false, None, 9.0),       // no prediction: not judged
            attempt(false, Some(true), 3.0), // judged, disagrees
        ];
        assert_eq!(strict_agreement(&a), (2.0 / 3.0, 3));
        assert!(strict_agreement(&[]).0.is_nan());
    }

    #[test]
    fn the_step_mean_weights_each_level_by_how_long_it_held() {
        let s = [(0.0, 10.0), (1.0, 30.0), (3.0, 0.0)];
        assert_eq!(step_mean(&s, 0.0, 4.0), (10.0 + 60.0) / 4.0);
        assert_eq!(step_mean(&s, 2.0, 4.0), 30.0 / 2.0);
        assert_eq!(step_mean(&[(2.0, 8.0)], 0.0, 4.0), 8.0, "the first level stands before it");
        assert!(step_mean(&[], 0.0, 1.0).is_nan());
        assert!(step_mean(&s, 3.0, 3.0).is_nan());
        assert_eq!(step_mean(&[(0.0, f64::NAN), (1.0, 4.0)], 1.0, 2.0), 4.0, "unreadable samples skipped");
    }

    #[test]
    fn the_gauge_is_compared_with_the_count_just_before_it_arrived() {
        // Two sessions closed 1 ms before the gauge arrived (the broker's keep-alive sweep after
        // it computed the gauge): the gauge of 1 matches the count before them.
        let seen = [(0.0, 10.0), (4.999, 10.0), (4.999, 10.0), (7.0, 8.0)];
        assert_eq!(sys_agreement(&[(5.0, 1.0)], &seen), (1.0, 1));
        assert_eq!(sys_agreement(&[(5.0, 3.0)], &seen), (0.0, 1), "3 is the count after the sweep");
        assert_eq!(sys_agreement(&[(7.5, 3.0), (7.5, 2.0)], &seen).0, 0.5, "4 counted: one off matches, two do not");
        assert_eq!(sys_agreement(&[(1.0, 0.0)], &seen).0, 1.0);
        assert_eq!(sys_agreement(&[(1.0, f64::NAN), (1.0, 0.0)], &seen).1, 1, "unreadable samples skipped");
        // Within 1% as well as one session: 200 counted, 202 published.
        let many: Vec<_> = (0..200).map(|_| (0.0, 1.0)).collect();
        assert_eq!(sys_agreement(&[(0.5, 203.0), (0.5, 204.0)], &many).0, 0.5);
    }

    #[test]
    fn proportions_agree_within_their_pooled_error() {
        assert!(rates_agree(0.42, 5000.0, 0.43, 5000.0));
        assert!(!rates_agree(0.42, 5000.0, 0.48, 5000.0));
        assert!(rates_agree(1.0, 10.0, 1.0, 10.0), "identical certainties agree");
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!((quantile(&v, 0.5), quantile(&v, 0.99), quantile(&v, 1.0)), (50.0, 99.0, 100.0));
        assert!(quantile(&[], 0.5).is_nan());
    }
}
